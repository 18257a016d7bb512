//! TiKV / TiDB byte formats: the value-level primitives needed to read a BR backup.
//!
//! Formats: `docs/formats.md` §5 (keys, MVCC), §6 (TiDB keys), §7 (row formats, datums)
//! and §8 (per-type decoding). Findings checked against public TiDB/TiKV sources are
//! recorded in `docs/codec-notes.md`.
//!
//! ```text
//! SST entry key   = 'z' ‖ memcomparable(raw TiDB key) ‖ !ts (u64 BE)     key.rs, memcomparable.rs
//! write-CF value  = type ‖ varint start_ts ‖ tagged fields                mvcc.rs
//! raw TiDB key    = 't' ‖ cmp_i64(table) ‖ "_r" ‖ handle                  key.rs
//! row value       = 0x80 … (row v2)  |  [colID datum][value datum]… (v1)  row_v2.rs, row_v1.rs
//! column payloads = ints, floats, decimals, times, JSON, enums, vectors  number.rs, decimal.rs,
//!                                                                         time.rs, json.rs, enums.rs
//! ```
//!
//! Design rules for this module:
//! * pure and synchronous; it depends on no other module of the crate (the schema lives in `meta`,
//!   and `batch` combines these primitives with it);
//! * zero-copy views where the format allows ([`row_v2::RowSlice`], [`row_v1::RowV1`],
//!   [`mvcc::WriteRecord`]) and no allocation per value on the hot paths (row lookup, int, float
//!   and time decoding);
//! * never panics on bad bytes: every read is bounds-checked and every malformed input is a
//!   [`CodecError`] that says what was being read, at which offset, and what was expected;
//! * every decoder has a matching encoder (some are test-kit quality), tested by round trip.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub mod checksum;
pub mod datum;
pub mod decimal;
pub mod enums;
pub mod json;
pub mod key;
pub mod memcomparable;
pub mod mvcc;
pub mod number;
pub mod row;
pub mod row_v1;
pub mod row_v2;
pub mod time;

pub use datum::{decode_datum, Datum};
pub use decimal::Decimal;
pub use key::{decode_data_key, parse_tidb_key, Handle, TidbKey};
pub use mvcc::{WriteRecord, WriteType};
pub use row_v1::RowV1;
pub use row_v2::{ColumnValue, RowSlice};
pub use time::{Duration, PackedTime};

/// Result alias of this module.
pub type Result<T> = std::result::Result<T, CodecError>;

/// A malformed or unencodable value. Offsets are byte offsets into the slice handed to the
/// decoder that failed (decoders of nested structures shift them to the outer slice).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The input ends before a field.
    #[error("{what} needs {needed} bytes at offset {offset}, only {available} left")]
    Truncated {
        /// The field being read, e.g. `"row v2: column id list"`.
        what: &'static str,
        /// Where the field starts.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left from `offset`.
        available: usize,
    },
    /// A field holds a value the format does not allow.
    #[error("{what} at offset {offset}: {reason}")]
    Invalid {
        /// The field being read.
        what: &'static str,
        /// Where the field starts.
        offset: usize,
        /// What was expected and what was found.
        reason: String,
    },
    /// Nested structures (JSON) deeper than the format allows.
    #[error("{what} at offset {offset}: nesting deeper than {limit} levels")]
    TooDeep {
        /// The structure being read.
        what: &'static str,
        /// Where the too-deep value starts.
        offset: usize,
        /// The depth limit.
        limit: usize,
    },
    /// An encoder was asked to write something the format cannot hold.
    #[error("cannot encode {what}: {reason}")]
    Unencodable {
        /// What was being encoded.
        what: &'static str,
        /// Why it does not fit.
        reason: String,
    },
}

impl CodecError {
    /// The same error with its offset moved by `base` bytes, for errors of a nested decoder
    /// that ran on `outer[base..]`.
    #[must_use]
    pub fn offset_by(self, base: usize) -> Self {
        match self {
            CodecError::Truncated {
                what,
                offset,
                needed,
                available,
            } => CodecError::Truncated {
                what,
                offset: offset.saturating_add(base),
                needed,
                available,
            },
            CodecError::Invalid {
                what,
                offset,
                reason,
            } => CodecError::Invalid {
                what,
                offset: offset.saturating_add(base),
                reason,
            },
            CodecError::TooDeep {
                what,
                offset,
                limit,
            } => CodecError::TooDeep {
                what,
                offset: offset.saturating_add(base),
                limit,
            },
            other @ CodecError::Unencodable { .. } => other,
        }
    }

    /// The byte offset the error refers to, if any.
    pub fn offset(&self) -> Option<usize> {
        match self {
            CodecError::Truncated { offset, .. }
            | CodecError::Invalid { offset, .. }
            | CodecError::TooDeep { offset, .. } => Some(*offset),
            CodecError::Unencodable { .. } => None,
        }
    }

    pub(crate) fn invalid(what: &'static str, offset: usize, reason: impl Into<String>) -> Self {
        CodecError::Invalid {
            what,
            offset,
            reason: reason.into(),
        }
    }

    pub(crate) fn unencodable(what: &'static str, reason: impl Into<String>) -> Self {
        CodecError::Unencodable {
            what,
            reason: reason.into(),
        }
    }
}

/// `input[offset..offset + len]`, or a [`CodecError::Truncated`] naming `what`.
#[inline]
pub(crate) fn slice_at<'a>(
    input: &'a [u8],
    offset: usize,
    len: usize,
    what: &'static str,
) -> Result<&'a [u8]> {
    offset
        .checked_add(len)
        .and_then(|end| input.get(offset..end))
        .ok_or(CodecError::Truncated {
            what,
            offset,
            needed: len,
            available: input.len().saturating_sub(offset),
        })
}

/// The `N` bytes at `offset` as an array.
#[inline]
pub(crate) fn array_at<const N: usize>(
    input: &[u8],
    offset: usize,
    what: &'static str,
) -> Result<[u8; N]> {
    let bytes = slice_at(input, offset, N, what)?;
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    Ok(out)
}

/// The byte at `offset`.
#[inline]
pub(crate) fn byte_at(input: &[u8], offset: usize, what: &'static str) -> Result<u8> {
    input.get(offset).copied().ok_or(CodecError::Truncated {
        what,
        offset,
        needed: 1,
        available: input.len().saturating_sub(offset),
    })
}

/// A xorshift64 sequence: many varied test inputs, the same on every run.
#[cfg(test)]
pub(crate) fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn truncated_message_names_field_offset_and_sizes() {
        let err = slice_at(&[0u8; 10], 6, 12, "row v2: column id list").unwrap_err();
        assert_eq!(
            err.to_string(),
            "row v2: column id list needs 12 bytes at offset 6, only 4 left"
        );
    }

    #[test]
    fn offset_by_shifts_offsets() {
        let err = slice_at(&[0u8; 2], 1, 4, "x").unwrap_err().offset_by(10);
        assert_eq!(err.offset(), Some(11));
        let err = CodecError::unencodable("y", "z").offset_by(3);
        assert_eq!(err.offset(), None);
    }

    /// Feeds every decoder `input`; any result is fine as long as nothing panics.
    fn decode_everything(input: &[u8]) {
        let mut buf = Vec::new();
        let _ = number::decode_varint_u64(input);
        let _ = number::decode_varint_i64(input);
        let _ = number::decode_cmp_f64(input);
        let _ = number::decode_v2_int(input);
        let _ = number::decode_v2_uint(input);
        let _ = memcomparable::decode_bytes_into(input, &mut buf);
        let _ = memcomparable::decode_bytes_desc_into(input, &mut buf);
        let _ = key::decode_data_key(input, &mut buf);
        let _ = key::parse_tidb_key(input);
        let _ = mvcc::WriteRecord::parse(input);
        if let Ok(row) = row_v2::RowSlice::from_bytes(input) {
            for id in -1..300 {
                let _ = row.get(id);
            }
            let _ = row.not_null_columns().count();
        }
        let _ = datum::decode_datum(input);
        let _ = datum::datum_len(input);
        if let Ok(row) = row_v1::RowV1::from_bytes(input) {
            let _ = row.get(1);
            let _ = row.iter().count();
        }
        let _ = decimal::Decimal::decode(input);
        let mut text = String::new();
        for t in 0u8..=0x12 {
            let _ = json::json_to_text(t, input, &mut text);
            let _ = json::json_datum_len(t, input);
        }
        let _ = json::json_payload_to_text(input, &mut text);
        let _ = enums::VectorF32::from_payload(input);
    }

    #[test]
    fn random_and_mutated_inputs_never_panic() {
        let mut next = xorshift(0x0123_4567_89ab_cdef);
        for _ in 0..20_000 {
            let len = (next() % 48) as usize;
            let mut input: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            // bias towards plausible first bytes
            if let Some(first) = input.first_mut() {
                *first =
                    [0x80, 0x7a, b't', b'P', 1, 3, 6, 8, 10, 20, *first][(next() % 11) as usize];
            }
            decode_everything(&input);
        }
        // bit flips of valid encodings
        let (jt, jb) =
            json::encode_json(&serde_json::json!({"a": [1, "x", {"b": null}], "c": 2.5})).unwrap();
        let mut json_payload = vec![jt];
        json_payload.extend(jb);
        let mut row = row_v2::RowEncoderV2::new();
        row.push(1, Some(b"abc"))
            .push(300, None)
            .push(2, Some(&[1, 2]));
        let mut dec = Vec::new();
        "-1234.5678"
            .parse::<decimal::Decimal>()
            .unwrap()
            .encode(20, 6, &mut dec)
            .unwrap();
        let valid = [
            json_payload,
            row.encode().unwrap(),
            dec,
            key::encode_data_key(&key::encode_record_key(7, -9), 42),
            row_v1::encode_row_v1(&[(1, datum::Datum::Int(5)), (2, datum::Datum::Float(1.5))])
                .unwrap(),
        ];
        for v in &valid {
            for i in 0..v.len() {
                for bit in 0..8 {
                    let mut m = v.clone();
                    m[i] ^= 1 << bit;
                    decode_everything(&m);
                }
            }
        }
    }

    #[test]
    fn slice_at_handles_offset_overflow() {
        let err = slice_at(&[1, 2, 3], usize::MAX, 2, "x").unwrap_err();
        assert!(matches!(err, CodecError::Truncated { available: 0, .. }));
        assert_eq!(byte_at(&[1], 1, "b").unwrap_err().offset(), Some(1));
        assert_eq!(array_at::<2>(&[1, 2, 3], 1, "a").unwrap(), [2, 3]);
    }
}
