//! Protobuf wire types generated from `proto/brpb.proto` (kvproto package `backup`).
//!
//! These mirror the wire format only. `storage` turns a `StorageBackend` into a store and `meta`
//! turns `BackupMeta`/`File`/`Schema` into validated domain types; nothing else should need them.

/// kvproto package `backup` (`brpb.proto`).
#[allow(missing_docs, clippy::all)]
pub mod backup {
    include!(concat!(env!("OUT_DIR"), "/backup.rs"));
}
