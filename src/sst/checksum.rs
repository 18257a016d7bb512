//! Block checksums (RocksDB `table/format.cc` `ComputeBuiltinChecksum*`, `include/rocksdb/table.h`
//! `ChecksumType`).
//!
//! Spec: <https://github.com/facebook/rocksdb/wiki/Rocksdb-BlockBasedTable-Format>.
//!
//! ```text
//! block contents (size bytes) | compression type (1) | checksum u32 LE (4)
//! \_____________ checksummed _____________/
//! ```
//!
//! * CRC32c is stored masked (the LevelDB rotate-and-add).
//! * xxHash32 and xxHash64 (low 32 bits) hash the contents then the type byte, seed 0.
//! * XXH3 hashes only the contents; the type byte is folded in as
//!   `lower32(XXH3_64(contents)) ^ (type * 0x6b9083d9)`.
//! * format_version >= 6 adds a per-block context: `stored = checksum + modifier(base, offset)`
//!   (wrapping), with `modifier = base ^ (lower32(offset) + upper32(offset))`, and 0 when `base` is 0.

use std::fmt;

use xxhash_rust::{xxh3::xxh3_64, xxh32::Xxh32, xxh64::Xxh64};

/// The checksum function named by the footer's first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ChecksumType {
    /// `kNoChecksum` (0): the stored value is ignored.
    None,
    /// `kCRC32c` (1), stored masked. TiKV's default.
    #[default]
    Crc32c,
    /// `kxxHash` (2): XXH32, seed 0.
    XxHash,
    /// `kxxHash64` (3): low 32 bits of XXH64, seed 0.
    XxHash64,
    /// `kXXH3` (4): low 32 bits of XXH3_64 with the last-byte fold. RocksDB >= 6.27.
    Xxh3,
}

impl ChecksumType {
    /// Parses the footer byte; `None` for codes RocksDB does not define.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::None,
            1 => Self::Crc32c,
            2 => Self::XxHash,
            3 => Self::XxHash64,
            4 => Self::Xxh3,
            _ => return None,
        })
    }

    /// The footer byte.
    pub fn code(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Crc32c => 1,
            Self::XxHash => 2,
            Self::XxHash64 => 3,
            Self::Xxh3 => 4,
        }
    }

    /// RocksDB's enumerator name, as in OPTIONS files (`kCRC32c`, `kXXH3`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "kNoChecksum",
            Self::Crc32c => "kCRC32c",
            Self::XxHash => "kxxHash",
            Self::XxHash64 => "kxxHash64",
            Self::Xxh3 => "kXXH3",
        }
    }
}

impl fmt::Display for ChecksumType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

const CRC32C_MASK_DELTA: u32 = 0xa282_ead8;
/// Multiplier that folds the last byte into an XXH3 checksum (RocksDB `kRandomPrime`).
const XXH3_LAST_BYTE_PRIME: u32 = 0x6b90_83d9;

/// LevelDB/RocksDB CRC mask: storing a CRC of data that itself holds CRCs is error-prone.
pub fn mask_crc32c(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(CRC32C_MASK_DELTA)
}

/// Inverse of [`mask_crc32c`].
pub fn unmask_crc32c(masked: u32) -> u32 {
    masked.wrapping_sub(CRC32C_MASK_DELTA).rotate_left(15)
}

/// Checksum of `contents` followed by `last_byte` (a block's compression type), as stored in a
/// block trailer before any context modifier.
pub fn block_checksum(kind: ChecksumType, contents: &[u8], last_byte: u8) -> u32 {
    match kind {
        ChecksumType::None => 0,
        ChecksumType::Crc32c => {
            let crc = crc32c::crc32c_append(crc32c::crc32c(contents), &[last_byte]);
            mask_crc32c(crc)
        }
        ChecksumType::XxHash => {
            let mut hasher = Xxh32::new(0);
            hasher.update(contents);
            hasher.update(&[last_byte]);
            hasher.digest()
        }
        ChecksumType::XxHash64 => {
            let mut hasher = Xxh64::new(0);
            hasher.update(contents);
            hasher.update(&[last_byte]);
            hasher.digest() as u32
        }
        ChecksumType::Xxh3 => {
            (xxh3_64(contents) as u32) ^ u32::from(last_byte).wrapping_mul(XXH3_LAST_BYTE_PRIME)
        }
    }
}

/// Checksum of a whole buffer (the format_version >= 6 footer): its last byte plays the part of
/// the type byte, which only makes a difference for XXH3. An empty buffer has checksum 0.
pub fn buffer_checksum(kind: ChecksumType, data: &[u8]) -> u32 {
    match data.split_last() {
        Some((&last, contents)) => block_checksum(kind, contents, last),
        None => 0,
    }
}

/// The format_version >= 6 context modifier added to a block's checksum at `offset`
/// (RocksDB `ChecksumModifierForContext`); 0 when `base_context_checksum` is 0 (older formats).
pub fn context_modifier(base_context_checksum: u32, offset: u64) -> u32 {
    if base_context_checksum == 0 {
        return 0;
    }
    let folded = (offset as u32).wrapping_add((offset >> 32) as u32);
    base_context_checksum ^ folded
}

#[cfg(test)]
// Tests may index and unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        for code in 0..=4 {
            let kind = ChecksumType::from_code(code).unwrap();
            assert_eq!(kind.code(), code);
        }
        assert_eq!(ChecksumType::from_code(5), None);
        assert_eq!(ChecksumType::Crc32c.to_string(), "kCRC32c");
        assert_eq!(ChecksumType::Xxh3.to_string(), "kXXH3");
        assert_eq!(ChecksumType::XxHash64.to_string(), "kxxHash64");
    }

    #[test]
    fn crc32c_mask_known_values() {
        // CRC32c("123456789") = 0xe3069283 (the standard check value).
        let crc = crc32c::crc32c(b"123456789");
        assert_eq!(crc, 0xe306_9283);
        // ((crc >> 15) | (crc << 17)) + 0xa282ead8 = 0x2507c60d + 0xa282ead8, by hand.
        assert_eq!(mask_crc32c(crc), 0xc78a_b0e5);
        assert_eq!(unmask_crc32c(mask_crc32c(crc)), crc);
        assert_ne!(mask_crc32c(crc), crc);
        assert_ne!(mask_crc32c(mask_crc32c(crc)), crc);
    }

    #[test]
    fn crc32c_block_checksum_covers_type_byte() {
        let expected = mask_crc32c(crc32c::crc32c(b"hello\x01"));
        assert_eq!(block_checksum(ChecksumType::Crc32c, b"hello", 1), expected);
        assert_ne!(block_checksum(ChecksumType::Crc32c, b"hello", 0), expected);
    }

    #[test]
    fn xxhash_variants_stream_the_type_byte() {
        assert_eq!(
            block_checksum(ChecksumType::XxHash, b"hello", 7),
            xxhash_rust::xxh32::xxh32(b"hello\x07", 0)
        );
        assert_eq!(
            block_checksum(ChecksumType::XxHash64, b"hello", 7),
            xxhash_rust::xxh64::xxh64(b"hello\x07", 0) as u32
        );
        // XXH32 of the empty input with seed 0 is the published 0x02cc5d05.
        assert_eq!(xxhash_rust::xxh32::xxh32(b"", 0), 0x02cc_5d05);
    }

    #[test]
    fn xxh3_folds_the_last_byte() {
        let plain = xxh3_64(b"hello") as u32;
        assert_eq!(block_checksum(ChecksumType::Xxh3, b"hello", 0), plain);
        assert_eq!(
            block_checksum(ChecksumType::Xxh3, b"hello", 1),
            plain ^ 0x6b90_83d9
        );
        assert_eq!(
            block_checksum(ChecksumType::Xxh3, b"hello", 2),
            plain ^ 0x6b90_83d9u32.wrapping_mul(2)
        );
        // Not the same as hashing the type byte along with the contents.
        assert_ne!(
            block_checksum(ChecksumType::Xxh3, b"hello", 1),
            xxh3_64(b"hello\x01") as u32
        );
        // XXH3_64 of the empty input is the published 0x2d06800538d394c2.
        assert_eq!(xxh3_64(b""), 0x2d06_8005_38d3_94c2);
        assert_eq!(
            buffer_checksum(ChecksumType::Xxh3, b"hello\x01"),
            plain ^ 0x6b90_83d9
        );
    }

    #[test]
    fn none_is_zero() {
        assert_eq!(block_checksum(ChecksumType::None, b"anything", 3), 0);
        assert_eq!(buffer_checksum(ChecksumType::Crc32c, b""), 0);
    }

    #[test]
    fn context_modifier_rule() {
        assert_eq!(context_modifier(0, 12345), 0);
        assert_eq!(context_modifier(0xdead_beef, 0), 0xdead_beef);
        assert_eq!(context_modifier(0xdead_beef, 0x1000), 0xdead_beef ^ 0x1000);
        // lower32 + upper32, wrapping.
        assert_eq!(context_modifier(1, 0xffff_ffff_0000_0002), 1 ^ 0x0000_0001);
    }
}
