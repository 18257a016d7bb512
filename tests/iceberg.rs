//! Iceberg output end to end: backups written by the test kit are exported by the real `tikv-ctl`
//! with `--write-iceberg-table` / `--write-iceberg-manifest`, and the tables are read back by
//! PyIceberg (`StaticTable.from_metadata`), fastavro and DuckDB
//! (`tests/python/check_iceberg.py`), which compare rows, types, field ids, statistics and
//! snapshot history with what the backups hold. Every export's Parquet files are also read back
//! in Rust (`common::readback`) and compared value by value.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use br_parquet::testkit::sample::sample_tables;
use br_parquet::testkit::{tp, BackupWriter, Cell, TestColumn, TestRow, TestTable};
use common::export;
use serde_json::{json, Value};
use sha2::Digest;

/// Rows per backed-up range: small, so every sample table spans several Parquet files.
const ROWS_PER_RANGE: usize = 16;

fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "export failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `table`'s expected Parquet (`TestTable::expected_json`) as an Iceberg table's data files hold
/// it: TIME is a plain `int64` of microseconds there (Iceberg has no duration type, and such
/// files carry no Arrow schema that would say `duration[us]`).
fn iceberg_data_files(table: &TestTable, prefix: &str) -> Value {
    let mut expected = table.expected_json(prefix);
    for (_, arrow_type) in expected["arrow_types"].as_object_mut().unwrap().iter_mut() {
        if arrow_type == "duration[us]" {
            *arrow_type = json!("int64");
        }
    }
    expected
}

/// Reads every Parquet file under `output` back in Rust and compares all values with `tables`,
/// exported as Iceberg tables.
fn check_values(output: &Path, tables: &[TestTable], prefix: &str) {
    let expected: Vec<Value> = tables
        .iter()
        .map(|t| iceberg_data_files(t, prefix))
        .collect();
    assert!(common::readback::check_values(output, &expected) > 0);
}

/// Runs `check_iceberg.py` over `tables` (each an expected-table JSON object).
fn check_iceberg(output: &Path, tables: Vec<Value>) {
    let Some(python) = common::python("pyiceberg, fastavro, pyarrow, duckdb") else {
        return;
    };
    let expected_path = output.join("expected-iceberg.json");
    std::fs::write(
        &expected_path,
        serde_json::to_vec(&json!({ "tables": tables })).unwrap(),
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_iceberg.py");
    let out = Command::new(python)
        .arg(script)
        .arg(output)
        .arg(&expected_path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "Iceberg check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" 0 mismatches"), "{stdout}");
}

/// A table partitioned by TiDB into three partitions (physical ids 401..=403) of 15 rows.
fn events() -> TestTable {
    let mut table = TestTable::new(
        "shop",
        "events",
        400,
        vec![
            TestColumn::new(1, "id", tp::LONGLONG).primary_key(),
            TestColumn::text(2, "kind", tp::VARCHAR).not_null(),
            TestColumn::new(3, "score", tp::DOUBLE),
        ],
    );
    table.partitions = vec![(401, "p0".into()), (402, "p1".into()), (403, "p2".into())];
    for id in 1..=45i64 {
        let cells = vec![
            (
                2,
                Cell::Str(["click", "view", "buy"][(id % 3) as usize].into()),
            ),
            (
                3,
                if id % 7 == 0 {
                    Cell::Null
                } else {
                    Cell::Float(id as f64 * 1.5 - 20.0)
                },
            ),
        ];
        // Each partition holds a contiguous run of ids, as with RANGE partitioning.
        table.rows.push(TestRow {
            physical_id: Some(401 + (id - 1) / 15),
            ..TestRow::new(id, cells)
        });
    }
    table
}

/// Decimal, temporal, ENUM/SET/BIT and JSON columns, with dates rising with the handle so that a
/// date predicate prunes files.
fn typed() -> TestTable {
    let mut table = TestTable::new(
        "shop",
        "typed",
        600,
        vec![
            TestColumn::new(1, "id", tp::LONGLONG).primary_key(),
            TestColumn::decimal(2, "amount", 14, 4),
            TestColumn::time(3, "day", tp::DATE, 0),
            TestColumn::time(4, "at", tp::DATETIME, 6),
            TestColumn::time(5, "seen", tp::TIMESTAMP, 6),
            TestColumn::time(6, "took", tp::DURATION, 6),
            TestColumn::elements(7, "state", tp::ENUM, &["new", "paid", "gone"]),
            TestColumn::elements(8, "tags", tp::SET, &["a", "b", "c"]),
            TestColumn::bit(9, "flags", 24),
            TestColumn::new(10, "doc", tp::JSON),
        ],
    );
    for h in 1..=40i64 {
        let n = h as u8;
        let cells = vec![
            (2, Cell::Decimal(format!("{}.{:04}", h * 3 - 50, h * 7))),
            (
                3,
                Cell::time(2020, 1 + (n - 1) / 10, 1 + (n - 1) % 10, 0, 0, 0, 0),
            ),
            (4, Cell::time(2021, 3, 4, n % 24, 5, 6, 123_456)),
            (5, Cell::time(2022, 5, 6, 7, 8, n % 60, 500_000)),
            // Nanoseconds: from -500 s upwards in steps of 37 s.
            (6, Cell::Duration((h * 37 - 500) * 1_000_000_000)),
            (7, Cell::Enum((h % 3 + 1) as u64)),
            (8, Cell::Set((h % 8) as u64)),
            (9, Cell::Bit((h * 1000) as u64)),
            (
                10,
                if h % 9 == 0 {
                    Cell::Null
                } else {
                    Cell::Json(json!({"h": h}), format!(r#"{{"h": {h}}}"#))
                },
            ),
        ];
        table.rows.push(TestRow::new(h, cells));
    }
    table
}

/// Field ids the export must use: `_tidb_table_id` 1, `_tidb_handle` 2, column `c` → 100 + c.
fn field_ids(table: &TestTable) -> Value {
    let mut ids = serde_json::Map::new();
    ids.insert("_tidb_table_id".into(), json!(1));
    ids.insert("_tidb_handle".into(), json!(2));
    for column in &table.columns {
        ids.insert(column.name.clone(), json!(100 + column.id));
    }
    Value::Object(ids)
}

/// The report's entry for `db.table` in `iceberg_tables`.
fn iceberg_entry<'a>(report: &'a Value, table: &TestTable) -> &'a Value {
    report["iceberg_tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["db"] == table.db && t["table"] == table.name)
        .unwrap_or_else(|| panic!("no iceberg entry for {}.{}", table.db, table.name))
}

/// What `check_iceberg.py` expects of `table` after the export described by `report`, with the
/// earlier snapshots `history` (`(snapshot id, rows)`, oldest first).
fn expected_table(
    table: &TestTable,
    report: &Value,
    history: &[(i64, Value)],
    predicates: Value,
) -> Value {
    let mut expected = table.expected_json("parquet");
    let entry = iceberg_entry(report, table);
    let mut snapshots = Vec::new();
    let mut parent = Value::Null;
    for (i, (id, rows)) in history.iter().enumerate() {
        snapshots.push(
            json!({"snapshot_id": id, "parent": parent, "sequence_number": i + 1,
                              "rows": rows}),
        );
        parent = json!(id);
    }
    snapshots.push(json!({
        "snapshot_id": entry["snapshot_id"],
        "parent": parent,
        "sequence_number": history.len() + 1,
        "rows": expected["rows"],
    }));
    expected["metadata"] = entry["metadata"].clone();
    expected["field_ids"] = field_ids(table);
    expected["partition_ids"] = json!(table.partitions.iter().map(|p| p.0).collect::<Vec<_>>());
    expected["predicates"] = predicates;
    expected["snapshots"] = json!(snapshots);
    expected["metadata_log"] = json!(history.len());
    expected
}

/// A handle from the middle of the table: `_tidb_handle = h` must prune to one file.
fn handle_predicate(table: &TestTable) -> Value {
    let mut handles: Vec<i64> = table.rows.iter().map(|r| r.handle).collect();
    handles.sort_unstable();
    json!({"column": "_tidb_handle", "value": handles[handles.len() / 2], "pruned": true})
}

fn write_backup(dir: &Path, tables: &[TestTable], end_version: u64) {
    BackupWriter {
        rows_per_range: ROWS_PER_RANGE,
        end_version,
        ..Default::default()
    }
    .write(dir, tables)
    .unwrap();
}

fn sha256_hex(path: &Path) -> String {
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

const END_VERSION: u64 = 459_177_129_704_947_714;
/// `END_VERSION >> 18` ms as UTC (checked with Python's datetime).
const END_VERSION_UTC: &str = "2025-07-04T09:35:41.123Z";

#[test]
fn iceberg_tables_are_read_by_pyiceberg_fastavro_and_duckdb() {
    let mut tables = sample_tables();
    tables.push(events());
    tables.push(typed());
    // A table without rows still becomes a table, with an empty snapshot.
    tables.push(TestTable::new(
        "shop",
        "empty",
        700,
        vec![TestColumn::new(1, "id", tp::LONGLONG).primary_key()],
    ));
    let backup = tempfile::tempdir().unwrap();
    write_backup(backup.path(), &tables, END_VERSION);
    let out = tempfile::tempdir().unwrap();
    let report_path = out.path().join("report.json");
    let run = export(
        backup.path(),
        out.path(),
        &[
            "--write-iceberg-table",
            "--write-iceberg-manifest",
            "--report",
            report_path.to_str().unwrap(),
        ],
    );
    assert_success(&run);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("iceberg shop.customers:"), "{stdout}");
    check_values(out.path(), &tables, "parquet");
    let report = read_json(&report_path);

    // One new table version per table, each with one appended snapshot timed at the backup TSO.
    let entries = report["iceberg_tables"].as_array().unwrap();
    assert_eq!(entries.len(), tables.len());
    for table in &tables {
        let entry = iceberg_entry(&report, table);
        let files: Vec<&Value> = report["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["db"] == table.db && f["table"] == table.name)
            .collect();
        if table.rows.is_empty() {
            assert!(files.is_empty());
        } else {
            assert!(files.len() >= 2, "{}: {} files", table.name, files.len());
        }
        assert_eq!(entry["version"], 1);
        assert_eq!(entry["sequence_number"], 1);
        assert_eq!(entry["parent_snapshot_id"], Value::Null);
        assert_eq!(entry["operation"], "append");
        assert_eq!(entry["added_files"], files.len());
        assert_eq!(entry["added_records"], table.rows.len());
        assert_eq!(entry["timestamp_ms"], END_VERSION >> 18);
        let metadata = out.path().join(entry["metadata"].as_str().unwrap());
        assert!(
            metadata.ends_with("metadata/v1.metadata.json"),
            "{metadata:?}"
        );
        let hint = metadata.with_file_name("version-hint.text");
        assert_eq!(std::fs::read_to_string(hint).unwrap(), "1");

        let json = read_json(&metadata);
        assert_eq!(json["format-version"], 2);
        assert_eq!(json["current-snapshot-id"], entry["snapshot_id"]);
        assert_eq!(json["snapshots"][0]["timestamp-ms"], END_VERSION >> 18);
        // The snapshot point for the TiCDC hand-off, as UTC time (docs/live-lakehouse.md).
        assert_eq!(
            json["snapshots"][0]["summary"]["tidb.backup.end-version-utc"],
            END_VERSION_UTC
        );
        assert_eq!(report["backup"]["end_version_utc"], END_VERSION_UTC);
        assert_eq!(report["backup"]["ticdc_start_ts"], END_VERSION);
        assert_eq!(
            json["location"],
            format!(
                "file://{}/{}",
                out.path().display(),
                table.expected_json("parquet")["dir"].as_str().unwrap()
            )
        );
        let properties = &json["properties"];
        assert_eq!(
            properties["tidb.backup.end-version"],
            END_VERSION.to_string()
        );
        assert_eq!(properties["tidb.backup.start-version"], "0");
        assert_eq!(
            properties["tidb.cluster-id"],
            report["backup"]["cluster_id"].to_string()
        );
        assert_eq!(properties["tidb.table-id"], table.id.to_string());
        assert_eq!(properties["write.parquet.compression-codec"], "zstd");
        let mapping: Value =
            serde_json::from_str(properties["schema.name-mapping.default"].as_str().unwrap())
                .unwrap();
        assert_eq!(
            mapping[1],
            json!({"field-id": 2, "names": ["_tidb_handle"]})
        );
        let specs = &json["partition-specs"][0]["fields"];
        if table.partitions.is_empty() {
            assert_eq!(specs, &json!([]));
        } else {
            assert_eq!(
                specs,
                &json!([{"source-id": 1, "field-id": 1000, "name": "_tidb_table_id",
                         "transform": "identity"}])
            );
            assert_eq!(properties["tidb.partition-ids"], "401,402,403");
        }
    }

    // The JSON manifest lists every file with its hash, counts and bounds.
    let manifest_name = report["iceberg_manifest"].as_str().unwrap();
    assert_eq!(
        manifest_name,
        format!("parquet/iceberg-manifest-{END_VERSION}.json")
    );
    let manifest = read_json(&out.path().join(manifest_name));
    assert_eq!(manifest["format"], "br-parquet-manifest");
    assert_eq!(manifest["backup"]["end_version"], END_VERSION);
    assert_eq!(
        manifest["backup"]["cluster_id"],
        report["backup"]["cluster_id"]
    );
    assert_eq!(
        manifest["backup"]["snapshot_timestamp_ms"],
        END_VERSION >> 18
    );
    let listed = manifest["files"].as_array().unwrap();
    assert_eq!(listed.len(), report["files"].as_array().unwrap().len());
    for file in listed {
        let path = out.path().join(file["path"].as_str().unwrap());
        assert_eq!(file["sha256"], sha256_hex(&path));
        assert_eq!(
            file["file_size_in_bytes"],
            std::fs::metadata(&path).unwrap().len()
        );
        assert_eq!(file["format"], "parquet");
        let handle = file["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["field_id"] == 2)
            .unwrap();
        assert_eq!(handle["name"], "_tidb_handle");
        assert_eq!(handle["value_count"], file["record_count"]);
        assert!(handle["lower_bound"].as_i64().unwrap() <= handle["upper_bound"].as_i64().unwrap());
    }
    let events_files: Vec<&Value> = listed.iter().filter(|f| f["table"] == "events").collect();
    assert_eq!(events_files.len(), 3, "one file per partition");
    for file in events_files {
        let id = file["physical_table_id"].as_i64().unwrap();
        assert!((401..=403).contains(&id), "{file}");
    }

    let expected: Vec<Value> = tables
        .iter()
        .map(|table| {
            let mut predicates = Vec::new();
            if !table.rows.is_empty() {
                predicates.push(handle_predicate(table));
            }
            if table.name == "customers" {
                predicates.push(json!({"column": "name", "value": "Grace", "pruned": false}));
            }
            if table.name == "events" {
                predicates.push(json!({"column": "_tidb_table_id", "value": 402, "pruned": true}));
            }
            if table.name == "typed" {
                predicates.push(json!({"column": "day", "value": "2020-03-05", "pruned": true}));
                predicates.push(json!({"column": "state", "value": "paid", "pruned": false}));
            }
            expected_table(table, &report, &[], json!(predicates))
        })
        .collect();
    check_iceberg(out.path(), expected);
}

/// 200 rows: enough ranges that the tables after it get other region numbers, so the second
/// backup's SST (and Parquet) names differ from the first's, as in real BR backups.
fn audit_log() -> TestTable {
    let mut table = TestTable::new(
        "ops",
        "audit_log",
        500,
        vec![TestColumn::text(1, "message", tp::VARCHAR)],
    );
    for handle in 1..=200 {
        table.rows.push(TestRow::new(
            handle,
            vec![(1, Cell::Str(format!("event {handle}")))],
        ));
    }
    table
}

#[test]
fn a_second_export_adds_a_snapshot_and_keeps_the_first() {
    let first_tables = sample_tables();
    let first = tempfile::tempdir().unwrap();
    write_backup(first.path(), &first_tables, END_VERSION);
    let out = tempfile::tempdir().unwrap();
    let report1_path = out.path().join("report1.json");
    assert_success(&export(
        first.path(),
        out.path(),
        &[
            "--write-iceberg-table",
            "--report",
            report1_path.to_str().unwrap(),
        ],
    ));
    let report1 = read_json(&report1_path);
    check_values(out.path(), &first_tables, "parquet");
    let v1 = out
        .path()
        .join("parquet/shop/customers/metadata/v1.metadata.json");
    let v1_bytes = std::fs::read(&v1).unwrap();

    // A later backup: customers gained rows and changed one, and a new table came first.
    let mut second_tables = vec![audit_log()];
    second_tables.extend(sample_tables());
    {
        let customers = &mut second_tables[1];
        assert_eq!(customers.name, "customers");
        for id in 41..=50 {
            customers.rows.push(TestRow::new(
                id,
                vec![(2, Cell::Str(format!("new customer {id}")))],
            ));
        }
        customers.rows[0].cells[0] = (2, Cell::Str("Ada Lovelace".into()));
    }
    let later = END_VERSION + (3_600_000 << 18);
    let second = tempfile::tempdir().unwrap();
    write_backup(second.path(), &second_tables, later);
    let report2_path = out.path().join("report2.json");
    assert_success(&export(
        second.path(),
        out.path(),
        &[
            "--write-iceberg-table",
            "--report",
            report2_path.to_str().unwrap(),
        ],
    ));
    let report2 = read_json(&report2_path);
    // The table directories also hold the first export's files: only the second's are current.
    let current: Vec<Value> = second_tables
        .iter()
        .map(|t| iceberg_data_files(t, "parquet"))
        .collect();
    assert!(common::readback::check_report_values(out.path(), &report2, &current) > 0);

    assert_eq!(
        std::fs::read(&v1).unwrap(),
        v1_bytes,
        "v1 is never rewritten"
    );
    for table in &first_tables {
        let before = iceberg_entry(&report1, table);
        let after = iceberg_entry(&report2, table);
        assert_eq!(after["version"], 2);
        assert_eq!(after["sequence_number"], 2);
        assert_eq!(after["parent_snapshot_id"], before["snapshot_id"]);
        assert_ne!(after["snapshot_id"], before["snapshot_id"]);
        assert_eq!(after["operation"], "overwrite");
        assert_eq!(after["deleted_files"], before["added_files"]);
        assert_eq!(after["timestamp_ms"], later >> 18);
        assert!(after.get("rewritten_files").is_none(), "{after}");
        let metadata = read_json(&out.path().join(after["metadata"].as_str().unwrap()));
        assert_eq!(metadata["last-sequence-number"], 2);
        assert_eq!(metadata["snapshots"].as_array().unwrap().len(), 2);
        assert_eq!(metadata["snapshot-log"].as_array().unwrap().len(), 2);
        let log = metadata["metadata-log"].as_array().unwrap();
        assert_eq!(log.len(), 1);
        assert!(log[0]["metadata-file"]
            .as_str()
            .unwrap()
            .ends_with("/metadata/v1.metadata.json"));
        assert_eq!(
            metadata["properties"]["tidb.backup.end-version"],
            later.to_string()
        );
    }
    assert_eq!(iceberg_entry(&report2, &second_tables[0])["version"], 1);

    let mut expected = Vec::new();
    for table in &second_tables {
        let history: Vec<(i64, Value)> = first_tables
            .iter()
            .find(|t| t.name == table.name)
            .map(|old| {
                let id = iceberg_entry(&report1, old)["snapshot_id"]
                    .as_i64()
                    .unwrap();
                vec![(id, old.expected_json("parquet")["rows"].clone())]
            })
            .unwrap_or_default();
        expected.push(expected_table(
            table,
            &report2,
            &history,
            json!([handle_predicate(table)]),
        ));
    }
    check_iceberg(out.path(), expected);

    // An older backup cannot follow: refused before any file is written.
    let older = tempfile::tempdir().unwrap();
    write_backup(older.path(), &first_tables, END_VERSION - (3_600_000 << 18));
    let some_file = out
        .path()
        .join(report2["files"][0]["path"].as_str().unwrap());
    let hash = sha256_hex(&some_file);
    let run = export(older.path(), out.path(), &["--write-iceberg-table"]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("snapshots must not go back in time"),
        "{stderr}"
    );
    assert_eq!(sha256_hex(&some_file), hash);
    assert!(!out
        .path()
        .join("parquet/shop/customers/metadata/v3.metadata.json")
        .exists());
}

#[test]
fn br_writes_the_manifest_without_tables() {
    let backup = tempfile::tempdir().unwrap();
    write_backup(backup.path(), &sample_tables(), END_VERSION);
    let run = Command::new(env!("CARGO_BIN_EXE_br"))
        .args([
            "backup",
            "full",
            "-s",
            &format!("local://{}", backup.path().display()),
            "--parquet-only",
            "--parquet-output-prefix",
            "lake",
            "--parquet-write-iceberg-manifest",
        ])
        .output()
        .unwrap();
    assert_success(&run);
    let manifest = read_json(
        &backup
            .path()
            .join(format!("lake/iceberg-manifest-{END_VERSION}.json")),
    );
    assert_eq!(manifest["format_version"], 1);
    let tables = manifest["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 3);
    for table in tables {
        assert_eq!(table["iceberg_metadata"], Value::Null);
        assert_eq!(table["iceberg_schema"]["fields"][0]["id"], 1);
        let dir = table["location"]
            .as_str()
            .unwrap()
            .strip_prefix("file://")
            .unwrap();
        assert!(!Path::new(dir).join("metadata").exists());
    }
    let total: u64 = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["record_count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 125);
    check_values(backup.path(), &sample_tables(), "lake");
}

/// The files of the JSON manifest under `root`, with `root` itself left out of their URIs.
fn manifest_files(root: &Path) -> Value {
    let name = root.join(format!("parquet/iceberg-manifest-{END_VERSION}.json"));
    let text = std::fs::read_to_string(name).unwrap();
    let manifest: Value =
        serde_json::from_str(&text.replace(&root.display().to_string(), "<root>")).unwrap();
    manifest["files"].clone()
}

/// An export with both kinds of Iceberg output, one job at a time (so a failpoint's count is
/// deterministic).
const RESUMABLE_FLAGS: [&str; 6] = [
    "--write-iceberg-table",
    "--write-iceberg-manifest",
    "--concurrency",
    "1",
    "--progress",
    "none",
];

/// Runs an export with `flags` that the test hook stops abruptly at `failpoint`.
fn kill_export(input: &Path, output: &Path, flags: &[&str], failpoint: &str) {
    let killed = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"))
        .args(["br", "parquet-export", "--input"])
        .arg(input)
        .arg("--output")
        .arg(output)
        .args(flags)
        .env("BR_PARQUET_FAILPOINT", failpoint)
        .output()
        .unwrap();
    assert!(!killed.status.success(), "{failpoint}: not stopped");
}

#[test]
fn a_resumed_run_describes_its_files_like_an_uninterrupted_one() {
    let mut tables = sample_tables();
    tables.push(typed());
    let backup = tempfile::tempdir().unwrap();
    write_backup(backup.path(), &tables, END_VERSION);
    let flags = RESUMABLE_FLAGS;
    let clean = tempfile::tempdir().unwrap();
    assert_success(&export(backup.path(), clean.path(), &flags));

    // Killed after 3 jobs: their column statistics come back from their markers.
    let out = tempfile::tempdir().unwrap();
    kill_export(backup.path(), out.path(), &flags, "range:3");
    let reports = tempfile::tempdir().unwrap();
    let report_path = reports.path().join("report.json");
    let mut resumed_flags = flags.to_vec();
    resumed_flags.extend(["--report", report_path.to_str().unwrap()]);
    assert_success(&export(backup.path(), out.path(), &resumed_flags));
    let report = read_json(&report_path);
    assert_eq!(report["resume"]["resumed_jobs"], 3);
    check_values(clean.path(), &tables, "parquet");
    check_values(out.path(), &tables, "parquet");

    let files = manifest_files(out.path());
    assert_eq!(files, manifest_files(clean.path()));
    assert!(files.as_array().unwrap().len() > 3, "{files}");
    for table in &tables {
        let entry = iceberg_entry(&report, table);
        let listed = report["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["db"] == table.db && f["table"] == table.name)
            .count();
        assert_eq!(entry["added_files"], listed, "{}", table.name);
        assert_eq!(entry["added_records"], table.rows.len(), "{}", table.name);
    }
}

#[test]
fn a_run_killed_before_its_iceberg_commit_is_resumed_from_the_published_files() {
    let tables = sample_tables();
    let backup = tempfile::tempdir().unwrap();
    write_backup(backup.path(), &tables, END_VERSION);
    let flags = RESUMABLE_FLAGS;
    let reports = tempfile::tempdir().unwrap();
    let export_with_report = |output: &Path, name: &str| {
        let path = reports.path().join(name);
        let mut with_report = flags.to_vec();
        with_report.extend(["--report", path.to_str().unwrap()]);
        assert_success(&export(backup.path(), output, &with_report));
        read_json(&path)
    };
    let clean = tempfile::tempdir().unwrap();
    let clean_report = export_with_report(clean.path(), "clean.json");

    // Killed with every file published and no table described yet.
    let out = tempfile::tempdir().unwrap();
    kill_export(backup.path(), out.path(), &flags, "describe:1");
    for table in &tables {
        let metadata = iceberg_entry(&clean_report, table)["metadata"]
            .as_str()
            .unwrap();
        assert!(!out.path().join(metadata).exists(), "{metadata}");
    }

    let report = export_with_report(out.path(), "resumed.json");
    assert_eq!(report["resume"]["exported_jobs"], 0, "{}", report["resume"]);
    assert_eq!(
        report["resume"]["resumed_jobs"],
        clean_report["resume"]["exported_jobs"]
    );
    assert_eq!(report["totals"]["ssts_read"], 0);
    check_values(clean.path(), &tables, "parquet");
    check_values(out.path(), &tables, "parquet");

    // The same files, described as an uninterrupted run describes them: a first snapshot each.
    assert_eq!(manifest_files(out.path()), manifest_files(clean.path()));
    for table in &tables {
        let (resumed, uninterrupted) = (
            iceberg_entry(&report, table),
            iceberg_entry(&clean_report, table),
        );
        for key in ["metadata", "version", "sequence_number", "operation"] {
            assert_eq!(resumed[key], uninterrupted[key], "{}: {key}", table.name);
        }
        for key in ["added_files", "added_records"] {
            assert_eq!(resumed[key], uninterrupted[key], "{}: {key}", table.name);
        }
        let metadata = read_json(&out.path().join(resumed["metadata"].as_str().unwrap()));
        assert_eq!(metadata["snapshots"].as_array().unwrap().len(), 1);
    }
    // Markers are removed once the tables are described, and the emptied staging with them.
    for root in [out.path(), clean.path()] {
        let staging = root.join("parquet/_br_parquet_staging");
        assert!(!staging.exists(), "{} is left", staging.display());
    }
}
