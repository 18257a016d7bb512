//! One `ExternalStorage` for every place BR keeps a backup, built on `object_store`: a local
//! directory, S3 (and S3-compatible stores), GCS, Azure Blob, and `noop://` (writes discarded).
//! HDFS is rejected with a clear error. docs/storage.md is the user-facing description.
//!
//! The rest of the crate is synchronous: decoding is CPU-bound work on plain threads. This module owns
//! a small tokio runtime and exposes blocking calls, so async never leaks past it.
//!
//! Reads come in two shapes: whole small objects (`backupmeta`, MetaFile leaves) and SSTs, which are
//! handed out as a local file ([`LocalObject`]) so that the SST reader can read block by block without
//! holding the object in memory. On local storage that file is the object itself; on an object store
//! the object is streamed, chunk by chunk, into a per-storage temporary directory that is removed
//! when the storage is dropped (and each file as soon as its [`LocalObject`] is dropped).
//!
//! Every request is retried by `object_store` ([`RetryPolicy`]); a whole download or upload that
//! still fails on a transient error is started again from scratch a few times. Errors never carry
//! credentials: see [`redact`].

mod cloud;
pub mod ratelimit;
pub mod redact;
mod tempdir;
pub mod url;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{
    Attributes, BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutMultipartOptions,
    PutPayload, RetryConfig, WriteMultipart,
};

use crate::proto::backup::{storage_backend::Backend, StorageBackend};
use crate::{Error, Result};

pub use ratelimit::RateLimiter;
use redact::Redactor;
pub use tempdir::ScratchDir;

/// Size of each part of a multipart upload; S3 requires at least 5 MiB for all but the last part.
pub const DEFAULT_UPLOAD_PART_SIZE: usize = 8 * 1024 * 1024;

/// Parts of one upload in flight at once.
const UPLOAD_CONCURRENCY: usize = 4;

/// Retries of one request after the first attempt (object_store's own retry loop).
pub const DEFAULT_MAX_RETRIES: usize = 5;
/// First backoff of a retried request; each next one is up to twice as long (with jitter).
pub const DEFAULT_INIT_BACKOFF: Duration = Duration::from_millis(200);
/// Longest backoff between two retries of a request.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(5);
/// No request is retried once this long has passed since its first attempt.
pub const DEFAULT_RETRY_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts of a whole download or upload (each with its own request retries).
pub const DEFAULT_TRANSFER_ATTEMPTS: u32 = 3;
/// Pause before the second attempt of a whole transfer; doubled before each next one.
pub const DEFAULT_TRANSFER_BACKOFF: Duration = Duration::from_secs(1);
/// Timeout of one HTTP request (a part upload or a download stream).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// Timeout of establishing one connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How hard to try before giving up on a request or a transfer.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries of one request.
    pub max_retries: usize,
    /// First backoff of a retried request.
    pub init_backoff: Duration,
    /// Longest backoff of a retried request.
    pub max_backoff: Duration,
    /// Retry window of one request.
    pub retry_timeout: Duration,
    /// Attempts of a whole download or upload.
    pub transfer_attempts: u32,
    /// Pause before re-attempting a whole transfer (doubled each time).
    pub transfer_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: DEFAULT_MAX_RETRIES,
            init_backoff: DEFAULT_INIT_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            retry_timeout: DEFAULT_RETRY_TIMEOUT,
            transfer_attempts: DEFAULT_TRANSFER_ATTEMPTS,
            transfer_backoff: DEFAULT_TRANSFER_BACKOFF,
        }
    }
}

impl RetryPolicy {
    fn object_store_config(&self) -> RetryConfig {
        RetryConfig {
            backoff: BackoffConfig {
                init_backoff: self.init_backoff,
                max_backoff: self.max_backoff,
                base: 2.0,
            },
            max_retries: self.max_retries,
            retry_timeout: self.retry_timeout,
        }
    }
}

/// Options of a storage beyond its location.
#[derive(Debug, Clone, Default)]
pub struct StorageOptions {
    /// Limits the bytes moved per second; share one limiter between storages to limit the total.
    pub ratelimit: Option<Arc<RateLimiter>>,
    /// Request and transfer retries.
    pub retry: RetryPolicy,
}

impl StorageOptions {
    /// Options with a `--ratelimit` of `mib` MiB/s (none when `None`).
    pub fn with_ratelimit_mib(mib: Option<u64>) -> Self {
        StorageOptions {
            ratelimit: mib.map(|m| Arc::new(RateLimiter::per_second_mib(m))),
            ..Default::default()
        }
    }
}

/// What sits behind a storage.
enum Target {
    /// A local directory: objects are files, opened in place.
    Local {
        /// The directory as given.
        root: PathBuf,
        /// The store over it, which maps object names to files.
        fs: Arc<LocalFileSystem>,
    },
    /// An object store; SSTs are downloaded.
    Remote,
    /// `noop://`: writes are discarded, nothing can be read.
    Noop,
}

/// A backup or output location: an object store, a prefix inside it, and the runtime driving it.
pub struct ExternalStorage {
    target: Target,
    store: Arc<dyn ObjectStore>,
    /// Attributes of every object written (storage class / access tier).
    put_attributes: Attributes,
    description: String,
    runtime: Arc<tokio::runtime::Runtime>,
    options: StorageOptions,
    redactor: Redactor,
    /// Where remote objects are downloaded; created on first use, removed on drop.
    downloads: Mutex<Option<ScratchDir>>,
    download_seq: AtomicU64,
}

/// An object available as a local file, for block-wise reading.
#[derive(Debug)]
pub struct LocalObject {
    /// The open file.
    pub file: std::fs::File,
    /// The file's path (the object itself on local storage; a downloaded copy otherwise).
    pub path: PathBuf,
    /// Removes a downloaded copy when dropped (the open `file` stays readable on Unix).
    _download: Option<tempdir::RemoveOnDrop>,
}

/// A failure of one transfer: the store's or a local file's.
enum TransferError {
    Store(object_store::Error),
    Local(String, std::io::Error),
}

impl From<object_store::Error> for TransferError {
    fn from(e: object_store::Error) -> Self {
        TransferError::Store(e)
    }
}

impl ExternalStorage {
    /// Opens the storage a `StorageBackend` names, with default options. Local directories must
    /// exist when `must_exist` (the input); output directories are created.
    pub fn open(backend: &StorageBackend, must_exist: bool) -> Result<Self> {
        ExternalStorage::open_with(backend, must_exist, &StorageOptions::default())
    }

    /// Opens a storage; `must_exist` marks the input (which is read, never written).
    pub fn open_with(
        backend: &StorageBackend,
        must_exist: bool,
        options: &StorageOptions,
    ) -> Result<Self> {
        ExternalStorage::open_with_env(backend, must_exist, options, &url::process_env)
    }

    /// [`ExternalStorage::open_with`] with an explicit environment (for tests).
    pub fn open_with_env(
        backend: &StorageBackend,
        must_exist: bool,
        options: &StorageOptions,
        env: url::EnvLookup<'_>,
    ) -> Result<Self> {
        let description = url::describe(backend);
        let mut redactor = Redactor::new(
            url::secrets_of(backend)
                .into_iter()
                .chain(cloud::env_secrets(env)),
        );
        // Building a client can fail on a malformed key; its message must not quote it.
        let scrub = |error: Error| match error {
            Error::Storage { path, source } => Error::Storage {
                path,
                source: redactor.scrub_error(source),
            },
            other => other,
        };
        let conn = cloud::Connection {
            retry: options.retry.object_store_config(),
            client: ClientOptions::new()
                .with_timeout(DEFAULT_REQUEST_TIMEOUT)
                .with_connect_timeout(DEFAULT_CONNECT_TIMEOUT),
            output: !must_exist,
        };
        let (target, built) = match &backend.backend {
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
                let fs = Arc::new(LocalFileSystem::new_with_prefix(&root).map_err(|source| {
                    Error::Storage {
                        path: description.clone(),
                        source,
                    }
                })?);
                let store: Arc<dyn ObjectStore> = fs.clone();
                (Target::Local { root, fs }, (store, Attributes::new()))
            }
            Some(Backend::Noop(_)) => {
                if must_exist {
                    return Err(Error::Usage(
                        "noop:// discards what is written to it; it can only be an output".into(),
                    ));
                }
                let store: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
                (Target::Noop, (store, Attributes::new()))
            }
            Some(Backend::S3(s3)) => {
                let built = cloud::s3_store(s3, &conn, env).map_err(scrub)?;
                (Target::Remote, prefixed(built, &s3.prefix, &mut redactor))
            }
            Some(Backend::Gcs(gcs)) => {
                let built = cloud::gcs_store(gcs, &conn, env).map_err(scrub)?;
                (Target::Remote, prefixed(built, &gcs.prefix, &mut redactor))
            }
            Some(Backend::AzureBlobStorage(az)) => {
                let built = cloud::azure_store(az, &conn, env).map_err(scrub)?;
                (Target::Remote, prefixed(built, &az.prefix, &mut redactor))
            }
            Some(Backend::Hdfs(_)) => {
                return Err(Error::Unsupported(format!(
                    "{description}: HDFS storage is not supported; copy the backup to local or \
                     object storage"
                )))
            }
            Some(Backend::CloudDynamic(_)) => {
                return Err(Error::Unsupported(format!(
                    "{description}: the cloud_dynamic storage backend is not supported; pass an \
                     s3://, gcs:// or azure:// URL instead"
                )))
            }
            None => return Err(Error::Usage("storage backend names no backend".into())),
        };
        let runtime = Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("br-parquet-io")
                .enable_all()
                .build()
                .map_err(|e| Error::io("tokio runtime", e))?,
        );
        let (store, put_attributes) = built;
        Ok(ExternalStorage {
            target,
            store,
            put_attributes,
            description,
            runtime,
            options: options.clone(),
            redactor,
            downloads: Mutex::new(None),
            download_seq: AtomicU64::new(0),
        })
    }

    /// Where this storage points, without secrets.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The absolute URL engines use for object `name`: `file:///abs/root/name` on local storage,
    /// `<scheme>://bucket/prefix/name` elsewhere. Used for Iceberg locations, which hold full
    /// URIs. The name is not percent-encoded again: Iceberg readers take locations literally.
    pub fn url_of(&self, name: &str) -> String {
        let name = name.trim_start_matches('/');
        match &self.target {
            Target::Local { root, .. } => {
                let root = root.display().to_string();
                format!("file://{}/{name}", root.trim_end_matches('/'))
            }
            Target::Noop => format!("noop://{name}"),
            Target::Remote => format!("{}/{name}", self.description.trim_end_matches('/')),
        }
    }

    /// Whether objects are local files (opened in place, never copied).
    pub fn is_local(&self) -> bool {
        matches!(self.target, Target::Local { .. })
    }

    /// The local file or directory that holds object (or prefix) `name` on local storage; `None`
    /// on other storages. Files meant for [`ExternalStorage::move_file`] that are written below it
    /// are on the storage's filesystem, so that moving them is a rename.
    pub fn local_path(&self, name: &str) -> Result<Option<PathBuf>> {
        let location = object_path(name)?;
        match &self.target {
            Target::Local { fs, .. } => fs
                .path_to_filesystem(&location)
                .map(Some)
                .map_err(|source| self.storage_error(name, source)),
            Target::Remote | Target::Noop => Ok(None),
        }
    }

    /// Makes the objects `names` (and, on Linux, everything written to the same local
    /// filesystem: names, renames) durable: written files are not synced one by one, which costs
    /// a journal commit each (a backup of 100 k small tables writes 100 k files). On Linux one
    /// `syncfs` of the output's filesystem; elsewhere each object's file is synced. Objects of
    /// other stores are durable once written.
    pub fn sync(&self, names: &mut dyn Iterator<Item = &str>) -> Result<()> {
        let Target::Local { root, .. } = &self.target else {
            return Ok(());
        };
        #[cfg(target_os = "linux")]
        {
            let _ = names;
            let dir =
                std::fs::File::open(root).map_err(|e| Error::io(root.display().to_string(), e))?;
            // SAFETY: `syncfs` reads nothing but the descriptor, which `dir` keeps open.
            if unsafe { libc::syncfs(std::os::fd::AsRawFd::as_raw_fd(&dir)) } != 0 {
                let e = std::io::Error::last_os_error();
                return Err(Error::io(root.display().to_string(), e));
            }
            Ok(())
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = root;
            for name in names {
                if let Some(path) = self.local_path(name)? {
                    std::fs::File::open(&path)
                        .and_then(|file| file.sync_all())
                        .map_err(|e| Error::io(path.display().to_string(), e))?;
                }
            }
            Ok(())
        }
    }

    /// Reads a whole object; meant for metadata, not SSTs.
    pub fn read(&self, name: &str) -> Result<Bytes> {
        let location = object_path(name)?;
        if let Target::Noop = self.target {
            return Err(self.noop_read(name));
        }
        let limiter = self.options.ratelimit.clone();
        self.runtime
            .block_on(async {
                let object = self.store.get(&location).await?;
                // Sized once: a MetaFile leaf can be 128 MiB, and growing by doubling would
                // hold twice that for a moment.
                let mut out = Vec::with_capacity(object.meta.size as usize);
                let mut stream = object.into_stream();
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk?;
                    if let Some(limiter) = &limiter {
                        limiter.acquire(chunk.len()).await;
                    }
                    out.extend_from_slice(&chunk);
                }
                Ok(Bytes::from(out))
            })
            .map_err(|source| self.storage_error(name, source))
    }

    /// Reads the bytes `range` of an object (one ranged GET): parts of large files, such as the
    /// footer and a few column chunks of a Parquet file.
    pub fn read_range(&self, name: &str, range: std::ops::Range<u64>) -> Result<Bytes> {
        let location = object_path(name)?;
        if let Target::Noop = self.target {
            return Err(self.noop_read(name));
        }
        let length = (range.end - range.start) as usize;
        let bytes = self
            .runtime
            .block_on(self.store.get_range(&location, range))
            .map_err(|source| self.storage_error(name, source))?;
        if let Some(limiter) = &self.options.ratelimit {
            self.runtime.block_on(limiter.acquire(length));
        }
        Ok(bytes)
    }

    /// Whether an object exists.
    pub fn exists(&self, name: &str) -> Result<bool> {
        let location = object_path(name)?;
        if let Target::Noop = self.target {
            return Ok(false);
        }
        match self.runtime.block_on(self.store.head(&location)) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(source) => Err(self.storage_error(name, source)),
        }
    }

    /// The size in bytes of an object, `None` when there is none: one metadata request (HEAD),
    /// no data read. Checks that staged files are still whole before a run reuses them.
    pub fn size(&self, name: &str) -> Result<Option<u64>> {
        let location = object_path(name)?;
        if let Target::Noop = self.target {
            return Ok(None);
        }
        match self.runtime.block_on(self.store.head(&location)) {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(source) => Err(self.storage_error(name, source)),
        }
    }

    /// The names of every object under `prefix` (a directory on local storage), in no particular
    /// order; none when nothing is there.
    pub fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let location = object_path(prefix)?;
        if let Target::Noop = self.target {
            return Ok(Vec::new());
        }
        self.runtime
            .block_on(async {
                let mut names = Vec::new();
                let mut objects = self.store.list(Some(&location));
                while let Some(object) = objects.next().await {
                    match object {
                        Ok(object) => names.push(object.location.to_string()),
                        // Removed between the listing and the look at it (local storage).
                        Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(names)
            })
            .map_err(|source| self.storage_error(prefix, source))
    }

    /// Makes an object readable as a local file: the file itself on local storage, a streamed
    /// download (removed when the returned object is dropped) on an object store.
    pub fn open_local(&self, name: &str) -> Result<LocalObject> {
        let location = object_path(name)?;
        let root = match &self.target {
            Target::Local { root, .. } => root,
            Target::Noop => return Err(self.noop_read(name)),
            Target::Remote => return self.download(name, &location),
        };
        let path = root.join(location.as_ref());
        let file = std::fs::File::open(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::io(self.missing(name), e)
            } else {
                Error::io(path.display().to_string(), e)
            }
        })?;
        Ok(LocalObject {
            file,
            path,
            _download: None,
        })
    }

    fn missing(&self, name: &str) -> String {
        format!(
            "{name} (listed in backupmeta, missing from {})",
            self.description
        )
    }

    fn noop_read(&self, name: &str) -> Error {
        Error::Usage(format!(
            "{name}: noop:// storage holds nothing to read; it can only be an output"
        ))
    }

    /// The per-storage download directory, created on first use.
    fn download_dir(&self) -> Result<PathBuf> {
        let mut guard = self
            .downloads
            .lock()
            .map_err(|_| Error::Usage("download directory lock poisoned".into()))?;
        if let Some(dir) = guard.as_ref() {
            return Ok(dir.path().to_path_buf());
        }
        let dir = ScratchDir::downloads()?;
        let path = dir.path().to_path_buf();
        *guard = Some(dir);
        Ok(path)
    }

    /// The download directory, if one was created (for tests and diagnostics).
    pub fn download_dir_path(&self) -> Option<PathBuf> {
        self.downloads
            .lock()
            .ok()
            .and_then(|g| g.as_ref().map(|d| d.path().to_path_buf()))
    }

    fn download(&self, name: &str, location: &ObjectPath) -> Result<LocalObject> {
        let dir = self.download_dir()?;
        let seq = self.download_seq.fetch_add(1, Ordering::Relaxed);
        let file_name: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{seq:06}-{file_name}"));
        let guard = tempdir::RemoveOnDrop::new(path.clone());
        let result = self.with_transfer_retries(|| {
            self.runtime
                .block_on(download_to(&self.store, location, &path, &self.options))
        });
        match result {
            Ok(()) => {}
            Err(TransferError::Store(object_store::Error::NotFound { source, .. })) => {
                return Err(Error::Storage {
                    path: self.missing(name),
                    source: self.redactor.scrub_error(object_store::Error::NotFound {
                        path: name.to_string(),
                        source,
                    }),
                });
            }
            Err(TransferError::Store(source)) => return Err(self.storage_error(name, source)),
            Err(TransferError::Local(what, e)) => return Err(Error::io(what, e)),
        }
        let file =
            std::fs::File::open(&path).map_err(|e| Error::io(path.display().to_string(), e))?;
        Ok(LocalObject {
            file,
            path,
            _download: Some(guard),
        })
    }

    /// Runs `transfer` up to `transfer_attempts` times while it fails on a transient store error.
    fn with_transfer_retries<T>(
        &self,
        mut transfer: impl FnMut() -> std::result::Result<T, TransferError>,
    ) -> std::result::Result<T, TransferError> {
        let attempts = self.options.retry.transfer_attempts.max(1);
        let mut pause = self.options.retry.transfer_backoff;
        let mut attempt = 1;
        loop {
            match transfer() {
                Err(TransferError::Store(e)) if attempt < attempts && is_transient(&e) => {
                    std::thread::sleep(pause);
                    pause = pause.saturating_mul(2);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Uploads a local file to `name`, in parts. The object appears only when the upload completes,
    /// so a reader never sees a partial file; a failed upload is aborted and tried again from the
    /// start while the failure looks transient.
    pub fn put_file(&self, local: &Path, name: &str) -> Result<()> {
        let location = object_path(name)?;
        if let Target::Noop = self.target {
            // Read nothing, write nothing; the file stays the caller's.
            return std::fs::metadata(local)
                .map(|_| ())
                .map_err(|e| Error::io(local.display().to_string(), e));
        }
        let result = self.with_transfer_retries(|| {
            self.runtime.block_on(upload_file(
                &self.store,
                local,
                &location,
                &self.put_attributes,
                &self.options,
            ))
        });
        match result {
            Ok(()) => Ok(()),
            Err(TransferError::Store(source)) => Err(self.storage_error(name, source)),
            Err(TransferError::Local(what, e)) => Err(Error::io(what, e)),
        }
    }

    /// Uploads `local` as object `name`, then removes `local`: the object appears whole or not at
    /// all, as with [`ExternalStorage::put_file`].
    ///
    /// On local storage the file is renamed into place (creating parent directories), which is
    /// atomic and copies nothing; so `--ratelimit`, which limits bytes transferred, does not apply.
    /// Like the local `put_file`, it syncs neither the file nor the directory (the caller syncs the
    /// file it wrote, if it wants it durable). When `local` is on another filesystem than the
    /// storage (`EXDEV`), it falls back to `put_file` then removal; write the file below
    /// [`ExternalStorage::local_path`] to avoid that. Elsewhere it is `put_file` then removal (on
    /// `noop://`: nothing is written and `local` is removed).
    pub fn move_file(&self, local: &Path, name: &str) -> Result<()> {
        let location = object_path(name)?;
        if let Target::Local { fs, .. } = &self.target {
            let target = fs
                .path_to_filesystem(&location)
                .map_err(|source| self.storage_error(name, source))?;
            let size = std::fs::metadata(local).map_or(0, |m| m.len());
            match rename_creating_parents(local, &target) {
                Ok(()) => {
                    if size >= WRITEBACK_MIN_BYTES {
                        start_writeback(&target);
                    }
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {}
                Err(e) => {
                    return Err(Error::io(
                        format!(
                            "moving {} to {name} in {}",
                            local.display(),
                            self.description
                        ),
                        e,
                    ))
                }
            }
        }
        self.put_file(local, name)?;
        std::fs::remove_file(local).map_err(|e| Error::io(local.display().to_string(), e))
    }

    /// Writes a small object in one request.
    pub fn put_bytes(&self, name: &str, bytes: Bytes) -> Result<()> {
        let location = object_path(name)?;
        if let Target::Noop = self.target {
            return Ok(());
        }
        let limiter = self.options.ratelimit.clone();
        let options = object_store::PutOptions {
            attributes: self.put_attributes.clone(),
            ..Default::default()
        };
        self.runtime
            .block_on(async {
                if let Some(limiter) = &limiter {
                    limiter.acquire(bytes.len()).await;
                }
                self.store
                    .put_opts(&location, PutPayload::from(bytes), options)
                    .await
            })
            .map(|_| ())
            .map_err(|source| self.storage_error(name, source))
    }

    /// Writes a small object unless one exists already: `Ok(false)` when another writer was
    /// first. The store decides atomically (a hard link on local file systems, `If-None-Match: *`
    /// on S3 and Azure, generation 0 on GCS), so of writers racing for one name exactly one wins.
    pub fn put_bytes_if_absent(&self, name: &str, bytes: Bytes) -> Result<bool> {
        let location = object_path(name)?;
        if let Target::Noop = self.target {
            return Ok(true);
        }
        let options = object_store::PutOptions {
            mode: object_store::PutMode::Create,
            attributes: self.put_attributes.clone(),
            ..Default::default()
        };
        let put = self.runtime.block_on(self.store.put_opts(
            &location,
            PutPayload::from(bytes),
            options,
        ));
        match put {
            Ok(_) => Ok(true),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(false),
            Err(source) => Err(self.storage_error(name, source)),
        }
    }

    /// Deletes an object; a missing object is not an error.
    pub fn delete(&self, name: &str) -> Result<()> {
        let location = object_path(name)?;
        if let Target::Noop = self.target {
            return Ok(());
        }
        match self.runtime.block_on(self.store.delete(&location)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(self.storage_error(name, source)),
        }
    }

    /// Deletes objects, in bulk where the store can (S3 deletes up to 1000 per request, a
    /// thousand times fewer requests than [`ExternalStorage::delete`] one by one); missing objects
    /// are not an error.
    pub fn delete_all(&self, names: &[String]) -> Result<()> {
        let Some(first) = names.first() else {
            return Ok(());
        };
        // S3's bulk delete takes up to 1000 keys a request.
        const DELETE_CHUNK: usize = 1000;
        // Every name checked before any is deleted; the paths are made chunk by chunk rather
        // than all held (an export may delete 100 k job markers).
        names
            .iter()
            .try_for_each(|name| object_path(name).map(drop))?;
        if let Target::Noop = self.target {
            return Ok(());
        }
        self.runtime
            .block_on(async {
                for chunk in names.chunks(DELETE_CHUNK) {
                    let locations: Vec<object_store::path::Path> = chunk
                        .iter()
                        .filter_map(|name| object_path(name).ok())
                        .collect();
                    let locations = futures::stream::iter(locations.into_iter().map(Ok)).boxed();
                    let mut deleted = self.store.delete_stream(locations);
                    while let Some(result) = deleted.next().await {
                        match result {
                            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
                Ok(())
            })
            .map_err(|source| {
                let what = match names.len() {
                    1 => first.clone(),
                    n => format!("{first} (one of {n} objects being deleted)"),
                };
                self.storage_error(&what, source)
            })
    }

    /// Moves an object to a new name, replacing any object there: an atomic rename on local
    /// storage, a server-side copy then delete on object stores. Publishes staged files.
    pub fn rename(&self, from: &str, to: &str) -> Result<()> {
        let (source, target) = (object_path(from)?, object_path(to)?);
        if let Target::Noop = self.target {
            return Ok(());
        }
        self.runtime
            .block_on(self.store.rename(&source, &target))
            .map_err(|source| self.storage_error(from, source))
    }

    fn storage_error(&self, name: &str, source: object_store::Error) -> Error {
        Error::Storage {
            path: format!("{} in {}", name, self.description),
            source: self.redactor.scrub_error(source),
        }
    }
}

/// Wraps a cloud client in the backend's prefix and records its secrets.
fn prefixed(
    built: cloud::CloudStore,
    prefix: &str,
    redactor: &mut Redactor,
) -> (Arc<dyn ObjectStore>, Attributes) {
    redactor.extend(built.secrets);
    let prefix = prefix.trim_matches('/');
    let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
        built.store
    } else {
        Arc::new(PrefixStore::new(built.store, prefix))
    };
    (store, built.put_attributes)
}

/// Renames `from` to `to`, replacing any file there and creating `to`'s missing parent
/// directories.
fn rename_creating_parents(from: &Path, to: &Path) -> std::io::Result<()> {
    // Directories are created only when needed; another process removing an empty one between
    // the creation and the rename is ridden out by trying again.
    let mut attempts = 0;
    loop {
        match std::fs::rename(from, to) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempts < 3 && from.exists() => {
                attempts += 1;
                if let Some(parent) = to.parent() {
                    std::fs::create_dir_all(parent)?;
                }
            }
            other => return other,
        }
    }
}

/// Files from this size up start their write-back as they are moved into a local output: for
/// them one more request is nothing, while starting it for each of many small files (a backup of
/// 20 k small tables) measured 15 % slower; their pages are written by the final sync.
const WRITEBACK_MIN_BYTES: u64 = 8 << 20;

/// Starts writing a file's dirty pages to disk without waiting for them (Linux
/// `sync_file_range(SYNC_FILE_RANGE_WRITE)`), so that the disk works while the export decodes and
/// the run's one [`ExternalStorage::sync`] at the end, which makes everything durable, finds little
/// left to write. Only a hint: a failure here surfaces in that `sync`.
fn start_writeback(path: &Path) {
    #[cfg(target_os = "linux")]
    if let Ok(file) = std::fs::File::open(path) {
        // SAFETY: `sync_file_range` reads nothing but the descriptor, which `file` keeps open.
        unsafe {
            libc::sync_file_range(
                std::os::fd::AsRawFd::as_raw_fd(&file),
                0,
                0,
                libc::SYNC_FILE_RANGE_WRITE,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = path;
}

/// Whether a failed transfer is worth starting again: not for answers that will not change
/// (missing object, denied access, bad configuration).
fn is_transient(error: &object_store::Error) -> bool {
    matches!(error, object_store::Error::Generic { .. })
}

/// Streams an object into `path`, one network chunk at a time; checks the length at the end.
async fn download_to(
    store: &Arc<dyn ObjectStore>,
    location: &ObjectPath,
    path: &Path,
    options: &StorageOptions,
) -> std::result::Result<(), TransferError> {
    let result = store.get(location).await?;
    let expected = result.meta.size;
    let mut stream = result.into_stream();
    let local = |e| TransferError::Local(path.display().to_string(), e);
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(local)?);
    let mut written: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if let Some(limiter) = &options.ratelimit {
            limiter.acquire(chunk.len()).await;
        }
        file.write_all(&chunk).map_err(local)?;
        written += chunk.len() as u64;
    }
    file.flush().map_err(local)?;
    if written != expected {
        return Err(TransferError::Store(object_store::Error::Generic {
            store: "download",
            source: format!(
                "object is {expected} bytes but the download ended after {written} bytes"
            )
            .into(),
        }));
    }
    Ok(())
}

/// One attempt at a multipart upload of a local file; aborts the upload on failure.
async fn upload_file(
    store: &Arc<dyn ObjectStore>,
    local: &Path,
    location: &ObjectPath,
    attributes: &Attributes,
    options: &StorageOptions,
) -> std::result::Result<(), TransferError> {
    let local_error = |e| TransferError::Local(local.display().to_string(), e);
    let mut file = std::fs::File::open(local).map_err(local_error)?;
    let upload = store
        .put_multipart_opts(
            location,
            PutMultipartOptions {
                attributes: attributes.clone(),
                ..Default::default()
            },
        )
        .await?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, DEFAULT_UPLOAD_PART_SIZE);
    let mut buf = vec![0u8; DEFAULT_UPLOAD_PART_SIZE];
    let failure = loop {
        let n = match read_full(&mut file, &mut buf) {
            Ok(0) => break None,
            Ok(n) => n,
            Err(e) => break Some(local_error(e)),
        };
        if let Some(limiter) = &options.ratelimit {
            limiter.acquire(n).await;
        }
        if let Err(e) = writer.wait_for_capacity(UPLOAD_CONCURRENCY).await {
            break Some(TransferError::Store(e));
        }
        writer.write(buf.get(..n).unwrap_or_default());
    };
    match failure {
        None => match writer.finish().await {
            Ok(_) => Ok(()),
            // A completion retried after its answer was lost finds no upload any more: the
            // object is there if the first completion went through.
            Err(object_store::Error::NotFound { .. })
                if completed(store, location, local).await =>
            {
                Ok(())
            }
            Err(e) => Err(TransferError::Store(e)),
        },
        Some(error) => {
            // Best effort: a server that is gone cannot abort either; S3 lifecycle rules or a
            // later abort clean such uploads up, and they never appear as objects.
            let _ = writer.abort().await;
            Err(error)
        }
    }
}

/// Whether `location` holds an object of the local file's size.
async fn completed(store: &Arc<dyn ObjectStore>, location: &ObjectPath, local: &Path) -> bool {
    let Ok(local_len) = std::fs::metadata(local).map(|m| m.len()) else {
        return false;
    };
    store
        .head(location)
        .await
        .is_ok_and(|meta| meta.size == local_len)
}

/// Reads until `buf` is full or the file ends.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let Some(rest) = buf.get_mut(filled..) else {
            break;
        };
        match file.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
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
        assert!(storage.is_local());
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
        assert_eq!(object.path, dir.path().join("big/x.bin"), "opened in place");
    }

    #[test]
    fn size_list_and_delete_all() {
        let dir = tempfile::tempdir().unwrap();
        let storage = local(dir.path());
        storage
            .put_bytes("p/.jobs/a.json", Bytes::from_static(b"{}"))
            .unwrap();
        storage
            .put_bytes("p/.jobs/b.json", Bytes::from_static(b"hello"))
            .unwrap();
        storage
            .put_bytes("p/other.txt", Bytes::from_static(b"x"))
            .unwrap();
        assert_eq!(storage.size("p/.jobs/b.json").unwrap(), Some(5));
        assert_eq!(storage.size("p/.jobs/c.json").unwrap(), None);
        let mut names = storage.list("p/.jobs").unwrap();
        names.sort();
        assert_eq!(names, ["p/.jobs/a.json", "p/.jobs/b.json"]);
        assert_eq!(storage.list("q").unwrap(), Vec::<String>::new());
        storage.delete_all(&names).unwrap();
        assert_eq!(storage.list("p/.jobs").unwrap(), Vec::<String>::new());
        assert_eq!(storage.size("p/other.txt").unwrap(), Some(1));
        // Deleting what is not there (again) is not an error.
        storage.delete_all(&names).unwrap();
        storage.delete_all(&[]).unwrap();

        let noop = ExternalStorage::open(&url::parse_url("noop://").unwrap(), false).unwrap();
        noop.put_bytes("p/x", Bytes::from_static(b"x")).unwrap();
        assert_eq!(noop.size("p/x").unwrap(), None);
        assert_eq!(noop.list("p").unwrap(), Vec::<String>::new());
        noop.delete_all(&["p/x".to_string()]).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn move_file_renames_into_place_on_local_storage() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let storage = local(&dir.path().join("out"));
        let src = dir.path().join("f.partial");
        std::fs::write(&src, b"parquet bytes").unwrap();
        let inode = std::fs::metadata(&src).unwrap().ino();
        // Parent directories are created; a name with `%` maps to the file the store reads.
        let name = "p/_staging/db/page%20views/x.parquet";
        storage.move_file(&src, name).unwrap();
        assert!(!src.exists(), "the source is gone");
        assert_eq!(
            storage.read(name).unwrap(),
            Bytes::from_static(b"parquet bytes")
        );
        let placed = storage.local_path(name).unwrap().unwrap();
        assert_eq!(
            std::fs::metadata(&placed).unwrap().ino(),
            inode,
            "renamed, not copied"
        );

        // An existing object is replaced; a missing source is an error naming it.
        std::fs::write(&src, b"new").unwrap();
        storage.move_file(&src, name).unwrap();
        assert_eq!(storage.read(name).unwrap(), Bytes::from_static(b"new"));
        let err = storage.move_file(&src, name).unwrap_err().to_string();
        assert!(err.contains("f.partial"), "{err}");
        assert_eq!(storage.read(name).unwrap(), Bytes::from_static(b"new"));
        assert!(storage.move_file(&src, "../x").is_err());

        // A large file starts its write-back as it is moved; its bytes are the same.
        let large: Vec<u8> = (0..WRITEBACK_MIN_BYTES).map(|i| (i % 251) as u8).collect();
        std::fs::write(&src, &large).unwrap();
        storage.move_file(&src, name).unwrap();
        assert!(storage.read(name).unwrap() == large);
    }

    #[test]
    fn move_file_is_not_rate_limited_on_local_storage() {
        let dir = tempfile::tempdir().unwrap();
        let backend = url::parse_url(&format!("local://{}", dir.path().display())).unwrap();
        let options = StorageOptions {
            ratelimit: Some(Arc::new(RateLimiter::new(64 * 1024))),
            ..Default::default()
        };
        let storage = ExternalStorage::open_with(&backend, false, &options).unwrap();
        let src = dir.path().join("src.bin");
        std::fs::write(&src, vec![7u8; 1024 * 1024]).unwrap();
        let started = std::time::Instant::now();
        storage.move_file(&src, "x.bin").unwrap();
        // An upload would take 15 s at 64 KiB/s; a rename moves no bytes.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            std::fs::metadata(dir.path().join("x.bin")).unwrap().len(),
            1024 * 1024
        );
    }

    #[cfg(unix)]
    #[test]
    fn move_file_across_filesystems_uploads_then_removes() {
        use std::os::unix::fs::MetadataExt;
        let shm = Path::new("/dev/shm");
        let dir = tempfile::tempdir().unwrap();
        let device = |p: &Path| std::fs::metadata(p).map(|m| m.dev()).ok();
        if !shm.is_dir() || device(shm) == device(dir.path()) {
            // Under CI every test must run: a machine without a second filesystem fails it.
            assert!(
                std::env::var("CI").is_err(),
                "CI: /dev/shm is missing or on the temp dir's filesystem; the cross-device move \
                 cannot be tested"
            );
            eprintln!("skipped: /dev/shm is missing or on the same filesystem as the temp dir");
            return;
        }
        let storage = local(dir.path());
        let src_dir = tempfile::tempdir_in(shm).unwrap();
        let src = src_dir.path().join("f.partial");
        let payload: Vec<u8> = (0..(DEFAULT_UPLOAD_PART_SIZE + 5))
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(&src, &payload).unwrap();
        // The rename fails with EXDEV, which is what sends move_file to the upload.
        let exdev = std::fs::rename(&src, dir.path().join("probe")).unwrap_err();
        assert_eq!(exdev.kind(), std::io::ErrorKind::CrossesDevices);
        storage.move_file(&src, "a/b.parquet").unwrap();
        assert!(!src.exists(), "the source is gone");
        assert_eq!(
            std::fs::read(dir.path().join("a/b.parquet")).unwrap(),
            payload
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("a"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["b.parquet"], "no upload part left behind");
    }

    #[test]
    fn local_path_names_files_on_local_storage_only() {
        let dir = tempfile::tempdir().unwrap();
        let storage = local(dir.path());
        let path = storage.local_path("p/_staging").unwrap().unwrap();
        assert_eq!(
            path,
            std::fs::canonicalize(dir.path())
                .unwrap()
                .join("p/_staging")
        );
        assert!(storage.local_path("../x").is_err());
        let noop = ExternalStorage::open(&url::parse_url("noop://").unwrap(), false).unwrap();
        assert_eq!(noop.local_path("p/_staging").unwrap(), None);
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
        for bad in ["", "../x", "a/../../x", "a//b", "./a", "a/.."] {
            assert!(object_path(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(object_path("/a/b.sst").unwrap().as_ref(), "a/b.sst");
    }

    #[test]
    fn every_operation_rejects_escaping_names_on_every_backend() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("f");
        std::fs::write(&src, b"x").unwrap();
        let fake = |name: &str| Some(format!("fake-{name}"));
        let env = |name: &str| match name {
            "HOME" => Some("/nonexistent".to_string()),
            _ => None,
        };
        let backends = [
            format!("local://{}", dir.path().join("out").display()),
            "noop://".to_string(),
            format!(
                "s3://b/p?endpoint=http://127.0.0.1:9&access-key={}&secret-access-key={}",
                fake("a").unwrap(),
                fake("s").unwrap()
            ),
            "azure://container/p?endpoint=http://127.0.0.1:9/acct&account-name=acct\
             &account-key=a2V5a2V5"
                .to_string(),
            r#"gcs://b/p?endpoint=http://127.0.0.1:9"#.to_string(),
        ];
        let gcs_key = dir.path().join("gcs.json");
        std::fs::write(
            &gcs_key,
            r#"{"disable_oauth":true,"client_email":"","private_key":"","private_key_id":""}"#,
        )
        .unwrap();
        for url in backends {
            let url = if url.starts_with("gcs://") {
                format!("{url}&credentials-file={}", gcs_key.display())
            } else {
                url
            };
            let backend = url::parse_url_with_env(&url, &env).unwrap();
            let storage =
                ExternalStorage::open_with_env(&backend, false, &StorageOptions::default(), &env)
                    .unwrap();
            for bad in ["../x", "a/../../x", "", "a//b"] {
                assert!(storage.read(bad).is_err(), "{url} read {bad:?}");
                assert!(storage.exists(bad).is_err(), "{url} exists {bad:?}");
                assert!(storage.open_local(bad).is_err(), "{url} open_local {bad:?}");
                assert!(
                    storage.put_file(&src, bad).is_err(),
                    "{url} put_file {bad:?}"
                );
                assert!(
                    storage.move_file(&src, bad).is_err(),
                    "{url} move_file {bad:?}"
                );
                assert!(storage.local_path(bad).is_err(), "{url} local_path {bad:?}");
                assert!(
                    storage.put_bytes(bad, Bytes::from_static(b"x")).is_err(),
                    "{url} put_bytes {bad:?}"
                );
            }
        }
        assert!(!dir.path().join("x").exists());
    }

    #[test]
    fn noop_discards_and_cannot_be_read() {
        let backend = url::parse_url("noop://").unwrap();
        let err = ExternalStorage::open(&backend, true).err().unwrap();
        assert!(err.to_string().contains("only be an output"), "{err}");
        let storage = ExternalStorage::open(&backend, false).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("f");
        std::fs::write(&src, b"data").unwrap();
        storage.put_file(&src, "a/f.parquet").unwrap();
        assert!(src.exists(), "put_file leaves the file to the caller");
        storage.move_file(&src, "a/f.parquet").unwrap();
        assert!(!src.exists(), "move_file removes it");
        storage.put_bytes("a/g", Bytes::from_static(b"x")).unwrap();
        assert!(!storage.exists("a/f.parquet").unwrap());
        assert!(storage.read("a/g").is_err());
        assert!(storage.open_local("a/g").is_err());
        assert_eq!(storage.url_of("a/g"), "noop://a/g");
    }

    #[test]
    fn hdfs_and_cloud_dynamic_are_rejected() {
        let backend = url::parse_url("hdfs://nn:9000/b").unwrap();
        let err = ExternalStorage::open(&backend, true).err().unwrap();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        let dynamic = StorageBackend {
            backend: Some(Backend::CloudDynamic(Default::default())),
        };
        assert!(matches!(
            ExternalStorage::open(&dynamic, true),
            Err(Error::Unsupported(_))
        ));
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

    #[test]
    fn url_of_names_objects() {
        let dir = tempfile::tempdir().unwrap();
        let storage = local(dir.path());
        assert_eq!(
            storage.url_of("/a/b.parquet"),
            format!("file://{}/a/b.parquet", dir.path().display())
        );
        let env = |_: &str| None;
        let backend =
            url::parse_url_with_env("s3://bkt/pre/?access-key=AKAK&secret-access-key=SKSK", &env)
                .unwrap();
        let s3 = ExternalStorage::open_with_env(&backend, false, &StorageOptions::default(), &env)
            .unwrap();
        assert_eq!(s3.url_of("t/x.parquet"), "s3://bkt/pre/t/x.parquet");
        assert!(!s3.is_local());
    }

    #[test]
    fn ratelimit_slows_local_writes() {
        let dir = tempfile::tempdir().unwrap();
        let backend = url::parse_url(&format!("local://{}", dir.path().display())).unwrap();
        let options = StorageOptions {
            ratelimit: Some(Arc::new(RateLimiter::new(256 * 1024))),
            ..Default::default()
        };
        let storage = ExternalStorage::open_with(&backend, false, &options).unwrap();
        let src = dir.path().join("src.bin");
        std::fs::write(&src, vec![7u8; 384 * 1024]).unwrap();
        let started = std::time::Instant::now();
        storage.put_file(&src, "x.bin").unwrap();
        // 256 KiB of burst, then 128 KiB at 256 KiB/s.
        assert!(
            started.elapsed() >= Duration::from_millis(400),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn client_construction_errors_do_not_quote_keys() {
        let env = |name: &str| match name {
            "AZURE_STORAGE_KEY" => Some("!!not-base64-ENVSECRETKEY".to_string()),
            _ => None,
        };
        for url in [
            "azure://c/p?account-name=a&account-key=!!not-base64-URLSECRETKEY",
            "azure://c/p?account-name=a",
        ] {
            let backend = url::parse_url_with_env(url, &env).unwrap();
            let err = ExternalStorage::open_with_env(&backend, true, &Default::default(), &env)
                .err()
                .unwrap();
            let mut text = format!("{err} {err:?}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                text.push_str(&format!(" {cause} {cause:?}"));
                source = cause.source();
            }
            assert!(text.contains("azure://c/p"), "{text}");
            assert!(!text.contains("SECRETKEY"), "{text}");
        }
    }

    #[test]
    fn retry_policy_maps_to_object_store() {
        let config = RetryPolicy::default().object_store_config();
        assert_eq!(config.max_retries, DEFAULT_MAX_RETRIES);
        assert_eq!(config.retry_timeout, DEFAULT_RETRY_TIMEOUT);
        assert_eq!(config.backoff.init_backoff, DEFAULT_INIT_BACKOFF);
        assert_eq!(config.backoff.max_backoff, DEFAULT_MAX_BACKOFF);
    }
}
