//! Table selection (`-f`, TiDB's table filter), what is read because of it, and the plan
//! (`--dry-run`): backups written by the test kit with a `mysql` schema and several user
//! databases, exported by the real `tikv-ctl` binary. Values are checked by pyarrow and DuckDB
//! (`tests/python/check_parquet.py`), row counts in Rust from the Parquet footers.

mod common;

use std::path::Path;

use br_parquet::testkit::{tp, BackupWriter, Cell, TestColumn, TestRow, TestTable};
use common::{assert_success, export, walk};
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::Value;

fn table(db: &str, name: &str, id: i64, rows: i64) -> TestTable {
    let mut table = TestTable::new(
        db,
        name,
        id,
        vec![
            TestColumn::new(1, "id", tp::LONGLONG).primary_key(),
            TestColumn::text(2, "note", tp::VARCHAR),
        ],
    );
    table.rows = (1..=rows)
        .map(|h| {
            TestRow::new(
                h,
                vec![
                    (1, Cell::Int(h)),
                    (2, Cell::Str(format!("{db}.{name} row {h}"))),
                ],
            )
        })
        .collect();
    table
}

/// `mysql.user` (3 rows), `shop.orders` (50), `shop.audit` (7), `hr.staff` (5); one range per
/// table, without index keys, so BR's `total_kvs` counts exactly the rows.
fn tables() -> Vec<TestTable> {
    vec![
        table("mysql", "user", 10, 3),
        table("shop", "orders", 20, 50),
        table("shop", "audit", 30, 7),
        table("hr", "staff", 40, 5),
    ]
}

fn write_backup(dir: &Path) -> Vec<TestTable> {
    let tables = tables();
    BackupWriter {
        with_index_keys: false,
        ..Default::default()
    }
    .write(dir, &tables)
    .unwrap();
    tables
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// `db.table` → rows, from the report.
fn exported(report: &Value) -> Vec<(String, u64)> {
    report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                format!(
                    "{}.{}",
                    t["db"].as_str().unwrap(),
                    t["table"].as_str().unwrap()
                ),
                t["rows"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// `db.table` → why it was left out, from the report.
fn excluded(report: &Value) -> Vec<(String, String)> {
    report["excluded_tables"]
        .as_array()
        .map(|tables| {
            tables
                .iter()
                .map(|t| {
                    (
                        format!(
                            "{}.{}",
                            t["db"].as_str().unwrap(),
                            t["table"].as_str().unwrap()
                        ),
                        t["reason"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Rows of every Parquet file under `dir`, read from the footers.
fn parquet_rows(dir: &Path) -> u64 {
    walk(dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .map(|p| {
            let reader = SerializedFileReader::new(std::fs::File::open(p).unwrap()).unwrap();
            reader.metadata().file_metadata().num_rows() as u64
        })
        .sum()
}

#[test]
fn the_default_leaves_system_schemas_out_and_a_rule_naming_one_brings_it() {
    let backup = tempfile::tempdir().unwrap();
    let tables = write_backup(backup.path());
    let out = tempfile::tempdir().unwrap();
    let report_path = out.path().join("report.json");
    let run = export(
        backup.path(),
        out.path(),
        &["--report", report_path.to_str().unwrap()],
    );
    assert_success(&run);
    let report = read_json(&report_path);
    assert_eq!(
        exported(&report),
        [
            ("hr.staff".to_string(), 5),
            ("shop.audit".to_string(), 7),
            ("shop.orders".to_string(), 50)
        ]
    );
    let left_out = excluded(&report);
    assert_eq!(left_out.len(), 1);
    assert_eq!(left_out[0].0, "mysql.user");
    assert!(left_out[0].1.contains("system schema"), "{left_out:?}");
    assert!(!out.path().join("parquet/mysql").exists());
    assert_eq!(parquet_rows(out.path()), 62);
    common::check_parquet(
        out.path(),
        tables[1..]
            .iter()
            .map(|t| t.expected_json("parquet"))
            .collect(),
    );

    let out = tempfile::tempdir().unwrap();
    let report_path = out.path().join("report.json");
    let run = export(
        backup.path(),
        out.path(),
        &["-f", "mysql.*", "--report", report_path.to_str().unwrap()],
    );
    assert_success(&run);
    let report = read_json(&report_path);
    assert_eq!(exported(&report), [("mysql.user".to_string(), 3)]);
    assert_eq!(parquet_rows(out.path()), 3);
    common::check_parquet(out.path(), vec![tables[0].expected_json("parquet")]);
}

#[test]
fn rules_select_tables_and_the_report_says_why_each_other_was_left_out() {
    let backup = tempfile::tempdir().unwrap();
    write_backup(backup.path());
    let out = tempfile::tempdir().unwrap();
    let report_path = out.path().join("report.json");
    let run = export(
        backup.path(),
        out.path(),
        &[
            "-f",
            "SHOP.*",
            "-f",
            "!shop.audit",
            "--report",
            report_path.to_str().unwrap(),
        ],
    );
    assert_success(&run);
    let report = read_json(&report_path);
    assert_eq!(exported(&report), [("shop.orders".to_string(), 50)]);
    let mut left_out = excluded(&report);
    left_out.sort();
    assert_eq!(left_out[0].0, "hr.staff");
    assert_eq!(left_out[0].1, "excluded: no rule matches it");
    assert_eq!(left_out[1].0, "mysql.user");
    assert_eq!(left_out[2].0, "shop.audit");
    assert!(
        left_out[2].1.contains("rule 2") && left_out[2].1.contains("!shop.audit"),
        "{left_out:?}"
    );
    assert_eq!(parquet_rows(out.path()), 50);
    // Case folding is BR's default; --case-sensitive turns it off.
    let strict = tempfile::tempdir().unwrap();
    let run = export(
        backup.path(),
        strict.path(),
        &["-f", "SHOP.*", "--case-sensitive"],
    );
    assert_eq!(run.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(walk(strict.path()).is_empty(), "{stdout}");
}

#[test]
fn the_ssts_of_excluded_tables_are_never_read() {
    let backup = tempfile::tempdir().unwrap();
    write_backup(backup.path());
    // Corrupt every SST of hr.staff (physical id 40 = 0x28 in the test kit's names).
    let corrupted: Vec<_> = walk(backup.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("0000000000000028"))
        .collect();
    assert!(!corrupted.is_empty());
    for path in &corrupted {
        std::fs::write(path, b"not an SST any more").unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let report_path = out.path().join("report.json");
    let run = export(
        backup.path(),
        out.path(),
        &["-f", "shop.*", "--report", report_path.to_str().unwrap()],
    );
    assert_success(&run);
    let report = read_json(&report_path);
    assert_eq!(report["totals"]["rows"], 57);
    let skipped: Vec<&Value> = report["skipped_files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["name"].as_str().unwrap().contains("0000000000000028"))
        .collect();
    assert_eq!(skipped.len(), corrupted.len());
    assert!(skipped.iter().all(|f| f["reason"]
        .as_str()
        .unwrap()
        .contains("holds only tables the filter excludes (hr.staff)")));
    // Every table read is checked against its BR checksum.
    for table in report["tables"].as_array().unwrap() {
        assert_eq!(table["checksum"]["status"], "ok", "{table}");
    }
    // Selecting the table reads its SSTs, and verification catches the corruption.
    let run = export(backup.path(), tempfile::tempdir().unwrap().path(), &[]);
    assert_eq!(run.status.code(), Some(1));
}

#[test]
fn a_filter_selecting_nothing_names_the_closest_tables_and_a_malformed_rule_its_position() {
    let backup = tempfile::tempdir().unwrap();
    write_backup(backup.path());
    let out = tempfile::tempdir().unwrap();
    let run = export(backup.path(), out.path(), &["-f", "shpo.ordres"]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("selects none of the backup's 4 tables"),
        "{stderr}"
    );
    assert!(stderr.contains("shop.orders"), "{stderr}");
    assert!(walk(out.path()).is_empty());

    let run = export(backup.path(), out.path(), &["-f", "shop."]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("--filter") && stderr.contains("\"shop.\"") && stderr.contains("position"),
        "{stderr}"
    );
}

#[test]
fn a_dry_run_reads_only_metadata_writes_nothing_and_estimates_the_rows() {
    let backup = tempfile::tempdir().unwrap();
    let tables = write_backup(backup.path());
    let out = tempfile::tempdir().unwrap();
    let plan_path = tempfile::tempdir().unwrap().path().join("plan.json");
    std::fs::create_dir_all(plan_path.parent().unwrap()).unwrap();
    let run = export(
        backup.path(),
        out.path(),
        &[
            "-f",
            "shop.*",
            "--dry-run",
            "--shard",
            "1/2",
            "--report",
            plan_path.to_str().unwrap(),
        ],
    );
    assert_success(&run);
    assert!(walk(out.path()).is_empty(), "a dry run wrote to the output");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("dry run: would export 2 tables"),
        "{stdout}"
    );
    assert!(
        stdout.contains("hr.staff: excluded: no rule matches it"),
        "{stdout}"
    );
    let plan = read_json(&plan_path);
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["shards"].as_array().unwrap().len(), 2);
    assert_eq!(plan["resumable_jobs"], 0);
    let planned = plan["tables"].as_array().unwrap();
    assert_eq!(planned.len(), 2);
    // The estimate from BR's total_kvs equals the rows the export writes.
    let real = tempfile::tempdir().unwrap();
    let report_path = real.path().join("report.json");
    assert_success(&export(
        backup.path(),
        real.path(),
        &["-f", "shop.*", "--report", report_path.to_str().unwrap()],
    ));
    let report = read_json(&report_path);
    for table in planned {
        let name = format!(
            "{}.{}",
            table["db"].as_str().unwrap(),
            table["table"].as_str().unwrap()
        );
        let exported = exported(&report)
            .into_iter()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1;
        assert_eq!(table["estimated_rows"], exported, "{name}");
        let expected = tables
            .iter()
            .find(|t| format!("{}.{}", t.db, t.name) == name)
            .unwrap()
            .rows
            .len() as u64;
        assert_eq!(exported, expected);
        // The files it plans are the files the export writes.
        for file in table["files"].as_array().unwrap() {
            assert!(
                real.path().join(file.as_str().unwrap()).is_file(),
                "{file} planned, not written"
            );
        }
    }
    // A dry run into an output that does not exist does not create it.
    let missing = out.path().join("not-yet");
    assert_success(&export(backup.path(), &missing, &["--dry-run"]));
    assert!(!missing.exists());
}

/// TiKV merges the regions of small tables, so in a backup of many small tables most SSTs hold
/// several tables: each table's BR checksum is still compared, attributed key by key, with and
/// without `File.table_metas`; a table whose `Schema` checksum is altered is a mismatch.
#[test]
fn every_table_of_an_sst_holding_several_is_checked_against_its_checksum() {
    let mut tables = tables();
    // Long values go to the default CF, so both column families hold several tables.
    tables[1].rows[0].cells[1].1 = Cell::Str("x".repeat(400));
    tables[3].rows[0].cells[1].1 = Cell::Str("y".repeat(300));
    for table_metas in [false, true] {
        let backup = tempfile::tempdir().unwrap();
        let written = BackupWriter::default()
            .write_shared_range(backup.path(), &tables, table_metas)
            .unwrap();
        assert_eq!(
            (written.write_ssts.len(), written.default_ssts.len()),
            (1, 1)
        );
        let out = tempfile::tempdir().unwrap();
        let report_path = out.path().join("report.json");
        let run = export(
            backup.path(),
            out.path(),
            &[
                "-f",
                "*.*",
                "-f",
                "mysql.*",
                "--report",
                report_path.to_str().unwrap(),
            ],
        );
        assert_success(&run);
        let report = read_json(&report_path);
        let checked: Vec<(String, String)> = report["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["table"].as_str().unwrap().to_string(),
                    t["checksum"]["status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(checked.len(), 4, "table_metas {table_metas}: {checked:?}");
        assert!(
            checked.iter().all(|(_, status)| status == "ok"),
            "table_metas {table_metas}: {checked:?}"
        );
        assert_eq!(parquet_rows(out.path()), 65);
        common::check_parquet(
            out.path(),
            tables.iter().map(|t| t.expected_json("parquet")).collect(),
        );
        // Selecting one table of the shared SST checks that one, the others' rows are skipped.
        let one = tempfile::tempdir().unwrap();
        let report_path = one.path().join("report.json");
        assert_success(&export(
            backup.path(),
            one.path(),
            &["-f", "hr.staff", "--report", report_path.to_str().unwrap()],
        ));
        let report = read_json(&report_path);
        assert_eq!(report["tables"][0]["checksum"]["status"], "ok");
        assert_eq!(report["skipped"]["other_table_rows"], 60);
    }

    // A table whose Schema checksum is altered is reported as a mismatch, by name.
    let backup = tempfile::tempdir().unwrap();
    BackupWriter {
        layout: br_parquet::testkit::MetaLayout::V1,
        ..Default::default()
    }
    .write_shared_range(backup.path(), &tables, false)
    .unwrap();
    let meta_path = backup.path().join("backupmeta");
    let mut meta = <br_parquet::proto::backup::BackupMeta as prost::Message>::decode(
        std::fs::read(&meta_path).unwrap().as_slice(),
    )
    .unwrap();
    let audit = meta
        .schemas
        .iter_mut()
        .find(|s| String::from_utf8_lossy(&s.table).contains("\"audit\""))
        .unwrap();
    audit.total_kvs += 1;
    std::fs::write(&meta_path, prost::Message::encode_to_vec(&meta)).unwrap();
    let run = export(backup.path(), tempfile::tempdir().unwrap().path(), &[]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("table shop.audit") && stderr.contains("checksum mismatch"),
        "{stderr}"
    );
}

/// On the bundled sample, whose tables have a secondary index, the plan's row estimate (BR's
/// `total_kvs` over one row key and one index key per row) equals the rows exported.
#[test]
fn the_plan_of_the_sample_estimates_its_rows_exactly() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sample-backup");
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    assert_success(&export(
        &sample,
        &dir.path().join("out"),
        &["--dry-run", "--report", plan_path.to_str().unwrap()],
    ));
    let report_path = dir.path().join("report.json");
    assert_success(&export(
        &sample,
        &dir.path().join("out"),
        &["--report", report_path.to_str().unwrap()],
    ));
    let plan = read_json(&plan_path);
    let report = read_json(&report_path);
    let estimated: Vec<(String, u64)> = plan["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                format!(
                    "{}.{}",
                    t["db"].as_str().unwrap(),
                    t["table"].as_str().unwrap()
                ),
                t["estimated_rows"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut exported = exported(&report);
    exported.sort();
    assert_eq!(estimated, exported);
}

/// An SST whose `File.table_metas` disagrees with the keys it holds fails, naming the file and
/// the physical table.
#[test]
fn an_sst_whose_table_metas_disagree_with_its_keys_fails() {
    let backup = tempfile::tempdir().unwrap();
    BackupWriter {
        layout: br_parquet::testkit::MetaLayout::V1,
        ..Default::default()
    }
    .write_shared_range(backup.path(), &tables(), true)
    .unwrap();
    let meta_path = backup.path().join("backupmeta");
    let mut meta = <br_parquet::proto::backup::BackupMeta as prost::Message>::decode(
        std::fs::read(&meta_path).unwrap().as_slice(),
    )
    .unwrap();
    let file = meta
        .files
        .iter_mut()
        .find(|f| f.name.ends_with("_write.sst"))
        .unwrap();
    assert_eq!(file.table_metas.len(), 4);
    let staff = file
        .table_metas
        .iter_mut()
        .find(|m| m.physical_id == 40)
        .unwrap();
    staff.crc64xor ^= 1;
    let name = file.name.clone();
    std::fs::write(&meta_path, prost::Message::encode_to_vec(&meta)).unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = export(backup.path(), out.path(), &["-f", "*.*"]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&name)
            && stderr.contains("physical table 40")
            && stderr.contains("table_metas"),
        "{stderr}"
    );
    assert!(
        !out.path().join("parquet/hr/staff").exists(),
        "published despite the mismatch"
    );
    // Without verification the same backup exports.
    assert_success(&export(
        backup.path(),
        tempfile::tempdir().unwrap().path(),
        &["-f", "*.*", "--no-verify"],
    ));
}
