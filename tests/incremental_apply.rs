//! Issue #16: incremental backups applied to their base's Iceberg tables.
//!
//! The test kit writes a chain of three BR backups of the same database: a full backup
//! (start 0, end `T1`) and two incrementals (`T1`→`T2`, `T2`→`T3`). Each is exported by the real
//! `tikv-ctl br parquet-export --write-iceberg-table` into the same output, and the Iceberg tables
//! are read back with PyIceberg (`tests/python/check_apply.py`, `StaticTable.from_metadata`).
//!
//! What each table must hold after each step is computed here, by a model that replays the
//! generated operations on a map from row key to row ([`Model`]), never by the exporter's code;
//! the test kit only renders the model's rows as pyarrow/PyIceberg print them
//! (`TestTable::expected_json`).
//!
//! The chain (database `shop`):
//!
//! | table | kind | full | inc1 (`T1`→`T2`) | inc2 (`T2`→`T3`) |
//! |---|---|---|---|---|
//! | `items` (100) | integer handle (`pk_is_handle`) | 6 rows, one long | ADD COLUMN `note`; short and long updates of base rows, a base delete, 2 inserts (one without `note`), a delete of a key that never existed | delete of an inc1 row, re-insert of the key inc1 deleted, short and long updates of inc1 rows, a never-existing delete |
//! | `accounts` (200) | clustered `(region INT, code VARCHAR)` | 5 rows, one long | long update, base delete, insert, never-existing delete | DROP COLUMN `memo`; update and delete of inc1 rows, re-insert |
//! | `events` (300) | partitions `p0` (301), `p1` (302) | 4 rows each | changes in both partitions | p1: delete of an inc1 row, re-insert, update; p0: a never-existing delete only |
//! | `logs` (400) | no primary key (`_tidb_rowid`) | 4 rows | delete, long update, insert, never-existing delete | TRUNCATE TABLE: new id 410, rows with the old handles |
//! | `tags` (500) | integer handle | absent | CREATE TABLE (DDL job type 3), 3 rows | no change: an empty snapshot |
//!
//! Every backup's DDL jobs are those a real BR incremental records for these changes
//! (`backupmeta.ddls`, ../shared/spec/operations.md §1): ADD COLUMN (5), CREATE TABLE (3) in inc1,
//! DROP COLUMN (6) and TRUNCATE TABLE (11) in inc2.
//!
//! Every Iceberg table is at `<output>/parquet/shop/<table>/metadata/v<N>.metadata.json` (the
//! default `--output-prefix`), `version-hint.text` holding N.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use br_parquet::testkit::{
    tp, BackupWriter, Cell, MetaLayout, TestColumn, TestRow, TestTable, SHORT_VALUE_MAX_LEN,
};
use common::tables::long_text;
use serde_json::{json, Value};
use tempfile::TempDir;

const DB: &str = "shop";
const PREFIX: &str = "parquet";
/// The test kit's default cluster id (`BackupWriter::default()`).
const CLUSTER_ID: u64 = 7_000_000_000_000_000_001;
const OTHER_CLUSTER_ID: u64 = 7_000_000_000_000_000_999;
/// One hour of TSO (physical milliseconds << 18).
const HOUR: u64 = 3_600_000 << 18;
const T1: u64 = 459_177_129_704_947_714;
const T2: u64 = T1 + HOUR;
const T3: u64 = T2 + HOUR;

// ---------------------------------------------------------------------------------------------
// The tables and the chain
// ---------------------------------------------------------------------------------------------

/// `items`: an integer primary key that is the row handle; `note` (column 4) is added in inc1,
/// nullable without a default, so rows written before read NULL both in TiDB and in Iceberg.
fn items(with_note: bool) -> TestTable {
    let mut columns = vec![
        TestColumn::new(1, "id", tp::LONGLONG).primary_key(),
        TestColumn::text(2, "name", tp::VARCHAR),
        TestColumn::new(3, "qty", tp::LONG),
    ];
    if with_note {
        columns.push(TestColumn::text(4, "note", tp::VARCHAR));
    }
    TestTable::new(DB, "items", 100, columns)
}

/// `accounts`: a clustered primary key over `(region INT, code VARCHAR)`; `memo` (column 4) is
/// dropped in inc2.
fn accounts(with_memo: bool) -> TestTable {
    let mut columns = vec![
        TestColumn::new(1, "region", tp::LONG),
        TestColumn::text(2, "code", tp::VARCHAR),
        TestColumn::decimal(3, "balance", 14, 2),
    ];
    if with_memo {
        columns.push(TestColumn::text(4, "memo", tp::BLOB));
    }
    TestTable::new(DB, "accounts", 200, columns).clustered(&[1, 2])
}

/// `events`: partitioned into `p0` (301) and `p1` (302).
fn events() -> TestTable {
    let mut table = TestTable::new(
        DB,
        "events",
        300,
        vec![
            TestColumn::new(1, "id", tp::LONGLONG).primary_key(),
            TestColumn::text(2, "kind", tp::VARCHAR),
            TestColumn::text(3, "body", tp::BLOB),
        ],
    );
    table.partitions = vec![(301, "p0".into()), (302, "p1".into())];
    table
}

/// `logs`: no primary key, so rows are keyed by the hidden `_tidb_rowid`; TRUNCATE TABLE in inc2
/// gives it the id 410.
fn logs(id: i64) -> TestTable {
    TestTable::new(
        DB,
        "logs",
        id,
        vec![
            TestColumn::text(1, "level", tp::VARCHAR),
            TestColumn::text(2, "msg", tp::BLOB),
        ],
    )
}

/// `tags`: created between the full backup and inc1.
fn tags() -> TestTable {
    TestTable::new(
        DB,
        "tags",
        500,
        vec![
            TestColumn::new(1, "id", tp::LONGLONG).primary_key(),
            TestColumn::text(2, "label", tp::VARCHAR),
        ],
    )
}

/// A text long enough that a row holding it is stored in the default CF
/// (`SHORT_VALUE_MAX_LEN`); the chain generator checks that it is.
fn long(tag: &str) -> String {
    format!("{tag}: {}", long_text(300))
}

fn s(text: &str) -> Cell {
    Cell::Str(text.to_string())
}

/// A Put of an integer-handle row.
fn put(handle: i64, cells: Vec<(i64, Cell)>) -> TestRow {
    TestRow::new(handle, cells)
}

/// A Delete of an integer-handle row.
fn del(handle: i64) -> TestRow {
    TestRow {
        deleted: true,
        ..TestRow::new(handle, Vec::new())
    }
}

/// `row` in the partition with id `partition`.
fn part(partition: i64, row: TestRow) -> TestRow {
    TestRow {
        physical_id: Some(partition),
        ..row
    }
}

/// A Put of an `accounts` row; its handle is the key `(region, code)`.
fn acct(region: i64, code: &str, balance: &str, memo: Option<Cell>) -> TestRow {
    let mut cells = vec![
        (1, Cell::Int(region)),
        (2, s(code)),
        (3, Cell::Decimal(balance.into())),
    ];
    cells.extend(memo.map(|m| (4, m)));
    TestRow::new(0, cells)
}

/// A Delete of the `accounts` row `(region, code)`.
fn acct_del(region: i64, code: &str) -> TestRow {
    TestRow {
        deleted: true,
        ..TestRow::new(0, vec![(1, Cell::Int(region)), (2, s(code))])
    }
}

fn with_rows(mut table: TestTable, rows: Vec<TestRow>) -> TestTable {
    table.rows = rows;
    table
}

/// A TiDB DDL job (`model.Job` JSON) as BR records it in `backupmeta.ddls`: `table` is the table
/// after the job (its `TableInfo`), `table_id` the id the job names.
fn ddl_job(job_id: i64, action: u8, table: &TestTable, table_id: i64, query: &str) -> Value {
    let info: Value = serde_json::from_slice(&table.schema_message().table).unwrap();
    json!({
        "id": job_id,
        "type": action,
        "schema_id": table.db_id,
        "table_id": table_id,
        "schema_name": table.db,
        "table_name": table.name,
        "state": 6, // JobStateSynced
        "query": query,
        "binlog": {"SchemaVersion": job_id, "DBInfo": null, "TableInfo": info, "FinishedTS": 0},
    })
}

const ACTION_CREATE_TABLE: u8 = 3;
const ACTION_DROP_TABLE: u8 = 4;
const ACTION_ADD_COLUMN: u8 = 5;
const ACTION_DROP_COLUMN: u8 = 6;
const ACTION_TRUNCATE_TABLE: u8 = 11;
const ACTION_RENAME_TABLE: u8 = 14;

/// One backup of the chain: how it is written and its tables (schemas as of its end version;
/// rows are the changes in (start, end], Deletes included).
#[derive(Clone)]
struct Step {
    name: &'static str,
    writer: BackupWriter,
    tables: Vec<TestTable>,
}

/// How a backup of the chain is written. Each backup numbers its ranges from its own
/// `region_base`, so that its SST and Parquet file names differ from the other backups', as real
/// BR's do.
fn writer(
    start_version: u64,
    end_version: u64,
    ddls: Vec<Value>,
    region_base: u64,
) -> BackupWriter {
    BackupWriter {
        start_version,
        end_version,
        cluster_id: CLUSTER_ID,
        ddls,
        region_base,
        ..Default::default()
    }
}

fn full_backup() -> Step {
    let items = with_rows(
        items(false),
        (1..=6)
            .map(|h| {
                let name = if h == 5 {
                    long("item 5")
                } else {
                    format!("item {h}")
                };
                put(h, vec![(2, s(&name)), (3, Cell::Int(h * 10))])
            })
            .collect(),
    );
    let accounts = with_rows(
        accounts(true),
        vec![
            acct(1, "a", "10.50", Some(s("m-a"))),
            acct(1, "b", "20.00", Some(s(&long("memo b")))),
            acct(2, "a", "-3.25", Some(Cell::Null)),
            acct(2, "zz", "0.00", Some(s("m-zz"))),
            acct(3, "c", "7.77", Some(s("m-c"))),
        ],
    );
    let mut event_rows = Vec::new();
    for (partition, ids) in [(301, 1..=4), (302, 11..=14)] {
        for id in ids {
            let body = if id == 2 {
                long("body 2")
            } else {
                format!("body {id}")
            };
            event_rows.push(part(
                partition,
                put(id, vec![(2, s(&format!("kind {id}"))), (3, s(&body))]),
            ));
        }
    }
    let events = with_rows(events(), event_rows);
    let logs = with_rows(
        logs(400),
        (1..=4)
            .map(|h| put(h, vec![(1, s("info")), (2, s(&format!("log {h}")))]))
            .collect(),
    );
    Step {
        name: "full",
        writer: writer(0, T1, Vec::new(), 1),
        tables: vec![items, accounts, events, logs],
    }
}

/// inc1 with its DDL jobs, or without the CREATE TABLE job of `tags` when `create_job` is false.
fn inc1(create_job: bool) -> Step {
    let items = with_rows(
        items(true),
        vec![
            put(
                2,
                vec![
                    (2, s("item 2 v2")),
                    (3, Cell::Int(21)),
                    (4, s("short note")),
                ],
            ),
            put(
                3,
                vec![(2, s(&long("item 3 v2"))), (3, Cell::Int(31)), (4, s("n3"))],
            ),
            del(4),
            // Written before the ADD COLUMN reached it: no `note` cell, NULL in TiDB too.
            put(101, vec![(2, s("item 101")), (3, Cell::Int(1010))]),
            put(
                102,
                vec![(2, s("item 102")), (3, Cell::Int(1020)), (4, s("n102"))],
            ),
            del(999),
        ],
    );
    let accounts = with_rows(
        accounts(true),
        vec![
            acct(1, "a", "11.50", Some(s(&long("memo a v2")))),
            acct_del(1, "b"),
            acct(4, "new", "1.00", Some(s("fresh"))),
            acct_del(9, "nope"),
        ],
    );
    let events = with_rows(
        events(),
        vec![
            part(301, put(1, vec![(2, s("kind 1 v2")), (3, s("body 1 v2"))])),
            part(301, put(5, vec![(2, s("kind 5")), (3, s("body 5"))])),
            part(302, del(12)),
            part(
                302,
                put(15, vec![(2, s("kind 15")), (3, s(&long("body 15")))]),
            ),
            part(
                302,
                put(13, vec![(2, s("kind 13 v2")), (3, s(&long("body 13 v2")))]),
            ),
        ],
    );
    let logs = with_rows(
        logs(400),
        vec![
            del(1),
            put(2, vec![(1, s("warn")), (2, s(&long("log 2 v2")))]),
            put(5, vec![(1, s("info")), (2, s("log 5"))]),
            del(77),
        ],
    );
    let tags = with_rows(
        tags(),
        (1..=3)
            .map(|h| put(h, vec![(2, s(&format!("tag {h}")))]))
            .collect(),
    );
    let mut ddls = vec![ddl_job(
        61,
        ACTION_ADD_COLUMN,
        &items,
        items.id,
        "ALTER TABLE items ADD COLUMN note VARCHAR(255)",
    )];
    if create_job {
        ddls.push(ddl_job(
            62,
            ACTION_CREATE_TABLE,
            &tags,
            tags.id,
            "CREATE TABLE tags (id BIGINT PRIMARY KEY, label VARCHAR(255))",
        ));
    }
    Step {
        name: "inc1",
        writer: writer(T1, T2, ddls, 1000),
        tables: vec![items, accounts, events, logs, tags],
    }
}

fn inc2() -> Step {
    let items = with_rows(
        items(true),
        vec![
            del(101),
            put(
                4,
                vec![(2, s("item 4 again")), (3, Cell::Int(40)), (4, s("back"))],
            ),
            put(
                3,
                vec![(2, s("item 3 v3")), (3, Cell::Int(32)), (4, Cell::Null)],
            ),
            put(
                102,
                vec![
                    (2, s(&long("item 102 v2"))),
                    (3, Cell::Int(1021)),
                    (4, s("n102b")),
                ],
            ),
            del(998),
        ],
    );
    let accounts = with_rows(
        accounts(false),
        vec![
            acct(4, "new", "2.00", None),
            acct_del(1, "a"),
            acct(1, "b", "30.00", None),
        ],
    );
    let events = with_rows(
        events(),
        vec![
            part(302, del(15)),
            part(
                302,
                put(12, vec![(2, s("kind 12 again")), (3, s("body 12 again"))]),
            ),
            part(
                302,
                put(13, vec![(2, s("kind 13 v3")), (3, s("body 13 v3"))]),
            ),
            part(301, del(7)),
        ],
    );
    // TRUNCATE TABLE: a new table id; the rows after it reuse the old handles.
    let logs = with_rows(
        logs(410),
        (1..=3)
            .map(|h| put(h, vec![(1, s("debug")), (2, s(&format!("fresh log {h}")))]))
            .collect(),
    );
    let ddls = vec![
        ddl_job(
            71,
            ACTION_DROP_COLUMN,
            &accounts,
            accounts.id,
            "ALTER TABLE accounts DROP COLUMN memo",
        ),
        ddl_job(72, ACTION_TRUNCATE_TABLE, &logs, 400, "TRUNCATE TABLE logs"),
    ];
    Step {
        name: "inc2",
        writer: writer(T2, T3, ddls, 2000),
        tables: vec![items, accounts, events, logs, with_rows(tags(), Vec::new())],
    }
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

/// A row's identity: its physical table id and its handle (integer handle as big-endian bytes,
/// or the clustered key's handle bytes).
type RowKey = (i64, Vec<u8>);

/// The data file a live row is in: `(step, physical id)`. The chain writes every physical
/// table's changes of one backup as one range (rows per range ≥ the rows of a step), and a range
/// becomes one data file, so the pair names the file.
type FileTag = (usize, i64);

/// One table as of a step: its schema (a `TestTable` without rows) and its live rows.
#[derive(Clone, Debug)]
struct ModelTable {
    schema: TestTable,
    rows: BTreeMap<RowKey, (TestRow, FileTag)>,
    /// Keys deleted at some step (to recognise re-inserts).
    ever_deleted: BTreeSet<RowKey>,
}

/// What one table's application of a step changed, as the report's `apply` object counts it.
#[derive(Clone, Debug, Default, PartialEq)]
struct Counts {
    inserted: u64,
    updated: u64,
    deleted: u64,
    absent_deletes: u64,
    delete_files: u64,
    data_files_added: u64,
    data_files_touched: u64,
    /// The step gave the table a new id (TRUNCATE TABLE): every earlier row is gone.
    truncated: bool,
}

/// Every table (by name) as of one step, and what the step changed per table.
#[derive(Clone, Debug, Default)]
struct Model {
    tables: BTreeMap<String, ModelTable>,
    counts: BTreeMap<String, Counts>,
    /// Kinds of change the step made (for the coverage check).
    kinds: BTreeSet<&'static str>,
}

fn row_key(table: &TestTable, row: &TestRow) -> RowKey {
    let physical_id = row.physical_id.unwrap_or(table.id);
    let handle = if table.clustered_pk.is_empty() {
        row.handle.to_be_bytes().to_vec()
    } else {
        table.common_handle(row).unwrap()
    };
    (physical_id, handle)
}

impl Model {
    /// The model after `step` (the `index`-th of the chain) is applied to `self`.
    fn apply(&self, index: usize, step: &Step) -> Model {
        let mut next = Model {
            tables: self.tables.clone(),
            ..Default::default()
        };
        for table in &step.tables {
            let entry = next
                .tables
                .entry(table.name.clone())
                .or_insert_with(|| ModelTable {
                    schema: table.clone(),
                    rows: BTreeMap::new(),
                    ever_deleted: BTreeSet::new(),
                });
            let mut counts = Counts::default();
            if entry.schema.id != table.id {
                entry.rows.clear();
                counts.truncated = true;
                next.kinds.insert("truncate");
            }
            entry.schema = TestTable {
                rows: Vec::new(),
                ..table.clone()
            };
            let mut touched: BTreeSet<FileTag> = BTreeSet::new();
            let mut added: BTreeSet<i64> = BTreeSet::new();
            for row in &table.rows {
                let key = row_key(table, row);
                let long_value =
                    !row.deleted && table.encode_row(row).unwrap().len() > SHORT_VALUE_MAX_LEN;
                if row.deleted {
                    match entry.rows.remove(&key) {
                        Some((_, file)) => {
                            counts.deleted += 1;
                            next.kinds.insert(if file.0 == 0 {
                                "delete of a base row"
                            } else {
                                "delete of a row an incremental put"
                            });
                            touched.insert(file);
                        }
                        None => {
                            counts.absent_deletes += 1;
                            next.kinds.insert("delete of a key that never existed");
                        }
                    }
                    entry.ever_deleted.insert(key);
                    continue;
                }
                added.insert(key.0);
                let old = entry
                    .rows
                    .insert(key.clone(), (row.clone(), (index, key.0)));
                match old {
                    Some((_, file)) => {
                        counts.updated += 1;
                        touched.insert(file);
                        next.kinds.insert(if long_value {
                            "update with a long value"
                        } else {
                            "update with a short value"
                        });
                    }
                    None => {
                        counts.inserted += 1;
                        if entry.ever_deleted.contains(&key) {
                            next.kinds.insert("re-insert of a deleted key");
                        }
                    }
                }
            }
            // Position deletes go in one delete file per partition (Iceberg applies a position
            // delete file to the data files of its own partition). The chain touches at most one
            // data file per partition and step, so one delete file per touched data file counts
            // the same: the number does not depend on which of the two an implementation does.
            let partitions: BTreeSet<i64> = touched.iter().map(|(_, p)| *p).collect();
            assert_eq!(
                partitions.len(),
                touched.len(),
                "{}: {}: the scenario must touch one data file per partition",
                step.name,
                table.name
            );
            counts.delete_files = partitions.len() as u64;
            counts.data_files_touched = touched.len() as u64;
            counts.data_files_added = added.len() as u64;
            next.counts.insert(table.name.clone(), counts);
        }
        next
    }

    /// The columns and rows PyIceberg must read from `table` (`TestTable::expected_json` order and
    /// normalisation).
    fn expected(&self, table: &str) -> (Vec<String>, Vec<Value>) {
        let model = &self.tables[table];
        let mut rendered = model.schema.clone();
        rendered.rows = model.rows.values().map(|(row, _)| row.clone()).collect();
        let json = rendered.expected_json(PREFIX);
        let columns = json["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        (columns, json["rows"].as_array().unwrap().clone())
    }
}

/// The chain's backups, written under one directory, and the model after each.
struct Chain {
    dir: TempDir,
    steps: Vec<Step>,
    models: Vec<Model>,
}

impl Chain {
    fn new() -> Chain {
        let steps = vec![full_backup(), inc1(true), inc2()];
        let mut models: Vec<Model> = Vec::new();
        for (index, step) in steps.iter().enumerate() {
            let before = models.last().cloned().unwrap_or_default();
            models.push(before.apply(index, step));
        }
        let dir = tempfile::tempdir().unwrap();
        for step in &steps {
            write_step(&dir.path().join(step.name), step);
        }
        Chain { dir, steps, models }
    }

    fn backup(&self, step: usize) -> PathBuf {
        self.dir.path().join(self.steps[step].name)
    }

    /// Writes `step` as another backup next to the chain's and returns its directory.
    fn write_extra(&self, step: &Step) -> PathBuf {
        let dir = self.dir.path().join(step.name);
        write_step(&dir, step);
        dir
    }
}

fn write_step(dir: &Path, step: &Step) {
    // One range, so one data file, per physical table (the model's `FileTag`).
    for table in &step.tables {
        let mut per_physical: BTreeMap<i64, usize> = BTreeMap::new();
        for row in &table.rows {
            *per_physical
                .entry(row.physical_id.unwrap_or(table.id))
                .or_default() += 1;
        }
        assert!(per_physical
            .values()
            .all(|n| *n <= step.writer.rows_per_range));
    }
    step.writer.write(dir, &step.tables).unwrap();
}

// ---------------------------------------------------------------------------------------------
// The output: exports, metadata, PyIceberg reads
// ---------------------------------------------------------------------------------------------

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One export output that a test applies backups to, with the snapshot each table had after each
/// step of the chain.
struct Lake {
    out: TempDir,
    reports: TempDir,
    runs: usize,
    /// `(table, step)` → the table's current snapshot id after that step.
    snapshots: BTreeMap<(String, usize), i64>,
}

impl Lake {
    fn new() -> Lake {
        Lake {
            out: tempfile::tempdir().unwrap(),
            reports: tempfile::tempdir().unwrap(),
            runs: 0,
            snapshots: BTreeMap::new(),
        }
    }

    fn root(&self) -> &Path {
        self.out.path()
    }

    fn table_dir(&self, table: &str) -> PathBuf {
        self.root().join(PREFIX).join(DB).join(table)
    }

    /// Runs the export of `backup` into this output; returns the process output and the report
    /// path. `failpoint` sets `BR_PARQUET_FAILPOINT`.
    fn run(&mut self, backup: &Path, failpoint: Option<&str>) -> (Output, PathBuf) {
        self.runs += 1;
        let report = self
            .reports
            .path()
            .join(format!("report-{}.json", self.runs));
        let mut command = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"));
        command
            .args(["br", "parquet-export", "--input"])
            .arg(backup)
            .arg("--output")
            .arg(self.root())
            .args(["--write-iceberg-table", "--progress", "none", "--report"])
            .arg(&report);
        match failpoint {
            Some(point) => command.env("BR_PARQUET_FAILPOINT", point),
            None => command.env_remove("BR_PARQUET_FAILPOINT"),
        };
        (command.output().expect("run tikv-ctl"), report)
    }

    /// Exports `backup` and returns the report; panics unless the export succeeded.
    fn export(&mut self, backup: &Path) -> Value {
        let (out, report) = self.run(backup, None);
        common::assert_success(&out);
        read_json(&report)
    }

    /// Exports the chain's step `step` and checks the metadata it committed
    /// ([`Self::check_snapshots`]); returns the report.
    fn apply(&mut self, chain: &Chain, step: usize) -> Value {
        let report = self.export(&chain.backup(step));
        self.check_snapshots(chain, step, Some(&report));
        report
    }

    /// [`Self::apply`] for the re-run of an interrupted application: its report is not checked
    /// (which tables a re-run lists, and with what counts, is its own business).
    fn reapply(&mut self, chain: &Chain, step: usize) {
        self.export(&chain.backup(step));
        self.check_snapshots(chain, step, None);
    }

    fn hint(&self, table: &str) -> Option<String> {
        std::fs::read_to_string(self.table_dir(table).join("metadata/version-hint.text")).ok()
    }

    /// The table's current metadata (through `version-hint.text`) and its path.
    fn current_metadata(&self, table: &str) -> (PathBuf, Value) {
        let hint = self
            .hint(table)
            .unwrap_or_else(|| panic!("{table}: no version-hint.text"));
        let path = self
            .table_dir(table)
            .join(format!("metadata/v{}.metadata.json", hint.trim()));
        let json = read_json(&path);
        (path, json)
    }

    /// Every file under every table's `metadata/` directory with its bytes: what a refused run
    /// must leave byte for byte.
    fn metadata_files(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        common::walk(&self.root().join(PREFIX).join(DB))
            .into_iter()
            .filter(|p| {
                p.parent()
                    .is_some_and(|d| d.file_name().is_some_and(|n| n == "metadata"))
            })
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap();
                (p, bytes)
            })
            .collect()
    }

    /// After step `step` was applied: every table of the model has exactly one new snapshot,
    /// child of the one it had after the step before, whose summary records the cluster and the
    /// backup's versions; the current schema has the model's columns with their field ids and
    /// never `_tidb_op`/`_tidb_commit_ts`; the report (when given) lists every table with that
    /// snapshot.
    fn check_snapshots(&mut self, chain: &Chain, step: usize, report: Option<&Value>) {
        let writer = &chain.steps[step].writer;
        let model = &chain.models[step];
        if let Some(report) = report {
            let entries = report["iceberg_tables"].as_array().unwrap();
            assert_eq!(
                entries.len(),
                model.tables.len(),
                "{}: iceberg_tables: {entries:?}",
                chain.steps[step].name
            );
        }
        for (name, table) in &model.tables {
            let label = format!("{} after {}", name, chain.steps[step].name);
            let (_, metadata) = self.current_metadata(name);
            let earlier: Vec<i64> = self
                .snapshots
                .iter()
                .filter(|((t, _), _)| t == name)
                .map(|(_, id)| *id)
                .collect();
            let snapshots = metadata["snapshots"].as_array().unwrap();
            assert_eq!(
                snapshots.len(),
                earlier.len() + 1,
                "{label}: exactly one new snapshot"
            );
            let current = metadata["current-snapshot-id"].as_i64().unwrap();
            let snapshot = snapshots
                .iter()
                .find(|s| s["snapshot-id"] == current)
                .unwrap_or_else(|| panic!("{label}: no current snapshot"));
            let parent = step
                .checked_sub(1)
                .and_then(|before| self.snapshots.get(&(name.clone(), before)));
            assert_eq!(
                snapshot["parent-snapshot-id"].as_i64(),
                parent.copied(),
                "{label}: parent"
            );
            assert!(!earlier.contains(&current), "{label}: a new snapshot id");
            let summary = &snapshot["summary"];
            assert_eq!(
                summary["tidb.cluster-id"],
                CLUSTER_ID.to_string(),
                "{label}"
            );
            assert_eq!(
                summary["tidb.backup.start-version"],
                writer.start_version.to_string(),
                "{label}"
            );
            assert_eq!(
                summary["tidb.backup.end-version"],
                writer.end_version.to_string(),
                "{label}"
            );

            // The current schema: a full export's columns, in order, with their field ids.
            let (columns, _) = model.expected(name);
            let schema = metadata["schemas"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["schema-id"] == metadata["current-schema-id"])
                .unwrap();
            let fields = schema["fields"].as_array().unwrap();
            let names: Vec<&str> = fields.iter().map(|f| f["name"].as_str().unwrap()).collect();
            for change_column in ["_tidb_op", "_tidb_commit_ts"] {
                assert!(!names.contains(&change_column), "{label}: {names:?}");
            }
            assert_eq!(names, columns, "{label}: current schema");
            let id_of = |field: &str| {
                fields
                    .iter()
                    .find(|f| f["name"] == field)
                    .and_then(|f| f["id"].as_i64())
            };
            assert_eq!(id_of("_tidb_table_id"), Some(1), "{label}");
            assert_eq!(id_of("_tidb_handle"), Some(2), "{label}");
            for column in &table.schema.columns {
                assert_eq!(
                    id_of(&column.name),
                    Some(100 + column.id),
                    "{label}: field id of {}",
                    column.name
                );
            }

            if let Some(report) = report {
                let entry = iceberg_entry(report, name);
                assert_eq!(
                    entry["snapshot_id"].as_i64(),
                    Some(current),
                    "{label}: report"
                );
            }
            self.snapshots.insert((name.clone(), step), current);
        }
    }

    /// PyIceberg reads every table of the model after `step` exactly as the model says, and time
    /// travel to each earlier step's snapshot reads that step's rows.
    ///
    /// PyIceberg 0.12 (the venv's) projects a time-travel scan onto the schema its snapshot
    /// names (`schema-id`), and onto the current schema only when the snapshot names none
    /// (`DataScan.projection`); br-parquet's snapshots name their schema. So a time-travel read
    /// of a snapshot with a schema id must have exactly that step's columns (the dropped `memo`
    /// still there, the added `note` not yet); one without is compared on the columns both
    /// schemas share.
    fn check_rows(&self, chain: &Chain, step: usize) {
        let mut reads = Vec::new();
        let mut wanted = Vec::new();
        for name in chain.models[step].tables.keys() {
            let (metadata, _) = self.current_metadata(name);
            reads.push(
                json!({"label": format!("{name} after {}", chain.steps[step].name),
                              "metadata": metadata, "snapshot_id": null}),
            );
            wanted.push((step, name.clone(), true));
            for earlier in 0..step {
                if let Some(id) = self.snapshots.get(&(name.clone(), earlier)) {
                    reads.push(json!({
                        "label": format!("{name} after {}, time travel to {}",
                                         chain.steps[step].name, chain.steps[earlier].name),
                        "metadata": metadata, "snapshot_id": id}));
                    wanted.push((earlier, name.clone(), false));
                }
            }
        }
        let Some(results) = pyiceberg_read(self.reports.path(), reads) else {
            return;
        };
        for (result, (at, name, current)) in results.iter().zip(wanted) {
            let label = result["label"].as_str().unwrap();
            let (columns, rows) = chain.models[at].expected(&name);
            let read_columns: Vec<String> = result["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect();
            let compared: Vec<String> = if current || !result["schema_id"].is_null() {
                assert_eq!(read_columns, columns, "{label}: columns");
                columns.clone()
            } else {
                columns
                    .iter()
                    .filter(|c| read_columns.contains(c))
                    .cloned()
                    .collect()
            };
            let got = project(&read_columns, result["rows"].as_array().unwrap(), &compared);
            let want = project(&columns, &rows, &compared);
            assert_same_rows(label, &compared, got, want);
        }
    }
}

/// `value` with every schema's `identifier-field-ids` sorted: the iceberg crate keeps them in a
/// hash set, so their order in the metadata JSON differs from write to write.
fn identifiers_sorted(value: &Value) -> Value {
    let mut value = value.clone();
    for schema in value.as_array_mut().into_iter().flatten() {
        if let Some(ids) = schema["identifier-field-ids"].as_array_mut() {
            ids.sort_by_key(|id| id.as_i64());
        }
    }
    value
}

/// The report's entry for `shop.<table>` in `iceberg_tables`.
fn iceberg_entry<'a>(report: &'a Value, table: &str) -> &'a Value {
    report["iceberg_tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["db"] == DB && t["table"] == table)
        .unwrap_or_else(|| panic!("no iceberg_tables entry for {DB}.{table}: {report}"))
}

/// Runs `check_apply.py` over `reads`; `None` when the venv is missing (outside CI).
fn pyiceberg_read(scratch: &Path, reads: Vec<Value>) -> Option<Vec<Value>> {
    let python = common::python("pyiceberg, pyarrow, duckdb, fastavro")?;
    let path = scratch.join("reads.json");
    std::fs::write(
        &path,
        serde_json::to_vec(&json!({ "reads": reads })).unwrap(),
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_apply.py");
    let out = Command::new(python)
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "check_apply.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = results["reads"].as_array().unwrap().clone();
    assert_eq!(results.len(), reads.len());
    Some(results)
}

/// `rows` (in `columns` order) keyed by `(_tidb_table_id, _tidb_handle)`, with only the
/// `keep` columns.
fn project(columns: &[String], rows: &[Value], keep: &[String]) -> BTreeMap<String, Vec<Value>> {
    let at = |name: &str| columns.iter().position(|c| c == name).unwrap();
    let (table_id, handle) = (at("_tidb_table_id"), at("_tidb_handle"));
    let mut out = BTreeMap::new();
    for row in rows {
        let row = row.as_array().unwrap();
        let key = format!("{}/{}", row[table_id], row[handle]);
        let values = keep.iter().map(|c| row[at(c)].clone()).collect();
        assert!(out.insert(key.clone(), values).is_none(), "row {key} twice");
    }
    out
}

fn assert_same_rows(
    label: &str,
    columns: &[String],
    got: BTreeMap<String, Vec<Value>>,
    want: BTreeMap<String, Vec<Value>>,
) {
    if got == want {
        return;
    }
    let mut problems = Vec::new();
    for (key, row) in &want {
        match got.get(key) {
            None => problems.push(format!("missing {key}: {row:?}")),
            Some(read) if read != row => {
                for ((column, w), g) in columns.iter().zip(row).zip(read) {
                    if w != g {
                        problems.push(format!("{key}: {column}: read {g}, expected {w}"));
                    }
                }
            }
            Some(_) => {}
        }
    }
    for (key, row) in &got {
        if !want.contains_key(key) {
            problems.push(format!("unexpected {key}: {row:?}"));
        }
    }
    panic!(
        "{label}: {} rows read, {} expected ({columns:?}):\n{}",
        got.len(),
        want.len(),
        problems.join("\n")
    );
}

/// The report's `apply` object the model expects for `table` at `step`. For a truncated table
/// only what does not depend on how the old rows are dropped (deleting the old id's data files,
/// or position-deleting their rows) is compared: `rows_deleted`, `delete_files` and
/// `data_files_touched` are left out.
fn expected_apply(chain: &Chain, step: usize, table: &str) -> Value {
    let writer = &chain.steps[step].writer;
    let c = &chain.models[step].counts[table];
    let mut apply = json!({
        "from_version": writer.start_version,
        "to_version": writer.end_version,
        "rows_inserted": c.inserted,
        "rows_updated": c.updated,
        "rows_deleted": c.deleted,
        "absent_deletes": c.absent_deletes,
        "delete_files": c.delete_files,
        "data_files_added": c.data_files_added,
        "data_files_touched": c.data_files_touched,
    });
    if c.truncated {
        for key in ["rows_deleted", "delete_files", "data_files_touched"] {
            apply.as_object_mut().unwrap().remove(key);
        }
    }
    apply
}

fn check_report(chain: &Chain, step: usize, report: &Value) {
    for name in chain.models[step].tables.keys() {
        let want = expected_apply(chain, step, name);
        let got = &iceberg_entry(report, name)["apply"];
        assert!(
            got.is_object(),
            "{name} after {}: no apply: {report}",
            chain.steps[step].name
        );
        for (key, value) in want.as_object().unwrap() {
            assert_eq!(
                &got[key], value,
                "{name} after {}: apply.{key} ({got})",
                chain.steps[step].name
            );
        }
    }
}

/// A refused export: non-zero exit, stderr naming each of `needles`, and no table's metadata
/// changed by a byte (listing and contents, `version-hint.text` included).
fn assert_refused(lake: &mut Lake, backup: &Path, needles: &[String], what: &str) {
    let before = lake.metadata_files();
    assert!(!before.is_empty());
    let (out, _) = lake.run(backup, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "{what}: not refused\nstderr: {stderr}"
    );
    for needle in needles {
        assert!(
            stderr.contains(needle.as_str()),
            "{what}: stderr does not name {needle}: {stderr}"
        );
    }
    let after = lake.metadata_files();
    let changed: Vec<&PathBuf> = before
        .keys()
        .chain(after.keys())
        .filter(|p| before.get(*p) != after.get(*p))
        .collect();
    assert!(changed.is_empty(), "{what}: metadata changed: {changed:?}");
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

/// The test kit's `ddls` reach `backupmeta` as BR writes them (meta v1: the root's JSON array;
/// v2: a `backupmeta.ddl.*` leaf), and an empty list writes what it wrote before.
#[test]
fn testkit_writes_ddl_jobs_in_both_meta_layouts() {
    let step = inc1(true);
    for layout in [MetaLayout::V1, MetaLayout::V2] {
        let dir = tempfile::tempdir().unwrap();
        let writer = BackupWriter {
            layout,
            ..step.writer.clone()
        };
        writer.write(dir.path(), &step.tables).unwrap();
        let backup = br_parquet::meta::load_backup(
            &mut |name| {
                Ok(std::fs::read(dir.path().join(name))
                    .map_err(|e| br_parquet::Error::io(name.to_string(), e))?
                    .into())
            },
            None,
        )
        .unwrap();
        assert_eq!(backup.ddls, step.writer.ddls, "{layout:?}");
        assert_eq!(backup.ddls[1]["type"], 3);
        assert_eq!(backup.ddls[1]["table_name"], "tags");
        assert_eq!((backup.start_version, backup.end_version), (T1, T2));

        let empty = tempfile::tempdir().unwrap();
        BackupWriter {
            layout,
            ..Default::default()
        }
        .write(empty.path(), &step.tables)
        .unwrap();
        let root = std::fs::read(empty.path().join("backupmeta")).unwrap();
        let meta = br_parquet::meta::decode_backup_meta(&root).unwrap();
        assert_eq!(meta.ddls, b"[]");
        assert!(meta.ddl_indexes.is_none());
    }
}

/// `region_base` numbers the ranges, so the chain's backups have different SST names; the
/// default numbers them from 2, as the test kit always did.
#[test]
fn testkit_region_base_names_the_ranges() {
    let step = full_backup();
    let names = |region_base: Option<u64>| {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = BackupWriter::default();
        if let Some(base) = region_base {
            writer.region_base = base;
        }
        writer.write(dir.path(), &step.tables).unwrap().write_ssts
    };
    let default = names(None);
    assert_eq!(default[0], "1/2_7_0000000000000064_write.sst");
    let based = names(Some(1000));
    assert_eq!(based[0], "1/1001_7_0000000000000064_write.sst");
    assert_eq!(default.len(), based.len());
    assert!(default.iter().all(|name| !based.contains(name)));
}

/// The generated chain has every kind of change the issue lists, values on both sides of the
/// short-value limit, and the counts the report must show (a check of the scenario itself).
#[test]
fn the_chain_covers_every_kind_of_change() {
    let chain = Chain::new();
    let kinds: BTreeSet<&str> = chain.models.iter().flat_map(|m| m.kinds.clone()).collect();
    for kind in [
        "update with a short value",
        "update with a long value",
        "delete of a base row",
        "delete of a row an incremental put",
        "delete of a key that never existed",
        "re-insert of a deleted key",
        "truncate",
    ] {
        assert!(kinds.contains(kind), "no {kind}: {kinds:?}");
    }
    let inc1 = &chain.models[1];
    assert!(inc1.counts["tags"].inserted == 3 && !chain.models[0].tables.contains_key("tags"));
    assert_eq!(
        inc1.counts["events"],
        Counts {
            inserted: 2,
            updated: 2,
            deleted: 1,
            absent_deletes: 0,
            delete_files: 2,
            data_files_added: 2,
            data_files_touched: 2,
            truncated: false,
        }
    );
    assert_eq!(chain.models[2].counts["tags"], Counts::default());
    assert!(chain.models[2].counts["logs"].truncated);
    // The added column: rows before it read NULL, the incremental's rows their values.
    let (columns, rows) = inc1.expected("items");
    assert_eq!(columns.last().map(String::as_str), Some("note"));
    let note = |handle: i64| {
        rows.iter()
            .find(|r| r[1] == handle)
            .map(|r| r[columns.len() - 1].clone())
    };
    assert_eq!(note(1), Some(Value::Null));
    assert_eq!(note(101), Some(Value::Null));
    assert_eq!(note(102), Some(json!("n102")));
    assert_eq!(note(4), None);
    // The dropped column is gone; the truncated table holds only its new id's rows.
    let (columns, _) = chain.models[2].expected("accounts");
    assert!(!columns.contains(&"memo".to_string()), "{columns:?}");
    let (_, rows) = chain.models[2].expected("logs");
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r[0] == 410));
}

/// Each incremental of the chain, exported without Iceberg, holds its changes as change rows
/// (`_tidb_op`, `_tidb_commit_ts`, Deletes included): the backups are what the model says they are.
#[test]
fn each_incremental_exports_as_its_change_rows() {
    let chain = Chain::new();
    for step in 1..chain.steps.len() {
        let out = tempfile::tempdir().unwrap();
        let run = common::export(&chain.backup(step), out.path(), &["--progress", "none"]);
        common::assert_success(&run);
        let writer = &chain.steps[step].writer;
        let expected = chain.steps[step]
            .tables
            .iter()
            .filter(|t| !t.rows.is_empty())
            .map(|t| t.expected_incremental_json(PREFIX, writer))
            .collect();
        common::check_parquet(out.path(), expected);
    }
}

/// The full backup, exported with `--write-iceberg-table`, is the chain's base: PyIceberg reads
/// exactly its rows, and its snapshots record cluster and versions (start 0, end `T1`).
#[test]
fn the_full_backup_is_read_as_the_base_of_the_chain() {
    let chain = Chain::new();
    let mut lake = Lake::new();
    lake.apply(&chain, 0);
    lake.check_rows(&chain, 0);
}

/// After each incremental, PyIceberg reads exactly the rows as of its end version: new rows,
/// updated values, deleted rows gone, untouched rows as they were; ADD COLUMN, DROP COLUMN,
/// TRUNCATE TABLE and CREATE TABLE as the incremental's schemas say. Time travel to each earlier
/// snapshot reads that step's rows.
#[test]
fn incrementals_applied_in_order_read_as_of_each_end_version() {
    let chain = Chain::new();
    let mut lake = Lake::new();
    for step in 0..chain.steps.len() {
        lake.apply(&chain, step);
        lake.check_rows(&chain, step);
    }
}

/// Each application commits exactly one snapshot per table, also for a table without changes
/// (`tags` in inc2), child of the table's previous one, recording cluster id and versions; the
/// schema follows the incremental (field id 100 + column id for the added column, the dropped
/// one gone, the truncated table's new id in its rows, the created table new).
#[test]
fn each_application_commits_one_snapshot_recording_the_chain() {
    let chain = Chain::new();
    let mut lake = Lake::new();
    for step in 0..chain.steps.len() {
        lake.apply(&chain, step);
    }
    // Spot checks of what `check_snapshots` compared with the model.
    let (_, items) = lake.current_metadata("items");
    let schema = items["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["schema-id"] == items["current-schema-id"])
        .unwrap();
    let note = schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "note")
        .unwrap();
    assert_eq!(note["id"], 104);
    assert_eq!(note["required"], false);
    let (_, tags) = lake.current_metadata("tags");
    let snapshots = tags["snapshots"].as_array().unwrap();
    assert_eq!(
        snapshots.len(),
        2,
        "created by inc1, empty snapshot by inc2"
    );
    assert_eq!(
        snapshots[0]["summary"]["tidb.backup.start-version"],
        T1.to_string()
    );
    let (_, logs) = lake.current_metadata("logs");
    assert_eq!(logs["snapshots"].as_array().unwrap().len(), 3);
}

/// The report's `apply` of every table counts what the model counts: inserts, updates (puts of
/// existing keys), deletes, deletes of absent keys, delete files, data files added and touched.
#[test]
fn the_report_counts_each_applied_change() {
    let chain = Chain::new();
    let mut lake = Lake::new();
    lake.apply(&chain, 0);
    for step in 1..chain.steps.len() {
        let report = lake.apply(&chain, step);
        check_report(&chain, step, &report);
    }
}

/// A table absent from the output is created only when the incremental's DDL jobs create it;
/// otherwise the export is refused naming the table, and nothing is committed.
#[test]
fn a_new_table_without_its_create_table_job_is_refused() {
    let chain = Chain::new();
    let mut lake = Lake::new();
    lake.apply(&chain, 0);
    let without_job = chain.write_extra(&Step {
        name: "inc1-without-create-job",
        ..inc1(false)
    });
    assert_refused(
        &mut lake,
        &without_job,
        &["tags".to_string()],
        "no CREATE TABLE job",
    );
    assert!(!lake.table_dir("tags").join("metadata").exists());
}

/// inc2 on top of the full backup skips inc1: refused, naming the tables' end version (`T1`) and
/// the incremental's start (`T2`). (Without `tags`, which the output does not have yet, so that
/// the gap is the only reason to refuse.)
#[test]
fn a_gap_in_the_chain_is_refused() {
    let chain = Chain::new();
    let mut lake = Lake::new();
    lake.apply(&chain, 0);
    let mut step = inc2();
    step.name = "inc2-without-tags";
    step.tables.retain(|t| t.name != "tags");
    let gap = chain.write_extra(&step);
    assert_refused(&mut lake, &gap, &[T1.to_string(), T2.to_string()], "gap");
}

/// An incremental that starts before the tables' current end version overlaps what they hold:
/// refused, naming both versions.
#[test]
fn an_overlapping_incremental_is_refused() {
    let chain = Chain::new();
    let mut lake = Lake::new();
    lake.apply(&chain, 0);
    lake.apply(&chain, 1);
    // T1 → T3 over tables at T2.
    let overlap = chain.write_extra(&Step {
        name: "inc-overlap",
        writer: writer(T1, T3, Vec::new(), 3000),
        ..inc2()
    });
    assert_refused(
        &mut lake,
        &overlap,
        &[T1.to_string(), T2.to_string()],
        "overlap",
    );
}

/// The same incremental applied a second time after it succeeded: refused, nothing committed.
#[test]
fn an_incremental_applied_twice_is_refused() {
    let chain = Chain::new();
    let mut lake = Lake::new();
    lake.apply(&chain, 0);
    lake.apply(&chain, 1);
    assert_refused(
        &mut lake,
        &chain.backup(1),
        &[T1.to_string(), T2.to_string()],
        "repeat",
    );
    lake.check_rows(&chain, 1);
}

/// An incremental of another cluster, even with the right start version: refused, naming both
/// cluster ids.
#[test]
fn an_incremental_of_another_cluster_is_refused() {
    let chain = Chain::new();
    let mut lake = Lake::new();
    lake.apply(&chain, 0);
    let mut step = inc1(true);
    step.name = "inc1-other-cluster";
    step.writer.cluster_id = OTHER_CLUSTER_ID;
    let other = chain.write_extra(&step);
    assert_refused(
        &mut lake,
        &other,
        &[CLUSTER_ID.to_string(), OTHER_CLUSTER_ID.to_string()],
        "other cluster",
    );
}

/// Applies inc1 with `failpoint` (the run must die, having committed `committed` tables), runs
/// it again, applies inc2, and checks after each that the tables are those of an uninterrupted
/// run: the model's rows, one snapshot per application, and the same schemas and snapshot
/// summaries as a run that was never interrupted.
fn killed_and_rerun(failpoint: &str, committed: usize) {
    let chain = Chain::new();
    let mut lake = Lake::new();
    lake.apply(&chain, 0);
    let hints: BTreeMap<String, Option<String>> = chain.models[1]
        .tables
        .keys()
        .map(|t| (t.clone(), lake.hint(t)))
        .collect();
    let (killed, _) = lake.run(&chain.backup(1), Some(failpoint));
    assert!(
        !killed.status.success(),
        "{failpoint}: not stopped\nstderr: {}",
        String::from_utf8_lossy(&killed.stderr)
    );
    let moved: Vec<&String> = hints
        .iter()
        .filter(|(t, hint)| lake.hint(t) != **hint)
        .map(|(t, _)| t)
        .collect();
    assert_eq!(
        moved.len(),
        committed,
        "{failpoint}: tables committed: {moved:?}"
    );

    lake.reapply(&chain, 1);
    lake.check_rows(&chain, 1);
    lake.apply(&chain, 2);
    lake.check_rows(&chain, 2);

    let mut clean = Lake::new();
    for step in 0..chain.steps.len() {
        clean.apply(&chain, step);
    }
    for table in chain.models[2].tables.keys() {
        let (_, resumed) = lake.current_metadata(table);
        let (_, uninterrupted) = clean.current_metadata(table);
        for key in [
            "schemas",
            "current-schema-id",
            "last-column-id",
            "partition-specs",
        ] {
            assert_eq!(
                identifiers_sorted(&resumed[key]),
                identifiers_sorted(&uninterrupted[key]),
                "{table}: {key}"
            );
        }
        let summaries = |metadata: &Value| -> Vec<Value> {
            metadata["snapshots"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    let summary = &s["summary"];
                    json!([
                        summary["tidb.cluster-id"],
                        summary["tidb.backup.start-version"],
                        summary["tidb.backup.end-version"]
                    ])
                })
                .collect()
        };
        assert_eq!(summaries(&resumed), summaries(&uninterrupted), "{table}");
    }
}

/// Killed right after the first table's new Iceberg version is committed, then run again: every
/// table ends as after an uninterrupted run (the committed one is not applied twice).
#[test]
fn a_run_killed_after_its_first_table_commit_is_completed_by_a_rerun() {
    killed_and_rerun("iceberg-table:1", 1);
}

/// Killed before any Iceberg commit, then run again: as after an uninterrupted run.
#[test]
fn a_run_killed_before_its_iceberg_commits_is_completed_by_a_rerun() {
    killed_and_rerun("describe:1", 0);
}

/// A check of this file's model and reader, through what the exporter already does: a full
/// backup of each step's model state (start 0; the state's rows and schema, cells of dropped
/// columns left out), exported into one output, commits an overwrite snapshot per table; PyIceberg
/// reads each state's rows, and time travel every earlier state's, with the ADD COLUMN, DROP
/// COLUMN, TRUNCATE TABLE and CREATE TABLE of the chain. When an application test fails, this
/// one passing says the expectations are sound.
#[test]
fn the_model_reads_back_through_full_exports_of_each_state() {
    let chain = Chain::new();
    let mut lake = Lake::new();
    for step in 0..chain.steps.len() {
        let model = &chain.models[step];
        let tables: Vec<TestTable> = model
            .tables
            .values()
            .map(|t| {
                let mut table = t.schema.clone();
                let ids: Vec<i64> = table.columns.iter().map(|c| c.id).collect();
                table.rows = t
                    .rows
                    .values()
                    .map(|(r, _)| {
                        let mut r = r.clone();
                        r.cells.retain(|(id, _)| ids.contains(id));
                        r
                    })
                    .collect();
                table
            })
            .collect();
        let dir = chain.dir.path().join(format!("state-{step}"));
        writer(
            0,
            chain.steps[step].writer.end_version,
            Vec::new(),
            1 + 500 * step as u64,
        )
        .write(&dir, &tables)
        .unwrap();
        lake.export(&dir);
        for name in model.tables.keys() {
            let (_, metadata) = lake.current_metadata(name);
            let id = metadata["current-snapshot-id"].as_i64().unwrap();
            lake.snapshots.insert((name.clone(), step), id);
        }
        lake.check_rows(&chain, step);
    }
}

/// `DROP TABLE` in an incremental: the dropped table's Iceberg table gets a snapshot without
/// rows (its earlier snapshot still reads them); the other table is applied as usual.
#[test]
fn a_dropped_table_loses_its_rows_and_keeps_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut full_items = items(false);
    let mut full_tags = tags();
    for id in 1..=3 {
        full_items.rows.push(put(
            id,
            vec![(2, s(&format!("item {id}"))), (3, Cell::Int(id))],
        ));
        full_tags
            .rows
            .push(put(id, vec![(2, s(&format!("tag {id}")))]));
    }
    let full = dir.path().join("full");
    writer(0, T1, Vec::new(), 1)
        .write(&full, &[full_items.clone(), full_tags.clone()])
        .unwrap();
    let mut changed_items = items(false);
    changed_items
        .rows
        .push(put(4, vec![(2, s("item 4")), (3, Cell::Int(4))]));
    let drop = ddl_job(7, ACTION_DROP_TABLE, &full_tags, 500, "DROP TABLE tags");
    let incremental = dir.path().join("inc");
    writer(T1, T2, vec![drop], 100)
        .write(&incremental, &[changed_items])
        .unwrap();

    let mut lake = Lake::new();
    lake.export(&full);
    let report = lake.export(&incremental);
    let dropped = iceberg_entry(&report, "tags");
    assert_eq!(dropped["operation"], "delete", "{dropped}");
    assert_eq!(dropped["apply"]["data_files_removed"], 1, "{dropped}");
    assert_eq!(dropped["apply"]["rows_of_removed_files"], 3, "{dropped}");
    assert_eq!(
        dropped["apply"]["schema_changes"],
        json!(["table dropped (DROP TABLE of table id 500)"])
    );
    assert_eq!(iceberg_entry(&report, "items")["apply"]["rows_inserted"], 1);

    let (metadata, json) = lake.current_metadata("tags");
    let snapshots = json["snapshots"].as_array().unwrap();
    assert_eq!(snapshots.len(), 2);
    let summary = &snapshots[1]["summary"];
    assert_eq!(summary["tidb.backup.end-version"], T2.to_string());
    let first = snapshots[0]["snapshot-id"].as_i64().unwrap();
    let metadata = metadata.to_str().unwrap();
    let Some(reads) = pyiceberg_read(
        dir.path(),
        vec![
            json!({"label": "tags now", "metadata": metadata, "snapshot_id": null}),
            json!({"label": "tags before", "metadata": metadata, "snapshot_id": first}),
        ],
    ) else {
        return;
    };
    assert_eq!(reads[0]["rows"], json!([]), "the dropped table has no rows");
    let labels: Vec<&Value> = reads[1]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| &row[3])
        .collect();
    assert_eq!(labels, vec!["tag 1", "tag 2", "tag 3"]);
}

/// `RENAME TABLE` in an incremental: the table continues under its new name, its history and
/// the earlier rows (still in the old name's directory) kept, the changes applied.
#[test]
fn a_renamed_table_continues_under_its_new_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut full_items = items(false);
    for id in 1..=3 {
        full_items.rows.push(put(
            id,
            vec![(2, s(&format!("item {id}"))), (3, Cell::Int(id))],
        ));
    }
    let full = dir.path().join("full");
    writer(0, T1, Vec::new(), 1)
        .write(&full, std::slice::from_ref(&full_items))
        .unwrap();
    let mut goods = items(false);
    goods.name = "goods".into();
    goods
        .rows
        .push(put(2, vec![(2, s("item 2, renamed")), (3, Cell::Int(20))]));
    goods.rows.push(del(3));
    let rename = ddl_job(
        8,
        ACTION_RENAME_TABLE,
        &goods,
        100,
        "RENAME TABLE items TO goods",
    );
    let incremental = dir.path().join("inc");
    writer(T1, T2, vec![rename], 100)
        .write(&incremental, std::slice::from_ref(&goods))
        .unwrap();

    let mut lake = Lake::new();
    lake.export(&full);
    let report = lake.export(&incremental);
    let entry = iceberg_entry(&report, "goods");
    assert_eq!(entry["apply"]["rows_updated"], 1, "{entry}");
    assert_eq!(entry["apply"]["rows_deleted"], 1, "{entry}");
    let changes = entry["apply"]["schema_changes"].to_string();
    assert!(changes.contains("renamed table"), "{changes}");

    let (metadata, json) = lake.current_metadata("goods");
    assert!(
        json["location"].as_str().unwrap().ends_with("/shop/goods"),
        "{}",
        json["location"]
    );
    let snapshots = json["snapshots"].as_array().unwrap();
    assert_eq!(snapshots.len(), 2, "the history moved with the table");
    let first = snapshots[0]["snapshot-id"].as_i64().unwrap();
    let metadata = metadata.to_str().unwrap();
    let Some(reads) = pyiceberg_read(
        dir.path(),
        vec![
            json!({"label": "goods now", "metadata": metadata, "snapshot_id": null}),
            json!({"label": "goods before", "metadata": metadata, "snapshot_id": first}),
        ],
    ) else {
        return;
    };
    let names = |read: &Value| -> Vec<Value> {
        let mut rows: Vec<(i64, Value)> = read["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| (row[1].as_i64().unwrap(), row[3].clone()))
            .collect();
        rows.sort_by_key(|(handle, _)| *handle);
        rows.into_iter().map(|(_, name)| name).collect()
    };
    assert_eq!(
        names(&reads[0]),
        vec![json!("item 1"), json!("item 2, renamed")]
    );
    assert_eq!(
        names(&reads[1]),
        vec![json!("item 1"), json!("item 2"), json!("item 3")]
    );
}

/// The bundled samples, as the docs show them: the sample backup exported with
/// `--write-iceberg-table`, then the incremental sample applied into the same output. PyIceberg
/// reads every table as the test kit says it is after the changes, and the first snapshot as the
/// sample backup.
#[test]
fn the_bundled_incremental_sample_applies_to_the_bundled_sample() {
    use br_parquet::testkit::sample::{sample_tables, sample_tables_after_incremental};
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut lake = Lake::new();
    lake.export(&examples.join("sample-backup"));
    lake.export(&examples.join("sample-incremental"));
    let scratch = tempfile::tempdir().unwrap();
    for (before, after) in sample_tables()
        .iter()
        .zip(sample_tables_after_incremental())
    {
        let dir = lake
            .root()
            .join(PREFIX)
            .join(&after.db)
            .join(after.name.replace(' ', "%20"));
        let hint = std::fs::read_to_string(dir.join("metadata/version-hint.text")).unwrap();
        assert_eq!(hint.trim(), "2", "{}", after.name);
        let metadata = dir.join("metadata/v2.metadata.json");
        let first = read_json(&metadata)["snapshots"][0]["snapshot-id"]
            .as_i64()
            .unwrap();
        let metadata = metadata.to_str().unwrap();
        let Some(reads) = pyiceberg_read(
            scratch.path(),
            vec![
                json!({"label": "now", "metadata": metadata, "snapshot_id": null}),
                json!({"label": "before", "metadata": metadata, "snapshot_id": first}),
            ],
        ) else {
            return;
        };
        for (read, table) in reads.iter().zip([&after, before]) {
            let want = table.expected_json(PREFIX);
            let columns: Vec<String> = serde_json::from_value(want["columns"].clone()).unwrap();
            let got_columns: Vec<String> = serde_json::from_value(read["columns"].clone()).unwrap();
            assert_eq!(got_columns, columns, "{}", table.name);
            let label = format!("{} {}", table.name, read["label"]);
            // serde_json reads Python's shortest float text to within one ulp, not exactly.
            let floats_rounded = |rows: BTreeMap<String, Vec<Value>>| {
                rows.into_iter()
                    .map(|(key, row)| {
                        let row = row
                            .into_iter()
                            .map(|v| match v.as_f64() {
                                Some(f) if v.is_f64() => json!(format!("{f:.12e}")),
                                _ => v,
                            })
                            .collect();
                        (key, row)
                    })
                    .collect()
            };
            assert_same_rows(
                &label,
                &columns,
                floats_rounded(project(
                    &columns,
                    read["rows"].as_array().unwrap(),
                    &columns,
                )),
                floats_rounded(project(
                    &columns,
                    want["rows"].as_array().unwrap(),
                    &columns,
                )),
            );
        }
    }
}

/// `DROP PARTITION p1` and `ADD PARTITION p2` in an incremental: the dropped partition's data
/// files leave the table whole, the new partition's rows arrive with their partition value.
#[test]
fn dropped_and_added_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let mut full_events = events();
    for id in 1..=4 {
        let partition = if id % 2 == 0 { 301 } else { 302 };
        full_events.rows.push(part(
            partition,
            put(id, vec![(2, s(&format!("kind {id}")))]),
        ));
    }
    let full = dir.path().join("full");
    writer(0, T1, Vec::new(), 1)
        .write(&full, std::slice::from_ref(&full_events))
        .unwrap();
    let mut changed = events();
    changed.partitions = vec![(301, "p0".into()), (303, "p2".into())];
    changed.rows.push(part(303, put(5, vec![(2, s("kind 5"))])));
    changed.rows.push(part(301, del(2)));
    let incremental = dir.path().join("inc");
    writer(T1, T2, Vec::new(), 100)
        .write(&incremental, std::slice::from_ref(&changed))
        .unwrap();

    let mut lake = Lake::new();
    lake.export(&full);
    let report = lake.export(&incremental);
    let applied = &iceberg_entry(&report, "events")["apply"];
    assert_eq!(applied["data_files_removed"], 1, "{applied}");
    assert_eq!(applied["rows_of_removed_files"], 2, "{applied}");
    assert_eq!(applied["rows_deleted"], 1, "{applied}");
    assert_eq!(applied["rows_inserted"], 1, "{applied}");

    let (metadata, _) = lake.current_metadata("events");
    let Some(reads) = pyiceberg_read(
        dir.path(),
        vec![
            json!({"label": "events", "metadata": metadata.to_str().unwrap(), "snapshot_id": null}),
        ],
    ) else {
        return;
    };
    let mut rows: Vec<(i64, i64, String)> = reads[0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row[0].as_i64().unwrap(),
                row[1].as_i64().unwrap(),
                row[2].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        vec![(301, 4, "p0".to_string()), (303, 5, "p2".to_string())]
    );
}
