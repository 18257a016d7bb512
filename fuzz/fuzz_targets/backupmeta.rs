//! `meta::decode_backup_meta`, then `meta::load_backup` over objects cut from the input, then
//! the schemas and the export plan of whatever loaded.
//!
//! Input: one flags byte, then the objects separated by [`SEPARATOR`]. The first object is
//! `backupmeta`; every later read (whatever its name) gets the next object, or "not found".
//! Flag bit 0 loads with an AES-128-CTR crypter: the fuzz target encrypts the first object
//! itself (IV prefix and all), so the root still decodes, while MetaFile objects are used as
//! given (ciphertext under the `cipher_iv` their entries carry).
#![no_main]

use br_parquet::crypter::{CipherMethod, Crypter};
use br_parquet::{meta, Error};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

/// Separates the objects in the input.
const SEPARATOR: &[u8] = b"--8<--";

/// The key and `backupmeta` IV of the encrypted mode.
const KEY: [u8; 16] = *b"br-parquet-fuzz!";
const ROOT_IV: [u8; 16] = [0x42; 16];

fn split<'a>(mut data: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = data
        .windows(separator.len())
        .position(|window| window == separator)
    {
        parts.push(&data[..at]);
        data = &data[at + separator.len()..];
    }
    parts.push(data);
    parts
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let parts = split(rest, SEPARATOR);
    let _ = meta::decode_backup_meta(parts[0]);

    let crypter = Crypter::new(CipherMethod::Aes128Ctr, &KEY).ok();
    let crypter = crypter.as_ref().filter(|_| flags & 1 == 1);
    let root = match crypter {
        Some(crypter) => crypter.encrypt_backupmeta(&ROOT_IV, parts[0]),
        None => parts[0].to_vec(),
    };
    let mut root = Some(Bytes::from(root));
    let mut rest = parts[1..].iter();
    let mut read = |name: &str| -> br_parquet::Result<Bytes> {
        if let Some(root) = root.take() {
            return Ok(root);
        }
        rest.next()
            .map(|object| Bytes::copy_from_slice(object))
            .ok_or_else(|| Error::meta(name, "object not found"))
    };
    let Ok(backup) = meta::load_backup(&mut read, crypter) else {
        return;
    };
    for schema in &backup.schemas {
        let _ = meta::parse_schema(schema);
    }
    let _ = meta::build_plan(&backup);
});
