#!/usr/bin/env python3
"""DuckDB baselines for scripts/bench.sh: what a user with a CSV dump would do.

  bench_duckdb.py prepare --parquet-dir DIR --csv FILE   (untimed) our export's rows as one CSV
  bench_duckdb.py convert --csv FILE --out FILE          (timed) CSV -> Parquet with zstd

`convert` times only the COPY statement (not Python or DuckDB start-up) and prints one JSON line
with rows, seconds, CSV bytes and Parquet bytes. DuckDB uses all cores (its default).
Runs the duckdb Python package from .venv (scripts/setup-test-env.sh installs it); no network.
"""

import argparse
import json
import os
import sys
import time

import duckdb


def prepare(args):
    con = duckdb.connect()
    src = os.path.join(args.parquet_dir, "**", "*.parquet")
    started = time.perf_counter()
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{src}') ORDER BY _tidb_handle) "
        f"TO '{args.csv}' (FORMAT csv, HEADER)"
    )
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{src}')").fetchone()[0]
    print(json.dumps({"csv": args.csv, "rows": rows, "csv_bytes": os.path.getsize(args.csv),
                      "seconds": round(time.perf_counter() - started, 3)}))


def convert(args):
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    if os.path.exists(args.out):
        os.remove(args.out)
    started = time.perf_counter()
    con.execute(
        f"COPY (SELECT * FROM read_csv('{args.csv}')) TO '{args.out}' "
        "(FORMAT parquet, COMPRESSION zstd)"
    )
    seconds = time.perf_counter() - started
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{args.out}')").fetchone()[0]
    print(json.dumps({
        "rows": rows,
        "seconds": round(seconds, 3),
        "csv_bytes": os.path.getsize(args.csv),
        "parquet_bytes": os.path.getsize(args.out),
        "threads": threads,
        "duckdb": duckdb.__version__,
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--parquet-dir", required=True)
    p.add_argument("--csv", required=True)
    c = sub.add_parser("convert")
    c.add_argument("--csv", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: its default)")
    args = parser.parse_args()
    {"prepare": prepare, "convert": convert}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
