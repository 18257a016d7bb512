//! One export run, as named stages over one `Run` value (`prepare.rs`):
//!
//! 1. `prepare.rs`: open the backup and the output, plan tables and jobs, pre-flight Iceberg,
//!    find the jobs a previous run finished (`resume.rs`) and this machine's share (`shard.rs`);
//! 2. `jobs.rs`: run the jobs on worker threads, each scanning its ranges (`scan.rs`) into a
//!    [`crate::sink::BatchSink`] (Parquet files written in `staging.rs`'s directory), with
//!    [`progress`];
//! 3. `verify.rs`: check every table against its BR checksum;
//! 4. `publish.rs`: move the staged files into place, `_SUCCESS` last per table (with
//!    `--shards`, `claim.rs` decides which shard does, in a second run over every job);
//! 5. `describe.rs`: Iceberg metadata and the JSON manifest over the published files;
//! 6. [`report`]: what the run did.
//!
//! [`BatchReader`] (`reader.rs`) runs the scan of stage 2 alone, handing batches to a callback;
//! [`dry_run()`] runs the planning of stage 1 alone, reading only metadata.

mod claim;
mod describe;
pub mod dry_run;
mod failpoint;
mod jobs;
mod lease;
mod options;
mod prepare;
pub mod progress;
mod publish;
mod reader;
pub mod report;
mod resume;
mod scan;
mod shard;
mod staging;
mod verify;

use std::time::Instant;

use crate::sink::layout::publish_claim_name;
use crate::Result;

pub use dry_run::{dry_run, DryRunReport};
pub use options::{default_concurrency, ExportOptions, DEFAULT_OUTPUT_PREFIX, DEFAULT_SHARD_LEASE};
pub use progress::ProgressMode;
pub use reader::BatchReader;
use report::{ExportReport, JobResults, ShardPublishing};
pub use shard::Shard;

/// Runs an export.
///
/// # Errors
/// The first error of any stage; nothing is published unless every table was exported and
/// verified.
pub fn run(options: &ExportOptions) -> Result<ExportReport> {
    let started = Instant::now();
    options.validate()?;
    let locations = prepare::Locations::open(options)?;
    let leases = options
        .shard
        .filter(|shard| shard.last_publishes && !options.shard_lease.is_zero())
        .map(|_| lease::Leases::new(&locations.output, &locations.prefix));
    let (mut report, all_keys) = run_stages(options, &locations, leases.as_ref(), None)?;
    if let Some(leases) = &leases {
        // Out of jobs of its own: take over the stale jobs of others until the export is
        // finished or every unfinished job is held by a shard that is alive.
        let mut taken_over = 0;
        // A file of this shard: once its table's `_SUCCESS` lists it, another shard has published
        // the export (and removed the markers the watch looks at).
        let mut witness = report.files.first().cloned();
        while report
            .shard
            .as_ref()
            .is_some_and(|shard| shard.publishing == ShardPublishing::LastShard)
        {
            let published = || match &witness {
                Some(file) => publish::is_published(&locations.output, &locations.prefix, file),
                None => Ok(false),
            };
            let taken = match leases.take_stale(&all_keys, options.shard_lease, &published)? {
                lease::Watch::AllHeld => break,
                lease::Watch::Published => {
                    if let Some(shard) = &mut report.shard {
                        shard.publishing = ShardPublishing::OtherShard {
                            shard: "another shard".into(),
                        };
                    }
                    break;
                }
                lease::Watch::Taken(keys) if keys.is_empty() => continue,
                lease::Watch::Taken(keys) => keys,
                lease::Watch::Finished => Vec::new(),
            };
            taken_over += taken.len() as u64;
            report = run_stages(options, &locations, Some(leases), Some(&taken))?.0;
            if witness.is_none() {
                witness = report.files.first().cloned();
            }
        }
        if let Some(shard) = &mut report.shard {
            shard.taken_over = taken_over;
        }
    }
    let claimed = report
        .shard
        .as_ref()
        .is_some_and(|shard| shard.publishing == ShardPublishing::ThisShard);
    if claimed {
        // This shard found every job finished and holds the claim: it publishes the export as a
        // run without a shard, which resumes every job from its marker.
        let shard = report.shard.take();
        let whole = ExportOptions {
            shard: None,
            ..options.clone()
        };
        report = run_stages(&whole, &locations, None, None)?.0;
        report.shard = shard;
    }
    report.elapsed_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// One run of the stages: every job (or a shard's, or with `taken` the jobs taken over from
/// other shards, whose leases `leases` holds), then, unless this is a shard, checks, publishing
/// and metadata. A `--shards` run that finds every job finished claims the publishing; its
/// report then says [`ShardPublishing::ThisShard`]. Returns the keys of every job of the export
/// too.
fn run_stages(
    options: &ExportOptions,
    locations: &prepare::Locations,
    leases: Option<&lease::Leases<'_>>,
    taken: Option<&[String]>,
) -> Result<(ExportReport, Vec<String>)> {
    let mut run = prepare::Run::prepare(options, locations, leases, taken)?;
    failpoint::wait("jobs");
    let jobs::FinishedJobs { outcomes, resume } = jobs::run_jobs(&run)?;
    let publishing = match options.shard.filter(|shard| shard.last_publishes) {
        Some(shard) => Some(match claim::claim_publishing(&run, shard)? {
            claim::Claim::Unfinished => ShardPublishing::LastShard,
            claim::Claim::Publish => ShardPublishing::ThisShard,
            claim::Claim::Other(shard) => ShardPublishing::OtherShard { shard },
        }),
        None => None,
    };
    let reports = std::mem::take(&mut run.table_reports);
    let tables = verify::verify_tables(&run, reports, &outcomes)?;
    let mut results = JobResults::gather(outcomes);
    if run.publishes() {
        failpoint::wait("publish");
        publish::publish(
            run.output,
            run.prefix,
            &results.files,
            run.identity.end_version,
        )?;
    }
    // A shard's files are not in place yet: nothing may refer to them.
    let described = if run.publishes() {
        describe::describe(&mut run, &mut results.files)?
    } else {
        describe::Described::default()
    };
    if run.publishes() {
        // Only now, so that a run killed while describing is resumed from the published files
        // rather than exported again (their markers point at them).
        run.markers.remove_all()?;
        lease::remove_all(run.output, run.prefix)?;
        // A shard that claimed the publishing and died is finished by this run.
        run.output
            .delete(&publish_claim_name(run.prefix, &run.run_id))?;
    }
    let mut report = ExportReport::assemble(&run, results, resume, tables, described);
    if let (Some(shard), Some(publishing)) = (&mut report.shard, publishing) {
        shard.publishing = publishing;
    }
    // Every file was moved out of staging and no marker is left: the staging directories left
    // empty go with the directory of files being written.
    let all_keys = std::mem::take(&mut run.all_keys);
    drop(run);
    Ok((report, all_keys))
}
