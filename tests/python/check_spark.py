"""Reads br-parquet tables whole with Apache Spark (local mode, on this machine's JDK) and checks
that its DECIMAL, DATE and TIMESTAMP values equal pyarrow's.

Usage: check_spark.py <tables.json>

tables.json: {"tables": ["<absolute directory of a table's Parquet files>", ...]}

One Spark session (a JVM start is slow) reads every table: all its Parquet files at once, every
column, every row. Then, row by row in `_tidb_table_id`, `_tidb_handle` order:
  - DECIMAL: Spark's column type is DECIMAL(p, s) with pyarrow's p and s, and the values are equal
    `decimal.Decimal`s printed the same (so the scale is kept too);
  - DATE: the same calendar day (Spark's `unix_date` = pyarrow's date32 days);
  - TIMESTAMP: the same instant in microseconds (Spark's `unix_micros`; a timestamp without time
    zone, TIMESTAMP_NTZ in Spark, is read in the session's time zone, UTC); the value Spark
    hands to Python is also compared with pyarrow's.
Row counts and column names must match too.

Spark is started with everything on 127.0.0.1 (driver host and bind address, no UI), in UTC,
and with `spark.sql.parquet.datetimeRebaseModeInRead=CORRECTED`: the files hold proleptic
Gregorian days, as every Parquet writer but Spark 2 does, and Spark 3 refuses to read dates before
1582 from files not written by Spark unless told which calendar they use.
"""
import datetime
import glob
import json
import os
import sys
import time

os.environ["TZ"] = "UTC"
time.tzset()
os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import types as T  # noqa: E402

EPOCH = datetime.datetime(1970, 1, 1)


def spark_session():
    return (
        SparkSession.builder.master("local[1]")
        .appName("br-parquet-check")
        .config("spark.driver.memory", "512m")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.parquet.datetimeRebaseModeInRead", "CORRECTED")
        .config("spark.sql.parquet.int96RebaseModeInRead", "CORRECTED")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .getOrCreate()
    )


def quote(name):
    return "`" + name.replace("`", "``") + "`"


def key(row, handle):
    h = row[handle]
    return (row[0], bytes(h) if isinstance(h, (bytes, bytearray)) else h)


def check_table(spark, directory, failures):
    files = sorted(glob.glob(os.path.join(directory, "*.parquet")))
    if not files:
        failures.append(f"{directory}: no parquet files")
        return 0
    arrow = pa.concat_tables([pq.read_table(f) for f in files])
    names = arrow.column_names
    df = spark.read.parquet(*files)
    if df.columns != names:
        failures.append(f"{directory}: Spark columns {df.columns} != pyarrow's {names}")
        return 0
    spark_types = {f.name: f.dataType for f in df.schema.fields}

    checks = []  # (column, kind)
    extra = []
    for field in arrow.schema:
        t, name = field.type, field.name
        if pa.types.is_decimal(t):
            st = spark_types[name]
            if not isinstance(st, T.DecimalType) or (st.precision, st.scale) != (t.precision, t.scale):
                failures.append(f"{directory}: {name}: Spark type {st} for pyarrow {t}")
                continue
            checks.append((name, "decimal"))
        elif pa.types.is_date32(t):
            if not isinstance(spark_types[name], T.DateType):
                failures.append(f"{directory}: {name}: Spark type {spark_types[name]} for pyarrow {t}")
                continue
            checks.append((name, "date"))
            extra.append(f"unix_date({quote(name)})")
        elif pa.types.is_timestamp(t):
            st = spark_types[name]
            want = T.TimestampType if t.tz is not None else T.TimestampNTZType
            if not isinstance(st, want):
                failures.append(f"{directory}: {name}: Spark type {st} for pyarrow {t}")
                continue
            checks.append((name, "timestamp"))
            if isinstance(st, T.TimestampNTZType):
                extra.append(f"unix_micros(cast({quote(name)} as timestamp))")
            else:
                extra.append(f"unix_micros({quote(name)})")

    # The whole table, every column, plus the dates and instants as numbers.
    rows = df.selectExpr("*", *extra).collect()
    handle = names.index("_tidb_handle")
    rows = [list(r) for r in rows]
    rows.sort(key=lambda r: key(r, handle))
    raw = [[r[n] for n in names] for r in arrow.to_pylist()]
    order = sorted(range(len(raw)), key=lambda i: key(raw[i], handle))
    want = [raw[i] for i in order]
    if len(rows) != len(want):
        failures.append(f"{directory}: Spark reads {len(rows)} rows, pyarrow {len(want)}")
        return 0

    numbers = {}
    for field in arrow.schema:
        if pa.types.is_date32(field.type):
            numbers[field.name] = pc.cast(arrow[field.name], pa.int32()).to_pylist()
        elif pa.types.is_timestamp(field.type):
            numbers[field.name] = pc.cast(arrow[field.name], pa.int64()).to_pylist()

    checked = 0
    extra_index = len(names)
    for name, kind in checks:
        col = names.index(name)
        number_col = None
        if kind in ("date", "timestamp"):
            number_col = extra_index
            extra_index += 1
        for i, (got, exp) in enumerate(zip(rows, want)):
            s, p = got[col], exp[col]
            if kind == "decimal":
                same = (s is None and p is None) or (
                    s is not None and p is not None and s == p and str(s) == str(p)
                )
            elif kind == "date":
                same = s == p and got[number_col] == numbers[name][order[i]]
            else:
                instant = got[number_col]
                same = instant == numbers[name][order[i]]
                if same and p is not None:
                    naive = p.replace(tzinfo=None)
                    same = s == naive and (naive - EPOCH) // datetime.timedelta(microseconds=1) == instant
                elif same:
                    same = s is None
            if not same:
                failures.append(
                    f"{directory}: handle {got[handle]!r}: {name}: Spark {s!r} "
                    f"({got[number_col] if number_col else ''}) != pyarrow {p!r}"
                )
            checked += 1
    return checked


def main():
    with open(sys.argv[1]) as f:
        tables = json.load(f)["tables"]
    started = time.time()
    spark = spark_session()
    spark.sparkContext.setLogLevel("ERROR")
    failures = []
    checked = 0
    try:
        for directory in tables:
            checked += check_table(spark, directory, failures)
    finally:
        spark.stop()
    for failure in failures[:50]:
        print("MISMATCH", failure)
    print(
        f"spark {spark.version}: checked {checked} DECIMAL/DATE/TIMESTAMP values in "
        f"{len(tables)} tables in {time.time() - started:.1f} s, {len(failures)} mismatches"
    )
    sys.exit(1 if failures or checked == 0 else 0)


if __name__ == "__main__":
    main()
