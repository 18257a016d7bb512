//! SHA-256 checks of backup objects against the hashes `backupmeta` lists.
//!
//! Format: `docs/formats.md` §4. An SST's `File.sha256` is the hash of the object
//! *as stored* (the ciphertext when the backup is encrypted), so it is computed on the bytes read
//! before they are decrypted: by the export's scan itself ([`PrefixHasher`]), and checked when the
//! scan ends, before anything is published; a MetaFile leaf's is the hash of its plaintext
//! (checked in `meta`). The key/value checksums (`crc64xor`, `total_kvs`, `total_bytes`) are
//! [`crate::codec::checksum::KvChecksum`]; `docs/integrity.md` says what each field covers.
//!
//! This sits at the left edge of the data flow with `storage` and [`crate::crypter`]: it imports
//! nothing from the crate but [`crate::error`], so every layer can use it.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Bytes read per call while hashing a file.
const READ_CHUNK: usize = 256 * 1024;

/// SHA-256 of the file at `path`, read in chunks (the file is never held in memory).
///
/// # Errors
/// [`Error::Io`] naming `path` when it cannot be opened or read.
pub fn sha256_of_file(path: &Path) -> Result<[u8; 32]> {
    let io_error = |e| Error::io(path.display().to_string(), e);
    let mut file = std::fs::File::open(path).map_err(io_error)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_error(e)),
        };
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok(hasher.finalize().into())
}

/// SHA-256 of a file built from the reads its consumer makes anyway, so that a file scanned in
/// order is read once, not twice (once to hash, once to use).
///
/// Every read passes through [`Self::observe`]; a read that continues the hashed prefix extends
/// it, any other read (an SST's index and meta blocks at the end of the file, read first) is
/// ignored, and [`Self::finish`] reads and hashes whatever the prefix does not cover yet.
#[derive(Clone, Default)]
pub struct PrefixHasher {
    hasher: Sha256,
    /// Bytes `0..hashed` have been hashed.
    hashed: u64,
}

impl PrefixHasher {
    /// A hasher that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes that `bytes` were read at `offset`.
    pub fn observe(&mut self, offset: u64, bytes: &[u8]) {
        let end = offset.saturating_add(bytes.len() as u64);
        if offset > self.hashed || end <= self.hashed {
            return;
        }
        let skip = usize::try_from(self.hashed - offset).unwrap_or(usize::MAX);
        self.hasher.update(bytes.get(skip..).unwrap_or_default());
        self.hashed = end;
    }

    /// The hash of the `len`-byte file, reading the bytes not yet observed with `read_at`.
    ///
    /// # Errors
    /// What `read_at` returns.
    pub fn finish(
        mut self,
        len: u64,
        mut read_at: impl FnMut(u64, &mut [u8]) -> std::io::Result<()>,
    ) -> std::io::Result<[u8; 32]> {
        let mut buf = Vec::new();
        while self.hashed < len {
            let n = usize::try_from(len - self.hashed).map_or(READ_CHUNK, |n| n.min(READ_CHUNK));
            buf.resize(n, 0);
            read_at(self.hashed, &mut buf)?;
            self.hasher.update(&buf);
            self.hashed += n as u64;
        }
        Ok(self.hasher.finalize().into())
    }
}

/// Checks that the file at `path` (the object `name` of the backup) hashes to `expected`, the
/// `sha256` its `File` entry lists. An empty `expected` means the entry lists no hash and
/// passes: callers that require one check for it first.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; otherwise as [`check_sha256`].
pub fn verify_sha256(name: &str, path: &Path, expected: &[u8]) -> Result<()> {
    if expected.is_empty() {
        return Ok(());
    }
    check_sha256(name, expected, &sha256_of_file(path)?)
}

/// Compares a computed hash `actual` of the object `name` with the `expected` one from
/// `backupmeta`, for callers that hash while streaming.
///
/// # Errors
/// [`Error::Integrity`] whose text is `SHA-256 mismatch for <name>: backupmeta says <hex>, file
/// has <hex>` (also when `expected` is not 32 bytes long).
pub fn check_sha256(name: &str, expected: &[u8], actual: &[u8; 32]) -> Result<()> {
    if expected == actual.as_slice() {
        return Ok(());
    }
    Err(Error::Integrity {
        object: format!("SHA-256 mismatch for {name}"),
        message: format!(
            "backupmeta says {}, file has {}",
            hex::encode(expected),
            hex::encode(actual)
        ),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::codec::checksum::KvChecksum;
    use crate::crypter::Crypter;

    /// FIPS 180-2 example: SHA-256("abc").
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn hashes_files_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("abc");
        std::fs::write(&small, b"abc").unwrap();
        assert_eq!(hex::encode(sha256_of_file(&small).unwrap()), ABC);

        // Larger than one read, not a multiple of it.
        let big = dir.path().join("big");
        let data: Vec<u8> = (0..READ_CHUNK * 2 + 12_345)
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(&big, &data).unwrap();
        assert_eq!(
            sha256_of_file(&big).unwrap().as_slice(),
            Sha256::digest(&data).as_slice()
        );

        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(
            hex::encode(sha256_of_file(&empty).unwrap()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn prefix_hasher_hashes_once_whatever_the_read_order() {
        let data: Vec<u8> = (0..READ_CHUNK + 7_000).map(|i| (i % 253) as u8).collect();
        let expected: [u8; 32] = Sha256::digest(&data).into();
        let read_at = |offset: u64, buf: &mut [u8]| {
            let start = offset as usize;
            buf.copy_from_slice(&data[start..start + buf.len()]);
            Ok(())
        };
        // An SST scan: the tail first, then the data from the start in order, with one read
        // overlapping what was hashed and one jumping ahead (left for `finish`).
        let reads: [(usize, usize); 6] = [
            (data.len() - 100, data.len()),
            (0, 1_000),
            (1_000, 5_000),
            (3_000, 9_000),
            (20_000, 30_000),
            (9_000, 12_000),
        ];
        let mut hasher = PrefixHasher::new();
        for (start, end) in reads {
            hasher.observe(start as u64, &data[start..end]);
        }
        assert_eq!(hasher.hashed, 12_000);
        let finished = hasher.finish(data.len() as u64, read_at).unwrap();
        assert_eq!(finished, expected);
        // Nothing observed: `finish` reads it all; an empty file.
        let all = PrefixHasher::new()
            .finish(data.len() as u64, read_at)
            .unwrap();
        assert_eq!(all, expected);
        let empty = PrefixHasher::new().finish(0, read_at).unwrap();
        assert_eq!(empty.as_slice(), Sha256::digest(b"").as_slice());
        // A failing read is returned.
        let failing = |_: u64, _: &mut [u8]| Err(std::io::Error::other("gone"));
        assert!(PrefixHasher::new().finish(10, failing).is_err());
    }

    #[test]
    fn verify_passes_and_names_mismatches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1_2_3_write.sst");
        std::fs::write(&path, b"abc").unwrap();
        let good = hex::decode(ABC).unwrap();
        verify_sha256("1/1_2_3_write.sst", &path, &good).unwrap();
        verify_sha256("1/1_2_3_write.sst", &path, &[]).unwrap();

        let mut bad = good.clone();
        bad[0] ^= 0xff;
        let err = verify_sha256("1/1_2_3_write.sst", &path, &bad).unwrap_err();
        assert!(matches!(err, Error::Integrity { .. }));
        assert_eq!(
            err.to_string(),
            format!(
                "SHA-256 mismatch for 1/1_2_3_write.sst: backupmeta says {}, file has {ABC}",
                hex::encode(&bad)
            )
        );
        let err = check_sha256("x", &[1, 2], &[0; 32]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "SHA-256 mismatch for x: backupmeta says 0102, file has {}",
                "00".repeat(32)
            )
        );
    }

    /// The reader side of BR's attribution (docs/integrity.md): a default-CF entry counts with
    /// its value; a write-CF Put with a short value counts with it, a Delete with an empty value,
    /// and a Put whose value is in the default CF not at all.
    fn recount(source: impl crate::sst::BlockSource, cf: &str) -> KvChecksum {
        use crate::codec::mvcc::{WriteRecord, WriteType};
        let reader = crate::sst::SstReader::open(source).unwrap();
        let mut entries = reader.entries();
        let mut raw = Vec::new();
        let mut sum = KvChecksum::default();
        while let Some(entry) = entries.next().unwrap() {
            crate::codec::decode_data_key(entry.user_key, &mut raw).unwrap();
            if cf == "default" {
                sum.update(&raw, entry.value);
                continue;
            }
            let record = WriteRecord::parse(entry.value).unwrap();
            match (record.write_type, record.short_value) {
                (WriteType::Put, Some(value)) => sum.update(&raw, value),
                (WriteType::Delete, _) => sum.update(&raw, &[]),
                _ => {}
            }
        }
        sum
    }

    /// An SST source that decrypts each block as it is read, as the export's reader will.
    struct Decrypting<'a> {
        stored: &'a [u8],
        crypter: &'a Crypter,
        iv: [u8; 16],
    }

    impl crate::sst::BlockSource for Decrypting<'_> {
        fn len(&self) -> u64 {
            self.stored.len() as u64
        }
        fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
            self.stored.read_exact_at(offset, buf)?;
            self.crypter.apply_keystream_at(&self.iv, offset, buf);
            Ok(())
        }
    }

    fn load(dir: &Path, crypter: Option<&Crypter>) -> Result<crate::meta::Backup> {
        crate::meta::load_backup(
            &mut |name| {
                std::fs::read(dir.join(name))
                    .map(bytes::Bytes::from)
                    .map_err(|e| Error::io(name, e))
            },
            crypter,
        )
    }

    fn table_id(file: &crate::proto::backup::File) -> i64 {
        match crate::codec::parse_tidb_key(&file.start_key).unwrap() {
            crate::codec::TidbKey::Record { table_id, .. }
            | crate::codec::TidbKey::Index { table_id, .. } => table_id,
            other => panic!("{}: unexpected start key {other:?}", file.name),
        }
    }

    /// The test kit's File and Schema checksums are what a reader recounts from the SSTs, and
    /// what BR's fast checksum compares: the XOR/sum over a table's files is its Schema's.
    #[test]
    fn testkit_checksums_match_a_recount_from_the_ssts() {
        let dir = tempfile::tempdir().unwrap();
        let tables = crate::testkit::sample::sample_tables();
        crate::testkit::BackupWriter {
            rows_per_range: 16,
            ..Default::default()
        }
        .write(dir.path(), &tables)
        .unwrap();
        let backup = load(dir.path(), None).unwrap();
        let mut per_table: std::collections::HashMap<i64, KvChecksum> = Default::default();
        let mut default_kvs = 0;
        for file in &backup.files {
            let path = dir.path().join(&file.name);
            verify_sha256(&file.name, &path, &file.sha256).unwrap();
            assert!(file.cipher_iv.is_empty());
            let bytes = std::fs::read(&path).unwrap();
            let recounted = recount(bytes.as_slice(), &file.cf);
            let listed = KvChecksum::new(file.crc64xor, file.total_kvs, file.total_bytes);
            assert_eq!(listed, recounted, "{}", file.name);
            if file.cf == "default" {
                default_kvs += listed.total_kvs;
            }
            per_table.entry(table_id(file)).or_default().merge(listed);
        }
        // Long values live in the default CF and are counted there, not in the write file.
        assert!(default_kvs > 0);
        let mut tables_checked = 0;
        for schema in &backup.schemas {
            let Some(table) = crate::meta::parse_schema(schema).unwrap() else {
                continue;
            };
            let expected: KvChecksum = table
                .physical_ids()
                .iter()
                .filter_map(|id| per_table.get(id).copied())
                .sum();
            let listed = KvChecksum::new(schema.crc64xor, schema.total_kvs, schema.total_bytes);
            assert_eq!(listed, expected, "{}", table.table_name);
            assert!(!listed.is_zero(), "{}", table.table_name);
            tables_checked += 1;
        }
        assert_eq!(tables_checked, tables.len());
    }

    #[test]
    fn encrypted_testkit_backup_decrypts_to_the_plaintext_one() {
        let tables = crate::testkit::sample::sample_tables();
        let key = [0x5au8; 32];
        let crypter = Crypter::new(crate::crypter::CipherMethod::Aes256Ctr, &key).unwrap();
        let plain_dir = tempfile::tempdir().unwrap();
        let enc_dir = tempfile::tempdir().unwrap();
        crate::testkit::BackupWriter::default()
            .write(plain_dir.path(), &tables)
            .unwrap();
        crate::testkit::BackupWriter {
            encryption: Some((crate::crypter::CipherMethod::Aes256Ctr, key.to_vec())),
            ..Default::default()
        }
        .write(enc_dir.path(), &tables)
        .unwrap();

        let err = load(enc_dir.path(), None).unwrap_err().to_string();
        assert!(
            err.contains("pass --crypter.method and --crypter.key"),
            "{err}"
        );
        let plain = load(plain_dir.path(), None).unwrap();
        let encrypted = load(enc_dir.path(), Some(&crypter)).unwrap();
        assert_eq!(encrypted.schemas, plain.schemas);
        assert_eq!(encrypted.files.len(), plain.files.len());
        for (enc, pt) in encrypted.files.iter().zip(&plain.files) {
            assert_eq!(enc.name, pt.name);
            assert_eq!(enc.size, pt.size);
            assert_eq!(enc.crc64xor, pt.crc64xor);
            assert_eq!(enc.total_kvs, pt.total_kvs);
            assert_eq!(enc.cipher_iv.len(), 16);
            assert_ne!(enc.sha256, pt.sha256);

            let path = enc_dir.path().join(&enc.name);
            // File.sha256 is the hash of the stored (encrypted) object.
            verify_sha256(&enc.name, &path, &enc.sha256).unwrap();
            let stored = std::fs::read(&path).unwrap();
            let original = std::fs::read(plain_dir.path().join(&pt.name)).unwrap();
            let iv: [u8; 16] = enc.cipher_iv.clone().try_into().unwrap();
            assert_eq!(crypter.decrypt(&iv, &stored).unwrap(), original);
            assert!(crate::sst::SstReader::open(stored.as_slice()).is_err());
            let source = Decrypting {
                stored: &stored,
                crypter: &crypter,
                iv,
            };
            let listed = KvChecksum::new(enc.crc64xor, enc.total_kvs, enc.total_bytes);
            assert_eq!(recount(source, &enc.cf), listed, "{}", enc.name);
        }
    }

    #[test]
    fn plaintext_testkit_backup_with_ivs_is_byte_identical() {
        // TiKV >= v5.3 sets cipher_iv on every SST of a plaintext backup; BR sets none on leaves.
        let tables = crate::testkit::sample::sample_tables();
        let dir = tempfile::tempdir().unwrap();
        let plain_dir = tempfile::tempdir().unwrap();
        crate::testkit::BackupWriter {
            encryption: Some((crate::crypter::CipherMethod::Plaintext, Vec::new())),
            ..Default::default()
        }
        .write(dir.path(), &tables)
        .unwrap();
        crate::testkit::BackupWriter::default()
            .write(plain_dir.path(), &tables)
            .unwrap();
        let backup = load(dir.path(), None).unwrap();
        let plain = load(plain_dir.path(), None).unwrap();
        for (file, pt) in backup.files.iter().zip(&plain.files) {
            assert_eq!(file.cipher_iv.len(), 16, "{}", file.name);
            assert_eq!(file.sha256, pt.sha256, "{}", file.name);
        }
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let err = verify_sha256("a.sst", Path::new("/nonexistent/a.sst"), &[1; 32]).unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
        assert!(err.to_string().starts_with("/nonexistent/a.sst: "), "{err}");
    }
}
