//! The benchmark table `bench.orders`: 15 columns of the types a typical OLTP table mixes, and a
//! deterministic generator of its rows. Shared by `examples/gen_bench_backup.rs` and the
//! micro benches (each includes this file with `#[path]`).
//!
//! Columns: a BIGINT primary key (the row handle), INT, BIGINT UNSIGNED, DECIMAL(12,2), DOUBLE,
//! VARCHAR(32) and CHAR(12) of realistic lengths, TEXT (3 % of 256–1500 bytes, so those rows
//! go to the default CF), DATETIME, TIMESTAMP, DATE, ENUM, a small JSON document, SMALLINT and
//! DATETIME(6). About 5 % of the cells of each nullable column are NULL.

use br_parquet::codec::time::PackedTime;
use br_parquet::testkit::{tp, Cell, TestColumn, TestRow, TestTable};
use serde_json::json;

/// Logical id of `bench.orders`.
pub const TABLE_ID: i64 = 100;

/// `bench.orders` without rows.
pub fn table() -> TestTable {
    TestTable::new("bench", "orders", TABLE_ID, columns())
}

/// The table's columns, in schema order.
pub fn columns() -> Vec<TestColumn> {
    vec![
        TestColumn::new(1, "id", tp::LONGLONG).primary_key(),
        TestColumn::new(2, "customer_id", tp::LONG),
        TestColumn::new(3, "trace_id", tp::LONGLONG).unsigned(),
        TestColumn::decimal(4, "amount", 12, 2),
        TestColumn::new(5, "score", tp::DOUBLE),
        TestColumn {
            flen: 32,
            ..TestColumn::text(6, "customer_name", tp::VARCHAR)
        }
        .not_null(),
        TestColumn {
            flen: 65_535,
            ..TestColumn::text(7, "note", tp::BLOB)
        },
        TestColumn::time(8, "created_at", tp::DATETIME, 0).not_null(),
        TestColumn::time(9, "updated_at", tp::TIMESTAMP, 0),
        TestColumn::time(10, "ship_date", tp::DATE, 0),
        TestColumn::elements(
            11,
            "status",
            tp::ENUM,
            &["new", "paid", "shipped", "delivered", "cancelled"],
        )
        .not_null(),
        TestColumn::new(12, "attrs", tp::JSON),
        TestColumn::new(13, "quantity", tp::SHORT),
        TestColumn {
            flen: 12,
            ..TestColumn::text(14, "sku", tp::STRING)
        },
        TestColumn::time(15, "seen_at", tp::DATETIME, 6),
    ]
}

/// SplitMix64: a tiny, fast, deterministic generator (no `rand` dependency needed).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (`hi > lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const SYLLABLES: &[&str] = &[
    "an", "be", "ca", "do", "el", "fi", "ga", "ho", "is", "ju", "ka", "lo", "ma", "ne", "or", "pa",
    "qu", "ri", "sa", "te", "ul", "vi", "wa", "xe", "yo", "zu", "ch", "st", "é", "ñ",
];

const WORDS: &[&str] = &[
    "please",
    "deliver",
    "before",
    "noon",
    "call",
    "the",
    "customer",
    "on",
    "arrival",
    "gift",
    "wrap",
    "fragile",
    "leave",
    "at",
    "door",
    "back",
    "order",
    "replacement",
    "for",
    "damaged",
    "item",
    "priority",
    "shipping",
    "requested",
    "invoice",
    "attached",
    "address",
    "changed",
    "warehouse",
    "north",
    "pickup",
    "weekend",
    "discount",
    "applied",
    "loyalty",
    "member",
];

/// Text of about `len` bytes: words and spaces (never cut inside a character).
fn words(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len + 16);
    while s.len() < len {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(WORDS[rng.range(0, WORDS.len() as u64) as usize]);
    }
    s
}

/// A name of 5–32 characters from syllables (a few non-ASCII).
fn name(rng: &mut Rng) -> String {
    let target = rng.range(5, 33) as usize;
    let mut s = String::with_capacity(target * 2);
    let mut chars = 0;
    while chars < target {
        let syllable = SYLLABLES[rng.range(0, SYLLABLES.len() as u64) as usize];
        for c in syllable.chars() {
            if chars < target {
                s.push(c);
                chars += 1;
            }
        }
        if chars == 5 && target > 10 {
            s.push(' ');
            chars += 1;
        }
    }
    s
}

/// Civil date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (u16, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
    (year, month, day)
}

/// A DATETIME/TIMESTAMP cell `seconds` after 1970-01-01 00:00:00.
fn time_cell(seconds: u64, micro: u32) -> Cell {
    let (year, month, day) = civil((seconds / 86_400) as i64);
    let in_day = seconds % 86_400;
    Cell::Time(PackedTime {
        year,
        month,
        day,
        hour: (in_day / 3600) as u8,
        minute: (in_day / 60 % 60) as u8,
        second: (in_day % 60) as u8,
        micro,
    })
}

/// 2015-01-01 .. 2025-01-01 in seconds since the epoch.
const SPAN_START: u64 = 1_420_070_400;
const SPAN_END: u64 = 1_735_689_600;

/// Row `handle`: every value depends on the seed and the handle only.
pub fn row(seed: u64, handle: i64) -> TestRow {
    let mut rng = Rng(seed ^ (handle as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
    let mut cells = Vec::with_capacity(15);
    // About 5 % NULLs in each nullable column.
    let mut nullable = |rng: &mut Rng, id: i64, cell: Cell| {
        let cell = if rng.chance(5) { Cell::Null } else { cell };
        cells.push((id, cell));
    };
    let customer = rng.range(0, 2_000_000) as i64 - 1000;
    nullable(&mut rng, 2, Cell::Int(customer));
    let trace = rng.next();
    nullable(&mut rng, 3, Cell::Uint(trace));
    let cents = rng.range(0, 10_000_000) as i64 * if rng.chance(3) { -1 } else { 1 };
    let amount = format!(
        "{}{}.{:02}",
        if cents < 0 { "-" } else { "" },
        cents.abs() / 100,
        cents.abs() % 100
    );
    nullable(&mut rng, 4, Cell::Decimal(amount));
    let score = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * 1000.0;
    nullable(&mut rng, 5, Cell::Float(score));
    let customer_name = name(&mut rng);
    // The note: mostly short, 10 % of 40–120 bytes and 3 % of 256–1500 bytes (those rows, and
    // a few others, are longer than 255 bytes and go to the default CF).
    let note_len = match rng.range(0, 100) {
        0..=2 => rng.range(256, 1500),
        3..=12 => rng.range(40, 120),
        _ => rng.range(4, 32),
    } as usize;
    let note = words(&mut rng, note_len);
    let created = rng.range(SPAN_START, SPAN_END);
    let updated = created + rng.range(0, 90 * 86_400);
    let ship = created / 86_400 + rng.range(1, 15);
    let status = rng.range(1, 6);
    let source = ["web", "app", "pos", "api"][rng.range(0, 4) as usize];
    let mut attrs = json!({"src": source, "v": rng.range(1, 5)});
    if rng.chance(30) {
        attrs["tags"] = (0..rng.range(1, 4))
            .map(|i| format!("t{}", i * 7 + rng.range(0, 7)))
            .collect();
    }
    let quantity = rng.range(1, 1000) as i64;
    let sku = format!("SKU-{:08X}", rng.next() as u32);
    let seen = created + rng.range(0, 3600);
    let seen_micro = rng.range(0, 1_000_000) as u32;
    cells.push((6, Cell::Str(customer_name)));
    let mut nullable = |rng: &mut Rng, id: i64, cell: Cell| {
        let cell = if rng.chance(5) { Cell::Null } else { cell };
        cells.push((id, cell));
    };
    nullable(&mut rng, 7, Cell::Str(note));
    let created = time_cell(created, 0);
    nullable(&mut rng, 9, time_cell(updated, 0));
    let (y, m, d) = civil(ship as i64);
    nullable(&mut rng, 10, Cell::time(y, m, d, 0, 0, 0, 0));
    nullable(&mut rng, 12, Cell::Json(attrs, String::new()));
    nullable(&mut rng, 13, Cell::Int(quantity));
    nullable(&mut rng, 14, Cell::Str(sku));
    nullable(&mut rng, 15, time_cell(seen, seen_micro));
    cells.push((8, created));
    cells.push((11, Cell::Enum(status)));
    // Column ids in the value are sorted by the row encoder; the order here does not matter.
    TestRow::new(handle, cells)
}
