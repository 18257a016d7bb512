#!/usr/bin/env bash
# Benchmarks of issues #7 "Fast and bounded" and #13 "Multilingual text at full speed", all on this
# machine, in one run (docs/performance.md), for each table of --tables:
#   bench.orders    (orders)    English text;
#   bench.orders_ml (orders_ml) the same rows with their text columns in CJK, Cyrillic, accented
#                               Latin and English, with a few emoji (gen_bench_backup --text multilingual);
#   (a) our export (release `tikv-ctl br parquet-export`): default settings, --concurrency 1 and 2;
#   (b) the encode bound: arrow-rs ArrowWriter writing the same record batches (no decoding);
#   (c) the read bound: SST scan + key/MVCC/row decode into Arrow, no Parquet (and the bare scan);
#   (d) DuckDB converting the same rows from CSV to Parquet (zstd), the CSV made from our export
#       beforehand (not timed).
# Reports rows/s, MB/s and peak RSS (/usr/bin/time -v) per run, and the ratios the issue targets.
# With --repeat N, the benchmarks run in N rounds (each once per round) and the fastest run of each
# is reported.
#
#   scripts/bench.sh [--rows 1000000,10000000] [--tables orders,orders_ml] [--rows-per-range 125000]
#                    [--repeat 1] [--skip-build] [--no-duckdb]
#
# Backups are generated once per table and size under target/bench/ (gitignored; $CARGO_TARGET_DIR/bench
# when that is set) and reused; results go to target/bench/results-<time>.jsonl and the table to
# stdout. No network is used.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS="1000000,10000000"
TABLES="orders,orders_ml"
ROWS_PER_RANGE=125000
REPEAT=1
BUILD=1
DUCKDB=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) ROWS="$2"; shift 2 ;;
    --tables) TABLES="$2"; shift 2 ;;
    --rows-per-range) ROWS_PER_RANGE="$2"; shift 2 ;;
    --repeat) REPEAT="$2"; shift 2 ;;
    --skip-build) BUILD=0; shift ;;
    --no-duckdb) DUCKDB=0; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ ! -x /usr/bin/time ]; then
  echo "bench: installing GNU time" >&2
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
if [ "$DUCKDB" = 1 ] && ! .venv/bin/python -c "import duckdb" >/dev/null 2>&1; then
  scripts/setup-test-env.sh
fi
if [ "$BUILD" = 1 ]; then
  cargo build --release --bins --examples
fi
TARGET="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET/release"
BENCH="$TARGET/bench"
mkdir -p "$BENCH"
RESULTS="$BENCH/results-$(date +%Y%m%d-%H%M%S).jsonl"
PY=python3
[ -x .venv/bin/python ] && PY=.venv/bin/python

loadavg() { cut -d' ' -f1 /proc/loadavg; }

# measure NAME ROWS IN_BYTES CMD... : runs CMD once under /usr/bin/time -v and appends its JSON
# line (for table $TABLE) to $BENCH/runs-NAME.jsonl. The command's stdout (a JSON line for our tools) is kept in
# $BENCH/last.out; its own timing, when it prints "<key>_seconds", can replace the wall time.
measure() {
  local name="$1" rows="$2" in_bytes="$3"; shift 3
  local before after line
  before=$(loadavg)
  /usr/bin/time -v -o "$BENCH/time.txt" "$@" >"$BENCH/last.out"
  after=$(loadavg)
  line=$("$PY" - "$name" "$rows" "$in_bytes" "$before" "$after" "${SECONDS_KEY:-}" \
    "$BENCH/time.txt" "$BENCH/last.out" "${OUT_DIR:-}" "$TABLE" <<'PYEOF'
import json, os, re, sys
name, rows, in_bytes, before, after, key, time_txt, out_file, out_dir, table = sys.argv[1:11]
text = open(time_txt).read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text).group(1)
parts = [float(p) for p in wall.split(":")]
wall_s = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
user = float(re.search(r"User time \(seconds\): (\S+)", text).group(1))
system = float(re.search(r"System time \(seconds\): (\S+)", text).group(1))
out = {}
for line in open(out_file):
    line = line.strip()
    if line.startswith("{"):
        out = json.loads(line)
seconds = float(out[key]) if key else wall_s
out_bytes = out.get("parquet_bytes", 0)
if out_dir:
    out_bytes = sum(os.path.getsize(os.path.join(d, f))
                    for d, _, fs in os.walk(out_dir) for f in fs if f.endswith(".parquet"))
print(json.dumps({"table": table, "name": name, "rows": int(rows), "seconds": seconds, "wall_seconds": wall_s,
                  "cpu_seconds": user + system, "rss_kib": rss, "in_bytes": int(in_bytes),
                  "out_bytes": out_bytes, "load_before": float(before),
                  "load_after": float(after), "tool": out}))
PYEOF
)
  echo "  $line" | cut -c1-200 >&2
  echo "$line" >>"$BENCH/runs-$name.jsonl"
}

# run_once NAME N BACKUP SST_BYTES CSV CSV_BYTES : one timed run of benchmark NAME at size N.
run_once() {
  local name="$1" n="$2" backup="$3" sst_bytes="$4" csv="$5" csv_bytes="$6"
  case "$name" in
    export_c*)
      local variant="${name#export_c}" out="$BENCH/out-$TABLE-$n-${name#export_c}" flags=()
      [ "$variant" != default ] && flags=(--concurrency "$variant")
      rm -rf "$out"
      OUT_DIR="$out" measure "$name" "$n" "$sst_bytes" \
        "$BIN/tikv-ctl" br parquet-export --input "$backup" --output "$out" --quiet "${flags[@]}"
      rm -rf "$out"
      ;;
    scan_bound | read_bound | encode_bound)
      local mode="${name%_bound}"
      SECONDS_KEY="${mode}_seconds" measure "$name" "$n" "$sst_bytes" \
        "$BIN/examples/bench_bounds" --input "$backup" --mode "$mode" --scratch "$BENCH/scratch"
      ;;
    duckdb_csv)
      SECONDS_KEY=seconds measure duckdb_csv "$n" "$csv_bytes" \
        .venv/bin/python scripts/bench_duckdb.py convert --csv "$csv" --out "$BENCH/duckdb-$TABLE-$n.parquet"
      rm -f "$BENCH/duckdb-$TABLE-$n.parquet"
      ;;
  esac
}

echo "bench: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), results in $RESULTS" >&2
IFS=',' read -r -a SIZES <<<"$ROWS"
IFS=',' read -r -a TABLE_LIST <<<"$TABLES"
for n in "${SIZES[@]}"; do
  for TABLE in "${TABLE_LIST[@]}"; do
    case "$TABLE" in
      orders) text=ascii backup="$BENCH/backup-$n" csv="$BENCH/rows-$n.csv" ;;
      orders_ml) text=multilingual backup="$BENCH/backup-ml-$n" csv="$BENCH/rows-ml-$n.csv" ;;
      *) echo "bench: unknown table $TABLE (orders, orders_ml)" >&2; exit 2 ;;
    esac
    stamp="rows=$n rows_per_range=$ROWS_PER_RANGE text=$text generator=$(sha256sum benches/common/orders.rs examples/gen_bench_backup.rs | sha256sum | cut -c1-16)"
    if [ "$(cat "$backup/.bench-stamp" 2>/dev/null)" != "$stamp" ]; then
      echo "bench: generating $n rows of $TABLE into $backup" >&2
      "$BIN/examples/gen_bench_backup" --rows "$n" --rows-per-range "$ROWS_PER_RANGE" --text "$text" \
        --out "$backup" >&2
      echo "$stamp" >"$backup/.bench-stamp"
    fi
    sst_bytes=$(find "$backup" -name '*.sst' -printf '%s\n' | awk '{s+=$1} END {print s+0}')

    names=(export_cdefault export_c1 export_c2 scan_bound read_bound encode_bound)
    csv_bytes=0
    if [ "$DUCKDB" = 1 ]; then
      if [ ! -s "$csv" ] || [ "$csv" -ot "$backup/.bench-stamp" ]; then
        echo "bench: writing $csv from our export (not timed)" >&2
        rm -rf "$BENCH/csv-source"
        "$BIN/tikv-ctl" br parquet-export --input "$backup" --output "$BENCH/csv-source" --quiet
        .venv/bin/python scripts/bench_duckdb.py prepare --parquet-dir "$BENCH/csv-source" --csv "$csv" >&2
        rm -rf "$BENCH/csv-source"
      fi
      csv_bytes=$(stat -c %s "$csv")
      names+=(duckdb_csv)
    fi

    # Round-robin: each round runs every benchmark once, so that a machine whose speed drifts
    # during the run (a shared VM's does) slows all of them alike and the ratios stay fair.
    rm -f "$BENCH"/runs-*.jsonl
    for round in $(seq "$REPEAT"); do
      echo "bench: $TABLE, $n rows, round $round of $REPEAT" >&2
      for name in "${names[@]}"; do
        run_once "$name" "$n" "$backup" "$sst_bytes" "$csv" "$csv_bytes"
      done
    done
    # The fastest run of each benchmark.
    for name in "${names[@]}"; do
      "$PY" -c 'import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
print(json.dumps(min(runs, key=lambda r: r["seconds"])))' "$BENCH/runs-$name.jsonl" >>"$RESULTS"
    done
    rm -f "$BENCH"/runs-*.jsonl
  done
done

"$PY" scripts/bench_report.py "$RESULTS"
