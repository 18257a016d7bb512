//! Scratch directories (the per-storage download directory, an export's directory of files being
//! written), and their cleanup.
//!
//! A [`ScratchDir`] is removed when dropped: at the end of a run, on an error, and while a panic
//! unwinds. On Unix, SIGINT (Ctrl-C) and SIGTERM are caught once a scratch directory exists: every
//! live scratch directory is removed and the process exits with 130 / 143. Only SIGKILL (or a power
//! cut) can leave one behind. The download directory lives in the system temporary directory
//! (`$TMPDIR`, else `/tmp`) as `br-parquet-download-XXXXXX`; others where their creator says.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

use crate::{Error, Result};

/// Prefix of every download directory's name.
pub const DOWNLOAD_DIR_PREFIX: &str = "br-parquet-download-";

/// Scratch directories that exist now, for the signal handler.
static LIVE_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static SIGNAL_HANDLER: Once = Once::new();

/// A temporary directory removed on drop (and on Ctrl-C).
#[derive(Debug)]
pub struct ScratchDir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl ScratchDir {
    /// Creates a fresh download directory in the system temporary directory.
    pub fn downloads() -> Result<Self> {
        ScratchDir::create_in(&std::env::temp_dir(), DOWNLOAD_DIR_PREFIX)
            .map_err(|e| Error::io("temporary download directory", e))
    }

    /// Creates a fresh directory `<parent>/<prefix>XXXXXX` (and `parent` if it is missing), and
    /// registers it for cleanup on SIGINT/SIGTERM.
    pub fn create_in(parent: &Path, prefix: &str) -> std::io::Result<Self> {
        std::fs::create_dir_all(parent)?;
        let dir = tempfile::Builder::new().prefix(prefix).tempdir_in(parent)?;
        let path = dir.path().to_path_buf();
        if let Ok(mut live) = LIVE_DIRS.lock() {
            live.push(path.clone());
        }
        install_signal_handler();
        Ok(ScratchDir {
            dir: Some(dir),
            path,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
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

/// Removes every live scratch directory (called from the signal handler).
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
/// first time a scratch directory is created.
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
        let dir = ScratchDir::downloads().unwrap();
        let path = dir.path().to_path_buf();
        std::fs::write(path.join("x"), b"1").unwrap();
        assert!(LIVE_DIRS.lock().unwrap().contains(&path));
        drop(dir);
        assert!(!path.exists());
        assert!(!LIVE_DIRS.lock().unwrap().contains(&path));

        let seen = std::sync::Mutex::new(None);
        let result = std::panic::catch_unwind(|| {
            let dir = ScratchDir::downloads().unwrap();
            *seen.lock().unwrap() = Some(dir.path().to_path_buf());
            panic!("boom");
        });
        assert!(result.is_err());
        let path = seen.into_inner().unwrap().unwrap();
        assert!(!path.exists(), "{} left behind", path.display());
    }

    #[test]
    fn created_in_a_new_parent_and_removed_on_drop() {
        let base = tempfile::tempdir().unwrap();
        let parent = base.path().join("a/b");
        let dir = ScratchDir::create_in(&parent, ".x-").unwrap();
        let path = dir.path().to_path_buf();
        assert_eq!(path.parent(), Some(parent.as_path()));
        assert!(path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(".x-")));
        assert!(LIVE_DIRS.lock().unwrap().contains(&path));
        drop(dir);
        assert!(!path.exists());
        assert!(parent.is_dir(), "only the scratch directory is removed");
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
