//! Splitting one export across machines: `--shard I/N`, or `--shards N` with the index from the
//! scheduler's environment.
//!
//! Every machine loads the same `backupmeta`, so every machine plans the same jobs; shard `I` of
//! `N` exports the jobs [`Shard::jobs`] gives it and stages their files and job markers in the
//! shared output (see `export/resume.rs`). With `--shard I/N` it publishes nothing: a run without
//! `--shard`, on any machine, then finds every job finished, checks the tables against their BR
//! checksums and publishes, exporting whatever a failed shard left undone. With `--shards N`
//! ([`Shard::last_publishes`]) no such run is needed: a shard that finds every job's marker once
//! its own are written claims the publishing with a conditional create in the output store, and
//! the one claim that succeeds makes that shard the publishing run (`export/mod.rs`). Same
//! options on every machine: a job's marker is keyed by them, so a shard run with other options
//! is not reused.

use std::fmt;
use std::str::FromStr;

/// The environment variables a cluster scheduler gives each task of an array its 0-based index
/// in: Kubernetes Indexed Jobs, then AWS Batch array jobs.
pub const SHARD_INDEX_ENV: [&str; 2] = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"];

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, `1..=count`.
    pub index: usize,
    /// How many shards the export is split into.
    pub count: usize,
    /// The shard that finds every job finished publishes the export (`--shards N`); otherwise a
    /// run without a shard does (`--shard I/N`).
    pub last_publishes: bool,
}

impl Shard {
    /// `--shards count`: this machine's shard from the 0-based index the scheduler put in the
    /// environment variable `var`, or else in `JOB_COMPLETION_INDEX` (Kubernetes) or
    /// `AWS_BATCH_JOB_ARRAY_INDEX` (AWS Batch), the first that is set.
    ///
    /// # Errors
    /// A message naming the variables looked at, or the value that is no index below `count`.
    pub fn from_env(
        count: usize,
        var: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Shard, String> {
        let names: Vec<&str> = match var {
            Some(var) => vec![var],
            None => SHARD_INDEX_ENV.to_vec(),
        };
        let Some((name, value)) = names
            .iter()
            .find_map(|name| env(name).map(|value| (*name, value)))
        else {
            return Err(format!(
                "no shard index: {} is not set; run under a Kubernetes Indexed Job or an AWS \
                 Batch array job, name the variable that holds the 0-based index with \
                 --shard-index-env (e.g. SLURM_ARRAY_TASK_ID), or give --shard I/N",
                names.join(" or ")
            ));
        };
        match value.trim().parse::<usize>() {
            Ok(index) if index < count => Ok(Shard {
                index: index + 1,
                count,
                last_publishes: true,
            }),
            _ => Err(format!(
                "{name}={value:?}: a shard index is 0 to {} for {count} shards",
                count.saturating_sub(1)
            )),
        }
    }

    /// The jobs of this shard (indices into `job_bytes`, ascending), given each job's input
    /// bytes. Jobs are dealt largest first to the least loaded shard (ties to the lower shard,
    /// then the lower job index), so that every machine computes the same split and the shards'
    /// bytes differ by at most about one job.
    pub fn jobs(&self, job_bytes: &[u64]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..job_bytes.len()).collect();
        order.sort_by_key(|&job| (std::cmp::Reverse(job_bytes.get(job).copied()), job));
        let mut loads = vec![0u64; self.count.max(1)];
        let mut mine = Vec::new();
        for job in order {
            let Some((shard, load)) = loads
                .iter_mut()
                .enumerate()
                .min_by_key(|(shard, load)| (**load, *shard))
            else {
                break;
            };
            *load += job_bytes.get(job).copied().unwrap_or(0);
            if shard + 1 == self.index {
                mine.push(job);
            }
        }
        mine.sort_unstable();
        mine
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let usage = || format!("{s:?}: expected I/N, this machine's shard of N, for example 1/4");
        let (index, count) = s.split_once('/').ok_or_else(usage)?;
        let index: usize = index.trim().parse().map_err(|_| usage())?;
        let count: usize = count.trim().parse().map_err(|_| usage())?;
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "{s:?}: the shard must be 1 to N of N shards (N at least 1)"
            ));
        }
        Ok(Shard {
            index,
            count,
            last_publishes: false,
        })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(
            "2/4".parse::<Shard>(),
            Ok(Shard {
                index: 2,
                count: 4,
                last_publishes: false
            })
        );
        assert_eq!("1/1".parse::<Shard>().unwrap().to_string(), "1/1");
        for bad in ["0/4", "5/4", "1/0", "4", "a/b", "1/2/3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(
            "5/4".parse::<Shard>().unwrap_err(),
            "\"5/4\": the shard must be 1 to N of N shards (N at least 1)"
        );
    }

    #[test]
    fn shard_index_from_the_schedulers_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let k8s = Shard::from_env(4, None, env(&[("JOB_COMPLETION_INDEX", "0")])).unwrap();
        assert_eq!((k8s.index, k8s.count, k8s.last_publishes), (1, 4, true));
        let batch = Shard::from_env(4, None, env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "3")])).unwrap();
        assert_eq!(batch.index, 4);
        let slurm = env(&[("SLURM_ARRAY_TASK_ID", "2"), ("JOB_COMPLETION_INDEX", "0")]);
        assert_eq!(
            Shard::from_env(4, Some("SLURM_ARRAY_TASK_ID"), slurm)
                .unwrap()
                .index,
            3
        );
        let missing = Shard::from_env(4, None, env(&[])).unwrap_err();
        assert!(missing.contains("JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX"));
        let beyond = Shard::from_env(4, None, env(&[("JOB_COMPLETION_INDEX", "4")])).unwrap_err();
        assert!(beyond.contains("0 to 3"), "{beyond}");
    }

    #[test]
    fn every_job_in_exactly_one_shard_and_balanced() {
        let bytes: Vec<u64> = (0..37u64).map(|i| 1000 + (i * 7919) % 5000).collect();
        for count in 1..=6 {
            let shards: Vec<Vec<usize>> = (1..=count)
                .map(|index| {
                    Shard {
                        index,
                        count,
                        last_publishes: false,
                    }
                    .jobs(&bytes)
                })
                .collect();
            let mut all: Vec<usize> = shards.iter().flatten().copied().collect();
            all.sort_unstable();
            assert_eq!(all, (0..bytes.len()).collect::<Vec<_>>(), "{count} shards");
            let loads: Vec<u64> = shards
                .iter()
                .map(|jobs| jobs.iter().map(|&j| bytes[j]).sum())
                .collect();
            let largest = *bytes.iter().max().unwrap();
            let (min, max) = (loads.iter().min().unwrap(), loads.iter().max().unwrap());
            assert!(max - min <= largest, "{count} shards: {loads:?}");
        }
        // Fewer jobs than shards: the extra shards have nothing to do.
        assert_eq!(
            Shard {
                index: 3,
                count: 3,
                last_publishes: false
            }
            .jobs(&[5, 9]),
            Vec::<usize>::new()
        );
        assert_eq!(
            Shard {
                index: 1,
                count: 3,
                last_publishes: false
            }
            .jobs(&[5, 9]),
            vec![1]
        );
    }
}
