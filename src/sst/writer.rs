//! An SST writer: the encoder twin of [`super::SstReader`], shaped like RocksDB's
//! `SstFileWriter` (external files, as BR writes them).
//!
//! Spec: <https://github.com/facebook/rocksdb/wiki/Rocksdb-BlockBasedTable-Format>;
//! RocksDB `table/block_based/block_based_table_builder.cc`, `table/sst_file_writer.cc`.
//!
//! ```text
//! [data block][trailer] ...          cut when the next entry would pass block_size
//! [index block][trailer]             kBinarySearch; user-key separators from format_version 3,
//!                                    delta-encoded handles from 4
//! [properties block][trailer]        never compressed
//! [metaindex block][trailer]         "rocksdb.properties" -> handle
//! [footer]                           53 bytes, format_version 2..=5
//! ```
//!
//! Keys are written as internal keys `user_key ‖ u64 LE (0 << 8 | type)` with sequence 0 and the
//! external-file properties `rocksdb.external_sst_file.version = 2`,
//! `rocksdb.external_sst_file.global_seqno = 0`, exactly like `SstFileWriter`. The output opens,
//! scans and verifies with RocksDB's own `sst_dump` (see `tests/sst_rocksdb.rs`).
//!
//! Choices that differ from RocksDB defaults, all valid for any reader:
//! * index blocks use the same restart interval as data blocks (RocksDB's default is 1), so
//!   the delta-encoded form of format_version >= 4 is actually exercised;
//! * with Zlib, blocks over 16 KiB are stored uncompressed, and data blocks are cut at 16 KiB:
//!   RocksDB inflates with a 16 KiB window, and the pure-Rust deflate always uses 32 KiB.

use std::io::Write;

use super::block::BlockBuilder;
use super::block_handle::{BlockHandle, BLOCK_TRAILER_LEN};
use super::checksum::{block_checksum, ChecksumType};
use super::compression::{CompressionType, Compressor, MAX_UNCOMPRESSED_BLOCK_LEN};
use super::footer::Footer;
use super::index::{IndexBlockBuilder, IndexFormat};
use super::metaindex;
use super::properties::{names, IndexType, PropertiesBuilder};
use super::reader::ValueType;
use super::SstError;

/// TiKV's format_version (`block_base_opts.set_format_version(2)`).
pub const DEFAULT_FORMAT_VERSION: u32 = 2;
/// Data block target size (TiKV's `block-size` default is 32 KiB; RocksDB's is 4 KiB).
pub const DEFAULT_BLOCK_SIZE: usize = 32 << 10;
/// Entries between restart points (RocksDB's `block_restart_interval` default).
pub const DEFAULT_RESTART_INTERVAL: usize = 16;
/// Column family name written when none is given.
pub const DEFAULT_COLUMN_FAMILY: &str = "default";

/// RocksDB's comparator for bytewise key order.
const BYTEWISE_COMPARATOR: &str = "leveldb.BytewiseComparator";
/// `TablePropertiesCollectorFactory::Context::kUnknownColumnFamily`, what `SstFileWriter`
/// records when it is not given a column family handle.
const UNKNOWN_COLUMN_FAMILY_ID: u64 = 0x7fff_ffff;
/// `kMaxSequenceNumber`.
const MAX_SEQUENCE: u64 = (1 << 56) - 1;
/// `kValueTypeForSeek` of TiKV's RocksDB 6.x (`kTypeBlobIndex`): the type in the trailer of a
/// shortened internal-key separator, which sorts before every real entry of that user key.
const VALUE_TYPE_FOR_SEEK: u64 = 0x11;
/// Largest data block the writer builds with Zlib (see the module docs).
const ZLIB_MAX_BLOCK: usize = 16 << 10;

/// Options of [`SstWriter`]. Defaults are TiKV's: format_version 2, CRC32c, no compression
/// (set one), 32 KiB blocks, restart interval 16, column family `default`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriterOptions {
    /// 2..=5.
    pub format_version: u32,
    /// Checksum of every block.
    pub checksum: ChecksumType,
    /// None, Snappy, Zlib, Lz4, Lz4hc or Zstd.
    pub compression: CompressionType,
    /// Target size of a data block before compression.
    pub block_size: usize,
    /// Entries between restart points, in data and index blocks.
    pub restart_interval: usize,
    /// Recorded in `rocksdb.column.family.name` (`default`, `write`, `lock` in TiKV).
    pub column_family: String,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            format_version: DEFAULT_FORMAT_VERSION,
            checksum: ChecksumType::Crc32c,
            compression: CompressionType::None,
            block_size: DEFAULT_BLOCK_SIZE,
            restart_interval: DEFAULT_RESTART_INTERVAL,
            column_family: DEFAULT_COLUMN_FAMILY.to_owned(),
        }
    }
}

impl WriterOptions {
    /// Sets [`Self::format_version`].
    pub fn with_format_version(mut self, format_version: u32) -> Self {
        self.format_version = format_version;
        self
    }

    /// Sets [`Self::checksum`].
    pub fn with_checksum(mut self, checksum: ChecksumType) -> Self {
        self.checksum = checksum;
        self
    }

    /// Sets [`Self::compression`].
    pub fn with_compression(mut self, compression: CompressionType) -> Self {
        self.compression = compression;
        self
    }

    /// Sets [`Self::block_size`].
    pub fn with_block_size(mut self, block_size: usize) -> Self {
        self.block_size = block_size;
        self
    }

    /// Sets [`Self::restart_interval`].
    pub fn with_restart_interval(mut self, restart_interval: usize) -> Self {
        self.restart_interval = restart_interval;
        self
    }

    /// Sets [`Self::column_family`].
    pub fn with_column_family(mut self, column_family: impl Into<String>) -> Self {
        self.column_family = column_family.into();
        self
    }

    /// Why the options are unusable, if they are.
    fn validate(&self) -> Result<(), String> {
        let invalid = Err;
        if !(2..=5).contains(&self.format_version) {
            return invalid(format!(
                "format_version {} (the writer supports 2 to 5)",
                self.format_version
            ));
        }
        if !matches!(
            self.compression,
            CompressionType::None
                | CompressionType::Snappy
                | CompressionType::Zlib
                | CompressionType::Lz4
                | CompressionType::Lz4hc
                | CompressionType::Zstd
        ) {
            return invalid(format!(
                "compression {} is not supported by the writer",
                self.compression
            ));
        }
        if self.block_size == 0 || self.block_size > MAX_UNCOMPRESSED_BLOCK_LEN / 2 {
            return invalid(format!("block_size {}", self.block_size));
        }
        if self.restart_interval == 0 {
            return invalid("restart_interval 0".to_owned());
        }
        Ok(())
    }
}

/// Writes blocks with their trailers and tracks the file offset.
struct BlockSink<W: Write> {
    out: W,
    offset: u64,
    checksum: ChecksumType,
    compressor: Compressor,
    compressed: Vec<u8>,
}

impl<W: Write> BlockSink<W> {
    /// Writes `contents` (compressed with `compression` when that pays) plus its trailer.
    fn write_block(
        &mut self,
        contents: &[u8],
        compression: CompressionType,
    ) -> Result<BlockHandle, SstError> {
        let compressed = self
            .compressor
            .compress(compression, contents, &mut self.compressed)
            .map_err(|detail| SstError::Encode {
                offset: self.offset,
                detail,
            })?;
        let (payload, code) = if compressed {
            (&self.compressed[..], compression.code())
        } else {
            (contents, CompressionType::None.code())
        };
        let checksum = block_checksum(self.checksum, payload, code);
        let handle = BlockHandle::new(self.offset, payload.len() as u64);
        let offset = self.offset;
        let io = |source| SstError::Io {
            offset,
            len: payload.len() as u64 + BLOCK_TRAILER_LEN,
            source,
        };
        self.out.write_all(payload).map_err(io)?;
        self.out.write_all(&[code]).map_err(io)?;
        self.out.write_all(&checksum.to_le_bytes()).map_err(io)?;
        self.offset += payload.len() as u64 + BLOCK_TRAILER_LEN;
        Ok(handle)
    }
}

/// Writes a block-based table from entries in strictly increasing user-key order.
///
/// Memory: the current data block, one separator key per data block (for the index, written at
/// the end), and codec scratch buffers. After an error the writer should be dropped: the output
/// is incomplete.
pub struct SstWriter<W: Write> {
    sink: BlockSink<W>,
    options: WriterOptions,
    /// Set by `new` if the options are unusable; reported by the first call.
    invalid: Option<String>,
    block_limit: usize,
    data: BlockBuilder,
    /// Per data block: internal-key separator and handle.
    index_entries: Vec<(Vec<u8>, BlockHandle)>,
    last_user_key: Vec<u8>,
    internal_key: Vec<u8>,
    num_entries: u64,
    num_deletions: u64,
    num_merge_operands: u64,
    raw_key_size: u64,
    raw_value_size: u64,
}

impl<W: Write> SstWriter<W> {
    /// A writer to `w`. Invalid options are reported by the first `put`/`add`/`finish`.
    pub fn new(w: W, options: WriterOptions) -> Self {
        let invalid = options.validate().err();
        let mut block_limit = options.block_size;
        if options.compression == CompressionType::Zlib {
            block_limit = block_limit.min(ZLIB_MAX_BLOCK);
        }
        Self {
            sink: BlockSink {
                out: w,
                offset: 0,
                checksum: options.checksum,
                compressor: Compressor::new(),
                compressed: Vec::new(),
            },
            data: BlockBuilder::new(options.restart_interval),
            options,
            invalid,
            block_limit,
            index_entries: Vec::new(),
            last_user_key: Vec::new(),
            internal_key: Vec::new(),
            num_entries: 0,
            num_deletions: 0,
            num_merge_operands: 0,
            raw_key_size: 0,
            raw_value_size: 0,
        }
    }

    /// Keys must be strictly increasing (bytewise); writes internal key
    /// `user_key ‖ (seq 0 << 8 | 1)` LE.
    pub fn put(&mut self, user_key: &[u8], value: &[u8]) -> Result<(), SstError> {
        self.add(user_key, ValueType::Value, value)
    }

    /// Like [`Self::put`] for any type `SstFileWriter` writes: `Value`, `Deletion`,
    /// `SingleDeletion` or `Merge` (deletions usually with an empty value).
    pub fn add(
        &mut self,
        user_key: &[u8],
        value_type: ValueType,
        value: &[u8],
    ) -> Result<(), SstError> {
        self.check_options()?;
        if !matches!(
            value_type,
            ValueType::Value | ValueType::Deletion | ValueType::SingleDeletion | ValueType::Merge
        ) {
            return Err(SstError::InvalidOptions(format!(
                "value type {value_type} cannot be written to an external SST"
            )));
        }
        if self.num_entries > 0 && user_key <= self.last_user_key.as_slice() {
            return Err(SstError::KeyOrder {
                previous: hex::encode(&self.last_user_key),
                key: hex::encode(user_key),
            });
        }
        let entry_len = user_key.len() + value.len() + 8;
        if entry_len > MAX_UNCOMPRESSED_BLOCK_LEN / 2 {
            return Err(SstError::InvalidOptions(format!(
                "entry of {entry_len} bytes is larger than a block may be ({} bytes)",
                MAX_UNCOMPRESSED_BLOCK_LEN / 2
            )));
        }
        // 3 varint32 lengths take at most 15 bytes.
        if !self.data.is_empty() && self.data.estimated_size() + entry_len + 15 > self.block_limit {
            self.flush_data_block(Some(user_key))?;
        }
        self.internal_key.clear();
        self.internal_key.extend_from_slice(user_key);
        self.internal_key
            .extend_from_slice(&u64::from(value_type.code()).to_le_bytes());
        self.data.add(&self.internal_key, value);
        self.last_user_key.clear();
        self.last_user_key.extend_from_slice(user_key);
        self.num_entries += 1;
        self.raw_key_size += self.internal_key.len() as u64;
        self.raw_value_size += value.len() as u64;
        match value_type {
            ValueType::Deletion | ValueType::SingleDeletion => self.num_deletions += 1,
            ValueType::Merge => self.num_merge_operands += 1,
            _ => {}
        }
        Ok(())
    }

    fn check_options(&self) -> Result<(), SstError> {
        match &self.invalid {
            Some(msg) => Err(SstError::InvalidOptions(msg.clone())),
            None => Ok(()),
        }
    }

    /// Writes the current data block and records its index entry. `next_user_key` is the first
    /// key of the following block (`None` for the last block), used to shorten the separator.
    fn flush_data_block(&mut self, next_user_key: Option<&[u8]>) -> Result<(), SstError> {
        let last_internal_key = self.data.last_key().to_vec();
        let handle = self
            .sink
            .write_block(self.data.finish(), self.options.compression)?;
        self.data.reset();
        let separator = match next_user_key {
            Some(next) => {
                let mut user = self.last_user_key.clone();
                if shorten_separator(&mut user, next) {
                    // RocksDB `InternalKeyComparator::FindShortestSeparator`.
                    user.extend_from_slice(
                        &((MAX_SEQUENCE << 8) | VALUE_TYPE_FOR_SEEK).to_le_bytes(),
                    );
                    user
                } else {
                    last_internal_key
                }
            }
            None => last_internal_key,
        };
        self.index_entries.push((separator, handle));
        Ok(())
    }

    /// Writes index, properties, metaindex and footer. Returns the total file size.
    pub fn finish(mut self) -> Result<u64, SstError> {
        self.check_options()?;
        if !self.data.is_empty() {
            self.flush_data_block(None)?;
        }
        let data_size = self.sink.offset;
        let num_data_blocks = self.index_entries.len() as u64;
        let fv = self.options.format_version;
        let format = IndexFormat {
            // User keys are strictly increasing, so no separator needs its sequence number.
            key_is_user_key: fv >= 3,
            value_delta_encoded: fv >= 4,
            has_first_key: false,
        };
        let mut index = IndexBlockBuilder::new(format, self.options.restart_interval);
        for (separator, handle) in &self.index_entries {
            let key = if format.key_is_user_key {
                separator
                    .get(..separator.len().saturating_sub(8))
                    .unwrap_or_default()
            } else {
                separator.as_slice()
            };
            index.add(key, *handle, None);
        }
        let index_handle = self
            .sink
            .write_block(index.finish(), self.options.compression)?;

        let mut props = PropertiesBuilder::default();
        props
            .u64(names::DATA_SIZE, data_size)
            .u64(names::INDEX_SIZE, index_handle.size + BLOCK_TRAILER_LEN)
            .u64(
                names::INDEX_KEY_IS_USER_KEY,
                u64::from(format.key_is_user_key),
            )
            .u64(
                names::INDEX_VALUE_IS_DELTA_ENCODED,
                u64::from(format.value_delta_encoded),
            )
            .u64(names::FILTER_SIZE, 0)
            .u64(names::RAW_KEY_SIZE, self.raw_key_size)
            .u64(names::RAW_VALUE_SIZE, self.raw_value_size)
            .u64(names::NUM_DATA_BLOCKS, num_data_blocks)
            .u64(names::NUM_ENTRIES, self.num_entries)
            .u64(names::DELETED_KEYS, self.num_deletions)
            .u64(names::MERGE_OPERANDS, self.num_merge_operands)
            .u64(names::NUM_RANGE_DELETIONS, 0)
            .u64(names::FORMAT_VERSION, 0)
            .u64(names::FIXED_KEY_LENGTH, 0)
            .u64(names::COLUMN_FAMILY_ID, UNKNOWN_COLUMN_FAMILY_ID)
            .u64(names::CREATION_TIME, 0)
            .str(names::COLUMN_FAMILY_NAME, &self.options.column_family)
            .str(names::COMPARATOR, BYTEWISE_COMPARATOR)
            .str(names::COMPRESSION, self.options.compression.name())
            .fixed32(names::INDEX_TYPE, IndexType::BinarySearch.code())
            .fixed32(names::EXTERNAL_SST_FILE_VERSION, 2)
            .fixed64(names::GLOBAL_SEQNO, 0);
        let properties_handle = self
            .sink
            .write_block(&props.build(), CompressionType::None)?;

        let metaindex = metaindex::build(&[(metaindex::PROPERTIES, properties_handle)]);
        let metaindex_handle = self.sink.write_block(&metaindex, CompressionType::None)?;

        let footer = Footer {
            format_version: fv,
            checksum: self.options.checksum,
            metaindex: metaindex_handle,
            index: Some(index_handle),
            base_context_checksum: 0,
        };
        let footer_offset = self.sink.offset;
        let bytes = footer.encode(footer_offset);
        let io = |source| SstError::Io {
            offset: footer_offset,
            len: bytes.len() as u64,
            source,
        };
        self.sink.out.write_all(&bytes).map_err(io)?;
        self.sink.out.flush().map_err(io)?;
        Ok(footer_offset + bytes.len() as u64)
    }
}

/// Shortens `start` to a key `k` with `start <= k < limit` if one is shorter, like RocksDB's
/// `BytewiseComparatorImpl::FindShortestSeparator`; returns whether it changed `start`.
fn shorten_separator(start: &mut Vec<u8>, limit: &[u8]) -> bool {
    let diff = start.iter().zip(limit).take_while(|(a, b)| a == b).count();
    let (Some(&start_byte), Some(&limit_byte)) = (start.get(diff), limit.get(diff)) else {
        // One is a prefix of the other.
        return false;
    };
    if start_byte >= limit_byte {
        return false;
    }
    if diff + 1 < limit.len() || start_byte + 1 < limit_byte {
        if let Some(byte) = start.get_mut(diff) {
            *byte += 1;
        }
        start.truncate(diff + 1);
        return true;
    }
    // Incrementing start[diff] would reach limit: keep it and increment the first byte after it
    // that is not 0xff.
    let Some(pos) = start
        .iter()
        .skip(diff + 1)
        .position(|&b| b < 0xff)
        .map(|p| p + diff + 1)
    else {
        return false;
    };
    if let Some(byte) = start.get_mut(pos) {
        *byte += 1;
    }
    start.truncate(pos + 1);
    true
}

#[cfg(test)]
// Tests may index and unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::sst::{IndexType, SstReader};

    fn shortened(start: &[u8], limit: &[u8]) -> Vec<u8> {
        let mut s = start.to_vec();
        shorten_separator(&mut s, limit);
        s
    }

    #[test]
    fn separator_shortening_matches_rocksdb() {
        assert_eq!(shortened(b"abcdefg", b"abzz"), b"abd");
        assert_eq!(shortened(b"abc", b"abcd"), b"abc"); // prefix: unchanged
        assert_eq!(shortened(b"abd", b"abc"), b"abd"); // not less: unchanged
        assert_eq!(shortened(b"ab1aaa", b"ab2"), b"ab1b"); // limit ends at diff
        assert_eq!(shortened(b"ab1\xff\xffa", b"ab2"), b"ab1\xff\xffb");
        assert_eq!(shortened(b"ab1\xff\xff", b"ab2"), b"ab1\xff\xff");
        assert_eq!(shortened(b"ab1xx", b"ab3"), b"ab2");
    }

    /// Keys of many lengths and a few values larger than a block.
    fn sample_entries(n: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        (0..n)
            .map(|i| {
                let mut key = b"t\x80\0\0\0\0\0\0\x2a_r".to_vec();
                key.extend_from_slice(&(i as u64 * 3).to_be_bytes());
                key.extend(std::iter::repeat_n(b'k', i % 13));
                let len = if i % 101 == 50 { 5000 } else { (i * 31) % 120 };
                let value = (0..len).map(|j| ((i + j) % 7) as u8 * 17).collect();
                (key, value)
            })
            .collect()
    }

    fn write(options: WriterOptions, entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = SstWriter::new(&mut out, options);
        for (k, v) in entries {
            w.put(k, v).unwrap();
        }
        let len = w.finish().unwrap();
        assert_eq!(len, out.len() as u64);
        out
    }

    fn scan(file: &[u8]) -> Vec<(Vec<u8>, u64, ValueType, Vec<u8>)> {
        let reader = SstReader::open(file).unwrap();
        let mut it = reader.entries();
        let mut out = Vec::new();
        while let Some(e) = it.next().unwrap() {
            out.push((
                e.user_key.to_vec(),
                e.sequence,
                e.value_type,
                e.value.to_vec(),
            ));
        }
        out
    }

    #[test]
    fn round_trip_every_compression_version_and_checksum() {
        let entries = sample_entries(1500);
        let expected: Vec<_> = entries
            .iter()
            .map(|(k, v)| (k.clone(), 0, ValueType::Value, v.clone()))
            .collect();
        for compression in [
            CompressionType::None,
            CompressionType::Snappy,
            CompressionType::Zlib,
            CompressionType::Lz4,
            CompressionType::Lz4hc,
            CompressionType::Zstd,
        ] {
            for format_version in 2..=5 {
                for checksum in 0..=4 {
                    let checksum = ChecksumType::from_code(checksum).unwrap();
                    let options = WriterOptions::default()
                        .with_format_version(format_version)
                        .with_checksum(checksum)
                        .with_compression(compression)
                        .with_block_size(1024)
                        .with_restart_interval(4)
                        .with_column_family("write");
                    let file = write(options, &entries);
                    let reader = SstReader::open(&file[..]).unwrap();
                    let what = format!("{compression} v{format_version} {checksum}");
                    assert_eq!(reader.format_version(), format_version, "{what}");
                    assert_eq!(reader.checksum_type(), checksum, "{what}");
                    let props = reader.properties();
                    assert_eq!(props.num_entries, 1500, "{what}");
                    assert!(
                        props.num_data_blocks > 50,
                        "{what}: {}",
                        props.num_data_blocks
                    );
                    assert_eq!(props.compression_name, compression.name(), "{what}");
                    assert_eq!(props.column_family_name, "write", "{what}");
                    assert_eq!(props.index_type, IndexType::BinarySearch);
                    assert_eq!(props.index_key_is_user_key, format_version >= 3);
                    assert_eq!(props.index_value_is_delta_encoded, format_version >= 4);
                    assert_eq!(props.global_seqno, Some(0));
                    assert_eq!(scan(&file), expected, "{what}");
                }
            }
        }
    }

    #[test]
    fn value_types_and_counters() {
        let mut out = Vec::new();
        let mut w = SstWriter::new(&mut out, WriterOptions::default());
        w.add(b"a", ValueType::Deletion, b"").unwrap();
        w.add(b"b", ValueType::Merge, b"+1").unwrap();
        w.add(b"c", ValueType::SingleDeletion, b"").unwrap();
        w.put(b"d", b"v").unwrap();
        assert!(matches!(
            w.add(b"e", ValueType::BlobIndex, b""),
            Err(SstError::InvalidOptions(_))
        ));
        w.finish().unwrap();
        let reader = SstReader::open(&out[..]).unwrap();
        assert_eq!(reader.properties().num_deletions, 2);
        assert_eq!(reader.properties().num_merge_operands, 1);
        assert_eq!(reader.properties().raw_key_size, 4 * 9);
        let types: Vec<_> = scan(&out).into_iter().map(|e| e.2).collect();
        assert_eq!(
            types,
            [
                ValueType::Deletion,
                ValueType::Merge,
                ValueType::SingleDeletion,
                ValueType::Value
            ]
        );
    }

    #[test]
    fn key_order_and_options_are_checked() {
        let mut w = SstWriter::new(Vec::new(), WriterOptions::default());
        w.put(b"b", b"").unwrap();
        assert_eq!(
            w.put(b"b", b"").unwrap_err().to_string(),
            "key 62 is not after the previous key 62: keys must be strictly increasing"
        );
        assert!(w.put(b"a", b"").is_err());
        let mut w = SstWriter::new(Vec::new(), WriterOptions::default().with_format_version(6));
        assert_eq!(
            w.put(b"a", b"").unwrap_err().to_string(),
            "invalid writer options: format_version 6 (the writer supports 2 to 5)"
        );
        let w = SstWriter::new(
            Vec::new(),
            WriterOptions::default().with_compression(CompressionType::Bzip2),
        );
        assert_eq!(
            w.finish().unwrap_err().to_string(),
            "invalid writer options: compression BZip2 is not supported by the writer"
        );
    }

    #[test]
    fn empty_table_round_trips() {
        let file = write(WriterOptions::default(), &[]);
        assert!(scan(&file).is_empty());
        assert_eq!(
            SstReader::open(&file[..])
                .unwrap()
                .properties()
                .num_data_blocks,
            0
        );
    }
}
