//! Test tables: schema JSON as TiDB writes it, rows as typed cells, and the values an export must
//! produce for them.

use serde_json::{json, Value};

use crate::codec::datum::{encode_key_datum, Datum};
use crate::codec::decimal::Decimal;
use crate::codec::enums::{encode_vector_f32, write_set_names};
use crate::codec::json::encode_json;
use crate::codec::number::{encode_cmp_f64, encode_v2_int, encode_v2_uint};
use crate::codec::row_v1::encode_row_v1;
use crate::codec::row_v2::RowEncoderV2;
use crate::codec::time::PackedTime;
use crate::proto::backup::Schema;
use crate::{Error, Result};

/// The id of the unique index whose keys the test kit writes ([`super::BackupWriter`]'s
/// `with_index_keys`); the clustered primary key, when there is one, has id 1.
pub const SECONDARY_INDEX_ID: i64 = 2;

/// TiDB type codes (`mysql.Type*`, `docs/formats.md` §9).
pub mod tp {
    /// TINYINT
    pub const TINY: u8 = 1;
    /// SMALLINT
    pub const SHORT: u8 = 2;
    /// INT
    pub const LONG: u8 = 3;
    /// FLOAT
    pub const FLOAT: u8 = 4;
    /// DOUBLE
    pub const DOUBLE: u8 = 5;
    /// TIMESTAMP
    pub const TIMESTAMP: u8 = 7;
    /// BIGINT
    pub const LONGLONG: u8 = 8;
    /// MEDIUMINT
    pub const INT24: u8 = 9;
    /// DATE
    pub const DATE: u8 = 10;
    /// TIME
    pub const DURATION: u8 = 11;
    /// DATETIME
    pub const DATETIME: u8 = 12;
    /// YEAR
    pub const YEAR: u8 = 13;
    /// VARCHAR
    pub const VARCHAR: u8 = 15;
    /// BIT
    pub const BIT: u8 = 16;
    /// VECTOR(FLOAT32)
    pub const VECTOR: u8 = 0xe1;
    /// JSON
    pub const JSON: u8 = 0xf5;
    /// DECIMAL
    pub const NEWDECIMAL: u8 = 0xf6;
    /// ENUM
    pub const ENUM: u8 = 0xf7;
    /// SET
    pub const SET: u8 = 0xf8;
    /// BLOB / TEXT
    pub const BLOB: u8 = 0xfc;
    /// VARCHAR / VARBINARY as the parser writes them
    pub const VAR_STRING: u8 = 0xfd;
    /// CHAR / BINARY
    pub const STRING: u8 = 0xfe;
}

const NOT_NULL_FLAG: u32 = 1;
const PRI_KEY_FLAG: u32 = 1 << 1;
const UNSIGNED_FLAG: u32 = 1 << 5;
const BINARY_FLAG: u32 = 1 << 7;

/// One column of a test table.
#[derive(Debug, Clone)]
pub struct TestColumn {
    /// Column id (as used in row values).
    pub id: i64,
    /// Column name.
    pub name: String,
    /// TiDB type code.
    pub tp: u8,
    /// FieldType flags.
    pub flag: u32,
    /// Display length (precision for DECIMAL, bits for BIT).
    pub flen: i32,
    /// Scale for DECIMAL, fsp for time types.
    pub decimal: i32,
    /// Character set.
    pub charset: String,
    /// Collation.
    pub collate: String,
    /// ENUM/SET elements.
    pub elems: Vec<String>,
    /// `origin_default` (JSON null for none).
    pub origin_default: Value,
    /// Hidden (expression index helper) column.
    pub hidden: bool,
    /// Schema state (5 = public).
    pub state: u8,
    /// Generated column: expression and whether it is stored.
    pub generated: Option<(String, bool)>,
}

impl TestColumn {
    /// A nullable column of type `tp` with binary charset (right for numbers and times).
    pub fn new(id: i64, name: &str, tp: u8) -> Self {
        let flen = match tp {
            tp::TINY => 4,
            tp::SHORT => 6,
            tp::INT24 => 9,
            tp::LONG => 11,
            tp::LONGLONG => 20,
            tp::FLOAT => 12,
            tp::DOUBLE => 22,
            tp::YEAR => 4,
            tp::DATE => 10,
            tp::DATETIME | tp::TIMESTAMP => 19,
            tp::DURATION => 10,
            tp::NEWDECIMAL => 10,
            tp::BIT => 1,
            tp::JSON | tp::VECTOR => -1,
            _ => 255,
        };
        TestColumn {
            id,
            name: name.to_string(),
            tp,
            flag: 0,
            flen,
            decimal: 0,
            charset: "binary".into(),
            collate: "binary".into(),
            elems: Vec::new(),
            origin_default: Value::Null,
            hidden: false,
            state: 5,
            generated: None,
        }
    }

    /// A character column in utf8mb4.
    pub fn text(id: i64, name: &str, tp: u8) -> Self {
        TestColumn {
            charset: "utf8mb4".into(),
            collate: "utf8mb4_bin".into(),
            ..TestColumn::new(id, name, tp)
        }
    }

    /// A binary string column.
    pub fn binary(id: i64, name: &str, tp: u8) -> Self {
        TestColumn {
            flag: BINARY_FLAG,
            ..TestColumn::new(id, name, tp)
        }
    }

    /// DECIMAL(precision, scale).
    pub fn decimal(id: i64, name: &str, precision: i32, scale: i32) -> Self {
        TestColumn {
            flen: precision,
            decimal: scale,
            ..TestColumn::new(id, name, tp::NEWDECIMAL)
        }
    }

    /// A DATE, DATETIME(fsp), TIMESTAMP(fsp) or TIME(fsp) column.
    pub fn time(id: i64, name: &str, tp: u8, fsp: i32) -> Self {
        TestColumn {
            decimal: fsp,
            ..TestColumn::new(id, name, tp)
        }
    }

    /// ENUM or SET with these elements.
    pub fn elements(id: i64, name: &str, tp: u8, elems: &[&str]) -> Self {
        TestColumn {
            elems: elems.iter().map(|e| e.to_string()).collect(),
            ..TestColumn::text(id, name, tp)
        }
    }

    /// BIT(bits).
    pub fn bit(id: i64, name: &str, bits: i32) -> Self {
        TestColumn {
            flen: bits,
            flag: UNSIGNED_FLAG,
            ..TestColumn::new(id, name, tp::BIT)
        }
    }

    /// Marks the column UNSIGNED.
    pub fn unsigned(mut self) -> Self {
        self.flag |= UNSIGNED_FLAG;
        self
    }

    /// Marks the column NOT NULL.
    pub fn not_null(mut self) -> Self {
        self.flag |= NOT_NULL_FLAG;
        self
    }

    /// Marks the column as (part of) the primary key.
    pub fn primary_key(mut self) -> Self {
        self.flag |= NOT_NULL_FLAG | PRI_KEY_FLAG;
        self
    }

    /// Sets `origin_default` (what rows written before `ADD COLUMN` hold).
    pub fn origin_default(mut self, value: Value) -> Self {
        self.origin_default = value;
        self
    }

    /// Makes the column a generated column.
    pub fn generated(mut self, expr: &str, stored: bool) -> Self {
        self.generated = Some((expr.to_string(), stored));
        self
    }

    fn is_unsigned(&self) -> bool {
        self.flag & UNSIGNED_FLAG != 0
    }

    fn is_pk(&self) -> bool {
        self.flag & PRI_KEY_FLAG != 0
    }

    fn is_exported(&self) -> bool {
        self.state == 5 && !self.hidden && self.generated.as_ref().is_none_or(|(_, s)| *s)
    }

    fn is_text(&self) -> bool {
        self.charset != "binary" && self.flag & BINARY_FLAG == 0
    }

    fn json(&self, offset: usize) -> Value {
        let (expr, stored) = self.generated.clone().unwrap_or_default();
        json!({
            "id": self.id,
            "name": {"O": self.name, "L": self.name.to_lowercase()},
            "offset": offset,
            "origin_default": self.origin_default,
            "origin_default_bit": null,
            "default": self.origin_default,
            "default_bit": null,
            "default_is_expr": false,
            "generated_expr_string": expr,
            "generated_stored": stored,
            "dependences": null,
            "type": {
                "Tp": self.tp, "Flag": self.flag, "Flen": self.flen, "Decimal": self.decimal,
                "Charset": self.charset, "Collate": self.collate,
                "Elems": if self.elems.is_empty() { Value::Null } else { json!(self.elems) },
                "ElemsIsBinaryLit": null, "Array": false
            },
            "state": self.state,
            "comment": "",
            "hidden": self.hidden,
            "change_state_info": null,
            "version": 2
        })
    }

    /// The Arrow type name pyarrow prints for this column.
    fn arrow_type(&self) -> String {
        match self.tp {
            tp::TINY | tp::SHORT | tp::INT24 | tp::YEAR => "int32".into(),
            tp::LONG if self.is_unsigned() => "int64".into(),
            tp::LONG => "int32".into(),
            tp::LONGLONG if self.is_unsigned() => "decimal128(20, 0)".into(),
            tp::LONGLONG => "int64".into(),
            tp::FLOAT => "float".into(),
            tp::DOUBLE => "double".into(),
            tp::NEWDECIMAL if self.flen <= 38 => {
                format!("decimal128({}, {})", self.flen, self.decimal)
            }
            tp::NEWDECIMAL => "string".into(),
            tp::DATE => "date32[day]".into(),
            tp::DATETIME => "timestamp[us]".into(),
            tp::TIMESTAMP => "timestamp[us, tz=UTC]".into(),
            tp::DURATION => "duration[us]".into(),
            tp::ENUM | tp::SET => "string".into(),
            tp::BIT if self.flen >= 64 => "decimal128(20, 0)".into(),
            tp::BIT => "int64".into(),
            tp::JSON => "extension<arrow.json>".into(),
            tp::VECTOR => "list<element: float not null>".into(),
            _ if self.is_text() => "string".into(),
            _ => "binary".into(),
        }
    }

    fn is_time(&self) -> bool {
        matches!(self.tp, tp::DATE | tp::DATETIME | tp::TIMESTAMP)
    }
}

/// A typed value of a test row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// SQL NULL (in the row's null list).
    Null,
    /// A signed integer (also YEAR).
    Int(i64),
    /// An unsigned integer.
    Uint(u64),
    /// FLOAT or DOUBLE.
    Float(f64),
    /// Character data.
    Str(String),
    /// Binary data.
    Bytes(Vec<u8>),
    /// DECIMAL, as exact text with the column's scale (`"-12.50"`).
    Decimal(String),
    /// DATE / DATETIME / TIMESTAMP as stored (TIMESTAMP in UTC).
    Time(PackedTime),
    /// TIME in nanoseconds.
    Duration(i64),
    /// ENUM: 1-based element index (0 = '').
    Enum(u64),
    /// SET: member bitmask.
    Set(u64),
    /// BIT value.
    Bit(u64),
    /// JSON, with the text TiDB prints for it.
    Json(Value, String),
    /// VECTOR(FLOAT32).
    Vector(Vec<f32>),
}

impl Cell {
    /// A DATE/DATETIME/TIMESTAMP value.
    pub fn time(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        micro: u32,
    ) -> Cell {
        Cell::Time(PackedTime::new(
            year, month, day, hour, minute, second, micro,
        ))
    }

    fn decimal_value(s: &str) -> Result<Decimal> {
        s.parse()
            .map_err(|e| Error::Usage(format!("testkit: decimal {s:?}: {e}")))
    }

    /// The value as a datum (row format v1 uses the value flavour of these).
    fn datum(&self, column: &TestColumn) -> Result<Datum<'_>> {
        Ok(match self {
            Cell::Null => Datum::Null,
            Cell::Int(v) => Datum::Int(*v),
            Cell::Uint(v) | Cell::Enum(v) | Cell::Set(v) | Cell::Bit(v) => Datum::Uint(*v),
            Cell::Float(v) if column.tp == tp::FLOAT => Datum::Float(f64::from(*v as f32)),
            Cell::Float(v) => Datum::Float(*v),
            Cell::Str(s) => Datum::Bytes(s.as_bytes().into()),
            Cell::Bytes(b) => Datum::Bytes(b.as_slice().into()),
            Cell::Decimal(s) => Datum::Decimal(Self::decimal_value(s)?),
            Cell::Time(t) => Datum::Uint(t.to_packed()),
            Cell::Duration(ns) => Datum::Int(*ns),
            Cell::Json(..) | Cell::Vector(_) => {
                return Err(Error::Usage(
                    "testkit: JSON/VECTOR in v1 rows: use payload()".into(),
                ))
            }
        })
    }

    /// The row-format-v2 payload (`None` for NULL).
    fn payload(&self, column: &TestColumn) -> Result<Option<Vec<u8>>> {
        let mut out = Vec::new();
        match self {
            Cell::Null => return Ok(None),
            Cell::Int(v) => encode_v2_int(*v, &mut out),
            Cell::Duration(ns) => encode_v2_int(*ns, &mut out),
            Cell::Uint(v) | Cell::Enum(v) | Cell::Set(v) | Cell::Bit(v) => {
                encode_v2_uint(*v, &mut out)
            }
            Cell::Time(t) => encode_v2_uint(t.to_packed(), &mut out),
            Cell::Float(v) => {
                // FLOAT is stored widened from f32.
                let v = if column.tp == tp::FLOAT {
                    f64::from(*v as f32)
                } else {
                    *v
                };
                out.extend_from_slice(&encode_cmp_f64(v));
            }
            Cell::Str(s) => out.extend_from_slice(s.as_bytes()),
            Cell::Bytes(b) => out.extend_from_slice(b),
            Cell::Decimal(s) => Self::decimal_value(s)?
                .encode(column.flen as u8, column.decimal as u8, &mut out)
                .map_err(|e| Error::Usage(format!("testkit: {e}")))?,
            Cell::Json(value, _) => {
                let (code, body) =
                    encode_json(value).map_err(|e| Error::Usage(format!("testkit: {e}")))?;
                out.push(code);
                out.extend_from_slice(&body);
            }
            Cell::Vector(v) => {
                encode_vector_f32(v, &mut out).map_err(|e| Error::Usage(format!("testkit: {e}")))?
            }
        }
        Ok(Some(out))
    }

    /// The value pyarrow reads back, normalised as `tests/python/check_parquet.py` does.
    fn expected(&self, column: &TestColumn) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Int(v) => json!(v),
            Cell::Uint(v) if column.tp == tp::LONGLONG => json!(v.to_string()),
            Cell::Uint(v) => json!(v),
            Cell::Float(v) if column.tp == tp::FLOAT => json!(f64::from(*v as f32)),
            Cell::Float(v) => json!(v),
            Cell::Str(s) => json!(s),
            Cell::Bytes(b) => json!(hex::encode(b)),
            Cell::Decimal(s) => json!(s),
            Cell::Time(t) => expected_time(t, column.tp),
            Cell::Duration(ns) => json!(ns / 1000),
            Cell::Enum(0) => json!(""),
            Cell::Enum(i) => json!(column.elems.get(*i as usize - 1)),
            Cell::Set(mask) => {
                let mut text = String::new();
                write_set_names(&column.elems, *mask, &mut text).unwrap_or_default();
                json!(text)
            }
            Cell::Bit(v) if column.flen >= 64 => json!(v.to_string()),
            Cell::Bit(v) => json!(v),
            Cell::Json(_, text) => json!(text),
            Cell::Vector(v) => json!(v.iter().map(|x| f64::from(*x)).collect::<Vec<_>>()),
        }
    }

    fn from_default(value: &Value, column: &TestColumn) -> Cell {
        let text = match value {
            Value::Null => return Cell::Null,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match column.tp {
            tp::TINY | tp::SHORT | tp::INT24 | tp::LONG | tp::LONGLONG | tp::YEAR
                if column.is_unsigned() =>
            {
                Cell::Uint(text.parse().unwrap_or_default())
            }
            tp::TINY | tp::SHORT | tp::INT24 | tp::LONG | tp::LONGLONG | tp::YEAR => {
                Cell::Int(text.parse().unwrap_or_default())
            }
            tp::FLOAT | tp::DOUBLE => Cell::Float(text.parse().unwrap_or_default()),
            tp::NEWDECIMAL => Cell::Decimal(text),
            tp::DATE | tp::DATETIME | tp::TIMESTAMP => {
                let (date, time) = text.split_once(' ').unwrap_or((&text, "00:00:00"));
                let d: Vec<u32> = date.split('-').map(|p| p.parse().unwrap_or(0)).collect();
                let t: Vec<u32> = time.split(':').map(|p| p.parse().unwrap_or(0)).collect();
                let at = |v: &Vec<u32>, i: usize| v.get(i).copied().unwrap_or(0);
                Cell::time(
                    at(&d, 0) as u16,
                    at(&d, 1) as u8,
                    at(&d, 2) as u8,
                    at(&t, 0) as u8,
                    at(&t, 1) as u8,
                    at(&t, 2) as u8,
                    0,
                )
            }
            tp::DURATION => {
                let negative = text.starts_with('-');
                let t: Vec<i64> = text
                    .trim_start_matches('-')
                    .split(':')
                    .map(|p| p.parse().unwrap_or(0))
                    .collect();
                let nanos = (t.first().unwrap_or(&0) * 3600
                    + t.get(1).unwrap_or(&0) * 60
                    + t.get(2).unwrap_or(&0))
                    * 1_000_000_000;
                Cell::Duration(if negative { -nanos } else { nanos })
            }
            tp::ENUM => Cell::Enum(
                column
                    .elems
                    .iter()
                    .position(|e| *e == text)
                    .map_or(0, |i| i as u64 + 1),
            ),
            tp::SET => Cell::Set(
                text.split(',')
                    .filter_map(|name| column.elems.iter().position(|e| e == name))
                    .fold(0, |mask, i| mask | 1 << i),
            ),
            _ if column.is_text() => Cell::Str(text),
            _ => Cell::Bytes(text.into_bytes()),
        }
    }
}

/// `datetime.isoformat()` of what pyarrow returns, or null for dates without a calendar value.
fn expected_time(t: &PackedTime, tp_code: u8) -> Value {
    if t.days_since_unix_epoch().is_none() {
        return Value::Null;
    }
    let date = format!("{:04}-{:02}-{:02}", t.year, t.month, t.day);
    if tp_code == tp::DATE {
        return json!(date);
    }
    let mut text = format!("{date}T{:02}:{:02}:{:02}", t.hour, t.minute, t.second);
    if t.micro > 0 {
        text.push_str(&format!(".{:06}", t.micro));
    }
    if tp_code == tp::TIMESTAMP {
        text.push_str("+00:00");
    }
    json!(text)
}

/// One row: its handle and the cells stored in its value (columns not listed are absent).
#[derive(Debug, Clone, Default)]
pub struct TestRow {
    /// The physical table id (a partition id) when not the table's own id.
    pub physical_id: Option<i64>,
    /// The integer handle (ignored for clustered tables, whose handle comes from the PK cells).
    pub handle: i64,
    /// `(column id, cell)` pairs.
    pub cells: Vec<(i64, Cell)>,
    /// Encode the value in row format v1.
    pub v1: bool,
    /// A `Delete` record (incremental backups).
    pub deleted: bool,
}

impl TestRow {
    /// A row of the table's own physical id.
    pub fn new(handle: i64, cells: Vec<(i64, Cell)>) -> Self {
        TestRow {
            physical_id: None,
            handle,
            cells,
            v1: false,
            deleted: false,
        }
    }
}

/// A table with its rows.
#[derive(Debug, Clone)]
pub struct TestTable {
    /// Database name.
    pub db: String,
    /// Database id.
    pub db_id: i64,
    /// Table name.
    pub name: String,
    /// Logical table id.
    pub id: i64,
    /// Columns in offset order.
    pub columns: Vec<TestColumn>,
    /// Whether the integer primary key is the row handle.
    pub pk_is_handle: bool,
    /// Column ids of a clustered (common-handle) primary key, in key order.
    pub clustered_pk: Vec<i64>,
    /// Partitions `(id, name)`; empty when not partitioned.
    pub partitions: Vec<(i64, String)>,
    /// The rows.
    pub rows: Vec<TestRow>,
}

impl TestTable {
    /// An empty, unpartitioned table; an integer primary-key column makes it `pk_is_handle`.
    pub fn new(db: &str, name: &str, id: i64, columns: Vec<TestColumn>) -> Self {
        let pk_is_handle = columns.iter().any(TestColumn::is_pk);
        TestTable {
            db: db.to_string(),
            db_id: 2,
            name: name.to_string(),
            id,
            columns,
            pk_is_handle,
            clustered_pk: Vec::new(),
            partitions: Vec::new(),
            rows: Vec::new(),
        }
    }

    /// The table with the same schema and no rows: what an incremental backup starts from.
    pub fn without_rows(&self) -> TestTable {
        TestTable {
            rows: Vec::new(),
            ..self.clone()
        }
    }

    /// Makes the table clustered on these columns (a common-handle primary key).
    pub fn clustered(mut self, pk: &[i64]) -> Self {
        self.pk_is_handle = false;
        self.clustered_pk = pk.to_vec();
        for column in &mut self.columns {
            if pk.contains(&column.id) {
                column.flag |= NOT_NULL_FLAG | PRI_KEY_FLAG;
            }
        }
        self
    }

    fn column(&self, id: i64) -> Result<&TestColumn> {
        self.columns.iter().find(|c| c.id == id).ok_or_else(|| {
            Error::Usage(format!(
                "testkit: table {} has no column id {id}",
                self.name
            ))
        })
    }

    fn cell(row: &TestRow, id: i64) -> Option<&Cell> {
        row.cells
            .iter()
            .find(|(c, _)| *c == id)
            .map(|(_, cell)| cell)
    }

    /// The key handle bytes of a clustered row: the PK cells as key datums, padded to 9 bytes
    /// as TiDB does (so that the record key is never 19 bytes, the length of an int handle key).
    pub fn common_handle(&self, row: &TestRow) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for id in &self.clustered_pk {
            let column = self.column(*id)?;
            let cell = Self::cell(row, *id).unwrap_or(&Cell::Null);
            let datum = match (cell, column.is_unsigned()) {
                (Cell::Int(v), true) => Datum::Uint(*v as u64),
                (Cell::Duration(ns), _) => Datum::Duration(*ns),
                _ => cell.datum(column)?,
            };
            encode_key_datum(&datum, &mut out)
                .map_err(|e| Error::Usage(format!("testkit: {e}")))?;
        }
        if out.len() < 9 {
            out.resize(9, 0);
        }
        Ok(out)
    }

    /// The rows grouped by physical id, each with its record key and its index in `rows`, in
    /// key order.
    #[allow(clippy::type_complexity)]
    pub(crate) fn rows_by_physical_id(
        &self,
    ) -> Result<Vec<(i64, Vec<(Vec<u8>, usize, &TestRow)>)>> {
        let mut groups: std::collections::BTreeMap<i64, Vec<(Vec<u8>, usize, &TestRow)>> =
            Default::default();
        for (index, row) in self.rows.iter().enumerate() {
            let physical_id = row.physical_id.unwrap_or(self.id);
            let key = self.record_key(physical_id, row)?;
            groups
                .entry(physical_id)
                .or_default()
                .push((key, index, row));
        }
        for rows in groups.values_mut() {
            rows.sort_by(|a, b| a.0.cmp(&b.0));
        }
        Ok(groups.into_iter().collect())
    }

    /// The raw record key of `row` under `physical_id`.
    pub(crate) fn record_key(&self, physical_id: i64, row: &TestRow) -> Result<Vec<u8>> {
        Ok(if self.clustered_pk.is_empty() {
            crate::codec::key::encode_record_key(physical_id, row.handle)
        } else {
            crate::codec::key::encode_common_handle_record_key(
                physical_id,
                &self.common_handle(row)?,
            )
        })
    }

    /// The row value as TiDB stores it (row format v2, or v1 when the row asks for it).
    pub fn encode_row(&self, row: &TestRow) -> Result<Vec<u8>> {
        let mut v2 = RowEncoderV2::new();
        let mut v1 = Vec::new();
        for (id, cell) in &row.cells {
            let column = self.column(*id)?;
            if column.is_pk() && self.pk_is_handle {
                continue;
            }
            // A clustered key restores every non-string column; strings are kept in the value.
            if self.clustered_pk.contains(id) && !matches!(cell, Cell::Str(_)) {
                continue;
            }
            if row.v1 {
                v1.push((*id, cell.datum(column)?));
            } else {
                v2.push(*id, cell.payload(column)?.as_deref());
            }
        }
        let encoded = if row.v1 {
            encode_row_v1(&v1)
        } else {
            v2.encode()
        };
        encoded.map_err(|e| Error::Usage(format!("testkit: {e}")))
    }

    /// The `Schema` message BR writes for this table.
    pub fn schema_message(&self) -> Schema {
        self.schema_message_with_index(false)
    }

    /// [`Self::schema_message`], declaring the unique index [`SECONDARY_INDEX_ID`] over the
    /// first column when `secondary_index` is set: the index whose keys
    /// [`super::BackupWriter::with_index_keys`] writes.
    pub fn schema_message_with_index(&self, secondary_index: bool) -> Schema {
        let db = json!({
            "id": self.db_id,
            "db_name": {"O": self.db, "L": self.db.to_lowercase()},
            "charset": "utf8mb4", "collate": "utf8mb4_bin", "Deprecated": {}, "state": 5,
            "policy_ref_info": null
        });
        let partition = if self.partitions.is_empty() {
            Value::Null
        } else {
            json!({
                "type": 1, "expr": "`id`", "columns": null, "enable": true,
                "definitions": self.partitions.iter().map(|(id, name)| json!({
                    "id": id, "name": {"O": name, "L": name.to_lowercase()},
                    "less_than": ["MAXVALUE"], "in_values": null
                })).collect::<Vec<_>>(),
                "num": self.partitions.len()
            })
        };
        let mut indexes: Vec<Value> = Vec::new();
        if secondary_index {
            let first = self.columns.first().map_or("id", |c| c.name.as_str());
            indexes.push(json!({
                "id": SECONDARY_INDEX_ID, "idx_name": {"O": "k", "L": "k"},
                "tbl_name": {"O": "", "L": ""},
                "idx_cols": [{"name": {"O": first, "L": first.to_lowercase()}, "offset": 0, "length": -1}],
                "state": 5, "backfill_state": 0, "comment": "", "index_type": 1,
                "is_unique": true, "is_primary": false, "is_invisible": false, "is_global": false,
                "mv_index": false
            }));
        }
        let primary = if self.clustered_pk.is_empty() {
            Value::Null
        } else {
            json!({
                "id": 1, "idx_name": {"O": "PRIMARY", "L": "primary"}, "tbl_name": {"O": "", "L": ""},
                "idx_cols": self.clustered_pk.iter().map(|id| {
                    let offset = self.columns.iter().position(|c| c.id == *id).unwrap_or(0);
                    let name = &self.columns[offset].name;
                    json!({"name": {"O": name, "L": name.to_lowercase()}, "offset": offset, "length": -1})
                }).collect::<Vec<_>>(),
                "state": 5, "backfill_state": 0, "comment": "", "index_type": 1,
                "is_unique": true, "is_primary": true, "is_invisible": false, "is_global": false,
                "mv_index": false
            })
        };
        if !primary.is_null() {
            indexes.insert(0, primary);
        }
        let index_info = if indexes.is_empty() {
            Value::Null
        } else {
            Value::Array(indexes)
        };
        let table = json!({
            "id": self.id,
            "name": {"O": self.name, "L": self.name.to_lowercase()},
            "charset": "utf8mb4", "collate": "utf8mb4_bin",
            "cols": self.columns.iter().enumerate().map(|(i, c)| c.json(i)).collect::<Vec<_>>(),
            "index_info": index_info, "constraint_info": null, "fk_info": null,
            "state": 5, "pk_is_handle": self.pk_is_handle,
            "is_common_handle": !self.clustered_pk.is_empty(),
            "common_handle_version": 1, "comment": "", "auto_inc_id": 0, "auto_id_cache": 0,
            "auto_rand_id": 0, "max_col_id": self.columns.iter().map(|c| c.id).max().unwrap_or(0),
            "max_idx_id": 1, "update_timestamp": 0, "ShardRowIDBits": 0,
            "partition": partition, "compression": "", "view": null, "sequence": null,
            "Lock": null, "version": 5, "tiflash_replica": null, "is_columnar": false,
            "temp_table_type": 0, "cache_table_status": 0, "policy_ref_info": null
        });
        Schema {
            db: db.to_string().into_bytes().into(),
            table: table.to_string().into_bytes().into(),
            ..Default::default()
        }
    }

    /// What the export of this table from a full backup must contain, in the format
    /// `tests/python/check_parquet.py` reads: the table's output directory under `prefix`, column
    /// names and types, and all rows.
    pub fn expected_json(&self, prefix: &str) -> Value {
        self.expected(prefix, None)
    }

    /// The same for an incremental backup written by `writer` (adds `_tidb_op`, `_tidb_commit_ts`).
    pub fn expected_incremental_json(&self, prefix: &str, writer: &super::BackupWriter) -> Value {
        self.expected(prefix, Some(writer))
    }

    fn expected(&self, prefix: &str, incremental: Option<&super::BackupWriter>) -> Value {
        use crate::sink::layout::encode_segment;
        let exported: Vec<&TestColumn> = self.columns.iter().filter(|c| c.is_exported()).collect();
        let clustered = !self.clustered_pk.is_empty();
        let mut columns = vec!["_tidb_table_id".to_string(), "_tidb_handle".to_string()];
        let mut arrow_types = serde_json::Map::new();
        arrow_types.insert("_tidb_table_id".into(), json!("int64"));
        arrow_types.insert(
            "_tidb_handle".into(),
            json!(if clustered { "binary" } else { "int64" }),
        );
        if !self.partitions.is_empty() {
            columns.push("_tidb_partition".into());
            arrow_types.insert("_tidb_partition".into(), json!("string"));
        }
        if incremental.is_some() {
            columns.extend(["_tidb_op".to_string(), "_tidb_commit_ts".to_string()]);
            arrow_types.insert("_tidb_op".into(), json!("string"));
            arrow_types.insert("_tidb_commit_ts".into(), json!("int64"));
        }
        let mut required: Vec<String> = columns.clone();
        columns.extend(exported.iter().map(|c| c.name.clone()));
        for c in &exported {
            arrow_types.insert(c.name.clone(), json!(c.arrow_type()));
            if c.flag & NOT_NULL_FLAG != 0 && !c.is_time() && incremental.is_none() {
                required.push(c.name.clone());
            }
        }
        let rows: Vec<Value> = self
            .rows
            .iter()
            .enumerate()
            .map(|(index, row)| {
                let physical_id = row.physical_id.unwrap_or(self.id);
                let handle = if clustered {
                    json!(hex::encode(self.common_handle(row).unwrap_or_default()))
                } else {
                    json!(row.handle)
                };
                let mut values = vec![json!(physical_id), handle];
                if !self.partitions.is_empty() {
                    let name = self.partitions.iter().find(|(id, _)| *id == physical_id);
                    values.push(json!(name.map(|(_, n)| n)));
                }
                if let Some(writer) = incremental {
                    values.push(json!(if row.deleted { "delete" } else { "put" }));
                    values.push(json!(writer.commit_ts(index)));
                }
                for c in &exported {
                    let from_handle = c.is_pk() && self.pk_is_handle;
                    let value = if row.deleted && !from_handle {
                        Value::Null
                    } else if from_handle {
                        if c.is_unsigned() {
                            Cell::Uint(row.handle as u64).expected(c)
                        } else {
                            json!(row.handle)
                        }
                    } else {
                        match Self::cell(row, c.id) {
                            Some(cell) => cell.expected(c),
                            None => Cell::from_default(&c.origin_default, c).expected(c),
                        }
                    };
                    values.push(value);
                }
                Value::Array(values)
            })
            .collect();
        let dir = [
            prefix,
            &encode_segment(&self.db),
            &encode_segment(&self.name),
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("/");
        json!({
            "dir": dir,
            "columns": columns,
            "arrow_types": arrow_types,
            "required": required,
            "rows": rows,
        })
    }
}
