//! Stage 1, prepare: open the backup and the output, plan the tables and the jobs, check that
//! every table can be written (types, Iceberg pre-flight), and find what a previous run of the
//! same export finished. No data of the backup is read here.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::batch::{export_schema, BackupKind};
use crate::crypter::Crypter;
use crate::meta::ddl::DdlSummary;
use crate::meta::{self, RangePlan, TableSchema};
use crate::sink::iceberg::{
    ApplyInput, BackupIdentity, DataFileOptions, IcebergWriter, TableInput,
};
use crate::sink::layout::table_dir;
use crate::sink::parquet::ParquetOptions;
use crate::storage::{url, ExternalStorage};
use crate::{Error, Result};

use super::jobs::{plan_jobs, range_bytes, Job};
use super::lease::Leases;
use super::options::ExportOptions;
use super::report::TableReport;
use super::resume::{JobKeys, JobMarkers};
use super::staging::PartialFiles;

/// The name of the root metadata object BR writes last.
const BACKUPMETA: &str = "backupmeta";

/// The backup, opened and planned.
pub(crate) struct OpenedBackup {
    /// The backup storage.
    pub input: ExternalStorage,
    /// Decrypts the backup's SSTs.
    pub crypter: Arc<Crypter>,
    /// Its `backupmeta`, without the schemas and the files: the plan holds the tables parsed
    /// ([`meta::load_backup_with`]) and the files it reads (a backup may list a million).
    pub backup: meta::Backup,
    /// Its tables and ranges.
    pub plan: meta::ExportPlan,
}

impl OpenedBackup {
    /// Opens the backup at `options.input` and plans it.
    pub(crate) fn open(options: &ExportOptions) -> Result<Self> {
        let input = ExternalStorage::open_with(&options.input, true, &options.storage)?;
        if !input.exists(BACKUPMETA)? {
            return Err(Error::NotABackup {
                location: input.description().to_string(),
            });
        }
        let crypter = Arc::new(options.crypter.clone());
        // Each schema parsed as its MetaFile leaf is read, so that no more than one leaf of
        // schema JSON is held.
        let mut tables = Vec::new();
        let mut backup = meta::load_backup_with(
            &mut |name| input.read(name),
            crypter.is_encrypted().then_some(crypter.as_ref()),
            &mut |schema| {
                tables.extend(meta::parse_schema(&schema)?.map(Arc::new));
                Ok(())
            },
        )?;
        let plan = meta::build_plan_of(&backup, tables, &options.filter)?;
        // The plan holds the files it reads; the rest were only listed.
        backup.files = Vec::new();
        if plan.tables.is_empty() && !plan.excluded.is_empty() {
            let names = plan
                .excluded
                .iter()
                .map(|e| (e.table.db_name.as_str(), e.table.table_name.as_str()));
            return Err(Error::NothingSelected {
                tables: plan.excluded.len(),
                closest: options.filter.closest_names(names, 3),
            });
        }
        Ok(OpenedBackup {
            input,
            crypter,
            backup,
            plan,
        })
    }

    /// Full or incremental.
    pub(crate) fn kind(&self) -> BackupKind {
        if self.backup.start_version > 0 {
            BackupKind::Incremental
        } else {
            BackupKind::Full
        }
    }
}

/// The backup and the output a run works on; [`Run`] borrows them.
pub(crate) struct Locations {
    /// The backup.
    pub opened: OpenedBackup,
    /// The output storage.
    pub output: ExternalStorage,
    /// The output prefix, trimmed of `/`.
    pub prefix: String,
}

impl Locations {
    /// Opens the backup and the output.
    pub(crate) fn open(options: &ExportOptions) -> Result<Self> {
        let opened = OpenedBackup::open(options)?;
        let output = ExternalStorage::open_with(&options.output, false, &options.storage)?;
        Ok(Locations {
            opened,
            output,
            prefix: options.trimmed_prefix().to_string(),
        })
    }
}

/// Everything a run decided before reading data; every later stage reads it.
pub(crate) struct Run<'a> {
    pub options: &'a ExportOptions,
    pub opened: &'a OpenedBackup,
    pub output: &'a ExternalStorage,
    pub prefix: &'a str,
    pub kind: BackupKind,
    /// Physical table id → the logical table it belongs to.
    pub tables: HashMap<i64, Arc<TableSchema>>,
    /// Each table as the JSON manifest describes it (empty without `--write-iceberg-manifest`).
    pub table_inputs: Vec<TableInput>,
    /// Each table's report, before any data is read.
    pub table_reports: Vec<TableReport>,
    pub identity: BackupIdentity,
    /// Footer metadata of every file: the backup's identity.
    pub footer: Vec<(String, String)>,
    /// The writer settings files are written with.
    pub parquet: ParquetOptions,
    /// Pre-flighted Iceberg tables, committed when describing (`None` without
    /// `--write-iceberg-table`, and on a shard, which publishes nothing).
    pub iceberg: Option<IcebergWriter<'a>>,
    /// This run's jobs: every job of the plan, or a shard's share.
    pub jobs: Vec<Job>,
    /// Markers of the jobs a previous run finished.
    pub markers: JobMarkers<'a>,
    /// `--shards`: the leases on jobs this run holds and claims (`lease.rs`).
    pub leases: Option<&'a Leases<'a>>,
    /// Jobs taken over from other shards: their leases are held already.
    pub taken: bool,
    /// The keys of every job of the export, this machine's or not.
    pub all_keys: Vec<String>,
    /// Identifies the export (backup, output, options) among others into the same output.
    pub run_id: String,
    /// The local directory files are written in; removed when the run ends.
    pub partial: PartialFiles,
}

impl<'a> Run<'a> {
    /// Plans the run over `locations`: this shard's jobs, or with `taken` those jobs (taken over
    /// from other shards through `leases`).
    pub(crate) fn prepare(
        options: &'a ExportOptions,
        locations: &'a Locations,
        leases: Option<&'a Leases<'a>>,
        taken: Option<&[String]>,
    ) -> Result<Self> {
        let opened = &locations.opened;
        let (backup, plan) = (&opened.backup, &opened.plan);
        let prefix = locations.prefix.as_str();
        let output = &locations.output;
        let kind = opened.kind();
        let applies = kind == BackupKind::Incremental && options.writes_iceberg_tables();
        let ddl = DdlSummary::new(&backup.ddls);
        let mut tables = HashMap::new();
        // Only Iceberg metadata and the JSON manifest describe the tables (and a backup may hold
        // 100 k of them: each input holds an Arrow schema).
        let describes = options.writes_iceberg_tables() || options.write_iceberg_manifest;
        let mut table_inputs = Vec::new();
        // Tables of one shape share one Arrow schema: a multi-tenant cluster holds the same
        // tables for every tenant, and an Arrow schema costs about 0.5 KiB per column.
        let mut shapes: HashSet<arrow_schema::SchemaRef> = HashSet::new();
        let mut table_reports = Vec::with_capacity(plan.tables.len());
        for table in &plan.tables {
            // Fail before reading any data if a table has a type we cannot write.
            let schema = export_schema(table, kind)?;
            if describes {
                table_inputs.push(TableInput {
                    db: table.db_name.clone(),
                    table: table.table_name.clone(),
                    table_id: table.table_id,
                    dir: table_dir(prefix, &table.db_name, &table.table_name),
                    schema: match shapes.get(&schema.arrow) {
                        Some(same) => same.clone(),
                        None => {
                            shapes.insert(schema.arrow.clone());
                            schema.arrow.clone()
                        }
                    },
                    partition_ids: if table.partitions.is_empty() {
                        Vec::new()
                    } else {
                        table.physical_ids()
                    },
                    incremental: kind == BackupKind::Incremental,
                    apply: if applies {
                        Some(ApplyInput {
                            schema: Some(export_schema(table, BackupKind::Full)?.arrow),
                            created: ddl.created(table.table_id),
                            renamed: ddl.renamed(table.table_id),
                            modified_column: ddl.modified_column(table.table_id),
                        })
                    } else {
                        None
                    },
                });
            }
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
        let identity = BackupIdentity {
            cluster_id: backup.cluster_id,
            start_version: backup.start_version,
            end_version: backup.end_version,
        };
        let footer = vec![
            ("br.cluster_id".to_string(), backup.cluster_id.to_string()),
            (
                "br.start_version".to_string(),
                backup.start_version.to_string(),
            ),
            ("br.end_version".to_string(), backup.end_version.to_string()),
        ];
        // A table a DROP TABLE job of an applied incremental removed has no rows in the backup,
        // but its Iceberg table loses them (unless a table of that name is back in the plan).
        let mut iceberg_inputs = if options.write_iceberg_manifest {
            table_inputs.clone()
        } else {
            std::mem::take(&mut table_inputs)
        };
        if applies {
            for dropped in ddl.dropped() {
                let back = plan
                    .tables
                    .iter()
                    .any(|t| t.db_name == dropped.db && t.table_name == dropped.table);
                if back || !options.filter.decide(&dropped.db, &dropped.table).included {
                    continue;
                }
                iceberg_inputs.push(TableInput {
                    db: dropped.db.clone(),
                    table: dropped.table.clone(),
                    table_id: dropped.table_id,
                    dir: table_dir(prefix, &dropped.db, &dropped.table),
                    schema: Arc::new(arrow_schema::Schema::empty()),
                    partition_ids: Vec::new(),
                    incremental: true,
                    apply: Some(ApplyInput {
                        schema: None,
                        created: false,
                        renamed: false,
                        modified_column: false,
                    }),
                });
            }
        }
        // Iceberg pre-flight: schemas and existing tables are checked before any data is written.
        let iceberg = if options.writes_iceberg_tables() && options.shard.is_none() {
            // The catalog reads table metadata through a storage of its own (it must be shared),
            // at the bucket's root: an earlier export of the table may have gone to another prefix.
            let catalog = match &options.iceberg_catalog {
                Some(catalog) => Some((
                    catalog,
                    Arc::new(ExternalStorage::open_with(
                        &url::bucket_root(&options.output),
                        false,
                        &options.storage,
                    )?),
                )),
                None => None,
            };
            let files = DataFileOptions {
                compression_name: options.compression_name.clone(),
                parquet: options.effective_parquet(),
                footer: footer.clone(),
            };
            Some(IcebergWriter::prepare(
                output,
                identity,
                files,
                iceberg_inputs,
                catalog,
            )?)
        } else {
            None
        };
        let partial = PartialFiles::create(output, prefix)?;
        let parquet = options.effective_parquet();
        let keys = JobKeys::new(backup, options, &parquet, prefix)?;
        let mut jobs = plan_jobs(&plan.ranges, &tables, options.target_file_size, &keys);
        // Markers are kept or dropped by the keys of every job, whichever shard this run is.
        let all_keys: Vec<String> = jobs.iter().map(|job| job.key.clone()).collect();
        let markers = JobMarkers::open(output, prefix, &all_keys, options.resume)?;
        let run_id = keys.run_id();
        if let Some(taken) = taken {
            let taken: std::collections::HashSet<&String> = taken.iter().collect();
            jobs.retain(|job| taken.contains(&job.key));
        } else if let Some(shard) = options.shard {
            let bytes: Vec<u64> = jobs.iter().map(|job| job.bytes(&plan.ranges)).collect();
            let mine = shard.jobs(&bytes);
            jobs = jobs
                .into_iter()
                .enumerate()
                .filter(|(i, _)| mine.binary_search(i).is_ok())
                .map(|(_, job)| job)
                .collect();
        }
        Ok(Run {
            options,
            opened,
            output,
            prefix,
            kind,
            tables,
            table_inputs,
            table_reports,
            identity,
            footer,
            parquet,
            iceberg,
            jobs,
            markers,
            leases,
            taken: taken.is_some(),
            all_keys,
            run_id,
            partial,
        })
    }

    /// Whether this run publishes (a shard only stages; with `--shards`, the shard that finds
    /// every job finished publishes in a second run, `export/mod.rs`).
    pub(crate) fn publishes(&self) -> bool {
        self.options.shard.is_none()
    }

    /// The ranges of a job.
    pub(crate) fn ranges_of(&self, job: &Job) -> Vec<&'a RangePlan> {
        let ranges = &self.opened.plan.ranges;
        job.ranges.iter().filter_map(|i| ranges.get(*i)).collect()
    }

    /// SST bytes of this run's jobs.
    pub(crate) fn bytes(&self) -> u64 {
        self.jobs
            .iter()
            .flat_map(|job| self.ranges_of(job))
            .map(range_bytes)
            .sum()
    }
}
