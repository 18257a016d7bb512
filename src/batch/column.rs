//! One Arrow builder per exported column, filled a column at a time.
//!
//! A batch's rows are first collected as raw row values; each column is then decoded in one tight
//! loop over those rows: the type `match` happens once per column, not once per cell, and no cell
//! allocates.

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, Decimal128Builder, Float32Builder, Float64Builder, Int32Builder, Int64Builder,
    StringBuilder,
};
use arrow_array::ArrayRef;

use super::types::ColumnKind;
use crate::codec::number::{decode_cmp_f64, decode_v2_int, decode_v2_uint};
use crate::codec::row_v2::{ColumnValue, RowSlice};
use crate::meta::ColumnSchema;

/// Where a column's value comes from.
#[derive(Debug, Clone)]
pub(crate) enum CellSource {
    /// The row value, under this column id.
    Row(i64),
    /// The integer handle in the key (`pk_is_handle` tables).
    IntHandle,
}

/// One value as found in storage, before decoding.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    /// The row-format-v2 payload of the value.
    Payload(&'a [u8]),
    /// An integer taken from the key handle.
    Handle(i64),
    /// SQL NULL.
    Null,
}

/// A row as the column decoders see it.
pub(crate) struct RowRef<'a> {
    pub value: RowSlice<'a>,
    pub handle: i64,
}

enum Builder {
    Int32(Int32Builder),
    Int64(Int64Builder),
    Decimal(Decimal128Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Utf8(StringBuilder),
    Binary(BinaryBuilder),
}

/// Decodes one TiDB column into an Arrow array.
pub(crate) struct ColumnDecoder {
    pub(crate) name: String,
    pub(crate) id: i64,
    kind: ColumnKind,
    source: CellSource,
    nullable: bool,
    /// What a row written before `ADD COLUMN` holds: the origin default as a v2 payload, or NULL.
    default: Option<Vec<u8>>,
    builder: Builder,
}

impl ColumnDecoder {
    pub(crate) fn new(
        column: &ColumnSchema,
        kind: ColumnKind,
        source: CellSource,
        default: Option<Vec<u8>>,
    ) -> Self {
        let builder = match kind {
            ColumnKind::Int32 | ColumnKind::UInt32AsInt32 => Builder::Int32(Int32Builder::new()),
            ColumnKind::Int64 | ColumnKind::UInt32AsInt64 => Builder::Int64(Int64Builder::new()),
            ColumnKind::UInt64AsDecimal => {
                Builder::Decimal(Decimal128Builder::new().with_data_type(kind.data_type()))
            }
            ColumnKind::Float32 => Builder::Float32(Float32Builder::new()),
            ColumnKind::Float64 => Builder::Float64(Float64Builder::new()),
            ColumnKind::Utf8 => Builder::Utf8(StringBuilder::new()),
            ColumnKind::Binary => Builder::Binary(BinaryBuilder::new()),
        };
        ColumnDecoder {
            name: column.name.clone(),
            id: column.id,
            kind,
            source,
            nullable: column.nullable,
            default,
            builder,
        }
    }

    fn cell<'a>(&'a self, row: &RowRef<'a>) -> Result<Cell<'a>, String> {
        match self.source {
            CellSource::IntHandle => Ok(Cell::Handle(row.handle)),
            CellSource::Row(id) => match row.value.get(id).map_err(|e| e.to_string())? {
                ColumnValue::Value(payload) => Ok(Cell::Payload(payload)),
                ColumnValue::Null => Ok(Cell::Null),
                ColumnValue::Absent => match &self.default {
                    Some(payload) => Ok(Cell::Payload(payload)),
                    None => Ok(Cell::Null),
                },
            },
        }
    }

    /// Appends this column's value of every row. On failure returns the failing row's index and
    /// what went wrong.
    pub(crate) fn decode(&mut self, rows: &[RowRef<'_>]) -> Result<(), (usize, String)> {
        // Take the builder out so that `self.cell` can borrow `self` inside the loops.
        let mut builder = std::mem::replace(&mut self.builder, Builder::Int32(Int32Builder::new()));
        let result = self.decode_into(&mut builder, rows);
        self.builder = builder;
        result
    }

    fn decode_into(
        &self,
        builder: &mut Builder,
        rows: &[RowRef<'_>],
    ) -> Result<(), (usize, String)> {
        macro_rules! fill {
            ($b:expr, |$cell:ident| $decode:expr) => {
                for (i, row) in rows.iter().enumerate() {
                    let at = |e: String| (i, e);
                    match self.cell(row).map_err(at)? {
                        Cell::Null => {
                            if !self.nullable {
                                return Err((i, "NULL in a NOT NULL column".to_string()));
                            }
                            $b.append_null()
                        }
                        $cell => {
                            let value = $decode.map_err(at)?;
                            $b.append_value(value)
                        }
                    }
                }
            };
        }
        match builder {
            Builder::Int32(b) if self.kind == ColumnKind::UInt32AsInt32 => {
                fill!(b, |cell| unsigned(cell).and_then(|v| narrow(v as i128)))
            }
            Builder::Int32(b) => fill!(b, |cell| signed(cell).and_then(|v| narrow(v as i128))),
            Builder::Int64(b) if self.kind == ColumnKind::UInt32AsInt64 => {
                fill!(b, |cell| unsigned(cell).and_then(|v| narrow(v as i128)))
            }
            Builder::Int64(b) => fill!(b, |cell| signed(cell)),
            Builder::Decimal(b) => fill!(b, |cell| unsigned(cell).map(i128::from)),
            Builder::Float32(b) => fill!(b, |cell| float(cell).map(|v| v as f32)),
            Builder::Float64(b) => fill!(b, |cell| float(cell)),
            Builder::Utf8(b) => fill!(b, |cell| bytes(cell).and_then(|v| {
                std::str::from_utf8(v).map_err(|e| format!("text is not valid UTF-8: {e}"))
            })),
            Builder::Binary(b) => fill!(b, |cell| bytes(cell)),
        }
        Ok(())
    }

    /// Finishes the array built so far and resets the builder.
    pub(crate) fn finish(&mut self) -> ArrayRef {
        match &mut self.builder {
            Builder::Int32(b) => Arc::new(b.finish()),
            Builder::Int64(b) => Arc::new(b.finish()),
            Builder::Decimal(b) => Arc::new(b.finish()),
            Builder::Float32(b) => Arc::new(b.finish()),
            Builder::Float64(b) => Arc::new(b.finish()),
            Builder::Utf8(b) => Arc::new(b.finish()),
            Builder::Binary(b) => Arc::new(b.finish()),
        }
    }
}

fn signed(cell: Cell<'_>) -> Result<i64, String> {
    match cell {
        Cell::Payload(p) => decode_v2_int(p).map_err(|e| e.to_string()),
        Cell::Handle(h) => Ok(h),
        Cell::Null => Err("unexpected NULL".into()),
    }
}

fn unsigned(cell: Cell<'_>) -> Result<u64, String> {
    match cell {
        Cell::Payload(p) => decode_v2_uint(p).map_err(|e| e.to_string()),
        // An unsigned PK handle keeps the same 64 bits in the signed key handle.
        Cell::Handle(h) => Ok(h as u64),
        Cell::Null => Err("unexpected NULL".into()),
    }
}

fn float(cell: Cell<'_>) -> Result<f64, String> {
    match cell {
        Cell::Payload(p) => decode_cmp_f64(p).map_err(|e| e.to_string()),
        _ => Err("a float column cannot be a handle".into()),
    }
}

fn bytes(cell: Cell<'_>) -> Result<&[u8], String> {
    match cell {
        Cell::Payload(p) => Ok(p),
        _ => Err("a string column cannot be an integer handle".into()),
    }
}

fn narrow<T: TryFrom<i128>>(v: i128) -> Result<T, String> {
    T::try_from(v).map_err(|_| format!("value {v} is out of range for the column type"))
}
