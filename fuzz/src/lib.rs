//! The bodies of the fuzz targets, one function per target (`fuzz_targets/<name>.rs` only calls
//! it). They live in a library so that the main crate's tests compile them against the current
//! API and run them over the committed seeds (`tests/fuzz_seeds.rs`): a target that no longer
//! builds, or a seed that now panics, fails `cargo test` instead of the next fuzzing session.
//!
//! Each function returns what it could decode, which the seed test checks; under libFuzzer the
//! answer is ignored and only panics (including the differential asserts below) count.

use br_parquet::codec::row_v2::{ColumnSpan, ColumnValue, RowSlice};
use br_parquet::codec::{
    decode_data_key, decode_datum, json, memcomparable, parse_tidb_key, Decimal, RowV1, WriteRecord,
};
use br_parquet::crypter::{CipherMethod, Crypter};
use br_parquet::sst::SstReader;
use br_parquet::{meta, Error};
use bytes::Bytes;

/// Separates the objects in a `backupmeta` input.
pub const SEPARATOR: &[u8] = b"--8<--";

/// The key and `backupmeta` IV of the encrypted mode of [`backupmeta`].
const KEY: [u8; 16] = *b"br-parquet-fuzz!";
const ROOT_IV: [u8; 16] = [0x42; 16];

/// Entries [`sst_reader`] scans per input at most: bounds the time of one run.
const MAX_ENTRIES: usize = 1 << 16;

/// Ids probed in every row besides its own: below, between and above what rows store.
const PROBE_IDS: [u32; 8] = [0, 1, 2, 255, 256, 65_535, 65_536, u32::MAX];

fn split<'a>(mut data: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = data
        .windows(separator.len())
        .position(|window| window == separator)
    {
        parts.push(&data[..at]);
        data = &data[at + separator.len()..];
    }
    parts.push(data);
    parts
}

/// `meta::decode_backup_meta`, then `meta::load_backup` over objects cut from the input, then
/// the schemas and the export plan of whatever loaded. Returns the number of tables planned
/// (`None` if the backup did not load or plan).
///
/// Input: one flags byte, then the objects separated by [`SEPARATOR`]. The first object is
/// `backupmeta`; every later read (whatever its name) gets the next object, or "not found".
/// Flag bit 0 loads with an AES-128-CTR crypter: the first object is encrypted here (IV prefix
/// and all), so the root still decodes, while MetaFile objects are used as given (ciphertext
/// under the `cipher_iv` their entries carry).
pub fn backupmeta(data: &[u8]) -> Option<usize> {
    let (&flags, rest) = data.split_first()?;
    let parts = split(rest, SEPARATOR);
    let _ = meta::decode_backup_meta(parts[0]);

    let crypter = Crypter::new(CipherMethod::Aes128Ctr, &KEY).ok();
    let crypter = crypter.as_ref().filter(|_| flags & 1 == 1);
    let root = match crypter {
        Some(crypter) => crypter.encrypt_backupmeta(&ROOT_IV, parts[0]),
        None => parts[0].to_vec(),
    };
    let mut root = Some(Bytes::from(root));
    let mut objects = parts[1..].iter();
    let mut read = |name: &str| -> br_parquet::Result<Bytes> {
        if let Some(root) = root.take() {
            return Ok(root);
        }
        objects
            .next()
            .map(|object| Bytes::copy_from_slice(object))
            .ok_or_else(|| Error::meta(name, "object not found"))
    };
    let backup = meta::load_backup(&mut read, crypter).ok()?;
    for schema in &backup.schemas {
        let _ = meta::parse_schema(schema);
    }
    let plan = meta::build_plan(&backup, &meta::filter::TableFilter::br_default()).ok()?;
    Some(plan.tables.len())
}

/// Keys and write records: `decode_data_key` then `parse_tidb_key` of the decoded raw key (and
/// of the input as a raw key), memcomparable bytes both ways, and `WriteRecord::parse`. Returns
/// whether the input decoded as a data key whose raw key is a TiDB key.
pub fn data_key(data: &[u8]) -> bool {
    let mut raw = Vec::new();
    let mut tidb_key = false;
    if let Ok(ts) = decode_data_key(data, &mut raw) {
        std::hint::black_box(ts);
        tidb_key = parse_tidb_key(&raw).is_ok();
    }
    let _ = std::hint::black_box(parse_tidb_key(data));
    let _ = memcomparable::decode_bytes_into(data, &mut raw);
    let _ = memcomparable::decode_bytes_desc_into(data, &mut raw);
    let _ = std::hint::black_box(WriteRecord::parse(data));
    tidb_key
}

/// Row values and the per-type payload decoders: `RowSlice::from_bytes` with `get` and the
/// batch path's `locate_sorted` (which must agree with `get`), `RowV1`, `decode_datum`,
/// `Decimal::decode` and its `i128` fast path (which must agree with it), the JSON decoders and
/// vectors. The first input byte also picks the JSON type code tried on the rest. Returns the
/// number of columns a row v2 stores (`None` if the input is not one).
pub fn row(data: &[u8]) -> Option<usize> {
    let v2_columns = RowSlice::from_bytes(data).ok().map(|row| {
        assert!(matches!(row.get(-1), Ok(ColumnValue::Absent)));
        locate_agrees_with_get(data, &row);
        for (_, payload) in row.not_null_columns() {
            let _ = std::hint::black_box(Decimal::decode(payload));
            let _ = std::hint::black_box(decode_datum(payload));
        }
        row.not_null_count() + row.null_count()
    });
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
            (Ok(None), _) | (Err(_), Err(_)) => {}
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
    v2_columns
}

/// `locate_sorted` (one merge walk, what batches use) reports for every id exactly what `get`
/// (a binary search per id) does, over the row's own ids and [`PROBE_IDS`].
fn locate_agrees_with_get(value: &[u8], row: &RowSlice<'_>) {
    let mut ids: Vec<u32> = row
        .not_null_columns()
        .map(|(id, _)| id)
        .chain(row.null_column_ids())
        .chain(PROBE_IDS)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut next = 0;
    row.locate_sorted(&ids, |i, span| {
        assert_eq!(i, next, "locate_sorted skipped or repeated an id");
        next += 1;
        let by_get = row.get(i64::from(ids[i])).expect("get of a parsed row");
        match (span, by_get) {
            (ColumnSpan::Value { start, end }, ColumnValue::Value(payload)) => {
                assert_eq!(value.get(start..end), Some(payload), "column {}", ids[i]);
            }
            (ColumnSpan::Null, ColumnValue::Null) | (ColumnSpan::Absent, ColumnValue::Absent) => {}
            (span, by_get) => panic!("column {}: located {span:?}, got {by_get:?}", ids[i]),
        }
    });
    assert_eq!(next, ids.len(), "locate_sorted stopped early");
}

/// `SstReader::open` over the input bytes, its properties and block handles, then a scan of up
/// to [`MAX_ENTRIES`] entries. Returns the number of entries scanned without error (`None` if
/// the SST did not open).
///
/// Every block of a real SST carries a checksum, so mutations of the `checksummed` seeds stop at
/// the first block they touch; the `nochecksum` seeds (footer checksum type 0) let mutations
/// reach block decoding, index and properties parsing.
pub fn sst_reader(data: &[u8]) -> Option<usize> {
    let reader = SstReader::open(data).ok()?;
    std::hint::black_box(reader.properties());
    let _ = std::hint::black_box(reader.data_block_handles());
    let mut entries = reader.entries();
    let mut scanned = 0;
    while scanned < MAX_ENTRIES {
        match entries.next() {
            Ok(Some(entry)) => {
                std::hint::black_box(entry);
                scanned += 1;
            }
            Ok(None) | Err(_) => break,
        }
    }
    Some(scanned)
}
