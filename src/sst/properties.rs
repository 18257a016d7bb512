//! The properties block (RocksDB `table/meta_blocks.cc` `PropertyBlockBuilder`,
//! `table/table_properties.cc`, `include/rocksdb/table_properties.h`).
//!
//! Spec: <https://github.com/facebook/rocksdb/wiki/Rocksdb-BlockBasedTable-Format>
//! ("Properties Meta Block"); `docs/formats.md` §11.
//!
//! ```text
//! ordinary block (one restart point), entries sorted by name:
//!   "rocksdb.num.entries"                      -> varint64
//!   "rocksdb.column.family.name"               -> raw bytes
//!   "rocksdb.block.based.table.index.type"     -> fixed32 LE   (user-collected)
//!   "rocksdb.external_sst_file.global_seqno"   -> fixed64 LE   (user-collected)
//!   "tikv.*", ...                              -> raw, ignored here
//! ```
//!
//! [`TableProperties`] keeps only the properties this crate uses; unknown names are skipped.

use std::collections::BTreeMap;
use std::fmt;

use super::block::{BlockBuilder, BlockLayout, EntryCursor};
use super::coding::{fixed32, fixed64, put_varint64, read_varint64};
use super::index::IndexFormat;
use super::{BlockRef, SstError};

/// Property names (RocksDB `TablePropertiesNames`, `BlockBasedTablePropertyNames`,
/// `ExternalSstFilePropertyNames`).
pub mod names {
    /// varint64: bytes of data blocks, trailers included.
    pub const DATA_SIZE: &str = "rocksdb.data.size";
    /// varint64: bytes of the index (all partitions and top level).
    pub const INDEX_SIZE: &str = "rocksdb.index.size";
    /// varint64: number of index partitions (two-level index).
    pub const INDEX_PARTITIONS: &str = "rocksdb.index.partitions";
    /// varint64: size of the top-level index (two-level index).
    pub const TOP_LEVEL_INDEX_SIZE: &str = "rocksdb.top-level.index.size";
    /// varint64 0/1: index keys are user keys.
    pub const INDEX_KEY_IS_USER_KEY: &str = "rocksdb.index.key.is.user.key";
    /// varint64 0/1: index values are delta encoded.
    pub const INDEX_VALUE_IS_DELTA_ENCODED: &str = "rocksdb.index.value.is.delta.encoded";
    /// varint64: filter block size.
    pub const FILTER_SIZE: &str = "rocksdb.filter.size";
    /// varint64: sum of internal key lengths.
    pub const RAW_KEY_SIZE: &str = "rocksdb.raw.key.size";
    /// varint64: sum of value lengths.
    pub const RAW_VALUE_SIZE: &str = "rocksdb.raw.value.size";
    /// varint64: number of data blocks.
    pub const NUM_DATA_BLOCKS: &str = "rocksdb.num.data.blocks";
    /// varint64: number of point entries.
    pub const NUM_ENTRIES: &str = "rocksdb.num.entries";
    /// varint64: deletions and single deletions.
    pub const DELETED_KEYS: &str = "rocksdb.deleted.keys";
    /// varint64: merge operands.
    pub const MERGE_OPERANDS: &str = "rocksdb.merge.operands";
    /// varint64: range deletions (in the range-del block).
    pub const NUM_RANGE_DELETIONS: &str = "rocksdb.num.range-deletions";
    /// varint64: `TableProperties::format_version` (0 for block-based tables).
    pub const FORMAT_VERSION: &str = "rocksdb.format.version";
    /// varint64: fixed key length (plain tables; 0 here).
    pub const FIXED_KEY_LENGTH: &str = "rocksdb.fixed.key.length";
    /// varint64: column family id.
    pub const COLUMN_FAMILY_ID: &str = "rocksdb.column.family.id";
    /// string: column family name.
    pub const COLUMN_FAMILY_NAME: &str = "rocksdb.column.family.name";
    /// string: comparator name.
    pub const COMPARATOR: &str = "rocksdb.comparator";
    /// string: compression name (e.g. "LZ4").
    pub const COMPRESSION: &str = "rocksdb.compression";
    /// string: filter policy name.
    pub const FILTER_POLICY: &str = "rocksdb.filter.policy";
    /// varint64: creation time (seconds since the epoch, 0 if unknown).
    pub const CREATION_TIME: &str = "rocksdb.creation.time";
    /// fixed32: index type.
    pub const INDEX_TYPE: &str = "rocksdb.block.based.table.index.type";
    /// fixed32: external SST file version (2 for SstFileWriter files).
    pub const EXTERNAL_SST_FILE_VERSION: &str = "rocksdb.external_sst_file.version";
    /// fixed64: global sequence number of an external SST file.
    pub const GLOBAL_SEQNO: &str = "rocksdb.external_sst_file.global_seqno";
}

/// The table's index type (`BlockBasedTableOptions::IndexType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum IndexType {
    /// `kBinarySearch` (0): one index block.
    #[default]
    BinarySearch,
    /// `kHashSearch` (1): an index block plus prefix meta blocks (read as binary search).
    HashSearch,
    /// `kTwoLevelIndexSearch` (2): a top-level index over index partitions.
    TwoLevelIndexSearch,
    /// `kBinarySearchWithFirstKey` (3): index values also hold each block's first key.
    BinarySearchWithFirstKey,
}

impl IndexType {
    /// Parses the property value; `None` for unknown types.
    pub fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            0 => Self::BinarySearch,
            1 => Self::HashSearch,
            2 => Self::TwoLevelIndexSearch,
            3 => Self::BinarySearchWithFirstKey,
            _ => return None,
        })
    }

    /// The property value.
    pub fn code(self) -> u32 {
        match self {
            Self::BinarySearch => 0,
            Self::HashSearch => 1,
            Self::TwoLevelIndexSearch => 2,
            Self::BinarySearchWithFirstKey => 3,
        }
    }

    /// RocksDB's enumerator name.
    pub fn name(self) -> &'static str {
        match self {
            Self::BinarySearch => "kBinarySearch",
            Self::HashSearch => "kHashSearch",
            Self::TwoLevelIndexSearch => "kTwoLevelIndexSearch",
            Self::BinarySearchWithFirstKey => "kBinarySearchWithFirstKey",
        }
    }
}

impl fmt::Display for IndexType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The table properties this crate uses. Missing numeric properties read as 0, missing strings as
/// empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableProperties {
    /// `rocksdb.num.entries`: point entries (puts, deletes, merges).
    pub num_entries: u64,
    /// `rocksdb.num.data.blocks`.
    pub num_data_blocks: u64,
    /// `rocksdb.data.size`: bytes of all data blocks with trailers.
    pub data_size: u64,
    /// `rocksdb.index.size`.
    pub index_size: u64,
    /// `rocksdb.index.partitions` (two-level index only).
    pub index_partitions: u64,
    /// `rocksdb.top-level.index.size` (two-level index only).
    pub top_level_index_size: u64,
    /// `rocksdb.index.key.is.user.key`.
    pub index_key_is_user_key: bool,
    /// `rocksdb.index.value.is.delta.encoded`.
    pub index_value_is_delta_encoded: bool,
    /// `rocksdb.block.based.table.index.type`.
    pub index_type: IndexType,
    /// `rocksdb.raw.key.size`: sum of internal key lengths.
    pub raw_key_size: u64,
    /// `rocksdb.raw.value.size`.
    pub raw_value_size: u64,
    /// `rocksdb.deleted.keys`: deletions and single deletions.
    pub num_deletions: u64,
    /// `rocksdb.merge.operands`.
    pub num_merge_operands: u64,
    /// `rocksdb.num.range-deletions`.
    pub num_range_deletions: u64,
    /// `rocksdb.format.version`: RocksDB leaves this 0 for block-based tables; the table's real
    /// format version is the footer's, see [`super::SstReader::format_version`].
    pub format_version: u64,
    /// `rocksdb.column.family.id`, if present.
    pub column_family_id: Option<u64>,
    /// `rocksdb.column.family.name` (`default`, `write`, `lock` for TiKV).
    pub column_family_name: String,
    /// `rocksdb.comparator`.
    pub comparator_name: String,
    /// `rocksdb.compression`: the compression configured for the file (e.g. `LZ4`); each block's
    /// trailer has the one actually used.
    pub compression_name: String,
    /// `rocksdb.filter.policy`.
    pub filter_policy_name: String,
    /// `rocksdb.creation.time`.
    pub creation_time: u64,
    /// `rocksdb.external_sst_file.version`, for files from SstFileWriter.
    pub external_sst_file_version: Option<u32>,
    /// The sequence number every entry takes, instead of its own: RocksDB's rule is that it
    /// applies (even when 0) to external files of version >= 2, whose
    /// `rocksdb.external_sst_file.global_seqno` it is (0 if missing).
    pub global_seqno: Option<u64>,
}

impl TableProperties {
    /// How the index blocks are encoded.
    pub fn index_format(&self) -> IndexFormat {
        IndexFormat {
            key_is_user_key: self.index_key_is_user_key,
            value_delta_encoded: self.index_value_is_delta_encoded,
            has_first_key: self.index_type == IndexType::BinarySearchWithFirstKey,
        }
    }

    /// Parses a properties block.
    pub fn parse(block: &[u8], at: BlockRef) -> Result<Self, SstError> {
        Self::parse_locating_global_seqno(block, at).map(|(props, _)| props)
    }

    /// Parses a properties block, also returning where in the block the 8-byte global seqno
    /// value is (to re-verify a checksum after ingestion rewrote it).
    pub(crate) fn parse_locating_global_seqno(
        block: &[u8],
        at: BlockRef,
    ) -> Result<(Self, Option<usize>), SstError> {
        let layout = BlockLayout::parse(block, at)?;
        let mut cursor = EntryCursor::new(&layout);
        let mut name = Vec::new();
        let mut props = Self::default();
        let mut global_seqno_value = None;
        let mut global_seqno_at = None;
        while let Some(entry) = cursor.next(block, &mut name, true, at)? {
            let value = block
                .get(entry.value_start..entry.value_end)
                .unwrap_or_default();
            let Ok(key) = std::str::from_utf8(&name) else {
                continue;
            };
            let bad = |expected: &str| {
                SstError::corrupt(
                    at,
                    format!(
                        "property {key}: expected {expected}, found {} bytes {}",
                        value.len(),
                        hex::encode(value)
                    ),
                )
            };
            let varint = || {
                let mut input = value;
                read_varint64(&mut input)
                    .filter(|_| input.is_empty())
                    .ok_or_else(|| bad("a varint64"))
            };
            let string = || String::from_utf8_lossy(value).into_owned();
            match key {
                names::NUM_ENTRIES => props.num_entries = varint()?,
                names::NUM_DATA_BLOCKS => props.num_data_blocks = varint()?,
                names::DATA_SIZE => props.data_size = varint()?,
                names::INDEX_SIZE => props.index_size = varint()?,
                names::INDEX_PARTITIONS => props.index_partitions = varint()?,
                names::TOP_LEVEL_INDEX_SIZE => props.top_level_index_size = varint()?,
                names::INDEX_KEY_IS_USER_KEY => props.index_key_is_user_key = varint()? != 0,
                names::INDEX_VALUE_IS_DELTA_ENCODED => {
                    props.index_value_is_delta_encoded = varint()? != 0;
                }
                names::RAW_KEY_SIZE => props.raw_key_size = varint()?,
                names::RAW_VALUE_SIZE => props.raw_value_size = varint()?,
                names::DELETED_KEYS => props.num_deletions = varint()?,
                names::MERGE_OPERANDS => props.num_merge_operands = varint()?,
                names::NUM_RANGE_DELETIONS => props.num_range_deletions = varint()?,
                names::FORMAT_VERSION => props.format_version = varint()?,
                names::COLUMN_FAMILY_ID => props.column_family_id = Some(varint()?),
                names::CREATION_TIME => props.creation_time = varint()?,
                names::COLUMN_FAMILY_NAME => props.column_family_name = string(),
                names::COMPARATOR => props.comparator_name = string(),
                names::COMPRESSION => props.compression_name = string(),
                names::FILTER_POLICY => props.filter_policy_name = string(),
                names::INDEX_TYPE => {
                    let code = exact(value, 4)
                        .and_then(fixed32)
                        .ok_or_else(|| bad("a fixed32"))?;
                    props.index_type =
                        IndexType::from_code(code).ok_or_else(|| SstError::Unsupported {
                            block: at,
                            detail: format!("index type {code}"),
                        })?;
                }
                names::EXTERNAL_SST_FILE_VERSION => {
                    let version = exact(value, 4)
                        .and_then(fixed32)
                        .ok_or_else(|| bad("a fixed32"))?;
                    props.external_sst_file_version = Some(version);
                }
                names::GLOBAL_SEQNO => {
                    let seqno = exact(value, 8)
                        .and_then(fixed64)
                        .ok_or_else(|| bad("a fixed64"))?;
                    global_seqno_value = Some(seqno);
                    global_seqno_at = Some(entry.value_start);
                }
                _ => {}
            }
        }
        if props.external_sst_file_version.is_some_and(|v| v >= 2) {
            props.global_seqno = Some(global_seqno_value.unwrap_or(0));
        }
        Ok((props, global_seqno_at))
    }
}

/// `value` if it has exactly `len` bytes.
fn exact(value: &[u8], len: usize) -> Option<&[u8]> {
    (value.len() == len).then_some(value)
}

/// Collects properties and encodes them as a sorted block (encoder twin of
/// [`TableProperties::parse`]).
#[derive(Debug, Default)]
pub(crate) struct PropertiesBuilder {
    entries: BTreeMap<&'static str, Vec<u8>>,
}

impl PropertiesBuilder {
    /// Adds a varint64 property.
    pub(crate) fn u64(&mut self, name: &'static str, value: u64) -> &mut Self {
        let mut bytes = Vec::new();
        put_varint64(&mut bytes, value);
        self.entries.insert(name, bytes);
        self
    }

    /// Adds a string (raw bytes) property.
    pub(crate) fn str(&mut self, name: &'static str, value: &str) -> &mut Self {
        self.entries.insert(name, value.as_bytes().to_vec());
        self
    }

    /// Adds a fixed32 property.
    pub(crate) fn fixed32(&mut self, name: &'static str, value: u32) -> &mut Self {
        self.entries.insert(name, value.to_le_bytes().to_vec());
        self
    }

    /// Adds a fixed64 property.
    pub(crate) fn fixed64(&mut self, name: &'static str, value: u64) -> &mut Self {
        self.entries.insert(name, value.to_le_bytes().to_vec());
        self
    }

    /// The properties block: one restart point, like RocksDB's.
    pub(crate) fn build(&self) -> Vec<u8> {
        let mut block = BlockBuilder::new(usize::MAX);
        for (name, value) in &self.entries {
            block.add(name.as_bytes(), value);
        }
        block.finish().to_vec()
    }
}

#[cfg(test)]
// Tests may index and unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::sst::BlockKind;

    const AT: BlockRef = BlockRef {
        kind: BlockKind::Properties,
        offset: 500,
        size: 600,
    };

    #[test]
    fn round_trip_and_unknown_names_skipped() {
        let mut b = PropertiesBuilder::default();
        b.u64(names::NUM_ENTRIES, 1234)
            .u64(names::NUM_DATA_BLOCKS, 56)
            .u64(names::INDEX_KEY_IS_USER_KEY, 1)
            .u64(names::INDEX_VALUE_IS_DELTA_ENCODED, 1)
            .u64(names::COLUMN_FAMILY_ID, 0)
            .str(names::COLUMN_FAMILY_NAME, "write")
            .str(names::COMPRESSION, "LZ4")
            .str("tikv.num_versions", "\u{1}\u{2}")
            .fixed32(names::INDEX_TYPE, 2)
            .fixed32(names::EXTERNAL_SST_FILE_VERSION, 2)
            .fixed64(names::GLOBAL_SEQNO, 77);
        let props = TableProperties::parse(&b.build(), AT).unwrap();
        assert_eq!(props.num_entries, 1234);
        assert_eq!(props.num_data_blocks, 56);
        assert!(props.index_key_is_user_key);
        assert!(props.index_value_is_delta_encoded);
        assert_eq!(props.column_family_id, Some(0));
        assert_eq!(props.column_family_name, "write");
        assert_eq!(props.compression_name, "LZ4");
        assert_eq!(props.index_type, IndexType::TwoLevelIndexSearch);
        assert_eq!(props.external_sst_file_version, Some(2));
        assert_eq!(props.global_seqno, Some(77));
        assert_eq!(
            props.index_format(),
            IndexFormat {
                key_is_user_key: true,
                value_delta_encoded: true,
                has_first_key: false
            }
        );
    }

    #[test]
    fn global_seqno_applies_only_from_external_version_2() {
        let mut b = PropertiesBuilder::default();
        b.fixed32(names::EXTERNAL_SST_FILE_VERSION, 2);
        assert_eq!(
            TableProperties::parse(&b.build(), AT).unwrap().global_seqno,
            Some(0)
        );
        let mut b = PropertiesBuilder::default();
        b.fixed32(names::EXTERNAL_SST_FILE_VERSION, 1);
        assert_eq!(
            TableProperties::parse(&b.build(), AT).unwrap().global_seqno,
            None
        );
        let b = PropertiesBuilder::default();
        let props = TableProperties::parse(&b.build(), AT).unwrap();
        assert_eq!(props.global_seqno, None);
        assert_eq!(props.index_type, IndexType::BinarySearch);
    }

    #[test]
    fn malformed_values_say_which_property() {
        let mut b = PropertiesBuilder::default();
        b.str(names::NUM_ENTRIES, "\u{80}");
        assert_eq!(
            TableProperties::parse(&b.build(), AT)
                .unwrap_err()
                .to_string(),
            "properties block at offset 500 (size 600): property rocksdb.num.entries: expected a \
             varint64, found 2 bytes c280"
        );
        let mut b = PropertiesBuilder::default();
        b.fixed32(names::INDEX_TYPE, 9);
        assert_eq!(
            TableProperties::parse(&b.build(), AT)
                .unwrap_err()
                .to_string(),
            "properties block at offset 500 (size 600): unsupported: index type 9"
        );
    }

    #[test]
    fn index_type_names() {
        for code in 0..4 {
            assert_eq!(IndexType::from_code(code).unwrap().code(), code);
        }
        assert_eq!(IndexType::from_code(4), None);
        assert_eq!(
            IndexType::TwoLevelIndexSearch.to_string(),
            "kTwoLevelIndexSearch"
        );
    }
}
