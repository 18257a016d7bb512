#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]     (default: 60 s, all targets)
#
# Seeds come from fuzz/corpus/<target>/ (committed, read-only here; regenerate them with
# `python3 fuzz/make_seeds.py`); new inputs go to fuzz/work/<target>/ and crashes to
# fuzz/artifacts/<target>/ (both ignored by git). Needs `cargo install cargo-fuzz`.
#
# cargo-fuzz passes nightly-only flags to rustc; RUSTC_BOOTSTRAP=1 lets the stable toolchain
# accept them. FUZZ_SANITIZER picks the sanitizer (default `none`: the crate has no unsafe code,
# and without ASan each run is several times faster); FUZZ_RSS_MB and FUZZ_TIMEOUT override the
# memory limit (MB; also the largest single allocation, which libFuzzer checks only under a
# sanitizer) and the per-input time limit (s).
# Exits non-zero if any target found a crash, a hang or an out-of-memory input.
set -uo pipefail

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(sst_reader backupmeta data_key row)
fi
sanitizer="${FUZZ_SANITIZER:-none}"
rss_mb="${FUZZ_RSS_MB:-2048}"
timeout_s="${FUZZ_TIMEOUT:-10}"

# Largest input per target: an SST seed is a few KiB, keys and values are short.
max_len() {
    case "$1" in
        sst_reader | backupmeta) echo 65536 ;;
        row) echo 4096 ;;
        *) echo 512 ;;
    esac
}

cd "$(dirname "$0")/../fuzz" || exit 2
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: cargo-fuzz is not installed: run 'cargo install cargo-fuzz'" >&2
    exit 2
fi
export RUSTC_BOOTSTRAP=1

cargo fuzz build -s "$sanitizer" || exit 2

failed=()
summary=()
for target in "${targets[@]}"; do
    mkdir -p "work/$target" "corpus/$target"
    log="work/$target.log"
    echo "== $target: ${seconds}s, max_len $(max_len "$target")"
    cargo fuzz run -s "$sanitizer" "$target" "work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len="$(max_len "$target")" \
        -rss_limit_mb="$rss_mb" -malloc_limit_mb="$rss_mb" -timeout="$timeout_s" \
        -print_final_stats=1 >"$log" 2>&1
    status=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
    corpus=$(find "work/$target" -type f | wc -l)
    if [ "$status" -ne 0 ]; then
        failed+=("$target")
        tail -40 "$log"
        summary+=("$target: FAILED (exit $status), ${execs:-?} execs; see fuzz/$log and fuzz/artifacts/$target/")
    else
        summary+=("$target: ok, ${seconds}s, ${execs:-?} execs, cov ${cov:-?}, corpus $corpus")
    fi
done

echo
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz.sh: findings in: ${failed[*]}" >&2
    exit 1
fi
