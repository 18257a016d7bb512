//! The fixed-size footer at the end of every block-based table (RocksDB `table/format.{h,cc}`).
//!
//! Spec: <https://github.com/facebook/rocksdb/wiki/Rocksdb-BlockBasedTable-Format> ("Footer");
//! `docs/formats.md` §11.
//!
//! ```text
//! format_version 1..=5 (53 bytes):
//! +---------------+------------------------------------------------+---------+----------+
//! | checksum type | metaindex handle, index handle, zero padding    | version | magic    |
//! | u8            | 40 bytes (two varint64 pairs)                   | u32 LE  | u64 LE   |
//! +---------------+------------------------------------------------+---------+----------+
//!
//! format_version >= 6 (53 bytes):
//! +------+----------+----------+----------+-----------+----------+---------+--------+
//! | type | 3e007a00 | footer   | base ctx | metaindex | reserved | version | magic  |
//! | u8   | ext.     | checksum | checksum | size      | 24 bytes | u32 LE  | u64 LE |
//! |      | magic    | u32 LE   | u32 LE   | u32 LE    | last 8=0 |         |        |
//! +------+----------+----------+----------+-----------+----------+---------+--------+
//! ```
//!
//! From format_version 6 the metaindex block sits right before the footer (so only its size is
//! stored), the index handle moves into the metaindex (`rocksdb.index`), and the footer checksum
//! covers all 53 bytes with its own field zeroed, plus the context modifier for the footer offset.
//! The legacy 48-byte footer (format_version 0, magic `0xdb4775248b80fb57`) is recognised only to
//! reject it clearly.

use super::block_handle::{BlockHandle, BLOCK_TRAILER_LEN};
use super::checksum::{buffer_checksum, context_modifier, ChecksumType};
use super::coding::{fixed32, fixed64};
use super::{BlockKind, BlockRef, SstError};

/// `kBlockBasedTableMagicNumber`.
pub const BLOCK_BASED_TABLE_MAGIC: u64 = 0x88e2_41b7_85f4_cff7;
/// `kLegacyBlockBasedTableMagicNumber` (format_version 0, RocksDB < 4.6).
pub const LEGACY_BLOCK_BASED_TABLE_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
/// Length of the footer for format_version >= 1.
pub const FOOTER_LEN: usize = 53;
/// Oldest format_version read: 2 added the uncompressed-size prefix every reader here relies on.
pub const MIN_FORMAT_VERSION: u32 = 2;
/// Newest format_version read (RocksDB 10.4+ writes 7).
pub const MAX_FORMAT_VERSION: u32 = 7;

/// Second part of a format_version >= 6 footer starts with this.
const EXTENDED_MAGIC: [u8; 4] = [0x3e, 0x00, 0x7a, 0x00];
/// Byte ranges inside the 53-byte footer.
const PART2: std::ops::Range<usize> = 1..41;
const FOOTER_CHECKSUM: std::ops::Range<usize> = 5..9;
const BASE_CONTEXT: std::ops::Range<usize> = 9..13;
const METAINDEX_SIZE: std::ops::Range<usize> = 13..17;
/// The reserved bytes that must be zero in a format_version >= 6 footer.
const RESERVED_ZERO: std::ops::Range<usize> = 33..41;
const VERSION: std::ops::Range<usize> = 41..45;
const MAGIC: std::ops::Range<usize> = 45..53;

/// A decoded footer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footer {
    /// The table's format_version, 2..=7.
    pub format_version: u32,
    /// Checksum type of every block.
    pub checksum: ChecksumType,
    /// Where the metaindex block is.
    pub metaindex: BlockHandle,
    /// Where the index block is; `None` from format_version 6, where the metaindex's
    /// `rocksdb.index` entry says.
    pub index: Option<BlockHandle>,
    /// Seed of the per-block checksum context (format_version >= 6; 0 before, meaning no context).
    pub base_context_checksum: u32,
}

impl Footer {
    /// Decodes the footer of a file of `file_len` bytes whose last `min(file_len, 53)` bytes are
    /// `tail`. Checks the magic number, the format_version (2..=7), the checksum type and, from
    /// format_version 6, the footer checksum.
    pub fn decode(tail: &[u8], file_len: u64) -> Result<Self, SstError> {
        let too_short = SstError::FileTooShort {
            file_len,
            footer_len: FOOTER_LEN as u64,
        };
        let footer_offset = file_len.checked_sub(FOOTER_LEN as u64).ok_or(too_short)?;
        let bad = |detail: String| SstError::BadFooter {
            offset: footer_offset,
            detail,
        };
        if tail.len() != FOOTER_LEN {
            return Err(bad(format!(
                "read {} footer bytes, expected {FOOTER_LEN}",
                tail.len()
            )));
        }
        let magic = tail.get(MAGIC).and_then(fixed64).unwrap_or(0);
        if magic == LEGACY_BLOCK_BASED_TABLE_MAGIC {
            return Err(SstError::UnsupportedFormatVersion { version: 0 });
        }
        if magic != BLOCK_BASED_TABLE_MAGIC {
            return Err(SstError::BadMagic { magic });
        }
        let format_version = tail.get(VERSION).and_then(fixed32).unwrap_or(0);
        if !(MIN_FORMAT_VERSION..=MAX_FORMAT_VERSION).contains(&format_version) {
            return Err(SstError::UnsupportedFormatVersion {
                version: format_version,
            });
        }
        let code = tail.first().copied().unwrap_or(0);
        let checksum = ChecksumType::from_code(code)
            .ok_or_else(|| bad(format!("unknown checksum type {code}")))?;
        let part2 = tail.get(PART2).unwrap_or(&[]);

        if format_version < 6 {
            let mut input = part2;
            let metaindex = BlockHandle::decode_from(&mut input)
                .ok_or_else(|| bad("malformed metaindex handle".to_owned()))?;
            let index = BlockHandle::decode_from(&mut input)
                .ok_or_else(|| bad("malformed index handle".to_owned()))?;
            return Ok(Self {
                format_version,
                checksum,
                metaindex,
                index: Some(index),
                base_context_checksum: 0,
            });
        }

        let extended = tail.get(1..5).unwrap_or(&[]);
        if extended != EXTENDED_MAGIC {
            return Err(bad(format!(
                "format_version {format_version} footer lacks the extended magic 3e007a00 (found {})",
                hex::encode(extended)
            )));
        }
        let field = |range: std::ops::Range<usize>| tail.get(range).and_then(fixed32).unwrap_or(0);
        let stored = field(FOOTER_CHECKSUM);
        let base_context_checksum = field(BASE_CONTEXT);
        let metaindex_size = field(METAINDEX_SIZE);
        if tail
            .get(RESERVED_ZERO)
            .is_some_and(|r| r.iter().any(|&b| b != 0))
        {
            return Err(bad("reserved footer bytes are not zero".to_owned()));
        }
        if checksum != ChecksumType::None {
            let computed = footer_checksum(checksum, tail, base_context_checksum, footer_offset);
            if computed != stored {
                return Err(SstError::ChecksumMismatch {
                    block: BlockRef {
                        kind: BlockKind::Footer,
                        offset: footer_offset,
                        size: FOOTER_LEN as u64,
                    },
                    checksum,
                    stored,
                    computed,
                });
            }
        }
        let metaindex_offset = footer_offset
            .checked_sub(u64::from(metaindex_size) + BLOCK_TRAILER_LEN)
            .ok_or_else(|| {
                bad(format!(
                    "metaindex size {metaindex_size} does not fit before the footer"
                ))
            })?;
        Ok(Self {
            format_version,
            checksum,
            metaindex: BlockHandle::new(metaindex_offset, u64::from(metaindex_size)),
            index: None,
            base_context_checksum,
        })
    }

    /// Encodes the footer placed at `footer_offset`. For format_version >= 6 the metaindex must end
    /// right before the footer and `index` is ignored (it belongs in the metaindex); the footer
    /// checksum is computed here.
    pub fn encode(&self, footer_offset: u64) -> [u8; FOOTER_LEN] {
        let mut out = [0u8; FOOTER_LEN];
        let mut part2 = Vec::with_capacity(PART2.len());
        if self.format_version < 6 {
            self.metaindex.encode_to(&mut part2);
            self.index.unwrap_or_default().encode_to(&mut part2);
        } else {
            part2.extend_from_slice(&EXTENDED_MAGIC);
            part2.extend_from_slice(&[0; 4]); // footer checksum, filled in below
            part2.extend_from_slice(&self.base_context_checksum.to_le_bytes());
            // A metaindex over 4 GiB cannot be described by this footer; RocksDB has the same
            // limit, and the writer never builds one.
            part2.extend_from_slice(&(self.metaindex.size as u32).to_le_bytes());
        }
        for (dst, src) in out
            .iter_mut()
            .zip(std::iter::once(self.checksum.code()).chain(part2.iter().copied()))
        {
            *dst = src;
        }
        if let Some(version) = out.get_mut(VERSION) {
            version.copy_from_slice(&self.format_version.to_le_bytes());
        }
        if let Some(magic) = out.get_mut(MAGIC) {
            magic.copy_from_slice(&BLOCK_BASED_TABLE_MAGIC.to_le_bytes());
        }
        if self.format_version >= 6 && self.checksum != ChecksumType::None {
            let sum = footer_checksum(
                self.checksum,
                &out,
                self.base_context_checksum,
                footer_offset,
            );
            if let Some(field) = out.get_mut(FOOTER_CHECKSUM) {
                field.copy_from_slice(&sum.to_le_bytes());
            }
        }
        out
    }
}

/// Checksum of a format_version >= 6 footer: over all 53 bytes with the checksum field zeroed,
/// plus the context modifier of the footer's own offset.
fn footer_checksum(kind: ChecksumType, footer: &[u8], base: u32, footer_offset: u64) -> u32 {
    let mut copy = [0u8; FOOTER_LEN];
    for (dst, src) in copy.iter_mut().zip(footer) {
        *dst = *src;
    }
    if let Some(field) = copy.get_mut(FOOTER_CHECKSUM) {
        field.fill(0);
    }
    buffer_checksum(kind, &copy).wrapping_add(context_modifier(base, footer_offset))
}

#[cfg(test)]
// Tests may index and unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn footer(format_version: u32, checksum: ChecksumType) -> Footer {
        Footer {
            format_version,
            checksum,
            metaindex: BlockHandle::new(9000, 120),
            index: (format_version < 6).then_some(BlockHandle::new(7000, 1995)),
            base_context_checksum: if format_version >= 6 { 0x1234_5678 } else { 0 },
        }
    }

    #[test]
    fn round_trip_every_version_and_checksum() {
        for version in 2..=7 {
            for code in 0..=4 {
                let checksum = ChecksumType::from_code(code).unwrap();
                let f = footer(version, checksum);
                let footer_offset = 9125;
                let bytes = f.encode(footer_offset);
                assert_eq!(bytes.len(), FOOTER_LEN);
                let decoded = Footer::decode(&bytes, footer_offset + 53).unwrap();
                assert_eq!(decoded, f, "v{version} {checksum}");
            }
        }
    }

    #[test]
    fn golden_v2_footer() {
        let bytes = footer(2, ChecksumType::Crc32c).encode(0);
        let mut expected = vec![1u8, 0xa8, 0x46, 0x78, 0xd8, 0x36, 0xcb, 0x0f];
        expected.resize(41, 0);
        expected.extend_from_slice(&[2, 0, 0, 0]);
        expected.extend_from_slice(&[0xf7, 0xcf, 0xf4, 0x85, 0xb7, 0x41, 0xe2, 0x88]);
        assert_eq!(bytes.to_vec(), expected);
    }

    #[test]
    fn v6_footer_from_real_rocksdb() {
        // The last 53 bytes of a 6088-byte file written by RocksDB's SstFileWriter
        // (format_version 6, kXXH3, via the `rocksdict` wheel).
        let tail = hex::decode(concat!(
            "043e007a0038af8f2a25f5f94e39000000000000000000000000000000",
            "00000000000000000000000006000000f7cff485b741e288"
        ))
        .unwrap();
        let f = Footer::decode(&tail, 6088).unwrap();
        assert_eq!(f.format_version, 6);
        assert_eq!(f.checksum, ChecksumType::Xxh3);
        assert_eq!(f.base_context_checksum, 0x4ef9_f525);
        assert_eq!(f.metaindex, BlockHandle::new(6088 - 53 - 5 - 57, 57));
        assert_eq!(f.index, None);
        assert_eq!(f.encode(6088 - 53).to_vec(), tail);
    }

    #[test]
    fn v6_footer_checksum_mismatch_names_the_footer() {
        let mut bytes = footer(6, ChecksumType::Crc32c).encode(1000);
        bytes[35] ^= 1;
        assert_eq!(
            Footer::decode(&bytes, 1053).unwrap_err().to_string(),
            "footer at offset 1000: reserved footer bytes are not zero"
        );
        let mut bytes = footer(6, ChecksumType::Crc32c).encode(1000);
        bytes[10] ^= 1; // base context checksum
        let err = Footer::decode(&bytes, 1053).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("footer at offset 1000 (size 53): checksum mismatch (kCRC32c)"),
            "{err}"
        );
        // The same footer read at another offset fails too: the offset is part of the checksum.
        let bytes = footer(6, ChecksumType::Crc32c).encode(1000);
        assert!(matches!(
            Footer::decode(&bytes, 2053),
            Err(SstError::ChecksumMismatch { .. })
        ));
    }

    #[test]
    fn rejections_are_clear() {
        let good = footer(5, ChecksumType::Crc32c).encode(100);
        assert_eq!(
            Footer::decode(&good[23..], 30).unwrap_err().to_string(),
            "file is 30 bytes, shorter than the 53-byte footer"
        );
        let mut bad_magic = good;
        bad_magic[52] = 0;
        assert_eq!(
            Footer::decode(&bad_magic, 153).unwrap_err().to_string(),
            "bad magic 0x00e241b785f4cff7: not a RocksDB block-based table"
        );
        for (version, text) in [(9u32, "9"), (1, "1"), (0, "0")] {
            let mut b = good;
            b[41..45].copy_from_slice(&version.to_le_bytes());
            assert_eq!(
                Footer::decode(&b, 153).unwrap_err().to_string(),
                format!("unsupported format_version {text} (supported: 2 to 7)")
            );
        }
        let mut legacy = [0u8; 53];
        legacy[45..].copy_from_slice(&LEGACY_BLOCK_BASED_TABLE_MAGIC.to_le_bytes());
        assert!(matches!(
            Footer::decode(&legacy, 53),
            Err(SstError::UnsupportedFormatVersion { version: 0 })
        ));
        let mut b = good;
        b[0] = 9;
        assert_eq!(
            Footer::decode(&b, 153).unwrap_err().to_string(),
            "footer at offset 100: unknown checksum type 9"
        );
        let mut b = good;
        b[1..41].fill(0xff);
        assert_eq!(
            Footer::decode(&b, 153).unwrap_err().to_string(),
            "footer at offset 100: malformed metaindex handle"
        );
        let mut b = footer(6, ChecksumType::None).encode(100);
        b[2] = 1;
        assert_eq!(
            Footer::decode(&b, 153).unwrap_err().to_string(),
            "footer at offset 100: format_version 6 footer lacks the extended magic 3e007a00 \
             (found 3e017a00)"
        );
    }
}
