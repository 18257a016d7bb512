//! Row values and the per-type payload decoders, `locate_sorted` checked against `get` and the
//! DECIMAL fast path against the digit path. [`br_parquet_fuzz::row`] has the body.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = br_parquet_fuzz::row(data);
});
