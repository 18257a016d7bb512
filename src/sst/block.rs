//! The block format shared by data, index, metaindex and properties blocks (RocksDB
//! `table/block_based/block_builder.cc`, `block.cc`, `data_block_footer.cc`,
//! `data_block_hash_index.h`).
//!
//! Spec: <https://github.com/facebook/rocksdb/wiki/Rocksdb-BlockBasedTable-Format> and
//! <https://github.com/facebook/rocksdb/wiki/Data-Block-Hash-Index>; `docs/formats.md` §11.
//!
//! ```text
//! +---------+-----+---------+----------------------------+---------------------------+--------------+
//! | entry 0 | ... | entry n | restarts: u32 LE × R       | [hash index: u8 × B,      | footer       |
//! |         |     |         | (byte offsets of restarts) |  B: u16 LE] (bit 31 only) | u32 LE       |
//! +---------+-----+---------+----------------------------+---------------------------+--------------+
//! entry = shared: varint32 | non_shared: varint32 | [value_len: varint32] | key_delta | value
//! footer = bit 31: data-block hash index present; bits 28/29: RocksDB >= 10 layouts (rejected);
//!          low bits: R (number of restarts)
//! ```
//!
//! Keys are prefix-compressed: an entry keeps the first `shared` bytes of the previous key and
//! appends `key_delta`; restart entries have `shared == 0`. `value_len` is absent only in index
//! blocks with delta-encoded values (the index module parses those values itself).
//!
//! A full scan needs no restart array: entries are decoded in order from offset 0 up to the
//! restart array, into one reusable key buffer, and values are returned as ranges of the block,
//! never copied.

use super::coding::{put_varint32, read_bytes, read_varint32};
use super::{BlockRef, SstError};

/// Footer bit: the data block carries a hash index after its restart array.
const HASH_INDEX_FLAG: u32 = 1 << 31;
/// Footer bits of newer RocksDB data-block layouts (28: separated key/value sections,
/// 29: uniform keys) that this reader does not implement.
const UNSUPPORTED_FLAGS: u32 = (1 << 28) | (1 << 29);
/// Footer bits holding the restart count once the flags above are excluded.
const NUM_RESTARTS_MASK: u32 = !HASH_INDEX_FLAG;

/// Where the parts of a block are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockLayout {
    /// End of the entries (= start of the restart array).
    pub entries_end: usize,
    /// Number of restart points.
    pub num_restarts: u32,
    /// Whether a data-block hash index follows the restart array.
    pub has_hash_index: bool,
}

impl BlockLayout {
    /// Reads the footer word (and the hash index's bucket count, if any) at the end of `block`
    /// and locates the restart array.
    pub fn parse(block: &[u8], at: BlockRef) -> Result<Self, SstError> {
        let len = block.len();
        let footer_start = len.checked_sub(4).ok_or_else(|| {
            SstError::corrupt(
                at,
                format!("block is {len} bytes, too short for its 4-byte footer"),
            )
        })?;
        let word = block
            .get(footer_start..)
            .and_then(super::coding::fixed32)
            .unwrap_or(0);
        if word & UNSUPPORTED_FLAGS != 0 {
            return Err(SstError::Unsupported {
                block: at,
                detail: format!(
                    "block footer 0x{word:08x} uses a RocksDB >= 10 data block layout \
                     (separated key/value or uniform-key flag)"
                ),
            });
        }
        let has_hash_index = word & HASH_INDEX_FLAG != 0;
        let num_restarts = word & NUM_RESTARTS_MASK;
        let mut restarts_end = footer_start;
        if has_hash_index {
            // [restarts][buckets: u8 × B][B: u16 LE][footer]
            let num_buckets = restarts_end
                .checked_sub(2)
                .and_then(|start| block.get(start..restarts_end))
                .and_then(|b| <[u8; 2]>::try_from(b).ok())
                .map(|b| usize::from(u16::from_le_bytes(b)))
                .ok_or_else(|| {
                    SstError::corrupt(
                        at,
                        format!("block is {len} bytes, too short for a hash index"),
                    )
                })?;
            restarts_end = restarts_end.checked_sub(2 + num_buckets).ok_or_else(|| {
                SstError::corrupt(
                    at,
                    format!(
                        "hash index of {num_buckets} buckets does not fit in a {len}-byte block"
                    ),
                )
            })?;
        }
        if num_restarts == 0 {
            return Err(SstError::corrupt(at, "block has no restart points"));
        }
        let entries_end = usize::try_from(num_restarts)
            .ok()
            .and_then(|n| n.checked_mul(4))
            .and_then(|bytes| restarts_end.checked_sub(bytes))
            .ok_or_else(|| {
                SstError::corrupt(
                    at,
                    format!(
                        "restart array of {num_restarts} entries does not fit in a {len}-byte block"
                    ),
                )
            })?;
        Ok(Self {
            entries_end,
            num_restarts,
            has_hash_index,
        })
    }
}

/// One decoded entry: the key is in the caller's key buffer, the value is a range of the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawEntry {
    /// Offset of the entry in the block (for error messages).
    pub offset: usize,
    /// Key bytes shared with the previous key (0 at restart points).
    pub shared: usize,
    /// Start of the value.
    pub value_start: usize,
    /// End of the value; for entries without `value_len` this is the end of the entries, and the
    /// caller moves the cursor past the value with [`EntryCursor::skip_to`].
    pub value_end: usize,
}

/// Position in a block's entries. Holds no borrow of the block, so an iterator can own both the
/// block buffer and its cursor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct EntryCursor {
    pos: usize,
    end: usize,
}

impl EntryCursor {
    /// A cursor at the first entry of a block with `layout`.
    pub(crate) fn new(layout: &BlockLayout) -> Self {
        Self {
            pos: 0,
            end: layout.entries_end,
        }
    }

    /// Decodes the next entry, rebuilding its key in `key` (which must hold the previous key).
    /// `has_value_len` is false only for delta-encoded index blocks. `Ok(None)` after the last entry.
    pub(crate) fn next(
        &mut self,
        block: &[u8],
        key: &mut Vec<u8>,
        has_value_len: bool,
        at: BlockRef,
    ) -> Result<Option<RawEntry>, SstError> {
        if self.pos >= self.end {
            return Ok(None);
        }
        let offset = self.pos;
        let truncated = || {
            SstError::corrupt(
                at,
                format!("entry at block offset {offset}: truncated entry header"),
            )
        };
        let mut input = block.get(offset..self.end).ok_or_else(truncated)?;
        let (shared, non_shared, value_len) = match input {
            // Fast path: all three lengths below 128, one byte each (the common case).
            [s, n, v, rest @ ..] if has_value_len && (s | n | v) < 0x80 => {
                input = rest;
                (usize::from(*s), usize::from(*n), Some(usize::from(*v)))
            }
            _ => {
                let shared = read_varint32(&mut input).ok_or_else(truncated)?;
                let non_shared = read_varint32(&mut input).ok_or_else(truncated)?;
                let value_len = if has_value_len {
                    Some(read_varint32(&mut input).ok_or_else(truncated)? as usize)
                } else {
                    None
                };
                (shared as usize, non_shared as usize, value_len)
            }
        };
        if shared > key.len() {
            return Err(SstError::corrupt(
                at,
                format!(
                    "entry at block offset {offset}: shares {shared} key bytes, but the previous \
                     key has {}",
                    key.len()
                ),
            ));
        }
        let delta = read_bytes(&mut input, non_shared).ok_or_else(|| {
            SstError::corrupt(
                at,
                format!(
                    "entry at block offset {offset}: {non_shared}-byte key runs past the end of \
                     the entries ({})",
                    self.end
                ),
            )
        })?;
        key.truncate(shared);
        key.extend_from_slice(delta);
        let value_start = self.end - input.len();
        let value_end = match value_len {
            Some(len) => {
                let end = value_start
                    .checked_add(len)
                    .filter(|&end| end <= self.end)
                    .ok_or_else(|| {
                        SstError::corrupt(
                            at,
                            format!(
                                "entry at block offset {offset}: {len}-byte value runs past the \
                                 end of the entries ({})",
                                self.end
                            ),
                        )
                    })?;
                self.pos = end;
                end
            }
            None => {
                self.pos = value_start;
                self.end
            }
        };
        Ok(Some(RawEntry {
            offset,
            shared,
            value_start,
            value_end,
        }))
    }

    /// Moves past a value whose length the caller determined (delta-encoded index values).
    pub(crate) fn skip_to(&mut self, pos: usize) {
        self.pos = pos.min(self.end);
    }
}

/// Builds a block (the encoder twin of [`BlockLayout`] + [`EntryCursor`]).
#[derive(Debug)]
pub(crate) struct BlockBuilder {
    buf: Vec<u8>,
    restarts: Vec<u32>,
    /// Entries since the last restart.
    counter: usize,
    restart_interval: usize,
    last_key: Vec<u8>,
    entries: usize,
}

impl BlockBuilder {
    /// A builder that starts a restart point every `restart_interval` entries (at least 1).
    pub(crate) fn new(restart_interval: usize) -> Self {
        Self {
            buf: Vec::new(),
            restarts: vec![0],
            counter: 0,
            restart_interval: restart_interval.max(1),
            last_key: Vec::new(),
            entries: 0,
        }
    }

    /// Adds an entry with an explicit value length. Keys must be added in order.
    pub(crate) fn add(&mut self, key: &[u8], value: &[u8]) {
        let shared = self.start_entry(key);
        put_varint32(&mut self.buf, shared as u32);
        put_varint32(&mut self.buf, (key.len() - shared) as u32);
        put_varint32(&mut self.buf, value.len() as u32);
        self.finish_entry(key, shared, value);
    }

    /// Adds an index entry without a value length (delta-encoded index values): `delta_value` is
    /// written when the key shares a prefix with the previous one, `full_value` otherwise (the
    /// reader tells them apart by `shared != 0`, RocksDB `BlockBuilder::AddWithLastKey`).
    pub(crate) fn add_delta_encoded(&mut self, key: &[u8], full_value: &[u8], delta_value: &[u8]) {
        let shared = self.start_entry(key);
        put_varint32(&mut self.buf, shared as u32);
        put_varint32(&mut self.buf, (key.len() - shared) as u32);
        let value = if shared == 0 { full_value } else { delta_value };
        self.finish_entry(key, shared, value);
    }

    /// Begins an entry: opens a restart point if due and returns the shared prefix length.
    fn start_entry(&mut self, key: &[u8]) -> usize {
        if self.counter >= self.restart_interval {
            self.restarts.push(self.buf.len() as u32);
            self.counter = 0;
            return 0;
        }
        if self.entries == 0 {
            return 0;
        }
        key.iter()
            .zip(&self.last_key)
            .take_while(|(a, b)| a == b)
            .count()
    }

    fn finish_entry(&mut self, key: &[u8], shared: usize, value: &[u8]) {
        self.buf
            .extend_from_slice(key.get(shared..).unwrap_or_default());
        self.buf.extend_from_slice(value);
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.counter += 1;
        self.entries += 1;
    }

    /// Size of the block if finished now.
    pub(crate) fn estimated_size(&self) -> usize {
        self.buf.len() + 4 * self.restarts.len() + 4
    }

    /// Whether no entry was added since the last reset.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// The last key added.
    pub(crate) fn last_key(&self) -> &[u8] {
        &self.last_key
    }

    /// Appends the restart array and footer and returns the finished block; call
    /// [`Self::reset`] before adding again.
    pub(crate) fn finish(&mut self) -> &[u8] {
        for restart in &self.restarts {
            self.buf.extend_from_slice(&restart.to_le_bytes());
        }
        self.buf
            .extend_from_slice(&(self.restarts.len() as u32).to_le_bytes());
        &self.buf
    }

    /// Empties the builder, keeping its allocations.
    pub(crate) fn reset(&mut self) {
        self.buf.clear();
        self.restarts.clear();
        self.restarts.push(0);
        self.counter = 0;
        self.last_key.clear();
        self.entries = 0;
    }
}

#[cfg(test)]
// Tests may index and unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::sst::{BlockKind, BlockRef};

    const AT: BlockRef = BlockRef {
        kind: BlockKind::Data,
        offset: 4096,
        size: 3012,
    };

    type Kv = (Vec<u8>, Vec<u8>);

    /// Decodes every (key, value) of a block with value lengths.
    fn decode_all(block: &[u8]) -> Result<Vec<Kv>, SstError> {
        let layout = BlockLayout::parse(block, AT)?;
        let mut cursor = EntryCursor::new(&layout);
        let mut key = Vec::new();
        let mut out = Vec::new();
        while let Some(e) = cursor.next(block, &mut key, true, AT)? {
            out.push((key.clone(), block[e.value_start..e.value_end].to_vec()));
        }
        Ok(out)
    }

    #[test]
    fn hand_built_block() {
        // Two entries, restart interval 16: "apple"->"1", "apricot"->"22".
        let block: Vec<u8> = [
            &[0, 5, 1][..],
            b"apple",
            b"1",
            &[2, 5, 2],
            b"ricot",
            b"22",
            &[0, 0, 0, 0], // restart 0
            &[1, 0, 0, 0], // one restart
        ]
        .concat();
        assert_eq!(
            decode_all(&block).unwrap(),
            vec![
                (b"apple".to_vec(), b"1".to_vec()),
                (b"apricot".to_vec(), b"22".to_vec())
            ]
        );
        let layout = BlockLayout::parse(&block, AT).unwrap();
        assert_eq!(layout.entries_end, 19);
        assert_eq!(layout.num_restarts, 1);
        assert!(!layout.has_hash_index);
    }

    #[test]
    fn builder_matches_hand_built_block() {
        let mut b = BlockBuilder::new(16);
        b.add(b"apple", b"1");
        b.add(b"apricot", b"22");
        let expected: Vec<u8> = [
            &[0, 5, 1][..],
            b"apple",
            b"1",
            &[2, 5, 2],
            b"ricot",
            b"22",
            &[0, 0, 0, 0, 1, 0, 0, 0],
        ]
        .concat();
        assert_eq!(b.estimated_size(), expected.len());
        assert_eq!(b.finish(), &expected[..]);
    }

    #[test]
    fn builder_round_trip_with_restarts_and_long_lengths() {
        let entries: Vec<(Vec<u8>, Vec<u8>)> = (0..100u32)
            .map(|i| {
                (
                    format!("key{:04}", i * 7).into_bytes(),
                    vec![i as u8; (i as usize * 37) % 300],
                )
            })
            .collect();
        let mut b = BlockBuilder::new(4);
        for (k, v) in &entries {
            b.add(k, v);
        }
        let block = b.finish().to_vec();
        let layout = BlockLayout::parse(&block, AT).unwrap();
        assert_eq!(layout.num_restarts, 25);
        assert_eq!(decode_all(&block).unwrap(), entries);
        b.reset();
        assert!(b.is_empty());
        b.add(b"z", b"");
        assert_eq!(
            decode_all(b.finish()).unwrap(),
            vec![(b"z".to_vec(), vec![])]
        );
    }

    #[test]
    fn hash_index_footer_is_skipped() {
        // One entry, one restart, then 3 buckets + u16 count, footer with bit 31 set.
        let block: Vec<u8> = [
            &[0, 1, 1][..],
            b"k",
            b"v",
            &[0, 0, 0, 0],
            &[0, 255, 255],
            &[3, 0],
            &(1u32 | 1 << 31).to_le_bytes(),
        ]
        .concat();
        let layout = BlockLayout::parse(&block, AT).unwrap();
        assert!(layout.has_hash_index);
        assert_eq!(layout.entries_end, 5);
        assert_eq!(
            decode_all(&block).unwrap(),
            vec![(b"k".to_vec(), b"v".to_vec())]
        );
    }

    #[test]
    fn footer_flags_and_sizes_are_checked() {
        let err = BlockLayout::parse(&[0, 0, 0], AT).unwrap_err();
        assert_eq!(
            err.to_string(),
            "data block at offset 4096 (size 3012): block is 3 bytes, too short for its 4-byte footer"
        );
        let err = BlockLayout::parse(&(1u32 | 1 << 28).to_le_bytes(), AT).unwrap_err();
        assert!(matches!(err, SstError::Unsupported { .. }), "{err}");
        assert_eq!(
            BlockLayout::parse(&[0, 0, 0, 0, 2, 0, 0, 0], AT)
                .unwrap_err()
                .to_string(),
            "data block at offset 4096 (size 3012): restart array of 2 entries does not fit in \
             a 8-byte block"
        );
        assert_eq!(
            BlockLayout::parse(&[0, 0, 0, 0], AT)
                .unwrap_err()
                .to_string(),
            "data block at offset 4096 (size 3012): block has no restart points"
        );
        let mut hashed = vec![9, 0];
        hashed.extend_from_slice(&(1u32 | 1 << 31).to_le_bytes());
        assert_eq!(
            BlockLayout::parse(&hashed, AT).unwrap_err().to_string(),
            "data block at offset 4096 (size 3012): hash index of 9 buckets does not fit in a \
             6-byte block"
        );
    }

    #[test]
    fn corrupt_entries_are_errors() {
        // shared = 3 on the first entry.
        let block: Vec<u8> = [&[3, 1, 0][..], b"k", &[0, 0, 0, 0, 1, 0, 0, 0]].concat();
        assert_eq!(
            decode_all(&block).unwrap_err().to_string(),
            "data block at offset 4096 (size 3012): entry at block offset 0: shares 3 key bytes, \
             but the previous key has 0"
        );
        // value_len past the entries.
        let block: Vec<u8> = [&[0, 1, 9][..], b"k", &[0, 0, 0, 0, 1, 0, 0, 0]].concat();
        assert_eq!(
            decode_all(&block).unwrap_err().to_string(),
            "data block at offset 4096 (size 3012): entry at block offset 0: 9-byte value runs \
             past the end of the entries (4)"
        );
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let mut b = BlockBuilder::new(2);
        for i in 0..20u32 {
            b.add(
                format!("key-{i:03}").as_bytes(),
                &vec![b'v'; i as usize * 11],
            );
        }
        let block = b.finish().to_vec();
        let full = decode_all(&block).unwrap();
        assert_eq!(full.len(), 20);
        for cut in 0..block.len() {
            // Either an error, or (for cuts that happen to parse) never the full content.
            if let Ok(entries) = decode_all(&block[..cut]) {
                assert_ne!(entries, full, "cut at {cut}");
            }
        }
        // Cutting entry bytes while keeping a valid footer must fail outright.
        let entries_end = BlockLayout::parse(&block, AT).unwrap().entries_end;
        for cut in 1..entries_end {
            let mut shortened = block[..cut].to_vec();
            shortened.extend_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0]);
            let result = decode_all(&shortened);
            if let Ok(entries) = &result {
                // Only a cut exactly at an entry boundary can decode, to a strict prefix.
                assert!(
                    entries.len() < full.len() && full.starts_with(entries),
                    "cut at {cut}"
                );
            }
        }
    }
}
