//! Keys and write records: `codec::key::decode_data_key` then `parse_tidb_key` of the decoded
//! raw key (and of the input as a raw key), and `mvcc::WriteRecord::parse`.
#![no_main]

use br_parquet::codec::{decode_data_key, memcomparable, parse_tidb_key, WriteRecord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut raw = Vec::new();
    if let Ok(ts) = decode_data_key(data, &mut raw) {
        std::hint::black_box(ts);
        let _ = std::hint::black_box(parse_tidb_key(&raw));
    }
    let _ = std::hint::black_box(parse_tidb_key(data));
    let _ = memcomparable::decode_bytes_into(data, &mut raw);
    let _ = memcomparable::decode_bytes_desc_into(data, &mut raw);
    let _ = std::hint::black_box(WriteRecord::parse(data));
});
