//! The JSON report of a run (`--report`), and its one-paragraph human summary.
//!
//! Nothing is skipped silently: every key that did not become a row is counted under a reason.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::AddAssign;

use serde::{Deserialize, Serialize};

use crate::codec::checksum::KvChecksum;
use crate::meta::{tso, MetaVersion};
pub use crate::sink::iceberg::IcebergTableReport;
use crate::sink::ExportedFile;

use super::describe::Described;
use super::prepare::Run;
use super::scan::JobOutcome;

/// What a whole run did.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    /// br-parquet's version.
    pub tool_version: String,
    /// The backup that was read.
    pub backup: BackupSummary,
    /// Input location (no secrets).
    pub input: String,
    /// Output location (no secrets).
    pub output: String,
    /// Parquet settings used.
    pub compression: String,
    /// Whether SHA-256 and BR checksums were verified (`--no-verify` turns it off).
    pub verification: String,
    /// One entry per exported table, by `db.table`.
    pub tables: Vec<TableReport>,
    /// The tables the table filter left out, each with the reason (the rule that excluded it,
    /// or that no rule matched); none of their SSTs was read unless it also held selected
    /// tables, whose rows of them are counted in `skipped.other_table_rows`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded_tables: Vec<ExcludedTableReport>,
    /// Every Parquet file written.
    #[serde(serialize_with = "serialize_files")]
    pub files: Vec<ExportedFile>,
    /// Keys read that did not become rows, by reason.
    pub skipped: SkipCounters,
    /// Backup files that were not read, with the reason.
    pub skipped_files: Vec<SkippedFileReport>,
    /// `strict` (the first undecodable row stops the run) or `lenient`.
    pub mode: String,
    /// Rows `--lenient` dropped, per table and SST.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_rows: Vec<SkippedRowsReport>,
    /// Sums over all tables (and over every job, those resumed from a previous run included, but
    /// for `ssts_read`, which counts only what this run read).
    pub totals: Totals,
    /// Jobs this run exported, and those it reused from a previous run of the same export.
    pub resume: ResumeReport,
    /// Set for a `--shard I/N` run, which stages its share of the jobs and publishes nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardReport>,
    /// The Iceberg table versions written (`--write-iceberg-table`), one per table.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub iceberg_tables: Vec<IcebergTableReport>,
    /// Object name of the JSON manifest (`--write-iceberg-manifest`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iceberg_manifest: Option<String>,
    /// Wall-clock seconds.
    pub elapsed_seconds: f64,
}

/// Facts about the backup itself.
#[derive(Debug, Clone, Serialize)]
pub struct BackupSummary {
    /// PD cluster id.
    pub cluster_id: u64,
    /// TiDB cluster version that made it.
    pub cluster_version: String,
    /// 0 for a full backup.
    pub start_version: u64,
    /// The backup TSO.
    pub end_version: u64,
    /// `end_version`'s physical time, RFC 3339 UTC (`end_version >> 18` ms since the epoch).
    pub end_version_utc: String,
    /// The `--start-ts` of a TiCDC changefeed that continues this backup with neither gap nor
    /// overlap: `end_version` itself (docs/live-lakehouse.md).
    pub ticdc_start_ts: u64,
    /// `v1` or `v2`.
    pub meta_version: String,
}

impl BackupSummary {
    /// The summary of `backup`.
    pub(crate) fn of(backup: &crate::meta::Backup) -> Self {
        BackupSummary {
            cluster_id: backup.cluster_id,
            cluster_version: backup.cluster_version.clone(),
            start_version: backup.start_version,
            end_version: backup.end_version,
            end_version_utc: tso::utc_rfc3339(backup.end_version),
            ticdc_start_ts: backup.end_version,
            meta_version: match backup.meta_version {
                MetaVersion::V1 => "v1".into(),
                MetaVersion::V2 => "v2".into(),
            },
        }
    }
}

/// One exported table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TableReport {
    /// Database name.
    pub db: String,
    /// Table name.
    pub table: String,
    /// Logical table id.
    pub table_id: i64,
    /// Parquet files written.
    pub files: u64,
    /// Rows written.
    pub rows: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Zero or invalid dates written as NULL, by column.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub invalid_dates: BTreeMap<String, u64>,
    /// Row keys read from the backup (each became a row, or a counted skip).
    pub record_kvs: u64,
    /// Index keys read (derived data, not exported).
    pub index_kvs: u64,
    /// Rows `--lenient` dropped.
    pub rows_skipped: u64,
    /// Row keys read against rows exported and skipped, and the checksum verdict, in words.
    pub reconciliation: String,
    /// The table's BR checksum (`Schema.crc64xor/total_kvs/total_bytes`) against what was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ChecksumReport>,
    /// Virtual generated columns, not exported: `column → expression`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub virtual_columns: BTreeMap<String, String>,
}

/// A table the filter left out.
#[derive(Debug, Clone, Serialize)]
pub struct ExcludedTableReport {
    /// Database name.
    pub db: String,
    /// Table name.
    pub table: String,
    /// Why, e.g. `excluded by rule 2 "!shop.audit"` or `excluded: no rule matches it`.
    pub reason: String,
}

impl ExcludedTableReport {
    /// The report of each excluded table of `plan`.
    pub(crate) fn of_plan(plan: &crate::meta::ExportPlan) -> Vec<Self> {
        plan.excluded
            .iter()
            .map(|e| ExcludedTableReport {
                db: e.table.db_name.clone(),
                table: e.table.table_name.clone(),
                reason: e.reason.clone(),
            })
            .collect()
    }
}

/// A checksum comparison. (Values rather than their text: a report may hold 100 k of them.)
#[derive(Debug, Clone, Serialize)]
pub struct ChecksumReport {
    /// What `backupmeta` says.
    #[serde(serialize_with = "serialize_display")]
    pub expected: KvChecksum,
    /// What the SSTs hold.
    #[serde(serialize_with = "serialize_display")]
    pub actual: KvChecksum,
    /// `ok`, or `skipped: <why>`.
    pub status: Cow<'static, str>,
}

fn serialize_display<S: serde::Serializer>(
    value: &impl std::fmt::Display,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// How the report shows a file: [`ExportedFile`] without what only the export needs (the table
/// id, the column statistics, the staged name).
#[derive(Serialize)]
struct ReportedFile<'a> {
    path: &'a str,
    db: &'a str,
    table: &'a str,
    source_sst: &'a str,
    rows: u64,
    size: u64,
    sha256: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    invalid_dates: &'a BTreeMap<String, u64>,
}

fn serialize_files<S: serde::Serializer>(
    files: &[ExportedFile],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(files.iter().map(|f| ReportedFile {
        path: &f.path,
        db: &f.db,
        table: &f.table,
        source_sst: &f.source_sst,
        rows: f.rows,
        size: f.size,
        sha256: &f.sha256,
        invalid_dates: &f.invalid_dates,
    }))
}

/// Rows of one table in one SST that `--lenient` dropped because they could not be decoded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SkippedRowsReport {
    /// Database name.
    pub db: String,
    /// Table name.
    pub table: String,
    /// The write-CF SST the rows were in.
    pub source_sst: String,
    /// How many rows were dropped.
    pub count: u64,
    /// The first few (at most `batch::MAX_REPORTED_SKIPS`), with the reason.
    pub first: Vec<SkippedRow>,
}

/// One dropped row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SkippedRow {
    /// The raw TiDB key, in hex.
    pub key: String,
    /// Why it could not be decoded.
    pub reason: String,
}

/// How much of the export this run did, and how much it took over from a previous run that
/// failed or was killed (see `export::resume`). A job is one or more ranges written to the same
/// files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResumeReport {
    /// Whether finished jobs of a previous run were looked for (`--no-resume` turns it off).
    pub enabled: bool,
    /// Jobs whose files (staged, or published by a run killed while publishing) and outcome a
    /// previous run left, reused as they were.
    pub resumed_jobs: u64,
    /// Ranges of those jobs.
    pub resumed_ranges: u64,
    /// Jobs exported by this run.
    pub exported_jobs: u64,
    /// Ranges of those jobs.
    pub exported_ranges: u64,
    /// Jobs left to the shard holding their lease (`--shards`).
    #[serde(skip_serializing_if = "is_zero")]
    pub left_to_others: u64,
    /// Markers of finished jobs that could not be trusted, so that their jobs were exported again.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejected_markers: Vec<RejectedMarker>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What a `--shard I/N` or `--shards N` run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardReport {
    /// `I/N`.
    pub shard: String,
    /// Jobs of this shard (exported or resumed).
    pub jobs: u64,
    /// Ranges of those jobs.
    pub ranges: u64,
    /// Jobs of this shard another shard was running (or had run), left to it.
    pub left_to_others: u64,
    /// Jobs of other shards this one took over when their leases went stale (`--shards`).
    pub taken_over: u64,
    /// Who publishes the export.
    pub publishing: ShardPublishing,
}

/// Who publishes a sharded export, as one shard saw it when it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum ShardPublishing {
    /// `--shard I/N`: a run without a shard, once every shard is done.
    RunWithoutShard,
    /// `--shards N`, other shards' jobs unfinished: the shard that finishes last.
    LastShard,
    /// This shard found every job finished and published the export.
    ThisShard,
    /// Another shard found every job finished first and publishes.
    OtherShard {
        /// `I/N` of that shard.
        shard: String,
    },
}

/// A marker of a finished job that was not trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedMarker {
    /// Its object name.
    pub marker: String,
    /// Why: it does not parse, or a file it lists is neither staged with its recorded size nor
    /// published with its recorded size and SHA-256.
    pub reason: String,
}

/// A backup file that was not exported.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedFileReport {
    /// Its name in the backup.
    pub name: String,
    /// Why.
    pub reason: String,
}

impl SkippedFileReport {
    /// The files `plan` leaves out.
    pub(crate) fn of_plan(plan: &crate::meta::ExportPlan) -> Vec<Self> {
        plan.skipped_files
            .iter()
            .map(|f| SkippedFileReport {
                name: f.name.clone(),
                reason: f.reason.clone(),
            })
            .collect()
    }
}

/// Keys that did not become rows, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipCounters {
    /// Index entries (`t{id}_i...`): BR backs up indexes, which are derived data.
    pub index_keys: u64,
    /// Keys that are neither row nor index keys.
    pub non_table_keys: u64,
    /// Row keys of tables that are not exported (no schema in the backup, or filtered out).
    pub other_table_rows: u64,
    /// `Lock` and `Rollback` write records, which carry no data.
    pub lock_or_rollback_records: u64,
    /// Default-CF values that no write record referred to.
    pub orphan_default_values: u64,
}

impl AddAssign for SkipCounters {
    fn add_assign(&mut self, other: Self) {
        self.index_keys += other.index_keys;
        self.non_table_keys += other.non_table_keys;
        self.other_table_rows += other.other_table_rows;
        self.lock_or_rollback_records += other.lock_or_rollback_records;
        self.orphan_default_values += other.orphan_default_values;
    }
}

/// Sums over the run.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Totals {
    /// Tables with at least one file.
    pub tables: u64,
    /// Parquet files.
    pub files: u64,
    /// Rows.
    pub rows: u64,
    /// Bytes of Parquet.
    pub bytes: u64,
    /// Write-CF entries read.
    pub write_cf_entries: u64,
    /// SSTs this run read (write and default CF); those of jobs resumed from a previous run are
    /// not counted, since this run did not read them.
    pub ssts_read: u64,
    /// Rows exported as deletes (`_tidb_op = delete`, incremental backups).
    pub delete_rows: u64,
    /// Zero or invalid dates written as NULL.
    pub invalid_dates: u64,
}

/// What the report keeps of the jobs' outcomes once the tables are verified: their files (in
/// job order), the rows `--lenient` dropped and the counters. The rest of an outcome (checksums
/// and key counts per job) is dropped then rather than held while publishing and describing: at
/// 100 k jobs it is about 50 MB.
pub(crate) struct JobResults {
    pub files: Vec<ExportedFile>,
    skipped_rows: Vec<SkippedRowsReport>,
    skipped: SkipCounters,
    totals: Totals,
}

impl JobResults {
    /// Consumes `outcomes`, each dropped as soon as its parts are taken.
    pub(crate) fn gather(outcomes: Vec<JobOutcome>) -> Self {
        let mut results = JobResults {
            files: Vec::with_capacity(outcomes.iter().map(|o| o.files.len()).sum()),
            skipped_rows: Vec::new(),
            skipped: SkipCounters::default(),
            totals: Totals::default(),
        };
        for outcome in outcomes {
            results.files.extend(outcome.files);
            results.skipped_rows.extend(outcome.skipped_rows);
            results.skipped += outcome.skipped;
            results.totals.write_cf_entries += outcome.write_cf_entries;
            results.totals.ssts_read += outcome.ssts_read;
            results.totals.delete_rows += outcome.deletes;
        }
        results
    }
}

impl ExportReport {
    /// Stage 6: the report of a run from what every stage did.
    pub(crate) fn assemble(
        run: &Run<'_>,
        results: JobResults,
        resume: ResumeReport,
        tables: Vec<TableReport>,
        described: Described,
    ) -> Self {
        let options = run.options;
        let backup = &run.opened.backup;
        let JobResults {
            files,
            skipped_rows,
            skipped,
            totals,
        } = results;
        let left_to_others = resume.left_to_others;
        let mut report = ExportReport {
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            backup: BackupSummary::of(backup),
            input: run.opened.input.description().to_string(),
            output: run.output.description().to_string(),
            compression: options.compression_name.clone(),
            verification: if options.verify {
                "on: SST SHA-256, per-file and per-table BR checksums"
            } else {
                "off (--no-verify)"
            }
            .into(),
            tables: Vec::new(),
            excluded_tables: ExcludedTableReport::of_plan(&run.opened.plan),
            files,
            skipped,
            mode: if options.lenient { "lenient" } else { "strict" }.into(),
            skipped_rows,
            skipped_files: SkippedFileReport::of_plan(&run.opened.plan),
            totals,
            resume,
            shard: options.shard.map(|shard| ShardReport {
                shard: shard.to_string(),
                jobs: run.jobs.len() as u64,
                ranges: run.jobs.iter().map(|job| job.ranges.len()).sum::<usize>() as u64,
                left_to_others,
                taken_over: 0,
                publishing: if shard.last_publishes {
                    ShardPublishing::LastShard
                } else {
                    ShardPublishing::RunWithoutShard
                },
            }),
            iceberg_tables: described.iceberg_tables,
            iceberg_manifest: described.manifest,
            elapsed_seconds: 0.0,
        };
        report.summarize(tables);
        report
    }

    /// Fills `tables` and `totals` from `files`. `all_tables` lists every exported table (with
    /// zero counts), so that a table with no rows still appears.
    pub(crate) fn summarize(&mut self, all_tables: Vec<TableReport>) {
        let mut tables: BTreeMap<(String, String), TableReport> = all_tables
            .into_iter()
            .map(|report| ((report.db.clone(), report.table.clone()), report))
            .collect();
        for file in &self.files {
            let entry = tables
                .entry((file.db.clone(), file.table.clone()))
                .or_default();
            entry.files += 1;
            entry.rows += file.rows;
            entry.bytes += file.size;
            for (column, count) in &file.invalid_dates {
                *entry.invalid_dates.entry(column.clone()).or_default() += count;
            }
        }
        self.tables = tables.into_values().collect();
        for table in &mut self.tables {
            let skipped: u64 = self
                .skipped_rows
                .iter()
                .filter(|s| s.db == table.db && s.table == table.table)
                .map(|s| s.count)
                .sum();
            table.rows_skipped = skipped;
            let balanced = table.rows + skipped == table.record_kvs;
            let checksum = match &table.checksum {
                Some(c) if c.status == "ok" => {
                    format!(
                        ", and all {} keys match the backup's own checksum",
                        table.record_kvs + table.index_kvs
                    )
                }
                Some(c) => format!("; table checksum {}", c.status),
                None => String::new(),
            };
            table.reconciliation = format!(
                "{}: {} row keys read = {} rows exported + {skipped} skipped{checksum}",
                if balanced { "ok" } else { "MISMATCH" },
                table.record_kvs,
                table.rows,
            );
        }
        self.totals.tables = self.tables.iter().filter(|t| t.files > 0).count() as u64;
        self.totals.files = self.files.len() as u64;
        self.totals.rows = self.files.iter().map(|f| f.rows).sum();
        self.totals.bytes = self.files.iter().map(|f| f.size).sum();
        self.totals.invalid_dates = self
            .files
            .iter()
            .flat_map(|f| f.invalid_dates.values())
            .sum();
    }
}

impl ExportReport {
    /// Whether this run published the export (a shard only stages, unless it was the one to
    /// publish).
    pub fn published(&self) -> bool {
        self.shard
            .as_ref()
            .is_none_or(|shard| shard.publishing == ShardPublishing::ThisShard)
    }
}

impl fmt::Display for ExportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.totals;
        writeln!(
            f,
            "{} {} rows of {} tables into {} Parquet files ({}) in {:.1}s",
            if self.published() {
                "exported"
            } else {
                "staged"
            },
            t.rows,
            t.tables,
            t.files,
            human_bytes(t.bytes),
            self.elapsed_seconds
        )?;
        writeln!(f, "  from {} ({} SSTs read)", self.input, t.ssts_read)?;
        let verified = self
            .tables
            .iter()
            .filter(|t| t.checksum.as_ref().is_some_and(|c| c.status == "ok"))
            .count();
        if !self.published() {
            writeln!(
                f,
                "  verification {}; tables are checked against their BR checksum by the run \
                 that publishes",
                self.verification
            )?;
        } else {
            writeln!(
                f,
                "  verification {}; {verified} of {} tables match their BR checksum",
                self.verification,
                self.tables.len()
            )?;
        }
        writeln!(f, "  to   {}", self.output)?;
        if !self.excluded_tables.is_empty() {
            let shown: Vec<String> = self
                .excluded_tables
                .iter()
                .take(5)
                .map(|t| format!("{}.{}", t.db, t.table))
                .collect();
            writeln!(
                f,
                "  left out {} tables the table filter excludes: {}{}",
                self.excluded_tables.len(),
                shown.join(", "),
                if self.excluded_tables.len() > shown.len() {
                    ", ... (reasons in the report)"
                } else {
                    " (reasons in the report)"
                }
            )?;
        }
        let resume = &self.resume;
        if resume.resumed_jobs > 0 {
            writeln!(
                f,
                "  resumed {} of {} ranges from the files a previous run staged; exported {}",
                resume.resumed_ranges,
                resume.resumed_ranges + resume.exported_ranges,
                resume.exported_ranges
            )?;
        }
        if !resume.rejected_markers.is_empty() {
            writeln!(
                f,
                "  exported {} jobs again: a previous run's staged files were missing or changed (see the report)",
                resume.rejected_markers.len()
            )?;
        }
        if let Some(shard) = &self.shard {
            let (done, publishing) = match &shard.publishing {
                ShardPublishing::RunWithoutShard => (
                    "staged, nothing published",
                    "once every shard is done, run again without --shard (on any machine) to \
                     check and publish them all"
                        .to_string(),
                ),
                ShardPublishing::LastShard => (
                    "staged",
                    "other shards are still running; the last to finish publishes".to_string(),
                ),
                ShardPublishing::ThisShard => (
                    "done",
                    "every shard's jobs were finished, and this shard checked and published the \
                     export"
                        .to_string(),
                ),
                ShardPublishing::OtherShard { shard } => (
                    "staged",
                    format!("every job is finished; shard {shard} publishes the export"),
                ),
            };
            writeln!(
                f,
                "  shard {}: {} jobs ({} ranges) {done}; {publishing}",
                shard.shard, shard.jobs, shard.ranges
            )?;
            if shard.left_to_others > 0 || shard.taken_over > 0 {
                writeln!(
                    f,
                    "    leases: {} of its jobs left to the shards holding them, {} jobs of \
                     others taken over",
                    shard.left_to_others, shard.taken_over
                )?;
            }
        }
        let s = &self.skipped;
        writeln!(
            f,
            "  skipped keys: {} index, {} rows of other tables, {} non-table, {} lock/rollback, {} orphan default values",
            s.index_keys,
            s.other_table_rows,
            s.non_table_keys,
            s.lock_or_rollback_records,
            s.orphan_default_values
        )?;
        let dropped: u64 = self.skipped_rows.iter().map(|s| s.count).sum();
        if dropped > 0 {
            writeln!(
                f,
                "  WARNING: --lenient dropped {dropped} undecodable rows (keys and reasons in the report)"
            )?;
        }
        if t.delete_rows > 0 {
            writeln!(
                f,
                "  {} rows are deletes (_tidb_op = delete)",
                t.delete_rows
            )?;
        }
        if t.invalid_dates > 0 {
            writeln!(
                f,
                "  {} zero or invalid dates were written as NULL (see the report)",
                t.invalid_dates
            )?;
        }
        if !self.skipped_files.is_empty() {
            writeln!(
                f,
                "  skipped files: {} (see the report)",
                self.skipped_files.len()
            )?;
        }
        for table in &self.tables {
            writeln!(
                f,
                "  {}.{}: {} rows, {} files, {}",
                table.db,
                table.table,
                table.rows,
                table.files,
                human_bytes(table.bytes)
            )?;
        }
        for iceberg in &self.iceberg_tables {
            writeln!(
                f,
                "  iceberg {}.{}: {} (snapshot {}, sequence number {}, {})",
                iceberg.db,
                iceberg.table,
                iceberg.metadata,
                iceberg.snapshot_id,
                iceberg.sequence_number,
                iceberg.operation
            )?;
            if let Some(catalog) = &iceberg.catalog {
                writeln!(
                    f,
                    "    catalog {} ({}): {}.{} {} (attempts: {})",
                    catalog.catalog_name,
                    catalog.catalog,
                    catalog.namespace,
                    catalog.table,
                    catalog.outcome,
                    catalog.attempts
                )?;
            }
            if let Some(apply) = &iceberg.apply {
                writeln!(
                    f,
                    "    applied {} → {}: {} inserted, {} updated, {} deleted ({} deletes of \
                     absent rows); {} data files added, {} touched by {} position delete files, \
                     {} removed ({} rows)",
                    apply.from_version,
                    apply.to_version,
                    apply.rows_inserted,
                    apply.rows_updated,
                    apply.rows_deleted,
                    apply.absent_deletes,
                    apply.data_files_added,
                    apply.data_files_touched,
                    apply.delete_files,
                    apply.data_files_removed,
                    apply.rows_of_removed_files
                )?;
                for change in &apply.schema_changes {
                    writeln!(f, "    schema: {change}")?;
                }
            }
            if !iceberg.rewritten_files.is_empty() {
                writeln!(
                    f,
                    "    warning: {} files an older snapshot lists were rewritten with other bytes",
                    iceberg.rewritten_files.len()
                )?;
            }
        }
        if let Some(manifest) = &self.iceberg_manifest {
            writeln!(f, "  manifest: {manifest}")?;
        }
        if self.published() {
            self.backup.write_handoff(f)?;
        }
        Ok(())
    }
}

impl BackupSummary {
    /// The hand-off to change data capture: the backup's snapshot point, and the TiCDC command
    /// that continues from exactly there (docs/live-lakehouse.md).
    fn write_handoff(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  backup snapshot at end_version {} (TSO) = {} (UTC); to continue with the changes \
             committed after it, start a TiCDC changefeed there:",
            self.end_version, self.end_version_utc
        )?;
        writeln!(
            f,
            "    cdc cli changefeed create --server=<your TiCDC> --sink-uri=<your sink> \
             --start-ts={}",
            self.ticdc_start_ts
        )
    }
}

/// A size for people, in binary units: `512 B`, `3.0 GiB`.
pub(crate) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS.get(unit).copied().unwrap_or("B"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(end_version: u64, shard: Option<ShardReport>) -> ExportReport {
        ExportReport {
            tool_version: "0".into(),
            backup: BackupSummary {
                cluster_id: 7,
                cluster_version: "v8.5.0".into(),
                start_version: 0,
                end_version,
                end_version_utc: tso::utc_rfc3339(end_version),
                ticdc_start_ts: end_version,
                meta_version: "v2".into(),
            },
            input: "local:///b".into(),
            output: "local:///o".into(),
            compression: "zstd(1)".into(),
            verification: "on".into(),
            tables: Vec::new(),
            excluded_tables: Vec::new(),
            files: Vec::new(),
            skipped: SkipCounters::default(),
            skipped_files: Vec::new(),
            mode: "strict".into(),
            skipped_rows: Vec::new(),
            totals: Totals::default(),
            resume: ResumeReport::default(),
            shard,
            iceberg_tables: Vec::new(),
            iceberg_manifest: None,
            elapsed_seconds: 0.0,
        }
    }

    #[test]
    fn the_summary_hands_off_to_ticdc_at_end_version() {
        // 2023-11-14T22:13:20Z, logical 5.
        let end_version = (1_700_000_000_000u64 << 18) | 5;
        let text = report(end_version, None).to_string();
        assert!(
            text.contains(&format!(
                "  backup snapshot at end_version {end_version} (TSO) = 2023-11-14T22:13:20.000Z \
                 (UTC);"
            )),
            "{text}"
        );
        let command = text.lines().last().unwrap_or_default();
        assert_eq!(
            command,
            format!(
                "    cdc cli changefeed create --server=<your TiCDC> --sink-uri=<your sink> \
                 --start-ts={end_version}"
            )
        );
        assert_eq!(end_version, 445_644_800_000_000_005);

        let json = serde_json::to_value(report(end_version, None)).unwrap();
        assert_eq!(json["backup"]["end_version"], end_version);
        assert_eq!(json["backup"]["ticdc_start_ts"], end_version);
        assert_eq!(
            json["backup"]["end_version_utc"],
            "2023-11-14T22:13:20.000Z"
        );

        // A shard run publishes nothing, so it hands nothing off.
        let shard = ShardReport {
            shard: "1/2".into(),
            jobs: 1,
            ranges: 1,
            left_to_others: 0,
            taken_over: 0,
            publishing: ShardPublishing::RunWithoutShard,
        };
        assert!(!report(end_version, Some(shard))
            .to_string()
            .contains("cdc cli"));
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
