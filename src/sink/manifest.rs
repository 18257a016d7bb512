//! The JSON manifest of an export (`--write-iceberg-manifest`): one JSON document per run that
//! lists every Parquet file with its row count, size, SHA-256 and column statistics, plus the
//! backup's identity. It is for tools that register files in a catalog themselves (an Iceberg
//! `add_files` call, a Hive metastore, a data-quality check) without reading Parquet footers.
//!
//! Path: `<prefix>/iceberg-manifest-<end_version>.json` (the whole run; a re-export of the same
//! backup replaces it). Every field is described in `docs/iceberg.md`; bounds use Iceberg's JSON
//! single-value serialization ([`super::iceberg::value::Value::to_json`]).

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use serde_json::{json, Value as Json};

use super::iceberg::schema::{field_id, iceberg_schema};
use super::iceberg::{BackupIdentity, IcebergTableReport, TableInput};
use super::layout::manifest_object_name;
use super::ExportedFile;
use crate::batch::TABLE_ID_FIELD_ID;
use crate::storage::ExternalStorage;
use crate::{Error, Result};

/// The `format` field of every manifest.
pub const MANIFEST_FORMAT: &str = "br-parquet-manifest";
/// The `format_version` of this layout.
pub const MANIFEST_FORMAT_VERSION: u32 = 1;

/// The manifest document. Each table's and file's record is made as it is written, so that the
/// manifest of 100 k files holds one record at a time rather than the whole document (a JSON
/// tree of 100 k files takes gigabytes). The keys come in the order of JSON objects without
/// `preserve_order`: sorted.
struct ManifestDocument<'a> {
    output: &'a ExternalStorage,
    backup: &'a BackupIdentity,
    tables: &'a [TableInput],
    /// Files by path.
    files: Vec<&'a ExportedFile>,
    by_id: HashMap<i64, &'a TableInput>,
    /// Files and rows per table id.
    per_table: HashMap<i64, (u64, u64)>,
    /// Iceberg metadata object per `(db, table)`.
    metadata_of: HashMap<(&'a str, &'a str), &'a str>,
}

impl<'a> ManifestDocument<'a> {
    fn new(
        output: &'a ExternalStorage,
        backup: &'a BackupIdentity,
        tables: &'a [TableInput],
        files: &'a [ExportedFile],
        iceberg: &'a [IcebergTableReport],
    ) -> Self {
        let mut per_table: HashMap<i64, (u64, u64)> = HashMap::new();
        for file in files {
            let entry = per_table.entry(file.table_id).or_default();
            entry.0 += 1;
            entry.1 += file.rows;
        }
        let mut sorted: Vec<&ExportedFile> = files.iter().collect();
        sorted.sort_by(|a, b| a.path.cmp(&b.path));
        ManifestDocument {
            output,
            backup,
            tables,
            files: sorted,
            by_id: tables.iter().map(|t| (t.table_id, t)).collect(),
            per_table,
            metadata_of: iceberg
                .iter()
                .map(|r| ((r.db.as_str(), r.table.as_str()), r.metadata.as_str()))
                .collect(),
        }
    }

    fn table_record(&self, table: &TableInput) -> Json {
        let (file_count, rows) = self
            .per_table
            .get(&table.table_id)
            .copied()
            .unwrap_or_default();
        let schema = iceberg_schema(&table.schema, 0, &[]);
        let metadata = self
            .metadata_of
            .get(&(table.db.as_str(), table.table.as_str()));
        json!({
            "db": table.db,
            "table": table.table,
            "table_id": table.table_id,
            "partition_ids": table.partition_ids,
            "location": self.output.url_of(&table.dir),
            "files": file_count,
            "record_count": rows,
            "iceberg_schema": schema.as_ref().ok(),
            "iceberg_schema_error": schema.as_ref().err(),
            "iceberg_metadata": metadata,
        })
    }

    fn file_record(&self, file: &ExportedFile) -> Result<Json> {
        let table = self.by_id.get(&file.table_id).copied();
        let stats = file
            .stats
            .unpack()
            .map_err(|e| Error::iceberg(&file.path, e))?;
        let columns: Vec<Json> = stats
            .columns
            .iter()
            .map(|c| {
                let name = table.and_then(|t| {
                    t.schema
                        .fields()
                        .iter()
                        .find(|f| field_id(f) == Some(c.field_id))
                        .map(|f| f.name().as_str())
                });
                let mut column = json!({
                    "field_id": c.field_id,
                    "name": name,
                    "value_count": c.value_count,
                    "null_count": c.null_count,
                });
                if let Some(nans) = c.nan_count {
                    column["nan_count"] = json!(nans);
                }
                if let Some(size) = c.size {
                    column["size"] = json!(size);
                }
                if let Some(lower) = &c.lower {
                    column["lower_bound"] = lower.to_json();
                }
                if let Some(upper) = &c.upper {
                    column["upper_bound"] = upper.to_json();
                }
                column
            })
            .collect();
        Ok(json!({
            "path": file.path,
            "uri": self.output.url_of(&file.path),
            "format": "parquet",
            "db": table.map(|t| t.db.as_str()),
            "table": table.map(|t| t.table.as_str()),
            "table_id": file.table_id,
            "physical_table_id": stats.single_long(TABLE_ID_FIELD_ID),
            "record_count": file.rows,
            "file_size_in_bytes": file.size,
            "sha256": file.sha256,
            "snapshot_timestamp_ms": self.backup.timestamp_ms(),
            "split_offsets": stats.split_offsets,
            "columns": columns,
        }))
    }
}

impl Serialize for ManifestDocument<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let backup = self.backup;
        let mut document = serializer.serialize_map(Some(6))?;
        document.serialize_entry(
            "backup",
            &json!({
                "cluster_id": backup.cluster_id,
                "start_version": backup.start_version,
                "end_version": backup.end_version,
                "snapshot_timestamp_ms": backup.timestamp_ms(),
            }),
        )?;
        document.serialize_entry("files", &Records(self, RecordKind::Files))?;
        document.serialize_entry("format", MANIFEST_FORMAT)?;
        document.serialize_entry("format_version", &MANIFEST_FORMAT_VERSION)?;
        document.serialize_entry("tables", &Records(self, RecordKind::Tables))?;
        document.serialize_entry("tool_version", env!("CARGO_PKG_VERSION"))?;
        document.end()
    }
}

#[derive(Clone, Copy)]
enum RecordKind {
    Tables,
    Files,
}

/// The document's list of tables or of files, each record made as it is written.
struct Records<'d, 'a>(&'d ManifestDocument<'a>, RecordKind);

impl Serialize for Records<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let Records(document, kind) = self;
        match kind {
            RecordKind::Tables => {
                let mut seq = serializer.serialize_seq(Some(document.tables.len()))?;
                for table in document.tables {
                    seq.serialize_element(&document.table_record(table))?;
                }
                seq.end()
            }
            RecordKind::Files => {
                let mut seq = serializer.serialize_seq(Some(document.files.len()))?;
                for file in &document.files {
                    let record = document.file_record(file).map_err(S::Error::custom)?;
                    seq.serialize_element(&record)?;
                }
                seq.end()
            }
        }
    }
}

/// Writes the manifest to `<prefix>/iceberg-manifest-<end_version>.json`, through a file in
/// `local_dir` (the run's directory of files being written); returns its object name.
pub fn write_manifest(
    output: &ExternalStorage,
    prefix: &str,
    local_dir: &Path,
    backup: &BackupIdentity,
    tables: &[TableInput],
    files: &[ExportedFile],
    iceberg: &[IcebergTableReport],
) -> Result<String> {
    let name = manifest_object_name(prefix, backup.end_version);
    let local = local_dir.join(format!("iceberg-manifest-{}.json", backup.end_version));
    let document = ManifestDocument::new(output, backup, tables, files, iceberg);
    let written = std::fs::File::create(&local)
        .map_err(|e| Error::io(local.display().to_string(), e))
        .and_then(|file| {
            let mut out = BufWriter::new(file);
            serde_json::to_writer_pretty(&mut out, &document)
                .map_err(|e| Error::iceberg(&name, format!("writing the manifest: {e}")))?;
            out.flush()
                .map_err(|e| Error::io(local.display().to_string(), e))
        });
    if let Err(e) = written {
        // Nothing refers to a manifest that was not written.
        let _ = std::fs::remove_file(&local);
        return Err(e);
    }
    output.move_file(&local, &name)?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use arrow_schema::{DataType, Field, Schema};

    use super::*;
    use crate::batch::PARQUET_FIELD_ID_KEY;
    use crate::sink::iceberg::value::Value;
    use crate::sink::iceberg::{ColumnStats, FileStats, PackedStats};

    #[test]
    fn document_fields() {
        let dir = tempfile::tempdir().unwrap();
        let backend = crate::storage::url::parse_url(dir.path().to_str().unwrap()).unwrap();
        let output = ExternalStorage::open(&backend, false).unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("_tidb_table_id", DataType::Int64, false).with_metadata(HashMap::from([(
                PARQUET_FIELD_ID_KEY.to_string(),
                "1".to_string(),
            )])),
            Field::new("price", DataType::Float64, true).with_metadata(HashMap::from([(
                PARQUET_FIELD_ID_KEY.to_string(),
                "103".to_string(),
            )])),
        ]));
        let table = TableInput {
            db: "shop".into(),
            table: "orders".into(),
            table_id: 102,
            dir: "parquet/shop/orders".into(),
            schema,
            partition_ids: vec![],
            incremental: false,
            apply: None,
        };
        let file = ExportedFile {
            path: "parquet/shop/orders/1-2_7.parquet".into(),
            table_id: 102,
            rows: 3,
            size: 1234,
            sha256: "ab".repeat(32),
            stats: PackedStats::pack(&FileStats {
                columns: vec![
                    ColumnStats {
                        field_id: 1,
                        value_count: 3,
                        null_count: 0,
                        nan_count: None,
                        lower: Some(Value::Long(102)),
                        upper: Some(Value::Long(102)),
                        size: Some(40),
                    },
                    ColumnStats {
                        field_id: 103,
                        value_count: 3,
                        null_count: 1,
                        nan_count: Some(1),
                        lower: Some(Value::Double(-2.5)),
                        upper: Some(Value::Double(f64::INFINITY)),
                        size: None,
                    },
                ],
                split_offsets: vec![4],
            })
            .unwrap(),
            ..ExportedFile::default()
        };
        let backup = BackupIdentity {
            cluster_id: 7,
            start_version: 0,
            end_version: 1_700_000_000_000 << 18,
        };
        let scratch = tempfile::tempdir().unwrap();
        let name = write_manifest(
            &output,
            "parquet",
            scratch.path(),
            &backup,
            &[table],
            &[file],
            &[],
        )
        .unwrap();
        assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
        assert_eq!(
            name,
            format!("parquet/iceberg-manifest-{}.json", backup.end_version)
        );
        let doc: Json = serde_json::from_slice(&output.read(&name).unwrap()).unwrap();
        assert_eq!(doc["format"], MANIFEST_FORMAT);
        assert_eq!(doc["backup"]["snapshot_timestamp_ms"], 1_700_000_000_000i64);
        assert_eq!(doc["tables"][0]["iceberg_schema"]["fields"][1]["id"], 103);
        assert_eq!(doc["tables"][0]["files"], 1);
        let f = &doc["files"][0];
        assert_eq!(
            f["uri"],
            format!(
                "file://{}/{}",
                dir.path().display(),
                "parquet/shop/orders/1-2_7.parquet"
            )
        );
        assert_eq!(f["physical_table_id"], 102);
        assert_eq!(f["record_count"], 3);
        assert_eq!(f["sha256"], "ab".repeat(32));
        assert_eq!(f["columns"][1]["name"], "price");
        assert_eq!(f["columns"][1]["nan_count"], 1);
        assert_eq!(f["columns"][1]["lower_bound"], -2.5);
        assert_eq!(f["columns"][1]["upper_bound"], "Infinity");
        assert!(f["columns"][1].get("size").is_none());
        assert_eq!(f["columns"][0]["size"], 40);
    }
}
