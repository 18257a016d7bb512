//! Which columns of a Parquet file are dictionary-encoded, judged from the file's first batch.
//!
//! arrow-rs starts every column chunk dictionary-encoded and gives the dictionary up only once it
//! passes `dictionary_page_size_limit`. For a column of (nearly) unique values (handles, ids,
//! timestamps, amounts, free text) that means hashing and interning every value until then, and
//! writing a dictionary page and dictionary-coded pages that are no smaller than plain ones.
//! parquet-java avoids this by judging the first page (`FallbackValuesWriter` keeps the
//! dictionary only when `isCompressionSatisfying(raw size, encoded size)`). We judge before the
//! first value is encoded: a column whose non-NULL values in the file's first batch are nearly all
//! distinct is written without a dictionary. Every other column keeps arrow-rs's behaviour.
//!
//! Counting is exact over the sample for values of up to 8 bytes and by 64-bit xxh3 hash for
//! longer ones (a collision only makes a column look less distinct, i.e. keeps its dictionary).

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::schema::types::ColumnPath;
use xxhash_rust::xxh3::xxh3_64;

/// Rows of the first batch that are looked at; a record batch of the export holds at most this
/// many (`batch::DEFAULT_BATCH_ROWS`), so normally the whole batch.
pub const SAMPLE_ROWS: usize = 8192;

/// Share of distinct values in the sample above which a column is written without a dictionary.
/// A sample of 8 Ki values drawn from `c` equally likely values has `c·(1 − e^(−8192/c))`
/// distinct ones: 90 % of the sample means about 40 k distinct values in the column or more. A
/// dictionary gains little over zstd-compressed plain pages for such a column, and costs much:
/// every value hashed and interned, and written twice when the dictionary is given up.
pub const MAX_DISTINCT_SHARE: f64 = 0.9;

/// Fewer non-NULL values than this say too little; the column keeps its dictionary.
const MIN_SAMPLE_VALUES: usize = 256;

/// The top-level columns of `batch` that should be written without a dictionary.
pub fn columns_without_dictionary(batch: &RecordBatch) -> Vec<ColumnPath> {
    let rows = batch.num_rows().min(SAMPLE_ROWS);
    let mut keys = Vec::with_capacity(rows);
    batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .filter(|(_, array)| {
            keys.clear();
            sample_keys(array.slice(0, rows).as_ref(), &mut keys) && nearly_all_distinct(&mut keys)
        })
        .map(|(field, _)| ColumnPath::from(field.name().as_str()))
        .collect()
}

/// One key per non-NULL value of `array` into `keys`: the value itself when it fits 8 bytes,
/// else its hash. `false` for types that are not judged (lists, booleans, structs...).
fn sample_keys(array: &dyn Array, keys: &mut Vec<u64>) -> bool {
    let valid = |i: usize| array.is_valid(i);
    match array.data_type() {
        DataType::Utf8 => {
            let strings = array.as_string::<i32>();
            keys.extend(
                (0..array.len())
                    .filter(|&i| valid(i))
                    .map(|i| xxh3_64(strings.value(i).as_bytes())),
            );
        }
        DataType::Binary => {
            let binary = array.as_binary::<i32>();
            keys.extend(
                (0..array.len())
                    .filter(|&i| valid(i))
                    .map(|i| xxh3_64(binary.value(i))),
            );
        }
        data_type if data_type.is_primitive() => {
            let Some(width) = data_type.primitive_width() else {
                return false;
            };
            let data = array.to_data();
            let Some(values) = data.buffers().first() else {
                return false;
            };
            let start = data.offset() * width;
            let Some(bytes) = values.get(start..start + array.len() * width) else {
                return false;
            };
            keys.extend(
                bytes
                    .chunks_exact(width)
                    .enumerate()
                    .filter(|&(i, _)| valid(i))
                    .map(|(_, value)| key_of(value)),
            );
        }
        _ => return false,
    }
    true
}

/// A fixed-width value as a key: its bytes for up to 8, else a hash.
fn key_of(value: &[u8]) -> u64 {
    match <[u8; 8]>::try_from(value) {
        Ok(eight) => u64::from_le_bytes(eight),
        Err(_) if value.len() < 8 => {
            let mut padded = [0u8; 8];
            if let Some(prefix) = padded.get_mut(..value.len()) {
                prefix.copy_from_slice(value);
            }
            u64::from_le_bytes(padded)
        }
        Err(_) => xxh3_64(value),
    }
}

/// Whether more than [`MAX_DISTINCT_SHARE`] of `keys` are distinct (sorts `keys`).
fn nearly_all_distinct(keys: &mut [u64]) -> bool {
    if keys.len() < MIN_SAMPLE_VALUES {
        return false;
    }
    keys.sort_unstable();
    let distinct = 1 + keys
        .windows(2)
        .filter(|pair| pair.first() != pair.last())
        .count();
    distinct as f64 > MAX_DISTINCT_SHARE * keys.len() as f64
}

#[cfg(test)]
// Tests may index and unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{
        BinaryArray, BooleanArray, Decimal128Array, Int32Array, Int64Array, StringArray,
    };
    use arrow_schema::{Field, Schema};

    use super::*;

    fn names(batch: &RecordBatch) -> Vec<String> {
        columns_without_dictionary(batch)
            .iter()
            .map(|p| p.string())
            .collect()
    }

    fn batch(columns: Vec<(&str, Arc<dyn Array>)>) -> RecordBatch {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect();
        RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .unwrap()
    }

    #[test]
    fn unique_columns_lose_the_dictionary_repetitive_ones_keep_it() {
        let n = 8192i64;
        let text: Vec<String> = (0..n).map(|i| format!("customer-{i}")).collect();
        let cities: Vec<String> = (0..n).map(|i| format!("city-{}", i % 3000)).collect();
        let b = batch(vec![
            ("id", Arc::new(Int64Array::from_iter_values(0..n))),
            (
                "status",
                Arc::new(Int32Array::from_iter_values((0..n).map(|i| (i % 5) as i32))),
            ),
            ("name", Arc::new(StringArray::from_iter_values(&text))),
            ("city", Arc::new(StringArray::from_iter_values(&cities))),
            (
                "amount",
                Arc::new(
                    Decimal128Array::from_iter_values((0..n).map(|i| i128::from(i) << 70))
                        .with_precision_and_scale(38, 2)
                        .unwrap(),
                ),
            ),
            (
                "blob",
                Arc::new(BinaryArray::from_iter_values(
                    text.iter().map(|s| s.as_bytes()),
                )),
            ),
            (
                "flag",
                Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(i % 2 == 0)))),
            ),
        ]);
        assert_eq!(names(&b), ["id", "name", "amount", "blob"]);
    }

    #[test]
    fn nulls_are_not_values_and_small_samples_keep_the_dictionary() {
        // 8 192 rows, all NULL but 100 distinct values: too few to judge.
        let sparse = Int64Array::from_iter((0..8192i64).map(|i| (i % 82 == 0).then_some(i)));
        // Half NULL, the rest distinct: judged on the non-NULL half.
        let half = Int64Array::from_iter((0..8192i64).map(|i| (i % 2 == 0).then_some(i)));
        let b = batch(vec![("sparse", Arc::new(sparse)), ("half", Arc::new(half))]);
        assert_eq!(names(&b), ["half"]);
    }

    #[test]
    fn judged_on_the_first_rows_of_a_sliced_batch() {
        // Repetitive first 8 Ki rows, unique afterwards: the sample is the start.
        let values = || (0..20_000i64).map(|i| if i < 8192 { i % 10 } else { i });
        let text: Vec<String> = values().map(|i| format!("v{i}")).collect();
        let b = batch(vec![
            ("v", Arc::new(Int64Array::from_iter_values(values()))),
            ("t", Arc::new(StringArray::from_iter_values(&text))),
            (
                "d",
                Arc::new(
                    Decimal128Array::from_iter_values(values().map(i128::from))
                        .with_precision_and_scale(30, 0)
                        .unwrap(),
                ),
            ),
        ]);
        assert!(names(&b).is_empty());
        // A slice starts at its own offset in every buffer.
        assert_eq!(names(&b.slice(8192, 10_000)), ["v", "t", "d"]);
        assert!(names(&b.slice(100, 8000)).is_empty());
    }

    #[test]
    fn short_values_are_exact_keys() {
        assert_eq!(key_of(&[1, 0, 0, 0]), 1);
        assert_eq!(key_of(&7u64.to_le_bytes()), 7);
        assert_ne!(key_of(&[1u8; 16]), key_of(&[2u8; 16]));
        let mut keys = vec![3u64; 300];
        assert!(!nearly_all_distinct(&mut keys));
        let mut keys: Vec<u64> = (0..300).collect();
        assert!(nearly_all_distinct(&mut keys));
    }
}
