//! Parquet files written with arrow-rs, hashed with SHA-256 as they are written.
//!
//! A file is written to a local staging path first; only a finished file (footer written, size and
//! hash known) is uploaded, so the output never holds a truncated Parquet file.

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::arrow::ArrowWriter;
use parquet::basic::{BrotliLevel, Compression as ParquetCompression, GzipLevel, ZstdLevel};
use parquet::file::metadata::{KeyValue, ParquetMetaDataReader};
use parquet::file::properties::{WriterProperties, WriterVersion};
use sha2::{Digest, Sha256};

use super::dictionary::columns_without_dictionary;
use super::iceberg::{PackedStats, StatsCollector};
use crate::error::Setting;
use crate::{Error, Result};

/// Rows per row group by default (arrow-rs's own default): large groups compress and scan best.
pub const DEFAULT_ROW_GROUP_ROWS: usize = 1024 * 1024;
/// A row group is closed early once its estimated encoded size reaches this, which bounds the
/// writer's buffered memory for wide rows.
pub const DEFAULT_ROW_GROUP_BYTES: usize = 128 * 1024 * 1024;
/// The default codec: zstd at level 1 compresses close to snappy's speed with much smaller files.
pub const DEFAULT_COMPRESSION: Codec = Codec::Zstd;
/// A column chunk's dictionary is given up (the rest of the chunk is plain-encoded) once it grows
/// past this: arrow-rs's and parquet-java's default. Columns whose first batch shows they would
/// pass it start without a dictionary ([`super::dictionary`]); the columns that keep one repeat
/// values, and a larger dictionary serves them longer (`bench.orders`: files 1.6 % smaller than
/// at 256 KiB, as fast; `docs/performance.md`).
pub const DEFAULT_DICTIONARY_PAGE_BYTES: usize = 1024 * 1024;
/// Buffer between the Parquet encoder and the staging file.
const FILE_BUFFER_BYTES: usize = 1024 * 1024;

/// The compression codecs `--compression` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// No compression.
    None,
    /// Snappy.
    Snappy,
    /// Zstandard (levels 1..=22).
    Zstd,
    /// Gzip (levels 0..=9).
    Gzip,
    /// Brotli (levels 0..=11).
    Brotli,
    /// LZ4 raw block format (`LZ4_RAW`; the deprecated framed `LZ4` is not offered).
    Lz4Raw,
}

impl Codec {
    /// All codecs, in `--help` order.
    pub const ALL: [Codec; 6] = [
        Codec::Snappy,
        Codec::Zstd,
        Codec::Gzip,
        Codec::Brotli,
        Codec::Lz4Raw,
        Codec::None,
    ];

    /// Builds the Parquet compression setting, validating the level.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for [`Setting::CompressionLevel`] when the codec takes no level
    /// or not this one.
    pub fn with_level(self, level: Option<i32>) -> Result<ParquetCompression> {
        let bad = |message: String| Error::setting(Setting::CompressionLevel, message);
        let out_of_range = |range: &str| bad(format!("{self} takes levels {range}"));
        let no_level = |c: ParquetCompression| match level {
            None => Ok(c),
            Some(_) => Err(bad(format!(
                "not accepted by {self}; only zstd, gzip and brotli have levels"
            ))),
        };
        match self {
            Codec::None => no_level(ParquetCompression::UNCOMPRESSED),
            Codec::Snappy => no_level(ParquetCompression::SNAPPY),
            Codec::Lz4Raw => no_level(ParquetCompression::LZ4_RAW),
            Codec::Zstd => Ok(ParquetCompression::ZSTD(
                ZstdLevel::try_new(level.unwrap_or(1)).map_err(|_| out_of_range("1..=22"))?,
            )),
            Codec::Gzip => {
                let level = u32::try_from(level.unwrap_or(6)).map_err(|_| out_of_range("0..=9"))?;
                Ok(ParquetCompression::GZIP(
                    GzipLevel::try_new(level).map_err(|_| out_of_range("0..=9"))?,
                ))
            }
            Codec::Brotli => {
                let level =
                    u32::try_from(level.unwrap_or(1)).map_err(|_| out_of_range("0..=11"))?;
                Ok(ParquetCompression::BROTLI(
                    BrotliLevel::try_new(level).map_err(|_| out_of_range("0..=11"))?,
                ))
            }
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Codec::None => "none",
            Codec::Snappy => "snappy",
            Codec::Zstd => "zstd",
            Codec::Gzip => "gzip",
            Codec::Brotli => "brotli",
            Codec::Lz4Raw => "lz4raw",
        })
    }
}

impl FromStr for Codec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "uncompressed" => Ok(Codec::None),
            "snappy" => Ok(Codec::Snappy),
            "zstd" => Ok(Codec::Zstd),
            "gzip" => Ok(Codec::Gzip),
            "brotli" => Ok(Codec::Brotli),
            "lz4raw" | "lz4_raw" | "lz4" => Ok(Codec::Lz4Raw),
            other => Err(format!(
                "unknown compression {other:?}; choose one of snappy, zstd, gzip, brotli, lz4raw, none"
            )),
        }
    }
}

/// How Parquet files are written.
#[derive(Debug, Clone)]
pub struct ParquetOptions {
    /// The codec of every column chunk.
    pub compression: ParquetCompression,
    /// Maximum rows per row group.
    pub row_group_rows: usize,
    /// Encoded bytes after which a row group is closed early.
    pub row_group_bytes: usize,
    /// Dictionary size after which a column chunk falls back to plain encoding.
    pub dictionary_page_bytes: usize,
    /// Store the Arrow schema in the footer (`ARROW:schema`), so Arrow readers get back
    /// Arrow-only types (TIME as a duration, JSON as the `arrow.json` extension type). Off for
    /// the files of Iceberg tables, whose schema is the Iceberg one: PyIceberg refuses Arrow types
    /// that Iceberg lacks.
    pub embed_arrow_schema: bool,
}

impl Default for ParquetOptions {
    fn default() -> Self {
        ParquetOptions {
            compression: ParquetCompression::ZSTD(ZstdLevel::default()),
            row_group_rows: DEFAULT_ROW_GROUP_ROWS,
            row_group_bytes: DEFAULT_ROW_GROUP_BYTES,
            dictionary_page_bytes: DEFAULT_DICTIONARY_PAGE_BYTES,
            embed_arrow_schema: true,
        }
    }
}

impl ParquetOptions {
    /// The arrow-rs writer settings of a file, with `metadata` as the footer's key-value
    /// metadata. Given the file's first batch, the columns whose dictionary that batch shows
    /// would outgrow the limit are written without one ([`super::dictionary`]).
    pub fn writer_properties(
        &self,
        metadata: Vec<(String, String)>,
        first_batch: Option<&RecordBatch>,
    ) -> WriterProperties {
        let mut builder = WriterProperties::builder()
            .set_writer_version(WriterVersion::PARQUET_2_0)
            .set_compression(self.compression)
            .set_max_row_group_row_count(Some(self.row_group_rows.max(1)))
            .set_max_row_group_bytes(Some(self.row_group_bytes.max(1)))
            .set_dictionary_page_size_limit(self.dictionary_page_bytes.max(1))
            .set_created_by(format!("br-parquet {}", env!("CARGO_PKG_VERSION")))
            .set_key_value_metadata(Some(
                metadata
                    .into_iter()
                    .map(|(k, v)| KeyValue::new(k, v))
                    .collect(),
            ));
        let limit = self.dictionary_page_bytes.max(1);
        for column in first_batch
            .map(|batch| columns_without_dictionary(batch, limit))
            .unwrap_or_default()
        {
            builder = builder.set_column_dictionary_enabled(column, false);
        }
        builder.build()
    }
}

/// A finished Parquet file.
#[derive(Debug, Clone)]
pub struct WrittenFile {
    /// The local staging path.
    pub path: PathBuf,
    /// Rows in the file.
    pub rows: u64,
    /// File size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Per-column statistics, when [`ParquetFileWriter::collect_column_stats`] was called
    /// (none otherwise).
    pub stats: PackedStats,
}

/// Writes one Parquet file to a local path.
pub struct ParquetFileWriter {
    state: WriterState,
    path: PathBuf,
    rows: u64,
    schema: SchemaRef,
    stats: Option<StatsCollector>,
}

type Sink = HashingWriter<BufWriter<File>>;

/// What the arrow-rs writer is made from.
struct Unstarted {
    sink: Sink,
    options: ParquetOptions,
    metadata: Vec<(String, String)>,
}

/// The arrow-rs writer is made when the first batch arrives, because that batch decides which
/// columns get a dictionary.
enum WriterState {
    Created(Box<Unstarted>),
    Writing(Box<ArrowWriter<Sink>>),
    /// While the writer is being made, and after that failed.
    Switching,
}

impl ParquetFileWriter {
    /// Creates `path` and prepares to write batches of `schema`. `metadata` goes into the footer's
    /// key-value metadata.
    pub fn create(
        path: &Path,
        schema: SchemaRef,
        options: &ParquetOptions,
        metadata: Vec<(String, String)>,
    ) -> Result<Self> {
        let file = File::create(path).map_err(|e| Error::io(path.display().to_string(), e))?;
        let sink = HashingWriter::new(BufWriter::with_capacity(FILE_BUFFER_BYTES, file));
        Ok(ParquetFileWriter {
            state: WriterState::Created(Box::new(Unstarted {
                sink,
                options: options.clone(),
                metadata,
            })),
            path: path.to_path_buf(),
            rows: 0,
            schema,
            stats: None,
        })
    }

    /// Also collects per-column statistics (counts, NaNs, bounds) of every batch written from
    /// now on, for Iceberg metadata; [`Self::finish`] returns them in [`WrittenFile::stats`].
    pub fn collect_column_stats(&mut self) {
        self.stats = Some(StatsCollector::new(&self.schema));
    }

    /// The arrow-rs writer, made on first use with the settings `first_batch` decides.
    fn arrow_writer(
        &mut self,
        first_batch: Option<&RecordBatch>,
    ) -> Result<&mut ArrowWriter<Sink>> {
        let state = std::mem::replace(&mut self.state, WriterState::Switching);
        self.state = match state {
            WriterState::Created(unstarted) => {
                let Unstarted {
                    sink,
                    options,
                    metadata,
                } = *unstarted;
                let arrow_options = ArrowWriterOptions::new()
                    .with_properties(options.writer_properties(metadata, first_batch))
                    .with_skip_arrow_metadata(!options.embed_arrow_schema);
                let writer =
                    ArrowWriter::try_new_with_options(sink, self.schema.clone(), arrow_options)
                        .map_err(|source| parquet_error(&self.path, source))?;
                WriterState::Writing(Box::new(writer))
            }
            other => other,
        };
        match &mut self.state {
            WriterState::Writing(writer) => Ok(writer),
            _ => Err(parquet_error(
                &self.path,
                parquet::errors::ParquetError::General("the writer failed to start".into()),
            )),
        }
    }

    /// Appends a batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let path = self.path.clone();
        self.arrow_writer(Some(batch))?
            .write(batch)
            .map_err(|source| parquet_error(&path, source))?;
        self.rows += batch.num_rows() as u64;
        if let Some(stats) = &mut self.stats {
            stats.update(batch);
        }
        Ok(())
    }

    /// Bytes of the file so far (row groups flushed, not the one being built).
    pub fn bytes_written(&self) -> u64 {
        match &self.state {
            WriterState::Writing(writer) => writer.bytes_written() as u64,
            _ => 0,
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes the footer and returns the file's size and hash.
    pub fn finish(mut self) -> Result<WrittenFile> {
        self.arrow_writer(None)?;
        let path = self.path;
        let WriterState::Writing(writer) = self.state else {
            return Err(parquet_error(
                &path,
                parquet::errors::ParquetError::General("the writer failed to start".into()),
            ));
        };
        let sink = writer
            .into_inner()
            .map_err(|source| parquet_error(&path, source))?;
        let (buffered, size, sha256) = sink.finish();
        // Not synced: the output makes files durable before it publishes them, all at once
        // (`ExternalStorage::sync`).
        buffered
            .into_inner()
            .map_err(|e| Error::io(path.display().to_string(), e.into_error()))?;
        let stats = match self.stats {
            Some(collector) => {
                // Column sizes and row-group offsets come from the footer just written.
                let written =
                    File::open(&path).map_err(|e| Error::io(path.display().to_string(), e))?;
                let footer = ParquetMetaDataReader::new()
                    .parse_and_finish(&written)
                    .map_err(|source| parquet_error(&path, source))?;
                PackedStats::pack(&collector.finish(&footer))
                    .map_err(|e| Error::iceberg(path.display().to_string(), e))?
            }
            None => PackedStats::default(),
        };
        Ok(WrittenFile {
            path,
            rows: self.rows,
            size,
            sha256,
            stats,
        })
    }
}

fn parquet_error(path: &Path, source: parquet::errors::ParquetError) -> Error {
    Error::Parquet {
        path: path.display().to_string(),
        source,
    }
}

/// Counts and hashes every byte on its way to the inner writer.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            written: 0,
        }
    }

    fn finish(mut self) -> (W, u64, String) {
        // A flush error surfaces when the caller unwraps the BufWriter.
        let _ = self.inner.flush();
        (
            self.inner,
            self.written,
            hex::encode(self.hasher.finalize()),
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = buf.get(..n).unwrap_or_default();
        self.hasher.update(written);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;

    #[test]
    fn codec_names_round_trip() {
        for codec in Codec::ALL {
            assert_eq!(codec.to_string().parse::<Codec>().unwrap(), codec);
        }
        assert_eq!("LZ4".parse::<Codec>().unwrap(), Codec::Lz4Raw);
        assert!("lzo"
            .parse::<Codec>()
            .unwrap_err()
            .contains("choose one of"));
    }

    #[test]
    fn levels_are_checked() {
        assert!(Codec::Zstd.with_level(Some(22)).is_ok());
        assert!(Codec::Zstd.with_level(Some(99)).is_err());
        let err = Codec::Snappy.with_level(Some(3)).unwrap_err().to_string();
        assert!(err.contains("not accepted by snappy"), "{err}");
        assert_eq!(
            Codec::Gzip.with_level(Some(9)).unwrap(),
            ParquetCompression::GZIP(GzipLevel::try_new(9).unwrap())
        );
    }

    #[test]
    fn writer_properties_carry_the_options() {
        let options = ParquetOptions {
            row_group_rows: 1000,
            dictionary_page_bytes: 64 << 10,
            ..Default::default()
        };
        let properties = options.writer_properties(vec![("k".into(), "v".into())], None);
        assert_eq!(properties.dictionary_page_size_limit(), 64 << 10);
        assert_eq!(properties.max_row_group_row_count(), Some(1000));
        assert_eq!(
            ParquetOptions::default()
                .writer_properties(Vec::new(), None)
                .dictionary_page_size_limit(),
            DEFAULT_DICTIONARY_PAGE_BYTES
        );
        let metadata = properties.key_value_metadata().unwrap();
        assert_eq!(metadata[0].key, "k");
        assert_eq!(metadata[0].value.as_deref(), Some("v"));
    }

    #[test]
    fn the_first_batch_decides_which_columns_get_a_dictionary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("status", DataType::Utf8, false),
        ]));
        let batch = |from: i64| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from_iter_values(from..from + 8192)),
                    Arc::new(StringArray::from_iter_values(
                        (from..from + 8192).map(|i| ["new", "paid", "shipped"][(i % 3) as usize]),
                    )),
                ],
            )
            .unwrap()
        };
        let options = ParquetOptions::default();
        let mut writer =
            ParquetFileWriter::create(&path, schema.clone(), &options, Vec::new()).unwrap();
        assert_eq!(writer.bytes_written(), 0);
        writer.write(&batch(0)).unwrap();
        writer.write(&batch(8192)).unwrap();
        assert_eq!(writer.finish().unwrap().rows, 16384);

        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
        let chunk = |i: usize| reader.metadata().row_group(0).column(i).clone();
        assert!(
            chunk(0).dictionary_page_offset().is_none(),
            "unique ids: no dictionary"
        );
        assert!(
            chunk(1).dictionary_page_offset().is_some(),
            "statuses: a dictionary"
        );
        let ids: Vec<i64> = reader
            .build()
            .unwrap()
            .flat_map(|b| {
                let b = b.unwrap();
                let ids = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                ids.values().to_vec()
            })
            .collect();
        assert_eq!(ids, (0..16384).collect::<Vec<i64>>());
    }

    #[test]
    fn a_file_without_batches_is_a_valid_empty_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        let options = ParquetOptions::default();
        let writer = ParquetFileWriter::create(&path, schema, &options, Vec::new()).unwrap();
        let written = writer.finish().unwrap();
        assert_eq!(written.rows, 0);
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 0);
        assert_eq!(reader.schema().field(0).name(), "id");
    }

    #[test]
    fn writes_hashes_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let options = ParquetOptions {
            row_group_rows: 2,
            ..Default::default()
        };
        let mut writer = ParquetFileWriter::create(
            &path,
            schema.clone(),
            &options,
            vec![("tidb.table".into(), "test.t".into())],
        )
        .unwrap();
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3])),
                Arc::new(StringArray::from(vec![Some("a"), None, Some("ü")])),
            ],
        )
        .unwrap();
        writer.write(&batch).unwrap();
        let written = writer.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(written.rows, 3);
        assert_eq!(written.size, bytes.len() as u64);
        assert_eq!(written.sha256, hex::encode(Sha256::digest(&bytes)));

        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 2);
        let kv = reader
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .unwrap();
        assert!(kv
            .iter()
            .any(|k| k.key == "tidb.table" && k.value.as_deref() == Some("test.t")));
        let read: Vec<RecordBatch> = reader.build().unwrap().map(|b| b.unwrap()).collect();
        let names: Vec<Option<String>> = read
            .iter()
            .flat_map(|b| {
                let col = b.column(1).as_any().downcast_ref::<StringArray>().unwrap();
                col.iter()
                    .map(|v| v.map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(names, vec![Some("a".into()), None, Some("ü".into())]);
        assert_eq!(written.stats, PackedStats::default());
    }

    #[test]
    fn column_stats_and_no_arrow_schema_for_iceberg() {
        use crate::batch::PARQUET_FIELD_ID_KEY;
        use crate::sink::iceberg::value::Value;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let id = |n: &str| {
            std::collections::HashMap::from([(PARQUET_FIELD_ID_KEY.to_string(), n.to_string())])
        };
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false).with_metadata(id("2")),
            Field::new("name", DataType::Utf8, true).with_metadata(id("101")),
        ]));
        let options = ParquetOptions {
            row_group_rows: 2,
            embed_arrow_schema: false,
            ..Default::default()
        };
        let mut writer =
            ParquetFileWriter::create(&path, schema.clone(), &options, Vec::new()).unwrap();
        writer.collect_column_stats();
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![7, -3, 5])),
                Arc::new(StringArray::from(vec![Some("b"), None, Some("a")])),
            ],
        )
        .unwrap();
        writer.write(&batch).unwrap();
        let stats = writer.finish().unwrap().stats.unpack().unwrap();
        assert_eq!(stats.split_offsets.len(), 2, "one offset per row group");
        let ids = stats.column(2).unwrap();
        assert_eq!((ids.value_count, ids.null_count), (3, 0));
        assert_eq!(ids.lower, Some(Value::Long(-3)));
        assert_eq!(ids.upper, Some(Value::Long(7)));
        assert!(ids.size.unwrap() > 0);
        let names = stats.column(101).unwrap();
        assert_eq!(names.null_count, 1);
        assert_eq!(names.lower, Some(Value::String("a".into())));

        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
        let kv = reader.metadata().file_metadata().key_value_metadata();
        assert!(
            kv.is_none_or(|kv| kv.iter().all(|k| k.key != "ARROW:schema")),
            "no embedded Arrow schema"
        );
        let parquet_schema = reader.metadata().file_metadata().schema_descr();
        assert_eq!(
            parquet_schema.column(1).self_type().get_basic_info().id(),
            101
        );
    }
}
