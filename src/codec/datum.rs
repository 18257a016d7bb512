//! Datums: flag-prefixed values of row format v1, index keys and common handles (spec §6.3).
//!
//! Sources: TiDB `pkg/util/codec/codec.go` (`encode`, `DecodeOne`, `CutOne`, `peek`), TiKV
//! `components/tidb_query_datatype/src/codec/datum.rs`.
//!
//! ```text
//! flag  name               payload                                      flavour
//!   0   NilFlag            -                                            both
//!   1   bytesFlag          memcomparable bytes (§4.2)                   key
//!   2   compactBytesFlag   zigzag varint length ‖ bytes                 value
//!   3   intFlag            comparable i64 (8)                           key
//!   4   uintFlag           u64 BE (8)                                   key
//!   5   floatFlag          comparable f64 (8)                           both
//!   6   decimalFlag        precision ‖ frac ‖ MyDecimal body            both
//!   7   durationFlag       comparable i64 nanoseconds (8)               both
//!   8   varintFlag         zigzag varint i64                            value
//!   9   uvarintFlag        varint u64                                   value
//!  10   jsonFlag           JSON type ‖ body (length from the structure) value
//!  20   vectorFloat32Flag  u32 LE count ‖ count × f32 LE                value
//! 250   maxFlag            -                                            range sentinel
//! ```
use std::borrow::Cow;

use super::decimal::{bin_size, Decimal};
use super::json::json_datum_len;
use super::memcomparable::{decode_bytes_into, encode_bytes, encoded_prefix_len};
use super::number::{
    decode_cmp_f64, decode_cmp_i64, decode_cmp_u64, decode_varint_i64, decode_varint_u64,
    encode_cmp_f64, encode_cmp_i64, encode_cmp_u64, encode_varint_i64, encode_varint_u64,
};
use super::{array_at, byte_at, slice_at, CodecError, Result};

/// NULL.
pub const NIL_FLAG: u8 = 0;
/// Memcomparable bytes (key flavour).
pub const BYTES_FLAG: u8 = 1;
/// Length-prefixed bytes (value flavour).
pub const COMPACT_BYTES_FLAG: u8 = 2;
/// Comparable int64 (key flavour).
pub const INT_FLAG: u8 = 3;
/// Big-endian uint64 (key flavour).
pub const UINT_FLAG: u8 = 4;
/// Comparable float64.
pub const FLOAT_FLAG: u8 = 5;
/// MyDecimal.
pub const DECIMAL_FLAG: u8 = 6;
/// Comparable int64 nanoseconds.
pub const DURATION_FLAG: u8 = 7;
/// Zigzag varint int64 (value flavour).
pub const VARINT_FLAG: u8 = 8;
/// Varint uint64 (value flavour).
pub const UVARINT_FLAG: u8 = 9;
/// Binary JSON.
pub const JSON_FLAG: u8 = 10;
/// VECTOR(FLOAT32).
pub const VECTOR_FLOAT32_FLAG: u8 = 20;
/// Range sentinel.
pub const MAX_FLAG: u8 = 250;

/// A decoded datum. What it means depends on the column type: DATE/DATETIME/TIMESTAMP are
/// `Uint` packed times, TIME is `Int` nanoseconds (value flavour) or `Duration`, ENUM/SET/BIT
/// are `Uint`, FLOAT is `Float` widened to f64.
#[derive(Debug, Clone, PartialEq)]
pub enum Datum<'a> {
    /// NULL.
    Null,
    /// Signed integer (flags 3 and 8).
    Int(i64),
    /// Unsigned integer (flags 4 and 9).
    Uint(u64),
    /// Float (flag 5).
    Float(f64),
    /// Bytes: borrowed for compact bytes (flag 2), owned for memcomparable bytes (flag 1).
    Bytes(Cow<'a, [u8]>),
    /// Decimal (flag 6).
    Decimal(Decimal),
    /// TIME nanoseconds (flag 7).
    Duration(i64),
    /// JSON type byte followed by the JSON body (flag 10); see [`super::json`].
    Json(&'a [u8]),
    /// VECTOR(FLOAT32): the u32 LE count followed by the f32 LE elements (flag 20); see
    /// [`super::enums::VectorF32`].
    VectorF32(&'a [u8]),
    /// Range sentinel (flag 250).
    Max,
}

/// Decodes one datum at the start of `input` (either flavour); returns it and the bytes used.
///
/// # Errors
/// Unknown flag, truncated or malformed payload.
pub fn decode_datum(input: &[u8]) -> Result<(Datum<'_>, usize)> {
    let flag = byte_at(input, 0, "datum: flag")?;
    let payload = input.get(1..).unwrap_or_default();
    let shift = |e: CodecError| e.offset_by(1);
    let (datum, len) = match flag {
        NIL_FLAG => (Datum::Null, 0),
        BYTES_FLAG => {
            let mut out = Vec::new();
            let n = decode_bytes_into(payload, &mut out).map_err(shift)?;
            (Datum::Bytes(Cow::Owned(out)), n)
        }
        COMPACT_BYTES_FLAG => {
            let (data, n) = compact_bytes(payload).map_err(shift)?;
            (Datum::Bytes(Cow::Borrowed(data)), n)
        }
        INT_FLAG => (Datum::Int(decode_cmp_i64(payload).map_err(shift)?), 8),
        UINT_FLAG => (Datum::Uint(decode_cmp_u64(payload).map_err(shift)?), 8),
        FLOAT_FLAG => (Datum::Float(decode_cmp_f64(payload).map_err(shift)?), 8),
        DECIMAL_FLAG => {
            let (d, n) = Decimal::decode(payload).map_err(shift)?;
            (Datum::Decimal(d), n)
        }
        DURATION_FLAG => (Datum::Duration(decode_cmp_i64(payload).map_err(shift)?), 8),
        VARINT_FLAG => {
            let (v, n) = decode_varint_i64(payload).map_err(shift)?;
            (Datum::Int(v), n)
        }
        UVARINT_FLAG => {
            let (v, n) = decode_varint_u64(payload).map_err(shift)?;
            (Datum::Uint(v), n)
        }
        JSON_FLAG => {
            let n = json_len(payload).map_err(shift)?;
            (Datum::Json(payload.get(..n).unwrap_or_default()), n)
        }
        VECTOR_FLOAT32_FLAG => {
            let n = vector_len(payload).map_err(shift)?;
            (Datum::VectorF32(payload.get(..n).unwrap_or_default()), n)
        }
        MAX_FLAG => (Datum::Max, 0),
        other => return Err(unknown_flag(other)),
    };
    Ok((datum, 1 + len))
}

/// Length of the datum at the start of `input` without decoding it (TiDB `CutOne`); the
/// payload is validated only as far as needed to find its end.
///
/// # Errors
/// Unknown flag or truncated payload.
pub fn datum_len(input: &[u8]) -> Result<usize> {
    let flag = byte_at(input, 0, "datum: flag")?;
    let payload = input.get(1..).unwrap_or_default();
    let shift = |e: CodecError| e.offset_by(1);
    let len = match flag {
        NIL_FLAG | MAX_FLAG => 0,
        BYTES_FLAG => encoded_prefix_len(payload).map_err(shift)?,
        COMPACT_BYTES_FLAG => compact_bytes(payload).map_err(shift)?.1,
        INT_FLAG | UINT_FLAG | FLOAT_FLAG | DURATION_FLAG => {
            slice_at(payload, 0, 8, "datum: 8-byte payload").map_err(shift)?;
            8
        }
        DECIMAL_FLAG => {
            let [precision, frac] =
                array_at::<2>(payload, 0, "decimal: precision and frac").map_err(shift)?;
            let n = 2 + bin_size(precision, frac).map_err(shift)?;
            slice_at(payload, 0, n, "decimal: body").map_err(shift)?;
            n
        }
        VARINT_FLAG | UVARINT_FLAG => decode_varint_u64(payload).map_err(shift)?.1,
        JSON_FLAG => json_len(payload).map_err(shift)?,
        VECTOR_FLOAT32_FLAG => vector_len(payload).map_err(shift)?,
        other => return Err(unknown_flag(other)),
    };
    Ok(1 + len)
}

fn unknown_flag(flag: u8) -> CodecError {
    CodecError::invalid(
        "datum: flag",
        0,
        format!("expected a datum flag (0..=10, 20, 250), found {flag}"),
    )
}

/// Zigzag varint length ‖ bytes; returns the bytes and the total length.
fn compact_bytes(payload: &[u8]) -> Result<(&[u8], usize)> {
    let (len, n) = decode_varint_i64(payload).map_err(|e| match e {
        CodecError::Truncated {
            needed, available, ..
        } => CodecError::Truncated {
            what: "datum: compact bytes length",
            offset: 0,
            needed,
            available,
        },
        other => other,
    })?;
    let len = usize::try_from(len).map_err(|_| {
        CodecError::invalid(
            "datum: compact bytes length",
            0,
            format!("expected a non-negative length, found {len}"),
        )
    })?;
    let data = slice_at(payload, n, len, "datum: compact bytes")?;
    Ok((data, n + len))
}

/// Type byte ‖ JSON value; returns the total length.
fn json_len(payload: &[u8]) -> Result<usize> {
    let type_code = byte_at(payload, 0, "datum: json type")?;
    let body = payload.get(1..).unwrap_or_default();
    let n = json_datum_len(type_code, body).map_err(|e| e.offset_by(1))?;
    Ok(1 + n)
}

/// u32 LE count ‖ count × f32; returns the total length.
fn vector_len(payload: &[u8]) -> Result<usize> {
    let count = u32::from_le_bytes(array_at::<4>(payload, 0, "vector: element count")?);
    let n = 4 + (count as usize).saturating_mul(4);
    slice_at(payload, 0, n, "vector: elements")?;
    Ok(n)
}

/// Appends `d` in the value flavour (row v1): ints as varints, bytes as compact bytes.
///
/// # Errors
/// Never for datums built by the decoders; kept fallible for symmetry.
pub fn encode_value_datum(d: &Datum<'_>, out: &mut Vec<u8>) -> Result<()> {
    match d {
        Datum::Int(v) => {
            out.push(VARINT_FLAG);
            encode_varint_i64(*v, out);
        }
        Datum::Uint(v) => {
            out.push(UVARINT_FLAG);
            encode_varint_u64(*v, out);
        }
        Datum::Bytes(b) => {
            out.push(COMPACT_BYTES_FLAG);
            encode_varint_i64(b.len() as i64, out);
            out.extend_from_slice(b);
        }
        other => encode_common(other, out)?,
    }
    Ok(())
}

/// Appends `d` in the key (comparable) flavour: ints as 8-byte comparable values, bytes as
/// memcomparable bytes.
///
/// # Errors
/// Never for datums built by the decoders; kept fallible for symmetry.
pub fn encode_key_datum(d: &Datum<'_>, out: &mut Vec<u8>) -> Result<()> {
    match d {
        Datum::Int(v) => {
            out.push(INT_FLAG);
            out.extend_from_slice(&encode_cmp_i64(*v));
        }
        Datum::Uint(v) => {
            out.push(UINT_FLAG);
            out.extend_from_slice(&encode_cmp_u64(*v));
        }
        Datum::Bytes(b) => {
            out.push(BYTES_FLAG);
            encode_bytes(b, out);
        }
        other => encode_common(other, out)?,
    }
    Ok(())
}

fn encode_common(d: &Datum<'_>, out: &mut Vec<u8>) -> Result<()> {
    match d {
        Datum::Null => out.push(NIL_FLAG),
        Datum::Max => out.push(MAX_FLAG),
        Datum::Float(f) => {
            out.push(FLOAT_FLAG);
            out.extend_from_slice(&encode_cmp_f64(*f));
        }
        Datum::Decimal(dec) => {
            out.push(DECIMAL_FLAG);
            dec.encode(dec.precision(), dec.frac(), out)?;
        }
        Datum::Duration(ns) => {
            out.push(DURATION_FLAG);
            out.extend_from_slice(&encode_cmp_i64(*ns));
        }
        Datum::Json(j) => {
            out.push(JSON_FLAG);
            out.extend_from_slice(j);
        }
        Datum::VectorF32(v) => {
            out.push(VECTOR_FLOAT32_FLAG);
            out.extend_from_slice(v);
        }
        Datum::Int(_) | Datum::Uint(_) | Datum::Bytes(_) => {
            return Err(CodecError::unencodable(
                "datum",
                "ints and bytes are flavour-specific",
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::codec::json::encode_json;

    fn samples() -> Vec<Datum<'static>> {
        let (jt, jb) = encode_json(&serde_json::json!({"a": [1, 2.5, "x"], "b": null})).unwrap();
        let mut json = vec![jt];
        json.extend(jb);
        let mut vec = 3u32.to_le_bytes().to_vec();
        for f in [1.0f32, -2.5, 0.125] {
            vec.extend_from_slice(&f.to_le_bytes());
        }
        vec![
            Datum::Null,
            Datum::Int(0),
            Datum::Int(-1),
            Datum::Int(i64::MIN),
            Datum::Int(i64::MAX),
            Datum::Uint(0),
            Datum::Uint(u64::MAX),
            Datum::Float(-1.5),
            Datum::Float(0.0),
            Datum::Bytes(Cow::Owned(vec![])),
            Datum::Bytes(Cow::Owned(b"hello, world!".to_vec())),
            Datum::Bytes(Cow::Owned(vec![0; 300])),
            Datum::Decimal("-1234567890.1234".parse().unwrap()),
            Datum::Decimal("0.00".parse().unwrap()),
            Datum::Duration(-14_400_000_000_000),
            Datum::Json(Box::leak(json.into_boxed_slice())),
            Datum::VectorF32(Box::leak(vec.into_boxed_slice())),
            Datum::VectorF32(&[0, 0, 0, 0]),
            Datum::Max,
        ]
    }

    #[test]
    fn round_trip_both_flavours_and_truncations() {
        for d in samples() {
            for key in [false, true] {
                let mut buf = Vec::new();
                if key {
                    encode_key_datum(&d, &mut buf).unwrap();
                } else {
                    encode_value_datum(&d, &mut buf).unwrap();
                }
                let full = buf.len();
                buf.extend_from_slice(&[0xee, 0xee]);
                let (back, n) = decode_datum(&buf).unwrap();
                assert_eq!(n, full, "{d:?}");
                assert_eq!(back, d);
                assert_eq!(datum_len(&buf).unwrap(), full);
                for cut in 0..full {
                    assert!(decode_datum(&buf[..cut]).is_err(), "{d:?} cut {cut}");
                    assert!(datum_len(&buf[..cut]).is_err(), "{d:?} cut {cut}");
                }
            }
        }
    }

    #[test]
    fn flavours_borrow_or_own() {
        let mut buf = Vec::new();
        encode_value_datum(&Datum::Bytes(Cow::Borrowed(b"abc")), &mut buf).unwrap();
        assert_eq!(buf, [COMPACT_BYTES_FLAG, 0x06, b'a', b'b', b'c']);
        assert!(matches!(
            decode_datum(&buf).unwrap().0,
            Datum::Bytes(Cow::Borrowed(b"abc"))
        ));
        buf.clear();
        encode_key_datum(&Datum::Bytes(Cow::Borrowed(b"abc")), &mut buf).unwrap();
        assert_eq!(buf[0], BYTES_FLAG);
        assert!(matches!(
            decode_datum(&buf).unwrap().0,
            Datum::Bytes(Cow::Owned(_))
        ));
        // §10.2 row v1: varint datum 100 = 08 c8 01; key int 1 = 03 80 .. 01
        buf.clear();
        encode_value_datum(&Datum::Int(100), &mut buf).unwrap();
        assert_eq!(buf, [0x08, 0xc8, 0x01]);
        buf.clear();
        encode_key_datum(&Datum::Int(1), &mut buf).unwrap();
        assert_eq!(buf, [3, 0x80, 0, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn malformed() {
        assert_eq!(
            decode_datum(&[11]).unwrap_err().to_string(),
            "datum: flag at offset 0: expected a datum flag (0..=10, 20, 250), found 11"
        );
        assert!(datum_len(&[251]).is_err());
        assert!(decode_datum(&[]).is_err());
        // negative compact length
        let err = decode_datum(&[COMPACT_BYTES_FLAG, 0x01]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "datum: compact bytes length at offset 1: expected a non-negative length, found -1"
        );
        assert_eq!(
            decode_datum(&[COMPACT_BYTES_FLAG, 0x08, b'a'])
                .unwrap_err()
                .to_string(),
            "datum: compact bytes needs 4 bytes at offset 2, only 1 left"
        );
        // huge vector count
        assert!(decode_datum(&[VECTOR_FLOAT32_FLAG, 0xff, 0xff, 0xff, 0xff]).is_err());
        // bad decimal and json inside a datum report outer offsets
        let err = decode_datum(&[DECIMAL_FLAG, 1, 0, 0x8a]).unwrap_err();
        assert_eq!(err.offset(), Some(3));
        let err = decode_datum(&[JSON_FLAG, 0x0c, 0x05, b'a']).unwrap_err();
        assert!(matches!(err, CodecError::Truncated { .. }), "{err}");
        assert!(decode_datum(&[JSON_FLAG, 0x77]).is_err());
    }
}
