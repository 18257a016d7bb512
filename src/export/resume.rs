//! Resuming an export: a re-run does not export again the jobs a failed or killed run of the same
//! export finished.
//!
//! Nothing is published before a whole run is verified, so a run that fails after exporting most
//! ranges leaves their files staged. When a job's files are all staged, a *job marker* is written
//! next to them, `<prefix>/_br_parquet_staging/.br-parquet-jobs/<key>.json`, recording the job's
//! whole [`JobOutcome`] (files with sizes and SHA-256, counters, checksums, column statistics).
//! A later run reuses that outcome instead of exporting the job when the marker parses and every
//! file it lists is either staged with its recorded size, or, when a run was killed while
//! publishing, already at its final name with its recorded size and SHA-256; publishing then
//! moves only the files still staged, and rewrites the `_SUCCESS` of every table.
//!
//! A staged file is checked by size only: staging is the tool's alone, and a marker goes before
//! anything can overwrite its files with other bytes (below). A published file is where readers,
//! users and other exports write too, so its SHA-256 is checked as well, reading it whole
//! (downloading it from an object store): only the files a killed run published are read, far
//! less than exporting their jobs again.
//!
//! The key is the SHA-256 of everything that decides the job's files and outcome ([`JobKeys`]):
//! the backup, the job's SSTs, the options that change bytes or counts, the tool's version and
//! [`FORMAT_VERSION`]. A run with any of them changed computes other keys and finds no marker.
//! It deletes the markers it has no key for before exporting anything: their files are about to
//! be overwritten (staged names do not depend on options), and a marker must never describe other
//! bytes than its files hold. A marker is written only after its files are staged, publishing
//! moves each file from its staged name to its final one, and the markers are deleted only once
//! every file is published and described (Iceberg metadata, manifest): so a marker implies each
//! of its files exists, staged or published, while a file may exist without a marker (its job is
//! then exported again).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::batch::BatchLimits;
use crate::integrity;
use crate::meta::{Backup, RangePlan};
use crate::sink::parquet::ParquetOptions;
use crate::storage::ExternalStorage;
use crate::{Error, Result};

use super::options::ExportOptions;
use super::report::RejectedMarker;
use super::scan::JobOutcome;
use crate::sink::layout::{job_marker_name, jobs_dir_name, staging_object_name};
use crate::sink::ExportedFile;

/// The version of the marker format, of the key's description, and of the bytes written for the
/// same options (2: dictionaries chosen from a file's first batch; 3: one record per file, with
/// its table id and column statistics, and per-table checksums); a change makes every older
/// marker unreachable, so one export never mixes files of two encoders.
const FORMAT_VERSION: u32 = 3;

/// What decides a job's files and outcome besides its own ranges, as hashed into the key.
#[derive(Debug, Serialize)]
struct RunDescription<'a> {
    format: u32,
    tool_version: &'a str,
    cluster_id: u64,
    start_version: u64,
    end_version: u64,
    /// Covers the schemas and the whole file list (v2 MetaFile leaves by their SHA-256).
    backupmeta_sha256: String,
    /// Object names of the files (and of the markers) are under it.
    output_prefix: &'a str,
    /// `Debug` of the codec with its level, e.g. `ZSTD(ZstdLevel(1))`.
    compression: String,
    row_group_rows: usize,
    row_group_bytes: usize,
    dictionary_page_bytes: usize,
    embed_arrow_schema: bool,
    batch_max_rows: usize,
    batch_max_bytes: usize,
    target_file_size: Option<u64>,
    /// Lenient jobs may drop rows a strict run would stop at.
    lenient: bool,
    /// A job exported without verification must not stand in for a verified one.
    verify: bool,
    /// The outcome holds column statistics only when they were collected.
    column_stats: bool,
}

/// Computes the keys of a run's jobs.
#[derive(Debug)]
pub(crate) struct JobKeys {
    /// The canonical JSON of the run's [`RunDescription`], hashed into every key.
    run: Vec<u8>,
}

impl JobKeys {
    /// `parquet` is the writer settings the run uses (`options.parquet` after the Iceberg
    /// override) and `output_prefix` the trimmed prefix.
    pub(crate) fn new(
        backup: &Backup,
        options: &ExportOptions,
        parquet: &ParquetOptions,
        output_prefix: &str,
    ) -> Result<Self> {
        // Every field is named, so that a new option cannot be forgotten here: it either changes
        // a job's files or outcome and goes into the key, or is ignored with a reason.
        let ExportOptions {
            input: _,               // the backup is identified by its `backupmeta`
            output: _,              // markers live in the output they describe
            output_prefix: _,       // taken trimmed, as the run uses it
            parquet: _,             // taken as the run uses it
            compression_name: _,    // a name of `parquet.compression`
            batch,                  // batch boundaries decide row group boundaries
            concurrency: _,         // a job's files do not depend on what runs beside it
            progress: _,            // stderr only
            lenient,                // below
            verify,                 // below
            target_file_size,       // below
            crypter: _,             // decryption changes no output byte; a wrong key fails
            write_iceberg_table,    // through `column_stats` and `parquet`
            write_iceberg_manifest, // through `column_stats`
            iceberg_catalog,        // implies `write_iceberg_table`; the catalog is not in files
            storage: _,             // transfers only
            resume: _,              // whether to look for markers at all
            shard: _,               // which jobs a machine exports, not what they hold
            shard_lease: _,         // when a job changes hands, not what it holds
            filter: _,              // through each range's selected tables, in `key`
        } = options;
        let ParquetOptions {
            compression,
            row_group_rows,
            row_group_bytes,
            dictionary_page_bytes,
            embed_arrow_schema,
        } = parquet;
        let BatchLimits {
            max_rows,
            max_bytes,
        } = batch;
        let description = RunDescription {
            format: FORMAT_VERSION,
            tool_version: env!("CARGO_PKG_VERSION"),
            cluster_id: backup.cluster_id,
            start_version: backup.start_version,
            end_version: backup.end_version,
            backupmeta_sha256: hex::encode(backup.backupmeta_sha256),
            output_prefix,
            compression: format!("{compression:?}"),
            row_group_rows: *row_group_rows,
            row_group_bytes: *row_group_bytes,
            dictionary_page_bytes: *dictionary_page_bytes,
            embed_arrow_schema: *embed_arrow_schema,
            batch_max_rows: *max_rows,
            batch_max_bytes: *max_bytes,
            target_file_size: *target_file_size,
            lenient: *lenient,
            verify: *verify,
            // What `ExportOptions::collects_column_stats` says.
            column_stats: *write_iceberg_table
                || iceberg_catalog.is_some()
                || *write_iceberg_manifest,
        };
        let run = serde_json::to_vec(&description)
            .map_err(|e| Error::meta("the description of the run's job keys", e.to_string()))?;
        Ok(JobKeys { run })
    }

    /// The export's identity: lowercase hex SHA-256 of the run's description (the same on every
    /// machine of one export, different for another backup, output or options).
    pub(crate) fn run_id(&self) -> String {
        hex::encode(Sha256::digest(&self.run))
    }

    /// The key of the job made of `ranges`: lowercase hex SHA-256 of the run's description, of
    /// each range's SSTs as `backupmeta` describes them (name, size, SHA-256, BR checksum) and of
    /// the tables the filter selects in it.
    pub(crate) fn key(&self, ranges: &[&RangePlan]) -> String {
        let mut hasher = Sha256::new();
        hash_field(&mut hasher, &self.run);
        for range in ranges {
            for file in [Some(&range.write), range.default.as_deref()] {
                let Some(file) = file else {
                    hasher.update([0]);
                    continue;
                };
                hasher.update([1]);
                hash_field(&mut hasher, file.name.as_bytes());
                hash_field(&mut hasher, &file.sha256);
                for number in [file.size, file.crc64xor, file.total_kvs, file.total_bytes] {
                    hasher.update(number.to_le_bytes());
                }
            }
            hasher.update((range.table_ids.len() as u64).to_le_bytes());
            for id in &range.table_ids {
                hasher.update(id.to_le_bytes());
            }
        }
        hex::encode(hasher.finalize())
    }
}

/// Hashes a variable-length field after its length, so that no two lists of fields hash the
/// same bytes.
fn hash_field(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

/// A job marker's content: written from borrowed fields (`JobMarker<&str, &JobOutcome>`), read
/// into owned ones.
#[derive(Debug, Serialize, Deserialize)]
struct JobMarker<Key, Outcome> {
    /// The key it was written under: a marker copied to another name is not trusted.
    key: Key,
    /// What the job produced; `files[].staged` is derived from `files[].path`.
    outcome: Outcome,
}

/// What a run does with one job.
#[derive(Debug)]
pub(crate) enum Previous {
    /// No marker: export it.
    NotFound,
    /// The marker and its files are intact: reuse this outcome.
    Finished(JobOutcome),
    /// A marker that cannot be trusted: export again.
    Rejected(RejectedMarker),
}

/// The job markers of one output prefix, as a run sees them.
pub(crate) struct JobMarkers<'a> {
    output: &'a ExternalStorage,
    prefix: &'a str,
    /// Keys of this run's jobs whose marker was found when the run started.
    found: HashSet<String>,
}

/// The keys of the job markers under `prefix`, found with one listing; nothing is changed.
pub(crate) fn marker_keys(output: &ExternalStorage, prefix: &str) -> Result<HashSet<String>> {
    let dir = jobs_dir_name(prefix);
    Ok(output
        .list(&dir)?
        .iter()
        .filter_map(|name| {
            name.strip_prefix(&dir)
                .and_then(|rest| rest.strip_prefix('/'))
                .and_then(|rest| rest.strip_suffix(".json"))
                .map(str::to_string)
        })
        .collect())
}

impl<'a> JobMarkers<'a> {
    /// Lists the markers under `prefix` and deletes every one that is not the key of one of
    /// `keys` (this run's jobs), since this run may overwrite its files; with `resume` off,
    /// deletes them all.
    pub(crate) fn open(
        output: &'a ExternalStorage,
        prefix: &'a str,
        keys: &[String],
        resume: bool,
    ) -> Result<Self> {
        let ours: HashSet<&str> = keys.iter().map(String::as_str).collect();
        let dir = jobs_dir_name(prefix);
        let mut found = HashSet::new();
        let mut stale = Vec::new();
        for name in output.list(&dir)? {
            match name
                .strip_prefix(&dir)
                .and_then(|rest| rest.strip_prefix('/'))
                .and_then(|rest| rest.strip_suffix(".json"))
            {
                Some(key) if resume && ours.contains(key) => {
                    found.insert(key.to_string());
                }
                _ => stale.push(name),
            }
        }
        output.delete_all(&stale)?;
        Ok(JobMarkers {
            output,
            prefix,
            found,
        })
    }

    /// What a previous run left of the job `key` made of `ranges` ranges. Storage errors are
    /// errors; a marker that does not parse or does not match its files is [`Previous::Rejected`].
    /// In a [`Previous::Finished`] outcome, `files[].staged` is `None` for the files already
    /// published.
    pub(crate) fn previous(&self, key: &str, ranges: usize) -> Result<Previous> {
        if !self.found.contains(key) {
            return Ok(Previous::NotFound);
        }
        let name = job_marker_name(self.prefix, key);
        let reject = |reason: String| {
            Ok(Previous::Rejected(RejectedMarker {
                marker: name.clone(),
                reason,
            }))
        };
        let bytes = match self.output.read(&name) {
            Ok(bytes) => bytes,
            // Deleted since the listing by another run of this export that published it.
            Err(e) if e.is_not_found() => return Ok(Previous::NotFound),
            Err(e) => return Err(e),
        };
        let marker: JobMarker<String, JobOutcome> = match serde_json::from_slice(&bytes) {
            Ok(marker) => marker,
            Err(e) => return reject(format!("does not parse: {e}")),
        };
        if marker.key != key {
            return reject(format!("records the job {}", marker.key));
        }
        let mut outcome = marker.outcome;
        if outcome.range_checksums.len() != ranges {
            return reject(format!(
                "records {} ranges, the job has {ranges}",
                outcome.range_checksums.len()
            ));
        }
        for file in &mut outcome.files {
            let staged = staging_object_name(self.prefix, &file.path);
            match self.output.size(&staged)? {
                Some(size) if size == file.size => file.staged = Some(staged),
                Some(size) => {
                    return reject(format!(
                        "{staged} has {size} bytes, not the {} recorded",
                        file.size
                    ))
                }
                // Published by a run killed while publishing, or lost.
                None => match published_mismatch(self.output, file)? {
                    None => file.staged = None,
                    Some(mismatch) => {
                        return reject(format!("{staged} is missing, and {mismatch}"))
                    }
                },
            }
        }
        Ok(Previous::Finished(outcome))
    }
}

/// How the object at `file.path` differs from the file `file` records (checking the size, then
/// the SHA-256), or `None` when it is that file.
pub(crate) fn published_mismatch(
    output: &ExternalStorage,
    file: &ExportedFile,
) -> Result<Option<String>> {
    let path = &file.path;
    match output.size(path)? {
        None => return Ok(Some(format!("{path} does not exist"))),
        Some(size) if size != file.size => {
            return Ok(Some(format!(
                "{path} has {size} bytes, not the {} recorded",
                file.size
            )))
        }
        Some(_) => {}
    }
    // The file itself on local output, a download (removed when dropped) elsewhere.
    let object = output.open_local(path)?;
    let sha256 = hex::encode(integrity::sha256_of_file(&object.path)?);
    Ok((sha256 != file.sha256).then(|| {
        format!(
            "{path} has SHA-256 {sha256}, not the {} recorded",
            file.sha256
        )
    }))
}

impl JobMarkers<'_> {
    /// Records that job `key` finished with `outcome`; call once all its files are staged.
    pub(crate) fn record(&self, key: &str, outcome: &JobOutcome) -> Result<()> {
        let name = job_marker_name(self.prefix, key);
        let marker = JobMarker { key, outcome };
        let bytes = serde_json::to_vec(&marker).map_err(|e| Error::meta(&name, e.to_string()))?;
        self.output.put_bytes(&name, bytes.into())
    }

    /// Deletes every marker under the prefix: once the files are published, none describes
    /// staged files any more.
    pub(crate) fn remove_all(&self) -> Result<()> {
        self.output
            .delete_all(&self.output.list(&jobs_dir_name(self.prefix))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::checksum::KvChecksum;
    use crate::meta::MetaVersion;
    use crate::proto::backup::File;
    use crate::sink::parquet::Codec;
    use crate::storage::url;

    use super::super::scan::TableKvs;

    fn backup() -> Backup {
        Backup {
            cluster_id: 7,
            cluster_version: "8.5.0".into(),
            br_version: String::new(),
            start_version: 0,
            end_version: 1000,
            meta_version: MetaVersion::V2,
            api_version: 0,
            new_collations_enabled: Some(true),
            files: Vec::new(),
            schemas: Vec::new(),
            ddls: Vec::new(),
            backupmeta_sha256: [0xab; 32],
        }
    }

    fn sst(name: &str) -> File {
        File {
            name: name.into(),
            sha256: vec![1; 32],
            crc64xor: 0x1234,
            total_kvs: 10,
            total_bytes: 300,
            size: 4096,
            ..File::default()
        }
    }

    fn range(stem: &str) -> RangePlan {
        RangePlan {
            write: sst(&format!("{stem}_write.sst")),
            default: Some(Box::new(sst(&format!("{stem}_default.sst")))),
            stem: stem.into(),
            table_ids: vec![100],
        }
    }

    fn options() -> ExportOptions {
        let local = url::parse_url("/nowhere").unwrap();
        ExportOptions::new(local.clone(), local)
    }

    /// A named change of one input of a key.
    type Change<T> = (&'static str, Box<dyn Fn(&mut T)>);

    /// The key of a job of ranges `1/5` and `1/6` of `backup`, run with `options`.
    fn key_of(backup: &Backup, options: &ExportOptions) -> String {
        let prefix = options.output_prefix.trim_matches('/');
        let keys = JobKeys::new(backup, options, &options.parquet, prefix).unwrap();
        keys.key(&[&range("1/5"), &range("1/6")])
    }

    #[test]
    fn keys_are_stable() {
        let key = key_of(&backup(), &options());
        assert_eq!(key.len(), 64);
        assert!(key
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(key_of(&backup(), &options()), key);
        // What does not change a job's files or outcome does not change its key.
        let mut same = options();
        same.concurrency = 17;
        same.progress = super::super::ProgressMode::None;
        same.compression_name = "another name".into();
        same.storage = crate::storage::StorageOptions::with_ratelimit_mib(Some(5));
        same.resume = false;
        same.input = url::parse_url("/elsewhere").unwrap();
        assert_eq!(key_of(&backup(), &same), key);
    }

    #[test]
    fn every_option_that_changes_the_output_changes_the_key() {
        let base = key_of(&backup(), &options());
        let changes: Vec<Change<ExportOptions>> = vec![
            (
                "codec",
                Box::new(|o| o.parquet.compression = Codec::Snappy.with_level(None).unwrap()),
            ),
            (
                "level",
                Box::new(|o| o.parquet.compression = Codec::Zstd.with_level(Some(3)).unwrap()),
            ),
            (
                "row group rows",
                Box::new(|o| o.parquet.row_group_rows = 10),
            ),
            (
                "row group bytes",
                Box::new(|o| o.parquet.row_group_bytes = 10),
            ),
            (
                "dictionary page bytes",
                Box::new(|o| o.parquet.dictionary_page_bytes = 10),
            ),
            (
                "embedded Arrow schema",
                Box::new(|o| o.parquet.embed_arrow_schema = false),
            ),
            ("batch rows", Box::new(|o| o.batch.max_rows = 10)),
            ("batch bytes", Box::new(|o| o.batch.max_bytes = 10)),
            (
                "target file size",
                Box::new(|o| o.target_file_size = Some(1 << 20)),
            ),
            ("lenient", Box::new(|o| o.lenient = true)),
            ("verify", Box::new(|o| o.verify = false)),
            (
                "column statistics",
                Box::new(|o| o.write_iceberg_manifest = true),
            ),
            (
                "output prefix",
                Box::new(|o| o.output_prefix = "other".into()),
            ),
        ];
        let mut seen = HashSet::from([base.clone()]);
        for (what, change) in changes {
            let mut changed = options();
            change(&mut changed);
            let key = key_of(&backup(), &changed);
            assert_ne!(key, base, "{what} kept the key");
            assert!(seen.insert(key), "{what} gave another change's key");
        }
        // Iceberg tables need the statistics the JSON manifest needs (and files without an
        // embedded Arrow schema, which `run` sets in the Parquet options it passes).
        let mut iceberg = options();
        iceberg.write_iceberg_table = true;
        let mut manifest = options();
        manifest.write_iceberg_manifest = true;
        assert_eq!(key_of(&backup(), &iceberg), key_of(&backup(), &manifest));
        let backups: Vec<Change<Backup>> = vec![
            ("cluster id", Box::new(|b| b.cluster_id += 1)),
            ("start version", Box::new(|b| b.start_version = 1)),
            ("end version", Box::new(|b| b.end_version += 1)),
            ("backupmeta", Box::new(|b| b.backupmeta_sha256[31] ^= 1)),
        ];
        for (what, change) in backups {
            let mut changed = backup();
            change(&mut changed);
            let key = key_of(&changed, &options());
            assert_ne!(key, base, "{what} kept the key");
            assert!(seen.insert(key), "{what} gave another change's key");
        }
    }

    #[test]
    fn every_sst_detail_changes_the_key() {
        let keys = JobKeys::new(&backup(), &options(), &options().parquet, "parquet").unwrap();
        let base = keys.key(&[&range("1/5")]);
        let ssts: Vec<Change<RangePlan>> = vec![
            ("write name", Box::new(|r| r.write.name.push('x'))),
            (
                "default name",
                Box::new(|r| {
                    if let Some(f) = r.default.as_mut() {
                        f.name.push('x');
                    }
                }),
            ),
            ("no default", Box::new(|r| r.default = None)),
            ("sha256", Box::new(|r| r.write.sha256[0] ^= 1)),
            ("size", Box::new(|r| r.write.size += 1)),
            ("crc64xor", Box::new(|r| r.write.crc64xor ^= 1)),
            ("total_kvs", Box::new(|r| r.write.total_kvs += 1)),
            ("total_bytes", Box::new(|r| r.write.total_bytes += 1)),
            // Another filter selects other tables of a shared SST.
            ("selected tables", Box::new(|r| r.table_ids.push(999))),
        ];
        let mut seen = HashSet::from([base.clone()]);
        for (what, change) in ssts {
            let mut changed = range("1/5");
            change(&mut changed);
            let key = keys.key(&[&changed]);
            assert_ne!(key, base, "{what} kept the key");
            assert!(seen.insert(key), "{what} gave another change's key");
        }
        // A job of more ranges is another job, and so is the same ranges in another order.
        let two = keys.key(&[&range("1/5"), &range("1/6")]);
        assert_ne!(two, base);
        assert_ne!(keys.key(&[&range("1/6"), &range("1/5")]), two);
        assert_eq!(keys.key(&[&range("1/5")]), base);
    }

    fn local_output(dir: &std::path::Path) -> ExternalStorage {
        let backend = url::parse_url(&format!("local://{}", dir.display())).unwrap();
        ExternalStorage::open(&backend, false).unwrap()
    }

    /// An outcome of one range with one staged file of `bytes`.
    fn staged_outcome(output: &ExternalStorage, bytes: &[u8]) -> JobOutcome {
        let path = "p/db/t/1-5.parquet".to_string();
        let staged = staging_object_name("p", &path);
        output.put_bytes(&staged, bytes.to_vec().into()).unwrap();
        let mut outcome = JobOutcome {
            files: vec![ExportedFile {
                path,
                db: "db".into(),
                table: "t".into(),
                source_sst: "1/5_write.sst".into(),
                rows: 3,
                size: bytes.len() as u64,
                sha256: "00".repeat(32),
                invalid_dates: [("d".to_string(), 1)].into(),
                staged: Some(staged),
                ..ExportedFile::default()
            }],
            write_cf_entries: 4,
            ssts_read: 2,
            range_checksums: vec![KvChecksum::new(0xfeed, 4, 100)],
            ..JobOutcome::default()
        };
        outcome.skipped.index_keys = 1;
        *outcome.table_kvs.entry(100) = TableKvs {
            record_kvs: 3,
            index_kvs: 1,
            checksum: KvChecksum::new(0xfeed, 4, 100),
        };
        outcome
    }

    fn finished(previous: Previous) -> JobOutcome {
        match previous {
            Previous::Finished(outcome) => outcome,
            other => panic!("not resumed: {other:?}"),
        }
    }

    fn rejected(previous: Previous) -> String {
        match previous {
            Previous::Rejected(marker) => marker.reason,
            other => panic!("not rejected: {other:?}"),
        }
    }

    #[test]
    fn a_recorded_job_is_reused_while_its_files_are_intact() {
        let dir = tempfile::tempdir().unwrap();
        let output = local_output(dir.path());
        let outcome = staged_outcome(&output, b"PAR1 data PAR1");
        let keys = ["a".repeat(64), "b".repeat(64)];
        let markers = JobMarkers::open(&output, "p", &keys, true).unwrap();
        markers.record(&keys[0], &outcome).unwrap();
        // Markers are looked for when a run starts, not while it writes them.
        assert!(matches!(
            markers.previous(&keys[0], 1).unwrap(),
            Previous::NotFound
        ));

        // The next run finds it and gets the outcome back.
        let markers = JobMarkers::open(&output, "p", &keys, true).unwrap();
        let back = finished(markers.previous(&keys[0], 1).unwrap());
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&outcome).unwrap()
        );
        // But for the SSTs read: the run that reuses the job reads none.
        assert_eq!((outcome.ssts_read, back.ssts_read), (2, 0));
        assert_eq!(
            back.files[0].staged.as_deref(),
            Some("p/_br_parquet_staging/db/t/1-5.parquet")
        );
        assert!(matches!(
            markers.previous(&keys[1], 1).unwrap(),
            Previous::NotFound
        ));
        let reason = rejected(markers.previous(&keys[0], 2).unwrap());
        assert_eq!(reason, "records 1 ranges, the job has 2");

        // A truncated or missing file, or a marker that does not parse, is not trusted.
        let staged = staging_object_name("p", &back.files[0].path);
        output.put_bytes(&staged, b"PAR1".to_vec().into()).unwrap();
        let reason = rejected(markers.previous(&keys[0], 1).unwrap());
        assert_eq!(reason, format!("{staged} has 4 bytes, not the 14 recorded"));
        output.delete(&staged).unwrap();
        let reason = rejected(markers.previous(&keys[0], 1).unwrap());
        assert_eq!(
            reason,
            format!("{staged} is missing, and p/db/t/1-5.parquet does not exist")
        );
        let name = job_marker_name("p", &keys[0]);
        output
            .put_bytes(&name, b"{\"key\":".to_vec().into())
            .unwrap();
        let reason = rejected(markers.previous(&keys[0], 1).unwrap());
        assert!(reason.starts_with("does not parse: "), "{reason}");
        // A marker copied under another job's key is not that job's.
        markers.record(&keys[0], &outcome).unwrap();
        let copied = output.read(&name).unwrap();
        output
            .put_bytes(&job_marker_name("p", &keys[1]), copied)
            .unwrap();
        let markers = JobMarkers::open(&output, "p", &keys, true).unwrap();
        let reason = rejected(markers.previous(&keys[1], 1).unwrap());
        assert_eq!(reason, format!("records the job {}", keys[0]));
    }

    #[test]
    fn files_a_killed_run_published_are_reused_while_they_hold_the_recorded_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let output = local_output(dir.path());
        let mut outcome = staged_outcome(&output, b"PAR1 staged PAR1");
        // The job's second file, which the killed run had moved to its final name.
        let bytes = b"PAR1 published PAR1";
        let path = "p/db/t/1-6.parquet".to_string();
        output.put_bytes(&path, bytes.to_vec().into()).unwrap();
        outcome.files.push(ExportedFile {
            path: path.clone(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
            ..outcome.files[0].clone()
        });
        let key = "a".repeat(64);
        let markers = JobMarkers::open(&output, "p", &[], true).unwrap();
        markers.record(&key, &outcome).unwrap();

        // The staged file is to be published, the published one left where it is.
        let markers = JobMarkers::open(&output, "p", std::slice::from_ref(&key), true).unwrap();
        let back = finished(markers.previous(&key, 1).unwrap());
        let staged: Vec<Option<&str>> = back.files.iter().map(|f| f.staged.as_deref()).collect();
        assert_eq!(
            staged,
            [Some("p/_br_parquet_staging/db/t/1-5.parquet"), None]
        );

        // Other bytes of the same size, fewer bytes, or none: the job is exported again.
        let staged = staging_object_name("p", &path);
        let mut changed = bytes.to_vec();
        changed[5] ^= 1;
        output.put_bytes(&path, changed.clone().into()).unwrap();
        let reason = rejected(markers.previous(&key, 1).unwrap());
        assert_eq!(
            reason,
            format!(
                "{staged} is missing, and {path} has SHA-256 {}, not the {} recorded",
                hex::encode(Sha256::digest(&changed)),
                hex::encode(Sha256::digest(bytes)),
            )
        );
        output.put_bytes(&path, bytes[..4].to_vec().into()).unwrap();
        let reason = rejected(markers.previous(&key, 1).unwrap());
        assert_eq!(
            reason,
            format!("{staged} is missing, and {path} has 4 bytes, not the 19 recorded")
        );
        output.delete(&path).unwrap();
        let reason = rejected(markers.previous(&key, 1).unwrap());
        assert_eq!(
            reason,
            format!("{staged} is missing, and {path} does not exist")
        );
    }

    #[test]
    fn markers_of_other_jobs_are_deleted_and_all_go_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let output = local_output(dir.path());
        let outcome = staged_outcome(&output, b"x");
        let (ours, theirs) = ("a".repeat(64), "c".repeat(64));
        let markers = JobMarkers::open(&output, "p", &[], true).unwrap();
        markers.record(&ours, &outcome).unwrap();
        markers.record(&theirs, &outcome).unwrap();
        let listed = |output: &ExternalStorage| {
            let mut names = output.list(&jobs_dir_name("p")).unwrap();
            names.sort();
            names
        };
        assert_eq!(listed(&output).len(), 2);

        // A run whose keys do not include `theirs` deletes it: it may overwrite its files.
        let markers = JobMarkers::open(&output, "p", std::slice::from_ref(&ours), true).unwrap();
        assert_eq!(listed(&output), [job_marker_name("p", &ours)]);
        finished(markers.previous(&ours, 1).unwrap());

        // Without resuming, every marker goes.
        let markers = JobMarkers::open(&output, "p", std::slice::from_ref(&ours), false).unwrap();
        assert!(matches!(
            markers.previous(&ours, 1).unwrap(),
            Previous::NotFound
        ));
        assert!(listed(&output).is_empty());

        markers.record(&ours, &outcome).unwrap();
        markers.record(&theirs, &outcome).unwrap();
        markers.remove_all().unwrap();
        assert!(listed(&output).is_empty());
        let jobs_dir = dir.path().join("p/_br_parquet_staging/.br-parquet-jobs");
        assert_eq!(std::fs::read_dir(jobs_dir).map_or(0, |d| d.count()), 0);
    }
}
