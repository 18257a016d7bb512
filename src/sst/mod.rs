//! A pure-Rust reader and writer of RocksDB block-based tables (SST files), as written by TiKV and
//! BR.
//!
//! Spec: <https://github.com/facebook/rocksdb/wiki/Rocksdb-BlockBasedTable-Format>; the facts used
//! here are summarised in `docs/formats.md` §11.
//!
//! ```text
//! [data block 1][trailer] ... [data block N][trailer]
//! [meta blocks: filter, properties, compression dict, ...][trailer each]
//! [metaindex block][trailer]
//! [index block, or index partitions + top-level index][trailer each]
//! [footer: 53 bytes]
//! ```
//!
//! One file per on-disk structure: [`footer`], [`block_handle`], [`checksum`], [`compression`],
//! [`block`] (entries + restart array), [`index`], `metaindex`, [`properties`]; [`reader`] ties them
//! into [`SstReader`] and its lending iterator [`SstEntries`], and [`writer`] is the encoder twin
//! [`SstWriter`] used by the test kit and benchmarks.
//!
//! Supported: format_version 2..=7; checksums none, CRC32c, xxHash, xxHash64, XXH3 (with the
//! format_version >= 6 context); compression none, Snappy, Zlib, LZ4, LZ4HC, ZSTD (with a
//! dictionary); binary-search, hash-search, binary-search-with-first-key and two-level (partitioned)
//! indexes; data blocks with a hash index; global sequence numbers of ingested files.
//!
//! The module is synchronous and pure: it reads through [`BlockSource`], one block per read, and
//! depends on no other module of the crate. Bytes are untrusted, so it never indexes or unwraps:
//! every malformed input is an [`SstError`] that says where (block kind, offset, size) and what
//! was expected.

// Backup bytes are untrusted: no panicking accessors outside tests (each test module opts out).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fmt;

pub mod block;
pub mod block_handle;
pub mod checksum;
mod coding;
pub mod compression;
pub mod footer;
pub mod index;
mod metaindex;
pub mod properties;
pub mod reader;
mod source;
pub mod writer;

pub use block_handle::BlockHandle;
pub use checksum::ChecksumType;
pub use compression::CompressionType;
pub use footer::Footer;
pub use properties::{IndexType, TableProperties};
pub use reader::{SstEntries, SstEntry, SstReader, ValueType};
pub use source::BlockSource;
pub use writer::{SstWriter, WriterOptions};

/// Which structure of the file a block is, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BlockKind {
    /// A data block (key/value entries).
    Data,
    /// The index block (or the top-level index of a partitioned index).
    Index,
    /// One partition of a two-level index.
    IndexPartition,
    /// The metaindex block (names of the meta blocks).
    Metaindex,
    /// The properties block.
    Properties,
    /// The compression dictionary block.
    CompressionDict,
    /// The footer (not a block, but checksummed like one from format_version 6).
    Footer,
}

impl fmt::Display for BlockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Data => "data block",
            Self::Index => "index block",
            Self::IndexPartition => "index partition",
            Self::Metaindex => "metaindex block",
            Self::Properties => "properties block",
            Self::CompressionDict => "compression dictionary block",
            Self::Footer => "footer",
        })
    }
}

/// A block's kind and place, carried by errors: displays as
/// `data block at offset 4096 (size 3012)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockRef {
    /// What the block is.
    pub kind: BlockKind,
    /// Offset of its first byte in the file.
    pub offset: u64,
    /// Its size without the trailer.
    pub size: u64,
}

impl BlockRef {
    /// The block of `kind` that `handle` points at.
    pub fn new(kind: BlockKind, handle: BlockHandle) -> Self {
        Self {
            kind,
            offset: handle.offset,
            size: handle.size,
        }
    }
}

impl fmt::Display for BlockRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at offset {} (size {})",
            self.kind, self.offset, self.size
        )
    }
}

/// Everything that can go wrong reading or writing an SST. Messages say where in the file and
/// what was expected; the caller adds the file name.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum SstError {
    /// The byte source (or the writer's sink) failed.
    #[error("I/O error at offset {offset} ({len} bytes): {source}")]
    Io {
        /// Offset of the failed read or write.
        offset: u64,
        /// Its length.
        len: u64,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file cannot even hold a footer.
    #[error("file is {file_len} bytes, shorter than the {footer_len}-byte footer")]
    FileTooShort {
        /// Length of the file.
        file_len: u64,
        /// Length of the footer expected at its end.
        footer_len: u64,
    },
    /// The last 8 bytes are not the block-based table magic number.
    #[error("bad magic 0x{magic:016x}: not a RocksDB block-based table")]
    BadMagic {
        /// The little-endian u64 found at the end of the file.
        magic: u64,
    },
    /// A format_version outside 2..=7.
    #[error("unsupported format_version {version} (supported: 2 to 7)")]
    UnsupportedFormatVersion {
        /// The version found in the footer (0 for the legacy footer).
        version: u32,
    },
    /// The footer is malformed.
    #[error("footer at offset {offset}: {detail}")]
    BadFooter {
        /// Offset of the footer in the file.
        offset: u64,
        /// What is wrong.
        detail: String,
    },
    /// A block (or the format_version >= 6 footer) does not match its stored checksum.
    #[error(
        "{block}: checksum mismatch ({checksum}): stored 0x{stored:08x}, computed 0x{computed:08x}"
    )]
    ChecksumMismatch {
        /// The block that failed.
        block: BlockRef,
        /// The file's checksum type.
        checksum: ChecksumType,
        /// The checksum in the trailer.
        stored: u32,
        /// The checksum of the bytes read (including any format_version >= 6 context).
        computed: u32,
    },
    /// A block uses a compression this reader does not implement (bzip2, xpress, custom).
    #[error("unsupported compression type {code} ({name}) in {block}")]
    UnsupportedCompression {
        /// The block.
        block: BlockRef,
        /// The trailer's compression type byte.
        code: u8,
        /// RocksDB's name for it, or "unknown".
        name: &'static str,
    },
    /// A block is malformed.
    #[error("{block}: {detail}")]
    Corrupt {
        /// The block.
        block: BlockRef,
        /// What was expected and what was found.
        detail: String,
    },
    /// A block uses a valid RocksDB feature this reader does not implement.
    #[error("{block}: unsupported: {detail}")]
    Unsupported {
        /// The block.
        block: BlockRef,
        /// The feature.
        detail: String,
    },
    /// [`SstWriter`] was given keys out of order.
    #[error(
        "key {key} is not after the previous key {previous}: keys must be strictly increasing"
    )]
    KeyOrder {
        /// The previous user key, hex.
        previous: String,
        /// The rejected user key, hex.
        key: String,
    },
    /// [`SstWriter`] could not compress a block.
    #[error("encoding the block at offset {offset} failed: {detail}")]
    Encode {
        /// Offset the block was to be written at.
        offset: u64,
        /// The codec's error.
        detail: String,
    },
    /// [`WriterOptions`] hold an unusable value (or an entry cannot be written).
    #[error("invalid writer options: {0}")]
    InvalidOptions(String),
}

impl SstError {
    /// Offset of the block (or footer, or failed read) the error is about, if it is about one.
    pub fn block_offset(&self) -> Option<u64> {
        match self {
            Self::Io { offset, .. }
            | Self::BadFooter { offset, .. }
            | Self::Encode { offset, .. } => Some(*offset),
            Self::ChecksumMismatch { block, .. }
            | Self::UnsupportedCompression { block, .. }
            | Self::Corrupt { block, .. }
            | Self::Unsupported { block, .. } => Some(block.offset),
            _ => None,
        }
    }

    pub(crate) fn corrupt(block: BlockRef, detail: impl Into<String>) -> Self {
        Self::Corrupt {
            block,
            detail: detail.into(),
        }
    }
}
