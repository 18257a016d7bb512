//! An incremental backup applied to the Iceberg table of the backup it follows.
//!
//! Spec: <https://iceberg.apache.org/spec/> ("Row-level Deletes", "Position Delete Files",
//! "Scan Planning"); facts in `../shared/spec/iceberg.md` §3.5.
//!
//! An incremental backup holds, for each key changed in `(start, end]`, its newest write record:
//! a put (the row as of `end`) or a delete. The export writes them as change files (`_tidb_op`).
//! Applying them makes one snapshot that
//! 1. appends the puts as data files in the table's own schema,
//! 2. removes every earlier version of a changed key with position deletes: only live data files
//!    whose `_tidb_table_id` / `_tidb_handle` bounds may hold a changed key are read, and of them
//!    only those two columns; the positions found go to one position delete file per partition
//!    (a position delete applies to the data files of its own partition), sorted by file path
//!    and position as the spec asks.
//!
//! The put files are named after their change files, so a re-run after a kill writes the same
//! objects again. Memory grows with the changed keys of one table (a `BTreeMap` entry each, and
//! a set entry for each key found in the table: up to about 100 bytes per key for an integer
//! handle), not with the table.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BinaryArray, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use bytes::{Buf, Bytes};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::file::metadata::ParquetMetaDataReader;
use parquet::file::reader::{ChunkReader, Length};
use serde::Serialize;

use crate::batch::{HANDLE_COLUMN, OP_COLUMN, PARQUET_FIELD_ID_KEY, TABLE_ID_COLUMN};
use crate::sink::parquet::{ParquetFileWriter, ParquetOptions, WrittenFile};
use crate::storage::ExternalStorage;
use crate::{Error, Result};

/// Field id of a position delete file's `file_path` column (reserved by the spec).
pub const DELETE_FILE_PATH_FIELD_ID: i32 = 2_147_483_546;
/// Field id of a position delete file's `pos` column (reserved by the spec).
pub const DELETE_POS_FIELD_ID: i32 = 2_147_483_545;
/// Name of the directory, inside the table directory, of the files one incremental adds.
pub fn incremental_dir(table_dir: &str, end_version: u64) -> String {
    format!("{table_dir}/incremental-{end_version}")
}

/// A row's handle, as `_tidb_handle` holds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Handle {
    /// An integer handle (`pk_is_handle` or `_tidb_rowid`).
    Int(i64),
    /// A clustered primary key's memcomparable bytes.
    Common(Box<[u8]>),
}

/// A row's identity: its physical table id and its handle.
pub type RowKey = (i64, Handle);

/// What applying one incremental backup did to one table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// The end version the table held before (the incremental's start version).
    pub from_version: u64,
    /// The end version it holds now.
    pub to_version: u64,
    /// Puts of keys the table did not hold.
    pub rows_inserted: u64,
    /// Puts of keys the table held: the old row removed, the new one added.
    pub rows_updated: u64,
    /// Deletes of keys the table held.
    pub rows_deleted: u64,
    /// Deletes of keys the table did not hold (a row inserted and deleted between the two
    /// backups, or never there): nothing to remove.
    pub absent_deletes: u64,
    /// Rows of data files removed whole because their physical table id is gone (TRUNCATE
    /// TABLE, TRUNCATE or DROP PARTITION).
    pub rows_of_removed_files: u64,
    /// Position delete files written.
    pub delete_files: u64,
    /// Data files of new rows added.
    pub data_files_added: u64,
    /// Existing data files given position deletes.
    pub data_files_touched: u64,
    /// Existing data files removed whole.
    pub data_files_removed: u64,
    /// Schema changes: `added column c (field 105)`, `dropped column d`, ...
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schema_changes: Vec<String>,
}

/// The keys one incremental backup changed in one table, each with whether its newest record is
/// a put.
#[derive(Debug, Default)]
pub struct Changes {
    keys: BTreeMap<RowKey, bool>,
}

impl Changes {
    /// Records `key`'s newest record.
    fn insert(&mut self, key: RowKey, put: bool, file: &str) -> Result<()> {
        if self.keys.insert(key.clone(), put).is_some() {
            // BR backs up one record per key; two mean the backup is not what it claims.
            return Err(Error::iceberg(
                file,
                format!("key {key:?} is changed twice in one incremental backup"),
            ));
        }
        Ok(())
    }

    /// Whether a data file whose keys lie between `lower` and `upper` (bounds of its
    /// `_tidb_table_id` and `_tidb_handle`, `None` when unknown) may hold a changed key.
    pub fn may_hold(
        &self,
        table_ids: (Option<i64>, Option<i64>),
        handles: (Option<&Handle>, Option<&Handle>),
    ) -> bool {
        let (Some(first), Some(last)) = table_ids else {
            return !self.keys.is_empty();
        };
        if first != last {
            // The handle bounds span several physical tables: any changed key of those.
            return self.keys.keys().any(|(id, _)| (first..=last).contains(id));
        }
        // `Int(i64::MIN)` sorts before every handle.
        let start = (first, handles.0.cloned().unwrap_or(Handle::Int(i64::MIN)));
        self.keys
            .range(start..)
            .next()
            .is_some_and(|((id, handle), _)| {
                *id == first && handles.1.is_none_or(|upper| handle <= upper)
            })
    }

    /// The newest record of `key`: `Some(true)` for a put.
    pub fn get(&self, key: &RowKey) -> Option<bool> {
        self.keys.get(key).copied()
    }

    /// Every changed key with whether it is a put.
    pub fn iter(&self) -> impl Iterator<Item = (&RowKey, bool)> {
        self.keys.iter().map(|(key, put)| (key, *put))
    }

    /// No key changed.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The keys of a batch's rows, from its `_tidb_table_id` and `_tidb_handle` columns.
fn row_keys(batch: &RecordBatch, file: &str) -> Result<Vec<RowKey>> {
    let column = |name: &str| -> Result<&ArrayRef> {
        batch
            .column_by_name(name)
            .ok_or_else(|| Error::iceberg(file, format!("has no column {name}")))
    };
    let table_ids = column(TABLE_ID_COLUMN)?
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| Error::iceberg(file, format!("{TABLE_ID_COLUMN} is not INT64")))?;
    let handles = column(HANDLE_COLUMN)?;
    let keys = if let Some(ints) = handles.as_any().downcast_ref::<Int64Array>() {
        table_ids
            .values()
            .iter()
            .zip(ints.values())
            .map(|(id, handle)| (*id, Handle::Int(*handle)))
            .collect()
    } else if let Some(bytes) = handles.as_any().downcast_ref::<BinaryArray>() {
        table_ids
            .values()
            .iter()
            .zip(bytes.iter())
            .map(|(id, handle)| (*id, Handle::Common(handle.unwrap_or_default().into())))
            .collect()
    } else {
        return Err(Error::iceberg(
            file,
            format!("{HANDLE_COLUMN} is neither INT64 nor BINARY"),
        ));
    };
    Ok(keys)
}

/// Opens a local Parquet file for reading the named columns (all when `columns` is `None`).
fn read_columns(
    path: &Path,
    name: &str,
    columns: Option<&[&str]>,
) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader> {
    let parquet_error = |e: parquet::errors::ParquetError| {
        Error::iceberg(name, format!("reading it as Parquet: {e}"))
    };
    let file = File::open(path).map_err(|e| Error::io(path.display().to_string(), e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_error)?;
    let builder = match columns {
        Some(columns) => {
            let schema = builder.parquet_schema();
            let roots: Vec<usize> = columns
                .iter()
                .map(|column| {
                    schema
                        .root_schema()
                        .get_fields()
                        .iter()
                        .position(|f| f.name() == *column)
                        .ok_or_else(|| Error::iceberg(name, format!("has no column {column}")))
                })
                .collect::<Result<_>>()?;
            let mask = ProjectionMask::roots(schema, roots);
            builder.with_projection(mask)
        }
        None => builder,
    };
    builder.build().map_err(parquet_error)
}

/// Reads one change file (`path`, object `name`): records every key in `changes` and hands its
/// puts, as batches of the table's `schema`, to `put`.
pub fn read_change_file(
    path: &Path,
    name: &str,
    schema: &SchemaRef,
    changes: &mut Changes,
    mut put: impl FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    for batch in read_columns(path, name, None)? {
        let batch = batch.map_err(|e| Error::iceberg(name, format!("reading a batch: {e}")))?;
        let ops = batch
            .column_by_name(OP_COLUMN)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .ok_or_else(|| Error::iceberg(name, format!("has no {OP_COLUMN} column")))?;
        let keys = row_keys(&batch, name)?;
        let mut is_put = Vec::with_capacity(keys.len());
        for (key, op) in keys.into_iter().zip(ops.iter()) {
            let put = match op {
                Some("put") => true,
                Some("delete") => false,
                other => {
                    return Err(Error::iceberg(
                        name,
                        format!("key {key:?}: {OP_COLUMN} is {other:?}, not put or delete"),
                    ))
                }
            };
            changes.insert(key, put, name)?;
            is_put.push(put);
        }
        if !is_put.iter().any(|p| *p) {
            continue;
        }
        let mask = arrow_array::BooleanArray::from(is_put);
        let puts = arrow_select::filter::filter_record_batch(&batch, &mask)
            .map_err(|e| Error::iceberg(name, format!("selecting puts: {e}")))?;
        put(project(&puts, schema, name)?)?;
    }
    Ok(())
}

/// The columns of `schema`, by name, out of a change batch (which has every table column, and
/// `_tidb_op`, `_tidb_commit_ts`). A NULL in a NOT NULL column is an error.
fn project(batch: &RecordBatch, schema: &SchemaRef, name: &str) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .map(|field| {
            batch
                .column_by_name(field.name())
                .cloned()
                .ok_or_else(|| Error::iceberg(name, format!("has no column {}", field.name())))
        })
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| Error::iceberg(name, format!("its puts do not fit the table's schema: {e}")))
}

/// Where a data file's key columns are read from.
pub enum KeySource<'a> {
    /// A local file (the object itself on local storage).
    Local(&'a Path),
    /// An object of a remote store: its footer and the two key columns' chunks are fetched with
    /// ranged reads, not the whole file.
    Remote(&'a ExternalStorage),
}

/// The key columns of a data file, to be read.
const KEY_COLUMNS: [&str; 2] = [TABLE_ID_COLUMN, HANDLE_COLUMN];

/// Finds, in one data file (object `name`), the positions of rows whose key `changes` holds,
/// except those in `deleted` (removed by earlier position deletes); adds each key found to
/// `found`.
pub fn positions_of_changed(
    source: KeySource<'_>,
    name: &str,
    changes: &Changes,
    deleted: &HashSet<i64>,
    found: &mut HashSet<RowKey>,
) -> Result<Vec<i64>> {
    let reader = match source {
        KeySource::Local(path) => read_columns(path, name, Some(&KEY_COLUMNS))?,
        KeySource::Remote(storage) => read_remote_key_columns(storage, name)?,
    };
    let mut positions = Vec::new();
    let mut position = 0i64;
    for batch in reader {
        let batch = batch.map_err(|e| Error::iceberg(name, format!("reading a batch: {e}")))?;
        for key in row_keys(&batch, name)? {
            if !deleted.contains(&position) && changes.get(&key).is_some() {
                positions.push(position);
                found.insert(key);
            }
            position += 1;
        }
    }
    Ok(positions)
}

/// Reads the key columns of a remote Parquet object through ranged reads: the footer (one read,
/// two when the metadata is larger than the first guess), then each row group's two column
/// chunks.
fn read_remote_key_columns(
    storage: &ExternalStorage,
    name: &str,
) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader> {
    let parquet_error = |e: parquet::errors::ParquetError| {
        Error::iceberg(name, format!("reading it as Parquet: {e}"))
    };
    let size = storage
        .size(name)?
        .ok_or_else(|| Error::iceberg(name, "does not exist"))?;
    if size < 12 {
        return Err(Error::iceberg(
            name,
            format!("is {size} bytes: not a Parquet file"),
        ));
    }
    let guess = size.min(64 * 1024);
    let tail = storage.read_range(name, size - guess..size)?;
    let length_at = tail.len() - 8;
    let metadata_length = u32::from_le_bytes(
        tail[length_at..length_at + 4]
            .try_into()
            .map_err(|_| Error::iceberg(name, "truncated footer"))?,
    );
    let footer = u64::from(metadata_length) + 8;
    let mut file = SparseFile {
        len: size,
        pieces: Vec::new(),
    };
    if footer > guess {
        let start = size.checked_sub(footer).ok_or_else(|| {
            Error::iceberg(name, format!("its footer claims {footer} bytes of {size}"))
        })?;
        file.pieces
            .push((start, storage.read_range(name, start..size)?));
    } else {
        file.pieces.push((size - guess, tail));
    }
    let metadata = ParquetMetaDataReader::new()
        .parse_and_finish(&file)
        .map_err(parquet_error)?;
    let schema = metadata.file_metadata().schema_descr();
    let leaves = KEY_COLUMNS
        .iter()
        .map(|column| {
            (0..schema.num_columns())
                .find(|i| schema.column(*i).path().parts() == [column.to_string()])
                .ok_or_else(|| Error::iceberg(name, format!("has no column {column}")))
        })
        .collect::<Result<Vec<usize>>>()?;
    for row_group in metadata.row_groups() {
        for leaf in &leaves {
            let (start, length) = row_group.column(*leaf).byte_range();
            let bytes = storage.read_range(name, start..start + length)?;
            file.pieces.push((start, bytes));
        }
    }
    let metadata = ArrowReaderMetadata::try_new(Arc::new(metadata), ArrowReaderOptions::new())
        .map_err(parquet_error)?;
    let mask = ProjectionMask::leaves(metadata.parquet_schema(), leaves);
    ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata)
        .with_projection(mask)
        .build()
        .map_err(parquet_error)
}

/// The parts of a Parquet file that were fetched, each at its offset: serves the reader the
/// footer and the column chunks it asks for, and refuses anything else.
struct SparseFile {
    len: u64,
    pieces: Vec<(u64, Bytes)>,
}

impl SparseFile {
    fn piece(&self, start: u64, length: u64) -> parquet::errors::Result<Bytes> {
        self.pieces
            .iter()
            .find(|(at, bytes)| *at <= start && start + length <= *at + bytes.len() as u64)
            .map(|(at, bytes)| {
                let from = (start - at) as usize;
                bytes.slice(from..from + length as usize)
            })
            .ok_or_else(|| {
                parquet::errors::ParquetError::General(format!(
                    "bytes {start}..{} were not fetched",
                    start + length
                ))
            })
    }
}

impl Length for SparseFile {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for SparseFile {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        // To the end of the fetched piece holding `start`: a page header and what follows.
        let end = self
            .pieces
            .iter()
            .find(|(at, bytes)| *at <= start && start < *at + bytes.len() as u64)
            .map_or(start, |(at, bytes)| *at + bytes.len() as u64);
        Ok(self.piece(start, end - start)?.reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.piece(start, length as u64)
    }
}

/// The rows of a position delete file: `(file_path, pos)`.
pub fn read_position_deletes(path: &Path, name: &str) -> Result<Vec<(String, i64)>> {
    let mut rows = Vec::new();
    for batch in read_columns(path, name, Some(&["file_path", "pos"]))? {
        let batch = batch.map_err(|e| Error::iceberg(name, format!("reading a batch: {e}")))?;
        let paths = batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| Error::iceberg(name, "file_path is not a string"))?;
        let positions = batch
            .column(1)
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or_else(|| Error::iceberg(name, "pos is not a long"))?;
        for (path, pos) in paths.iter().zip(positions.iter()) {
            if let (Some(path), Some(pos)) = (path, pos) {
                rows.push((path.to_string(), pos));
            }
        }
    }
    Ok(rows)
}

/// The schema of a position delete file.
pub fn position_delete_schema() -> SchemaRef {
    let field = |name: &str, data_type: DataType, id: i32| {
        Field::new(name, data_type, false).with_metadata(
            [(PARQUET_FIELD_ID_KEY.to_string(), id.to_string())]
                .into_iter()
                .collect(),
        )
    };
    Arc::new(Schema::new(vec![
        field("file_path", DataType::Utf8, DELETE_FILE_PATH_FIELD_ID),
        field("pos", DataType::Int64, DELETE_POS_FIELD_ID),
    ]))
}

/// Writes `rows` (sorted by path, then position) as a position delete file at `path`.
pub fn write_position_deletes(
    path: &Path,
    rows: &[(String, i64)],
    options: &ParquetOptions,
    footer: Vec<(String, String)>,
) -> Result<WrittenFile> {
    let schema = position_delete_schema();
    let mut writer = ParquetFileWriter::create(path, schema.clone(), options, footer)?;
    for chunk in rows.chunks(64 * 1024) {
        let paths: StringArray = chunk.iter().map(|(p, _)| Some(p.as_str())).collect();
        let positions: Int64Array = chunk.iter().map(|(_, pos)| Some(*pos)).collect();
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(paths) as ArrayRef, Arc::new(positions)],
        )
        .map_err(|e| Error::iceberg(path.display().to_string(), e.to_string()))?;
        writer.write(&batch)?;
    }
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(keys: &[(i64, i64, bool)]) -> Changes {
        let mut changes = Changes::default();
        for (id, handle, put) in keys {
            changes
                .insert((*id, Handle::Int(*handle)), *put, "test")
                .unwrap();
        }
        changes
    }

    #[test]
    fn bounds_prune_files_without_changed_keys() {
        let changes = changes(&[(10, 5, true), (10, 50, false), (11, 7, true)]);
        let int = Handle::Int;
        let may = |ids: (i64, i64), low: i64, high: i64| {
            changes.may_hold(
                (Some(ids.0), Some(ids.1)),
                (Some(&int(low)), Some(&int(high))),
            )
        };
        assert!(may((10, 10), 0, 5));
        assert!(may((10, 10), 50, 60));
        assert!(!may((10, 10), 6, 49));
        assert!(!may((12, 12), 0, 100));
        assert!(may((11, 11), 7, 7));
        assert!(!may((11, 11), 8, 9));
        // Unknown bounds: read the file.
        assert!(changes.may_hold((None, None), (None, None)));
        assert!(changes.may_hold((Some(10), Some(10)), (None, None)));
        assert!(!Changes::default().may_hold((None, None), (None, None)));
    }

    #[test]
    fn a_key_changed_twice_is_an_error() {
        let mut changes = changes(&[(1, 1, true)]);
        let error = changes
            .insert((1, Handle::Int(1)), false, "f.parquet")
            .unwrap_err();
        assert!(error.to_string().contains("changed twice"), "{error}");
    }

    /// A data file of `rows` rows (handles 0..rows of table 7) with a text column, in row groups
    /// of 100 rows.
    fn data_file(path: &Path, rows: i64) {
        let field = |name: &str, data_type: DataType, id: i32| {
            Field::new(name, data_type, false).with_metadata(
                [(PARQUET_FIELD_ID_KEY.to_string(), id.to_string())]
                    .into_iter()
                    .collect(),
            )
        };
        let schema = Arc::new(Schema::new(vec![
            field(TABLE_ID_COLUMN, DataType::Int64, 1),
            field(HANDLE_COLUMN, DataType::Int64, 2),
            field("note", DataType::Utf8, 101),
        ]));
        let options = ParquetOptions {
            row_group_rows: 100,
            ..ParquetOptions::default()
        };
        let mut writer =
            ParquetFileWriter::create(path, schema.clone(), &options, Vec::new()).unwrap();
        let notes: StringArray = (0..rows)
            .map(|i| Some(format!("note {i} {}", "x".repeat(50))))
            .collect();
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![7; rows as usize])),
                Arc::new(Int64Array::from_iter_values(0..rows)),
                Arc::new(notes),
            ],
        )
        .unwrap();
        writer.write(&batch).unwrap();
        writer.finish().unwrap();
    }

    #[test]
    fn ranged_reads_find_the_same_positions_as_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        data_file(&dir.path().join("data.parquet"), 350);
        let url = format!("local://{}", dir.path().display());
        let backend = crate::storage::url::parse_url(&url).unwrap();
        let storage =
            ExternalStorage::open_with(&backend, false, &crate::storage::StorageOptions::default())
                .unwrap();
        let changes = changes(&[(7, 3, true), (7, 150, false), (7, 349, true), (8, 5, true)]);
        let deleted = HashSet::from([150]);
        let mut found = [HashSet::new(), HashSet::new()];
        let path = dir.path().join("data.parquet");
        let [local, remote] = &mut found;
        let whole = positions_of_changed(
            KeySource::Local(&path),
            "data.parquet",
            &changes,
            &deleted,
            local,
        )
        .unwrap();
        let ranged = positions_of_changed(
            KeySource::Remote(&storage),
            "data.parquet",
            &changes,
            &deleted,
            remote,
        )
        .unwrap();
        assert_eq!(
            whole,
            vec![3, 349],
            "150 was deleted before; table 8 is another file's"
        );
        assert_eq!(ranged, whole);
        assert_eq!(found[0], found[1]);
        assert_eq!(found[0].len(), 2);
    }

    #[test]
    fn position_deletes_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deletes.parquet");
        let rows = vec![
            ("s3://b/t/a.parquet".to_string(), 0),
            ("s3://b/t/a.parquet".into(), 7),
        ];
        let written =
            write_position_deletes(&path, &rows, &ParquetOptions::default(), Vec::new()).unwrap();
        assert_eq!(written.rows, 2);
        assert_eq!(
            read_position_deletes(&path, "deletes.parquet").unwrap(),
            rows
        );
        // The reserved field ids are in the file, as readers match columns by id.
        let file = File::open(&path).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let ids: Vec<i32> = reader
            .parquet_schema()
            .root_schema()
            .get_fields()
            .iter()
            .map(|f| f.get_basic_info().id())
            .collect();
        assert_eq!(ids, vec![DELETE_FILE_PATH_FIELD_ID, DELETE_POS_FIELD_ID]);
    }
}
