//! SST block decode: a full scan of an in-memory write-CF SST (the rows of `bench.orders` as
//! TiKV's write CF holds them: short values inline), uncompressed and LZ4-compressed.
//!
//! `cargo bench --bench sst_scan` (`BENCH_ROWS=N` to change the 200 000 rows).

use br_parquet::codec::key::{encode_data_key, encode_record_key};
use br_parquet::codec::mvcc::{WriteRecord, WriteType};
use br_parquet::sst::{CompressionType, SstReader, SstWriter, WriterOptions};

#[allow(dead_code)]
#[path = "common/orders.rs"]
mod orders;
#[path = "common/timing.rs"]
mod timing;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows = timing::rows(200_000);
    let table = orders::table();
    let mut entries = Vec::with_capacity(rows);
    for handle in 1..=rows as i64 {
        let value = table.encode_row(&orders::row(7, handle))?;
        // Long values live in the default CF; the write record then holds only the start_ts.
        let short = (value.len() <= 255).then_some(value.as_slice());
        let record = WriteRecord::new(WriteType::Put, 1000, short).encode()?;
        let key = encode_data_key(&encode_record_key(orders::TABLE_ID, handle), 1001);
        entries.push((key, record));
    }
    let kv_bytes: u64 = entries
        .iter()
        .map(|(k, v)| (k.len() + v.len()) as u64)
        .sum();
    for (label, compression) in [
        ("none", CompressionType::None),
        ("lz4", CompressionType::Lz4),
        ("zstd", CompressionType::Zstd),
    ] {
        let mut sst = Vec::new();
        let mut writer = SstWriter::new(
            &mut sst,
            WriterOptions::default().with_compression(compression),
        );
        for (key, value) in &entries {
            writer.put(key, value)?;
        }
        writer.finish()?;
        timing::bench(
            &format!("sst_scan/{label} ({} KiB)", sst.len() / 1024),
            7,
            rows as u64,
            kv_bytes,
            || -> Result<u64, br_parquet::sst::SstError> {
                let reader = SstReader::open(&sst[..])?;
                let mut it = reader.entries();
                let mut n = 0u64;
                while let Some(entry) = it.next()? {
                    n += entry.value.len() as u64;
                }
                Ok(n)
            },
        );
    }
    Ok(())
}
