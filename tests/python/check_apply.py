"""Reads Iceberg tables with PyIceberg and prints their rows, for tests/incremental_apply.rs.

Usage: check_apply.py <reads.json>

reads.json: {"reads": [{"label": "...", "metadata": "<path of a vN.metadata.json>",
                        "snapshot_id": id | null}]}     # null: the current snapshot

Prints one JSON object: {"reads": [{"label": ..., "columns": [...], "rows": [[...], ...],
"schema_id": id | null}]}, in the order asked. Each read is
`StaticTable.from_metadata(metadata).scan(snapshot_id=...).to_arrow()`, so position deletes are
applied by PyIceberg. `schema_id` is the schema-id of the snapshot read (null when it has none):
PyIceberg (0.12) projects a time-travel scan onto that schema, and onto the current schema only
when the snapshot names none. Values are normalised as check_iceberg.py does: decimals as strings,
binary as hex, dates and times as ISO strings. The Rust test compares them.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_iceberg import normalise  # noqa: E402

from pyiceberg.table import StaticTable  # noqa: E402


def read(request):
    table = StaticTable.from_metadata(request["metadata"])
    snapshot_id = request.get("snapshot_id")
    if snapshot_id is None:
        snapshot = table.current_snapshot()
        scan = table.scan()
    else:
        snapshot = table.snapshot_by_id(snapshot_id)
        if snapshot is None:
            raise SystemExit(f"{request['label']}: no snapshot {snapshot_id}")
        scan = table.scan(snapshot_id=snapshot_id)
    arrow = scan.to_arrow()
    data = arrow.to_pydict()
    columns = arrow.column_names
    rows = [[normalise(data[c][i]) for c in columns] for i in range(arrow.num_rows)]
    return {
        "label": request["label"],
        "columns": columns,
        "rows": rows,
        "schema_id": None if snapshot is None else snapshot.schema_id,
    }


def main():
    with open(sys.argv[1]) as f:
        requests = json.load(f)["reads"]
    print(json.dumps({"reads": [read(r) for r in requests]}))


if __name__ == "__main__":
    main()
