//! The JSON manifest of an export (`--write-iceberg-manifest`): one JSON document per run that
//! lists every Parquet file with its row count, size, SHA-256 and column statistics, plus the
//! backup's identity. It is for tools that register files in a catalog themselves (an Iceberg
//! `add_files` call, a Hive metastore, a data-quality check) without reading Parquet footers.
//!
//! Path: `<prefix>/iceberg-manifest-<end_version>.json` (the whole run; a re-export of the same
//! backup replaces it). Every field is described in `docs/iceberg.md`; bounds use Iceberg's JSON
//! single-value serialization ([`super::iceberg::value::Value::to_json`]).

use std::collections::{BTreeMap, HashMap};

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

/// The manifest document.
pub fn manifest_json(
    output: &ExternalStorage,
    backup: &BackupIdentity,
    tables: &[TableInput],
    files: &[ExportedFile],
    iceberg: &[IcebergTableReport],
) -> Result<Json> {
    let mut per_table: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    for file in files {
        let entry = per_table.entry(file.table_id).or_default();
        entry.0 += 1;
        entry.1 += file.rows;
    }
    // Looked up once per table and once per file: a run may hold 100 k of each.
    let by_id: HashMap<i64, &TableInput> = tables.iter().map(|t| (t.table_id, t)).collect();
    let metadata_of: HashMap<(&str, &str), &str> = iceberg
        .iter()
        .map(|r| ((r.db.as_str(), r.table.as_str()), r.metadata.as_str()))
        .collect();
    let tables_json: Vec<Json> = tables
        .iter()
        .map(|table| {
            let (file_count, rows) = per_table.get(&table.table_id).copied().unwrap_or_default();
            let schema = iceberg_schema(&table.schema, 0, &[]);
            let metadata = metadata_of.get(&(table.db.as_str(), table.table.as_str()));
            json!({
                "db": table.db,
                "table": table.table,
                "table_id": table.table_id,
                "partition_ids": table.partition_ids,
                "location": output.url_of(&table.dir),
                "files": file_count,
                "record_count": rows,
                "iceberg_schema": schema.as_ref().ok(),
                "iceberg_schema_error": schema.as_ref().err(),
                "iceberg_metadata": metadata,
            })
        })
        .collect();
    let mut sorted: Vec<&ExportedFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let files_json: Vec<Json> = sorted
        .into_iter()
        .map(|file| {
            let table = by_id.get(&file.table_id).copied();
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
                "uri": output.url_of(&file.path),
                "format": "parquet",
                "db": table.map(|t| t.db.as_str()),
                "table": table.map(|t| t.table.as_str()),
                "table_id": file.table_id,
                "physical_table_id": stats.single_long(TABLE_ID_FIELD_ID),
                "record_count": file.rows,
                "file_size_in_bytes": file.size,
                "sha256": file.sha256,
                "snapshot_timestamp_ms": backup.timestamp_ms(),
                "split_offsets": stats.split_offsets,
                "columns": columns,
            }))
        })
        .collect::<Result<_>>()?;
    Ok(json!({
        "format": MANIFEST_FORMAT,
        "format_version": MANIFEST_FORMAT_VERSION,
        "tool_version": env!("CARGO_PKG_VERSION"),
        "backup": {
            "cluster_id": backup.cluster_id,
            "start_version": backup.start_version,
            "end_version": backup.end_version,
            "snapshot_timestamp_ms": backup.timestamp_ms(),
        },
        "tables": tables_json,
        "files": files_json,
    }))
}

/// Writes the manifest to `<prefix>/iceberg-manifest-<end_version>.json`; returns its object
/// name.
pub fn write_manifest(
    output: &ExternalStorage,
    prefix: &str,
    backup: &BackupIdentity,
    tables: &[TableInput],
    files: &[ExportedFile],
    iceberg: &[IcebergTableReport],
) -> Result<String> {
    let name = manifest_object_name(prefix, backup.end_version);
    let document = manifest_json(output, backup, tables, files, iceberg)?;
    let bytes = serde_json::to_vec_pretty(&document)
        .map_err(|e| Error::iceberg(&name, format!("serializing the manifest: {e}")))?;
    output.put_bytes(&name, bytes.into())?;
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
        let name = write_manifest(&output, "parquet", &backup, &[table], &[file], &[]).unwrap();
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
