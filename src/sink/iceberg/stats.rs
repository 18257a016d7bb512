//! Per-column statistics of one Parquet file, as Iceberg's `data_file` records them.
//!
//! Counts and bounds come from the Arrow batches as they are written ([`StatsCollector`]), not
//! from the Parquet footer: the footer has no NaN counts, its byte-array statistics are cut at
//! 64 bytes by arrow-rs, and its float statistics follow Parquet's rules rather than Iceberg's.
//! Only the on-disk column sizes and row-group offsets come from the footer.
//!
//! ```text
//! Iceberg data_file field        source
//! 108 column_sizes               Σ compressed size of the column's chunks (footer)
//! 109 value_counts               rows, nulls and NaNs included
//! 110 null_value_counts          Arrow null count
//! 137 nan_value_counts           NaNs (float and double columns only)
//! 125/128 lower/upper_bounds     min/max of non-null, non-NaN values; strings and binaries
//!                                truncated to 16 characters/bytes (upper bound incremented)
//! 132 split_offsets              start of each row group (footer)
//! ```
//!
//! Columns are keyed by the Parquet field id in the Arrow field metadata (`PARQUET:field_id`);
//! a field without one gets no statistics. Nested columns (lists) get none either: Iceberg keys
//! statistics by leaf field, and their bounds are optional.

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, DurationMicrosecondType, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, Time64MicrosecondType, TimestampMicrosecondType,
};
use arrow_array::{Array, ArrowPrimitiveType, PrimitiveArray, RecordBatch};
use arrow_schema::{DataType, Schema, TimeUnit};
use parquet::file::metadata::ParquetMetaData;

use super::value::{
    increment_binary, increment_string, truncate_binary_lower, truncate_string_lower, Value,
};
use crate::batch::PARQUET_FIELD_ID_KEY;

/// Statistics of one column of one file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ColumnStats {
    /// Parquet/Iceberg field id (the column's name is in the table schema).
    pub field_id: i32,
    /// Values, nulls and NaNs included (the file's row count for a top-level column).
    pub value_count: u64,
    /// Null values.
    pub null_count: u64,
    /// NaN values; `Some` for float and double columns only.
    pub nan_count: Option<u64>,
    /// At most every non-null, non-NaN value (`None` when there is none, or for types without
    /// bounds).
    pub lower: Option<Value>,
    /// At least every non-null, non-NaN value; `None` also when a truncated bound could not be
    /// incremented.
    pub upper: Option<Value>,
    /// Compressed bytes of the column's chunks in the file.
    pub size: Option<u64>,
}

/// Statistics of one Parquet file.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FileStats {
    /// One entry per top-level primitive column with a field id, in schema order.
    pub columns: Vec<ColumnStats>,
    /// File offset of each row group, ascending.
    pub split_offsets: Vec<i64>,
}

impl FileStats {
    /// The statistics of the column with `field_id`.
    pub fn column(&self, field_id: i32) -> Option<&ColumnStats> {
        self.columns.iter().find(|c| c.field_id == field_id)
    }

    /// The `long` value every row of column `field_id` holds, when lower and upper bound agree
    /// and the column has no nulls (the `_tidb_table_id` of a file, for instance).
    pub fn single_long(&self, field_id: i32) -> Option<i64> {
        let column = self.column(field_id)?;
        match (&column.lower, &column.upper) {
            (Some(Value::Long(a)), Some(Value::Long(b))) if a == b && column.null_count == 0 => {
                Some(*a)
            }
            _ => None,
        }
    }
}

/// [`FileStats`] packed (postcard), as a file's record ([`crate::sink::ExportedFile`]) keeps
/// them from the job that wrote the file until its table is described: unpacked they take about
/// 130 bytes a column, packed about 20, and an export of 100 k tables holds 100 k of them. Job
/// markers hold them unpacked: (de)serialized as the [`FileStats`] they stand for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackedStats(Box<[u8]>);

impl PackedStats {
    /// Packs `stats`; no statistics pack to nothing.
    ///
    /// # Errors
    /// When postcard cannot serialize them, which only a bug can cause.
    pub fn pack(stats: &FileStats) -> Result<Self, String> {
        if stats == &FileStats::default() {
            return Ok(PackedStats::default());
        }
        postcard::to_allocvec(stats)
            .map(|bytes| PackedStats(bytes.into()))
            .map_err(|e| format!("packing column statistics: {e}"))
    }

    /// The statistics packed.
    ///
    /// # Errors
    /// When the bytes are not [`PackedStats::pack`]'s, which only a bug can cause: the message
    /// says what postcard found.
    pub fn unpack(&self) -> Result<FileStats, String> {
        if self.0.is_empty() {
            return Ok(FileStats::default());
        }
        postcard::from_bytes(&self.0).map_err(|e| format!("packed column statistics: {e}"))
    }
}

impl serde::Serialize for PackedStats {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let stats = self.unpack().map_err(serde::ser::Error::custom)?;
        stats.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for PackedStats {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stats = FileStats::deserialize(deserializer)?;
        PackedStats::pack(&stats).map_err(serde::de::Error::custom)
    }
}

/// Collects [`FileStats`] from the batches written to one file.
#[derive(Debug)]
pub struct StatsCollector {
    columns: Vec<ColumnCollector>,
}

#[derive(Debug)]
struct ColumnCollector {
    /// Index of the column in each batch.
    index: usize,
    field_id: i32,
    values: u64,
    nulls: u64,
    acc: Accumulator,
}

/// How an integer column's values become Iceberg values.
#[derive(Debug, Clone, Copy)]
enum IntKind {
    Int,
    Long,
    Date,
    Time,
    Timestamp,
    TimestampTz,
}

#[derive(Debug, Clone, Copy)]
enum BytesKind {
    String,
    Binary,
    Fixed,
}

#[derive(Debug)]
enum Accumulator {
    Int {
        kind: IntKind,
        min: Option<i64>,
        max: Option<i64>,
    },
    Float32 {
        min: Option<f32>,
        max: Option<f32>,
        nans: u64,
    },
    Float64 {
        min: Option<f64>,
        max: Option<f64>,
        nans: u64,
    },
    Decimal {
        scale: i8,
        min: Option<i128>,
        max: Option<i128>,
    },
    Boolean {
        any_false: bool,
        any_true: bool,
    },
    /// Strings and binaries keep only their truncated prefixes: truncation preserves order, so
    /// the smallest prefix is the prefix of the smallest value, and likewise for the largest.
    Bytes {
        kind: BytesKind,
        min: Option<Vec<u8>>,
        max: Option<Vec<u8>>,
        /// Whether a value starting with `max` was longer than it (the upper bound then needs
        /// incrementing).
        max_cut: bool,
    },
    /// Counts only: types Iceberg keeps no bounds for here (dictionaries).
    CountsOnly,
}

impl Accumulator {
    fn for_type(data_type: &DataType) -> Option<Self> {
        let int = |kind| Accumulator::Int {
            kind,
            min: None,
            max: None,
        };
        let bytes = |kind| Accumulator::Bytes {
            kind,
            min: None,
            max: None,
            max_cut: false,
        };
        Some(match data_type {
            DataType::Int8 | DataType::Int16 | DataType::Int32 => int(IntKind::Int),
            DataType::Int64 | DataType::Duration(TimeUnit::Microsecond) => int(IntKind::Long),
            DataType::Date32 => int(IntKind::Date),
            DataType::Time64(TimeUnit::Microsecond) => int(IntKind::Time),
            DataType::Timestamp(TimeUnit::Microsecond, None) => int(IntKind::Timestamp),
            DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => int(IntKind::TimestampTz),
            DataType::Float32 => Accumulator::Float32 {
                min: None,
                max: None,
                nans: 0,
            },
            DataType::Float64 => Accumulator::Float64 {
                min: None,
                max: None,
                nans: 0,
            },
            DataType::Decimal128(_, scale) => Accumulator::Decimal {
                scale: *scale,
                min: None,
                max: None,
            },
            DataType::Boolean => Accumulator::Boolean {
                any_false: false,
                any_true: false,
            },
            DataType::Utf8 | DataType::LargeUtf8 => bytes(BytesKind::String),
            DataType::Binary | DataType::LargeBinary => bytes(BytesKind::Binary),
            DataType::FixedSizeBinary(_) => bytes(BytesKind::Fixed),
            DataType::Dictionary(_, _) => Accumulator::CountsOnly,
            // Nested and other types: no statistics at all.
            _ => return None,
        })
    }
}

impl StatsCollector {
    /// A collector for batches of `schema`. Columns without a `PARQUET:field_id` are skipped.
    pub fn new(schema: &Schema) -> Self {
        let columns = schema
            .fields()
            .iter()
            .enumerate()
            .filter_map(|(index, field)| {
                let field_id = field
                    .metadata()
                    .get(PARQUET_FIELD_ID_KEY)
                    .and_then(|id| id.parse::<i32>().ok())?;
                Some(ColumnCollector {
                    index,
                    field_id,
                    values: 0,
                    nulls: 0,
                    acc: Accumulator::for_type(field.data_type())?,
                })
            })
            .collect();
        StatsCollector { columns }
    }

    /// Adds the values of one batch (of the schema given to [`Self::new`]).
    pub fn update(&mut self, batch: &RecordBatch) {
        for column in &mut self.columns {
            let Some(array) = batch.columns().get(column.index) else {
                continue;
            };
            column.values += array.len() as u64;
            column.nulls += array.null_count() as u64;
            column.acc.update(array.as_ref());
        }
    }

    /// The file's statistics, with column sizes and row-group offsets from its footer.
    pub fn finish(self, footer: &ParquetMetaData) -> FileStats {
        let mut sizes: BTreeMap<i32, u64> = BTreeMap::new();
        let mut split_offsets = Vec::with_capacity(footer.num_row_groups());
        for row_group in footer.row_groups() {
            for chunk in row_group.columns() {
                let info = chunk.column_descr().self_type().get_basic_info();
                if info.has_id() {
                    let size = u64::try_from(chunk.compressed_size()).unwrap_or_default();
                    *sizes.entry(info.id()).or_default() += size;
                }
            }
            if let Some(first) = row_group.columns().first() {
                split_offsets.push(
                    first
                        .dictionary_page_offset()
                        .unwrap_or_else(|| first.data_page_offset()),
                );
            }
        }
        split_offsets.sort_unstable();
        let columns = self
            .columns
            .into_iter()
            .map(|column| {
                let (lower, upper, nan_count) = column.acc.finish();
                ColumnStats {
                    field_id: column.field_id,
                    value_count: column.values,
                    null_count: column.nulls,
                    nan_count,
                    lower,
                    upper,
                    size: sizes.get(&column.field_id).copied(),
                }
            })
            .collect();
        FileStats {
            columns,
            split_offsets,
        }
    }
}

/// Folds `values` into an integer min/max.
fn fold_ints(min: &mut Option<i64>, max: &mut Option<i64>, values: impl Iterator<Item = i64>) {
    let (mut lo, mut hi) = (*min, *max);
    for v in values {
        lo = Some(lo.map_or(v, |m| m.min(v)));
        hi = Some(hi.map_or(v, |m| m.max(v)));
    }
    *min = lo;
    *max = hi;
}

/// The non-null values of a primitive array. Statically dispatched: the null check is one
/// predictable branch per value, and none reads the bitmap when the array has no nulls.
fn non_null<T: ArrowPrimitiveType>(
    array: &PrimitiveArray<T>,
) -> impl Iterator<Item = T::Native> + '_ {
    let nulls = array.nulls().filter(|n| n.null_count() > 0);
    array
        .values()
        .iter()
        .enumerate()
        .filter(move |(i, _)| nulls.is_none_or(|n| n.is_valid(*i)))
        .map(|(_, v)| *v)
}

impl Accumulator {
    fn update(&mut self, array: &dyn Array) {
        match self {
            Accumulator::Int { min, max, .. } => match array.data_type() {
                DataType::Int8 => fold_ints(
                    min,
                    max,
                    non_null(array.as_primitive::<Int8Type>()).map(i64::from),
                ),
                DataType::Int16 => fold_ints(
                    min,
                    max,
                    non_null(array.as_primitive::<Int16Type>()).map(i64::from),
                ),
                DataType::Int32 => fold_ints(
                    min,
                    max,
                    non_null(array.as_primitive::<Int32Type>()).map(i64::from),
                ),
                DataType::Date32 => fold_ints(
                    min,
                    max,
                    non_null(array.as_primitive::<Date32Type>()).map(i64::from),
                ),
                DataType::Int64 => fold_ints(min, max, non_null(array.as_primitive::<Int64Type>())),
                DataType::Duration(_) => fold_ints(
                    min,
                    max,
                    non_null(array.as_primitive::<DurationMicrosecondType>()),
                ),
                DataType::Time64(_) => fold_ints(
                    min,
                    max,
                    non_null(array.as_primitive::<Time64MicrosecondType>()),
                ),
                DataType::Timestamp(_, _) => fold_ints(
                    min,
                    max,
                    non_null(array.as_primitive::<TimestampMicrosecondType>()),
                ),
                _ => {}
            },
            Accumulator::Float32 { min, max, nans } => {
                for v in non_null(array.as_primitive::<Float32Type>()) {
                    if v.is_nan() {
                        *nans += 1;
                        continue;
                    }
                    *min = Some(min.map_or(v, |m| if v.total_cmp(&m).is_lt() { v } else { m }));
                    *max = Some(max.map_or(v, |m| if v.total_cmp(&m).is_gt() { v } else { m }));
                }
            }
            Accumulator::Float64 { min, max, nans } => {
                for v in non_null(array.as_primitive::<Float64Type>()) {
                    if v.is_nan() {
                        *nans += 1;
                        continue;
                    }
                    *min = Some(min.map_or(v, |m| if v.total_cmp(&m).is_lt() { v } else { m }));
                    *max = Some(max.map_or(v, |m| if v.total_cmp(&m).is_gt() { v } else { m }));
                }
            }
            Accumulator::Decimal { min, max, .. } => {
                for v in non_null(array.as_primitive::<Decimal128Type>()) {
                    *min = Some(min.map_or(v, |m| m.min(v)));
                    *max = Some(max.map_or(v, |m| m.max(v)));
                }
            }
            Accumulator::Boolean {
                any_false,
                any_true,
            } => {
                for v in array.as_boolean().iter().flatten() {
                    if v {
                        *any_true = true;
                    } else {
                        *any_false = true;
                    }
                }
            }
            Accumulator::Bytes {
                kind,
                min,
                max,
                max_cut,
            } => {
                let mut fold = |value: &[u8], prefix: &[u8]| {
                    if min.as_deref().is_none_or(|m| prefix < m) {
                        *min = Some(prefix.to_vec());
                    }
                    let cut = prefix.len() < value.len();
                    match max.as_deref().map(|m| prefix.cmp(m)) {
                        None | Some(std::cmp::Ordering::Greater) => {
                            *max = Some(prefix.to_vec());
                            *max_cut = cut;
                        }
                        Some(std::cmp::Ordering::Equal) => *max_cut |= cut,
                        Some(std::cmp::Ordering::Less) => {}
                    }
                };
                match (kind, array.data_type()) {
                    (BytesKind::String, DataType::Utf8) => {
                        for s in array.as_string::<i32>().iter().flatten() {
                            fold(s.as_bytes(), truncate_string_lower(s).as_bytes());
                        }
                    }
                    (BytesKind::String, DataType::LargeUtf8) => {
                        for s in array.as_string::<i64>().iter().flatten() {
                            fold(s.as_bytes(), truncate_string_lower(s).as_bytes());
                        }
                    }
                    (_, DataType::Binary) => {
                        for b in array.as_binary::<i32>().iter().flatten() {
                            fold(b, truncate_binary_lower(b));
                        }
                    }
                    (_, DataType::LargeBinary) => {
                        for b in array.as_binary::<i64>().iter().flatten() {
                            fold(b, truncate_binary_lower(b));
                        }
                    }
                    (_, DataType::FixedSizeBinary(_)) => {
                        for b in array.as_fixed_size_binary().iter().flatten() {
                            fold(b, truncate_binary_lower(b));
                        }
                    }
                    _ => {}
                }
            }
            Accumulator::CountsOnly => {}
        }
    }

    /// `(lower, upper, nan count)`.
    fn finish(self) -> (Option<Value>, Option<Value>, Option<u64>) {
        match self {
            Accumulator::Int { kind, min, max } => {
                let wrap = |v: i64| match kind {
                    IntKind::Int => i32::try_from(v).ok().map(Value::Int),
                    IntKind::Date => i32::try_from(v).ok().map(Value::Date),
                    IntKind::Long => Some(Value::Long(v)),
                    IntKind::Time => Some(Value::Time(v)),
                    IntKind::Timestamp => Some(Value::Timestamp(v)),
                    IntKind::TimestampTz => Some(Value::TimestampTz(v)),
                };
                (min.and_then(wrap), max.and_then(wrap), None)
            }
            // Bounds cover both zeros, as Parquet's statistics do: a predicate `x = 0.0` must
            // not skip a file holding only -0.0.
            Accumulator::Float32 { min, max, nans } => (
                min.map(|v| Value::Float(if v == 0.0 { -0.0 } else { v })),
                max.map(|v| Value::Float(if v == 0.0 { 0.0 } else { v })),
                Some(nans),
            ),
            Accumulator::Float64 { min, max, nans } => (
                min.map(|v| Value::Double(if v == 0.0 { -0.0 } else { v })),
                max.map(|v| Value::Double(if v == 0.0 { 0.0 } else { v })),
                Some(nans),
            ),
            Accumulator::Decimal { scale, min, max } => (
                min.map(|unscaled| Value::Decimal { unscaled, scale }),
                max.map(|unscaled| Value::Decimal { unscaled, scale }),
                None,
            ),
            Accumulator::Boolean {
                any_false,
                any_true,
            } => {
                if !any_false && !any_true {
                    (None, None, None)
                } else {
                    (
                        Some(Value::Boolean(!any_false)),
                        Some(Value::Boolean(any_true)),
                        None,
                    )
                }
            }
            Accumulator::Bytes {
                kind,
                min,
                max,
                max_cut,
            } => {
                let upper = max.and_then(|m| {
                    if max_cut {
                        increment(kind, &m)
                    } else {
                        Some(m)
                    }
                });
                (
                    min.and_then(|m| bytes_value(kind, m)),
                    upper.and_then(|m| bytes_value(kind, m)),
                    None,
                )
            }
            Accumulator::CountsOnly => (None, None, None),
        }
    }
}

fn increment(kind: BytesKind, prefix: &[u8]) -> Option<Vec<u8>> {
    match kind {
        BytesKind::String => {
            increment_string(std::str::from_utf8(prefix).ok()?).map(String::into_bytes)
        }
        BytesKind::Binary | BytesKind::Fixed => increment_binary(prefix),
    }
}

fn bytes_value(kind: BytesKind, bytes: Vec<u8>) -> Option<Value> {
    Some(match kind {
        BytesKind::String => Value::String(String::from_utf8(bytes).ok()?),
        BytesKind::Binary => Value::Binary(bytes),
        BytesKind::Fixed => Value::Fixed(bytes),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use arrow_array::{
        BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
        Int32Array, Int64Array, StringArray, TimestampMicrosecondArray,
    };
    use arrow_schema::Field;

    use super::*;

    fn field(name: &str, data_type: DataType, id: i32) -> Field {
        Field::new(name, data_type, true).with_metadata(HashMap::from([(
            PARQUET_FIELD_ID_KEY.to_string(),
            id.to_string(),
        )]))
    }

    #[test]
    fn packed_stats_round_trip_and_serialize_as_unpacked() {
        let column = |field_id, lower, upper| ColumnStats {
            field_id,
            value_count: 300,
            null_count: 7,
            nan_count: (field_id == 3).then_some(2),
            lower,
            upper,
            size: Some(1 << 40),
        };
        let stats = FileStats {
            columns: vec![
                column(1, Some(Value::Long(i64::MIN)), Some(Value::Long(i64::MAX))),
                column(2, Some(Value::String("日本語 é".into())), None),
                column(3, Some(Value::Double(f64::NEG_INFINITY)), None),
                column(
                    4,
                    Some(Value::Decimal {
                        unscaled: -(10i128.pow(37)),
                        scale: 9,
                    }),
                    Some(Value::Binary(vec![0, 255])),
                ),
            ],
            split_offsets: vec![4, 1 << 33],
        };
        let packed = PackedStats::pack(&stats).unwrap();
        assert_eq!(packed.unpack().unwrap(), stats);
        // Unpacked: 4 × 128 bytes of `ColumnStats`, plus the strings' and vectors' own.
        assert!(packed.0.len() < 160, "{} bytes", packed.0.len());
        // A job marker holds what it held before packing: the statistics themselves.
        let json = serde_json::to_value(&packed).unwrap();
        assert_eq!(json, serde_json::to_value(&stats).unwrap());
        let back: PackedStats = serde_json::from_value(json).unwrap();
        assert_eq!(back, packed);

        let none = PackedStats::pack(&FileStats::default()).unwrap();
        assert_eq!(none, PackedStats::default());
        assert_eq!(none.unpack().unwrap(), FileStats::default());
        assert!(PackedStats(vec![9; 3].into()).unpack().is_err());
    }

    fn collect(schema: Schema, batches: Vec<Vec<Arc<dyn Array>>>) -> FileStats {
        let schema = Arc::new(schema);
        let mut collector = StatsCollector::new(&schema);
        for columns in batches {
            collector.update(&RecordBatch::try_new(schema.clone(), columns).unwrap());
        }
        let footer = ParquetMetaData::new(
            parquet::file::metadata::FileMetaData::new(
                2,
                0,
                None,
                None,
                Arc::new(parquet::schema::types::SchemaDescriptor::new(Arc::new(
                    parquet::schema::types::Type::group_type_builder("schema")
                        .build()
                        .unwrap(),
                ))),
                None,
            ),
            vec![],
        );
        collector.finish(&footer)
    }

    #[test]
    fn numbers_nulls_and_nans() {
        let schema = Schema::new(vec![
            field("i", DataType::Int32, 101),
            field("l", DataType::Int64, 102),
            field("f", DataType::Float32, 103),
            field("d", DataType::Float64, 104),
            field("no_id", DataType::Int64, 0).with_metadata(HashMap::new()),
        ]);
        let stats = collect(
            schema,
            vec![
                vec![
                    Arc::new(Int32Array::from(vec![Some(5), None, Some(-3)])),
                    Arc::new(Int64Array::from(vec![i64::MAX, 0, 7])),
                    Arc::new(Float32Array::from(vec![Some(f32::NAN), Some(0.0), None])),
                    Arc::new(Float64Array::from(vec![f64::NAN, f64::NAN, f64::NAN])),
                    Arc::new(Int64Array::from(vec![1, 2, 3])),
                ],
                vec![
                    Arc::new(Int32Array::from(vec![Some(9)])),
                    Arc::new(Int64Array::from(vec![i64::MIN])),
                    Arc::new(Float32Array::from(vec![Some(2.5)])),
                    Arc::new(Float64Array::from(vec![None])),
                    Arc::new(Int64Array::from(vec![4])),
                ],
            ],
        );
        assert_eq!(
            stats.columns.len(),
            4,
            "a column without field id has no stats"
        );
        let i = stats.column(101).unwrap();
        assert_eq!((i.value_count, i.null_count, i.nan_count), (4, 1, None));
        assert_eq!(
            (i.lower.clone(), i.upper.clone()),
            (Some(Value::Int(-3)), Some(Value::Int(9)))
        );
        let l = stats.column(102).unwrap();
        assert_eq!(l.lower, Some(Value::Long(i64::MIN)));
        assert_eq!(l.upper, Some(Value::Long(i64::MAX)));
        let f = stats.column(103).unwrap();
        assert_eq!((f.value_count, f.null_count, f.nan_count), (4, 1, Some(1)));
        // +0.0 widened to -0.0 for the lower bound.
        assert_eq!(f.lower, Some(Value::Float(-0.0)));
        assert!(matches!(f.lower, Some(Value::Float(v)) if v.is_sign_negative()));
        assert_eq!(f.upper, Some(Value::Float(2.5)));
        let d = stats.column(104).unwrap();
        assert_eq!(
            (d.nan_count, d.lower.clone(), d.upper.clone()),
            (Some(3), None, None)
        );
        assert_eq!(d.null_count, 1);
    }

    #[test]
    fn strings_are_truncated_and_ordered_by_bytes() {
        let schema = Schema::new(vec![
            field("s", DataType::Utf8, 101),
            field("b", DataType::Binary, 102),
        ]);
        let long = "m".repeat(40);
        let stats = collect(
            schema,
            vec![vec![
                Arc::new(StringArray::from(vec![
                    Some("banana"),
                    Some(long.as_str()),
                    None,
                    Some("Zoë"),
                    Some("m"),
                ])),
                Arc::new(BinaryArray::from(vec![
                    Some(&[0xffu8; 20][..]),
                    Some(&[0x00, 0x01][..]),
                    None,
                    Some(&[0xff; 16][..]),
                    Some(&[0x10][..]),
                ])),
            ]],
        );
        let s = stats.column(101).unwrap();
        assert_eq!(s.lower, Some(Value::String("Zoë".into())));
        // The largest value is 40 × "m": 16 characters, last one incremented.
        assert_eq!(s.upper, Some(Value::String(format!("{}n", "m".repeat(15)))));
        let b = stats.column(102).unwrap();
        assert_eq!(b.lower, Some(Value::Binary(vec![0, 1])));
        // The largest prefix is 16 × 0xff, from a longer value: no upper bound exists.
        assert_eq!(b.upper, None);
        assert_eq!((b.value_count, b.null_count), (5, 1));
    }

    #[test]
    fn temporal_decimal_and_boolean() {
        let schema = Schema::new(vec![
            field("d", DataType::Date32, 101),
            field(
                "ts",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                102,
            ),
            field("n", DataType::Decimal128(20, 2), 103),
            field("ok", DataType::Boolean, 104),
        ]);
        let stats = collect(
            schema,
            vec![vec![
                Arc::new(Date32Array::from(vec![17_486, -1])),
                Arc::new(TimestampMicrosecondArray::from(vec![5, 3]).with_timezone("UTC")),
                Arc::new(
                    Decimal128Array::from(vec![1420, -99])
                        .with_precision_and_scale(20, 2)
                        .unwrap(),
                ),
                Arc::new(BooleanArray::from(vec![Some(true), Some(true)])),
            ]],
        );
        assert_eq!(stats.column(101).unwrap().upper, Some(Value::Date(17_486)));
        assert_eq!(
            stats.column(102).unwrap().lower,
            Some(Value::TimestampTz(3))
        );
        assert_eq!(
            stats.column(103).unwrap().lower,
            Some(Value::Decimal {
                unscaled: -99,
                scale: 2
            })
        );
        let ok = stats.column(104).unwrap();
        assert_eq!(
            (ok.lower.clone(), ok.upper.clone()),
            (Some(Value::Boolean(true)), Some(Value::Boolean(true)))
        );
    }

    #[test]
    fn single_long() {
        let schema = Schema::new(vec![field("_tidb_table_id", DataType::Int64, 1)]);
        let one = collect(
            schema.clone(),
            vec![vec![Arc::new(Int64Array::from(vec![42, 42]))]],
        );
        assert_eq!(one.single_long(1), Some(42));
        let two = collect(schema, vec![vec![Arc::new(Int64Array::from(vec![42, 43]))]]);
        assert_eq!(two.single_long(1), None);
    }
}
