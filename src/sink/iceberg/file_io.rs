//! The export's output storage as an iceberg-rust `Storage`, so that a catalog reads the table
//! metadata of an object-store output (S3, GCS, Azure) with the output's own endpoint,
//! credentials, retries and rate limit, and no second client to configure.
//!
//! Only URIs in the output's bucket are served (the storage is opened at the bucket's root): the
//! catalog reads the metadata files of the tables this export writes, and of earlier exports of
//! them into other prefixes of the bucket. [`ExternalStorage`] blocks on its own runtime, so each call runs
//! on tokio's blocking pool, outside the catalog's runtime.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use iceberg::io::{
    FileMetadata, FileRead, FileWrite, InputFile, OutputFile, Storage, StorageConfig,
    StorageFactory,
};
use iceberg::{Error as IcebergError, ErrorKind, Result as IcebergResult};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::storage::ExternalStorage;

/// Builds [`OutputStorage`] for a catalog's `FileIO`.
#[derive(Clone)]
pub struct OutputStorageFactory {
    output: Arc<ExternalStorage>,
}

impl OutputStorageFactory {
    /// Serves the objects of `output`.
    pub fn new(output: Arc<ExternalStorage>) -> Self {
        OutputStorageFactory { output }
    }
}

impl std::fmt::Debug for OutputStorageFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OutputStorageFactory({})", self.output.description())
    }
}

/// The export's output, read and written by URI.
#[derive(Clone)]
pub struct OutputStorage {
    output: Arc<ExternalStorage>,
}

impl std::fmt::Debug for OutputStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OutputStorage({})", self.output.description())
    }
}

// `Storage` and `StorageFactory` are serializable trait objects (`typetag`) so that a `FileIO`
// can be shipped to other processes; a live client cannot, and the export never ships one.
macro_rules! not_serializable {
    ($type:ty) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom(concat!(
                    stringify!($type),
                    " holds a live storage client and cannot be serialized"
                )))
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
                Err(serde::de::Error::custom(concat!(
                    stringify!($type),
                    " holds a live storage client and cannot be deserialized"
                )))
            }
        }
    };
}
not_serializable!(OutputStorageFactory);
not_serializable!(OutputStorage);

#[typetag::serde]
impl StorageFactory for OutputStorageFactory {
    fn build(&self, _config: &StorageConfig) -> IcebergResult<Arc<dyn Storage>> {
        Ok(Arc::new(OutputStorage {
            output: self.output.clone(),
        }))
    }
}

impl OutputStorage {
    /// The object name of `uri` in the output.
    fn object(&self, uri: &str) -> IcebergResult<String> {
        let root = self.output.url_of("");
        uri.strip_prefix(&root)
            .map(|name| name.trim_start_matches('/').to_string())
            .ok_or_else(|| {
                IcebergError::new(
                    ErrorKind::FeatureUnsupported,
                    format!(
                        "{uri} is outside this export's output bucket {root}; br-parquet reads \
                         table metadata through the output storage only"
                    ),
                )
            })
    }

    /// Runs `call` on the object of `uri`, on the blocking pool.
    async fn call<T: Send + 'static>(
        &self,
        uri: &str,
        call: impl FnOnce(&ExternalStorage, &str) -> crate::Result<T> + Send + 'static,
    ) -> IcebergResult<T> {
        let name = self.object(uri)?;
        let output = self.output.clone();
        tokio::task::spawn_blocking(move || call(&output, &name))
            .await
            .map_err(|e| IcebergError::new(ErrorKind::Unexpected, e.to_string()))?
            .map_err(|e| IcebergError::new(ErrorKind::Unexpected, e.to_string()))
    }
}

#[async_trait::async_trait]
#[typetag::serde]
impl Storage for OutputStorage {
    async fn exists(&self, path: &str) -> IcebergResult<bool> {
        self.call(path, |output, name| output.exists(name)).await
    }

    async fn metadata(&self, path: &str) -> IcebergResult<FileMetadata> {
        let size = self.call(path, |output, name| output.size(name)).await?;
        let size = size.ok_or_else(|| {
            IcebergError::new(ErrorKind::DataInvalid, format!("{path}: no such object"))
        })?;
        Ok(FileMetadata { size })
    }

    async fn read(&self, path: &str) -> IcebergResult<Bytes> {
        self.call(path, |output, name| output.read(name)).await
    }

    async fn reader(&self, path: &str) -> IcebergResult<Box<dyn FileRead>> {
        // Metadata files and manifests are small: one read serves every range.
        Ok(Box::new(WholeObject(self.read(path).await?)))
    }

    async fn write(&self, path: &str, bs: Bytes) -> IcebergResult<()> {
        self.call(path, move |output, name| output.put_bytes(name, bs))
            .await
    }

    async fn writer(&self, path: &str) -> IcebergResult<Box<dyn FileWrite>> {
        self.object(path)?;
        Ok(Box::new(BufferedWrite {
            storage: self.clone(),
            path: path.to_string(),
            buffer: Mutex::new(Some(Vec::new())),
        }))
    }

    async fn delete(&self, path: &str) -> IcebergResult<()> {
        self.call(path, |output, name| output.delete(name)).await
    }

    async fn delete_prefix(&self, path: &str) -> IcebergResult<()> {
        self.call(path, |output, name| {
            let names = output.list(name)?;
            output.delete_all(&names)
        })
        .await
    }

    async fn delete_stream(&self, mut paths: BoxStream<'static, String>) -> IcebergResult<()> {
        while let Some(path) = paths.next().await {
            self.delete(&path).await?;
        }
        Ok(())
    }

    fn new_input(&self, path: &str) -> IcebergResult<InputFile> {
        Ok(InputFile::new(Arc::new(self.clone()), path.to_string()))
    }

    fn new_output(&self, path: &str) -> IcebergResult<OutputFile> {
        Ok(OutputFile::new(Arc::new(self.clone()), path.to_string()))
    }
}

/// An object read whole.
struct WholeObject(Bytes);

#[async_trait::async_trait]
impl FileRead for WholeObject {
    async fn read(&self, range: Range<u64>) -> IcebergResult<Bytes> {
        let len = self.0.len() as u64;
        if range.start > range.end || range.end > len {
            return Err(IcebergError::new(
                ErrorKind::DataInvalid,
                format!("range {range:?} outside an object of {len} bytes"),
            ));
        }
        Ok(self.0.slice(range.start as usize..range.end as usize))
    }
}

/// A write collected in memory and uploaded on close.
struct BufferedWrite {
    storage: OutputStorage,
    path: String,
    buffer: Mutex<Option<Vec<u8>>>,
}

#[async_trait::async_trait]
impl FileWrite for BufferedWrite {
    async fn write(&mut self, bs: Bytes) -> IcebergResult<()> {
        let mut buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        let buffer = buffer.as_mut().ok_or_else(|| {
            IcebergError::new(ErrorKind::Unexpected, format!("{}: closed", self.path))
        })?;
        buffer.extend_from_slice(&bs);
        Ok(())
    }

    async fn close(&mut self) -> IcebergResult<()> {
        let bytes = self
            .buffer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| {
                IcebergError::new(
                    ErrorKind::Unexpected,
                    format!("{}: closed twice", self.path),
                )
            })?;
        self.storage.write(&self.path, bytes.into()).await
    }
}
