//! Per-table Arrow record batches built from TiDB rows.
//!
//! A [`TableBatchBuilder`] collects the raw row values of one table's rows (one memcpy per row into
//! an arena) and, when the batch is full, decodes them column by column into Arrow arrays
//! (see [`column`]). Column-wise decoding keeps the per-type dispatch out of the per-cell loop and lets
//! each builder grow in one place.
//!
//! Every batch starts with two columns that locate the row in TiDB:
//! * `_tidb_table_id` (INT64): the *physical* table id the row was stored under (a partition's id for
//!   partitioned tables),
//! * `_tidb_handle` (INT64): the row's integer handle: the primary key value for `pk_is_handle`
//!   tables, the hidden `_tidb_rowid` otherwise.

mod column;
pub mod types;

use std::sync::Arc;

use arrow_array::builder::Int64Builder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema, SchemaRef};

use crate::codec::key::encode_record_key;
use crate::codec::number::{encode_cmp_f64, encode_v2_int, encode_v2_uint};
use crate::codec::row_v2::RowSlice;
use crate::meta::{ColumnSchema, TableSchema};
use crate::{Error, Result};
use column::{CellSource, ColumnDecoder, RowRef};
use types::ColumnKind;

/// Name of the physical-table-id column.
pub const TABLE_ID_COLUMN: &str = "_tidb_table_id";
/// Name of the row-handle column.
pub const HANDLE_COLUMN: &str = "_tidb_handle";

/// Rows per record batch by default: large enough that per-batch costs vanish, small enough
/// that a batch of wide rows stays in cache-friendly tens of MiB.
pub const DEFAULT_BATCH_ROWS: usize = 64 * 1024;
/// Raw row bytes per record batch by default; bounds memory for wide rows.
pub const DEFAULT_BATCH_BYTES: usize = 32 * 1024 * 1024;

/// The first byte of a row in format v2.
const ROW_V2_VERSION: u8 = 0x80;

/// Limits of one record batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    /// Flush after this many rows.
    pub max_rows: usize,
    /// Flush after this many bytes of raw row values.
    pub max_bytes: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_rows: DEFAULT_BATCH_ROWS,
            max_bytes: DEFAULT_BATCH_BYTES,
        }
    }
}

/// The Arrow schema a table is exported with.
pub fn arrow_schema(table: &TableSchema) -> Result<SchemaRef> {
    let mut fields = vec![
        Field::new(TABLE_ID_COLUMN, arrow_schema::DataType::Int64, false),
        Field::new(HANDLE_COLUMN, arrow_schema::DataType::Int64, false),
    ];
    for column in &table.columns {
        let kind = ColumnKind::of(column).map_err(|e| in_table(table, e))?;
        fields.push(Field::new(&column.name, kind.data_type(), column.nullable));
    }
    Ok(Arc::new(Schema::new(fields)))
}

/// Collects one table's rows and turns them into record batches.
pub struct TableBatchBuilder {
    table: Arc<TableSchema>,
    /// The SST the rows come from, for error messages.
    source: String,
    schema: SchemaRef,
    columns: Vec<ColumnDecoder>,
    limits: BatchLimits,
    values: Vec<u8>,
    value_ends: Vec<usize>,
    handles: Vec<i64>,
    physical_ids: Vec<i64>,
}

impl TableBatchBuilder {
    /// A builder for `table`'s rows read from the SST named `source`.
    pub fn new(table: Arc<TableSchema>, source: &str, limits: BatchLimits) -> Result<Self> {
        if table.is_common_handle {
            return Err(Error::Unsupported(format!(
                "table {} has a clustered (common handle) primary key, which this version cannot \
                 export yet",
                table.qualified_name()
            )));
        }
        let schema = arrow_schema(&table)?;
        let columns = table
            .columns
            .iter()
            .map(|column| {
                let kind = ColumnKind::of(column)?;
                let source = if column.is_pk_handle {
                    CellSource::IntHandle
                } else {
                    CellSource::Row(column.id)
                };
                let default = default_payload(column, kind)?;
                Ok(ColumnDecoder::new(column, kind, source, default))
            })
            .collect::<Result<Vec<_>>>()
            .map_err(|e| in_table(&table, e))?;
        Ok(TableBatchBuilder {
            table,
            source: source.to_string(),
            schema,
            columns,
            limits,
            values: Vec::new(),
            value_ends: Vec::new(),
            handles: Vec::new(),
            physical_ids: Vec::new(),
        })
    }

    /// The schema of the batches this builder produces.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Rows collected and not yet turned into a batch.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Whether no row is waiting.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// Adds one row. Returns `true` when the batch is full and [`Self::finish_batch`] should be called.
    pub fn push_row(&mut self, physical_id: i64, handle: i64, value: &[u8]) -> Result<bool> {
        match value.first() {
            Some(&ROW_V2_VERSION) => {
                // Validate the header now, while the key is at hand for the error message.
                RowSlice::from_bytes(value)
                    .map_err(|e| self.decode_error(physical_id, handle, e.to_string()))?;
            }
            _ => {
                return Err(Error::Unsupported(format!(
                    "{}: table {}: row format v1 (key {}) is not supported by this version yet",
                    self.source,
                    self.table.qualified_name(),
                    hex::encode(encode_record_key(physical_id, handle))
                )))
            }
        }
        self.values.extend_from_slice(value);
        self.value_ends.push(self.values.len());
        self.handles.push(handle);
        self.physical_ids.push(physical_id);
        Ok(self.len() >= self.limits.max_rows || self.values.len() >= self.limits.max_bytes)
    }

    /// Decodes the collected rows into a record batch; `None` when there are none.
    pub fn finish_batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.is_empty() {
            return Ok(None);
        }
        let mut rows = Vec::with_capacity(self.len());
        let mut start = 0;
        for (end, handle) in self.value_ends.iter().zip(&self.handles) {
            let bytes = self.values.get(start..*end).unwrap_or_default();
            // Headers were validated in `push_row`.
            let value = RowSlice::from_bytes(bytes).map_err(|e| Error::Decode {
                file: self.source.clone(),
                table: self.table.qualified_name(),
                key: String::new(),
                message: e.to_string(),
            })?;
            rows.push(RowRef {
                value,
                handle: *handle,
            });
            start = *end;
        }
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len() + 2);
        let mut ids = Int64Builder::with_capacity(self.len());
        ids.append_slice(&self.physical_ids);
        arrays.push(Arc::new(ids.finish()));
        let mut handles = Int64Builder::with_capacity(self.len());
        handles.append_slice(&self.handles);
        arrays.push(Arc::new(handles.finish()));
        for column in &mut self.columns {
            if let Err((row, message)) = column.decode(&rows) {
                let physical_id = self.physical_ids.get(row).copied().unwrap_or_default();
                let handle = self.handles.get(row).copied().unwrap_or_default();
                return Err(Error::Decode {
                    file: self.source.clone(),
                    table: self.table.qualified_name(),
                    key: hex::encode(encode_record_key(physical_id, handle)),
                    message: format!("column {:?} (id {}): {message}", column.name, column.id),
                });
            }
            arrays.push(column.finish());
        }
        drop(rows);
        self.values.clear();
        self.value_ends.clear();
        self.handles.clear();
        self.physical_ids.clear();
        Ok(Some(RecordBatch::try_new(self.schema.clone(), arrays)?))
    }

    fn decode_error(&self, physical_id: i64, handle: i64, message: String) -> Error {
        Error::Decode {
            file: self.source.clone(),
            table: self.table.qualified_name(),
            key: hex::encode(encode_record_key(physical_id, handle)),
            message,
        }
    }
}

/// The v2 payload a row written before the column existed stands for (TiDB's `origin_default`),
/// or `None` for NULL.
fn default_payload(column: &ColumnSchema, kind: ColumnKind) -> Result<Option<Vec<u8>>> {
    let Some(value) = &column.origin_default else {
        return Ok(None);
    };
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => u8::from(*b).to_string(),
        other => {
            return Err(Error::Unsupported(format!(
                "column {:?}: origin default {other} has an unexpected JSON shape",
                column.name
            )))
        }
    };
    let bad = |what: &str| {
        Error::Unsupported(format!(
            "column {:?}: origin default {text:?} is not a valid {what}",
            column.name
        ))
    };
    let mut payload = Vec::new();
    match kind {
        ColumnKind::Int32 | ColumnKind::Int64 => encode_v2_int(
            text.trim().parse::<i64>().map_err(|_| bad("integer"))?,
            &mut payload,
        ),
        ColumnKind::UInt32AsInt32 | ColumnKind::UInt32AsInt64 | ColumnKind::UInt64AsDecimal => {
            encode_v2_uint(
                text.trim()
                    .parse::<u64>()
                    .map_err(|_| bad("unsigned integer"))?,
                &mut payload,
            )
        }
        ColumnKind::Float32 | ColumnKind::Float64 => payload.extend_from_slice(&encode_cmp_f64(
            text.trim().parse::<f64>().map_err(|_| bad("number"))?,
        )),
        ColumnKind::Utf8 | ColumnKind::Binary => payload = text.into_bytes(),
    }
    Ok(Some(payload))
}

fn in_table(table: &TableSchema, error: Error) -> Error {
    match error {
        Error::Unsupported(message) => {
            Error::Unsupported(format!("table {}: {message}", table.qualified_name()))
        }
        other => other,
    }
}
