//! Iceberg v2 tables over the exported Parquet files (`--write-iceberg-table`).
//!
//! Spec: <https://iceberg.apache.org/spec/> ("Manifests", "Manifest Lists", "Table Metadata").
//! The `iceberg` crate (apache/iceberg-rust 0.10) writes the Avro manifests and manifest lists
//! with every v2 field and serializes the metadata JSON; this module decides what goes in them.
//! Everything is written into an in-memory `FileIO` under its final URI (so recorded paths are
//! final) and then uploaded through [`ExternalStorage::put_bytes`].
//!
//! ```text
//! <prefix>/<db>/<table>/                  table location (file:///… or s3://…)
//!   <sst-stem>.parquet                    data files, written by the export
//!   metadata/
//!     <commit-uuid>-m0.avro               manifest: the files this run added (status ADDED)
//!     <commit-uuid>-m1.avro …             manifests: the previous snapshot's files (DELETED),
//!                                         one per partition spec
//!     snap-<snapshot-id>-1-<commit-uuid>.avro   manifest list
//!     v<N>.metadata.json                  table metadata, N = 1, 2, … (one per run)
//!     version-hint.text                   "N", written last
//! ```
//!
//! With a catalog (`--iceberg-catalog`, [`super::catalog`]) the catalog, not `version-hint.text`,
//! says which version is current: the previous version is the one the catalog points at (wherever
//! an earlier export put it), the new one is named `<N:05>-<uuid>.metadata.json` as Java and
//! PyIceberg name theirs (two writers never pick the same name), the table's location moves to
//! this export's table directory, and the catalog's pointer is swapped last. A writer that loses
//! the swap to another reloads the table and builds its version again on top of the winner.
//!
//! Each run adds one snapshot per table: sequence number = previous + 1, parent = the previous
//! current snapshot, timestamp = the backup TSO's physical time (`end_version >> 18`), and a
//! metadata-log entry for the previous version. The snapshot holds exactly the files of this
//! run (operation `append` for the first, `overwrite` afterwards, the previous files marked
//! DELETED), so the current snapshot is the latest backup and older snapshots stay readable by
//! id. Field ids are the Parquet field ids the export already wrote; the crate's
//! `TableMetadataBuilder::new` would renumber them, so the first version is deserialized from
//! JSON with our ids instead and later versions only go through `new_from_metadata`, which keeps
//! them; both paths are checked.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use iceberg::io::FileIO;
use iceberg::spec::{
    DataContentType, DataFile, DataFileBuilder, DataFileFormat, Datum, FormatVersion, Literal,
    ManifestContentType, ManifestFile, ManifestList, ManifestListWriter, ManifestWriterBuilder,
    Operation, PartitionSpec, Schema, SchemaRef, Snapshot, SortOrder, Struct, Summary,
    TableMetadata, TableMetadataBuilder, Transform, Type, UnboundPartitionSpec, MAIN_BRANCH,
};
use iceberg::TableIdent;
use serde::Serialize;
use serde_json::json;

use super::catalog::{Catalog, CatalogOptions, CatalogTable, Swap};
use super::schema::{iceberg_schema, name_mapping};
use super::BackupIdentity;
use crate::batch::{HANDLE_FIELD_ID, TABLE_ID_COLUMN, TABLE_ID_FIELD_ID};
use crate::meta::tso;
use crate::sink::ExportedFile;
use crate::storage::ExternalStorage;
use crate::{Error, Result};

/// Directory of the metadata files, inside the table directory.
pub const METADATA_DIR: &str = "metadata";
/// The file holding the current metadata version number.
pub const VERSION_HINT: &str = "version-hint.text";
/// Field id of the `_tidb_table_id` identity partition field (Iceberg starts partition ids at 1000).
pub const PARTITION_FIELD_ID: i32 = 1000;
/// The value `ManifestWriter::add_file` takes for "no sequence number": the entry is written
/// with null and inherits the snapshot's sequence number, as the spec recommends for new files.
const INHERIT_SEQUENCE_NUMBER: i64 = -1;
/// `last-partition-id` of a table that never had a partition field.
const UNPARTITIONED_LAST_PARTITION_ID: i32 = PARTITION_FIELD_ID - 1;
/// Commits tried per table before giving up on a catalog other writers keep moving.
const CATALOG_COMMIT_ATTEMPTS: u32 = 8;
/// The snapshot summary keys that identify the backup a snapshot holds.
const SUMMARY_CLUSTER_ID: &str = "tidb.cluster-id";
const SUMMARY_START_VERSION: &str = "tidb.backup.start-version";
const SUMMARY_END_VERSION: &str = "tidb.backup.end-version";

/// One table to describe.
#[derive(Debug, Clone)]
pub struct TableInput {
    /// Database name.
    pub db: String,
    /// Table name.
    pub table: String,
    /// Logical TiDB table id.
    pub table_id: i64,
    /// Object name of the table directory (`<prefix>/<db>/<table>`), holding its Parquet files.
    pub dir: String,
    /// The Arrow export schema, every field carrying its `PARQUET:field_id`.
    pub schema: arrow_schema::SchemaRef,
    /// Partition (physical table) ids; empty for an unpartitioned table.
    pub partition_ids: Vec<i64>,
    /// Rows are changes of an incremental backup (so `(_tidb_table_id, _tidb_handle)` does not
    /// identify a row).
    pub incremental: bool,
}

impl TableInput {
    fn name(&self) -> String {
        format!("{}.{}", self.db, self.table)
    }
}

/// What was written for one table.
#[derive(Debug, Clone, Serialize)]
pub struct IcebergTableReport {
    /// Database name.
    pub db: String,
    /// Table name.
    pub table: String,
    /// Table location (URI).
    pub location: String,
    /// Object name of the new metadata file (`…/metadata/v<N>.metadata.json`).
    pub metadata: String,
    /// Metadata version N.
    pub version: u32,
    /// The new snapshot.
    pub snapshot_id: i64,
    /// The previous current snapshot, if any.
    pub parent_snapshot_id: Option<i64>,
    /// The snapshot's sequence number.
    pub sequence_number: i64,
    /// The snapshot's timestamp: the backup TSO's physical time, in ms.
    pub timestamp_ms: i64,
    /// `append` (first snapshot) or `overwrite` (previous files replaced).
    pub operation: String,
    /// Data files added.
    pub added_files: u64,
    /// Rows added.
    pub added_records: u64,
    /// Data files of the previous snapshot marked deleted.
    pub deleted_files: u64,
    /// Paths an earlier snapshot also lists whose bytes this run replaced (same SST names, other
    /// contents): time travel to those snapshots reads the new bytes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rewritten_files: Vec<String>,
    /// What the catalog was told (`--iceberg-catalog`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog: Option<CatalogCommit>,
}

/// One table's commit to the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogCommit {
    /// The catalog, as its URI without secrets.
    pub catalog: String,
    /// The catalog name.
    pub catalog_name: String,
    /// The namespace, levels joined by `.`.
    pub namespace: String,
    /// The table name.
    pub table: String,
    /// `registered` (new in the catalog), `committed` (a new snapshot), or `unchanged` (the
    /// table's current snapshot already holds this backup: a re-run).
    pub outcome: String,
    /// The metadata file the catalog now points at.
    pub metadata_location: String,
    /// The one it pointed at before, if any.
    pub previous_metadata_location: Option<String>,
    /// Commits tried: more than 1 when other writers committed first.
    pub attempts: u32,
}

/// A live data file of the previous snapshot.
#[derive(Debug, Clone)]
struct LiveFile {
    data_file: DataFile,
    spec_id: i32,
    sequence_number: i64,
    file_sequence_number: Option<i64>,
}

/// The table's current metadata, when a previous run wrote one.
#[derive(Debug)]
struct Previous {
    version: u32,
    metadata: TableMetadata,
    uri: String,
    live: Vec<LiveFile>,
    /// The catalog points at `uri` (rather than only this output's `version-hint.text`).
    in_catalog: bool,
}

/// A table checked before any data is exported.
#[derive(Debug)]
struct PreparedTable {
    input: TableInput,
    location: String,
    schema: Schema,
    spec: UnboundPartitionSpec,
    previous: Option<Previous>,
    /// The table's name in the catalog, when there is one.
    ident: Option<TableIdent>,
}

/// A new metadata version, built but not written.
struct NewVersion {
    metadata: TableMetadata,
    /// Manifests and the manifest list, by URI.
    objects: Vec<(String, Bytes)>,
    /// The report, less the metadata file's name.
    report: IcebergTableReport,
}

/// Writes one Iceberg table per exported table, after the export.
pub struct IcebergWriter<'a> {
    output: &'a ExternalStorage,
    backup: BackupIdentity,
    compression: String,
    tables: Vec<PreparedTable>,
    catalog: Option<Catalog>,
    runtime: tokio::runtime::Runtime,
}

impl<'a> IcebergWriter<'a> {
    /// Checks every table before the export writes anything: its schema must be expressible in
    /// Iceberg, and a table a previous run wrote must be readable, at the same location and not
    /// newer than this backup. `compression` is the Parquet codec name (`zstd(1)`, `snappy`, …).
    /// With a `catalog` (and the output storage again, shared with the catalog's file IO), the
    /// catalog is connected here and says which tables exist.
    pub fn prepare(
        output: &'a ExternalStorage,
        backup: BackupIdentity,
        compression: &str,
        inputs: Vec<TableInput>,
        catalog: Option<(&CatalogOptions, Arc<ExternalStorage>)>,
    ) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("tokio runtime", e))?;
        let catalog = match catalog {
            Some((options, storage)) => {
                options.validate()?;
                let factory = Catalog::storage_factory(storage);
                Some(runtime.block_on(Catalog::connect(options, factory))?)
            }
            None => None,
        };
        let mut writer = IcebergWriter {
            output,
            backup,
            compression: compression.to_string(),
            tables: Vec::with_capacity(inputs.len()),
            catalog,
            runtime,
        };
        for input in inputs {
            let table = writer.prepare_table(input)?;
            writer.tables.push(table);
        }
        Ok(writer)
    }

    fn prepare_table(&self, input: TableInput) -> Result<PreparedTable> {
        let identifier: &[i32] = if input.incremental {
            &[]
        } else {
            &[TABLE_ID_FIELD_ID, HANDLE_FIELD_ID]
        };
        let schema = iceberg_schema(&input.schema, 0, identifier).map_err(|reason| {
            Error::Unsupported(format!(
                "table {}: {reason}; Iceberg metadata cannot describe this table (export it \
                 without Iceberg metadata)",
                input.name()
            ))
        })?;
        let mut spec = UnboundPartitionSpec::builder().with_spec_id(0);
        if !input.partition_ids.is_empty() {
            spec = spec
                .add_partition_field(TABLE_ID_FIELD_ID, TABLE_ID_COLUMN, Transform::Identity)
                .map_err(|e| iceberg_error(&input.dir, e))?;
        }
        let location = self.output.url_of(&input.dir);
        let mut ident = None;
        let mut previous = None;
        if let Some(catalog) = &self.catalog {
            let name = TableIdent::new(
                catalog.options().namespace_of(&input.db)?,
                input.table.clone(),
            );
            if let Some(current) = self.block_on(catalog.load(&name))? {
                previous = Some(self.previous_in_catalog(current)?);
            }
            ident = Some(name);
        }
        if previous.is_none() {
            previous = self.load_previous(&input, &location)?;
        }
        Ok(PreparedTable {
            input,
            location,
            schema,
            spec: spec.build(),
            previous,
            ident,
        })
    }

    /// The table the catalog points at. Its location may be another export's output (each export
    /// of a newer backup may go to a new prefix): files are read by URI through the catalog.
    fn previous_in_catalog(&self, current: CatalogTable) -> Result<Previous> {
        let CatalogTable {
            metadata_location,
            metadata,
            file_io,
        } = current;
        self.check_previous(&metadata, &metadata_location)?;
        let read = |uri: &str| {
            self.block_on(async { file_io.new_input(uri)?.read().await })
                .map_err(|e| iceberg_error(uri, e))
        };
        let live = self.live_files(&metadata, &read)?;
        Ok(Previous {
            version: metadata_version(&metadata_location, &metadata),
            metadata,
            uri: metadata_location,
            live,
            in_catalog: true,
        })
    }

    /// A previous version must be a v2 table no newer than this backup.
    fn check_previous(&self, metadata: &TableMetadata, name: &str) -> Result<()> {
        if metadata.format_version() != FormatVersion::V2 {
            return Err(Error::Unsupported(format!(
                "{name}: the table has Iceberg format version {:?}; br-parquet adds snapshots \
                 to v2 tables only",
                metadata.format_version()
            )));
        }
        let timestamp = self.backup.timestamp_ms();
        if metadata.last_updated_ms() > timestamp.saturating_add(60_000) {
            return Err(Error::Usage(format!(
                "{name}: the table was last updated at {} ms, after this backup ({timestamp} ms, \
                 end version {}); snapshots must not go back in time, so export older backups \
                 into another output prefix (or another catalog table)",
                metadata.last_updated_ms(),
                self.backup.end_version
            )));
        }
        Ok(())
    }

    /// Finds the newest `v<N>.metadata.json` (from `version-hint.text`, then probing N+1, …, so a
    /// hint left stale by an interrupted run is harmless) and the live files of its snapshot.
    fn load_previous(&self, input: &TableInput, location: &str) -> Result<Option<Previous>> {
        let dir = format!("{}/{METADATA_DIR}", input.dir);
        let hint_name = format!("{dir}/{VERSION_HINT}");
        let mut version: u32 = 0;
        if self.output.exists(&hint_name)? {
            let text = self.output.read(&hint_name)?;
            version = std::str::from_utf8(&text)
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .ok_or_else(|| Error::iceberg(&hint_name, "is not a metadata version number"))?;
        }
        while self
            .output
            .exists(&format!("{dir}/{}", metadata_file_name(version + 1)))?
        {
            version += 1;
        }
        if version == 0 {
            return Ok(None);
        }
        let name = format!("{dir}/{}", metadata_file_name(version));
        let bytes = self.output.read(&name)?;
        let metadata: TableMetadata = serde_json::from_slice(&bytes)
            .map_err(|e| Error::iceberg(&name, format!("not Iceberg table metadata: {e}")))?;
        self.check_previous(&metadata, &name)?;
        if metadata.location().trim_end_matches('/') != location {
            return Err(Error::Usage(format!(
                "{name}: the existing table's location is {}, but this export writes to \
                 {location}; Iceberg metadata holds absolute paths, so export into another \
                 output prefix (or remove {dir}/)",
                metadata.location()
            )));
        }
        let read = |uri: &str| self.output.read(&object_of(uri, location, &input.dir)?);
        let live = self.live_files(&metadata, &read)?;
        Ok(Some(Previous {
            version,
            metadata,
            uri: format!("{location}/{METADATA_DIR}/{}", metadata_file_name(version)),
            live,
            in_catalog: false,
        }))
    }

    /// The data files alive in the current snapshot of `metadata`, with their sequence numbers;
    /// `read` fetches a manifest list or manifest by URI.
    fn live_files(
        &self,
        metadata: &TableMetadata,
        read: &dyn Fn(&str) -> Result<Bytes>,
    ) -> Result<Vec<LiveFile>> {
        let Some(snapshot) = metadata.current_snapshot() else {
            return Ok(Vec::new());
        };
        let io = FileIO::new_with_memory();
        let list_name = snapshot.manifest_list();
        let list_bytes = read(list_name)?;
        let list = ManifestList::parse_with_version(&list_bytes, FormatVersion::V2)
            .map_err(|e| iceberg_error(list_name, e))?;
        let mut live = Vec::new();
        for manifest in list.entries() {
            if manifest.content != ManifestContentType::Data {
                return Err(Error::Unsupported(format!(
                    "{list_name}: the table has delete files ({}), which br-parquet neither \
                     writes nor carries over",
                    manifest.manifest_path
                )));
            }
            let name = manifest.manifest_path.as_str();
            let bytes = read(name)?;
            let loaded = self.block_on(async {
                io.new_output(&manifest.manifest_path)?.write(bytes).await?;
                manifest.load_manifest(&io).await
            });
            let loaded = loaded.map_err(|e| iceberg_error(name, e))?;
            for entry in loaded.entries().iter().filter(|e| e.is_alive()) {
                let sequence_number = entry.sequence_number().ok_or_else(|| {
                    Error::iceberg(
                        name,
                        format!("entry {} has no sequence number", entry.file_path()),
                    )
                })?;
                live.push(LiveFile {
                    data_file: entry.data_file().clone(),
                    spec_id: manifest.partition_spec_id,
                    sequence_number,
                    file_sequence_number: entry.file_sequence_number,
                });
            }
        }
        Ok(live)
    }

    /// Whether the tables are committed to a catalog.
    pub fn has_catalog(&self) -> bool {
        self.catalog.is_some()
    }

    /// Writes the new metadata version of every table, once all Parquet files are uploaded.
    pub fn commit(self, files: &[ExportedFile]) -> Result<Vec<IcebergTableReport>> {
        let mut by_table: HashMap<i64, Vec<&ExportedFile>> = HashMap::new();
        for file in files {
            by_table.entry(file.table_id).or_default().push(file);
        }
        let mut reports = Vec::with_capacity(self.tables.len());
        for table in &self.tables {
            let mut files = by_table.remove(&table.input.table_id).unwrap_or_default();
            files.sort_by(|a, b| a.path.cmp(&b.path));
            let report = match (&self.catalog, &table.ident) {
                (Some(catalog), Some(ident)) => {
                    self.commit_to_catalog(catalog, ident, table, &files)?
                }
                _ => self.commit_to_output(table, &files)?,
            };
            reports.push(report);
        }
        Ok(reports)
    }

    /// Writes `v<N>.metadata.json` and then `version-hint.text`, which makes it current.
    fn commit_to_output(
        &self,
        table: &PreparedTable,
        files: &[&ExportedFile],
    ) -> Result<IcebergTableReport> {
        let meta_dir = format!("{}/{METADATA_DIR}", table.input.dir);
        let version = table.previous.as_ref().map_or(1, |p| p.version + 1);
        let metadata_name = format!("{meta_dir}/{}", metadata_file_name(version));
        let new = self.build_version(table, table.previous.as_ref(), files)?;
        if !self.output.exists(&metadata_name)? && self.upload(table, &new, &metadata_name)? {
            self.output.put_bytes(
                &format!("{meta_dir}/{VERSION_HINT}"),
                version.to_string().into(),
            )?;
            return Ok(IcebergTableReport {
                metadata: metadata_name,
                version,
                ..new.report
            });
        }
        // Another writer made this version first; this run's manifests are referenced by nothing.
        let orphans: Vec<String> = new
            .objects
            .iter()
            .map(|(uri, _)| object_of(uri, &table.location, &table.input.dir))
            .collect::<Result<_>>()?;
        self.output.delete_all(&orphans)?;
        let bytes = self.output.read(&metadata_name)?;
        let metadata: TableMetadata = serde_json::from_slice(&bytes)
            .map_err(|e| Error::iceberg(&metadata_name, format!("does not parse: {e}")))?;
        if !self.holds_this_backup(&metadata) {
            return Err(Error::OutputConflict {
                object: metadata_name,
                message: "appeared while this export ran; another export is writing the same \
                          table"
                    .into(),
            });
        }
        // Another run of this very export committed it: its snapshot holds these rows.
        let committed = Previous {
            version,
            uri: self.output.url_of(&metadata_name),
            metadata,
            live: Vec::new(),
            in_catalog: false,
        };
        Ok(IcebergTableReport {
            metadata: metadata_name,
            ..self.current_report(table, &committed)
        })
    }

    /// Registers the table, or swaps the catalog's pointer from the version this version was
    /// built on; on losing a race, reloads the table and builds the version again on the winner.
    fn commit_to_catalog(
        &self,
        catalog: &Catalog,
        ident: &TableIdent,
        table: &PreparedTable,
        files: &[&ExportedFile],
    ) -> Result<IcebergTableReport> {
        self.block_on(catalog.ensure_namespace(ident.namespace()))?;
        let meta_dir = format!("{}/{METADATA_DIR}", table.input.dir);
        let mut reloaded: Option<Previous> = None;
        for attempt in 1..=CATALOG_COMMIT_ATTEMPTS {
            let previous = reloaded.as_ref().or(table.previous.as_ref());
            let commit = |outcome: &str, report: IcebergTableReport, location: String| {
                let previous_metadata_location = previous
                    .filter(|p| p.in_catalog && p.uri != location)
                    .map(|p| p.uri.clone());
                IcebergTableReport {
                    catalog: Some(CatalogCommit {
                        catalog: catalog.options().uri.redacted(),
                        catalog_name: catalog.options().name.clone(),
                        namespace: ident.namespace().join("."),
                        table: ident.name().to_string(),
                        outcome: outcome.to_string(),
                        metadata_location: location,
                        previous_metadata_location,
                        attempts: attempt,
                    }),
                    ..report
                }
            };
            if let Some(p) = previous.filter(|p| self.holds_this_backup(&p.metadata)) {
                // A re-run: the rows are there. A version an earlier export without the catalog
                // wrote is registered as it is.
                if !p.in_catalog
                    && self.block_on(catalog.register(ident, &p.uri))? == Swap::Conflict
                {
                    reloaded = Some(self.reload(catalog, ident)?);
                    continue;
                }
                let outcome = if p.in_catalog {
                    "unchanged"
                } else {
                    "registered"
                };
                return Ok(commit(
                    outcome,
                    self.current_report(table, p),
                    p.uri.clone(),
                ));
            }
            let version = previous.map_or(1, |p| p.version + 1);
            let new = self.build_version(table, previous, files)?;
            let metadata_name = format!(
                "{meta_dir}/{version:05}-{}.metadata.json",
                uuid::Uuid::new_v4()
            );
            // The name holds a fresh UUID: no other writer can have taken it.
            self.upload(table, &new, &metadata_name)?;
            let location = self.output.url_of(&metadata_name);
            let swap = match previous.filter(|p| p.in_catalog) {
                Some(p) => self.block_on(catalog.swap(ident, &p.uri, &location, &new.metadata))?,
                None => self.block_on(catalog.register(ident, &location))?,
            };
            if swap == Swap::Done {
                let outcome = if previous.is_some_and(|p| p.in_catalog) {
                    "committed"
                } else {
                    "registered"
                };
                let report = IcebergTableReport {
                    metadata: metadata_name,
                    version,
                    ..new.report
                };
                return Ok(commit(outcome, report, location));
            }
            // The losing version is referenced by nothing: remove it before building the next.
            let mut orphans: Vec<String> = new
                .objects
                .iter()
                .map(|(uri, _)| object_of(uri, &table.location, &table.input.dir))
                .collect::<Result<_>>()?;
            orphans.push(metadata_name);
            self.output.delete_all(&orphans)?;
            reloaded = Some(self.reload(catalog, ident)?);
            std::thread::sleep(Duration::from_millis(50 << attempt.min(6)));
        }
        Err(Error::Catalog {
            catalog: catalog.options().uri.redacted(),
            message: format!(
                "table {ident}: other writers committed first {CATALOG_COMMIT_ATTEMPTS} times in \
                 a row; the catalog is unchanged by this export and its files are in place, so \
                 run it again to commit"
            ),
        })
    }

    /// The table as the catalog has it now (another writer just committed it).
    fn reload(&self, catalog: &Catalog, ident: &TableIdent) -> Result<Previous> {
        let current = self
            .block_on(catalog.load(ident))?
            .ok_or_else(|| Error::Catalog {
                catalog: catalog.options().uri.redacted(),
                message: format!(
                "table {ident} changed while this export committed it and is gone now; run the \
                 export again"
            ),
            })?;
        self.previous_in_catalog(current)
    }

    /// Whether the current snapshot of `metadata` holds this export's backup.
    fn holds_this_backup(&self, metadata: &TableMetadata) -> bool {
        let Some(snapshot) = metadata.current_snapshot() else {
            return false;
        };
        let summary = &snapshot.summary().additional_properties;
        let is = |key: &str, value: u64| summary.get(key) == Some(&value.to_string());
        is(SUMMARY_CLUSTER_ID, self.backup.cluster_id)
            && is(SUMMARY_START_VERSION, self.backup.start_version)
            && is(SUMMARY_END_VERSION, self.backup.end_version)
    }

    /// The report of a table left as it is: its current snapshot, nothing added.
    fn current_report(&self, table: &PreparedTable, previous: &Previous) -> IcebergTableReport {
        let snapshot = previous.metadata.current_snapshot();
        IcebergTableReport {
            db: table.input.db.clone(),
            table: table.input.table.clone(),
            location: previous.metadata.location().to_string(),
            metadata: previous.uri.clone(),
            version: previous.version,
            snapshot_id: snapshot.map_or(0, |s| s.snapshot_id()),
            parent_snapshot_id: snapshot.and_then(|s| s.parent_snapshot_id()),
            sequence_number: snapshot.map_or(0, |s| s.sequence_number()),
            timestamp_ms: snapshot.map_or(0, |s| s.timestamp_ms()),
            operation: snapshot
                .map_or("none", |s| s.summary().operation.as_str())
                .to_string(),
            added_files: 0,
            added_records: 0,
            deleted_files: 0,
            rewritten_files: Vec::new(),
            catalog: None,
        }
    }

    /// Uploads a version: manifests and list first, then the metadata file `metadata_name`
    /// unless one exists under that name: `false` when another writer was first.
    fn upload(&self, table: &PreparedTable, new: &NewVersion, metadata_name: &str) -> Result<bool> {
        for (uri, bytes) in &new.objects {
            self.output.put_bytes(
                &object_of(uri, &table.location, &table.input.dir)?,
                bytes.clone(),
            )?;
        }
        let json = metadata_json(&new.metadata).map_err(|e| {
            Error::iceberg(metadata_name, format!("serializing table metadata: {e}"))
        })?;
        self.output.put_bytes_if_absent(metadata_name, json.into())
    }

    /// The next version of `table` over `previous`: a snapshot holding exactly `files`, the
    /// previous snapshot's files marked deleted.
    fn build_version(
        &self,
        table: &PreparedTable,
        previous: Option<&Previous>,
        files: &[&ExportedFile],
    ) -> Result<NewVersion> {
        let input = &table.input;
        let location = table.location.as_str();
        let meta_dir = format!("{}/{METADATA_DIR}", input.dir);
        let err = |e: iceberg::Error| iceberg_error(&meta_dir, e);
        let timestamp_ms = self.backup.timestamp_ms();
        let (base, base_uri) = match previous {
            Some(p) => (p.metadata.clone(), Some(p.uri.clone())),
            None => (
                initial_metadata(location, &table.schema, &table.spec, timestamp_ms)
                    .map_err(|e| Error::iceberg(&meta_dir, e))?,
                None,
            ),
        };
        let parent = base.current_snapshot_id();
        let sequence_number = base.last_sequence_number() + 1;
        let snapshot_id = new_snapshot_id(&base);
        let commit_id = uuid::Uuid::new_v4();
        let properties = self.properties(input);
        let existing = existing_schema_id(&base, &table.schema);

        // Stage the schema, spec and properties once to learn the ids the builder assigns.
        let staged = configure(
            TableMetadataBuilder::new_from_metadata(base.clone(), None),
            existing,
            &table.schema,
            &table.spec,
            properties.clone(),
        )
        .and_then(TableMetadataBuilder::build)
        .map_err(err)?
        .metadata;
        let schema: SchemaRef = staged.current_schema().clone();
        check_field_ids(&table.schema, &schema).map_err(|m| Error::iceberg(&meta_dir, m))?;
        let spec: PartitionSpec = staged.default_partition_spec().as_ref().clone();

        let io = FileIO::new_with_memory();
        let mut manifests: Vec<ManifestFile> = Vec::new();
        let metadata_uri = |name: &str| format!("{location}/{METADATA_DIR}/{name}");
        let mut added_records = 0u64;
        let mut added_size = 0u64;
        if !files.is_empty() {
            let uri = metadata_uri(&format!("{commit_id}-m0.avro"));
            let output = io.new_output(&uri).map_err(err)?;
            let mut writer =
                ManifestWriterBuilder::new(output, Some(snapshot_id), schema.clone(), spec.clone())
                    .build_v2_data();
            for file in files {
                let data_file = self.data_file(input, file, &schema, &spec)?;
                added_records += file.rows;
                added_size += file.size;
                writer
                    .add_file(data_file, INHERIT_SEQUENCE_NUMBER)
                    .map_err(err)?;
            }
            manifests.push(self.block_on(writer.write_manifest_file()).map_err(err)?);
        }

        // The previous snapshot's files leave the table: DELETED entries, one manifest per spec.
        let previous_live = previous.map(|p| p.live.as_slice()).unwrap_or_default();
        let mut by_spec: BTreeMap<i32, Vec<&LiveFile>> = BTreeMap::new();
        for file in previous_live {
            by_spec.entry(file.spec_id).or_default().push(file);
        }
        let mut deleted_records = 0u64;
        let mut deleted_size = 0u64;
        for (index, (spec_id, old_files)) in by_spec.into_iter().enumerate() {
            let old_spec = staged
                .partition_spec_by_id(spec_id)
                .ok_or_else(|| {
                    Error::iceberg(&meta_dir, format!("no partition spec with id {spec_id}"))
                })?
                .as_ref()
                .clone();
            let uri = metadata_uri(&format!("{commit_id}-m{}.avro", index + 1));
            let output = io.new_output(&uri).map_err(err)?;
            let mut writer =
                ManifestWriterBuilder::new(output, Some(snapshot_id), schema.clone(), old_spec)
                    .build_v2_data();
            for old in old_files {
                deleted_records += old.data_file.record_count();
                deleted_size += old.data_file.file_size_in_bytes();
                writer
                    .add_delete_file(
                        old.data_file.clone(),
                        old.sequence_number,
                        old.file_sequence_number,
                    )
                    .map_err(err)?;
            }
            manifests.push(self.block_on(writer.write_manifest_file()).map_err(err)?);
        }

        let list_uri = metadata_uri(&format!("snap-{snapshot_id}-1-{commit_id}.avro"));
        self.block_on(async {
            let output = io.new_output(&list_uri)?;
            let mut list = ManifestListWriter::v2(
                output.writer().await?,
                snapshot_id,
                parent,
                sequence_number,
            );
            list.add_manifests(manifests.iter().cloned())?;
            list.close().await
        })
        .map_err(err)?;

        let operation = if previous_live.is_empty() {
            Operation::Append
        } else {
            Operation::Overwrite
        };
        let mut summary = HashMap::from([
            ("added-data-files".to_string(), files.len().to_string()),
            ("added-records".to_string(), added_records.to_string()),
            ("added-files-size".to_string(), added_size.to_string()),
            ("total-data-files".to_string(), files.len().to_string()),
            ("total-records".to_string(), added_records.to_string()),
            ("total-files-size".to_string(), added_size.to_string()),
            ("total-delete-files".to_string(), "0".to_string()),
            ("total-position-deletes".to_string(), "0".to_string()),
            ("total-equality-deletes".to_string(), "0".to_string()),
            ("engine-name".to_string(), "br-parquet".to_string()),
            (
                "engine-version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
            (
                "tidb.cluster-id".to_string(),
                self.backup.cluster_id.to_string(),
            ),
            (
                "tidb.backup.start-version".to_string(),
                self.backup.start_version.to_string(),
            ),
            (
                "tidb.backup.end-version".to_string(),
                self.backup.end_version.to_string(),
            ),
            // The snapshot point as UTC time, for the TiCDC hand-off (docs/live-lakehouse.md).
            (
                "tidb.backup.end-version-utc".to_string(),
                tso::utc_rfc3339(self.backup.end_version),
            ),
        ]);
        if !previous_live.is_empty() {
            summary.insert(
                "deleted-data-files".to_string(),
                previous_live.len().to_string(),
            );
            summary.insert("deleted-records".to_string(), deleted_records.to_string());
            summary.insert("removed-files-size".to_string(), deleted_size.to_string());
        }
        let snapshot = Snapshot::builder()
            .with_snapshot_id(snapshot_id)
            .with_parent_snapshot_id(parent)
            .with_sequence_number(sequence_number)
            .with_timestamp_ms(timestamp_ms)
            .with_manifest_list(list_uri.clone())
            .with_summary(Summary {
                operation: operation.clone(),
                additional_properties: summary,
            })
            .with_schema_id(schema.schema_id())
            .build();

        // A catalog table moves to the output of its newest export.
        let moved = base.location().trim_end_matches('/') != location;
        let metadata = configure(
            TableMetadataBuilder::new_from_metadata(base, base_uri),
            existing,
            &table.schema,
            &table.spec,
            properties,
        )
        .map(|b| {
            if moved {
                b.set_location(location.to_string())
            } else {
                b
            }
        })
        .and_then(|b| b.set_branch_snapshot(snapshot, MAIN_BRANCH))
        .and_then(TableMetadataBuilder::build)
        .map_err(err)?
        .metadata;
        if metadata.current_schema_id() != schema.schema_id()
            || metadata.default_partition_spec_id() != spec.spec_id()
            || metadata.current_snapshot_id() != Some(snapshot_id)
        {
            return Err(Error::iceberg(
                &meta_dir,
                "the metadata builder assigned other schema, spec or snapshot ids on commit",
            ));
        }
        check_field_ids(&table.schema, metadata.current_schema())
            .map_err(|m| Error::iceberg(&meta_dir, m))?;
        let mut uris: Vec<String> = manifests.iter().map(|m| m.manifest_path.clone()).collect();
        uris.push(list_uri);
        let mut objects = Vec::with_capacity(uris.len());
        for uri in uris {
            let bytes = self
                .block_on(async { io.new_input(&uri)?.read().await })
                .map_err(err)?;
            objects.push((uri, bytes));
        }

        let new_paths: HashMap<String, u64> = files
            .iter()
            .map(|f| (self.output.url_of(&f.path), f.size))
            .collect();
        let rewritten_files = previous_live
            .iter()
            .filter(|old| {
                new_paths
                    .get(old.data_file.file_path())
                    .is_some_and(|size| *size != old.data_file.file_size_in_bytes())
            })
            .map(|old| old.data_file.file_path().to_string())
            .collect();
        let report = IcebergTableReport {
            db: input.db.clone(),
            table: input.table.clone(),
            location: location.to_string(),
            metadata: String::new(),
            version: 0,
            snapshot_id,
            parent_snapshot_id: parent,
            sequence_number,
            timestamp_ms,
            operation: operation.as_str().to_string(),
            added_files: files.len() as u64,
            added_records,
            deleted_files: previous_live.len() as u64,
            rewritten_files,
            catalog: None,
        };
        Ok(NewVersion {
            metadata,
            objects,
            report,
        })
    }

    /// The manifest entry of one exported file.
    fn data_file(
        &self,
        input: &TableInput,
        file: &ExportedFile,
        schema: &Schema,
        spec: &PartitionSpec,
    ) -> Result<DataFile> {
        let mut column_sizes = HashMap::new();
        let mut value_counts = HashMap::new();
        let mut null_value_counts = HashMap::new();
        let mut nan_value_counts = HashMap::new();
        let mut lower_bounds = HashMap::new();
        let mut upper_bounds = HashMap::new();
        for column in &file.stats.columns {
            let Some(field) = schema.field_by_id(column.field_id) else {
                continue;
            };
            let Type::Primitive(primitive) = field.field_type.as_ref() else {
                continue;
            };
            let datum = |value: &super::value::Value| -> Result<Datum> {
                Datum::try_from_bytes(&value.to_bytes(), primitive.clone()).map_err(|e| {
                    Error::iceberg(
                        &file.path,
                        format!("bound {value:?} of column {:?}: {e}", field.name),
                    )
                })
            };
            value_counts.insert(column.field_id, column.value_count);
            null_value_counts.insert(column.field_id, column.null_count);
            if let Some(nans) = column.nan_count {
                nan_value_counts.insert(column.field_id, nans);
            }
            if let Some(size) = column.size {
                column_sizes.insert(column.field_id, size);
            }
            if let Some(lower) = &column.lower {
                lower_bounds.insert(column.field_id, datum(lower)?);
            }
            if let Some(upper) = &column.upper {
                upper_bounds.insert(column.field_id, datum(upper)?);
            }
        }
        let partition = if spec.is_unpartitioned() {
            Struct::empty()
        } else {
            let id = file.stats.single_long(TABLE_ID_FIELD_ID).ok_or_else(|| {
                Error::Unsupported(format!(
                    "{}: table {}: the file holds rows of more than one partition, but the \
                     Iceberg table is partitioned by {TABLE_ID_COLUMN}, one value per file",
                    file.path,
                    input.name()
                ))
            })?;
            Struct::from_iter([Some(Literal::long(id))])
        };
        DataFileBuilder::default()
            .content(DataContentType::Data)
            .file_path(self.output.url_of(&file.path))
            .file_format(DataFileFormat::Parquet)
            .partition(partition)
            .partition_spec_id(spec.spec_id())
            .record_count(file.rows)
            .file_size_in_bytes(file.size)
            .column_sizes(column_sizes)
            .value_counts(value_counts)
            .null_value_counts(null_value_counts)
            .nan_value_counts(nan_value_counts)
            .lower_bounds(lower_bounds)
            .upper_bounds(upper_bounds)
            .split_offsets(Some(file.stats.split_offsets.clone()))
            .sort_order_id(SortOrder::unsorted_order().order_id as i32)
            .build()
            .map_err(|e| Error::iceberg(&file.path, format!("Iceberg data file: {e}")))
    }

    /// Table properties, refreshed on every run.
    fn properties(&self, input: &TableInput) -> HashMap<String, String> {
        let (codec, level) = parquet_codec(&self.compression);
        let mut properties = HashMap::from([
            ("write.format.default".to_string(), "parquet".to_string()),
            ("write.parquet.compression-codec".to_string(), codec),
            (
                "write.metadata.metrics.default".to_string(),
                format!("truncate({})", super::value::BOUND_TRUNCATE_LENGTH),
            ),
            (
                "schema.name-mapping.default".to_string(),
                name_mapping(&input.schema).to_string(),
            ),
            ("tidb.db".to_string(), input.db.clone()),
            ("tidb.table".to_string(), input.table.clone()),
            ("tidb.table-id".to_string(), input.table_id.to_string()),
            (
                "tidb.cluster-id".to_string(),
                self.backup.cluster_id.to_string(),
            ),
            (
                "tidb.backup.start-version".to_string(),
                self.backup.start_version.to_string(),
            ),
            (
                "tidb.backup.end-version".to_string(),
                self.backup.end_version.to_string(),
            ),
            (
                "br-parquet.version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
        ]);
        if let Some(level) = level {
            properties.insert("write.parquet.compression-level".to_string(), level);
        }
        if !input.partition_ids.is_empty() {
            let ids: Vec<String> = input.partition_ids.iter().map(i64::to_string).collect();
            properties.insert("tidb.partition-ids".to_string(), ids.join(","));
        }
        properties
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// The version number of a metadata file: `v<N>.metadata.json` or `<N>-<uuid>.metadata.json`
/// by its name, else one more than the versions its metadata log lists.
fn metadata_version(location: &str, metadata: &TableMetadata) -> u32 {
    let name = location.rsplit('/').next().unwrap_or_default();
    let digits = name.strip_prefix('v').unwrap_or(name);
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end]
        .parse()
        .unwrap_or(metadata.metadata_log().len() as u32 + 1)
}

/// `v<N>.metadata.json`.
pub fn metadata_file_name(version: u32) -> String {
    format!("v{version}.metadata.json")
}

/// The metadata JSON, with its lists in id order (the crate writes them in hash-map order), so
/// that versions diff cleanly: snapshots by sequence number, schemas, specs and sort orders by id.
fn metadata_json(metadata: &TableMetadata) -> serde_json::Result<Vec<u8>> {
    let mut value = serde_json::to_value(metadata)?;
    for (list, key) in [
        ("snapshots", "sequence-number"),
        ("schemas", "schema-id"),
        ("partition-specs", "spec-id"),
        ("sort-orders", "order-id"),
    ] {
        if let Some(items) = value.get_mut(list).and_then(|v| v.as_array_mut()) {
            items.sort_by_key(|item| item.get(key).and_then(|k| k.as_i64()));
        }
    }
    serde_json::to_vec_pretty(&value)
}

/// Makes `schema` (added unless `existing` names an equal schema of the table), `spec` and
/// `properties` current in a builder; the builder reuses the id of an equal spec.
fn configure(
    builder: TableMetadataBuilder,
    existing: Option<i32>,
    schema: &Schema,
    spec: &UnboundPartitionSpec,
    properties: HashMap<String, String>,
) -> iceberg::Result<TableMetadataBuilder> {
    let builder = match existing {
        Some(id) => builder.set_current_schema(id)?,
        None => builder
            .add_schema(schema.clone())?
            .set_current_schema(TableMetadataBuilder::LAST_ADDED)?,
    };
    builder
        .add_partition_spec(spec.clone())?
        .set_default_partition_spec(TableMetadataBuilder::LAST_ADDED)?
        .set_properties(properties)
}

/// The id of a schema of `metadata` equal to `schema`: same fields and identifier fields. (The
/// crate's own check compares identifier ids in hash-set iteration order, which can miss an equal
/// schema and add a duplicate.)
fn existing_schema_id(metadata: &TableMetadata, schema: &Schema) -> Option<i32> {
    let identifiers = |s: &Schema| s.identifier_field_ids().collect::<BTreeSet<i32>>();
    metadata
        .schemas_iter()
        .filter(|s| s.as_struct() == schema.as_struct() && identifiers(s) == identifiers(schema))
        .map(|s| s.schema_id())
        .min()
}

/// The first metadata version of a table, before its first snapshot: deserialized from JSON
/// (validated by the crate) so the schema keeps our field ids.
fn initial_metadata(
    location: &str,
    schema: &Schema,
    spec: &UnboundPartitionSpec,
    timestamp_ms: i64,
) -> std::result::Result<TableMetadata, String> {
    let fields: Vec<serde_json::Value> = spec
        .fields()
        .iter()
        .zip(PARTITION_FIELD_ID..)
        .map(|(field, id)| {
            json!({"source-id": field.source_id, "field-id": id, "name": field.name,
                   "transform": field.transform.to_string()})
        })
        .collect();
    let last_partition_id = UNPARTITIONED_LAST_PARTITION_ID + fields.len() as i32;
    let value = json!({
        "format-version": 2,
        "table-uuid": uuid::Uuid::new_v4().to_string(),
        "location": location,
        "last-sequence-number": 0,
        "last-updated-ms": timestamp_ms,
        "last-column-id": schema.highest_field_id(),
        "schemas": [schema],
        "current-schema-id": schema.schema_id(),
        "partition-specs": [{"spec-id": 0, "fields": fields}],
        "default-spec-id": 0,
        "last-partition-id": last_partition_id,
        "properties": {},
        "sort-orders": [SortOrder::unsorted_order()],
        "default-sort-order-id": SortOrder::unsorted_order().order_id,
        "snapshot-log": [],
        "metadata-log": [],
    });
    serde_json::from_value(value).map_err(|e| format!("initial table metadata: {e}"))
}

/// Fails unless every field of `want` has the same id, name and type in `got`.
fn check_field_ids(want: &Schema, got: &Schema) -> std::result::Result<(), String> {
    for field in want.as_struct().fields() {
        match got.field_by_id(field.id) {
            Some(f) if f.name == field.name && f.field_type == field.field_type => {}
            other => {
                return Err(format!(
                    "field id {} ({:?}) became {:?} in the table metadata; the Parquet field ids \
                     and the Iceberg schema must agree",
                    field.id,
                    field.name,
                    other.map(|f| (&f.name, &f.field_type))
                ))
            }
        }
    }
    Ok(())
}

/// A random positive snapshot id not used by the table yet.
fn new_snapshot_id(metadata: &TableMetadata) -> i64 {
    loop {
        let (high, low) = uuid::Uuid::new_v4().as_u64_pair();
        let id = ((high ^ low) & (i64::MAX as u64)) as i64;
        if id != 0 && metadata.snapshot_by_id(id).is_none() {
            return id;
        }
    }
}

/// The object name of a URI under the table location.
fn object_of(uri: &str, location: &str, dir: &str) -> Result<String> {
    uri.strip_prefix(location)
        .and_then(|rest| rest.strip_prefix('/'))
        .map(|rest| format!("{dir}/{rest}"))
        .ok_or_else(|| {
            Error::Unsupported(format!(
                "{uri} is outside the table location {location}; br-parquet only reads metadata \
                 it can reach under the table directory"
            ))
        })
}

/// `write.parquet.compression-codec` (and level) for a codec name as the report spells it.
fn parquet_codec(name: &str) -> (String, Option<String>) {
    let (codec, level) = match name.split_once('(') {
        Some((codec, rest)) => (codec, rest.strip_suffix(')').map(str::to_string)),
        None => (name, None),
    };
    let codec = match codec {
        "none" => "uncompressed",
        "lz4raw" => "lz4",
        other => other,
    };
    (codec.to_string(), level)
}

fn iceberg_error(object: &str, error: iceberg::Error) -> Error {
    Error::iceberg(object, format!("iceberg: {error}"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap as Map;
    use std::sync::Arc;

    use arrow_schema::{DataType, Field};

    use super::*;
    use crate::batch::PARQUET_FIELD_ID_KEY;

    /// The value of a `long` bound as the iceberg crate decodes it.
    fn long_bound(bytes: &[u8]) -> Option<i64> {
        let datum = Datum::try_from_bytes(bytes, iceberg::spec::PrimitiveType::Long).ok()?;
        match datum.literal() {
            iceberg::spec::PrimitiveLiteral::Long(v) => Some(*v),
            _ => None,
        }
    }

    fn arrow_schema() -> arrow_schema::SchemaRef {
        let field = |name: &str, data_type, nullable, id: i32| {
            Field::new(name, data_type, nullable).with_metadata(Map::from([(
                PARQUET_FIELD_ID_KEY.to_string(),
                id.to_string(),
            )]))
        };
        Arc::new(arrow_schema::Schema::new(vec![
            field("_tidb_table_id", DataType::Int64, false, 1),
            field("_tidb_handle", DataType::Int64, false, 2),
            field("name", DataType::Utf8, true, 102),
            field("qty", DataType::Int32, false, 105),
        ]))
    }

    #[test]
    fn initial_metadata_keeps_our_field_ids() {
        let schema = iceberg_schema(&arrow_schema(), 0, &[1, 2]).unwrap();
        let spec = UnboundPartitionSpec::builder()
            .with_spec_id(0)
            .add_partition_field(1, TABLE_ID_COLUMN, Transform::Identity)
            .unwrap()
            .build();
        let metadata = initial_metadata(
            "file:///out/parquet/db/t",
            &schema,
            &spec,
            1_700_000_000_000,
        )
        .unwrap();
        let json = serde_json::to_value(&metadata).unwrap();
        assert_eq!(json["format-version"], 2);
        assert_eq!(json["location"], "file:///out/parquet/db/t");
        assert_eq!(json["last-sequence-number"], 0);
        assert_eq!(json["last-column-id"], 105);
        assert_eq!(json["current-schema-id"], 0);
        assert_eq!(json["last-partition-id"], 1000);
        assert_eq!(json["default-spec-id"], 0);
        let ids: Vec<i64> = json["schemas"][0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, vec![1, 2, 102, 105]);
        assert_eq!(
            json["partition-specs"][0]["fields"],
            json!([{"source-id": 1, "field-id": 1000, "name": "_tidb_table_id",
                    "transform": "identity"}])
        );
        assert!(json
            .get("current-snapshot-id")
            .is_none_or(|v| v.is_null() || v == -1));
        check_field_ids(&schema, metadata.current_schema()).unwrap();

        // Adding the same schema and spec again reuses ids 0 and 0 and keeps the field ids.
        let existing = existing_schema_id(&metadata, &schema);
        assert_eq!(existing, Some(0));
        let staged = configure(
            TableMetadataBuilder::new_from_metadata(metadata, None),
            existing,
            &schema,
            &spec,
            HashMap::from([("k".to_string(), "v".to_string())]),
        )
        .unwrap()
        .build()
        .unwrap()
        .metadata;
        assert_eq!(staged.current_schema_id(), 0);
        assert_eq!(staged.default_partition_spec_id(), 0);
        assert_eq!(staged.properties().get("k").map(String::as_str), Some("v"));
        check_field_ids(&schema, staged.current_schema()).unwrap();
    }

    #[test]
    fn field_id_mismatch_is_loud() {
        let ours = iceberg_schema(&arrow_schema(), 0, &[]).unwrap();
        // What `TableMetadataBuilder::new` would make of it: ids renumbered from 1.
        let renumbered = Schema::builder()
            .with_fields(ours.as_struct().fields().iter().zip(1..).map(|(f, id)| {
                Arc::new(iceberg::spec::NestedField::new(
                    id,
                    &f.name,
                    f.field_type.as_ref().clone(),
                    f.required,
                ))
            }))
            .build()
            .unwrap();
        let err = check_field_ids(&ours, &renumbered).unwrap_err();
        assert!(err.contains("field id 102"), "{err}");
        check_field_ids(&ours, &ours).unwrap();
    }

    #[test]
    fn codec_properties_and_paths() {
        assert_eq!(parquet_codec("zstd(1)"), ("zstd".into(), Some("1".into())));
        assert_eq!(parquet_codec("none"), ("uncompressed".into(), None));
        assert_eq!(parquet_codec("lz4raw"), ("lz4".into(), None));
        assert_eq!(
            object_of(
                "file:///o/p/db/t/metadata/x.avro",
                "file:///o/p/db/t",
                "p/db/t"
            )
            .unwrap(),
            "p/db/t/metadata/x.avro"
        );
        assert!(object_of("s3://elsewhere/x.avro", "file:///o/p/db/t", "p/db/t").is_err());
        assert_eq!(metadata_file_name(3), "v3.metadata.json");
        assert_eq!(long_bound(&7i64.to_le_bytes()), Some(7));
    }
}
