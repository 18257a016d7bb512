//! Iceberg catalog checks shared by the catalog tests: the expected tables of a history of
//! backups, and `tests/python/check_catalog.py`, which reads them through PyIceberg's
//! `SqlCatalog`.

use std::path::Path;
use std::process::Command;

use br_parquet::testkit::sample::sample_tables;
use br_parquet::testkit::{tp, Cell, TestColumn, TestRow, TestTable};
use serde_json::{json, Value};

/// The sample tables as a later backup holds them: customers gained rows and changed one, and a
/// new table came first (which also gives every other table's SSTs new names, as BR's names of
/// two backups always differ; the test kit's follow the table order).
pub fn later_tables() -> Vec<TestTable> {
    let mut audit = TestTable::new(
        "ops",
        "audit_log",
        500,
        vec![TestColumn::text(1, "message", tp::VARCHAR)],
    );
    for handle in 1..=30 {
        audit.rows.push(TestRow::new(
            handle,
            vec![(1, Cell::Str(format!("event {handle}")))],
        ));
    }
    let mut tables = vec![audit];
    tables.extend(sample_tables());
    let customers = &mut tables[1];
    assert_eq!(customers.name, "customers");
    for id in 41..=50 {
        customers.rows.push(TestRow::new(
            id,
            vec![(2, Cell::Str(format!("new customer {id}")))],
        ));
    }
    customers.rows[0].cells[0] = (2, Cell::Str("Ada Lovelace".into()));
    tables
}

/// What PyIceberg must find: every table with its current rows and each snapshot's rows.
pub fn expected(
    sqlalchemy_uri: &str,
    history: &[Vec<TestTable>],
    namespace_of: impl Fn(&str) -> String,
) -> Value {
    let current = history.last().unwrap();
    let mut namespaces: Vec<String> = current.iter().map(|t| namespace_of(&t.db)).collect();
    namespaces.sort();
    namespaces.dedup();
    let tables: Vec<Value> = current
        .iter()
        .map(|table| {
            let want = table.expected_json("parquet");
            let snapshots: Vec<Value> = history
                .iter()
                .filter_map(|tables| tables.iter().find(|t| t.name == table.name))
                .map(|old| old.expected_json("parquet")["rows"].clone())
                .collect();
            json!({
                "namespace": namespace_of(&table.db), "table": table.name,
                "columns": want["columns"], "rows": want["rows"], "snapshots": snapshots,
            })
        })
        .collect();
    json!({
        "catalog": {"name": "default", "uri": sqlalchemy_uri},
        "namespaces": namespaces,
        "tables": tables,
    })
}

/// Runs `check_catalog.py` over `expected`.
pub fn check_catalog(dir: &Path, expected: &Value) {
    let Some(python) = super::python("pyiceberg, sqlalchemy, psycopg2, duckdb, fastavro") else {
        return;
    };
    let path = dir.join("expected-catalog.json");
    std::fs::write(&path, serde_json::to_vec(expected).unwrap()).unwrap();
    let mut command = Command::new(python);
    // PyIceberg gets explicit endpoints and keys only: no ambient credentials, no metadata server.
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if ["AWS_", "GOOGLE_", "AZURE_"]
            .iter()
            .any(|p| name_text.starts_with(p))
        {
            command.env_remove(name);
        }
    }
    let out = command
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_catalog.py"))
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(" 0 mismatches"),
        "catalog check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
