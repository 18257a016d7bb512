//! The metaindex block: names of the meta blocks and where they are (RocksDB
//! `table/meta_blocks.cc`, `table/block_based/block_based_table_builder.cc`).
//!
//! Spec: <https://github.com/facebook/rocksdb/wiki/Rocksdb-BlockBasedTable-Format> ("Meta Block");
//! `docs/formats.md` §11.
//!
//! ```text
//! ordinary block (restart interval 1), entries sorted by name:
//!   key = meta block name, e.g. "rocksdb.properties"   value = BlockHandle (varint64 × 2)
//! ```
//!
//! Names read here: `rocksdb.properties`, `rocksdb.index` (format_version >= 6, where the footer
//! no longer holds the index handle) and `rocksdb.compression_dict`. Filters, range deletions and
//! hash-index prefixes are not needed for a full scan.

use super::block::{BlockBuilder, BlockLayout, EntryCursor};
use super::block_handle::BlockHandle;
use super::{BlockRef, SstError};

/// The properties block.
pub(crate) const PROPERTIES: &[u8] = b"rocksdb.properties";
/// The index block (format_version >= 6).
pub(crate) const INDEX: &[u8] = b"rocksdb.index";
/// The compression dictionary of the data blocks.
pub(crate) const COMPRESSION_DICT: &[u8] = b"rocksdb.compression_dict";

/// The meta blocks a reader needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MetaIndex {
    pub(crate) properties: Option<BlockHandle>,
    pub(crate) index: Option<BlockHandle>,
    pub(crate) compression_dict: Option<BlockHandle>,
}

impl MetaIndex {
    /// Parses a metaindex block, keeping the names this reader uses.
    pub(crate) fn parse(block: &[u8], at: BlockRef) -> Result<Self, SstError> {
        let layout = BlockLayout::parse(block, at)?;
        let mut cursor = EntryCursor::new(&layout);
        let mut name = Vec::new();
        let mut meta = Self::default();
        while let Some(entry) = cursor.next(block, &mut name, true, at)? {
            let slot = match name.as_slice() {
                PROPERTIES => &mut meta.properties,
                INDEX => &mut meta.index,
                COMPRESSION_DICT => &mut meta.compression_dict,
                _ => continue,
            };
            let mut value = block
                .get(entry.value_start..entry.value_end)
                .unwrap_or_default();
            let handle = BlockHandle::decode_from(&mut value).ok_or_else(|| {
                SstError::corrupt(
                    at,
                    format!(
                        "malformed block handle for meta block {}",
                        String::from_utf8_lossy(&name)
                    ),
                )
            })?;
            *slot = Some(handle);
        }
        Ok(meta)
    }
}

/// Builds a metaindex block from `(name, handle)` pairs, which must be sorted by name.
pub(crate) fn build(entries: &[(&[u8], BlockHandle)]) -> Vec<u8> {
    let mut block = BlockBuilder::new(1);
    let mut value = Vec::new();
    for (name, handle) in entries {
        value.clear();
        handle.encode_to(&mut value);
        block.add(name, &value);
    }
    block.finish().to_vec()
}

#[cfg(test)]
// Tests may index and unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::sst::BlockKind;

    const AT: BlockRef = BlockRef {
        kind: BlockKind::Metaindex,
        offset: 10,
        size: 20,
    };

    #[test]
    fn round_trip_keeps_known_names() {
        let block = build(&[
            (
                b"fullfilter.rocksdb.BuiltinBloomFilter",
                BlockHandle::new(1, 2),
            ),
            (COMPRESSION_DICT, BlockHandle::new(3, 4)),
            (INDEX, BlockHandle::new(5, 6)),
            (PROPERTIES, BlockHandle::new(7, 8)),
        ]);
        assert_eq!(
            MetaIndex::parse(&block, AT).unwrap(),
            MetaIndex {
                properties: Some(BlockHandle::new(7, 8)),
                index: Some(BlockHandle::new(5, 6)),
                compression_dict: Some(BlockHandle::new(3, 4)),
            }
        );
        assert_eq!(
            MetaIndex::parse(&build(&[]), AT).unwrap(),
            MetaIndex::default()
        );
    }

    #[test]
    fn malformed_handle_names_the_meta_block() {
        let mut b = BlockBuilder::new(1);
        b.add(PROPERTIES, &[0x80]);
        assert_eq!(
            MetaIndex::parse(b.finish(), AT).unwrap_err().to_string(),
            "metaindex block at offset 10 (size 20): malformed block handle for meta block \
             rocksdb.properties"
        );
    }
}
