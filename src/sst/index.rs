//! Index blocks: one entry per data block (RocksDB `table/block_based/index_builder.{h,cc}`,
//! `block.cc` `IndexBlockIter`, `table/format.cc` `IndexValue`).
//!
//! Spec: <https://github.com/facebook/rocksdb/wiki/Rocksdb-BlockBasedTable-Format> ("Index Block"),
//! <https://github.com/facebook/rocksdb/wiki/Partitioned-Index-Filters>;
//! `docs/formats.md` §11.
//!
//! An index block is an ordinary block (see [`super::block`]) whose keys are separators
//! (`>=` the last key of data block i, `<` the first key of block i+1) and whose values locate the
//! data blocks:
//!
//! ```text
//! key   = internal key, or user key when `rocksdb.index.key.is.user.key` = 1 (format_version >= 3)
//! value = handle                         without delta encoding (entry has value_len)
//!       | handle              (shared == 0, i.e. restart points)   with delta encoding
//!       | zigzag varint64 size delta (shared != 0):              (format_version >= 4, entry has
//!           offset = prev.offset + prev.size + 5,                 no value_len)
//!           size   = prev.size + delta
//!       followed by, for kBinarySearchWithFirstKey only:
//!         first_internal_key: varint32 length + bytes
//! ```
//!
//! Index types: kBinarySearch and kHashSearch share this layout (a full scan ignores the hash
//! meta blocks); kTwoLevelIndexSearch has a top-level index of this layout whose handles point at
//! index partitions, each again of this layout with the same key/value flags.

use super::block::{BlockBuilder, BlockLayout, EntryCursor};
use super::block_handle::{BlockHandle, BLOCK_TRAILER_LEN};
use super::coding::{put_length_prefixed, put_varsigned64, read_length_prefixed, read_varsigned64};
use super::{BlockRef, SstError};

/// How an index block's entries are encoded (from the table properties).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexFormat {
    /// Keys are user keys (no 8-byte internal-key trailer).
    pub key_is_user_key: bool,
    /// Values are delta encoded and entries carry no value length.
    pub value_delta_encoded: bool,
    /// Values end with the data block's first internal key (kBinarySearchWithFirstKey).
    pub has_first_key: bool,
}

/// One index entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexEntry<'a> {
    /// The separator key (user key or internal key, see [`IndexFormat::key_is_user_key`]).
    pub key: &'a [u8],
    /// The block it points at: a data block, or an index partition in a top-level index.
    pub handle: BlockHandle,
    /// The first internal key of that block (kBinarySearchWithFirstKey only).
    pub first_internal_key: Option<&'a [u8]>,
}

/// Walks the entries of one index block in order; owns its key buffer and the previous handle
/// (needed to undo delta encoding), but not the block.
#[derive(Debug, Default)]
pub(crate) struct IndexCursor {
    entries: EntryCursor,
    key: Vec<u8>,
    prev: Option<BlockHandle>,
}

impl IndexCursor {
    /// Starts at the first entry of `block`.
    pub(crate) fn new(block: &[u8], at: BlockRef) -> Result<Self, SstError> {
        let layout = BlockLayout::parse(block, at)?;
        Ok(Self {
            entries: EntryCursor::new(&layout),
            key: Vec::new(),
            prev: None,
        })
    }

    /// Decodes the next entry of `block` (the same block given to [`Self::new`]).
    pub(crate) fn next<'s>(
        &'s mut self,
        block: &'s [u8],
        format: IndexFormat,
        at: BlockRef,
    ) -> Result<Option<IndexEntry<'s>>, SstError> {
        let Some(entry) =
            self.entries
                .next(block, &mut self.key, !format.value_delta_encoded, at)?
        else {
            return Ok(None);
        };
        let bad = |what: &str| {
            SstError::corrupt(
                at,
                format!("index entry at block offset {}: {what}", entry.offset),
            )
        };
        let value = block
            .get(entry.value_start..entry.value_end)
            .ok_or_else(|| bad("value out of range"))?;
        let mut input = value;
        let handle = if format.value_delta_encoded && entry.shared != 0 {
            let delta = read_varsigned64(&mut input).ok_or_else(|| bad("malformed size delta"))?;
            let prev = self
                .prev
                .ok_or_else(|| bad("delta-encoded handle without a previous handle"))?;
            let offset = prev
                .end_with_trailer()
                .ok_or_else(|| bad("handle offset overflows"))?;
            let size = prev.size.checked_add_signed(delta).ok_or_else(|| {
                bad(&format!(
                    "size delta {delta} from {} is out of range",
                    prev.size
                ))
            })?;
            BlockHandle::new(offset, size)
        } else {
            BlockHandle::decode_from(&mut input).ok_or_else(|| bad("malformed block handle"))?
        };
        let first_internal_key = if format.has_first_key {
            Some(read_length_prefixed(&mut input).ok_or_else(|| bad("malformed first key"))?)
        } else {
            None
        };
        if format.value_delta_encoded {
            // The value's length is implicit: continue right after what was parsed.
            self.entries
                .skip_to(entry.value_start + (value.len() - input.len()));
        }
        self.prev = Some(handle);
        Ok(Some(IndexEntry {
            key: &self.key,
            handle,
            first_internal_key,
        }))
    }
}

/// Builds an index block (encoder twin of [`IndexCursor`]).
pub(crate) struct IndexBlockBuilder {
    block: BlockBuilder,
    format: IndexFormat,
    prev: Option<BlockHandle>,
    full: Vec<u8>,
    delta: Vec<u8>,
}

impl IndexBlockBuilder {
    /// A builder writing entries in `format` with a restart point every `restart_interval`.
    pub(crate) fn new(format: IndexFormat, restart_interval: usize) -> Self {
        Self {
            block: BlockBuilder::new(restart_interval),
            format,
            prev: None,
            full: Vec::new(),
            delta: Vec::new(),
        }
    }

    /// Adds the entry for the block at `handle`. With delta encoding, blocks must be contiguous
    /// (each starts right after the previous one's trailer), as they are in a table.
    pub(crate) fn add(
        &mut self,
        key: &[u8],
        handle: BlockHandle,
        first_internal_key: Option<&[u8]>,
    ) {
        self.full.clear();
        handle.encode_to(&mut self.full);
        if let Some(first) = first_internal_key.filter(|_| self.format.has_first_key) {
            put_length_prefixed(&mut self.full, first);
        }
        if self.format.value_delta_encoded {
            self.delta.clear();
            let prev_size = self.prev.map_or(0, |p| p.size);
            debug_assert!(self
                .prev
                .is_none_or(|p| p.offset + p.size + BLOCK_TRAILER_LEN == handle.offset));
            put_varsigned64(&mut self.delta, handle.size as i64 - prev_size as i64);
            if let Some(first) = first_internal_key.filter(|_| self.format.has_first_key) {
                put_length_prefixed(&mut self.delta, first);
            }
            self.block.add_delta_encoded(key, &self.full, &self.delta);
        } else {
            self.block.add(key, &self.full);
        }
        self.prev = Some(handle);
    }

    /// The finished block.
    pub(crate) fn finish(&mut self) -> &[u8] {
        self.block.finish()
    }
}

#[cfg(test)]
// Tests may index and unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::sst::BlockKind;

    const AT: BlockRef = BlockRef {
        kind: BlockKind::Index,
        offset: 777,
        size: 99,
    };

    type Owned = (Vec<u8>, BlockHandle, Option<Vec<u8>>);

    fn decode(block: &[u8], format: IndexFormat) -> Result<Vec<Owned>, SstError> {
        let mut cursor = IndexCursor::new(block, AT)?;
        let mut out = Vec::new();
        while let Some(e) = cursor.next(block, format, AT)? {
            out.push((
                e.key.to_vec(),
                e.handle,
                e.first_internal_key.map(<[u8]>::to_vec),
            ));
        }
        Ok(out)
    }

    /// Contiguous handles with varying sizes (so deltas are positive and negative).
    fn entries(n: u64, first_key: bool) -> Vec<Owned> {
        let mut offset = 0;
        (0..n)
            .map(|i| {
                let size = 4000 + (i * 7919) % 300;
                let h = BlockHandle::new(offset, size);
                offset += size + 5;
                (
                    format!("sep{i:05}").into_bytes(),
                    h,
                    first_key.then(|| format!("first{i:05}\x01\0\0\0\0\0\0\0").into_bytes()),
                )
            })
            .collect()
    }

    #[test]
    fn delta_encoded_index_golden_bytes() {
        // Restart interval 2: entry 0 full, entry 1 delta (shares "sep"), entry 2 full (restart).
        // handles (0, 100), (105, 90), (200, 300)
        let block: Vec<u8> = [
            &[0, 4][..],
            b"sepa",
            &[0x00, 0x64], // offset 0, size 100
            &[3, 1],
            b"b",
            &[0x13], // zigzag(-10) = 19
            &[0, 4],
            b"sepc",
            &[0xc8, 0x01, 0xac, 0x02],  // offset 200, size 300
            &[0, 0, 0, 0, 12, 0, 0, 0], // restarts 0 and 12
            &[2, 0, 0, 0],
        ]
        .concat();
        let format = IndexFormat {
            key_is_user_key: true,
            value_delta_encoded: true,
            has_first_key: false,
        };
        assert_eq!(
            decode(&block, format).unwrap(),
            vec![
                (b"sepa".to_vec(), BlockHandle::new(0, 100), None),
                (b"sepb".to_vec(), BlockHandle::new(105, 90), None),
                (b"sepc".to_vec(), BlockHandle::new(200, 300), None),
            ]
        );
        // The builder produces exactly these bytes.
        let mut b = IndexBlockBuilder::new(format, 2);
        b.add(b"sepa", BlockHandle::new(0, 100), None);
        b.add(b"sepb", BlockHandle::new(105, 90), None);
        b.add(b"sepc", BlockHandle::new(200, 300), None);
        assert_eq!(b.finish(), &block[..]);
    }

    #[test]
    fn round_trip_every_format() {
        for delta in [false, true] {
            for first in [false, true] {
                for interval in [1, 3, 16] {
                    let format = IndexFormat {
                        key_is_user_key: true,
                        value_delta_encoded: delta,
                        has_first_key: first,
                    };
                    let expected = entries(50, first);
                    let mut b = IndexBlockBuilder::new(format, interval);
                    for (k, h, f) in &expected {
                        b.add(k, *h, f.as_deref());
                    }
                    let block = b.finish().to_vec();
                    assert_eq!(
                        decode(&block, format).unwrap(),
                        expected,
                        "{format:?} {interval}"
                    );
                }
            }
        }
    }

    #[test]
    fn delta_size_out_of_range_is_corrupt() {
        let block: Vec<u8> = [&[0, 1][..], b"a", &[0, 10], &[1, 1], b"b", &[0x02]].concat();
        let mut block = block;
        block.extend_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0]);
        let format = IndexFormat {
            value_delta_encoded: true,
            ..IndexFormat::default()
        };
        assert_eq!(decode(&block, format).unwrap().len(), 2);
        // Negative size from the delta.
        let bad: Vec<u8> = [
            &[0, 1][..],
            b"a",
            &[0, 1],
            &[1, 1],
            b"b",
            &[0x05],
            &[0, 0, 0, 0, 1, 0, 0, 0],
        ]
        .concat();
        assert_eq!(
            decode(&bad, format).unwrap_err().to_string(),
            "index block at offset 777 (size 99): index entry at block offset 5: size delta -3 \
             from 1 is out of range"
        );
    }

    #[test]
    fn truncations_never_panic() {
        for delta in [false, true] {
            let format = IndexFormat {
                key_is_user_key: false,
                value_delta_encoded: delta,
                has_first_key: true,
            };
            let mut b = IndexBlockBuilder::new(format, 4);
            for (k, h, f) in entries(20, true) {
                b.add(&k, h, f.as_deref());
            }
            let block = b.finish().to_vec();
            for cut in 0..block.len() {
                let _ = decode(&block[..cut], format);
                let mut flipped = block.clone();
                flipped[cut] ^= 0x5a;
                let _ = decode(&flipped, format);
            }
        }
    }
}
