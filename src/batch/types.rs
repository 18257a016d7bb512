//! How each TiDB column type is represented in Arrow (and so in Parquet).
//!
//! `docs/type-mapping.md` is the user-facing table; this is the code that implements it. The rule is
//! that engines read the value natively and nothing is lost: BIGINT UNSIGNED needs 64 value bits,
//! so it becomes DECIMAL(20,0) rather than a string or a wrapped INT64; TIME keeps its sign and
//! its hours beyond 24 as a duration in microseconds.

use std::sync::Arc;

use arrow_schema::{DataType, Field, TimeUnit};

use crate::meta::{ColumnSchema, FieldType, TypeCode};
use crate::{Error, Result};

/// Largest DECIMAL precision Parquet/Iceberg engines read as a decimal (Arrow's Decimal128).
pub const MAX_NATIVE_DECIMAL_PRECISION: u8 = 38;

/// The time zone TiDB stores TIMESTAMP values in.
pub const TIMESTAMP_TIME_ZONE: &str = "UTC";

/// The Arrow shape of one exported TiDB column, and how its stored value is decoded into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Signed integer (TINYINT..INT, YEAR), written as INT32.
    Int32,
    /// BIGINT, written as INT64.
    Int64,
    /// TINYINT/SMALLINT/MEDIUMINT UNSIGNED: fits INT32.
    UInt32AsInt32,
    /// INT UNSIGNED: written as INT64.
    UInt32AsInt64,
    /// BIGINT UNSIGNED: written as DECIMAL(20,0) so all 64 bits survive.
    UInt64AsDecimal,
    /// FLOAT: stored widened to f64; narrowing back is exact.
    Float32,
    /// DOUBLE.
    Float64,
    /// DECIMAL(p,s) with p ≤ 38.
    Decimal {
        /// Column precision.
        precision: u8,
        /// Column scale.
        scale: u8,
    },
    /// DECIMAL(p,s) with p > 38: exact text, since no engine reads wider decimals.
    DecimalText {
        /// Column scale (the text always has this many fractional digits).
        scale: u8,
    },
    /// DATE → days since the epoch.
    Date,
    /// DATETIME → microseconds, no time zone (wall clock).
    Datetime,
    /// TIMESTAMP → microseconds, UTC.
    Timestamp,
    /// TIME → a signed duration in microseconds (range ±838:59:59.999999).
    Time,
    /// Character data, written as STRING.
    Utf8,
    /// Binary strings and BLOBs, written as BINARY.
    Binary,
    /// ENUM → the element's name.
    Enum,
    /// SET → the members' names joined by `,`.
    Set,
    /// BIT(n), n ≤ 63 → INT64.
    Bit,
    /// BIT(64) → DECIMAL(20,0).
    Bit64,
    /// JSON → its MySQL text form, with Parquet's JSON logical type.
    Json,
    /// `VECTOR(FLOAT32)` → `LIST<FLOAT>`.
    VectorF32,
}

impl ColumnKind {
    /// Picks the representation for a column, or explains why it cannot be exported.
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
            TypeCode::NewDecimal => {
                // TiDB's defaults for an unspecified DECIMAL are (10, 0).
                let precision = if ft.flen > 0 {
                    ft.flen.min(65) as u8
                } else {
                    10
                };
                let scale = if ft.decimal > 0 {
                    ft.decimal.min(30) as u8
                } else {
                    0
                };
                if precision <= MAX_NATIVE_DECIMAL_PRECISION {
                    ColumnKind::Decimal { precision, scale }
                } else {
                    ColumnKind::DecimalText { scale }
                }
            }
            TypeCode::Date | TypeCode::NewDate => ColumnKind::Date,
            TypeCode::Datetime => ColumnKind::Datetime,
            TypeCode::Timestamp => ColumnKind::Timestamp,
            TypeCode::Duration => ColumnKind::Time,
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
            TypeCode::Enum => ColumnKind::Enum,
            TypeCode::Set => ColumnKind::Set,
            TypeCode::Bit if ft.flen >= 64 => ColumnKind::Bit64,
            TypeCode::Bit => ColumnKind::Bit,
            TypeCode::Json => ColumnKind::Json,
            TypeCode::TiDBVectorFloat32 => ColumnKind::VectorF32,
            other => {
                return Err(Error::Unsupported(format!(
                    "column {:?} has type {}, which TiDB does not store in tables",
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
            ColumnKind::Int64 | ColumnKind::UInt32AsInt64 | ColumnKind::Bit => DataType::Int64,
            ColumnKind::UInt64AsDecimal | ColumnKind::Bit64 => DataType::Decimal128(20, 0),
            ColumnKind::Float32 => DataType::Float32,
            ColumnKind::Float64 => DataType::Float64,
            ColumnKind::Decimal { precision, scale } => {
                DataType::Decimal128(precision, scale as i8)
            }
            ColumnKind::Date => DataType::Date32,
            ColumnKind::Datetime => DataType::Timestamp(TimeUnit::Microsecond, None),
            ColumnKind::Timestamp => {
                DataType::Timestamp(TimeUnit::Microsecond, Some(TIMESTAMP_TIME_ZONE.into()))
            }
            ColumnKind::Time => DataType::Duration(TimeUnit::Microsecond),
            ColumnKind::Utf8
            | ColumnKind::DecimalText { .. }
            | ColumnKind::Enum
            | ColumnKind::Set
            | ColumnKind::Json => DataType::Utf8,
            ColumnKind::Binary => DataType::Binary,
            ColumnKind::VectorF32 => {
                DataType::List(Arc::new(Field::new("element", DataType::Float32, false)))
            }
        }
    }

    /// Whether a stored value may still come out as NULL in a NOT NULL column: zero and invalid
    /// dates (`0000-00-00`, `2021-02-30`) have no calendar value, so they are written as NULL and
    /// counted in the report. Such columns are therefore always nullable in the output.
    pub fn may_null_valid_values(self) -> bool {
        matches!(
            self,
            ColumnKind::Date | ColumnKind::Datetime | ColumnKind::Timestamp
        )
    }
}
