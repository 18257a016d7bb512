//! Stage 2, run jobs: every job of the run on `--concurrency` worker threads, each either reused
//! from the marker a previous run left ([`super::resume`]) or scanned ([`super::scan`]) into a
//! [`ParquetSink`] and then recorded in a marker.
//!
//! A job is one backed-up range, or with `--target-file-size` several consecutive ranges of one
//! table written to the same files. Workers take jobs from a shared counter; outcomes are put
//! back in job order, which keeps reports (and re-runs) deterministic.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::meta::{RangePlan, TableSchema};
use crate::sink::staged::{ParquetSink, ParquetTarget};
use crate::{Error, Result};

use super::failpoint;
use super::lease::Leases;
use super::prepare::Run;
use super::progress::{self, Counters};
use super::report::ResumeReport;
use super::resume::{JobKeys, Previous};
use super::scan::{export_job, JobOutcome, ScanContext};

/// Ranges written to the same files, and the key of their marker.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// Indices into the plan's ranges, ascending.
    pub ranges: Vec<usize>,
    /// [`JobKeys::key`] of the job.
    pub key: String,
}

impl Job {
    /// SST bytes the job reads.
    pub(crate) fn bytes(&self, ranges: &[RangePlan]) -> u64 {
        self.ranges
            .iter()
            .filter_map(|i| ranges.get(*i))
            .map(range_bytes)
            .sum()
    }
}

/// Bytes of SSTs a range reads.
pub(crate) fn range_bytes(range: &RangePlan) -> u64 {
    range.write.size + range.default.as_ref().map_or(0, |f| f.size)
}

/// Groups ranges into jobs. Without a target size each range is a job of its own: one file per
/// table per range. With one, consecutive ranges of the same single table are combined until
/// their SSTs add up to the target, so that many small regions make a few large files (SST
/// bytes are the estimate of the Parquet bytes: usually an upper one).
pub(crate) fn plan_jobs(
    ranges: &[RangePlan],
    tables: &HashMap<i64, Arc<TableSchema>>,
    target: Option<u64>,
    keys: &JobKeys,
) -> Vec<Job> {
    let groups: Vec<Vec<usize>> = match target {
        None => (0..ranges.len()).map(|i| vec![i]).collect(),
        Some(target) => group_ranges(ranges, tables, target),
    };
    groups
        .into_iter()
        .map(|group| {
            let members: Vec<&RangePlan> = group.iter().filter_map(|i| ranges.get(*i)).collect();
            Job {
                key: keys.key(&members),
                ranges: group,
            }
        })
        .collect()
}

fn group_ranges(
    ranges: &[RangePlan],
    tables: &HashMap<i64, Arc<TableSchema>>,
    target: u64,
) -> Vec<Vec<usize>> {
    let single_table = |range: &RangePlan| {
        let mut ids: Vec<i64> = range
            .table_ids
            .iter()
            .filter_map(|id| tables.get(id).map(|t| t.table_id))
            .collect();
        ids.dedup();
        match ids.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    };
    let mut jobs: Vec<Vec<usize>> = Vec::new();
    let mut current: Option<(i64, u64)> = None;
    for (i, range) in ranges.iter().enumerate() {
        let table = single_table(range);
        let bytes = range_bytes(range);
        match (current, table, jobs.last_mut()) {
            (Some((open, size)), Some(t), Some(job)) if open == t && size < target => {
                job.push(i);
                current = Some((t, size + bytes));
            }
            _ => {
                jobs.push(vec![i]);
                current = table.map(|t| (t, bytes));
            }
        }
    }
    jobs
}

/// The outcome of every job of a run, in job order, and what was resumed.
pub(crate) struct FinishedJobs {
    pub outcomes: Vec<JobOutcome>,
    pub resume: ResumeReport,
}

/// Finishes every job of `run` with `--concurrency` threads, showing progress; the first error
/// stops the others.
pub(crate) fn run_jobs(run: &Run<'_>) -> Result<FinishedJobs> {
    let options = run.options;
    let ranges_total = run.jobs.iter().map(|job| job.ranges.len()).sum::<usize>();
    let reporter = progress::Reporter::start(options.progress, ranges_total as u64, run.bytes());
    let finished = run_workers(run, reporter.counters());
    if finished.is_ok() {
        reporter.finish();
    }
    drop(reporter);
    let mut finished = finished?;
    finished.resume.enabled = options.resume;
    Ok(finished)
}

fn run_workers(run: &Run<'_>, progress: &Counters) -> Result<FinishedJobs> {
    let scan = ScanContext {
        input: &run.opened.input,
        crypter: run.opened.crypter.clone(),
        tables: &run.tables,
        kind: run.kind,
        batch: run.options.batch,
        lenient: run.options.lenient,
        verify: run.options.verify,
    };
    let target = ParquetTarget {
        output: run.output,
        prefix: run.prefix,
        partial_dir: run.partial.path(),
        parquet: &run.parquet,
        metadata: &run.footer,
        target_file_size: run.options.target_file_size,
        column_stats: run.options.collects_column_stats(),
    };
    let jobs = &run.jobs;
    let shared = Shared {
        next: AtomicUsize::new(0),
        failed: AtomicBool::new(false),
        results: Mutex::new((0..jobs.len()).map(|_| None).collect()),
        resume: Mutex::new(ResumeReport::default()),
        first_error: Mutex::new(None),
    };
    let workers = run.options.concurrency.max(1).min(jobs.len().max(1));
    let working = AtomicUsize::new(workers);
    std::thread::scope(|scope| {
        if let Some(leases) = run.leases {
            let working = &working;
            scope.spawn(move || beat_while_working(leases, run.options.shard_lease, working));
        }
        for _ in 0..workers {
            scope.spawn(|| {
                work(run, &scan, &target, progress, &shared);
                working.fetch_sub(1, Ordering::Relaxed);
            });
        }
    });
    if let Some((_, error)) = shared.first_error.into_inner().ok().flatten() {
        return Err(error);
    }
    let outcomes = shared
        .results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    let mut resume = shared.resume.into_inner().unwrap_or_default();
    resume
        .rejected_markers
        .sort_by(|a, b| a.marker.cmp(&b.marker));
    Ok(FinishedJobs { outcomes, resume })
}

/// What the workers of a run share.
struct Shared {
    /// The index of the next job to take.
    next: AtomicUsize,
    /// A job failed: the others stop.
    failed: AtomicBool,
    /// Outcomes by job index (`None`: not finished, or left to the shard holding its lease).
    results: Mutex<Vec<Option<JobOutcome>>>,
    resume: Mutex<ResumeReport>,
    /// The error of the earliest failed job.
    first_error: Mutex<Option<(usize, Error)>>,
}

/// One worker: takes jobs until none is left or one failed.
fn work(
    run: &Run<'_>,
    scan: &ScanContext<'_>,
    target: &ParquetTarget<'_>,
    progress: &Counters,
    shared: &Shared,
) {
    loop {
        if shared.failed.load(Ordering::Relaxed) {
            return;
        }
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        let Some(job) = run.jobs.get(index) else {
            return;
        };
        match finish_job(run, scan, target, job, progress, &shared.resume) {
            Ok(None) => {}
            Ok(Some(outcome)) => {
                if let Ok(mut results) = shared.results.lock() {
                    if let Some(slot) = results.get_mut(index) {
                        *slot = Some(outcome);
                    }
                }
            }
            Err(error) => {
                shared.failed.store(true, Ordering::Relaxed);
                if let Ok(mut first) = shared.first_error.lock() {
                    // Report the error of the earliest job, so that reruns say the same.
                    if first.as_ref().is_none_or(|(i, _)| index < *i) {
                        *first = Some((index, error));
                    }
                }
                return;
            }
        }
    }
}

/// Renews `leases` every third of the `lease` period while `working` workers remain.
fn beat_while_working(leases: &Leases<'_>, lease: Duration, working: &AtomicUsize) {
    let step = Duration::from_millis(20);
    let mut since_beat = Duration::ZERO;
    while working.load(Ordering::Relaxed) > 0 {
        std::thread::sleep(step);
        since_beat += step;
        if since_beat >= lease / 3 {
            since_beat = Duration::ZERO;
            // A missed beat at worst lets another shard run the job too, which writes the same
            // bytes under the same names.
            let _ = leases.beat();
        }
    }
}

/// Gets the outcome of one job: the one a previous run recorded under the job's key, when its
/// marker and files are intact, or else a new export's, then recorded. Counts the job in
/// `progress` and `resume`. `None` for a job another shard holds the lease on (`--shards`).
fn finish_job(
    run: &Run<'_>,
    scan: &ScanContext<'_>,
    target: &ParquetTarget<'_>,
    job: &Job,
    progress: &Counters,
    resume: &Mutex<ResumeReport>,
) -> Result<Option<JobOutcome>> {
    let ranges = run.ranges_of(job);
    let range_count = ranges.len() as u64;
    let bytes: u64 = ranges.iter().map(|r| range_bytes(r)).sum();
    let rejected = match run.markers.previous(&job.key, ranges.len())? {
        Previous::Finished(outcome) => {
            let rows = count_done(progress, &outcome, range_count);
            progress
                .ranges_resumed
                .fetch_add(range_count, Ordering::Relaxed);
            progress.rows_resumed.fetch_add(rows, Ordering::Relaxed);
            progress.bytes_resumed.fetch_add(bytes, Ordering::Relaxed);
            if let Ok(mut resume) = resume.lock() {
                resume.resumed_jobs += 1;
                resume.resumed_ranges += range_count;
            }
            return Ok(Some(outcome));
        }
        Previous::Rejected(marker) => Some(marker),
        Previous::NotFound => None,
    };
    if let Some(leases) = run.leases.filter(|_| !run.taken) {
        if !leases.claim(&job.key, 1)? {
            // Another shard runs the job (or ran it and died: it is taken over once stale).
            if let Ok(mut resume) = resume.lock() {
                resume.left_to_others += 1;
            }
            return Ok(None);
        }
    }
    let outcome = export_job(scan, &ranges, &mut ParquetSink::new(target))?;
    run.markers.record(&job.key, &outcome)?;
    if let Some(leases) = run.leases {
        leases.release(&job.key);
    }
    count_done(progress, &outcome, range_count);
    progress.bytes_read.fetch_add(bytes, Ordering::Relaxed);
    if let Ok(mut resume) = resume.lock() {
        resume.exported_jobs += 1;
        resume.exported_ranges += range_count;
        resume.rejected_markers.extend(rejected);
    }
    failpoint::hit("range");
    Ok(Some(outcome))
}

/// Counts a finished job's ranges, rows and files as done; returns its rows.
fn count_done(progress: &Counters, outcome: &JobOutcome, ranges: u64) -> u64 {
    let rows: u64 = outcome.files.iter().map(|f| f.rows).sum();
    progress.rows.fetch_add(rows, Ordering::Relaxed);
    progress
        .files
        .fetch_add(outcome.files.len() as u64, Ordering::Relaxed);
    progress.ranges_done.fetch_add(ranges, Ordering::Relaxed);
    rows
}
