//! The two bounds an export is measured against (see `docs/performance.md`), on one thread:
//!
//! * **read bound**: the export's pipeline minus the sink: SST scan (both CFs, merge-joined),
//!   key and MVCC decoding, and row decoding into Arrow record batches, which are then dropped;
//! * **encode bound**: arrow-rs `ArrowWriter` writing those same record batches (same schema,
//!   codec and row-group limits as `sink::parquet`) to a local file, with no decoding in the
//!   timed part: each range is decoded first (untimed), then its batches are written (timed).
//!
//! ```sh
//! cargo run --release --example bench_bounds -- --input target/bench/backup-1m --mode all
//! ```
//!
//! `--mode scan` times the bare SST scan (every entry of both CFs, no decoding), `read` the read
//! bound, `encode` the encode bound, `all` (the default) read and encode in one pass over the
//! backup, each timed on its own. `--encoder sink` times our `ParquetFileWriter` (SHA-256 and
//! fsync included) instead of a bare `ArrowWriter`. Prints one JSON line.
//!
//! The read bound is the export's own decoding, through `br_parquet::export::BatchReader`: like
//! the export, it verifies each SST's SHA-256 and BR's checksums by default (`--no-verify` skips
//! both).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use br_parquet::export::{BatchReader, ExportOptions};
use br_parquet::meta::RangePlan;
use br_parquet::sink::parquet::{ParquetFileWriter, ParquetOptions};
use br_parquet::sst::SstReader;
use br_parquet::storage::url::parse_url;
use clap::{Parser, ValueEnum};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use serde_json::json;

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    Scan,
    Read,
    Encode,
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Encoder {
    /// A bare `ArrowWriter` over a buffered file.
    Arrow,
    /// `br_parquet::sink::parquet::ParquetFileWriter` (hashing and fsync included).
    Sink,
}

/// Command line.
#[derive(Parser, Debug)]
#[command(about = "Time the read bound and the encode bound of a Parquet export")]
struct Args {
    /// A local backup directory (holding `backupmeta`).
    #[arg(long)]
    input: PathBuf,
    /// What to time.
    #[arg(long, value_enum, default_value = "all")]
    mode: Mode,
    /// Which Parquet writer the encode bound times.
    #[arg(long, value_enum, default_value = "arrow")]
    encoder: Encoder,
    /// Directory for the scratch Parquet file (each is removed after it is written).
    #[arg(long, default_value = "target/bench/scratch")]
    scratch: PathBuf,
    /// Skip what the export verifies by default (each SST's SHA-256 and BR's checksum over its
    /// pairs), as `parquet-export --no-verify` does.
    #[arg(long)]
    no_verify: bool,
    /// Encode these columns without a dictionary (comma-separated names), to measure what the
    /// dictionary attempt costs on high-cardinality columns.
    #[arg(long, value_delimiter = ',')]
    no_dictionary: Vec<String>,
    /// arrow-rs's `dictionary_page_size_limit` (bytes; default as in the export): a column falls back
    /// from dictionary to plain encoding once its dictionary is this large.
    #[arg(long)]
    dictionary_page_size_limit: Option<usize>,
}

#[derive(Default)]
struct Totals {
    rows: u64,
    entries: u64,
    kv_bytes: u64,
    batches: u64,
    /// Arrow memory of the decoded batches.
    arrow_bytes: u64,
    parquet_bytes: u64,
    scan: Duration,
    read: Duration,
    encode: Duration,
}

fn main() -> BoxResult<()> {
    let args = Args::parse();
    let dir = args.input.as_path();
    let location = |path: &Path| parse_url(&path.display().to_string());
    let mut export = ExportOptions::new(location(dir)?, parse_url("noop://")?);
    export.verify = !args.no_verify;
    let reader = BatchReader::open(&export)?;
    let plan = reader.plan();
    let sst_bytes: u64 = plan
        .ranges
        .iter()
        .map(|r| r.write.size + r.default.as_ref().map_or(0, |f| f.size))
        .sum();
    std::fs::create_dir_all(&args.scratch)?;
    let mut options = ParquetOptions::default();
    if let Some(limit) = args.dictionary_page_size_limit {
        options.dictionary_page_bytes = limit;
    }

    let mut totals = Totals::default();
    let started = Instant::now();
    for (index, range) in plan.ranges.iter().enumerate() {
        if args.mode == Mode::Scan {
            let t = Instant::now();
            scan_range(dir, range, &mut totals)?;
            totals.scan += t.elapsed();
            continue;
        }
        let mut batches: Vec<(i64, RecordBatch)> = Vec::new();
        let t = Instant::now();
        let keep = args.mode != Mode::Read;
        reader.read_range(index, &mut |table, batch| {
            totals.rows += batch.num_rows() as u64;
            totals.batches += 1;
            totals.arrow_bytes += batch.get_array_memory_size() as u64;
            if keep {
                batches.push((table.table_id, batch));
            }
        })?;
        if args.mode != Mode::Encode {
            totals.read += t.elapsed();
        }
        if keep {
            let t = Instant::now();
            totals.parquet_bytes += encode(&args, &options, index, std::mem::take(&mut batches))?;
            totals.encode += t.elapsed();
        }
    }
    let seconds = |d: Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
    let report = json!({
        "input": args.input,
        "mode": format!("{:?}", args.mode).to_lowercase(),
        "encoder": format!("{:?}", args.encoder).to_lowercase(),
        "no_dictionary": args.no_dictionary,
        "dictionary_page_size_limit": args.dictionary_page_size_limit,
        "ranges": plan.ranges.len(),
        "sst_bytes": sst_bytes,
        "rows": totals.rows,
        "batches": totals.batches,
        "entries": totals.entries,
        "kv_bytes": totals.kv_bytes,
        "arrow_bytes": totals.arrow_bytes,
        "parquet_bytes": totals.parquet_bytes,
        "scan_seconds": seconds(totals.scan),
        "read_seconds": seconds(totals.read),
        "encode_seconds": seconds(totals.encode),
        "wall_seconds": seconds(started.elapsed()),
    });
    println!("{report}");
    Ok(())
}

fn open_sst(dir: &Path, name: &str) -> BoxResult<SstReader<File>> {
    let file = File::open(dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
    Ok(SstReader::open(file).map_err(|e| format!("{name}: {e}"))?)
}

/// Every entry of both SSTs, nothing decoded.
fn scan_range(dir: &Path, range: &RangePlan, totals: &mut Totals) -> BoxResult<()> {
    let names = std::iter::once(&range.write).chain(range.default.as_deref());
    for file in names {
        let reader = open_sst(dir, &file.name)?;
        let mut entries = reader.entries();
        while let Some(entry) = entries.next()? {
            totals.entries += 1;
            totals.kv_bytes += (entry.user_key.len() + entry.value.len()) as u64;
        }
    }
    Ok(())
}

/// The export's writer settings for a file starting with `first_batch`, with `--no-dictionary`
/// applied.
fn arrow_properties(
    args: &Args,
    options: &ParquetOptions,
    first_batch: Option<&RecordBatch>,
) -> WriterProperties {
    let mut properties = options
        .writer_properties(Vec::new(), first_batch)
        .into_builder();
    for column in &args.no_dictionary {
        properties =
            properties.set_column_dictionary_enabled(ColumnPath::from(column.as_str()), false);
    }
    properties.build()
}

/// Writes each table's batches of one range to a scratch Parquet file; returns the bytes written.
fn encode(
    args: &Args,
    options: &ParquetOptions,
    range_index: usize,
    batches: Vec<(i64, RecordBatch)>,
) -> BoxResult<u64> {
    let mut by_table: Vec<(i64, Vec<RecordBatch>)> = Vec::new();
    for (table_id, batch) in batches {
        match by_table.iter_mut().find(|(id, _)| *id == table_id) {
            Some((_, list)) => list.push(batch),
            None => by_table.push((table_id, vec![batch])),
        }
    }
    let mut bytes = 0;
    for (table_id, batches) in by_table {
        let Some(schema) = batches.first().map(|b| b.schema()) else {
            continue;
        };
        let path = args
            .scratch
            .join(format!("range-{range_index}-{table_id}.parquet"));
        match args.encoder {
            Encoder::Arrow => {
                let file = BufWriter::with_capacity(1 << 20, File::create(&path)?);
                let properties = arrow_properties(args, options, batches.first());
                let mut writer = ArrowWriter::try_new(file, schema, Some(properties))?;
                for batch in &batches {
                    writer.write(batch)?;
                }
                writer.close()?;
            }
            Encoder::Sink => {
                let mut writer = ParquetFileWriter::create(&path, schema, options, Vec::new())?;
                for batch in &batches {
                    writer.write(batch)?;
                }
                writer.finish()?;
            }
        }
        bytes += std::fs::metadata(&path)?.len();
        std::fs::remove_file(&path)?;
    }
    Ok(bytes)
}
