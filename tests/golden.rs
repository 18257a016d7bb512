//! Nothing changes for users: the bundled sample and a few deterministic test-kit backups are
//! exported by the real binaries, and the relative path and SHA-256 of every published Parquet
//! file and `_SUCCESS` marker must equal the checked-in list
//! `tests/data/expected-hashes/<case>.txt` (`sha256sum` format, so `sha256sum -c` reads it too).
//! The lists were written by the code before the export was restructured (issue 12).
//!
//! A deliberate change of the output (a new footer key, another encoding) is recorded by running
//! the test with `BR_PARQUET_BLESS=1`, which rewrites the lists instead of comparing:
//!
//! ```text
//! BR_PARQUET_BLESS=1 cargo test --test golden
//! ```
//!
//! The values of every case are also read back in Rust (`common::readback`) and compared with
//! what the backup holds, so a blessed list never records wrong values.
//!
//! Outside the hashes: the report and the Iceberg metadata (they hold times and UUIDs), and
//! anything under the staging directory.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use br_parquet::sst::{CompressionType, WriterOptions};
use br_parquet::testkit::sample::sample_tables;
use br_parquet::testkit::{BackupWriter, MetaLayout, TestTable};
use common::{assert_success, readback, tables::all_types};
use sha2::Digest;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `<sha256>  <path>` of every published `.parquet` file and `_SUCCESS` marker under `root`,
/// sorted by path. Directories whose names start with `_` or `.` (staging) are left out.
fn published_hashes(root: &Path) -> String {
    let mut lines = Vec::new();
    for path in common::walk(root) {
        let relative = path.strip_prefix(root).unwrap();
        let name = relative.file_name().unwrap().to_string_lossy();
        if !(name.ends_with(".parquet") || name == "_SUCCESS") {
            continue;
        }
        let in_hidden_dir = relative
            .parent()
            .unwrap()
            .iter()
            .any(|s| s.to_string_lossy().starts_with(['_', '.']));
        if in_hidden_dir {
            continue;
        }
        let digest = hex::encode(sha2::Sha256::digest(std::fs::read(&path).unwrap()));
        let relative = relative
            .iter()
            .map(|s| s.to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        lines.push((relative, digest));
    }
    lines.sort();
    lines
        .into_iter()
        .map(|(path, digest)| format!("{digest}  {path}\n"))
        .collect()
}

/// Compares the hashes of the output under `root` with `tests/data/expected-hashes/<case>.txt`,
/// or rewrites that file under `BR_PARQUET_BLESS=1`.
fn compare(case: &str, root: &Path) {
    let actual = published_hashes(root);
    assert!(!actual.is_empty(), "{case}: nothing published");
    let expected_path = repo().join(format!("tests/data/expected-hashes/{case}.txt"));
    if std::env::var_os("BR_PARQUET_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(expected_path.parent().unwrap()).unwrap();
        std::fs::write(&expected_path, &actual).unwrap();
        eprintln!("blessed {}", expected_path.display());
        return;
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with BR_PARQUET_BLESS=1 to record it",
            expected_path.display()
        )
    });
    if expected != actual {
        let expected: Vec<&str> = expected.lines().collect();
        let actual: Vec<&str> = actual.lines().collect();
        let missing: Vec<&&str> = expected.iter().filter(|l| !actual.contains(l)).collect();
        let extra: Vec<&&str> = actual.iter().filter(|l| !expected.contains(l)).collect();
        panic!(
            "{case}: the published files differ from {} (the previous code's output):\n\
             expected, not written:\n{missing:#?}\nwritten, not expected:\n{extra:#?}\n\
             If the change is intended, rerun with BR_PARQUET_BLESS=1.",
            expected_path.display()
        );
    }
}

/// `tikv-ctl br parquet-export` of `input` into a new directory with `flags`; checks every value
/// in Rust and returns the output directory.
fn export(input: &Path, flags: &[&str], tables: &[TestTable]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let run = common::export(input, out.path(), &[&["--quiet"], flags].concat());
    assert_success(&run);
    check_values(out.path(), tables, "parquet");
    out
}

fn check_values(root: &Path, tables: &[TestTable], prefix: &str) {
    let expected: Vec<_> = tables.iter().map(|t| t.expected_json(prefix)).collect();
    assert!(readback::check_values(root, &expected) > 0);
}

fn write(tables: &[TestTable], writer: BackupWriter) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    writer.write(dir.path(), tables).unwrap();
    dir
}

fn sample() -> PathBuf {
    repo().join("examples/sample-backup")
}

#[test]
fn sample_backup() {
    let out = export(&sample(), &[], &sample_tables());
    compare("sample", out.path());
}

#[test]
fn sample_backup_with_a_target_file_size() {
    // Files split into parts as row groups of 4 rows fill up 1 KiB; small ranges combined.
    let out = export(
        &sample(),
        &["--target-file-size", "1KiB", "--row-group-size", "4"],
        &sample_tables(),
    );
    compare("sample-target-file-size", out.path());
    // All ranges of a table combined into one file.
    let out = export(&sample(), &["--target-file-size", "1GiB"], &sample_tables());
    compare("sample-combined", out.path());
}

#[test]
fn every_type_v1_meta_lz4_ssts_snappy_parquet() {
    let tables = vec![all_types()];
    let backup = write(
        &tables,
        BackupWriter {
            layout: MetaLayout::V1,
            rows_per_range: 5,
            sst: WriterOptions {
                compression: CompressionType::Lz4,
                block_size: 4096,
                ..Default::default()
            },
            ..Default::default()
        },
    );
    let out = export(backup.path(), &["--compression", "snappy"], &tables);
    compare("all-types-snappy", out.path());
    let out = export(backup.path(), &[], &tables);
    compare("all-types", out.path());
}

#[test]
fn incremental_backup_with_deletes() {
    let mut tables = sample_tables();
    for table in &mut tables {
        for (i, row) in table.rows.iter_mut().enumerate() {
            row.deleted = i % 3 == 1;
        }
    }
    let writer = BackupWriter {
        rows_per_range: 16,
        start_version: 459_177_000_000_000_000,
        ..Default::default()
    };
    let backup = write(&tables, writer.clone());
    let out = tempfile::tempdir().unwrap();
    assert_success(&common::export(backup.path(), out.path(), &["--quiet"]));
    let expected: Vec<_> = tables
        .iter()
        .map(|t| t.expected_incremental_json("parquet", &writer))
        .collect();
    assert!(readback::check_values(out.path(), &expected) > 0);
    compare("incremental", out.path());
}

#[test]
fn br_backup_parquet_only() {
    let backup = tempfile::tempdir().unwrap();
    for path in common::walk(&sample()) {
        let target = backup.path().join(path.strip_prefix(sample()).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&path, target).unwrap();
    }
    let run = Command::new(env!("CARGO_BIN_EXE_br"))
        .args([
            "backup",
            "full",
            "-s",
            &format!("local://{}", backup.path().display()),
            "--parquet-only",
            "--parquet-output-prefix",
            "lake",
        ])
        .output()
        .unwrap();
    assert_success(&run);
    check_values(backup.path(), &sample_tables(), "lake");
    compare("br-sample", &backup.path().join("lake"));
}

/// The Rust reader is not vacuous: a changed value, a missing row or a wrong column type in the
/// expected tables makes it fail.
#[test]
fn the_rust_readback_catches_wrong_values() {
    let out = export(&sample(), &[], &sample_tables());
    let expected: Vec<_> = sample_tables()
        .iter()
        .map(|t| t.expected_json("parquet"))
        .collect();
    let fails = |edit: &dyn Fn(&mut Vec<serde_json::Value>)| {
        let mut tables = expected.clone();
        edit(&mut tables);
        let root = out.path().to_path_buf();
        std::panic::catch_unwind(move || readback::check_values(&root, &tables)).is_err()
    };
    let columns = expected[1]["columns"].as_array().unwrap().len();
    for column in 0..columns {
        assert!(
            fails(&|t| {
                let cell = &mut t[1]["rows"][3][column];
                *cell = if cell.is_string() {
                    serde_json::json!("other")
                } else {
                    serde_json::json!("7")
                };
            }),
            "a wrong value in column {column} of {} passed",
            expected[1]["dir"]
        );
    }
    assert!(fails(&|t| {
        t[0]["rows"].as_array_mut().unwrap().pop();
    }));
    assert!(fails(&|t| {
        t[0]["arrow_types"]["_tidb_handle"] = serde_json::json!("int32");
    }));
    assert!(!fails(&|_| {}));
}
