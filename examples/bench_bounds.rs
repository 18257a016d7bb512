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
//! Like the export, the read bound verifies each SST's SHA-256 and BR's checksums by default
//! (`--no-verify` skips both). This replicates `export::range` with the crate's public API so that it needs no hook in the
//! export code; it must be kept in step with that file.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use br_parquet::batch::{BackupKind, BatchLimits, RowData, RowKey, TableBatchBuilder};
use br_parquet::codec::checksum::KvChecksum;
use br_parquet::codec::key::{decode_data_key, parse_tidb_key, TidbKey};
use br_parquet::codec::mvcc::{WriteRecord, WriteType};
use br_parquet::integrity;
use br_parquet::meta::{build_plan, load_backup, RangePlan, TableSchema};
use br_parquet::sink::parquet::{ParquetFileWriter, ParquetOptions};
use br_parquet::sst::{SstEntries, SstReader};
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
    let backup = load_backup(
        &mut |name| {
            std::fs::read(dir.join(name))
                .map(bytes::Bytes::from)
                .map_err(|e| br_parquet::Error::io(name.to_string(), e))
        },
        None,
    )?;
    let kind = if backup.start_version > 0 {
        BackupKind::Incremental
    } else {
        BackupKind::Full
    };
    let plan = build_plan(&backup)?;
    let tables = plan.tables_by_physical_id();
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
    let mut properties = options.writer_properties(Vec::new()).into_builder();
    for column in &args.no_dictionary {
        properties =
            properties.set_column_dictionary_enabled(ColumnPath::from(column.as_str()), false);
    }
    let properties = properties.build();

    let mut totals = Totals::default();
    let started = Instant::now();
    for (index, range) in plan.ranges.iter().enumerate() {
        if args.mode == Mode::Scan {
            let t = Instant::now();
            scan_range(dir, range, &mut totals)?;
            totals.scan += t.elapsed();
            continue;
        }
        let mut batches: Vec<(Arc<TableSchema>, RecordBatch)> = Vec::new();
        let t = Instant::now();
        let keep = args.mode != Mode::Read;
        decode_range(
            dir,
            range,
            &tables,
            kind,
            !args.no_verify,
            &mut |table, batch| {
                totals.rows += batch.num_rows() as u64;
                totals.batches += 1;
                totals.arrow_bytes += batch.get_array_memory_size() as u64;
                if keep {
                    batches.push((table.clone(), batch));
                }
            },
        )?;
        if args.mode != Mode::Encode {
            totals.read += t.elapsed();
        }
        if keep {
            let t = Instant::now();
            totals.parquet_bytes += encode(
                &args,
                &properties,
                &options,
                index,
                std::mem::take(&mut batches),
            )?;
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
    let names = std::iter::once(&range.write).chain(range.default.as_ref());
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

/// What `export::range::scan_range` does up to the sink: every record batch of the range is
/// handed to `sink` with its table. With `verify`, each SST's SHA-256 and BR's checksum over
/// its pairs are checked against `backupmeta`, as the export does by default.
fn decode_range(
    dir: &Path,
    range: &RangePlan,
    tables: &HashMap<i64, Arc<TableSchema>>,
    kind: BackupKind,
    verify: bool,
    sink: &mut dyn FnMut(&Arc<TableSchema>, RecordBatch),
) -> BoxResult<()> {
    let write_name = range.write.name.as_str();
    if verify {
        for file in std::iter::once(&range.write).chain(range.default.as_ref()) {
            integrity::verify_sha256(&file.name, &dir.join(&file.name), &file.sha256)?;
        }
    }
    let write_reader = open_sst(dir, write_name)?;
    let default_reader = match &range.default {
        Some(file) => Some(open_sst(dir, &file.name)?),
        None => None,
    };
    let mut defaults = default_reader
        .as_ref()
        .map(|reader| DefaultCursor::new(reader.entries()));
    let mut write_checksum = KvChecksum::default();
    let mut builders: HashMap<i64, (Arc<TableSchema>, TableBatchBuilder)> = HashMap::new();
    let mut raw_key = Vec::new();
    let mut target = Vec::new();
    let mut entries = write_reader.entries();
    while let Some(entry) = entries.next()? {
        let commit_ts = decode_data_key(entry.user_key, &mut raw_key)?;
        let record = WriteRecord::parse(entry.value)?;
        match (record.write_type, record.short_value) {
            (WriteType::Put, Some(value)) => write_checksum.update(&raw_key, value),
            (WriteType::Delete, _) => write_checksum.update(&raw_key, &[]),
            _ => {}
        }
        let (physical_id, handle) = match parse_tidb_key(&raw_key)? {
            TidbKey::Record { table_id, handle } => (table_id, handle),
            _ => continue,
        };
        let Some(table) = tables.get(&physical_id) else {
            continue;
        };
        let data = match record.write_type {
            WriteType::Put => match record.short_value {
                Some(value) => RowData::Put(value),
                None => {
                    let cursor = defaults.as_mut().ok_or("no default-CF SST")?;
                    target.clear();
                    target.extend_from_slice(
                        entry
                            .user_key
                            .get(..entry.user_key.len().saturating_sub(8))
                            .unwrap_or_default(),
                    );
                    target.extend_from_slice(&(!record.start_ts).to_be_bytes());
                    RowData::Put(cursor.find(&target)?.ok_or("default-CF value missing")?)
                }
            },
            WriteType::Delete => RowData::Delete,
            WriteType::Lock | WriteType::Rollback => continue,
        };
        let (table, builder) = match builders.entry(table.table_id) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => v.insert((
                table.clone(),
                TableBatchBuilder::new(table.clone(), kind, write_name, BatchLimits::default())?,
            )),
        };
        let key = RowKey {
            physical_id,
            handle,
            commit_ts,
        };
        if builder.push_row(&key, data)? {
            if let Some(batch) = builder.finish_batch()? {
                sink(table, batch);
            }
        }
    }
    if let Some(cursor) = defaults.as_mut() {
        while cursor.advance()? {
            cursor.pending = false;
        }
    }
    if verify {
        let expect = |f: &br_parquet::proto::backup::File| {
            KvChecksum::new(f.crc64xor, f.total_kvs, f.total_bytes)
        };
        if expect(&range.write) != write_checksum {
            return Err(format!("{write_name}: checksum mismatch").into());
        }
        if let (Some(cursor), Some(file)) = (&defaults, &range.default) {
            if expect(file) != cursor.checksum {
                return Err(format!("{}: checksum mismatch", file.name).into());
            }
        }
    }
    let mut rest: Vec<_> = builders.into_values().collect();
    rest.sort_by_key(|(table, _)| table.table_id);
    for (table, mut builder) in rest {
        if let Some(batch) = builder.finish_batch()? {
            sink(&table, batch);
        }
    }
    Ok(())
}

/// Writes each table's batches of one range to a scratch Parquet file; returns the bytes written.
fn encode(
    args: &Args,
    properties: &WriterProperties,
    options: &ParquetOptions,
    range_index: usize,
    batches: Vec<(Arc<TableSchema>, RecordBatch)>,
) -> BoxResult<u64> {
    let mut by_table: Vec<(i64, Vec<RecordBatch>)> = Vec::new();
    for (table, batch) in batches {
        match by_table.iter_mut().find(|(id, _)| *id == table.table_id) {
            Some((_, list)) => list.push(batch),
            None => by_table.push((table.table_id, vec![batch])),
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
                let mut writer = ArrowWriter::try_new(file, schema, Some(properties.clone()))?;
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

/// The default-CF merge join of `export::range` (orphans are not counted here).
struct DefaultCursor<'r> {
    entries: SstEntries<'r, File>,
    key: Vec<u8>,
    value: Vec<u8>,
    raw_key: Vec<u8>,
    checksum: KvChecksum,
    pending: bool,
    exhausted: bool,
}

impl<'r> DefaultCursor<'r> {
    fn new(entries: SstEntries<'r, File>) -> Self {
        DefaultCursor {
            entries,
            key: Vec::new(),
            value: Vec::new(),
            raw_key: Vec::new(),
            checksum: KvChecksum::default(),
            pending: false,
            exhausted: false,
        }
    }

    fn advance(&mut self) -> BoxResult<bool> {
        if self.exhausted {
            return Ok(false);
        }
        match self.entries.next()? {
            Some(entry) => {
                decode_data_key(entry.user_key, &mut self.raw_key)?;
                self.checksum.update(&self.raw_key, entry.value);
                self.key.clear();
                self.key.extend_from_slice(entry.user_key);
                self.value.clear();
                self.value.extend_from_slice(entry.value);
                self.pending = true;
                Ok(true)
            }
            None => {
                self.exhausted = true;
                Ok(false)
            }
        }
    }

    fn find(&mut self, target: &[u8]) -> BoxResult<Option<&[u8]>> {
        loop {
            if !self.pending && !self.advance()? {
                return Ok(None);
            }
            match self.key.as_slice().cmp(target) {
                Ordering::Less => self.pending = false,
                Ordering::Equal => {
                    self.pending = false;
                    return Ok(Some(&self.value));
                }
                Ordering::Greater => return Ok(None),
            }
        }
    }
}
