//! End to end: backups written by the test kit (and the bundled sample) are exported by the real
//! `tikv-ctl` binary, and the Parquet files are read back in Rust (`common::readback`) and by
//! pyarrow and DuckDB (`tests/python/check_parquet.py`), which compare every value with what the
//! backup holds.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use br_parquet::testkit::sample::{
    sample_incremental_tables, sample_incremental_writer, sample_tables, sample_writer,
};
use br_parquet::testkit::{tp, BackupWriter, Cell, MetaLayout, TestColumn, TestRow, TestTable};
use common::{assert_success, export, walk};
use serde_json::json;

fn tikv_ctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tikv-ctl"))
        .args(args)
        .output()
        .expect("run tikv-ctl")
}

/// Reads every exported file back in Rust, with pyarrow and with DuckDB, and compares all values.
fn check_values(output: &Path, tables: &[TestTable], prefix: &str) {
    common::check_parquet(
        output,
        tables.iter().map(|t| t.expected_json(prefix)).collect(),
    );
}

fn report(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn bundled_samples_are_what_the_generator_writes() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let fresh = tempfile::tempdir().unwrap();
    for (sample, writer, tables) in [
        ("sample-backup", sample_writer(), sample_tables()),
        (
            "sample-incremental",
            sample_incremental_writer(),
            sample_incremental_tables(),
        ),
    ] {
        writer.write(&fresh.path().join(sample), &tables).unwrap();
        compare_trees(&fresh.path().join(sample), &examples.join(sample));
    }
}

/// Every file under `fresh` has the same bytes under `committed`, which has no other file.
fn compare_trees(fresh: &Path, committed: &Path) {
    let mut names = Vec::new();
    for entry in walk(fresh) {
        let relative = entry.strip_prefix(fresh).unwrap();
        let committed_bytes = std::fs::read(committed.join(relative))
            .unwrap_or_else(|e| panic!("{} missing from the sample: {e}", relative.display()));
        assert_eq!(
            std::fs::read(&entry).unwrap(),
            committed_bytes,
            "{} differs",
            relative.display()
        );
        names.push(relative.to_path_buf());
    }
    assert_eq!(
        names.len(),
        walk(committed).len(),
        "the sample has extra files"
    );
}

#[test]
fn bundled_sample_exports_every_value() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sample-backup");
    let out = tempfile::tempdir().unwrap();
    let report_path = out.path().join("report.json");
    let run = export(
        &sample,
        out.path(),
        &["--report", report_path.to_str().unwrap()],
    );
    assert_success(&run);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("exported 125 rows of 3 tables"), "{stdout}");

    let report = report(&report_path);
    assert_eq!(report["totals"]["rows"], 125);
    assert_eq!(report["backup"]["meta_version"], "v2");
    // One index range per physical table, 125 index entries, all skipped and counted.
    assert_eq!(report["skipped"]["index_keys"], 125);
    assert_eq!(report["skipped"]["orphan_default_values"], 0);
    let customers = &report["tables"][1];
    assert_eq!(customers["table"], "customers");
    assert_eq!(
        customers["reconciliation"],
        "ok: 40 row keys read = 40 rows exported + 0 skipped, and all 80 keys match the backup's own checksum"
    );
    for file in report["files"].as_array().unwrap() {
        let path = out.path().join(file["path"].as_str().unwrap());
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(file["size"], bytes.len());
        use sha2::Digest;
        assert_eq!(file["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
    }
    assert!(out.path().join("parquet/analytics/page%20views").is_dir());
    check_values(out.path(), &sample_tables(), "parquet");
}

fn wide_table(rows: i64) -> TestTable {
    let mut table = TestTable::new(
        "db",
        "wide",
        300,
        vec![
            TestColumn::new(1, "i8", tp::TINY),
            TestColumn::new(2, "i16", tp::SHORT),
            TestColumn::new(3, "i24", tp::INT24),
            TestColumn::new(4, "i32", tp::LONG),
            TestColumn::new(5, "i64", tp::LONGLONG),
            TestColumn::new(6, "u8", tp::TINY).unsigned(),
            TestColumn::new(7, "u16", tp::SHORT).unsigned(),
            TestColumn::new(8, "u24", tp::INT24).unsigned(),
            TestColumn::new(9, "u32", tp::LONG).unsigned(),
            TestColumn::new(10, "u64", tp::LONGLONG).unsigned(),
            TestColumn::new(11, "f32", tp::FLOAT),
            TestColumn::new(12, "f64", tp::DOUBLE),
            TestColumn::text(13, "s", tp::VARCHAR),
            TestColumn::binary(14, "b", tp::STRING),
            TestColumn::text(15, "added", tp::VARCHAR).origin_default(json!("dflt")),
            TestColumn::new(16, "added_int", tp::LONG)
                .not_null()
                .origin_default(json!("-7")),
        ],
    );
    let extremes = [
        (
            i8::MIN as i64,
            i16::MIN as i64,
            -(1 << 23),
            i32::MIN as i64,
            i64::MIN,
            0u64,
            0,
            0,
            0,
            0u64,
        ),
        (
            i8::MAX as i64,
            i16::MAX as i64,
            (1 << 23) - 1,
            i32::MAX as i64,
            i64::MAX,
            255,
            65535,
            (1 << 24) - 1,
            u32::MAX as u64,
            u64::MAX,
        ),
    ];
    for handle in 0..rows {
        let (a, b, c, d, e, f, g, h, i, j) = extremes[(handle % 2) as usize];
        let long = handle % 3 == 0;
        let mut cells = vec![
            (1, Cell::Int(a)),
            (2, Cell::Int(b)),
            (3, Cell::Int(c)),
            (4, Cell::Int(d)),
            (5, Cell::Int(e)),
            (6, Cell::Uint(f)),
            (7, Cell::Uint(g)),
            (8, Cell::Uint(h)),
            (9, Cell::Uint(i)),
            (10, Cell::Uint(j)),
            (
                11,
                Cell::Float(if handle % 2 == 0 {
                    f32::MIN_POSITIVE as f64
                } else {
                    -3.25
                }),
            ),
            (
                12,
                Cell::Float(if handle % 2 == 0 { f64::MAX } else { -0.1 }),
            ),
            (
                13,
                if handle % 5 == 0 {
                    Cell::Null
                } else if long {
                    Cell::Str("é".repeat(200 + handle as usize % 50))
                } else {
                    Cell::Str(String::new())
                },
            ),
            (14, Cell::Bytes(vec![0, 0xff, handle as u8])),
        ];
        if handle % 4 == 0 {
            cells.push((15, Cell::Str("set".into())));
            cells.push((16, Cell::Int(handle)));
        }
        table.rows.push(TestRow::new(handle - rows / 2, cells));
    }
    table
}

#[test]
fn all_layouts_and_codecs_round_trip() {
    use br_parquet::sst::{CompressionType, WriterOptions};
    let tables = vec![wide_table(700)];
    let cases = [
        (MetaLayout::V1, CompressionType::None, "zstd"),
        (MetaLayout::V2, CompressionType::Lz4, "snappy"),
        (MetaLayout::V2, CompressionType::Zstd, "gzip"),
        (MetaLayout::V1, CompressionType::Snappy, "none"),
    ];
    for (layout, sst_compression, parquet_compression) in cases {
        let backup = tempfile::tempdir().unwrap();
        BackupWriter {
            layout,
            rows_per_range: 256,
            sst: WriterOptions {
                compression: sst_compression,
                block_size: 4096,
                ..Default::default()
            },
            ..Default::default()
        }
        .write(backup.path(), &tables)
        .unwrap();
        let out = tempfile::tempdir().unwrap();
        let run = export(
            backup.path(),
            out.path(),
            &[
                "--compression",
                parquet_compression,
                "--row-group-size",
                "100",
                "--concurrency",
                "2",
            ],
        );
        assert_success(&run);
        let files: Vec<PathBuf> = walk(&out.path().join("parquet/db/wide"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect();
        assert!(out.path().join("parquet/db/wide/_SUCCESS").is_file());
        assert_eq!(
            files.len(),
            3,
            "700 rows in ranges of 256 make 3 files: {files:?}"
        );
        check_values(out.path(), &tables, "parquet");
    }
}

#[test]
fn flipped_byte_in_a_data_block_fails_naming_file_and_offset() {
    let backup = tempfile::tempdir().unwrap();
    let written = BackupWriter::default()
        .write(backup.path(), &[wide_table(50)])
        .unwrap();
    let victim = written.write_ssts.first().unwrap();
    let path = backup.path().join(victim);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[10] ^= 0x40; // inside the first data block, which starts at offset 0
    std::fs::write(&path, bytes).unwrap();

    let out = tempfile::tempdir().unwrap();
    // By default the SHA-256 mismatch (from backupmeta) is what is reported: it names the cause.
    let run = export(backup.path(), out.path(), &[]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&format!("SHA-256 mismatch for {victim}: backupmeta says ")),
        "{stderr}"
    );
    // Without it, the block checksum does, naming the block.
    let run = export(backup.path(), out.path(), &["--no-verify"]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains(victim.as_str()), "{stderr}");
    assert!(stderr.contains("data block at offset 0 (size "), "{stderr}");
    assert!(
        stderr.contains("checksum mismatch (kCRC32c): stored 0x"),
        "{stderr}"
    );
    assert!(
        walk(out.path())
            .iter()
            .all(|p| p.extension().is_none_or(|e| e != "parquet")),
        "no Parquet file may be published for a failed range"
    );
}

#[test]
fn missing_sst_is_a_clear_error() {
    let backup = tempfile::tempdir().unwrap();
    let written = BackupWriter::default()
        .write(backup.path(), &[wide_table(10)])
        .unwrap();
    std::fs::remove_file(backup.path().join(&written.write_ssts[0])).unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = export(backup.path(), out.path(), &[]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&format!(
            "{} (listed in backupmeta, missing from",
            written.write_ssts[0]
        )),
        "{stderr}"
    );
}

#[test]
fn not_a_backup_and_bad_flags() {
    let empty = tempfile::tempdir().unwrap();
    let run = export(empty.path(), empty.path(), &[]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("no `backupmeta` here"));

    let run = tikv_ctl(&[
        "br-parquet-export",
        "--input",
        "hdfs://nn:9000/x",
        "--output",
        "/tmp/x",
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("not supported"));

    let run = tikv_ctl(&["br", "parquet-export", "--input", "/x"]);
    assert_eq!(run.status.code(), Some(2));
}

#[test]
fn br_parquet_only_writes_into_the_backup_storage() {
    let backup = tempfile::tempdir().unwrap();
    BackupWriter::default()
        .write(backup.path(), &sample_tables())
        .unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_br"))
        .args([
            "backup",
            "full",
            "-s",
            &format!("local://{}", backup.path().display()),
            "--parquet-only",
            "--parquet-output-prefix",
            "lake",
        ])
        .output()
        .unwrap();
    assert_success(&run);
    check_values(backup.path(), &sample_tables(), "lake");
}

#[test]
fn progress_json_lines_end_with_the_totals() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sample-backup");
    let out = tempfile::tempdir().unwrap();
    let run = export(&sample, out.path(), &["--progress", "json"]);
    assert_success(&run);
    let stderr = String::from_utf8_lossy(&run.stderr);
    let last: serde_json::Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "progress");
    assert_eq!(last["state"], "done");
    assert_eq!(last["rows"], 125);
    assert_eq!(last["ranges_done"], last["ranges_total"]);
    assert_eq!(last["sst_bytes_read"], last["sst_bytes_total"]);

    let quiet = export(&sample, out.path(), &["--quiet"]);
    assert_success(&quiet);
    assert!(quiet.stdout.is_empty() && quiet.stderr.is_empty());
    let expected: Vec<_> = sample_tables()
        .iter()
        .map(|t| t.expected_json("parquet"))
        .collect();
    assert!(common::readback::check_values(out.path(), &expected) > 0);
}

#[test]
fn target_file_size_combines_small_ranges_and_splits_big_files() {
    let tables = vec![wide_table(700)];
    let backup = tempfile::tempdir().unwrap();
    BackupWriter {
        rows_per_range: 50,
        ..Default::default()
    }
    .write(backup.path(), &tables)
    .unwrap();
    let parquet_files = |dir: &Path| -> Vec<PathBuf> {
        walk(&dir.join("parquet/db/wide"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect()
    };

    // 14 ranges of 50 rows: combined into one file.
    let out = tempfile::tempdir().unwrap();
    assert_success(&export(
        backup.path(),
        out.path(),
        &["--target-file-size", "1GiB"],
    ));
    assert_eq!(parquet_files(out.path()).len(), 1);
    check_values(out.path(), &tables, "parquet");

    // A target below one range's size: each range alone, its file split into parts as row
    // groups fill up.
    let out = tempfile::tempdir().unwrap();
    assert_success(&export(
        backup.path(),
        out.path(),
        &["--target-file-size", "4KiB", "--row-group-size", "10"],
    ));
    let files = parquet_files(out.path());
    assert!(files.len() > 14, "{files:?}");
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains("-part0001.parquet")),
        "{files:?}"
    );
    check_values(out.path(), &tables, "parquet");
}

/// `export::BatchReader` decodes a backup as the export does, without files: every row of every
/// table, the export's schema, and BR's checksums of each table's ranges add up to `backupmeta`'s.
#[test]
fn batch_reader_hands_out_every_row_without_files() {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use br_parquet::batch::{export_schema, BackupKind};
    use br_parquet::codec::checksum::KvChecksum;
    use br_parquet::export::{BatchReader, ExportOptions};
    use br_parquet::storage::url::parse_url;
    use std::collections::BTreeMap;

    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sample-backup");
    let options = ExportOptions::new(
        parse_url(sample.to_str().unwrap()).unwrap(),
        parse_url("noop://").unwrap(),
    );
    let reader = BatchReader::open(&options).unwrap();
    // Per table: rows, the sum of integer handles, BR's checksum over its ranges.
    let mut seen: BTreeMap<i64, (usize, i64, KvChecksum)> = BTreeMap::new();
    for (index, range) in reader.plan().ranges.iter().enumerate() {
        let mut batches = Vec::new();
        let checksum = reader
            .read_range(index, &mut |table, batch| {
                batches.push((table.clone(), batch))
            })
            .unwrap();
        if let [one] = range.table_ids.as_slice() {
            if let Some(table) = reader
                .plan()
                .tables
                .iter()
                .find(|t| t.physical_ids().contains(one))
            {
                seen.entry(table.table_id).or_default().2.merge(checksum);
            }
        }
        for (table, batch) in batches {
            let schema = export_schema(&table, BackupKind::Full).unwrap().arrow;
            assert_eq!(batch.schema(), schema, "{}", table.qualified_name());
            let entry = seen.entry(table.table_id).or_default();
            entry.0 += batch.num_rows();
            if let Some(handles) = batch.column(1).as_primitive_opt::<Int64Type>() {
                // Handles reach i64's extremes: a wrapping sum is still a checksum of them.
                let sum = handles
                    .values()
                    .iter()
                    .fold(0i64, |a, h| a.wrapping_add(*h));
                entry.1 = entry.1.wrapping_add(sum);
            }
        }
    }
    for test_table in sample_tables() {
        let table = reader
            .plan()
            .tables
            .iter()
            .find(|t| t.table_name == test_table.name)
            .unwrap();
        let (rows, handle_sum, checksum) = seen[&table.table_id];
        assert_eq!(rows, test_table.rows.len(), "{}", test_table.name);
        if test_table.clustered_pk.is_empty() {
            let expected = test_table
                .rows
                .iter()
                .fold(0i64, |a, r| a.wrapping_add(r.handle));
            assert_eq!(handle_sum, expected, "{}", test_table.name);
        }
        assert_eq!(
            checksum,
            KvChecksum::new(table.crc64xor, table.total_kvs, table.total_bytes),
            "{}",
            test_table.name
        );
    }
}
