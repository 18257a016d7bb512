//! Integer encodings shared by every SST structure (RocksDB `util/coding.h`).
//!
//! ```text
//! varint:   7 data bits per byte, least significant group first, high bit = "more bytes follow"
//!           varint32 takes at most 5 bytes, varint64 at most 10
//! fixed32:  4 bytes little-endian        fixed64: 8 bytes little-endian
//! zigzag:   signed -> unsigned as (v << 1) ^ (v >> 63), then varint64 (index size deltas)
//! ```
//!
//! Readers take `&mut &[u8]` and advance it past what they consumed; they return `None` on truncated
//! or over-long input and never panic, so callers turn `None` into an error that says where.

/// Reads a varint64, advancing `input`. `None` if it is truncated, longer than 10 bytes, or
/// overflows 64 bits.
pub(crate) fn read_varint64(input: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, &byte) in input.iter().enumerate().take(10) {
        let bits = u64::from(byte & 0x7f);
        // The 10th byte may only hold the top bit of a u64.
        if i == 9 && bits > 1 {
            return None;
        }
        value |= bits << (7 * i);
        if byte & 0x80 == 0 {
            *input = input.get(i + 1..)?;
            return Some(value);
        }
    }
    None
}

/// Reads a varint32 (at most 5 bytes, value must fit in a u32), advancing `input`.
pub(crate) fn read_varint32(input: &mut &[u8]) -> Option<u32> {
    // Fast path: almost every length in a block is below 128.
    if let Some(&byte) = input.first() {
        if byte < 0x80 {
            *input = input.get(1..)?;
            return Some(u32::from(byte));
        }
    }
    let mut probe = *input;
    let value = read_varint64(&mut probe)?;
    let used = input.len() - probe.len();
    if used > 5 {
        return None;
    }
    let value = u32::try_from(value).ok()?;
    *input = probe;
    Some(value)
}

/// Reads a zigzag-encoded signed varint64 (RocksDB `GetVarsignedint64`).
pub(crate) fn read_varsigned64(input: &mut &[u8]) -> Option<i64> {
    let raw = read_varint64(input)?;
    // Zigzag: the low bit is the sign.
    Some(((raw >> 1) as i64) ^ -((raw & 1) as i64))
}

/// Splits `n` bytes off the front of `input`.
pub(crate) fn read_bytes<'a>(input: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, tail) = input.split_at_checked(n)?;
    *input = tail;
    Some(head)
}

/// Reads a varint32 length and then that many bytes (RocksDB `GetLengthPrefixedSlice`).
pub(crate) fn read_length_prefixed<'a>(input: &mut &'a [u8]) -> Option<&'a [u8]> {
    let mut probe = *input;
    let len = read_varint32(&mut probe)?;
    let bytes = read_bytes(&mut probe, usize::try_from(len).ok()?)?;
    *input = probe;
    Some(bytes)
}

/// Decodes a little-endian u32 from exactly the first 4 bytes of `bytes`.
pub(crate) fn fixed32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?))
}

/// Decodes a little-endian u64 from exactly the first 8 bytes of `bytes`.
pub(crate) fn fixed64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?))
}

/// Appends `value` as a varint64.
pub(crate) fn put_varint64(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends `value` as a varint32.
pub(crate) fn put_varint32(out: &mut Vec<u8>, value: u32) {
    put_varint64(out, u64::from(value));
}

/// Appends `value` zigzag-encoded as a varint64 (RocksDB `PutVarsignedint64`).
pub(crate) fn put_varsigned64(out: &mut Vec<u8>, value: i64) {
    put_varint64(out, ((value << 1) ^ (value >> 63)) as u64);
}

/// Appends a varint32 length and the bytes.
pub(crate) fn put_length_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint64(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
// Tests may index and unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn varint64_round_trip_and_lengths() {
        let cases: [(u64, usize); 8] = [
            (0, 1),
            (127, 1),
            (128, 2),
            (300, 2),
            (16_383, 2),
            (16_384, 3),
            (u64::from(u32::MAX), 5),
            (u64::MAX, 10),
        ];
        for (value, len) in cases {
            let mut buf = Vec::new();
            put_varint64(&mut buf, value);
            assert_eq!(buf.len(), len, "encoded length of {value}");
            let mut input = &buf[..];
            assert_eq!(read_varint64(&mut input), Some(value));
            assert!(input.is_empty());
        }
    }

    #[test]
    fn varint_golden_bytes() {
        let mut buf = Vec::new();
        put_varint32(&mut buf, 300);
        assert_eq!(buf, [0xac, 0x02]);
        let mut input: &[u8] = &[0xac, 0x02, 0x55];
        assert_eq!(read_varint32(&mut input), Some(300));
        assert_eq!(input, [0x55]);
    }

    #[test]
    fn varint_rejects_truncated_overlong_and_overflow() {
        let mut input: &[u8] = &[0x80, 0x80];
        assert_eq!(read_varint64(&mut input), None);
        assert_eq!(input.len(), 2, "a failed read leaves the input in place");
        // 11 bytes: too long for a varint64.
        let mut input: &[u8] = &[0xff; 11];
        assert_eq!(read_varint64(&mut input), None);
        // 10th byte with more than the top bit.
        let mut bytes = vec![0xff; 9];
        bytes.push(0x02);
        assert_eq!(read_varint64(&mut &bytes[..]), None);
        // Fits 5 bytes but not 32 bits.
        let mut input: &[u8] = &[0xff, 0xff, 0xff, 0xff, 0x1f];
        assert_eq!(read_varint32(&mut input), None);
        let mut input: &[u8] = &[0xff, 0xff, 0xff, 0xff, 0x0f];
        assert_eq!(read_varint32(&mut input), Some(u32::MAX));
        let mut input: &[u8] = &[];
        assert_eq!(read_varint32(&mut input), None);
    }

    #[test]
    fn zigzag_round_trip() {
        for value in [
            0i64,
            1,
            -1,
            63,
            -64,
            1 << 40,
            -(1 << 40),
            i64::MAX,
            i64::MIN,
        ] {
            let mut buf = Vec::new();
            put_varsigned64(&mut buf, value);
            assert_eq!(read_varsigned64(&mut &buf[..]), Some(value));
        }
        let mut buf = Vec::new();
        put_varsigned64(&mut buf, -1);
        assert_eq!(buf, [0x01]);
    }

    #[test]
    fn length_prefixed_and_fixed() {
        let mut buf = Vec::new();
        put_length_prefixed(&mut buf, b"abc");
        buf.push(9);
        let mut input = &buf[..];
        assert_eq!(read_length_prefixed(&mut input), Some(&b"abc"[..]));
        assert_eq!(input, [9]);
        let mut short: &[u8] = &[5, b'a'];
        assert_eq!(read_length_prefixed(&mut short), None);
        assert_eq!(short.len(), 2);
        assert_eq!(fixed32(&[1, 2, 3, 4, 5]), Some(0x0403_0201));
        assert_eq!(fixed32(&[1, 2, 3]), None);
        assert_eq!(
            fixed64(&[1, 0, 0, 0, 0, 0, 0, 0x80]),
            Some(0x8000_0000_0000_0001)
        );
        assert_eq!(fixed64(&[0; 7]), None);
    }
}
