//! `origin_default`: the value a row written before `ALTER TABLE ... ADD COLUMN` holds.
//!
//! TiDB keeps it in the schema as text (JSON string, or number), and BIT defaults as base64 bytes
//! in `origin_default_bit`. It is converted once, per column, into the same row-v2 payload a
//! stored value would have, so the column decoder has a single path for both.

use crate::codec::decimal::Decimal;
use crate::codec::enums::{bit_from_bytes, encode_set, encode_vector_f32};
use crate::codec::json::encode_json;
use crate::codec::number::{encode_cmp_f64, encode_v2_int, encode_v2_uint};
use crate::codec::time::PackedTime;
use crate::meta::ColumnSchema;
use crate::{Error, Result};

use super::types::ColumnKind;

/// The origin default of `column` as a row-v2 payload, or `None` for NULL.
pub(crate) fn default_payload(column: &ColumnSchema, kind: ColumnKind) -> Result<Option<Vec<u8>>> {
    let mut payload = Vec::new();
    if matches!(kind, ColumnKind::Bit | ColumnKind::Bit64) {
        if let Some(bits) = &column.origin_default_bit {
            let value = bit_from_bytes(bits).map_err(|e| invalid(column, "BIT", &e.to_string()))?;
            encode_v2_uint(value, &mut payload);
            return Ok(Some(payload));
        }
    }
    let Some(value) = &column.origin_default else {
        return Ok(None);
    };
    let text = match value {
        serde_json::Value::Null => return Ok(None),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => u8::from(*b).to_string(),
        other => other.to_string(),
    };
    let trimmed = text.trim();
    let bad = |what: &str| invalid(column, what, &text);
    match kind {
        ColumnKind::Int32 | ColumnKind::Int64 => {
            encode_v2_int(trimmed.parse().map_err(|_| bad("integer"))?, &mut payload)
        }
        ColumnKind::UInt32AsInt32 | ColumnKind::UInt32AsInt64 | ColumnKind::UInt64AsDecimal => {
            encode_v2_uint(
                trimmed.parse().map_err(|_| bad("unsigned integer"))?,
                &mut payload,
            )
        }
        ColumnKind::Bit | ColumnKind::Bit64 => {
            // Without `origin_default_bit`, TiDB wrote the number itself.
            encode_v2_uint(trimmed.parse().map_err(|_| bad("BIT value"))?, &mut payload)
        }
        ColumnKind::Float32 | ColumnKind::Float64 => {
            payload.extend_from_slice(&encode_cmp_f64(trimmed.parse().map_err(|_| bad("number"))?))
        }
        ColumnKind::Decimal { .. } | ColumnKind::DecimalText { .. } => {
            let d: Decimal = trimmed.parse().map_err(|_| bad("decimal"))?;
            // More digits than any DECIMAL holds cannot be a default TiDB wrote.
            let frac = u8::try_from(d.frac_digits().len()).map_err(|_| bad("decimal"))?;
            let precision = u8::try_from(d.int_digits().len())
                .ok()
                .and_then(|int| int.checked_add(frac))
                .ok_or_else(|| bad("decimal"))?
                .max(1);
            d.encode(precision, frac, &mut payload)
                .map_err(|e| bad(&format!("decimal ({e})")))?;
        }
        ColumnKind::Date | ColumnKind::Datetime | ColumnKind::Timestamp => {
            let time = parse_datetime(trimmed).ok_or_else(|| bad("date/time"))?;
            encode_v2_uint(time.to_packed(), &mut payload)
        }
        ColumnKind::Time => encode_v2_int(
            parse_duration_nanos(trimmed).ok_or_else(|| bad("TIME"))?,
            &mut payload,
        ),
        ColumnKind::Utf8 | ColumnKind::Binary => payload = text.into_bytes(),
        ColumnKind::Enum => {
            let elems = &column.field_type.elems;
            let index = if text.is_empty() {
                0
            } else {
                elems
                    .iter()
                    .position(|e| *e == text)
                    .map(|i| i as u64 + 1)
                    .ok_or_else(|| bad("ENUM element"))?
            };
            encode_v2_uint(index, &mut payload)
        }
        ColumnKind::Set => {
            let names: Vec<&str> = text.split(',').filter(|s| !s.is_empty()).collect();
            let mask = encode_set(&column.field_type.elems, &names)
                .map_err(|e| bad(&format!("SET value ({e})")))?;
            encode_v2_uint(mask, &mut payload)
        }
        ColumnKind::Json => {
            let value: serde_json::Value = serde_json::from_str(&text).map_err(|_| bad("JSON"))?;
            let (type_code, body) =
                encode_json(&value).map_err(|e| bad(&format!("JSON value ({e})")))?;
            payload.push(type_code);
            payload.extend_from_slice(&body);
        }
        ColumnKind::VectorF32 => {
            let values: Vec<f32> = serde_json::from_str(&text).map_err(|_| bad("vector"))?;
            encode_vector_f32(&values, &mut payload).map_err(|e| bad(&format!("vector ({e})")))?
        }
    }
    Ok(Some(payload))
}

fn invalid(column: &ColumnSchema, what: &str, text: &str) -> Error {
    Error::Unsupported(format!(
        "column {:?}: origin default {text:?} is not a valid {what}",
        column.name
    ))
}

/// Parses MySQL's `YYYY-MM-DD[ HH:MM:SS[.ffffff]]` (also with `T`), as TiDB writes defaults.
pub(crate) fn parse_datetime(text: &str) -> Option<PackedTime> {
    let (date, time) = match text.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut parts = date.splitn(3, '-');
    let year = parts.next()?.parse().ok()?;
    let month = parts.next()?.parse().ok()?;
    let day = parts.next()?.parse().ok()?;
    let (mut hour, mut minute, mut second, mut micro) = (0, 0, 0, 0);
    if let Some(time) = time {
        let (hms, frac) = match time.split_once('.') {
            Some((hms, frac)) => (hms, Some(frac)),
            None => (time, None),
        };
        let mut t = hms.splitn(3, ':');
        hour = t.next()?.parse().ok()?;
        minute = t.next()?.parse().ok()?;
        second = t.next()?.parse().ok()?;
        if let Some(frac) = frac {
            micro = parse_micros(frac)?;
        }
    }
    if month > 12 || day > 31 || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(PackedTime::new(
        year, month, day, hour, minute, second, micro,
    ))
}

/// Parses MySQL's `[-]HHH:MM:SS[.ffffff]` into nanoseconds.
pub(crate) fn parse_duration_nanos(text: &str) -> Option<i64> {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (hms, frac) = match text.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (text, None),
    };
    let mut t = hms.splitn(3, ':');
    let hours: i64 = t.next()?.parse().ok()?;
    let minutes: i64 = t.next()?.parse().ok()?;
    let seconds: i64 = t.next()?.parse().ok()?;
    if minutes > 59 || seconds > 59 {
        return None;
    }
    let micros = frac.map_or(Some(0), parse_micros)?;
    // Checked: the hours come from the schema as text, of any size.
    let nanos = hours
        .checked_mul(60)?
        .checked_add(minutes)?
        .checked_mul(60)?
        .checked_add(seconds)?
        .checked_mul(1_000_000_000)?
        .checked_add(i64::from(micros) * 1000)?;
    Some(if negative { -nanos } else { nanos })
}

fn parse_micros(frac: &str) -> Option<u32> {
    if frac.is_empty() || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: u32 = frac.parse().ok()?;
    Some(digits * 10u32.pow(6 - frac.len() as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes() {
        let t = parse_datetime("2024-02-29 13:04:05.25").unwrap();
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second, t.micro),
            (2024, 2, 29, 13, 4, 5, 250_000)
        );
        assert_eq!(
            parse_datetime("0000-00-00 00:00:00").unwrap(),
            PackedTime::default()
        );
        assert_eq!(parse_datetime("9999-12-31").unwrap().day, 31);
        assert!(parse_datetime("2024-13-01").is_none());
        assert!(parse_datetime("yesterday").is_none());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_nanos("04:00:00"), Some(14_400_000_000_000));
        assert_eq!(
            parse_duration_nanos("-838:59:59.999999"),
            Some(-(3_020_399_999_999_000))
        );
        assert_eq!(parse_duration_nanos("00:00:01.5"), Some(1_500_000_000));
        assert!(parse_duration_nanos("1:60:00").is_none());
    }

    /// Schema defaults come from the backup: no text, however long or odd, may panic an encoder.
    #[test]
    fn any_default_text_is_a_value_or_an_error() {
        use crate::meta::{FieldType, TypeCode};
        let kinds = [
            ColumnKind::Int32,
            ColumnKind::Int64,
            ColumnKind::UInt32AsInt32,
            ColumnKind::UInt32AsInt64,
            ColumnKind::UInt64AsDecimal,
            ColumnKind::Float32,
            ColumnKind::Float64,
            ColumnKind::Decimal {
                precision: 10,
                scale: 2,
            },
            ColumnKind::DecimalText { scale: 2 },
            ColumnKind::Date,
            ColumnKind::Datetime,
            ColumnKind::Timestamp,
            ColumnKind::Time,
            ColumnKind::Utf8,
            ColumnKind::Binary,
            ColumnKind::Enum,
            ColumnKind::Set,
            ColumnKind::Bit,
            ColumnKind::Bit64,
            ColumnKind::Json,
            ColumnKind::VectorF32,
        ];
        let long_key = "k".repeat(70_000);
        let mut texts: Vec<String> = vec![
            String::new(),
            " ".into(),
            "-".into(),
            "9".repeat(400),
            format!("0.{}", "1".repeat(300)),
            "99999999999999999999:00:00".into(),
            "-9223372036854775807:59:59.999999".into(),
            "9999-99-99 99:99:99.9999999".into(),
            format!("{{\"{long_key}\": 1}}"),
            format!("[{}]", vec!["1.5"; 10_000].join(",")),
            "[1e40, -1e40]".into(),
            "a,b,,c,a".into(),
            "\u{0}\u{ffff}€".into(),
            "NaN".into(),
            "1e309".into(),
        ];
        let mut next = crate::codec::xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..500 {
            let len = (next() % 40) as usize;
            let text: String = (0..len)
                .map(|_| {
                    let pick = next() % 16;
                    b"0123456789-:. ,e"[pick as usize] as char
                })
                .collect();
            texts.push(text);
        }
        for kind in kinds {
            for text in &texts {
                let column = ColumnSchema {
                    id: 1,
                    name: "c".into(),
                    offset: 0,
                    field_type: FieldType {
                        tp: TypeCode::Long,
                        flag: 0,
                        flen: 10,
                        decimal: 2,
                        binary_charset: false,
                        elems: vec!["a".into(), "b".into()],
                    },
                    nullable: true,
                    is_pk_handle: false,
                    origin_default: Some(serde_json::Value::String(text.clone())),
                    origin_default_bit: None,
                    generated: None,
                    version: 2,
                };
                // Either outcome is fine; reaching here without a panic is the point.
                let _ = default_payload(&column, kind);
            }
        }
        let column = |text: &str| ColumnSchema {
            id: 1,
            name: "j".into(),
            offset: 0,
            field_type: FieldType {
                tp: TypeCode::Json,
                flag: 0,
                flen: 0,
                decimal: 0,
                binary_charset: true,
                elems: Vec::new(),
            },
            nullable: true,
            is_pk_handle: false,
            origin_default: Some(serde_json::Value::String(text.into())),
            origin_default_bit: None,
            generated: None,
            version: 2,
        };
        let err = default_payload(&column(&format!("{{\"{long_key}\": 1}}")), ColumnKind::Json)
            .unwrap_err()
            .to_string();
        assert!(err.contains("65535"), "{err}");
        assert!(
            default_payload(&column("{\"a\": [1, 2]}"), ColumnKind::Json)
                .unwrap()
                .is_some()
        );
    }
}
