#!/usr/bin/env python3
"""Prints the table and the issue-#7 and #13 ratios of a scripts/bench.sh results file (JSON lines).

  bench_report.py target/bench/results-<time>.jsonl

Each line is one run: table, name, rows, seconds (the timed part), rss_kib (peak RSS of the
process), in_bytes (what the run reads: the backup's SSTs, or the CSV for DuckDB), out_bytes
(Parquet written), cpu_seconds, and the 1-minute load average before and after. Lines without a
table (older results) are `orders`.
"""

import json
import sys

LABELS = {
    "export_cdefault": "export, default (concurrency = cores)",
    "export_c1": "export, --concurrency 1",
    "export_c2": "export, --concurrency 2",
    "scan_bound": "SST scan only (1 thread)",
    "read_bound": "read bound: scan + decode to Arrow (1 thread)",
    "encode_bound": "encode bound: ArrowWriter only (1 thread)",
    "duckdb_csv": "DuckDB CSV -> Parquet zstd (all threads)",
}


def main():
    runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    by = {(r.get("table", "orders"), r["name"], r["rows"]): r for r in runs}
    tables = list(dict.fromkeys(r.get("table", "orders") for r in runs))
    sizes = sorted({r["rows"] for r in runs})
    print("| table | rows | run | seconds | rows/s | input MB/s | Parquet MiB | peak RSS MiB | CPU s | load before→after |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for table in tables:
        for n in sizes:
            for name in LABELS:
                r = by.get((table, name, n))
                if not r:
                    continue
                s = max(r["seconds"], 1e-9)
                print(f"| {table} | {n:,} | {LABELS[name]} | {s:.2f} | {n / s:,.0f} | "
                      f"{r['in_bytes'] / s / 1e6:.1f} | {r['out_bytes'] / 2**20:.1f} | "
                      f"{r['rss_kib'] / 1024:.0f} | {r['cpu_seconds']:.1f} | "
                      f"{r['load_before']:.2f}→{r['load_after']:.2f} |")
    print()

    print("| table | check (target) | rows | measured | verdict |")
    print("|---|---|---:|---:|---|")
    for table in tables:
        report_table(table, sizes, by)


def report_table(table, sizes, by):
    def run(name, n):
        return by.get((table, name, n))

    def tput(name, n):
        r = run(name, n)
        return n / r["seconds"] if r and r["seconds"] > 0 else None

    def check(label, n, value, target, higher=True):
        if value is None:
            return
        ok = value >= target if higher else value <= target
        print(f"| {table} | {label} | {n:,} | {value:.2f}× | {'met' if ok else 'NOT met'} |")

    for n in sizes:
        enc, duck = tput("encode_bound", n), tput("duckdb_csv", n)
        for name, label in [("export_cdefault", "default"), ("export_c1", "1 worker")]:
            t = tput(name, n)
            if t and enc:
                check(f"export ({label}) / encode bound (≥ 0.75×)", n, t / enc, 0.75)
        t = tput("export_cdefault", n)
        if t and duck:
            check("export (default) / DuckDB CSV→Parquet (≥ 2×)", n, t / duck, 2.0)
        t1, t2 = tput("export_c1", n), tput("export_c2", n)
        if t1 and t2:
            check("throughput 2 workers / 1 worker (≥ 1.7×)", n, t2 / t1, 1.7)
        rd, t1 = tput("read_bound", n), tput("export_c1", n)
        if rd and enc and t1:
            serial = 1 / (1 / rd + 1 / enc)
            print(f"| {table} | (info) export 1 worker / serial read+encode bound | {n:,} | "
                  f"{t1 / serial:.2f}× | |")
        # Issue #13: the export's CPU per row (user + sys of the 1-worker process) against the
        # bounds' timed 1-thread phases, once with the read bound (scan + decode) and once with
        # the bare SST scan.
        export = run("export_c1", n) or run("export_cdefault", n)
        encode = run("encode_bound", n)
        for bound, label in [("read_bound", "read bound"), ("scan_bound", "SST scan")]:
            b = run(bound, n)
            if export and encode and b:
                check(f"export CPU / ({label} + encode bound) (≤ 1.25×)", n,
                      export["cpu_seconds"] / (b["seconds"] + encode["seconds"]), 1.25,
                      higher=False)
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        for name in ["export_cdefault", "export_c1", "export_c2"]:
            a, b = run(name, small), run(name, large)
            if a and b:
                check(f"peak RSS {large:,} / {small:,} rows, {name} (≤ 1.2×)", large,
                      b["rss_kib"] / a["rss_kib"], 1.2, higher=False)


if __name__ == "__main__":
    main()
