//! `backupmeta`, its MetaFiles (plain or AES-128 encrypted), the schemas and the export plan.
//! [`br_parquet_fuzz::backupmeta`] has the body and the input's layout.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = br_parquet_fuzz::backupmeta(data);
});
