//! Row values and the per-type payload decoders: `RowSlice::from_bytes` and `get` over column
//! ids, `RowV1`, `decode_datum`, `Decimal::decode` (and its `i128` fast path, which must agree
//! with it), `json_to_text`, vectors.
//!
//! The first input byte picks the JSON type code tried on the rest; every decoder also gets the
//! whole input.
#![no_main]

use br_parquet::codec::{decode_datum, json, row_v2::RowSlice, ColumnValue, Decimal, RowV1};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(row) = RowSlice::from_bytes(data) {
        let ids: Vec<u32> = row.not_null_columns().map(|(id, _)| id).collect();
        for id in ids
            .iter()
            .map(|&id| i64::from(id))
            .chain([-1, 0, 1, 2, 255, 256, 65_536])
        {
            if let Ok(ColumnValue::Value(payload)) = row.get(id) {
                let _ = std::hint::black_box(Decimal::decode(payload));
                let _ = std::hint::black_box(decode_datum(payload));
            }
        }
    }
    if let Ok(row) = RowV1::from_bytes(data) {
        let _ = std::hint::black_box(row.get(1));
        for item in row.iter().take(1024) {
            let _ = std::hint::black_box(item);
        }
    }
    let _ = std::hint::black_box(decode_datum(data));
    let _ = std::hint::black_box(br_parquet::codec::datum::datum_len(data));
    let _ = std::hint::black_box(Decimal::decode(data));
    // The fast path answers exactly what the digit path does, errors included.
    if let Some(&frac) = data.get(1) {
        match (
            Decimal::decode_unscaled_i128(data, frac),
            Decimal::decode(data),
        ) {
            (Ok(Some(fast)), Ok((slow, used))) => {
                assert_eq!(
                    Some((fast.0, fast.1)),
                    slow.to_i128_scaled(frac).map(|v| (v, used))
                );
            }
            (Ok(None), _) => {}
            (Err(_), Err(_)) => {}
            (fast, slow) => panic!("fast path {fast:?}, digit path {slow:?}"),
        }
    }
    let mut text = String::new();
    if let Some((&type_code, body)) = data.split_first() {
        let _ = json::json_to_text(type_code, body, &mut text);
        let _ = std::hint::black_box(json::json_datum_len(type_code, body));
    }
    text.clear();
    let _ = json::json_payload_to_text(data, &mut text);
    let _ = std::hint::black_box(br_parquet::codec::enums::decode_v2_vector_f32(data));
});
