//! Per-table Arrow record batches built from TiDB rows.
//!
//! A [`TableBatchBuilder`] collects the raw row values of one table's rows (one memcpy per row into
//! an arena, and one walk over each row's column ids to note where every exported column's cell
//! is) and, when the batch is full, decodes them column by column into Arrow arrays (see
//! `column.rs`). Column-wise decoding keeps the per-type dispatch out of the per-cell loop and
//! fills each builder, sized for the batch, in one place.
//!
//! Every batch starts with system columns that locate the row in TiDB (see [`export_schema`]):
//! * `_tidb_table_id` (INT64): the *physical* table id the row was stored under (a partition's id
//!   for partitioned tables),
//! * `_tidb_handle`: the row handle. INT64 for integer handles (the primary key value for
//!   `pk_is_handle` tables, the hidden `_tidb_rowid` otherwise); BINARY for clustered
//!   (common-handle) primary keys, holding the key's memcomparable handle bytes,
//! * `_tidb_partition` (STRING, partitioned tables only): the partition's name,
//! * `_tidb_op` (STRING, `put` or `delete`) and `_tidb_commit_ts` (INT64), for incremental
//!   backups only.

mod column;
mod default;
pub mod types;

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::codec::key::{encode_common_handle_record_key, encode_record_key, Handle};
use crate::codec::row::Row;
use crate::codec::row_v1::RowV1;
use crate::codec::CodecError;
use crate::meta::TableSchema;
use crate::{Error, Result};
use column::{CellRef, CellSource, ColumnBatch, ColumnCells, ColumnDecoder, RowRef};
use types::ColumnKind;

/// Name of the physical-table-id column.
pub const TABLE_ID_COLUMN: &str = "_tidb_table_id";
/// Name of the row-handle column.
pub const HANDLE_COLUMN: &str = "_tidb_handle";
/// Name of the partition-name column (partitioned tables).
pub const PARTITION_COLUMN: &str = "_tidb_partition";
/// Name of the operation column (incremental backups): `put` or `delete`.
pub const OP_COLUMN: &str = "_tidb_op";
/// Name of the commit-timestamp column (incremental backups).
pub const COMMIT_TS_COLUMN: &str = "_tidb_commit_ts";

/// Iceberg/Parquet field ids of the system columns. Ids 6..=99 are reserved for more.
pub const TABLE_ID_FIELD_ID: i32 = 1;
/// Field id of `_tidb_handle`.
pub const HANDLE_FIELD_ID: i32 = 2;
/// Field id of `_tidb_partition`.
pub const PARTITION_FIELD_ID: i32 = 3;
/// Field id of `_tidb_op`.
pub const OP_FIELD_ID: i32 = 4;
/// Field id of `_tidb_commit_ts`.
pub const COMMIT_TS_FIELD_ID: i32 = 5;
/// TiDB column `c` gets field id `COLUMN_FIELD_ID_BASE + c`. TiDB never reuses column ids, so a
/// column keeps its field id across `ADD`/`DROP COLUMN` and between backups.
pub const COLUMN_FIELD_ID_BASE: i32 = 100;

/// The element of a VECTOR column `c` gets field id `VECTOR_ELEMENT_FIELD_ID_BASE + 100 + c`
/// (Iceberg gives every list element an id of its own).
pub const VECTOR_ELEMENT_FIELD_ID_BASE: i32 = 1 << 30;

/// The Parquet field id of the TiDB column with id `column_id`.
pub fn column_field_id(column_id: i64) -> i32 {
    COLUMN_FIELD_ID_BASE.saturating_add(i32::try_from(column_id).unwrap_or(i32::MAX - 100))
}

/// The Arrow field-metadata key arrow-rs turns into the Parquet field id.
pub const PARQUET_FIELD_ID_KEY: &str = "PARQUET:field_id";

/// Rows per record batch by default. Each column pass reads the whole batch arena again, and the
/// batch is encoded right after it is built, so a batch should stay in the CPU's L2 cache: on
/// `bench.orders` (~250-byte rows) 8 Ki rows use 7 % less CPU per exported row than 64 Ki rows,
/// and 40 % less peak memory (`docs/performance.md`). Row groups are sized separately (1 Mi
/// rows), so this does not make files or row groups smaller.
pub const DEFAULT_BATCH_ROWS: usize = 8 * 1024;
/// Raw row bytes per record batch by default: keeps batches of wide rows as cache-sized as those
/// of narrow ones, and bounds memory.
pub const DEFAULT_BATCH_BYTES: usize = 4 * 1024 * 1024;

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

/// What kind of backup the rows come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackupKind {
    /// A full (snapshot) backup: every row is a put.
    #[default]
    Full,
    /// An incremental backup (`start_version > 0`): rows are puts or deletes, and every TiDB
    /// column is nullable because a delete carries no values.
    Incremental,
}

/// How a table is exported: its Arrow schema and the TiDB columns left out.
#[derive(Debug, Clone)]
pub struct ExportSchema {
    /// The schema of every record batch (and Parquet file) of the table.
    pub arrow: SchemaRef,
    /// Virtual generated columns: never stored, so not exported (recompute them from their
    /// expression). `(name, expression)`.
    pub virtual_columns: Vec<(String, String)>,
}

fn field(name: &str, data_type: DataType, nullable: bool, field_id: i32) -> Field {
    Field::new(name, data_type, nullable).with_metadata(HashMap::from([(
        PARQUET_FIELD_ID_KEY.to_string(),
        field_id.to_string(),
    )]))
}

fn exported_columns(table: &TableSchema) -> impl Iterator<Item = &crate::meta::ColumnSchema> {
    table
        .columns
        .iter()
        .filter(|c| c.generated.as_ref().is_none_or(|g| g.stored))
}

/// The schema `table` is exported with.
pub fn export_schema(table: &TableSchema, kind: BackupKind) -> Result<ExportSchema> {
    let handle_type = if table.is_common_handle {
        DataType::Binary
    } else {
        DataType::Int64
    };
    let mut fields = vec![
        field(TABLE_ID_COLUMN, DataType::Int64, false, TABLE_ID_FIELD_ID),
        field(HANDLE_COLUMN, handle_type, false, HANDLE_FIELD_ID),
    ];
    if !table.partitions.is_empty() {
        fields.push(field(
            PARTITION_COLUMN,
            DataType::Utf8,
            false,
            PARTITION_FIELD_ID,
        ));
    }
    if kind == BackupKind::Incremental {
        fields.push(field(OP_COLUMN, DataType::Utf8, false, OP_FIELD_ID));
        fields.push(field(
            COMMIT_TS_COLUMN,
            DataType::Int64,
            false,
            COMMIT_TS_FIELD_ID,
        ));
    }
    let system: Vec<String> = fields.iter().map(|f| f.name().clone()).collect();
    for column in exported_columns(table) {
        if system.contains(&column.name) {
            return Err(Error::Unsupported(format!(
                "table {}: column {:?} has the name of a br-parquet system column",
                table.qualified_name(),
                column.name
            )));
        }
        let column_kind = ColumnKind::of(column).map_err(|e| in_table(table, e))?;
        let nullable = column.nullable
            || column_kind.may_null_valid_values()
            || kind == BackupKind::Incremental;
        let mut f = field(
            &column.name,
            column_kind.data_type(),
            nullable,
            column_field_id(column.id),
        );
        if column_kind == ColumnKind::VectorF32 {
            let element = field(
                "element",
                DataType::Float32,
                false,
                VECTOR_ELEMENT_FIELD_ID_BASE.saturating_add(column_field_id(column.id)),
            );
            f = field(
                &column.name,
                DataType::List(Arc::new(element)),
                nullable,
                column_field_id(column.id),
            );
        }
        if column_kind == ColumnKind::Json {
            f = f.with_extension_type(arrow_schema::extension::Json::default());
        }
        fields.push(f);
    }
    let virtual_columns = table
        .columns
        .iter()
        .filter_map(|c| match &c.generated {
            Some(g) if !g.stored => Some((c.name.clone(), g.expr.clone())),
            _ => None,
        })
        .collect();
    Ok(ExportSchema {
        arrow: Arc::new(Schema::new(fields)),
        virtual_columns,
    })
}

/// Where a row sits in TiDB.
#[derive(Debug, Clone, Copy)]
pub struct RowKey<'a> {
    /// The physical table (or partition) id from the key.
    pub physical_id: i64,
    /// The handle from the key.
    pub handle: Handle<'a>,
    /// The commit timestamp of the version backed up.
    pub commit_ts: u64,
}

/// What a write record says about the row.
#[derive(Debug, Clone, Copy)]
pub enum RowData<'a> {
    /// The row's value (row format v1 or v2).
    Put(&'a [u8]),
    /// The row was deleted (incremental backups).
    Delete,
}

/// Collects one table's rows and turns them into record batches.
pub struct TableBatchBuilder {
    table: Arc<TableSchema>,
    /// The SST the rows come from, for error messages.
    source: String,
    schema: SchemaRef,
    kind: BackupKind,
    columns: Vec<ColumnDecoder>,
    /// Ids of the columns read from the row value, ascending, and the index of each in `columns`.
    row_column_ids: Vec<u32>,
    row_column_indexes: Vec<usize>,
    limits: BatchLimits,
    values: Vec<u8>,
    value_ends: Vec<usize>,
    /// Where each column's cell of each row is: a row's cells side by side, one per column of
    /// `columns` (see [`ColumnCells`]).
    cells: Vec<CellRef>,
    deleted: Vec<bool>,
    int_handles: Vec<i64>,
    handle_bytes: Vec<u8>,
    handle_ends: Vec<usize>,
    physical_ids: Vec<i64>,
    commit_ts: Vec<u64>,
    /// Rows of the batch in row format v1: while there are none, `finish_batch` need not look at
    /// the values again (each such look is a cache miss in a batch-sized arena).
    v1_rows: usize,
    /// Set in lenient mode: rows that could not be decoded are dropped and recorded here.
    lenient: Option<SkippedRows>,
}

/// How many first skipped keys a table keeps for the report.
pub const MAX_REPORTED_SKIPS: usize = 20;

#[derive(Debug, Default)]
struct SkippedRows {
    count: u64,
    /// `(key in hex, reason)` of the first [`MAX_REPORTED_SKIPS`] rows.
    first: Vec<(String, String)>,
}

impl TableBatchBuilder {
    /// A builder for `table`'s rows read from the SST named `source`.
    pub fn new(
        table: Arc<TableSchema>,
        kind: BackupKind,
        source: &str,
        limits: BatchLimits,
    ) -> Result<Self> {
        let schema = export_schema(&table, kind)?.arrow;
        let columns = exported_columns(&table)
            .map(|column| {
                let column_kind = ColumnKind::of(column)?;
                let handle_index = table.common_handle_columns.iter().position(|h| {
                    table
                        .columns
                        .get(h.column_index)
                        .is_some_and(|c| c.id == column.id)
                });
                let source = match handle_index {
                    _ if column.is_pk_handle => CellSource::IntHandle,
                    Some(index) if table.is_common_handle => CellSource::RowOrCommonHandle {
                        id: column.id,
                        index,
                    },
                    _ => CellSource::Row(column.id),
                };
                let default = default::default_payload(column, column_kind)?;
                let nullable = column.nullable || kind == BackupKind::Incremental;
                let arrow_type = schema
                    .field_with_name(&column.name)
                    .map(|f| f.data_type().clone())
                    .unwrap_or_else(|_| column_kind.data_type());
                Ok(ColumnDecoder::new(
                    column,
                    column_kind,
                    source,
                    default,
                    nullable,
                    &arrow_type,
                ))
            })
            .collect::<Result<Vec<_>>>()
            .map_err(|e| in_table(&table, e))?;
        let mut row_columns: Vec<(u32, usize)> = columns
            .iter()
            .enumerate()
            .filter_map(|(index, column)| match column.source {
                CellSource::IntHandle => None,
                // A negative or huge id is never in a row; `locate_sorted` then reports it absent.
                _ => Some((u32::try_from(column.id).unwrap_or(u32::MAX), index)),
            })
            .collect();
        row_columns.sort_unstable();
        let (row_column_ids, row_column_indexes) = row_columns.into_iter().unzip();
        Ok(TableBatchBuilder {
            table,
            source: source.to_string(),
            schema,
            kind,
            columns,
            row_column_ids,
            row_column_indexes,
            limits,
            values: Vec::new(),
            value_ends: Vec::new(),
            cells: Vec::new(),
            deleted: Vec::new(),
            int_handles: Vec::new(),
            handle_bytes: Vec::new(),
            handle_ends: Vec::new(),
            physical_ids: Vec::new(),
            commit_ts: Vec::new(),
            v1_rows: 0,
            lenient: None,
        })
    }

    /// Drops (and records) undecodable rows instead of failing: `--lenient`.
    pub fn lenient(mut self) -> Self {
        self.lenient = Some(SkippedRows::default());
        self
    }

    /// The schema of the batches this builder produces.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Rows collected and not yet turned into a batch.
    pub fn len(&self) -> usize {
        self.physical_ids.len()
    }

    /// Whether no row is waiting.
    pub fn is_empty(&self) -> bool {
        self.physical_ids.is_empty()
    }

    /// Zero or invalid dates written as NULL so far, by column.
    pub fn invalid_dates(&self) -> Vec<(String, u64)> {
        self.columns
            .iter()
            .filter(|c| c.invalid_dates > 0)
            .map(|c| (c.name.clone(), c.invalid_dates))
            .collect()
    }

    /// Adds one row. Returns `true` when the batch is full and [`Self::finish_batch`] should be
    /// called.
    pub fn push_row(&mut self, key: &RowKey<'_>, data: RowData<'_>) -> Result<bool> {
        match self.try_push_row(key, data) {
            Ok(full) => Ok(full),
            Err(Error::Decode { key, message, .. }) if self.lenient.is_some() => {
                self.record_skip(key, message);
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    fn try_push_row(&mut self, key: &RowKey<'_>, data: RowData<'_>) -> Result<bool> {
        match (key.handle, self.table.is_common_handle) {
            (Handle::Int(h), false) => self.int_handles.push(h),
            (Handle::Common(bytes), true) => {
                self.handle_bytes.extend_from_slice(bytes);
                self.handle_ends.push(self.handle_bytes.len());
            }
            _ => {
                return Err(self.decode_error(
                    key,
                    "the key's handle kind does not match the table's primary key".into(),
                ))
            }
        }
        match data {
            RowData::Put(value) => {
                // Offsets into the arena are kept as u32 (see `CellRef`).
                let Ok(base) = u32::try_from(self.values.len()) else {
                    self.truncate_last_handle();
                    return Err(self.decode_error(key, "a record batch over 4 GiB".into()));
                };
                if u32::try_from(self.values.len() + value.len()).is_err() {
                    self.truncate_last_handle();
                    return Err(self.decode_error(key, "a record batch over 4 GiB".into()));
                }
                // Parse (and validate) the header once, while the key is at hand for the error
                // message, and note where each exported column's cell is.
                match Row::parse(value) {
                    Ok(Row::V2(row)) => {
                        let cells = new_row_cells(&mut self.cells, self.columns.len());
                        let indexes = &self.row_column_indexes;
                        row.locate_sorted(&self.row_column_ids, |i, span| {
                            if let Some(cell) = indexes.get(i).and_then(|&c| cells.get_mut(c)) {
                                *cell = CellRef::from_span(base, span);
                            }
                        });
                    }
                    Ok(Row::V1(_)) => {
                        self.v1_rows += 1;
                        self.push_row_cells(CellRef::V1);
                    }
                    Err(e) => {
                        self.truncate_last_handle();
                        return Err(self.codec_error(key, e));
                    }
                }
                self.values.extend_from_slice(value);
                self.deleted.push(false);
            }
            RowData::Delete => {
                if self.kind == BackupKind::Full {
                    self.truncate_last_handle();
                    return Err(self.decode_error(
                        key,
                        "a Delete record in a full backup (start_version 0)".into(),
                    ));
                }
                self.push_row_cells(CellRef::Null);
                self.deleted.push(true);
            }
        }
        self.value_ends.push(self.values.len());
        self.physical_ids.push(key.physical_id);
        self.commit_ts.push(key.commit_ts);
        Ok(self.len() >= self.limits.max_rows
            || self.values.len() + self.handle_bytes.len() >= self.limits.max_bytes)
    }

    /// Gives every column read from the row value the cell `cell` for the row being pushed.
    fn push_row_cells(&mut self, cell: CellRef) {
        let cells = new_row_cells(&mut self.cells, self.columns.len());
        for &index in &self.row_column_indexes {
            if let Some(row_cell) = cells.get_mut(index) {
                *row_cell = cell;
            }
        }
    }

    fn truncate_last_handle(&mut self) {
        if self.table.is_common_handle {
            self.handle_ends.pop();
            self.handle_bytes
                .truncate(self.handle_ends.last().copied().unwrap_or(0));
        } else {
            self.int_handles.pop();
        }
    }

    /// Decodes the collected rows into a record batch; `None` when there are none.
    ///
    /// In lenient mode a row that cannot be decoded is dropped (and recorded) and the batch is
    /// decoded again without it; that costs a batch, but only when data is bad.
    pub fn finish_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            match self.build_batch() {
                Ok(batch) => return Ok(batch),
                Err((row, error)) => {
                    let (Some(row), true, Error::Decode { key, message, .. }) =
                        (row, self.lenient.is_some(), &error)
                    else {
                        return Err(error);
                    };
                    let (key, message) = (key.clone(), message.clone());
                    self.remove_row(row);
                    self.record_skip(key, message);
                }
            }
        }
    }

    /// Rows dropped in lenient mode: how many, and the first keys with the reason.
    pub fn skipped_rows(&self) -> (u64, &[(String, String)]) {
        match &self.lenient {
            Some(l) => (l.count, &l.first),
            None => (0, &[]),
        }
    }

    fn record_skip(&mut self, key: String, message: String) {
        if let Some(l) = &mut self.lenient {
            l.count += 1;
            if l.first.len() < MAX_REPORTED_SKIPS {
                l.first.push((key, message));
            }
        }
    }

    /// Removes row `i` of the current batch from the arena.
    fn remove_row(&mut self, i: usize) {
        let start = i
            .checked_sub(1)
            .and_then(|p| self.value_ends.get(p))
            .copied()
            .unwrap_or(0);
        if let Some(&end) = self.value_ends.get(i) {
            if is_v1_row(
                self.values.get(start..end).unwrap_or_default(),
                self.deleted.get(i),
            ) {
                self.v1_rows = self.v1_rows.saturating_sub(1);
            }
            self.values.drain(start..end);
            for e in self.value_ends.iter_mut().skip(i + 1) {
                *e -= end - start;
            }
            self.value_ends.remove(i);
            // The cells of later rows moved down with their values.
            let removed = u32::try_from(end - start).unwrap_or(u32::MAX);
            let width = self.columns.len();
            let row_cells =
                (i * width).min(self.cells.len())..((i + 1) * width).min(self.cells.len());
            self.cells.drain(row_cells);
            for cell in self.cells.iter_mut().skip(i * width) {
                if let CellRef::Value { start, .. } = cell {
                    *start = start.saturating_sub(removed);
                }
            }
        }
        if self.table.is_common_handle {
            let start = i
                .checked_sub(1)
                .and_then(|p| self.handle_ends.get(p))
                .copied()
                .unwrap_or(0);
            if let Some(&end) = self.handle_ends.get(i) {
                self.handle_bytes.drain(start..end);
                for e in self.handle_ends.iter_mut().skip(i + 1) {
                    *e -= end - start;
                }
                self.handle_ends.remove(i);
            }
        } else if i < self.int_handles.len() {
            self.int_handles.remove(i);
        }
        if i < self.physical_ids.len() {
            self.physical_ids.remove(i);
        }
        if i < self.commit_ts.len() {
            self.commit_ts.remove(i);
        }
        if i < self.deleted.len() {
            self.deleted.remove(i);
        }
    }

    /// One attempt at decoding the batch; on failure, the failing row (when known) and the error.
    fn build_batch(&mut self) -> std::result::Result<Option<RecordBatch>, (Option<usize>, Error)> {
        if self.is_empty() {
            return Ok(None);
        }
        let n = self.len();
        let mut rows = Vec::with_capacity(n);
        let mut start = 0;
        let mut handle_start = 0;
        for i in 0..n {
            let end = self.value_ends.get(i).copied().unwrap_or(start);
            let bytes = self.values.get(start..end).unwrap_or_default();
            start = end;
            let (int_handle, common_handle) = if self.table.is_common_handle {
                let handle_end = self.handle_ends.get(i).copied().unwrap_or(handle_start);
                let handle = self
                    .handle_bytes
                    .get(handle_start..handle_end)
                    .unwrap_or_default();
                handle_start = handle_end;
                (0, handle)
            } else {
                (
                    self.int_handles.get(i).copied().unwrap_or_default(),
                    &[][..],
                )
            };
            // Row v2 cells were located in `push_row`; a v1 row is looked up column by column.
            let v1 = if self.v1_rows > 0 && is_v1_row(bytes, self.deleted.get(i)) {
                Some(
                    RowV1::from_bytes(bytes)
                        .map_err(|e| (Some(i), self.row_error(i, e.to_string())))?,
                )
            } else {
                None
            };
            rows.push(RowRef {
                v1,
                int_handle,
                common_handle,
            });
        }
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        arrays.push(Arc::new(Int64Array::from_iter_values(
            self.physical_ids.iter().copied(),
        )));
        if self.table.is_common_handle {
            let mut b = BinaryBuilder::with_capacity(n, self.handle_bytes.len());
            for row in &rows {
                b.append_value(row.common_handle);
            }
            arrays.push(Arc::new(b.finish()));
        } else {
            arrays.push(Arc::new(Int64Array::from_iter_values(
                self.int_handles.iter().copied(),
            )));
        }
        if !self.table.partitions.is_empty() {
            let mut b = StringBuilder::with_capacity(n, n * 8);
            let mut last: Option<(i64, &str)> = None;
            for (i, id) in self.physical_ids.iter().enumerate() {
                let name = match last {
                    Some((last_id, name)) if last_id == *id => name,
                    _ => {
                        let name = self
                            .table
                            .partitions
                            .iter()
                            .find(|p| p.id == *id)
                            .map(|p| p.name.as_str())
                            .ok_or_else(|| {
                                (
                                    Some(i),
                                    self.row_error(i, format!("no partition has id {id}")),
                                )
                            })?;
                        last = Some((*id, name));
                        name
                    }
                };
                b.append_value(name);
            }
            arrays.push(Arc::new(b.finish()));
        }
        if self.kind == BackupKind::Incremental {
            let mut ops = StringBuilder::with_capacity(n, n * 6);
            for deleted in &self.deleted {
                ops.append_value(if *deleted { "delete" } else { "put" });
            }
            arrays.push(Arc::new(ops.finish()));
            let mut ts = Int64Builder::with_capacity(n);
            for commit_ts in &self.commit_ts {
                ts.append_value(i64::try_from(*commit_ts).unwrap_or(i64::MAX));
            }
            arrays.push(Arc::new(ts.finish()));
        }
        let cells = (&self.cells[..], self.columns.len());
        let decoded = match decode_columns(&mut self.columns, &rows, cells, &self.values) {
            Ok(decoded) => decoded,
            Err(_) => {
                // Which error to report when several cells are bad: the first column's first,
                // as when the columns were decoded one whole column after another.
                let (row, message) = first_failure(&mut self.columns, &rows, cells, &self.values);
                drop(rows);
                return Err((Some(row), self.row_error(row, message)));
            }
        };
        drop(rows);
        for (column, (array, invalid_dates)) in self.columns.iter_mut().zip(decoded) {
            arrays.push(array);
            column.invalid_dates += invalid_dates;
        }
        self.cells.clear();
        self.values.clear();
        self.value_ends.clear();
        self.deleted.clear();
        self.int_handles.clear();
        self.handle_bytes.clear();
        self.handle_ends.clear();
        self.physical_ids.clear();
        self.commit_ts.clear();
        self.v1_rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays)
            .map(Some)
            .map_err(|e| (None, Error::from(e)))
    }

    /// The error for row `i` of the current batch, naming its key.
    fn row_error(&self, i: usize, message: String) -> Error {
        let physical_id = self.physical_ids.get(i).copied().unwrap_or_default();
        let key = if self.table.is_common_handle {
            let start = i
                .checked_sub(1)
                .and_then(|p| self.handle_ends.get(p))
                .copied()
                .unwrap_or(0);
            let end = self.handle_ends.get(i).copied().unwrap_or(start);
            encode_common_handle_record_key(
                physical_id,
                self.handle_bytes.get(start..end).unwrap_or_default(),
            )
        } else {
            encode_record_key(
                physical_id,
                self.int_handles.get(i).copied().unwrap_or_default(),
            )
        };
        Error::decode(
            self.source.clone(),
            self.table.qualified_name(),
            &key,
            message,
        )
    }

    fn decode_error(&self, key: &RowKey<'_>, message: String) -> Error {
        Error::decode(
            self.source.clone(),
            self.table.qualified_name(),
            &raw_record_key(key),
            message,
        )
    }

    fn codec_error(&self, key: &RowKey<'_>, error: CodecError) -> Error {
        Error::codec(
            self.source.clone(),
            self.table.qualified_name(),
            &raw_record_key(key),
            error,
        )
    }
}

/// The cells of a new row appended to a table of `width` cells a row, each [`CellRef::Absent`]
/// (which the columns taken from the key handle keep).
fn new_row_cells(cells: &mut Vec<CellRef>, width: usize) -> &mut [CellRef] {
    let first = cells.len();
    cells.resize(first + width, CellRef::Absent);
    cells.get_mut(first..).unwrap_or_default()
}

/// Rows a batch is decoded in at a time, column by column: the chunk's row values (~100 B–1 KiB
/// each) stay in the L2 cache while every column reads its cells from them, where a whole batch's
/// arena (a few MiB) would be fetched again from memory by each column.
const DECODE_CHUNK_ROWS: usize = 1024;

/// Every column's array of the batch (`rows`, values in `arena`) and its count of dates written
/// as NULL, decoded [`DECODE_CHUNK_ROWS`] rows at a time. On failure, some failing row and why.
fn decode_columns(
    columns: &mut [ColumnDecoder],
    rows: &[RowRef<'_>],
    (cells, width): (&[CellRef], usize),
    arena: &[u8],
) -> std::result::Result<Vec<(ArrayRef, u64)>, (usize, String)> {
    let mut batches: Vec<ColumnBatch> = columns
        .iter()
        .enumerate()
        .map(|(index, column)| column.start_batch(ColumnCells::new(cells, width, index)))
        .collect();
    for (chunk_index, chunk) in rows.chunks(DECODE_CHUNK_ROWS).enumerate() {
        let first = chunk_index * DECODE_CHUNK_ROWS;
        for (index, (column, batch)) in columns.iter_mut().zip(&mut batches).enumerate() {
            let column_cells = ColumnCells::new(cells, width, index);
            column.decode_rows(batch, chunk, first, column_cells, arena)?;
        }
    }
    batches.into_iter().map(ColumnBatch::finish).collect()
}

/// The failure a batch's decoding reports: the first failing column's first failing row, and
/// why, naming the column.
fn first_failure(
    columns: &mut [ColumnDecoder],
    rows: &[RowRef<'_>],
    (cells, width): (&[CellRef], usize),
    arena: &[u8],
) -> (usize, String) {
    for (index, column) in columns.iter_mut().enumerate() {
        let column_cells = ColumnCells::new(cells, width, index);
        let mut batch = column.start_batch(column_cells);
        let decoded = column
            .decode_rows(&mut batch, rows, 0, column_cells, arena)
            .and_then(|()| batch.finish());
        if let Err((row, message)) = decoded {
            return (
                row,
                format!("column {:?} (id {}): {message}", column.name, column.id),
            );
        }
    }
    (
        0,
        "the batch failed to decode, but no column fails alone".into(),
    )
}

/// Whether a collected row value (`deleted`: the row's delete flag) is in row format v1.
fn is_v1_row(value: &[u8], deleted: Option<&bool>) -> bool {
    !value.is_empty() && deleted != Some(&true) && !Row::is_v2(value)
}

/// The TiDB record key of a row.
fn raw_record_key(key: &RowKey<'_>) -> Vec<u8> {
    match key.handle {
        Handle::Int(h) => encode_record_key(key.physical_id, h),
        Handle::Common(bytes) => encode_common_handle_record_key(key.physical_id, bytes),
    }
}

fn in_table(table: &TableSchema, error: Error) -> Error {
    match error {
        Error::Unsupported(message) => {
            Error::Unsupported(format!("table {}: {message}", table.qualified_name()))
        }
        other => other,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::meta::parse_schema;
    use crate::testkit::{tp, Cell, TestColumn, TestRow, TestTable};
    use arrow_array::Array;

    /// 3 000 rows (three decode chunks) of `id`, `d DATE`, `n INT`: zero dates in rows 10 and 20,
    /// a bad `n` (a 3-byte payload) in row 100, a bad `d` in row 2 500.
    fn dirty_rows() -> (Arc<TableSchema>, Vec<Vec<u8>>) {
        let table = TestTable::new(
            "db",
            "t",
            90,
            vec![
                TestColumn::new(1, "id", tp::LONGLONG).primary_key(),
                TestColumn::time(2, "d", tp::DATE, 0),
                TestColumn::new(3, "n", tp::LONG),
            ],
        );
        let values = (0..3000i64)
            .map(|id| {
                let date = match id {
                    10 | 20 => Cell::time(0, 0, 0, 0, 0, 0, 0),
                    2500 => Cell::Bytes(vec![1, 2, 3]),
                    _ => Cell::time(2024, 1, 1 + (id % 28) as u8, 0, 0, 0, 0),
                };
                let n = if id == 100 {
                    Cell::Bytes(vec![1, 2, 3])
                } else {
                    Cell::Int(id)
                };
                table
                    .encode_row(&TestRow::new(id, vec![(2, date), (3, n)]))
                    .unwrap()
            })
            .collect();
        let schema = parse_schema(&table.schema_message()).unwrap().unwrap();
        (Arc::new(schema), values)
    }

    fn push_all(builder: &mut TableBatchBuilder, values: &[Vec<u8>]) {
        for (id, value) in values.iter().enumerate() {
            let key = RowKey {
                physical_id: 90,
                handle: Handle::Int(id as i64),
                commit_ts: 1,
            };
            builder.push_row(&key, RowData::Put(value)).unwrap();
        }
    }

    #[test]
    fn decoding_by_chunks_reports_the_first_columns_error_first() {
        let (table, values) = dirty_rows();
        let limits = BatchLimits {
            max_rows: 10_000,
            ..BatchLimits::default()
        };
        let mut strict =
            TableBatchBuilder::new(table.clone(), BackupKind::Full, "a.sst", limits).unwrap();
        push_all(&mut strict, &values);
        // Row 100's bad integer is decoded before row 2 500's bad date, but `d` comes first.
        let error = strict.finish_batch().unwrap_err().to_string();
        assert!(error.contains(r#"column "d" (id 2)"#), "{error}");
        assert!(error.contains("5f7280000000000009c4"), "{error}");

        let mut lenient = TableBatchBuilder::new(table, BackupKind::Full, "a.sst", limits)
            .unwrap()
            .lenient();
        push_all(&mut lenient, &values);
        let batch = lenient.finish_batch().unwrap().unwrap();
        assert_eq!(batch.num_rows(), 2998);
        let (count, first) = lenient.skipped_rows();
        assert_eq!(count, 2);
        assert!(first[0].0.ends_with("5f7280000000000009c4"), "{first:?}");
        assert!(first[1].0.ends_with("5f728000000000000064"), "{first:?}");
        // The zero dates are counted once, though the batch was decoded three times.
        assert_eq!(lenient.invalid_dates(), vec![("d".to_string(), 2)]);
        let d = batch.column_by_name("d").unwrap();
        assert_eq!(d.null_count(), 2);
        assert!(d.is_null(10) && d.is_null(20));
        let n = batch.column_by_name("n").unwrap();
        let n = n
            .as_any()
            .downcast_ref::<arrow_array::Int32Array>()
            .unwrap();
        // Rows 100 and 2 500 are gone: row 2 998 of the batch is id 2 999.
        assert_eq!(n.value(99), 99);
        assert_eq!(n.value(100), 101);
        assert_eq!(n.value(2997), 2999);
    }
}
