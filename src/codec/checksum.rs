//! CRC-64/XZ and the per-file key/value checksum BR records (`crc64xor`, `total_kvs`,
//! `total_bytes`).
//!
//! Spec: `shared/spec/br-tidb-formats.md` §3.5; what goes into the digest was checked against
//! TiKV's backup writer and is recorded in `docs/integrity.md`.
//!
//! ```text
//! CRC-64/XZ: poly 0x42F0E1EBA9EA3693 (ECMA-182), reflected (0xC96C5795D7870F42),
//!            init 0xFFFF_FFFF_FFFF_FFFF, xorout 0xFFFF_FFFF_FFFF_FFFF
//!            check("123456789") = 0x995dc9bbdf1939fa
//!
//! per pair   d = crc64(raw_key ‖ value)      raw_key: TiDB key, no 'z', memcomparable-decoded,
//!                                            no timestamp; value: row value (default-CF value
//!                                            or the write record's short value; empty for Delete)
//! per file   crc64xor = XOR of every d,  total_kvs = pairs,  total_bytes = Σ len(raw_key) + len(value)
//! ```
//!
//! The digest is table-driven, slicing by 8 bytes (eight 256-entry tables, 16 KiB, built at
//! compile time), so that checksumming every pair of a large backup costs little next to decoding.

use std::fmt;

/// The reflected ECMA-182 polynomial.
const POLY: u64 = 0xC96C_5795_D787_0F42;

/// `TABLES[0]` is the classic byte-at-a-time table; `TABLES[k][b]` is the CRC state after `b` is
/// followed by `k` zero bytes, which lets eight bytes be folded in with eight lookups.
static TABLES: [[u64; 256]; 8] = make_tables();

// Runs at compile time: an out-of-range index would fail the build, not a run.
#[allow(clippy::indexing_slicing)]
const fn make_tables() -> [[u64; 256]; 8] {
    let mut tables = [[0u64; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
            bit += 1;
        }
        tables[0][i] = crc;
        i += 1;
    }
    let mut i = 0;
    while i < 256 {
        let mut k = 1;
        while k < 8 {
            let prev = tables[k - 1][i];
            tables[k][i] = (prev >> 8) ^ tables[0][(prev & 0xff) as usize];
            k += 1;
        }
        i += 1;
    }
    tables
}

/// Folds `data` into the (pre-inverted) CRC state `crc`.
// Every index below is a byte (masked with 0xff, or shifted down from bit 56) into a 256-entry
// table, so it is always in bounds; `get` would cost a branch per lookup on the hottest loop.
#[allow(clippy::indexing_slicing)]
#[inline]
fn fold(mut crc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = crc ^ u64::from_le_bytes(word);
        crc = TABLES[7][(v & 0xff) as usize]
            ^ TABLES[6][((v >> 8) & 0xff) as usize]
            ^ TABLES[5][((v >> 16) & 0xff) as usize]
            ^ TABLES[4][((v >> 24) & 0xff) as usize]
            ^ TABLES[3][((v >> 32) & 0xff) as usize]
            ^ TABLES[2][((v >> 40) & 0xff) as usize]
            ^ TABLES[1][((v >> 48) & 0xff) as usize]
            ^ TABLES[0][(v >> 56) as usize];
    }
    for &byte in chunks.remainder() {
        crc = TABLES[0][((crc ^ u64::from(byte)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// CRC-64/XZ of `data` (what Go's `crc64.Checksum(data, crc64.MakeTable(crc64.ECMA))` and the
/// `crc64fast` crate compute).
pub fn crc64(data: &[u8]) -> u64 {
    let mut digest = Crc64::new();
    digest.update(data);
    digest.finish()
}

/// A streaming CRC-64/XZ digest: `update` any number of times, then `finish`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crc64 {
    /// The CRC register, before the final inversion.
    state: u64,
}

impl Crc64 {
    /// A digest of no bytes.
    pub const fn new() -> Self {
        Crc64 { state: !0 }
    }

    /// Appends `data` to the digested bytes.
    #[inline]
    pub fn update(&mut self, data: &[u8]) {
        self.state = fold(self.state, data);
    }

    /// The CRC of every byte given so far (the digest can still be updated).
    #[inline]
    pub fn finish(&self) -> u64 {
        !self.state
    }
}

impl Default for Crc64 {
    fn default() -> Self {
        Crc64::new()
    }
}

/// The key/value checksum of a set of pairs, as BR stores it in `File` (fields 7–9),
/// `TableMeta` and `Schema` (fields 3–5), and as TiDB's `ADMIN CHECKSUM` reports it.
///
/// XOR and sums do not depend on order, so checksums of disjoint sets [`merge`](Self::merge)
/// into the checksum of their union. All three zero is how BR marks a skipped checksum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KvChecksum {
    /// XOR over the pairs of `crc64(raw_key ‖ value)`.
    pub crc64xor: u64,
    /// Number of pairs.
    pub total_kvs: u64,
    /// Σ `len(raw_key) + len(value)`.
    pub total_bytes: u64,
}

impl KvChecksum {
    /// A checksum with the given fields (e.g. read from a `File`).
    pub const fn new(crc64xor: u64, total_kvs: u64, total_bytes: u64) -> Self {
        KvChecksum {
            crc64xor,
            total_kvs,
            total_bytes,
        }
    }

    /// Adds one pair: `raw_key` is the TiDB key (no `z` prefix, memcomparable-decoded, without
    /// the timestamp) and `value` the row value (empty for a Delete record). The digest runs
    /// over the two slices in turn; nothing is concatenated or allocated.
    #[inline]
    pub fn update(&mut self, raw_key: &[u8], value: &[u8]) {
        let mut digest = Crc64::new();
        digest.update(raw_key);
        digest.update(value);
        self.crc64xor ^= digest.finish();
        self.total_kvs = self.total_kvs.wrapping_add(1);
        self.total_bytes = self
            .total_bytes
            .wrapping_add(raw_key.len() as u64)
            .wrapping_add(value.len() as u64);
    }

    /// Adds the pairs `other` was computed over (which must not overlap this one's).
    /// Sums wrap rather than panic, since `other` may come from untrusted metadata.
    #[inline]
    pub fn merge(&mut self, other: KvChecksum) {
        self.crc64xor ^= other.crc64xor;
        self.total_kvs = self.total_kvs.wrapping_add(other.total_kvs);
        self.total_bytes = self.total_bytes.wrapping_add(other.total_bytes);
    }

    /// Whether all three fields are zero: no pairs, or (in BR metadata) a skipped checksum.
    pub fn is_zero(&self) -> bool {
        *self == KvChecksum::default()
    }
}

impl fmt::Display for KvChecksum {
    /// `crc64xor 0x0123456789abcdef, 12 kvs, 345 bytes`, for error messages and reports.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "crc64xor {:#018x}, {} kvs, {} bytes",
            self.crc64xor, self.total_kvs, self.total_bytes
        )
    }
}

impl std::iter::Sum for KvChecksum {
    fn sum<I: Iterator<Item = KvChecksum>>(iter: I) -> Self {
        let mut total = KvChecksum::default();
        for checksum in iter {
            total.merge(checksum);
        }
        total
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// Bit-at-a-time CRC-64/XZ straight from the definition, to check the tables against.
    fn reference(data: &[u8]) -> u64 {
        let mut crc = !0u64;
        for &byte in data {
            crc ^= u64::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ POLY
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
        let mut s = seed | 1;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn check_vectors() {
        // The catalogue check value of CRC-64/XZ, and the crc64fast README example (spec §10.1.6).
        assert_eq!(crc64(b"123456789"), 0x995d_c9bb_df19_39fa);
        assert_eq!(crc64(b"hello world!"), 0x8483_c0fa_3260_7d61);
        assert_eq!(crc64(b""), 0);
        assert_eq!(reference(b"123456789"), 0x995d_c9bb_df19_39fa);
    }

    #[test]
    fn table_matches_bitwise_definition() {
        for len in 0..200 {
            let data = pseudo_random(len, len as u64 + 7);
            assert_eq!(crc64(&data), reference(&data), "length {len}");
        }
        let big = pseudo_random(100_003, 42);
        assert_eq!(crc64(&big), reference(&big));
    }

    #[test]
    fn streaming_equals_one_shot_at_every_split() {
        let data = pseudo_random(67, 3);
        let whole = crc64(&data);
        for split in 0..=data.len() {
            let mut digest = Crc64::default();
            digest.update(&data[..split]);
            digest.update(&data[split..]);
            assert_eq!(digest.finish(), whole, "split at {split}");
        }
        // finish does not consume the state.
        let mut digest = Crc64::new();
        digest.update(b"12345");
        let _ = digest.finish();
        digest.update(b"6789");
        assert_eq!(digest.finish(), 0x995d_c9bb_df19_39fa);
    }

    #[test]
    fn kv_checksum_digests_key_then_value() {
        let key = [
            0x74, 0x80, 0, 0, 0, 0, 0, 0, 0x6e, 0x5f, 0x72, 0x80, 0, 0, 0, 0, 0, 0, 1,
        ];
        let value = [0x80, 0, 1, 0, 0, 0, 1, 1, 0, 1];
        let mut sum = KvChecksum::default();
        sum.update(&key, &value);
        let mut joined = key.to_vec();
        joined.extend_from_slice(&value);
        assert_eq!(sum, KvChecksum::new(crc64(&joined), 1, 29));

        // The split point does not matter, only the concatenation.
        let mut other = KvChecksum::default();
        other.update(&joined[..3], &joined[3..]);
        assert_eq!(other, sum);

        // A Delete record has an empty value.
        let mut delete = KvChecksum::default();
        delete.update(&key, &[]);
        assert_eq!(delete, KvChecksum::new(crc64(&key), 1, 19));
    }

    #[test]
    fn xor_and_merge_ignore_order() {
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..20)
            .map(|i| {
                (
                    pseudo_random(10 + i, i as u64),
                    pseudo_random(i * 7, 99 + i as u64),
                )
            })
            .collect();
        let mut forward = KvChecksum::default();
        for (k, v) in &pairs {
            forward.update(k, v);
        }
        let mut backward = KvChecksum::default();
        for (k, v) in pairs.iter().rev() {
            backward.update(k, v);
        }
        assert_eq!(forward, backward);

        let (a, b) = pairs.split_at(7);
        let mut left = KvChecksum::default();
        a.iter().for_each(|(k, v)| left.update(k, v));
        let mut right = KvChecksum::default();
        b.iter().for_each(|(k, v)| right.update(k, v));
        let mut merged = left;
        merged.merge(right);
        assert_eq!(merged, forward);
        assert_eq!([left, right].into_iter().sum::<KvChecksum>(), forward);
        assert_eq!(forward.total_kvs, 20);
        let bytes: usize = pairs.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert_eq!(forward.total_bytes, bytes as u64);
    }

    #[test]
    fn merge_wraps_instead_of_panicking() {
        let mut sum = KvChecksum::new(1, u64::MAX, u64::MAX);
        sum.merge(KvChecksum::new(1, 2, 3));
        assert_eq!(sum, KvChecksum::new(0, 1, 2));
        assert!(KvChecksum::default().is_zero());
        assert!(!sum.is_zero());
    }

    #[test]
    fn display_for_messages() {
        assert_eq!(
            KvChecksum::new(0x8483_c0fa_3260_7d61, 12, 345).to_string(),
            "crc64xor 0x8483c0fa32607d61, 12 kvs, 345 bytes"
        );
        assert_eq!(
            KvChecksum::new(5, 0, 0).to_string(),
            "crc64xor 0x0000000000000005, 0 kvs, 0 bytes"
        );
    }
}
