//! Every TiDB type, exactly: backups with every column type and its extremes, clustered and
//! `_tidb_rowid` tables, partitions, added columns, row format v1, generated columns and
//! incremental deletes are exported by the real binary and read back in Rust
//! (`common::readback`) and by pyarrow and DuckDB (`tests/python/check_parquet.py`), which
//! compare every value and every column type; Spark reads every table too
//! (`tests/python/check_spark.py`).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use br_parquet::testkit::{tp, BackupWriter, Cell, TestColumn, TestRow, TestTable};
use common::tables::{all_types, long_text};
use serde_json::json;

fn export(input: &Path, output: &Path) -> (Output, serde_json::Value) {
    let report = output.join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"))
        .args(["br", "parquet-export", "--input"])
        .arg(input)
        .arg("--output")
        .arg(output)
        .arg("--report")
        .arg(&report)
        .output()
        .expect("run tikv-ctl");
    assert!(
        out.status.success(),
        "export failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    (out, report)
}

fn check(output: &Path, expected: Vec<serde_json::Value>) {
    common::check_parquet(output, expected);
}

fn write(tables: &[TestTable], writer: BackupWriter) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    writer.write(dir.path(), tables).unwrap();
    dir
}

#[test]
fn all_types_are_exact() {
    let tables = vec![all_types()];
    let backup = write(&tables, BackupWriter::default());
    let out = tempfile::tempdir().unwrap();
    let (_, report) = export(backup.path(), out.path());
    let table = &report["tables"][0];
    assert_eq!(table["rows"], 15);
    // Two rows hold zero or invalid dates in each of d, dt, ts: written as NULL and counted.
    assert_eq!(table["invalid_dates"], json!({"d": 2, "dt": 2, "ts": 2}));
    assert_eq!(report["totals"]["invalid_dates"], 6);
    check(out.path(), vec![tables[0].expected_json("parquet")]);
}

/// A clustered table whose primary key (INT UNSIGNED, VARCHAR, DECIMAL, DATE) is the handle.
fn clustered_table() -> TestTable {
    let mut table = TestTable::new(
        "db",
        "clustered",
        600,
        vec![
            TestColumn::new(1, "tenant", tp::LONG).unsigned(),
            TestColumn::text(2, "code", tp::VARCHAR),
            TestColumn::decimal(3, "price", 10, 2),
            TestColumn::time(4, "day", tp::DATE, 0),
            TestColumn::text(5, "note", tp::VARCHAR),
        ],
    )
    .clustered(&[1, 2, 3, 4]);
    for i in 0..40u64 {
        table.rows.push(TestRow::new(
            0,
            vec![
                (1, Cell::Int(i as i64 % 3)),
                (2, Cell::Str(format!("code-{i:03}"))),
                (3, Cell::Decimal(format!("{}.{:02}", i * 7, i % 100))),
                (
                    4,
                    Cell::time(2020, 1 + (i % 12) as u8, 1 + (i % 28) as u8, 0, 0, 0, 0),
                ),
                (
                    5,
                    if i % 4 == 0 {
                        Cell::Null
                    } else {
                        Cell::Str(long_text(10 + i as usize * 10))
                    },
                ),
            ],
        ));
    }
    table
}

#[test]
fn clustered_primary_keys_come_from_the_key() {
    let tables = vec![clustered_table()];
    let backup = write(
        &tables,
        BackupWriter {
            rows_per_range: 15,
            ..Default::default()
        },
    );
    let out = tempfile::tempdir().unwrap();
    export(backup.path(), out.path());
    check(out.path(), vec![tables[0].expected_json("parquet")]);
}

/// A partitioned table with generated columns and columns added after some rows were written.
fn events_table() -> TestTable {
    let mut table = TestTable::new(
        "db",
        "events",
        700,
        vec![
            TestColumn::new(1, "id", tp::LONGLONG).primary_key(),
            TestColumn::text(2, "kind", tp::VARCHAR).not_null(),
            TestColumn::new(3, "kind_len", tp::LONG).generated("char_length(`kind`)", false),
            TestColumn::new(4, "id2", tp::LONGLONG).generated("`id` * 2", true),
            // Added after the rows below 50 were written.
            TestColumn::decimal(5, "fee", 8, 3)
                .not_null()
                .origin_default(json!("1.500")),
            TestColumn::time(6, "since", tp::DATETIME, 0)
                .origin_default(json!("2020-02-29 12:00:00")),
            TestColumn::elements(7, "tier", tp::ENUM, &["free", "pro"])
                .origin_default(json!("pro")),
            TestColumn::new(8, "flags", tp::SET).origin_default(json!("")),
            TestColumn::time(9, "dur", tp::DURATION, 0).origin_default(json!("-12:30:00")),
            TestColumn::new(10, "score", tp::DOUBLE).origin_default(json!(2.5)),
            TestColumn::new(11, "doc", tp::JSON).origin_default(json!(null)),
        ],
    );
    table.columns[7] =
        TestColumn::elements(8, "flags", tp::SET, &["a", "b"]).origin_default(json!("a,b"));
    table.partitions = vec![
        (701, "p0".into()),
        (702, "p1 ✓".into()),
        (703, "p_empty".into()),
    ];
    for id in 0..100i64 {
        let mut cells = vec![
            (2, Cell::Str(format!("k{}", id % 7))),
            (4, Cell::Int(id * 2)),
        ];
        if id >= 50 {
            cells.extend([
                (5, Cell::Decimal("0.250".into())),
                (6, Cell::Null),
                (7, Cell::Enum(1)),
                (8, Cell::Set(0)),
                (9, Cell::Duration(0)),
                (10, Cell::Float(-1.0)),
                (11, Cell::Json(json!([1]), "[1]".into())),
            ]);
        }
        let mut row = TestRow::new(id, cells);
        row.physical_id = Some(if id < 60 { 701 } else { 702 });
        table.rows.push(row);
    }
    table
}

#[test]
fn partitions_added_columns_and_generated_columns() {
    let tables = vec![events_table()];
    let backup = write(
        &tables,
        BackupWriter {
            rows_per_range: 40,
            ..Default::default()
        },
    );
    let out = tempfile::tempdir().unwrap();
    let (_, report) = export(backup.path(), out.path());
    assert_eq!(report["tables"][0]["rows"], 100);
    assert_eq!(
        report["tables"][0]["virtual_columns"],
        json!({"kind_len": "char_length(`kind`)"})
    );
    check(out.path(), vec![tables[0].expected_json("parquet")]);
}

fn incremental_writer() -> BackupWriter {
    BackupWriter {
        start_version: 459_177_000_000_000_000,
        ..Default::default()
    }
}

/// Rows of an incremental backup, every third one a delete.
fn accounts_table() -> TestTable {
    let mut table = TestTable::new(
        "db",
        "accounts",
        800,
        vec![
            TestColumn::new(1, "id", tp::LONGLONG).primary_key(),
            TestColumn::text(2, "owner", tp::VARCHAR).not_null(),
            TestColumn::decimal(3, "balance", 20, 2).not_null(),
        ],
    );
    for id in 0..30i64 {
        let mut row = TestRow::new(
            id,
            vec![
                (2, Cell::Str(format!("o{id}"))),
                (3, Cell::Decimal(format!("{id}.05"))),
            ],
        );
        row.deleted = id % 3 == 0;
        table.rows.push(row);
    }
    table
}

#[test]
fn incremental_backups_export_deletes() {
    let tables = vec![accounts_table()];
    let writer = incremental_writer();
    let backup = write(&tables, writer.clone());
    let out = tempfile::tempdir().unwrap();
    let (stdout, report) = export(backup.path(), out.path());
    assert_eq!(report["totals"]["delete_rows"], 10);
    assert!(String::from_utf8_lossy(&stdout.stdout).contains("10 rows are deletes"));
    check(
        out.path(),
        vec![tables[0].expected_incremental_json("parquet", &writer)],
    );
}

/// Database, table and column names that need escaping.
fn names_table() -> TestTable {
    let mut table = TestTable::new(
        "my db/../x",
        "表 名.v1",
        900,
        vec![
            TestColumn::new(1, "ID", tp::LONG).primary_key(),
            TestColumn::text(2, "列 with space", tp::VARCHAR),
            TestColumn::text(3, "select", tp::VARCHAR),
        ],
    );
    table.rows.push(TestRow::new(
        1,
        vec![(2, Cell::Str("a".into())), (3, Cell::Str("b".into()))],
    ));
    table
}

#[test]
fn names_with_unicode_spaces_and_reserved_characters() {
    let tables = vec![names_table()];
    let backup = write(&tables, BackupWriter::default());
    let out = tempfile::tempdir().unwrap();
    let (_, report) = export(backup.path(), out.path());
    let path = report["files"][0]["path"].as_str().unwrap();
    assert!(
        path.starts_with("parquet/my%20db%2F%2E%2E%2Fx/%E8%A1%A8%20%E5%90%8D%2Ev1/"),
        "{path}"
    );
    check(out.path(), vec![tables[0].expected_json("parquet")]);
}

/// Apache Spark, the engine most users read with, reads every table of the tests above whole
/// (local mode on the machine's JDK, one session for all tables: `tests/python/check_spark.py`),
/// and its DECIMAL, DATE and TIMESTAMP values equal pyarrow's. Under `CI=true` a missing
/// pyspark or `java` fails the test.
#[test]
fn spark_reads_every_table_and_agrees_with_pyarrow() {
    let Some(python) = common::python("pyarrow, pyspark") else {
        return;
    };
    if Command::new("java").arg("-version").output().is_err() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "java (a JDK for Spark) is missing"
        );
        eprintln!("NOTICE: java not found; Spark check skipped");
        return;
    }
    let cases = [
        ("all_types", vec![all_types()], BackupWriter::default()),
        (
            "clustered",
            vec![clustered_table()],
            BackupWriter {
                rows_per_range: 15,
                ..Default::default()
            },
        ),
        (
            "events",
            vec![events_table()],
            BackupWriter {
                rows_per_range: 40,
                ..Default::default()
            },
        ),
        ("accounts", vec![accounts_table()], incremental_writer()),
        ("names", vec![names_table()], BackupWriter::default()),
    ];
    let root = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for (name, tables, writer) in &cases {
        let backup = write(tables, writer.clone());
        let out = root.path().join(name);
        export(backup.path(), &out);
        for dir in common::readback::read_export(&out).keys() {
            dirs.push(out.join(dir));
        }
    }
    assert_eq!(dirs.len(), cases.len(), "{dirs:?}");
    let list = root.path().join("tables.json");
    std::fs::write(
        &list,
        serde_json::to_vec(&json!({ "tables": dirs })).unwrap(),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_spark.py"))
        .arg(&list)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(" 0 mismatches"),
        "Spark check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{} ({:.1?} in all)", stdout.trim(), started.elapsed());
}

/// Bytes TiDB and TiKV wrote (docs/formats.md §10, from a PingCAP BR
/// test-data generator), in an SST written by real RocksDB (`ldb write_extern_sst`): neither the
/// key/value bytes nor the SST come from this project's encoders.
#[test]
fn foreign_bytes_from_tidb_in_a_rocksdb_sst() {
    use br_parquet::proto::backup::{BackupMeta, File, Schema};
    use prost::Message;
    use sha2::Digest;

    if Command::new("ldb").arg("--help").output().is_err() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "ldb (rocksdb-tools) is missing"
        );
        eprintln!("NOTICE: ldb not found; run scripts/test.sh");
        return;
    }
    let backup = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let db = scratch.path().join("db");
    let ldb = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = Command::new("ldb")
            .arg(format!("--db={}", db.display()))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "ldb {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ldb(&["--create_if_missing", "put", "a", "b"], "");
    let key = "0x7A7480000000000000FF6E5F728000000000FF0000010000000000FAF9A0ACD556F3FFFD";
    let value = "0x508180B0C8AAE5D4AF06760A80000100000001010001";
    std::fs::create_dir_all(backup.path().join("1")).unwrap();
    let sst = backup.path().join("1/7_2_ab_write.sst");
    ldb(
        &[
            "--hex",
            "--compression_type=lz4",
            "write_extern_sst",
            sst.to_str().unwrap(),
        ],
        &format!("{key} ==> {value}\n"),
    );
    let bytes = std::fs::read(&sst).unwrap();
    let db_json = r#"{"id":2,"db_name":{"O":"test","L":"test"},"charset":"utf8mb4","collate":"utf8mb4_bin","Deprecated":{},"state":5,"policy_ref_info":null}"#;
    let table_json = r#"{"id":110,"name":{"O":"t1","L":"t1"},"charset":"utf8mb4","collate":"utf8mb4_bin","cols":[{"id":1,"name":{"O":"a","L":"a"},"offset":0,"origin_default":null,"origin_default_bit":null,"default":null,"default_bit":null,"default_is_expr":false,"generated_expr_string":"","generated_stored":false,"dependences":null,"type":{"Tp":3,"Flag":0,"Flen":11,"Decimal":0,"Charset":"binary","Collate":"binary","Elems":null,"ElemsIsBinaryLit":null,"Array":false},"state":5,"comment":"","hidden":false,"change_state_info":null,"version":2}],"index_info":null,"state":5,"pk_is_handle":false,"is_common_handle":false,"partition":null,"view":null,"sequence":null}"#;
    let meta = BackupMeta {
        cluster_id: 1,
        end_version: 459_177_129_704_947_715,
        version: 0,
        new_collations_enabled: "True".into(),
        ddls: b"[]".to_vec(),
        files: vec![File {
            name: "1/7_2_ab_write.sst".into(),
            sha256: sha2::Sha256::digest(&bytes).to_vec(),
            start_key: hex::decode("74800000000000006e5f72").unwrap(),
            end_key: hex::decode("74800000000000006e5f73").unwrap(),
            cf: "write".into(),
            size: bytes.len() as u64,
            // BR's checksum of the one pair: raw key (19 bytes) ‖ row value (10 bytes).
            crc64xor: crc64_xz_bitwise(
                &[
                    hex::decode("74800000000000006e5f728000000000000001").unwrap(),
                    hex::decode("80000100000001010001").unwrap(),
                ]
                .concat(),
            ),
            total_kvs: 1,
            total_bytes: 29,
            ..Default::default()
        }],
        schemas: vec![Schema {
            db: db_json.as_bytes().to_vec().into(),
            table: table_json.as_bytes().to_vec().into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    std::fs::write(backup.path().join("backupmeta"), meta.encode_to_vec()).unwrap();

    let out = tempfile::tempdir().unwrap();
    let (stdout, report) = export(backup.path(), out.path());
    assert_eq!(
        report["totals"]["rows"],
        1,
        "{}\n{report:#}",
        String::from_utf8_lossy(&stdout.stdout)
    );
    check(
        out.path(),
        vec![json!({
            "dir": "parquet/test/t1",
            "columns": ["_tidb_table_id", "_tidb_handle", "a"],
            "arrow_types": {"_tidb_table_id": "int64", "_tidb_handle": "int64", "a": "int32"},
            "required": ["_tidb_table_id", "_tidb_handle"],
            "rows": [[110, 1, 1]],
        })],
    );
}

#[test]
fn strict_stops_at_a_bad_row_and_lenient_skips_and_reports_it() {
    let mut table = TestTable::new(
        "db",
        "dirty",
        950,
        vec![
            TestColumn::new(1, "id", tp::LONGLONG).primary_key(),
            TestColumn::text(2, "name", tp::VARCHAR),
            TestColumn::new(3, "n", tp::LONG),
        ],
    );
    for id in 0..20i64 {
        let cells = match id {
            // Not UTF-8 in a utf8mb4 column.
            5 => vec![(2, Cell::Bytes(vec![0xff, 0xfe])), (3, Cell::Int(5))],
            // A 3-byte payload cannot be a v2 integer (1, 2, 4 or 8 bytes).
            11 => vec![(2, Cell::Str("x".into())), (3, Cell::Bytes(vec![1, 2, 3]))],
            _ => vec![(2, Cell::Str(format!("n{id}"))), (3, Cell::Int(id))],
        };
        table.rows.push(TestRow::new(id, cells));
    }
    let backup = write(std::slice::from_ref(&table), BackupWriter::default());

    let out = tempfile::tempdir().unwrap();
    let strict = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"))
        .args(["br", "parquet-export", "--input"])
        .arg(backup.path())
        .arg("--output")
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&strict.stderr);
    assert!(
        stderr.contains("table db.dirty: key 7480000000000003b65f728000000000000005: column \"name\" (id 2): text is not valid UTF-8"),
        "{stderr}"
    );

    let report_path = out.path().join("report.json");
    let lenient = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"))
        .args(["br", "parquet-export", "--lenient", "--input"])
        .arg(backup.path())
        .arg("--output")
        .arg(out.path())
        .arg("--report")
        .arg(&report_path)
        .output()
        .unwrap();
    assert!(
        lenient.status.success(),
        "{}",
        String::from_utf8_lossy(&lenient.stderr)
    );
    assert!(String::from_utf8_lossy(&lenient.stdout).contains("dropped 2 undecodable rows"));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    assert_eq!(report["mode"], "lenient");
    assert_eq!(report["totals"]["rows"], 18);
    assert_eq!(
        report["tables"][0]["reconciliation"],
        "ok: 20 row keys read = 18 rows exported + 2 skipped, and all 40 keys match the backup's own checksum"
    );
    let skipped = &report["skipped_rows"][0];
    assert_eq!(skipped["count"], 2);
    assert_eq!(
        skipped["first"][0]["key"],
        "7480000000000003b65f728000000000000005"
    );
    assert_eq!(
        skipped["first"][1]["key"],
        "7480000000000003b65f72800000000000000b"
    );
    assert!(skipped["first"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("column \"n\""));

    table.rows.retain(|r| r.handle != 5 && r.handle != 11);
    check(out.path(), vec![table.expected_json("parquet")]);
}

/// CRC-64/XZ, bit by bit: an independent check of the table-driven one in `codec::checksum`.
fn crc64_xz_bitwise(data: &[u8]) -> u64 {
    const POLY: u64 = 0xC96C_5795_D787_0F42; // ECMA-182, reflected
    let mut crc = u64::MAX;
    for byte in data {
        crc ^= u64::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn bitwise_crc64_matches_the_published_check_value() {
    assert_eq!(crc64_xz_bitwise(b"123456789"), 0x995d_c9bb_df19_39fa);
}
