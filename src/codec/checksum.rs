//! CRC-64/XZ and the per-file key/value checksum BR records (`crc64xor`, `total_kvs`,
//! `total_bytes`).
//!
//! Format: `docs/formats.md` §4; what goes into the digest was checked against
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
//! On x86-64 with PCLMULQDQ, inputs of 16 bytes or more are folded 16 bytes at a time with
//! carry-less multiplication (four 16-byte lanes over 64-byte strides, then one lane, then a
//! Barrett reduction to the 64-bit register), after Intel's white paper "Fast CRC Computation for
//! Generic Polynomials Using PCLMULQDQ Instruction" (Gopal et al., 2009), reflected form. Shorter
//! inputs, the last `len % 16` bytes and other CPUs use a table-driven digest, slicing by 8 bytes
//! (eight 256-entry tables, 16 KiB, built at compile time). Both keep checksumming every pair of
//! a large backup cheap next to decoding.

use std::fmt;

/// The ECMA-182 polynomial without its `x^64` term, bit 63 = `x^63`.
const POLY_NORMAL: u64 = 0x42F0_E1EB_A9EA_3693;

/// The reflected ECMA-182 polynomial (bit 0 = `x^63`), as the LSB-first register uses it.
const POLY: u64 = POLY_NORMAL.reverse_bits();

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
#[inline]
fn fold(crc: u64, data: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if data.len() >= clmul::MIN_LEN && std::arch::is_x86_feature_detected!("pclmulqdq") {
        // SAFETY: `clmul::fold` needs PCLMULQDQ, detected just now, and SSE2, which every
        // x86-64 CPU has.
        return unsafe { clmul::fold(crc, data) };
    }
    fold_tables(crc, data)
}

/// [`fold`] with the tables alone.
// Every index below is a byte (masked with 0xff, or shifted down from bit 56) into a 256-entry
// table, so it is always in bounds; `get` would cost a branch per lookup on the hottest loop.
#[allow(clippy::indexing_slicing)]
#[inline]
fn fold_tables(mut crc: u64, data: &[u8]) -> u64 {
    let (words, rest) = data.as_chunks::<8>();
    for word in words {
        let v = crc ^ u64::from_le_bytes(*word);
        crc = TABLES[7][(v & 0xff) as usize]
            ^ TABLES[6][((v >> 8) & 0xff) as usize]
            ^ TABLES[5][((v >> 16) & 0xff) as usize]
            ^ TABLES[4][((v >> 24) & 0xff) as usize]
            ^ TABLES[3][((v >> 32) & 0xff) as usize]
            ^ TABLES[2][((v >> 40) & 0xff) as usize]
            ^ TABLES[1][((v >> 48) & 0xff) as usize]
            ^ TABLES[0][(v >> 56) as usize];
    }
    for &byte in rest {
        crc = TABLES[0][((crc ^ u64::from(byte)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// Carry-less-multiply folding. In the reflected register bit 0 is the highest power, so the
/// constants are bit-reversed residues `x^n mod P`, and a reflected 64×64 product is the
/// unreflected one shifted by a bit, hence the `- 1` in the exponents.
#[cfg(target_arch = "x86_64")]
mod clmul {
    use std::arch::x86_64::{
        __m128i, _mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set_epi64x, _mm_slli_si128,
        _mm_srli_si128, _mm_unpackhi_epi64, _mm_xor_si128,
    };

    use super::{fold_tables, POLY_NORMAL};

    /// Shorter inputs go to the tables, which are as fast there.
    pub(super) const MIN_LEN: usize = 16;

    /// `x^n mod P`, unreflected.
    const fn x_pow_mod(n: u32) -> u64 {
        let mut r = 1u64;
        let mut i = 0;
        while i < n {
            r = (r << 1) ^ if r >> 63 == 1 { POLY_NORMAL } else { 0 };
            i += 1;
        }
        r
    }

    /// The folding constant `x^n mod P`, reflected.
    const fn k(n: u32) -> u64 {
        x_pow_mod(n).reverse_bits()
    }

    /// `floor(x^128 / P)`, a degree-64 polynomial, reflected over 65 bits: its `x^0`
    /// coefficient (bit 64 after reflection) is zero, which the assertion checks.
    const MU: u64 = {
        // Long division: the quotient bits below x^64 are the register's carries.
        let mut r = POLY_NORMAL;
        let mut q = 0u64;
        let mut bit = 64;
        while bit > 0 {
            bit -= 1;
            let carry = r >> 63;
            q |= carry << bit;
            r = (r << 1) ^ if carry == 1 { POLY_NORMAL } else { 0 };
        }
        assert!(q & 1 == 0);
        ((1 << 63) | (q >> 1)).reverse_bits()
    };

    /// `P` with its `x^64` term, reflected over 65 bits; the top bit (the `x^0` term) is implied.
    const POLY_65: u64 = (super::POLY << 1) | 1;

    /// Loads 16 bytes, the first eight in the low half.
    #[inline]
    #[target_feature(enable = "pclmulqdq")]
    fn load(block: &[u8; 16], xor_low: u64) -> __m128i {
        let (low, high) = block.split_at(8);
        let word = |half: &[u8]| {
            let mut bytes = [0; 8];
            bytes.copy_from_slice(half);
            u64::from_le_bytes(bytes)
        };
        _mm_set_epi64x(word(high) as i64, (word(low) ^ xor_low) as i64)
    }

    /// Coefficients that move a 16-byte lane `bytes` further from the end of the message:
    /// `(high half, low half)`; the low half holds the earlier 8 bytes, 64 bits further out.
    const fn coefficients(bytes: u32) -> (u64, u64) {
        (k(8 * bytes - 1), k(8 * bytes + 63))
    }

    /// `x` moved ahead by the distance `coeff` was made for, XORed with `next`.
    #[inline]
    #[target_feature(enable = "pclmulqdq")]
    fn fold_into(x: __m128i, coeff: __m128i, next: __m128i) -> __m128i {
        let high = _mm_clmulepi64_si128::<0x11>(x, coeff);
        let low = _mm_clmulepi64_si128::<0x00>(x, coeff);
        _mm_xor_si128(_mm_xor_si128(high, low), next)
    }

    /// [`super::fold`] for `data.len() >= MIN_LEN`.
    #[target_feature(enable = "pclmulqdq")]
    pub(super) fn fold(crc: u64, data: &[u8]) -> u64 {
        const BY_16: (u64, u64) = coefficients(16);
        const BY_64: (u64, u64) = coefficients(64);
        const END: u64 = k(127);
        let by_16 = _mm_set_epi64x(BY_16.0 as i64, BY_16.1 as i64);
        let by_64 = _mm_set_epi64x(BY_64.0 as i64, BY_64.1 as i64);

        let (blocks, tail) = data.as_chunks::<16>();
        let (strides, singles) = blocks.as_chunks::<4>();
        let x = if let Some(([b0, b1, b2, b3], strides)) = strides.split_first() {
            let mut lanes = [load(b0, crc), load(b1, 0), load(b2, 0), load(b3, 0)];
            for [b0, b1, b2, b3] in strides {
                let [l0, l1, l2, l3] = lanes;
                lanes = [
                    fold_into(l0, by_64, load(b0, 0)),
                    fold_into(l1, by_64, load(b1, 0)),
                    fold_into(l2, by_64, load(b2, 0)),
                    fold_into(l3, by_64, load(b3, 0)),
                ];
            }
            let [l0, l1, l2, l3] = lanes;
            let x = fold_into(fold_into(fold_into(l0, by_16, l1), by_16, l2), by_16, l3);
            singles
                .iter()
                .fold(x, |x, block| fold_into(x, by_16, load(block, 0)))
        } else if let Some((first, singles)) = singles.split_first() {
            singles.iter().fold(load(first, crc), |x, block| {
                fold_into(x, by_16, load(block, 0))
            })
        } else {
            return fold_tables(crc, data);
        };

        // 128 bits to a 64-bit remainder times x^64: the low half moves 8 bytes ahead.
        let x = _mm_xor_si128(
            _mm_clmulepi64_si128::<0x00>(x, _mm_set_epi64x(0, END as i64)),
            _mm_srli_si128::<8>(x),
        );
        // Barrett reduction: q = (x.low * mu).low, register = (x ^ q * P).high.
        let poly_mu = _mm_set_epi64x(POLY_65 as i64, MU as i64);
        let q = _mm_clmulepi64_si128::<0x00>(x, poly_mu);
        let qp = _mm_xor_si128(
            _mm_slli_si128::<8>(q),
            _mm_clmulepi64_si128::<0x10>(q, poly_mu),
        );
        let reduced = _mm_xor_si128(x, qp);
        let register = _mm_cvtsi128_si64(_mm_unpackhi_epi64(reduced, reduced)) as u64;
        fold_tables(register, tail)
    }
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
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
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

    /// The checksum of one pair (see [`Self::update`]), to be merged into several sums without
    /// hashing the pair again.
    #[inline]
    pub fn of_pair(raw_key: &[u8], value: &[u8]) -> Self {
        let mut pair = KvChecksum::default();
        pair.update(raw_key, value);
        pair
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

    /// Bit-at-a-time CRC-64/XZ straight from the definition, to check the tables and the
    /// carry-less folding against.
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
    fn every_path_matches_bitwise_definition_at_random_lengths_and_offsets() {
        let buffer = pseudo_random(2100, 11);
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |bound: u64| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % bound) as usize
        };
        for _ in 0..600 {
            let (start, len) = (next(16), next(2000));
            let data = &buffer[start..start + len];
            let expected = reference(data);
            assert_eq!(crc64(data), expected, "start {start}, length {len}");
            assert_eq!(!fold_tables(!0, data), expected, "tables, length {len}");
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("pclmulqdq") {
                // SAFETY: the feature `clmul::fold` is compiled for was just detected.
                let folded = unsafe { clmul::fold(!0, data) };
                assert_eq!(!folded, expected, "clmul, start {start}, length {len}");
            }
            let split = next(len as u64 + 1);
            let mut digest = Crc64::new();
            digest.update(&data[..split]);
            digest.update(&data[split..]);
            assert_eq!(digest.finish(), expected, "length {len} split at {split}");
        }
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

    /// Throughput on this machine: `cargo test --release --lib codec::checksum -- --ignored
    /// --nocapture`. Bulk data, short inputs, pairs shaped like a typical row (19-byte record
    /// key, values of 250 bytes on average) and like an index entry (~32-byte key, 1-byte value).
    #[test]
    #[ignore = "timing, run by hand with --release"]
    fn throughput() {
        use std::time::Instant;
        let report = |what: &str, bytes: usize, secs: f64| {
            println!("{what:>24}: {:6.2} GB/s", bytes as f64 / secs / 1e9);
        };
        let big = pseudo_random(1 << 20, 1);
        for _ in 0..2 {
            let start = Instant::now();
            let mut acc = 0;
            for i in 0..2000 {
                acc ^= crc64(&big[i % 8..]);
            }
            report("crc64, 1 MiB", 2000 << 20, start.elapsed().as_secs_f64());
            std::hint::black_box(acc);
        }
        for len in [8, 19, 64, 250, 1500] {
            let data = pseudo_random(len + 8, len as u64);
            let rounds = 50_000_000 / len;
            let start = Instant::now();
            let mut acc = 0;
            for i in 0..rounds {
                acc ^= crc64(std::hint::black_box(&data[i % 8..][..len]));
            }
            report(
                &format!("crc64, {len} B"),
                rounds * len,
                start.elapsed().as_secs_f64(),
            );
            std::hint::black_box(acc);
        }
        let key = pseudo_random(19, 5);
        let values: Vec<Vec<u8>> = (0..1024)
            .map(|i| pseudo_random(100 + (i * 97) % 301, i as u64))
            .collect();
        let bytes: usize = values.iter().map(|v| key.len() + v.len()).sum();
        let start = Instant::now();
        let mut sum = KvChecksum::default();
        for _ in 0..200 {
            for value in &values {
                sum.update(&key, value);
            }
        }
        report(
            "KvChecksum, 19 B + ~250 B",
            200 * bytes,
            start.elapsed().as_secs_f64(),
        );
        std::hint::black_box(sum);
        let keys: Vec<Vec<u8>> = (0..1024)
            .map(|i| pseudo_random(20 + i % 24, i as u64))
            .collect();
        let bytes: usize = keys.iter().map(|k| k.len() + 1).sum();
        let start = Instant::now();
        let mut sum = KvChecksum::default();
        for _ in 0..2000 {
            for k in &keys {
                sum.update(k, b"0");
            }
        }
        report(
            "KvChecksum, ~32 B + 1 B",
            2000 * bytes,
            start.elapsed().as_secs_f64(),
        );
        std::hint::black_box(sum);
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
