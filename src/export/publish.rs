//! Stage 4, publish: every staged file moved into place, table by table, each table ending with
//! its `_SUCCESS` marker (written last, listing the files), so that a table whose marker exists
//! is complete.
//!
//! A run killed here leaves some files published and the rest staged, with every job marker; a
//! re-run reuses both (`resume.rs` checks the published ones' SHA-256), and here moves only the
//! files still staged.
//!
//! Two runs of the same export into one output (started a moment apart, or a shard index the
//! scheduler runs twice) stage the same bytes under the same names, so they cooperate rather
//! than undo each other: a table whose `_SUCCESS` already lists exactly this run's files keeps
//! it (the other run published it; a run that reported success is never undone; files are only
//! replaced by the same bytes), and a staged file the other run moved first is accepted at its
//! final name when it holds the bytes this run recorded.

use std::collections::BTreeMap;

use crate::sink::layout::success_marker_name;
use crate::sink::ExportedFile;
use crate::storage::ExternalStorage;
use crate::{Error, Result};

use super::failpoint;
use super::resume::published_mismatch;

/// Publishes `files` under `prefix`; `end_version` is the backup's, recorded in `_SUCCESS`.
pub(crate) fn publish(
    output: &ExternalStorage,
    prefix: &str,
    files: &[ExportedFile],
    end_version: u64,
) -> Result<()> {
    // The staged files' bytes are on disk before any `_SUCCESS` names them.
    output.sync(&mut files.iter().filter_map(|f| f.staged.as_deref()))?;
    let mut by_table: BTreeMap<(&str, &str), Vec<&ExportedFile>> = BTreeMap::new();
    for file in files {
        by_table
            .entry((&file.db, &file.table))
            .or_default()
            .push(file);
    }
    for ((db, table), files) in by_table {
        let marker = success_marker_name(prefix, db, table);
        let listing = success_listing(&files, end_version, &marker)?;
        // Already published with exactly these files (by another run of this export, or by a
        // killed run of it): the marker stays, and what this run staged (the same bytes, or a
        // file exported again because the published one had changed) replaces the published.
        // One request per table, as many tables as a backup holds: the read stands in for the
        // delete when there is no marker.
        let existing = match output.read(&marker) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        };
        let published = existing.as_ref() == Some(&listing);
        if existing.is_some() && !published {
            // An older marker would claim files this run is replacing.
            output.delete(&marker)?;
        }
        for file in &files {
            let Some(staged) = &file.staged else {
                continue;
            };
            if let Err(e) = output.rename(staged, &file.path) {
                if !e.is_not_found() {
                    return Err(e);
                }
                // Moved by another run of this export publishing at the same time.
                if let Some(mismatch) = published_mismatch(output, file)? {
                    return Err(Error::OutputConflict {
                        object: file.path.clone(),
                        message: format!(
                            "its staged copy {staged} disappeared while this run published, and \
                             {mismatch}; another export with other options is writing into this \
                             output"
                        ),
                    });
                }
            }
            failpoint::hit("publish");
        }
        if !published {
            output.put_bytes(&marker, listing)?;
        }
    }
    // A run that reports success has its renames and markers on disk (on Linux, where one
    // `syncfs` covers them; the files' bytes were synced above everywhere).
    output.sync(&mut std::iter::empty())
}

/// The contents of a table's `_SUCCESS`: the same bytes for the same files, whichever run of an
/// export writes it.
/// Whether the `_SUCCESS` of `file`'s table lists it with its SHA-256 (one read): the export it
/// belongs to is published, or being published.
pub(crate) fn is_published(
    output: &ExternalStorage,
    prefix: &str,
    file: &ExportedFile,
) -> Result<bool> {
    let marker = success_marker_name(prefix, &file.db, &file.table);
    let listing: serde_json::Value = match output.read(&marker) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(e) if e.is_not_found() => return Ok(false),
        Err(e) => return Err(e),
    };
    Ok(listing["files"].as_array().is_some_and(|listed| {
        listed
            .iter()
            .any(|f| f["path"] == file.path.as_str() && f["sha256"] == file.sha256.as_str())
    }))
}

fn success_listing(
    files: &[&ExportedFile],
    end_version: u64,
    marker: &str,
) -> Result<bytes::Bytes> {
    let listing = serde_json::json!({
        "tool": format!("br-parquet {}", env!("CARGO_PKG_VERSION")),
        "backup_end_version": end_version,
        "rows": files.iter().map(|f| f.rows).sum::<u64>(),
        "files": files.iter().map(|f| serde_json::json!({
            "path": f.path, "rows": f.rows, "size": f.size, "sha256": f.sha256,
        })).collect::<Vec<_>>(),
    });
    serde_json::to_vec_pretty(&listing)
        .map(Into::into)
        .map_err(|e| Error::io(marker, std::io::Error::other(e)))
}
