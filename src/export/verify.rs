//! Stage 3, verify tables: BR's per-table checksum (`Schema.crc64xor/total_kvs/total_bytes`)
//! against the pairs of the table read, attributed to it key by key while scanning, and the
//! keys read per table. (Each SST was already checked against its own `File` checksum, and its
//! `table_metas` when BR recorded them, while it was scanned.)

use std::collections::HashMap;

use crate::batch::BackupKind;
use crate::codec::checksum::KvChecksum;
use crate::meta::TableSchema;
use crate::{Error, Result};

use super::prepare::Run;
use super::report::{ChecksumReport, TableReport};
use super::scan::{JobOutcome, TableKvs};

/// Each table's report (`reports`, as planned) with its keys and checksum verdict; a mismatch is
/// an error.
pub(crate) fn verify_tables(
    run: &Run<'_>,
    mut reports: Vec<TableReport>,
    outcomes: &[JobOutcome],
) -> Result<Vec<TableReport>> {
    let plan = &run.opened.plan;
    let options = run.options;
    // Per logical table: keys by kind and BR's checksum over its pairs, attributed key by key
    // while scanning (so SSTs holding several tables are covered).
    let planned: HashMap<i64, &TableSchema> = plan
        .tables
        .iter()
        .map(|t| (t.table_id, t.as_ref()))
        .collect();
    let mut table_kvs: HashMap<i64, TableKvs> = HashMap::new();
    for outcome in outcomes {
        for (id, kvs) in outcome.table_kvs.iter() {
            let entry = table_kvs.entry(*id).or_default();
            entry.record_kvs += kvs.record_kvs;
            entry.index_kvs += kvs.index_kvs;
            entry.checksum.merge(kvs.checksum);
        }
    }
    for report in &mut reports {
        let kvs = table_kvs.get(&report.table_id).copied().unwrap_or_default();
        report.record_kvs = kvs.record_kvs;
        report.index_kvs = kvs.index_kvs;
        let Some(table) = planned.get(&report.table_id) else {
            continue;
        };
        let expected = KvChecksum::new(table.crc64xor, table.total_kvs, table.total_bytes);
        let actual = kvs.checksum;
        let status = if let Some(shard) = options.shard {
            format!(
                "skipped: shard {shard} holds part of the table; the run that publishes checks it"
            )
            .into()
        } else if !options.verify {
            "skipped: --no-verify".into()
        } else if run.kind == BackupKind::Incremental {
            "skipped: BR records no table checksum for incremental backups".into()
        } else if expected.is_zero() {
            "skipped: the backup recorded no checksum (BR ran with --checksum=false)".into()
        } else if expected != actual {
            return Err(Error::Integrity {
                object: format!("table {}", table.qualified_name()),
                message: format!(
                    "checksum mismatch: backupmeta says {expected}, the SSTs hold {actual}: \
                     keys are missing or corrupt"
                ),
            });
        } else {
            "ok".into()
        };
        report.checksum = Some(ChecksumReport {
            expected,
            actual,
            status,
        });
    }
    Ok(reports)
}
