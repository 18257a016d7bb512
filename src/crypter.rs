//! BR's backup encryption: `--crypter.method`, `--crypter.key` / `--crypter.key-file`, and
//! AES-CTR over `backupmeta`, MetaFile leaves and SSTs.
//!
//! Format: `docs/formats.md` §3 (AES-CTR over `backupmeta`, leaves and SSTs); the
//! facts checked against BR and TiKV sources are recorded in `docs/integrity.md`.
//!
//! ```text
//! backupmeta        = IV (16 bytes) ‖ AES-CTR(key, IV, BackupMeta protobuf)   (plaintext: no IV)
//! MetaFile leaf     = AES-CTR(key, File.cipher_iv, MetaFile protobuf)         File.sha256 = SHA-256(plaintext)
//! SST               = AES-CTR(key, File.cipher_iv, RocksDB table)             File.sha256 = SHA-256(stored bytes)
//!
//! counter block n   = IV + n   (IV read as one 128-bit big-endian integer, wrapping)
//! byte at offset o  = plaintext[o] ^ AES(key, IV + o / 16)[o % 16]
//! ```
//!
//! AES-CTR has no authentication and nothing in a backup says whether it is encrypted: a wrong or
//! missing key shows only as the first structure that fails to parse (the `backupmeta` protobuf,
//! a leaf's SHA-256, an SST footer's magic). [`Crypter::wrong_key_hint`] is the sentence callers
//! append to such errors.
//!
//! This module sits at the left edge of the data flow with `storage`: it imports nothing from the
//! crate but [`crate::error`].

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use aes::cipher::{BlockCipher, BlockEncrypt, KeyInit, StreamCipher, StreamCipherSeek};
use ctr::cipher::InnerIvInit;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Length of an AES-CTR IV (and of the prefix of an encrypted `backupmeta`).
pub const IV_LEN: usize = 16;

/// Name of the root object whose errors [`Crypter::decrypt_backupmeta`] reports.
const BACKUPMETA: &str = "backupmeta";

/// A BR crypter method (`encryptionpb.EncryptionMethod` as `--crypter.method` spells it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CipherMethod {
    /// No encryption (BR's default).
    Plaintext,
    /// AES-128 in CTR mode (16-byte key).
    Aes128Ctr,
    /// AES-192 in CTR mode (24-byte key).
    Aes192Ctr,
    /// AES-256 in CTR mode (32-byte key).
    Aes256Ctr,
}

impl CipherMethod {
    /// Every method, in `--help` order.
    pub const ALL: [CipherMethod; 4] = [
        CipherMethod::Plaintext,
        CipherMethod::Aes128Ctr,
        CipherMethod::Aes192Ctr,
        CipherMethod::Aes256Ctr,
    ];

    /// The spelling BR documents: `plaintext`, `aes128-ctr`, `aes192-ctr`, `aes256-ctr`.
    pub fn as_str(self) -> &'static str {
        match self {
            CipherMethod::Plaintext => "plaintext",
            CipherMethod::Aes128Ctr => "aes128-ctr",
            CipherMethod::Aes192Ctr => "aes192-ctr",
            CipherMethod::Aes256Ctr => "aes256-ctr",
        }
    }

    /// Key length in bytes (0 for plaintext).
    pub fn key_len(self) -> usize {
        match self {
            CipherMethod::Plaintext => 0,
            CipherMethod::Aes128Ctr => 16,
            CipherMethod::Aes192Ctr => 24,
            CipherMethod::Aes256Ctr => 32,
        }
    }

    /// The `encryptionpb.EncryptionMethod` value (PLAINTEXT = 1 … AES256_CTR = 4).
    pub fn encryption_method(self) -> i32 {
        match self {
            CipherMethod::Plaintext => 1,
            CipherMethod::Aes128Ctr => 2,
            CipherMethod::Aes192Ctr => 3,
            CipherMethod::Aes256Ctr => 4,
        }
    }
}

impl fmt::Display for CipherMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CipherMethod {
    type Err = Error;

    /// Parses a `--crypter.method` value. BR accepts `plaintext`, `aes128-ctr`, `aes192-ctr`,
    /// `aes256-ctr` and their upper-case forms; this also accepts any letter case and `_` for
    /// `-` (the `encryptionpb` enum names, e.g. `AES256_CTR`).
    fn from_str(s: &str) -> Result<Self> {
        let normalized = s.trim().to_ascii_lowercase().replace('_', "-");
        CipherMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == normalized)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "invalid crypter method '{s}' (expected plaintext, aes128-ctr, aes192-ctr or \
                     aes256-ctr)"
                ))
            })
    }
}

/// An expanded AES key; the `aes` crate wipes the round keys when it is dropped.
#[derive(Clone)]
enum AesKey {
    Aes128(aes::Aes128),
    Aes192(aes::Aes192),
    Aes256(aes::Aes256),
}

/// Encrypts and decrypts backup objects with BR's crypter settings.
///
/// Cheap to clone and shareable between threads. `Debug` never shows the key, and the expanded
/// key is zeroed when the last copy is dropped.
#[derive(Clone)]
pub struct Crypter {
    method: CipherMethod,
    /// `None` exactly when `method` is plaintext.
    key: Option<AesKey>,
}

impl fmt::Debug for Crypter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.key.is_some() {
            "<redacted>"
        } else {
            "<none>"
        };
        f.debug_struct("Crypter")
            .field("method", &self.method)
            .field("key", &key)
            .finish()
    }
}

impl Crypter {
    /// A crypter that leaves every object as it is.
    pub fn plaintext() -> Self {
        Crypter {
            method: CipherMethod::Plaintext,
            key: None,
        }
    }

    /// A crypter for `method` with the raw `key` bytes (ignored for plaintext).
    ///
    /// # Errors
    /// [`Error::Usage`] when the key length does not fit the method.
    pub fn new(method: CipherMethod, key: &[u8]) -> Result<Self> {
        if method == CipherMethod::Plaintext {
            return Ok(Crypter::plaintext());
        }
        if key.len() != method.key_len() {
            return Err(Error::Usage(format!(
                "crypter method {method} needs a {}-byte key ({} hex digits); the key given has \
                 {} bytes",
                method.key_len(),
                method.key_len() * 2,
                key.len()
            )));
        }
        let bad_len = || Error::Usage(format!("crypter method {method}: bad key length"));
        let key = match method {
            CipherMethod::Aes128Ctr => {
                AesKey::Aes128(aes::Aes128::new_from_slice(key).map_err(|_| bad_len())?)
            }
            CipherMethod::Aes192Ctr => {
                AesKey::Aes192(aes::Aes192::new_from_slice(key).map_err(|_| bad_len())?)
            }
            CipherMethod::Aes256Ctr => {
                AesKey::Aes256(aes::Aes256::new_from_slice(key).map_err(|_| bad_len())?)
            }
            CipherMethod::Plaintext => return Ok(Crypter::plaintext()),
        };
        Ok(Crypter {
            method,
            key: Some(key),
        })
    }

    /// The crypter BR's flags describe: `--crypter.method`, and for a method other than
    /// plaintext exactly one of `--crypter.key` (hex) or `--crypter.key-file` (a file holding
    /// the hex key). Like BR, a plaintext method ignores the key flags.
    ///
    /// # Errors
    /// [`Error::Usage`] when neither or both key flags are given, the key is not hexadecimal
    /// or has the wrong length; [`Error::Io`] when the key file cannot be read. No message
    /// repeats the key.
    pub fn from_flags(
        method: CipherMethod,
        key_hex: Option<&str>,
        key_file: Option<&Path>,
    ) -> Result<Self> {
        if method == CipherMethod::Plaintext {
            return Ok(Crypter::plaintext());
        }
        let key_hex = key_hex.filter(|k| !k.is_empty());
        let key = match (key_hex, key_file) {
            (Some(hex), None) => parse_key_hex(hex, "--crypter.key")?,
            (None, Some(path)) => read_key_file(path)?,
            _ => {
                return Err(Error::Usage(format!(
                    "--crypter.method {method} needs exactly one of --crypter.key or \
                     --crypter.key-file"
                )))
            }
        };
        Crypter::new(method, &key)
    }

    /// The method.
    pub fn method(&self) -> CipherMethod {
        self.method
    }

    /// Whether objects are encrypted (any method but plaintext).
    pub fn is_encrypted(&self) -> bool {
        self.key.is_some()
    }

    /// What to add to the error of the first structure that fails to parse after this crypter
    /// ran over it: with a key, that the key is probably wrong; without one, that the backup
    /// is probably encrypted.
    pub fn wrong_key_hint(&self) -> &'static str {
        if self.is_encrypted() {
            "the backup is encrypted and --crypter.key is wrong, or the backup is not encrypted"
        } else {
            "the backup may be encrypted: pass --crypter.method and --crypter.key \
             (or --crypter.key-file)"
        }
    }

    /// Applies the keystream of (`iv`, this key) to `buf`, which holds the bytes at `offset..`
    /// of an object: decryption and encryption are the same operation. Any byte range can be
    /// processed on its own, so a reader can decrypt only the blocks it reads. Plaintext leaves
    /// `buf` as it is.
    pub fn apply_keystream_at(&self, iv: &[u8; IV_LEN], offset: u64, buf: &mut [u8]) {
        match &self.key {
            None => {}
            Some(AesKey::Aes128(cipher)) => keystream(cipher, iv, offset, buf),
            Some(AesKey::Aes192(cipher)) => keystream(cipher, iv, offset, buf),
            Some(AesKey::Aes256(cipher)) => keystream(cipher, iv, offset, buf),
        }
    }

    /// Decrypts a whole object encrypted with `iv` (a MetaFile leaf, a stats file, a small SST).
    /// Plaintext and empty objects are returned as they are, as BR does.
    ///
    /// # Errors
    /// [`Error::Meta`] (object `cipher_iv`) when `iv` is not 16 bytes; callers that know the
    /// object should check the IV first to name it.
    pub fn decrypt(&self, iv: &[u8], bytes: &[u8]) -> Result<Vec<u8>> {
        let mut out = bytes.to_vec();
        if self.is_encrypted() && !out.is_empty() {
            let iv = iv_array(iv)?;
            self.apply_keystream_at(&iv, 0, &mut out);
        }
        Ok(out)
    }

    /// Encrypts a whole object with `iv`: the twin of [`decrypt`](Self::decrypt).
    ///
    /// # Errors
    /// As [`decrypt`](Self::decrypt).
    pub fn encrypt(&self, iv: &[u8], bytes: &[u8]) -> Result<Vec<u8>> {
        self.decrypt(iv, bytes)
    }

    /// The plaintext of the `backupmeta` object: its first 16 bytes are the IV of the rest.
    /// Plaintext crypters return the bytes as they are.
    ///
    /// # Errors
    /// [`Error::Meta`] for `backupmeta` when it is shorter than the IV.
    pub fn decrypt_backupmeta(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        if !self.is_encrypted() {
            return Ok(bytes.to_vec());
        }
        let (Some(iv), Some(ciphertext)) = (bytes.get(..IV_LEN), bytes.get(IV_LEN..)) else {
            return Err(Error::meta(
                BACKUPMETA,
                format!(
                    "the object has {} bytes, fewer than the {IV_LEN}-byte IV an encrypted \
                     backupmeta starts with (--crypter.method is {}): {}",
                    bytes.len(),
                    self.method,
                    self.wrong_key_hint()
                ),
            ));
        };
        self.decrypt(iv, ciphertext)
    }

    /// The stored form of a `backupmeta` whose plaintext is `plaintext`: `iv ‖ ciphertext`, or
    /// the plaintext itself for plaintext crypters and empty content (as BR writes it).
    pub fn encrypt_backupmeta(&self, iv: &[u8; IV_LEN], plaintext: &[u8]) -> Vec<u8> {
        if !self.is_encrypted() || plaintext.is_empty() {
            return plaintext.to_vec();
        }
        let mut out = Vec::with_capacity(IV_LEN + plaintext.len());
        out.extend_from_slice(iv);
        out.extend_from_slice(plaintext);
        if let Some(body) = out.get_mut(IV_LEN..) {
            self.apply_keystream_at(iv, 0, body);
        }
        out
    }
}

/// CTR keystream of `cipher` from byte `offset`, XORed into `buf`.
fn keystream<C>(cipher: &C, iv: &[u8; IV_LEN], offset: u64, buf: &mut [u8])
where
    C: BlockCipher
        + BlockEncrypt
        + Clone
        + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>,
{
    let core =
        ctr::CtrCore::<C, ctr::flavors::Ctr128BE>::inner_iv_init(cipher.clone(), &(*iv).into());
    let mut ctr = ctr::Ctr128BE::<C>::from_core(core);
    // With a 128-bit counter neither call can fail: a u64 byte offset is at most 2^60 blocks,
    // and the counter wraps (as TiKV's `Iv::add_offset` and Go's `cipher.NewCTR` do) instead of
    // running out.
    if ctr.try_seek(offset).is_ok() {
        let _ = ctr.try_apply_keystream(buf);
    }
}

/// `iv` as an array, or an error naming its length.
fn iv_array(iv: &[u8]) -> Result<[u8; IV_LEN]> {
    <[u8; IV_LEN]>::try_from(iv).map_err(|_| {
        Error::meta(
            "cipher_iv",
            format!("is {} bytes; AES-CTR needs a {IV_LEN}-byte IV", iv.len()),
        )
    })
}

/// Decodes a hex key given as `flag` (BR: Go's `hex.DecodeString`, either letter case).
fn parse_key_hex(hex: &str, flag: &str) -> Result<Zeroizing<Vec<u8>>> {
    hex::decode(hex.trim()).map(Zeroizing::new).map_err(|e| {
        let reason = match e {
            hex::FromHexError::OddLength => "it has an odd number of digits".to_string(),
            hex::FromHexError::InvalidHexCharacter { index, .. } => {
                format!("character {} is not a hex digit", index + 1)
            }
            other => other.to_string(),
        };
        Error::Usage(format!("{flag} must be a hexadecimal string: {reason}"))
    })
}

/// Reads `--crypter.key-file`: a text file holding the key in hex. BR strips one trailing
/// `\n`; this strips any surrounding ASCII whitespace (so `\r\n` works too).
fn read_key_file(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let content =
        Zeroizing::new(std::fs::read(path).map_err(|e| Error::io(path.display().to_string(), e))?);
    let text = std::str::from_utf8(&content).map_err(|_| {
        Error::Usage(format!(
            "--crypter.key-file {}: the file must hold the key as hexadecimal text",
            path.display()
        ))
    })?;
    parse_key_hex(
        text,
        &format!("the content of --crypter.key-file {}", path.display()),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use aes::cipher::generic_array::GenericArray;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    const NIST_IV: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
    const NIST_PLAINTEXT: &str = "6bc1bee22e409f96e93d7e117393172a\
                                  ae2d8a571e03ac9c9eb76fac45af8e51\
                                  30c81c46a35ce411e5fbc1191a0a52ef\
                                  f69f2445df4f9b17ad2b417be66c3710";

    /// NIST SP 800-38A appendix F.5.1 (CTR-AES128), F.5.3 (CTR-AES192), F.5.5 (CTR-AES256).
    const NIST: [(CipherMethod, &str, &str); 3] = [
        (
            CipherMethod::Aes128Ctr,
            "2b7e151628aed2a6abf7158809cf4f3c",
            "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff\
             5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee",
        ),
        (
            CipherMethod::Aes192Ctr,
            "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
            "1abc932417521ca24f2b0459fe7e6e0b090339ec0aa6faefd5ccc2c6f4ce8e94\
             1e36b26bd1ebc670d1bd1d665620abf74f78a7f6d29809585a97daec58c6b050",
        ),
        (
            CipherMethod::Aes256Ctr,
            "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
            "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5\
             2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6",
        ),
    ];

    #[test]
    fn nist_sp800_38a_ctr_vectors() {
        let iv = unhex(NIST_IV);
        let plaintext = unhex(NIST_PLAINTEXT);
        for (method, key, ciphertext) in NIST {
            let crypter = Crypter::new(method, &unhex(key)).unwrap();
            let ciphertext = unhex(ciphertext);
            assert_eq!(
                crypter.encrypt(&iv, &plaintext).unwrap(),
                ciphertext,
                "{method}"
            );
            assert_eq!(
                crypter.decrypt(&iv, &ciphertext).unwrap(),
                plaintext,
                "{method}"
            );
        }
    }

    #[test]
    fn tidb_aes_ctr_vectors() {
        // pingcap/tidb util/encrypt `TestAESEncryptWithCTR` (the function BR encrypts metadata with).
        let iv = b"1234567890123456";
        let c128 = Crypter::new(CipherMethod::Aes128Ctr, b"1234567890123456").unwrap();
        assert_eq!(
            hex::encode(c128.encrypt(iv, b"pingcap").unwrap()),
            "0515a36bbf3de0"
        );
        assert_eq!(
            hex::encode(c128.encrypt(iv, b"pingcap123").unwrap()),
            "0515a36bbf3de0dbe9dd"
        );
        let c192 = Crypter::new(CipherMethod::Aes192Ctr, b"123456789012345678901234").unwrap();
        assert_eq!(
            hex::encode(c192.encrypt(iv, b"pingcap").unwrap()),
            "45a57592449893"
        );
    }

    #[test]
    fn keystream_at_every_offset_equals_slicing_the_whole() {
        let iv: [u8; IV_LEN] = unhex(NIST_IV).try_into().unwrap();
        let data: Vec<u8> = (0..200u32).map(|i| (i * 37 + 11) as u8).collect();
        for (method, key, _) in NIST {
            let crypter = Crypter::new(method, &unhex(key)).unwrap();
            let whole = crypter.decrypt(&iv, &data).unwrap();
            for start in 0..data.len() {
                for len in [0, 1, 5, 15, 16, 17, 33, data.len() - start] {
                    let end = (start + len).min(data.len());
                    let mut part = data[start..end].to_vec();
                    crypter.apply_keystream_at(&iv, start as u64, &mut part);
                    assert_eq!(part, whole[start..end], "{method} at {start}+{len}");
                }
            }
        }
    }

    #[test]
    fn counter_is_a_wrapping_128_bit_big_endian_integer() {
        let key = [7u8; 16];
        let crypter = Crypter::new(CipherMethod::Aes128Ctr, &key).unwrap();
        let aes = aes::Aes128::new_from_slice(&key).unwrap();
        let block = |counter: u128| {
            let mut b = GenericArray::from(counter.to_be_bytes());
            aes.encrypt_block(&mut b);
            b.to_vec()
        };
        // The carry crosses the 64-bit boundary, and the counter wraps at 2^128.
        for base in [
            0x0000_0000_0000_0000_ffff_ffff_ffff_fffe_u128,
            u128::MAX - 1,
        ] {
            let iv = base.to_be_bytes();
            let mut stream = vec![0u8; 64];
            crypter.apply_keystream_at(&iv, 0, &mut stream);
            for n in 0..4u128 {
                let i = n as usize;
                assert_eq!(
                    stream[i * 16..][..16],
                    block(base.wrapping_add(n))[..],
                    "{base:x}+{n}"
                );
            }
            // A far offset: block 2^40 + 3.
            let far = (1u64 << 44) + 48;
            let mut at = vec![0u8; 16];
            crypter.apply_keystream_at(&iv, far, &mut at);
            assert_eq!(at, block(base.wrapping_add(u128::from(far / 16))));
            // The last bytes a u64 offset can name do not panic.
            let mut end = vec![0u8; 1];
            crypter.apply_keystream_at(&iv, u64::MAX, &mut end);
        }
    }

    #[test]
    fn plaintext_passes_through() {
        let crypter = Crypter::plaintext();
        assert!(!crypter.is_encrypted());
        assert_eq!(crypter.decrypt(&[], b"abc").unwrap(), b"abc");
        assert_eq!(crypter.decrypt_backupmeta(b"abc").unwrap(), b"abc");
        assert_eq!(crypter.encrypt_backupmeta(&[1; 16], b"abc"), b"abc");
        let mut buf = *b"xyz";
        crypter.apply_keystream_at(&[0; 16], 3, &mut buf);
        assert_eq!(&buf, b"xyz");
        assert_eq!(
            Crypter::new(CipherMethod::Plaintext, b"ignored")
                .unwrap()
                .method(),
            CipherMethod::Plaintext
        );
    }

    #[test]
    fn backupmeta_is_iv_then_ciphertext() {
        let (method, key, _) = NIST[2];
        let crypter = Crypter::new(method, &unhex(key)).unwrap();
        let iv = [0x42; 16];
        let stored = crypter.encrypt_backupmeta(&iv, b"backup meta protobuf");
        assert_eq!(stored.len(), 16 + 20);
        assert_eq!(stored[..16], iv);
        assert_eq!(
            stored[16..],
            crypter.encrypt(&iv, b"backup meta protobuf").unwrap()
        );
        assert_eq!(
            crypter.decrypt_backupmeta(&stored).unwrap(),
            b"backup meta protobuf"
        );
        // BR skips encryption of empty content.
        assert!(crypter.encrypt_backupmeta(&iv, b"").is_empty());
        assert!(crypter.decrypt(&[], b"").unwrap().is_empty());
        assert!(crypter.decrypt_backupmeta(&iv).unwrap().is_empty());

        let err = crypter.decrypt_backupmeta(&[1, 2, 3]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "backupmeta: the object has 3 bytes, fewer than the 16-byte IV an encrypted \
             backupmeta starts with (--crypter.method is aes256-ctr): the backup is encrypted \
             and --crypter.key is wrong, or the backup is not encrypted"
        );
        let err = crypter.decrypt(&[0; 12], b"x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cipher_iv: is 12 bytes; AES-CTR needs a 16-byte IV"
        );
    }

    #[test]
    fn method_spellings() {
        for (text, method) in [
            ("plaintext", CipherMethod::Plaintext),
            ("PLAINTEXT", CipherMethod::Plaintext),
            ("aes128-ctr", CipherMethod::Aes128Ctr),
            ("AES128-CTR", CipherMethod::Aes128Ctr),
            ("aes192-ctr", CipherMethod::Aes192Ctr),
            ("AES192_CTR", CipherMethod::Aes192Ctr),
            ("Aes256-Ctr", CipherMethod::Aes256Ctr),
            ("aes256_ctr", CipherMethod::Aes256Ctr),
        ] {
            assert_eq!(text.parse::<CipherMethod>().unwrap(), method, "{text}");
        }
        for method in CipherMethod::ALL {
            assert_eq!(method.to_string().parse::<CipherMethod>().unwrap(), method);
        }
        let err = "sm4-ctr".parse::<CipherMethod>().unwrap_err();
        assert!(matches!(err, Error::Usage(_)));
        assert_eq!(
            err.to_string(),
            "invalid crypter method 'sm4-ctr' (expected plaintext, aes128-ctr, aes192-ctr or \
             aes256-ctr)"
        );
        assert_eq!(CipherMethod::Aes192Ctr.key_len(), 24);
        assert_eq!(CipherMethod::Aes256Ctr.encryption_method(), 4);
    }

    #[test]
    fn flags_give_a_crypter() {
        let key = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
        let from_hex = Crypter::from_flags(CipherMethod::Aes256Ctr, Some(key), None).unwrap();
        let upper = key.to_ascii_uppercase();
        let from_upper = Crypter::from_flags(CipherMethod::Aes256Ctr, Some(&upper), None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, format!("{key}\n")).unwrap();
        let from_file = Crypter::from_flags(CipherMethod::Aes256Ctr, None, Some(&path)).unwrap();
        std::fs::write(&path, format!("{key}\r\n")).unwrap();
        let from_crlf = Crypter::from_flags(CipherMethod::Aes256Ctr, None, Some(&path)).unwrap();
        let iv = [9u8; 16];
        let expected = from_hex.encrypt(&iv, b"same").unwrap();
        for c in [&from_upper, &from_file, &from_crlf] {
            assert_eq!(c.encrypt(&iv, b"same").unwrap(), expected);
        }
        // Plaintext ignores the key flags, as BR does.
        assert!(
            !Crypter::from_flags(CipherMethod::Plaintext, Some("zz"), Some(&path))
                .unwrap()
                .is_encrypted()
        );
    }

    #[test]
    fn flag_errors_never_show_the_key() {
        let secret = "603deb1015ca71be2b73aef0857d7781";
        let cases = [
            (
                Crypter::from_flags(CipherMethod::Aes256Ctr, Some(secret), None),
                "crypter method aes256-ctr needs a 32-byte key (64 hex digits); the key given \
                 has 16 bytes",
            ),
            (
                Crypter::from_flags(CipherMethod::Aes128Ctr, None, None),
                "--crypter.method aes128-ctr needs exactly one of --crypter.key or \
                 --crypter.key-file",
            ),
            (
                Crypter::from_flags(CipherMethod::Aes128Ctr, Some(secret), Some(Path::new("/k"))),
                "--crypter.method aes128-ctr needs exactly one of --crypter.key or \
                 --crypter.key-file",
            ),
            (
                Crypter::from_flags(CipherMethod::Aes128Ctr, Some("603deb1015ca71beXY"), None),
                "--crypter.key must be a hexadecimal string: character 17 is not a hex digit",
            ),
            (
                Crypter::from_flags(CipherMethod::Aes128Ctr, Some("603"), None),
                "--crypter.key must be a hexadecimal string: it has an odd number of digits",
            ),
        ];
        for (result, expected) in cases {
            let err = result.unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{err}");
            assert_eq!(err.to_string(), expected);
            assert!(!err.to_string().contains(secret));
        }
        let missing = Path::new("/nonexistent/br-parquet-key");
        let err = Crypter::from_flags(CipherMethod::Aes128Ctr, None, Some(missing)).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
        assert!(
            err.to_string().starts_with("/nonexistent/br-parquet-key: "),
            "{err}"
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let crypter = Crypter::new(CipherMethod::Aes128Ctr, &[0xab; 16]).unwrap();
        let shown = format!("{crypter:?}");
        assert_eq!(shown, "Crypter { method: Aes128Ctr, key: \"<redacted>\" }");
        assert_eq!(
            format!("{:?}", Crypter::plaintext()),
            "Crypter { method: Plaintext, key: \"<none>\" }"
        );
    }

    #[test]
    fn hints_depend_on_the_key() {
        assert!(Crypter::plaintext()
            .wrong_key_hint()
            .contains("pass --crypter.method and --crypter.key"));
        let crypter = Crypter::new(CipherMethod::Aes128Ctr, &[1; 16]).unwrap();
        assert!(crypter.wrong_key_hint().contains("--crypter.key is wrong"));
    }
}
