//! The export plan: which tables to export and which SST pairs hold their rows.
//!
//! TiKV writes up to two SSTs per backed-up range, sharing one name stem (spec §1.2):
//!
//! ```text
//! <stem>_write.sst     write CF: one MVCC write record per key (short values inline)
//! <stem>_default.sst   default CF: row values too long to inline (only when there are any)
//! ```
//!
//! Each `File` carries the raw key range it covers, `[start_key, end_key)` (§2.2). Every key of
//! a physical table `p` (record keys `_r`, index keys `_i`) starts with `'t' ‖ cmp_int64(p)`
//! (§5.1–5.3), optionally behind an API-V2 keyspace prefix `'x' ‖ 3 bytes` (§5.4), so a range
//! may hold keys of `p` exactly when it overlaps `[t‖p, t‖p+1)`. BR's own grouping
//! (`tablecodec.DecodeTableID(start_key)`) only looks at the start key; a range can reach into
//! later tables, so every overlapping exported id is listed. Index-only ranges stay in the plan:
//! the exporter reads them and counts their keys as skipped.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::meta::backupmeta::Backup;
use crate::meta::filter::TableFilter;
use crate::meta::schema::{parse_schema, TableSchema};
use crate::proto::backup::File;
use crate::{Error, Result};

/// Column family of row MVCC records.
const CF_WRITE: &str = "write";
/// Column family of long row values.
const CF_DEFAULT: &str = "default";

/// Everything an export run needs from the metadata.
#[derive(Debug, Clone)]
pub struct ExportPlan {
    /// The tables the filter selects, in schema order.
    pub tables: Vec<Arc<TableSchema>>,
    /// The tables the filter leaves out, in schema order, each with the reason.
    pub excluded: Vec<ExcludedTable>,
    /// SST pairs holding rows of the selected tables, in backupmeta order of their write-CF
    /// files.
    pub ranges: Vec<RangePlan>,
    /// Data files that hold no row of an exported table, each with the reason.
    pub skipped_files: Vec<SkippedFile>,
}

impl ExportPlan {
    /// Physical id → table, for the ids in [`TableSchema::physical_ids`].
    pub fn tables_by_physical_id(&self) -> HashMap<i64, Arc<TableSchema>> {
        self.tables
            .iter()
            .flat_map(|table| {
                table
                    .physical_ids()
                    .into_iter()
                    .map(move |id| (id, Arc::clone(table)))
            })
            .collect()
    }
}

/// One backed-up range: a write-CF SST and its optional default-CF twin.
#[derive(Debug, Clone, PartialEq)]
pub struct RangePlan {
    /// The write-CF file.
    pub write: File,
    /// The default-CF file with the same stem, when TiKV wrote one (boxed: many ranges have
    /// none, and a backup may plan a million ranges).
    pub default: Option<Box<File>>,
    /// File name without `_write.sst`, directory parts kept (e.g. `1/5_2_ab..`).
    pub stem: String,
    /// Exported physical ids whose keys (`t‖id…`) overlap `[start_key, end_key)`, ascending.
    pub table_ids: Vec<i64>,
}

/// A table the filter leaves out.
#[derive(Debug, Clone)]
pub struct ExcludedTable {
    /// The table.
    pub table: Arc<TableSchema>,
    /// The filter's decision in words: the rule that excluded it, or that no rule matched.
    pub reason: String,
}

/// A data file left out of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFile {
    /// `File.name`.
    pub name: String,
    /// Why it holds nothing to export.
    pub reason: String,
}

/// Builds the plan from a loaded backup, exporting the tables `filter` selects.
///
/// Parses every schema (views, sequences and database-only entries hold no rows); selects
/// tables with `filter` (a partitioned table's partitions follow it); pairs each write-CF file
/// with the default-CF file of the same stem (by name, not by position); maps each pair's key
/// range to the selected physical ids it overlaps. Pairs overlapping none (only tables the filter
/// excludes, a table without a schema in the backup, global-index ranges of partitioned tables,
/// non-table keys) go to `skipped_files` with a reason: they are never read.
///
/// # Errors
/// * a schema that does not parse ([`parse_schema`]);
/// * two tables claiming one physical id;
/// * a default-CF file without a write-CF twin (its values cannot be exported, and dropping it
///   silently would lose rows), or two files with the same stem and column family;
/// * [`Error::Unsupported`] for a column family other than `write`/`default`.
pub fn build_plan(backup: &Backup, filter: &TableFilter) -> Result<ExportPlan> {
    let mut all_tables = Vec::new();
    for schema in &backup.schemas {
        if let Some(table) = parse_schema(schema)? {
            all_tables.push(Arc::new(table));
        }
    }
    build_plan_of(backup, all_tables, filter)
}

/// [`build_plan`] over the backup's tables parsed already (by [`parse_schema`], in backupmeta
/// order, as [`super::load_backup_with`] hands them over); `backup.schemas` is not read.
///
/// # Errors
/// Those of [`build_plan`] but the schemas'.
pub fn build_plan_of(
    backup: &Backup,
    all_tables: Vec<Arc<TableSchema>>,
    filter: &TableFilter,
) -> Result<ExportPlan> {
    // Built over every table, so that two tables claiming one id fail whatever is selected.
    let all = TableIndex::new(&all_tables)?;
    let mut tables = Vec::new();
    let mut excluded = Vec::new();
    for table in all_tables {
        let decision = filter.decide(&table.db_name_in_backup, &table.table_name);
        if decision.included {
            tables.push(table);
        } else {
            let reason = decision.to_string();
            excluded.push(ExcludedTable { table, reason });
        }
    }
    let index = TableIndex::new(&tables)?;

    let mut writes: Vec<(&File, String)> = Vec::new();
    let mut defaults: HashMap<String, &File> = HashMap::new();
    let mut write_stems: HashSet<String> = HashSet::new();
    for file in &backup.files {
        let (cf, stem) = column_family_and_stem(file)?;
        match cf {
            Cf::Write => {
                if !write_stems.insert(stem.clone()) {
                    return Err(duplicate_stem(file, &stem, CF_WRITE));
                }
                writes.push((file, stem));
            }
            Cf::Default => {
                if defaults.insert(stem.clone(), file).is_some() {
                    return Err(duplicate_stem(file, &stem, CF_DEFAULT));
                }
            }
        }
    }
    // Match by stem; report orphans in backupmeta order.
    if let Some(orphan) = backup.files.iter().find(|file| {
        matches!(column_family_and_stem(file), Ok((Cf::Default, stem)) if !write_stems.contains(&stem))
    }) {
        return Err(Error::meta(
            orphan.name.as_str(),
            "default-CF SST has no write-CF twin with the same stem in backupmeta; its values \
             cannot be exported without the write records that point at them",
        ));
    }

    let mut ranges = Vec::with_capacity(writes.len());
    let mut skipped_files = Vec::new();
    for (write, stem) in writes {
        let default = defaults.remove(&stem).cloned().map(Box::new);
        let table_ids = index.overlapping(&write.start_key, &write.end_key);
        if table_ids.is_empty() {
            let left_out = all.overlapping(&write.start_key, &write.end_key);
            let reason = if left_out.is_empty() {
                index.skip_reason(&write.start_key, &write.end_key)
            } else {
                excluded_reason(&excluded, &left_out)
            };
            for file in std::iter::once(write).chain(default.as_deref()) {
                skipped_files.push(SkippedFile {
                    name: file.name.clone(),
                    reason: reason.clone(),
                });
            }
            continue;
        }
        ranges.push(RangePlan {
            write: write.clone(),
            default,
            stem,
            table_ids,
        });
    }

    Ok(ExportPlan {
        tables,
        excluded,
        ranges,
        skipped_files,
    })
}

/// Why a range holding only excluded tables (physical ids `ids`) is not read.
fn excluded_reason(excluded: &[ExcludedTable], ids: &[i64]) -> String {
    let mut names: Vec<String> = excluded
        .iter()
        .filter(|e| e.table.physical_ids().iter().any(|id| ids.contains(id)))
        .map(|e| e.table.qualified_name())
        .collect();
    names.dedup();
    format!(
        "holds only tables the filter excludes ({})",
        names.join(", ")
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cf {
    Write,
    Default,
}

/// The file's column family (`File.cf`, or the name suffix when `cf` is empty) and its stem.
fn column_family_and_stem(file: &File) -> Result<(Cf, String)> {
    let name = file.name.as_str();
    let cf = if file.cf.is_empty() {
        [CF_WRITE, CF_DEFAULT]
            .into_iter()
            .find(|cf| name.ends_with(&format!("_{cf}.sst")))
            .unwrap_or("")
    } else {
        file.cf.as_str()
    };
    let parsed = match cf {
        CF_WRITE => Cf::Write,
        CF_DEFAULT => Cf::Default,
        "" => {
            return Err(Error::meta(
                name,
                "data file has no column family (cf is empty and the name does not end in \
                 _write.sst or _default.sst)",
            ))
        }
        other => {
            return Err(Error::Unsupported(format!(
                "{name}: data file of column family {other:?}; only write and default hold \
                 TiDB rows"
            )))
        }
    };
    let stem = name
        .strip_suffix(&format!("_{cf}.sst"))
        .or_else(|| name.strip_suffix(".sst"))
        .unwrap_or(name);
    Ok((parsed, stem.to_string()))
}

fn duplicate_stem(file: &File, stem: &str, cf: &str) -> Error {
    Error::meta(
        file.name.as_str(),
        format!("backupmeta lists two {cf}-CF files with stem {stem}"),
    )
}

/// Exported physical ids, and logical ids of partitioned tables, for range lookups.
struct TableIndex {
    /// Exported physical ids, ascending (the order of their key spaces).
    physical: Vec<i64>,
    /// Logical id of a partitioned table → table (its key range holds only global indexes).
    partitioned: HashMap<i64, Arc<TableSchema>>,
}

impl TableIndex {
    fn new(tables: &[Arc<TableSchema>]) -> Result<Self> {
        let mut owner: HashMap<i64, &Arc<TableSchema>> = HashMap::new();
        let mut partitioned = HashMap::new();
        for table in tables {
            if !table.partitions.is_empty() {
                partitioned.insert(table.table_id, Arc::clone(table));
            }
            for id in table.physical_ids() {
                if let Some(other) = owner.insert(id, table) {
                    return Err(Error::meta(
                        "backupmeta",
                        format!(
                            "physical table id {id} belongs to both {} and {}",
                            other.qualified_name(),
                            table.qualified_name()
                        ),
                    ));
                }
            }
        }
        let mut physical: Vec<i64> = owner.into_keys().collect();
        physical.sort_unstable();
        Ok(TableIndex {
            physical,
            partitioned,
        })
    }

    /// Physical ids whose key space overlaps `[start, end)` (`end` empty = unbounded).
    ///
    /// Key spaces sort like their ids, so the overlapping ids are one run of `physical`: skip
    /// those ending at or before `start`, take those beginning before `end`.
    fn overlapping(&self, start: &[u8], end: &[u8]) -> Vec<i64> {
        let keyspace = keyspace_prefix(start)
            .or_else(|| keyspace_prefix(end))
            .unwrap_or(&[]);
        let first = self
            .physical
            .partition_point(|&id| table_range(keyspace, id).1.as_slice() <= start);
        self.physical
            .iter()
            .skip(first)
            .copied()
            .take_while(|&id| end.is_empty() || table_range(keyspace, id).0.as_slice() < end)
            .collect()
    }

    /// Why a range overlapping no exported table is skipped.
    fn skip_reason(&self, start: &[u8], end: &[u8]) -> String {
        let Some(id) = table_id_of_key(start) else {
            return format!(
                "key range [{}, {}) holds no TiDB row keys",
                hex::encode(start),
                hex::encode(end)
            );
        };
        if let Some(table) = self.partitioned.get(&id) {
            return format!(
                "holds only global-index keys of partitioned table {} (logical id {id}); its rows \
                 live under the partition ids",
                table.qualified_name()
            );
        }
        format!("table id {id} is not in any exported schema")
    }
}

/// `'t'`: first byte of every TiDB table key.
const TABLE_PREFIX: u8 = b't';
/// `'x'`: API-V2 transactional keyspace mode byte, followed by a 3-byte keyspace id.
const KEYSPACE_TXN_PREFIX: u8 = b'x';
/// Length of `'x' ‖ keyspace id`.
const KEYSPACE_PREFIX_LEN: usize = 4;
/// XOR that makes an int64 sort as its big-endian bytes (§5.1 "comparable int64").
const SIGN_MASK: u64 = 1 << 63;

/// The `'x' ‖ 3 bytes` keyspace prefix of an API-V2 key, if any.
fn keyspace_prefix(key: &[u8]) -> Option<&[u8]> {
    match key.get(..KEYSPACE_PREFIX_LEN) {
        Some(prefix) if prefix.first() == Some(&KEYSPACE_TXN_PREFIX) => Some(prefix),
        _ => None,
    }
}

/// The table id of a raw TiDB key: `[keyspace] 't' ‖ cmp_int64(id) ‖ ..`.
fn table_id_of_key(key: &[u8]) -> Option<i64> {
    let key = match keyspace_prefix(key) {
        Some(prefix) => key.get(prefix.len()..)?,
        None => key,
    };
    match key {
        [TABLE_PREFIX, rest @ ..] => {
            let id: [u8; 8] = rest.get(..8)?.try_into().ok()?;
            Some(decode_cmp_i64(id))
        }
        _ => None,
    }
}

fn encode_cmp_i64(value: i64) -> [u8; 8] {
    ((value as u64) ^ SIGN_MASK).to_be_bytes()
}

fn decode_cmp_i64(bytes: [u8; 8]) -> i64 {
    (u64::from_be_bytes(bytes) ^ SIGN_MASK) as i64
}

/// `[keyspace ‖ 't' ‖ cmp(id), keyspace ‖ 't' ‖ cmp(id + 1))`: every key of `id`. The end is
/// the prefix successor of the start, so `i64::MAX` ends at `keyspace ‖ 'u'`.
fn table_range(keyspace: &[u8], id: i64) -> (Vec<u8>, Vec<u8>) {
    let mut lo = Vec::with_capacity(keyspace.len() + 9);
    lo.extend_from_slice(keyspace);
    lo.push(TABLE_PREFIX);
    lo.extend_from_slice(&encode_cmp_i64(id));
    let mut hi = lo.clone();
    while let Some(last) = hi.pop() {
        if last != u8::MAX {
            hi.push(last + 1);
            break;
        }
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build_plan_all(backup: &Backup) -> Result<ExportPlan> {
        build_plan(backup, &TableFilter::br_default())
    }
    use crate::meta::backupmeta::MetaVersion;
    use crate::proto::backup::Schema;

    fn table_key(id: i64) -> Vec<u8> {
        let mut key = vec![TABLE_PREFIX];
        key.extend_from_slice(&encode_cmp_i64(id));
        key
    }

    fn record_key(id: i64, handle: i64) -> Vec<u8> {
        let mut key = table_key(id);
        key.extend_from_slice(b"_r");
        key.extend_from_slice(&encode_cmp_i64(handle));
        key
    }

    fn index_key(id: i64, index_id: i64) -> Vec<u8> {
        let mut key = table_key(id);
        key.extend_from_slice(b"_i");
        key.extend_from_slice(&encode_cmp_i64(index_id));
        key
    }

    fn record_end(id: i64) -> Vec<u8> {
        let mut key = table_key(id);
        key.extend_from_slice(b"_s");
        key
    }

    fn file(name: &str, start: Vec<u8>, end: Vec<u8>) -> File {
        let cf = if name.ends_with("_default.sst") {
            CF_DEFAULT
        } else {
            CF_WRITE
        };
        File {
            name: name.to_string(),
            start_key: start,
            end_key: end,
            cf: cf.to_string(),
            ..File::default()
        }
    }

    fn int_table(id: i64, name: &str, partition: &str) -> Schema {
        let table = format!(
            r#"{{"id":{id},"name":{{"O":"{name}","L":"{name}"}},"cols":[{{"id":1,"name":{{"O":"a","L":"a"}},"offset":0,"type":{{"Tp":3,"Flag":0,"Flen":11}},"state":5}}],"partition":{partition}}}"#
        );
        Schema {
            db: br#"{"id":1,"db_name":{"O":"app","L":"app"}}"#.to_vec().into(),
            table: table.into_bytes().into(),
            ..Schema::default()
        }
    }

    /// `app.a` (10), `app.p` partitioned (20 → 21, 22), `app.c` (30), a view and a db entry.
    fn schemas() -> Vec<Schema> {
        let parts = r#"{"type":1,"enable":true,"definitions":[{"id":21,"name":{"O":"p0","L":"p0"}},{"id":22,"name":{"O":"p1","L":"p1"}}]}"#;
        let view = Schema {
            db: br#"{"id":1,"db_name":{"O":"app","L":"app"}}"#.to_vec().into(),
            table: br#"{"id":40,"name":{"O":"v","L":"v"},"view":{"view_select":"SELECT 1"}}"#
                .to_vec()
                .into(),
            ..Schema::default()
        };
        let empty_db = Schema {
            db: br#"{"id":50,"db_name":{"O":"empty","L":"empty"}}"#.to_vec().into(),
            ..Schema::default()
        };
        vec![
            int_table(10, "a", "null"),
            int_table(20, "p", parts),
            view,
            int_table(30, "c", "null"),
            empty_db,
        ]
    }

    fn backup(files: Vec<File>) -> Backup {
        Backup {
            cluster_id: 1,
            cluster_version: String::new(),
            br_version: String::new(),
            start_version: 0,
            end_version: 100,
            meta_version: MetaVersion::V2,
            api_version: 0,
            new_collations_enabled: Some(true),
            files,
            schemas: schemas(),
            ddls: Vec::new(),
            backupmeta_sha256: [0; 32],
        }
    }

    fn names(files: &[SkippedFile]) -> Vec<(&str, &str)> {
        files
            .iter()
            .map(|f| (f.name.as_str(), f.reason.as_str()))
            .collect()
    }

    #[test]
    fn pairs_by_stem_with_directories() {
        let files = vec![
            // Default listed before its write twin, and a different pair in between.
            file("1/5_2_aa_default.sst", record_key(10, 0), record_end(10)),
            file("2/6_3_bb_write.sst", record_key(21, 5), record_key(21, 9)),
            file("1/5_2_aa_write.sst", record_key(10, 0), record_end(10)),
        ];
        let plan = build_plan_all(&backup(files.clone())).unwrap();

        let tables: Vec<String> = plan.tables.iter().map(|t| t.qualified_name()).collect();
        assert_eq!(tables, vec!["app.a", "app.p", "app.c"]);
        assert_eq!(plan.ranges.len(), 2);
        assert_eq!(
            plan.ranges[0],
            RangePlan {
                write: files[1].clone(),
                default: None,
                stem: "2/6_3_bb".to_string(),
                table_ids: vec![21],
            }
        );
        assert_eq!(
            plan.ranges[1],
            RangePlan {
                write: files[2].clone(),
                default: Some(Box::new(files[0].clone())),
                stem: "1/5_2_aa".to_string(),
                table_ids: vec![10],
            }
        );
        assert!(plan.skipped_files.is_empty());

        let by_id = plan.tables_by_physical_id();
        let mut ids: Vec<i64> = by_id.keys().copied().collect();
        ids.sort_unstable();
        assert_eq!(ids, vec![10, 21, 22, 30]);
        assert_eq!(by_id[&22].table_name, "p");
    }

    #[test]
    fn flat_names_and_cf_from_the_name() {
        let mut write = file(
            "4_9_7_cc_1690000000000_write.sst",
            record_key(30, 1),
            vec![],
        );
        write.cf.clear();
        let mut default = file(
            "4_9_7_cc_1690000000000_default.sst",
            record_key(30, 1),
            vec![],
        );
        default.cf.clear();
        let plan = build_plan_all(&backup(vec![write, default])).unwrap();
        assert_eq!(plan.ranges.len(), 1);
        assert_eq!(plan.ranges[0].stem, "4_9_7_cc_1690000000000");
        assert!(plan.ranges[0].default.is_some());
        // Empty end key: unbounded, but no exported id above 30.
        assert_eq!(plan.ranges[0].table_ids, vec![30]);
    }

    #[test]
    fn default_without_write_twin_is_an_error() {
        let files = vec![
            file("1/5_2_aa_write.sst", record_key(10, 0), record_end(10)),
            file("1/5_2_ab_default.sst", record_key(10, 0), record_end(10)),
        ];
        let err = build_plan_all(&backup(files)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "1/5_2_ab_default.sst: default-CF SST has no write-CF twin with the same stem in \
             backupmeta; its values cannot be exported without the write records that point at them"
        );
    }

    #[test]
    fn duplicate_stems_and_unknown_cf_are_errors() {
        let files = vec![
            file("1/5_2_aa_write.sst", record_key(10, 0), record_end(10)),
            file("1/5_2_aa_write.sst", record_key(10, 0), record_end(10)),
        ];
        assert_eq!(
            build_plan_all(&backup(files)).unwrap_err().to_string(),
            "1/5_2_aa_write.sst: backupmeta lists two write-CF files with stem 1/5_2_aa"
        );

        let mut lock = file("1/5_2_aa_lock.sst", record_key(10, 0), record_end(10));
        lock.cf = "lock".to_string();
        let err = build_plan_all(&backup(vec![lock])).unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)));

        let mut odd = file("odd.bin", record_key(10, 0), record_end(10));
        odd.cf.clear();
        assert_eq!(
            build_plan_all(&backup(vec![odd])).unwrap_err().to_string(),
            "odd.bin: data file has no column family (cf is empty and the name does not end in \
             _write.sst or _default.sst)"
        );
    }

    #[test]
    fn skipped_files_say_why() {
        let files = vec![
            // Index keys only: kept, the exporter counts them.
            file("1/1_2_a2_write.sst", index_key(30, 1), index_key(30, 2)),
            file("1/1_1_a1_write.sst", record_key(99, 0), record_end(99)),
            file("1/1_1_a1_default.sst", record_key(99, 0), record_end(99)),
            file("1/1_3_a3_write.sst", index_key(20, 1), record_end(20)),
            file("1/1_4_a4_write.sst", b"m_meta".to_vec(), b"m_metb".to_vec()),
            file("1/1_5_a5_write.sst", record_key(10, 0), record_end(10)),
        ];
        let plan = build_plan_all(&backup(files)).unwrap();
        let kept: Vec<(&str, Vec<i64>)> = plan
            .ranges
            .iter()
            .map(|r| (r.stem.as_str(), r.table_ids.clone()))
            .collect();
        assert_eq!(kept, vec![("1/1_2_a2", vec![30]), ("1/1_5_a5", vec![10])]);
        assert_eq!(
            names(&plan.skipped_files),
            vec![
                (
                    "1/1_1_a1_write.sst",
                    "table id 99 is not in any exported schema"
                ),
                (
                    "1/1_1_a1_default.sst",
                    "table id 99 is not in any exported schema"
                ),
                (
                    "1/1_3_a3_write.sst",
                    "holds only global-index keys of partitioned table app.p (logical id 20); \
                     its rows live under the partition ids"
                ),
                (
                    "1/1_4_a4_write.sst",
                    "key range [6d5f6d657461, 6d5f6d657462) holds no TiDB row keys"
                ),
            ]
        );
    }

    #[test]
    fn a_range_can_span_several_tables() {
        let files = vec![
            // From a row of table 10 into the middle of table 30's rows.
            file("1/1_1_s1_write.sst", record_key(10, 5), record_key(30, 9)),
            // From table 10's index keys to exactly the first key of table 30 (exclusive).
            file("1/1_2_s2_write.sst", index_key(10, 1), table_key(30)),
            // Unbounded at both ends.
            file("1/1_3_s3_write.sst", Vec::new(), Vec::new()),
            // Ends exactly at the first key of table 21: 21 not included.
            file("1/1_4_s4_write.sst", record_key(10, 7), table_key(21)),
            // Starts at table 30's index keys and ends inside its rows.
            file("1/1_5_s5_write.sst", index_key(30, 1), record_key(30, 0)),
        ];
        let plan = build_plan_all(&backup(files)).unwrap();
        let ids: Vec<Vec<i64>> = plan.ranges.iter().map(|r| r.table_ids.clone()).collect();
        assert_eq!(
            ids,
            vec![
                vec![10, 21, 22, 30],
                vec![10, 21, 22],
                vec![10, 21, 22, 30],
                vec![10],
                vec![30],
            ]
        );
    }

    #[test]
    fn keyspace_prefixed_keys() {
        let ks = [KEYSPACE_TXN_PREFIX, 0, 0, 7];
        let with_ks = |key: Vec<u8>| [ks.as_slice(), key.as_slice()].concat();
        let files = vec![
            file(
                "1/1_1_k1_write.sst",
                with_ks(record_key(22, 0)),
                with_ks(record_end(22)),
            ),
            file(
                "1/1_2_k2_write.sst",
                with_ks(record_key(77, 0)),
                with_ks(record_end(77)),
            ),
        ];
        let plan = build_plan_all(&backup(files)).unwrap();
        assert_eq!(plan.ranges.len(), 1);
        assert_eq!(plan.ranges[0].table_ids, vec![22]);
        assert_eq!(
            names(&plan.skipped_files),
            vec![(
                "1/1_2_k2_write.sst",
                "table id 77 is not in any exported schema"
            )]
        );
    }

    #[test]
    fn physical_id_owned_twice_is_an_error() {
        let mut b = backup(Vec::new());
        b.schemas.push(int_table(
            60,
            "q",
            r#"{"enable":true,"definitions":[{"id":21,"name":{"O":"x","L":"x"}}]}"#,
        ));
        assert_eq!(
            build_plan_all(&b).unwrap_err().to_string(),
            "backupmeta: physical table id 21 belongs to both app.p and app.q"
        );
    }

    #[test]
    fn key_helpers() {
        // §10.2: cmp_int64(−1) and cmp_int64(1).
        assert_eq!(
            encode_cmp_i64(-1),
            [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(encode_cmp_i64(1), [0x80, 0, 0, 0, 0, 0, 0, 1]);
        for id in [i64::MIN, -1, 0, 1, 110, i64::MAX] {
            assert_eq!(decode_cmp_i64(encode_cmp_i64(id)), id);
        }
        // §10.1 item 5: raw key of table 110, handle 1.
        let key = hex::decode("74800000000000006e5f728000000000000001").unwrap();
        assert_eq!(table_id_of_key(&key), Some(110));
        assert_eq!(key, record_key(110, 1));
        assert_eq!(table_id_of_key(b"t\x80"), None);
        assert_eq!(table_id_of_key(b"m_something"), None);
        assert_eq!(table_id_of_key(b""), None);
        assert_eq!(
            table_id_of_key(&[b"x\x00\x00\x01".as_slice(), &key].concat()),
            Some(110)
        );
        let (lo, hi) = table_range(&[], 110);
        assert_eq!(hex::encode(lo), "74800000000000006e");
        assert_eq!(hex::encode(hi), "74800000000000006f");
        let (lo, hi) = table_range(b"x\x00\x00\x07", i64::MAX);
        assert_eq!(hex::encode(lo), "7800000774ffffffffffffffff");
        assert_eq!(hex::encode(hi), "7800000775");
    }
}
