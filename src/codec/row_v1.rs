//! Row format v1 (spec §6.3): alternating column-id and value datums.
//!
//! Sources: TiDB `pkg/tablecodec/tablecodec.go` (`EncodeOldRow`, `DecodeRowWithMap`,
//! `CutRowNew`); TiKV `components/tidb_query_datatype/src/codec/table.rs`.
//!
//! ```text
//! row   = { colID datum ‖ value datum }*       colID: varint datum (flag 8), value flavour
//! empty = 00                                   (a single NilFlag)
//! e.g. {1: 100, 2: "abc"} = 08 02 | 08 c8 01 | 08 04 | 02 06 61 62 63
//! ```
//! Values are the *flattened* column values: DATE/DATETIME/TIMESTAMP are `Uint` packed times,
//! TIME is `Int` nanoseconds, ENUM/SET/BIT are `Uint`, FLOAT is `Float`.
use super::datum::{datum_len, decode_datum, encode_value_datum, Datum, NIL_FLAG};
use super::row_v2::CODEC_VER;
use super::{CodecError, Result};

/// A lazily parsed row v1 value; nothing is decoded until asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowV1<'a> {
    /// The pairs (empty for the `00` empty row).
    bytes: &'a [u8],
}

impl<'a> RowV1<'a> {
    /// Wraps a row v1 value. The single byte `00` is the empty row.
    ///
    /// # Errors
    /// An empty input or a row v2 version byte.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self> {
        match bytes {
            [] => Err(CodecError::Truncated {
                what: "row v1",
                offset: 0,
                needed: 1,
                available: 0,
            }),
            [NIL_FLAG] => Ok(RowV1 { bytes: &[] }),
            [CODEC_VER, ..] => Err(CodecError::invalid(
                "row v1",
                0,
                "found the row v2 version byte 0x80",
            )),
            _ => Ok(RowV1 { bytes }),
        }
    }

    /// The value of `column_id` (linear scan): `None` if the column is not stored,
    /// `Some(Datum::Null)` if stored as NULL. The first occurrence wins.
    ///
    /// # Errors
    /// A malformed pair before or at the column.
    pub fn get(&self, column_id: i64) -> Result<Option<Datum<'a>>> {
        let mut pos = 0usize;
        while pos < self.bytes.len() {
            let (id, id_len) = self.column_id_at(pos)?;
            let value_at = pos + id_len;
            let rest = self.bytes.get(value_at..).unwrap_or_default();
            if id == column_id {
                let (d, _) = decode_datum(rest).map_err(|e| e.offset_by(value_at))?;
                return Ok(Some(d));
            }
            pos = value_at + datum_len(rest).map_err(|e| e.offset_by(value_at))?;
        }
        Ok(None)
    }

    /// All `(column_id, value)` pairs in stored order; stops after the first error.
    pub fn iter(&self) -> RowV1Iter<'a> {
        RowV1Iter {
            row: *self,
            pos: 0,
            failed: false,
        }
    }

    /// Whether the row stores no columns.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn column_id_at(&self, pos: usize) -> Result<(i64, usize)> {
        let rest = self.bytes.get(pos..).unwrap_or_default();
        let (d, n) = decode_datum(rest).map_err(|e| e.offset_by(pos))?;
        match d {
            Datum::Int(id) => Ok((id, n)),
            other => Err(CodecError::invalid(
                "row v1: column id",
                pos,
                format!("expected an int datum, found {other:?}"),
            )),
        }
    }
}

/// Iterator returned by [`RowV1::iter`].
#[derive(Debug, Clone)]
pub struct RowV1Iter<'a> {
    row: RowV1<'a>,
    pos: usize,
    failed: bool,
}

impl<'a> Iterator for RowV1Iter<'a> {
    type Item = Result<(i64, Datum<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.row.bytes.len() {
            return None;
        }
        let result = (|| {
            let (id, id_len) = self.row.column_id_at(self.pos)?;
            let value_at = self.pos + id_len;
            let rest = self.row.bytes.get(value_at..).unwrap_or_default();
            let (d, n) = decode_datum(rest).map_err(|e| e.offset_by(value_at))?;
            self.pos = value_at + n;
            Ok((id, d))
        })();
        self.failed = result.is_err();
        Some(result)
    }
}

/// Encodes a row v1 value from `(column_id, value)` pairs, value flavour; no pairs gives the
/// empty row `00`.
///
/// # Errors
/// As [`encode_value_datum`].
pub fn encode_row_v1(columns: &[(i64, Datum<'_>)]) -> Result<Vec<u8>> {
    if columns.is_empty() {
        return Ok(vec![NIL_FLAG]);
    }
    let mut out = Vec::new();
    for (id, value) in columns {
        encode_value_datum(&Datum::Int(*id), &mut out)?;
        encode_value_datum(value, &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn derived_vector() {
        // §10.2: row v1 {col1: INT 100, col2: 'abc'}
        let row = h("08 02 08 c8 01 08 04 02 06 61 62 63");
        let r = RowV1::from_bytes(&row).unwrap();
        assert_eq!(r.get(1).unwrap(), Some(Datum::Int(100)));
        assert_eq!(r.get(2).unwrap(), Some(Datum::Bytes(Cow::Borrowed(b"abc"))));
        assert_eq!(r.get(3).unwrap(), None);
        let all: Vec<_> = r.iter().map(Result::unwrap).collect();
        assert_eq!(
            all,
            [
                (1, Datum::Int(100)),
                (2, Datum::Bytes(Cow::Borrowed(b"abc")))
            ]
        );
        let enc = encode_row_v1(&[
            (1, Datum::Int(100)),
            (2, Datum::Bytes(Cow::Borrowed(b"abc"))),
        ])
        .unwrap();
        assert_eq!(enc, row);
    }

    #[test]
    fn empty_row_and_nulls() {
        let r = RowV1::from_bytes(&[0]).unwrap();
        assert!(r.is_empty());
        assert_eq!(r.get(1).unwrap(), None);
        assert_eq!(r.iter().count(), 0);
        assert_eq!(encode_row_v1(&[]).unwrap(), [0]);
        let row = encode_row_v1(&[
            (7, Datum::Null),
            (8, Datum::Uint(1_847_957_988_896_145_408)),
        ])
        .unwrap();
        let r = RowV1::from_bytes(&row).unwrap();
        assert_eq!(r.get(7).unwrap(), Some(Datum::Null));
        assert_eq!(
            r.get(8).unwrap(),
            Some(Datum::Uint(1_847_957_988_896_145_408))
        );
    }

    #[test]
    fn rejects_v2_and_empty() {
        assert!(RowV1::from_bytes(&[]).is_err());
        assert_eq!(
            RowV1::from_bytes(&[0x80, 0]).unwrap_err().to_string(),
            "row v1 at offset 0: found the row v2 version byte 0x80"
        );
    }

    #[test]
    fn malformed_rows_error_never_panic() {
        let row = encode_row_v1(&[
            (1, Datum::Int(-5)),
            (2, Datum::Decimal("12.50".parse().unwrap())),
            (3, Datum::Float(2.5)),
            (4, Datum::Bytes(Cow::Borrowed(b"hello"))),
        ])
        .unwrap();
        let r = RowV1::from_bytes(&row).unwrap();
        assert_eq!(
            r.get(4).unwrap(),
            Some(Datum::Bytes(Cow::Borrowed(b"hello")))
        );
        assert_eq!(
            r.get(2).unwrap().unwrap(),
            Datum::Decimal("12.50".parse().unwrap())
        );
        let boundaries: Vec<usize> = (1..=3)
            .map(|n| {
                encode_row_v1(
                    &[
                        (1, Datum::Int(-5)),
                        (2, Datum::Decimal("12.50".parse().unwrap())),
                        (3, Datum::Float(2.5)),
                    ][..n],
                )
                .unwrap()
                .len()
            })
            .collect();
        for cut in 1..row.len() {
            let r = RowV1::from_bytes(&row[..cut]).unwrap();
            if boundaries.contains(&cut) {
                assert_eq!(r.get(4).unwrap(), None, "cut {cut}");
                assert!(r.iter().all(|x| x.is_ok()), "cut {cut}");
            } else {
                assert!(r.get(4).is_err(), "cut {cut}");
                assert!(r.iter().any(|x| x.is_err()), "cut {cut}");
            }
        }
        // a column id that is not an int
        let bad = h("02 00 08 02");
        let r = RowV1::from_bytes(&bad).unwrap();
        assert_eq!(
            r.get(1).unwrap_err().to_string(),
            "row v1: column id at offset 0: expected an int datum, found Bytes([])"
        );
        let mut it = r.iter();
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
        // offsets of errors inside later values are absolute
        let bad = h("08 02 05 01");
        let err = RowV1::from_bytes(&bad).unwrap().get(1).unwrap_err();
        assert_eq!(err.offset(), Some(3));
    }
}
