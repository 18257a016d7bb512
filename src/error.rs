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

    /// An export setting has a value it cannot take. Names the setting, not a command-line
    /// flag: the command line maps [`Setting`] to its own spelling of the flag.
    #[error("{setting}: {message}")]
    InvalidSetting {
        /// The setting.
        setting: Setting,
        /// What is wrong and what it accepts.
        message: String,
    },

    /// The input location holds no finished backup.
    #[error("{location}: no `backupmeta` here; give the directory BR wrote the backup to (a backup without `backupmeta` did not finish)")]
    NotABackup {
        /// The input location (no secrets).
        location: String,
    },

    /// The table filter selects no table of the backup.
    #[error("the table filter selects none of the backup's {tables} tables; the closest: {}", closest.join(", "))]
    NothingSelected {
        /// Tables in the backup.
        tables: usize,
        /// The backup's table names closest to the rules, nearest first.
        closest: Vec<String>,
    },

    /// The output holds something this export would overwrite or contradict: another export
    /// writing the same table, or a table written for another location or a later backup.
    #[error("{object}: {message}")]
    OutputConflict {
        /// The object in the output.
        object: String,
        /// What conflicts, and what to do.
        message: String,
    },

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
        /// `db.table` (the physical table id when it has no schema, `?` before the key is
        /// parsed).
        table: String,
        /// The raw TiDB key, in hex.
        key: String,
        /// What could not be decoded.
        message: String,
        /// The codec's own error, when a byte format was broken (not a schema mismatch).
        #[source]
        source: Option<Box<crate::codec::CodecError>>,
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

    /// Iceberg metadata of the output could not be read, made or written.
    #[error("iceberg {object}: {message}")]
    Iceberg {
        /// The metadata object or table directory.
        object: String,
        /// What went wrong.
        message: String,
    },

    /// The Iceberg catalog (`--iceberg-catalog`) refused or failed a request. Never carries the
    /// catalog's password or token.
    #[error("iceberg catalog {catalog}: {message}")]
    Catalog {
        /// The catalog, as its URI without secrets.
        catalog: String,
        /// What failed, and what to do.
        message: String,
    },

    /// Building Arrow arrays failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// An export setting, as [`Error::InvalidSetting`] names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Setting {
    /// The compression level of the Parquet codec.
    CompressionLevel,
    /// The dictionary size limit of a column chunk.
    DictionaryPageSize,
    /// The export's share of a multi-machine export.
    Shard,
    /// The backup's encryption method.
    CrypterMethod,
    /// The backup's encryption key, given in hex.
    CrypterKey,
    /// The file that holds the backup's encryption key.
    CrypterKeyFile,
    /// The Iceberg catalog's URI.
    IcebergCatalog,
    /// The Iceberg namespace the tables are registered in.
    IcebergNamespace,
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Setting::CompressionLevel => "compression level",
            Setting::DictionaryPageSize => "dictionary page size",
            Setting::Shard => "shard",
            Setting::CrypterMethod => "encryption method",
            Setting::CrypterKey => "encryption key",
            Setting::CrypterKeyFile => "encryption key file",
            Setting::IcebergCatalog => "Iceberg catalog",
            Setting::IcebergNamespace => "Iceberg namespace",
        })
    }
}

impl Error {
    /// Whether this is a storage error for an object that does not exist (another run of the
    /// same export may have moved or deleted it).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Error::Storage {
                source: object_store::Error::NotFound { .. },
                ..
            }
        )
    }

    /// A [`Error::Meta`] for `object`.
    pub fn meta(object: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Meta {
            object: object.into(),
            message: message.into(),
        }
    }

    /// An [`Error::InvalidSetting`].
    pub fn setting(setting: Setting, message: impl Into<String>) -> Self {
        Error::InvalidSetting {
            setting,
            message: message.into(),
        }
    }

    /// An [`Error::Iceberg`] for `object`.
    pub fn iceberg(object: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Iceberg {
            object: object.into(),
            message: message.into(),
        }
    }

    /// An [`Error::Decode`] that is not a codec error (a value that breaks no byte format but
    /// cannot be exported as it is).
    pub fn decode(
        file: impl Into<String>,
        table: impl Into<String>,
        key: &[u8],
        message: impl Into<String>,
    ) -> Self {
        Error::Decode {
            file: file.into(),
            table: table.into(),
            key: hex::encode(key),
            message: message.into(),
            source: None,
        }
    }

    /// An [`Error::Decode`] for a codec error, kept as its source.
    pub fn codec(
        file: impl Into<String>,
        table: impl Into<String>,
        key: &[u8],
        source: crate::codec::CodecError,
    ) -> Self {
        Error::Decode {
            file: file.into(),
            table: table.into(),
            key: hex::encode(key),
            message: source.to_string(),
            source: Some(Box::new(source)),
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
