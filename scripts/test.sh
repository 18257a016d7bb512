#!/usr/bin/env bash
# The full test suite: installs the real tools the tests use (scripts/setup-test-env.sh), then runs
# every Rust test; integration tests call sst_dump, pyarrow and DuckDB. Under CI=true no test may
# skip for a missing tool.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-test-env.sh
export BR_PARQUET_PYTHON="$PWD/.venv/bin/python"
# Tests talk to 127.0.0.1 only; no cloud credentials or metadata endpoints may leak in.
for v in $(env | grep -oE '^(AWS|GOOGLE|AZURE)_[A-Z0-9_]*' || true); do unset "$v"; done
export AWS_EC2_METADATA_DISABLED=true
cargo test --locked "$@"
