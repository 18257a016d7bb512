//! Writes synthetic BR backups for the planning benchmarks of issue 17 item 5
//! (`scripts/bench_plan.sh`, docs/performance.md "Planning and many small tables").
//!
//! ```sh
//! # backupmeta v2 only (no SSTs): 1 M data files over 10 k tables, 5 k of them with 10
//! # partitions (50 k partitions); for `--dry-run`, which reads nothing but metadata
//! cargo run --example gen_plan_backup -- meta --files 1000000 --out target/bench/plan-1m
//! # a real backup of 20 k tables of 20 rows each, one range (one write-CF SST) per table
//! cargo run --example gen_plan_backup -- tables --tables 20000 --out target/bench/tables-20k
//! ```
//!
//! `meta` lays the data files out in key order over all physical tables (unpartitioned tables
//! and partitions, in id order) as TiKV's regions would: with fewer ranges than physical ids a
//! range spans several small tables (merged regions), with more each table is cut into
//! contiguous handle ranges. Every range has a write-CF file and every second one a default-CF
//! twin, so `--files` counts `File` entries (ranges are about 2/3 of them). Entries look like
//! TiKV's (`store/region_epoch_hash_ts_cf.sst`, SHA-256, a 16-byte `cipher_iv`, checksums,
//! about 96 MiB each) and are split into `backupmeta.datafile.NNNNNNNNN` leaves of at most
//! `--leaf-mib` (BR flushes a MetaFile at 128 MiB). Each table's `Schema` checksum is the sum
//! of its files', so the dry run estimates rows. Deterministic for given arguments.
//!
//! `tables` writes real SSTs with the test kit (`BackupWriter::write`, backupmeta v2): tables
//! `tenant_NNN.t_NNNNNN` spread over `--dbs` databases, with a BIGINT primary key, a VARCHAR,
//! an INT and a DECIMAL column.
//!
//! Prints one JSON line with what was written and the seconds taken.

use std::path::{Path, PathBuf};
use std::time::Instant;

use br_parquet::proto::backup::{BackupMeta, File as FileMeta, MetaFile, Schema};
use br_parquet::testkit::{tp, BackupWriter, Cell, MetaLayout, TestColumn, TestRow, TestTable};
use clap::{Parser, Subcommand};
use prost::Message;
use serde_json::json;
use sha2::{Digest, Sha256};

/// Command line.
#[derive(Parser, Debug)]
#[command(about = "Write synthetic BR backups for the planning benchmarks")]
struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand, Debug)]
enum What {
    /// backupmeta v2 and its MetaFile leaves only (no SSTs).
    Meta {
        /// `File` entries (write-CF and default-CF SSTs) to list.
        #[arg(long, default_value_t = 1_000_000)]
        files: u64,
        /// Tables.
        #[arg(long, default_value_t = 10_000)]
        tables: u64,
        /// Partitions in all, 10 per partitioned table (so at most 10 × --tables).
        #[arg(long, default_value_t = 50_000)]
        partitions: u64,
        /// Databases the tables are spread over.
        #[arg(long, default_value_t = 100)]
        dbs: u64,
        /// Largest MetaFile leaf in MiB.
        #[arg(long, default_value_t = 128)]
        leaf_mib: u64,
        /// Backup directory (replaced if it exists).
        #[arg(long)]
        out: PathBuf,
    },
    /// A real backup (SSTs) of many small tables.
    Tables {
        /// Tables.
        #[arg(long, default_value_t = 20_000)]
        tables: u64,
        /// Rows per table.
        #[arg(long, default_value_t = 20)]
        rows: u64,
        /// Databases the tables are spread over.
        #[arg(long, default_value_t = 100)]
        dbs: u64,
        /// Backup directory (replaced if it exists).
        #[arg(long)]
        out: PathBuf,
    },
}

/// Partitions of each partitioned table.
const PARTITIONS_PER_TABLE: u64 = 10;
/// The first table id; table `i` (with its partitions) owns ids `FIRST_ID + i * ID_STRIDE ..`.
const FIRST_ID: i64 = 1_000;
const ID_STRIDE: i64 = 16;
/// Handles of a physical table are spread over `[0, HANDLE_SPACE)`.
const HANDLE_SPACE: f64 = (1u64 << 40) as f64;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let report = match Args::parse().what {
        What::Meta {
            files,
            tables,
            partitions,
            dbs,
            leaf_mib,
            out,
        } => {
            replace_dir(&out)?;
            write_meta_only(&out, files, tables, partitions, dbs, leaf_mib << 20)?
        }
        What::Tables {
            tables,
            rows,
            dbs,
            out,
        } => {
            replace_dir(&out)?;
            let list: Vec<TestTable> = (0..tables).map(|i| small_table(i, dbs, rows)).collect();
            let writer = BackupWriter {
                layout: MetaLayout::V2,
                rows_per_range: rows.max(1) as usize,
                with_index_keys: false,
                ..Default::default()
            };
            let written = writer.write(&out, &list)?;
            json!({
                "dir": out, "tables": tables, "rows_per_table": rows,
                "write_ssts": written.write_ssts.len(),
                "default_ssts": written.default_ssts.len(),
            })
        }
    };
    let mut report = report;
    report["seconds"] = json!(started.elapsed().as_secs_f64());
    println!("{report}");
    Ok(())
}

fn replace_dir(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)
}

fn db_name(i: u64, dbs: u64) -> (String, i64) {
    let d = i % dbs.max(1);
    (format!("tenant_{d:03}"), 100 + d as i64)
}

/// Table `i` of the many-small-tables backup, with its rows.
fn small_table(i: u64, dbs: u64, rows: u64) -> TestTable {
    let (db, db_id) = db_name(i, dbs);
    let mut table = TestTable::new(
        &db,
        &format!("t_{i:06}"),
        FIRST_ID + i as i64 * ID_STRIDE,
        columns(),
    );
    table.db_id = db_id;
    table.rows = (1..=rows as i64)
        .map(|h| {
            TestRow::new(
                h,
                vec![
                    (1, Cell::Int(h)),
                    (2, Cell::Str(format!("customer {i}-{h}"))),
                    (3, Cell::Int(h * 7 % 100)),
                    (4, Cell::Decimal(format!("{}.{:02}", h * 3, h % 100))),
                ],
            )
        })
        .collect();
    table
}

fn columns() -> Vec<TestColumn> {
    vec![
        TestColumn::new(1, "id", tp::LONGLONG)
            .not_null()
            .primary_key(),
        TestColumn::text(2, "name", tp::VARCHAR),
        TestColumn::new(3, "qty", tp::LONG),
        TestColumn::decimal(4, "price", 12, 2),
    ]
}

/// The metadata-only backup of `files` data files.
fn write_meta_only(
    dir: &Path,
    files: u64,
    tables: u64,
    partitions: u64,
    dbs: u64,
    leaf_bytes: u64,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    // Tables and their physical ids, in id (and so key) order.
    let partitioned_tables = partitions.div_ceil(PARTITIONS_PER_TABLE).min(tables);
    let mut test_tables = Vec::with_capacity(tables as usize);
    let mut physical: Vec<(i64, usize)> = Vec::new(); // (physical id, index of its table)
    for i in 0..tables {
        let (db, db_id) = db_name(i, dbs);
        let id = FIRST_ID + i as i64 * ID_STRIDE;
        let mut table = TestTable::new(&db, &format!("t_{i:06}"), id, columns());
        table.db_id = db_id;
        if i < partitioned_tables {
            let n = PARTITIONS_PER_TABLE.min(partitions - i * PARTITIONS_PER_TABLE);
            table.partitions = (1..=n as i64).map(|p| (id + p, format!("p{p}"))).collect();
            physical.extend(table.partitions.iter().map(|(p, _)| (*p, i as usize)));
        } else {
            physical.push((id, i as usize));
        }
        test_tables.push(table);
    }
    let mut checksums = vec![(0u64, 0u64, 0u64); test_tables.len()]; // crc, kvs, bytes

    // Ranges over the key space: position x in [0, physical ids) is physical id
    // `physical[floor(x)]` at handle `frac(x) * HANDLE_SPACE`.
    let ranges = (files * 2).div_ceil(3).max(1);
    let key_at = |x: f64| -> Vec<u8> {
        let index = x.floor() as usize;
        let Some(&(id, _)) = physical.get(index) else {
            // Past the last table: the end of the table key space.
            return b"u".to_vec();
        };
        let frac = x - index as f64;
        let mut key = Vec::with_capacity(19);
        key.push(b't');
        key.extend_from_slice(&((id as u64) ^ (1 << 63)).to_be_bytes());
        if frac > 0.0 {
            key.extend_from_slice(b"_r");
            let handle = (frac * HANDLE_SPACE) as u64;
            key.extend_from_slice(&(handle ^ (1 << 63)).to_be_bytes());
        }
        key
    };
    let span = physical.len() as f64 / ranges as f64;
    let mut leaves: Vec<FileMeta> = Vec::new();
    let mut counter = 0u64;
    let mut leaf = MetaFile::default();
    let mut leaf_len = 0u64;
    let mut written_files = 0u64;
    let mut metadata_bytes = 0u64;
    for r in 0..ranges {
        let (lo, hi) = (r as f64 * span, (r + 1) as f64 * span);
        let start_key = key_at(lo);
        let end_key = if r + 1 == ranges {
            b"u".to_vec()
        } else {
            key_at(hi)
        };
        // The tables it holds share its checksum (the first one gets the remainder).
        let owners: Vec<usize> = {
            let mut owners: Vec<usize> = (lo.floor() as usize..(hi.ceil() as usize))
                .filter_map(|p| physical.get(p).map(|(_, t)| *t))
                .collect();
            owners.dedup();
            owners
        };
        let region = 1000 + r;
        let hash = hex::encode(Sha256::digest(region.to_be_bytes()));
        let stem = format!(
            "{}/{region}_{}_{hash}_{}",
            1 + r % 7,
            5 + r % 3,
            1_700_000_000_000u64 + r
        );
        let cfs: &[&str] = if r % 2 == 0 {
            &["default", "write"]
        } else {
            &["write"]
        };
        for cf in cfs {
            if written_files >= files && *cf == "default" {
                continue;
            }
            let name = format!("{stem}_{cf}.sst");
            let digest = Sha256::digest(name.as_bytes());
            let kvs = 150_000 + (r % 1000);
            let bytes = 96 * 1024 * 1024 + (r % 4096);
            let crc = u64::from_be_bytes(digest[..8].try_into()?);
            let share = owners.len().max(1) as u64;
            for (k, owner) in owners.iter().enumerate() {
                let c = &mut checksums[*owner];
                c.0 ^= if k == 0 { crc } else { 0 };
                c.1 += kvs / share + if k == 0 { kvs % share } else { 0 };
                c.2 += bytes / share + if k == 0 { bytes % share } else { 0 };
            }
            let file = FileMeta {
                name,
                sha256: digest.to_vec(),
                start_key: start_key.clone(),
                end_key: end_key.clone(),
                start_version: 0,
                end_version: BackupWriter::default().end_version,
                crc64xor: crc,
                total_kvs: kvs,
                total_bytes: bytes,
                cf: cf.to_string(),
                size: bytes / 3,
                cipher_iv: digest[16..32].to_vec(),
                ..Default::default()
            };
            let len = file.encoded_len() as u64 + 4;
            if leaf_len + len > leaf_bytes && !leaf.data_files.is_empty() {
                counter += 1;
                let full = std::mem::take(&mut leaf);
                let entry = write_leaf(dir, &format!("backupmeta.datafile.{counter:09}"), &full)?;
                metadata_bytes += entry.size;
                leaves.push(entry);
                leaf_len = 0;
            }
            leaf_len += len;
            leaf.data_files.push(file);
            written_files += 1;
        }
    }
    if !leaf.data_files.is_empty() {
        counter += 1;
        let entry = write_leaf(dir, &format!("backupmeta.datafile.{counter:09}"), &leaf)?;
        metadata_bytes += entry.size;
        leaves.push(entry);
    }
    drop(leaf);

    let schemas: Vec<Schema> = test_tables
        .iter()
        .zip(&checksums)
        .map(|(table, (crc, kvs, bytes))| Schema {
            crc64xor: *crc,
            total_kvs: *kvs,
            total_bytes: *bytes,
            ..table.schema_message()
        })
        .collect();
    counter += 1;
    let schema_leaf = MetaFile {
        schemas,
        ..Default::default()
    };
    let schema_entry = write_leaf(
        dir,
        &format!("backupmeta.schema.{counter:09}"),
        &schema_leaf,
    )?;
    metadata_bytes += schema_entry.size;
    let writer = BackupWriter::default();
    let meta = BackupMeta {
        cluster_id: writer.cluster_id,
        cluster_version: "\"8.5.0\"".into(),
        start_version: 0,
        end_version: writer.end_version,
        br_version: "br-parquet gen_plan_backup".into(),
        new_collations_enabled: "True".into(),
        version: 1,
        ddls: b"[]".to_vec(),
        file_index: Some(MetaFile {
            meta_files: leaves.clone(),
            ..Default::default()
        }),
        schema_index: Some(MetaFile {
            meta_files: vec![schema_entry],
            ..Default::default()
        }),
        ..Default::default()
    };
    let root = meta.encode_to_vec();
    std::fs::write(dir.join("backupmeta"), &root)?;
    std::fs::write(
        dir.join("backup.lock"),
        b"DO NOT DELETE\nThis file exists to remind other backup jobs won't use this path",
    )?;
    Ok(json!({
        "dir": dir, "files": written_files, "ranges": ranges, "tables": tables,
        "partitions": partitions, "physical_ids": physical.len(),
        "datafile_leaves": leaves.len(),
        "metadata_bytes": metadata_bytes + root.len() as u64,
    }))
}

/// Writes a plaintext MetaFile object and returns its index entry.
fn write_leaf(dir: &Path, name: &str, leaf: &MetaFile) -> std::io::Result<FileMeta> {
    let bytes = leaf.encode_to_vec();
    std::fs::write(dir.join(name), &bytes)?;
    Ok(FileMeta {
        name: name.to_string(),
        sha256: Sha256::digest(&bytes).to_vec(),
        size: bytes.len() as u64,
        ..Default::default()
    })
}
