#!/usr/bin/env bash
# Regenerates the real-RocksDB SST fixtures in tests/data/sst/ (used by tests/sst_rocksdb.rs).
#
# Needs Debian's `rocksdb-tools` (7.8.3: `apt-get install -y rocksdb-tools`), which gives `ldb` and
# `sst_dump`, and python3 with venv + pip reaching PyPI (the format_version 6 fixtures come from
# RocksDB 9.8.4 inside the `rocksdict` wheel, installed into a scratch virtualenv). Takes ~15 s.
# Run from anywhere: `scripts/gen-sst-fixtures.sh [OUT_DIR]` (default tests/data/sst).
#
# How: for every fixture a scratch DB is created with `ldb`, its newest OPTIONS file is edited to pick
# format_version, checksum, index type, compression, block sizes, ..., and then
# `ldb write_extern_sst` (SstFileWriter, the same writer BR uses) writes the SST from `key ==> value`
# lines on stdin (always --hex). Two fixtures come from other RocksDB paths instead: `db_flush_*` is an
# L0 file flushed by the DB (real sequence numbers and deletions) and `ingested_global_seqno_*` is an
# external SST after `ingest_extern_sst --write_global_seqno` (global seqno property rewritten in place).
#
# For each NAME.sst the script writes NAME.scan.txt: the entry lines of
# `sst_dump --file=NAME.sst --command=scan --output_hex` (`'KEYHEX' seq:N, type:T => VALUEHEX`). The
# header lines are dropped because they contain a pointer value. Every file is also checked with
# `sst_dump --command=verify`.
#
# Key/value content is a pure function of the fixture's parameters, so the scan files are
# reproducible byte for byte, and so are the data blocks below format_version 6 (the corrupt-file
# tests in tests/sst_rocksdb.rs pin block offsets and checksums of one). What differs between runs:
# the properties block (RocksDB stores a random session id and unique id there) and, from
# format_version 6, every checksum (seeded per file).
set -euo pipefail

command -v ldb >/dev/null && command -v sst_dump >/dev/null || {
    echo "gen-sst-fixtures: needs ldb and sst_dump (apt-get install -y rocksdb-tools)" >&2
    exit 1
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/tests/data/sst}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# ascii N: keys "key000001".., values "value-<i>-" plus a repeated pattern (0..~60 bytes, every 97th
# empty, one 1500-byte value in the middle so one data block is larger than block_size).
ascii() {
    awk -v n="$1" '
    function hex(s,   i, r) { r = ""; for (i = 1; i <= length(s); i++) r = r sprintf("%02X", ord[substr(s, i, 1)]); return r }
    BEGIN {
        for (c = 32; c < 127; c++) ord[sprintf("%c", c)] = c
        for (i = 1; i <= n; i++) {
            k = sprintf("key%06d", i)
            if (i % 97 == 0) v = ""
            else {
                v = "value-" i "-"; reps = (i * 7) % 11
                for (r = 0; r < reps; r++) v = v substr("abcdefghijklmnop", (i + r) % 12 + 1, 5)
            }
            if (i == int(n / 2)) { v = ""; for (r = 0; r < 150; r++) v = v sprintf("%010d", r) }
            printf "0x%s ==> 0x%s\n", hex(k), hex(v)
        }
    }'
}

# tidb N [TABLE_ID]: TiDB-like binary keys: memcomparable-encoded `t{table_id}_r{handle}` followed by
# an 8-byte descending commit ts, so keys are 33 bytes with 0x00/0xFF bytes in them; binary values
# of 0..47 bytes (every 97th empty).
tidb() {
    awk -v n="$1" -v tid="${2:-42}" '
    BEGIN {
        for (i = 1; i <= n; i++) {
            h = sprintf("%04X", i)
            # group 1: "t" + 0x80 + 6 bytes of the table id; group 2: last table-id byte, "_r",
            # 0x80 + 4 handle bytes; group 3: last 3 handle bytes + 5 pad bytes, marker 0xFA.
            k = "7480000000000000FF" sprintf("%02X", tid) "5F728000000000FF" "00" h "0000000000FA"
            ts = 4294967295 - i * 3
            k = k "FFFFFFFF" sprintf("%08X", ts)
            len = (i % 97 == 0) ? 0 : (i * 13) % 48
            v = ""
            for (j = 0; j < len; j++) {
                if (j < 4) b = (i * 31 + j) % 256
                else if (j % 8 == 0) b = i % 256
                else b = 0
                v = v sprintf("%02X", b)
            }
            printf "0x%s ==> 0x%s\n", k, v
        }
    }'
}

# new_db DIR: a scratch DB whose OPTIONS file the fixture then edits.
new_db() {
    ldb --db="$1" --create_if_missing put seed seed >/dev/null
    # Keep the host name out of the committed properties.
    setopt "$1" db_host_id br-parquet-fixtures
}

# setopt DIR KEY VALUE: sets one option line in the newest OPTIONS file (each key used here occurs once).
setopt() {
    local opts
    opts=$(ls "$1"/OPTIONS-* | sort | tail -1)
    grep -q "^  $2=" "$opts" || { echo "gen-sst-fixtures: option $2 not in $opts" >&2; exit 1; }
    sed -i "s|^  $2=.*|  $2=$3|" "$opts"
}

# finish NAME FILE: copies FILE to OUT/NAME.sst, verifies it and writes NAME.scan.txt.
finish() {
    cp "$2" "$OUT/$1.sst"
    sst_dump --file="$OUT/$1.sst" --command=verify >"$WORK/verify.txt" 2>&1 ||
        { cat "$WORK/verify.txt" >&2; exit 1; }
    sst_dump --file="$OUT/$1.sst" --command=scan --output_hex | grep "^'" >"$OUT/$1.scan.txt"
    printf '%-44s %6d bytes %5d entries\n' "$1" "$(stat -c %s "$OUT/$1.sst")" "$(wc -l <"$OUT/$1.scan.txt")"
}

# fixture NAME GEN N OPTION=VALUE...: writes one SstFileWriter fixture.
fixture() {
    local name=$1 gen=$2 n=$3 db="$WORK/$1"
    shift 3
    new_db "$db"
    # Small blocks so even a few hundred keys span many data blocks and index partitions.
    setopt "$db" block_size 256
    setopt "$db" metadata_block_size 128
    local kv
    for kv in "$@"; do setopt "$db" "${kv%%=*}" "${kv#*=}"; done
    $gen "$n" | ldb --db="$db" --try_load_options --hex write_extern_sst "$WORK/$name.sst" \
        >"$WORK/ldb.txt" 2>&1 || { cat "$WORK/ldb.txt" >&2; exit 1; }
    finish "$name" "$WORK/$name.sst"
}

rm -f "$OUT"/*.sst "$OUT"/*.scan.txt

CRC=checksum=kCRC32c
XXH32=checksum=kxxHash
XXH64=checksum=kxxHash64
XXH3=checksum=kXXH3
# TiKV's defaults: format_version 2, CRC32c, and LZ4 (or ZSTD on the bottom levels).
fixture fv2_crc32c_none_binary ascii 400 format_version=2 $CRC compression=kNoCompression
fixture fv2_crc32c_snappy_binary tidb 400 format_version=2 $CRC compression=kSnappyCompression
fixture fv2_crc32c_zlib_binary tidb 400 format_version=2 $CRC compression=kZlibCompression
fixture fv2_crc32c_lz4_binary tidb 600 format_version=2 $CRC compression=kLZ4Compression
fixture fv2_crc32c_lz4hc_binary ascii 400 format_version=2 $CRC compression=kLZ4HCCompression
fixture fv2_crc32c_zstd_binary tidb 400 format_version=2 $CRC compression=kZSTD
fixture fv2_xxh64_zstd_hash tidb 400 format_version=2 $XXH64 compression=kZSTD \
    index_type=kHashSearch prefix_extractor=rocksdb.CappedPrefix.10 \
    data_block_index_type=kDataBlockBinaryAndHash
fixture fv3_xxh32_snappy_binary ascii 400 format_version=3 $XXH32 compression=kSnappyCompression \
    block_restart_interval=4
fixture fv3_xxh64_zlib_twolevel tidb 400 format_version=3 $XXH64 compression=kZlibCompression \
    index_type=kTwoLevelIndexSearch
fixture fv3_crc32c_none_firstkey tidb 300 format_version=3 $CRC compression=kNoCompression \
    index_type=kBinarySearchWithFirstKey
fixture fv4_xxh3_lz4_binary tidb 400 format_version=4 $XXH3 compression=kLZ4Compression \
    index_block_restart_interval=4
fixture fv4_crc32c_zstd_twolevel tidb 400 format_version=4 $CRC compression=kZSTD \
    index_type=kTwoLevelIndexSearch index_block_restart_interval=3 \
    filter_policy=bloomfilter:10:false partition_filters=true
fixture fv4_xxh64_none_hash ascii 400 format_version=4 $XXH64 compression=kNoCompression \
    index_type=kHashSearch prefix_extractor=rocksdb.CappedPrefix.6 \
    data_block_index_type=kDataBlockBinaryAndHash
fixture fv4_xxh32_lz4hc_datahash tidb 400 format_version=4 $XXH32 compression=kLZ4HCCompression \
    data_block_index_type=kDataBlockBinaryAndHash index_block_restart_interval=16
fixture fv5_xxh3_none_binary ascii 400 format_version=5 $XXH3 compression=kNoCompression \
    filter_policy=bloomfilter:10:false
fixture fv5_xxh3_zstd_twolevel_datahash tidb 400 format_version=5 $XXH3 compression=kZSTD \
    index_type=kTwoLevelIndexSearch data_block_index_type=kDataBlockBinaryAndHash \
    index_block_restart_interval=2
fixture fv5_xxh32_lz4_firstkey ascii 400 format_version=5 $XXH32 compression=kLZ4Compression \
    index_type=kBinarySearchWithFirstKey index_block_restart_interval=4
fixture fv5_crc32c_snappy_twolevel tidb 400 format_version=5 $CRC \
    compression=kSnappyCompression index_type=kTwoLevelIndexSearch \
    index_block_restart_interval=4
fixture fv5_xxh3_zstd_dict tidb 400 format_version=5 $XXH3 compression=kZSTD \
    "compression_opts={max_dict_buffer_bytes=0;enabled=false;max_dict_bytes=4096;parallel_threads=1;zstd_max_train_bytes=0;level=32767;use_zstd_dict_trainer=true;strategy=0;window_bits=-14;}"
fixture fv5_xxh64_zlib_noindexcompress ascii 300 format_version=5 $XXH64 compression=kZlibCompression \
    enable_index_compression=false block_restart_interval=1
# bzip2 is valid RocksDB but unsupported here: the test pins the error.
fixture fv2_crc32c_bzip2_unsupported ascii 50 format_version=2 $CRC compression=kBZip2Compression

# An L0 file flushed by the DB itself: real sequence numbers, deletions, no external-file properties.
db="$WORK/db_flush"
new_db "$db"
setopt "$db" block_size 256
setopt "$db" format_version 5
setopt "$db" checksum kXXH3
setopt "$db" compression kLZ4Compression
{
    i=0
    while [ $i -lt 300 ]; do
        k=$(printf 'row%05d' $i)
        echo "put $k value-$i"
        [ $((i % 5)) -eq 0 ] && echo "delete $k"
        [ $((i % 7)) -eq 0 ] && echo "put $k overwritten-$i"
        [ $((i % 11)) -eq 0 ] && echo "delete gone$(printf '%05d' $i)"
        i=$((i + 1))
    done
} | ldb --db="$db" query >/dev/null
# Opening the DB for a write replays the WAL into an L0 table file.
ldb --db="$db" put zzz-last-write x >/dev/null
flushed=$(ls -S "$db"/*.sst | head -1)
finish db_flush_fv5_xxh3_lz4 "$flushed"

# An external file ingested with --write_global_seqno over existing keys, so RocksDB assigns
# a nonzero global seqno and rewrites the property in the file.
db="$WORK/ingest"
new_db "$db"
setopt "$db" block_size 256
setopt "$db" format_version 2
setopt "$db" checksum kCRC32c
setopt "$db" compression kSnappyCompression
tidb 200 7 | ldb --db="$db" --try_load_options --hex write_extern_sst "$WORK/ingest.sst" >/dev/null 2>&1
for i in 1 2 3; do ldb --db="$db" --hex put 0x7480000000000000FF075F728000000000FF0000640000000000FA 0x78 >/dev/null; done
ldb --db="$db" ingest_extern_sst "$WORK/ingest.sst" --write_global_seqno --allow_global_seqno >/dev/null
ingested=$(ls -t "$db"/*.sst | head -1)
finish ingested_global_seqno_fv2_crc32c_snappy "$ingested"

# format_version 6 (context checksums, checksummed footer, index handle in the metaindex):
# RocksDB 7.8.3 cannot write it, so these come from RocksDB 9.8.4 as bundled in the `rocksdict`
# wheel (PyPI), installed into a scratch virtualenv. sst_dump 7.8.3 cannot read them either, so the
# script writes the scan file from the input itself, after checking that RocksDB reads the file
# back (ingested into a scratch DB) with exactly that content. There is no format_version 7
# fixture: 9.8.4 rejects it (it arrived in RocksDB 10.4), and no newer RocksDB is packaged here.
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet rocksdict==0.3.29
"$WORK/venv/bin/python" - "$OUT" "$WORK" <<'PY'
import sys
from rocksdict import (BlockBasedIndexType, BlockBasedOptions, ChecksumType, DataBlockIndexType,
                       DBCompressionType, Options, Rdict, SstFileWriter)

out, work = sys.argv[1], sys.argv[2]

def tidb(n, table_id):
    """Memcomparable `t{table_id}_r{handle}` + descending ts, as the `tidb` awk generator."""
    for i in range(1, n + 1):
        key = bytes.fromhex("7480000000000000FF%02X5F728000000000FF00%04X0000000000FA" % (table_id, i))
        key += (0xFFFFFFFF_FFFFFFFF - i * 3).to_bytes(8, "big")
        size = 0 if i % 97 == 0 else (i * 13) % 48
        value = bytes((i * 31 + j) % 256 if j < 4 else (i % 256 if j % 8 == 0 else 0)
                      for j in range(size))
        yield key, value

def fixture(name, fv, checksum, compression, n, index_type=None, data_hash=False, index_restart=None):
    opts = Options(raw_mode=True)
    table = BlockBasedOptions()
    table.set_format_version(fv)
    table.set_checksum_type(checksum)
    table.set_block_size(256)
    table.set_metadata_block_size(128)
    if index_type is not None:
        table.set_index_type(index_type)
    if data_hash:
        table.set_data_block_index_type(DataBlockIndexType.binary_and_hash())
    if index_restart is not None:
        table.set_index_block_restart_interval(index_restart)
    opts.set_block_based_table_factory(table)
    opts.set_compression_type(compression)
    entries = list(tidb(n, fv))
    path = f"{out}/{name}.sst"
    writer = SstFileWriter(opts)
    writer.open(path)
    for key, value in entries:
        writer[key] = value
    writer.finish()
    db = Rdict(f"{work}/{name}.db", opts)
    db.ingest_external_file([path])
    assert list(db.items()) == entries, name
    db.close()
    with open(f"{out}/{name}.scan.txt", "w") as scan:
        for key, value in entries:
            scan.write(f"'{key.hex().upper()}' seq:0, type:1 => {value.hex().upper()}\n")
    print(f"{name:44} {len(entries):5d} entries")

fixture("fv6_xxh3_lz4_binary", 6, ChecksumType.xxh3(), DBCompressionType.lz4(), 400,
        index_restart=4)
fixture("fv6_crc32c_zstd_twolevel_datahash", 6, ChecksumType.crc32c(), DBCompressionType.zstd(),
        400, index_type=BlockBasedIndexType.two_level_index_search(), data_hash=True,
        index_restart=2)
fixture("fv6_xxh64_snappy_binary", 6, ChecksumType.xxhash64(), DBCompressionType.snappy(), 400)
fixture("fv6_xxh32_zlib_twolevel", 6, ChecksumType.xxhash(), DBCompressionType.zlib(), 300,
        index_type=BlockBasedIndexType.two_level_index_search())
PY

du -sh "$OUT"
