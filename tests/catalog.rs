//! `--iceberg-catalog`: backups written by the test kit are exported by the real `tikv-ctl` into
//! SQL catalogs (a SQLite file; a PostgreSQL server from Debian's package, started here on
//! 127.0.0.1), and PyIceberg's `SqlCatalog` lists the namespaces and tables, loads each table
//! through the catalog and scans every snapshot (`tests/python/check_catalog.py`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use br_parquet::testkit::sample::sample_tables;
use br_parquet::testkit::{BackupWriter, Cell, TestRow, TestTable};
use common::catalog::{check_catalog, expected, later_tables};
use common::{assert_success, export, spawn_paused};
use serde_json::{json, Value};

const END_VERSION: u64 = 459_177_129_704_947_714;
/// One hour after [`END_VERSION`].
const LATER: u64 = END_VERSION + (3_600_000 << 18);
const ROWS_PER_RANGE: usize = 16;

fn write_backup(dir: &Path, tables: &[TestTable], end_version: u64) {
    BackupWriter {
        rows_per_range: ROWS_PER_RANGE,
        end_version,
        ..Default::default()
    }
    .write(dir, tables)
    .unwrap();
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Exports `input` into `output` and the catalog, returning the JSON report.
fn export_to_catalog(input: &Path, output: &Path, catalog: &str, extra: &[&str]) -> Value {
    let report = output.with_extension("report.json");
    let mut args = vec![
        "--iceberg-catalog",
        catalog,
        "--report",
        report.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    assert_success(&export(input, output, &args));
    read_json(&report)
}

/// The catalog outcome of every table in a report, by `namespace.table`.
fn outcomes(report: &Value) -> Vec<(String, String, u64)> {
    let mut outcomes: Vec<(String, String, u64)> = report["iceberg_tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let c = &t["catalog"];
            (
                format!(
                    "{}.{}",
                    c["namespace"].as_str().unwrap(),
                    c["table"].as_str().unwrap()
                ),
                c["outcome"].as_str().unwrap().to_string(),
                c["attempts"].as_u64().unwrap(),
            )
        })
        .collect();
    outcomes.sort();
    outcomes
}

/// The catalog's metadata location of `db.table` in a report.
fn metadata_location(report: &Value, table: &str) -> String {
    report["iceberg_tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == table)
        .unwrap()["catalog"]["metadata_location"]
        .as_str()
        .unwrap()
        .to_string()
}

fn sqlite_uris(dir: &Path) -> (String, String) {
    let db = dir.join("catalog.db");
    (
        format!("sqlite://{}", db.display()),
        format!("sqlite:///{}", db.display()),
    )
}

#[test]
fn a_sqlite_catalog_holds_every_table_and_each_newer_backup_as_one_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let (catalog, sqlalchemy) = sqlite_uris(dir.path());
    assert!(catalog.starts_with("sqlite:///"), "{catalog}");
    let first_tables = sample_tables();
    let first = dir.path().join("backup-1");
    write_backup(&first, &first_tables, END_VERSION);
    let out = dir.path().join("out");

    let report = export_to_catalog(&first, &out, &catalog, &[]);
    assert_eq!(
        outcomes(&report),
        vec![
            (
                "analytics.page views".to_string(),
                "registered".to_string(),
                1
            ),
            ("shop.customers".to_string(), "registered".to_string(), 1),
            ("shop.orders".to_string(), "registered".to_string(), 1),
        ]
    );
    let namespace = |db: &str| db.to_string();
    check_catalog(
        dir.path(),
        &expected(&sqlalchemy, std::slice::from_ref(&first_tables), namespace),
    );

    // A newer backup: one overwrite snapshot per table; the first stays for time travel.
    let second = dir.path().join("backup-2");
    write_backup(&second, &later_tables(), LATER);
    let report = export_to_catalog(&second, &out, &catalog, &[]);
    for (table, outcome, attempts) in outcomes(&report) {
        let want = if table == "ops.audit_log" {
            "registered"
        } else {
            "committed"
        };
        assert_eq!((outcome.as_str(), attempts), (want, 1), "{table}");
    }
    let history = vec![first_tables, later_tables()];
    check_catalog(dir.path(), &expected(&sqlalchemy, &history, namespace));

    // The same export again: nothing changes, no second copy of the rows.
    let again = export_to_catalog(&second, &out, &catalog, &[]);
    for (table, outcome, _) in outcomes(&again) {
        assert_eq!(outcome, "unchanged", "{table}");
    }
    assert_eq!(
        metadata_location(&again, "customers"),
        metadata_location(&report, "customers")
    );
    let mut expected = expected(&sqlalchemy, &history, namespace);
    for table in expected["tables"].as_array_mut().unwrap() {
        let name = table["table"].as_str().unwrap().to_string();
        table["metadata_location"] = json!(metadata_location(&report, &name));
    }
    check_catalog(dir.path(), &expected);
}

#[test]
fn namespaces_follow_the_template_and_an_earlier_export_without_catalog_is_registered_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let (catalog, sqlalchemy) = sqlite_uris(dir.path());
    let tables = sample_tables();
    let backup = dir.path().join("backup");
    write_backup(&backup, &tables, END_VERSION);
    let out = dir.path().join("out");
    assert_success(&export(&backup, &out, &["--write-iceberg-table"]));
    let v1 = format!(
        "file://{}",
        out.join("parquet/shop/customers/metadata/v1.metadata.json")
            .display()
    );

    let report = export_to_catalog(
        &backup,
        &out,
        &catalog,
        &[
            "--iceberg-namespace",
            "lake.tidb_{db}",
            "--iceberg-catalog-name",
            "default",
        ],
    );
    for (table, outcome, _) in outcomes(&report) {
        assert!(table.starts_with("lake.tidb_"), "{table}");
        assert_eq!(outcome, "registered", "{table}");
    }
    assert_eq!(metadata_location(&report, "customers"), v1);
    check_catalog(
        dir.path(),
        &expected(&sqlalchemy, &[tables], |db| format!("lake.tidb_{db}")),
    );
}

#[test]
fn a_killed_export_leaves_the_catalog_at_its_previous_snapshot_and_a_rerun_commits() {
    let dir = tempfile::tempdir().unwrap();
    let (catalog, sqlalchemy) = sqlite_uris(dir.path());
    let first_tables = sample_tables();
    let first = dir.path().join("backup-1");
    write_backup(&first, &first_tables, END_VERSION);
    let out = dir.path().join("out");
    let report = export_to_catalog(&first, &out, &catalog, &[]);
    let registered = metadata_location(&report, "customers");

    let second = dir.path().join("backup-2");
    write_backup(&second, &later_tables(), LATER);
    let killed = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"))
        .args(["br", "parquet-export", "--input"])
        .arg(&second)
        .arg("--output")
        .arg(&out)
        .args(["--iceberg-catalog", &catalog])
        .env("BR_PARQUET_FAILPOINT", "describe:1")
        .output()
        .unwrap();
    assert!(
        !killed.status.success(),
        "the failpoint did not stop the run"
    );
    let mut before = expected(&sqlalchemy, std::slice::from_ref(&first_tables), |db| {
        db.to_string()
    });
    assert_eq!(before["tables"][0]["table"], "customers");
    before["tables"][0]["metadata_location"] = json!(registered);
    check_catalog(dir.path(), &before);

    let report = export_to_catalog(&second, &out, &catalog, &[]);
    for (table, outcome, _) in outcomes(&report) {
        let want = if table == "ops.audit_log" {
            "registered"
        } else {
            "committed"
        };
        assert_eq!(outcome, want, "{table}");
    }
    assert_eq!(
        report["resume"]["resumed_jobs"].as_u64().map(|n| n > 0),
        Some(true),
        "{report:#}"
    );
    check_catalog(
        dir.path(),
        &expected(&sqlalchemy, &[first_tables, later_tables()], |db| {
            db.to_string()
        }),
    );
}

#[test]
fn two_exports_committing_to_one_table_at_once_both_land_in_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let (catalog, sqlalchemy) = sqlite_uris(dir.path());
    let older = dir.path().join("backup-older");
    write_backup(&older, &sample_tables(), END_VERSION);
    let newer = dir.path().join("backup-newer");
    write_backup(&newer, &later_tables(), LATER);

    // The newer export plans against an empty catalog and then waits before committing, while
    // the older one registers every table: the newer one's first commit must lose the race.
    let gate = dir.path().join("gate");
    let newer_report = dir.path().join("newer.report.json");
    let mut newer_export = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"));
    newer_export
        .args(["br", "parquet-export", "--input"])
        .arg(&newer)
        .arg("--output")
        .arg(dir.path().join("out-newer"))
        .args(["--iceberg-catalog", &catalog, "--report"])
        .arg(&newer_report);
    let waiting = spawn_paused(newer_export, "catalog-commit", &gate);
    let older_report = export_to_catalog(&older, &dir.path().join("out-older"), &catalog, &[]);
    for (table, outcome, _) in outcomes(&older_report) {
        assert_eq!(outcome, "registered", "{table}");
    }
    std::fs::write(&gate, b"").unwrap();
    assert_success(&waiting.wait_with_output().unwrap());
    let newer_report = read_json(&newer_report);
    for (table, outcome, attempts) in outcomes(&newer_report) {
        // Its new table raced nobody; every other table lost its first commit to the older export.
        let want = if table == "ops.audit_log" {
            ("registered", 1)
        } else {
            ("committed", 2)
        };
        assert_eq!((outcome.as_str(), attempts), want, "{table}");
    }
    check_catalog(
        dir.path(),
        &expected(&sqlalchemy, &[sample_tables(), later_tables()], |db| {
            db.to_string()
        }),
    );
}

/// A PostgreSQL server from Debian's package in a temporary data directory, on 127.0.0.1, with
/// a password-protected user; stopped on drop.
struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

const PG_USER: &str = "lake";
const PG_PASSWORD: &str = "pg-s3cr3t-Xq7";

impl Postgres {
    fn start() -> Option<Postgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| {
                versions
                    .filter_map(|v| v.ok().map(|v| v.path().join("bin")))
                    .find(|bin| bin.join("initdb").exists())
            });
        let Some(bin) = bin else {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "PostgreSQL not installed; run scripts/test.sh"
            );
            eprintln!("NOTICE: PostgreSQL not installed; run scripts/test.sh");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let password_file = dir.path().join("password");
        std::fs::write(&password_file, PG_PASSWORD).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // PostgreSQL refuses to run as root: under root, its files belong to `postgres`.
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        if root {
            let status = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let server = Postgres {
            bin,
            data,
            port,
            _dir: dir,
        };
        server.run(
            "initdb",
            &[
                "-D",
                server.data.to_str().unwrap(),
                "-U",
                PG_USER,
                "--auth=scram-sha-256",
                &format!("--pwfile={}", password_file.display()),
            ],
            root,
        );
        server.run(
            "pg_ctl",
            &[
                "-D",
                server.data.to_str().unwrap(),
                "-o",
                &format!(
                    "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={}",
                    server.data.display()
                ),
                "-l",
                server.data.join("log").to_str().unwrap(),
                "-w",
                "start",
            ],
            root,
        );
        Some(server)
    }

    fn run(&self, tool: &str, args: &[&str], root: bool) {
        let mut command = if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(tool));
            c
        } else {
            Command::new(self.bin.join(tool))
        };
        let out = command.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn uri_without_password(&self) -> String {
        format!("postgresql://{PG_USER}@127.0.0.1:{}/postgres", self.port)
    }

    fn uri(&self, scheme: &str, password: &str) -> String {
        format!(
            "{scheme}://{PG_USER}:{password}@127.0.0.1:{}/postgres",
            self.port
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let mut command = if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"));
            c
        } else {
            Command::new(self.bin.join("pg_ctl"))
        };
        let _ = command
            .args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
    }
}

fn assert_no_secret(label: &str, text: &str) {
    assert!(
        !text.contains(PG_PASSWORD),
        "{label} shows the catalog password:\n{text}"
    );
}

#[test]
fn a_postgresql_catalog_is_read_by_pyiceberg_and_its_password_never_shows() {
    let Some(server) = Postgres::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tables = sample_tables();
    let backup = dir.path().join("backup");
    write_backup(&backup, &tables, END_VERSION);
    let out = dir.path().join("out");
    let catalog = server.uri("postgresql", PG_PASSWORD);

    let report_path = dir.path().join("report.json");
    let exported = export(
        &backup,
        &out,
        &[
            "--iceberg-catalog",
            &catalog,
            "--report",
            report_path.to_str().unwrap(),
        ],
    );
    assert_success(&exported);
    let report = read_json(&report_path);
    for (table, outcome, _) in outcomes(&report) {
        assert_eq!(outcome, "registered", "{table}");
    }
    assert_no_secret("stdout", &String::from_utf8_lossy(&exported.stdout));
    assert_no_secret("stderr", &String::from_utf8_lossy(&exported.stderr));
    for file in common::walk(dir.path()) {
        assert_no_secret(
            &file.display().to_string(),
            &String::from_utf8_lossy(&std::fs::read(&file).unwrap()),
        );
    }
    check_catalog(
        dir.path(),
        &expected(
            &server.uri("postgresql+psycopg2", PG_PASSWORD),
            &[tables],
            |db| db.to_string(),
        ),
    );

    // The password from PGPASSWORD instead of the URI (which the process list shows): the same
    // backup into another output finds its tables already committed.
    let report_path = dir.path().join("report-env.json");
    let again = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"))
        .args(["br", "parquet-export", "--input"])
        .arg(&backup)
        .arg("--output")
        .arg(dir.path().join("out-env"))
        .args([
            "--iceberg-catalog",
            &server.uri_without_password(),
            "--report",
        ])
        .arg(&report_path)
        .env("PGPASSWORD", PG_PASSWORD)
        .output()
        .unwrap();
    assert_success(&again);
    for (table, outcome, _) in outcomes(&read_json(&report_path)) {
        assert_eq!(outcome, "unchanged", "{table}");
    }
    assert_no_secret("stderr", &String::from_utf8_lossy(&again.stderr));

    // A wrong password: a clear error that names the catalog, but not the password given.
    let wrong = format!("{PG_PASSWORD}-wrong");
    let failed: Output = export(
        &backup,
        &dir.path().join("out-2"),
        &["--iceberg-catalog", &server.uri("postgresql", &wrong)],
    );
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("iceberg catalog postgresql://lake:***@127.0.0.1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("password authentication failed"),
        "{stderr}"
    );
    assert_no_secret("stderr", &stderr);
    assert!(
        !dir.path().join("out-2/parquet/shop").exists(),
        "nothing is published"
    );
}

#[test]
fn an_incremental_backup_without_its_base_in_the_catalog_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (catalog, _) = sqlite_uris(dir.path());
    let backup = dir.path().join("incremental");
    BackupWriter {
        rows_per_range: ROWS_PER_RANGE,
        start_version: END_VERSION,
        end_version: LATER,
        ..Default::default()
    }
    .write(&backup, &sample_tables())
    .unwrap();
    let out = export(
        &backup,
        &dir.path().join("out"),
        &["--iceberg-catalog", &catalog],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("incremental backup"), "{stderr}");
    assert!(
        stderr.contains(&format!("end version {END_VERSION}")),
        "{stderr}"
    );
    assert!(
        !dir.path().join("out/parquet/shop").exists(),
        "nothing is published"
    );
}

/// The sample backup exported into a SQLite catalog under `dir`: the catalog's URI for the
/// export and for SQLAlchemy, the output directory and the sample's tables.
fn sample_in_sqlite_catalog(dir: &Path) -> (String, String, PathBuf, Vec<TestTable>) {
    let (catalog, sqlalchemy) = sqlite_uris(dir);
    let out = dir.join("out");
    let base = sample_tables();
    let full = dir.join("full");
    write_backup(&full, &base, END_VERSION);
    export_to_catalog(&full, &out, &catalog, &[]);
    (catalog, sqlalchemy, out, base)
}

/// Writes the incremental backup after [`sample_in_sqlite_catalog`]'s: `changes` (rows of
/// each table changed in it), with `ddls`.
fn write_incremental(dir: &Path, changes: &[TestTable], ddls: Vec<Value>) -> PathBuf {
    let incremental = dir.join("incremental");
    BackupWriter {
        rows_per_range: ROWS_PER_RANGE,
        start_version: END_VERSION,
        end_version: LATER,
        region_base: 100,
        ddls,
        ..Default::default()
    }
    .write(&incremental, changes)
    .unwrap();
    incremental
}

/// An incremental backup exported with the catalog of its base is applied: one new snapshot per
/// table, the changed table reads as of the incremental, the first snapshot as the full backup.
#[test]
fn an_incremental_backup_is_applied_to_the_catalog_tables() {
    let dir = tempfile::tempdir().unwrap();
    let (catalog, sqlalchemy, out, base) = sample_in_sqlite_catalog(dir.path());

    // Changes: customer 1 renamed, customer 2 deleted, 41 inserted, 999 (never there) deleted.
    let mut changes: Vec<TestTable> = base.iter().map(TestTable::without_rows).collect();
    let mut after = base.clone();
    let customers = &mut after[0];
    assert_eq!(customers.name, "customers");
    customers.rows[0].cells[0] = (2, Cell::Str("Ada Lovelace".into()));
    let renamed = customers.rows[0].clone();
    let mut deleted = customers.rows.remove(1);
    deleted.deleted = true;
    let inserted = TestRow::new(41, vec![(2, Cell::Str("new customer 41".into()))]);
    customers.rows.push(inserted.clone());
    let mut never_there = TestRow::new(999, vec![]);
    never_there.deleted = true;
    changes[0].rows = vec![renamed, deleted, inserted, never_there];
    let incremental = write_incremental(dir.path(), &changes, Vec::new());
    let report = export_to_catalog(&incremental, &out, &catalog, &[]);

    let committed: Vec<String> = outcomes(&report)
        .into_iter()
        .map(|(table, outcome, _)| format!("{table} {outcome}"))
        .collect();
    assert_eq!(
        committed,
        vec![
            "analytics.page views committed",
            "shop.customers committed",
            "shop.orders committed",
        ]
    );
    let applied = &report["iceberg_tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "customers")
        .unwrap()["apply"];
    assert_eq!(applied["from_version"], END_VERSION);
    assert_eq!(applied["to_version"], LATER);
    for (counter, value) in [
        ("rows_inserted", 1),
        ("rows_updated", 1),
        ("rows_deleted", 1),
        ("absent_deletes", 1),
        ("delete_files", 1),
        ("data_files_touched", 1),
        ("data_files_added", 1),
    ] {
        assert_eq!(applied[counter], value, "{counter}: {applied}");
    }
    check_catalog(
        dir.path(),
        &expected(&sqlalchemy, &[base, after], |db| db.to_string()),
    );
}

#[test]
fn rest_catalogs_and_glue_namespace_levels_are_refused_with_a_pointer_to_the_docs() {
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup");
    write_backup(&backup, &sample_tables(), END_VERSION);
    for (uri, namespace) in [
        ("rest+http://127.0.0.1:1/catalog", "{db}"),
        (
            "glue://?region=us-east-1&endpoint=http://127.0.0.1:1",
            "lake.{db}",
        ),
    ] {
        let out = export(
            &backup,
            &dir.path().join("out"),
            &["--iceberg-catalog", uri, "--iceberg-namespace", namespace],
        );
        assert!(!out.status.success(), "{uri}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(if namespace == "{db}" {
                "--iceberg-catalog"
            } else {
                "--iceberg-namespace"
            }) && stderr.contains("docs/iceberg.md"),
            "{stderr}"
        );
    }
}

/// Without the `glue` feature a Glue catalog is refused before anything is read, saying how to
/// build it.
#[cfg(not(feature = "glue"))]
#[test]
fn a_build_without_glue_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup");
    write_backup(&backup, &sample_tables(), END_VERSION);
    let out = export(
        &backup,
        &dir.path().join("out"),
        &["--iceberg-catalog", "glue://?region=us-east-1"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--features glue"), "{stderr}");
    assert!(!dir.path().join("out").exists(), "nothing written");
}

/// `RENAME TABLE` in an incremental applied through the catalog: the catalog renames the table
/// (found by its `tidb.table-id`), keeping its history, and the changes are committed under the
/// new name.
#[test]
fn a_renamed_table_is_renamed_in_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let (catalog, sqlalchemy, out, base) = sample_in_sqlite_catalog(dir.path());

    let mut changes: Vec<TestTable> = base.iter().map(TestTable::without_rows).collect();
    let mut after = base.clone();
    changes[0].name = "clients".into();
    after[0].name = "clients".into();
    let mut deleted = after[0].rows.remove(0);
    deleted.deleted = true;
    changes[0].rows = vec![deleted];
    let rename = json!({
        "id": 9, "type": 14, "schema_id": changes[0].db_id, "table_id": changes[0].id,
        "schema_name": "shop", "table_name": "clients", "state": 6,
        "query": "RENAME TABLE customers TO clients",
    });
    let incremental = write_incremental(dir.path(), &changes, vec![rename]);
    let report = export_to_catalog(&incremental, &out, &catalog, &[]);
    let clients = report["iceberg_tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "clients")
        .unwrap();
    assert_eq!(clients["catalog"]["outcome"], "committed", "{clients}");
    assert_eq!(clients["apply"]["rows_deleted"], 1, "{clients}");
    if let Some(python) = common::python("sqlite3") {
        let listed = Command::new(python)
            .args([
                "-c",
                "import sqlite3, sys; print(sorted(r[0] for r in sqlite3.connect(sys.argv[1]).execute(\
                 'SELECT table_name FROM iceberg_tables')))",
            ])
            .arg(dir.path().join("catalog.db"))
            .output()
            .unwrap();
        let listed = String::from_utf8_lossy(&listed.stdout);
        assert_eq!(listed.trim(), "['clients', 'orders', 'page views']");
    }
    // PyIceberg finds `clients` (not `customers`) with both snapshots: the full backup's rows
    // under the old name's files, then the incremental's.
    let mut before = base;
    before[0].name = "clients".into();
    check_catalog(
        dir.path(),
        &expected(&sqlalchemy, &[before, after], |db| db.to_string()),
    );
}
