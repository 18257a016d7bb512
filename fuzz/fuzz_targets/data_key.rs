//! Data keys, TiDB keys, memcomparable bytes and write records.
//! [`br_parquet_fuzz::data_key`] has the body.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = br_parquet_fuzz::data_key(data);
});
