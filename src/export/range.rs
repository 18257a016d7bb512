//! Exporting one backed-up range: a write-CF SST joined with its default-CF twin.
//!
//! Both SSTs are sorted by `z ‖ memcomparable(key) ‖ !ts`. A Put without an inline value points at
//! the default-CF entry with the same key and its `start_ts`; since that entry's SST key is the write
//! entry's key with the timestamp replaced, both files are walked once, in step (a merge join), and
//! memory does not depend on the file sizes.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;

use crate::batch::{BackupKind, BatchLimits, RowData, RowKey, TableBatchBuilder};
use crate::codec::checksum::KvChecksum;
use crate::codec::key::{decode_data_key, parse_tidb_key, TidbKey};
use crate::codec::mvcc::{WriteRecord, WriteType};
use crate::crypter::Crypter;
use crate::integrity::{self, PrefixHasher};
use crate::meta::{RangePlan, TableSchema};
use crate::proto::backup::File as FileMeta;
use crate::sink::iceberg::ExportedFile;
use crate::sink::parquet::{ParquetFileWriter, ParquetOptions};
use crate::sst::{BlockSource, SstEntries, SstError, SstReader, ValueType};
use crate::storage::ExternalStorage;
use crate::{Error, Result};

use super::layout::{parquet_object_name, staging_object_name};
use super::report::{FileReport, SkipCounters, SkippedRow, SkippedRowsReport};

/// Where a range's record batches go.
#[derive(Clone, Copy)]
pub(crate) enum BatchDestination<'a> {
    /// Parquet files, staged in the output: the export.
    Parquet,
    /// A callback, and no file: [`super::BatchReader`].
    Callback(&'a (dyn Fn(&TableSchema, RecordBatch) + Sync)),
}

/// Everything one range export needs, shared by all workers.
pub(crate) struct RangeContext<'a> {
    /// Where record batches go; the fields below about files matter only for `Parquet`.
    pub destination: BatchDestination<'a>,
    pub input: &'a ExternalStorage,
    pub output: &'a ExternalStorage,
    pub output_prefix: &'a str,
    pub staging: &'a Path,
    pub parquet: &'a ParquetOptions,
    pub batch: BatchLimits,
    /// Full or incremental backup.
    pub kind: BackupKind,
    /// Physical table id → the logical table it belongs to.
    pub tables: &'a HashMap<i64, Arc<TableSchema>>,
    /// Footer metadata common to every file.
    pub metadata: &'a [(String, String)],
    /// Collect per-column statistics of every file (for Iceberg metadata and the JSON manifest).
    pub column_stats: bool,
    /// Drop and record undecodable rows instead of failing.
    pub lenient: bool,
    /// Check SHA-256 and BR checksums of every SST.
    pub verify: bool,
    /// Finish a file once it has this many bytes (`--target-file-size`).
    pub target_file_size: Option<u64>,
    /// Decrypts SSTs of an encrypted backup.
    pub crypter: Arc<Crypter>,
}

/// What one range produced.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct RangeOutcome {
    pub files: Vec<FileReport>,
    pub skipped: SkipCounters,
    pub write_cf_entries: u64,
    /// SSTs read to produce this outcome. Not recorded in a job's marker, so that a run that
    /// reuses the job, and reads none of them, does not count them.
    #[serde(skip)]
    pub ssts_read: u64,
    /// Delete records exported (incremental backups).
    pub deletes: u64,
    /// The files written, with their column statistics (when `column_stats` is set).
    pub exported: Vec<ExportedFile>,
    /// Rows dropped in lenient mode.
    pub skipped_rows: Vec<SkippedRowsReport>,
    /// BR's checksum over every pair of each range's SSTs, in the job's range order.
    pub range_checksums: Vec<KvChecksum>,
    /// Keys read per logical table id.
    pub table_kvs: HashMap<i64, TableKvs>,
}

/// Keys of one table found in a range.
#[derive(Debug, Default, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub(crate) struct TableKvs {
    /// Row (record) keys.
    pub record_kvs: u64,
    /// Index keys.
    pub index_kvs: u64,
}

/// One table's output in progress: its batch builder and its current Parquet file.
struct TableOutput {
    table: Arc<TableSchema>,
    builder: TableBatchBuilder,
    writer: Option<ParquetFileWriter>,
    /// The write-CF SST whose stem names the files: the job's first range of this table.
    stem: String,
    /// The first SST the rows came from, for the report and the footer.
    source_sst: String,
    /// Files finished so far (a file is split at the target size).
    part: u32,
}

/// Exports a job: one or more consecutive ranges whose rows go to the same files (several only
/// with `--target-file-size`). Files are finished and staged at the end of the job, or earlier
/// when they reach the target size.
pub(crate) fn export_job(ctx: &RangeContext<'_>, ranges: &[&RangePlan]) -> Result<RangeOutcome> {
    let mut outcome = RangeOutcome::default();
    let mut outputs: HashMap<i64, TableOutput> = HashMap::new();
    for range in ranges {
        let checksum = scan_range(ctx, range, &mut outputs, &mut outcome)?;
        outcome.range_checksums.push(checksum);
    }
    let mut outputs: Vec<TableOutput> = outputs.into_values().collect();
    outputs.sort_by_key(|o| o.table.table_id);
    for mut output in outputs {
        flush(ctx, &mut output, &mut outcome)?;
        let (count, first) = output.builder.skipped_rows();
        if count > 0 {
            outcome.skipped_rows.push(SkippedRowsReport {
                db: output.table.db_name.clone(),
                table: output.table.table_name.clone(),
                source_sst: output.source_sst.clone(),
                count,
                first: first
                    .iter()
                    .map(|(key, reason)| SkippedRow {
                        key: key.clone(),
                        reason: reason.clone(),
                    })
                    .collect(),
            });
        }
        finish_file(ctx, &mut output, &mut outcome)?;
    }
    Ok(outcome)
}

/// Reads one range into `outputs`; returns BR's checksum over all of its key/value pairs.
///
/// Each SST's SHA-256 is computed from the scan's own reads (see [`SstFile`]) and checked once
/// the scan has read the file. The rows read before the check only reach the staging area, which
/// a failed run never publishes. When the scan fails, a SHA-256 mismatch is the error reported:
/// a corrupt file explains whatever else went wrong.
fn scan_range(
    ctx: &RangeContext<'_>,
    range: &RangePlan,
    outputs: &mut HashMap<i64, TableOutput>,
    outcome: &mut RangeOutcome,
) -> Result<KvChecksum> {
    let write_reader = open_sst(ctx, &range.write)?;
    let default_reader = match &range.default {
        Some(file) => Some((file, open_sst(ctx, file)?)),
        None => None,
    };
    outcome.ssts_read += 1 + u64::from(default_reader.is_some());
    let scanned = scan_ssts(
        ctx,
        range,
        &write_reader,
        default_reader
            .as_ref()
            .map(|(file, reader)| (file.name.as_str(), reader)),
        outputs,
        outcome,
    );
    let verified =
        verify_sha256(&range.write, &write_reader).and_then(|()| match &default_reader {
            Some((file, reader)) => verify_sha256(file, reader),
            None => Ok(()),
        });
    match (scanned, verified) {
        (_, Err(mismatch)) => Err(mismatch),
        (scanned, Ok(())) => scanned,
    }
}

/// Checks the SHA-256 a scan computed of `file` (a no-op when it computed none).
fn verify_sha256(file: &FileMeta, reader: &SstReader<SstFile>) -> Result<()> {
    let Some(actual) = reader.source().finish_sha256()? else {
        return Ok(());
    };
    integrity::check_sha256(&file.name, &file.sha256, &actual)
}

/// The scan of [`scan_range`].
fn scan_ssts(
    ctx: &RangeContext<'_>,
    range: &RangePlan,
    write_reader: &SstReader<SstFile>,
    default_reader: Option<(&str, &SstReader<SstFile>)>,
    outputs: &mut HashMap<i64, TableOutput>,
    outcome: &mut RangeOutcome,
) -> Result<KvChecksum> {
    let write_name = range.write.name.as_str();
    let mut defaults =
        default_reader.map(|(name, reader)| DefaultCursor::new(name, reader.entries()));
    let mut raw_key = Vec::new();
    let mut target = Vec::new();
    // What BR's `crc64xor`/`total_kvs`/`total_bytes` of the write-CF file cover: pairs whose value
    // is inline in the write record (and deletes); long values count in the default-CF file.
    let mut write_checksum = KvChecksum::default();

    let mut entries = write_reader.entries();
    while let Some(entry) = entries.next().map_err(|source| Error::Sst {
        file: write_name.to_string(),
        source,
    })? {
        outcome.write_cf_entries += 1;
        let key_error = |message: String| Error::Decode {
            file: write_name.to_string(),
            table: "?".into(),
            key: hex::encode(entry.user_key),
            message,
        };
        if entry.value_type != ValueType::Value {
            return Err(key_error(format!(
                "unexpected RocksDB entry type {:?}; BR SSTs hold only puts",
                entry.value_type
            )));
        }
        let commit_ts =
            decode_data_key(entry.user_key, &mut raw_key).map_err(|e| key_error(e.to_string()))?;
        let record = WriteRecord::parse(entry.value).map_err(|e| Error::Decode {
            file: write_name.to_string(),
            table: "?".into(),
            key: hex::encode(&raw_key),
            message: format!("write record at commit_ts {commit_ts}: {e}"),
        })?;
        match (record.write_type, record.short_value) {
            (WriteType::Put, Some(value)) => write_checksum.update(&raw_key, value),
            (WriteType::Delete, _) => write_checksum.update(&raw_key, &[]),
            _ => {}
        }
        let (physical_id, handle) = match parse_tidb_key(&raw_key) {
            Ok(TidbKey::Record { table_id, handle }) => (table_id, handle),
            Ok(TidbKey::Index { table_id, .. }) => {
                outcome.skipped.index_keys += 1;
                if let Some(table) = ctx.tables.get(&table_id) {
                    outcome
                        .table_kvs
                        .entry(table.table_id)
                        .or_default()
                        .index_kvs += 1;
                }
                continue;
            }
            Ok(_) => {
                outcome.skipped.non_table_keys += 1;
                continue;
            }
            Err(e) => return Err(key_error(e.to_string())),
        };
        let table = ctx.tables.get(&physical_id);
        // Named only when an error is built: formatting the name costs an allocation per row.
        let record_error = |message: String| Error::Decode {
            file: write_name.to_string(),
            table: table.map_or_else(|| physical_id.to_string(), |t| t.qualified_name()),
            key: hex::encode(&raw_key),
            message,
        };
        // A long value is found even for rows that are not exported, so that the default-CF
        // file is read (and checksummed) completely and only true orphans are counted.
        let long_value = match (record.write_type, record.short_value) {
            (WriteType::Put, None) => {
                let Some(cursor) = defaults.as_mut() else {
                    return Err(record_error(format!(
                        "the row value lives in the default CF (start_ts {}), but the backup lists \
                         no default-CF SST for this range",
                        record.start_ts
                    )));
                };
                target.clear();
                target.extend_from_slice(
                    entry
                        .user_key
                        .get(..entry.user_key.len().saturating_sub(8))
                        .unwrap_or_default(),
                );
                target.extend_from_slice(&(!record.start_ts).to_be_bytes());
                match cursor.find(&target)? {
                    Some(value) => Some(value),
                    None => {
                        return Err(record_error(format!(
                            "default-CF value for start_ts {} is missing from {}",
                            record.start_ts, cursor.name
                        )))
                    }
                }
            }
            _ => None,
        };
        let Some(table) = table else {
            outcome.skipped.other_table_rows += 1;
            continue;
        };
        outcome
            .table_kvs
            .entry(table.table_id)
            .or_default()
            .record_kvs += 1;
        let data = match record.write_type {
            // `long_value` was found above whenever the short value is missing.
            WriteType::Put => RowData::Put(record.short_value.or(long_value).unwrap_or_default()),
            WriteType::Delete if ctx.kind == BackupKind::Incremental => {
                outcome.deletes += 1;
                RowData::Delete
            }
            WriteType::Delete => {
                return Err(record_error(
                    "a Delete record in a full backup (start_version 0); BR writes deletes only \
                     into incremental backups"
                        .into(),
                ))
            }
            WriteType::Lock | WriteType::Rollback => {
                outcome.skipped.lock_or_rollback_records += 1;
                continue;
            }
        };
        let output = match outputs.entry(table.table_id) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => v.insert(TableOutput {
                table: table.clone(),
                builder: {
                    let builder =
                        TableBatchBuilder::new(table.clone(), ctx.kind, write_name, ctx.batch)?;
                    if ctx.lenient {
                        builder.lenient()
                    } else {
                        builder
                    }
                },
                writer: None,
                stem: range.write.name.clone(),
                source_sst: range.write.name.clone(),
                part: 0,
            }),
        };
        let key = RowKey {
            physical_id,
            handle,
            commit_ts,
        };
        if output.builder.push_row(&key, data)? {
            flush(ctx, output, outcome)?;
        }
    }
    let mut range_checksum = write_checksum;
    if ctx.verify {
        verify_file_checksum(&range.write, &write_checksum)?;
    }
    if let (Some(cursor), Some(file)) = (defaults.as_mut(), &range.default) {
        outcome.skipped.orphan_default_values += cursor.drain()?;
        if ctx.verify {
            verify_file_checksum(file, &cursor.checksum)?;
        }
        range_checksum.merge(cursor.checksum);
    }
    Ok(range_checksum)
}

/// The object name of the output's current file: `<stem>.parquet`, then `<stem>-partNNNN.parquet`
/// for the further parts of a file split at the target size.
fn object_name(ctx: &RangeContext<'_>, output: &TableOutput) -> String {
    let name = parquet_object_name(
        ctx.output_prefix,
        &output.table.db_name,
        &output.table.table_name,
        &output.stem,
    );
    match output.part {
        0 => name,
        part => format!(
            "{}-part{part:04}.parquet",
            name.trim_end_matches(".parquet")
        ),
    }
}

/// Finishes the output's current file, if any, and uploads it to staging.
fn finish_file(
    ctx: &RangeContext<'_>,
    output: &mut TableOutput,
    outcome: &mut RangeOutcome,
) -> Result<()> {
    let Some(writer) = output.writer.take() else {
        return Ok(());
    };
    let written = writer.finish()?;
    let name = object_name(ctx, output);
    output.part += 1;
    // Staged until the whole run is verified; `export::publish` moves it into place.
    let staged = staging_object_name(ctx.output_prefix, &name);
    ctx.output.move_file(&written.path, &staged)?;
    if let Some(stats) = written.stats {
        outcome.exported.push(ExportedFile {
            object: name.clone(),
            table_id: output.table.table_id,
            rows: written.rows,
            size: written.size,
            sha256: written.sha256.clone(),
            stats,
        });
    }
    outcome.files.push(FileReport {
        path: name,
        db: output.table.db_name.clone(),
        table: output.table.table_name.clone(),
        source_sst: output.source_sst.clone(),
        rows: written.rows,
        size: written.size,
        sha256: written.sha256,
        invalid_dates: output.builder.invalid_dates().into_iter().collect(),
        staged: Some(staged),
    });
    Ok(())
}

/// Turns the collected rows into a batch and appends it to the table's file, creating the file on
/// first use and finishing it once it reaches the target size.
fn flush(
    ctx: &RangeContext<'_>,
    output: &mut TableOutput,
    outcome: &mut RangeOutcome,
) -> Result<()> {
    let Some(batch) = output.builder.finish_batch()? else {
        return Ok(());
    };
    if let BatchDestination::Callback(callback) = ctx.destination {
        callback(&output.table, batch);
        return Ok(());
    }
    // With a target size, write in row-group slices (zero-copy) so a file can end between them.
    let step = match ctx.target_file_size {
        Some(_) => ctx.parquet.row_group_rows.max(1),
        None => batch.num_rows().max(1),
    };
    let mut offset = 0;
    while offset < batch.num_rows() {
        let len = step.min(batch.num_rows() - offset);
        let slice = batch.slice(offset, len);
        offset += len;
        let writer = match &mut output.writer {
            Some(writer) => writer,
            None => {
                let writer = create_writer(ctx, output)?;
                output.writer.insert(writer)
            }
        };
        writer.write(&slice)?;
        if ctx
            .target_file_size
            .is_some_and(|target| writer.bytes_written() >= target)
        {
            finish_file(ctx, output, outcome)?;
        }
    }
    Ok(())
}

/// Starts the output's next Parquet file in the local staging directory.
fn create_writer(ctx: &RangeContext<'_>, output: &TableOutput) -> Result<ParquetFileWriter> {
    let staging = ctx.staging.join(format!(
        "{}-{}-{}.parquet.partial",
        super::layout::sst_stem(&output.stem),
        output.table.table_id,
        output.part
    ));
    let mut metadata = ctx.metadata.to_vec();
    metadata.push(("tidb.db".into(), output.table.db_name.clone()));
    metadata.push(("tidb.table".into(), output.table.table_name.clone()));
    metadata.push(("tidb.table_id".into(), output.table.table_id.to_string()));
    metadata.push(("br.source_sst".into(), output.source_sst.clone()));
    let mut writer = ParquetFileWriter::create(
        &staging,
        output.builder.schema().clone(),
        ctx.parquet,
        metadata,
    )?;
    if ctx.column_stats {
        writer.collect_column_stats();
    }
    Ok(writer)
}

/// Opens an SST of the backup, hashing it as it is read when it is to be verified against
/// `backupmeta`'s SHA-256, and decrypting block by block when the backup is encrypted.
fn open_sst(ctx: &RangeContext<'_>, file: &FileMeta) -> Result<SstReader<SstFile>> {
    let object = ctx.input.open_local(&file.name)?;
    let sha256 = (ctx.verify && !file.sha256.is_empty()).then(|| Mutex::new(PrefixHasher::new()));
    let decrypt = if ctx.crypter.is_encrypted() {
        let iv: [u8; 16] = file.cipher_iv.as_slice().try_into().map_err(|_| {
            Error::meta(
                &file.name,
                format!(
                    "the backup is encrypted but this SST's cipher_iv has {} bytes, not 16",
                    file.cipher_iv.len()
                ),
            )
        })?;
        Some((ctx.crypter.clone(), iv))
    } else {
        None
    };
    let source = SstFile {
        name: file.name.clone(),
        file: object.file,
        sha256,
        decrypt,
    };
    let verify = source.sha256.is_some();
    SstReader::open(source).map_err(|source| {
        // A file that does not open may be corrupt: then that is the error to report.
        if verify {
            if let Err(mismatch) = integrity::verify_sha256(&file.name, &object.path, &file.sha256)
            {
                return mismatch;
            }
        }
        if matches!(source, SstError::BadMagic { .. }) {
            Error::Integrity {
                object: file.name.clone(),
                message: format!("{source}; {}", ctx.crypter.wrong_key_hint()),
            }
        } else {
            Error::Sst {
                file: file.name.clone(),
                source,
            }
        }
    })
}

/// An SST file of the backup as the reader sees it: hashed as it is read (the SHA-256 in
/// `backupmeta` is of the bytes as stored), then decrypted when the backup is encrypted (AES-CTR
/// allows decrypting any byte range on its own, so only the blocks read are decrypted).
///
/// A scan reads the data blocks in file order after the index and meta blocks at the end, so
/// [`PrefixHasher`] hashes nearly all of the file from those reads, and only the tail is read a
/// second time.
struct SstFile {
    name: String,
    file: File,
    /// Set when the file is to be checked against `backupmeta`'s SHA-256.
    sha256: Option<Mutex<PrefixHasher>>,
    /// The crypter and this file's IV, for an encrypted backup.
    decrypt: Option<(Arc<Crypter>, [u8; 16])>,
}

impl SstFile {
    /// The file's SHA-256, reading whatever the scan has not; `None` when it is not verified.
    fn finish_sha256(&self) -> Result<Option<[u8; 32]>> {
        let Some(hasher) = &self.sha256 else {
            return Ok(None);
        };
        let hasher = std::mem::take(&mut *hasher.lock().unwrap_or_else(|e| e.into_inner()));
        hasher
            .finish(BlockSource::len(&self.file), |offset, buf| {
                BlockSource::read_exact_at(&self.file, offset, buf)
            })
            .map(Some)
            .map_err(|e| Error::io(self.name.clone(), e))
    }
}

impl BlockSource for SstFile {
    fn len(&self) -> u64 {
        BlockSource::len(&self.file)
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        BlockSource::read_exact_at(&self.file, offset, buf)?;
        if let Some(hasher) = &self.sha256 {
            hasher
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .observe(offset, buf);
        }
        if let Some((crypter, iv)) = &self.decrypt {
            crypter.apply_keystream_at(iv, offset, buf);
        }
        Ok(())
    }
}

/// Compares what an SST holds with what `backupmeta` says it holds.
fn verify_file_checksum(file: &FileMeta, actual: &KvChecksum) -> Result<()> {
    let expected = KvChecksum::new(file.crc64xor, file.total_kvs, file.total_bytes);
    if expected == *actual {
        return Ok(());
    }
    Err(Error::Integrity {
        object: file.name.clone(),
        message: format!(
            "checksum mismatch: backupmeta says {expected}, the SST holds {actual} \
             (pass --no-verify to export anyway)"
        ),
    })
}

/// Walks the default-CF SST in step with the write-CF SST.
struct DefaultCursor<'r> {
    name: &'r str,
    entries: SstEntries<'r, SstFile>,
    key: Vec<u8>,
    value: Vec<u8>,
    /// Scratch for the raw TiDB key of the current entry.
    raw_key: Vec<u8>,
    /// BR's checksum over every pair of the file.
    checksum: KvChecksum,
    /// Whether `key`/`value` hold an entry not yet consumed.
    pending: bool,
    exhausted: bool,
    orphans: u64,
}

impl<'r> DefaultCursor<'r> {
    fn new(name: &'r str, entries: SstEntries<'r, SstFile>) -> Self {
        DefaultCursor {
            name,
            entries,
            key: Vec::new(),
            value: Vec::new(),
            raw_key: Vec::new(),
            checksum: KvChecksum::default(),
            pending: false,
            exhausted: false,
            orphans: 0,
        }
    }

    fn advance(&mut self) -> Result<bool> {
        if self.exhausted {
            return Ok(false);
        }
        match self.entries.next().map_err(|source| Error::Sst {
            file: self.name.to_string(),
            source,
        })? {
            Some(entry) => {
                decode_data_key(entry.user_key, &mut self.raw_key).map_err(|e| Error::Decode {
                    file: self.name.to_string(),
                    table: "?".into(),
                    key: hex::encode(entry.user_key),
                    message: e.to_string(),
                })?;
                self.checksum.update(&self.raw_key, entry.value);
                self.key.clear();
                self.key.extend_from_slice(entry.user_key);
                self.value.clear();
                self.value.extend_from_slice(entry.value);
                self.pending = true;
                Ok(true)
            }
            None => {
                self.exhausted = true;
                Ok(false)
            }
        }
    }

    /// The value stored under exactly `target`, skipping (and counting) smaller keys.
    fn find(&mut self, target: &[u8]) -> Result<Option<&[u8]>> {
        loop {
            if !self.pending && !self.advance()? {
                return Ok(None);
            }
            match self.key.as_slice().cmp(target) {
                Ordering::Less => {
                    self.orphans += 1;
                    self.pending = false;
                }
                Ordering::Equal => {
                    self.pending = false;
                    return Ok(Some(&self.value));
                }
                Ordering::Greater => return Ok(None),
            }
        }
    }

    /// Counts the entries nobody asked for.
    fn drain(&mut self) -> Result<u64> {
        if self.pending {
            self.orphans += 1;
            self.pending = false;
        }
        while self.advance()? {
            self.orphans += 1;
            self.pending = false;
        }
        Ok(self.orphans)
    }
}
