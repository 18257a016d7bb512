//! DECIMAL values in MySQL / TiDB binary form ("MyDecimal", spec §7.3).
//!
//! Sources: TiDB `pkg/types/mydecimal.go` (`WriteBin`, `FromBin`, `ToString`),
//! `pkg/types/mydecimal_shift_round.go` (`Round`, `ModeHalfUp`), `pkg/util/codec/decimal.go`
//! (`EncodeDecimal`, `DecodeDecimal`).
//!
//! ```text
//! payload = precision:u8 ‖ frac:u8 ‖ body
//! body    = [lead int group][int words…][frac words…][trail frac group]      all big-endian
//!            intg = precision - frac; words hold 9 digits in 4 bytes;
//!            a partial group of n digits takes DIG2BYTES[n] bytes
//!            negative values: every body byte XOR 0xff; then body[0] ^= 0x80 for both signs
//! e.g. DECIMAL(14,4) 1234567890.1234 = 0e 04 | 81 0d fb 38 d2 04 d2
//! ```
//! Digits are kept as decimal digits in a fixed array (no heap), so values up to the format's
//! 81 digits round-trip exactly.
use std::fmt;
use std::str::FromStr;

use super::{slice_at, CodecError, Result};

/// Most digits the binary format can hold (9 words of 9 digits).
pub const MAX_DIGITS: usize = 81;
/// Most digits MySQL allows in a DECIMAL column.
pub const MYSQL_MAX_PRECISION: u8 = 65;
/// Most fractional digits MySQL allows (TiDB caps written frac here).
pub const MYSQL_MAX_SCALE: u8 = 30;
/// Most digits an `i128` scaled value may have (Parquet/Arrow Decimal128).
pub const MAX_I128_DIGITS: u32 = 38;

const DIGITS_PER_WORD: usize = 9;
const WORD_SIZE: usize = 4;
const DIG2BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
const POW10: [u32; 10] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

/// A decimal number: sign, integer digits and fractional digits.
///
/// `precision()`/`frac()` describe the stored digits: `frac` fractional digits (trailing zeros
/// kept, as MySQL prints them) and `precision - frac` integer digits. Equality compares the
/// representation, so `1.50 != 1.5`. Zero is never negative.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    negative: bool,
    precision: u8,
    frac: u8,
    /// Integer digits then fractional digits, most significant first; unused tail is zero.
    digits: [u8; MAX_DIGITS],
}

/// Body length in bytes for a (precision, frac) pair.
///
/// # Errors
/// `frac > precision`, `precision == 0` or `precision > 81`.
pub fn bin_size(precision: u8, frac: u8) -> Result<usize> {
    check_precision(precision, frac)?;
    let intg = usize::from(precision - frac);
    let frac = usize::from(frac);
    Ok(intg / DIGITS_PER_WORD * WORD_SIZE
        + dig2bytes(intg % DIGITS_PER_WORD)
        + frac / DIGITS_PER_WORD * WORD_SIZE
        + dig2bytes(frac % DIGITS_PER_WORD))
}

fn check_precision(precision: u8, frac: u8) -> Result<()> {
    if precision == 0 || usize::from(precision) > MAX_DIGITS || frac > precision {
        return Err(CodecError::invalid(
            "decimal: precision/frac",
            0,
            format!(
                "expected 1 <= precision <= {MAX_DIGITS} and frac <= precision, found precision {precision}, frac {frac}"
            ),
        ));
    }
    Ok(())
}

/// Bytes of a partial group of `n` (< 9) digits.
fn dig2bytes(n: usize) -> usize {
    DIG2BYTES.get(n).copied().unwrap_or(WORD_SIZE)
}

/// 10^`n` for `n` <= 9.
fn pow10(n: usize) -> u32 {
    POW10.get(n).copied().unwrap_or(u32::MAX)
}

/// Splits `n` digits into (partial group digits, full words) as the binary layout does.
const fn groups(n: usize) -> (usize, usize) {
    (n % DIGITS_PER_WORD, n / DIGITS_PER_WORD)
}

/// What [`read_groups`] found besides the digits.
struct Layout {
    negative: bool,
    precision: u8,
    frac: u8,
    /// Bytes of the payload used: 2 + body length.
    used: usize,
}

/// Walks the body of `precision ‖ frac ‖ body`, most significant group first, calling
/// `group(digits, value)` for each digit group (the leading partial integer group, 9-digit
/// words, the trailing partial fractional group; value < 10^digits, sign removed).
///
/// The body is MySQL's `decimal2bin` form: groups of 9 digits in 4 bytes big-endian, partial
/// groups in `DIG2BYTES` bytes, every byte inverted for negative values, and the first byte's top
/// bit flipped so that the bytes compare like the values.
fn read_groups(payload: &[u8], mut group: impl FnMut(usize, u32)) -> Result<Layout> {
    let head = slice_at(payload, 0, 2, "decimal: precision and frac")?;
    let (precision, frac) = match *head {
        [p, f] => (p, f),
        _ => (0, 0),
    };
    let size = bin_size(precision, frac)?;
    let body = slice_at(payload, 2, size, "decimal: body")?;
    let mask = if body.first().is_some_and(|b| b & 0x80 != 0) {
        0x00
    } else {
        0xff
    };
    let (lead, int_words) = groups(usize::from(precision - frac));
    let (trail, frac_words) = groups(usize::from(frac));
    // The top bit of the body's first byte, flipped back where that byte is read.
    let mut flip = 0x80;
    let mut pos = 0usize;
    let mut read = |ndigits: usize| -> Result<()> {
        if ndigits == 0 {
            return Ok(());
        }
        let nbytes = dig2bytes(ndigits);
        let bytes = slice_at(body, pos, nbytes, "decimal: body")?;
        let value = bytes
            .iter()
            .fold(0u32, |value, &b| (value << 8) | u32::from(b ^ mask))
            ^ (flip << (8 * (nbytes - 1)));
        flip = 0;
        if value >= pow10(ndigits) {
            return Err(CodecError::invalid(
                "decimal: digit group",
                2 + pos,
                format!("expected a value below 10^{ndigits}, found {value}"),
            ));
        }
        group(ndigits, value);
        pos += nbytes;
        Ok(())
    };
    read(lead)?;
    for _ in 0..int_words + frac_words {
        read(DIGITS_PER_WORD)?;
    }
    read(trail)?;
    Ok(Layout {
        negative: mask == 0xff,
        precision,
        frac,
        used: 2 + size,
    })
}

impl Decimal {
    /// Zero with `frac` fractional digits (`0`, `0.00`, …); `frac` is capped at 80.
    pub fn zero(frac: u8) -> Self {
        let frac = frac.min(MAX_DIGITS as u8 - 1);
        Decimal {
            negative: false,
            precision: frac + 1,
            frac,
            digits: [0; MAX_DIGITS],
        }
    }

    /// Decodes `precision ‖ frac ‖ body` at the start of `payload`; returns the value and the
    /// bytes used (2 + body length).
    ///
    /// # Errors
    /// Truncation, an invalid precision/frac pair, or a digit group out of range.
    pub fn decode(payload: &[u8]) -> Result<(Decimal, usize)> {
        let mut digits = [0u8; MAX_DIGITS];
        let mut at = 0usize;
        let layout = read_groups(payload, |ndigits, value| {
            for k in (0..ndigits).rev() {
                if let Some(slot) = digits.get_mut(at) {
                    *slot = (value / pow10(k) % 10) as u8;
                }
                at += 1;
            }
        })?;
        let mut dec = Decimal {
            negative: layout.negative,
            precision: layout.precision,
            frac: layout.frac,
            digits,
        };
        if dec.is_zero() {
            dec.negative = false;
        }
        Ok((dec, layout.used))
    }

    /// The unscaled value (`value × 10^scale`) of a `DECIMAL(_, scale)` cell, read straight from
    /// `precision ‖ frac ‖ body` without the digit array, when the stored `frac` is `scale` and
    /// `precision` is at most 38 (so it fits an `i128`): TiDB stores a column's values with the
    /// column's own precision and frac, so that is nearly every cell. `None` otherwise: then
    /// [`Decimal::decode`] and [`Decimal::to_i128_scaled`] give the same result the long way.
    /// Also returns the bytes used.
    ///
    /// # Errors
    /// As [`Decimal::decode`].
    #[inline]
    pub fn decode_unscaled_i128(payload: &[u8], scale: u8) -> Result<Option<(i128, usize)>> {
        match *slice_at(payload, 0, 2, "decimal: precision and frac")? {
            [precision, frac] if frac == scale && u32::from(precision) <= MAX_I128_DIGITS => {}
            _ => return Ok(None),
        }
        // At most 38 digits, each group below 10^its digits: no overflow.
        let mut unscaled: i128 = 0;
        let layout = read_groups(payload, |ndigits, value| {
            unscaled = unscaled * i128::from(pow10(ndigits)) + i128::from(value);
        })?;
        Ok(Some((
            if layout.negative { -unscaled } else { unscaled },
            layout.used,
        )))
    }

    /// Appends `precision ‖ frac ‖ body` for the given column shape. The value is first
    /// rounded (half up) or zero-extended to `frac` digits.
    ///
    /// # Errors
    /// An invalid precision/frac pair, or an integer part with more than `precision - frac`
    /// significant digits.
    pub fn encode(&self, precision: u8, frac: u8, out: &mut Vec<u8>) -> Result<()> {
        check_precision(precision, frac)
            .map_err(|e| CodecError::unencodable("decimal", e.to_string()))?;
        let value = self.rescale(frac).ok_or_else(|| {
            CodecError::unencodable(
                "decimal",
                format!("{self} does not fit in {MAX_DIGITS} digits"),
            )
        })?;
        let intg = usize::from(precision - frac);
        let sig_int = value.trimmed_int();
        if sig_int.len() > intg {
            return Err(CodecError::unencodable(
                "decimal",
                format!("{self} does not fit DECIMAL({precision},{frac})"),
            ));
        }
        // Target digit layout: intg integer digits (left-padded with zeros), then frac digits.
        let mut digits = [0u8; MAX_DIGITS];
        let pad = intg - sig_int.len();
        for (slot, d) in digits
            .iter_mut()
            .skip(pad)
            .zip(sig_int.iter().chain(value.frac_digits()))
        {
            *slot = *d;
        }
        let mask = if value.negative { 0xff } else { 0x00 };
        let start = out.len();
        out.push(precision);
        out.push(frac);
        let (lead, int_words) = groups(intg);
        let (trail, frac_words) = groups(usize::from(frac));
        let mut digit_iter = digits.iter();
        let mut write = |ndigits: usize, out: &mut Vec<u8>| {
            if ndigits == 0 {
                return;
            }
            let nbytes = if ndigits == DIGITS_PER_WORD {
                WORD_SIZE
            } else {
                dig2bytes(ndigits)
            };
            let v = digit_iter
                .by_ref()
                .take(ndigits)
                .fold(0u32, |acc, d| acc * 10 + u32::from(*d));
            let be = v.to_be_bytes();
            out.extend(be.iter().skip(WORD_SIZE - nbytes).map(|b| b ^ mask));
        };
        write(lead, out);
        for _ in 0..int_words {
            write(DIGITS_PER_WORD, out);
        }
        for _ in 0..frac_words {
            write(DIGITS_PER_WORD, out);
        }
        write(trail, out);
        if let Some(first) = out.get_mut(start + 2) {
            *first ^= 0x80;
        }
        Ok(())
    }

    /// True for negative non-zero values.
    pub const fn is_negative(&self) -> bool {
        self.negative
    }

    /// True when every digit is zero.
    pub fn is_zero(&self) -> bool {
        self.all_digits().iter().all(|&d| d == 0)
    }

    /// Stored digit count (integer digits + `frac`).
    pub const fn precision(&self) -> u8 {
        self.precision
    }

    /// Stored fractional digit count.
    pub const fn frac(&self) -> u8 {
        self.frac
    }

    fn all_digits(&self) -> &[u8] {
        self.digits
            .get(..usize::from(self.precision))
            .unwrap_or_default()
    }

    /// Integer digits as stored (may have leading zeros), most significant first.
    pub fn int_digits(&self) -> &[u8] {
        self.all_digits()
            .get(..usize::from(self.precision - self.frac))
            .unwrap_or_default()
    }

    /// Fractional digits, most significant first.
    pub fn frac_digits(&self) -> &[u8] {
        self.all_digits()
            .get(usize::from(self.precision - self.frac)..)
            .unwrap_or_default()
    }

    /// Integer digits without leading zeros (empty for `0.xx`).
    fn trimmed_int(&self) -> &[u8] {
        let int = self.int_digits();
        let first = int.iter().position(|&d| d != 0).unwrap_or(int.len());
        int.get(first..).unwrap_or_default()
    }

    /// The value with exactly `frac` fractional digits: zero-extended, or rounded half up
    /// (away from zero, TiDB `ModeHalfUp`). Leading integer zeros are dropped. `None` if the
    /// result needs more than 81 digits.
    pub fn rescale(&self, frac: u8) -> Option<Decimal> {
        let int = self.trimmed_int();
        let old_frac = self.frac_digits();
        let new_frac = usize::from(frac);
        let mut digits = [0u8; MAX_DIGITS + 1];
        let kept_frac = old_frac
            .get(..new_frac.min(old_frac.len()))
            .unwrap_or_default();
        let total = int.len() + new_frac;
        if total > MAX_DIGITS {
            return None;
        }
        for (slot, d) in digits.iter_mut().skip(1).zip(int.iter().chain(kept_frac)) {
            *slot = *d;
        }
        // digits[0] is room for a carry; the value occupies digits[1..=total].
        let round_up = old_frac.get(new_frac).is_some_and(|&d| d >= 5);
        let mut carry_into_front = false;
        if round_up {
            let mut i = total;
            while let Some(slot) = digits.get_mut(i) {
                if i == 0 {
                    *slot = 1;
                    carry_into_front = true;
                    break;
                }
                if *slot == 9 {
                    *slot = 0;
                    i -= 1;
                } else {
                    *slot += 1;
                    break;
                }
            }
        }
        let (start, len) = if carry_into_front {
            (0, total + 1)
        } else {
            (1, total)
        };
        if len > MAX_DIGITS {
            return None;
        }
        let mut out = Decimal {
            negative: self.negative,
            precision: len as u8,
            frac,
            digits: [0; MAX_DIGITS],
        };
        for (slot, d) in out
            .digits
            .iter_mut()
            .zip(digits.iter().skip(start).take(len))
        {
            *slot = *d;
        }
        if out.precision == 0 {
            // "0" with no fractional digits keeps one integer digit.
            out.precision = 1;
        }
        if out.is_zero() {
            out.negative = false;
        }
        Some(out)
    }

    /// The value times 10^`scale`, rounded half up to an integer when `frac > scale`, as an
    /// `i128` — the unscaled value of a `DECIMAL(38, scale)`. `None` if it has more than 38
    /// digits.
    pub fn to_i128_scaled(&self, scale: u8) -> Option<i128> {
        let limit = 10i128.pow(MAX_I128_DIGITS);
        let frac = self.frac_digits();
        let scale = usize::from(scale);
        let mut acc: i128 = 0;
        let kept = frac.get(..scale.min(frac.len())).unwrap_or_default();
        for &d in self.trimmed_int().iter().chain(kept) {
            acc = acc.checked_mul(10)?.checked_add(i128::from(d))?;
            if acc >= limit {
                return None;
            }
        }
        for _ in frac.len()..scale {
            acc = acc.checked_mul(10)?;
            if acc >= limit {
                return None;
            }
        }
        if frac.get(scale).is_some_and(|&d| d >= 5) {
            acc += 1;
        }
        if acc >= limit {
            return None;
        }
        Some(if self.negative { -acc } else { acc })
    }
}

/// Canonical MySQL text: optional `-`, integer part without leading zeros (`0` if none), and
/// all `frac` fractional digits (`0.00`, `-1234567890.1234`).
impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // sign + up to 81 digits + point
        let mut buf = [0u8; MAX_DIGITS + 3];
        let mut n = 0usize;
        let mut push = |b: u8| {
            if let Some(slot) = buf.get_mut(n) {
                *slot = b;
                n += 1;
            }
        };
        if self.negative {
            push(b'-');
        }
        let int = self.trimmed_int();
        if int.is_empty() {
            push(b'0');
        }
        for &d in int {
            push(b'0' + d);
        }
        let frac = self.frac_digits();
        if !frac.is_empty() {
            push(b'.');
            for &d in frac {
                push(b'0' + d);
            }
        }
        let text = buf
            .get(..n)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default();
        f.pad(text)
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({self}, p={}, f={})", self.precision, self.frac)
    }
}

/// Parses `[+-]digits[.digits]` (no exponent). Leading integer zeros are dropped; the
/// fractional digits are kept as written, so `"1.50"` has frac 2.
impl FromStr for Decimal {
    type Err = CodecError;

    fn from_str(s: &str) -> Result<Self> {
        let bad =
            |reason: &str| CodecError::invalid("decimal text", 0, format!("{reason} in {s:?}"));
        let (negative, body) = match s.as_bytes().first() {
            Some(b'-') => (true, s.get(1..).unwrap_or_default()),
            Some(b'+') => (false, s.get(1..).unwrap_or_default()),
            _ => (false, s),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(bad("no digits"));
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad("unexpected character"));
        }
        let int = int.trim_start_matches('0');
        let total = int.len() + frac.len();
        if total > MAX_DIGITS || frac.len() > usize::from(u8::MAX) {
            return Err(bad("more than 81 digits"));
        }
        let mut dec = Decimal {
            negative,
            precision: total as u8,
            frac: frac.len() as u8,
            digits: [0; MAX_DIGITS],
        };
        for (slot, b) in dec.digits.iter_mut().zip(int.bytes().chain(frac.bytes())) {
            *slot = b - b'0';
        }
        if dec.precision == 0 {
            dec.precision = 1;
        }
        if dec.is_zero() {
            dec.negative = false;
        }
        Ok(dec)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn enc(s: &str, p: u8, f: u8) -> Vec<u8> {
        let mut out = Vec::new();
        d(s).encode(p, f, &mut out).unwrap();
        out
    }

    #[test]
    fn mydecimal_go_vectors() {
        // §10.1 item 2: TiDB mydecimal.go comment above ToBin, DECIMAL(14,4).
        let pos = h("0e 04 81 0D FB 38 D2 04 D2");
        let neg = h("0e 04 7E F2 04 C7 2D FB 2D");
        assert_eq!(enc("1234567890.1234", 14, 4), pos);
        assert_eq!(enc("-1234567890.1234", 14, 4), neg);
        let (v, n) = Decimal::decode(&pos).unwrap();
        assert_eq!((v.to_string(), n), ("1234567890.1234".to_string(), 9));
        assert_eq!((v.precision(), v.frac()), (14, 4));
        let (v, n) = Decimal::decode(&neg).unwrap();
        assert_eq!((v.to_string(), n), ("-1234567890.1234".to_string(), 9));
        assert!(v.is_negative());
        assert_eq!(v.to_i128_scaled(4), Some(-12_345_678_901_234));
    }

    /// The fast path agrees with `decode` + `to_i128_scaled` wherever it answers, and answers
    /// exactly for the column's own frac and precision <= 38.
    #[test]
    fn unscaled_i128_fast_path_matches_the_digit_path() {
        let mut next = crate::codec::xorshift(0x9e37_79b9_7f4a_7c15);
        let mut checked = 0;
        for precision in 1..=40u8 {
            for frac in 0..=precision.min(30) {
                for _ in 0..20 {
                    let digits: String = (0..precision)
                        .map(|_| char::from(b'0' + (next() % 10) as u8))
                        .collect();
                    let (int, fraction) = digits.split_at(usize::from(precision - frac));
                    let sign = if next().is_multiple_of(3) { "-" } else { "" };
                    let text = match (int.is_empty(), fraction.is_empty()) {
                        (true, _) => format!("{sign}0.{fraction}"),
                        (false, true) => format!("{sign}{int}"),
                        (false, false) => format!("{sign}{int}.{fraction}"),
                    };
                    let bytes = enc(&text, precision, frac);
                    let (slow, used) = Decimal::decode(&bytes).unwrap();
                    for scale in [frac, frac.saturating_sub(1), frac + 1] {
                        let fast = Decimal::decode_unscaled_i128(&bytes, scale).unwrap();
                        if scale == frac && precision <= 38 {
                            assert_eq!(
                                fast,
                                Some((slow.to_i128_scaled(scale).unwrap(), used)),
                                "{text} DECIMAL({precision},{frac})"
                            );
                            checked += 1;
                        } else {
                            assert_eq!(fast, None, "{text} DECIMAL({precision},{frac}) @{scale}");
                        }
                    }
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
        assert_eq!(
            Decimal::decode_unscaled_i128(&h("0e 04 7E F2 04 C7 2D FB 2D"), 4).unwrap(),
            Some((-12_345_678_901_234, 9))
        );
        // Corrupt input fails the same way on both paths.
        let bad = h("04 02 80 ff");
        assert_eq!(
            Decimal::decode_unscaled_i128(&bad, 2)
                .unwrap_err()
                .to_string(),
            Decimal::decode(&bad).unwrap_err().to_string()
        );
        assert!(Decimal::decode_unscaled_i128(&h("04 02 80"), 2).is_err());
        assert!(Decimal::decode_unscaled_i128(&h("04"), 2).is_err());
    }

    #[test]
    fn rowcodec_and_derived_vectors() {
        // §10.1 item 3: DECIMAL(6,4) 11.9900
        let p = h("06 04 8b 26 ac");
        assert_eq!(enc("11.99", 6, 4), p);
        let (v, _) = Decimal::decode(&p).unwrap();
        assert_eq!(v.to_string(), "11.9900");
        // §10.2: DECIMAL(4,2) -10.55
        let p = h("04 02 75 c8");
        assert_eq!(enc("-10.55", 4, 2), p);
        let (v, n) = Decimal::decode(&p).unwrap();
        assert_eq!((v.to_string(), n), ("-10.55".to_string(), 4));
        assert_eq!(v.to_i128_scaled(2), Some(-1055));
        assert_eq!(v.to_i128_scaled(1), Some(-106), "half up away from zero");
        assert_eq!(v.to_i128_scaled(0), Some(-11));
        assert_eq!(v.to_i128_scaled(5), Some(-1_055_000));
    }

    #[test]
    fn zero_and_negative_zero() {
        let p = enc("0", 4, 2);
        assert_eq!(p, h("04 02 80 00"));
        let (v, _) = Decimal::decode(&p).unwrap();
        assert_eq!(v.to_string(), "0.00");
        assert!(v.is_zero() && !v.is_negative());
        assert_eq!(d("-0.000").to_string(), "0.000");
        assert_eq!(enc("-0", 4, 2), p, "zero is written positive");
        // A negative-zero body (all bytes inverted) can only come from a crafted payload; TiDB
        // would print "-0.00", we normalise to "0.00".
        let (v, _) = Decimal::decode(&h("04 02 7f ff")).unwrap();
        assert_eq!(v.to_string(), "0.00");
        assert!(!v.is_negative());
        assert_eq!(v.to_i128_scaled(2), Some(0));
        assert_eq!(Decimal::zero(3).to_string(), "0.000");
        assert_eq!(Decimal::zero(0).to_string(), "0");
        assert_eq!(d("0").to_string(), "0");
        assert_eq!(d(".5").to_string(), "0.5");
        assert_eq!(d("7.").to_string(), "7");
        assert_eq!(d("+007.10").to_string(), "7.10");
    }

    #[test]
    fn sixty_five_digits() {
        let int = "12345678901234567890123456789012345";
        let frac = "123456789012345678901234567890";
        for sign in ["", "-"] {
            let s = format!("{sign}{int}.{frac}");
            let p = enc(&s, 65, 30);
            assert_eq!(p.len(), 2 + bin_size(65, 30).unwrap());
            assert_eq!(bin_size(65, 30).unwrap(), 30);
            let (v, n) = Decimal::decode(&p).unwrap();
            assert_eq!(n, p.len());
            assert_eq!(v.to_string(), s);
            // 35 integer digits + 3 = 38 fit in i128; + 4 do not
            let expect: i128 = format!("{sign}{int}{}", &frac[..3]).parse().unwrap();
            assert_eq!(v.to_i128_scaled(3), Some(expect));
            assert_eq!(v.to_i128_scaled(4), None, "too many digits for i128");
            let mut again = Vec::new();
            v.encode(65, 30, &mut again).unwrap();
            assert_eq!(again, p);
        }
        let max = format!("{}.{}", "9".repeat(35), "9".repeat(30));
        let (v, _) = Decimal::decode(&enc(&max, 65, 30)).unwrap();
        assert_eq!(v.to_string(), max);
        let max81 = "9".repeat(81);
        let (v, _) = Decimal::decode(&enc(&max81, 81, 0)).unwrap();
        assert_eq!(v.to_string(), max81);
    }

    #[test]
    fn to_i128_limits() {
        let s = "9".repeat(38);
        assert_eq!(d(&s).to_i128_scaled(0), Some(10i128.pow(38) - 1));
        assert_eq!(
            d(&format!("-{s}")).to_i128_scaled(0),
            Some(1 - 10i128.pow(38))
        );
        assert_eq!(
            d(&format!("{s}.4")).to_i128_scaled(0),
            Some(10i128.pow(38) - 1)
        );
        assert_eq!(
            d(&format!("{s}.5")).to_i128_scaled(0),
            None,
            "rounds to 39 digits"
        );
        assert_eq!(d(&"9".repeat(39)).to_i128_scaled(0), None);
        assert_eq!(d("1").to_i128_scaled(38), None);
        assert_eq!(d("0.1").to_i128_scaled(38), Some(10i128.pow(37)));
        assert_eq!(
            d("0.000000000000000000000000000000000000000000000000001").to_i128_scaled(2),
            Some(0)
        );
        assert_eq!(d("0.005").to_i128_scaled(2), Some(1));
        assert_eq!(d("-0.005").to_i128_scaled(2), Some(-1));
        assert_eq!(d("-0.004").to_i128_scaled(2), Some(0));
        assert_eq!(
            d("000000000000000000000000000000000000000000000012.5").to_i128_scaled(1),
            Some(125)
        );
    }

    #[test]
    fn rescale_rounds_half_up() {
        assert_eq!(d("99.995").rescale(2).unwrap().to_string(), "100.00");
        assert_eq!(d("-99.995").rescale(2).unwrap().to_string(), "-100.00");
        assert_eq!(d("1.2345").rescale(2).unwrap().to_string(), "1.23");
        assert_eq!(d("1.2").rescale(4).unwrap().to_string(), "1.2000");
        assert_eq!(d("0.4").rescale(0).unwrap().to_string(), "0");
        assert_eq!(d("0.5").rescale(0).unwrap().to_string(), "1");
        assert_eq!(d("-0.4").rescale(0).unwrap().to_string(), "0");
        assert!(!d("-0.4").rescale(0).unwrap().is_negative());
        assert_eq!(d("9.9").rescale(0).unwrap().to_string(), "10");
        assert!(d(&"9".repeat(81)).rescale(1).is_none());
        // encode rounds to the column's frac
        let (v, _) = Decimal::decode(&enc("1.235", 5, 2)).unwrap();
        assert_eq!(v.to_string(), "1.24");
    }

    #[test]
    fn encode_errors() {
        let mut out = Vec::new();
        assert!(d("1000").encode(5, 2, &mut out).is_err());
        assert!(
            d("999.995").encode(5, 2, &mut out).is_err(),
            "rounding carries over"
        );
        assert!(d("1").encode(0, 0, &mut out).is_err());
        assert!(d("1").encode(3, 4, &mut out).is_err());
        assert!(d("1").encode(82, 0, &mut out).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn round_trip_many_shapes() {
        let mut s = 0x5eed_u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        for _ in 0..3000 {
            let p = (next() % 65 + 1) as u8;
            let f = (next() % (u64::from(p.min(30)) + 1)) as u8;
            let intg = usize::from(p - f);
            let int_len = (next() % (intg as u64 + 1)) as usize;
            let int: String = (0..int_len)
                .map(|_| char::from(b'0' + (next() % 10) as u8))
                .collect();
            let frac: String = (0..f)
                .map(|_| char::from(b'0' + (next() % 10) as u8))
                .collect();
            let sign = if next().is_multiple_of(2) { "-" } else { "" };
            let text = if f == 0 {
                format!("{sign}{int}")
            } else {
                format!("{sign}{int}.{frac}")
            };
            let text = if int.is_empty() && f == 0 {
                "0".to_string()
            } else {
                text
            };
            let v = d(&text);
            let mut payload = Vec::new();
            v.encode(p, f, &mut payload).unwrap();
            assert_eq!(payload.len(), 2 + bin_size(p, f).unwrap());
            let (back, n) = Decimal::decode(&payload).unwrap();
            assert_eq!(n, payload.len());
            assert_eq!(
                back.to_string(),
                v.rescale(f).unwrap().to_string(),
                "{text} ({p},{f})"
            );
            if p <= 38 {
                assert_eq!(back.to_i128_scaled(f), v.to_i128_scaled(f));
                let expect: i128 = back.to_string().replace('.', "").parse().unwrap();
                assert_eq!(back.to_i128_scaled(f), Some(expect));
            }
            for cut in 0..payload.len() {
                assert!(Decimal::decode(&payload[..cut]).is_err());
            }
        }
    }

    #[test]
    fn malformed_payloads() {
        assert_eq!(
            Decimal::decode(&[]).unwrap_err().to_string(),
            "decimal: precision and frac needs 2 bytes at offset 0, only 0 left"
        );
        assert_eq!(
            Decimal::decode(&[4, 2, 0x80]).unwrap_err().to_string(),
            "decimal: body needs 2 bytes at offset 2, only 1 left"
        );
        assert!(Decimal::decode(&[0, 0, 0x80]).is_err());
        assert!(Decimal::decode(&[2, 3, 0x80, 0]).is_err());
        assert!(Decimal::decode(&[90, 0, 0x80]).is_err());
        // group out of range: 1 digit group holding 10
        let err = Decimal::decode(&[1, 0, 0x8a]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "decimal: digit group at offset 2: expected a value below 10^1, found 10"
        );
        // full word above 999999999
        assert!(Decimal::decode(&[9, 0, 0xbb, 0x9a, 0xca, 0x00]).is_err());
        assert!(Decimal::decode(&[9, 0, 0xbb, 0x9a, 0xc9, 0xff]).is_ok());
        // trailing bytes are not consumed
        let (_, n) = Decimal::decode(&[1, 0, 0x85, 0xee]).unwrap();
        assert_eq!(n, 3);
        // text errors
        for bad in ["", "-", ".", "1e5", "1.2.3", "abc", " 1"] {
            assert!(bad.parse::<Decimal>().is_err(), "{bad:?}");
        }
        assert!("1".repeat(82).parse::<Decimal>().is_err());
    }

    #[test]
    fn display_pads() {
        assert_eq!(format!("{:>8}", d("-1.5")), "    -1.5");
        assert_eq!(format!("{:?}", d("1.50")), "Decimal(1.50, p=3, f=2)");
    }
}
