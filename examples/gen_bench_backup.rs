//! Writes a synthetic BR backup of one realistic mixed-type table, for benchmarks.
//!
//! ```sh
//! cargo run --release --example gen_bench_backup -- --rows 1000000 --out target/bench/backup-1m
//! cargo run --release --example gen_bench_backup -- --text multilingual --out target/bench/ml-1m
//! ```
//!
//! The table `bench.orders` (`benches/common/orders.rs`) has 15 columns of the types a typical
//! OLTP table mixes, with realistic lengths and about 5 % NULLs; 3 % of its rows are longer
//! than 255 bytes and go to the default CF, as TiKV does. SSTs are LZ4-compressed with
//! 32 KiB blocks, like TiKV's. Rows are generated and written one range (one region) at a time,
//! so memory does not grow with `--rows`; every value depends only on the seed and the row's
//! handle, so the output is deterministic and the same for any `--rows-per-range`.
//! `--text multilingual` writes `bench.orders_ml` instead: the same rows with their three text
//! columns in many scripts (CJK, Cyrillic, Latin with accents, a few emoji).
//!
//! Prints one JSON line: rows, ranges, SST bytes of each CF, and seconds taken.

use std::path::PathBuf;
use std::time::Instant;

use br_parquet::sst::{CompressionType, WriterOptions};
use br_parquet::testkit::BackupWriter;
use clap::Parser;
use serde_json::json;

// The benches use the rest of the shared table (`table`, `row`).
#[allow(dead_code)]
#[path = "../benches/common/orders.rs"]
mod orders;

/// Command line.
#[derive(Parser, Debug)]
#[command(about = "Write a synthetic BR backup of a mixed-type table for benchmarks")]
struct Args {
    /// Rows to write.
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Backup directory (replaced if it exists).
    #[arg(long)]
    out: PathBuf,
    /// Rows per backed-up range (one write-CF SST each; real regions hold 100k–500k rows).
    #[arg(long, default_value_t = 125_000)]
    rows_per_range: u64,
    /// SST block compression: lz4 (TiKV's default), zstd, snappy or none.
    #[arg(long, default_value = "lz4")]
    sst_compression: String,
    /// The language of the text columns, and with it the table.
    #[arg(long, value_enum, default_value = "ascii")]
    text: orders::Text,
    /// Seed of the value generator.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let compression = match args.sst_compression.as_str() {
        "lz4" => CompressionType::Lz4,
        "zstd" => CompressionType::Zstd,
        "snappy" => CompressionType::Snappy,
        "none" => CompressionType::None,
        other => return Err(format!("unknown --sst-compression {other:?}").into()),
    };
    if args.out.exists() {
        std::fs::remove_dir_all(&args.out)?;
    }
    let started = Instant::now();
    let writer = BackupWriter {
        rows_per_range: args.rows_per_range as usize,
        sst: WriterOptions::default().with_compression(compression),
        with_index_keys: false,
        ..Default::default()
    };
    let text = args.text;
    let table = orders::table_with(text);
    let per_range = args.rows_per_range.max(1);
    let mut next = 0u64;
    let seed = args.seed;
    let total = args.rows;
    let written = writer.write_streaming(&args.out, &table, &mut || {
        if next >= total {
            return Ok(None);
        }
        let end = (next + per_range).min(total);
        let rows = (next..end)
            .map(|i| orders::row_with(seed, i as i64 + 1, text))
            .collect();
        next = end;
        Ok(Some(rows))
    })?;
    let size = |names: &[String]| -> std::io::Result<u64> {
        names
            .iter()
            .map(|n| Ok(std::fs::metadata(args.out.join(n))?.len()))
            .sum()
    };
    let report = json!({
        "dir": args.out,
        "table": format!("{}.{}", table.db, table.name),
        "rows": args.rows,
        "ranges": written.write_ssts.len(),
        "write_sst_bytes": size(&written.write_ssts)?,
        "default_sst_bytes": size(&written.default_ssts)?,
        "default_ssts": written.default_ssts.len(),
        "seconds": started.elapsed().as_secs_f64(),
    });
    println!("{report}");
    Ok(())
}
