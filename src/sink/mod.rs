//! Where record batches go: Parquet files, and the Iceberg metadata that describes them.
//!
//! * [`parquet`]: one Parquet file per table per backed-up range, hashed while written.
//! * [`dictionary`]: which of a file's columns get a dictionary, judged from its first batch.
//! * [`iceberg`]: column statistics, Iceberg v2 tables (`--write-iceberg-table`).
//! * [`manifest`]: the JSON manifest of a run (`--write-iceberg-manifest`).

pub mod dictionary;
pub mod iceberg;
pub mod manifest;
pub mod parquet;
