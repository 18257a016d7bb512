//! The one record of a file the export wrote, from the sink that finished it to the report, the
//! resume markers, publishing, the Iceberg metadata and the JSON manifest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::iceberg::PackedStats;

/// One Parquet file of the export.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExportedFile {
    /// Object name in the output storage, once published ([`super::layout::parquet_part_name`]).
    pub path: String,
    /// Database name.
    pub db: String,
    /// Table name.
    pub table: String,
    /// Logical TiDB table id.
    pub table_id: i64,
    /// The write-CF SST its rows were first read from (it names the file).
    pub source_sst: String,
    /// Rows.
    pub rows: u64,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the file.
    pub sha256: String,
    /// Zero or invalid dates written as NULL, by column (see docs/type-mapping.md).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub invalid_dates: BTreeMap<String, u64>,
    /// Per-column statistics, collected when Iceberg metadata or the JSON manifest is written
    /// (empty otherwise); packed, since an export may hold 100 k files' until it describes them.
    #[serde(default)]
    pub stats: PackedStats,
    /// Where the file waits until the run is published; `None` when it is at `path` already (a
    /// run killed while publishing moved it there). Not recorded: a finished job's marker
    /// derives it from `path` ([`super::layout::staging_object_name`]).
    #[serde(skip)]
    pub staged: Option<String>,
}
