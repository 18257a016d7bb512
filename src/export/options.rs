//! [`ExportOptions`]: the settled configuration of one export, as the command lines resolve
//! their flags into it (`cli`), and as library users build it.

use std::time::Duration;

use crate::batch::BatchLimits;
use crate::crypter::Crypter;
use crate::error::Setting;
use crate::meta::filter::TableFilter;
use crate::proto::backup::StorageBackend;
use crate::sink::iceberg::CatalogOptions;
use crate::sink::parquet::ParquetOptions;
use crate::storage::StorageOptions;
use crate::{Error, Result};

use super::progress::ProgressMode;
use super::shard::Shard;

/// Default output prefix.
pub const DEFAULT_OUTPUT_PREFIX: &str = "parquet";

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
    /// Jobs exported at once.
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
    /// Decrypts an encrypted backup; plaintext by default.
    pub crypter: Crypter,
    /// Also write an Iceberg v2 table per exported table.
    pub write_iceberg_table: bool,
    /// Also write the JSON manifest of the run.
    pub write_iceberg_manifest: bool,
    /// Register the Iceberg tables in this catalog (implies [`Self::write_iceberg_table`]).
    pub iceberg_catalog: Option<CatalogOptions>,
    /// Storage options (rate limit, retries); one rate limiter is shared by input and output.
    pub storage: StorageOptions,
    /// Reuse the jobs a failed or killed run of the same export finished and staged, instead of
    /// exporting them again (on by default); see `export/resume.rs`.
    pub resume: bool,
    /// Export only this machine's share of the jobs and publish nothing; a run without it
    /// publishes every shard's files (see `export/shard.rs`).
    pub shard: Option<Shard>,
    /// With `--shards`: how long a shard may stop renewing its lease on a job before an idle
    /// shard takes the job over (`export/lease.rs`); zero: no leases, each shard runs only its
    /// share.
    pub shard_lease: Duration,
    /// Which tables to export (TiDB's table filter, `docs/table-filter.md`); by default every
    /// table but those of system schemas and BR's temporary databases.
    pub filter: TableFilter,
}

/// The default lease on a job of a `--shards` export: long enough that a shard renewing every
/// third of it is never taken over for a slow request, short against the minutes a job takes.
pub const DEFAULT_SHARD_LEASE: Duration = Duration::from_secs(60);

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
            iceberg_catalog: None,
            storage: StorageOptions::default(),
            resume: true,
            shard: None,
            shard_lease: DEFAULT_SHARD_LEASE,
            filter: TableFilter::br_default(),
        }
    }

    /// Checks the settings that depend on each other.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] naming the setting.
    pub fn validate(&self) -> Result<()> {
        if self.shard.is_some() && !self.resume {
            // A shard's work reaches the publishing run only through its job markers, and a run
            // that does not resume deletes every marker, the other shards' too.
            return Err(Error::setting(
                Setting::Shard,
                "a shard needs resuming: its jobs reach the publishing run through their markers, \
                 which a run without resuming deletes",
            ));
        }
        if let Some(catalog) = &self.iceberg_catalog {
            catalog.validate()?;
        }
        Ok(())
    }

    /// Whether Iceberg tables are written: asked for, or implied by a catalog.
    pub(crate) fn writes_iceberg_tables(&self) -> bool {
        self.write_iceberg_table || self.iceberg_catalog.is_some()
    }

    /// Whether files get per-column statistics: Iceberg metadata and the JSON manifest need them.
    pub(crate) fn collects_column_stats(&self) -> bool {
        self.writes_iceberg_tables() || self.write_iceberg_manifest
    }

    /// The output prefix as object names use it, without leading or trailing `/`.
    pub(crate) fn trimmed_prefix(&self) -> &str {
        self.output_prefix.trim_matches('/')
    }

    /// The Parquet settings files are written with: for an Iceberg table, without the embedded
    /// Arrow schema (readers take types from the Iceberg schema, and PyIceberg refuses the
    /// Arrow-only types, durations and extension types, an embedded schema would give them).
    pub(crate) fn effective_parquet(&self) -> ParquetOptions {
        let mut parquet = self.parquet.clone();
        if self.writes_iceberg_tables() {
            parquet.embed_arrow_schema = false;
        }
        parquet
    }
}

/// One worker per core by default.
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
