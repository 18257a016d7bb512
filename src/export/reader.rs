//! [`BatchReader`]: a backup's ranges read as Arrow record batches, decoded exactly as an export
//! decodes them, into a [`CallbackSink`] instead of files.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::RecordBatch;

use crate::codec::checksum::KvChecksum;
use crate::meta::{self, TableSchema};
use crate::sink::CallbackSink;
use crate::{Error, Result};

use super::options::ExportOptions;
use super::prepare::OpenedBackup;
use super::scan::{export_job, ScanContext};

/// Reads a backup's ranges as Arrow record batches, decoded exactly as [`super::run`] decodes
/// them (SST scan with the SHA-256 and BR checksum checks `options.verify` asks for, key and MVCC
/// decoding, the default-CF merge join, row decoding, `options.batch` and `options.lenient`), but
/// writes nothing: each batch goes to a callback. This is the read bound of the benchmarks, and a
/// way to get a backup's rows into Arrow without files.
pub struct BatchReader {
    opened: OpenedBackup,
    tables: HashMap<i64, Arc<TableSchema>>,
    options: ExportOptions,
}

impl BatchReader {
    /// Opens the backup at `options.input`; the output options are ignored.
    ///
    /// # Errors
    /// As [`super::run`]'s: the storage, `backupmeta`, or a plan that cannot be made.
    pub fn open(options: &ExportOptions) -> Result<Self> {
        let opened = OpenedBackup::open(options)?;
        let tables = opened.plan.tables_by_physical_id();
        Ok(BatchReader {
            opened,
            tables,
            options: options.clone(),
        })
    }

    /// The ranges (and tables) of the backup.
    pub fn plan(&self) -> &meta::ExportPlan {
        &self.opened.plan
    }

    /// Decodes range `index` of [`Self::plan`], handing each record batch to `on_batch` with its
    /// table. Returns the range's BR checksum over all of its key/value pairs.
    ///
    /// # Errors
    /// As the export's, for this range; an index out of range is a usage error.
    pub fn read_range(
        &self,
        index: usize,
        on_batch: &mut (dyn FnMut(&TableSchema, RecordBatch) + Send),
    ) -> Result<KvChecksum> {
        let range = self.opened.plan.ranges.get(index).ok_or_else(|| {
            Error::Usage(format!(
                "range {index} of a backup of {} ranges",
                self.opened.plan.ranges.len()
            ))
        })?;
        let ctx = ScanContext {
            input: &self.opened.input,
            crypter: self.opened.crypter.clone(),
            tables: &self.tables,
            kind: self.opened.kind(),
            batch: self.options.batch,
            lenient: self.options.lenient,
            verify: self.options.verify,
        };
        let outcome = export_job(&ctx, &[range], &mut CallbackSink(on_batch))?;
        let mut checksum = KvChecksum::default();
        for part in outcome.range_checksums {
            checksum.merge(part);
        }
        Ok(checksum)
    }
}
