"""Reads br-parquet's Iceberg tables with PyIceberg, fastavro and DuckDB and checks them.

Usage: check_iceberg.py <output root> <expected.json>

expected.json:
  {"tables": [{
      "dir": "<prefix>/<db>/<table>",           # table directory, relative to the output root
      "metadata": "<dir>/metadata/vN.metadata.json",
      "columns": [...], "arrow_types": {...}, "required": [...],   # as check_parquet.py
      "rows": [[...], ...],                     # rows of the current snapshot
      "field_ids": {"column": id, ...},         # Parquet/Iceberg field ids to check
      "partition_ids": [..],                    # non-empty: partitioned by _tidb_table_id
      "predicates": [{"column": c, "value": v, "pruned": bool}],
      "snapshots": [{"snapshot_id": id, "parent": id|null, "sequence_number": n,
                     "rows": [[...], ...]}],     # every snapshot, oldest first (time travel)
      "metadata_log": n                         # expected metadata-log entries
  }]}

For each table: StaticTable.from_metadata scans every snapshot and compares rows and Iceberg
types; each predicate must return the matching rows, planning fewer files when "pruned"; fastavro
reads the current manifest list and manifests and checks every Iceberg v2 field, the Avro map
encoding of the stats maps, and that bounds decode (little-endian) to the files' real min/max;
DuckDB reads the planned data files and their Parquet field ids. Prints "N mismatches".
"""
import decimal
import datetime
import json
import math
import os
import struct
import sys
from urllib.parse import urlparse

import duckdb
import fastavro
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyiceberg.expressions import EqualTo
from pyiceberg.table import StaticTable

failures = []


def fail(message):
    failures.append(message)


def normalise(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


ARROW_TO_ICEBERG = {
    "int32": "int",
    "int64": "long",
    "float": "float",
    "double": "double",
    "string": "string",
    "binary": "binary",
    "bool": "boolean",
    "date32[day]": "date",
    "timestamp[us]": "timestamp",
    "timestamp[us, tz=UTC]": "timestamptz",
    "duration[us]": "long",  # TiDB TIME: signed microseconds
    "extension<arrow.json>": "string",
}


def iceberg_type_of(arrow_type):
    if arrow_type.startswith("decimal128("):
        return "decimal(" + arrow_type[len("decimal128("):]
    return ARROW_TO_ICEBERG.get(arrow_type, arrow_type)


def local_path(uri):
    parsed = urlparse(uri)
    return parsed.path if parsed.scheme == "file" else uri


def table_rows(arrow_table, columns):
    data = arrow_table.to_pydict()
    return [[normalise(data[c][i]) for c in columns] for i in range(arrow_table.num_rows)]


def compare_rows(label, got, want, columns):
    handle = columns.index("_tidb_handle")
    got = sorted(got, key=lambda r: (r[0], r[handle]))
    want = sorted(want, key=lambda r: (r[0], r[handle]))
    if len(got) != len(want):
        fail(f"{label}: {len(got)} rows, expected {len(want)}")
        return 0
    checked = 0
    for g, w in zip(got, want):
        for name, gv, wv in zip(columns, g, w):
            same = gv == wv or (
                isinstance(gv, float) and isinstance(wv, float) and math.isnan(gv) and math.isnan(wv)
            )
            if not same:
                fail(f"{label}: handle {g[handle]}: column {name}: {gv!r} != {wv!r}")
            checked += 1
    return checked


# Iceberg v2 manifest_file (manifest list) fields: name -> (field id, required, python type).
MANIFEST_FILE_FIELDS = {
    "manifest_path": (500, True, str),
    "manifest_length": (501, True, int),
    "partition_spec_id": (502, True, int),
    "content": (517, True, int),
    "sequence_number": (515, True, int),
    "min_sequence_number": (516, True, int),
    "added_snapshot_id": (503, True, int),
    "added_files_count": (504, True, int),
    "existing_files_count": (505, True, int),
    "deleted_files_count": (506, True, int),
    "added_rows_count": (512, True, int),
    "existing_rows_count": (513, True, int),
    "deleted_rows_count": (514, True, int),
    "partitions": (507, False, list),
}
MANIFEST_ENTRY_FIELDS = {
    "status": (0, True, int),
    "snapshot_id": (1, False, int),
    "sequence_number": (3, False, int),
    "file_sequence_number": (4, False, int),
    "data_file": (2, True, dict),
}
DATA_FILE_FIELDS = {
    "content": (134, True, int),
    "file_path": (100, True, str),
    "file_format": (101, True, str),
    "partition": (102, True, dict),
    "record_count": (103, True, int),
    "file_size_in_bytes": (104, True, int),
    "column_sizes": (108, False, list),
    "value_counts": (109, False, list),
    "null_value_counts": (110, False, list),
    "nan_value_counts": (137, False, list),
    "lower_bounds": (125, False, list),
    "upper_bounds": (128, False, list),
    "split_offsets": (132, False, list),
    "sort_order_id": (140, False, int),
}
# Int-keyed maps: key and value field ids, Avro array-of-records with logicalType "map".
STATS_MAPS = {
    "column_sizes": (117, 118),
    "value_counts": (119, 120),
    "null_value_counts": (121, 122),
    "nan_value_counts": (138, 139),
    "lower_bounds": (126, 127),
    "upper_bounds": (129, 130),
}


def schema_fields(record_schema):
    return {f["name"]: f for f in record_schema["fields"]}


def is_optional(avro_type):
    return isinstance(avro_type, list) and "null" in avro_type


def non_null(avro_type):
    if isinstance(avro_type, list):
        rest = [t for t in avro_type if t != "null"]
        return rest[0] if len(rest) == 1 else rest
    return avro_type


def check_record(label, record_schema, value, spec):
    fields = schema_fields(record_schema)
    for name, (field_id, required, py_type) in spec.items():
        field = fields.get(name)
        if field is None:
            fail(f"{label}: field {name} missing from the Avro schema")
            continue
        if field.get("field-id") != field_id:
            fail(f"{label}: field {name} has field-id {field.get('field-id')}, expected {field_id}")
        if required and is_optional(field["type"]):
            fail(f"{label}: v2-required field {name} is optional in the Avro schema")
        v = value.get(name)
        if v is None:
            if required:
                fail(f"{label}: v2-required field {name} is null")
            continue
        if not isinstance(v, py_type) or isinstance(v, bool) and py_type is int:
            fail(f"{label}: field {name} = {v!r} is not {py_type.__name__}")


def open_avro(path):
    with open(path, "rb") as f:
        reader = fastavro.reader(f)
        return reader.writer_schema, dict(reader.metadata), list(reader)


def check_manifests(table_dir, tbl, expected):
    label = table_dir
    snapshot = tbl.current_snapshot()
    list_schema, list_meta, manifests = open_avro(local_path(snapshot.manifest_list))
    if list_schema.get("name") != "manifest_file":
        fail(f"{label}: manifest list record is {list_schema.get('name')}")
    for key, want in [
        ("format-version", "2"),
        ("snapshot-id", str(snapshot.snapshot_id)),
        ("sequence-number", str(snapshot.sequence_number)),
        ("parent-snapshot-id", str(snapshot.parent_snapshot_id) if snapshot.parent_snapshot_id else "null"),
    ]:
        if list_meta.get(key) != want:
            fail(f"{label}: manifest list metadata {key} = {list_meta.get(key)!r}, expected {want!r}")
    live_files = {}
    partitioned = bool(expected["partition_ids"])
    for m in manifests:
        check_record(f"{label}: manifest list entry", list_schema, m, MANIFEST_FILE_FIELDS)
        if m["sequence_number"] != snapshot.sequence_number and m["added_files_count"] > 0:
            fail(f"{label}: added manifest has sequence number {m['sequence_number']}")
        if m["partitions"] is None:
            fail(f"{label}: manifest list entry has no partitions summary")
        elif partitioned:
            summary = m["partitions"]
            if len(summary) != 1 or summary[0]["contains_null"] is not False:
                fail(f"{label}: partition summary {summary!r}")
            elif m["added_files_count"]:
                low = struct.unpack("<q", summary[0]["lower_bound"])[0]
                high = struct.unpack("<q", summary[0]["upper_bound"])[0]
                if low not in expected["partition_ids"] or high not in expected["partition_ids"]:
                    fail(f"{label}: partition summary bounds {low}..{high}")
        entry_schema, meta, entries = open_avro(local_path(m["manifest_path"]))
        if m["manifest_length"] != os.path.getsize(local_path(m["manifest_path"])):
            fail(f"{label}: manifest_length {m['manifest_length']} is not the file size")
        for key in ["schema", "schema-id", "partition-spec", "partition-spec-id", "format-version", "content"]:
            if key not in meta:
                fail(f"{label}: manifest metadata has no {key}")
        if meta.get("format-version") != "2" or meta.get("content") != "data":
            fail(f"{label}: manifest metadata {meta.get('format-version')!r} {meta.get('content')!r}")
        if entry_schema.get("name") != "manifest_entry":
            fail(f"{label}: manifest record is {entry_schema.get('name')}")
        data_file_schema = non_null(schema_fields(entry_schema)["data_file"]["type"])
        for name, (key_id, value_id) in STATS_MAPS.items():
            avro_type = non_null(schema_fields(data_file_schema)[name]["type"])
            if not (isinstance(avro_type, dict) and avro_type.get("type") == "array"
                    and avro_type.get("logicalType") == "map"):
                fail(f"{label}: {name} is not an Avro array with logicalType map: {avro_type!r}")
                continue
            kv = schema_fields(avro_type["items"])
            if kv["key"].get("field-id") != key_id or kv["value"].get("field-id") != value_id:
                fail(f"{label}: {name} key/value ids {kv['key'].get('field-id')}/{kv['value'].get('field-id')}")
            if kv["key"]["type"] != "int":
                fail(f"{label}: {name} keys are {kv['key']['type']}, not int")
        added = sum(1 for e in entries if e["status"] == 1)
        deleted = sum(1 for e in entries if e["status"] == 2)
        if added != m["added_files_count"] or deleted != m["deleted_files_count"]:
            fail(f"{label}: manifest counts {added}/{deleted} vs list {m['added_files_count']}/{m['deleted_files_count']}")
        if sum(e["data_file"]["record_count"] for e in entries if e["status"] == 1) != m["added_rows_count"]:
            fail(f"{label}: added_rows_count {m['added_rows_count']} does not match the entries")
        for e in entries:
            check_record(f"{label}: manifest entry", entry_schema, e, MANIFEST_ENTRY_FIELDS)
            df = e["data_file"]
            check_record(f"{label}: data_file", data_file_schema, df, DATA_FILE_FIELDS)
            if e["status"] != 1:
                continue
            live_files[df["file_path"]] = df
    return live_files


def check_data_file(label, df, expected, iceberg_schema):
    path = local_path(df["file_path"])
    if df["content"] != 0 or df["file_format"] != "PARQUET":
        fail(f"{label}: content {df['content']} format {df['file_format']}")
    if df["file_size_in_bytes"] != os.path.getsize(path):
        fail(f"{label}: file_size_in_bytes {df['file_size_in_bytes']} != {os.path.getsize(path)}")
    data = pq.read_table(path)
    if df["record_count"] != data.num_rows:
        fail(f"{label}: record_count {df['record_count']} != {data.num_rows}")
    lower = {kv["key"]: kv["value"] for kv in df["lower_bounds"] or []}
    upper = {kv["key"]: kv["value"] for kv in df["upper_bounds"] or []}
    values = {kv["key"]: kv["value"] for kv in df["value_counts"] or []}
    nulls = {kv["key"]: kv["value"] for kv in df["null_value_counts"] or []}
    nans = {kv["key"]: kv["value"] for kv in df["nan_value_counts"] or []}
    sizes = {kv["key"]: kv["value"] for kv in df["column_sizes"] or []}
    for field in iceberg_schema.fields:
        column = data.column(field.name)
        fid = field.field_id
        if values.get(fid) != data.num_rows:
            fail(f"{label}: value_counts[{fid}] = {values.get(fid)}, expected {data.num_rows}")
        if nulls.get(fid) != column.null_count:
            fail(f"{label}: null_value_counts[{fid}] = {nulls.get(fid)}, expected {column.null_count}")
        if not sizes.get(fid):
            fail(f"{label}: no column_sizes[{fid}]")
        type_name = str(field.field_type)
        if type_name in ("float", "double"):
            want_nans = pc.sum(pc.is_nan(column)).as_py() or 0
            if nans.get(fid) != want_nans:
                fail(f"{label}: nan_value_counts[{fid}] = {nans.get(fid)}, expected {want_nans}")
        elif fid in nans:
            fail(f"{label}: nan_value_counts has non-float field {fid}")
        fmt = {"long": "<q", "int": "<i", "double": "<d", "float": "<f"}.get(type_name)
        if fmt is None or column.null_count == len(column):
            continue
        # Little-endian single-value serialization decodes to the file's real min and max.
        mm = pc.min_max(column).as_py()
        for name, bounds, want in [("lower", lower, mm["min"]), ("upper", upper, mm["max"])]:
            if fid not in bounds:
                fail(f"{label}: no {name} bound for field {fid}")
                continue
            got = struct.unpack(fmt, bounds[fid])[0]
            if type_name == "float":
                want = struct.unpack("<f", struct.pack("<f", want))[0]
            if got != want:
                fail(f"{label}: {name} bound of {field.name} decodes to {got!r}, file has {want!r}")
    if expected["partition_ids"]:
        ids = pc.unique(data.column("_tidb_table_id")).to_pylist()
        if df["partition"] != {"_tidb_table_id": ids[0]} or len(ids) != 1:
            fail(f"{label}: partition {df['partition']!r}, file holds {ids}")


def check_table(root, expected):
    label = expected["dir"]
    metadata_path = os.path.join(root, expected["metadata"])
    tbl = StaticTable.from_metadata(metadata_path)
    # Also from the table directory, through metadata/version-hint.text.
    hinted = StaticTable.from_metadata(os.path.join(root, expected["dir"]))
    if hinted.metadata_location != tbl.metadata_location:
        fail(f"{label}: version hint points at {hinted.metadata_location}")
    meta = tbl.metadata
    if meta.format_version != 2:
        fail(f"{label}: format version {meta.format_version}")
    columns = expected["columns"]
    schema = tbl.schema()
    for name, arrow_type in expected["arrow_types"].items():
        field = schema.find_field(name)
        want = iceberg_type_of(arrow_type)
        if str(field.field_type) != want:
            fail(f"{label}: column {name} is {field.field_type} in Iceberg, expected {want}")
        if name in expected["required"] and not field.required:
            fail(f"{label}: column {name} should be required")
    for name, field_id in expected["field_ids"].items():
        if schema.find_field(name).field_id != field_id:
            fail(f"{label}: column {name} has field id {schema.find_field(name).field_id}, expected {field_id}")
    if "schema.name-mapping.default" not in meta.properties:
        fail(f"{label}: no schema.name-mapping.default")
    spec = tbl.spec()
    if expected["partition_ids"]:
        if [(f.source_id, str(f.transform), f.name) for f in spec.fields] != [(1, "identity", "_tidb_table_id")]:
            fail(f"{label}: partition spec {spec}")
    elif spec.fields:
        fail(f"{label}: unexpected partition spec {spec}")

    checked = 0
    history = [s for s in expected["snapshots"]]
    if [s.snapshot_id for s in meta.snapshots] != [s["snapshot_id"] for s in history]:
        fail(f"{label}: snapshots {[s.snapshot_id for s in meta.snapshots]}, expected {[s['snapshot_id'] for s in history]}")
    if len(meta.metadata_log) != expected["metadata_log"]:
        fail(f"{label}: {len(meta.metadata_log)} metadata-log entries, expected {expected['metadata_log']}")
    for want in history:
        snapshot = tbl.snapshot_by_id(want["snapshot_id"])
        if snapshot is None:
            fail(f"{label}: snapshot {want['snapshot_id']} missing")
            continue
        if snapshot.parent_snapshot_id != want["parent"] or snapshot.sequence_number != want["sequence_number"]:
            fail(f"{label}: snapshot {snapshot.snapshot_id}: parent {snapshot.parent_snapshot_id} "
                 f"sequence {snapshot.sequence_number}, expected {want['parent']} {want['sequence_number']}")
        got = table_rows(tbl.scan(snapshot_id=snapshot.snapshot_id).to_arrow(), columns)
        checked += compare_rows(f"{label}@{snapshot.snapshot_id}", got, want["rows"], columns)
    if meta.current_snapshot_id != history[-1]["snapshot_id"]:
        fail(f"{label}: current snapshot {meta.current_snapshot_id}")

    got = table_rows(tbl.scan().to_arrow(), columns)
    checked += compare_rows(label, got, expected["rows"], columns)

    all_files = [t.file.file_path for t in tbl.scan().plan_files()]
    for predicate in expected["predicates"]:
        column, value = predicate["column"], predicate["value"]
        scan = tbl.scan(row_filter=EqualTo(column, value))
        planned = list(scan.plan_files())
        index = columns.index(column)
        want = [r for r in expected["rows"] if r[index] == value]
        got = table_rows(scan.to_arrow(), columns)
        checked += compare_rows(f"{label} where {column} = {value!r}", got, want, columns)
        if predicate["pruned"] and not (0 < len(planned) < len(all_files)):
            fail(f"{label}: {column} = {value!r} planned {len(planned)} of {len(all_files)} files; bounds did not prune")

    live = check_manifests(label, tbl, expected)
    if sorted(live) != sorted(all_files):
        fail(f"{label}: fastavro finds {len(live)} live files, PyIceberg plans {len(all_files)}")
    for path, df in live.items():
        check_data_file(f"{label}: {os.path.basename(path)}", df, expected, schema)

    if all_files:
        paths = [local_path(p) for p in all_files]
        ((count,),) = duckdb.sql(f"select count(*) from read_parquet({paths!r})").fetchall()
        if count != len(expected["rows"]):
            fail(f"{label}: DuckDB counts {count} rows, expected {len(expected['rows'])}")
        ids = dict(duckdb.sql(
            f"select name, field_id from parquet_schema('{paths[0]}') where field_id is not null"
        ).fetchall())
        for field in schema.fields:
            if ids.get(field.name) != field.field_id:
                fail(f"{label}: Parquet field id of {field.name} is {ids.get(field.name)}, Iceberg says {field.field_id}")
    return checked


def main():
    root, expected_path = sys.argv[1], sys.argv[2]
    with open(expected_path) as f:
        expected = json.load(f)
    checked = 0
    for table in expected["tables"]:
        try:
            checked += check_table(root, table)
        except Exception as e:  # report, then keep checking the other tables
            fail(f"{table['dir']}: {type(e).__name__}: {e}")
    for failure in failures[:60]:
        print("MISMATCH", failure)
    print(f"checked {checked} values in {len(expected['tables'])} Iceberg tables, {len(failures)} mismatches")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
