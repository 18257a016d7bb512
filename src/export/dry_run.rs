//! `--dry-run`: the plan of an export, from `backupmeta` alone. Nothing of the data is read and
//! nothing is written; the output is only listed, for the jobs a previous run finished.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::meta::TableSchema;
use crate::proto::backup::storage_backend::Backend;
use crate::sink::layout::parquet_object_name;
use crate::storage::ExternalStorage;
use crate::Result;

use super::jobs::{plan_jobs, range_bytes};
use super::options::ExportOptions;
use super::prepare::OpenedBackup;
use super::report::{BackupSummary, ExcludedTableReport, SkippedFileReport};
use super::resume::{marker_keys, JobKeys};
use super::shard::Shard;

/// What an export would do.
#[derive(Debug, Clone, Serialize)]
pub struct DryRunReport {
    /// Always `true`: this is a plan, not the report of an export.
    pub dry_run: bool,
    /// The backup.
    pub backup: BackupSummary,
    /// Input location (no secrets).
    pub input: String,
    /// Output location (no secrets).
    pub output: String,
    /// The tables the filter selects.
    pub tables: Vec<PlannedTable>,
    /// The tables it leaves out, with the reason.
    pub excluded_tables: Vec<ExcludedTableReport>,
    /// Backup files that will not be read, with the reason.
    pub skipped_files: Vec<SkippedFileReport>,
    /// Jobs (ranges written to the same files) and the SST bytes they read.
    pub jobs: u64,
    /// SST bytes to read.
    pub sst_bytes: u64,
    /// With `--shard I/N`: every shard's jobs and bytes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<PlannedShard>,
    /// Jobs a previous run of the same export finished, whose files a run would reuse (if they
    /// are still intact).
    pub resumable_jobs: u64,
}

/// One selected table's share of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedTable {
    /// Database name.
    pub db: String,
    /// Table name.
    pub table: String,
    /// Logical table id.
    pub table_id: i64,
    /// Ranges holding its keys.
    pub ranges: u64,
    /// SST bytes of those ranges (shared SSTs count for each of their tables).
    pub sst_bytes: u64,
    /// Rows, estimated from BR's checksum: `total_kvs / (1 + indexes)`; `None` when the backup
    /// recorded no checksum.
    pub estimated_rows: Option<u64>,
    /// The Parquet files the export writes (with `--target-file-size`, the first part of each).
    pub files: Vec<String>,
}

/// One shard of `--shard I/N`.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedShard {
    /// `I/N`.
    pub shard: String,
    /// Its jobs.
    pub jobs: u64,
    /// Their SST bytes.
    pub sst_bytes: u64,
}

/// Plans the export `options` describes, reading only metadata.
///
/// # Errors
/// As [`super::run`]'s before it reads data: the storage, `backupmeta`, the filter, a table
/// type that cannot be written.
pub fn dry_run(options: &ExportOptions) -> Result<DryRunReport> {
    options.validate()?;
    let opened = OpenedBackup::open(options)?;
    let (backup, plan) = (&opened.backup, &opened.plan);
    let prefix = options.trimmed_prefix();
    let kind = opened.kind();
    for table in &plan.tables {
        crate::batch::export_schema(table, kind)?;
    }
    let tables = plan.tables_by_physical_id();
    let keys = JobKeys::new(backup, options, &options.effective_parquet(), prefix)?;
    let jobs = plan_jobs(&plan.ranges, &tables, options.target_file_size, &keys);

    let mut planned: BTreeMap<i64, PlannedTable> = BTreeMap::new();
    for job in &jobs {
        let mut named: Vec<i64> = Vec::new();
        for range in job.ranges.iter().filter_map(|i| plan.ranges.get(*i)) {
            let mut logical: Vec<&TableSchema> = range
                .table_ids
                .iter()
                .filter_map(|id| tables.get(id).map(|t| t.as_ref()))
                .collect();
            logical.dedup_by_key(|t| t.table_id);
            for table in logical {
                let entry = planned
                    .entry(table.table_id)
                    .or_insert_with(|| PlannedTable {
                        db: table.db_name.clone(),
                        table: table.table_name.clone(),
                        table_id: table.table_id,
                        ranges: 0,
                        sst_bytes: 0,
                        estimated_rows: table.estimated_rows(),
                        files: Vec::new(),
                    });
                entry.ranges += 1;
                entry.sst_bytes += range_bytes(range);
                // A job writes one file (its first part) per table, named by its first range.
                if !named.contains(&table.table_id) {
                    named.push(table.table_id);
                    entry.files.push(parquet_object_name(
                        prefix,
                        &table.db_name,
                        &table.table_name,
                        &range.write.name,
                    ));
                }
            }
        }
    }
    let job_bytes: Vec<u64> = jobs.iter().map(|job| job.bytes(&plan.ranges)).collect();
    let shards = match options.shard {
        Some(shard) => (1..=shard.count)
            .map(|index| {
                let this = Shard { index, ..shard };
                let mine = this.jobs(&job_bytes);
                PlannedShard {
                    shard: this.to_string(),
                    jobs: mine.len() as u64,
                    sst_bytes: mine.iter().filter_map(|i| job_bytes.get(*i)).sum(),
                }
            })
            .collect(),
        None => Vec::new(),
    };
    let (output, resumable_jobs) = match open_existing_output(options)? {
        Some(output) => {
            let found = if options.resume {
                marker_keys(&output, prefix)?
            } else {
                Default::default()
            };
            let resumable = jobs.iter().filter(|job| found.contains(&job.key)).count();
            (output.description().to_string(), resumable as u64)
        }
        None => (crate::storage::url::describe(&options.output), 0),
    };
    let mut tables: Vec<PlannedTable> = planned.into_values().collect();
    tables.sort_by(|a, b| (&a.db, &a.table).cmp(&(&b.db, &b.table)));
    Ok(DryRunReport {
        dry_run: true,
        backup: BackupSummary::of(backup),
        input: opened.input.description().to_string(),
        output,
        tables,
        excluded_tables: ExcludedTableReport::of_plan(plan),
        skipped_files: SkippedFileReport::of_plan(plan),
        jobs: jobs.len() as u64,
        sst_bytes: job_bytes.iter().sum(),
        shards,
        resumable_jobs,
    })
}

/// The output storage, unless it is a local directory that does not exist yet: opening it
/// would create it, and a dry run writes nothing.
fn open_existing_output(options: &ExportOptions) -> Result<Option<ExternalStorage>> {
    if let Some(Backend::Local(local)) = &options.output.backend {
        if !std::path::Path::new(&local.path).is_dir() {
            return Ok(None);
        }
    }
    ExternalStorage::open_with(&options.output, false, &options.storage).map(Some)
}

impl fmt::Display for DryRunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: u64 = self.tables.iter().filter_map(|t| t.estimated_rows).sum();
        let files: usize = self.tables.iter().map(|t| t.files.len()).sum();
        writeln!(
            f,
            "dry run: would export {} tables (about {rows} rows) into {files} Parquet files, \
             reading {} of SSTs in {} jobs",
            self.tables.len(),
            super::report::human_bytes(self.sst_bytes),
            self.jobs
        )?;
        writeln!(f, "  from {}", self.input)?;
        writeln!(f, "  to   {}", self.output)?;
        writeln!(f, "  tables:")?;
        for t in &self.tables {
            writeln!(
                f,
                "    {}.{}: {} ranges, {}, {} rows, {} files",
                t.db,
                t.table,
                t.ranges,
                super::report::human_bytes(t.sst_bytes),
                t.estimated_rows
                    .map_or_else(|| "? (no checksum)".to_string(), |r| format!("about {r}")),
                t.files.len()
            )?;
        }
        if !self.excluded_tables.is_empty() {
            writeln!(f, "  left out:")?;
            for t in &self.excluded_tables {
                writeln!(f, "    {}.{}: {}", t.db, t.table, t.reason)?;
            }
        }
        if !self.skipped_files.is_empty() {
            writeln!(
                f,
                "  {} backup files not read (see --report for why)",
                self.skipped_files.len()
            )?;
        }
        for shard in &self.shards {
            writeln!(
                f,
                "  shard {}: {} jobs, {}",
                shard.shard,
                shard.jobs,
                super::report::human_bytes(shard.sst_bytes)
            )?;
        }
        if self.resumable_jobs > 0 {
            writeln!(
                f,
                "  a previous run finished {} of the {} jobs; their files would be reused",
                self.resumable_jobs, self.jobs
            )?;
        }
        writeln!(
            f,
            "  nothing was read beyond metadata and nothing was written"
        )
    }
}
