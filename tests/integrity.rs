//! Lose nothing, trust nothing: corrupt, truncated, mis-described and encrypted backups, and runs
//! killed part-way. Every corruption must stop the run with a message naming the object and the
//! expected and actual values, and publish nothing; encrypted backups export exactly; a killed
//! run, re-run, gives the same files as an uninterrupted one.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use br_parquet::crypter::CipherMethod;
use br_parquet::proto::backup::BackupMeta;
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
