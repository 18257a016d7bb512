//! Where record batches go: Parquet files (and, in a later version, Iceberg metadata).

pub mod parquet;
