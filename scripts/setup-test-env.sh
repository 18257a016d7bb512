#!/usr/bin/env bash
# Installs what the test suite needs, once per machine:
#   - Debian rocksdb-tools (sst_dump, ldb): the real RocksDB the SST reader is checked against;
#   - a Python venv at .venv with pyarrow and duckdb, which read our Parquet output back.
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v sst_dump >/dev/null 2>&1; then
  echo "setup: installing rocksdb-tools (sst_dump, ldb)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq rocksdb-tools >/dev/null
fi

if ! .venv/bin/python -c "import pyarrow, duckdb" >/dev/null 2>&1; then
  echo "setup: creating .venv with pyarrow and duckdb" >&2
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check pyarrow duckdb
fi
