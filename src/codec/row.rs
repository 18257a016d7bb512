//! A TiDB row value in either format, picked by its first byte: row format v2 (`0x80`, written
//! since TiDB 4.0; [`super::row_v2`]) or v1 (a list of datums; [`super::row_v1`]).

use super::row_v1::RowV1;
use super::row_v2::RowSlice;
use super::{CodecError, Result};

/// The first byte of every row format v2 value (`rowcodec.CodecVer`).
pub const ROW_V2_VERSION: u8 = 0x80;

/// A parsed row value.
#[derive(Debug)]
pub enum Row<'a> {
    /// Row format v2.
    V2(RowSlice<'a>),
    /// Row format v1.
    V1(RowV1<'a>),
}

impl<'a> Row<'a> {
    /// Parses (and validates the header of) a row value of either format.
    ///
    /// # Errors
    /// An empty value, or the format's own errors.
    pub fn parse(value: &'a [u8]) -> Result<Self> {
        match value.first() {
            Some(&ROW_V2_VERSION) => RowSlice::from_bytes(value).map(Row::V2),
            Some(_) => RowV1::from_bytes(value).map(Row::V1),
            None => Err(CodecError::Truncated {
                what: "row value",
                offset: 0,
                needed: 1,
                available: 0,
            }),
        }
    }

    /// Whether `value` is in row format v2 (an empty value is not).
    pub fn is_v2(value: &[u8]) -> bool {
        value.first() == Some(&ROW_V2_VERSION)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::codec::datum::Datum;
    use crate::codec::row_v1::encode_row_v1;
    use crate::codec::row_v2::encode_row_v2;

    #[test]
    fn each_format_is_recognised() {
        let v2 = encode_row_v2(&[(1, Some(&[7][..]))]).unwrap();
        assert!(Row::is_v2(&v2));
        assert!(matches!(Row::parse(&v2), Ok(Row::V2(_))));
        let v1 = encode_row_v1(&[(1, Datum::Int(7))]).unwrap();
        assert!(!Row::is_v2(&v1));
        match Row::parse(&v1).unwrap() {
            Row::V1(row) => assert_eq!(row.get(1).unwrap(), Some(Datum::Int(7))),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Row::parse(&[]),
            Err(CodecError::Truncated {
                what: "row value",
                ..
            })
        ));
        assert!(Row::parse(&[0x80, 0xff]).is_err());
    }
}
