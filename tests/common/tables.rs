//! Test tables shared by several test files.

use br_parquet::testkit::{tp, Cell, TestColumn, TestRow, TestTable};
use serde_json::json;

/// `n` characters of non-ASCII text.
pub fn long_text(n: usize) -> String {
    "ünïcödé ✓ ".chars().cycle().take(n).collect()
}

/// One column of every type TiDB stores, with its extremes; rows alternate v2 and v1 formats.
pub fn all_types() -> TestTable {
    let columns = vec![
        TestColumn::new(1, "id", tp::LONGLONG).primary_key(),
        TestColumn::new(2, "i8", tp::TINY),
        TestColumn::new(3, "u8", tp::TINY).unsigned(),
        TestColumn::new(4, "i16", tp::SHORT),
        TestColumn::new(5, "i24", tp::INT24),
        TestColumn::new(6, "i32", tp::LONG),
        TestColumn::new(7, "u32", tp::LONG).unsigned(),
        TestColumn::new(8, "i64", tp::LONGLONG),
        TestColumn::new(9, "u64", tp::LONGLONG).unsigned(),
        TestColumn::new(10, "f32", tp::FLOAT),
        TestColumn::new(11, "f64", tp::DOUBLE),
        TestColumn::decimal(12, "dec", 14, 4),
        TestColumn::decimal(13, "dec65", 65, 30),
        TestColumn::time(14, "d", tp::DATE, 0),
        TestColumn::time(15, "dt", tp::DATETIME, 6),
        TestColumn::time(16, "ts", tp::TIMESTAMP, 6),
        TestColumn::time(17, "t", tp::DURATION, 6),
        TestColumn::new(18, "y", tp::YEAR),
        TestColumn::text(19, "vc", tp::VARCHAR),
        TestColumn::text(20, "txt", tp::BLOB),
        TestColumn::binary(21, "vb", tp::VARCHAR),
        TestColumn::binary(22, "blb", tp::BLOB),
        TestColumn::elements(23, "e", tp::ENUM, &["y", "n", "maybe"]),
        TestColumn::elements(24, "s", tp::SET, &["n1", "n2", "n3"]),
        TestColumn::bit(25, "b24", 24),
        TestColumn::bit(26, "b64", 64),
        TestColumn::new(27, "j", tp::JSON),
        TestColumn::new(28, "v", tp::VECTOR),
        TestColumn::text(29, "ch", tp::STRING),
    ];
    let mut table = TestTable::new("types", "all_types", 500, columns);
    let json_doc = json!({"a": [1, -2, 3.5, "x", null, true, false], "b": {"c": {"d": "ü"}}, "n": 18446744073709551615u64});
    let extremes: Vec<Vec<(i64, Cell)>> = vec![
        // Minimums.
        vec![
            (2, Cell::Int(-128)), (3, Cell::Uint(0)), (4, Cell::Int(-32768)), (5, Cell::Int(-8388608)),
            (6, Cell::Int(i32::MIN as i64)), (7, Cell::Uint(0)), (8, Cell::Int(i64::MIN)), (9, Cell::Uint(0)),
            (10, Cell::Float(-3.4028235e38)), (11, Cell::Float(f64::MIN)),
            (12, Cell::Decimal("-1234567890.1234".into())),
            (13, Cell::Decimal(format!("-{}.{}", "9".repeat(35), "9".repeat(30)))),
            (14, Cell::time(1000, 1, 1, 0, 0, 0, 0)),
            (15, Cell::time(1000, 1, 1, 0, 0, 0, 0)),
            (16, Cell::time(1970, 1, 1, 0, 0, 1, 0)),
            (17, Cell::Duration(-(838 * 3600 + 59 * 60 + 59) * 1_000_000_000 - 999_999_000)),
            (18, Cell::Int(1901)),
            (19, Cell::Str(String::new())), (20, Cell::Str(long_text(300))),
            (21, Cell::Bytes(vec![])), (22, Cell::Bytes(vec![0u8; 400])),
            (23, Cell::Enum(1)), (24, Cell::Set(0)), (25, Cell::Bit(0)), (26, Cell::Bit(0)),
            (27, Cell::Json(json!(null), "null".into())),
            (28, Cell::Vector(vec![])), (29, Cell::Str("a".into())),
        ],
        // Maximums.
        vec![
            (2, Cell::Int(127)), (3, Cell::Uint(255)), (4, Cell::Int(32767)), (5, Cell::Int(8388607)),
            (6, Cell::Int(i32::MAX as i64)), (7, Cell::Uint(u32::MAX as u64)), (8, Cell::Int(i64::MAX)),
            (9, Cell::Uint(u64::MAX)),
            (10, Cell::Float(3.4028235e38)), (11, Cell::Float(f64::MAX)),
            (12, Cell::Decimal("9999999999.9999".into())),
            (13, Cell::Decimal(format!("{}.{}", "9".repeat(35), "9".repeat(30)))),
            (14, Cell::time(9999, 12, 31, 0, 0, 0, 0)),
            (15, Cell::time(9999, 12, 31, 23, 59, 59, 999_999)),
            (16, Cell::time(2038, 1, 19, 3, 14, 7, 999_999)),
            (17, Cell::Duration((838 * 3600 + 59 * 60 + 59) * 1_000_000_000 + 999_999_000)),
            (18, Cell::Int(2155)),
            (19, Cell::Str("日本語 and emoji 🎉".into())), (20, Cell::Str(String::new())),
            (21, Cell::Bytes(vec![0xff, 0, 0x80])), (22, Cell::Bytes(vec![7; 3])),
            (23, Cell::Enum(3)), (24, Cell::Set(0b111)), (25, Cell::Bit((1 << 24) - 1)),
            (26, Cell::Bit(u64::MAX)),
            (27, Cell::Json(json_doc.clone(),
                r#"{"a": [1, -2, 3.5, "x", null, true, false], "b": {"c": {"d": "ü"}}, "n": 18446744073709551615}"#.into())),
            (28, Cell::Vector(vec![1.5, -0.25, f32::MAX])), (29, Cell::Str("zzz".into())),
        ],
        // The public vectors of docs/formats.md §10.
        vec![
            (12, Cell::Decimal("1234567890.1234".into())),
            (13, Cell::Decimal(format!("0.{}", "0".repeat(30)))),
            (14, Cell::time(2020, 1, 2, 0, 0, 0, 0)),
            (15, Cell::time(2011, 11, 10, 11, 11, 11, 999_999)),
            (16, Cell::time(2011, 11, 10, 11, 11, 11, 999_999)),
            (17, Cell::Duration(14_400_000_000_000)),
            (23, Cell::Enum(2)), (24, Cell::Set(1)), (25, Cell::Bit(3_223_600)),
            (27, Cell::Json(json!({"a": 2}), r#"{"a": 2}"#.into())),
            (19, Cell::Null), (20, Cell::Null), (11, Cell::Null),
        ],
        // Zero and invalid dates, fractional seconds, the empty ENUM value.
        vec![
            (14, Cell::time(0, 0, 0, 0, 0, 0, 0)),
            (15, Cell::time(2021, 2, 30, 1, 2, 3, 0)),
            (16, Cell::time(2024, 0, 10, 0, 0, 0, 0)),
            (17, Cell::Duration(-1_000)),
            (23, Cell::Enum(0)), (24, Cell::Set(0b101)),
            (12, Cell::Decimal("-0.0001".into())),
        ],
    ];
    for (i, cells) in extremes.into_iter().enumerate() {
        for v1 in [false, true] {
            let handle = (i * 2 + usize::from(v1)) as i64 + 1;
            // JSON and VECTOR have no v1 encoding in the test kit; TiDB < 4.0 had neither.
            let cells: Vec<(i64, Cell)> = cells
                .iter()
                .filter(|(_, c)| !v1 || !matches!(c, Cell::Json(..) | Cell::Vector(_)))
                .cloned()
                .collect();
            let mut row = TestRow::new(handle, cells);
            row.v1 = v1;
            table.rows.push(row);
        }
    }
    for fsp in 0..=6u32 {
        let micro = 123_456 / 10u32.pow(6 - fsp) * 10u32.pow(6 - fsp);
        table.rows.push(TestRow::new(
            100 + i64::from(fsp),
            vec![
                (15, Cell::time(1999, 12, 31, 23, 59, 59, micro)),
                (
                    17,
                    Cell::Duration(i64::from(micro) * 1000 + 3_600_000_000_000),
                ),
            ],
        ));
    }
    table
}
