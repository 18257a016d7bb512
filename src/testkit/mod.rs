//! Writes BR-shaped backups: TiDB schema JSON, row-format-v2 values, MVCC keys, write-CF and
//! default-CF SSTs (genuine RocksDB block-based tables, from [`crate::sst::SstWriter`]) and
//! `backupmeta` v1 or v2.
//!
//! Used by the tests, the benchmarks and `examples/make_sample_backup.rs`. Each test table also
//! knows the values it holds, so a test can compare an export with the truth
//! ([`TestTable::expected_json`]).

pub mod sample;
mod table;

pub use table::{tp, Cell, TestColumn, TestRow, TestTable};

use std::collections::BTreeMap;
use std::path::Path;

use prost::Message;
use sha2::{Digest, Sha256};

use crate::codec::checksum::KvChecksum;
use crate::codec::key::{encode_data_key, encode_index_key_prefix};
use crate::codec::mvcc::{WriteRecord, WriteType};
use crate::crypter::{CipherMethod, Crypter, IV_LEN};
use crate::proto::backup::{BackupMeta, File as FileMeta, MetaFile, Schema, TableMeta};
use crate::sst::{SstWriter, WriterOptions};
use crate::{Error, Result};

/// TiKV inlines row values up to this length in the write record; longer ones go to the default CF.
pub const SHORT_VALUE_MAX_LEN: usize = 255;

/// Which `backupmeta` layout to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaLayout {
    /// Files and schemas inline in `backupmeta` (BR before v7.5 by default).
    V1,
    /// Files and schemas in `backupmeta.datafile.*` / `backupmeta.schema.*` leaves.
    V2,
}

/// How to lay out a test backup.
#[derive(Debug, Clone)]
pub struct BackupWriter {
    /// The `backupmeta` layout.
    pub layout: MetaLayout,
    /// Rows per backed-up range (per write-CF SST).
    pub rows_per_range: usize,
    /// Options of every SST.
    pub sst: WriterOptions,
    /// Whether to also back up one index per table (index keys must be skipped by readers).
    pub with_index_keys: bool,
    /// The backup TSO.
    pub end_version: u64,
    /// The PD cluster id.
    pub cluster_id: u64,
    /// 0 for a full backup; the previous backup's TSO for an incremental one.
    pub start_version: u64,
    /// BR's `--crypter.method` and key (test keys only: `Debug` shows them). `None` writes what
    /// TiKV before v5.3 wrote: no `cipher_iv` anywhere. `Some((Plaintext, _))` writes what later
    /// TiKV writes for a plaintext backup: a `cipher_iv` on every SST, nothing encrypted. An AES
    /// method encrypts every SST (with a per-file `cipher_iv`), every MetaFile object (with
    /// its entry's `cipher_iv`) and `backupmeta` (`IV ‖ ciphertext`). IVs are derived from the
    /// object names, so the output stays deterministic.
    pub encryption: Option<(CipherMethod, Vec<u8>)>,
    /// The DDL jobs to record (TiDB `model.Job` JSON objects, `backupmeta.ddls`): in meta v1 the
    /// root's JSON array, in meta v2 one `MetaFile.ddls` element each in a
    /// `backupmeta.ddl.000000003` leaf (no leaf when empty). Empty by default, as in a full backup.
    pub ddls: Vec<serde_json::Value>,
    /// [`Self::write`] and [`Self::write_streaming`] number their ranges from `region_base + 1`,
    /// the `<region>` of the SST names `1/<region>_7_<physical id>_write.sst` (and so of the
    /// Parquet files exported from them). Backups of one chain written with different bases get
    /// different names, as real BR's do (its names carry the backup's timestamp). Default 1.
    pub region_base: u64,
}

impl Default for BackupWriter {
    fn default() -> Self {
        BackupWriter {
            layout: MetaLayout::V2,
            rows_per_range: 1000,
            sst: WriterOptions::default(),
            with_index_keys: true,
            end_version: 459_177_129_704_947_714,
            cluster_id: 7_000_000_000_000_000_001,
            start_version: 0,
            encryption: None,
            ddls: Vec::new(),
            region_base: 1,
        }
    }
}

/// A row to write: its raw key, its index (which picks its timestamps), the row and its table.
type KeyedRow<'a> = (Vec<u8>, usize, &'a TestRow, &'a TestTable);

/// What was written, for assertions.
#[derive(Debug, Default, Clone)]
pub struct WrittenBackup {
    /// Write-CF SSTs written.
    pub write_ssts: Vec<String>,
    /// Default-CF SSTs written.
    pub default_ssts: Vec<String>,
    /// Index-key entries written (all to be skipped).
    pub index_keys: u64,
}

impl BackupWriter {
    /// The start_ts of the transaction that wrote row `index` of a table.
    pub fn start_ts(&self, index: usize) -> u64 {
        self.end_version - 1_000_000 + 2 * index as u64
    }

    /// The commit_ts of row `index` of a table (what `_tidb_commit_ts` holds).
    pub fn commit_ts(&self, index: usize) -> u64 {
        self.start_ts(index) + 1
    }

    /// Writes `tables` as a backup under `dir` (created if needed).
    pub fn write(&self, dir: &Path, tables: &[TestTable]) -> Result<WrittenBackup> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
        let mut written = WrittenBackup::default();
        let mut files = Vec::new();
        let mut region = self.region_base;
        let mut table_checksums = Vec::with_capacity(tables.len());
        for table in tables {
            let first_file = files.len();
            for (physical_id, rows) in table.rows_by_physical_id()? {
                for chunk in rows.chunks(self.rows_per_range.max(1)) {
                    region += 1;
                    let stem = format!("1/{region}_7_{:016x}", physical_id);
                    let keyed: Vec<KeyedRow<'_>> = chunk
                        .iter()
                        .map(|(key, i, row)| (key.clone(), *i, *row, table))
                        .collect();
                    files.extend(self.write_range(dir, &stem, &keyed, false, &mut written)?.0);
                }
                if self.with_index_keys && !rows.is_empty() {
                    region += 1;
                    let stem = format!("1/{region}_7_{:016x}_idx", physical_id);
                    files.push(self.write_index_range(
                        dir,
                        &stem,
                        physical_id,
                        rows.len(),
                        &mut written,
                    )?);
                }
            }
            // BR's Schema checksum covers the record and index ranges of every physical id.
            let checksum: KvChecksum = files.iter().skip(first_file).map(file_checksum).sum();
            table_checksums.push(checksum);
        }
        let schemas: Vec<Schema> = tables
            .iter()
            .zip(table_checksums)
            .map(|(table, checksum)| {
                self.with_schema_checksum(
                    table.schema_message_with_index(self.with_index_keys),
                    checksum,
                )
            })
            .collect();
        self.write_meta(dir, files, schemas)?;
        Ok(written)
    }

    /// Writes a backup of one table whose rows arrive a range at a time, for backups too large
    /// to hold as [`TestRow`]s (the benchmarks' generator). `next_range` returns the next range's
    /// rows, or `None` after the last; each call's rows become one write-CF SST (and its
    /// default-CF twin), whatever [`Self::rows_per_range`] says. Rows must belong to the table's
    /// own physical id, and every range's keys must sort after the previous range's.
    /// `table.rows` is not written. The `n`-th row over all ranges gets the timestamps
    /// [`Self::start_ts`]`(n)` / [`Self::commit_ts`]`(n)`, as in [`Self::write`]. No index keys
    /// are written.
    pub fn write_streaming(
        &self,
        dir: &Path,
        table: &TestTable,
        next_range: &mut dyn FnMut() -> Result<Option<Vec<TestRow>>>,
    ) -> Result<WrittenBackup> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
        let mut written = WrittenBackup::default();
        let mut files = Vec::new();
        let mut region = self.region_base;
        let mut first_index = 0;
        let mut last_key: Option<Vec<u8>> = None;
        while let Some(rows) = next_range()? {
            let mut keyed = Vec::with_capacity(rows.len());
            for (offset, row) in rows.iter().enumerate() {
                if row.physical_id.is_some_and(|id| id != table.id) {
                    return Err(Error::Usage(
                        "testkit: write_streaming writes unpartitioned tables only".into(),
                    ));
                }
                let key = table.record_key(table.id, row)?;
                keyed.push((key, first_index + offset, row));
            }
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            first_index += rows.len();
            let Some((first_key, ..)) = keyed.first() else {
                continue;
            };
            if last_key.as_ref().is_some_and(|last| last >= first_key) {
                return Err(Error::Usage(
                    "testkit: write_streaming ranges must come in key order".into(),
                ));
            }
            last_key = keyed.last().map(|(k, ..)| k.clone());
            region += 1;
            let stem = format!("1/{region}_7_{:016x}", table.id);
            let keyed: Vec<KeyedRow<'_>> = keyed
                .into_iter()
                .map(|(key, i, row)| (key, i, row, table))
                .collect();
            files.extend(self.write_range(dir, &stem, &keyed, false, &mut written)?.0);
        }
        let checksum: KvChecksum = files.iter().map(file_checksum).sum();
        let schema = self.with_schema_checksum(table.schema_message(), checksum);
        self.write_meta(dir, files, vec![schema])?;
        Ok(written)
    }

    /// `schema` with the table's BR checksum; BR skips the checksum of incremental backups,
    /// leaving all three fields 0.
    fn with_schema_checksum(&self, mut schema: Schema, checksum: KvChecksum) -> Schema {
        if self.start_version == 0 {
            schema.crc64xor = checksum.crc64xor;
            schema.total_kvs = checksum.total_kvs;
            schema.total_bytes = checksum.total_bytes;
        }
        schema
    }

    fn write_range(
        &self,
        dir: &Path,
        stem: &str,
        rows: &[KeyedRow<'_>],
        table_metas: bool,
        written: &mut WrittenBackup,
    ) -> Result<(Vec<FileMeta>, BTreeMap<i64, KvChecksum>)> {
        let mut write_entries = Vec::with_capacity(rows.len());
        let mut default_entries = Vec::new();
        // TiKV counts a pair in the default-CF file when its value lives there, else (inline
        // short value, Delete) in the write-CF file; per physical table for `table_metas`.
        let mut write_checksums: BTreeMap<i64, KvChecksum> = BTreeMap::new();
        let mut default_checksums: BTreeMap<i64, KvChecksum> = BTreeMap::new();
        for (raw_key, index, row, table) in rows {
            let physical_id = row.physical_id.unwrap_or(table.id);
            let (start_ts, commit_ts) = (self.start_ts(*index), self.commit_ts(*index));
            let record = if row.deleted {
                write_checksums
                    .entry(physical_id)
                    .or_default()
                    .update(raw_key, &[]);
                WriteRecord::new(WriteType::Delete, start_ts, None).encode()
            } else {
                let value = table.encode_row(row)?;
                let short = (value.len() <= SHORT_VALUE_MAX_LEN).then_some(value.as_slice());
                if short.is_none() {
                    default_checksums
                        .entry(physical_id)
                        .or_default()
                        .update(raw_key, &value);
                    default_entries.push((encode_data_key(raw_key, start_ts), value.clone()));
                } else {
                    write_checksums
                        .entry(physical_id)
                        .or_default()
                        .update(raw_key, &value);
                }
                WriteRecord::new(WriteType::Put, start_ts, short).encode()
            }
            .map_err(|e| Error::Usage(format!("testkit: {e}")))?;
            write_entries.push((encode_data_key(raw_key, commit_ts), record));
        }
        let start_key = rows.first().map(|(k, ..)| k.clone()).unwrap_or_default();
        let mut end_key = rows.last().map(|(k, ..)| k.clone()).unwrap_or_default();
        end_key.push(0);
        let credit = |file: FileMeta, checksums: &BTreeMap<i64, KvChecksum>| {
            let mut file = with_checksum(file, checksums.values().copied().sum());
            if table_metas {
                file.table_metas = checksums
                    .iter()
                    .map(|(id, sum)| TableMeta {
                        physical_id: *id,
                        crc64xor: sum.crc64xor,
                        total_kvs: sum.total_kvs,
                        total_bytes: sum.total_bytes,
                    })
                    .collect();
            }
            file
        };
        let mut files = Vec::new();
        // BR lists the default file right before its write twin; readers must not rely on it.
        if !default_entries.is_empty() {
            let name = format!("{stem}_default.sst");
            let file =
                self.write_sst(dir, &name, "default", default_entries, &start_key, &end_key)?;
            files.push(credit(file, &default_checksums));
            written.default_ssts.push(name);
        }
        let name = format!("{stem}_write.sst");
        let file = self.write_sst(dir, &name, "write", write_entries, &start_key, &end_key)?;
        files.push(credit(file, &write_checksums));
        written.write_ssts.push(name);
        // Each physical table's pairs over both files: what its `Schema` checksum covers.
        for (id, sum) in default_checksums {
            write_checksums.entry(id).or_default().merge(sum);
        }
        Ok((files, write_checksums))
    }

    /// Writes `tables` as a backup of one range whose SSTs hold the rows of every table, as TiKV
    /// writes them for small tables whose regions were merged. With `table_metas`, each file lists
    /// every table's share of its checksum (`File.table_metas`). Tables must come in ascending id
    /// order; no index keys are written.
    pub fn write_shared_range(
        &self,
        dir: &Path,
        tables: &[TestTable],
        table_metas: bool,
    ) -> Result<WrittenBackup> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
        let mut written = WrittenBackup::default();
        let mut rows: Vec<KeyedRow<'_>> = Vec::new();
        for table in tables {
            for (_, keyed) in table.rows_by_physical_id()? {
                rows.extend(keyed.into_iter().map(|(key, i, row)| (key, i, row, table)));
            }
        }
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let (files, by_physical_id) =
            self.write_range(dir, "1/2_7_shared", &rows, table_metas, &mut written)?;
        let schemas = tables
            .iter()
            .map(|table| {
                let ids: Vec<i64> = match table.partitions.is_empty() {
                    true => vec![table.id],
                    false => table.partitions.iter().map(|(id, _)| *id).collect(),
                };
                let sum: KvChecksum = ids
                    .iter()
                    .filter_map(|id| by_physical_id.get(id).copied())
                    .sum();
                self.with_schema_checksum(table.schema_message(), sum)
            })
            .collect();
        self.write_meta(dir, files, schemas)?;
        Ok(written)
    }

    fn write_index_range(
        &self,
        dir: &Path,
        stem: &str,
        physical_id: i64,
        rows: usize,
        written: &mut WrittenBackup,
    ) -> Result<FileMeta> {
        let prefix = encode_index_key_prefix(physical_id, table::SECONDARY_INDEX_ID);
        let ts_base = self.start_ts(0);
        let mut entries = Vec::with_capacity(rows);
        let mut checksum = KvChecksum::default();
        for i in 0..rows as u64 {
            let mut raw_key = prefix.clone();
            raw_key.push(3); // intFlag datum: a unique index over an integer column
            raw_key.extend_from_slice(&(i ^ (1 << 63)).to_be_bytes());
            checksum.update(&raw_key, b"0");
            let record = WriteRecord::new(WriteType::Put, ts_base, Some(b"0"))
                .encode()
                .map_err(|e| Error::Usage(format!("testkit: {e}")))?;
            entries.push((encode_data_key(&raw_key, ts_base + 1), record));
        }
        entries.sort();
        written.index_keys += entries.len() as u64;
        let mut end_key = prefix.clone();
        end_key.push(0xff);
        let name = format!("{stem}_write.sst");
        let file = self.write_sst(dir, &name, "write", entries, &prefix, &end_key)?;
        written.write_ssts.push(name);
        Ok(with_checksum(file, checksum))
    }

    /// Writes one SST and returns its `File` entry, without the key/value checksum (the caller
    /// knows which pairs the file is credited with).
    fn write_sst(
        &self,
        dir: &Path,
        name: &str,
        cf: &str,
        mut entries: Vec<(Vec<u8>, Vec<u8>)>,
        start_key: &[u8],
        end_key: &[u8],
    ) -> Result<FileMeta> {
        entries.sort();
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(parent.display().to_string(), e))?;
        }
        let file =
            std::fs::File::create(&path).map_err(|e| Error::io(path.display().to_string(), e))?;
        let mut options = self.sst.clone();
        options.column_family = cf.to_string();
        let mut writer = SstWriter::new(std::io::BufWriter::new(file), options);
        for (key, value) in &entries {
            writer.put(key, value).map_err(|source| Error::Sst {
                file: name.into(),
                source,
            })?;
        }
        writer.finish().map_err(|source| Error::Sst {
            file: name.into(),
            source,
        })?;
        let plaintext =
            std::fs::read(&path).map_err(|e| Error::io(path.display().to_string(), e))?;
        let mut cipher_iv = Vec::new();
        let mut stored = None;
        if let Some(crypter) = self.crypter()? {
            // TiKV (>= v5.3) sets a fresh IV on every SST, even when it does not encrypt.
            let iv = derived_iv(name);
            cipher_iv = iv.to_vec();
            if crypter.is_encrypted() {
                let ciphertext = crypter.encrypt(&iv, &plaintext)?;
                write_file(&path, &ciphertext)?;
                stored = Some(ciphertext);
            }
        }
        Ok(FileMeta {
            name: name.to_string(),
            // The hash of the object as stored; the size of the plaintext SST.
            sha256: Sha256::digest(stored.as_deref().unwrap_or(&plaintext)).to_vec(),
            start_key: start_key.to_vec(),
            end_key: end_key.to_vec(),
            start_version: self.start_version,
            end_version: self.end_version,
            cf: cf.to_string(),
            size: plaintext.len() as u64,
            cipher_iv,
            ..Default::default()
        })
    }

    /// The crypter of [`BackupWriter::encryption`].
    fn crypter(&self) -> Result<Option<Crypter>> {
        self.encryption
            .as_ref()
            .map(|(method, key)| Crypter::new(*method, key))
            .transpose()
    }

    fn write_meta(&self, dir: &Path, files: Vec<FileMeta>, schemas: Vec<Schema>) -> Result<()> {
        let crypter = self.crypter()?;
        let crypter = crypter.as_ref();
        let mut meta = BackupMeta {
            cluster_id: self.cluster_id,
            cluster_version: "\"8.5.0\"".into(),
            start_version: self.start_version,
            end_version: self.end_version,
            br_version: "br-parquet testkit".into(),
            new_collations_enabled: "True".into(),
            ddls: b"[]".to_vec(),
            ..Default::default()
        };
        match self.layout {
            MetaLayout::V1 => {
                meta.files = files;
                meta.schemas = schemas;
                if !self.ddls.is_empty() {
                    meta.ddls = serde_json::Value::Array(self.ddls.clone())
                        .to_string()
                        .into_bytes();
                }
            }
            MetaLayout::V2 => {
                meta.version = 1;
                let data = MetaFile {
                    data_files: files,
                    ..Default::default()
                };
                meta.file_index = Some(MetaFile {
                    meta_files: vec![write_leaf(
                        dir,
                        "backupmeta.datafile.000000001",
                        &data,
                        crypter,
                    )?],
                    ..Default::default()
                });
                // Leaves of at most 128 MiB, as BR's `metautil.MetaFileSize`: the first keeps
                // its name, later ones count on after the DDL leaf's.
                let mut leaves = Vec::new();
                for (i, schemas) in schema_leaves(schemas, META_FILE_SIZE)
                    .into_iter()
                    .enumerate()
                {
                    let counter = if i == 0 { 2 } else { 3 + i };
                    let leaf = MetaFile {
                        schemas,
                        ..Default::default()
                    };
                    let name = format!("backupmeta.schema.{counter:09}");
                    leaves.push(write_leaf(dir, &name, &leaf, crypter)?);
                }
                meta.schema_index = Some(MetaFile {
                    meta_files: leaves,
                    ..Default::default()
                });
                if !self.ddls.is_empty() {
                    let ddl = MetaFile {
                        ddls: self
                            .ddls
                            .iter()
                            .map(|job| job.to_string().into_bytes())
                            .collect(),
                        ..Default::default()
                    };
                    meta.ddl_indexes = Some(MetaFile {
                        meta_files: vec![write_leaf(
                            dir,
                            "backupmeta.ddl.000000003",
                            &ddl,
                            crypter,
                        )?],
                        ..Default::default()
                    });
                }
            }
        }
        let bytes = meta.encode_to_vec();
        let stored = match crypter {
            Some(crypter) => crypter.encrypt_backupmeta(&derived_iv("backupmeta"), &bytes),
            None => bytes,
        };
        write_file(&dir.join("backupmeta"), &stored)?;
        write_file(
            &dir.join("backup.lock"),
            b"DO NOT DELETE\nThis file exists to remind other backup jobs won't use this path",
        )
    }
}

/// BR's limit on a MetaFile leaf (`metautil.MetaFileSize`).
const META_FILE_SIZE: usize = 128 << 20;

/// `schemas` cut into leaves of at most `limit` encoded bytes (one leaf, maybe empty, at least).
fn schema_leaves(schemas: Vec<Schema>, limit: usize) -> Vec<Vec<Schema>> {
    let mut leaves = vec![Vec::new()];
    let mut size = 0;
    for schema in schemas {
        // The element's tag and length prefix: a few bytes.
        let len = schema.encoded_len() + 8;
        if size + len > limit && leaves.last().is_some_and(|leaf| !leaf.is_empty()) {
            leaves.push(Vec::new());
            size = 0;
        }
        size += len;
        if let Some(leaf) = leaves.last_mut() {
            leaf.push(schema);
        }
    }
    leaves
}

/// Writes a MetaFile object as BR does: encrypted whole with its own IV when `crypter`
/// encrypts; the entry's `sha256` and `size` are those of the plaintext.
fn write_leaf(
    dir: &Path,
    name: &str,
    leaf: &MetaFile,
    crypter: Option<&Crypter>,
) -> Result<FileMeta> {
    let bytes = leaf.encode_to_vec();
    let mut cipher_iv = Vec::new();
    match crypter.filter(|c| c.is_encrypted() && !bytes.is_empty()) {
        Some(crypter) => {
            let iv = derived_iv(name);
            write_file(&dir.join(name), &crypter.encrypt(&iv, &bytes)?)?;
            cipher_iv = iv.to_vec();
        }
        None => write_file(&dir.join(name), &bytes)?,
    }
    Ok(FileMeta {
        name: name.to_string(),
        sha256: Sha256::digest(&bytes).to_vec(),
        size: bytes.len() as u64,
        cipher_iv,
        ..Default::default()
    })
}

/// A random-looking but deterministic IV for the object `name` (TiKV and BR draw real ones
/// from the OS).
fn derived_iv(name: &str) -> [u8; IV_LEN] {
    let digest = Sha256::new()
        .chain_update(b"br-parquet testkit cipher_iv\0")
        .chain_update(name.as_bytes())
        .finalize();
    let mut iv = [0u8; IV_LEN];
    iv.copy_from_slice(&digest[..IV_LEN]);
    iv
}

/// The checksum fields of a `File` entry.
fn file_checksum(file: &FileMeta) -> KvChecksum {
    KvChecksum::new(file.crc64xor, file.total_kvs, file.total_bytes)
}

/// `file` with the checksum of the pairs credited to it.
fn with_checksum(mut file: FileMeta, checksum: KvChecksum) -> FileMeta {
    file.crc64xor = checksum.crc64xor;
    file.total_kvs = checksum.total_kvs;
    file.total_bytes = checksum.total_bytes;
    file
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| Error::io(path.display().to_string(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_leaves_are_cut_at_the_limit() {
        let schema = |n: usize| Schema {
            table: vec![b'x'; n].into(),
            ..Schema::default()
        };
        let sizes =
            |leaves: &[Vec<Schema>]| -> Vec<usize> { leaves.iter().map(Vec::len).collect() };
        // Each schema is about 100 bytes encoded: two fit in 250.
        let leaves = schema_leaves((0..5).map(|_| schema(95)).collect(), 250);
        assert_eq!(sizes(&leaves), [2, 2, 1]);
        // A schema larger than the limit gets a leaf of its own; nothing is dropped.
        let leaves = schema_leaves(vec![schema(10), schema(400), schema(10)], 250);
        assert_eq!(sizes(&leaves), [1, 1, 1]);
        assert_eq!(sizes(&schema_leaves(Vec::new(), 250)), [0]);
    }
}
