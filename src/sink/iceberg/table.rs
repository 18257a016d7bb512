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
//! metadata-log entry for the previous version. For a full backup the snapshot holds exactly the
//! files of this run (operation `append` for the first, `overwrite` afterwards, the previous files
//! marked DELETED); an incremental backup is applied instead ([`super::apply`]): the previous
//! files stay (EXISTING), its rows are added and the rows it replaced or deleted are removed by
//! position deletes. So the current snapshot is the latest backup and older snapshots stay
//! readable by id. Field ids are the Parquet field ids the export already wrote; the crate's
//! `TableMetadataBuilder::new` would renumber them, so the first version is deserialized from
//! JSON with our ids instead and later versions only go through `new_from_metadata`, which keeps
//! them; both paths are checked.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use iceberg::io::FileIO;
use iceberg::spec::{
    DataContentType, DataFile, DataFileBuilder, DataFileFormat, Datum, FormatVersion, Literal,
    ManifestFile, ManifestList, ManifestListWriter, ManifestWriterBuilder, Operation,
    PartitionSpec, PrimitiveLiteral, Schema, SchemaRef, Snapshot, SortOrder, Struct, Summary,
    TableMetadata, TableMetadataBuilder, Transform, Type, UnboundPartitionSpec, MAIN_BRANCH,
};
use iceberg::TableIdent;
use serde::Serialize;
use serde_json::json;

use super::apply::{self, ApplyReport, Changes, Handle};
use super::catalog::{Catalog, CatalogOptions, CatalogTable, Swap};
use super::schema::{iceberg_schema, name_mapping};
use super::{BackupIdentity, PackedStats};
use crate::batch::{HANDLE_FIELD_ID, OP_COLUMN, TABLE_ID_COLUMN, TABLE_ID_FIELD_ID};
use crate::meta::tso;
use crate::sink::parquet::{ParquetFileWriter, ParquetOptions};
use crate::sink::ExportedFile;
use crate::storage::{ExternalStorage, LocalObject};
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
    /// Set for an incremental backup applied to the Iceberg table of the backup it follows:
    /// the change files are then turned into rows and position deletes ([`super::apply`]).
    pub apply: Option<ApplyInput>,
}

/// How an incremental backup's changes of one table are applied.
#[derive(Debug, Clone)]
pub struct ApplyInput {
    /// The table as a full export of this backup would write it (no `_tidb_op`), every field
    /// carrying its `PARQUET:field_id`: the Iceberg table's schema from now on. `None` when a
    /// `DROP TABLE` job of this backup removed the table: it keeps its last schema and loses
    /// its rows.
    pub schema: Option<arrow_schema::SchemaRef>,
    /// A DDL job of this backup created the table (`CREATE TABLE`, `CREATE TABLES`,
    /// `RECOVER TABLE`), so it may have no Iceberg table yet.
    pub created: bool,
    /// A DDL job of this backup renamed the table: its Iceberg table may be under its old name
    /// (found by its `tidb.table-id`).
    pub renamed: bool,
    /// A DDL job of this backup ran `MODIFY COLUMN` on the table.
    pub modified_column: bool,
}

impl TableInput {
    fn name(&self) -> String {
        format!("{}.{}", self.db, self.table)
    }

    /// A `DROP TABLE` job of the incremental backup being applied removed the table.
    fn is_dropped(&self) -> bool {
        self.apply.as_ref().is_some_and(|a| a.schema.is_none())
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
    /// What applying an incremental backup did (`None` for a full backup). Boxed, as the
    /// catalog's part: a run reports 100 k tables, most without either.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply: Option<Box<ApplyReport>>,
    /// What the catalog was told (`--iceberg-catalog`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog: Option<Box<CatalogCommit>>,
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

/// A live data or position delete file of the previous snapshot.
#[derive(Debug, Clone)]
struct LiveFile {
    data_file: DataFile,
    spec_id: i32,
    /// The snapshot that added it.
    snapshot_id: i64,
    sequence_number: i64,
    file_sequence_number: Option<i64>,
}

impl LiveFile {
    fn is_data(&self) -> bool {
        self.data_file.content_type() == DataContentType::Data
    }
}

/// Settings of the data files the Iceberg writer itself writes (an applied incremental's rows
/// and position deletes).
#[derive(Debug, Clone)]
pub struct DataFileOptions {
    /// The Parquet codec name (`zstd(1)`, `snappy`, …), for the table properties.
    pub compression_name: String,
    /// The writer settings of the export.
    pub parquet: ParquetOptions,
    /// Footer metadata: the backup's identity.
    pub footer: Vec<(String, String)>,
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
///
/// An export may prepare 100 k tables before it commits any: a prepared table holds what its
/// Iceberg schema is built from rather than the schema (about 2 KiB with its indexes), which
/// [`PreparedTable::schema`] builds again when the table is committed.
#[derive(Debug)]
struct PreparedTable {
    input: TableInput,
    location: String,
    /// The Arrow schema the Iceberg schema is made from: the exported files' or, when applying
    /// an incremental backup, the table's as evolved ([`evolve_schema`]).
    arrow: arrow_schema::SchemaRef,
    /// The Iceberg schema's identifier fields.
    identifier: &'static [i32],
    /// Column changes found while evolving the schema (applying an incremental backup).
    schema_changes: Vec<String>,
    spec: UnboundPartitionSpec,
    previous: Option<Box<Previous>>,
    /// The table's name in the catalog, when there is one.
    ident: Option<TableIdent>,
    /// The name the catalog has the table under before a `RENAME TABLE` this backup applies.
    renamed_from: Option<TableIdent>,
}

impl PreparedTable {
    /// The table's Iceberg schema (ids assigned in field order).
    fn schema(&self) -> Result<Schema> {
        table_schema(&self.arrow, self.identifier, &self.input)
    }
}

/// `arrow` as an Iceberg schema, or the error that Iceberg metadata cannot describe the table.
fn table_schema(
    arrow: &arrow_schema::Schema,
    identifier: &[i32],
    input: &TableInput,
) -> Result<Schema> {
    iceberg_schema(arrow, 0, identifier).map_err(|reason| {
        Error::Unsupported(format!(
            "table {}: {reason}; Iceberg metadata cannot describe this table (export it without \
             Iceberg metadata)",
            input.name()
        ))
    })
}

/// A new metadata version, built but not written.
struct NewVersion {
    metadata: TableMetadata,
    /// Manifests and the manifest list, by URI.
    objects: Vec<(String, Bytes)>,
    /// The report, less the metadata file's name.
    report: IcebergTableReport,
}

/// What a new version does with the table's rows.
#[derive(Clone, Copy)]
enum Change<'f> {
    /// A full backup: these files are the table.
    Replace(&'f [&'f ExportedFile]),
    /// An incremental backup applied to the previous version.
    Apply(&'f Applied),
}

/// An incremental backup's changes of one table, written and ready to commit.
#[derive(Debug, Default)]
struct Applied {
    /// Data files of the rows put.
    added: Vec<ExportedFile>,
    /// Position delete files of the rows replaced or deleted, with their partition spec ids.
    delete_files: Vec<(i32, DataFile)>,
    /// Paths of live data files removed whole (their physical table id is gone).
    removed: HashSet<String>,
    /// Every live data file is removed, so the live delete files go too.
    removes_everything: bool,
    report: ApplyReport,
}

impl Applied {
    /// Whether the new version drops this live file.
    fn removes(&self, file: &LiveFile) -> bool {
        if file.is_data() {
            self.removed.contains(file.data_file.file_path())
        } else {
            self.removes_everything
        }
    }
}

/// Position deletes `(data file URI, position)` by partition (spec id, physical table id), with
/// the partition's value.
type DeletesByPartition = BTreeMap<(i32, Option<i64>), (Struct, Vec<(String, i64)>)>;

/// What becomes of a file in the new snapshot (its manifest entry status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum EntryKind {
    Added,
    Existing,
    Deleted,
}

/// One manifest entry of the new snapshot.
enum Entry<'a> {
    Added(Box<DataFile>),
    Existing(&'a LiveFile),
    Deleted(&'a LiveFile),
}

/// Which manifest an entry goes to: added files first, data before deletes, by spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct ManifestKey {
    kind: EntryKind,
    /// `false` sorts first: data manifests before delete manifests.
    deletes: bool,
    spec_id: i32,
}

impl ManifestKey {
    fn new(kind: EntryKind, data: bool, spec_id: i32) -> Self {
        ManifestKey {
            kind,
            deletes: !data,
            spec_id,
        }
    }
}

/// Files, records (rows, or positions of a delete file) and bytes of one kind of entry.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    files: u64,
    records: u64,
    bytes: u64,
}

/// File and row counts of a new snapshot, for its summary (spec: "Snapshot Summary"), by entry
/// kind and content (data files, then position delete files).
#[derive(Debug, Default)]
struct Totals {
    by_kind: [[Counts; 2]; 3],
}

impl Totals {
    fn add(&mut self, file: &DataFile, kind: EntryKind) {
        let content = usize::from(file.content_type() != DataContentType::Data);
        let counts = &mut self.by_kind[kind as usize][content];
        counts.files += 1;
        counts.records += file.record_count();
        counts.bytes += file.file_size_in_bytes();
    }

    /// The counts of data files (`data`) or delete files of `kind`.
    fn get(&self, kind: EntryKind, data: bool) -> Counts {
        self.by_kind[kind as usize][usize::from(!data)]
    }

    fn summary(&self) -> HashMap<String, String> {
        use EntryKind::{Added, Deleted, Existing};
        let live = |data: bool| {
            let (added, kept) = (self.get(Added, data), self.get(Existing, data));
            Counts {
                files: added.files + kept.files,
                records: added.records + kept.records,
                bytes: added.bytes + kept.bytes,
            }
        };
        let (data, deletes) = (live(true), live(false));
        let added = self.get(Added, true);
        let mut summary: HashMap<String, String> = [
            ("added-data-files", added.files),
            ("added-records", added.records),
            (
                "added-files-size",
                added.bytes + self.get(Added, false).bytes,
            ),
            ("total-data-files", data.files),
            ("total-records", data.records),
            ("total-files-size", data.bytes + deletes.bytes),
            ("total-delete-files", deletes.files),
            ("total-position-deletes", deletes.records),
            ("total-equality-deletes", 0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut put = |key: &str, value: u64| summary.insert(key.to_string(), value.to_string());
        let (removed_data, removed_deletes) = (self.get(Deleted, true), self.get(Deleted, false));
        if removed_data.files > 0 || removed_deletes.files > 0 {
            put("deleted-data-files", removed_data.files);
            put("deleted-records", removed_data.records);
            put(
                "removed-files-size",
                removed_data.bytes + removed_deletes.bytes,
            );
        }
        let added_deletes = self.get(Added, false);
        if added_deletes.files > 0 {
            put("added-delete-files", added_deletes.files);
            put("added-position-delete-files", added_deletes.files);
            put("added-position-deletes", added_deletes.records);
        }
        if removed_deletes.files > 0 {
            put("removed-delete-files", removed_deletes.files);
            put("removed-position-delete-files", removed_deletes.files);
            put("removed-position-deletes", removed_deletes.records);
        }
        summary
    }
}

/// What [`IcebergWriter::commit`] does with a file's column statistics once its table is
/// committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsAfterCommit {
    /// Keep them (the JSON manifest, written next, lists them).
    Keep,
    /// Drop them: nothing reads them after the commit.
    Release,
}

/// Writes one Iceberg table per exported table, after the export.
pub struct IcebergWriter<'a> {
    output: &'a ExternalStorage,
    backup: BackupIdentity,
    files: DataFileOptions,
    tables: Vec<PreparedTable>,
    catalog: Option<Catalog>,
    /// The storage the catalog reads through (the output's bucket root): files of a catalog
    /// table another export wrote under another prefix are read through it.
    catalog_storage: Option<Arc<ExternalStorage>>,
    runtime: tokio::runtime::Runtime,
}

impl<'a> IcebergWriter<'a> {
    /// Checks every table before the export writes anything: its schema must be expressible in
    /// Iceberg, and a table a previous run wrote must be readable, at the same location and not
    /// newer than this backup; an incremental backup applied to a table must follow the backup
    /// the table holds. `files` are the settings of files this writer writes itself.
    /// With a `catalog` (and the output storage again, shared with the catalog's file IO), the
    /// catalog is connected here and says which tables exist.
    pub fn prepare(
        output: &'a ExternalStorage,
        backup: BackupIdentity,
        files: DataFileOptions,
        inputs: Vec<TableInput>,
        catalog: Option<(&CatalogOptions, Arc<ExternalStorage>)>,
    ) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("tokio runtime", e))?;
        let (catalog, catalog_storage) = match catalog {
            Some((options, storage)) => {
                options.validate()?;
                let factory = Catalog::storage_factory(storage.clone());
                (
                    Some(runtime.block_on(Catalog::connect(options, factory))?),
                    Some(storage),
                )
            }
            None => (None, None),
        };
        let mut writer = IcebergWriter {
            output,
            backup,
            files,
            tables: Vec::with_capacity(inputs.len()),
            catalog,
            catalog_storage,
            runtime,
        };
        let applies = inputs.iter().any(|input| input.apply.is_some());
        for input in inputs {
            if let Some(table) = writer.prepare_table(input)? {
                writer.tables.push(table);
            }
        }
        if applies
            && !writer.tables.is_empty()
            && writer.tables.iter().all(|t| {
                t.previous
                    .as_ref()
                    .is_some_and(|p| writer.holds_this_backup(&p.metadata))
            })
        {
            return Err(Error::Usage(format!(
                "every table already holds this incremental backup (start version {}, end \
                 version {}): it was applied before, and applying it again would be refused \
                 table by table; the next incremental to apply starts at version {}",
                writer.backup.start_version, writer.backup.end_version, writer.backup.end_version
            )));
        }
        Ok(writer)
    }

    /// `None` for a dropped table that has no Iceberg table: nothing to do.
    fn prepare_table(&self, input: TableInput) -> Result<Option<PreparedTable>> {
        let location = self.output.url_of(&input.dir);
        let mut ident = None;
        let mut previous = None;
        if let Some(catalog) = &self.catalog {
            let name = TableIdent::new(
                catalog.options().namespace_of(&input.db)?,
                input.table.clone(),
            );
            if let Some(current) = self.block_on(catalog.load(&name))? {
                previous = Some(self.previous_in_catalog(&input, current)?);
            }
            ident = Some(name);
        }
        if previous.is_none() {
            previous = self.load_previous(&input, &location)?;
        }
        let mut schema_changes = Vec::new();
        let mut renamed_from = None;
        if previous.is_none() && input.apply.as_ref().is_some_and(|a| a.renamed) {
            match (&self.catalog, &ident) {
                (Some(catalog), Some(name)) => {
                    if let Some((old, renamed)) =
                        self.find_renamed_in_catalog(catalog, name, &input)?
                    {
                        schema_changes.push(format!("renamed table: the table was {old}"));
                        previous = Some(renamed);
                        renamed_from = Some(old);
                    }
                }
                _ => {
                    if let Some((dir, renamed)) = self.find_renamed(&input)? {
                        schema_changes.push(format!("renamed table: the table was at {dir}"));
                        previous = Some(renamed);
                    }
                }
            }
        }
        let dropped = input.is_dropped();
        if dropped && previous.is_none() {
            return Ok(None);
        }
        let (arrow, identifier, schema_changes): (_, &'static [i32], _) = match &input.apply {
            Some(ApplyInput { schema: None, .. }) => {
                let previous = previous.as_ref().map(|p| &p.metadata);
                let schema = previous.map(|m| m.current_schema()).ok_or_else(|| {
                    Error::iceberg(&input.dir, "a dropped table without metadata")
                })?;
                let arrow = iceberg::arrow::schema_to_arrow_schema(schema)
                    .map_err(|e| iceberg_error(&input.dir, e))?;
                (
                    Arc::new(arrow),
                    &[TABLE_ID_FIELD_ID, HANDLE_FIELD_ID],
                    vec![format!(
                        "table dropped (DROP TABLE of table id {})",
                        input.table_id
                    )],
                )
            }
            Some(
                apply @ ApplyInput {
                    schema: Some(schema),
                    ..
                },
            ) => {
                if previous.is_none() && !apply.created {
                    return Err(Error::Usage(format!(
                        "table {}: this incremental backup (start version {}) is applied to the \
                         Iceberg tables of the backup it follows, but {location} holds no table \
                         and no DDL job of this backup created it; export the backup with end \
                         version {} into this output first, or export the change rows without \
                         --write-iceberg-table",
                        input.name(),
                        self.backup.start_version,
                        self.backup.start_version
                    )));
                }
                let (arrow, changes) = evolve_schema(&input, apply, schema, previous.as_ref())?;
                schema_changes.extend(changes);
                (
                    arrow,
                    &[TABLE_ID_FIELD_ID, HANDLE_FIELD_ID],
                    std::mem::take(&mut schema_changes),
                )
            }
            None if input.incremental => (input.schema.clone(), &[], Vec::new()),
            None => (
                input.schema.clone(),
                &[TABLE_ID_FIELD_ID, HANDLE_FIELD_ID],
                Vec::new(),
            ),
        };
        // Built here to refuse a table Iceberg cannot describe before any data is read.
        table_schema(&arrow, identifier, &input)?;
        let spec = match previous.as_ref().filter(|_| dropped) {
            // A dropped table keeps its partitioning: no rows say otherwise.
            Some(p) => p
                .metadata
                .default_partition_spec()
                .as_ref()
                .clone()
                .into_unbound(),
            None => {
                let mut spec = UnboundPartitionSpec::builder().with_spec_id(0);
                if !input.partition_ids.is_empty() {
                    spec = spec
                        .add_partition_field(
                            TABLE_ID_FIELD_ID,
                            TABLE_ID_COLUMN,
                            Transform::Identity,
                        )
                        .map_err(|e| iceberg_error(&input.dir, e))?;
                }
                spec.build()
            }
        };
        Ok(Some(PreparedTable {
            input,
            location,
            arrow,
            identifier,
            schema_changes,
            spec,
            previous: previous.map(Box::new),
            ident,
            renamed_from,
        }))
    }

    /// The Iceberg table of `input` under the name it had before a `RENAME TABLE`: the table in
    /// this output whose `tidb.table-id` is the table's id (one listing of the output prefix).
    fn find_renamed(&self, input: &TableInput) -> Result<Option<(String, Previous)>> {
        // The output prefix (`<prefix>/<db>/<table>`), or without one the database directory.
        let mut parents = input.dir.rsplitn(3, '/').skip(1);
        let db_dir = parents.next().unwrap_or_default();
        let prefix = parents.next().unwrap_or(db_dir);
        let hint_suffix = format!("/{METADATA_DIR}/{VERSION_HINT}");
        let mut found = None;
        for name in self.output.list(prefix)? {
            let Some(dir) = name.strip_suffix(&hint_suffix) else {
                continue;
            };
            if dir == input.dir {
                continue;
            }
            // Only the table's current metadata file is read to learn its id; the table itself
            // (and its chain) is checked once found.
            let hint = self.output.read(&name)?;
            let version = String::from_utf8_lossy(&hint).trim().to_string();
            let metadata_name = format!("{dir}/{METADATA_DIR}/v{version}.metadata.json");
            let metadata: serde_json::Value = match self.output.read(&metadata_name) {
                Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e),
            };
            if metadata["properties"]["tidb.table-id"] != input.table_id.to_string().as_str() {
                continue;
            }
            let old = TableInput {
                dir: dir.to_string(),
                ..input.clone()
            };
            let Some(previous) = self.load_previous(&old, &self.output.url_of(dir))? else {
                continue;
            };
            if found.is_some() {
                return Err(Error::Usage(format!(
                    "table {}: renamed, and more than one Iceberg table in this output holds \
                     table id {}; remove the stale one",
                    input.name(),
                    input.table_id
                )));
            }
            found = Some((dir.to_string(), previous));
        }
        Ok(found)
    }

    /// The catalog table of `input` under the name it had before a `RENAME TABLE`: the table
    /// of `name`'s namespace whose `tidb.table-id` is the table's id.
    fn find_renamed_in_catalog(
        &self,
        catalog: &Catalog,
        name: &TableIdent,
        input: &TableInput,
    ) -> Result<Option<(TableIdent, Previous)>> {
        let id = input.table_id.to_string();
        for candidate in self.block_on(catalog.list_tables(name.namespace()))? {
            if candidate == *name {
                continue;
            }
            let Some(table) = self.block_on(catalog.load(&candidate))? else {
                continue;
            };
            if table.metadata.properties().get("tidb.table-id") == Some(&id) {
                return Ok(Some((candidate, self.previous_in_catalog(input, table)?)));
            }
        }
        Ok(None)
    }

    /// The table the catalog points at. Its location may be another export's output (each export
    /// of a newer backup may go to a new prefix): files are read by URI through the catalog.
    fn previous_in_catalog(&self, input: &TableInput, current: CatalogTable) -> Result<Previous> {
        let CatalogTable {
            metadata_location,
            metadata,
            file_io,
        } = current;
        self.check_previous(input, &metadata, &metadata_location)?;
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

    /// A previous version must be a v2 table no newer than this backup, and one an incremental
    /// backup is applied to must hold the backup it follows.
    fn check_previous(
        &self,
        input: &TableInput,
        metadata: &TableMetadata,
        name: &str,
    ) -> Result<()> {
        if input.apply.is_some() {
            self.check_chain(input, metadata, name)?;
        }
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
        self.check_previous(input, &metadata, &name)?;
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

    /// The data and delete files alive in the current snapshot of `metadata`, with their
    /// sequence numbers;
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
            let name = manifest.manifest_path.as_str();
            let bytes = read(name)?;
            let loaded = self.block_on(async {
                io.new_output(&manifest.manifest_path)?.write(bytes).await?;
                manifest.load_manifest(&io).await
            });
            let loaded = loaded.map_err(|e| iceberg_error(name, e))?;
            for entry in loaded.entries().iter().filter(|e| e.is_alive()) {
                if entry.content_type() == DataContentType::EqualityDeletes {
                    return Err(Error::Unsupported(format!(
                        "{name}: the table has equality delete files ({}), which br-parquet \
                         does not write and cannot carry over; compact the table (for example \
                         Spark's rewrite_data_files) and run again",
                        entry.file_path()
                    )));
                }
                let sequence_number = entry.sequence_number().ok_or_else(|| {
                    Error::iceberg(
                        name,
                        format!("entry {} has no sequence number", entry.file_path()),
                    )
                })?;
                live.push(LiveFile {
                    data_file: entry.data_file().clone(),
                    spec_id: manifest.partition_spec_id,
                    snapshot_id: entry.snapshot_id().unwrap_or(manifest.added_snapshot_id),
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

    /// Writes the new metadata version of every table, once all Parquet files are uploaded;
    /// `committed` is called after each table (a test hook). Each prepared table is dropped once
    /// committed, and with [`StatsAfterCommit::Release`] its files' column statistics too: an
    /// export of 100 k tables would otherwise hold them all until the last commit.
    pub fn commit(
        mut self,
        files: &mut [ExportedFile],
        stats: StatsAfterCommit,
        mut committed: impl FnMut(),
    ) -> Result<Vec<IcebergTableReport>> {
        // Indices of `files` by table, each table's in path order.
        let mut order: Vec<usize> = (0..files.len()).collect();
        order.sort_by(|&a, &b| {
            (files[a].table_id, &files[a].path).cmp(&(files[b].table_id, &files[b].path))
        });
        let tables = std::mem::take(&mut self.tables);
        let mut reports = Vec::with_capacity(tables.len());
        for table in tables {
            let id = table.input.table_id;
            let start = order.partition_point(|&i| files[i].table_id < id);
            let end = start + order[start..].partition_point(|&i| files[i].table_id == id);
            let of_table = &order[start..end];
            let table_files: Vec<&ExportedFile> = of_table.iter().map(|&i| &files[i]).collect();
            let report = match (&self.catalog, &table.ident) {
                (Some(catalog), Some(ident)) => {
                    self.commit_to_catalog(catalog, ident, &table, &table_files)?
                }
                _ => self.commit_to_output(&table, &table_files)?,
            };
            reports.push(report);
            if stats == StatsAfterCommit::Release {
                for &i in of_table {
                    files[i].stats = PackedStats::default();
                }
            }
            committed();
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
        let version = table.previous.as_deref().map_or(1, |p| p.version + 1);
        let metadata_name = format!("{meta_dir}/{}", metadata_file_name(version));
        let new = if table.input.apply.is_some() {
            if let Some(p) =
                (table.previous.as_deref()).filter(|p| self.holds_this_backup(&p.metadata))
            {
                // A killed run of this export applied it already.
                return Ok(self.current_report(table, p));
            }
            let applied = self.apply_changes(table, table.previous.as_deref(), files)?;
            self.build_version(table, table.previous.as_deref(), Change::Apply(&applied))?
        } else {
            self.build_version(table, table.previous.as_deref(), Change::Replace(files))?
        };
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
        if let Some(old) = &table.renamed_from {
            // The catalog's rename keeps the table's metadata and history; the commit follows
            // under the new name (a run killed in between finds it there).
            self.block_on(catalog.rename(old, ident))?;
        }
        let meta_dir = format!("{}/{METADATA_DIR}", table.input.dir);
        let mut reloaded: Option<Previous> = None;
        for attempt in 1..=CATALOG_COMMIT_ATTEMPTS {
            let previous = reloaded.as_ref().or(table.previous.as_deref());
            let commit = |outcome: &str, report: IcebergTableReport, location: String| {
                let previous_metadata_location = previous
                    .filter(|p| p.in_catalog && p.uri != location)
                    .map(|p| p.uri.clone());
                IcebergTableReport {
                    catalog: Some(Box::new(CatalogCommit {
                        catalog: catalog.options().uri.redacted(),
                        catalog_name: catalog.options().name.clone(),
                        namespace: ident.namespace().join("."),
                        table: ident.name().to_string(),
                        outcome: outcome.to_string(),
                        metadata_location: location,
                        previous_metadata_location,
                        attempts: attempt,
                    })),
                    ..report
                }
            };
            if let Some(p) = previous.filter(|p| self.holds_this_backup(&p.metadata)) {
                // A re-run: the rows are there. A version an earlier export without the catalog
                // wrote is registered as it is.
                if !p.in_catalog
                    && self.block_on(catalog.register(ident, &p.uri))? == Swap::Conflict
                {
                    reloaded = Some(self.reload(catalog, ident, &table.input)?);
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
            let new = match &table.input.apply {
                Some(_) => {
                    let applied = self.apply_changes(table, previous, files)?;
                    self.build_version(table, previous, Change::Apply(&applied))?
                }
                None => self.build_version(table, previous, Change::Replace(files))?,
            };
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
            reloaded = Some(self.reload(catalog, ident, &table.input)?);
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
    fn reload(
        &self,
        catalog: &Catalog,
        ident: &TableIdent,
        input: &TableInput,
    ) -> Result<Previous> {
        let current = self
            .block_on(catalog.load(ident))?
            .ok_or_else(|| Error::Catalog {
                catalog: catalog.options().uri.redacted(),
                message: format!(
                "table {ident} changed while this export committed it and is gone now; run the \
                 export again"
            ),
            })?;
        self.previous_in_catalog(input, current)
    }

    /// Whether the current snapshot of `metadata` holds this export's backup.
    fn holds_this_backup(&self, metadata: &TableMetadata) -> bool {
        let Ok(Some(summary)) = backup_summary(metadata) else {
            return false;
        };
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
            apply: None,
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

    /// The next version of `table` over `previous`: a snapshot holding exactly `files` (the
    /// previous snapshot's files marked deleted) for a full backup, or the previous files with
    /// an incremental backup applied.
    fn build_version(
        &self,
        table: &PreparedTable,
        previous: Option<&Previous>,
        change: Change<'_>,
    ) -> Result<NewVersion> {
        let input = &table.input;
        let location = table.location.as_str();
        let meta_dir = format!("{}/{METADATA_DIR}", input.dir);
        let err = |e: iceberg::Error| iceberg_error(&meta_dir, e);
        let timestamp_ms = self.backup.timestamp_ms();
        let table_schema = table.schema()?;
        let (base, base_uri) = match previous {
            Some(p) => (p.metadata.clone(), Some(p.uri.clone())),
            None => (
                initial_metadata(location, &table_schema, &table.spec, timestamp_ms)
                    .map_err(|e| Error::iceberg(&meta_dir, e))?,
                None,
            ),
        };
        let parent = base.current_snapshot_id();
        let sequence_number = base.last_sequence_number() + 1;
        let snapshot_id = new_snapshot_id(&base);
        let commit_id = uuid::Uuid::new_v4();
        let properties = self.properties(input, &table.arrow);
        let existing = existing_schema_id(&base, &table_schema);

        // Stage the schema, spec and properties once to learn the ids the builder assigns.
        let staged = configure(
            TableMetadataBuilder::new_from_metadata(base.clone(), None),
            existing,
            &table_schema,
            &table.spec,
            properties.clone(),
        )
        .and_then(TableMetadataBuilder::build)
        .map_err(err)?
        .metadata;
        let schema: SchemaRef = staged.current_schema().clone();
        check_field_ids(&table_schema, &schema).map_err(|m| Error::iceberg(&meta_dir, m))?;
        let spec: PartitionSpec = staged.default_partition_spec().as_ref().clone();

        // Every entry of the new snapshot's manifests, by manifest: the files added (data, then
        // position deletes) first, then the previous files per partition spec.
        let previous_live = previous.map(|p| p.live.as_slice()).unwrap_or_default();
        let (files, applied): (Vec<&ExportedFile>, Option<&Applied>) = match change {
            Change::Replace(files) => (files.to_vec(), None),
            Change::Apply(applied) => (applied.added.iter().collect(), Some(applied)),
        };
        let mut plan: BTreeMap<ManifestKey, Vec<Entry>> = BTreeMap::new();
        let mut totals = Totals::default();
        for file in &files {
            let data_file = self.data_file(input, file, &schema, &spec)?;
            totals.add(&data_file, EntryKind::Added);
            plan.entry(ManifestKey::new(EntryKind::Added, true, spec.spec_id()))
                .or_default()
                .push(Entry::Added(Box::new(data_file)));
        }
        for (spec_id, delete_file) in applied
            .map(|a| a.delete_files.as_slice())
            .unwrap_or_default()
        {
            totals.add(delete_file, EntryKind::Added);
            plan.entry(ManifestKey::new(EntryKind::Added, false, *spec_id))
                .or_default()
                .push(Entry::Added(Box::new(delete_file.clone())));
        }
        for old in previous_live {
            let kind = match applied {
                // A full backup replaces every row.
                None => EntryKind::Deleted,
                Some(applied) if applied.removes(old) => EntryKind::Deleted,
                Some(_) => EntryKind::Existing,
            };
            totals.add(&old.data_file, kind);
            let entry = match kind {
                EntryKind::Deleted => Entry::Deleted(old),
                _ => Entry::Existing(old),
            };
            plan.entry(ManifestKey::new(kind, old.is_data(), old.spec_id))
                .or_default()
                .push(entry);
        }

        let io = FileIO::new_with_memory();
        let metadata_uri = |name: &str| format!("{location}/{METADATA_DIR}/{name}");
        let mut manifests: Vec<ManifestFile> = Vec::with_capacity(plan.len());
        for (index, (key, entries)) in plan.into_iter().enumerate() {
            let manifest_spec = staged
                .partition_spec_by_id(key.spec_id)
                .ok_or_else(|| {
                    Error::iceberg(
                        &meta_dir,
                        format!("no partition spec with id {}", key.spec_id),
                    )
                })?
                .as_ref()
                .clone();
            let uri = metadata_uri(&format!("{commit_id}-m{index}.avro"));
            let output = io.new_output(&uri).map_err(err)?;
            let builder = ManifestWriterBuilder::new(
                output,
                Some(snapshot_id),
                schema.clone(),
                manifest_spec,
            );
            let mut writer = if !key.deletes {
                builder.build_v2_data()
            } else {
                builder.build_v2_deletes()
            };
            for entry in entries {
                match entry {
                    Entry::Added(file) => writer.add_file(*file, INHERIT_SEQUENCE_NUMBER),
                    Entry::Existing(old) => writer.add_existing_file(
                        old.data_file.clone(),
                        old.snapshot_id,
                        old.sequence_number,
                        old.file_sequence_number,
                    ),
                    Entry::Deleted(old) => writer.add_delete_file(
                        old.data_file.clone(),
                        old.sequence_number,
                        old.file_sequence_number,
                    ),
                }
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

        let removes_rows = totals.get(EntryKind::Deleted, true).files > 0
            || totals.get(EntryKind::Added, false).records > 0;
        let operation = match (files.is_empty(), removes_rows) {
            (_, false) => Operation::Append,
            (true, true) if applied.is_some() => Operation::Delete,
            _ => Operation::Overwrite,
        };
        let mut summary = totals.summary();
        summary.extend([
            ("engine-name".to_string(), "br-parquet".to_string()),
            (
                "engine-version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
            (
                SUMMARY_CLUSTER_ID.to_string(),
                self.backup.cluster_id.to_string(),
            ),
            (
                SUMMARY_START_VERSION.to_string(),
                self.backup.start_version.to_string(),
            ),
            (
                SUMMARY_END_VERSION.to_string(),
                self.backup.end_version.to_string(),
            ),
            // The snapshot point as UTC time, for the TiCDC hand-off (docs/live-lakehouse.md).
            (
                "tidb.backup.end-version-utc".to_string(),
                tso::utc_rfc3339(self.backup.end_version),
            ),
        ]);
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
            &table_schema,
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
        check_field_ids(&table_schema, metadata.current_schema())
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
            added_records: totals.get(EntryKind::Added, true).records,
            deleted_files: totals.get(EntryKind::Deleted, true).files,
            rewritten_files,
            apply: applied.map(|a| Box::new(a.report.clone())),
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
        let stats = file
            .stats
            .unpack()
            .map_err(|e| Error::iceberg(&file.path, e))?;
        for column in &stats.columns {
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
            let id = stats.single_long(TABLE_ID_FIELD_ID).ok_or_else(|| {
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
            .split_offsets(Some(stats.split_offsets))
            .sort_order_id(SortOrder::unsorted_order().order_id as i32)
            .build()
            .map_err(|e| Error::iceberg(&file.path, format!("Iceberg data file: {e}")))
    }

    /// Table properties, refreshed on every run.
    fn properties(
        &self,
        input: &TableInput,
        arrow: &arrow_schema::Schema,
    ) -> HashMap<String, String> {
        let (codec, level) = parquet_codec(&self.files.compression_name);
        let mut properties = HashMap::from([
            ("write.format.default".to_string(), "parquet".to_string()),
            ("write.parquet.compression-codec".to_string(), codec),
            (
                "write.metadata.metrics.default".to_string(),
                format!("truncate({})", super::value::BOUND_TRUNCATE_LENGTH),
            ),
            (
                "schema.name-mapping.default".to_string(),
                name_mapping(arrow).to_string(),
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

    /// An incremental backup applies to a table holding the backup it follows, of the same
    /// cluster (or, for a re-run, to one holding this very backup).
    fn check_chain(&self, input: &TableInput, metadata: &TableMetadata, name: &str) -> Result<()> {
        let table = input.name();
        let (start, end) = (self.backup.start_version, self.backup.end_version);
        let summary = backup_summary(metadata).map_err(|snapshot| {
            Error::Usage(format!(
                "table {table}: {name}: another writer changed the table after br-parquet's \
                 last snapshot ({snapshot}), so it no longer holds exactly a backup and this \
                 incremental backup (start version {start}) cannot be applied to it"
            ))
        })?;
        let read = |key: &str| {
            summary
                .and_then(|s| s.get(key))
                .and_then(|v| v.parse::<u64>().ok())
        };
        let (Some(cluster), Some(held_start), Some(held_end)) = (
            read(SUMMARY_CLUSTER_ID),
            read(SUMMARY_START_VERSION),
            read(SUMMARY_END_VERSION),
        ) else {
            return Err(Error::Usage(format!(
                "table {table}: {name} has no snapshot recording a br-parquet export of a \
                 backup, so this incremental backup (start version {start}) cannot be applied \
                 to it"
            )));
        };
        if metadata.current_schema().field_by_name(OP_COLUMN).is_some() {
            return Err(Error::Usage(format!(
                "table {table}: {name} holds the change rows of an incremental backup \
                 ({OP_COLUMN}), not the table; apply incremental backups to the table of a \
                 full backup's export"
            )));
        }
        if cluster != self.backup.cluster_id {
            return Err(Error::Usage(format!(
                "table {table}: {name} holds a backup of cluster {cluster}, this incremental \
                 backup is of cluster {}; apply it to its own cluster's tables",
                self.backup.cluster_id
            )));
        }
        if held_end == start || (held_start, held_end) == (start, end) {
            return Ok(());
        }
        let held = format!("holds the backup up to end version {held_end}");
        Err(Error::Usage(if held_end < start {
            format!(
                "table {table}: {name} {held}, but this incremental backup starts at version \
                 {start} (it covers {start} → {end}): the changes between {held_end} and \
                 {start} are missing; apply the incremental backup that starts at {held_end} \
                 first"
            )
        } else {
            format!(
                "table {table}: {name} {held}, after this incremental backup's start version \
                 {start} (it covers {start} → {end}): it overlaps what the table holds; apply \
                 only the incremental backup that starts at {held_end}"
            )
        }))
    }

    /// Writes one incremental backup's changes of `table` (its change `files`, published): the
    /// puts as data files, the replaced and deleted rows as position deletes.
    fn apply_changes(
        &self,
        table: &PreparedTable,
        previous: Option<&Previous>,
        files: &[&ExportedFile],
    ) -> Result<Applied> {
        let input = &table.input;
        let dir = apply::incremental_dir(&input.dir, self.backup.end_version);
        let temp = tempfile::Builder::new()
            .prefix("br-parquet-apply-")
            .tempdir()
            .map_err(|e| Error::io("a temporary directory", e))?;
        let mut applied = Applied::default();
        let mut changes = Changes::default();
        for file in files {
            let file_name = file.path.rsplit('/').next().unwrap_or(&file.path);
            let local = self.output.open_local(&file.path)?;
            let put_path = temp.path().join(file_name);
            let mut writer: Option<ParquetFileWriter> = None;
            apply::read_change_file(
                &local.path,
                &file.path,
                &table.arrow,
                &mut changes,
                |batch| {
                    let writer = match &mut writer {
                        Some(writer) => writer,
                        None => writer.insert(self.put_file_writer(&put_path, &table.arrow)?),
                    };
                    writer.write(&batch)
                },
            )?;
            let Some(writer) = writer else { continue };
            let written = writer.finish()?;
            let name = format!("{dir}/{file_name}");
            self.output.move_file(&written.path, &name)?;
            applied.added.push(ExportedFile {
                path: name,
                db: input.db.clone(),
                table: input.table.clone(),
                table_id: input.table_id,
                source_sst: file.source_sst.clone(),
                rows: written.rows,
                size: written.size,
                sha256: written.sha256,
                stats: written.stats,
                ..Default::default()
            });
        }

        let live = previous.map(|p| p.live.as_slice()).unwrap_or_default();
        let physical_ids: HashSet<i64> = if input.partition_ids.is_empty() {
            HashSet::from([input.table_id])
        } else {
            input.partition_ids.iter().copied().collect()
        };
        let read_local = |uri: &str| self.open_uri(table, uri);
        // Rows an earlier apply already removed, by data file.
        let mut deleted: HashMap<String, HashSet<i64>> = HashMap::new();
        if !changes.is_empty() {
            for delete_file in live.iter().filter(|f| !f.is_data()) {
                let uri = delete_file.data_file.file_path();
                let local = read_local(uri)?;
                for (path, pos) in apply::read_position_deletes(&local.path, uri)? {
                    deleted.entry(path).or_default().insert(pos);
                }
            }
        }
        let mut found: HashSet<(i64, Handle)> = HashSet::new();
        let mut positions: DeletesByPartition = BTreeMap::new();
        let data_files: Vec<&LiveFile> = live.iter().filter(|f| f.is_data()).collect();
        for file in &data_files {
            let data_file = &file.data_file;
            let table_ids = (
                long_bound(data_file.lower_bounds(), TABLE_ID_FIELD_ID),
                long_bound(data_file.upper_bounds(), TABLE_ID_FIELD_ID),
            );
            let gone = match table_ids {
                _ if input.is_dropped() => true,
                (Some(low), Some(high)) => low == high && !physical_ids.contains(&low),
                _ => false,
            };
            if gone {
                // DROP TABLE; TRUNCATE TABLE, TRUNCATE or DROP PARTITION: the id's rows are gone.
                applied.removed.insert(data_file.file_path().to_string());
                applied.report.rows_of_removed_files += data_file.record_count();
                continue;
            }
            let handles = (
                handle_bound(data_file.lower_bounds()),
                handle_bound(data_file.upper_bounds()),
            );
            if !changes.may_hold(table_ids, (handles.0.as_ref(), handles.1.as_ref())) {
                continue;
            }
            let uri = data_file.file_path();
            let none = HashSet::new();
            let already = deleted.get(uri).unwrap_or(&none);
            let (storage, name) = self.locate_uri(table, uri)?;
            // A local file is read in place; a remote one by ranges (footer and key columns).
            let local = storage
                .is_local()
                .then(|| storage.open_local(&name))
                .transpose()?;
            let source = match &local {
                Some(local) => apply::KeySource::Local(&local.path),
                None => apply::KeySource::Remote(storage),
            };
            let found_here =
                apply::positions_of_changed(source, &name, &changes, already, &mut found)?;
            if found_here.is_empty() {
                continue;
            }
            applied.report.data_files_touched += 1;
            let partition_id = (table_ids.0 == table_ids.1)
                .then_some(table_ids.0)
                .flatten();
            positions
                .entry((file.spec_id, partition_id))
                .or_insert_with(|| (data_file.partition().clone(), Vec::new()))
                .1
                .extend(found_here.into_iter().map(|pos| (uri.to_string(), pos)));
        }
        applied.removes_everything =
            !data_files.is_empty() && applied.removed.len() == data_files.len();
        applied.report.data_files_removed = applied.removed.len() as u64;

        for ((spec_id, partition_id), (partition, mut rows)) in positions {
            rows.sort();
            let file_name = match partition_id {
                Some(id) => format!("position-deletes-{id}.parquet"),
                None => format!("position-deletes-spec-{spec_id}.parquet"),
            };
            let local = temp.path().join(&file_name);
            let written = apply::write_position_deletes(
                &local,
                &rows,
                &self.files.parquet,
                self.files.footer.clone(),
            )?;
            let name = format!("{dir}/{file_name}");
            self.output.move_file(&written.path, &name)?;
            let bounds = |(path, pos): &(String, i64)| {
                HashMap::from([
                    (apply::DELETE_FILE_PATH_FIELD_ID, Datum::string(path)),
                    (apply::DELETE_POS_FIELD_ID, Datum::long(*pos)),
                ])
            };
            let lowest_pos = rows.iter().map(|r| r.1).min().unwrap_or_default();
            let highest_pos = rows.iter().map(|r| r.1).max().unwrap_or_default();
            let first = (rows[0].0.clone(), lowest_pos);
            let last = (rows[rows.len() - 1].0.clone(), highest_pos);
            let delete_file = DataFileBuilder::default()
                .content(DataContentType::PositionDeletes)
                .file_path(self.output.url_of(&name))
                .file_format(DataFileFormat::Parquet)
                .partition(partition)
                .partition_spec_id(spec_id)
                .record_count(written.rows)
                .file_size_in_bytes(written.size)
                .lower_bounds(bounds(&first))
                .upper_bounds(bounds(&last))
                .build()
                .map_err(|e| Error::iceberg(&name, format!("Iceberg delete file: {e}")))?;
            applied.delete_files.push((spec_id, delete_file));
        }

        let report = &mut applied.report;
        report.from_version = self.backup.start_version;
        report.to_version = self.backup.end_version;
        report.delete_files = applied.delete_files.len() as u64;
        report.data_files_added = applied.added.len() as u64;
        report.schema_changes = table.schema_changes.clone();
        for (key, put) in changes.iter() {
            let counter = match (found.contains(key), put) {
                (true, true) => &mut report.rows_updated,
                (false, true) => &mut report.rows_inserted,
                (true, false) => &mut report.rows_deleted,
                (false, false) => &mut report.absent_deletes,
            };
            *counter += 1;
        }
        Ok(applied)
    }

    /// The storage and object name of the file at `uri`: an object of the table's directory in
    /// the output, of the output elsewhere (a renamed table's files stay under its old name), or,
    /// for a catalog table an earlier export wrote under another prefix, of the catalog's bucket.
    fn locate_uri(&self, table: &PreparedTable, uri: &str) -> Result<(&ExternalStorage, String)> {
        if let Ok(name) = object_of(uri, &table.location, &table.input.dir) {
            return Ok((self.output, name));
        }
        if let Some(name) = uri.strip_prefix(&self.output.url_of("")) {
            return Ok((self.output, name.trim_start_matches('/').to_string()));
        }
        if let Some(storage) = &self.catalog_storage {
            if let Some(name) = uri.strip_prefix(&storage.url_of("")) {
                return Ok((storage, name.trim_start_matches('/').to_string()));
            }
        }
        Err(Error::Unsupported(format!(
            "{uri}: table {} lists a file outside this output's bucket, which br-parquet cannot \
             read to apply an incremental backup",
            table.input.name()
        )))
    }

    /// A local copy of the file at `uri` ([`Self::locate_uri`]).
    fn open_uri(&self, table: &PreparedTable, uri: &str) -> Result<LocalObject> {
        let (storage, name) = self.locate_uri(table, uri)?;
        storage.open_local(&name)
    }

    /// A writer of one put file, in the table's schema, with the statistics Iceberg needs.
    fn put_file_writer(
        &self,
        path: &std::path::Path,
        schema: &arrow_schema::SchemaRef,
    ) -> Result<ParquetFileWriter> {
        let mut writer = ParquetFileWriter::create(
            path,
            schema.clone(),
            &self.files.parquet,
            self.files.footer.clone(),
        )?;
        writer.collect_column_stats();
        Ok(writer)
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// The summary of the snapshot that holds the table's newest backup: the current snapshot or,
/// when compactions (`replace` snapshots, which change files but not rows) followed it, their
/// newest ancestor with br-parquet's backup keys. `Err` names a later snapshot that changed rows.
fn backup_summary(
    metadata: &TableMetadata,
) -> std::result::Result<Option<&HashMap<String, String>>, String> {
    let mut snapshot = metadata.current_snapshot();
    while let Some(current) = snapshot {
        let summary = current.summary();
        if summary
            .additional_properties
            .contains_key(SUMMARY_END_VERSION)
        {
            return Ok(Some(&summary.additional_properties));
        }
        if summary.operation != Operation::Replace {
            return Err(format!(
                "snapshot {}, operation {}",
                current.snapshot_id(),
                summary.operation.as_str()
            ));
        }
        snapshot = current
            .parent_snapshot_id()
            .and_then(|id| metadata.snapshot_by_id(id));
    }
    Ok(None)
}

/// A `long` bound of a field, from a data file's lower or upper bounds.
fn long_bound(bounds: &HashMap<i32, Datum>, field_id: i32) -> Option<i64> {
    match bounds.get(&field_id)?.literal() {
        PrimitiveLiteral::Long(value) => Some(*value),
        PrimitiveLiteral::Int(value) => Some(i64::from(*value)),
        _ => None,
    }
}

/// The `_tidb_handle` bound of a data file.
fn handle_bound(bounds: &HashMap<i32, Datum>) -> Option<Handle> {
    match bounds.get(&HANDLE_FIELD_ID)?.literal() {
        PrimitiveLiteral::Long(value) => Some(Handle::Int(*value)),
        PrimitiveLiteral::Binary(bytes) => Some(Handle::Common(bytes.clone().into())),
        _ => None,
    }
}

/// The table's schema after an incremental backup: `apply.schema` (a full export's) checked
/// against the schema the table has. A column keeps its field id (TiDB column ids are never
/// reused) and may change type only as Iceberg promotes (int → long, float → double, decimal
/// precision widened); a new column is optional while older rows exist (Iceberg v2 has no
/// initial default, so they read NULL); an optional column stays optional. Returns the schema
/// and the changes, as words for the report.
fn evolve_schema(
    input: &TableInput,
    apply: &ApplyInput,
    schema: &arrow_schema::SchemaRef,
    previous: Option<&Previous>,
) -> Result<(arrow_schema::SchemaRef, Vec<String>)> {
    let Some(previous) = previous else {
        return Ok((schema.clone(), Vec::new()));
    };
    let old = previous.metadata.current_schema();
    let has_rows = !previous.live.is_empty();
    let mut changes = Vec::new();
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut kept_ids = HashSet::new();
    for field in schema.fields() {
        let Some(id) = super::schema::field_id(field) else {
            fields.push(field.as_ref().clone());
            continue;
        };
        kept_ids.insert(id);
        let new_type = super::schema::iceberg_type(field.data_type())
            .map_err(|reason| Error::Unsupported(format!("table {}: {reason}", input.name())))?;
        let mut nullable = field.is_nullable();
        match old.field_by_id(id) {
            Some(old_field) => {
                if *old_field.field_type != new_type {
                    if !promotes(&old_field.field_type, &new_type) {
                        return Err(Error::Unsupported(format!(
                            "table {}: column {} changed type from {} to {}, which Iceberg \
                             cannot promote (it allows int → long, float → double and a wider \
                             decimal precision); export a full backup into a new output",
                            input.name(),
                            field.name(),
                            old_field.field_type,
                            new_type
                        )));
                    }
                    changes.push(format!(
                        "column {}: {} → {new_type}",
                        field.name(),
                        old_field.field_type
                    ));
                }
                if old_field.name != *field.name() {
                    changes.push(format!(
                        "renamed column {} → {}",
                        old_field.name,
                        field.name()
                    ));
                }
                nullable |= !old_field.required;
            }
            None => {
                if let Some(same_name) = old.field_by_name(field.name()) {
                    if apply.modified_column {
                        return Err(Error::Unsupported(format!(
                            "table {}: MODIFY COLUMN rewrote column {} ({} → {new_type}) under a \
                             new TiDB column id, so the Iceberg table cannot carry its earlier \
                             values over; export a full backup into a new output",
                            input.name(),
                            field.name(),
                            same_name.field_type
                        )));
                    }
                }
                changes.push(format!("added column {} (field {id})", field.name()));
                nullable |= has_rows;
            }
        }
        fields.push(field.as_ref().clone().with_nullable(nullable));
    }
    for old_field in old.as_struct().fields() {
        if !kept_ids.contains(&old_field.id) {
            changes.push(format!("dropped column {}", old_field.name));
        }
    }
    let schema = arrow_schema::Schema::new_with_metadata(fields, schema.metadata().clone());
    Ok((Arc::new(schema), changes))
}

/// Iceberg's allowed type promotions (spec: "Schema Evolution").
fn promotes(from: &Type, to: &Type) -> bool {
    use iceberg::spec::PrimitiveType as P;
    match (from, to) {
        (Type::Primitive(from), Type::Primitive(to)) => match (from, to) {
            (P::Int, P::Long) | (P::Float, P::Double) => true,
            (
                P::Decimal {
                    precision: p1,
                    scale: s1,
                },
                P::Decimal {
                    precision: p2,
                    scale: s2,
                },
            ) => s1 == s2 && p2 >= p1,
            _ => false,
        },
        _ => false,
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

    /// The table a full export of `arrow_schema()` made, holding rows.
    fn previous_with_rows() -> Previous {
        let schema = iceberg_schema(&arrow_schema(), 0, &[1, 2]).unwrap();
        let spec = UnboundPartitionSpec::builder().with_spec_id(0).build();
        let metadata = initial_metadata("file:///t", &schema, &spec, 1).unwrap();
        let live = LiveFile {
            data_file: DataFileBuilder::default()
                .content(DataContentType::Data)
                .file_path("file:///t/a.parquet".to_string())
                .file_format(DataFileFormat::Parquet)
                .record_count(1)
                .file_size_in_bytes(10)
                .build()
                .unwrap(),
            spec_id: 0,
            snapshot_id: 1,
            sequence_number: 1,
            file_sequence_number: Some(1),
        };
        Previous {
            version: 1,
            metadata,
            uri: "file:///t/metadata/v1.metadata.json".into(),
            live: vec![live],
            in_catalog: false,
        }
    }

    fn apply_input(fields: Vec<Field>) -> (TableInput, ApplyInput, arrow_schema::SchemaRef) {
        let schema = Arc::new(arrow_schema::Schema::new(fields));
        let apply = ApplyInput {
            schema: Some(schema.clone()),
            created: false,
            renamed: false,
            modified_column: false,
        };
        let input = TableInput {
            db: "db".into(),
            table: "t".into(),
            table_id: 10,
            dir: "t".into(),
            schema: schema.clone(),
            partition_ids: vec![],
            incremental: true,
            apply: Some(apply.clone()),
        };
        (input, apply, schema)
    }

    fn with_id(field: Field, id: i32) -> Field {
        field.with_metadata(Map::from([(
            PARQUET_FIELD_ID_KEY.to_string(),
            id.to_string(),
        )]))
    }

    #[test]
    fn evolving_keeps_ids_promotes_types_and_makes_new_columns_optional() {
        let mut fields: Vec<Field> = arrow_schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        // qty: int → bigint (NOT NULL), name dropped, note added NOT NULL, a column renamed.
        fields[3] = with_id(Field::new("quantity", DataType::Int64, false), 105);
        fields.remove(2);
        fields.push(with_id(Field::new("note", DataType::Utf8, false), 106));
        let (input, apply, schema) = apply_input(fields);
        let (schema, changes) =
            evolve_schema(&input, &apply, &schema, Some(&previous_with_rows())).unwrap();
        let names: Vec<(&str, bool)> = schema
            .fields()
            .iter()
            .map(|f| (f.name().as_str(), f.is_nullable()))
            .collect();
        // The new column is optional (older rows have no value); the others keep theirs.
        assert_eq!(
            names,
            vec![
                ("_tidb_table_id", false),
                ("_tidb_handle", false),
                ("quantity", false),
                ("note", true)
            ]
        );
        assert_eq!(
            changes,
            vec![
                "column quantity: int → long",
                "renamed column qty → quantity",
                "added column note (field 106)",
                "dropped column name",
            ]
        );
    }

    #[test]
    fn a_type_iceberg_cannot_promote_is_refused_naming_column_and_types() {
        let mut fields: Vec<Field> = arrow_schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields[2] = with_id(Field::new("name", DataType::Int64, true), 102);
        let (input, apply, schema) = apply_input(fields);
        let error =
            evolve_schema(&input, &apply, &schema, Some(&previous_with_rows())).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("column name changed type from string to long"),
            "{message}"
        );
        assert!(message.contains("table db.t"), "{message}");
    }

    /// `metadata` with a snapshot of `operation` (and `summary`) on top of its current one.
    fn with_snapshot(
        metadata: TableMetadata,
        id: i64,
        operation: Operation,
        summary: &[(&str, &str)],
    ) -> TableMetadata {
        let snapshot = Snapshot::builder()
            .with_snapshot_id(id)
            .with_parent_snapshot_id(metadata.current_snapshot_id())
            .with_sequence_number(metadata.last_sequence_number() + 1)
            .with_timestamp_ms(metadata.last_updated_ms() + 1)
            .with_manifest_list(format!("file:///t/metadata/snap-{id}.avro"))
            .with_summary(Summary {
                operation,
                additional_properties: summary
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            })
            .with_schema_id(0)
            .build();
        TableMetadataBuilder::new_from_metadata(metadata, None)
            .set_branch_snapshot(snapshot, MAIN_BRANCH)
            .unwrap()
            .build()
            .unwrap()
            .metadata
    }

    #[test]
    fn the_backup_summary_is_found_past_compactions_only() {
        let metadata = previous_with_rows().metadata;
        assert_eq!(backup_summary(&metadata), Ok(None));
        let backup = [(SUMMARY_END_VERSION, "42")];
        let exported = with_snapshot(metadata, 1, Operation::Append, &backup);
        let compacted = with_snapshot(exported, 2, Operation::Replace, &[]);
        let found = backup_summary(&compacted).unwrap().unwrap();
        assert_eq!(
            found.get(SUMMARY_END_VERSION).map(String::as_str),
            Some("42")
        );
        // Rows another writer appended: the table no longer holds exactly a backup.
        let appended = with_snapshot(compacted, 3, Operation::Append, &[]);
        assert_eq!(
            backup_summary(&appended),
            Err("snapshot 3, operation append".to_string())
        );
    }

    #[test]
    fn iceberg_type_promotions() {
        use iceberg::spec::PrimitiveType as P;
        let p = |t: P| Type::Primitive(t);
        let decimal = |precision, scale| p(P::Decimal { precision, scale });
        assert!(promotes(&p(P::Int), &p(P::Long)));
        assert!(promotes(&p(P::Float), &p(P::Double)));
        assert!(promotes(&decimal(10, 2), &decimal(12, 2)));
        assert!(!promotes(&decimal(10, 2), &decimal(12, 3)));
        assert!(!promotes(&decimal(12, 2), &decimal(10, 2)));
        assert!(!promotes(&p(P::Long), &p(P::Int)));
        assert!(!promotes(&p(P::String), &p(P::Binary)));
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
