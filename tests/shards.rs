//! `--shards N` on a local output: N processes with the same command line, each with its
//! `JOB_COMPLETION_INDEX` (as a Kubernetes Indexed Job starts them), export one backup; the shard
//! that finds every job finished publishes, exactly once, and the output equals a one-machine
//! export byte for byte. Also: a shard killed and started again, an index running twice at once,
//! a publisher killed while publishing. (The same over moto's S3: tests/storage_servers.rs.)

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use br_parquet::testkit::sample::sample_tables;
use br_parquet::testkit::BackupWriter;
use common::{assert_success, export, walk};
use serde_json::Value;
use sha2::{Digest, Sha256};

const SHARDS: usize = 3;

struct Setup {
    dir: tempfile::TempDir,
    backup: PathBuf,
    output: PathBuf,
    /// The files of a one-machine export of the backup.
    reference: BTreeMap<String, String>,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup");
    BackupWriter {
        rows_per_range: 8,
        ..Default::default()
    }
    .write(&backup, &sample_tables())
    .unwrap();
    let reference_dir = dir.path().join("reference");
    assert_success(&export(&backup, &reference_dir, &[]));
    let reference = files(&reference_dir);
    assert!(reference.len() > SHARDS, "enough files to share out");
    let output = dir.path().join("out");
    Setup {
        dir,
        backup,
        output,
        reference,
    }
}

/// Relative path → SHA-256 of every file under `dir`.
fn files(dir: &Path) -> BTreeMap<String, String> {
    walk(dir)
        .into_iter()
        .map(|path| {
            let name = path.strip_prefix(dir).unwrap().display().to_string();
            let sha = hex::encode(Sha256::digest(std::fs::read(&path).unwrap()));
            (name, sha)
        })
        .collect()
}

impl Setup {
    /// The same command line on every shard; only the environment differs. Without leases
    /// (`--shard-lease 0`): each shard runs its own share, as the tests of the publishing
    /// protocol want when they start shards one after another.
    fn shard(&self, index: usize, report: &str, env: &[(&str, &str)]) -> Child {
        self.shard_with(index, report, env, &["--shard-lease", "0"])
    }

    /// [`Self::shard`] with more arguments.
    fn shard_with(&self, index: usize, report: &str, env: &[(&str, &str)], args: &[&str]) -> Child {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"));
        command
            .args(["br", "parquet-export", "--input"])
            .arg(&self.backup)
            .arg("--output")
            .arg(&self.output)
            .args([
                "--shards",
                &SHARDS.to_string(),
                "--concurrency",
                "1",
                "--report",
            ])
            .arg(self.dir.path().join(report))
            .args(args)
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        command.spawn().unwrap()
    }

    fn report(&self, name: &str) -> Value {
        serde_json::from_slice(&std::fs::read(self.dir.path().join(name)).unwrap()).unwrap()
    }

    /// Who published, by the reports `names`: the shards whose report says they did.
    fn publishers(&self, names: &[String]) -> Vec<String> {
        names
            .iter()
            .map(|name| self.report(name))
            .filter(|report| report["shard"]["publishing"]["by"] == "this_shard")
            .map(|report| report["shard"]["shard"].as_str().unwrap().to_string())
            .collect()
    }

    /// The output is the one-machine export's, with no staging left.
    fn assert_published(&self) {
        assert_eq!(files(&self.output), self.reference);
        assert!(!self.output.join("parquet/_br_parquet_staging").exists());
    }
}

fn finish(child: Child) -> Output {
    let out = child.wait_with_output().unwrap();
    assert_success(&out);
    out
}

#[test]
fn shards_started_together_publish_exactly_once() {
    let setup = setup();
    let reports: Vec<String> = (0..SHARDS).map(|i| format!("shard-{i}.json")).collect();
    let children: Vec<Child> = (0..SHARDS)
        .map(|i| setup.shard(i, &reports[i], &[]))
        .collect();
    for child in children {
        finish(child);
    }
    assert_eq!(setup.publishers(&reports).len(), 1, "exactly one publisher");
    for report in &reports {
        let report = setup.report(report);
        let by = &report["shard"]["publishing"]["by"];
        // A shard that did not publish saw either unfinished jobs or the publisher's claim.
        assert!(
            ["this_shard", "last_shard", "other_shard"].contains(&by.as_str().unwrap()),
            "{report}"
        );
    }
    setup.assert_published();
}

#[test]
fn shards_one_after_another_the_last_publishes() {
    let setup = setup();
    let reports: Vec<String> = (0..SHARDS).map(|i| format!("shard-{i}.json")).collect();
    for (i, report) in reports.iter().enumerate() {
        let out = finish(setup.shard(i, report, &[]));
        let text = String::from_utf8_lossy(&out.stdout);
        if i + 1 < SHARDS {
            assert!(text.contains("the last to finish publishes"), "{text}");
            assert!(!setup.output.join("parquet/shop").exists());
        } else {
            assert!(text.contains("this shard checked and published"), "{text}");
        }
    }
    assert_eq!(setup.publishers(&reports), [format!("{SHARDS}/{SHARDS}")]);
    setup.assert_published();
}

#[test]
fn a_killed_shard_started_again_completes_the_export() {
    let setup = setup();
    // Shard 0 dies after its first job; the others finish and wait for it.
    let killed = setup
        .shard(0, "killed.json", &[("BR_PARQUET_FAILPOINT", "range:1")])
        .wait_with_output()
        .unwrap();
    assert!(!killed.status.success());
    for i in 1..SHARDS {
        finish(setup.shard(i, &format!("shard-{i}.json"), &[]));
    }
    assert!(!setup.output.join("parquet/shop").exists());
    // The scheduler starts index 0 again: it resumes its finished job and publishes.
    finish(setup.shard(0, "again.json", &[]));
    let again = setup.report("again.json");
    assert_eq!(again["shard"]["publishing"]["by"], "this_shard");
    assert!(
        again["resume"]["resumed_jobs"].as_u64().unwrap() >= 1,
        "{again}"
    );
    setup.assert_published();
}

#[test]
fn one_index_running_twice_at_once_does_no_harm() {
    let setup = setup();
    let twins = [
        setup.shard(0, "twin-a.json", &[]),
        setup.shard(0, "twin-b.json", &[]),
    ];
    for child in twins {
        finish(child);
    }
    for i in 1..SHARDS {
        finish(setup.shard(i, &format!("shard-{i}.json"), &[]));
    }
    setup.assert_published();
}

#[test]
fn a_publisher_killed_while_publishing_is_finished_by_its_restart_or_a_plain_run() {
    for finisher in ["restart", "plain"] {
        let setup = setup();
        for i in 1..SHARDS {
            finish(setup.shard(i, &format!("shard-{i}.json"), &[]));
        }
        // The last shard claims the publishing and dies after moving one file into place.
        let killed = setup
            .shard(0, "killed.json", &[("BR_PARQUET_FAILPOINT", "publish:1")])
            .wait_with_output()
            .unwrap();
        assert!(!killed.status.success(), "{finisher}");
        if finisher == "restart" {
            finish(setup.shard(0, "again.json", &[]));
            assert_eq!(
                setup.report("again.json")["shard"]["publishing"]["by"],
                "this_shard"
            );
        } else {
            assert_success(&export(&setup.backup, &setup.output, &[]));
        }
        setup.assert_published();
    }
}

/// Leases: shard 3 of 3 never starts; the two others, out of jobs of their own, take its jobs
/// over once they have watched them unleased for one (short) lease period, and the export is
/// published without it.
#[test]
fn the_jobs_of_a_shard_that_never_starts_are_taken_over() {
    let setup = setup();
    let reports: Vec<String> = (0..SHARDS - 1).map(|i| format!("shard-{i}.json")).collect();
    let children: Vec<Child> = (0..SHARDS - 1)
        .map(|i| setup.shard_with(i, &reports[i], &[], &["--shard-lease", "1"]))
        .collect();
    for child in children {
        finish(child);
    }
    assert_eq!(setup.publishers(&reports).len(), 1, "exactly one publisher");
    let taken: u64 = reports
        .iter()
        .map(|r| setup.report(r)["shard"]["taken_over"].as_u64().unwrap())
        .sum();
    assert!(taken >= 1, "the missing shard's jobs were taken over");
    setup.assert_published();
}

/// Leases: shard 1 dies after its first job and is never restarted; the others take over the
/// rest of its jobs.
#[test]
fn the_jobs_of_a_dead_shard_are_taken_over() {
    let setup = setup();
    let lease = ["--shard-lease", "1"];
    let killed = setup
        .shard_with(
            0,
            "killed.json",
            &[("BR_PARQUET_FAILPOINT", "range:1")],
            &lease,
        )
        .wait_with_output()
        .unwrap();
    assert!(!killed.status.success());
    let reports: Vec<String> = (1..SHARDS).map(|i| format!("shard-{i}.json")).collect();
    let children: Vec<Child> = (1..SHARDS)
        .map(|i| setup.shard_with(i, &reports[i - 1], &[], &lease))
        .collect();
    for child in children {
        finish(child);
    }
    assert_eq!(setup.publishers(&reports).len(), 1, "exactly one publisher");
    setup.assert_published();
}

#[test]
fn without_an_index_in_the_environment_the_error_names_the_variables() {
    let out = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"))
        .args(["br", "parquet-export", "--input", "/b", "--output", "/o"])
        .args(["--shards", "4"])
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("JOB_COMPLETION_INDEX") && stderr.contains("--shard-index-env"),
        "{stderr}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"))
        .args(["br", "parquet-export", "--input", "/b", "--output", "/o"])
        .args(["--shards", "4", "--shard-index-env", "SLURM_ARRAY_TASK_ID"])
        .env("SLURM_ARRAY_TASK_ID", "4")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SLURM_ARRAY_TASK_ID=\"4\""), "{stderr}");
}

/// `examples/kubernetes/export-job.yaml` parses, its Job agrees with its ConfigMap, and the
/// binary accepts the container's arguments (with the ConfigMap's values substituted as
/// Kubernetes does, the locations pointed at the bundled sample backup and a local directory,
/// and `--dry-run`).
#[test]
fn the_kubernetes_manifest_runs_with_the_flags_the_binary_accepts() {
    let Some(python) = common::python("yaml") else {
        return;
    };
    let manifest =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kubernetes/export-job.yaml");
    let out = Command::new(python)
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
        ])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_success(&out);
    let documents: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let config = documents.iter().find(|d| d["kind"] == "ConfigMap").unwrap();
    let job = documents.iter().find(|d| d["kind"] == "Job").unwrap();
    let shards: u64 = config["data"]["SHARDS"].as_str().unwrap().parse().unwrap();
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["completions"], shards);
    assert_eq!(job["spec"]["parallelism"], shards);
    assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["command"][0], "tikv-ctl");

    let dir = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sample-backup");
    let mut values: BTreeMap<String, String> = config["data"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    values.insert("INPUT".into(), sample.display().to_string());
    values.insert(
        "OUTPUT".into(),
        dir.path().join("out").display().to_string(),
    );
    let args: Vec<String> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|arg| {
            let arg = arg.as_str().unwrap();
            match arg.strip_prefix("$(").and_then(|a| a.strip_suffix(')')) {
                Some(name) => values[name].clone(),
                None => arg.to_string(),
            }
        })
        .collect();
    for index in [0, shards - 1] {
        let out = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"))
            .args(&args)
            .arg("--dry-run")
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .output()
            .unwrap();
        assert_success(&out);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&format!("{}/{shards}", index + 1)), "{text}");
    }
}
