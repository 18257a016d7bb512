//! Backup metadata: `backupmeta` (meta v1 and the v2 MetaFile index), TiDB schema JSON, and the
//! export plan built from them.
//!
//! Formats: `docs/formats.md` §1 (layout, `backupmeta` v1 and v2), §6 (keys and partitions),
//! §9 (schema JSON). Findings checked against public pingcap/tidb
//! sources are recorded in `docs/meta-notes.md`.
//!
//! ```text
//!  read_object("backupmeta") ──▶ load_backup ──▶ Backup { files, schemas, ddls, .. }
//!                                                   │
//!                         parse_schema(Schema) ◀────┤
//!                                 │                 │
//!                                 ▼                 ▼
//!                           TableSchema ──────▶ build_plan ──▶ ExportPlan { tables, ranges, skipped_files }
//! ```
//!
//! The module is synchronous and pure: it never performs I/O. [`load_backup`] asks a
//! caller-supplied closure for the bytes of each object it needs (`backupmeta`, then the v2
//! leaves), so everything here is testable without storage. The generated protobuf types stay
//! in this layer: later layers work with [`TableSchema`], [`RangePlan`] and the data-file
//! [`File`](crate::proto::backup::File) entries.
//!
//! * [`backupmeta`]: decoding the root object and walking the v2 index.
//! * [`schema`]: serde models of TiDB's `DBInfo`/`TableInfo` JSON and the validated
//!   [`TableSchema`].
//! * [`filter`]: TiDB's `-f` table filter rules and the decision for each table
//!   (`docs/table-filter.md`).
//! * [`plan`]: pairing write/default SSTs and mapping key ranges to physical table ids.
//! * [`ddl`]: what an incremental backup's DDL jobs created or changed, by table id.
//! * [`tso`]: PD timestamps (a backup's `end_version`) as UTC time.

pub mod backupmeta;
pub mod ddl;
pub mod filter;
pub mod plan;
pub mod schema;
pub mod tso;

pub use backupmeta::{
    decode_backup_meta, load_backup, load_backup_with, Backup, MetaVersion, BACKUP_META_OBJECT,
};
pub use plan::{build_plan, build_plan_of, ExcludedTable, ExportPlan, RangePlan, SkippedFile};
pub use schema::{
    parse_schema, ColumnSchema, CommonHandleColumn, FieldType, GeneratedColumn, PartitionSchema,
    TableSchema, TypeCode,
};
