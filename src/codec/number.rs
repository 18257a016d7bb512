//! Integer and float codecs shared by keys, datums and row values.
//!
//! Spec: conventions (varint), §5.1 (comparable int64/uint64), §7.2 (comparable float),
//! §6.2 (row v2 variable-width integers). Source formats: TiKV
//! `components/tikv_util/src/codec/number.rs`, TiDB `pkg/util/codec/number.go`,
//! `pkg/util/rowcodec/common.go`.
//!
//! ```text
//! varint u64      : LEB128, 7 bits per byte, low group first, bit 7 = "more", ≤ 10 bytes
//! zigzag i64      : varint of (v << 1) ^ (v >> 63)
//! comparable i64  : BE u64 of (v ^ 0x8000_0000_0000_0000)              (8 bytes)
//! comparable u64  : BE u64                                             (8 bytes)
//! comparable f64  : BE u64 of bits | sign  (negative: !bits)           (8 bytes)
//! descending u64  : BE u64 of !v                                       (8 bytes, MVCC ts)
//! row v2 int/uint : LE, 1 / 2 / 4 / 8 bytes, smallest that holds the value
//! ```
use super::{array_at, CodecError, Result};

/// Longest varint of a u64.
pub const MAX_VARINT_LEN: usize = 10;

const SIGN_MASK: u64 = 0x8000_0000_0000_0000;

/// Appends `v` as an unsigned LEB128 varint.
pub fn encode_varint_u64(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Decodes an unsigned varint at the start of `input`; returns the value and the bytes used.
///
/// # Errors
/// Truncated input, more than 10 bytes, or a value above `u64::MAX`.
pub fn decode_varint_u64(input: &[u8]) -> Result<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in input.iter().enumerate().take(MAX_VARINT_LEN) {
        if i == MAX_VARINT_LEN - 1 && b > 1 {
            return Err(CodecError::invalid(
                "varint",
                0,
                format!("value overflows u64 (10th byte 0x{b:02x})"),
            ));
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Ok((value, i + 1));
        }
    }
    if input.len() >= MAX_VARINT_LEN {
        return Err(CodecError::invalid("varint", 0, "longer than 10 bytes"));
    }
    Err(CodecError::Truncated {
        what: "varint",
        offset: 0,
        needed: input.len() + 1,
        available: input.len(),
    })
}

/// Appends `v` as a zigzag varint (Go `binary.PutVarint`).
pub fn encode_varint_i64(v: i64, out: &mut Vec<u8>) {
    encode_varint_u64(((v << 1) ^ (v >> 63)) as u64, out);
}

/// Decodes a zigzag varint; returns the value and the bytes used.
///
/// # Errors
/// As [`decode_varint_u64`].
pub fn decode_varint_i64(input: &[u8]) -> Result<(i64, usize)> {
    let (u, n) = decode_varint_u64(input)?;
    Ok((((u >> 1) as i64) ^ -((u & 1) as i64), n))
}

/// Comparable (memcmp-ordered) encoding of an i64: sign bit flipped, big-endian.
pub fn encode_cmp_i64(v: i64) -> [u8; 8] {
    ((v as u64) ^ SIGN_MASK).to_be_bytes()
}

/// Decodes the comparable i64 in the first 8 bytes of `input`.
///
/// # Errors
/// Fewer than 8 bytes.
pub fn decode_cmp_i64(input: &[u8]) -> Result<i64> {
    let b = array_at::<8>(input, 0, "comparable int64")?;
    Ok((u64::from_be_bytes(b) ^ SIGN_MASK) as i64)
}

/// Comparable encoding of a u64: big-endian.
pub fn encode_cmp_u64(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}

/// Decodes the big-endian u64 in the first 8 bytes of `input`.
///
/// # Errors
/// Fewer than 8 bytes.
pub fn decode_cmp_u64(input: &[u8]) -> Result<u64> {
    Ok(u64::from_be_bytes(array_at::<8>(
        input,
        0,
        "comparable uint64",
    )?))
}

/// Descending encoding of a u64 (`BE(!v)`), used for MVCC timestamps.
pub fn encode_u64_desc(v: u64) -> [u8; 8] {
    (!v).to_be_bytes()
}

/// Decodes a descending u64 from the first 8 bytes of `input`.
///
/// # Errors
/// Fewer than 8 bytes.
pub fn decode_u64_desc(input: &[u8]) -> Result<u64> {
    Ok(!u64::from_be_bytes(array_at::<8>(
        input,
        0,
        "descending uint64",
    )?))
}

/// Comparable encoding of an f64 (§7.2): positive values get the sign bit set, negative
/// values have every bit inverted; big-endian.
pub fn encode_cmp_f64(v: f64) -> [u8; 8] {
    let bits = v.to_bits();
    let u = if bits & SIGN_MASK == 0 {
        bits | SIGN_MASK
    } else {
        !bits
    };
    u.to_be_bytes()
}

/// Decodes the comparable f64 in the first 8 bytes of `input`.
///
/// # Errors
/// Fewer than 8 bytes.
pub fn decode_cmp_f64(input: &[u8]) -> Result<f64> {
    let u = u64::from_be_bytes(array_at::<8>(input, 0, "comparable float")?);
    let bits = if u & SIGN_MASK != 0 {
        u & !SIGN_MASK
    } else {
        !u
    };
    Ok(f64::from_bits(bits))
}

/// Decodes a row v2 signed integer: the whole payload, 1, 2, 4 or 8 bytes LE, sign-extended.
///
/// # Errors
/// Any other payload length.
#[inline]
pub fn decode_v2_int(payload: &[u8]) -> Result<i64> {
    match *payload {
        [a] => Ok(i64::from(a as i8)),
        [a, b] => Ok(i64::from(i16::from_le_bytes([a, b]))),
        [a, b, c, d] => Ok(i64::from(i32::from_le_bytes([a, b, c, d]))),
        [a, b, c, d, e, f, g, h] => Ok(i64::from_le_bytes([a, b, c, d, e, f, g, h])),
        _ => Err(bad_v2_width("row v2 int", payload.len())),
    }
}

/// Decodes a row v2 unsigned integer: the whole payload, 1, 2, 4 or 8 bytes LE.
///
/// # Errors
/// Any other payload length.
#[inline]
pub fn decode_v2_uint(payload: &[u8]) -> Result<u64> {
    match *payload {
        [a] => Ok(u64::from(a)),
        [a, b] => Ok(u64::from(u16::from_le_bytes([a, b]))),
        [a, b, c, d] => Ok(u64::from(u32::from_le_bytes([a, b, c, d]))),
        [a, b, c, d, e, f, g, h] => Ok(u64::from_le_bytes([a, b, c, d, e, f, g, h])),
        _ => Err(bad_v2_width("row v2 uint", payload.len())),
    }
}

fn bad_v2_width(what: &'static str, len: usize) -> CodecError {
    CodecError::invalid(
        what,
        0,
        format!("expected a payload of 1, 2, 4 or 8 bytes, found {len}"),
    )
}

/// Appends `v` in the smallest row v2 width (1, 2, 4 or 8 bytes LE) that holds it.
pub fn encode_v2_int(v: i64, out: &mut Vec<u8>) {
    if let Ok(x) = i8::try_from(v) {
        out.extend_from_slice(&x.to_le_bytes());
    } else if let Ok(x) = i16::try_from(v) {
        out.extend_from_slice(&x.to_le_bytes());
    } else if let Ok(x) = i32::try_from(v) {
        out.extend_from_slice(&x.to_le_bytes());
    } else {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Appends `v` in the smallest row v2 width (1, 2, 4 or 8 bytes LE) that holds it.
pub fn encode_v2_uint(v: u64, out: &mut Vec<u8>) {
    if let Ok(x) = u8::try_from(v) {
        out.push(x);
    } else if let Ok(x) = u16::try_from(v) {
        out.extend_from_slice(&x.to_le_bytes());
    } else if let Ok(x) = u32::try_from(v) {
        out.extend_from_slice(&x.to_le_bytes());
    } else {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// Deterministic value generator (xorshift64*), shared idea with the other test modules.
    fn values(n: usize) -> Vec<u64> {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut out = vec![
            0,
            1,
            127,
            128,
            255,
            256,
            16383,
            16384,
            u64::from(u32::MAX),
            i64::MAX as u64,
            1 << 63,
            u64::MAX,
            u64::MAX - 1,
        ];
        for _ in 0..n {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            let v = s.wrapping_mul(0x2545_f491_4f6c_dd1d);
            out.push(v >> (v % 64));
        }
        out
    }

    #[test]
    fn varint_u64_round_trip_and_length() {
        for v in values(2000) {
            let mut buf = Vec::new();
            encode_varint_u64(v, &mut buf);
            assert!(buf.len() <= MAX_VARINT_LEN);
            buf.push(0xaa); // trailing byte is not consumed
            assert_eq!(decode_varint_u64(&buf).unwrap(), (v, buf.len() - 1));
        }
    }

    #[test]
    fn varint_vectors() {
        // §10.1 item 5: start_ts 459177129704947713 = 81 80 b0 c8 aa e5 d4 af 06
        let mut buf = Vec::new();
        encode_varint_u64(459_177_129_704_947_713, &mut buf);
        assert_eq!(buf, [0x81, 0x80, 0xb0, 0xc8, 0xaa, 0xe5, 0xd4, 0xaf, 0x06]);
        buf.clear();
        encode_varint_u64(u64::MAX, &mut buf);
        assert_eq!(
            buf,
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
        // zigzag: 100 -> 200 = c8 01 (§10.2 row v1 vector)
        buf.clear();
        encode_varint_i64(100, &mut buf);
        assert_eq!(buf, [0xc8, 0x01]);
        buf.clear();
        encode_varint_i64(-1, &mut buf);
        assert_eq!(buf, [0x01]);
    }

    #[test]
    fn varint_i64_round_trip() {
        for v in values(2000) {
            for v in [v as i64, (v as i64).wrapping_neg(), i64::MIN, i64::MAX] {
                let mut buf = Vec::new();
                encode_varint_i64(v, &mut buf);
                assert_eq!(decode_varint_i64(&buf).unwrap(), (v, buf.len()));
            }
        }
    }

    #[test]
    fn varint_malformed() {
        assert!(matches!(
            decode_varint_u64(&[]),
            Err(CodecError::Truncated { .. })
        ));
        assert!(matches!(
            decode_varint_u64(&[0x80, 0x80]),
            Err(CodecError::Truncated { .. })
        ));
        // 10th byte > 1 overflows
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(matches!(
            decode_varint_u64(&over),
            Err(CodecError::Invalid { .. })
        ));
        // 11 bytes
        let long = [0x80u8; 11];
        assert!(decode_varint_u64(&long).is_err());
        // every truncation of a long varint errors
        let mut buf = Vec::new();
        encode_varint_u64(u64::MAX, &mut buf);
        for cut in 0..buf.len() {
            assert!(decode_varint_u64(&buf[..cut]).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn cmp_i64_vectors_and_order() {
        // §10.2
        assert_eq!(
            encode_cmp_i64(-1),
            [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(encode_cmp_i64(1), [0x80, 0, 0, 0, 0, 0, 0, 1]);
        let mut vs: Vec<i64> = values(500).into_iter().map(|v| v as i64).collect();
        vs.extend([i64::MIN, i64::MAX, 0, -1]);
        vs.sort();
        for w in vs.windows(2) {
            assert!(encode_cmp_i64(w[0]) <= encode_cmp_i64(w[1]));
        }
        for v in vs {
            assert_eq!(decode_cmp_i64(&encode_cmp_i64(v)).unwrap(), v);
        }
        assert!(decode_cmp_i64(&[0; 7]).is_err());
    }

    #[test]
    fn cmp_u64_and_desc() {
        for v in values(500) {
            assert_eq!(decode_cmp_u64(&encode_cmp_u64(v)).unwrap(), v);
            assert_eq!(decode_u64_desc(&encode_u64_desc(v)).unwrap(), v);
        }
        // §10.1 item 5: commit_ts 459177129704947714 as descending bytes
        assert_eq!(
            encode_u64_desc(459_177_129_704_947_714),
            [0xf9, 0xa0, 0xac, 0xd5, 0x56, 0xf3, 0xff, 0xfd]
        );
        assert!(decode_cmp_u64(&[1]).is_err());
        assert!(decode_u64_desc(&[]).is_err());
    }

    #[test]
    fn cmp_f64_vectors_order_round_trip() {
        // §10.2 derived vectors
        assert_eq!(encode_cmp_f64(1.0), [0xbf, 0xf0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            encode_cmp_f64(-1.0),
            [0x40, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(encode_cmp_f64(2.0), [0xc0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(encode_cmp_f64(0.0), [0x80, 0, 0, 0, 0, 0, 0, 0]);
        let mut fs = vec![
            f64::NEG_INFINITY,
            -1e300,
            -1.5,
            -f64::MIN_POSITIVE,
            0.0,
            f64::MIN_POSITIVE,
            0.1,
            1.0,
            3.5e10,
            f64::MAX,
            f64::INFINITY,
        ];
        for v in values(300) {
            fs.push(f64::from_bits(v));
        }
        fs.retain(|f| !f.is_nan());
        fs.push(-0.0);
        fs.sort_by(f64::total_cmp);
        for w in fs.windows(2) {
            assert!(
                encode_cmp_f64(w[0]) <= encode_cmp_f64(w[1]),
                "{} {}",
                w[0],
                w[1]
            );
        }
        for f in fs {
            assert_eq!(
                decode_cmp_f64(&encode_cmp_f64(f)).unwrap().to_bits(),
                f.to_bits()
            );
        }
        let nan = f64::NAN;
        assert!(decode_cmp_f64(&encode_cmp_f64(nan)).unwrap().is_nan());
        assert_eq!(
            decode_cmp_f64(&encode_cmp_f64(-0.0)).unwrap().to_bits(),
            (-0.0f64).to_bits()
        );
        assert!(decode_cmp_f64(&[0x80; 5]).is_err());
    }

    #[test]
    fn v2_int_widths() {
        let cases: &[(i64, usize)] = &[
            (0, 1),
            (-128, 1),
            (127, 1),
            (128, 2),
            (-129, 2),
            (32767, 2),
            (32768, 4),
            (-2_147_483_648, 4),
            (2_147_483_648, 8),
            (i64::MIN, 8),
            (i64::MAX, 8),
        ];
        for &(v, w) in cases {
            let mut buf = Vec::new();
            encode_v2_int(v, &mut buf);
            assert_eq!(buf.len(), w, "{v}");
            assert_eq!(decode_v2_int(&buf).unwrap(), v);
        }
        // §10.1 item 3: TIME 4:00:00 = 14400000000000 ns = 00 80 e2 c2 18 0d 00 00
        let mut buf = Vec::new();
        encode_v2_int(14_400_000_000_000, &mut buf);
        assert_eq!(buf, [0x00, 0x80, 0xe2, 0xc2, 0x18, 0x0d, 0x00, 0x00]);
        for v in values(1000) {
            let mut buf = Vec::new();
            encode_v2_int(v as i64, &mut buf);
            assert_eq!(decode_v2_int(&buf).unwrap(), v as i64);
        }
    }

    #[test]
    fn v2_uint_widths() {
        let cases: &[(u64, usize)] = &[
            (0, 1),
            (255, 1),
            (256, 2),
            (65535, 2),
            (65536, 4),
            (u64::from(u32::MAX), 4),
            (1 << 32, 8),
            (u64::MAX, 8),
        ];
        for &(v, w) in cases {
            let mut buf = Vec::new();
            encode_v2_uint(v, &mut buf);
            assert_eq!(buf.len(), w, "{v}");
            assert_eq!(decode_v2_uint(&buf).unwrap(), v);
        }
        // §10.1 item 3: TIMESTAMP(6) packed 1840446893366133311 = 3f 42 0f cb b2 94 8a 19
        let mut buf = Vec::new();
        encode_v2_uint(1_840_446_893_366_133_311, &mut buf);
        assert_eq!(buf, [0x3f, 0x42, 0x0f, 0xcb, 0xb2, 0x94, 0x8a, 0x19]);
        for v in values(1000) {
            let mut buf = Vec::new();
            encode_v2_uint(v, &mut buf);
            assert_eq!(decode_v2_uint(&buf).unwrap(), v);
        }
    }

    #[test]
    fn v2_bad_widths() {
        for len in [0usize, 3, 5, 6, 7, 9, 16] {
            let buf = vec![0u8; len];
            let err = decode_v2_int(&buf).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "row v2 int at offset 0: expected a payload of 1, 2, 4 or 8 bytes, found {len}"
                )
            );
            assert!(decode_v2_uint(&buf).is_err());
        }
        // sign extension
        assert_eq!(decode_v2_int(&[0xff]).unwrap(), -1);
        assert_eq!(decode_v2_uint(&[0xff]).unwrap(), 255);
        assert_eq!(decode_v2_int(&[0x00, 0x80]).unwrap(), -32768);
    }
}
