//! One Arrow builder per exported column, filled a column at a time.
//!
//! A batch's rows are first collected as raw row values in an arena, and each row v2 value is
//! walked once, as it arrives, to note where each exported column's payload sits ([`CellRef`],
//! a row's cells side by side in a table, see [`ColumnCells`]). Each column is then decoded in one
//! tight loop over its own cells, a chunk of rows at a time: the type `match` happens once per
//! column and chunk, not once per cell, no row header is parsed again, and payloads are read in
//! place (borrowed from the arena).

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, Date32Builder, Decimal128Builder, DurationMicrosecondBuilder, Float32Builder,
    Float64Builder, Int32Builder, Int64Builder, ListBuilder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, StringArray};
use arrow_buffer::OffsetBuffer;
use arrow_schema::Field;

use super::types::{ColumnKind, TIMESTAMP_TIME_ZONE};
use crate::codec::datum::{decode_datum, Datum};
use crate::codec::decimal::Decimal;
use crate::codec::enums::{enum_name, write_set_names, VectorF32};
use crate::codec::json::json_payload_to_text;
use crate::codec::number::{decode_cmp_f64, decode_v2_int, decode_v2_uint};
use crate::codec::row_v1::RowV1;
use crate::codec::row_v2::ColumnSpan;
use crate::codec::time::PackedTime;
use crate::meta::ColumnSchema;

/// Where a column's value comes from.
#[derive(Debug, Clone)]
pub(crate) enum CellSource {
    /// The row value, under this column id.
    Row(i64),
    /// The integer handle in the key (`pk_is_handle` tables).
    IntHandle,
    /// The row value if it holds the column, else datum `index` of the clustered (common) handle
    /// in the key. TiDB stores a key column in the value only when the key cannot restore it.
    RowOrCommonHandle {
        /// Column id in the row value.
        id: i64,
        /// Position of the column in the primary key.
        index: usize,
    },
}

/// Where one column's cell of one row is, noted when the row is collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CellRef {
    /// A row v2 payload: `arena[start..start + len]`.
    Value {
        /// Offset in the batch arena.
        start: u32,
        /// Payload length.
        len: u32,
    },
    /// Stored as NULL, or the row is a delete.
    Null,
    /// Not in the row value: the handle in the key, the column's default, or NULL.
    Absent,
    /// In a row v1 value, looked up when the column is decoded.
    V1,
}

impl CellRef {
    /// The cell of a row v2 value that starts at arena offset `base`. The caller keeps the arena
    /// below 4 GiB, so offsets fit.
    pub(crate) fn from_span(base: u32, span: ColumnSpan) -> Self {
        match span {
            ColumnSpan::Value { start, end } => CellRef::Value {
                start: base.saturating_add(u32::try_from(start).unwrap_or(u32::MAX)),
                len: u32::try_from(end.saturating_sub(start)).unwrap_or(u32::MAX),
            },
            ColumnSpan::Null => CellRef::Null,
            ColumnSpan::Absent => CellRef::Absent,
        }
    }
}

/// One column's cells of a batch, in the batch's table of cells: row after row, `width` cells a
/// row (one per exported column), so that collecting a row writes its cells side by side.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ColumnCells<'a> {
    table: &'a [CellRef],
    width: usize,
    column: usize,
}

impl<'a> ColumnCells<'a> {
    /// Column `column` of `table` (`width` cells a row; `column < width`).
    pub(crate) fn new(table: &'a [CellRef], width: usize, column: usize) -> Self {
        ColumnCells {
            table,
            width,
            column,
        }
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        self.table.len().checked_div(self.width).unwrap_or(0)
    }

    /// The cells of rows `first..end`, `None` if the table has fewer rows.
    pub(crate) fn rows(&self, first: usize, end: usize) -> Option<Self> {
        Some(ColumnCells {
            table: self.table.get(first * self.width..end * self.width)?,
            ..*self
        })
    }

    /// The cells, a row's at a time.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a CellRef> + 'a {
        let column = self.column;
        self.table
            .chunks_exact(self.width.max(1))
            .map(move |row| row.get(column).unwrap_or(&CellRef::Absent))
    }
}

/// What the column decoders need of a row besides its [`CellRef`]s.
pub(crate) struct RowRef<'a> {
    /// The value, when it is in row format v1 (TiDB < 4.0 or `tidb_row_format_version = 1`).
    pub v1: Option<RowV1<'a>>,
    pub int_handle: i64,
    /// The key's common-handle bytes (empty for integer handles).
    pub common_handle: &'a [u8],
}

/// One value as found in storage, before decoding.
#[derive(Debug, Clone)]
pub(crate) enum Cell<'a> {
    /// A row-format-v2 payload (also the form `origin_default` values are kept in).
    Payload(&'a [u8]),
    /// A datum: from a v1 row, or from a common handle in the key.
    Datum(Datum<'a>),
    /// An integer taken from the key handle.
    Handle(i64),
    /// SQL NULL.
    Null,
}

enum Builder {
    Int32(Int32Builder),
    Int64(Int64Builder),
    Decimal(Decimal128Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Utf8(StringBuilder),
    /// Text that must be checked as UTF-8 (see [`finish`]).
    Text(BinaryBuilder),
    Binary(BinaryBuilder),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
    Duration(DurationMicrosecondBuilder),
    List(ListBuilder<Float32Builder>),
}

/// Decodes one TiDB column into an Arrow array.
pub(crate) struct ColumnDecoder {
    pub(crate) name: String,
    pub(crate) id: i64,
    kind: ColumnKind,
    pub(crate) source: CellSource,
    /// Whether NULL may be written (nullable column, or every column of an incremental export).
    nullable: bool,
    elems: Vec<String>,
    /// What a row written before `ADD COLUMN` holds: the origin default as a v2 payload, or NULL.
    default: Option<Vec<u8>>,
    arrow_type: arrow_schema::DataType,
    /// Reused buffer for text that has to be rendered (ENUM/SET, JSON, wide DECIMAL).
    text: String,
    /// Zero or invalid dates written as NULL.
    pub(crate) invalid_dates: u64,
}

impl ColumnDecoder {
    pub(crate) fn new(
        column: &ColumnSchema,
        kind: ColumnKind,
        source: CellSource,
        default: Option<Vec<u8>>,
        nullable: bool,
        arrow_type: &arrow_schema::DataType,
    ) -> Self {
        ColumnDecoder {
            name: column.name.clone(),
            id: column.id,
            kind,
            source,
            nullable,
            elems: column.field_type.elems.clone(),
            default,
            arrow_type: arrow_type.clone(),
            text: String::new(),
            invalid_dates: 0,
        }
    }

    fn cell<'a>(
        &'a self,
        row: &RowRef<'a>,
        located: CellRef,
        arena: &'a [u8],
    ) -> Result<Cell<'a>, String> {
        let id = match self.source {
            CellSource::IntHandle => return Ok(Cell::Handle(row.int_handle)),
            CellSource::Row(id) | CellSource::RowOrCommonHandle { id, .. } => id,
        };
        match located {
            CellRef::Value { start, len } => {
                let start = start as usize;
                return arena
                    .get(start..start + len as usize)
                    .map(Cell::Payload)
                    .ok_or_else(|| "cell outside the batch arena".to_string());
            }
            CellRef::Null => return Ok(Cell::Null),
            CellRef::V1 => {
                let stored = match &row.v1 {
                    Some(v1) => v1.get(id).map_err(|e| e.to_string())?,
                    None => return Err("row v1 cell in a row that is not v1".into()),
                };
                match stored {
                    Some(Datum::Null) => return Ok(Cell::Null),
                    Some(datum) => return Ok(Cell::Datum(datum)),
                    None => {}
                }
            }
            CellRef::Absent => {}
        }
        if let CellSource::RowOrCommonHandle { index, .. } = self.source {
            return common_handle_datum(row.common_handle, index).map(Cell::Datum);
        }
        Ok(match &self.default {
            Some(payload) => Cell::Payload(payload),
            None => Cell::Null,
        })
    }

    /// An empty builder for this column's values of a batch, sized from its `cells` so that the
    /// batch fills it without regrowing.
    pub(crate) fn start_batch(&self, cells: ColumnCells<'_>) -> ColumnBatch {
        let bytes = match self.kind {
            ColumnKind::Utf8 | ColumnKind::Binary | ColumnKind::Json | ColumnKind::VectorF32 => {
                cells
                    .iter()
                    .map(|c| match c {
                        CellRef::Value { len, .. } => *len as usize,
                        _ => 0,
                    })
                    .sum()
            }
            _ => 0,
        };
        ColumnBatch {
            builder: new_builder(self.kind, &self.arrow_type, cells.len(), bytes),
            invalid_dates: 0,
        }
    }

    /// Appends the values of `rows`, rows `first..first + rows.len()` of the batch, whose cells
    /// of this column are `cells` (the batch's) and whose values `arena` holds. On failure
    /// returns the failing row's index in the batch and what went wrong.
    pub(crate) fn decode_rows(
        &mut self,
        batch: &mut ColumnBatch,
        rows: &[RowRef<'_>],
        first: usize,
        cells: ColumnCells<'_>,
        arena: &[u8],
    ) -> Result<(), (usize, String)> {
        let end = first + rows.len();
        let Some(cells) = cells.rows(first, end) else {
            return Err((
                first,
                format!("{} rows of cells for rows {first}..{end}", cells.len()),
            ));
        };
        // The text buffer is taken out so that `self.cell` can borrow `self` in the loops.
        let mut text = std::mem::take(&mut self.text);
        let result = self.decode_into(
            &mut batch.builder,
            &mut text,
            &mut batch.invalid_dates,
            rows,
            cells,
            arena,
        );
        self.text = text;
        result.map_err(|(i, message)| (first + i, message))
    }

    fn decode_into(
        &self,
        builder: &mut Builder,
        text: &mut String,
        invalid: &mut u64,
        rows: &[RowRef<'_>],
        cells: ColumnCells<'_>,
        arena: &[u8],
    ) -> Result<(), (usize, String)> {
        // `$decode` maps a non-NULL cell to `Result<Option<value>, String>`; `None` is a value
        // without an Arrow representation (a zero date), written as NULL and counted.
        let from_row_value = !matches!(self.source, CellSource::IntHandle);
        // The rows themselves are needed only for cells that are not payloads in the arena.
        let row = |i: usize| {
            rows.get(i)
                .ok_or_else(|| (i, format!("no row {i} of {}", rows.len())))
        };
        macro_rules! fill {
            ($b:expr, |$cell:ident| $decode:expr) => {
                for (i, &located) in cells.iter().enumerate() {
                    let at = |e: String| (i, e);
                    let $cell = match located {
                        // Most cells: a payload in the arena, read here so that the decoder
                        // sees it without the general lookup's large `Result<Cell>`.
                        CellRef::Value { start, len } if from_row_value => {
                            let start = start as usize;
                            Cell::Payload(
                                arena
                                    .get(start..start + len as usize)
                                    .ok_or_else(|| at("cell outside the batch arena".into()))?,
                            )
                        }
                        _ => self.cell(row(i)?, located, arena).map_err(at)?,
                    };
                    if matches!($cell, Cell::Null) {
                        if !self.nullable {
                            return Err((i, "NULL in a NOT NULL column".to_string()));
                        }
                        $b.append_null();
                        continue;
                    }
                    match $decode.map_err(at)? {
                        Some(value) => $b.append_value(value),
                        None => {
                            *invalid += 1;
                            $b.append_null();
                        }
                    }
                }
            };
        }
        let kind = self.kind;
        match builder {
            Builder::Int32(b) => match kind {
                ColumnKind::UInt32AsInt32 => {
                    fill!(b, |cell| unsigned(&cell)
                        .and_then(|v| narrow(v as i128))
                        .map(Some))
                }
                _ => fill!(b, |cell| signed(&cell)
                    .and_then(|v| narrow(v as i128))
                    .map(Some)),
            },
            Builder::Int64(b) => match kind {
                ColumnKind::Int64 => fill!(b, |cell| signed(&cell).map(Some)),
                _ => fill!(b, |cell| unsigned(&cell)
                    .and_then(|v| narrow(v as i128))
                    .map(Some)),
            },
            Builder::Decimal(b) => match kind {
                ColumnKind::Decimal { scale, .. } => {
                    fill!(b, |cell| unscaled_decimal(&cell, scale).map(Some))
                }
                _ => fill!(b, |cell| unsigned(&cell).map(|v| Some(i128::from(v)))),
            },
            Builder::Float32(b) => fill!(b, |cell| float(&cell).map(|v| Some(v as f32))),
            Builder::Float64(b) => fill!(b, |cell| float(&cell).map(Some)),
            Builder::Utf8(b) => match kind {
                ColumnKind::DecimalText { scale } => {
                    fill!(b, |cell| decimal(&cell).and_then(|d| {
                        let d = d
                            .rescale(scale)
                            .ok_or_else(|| format!("decimal {d} does not fit"))?;
                        text.clear();
                        use std::fmt::Write;
                        let _ = write!(text, "{d}");
                        Ok(Some(text.as_str()))
                    }))
                }
                ColumnKind::Enum => fill!(b, |cell| unsigned(&cell)
                    .and_then(|v| enum_name(&self.elems, v).map_err(|e| e.to_string()))
                    .map(Some)),
                ColumnKind::Set => fill!(b, |cell| unsigned(&cell).and_then(|v| {
                    text.clear();
                    write_set_names(&self.elems, v, text).map_err(|e| e.to_string())?;
                    Ok(Some(text.as_str()))
                })),
                ColumnKind::Json => fill!(b, |cell| json_payload(&cell).and_then(|p| {
                    text.clear();
                    json_payload_to_text(p, text).map_err(|e| e.to_string())?;
                    Ok(Some(text.as_str()))
                })),
                _ => return Err((0, format!("{kind:?} in a string builder"))),
            },
            Builder::Text(b) => fill!(b, |cell| bytes(&cell).map(Some)),
            Builder::Binary(b) => fill!(b, |cell| bytes(&cell).map(Some)),
            Builder::Date(b) => fill!(b, |cell| packed_time(&cell)
                .map(|t| t.days_since_unix_epoch())),
            Builder::Timestamp(b) => {
                fill!(b, |cell| packed_time(&cell)
                    .map(|t| t.micros_since_unix_epoch()))
            }
            Builder::Duration(b) => fill!(b, |cell| duration_nanos(&cell).and_then(|ns| {
                if ns % 1000 != 0 {
                    return Err(format!("TIME value {ns} ns has sub-microsecond digits"));
                }
                Ok(Some(ns / 1000))
            })),
            Builder::List(b) => {
                for (i, &located) in cells.iter().enumerate() {
                    let cell = self.cell(row(i)?, located, arena).map_err(|e| (i, e))?;
                    if matches!(cell, Cell::Null) {
                        if !self.nullable {
                            return Err((i, "NULL in a NOT NULL column".to_string()));
                        }
                        b.append_null();
                        continue;
                    }
                    for element in vector(&cell).map_err(|e| (i, e))?.iter() {
                        b.values().append_value(element);
                    }
                    b.append(true);
                }
            }
        }
        Ok(())
    }
}

/// One column's values of one batch, as they are decoded.
pub(crate) struct ColumnBatch {
    builder: Builder,
    /// Zero or invalid dates written as NULL in this batch.
    invalid_dates: u64,
}

impl ColumnBatch {
    /// The column's array, and how many zero or invalid dates it holds as NULL.
    pub(crate) fn finish(self) -> Result<(ArrayRef, u64), (usize, String)> {
        Ok((finish(self.builder)?, self.invalid_dates))
    }
}

/// The array of a filled builder.
///
/// Text is collected as bytes and checked as UTF-8 once per batch (see [`is_utf8_per_value`]):
/// one long SIMD check is several times faster than one per short value, and than the standard
/// library's validator on multi-byte text. Only when it fails are the values checked one by one,
/// to name the row.
fn finish(builder: Builder) -> Result<ArrayRef, (usize, String)> {
    Ok(match builder {
        Builder::Int32(mut b) => Arc::new(b.finish()),
        Builder::Int64(mut b) => Arc::new(b.finish()),
        Builder::Decimal(mut b) => Arc::new(b.finish()),
        Builder::Float32(mut b) => Arc::new(b.finish()),
        Builder::Float64(mut b) => Arc::new(b.finish()),
        Builder::Utf8(mut b) => Arc::new(b.finish()),
        Builder::Text(mut b) => {
            let (offsets, values, nulls) = b.finish().into_parts();
            if !is_utf8_per_value(&offsets, &values) {
                return Err(first_invalid_text(&offsets, &values));
            }
            // SAFETY: `StringArray::try_new` would succeed, so `new_unchecked` may skip its
            // checks: (1) `OffsetBuffer` guarantees monotonic, non-negative offsets; (2) every
            // offset is a char boundary of `values`, hence at most `values.len()`, and `values`
            // is UTF-8, so each value `values[o[i]..o[i + 1]]` is UTF-8 (these are the two checks
            // of `is_utf8_per_value`, and the two `try_new` makes); (3) the null buffer, if any,
            // has one bit per value: `BinaryBuilder::finish` built all three parts from the same
            // appends.
            Arc::new(unsafe { StringArray::new_unchecked(offsets, values, nulls) })
        }
        Builder::Binary(mut b) => Arc::new(b.finish()),
        Builder::Date(mut b) => Arc::new(b.finish()),
        Builder::Timestamp(mut b) => Arc::new(b.finish()),
        Builder::Duration(mut b) => Arc::new(b.finish()),
        Builder::List(mut b) => Arc::new(b.finish()),
    })
}

/// Whether every value of a text column is UTF-8: the whole buffer is (one SIMD pass), and every
/// offset is a char boundary (the end, or a byte that is not a continuation byte `0b10xx_xxxx`),
/// so no value starts or ends inside a character. The first check alone is not enough:
/// the values `b"a\xc3"` and `b"\xa9"` concatenate to `"aé"`.
fn is_utf8_per_value(offsets: &OffsetBuffer<i32>, values: &[u8]) -> bool {
    simdutf8::basic::from_utf8(values).is_ok_and(|text| {
        offsets
            .iter()
            .all(|&o| usize::try_from(o).is_ok_and(|o| text.is_char_boundary(o)))
    })
}

/// The first value of a text column that is not UTF-8: its row and the error.
fn first_invalid_text(offsets: &OffsetBuffer<i32>, values: &[u8]) -> (usize, String) {
    offsets
        .windows(2)
        .enumerate()
        .find_map(|(row, w)| {
            let (start, end) = (usize::try_from(w[0]).ok()?, usize::try_from(w[1]).ok()?);
            let value = values.get(start..end)?;
            std::str::from_utf8(value)
                .err()
                .map(|e| (row, format!("text is not valid UTF-8: {e}")))
        })
        .unwrap_or((0, "text is not valid UTF-8".into()))
}

/// A builder for `rows` cells of `kind`, with room for `bytes` of variable-length data, so that a
/// batch fills it without regrowing.
fn new_builder(
    kind: ColumnKind,
    arrow_type: &arrow_schema::DataType,
    rows: usize,
    bytes: usize,
) -> Builder {
    match kind {
        ColumnKind::Int32 | ColumnKind::UInt32AsInt32 => {
            Builder::Int32(Int32Builder::with_capacity(rows))
        }
        ColumnKind::Int64 | ColumnKind::UInt32AsInt64 | ColumnKind::Bit => {
            Builder::Int64(Int64Builder::with_capacity(rows))
        }
        ColumnKind::UInt64AsDecimal | ColumnKind::Bit64 | ColumnKind::Decimal { .. } => {
            Builder::Decimal(
                Decimal128Builder::with_capacity(rows).with_data_type(kind.data_type()),
            )
        }
        ColumnKind::Float32 => Builder::Float32(Float32Builder::with_capacity(rows)),
        ColumnKind::Float64 => Builder::Float64(Float64Builder::with_capacity(rows)),
        ColumnKind::Utf8 => Builder::Text(BinaryBuilder::with_capacity(rows, bytes)),
        ColumnKind::DecimalText { .. } | ColumnKind::Enum | ColumnKind::Set | ColumnKind::Json => {
            Builder::Utf8(StringBuilder::with_capacity(rows, bytes))
        }
        ColumnKind::Binary => Builder::Binary(BinaryBuilder::with_capacity(rows, bytes)),
        ColumnKind::Date => Builder::Date(Date32Builder::with_capacity(rows)),
        ColumnKind::Datetime => {
            Builder::Timestamp(TimestampMicrosecondBuilder::with_capacity(rows))
        }
        ColumnKind::Timestamp => Builder::Timestamp(
            TimestampMicrosecondBuilder::with_capacity(rows).with_timezone(TIMESTAMP_TIME_ZONE),
        ),
        ColumnKind::Time => Builder::Duration(DurationMicrosecondBuilder::with_capacity(rows)),
        ColumnKind::VectorF32 => {
            // The element field (with its field id) must be the schema's own.
            let element = match arrow_type {
                arrow_schema::DataType::List(element) => element.clone(),
                _ => Arc::new(Field::new(
                    "element",
                    arrow_schema::DataType::Float32,
                    false,
                )),
            };
            Builder::List(
                ListBuilder::with_capacity(Float32Builder::with_capacity(bytes / 4), rows)
                    .with_field(element),
            )
        }
    }
}

/// Datum `index` of a common handle (the PK columns' key datums, concatenated).
fn common_handle_datum(handle: &[u8], index: usize) -> Result<Datum<'_>, String> {
    let mut rest = handle;
    for i in 0..=index {
        let (datum, used) =
            decode_datum(rest).map_err(|e| format!("common handle datum {i}: {e}"))?;
        if i == index {
            return Ok(datum);
        }
        rest = rest.get(used..).unwrap_or_default();
    }
    Err(format!("common handle has no datum {index}"))
}

fn mismatch(cell: &Cell<'_>, what: &str) -> String {
    match cell {
        Cell::Datum(d) => format!("stored datum {d:?} is not a {what}"),
        Cell::Handle(_) => format!("an integer handle cannot be a {what}"),
        _ => format!("value is not a {what}"),
    }
}

#[inline(always)]
fn signed(cell: &Cell<'_>) -> Result<i64, String> {
    match cell {
        Cell::Payload(p) => decode_v2_int(p).map_err(|e| e.to_string()),
        Cell::Handle(h) | Cell::Datum(Datum::Int(h)) => Ok(*h),
        Cell::Datum(Datum::Uint(u)) => i64::try_from(*u).map_err(|_| format!("{u} overflows")),
        _ => Err(mismatch(cell, "signed integer")),
    }
}

#[inline(always)]
fn unsigned(cell: &Cell<'_>) -> Result<u64, String> {
    match cell {
        Cell::Payload(p) => decode_v2_uint(p).map_err(|e| e.to_string()),
        // An unsigned PK handle keeps the same 64 bits in the signed key handle.
        Cell::Handle(h) | Cell::Datum(Datum::Int(h)) => Ok(*h as u64),
        Cell::Datum(Datum::Uint(u)) => Ok(*u),
        _ => Err(mismatch(cell, "unsigned integer")),
    }
}

#[inline(always)]
fn float(cell: &Cell<'_>) -> Result<f64, String> {
    match cell {
        Cell::Payload(p) => decode_cmp_f64(p).map_err(|e| e.to_string()),
        Cell::Datum(Datum::Float(f)) => Ok(*f),
        _ => Err(mismatch(cell, "float")),
    }
}

#[inline]
fn bytes<'c>(cell: &'c Cell<'_>) -> Result<&'c [u8], String> {
    match cell {
        Cell::Payload(p) => Ok(p),
        Cell::Datum(Datum::Bytes(b)) => Ok(b),
        _ => Err(mismatch(cell, "string")),
    }
}

fn decimal(cell: &Cell<'_>) -> Result<Decimal, String> {
    match cell {
        Cell::Payload(p) => {
            let (d, used) = Decimal::decode(p).map_err(|e| e.to_string())?;
            if used != p.len() {
                return Err(format!("decimal uses {used} of {} bytes", p.len()));
            }
            Ok(d)
        }
        Cell::Datum(Datum::Decimal(d)) => Ok(*d),
        _ => Err(mismatch(cell, "decimal")),
    }
}

/// The unscaled value of a `DECIMAL(_, scale)` cell: straight from the payload when it is stored
/// with the column's frac (nearly always), else through the digits, rounding half up.
#[inline]
fn unscaled_decimal(cell: &Cell<'_>, scale: u8) -> Result<i128, String> {
    if let Cell::Payload(p) = cell {
        match Decimal::decode_unscaled_i128(p, scale).map_err(|e| e.to_string())? {
            Some((value, used)) if used == p.len() => return Ok(value),
            Some((_, used)) => return Err(format!("decimal uses {used} of {} bytes", p.len())),
            None => {}
        }
    }
    let d = decimal(cell)?;
    d.to_i128_scaled(scale)
        .ok_or_else(|| format!("decimal {d} does not fit the column"))
}

#[inline(always)]
fn packed_time(cell: &Cell<'_>) -> Result<PackedTime, String> {
    unsigned(cell).map(PackedTime::from_packed)
}

fn duration_nanos(cell: &Cell<'_>) -> Result<i64, String> {
    match cell {
        Cell::Datum(Datum::Duration(ns)) => Ok(*ns),
        _ => signed(cell),
    }
}

#[inline]
fn json_payload<'c>(cell: &'c Cell<'_>) -> Result<&'c [u8], String> {
    match cell {
        Cell::Payload(p) | Cell::Datum(Datum::Json(p)) => Ok(p),
        _ => Err(mismatch(cell, "JSON value")),
    }
}

fn vector<'c>(cell: &Cell<'c>) -> Result<VectorF32<'c>, String> {
    match cell {
        Cell::Payload(p) | Cell::Datum(Datum::VectorF32(p)) => {
            VectorF32::from_payload(p).map_err(|e| e.to_string())
        }
        _ => Err(mismatch(cell, "vector")),
    }
}

fn narrow<T: TryFrom<i128>>(v: i128) -> Result<T, String> {
    T::try_from(v).map_err(|_| format!("value {v} is out of range for the column type"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;

    /// `finish` of a text column holding `values` (`None`: NULL).
    fn text(values: &[Option<&[u8]>]) -> Result<ArrayRef, (usize, String)> {
        let mut b = BinaryBuilder::new();
        for v in values {
            b.append_option(*v);
        }
        finish(Builder::Text(b))
    }

    #[test]
    fn text_in_any_script_is_accepted() {
        let values: [Option<&[u8]>; 5] = [
            Some("plain".as_bytes()),
            None,
            Some("王小明 Иван Zoë 😀❤️".as_bytes()),
            Some(b""),
            Some("午前中に配達".as_bytes()),
        ];
        let array = text(&values).unwrap();
        let strings = array.as_any().downcast_ref::<StringArray>().unwrap();
        let got: Vec<Option<&str>> = strings.iter().collect();
        let want: Vec<Option<&str>> = values
            .iter()
            .map(|v| v.map(|b| std::str::from_utf8(b).unwrap()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn invalid_text_is_refused_naming_the_row() {
        // Bytes that are UTF-8 nowhere.
        assert_eq!(
            text(&[Some(b"ok"), Some(&[0xff, 0xfe])]).unwrap_err(),
            (
                1,
                "text is not valid UTF-8: invalid utf-8 sequence of 1 bytes from index 0".into()
            )
        );
        // A character split between two values: their concatenation "aé" is UTF-8, each value
        // is not, and the first is named.
        assert_eq!(
            text(&[Some(b"x"), Some(b"a\xc3"), None, Some(b"\xa9")]).unwrap_err(),
            (
                1,
                "text is not valid UTF-8: incomplete utf-8 byte sequence from index 1".into()
            )
        );
        // A bad byte in a long multi-byte value, past the first SIMD chunk.
        let mut long = "é".repeat(100).into_bytes();
        long[151] = b'a';
        assert_eq!(text(&[Some(&long)]).unwrap_err().0, 0);
    }
}
