//! Write-CF values: TiKV's MVCC `Write` record (spec §4.4).
//!
//! Source format: TiKV `components/txn_types/src/write.rs` (`WriteRef::parse`, `to_bytes`).
//!
//! ```text
//! offset 0 : write type  'P' Put | 'D' Delete | 'L' Lock | 'R' Rollback
//! 1..      : start_ts    varint u64
//! then tagged fields, each optional, in this order when written:
//!   'v' len:u8 bytes[len]             short value (the row value, ≤ 255 bytes)
//!   'R'                               has_overlapped_rollback (no payload)
//!   'F' u64 BE                        gc_fence
//!   'l' u64 BE, varint                last_change_ts, estimated_versions_to_last_change
//!   'S' varint                        txn_source
//! an unknown tag ends parsing (forward compatibility).
//! ```
use super::number::{decode_varint_u64, encode_varint_u64};
use super::{array_at, byte_at, slice_at, CodecError, Result};

const SHORT_VALUE_PREFIX: u8 = b'v';
const FLAG_OVERLAPPED_ROLLBACK: u8 = b'R';
const GC_FENCE_PREFIX: u8 = b'F';
const LAST_CHANGE_PREFIX: u8 = b'l';
const TXN_SOURCE_PREFIX: u8 = b'S';

/// Longest inline value (`SHORT_VALUE_MAX_LEN`).
pub const SHORT_VALUE_MAX_LEN: usize = 255;

/// Kind of a write record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteType {
    /// `'P'`: a new value.
    Put,
    /// `'D'`: a deletion (seen in incremental backups).
    Delete,
    /// `'L'`: a lock record (no data change).
    Lock,
    /// `'R'`: a rollback (no data change).
    Rollback,
}

impl WriteType {
    /// The on-disk tag byte.
    pub const fn to_byte(self) -> u8 {
        match self {
            WriteType::Put => b'P',
            WriteType::Delete => b'D',
            WriteType::Lock => b'L',
            WriteType::Rollback => b'R',
        }
    }

    /// Parses the tag byte.
    pub const fn from_byte(b: u8) -> Option<Self> {
        match b {
            b'P' => Some(WriteType::Put),
            b'D' => Some(WriteType::Delete),
            b'L' => Some(WriteType::Lock),
            b'R' => Some(WriteType::Rollback),
            _ => None,
        }
    }
}

/// The `'l'` field: where the last data change of this key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LastChange {
    /// Commit ts of the last Put/Delete before this record.
    pub last_change_ts: u64,
    /// Estimated number of versions to skip to reach it.
    pub estimated_versions: u64,
}

/// A parsed write record, borrowing its short value from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WriteRecord<'a> {
    /// Put / Delete / Lock / Rollback.
    pub write_type: WriteType,
    /// Start ts of the transaction; a Put without short value has its row value in the
    /// default CF at `(key, start_ts)`.
    pub start_ts: u64,
    /// The inline row value, if any.
    pub short_value: Option<&'a [u8]>,
    /// `'R'` flag.
    pub has_overlapped_rollback: bool,
    /// `'F'` field.
    pub gc_fence: Option<u64>,
    /// `'l'` field.
    pub last_change: Option<LastChange>,
    /// `'S'` field.
    pub txn_source: Option<u64>,
}

impl<'a> WriteRecord<'a> {
    /// A record with only type and start ts set.
    pub const fn new(write_type: WriteType, start_ts: u64, short_value: Option<&'a [u8]>) -> Self {
        WriteRecord {
            write_type,
            start_ts,
            short_value,
            has_overlapped_rollback: false,
            gc_fence: None,
            last_change: None,
            txn_source: None,
        }
    }

    /// Parses a write-CF value. Tagged fields after an unknown tag are ignored, like TiKV does.
    ///
    /// # Errors
    /// Unknown write type, truncated start ts or tagged field.
    pub fn parse(input: &'a [u8]) -> Result<Self> {
        let tag = byte_at(input, 0, "write record: type")?;
        let write_type = WriteType::from_byte(tag).ok_or_else(|| {
            CodecError::invalid(
                "write record: type",
                0,
                format!("expected 'P', 'D', 'L' or 'R', found 0x{tag:02x}"),
            )
        })?;
        let rest = input.get(1..).unwrap_or_default();
        let (start_ts, n) =
            decode_varint_u64(rest).map_err(|e| relabel(e, "write record: start_ts", 1))?;
        let mut rec = WriteRecord::new(write_type, start_ts, None);
        let mut pos = 1 + n;
        while let Some(&tag) = input.get(pos) {
            pos += 1;
            match tag {
                SHORT_VALUE_PREFIX => {
                    let len = byte_at(input, pos, "write record: short value length")?;
                    let value = slice_at(
                        input,
                        pos + 1,
                        usize::from(len),
                        "write record: short value",
                    )?;
                    rec.short_value = Some(value);
                    pos += 1 + usize::from(len);
                }
                FLAG_OVERLAPPED_ROLLBACK => rec.has_overlapped_rollback = true,
                GC_FENCE_PREFIX => {
                    rec.gc_fence = Some(u64::from_be_bytes(array_at::<8>(
                        input,
                        pos,
                        "write record: gc_fence",
                    )?));
                    pos += 8;
                }
                LAST_CHANGE_PREFIX => {
                    let last_change_ts = u64::from_be_bytes(array_at::<8>(
                        input,
                        pos,
                        "write record: last_change_ts",
                    )?);
                    pos += 8;
                    let (estimated_versions, n) =
                        decode_varint_u64(input.get(pos..).unwrap_or_default())
                            .map_err(|e| relabel(e, "write record: estimated_versions", pos))?;
                    pos += n;
                    rec.last_change = Some(LastChange {
                        last_change_ts,
                        estimated_versions,
                    });
                }
                TXN_SOURCE_PREFIX => {
                    let (src, n) = decode_varint_u64(input.get(pos..).unwrap_or_default())
                        .map_err(|e| relabel(e, "write record: txn_source", pos))?;
                    pos += n;
                    rec.txn_source = Some(src);
                }
                _ => break,
            }
        }
        Ok(rec)
    }

    /// Serialises the record in TiKV's field order.
    ///
    /// # Errors
    /// A short value longer than 255 bytes.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(16 + self.short_value.map_or(0, <[u8]>::len));
        out.push(self.write_type.to_byte());
        encode_varint_u64(self.start_ts, &mut out);
        if let Some(v) = self.short_value {
            let len = u8::try_from(v.len()).map_err(|_| {
                CodecError::unencodable(
                    "write record short value",
                    format!("{} bytes, at most {SHORT_VALUE_MAX_LEN}", v.len()),
                )
            })?;
            out.push(SHORT_VALUE_PREFIX);
            out.push(len);
            out.extend_from_slice(v);
        }
        if self.has_overlapped_rollback {
            out.push(FLAG_OVERLAPPED_ROLLBACK);
        }
        if let Some(f) = self.gc_fence {
            out.push(GC_FENCE_PREFIX);
            out.extend_from_slice(&f.to_be_bytes());
        }
        if let Some(lc) = self.last_change {
            out.push(LAST_CHANGE_PREFIX);
            out.extend_from_slice(&lc.last_change_ts.to_be_bytes());
            encode_varint_u64(lc.estimated_versions, &mut out);
        }
        if let Some(s) = self.txn_source {
            out.push(TXN_SOURCE_PREFIX);
            encode_varint_u64(s, &mut out);
        }
        Ok(out)
    }
}

/// Re-labels an error of a varint read at `base` with the field it belongs to.
fn relabel(err: CodecError, what: &'static str, base: usize) -> CodecError {
    match err {
        CodecError::Truncated {
            offset,
            needed,
            available,
            ..
        } => CodecError::Truncated {
            what,
            offset: offset + base,
            needed,
            available,
        },
        CodecError::Invalid { offset, reason, .. } => CodecError::Invalid {
            what,
            offset: offset + base,
            reason,
        },
        other => other.offset_by(base),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn item5_put_vector() {
        // §10.1 item 5: Put with an inline row v2 value.
        let bytes = h("50 81 80 b0 c8 aa e5 d4 af 06 76 0a 80 00 01 00 00 00 01 01 00 01");
        let rec = WriteRecord::parse(&bytes).unwrap();
        assert_eq!(rec.write_type, WriteType::Put);
        assert_eq!(rec.start_ts, 459_177_129_704_947_713);
        assert_eq!(
            rec.short_value,
            Some(&h("80 00 01 00 00 00 01 01 00 01")[..])
        );
        assert!(!rec.has_overlapped_rollback);
        assert_eq!(rec.gc_fence, None);
        assert_eq!(rec.encode().unwrap(), bytes);
    }

    #[test]
    fn item5_delete_vector() {
        // §10.1 item 5: Delete.
        let bytes = h("44 81 80 d0 9f 8a e7 d4 af 06");
        let rec = WriteRecord::parse(&bytes).unwrap();
        assert_eq!(
            rec,
            WriteRecord::new(WriteType::Delete, 459_177_189_749_030_913, None)
        );
        assert_eq!(rec.encode().unwrap(), bytes);
    }

    fn full_record(value: &[u8]) -> WriteRecord<'_> {
        WriteRecord {
            write_type: WriteType::Put,
            start_ts: 12345,
            short_value: Some(value),
            has_overlapped_rollback: true,
            gc_fence: Some(0x0102_0304_0506_0708),
            last_change: Some(LastChange {
                last_change_ts: 99,
                estimated_versions: 300,
            }),
            txn_source: Some(1 << 40),
        }
    }

    #[test]
    fn all_fields_round_trip() {
        let value = vec![7u8; 255];
        let rec = full_record(&value);
        let bytes = rec.encode().unwrap();
        assert_eq!(WriteRecord::parse(&bytes).unwrap(), rec);
        for wt in [
            WriteType::Put,
            WriteType::Delete,
            WriteType::Lock,
            WriteType::Rollback,
        ] {
            let r = WriteRecord::new(wt, u64::MAX, None);
            assert_eq!(WriteRecord::parse(&r.encode().unwrap()).unwrap(), r);
        }
        let long = vec![0u8; 256];
        assert!(WriteRecord::new(WriteType::Put, 1, Some(&long))
            .encode()
            .is_err());
    }

    #[test]
    fn unknown_tag_stops_parsing() {
        let mut bytes = WriteRecord::new(WriteType::Put, 5, Some(b"ab"))
            .encode()
            .unwrap();
        bytes.extend_from_slice(b"Zgarbage\xff");
        let rec = WriteRecord::parse(&bytes).unwrap();
        assert_eq!(rec.short_value, Some(&b"ab"[..]));
        assert_eq!(rec.gc_fence, None);
    }

    #[test]
    fn every_truncation_point_errors_or_is_a_prefix() {
        let value = b"row bytes".to_vec();
        let rec = full_record(&value);
        let bytes = rec.encode().unwrap();
        // Cutting right after a complete field is still a valid (shorter) record; any other
        // cut must fail.
        let mut field_ends = vec![];
        let mut r = WriteRecord::new(WriteType::Put, 12345, None);
        field_ends.push(r.encode().unwrap().len());
        r.short_value = Some(&value);
        field_ends.push(r.encode().unwrap().len());
        r.has_overlapped_rollback = true;
        field_ends.push(r.encode().unwrap().len());
        r.gc_fence = rec.gc_fence;
        field_ends.push(r.encode().unwrap().len());
        r.last_change = rec.last_change;
        field_ends.push(r.encode().unwrap().len());
        for cut in 0..bytes.len() {
            let res = WriteRecord::parse(&bytes[..cut]);
            if field_ends.contains(&cut) {
                assert!(res.is_ok(), "cut {cut}");
            } else {
                assert!(res.is_err(), "cut {cut}");
            }
        }
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            WriteRecord::parse(b"X1").unwrap_err().to_string(),
            "write record: type at offset 0: expected 'P', 'D', 'L' or 'R', found 0x58"
        );
        assert_eq!(
            WriteRecord::parse(b"P\x80").unwrap_err().to_string(),
            "write record: start_ts needs 2 bytes at offset 1, only 1 left"
        );
        assert_eq!(
            WriteRecord::parse(b"P\x01v\x05ab").unwrap_err().to_string(),
            "write record: short value needs 5 bytes at offset 4, only 2 left"
        );
        assert_eq!(
            WriteRecord::parse(b"P\x01F\x01").unwrap_err().to_string(),
            "write record: gc_fence needs 8 bytes at offset 3, only 1 left"
        );
    }
}
