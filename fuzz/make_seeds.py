#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ from the repository's own test data.

Run from anywhere: `python3 fuzz/make_seeds.py`. Deterministic; the output is committed.
Sources: examples/sample-backup (written by the test kit), tests/data/sst (written by RocksDB),
and byte vectors quoted in docs/formats.md section 10.
"""
import glob
import os
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
SAMPLE = os.path.join(ROOT, "examples", "sample-backup")
SEPARATOR = b"--8<--"  # fuzz_targets/backupmeta.rs
FOOTER_LEN = 53  # RocksDB footer, format_version 1..5; byte 0 is the checksum type


def reset(target):
    path = os.path.join(CORPUS, target)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write(directory, name, data):
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


# --- sst_reader -------------------------------------------------------------------------------
def sst_seeds():
    out = reset("sst_reader")
    for path in sorted(glob.glob(os.path.join(SAMPLE, "1", "*.sst"))):
        data = read(path)
        stem = os.path.basename(path)[: -len(".sst")]
        write(out, f"sample_{stem}_checksummed", data)
        fmt = int.from_bytes(data[-12:-8], "little")
        if fmt < 6:
            # kNoChecksum: block checksums are ignored, so mutations reach the block decoders.
            nochecksum = bytearray(data)
            nochecksum[-FOOTER_LEN] = 0
            write(out, f"sample_{stem}_nochecksum", bytes(nochecksum))
    for name in [
        "fv2_crc32c_bzip2_unsupported",
        "db_flush_fv5_xxh3_lz4",
        "ingested_global_seqno_fv2_crc32c_snappy",
        "fv5_xxh64_zlib_noindexcompress",
    ]:
        path = os.path.join(ROOT, "tests", "data", "sst", name + ".sst")
        if os.path.exists(path):
            write(out, f"rocksdb_{name}", read(path))


# --- backupmeta -------------------------------------------------------------------------------
def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def fields(message):
    """Top-level (field number, wire type, raw bytes of the whole field) of a protobuf message."""
    pos = 0
    while pos < len(message):
        start = pos
        key, pos = read_varint(message, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = read_varint(message, pos)
        elif wire == 1:
            pos += 8
        elif wire == 2:
            length, pos = read_varint(message, pos)
            pos += length
        elif wire == 5:
            pos += 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, message[start:pos]


def retag(raw_field, number):
    """The length-delimited field `raw_field` under another field number."""
    key, pos = read_varint(raw_field, 0)
    return varint((number << 3) | (key & 7)) + raw_field[pos:]


def backupmeta_seeds():
    out = reset("backupmeta")
    root = read(os.path.join(SAMPLE, "backupmeta"))
    datafile = read(os.path.join(SAMPLE, "backupmeta.datafile.000000001"))
    schema = read(os.path.join(SAMPLE, "backupmeta.schema.000000002"))
    v2 = SEPARATOR.join([root, datafile, schema])
    write(out, "sample_v2", b"\x00" + v2)
    write(out, "sample_v2_encrypted_root", b"\x01" + v2)
    write(out, "sample_v2_root_only", b"\x00" + root)
    # The same backup in the v1 layout: MetaFile.data_files (2) -> BackupMeta.files (4),
    # MetaFile.schemas (3) -> BackupMeta.schemas (7); drop version (12) and the indexes (13-16).
    v1 = b"".join(raw for number, _, raw in fields(root) if number not in (12, 13, 14, 15, 16))
    v1 += b"".join(retag(raw, 4) for number, _, raw in fields(datafile) if number == 2)
    v1 += b"".join(retag(raw, 7) for number, _, raw in fields(schema) if number == 3)
    write(out, "sample_v1", b"\x00" + v1)
    write(out, "sample_v1_encrypted", b"\x01" + v1)


# --- data_key / row ---------------------------------------------------------------------------
def hexbytes(text):
    return bytes.fromhex(text.replace(" ", ""))


def data_key_seeds():
    out = reset("data_key")
    # Spec 10.1.5: the write-CF key of table 110, handle 1, commit_ts 459177129704947714.
    key = hexbytes(
        "74 80 00 00 00 00 00 00 ff 6e 5f 72 80 00 00 00 00 ff 00 00 01 00 00 00 00 00 fa"
    )
    write(out, "record_key", b"z" + key + hexbytes("f9 a0 ac d5 56 f3 ff fd"))
    write(out, "raw_record_key", hexbytes("74 80 00 00 00 00 00 00 6e 5f 72 80 00 00 00 00 00 00 01"))
    write(
        out,
        "raw_index_key",
        hexbytes("74 80 00 00 00 00 00 00 6e 5f 69 80 00 00 00 00 00 00 01 03 80 00 00 00 00 00 00 07"),
    )
    write(
        out,
        "write_put",
        hexbytes("50 81 80 b0 c8 aa e5 d4 af 06 76 0a 80 00 01 00 00 00 01 01 00 01"),
    )
    write(out, "write_delete", hexbytes("44 81 80 d0 9f 8a e7 d4 af 06"))
    # Spec 10.1.1: memcomparable encodings.
    write(out, "memcmp_9", hexbytes("01 02 03 04 05 06 07 08 ff 09 00 00 00 00 00 00 00 f8"))
    write(out, "memcmp_desc", hexbytes("fe fd fc ff ff ff ff ff 05"))


def row_seeds():
    out = reset("row")
    write(out, "row_v2", hexbytes("80 00 02 00 00 00 01 02 01 00 04 00 64 61 62 63"))
    write(out, "row_v2_null", hexbytes("80 00 00 00 01 00 01"))
    write(out, "row_v2_int", hexbytes("80 00 01 00 00 00 01 01 00 01"))
    write(out, "row_v1", hexbytes("08 02 08 c8 01 08 04 02 06 61 62 63"))
    write(
        out,
        "json_object",
        hexbytes(
            "01 01 00 00 00 1c 00 00 00 13 00 00 00 01 00 09 14 00 00 00 61 02 00 00 00 00 00 00 00"
        ),
    )
    write(out, "decimal_6_4", hexbytes("06 04 8b 26 ac"))
    write(out, "decimal_4_2", hexbytes("04 02 75 c8"))
    write(out, "decimal_14_4", hexbytes("0e 04 81 0d fb 38 d2 04 d2"))
    write(out, "timestamp", hexbytes("3f 42 0f cb b2 94 8a 19"))


if __name__ == "__main__":
    sst_seeds()
    backupmeta_seeds()
    data_key_seeds()
    row_seeds()
    for target in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, target))
        size = sum(os.path.getsize(os.path.join(CORPUS, target, f)) for f in files)
        print(f"{target}: {len(files)} seeds, {size} bytes")
