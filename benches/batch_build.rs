//! Batch building: `TableBatchBuilder` turning `bench.orders` row values into Arrow record
//! batches (`push_row` copies each value into the arena; `finish_batch` decodes column by
//! column), the export's whole row-to-Arrow step; then the same for `bench.orders_ml`, whose
//! text is multilingual.
//!
//! `cargo bench --bench batch_build` (`BENCH_ROWS=N` to change the 200 000 rows; `BENCH_TEXT=ascii`
//! or `multilingual` for one table only).

use std::sync::Arc;

use br_parquet::batch::{BackupKind, BatchLimits, RowData, RowKey, TableBatchBuilder};
use br_parquet::codec::key::Handle;
use br_parquet::meta::parse_schema;

#[allow(dead_code)]
#[path = "common/orders.rs"]
mod orders;
#[path = "common/timing.rs"]
mod timing;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let only = std::env::var("BENCH_TEXT").ok();
    for (text, label) in [
        (orders::Text::Ascii, "ascii"),
        (orders::Text::Multilingual, "multilingual"),
    ] {
        if only.as_deref().is_none_or(|o| o == label) {
            bench_table(text, label)?;
        }
    }
    Ok(())
}

fn bench_table(text: orders::Text, label: &str) -> Result<(), Box<dyn std::error::Error>> {
    let rows = timing::rows(200_000);
    let table = orders::table_with(text);
    let schema = Arc::new(parse_schema(&table.schema_message())?.ok_or("no table in schema")?);
    let values = (1..=rows as i64)
        .map(|handle| table.encode_row(&orders::row_with(7, handle, text)))
        .collect::<Result<Vec<_>, _>>()?;
    let value_bytes: u64 = values.iter().map(|v| v.len() as u64).sum();
    let limits = BatchLimits::default();

    let build = |decode: bool| -> Result<usize, br_parquet::Error> {
        let mut builder =
            TableBatchBuilder::new(schema.clone(), BackupKind::Full, "bench", limits)?;
        let mut out = 0;
        for (i, value) in values.iter().enumerate() {
            let key = RowKey {
                physical_id: orders::TABLE_ID,
                handle: Handle::Int(i as i64 + 1),
                commit_ts: 1001,
            };
            if builder.push_row(&key, RowData::Put(value))? && decode {
                out += builder.finish_batch()?.map_or(0, |b| b.num_rows());
            } else if builder.len() >= limits.max_rows {
                // Collect only: start a new batch without decoding.
                builder =
                    TableBatchBuilder::new(schema.clone(), BackupKind::Full, "bench", limits)?;
            }
        }
        if decode {
            out += builder.finish_batch()?.map_or(0, |b| b.num_rows());
        }
        Ok(out)
    };
    timing::bench(
        &format!("batch_build/{label}/push_row"),
        5,
        rows as u64,
        value_bytes,
        || build(false),
    );
    timing::bench(
        &format!("batch_build/{label}/push_row+finish_batch"),
        5,
        rows as u64,
        value_bytes,
        || build(true),
    );
    Ok(())
}
