//! Row decode: key and write-record parsing, and row-format-v2 lookups of every column of
//! `bench.orders` rows (the per-cell work before Arrow conversion).
//!
//! `cargo bench --bench row_decode` (`BENCH_ROWS=N` to change the 200 000 rows).

use br_parquet::codec::key::{decode_data_key, encode_data_key, encode_record_key, parse_tidb_key};
use br_parquet::codec::mvcc::{WriteRecord, WriteType};
use br_parquet::codec::row_v2::{ColumnValue, RowSlice};

#[allow(dead_code)]
#[path = "common/orders.rs"]
mod orders;
#[path = "common/timing.rs"]
mod timing;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows = timing::rows(200_000);
    let table = orders::table();
    let mut values = Vec::with_capacity(rows);
    let mut keys = Vec::with_capacity(rows);
    let mut records = Vec::with_capacity(rows);
    for handle in 1..=rows as i64 {
        let value = table.encode_row(&orders::row(7, handle))?;
        // Long values live in the default CF; the write record then holds only the start_ts.
        let short = (value.len() <= 255).then_some(value.as_slice());
        records.push(WriteRecord::new(WriteType::Put, 1000, short).encode()?);
        keys.push(encode_data_key(
            &encode_record_key(orders::TABLE_ID, handle),
            1001,
        ));
        values.push(value);
    }
    let value_bytes: u64 = values.iter().map(|v| v.len() as u64).sum();
    let key_bytes: u64 = keys.iter().map(|k| k.len() as u64).sum();

    timing::bench("row_decode/key", 7, rows as u64, key_bytes, || {
        let mut raw = Vec::new();
        let mut sum = 0i64;
        for key in &keys {
            let ts = decode_data_key(key, &mut raw).unwrap_or_default();
            if let Ok(br_parquet::codec::key::TidbKey::Record { table_id, .. }) =
                parse_tidb_key(&raw)
            {
                sum = sum.wrapping_add(table_id).wrapping_add(ts as i64);
            }
        }
        sum
    });
    timing::bench(
        "row_decode/write_record",
        7,
        rows as u64,
        value_bytes,
        || {
            records
                .iter()
                .filter_map(|r| WriteRecord::parse(r).ok())
                .map(|r| r.short_value.map_or(0, <[u8]>::len))
                .sum::<usize>()
        },
    );
    timing::bench(
        "row_decode/row_v2_all_columns",
        7,
        rows as u64,
        value_bytes,
        || {
            let mut found = 0usize;
            for value in &values {
                let Ok(row) = RowSlice::from_bytes(value) else {
                    continue;
                };
                for id in 2..=15 {
                    if let Ok(ColumnValue::Value(payload)) = row.get(id) {
                        found += payload.len();
                    }
                }
            }
            found
        },
    );
    Ok(())
}
