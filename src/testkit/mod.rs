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

use std::path::Path;

use prost::Message;
use sha2::{Digest, Sha256};

use crate::codec::key::{encode_data_key, encode_index_key_prefix, encode_record_key};
use crate::codec::mvcc::{WriteRecord, WriteType};
use crate::proto::backup::{BackupMeta, File as FileMeta, MetaFile, Schema};
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
        }
    }
}

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
    /// Writes `tables` as a backup under `dir` (created if needed).
    pub fn write(&self, dir: &Path, tables: &[TestTable]) -> Result<WrittenBackup> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
        let mut written = WrittenBackup::default();
        let mut files = Vec::new();
        let mut region = 1u64;
        let ts_base = self.end_version - 1_000_000;
        for table in tables {
            for (physical_id, rows) in table.rows_by_physical_id() {
                for chunk in rows.chunks(self.rows_per_range.max(1)) {
                    region += 1;
                    let stem = format!("1/{region}_7_{:016x}", physical_id);
                    files.extend(self.write_range(
                        dir,
                        &stem,
                        physical_id,
                        chunk,
                        table,
                        ts_base,
                        &mut written,
                    )?);
                }
                if self.with_index_keys && !rows.is_empty() {
                    region += 1;
                    let stem = format!("1/{region}_7_{:016x}_idx", physical_id);
                    files.push(self.write_index_range(
                        dir,
                        &stem,
                        physical_id,
                        rows,
                        ts_base,
                        &mut written,
                    )?);
                }
            }
        }
        let schemas: Vec<Schema> = tables.iter().map(TestTable::schema_message).collect();
        self.write_meta(dir, files, schemas)?;
        Ok(written)
    }

    #[allow(clippy::too_many_arguments)]
    fn write_range(
        &self,
        dir: &Path,
        stem: &str,
        physical_id: i64,
        rows: &[&TestRow],
        table: &TestTable,
        ts_base: u64,
        written: &mut WrittenBackup,
    ) -> Result<Vec<FileMeta>> {
        let mut write_entries = Vec::with_capacity(rows.len());
        let mut default_entries = Vec::new();
        for row in rows {
            let value = table.encode_row(row)?;
            let raw_key = encode_record_key(physical_id, row.handle);
            let start_ts = ts_base + 2 * row.handle.unsigned_abs() % 500_000;
            let commit_ts = start_ts + 1;
            let short = (value.len() <= SHORT_VALUE_MAX_LEN).then_some(value.as_slice());
            let record = WriteRecord::new(WriteType::Put, start_ts, short)
                .encode()
                .map_err(|e| Error::Usage(format!("testkit: {e}")))?;
            write_entries.push((encode_data_key(&raw_key, commit_ts), record));
            if short.is_none() {
                default_entries.push((encode_data_key(&raw_key, start_ts), value));
            }
        }
        let start_key = encode_record_key(physical_id, rows.first().map_or(0, |r| r.handle));
        let end_key = encode_record_key(
            physical_id,
            rows.last().map_or(0, |r| r.handle).saturating_add(1),
        );
        let mut files = Vec::new();
        if !default_entries.is_empty() {
            let name = format!("{stem}_default.sst");
            files.push(self.write_sst(
                dir,
                &name,
                "default",
                default_entries,
                &start_key,
                &end_key,
            )?);
            written.default_ssts.push(name);
        }
        let name = format!("{stem}_write.sst");
        files.push(self.write_sst(dir, &name, "write", write_entries, &start_key, &end_key)?);
        written.write_ssts.push(name);
        // BR lists the default file right before its write twin; readers must not rely on it.
        Ok(files)
    }

    fn write_index_range(
        &self,
        dir: &Path,
        stem: &str,
        physical_id: i64,
        rows: Vec<&TestRow>,
        ts_base: u64,
        written: &mut WrittenBackup,
    ) -> Result<FileMeta> {
        let prefix = encode_index_key_prefix(physical_id, 1);
        let mut entries = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut raw_key = prefix.clone();
            raw_key.push(3); // intFlag datum: the indexed value is the handle itself
            raw_key.extend_from_slice(&((row.handle as u64) ^ (1 << 63)).to_be_bytes());
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
        Ok(file)
    }

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
        let mut total_bytes = 0u64;
        for (key, value) in &entries {
            writer.put(key, value).map_err(|source| Error::Sst {
                file: name.into(),
                source,
            })?;
            total_bytes += (key.len() + value.len()) as u64;
        }
        writer.finish().map_err(|source| Error::Sst {
            file: name.into(),
            source,
        })?;
        let bytes = std::fs::read(&path).map_err(|e| Error::io(path.display().to_string(), e))?;
        Ok(FileMeta {
            name: name.to_string(),
            sha256: Sha256::digest(&bytes).to_vec(),
            start_key: start_key.to_vec(),
            end_key: end_key.to_vec(),
            start_version: 0,
            end_version: self.end_version,
            total_kvs: entries.len() as u64,
            total_bytes,
            cf: cf.to_string(),
            size: bytes.len() as u64,
            ..Default::default()
        })
    }

    fn write_meta(&self, dir: &Path, files: Vec<FileMeta>, schemas: Vec<Schema>) -> Result<()> {
        let mut meta = BackupMeta {
            cluster_id: self.cluster_id,
            cluster_version: "\"8.5.0\"".into(),
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
            }
            MetaLayout::V2 => {
                meta.version = 1;
                let data = MetaFile {
                    data_files: files,
                    ..Default::default()
                };
                let schema = MetaFile {
                    schemas,
                    ..Default::default()
                };
                meta.file_index = Some(MetaFile {
                    meta_files: vec![write_leaf(dir, "backupmeta.datafile.000000001", &data)?],
                    ..Default::default()
                });
                meta.schema_index = Some(MetaFile {
                    meta_files: vec![write_leaf(dir, "backupmeta.schema.000000002", &schema)?],
                    ..Default::default()
                });
            }
        }
        write_file(&dir.join("backupmeta"), &meta.encode_to_vec())?;
        write_file(
            &dir.join("backup.lock"),
            b"DO NOT DELETE\nThis file exists to remind other backup jobs won't use this path",
        )
    }
}

fn write_leaf(dir: &Path, name: &str, leaf: &MetaFile) -> Result<FileMeta> {
    let bytes = leaf.encode_to_vec();
    write_file(&dir.join(name), &bytes)?;
    Ok(FileMeta {
        name: name.to_string(),
        sha256: Sha256::digest(&bytes).to_vec(),
        size: bytes.len() as u64,
        ..Default::default()
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| Error::io(path.display().to_string(), e))
}
