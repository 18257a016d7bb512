//! Column bound values and their two Iceberg encodings: the binary single-value serialization
//! that manifests store in `lower_bounds`/`upper_bounds`, and the JSON single-value serialization
//! that the JSON manifest (`--write-iceberg-manifest`) uses.
//!
//! Spec: Iceberg table spec, Appendix D "Single-value serialization"
//! (<https://iceberg.apache.org/spec/#appendix-d-single-value-serialization>).
//!
//! ```text
//! type           binary                                   JSON
//! boolean        1 byte, 0x00 false / 0x01 true           true
//! int, date      4 bytes little-endian (date: days)        34, "2017-11-16"
//! long, time,    8 bytes little-endian (time: µs of day,   34, "22:31:08.123456",
//!  timestamp(tz)  timestamp: µs since 1970-01-01 [UTC])     "2017-11-16T22:31:08.123456[+00:00]"
//! float, double  4 / 8 bytes little-endian IEEE 754        1.0
//! decimal(P,S)   unscaled value, two's-complement          "14.20"
//!                big-endian, fewest bytes that hold it
//! string         UTF-8 bytes, no length                    "iceberg"
//! binary, fixed  the bytes, no length                      "000102ff" (hex)
//! ```
//!
//! Bounds of long strings and binaries are truncated as Iceberg's default metrics mode
//! `truncate(16)` does: the lower bound is the 16-character (string) or 16-byte (binary) prefix,
//! the upper bound is that prefix with its last character/byte incremented, so it still sorts at
//! or after every value; when no increment is possible there is no upper bound.

use std::cmp::Ordering;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::json;

/// Characters (string) or bytes (binary) kept in a bound: Iceberg's default `truncate(16)`.
pub const BOUND_TRUNCATE_LENGTH: usize = 16;

/// One value of a column, typed as Iceberg types it.
///
/// Serializable so that a finished job's record (`export::resume`) can keep the bounds of its
/// files: floats are kept as their IEEE 754 bits, since JSON numbers cannot hold infinities and
/// a reader may round the last bit, and the unscaled decimal as a string, since JSON numbers
/// are not read exactly beyond 64 bits by every reader.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// `boolean`.
    Boolean(bool),
    /// `int`.
    Int(i32),
    /// `long`.
    Long(i64),
    /// `float`.
    Float(#[serde(with = "f32_bits")] f32),
    /// `double`.
    Double(#[serde(with = "f64_bits")] f64),
    /// `decimal(P, S)`: the unscaled value.
    Decimal {
        /// Unscaled value.
        #[serde(with = "i128_text")]
        unscaled: i128,
        /// Scale (digits after the point).
        scale: i8,
    },
    /// `date`: days since 1970-01-01.
    Date(i32),
    /// `time`: microseconds since midnight.
    Time(i64),
    /// `timestamp`: microseconds since 1970-01-01 00:00:00, no zone.
    Timestamp(i64),
    /// `timestamptz`: microseconds since 1970-01-01 00:00:00 UTC.
    TimestampTz(i64),
    /// `string`.
    String(String),
    /// `fixed(L)`.
    Fixed(Vec<u8>),
    /// `binary`.
    Binary(Vec<u8>),
}

impl Value {
    /// Iceberg's binary single-value serialization.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Value::Boolean(b) => vec![u8::from(*b)],
            Value::Int(v) | Value::Date(v) => v.to_le_bytes().to_vec(),
            Value::Long(v) | Value::Time(v) | Value::Timestamp(v) | Value::TimestampTz(v) => {
                v.to_le_bytes().to_vec()
            }
            Value::Float(v) => v.to_le_bytes().to_vec(),
            Value::Double(v) => v.to_le_bytes().to_vec(),
            Value::Decimal { unscaled, .. } => decimal_bytes(*unscaled),
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Fixed(b) | Value::Binary(b) => b.clone(),
        }
    }

    /// Iceberg's JSON single-value serialization. Non-finite floats, which JSON numbers cannot
    /// hold, become the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Boolean(b) => json!(b),
            Value::Int(v) => json!(v),
            Value::Long(v) => json!(v),
            Value::Float(v) => float_json(f64::from(*v)),
            Value::Double(v) => float_json(*v),
            Value::Decimal { unscaled, scale } => json!(decimal_text(*unscaled, *scale)),
            Value::Date(days) => json!(date_text(i64::from(*days))),
            Value::Time(micros) => json!(time_text(*micros)),
            Value::Timestamp(micros) => json!(timestamp_text(*micros)),
            Value::TimestampTz(micros) => json!(format!("{}+00:00", timestamp_text(*micros))),
            Value::String(s) => json!(s),
            Value::Fixed(b) | Value::Binary(b) => json!(hex::encode(b)),
        }
    }

    /// Orders two values of the same variant as Iceberg does (strings and binaries by unsigned
    /// bytes, floats by IEEE total order); `None` for different variants.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        use Value::*;
        Some(match (self, other) {
            (Boolean(a), Boolean(b)) => a.cmp(b),
            (Int(a), Int(b)) | (Date(a), Date(b)) => a.cmp(b),
            (Long(a), Long(b))
            | (Time(a), Time(b))
            | (Timestamp(a), Timestamp(b))
            | (TimestampTz(a), TimestampTz(b)) => a.cmp(b),
            (Float(a), Float(b)) => a.total_cmp(b),
            (Double(a), Double(b)) => a.total_cmp(b),
            (Decimal { unscaled: a, .. }, Decimal { unscaled: b, .. }) => a.cmp(b),
            (String(a), String(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Fixed(a), Fixed(b)) | (Binary(a), Binary(b)) => a.cmp(b),
            _ => return None,
        })
    }
}

/// Serializes an `f32` as its bits (see [`Value`]).
mod f32_bits {
    use super::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f32, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(value.to_bits())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f32, D::Error> {
        u32::deserialize(deserializer).map(f32::from_bits)
    }
}

/// Serializes an `f64` as its bits (see [`Value`]).
mod f64_bits {
    use super::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(value.to_bits())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        u64::deserialize(deserializer).map(f64::from_bits)
    }
}

/// Serializes an `i128` as decimal text (see [`Value`]).
mod i128_text {
    use super::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &i128, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i128, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The two's-complement big-endian bytes of `v`, using the fewest bytes that keep its sign:
/// 0 → `00`, 1420 → `05 8c`, -1 → `ff`, 128 → `00 80`, -129 → `ff 7f`.
pub fn decimal_bytes(v: i128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start + 1 < bytes.len() {
        let (Some(&b), Some(&next)) = (bytes.get(start), bytes.get(start + 1)) else {
            break;
        };
        // A leading 0x00 (0xff) is redundant when the next byte already carries the sign bit.
        let redundant = (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    bytes.get(start..).unwrap_or_default().to_vec()
}

/// A lower bound for every string that starts like `s`: its first
/// [`BOUND_TRUNCATE_LENGTH`] characters.
pub fn truncate_string_lower(s: &str) -> &str {
    match s.char_indices().nth(BOUND_TRUNCATE_LENGTH) {
        Some((end, _)) => s.get(..end).unwrap_or(s),
        None => s,
    }
}

/// An upper bound for `s` no longer than [`BOUND_TRUNCATE_LENGTH`] characters: `s` itself when
/// short enough, else [`increment_string`] of its prefix. `None` when no such bound exists.
pub fn truncate_string_upper(s: &str) -> Option<String> {
    let lower = truncate_string_lower(s);
    if lower.len() == s.len() {
        return Some(s.to_string());
    }
    increment_string(lower)
}

/// The smallest string that sorts after every string starting with `prefix` and is no longer
/// than it: the last character that can be incremented is, and the characters after it are
/// dropped. `None` when every character is U+10FFFF.
pub fn increment_string(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = next_char(last) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The next Unicode scalar value, skipping the surrogate range.
fn next_char(c: char) -> Option<char> {
    match u32::from(c) {
        0xD7FF => char::from_u32(0xE000),
        code => char::from_u32(code.checked_add(1)?),
    }
}

/// The first [`BOUND_TRUNCATE_LENGTH`] bytes of `b`: a lower bound for it.
pub fn truncate_binary_lower(b: &[u8]) -> &[u8] {
    b.get(..BOUND_TRUNCATE_LENGTH).unwrap_or(b)
}

/// An upper bound for `b` no longer than [`BOUND_TRUNCATE_LENGTH`] bytes: `b` when short enough,
/// else [`increment_binary`] of its prefix. `None` when no such bound exists.
pub fn truncate_binary_upper(b: &[u8]) -> Option<Vec<u8>> {
    if b.len() <= BOUND_TRUNCATE_LENGTH {
        return Some(b.to_vec());
    }
    increment_binary(truncate_binary_lower(b))
}

/// The smallest byte string that sorts after every string starting with `prefix` and is no
/// longer than it: `prefix` up to and including its last byte below 0xff, incremented. `None`
/// when every byte is 0xff.
pub fn increment_binary(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut bytes = prefix.to_vec();
    while let Some(last) = bytes.pop() {
        if last < 0xff {
            bytes.push(last + 1);
            return Some(bytes);
        }
    }
    None
}

fn float_json(v: f64) -> serde_json::Value {
    if v.is_nan() {
        json!("NaN")
    } else if v == f64::INFINITY {
        json!("Infinity")
    } else if v == f64::NEG_INFINITY {
        json!("-Infinity")
    } else {
        json!(v)
    }
}

/// `unscaled × 10^-scale` as plain text: 1420, scale 2 → `14.20`; -5, scale 3 → `-0.005`.
/// A negative scale uses scientific notation (`2E+20`), as the spec requires.
pub fn decimal_text(unscaled: i128, scale: i8) -> String {
    let sign = if unscaled < 0 { "-" } else { "" };
    let digits = unscaled.unsigned_abs().to_string();
    if scale < 0 {
        return format!("{sign}{digits}E+{}", -i32::from(scale));
    }
    let scale = usize::from(scale.unsigned_abs());
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// Days since 1970-01-01 as `YYYY-MM-DD` (proleptic Gregorian; H. Hinnant's civil-from-days).
pub fn date_text(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if (0..=9999).contains(&year) {
        format!("{year:04}-{month:02}-{day:02}")
    } else {
        format!("{year:+05}-{month:02}-{day:02}")
    }
}

/// Microseconds since midnight as `HH:MM:SS.ffffff`.
pub fn time_text(micros: i64) -> String {
    let (secs, frac) = (micros.div_euclid(1_000_000), micros.rem_euclid(1_000_000));
    let sign = if secs < 0 { "-" } else { "" };
    let secs = secs.unsigned_abs();
    format!(
        "{sign}{:02}:{:02}:{:02}.{frac:06}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Microseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.ffffff`.
pub fn timestamp_text(micros: i64) -> String {
    let day_micros = 86_400_000_000;
    format!(
        "{}T{}",
        date_text(micros.div_euclid(day_micros)),
        time_text(micros.rem_euclid(day_micros))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_json_bit_for_bit() {
        let values = [
            Value::Boolean(true),
            Value::Int(-7),
            Value::Long(i64::MIN),
            Value::Float(f32::INFINITY),
            Value::Float(-0.0),
            Value::Float(0.1),
            Value::Double(f64::NEG_INFINITY),
            Value::Double(f64::from_bits(0x3fb9_9999_9999_999a)),
            Value::Double(5e-324),
            Value::Decimal {
                unscaled: i128::MIN,
                scale: 38,
            },
            Value::Decimal {
                unscaled: -12_345_678_901_234_567_890_123_456_789,
                scale: 2,
            },
            Value::Date(17_486),
            Value::Time(81_068_123_456),
            Value::Timestamp(-1),
            Value::TimestampTz(1_510_871_468_123_456),
            Value::String("表格 \"x\"".into()),
            Value::Fixed(vec![0, 1, 255]),
            Value::Binary(Vec::new()),
        ];
        for value in values {
            let json = serde_json::to_string(&value).unwrap();
            let back: Value = serde_json::from_str(&json).unwrap();
            assert_eq!(back.to_bytes(), value.to_bytes(), "{json}");
            assert_eq!(back, value, "{json}");
        }
        assert_eq!(
            serde_json::to_string(&Value::Float(1.0)).unwrap(),
            r#"{"Float":1065353216}"#
        );
        assert_eq!(
            serde_json::to_string(&Value::Decimal {
                unscaled: 1420,
                scale: 2
            })
            .unwrap(),
            r#"{"Decimal":{"unscaled":"1420","scale":2}}"#
        );
    }

    /// The example values of the spec's Appendix B/D (34, 2017-11-16, 22:31:08, "iceberg",
    /// 14.20, ...) in both serializations.
    #[test]
    fn appendix_d_vectors() {
        let cases: Vec<(Value, &str, serde_json::Value)> = vec![
            (Value::Boolean(true), "01", json!(true)),
            (Value::Boolean(false), "00", json!(false)),
            (Value::Int(34), "22000000", json!(34)),
            (Value::Int(-2), "feffffff", json!(-2)),
            (Value::Long(34), "2200000000000000", json!(34)),
            (
                Value::Long(-9_223_372_036_854_775_807),
                "0100000000000080",
                json!(-9_223_372_036_854_775_807i64),
            ),
            (Value::Float(1.0), "0000803f", json!(1.0)),
            (Value::Float(-0.0), "00000080", json!(-0.0)),
            (Value::Double(1.0), "000000000000f03f", json!(1.0)),
            (
                Value::Double(f64::INFINITY),
                "000000000000f07f",
                json!("Infinity"),
            ),
            // 2017-11-16 is day 17486 = 0x444e.
            (Value::Date(17_486), "4e440000", json!("2017-11-16")),
            (Value::Date(-1), "ffffffff", json!("1969-12-31")),
            // 22:31:08.123456 = 81068123456 µs.
            (
                Value::Time(81_068_123_456),
                "406509e012000000",
                json!("22:31:08.123456"),
            ),
            // 2017-11-16T22:31:08 = 1510871468000000 µs.
            (
                Value::Timestamp(1_510_871_468_000_000),
                "00c3262d215e0500",
                json!("2017-11-16T22:31:08.000000"),
            ),
            (
                Value::TimestampTz(1_510_871_468_123_456),
                "40a5282d215e0500",
                json!("2017-11-16T22:31:08.123456+00:00"),
            ),
            (
                Value::String("iceberg".into()),
                "69636562657267",
                json!("iceberg"),
            ),
            (Value::String("€".into()), "e282ac", json!("€")),
            (
                Value::Binary(vec![0, 1, 2, 0xff]),
                "000102ff",
                json!("000102ff"),
            ),
            (Value::Fixed(vec![0xab; 3]), "ababab", json!("ababab")),
            (
                Value::Decimal {
                    unscaled: 1420,
                    scale: 2,
                },
                "058c",
                json!("14.20"),
            ),
            (
                Value::Decimal {
                    unscaled: -1420,
                    scale: 2,
                },
                "fa74",
                json!("-14.20"),
            ),
            (
                Value::Decimal {
                    unscaled: 2,
                    scale: -20,
                },
                "02",
                json!("2E+20"),
            ),
            (
                Value::Decimal {
                    unscaled: -5,
                    scale: 3,
                },
                "fb",
                json!("-0.005"),
            ),
            // u64::MAX as DECIMAL(20,0) (BIGINT UNSIGNED) needs 9 bytes.
            (
                Value::Decimal {
                    unscaled: i128::from(u64::MAX),
                    scale: 0,
                },
                "00ffffffffffffffff",
                json!("18446744073709551615"),
            ),
        ];
        for (value, bytes, text) in cases {
            assert_eq!(hex::encode(value.to_bytes()), bytes, "{value:?}");
            assert_eq!(value.to_json(), text, "{value:?}");
        }
    }

    #[test]
    fn decimal_bytes_are_minimal() {
        for (v, want) in [
            (0i128, "00"),
            (1, "01"),
            (127, "7f"),
            (128, "0080"),
            (255, "00ff"),
            (256, "0100"),
            (-1, "ff"),
            (-128, "80"),
            (-129, "ff7f"),
            (i128::MAX, "7fffffffffffffffffffffffffffffff"),
            (i128::MIN, "80000000000000000000000000000000"),
        ] {
            assert_eq!(hex::encode(decimal_bytes(v)), want, "{v}");
        }
    }

    #[test]
    fn long_bounds_are_little_endian() {
        // The upstream exporter wrote 7 as 00..07 (big-endian); Iceberg reads 07 00.. .
        assert_eq!(Value::Long(7).to_bytes(), [7, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(Value::Double(7.0).to_bytes(), 7.0f64.to_le_bytes());
    }

    #[test]
    fn string_truncation() {
        let short = "exactly sixteen!";
        assert_eq!(short.chars().count(), 16);
        assert_eq!(truncate_string_lower(short), short);
        assert_eq!(truncate_string_upper(short).as_deref(), Some(short));

        let long = "abcdefghijklmnopqrstuvwxyz";
        assert_eq!(truncate_string_lower(long), "abcdefghijklmnop");
        assert_eq!(
            truncate_string_upper(long).as_deref(),
            Some("abcdefghijklmnoq")
        );

        // Characters, not bytes: 20 × "é" (2 bytes each) keeps 16 characters.
        let accents = "é".repeat(20);
        assert_eq!(truncate_string_lower(&accents), "é".repeat(16));
        assert_eq!(
            truncate_string_upper(&accents),
            Some(format!("{}ê", "é".repeat(15)))
        );

        // The last character cannot grow: drop it and increment the one before.
        let top = format!("{}a\u{10FFFF}xyz", "b".repeat(14));
        assert_eq!(
            truncate_string_upper(&top),
            Some(format!("{}b", "b".repeat(14)))
        );
        // Incrementing U+D7FF skips the surrogates.
        let before_surrogates = format!("{}\u{D7FF}tail", "c".repeat(15));
        assert_eq!(
            truncate_string_upper(&before_surrogates),
            Some(format!("{}\u{E000}", "c".repeat(15)))
        );
        assert_eq!(truncate_string_upper(&"\u{10FFFF}".repeat(17)), None);

        for value in [
            long,
            accents.as_str(),
            top.as_str(),
            "zzzzzzzzzzzzzzzzzzzz~",
        ] {
            let lower = truncate_string_lower(value);
            assert!(lower.as_bytes() <= value.as_bytes());
            if let Some(upper) = truncate_string_upper(value) {
                assert!(upper.as_bytes() >= value.as_bytes(), "{upper} < {value}");
                assert!(upper.chars().count() <= BOUND_TRUNCATE_LENGTH);
            }
        }
    }

    #[test]
    fn binary_truncation() {
        let short = [7u8; 16];
        assert_eq!(truncate_binary_lower(&short), short);
        assert_eq!(truncate_binary_upper(&short), Some(short.to_vec()));

        let mut long = vec![1u8; 20];
        assert_eq!(truncate_binary_lower(&long), [1u8; 16]);
        let mut want = vec![1u8; 15];
        want.push(2);
        assert_eq!(truncate_binary_upper(&long), Some(want));

        // Trailing 0xff bytes cannot be incremented: the byte before them is.
        long[14] = 0xff;
        long[15] = 0xff;
        let mut want = vec![1u8; 13];
        want.push(2);
        assert_eq!(truncate_binary_upper(&long), Some(want));
        assert_eq!(truncate_binary_upper(&[0xff; 17]), None);
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(date_text(-719_162), "0001-01-01");
        assert_eq!(date_text(2_932_896), "9999-12-31");
        assert_eq!(date_text(11_016), "2000-02-29");
        assert_eq!(time_text(0), "00:00:00.000000");
        assert_eq!(time_text(86_399_999_999), "23:59:59.999999");
        assert_eq!(timestamp_text(-1), "1969-12-31T23:59:59.999999");
        assert_eq!(decimal_text(5, 2), "0.05");
        assert_eq!(decimal_text(0, 0), "0");
    }

    #[test]
    fn comparison_is_iceberg_order() {
        let a = Value::String("Zoë".into());
        let b = Value::String("Zoe".into());
        assert_eq!(b.compare(&a), Some(Ordering::Less));
        assert_eq!(
            Value::Double(-0.0).compare(&Value::Double(0.0)),
            Some(Ordering::Less)
        );
        assert_eq!(Value::Int(1).compare(&Value::Long(1)), None);
    }
}
