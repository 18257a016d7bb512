//! br-parquet: read TiDB BR backups offline and write typed Parquet files and Apache Iceberg tables.
//!
//! Data flows one way through the modules, each importing only those before it:
//!
//! ```text
//! storage → meta → sst → codec → batch → sink → export → cli
//! ```
//!
//! * [`storage`]: one [`storage::ExternalStorage`] over `object_store` for every BR backend.
//! * [`crypter`] and [`integrity`] sit beside `storage`: BR's AES-CTR `--crypter.*` decryption,
//!   and SHA-256 checks of objects against `backupmeta`.
//! * [`meta`]: `backupmeta` (v1 and v2 MetaFile indexes), TiDB schema JSON, the export plan.
//! * [`sst`]: a pure-Rust reader (and writer) of RocksDB block-based tables.
//! * [`codec`]: TiKV/TiDB byte formats: keys, MVCC write records, row formats v1/v2, datums.
//! * [`batch`]: per-table Arrow record batches, decoded column by column.
//! * [`sink`]: Parquet files (hashed with SHA-256) and, later, Iceberg metadata.
//! * [`export`]: orchestration of a whole run and its report.
//! * [`cli`]: the `tikv-ctl` and `br` command lines; the binaries only call into it.
//!
//! [`proto`] holds the generated protobuf wire types and [`error`] the crate's error type;
//! `testkit` (cargo feature `testkit`, on for tests, benches and examples only) writes BR-shaped
//! backups for tests and benchmarks.
//! `docs/architecture.md` describes the design in prose.

pub mod batch;
pub mod cli;
pub mod codec;
pub mod crypter;
pub mod error;
pub mod export;
pub mod integrity;
pub mod meta;
pub mod proto;
pub mod sink;
pub mod sst;
pub mod storage;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use error::{Error, Result};
