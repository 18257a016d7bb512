//! MVCC data keys (spec §4.1) and TiDB raw keys (spec §5).
//!
//! Sources: TiKV `components/keys/src/lib.rs` (`DATA_PREFIX`), `components/txn_types/src/types.rs`
//! (`Key::append_ts`), TiDB `pkg/tablecodec/tablecodec.go`, `pkg/kv/key.go` (`NewCommonHandle`).
//!
//! ```text
//! SST user key (after the 8-byte RocksDB internal trailer is removed):
//!   'z' ‖ memcomparable(raw key) ‖ BE(!ts)            ts = commit_ts (write CF) / start_ts (default CF)
//! raw TiDB keys:
//!   record : 't' ‖ cmp_i64(table id) ‖ "_r" ‖ cmp_i64(int handle)          (19 bytes)
//!            't' ‖ cmp_i64(table id) ‖ "_r" ‖ key datums of the PK columns  (common handle, ≥ 20)
//!   index  : 't' ‖ cmp_i64(table id) ‖ "_i" ‖ cmp_i64(index id) ‖ …
//!   meta   : 'm' ‖ …
//!   API V2 keyspace prefix (outside the above): 'x' ‖ 3-byte keyspace id
//! ```
use super::memcomparable::{decode_bytes_into, encode_bytes, encoded_len};
use super::number::{decode_cmp_i64, decode_u64_desc, encode_cmp_i64, encode_u64_desc};
use super::{byte_at, slice_at, CodecError, Result};

/// TiKV's data prefix of every key in the KV engine (`keys::DATA_PREFIX`).
pub const DATA_PREFIX: u8 = b'z';
/// First byte of TiDB table keys.
pub const TABLE_PREFIX: u8 = b't';
/// First byte of TiDB meta keys.
pub const META_PREFIX: u8 = b'm';
/// Separator before a row handle.
pub const RECORD_SEP: &[u8; 2] = b"_r";
/// Separator before an index id.
pub const INDEX_SEP: &[u8; 2] = b"_i";
/// First byte of an API V2 TiDB (transactional) keyspace prefix.
pub const KEYSPACE_TXN_PREFIX: u8 = b'x';
/// Length of a record key with an int handle.
pub const INT_RECORD_KEY_LEN: usize = 19;
/// Length of `'t' ‖ table id ‖ "_r"`.
pub const RECORD_PREFIX_LEN: usize = 11;

const TS_LEN: usize = 8;

/// Splits an SST user key into its memcomparable-decoded raw key (written to `user_key_out`,
/// which is cleared first) and its timestamp.
///
/// # Errors
/// Missing `'z'` prefix, a key shorter than prefix + empty group + timestamp, malformed
/// memcomparable bytes, or extra bytes between the encoded key and the timestamp.
pub fn decode_data_key(sst_user_key: &[u8], user_key_out: &mut Vec<u8>) -> Result<u64> {
    user_key_out.clear();
    let prefix = byte_at(sst_user_key, 0, "data key: 'z' prefix")?;
    if prefix != DATA_PREFIX {
        return Err(CodecError::invalid(
            "data key: 'z' prefix",
            0,
            format!("expected 0x7a ('z'), found 0x{prefix:02x}"),
        ));
    }
    let min_len = 1 + encoded_len(0) + TS_LEN;
    if sst_user_key.len() < min_len {
        return Err(CodecError::Truncated {
            what: "data key",
            offset: 0,
            needed: min_len,
            available: sst_user_key.len(),
        });
    }
    let ts_at = sst_user_key.len() - TS_LEN;
    let encoded = slice_at(sst_user_key, 1, ts_at - 1, "data key: encoded user key")?;
    let used = decode_bytes_into(encoded, user_key_out).map_err(|e| e.offset_by(1))?;
    if used != encoded.len() {
        user_key_out.clear();
        return Err(CodecError::invalid(
            "data key: encoded user key",
            1 + used,
            format!(
                "expected the 8-byte timestamp, found {} more bytes before it",
                encoded.len() - used
            ),
        ));
    }
    let ts = slice_at(sst_user_key, ts_at, TS_LEN, "data key: timestamp")?;
    decode_u64_desc(ts).map_err(|e| e.offset_by(ts_at))
}

/// Builds an SST user key: `'z' ‖ memcomparable(raw_key) ‖ BE(!ts)`.
pub fn encode_data_key(raw_key: &[u8], ts: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + encoded_len(raw_key.len()) + TS_LEN);
    out.push(DATA_PREFIX);
    encode_bytes(raw_key, &mut out);
    out.extend_from_slice(&encode_u64_desc(ts));
    out
}

/// Writes to `out` (cleared first) the SST user key of the same raw key as `data_key` (an SST
/// user key, as [`decode_data_key`] takes) at timestamp `ts`: the key a write record's long
/// value has in the default CF, where `ts` is the record's `start_ts`.
pub fn data_key_with_ts(data_key: &[u8], ts: u64, out: &mut Vec<u8>) {
    out.clear();
    let key_len = data_key.len().saturating_sub(TS_LEN);
    out.extend_from_slice(data_key.get(..key_len).unwrap_or_default());
    out.extend_from_slice(&encode_u64_desc(ts));
}

/// The handle part of a record key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Handle<'a> {
    /// Int handle (`pk_is_handle` tables and `_tidb_rowid`). Unsigned BIGINT primary keys use
    /// the same 64 bits; reinterpret with `as u64`.
    Int(i64),
    /// Common (clustered) handle: the key-flavour datums of the primary-key columns, decoded
    /// with [`super::datum::decode_datum`]. TiDB pads handles shorter than 9 bytes with zero
    /// bytes, so a datum flag `0x00` (NilFlag) marks the start of padding, not a value.
    Common(&'a [u8]),
}

/// What a raw TiDB key addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TidbKey<'a> {
    /// A row: `t{table_id}_r{handle}`.
    Record {
        /// Physical table (or partition) id.
        table_id: i64,
        /// Row handle.
        handle: Handle<'a>,
    },
    /// An index entry: `t{table_id}_i{index_id}…` (the index values are not parsed).
    Index {
        /// Physical table (or partition) id, or the logical id for global indexes.
        table_id: i64,
        /// Index id.
        index_id: i64,
    },
    /// A meta key (`m…`).
    Meta,
    /// Anything else: a bare table prefix, another separator, a keyspace-prefixed key, ….
    Other,
}

/// Classifies a raw (memcomparable-decoded, timestamp-free) TiDB key.
///
/// # Errors
/// A `t` key whose table id is cut short, or a record/index key whose handle or index id is
/// cut short (a record handle of 1..=7 bytes, or none at all).
pub fn parse_tidb_key(raw: &[u8]) -> Result<TidbKey<'_>> {
    match raw.first() {
        Some(&TABLE_PREFIX) => {}
        Some(&META_PREFIX) => return Ok(TidbKey::Meta),
        _ => return Ok(TidbKey::Other),
    }
    let table_id =
        decode_cmp_i64(slice_at(raw, 1, 8, "tidb key: table id")?).map_err(|e| e.offset_by(1))?;
    let Some(sep) = raw.get(9..RECORD_PREFIX_LEN) else {
        return Ok(TidbKey::Other);
    };
    let rest = raw.get(RECORD_PREFIX_LEN..).unwrap_or_default();
    if sep == RECORD_SEP {
        let handle = match rest.len() {
            8 => Handle::Int(decode_cmp_i64(rest).map_err(|e| e.offset_by(RECORD_PREFIX_LEN))?),
            n if n > 8 => Handle::Common(rest),
            n => {
                return Err(CodecError::invalid(
                    "tidb record key: handle",
                    RECORD_PREFIX_LEN,
                    format!(
                    "expected an 8-byte int handle or a common handle of 9+ bytes, found {n} bytes"
                ),
                ))
            }
        };
        Ok(TidbKey::Record { table_id, handle })
    } else if sep == INDEX_SEP {
        let index_id = decode_cmp_i64(slice_at(
            raw,
            RECORD_PREFIX_LEN,
            8,
            "tidb index key: index id",
        )?)
        .map_err(|e| e.offset_by(RECORD_PREFIX_LEN))?;
        Ok(TidbKey::Index { table_id, index_id })
    } else {
        Ok(TidbKey::Other)
    }
}

/// The table id of a `t…` key, without looking further; `None` for other or short keys.
pub fn table_id_of(raw: &[u8]) -> Option<i64> {
    if raw.first() != Some(&TABLE_PREFIX) {
        return None;
    }
    decode_cmp_i64(raw.get(1..9)?).ok()
}

/// Splits an API V2 transactional keyspace prefix (`'x' ‖ 3-byte BE keyspace id`) off a raw
/// key. Returns `(None, raw)` when the key has no such prefix.
pub fn strip_keyspace_prefix(raw: &[u8]) -> (Option<u32>, &[u8]) {
    match raw {
        [KEYSPACE_TXN_PREFIX, a, b, c, rest @ ..] => {
            (Some(u32::from_be_bytes([0, *a, *b, *c])), rest)
        }
        _ => (None, raw),
    }
}

/// `t{table_id}_r` ‖ cmp_i64(handle).
pub fn encode_record_key(table_id: i64, handle: i64) -> Vec<u8> {
    let mut out = encode_record_prefix(table_id);
    out.extend_from_slice(&encode_cmp_i64(handle));
    out
}

/// `t{table_id}_r` ‖ handle datums, zero-padded to 9 bytes as TiDB does.
pub fn encode_common_handle_record_key(table_id: i64, handle_bytes: &[u8]) -> Vec<u8> {
    let mut out = encode_record_prefix(table_id);
    out.extend_from_slice(handle_bytes);
    if handle_bytes.len() < 9 {
        out.resize(RECORD_PREFIX_LEN + 9, 0);
    }
    out
}

/// `t{table_id}_r`.
pub fn encode_record_prefix(table_id: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(INT_RECORD_KEY_LEN);
    out.push(TABLE_PREFIX);
    out.extend_from_slice(&encode_cmp_i64(table_id));
    out.extend_from_slice(RECORD_SEP);
    out
}

/// `t{table_id}_i` ‖ cmp_i64(index_id).
pub fn encode_index_key_prefix(table_id: i64, index_id: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(INT_RECORD_KEY_LEN);
    out.push(TABLE_PREFIX);
    out.extend_from_slice(&encode_cmp_i64(table_id));
    out.extend_from_slice(INDEX_SEP);
    out.extend_from_slice(&encode_cmp_i64(index_id));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// §10.1 item 5 (PingCAP BR PITR test-data generator): write-CF key without 'z'.
    const ITEM5_KEY: &str =
        "74 80 00 00 00 00 00 00 ff 6e 5f 72 80 00 00 00 00 ff 00 00 01 00 00 00 00 00 fa f9 a0 ac d5 56 f3 ff fd";

    #[test]
    fn item5_key_decodes_to_table_110_handle_1() {
        let mut key = vec![DATA_PREFIX];
        key.extend(h(ITEM5_KEY));
        let mut raw = vec![1, 2, 3];
        let ts = decode_data_key(&key, &mut raw).unwrap();
        assert_eq!(ts, 459_177_129_704_947_714);
        assert_eq!(
            raw,
            h("74 80 00 00 00 00 00 00 6e 5f 72 80 00 00 00 00 00 00 01")
        );
        assert_eq!(
            parse_tidb_key(&raw).unwrap(),
            TidbKey::Record {
                table_id: 110,
                handle: Handle::Int(1)
            }
        );
        assert_eq!(table_id_of(&raw), Some(110));
        assert_eq!(encode_data_key(&raw, ts), key);
        assert_eq!(encode_record_key(110, 1), raw);
    }

    #[test]
    fn the_default_cf_key_is_the_write_key_at_start_ts() {
        let raw = encode_record_key(42, 7);
        let write_key = encode_data_key(&raw, 400);
        let mut default_key = vec![0xff];
        data_key_with_ts(&write_key, 300, &mut default_key);
        assert_eq!(default_key, encode_data_key(&raw, 300));
        let mut back = Vec::new();
        assert_eq!(decode_data_key(&default_key, &mut back).unwrap(), 300);
        assert_eq!(back, raw);
    }

    #[test]
    fn data_key_round_trip() {
        for len in 0..30usize {
            let raw: Vec<u8> = (0..len as u8).collect();
            for ts in [0u64, 1, 42, u64::MAX] {
                let key = encode_data_key(&raw, ts);
                let mut out = Vec::new();
                assert_eq!(decode_data_key(&key, &mut out).unwrap(), ts);
                assert_eq!(out, raw);
            }
        }
    }

    #[test]
    fn data_key_errors() {
        let mut out = Vec::new();
        let err = decode_data_key(b"", &mut out).unwrap_err();
        assert_eq!(
            err.to_string(),
            "data key: 'z' prefix needs 1 bytes at offset 0, only 0 left"
        );
        let err = decode_data_key(b"t0000000000000000000", &mut out).unwrap_err();
        assert_eq!(
            err.to_string(),
            "data key: 'z' prefix at offset 0: expected 0x7a ('z'), found 0x74"
        );
        let key = encode_data_key(b"abc", 7);
        for cut in 0..key.len() {
            let mut out = vec![9];
            assert!(decode_data_key(&key[..cut], &mut out).is_err(), "cut {cut}");
            assert!(out.is_empty());
        }
        // extra bytes between the encoded key and the ts
        let mut bad = encode_data_key(b"abc", 7);
        bad.splice(10..10, [0u8, 1, 2]);
        let err = decode_data_key(&bad, &mut out).unwrap_err();
        assert!(err.to_string().contains("found 3 more bytes"), "{err}");
        assert!(out.is_empty());
        // bad padding reports an offset in the SST key
        let mut bad = encode_data_key(b"abc", 7);
        bad[5] = 1;
        let err = decode_data_key(&bad, &mut out).unwrap_err();
        assert_eq!(err.offset(), Some(5));
    }

    #[test]
    fn tidb_keys() {
        assert_eq!(parse_tidb_key(b"").unwrap(), TidbKey::Other);
        assert_eq!(parse_tidb_key(b"mDBs").unwrap(), TidbKey::Meta);
        assert_eq!(parse_tidb_key(b"x\0\0\x01t").unwrap(), TidbKey::Other);
        let idx = encode_index_key_prefix(-5, 3);
        assert_eq!(
            parse_tidb_key(&idx).unwrap(),
            TidbKey::Index {
                table_id: -5,
                index_id: 3
            }
        );
        let mut with_vals = idx.clone();
        with_vals.extend_from_slice(&[3, 0x80, 0, 0, 0, 0, 0, 0, 1]);
        assert!(matches!(
            parse_tidb_key(&with_vals).unwrap(),
            TidbKey::Index { index_id: 3, .. }
        ));
        // bare table prefix
        let prefix = encode_record_prefix(7);
        assert_eq!(parse_tidb_key(&prefix[..9]).unwrap(), TidbKey::Other);
        assert_eq!(parse_tidb_key(&prefix[..10]).unwrap(), TidbKey::Other);
        // record prefix without a handle, or a short handle
        for n in 0..8 {
            let mut k = prefix.clone();
            k.extend(std::iter::repeat_n(0x80u8, n));
            assert!(parse_tidb_key(&k).is_err(), "handle of {n} bytes");
        }
        // common handle
        let handle = [1u8, b'a', b'b', 0, 0, 0, 0, 0, 0xfa];
        let k = encode_common_handle_record_key(9, &handle);
        assert_eq!(
            parse_tidb_key(&k).unwrap(),
            TidbKey::Record {
                table_id: 9,
                handle: Handle::Common(&handle)
            }
        );
        // short common handles are zero-padded to 9 bytes
        let k = encode_common_handle_record_key(9, &[6, 1, 0, 0x81]);
        assert_eq!(k.len(), 20);
        assert!(matches!(
            parse_tidb_key(&k).unwrap(),
            TidbKey::Record {
                handle: Handle::Common([6, 1, 0, 0x81, 0, 0, 0, 0, 0]),
                ..
            }
        ));
        // other separators
        let mut k = prefix.clone();
        k[10] = b'x';
        assert_eq!(parse_tidb_key(&k).unwrap(), TidbKey::Other);
        // short table ids
        for n in 1..9 {
            assert!(parse_tidb_key(&prefix[..n]).is_err(), "{n}");
            assert_eq!(table_id_of(&prefix[..n]), None);
        }
        // index key with a short id
        for n in RECORD_PREFIX_LEN..idx.len() {
            assert!(parse_tidb_key(&idx[..n]).is_err());
        }
        let err = parse_tidb_key(&prefix).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tidb record key: handle at offset 11: expected an 8-byte int handle or a common handle of 9+ bytes, found 0 bytes"
        );
    }

    #[test]
    fn int_handles_round_trip() {
        for t in [i64::MIN, -1, 0, 1, 110, i64::MAX] {
            for hd in [i64::MIN, -1, 0, 1, i64::MAX] {
                let k = encode_record_key(t, hd);
                assert_eq!(k.len(), INT_RECORD_KEY_LEN);
                assert_eq!(
                    parse_tidb_key(&k).unwrap(),
                    TidbKey::Record {
                        table_id: t,
                        handle: Handle::Int(hd)
                    }
                );
            }
        }
    }

    #[test]
    fn keyspace_prefix() {
        let mut k = vec![b'x', 0, 1, 2];
        k.extend(encode_record_key(1, 2));
        let (ks, rest) = strip_keyspace_prefix(&k);
        assert_eq!(ks, Some(0x000102));
        assert_eq!(rest, &encode_record_key(1, 2)[..]);
        assert_eq!(strip_keyspace_prefix(b"t1"), (None, &b"t1"[..]));
        assert_eq!(strip_keyspace_prefix(b"x12"), (None, &b"x12"[..]));
    }
}
