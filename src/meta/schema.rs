//! TiDB schema JSON (`Schema.db` = `DBInfo`, `Schema.table` = `TableInfo`; spec §8) and the
//! validated [`TableSchema`] the rest of the crate decodes rows with.
//!
//! The serde models mirror Go's `encoding/json` output of pingcap/tidb `pkg/meta/model`
//! (`db.go`, `table.go`, `column.go`, `index.go`) and `pkg/parser/types/field_type.go`:
//!
//! ```text
//! DBInfo    { id, db_name {O, L}, charset, collate, state, .. }
//! TableInfo { id, name {O, L}, cols [ColumnInfo], index_info [IndexInfo], pk_is_handle,
//!             is_common_handle, partition PartitionInfo|null, view {..}|null, sequence {..}|null, .. }
//! ColumnInfo { id, name, offset, origin_default, origin_default_bit (base64), generated_expr_string,
//!              generated_stored, type {Tp, Flag, Flen, Decimal, Charset, Collate, Elems, ..},
//!              state, hidden, version, .. }
//! ```
//!
//! Go matches JSON keys to struct fields case-insensitively and leaves a field unchanged on
//! `null`; the models accept the spellings seen in the wild through `#[serde(alias)]`, take
//! `null` or a missing key as the zero value, and ignore unknown keys. They also serialize back
//! with Go's key names, so tests can write `TableInfo` JSON.

use serde::{Deserialize, Deserializer, Serialize};

use crate::proto::backup::Schema;
use crate::{Error, Result};

/// BR backs up system databases under this prefix (`mysql` → `__TiDB_BR_Temporary_mysql`).
pub const TEMPORARY_DB_PREFIX: &str = "__TiDB_BR_Temporary_";

/// `SchemaState` public (`model.StatePublic`).
pub const STATE_PUBLIC: i64 = 5;

/// Column-name prefix of the new column during `MODIFY COLUMN` (`model.changingColumnPrefix`).
const CHANGING_COLUMN_PREFIX: &str = "_Col$_";
/// Column-name prefix of a column being removed (`model.removingObjPrefix`).
const REMOVING_COLUMN_PREFIX: &str = "_Tombstone$_";

/// `FieldType.Flag` bits (`pkg/parser/mysql/type.go`), spec §8.4.
pub mod flag {
    /// NOT NULL.
    pub const NOT_NULL: u32 = 1 << 0;
    /// Part of the primary key.
    pub const PRI_KEY: u32 = 1 << 1;
    /// Part of a unique key.
    pub const UNIQUE_KEY: u32 = 1 << 2;
    /// Part of a non-unique key.
    pub const MULTIPLE_KEY: u32 = 1 << 3;
    /// BLOB/TEXT.
    pub const BLOB: u32 = 1 << 4;
    /// UNSIGNED.
    pub const UNSIGNED: u32 = 1 << 5;
    /// ZEROFILL.
    pub const ZEROFILL: u32 = 1 << 6;
    /// Binary string (charset `binary`).
    pub const BINARY: u32 = 1 << 7;
    /// AUTO_INCREMENT.
    pub const AUTO_INCREMENT: u32 = 1 << 9;
    /// Generated column.
    pub const GENERATED_COLUMN: u32 = 1 << 23;
}

// ---------------------------------------------------------------------------------------------
// Wire models (Go JSON)
// ---------------------------------------------------------------------------------------------

/// Deserializes `null` (and, with `#[serde(default)]`, a missing key) as `T::default()`, the way
/// Go leaves a field at its zero value.
fn null_default<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Go `model.CIStr`: a name as written (`O`) and lower-cased (`L`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CIStr {
    /// The original spelling.
    #[serde(rename = "O", alias = "o", default, deserialize_with = "null_default")]
    pub o: String,
    /// The lower-cased spelling.
    #[serde(rename = "L", alias = "l", default, deserialize_with = "null_default")]
    pub l: String,
}

impl CIStr {
    /// A name and its lower-case form.
    pub fn new(name: &str) -> Self {
        CIStr {
            o: name.to_string(),
            l: name.to_lowercase(),
        }
    }

    /// The original spelling, or the lower-case one when only that was written.
    pub fn original(&self) -> &str {
        if self.o.is_empty() {
            &self.l
        } else {
            &self.o
        }
    }
}

/// Go `model.DBInfo` (spec §8.1); only the keys this crate reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DbInfo {
    /// Database id.
    #[serde(default, deserialize_with = "null_default")]
    pub id: i64,
    /// Database name.
    #[serde(default, deserialize_with = "null_default")]
    pub db_name: CIStr,
    /// Default charset.
    #[serde(default, deserialize_with = "null_default")]
    pub charset: String,
    /// Default collation.
    #[serde(default, deserialize_with = "null_default")]
    pub collate: String,
    /// Schema state (5 = public).
    #[serde(default, deserialize_with = "null_default")]
    pub state: i64,
}

/// Go `model.TableInfo` (spec §8.2); only the keys this crate reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableInfo {
    /// Logical table id.
    #[serde(default, deserialize_with = "null_default")]
    pub id: i64,
    /// Table name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: CIStr,
    /// Default charset.
    #[serde(default, deserialize_with = "null_default")]
    pub charset: String,
    /// Default collation.
    #[serde(default, deserialize_with = "null_default")]
    pub collate: String,
    /// Columns, in the order of their `offset`.
    #[serde(default, deserialize_with = "null_default")]
    pub cols: Vec<ColumnInfo>,
    /// Indexes (a table whose integer primary key is the handle has no IndexInfo for it).
    #[serde(default, deserialize_with = "null_default")]
    pub index_info: Vec<IndexInfo>,
    /// Schema state (5 = public).
    #[serde(default, deserialize_with = "null_default")]
    pub state: i64,
    /// The single integer primary-key column is the row handle.
    #[serde(default, deserialize_with = "null_default")]
    pub pk_is_handle: bool,
    /// Clustered non-integer primary key: the handle is the encoded primary-key columns.
    #[serde(default, deserialize_with = "null_default")]
    pub is_common_handle: bool,
    /// 0 for clustered indexes made by 5.0.0-RC, 1 later.
    #[serde(default, deserialize_with = "null_default")]
    pub common_handle_version: u64,
    /// Table comment.
    #[serde(default, deserialize_with = "null_default")]
    pub comment: String,
    /// Partitioning, or `null`.
    #[serde(default)]
    pub partition: Option<PartitionInfo>,
    /// Non-null for a VIEW (no data).
    #[serde(default)]
    pub view: Option<serde_json::Value>,
    /// Non-null for a SEQUENCE (no row data).
    #[serde(default)]
    pub sequence: Option<serde_json::Value>,
    /// TableInfo version (0..5).
    #[serde(default, deserialize_with = "null_default")]
    pub version: u64,
    /// 0 none, 1 global temporary, 2 local temporary.
    #[serde(default, deserialize_with = "null_default")]
    pub temp_table_type: u64,
}

/// Go `model.ColumnInfo` (spec §8.3); only the keys this crate reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnInfo {
    /// Column id used in row values.
    #[serde(default, deserialize_with = "null_default")]
    pub id: i64,
    /// Column name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: CIStr,
    /// Position in the table (index into `cols`).
    #[serde(default, deserialize_with = "null_default")]
    pub offset: i64,
    /// Value for rows written before the column was added (`null` = NULL).
    #[serde(default)]
    pub origin_default: Option<serde_json::Value>,
    /// BIT columns: the origin default's bytes, base64 (Go `[]byte`).
    #[serde(default)]
    pub origin_default_bit: Option<String>,
    /// Current default (not used for decoding).
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    /// BIT columns: the current default's bytes, base64.
    #[serde(default)]
    pub default_bit: Option<String>,
    /// The default is an expression.
    #[serde(default, deserialize_with = "null_default")]
    pub default_is_expr: bool,
    /// Generation expression; empty for ordinary columns.
    #[serde(default, deserialize_with = "null_default")]
    pub generated_expr_string: String,
    /// STORED (true) or VIRTUAL (false) generated column.
    #[serde(default, deserialize_with = "null_default")]
    pub generated_stored: bool,
    /// The column type.
    #[serde(rename = "type", default, deserialize_with = "null_default")]
    pub field_type: FieldTypeJson,
    /// Schema state (5 = public).
    #[serde(default, deserialize_with = "null_default")]
    pub state: i64,
    /// Column comment.
    #[serde(default, deserialize_with = "null_default")]
    pub comment: String,
    /// Internal column (expression-index helper), invisible to users.
    #[serde(default, deserialize_with = "null_default")]
    pub hidden: bool,
    /// ColumnInfo version (0: TIMESTAMP defaults in the system time zone, ≥ 1: UTC).
    #[serde(default, deserialize_with = "null_default")]
    pub version: u64,
}

/// Go `types.FieldType` as JSON (spec §8.4): capitalised keys, no tags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldTypeJson {
    /// MySQL type code.
    #[serde(
        rename = "Tp",
        alias = "tp",
        alias = "TP",
        default,
        deserialize_with = "null_default"
    )]
    pub tp: u64,
    /// Flag bits ([`flag`]).
    #[serde(
        rename = "Flag",
        alias = "flag",
        default,
        deserialize_with = "null_default"
    )]
    pub flag: u64,
    /// Display length / precision; −1 unspecified.
    #[serde(
        rename = "Flen",
        alias = "flen",
        default,
        deserialize_with = "null_default"
    )]
    pub flen: i64,
    /// Scale or fractional-second precision; −1 unspecified.
    #[serde(
        rename = "Decimal",
        alias = "decimal",
        default,
        deserialize_with = "null_default"
    )]
    pub decimal: i64,
    /// Charset.
    #[serde(
        rename = "Charset",
        alias = "charset",
        default,
        deserialize_with = "null_default"
    )]
    pub charset: String,
    /// Collation.
    #[serde(
        rename = "Collate",
        alias = "collate",
        default,
        deserialize_with = "null_default"
    )]
    pub collate: String,
    /// ENUM/SET members.
    #[serde(
        rename = "Elems",
        alias = "elems",
        default,
        deserialize_with = "null_default"
    )]
    pub elems: Vec<String>,
    /// Which members were written as binary literals.
    #[serde(
        rename = "ElemsIsBinaryLit",
        alias = "elemsIsBinaryLit",
        alias = "elemsisbinarylit",
        default,
        deserialize_with = "null_default"
    )]
    pub elems_is_binary_lit: Vec<bool>,
    /// Multi-valued index helper (`CAST(.. AS .. ARRAY)`).
    #[serde(
        rename = "Array",
        alias = "array",
        default,
        deserialize_with = "null_default"
    )]
    pub array: bool,
}

/// Go `model.IndexInfo` (spec §8.5); only the keys this crate reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexInfo {
    /// Index id.
    #[serde(default, deserialize_with = "null_default")]
    pub id: i64,
    /// Index name (`PRIMARY` for the primary key).
    #[serde(default, deserialize_with = "null_default")]
    pub idx_name: CIStr,
    /// Indexed columns, in key order.
    #[serde(default, deserialize_with = "null_default")]
    pub idx_cols: Vec<IndexColumn>,
    /// Schema state (5 = public).
    #[serde(default, deserialize_with = "null_default")]
    pub state: i64,
    /// UNIQUE.
    #[serde(default, deserialize_with = "null_default")]
    pub is_unique: bool,
    /// PRIMARY KEY (defines the common-handle column order).
    #[serde(default, deserialize_with = "null_default")]
    pub is_primary: bool,
    /// Global index of a partitioned table (keys under the logical table id).
    #[serde(default, deserialize_with = "null_default")]
    pub is_global: bool,
}

/// Go `model.IndexColumn`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexColumn {
    /// Column name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: CIStr,
    /// Index into the table's `cols`.
    #[serde(default, deserialize_with = "null_default")]
    pub offset: i64,
    /// Prefix length; −1 for the whole column.
    #[serde(default, deserialize_with = "null_default")]
    pub length: i64,
}

/// Go `model.PartitionInfo` (spec §8.6); only the keys this crate reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartitionInfo {
    /// Partition type: 1 RANGE, 2 HASH, 3 LIST, 4 KEY.
    #[serde(rename = "type", default, deserialize_with = "null_default")]
    pub partition_type: i64,
    /// Partitioning expression.
    #[serde(default, deserialize_with = "null_default")]
    pub expr: String,
    /// Partitioning columns (RANGE/LIST COLUMNS, KEY).
    #[serde(default, deserialize_with = "null_default")]
    pub columns: Vec<CIStr>,
    /// Rows are stored per partition only when true (`TableInfo.GetPartitionInfo`). TiDB always
    /// writes the key; a missing key is read as true.
    #[serde(default)]
    pub enable: Option<bool>,
    /// The partitions holding the table's rows.
    #[serde(default, deserialize_with = "null_default")]
    pub definitions: Vec<PartitionDefinition>,
    /// Partitions being added by an unfinished DDL (not exported).
    #[serde(default, deserialize_with = "null_default")]
    pub adding_definitions: Vec<PartitionDefinition>,
    /// Partitions being dropped by an unfinished DDL (not exported).
    #[serde(default, deserialize_with = "null_default")]
    pub dropping_definitions: Vec<PartitionDefinition>,
    /// Number of partitions (HASH/KEY).
    #[serde(default, deserialize_with = "null_default")]
    pub num: u64,
}

/// Go `model.PartitionDefinition`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartitionDefinition {
    /// Physical id: the rows of this partition live under it.
    #[serde(default, deserialize_with = "null_default")]
    pub id: i64,
    /// Partition name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: CIStr,
    /// RANGE bounds.
    #[serde(default, deserialize_with = "null_default")]
    pub less_than: Vec<String>,
    /// LIST values.
    #[serde(default, deserialize_with = "null_default")]
    pub in_values: Vec<Vec<String>>,
    /// Partition comment.
    #[serde(default, deserialize_with = "null_default")]
    pub comment: String,
}

// ---------------------------------------------------------------------------------------------
// Domain types
// ---------------------------------------------------------------------------------------------

/// MySQL/TiDB column type codes (`FieldType.Tp`, spec §8.4 table).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeCode {
    /// 1: TINYINT (and BOOL).
    Tiny,
    /// 2: SMALLINT.
    Short,
    /// 9: MEDIUMINT.
    Int24,
    /// 3: INT.
    Long,
    /// 8: BIGINT.
    LongLong,
    /// 4: FLOAT.
    Float,
    /// 5: DOUBLE.
    Double,
    /// 6: NULL.
    Null,
    /// 7: TIMESTAMP.
    Timestamp,
    /// 10: DATE.
    Date,
    /// 11: TIME.
    Duration,
    /// 12: DATETIME.
    Datetime,
    /// 13: YEAR.
    Year,
    /// 14: NEWDATE.
    NewDate,
    /// 15: VARCHAR / VARBINARY.
    Varchar,
    /// 16: BIT.
    Bit,
    /// 245: JSON.
    Json,
    /// 246: DECIMAL.
    NewDecimal,
    /// 247: ENUM.
    Enum,
    /// 248: SET.
    Set,
    /// 249: TINYBLOB / TINYTEXT.
    TinyBlob,
    /// 250: MEDIUMBLOB / MEDIUMTEXT.
    MediumBlob,
    /// 251: LONGBLOB / LONGTEXT.
    LongBlob,
    /// 252: BLOB / TEXT.
    Blob,
    /// 253: VAR_STRING.
    VarString,
    /// 254: CHAR / BINARY.
    String,
    /// 255: GEOMETRY.
    Geometry,
    /// 225: VECTOR(FLOAT32).
    TiDBVectorFloat32,
    /// 0: unspecified.
    Unspecified,
}

impl TypeCode {
    /// The type for a `Tp` code, or `None` for a code TiDB does not define.
    pub fn from_u8(code: u8) -> Option<TypeCode> {
        Some(match code {
            0 => TypeCode::Unspecified,
            1 => TypeCode::Tiny,
            2 => TypeCode::Short,
            3 => TypeCode::Long,
            4 => TypeCode::Float,
            5 => TypeCode::Double,
            6 => TypeCode::Null,
            7 => TypeCode::Timestamp,
            8 => TypeCode::LongLong,
            9 => TypeCode::Int24,
            10 => TypeCode::Date,
            11 => TypeCode::Duration,
            12 => TypeCode::Datetime,
            13 => TypeCode::Year,
            14 => TypeCode::NewDate,
            15 => TypeCode::Varchar,
            16 => TypeCode::Bit,
            0xe1 => TypeCode::TiDBVectorFloat32,
            0xf5 => TypeCode::Json,
            0xf6 => TypeCode::NewDecimal,
            0xf7 => TypeCode::Enum,
            0xf8 => TypeCode::Set,
            0xf9 => TypeCode::TinyBlob,
            0xfa => TypeCode::MediumBlob,
            0xfb => TypeCode::LongBlob,
            0xfc => TypeCode::Blob,
            0xfd => TypeCode::VarString,
            0xfe => TypeCode::String,
            0xff => TypeCode::Geometry,
            _ => return None,
        })
    }

    /// The `Tp` code.
    pub fn code(self) -> u8 {
        match self {
            TypeCode::Unspecified => 0,
            TypeCode::Tiny => 1,
            TypeCode::Short => 2,
            TypeCode::Long => 3,
            TypeCode::Float => 4,
            TypeCode::Double => 5,
            TypeCode::Null => 6,
            TypeCode::Timestamp => 7,
            TypeCode::LongLong => 8,
            TypeCode::Int24 => 9,
            TypeCode::Date => 10,
            TypeCode::Duration => 11,
            TypeCode::Datetime => 12,
            TypeCode::Year => 13,
            TypeCode::NewDate => 14,
            TypeCode::Varchar => 15,
            TypeCode::Bit => 16,
            TypeCode::TiDBVectorFloat32 => 0xe1,
            TypeCode::Json => 0xf5,
            TypeCode::NewDecimal => 0xf6,
            TypeCode::Enum => 0xf7,
            TypeCode::Set => 0xf8,
            TypeCode::TinyBlob => 0xf9,
            TypeCode::MediumBlob => 0xfa,
            TypeCode::LongBlob => 0xfb,
            TypeCode::Blob => 0xfc,
            TypeCode::VarString => 0xfd,
            TypeCode::String => 0xfe,
            TypeCode::Geometry => 0xff,
        }
    }

    /// SQL-ish name, as TiDB's `TypeStr` spells it (upper-cased).
    pub fn name(self) -> &'static str {
        match self {
            TypeCode::Unspecified => "UNSPECIFIED",
            TypeCode::Tiny => "TINYINT",
            TypeCode::Short => "SMALLINT",
            TypeCode::Int24 => "MEDIUMINT",
            TypeCode::Long => "INT",
            TypeCode::LongLong => "BIGINT",
            TypeCode::Float => "FLOAT",
            TypeCode::Double => "DOUBLE",
            TypeCode::Null => "NULL",
            TypeCode::Timestamp => "TIMESTAMP",
            TypeCode::Date => "DATE",
            TypeCode::Duration => "TIME",
            TypeCode::Datetime => "DATETIME",
            TypeCode::Year => "YEAR",
            TypeCode::NewDate => "NEWDATE",
            TypeCode::Varchar => "VARCHAR",
            TypeCode::Bit => "BIT",
            TypeCode::Json => "JSON",
            TypeCode::NewDecimal => "DECIMAL",
            TypeCode::Enum => "ENUM",
            TypeCode::Set => "SET",
            TypeCode::TinyBlob => "TINYBLOB",
            TypeCode::MediumBlob => "MEDIUMBLOB",
            TypeCode::LongBlob => "LONGBLOB",
            TypeCode::Blob => "BLOB",
            TypeCode::VarString => "VAR_STRING",
            TypeCode::String => "CHAR",
            TypeCode::Geometry => "GEOMETRY",
            TypeCode::TiDBVectorFloat32 => "VECTOR",
        }
    }

    /// TINYINT, SMALLINT, MEDIUMINT, INT, BIGINT (not YEAR or BIT).
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            TypeCode::Tiny
                | TypeCode::Short
                | TypeCode::Int24
                | TypeCode::Long
                | TypeCode::LongLong
        )
    }

    /// CHAR/VARCHAR/BINARY/VARBINARY and the BLOB/TEXT family.
    pub fn is_string(self) -> bool {
        matches!(
            self,
            TypeCode::Varchar
                | TypeCode::VarString
                | TypeCode::String
                | TypeCode::TinyBlob
                | TypeCode::MediumBlob
                | TypeCode::LongBlob
                | TypeCode::Blob
        )
    }
}

/// A column's validated type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldType {
    /// Type code.
    pub tp: TypeCode,
    /// Flag bits ([`flag`]).
    pub flag: u32,
    /// Display length / precision; −1 unspecified. BIT(n): n. TiDB writes 4294967295 for
    /// LONGBLOB/LONGTEXT/JSON (Go `int`); such values saturate at `i32::MAX`.
    pub flen: i32,
    /// DECIMAL scale, or fsp for TIME/DATETIME/TIMESTAMP; −1 unspecified.
    pub decimal: i32,
    /// The charset or the collation is `binary` (as for byte strings and non-string types).
    /// Only this is kept of either: nothing else of them changes how values are exported, and a
    /// backup of 100 k tables holds half a million columns.
    pub binary_charset: bool,
    /// ENUM/SET members.
    pub elems: Vec<String>,
}

impl FieldType {
    /// UNSIGNED flag (integers; YEAR also carries it).
    pub fn is_unsigned(&self) -> bool {
        self.flag & flag::UNSIGNED != 0
    }

    /// A string/blob type holding bytes rather than text: charset or collation `binary`, or the
    /// Binary flag.
    pub fn is_binary_string(&self) -> bool {
        self.tp.is_string() && (self.binary_charset || self.flag & flag::BINARY != 0)
    }
}

/// A generated column's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedColumn {
    /// The expression, as TiDB restored it (e.g. "`price` * `qty`").
    pub expr: String,
    /// STORED (kept in row values) rather than VIRTUAL (never stored).
    pub stored: bool,
}

/// One exported column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSchema {
    /// Column id in row values.
    pub id: i64,
    /// Name as written.
    pub name: String,
    /// TiDB's `offset` (position among all the table's columns, hidden ones included).
    pub offset: usize,
    /// Type.
    pub field_type: FieldType,
    /// Not NOT NULL.
    pub nullable: bool,
    /// The integer primary key stored as the row handle (`pk_is_handle` and PriKey flag).
    pub is_pk_handle: bool,
    /// Value for rows written before the column existed; JSON null → `None`.
    pub origin_default: Option<serde_json::Value>,
    /// BIT columns: the origin default's bytes.
    pub origin_default_bit: Option<Vec<u8>>,
    /// Generated-column definition.
    pub generated: Option<GeneratedColumn>,
    /// ColumnInfo version.
    pub version: u64,
}

/// One column of a clustered (common-handle) primary key, in key order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommonHandleColumn {
    /// Index into [`TableSchema::columns`].
    pub column_index: usize,
    /// Prefix length when the key holds only a prefix of the column.
    pub prefix_length: Option<u32>,
}

/// One partition holding rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionSchema {
    /// Physical id.
    pub id: i64,
    /// Partition name.
    pub name: String,
}

/// A table that holds rows, validated for export.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSchema {
    /// Database name, with BR's temporary prefix [`TEMPORARY_DB_PREFIX`] removed.
    pub db_name: String,
    /// Database name as written in the backup.
    pub db_name_in_backup: String,
    /// Table name.
    pub table_name: String,
    /// Logical table id.
    pub table_id: i64,
    /// Exported columns (public, not hidden, not a DDL temporary), by `offset`.
    pub columns: Vec<ColumnSchema>,
    /// The integer primary key is the handle.
    pub pk_is_handle: bool,
    /// Clustered non-integer primary key.
    pub is_common_handle: bool,
    /// The primary index's columns in key order (empty unless `is_common_handle`).
    pub common_handle_columns: Vec<CommonHandleColumn>,
    /// Partitions holding the rows; empty when not partitioned.
    pub partitions: Vec<PartitionSchema>,
    /// No clustered key: the handle is the implicit `_tidb_rowid`.
    pub has_implicit_row_id: bool,
    /// `Schema.crc64xor` (ADMIN CHECKSUM at backup time; all three zero = skipped).
    pub crc64xor: u64,
    /// `Schema.total_kvs`.
    pub total_kvs: u64,
    /// `Schema.total_bytes`.
    pub total_bytes: u64,
    /// Public indexes with keys of their own (not the clustered primary key): each row has one
    /// key in each, so `total_kvs / (1 + index_count)` estimates the rows.
    pub index_count: usize,
}

impl TableSchema {
    /// Physical ids holding row data: the partition ids when partitioned, else `[table_id]`.
    pub fn physical_ids(&self) -> Vec<i64> {
        if self.partitions.is_empty() {
            vec![self.table_id]
        } else {
            self.partitions.iter().map(|p| p.id).collect()
        }
    }

    /// The rows BR's checksum counts, when it recorded one: its keys, one per row and one per
    /// row in each index.
    pub fn estimated_rows(&self) -> Option<u64> {
        (self.total_kvs > 0).then(|| self.total_kvs / (1 + self.index_count as u64))
    }

    /// `db.table`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.db_name, self.table_name)
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing and validation
// ---------------------------------------------------------------------------------------------

/// Parses one `Schema` message.
///
/// Returns `Ok(None)` for entries that hold no row data: database-only entries (empty `table`),
/// views (`view` non-null) and sequences (`sequence` non-null).
///
/// # Errors
/// [`Error::Meta`] naming the database/table and what is wrong, with a JSON path such as
/// `cols[3] (price).type.Tp` where one applies.
pub fn parse_schema(schema: &Schema) -> Result<Option<TableSchema>> {
    let db: DbInfo = parse_json(&schema.db, "schema", "db (DBInfo)")?;
    let db_name_in_backup = db.db_name.original().to_string();
    if db_name_in_backup.is_empty() {
        return Err(Error::meta(
            format!("schema of database id {}", db.id),
            "db.db_name: the database name is empty",
        ));
    }
    if schema.table.is_empty() {
        return Ok(None);
    }
    let table: TableInfo = parse_json(
        &schema.table,
        &format!("schema of database {db_name_in_backup}"),
        "table (TableInfo)",
    )?;
    if table.view.is_some() || table.sequence.is_some() {
        return Ok(None);
    }
    validate(db_name_in_backup, &table, schema).map(Some)
}

/// Deserializes `bytes` as `T`. On failure, the error names the table (when the JSON has a
/// `name`) and the list element that does not fit (when one can be found).
fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], object: &str, what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        let value = serde_json::from_slice::<serde_json::Value>(bytes).ok();
        let detail = value.as_ref().and_then(locate_json_error);
        let message = match detail {
            Some(detail) => format!("{what}: {detail}"),
            None => format!("{what}: cannot parse {} bytes: {e}", bytes.len()),
        };
        let name = value.as_ref().and_then(|v| v.get("name")).and_then(name_of);
        match name {
            Some(name) => Error::meta(format!("{object}, table {name}"), message),
            None => Error::meta(object, message),
        }
    })
}

/// `O` (or `L`) of a CIStr-shaped JSON value.
fn name_of(value: &serde_json::Value) -> Option<&str> {
    ["O", "o", "L", "l"]
        .iter()
        .find_map(|k| value.get(*k).and_then(serde_json::Value::as_str))
        .filter(|s| !s.is_empty())
}

/// Re-parses the parts of a TableInfo one by one to name the element that does not fit, e.g.
/// `cols[3] (price).type: invalid type: string "x", expected u64`.
fn locate_json_error(value: &serde_json::Value) -> Option<String> {
    fn probe<T: serde::de::DeserializeOwned>(value: &serde_json::Value) -> Option<String> {
        T::deserialize(value).err().map(|e| e.to_string())
    }
    fn label(list: &str, i: usize, item: &serde_json::Value) -> String {
        match item.get("name").and_then(name_of) {
            Some(name) => format!("{list}[{i}] ({name})"),
            None => format!("{list}[{i}]"),
        }
    }

    let object = value.as_object()?;
    if let Some(serde_json::Value::Array(cols)) = object.get("cols") {
        for (i, col) in cols.iter().enumerate() {
            if let Some(ft) = col.get("type") {
                if let Some(e) = probe::<FieldTypeJson>(ft) {
                    return Some(format!("{}.type: {e}", label("cols", i, col)));
                }
            }
            if let Some(e) = probe::<ColumnInfo>(col) {
                return Some(format!("{}: {e}", label("cols", i, col)));
            }
        }
    }
    if let Some(serde_json::Value::Array(indexes)) = object.get("index_info") {
        for (i, index) in indexes.iter().enumerate() {
            if let Some(e) = probe::<IndexInfo>(index) {
                let name = index.get("idx_name").and_then(name_of).unwrap_or("?");
                return Some(format!("index_info[{i}] ({name}): {e}"));
            }
        }
    }
    if let Some(partition) = object.get("partition") {
        if let Some(serde_json::Value::Array(defs)) = partition.get("definitions") {
            for (i, def) in defs.iter().enumerate() {
                if let Some(e) = probe::<PartitionDefinition>(def) {
                    return Some(format!("partition.{}: {e}", label("definitions", i, def)));
                }
            }
        }
        if let Some(e) = probe::<Option<PartitionInfo>>(partition) {
            return Some(format!("partition: {e}"));
        }
    }
    for key in ["id", "name", "pk_is_handle", "is_common_handle"] {
        if let Some(field) = object.get(key) {
            let error = match key {
                "id" => probe::<Option<i64>>(field),
                "name" => probe::<Option<CIStr>>(field),
                _ => probe::<Option<bool>>(field),
            };
            if let Some(e) = error {
                return Some(format!("{key}: {e}"));
            }
        }
    }
    None
}

/// Builds the domain type from a parsed table that holds rows.
fn validate(db_name_in_backup: String, table: &TableInfo, schema: &Schema) -> Result<TableSchema> {
    let table_name = table.name.original().to_string();
    let object = format!("schema {db_name_in_backup}.{table_name}");
    let fail = |message: String| Error::meta(object.as_str(), message);

    if table_name.is_empty() {
        return Err(Error::meta(
            format!(
                "schema of database {db_name_in_backup}, table id {}",
                table.id
            ),
            "table.name: the table name is empty",
        ));
    }
    if table.id <= 0 {
        return Err(fail(format!("id: table id {} is not positive", table.id)));
    }
    if table.pk_is_handle && table.is_common_handle {
        return Err(fail(
            "pk_is_handle and is_common_handle are both set; a table has one kind of clustered key"
                .to_string(),
        ));
    }

    let mut columns = Vec::new();
    for (i, col) in table.cols.iter().enumerate() {
        if is_exported(col) {
            columns.push(column_schema(i, col, table.pk_is_handle).map_err(&fail)?);
        }
    }
    columns.sort_by_key(|c| c.offset);
    for pair in columns.windows(2) {
        if let [a, b] = pair {
            if a.offset == b.offset {
                return Err(fail(format!(
                    "columns {} and {} share offset {}",
                    a.name, b.name, a.offset
                )));
            }
        }
    }
    let mut ids: Vec<i64> = columns.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(fail(format!(
            "two exported columns share column id {}",
            pair[0]
        )));
    }

    if table.pk_is_handle {
        let handles: Vec<&ColumnSchema> = columns.iter().filter(|c| c.is_pk_handle).collect();
        match handles.as_slice() {
            [handle] if handle.field_type.tp.is_integer() => {}
            [handle] => {
                return Err(fail(format!(
                    "pk_is_handle is set but the primary-key column {} is {}, not an integer",
                    handle.name,
                    handle.field_type.tp.name()
                )))
            }
            [] => {
                return Err(fail(
                    "pk_is_handle is set but no exported column has the primary-key flag"
                        .to_string(),
                ))
            }
            several => {
                return Err(fail(format!(
                    "pk_is_handle is set but {} columns have the primary-key flag",
                    several.len()
                )))
            }
        }
    }

    let common_handle_columns = if table.is_common_handle {
        common_handle(table, &columns).map_err(&fail)?
    } else {
        Vec::new()
    };
    let partitions = partitions(table).map_err(&fail)?;

    let db_name = match db_name_in_backup.strip_prefix(TEMPORARY_DB_PREFIX) {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => db_name_in_backup.clone(),
    };
    Ok(TableSchema {
        db_name,
        db_name_in_backup,
        table_name,
        table_id: table.id,
        columns,
        pk_is_handle: table.pk_is_handle,
        is_common_handle: table.is_common_handle,
        common_handle_columns,
        partitions,
        has_implicit_row_id: !table.pk_is_handle && !table.is_common_handle,
        crc64xor: schema.crc64xor,
        total_kvs: schema.total_kvs,
        total_bytes: schema.total_bytes,
        index_count: table
            .index_info
            .iter()
            .filter(|index| index.state == STATE_PUBLIC)
            .filter(|index| !(index.is_primary && table.is_common_handle))
            .count(),
    })
}

/// Public, visible, and not a temporary column of an unfinished `MODIFY COLUMN`.
fn is_exported(col: &ColumnInfo) -> bool {
    col.state == STATE_PUBLIC
        && !col.hidden
        && !col.name.o.starts_with(CHANGING_COLUMN_PREFIX)
        && !col.name.o.starts_with(REMOVING_COLUMN_PREFIX)
}

/// Validates `cols[i]`; errors carry the JSON path.
fn column_schema(i: usize, col: &ColumnInfo, pk_is_handle: bool) -> Result<ColumnSchema, String> {
    let name = col.name.original().to_string();
    let path = format!("cols[{i}] ({name})");
    if name.is_empty() {
        return Err(format!("cols[{i}].name: the column name is empty"));
    }
    let offset = usize::try_from(col.offset)
        .map_err(|_| format!("{path}.offset: {} is negative", col.offset))?;
    let ft = &col.field_type;
    let tp = u8::try_from(ft.tp)
        .ok()
        .and_then(TypeCode::from_u8)
        .ok_or_else(|| format!("{path}.type.Tp: unknown type code {}", ft.tp))?;
    let flag = u32::try_from(ft.flag)
        .map_err(|_| format!("{path}.type.Flag: {} does not fit 32 bits", ft.flag))?;
    // Go's `int`: LONGBLOB/LONGTEXT/JSON use 4294967295, which saturates here.
    let flen = ft.flen.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
    let decimal = i32::try_from(ft.decimal)
        .map_err(|_| format!("{path}.type.Decimal: {} is out of range", ft.decimal))?;
    let origin_default_bit = match &col.origin_default_bit {
        None => None,
        Some(text) => Some(
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text)
                .map_err(|e| format!("{path}.origin_default_bit: {text:?} is not base64: {e}"))?,
        ),
    };
    let origin_default = match &col.origin_default {
        None | Some(serde_json::Value::Null) => None,
        Some(value) => Some(value.clone()),
    };
    let generated = if col.generated_expr_string.is_empty() {
        None
    } else {
        Some(GeneratedColumn {
            expr: col.generated_expr_string.clone(),
            stored: col.generated_stored,
        })
    };
    Ok(ColumnSchema {
        id: col.id,
        name,
        offset,
        nullable: flag & flag::NOT_NULL == 0,
        is_pk_handle: pk_is_handle && flag & flag::PRI_KEY != 0,
        field_type: FieldType {
            tp,
            flag,
            flen,
            decimal,
            binary_charset: ft.charset.eq_ignore_ascii_case("binary")
                || ft.collate.eq_ignore_ascii_case("binary"),
            elems: ft.elems.clone(),
        },
        origin_default,
        origin_default_bit,
        generated,
        version: col.version,
    })
}

/// The primary index's columns, mapped to exported columns.
fn common_handle(
    table: &TableInfo,
    columns: &[ColumnSchema],
) -> Result<Vec<CommonHandleColumn>, String> {
    let (i, primary) = table
        .index_info
        .iter()
        .enumerate()
        .find(|(_, index)| index.is_primary)
        .ok_or_else(|| {
            "is_common_handle is set but index_info has no primary index (is_primary)".to_string()
        })?;
    if primary.idx_cols.is_empty() {
        return Err(format!("index_info[{i}] (primary) has no columns"));
    }
    primary
        .idx_cols
        .iter()
        .enumerate()
        .map(|(j, idx_col)| {
            let path = format!(
                "index_info[{i}].idx_cols[{j}] ({})",
                idx_col.name.original()
            );
            // IndexColumn.offset indexes `cols` (TiDB reads `tblInfo.Columns[offset]`); check the
            // name there and fall back to a lookup by name.
            let wanted = idx_col.name.original().to_lowercase();
            let col = usize::try_from(idx_col.offset)
                .ok()
                .and_then(|offset| table.cols.get(offset))
                .filter(|col| col.name.original().to_lowercase() == wanted)
                .or_else(|| {
                    table
                        .cols
                        .iter()
                        .find(|col| col.name.original().to_lowercase() == wanted)
                })
                .ok_or_else(|| format!("{path}: no such column in cols"))?;
            let column_index = columns.iter().position(|c| c.id == col.id).ok_or_else(|| {
                format!("{path}: the primary-key column is not exported (not public, or hidden)")
            })?;
            let prefix_length = u32::try_from(idx_col.length).ok().filter(|&len| len > 0);
            Ok(CommonHandleColumn {
                column_index,
                prefix_length,
            })
        })
        .collect()
}

/// Partitions holding rows: `definitions`, when partitioning is enabled.
fn partitions(table: &TableInfo) -> Result<Vec<PartitionSchema>, String> {
    let Some(info) = &table.partition else {
        return Ok(Vec::new());
    };
    match info.enable {
        Some(false) => return Ok(Vec::new()),
        None if info.definitions.is_empty() => return Ok(Vec::new()),
        _ => {}
    }
    if info.definitions.is_empty() {
        return Err("partition.enable is true but partition.definitions is empty".to_string());
    }
    let mut seen = std::collections::HashSet::new();
    info.definitions
        .iter()
        .enumerate()
        .map(|(i, def)| {
            let name = def.name.original().to_string();
            if def.id <= 0 {
                return Err(format!(
                    "partition.definitions[{i}] ({name}).id: {} is not positive",
                    def.id
                ));
            }
            if def.id == table.id || !seen.insert(def.id) {
                return Err(format!(
                    "partition.definitions[{i}] ({name}).id: physical id {} is used twice",
                    def.id
                ));
            }
            Ok(PartitionSchema { id: def.id, name })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DB_TEST: &str = include_str!("../../tests/data/schema/db_test.json");
    const T1_INT: &str = include_str!("../../tests/data/schema/t1_int.json");
    const MANY_TYPES: &str = include_str!("../../tests/data/schema/clustered_many_types.json");
    const PARTITIONED: &str = include_str!("../../tests/data/schema/partitioned_unsigned_pk.json");
    const DB_SHOP: &str = r#"{"id":90,"db_name":{"O":"Shop DB","L":"shop db"},"charset":"utf8mb4","collate":"utf8mb4_bin","Deprecated":{},"state":5,"policy_ref_info":null}"#;

    fn schema(db: &str, table: &str) -> Schema {
        Schema {
            db: db.as_bytes().to_vec().into(),
            table: table.as_bytes().to_vec().into(),
            crc64xor: 0x8483_c0fa_3260_7d61,
            total_kvs: 12,
            total_bytes: 345,
            ..Schema::default()
        }
    }

    fn parse(db: &str, table: &str) -> TableSchema {
        parse_schema(&schema(db, table)).unwrap().unwrap()
    }

    fn parse_err(db: &str, table: &str) -> String {
        parse_schema(&schema(db, table)).unwrap_err().to_string()
    }

    fn column<'a>(table: &'a TableSchema, name: &str) -> &'a ColumnSchema {
        table.columns.iter().find(|c| c.name == name).unwrap()
    }

    /// A TableInfo with the given `cols` and extra top-level keys.
    fn table_json(cols: &str, extra: &str) -> String {
        format!(r#"{{"id":70,"name":{{"O":"t","L":"t"}},"cols":[{cols}]{extra}}}"#)
    }

    fn int_col(id: i64, name: &str, offset: i64, flag: u32) -> String {
        format!(
            r#"{{"id":{id},"name":{{"O":"{name}","L":"{name}"}},"offset":{offset},"type":{{"Tp":3,"Flag":{flag},"Flen":11,"Decimal":0,"Charset":"binary","Collate":"binary"}},"state":5}}"#
        )
    }

    #[test]
    fn spec_example_t1() {
        let t = parse(DB_TEST, T1_INT);
        assert_eq!(t.db_name, "test");
        assert_eq!(t.db_name_in_backup, "test");
        assert_eq!(t.table_name, "t1");
        assert_eq!(t.table_id, 110);
        assert_eq!(t.qualified_name(), "test.t1");
        assert_eq!(t.physical_ids(), vec![110]);
        assert!(!t.pk_is_handle);
        assert!(!t.is_common_handle);
        assert!(t.has_implicit_row_id);
        assert!(t.partitions.is_empty());
        assert!(t.common_handle_columns.is_empty());
        assert_eq!(t.crc64xor, 0x8483_c0fa_3260_7d61);
        assert_eq!(t.total_kvs, 12);
        assert_eq!(t.total_bytes, 345);
        assert_eq!(
            t.columns,
            vec![ColumnSchema {
                id: 1,
                name: "a".to_string(),
                offset: 0,
                field_type: FieldType {
                    tp: TypeCode::Long,
                    flag: 0,
                    flen: 11,
                    decimal: 0,
                    binary_charset: true,
                    elems: Vec::new(),
                },
                nullable: true,
                is_pk_handle: false,
                origin_default: None,
                origin_default_bit: None,
                generated: None,
                version: 2,
            }]
        );

        let db: DbInfo = serde_json::from_str(DB_TEST).unwrap();
        assert_eq!(db.id, 2);
        assert_eq!(db.db_name, CIStr::new("test"));
        assert_eq!(db.charset, "utf8mb4");
        assert_eq!(db.collate, "utf8mb4_bin");
        assert_eq!(db.state, 5);
    }

    #[test]
    fn clustered_table_with_many_types() {
        let t = parse(DB_SHOP, MANY_TYPES);
        assert_eq!(t.db_name, "Shop DB");
        assert_eq!(t.table_name, "order items ✓");
        assert_eq!(t.qualified_name(), "Shop DB.order items ✓");
        assert_eq!(t.table_id, 95);
        assert!(t.is_common_handle);
        assert!(!t.pk_is_handle);
        assert!(!t.has_implicit_row_id);
        assert_eq!(t.physical_ids(), vec![95]);

        // Hidden (`_V$_idx_lower_code_0`), write-only (`_Col$_qty_0`), delete-reorg (`old_note`)
        // and `_Tombstone$_` columns are left out; the rest follow `offset`.
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "id",
                "code",
                "名前",
                "unit price",
                "qty",
                "flags",
                "status",
                "tags",
                "created_at",
                "d",
                "t",
                "dt",
                "y",
                "doc",
                "payload",
                "notes",
                "f",
                "g",
                "tiny",
                "small",
                "med",
                "bin",
                "vb",
                "total",
                "total_v",
                "vec",
            ]
        );
        let offsets: Vec<usize> = t.columns.iter().map(|c| c.offset).collect();
        let mut expected_offsets: Vec<usize> = (0..25).collect();
        expected_offsets.push(28);
        assert_eq!(offsets, expected_offsets);

        // PRIMARY KEY (code(4), id) CLUSTERED.
        assert_eq!(
            t.common_handle_columns,
            vec![
                CommonHandleColumn {
                    column_index: 1,
                    prefix_length: Some(4)
                },
                CommonHandleColumn {
                    column_index: 0,
                    prefix_length: None
                },
            ]
        );

        let types: Vec<TypeCode> = t.columns.iter().map(|c| c.field_type.tp).collect();
        use TypeCode::*;
        assert_eq!(
            types,
            vec![
                LongLong,
                Varchar,
                Varchar,
                NewDecimal,
                Long,
                Bit,
                Enum,
                Set,
                Timestamp,
                Date,
                Duration,
                Datetime,
                Year,
                Json,
                Blob,
                Blob,
                Float,
                Double,
                Tiny,
                Short,
                Int24,
                String,
                Varchar,
                NewDecimal,
                NewDecimal,
                TiDBVectorFloat32,
            ]
        );

        let id = column(&t, "id");
        assert!(!id.nullable);
        assert!(!id.is_pk_handle, "a common handle is not an int handle");
        assert_eq!(id.field_type.flag, 4099);

        let code = column(&t, "code");
        assert!(!code.field_type.binary_charset, "utf8mb4_general_ci");
        assert!(!code.field_type.is_binary_string());

        let name = column(&t, "名前");
        assert!(name.nullable);
        assert_eq!(name.origin_default, Some(serde_json::json!("n/a")));

        let price = column(&t, "unit price");
        assert_eq!((price.field_type.flen, price.field_type.decimal), (10, 2));
        assert_eq!(price.origin_default, Some(serde_json::json!("0.00")));

        let qty = column(&t, "qty");
        assert!(qty.field_type.is_unsigned());
        assert_eq!(qty.origin_default, Some(serde_json::json!(7)));
        assert_eq!(qty.version, 2);

        let flags = column(&t, "flags");
        assert_eq!(flags.field_type.flen, 10);
        assert_eq!(flags.origin_default_bit, Some(vec![0x02, 0x01]));
        assert_eq!(flags.origin_default, Some(serde_json::json!("\u{2}\u{1}")));

        let status = column(&t, "status");
        assert_eq!(status.field_type.elems, vec!["new", "paid", "shipped"]);
        assert_eq!(status.field_type.tp.name(), "ENUM");
        let tags = column(&t, "tags");
        assert_eq!(tags.field_type.elems, vec!["a", "b", "ü"]);

        // JSON/LONGBLOB columns have Flen 4294967295 (Go int); clamped to i32.
        assert_eq!(column(&t, "doc").field_type.flen, i32::MAX);

        let created = column(&t, "created_at");
        assert_eq!(created.field_type.decimal, 3);
        assert_eq!(created.origin_default, None);
        assert_eq!(created.version, 1);

        assert_eq!(column(&t, "t").field_type.decimal, 6);
        let y = column(&t, "y");
        assert!(y.field_type.is_unsigned());
        assert!(!y.field_type.is_binary_string());

        assert!(column(&t, "payload").field_type.is_binary_string());
        assert!(!column(&t, "notes").field_type.is_binary_string());
        assert!(column(&t, "bin").field_type.is_binary_string());
        assert!(column(&t, "vb").field_type.is_binary_string());
        assert!(!column(&t, "doc").field_type.is_binary_string());

        assert_eq!(
            column(&t, "total").generated,
            Some(GeneratedColumn {
                expr: "`unit price` * `qty`".to_string(),
                stored: true
            })
        );
        assert_eq!(
            column(&t, "total_v").generated,
            Some(GeneratedColumn {
                expr: "`unit price` * `qty` * 2".to_string(),
                stored: false
            })
        );
        assert_eq!(column(&t, "vec").field_type.tp.name(), "VECTOR");
        assert_eq!(column(&t, "vec").offset, 28);
    }

    #[test]
    fn partitioned_table_with_unsigned_pk_handle() {
        let db = r#"{"id":3,"db_name":{"O":"__TiDB_BR_Temporary_sales","L":"__tidb_br_temporary_sales"},"charset":"utf8mb4","collate":"utf8mb4_bin","state":5}"#;
        let t = parse(db, PARTITIONED);
        assert_eq!(t.db_name, "sales");
        assert_eq!(t.db_name_in_backup, "__TiDB_BR_Temporary_sales");
        assert_eq!(t.table_name, "events");
        assert_eq!(t.table_id, 200);
        assert!(t.pk_is_handle);
        assert!(!t.has_implicit_row_id);
        assert_eq!(
            t.partitions,
            vec![
                PartitionSchema {
                    id: 201,
                    name: "p0".to_string()
                },
                PartitionSchema {
                    id: 202,
                    name: "p1".to_string()
                },
                PartitionSchema {
                    id: 205,
                    name: "pMax".to_string()
                },
            ]
        );
        assert_eq!(t.physical_ids(), vec![201, 202, 205]);

        let id = &t.columns[0];
        assert_eq!(id.name, "id");
        assert!(id.is_pk_handle);
        assert!(!id.nullable);
        assert_eq!(id.field_type.tp, TypeCode::LongLong);
        assert!(id.field_type.is_unsigned());
        assert!(t.columns[1..].iter().all(|c| !c.is_pk_handle));
        // `amount` was added later with DEFAULT NULL: origin_default null → None.
        let amount = column(&t, "amount");
        assert_eq!(amount.origin_default, None);
        assert!(amount.nullable);
    }

    #[test]
    fn disabled_or_implicit_partitioning() {
        let def = r#"{"id":301,"name":{"O":"p0","L":"p0"},"less_than":["10"]}"#;
        // `enable: false`: TiDB stores the rows under the logical id.
        let off = table_json(
            &int_col(1, "a", 0, 0),
            &format!(
                r#","partition":{{"type":1,"expr":"`a`","enable":false,"definitions":[{def}]}}"#
            ),
        );
        let t = parse(DB_TEST, &off);
        assert!(t.partitions.is_empty());
        assert_eq!(t.physical_ids(), vec![70]);

        // No `enable` key at all (hand-written JSON): the definitions are used.
        let implicit = table_json(
            &int_col(1, "a", 0, 0),
            &format!(r#","partition":{{"type":1,"definitions":[{def}]}}"#),
        );
        assert_eq!(parse(DB_TEST, &implicit).physical_ids(), vec![301]);

        let empty = table_json(
            &int_col(1, "a", 0, 0),
            r#","partition":{"type":2,"enable":true,"definitions":null}"#,
        );
        assert_eq!(
            parse_err(DB_TEST, &empty),
            "schema test.t: partition.enable is true but partition.definitions is empty"
        );

        let dup = table_json(
            &int_col(1, "a", 0, 0),
            &format!(r#","partition":{{"enable":true,"definitions":[{def},{def}]}}"#),
        );
        assert_eq!(
            parse_err(DB_TEST, &dup),
            "schema test.t: partition.definitions[1] (p0).id: physical id 301 is used twice"
        );
    }

    #[test]
    fn views_sequences_and_database_entries_hold_no_rows() {
        let view = r#"{"id":120,"name":{"O":"v1","L":"v1"},"cols":[{"id":1,"name":{"O":"a","L":"a"},"offset":0,"type":{"Tp":3,"Flag":0,"Flen":11,"Decimal":0,"Charset":"binary","Collate":"binary","Elems":null},"state":5}],"state":5,"view":{"view_algorithm":0,"view_definer":{"Username":"root","Hostname":"%","CurrentUser":false,"AuthUsername":"","AuthHostname":""},"view_security":0,"view_select":"SELECT `a` FROM `test`.`t1`","view_checkoption":1,"view_cols":null},"sequence":null}"#;
        assert_eq!(parse_schema(&schema(DB_TEST, view)).unwrap(), None);

        let sequence = r#"{"id":121,"name":{"O":"seq","L":"seq"},"cols":null,"state":5,"view":null,"sequence":{"sequence_start":1,"sequence_cache":true,"sequence_cycle":false,"sequence_min_value":1,"sequence_max_value":9223372036854775806,"sequence_increment":1,"sequence_cache_value":1000,"sequence_comment":""}}"#;
        assert_eq!(parse_schema(&schema(DB_TEST, sequence)).unwrap(), None);

        assert_eq!(parse_schema(&schema(DB_TEST, "")).unwrap(), None);
    }

    #[test]
    fn tolerant_json() {
        // Lower-case FieldType keys (Go matches case-insensitively), nulls for lists and objects,
        // missing optional keys, unknown keys.
        let table = r#"{
            "id": 7, "name": {"o": "Lower", "l": "lower"}, "unknown_future_key": [1, 2],
            "cols": [
                {"id": 2, "name": {"O": "b", "L": "b"}, "offset": 1, "state": 5,
                 "type": {"tp": 15, "flag": 1, "flen": 20, "decimal": 0, "charset": "utf8mb4",
                          "collate": "utf8mb4_bin", "elems": null}},
                {"id": 1, "name": {"O": "a", "L": "a"}, "offset": 0, "state": 5, "hidden": null,
                 "comment": null, "version": null, "origin_default": null,
                 "type": {"Tp": 8, "Flag": 3, "Flen": 20}}
            ],
            "index_info": null, "constraint_info": null, "partition": null, "view": null,
            "sequence": null, "pk_is_handle": true, "Lock": null, "tiflash_replica": null
        }"#;
        let t = parse(DB_TEST, table);
        assert_eq!(t.table_name, "Lower");
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["a", "b"]);
        assert!(t.columns[0].is_pk_handle);
        assert_eq!(t.columns[1].field_type.tp, TypeCode::Varchar);
        assert!(!t.columns[1].nullable);
        assert!(!t.columns[0].field_type.binary_charset);
    }

    #[test]
    fn unknown_type_code_names_table_and_column() {
        let table = table_json(
            &format!(
                "{},{}",
                int_col(1, "a", 0, 0),
                r#"{"id":2,"name":{"O":"weird","L":"weird"},"offset":1,"type":{"Tp":77},"state":5}"#
            ),
            "",
        );
        assert_eq!(
            parse_err(DB_TEST, &table),
            "schema test.t: cols[1] (weird).type.Tp: unknown type code 77"
        );
    }

    #[test]
    fn json_type_errors_carry_a_path() {
        let table = table_json(
            &format!(
                "{},{}",
                int_col(1, "a", 0, 0),
                r#"{"id":2,"name":{"O":"price","L":"price"},"offset":1,"type":{"Tp":"decimal"},"state":5}"#
            ),
            "",
        );
        let err = parse_err(DB_TEST, &table);
        assert!(
            err.starts_with(
                "schema of database test, table t: table (TableInfo): cols[1] (price).type: invalid type: string \"decimal\""
            ),
            "{err}"
        );

        let err = parse_err(DB_TEST, "{\"id\": 5, \"name\": ");
        assert!(
            err.starts_with("schema of database test: table (TableInfo): cannot parse 18 bytes: "),
            "{err}"
        );

        let err = parse_schema(&schema("\"text\"", T1_INT))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("schema: db (DBInfo): cannot parse 6 bytes: invalid type: string"),
            "{err}"
        );
    }

    #[test]
    fn pk_handle_problems() {
        let none = table_json(&int_col(1, "a", 0, 1), r#","pk_is_handle":true"#);
        assert_eq!(
            parse_err(DB_TEST, &none),
            "schema test.t: pk_is_handle is set but no exported column has the primary-key flag"
        );
        let varchar_pk = table_json(
            r#"{"id":1,"name":{"O":"k","L":"k"},"offset":0,"type":{"Tp":15,"Flag":3,"Flen":10,"Charset":"utf8mb4","Collate":"utf8mb4_bin"},"state":5}"#,
            r#","pk_is_handle":true"#,
        );
        assert_eq!(
            parse_err(DB_TEST, &varchar_pk),
            "schema test.t: pk_is_handle is set but the primary-key column k is VARCHAR, not an integer"
        );
        let both = table_json(
            &int_col(1, "a", 0, 3),
            r#","pk_is_handle":true,"is_common_handle":true"#,
        );
        assert!(parse_err(DB_TEST, &both).contains("both set"));
    }

    #[test]
    fn common_handle_problems() {
        let no_primary = table_json(
            &int_col(1, "a", 0, 3),
            r#","is_common_handle":true,"index_info":[{"id":1,"idx_name":{"O":"k","L":"k"},"idx_cols":[{"name":{"O":"a","L":"a"},"offset":0,"length":-1}],"is_unique":true}]"#,
        );
        assert_eq!(
            parse_err(DB_TEST, &no_primary),
            "schema test.t: is_common_handle is set but index_info has no primary index (is_primary)"
        );
        let hidden = table_json(
            &format!(
                "{},{}",
                int_col(1, "a", 0, 0),
                r#"{"id":2,"name":{"O":"h","L":"h"},"offset":1,"type":{"Tp":3},"state":5,"hidden":true}"#
            ),
            r#","is_common_handle":true,"index_info":[{"id":1,"idx_name":{"O":"PRIMARY","L":"primary"},"idx_cols":[{"name":{"O":"h","L":"h"},"offset":1,"length":-1}],"is_primary":true}]"#,
        );
        assert_eq!(
            parse_err(DB_TEST, &hidden),
            "schema test.t: index_info[0].idx_cols[0] (h): the primary-key column is not exported (not public, or hidden)"
        );
        // A stale offset is corrected by the name.
        let stale = table_json(
            &format!("{},{}", int_col(1, "a", 0, 0), int_col(2, "b", 1, 3)),
            r#","is_common_handle":true,"index_info":[{"id":1,"idx_name":{"O":"PRIMARY","L":"primary"},"idx_cols":[{"name":{"O":"B","L":"b"},"offset":0,"length":-1}],"is_primary":true}]"#,
        );
        assert_eq!(
            parse(DB_TEST, &stale).common_handle_columns,
            vec![CommonHandleColumn {
                column_index: 1,
                prefix_length: None
            }]
        );
    }

    #[test]
    fn duplicate_offsets_and_ids_are_rejected() {
        let offsets = table_json(
            &format!("{},{}", int_col(1, "a", 0, 0), int_col(2, "b", 0, 0)),
            "",
        );
        assert_eq!(
            parse_err(DB_TEST, &offsets),
            "schema test.t: columns a and b share offset 0"
        );
        let ids = table_json(
            &format!("{},{}", int_col(1, "a", 0, 0), int_col(1, "b", 1, 0)),
            "",
        );
        assert_eq!(
            parse_err(DB_TEST, &ids),
            "schema test.t: two exported columns share column id 1"
        );
    }

    #[test]
    fn bad_origin_default_bit() {
        let table = table_json(
            r#"{"id":1,"name":{"O":"b","L":"b"},"offset":0,"type":{"Tp":16,"Flen":8},"state":5,"origin_default_bit":"!!"}"#,
            "",
        );
        let err = parse_err(DB_TEST, &table);
        assert!(
            err.starts_with("schema test.t: cols[0] (b).origin_default_bit: \"!!\" is not base64"),
            "{err}"
        );
    }

    #[test]
    fn empty_names_and_ids() {
        let err = parse_schema(&schema(r#"{"id":4,"db_name":null}"#, T1_INT))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "schema of database id 4: db.db_name: the database name is empty"
        );
        let bad_id = r#"{"id":0,"name":{"O":"t","L":"t"}}"#;
        assert_eq!(
            parse_err(DB_TEST, bad_id),
            "schema test.t: id: table id 0 is not positive"
        );
        // Only `__TiDB_BR_Temporary_` itself: nothing to strip to.
        let db = r#"{"id":4,"db_name":{"O":"__TiDB_BR_Temporary_","L":"__tidb_br_temporary_"}}"#;
        assert_eq!(parse(db, T1_INT).db_name, "__TiDB_BR_Temporary_");
    }

    #[test]
    fn type_codes_round_trip() {
        let mut known = 0;
        for code in 0..=u8::MAX {
            if let Some(tp) = TypeCode::from_u8(code) {
                assert_eq!(tp.code(), code);
                assert!(!tp.name().is_empty());
                known += 1;
            }
        }
        assert_eq!(known, 29);
        assert_eq!(TypeCode::from_u8(17), None);
        assert_eq!(TypeCode::from_u8(0xf6), Some(TypeCode::NewDecimal));
        assert_eq!(TypeCode::NewDecimal.name(), "DECIMAL");
        assert_eq!(TypeCode::Duration.name(), "TIME");
    }

    #[test]
    fn models_serialize_with_go_key_names() {
        let table: TableInfo = serde_json::from_str(T1_INT).unwrap();
        let text = serde_json::to_string(&table).unwrap();
        assert!(text.contains(r#""name":{"O":"t1","L":"t1"}"#), "{text}");
        assert!(text.contains(r#""type":{"Tp":3,"Flag":0,"Flen":11,"Decimal":0,"Charset":"binary","Collate":"binary","Elems":[]"#), "{text}");
        let again: TableInfo = serde_json::from_str(&text).unwrap();
        assert_eq!(again, table);
    }
}
