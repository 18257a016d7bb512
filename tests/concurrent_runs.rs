//! Two runs of one export into one local output at the same time (a user starting it twice, a
//! scheduler running a retried pod beside the original): both end with exit 0, neither undoes
//! what the other published, every table has its `_SUCCESS`, no staging is left, and the files
//! are those of a single run. Each test pauses one run at a chosen point
//! (`BR_PARQUET_WAITPOINT`) and lets the other run to the end meanwhile.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::SystemTime;

use br_parquet::testkit::sample::sample_tables;
use br_parquet::testkit::BackupWriter;
use common::{assert_success, export, spawn_paused, walk};
use sha2::{Digest, Sha256};

/// Starts an export of `backup` into `output` that pauses at `point` until `gate` exists, and
/// returns once it is paused there.
fn paused_export(backup: &Path, output: &Path, point: &str, gate: &Path, extra: &[&str]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"));
    command
        .args(["br", "parquet-export", "--input"])
        .arg(backup)
        .arg("--output")
        .arg(output)
        .args(extra);
    spawn_paused(command, point, gate)
}

/// Every file under `dir` (relative path → SHA-256), with the `_SUCCESS` markers' modification
/// times, which show whether a marker was written again.
fn files(dir: &Path) -> (BTreeMap<String, String>, BTreeMap<String, SystemTime>) {
    let mut hashes = BTreeMap::new();
    let mut markers = BTreeMap::new();
    for path in walk(dir) {
        let name = path.strip_prefix(dir).unwrap().display().to_string();
        if name.ends_with("_SUCCESS") {
            markers.insert(
                name.clone(),
                std::fs::metadata(&path).unwrap().modified().unwrap(),
            );
        }
        hashes.insert(
            name,
            hex::encode(Sha256::digest(std::fs::read(&path).unwrap())),
        );
    }
    (hashes, markers)
}

/// Pauses a run at `point`, runs a second one to the end, then lets the first finish; checks
/// both succeeded and that the output is a single run's, the second run's markers untouched.
fn second_run_finishes_first(point: &str, extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup");
    BackupWriter {
        rows_per_range: 16,
        ..Default::default()
    }
    .write(&backup, &sample_tables())
    .unwrap();
    let reference = dir.path().join("reference");
    assert_success(&export(&backup, &reference, extra));
    let (want, _) = files(&reference);

    let output: PathBuf = dir.path().join("out");
    let gate = dir.path().join("gate");
    let first = paused_export(&backup, &output, point, &gate, extra);
    assert_success(&export(&backup, &output, extra));
    let (published, markers) = files(&output);
    assert!(!markers.is_empty());
    std::fs::write(&gate, b"").unwrap();
    let first = first.wait_with_output().unwrap();
    assert_success(&first);

    let (after, markers_after) = files(&output);
    assert_eq!(
        markers_after, markers,
        "the second run's _SUCCESS markers were written again"
    );
    assert_eq!(after, published, "the paused run changed published files");
    // Iceberg metadata holds random ids: compared by name only; everything else byte for byte.
    let data = |files: &BTreeMap<String, String>| -> BTreeMap<String, String> {
        files
            .iter()
            .filter(|(name, _)| !name.contains("/metadata/"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    assert_eq!(data(&after), data(&want));
    assert_eq!(
        after.keys().filter(|n| n.contains("/metadata/")).count(),
        want.keys().filter(|n| n.contains("/metadata/")).count(),
        "one Iceberg version per table, as a single run writes"
    );
    assert!(
        after
            .keys()
            .all(|name| !name.contains("_br_parquet_staging")),
        "staging left behind: {:?}",
        after
            .keys()
            .filter(|n| n.contains("_br_parquet_staging"))
            .collect::<Vec<_>>()
    );
    assert!(!output.join("parquet/_br_parquet_staging").exists());
}

/// The paused run listed the job markers before the other wrote any, so it exports every job
/// again, and then finds each table published with exactly its files.
#[test]
fn a_run_paused_before_its_jobs_finishes_after_another_published() {
    second_run_finishes_first("jobs", &[]);
}

/// The paused run staged everything; the other run resumes its jobs and publishes its files.
#[test]
fn a_run_paused_before_publishing_finds_its_files_published_by_another() {
    second_run_finishes_first("publish", &[]);
}

/// With Iceberg tables: the paused run finds version 1 of each table written by the other run,
/// holding this backup, and leaves it as it is.
#[test]
fn concurrent_runs_write_one_iceberg_version() {
    second_run_finishes_first("jobs", &["--write-iceberg-table"]);
}
