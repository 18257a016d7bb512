//! One export run: load the backup's metadata, plan, export every range, report.
//!
//! Ranges are independent, so `concurrency` workers take them from a shared counter; results are
//! put back in plan order, which keeps reports (and re-runs) deterministic.

pub mod layout;
pub mod progress;
mod range;
pub mod report;
mod resume;
mod shard;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use arrow_array::RecordBatch;

use crate::batch::{export_schema, BackupKind, BatchLimits};
use crate::codec::checksum::KvChecksum;
use crate::crypter::Crypter;
use crate::meta::{self, MetaVersion, TableSchema};
use crate::proto::backup::StorageBackend;
use crate::sink::iceberg::{BackupIdentity, IcebergWriter, TableInput};
use crate::sink::manifest::write_manifest;
use crate::sink::parquet::ParquetOptions;
use crate::storage::{ExternalStorage, ScratchDir, StorageOptions};
use crate::{Error, Result};

pub use progress::ProgressMode;
use range::{export_job, RangeContext, RangeOutcome};
use report::{
    BackupSummary, ChecksumReport, ExportReport, FileReport, ResumeReport, ShardReport,
    SkipCounters, SkippedFileReport, TableReport, Totals,
};
use resume::{JobKeys, JobMarkers, Previous};
pub use shard::Shard;

/// Default `--output-prefix`.
pub const DEFAULT_OUTPUT_PREFIX: &str = "parquet";

/// The name of the root metadata object BR writes last.
const BACKUPMETA: &str = "backupmeta";

/// What to export and how.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The backup root.
    pub input: StorageBackend,
    /// Where Parquet files go.
    pub output: StorageBackend,
    /// Object-name prefix inside the output.
    pub output_prefix: String,
    /// Parquet writer settings.
    pub parquet: ParquetOptions,
    /// Human name of the codec, for the report.
    pub compression_name: String,
    /// Record batch limits.
    pub batch: BatchLimits,
    /// Ranges exported at once.
    pub concurrency: usize,
    /// How progress is shown on stderr.
    pub progress: ProgressMode,
    /// Drop (and report) undecodable rows instead of stopping at the first one.
    pub lenient: bool,
    /// Check every SST's SHA-256 and BR checksums, and each table's totals (on by default).
    pub verify: bool,
    /// Combine small ranges of a table into files of about this many bytes, and split files
    /// larger than it; `None` writes one file per table per range.
    pub target_file_size: Option<u64>,
    /// Decrypts an encrypted backup (`--crypter.*`); plaintext by default.
    pub crypter: Crypter,
    /// Also write an Iceberg v2 table per exported table (`--write-iceberg-table`).
    pub write_iceberg_table: bool,
    /// Also write the JSON manifest of the run (`--write-iceberg-manifest`).
    pub write_iceberg_manifest: bool,
    /// Storage options (`--ratelimit`, retries); one rate limiter is shared by input and output.
    pub storage: StorageOptions,
    /// Reuse the jobs a failed or killed run of the same export finished and staged, instead of
    /// exporting them again (on by default; `--no-resume` turns it off); see `export/resume.rs`.
    pub resume: bool,
    /// Export only this machine's share of the jobs and publish nothing (`--shard I/N`); a run
    /// without it publishes every shard's files (see `export/shard.rs`).
    pub shard: Option<Shard>,
}

impl ExportOptions {
    /// Defaults for everything but the locations.
    pub fn new(input: StorageBackend, output: StorageBackend) -> Self {
        ExportOptions {
            input,
            output,
            output_prefix: DEFAULT_OUTPUT_PREFIX.to_string(),
            parquet: ParquetOptions::default(),
            compression_name: "zstd(1)".into(),
            batch: BatchLimits::default(),
            concurrency: default_concurrency(),
            progress: ProgressMode::default(),
            lenient: false,
            verify: true,
            target_file_size: None,
            crypter: Crypter::plaintext(),
            write_iceberg_table: false,
            write_iceberg_manifest: false,
            storage: StorageOptions::default(),
            resume: true,
            shard: None,
        }
    }
}

/// The object name of a table's directory, `<prefix>/<db>/<table>`: its Parquet files (see
/// [`layout::parquet_object_name`]) and its Iceberg `metadata/`.
fn table_dir(prefix: &str, db: &str, table: &str) -> String {
    let dir = format!(
        "{}/{}",
        layout::encode_segment(db),
        layout::encode_segment(table)
    );
    if prefix.is_empty() {
        dir
    } else {
        format!("{prefix}/{dir}")
    }
}

/// Whether files get per-column statistics: Iceberg metadata and the JSON manifest need them.
fn collects_column_stats(write_iceberg_table: bool, write_iceberg_manifest: bool) -> bool {
    write_iceberg_table || write_iceberg_manifest
}

/// One worker per core by default.
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The input storage, its decrypter, its `backupmeta` and the plan made of it.
struct OpenedBackup {
    input: ExternalStorage,
    crypter: Arc<Crypter>,
    backup: meta::Backup,
    plan: meta::ExportPlan,
}

fn open_backup(options: &ExportOptions) -> Result<OpenedBackup> {
    let input = ExternalStorage::open_with(&options.input, true, &options.storage)?;
    if !input.exists(BACKUPMETA)? {
        return Err(Error::Usage(format!(
            "{}: no `backupmeta` here; point --input at the directory BR wrote the backup to \
             (a backup without `backupmeta` did not finish)",
            input.description()
        )));
    }
    let crypter = Arc::new(options.crypter.clone());
    let backup = meta::load_backup(
        &mut |name| input.read(name),
        crypter.is_encrypted().then_some(crypter.as_ref()),
    )?;
    let plan = meta::build_plan(&backup)?;
    Ok(OpenedBackup {
        input,
        crypter,
        backup,
        plan,
    })
}

fn backup_kind(backup: &meta::Backup) -> BackupKind {
    if backup.start_version > 0 {
        BackupKind::Incremental
    } else {
        BackupKind::Full
    }
}

/// Reads a backup's ranges as Arrow record batches, decoded exactly as [`run`] decodes them (SST
/// scan with the SHA-256 and BR checksum checks `options.verify` asks for, key and MVCC decoding,
/// the default-CF merge join, row decoding, `options.batch` and `options.lenient`), but writes
/// nothing: each batch goes to a callback. This is the read bound of the benchmarks, and a way
/// to get a backup's rows into Arrow without files.
pub struct BatchReader {
    opened: OpenedBackup,
    tables: HashMap<i64, Arc<TableSchema>>,
    options: ExportOptions,
    /// Never written to: batches do not reach files.
    nowhere: ExternalStorage,
}

impl BatchReader {
    /// Opens the backup at `options.input`; the output options are ignored.
    ///
    /// # Errors
    /// As [`run`]'s: the storage, `backupmeta`, or a plan that cannot be made.
    pub fn open(options: &ExportOptions) -> Result<Self> {
        let opened = open_backup(options)?;
        let tables = opened.plan.tables_by_physical_id();
        let nowhere = ExternalStorage::open(&crate::storage::url::parse_url("noop://")?, false)?;
        Ok(BatchReader {
            opened,
            tables,
            options: options.clone(),
            nowhere,
        })
    }

    /// The ranges (and tables) of the backup.
    pub fn plan(&self) -> &meta::ExportPlan {
        &self.opened.plan
    }

    /// Decodes range `index` of [`Self::plan`], handing each record batch to `on_batch` with its
    /// table. Returns the range's BR checksum over all of its key/value pairs.
    ///
    /// # Errors
    /// As the export's, for this range; an index out of range is a usage error.
    pub fn read_range(
        &self,
        index: usize,
        on_batch: &mut (dyn FnMut(&TableSchema, RecordBatch) + Send),
    ) -> Result<KvChecksum> {
        let range = self.opened.plan.ranges.get(index).ok_or_else(|| {
            Error::Usage(format!(
                "range {index} of a backup of {} ranges",
                self.opened.plan.ranges.len()
            ))
        })?;
        let on_batch = Mutex::new(on_batch);
        let forward = |table: &TableSchema, batch: RecordBatch| {
            let mut on_batch = on_batch.lock().unwrap_or_else(|e| e.into_inner());
            (*on_batch)(table, batch);
        };
        let ctx = RangeContext {
            destination: range::BatchDestination::Callback(&forward),
            input: &self.opened.input,
            output: &self.nowhere,
            output_prefix: "",
            staging: Path::new(""),
            parquet: &self.options.parquet,
            batch: self.options.batch,
            kind: backup_kind(&self.opened.backup),
            tables: &self.tables,
            metadata: &[],
            column_stats: false,
            lenient: self.options.lenient,
            verify: self.options.verify,
            target_file_size: None,
            crypter: self.opened.crypter.clone(),
        };
        let outcome = range::export_job(&ctx, &[range])?;
        let mut checksum = KvChecksum::default();
        for part in outcome.range_checksums {
            checksum.merge(part);
        }
        Ok(checksum)
    }
}

/// Runs an export.
pub fn run(options: &ExportOptions) -> Result<ExportReport> {
    let started = Instant::now();
    if options.shard.is_some() && !options.resume {
        // A shard's work reaches the publishing run only through its job markers, and a run
        // that does not resume deletes every marker, the other shards' too.
        return Err(Error::Usage(
            "--shard needs resuming (it cannot be combined with --no-resume)".into(),
        ));
    }
    let OpenedBackup {
        input,
        crypter,
        backup,
        plan,
    } = open_backup(options)?;
    let output = ExternalStorage::open_with(&options.output, false, &options.storage)?;
    let output_prefix = options.output_prefix.trim_matches('/').to_string();

    let kind = backup_kind(&backup);
    let mut tables: HashMap<i64, Arc<TableSchema>> = HashMap::new();
    let mut table_reports = Vec::with_capacity(plan.tables.len());
    let mut iceberg_inputs = Vec::new();
    for table in &plan.tables {
        // Fail before reading any data if a table has a type we cannot write.
        let schema = export_schema(table, kind)?;
        iceberg_inputs.push(TableInput {
            db: table.db_name.clone(),
            table: table.table_name.clone(),
            table_id: table.table_id,
            dir: table_dir(&output_prefix, &table.db_name, &table.table_name),
            schema: schema.arrow.clone(),
            partition_ids: if table.partitions.is_empty() {
                Vec::new()
            } else {
                table.physical_ids()
            },
            incremental: kind == BackupKind::Incremental,
        });
        table_reports.push(TableReport {
            db: table.db_name.clone(),
            table: table.table_name.clone(),
            table_id: table.table_id,
            virtual_columns: schema.virtual_columns.into_iter().collect(),
            ..Default::default()
        });
        for id in table.physical_ids() {
            tables.insert(id, table.clone());
        }
    }
    let metadata = vec![
        ("br.cluster_id".to_string(), backup.cluster_id.to_string()),
        (
            "br.start_version".to_string(),
            backup.start_version.to_string(),
        ),
        ("br.end_version".to_string(), backup.end_version.to_string()),
    ];
    let identity = BackupIdentity {
        cluster_id: backup.cluster_id,
        start_version: backup.start_version,
        end_version: backup.end_version,
    };
    // Iceberg pre-flight: schemas and existing tables are checked before any data is written.
    let iceberg = if options.write_iceberg_table && options.shard.is_none() {
        Some(IcebergWriter::prepare(
            &output,
            identity,
            &options.compression_name,
            iceberg_inputs.clone(),
        )?)
    } else {
        None
    };
    let partial = PartialFiles::create(&output, &output_prefix)?;
    let mut parquet = options.parquet.clone();
    if options.write_iceberg_table {
        // Readers of an Iceberg table take types from its schema; an embedded Arrow schema
        // would give PyIceberg Arrow-only types (durations, extension types) it refuses.
        parquet.embed_arrow_schema = false;
    }
    let ctx = RangeContext {
        destination: range::BatchDestination::Parquet,
        input: &input,
        output: &output,
        output_prefix: &output_prefix,
        staging: partial.path(),
        parquet: &parquet,
        batch: options.batch,
        kind,
        tables: &tables,
        metadata: &metadata,
        column_stats: collects_column_stats(
            options.write_iceberg_table,
            options.write_iceberg_manifest,
        ),
        lenient: options.lenient,
        verify: options.verify,
        target_file_size: options.target_file_size,
        crypter: crypter.clone(),
    };
    let jobs = plan_jobs(&plan.ranges, &tables, options.target_file_size);
    let keys = JobKeys::new(&backup, options, &parquet, &output_prefix)?;
    let job_keys: Vec<String> = jobs
        .iter()
        .map(|job| keys.key(&job_ranges(&plan.ranges, job)))
        .collect();
    // Markers are kept or dropped by the keys of every job, whichever shard this run is.
    let markers = JobMarkers::open(&output, &output_prefix, &job_keys, options.resume)?;
    let (jobs, job_keys) = match options.shard {
        Some(shard) => {
            let bytes: Vec<u64> = jobs
                .iter()
                .map(|job| {
                    job_ranges(&plan.ranges, job)
                        .into_iter()
                        .map(range_bytes)
                        .sum()
                })
                .collect();
            shard
                .jobs(&bytes)
                .into_iter()
                .filter_map(|i| Some((jobs.get(i)?.clone(), job_keys.get(i)?.clone())))
                .unzip()
        }
        None => (jobs, job_keys),
    };
    let reporter = progress::Reporter::start(
        options.progress,
        jobs.iter().map(Vec::len).sum::<usize>() as u64,
        jobs.iter()
            .flat_map(|job| job_ranges(&plan.ranges, job))
            .map(range_bytes)
            .sum(),
    );
    let outcomes = run_ranges(
        &ctx,
        &plan.ranges,
        &jobs,
        &job_keys,
        &markers,
        options.concurrency.max(1),
        reporter.counters(),
    );
    if outcomes.is_ok() {
        reporter.finish();
    }
    drop(reporter);
    let (outcomes, mut resume_report) = outcomes?;
    resume_report.enabled = options.resume;

    let mut files = Vec::new();
    let mut skipped_rows = Vec::new();
    let mut exported = Vec::new();
    let mut skipped = SkipCounters::default();
    let mut totals = Totals::default();
    // Per logical table: BR's checksum over every KV read, and keys by kind.
    let mut table_checksums: HashMap<i64, KvChecksum> = HashMap::new();
    let mut mixed_tables: Vec<i64> = Vec::new();
    let mut table_kvs: HashMap<i64, range::TableKvs> = HashMap::new();
    let range_checksums = jobs.iter().zip(&outcomes).flat_map(|(job, outcome)| {
        job.iter()
            .filter_map(|i| plan.ranges.get(*i))
            .zip(outcome.range_checksums.iter().copied())
    });
    for (range, checksum) in range_checksums {
        let mut logical: Vec<i64> = range
            .table_ids
            .iter()
            .filter_map(|id| tables.get(id).map(|t| t.table_id))
            .collect();
        logical.dedup();
        match logical.as_slice() {
            [one] => table_checksums.entry(*one).or_default().merge(checksum),
            many => mixed_tables.extend_from_slice(many),
        }
    }
    for outcome in &outcomes {
        for (id, kvs) in &outcome.table_kvs {
            let entry = table_kvs.entry(*id).or_default();
            entry.record_kvs += kvs.record_kvs;
            entry.index_kvs += kvs.index_kvs;
        }
    }
    for report in &mut table_reports {
        let kvs = table_kvs.get(&report.table_id).copied().unwrap_or_default();
        report.record_kvs = kvs.record_kvs;
        report.index_kvs = kvs.index_kvs;
        let Some(table) = plan.tables.iter().find(|t| t.table_id == report.table_id) else {
            continue;
        };
        let expected = KvChecksum::new(table.crc64xor, table.total_kvs, table.total_bytes);
        let actual = table_checksums
            .get(&table.table_id)
            .copied()
            .unwrap_or_default();
        let status = if let Some(shard) = options.shard {
            format!(
                "skipped: shard {shard} holds part of the table; the run that publishes checks it"
            )
        } else if !options.verify {
            "skipped: --no-verify".to_string()
        } else if kind == BackupKind::Incremental {
            "skipped: BR records no table checksum for incremental backups".to_string()
        } else if expected.is_zero() {
            "skipped: the backup recorded no checksum (BR ran with --checksum=false)".to_string()
        } else if mixed_tables.contains(&table.table_id) {
            "skipped: an SST holds this and other tables".to_string()
        } else if expected != actual {
            return Err(Error::Integrity {
                object: format!("table {}", table.qualified_name()),
                message: format!(
                    "checksum mismatch: backupmeta says {expected}, the SSTs hold {actual}: \
                     keys are missing or corrupt (pass --no-verify to export anyway)"
                ),
            });
        } else {
            "ok".to_string()
        };
        report.checksum = Some(ChecksumReport {
            expected: expected.to_string(),
            actual: actual.to_string(),
            status,
        });
    }
    for outcome in outcomes {
        files.extend(outcome.files);
        skipped_rows.extend(outcome.skipped_rows);
        exported.extend(outcome.exported);
        skipped += outcome.skipped;
        totals.write_cf_entries += outcome.write_cf_entries;
        totals.ssts_read += outcome.ssts_read;
        totals.delete_rows += outcome.deletes;
    }
    if options.shard.is_none() {
        publish(&output, &output_prefix, &files, backup.end_version)?;
    }
    failpoint::hit("describe");
    // Every Parquet file is in place: describe them.
    let iceberg_tables = match iceberg {
        Some(writer) => writer.commit(&exported)?,
        None => Vec::new(),
    };
    let iceberg_manifest = if options.write_iceberg_manifest {
        Some(write_manifest(
            &output,
            &output_prefix,
            &identity,
            &iceberg_inputs,
            &exported,
            &iceberg_tables,
        )?)
    } else {
        None
    };
    if options.shard.is_none() {
        // Only now, so that a run killed while writing the Iceberg metadata is resumed from the
        // published files rather than exported again (their markers point at them).
        markers.remove_all()?;
    }
    // Every file was moved out of it and no marker is left: staging directories left empty go
    // with it.
    drop(partial);
    let mut report = ExportReport {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        backup: BackupSummary {
            cluster_id: backup.cluster_id,
            cluster_version: backup.cluster_version.clone(),
            start_version: backup.start_version,
            end_version: backup.end_version,
            meta_version: match backup.meta_version {
                MetaVersion::V1 => "v1".into(),
                MetaVersion::V2 => "v2".into(),
            },
        },
        input: input.description().to_string(),
        output: output.description().to_string(),
        compression: options.compression_name.clone(),
        verification: if options.verify {
            "on: SST SHA-256, per-file and per-table BR checksums"
        } else {
            "off (--no-verify)"
        }
        .into(),
        tables: Vec::new(),
        files,
        skipped,
        mode: if options.lenient { "lenient" } else { "strict" }.into(),
        skipped_rows,
        skipped_files: plan
            .skipped_files
            .iter()
            .map(|f| SkippedFileReport {
                name: f.name.clone(),
                reason: f.reason.clone(),
            })
            .collect(),
        totals,
        resume: resume_report,
        shard: options.shard.map(|shard| ShardReport {
            shard: shard.to_string(),
            jobs: jobs.len() as u64,
            ranges: jobs.iter().map(Vec::len).sum::<usize>() as u64,
        }),
        iceberg_tables,
        iceberg_manifest,
        elapsed_seconds: 0.0,
    };
    report.summarize(table_reports);
    report.elapsed_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The local directory Parquet files are written in until they are finished and staged: on local
/// output inside the output's staging directory (`<prefix>/_br_parquet_staging/.br-parquet-partial-XXXXXX`),
/// on the output's filesystem, so that staging a finished file is a rename rather than a copy;
/// elsewhere `$TMPDIR/br-parquet-staging-XXXXXX`. Removed, like a download directory, when dropped
/// (the end of the run, an error, a panic) and on SIGINT/SIGTERM. On local output, dropping it also
/// removes the staging directories the run leaves empty, and the directories created for it; and
/// while it exists it is locked (an advisory lock on the directory, which the system releases
/// however the process ends), so that a later run can tell one a killed run left behind and
/// remove it, as it re-stages and publishes the killed run's staged files.
struct PartialFiles {
    path: PathBuf,
    dir: Option<ScratchDir>,
    /// On local output: the output's staging directory, and the highest of its ancestors (or
    /// itself) that this run created.
    local_staging: Option<(PathBuf, Option<PathBuf>)>,
    /// Holds the lock on a local `dir` (none where the filesystem has no locks).
    _lock: Option<std::fs::File>,
}

/// Prefix of the directory of files being written when the output is not local.
const TEMP_PARTIAL_DIR_PREFIX: &str = "br-parquet-staging-";

impl PartialFiles {
    fn create(output: &ExternalStorage, prefix: &str) -> Result<Self> {
        let Some(staging) = output.local_path(&layout::staging_dir_name(prefix))? else {
            let dir = ScratchDir::create_in(&std::env::temp_dir(), TEMP_PARTIAL_DIR_PREFIX)
                .map_err(|e| Error::io("temporary directory", e))?;
            return Ok(PartialFiles {
                path: dir.path().to_path_buf(),
                dir: Some(dir),
                local_staging: None,
                _lock: None,
            });
        };
        let created = staging
            .ancestors()
            .take_while(|dir| !dir.try_exists().unwrap_or(true))
            .last()
            .map(Path::to_path_buf);
        remove_abandoned_partial_dirs(&staging);
        let (dir, lock) = create_locked_partial_dir(&staging)
            .map_err(|e| Error::io(staging.display().to_string(), e))?;
        Ok(PartialFiles {
            path: dir.path().to_path_buf(),
            dir: Some(dir),
            local_staging: Some((staging, created)),
            _lock: lock,
        })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PartialFiles {
    fn drop(&mut self) {
        drop(self.dir.take());
        let Some((staging, created)) = &self.local_staging else {
            return;
        };
        // Staged files of a failed run stay (with their directories); empty directories go.
        remove_empty_staging_dirs(staging);
        if let Some(top) = created {
            for dir in staging
                .ancestors()
                .skip(1)
                .take_while(|dir| dir.starts_with(top))
            {
                if std::fs::remove_dir(dir).is_err() {
                    break;
                }
            }
        }
    }
}

/// Creates a directory of files being written in `staging` and locks it (no lock where the
/// filesystem has none).
fn create_locked_partial_dir(
    staging: &Path,
) -> std::io::Result<(ScratchDir, Option<std::fs::File>)> {
    let mut attempts = 0;
    loop {
        let dir = ScratchDir::create_in(staging, layout::PARTIAL_DIR_PREFIX)?;
        let Some(lock) = std::fs::File::open(dir.path())
            .ok()
            .filter(|handle| handle.lock().is_ok())
        else {
            return Ok((dir, None));
        };
        // Another run may have found the directory unlocked, taken it for abandoned and removed
        // it, between its creation and the lock.
        if dir.path().try_exists()? {
            return Ok((dir, Some(lock)));
        }
        attempts += 1;
        if attempts == 3 {
            return Err(std::io::Error::other(
                "another run keeps removing this run's directory of files being written",
            ));
        }
    }
}

/// Removes the directories of files being written in `staging` that no live run holds: those a
/// killed run left behind (best effort).
fn remove_abandoned_partial_dirs(staging: &Path) {
    let Ok(entries) = std::fs::read_dir(staging) else {
        return;
    };
    for entry in entries.flatten() {
        let ours = entry
            .file_name()
            .to_string_lossy()
            .starts_with(layout::PARTIAL_DIR_PREFIX);
        if !ours || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let path = entry.path();
        let Ok(handle) = std::fs::File::open(&path) else {
            continue;
        };
        // Held until the directory is gone, so that its run cannot be starting meanwhile.
        if handle.try_lock().is_ok() {
            let _ = std::fs::remove_dir_all(&path);
        }
        drop(handle);
    }
}

/// Removes `dir` and every directory below it that holds no file, except the directories of
/// files being written of other runs (best effort; never follows a symbolic link).
fn remove_empty_staging_dirs(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let partial = entry
                .file_name()
                .to_string_lossy()
                .starts_with(layout::PARTIAL_DIR_PREFIX);
            if !partial && entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_empty_staging_dirs(&entry.path());
            }
        }
    }
    // Fails, as it should, while the directory holds anything.
    let _ = std::fs::remove_dir(dir);
}

/// Moves every staged file into place, table by table, each table ending with its `_SUCCESS`
/// marker (written last, listing the files), so that a table whose marker exists is complete.
/// A run killed here leaves some files published and the rest staged, with every job marker; a
/// re-run reuses both (`resume.rs` checks the published ones' SHA-256), and here moves only the
/// files still staged.
fn publish(
    output: &ExternalStorage,
    prefix: &str,
    files: &[FileReport],
    end_version: u64,
) -> Result<()> {
    let mut by_table: BTreeMap<(&str, &str), Vec<&FileReport>> = BTreeMap::new();
    for file in files {
        by_table
            .entry((&file.db, &file.table))
            .or_default()
            .push(file);
    }
    for ((db, table), files) in by_table {
        let marker = layout::success_marker_name(prefix, db, table);
        // An older marker would claim files this run is replacing.
        output.delete(&marker)?;
        for file in &files {
            let Some(staged) = &file.staged else {
                continue;
            };
            output.rename(staged, &file.path)?;
            failpoint::hit("publish");
        }
        let listing = serde_json::json!({
            "tool": format!("br-parquet {}", env!("CARGO_PKG_VERSION")),
            "backup_end_version": end_version,
            "rows": files.iter().map(|f| f.rows).sum::<u64>(),
            "files": files.iter().map(|f| serde_json::json!({
                "path": f.path, "rows": f.rows, "size": f.size, "sha256": f.sha256,
            })).collect::<Vec<_>>(),
        });
        let bytes =
            serde_json::to_vec_pretty(&listing).map_err(|e| Error::meta(&marker, e.to_string()))?;
        output.put_bytes(&marker, bytes.into())?;
    }
    Ok(())
}

/// Test hooks that stop the process abruptly, like `kill -9`, at a chosen point:
/// `BR_PARQUET_FAILPOINT=range:N` after N exported ranges, `publish:N` after N published files,
/// `describe:1` after publishing, before the Iceberg metadata and the manifest are written.
/// Used by tests of interrupted runs; unset, it costs one relaxed load per range or file.
mod failpoint {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;

    static POINT: OnceLock<Option<(String, u64)>> = OnceLock::new();
    static HITS: AtomicU64 = AtomicU64::new(0);

    pub(super) fn hit(name: &str) {
        let point = POINT.get_or_init(|| {
            let value = std::env::var("BR_PARQUET_FAILPOINT").ok()?;
            let (point, count) = value.split_once(':')?;
            Some((point.to_string(), count.parse().ok()?))
        });
        if let Some((point, count)) = point {
            if point == name && HITS.fetch_add(1, Ordering::Relaxed) + 1 >= *count {
                std::process::abort();
            }
        }
    }
}

/// Bytes of SSTs a range reads.
fn range_bytes(range: &meta::RangePlan) -> u64 {
    range.write.size + range.default.as_ref().map_or(0, |f| f.size)
}

/// Groups ranges into jobs (lists of indices into `ranges`). Without a target size each range is
/// a job of its own: one file per table per range. With one, consecutive ranges of the same
/// single table are combined until their SSTs add up to the target, so that many small regions
/// make a few large files (SST bytes are the estimate of the Parquet bytes: usually an upper one).
fn plan_jobs(
    ranges: &[meta::RangePlan],
    tables: &HashMap<i64, Arc<TableSchema>>,
    target: Option<u64>,
) -> Vec<Vec<usize>> {
    let Some(target) = target else {
        return (0..ranges.len()).map(|i| vec![i]).collect();
    };
    let single_table = |range: &meta::RangePlan| {
        let mut ids: Vec<i64> = range
            .table_ids
            .iter()
            .filter_map(|id| tables.get(id).map(|t| t.table_id))
            .collect();
        ids.dedup();
        match ids.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    };
    let mut jobs: Vec<Vec<usize>> = Vec::new();
    let mut current: Option<(i64, u64)> = None;
    for (i, range) in ranges.iter().enumerate() {
        let table = single_table(range);
        let bytes = range_bytes(range);
        match (current, table, jobs.last_mut()) {
            (Some((open, size)), Some(t), Some(job)) if open == t && size < target => {
                job.push(i);
                current = Some((t, size + bytes));
            }
            _ => {
                jobs.push(vec![i]);
                current = table.map(|t| (t, bytes));
            }
        }
    }
    jobs
}

/// Finishes every job ([`finish_job`]) with `workers` threads; the first error stops the others.
/// `keys[i]` is the key of `jobs[i]`. Returns the outcomes in job order, and what was resumed.
fn run_ranges(
    ctx: &RangeContext<'_>,
    ranges: &[meta::RangePlan],
    jobs: &[Vec<usize>],
    keys: &[String],
    markers: &JobMarkers<'_>,
    workers: usize,
    progress: &progress::Counters,
) -> Result<(Vec<RangeOutcome>, ResumeReport)> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Option<RangeOutcome>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    let resume = Mutex::new(ResumeReport::default());
    let first_error: Mutex<Option<(usize, Error)>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers.min(jobs.len().max(1)) {
            scope.spawn(|| loop {
                if failed.load(Ordering::Relaxed) {
                    return;
                }
                let index = next.fetch_add(1, Ordering::Relaxed);
                let (Some(job), Some(key)) = (jobs.get(index), keys.get(index)) else {
                    return;
                };
                let job_ranges = job_ranges(ranges, job);
                match finish_job(ctx, &job_ranges, markers, key, progress, &resume) {
                    Ok(outcome) => {
                        if let Ok(mut results) = results.lock() {
                            if let Some(slot) = results.get_mut(index) {
                                *slot = Some(outcome);
                            }
                        }
                    }
                    Err(error) => {
                        failed.store(true, Ordering::Relaxed);
                        if let Ok(mut first) = first_error.lock() {
                            // Report the error of the earliest range, so that reruns say the same.
                            if first.as_ref().is_none_or(|(i, _)| index < *i) {
                                *first = Some((index, error));
                            }
                        }
                        return;
                    }
                }
            });
        }
    });
    if let Some((_, error)) = first_error.into_inner().ok().flatten() {
        return Err(error);
    }
    let outcomes = results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    let mut resume = resume.into_inner().unwrap_or_default();
    resume
        .rejected_markers
        .sort_by(|a, b| a.marker.cmp(&b.marker));
    Ok((outcomes, resume))
}

/// The ranges of a job.
fn job_ranges<'r>(ranges: &'r [meta::RangePlan], job: &[usize]) -> Vec<&'r meta::RangePlan> {
    job.iter().filter_map(|i| ranges.get(*i)).collect()
}

/// Gets the outcome of one job: the one a previous run recorded under the job's `key`, when its
/// marker and files are intact, or else a new export's, then recorded. Counts the job in
/// `progress` and `resume`.
fn finish_job(
    ctx: &RangeContext<'_>,
    job_ranges: &[&meta::RangePlan],
    markers: &JobMarkers<'_>,
    key: &str,
    progress: &progress::Counters,
    resume: &Mutex<ResumeReport>,
) -> Result<RangeOutcome> {
    let range_count = job_ranges.len() as u64;
    let bytes: u64 = job_ranges.iter().map(|r| range_bytes(r)).sum();
    let rejected = match markers.previous(key, job_ranges.len())? {
        Previous::Finished(outcome) => {
            let rows = count_done(progress, &outcome, range_count);
            progress
                .ranges_resumed
                .fetch_add(range_count, Ordering::Relaxed);
            progress.rows_resumed.fetch_add(rows, Ordering::Relaxed);
            progress.bytes_resumed.fetch_add(bytes, Ordering::Relaxed);
            if let Ok(mut resume) = resume.lock() {
                resume.resumed_jobs += 1;
                resume.resumed_ranges += range_count;
            }
            return Ok(outcome);
        }
        Previous::Rejected(marker) => Some(marker),
        Previous::NotFound => None,
    };
    let outcome = export_job(ctx, job_ranges)?;
    markers.record(key, &outcome)?;
    count_done(progress, &outcome, range_count);
    progress.bytes_read.fetch_add(bytes, Ordering::Relaxed);
    if let Ok(mut resume) = resume.lock() {
        resume.exported_jobs += 1;
        resume.exported_ranges += range_count;
        resume.rejected_markers.extend(rejected);
    }
    failpoint::hit("range");
    Ok(outcome)
}

/// Counts a finished job's ranges, rows and files as done; returns its rows.
fn count_done(progress: &progress::Counters, outcome: &RangeOutcome, ranges: u64) -> u64 {
    let rows: u64 = outcome.files.iter().map(|f| f.rows).sum();
    progress.rows.fetch_add(rows, Ordering::Relaxed);
    progress
        .files
        .fetch_add(outcome.files.len() as u64, Ordering::Relaxed);
    progress.ranges_done.fetch_add(ranges, Ordering::Relaxed);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::url;

    fn local_output(dir: &Path) -> ExternalStorage {
        let backend = url::parse_url(&format!("local://{}", dir.display())).unwrap();
        ExternalStorage::open(&backend, false).unwrap()
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[cfg(unix)]
    #[test]
    fn partial_files_live_in_local_staging_and_leave_nothing_behind() {
        use std::os::unix::fs::MetadataExt;
        let out = tempfile::tempdir().unwrap();
        let output = local_output(out.path());
        let partial = PartialFiles::create(&output, "p/q").unwrap();
        let staging = output
            .local_path("p/q/_br_parquet_staging")
            .unwrap()
            .unwrap();
        assert_eq!(partial.path().parent(), Some(staging.as_path()));
        assert!(partial
            .path()
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(layout::PARTIAL_DIR_PREFIX)));
        let device = |p: &Path| std::fs::metadata(p).unwrap().dev();
        assert_eq!(device(partial.path()), device(out.path()));

        // A file written there is staged by a rename; publishing empties the staging tree.
        let file = partial.path().join("x.parquet.partial");
        std::fs::write(&file, b"x").unwrap();
        output
            .move_file(&file, "p/q/_br_parquet_staging/db/t/x.parquet")
            .unwrap();
        output
            .rename(
                "p/q/_br_parquet_staging/db/t/x.parquet",
                "p/q/db/t/x.parquet",
            )
            .unwrap();
        drop(partial);
        assert_eq!(entries(out.path()), ["p"]);
        assert_eq!(entries(&out.path().join("p/q")), ["db"]);

        // With nothing published, the directories created for staging go too.
        drop(PartialFiles::create(&output, "r").unwrap());
        assert_eq!(entries(out.path()), ["p"]);
        // Staged files of a failed run stay where a re-run finds them.
        let partial = PartialFiles::create(&output, "p/q").unwrap();
        let file = partial.path().join("y");
        std::fs::write(&file, b"y").unwrap();
        output
            .move_file(&file, "p/q/_br_parquet_staging/db/t/y.parquet")
            .unwrap();
        drop(partial);
        assert_eq!(entries(&out.path().join("p/q/_br_parquet_staging")), ["db"]);
    }

    #[test]
    fn partial_files_of_other_outputs_are_in_the_temp_dir() {
        let noop = ExternalStorage::open(&url::parse_url("noop://").unwrap(), false).unwrap();
        let partial = PartialFiles::create(&noop, "p").unwrap();
        let path = partial.path().to_path_buf();
        assert_eq!(path.parent(), Some(std::env::temp_dir().as_path()));
        assert!(path.is_dir());
        drop(partial);
        assert!(!path.exists());
    }

    #[cfg(unix)]
    #[test]
    fn abandoned_partial_dirs_are_removed_live_ones_kept() {
        let out = tempfile::tempdir().unwrap();
        let output = local_output(out.path());
        let staging = output.local_path("p/_br_parquet_staging").unwrap().unwrap();
        // What a killed run leaves: an unlocked directory with a half-written file.
        let abandoned = staging.join(format!("{}killed", layout::PARTIAL_DIR_PREFIX));
        std::fs::create_dir_all(&abandoned).unwrap();
        std::fs::write(abandoned.join("t-1-0.parquet.partial"), b"half").unwrap();
        // A table directory of staged files is not ours to remove.
        std::fs::create_dir_all(staging.join("db/t")).unwrap();
        std::fs::write(staging.join("db/t/x.parquet"), b"staged").unwrap();

        let live = PartialFiles::create(&output, "p").unwrap();
        assert!(!abandoned.exists(), "abandoned directory kept");
        assert!(staging.join("db/t/x.parquet").is_file());
        // A second run leaves the first run's (locked) directory alone.
        let second = PartialFiles::create(&output, "p").unwrap();
        assert!(live.path().is_dir(), "a live run's directory was removed");
        assert_ne!(live.path(), second.path());
        drop(second);
        assert!(live.path().is_dir());
        drop(live);
    }
}
