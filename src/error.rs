//! The crate's error type.
//!
//! One enum with a few kinds, like `ParquetError`: each variant carries *where* (object path, SST
//! file, table, key in hex) so that a user can act on the message without a debugger. Pure layers
//! (`sst`, `codec`) have their own small error types; the layers above add the location when they
//! wrap them here.

use std::io;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can stop an export.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The command line or an option is wrong; the message says what to change.
    #[error("{0}")]
    Usage(String),

    /// The input is valid but uses something this version cannot handle yet.
    #[error("not supported: {0}")]
    Unsupported(String),

    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: io::Error,
    },

    /// An object store request failed.
    #[error("storage: {path}: {source}")]
    Storage {
        /// The object, as named in the backup or output.
        path: String,
        /// The cause.
        #[source]
        source: object_store::Error,
    },

    /// `backupmeta`, a MetaFile leaf or a schema JSON is malformed or inconsistent.
    #[error("{object}: {message}")]
    Meta {
        /// The metadata object (e.g. `backupmeta`, `backupmeta.schema.000000002`).
        object: String,
        /// What is wrong.
        message: String,
    },

    /// Data does not match what the backup says about it (SHA-256, BR checksums, KV counts), or
    /// cannot be decrypted.
    #[error("{object}: {message}")]
    Integrity {
        /// The SST, metadata object or table.
        object: String,
        /// What differs, with expected and actual values.
        message: String,
    },

    /// An SST file could not be read.
    #[error("SST {file}: {source}")]
    Sst {
        /// The SST's name in the backup.
        file: String,
        /// The cause, naming the block offset.
        #[source]
        source: crate::sst::SstError,
    },

    /// A key or row value could not be decoded.
    #[error("SST {file}: table {table}: key {key}: {message}")]
    Decode {
        /// The SST the key came from.
        file: String,
        /// `db.table` (or the physical table id when unknown).
        table: String,
        /// The raw TiDB key, in hex.
        key: String,
        /// What could not be decoded.
        message: String,
    },

    /// Writing Parquet failed.
    #[error("parquet {path}: {source}")]
    Parquet {
        /// The output file.
        path: String,
        /// The cause.
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// Building Arrow arrays failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

impl Error {
    /// A [`Error::Meta`] for `object`.
    pub fn meta(object: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Meta {
            object: object.into(),
            message: message.into(),
        }
    }

    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
