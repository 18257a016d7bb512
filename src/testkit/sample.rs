//! The bundled sample backup (`examples/sample-backup`): a few small tables that show the kinds of
//! rows BR backs up: integer primary keys and hidden row ids, NULLs, unicode, values long enough
//! to live in the default CF, a column added after rows were written, and names that need escaping.

use serde_json::json;

use super::table::tp;
use super::{BackupWriter, Cell, TestColumn, TestRow, TestTable};

/// A small deterministic generator, so the sample is the same on every machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// The sample's tables.
pub fn sample_tables() -> Vec<TestTable> {
    vec![customers(), orders(), page_views()]
}

/// How the sample backup is written.
pub fn sample_writer() -> BackupWriter {
    BackupWriter {
        rows_per_range: 16,
        ..Default::default()
    }
}

/// How the incremental sample is written: one hour (in TSO units) after the sample backup, its
/// ranges numbered apart from the sample's (as BR's names of two backups differ).
pub fn sample_incremental_writer() -> BackupWriter {
    let full = sample_writer();
    BackupWriter {
        start_version: full.end_version,
        end_version: full.end_version + (3_600_000 << 18),
        region_base: 100,
        ..full
    }
}

/// The bundled incremental backup (`examples/sample-incremental`), which follows the sample
/// backup: one hour later, customer 1 has a new name and a note long enough for the default CF,
/// customers 2 and 3 are deleted, 41 and 42 are new, and 999 (never there) is deleted; the other
/// tables did not change. Each table with its changes as rows (deletes marked).
pub fn sample_incremental_tables() -> Vec<TestTable> {
    let mut tables: Vec<TestTable> = sample_tables()
        .iter()
        .map(TestTable::without_rows)
        .collect();
    let customer = |id: i64, name: &str, note: String| {
        TestRow::new(
            id,
            vec![
                (2, Cell::Str(name.to_string())),
                (3, Cell::Str(format!("user{id}@example.com"))),
                (4, Cell::Float(10.5 * id as f64)),
                (5, Cell::Uint(30)),
                (6, Cell::Str(note)),
                (7, Cell::Bytes(vec![id as u8])),
            ],
        )
    };
    let deleted = |id: i64| {
        let mut row = TestRow::new(id, Vec::new());
        row.deleted = true;
        row
    };
    tables[0].rows = vec![
        customer(1, "Ada Lovelace", "analyst ".repeat(40)),
        deleted(2),
        deleted(3),
        customer(41, "Katherine", "note 41".to_string()),
        customer(42, "Dorothy", "note 42".to_string()),
        deleted(999),
    ];
    tables
}

/// The sample backup's tables after [`sample_incremental_tables`] is applied.
pub fn sample_tables_after_incremental() -> Vec<TestTable> {
    let mut tables = sample_tables();
    let changes = sample_incremental_tables();
    for (table, changes) in tables.iter_mut().zip(changes) {
        for change in changes.rows {
            table.rows.retain(|row| row.handle != change.handle);
            if !change.deleted {
                table.rows.push(change);
            }
        }
        table.rows.sort_by_key(|row| row.handle);
    }
    tables
}

fn customers() -> TestTable {
    let mut table = TestTable::new(
        "shop",
        "customers",
        101,
        vec![
            TestColumn::new(1, "id", tp::LONGLONG).primary_key(),
            TestColumn::text(2, "name", tp::VARCHAR).not_null(),
            TestColumn::text(3, "email", tp::VARCHAR),
            TestColumn::new(4, "balance", tp::DOUBLE),
            TestColumn::new(5, "age", tp::TINY).unsigned(),
            TestColumn::text(6, "note", tp::BLOB),
            TestColumn::binary(7, "avatar", tp::BLOB),
        ],
    );
    let names = [
        "Ada", "Grace", "Linus", "Zoë", "李雷", "O'Brien", "", "Ñandú",
    ];
    let mut rng = Lcg(42);
    for id in 1..=40i64 {
        let name = names[(id as usize) % names.len()];
        let email = if id % 5 == 0 {
            Cell::Null
        } else {
            Cell::Str(format!("user{id}@example.com"))
        };
        // Every 7th note is longer than 255 bytes, so its row lives in the default CF.
        let note = match id % 7 {
            0 => Cell::Str(format!("{} — long note #{id}", "lorem ipsum ".repeat(30))),
            3 => Cell::Null,
            _ => Cell::Str(format!("note {id}")),
        };
        let avatar = Cell::Bytes(
            (0..(rng.next() % 24))
                .map(|i| (i * 37 + id as u64) as u8)
                .collect(),
        );
        table.rows.push(TestRow::new(
            id,
            vec![
                (2, Cell::Str(name.to_string())),
                (3, email),
                (
                    4,
                    Cell::Float((rng.next() % 1_000_000) as f64 / 100.0 - 2500.0),
                ),
                (5, Cell::Uint(rng.next() % 256)),
                (6, note),
                (7, avatar),
            ],
        ));
    }
    table
}

fn orders() -> TestTable {
    let mut table = TestTable::new(
        "shop",
        "orders",
        102,
        vec![
            TestColumn::new(1, "customer_id", tp::LONGLONG).not_null(),
            TestColumn::new(2, "qty", tp::LONG),
            TestColumn::new(3, "price", tp::FLOAT),
            TestColumn::new(4, "sku", tp::LONGLONG).unsigned(),
            // Added by ALTER TABLE after the first 30 rows were written.
            TestColumn::text(5, "status", tp::VARCHAR)
                .not_null()
                .origin_default(json!("new")),
        ],
    );
    let mut rng = Lcg(7);
    for rowid in 1..=60i64 {
        let mut cells = vec![
            (1, Cell::Int((rng.next() % 40 + 1) as i64)),
            (2, Cell::Int(rng.next() as i64 % 20 - 5)),
            (3, Cell::Float((rng.next() % 10_000) as f64 / 8.0)),
            (4, Cell::Uint(u64::MAX - rng.next())),
        ];
        if rowid > 30 {
            cells.push((
                5,
                Cell::Str(if rowid % 2 == 0 { "paid" } else { "shipped" }.into()),
            ));
        }
        // `_tidb_rowid` handles: sharded (high bits set) like SHARD_ROW_ID_BITS makes them.
        table
            .rows
            .push(TestRow::new(((rowid % 4) << 59) | rowid, cells));
    }
    table
}

fn page_views() -> TestTable {
    let mut table = TestTable::new(
        "analytics",
        "page views",
        201,
        vec![
            TestColumn::new(1, "view id", tp::LONG).primary_key(),
            TestColumn::text(2, "url", tp::VARCHAR).not_null(),
            TestColumn::new(3, "ms", tp::SHORT),
            TestColumn::new(4, "year", tp::YEAR),
        ],
    );
    for id in 1..=25i64 {
        table.rows.push(TestRow::new(
            id,
            vec![
                (2, Cell::Str(format!("/p/{}", id * 3))),
                (
                    3,
                    if id % 6 == 0 {
                        Cell::Null
                    } else {
                        Cell::Int(id * 11 % 3000)
                    },
                ),
                (4, Cell::Int(2000 + id)),
            ],
        ));
    }
    table
}
