//! Lose nothing, trust nothing: corrupt, truncated, mis-described and encrypted backups, and runs
//! killed part-way. Every corruption must stop the run with a message naming the object and the
//! expected and actual values, and publish nothing; encrypted backups export exactly; a killed
//! run, re-run, gives the same files as an uninterrupted one. The uninterrupted exports every
//! other output is compared with have their values read back in Rust (`common::readback`).

mod common;
#[path = "../fuzz/src/lib.rs"]
mod fuzz_targets;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use br_parquet::crypter::CipherMethod;
use br_parquet::export::{BatchReader, ExportOptions};
use br_parquet::proto::backup::BackupMeta;
use br_parquet::storage::url::parse_url;
use br_parquet::testkit::sample::sample_tables;
use br_parquet::testkit::{BackupWriter, MetaLayout};
use prost::Message;
use sha2::Digest;

fn tikv_ctl(input: &Path, output: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tikv-ctl"))
        .args(["br", "parquet-export", "--progress", "none", "--input"])
        .arg(input)
        .arg("--output")
        .arg(output)
        .args(extra)
        .envs(env.iter().copied())
        .output()
        .expect("run tikv-ctl")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn backup(writer: BackupWriter) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    writer.write(dir.path(), &sample_tables()).unwrap();
    dir
}

/// Reads the export under `root` back in Rust and compares every value with the sample tables
/// (what [`backup`] writes).
fn check_values(root: &Path) {
    let expected: Vec<_> = sample_tables()
        .iter()
        .map(|t| t.expected_json("parquet"))
        .collect();
    assert!(common::readback::check_values(root, &expected) > 0);
}

fn v1() -> BackupWriter {
    BackupWriter {
        layout: MetaLayout::V1,
        rows_per_range: 10,
        ..Default::default()
    }
}

/// Every published file under `root` (relative path → SHA-256); staging excluded.
fn published(root: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if relative.contains("_br_parquet_staging") {
                continue;
            }
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(relative, hex::encode(sha2::Sha256::digest(&bytes)));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn parquet_files(root: &Path) -> Vec<String> {
    published(root)
        .into_keys()
        .filter(|p| p.ends_with(".parquet") || p.ends_with("_SUCCESS"))
        .collect()
}

fn edit_meta(dir: &Path, edit: impl FnOnce(&mut BackupMeta)) {
    let path = dir.join("backupmeta");
    let mut meta = BackupMeta::decode(std::fs::read(&path).unwrap().as_slice()).unwrap();
    edit(&mut meta);
    std::fs::write(path, meta.encode_to_vec()).unwrap();
}

fn assert_fails_and_publishes_nothing(out: &Output, output_dir: &Path, expected: &[&str]) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    let text = stderr(out);
    for part in expected {
        assert!(text.contains(part), "missing {part:?} in:\n{text}");
    }
    assert!(
        parquet_files(output_dir).is_empty(),
        "published: {:?}",
        parquet_files(output_dir)
    );
}

#[test]
fn wrong_total_kvs_is_caught_with_both_values() {
    let dir = backup(v1());
    let mut victim = String::new();
    edit_meta(dir.path(), |meta| {
        let file = meta.files.iter_mut().find(|f| f.cf == "write").unwrap();
        file.total_kvs += 1;
        victim = file.name.clone();
    });
    let out = tempfile::tempdir().unwrap();
    let run = tikv_ctl(dir.path(), out.path(), &[], &[]);
    assert_fails_and_publishes_nothing(
        &run,
        out.path(),
        &[
            &victim,
            "checksum mismatch: backupmeta says crc64xor 0x",
            "the SST holds crc64xor 0x",
        ],
    );
    // The report of an opted-out run says so.
    let report = out.path().join("report.json");
    let run = tikv_ctl(
        dir.path(),
        out.path(),
        &["--no-verify", "--report", report.to_str().unwrap()],
        &[],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    assert_eq!(report["verification"], "off (--no-verify)");
}

#[test]
fn wrong_table_checksum_is_caught() {
    let dir = backup(v1());
    edit_meta(dir.path(), |meta| meta.schemas[0].crc64xor ^= 1);
    let out = tempfile::tempdir().unwrap();
    let run = tikv_ctl(dir.path(), out.path(), &[], &[]);
    assert_fails_and_publishes_nothing(
        &run,
        out.path(),
        &[
            "table shop.customers: checksum mismatch: backupmeta says",
            "the SSTs hold",
        ],
    );
}

#[test]
fn wrong_sha256_truncated_and_missing_ssts() {
    let dir = backup(v1());
    let mut name = String::new();
    edit_meta(dir.path(), |meta| {
        let file = meta.files.iter_mut().find(|f| f.cf == "write").unwrap();
        file.sha256[0] ^= 0xff;
        name = file.name.clone();
    });
    let out = tempfile::tempdir().unwrap();
    let run = tikv_ctl(dir.path(), out.path(), &[], &[]);
    assert_fails_and_publishes_nothing(
        &run,
        out.path(),
        &[&format!("SHA-256 mismatch for {name}")],
    );

    // Truncated: even with verification off, the SST reader refuses it.
    let dir = backup(v1());
    let meta = BackupMeta::decode(
        std::fs::read(dir.path().join("backupmeta"))
            .unwrap()
            .as_slice(),
    )
    .unwrap();
    let name = meta
        .files
        .iter()
        .find(|f| f.cf == "write")
        .unwrap()
        .name
        .clone();
    let path = dir.path().join(&name);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let run = tikv_ctl(dir.path(), out.path(), &["--no-verify"], &[]);
    assert_fails_and_publishes_nothing(
        &run,
        out.path(),
        &[&name, "not a RocksDB block-based table", "--crypter.method"],
    );

    std::fs::remove_file(&path).unwrap();
    let run = tikv_ctl(dir.path(), out.path(), &[], &[]);
    assert_fails_and_publishes_nothing(
        &run,
        out.path(),
        &[&format!("{name} (listed in backupmeta, missing from")],
    );
}

#[test]
fn encrypted_backups_export_exactly_like_their_plaintext_twin() {
    let plain = backup(BackupWriter::default());
    let plain_out = tempfile::tempdir().unwrap();
    let run = tikv_ctl(plain.path(), plain_out.path(), &[], &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    check_values(plain_out.path());
    let expected = published(plain_out.path());
    assert_eq!(
        expected.len(),
        6,
        "3 tables, each one file and a _SUCCESS: {expected:?}"
    );

    for (method, name, key_len) in [
        (CipherMethod::Aes128Ctr, "aes128-ctr", 16),
        (CipherMethod::Aes192Ctr, "aes192-ctr", 24),
        (CipherMethod::Aes256Ctr, "aes256-ctr", 32),
    ] {
        let key: Vec<u8> = (0..key_len).map(|i| (i * 7 + 3) as u8).collect();
        let dir = backup(BackupWriter {
            encryption: Some((method, key.clone())),
            ..Default::default()
        });
        let out = tempfile::tempdir().unwrap();
        let hex_key = hex::encode(&key);
        let run = tikv_ctl(
            dir.path(),
            out.path(),
            &["--crypter.method", name, "--crypter.key", &hex_key],
            &[],
        );
        assert!(run.status.success(), "{name}: {}", stderr(&run));
        assert_eq!(
            published(out.path()),
            expected,
            "{name}: files differ from the plaintext export"
        );

        // The same through a key file.
        let key_file = out.path().join("key.hex");
        std::fs::write(&key_file, format!("{hex_key}\n")).unwrap();
        let out2 = tempfile::tempdir().unwrap();
        let run = tikv_ctl(
            dir.path(),
            out2.path(),
            &[
                "--crypter.method",
                name,
                "--crypter.key-file",
                key_file.to_str().unwrap(),
            ],
            &[],
        );
        assert!(run.status.success(), "{name} key file: {}", stderr(&run));
        assert_eq!(published(out2.path()), expected);

        // A wrong key, and no key, are clear errors that publish nothing.
        let mut wrong = key.clone();
        wrong[0] ^= 1;
        let out3 = tempfile::tempdir().unwrap();
        let run = tikv_ctl(
            dir.path(),
            out3.path(),
            &[
                "--crypter.method",
                name,
                "--crypter.key",
                &hex::encode(&wrong),
            ],
            &[],
        );
        assert_fails_and_publishes_nothing(&run, out3.path(), &["--crypter.key is wrong"]);
        assert!(
            !stderr(&run).contains(&hex_key) && !stderr(&run).contains(&hex::encode(&wrong)),
            "key leaked"
        );
        let run = tikv_ctl(dir.path(), out3.path(), &[], &[]);
        assert_fails_and_publishes_nothing(&run, out3.path(), &["--crypter.method"]);
    }
}

#[test]
fn a_killed_run_rerun_gives_the_same_files() {
    let dir = backup(v1());
    let clean = tempfile::tempdir().unwrap();
    let run = tikv_ctl(dir.path(), clean.path(), &["--concurrency", "1"], &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    check_values(clean.path());
    let expected = published(clean.path());

    for failpoint in ["range:2", "range:5", "publish:1", "publish:4"] {
        let out = tempfile::tempdir().unwrap();
        let killed = tikv_ctl(
            dir.path(),
            out.path(),
            &["--concurrency", "1"],
            &[("BR_PARQUET_FAILPOINT", failpoint)],
        );
        assert!(
            !killed.status.success(),
            "{failpoint}: the process was not stopped"
        );
        // Nothing claims data it does not have: a table has a _SUCCESS only with all its files.
        let partial = published(out.path());
        for marker in partial.keys().filter(|p| p.ends_with("_SUCCESS")) {
            let table_dir = marker.trim_end_matches("_SUCCESS");
            for (path, sha) in expected.iter().filter(|(p, _)| p.starts_with(table_dir)) {
                assert_eq!(
                    partial.get(path),
                    Some(sha),
                    "{failpoint}: {marker} without {path}"
                );
            }
        }
        let rerun = tikv_ctl(dir.path(), out.path(), &[], &[]);
        assert!(rerun.status.success(), "{failpoint}: {}", stderr(&rerun));
        assert_eq!(
            published(out.path()),
            expected,
            "{failpoint}: re-run differs"
        );
    }
}

/// Runs `tikv-ctl` with `--concurrency 1` and a report (kept outside the output, so that it does
/// not show in the output's listing); returns the process output and the report.
fn run_with_report(
    input: &Path,
    output: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Output, serde_json::Value) {
    let reports = tempfile::tempdir().unwrap();
    let report = reports.path().join("report.json");
    let mut args = vec!["--concurrency", "1", "--report", report.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = tikv_ctl(input, output, &args, env);
    assert!(run.status.success(), "{extra:?}: {}", stderr(&run));
    let report = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    (run, report)
}

/// Kills a `--concurrency 1` run after `jobs` jobs, leaving their files and markers staged.
fn kill_after_jobs(input: &Path, output: &Path, jobs: u32, extra: &[&str]) {
    let failpoint = format!("range:{jobs}");
    let mut args = vec!["--concurrency", "1"];
    args.extend_from_slice(extra);
    let killed = tikv_ctl(
        input,
        output,
        &args,
        &[("BR_PARQUET_FAILPOINT", &failpoint)],
    );
    assert!(!killed.status.success(), "{failpoint}: not stopped");
    assert!(parquet_files(output).is_empty(), "a killed run published");
}

/// Every file under `root`, directories included (relative paths), staging included.
fn listing(root: &Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir(root)
        .into_iter()
        .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walkdir(&path));
        }
        out.push(path);
    }
    out
}

/// The staged Parquet files under `root`, sorted.
fn staged_files(root: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = walkdir(&root.join("parquet/_br_parquet_staging"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    files.sort();
    files
}

fn job_markers(root: &Path) -> usize {
    std::fs::read_dir(root.join("parquet/_br_parquet_staging/.br-parquet-jobs"))
        .map_or(0, |d| d.count())
}

/// What a resumed run's report must equal in an uninterrupted run's: all of it but the SSTs
/// read, which count only what a run read itself.
fn outcome_of(report: &serde_json::Value) -> serde_json::Value {
    let mut totals = report["totals"].clone();
    totals.as_object_mut().unwrap().remove("ssts_read");
    serde_json::json!({
        "files": report["files"],
        "tables": report["tables"],
        "totals": totals,
        "skipped": report["skipped"],
    })
}

/// The ranges of the backup at `input` in plan order, which is the order a `--concurrency 1` run
/// without a target size finishes them in, one job each: the write-CF SST of each, and how many
/// SSTs exporting it reads (with the default-CF twin, if any).
fn plan_ssts(input: &Path) -> Vec<(String, u64)> {
    let backend = parse_url(input.to_str().unwrap()).unwrap();
    let reader = BatchReader::open(&ExportOptions::new(backend.clone(), backend)).unwrap();
    reader
        .plan()
        .ranges
        .iter()
        .map(|range| {
            (
                range.write.name.clone(),
                1 + u64::from(range.default.is_some()),
            )
        })
        .collect()
}

#[test]
fn a_killed_run_is_resumed_from_its_staged_jobs() {
    let dir = backup(v1());
    let clean = tempfile::tempdir().unwrap();
    let (_, clean_report) = run_with_report(dir.path(), clean.path(), &[], &[]);
    check_values(clean.path());
    let expected = published(clean.path());
    let ranges = clean_report["resume"]["exported_ranges"].as_u64().unwrap();
    assert!(ranges > 4, "{ranges} ranges");
    assert_eq!(
        clean_report["resume"],
        serde_json::json!({
            "enabled": true, "resumed_jobs": 0, "resumed_ranges": 0,
            "exported_jobs": ranges, "exported_ranges": ranges,
        })
    );

    let out = tempfile::tempdir().unwrap();
    kill_after_jobs(dir.path(), out.path(), 2, &[]);
    assert_eq!(job_markers(out.path()), 2, "one marker per finished job");
    let (rerun, report) = run_with_report(dir.path(), out.path(), &[], &[]);
    assert_eq!(
        report["resume"],
        serde_json::json!({
            "enabled": true, "resumed_jobs": 2, "resumed_ranges": 2,
            "exported_jobs": ranges - 2, "exported_ranges": ranges - 2,
        })
    );
    assert_eq!(published(out.path()), expected, "resumed files differ");
    assert_eq!(outcome_of(&report), outcome_of(&clean_report));
    // Only the SSTs of the jobs it exported were read; the killed run read the first two.
    let ssts = plan_ssts(dir.path());
    let all: u64 = ssts.iter().map(|(_, n)| n).sum();
    let read: u64 = ssts[2..].iter().map(|(_, n)| n).sum();
    assert!(read < all);
    assert_eq!(clean_report["totals"]["ssts_read"], all);
    assert_eq!(report["totals"]["ssts_read"], read);
    for table in report["tables"].as_array().unwrap() {
        let reconciliation = table["reconciliation"].as_str().unwrap();
        assert!(reconciliation.starts_with("ok: "), "{reconciliation}");
    }
    let summary = String::from_utf8_lossy(&rerun.stdout);
    assert!(
        summary.contains(&format!(" ({read} SSTs read)\n")),
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "resumed 2 of {ranges} ranges from the files a previous run staged; exported {}",
            ranges - 2
        )),
        "{summary}"
    );
    // Markers go with the rest of staging: the output lists exactly what a clean run leaves.
    assert_eq!(listing(out.path()), listing(clean.path()));
}

#[test]
fn resumed_ranges_count_as_done_in_the_progress() {
    let dir = backup(v1());
    let out = tempfile::tempdir().unwrap();
    kill_after_jobs(dir.path(), out.path(), 3, &[]);
    let run = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"))
        .args([
            "br",
            "parquet-export",
            "--progress",
            "json",
            "--concurrency",
            "1",
        ])
        .arg("--input")
        .arg(dir.path())
        .arg("--output")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let last: serde_json::Value = stderr(&run)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .next_back()
        .unwrap();
    assert_eq!(last["state"], "done");
    assert_eq!(last["ranges_resumed"], 3);
    assert_eq!(last["ranges_done"], last["ranges_total"]);
    let (read, resumed) = (&last["sst_bytes_read"], &last["sst_bytes_resumed"]);
    assert!(resumed.as_u64().unwrap() > 0, "{last}");
    assert_eq!(
        read.as_u64().unwrap() + resumed.as_u64().unwrap(),
        last["sst_bytes_total"].as_u64().unwrap()
    );
}

#[test]
fn another_codec_or_no_resume_exports_everything_again() {
    let dir = backup(v1());
    let clean = tempfile::tempdir().unwrap();
    let (_, clean_report) = run_with_report(dir.path(), clean.path(), &[], &[]);
    check_values(clean.path());
    let ranges = clean_report["resume"]["exported_ranges"].clone();
    let snappy_clean = tempfile::tempdir().unwrap();
    run_with_report(
        dir.path(),
        snappy_clean.path(),
        &["--compression", "snappy"],
        &[],
    );
    check_values(snappy_clean.path());

    // Killed with zstd, re-run with snappy: no zstd file is taken for a snappy one.
    let out = tempfile::tempdir().unwrap();
    kill_after_jobs(dir.path(), out.path(), 2, &[]);
    let (_, report) = run_with_report(dir.path(), out.path(), &["--compression", "snappy"], &[]);
    assert_eq!(report["resume"]["resumed_jobs"], 0);
    assert_eq!(report["resume"]["exported_ranges"], ranges);
    assert_eq!(published(out.path()), published(snappy_clean.path()));
    assert_ne!(published(out.path()), published(clean.path()));

    // Killed, then re-run with --no-resume: everything is exported again.
    let out = tempfile::tempdir().unwrap();
    kill_after_jobs(dir.path(), out.path(), 2, &[]);
    let (_, report) = run_with_report(dir.path(), out.path(), &["--no-resume"], &[]);
    assert_eq!(report["resume"]["enabled"], false);
    assert_eq!(report["resume"]["resumed_jobs"], 0);
    assert_eq!(report["resume"]["exported_ranges"], ranges);
    assert_eq!(published(out.path()), published(clean.path()));
    assert_eq!(listing(out.path()), listing(clean.path()));
}

#[test]
fn a_deleted_or_truncated_staged_file_is_exported_again() {
    let dir = backup(v1());
    let clean = tempfile::tempdir().unwrap();
    let (_, clean_report) = run_with_report(dir.path(), clean.path(), &[], &[]);
    check_values(clean.path());
    let ranges = clean_report["resume"]["exported_ranges"].as_u64().unwrap();

    let out = tempfile::tempdir().unwrap();
    kill_after_jobs(dir.path(), out.path(), 3, &[]);
    let staged = staged_files(out.path());
    assert_eq!(staged.len(), 3, "one file per job of one range: {staged:?}");
    std::fs::remove_file(&staged[0]).unwrap();
    let bytes = std::fs::read(&staged[1]).unwrap();
    std::fs::write(&staged[1], &bytes[..bytes.len() - 1]).unwrap();

    let (_, report) = run_with_report(dir.path(), out.path(), &[], &[]);
    let resume = &report["resume"];
    assert_eq!(resume["resumed_jobs"], 1);
    assert_eq!(resume["exported_ranges"], ranges - 1);
    let reasons: Vec<&str> = resume["rejected_markers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    let name = |path: &Path| path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        reasons.iter().any(|r| r.contains(&name(&staged[0]))
            && r.contains(" is missing, and ")
            && r.ends_with(" does not exist")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains(&name(&staged[1]))
            && r.ends_with(&format!(
                "has {} bytes, not the {} recorded",
                bytes.len() - 1,
                bytes.len()
            ))),
        "{reasons:?}"
    );
    assert_eq!(published(out.path()), published(clean.path()));
    assert_eq!(outcome_of(&report), outcome_of(&clean_report));
}

/// Kills a `--concurrency 1` run once it has published `files` files (every job finished, every
/// table verified), leaving the rest staged and every job marker.
fn kill_while_publishing(input: &Path, output: &Path, files: u32) {
    let failpoint = format!("publish:{files}");
    let killed = tikv_ctl(
        input,
        output,
        &["--concurrency", "1"],
        &[("BR_PARQUET_FAILPOINT", &failpoint)],
    );
    assert!(!killed.status.success(), "{failpoint}: not stopped");
    let parquet = published(output)
        .into_keys()
        .filter(|p| p.ends_with(".parquet"))
        .count();
    assert_eq!(parquet, files as usize, "{failpoint}: files published");
}

/// The published Parquet files under `root` (relative paths), sorted.
fn published_parquet(root: &Path) -> Vec<String> {
    published(root)
        .into_keys()
        .filter(|p| p.ends_with(".parquet"))
        .collect()
}

#[test]
fn a_run_killed_while_publishing_is_resumed_without_exporting_anything() {
    let dir = backup(v1());
    let clean = tempfile::tempdir().unwrap();
    let (_, clean_report) = run_with_report(dir.path(), clean.path(), &[], &[]);
    check_values(clean.path());
    let expected = published(clean.path());
    let files = published_parquet(clean.path());
    let successes: Vec<&String> = expected
        .keys()
        .filter(|p| p.ends_with("_SUCCESS"))
        .collect();
    let jobs = clean_report["resume"]["exported_jobs"].as_u64().unwrap();
    let ranges = clean_report["resume"]["exported_ranges"].as_u64().unwrap();
    assert_eq!(successes.len(), 3, "{successes:?}");
    assert!(files.len() > 6, "{files:?}");

    // Tables are published in order, so the first one (3 files) is whole with its _SUCCESS, the
    // second has 2 of its files and no _SUCCESS, the third is all staged.
    let out = tempfile::tempdir().unwrap();
    kill_while_publishing(dir.path(), out.path(), 5);
    let partial = published(out.path());
    let partial_successes: Vec<&String> =
        partial.keys().filter(|p| p.ends_with("_SUCCESS")).collect();
    assert_eq!(partial_successes, successes[..1], "{partial:?}");
    assert_eq!(
        staged_files(out.path()).len(),
        files.len() - 5,
        "the rest stays staged"
    );
    assert_eq!(job_markers(out.path()) as u64, jobs, "a marker per job");

    let (rerun, report) = run_with_report(dir.path(), out.path(), &[], &[]);
    assert_eq!(
        report["resume"],
        serde_json::json!({
            "enabled": true, "resumed_jobs": jobs, "resumed_ranges": ranges,
            "exported_jobs": 0, "exported_ranges": 0,
        })
    );
    // Every file and every _SUCCESS listing is byte for byte an uninterrupted run's.
    assert_eq!(published(out.path()), expected, "re-run differs");
    for success in successes {
        assert_eq!(
            std::fs::read_to_string(out.path().join(success)).unwrap(),
            std::fs::read_to_string(clean.path().join(success)).unwrap(),
        );
    }
    assert_eq!(outcome_of(&report), outcome_of(&clean_report));
    assert_eq!(report["totals"]["ssts_read"], 0);
    let summary = String::from_utf8_lossy(&rerun.stdout);
    assert!(summary.contains(" (0 SSTs read)\n"), "{summary}");
    assert!(
        summary.contains(&format!(
            "resumed {ranges} of {ranges} ranges from the files a previous run staged; exported 0"
        )),
        "{summary}"
    );
    assert_eq!(listing(out.path()), listing(clean.path()));
    // Nothing is left of staging, markers included, after either run.
    for root in [out.path(), clean.path()] {
        let staging = root.join("parquet/_br_parquet_staging");
        assert!(!staging.exists(), "{} is left", staging.display());
    }
}

#[test]
fn a_published_file_changed_after_the_kill_is_exported_again() {
    let dir = backup(v1());
    let clean = tempfile::tempdir().unwrap();
    let (_, clean_report) = run_with_report(dir.path(), clean.path(), &[], &[]);
    check_values(clean.path());
    let jobs = clean_report["resume"]["exported_jobs"].as_u64().unwrap();

    let out = tempfile::tempdir().unwrap();
    kill_while_publishing(dir.path(), out.path(), 5);
    // A file of the table published whole, and one of the table published part-way.
    let in_place = published_parquet(out.path());
    let victims = [in_place[0].clone(), in_place[4].clone()];
    // One byte changed, size kept: only the SHA-256 tells. And one file truncated.
    let changed = out.path().join(&victims[0]);
    let mut bytes = std::fs::read(&changed).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&changed, &bytes).unwrap();
    let truncated = out.path().join(&victims[1]);
    let size = std::fs::metadata(&truncated).unwrap().len();
    let short = &std::fs::read(&truncated).unwrap()[..10];
    std::fs::write(&truncated, short).unwrap();

    let (rerun, report) = run_with_report(dir.path(), out.path(), &[], &[]);
    let resume = &report["resume"];
    assert_eq!(resume["resumed_jobs"], jobs - 2);
    assert_eq!(resume["exported_jobs"], 2);
    assert_eq!(resume["exported_ranges"], 2);
    let reasons: Vec<&str> = resume["rejected_markers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    let recorded = |path: &str| {
        clean_report["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap()
            .clone()
    };
    let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
    let want = format!(
        "{} has SHA-256 {sha256}, not the {} recorded",
        victims[0],
        recorded(&victims[0])["sha256"].as_str().unwrap()
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains(" is missing, and ") && r.ends_with(&want)),
        "{reasons:?}"
    );
    let want = format!("{} has 10 bytes, not the {size} recorded", victims[1]);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains(" is missing, and ") && r.ends_with(&want)),
        "{reasons:?}"
    );
    let summary = String::from_utf8_lossy(&rerun.stdout);
    assert!(summary.contains("exported 2 jobs again"), "{summary}");

    // The two jobs were exported again: their SSTs, and only those, were read.
    let sources: Vec<String> = victims
        .iter()
        .map(|v| recorded(v)["source_sst"].as_str().unwrap().to_string())
        .collect();
    let read: u64 = plan_ssts(dir.path())
        .into_iter()
        .filter(|(write, _)| sources.contains(write))
        .map(|(_, n)| n)
        .sum();
    assert!(read >= 2, "{sources:?}");
    assert_eq!(report["totals"]["ssts_read"], read);
    assert_eq!(published(out.path()), published(clean.path()));
    assert_eq!(outcome_of(&report), outcome_of(&clean_report));
    assert_eq!(listing(out.path()), listing(clean.path()));
}

/// Three machines export one backup: each `--shard I/3` run stages its share and publishes
/// nothing; a run without `--shard` then resumes every job, checks the tables and publishes the
/// same files an ordinary run does.
#[test]
fn shards_stage_their_jobs_and_a_final_run_publishes_them_all() {
    let dir = backup(v1());
    let clean = tempfile::tempdir().unwrap();
    let (_, clean_report) = run_with_report(dir.path(), clean.path(), &[], &[]);
    check_values(clean.path());
    let ranges = clean_report["resume"]["exported_ranges"].as_u64().unwrap();
    assert!(ranges >= 3, "{ranges} ranges");

    let out = tempfile::tempdir().unwrap();
    let mut shard_ranges = 0;
    for index in 1..=3 {
        let shard = format!("{index}/3");
        let (run, report) = run_with_report(dir.path(), out.path(), &["--shard", &shard], &[]);
        assert!(
            parquet_files(out.path()).is_empty(),
            "shard {shard} published"
        );
        assert_eq!(report["shard"]["shard"], shard.as_str());
        let jobs = report["shard"]["jobs"].as_u64().unwrap();
        assert!(jobs > 0, "shard {shard} has no job of {ranges}");
        assert_eq!(report["resume"]["exported_jobs"].as_u64(), Some(jobs));
        assert!(report.get("iceberg_tables").is_none());
        for table in report["tables"].as_array().unwrap() {
            let status = table["checksum"]["status"].as_str().unwrap();
            assert!(
                status.starts_with(&format!("skipped: shard {shard}")),
                "{status}"
            );
        }
        let summary = String::from_utf8_lossy(&run.stdout);
        assert!(
            summary.contains(&format!("shard {shard}: {jobs} jobs")),
            "{summary}"
        );
        shard_ranges += report["shard"]["ranges"].as_u64().unwrap();
        // A later shard keeps the markers of the earlier ones.
        assert_eq!(job_markers(out.path()) as u64, shard_ranges);
    }
    assert_eq!(shard_ranges, ranges, "every range in exactly one shard");

    let (_, report) = run_with_report(dir.path(), out.path(), &[], &[]);
    assert_eq!(
        report["resume"],
        serde_json::json!({
            "enabled": true, "resumed_jobs": ranges, "resumed_ranges": ranges,
            "exported_jobs": 0, "exported_ranges": 0,
        })
    );
    assert!(report.get("shard").is_none());
    for table in report["tables"].as_array().unwrap() {
        assert_eq!(table["checksum"]["status"], "ok");
    }
    assert_eq!(published(out.path()), published(clean.path()));
    assert_eq!(outcome_of(&report), outcome_of(&clean_report));
    assert_eq!(listing(out.path()), listing(clean.path()));
}

/// The committed seeds of `fuzz/corpus/<target>/`, by file name.
fn fuzz_seeds(target: &str) -> BTreeMap<String, Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect()
}

/// The fuzz targets' bodies (`fuzz/src/lib.rs`), built here against today's API, over the
/// committed seeds: each decodes what a real backup holds, and their differential checks (row
/// v2's merge walk against its binary search, the DECIMAL fast path against the digit path)
/// hold. A target that stops building or a seed that starts to panic fails here, not in the
/// next fuzzing session.
#[test]
fn fuzz_targets_build_and_their_seeds_decode() {
    // SSTs written by RocksDB and by the test kit open and scan whole, with and without block
    // checksums; the one compressed with bzip2 (which TiKV never writes) is refused.
    let ssts = fuzz_seeds("sst_reader");
    assert_eq!(ssts.len(), 34);
    for (name, seed) in &ssts {
        let scanned = fuzz_targets::sst_reader(seed);
        if name.contains("bzip2_unsupported") {
            assert_eq!(scanned, None, "{name}");
            continue;
        }
        assert!(
            scanned.is_some_and(|entries| entries > 0),
            "{name}: {scanned:?}"
        );
        if let Some(twin) = name.strip_suffix("_checksummed") {
            let unchecked = &ssts[&format!("{twin}_nochecksum")];
            assert_eq!(fuzz_targets::sst_reader(unchecked), scanned, "{name}");
        }
    }
    assert_eq!(
        fuzz_targets::sst_reader(&ssts["rocksdb_db_flush_fv5_xxh3_lz4"]),
        Some(328)
    );

    // The sample backup plans its three tables from either layout, plain or encrypted; a v2
    // root whose MetaFiles are missing does not load.
    let tables = sample_tables().len();
    assert_eq!(tables, 3);
    let metas = fuzz_seeds("backupmeta");
    for name in [
        "sample_v1",
        "sample_v1_encrypted",
        "sample_v2",
        "sample_v2_encrypted_root",
    ] {
        assert_eq!(
            fuzz_targets::backupmeta(&metas[name]),
            Some(tables),
            "{name}"
        );
    }
    assert_eq!(
        fuzz_targets::backupmeta(&metas["sample_v2_root_only"]),
        None
    );

    // Only the row v2 seeds are row v2 values; every seed goes through every decoder.
    let rows = fuzz_seeds("row");
    assert_eq!(rows.len(), 9);
    let v2: Vec<(&str, usize)> = rows
        .iter()
        .filter_map(|(name, seed)| Some((name.as_str(), fuzz_targets::row(seed)?)))
        .collect();
    assert_eq!(v2, [("row_v2", 2), ("row_v2_int", 1), ("row_v2_null", 1)]);

    // Of the keys, only the data key of a record decodes to a TiDB key.
    let keys: Vec<String> = fuzz_seeds("data_key")
        .into_iter()
        .filter(|(_, seed)| fuzz_targets::data_key(seed))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(keys, ["record_key"]);
}
