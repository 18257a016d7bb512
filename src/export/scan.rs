//! Scanning one job: its ranges, each a write-CF SST joined with its default-CF twin, decoded
//! into record batches for a [`BatchSink`].
//!
//! Both SSTs are sorted by `z ‖ memcomparable(key) ‖ !ts`. A Put without an inline value points at
//! the default-CF entry with the same key and its `start_ts`; since that entry's SST key is the write
//! entry's key with the timestamp replaced, both files are walked once, in step (a merge join), and
//! memory does not depend on the file sizes.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fs::File;
use std::sync::{Arc, Mutex};

use crate::batch::{BackupKind, BatchLimits, RowData, RowKey, TableBatchBuilder};
use crate::codec::checksum::KvChecksum;
use crate::codec::key::{data_key_with_ts, decode_data_key, parse_tidb_key, table_id_of, TidbKey};
use crate::codec::mvcc::{WriteRecord, WriteType};
use crate::crypter::Crypter;
use crate::integrity::{self, PrefixHasher};
use crate::meta::{RangePlan, TableSchema};
use crate::proto::backup::File as FileMeta;
use crate::sink::{BatchSink, ExportedFile, TableRows};
use crate::sst::{BlockSource, SstEntries, SstError, SstReader, ValueType};
use crate::storage::ExternalStorage;
use crate::{Error, Result};

use super::report::{SkipCounters, SkippedRow, SkippedRowsReport};

/// What scanning needs, shared by all workers: where the SSTs are and how rows are decoded.
pub(crate) struct ScanContext<'a> {
    /// The backup storage.
    pub input: &'a ExternalStorage,
    /// Decrypts SSTs of an encrypted backup.
    pub crypter: Arc<Crypter>,
    /// Physical table id → the logical table it belongs to (the tables exported).
    pub tables: &'a HashMap<i64, Arc<TableSchema>>,
    /// Full or incremental backup.
    pub kind: BackupKind,
    /// When a record batch is full.
    pub batch: BatchLimits,
    /// Drop and record undecodable rows instead of failing.
    pub lenient: bool,
    /// Check SHA-256 and BR checksums of every SST.
    pub verify: bool,
}

/// What one job produced. Recorded whole in the job's marker (`resume.rs`).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct JobOutcome {
    /// The files written, in the order they were finished.
    pub files: Vec<ExportedFile>,
    pub skipped: SkipCounters,
    pub write_cf_entries: u64,
    /// SSTs read to produce this outcome. Not recorded in a job's marker, so that a run that
    /// reuses the job, and reads none of them, does not count them.
    #[serde(skip)]
    pub ssts_read: u64,
    /// Delete records exported (incremental backups).
    pub deletes: u64,
    /// Rows dropped in lenient mode.
    pub skipped_rows: Vec<SkippedRowsReport>,
    /// BR's checksum over every pair of each range's SSTs, in the job's range order.
    pub range_checksums: Vec<KvChecksum>,
    /// Keys read per logical table id.
    pub table_kvs: TableKvsMap,
}

/// [`TableKvs`] by logical table id: a job nearly always holds one table, and an export may hold
/// 100 k jobs' until it verifies them, so a short vector rather than a hash map (a quarter of the
/// memory; and each row's lookup tries the table added last first, which, keys being sorted, is
/// the one being read). Serialized as a map of the ids, as job markers hold it.
#[derive(Debug, Default, Clone)]
pub(crate) struct TableKvsMap(Vec<(i64, TableKvs)>);

impl TableKvsMap {
    /// The entry of table `id`, added when missing.
    pub fn entry(&mut self, id: i64) -> &mut TableKvs {
        let index = match self.0.iter().rposition(|(table, _)| *table == id) {
            Some(index) => index,
            None => {
                // One table is the rule: no room for four (a vector's first growth).
                self.0.reserve_exact(1);
                self.0.push((id, TableKvs::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[index].1
    }

    /// Every table's entry.
    pub fn iter(&self) -> impl Iterator<Item = &(i64, TableKvs)> {
        self.0.iter()
    }
}

impl serde::Serialize for TableKvsMap {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(id, kvs)| (id, kvs)))
    }
}

impl<'de> serde::Deserialize<'de> for TableKvsMap {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = HashMap::<i64, TableKvs>::deserialize(deserializer)?;
        Ok(TableKvsMap(map.into_iter().collect()))
    }
}

/// Keys of one table found in a job.
#[derive(Debug, Default, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub(crate) struct TableKvs {
    /// Row (record) keys.
    pub record_kvs: u64,
    /// Index keys.
    pub index_kvs: u64,
    /// BR's checksum over the table's pairs (row and index keys, both column families): what
    /// its `Schema` checksum covers, attributed key by key, so that SSTs holding several tables
    /// are checked too.
    pub checksum: KvChecksum,
}

/// BR's checksum per physical table id over one SST's pairs. Keys are sorted, so consecutive
/// pairs nearly always belong to the same table: the last one is looked up first.
#[derive(Debug, Default)]
struct PhysicalChecksums {
    sums: Vec<(i64, KvChecksum)>,
    last: usize,
}

impl PhysicalChecksums {
    #[inline]
    fn add(&mut self, physical_id: i64, pair: KvChecksum) {
        if let Some((id, sum)) = self.sums.get_mut(self.last) {
            if *id == physical_id {
                sum.merge(pair);
                return;
            }
        }
        match self.sums.iter().position(|(id, _)| *id == physical_id) {
            Some(i) => self.last = i,
            None => {
                self.last = self.sums.len();
                self.sums.push((physical_id, KvChecksum::default()));
            }
        }
        if let Some((_, sum)) = self.sums.get_mut(self.last) {
            sum.merge(pair);
        }
    }

    fn get(&self, physical_id: i64) -> KvChecksum {
        self.sums
            .iter()
            .find(|(id, _)| *id == physical_id)
            .map(|(_, sum)| *sum)
            .unwrap_or_default()
    }

    /// Adds each physical table's sum to its logical table in `outcome` (tables not exported
    /// are left out).
    fn attribute(&self, tables: &HashMap<i64, Arc<TableSchema>>, outcome: &mut JobOutcome) {
        for (physical_id, sum) in &self.sums {
            if let Some(table) = tables.get(physical_id) {
                outcome.table_kvs.entry(table.table_id).checksum.merge(*sum);
            }
        }
    }
}

/// The tables' decoders of a job. Keys are sorted, so consecutive rows nearly always belong to
/// the same table: the last one is tried before the map.
#[derive(Default)]
struct TableDecoders {
    decoders: Vec<TableDecoder>,
    /// Index in `decoders` by logical table id.
    by_table: HashMap<i64, usize>,
    /// The table id and index of the decoder returned last.
    last: Option<(i64, usize)>,
}

impl TableDecoders {
    /// The decoder of `table_id`, made by `make` if there is none yet.
    #[inline]
    fn get_or_try_insert(
        &mut self,
        table_id: i64,
        make: impl FnOnce() -> Result<TableDecoder>,
    ) -> Result<&mut TableDecoder> {
        let index = match self.last {
            Some((last_id, index)) if last_id == table_id => index,
            _ => {
                let index = match self.by_table.get(&table_id) {
                    Some(&index) => index,
                    None => {
                        self.decoders.push(make()?);
                        self.by_table.insert(table_id, self.decoders.len() - 1);
                        self.decoders.len() - 1
                    }
                };
                self.last = Some((table_id, index));
                index
            }
        };
        // Indexes are only ever taken from `decoders`, which never shrinks.
        #[allow(clippy::indexing_slicing)]
        Ok(&mut self.decoders[index])
    }
}

/// One table's rows being decoded in a job.
struct TableDecoder {
    table: Arc<TableSchema>,
    builder: TableBatchBuilder,
    /// The write-CF SST the table's rows were first read from in this job.
    first_sst: String,
    /// Invalid dates counted up to the last batch handed to the sink, by column.
    invalid_dates_sent: Vec<(String, u64)>,
}

impl TableDecoder {
    /// Hands the rows collected so far to `sink` as one batch, if there are any.
    fn flush(&mut self, sink: &mut impl BatchSink) -> Result<()> {
        let Some(batch) = self.builder.finish_batch()? else {
            return Ok(());
        };
        // The builder counts since its start; the sink gets this batch's share.
        let counted = self.builder.invalid_dates();
        let in_batch: Vec<(String, u64)> = counted
            .iter()
            .map(|(column, count)| {
                let sent = self
                    .invalid_dates_sent
                    .iter()
                    .find(|(c, _)| c == column)
                    .map_or(0, |(_, n)| *n);
                (column.clone(), count - sent)
            })
            .filter(|(_, count)| *count > 0)
            .collect();
        self.invalid_dates_sent = counted;
        sink.write(TableRows {
            table: &self.table,
            source_sst: &self.first_sst,
            batch,
            invalid_dates: &in_batch,
        })
    }
}

/// Exports a job: one or more consecutive ranges whose rows go to the same files (several only
/// with `--target-file-size`), batch by batch into `sink`, which is finished at the end.
pub(crate) fn export_job(
    ctx: &ScanContext<'_>,
    ranges: &[&RangePlan],
    sink: &mut impl BatchSink,
) -> Result<JobOutcome> {
    let mut outcome = JobOutcome {
        range_checksums: Vec::with_capacity(ranges.len()),
        ..JobOutcome::default()
    };
    let mut decoders = TableDecoders::default();
    for range in ranges {
        let checksum = scan_range(ctx, range, &mut decoders, sink, &mut outcome)?;
        outcome.range_checksums.push(checksum);
    }
    let mut decoders = decoders.decoders;
    decoders.sort_by_key(|d| d.table.table_id);
    for mut decoder in decoders {
        decoder.flush(sink)?;
        let (count, first) = decoder.builder.skipped_rows();
        if count > 0 {
            outcome.skipped_rows.push(SkippedRowsReport {
                db: decoder.table.db_name.clone(),
                table: decoder.table.table_name.clone(),
                source_sst: decoder.first_sst.clone(),
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
        sink.finish_table(&decoder.table)?;
    }
    outcome.files = sink.finish()?;
    Ok(outcome)
}

/// Reads one range into `decoders`; returns BR's checksum over all of its key/value pairs.
///
/// Each SST's SHA-256 is computed from the scan's own reads (see [`SstFile`]) and checked once
/// the scan has read the file. The rows read before the check only reach the staging area, which
/// a failed run never publishes. When the scan fails, a SHA-256 mismatch is the error reported:
/// a corrupt file explains whatever else went wrong.
fn scan_range(
    ctx: &ScanContext<'_>,
    range: &RangePlan,
    decoders: &mut TableDecoders,
    sink: &mut impl BatchSink,
    outcome: &mut JobOutcome,
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
        decoders,
        sink,
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
    ctx: &ScanContext<'_>,
    range: &RangePlan,
    write_reader: &SstReader<SstFile>,
    default_reader: Option<(&str, &SstReader<SstFile>)>,
    decoders: &mut TableDecoders,
    sink: &mut impl BatchSink,
    outcome: &mut JobOutcome,
) -> Result<KvChecksum> {
    let write_name = range.write.name.as_str();
    let mut defaults =
        default_reader.map(|(name, reader)| DefaultCursor::new(name, reader.entries()));
    let mut raw_key = Vec::new();
    let mut default_key = Vec::new();
    // What BR's `crc64xor`/`total_kvs`/`total_bytes` of the write-CF file cover: pairs whose value
    // is inline in the write record (and deletes); long values count in the default-CF file.
    let mut write_checksum = KvChecksum::default();
    let mut write_tables = PhysicalChecksums::default();

    // Consecutive keys nearly always belong to the same table: it is looked up once.
    let mut last_table = None;
    let mut entries = write_reader.entries();
    while let Some(entry) = entries.next().map_err(|source| Error::Sst {
        file: write_name.to_string(),
        source,
    })? {
        outcome.write_cf_entries += 1;
        if entry.value_type != ValueType::Value {
            return Err(Error::decode(
                write_name,
                "?",
                entry.user_key,
                format!(
                    "unexpected RocksDB entry type {:?}; BR SSTs hold only puts",
                    entry.value_type
                ),
            ));
        }
        let commit_ts = decode_data_key(entry.user_key, &mut raw_key)
            .map_err(|e| Error::codec(write_name, "?", entry.user_key, e))?;
        let record = WriteRecord::parse(entry.value).map_err(|e| Error::Decode {
            file: write_name.to_string(),
            table: "?".into(),
            key: hex::encode(&raw_key),
            message: format!("write record at commit_ts {commit_ts}: {e}"),
            source: Some(Box::new(e)),
        })?;
        let pair = match (record.write_type, record.short_value) {
            (WriteType::Put, Some(value)) => Some(KvChecksum::of_pair(&raw_key, value)),
            (WriteType::Delete, _) => Some(KvChecksum::of_pair(&raw_key, &[])),
            _ => None,
        };
        let key = parse_tidb_key(&raw_key);
        if let Some(pair) = pair {
            write_checksum.merge(pair);
            if let Ok(TidbKey::Record { table_id, .. } | TidbKey::Index { table_id, .. }) = &key {
                write_tables.add(*table_id, pair);
            }
        }
        let (physical_id, handle) = match key {
            Ok(TidbKey::Record { table_id, handle }) => (table_id, handle),
            Ok(TidbKey::Index { table_id, .. }) => {
                outcome.skipped.index_keys += 1;
                if let Some(table) = ctx.tables.get(&table_id) {
                    outcome.table_kvs.entry(table.table_id).index_kvs += 1;
                }
                continue;
            }
            Ok(_) => {
                outcome.skipped.non_table_keys += 1;
                continue;
            }
            Err(e) => return Err(Error::codec(write_name, "?", &raw_key, e)),
        };
        let table = match last_table {
            Some((last_id, table)) if last_id == physical_id => table,
            _ => {
                let table = ctx.tables.get(&physical_id);
                last_table = Some((physical_id, table));
                table
            }
        };
        // Named only when an error is built: formatting the name costs an allocation per row.
        let table_name = || table.map_or_else(|| physical_id.to_string(), |t| t.qualified_name());
        // A long value is found even for rows that are not exported, so that the default-CF
        // file is read (and checksummed) completely and only true orphans are counted.
        let long_value = match (record.write_type, record.short_value) {
            (WriteType::Put, None) => {
                let Some(cursor) = defaults.as_mut() else {
                    return Err(Error::decode(
                        write_name,
                        table_name(),
                        &raw_key,
                        format!(
                            "the row value lives in the default CF (start_ts {}), but the backup \
                             lists no default-CF SST for this range",
                            record.start_ts
                        ),
                    ));
                };
                data_key_with_ts(entry.user_key, record.start_ts, &mut default_key);
                match cursor.find(&default_key)? {
                    Some(value) => Some(value),
                    None => {
                        return Err(Error::decode(
                            write_name,
                            table_name(),
                            &raw_key,
                            format!(
                                "default-CF value for start_ts {} is missing from {}",
                                record.start_ts, cursor.name
                            ),
                        ))
                    }
                }
            }
            _ => None,
        };
        let Some(table) = table else {
            outcome.skipped.other_table_rows += 1;
            continue;
        };
        outcome.table_kvs.entry(table.table_id).record_kvs += 1;
        let data = match record.write_type {
            // `long_value` was found above whenever the short value is missing.
            WriteType::Put => RowData::Put(record.short_value.or(long_value).unwrap_or_default()),
            WriteType::Delete if ctx.kind == BackupKind::Incremental => {
                outcome.deletes += 1;
                RowData::Delete
            }
            WriteType::Delete => {
                return Err(Error::decode(
                    write_name,
                    table_name(),
                    &raw_key,
                    "a Delete record in a full backup (start_version 0); BR writes deletes only \
                     into incremental backups",
                ))
            }
            WriteType::Lock | WriteType::Rollback => {
                outcome.skipped.lock_or_rollback_records += 1;
                continue;
            }
        };
        let decoder = decoders.get_or_try_insert(table.table_id, || {
            let builder = TableBatchBuilder::new(table.clone(), ctx.kind, write_name, ctx.batch)?;
            Ok(TableDecoder {
                table: table.clone(),
                builder: if ctx.lenient {
                    builder.lenient()
                } else {
                    builder
                },
                first_sst: range.write.name.clone(),
                invalid_dates_sent: Vec::new(),
            })
        })?;
        let key = RowKey {
            physical_id,
            handle,
            commit_ts,
        };
        if decoder.builder.push_row(&key, data)? {
            decoder.flush(sink)?;
        }
    }
    let mut range_checksum = write_checksum;
    if ctx.verify {
        verify_file_checksum(&range.write, &write_checksum)?;
        verify_table_metas(&range.write, &write_tables)?;
    }
    write_tables.attribute(ctx.tables, outcome);
    if let (Some(cursor), Some(file)) = (defaults.as_mut(), &range.default) {
        outcome.skipped.orphan_default_values += cursor.drain()?;
        if ctx.verify {
            verify_file_checksum(file, &cursor.checksum)?;
            verify_table_metas(file, &cursor.tables)?;
        }
        cursor.tables.attribute(ctx.tables, outcome);
        range_checksum.merge(cursor.checksum);
    }
    Ok(range_checksum)
}

/// Compares each table's pairs in an SST with its `File.table_metas` entry, when BR recorded
/// them (an SST holding several tables): a table listed with other sums, or holding keys
/// without being listed, is a mismatch.
fn verify_table_metas(file: &FileMeta, actual: &PhysicalChecksums) -> Result<()> {
    if file.table_metas.is_empty() {
        return Ok(());
    }
    let mismatch = |physical_id: i64, expected: KvChecksum, actual: KvChecksum| Error::Integrity {
        object: file.name.clone(),
        message: format!(
            "checksum mismatch of physical table {physical_id}: backupmeta's table_metas say \
             {expected}, the SST holds {actual}"
        ),
    };
    for meta in &file.table_metas {
        let expected = KvChecksum::new(meta.crc64xor, meta.total_kvs, meta.total_bytes);
        let found = actual.get(meta.physical_id);
        if found != expected {
            return Err(mismatch(meta.physical_id, expected, found));
        }
    }
    for (physical_id, found) in &actual.sums {
        if !file
            .table_metas
            .iter()
            .any(|m| m.physical_id == *physical_id)
        {
            return Err(mismatch(*physical_id, KvChecksum::default(), *found));
        }
    }
    Ok(())
}

/// Opens an SST of the backup, hashing it as it is read when it is to be verified against
/// `backupmeta`'s SHA-256, and decrypting block by block when the backup is encrypted.
fn open_sst(ctx: &ScanContext<'_>, file: &FileMeta) -> Result<SstReader<SstFile>> {
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
        message: format!("checksum mismatch: backupmeta says {expected}, the SST holds {actual}"),
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
    /// The same, per physical table.
    tables: PhysicalChecksums,
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
            tables: PhysicalChecksums::default(),
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
                decode_data_key(entry.user_key, &mut self.raw_key)
                    .map_err(|e| Error::codec(self.name, "?", entry.user_key, e))?;
                let pair = KvChecksum::of_pair(&self.raw_key, entry.value);
                self.checksum.merge(pair);
                if let Some(physical_id) = table_id_of(&self.raw_key) {
                    self.tables.add(physical_id, pair);
                }
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
