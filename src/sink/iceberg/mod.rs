//! Apache Iceberg metadata over the exported Parquet files: Iceberg v2 tables
//! (`--write-iceberg-table`, [`table`]) and the statistics both they and the JSON manifest
//! (`--write-iceberg-manifest`, [`crate::sink::manifest`]) are made of.
//!
//! Spec: <https://iceberg.apache.org/spec/>. User documentation, with reader commands:
//! `docs/iceberg.md`.
//!
//! * [`value`]: bound values and Iceberg's single-value serializations (binary and JSON), with
//!   bound truncation.
//! * [`stats`]: per-column counts and bounds collected while a Parquet file is written.
//! * [`schema`]: the Iceberg schema of an export schema (field ids carried over).
//! * [`table`]: manifests, manifest lists and table metadata, one new version per run.
//! * [`apply`]: an incremental backup's change rows applied to its base's table (rows appended,
//!   replaced and deleted rows removed by position deletes).
//! * [`catalog`]: registering and committing those versions in an Iceberg catalog (SQL, or
//!   AWS Glue through [`glue`]), over the output storage as the catalog's file IO ([`file_io`]).

pub mod apply;
pub mod catalog;
pub mod file_io;
pub mod glue;
pub mod schema;
pub mod stats;
pub mod table;
pub mod value;

pub use apply::ApplyReport;
pub use catalog::{CatalogOptions, CatalogUri};
pub use stats::{ColumnStats, FileStats, PackedStats, StatsCollector};
pub use table::{
    ApplyInput, CatalogCommit, DataFileOptions, IcebergTableReport, IcebergWriter,
    StatsAfterCommit, TableInput,
};

/// The backup an export read, as Iceberg metadata and the JSON manifest record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupIdentity {
    /// PD cluster id.
    pub cluster_id: u64,
    /// 0 for a full backup; the previous backup's TSO for an incremental one.
    pub start_version: u64,
    /// The backup TSO.
    pub end_version: u64,
}

impl BackupIdentity {
    /// Milliseconds since the Unix epoch of the backup TSO: its physical part, `end_version >> 18`
    /// (PD's TSO is `physical_ms << 18 | logical`).
    pub fn timestamp_ms(&self) -> i64 {
        i64::try_from(self.end_version >> 18).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tso_physical_time() {
        let backup = BackupIdentity {
            cluster_id: 1,
            start_version: 0,
            // 2023-11-14T22:13:20Z = 1_700_000_000_000 ms, logical 5.
            end_version: (1_700_000_000_000 << 18) | 5,
        };
        assert_eq!(backup.timestamp_ms(), 1_700_000_000_000);
    }
}
