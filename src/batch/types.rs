//! How each TiDB column type is represented in Arrow (and so in Parquet).
//!
//! `docs/type-mapping.md` is the user-facing table; this is the code that implements it. The rule is
//! that engines read the value natively and nothing is lost: unsigned BIGINT needs 64 value bits, so it
//! becomes DECIMAL(20,0) rather than a string or a wrapped INT64.

use arrow_schema::DataType;

use crate::meta::{ColumnSchema, FieldType, TypeCode};
use crate::{Error, Result};

/// The Arrow shape of one exported TiDB column, and how its stored payload is decoded into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Signed integer stored as v2 variable-width LE int, written as INT32.
    Int32,
    /// Signed integer written as INT64.
    Int64,
    /// Unsigned integer that fits INT32 (TINYINT/SMALLINT/MEDIUMINT UNSIGNED).
    UInt32AsInt32,
    /// INT UNSIGNED, written as INT64.
    UInt32AsInt64,
    /// BIGINT UNSIGNED, written as DECIMAL(20,0) so all 64 bits survive.
    UInt64AsDecimal,
    /// FLOAT: stored widened to a comparable f64, written as FLOAT.
    Float32,
    /// DOUBLE.
    Float64,
    /// Character data (non-binary collation), written as STRING.
    Utf8,
    /// Binary strings and BLOBs, written as BINARY.
    Binary,
}

impl ColumnKind {
    /// Picks the representation for a column, or explains why it is not exportable yet.
    pub fn of(column: &ColumnSchema) -> Result<Self> {
        let ft: &FieldType = &column.field_type;
        let unsigned = ft.is_unsigned();
        let kind = match ft.tp {
            TypeCode::Tiny | TypeCode::Short | TypeCode::Int24 if unsigned => {
                ColumnKind::UInt32AsInt32
            }
            TypeCode::Tiny | TypeCode::Short | TypeCode::Int24 | TypeCode::Year => {
                ColumnKind::Int32
            }
            TypeCode::Long if unsigned => ColumnKind::UInt32AsInt64,
            TypeCode::Long => ColumnKind::Int32,
            TypeCode::LongLong if unsigned => ColumnKind::UInt64AsDecimal,
            TypeCode::LongLong => ColumnKind::Int64,
            TypeCode::Float => ColumnKind::Float32,
            TypeCode::Double => ColumnKind::Float64,
            TypeCode::Varchar
            | TypeCode::VarString
            | TypeCode::String
            | TypeCode::TinyBlob
            | TypeCode::MediumBlob
            | TypeCode::LongBlob
            | TypeCode::Blob => {
                if ft.is_binary_string() {
                    ColumnKind::Binary
                } else {
                    ColumnKind::Utf8
                }
            }
            other => {
                return Err(Error::Unsupported(format!(
                    "column {:?} has type {}, which this version cannot export yet",
                    column.name,
                    other.name()
                )))
            }
        };
        Ok(kind)
    }

    /// The Arrow type written for this kind.
    pub fn data_type(self) -> DataType {
        match self {
            ColumnKind::Int32 | ColumnKind::UInt32AsInt32 => DataType::Int32,
            ColumnKind::Int64 | ColumnKind::UInt32AsInt64 => DataType::Int64,
            ColumnKind::UInt64AsDecimal => DataType::Decimal128(20, 0),
            ColumnKind::Float32 => DataType::Float32,
            ColumnKind::Float64 => DataType::Float64,
            ColumnKind::Utf8 => DataType::Utf8,
            ColumnKind::Binary => DataType::Binary,
        }
    }
}
