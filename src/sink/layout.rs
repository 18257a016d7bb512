//! Every object name the export writes, made here and nowhere else:
//!
//! ```text
//! <prefix>/<db>/<table>/<write-sst stem>.parquet          a table's file of one job
//! <prefix>/<db>/<table>/<write-sst stem>-partNNNN.parquet  further parts (--target-file-size)
//! <prefix>/<db>/<table>/_SUCCESS                           the table is complete
//! <prefix>/<db>/<table>/metadata/                          its Iceberg metadata
//! <prefix>/iceberg-manifest-<end_version>.json             the JSON manifest
//! <prefix>/_br_parquet_staging/<db>/<table>/...            files until the run is published
//! <prefix>/_br_parquet_staging/.br-parquet-jobs/<key>.json markers of finished jobs
//! ```
//!
//! Database and table names come from the backup, so they are untrusted and may hold anything TiDB
//! allows (unicode, spaces, `/`, `.`). Each path segment is percent-encoded: bytes outside
//! `[A-Za-z0-9_-]` become `%XX` (UTF-8 bytes, uppercase hex). The mapping is reversible
//! ([`decode_segment`]), keeps plain names readable, and can never produce `..` or a separator.

/// Percent-encodes one path segment.
pub fn encode_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    if out.is_empty() {
        // An empty name still needs a directory of its own.
        out.push_str("%00");
    }
    out
}

/// Reverses [`encode_segment`]; `None` if `segment` is not its output.
pub fn decode_segment(segment: &str) -> Option<String> {
    if segment == "%00" {
        return Some(String::new());
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The file stem of a write-CF SST name: directory parts joined with `-`, `_write.sst` removed.
/// TiKV ≥ 6.1 names SSTs `<store>/<region>_<epoch>_<hash>_<ms>_write.sst`; the store directory
/// is kept in the stem (`<store>-<region>_...`) so that files of different stores never collide.
pub fn sst_stem(name: &str) -> String {
    let trimmed = name.trim_start_matches('/');
    let base = trimmed
        .strip_suffix("_write.sst")
        .or_else(|| trimmed.strip_suffix(".sst"))
        .unwrap_or(trimmed);
    base.split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("-")
}

/// The object name of a table's directory, `<prefix>/<db>/<table>`: its Parquet files, its
/// `_SUCCESS` and its Iceberg `metadata/`.
pub fn table_dir(prefix: &str, db: &str, table: &str) -> String {
    join(
        prefix,
        &format!("{}/{}", encode_segment(db), encode_segment(table)),
    )
}

/// The object name of a table's Parquet file made from one backed-up range.
pub fn parquet_object_name(prefix: &str, db: &str, table: &str, write_sst_name: &str) -> String {
    format!(
        "{}/{}.parquet",
        table_dir(prefix, db, table),
        sst_stem(write_sst_name)
    )
}

/// The object name of part `part` of a table's file whose first part is named by
/// [`parquet_object_name`]: the name itself for part 0, `<stem>-partNNNN.parquet` after it (a
/// file split at `--target-file-size`).
pub fn parquet_part_name(first_part: &str, part: u32) -> String {
    match part {
        0 => first_part.to_string(),
        part => format!(
            "{}-part{part:04}.parquet",
            first_part.trim_end_matches(".parquet")
        ),
    }
}

/// The local file name a part is written under until it is finished and staged; unique within
/// one run's directory of files being written.
pub fn partial_file_name(write_sst_name: &str, table_id: i64, part: u32) -> String {
    format!(
        "{}-{table_id}-{part}.parquet.partial",
        sst_stem(write_sst_name)
    )
}

/// The object name of the JSON manifest of a backup (`--write-iceberg-manifest`).
pub fn manifest_object_name(prefix: &str, end_version: u64) -> String {
    join(prefix, &format!("iceberg-manifest-{end_version}.json"))
}

/// Where files wait until every range has been exported and verified; readers of a table's
/// directory never see them (the directory name starts with `_`, which Hive-style readers skip).
pub const STAGING_DIR: &str = "_br_parquet_staging";

/// Prefix of the local directory that holds the files being written, on local output inside
/// [`staging_dir_name`] (so that staging a finished file is a rename). It starts with `.`, which no
/// [`encode_segment`] output does, so it never collides with a staged table's directory.
pub const PARTIAL_DIR_PREFIX: &str = ".br-parquet-partial-";

/// The directory, inside [`staging_dir_name`], of the markers of finished jobs
/// ([`job_marker_name`]). It starts with `.`, like [`PARTIAL_DIR_PREFIX`], so it never collides
/// with a staged database's directory.
pub const JOBS_DIR: &str = ".br-parquet-jobs";

/// The directory, inside [`staging_dir_name`], of the claims of publishing shards
/// ([`publish_claim_name`]); `.`-prefixed like [`JOBS_DIR`].
pub const PUBLISH_DIR: &str = ".br-parquet-publish";
/// The directory of the leases on jobs of a `--shards` export ([`lease_dir_name`]).
pub const LEASES_DIR: &str = ".br-parquet-leases";

/// The name a table's marker of completeness has (Hadoop's convention).
pub const SUCCESS_MARKER: &str = "_SUCCESS";

/// The name of the staging directory under `prefix`.
pub fn staging_dir_name(prefix: &str) -> String {
    join(prefix, STAGING_DIR)
}

/// The directory of the markers of finished jobs under `prefix`.
pub fn jobs_dir_name(prefix: &str) -> String {
    format!("{}/{JOBS_DIR}", staging_dir_name(prefix))
}

/// The object name of the claim of the shard that publishes the export whose run id is
/// `run_id` (`--shards`, `export::shard`): created by exactly one shard, deleted once published.
pub fn publish_claim_name(prefix: &str, run_id: &str) -> String {
    format!("{}/{PUBLISH_DIR}/{run_id}.json", staging_dir_name(prefix))
}

/// The directory of the leases on the job whose key is `key` (`export::lease`), or with an
/// empty `key` of every job's.
pub fn lease_dir_name(prefix: &str, key: &str) -> String {
    let dir = format!("{}/{LEASES_DIR}", staging_dir_name(prefix));
    if key.is_empty() {
        dir
    } else {
        format!("{dir}/{key}")
    }
}

/// The object name of the marker of the finished job whose key is `key` (`export::resume`).
pub fn job_marker_name(prefix: &str, key: &str) -> String {
    format!("{}/{key}.json", jobs_dir_name(prefix))
}

/// The staging name of an output object `name` that lives under `prefix`.
pub fn staging_object_name(prefix: &str, name: &str) -> String {
    let relative = name
        .strip_prefix(prefix)
        .map_or(name, |rest| rest.trim_start_matches('/'));
    format!("{}/{relative}", staging_dir_name(prefix))
}

/// The object name of a table's `_SUCCESS` marker.
pub fn success_marker_name(prefix: &str, db: &str, table: &str) -> String {
    format!("{}/{SUCCESS_MARKER}", table_dir(prefix, db, table))
}

fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_string()
    } else {
        format!("{prefix}/{rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_safe_and_reversible() {
        for name in [
            "orders",
            "my table",
            "a/b",
            "..",
            ".",
            "表格",
            "x%y",
            "",
            "Ünïcode-_9",
        ] {
            let encoded = encode_segment(name);
            assert!(
                !encoded.contains('/') && encoded != ".." && encoded != "." && !encoded.is_empty()
            );
            assert_eq!(
                decode_segment(&encoded).as_deref(),
                Some(name),
                "{name:?} → {encoded}"
            );
        }
        assert_eq!(encode_segment("my table"), "my%20table");
        assert_eq!(encode_segment("表"), "%E8%A1%A8");
        assert_eq!(encode_segment(".."), "%2E%2E");
    }

    #[test]
    fn stems() {
        assert_eq!(
            sst_stem("1/5_2_abcd_1700000000000_write.sst"),
            "1-5_2_abcd_1700000000000"
        );
        assert_eq!(sst_stem("1_5_2_abcd_write.sst"), "1_5_2_abcd");
        assert_eq!(
            parquet_object_name("parquet", "test", "t 1", "1/5_2_write.sst"),
            "parquet/test/t%201/1-5_2.parquet"
        );
        assert_eq!(
            parquet_object_name("", "d", "t", "x_write.sst"),
            "d/t/x.parquet"
        );
        assert_eq!(parquet_part_name("d/t/x.parquet", 0), "d/t/x.parquet");
        assert_eq!(
            parquet_part_name("d/t/x.parquet", 12),
            "d/t/x-part0012.parquet"
        );
        assert_eq!(
            partial_file_name("1/5_2_write.sst", 7, 1),
            "1-5_2-7-1.parquet.partial"
        );
        assert_eq!(table_dir("p", "d b", "t"), "p/d%20b/t");
        assert_eq!(success_marker_name("", "d", "t"), "d/t/_SUCCESS");
        assert_eq!(manifest_object_name("p", 42), "p/iceberg-manifest-42.json");
        assert_eq!(manifest_object_name("", 42), "iceberg-manifest-42.json");
    }

    #[test]
    fn staging_names() {
        assert_eq!(staging_dir_name("p/q"), "p/q/_br_parquet_staging");
        assert_eq!(staging_dir_name(""), "_br_parquet_staging");
        assert_eq!(
            staging_object_name("p", "p/d/t/x.parquet"),
            "p/_br_parquet_staging/d/t/x.parquet"
        );
        assert_eq!(
            staging_object_name("", "d/t/x.parquet"),
            "_br_parquet_staging/d/t/x.parquet"
        );
        assert_eq!(
            job_marker_name("p", "ab12"),
            "p/_br_parquet_staging/.br-parquet-jobs/ab12.json"
        );
        assert_eq!(jobs_dir_name(""), "_br_parquet_staging/.br-parquet-jobs");
        // Neither the directory of files being written nor that of job markers can be mistaken
        // for a database's.
        for ours in [PARTIAL_DIR_PREFIX, JOBS_DIR, PUBLISH_DIR] {
            assert!(ours.starts_with('.'));
            assert!(!encode_segment(ours).starts_with('.'));
        }
    }
}
