//! Memcomparable bytes (spec §4.2), the MyRocks-style group encoding TiKV uses for keys.
//!
//! Source format: TiKV `components/tikv_util/src/codec/bytes.rs` (`encode_bytes`,
//! `decode_bytes`), TiDB `pkg/util/codec/bytes.go`.
//!
//! ```text
//! input  : b0 b1 … b(n-1)
//! output : [8 data bytes][marker] [8 data bytes][marker] … [last group][marker]
//!          marker 0xFF       = all 8 bytes are data, another group follows
//!          marker 0xFF - pad = the first 8 - pad bytes are data (pad 1..=8), the rest are 0x00
//!          e.g. []          -> 00 00 00 00 00 00 00 00 f7
//!               [01 02 03]  -> 01 02 03 00 00 00 00 00 fa
//! descending: every output byte inverted.
//! ```
use super::{slice_at, CodecError, Result};

const GROUP_SIZE: usize = 8;
const UNIT_SIZE: usize = GROUP_SIZE + 1;
const MARKER: u8 = 0xff;
const PAD: u8 = 0x00;

/// Length of the ascending or descending encoding of `input_len` bytes.
pub const fn encoded_len(input_len: usize) -> usize {
    (input_len / GROUP_SIZE + 1) * UNIT_SIZE
}

/// Appends the ascending memcomparable encoding of `input` to `out`.
pub fn encode_bytes(input: &[u8], out: &mut Vec<u8>) {
    encode(input, out, false);
}

/// Appends the descending encoding (every byte of [`encode_bytes`] inverted) to `out`.
pub fn encode_bytes_desc(input: &[u8], out: &mut Vec<u8>) {
    encode(input, out, true);
}

fn encode(input: &[u8], out: &mut Vec<u8>, desc: bool) {
    let start = out.len();
    out.reserve(encoded_len(input.len()));
    let mut chunks = input.chunks_exact(GROUP_SIZE);
    for chunk in &mut chunks {
        out.extend_from_slice(chunk);
        out.push(MARKER);
    }
    let rest = chunks.remainder();
    let pad = GROUP_SIZE - rest.len();
    out.extend_from_slice(rest);
    out.resize(out.len() + pad, PAD);
    // pad is 1..=8, so the marker is 0xf7..=0xfe
    out.push(MARKER - pad as u8);
    if desc {
        if let Some(tail) = out.get_mut(start..) {
            tail.iter_mut().for_each(|b| *b = !*b);
        }
    }
}

/// Decodes ascending memcomparable bytes at the start of `input`, appending the decoded bytes
/// to `out`. Returns the number of input bytes consumed. On error `out` is left as it was.
///
/// # Errors
/// A truncated group, a marker below `0xf7`, or non-zero padding.
pub fn decode_bytes_into(input: &[u8], out: &mut Vec<u8>) -> Result<usize> {
    decode_into(input, out, false)
}

/// Decodes descending memcomparable bytes, as [`decode_bytes_into`].
///
/// # Errors
/// As [`decode_bytes_into`].
pub fn decode_bytes_desc_into(input: &[u8], out: &mut Vec<u8>) -> Result<usize> {
    decode_into(input, out, true)
}

/// Length of the ascending memcomparable bytes at the start of `input`, validated like
/// [`decode_bytes_into`] but without copying.
///
/// # Errors
/// As [`decode_bytes_into`].
pub fn encoded_prefix_len(input: &[u8]) -> Result<usize> {
    walk(input, false, |_| {})
}

fn decode_into(input: &[u8], out: &mut Vec<u8>, desc: bool) -> Result<usize> {
    let start = out.len();
    let result = walk(input, desc, |data| {
        if desc {
            out.extend(data.iter().map(|b| !b));
        } else {
            out.extend_from_slice(data);
        }
    });
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Walks the groups, handing the (still possibly inverted) data bytes of each to `sink`.
fn walk(input: &[u8], desc: bool, mut sink: impl FnMut(&[u8])) -> Result<usize> {
    let flip = if desc { 0xff } else { 0x00 };
    let mut offset = 0usize;
    loop {
        let unit = slice_at(input, offset, UNIT_SIZE, "memcomparable bytes: group")?;
        let (data, marker) = unit.split_at(GROUP_SIZE);
        let marker = marker.first().copied().unwrap_or(0) ^ flip;
        let marker_offset = offset + GROUP_SIZE;
        offset += UNIT_SIZE;
        if marker == MARKER {
            sink(data);
            continue;
        }
        let pad = usize::from(MARKER - marker);
        if pad > GROUP_SIZE {
            return Err(CodecError::invalid(
                "memcomparable bytes: group marker",
                marker_offset,
                format!("expected 0xf7..=0xff, found 0x{:02x}", marker ^ flip),
            ));
        }
        let (real, padding) = data.split_at(GROUP_SIZE - pad);
        if let Some(pos) = padding.iter().position(|&b| b ^ flip != PAD) {
            return Err(CodecError::invalid(
                "memcomparable bytes: group padding",
                marker_offset - pad + pos,
                format!(
                    "expected {pad} padding bytes 0x{:02x}, found 0x{:02x}",
                    PAD ^ flip,
                    padding.get(pos).copied().unwrap_or(0)
                ),
            ));
        }
        sink(real);
        return Ok(offset);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// §10.1 item 1: tikv/tikv `components/tikv_util/src/codec/bytes.rs` test pairs.
    fn vectors() -> Vec<(Vec<u8>, Vec<u8>)> {
        vec![
            (vec![], h("00 00 00 00 00 00 00 00 f7")),
            (vec![0], h("00 00 00 00 00 00 00 00 f8")),
            (vec![1, 2, 3], h("01 02 03 00 00 00 00 00 fa")),
            (vec![1, 2, 3, 0], h("01 02 03 00 00 00 00 00 fb")),
            (vec![1, 2, 3, 4, 5, 6, 7], h("01 02 03 04 05 06 07 00 fe")),
            (
                vec![0; 8],
                h("00 00 00 00 00 00 00 00 ff 00 00 00 00 00 00 00 00 f7"),
            ),
            (
                vec![1, 2, 3, 4, 5, 6, 7, 8],
                h("01 02 03 04 05 06 07 08 ff 00 00 00 00 00 00 00 00 f7"),
            ),
            (
                vec![1, 2, 3, 4, 5, 6, 7, 8, 9],
                h("01 02 03 04 05 06 07 08 ff 09 00 00 00 00 00 00 00 f8"),
            ),
        ]
    }

    #[test]
    fn ascending_vectors() {
        for (input, expected) in vectors() {
            let mut enc = Vec::new();
            encode_bytes(&input, &mut enc);
            assert_eq!(enc, expected, "{input:?}");
            assert_eq!(enc.len(), encoded_len(input.len()));
            let mut dec = vec![0xaa];
            let used = decode_bytes_into(&expected, &mut dec).unwrap();
            assert_eq!(used, expected.len());
            assert_eq!(&dec[1..], &input[..]);
            assert_eq!(encoded_prefix_len(&expected).unwrap(), expected.len());
        }
    }

    #[test]
    fn descending_vectors() {
        // §10.1 item 1 descending column
        let cases = [
            (vec![], h("ff ff ff ff ff ff ff ff 08")),
            (vec![0u8], h("ff ff ff ff ff ff ff ff 07")),
            (vec![1, 2, 3], h("fe fd fc ff ff ff ff ff 05")),
        ];
        for (input, expected) in cases {
            let mut enc = Vec::new();
            encode_bytes_desc(&input, &mut enc);
            assert_eq!(enc, expected);
            let mut dec = Vec::new();
            assert_eq!(decode_bytes_desc_into(&enc, &mut dec).unwrap(), enc.len());
            assert_eq!(dec, input);
        }
        for (input, _) in vectors() {
            let mut enc = Vec::new();
            encode_bytes_desc(&input, &mut enc);
            let mut dec = Vec::new();
            decode_bytes_desc_into(&enc, &mut dec).unwrap();
            assert_eq!(dec, input);
            // descending bytes are not valid ascending bytes
            assert!(decode_bytes_into(&enc, &mut Vec::new()).is_err());
        }
    }

    #[test]
    fn invalid_vectors() {
        // §10.1 item 1 invalid encodings
        let bad = [
            h("01 02 03 04"),
            h("00 00 00 00 00 00 00 f7"),
            h("00 00 00 00 00 00 00 00 f6"),
            h("00 00 00 00 00 00 00 01 f7"),
        ];
        for b in bad {
            let mut out = vec![7];
            assert!(decode_bytes_into(&b, &mut out).is_err(), "{b:02x?}");
            assert_eq!(out, [7], "output restored on error");
            assert!(encoded_prefix_len(&b).is_err());
        }
    }

    #[test]
    fn error_messages() {
        let err = decode_bytes_into(&h("00 00 00 00 00 00 00 00 f6"), &mut Vec::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "memcomparable bytes: group marker at offset 8: expected 0xf7..=0xff, found 0xf6"
        );
        let err = decode_bytes_into(&h("00 00 00 00 00 00 00 01 f7"), &mut Vec::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "memcomparable bytes: group padding at offset 7: expected 8 padding bytes 0x00, found 0x01"
        );
        let err =
            decode_bytes_into(&h("01 02 03 04 05 06 07 08 ff 00"), &mut Vec::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "memcomparable bytes: group needs 9 bytes at offset 9, only 1 left"
        );
    }

    #[test]
    fn every_truncation_point_errors() {
        for (_, enc) in vectors() {
            for cut in 0..enc.len() {
                let mut out = Vec::new();
                assert!(
                    decode_bytes_into(&enc[..cut], &mut out).is_err(),
                    "cut {cut}"
                );
                assert!(out.is_empty());
            }
        }
    }

    #[test]
    fn trailing_bytes_are_not_consumed_and_order_is_kept() {
        let mut s = 1u32;
        let mut inputs = Vec::new();
        for len in 0..40usize {
            let v: Vec<u8> = (0..len)
                .map(|_| {
                    s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (s >> 16) as u8 % 4
                })
                .collect();
            inputs.push(v);
        }
        for v in &inputs {
            let mut enc = Vec::new();
            encode_bytes(v, &mut enc);
            enc.extend_from_slice(b"tail");
            let mut dec = Vec::new();
            let used = decode_bytes_into(&enc, &mut dec).unwrap();
            assert_eq!(&dec, v);
            assert_eq!(&enc[used..], b"tail");
        }
        let mut sorted = inputs.clone();
        sorted.sort();
        let encs: Vec<Vec<u8>> = sorted
            .iter()
            .map(|v| {
                let mut e = Vec::new();
                encode_bytes(v, &mut e);
                e
            })
            .collect();
        for w in encs.windows(2) {
            assert!(w[0] <= w[1]);
        }
    }
}
