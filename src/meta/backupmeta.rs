//! The root object `backupmeta` and the meta-v2 MetaFile index (kvproto `brpb.proto`, spec §2).
//!
//! ```text
//! backupmeta (BackupMeta)              meta v1: files (4), schemas (7), ddls (10, a JSON array)
//!  ├─ file_index   (13) MetaFile ── meta_files[i] ──▶ backupmeta.datafile.NNNNNNNNN  (MetaFile.data_files)
//!  ├─ schema_index (14) MetaFile ── meta_files[i] ──▶ backupmeta.schema.NNNNNNNNN    (MetaFile.schemas)
//!  └─ ddl_indexes  (16) MetaFile ── meta_files[i] ──▶ backupmeta.ddl.NNNNNNNNN       (MetaFile.ddls)
//! ```
//!
//! Both layouts are read regardless of `version`, as BR does (spec §2.8 step 3): BR's v2 writer
//! leaves the v1 lists empty and `ddls` = `[]`, and a v1 backup has no indexes, so the union never
//! duplicates an entry.
//!
//! A MetaFile node whose `meta_files` is empty is itself a leaf; otherwise each entry names an
//! object whose plaintext must match the entry's `sha256` (when set) and `size` (when non-zero),
//! and which decodes as a child MetaFile.
//!
//! Encrypted backups (BR `--crypter.method` other than plaintext, spec §2.8): `backupmeta` is
//! `IV ‖ AES-CTR(plaintext)`, and each MetaFile object is encrypted whole with its entry's
//! `cipher_iv`; the SHA-256 is of the plaintext. Nothing says whether `backupmeta` is encrypted,
//! so the caller passes a [`Crypter`]; a leaf is decrypted when its entry carries a `cipher_iv`
//! (BR leaves it empty in plaintext backups). Like BR, a node that has children contributes only
//! through them. BR writes one level; this reader accepts up to [`MAX_META_DEPTH`] and rejects
//! an object listed twice (which is how a cycle would show).
//!
//! # I/O
//! One `read_object` call for `backupmeta`, then one per MetaFile object reached, sequentially.

use std::collections::HashSet;

use bytes::Bytes;
use prost::Message;
use sha2::{Digest, Sha256};

use crate::crypter::{Crypter, IV_LEN};
use crate::proto::backup::{BackupMeta, File, MetaFile, Schema};
use crate::{Error, Result};

/// Name of the root object, relative to the backup root.
pub const BACKUP_META_OBJECT: &str = "backupmeta";

/// How many MetaFile objects deep the v2 index may nest (BR writes 1).
pub const MAX_META_DEPTH: usize = 8;

/// `BackupMeta.mode` (field 23) for file-copy backups (`BackupMode.FILE`).
const MODE_FILE: i32 = 1;

/// The `backupmeta` layout, from `BackupMeta.version` (field 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaVersion {
    /// `version` 0 (or absent): everything inline in `backupmeta`.
    V1,
    /// `version` 1: files, schemas and DDLs in MetaFile objects reached through indexes.
    V2,
}

impl MetaVersion {
    fn from_field(version: i32) -> Result<Self> {
        match version {
            0 => Ok(MetaVersion::V1),
            1 => Ok(MetaVersion::V2),
            other => Err(Error::Unsupported(format!(
                "{BACKUP_META_OBJECT}: backupmeta version {other} (this release reads 0 = v1 and 1 = v2)"
            ))),
        }
    }
}

/// A decoded backup: the root BackupMeta plus everything reachable through v2 MetaFile indexes.
#[derive(Debug, Clone, PartialEq)]
pub struct Backup {
    /// PD cluster id (field 1).
    pub cluster_id: u64,
    /// Version of the backed-up cluster, e.g. `"8.5.0"` (field 2).
    pub cluster_version: String,
    /// BR build information, several lines (field 11).
    pub br_version: String,
    /// 0 for a full backup; an incremental backup covers (start, end] (field 5).
    pub start_version: u64,
    /// The backup TSO (field 6).
    pub end_version: u64,
    /// The layout `backupmeta` was written in (field 12).
    pub meta_version: MetaVersion,
    /// `kvrpcpb.APIVersion`: 0 = V1, 1 = V1TTL, 2 = V2 (keyspace-prefixed keys) (field 18).
    pub api_version: i32,
    /// Field 20: `"True"`/`"False"`; `None` when empty (backups from before the field existed).
    pub new_collations_enabled: Option<bool>,
    /// Data files: v1 field 4, then the v2 `file_index` leaves, in order.
    pub files: Vec<File>,
    /// Schemas: v1 field 7, then the v2 `schema_index` leaves, in order (empty when loaded by
    /// [`load_backup_with`], which hands them over instead).
    pub schemas: Vec<Schema>,
    /// DDL jobs: the v1 JSON array (field 10), then each v2 `ddl_indexes` element.
    pub ddls: Vec<serde_json::Value>,
    /// SHA-256 of the `backupmeta` object as stored (encrypted or not): names this exact backup
    /// (v2 MetaFile leaves are covered through the SHA-256s it lists), so that a run can tell
    /// whether staged files were made from it.
    pub backupmeta_sha256: [u8; 32],
}

/// Reads a whole backup's metadata.
///
/// `read_object(name)` returns the bytes of an object relative to the backup root; it is
/// called for `backupmeta` and then for each v2 MetaFile object. Its errors are returned as
/// they are, so they should name the object (the storage layer's do).
///
/// `crypter` is BR's `--crypter.*` setting; `None` (or a plaintext crypter) reads a plaintext
/// backup. With an AES crypter, `backupmeta` is decrypted (its first 16 bytes are the IV) and so
/// is every MetaFile object whose entry carries a `cipher_iv`.
///
/// # Errors
/// * [`Error::Unsupported`] for raw-KV (`is_raw_kv`) and transactional-KV (`is_txn_kv`)
///   backups, file-copy backups (`mode` = FILE) and an unknown `version`.
/// * [`Error::Usage`] for an encrypted MetaFile object (a `cipher_iv` on its entry) when no
///   key was given.
/// * [`Error::Meta`] naming the object when it does not decode (after decryption, with a hint
///   that the key is wrong or missing), its SHA-256 or size differs from its index entry, its
///   `cipher_iv` is not 16 bytes, the index nests deeper than [`MAX_META_DEPTH`] or lists an
///   object twice, or a DDL is not JSON.
pub fn load_backup(
    read_object: &mut dyn FnMut(&str) -> Result<Bytes>,
    crypter: Option<&Crypter>,
) -> Result<Backup> {
    let mut schemas = Vec::new();
    let mut backup = load_backup_with(read_object, crypter, &mut |schema| {
        schemas.push(schema);
        Ok(())
    })?;
    backup.schemas = schemas;
    Ok(backup)
}

/// [`load_backup`], handing each schema to `visit_schema` (in backupmeta order) as its object is
/// decoded instead of keeping them: the returned [`Backup::schemas`] is empty. A backup of 100 k
/// tables holds about 250 MB of schema JSON; visited this way, at most one MetaFile leaf of it
/// (BR writes leaves of at most 128 MiB) is in memory at a time.
///
/// # Errors
/// Those of [`load_backup`], and the first error of `visit_schema`.
pub fn load_backup_with(
    read_object: &mut dyn FnMut(&str) -> Result<Bytes>,
    crypter: Option<&Crypter>,
    visit_schema: &mut dyn FnMut(Schema) -> Result<()>,
) -> Result<Backup> {
    let crypter = crypter.filter(|c| c.is_encrypted());
    let root = read_object(BACKUP_META_OBJECT)?;
    let backupmeta_sha256 = Sha256::digest(&root).into();
    let meta = match crypter {
        None => decode_backup_meta(&root)?,
        Some(crypter) => decode_encrypted_backup_meta(&root, crypter)?,
    };
    check_supported(&meta)?;
    let meta_version = MetaVersion::from_field(meta.version)?;
    let new_collations_enabled = parse_new_collations(&meta.new_collations_enabled)?;

    let mut files = meta.files;
    for schema in meta.schemas {
        visit_schema(schema)?;
    }
    let mut ddls = parse_v1_ddls(&meta.ddls)?;

    let mut walker = IndexWalker {
        read_object,
        crypter,
        seen: HashSet::new(),
    };
    if let Some(index) = meta.file_index {
        walker.walk_root("file_index", index, &mut |_, leaf| {
            files.extend(leaf.data_files);
            Ok(())
        })?;
    }
    if let Some(index) = meta.schema_index {
        walker.walk_root("schema_index", index, &mut |_, leaf| {
            leaf.schemas.into_iter().try_for_each(&mut *visit_schema)
        })?;
    }
    if let Some(index) = meta.ddl_indexes {
        walker.walk_root("ddl_indexes", index, &mut |object, leaf| {
            for (i, ddl) in leaf.ddls.iter().enumerate() {
                let job = serde_json::from_slice(ddl).map_err(|e| {
                    Error::meta(object, format!("ddls[{i}] is not a JSON DDL job: {e}"))
                })?;
                ddls.push(job);
            }
            Ok(())
        })?;
    }

    Ok(Backup {
        cluster_id: meta.cluster_id,
        cluster_version: meta.cluster_version,
        br_version: meta.br_version,
        start_version: meta.start_version,
        end_version: meta.end_version,
        meta_version,
        api_version: meta.api_version,
        new_collations_enabled,
        files,
        schemas: Vec::new(),
        ddls,
        backupmeta_sha256,
    })
}

/// Decodes the root object only (the bytes of a plaintext `backupmeta`).
///
/// # Errors
/// [`Error::Meta`] for `backupmeta` when the bytes are empty or are not a `BackupMeta`
/// protobuf: usually not a BR backup, or an encrypted one (nothing in the file says so).
pub fn decode_backup_meta(bytes: &[u8]) -> Result<BackupMeta> {
    if bytes.is_empty() {
        return Err(Error::meta(
            BACKUP_META_OBJECT,
            "the object is empty (0 bytes); BR writes a non-empty backupmeta when a backup finishes",
        ));
    }
    BackupMeta::decode(bytes).map_err(|e| {
        Error::meta(
            BACKUP_META_OBJECT,
            format!(
                "{} bytes do not decode as a BR BackupMeta protobuf ({e}): the file is not a BR \
                 backupmeta, or {}",
                bytes.len(),
                Crypter::plaintext().wrong_key_hint()
            ),
        )
    })
}

/// Decrypts the stored `backupmeta` (`IV ‖ ciphertext`) with `crypter` and decodes it.
fn decode_encrypted_backup_meta(stored: &[u8], crypter: &Crypter) -> Result<BackupMeta> {
    let bytes = crypter.decrypt_backupmeta(stored)?;
    if bytes.is_empty() {
        return Err(Error::meta(
            BACKUP_META_OBJECT,
            format!(
                "the object holds only a {IV_LEN}-byte IV and no encrypted content; BR writes a \
                 non-empty backupmeta when a backup finishes"
            ),
        ));
    }
    BackupMeta::decode(bytes.as_slice()).map_err(|e| {
        Error::meta(
            BACKUP_META_OBJECT,
            format!(
                "{} bytes decrypted with {} do not decode as a BR BackupMeta protobuf ({e}): {}",
                bytes.len(),
                crypter.method(),
                crypter.wrong_key_hint()
            ),
        )
    })
}

/// Rejects backup kinds this release cannot export.
fn check_supported(meta: &BackupMeta) -> Result<()> {
    if meta.is_raw_kv {
        return Err(Error::Unsupported(
            "raw KV backups (is_raw_kv) are not supported yet: this backup holds raw key-value \
             pairs written through the RawKV API, not TiDB tables"
                .to_string(),
        ));
    }
    if meta.is_txn_kv {
        return Err(Error::Unsupported(
            "transactional KV backups (is_txn_kv) are not supported: they hold TxnKV key-value \
             pairs, not TiDB tables"
                .to_string(),
        ));
    }
    match meta.mode {
        0 => Ok(()),
        MODE_FILE => Err(Error::Unsupported(
            "file-copy backups (BackupMeta.mode = FILE) are not supported: their SSTs are \
             whole-region copies that need range filtering; take a SCAN-mode backup instead"
                .to_string(),
        )),
        other => Err(Error::Unsupported(format!(
            "{BACKUP_META_OBJECT}: backup mode {other} (this release reads SCAN = 0)"
        ))),
    }
}

/// Field 20 is written as `"True"`/`"False"`; old backups leave it empty.
fn parse_new_collations(value: &str) -> Result<Option<bool>> {
    let value = value.trim();
    if value.is_empty() {
        Ok(None)
    } else if value.eq_ignore_ascii_case("true") {
        Ok(Some(true))
    } else if value.eq_ignore_ascii_case("false") {
        Ok(Some(false))
    } else {
        Err(Error::meta(
            BACKUP_META_OBJECT,
            format!("new_collations_enabled is {value:?}; expected \"True\", \"False\" or empty"),
        ))
    }
}

/// Field 10: a JSON array of DDL jobs (`[]` for full backups; empty in very old ones).
fn parse_v1_ddls(bytes: &[u8]) -> Result<Vec<serde_json::Value>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    match serde_json::from_slice(bytes) {
        Ok(serde_json::Value::Array(jobs)) => Ok(jobs),
        Ok(other) => Err(Error::meta(
            BACKUP_META_OBJECT,
            format!(
                "ddls is JSON but not an array (found {})",
                json_kind(&other)
            ),
        )),
        Err(e) => Err(Error::meta(
            BACKUP_META_OBJECT,
            format!("ddls ({} bytes) is not a JSON array: {e}", bytes.len()),
        )),
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Walks one v2 index, reading MetaFile objects through the caller's closure.
struct IndexWalker<'a> {
    read_object: &'a mut dyn FnMut(&str) -> Result<Bytes>,
    /// The key of an encrypted backup (never a plaintext crypter).
    crypter: Option<&'a Crypter>,
    /// Every object read during this load: one listed twice is a cycle or a duplicate.
    seen: HashSet<String>,
}

impl IndexWalker<'_> {
    /// Visits the leaves of the index root `index` (a field of `backupmeta`).
    fn walk_root(
        &mut self,
        index: &str,
        root: MetaFile,
        visit: &mut dyn FnMut(&str, MetaFile) -> Result<()>,
    ) -> Result<()> {
        self.walk(index, BACKUP_META_OBJECT, root, 0, visit)
    }

    /// Visits the leaves under `node`, which was decoded from `object` (`backupmeta` for an
    /// index root) at `depth` objects below `backupmeta`. `visit` gets the leaf's object name.
    fn walk(
        &mut self,
        index: &str,
        object: &str,
        node: MetaFile,
        depth: usize,
        visit: &mut dyn FnMut(&str, MetaFile) -> Result<()>,
    ) -> Result<()> {
        if node.meta_files.is_empty() {
            return visit(object, node);
        }
        for (i, entry) in node.meta_files.into_iter().enumerate() {
            let child = self.read_child(index, object, i, &entry, depth + 1)?;
            self.walk(index, &entry.name, child, depth + 1, visit)?;
        }
        Ok(())
    }

    /// Reads, verifies and decodes the object `entry` names (entry `i` of `parent`'s
    /// `meta_files`), which sits `depth` objects below `backupmeta`.
    fn read_child(
        &mut self,
        index: &str,
        parent: &str,
        i: usize,
        entry: &File,
        depth: usize,
    ) -> Result<MetaFile> {
        let name = entry.name.as_str();
        if name.is_empty() {
            return Err(Error::meta(
                parent,
                format!("{index}: meta_files[{i}] has an empty object name"),
            ));
        }
        if depth > MAX_META_DEPTH {
            return Err(Error::meta(
                name,
                format!(
                    "{index} nests MetaFile objects deeper than {MAX_META_DEPTH} levels \
                     (listed by {parent}); BR writes one level"
                ),
            ));
        }
        if !self.seen.insert(name.to_string()) {
            return Err(Error::meta(
                name,
                format!(
                    "listed twice in the MetaFile indexes (again by {parent}, {index}); \
                     the index has a cycle or a duplicate entry"
                ),
            ));
        }
        let crypter = if entry.cipher_iv.is_empty() {
            None
        } else {
            if entry.cipher_iv.len() != IV_LEN {
                return Err(Error::meta(
                    parent,
                    format!(
                        "{index}: meta_files[{i}] ({name}) has a {}-byte cipher_iv; AES-CTR \
                         needs {IV_LEN} bytes",
                        entry.cipher_iv.len()
                    ),
                ));
            }
            match self.crypter {
                Some(crypter) => Some(crypter),
                None => {
                    return Err(Error::Usage(format!(
                        "{name}: this MetaFile object is encrypted (its {index} entry carries a \
                         cipher_iv): pass --crypter.method and --crypter.key (or \
                         --crypter.key-file) with the key the backup was taken with"
                    )))
                }
            }
        };

        let stored = (self.read_object)(name)?;
        // `size` is the plaintext length; AES-CTR keeps lengths, so it also holds when stored.
        if entry.size != 0 && stored.len() as u64 != entry.size {
            return Err(Error::meta(
                name,
                format!(
                    "size mismatch: {parent} lists {} bytes, the object has {} bytes",
                    entry.size,
                    stored.len()
                ),
            ));
        }
        // Decoded from `Bytes`, so that the schemas' JSON stays in this buffer (not copied).
        let bytes: Bytes = match crypter {
            None => stored,
            Some(crypter) => crypter.decrypt(&entry.cipher_iv, &stored)?.into(),
        };
        // Said after errors that a wrong key causes.
        let hint = crypter.map_or(String::new(), |c| {
            format!(" (after {} decryption: {})", c.method(), c.wrong_key_hint())
        });
        if !entry.sha256.is_empty() {
            let computed = Sha256::digest(&bytes);
            if computed.as_slice() != entry.sha256.as_slice() {
                return Err(Error::meta(
                    name,
                    format!(
                        "SHA-256 mismatch: expected {}, computed {}{hint}",
                        hex::encode(&entry.sha256),
                        hex::encode(computed)
                    ),
                ));
            }
        }
        let len = bytes.len();
        MetaFile::decode(bytes).map_err(|e| {
            Error::meta(
                name,
                format!("{len} bytes do not decode as a MetaFile protobuf ({e}){hint}"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// An in-memory backup root: object name → bytes.
    #[derive(Default)]
    struct Store {
        objects: HashMap<String, Bytes>,
        reads: Vec<String>,
    }

    impl Store {
        fn put(&mut self, name: &str, bytes: Vec<u8>) {
            self.objects.insert(name.to_string(), Bytes::from(bytes));
        }

        /// Stores `leaf` as `name` and returns the index entry BR would write for it.
        fn put_meta_file(&mut self, name: &str, leaf: &MetaFile) -> File {
            let bytes = leaf.encode_to_vec();
            let entry = File {
                name: name.to_string(),
                sha256: Sha256::digest(&bytes).to_vec(),
                size: bytes.len() as u64,
                ..File::default()
            };
            self.put(name, bytes);
            entry
        }

        fn load(&mut self) -> Result<Backup> {
            self.load_with(None)
        }

        fn load_with(&mut self, crypter: Option<&Crypter>) -> Result<Backup> {
            let objects = &self.objects;
            let reads = &mut self.reads;
            load_backup(
                &mut |name: &str| {
                    reads.push(name.to_string());
                    objects
                        .get(name)
                        .cloned()
                        .ok_or_else(|| Error::meta(name, "object not found"))
                },
                crypter,
            )
        }

        /// Encrypts the store as BR does with `crypter`: `backupmeta` gets an IV prefix, every
        /// MetaFile object is encrypted whole with a fresh IV recorded in its index entry
        /// (whose `sha256` and `size` stay those of the plaintext).
        fn encrypt(&mut self, crypter: &Crypter) {
            let mut meta = BackupMeta::decode(self.objects[BACKUP_META_OBJECT].as_ref()).unwrap();
            let mut next_iv = 0u8;
            for index in [
                meta.file_index.as_mut(),
                meta.schema_index.as_mut(),
                meta.ddl_indexes.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                self.encrypt_node(crypter, index, &mut next_iv);
            }
            let iv = [0xa5; IV_LEN];
            let stored = crypter.encrypt_backupmeta(&iv, &meta.encode_to_vec());
            self.put(BACKUP_META_OBJECT, stored);
        }

        fn encrypt_node(&mut self, crypter: &Crypter, node: &mut MetaFile, next_iv: &mut u8) {
            for entry in &mut node.meta_files {
                let mut child = MetaFile::decode(self.objects[&entry.name].as_ref()).unwrap();
                self.encrypt_node(crypter, &mut child, next_iv);
                let plaintext = child.encode_to_vec();
                *next_iv += 1;
                let iv = vec![*next_iv; IV_LEN];
                entry.cipher_iv = iv.clone();
                entry.sha256 = Sha256::digest(&plaintext).to_vec();
                entry.size = plaintext.len() as u64;
                let stored = crypter.encrypt(&iv, &plaintext).unwrap();
                assert_ne!(stored, plaintext);
                self.put(&entry.name, stored);
            }
        }
    }

    fn aes256() -> Crypter {
        Crypter::new(crate::crypter::CipherMethod::Aes256Ctr, &[0x3c; 32]).unwrap()
    }

    fn data_file(name: &str, table_id: u8) -> File {
        File {
            name: name.to_string(),
            sha256: vec![table_id; 32],
            start_key: vec![b't', table_id],
            end_key: vec![b't', table_id + 1],
            cf: if name.ends_with("_default.sst") {
                "default".to_string()
            } else {
                "write".to_string()
            },
            size: 4096,
            total_kvs: 3,
            ..File::default()
        }
    }

    fn schema(table: &str) -> Schema {
        Schema {
            db: br#"{"id":2,"db_name":{"O":"test","L":"test"}}"#.to_vec().into(),
            table: format!(r#"{{"id":110,"name":{{"O":"{table}","L":"{table}"}}}}"#)
                .into_bytes()
                .into(),
            crc64xor: 7,
            total_kvs: 1,
            total_bytes: 22,
            ..Schema::default()
        }
    }

    fn root_v1() -> BackupMeta {
        BackupMeta {
            cluster_id: 6_994_001_234,
            cluster_version: "\"8.5.0\"".to_string(),
            br_version: "BR\nRelease Version: v8.5.0".to_string(),
            end_version: 459_177_129_704_947_714,
            files: vec![
                data_file("1/5_2_aa_default.sst", 10),
                data_file("1/5_2_aa_write.sst", 10),
            ],
            schemas: vec![schema("t1"), schema("t2")],
            ddls: b"[]".to_vec(),
            new_collations_enabled: "True".to_string(),
            ..BackupMeta::default()
        }
    }

    #[test]
    fn v1_round_trip() {
        let root = root_v1();
        let mut store = Store::default();
        store.put(BACKUP_META_OBJECT, root.encode_to_vec());
        let backup = store.load().unwrap();

        assert_eq!(store.reads, vec!["backupmeta".to_string()]);
        assert_eq!(backup.meta_version, MetaVersion::V1);
        assert_eq!(backup.cluster_id, 6_994_001_234);
        assert_eq!(backup.cluster_version, "\"8.5.0\"");
        assert_eq!(backup.br_version, "BR\nRelease Version: v8.5.0");
        assert_eq!(backup.start_version, 0);
        assert_eq!(backup.end_version, 459_177_129_704_947_714);
        assert_eq!(backup.api_version, 0);
        assert_eq!(backup.new_collations_enabled, Some(true));
        assert_eq!(backup.files, root.files);
        assert_eq!(backup.schemas, root.schemas);
        assert!(backup.ddls.is_empty());
        let stored = root.encode_to_vec();
        assert_eq!(
            backup.backupmeta_sha256,
            <[u8; 32]>::from(Sha256::digest(&stored))
        );
    }

    /// A v2 backup: `file_index` → A → {B, C} (two levels), `schema_index` → one leaf,
    /// `ddl_indexes` → one leaf with two jobs.
    fn v2_store() -> (Store, Vec<File>, Vec<Schema>) {
        let mut store = Store::default();
        let files = vec![
            data_file("1/5_2_aa_write.sst", 10),
            data_file("1/5_2_aa_default.sst", 10),
            data_file("2/6_3_bb_write.sst", 11),
            data_file("3/7_4_cc_write.sst", 12),
        ];
        let leaf_b = MetaFile {
            data_files: files[..3].to_vec(),
            ..MetaFile::default()
        };
        let leaf_c = MetaFile {
            data_files: files[3..].to_vec(),
            ..MetaFile::default()
        };
        let entry_b = store.put_meta_file("backupmeta.datafile.000000002", &leaf_b);
        let entry_c = store.put_meta_file("backupmeta.datafile.000000003", &leaf_c);
        let node_a = MetaFile {
            meta_files: vec![entry_b, entry_c],
            ..MetaFile::default()
        };
        let entry_a = store.put_meta_file("backupmeta.metafile.000000001", &node_a);

        let schemas = vec![schema("t1"), schema("t2"), schema("t3")];
        let schema_leaf = MetaFile {
            schemas: schemas.clone(),
            ..MetaFile::default()
        };
        let schema_entry = store.put_meta_file("backupmeta.schema.000000004", &schema_leaf);

        let ddl_leaf = MetaFile {
            ddls: vec![
                br#"{"id":51,"type":3,"query":"CREATE TABLE t3 (a INT)"}"#.to_vec(),
                br#"{"id":52,"type":4}"#.to_vec(),
            ],
            ..MetaFile::default()
        };
        let ddl_entry = store.put_meta_file("backupmeta.ddl.000000005", &ddl_leaf);

        let root = BackupMeta {
            version: 1,
            end_version: 459_177_129_704_947_714,
            start_version: 459_177_000_000_000_000,
            ddls: b"[]".to_vec(),
            file_index: Some(MetaFile {
                meta_files: vec![entry_a],
                ..MetaFile::default()
            }),
            schema_index: Some(MetaFile {
                meta_files: vec![schema_entry],
                ..MetaFile::default()
            }),
            ddl_indexes: Some(MetaFile {
                meta_files: vec![ddl_entry],
                ..MetaFile::default()
            }),
            new_collations_enabled: "False".to_string(),
            api_version: 2,
            ..BackupMeta::default()
        };
        store.put(BACKUP_META_OBJECT, root.encode_to_vec());
        (store, files, schemas)
    }

    #[test]
    fn v2_round_trip_through_nested_index() {
        let (mut store, files, schemas) = v2_store();
        let backup = store.load().unwrap();

        assert_eq!(backup.meta_version, MetaVersion::V2);
        assert_eq!(backup.files, files);
        assert_eq!(backup.schemas, schemas);
        assert_eq!(backup.start_version, 459_177_000_000_000_000);
        assert_eq!(backup.api_version, 2);
        assert_eq!(backup.new_collations_enabled, Some(false));
        assert_eq!(backup.ddls.len(), 2);
        assert_eq!(backup.ddls[0]["id"], 51);
        assert_eq!(backup.ddls[0]["query"], "CREATE TABLE t3 (a INT)");
        assert_eq!(backup.ddls[1]["id"], 52);
        assert_eq!(
            store.reads,
            vec![
                "backupmeta",
                "backupmeta.metafile.000000001",
                "backupmeta.datafile.000000002",
                "backupmeta.datafile.000000003",
                "backupmeta.schema.000000004",
                "backupmeta.ddl.000000005",
            ]
        );
    }

    #[test]
    fn v1_lists_and_v2_indexes_are_both_read() {
        let mut root = root_v1();
        let extra = data_file("9/1_1_ff_write.sst", 20);
        // An index root with no meta_files is itself the leaf.
        root.file_index = Some(MetaFile {
            data_files: vec![extra.clone()],
            ..MetaFile::default()
        });
        root.ddls = br#"[{"id":1},{"id":2}]"#.to_vec();
        root.ddl_indexes = Some(MetaFile {
            ddls: vec![br#"{"id":3}"#.to_vec()],
            ..MetaFile::default()
        });
        let mut store = Store::default();
        store.put(BACKUP_META_OBJECT, root.encode_to_vec());
        let backup = store.load().unwrap();

        let mut expected = root.files.clone();
        expected.push(extra);
        assert_eq!(backup.files, expected);
        let ids: Vec<_> = backup.ddls.iter().map(|job| job["id"].clone()).collect();
        assert_eq!(ids, vec![1, 2, 3]);
        assert_eq!(store.reads, vec!["backupmeta"]);
    }

    #[test]
    fn sha256_mismatch_names_the_object() {
        let (mut store, _, _) = v2_store();
        let name = "backupmeta.datafile.000000003";
        let mut bytes = store.objects[name].to_vec();
        let expected = hex::encode(Sha256::digest(&bytes));
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        let computed = hex::encode(Sha256::digest(&bytes));
        store.put(name, bytes);

        let err = store.load().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{name}: SHA-256 mismatch: expected {expected}, computed {computed}")
        );
    }

    #[test]
    fn size_mismatch_names_the_object() {
        let (mut store, _, _) = v2_store();
        let name = "backupmeta.schema.000000004";
        let mut bytes = store.objects[name].to_vec();
        let listed = bytes.len();
        bytes.push(0);
        store.put(name, bytes);

        let err = store.load().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{name}: size mismatch: backupmeta lists {listed} bytes, the object has {} bytes",
                listed + 1
            )
        );
    }

    #[test]
    fn missing_leaf_error_is_the_readers() {
        let (mut store, _, _) = v2_store();
        store.objects.remove("backupmeta.datafile.000000002");
        let err = store.load().unwrap_err();
        assert_eq!(
            err.to_string(),
            "backupmeta.datafile.000000002: object not found"
        );
    }

    #[test]
    fn undecodable_leaf_names_the_object() {
        let mut store = Store::default();
        let garbage = vec![0xff, 0xff, 0xff];
        let entry = File {
            name: "backupmeta.schema.000000001".to_string(),
            sha256: Sha256::digest(&garbage).to_vec(),
            size: 3,
            ..File::default()
        };
        store.put("backupmeta.schema.000000001", garbage);
        let root = BackupMeta {
            version: 1,
            schema_index: Some(MetaFile {
                meta_files: vec![entry],
                ..MetaFile::default()
            }),
            ..BackupMeta::default()
        };
        store.put(BACKUP_META_OBJECT, root.encode_to_vec());
        let err = store.load().unwrap_err().to_string();
        assert!(
            err.starts_with(
                "backupmeta.schema.000000001: 3 bytes do not decode as a MetaFile protobuf ("
            ),
            "{err}"
        );
    }

    #[test]
    fn encrypted_leaf_without_a_key_is_a_usage_error_and_not_read() {
        let (mut store, _, _) = v2_store();
        let mut root = BackupMeta::decode(store.objects[BACKUP_META_OBJECT].as_ref()).unwrap();
        if let Some(index) = root.schema_index.as_mut() {
            index.meta_files[0].cipher_iv = vec![0x42; 16];
        }
        store.put(BACKUP_META_OBJECT, root.encode_to_vec());

        for crypter in [None, Some(&Crypter::plaintext())] {
            store.reads.clear();
            let err = store.load_with(crypter).unwrap_err();
            assert!(matches!(err, Error::Usage(_)));
            assert_eq!(
                err.to_string(),
                "backupmeta.schema.000000004: this MetaFile object is encrypted (its \
                 schema_index entry carries a cipher_iv): pass --crypter.method and \
                 --crypter.key (or --crypter.key-file) with the key the backup was taken with"
            );
            assert!(!store
                .reads
                .contains(&"backupmeta.schema.000000004".to_string()));
        }
    }

    #[test]
    fn encrypted_v2_backup_reads_like_the_plaintext_one() {
        let (mut store, files, schemas) = v2_store();
        let plain = store.load().unwrap();
        let crypter = aes256();
        store.encrypt(&crypter);
        store.reads.clear();

        let mut backup = store.load_with(Some(&crypter)).unwrap();
        // Only the hash of the object as stored differs.
        assert_eq!(
            backup.backupmeta_sha256,
            <[u8; 32]>::from(Sha256::digest(&store.objects[BACKUP_META_OBJECT]))
        );
        assert_ne!(backup.backupmeta_sha256, plain.backupmeta_sha256);
        backup.backupmeta_sha256 = plain.backupmeta_sha256;
        assert_eq!(backup, plain);
        assert_eq!(backup.files, files);
        assert_eq!(backup.schemas, schemas);
        assert_eq!(store.reads.len(), 6);
        // The stored root starts with the IV and is not a protobuf.
        assert_eq!(store.objects[BACKUP_META_OBJECT][..IV_LEN], [0xa5; IV_LEN]);
    }

    #[test]
    fn encrypted_v1_backup_decrypts_the_root() {
        let crypter = Crypter::new(crate::crypter::CipherMethod::Aes128Ctr, &[9; 16]).unwrap();
        let root = root_v1();
        let mut store = Store::default();
        store.put(
            BACKUP_META_OBJECT,
            crypter.encrypt_backupmeta(&[1; IV_LEN], &root.encode_to_vec()),
        );
        let backup = store.load_with(Some(&crypter)).unwrap();
        assert_eq!(backup.files, root.files);
        assert_eq!(backup.schemas, root.schemas);
    }

    #[test]
    fn encrypted_backup_without_or_with_a_wrong_key_fails_at_backupmeta() {
        let (mut store, _, _) = v2_store();
        store.encrypt(&aes256());
        let stored_len = store.objects[BACKUP_META_OBJECT].len();

        let err = store.load().unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "backupmeta: {stored_len} bytes do not decode as a BR BackupMeta protobuf ("
            )),
            "{err}"
        );
        assert!(
            err.ends_with(
                "the file is not a BR backupmeta, or the backup may be encrypted: pass \
                 --crypter.method and --crypter.key (or --crypter.key-file)"
            ),
            "{err}"
        );

        let wrong = Crypter::new(crate::crypter::CipherMethod::Aes256Ctr, &[0x3d; 32]).unwrap();
        let err = store.load_with(Some(&wrong)).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "backupmeta: {} bytes decrypted with aes256-ctr do not decode as a BR BackupMeta \
                 protobuf (",
                stored_len - IV_LEN
            )),
            "{err}"
        );
        assert!(
            err.ends_with(
                "the backup is encrypted and --crypter.key is wrong, or the backup is not \
                 encrypted"
            ),
            "{err}"
        );
        assert_eq!(store.reads, vec!["backupmeta", "backupmeta"]);
    }

    #[test]
    fn key_given_for_a_plaintext_backup_fails_at_backupmeta() {
        let (mut store, _, _) = v2_store();
        let err = store.load_with(Some(&aes256())).unwrap_err().to_string();
        assert!(
            err.contains("decrypted with aes256-ctr do not decode"),
            "{err}"
        );
        // A plaintext crypter is the same as none.
        store.load_with(Some(&Crypter::plaintext())).unwrap();
    }

    #[test]
    fn encrypted_backupmeta_with_only_an_iv() {
        let mut store = Store::default();
        store.put(BACKUP_META_OBJECT, vec![7; IV_LEN]);
        let err = store.load_with(Some(&aes256())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "backupmeta: the object holds only a 16-byte IV and no encrypted content; BR writes \
             a non-empty backupmeta when a backup finishes"
        );
        store.put(BACKUP_META_OBJECT, vec![7; 5]);
        let err = store.load_with(Some(&aes256())).unwrap_err().to_string();
        assert!(
            err.starts_with("backupmeta: the object has 5 bytes, fewer than the 16-byte IV"),
            "{err}"
        );
    }

    #[test]
    fn tampered_encrypted_leaf_fails_its_plaintext_hash() {
        let (mut store, _, _) = v2_store();
        let crypter = aes256();
        store.encrypt(&crypter);
        let name = "backupmeta.schema.000000004";
        let mut bytes = store.objects[name].to_vec();
        bytes[3] ^= 0x10;
        store.put(name, bytes);
        let err = store.load_with(Some(&crypter)).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{name}: SHA-256 mismatch: expected ")),
            "{err}"
        );
        assert!(
            err.ends_with(
                " (after aes256-ctr decryption: the backup is encrypted and --crypter.key is \
                 wrong, or the backup is not encrypted)"
            ),
            "{err}"
        );
    }

    #[test]
    fn bad_cipher_iv_length_names_the_entry() {
        let (mut store, _, _) = v2_store();
        let crypter = aes256();
        store.encrypt(&crypter);
        let stored = store.objects[BACKUP_META_OBJECT].clone();
        let mut root =
            BackupMeta::decode(crypter.decrypt_backupmeta(&stored).unwrap().as_slice()).unwrap();
        root.ddl_indexes.as_mut().unwrap().meta_files[0].cipher_iv = vec![1; 12];
        store.put(
            BACKUP_META_OBJECT,
            crypter.encrypt_backupmeta(&[2; IV_LEN], &root.encode_to_vec()),
        );
        let err = store.load_with(Some(&crypter)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "backupmeta: ddl_indexes: meta_files[0] (backupmeta.ddl.000000005) has a 12-byte \
             cipher_iv; AES-CTR needs 16 bytes"
        );
    }

    #[test]
    fn cycle_is_detected() {
        let mut store = Store::default();
        // A lists itself: the size/hash cannot match its own encoding, so leave them unset.
        let self_entry = File {
            name: "backupmeta.metafile.000000001".to_string(),
            ..File::default()
        };
        let node = MetaFile {
            meta_files: vec![self_entry.clone()],
            ..MetaFile::default()
        };
        store.put("backupmeta.metafile.000000001", node.encode_to_vec());
        let root = BackupMeta {
            version: 1,
            file_index: Some(MetaFile {
                meta_files: vec![self_entry],
                ..MetaFile::default()
            }),
            ..BackupMeta::default()
        };
        store.put(BACKUP_META_OBJECT, root.encode_to_vec());
        let err = store.load().unwrap_err();
        assert_eq!(
            err.to_string(),
            "backupmeta.metafile.000000001: listed twice in the MetaFile indexes (again by \
             backupmeta.metafile.000000001, file_index); the index has a cycle or a duplicate entry"
        );
    }

    #[test]
    fn depth_is_limited() {
        let mut store = Store::default();
        // A chain of MAX_META_DEPTH + 1 objects, each listing the next; the last is a leaf.
        let mut entry = store.put_meta_file("obj.9", &MetaFile::default());
        for level in (1..=MAX_META_DEPTH).rev() {
            let node = MetaFile {
                meta_files: vec![entry],
                ..MetaFile::default()
            };
            entry = store.put_meta_file(&format!("obj.{level}"), &node);
        }
        let root = BackupMeta {
            version: 1,
            file_index: Some(MetaFile {
                meta_files: vec![entry],
                ..MetaFile::default()
            }),
            ..BackupMeta::default()
        };
        store.put(BACKUP_META_OBJECT, root.encode_to_vec());
        let err = store.load().unwrap_err();
        assert_eq!(
            err.to_string(),
            "obj.9: file_index nests MetaFile objects deeper than 8 levels (listed by obj.8); \
             BR writes one level"
        );
    }

    #[test]
    fn raw_kv_is_unsupported() {
        let mut store = Store::default();
        let root = BackupMeta {
            is_raw_kv: true,
            ..root_v1()
        };
        store.put(BACKUP_META_OBJECT, root.encode_to_vec());
        let err = store.load().unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)));
        assert_eq!(
            err.to_string(),
            "not supported: raw KV backups (is_raw_kv) are not supported yet: this backup holds \
             raw key-value pairs written through the RawKV API, not TiDB tables"
        );
    }

    #[test]
    fn file_mode_is_unsupported() {
        let mut store = Store::default();
        let root = BackupMeta {
            mode: MODE_FILE,
            ..root_v1()
        };
        store.put(BACKUP_META_OBJECT, root.encode_to_vec());
        let err = store.load().unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)));
        assert!(err.to_string().contains("BackupMeta.mode = FILE"), "{err}");
    }

    #[test]
    fn unknown_version_is_unsupported() {
        let mut store = Store::default();
        let root = BackupMeta {
            version: 7,
            ..root_v1()
        };
        store.put(BACKUP_META_OBJECT, root.encode_to_vec());
        let err = store.load().unwrap_err();
        assert_eq!(
            err.to_string(),
            "not supported: backupmeta: backupmeta version 7 (this release reads 0 = v1 and 1 = v2)"
        );
    }

    #[test]
    fn decode_errors_say_what_the_file_is_not() {
        let err = decode_backup_meta(&[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "backupmeta: the object is empty (0 bytes); BR writes a non-empty backupmeta when a \
             backup finishes"
        );
        // Looks like random ciphertext: field 15, wire type 7 (invalid).
        let err = decode_backup_meta(&[0x7f, 0x01, 0x02, 0x03])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("backupmeta: 4 bytes do not decode as a BR BackupMeta protobuf ("),
            "{err}"
        );
        assert!(
            err.ends_with(
                "the file is not a BR backupmeta, or the backup may be encrypted: pass \
                 --crypter.method and --crypter.key (or --crypter.key-file)"
            ),
            "{err}"
        );
    }

    #[test]
    fn new_collations_flag_values() {
        assert_eq!(parse_new_collations("").unwrap(), None);
        assert_eq!(parse_new_collations("True").unwrap(), Some(true));
        assert_eq!(parse_new_collations("false").unwrap(), Some(false));
        assert_eq!(
            parse_new_collations("yes").unwrap_err().to_string(),
            "backupmeta: new_collations_enabled is \"yes\"; expected \"True\", \"False\" or empty"
        );
    }

    #[test]
    fn v1_ddls_must_be_an_array() {
        assert!(parse_v1_ddls(b"").unwrap().is_empty());
        assert_eq!(parse_v1_ddls(b"[{\"id\":9}]").unwrap()[0]["id"], 9);
        assert_eq!(
            parse_v1_ddls(b"{}").unwrap_err().to_string(),
            "backupmeta: ddls is JSON but not an array (found an object)"
        );
        let err = parse_v1_ddls(b"[{").unwrap_err().to_string();
        assert!(
            err.starts_with("backupmeta: ddls (2 bytes) is not a JSON array: "),
            "{err}"
        );
    }

    #[test]
    fn bad_v2_ddl_names_the_leaf_and_element() {
        let mut store = Store::default();
        let leaf = MetaFile {
            ddls: vec![b"{}".to_vec(), b"not json".to_vec()],
            ..MetaFile::default()
        };
        let entry = store.put_meta_file("backupmeta.ddl.000000001", &leaf);
        let root = BackupMeta {
            version: 1,
            ddl_indexes: Some(MetaFile {
                meta_files: vec![entry],
                ..MetaFile::default()
            }),
            ..BackupMeta::default()
        };
        store.put(BACKUP_META_OBJECT, root.encode_to_vec());
        let err = store.load().unwrap_err().to_string();
        assert!(
            err.starts_with("backupmeta.ddl.000000001: ddls[1] is not a JSON DDL job: "),
            "{err}"
        );
    }
}
