//! Test hooks that stop the process abruptly, like `kill -9`, at a chosen point:
//! `BR_PARQUET_FAILPOINT=range:N` after N exported jobs, `publish:N` after N published files,
//! `describe:1` after publishing, before the Iceberg metadata and the manifest are written,
//! `iceberg-table:N` after the N-th table's new Iceberg version is committed.
//! Used by tests of interrupted runs; unset, it costs one relaxed load per job or file.
//!
//! `BR_PARQUET_WAITPOINT=POINT:PATH` instead pauses at `jobs` (planned, markers listed, nothing
//! exported), `publish` (everything exported and verified) or `catalog-commit`: it creates
//! `PATH.reached` and waits until `PATH` exists, so a test can let another run go first.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

static POINT: OnceLock<Option<(String, u64)>> = OnceLock::new();
static HITS: AtomicU64 = AtomicU64::new(0);

/// Pauses at `name` when `BR_PARQUET_WAITPOINT` names it, until the test releases it.
pub(super) fn wait(name: &str) {
    let Some((point, path)) = std::env::var("BR_PARQUET_WAITPOINT").ok().and_then(|v| {
        v.split_once(':')
            .map(|(p, f)| (p.to_string(), f.to_string()))
    }) else {
        return;
    };
    if point != name {
        return;
    }
    let _ = std::fs::write(format!("{path}.reached"), b"");
    while !std::path::Path::new(&path).exists() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Aborts the process at the `count`-th hit of the configured point `name`.
pub(super) fn hit(name: &str) {
    let point = POINT.get_or_init(|| {
        let value = std::env::var("BR_PARQUET_FAILPOINT").ok()?;
        let (point, count) = value.split_once(':')?;
        Some((point.to_string(), count.parse().ok()?))
    });
    if let Some((point, count)) = point {
        if point == name && HITS.fetch_add(1, Ordering::Relaxed) + 1 >= *count {
            std::process::abort();
        }
    }
}
