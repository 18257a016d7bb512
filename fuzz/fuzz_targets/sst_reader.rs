//! `SstReader::open` over the input bytes, then a scan of its entries.
//! [`br_parquet_fuzz::sst_reader`] has the body.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = br_parquet_fuzz::sst_reader(data);
});
