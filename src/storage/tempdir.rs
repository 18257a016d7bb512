//! The per-storage download directory, and its cleanup.
//!
//! A [`DownloadDir`] lives in the system temporary directory (`$TMPDIR`, else `/tmp`) as
//! `br-parquet-download-XXXXXX`. It is removed when dropped: at the end of a run, on an error,
//! and while a panic unwinds. On Unix, SIGINT (Ctrl-C) and SIGTERM are caught once a download
//! directory exists: every live download directory is removed and the process exits with
//! 130 / 143. Only SIGKILL (or a power cut) can leave one behind.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

use crate::{Error, Result};

/// Prefix of every download directory's name.
pub const DOWNLOAD_DIR_PREFIX: &str = "br-parquet-download-";

/// Download directories that exist now, for the signal handler.
static LIVE_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static SIGNAL_HANDLER: Once = Once::new();

/// A temporary directory removed on drop (and on Ctrl-C).
#[derive(Debug)]
pub struct DownloadDir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl DownloadDir {
    /// Creates a fresh directory and registers it for cleanup on SIGINT/SIGTERM.
    pub fn create() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix(DOWNLOAD_DIR_PREFIX)
            .tempdir()
            .map_err(|e| Error::io("temporary download directory", e))?;
        let path = dir.path().to_path_buf();
        if let Ok(mut live) = LIVE_DIRS.lock() {
            live.push(path.clone());
        }
        install_signal_handler();
        Ok(DownloadDir {
            dir: Some(dir),
            path,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DownloadDir {
    fn drop(&mut self) {
        if let Ok(mut live) = LIVE_DIRS.lock() {
            live.retain(|p| p != &self.path);
        }
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

/// Removes one downloaded file when dropped.
#[derive(Debug)]
pub struct RemoveOnDrop(PathBuf);

impl RemoveOnDrop {
    /// Guards `path` (which need not exist yet).
    pub fn new(path: PathBuf) -> Self {
        RemoveOnDrop(path)
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Removes every live download directory (called from the signal handler).
fn remove_live_dirs() {
    let dirs = match LIVE_DIRS.lock() {
        Ok(live) => live.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// A thread that waits for SIGINT/SIGTERM, cleans up and exits. Installed once per process, the
/// first time a download directory is created.
fn install_signal_handler() {
    SIGNAL_HANDLER.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("br-parquet-signals".into())
            .spawn(|| {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()
                else {
                    return;
                };
                let code = runtime.block_on(wait_for_signal());
                if let Some(code) = code {
                    remove_live_dirs();
                    std::process::exit(code);
                }
            });
        // Without the thread, Ctrl-C kills the process as usual and may leave the directory.
        drop(spawned);
    });
}

/// The exit code of the signal received (128 + signal number), or `None` if none can be awaited.
#[cfg(unix)]
async fn wait_for_signal() -> Option<i32> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).ok()?;
    let mut terminate = signal(SignalKind::terminate()).ok()?;
    tokio::select! {
        _ = interrupt.recv() => Some(130),
        _ = terminate.recv() => Some(143),
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> Option<i32> {
    tokio::signal::ctrl_c().await.ok().map(|()| 130)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_on_drop_and_on_unwind() {
        let dir = DownloadDir::create().unwrap();
        let path = dir.path().to_path_buf();
        std::fs::write(path.join("x"), b"1").unwrap();
        assert!(LIVE_DIRS.lock().unwrap().contains(&path));
        drop(dir);
        assert!(!path.exists());
        assert!(!LIVE_DIRS.lock().unwrap().contains(&path));

        let seen = std::sync::Mutex::new(None);
        let result = std::panic::catch_unwind(|| {
            let dir = DownloadDir::create().unwrap();
            *seen.lock().unwrap() = Some(dir.path().to_path_buf());
            panic!("boom");
        });
        assert!(result.is_err());
        let path = seen.into_inner().unwrap().unwrap();
        assert!(!path.exists(), "{} left behind", path.display());
    }

    #[test]
    fn remove_on_drop_removes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"1").unwrap();
        drop(RemoveOnDrop::new(file.clone()));
        assert!(!file.exists());
        drop(RemoveOnDrop::new(dir.path().join("never-created")));
    }
}
