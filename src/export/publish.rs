//! Stage 4, publish: every staged file moved into place, table by table, each table ending with
//! its `_SUCCESS` marker (written last, listing the files), so that a table whose marker exists
//! is complete.
//!
//! A run killed here leaves some files published and the rest staged, with every job marker; a
//! re-run reuses both (`resume.rs` checks the published ones' SHA-256), and here moves only the
//! files still staged.

use std::collections::BTreeMap;

use crate::sink::layout::success_marker_name;
use crate::sink::ExportedFile;
use crate::storage::ExternalStorage;
use crate::{Error, Result};

use super::failpoint;

/// Publishes `files` under `prefix`; `end_version` is the backup's, recorded in `_SUCCESS`.
pub(crate) fn publish(
    output: &ExternalStorage,
    prefix: &str,
    files: &[ExportedFile],
    end_version: u64,
) -> Result<()> {
    let mut by_table: BTreeMap<(&str, &str), Vec<&ExportedFile>> = BTreeMap::new();
    for file in files {
        by_table
            .entry((&file.db, &file.table))
            .or_default()
            .push(file);
    }
    for ((db, table), files) in by_table {
        let marker = success_marker_name(prefix, db, table);
        // An older marker would claim files this run is replacing.
        output.delete(&marker)?;
        for file in &files {
            let Some(staged) = &file.staged else {
                continue;
            };
            output.rename(staged, &file.path)?;
            failpoint::hit("publish");
        }
        let listing = serde_json::json!({
            "tool": format!("br-parquet {}", env!("CARGO_PKG_VERSION")),
            "backup_end_version": end_version,
            "rows": files.iter().map(|f| f.rows).sum::<u64>(),
            "files": files.iter().map(|f| serde_json::json!({
                "path": f.path, "rows": f.rows, "size": f.size, "sha256": f.sha256,
            })).collect::<Vec<_>>(),
        });
        let bytes = serde_json::to_vec_pretty(&listing)
            .map_err(|e| Error::io(&marker, std::io::Error::other(e)))?;
        output.put_bytes(&marker, bytes.into())?;
    }
    Ok(())
}
