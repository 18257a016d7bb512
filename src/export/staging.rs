//! The output's staging area while a run lives: [`PartialFiles`], the local directory Parquet
//! files are written in until they are finished and moved to staging
//! (`<prefix>/_br_parquet_staging/`, [`crate::sink::layout`]), and the clean-up of what killed
//! runs left there.

use std::path::{Path, PathBuf};

use crate::sink::layout;
use crate::storage::{ExternalStorage, ScratchDir};
use crate::{Error, Result};

/// The local directory Parquet files are written in until they are finished and staged: on local
/// output inside the output's staging directory (`<prefix>/_br_parquet_staging/.br-parquet-partial-XXXXXX`),
/// on the output's filesystem, so that staging a finished file is a rename rather than a copy;
/// elsewhere `$TMPDIR/br-parquet-staging-XXXXXX`. Removed, like a download directory, when dropped
/// (the end of the run, an error, a panic) and on SIGINT/SIGTERM. On local output, dropping it also
/// removes the staging directories the run leaves empty, and the directories created for it; and
/// while it exists it is locked (an advisory lock on the directory, which the system releases
/// however the process ends), so that a later run can tell one a killed run left behind and
/// remove it, as it re-stages and publishes the killed run's staged files.
pub(crate) struct PartialFiles {
    path: PathBuf,
    dir: Option<ScratchDir>,
    /// On local output: the output's staging directory, and the highest of its ancestors (or
    /// itself) that this run created.
    local_staging: Option<(PathBuf, Option<PathBuf>)>,
    /// Holds the lock on a local `dir` (none where the filesystem has no locks).
    _lock: Option<std::fs::File>,
}

/// Prefix of the directory of files being written when the output is not local.
const TEMP_PARTIAL_DIR_PREFIX: &str = "br-parquet-staging-";

impl PartialFiles {
    pub(crate) fn create(output: &ExternalStorage, prefix: &str) -> Result<Self> {
        let Some(staging) = output.local_path(&layout::staging_dir_name(prefix))? else {
            let dir = ScratchDir::create_in(&std::env::temp_dir(), TEMP_PARTIAL_DIR_PREFIX)
                .map_err(|e| Error::io("temporary directory", e))?;
            return Ok(PartialFiles {
                path: dir.path().to_path_buf(),
                dir: Some(dir),
                local_staging: None,
                _lock: None,
            });
        };
        let created = staging
            .ancestors()
            .take_while(|dir| !dir.try_exists().unwrap_or(true))
            .last()
            .map(Path::to_path_buf);
        remove_abandoned_partial_dirs(&staging);
        let (dir, lock) = create_locked_partial_dir(&staging)
            .map_err(|e| Error::io(staging.display().to_string(), e))?;
        Ok(PartialFiles {
            path: dir.path().to_path_buf(),
            dir: Some(dir),
            local_staging: Some((staging, created)),
            _lock: lock,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PartialFiles {
    fn drop(&mut self) {
        drop(self.dir.take());
        let Some((staging, created)) = &self.local_staging else {
            return;
        };
        // Staged files of a failed run stay (with their directories); empty directories go.
        remove_empty_staging_dirs(staging);
        if let Some(top) = created {
            for dir in staging
                .ancestors()
                .skip(1)
                .take_while(|dir| dir.starts_with(top))
            {
                if std::fs::remove_dir(dir).is_err() {
                    break;
                }
            }
        }
    }
}

/// Creates a directory of files being written in `staging` and locks it (no lock where the
/// filesystem has none).
fn create_locked_partial_dir(
    staging: &Path,
) -> std::io::Result<(ScratchDir, Option<std::fs::File>)> {
    let mut attempts = 0;
    loop {
        let dir = ScratchDir::create_in(staging, layout::PARTIAL_DIR_PREFIX)?;
        // Another run starting at the same moment may find the directory unlocked, take it for
        // abandoned and remove it, between its creation and the lock: then it is gone before
        // this run opens it, or after this run locked the deleted directory.
        match std::fs::File::open(dir.path()) {
            Ok(lock) => {
                if lock.lock().is_err() {
                    return Ok((dir, None));
                }
                if dir.path().try_exists()? {
                    return Ok((dir, Some(lock)));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            // A filesystem where directories cannot be opened has no locks either.
            Err(_) => return Ok((dir, None)),
        }
        attempts += 1;
        if attempts == 10 {
            return Err(std::io::Error::other(
                "another run keeps removing this run's directory of files being written",
            ));
        }
    }
}

/// Removes the directories of files being written in `staging` that no live run holds: those a
/// killed run left behind (best effort).
fn remove_abandoned_partial_dirs(staging: &Path) {
    let Ok(entries) = std::fs::read_dir(staging) else {
        return;
    };
    for entry in entries.flatten() {
        let ours = entry
            .file_name()
            .to_string_lossy()
            .starts_with(layout::PARTIAL_DIR_PREFIX);
        if !ours || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let path = entry.path();
        let Ok(handle) = std::fs::File::open(&path) else {
            continue;
        };
        // Held until the directory is gone, so that its run cannot be starting meanwhile.
        if handle.try_lock().is_ok() {
            let _ = std::fs::remove_dir_all(&path);
        }
        drop(handle);
    }
}

/// Removes `dir` and every directory below it that holds no file, except the directories of
/// files being written of other runs (best effort; never follows a symbolic link).
fn remove_empty_staging_dirs(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let partial = entry
                .file_name()
                .to_string_lossy()
                .starts_with(layout::PARTIAL_DIR_PREFIX);
            if !partial && entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_empty_staging_dirs(&entry.path());
            }
        }
    }
    // Fails, as it should, while the directory holds anything.
    let _ = std::fs::remove_dir(dir);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::url;

    fn local_output(dir: &Path) -> ExternalStorage {
        let backend = url::parse_url(&format!("local://{}", dir.display())).unwrap();
        ExternalStorage::open(&backend, false).unwrap()
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[cfg(unix)]
    #[test]
    fn partial_files_live_in_local_staging_and_leave_nothing_behind() {
        use std::os::unix::fs::MetadataExt;
        let out = tempfile::tempdir().unwrap();
        let output = local_output(out.path());
        let partial = PartialFiles::create(&output, "p/q").unwrap();
        let staging = output
            .local_path("p/q/_br_parquet_staging")
            .unwrap()
            .unwrap();
        assert_eq!(partial.path().parent(), Some(staging.as_path()));
        assert!(partial
            .path()
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(layout::PARTIAL_DIR_PREFIX)));
        let device = |p: &Path| std::fs::metadata(p).unwrap().dev();
        assert_eq!(device(partial.path()), device(out.path()));

        // A file written there is staged by a rename; publishing empties the staging tree.
        let file = partial.path().join("x.parquet.partial");
        std::fs::write(&file, b"x").unwrap();
        output
            .move_file(&file, "p/q/_br_parquet_staging/db/t/x.parquet")
            .unwrap();
        output
            .rename(
                "p/q/_br_parquet_staging/db/t/x.parquet",
                "p/q/db/t/x.parquet",
            )
            .unwrap();
        drop(partial);
        assert_eq!(entries(out.path()), ["p"]);
        assert_eq!(entries(&out.path().join("p/q")), ["db"]);

        // With nothing published, the directories created for staging go too.
        drop(PartialFiles::create(&output, "r").unwrap());
        assert_eq!(entries(out.path()), ["p"]);
        // Staged files of a failed run stay where a re-run finds them.
        let partial = PartialFiles::create(&output, "p/q").unwrap();
        let file = partial.path().join("y");
        std::fs::write(&file, b"y").unwrap();
        output
            .move_file(&file, "p/q/_br_parquet_staging/db/t/y.parquet")
            .unwrap();
        drop(partial);
        assert_eq!(entries(&out.path().join("p/q/_br_parquet_staging")), ["db"]);
    }

    #[test]
    fn partial_files_of_other_outputs_are_in_the_temp_dir() {
        let noop = ExternalStorage::open(&url::parse_url("noop://").unwrap(), false).unwrap();
        let partial = PartialFiles::create(&noop, "p").unwrap();
        let path = partial.path().to_path_buf();
        assert_eq!(path.parent(), Some(std::env::temp_dir().as_path()));
        assert!(path.is_dir());
        drop(partial);
        assert!(!path.exists());
    }

    #[cfg(unix)]
    #[test]
    fn abandoned_partial_dirs_are_removed_live_ones_kept() {
        let out = tempfile::tempdir().unwrap();
        let output = local_output(out.path());
        let staging = output.local_path("p/_br_parquet_staging").unwrap().unwrap();
        // What a killed run leaves: an unlocked directory with a half-written file.
        let abandoned = staging.join(format!("{}killed", layout::PARTIAL_DIR_PREFIX));
        std::fs::create_dir_all(&abandoned).unwrap();
        std::fs::write(abandoned.join("t-1-0.parquet.partial"), b"half").unwrap();
        // A table directory of staged files is not ours to remove.
        std::fs::create_dir_all(staging.join("db/t")).unwrap();
        std::fs::write(staging.join("db/t/x.parquet"), b"staged").unwrap();

        let live = PartialFiles::create(&output, "p").unwrap();
        assert!(!abandoned.exists(), "abandoned directory kept");
        assert!(staging.join("db/t/x.parquet").is_file());
        // A second run leaves the first run's (locked) directory alone.
        let second = PartialFiles::create(&output, "p").unwrap();
        assert!(live.path().is_dir(), "a live run's directory was removed");
        assert_ne!(live.path(), second.path());
        drop(second);
        assert!(live.path().is_dir());
        drop(live);
    }
}
