//! Test tables: schema JSON as TiDB writes it, rows as typed cells, and the values an export must
//! produce for them.

use serde_json::{json, Value};

use crate::codec::number::{encode_cmp_f64, encode_v2_int, encode_v2_uint};
use crate::codec::row_v2::RowEncoderV2;
use crate::proto::backup::Schema;
use crate::{Error, Result};

/// TiDB type codes (`mysql.Type*`, ../shared/spec/br-tidb-formats.md §8.4).
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
    /// BIGINT
    pub const LONGLONG: u8 = 8;
    /// MEDIUMINT
    pub const INT24: u8 = 9;
    /// YEAR
    pub const YEAR: u8 = 13;
    /// VARCHAR
    pub const VARCHAR: u8 = 15;
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
    /// Display length.
    pub flen: i32,
    /// Scale / fsp.
    pub decimal: i32,
    /// Character set.
    pub charset: String,
    /// Collation.
    pub collate: String,
    /// `origin_default` (JSON null for none).
    pub origin_default: Value,
    /// Hidden (expression index helper) column.
    pub hidden: bool,
    /// Schema state (5 = public).
    pub state: u8,
}

impl TestColumn {
    /// A nullable column of type `tp` with binary charset (right for numbers).
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
            origin_default: Value::Null,
            hidden: false,
            state: 5,
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

    /// Marks the column as the integer primary key (the row handle).
    pub fn primary_key(mut self) -> Self {
        self.flag |= NOT_NULL_FLAG | PRI_KEY_FLAG;
        self
    }

    /// Sets `origin_default` (what rows written before `ADD COLUMN` hold).
    pub fn origin_default(mut self, value: Value) -> Self {
        self.origin_default = value;
        self
    }

    fn is_unsigned(&self) -> bool {
        self.flag & UNSIGNED_FLAG != 0
    }

    fn is_pk(&self) -> bool {
        self.flag & PRI_KEY_FLAG != 0
    }

    fn json(&self, offset: usize) -> Value {
        json!({
            "id": self.id,
            "name": {"O": self.name, "L": self.name.to_lowercase()},
            "offset": offset,
            "origin_default": self.origin_default,
            "origin_default_bit": null,
            "default": self.origin_default,
            "default_bit": null,
            "default_is_expr": false,
            "generated_expr_string": "",
            "generated_stored": false,
            "dependences": null,
            "type": {
                "Tp": self.tp, "Flag": self.flag, "Flen": self.flen, "Decimal": self.decimal,
                "Charset": self.charset, "Collate": self.collate, "Elems": null,
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
    fn arrow_type(&self) -> &'static str {
        let text = self.charset != "binary" && self.flag & BINARY_FLAG == 0;
        match self.tp {
            tp::TINY | tp::SHORT | tp::INT24 | tp::YEAR => "int32",
            tp::LONG if self.is_unsigned() => "int64",
            tp::LONG => "int32",
            tp::LONGLONG if self.is_unsigned() => "decimal128(20, 0)",
            tp::LONGLONG => "int64",
            tp::FLOAT => "float",
            tp::DOUBLE => "double",
            _ if text => "string",
            _ => "binary",
        }
    }
}

/// A typed value of a test row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// SQL NULL (in the row's null list).
    Null,
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    Uint(u64),
    /// FLOAT or DOUBLE.
    Float(f64),
    /// Character data.
    Str(String),
    /// Binary data.
    Bytes(Vec<u8>),
}

impl Cell {
    fn payload(&self, column: &TestColumn) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        match self {
            Cell::Null => return None,
            Cell::Int(v) => encode_v2_int(*v, &mut out),
            Cell::Uint(v) => encode_v2_uint(*v, &mut out),
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
        }
        Some(out)
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
        }
    }

    fn from_default(value: &Value, column: &TestColumn) -> Cell {
        let text = match value {
            Value::Null => return Cell::Null,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match column.arrow_type() {
            "int32" | "int64" | "decimal128(20, 0)" if column.is_unsigned() => {
                Cell::Uint(text.parse().unwrap_or_default())
            }
            "int32" | "int64" => Cell::Int(text.parse().unwrap_or_default()),
            "float" | "double" => Cell::Float(text.parse().unwrap_or_default()),
            "string" => Cell::Str(text),
            _ => Cell::Bytes(text.into_bytes()),
        }
    }
}

/// One row: its handle and the cells stored in its value (columns not listed are absent).
#[derive(Debug, Clone)]
pub struct TestRow {
    /// The physical table id (a partition id) when not the table's own id.
    pub physical_id: Option<i64>,
    /// The integer handle.
    pub handle: i64,
    /// `(column id, cell)` pairs stored in the row value.
    pub cells: Vec<(i64, Cell)>,
}

impl TestRow {
    /// A row of the table's own physical id.
    pub fn new(handle: i64, cells: Vec<(i64, Cell)>) -> Self {
        TestRow {
            physical_id: None,
            handle,
            cells,
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
    /// Partitions `(id, name)`; empty when not partitioned.
    pub partitions: Vec<(i64, String)>,
    /// The rows.
    pub rows: Vec<TestRow>,
}

impl TestTable {
    /// An empty, unpartitioned table.
    pub fn new(db: &str, name: &str, id: i64, columns: Vec<TestColumn>) -> Self {
        let pk_is_handle = columns.iter().any(TestColumn::is_pk);
        TestTable {
            db: db.to_string(),
            db_id: 2,
            name: name.to_string(),
            id,
            columns,
            pk_is_handle,
            partitions: Vec::new(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn rows_by_physical_id(&self) -> Vec<(i64, Vec<&TestRow>)> {
        let mut groups: std::collections::BTreeMap<i64, Vec<&TestRow>> = Default::default();
        for row in &self.rows {
            groups
                .entry(row.physical_id.unwrap_or(self.id))
                .or_default()
                .push(row);
        }
        for rows in groups.values_mut() {
            rows.sort_by_key(|r| r.handle);
        }
        groups.into_iter().collect()
    }

    /// The row value as TiDB stores it (row format v2).
    pub fn encode_row(&self, row: &TestRow) -> Result<Vec<u8>> {
        let mut encoder = RowEncoderV2::new();
        for (id, cell) in &row.cells {
            let column = self.columns.iter().find(|c| c.id == *id).ok_or_else(|| {
                Error::Usage(format!(
                    "testkit: table {} has no column id {id}",
                    self.name
                ))
            })?;
            if column.is_pk() && self.pk_is_handle {
                continue;
            }
            encoder.push(*id, cell.payload(column).as_deref());
        }
        encoder
            .encode()
            .map_err(|e| Error::Usage(format!("testkit: {e}")))
    }

    /// The `Schema` message BR writes for this table.
    pub fn schema_message(&self) -> Schema {
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
        let table = json!({
            "id": self.id,
            "name": {"O": self.name, "L": self.name.to_lowercase()},
            "charset": "utf8mb4", "collate": "utf8mb4_bin",
            "cols": self.columns.iter().enumerate().map(|(i, c)| c.json(i)).collect::<Vec<_>>(),
            "index_info": null, "constraint_info": null, "fk_info": null,
            "state": 5, "pk_is_handle": self.pk_is_handle, "is_common_handle": false,
            "common_handle_version": 0, "comment": "", "auto_inc_id": 0, "auto_id_cache": 0,
            "auto_rand_id": 0, "max_col_id": self.columns.iter().map(|c| c.id).max().unwrap_or(0),
            "max_idx_id": 1, "update_timestamp": 0, "ShardRowIDBits": 0,
            "partition": partition, "compression": "", "view": null, "sequence": null,
            "Lock": null, "version": 5, "tiflash_replica": null, "is_columnar": false,
            "temp_table_type": 0, "cache_table_status": 0, "policy_ref_info": null
        });
        Schema {
            db: db.to_string().into_bytes(),
            table: table.to_string().into_bytes(),
            ..Default::default()
        }
    }

    /// What the export of this table must contain, in the format `tests/python/check_parquet.py`
    /// reads: the table's output directory under `prefix`, column names and types, and all rows.
    pub fn expected_json(&self, prefix: &str) -> Value {
        use crate::export::layout::encode_segment;
        let exported: Vec<&TestColumn> = self
            .columns
            .iter()
            .filter(|c| c.state == 5 && !c.hidden)
            .collect();
        let mut columns = vec!["_tidb_table_id".to_string(), "_tidb_handle".to_string()];
        columns.extend(exported.iter().map(|c| c.name.clone()));
        let mut arrow_types = serde_json::Map::new();
        arrow_types.insert("_tidb_table_id".into(), json!("int64"));
        arrow_types.insert("_tidb_handle".into(), json!("int64"));
        let mut required = vec!["_tidb_table_id".to_string(), "_tidb_handle".to_string()];
        for c in &exported {
            arrow_types.insert(c.name.clone(), json!(c.arrow_type()));
            if c.flag & NOT_NULL_FLAG != 0 {
                required.push(c.name.clone());
            }
        }
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let mut values = vec![json!(row.physical_id.unwrap_or(self.id)), json!(row.handle)];
                for c in &exported {
                    let value = if c.is_pk() && self.pk_is_handle {
                        if c.is_unsigned() {
                            Cell::Uint(row.handle as u64).expected(c)
                        } else {
                            json!(row.handle)
                        }
                    } else {
                        match row.cells.iter().find(|(id, _)| *id == c.id) {
                            Some((_, cell)) => cell.expected(c),
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
