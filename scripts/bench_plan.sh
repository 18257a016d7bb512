#!/usr/bin/env bash
# Benchmarks of issue 17 item 5 "Planning at internet scale" (docs/performance.md, "Planning and
# many small tables"), on this machine:
#   (1) planning: backupmeta v2 of --files data files (default 10 k, 100 k and 1 M) over 10 k
#       tables and 50 k partitions, metadata only (`gen_plan_backup meta`). Timed: release
#       `tikv-ctl br parquet-export --dry-run` (a) with no output yet, (b) with `--shards 4` and
#       JOB_COMPLETION_INDEX=0 (the plan of every shard is computed), (c) with an output that holds
#       as many job markers as the plan has jobs (the resume listing; the markers are dummies, so
#       none is resumable, but the one listing is as long as a real one).
#   (2) many small tables: --tables (default 2 k, 10 k and 20 k) tables of 20 rows, real SSTs
#       (`gen_plan_backup tables`, one range per table), exported to a local directory, Parquet
#       only and then with --write-iceberg-table.
# Every run goes through /usr/bin/time -v: wall seconds, user+sys CPU seconds and peak RSS.
#
#   scripts/bench_plan.sh [--files 10000,100000,1000000] [--tables 2000,10000,20000]
#                         [--skip-build] [--no-markers] [--only plan|tables]
#
# Backups are generated once under target/bench/ (gitignored) and reused; the generator runs as a
# debug build of the example (it links the test kit; a release build of it would rebuild the
# library with the testkit feature). Results: target/bench/plan-results-<time>.tsv and stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

FILES="10000,100000,1000000"
TABLES="2000,10000,20000"
BUILD=1
MARKERS=1
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --files) FILES="$2"; shift 2 ;;
    --tables) TABLES="$2"; shift 2 ;;
    --skip-build) BUILD=0; shift ;;
    --no-markers) MARKERS=0; shift ;;
    --only) ONLY="$2"; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "bench_plan: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ ! -x /usr/bin/time ]; then
  echo "bench_plan: installing GNU time" >&2
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
if [ "$BUILD" = 1 ]; then
  cargo build --release --bin tikv-ctl
  cargo build --example gen_plan_backup
fi
TARGET="${CARGO_TARGET_DIR:-target}"
CTL="$TARGET/release/tikv-ctl"
GEN="$TARGET/debug/examples/gen_plan_backup"
BENCH="$TARGET/bench"
mkdir -p "$BENCH"
RESULTS="$BENCH/plan-results-$(date +%Y%m%d-%H%M%S).tsv"
printf 'case\tsize\twall_s\tcpu_s\trss_mib\tcpu_ms_per_unit\tload_before\tload_after\n' >"$RESULTS"

# measure CASE SIZE UNITS CMD...: runs CMD under /usr/bin/time -v (stdout to $BENCH/last.out)
# and appends wall, user+sys, peak RSS and the 1-minute load average before and after; UNITS (tables) gives CPU ms per unit, 0 for none.
measure() {
  local name="$1" size="$2" units="$3"; shift 3
  local before after
  before=$(cut -d' ' -f1 /proc/loadavg)
  if ! /usr/bin/time -v -o "$BENCH/time.txt" "$@" >"$BENCH/last.out" 2>"$BENCH/last.err"; then
    echo "bench_plan: $name $size failed:" >&2
    tail -5 "$BENCH/last.err" >&2
    return 1
  fi
  after=$(cut -d' ' -f1 /proc/loadavg)
  awk -v name="$name" -v size="$size" -v units="$units" -v before="$before" -v after="$after" \
    -F': ' '
    /User time/ { user = $2 } /System time/ { sys = $2 }
    /Maximum resident set size/ { rss = $2 }
    /Elapsed \(wall clock\)/ {
      n = split($2, p, ":"); wall = 0
      for (i = 1; i <= n; i++) wall = wall * 60 + p[i]
    }
    END {
      cpu = user + sys
      per = units > 0 ? sprintf("%.3f", cpu * 1000 / units) : "-"
      printf "%s\t%s\t%.2f\t%.2f\t%.0f\t%s\t%s\t%s\n", name, size, wall, cpu, rss / 1024, per, before, after
    }' "$BENCH/time.txt" | tee -a "$RESULTS"
}

# Writes COUNT empty dummy job markers under OUT's marker directory.
dummy_markers() {
  local out="$1" count="$2"
  local dir="$out/parquet/_br_parquet_staging/.br-parquet-jobs"
  mkdir -p "$dir"
  python3 - "$dir" "$count" <<'PYEOF'
import hashlib, os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    open(os.path.join(d, hashlib.sha256(str(i).encode()).hexdigest() + ".json"), "w").close()
PYEOF
}

# Not --quiet: printing the plan (a line per table) is part of what a user waits for.
DRY=(br parquet-export --dry-run)
if [ "$ONLY" != tables ]; then
  for n in ${FILES//,/ }; do
    backup="$BENCH/plan-$((n / 1000))k"
    [ -f "$backup/backupmeta" ] || "$GEN" meta --files "$n" --out "$backup" >&2
    out="$BENCH/plan-out"
    rm -rf "$out"
    measure dry-run "$n" 0 "$CTL" "${DRY[@]}" --input "$backup" --output "$out"
    measure dry-run-shards4 "$n" 0 env JOB_COMPLETION_INDEX=0 \
      "$CTL" "${DRY[@]}" --shards 4 --input "$backup" --output "$out"
    if [ "$MARKERS" = 1 ]; then
      jobs=$(sed -n 's/.* in \([0-9]*\) jobs$/\1/p' "$BENCH/last.out" | head -1)
      dummy_markers "$out" "$jobs"
      measure dry-run-markers "$n" 0 "$CTL" "${DRY[@]}" --input "$backup" --output "$out"
      rm -rf "$out"
    fi
  done
fi

if [ "$ONLY" != plan ]; then
  for t in ${TABLES//,/ }; do
    backup="$BENCH/tables-$((t / 1000))k"
    [ -f "$backup/backupmeta" ] || "$GEN" tables --tables "$t" --out "$backup" >&2
    out="$BENCH/tables-out"
    rm -rf "$out"
    measure export-parquet "$t" "$t" "$CTL" br parquet-export --quiet --progress none \
      --input "$backup" --output "$out"
    rm -rf "$out"
    measure export-iceberg "$t" "$t" "$CTL" br parquet-export --quiet --progress none \
      --write-iceberg-table --input "$backup" --output "$out"
    rm -rf "$out"
  done
fi
echo "results: $RESULTS" >&2
