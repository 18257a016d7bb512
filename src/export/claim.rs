//! Which shard of a `--shards N` export publishes it: the one that, once its own jobs are
//! finished, finds every job's marker (one listing) and creates the export's publish claim,
//! `<prefix>/_br_parquet_staging/.br-parquet-publish/<run id>.json`, with a conditional create
//! in the output store. Of shards finishing together exactly one create succeeds; no other
//! service is involved.
//!
//! The claim names its shard. A shard that finds the claim its own is that shard restarted by
//! the scheduler after dying mid-publish (or the same index running twice, which Kubernetes
//! allows): it publishes too, which is safe, as publishing is idempotent (`publish.rs`). The
//! publishing run deletes the claim with the job markers; so does a run without a shard, which
//! finishes the export of a publisher that never came back.

use crate::sink::layout::publish_claim_name;
use crate::{Error, Result};

use super::prepare::Run;
use super::resume::marker_keys;
use super::shard::Shard;

/// What a `--shards` run found once its own jobs were finished.
pub(crate) enum Claim {
    /// Some job of another shard is unfinished: the last shard to finish publishes.
    Unfinished,
    /// This shard publishes.
    Publish,
    /// Another shard claimed the publishing (`I/N`).
    Other(String),
}

/// Claims the publishing of `run`'s export for `shard` if every job of it is finished.
pub(crate) fn claim_publishing(run: &Run<'_>, shard: Shard) -> Result<Claim> {
    let finished = marker_keys(run.output, run.prefix)?;
    if !run.all_keys.iter().all(|key| finished.contains(key)) {
        return Ok(Claim::Unfinished);
    }
    let name = publish_claim_name(run.prefix, &run.run_id);
    let mine = shard.to_string();
    let record = serde_json::json!({
        "shard": mine,
        "host": host_name(),
        "pid": std::process::id(),
        "claimed_at_unix_seconds": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    });
    let bytes =
        serde_json::to_vec_pretty(&record).map_err(|e| Error::meta(&name, e.to_string()))?;
    if run.output.put_bytes_if_absent(&name, bytes.into())? {
        return Ok(Claim::Publish);
    }
    let holder = match run.output.read(&name) {
        Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["shard"].as_str().map(str::to_string))
            .ok_or_else(|| Error::meta(&name, "is not a publish claim of br-parquet"))?,
        // Published and cleaned up since the listing: by another shard.
        Err(e) if e.is_not_found() => return Ok(Claim::Other("another shard".into())),
        Err(e) => return Err(e),
    };
    Ok(if holder == mine {
        Claim::Publish
    } else {
        Claim::Other(holder)
    })
}

/// This machine's name, for the claim (a pod's name under Kubernetes).
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|name| name.trim().to_string())
        .unwrap_or_default()
}
