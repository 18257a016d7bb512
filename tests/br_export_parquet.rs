//! `br backup full|db|table ... --export-parquet` run by the real `br` binary of this crate against
//! a **stand-in BR** (`stand-in-br`): no TiDB cluster or BR binary exists here, so each test writes
//! a shell script that stands in for BR. It records its argv (one argument per line), prints a
//! line on stdout, and "takes the backup" by copying a backup the test kit wrote
//! (`br_parquet::testkit`, the bundled sample's tables) to its `-s` path. The export that follows
//! is the real one; its Parquet files are read back with the `parquet` crate.
//! See docs/architecture.md (cli) and README.md ("Commands").
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use br_parquet::testkit::sample::sample_tables;
use br_parquet::testkit::BackupWriter;
use common::{assert_success, walk};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// A stand-in for BR and the places it works with.
struct StandIn {
    dir: tempfile::TempDir,
    /// The `stand-in-br` script.
    script: PathBuf,
    /// Where it records its argv.
    record: PathBuf,
    /// The backup storage given to `-s` (a directory that does not exist yet).
    storage: PathBuf,
    /// The export's output directory.
    output: PathBuf,
}

impl StandIn {
    /// A stand-in BR that exits with `exit_status`; on 0 it copies the test kit's backup to `-s`.
    fn new(exit_status: u8) -> StandIn {
        Self::with_failure(exit_status, None)
    }

    /// A stand-in BR that kills itself with `signal` after recording its argv.
    fn killed_by(signal: &str) -> StandIn {
        Self::with_failure(1, Some(signal))
    }

    fn with_failure(exit_status: u8, signal: Option<&str>) -> StandIn {
        let dir = tempfile::tempdir().unwrap();
        let template = dir.path().join("template");
        BackupWriter::default()
            .write(&template, &sample_tables())
            .unwrap();
        let record = dir.path().join("argv.txt");
        let script = dir.path().join("stand-in-br");
        let body = if let Some(signal) = signal {
            format!("kill -{signal} $$\n")
        } else if exit_status == 0 {
            format!(
                "storage=''\n\
                 while [ $# -gt 0 ]; do\n\
                   case \"$1\" in\n\
                     -s|--storage) storage=\"$2\"; shift 2 ;;\n\
                     *) shift ;;\n\
                   esac\n\
                 done\n\
                 storage=\"${{storage#local://}}\"\n\
                 mkdir -p \"$storage\" && cp -R '{}'/. \"$storage\"/\n\
                 echo 'stand-in-br: backup written'\n",
                template.display()
            )
        } else {
            format!("echo 'stand-in-br: failing on purpose' >&2\nexit {exit_status}\n")
        };
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\n# stand-in-br: stands in for TiDB's BR in tests.\n\
                 set -e\nPATH=/usr/bin:/bin\n\
                 printf '%s\\n' \"$@\" > '{}'\n{body}",
                record.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        StandIn {
            storage: dir.path().join("backup"),
            output: dir.path().join("out"),
            script,
            record,
            dir,
        }
    }

    fn storage_url(&self) -> String {
        format!("local://{}", self.storage.display())
    }

    /// The argv the stand-in recorded.
    fn recorded(&self) -> Vec<String> {
        std::fs::read_to_string(&self.record)
            .unwrap_or_else(|e| panic!("stand-in-br did not run: {e}"))
            .lines()
            .map(String::from)
            .collect()
    }
}

/// Runs this crate's `br` with `args`, a given `PATH` and no `$BR_BINARY` unless `br_binary_env`.
fn br(args: &[&str], path: &str, br_binary_env: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_br"));
    command.args(args).env("PATH", path).env_remove("BR_BINARY");
    if let Some(env) = br_binary_env {
        command.env("BR_BINARY", env);
    }
    command.output().expect("run br")
}

/// Rows per `db.table` in the exported Parquet files (read back with the `parquet` crate), from
/// the files the report lists.
fn rows_read_back(output: &Path, report: &Path) -> BTreeMap<String, u64> {
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    let mut rows = BTreeMap::new();
    for file in report["files"].as_array().unwrap() {
        let path = output.join(file["path"].as_str().unwrap());
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let count: usize = reader.map(|batch| batch.unwrap().num_rows()).sum();
        assert_eq!(count as u64, file["rows"].as_u64().unwrap(), "{path:?}");
        *rows
            .entry(format!("{}.{}", file["db"], file["table"]).replace('"', ""))
            .or_default() += count as u64;
    }
    rows
}

#[test]
fn argv_reaches_br_unchanged_then_the_backup_is_exported() {
    let stand_in = StandIn::new(0);
    let storage = stand_in.storage_url();
    let output = stand_in.output.to_str().unwrap();
    let report = stand_in.dir.path().join("report.json");
    let run = br(
        &[
            "backup",
            "full",
            "--pd",
            "127.0.0.1:2379",
            "-s",
            &storage,
            "-f",
            "shop.*",
            "--concurrency",
            "8",
            "--export-parquet",
            "--parquet-output",
            output,
            "--parquet-report",
            report.to_str().unwrap(),
            "--br-binary",
            stand_in.script.to_str().unwrap(),
        ],
        "",
        None,
    );
    assert_success(&run);
    assert_eq!(
        stand_in.recorded(),
        [
            "backup",
            "full",
            "--pd",
            "127.0.0.1:2379",
            "-s",
            &storage,
            "-f",
            "shop.*",
            "--concurrency",
            "8"
        ]
    );
    // BR's output streams through, before the export's summary.
    let stdout = String::from_utf8_lossy(&run.stdout);
    let streamed = stdout.find("stand-in-br: backup written").unwrap();
    assert!(stdout[streamed..].contains("exported"), "{stdout}");
    // The summary hands off to TiCDC at the backup's end_version (docs/live-lakehouse.md).
    let end_version = BackupWriter::default().end_version;
    assert!(
        stdout.contains(&format!(
            "cdc cli changefeed create --server=<your TiCDC> --sink-uri=<your sink> \
             --start-ts={end_version}\n"
        )),
        "{stdout}"
    );

    let rows = rows_read_back(&stand_in.output, &report);
    let expected: BTreeMap<String, u64> = sample_tables()
        .iter()
        .map(|t| (format!("{}.{}", t.db, t.name), t.rows.len() as u64))
        .collect();
    assert_eq!(rows.get("shop.customers"), Some(&40));
    for table in ["shop.customers", "shop.orders"] {
        assert_eq!(rows.get(table), expected.get(table), "{table}");
        assert!(rows[table] > 0, "{table}");
    }
    // Every table exported holds what the backup holds (which tables `-f` selects is the
    // export's filter, tested with it).
    for (table, count) in &rows {
        assert_eq!(Some(count), expected.get(table), "{table}");
    }
}

#[test]
fn a_failing_br_is_our_failure_and_nothing_is_exported() {
    let stand_in = StandIn::new(3);
    let storage = stand_in.storage_url();
    let run = br(
        &[
            "backup",
            "db",
            "--db",
            "shop",
            "-s",
            &storage,
            "--export-parquet",
            "--parquet-output",
            stand_in.output.to_str().unwrap(),
            "--br-binary",
            stand_in.script.to_str().unwrap(),
        ],
        "",
        None,
    );
    assert_eq!(run.status.code(), Some(3));
    assert_eq!(
        stand_in.recorded(),
        ["backup", "db", "--db", "shop", "-s", &storage]
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("stand-in-br: failing on purpose"),
        "{stderr}"
    );
    assert!(
        stderr.contains("exited with status 3; nothing was exported"),
        "{stderr}"
    );
    assert!(!stand_in.output.exists(), "the output was created");
    assert!(walk(&stand_in.output).is_empty());
}

#[test]
fn a_br_killed_by_a_signal_is_named_and_exits_1() {
    let stand_in = StandIn::killed_by("KILL");
    let run = br(
        &[
            "backup",
            "full",
            "-s",
            &stand_in.storage_url(),
            "--export-parquet",
            "--parquet-output",
            stand_in.output.to_str().unwrap(),
            "--br-binary",
            stand_in.script.to_str().unwrap(),
        ],
        "",
        None,
    );
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("was killed by SIGKILL (signal 9); nothing was exported"),
        "{stderr}"
    );
    assert!(!stand_in.output.exists());
}

#[test]
fn without_br_the_error_says_how_to_get_it() {
    let stand_in = StandIn::new(0);
    let run = br(
        &[
            "backup",
            "full",
            "-s",
            &stand_in.storage_url(),
            "--export-parquet",
            "--parquet-output",
            stand_in.output.to_str().unwrap(),
        ],
        "",
        None,
    );
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    for needle in [
        "no BR was found",
        "tiup install br",
        "release tarball",
        "--br-binary",
        "--parquet-only",
    ] {
        assert!(stderr.contains(needle), "{needle:?} missing: {stderr}");
    }
    assert!(!stand_in.record.exists(), "nothing ran");
    assert!(!stand_in.output.exists());
}

#[test]
fn br_binary_from_the_environment() {
    let stand_in = StandIn::new(0);
    let storage = stand_in.storage_url();
    let run = br(
        &[
            "backup",
            "table",
            "--db",
            "shop",
            "--table",
            "orders",
            "--storage",
            &storage,
            "--export-parquet",
            "--parquet-output",
            stand_in.output.to_str().unwrap(),
            "--parquet-quiet",
        ],
        "",
        Some(&stand_in.script),
    );
    assert_success(&run);
    assert_eq!(
        stand_in.recorded(),
        [
            "backup",
            "table",
            "--db",
            "shop",
            "--table",
            "orders",
            "--storage",
            &storage
        ]
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "stand-in-br: backup written\n",
        "only BR's output (--parquet-quiet)"
    );
    let parquet = walk(&stand_in.output)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .count();
    assert!(parquet >= 3, "{parquet} Parquet files");
}

#[test]
fn br_on_path_that_is_not_this_program() {
    let stand_in = StandIn::new(0);
    // First on PATH: this program itself, installed as `br`; second: the stand-in.
    let ours = stand_in.dir.path().join("ours");
    let theirs = stand_in.dir.path().join("theirs");
    std::fs::create_dir(&ours).unwrap();
    std::fs::create_dir(&theirs).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_br"), ours.join("br")).unwrap();
    std::os::unix::fs::symlink(&stand_in.script, theirs.join("br")).unwrap();
    let path = format!("{}:{}", ours.display(), theirs.display());
    let storage = stand_in.storage_url();
    let run = br(
        &[
            "backup",
            "full",
            "-s",
            &storage,
            "--export-parquet",
            "--parquet-output",
            stand_in.output.to_str().unwrap(),
        ],
        &path,
        None,
    );
    assert_success(&run);
    assert_eq!(stand_in.recorded(), ["backup", "full", "-s", &storage]);
}

#[test]
fn a_bad_export_flag_stops_before_br_runs() {
    let stand_in = StandIn::new(0);
    let run = br(
        &[
            "backup",
            "full",
            "-s",
            &stand_in.storage_url(),
            "--export-parquet",
            "--parquet-compression",
            "lzo",
            "--br-binary",
            stand_in.script.to_str().unwrap(),
        ],
        "",
        None,
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("lzo"));
    assert!(!stand_in.record.exists(), "BR ran despite the bad flag");

    let run = br(
        &[
            "backup",
            "full",
            "--export-parquet",
            "--br-binary",
            stand_in.script.to_str().unwrap(),
        ],
        "",
        None,
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("needs -s/--storage"));
    assert!(!stand_in.record.exists());
}
