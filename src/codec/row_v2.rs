//! Row format v2 (spec §6.2): a zero-copy view and a test-kit encoder.
//!
//! Sources: TiDB `pkg/util/rowcodec/row.go` (layout comment, `fromBytes`, `findColID`),
//! `pkg/util/rowcodec/encoder.go`; TiKV `components/tidb_query_datatype/src/codec/row/v2/
//! row_slice.rs`; TiDB's row-format design doc ("2019-07-19-row-format").
//!
//! ```text
//! offset  size            field
//! 0       1               version = 0x80
//! 1       1               flags: 0x01 LARGE, 0x02 HAS_CHECKSUM
//! 2       2  LE           N = not-null column count
//! 4       2  LE           M = null column count
//! 6       (N+M) × 1|4     column ids: N not-null ids, then M null ids, each list ascending
//!                         (u8 small / u32 LE large)
//! …       N × 2|4         end offset of each not-null value in data (u16 LE small / u32 LE large)
//! …       offs[N-1]       data: not-null values in id order, value i = data[offs[i-1]..offs[i]]
//! [checksum, if HAS_CHECKSUM]
//!         1               header: bits 0-2 version (0, 1, 2), bit 3 = extra checksum present
//!         4  LE           checksum (CRC32-IEEE; not verified here)
//!         [4 LE]          extra checksum
//! LARGE is used when a column id > 255 or the data is longer than 65535 bytes.
//! ```
use super::{byte_at, slice_at, CodecError, Result};

/// Version byte of row format v2.
pub const CODEC_VER: u8 = 0x80;
/// Flag: 4-byte column ids and offsets.
pub const FLAG_LARGE: u8 = 0x01;
/// Flag: a checksum trailer follows the data.
pub const FLAG_CHECKSUM: u8 = 0x02;
/// Checksum header: version bits.
pub const CHECKSUM_VERSION_MASK: u8 = 0b0111;
/// Checksum header: an extra checksum follows.
pub const CHECKSUM_FLAG_EXTRA: u8 = 0b1000;
/// Highest checksum version TiDB writes.
pub const MAX_CHECKSUM_VERSION: u8 = 2;

const HEADER_LEN: usize = 6;

/// How a column appears in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnValue<'a> {
    /// Stored non-null; the per-type payload (§6.2 table).
    Value(&'a [u8]),
    /// Stored as NULL.
    Null,
    /// Not stored: use the handle, the column's default, or NULL (§6.4).
    Absent,
}

/// Where a column sits in a row's bytes: the per-type payload's byte range (relative to the start
/// of the row value), NULL, or not stored. What [`RowSlice::locate_sorted`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnSpan {
    /// Stored non-null: `row[start..end]`.
    Value {
        /// First byte of the payload.
        start: usize,
        /// One past its last byte.
        end: usize,
    },
    /// Stored as NULL.
    Null,
    /// Not stored.
    Absent,
}

/// A little-endian id or offset of a row v2 value: 1 or 4 bytes (ids), 2 or 4 bytes (offsets).
trait LittleEndian: Copy {
    fn value(self) -> u32;
}

impl LittleEndian for u8 {
    #[inline(always)]
    fn value(self) -> u32 {
        u32::from(self)
    }
}

impl LittleEndian for [u8; 2] {
    #[inline(always)]
    fn value(self) -> u32 {
        u32::from(u16::from_le_bytes(self))
    }
}

impl LittleEndian for [u8; 4] {
    #[inline(always)]
    fn value(self) -> u32 {
        u32::from_le_bytes(self)
    }
}

/// Whether `holds(a, b)` for every two neighbours of `values`: one pass without an early exit,
/// which the compiler vectorizes, for the common case of a valid row; the callers look for the
/// first offending pair only when it says no.
#[inline(always)]
fn all_pairs<T: LittleEndian>(values: &[T], holds: impl Fn(u32, u32) -> bool) -> bool {
    let next = values.get(1..).unwrap_or_default();
    values
        .iter()
        .zip(next)
        .fold(true, |all, (a, b)| all & holds(a.value(), b.value()))
}

/// `Err((i, value, previous))` for the first of `ends` below the one before it.
#[inline(always)]
fn first_decrease<O: LittleEndian>(ends: &[O]) -> std::result::Result<(), (usize, u32, u32)> {
    if all_pairs(ends, |a, b| a <= b) {
        return Ok(());
    }
    let mut previous = 0;
    for (i, end) in ends.iter().enumerate() {
        let end = end.value();
        if end < previous {
            return Err((i, end, previous));
        }
        previous = end;
    }
    Ok(())
}

/// `Err((i, previous, id))` for the first of `ids` not above the one before it.
#[inline(always)]
fn first_not_ascending<I: LittleEndian>(ids: &[I]) -> std::result::Result<(), (usize, u32, u32)> {
    if all_pairs(ids, |a, b| a < b) {
        return Ok(());
    }
    for (i, pair) in ids.windows(2).enumerate() {
        if let [a, b] = pair {
            let (a, b) = (a.value(), b.value());
            if a >= b {
                return Err((i + 1, a, b));
            }
        }
    }
    Ok(())
}

/// [`RowSlice::locate_sorted`] over one layout: `row_ids` holds the not-null ids (the first
/// `not_null_count`, each ending at `ends[i]` in the data area at `data_start`), then the NULL ids.
#[inline(always)]
fn locate_in<I: LittleEndian, O: LittleEndian>(
    row_ids: &[I],
    ends: &[O],
    not_null_count: usize,
    data_start: usize,
    ids: &[u32],
    mut found: impl FnMut(usize, ColumnSpan),
) {
    let (value_ids, null_ids) = row_ids.split_at(not_null_count.min(row_ids.len()));
    // Positions in the two lists: ids below the wanted id are passed over for good.
    let (mut value, mut null) = (0, 0);
    let end_of = |k: usize| ends.get(k).map_or(0, |end| end.value() as usize);
    for (i, &id) in ids.iter().enumerate() {
        while value_ids.get(value).is_some_and(|v| v.value() < id) {
            value += 1;
        }
        if value_ids.get(value).is_some_and(|v| v.value() == id) {
            // A value starts where the one before it ends.
            let start = value.checked_sub(1).map_or(0, end_of);
            found(
                i,
                ColumnSpan::Value {
                    start: data_start + start,
                    end: data_start + end_of(value).max(start),
                },
            );
            continue;
        }
        while null_ids.get(null).is_some_and(|v| v.value() < id) {
            null += 1;
        }
        let span = if null_ids.get(null).is_some_and(|v| v.value() == id) {
            ColumnSpan::Null
        } else {
            ColumnSpan::Absent
        };
        found(i, span);
    }
}

/// The optional checksum trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RowChecksum {
    /// 0 = legacy column-level, 1 = row bytes + key, 2 = row bytes + handle.
    pub version: u8,
    /// The checksum.
    pub checksum: u32,
    /// The extra checksum, if present.
    pub extra: Option<u32>,
}

impl RowChecksum {
    fn header(&self) -> u8 {
        (self.version & CHECKSUM_VERSION_MASK)
            | if self.extra.is_some() {
                CHECKSUM_FLAG_EXTRA
            } else {
                0
            }
    }
}

/// A validated, zero-copy view of a row v2 value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowSlice<'a> {
    large: bool,
    not_null_count: usize,
    null_count: usize,
    /// Not-null ids then null ids, 1 or 4 bytes each.
    ids: &'a [u8],
    /// Not-null end offsets, 2 or 4 bytes each.
    offsets: &'a [u8],
    data: &'a [u8],
    checksum: Option<RowChecksum>,
}

impl<'a> RowSlice<'a> {
    /// Parses and validates the row layout: version byte, flags, that the id and offset lists
    /// and the data fit, that ids ascend within each list, that offsets do not decrease, and the
    /// checksum trailer (parsed, not verified). No bytes may follow the row.
    ///
    /// # Errors
    /// Any of the above violated.
    pub fn from_bytes(input: &'a [u8]) -> Result<Self> {
        let version = byte_at(input, 0, "row v2: version")?;
        if version != CODEC_VER {
            return Err(CodecError::invalid(
                "row v2: version",
                0,
                format!("expected 0x80, found 0x{version:02x}"),
            ));
        }
        let flags = byte_at(input, 1, "row v2: flags")?;
        if flags & !(FLAG_LARGE | FLAG_CHECKSUM) != 0 {
            return Err(CodecError::invalid(
                "row v2: flags",
                1,
                format!("expected only bits 0x01 and 0x02, found 0x{flags:02x}"),
            ));
        }
        let large = flags & FLAG_LARGE != 0;
        let not_null_count = usize::from(read_u16(input, 2, "row v2: not-null column count")?);
        let null_count = usize::from(read_u16(input, 4, "row v2: null column count")?);
        let (id_size, off_size) = if large { (4, 4) } else { (1, 2) };
        let mut cursor = HEADER_LEN;
        let ids = slice_at(
            input,
            cursor,
            (not_null_count + null_count) * id_size,
            "row v2: column id list",
        )?;
        cursor += ids.len();
        let offsets_at = cursor;
        let offsets = slice_at(
            input,
            cursor,
            not_null_count * off_size,
            "row v2: offset list",
        )?;
        cursor += offsets.len();
        let mut row = RowSlice {
            large,
            not_null_count,
            null_count,
            ids,
            offsets,
            data: &[],
            checksum: None,
        };
        // offsets must not decrease
        let decrease = if large {
            first_decrease(offsets.as_chunks::<4>().0)
        } else {
            first_decrease(offsets.as_chunks::<2>().0)
        };
        if let Err((i, off, prev)) = decrease {
            return Err(CodecError::invalid(
                "row v2: offset list",
                offsets_at + i * off_size,
                format!("offset {i} is {off}, below the previous offset {prev}"),
            ));
        }
        // The offsets ascend: the last is the data's length.
        let data_len = not_null_count
            .checked_sub(1)
            .and_then(|last| row.offset_at(last))
            .unwrap_or(0);
        row.data = slice_at(input, cursor, data_len, "row v2: data")?;
        cursor += data_len;
        // ids ascend within each list
        let (value_ids, null_ids) = ids.split_at(not_null_count * id_size);
        for (list_start, list) in [(0, value_ids), (not_null_count, null_ids)] {
            let found = if large {
                first_not_ascending(list.as_chunks::<4>().0)
            } else {
                first_not_ascending(list)
            };
            if let Err((i, a, b)) = found {
                return Err(CodecError::invalid(
                    "row v2: column id list",
                    HEADER_LEN + (list_start + i) * id_size,
                    format!("ids must ascend within a list, found {b} after {a}"),
                ));
            }
        }
        if flags & FLAG_CHECKSUM != 0 {
            let header = byte_at(input, cursor, "row v2: checksum header")?;
            let version = header & CHECKSUM_VERSION_MASK;
            if version > MAX_CHECKSUM_VERSION
                || header & !(CHECKSUM_VERSION_MASK | CHECKSUM_FLAG_EXTRA) != 0
            {
                return Err(CodecError::invalid(
                    "row v2: checksum header",
                    cursor,
                    format!("expected version 0..=2 and only flag 0x08, found 0x{header:02x}"),
                ));
            }
            let checksum = read_u32(input, cursor + 1, "row v2: checksum")?;
            cursor += 5;
            let extra = if header & CHECKSUM_FLAG_EXTRA != 0 {
                let e = read_u32(input, cursor, "row v2: extra checksum")?;
                cursor += 4;
                Some(e)
            } else {
                None
            };
            row.checksum = Some(RowChecksum {
                version,
                checksum,
                extra,
            });
        }
        if cursor != input.len() {
            return Err(CodecError::invalid(
                "row v2",
                cursor,
                format!(
                    "expected the end of the row, found {} more bytes",
                    input.len() - cursor
                ),
            ));
        }
        Ok(row)
    }

    /// Looks a column up by id (binary search, no allocation).
    ///
    /// # Errors
    /// None for a validated slice; kept fallible for callers that treat rows uniformly.
    #[inline]
    pub fn get(&self, column_id: i64) -> Result<ColumnValue<'a>> {
        let Ok(id) = u32::try_from(column_id) else {
            return Ok(ColumnValue::Absent);
        };
        if let Some(i) = self.search(0, self.not_null_count, id) {
            return Ok(self
                .value_at(i)
                .map_or(ColumnValue::Absent, ColumnValue::Value));
        }
        if self
            .search(
                self.not_null_count,
                self.not_null_count + self.null_count,
                id,
            )
            .is_some()
        {
            return Ok(ColumnValue::Null);
        }
        Ok(ColumnValue::Absent)
    }

    /// Locates every id of `ids` (ascending) in one merge walk over the row's two sorted id lists,
    /// calling `found(i, span)` for `ids[i]` in order: the cost is linear in the row's and the
    /// caller's columns, instead of a binary search per column as [`Self::get`] does.
    pub fn locate_sorted(&self, ids: &[u32], found: impl FnMut(usize, ColumnSpan)) {
        // One walk per layout, so that the id and offset widths are types in the loop.
        let data_start = HEADER_LEN + self.ids.len() + self.offsets.len();
        if self.large {
            let (row_ids, _) = self.ids.as_chunks::<4>();
            let (ends, _) = self.offsets.as_chunks::<4>();
            locate_in(row_ids, ends, self.not_null_count, data_start, ids, found);
        } else {
            let (ends, _) = self.offsets.as_chunks::<2>();
            locate_in(self.ids, ends, self.not_null_count, data_start, ids, found);
        }
    }

    /// Number of non-null columns stored.
    pub const fn not_null_count(&self) -> usize {
        self.not_null_count
    }

    /// Number of NULL columns stored.
    pub const fn null_count(&self) -> usize {
        self.null_count
    }

    /// Whether the row uses the large layout.
    pub const fn is_large(&self) -> bool {
        self.large
    }

    /// The checksum trailer, if present.
    pub const fn checksum(&self) -> Option<RowChecksum> {
        self.checksum
    }

    /// The data area (all non-null values).
    pub const fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Non-null columns as `(id, payload)`, in id order.
    pub fn not_null_columns(&self) -> impl Iterator<Item = (u32, &'a [u8])> + '_ {
        (0..self.not_null_count).filter_map(move |i| Some((self.id_at(i)?, self.value_at(i)?)))
    }

    /// Ids of the NULL columns, ascending.
    pub fn null_column_ids(&self) -> impl Iterator<Item = u32> + '_ {
        (self.not_null_count..self.not_null_count + self.null_count)
            .filter_map(move |i| self.id_at(i))
    }

    #[inline]
    fn id_at(&self, i: usize) -> Option<u32> {
        if self.large {
            let b = self.ids.get(i * 4..i * 4 + 4)?;
            Some(u32::from_le_bytes([
                *b.first()?,
                *b.get(1)?,
                *b.get(2)?,
                *b.get(3)?,
            ]))
        } else {
            self.ids.get(i).map(|&b| u32::from(b))
        }
    }

    #[inline]
    fn offset_at(&self, i: usize) -> Option<usize> {
        if self.large {
            let b = self.offsets.get(i * 4..i * 4 + 4)?;
            usize::try_from(u32::from_le_bytes([
                *b.first()?,
                *b.get(1)?,
                *b.get(2)?,
                *b.get(3)?,
            ]))
            .ok()
        } else {
            let b = self.offsets.get(i * 2..i * 2 + 2)?;
            Some(usize::from(u16::from_le_bytes([*b.first()?, *b.get(1)?])))
        }
    }

    #[inline]
    fn value_at(&self, i: usize) -> Option<&'a [u8]> {
        let start = if i == 0 { 0 } else { self.offset_at(i - 1)? };
        let end = self.offset_at(i)?;
        self.data.get(start..end)
    }

    /// Index in `lo..hi` whose id is `id`.
    #[inline]
    fn search(&self, mut lo: usize, mut hi: usize, id: u32) -> Option<usize> {
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let v = self.id_at(mid)?;
            match v.cmp(&id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Equal => return Some(mid),
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        None
    }
}

fn read_u16(input: &[u8], at: usize, what: &'static str) -> Result<u16> {
    let b = slice_at(input, at, 2, what)?;
    Ok(u16::from_le_bytes([
        b.first().copied().unwrap_or(0),
        b.get(1).copied().unwrap_or(0),
    ]))
}

fn read_u32(input: &[u8], at: usize, what: &'static str) -> Result<u32> {
    Ok(u32::from_le_bytes(super::array_at::<4>(input, at, what)?))
}

/// Builds row v2 values (test kit). Chooses the small layout unless a column id is above 255
/// or the data exceeds 65535 bytes (or [`RowEncoderV2::force_large`] is set).
///
/// ```
/// use br_parquet::codec::row_v2::{RowEncoderV2, RowSlice, ColumnValue};
/// let mut enc = RowEncoderV2::new();
/// enc.push(2, Some(b"abc")).push(1, Some(&[100])).push(3, None);
/// let row = enc.encode().unwrap();
/// let view = RowSlice::from_bytes(&row).unwrap();
/// assert_eq!(view.get(2).unwrap(), ColumnValue::Value(b"abc"));
/// assert_eq!(view.get(3).unwrap(), ColumnValue::Null);
/// ```
#[derive(Debug, Clone, Default)]
pub struct RowEncoderV2 {
    columns: Vec<(i64, Option<Vec<u8>>)>,
    checksum: Option<RowChecksum>,
    force_large: bool,
}

impl RowEncoderV2 {
    /// An empty encoder without checksum.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a column (`None` = NULL); order does not matter.
    pub fn push(&mut self, column_id: i64, value: Option<&[u8]>) -> &mut Self {
        self.columns.push((column_id, value.map(<[u8]>::to_vec)));
        self
    }

    /// Removes all columns (keeps the checksum and layout settings).
    pub fn clear(&mut self) {
        self.columns.clear();
    }

    /// Appends this checksum trailer (written as given, not computed).
    #[must_use]
    pub fn with_checksum(mut self, checksum: RowChecksum) -> Self {
        self.checksum = Some(checksum);
        self
    }

    /// Always use the large layout.
    #[must_use]
    pub fn force_large(mut self) -> Self {
        self.force_large = true;
        self
    }

    /// Encodes the pushed columns.
    ///
    /// # Errors
    /// Column ids outside `0..=u32::MAX` or repeated, more than 65535 columns in a list, data
    /// over 4 GiB, or a checksum version above 2.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let columns: Vec<(i64, Option<&[u8]>)> = self
            .columns
            .iter()
            .map(|(id, v)| (*id, v.as_deref()))
            .collect();
        encode_parts(&columns, self.checksum, self.force_large)
    }
}

/// Encodes `(column_id, payload)` pairs (`None` = NULL, any order) as a row v2 value without
/// checksum; see [`RowEncoderV2`].
///
/// # Errors
/// As [`RowEncoderV2::encode`].
pub fn encode_row_v2(columns: &[(i64, Option<&[u8]>)]) -> Result<Vec<u8>> {
    encode_parts(columns, None, false)
}

fn encode_parts(
    columns: &[(i64, Option<&[u8]>)],
    checksum: Option<RowChecksum>,
    force_large: bool,
) -> Result<Vec<u8>> {
    let mut not_null: Vec<(u32, &[u8])> = Vec::new();
    let mut null: Vec<u32> = Vec::new();
    for &(id, value) in columns {
        let id = u32::try_from(id).map_err(|_| {
            CodecError::unencodable(
                "row v2",
                format!("column id {id} is outside 0..=4294967295"),
            )
        })?;
        match value {
            Some(v) => not_null.push((id, v)),
            None => null.push(id),
        }
    }
    not_null.sort_by_key(|&(id, _)| id);
    null.sort_unstable();
    let mut all: Vec<u32> = not_null
        .iter()
        .map(|&(id, _)| id)
        .chain(null.iter().copied())
        .collect();
    all.sort_unstable();
    if let Some(w) = all.windows(2).find(|w| w.first() == w.get(1)) {
        return Err(CodecError::unencodable(
            "row v2",
            format!(
                "column id {} appears twice",
                w.first().copied().unwrap_or(0)
            ),
        ));
    }
    let n = u16::try_from(not_null.len()).map_err(|_| {
        CodecError::unencodable("row v2", format!("{} non-null columns", not_null.len()))
    })?;
    let m = u16::try_from(null.len())
        .map_err(|_| CodecError::unencodable("row v2", format!("{} null columns", null.len())))?;
    let data_len: usize = not_null.iter().map(|(_, v)| v.len()).sum();
    if u32::try_from(data_len).is_err() {
        return Err(CodecError::unencodable(
            "row v2",
            format!("{data_len} bytes of data"),
        ));
    }
    if let Some(c) = checksum {
        if c.version > MAX_CHECKSUM_VERSION {
            return Err(CodecError::unencodable(
                "row v2",
                format!("checksum version {} (at most 2)", c.version),
            ));
        }
    }
    let large =
        force_large || all.last().is_some_and(|&id| id > 255) || data_len > usize::from(u16::MAX);
    let mut flags = if large { FLAG_LARGE } else { 0 };
    if checksum.is_some() {
        flags |= FLAG_CHECKSUM;
    }
    let mut out =
        Vec::with_capacity(HEADER_LEN + all.len() * 4 + not_null.len() * 4 + data_len + 9);
    out.push(CODEC_VER);
    out.push(flags);
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&m.to_le_bytes());
    for id in not_null
        .iter()
        .map(|&(id, _)| id)
        .chain(null.iter().copied())
    {
        if large {
            out.extend_from_slice(&id.to_le_bytes());
        } else {
            out.push(id as u8);
        }
    }
    let mut end = 0usize;
    for (_, v) in &not_null {
        end += v.len();
        if large {
            out.extend_from_slice(&(end as u32).to_le_bytes());
        } else {
            out.extend_from_slice(&(end as u16).to_le_bytes());
        }
    }
    for (_, v) in &not_null {
        out.extend_from_slice(v);
    }
    if let Some(c) = checksum {
        out.push(c.header());
        out.extend_from_slice(&c.checksum.to_le_bytes());
        if let Some(e) = c.extra {
            out.extend_from_slice(&e.to_le_bytes());
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::codec::number::{decode_v2_int, encode_v2_int};

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    fn assert_every_cut_fails(row: &[u8]) {
        for cut in 0..row.len() {
            assert!(
                RowSlice::from_bytes(&row[..cut]).is_err(),
                "cut {cut} of {}",
                row.len()
            );
        }
    }

    #[test]
    fn index_scan_executor_vector() {
        // §10.1 item 4: tikv/tikv index_scan_executor.rs, one NULL column (id 1).
        let row = h("80 00 00 00 01 00 01");
        let r = RowSlice::from_bytes(&row).unwrap();
        assert_eq!((r.not_null_count(), r.null_count()), (0, 1));
        assert_eq!(r.get(1).unwrap(), ColumnValue::Null);
        assert_eq!(r.get(2).unwrap(), ColumnValue::Absent);
        assert_eq!(r.null_column_ids().collect::<Vec<_>>(), [1]);
        assert_eq!(encode_row_v2(&[(1, None)]).unwrap(), row);
        assert_every_cut_fails(&row);
    }

    #[test]
    fn item5_row() {
        // §10.1 item 5: the inline row value of the Put record.
        let row = h("80 00 01 00 00 00 01 01 00 01");
        let r = RowSlice::from_bytes(&row).unwrap();
        let ColumnValue::Value(v) = r.get(1).unwrap() else {
            panic!("column 1 missing")
        };
        assert_eq!(decode_v2_int(v).unwrap(), 1);
        assert_eq!(r.get(0).unwrap(), ColumnValue::Absent);
        assert_eq!(r.get(-1).unwrap(), ColumnValue::Absent);
        assert_eq!(r.get(i64::MAX).unwrap(), ColumnValue::Absent);
        assert_eq!(encode_row_v2(&[(1, Some(&[1]))]).unwrap(), row);
        assert_every_cut_fails(&row);
    }

    #[test]
    fn derived_two_column_vector() {
        // §10.2: {col1: INT 100, col2: 'abc'}
        let row = h("80 00 02 00 00 00 01 02 01 00 04 00 64 61 62 63");
        let r = RowSlice::from_bytes(&row).unwrap();
        assert_eq!(r.get(1).unwrap(), ColumnValue::Value(&[0x64]));
        assert_eq!(r.get(2).unwrap(), ColumnValue::Value(b"abc"));
        assert!(!r.is_large());
        assert_eq!(r.data(), b"dabc");
        assert_eq!(
            r.not_null_columns().collect::<Vec<_>>(),
            [(1, &b"d"[..]), (2, &b"abc"[..])]
        );
        let mut int = Vec::new();
        encode_v2_int(100, &mut int);
        let enc = encode_row_v2(&[(2, Some(b"abc")), (1, Some(&int))]).unwrap();
        let mut builder = RowEncoderV2::new();
        builder.push(2, Some(b"abc")).push(1, Some(&int));
        assert_eq!(builder.encode().unwrap(), enc);
        assert_eq!(enc, row);
        assert_every_cut_fails(&row);
    }

    #[test]
    fn large_layout_for_big_ids_and_data() {
        let big = vec![7u8; 70_000];
        let cols: Vec<(i64, Option<&[u8]>)> = vec![
            (1, Some(b"x")),
            (300, Some(&big)),
            (2, None),
            (70_000, None),
            (5, Some(b"")),
        ];
        let row = encode_row_v2(&cols).unwrap();
        let r = RowSlice::from_bytes(&row).unwrap();
        assert!(r.is_large());
        assert_eq!(r.get(1).unwrap(), ColumnValue::Value(b"x"));
        assert_eq!(r.get(5).unwrap(), ColumnValue::Value(b""));
        assert_eq!(r.get(300).unwrap(), ColumnValue::Value(&big[..]));
        assert_eq!(r.get(2).unwrap(), ColumnValue::Null);
        assert_eq!(r.get(70_000).unwrap(), ColumnValue::Null);
        assert_eq!(r.get(3).unwrap(), ColumnValue::Absent);
        // id > 255 alone
        let row = encode_row_v2(&[(256, Some(b"a"))]).unwrap();
        assert_eq!(row[1], FLAG_LARGE);
        assert_eq!(row.len(), 6 + 4 + 4 + 1);
        assert_every_cut_fails(&row);
        // data > 65535 alone
        let row = encode_row_v2(&[(1, Some(&big))]).unwrap();
        assert_eq!(row[1], FLAG_LARGE);
        let r = RowSlice::from_bytes(&row).unwrap();
        assert_eq!(r.get(1).unwrap(), ColumnValue::Value(&big[..]));
        // forced large with small content
        let mut enc = RowEncoderV2::new().force_large();
        enc.push(1, Some(b"a")).push(2, None);
        let row = enc.encode().unwrap();
        let r = RowSlice::from_bytes(&row).unwrap();
        assert!(r.is_large());
        assert_eq!(r.get(2).unwrap(), ColumnValue::Null);
        assert_every_cut_fails(&row);
    }

    #[test]
    fn checksum_trailer_is_parsed_and_excluded() {
        for (version, extra) in [(0u8, None), (1, Some(0xdead_beef)), (2, None)] {
            let c = RowChecksum {
                version,
                checksum: 0x0102_0304,
                extra,
            };
            let mut enc = RowEncoderV2::new().with_checksum(c);
            enc.push(1, Some(b"ab")).push(2, None);
            let row = enc.encode().unwrap();
            let r = RowSlice::from_bytes(&row).unwrap();
            assert_eq!(r.checksum(), Some(c));
            assert_eq!(r.data(), b"ab");
            assert_eq!(r.get(1).unwrap(), ColumnValue::Value(b"ab"));
            assert_every_cut_fails(&row);
        }
        let mut enc = RowEncoderV2::new().with_checksum(RowChecksum {
            version: 1,
            checksum: 1,
            extra: None,
        });
        enc.push(1, Some(b"a"));
        let mut row = enc.encode().unwrap();
        let at = row.len() - 5;
        row[at] = 3;
        assert_eq!(
            RowSlice::from_bytes(&row).unwrap_err().to_string(),
            format!("row v2: checksum header at offset {at}: expected version 0..=2 and only flag 0x08, found 0x03")
        );
        assert!(RowEncoderV2::new()
            .with_checksum(RowChecksum {
                version: 3,
                checksum: 1,
                extra: None
            })
            .encode()
            .is_err());
    }

    #[test]
    fn empty_row() {
        let row = RowEncoderV2::new().encode().unwrap();
        assert_eq!(row, [0x80, 0, 0, 0, 0, 0]);
        let r = RowSlice::from_bytes(&row).unwrap();
        assert_eq!(r.get(1).unwrap(), ColumnValue::Absent);
        assert_every_cut_fails(&row);
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            RowSlice::from_bytes(&h("80 01 03 00 00 00 01 00 00 00"))
                .unwrap_err()
                .to_string(),
            "row v2: column id list needs 12 bytes at offset 6, only 4 left"
        );
        assert_eq!(
            RowSlice::from_bytes(&h("08 02 08 c8 01"))
                .unwrap_err()
                .to_string(),
            "row v2: version at offset 0: expected 0x80, found 0x08"
        );
        assert_eq!(
            RowSlice::from_bytes(&h("80 04 00 00 00 00"))
                .unwrap_err()
                .to_string(),
            "row v2: flags at offset 1: expected only bits 0x01 and 0x02, found 0x04"
        );
        assert_eq!(
            RowSlice::from_bytes(&h("80 00 02 00 00 00 01 02 03 00 01 00 61 62 63"))
                .unwrap_err()
                .to_string(),
            "row v2: offset list at offset 10: offset 1 is 1, below the previous offset 3"
        );
        assert_eq!(
            RowSlice::from_bytes(&h("80 00 02 00 00 00 02 01 01 00 02 00 61 62"))
                .unwrap_err()
                .to_string(),
            "row v2: column id list at offset 7: ids must ascend within a list, found 1 after 2"
        );
        // The NULL ids are a list of their own.
        assert_eq!(
            RowSlice::from_bytes(&h("80 00 01 00 02 00 01 03 02 01 00 61"))
                .unwrap_err()
                .to_string(),
            "row v2: column id list at offset 8: ids must ascend within a list, found 2 after 3"
        );
        assert!(RowSlice::from_bytes(&h("80 00 01 00 02 00 05 02 03 01 00 61")).is_ok());
        assert_eq!(
            RowSlice::from_bytes(&h("80 00 01 00 00 00 01 02 00 61"))
                .unwrap_err()
                .to_string(),
            "row v2: data needs 2 bytes at offset 9, only 1 left"
        );
        assert_eq!(
            RowSlice::from_bytes(&h("80 00 01 00 00 00 01 01 00 61 62"))
                .unwrap_err()
                .to_string(),
            "row v2 at offset 10: expected the end of the row, found 1 more bytes"
        );
        assert!(RowSlice::from_bytes(&[]).is_err());
    }

    #[test]
    fn encoder_errors() {
        assert!(encode_row_v2(&[(-1, None)]).is_err());
        assert!(encode_row_v2(&[(1 << 33, None)]).is_err());
        assert!(encode_row_v2(&[(1, None), (1, Some(b"a"))]).is_err());
        let mut enc = RowEncoderV2::new();
        enc.push(1, None).push(1, None);
        assert!(enc.encode().is_err());
        enc.clear();
        assert_eq!(enc.encode().unwrap(), [0x80, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn random_rows_round_trip() {
        let mut next = crate::codec::xorshift(42);
        for _ in 0..300 {
            let n = (next() % 20) as usize;
            let mut ids: Vec<i64> = Vec::new();
            while ids.len() < n {
                let id = (next() % if next().is_multiple_of(4) { 1000 } else { 200 }) as i64;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            let payloads: Vec<Vec<u8>> = ids
                .iter()
                .map(|&id| vec![id as u8; (next() % 9) as usize])
                .collect();
            let cols: Vec<(i64, Option<&[u8]>)> = ids
                .iter()
                .zip(&payloads)
                .map(|(&id, p)| (id, if p.len() == 8 { None } else { Some(&p[..]) }))
                .collect();
            let row = encode_row_v2(&cols).unwrap();
            let r = RowSlice::from_bytes(&row).unwrap();
            for &(id, v) in &cols {
                let expected = v.map_or(ColumnValue::Null, ColumnValue::Value);
                assert_eq!(r.get(id).unwrap(), expected);
            }
            assert_eq!(r.get(5000).unwrap(), ColumnValue::Absent);
            // One merge walk finds what a lookup per column finds, for ids the row has and not.
            let mut wanted: Vec<u32> = (0..40).map(|_| (next() % 1100) as u32).collect();
            wanted.extend(
                ids.iter()
                    .filter(|_| next().is_multiple_of(2))
                    .map(|&id| id as u32),
            );
            wanted.sort_unstable();
            wanted.dedup();
            let mut located = Vec::new();
            r.locate_sorted(&wanted, |i, span| located.push((i, span)));
            assert_eq!(located.len(), wanted.len());
            for (i, span) in located {
                let walked = match span {
                    ColumnSpan::Value { start, end } => ColumnValue::Value(&row[start..end]),
                    ColumnSpan::Null => ColumnValue::Null,
                    ColumnSpan::Absent => ColumnValue::Absent,
                };
                assert_eq!(
                    walked,
                    r.get(i64::from(wanted[i])).unwrap(),
                    "id {}",
                    wanted[i]
                );
            }
            for cut in 0..row.len() {
                assert!(RowSlice::from_bytes(&row[..cut]).is_err());
            }
        }
    }
}
