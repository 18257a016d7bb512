"""Reads br-parquet output with pyarrow and DuckDB and compares every value with what the backup holds.

Usage: check_parquet.py <output root> <expected.json>

expected.json: {"tables": [{"dir": "<prefix>/<db>/<table>", "arrow_types": {"col": "int64", ...},
                            "columns": ["_tidb_table_id", ...], "rows": [[...], ...]}]}
Rows are compared in `_tidb_handle` order. Values are normalised to JSON: decimals as strings,
binary as hex, dates/timestamps as ISO strings.
"""
import base64
import datetime
import decimal
import glob
import json
import math
import os
import sys

import duckdb
import pyarrow.parquet as pq


def normalise(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value // datetime.timedelta(microseconds=1)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def same(expected, actual):
    if isinstance(expected, float) and isinstance(actual, float):
        return expected == actual or (math.isnan(expected) and math.isnan(actual))
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(same(e, a) for e, a in zip(expected, actual))
    return expected == actual


def main():
    root, expected_path = sys.argv[1], sys.argv[2]
    with open(expected_path) as f:
        expected = json.load(f)
    failures = []
    checked = 0
    for table in expected["tables"]:
        files = sorted(glob.glob(os.path.join(root, table["dir"], "*.parquet")))
        if not files and table["rows"]:
            failures.append(f"{table['dir']}: no parquet files")
            continue
        columns = table["columns"]
        rows = []
        for path in files:
            t = pq.read_table(path)
            if t.column_names != columns:
                failures.append(f"{path}: columns {t.column_names} != {columns}")
                continue
            for name, want in table.get("arrow_types", {}).items():
                got = str(t.schema.field(name).type)
                if got != want:
                    failures.append(f"{path}: column {name} has type {got}, expected {want}")
            for nullable_name in table.get("required", []):
                if t.schema.field(nullable_name).nullable:
                    failures.append(f"{path}: column {nullable_name} should be required")
            data = t.to_pydict()
            rows.extend(
                [normalise(data[c][i]) for c in columns] for i in range(t.num_rows)
            )
        handle = columns.index("_tidb_handle")
        rows.sort(key=lambda r: (r[0], r[handle]))
        want_rows = sorted(table["rows"], key=lambda r: (r[0], r[handle]))
        if len(rows) != len(want_rows):
            failures.append(f"{table['dir']}: {len(rows)} rows, expected {len(want_rows)}")
        for got, want in zip(rows, want_rows):
            for name, g, w in zip(columns, got, want):
                if not same(w, g):
                    failures.append(f"{table['dir']}: handle {got[handle]}: column {name}: {g!r} != {w!r}")
                checked += 1
        if files:
            # DuckDB must read the same files and find the same values.
            pattern = os.path.join(root, table["dir"], "*.parquet")
            con = duckdb.connect()
            con.execute("SET TimeZone = 'UTC'")
            duck = [[normalise(v) for v in r] for r in con.execute(f"select * from read_parquet('{pattern}')").fetchall()]
            duck.sort(key=lambda r: (r[0], r[handle]))
            if len(duck) != len(want_rows):
                failures.append(f"{table['dir']}: duckdb reads {len(duck)} rows, expected {len(want_rows)}")
            for got, want in zip(duck, want_rows):
                for name, g, w in zip(columns, got, want):
                    if name in table.get("duckdb_skip", []):
                        continue
                    if not same(w, g):
                        failures.append(f"{table['dir']}: duckdb: handle {got[handle]}: column {name}: {g!r} != {w!r}")
                    checked += 1
    for failure in failures[:50]:
        print("MISMATCH", failure)
    print(f"checked {checked} values in {len(expected['tables'])} tables, {len(failures)} mismatches")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
