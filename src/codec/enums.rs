//! ENUM, SET, BIT (spec §7.6, §7.7) and VECTOR(FLOAT32) (spec §7.9) values.
//!
//! Sources: TiDB `pkg/types/enum.go`, `pkg/types/set.go`, `pkg/types/binary_literal.go`,
//! `pkg/types/vector.go` (`VectorFloat32`, `String`, `PeekBytesAsVectorFloat32`).
//!
//! ```text
//! ENUM   : u64 1-based index into Elems; 0 = the empty/error value ''
//! SET    : u64 bitmask; bit i = Elems[i]; text = members joined by ',' in element order
//! BIT(n) : u64; presented as big-endian bytes of width (n + 7) / 8
//! VECTOR : u32 LE count ‖ count × f32 LE          (row v2 payload, datum flag 20 payload)
//! ```
use std::fmt::Write as _;

use super::{array_at, CodecError, Result};

/// The name of ENUM value `index` (1-based; 0 is the empty string).
///
/// # Errors
/// `index` above the number of elements.
pub fn enum_name<S: AsRef<str>>(elems: &[S], index: u64) -> Result<&str> {
    if index == 0 {
        return Ok("");
    }
    usize::try_from(index - 1)
        .ok()
        .and_then(|i| elems.get(i))
        .map(AsRef::as_ref)
        .ok_or_else(|| {
            CodecError::invalid(
                "enum value",
                0,
                format!("index {index} is outside 0..={}", elems.len()),
            )
        })
}

/// Appends the SET text of `mask` (member names joined by `,` in element order) to `out`.
///
/// # Errors
/// A bit set for which there is no element.
pub fn write_set_names<S: AsRef<str>>(elems: &[S], mask: u64, out: &mut String) -> Result<()> {
    if elems.len() < 64 && mask >> elems.len() != 0 {
        return Err(CodecError::invalid(
            "set value",
            0,
            format!(
                "bitmask 0x{mask:x} has bits beyond its {} elements",
                elems.len()
            ),
        ));
    }
    let mut first = true;
    for (i, e) in elems.iter().enumerate().take(64) {
        if mask & (1u64 << i) != 0 {
            if !first {
                out.push(',');
            }
            out.push_str(e.as_ref());
            first = false;
        }
    }
    Ok(())
}

/// The SET bitmask of the named members (test kit).
///
/// # Errors
/// A name that is not an element, or an element index of 64 or more.
pub fn encode_set<S: AsRef<str>>(elems: &[S], names: &[&str]) -> Result<u64> {
    let mut mask = 0u64;
    for name in names {
        let i = elems
            .iter()
            .position(|e| e.as_ref() == *name)
            .filter(|&i| i < 64)
            .ok_or_else(|| {
                CodecError::unencodable("set value", format!("{name:?} is not a member"))
            })?;
        mask |= 1 << i;
    }
    Ok(mask)
}

/// A BIT value as big-endian bytes (at most 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BitBytes {
    buf: [u8; 8],
    len: u8,
}

impl BitBytes {
    /// The bytes, most significant first.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf
            .get(8 - usize::from(self.len)..)
            .unwrap_or_default()
    }
}

/// `value` as the big-endian bytes of a BIT(`flen`) column: width `(flen + 7) / 8`.
///
/// # Errors
/// `flen` outside 1..=64, or a value that does not fit the width.
pub fn bit_to_bytes(value: u64, flen: u32) -> Result<BitBytes> {
    if !(1..=64).contains(&flen) {
        return Err(CodecError::invalid(
            "bit value",
            0,
            format!("expected a BIT width of 1..=64, found {flen}"),
        ));
    }
    let width = flen.div_ceil(8);
    if width < 8 && value >> (width * 8) != 0 {
        return Err(CodecError::invalid(
            "bit value",
            0,
            format!("value 0x{value:x} does not fit in {width} bytes of BIT({flen})"),
        ));
    }
    Ok(BitBytes {
        buf: value.to_be_bytes(),
        len: width as u8,
    })
}

/// The u64 of big-endian BIT bytes (inverse of [`bit_to_bytes`]).
///
/// # Errors
/// More than 8 bytes.
pub fn bit_from_bytes(bytes: &[u8]) -> Result<u64> {
    if bytes.len() > 8 {
        return Err(CodecError::invalid(
            "bit value",
            0,
            format!("expected at most 8 bytes, found {}", bytes.len()),
        ));
    }
    Ok(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// A zero-copy VECTOR(FLOAT32) value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VectorF32<'a> {
    /// The f32 LE elements (without the count).
    elements: &'a [u8],
}

impl<'a> VectorF32<'a> {
    /// Views a complete payload `count ‖ elements`; its length must be `4 + 4 * count`.
    ///
    /// # Errors
    /// A missing count or a length that does not match it.
    pub fn from_payload(payload: &'a [u8]) -> Result<Self> {
        let count = u32::from_le_bytes(array_at::<4>(payload, 0, "vector: element count")?);
        let expected = (count as usize)
            .checked_mul(4)
            .and_then(|n| n.checked_add(4));
        if expected != Some(payload.len()) {
            return Err(CodecError::invalid(
                "vector",
                0,
                format!(
                    "{count} elements need {} bytes, found {}",
                    u64::from(count) * 4 + 4,
                    payload.len()
                ),
            ));
        }
        Ok(VectorF32 {
            elements: payload.get(4..).unwrap_or_default(),
        })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.elements.len() / 4
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// Element `i`.
    pub fn get(&self, i: usize) -> Option<f32> {
        let start = i.checked_mul(4)?;
        let b = self.elements.get(start..start.checked_add(4)?)?;
        <[u8; 4]>::try_from(b).ok().map(f32::from_le_bytes)
    }

    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = f32> + 'a {
        self.elements
            .chunks_exact(4)
            .filter_map(|c| <[u8; 4]>::try_from(c).ok().map(f32::from_le_bytes))
    }

    /// Appends TiDB's text form: `[1,2.5,-3]` (shortest f32 digits, no exponent).
    pub fn write_text(&self, out: &mut String) {
        out.push('[');
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{v}");
        }
        out.push(']');
    }
}

/// Decodes a row v2 VECTOR(FLOAT32) payload (same as [`VectorF32::from_payload`]).
///
/// # Errors
/// As [`VectorF32::from_payload`].
pub fn decode_v2_vector_f32(payload: &[u8]) -> Result<VectorF32<'_>> {
    VectorF32::from_payload(payload)
}

/// Appends `count ‖ elements` for `values`.
///
/// # Errors
/// [`CodecError::Unencodable`] for more than `u32::MAX` elements.
pub fn encode_vector_f32(values: &[f32], out: &mut Vec<u8>) -> Result<()> {
    let count = u32::try_from(values.len()).map_err(|_| CodecError::Unencodable {
        what: "vector",
        reason: format!("{} elements exceed the format's u32 count", values.len()),
    })?;
    out.extend_from_slice(&count.to_le_bytes());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn enums() {
        // §10.1 item 3: ENUM ('y','n') value 'n' <-> 2
        let elems = ["y".to_string(), "n".to_string()];
        assert_eq!(enum_name(&elems, 2).unwrap(), "n");
        assert_eq!(enum_name(&elems, 1).unwrap(), "y");
        assert_eq!(enum_name(&elems, 0).unwrap(), "");
        assert_eq!(
            enum_name(&elems, 3).unwrap_err().to_string(),
            "enum value at offset 0: index 3 is outside 0..=2"
        );
        assert!(enum_name(&elems, u64::MAX).is_err());
        assert!(enum_name::<String>(&[], 1).is_err());
    }

    #[test]
    fn sets() {
        // §10.1 item 3: SET ('n1','n2') 'n1' <-> 1
        let elems = ["n1", "n2", "n3"];
        let mut s = String::new();
        write_set_names(&elems, 1, &mut s).unwrap();
        assert_eq!(s, "n1");
        s.clear();
        write_set_names(&elems, 0b101, &mut s).unwrap();
        assert_eq!(s, "n1,n3");
        s.clear();
        write_set_names(&elems, 0, &mut s).unwrap();
        assert_eq!(s, "");
        assert!(write_set_names(&elems, 0b1000, &mut s).is_err());
        assert_eq!(encode_set(&elems, &["n3", "n1"]).unwrap(), 0b101);
        assert!(encode_set(&elems, &["zz"]).is_err());
        let many: Vec<String> = (0..64).map(|i| format!("e{i}")).collect();
        s.clear();
        write_set_names(&many, u64::MAX, &mut s).unwrap();
        assert_eq!(s.split(',').count(), 64);
        assert!(s.ends_with("e62,e63"));
    }

    #[test]
    fn bits() {
        // §10.1 item 3: BIT(24) NewBinaryLiteralFromUint(3223600, 3) <-> 3223600
        let b = bit_to_bytes(3_223_600, 24).unwrap();
        assert_eq!(b.as_bytes(), [0x31, 0x30, 0x30]);
        assert_eq!(bit_from_bytes(b.as_bytes()).unwrap(), 3_223_600);
        assert_eq!(bit_to_bytes(1, 1).unwrap().as_bytes(), [1]);
        assert_eq!(bit_to_bytes(0x1ff, 9).unwrap().as_bytes(), [1, 0xff]);
        assert_eq!(bit_to_bytes(u64::MAX, 64).unwrap().as_bytes(), [0xff; 8]);
        assert!(bit_to_bytes(256, 8).is_err());
        assert!(bit_to_bytes(1, 0).is_err());
        assert!(bit_to_bytes(1, 65).is_err());
        assert!(bit_from_bytes(&[0; 9]).is_err());
        assert_eq!(bit_from_bytes(&[]).unwrap(), 0);
    }

    #[test]
    fn vectors() {
        let mut payload = Vec::new();
        encode_vector_f32(&[1.0, 2.5, -3.0, 0.1], &mut payload).unwrap();
        assert_eq!(&payload[..4], &[4, 0, 0, 0]);
        let v = decode_v2_vector_f32(&payload).unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(v.get(1), Some(2.5));
        assert_eq!(v.get(4), None);
        assert_eq!(v.iter().collect::<Vec<_>>(), [1.0, 2.5, -3.0, 0.1]);
        let mut s = String::new();
        v.write_text(&mut s);
        assert_eq!(s, "[1,2.5,-3,0.1]");
        let empty = VectorF32::from_payload(&[0, 0, 0, 0]).unwrap();
        assert!(empty.is_empty());
        let mut s = String::new();
        empty.write_text(&mut s);
        assert_eq!(s, "[]");
        for cut in 0..payload.len() {
            assert!(VectorF32::from_payload(&payload[..cut]).is_err());
        }
        let mut long = payload.clone();
        long.push(0);
        assert_eq!(
            VectorF32::from_payload(&long).unwrap_err().to_string(),
            "vector at offset 0: 4 elements need 20 bytes, found 21"
        );
        assert!(VectorF32::from_payload(&[0xff, 0xff, 0xff, 0xff]).is_err());
    }
}
