//! [`ParquetSink`]: a job's batches written to Parquet files, one per table (split at the target
//! size), each staged in the output as soon as it is finished.
//!
//! A file is written in a local directory (on local output, inside the output's staging
//! directory, so that staging is a rename), then moved under `<prefix>/_br_parquet_staging/`,
//! where it waits until the whole run is verified and published ([`super::layout`]).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;

use super::layout::{
    parquet_object_name, parquet_part_name, partial_file_name, staging_object_name,
};
use super::parquet::{ParquetFileWriter, ParquetOptions};
use super::{BatchSink, ExportedFile, TableRows};
use crate::meta::TableSchema;
use crate::storage::ExternalStorage;
use crate::Result;

/// What every job's Parquet files share: where they go and how they are written.
pub struct ParquetTarget<'a> {
    /// The output storage.
    pub output: &'a ExternalStorage,
    /// Object-name prefix of everything written (trimmed of `/`).
    pub prefix: &'a str,
    /// The local directory files are written in until they are finished.
    pub partial_dir: &'a Path,
    /// Writer settings.
    pub parquet: &'a ParquetOptions,
    /// Footer key-value metadata of every file (the backup's identity); each file adds its
    /// table and source SST.
    pub metadata: &'a [(String, String)],
    /// Finish a file once it has this many bytes, and go on in a new part.
    pub target_file_size: Option<u64>,
    /// Collect per-column statistics of every file (Iceberg metadata, JSON manifest).
    pub column_stats: bool,
}

/// Writes one job's batches; see the module documentation.
pub struct ParquetSink<'a> {
    target: &'a ParquetTarget<'a>,
    tables: HashMap<i64, TableFile>,
    files: Vec<ExportedFile>,
}

/// One table's files in a job.
struct TableFile {
    table: Arc<TableSchema>,
    /// The write-CF SST of the job's first range holding the table: it names the files.
    source_sst: String,
    /// The object name of part 0.
    first_part: String,
    /// Parts finished so far.
    part: u32,
    writer: Option<ParquetFileWriter>,
    /// Invalid dates of the current part (a batch's count goes to the part it starts in).
    invalid_dates: BTreeMap<String, u64>,
}

impl<'a> ParquetSink<'a> {
    /// A sink for one job.
    pub fn new(target: &'a ParquetTarget<'a>) -> Self {
        ParquetSink {
            target,
            tables: HashMap::new(),
            files: Vec::new(),
        }
    }
}

/// Starts the table's next part in the local directory of files being written.
fn create_writer(
    target: &ParquetTarget<'_>,
    file: &TableFile,
    batch: &RecordBatch,
) -> Result<ParquetFileWriter> {
    let path = target.partial_dir.join(partial_file_name(
        &file.source_sst,
        file.table.table_id,
        file.part,
    ));
    let mut metadata = target.metadata.to_vec();
    metadata.push(("tidb.db".into(), file.table.db_name.clone()));
    metadata.push(("tidb.table".into(), file.table.table_name.clone()));
    metadata.push(("tidb.table_id".into(), file.table.table_id.to_string()));
    metadata.push(("br.source_sst".into(), file.source_sst.clone()));
    let mut writer = ParquetFileWriter::create(&path, batch.schema(), target.parquet, metadata)?;
    if target.column_stats {
        writer.collect_column_stats();
    }
    Ok(writer)
}

/// Finishes the table's current part, if any, moves it to staging and records it in `files`.
fn finish_part(
    target: &ParquetTarget<'_>,
    file: &mut TableFile,
    files: &mut Vec<ExportedFile>,
) -> Result<()> {
    let Some(writer) = file.writer.take() else {
        return Ok(());
    };
    let written = writer.finish()?;
    let path = parquet_part_name(&file.first_part, file.part);
    file.part += 1;
    // Staged until the whole run is verified; publishing moves it into place.
    let staged = staging_object_name(target.prefix, &path);
    target.output.move_file(&written.path, &staged)?;
    files.push(ExportedFile {
        path,
        db: file.table.db_name.clone(),
        table: file.table.table_name.clone(),
        table_id: file.table.table_id,
        source_sst: file.source_sst.clone(),
        rows: written.rows,
        size: written.size,
        sha256: written.sha256,
        invalid_dates: std::mem::take(&mut file.invalid_dates),
        stats: written.stats,
        staged: Some(staged),
    });
    Ok(())
}

impl BatchSink for ParquetSink<'_> {
    fn write(&mut self, rows: TableRows<'_>) -> Result<()> {
        let target = self.target;
        let file = self
            .tables
            .entry(rows.table.table_id)
            .or_insert_with(|| TableFile {
                table: rows.table.clone(),
                source_sst: rows.source_sst.to_string(),
                first_part: parquet_object_name(
                    target.prefix,
                    &rows.table.db_name,
                    &rows.table.table_name,
                    rows.source_sst,
                ),
                part: 0,
                writer: None,
                invalid_dates: BTreeMap::new(),
            });
        for (column, count) in rows.invalid_dates {
            *file.invalid_dates.entry(column.clone()).or_default() += count;
        }
        let batch = rows.batch;
        // With a target size, write in row-group slices (zero-copy) so a file can end between them.
        let step = match target.target_file_size {
            Some(_) => target.parquet.row_group_rows.max(1),
            None => batch.num_rows().max(1),
        };
        let mut offset = 0;
        while offset < batch.num_rows() {
            let len = step.min(batch.num_rows() - offset);
            let slice = batch.slice(offset, len);
            offset += len;
            if file.writer.is_none() {
                file.writer = Some(create_writer(target, file, &slice)?);
            }
            let Some(writer) = file.writer.as_mut() else {
                continue;
            };
            writer.write(&slice)?;
            if target
                .target_file_size
                .is_some_and(|size| writer.bytes_written() >= size)
            {
                finish_part(target, file, &mut self.files)?;
            }
        }
        Ok(())
    }

    fn finish_table(&mut self, table: &TableSchema) -> Result<()> {
        if let Some(mut file) = self.tables.remove(&table.table_id) {
            finish_part(self.target, &mut file, &mut self.files)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<Vec<ExportedFile>> {
        let mut open: Vec<i64> = self.tables.keys().copied().collect();
        open.sort_unstable();
        for table_id in open {
            if let Some(mut file) = self.tables.remove(&table_id) {
                finish_part(self.target, &mut file, &mut self.files)?;
            }
        }
        let mut files = std::mem::take(&mut self.files);
        // Kept until the run publishes, one vector per job: most hold one file.
        files.shrink_to_fit();
        Ok(files)
    }
}
