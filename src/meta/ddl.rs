//! The DDL jobs of an incremental backup (`backupmeta.ddls`): which tables they created or
//! changed in a way that decides how the backup is applied to its base.
//!
//! A job is TiDB's `model.Job` JSON: `type` (an `ActionType` number), `table_id`, `schema_name`,
//! `table_name`, and `binlog` with the table after the job (`TableInfo`) or, for a batch,
//! `MultipleTableInfos` (`../shared/spec/operations.md` §1; numbers from TiDB's
//! `pkg/meta/model/job.go`, recorded in `docs/meta-notes.md`).

use std::collections::HashSet;

use serde_json::Value;

/// `ActionCreateTable`.
pub const ACTION_CREATE_TABLE: i64 = 3;
/// `ActionDropTable`.
pub const ACTION_DROP_TABLE: i64 = 4;
/// `ActionModifyColumn`.
pub const ACTION_MODIFY_COLUMN: i64 = 12;
/// `ActionRenameTable`.
pub const ACTION_RENAME_TABLE: i64 = 14;
/// `ActionRecoverTable`: a dropped table comes back.
pub const ACTION_RECOVER_TABLE: i64 = 25;
/// `ActionRenameTables`: several tables renamed at once (`binlog.MultipleTableInfos`).
pub const ACTION_RENAME_TABLES: i64 = 47;
/// `ActionCreateTables`: a batch of `CREATE TABLE`s (`binlog.MultipleTableInfos`).
pub const ACTION_CREATE_TABLES: i64 = 60;
/// `ActionMultiSchemaChange`: one `ALTER TABLE` with several changes, `MODIFY COLUMN` among
/// them possibly.
pub const ACTION_MULTI_SCHEMA_CHANGE: i64 = 61;

/// One DDL job, the fields an apply needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdlJob {
    /// `ActionType`.
    pub action: i64,
    /// The table the job ran on (0 for schema-level jobs and batches).
    pub table_id: i64,
    /// The database and table names the job ran on (`schema_name`, `table_name`).
    pub schema_name: String,
    /// See `schema_name`.
    pub table_name: String,
    /// Ids of the tables as they are after the job (`binlog.TableInfo.id`, every
    /// `binlog.MultipleTableInfos[].id`).
    pub tables_after: Vec<i64>,
}

impl DdlJob {
    /// Reads the fields of a job; absent ones are 0 or empty (jobs differ by TiDB version).
    pub fn from_json(job: &Value) -> Self {
        let binlog = &job["binlog"];
        let mut tables_after: Vec<i64> = binlog["MultipleTableInfos"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|info| info["id"].as_i64())
            .collect();
        tables_after.extend(binlog["TableInfo"]["id"].as_i64());
        DdlJob {
            action: job["type"].as_i64().unwrap_or(0),
            table_id: job["table_id"].as_i64().unwrap_or(0),
            schema_name: job["schema_name"].as_str().unwrap_or_default().to_string(),
            table_name: job["table_name"].as_str().unwrap_or_default().to_string(),
            tables_after,
        }
    }

    /// The ids of the tables this job made exist.
    fn created(&self) -> impl Iterator<Item = i64> + '_ {
        let creates = matches!(
            self.action,
            ACTION_CREATE_TABLE | ACTION_RECOVER_TABLE | ACTION_CREATE_TABLES
        );
        creates
            .then(|| std::iter::once(self.table_id).chain(self.tables_after.iter().copied()))
            .into_iter()
            .flatten()
            .filter(|id| *id != 0)
    }
}

/// What the DDL jobs of one backup did, by table id.
#[derive(Debug, Default, Clone)]
pub struct DdlSummary {
    created: HashSet<i64>,
    modified_column: HashSet<i64>,
    renamed: HashSet<i64>,
    dropped: Vec<DroppedTable>,
}

/// A table a `DROP TABLE` job removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedTable {
    /// Database name.
    pub db: String,
    /// Table name.
    pub table: String,
    /// Its table id.
    pub table_id: i64,
}

impl DdlSummary {
    /// Summarizes `jobs` (`Backup::ddls`).
    pub fn new(jobs: &[Value]) -> Self {
        let mut summary = DdlSummary::default();
        for job in jobs.iter().map(DdlJob::from_json) {
            summary.created.extend(job.created());
            if matches!(job.action, ACTION_RENAME_TABLE | ACTION_RENAME_TABLES) {
                summary.renamed.insert(job.table_id);
                summary.renamed.extend(job.tables_after.iter().copied());
            }
            if job.action == ACTION_DROP_TABLE && !job.table_name.is_empty() {
                summary.dropped.push(DroppedTable {
                    db: job.schema_name.clone(),
                    table: job.table_name.clone(),
                    table_id: job.table_id,
                });
            }
            if matches!(
                job.action,
                ACTION_MODIFY_COLUMN | ACTION_MULTI_SCHEMA_CHANGE
            ) {
                summary.modified_column.insert(job.table_id);
            }
        }
        summary
    }

    /// A job created the table with this id.
    pub fn created(&self, table_id: i64) -> bool {
        self.created.contains(&table_id)
    }

    /// A job renamed the table with this id (`RENAME TABLE`, one of `RENAME TABLES`).
    pub fn renamed(&self, table_id: i64) -> bool {
        self.renamed.contains(&table_id)
    }

    /// The tables `DROP TABLE` jobs removed, in job order.
    pub fn dropped(&self) -> &[DroppedTable] {
        &self.dropped
    }

    /// A job ran `MODIFY COLUMN` (alone, or in a multi-change `ALTER TABLE`) on the table with
    /// this id.
    pub fn modified_column(&self, table_id: i64) -> bool {
        self.modified_column.contains(&table_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn created_tables_from_single_and_batch_jobs() {
        let jobs = vec![
            json!({"type": 3, "table_id": 120, "binlog": {"TableInfo": {"id": 120}}}),
            json!({"type": 60, "table_id": 0,
                   "binlog": {"MultipleTableInfos": [{"id": 130}, {"id": 131}]}}),
            json!({"type": 25, "table_id": 140}),
            json!({"type": 12, "table_id": 150}),
            json!({"type": 5, "table_id": 160}),
            json!({"type": 61, "table_id": 170}),
            json!({"type": 4, "table_id": 180, "schema_name": "shop", "table_name": "old"}),
            json!({"type": 14, "table_id": 190}),
            json!({"type": 47, "binlog": {"MultipleTableInfos": [{"id": 191}, {"id": 192}]}}),
        ];
        let summary = DdlSummary::new(&jobs);
        for id in [120, 130, 131, 140] {
            assert!(summary.created(id), "{id}");
        }
        assert!(!summary.created(0));
        assert!(!summary.created(150));
        assert!(summary.modified_column(150));
        assert!(!summary.modified_column(160));
        assert!(summary.modified_column(170));
        for id in [190, 191, 192] {
            assert!(summary.renamed(id), "{id}");
        }
        assert!(!summary.renamed(180));
        assert_eq!(
            summary.dropped(),
            [DroppedTable {
                db: "shop".into(),
                table: "old".into(),
                table_id: 180
            }]
        );
    }

    #[test]
    fn missing_fields_read_as_nothing() {
        let job = DdlJob::from_json(&json!({"query": "ALTER TABLE t ADD INDEX i (a)"}));
        assert_eq!(
            job,
            DdlJob {
                action: 0,
                table_id: 0,
                schema_name: String::new(),
                table_name: String::new(),
                tables_after: vec![]
            }
        );
        assert_eq!(job.created().count(), 0);
    }
}
