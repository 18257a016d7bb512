//! Helpers shared by the integration tests: the real binaries, the Python readers, the Rust
//! reader of an export's Parquet files ([`readback`]), file walks.
#![allow(dead_code)] // each test crate uses its own subset

pub mod catalog;
pub mod readback;
pub mod tables;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The venv Python that `scripts/test.sh` sets up, if it can import `modules`. Under CI a missing
/// one fails the test; elsewhere the caller skips its reader checks (a notice is printed).
pub fn python(modules: &str) -> Option<PathBuf> {
    let candidate = std::env::var_os("BR_PARQUET_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    let ok = Command::new(&candidate)
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(candidate);
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "Python with {modules} not found at {}; run scripts/test.sh",
        candidate.display()
    );
    eprintln!("NOTICE: Python with {modules} not found; run scripts/test.sh to check values");
    None
}

/// Reads every exported file back in Rust ([`readback::check_values`]), then with pyarrow and
/// DuckDB (`tests/python/check_parquet.py`, where the venv is present; required under CI), and
/// compares every value and column type with `tables` (`TestTable::expected_json` objects).
pub fn check_parquet(output: &Path, tables: Vec<Value>) {
    readback::check_values(output, &tables);
    let Some(python) = python("pyarrow, duckdb") else {
        return;
    };
    let path = output.join("expected.json");
    std::fs::write(
        &path,
        serde_json::to_vec(&json!({ "tables": tables })).unwrap(),
    )
    .unwrap();
    let out = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_parquet.py"))
        .arg(output)
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(" 0 mismatches"),
        "value check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Panics with both output streams unless the command succeeded.
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "command failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every file below `dir`, sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// `tikv-ctl br parquet-export --input <input> --output <output> <extra>`.
pub fn export(input: &Path, output: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "br",
        "parquet-export",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_tikv-ctl"))
        .args(&args)
        .output()
        .expect("run tikv-ctl")
}

/// Spawns `command` (a `tikv-ctl` run) to pause at `point` (`BR_PARQUET_WAITPOINT`) until `gate`
/// exists, and returns once it is paused there, so that a test can run another export meanwhile.
pub fn spawn_paused(mut command: Command, point: &str, gate: &Path) -> Child {
    let child = command
        .env(
            "BR_PARQUET_WAITPOINT",
            format!("{point}:{}", gate.display()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let reached = gate.with_extension("reached");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !reached.exists() {
        assert!(
            Instant::now() < deadline,
            "the export never reached {point}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}
