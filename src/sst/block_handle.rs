//! Block handles: where a block sits in the file.
//!
//! Spec: <https://github.com/facebook/rocksdb/wiki/Rocksdb-BlockBasedTable-Format> ("BlockHandle"),
//! RocksDB `table/format.h`.
//!
//! ```text
//! +----------------+--------------+
//! | offset varint64 | size varint64 |    2..=20 bytes
//! +----------------+--------------+
//! ```
//!
//! `size` excludes the 5-byte block trailer (compression type + checksum) that follows every block,
//! so the next block starts at `offset + size + 5`.

use super::coding::{put_varint64, read_varint64};

/// Bytes after every block: `compression_type: u8` then `checksum: u32 LE`.
pub const BLOCK_TRAILER_LEN: u64 = 5;

/// The location of one block: byte offset in the file and length without the trailer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BlockHandle {
    /// Offset of the block's first byte in the file.
    pub offset: u64,
    /// Length of the block contents, not counting the 5-byte trailer.
    pub size: u64,
}

impl BlockHandle {
    /// The longest encoding: two 10-byte varint64s.
    pub const MAX_ENCODED_LEN: usize = 20;

    /// A handle at `offset` of `size` bytes.
    pub const fn new(offset: u64, size: u64) -> Self {
        Self { offset, size }
    }

    /// Decodes a handle from the front of `input` and advances past it; `None` if it is
    /// truncated or a varint is malformed.
    pub fn decode_from(input: &mut &[u8]) -> Option<Self> {
        let mut probe = *input;
        let offset = read_varint64(&mut probe)?;
        let size = read_varint64(&mut probe)?;
        *input = probe;
        Some(Self { offset, size })
    }

    /// Appends the encoded handle to `out`.
    pub fn encode_to(&self, out: &mut Vec<u8>) {
        put_varint64(out, self.offset);
        put_varint64(out, self.size);
    }

    /// First byte after the block's trailer, i.e. where the next block would start;
    /// `None` on overflow (only possible for corrupt handles).
    pub fn end_with_trailer(&self) -> Option<u64> {
        self.offset
            .checked_add(self.size)?
            .checked_add(BLOCK_TRAILER_LEN)
    }
}

#[cfg(test)]
// Tests may index and unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for handle in [
            BlockHandle::new(0, 0),
            BlockHandle::new(4096, 3012),
            BlockHandle::new(u64::MAX, u64::MAX),
        ] {
            let mut buf = Vec::new();
            handle.encode_to(&mut buf);
            assert!(buf.len() <= BlockHandle::MAX_ENCODED_LEN);
            buf.push(0xAA);
            let mut input = &buf[..];
            assert_eq!(BlockHandle::decode_from(&mut input), Some(handle));
            assert_eq!(input, [0xAA]);
        }
    }

    #[test]
    fn golden_bytes() {
        let mut buf = Vec::new();
        BlockHandle::new(4096, 3012).encode_to(&mut buf);
        assert_eq!(buf, [0x80, 0x20, 0xc4, 0x17]);
    }

    #[test]
    fn truncated_handle_is_none_and_leaves_input() {
        let bytes = [0x80, 0x20, 0xc4];
        for end in 0..bytes.len() {
            let mut input = &bytes[..end];
            assert_eq!(BlockHandle::decode_from(&mut input), None);
            assert_eq!(input.len(), end);
        }
    }

    #[test]
    fn end_with_trailer() {
        assert_eq!(BlockHandle::new(10, 20).end_with_trailer(), Some(35));
        assert_eq!(BlockHandle::new(u64::MAX - 3, 0).end_with_trailer(), None);
    }
}
