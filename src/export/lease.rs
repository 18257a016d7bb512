//! Leases on the jobs of a `--shards` export: a shard that has run out of jobs of its own takes
//! the unfinished jobs of a dead or slow shard, so that one lost machine delays the export by
//! about one lease period rather than its whole share. Only the output store is involved.
//!
//! Objects under `<prefix>/_br_parquet_staging/.br-parquet-leases/<job key>/`:
//! * `g<generation>`: a claim on the job, made with a conditional create, so of shards claiming
//!   one generation at once exactly one gets it; the newest generation holds the job;
//! * `g<generation>.b<beat>`: its holder's heartbeat, a new object every third of the lease
//!   period while it works on the job (the previous beat deleted).
//!
//! A job is *stale* when, over one whole lease period, no marker appeared for it and the names
//! under its lease directory did not change: its holder stopped beating, or it never had one (a
//! shard that never started, or has not reached the job yet). An idle shard then claims the
//! next generation and runs the job. Staleness is seen by watching names change, so no clocks
//! are compared across machines. A holder that was only slow finishes the job too; both write
//! the same bytes under the same names, and publishing accepts either (`publish.rs`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use crate::sink::layout::lease_dir_name;
use crate::storage::ExternalStorage;
use crate::Result;

use super::resume::marker_keys;

/// The leases this run holds, and their heartbeats.
pub(crate) struct Leases<'a> {
    output: &'a ExternalStorage,
    prefix: &'a str,
    /// Job key → (generation held, beats written).
    held: Mutex<HashMap<String, (u32, u64)>>,
    /// Jobs this run saw finished (markers listed, or written by it): a marker of one of them
    /// disappearing means the export was published, and every marker removed.
    seen_finished: Mutex<HashSet<String>>,
}

/// The lease objects of every job, by job key, names sorted.
type LeaseNames = BTreeMap<String, Vec<String>>;

impl<'a> Leases<'a> {
    pub(crate) fn new(output: &'a ExternalStorage, prefix: &'a str) -> Self {
        Leases {
            output,
            prefix,
            held: Mutex::new(HashMap::new()),
            seen_finished: Mutex::new(HashSet::new()),
        }
    }

    /// Claims generation `generation` of the lease on `key`; `false` when another shard holds
    /// or held it.
    pub(crate) fn claim(&self, key: &str, generation: u32) -> Result<bool> {
        let name = format!("{}/g{generation:06}", lease_dir_name(self.prefix, key));
        if !self.output.put_bytes_if_absent(&name, Vec::new().into())? {
            return Ok(false);
        }
        if let Ok(mut held) = self.held.lock() {
            held.insert(key.to_string(), (generation, 0));
        }
        Ok(true)
    }

    /// Stops beating for `key` (its marker is written). Its objects stay until publishing.
    pub(crate) fn release(&self, key: &str) {
        if let Ok(mut held) = self.held.lock() {
            held.remove(key);
        }
        if let Ok(mut seen) = self.seen_finished.lock() {
            seen.insert(key.to_string());
        }
    }

    /// Writes the next heartbeat of every lease held.
    pub(crate) fn beat(&self) -> Result<()> {
        let beats: Vec<(String, u32, u64)> = match self.held.lock() {
            Ok(mut held) => held
                .iter_mut()
                .map(|(key, (generation, beats))| {
                    *beats += 1;
                    (key.clone(), *generation, *beats)
                })
                .collect(),
            Err(_) => return Ok(()),
        };
        for (key, generation, beat) in beats {
            let dir = lease_dir_name(self.prefix, &key);
            self.output.put_bytes(
                &format!("{dir}/g{generation:06}.b{beat:010}"),
                Vec::new().into(),
            )?;
            if beat > 1 {
                let previous = format!("{dir}/g{generation:06}.b{:010}", beat - 1);
                self.output.delete(&previous)?;
            }
        }
        Ok(())
    }

    /// Every lease object, by job key (one listing).
    fn names(&self) -> Result<LeaseNames> {
        let dir = lease_dir_name(self.prefix, "");
        let mut names: LeaseNames = BTreeMap::new();
        for name in self.output.list(&dir)? {
            let Some((key, object)) = name
                .strip_prefix(&dir)
                .and_then(|rest| rest.trim_start_matches('/').split_once('/'))
            else {
                continue;
            };
            names
                .entry(key.to_string())
                .or_default()
                .push(object.to_string());
        }
        for objects in names.values_mut() {
            objects.sort();
        }
        Ok(names)
    }

    /// Watches the unfinished jobs among `keys` for one `period` and claims the stale ones:
    /// what this shard should run now. [`Watch::Finished`] as soon as every job has its marker
    /// (the markers are listed every tenth of the period, at most every second);
    /// [`Watch::Published`] as soon as `published` says another shard published the export
    /// (it then removed every marker, so unfinished-looking jobs are not to be taken) or a
    /// marker seen during the watch disappears.
    pub(crate) fn take_stale(
        &self,
        keys: &[String],
        period: Duration,
        published: &dyn Fn() -> Result<bool>,
    ) -> Result<Watch> {
        let wanted: HashSet<&str> = keys.iter().map(String::as_str).collect();
        let unfinished_now = || -> Result<Option<Vec<&String>>> {
            let finished = marker_keys(self.output, self.prefix)?;
            let Ok(mut seen) = self.seen_finished.lock() else {
                return Ok(Some(Vec::new()));
            };
            if seen.iter().any(|key| !finished.contains(key)) {
                return Ok(None);
            }
            seen.extend(
                finished
                    .iter()
                    .filter(|k| wanted.contains(k.as_str()))
                    .cloned(),
            );
            Ok(Some(
                keys.iter().filter(|k| !finished.contains(*k)).collect(),
            ))
        };
        match unfinished_now()? {
            _ if published()? => return Ok(Watch::Published),
            None => return Ok(Watch::Published),
            Some(unfinished) if unfinished.is_empty() => return Ok(Watch::Finished),
            Some(_) => {}
        }
        let before = self.names()?;
        let poll = (period / 10).min(Duration::from_secs(1));
        let started = std::time::Instant::now();
        let unfinished = loop {
            std::thread::sleep(poll);
            let unfinished = match unfinished_now()? {
                _ if published()? => return Ok(Watch::Published),
                None => return Ok(Watch::Published),
                Some(unfinished) => unfinished,
            };
            if unfinished.is_empty() {
                return Ok(Watch::Finished);
            }
            if started.elapsed() >= period {
                break unfinished;
            }
        };
        let after = self.names()?;
        let mut taken = Vec::new();
        let mut beating = 0;
        for key in unfinished {
            let (was, is) = (before.get(key), after.get(key));
            if was != is {
                beating += 1;
                continue;
            }
            if self.claim(
                key,
                next_generation(is.map(Vec::as_slice).unwrap_or_default()),
            )? {
                taken.push(key.clone());
            }
        }
        Ok(if taken.is_empty() && beating > 0 {
            Watch::AllHeld
        } else {
            Watch::Taken(taken)
        })
    }
}

/// What watching the unfinished jobs found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Watch {
    /// Every job has its marker.
    Finished,
    /// Another shard published the export.
    Published,
    /// Every unfinished job is held by a shard that is beating: nothing to take.
    AllHeld,
    /// These jobs were stale and are now this shard's (possibly none: another took them).
    Taken(Vec<String>),
}

/// The generation after the newest of a job's lease objects (`g<generation>[.b<beat>]`).
fn next_generation(objects: &[String]) -> u32 {
    objects
        .iter()
        .filter_map(|name| name.strip_prefix('g')?.get(..6)?.parse::<u32>().ok())
        .max()
        .map_or(1, |newest| newest + 1)
}

/// Removes every lease object of the export (when it is published).
pub(crate) fn remove_all(output: &ExternalStorage, prefix: &str) -> Result<()> {
    output.delete_all(&output.list(&lease_dir_name(prefix, ""))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::StorageOptions;

    fn local() -> (tempfile::TempDir, ExternalStorage) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("local://{}", dir.path().display());
        let backend = crate::storage::url::parse_url(&url).unwrap();
        let storage =
            ExternalStorage::open_with(&backend, false, &StorageOptions::default()).unwrap();
        (dir, storage)
    }

    #[test]
    fn generations_follow_the_newest_object() {
        assert_eq!(next_generation(&[]), 1);
        let names = ["g000001", "g000001.b0000000003", "g000002"].map(String::from);
        assert_eq!(next_generation(&names), 3);
    }

    #[test]
    fn one_claim_per_generation_and_beats_replace_each_other() {
        let (_dir, output) = local();
        let (a, b) = (Leases::new(&output, "p"), Leases::new(&output, "p"));
        assert!(a.claim("job", 1).unwrap());
        assert!(!b.claim("job", 1).unwrap(), "the generation is taken");
        a.beat().unwrap();
        a.beat().unwrap();
        let names = a.names().unwrap();
        assert_eq!(names["job"], vec!["g000001", "g000001.b0000000002"]);
        a.release("job");
        a.beat().unwrap();
        assert_eq!(a.names().unwrap(), names, "a released lease is not beaten");
        remove_all(&output, "p").unwrap();
        assert!(a.names().unwrap().is_empty());
    }

    #[test]
    fn stale_jobs_are_taken_beating_ones_are_left() {
        let (_dir, output) = local();
        let (holder, idle) = (Leases::new(&output, "p"), Leases::new(&output, "p"));
        assert!(holder.claim("held", 1).unwrap());
        assert!(holder.claim("dead", 1).unwrap());
        holder.release("dead");
        let keys = ["held", "dead", "unstarted"].map(String::from);
        let period = Duration::from_millis(300);
        let watch = std::thread::scope(|scope| {
            let watcher = scope.spawn(|| idle.take_stale(&keys, period, &|| Ok(false)).unwrap());
            std::thread::sleep(period / 3);
            holder.beat().unwrap();
            watcher.join().unwrap()
        });
        assert_eq!(
            watch,
            Watch::Taken(vec!["dead".to_string(), "unstarted".to_string()])
        );
        let names = idle.names().unwrap();
        assert_eq!(names["dead"], vec!["g000001", "g000002"]);
        assert_eq!(names["unstarted"], vec!["g000001"]);
    }
}
