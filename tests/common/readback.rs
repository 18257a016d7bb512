//! Reads an export's published Parquet files back in Rust, with the `parquet` crate's Arrow reader
//! (`ParquetRecordBatchReaderBuilder`), and compares every value with what the backup holds, so
//! that a machine without the Python readers still checks values.
//!
//! Values are normalised to JSON exactly as `tests/python/check_parquet.py` normalises what
//! pyarrow returns (decimals as Python prints them, binary as hex, dates and timestamps as ISO
//! strings, durations in microseconds), so the same expected tables
//! (`TestTable::expected_json`) serve both readers.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, DurationMicrosecondType, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, TimestampMicrosecondType, UInt16Type, UInt32Type, UInt64Type,
    UInt8Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, Field, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{json, Value};

/// One Parquet file read back: its schema (as pyarrow names the types) and its rows.
#[derive(Debug, Clone)]
pub struct ReadFile {
    /// The file.
    pub path: PathBuf,
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Column types as pyarrow prints them (`int64`, `decimal128(14, 4)`, `timestamp[us, tz=UTC]`).
    pub types: Vec<String>,
    /// Whether each column is nullable.
    pub nullable: Vec<bool>,
    /// Rows, each value normalised as `check_parquet.py` does.
    pub rows: Vec<Vec<Value>>,
}

impl ReadFile {
    /// The value of `column` in every row.
    pub fn column(&self, column: &str) -> Vec<Value> {
        let i = self
            .columns
            .iter()
            .position(|c| c == column)
            .unwrap_or_else(|| panic!("{}: no column {column}", self.path.display()));
        self.rows.iter().map(|r| r[i].clone()).collect()
    }
}

/// Reads one Parquet file whole.
pub fn read_parquet(path: &Path) -> ReadFile {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema = builder.schema().clone();
    let reader = builder
        .build()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let columns: Vec<Vec<Value>> = batch.columns().iter().map(values).collect();
        for i in 0..batch.num_rows() {
            rows.push(columns.iter().map(|c| c[i].clone()).collect());
        }
    }
    ReadFile {
        path: path.to_path_buf(),
        columns: schema.fields().iter().map(|f| f.name().clone()).collect(),
        types: schema.fields().iter().map(|f| pyarrow_type(f)).collect(),
        nullable: schema.fields().iter().map(|f| f.is_nullable()).collect(),
        rows,
    }
}

/// Every published table of the export under `root`: the directory of its Parquet files (relative
/// to `root`, `/`-separated) and the files in it, sorted. Files in staging directories (any path
/// segment starting with `_` or `.`, as Hive-style readers skip them) are not published.
pub fn read_export(root: &Path) -> BTreeMap<String, Vec<ReadFile>> {
    let mut tables: BTreeMap<String, Vec<ReadFile>> = BTreeMap::new();
    for path in super::walk(root) {
        let relative = path.strip_prefix(root).unwrap();
        if path.extension().is_none_or(|e| e != "parquet") {
            continue;
        }
        let hidden = relative
            .iter()
            .any(|s| s.to_string_lossy().starts_with(['_', '.']));
        if hidden {
            continue;
        }
        let dir = relative
            .parent()
            .unwrap()
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        tables.entry(dir).or_default().push(read_parquet(&path));
    }
    tables
}

/// The Parquet files directly in `dir`, sorted (what `check_parquet.py` globs).
fn parquet_files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "parquet"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Compares the Parquet files of every table in `tables` (objects as `check_parquet.py` reads
/// them: `dir`, `columns`, `arrow_types`, `required`, `rows`) with what the Rust reader finds under
/// `root`; panics with the first mismatches. Returns the number of values compared.
pub fn check_values(root: &Path, tables: &[Value]) -> usize {
    let mut failures = Vec::new();
    let mut checked = 0;
    for table in tables {
        let dir = table["dir"].as_str().expect("expected table without dir");
        let columns: Vec<&str> = table["columns"]
            .as_array()
            .expect("expected table without columns")
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let want_rows = table["rows"]
            .as_array()
            .expect("expected table without rows");
        let files = parquet_files_in(&root.join(dir));
        if files.is_empty() && !want_rows.is_empty() {
            failures.push(format!("{dir}: no parquet files"));
            continue;
        }
        let mut rows = Vec::new();
        for path in &files {
            let file = read_parquet(path);
            if file.columns != columns {
                failures.push(format!(
                    "{}: columns {:?} != {columns:?}",
                    path.display(),
                    file.columns
                ));
                continue;
            }
            if let Some(types) = table["arrow_types"].as_object() {
                for (name, want) in types {
                    let i = columns.iter().position(|c| c == name).unwrap();
                    if file.types[i] != want.as_str().unwrap() {
                        failures.push(format!(
                            "{}: column {name} has type {}, expected {want}",
                            path.display(),
                            file.types[i]
                        ));
                    }
                }
            }
            for name in table["required"].as_array().into_iter().flatten() {
                let i = columns.iter().position(|c| c == name).unwrap();
                if file.nullable[i] {
                    failures.push(format!(
                        "{}: column {name} should be required",
                        path.display()
                    ));
                }
            }
            rows.extend(file.rows);
        }
        let handle = columns
            .iter()
            .position(|c| *c == "_tidb_handle")
            .expect("no _tidb_handle column");
        let order = |a: &Vec<Value>, b: &Vec<Value>| {
            order_values(&a[0], &b[0]).then_with(|| order_values(&a[handle], &b[handle]))
        };
        rows.sort_by(order);
        let mut want: Vec<Vec<Value>> = want_rows
            .iter()
            .map(|r| r.as_array().unwrap().clone())
            .collect();
        want.sort_by(order);
        if rows.len() != want.len() {
            failures.push(format!(
                "{dir}: {} rows, expected {}",
                rows.len(),
                want.len()
            ));
        }
        for (got, want) in rows.iter().zip(&want) {
            for ((name, g), w) in columns.iter().zip(got).zip(want) {
                if !same(w, g) {
                    failures.push(format!(
                        "{dir}: handle {}: column {name}: {g} != {w}",
                        got[handle]
                    ));
                }
                checked += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "Rust readback: {} mismatches:\n{}",
        failures.len(),
        failures
            .iter()
            .take(50)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    checked
}

/// [`check_values`] over the files an export's report lists (`report["files"][i]["path"]`,
/// relative to `root`) only: for an output that also holds older exports' files.
pub fn check_report_values(root: &Path, report: &Value, tables: &[Value]) -> usize {
    let mirror = tempfile::tempdir().unwrap();
    for file in report["files"].as_array().expect("report without files") {
        let path = file["path"].as_str().unwrap();
        let target = mirror.path().join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(root.join(path), target).unwrap();
    }
    check_values(mirror.path(), tables)
}

/// Whether a value read back equals the expected one: numbers by value (an integer equals the same
/// float, as in Python), lists element by element, everything else exactly.
pub fn same(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            if let (Some(e), Some(a)) = (e.as_i64(), a.as_i64()) {
                e == a
            } else if let (Some(e), Some(a)) = (e.as_u64(), a.as_u64()) {
                e == a
            } else {
                e.as_f64() == a.as_f64()
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| same(e, a))
        }
        _ => expected == actual,
    }
}

/// A total order of the values used as sort keys (table ids and handles: numbers or hex strings).
fn order_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => x
                .as_f64()
                .unwrap_or(f64::NAN)
                .total_cmp(&y.as_f64().unwrap_or(f64::NAN)),
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// The type name pyarrow prints for `field` (`str(pa.DataType)`).
pub fn pyarrow_type(field: &Field) -> String {
    if let Some(name) = field.metadata().get("ARROW:extension:name") {
        return format!("extension<{name}>");
    }
    match field.data_type() {
        DataType::Boolean => "bool".into(),
        DataType::Int8 => "int8".into(),
        DataType::Int16 => "int16".into(),
        DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::UInt8 => "uint8".into(),
        DataType::UInt16 => "uint16".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::UInt64 => "uint64".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Decimal128(p, s) => format!("decimal128({p}, {s})"),
        DataType::Decimal256(p, s) => format!("decimal256({p}, {s})"),
        DataType::Utf8 => "string".into(),
        DataType::LargeUtf8 => "large_string".into(),
        DataType::Binary => "binary".into(),
        DataType::LargeBinary => "large_binary".into(),
        DataType::Date32 => "date32[day]".into(),
        DataType::Timestamp(unit, tz) => {
            let unit = time_unit(unit);
            match tz {
                Some(tz) => format!("timestamp[{unit}, tz={tz}]"),
                None => format!("timestamp[{unit}]"),
            }
        }
        DataType::Duration(unit) => format!("duration[{}]", time_unit(unit)),
        DataType::List(item) => format!(
            "list<{}: {}{}>",
            item.name(),
            pyarrow_type(item),
            if item.is_nullable() { "" } else { " not null" }
        ),
        other => format!("{other:?}"),
    }
}

fn time_unit(unit: &TimeUnit) -> &'static str {
    match unit {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "us",
        TimeUnit::Nanosecond => "ns",
    }
}

fn float(v: f64) -> Value {
    if v.is_nan() {
        json!("NaN")
    } else {
        serde_json::Number::from_f64(v).map_or_else(|| json!(v.to_string()), Value::Number)
    }
}

/// Every value of `array`, normalised as `check_parquet.py` normalises pyarrow's Python values.
pub fn values(array: &ArrayRef) -> Vec<Value> {
    let value = |i: usize| -> Value {
        if array.is_null(i) {
            return Value::Null;
        }
        match array.data_type() {
            DataType::Boolean => json!(array.as_boolean().value(i)),
            DataType::Int8 => json!(array.as_primitive::<Int8Type>().value(i)),
            DataType::Int16 => json!(array.as_primitive::<Int16Type>().value(i)),
            DataType::Int32 => json!(array.as_primitive::<Int32Type>().value(i)),
            DataType::Int64 => json!(array.as_primitive::<Int64Type>().value(i)),
            DataType::UInt8 => json!(array.as_primitive::<UInt8Type>().value(i)),
            DataType::UInt16 => json!(array.as_primitive::<UInt16Type>().value(i)),
            DataType::UInt32 => json!(array.as_primitive::<UInt32Type>().value(i)),
            DataType::UInt64 => json!(array.as_primitive::<UInt64Type>().value(i)),
            DataType::Float32 => float(f64::from(array.as_primitive::<Float32Type>().value(i))),
            DataType::Float64 => float(array.as_primitive::<Float64Type>().value(i)),
            DataType::Decimal128(_, scale) => json!(python_decimal(
                array.as_primitive::<Decimal128Type>().value(i),
                *scale
            )),
            DataType::Utf8 => json!(array.as_string::<i32>().value(i)),
            DataType::LargeUtf8 => json!(array.as_string::<i64>().value(i)),
            DataType::Binary => json!(hex::encode(array.as_binary::<i32>().value(i))),
            DataType::LargeBinary => json!(hex::encode(array.as_binary::<i64>().value(i))),
            DataType::Date32 => json!(iso_date(i64::from(
                array.as_primitive::<Date32Type>().value(i)
            ))),
            DataType::Timestamp(TimeUnit::Microsecond, tz) => {
                let micros = array.as_primitive::<TimestampMicrosecondType>().value(i);
                let mut text = iso_datetime(micros);
                if tz.is_some() {
                    // pyarrow returns an aware datetime; every timestamp the export writes is UTC.
                    text.push_str("+00:00");
                }
                json!(text)
            }
            DataType::Duration(TimeUnit::Microsecond) => {
                json!(array.as_primitive::<DurationMicrosecondType>().value(i))
            }
            DataType::List(_) => {
                let list = array.as_list::<i32>().value(i);
                Value::Array(values(&list))
            }
            other => panic!("readback: no normalisation for {other:?}"),
        }
    };
    (0..array.len()).map(value).collect()
}

/// `str(decimal.Decimal)` of the value `unscaled × 10^-scale`, as pyarrow returns it.
pub fn python_decimal(unscaled: i128, scale: i8) -> String {
    let negative = unscaled < 0;
    let digits = unscaled.unsigned_abs().to_string();
    let exp = -i64::from(scale);
    let n = digits.len() as i64;
    let leftdigits = exp + n;
    let dotplace = if exp <= 0 && leftdigits > -6 {
        leftdigits
    } else {
        1
    };
    let (int_part, frac_part) = if dotplace <= 0 {
        (
            "0".to_string(),
            format!(".{}{digits}", "0".repeat((-dotplace) as usize)),
        )
    } else if dotplace >= n {
        (
            format!("{digits}{}", "0".repeat((dotplace - n) as usize)),
            String::new(),
        )
    } else {
        (
            digits[..dotplace as usize].to_string(),
            format!(".{}", &digits[dotplace as usize..]),
        )
    };
    let exp_part = if leftdigits == dotplace {
        String::new()
    } else {
        format!("E{:+}", leftdigits - dotplace)
    };
    format!(
        "{}{int_part}{frac_part}{exp_part}",
        if negative { "-" } else { "" }
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `datetime.date.isoformat()`.
fn iso_date(days: i64) -> String {
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `datetime.datetime.isoformat()` of a naive datetime `micros` after the epoch.
fn iso_datetime(micros: i64) -> String {
    let days = micros.div_euclid(86_400_000_000);
    let rest = micros.rem_euclid(86_400_000_000);
    let (secs, micro) = (rest / 1_000_000, rest % 1_000_000);
    let mut text = format!(
        "{}T{:02}:{:02}:{:02}",
        iso_date(days),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if micro > 0 {
        text.push_str(&format!(".{micro:06}"));
    }
    text
}

#[test]
fn python_decimal_strings() {
    assert_eq!(python_decimal(-12_345_678_901_234, 4), "-1234567890.1234");
    assert_eq!(python_decimal(-1, 4), "-0.0001");
    assert_eq!(python_decimal(0, 4), "0.0000");
    assert_eq!(python_decimal(0, 30), "0E-30");
    assert_eq!(python_decimal(1, 7), "1E-7");
    assert_eq!(python_decimal(150, 2), "1.50");
    assert_eq!(python_decimal(u64::MAX as i128, 0), "18446744073709551615");
    assert_eq!(iso_date(-719_162), "0001-01-01");
    assert_eq!(iso_date(2_932_896), "9999-12-31");
    assert_eq!(iso_datetime(1_000_001), "1970-01-01T00:00:01.000001");
    assert_eq!(iso_datetime(-1), "1969-12-31T23:59:59.999999");
}
