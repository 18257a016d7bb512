//! Stage 5, describe: once every Parquet file is in place, the Iceberg metadata
//! (`--write-iceberg-table`) and the JSON manifest (`--write-iceberg-manifest`) that refer to
//! them, so that nothing ever refers to a file that is not there.

use crate::sink::iceberg::{IcebergTableReport, StatsAfterCommit};
use crate::sink::manifest::write_manifest;
use crate::sink::ExportedFile;
use crate::Result;

use super::failpoint;
use super::prepare::Run;

/// What describing wrote.
#[derive(Debug, Default)]
pub(crate) struct Described {
    /// The Iceberg table versions written, one per table.
    pub iceberg_tables: Vec<IcebergTableReport>,
    /// The object name of the JSON manifest.
    pub manifest: Option<String>,
}

/// Commits the Iceberg tables prepared in `run` and writes the manifest, over `files`. Without
/// the manifest, each file's column statistics are released once its table is committed.
pub(crate) fn describe(run: &mut Run<'_>, files: &mut [ExportedFile]) -> Result<Described> {
    failpoint::hit("describe");
    let stats = if run.options.write_iceberg_manifest {
        StatsAfterCommit::Keep
    } else {
        StatsAfterCommit::Release
    };
    let iceberg_tables = match run.iceberg.take() {
        Some(writer) if writer.has_catalog() => {
            failpoint::wait("catalog-commit");
            writer.commit(files, stats, || failpoint::hit("iceberg-table"))?
        }
        Some(writer) => writer.commit(files, stats, || failpoint::hit("iceberg-table"))?,
        None => Vec::new(),
    };
    let manifest = if run.options.write_iceberg_manifest {
        Some(write_manifest(
            run.output,
            run.prefix,
            run.partial.path(),
            &run.identity,
            &run.table_inputs,
            files,
            &iceberg_tables,
        )?)
    } else {
        None
    };
    Ok(Described {
        iceberg_tables,
        manifest,
    })
}
