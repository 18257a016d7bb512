#!/usr/bin/env bash
# Benchmarks of issue #7 "Fast and bounded", all on this machine, in one run (docs/performance.md):
#   (a) our export (release `tikv-ctl br parquet-export`): default settings, --concurrency 1 and 2;
#   (b) the encode bound: arrow-rs ArrowWriter writing the same record batches (no decoding);
#   (c) the read bound: SST scan + key/MVCC/row decode into Arrow, no Parquet (and the bare scan);
#   (d) DuckDB converting the same rows from CSV to Parquet (zstd), the CSV made from our export
#       beforehand (not timed).
# Reports rows/s, MB/s and peak RSS (/usr/bin/time -v) per run, and the ratios the issue targets.
#
#   scripts/bench.sh [--rows 1000000,10000000] [--rows-per-range 125000] [--repeat 1]
#                    [--skip-build] [--no-duckdb]
#
# Backups are generated once per size under target/bench/ (gitignored; $CARGO_TARGET_DIR/bench
# when that is set) and reused; results go to target/bench/results-<time>.jsonl and the table to
# stdout. No network is used.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS="1000000,10000000"
ROWS_PER_RANGE=125000
REPEAT=1
BUILD=1
DUCKDB=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) ROWS="$2"; shift 2 ;;
    --rows-per-range) ROWS_PER_RANGE="$2"; shift 2 ;;
    --repeat) REPEAT="$2"; shift 2 ;;
    --skip-build) BUILD=0; shift ;;
    --no-duckdb) DUCKDB=0; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
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

# measure NAME ROWS IN_BYTES CMD... : runs CMD under /usr/bin/time -v, REPEAT times, and appends
# the fastest run to $RESULTS. The command's stdout (a JSON line for our tools) is kept in
# $BENCH/last.out; its own timing, when it prints "<key>_seconds", can replace the wall time.
measure() {
  local name="$1" rows="$2" in_bytes="$3"; shift 3
  local best="" i
  for i in $(seq "$REPEAT"); do
    local before after
    before=$(loadavg)
    /usr/bin/time -v -o "$BENCH/time.txt" "$@" >"$BENCH/last.out"
    after=$(loadavg)
    local line
    line=$("$PY" - "$name" "$rows" "$in_bytes" "$before" "$after" "${SECONDS_KEY:-}" \
      "$BENCH/time.txt" "$BENCH/last.out" "${OUT_DIR:-}" <<'PYEOF'
import json, os, re, sys
name, rows, in_bytes, before, after, key, time_txt, out_file, out_dir = sys.argv[1:10]
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
print(json.dumps({"name": name, "rows": int(rows), "seconds": seconds, "wall_seconds": wall_s,
                  "cpu_seconds": user + system, "rss_kib": rss, "in_bytes": int(in_bytes),
                  "out_bytes": out_bytes, "load_before": float(before),
                  "load_after": float(after), "tool": out}))
PYEOF
)
    echo "  $line" | cut -c1-200 >&2
    if [ -z "$best" ] || "$PY" -c "import json,sys; sys.exit(0 if json.loads(sys.argv[1])['seconds'] < json.loads(sys.argv[2])['seconds'] else 1)" "$line" "$best"; then
      best="$line"
    fi
  done
  echo "$best" >>"$RESULTS"
}

echo "bench: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), results in $RESULTS" >&2
IFS=',' read -r -a SIZES <<<"$ROWS"
for n in "${SIZES[@]}"; do
  backup="$BENCH/backup-$n"
  stamp="rows=$n rows_per_range=$ROWS_PER_RANGE generator=$(sha256sum benches/common/orders.rs examples/gen_bench_backup.rs | sha256sum | cut -c1-16)"
  if [ "$(cat "$backup/.bench-stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "bench: generating $n rows into $backup" >&2
    "$BIN/examples/gen_bench_backup" --rows "$n" --rows-per-range "$ROWS_PER_RANGE" --out "$backup" >&2
    echo "$stamp" >"$backup/.bench-stamp"
  fi
  sst_bytes=$(find "$backup" -name '*.sst' -printf '%s\n' | awk '{s+=$1} END {print s+0}')

  for variant in default 1 2; do
    out="$BENCH/out-$n-$variant"
    flags=()
    [ "$variant" != default ] && flags=(--concurrency "$variant")
    echo "bench: $n rows, export concurrency=$variant" >&2
    rm -rf "$out"
    OUT_DIR="$out" measure "export_c$variant" "$n" "$sst_bytes" \
      "$BIN/tikv-ctl" br parquet-export --input "$backup" --output "$out" --quiet "${flags[@]}"
    [ "$variant" != default ] && rm -rf "$out"
  done

  echo "bench: $n rows, read and encode bounds" >&2
  SECONDS_KEY=scan_seconds measure scan_bound "$n" "$sst_bytes" \
    "$BIN/examples/bench_bounds" --input "$backup" --mode scan --scratch "$BENCH/scratch"
  SECONDS_KEY=read_seconds measure read_bound "$n" "$sst_bytes" \
    "$BIN/examples/bench_bounds" --input "$backup" --mode read --scratch "$BENCH/scratch"
  SECONDS_KEY=encode_seconds measure encode_bound "$n" "$sst_bytes" \
    "$BIN/examples/bench_bounds" --input "$backup" --mode encode --scratch "$BENCH/scratch"

  if [ "$DUCKDB" = 1 ]; then
    csv="$BENCH/rows-$n.csv"
    if [ ! -s "$csv" ] || [ "$csv" -ot "$backup/.bench-stamp" ]; then
      echo "bench: writing $csv from our export (not timed)" >&2
      .venv/bin/python scripts/bench_duckdb.py prepare --parquet-dir "$BENCH/out-$n-default" --csv "$csv" >&2
    fi
    csv_bytes=$(stat -c %s "$csv")
    echo "bench: $n rows, DuckDB CSV -> Parquet" >&2
    SECONDS_KEY=seconds measure duckdb_csv "$n" "$csv_bytes" \
      .venv/bin/python scripts/bench_duckdb.py convert --csv "$csv" --out "$BENCH/duckdb-$n.parquet"
    rm -f "$BENCH/duckdb-$n.parquet"
  fi
  rm -rf "$BENCH/out-$n-default"
done

"$PY" scripts/bench_report.py "$RESULTS"
