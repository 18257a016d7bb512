"""Reads the tables br-parquet registered in an Iceberg catalog with PyIceberg's SqlCatalog or
GlueCatalog.

Usage: check_catalog.py <expected.json>

expected.json:
  {"catalog": {"name": "default", "uri": "<SQLAlchemy URI>",   # or "type": "glue", no uri
               "properties": {"s3.endpoint": …}},  # optional: FileIO (and Glue) properties
   "namespaces": ["shop", ...],                 # the namespaces of the tables: the catalog lists
                                                # exactly these and their parents
   "tables": [{
       "namespace": "shop", "table": "customers",
       "columns": [...],                        # column order of the rows, as check_parquet.py
       "rows": [[...], ...],                    # rows of the current snapshot
       "snapshots": [[[...], ...], ...],        # rows of every snapshot, oldest first
       "metadata_location": "file:///…"         # optional: where the catalog must point
   }]}

For each table: listed in its namespace, loaded through the catalog, the current snapshot and every
earlier one (time travel by snapshot id) scanned and compared row by row. Prints "N values
checked, M mismatches" and exits non-zero on any mismatch.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_iceberg import compare_rows, fail, failures, table_rows  # noqa: E402

from pyiceberg.catalog.glue import GlueCatalog  # noqa: E402
from pyiceberg.catalog.sql import SqlCatalog  # noqa: E402


def check_table(catalog, expected):
    namespace, name = expected["namespace"], expected["table"]
    label = f"{namespace}.{name}"
    listed = [t[-1] for t in catalog.list_tables(namespace)]
    if name not in listed:
        fail(f"{label}: not listed in namespace {namespace} ({listed})")
    tbl = catalog.load_table((*namespace.split("."), name))
    if "metadata_location" in expected and tbl.metadata_location != expected["metadata_location"]:
        fail(f"{label}: the catalog points at {tbl.metadata_location}, expected {expected['metadata_location']}")
    columns = expected["columns"]
    checked = compare_rows(label, table_rows(tbl.scan().to_arrow(), columns), expected["rows"], columns)
    snapshots = tbl.metadata.snapshots
    if len(snapshots) != len(expected["snapshots"]):
        fail(f"{label}: {len(snapshots)} snapshots, expected {len(expected['snapshots'])}")
        return checked
    for index, (snapshot, rows) in enumerate(zip(snapshots, expected["snapshots"])):
        if index > 0 and snapshot.parent_snapshot_id != snapshots[index - 1].snapshot_id:
            fail(f"{label}: snapshot {snapshot.snapshot_id} has parent {snapshot.parent_snapshot_id}")
        got = table_rows(tbl.scan(snapshot_id=snapshot.snapshot_id).to_arrow(), columns)
        checked += compare_rows(f"{label}@{snapshot.snapshot_id}", got, rows, columns)
    if tbl.metadata.current_snapshot_id != snapshots[-1].snapshot_id:
        fail(f"{label}: current snapshot {tbl.metadata.current_snapshot_id} is not the newest")
    return checked


def all_namespaces(catalog, parent=()):
    found = []
    for namespace in catalog.list_namespaces(parent):
        if tuple(namespace) == tuple(parent):
            continue
        found.append(".".join(namespace))
        found += all_namespaces(catalog, tuple(namespace))
    return found


def main():
    with open(sys.argv[1]) as f:
        expected = json.load(f)
    spec = expected["catalog"]
    properties = spec.get("properties", {})
    if spec.get("type") == "glue":
        catalog = GlueCatalog(spec["name"], **properties)
    else:
        catalog = SqlCatalog(spec["name"], uri=spec["uri"], **properties)
    namespaces = sorted(set(all_namespaces(catalog)))
    levels = [ns.split(".") for ns in expected["namespaces"]]
    want = sorted({".".join(level[:n]) for level in levels for n in range(1, len(level) + 1)})
    if namespaces != want:
        fail(f"namespaces {namespaces}, expected {want}")
    checked = 0
    for table in expected["tables"]:
        try:
            checked += check_table(catalog, table)
        except Exception as e:  # report, then keep checking the other tables
            fail(f"{table['namespace']}.{table['table']}: {type(e).__name__}: {e}")
    for message in failures[:50]:
        print(message)
    print(f"{checked} values checked, {len(failures)} mismatches")
    sys.exit(1 if failures or checked == 0 else 0)


if __name__ == "__main__":
    main()
