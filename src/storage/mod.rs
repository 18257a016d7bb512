//! One `ExternalStorage` for every place BR keeps a backup, built on `object_store`.
//!
//! The rest of the crate is synchronous: decoding is CPU-bound work on plain threads. This module owns
//! a small tokio runtime and exposes blocking calls, so async never leaks past it.
//!
//! Reads come in two shapes: whole small objects (`backupmeta`, MetaFile leaves) and SSTs, which are
//! handed out as a local file ([`LocalObject`]) so that the SST reader can read block by block without
//! holding the object in memory. On local storage that file is the object itself.

pub mod url;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};

use crate::proto::backup::{storage_backend::Backend, StorageBackend};
use crate::{Error, Result};

/// Size of each part of a multipart upload; S3 requires at least 5 MiB for all but the last part.
pub const DEFAULT_UPLOAD_PART_SIZE: usize = 8 * 1024 * 1024;

/// Parts of one upload in flight at once.
const UPLOAD_CONCURRENCY: usize = 4;

/// A backup or output location: an object store, a prefix inside it, and the runtime driving it.
pub struct ExternalStorage {
    store: Arc<dyn ObjectStore>,
    /// Set when the store is the local file system, so objects can be opened in place.
    local_root: Option<PathBuf>,
    description: String,
    runtime: Arc<tokio::runtime::Runtime>,
}

/// An object available as a local file, for block-wise reading.
#[derive(Debug)]
pub struct LocalObject {
    /// The open file.
    pub file: std::fs::File,
    /// The file's path (the object itself on local storage).
    pub path: PathBuf,
}

impl ExternalStorage {
    /// Opens the storage a `StorageBackend` names. Local directories must exist when `must_exist`
    /// (the input); output directories are created.
    pub fn open(backend: &StorageBackend, must_exist: bool) -> Result<Self> {
        let description = url::describe(backend);
        let runtime = Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("br-parquet-io")
                .enable_all()
                .build()
                .map_err(|e| Error::io("tokio runtime", e))?,
        );
        match &backend.backend {
            Some(Backend::Local(local)) => {
                let root = PathBuf::from(&local.path);
                if must_exist && !root.is_dir() {
                    return Err(Error::Usage(format!(
                        "{description}: no such directory; pass the directory BR wrote the backup to \
                         (the one holding `backupmeta`)"
                    )));
                }
                std::fs::create_dir_all(&root)
                    .map_err(|e| Error::io(root.display().to_string(), e))?;
                let store = LocalFileSystem::new_with_prefix(&root).map_err(|source| {
                    Error::Storage {
                        path: description.clone(),
                        source,
                    }
                })?;
                Ok(ExternalStorage {
                    store: Arc::new(store),
                    local_root: Some(root),
                    description,
                    runtime,
                })
            }
            Some(Backend::Hdfs(_)) => Err(Error::Unsupported(format!(
                "{description}: HDFS storage is not supported; copy the backup to local or object storage"
            ))),
            Some(_) => Err(Error::Unsupported(format!(
                "{description}: this storage backend is not available in this build yet; copy the \
                 backup to a local directory"
            ))),
            None => Err(Error::Usage("storage backend names no backend".into())),
        }
    }

    /// Where this storage points, without secrets.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Reads a whole object; meant for metadata, not SSTs.
    pub fn read(&self, name: &str) -> Result<Bytes> {
        let location = object_path(name)?;
        self.runtime
            .block_on(async { self.store.get(&location).await?.bytes().await })
            .map_err(|source| self.storage_error(name, source))
    }

    /// Whether an object exists.
    pub fn exists(&self, name: &str) -> Result<bool> {
        let location = object_path(name)?;
        match self.runtime.block_on(self.store.head(&location)) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(source) => Err(self.storage_error(name, source)),
        }
    }

    /// Makes an object readable as a local file.
    pub fn open_local(&self, name: &str) -> Result<LocalObject> {
        let location = object_path(name)?;
        let Some(root) = &self.local_root else {
            return Err(Error::Unsupported(format!(
                "{}: reading SSTs from remote storage arrives in a later version",
                self.description
            )));
        };
        let path = root.join(location.as_ref());
        let file = std::fs::File::open(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::io(
                    format!(
                        "{name} (listed in backupmeta, missing from {})",
                        self.description
                    ),
                    e,
                )
            } else {
                Error::io(path.display().to_string(), e)
            }
        })?;
        Ok(LocalObject { file, path })
    }

    /// Uploads a local file to `name`, in parts. The object appears only when the upload completes,
    /// so a reader never sees a partial file.
    pub fn put_file(&self, local: &Path, name: &str) -> Result<()> {
        use std::io::Read;
        let location = object_path(name)?;
        let mut file =
            std::fs::File::open(local).map_err(|e| Error::io(local.display().to_string(), e))?;
        self.runtime
            .block_on(async {
                let upload = self.store.put_multipart(&location).await?;
                let mut writer =
                    WriteMultipart::new_with_chunk_size(upload, DEFAULT_UPLOAD_PART_SIZE);
                let mut buf = vec![0u8; DEFAULT_UPLOAD_PART_SIZE];
                loop {
                    let n = match file.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) => {
                            writer.abort().await?;
                            return Err(object_store::Error::Generic {
                                store: "local file",
                                source: Box::new(e),
                            });
                        }
                    };
                    writer.wait_for_capacity(UPLOAD_CONCURRENCY).await?;
                    writer.write(buf.get(..n).unwrap_or_default());
                }
                writer.finish().await.map(|_| ())
            })
            .map_err(|source| self.storage_error(name, source))
    }

    /// Writes a small object in one request.
    pub fn put_bytes(&self, name: &str, bytes: Bytes) -> Result<()> {
        let location = object_path(name)?;
        self.runtime
            .block_on(self.store.put(&location, bytes.into()))
            .map(|_| ())
            .map_err(|source| self.storage_error(name, source))
    }

    fn storage_error(&self, name: &str, source: object_store::Error) -> Error {
        Error::Storage {
            path: format!("{} in {}", name, self.description),
            source,
        }
    }
}

/// Turns an object name from a backup (untrusted) or from our own layout into a store path.
/// Rejects names that would leave the storage root.
pub fn object_path(name: &str) -> Result<ObjectPath> {
    let trimmed = name.trim_start_matches('/');
    if trimmed.is_empty()
        || trimmed
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(Error::Usage(format!(
            "object name {name:?} is empty or escapes the storage root"
        )));
    }
    ObjectPath::parse(trimmed)
        .map_err(|e| Error::Usage(format!("object name {name:?} is not a valid path: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(dir: &Path) -> ExternalStorage {
        let backend = url::parse_url(&format!("local://{}", dir.display())).unwrap();
        ExternalStorage::open(&backend, false).unwrap()
    }

    #[test]
    fn put_read_and_open_local() {
        let dir = tempfile::tempdir().unwrap();
        let storage = local(dir.path());
        storage
            .put_bytes("a/b.txt", Bytes::from_static(b"hello"))
            .unwrap();
        assert_eq!(
            storage.read("a/b.txt").unwrap(),
            Bytes::from_static(b"hello")
        );
        assert!(storage.exists("a/b.txt").unwrap());
        assert!(!storage.exists("a/c.txt").unwrap());

        let src = dir.path().join("src.bin");
        let payload: Vec<u8> = (0..(DEFAULT_UPLOAD_PART_SIZE * 2 + 17))
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(&src, &payload).unwrap();
        storage.put_file(&src, "big/x.bin").unwrap();
        let object = storage.open_local("big/x.bin").unwrap();
        assert_eq!(std::fs::read(&object.path).unwrap(), payload);
    }

    #[test]
    fn missing_object_names_the_backup() {
        let dir = tempfile::tempdir().unwrap();
        let err = local(dir.path()).open_local("1/2_3_write.sst").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("1/2_3_write.sst (listed in backupmeta, missing from local://"),
            "{text}"
        );
    }

    #[test]
    fn names_cannot_escape_the_root() {
        for bad in ["", "../x", "a/../../x", "a//b", "./a"] {
            assert!(object_path(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(object_path("/a/b.sst").unwrap().as_ref(), "a/b.sst");
    }

    #[test]
    fn input_directory_must_exist() {
        let backend = url::parse_url("local:///definitely/not/here").unwrap();
        let err = ExternalStorage::open(&backend, true)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("no such directory"), "{err}");
    }
}
