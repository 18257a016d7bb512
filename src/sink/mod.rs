//! Where record batches go: Parquet files, and the Iceberg metadata that describes them.
//!
//! * [`BatchSink`]: what a job's decoded batches are handed to; [`staged::ParquetSink`] writes
//!   them to Parquet files staged in the output, [`CallbackSink`] to a closure (no storage).
//! * [`exported`]: the one record of a written file, from the sink to the report.
//! * [`layout`]: every object name the export writes.
//! * [`parquet`]: one Parquet file, hashed while written.
//! * [`dictionary`]: which of a file's columns get a dictionary, judged from its first batch.
//! * [`iceberg`]: column statistics, Iceberg v2 tables (`--write-iceberg-table`).
//! * [`manifest`]: the JSON manifest of a run (`--write-iceberg-manifest`).

pub mod dictionary;
pub mod exported;
pub mod iceberg;
pub mod layout;
pub mod manifest;
pub mod parquet;
pub mod staged;

use std::sync::Arc;

use arrow_array::RecordBatch;

use crate::meta::TableSchema;
use crate::Result;

pub use exported::ExportedFile;

/// A batch of one table's rows, as a job hands it to its sink.
#[derive(Debug)]
pub struct TableRows<'a> {
    /// The logical table.
    pub table: &'a Arc<TableSchema>,
    /// The write-CF SST the job first read the table's rows from: it names the table's files.
    pub source_sst: &'a str,
    /// The rows.
    pub batch: RecordBatch,
    /// Zero or invalid dates this batch holds as NULL, by column.
    pub invalid_dates: &'a [(String, u64)],
}

/// Takes the record batches of one job (one or more backed-up ranges), table by table.
///
/// A job calls [`Self::write`] for every batch, [`Self::finish_table`] once a table has no more
/// rows in the job, and [`Self::finish`] at its end.
pub trait BatchSink {
    /// Takes one batch.
    ///
    /// # Errors
    /// Writing or staging a file failed.
    fn write(&mut self, rows: TableRows<'_>) -> Result<()>;

    /// `table` has no more rows in this job: its current file can be finished.
    ///
    /// # Errors
    /// As [`Self::write`].
    fn finish_table(&mut self, table: &TableSchema) -> Result<()>;

    /// The files written since the last call, in the order they were finished.
    ///
    /// # Errors
    /// As [`Self::write`].
    fn finish(&mut self) -> Result<Vec<ExportedFile>>;
}

/// Hands every batch to a closure and writes nothing: the benchmarks' read bound, and a way to
/// get a backup's rows into Arrow without files.
pub struct CallbackSink<F>(pub F);

impl<F: FnMut(&TableSchema, RecordBatch)> BatchSink for CallbackSink<F> {
    fn write(&mut self, rows: TableRows<'_>) -> Result<()> {
        (self.0)(rows.table, rows.batch);
        Ok(())
    }

    fn finish_table(&mut self, _table: &TableSchema) -> Result<()> {
        Ok(())
    }

    fn finish(&mut self) -> Result<Vec<ExportedFile>> {
        Ok(Vec::new())
    }
}
