//! `SstReader::open` over the input bytes, then a full scan of its entries.
//!
//! Every block of a real SST carries a checksum, so mutations of the `checksummed` seeds stop at
//! the first block they touch; the `nochecksum` seeds (footer checksum type 0) let mutations
//! reach block decoding, index and properties parsing.
#![no_main]

use br_parquet::sst::SstReader;
use libfuzzer_sys::fuzz_target;

/// Entries scanned per input at most: bounds the time of one run.
const MAX_ENTRIES: usize = 1 << 16;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = SstReader::open(data) else {
        return;
    };
    std::hint::black_box(reader.properties());
    let _ = std::hint::black_box(reader.data_block_handles());
    let mut entries = reader.entries();
    for _ in 0..MAX_ENTRIES {
        match entries.next() {
            Ok(Some(entry)) => {
                std::hint::black_box(entry);
            }
            Ok(None) | Err(_) => break,
        }
    }
});
