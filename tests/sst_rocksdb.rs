//! The SST reader and writer against real RocksDB.
//!
//! * Fixtures in `tests/data/sst/` were written by RocksDB itself (`scripts/gen-sst-fixtures.sh`:
//!   Debian's `ldb`/`sst_dump` 7.8.3, and RocksDB 9.8.4 from the `rocksdict` wheel for
//!   format_version 6).
//!   Each `X.sst` has `X.scan.txt`, RocksDB's own scan (`sst_dump --command=scan --output_hex`),
//!   and our full scan must equal it entry for entry.
//! * Files written by [`SstWriter`] must pass real `sst_dump --command=verify` and scan to the
//!   same entries. Without `sst_dump` that test fails under `CI=true` and is skipped otherwise.
//! * Corrupt copies of fixtures give the exact errors pinned here.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use br_parquet::sst::{
    BlockHandle, ChecksumType, CompressionType, IndexType, SstError, SstReader, SstWriter,
    WriterOptions,
};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sst")
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = fixture_dir().join(format!("{name}.sst"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One fixture and what RocksDB says about it.
struct Fixture {
    name: &'static str,
    format_version: u32,
    checksum: ChecksumType,
    index_type: IndexType,
    /// `rocksdb.compression` as RocksDB wrote it.
    compression: &'static str,
}

const fn fx(
    name: &'static str,
    format_version: u32,
    checksum: ChecksumType,
    index_type: IndexType,
    compression: &'static str,
) -> Fixture {
    Fixture {
        name,
        format_version,
        checksum,
        index_type,
        compression,
    }
}

use ChecksumType::{Crc32c, XxHash, XxHash64, Xxh3};
use IndexType::{BinarySearch, BinarySearchWithFirstKey, HashSearch, TwoLevelIndexSearch};

/// Every readable fixture (the bzip2 one has its own test).
const FIXTURES: &[Fixture] = &[
    fx(
        "fv2_crc32c_none_binary",
        2,
        Crc32c,
        BinarySearch,
        "NoCompression",
    ),
    fx(
        "fv2_crc32c_snappy_binary",
        2,
        Crc32c,
        BinarySearch,
        "Snappy",
    ),
    fx("fv2_crc32c_zlib_binary", 2, Crc32c, BinarySearch, "Zlib"),
    fx("fv2_crc32c_lz4_binary", 2, Crc32c, BinarySearch, "LZ4"),
    fx("fv2_crc32c_lz4hc_binary", 2, Crc32c, BinarySearch, "LZ4HC"),
    fx("fv2_crc32c_zstd_binary", 2, Crc32c, BinarySearch, "ZSTD"),
    fx("fv2_xxh64_zstd_hash", 2, XxHash64, HashSearch, "ZSTD"),
    fx("fv3_xxh32_snappy_binary", 3, XxHash, BinarySearch, "Snappy"),
    fx(
        "fv3_xxh64_zlib_twolevel",
        3,
        XxHash64,
        TwoLevelIndexSearch,
        "Zlib",
    ),
    fx(
        "fv3_crc32c_none_firstkey",
        3,
        Crc32c,
        BinarySearchWithFirstKey,
        "NoCompression",
    ),
    fx("fv4_xxh3_lz4_binary", 4, Xxh3, BinarySearch, "LZ4"),
    fx(
        "fv4_crc32c_zstd_twolevel",
        4,
        Crc32c,
        TwoLevelIndexSearch,
        "ZSTD",
    ),
    fx(
        "fv4_xxh64_none_hash",
        4,
        XxHash64,
        HashSearch,
        "NoCompression",
    ),
    fx("fv4_xxh32_lz4hc_datahash", 4, XxHash, BinarySearch, "LZ4HC"),
    fx(
        "fv5_xxh3_none_binary",
        5,
        Xxh3,
        BinarySearch,
        "NoCompression",
    ),
    fx(
        "fv5_xxh3_zstd_twolevel_datahash",
        5,
        Xxh3,
        TwoLevelIndexSearch,
        "ZSTD",
    ),
    fx(
        "fv5_xxh32_lz4_firstkey",
        5,
        XxHash,
        BinarySearchWithFirstKey,
        "LZ4",
    ),
    fx(
        "fv5_crc32c_snappy_twolevel",
        5,
        Crc32c,
        TwoLevelIndexSearch,
        "Snappy",
    ),
    fx("fv5_xxh3_zstd_dict", 5, Xxh3, BinarySearch, "ZSTD"),
    fx(
        "fv5_xxh64_zlib_noindexcompress",
        5,
        XxHash64,
        BinarySearch,
        "Zlib",
    ),
    fx("db_flush_fv5_xxh3_lz4", 5, Xxh3, BinarySearch, "LZ4"),
    fx(
        "ingested_global_seqno_fv2_crc32c_snappy",
        2,
        Crc32c,
        BinarySearch,
        "Snappy",
    ),
    // RocksDB 9.8.4 (rocksdict): context checksums, checksummed footer, index in the metaindex.
    fx("fv6_xxh3_lz4_binary", 6, Xxh3, BinarySearch, "LZ4"),
    fx(
        "fv6_crc32c_zstd_twolevel_datahash",
        6,
        Crc32c,
        TwoLevelIndexSearch,
        "ZSTD",
    ),
    fx(
        "fv6_xxh64_snappy_binary",
        6,
        XxHash64,
        BinarySearch,
        "Snappy",
    ),
    fx(
        "fv6_xxh32_zlib_twolevel",
        6,
        XxHash,
        TwoLevelIndexSearch,
        "Zlib",
    ),
];

/// Our full scan in `sst_dump --command=scan --output_hex` form.
fn scan_text<S: br_parquet::sst::BlockSource>(reader: &SstReader<S>) -> Result<String, SstError> {
    let mut out = String::new();
    let mut entries = reader.entries();
    while let Some(e) = entries.next()? {
        writeln!(
            out,
            "'{}' seq:{}, type:{} => {}",
            hex::encode_upper(e.user_key),
            e.sequence,
            e.value_type.code(),
            hex::encode_upper(e.value)
        )
        .unwrap_or_default();
    }
    Ok(out)
}

/// Compares line by line so a failure shows the first differing entry, not two huge strings.
fn assert_same_scan(name: &str, ours: &str, expected: &str) {
    let (ours, expected): (Vec<_>, Vec<_>) = (ours.lines().collect(), expected.lines().collect());
    for (i, (a, b)) in ours.iter().zip(&expected).enumerate() {
        assert_eq!(a, b, "{name}: entry {i} differs");
    }
    assert_eq!(ours.len(), expected.len(), "{name}: entry count");
}

#[test]
fn every_fixture_scans_like_rocksdb() {
    for f in FIXTURES {
        let path = fixture_dir().join(format!("{}.sst", f.name));
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let reader = SstReader::open(file).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert_eq!(reader.format_version(), f.format_version, "{}", f.name);
        assert_eq!(reader.checksum_type(), f.checksum, "{}", f.name);
        let props = reader.properties();
        assert_eq!(props.index_type, f.index_type, "{}", f.name);
        assert_eq!(props.compression_name, f.compression, "{}", f.name);
        assert_eq!(
            props.comparator_name, "leveldb.BytewiseComparator",
            "{}",
            f.name
        );
        assert!(
            props.num_data_blocks > 10,
            "{}: {} data blocks",
            f.name,
            props.num_data_blocks
        );
        if f.index_type == TwoLevelIndexSearch {
            assert!(
                props.index_partitions > 1,
                "{}: {} partitions",
                f.name,
                props.index_partitions
            );
        }
        if f.format_version >= 6 {
            assert_ne!(reader.footer().base_context_checksum, 0, "{}", f.name);
            assert_eq!(reader.footer().index, None, "{}", f.name);
        }
        let handles = reader.data_block_handles().unwrap();
        assert_eq!(handles.len() as u64, props.num_data_blocks, "{}", f.name);

        let ours = scan_text(&reader).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        let expected_path = fixture_dir().join(format!("{}.scan.txt", f.name));
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        assert_same_scan(f.name, &ours, &expected);
        assert_eq!(ours.lines().count() as u64, props.num_entries, "{}", f.name);
    }
}

#[test]
fn every_fixture_file_has_a_test() {
    let mut names: Vec<String> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".sst").map(str::to_owned)
        })
        .collect();
    names.sort();
    let mut tested: Vec<String> = FIXTURES.iter().map(|f| f.name.to_owned()).collect();
    tested.push("fv2_crc32c_bzip2_unsupported".to_owned());
    tested.sort();
    assert_eq!(names, tested);
}

#[test]
fn sequence_numbers_and_value_types_from_real_files() {
    // An L0 file flushed by the DB: real sequence numbers and deletions.
    let reader = SstReader::open(fixture_bytes("db_flush_fv5_xxh3_lz4")).unwrap();
    assert_eq!(reader.properties().global_seqno, None);
    assert!(reader.properties().num_deletions > 50);
    let mut entries = reader.entries();
    let first = entries.next().unwrap().unwrap();
    assert_eq!(first.user_key, b"gone00000");
    assert_eq!(first.sequence, 5);
    assert_eq!(first.value_type, br_parquet::sst::ValueType::Deletion);

    // An ingested external file: every entry takes the global seqno RocksDB assigned.
    let reader = SstReader::open(fixture_bytes("ingested_global_seqno_fv2_crc32c_snappy")).unwrap();
    assert_eq!(reader.properties().external_sst_file_version, Some(2));
    assert_eq!(reader.properties().global_seqno, Some(5));
    let mut entries = reader.entries();
    while let Some(e) = entries.next().unwrap() {
        assert_eq!(e.sequence, 5);
    }
}

#[test]
fn bzip2_is_reported_as_unsupported() {
    let err = SstReader::open(fixture_bytes("fv2_crc32c_bzip2_unsupported"))
        .and_then(|r| scan_text(&r))
        .unwrap_err();
    assert!(
        matches!(err, SstError::UnsupportedCompression { code: 3, .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "unsupported compression type 3 (BZip2) in index block at offset 1687 (size 180)"
    );
}

/// A fixture with one byte flipped in its eleventh data block.
#[test]
fn flipped_byte_in_a_real_data_block() {
    let mut bytes = fixture_bytes("fv2_crc32c_lz4_binary");
    let handles = SstReader::open(&bytes[..])
        .unwrap()
        .data_block_handles()
        .unwrap();
    let block = handles[10];
    assert_eq!(block, BlockHandle::new(1439, 142));
    bytes[(block.offset + block.size / 2) as usize] ^= 0x01;
    let reader = SstReader::open(&bytes[..]).unwrap();
    let err = scan_text(&reader).unwrap_err();
    assert!(matches!(err, SstError::ChecksumMismatch { .. }), "{err}");
    assert_eq!(err.block_offset(), Some(1439));
    assert_eq!(
        err.to_string(),
        "data block at offset 1439 (size 142): checksum mismatch (kCRC32c): stored 0x66aaa4fe, \
         computed 0x438eb459"
    );
}

/// The same in a format_version 6 file, whose checksums include the block offset.
#[test]
fn flipped_byte_in_a_real_v6_data_block() {
    let mut bytes = fixture_bytes("fv6_xxh3_lz4_binary");
    let handles = SstReader::open(&bytes[..])
        .unwrap()
        .data_block_handles()
        .unwrap();
    let block = handles[7];
    bytes[(block.offset + 3) as usize] ^= 0x80;
    let err = scan_text(&SstReader::open(&bytes[..]).unwrap()).unwrap_err();
    assert!(
        matches!(err, SstError::ChecksumMismatch { checksum: Xxh3, .. }),
        "{err}"
    );
    assert_eq!(err.block_offset(), Some(block.offset));
}

#[test]
fn truncated_and_garbage_files() {
    let bytes = fixture_bytes("fv4_xxh3_lz4_binary");
    let len = bytes.len();

    let err = SstReader::open(&bytes[..30]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "file is 30 bytes, shorter than the 53-byte footer"
    );

    // Cut in the middle: the last 8 bytes are data, not the magic number.
    let err = SstReader::open(&bytes[..len / 2]).unwrap_err();
    assert!(matches!(err, SstError::BadMagic { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "bad magic 0x0038e20a1714410c: not a RocksDB block-based table"
    );

    // A garbage footer.
    let mut garbage = bytes.clone();
    garbage[len - 53..].fill(0xab);
    assert_eq!(
        SstReader::open(&garbage[..]).unwrap_err().to_string(),
        "bad magic 0xabababababababab: not a RocksDB block-based table"
    );

    // The magic survives but the rest of the footer is garbage.
    let mut garbage = bytes.clone();
    garbage[len - 53..len - 8].fill(0xab);
    assert_eq!(
        SstReader::open(&garbage[..]).unwrap_err().to_string(),
        "unsupported format_version 2880154539 (supported: 2 to 7)"
    );
    let mut garbage = bytes.clone();
    garbage[len - 53..len - 12].fill(0xff);
    assert_eq!(
        SstReader::open(&garbage[..]).unwrap_err().to_string(),
        format!("footer at offset {}: unknown checksum type 255", len - 53)
    );

    // Data cut out of the middle with the footer kept: the metaindex is now past the end.
    let spliced = [&bytes[..len / 2], &bytes[len - 53..]].concat();
    let err = SstReader::open(&spliced[..]).unwrap_err();
    assert!(matches!(err, SstError::Corrupt { .. }), "{err}");
    assert!(
        err.to_string().starts_with("metaindex block at offset "),
        "{err}"
    );
    assert!(
        err.to_string().ends_with(&format!(
            "block (with its 5-byte trailer) does not fit in the {}-byte file or exceeds the \
             268435456-byte limit",
            spliced.len()
        )),
        "{err}"
    );
}

/// Runs `sst_dump` with `args`; `None` (after a notice) when it is missing outside CI.
fn sst_dump(args: &[&str]) -> Option<String> {
    match Command::new("sst_dump").args(args).output() {
        Ok(out) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "sst_dump {args:?} failed:\n{text}");
            Some(text)
        }
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("sst_dump is required in CI (apt-get install rocksdb-tools): {e}")
        }
        Err(e) => {
            eprintln!("NOTICE: skipping the sst_dump checks, sst_dump not runnable: {e}");
            None
        }
    }
}

#[test]
fn writer_output_passes_real_sst_dump() {
    let dir = tempfile::tempdir().unwrap();
    let entries: Vec<(Vec<u8>, Vec<u8>)> = (0..3000u64)
        .map(|i| {
            let mut key = b"t\x80\0\0\0\0\0\0\x2a_r\x80".to_vec();
            key.extend_from_slice(&(i * 7).to_be_bytes());
            key.extend_from_slice(&(u64::MAX - i).to_be_bytes());
            let value: Vec<u8> = (0..(i % 90)).map(|j| (i * 31 + j) as u8 & 0x3f).collect();
            (key, value)
        })
        .collect();
    let expected: String = entries
        .iter()
        .map(|(k, v)| {
            format!(
                "'{}' seq:0, type:1 => {}\n",
                hex::encode_upper(k),
                hex::encode_upper(v)
            )
        })
        .collect();
    let combos = [
        (2, Crc32c, CompressionType::Lz4, "default"),
        (2, Crc32c, CompressionType::Zstd, "write"),
        (2, Xxh3, CompressionType::Snappy, "lock"),
        (3, XxHash, CompressionType::Zlib, "default"),
        (4, XxHash64, CompressionType::Lz4hc, "write"),
        (4, Crc32c, CompressionType::None, "default"),
        (5, Xxh3, CompressionType::Zstd, "write"),
        (5, ChecksumType::None, CompressionType::Lz4, "default"),
    ];
    for (version, checksum, compression, cf) in combos {
        let name = format!("fv{version}_{checksum}_{compression}_{cf}");
        let path = dir.path().join(format!("{name}.sst"));
        let options = WriterOptions::default()
            .with_format_version(version)
            .with_checksum(checksum)
            .with_compression(compression)
            .with_block_size(2048)
            .with_column_family(cf);
        let mut w = SstWriter::new(std::fs::File::create(&path).unwrap(), options);
        for (k, v) in &entries {
            w.put(k, v).unwrap();
        }
        let len = w.finish().unwrap();
        assert_eq!(len, std::fs::metadata(&path).unwrap().len());

        // Our reader first, then RocksDB's.
        let reader = SstReader::open(std::fs::File::open(&path).unwrap()).unwrap();
        assert_same_scan(&name, &scan_text(&reader).unwrap(), &expected);

        let file_arg = format!("--file={}", path.display());
        let Some(verify) = sst_dump(&[&file_arg, "--command=verify"]) else {
            return;
        };
        assert!(
            verify.contains("The file is ok"),
            "{name}: verify said:\n{verify}"
        );
        let scan = sst_dump(&[&file_arg, "--command=scan", "--output_hex"]).unwrap_or_default();
        let scan: String = scan
            .lines()
            .filter(|l| l.starts_with('\''))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_same_scan(&name, &scan, &expected);
        let props = sst_dump(&[&file_arg, "--show_properties"]).unwrap_or_default();
        for needle in [
            "# entries: 3000".to_owned(),
            format!("column family name: {cf}"),
            format!("SST file compression algo: {}", compression.name()),
            format!(
                "index block size (user-key? {}, delta-value? {})",
                u8::from(version >= 3),
                u8::from(version >= 4)
            ),
        ] {
            assert!(
                props.contains(&needle),
                "{name}: no {needle:?} in:\n{props}"
            );
        }
    }
}
