//! TiDB binary JSON (spec §7.8) and its MySQL/TiDB text form.
//!
//! Sources: TiDB `pkg/types/json_binary.go` (layout comment, `marshalTo`, `marshalFloat64To`,
//! `jsonMarshalStringTo`, `jsonMarshalOpaqueTo`, `jsonMarshalTimeTo`, `appendBinaryObject`),
//! `pkg/types/json_constants.go` (type codes, `jsonSafeSet`). See `docs/codec-notes.md`.
//!
//! ```text
//! value    = type:u8 ‖ body                                   (all integers LE)
//! object   = count:u32 ‖ size:u32 ‖ count × (key_off:u32, key_len:u16)
//!            ‖ count × (type:u8, off_or_inline:u32) ‖ keys ‖ values
//! array    = count:u32 ‖ size:u32 ‖ count × (type:u8, off_or_inline:u32) ‖ values
//!            offsets are relative to the start of this object/array; size = its whole length;
//!            literals are inlined in the entry's first byte
//! literal  = 0x00 null | 0x01 true | 0x02 false
//! int64 / uint64 / double = 8 bytes;  string = varint len ‖ UTF-8;
//! opaque   = mysql type:u8 ‖ varint len ‖ bytes
//! date / datetime / timestamp = CoreTime u64;  time = i64 ns ‖ u32 fsp
//! ```
use std::fmt::Write as _;

use base64::Engine as _;

use super::number::{decode_varint_u64, encode_varint_u64};
use super::time::{Duration, PackedTime};
use super::{array_at, byte_at, slice_at, CodecError, Result};

/// Object.
pub const TYPE_OBJECT: u8 = 0x01;
/// Array.
pub const TYPE_ARRAY: u8 = 0x03;
/// null / true / false.
pub const TYPE_LITERAL: u8 = 0x04;
/// MySQL int16 (never written by TiDB; accepted).
pub const TYPE_INT16: u8 = 0x05;
/// MySQL uint16 (never written by TiDB; accepted).
pub const TYPE_UINT16: u8 = 0x06;
/// MySQL int32 (never written by TiDB; accepted).
pub const TYPE_INT32: u8 = 0x07;
/// MySQL uint32 (never written by TiDB; accepted).
pub const TYPE_UINT32: u8 = 0x08;
/// int64.
pub const TYPE_INT64: u8 = 0x09;
/// uint64.
pub const TYPE_UINT64: u8 = 0x0a;
/// double.
pub const TYPE_DOUBLE: u8 = 0x0b;
/// UTF-8 string.
pub const TYPE_STRING: u8 = 0x0c;
/// Opaque value with a MySQL type code.
pub const TYPE_OPAQUE: u8 = 0x0d;
/// DATE (CoreTime).
pub const TYPE_DATE: u8 = 0x0e;
/// DATETIME (CoreTime).
pub const TYPE_DATETIME: u8 = 0x0f;
/// TIMESTAMP (CoreTime).
pub const TYPE_TIMESTAMP: u8 = 0x10;
/// TIME (ns + fsp).
pub const TYPE_TIME: u8 = 0x11;

/// Literal byte for `null`.
pub const LITERAL_NULL: u8 = 0x00;
/// Literal byte for `true`.
pub const LITERAL_TRUE: u8 = 0x01;
/// Literal byte for `false`.
pub const LITERAL_FALSE: u8 = 0x02;

/// Deepest nesting of objects/arrays TiDB accepts.
pub const MAX_DEPTH: usize = 100;

const HEADER_SIZE: usize = 8;
const KEY_ENTRY_SIZE: usize = 6;
const VALUE_ENTRY_SIZE: usize = 5;

/// Length of the value of type `type_code` at the start of `body` (e.g. to cut a JSON datum
/// out of a row v1 value).
///
/// # Errors
/// Unknown type code, truncated body, or an object/array size smaller than its header.
pub fn json_datum_len(type_code: u8, body: &[u8]) -> Result<usize> {
    value_len(type_code, body, 0)
}

fn value_len(type_code: u8, body: &[u8], base: usize) -> Result<usize> {
    let fixed = match type_code {
        TYPE_OBJECT | TYPE_ARRAY => {
            let size = read_u32(body, 4, "json: container size", base)? as usize;
            if size < HEADER_SIZE {
                return Err(CodecError::invalid(
                    "json: container size",
                    base + 4,
                    format!("expected at least {HEADER_SIZE}, found {size}"),
                ));
            }
            size
        }
        TYPE_LITERAL => 1,
        TYPE_INT16 | TYPE_UINT16 => 2,
        TYPE_INT32 | TYPE_UINT32 => 4,
        TYPE_INT64 | TYPE_UINT64 | TYPE_DOUBLE | TYPE_DATE | TYPE_DATETIME | TYPE_TIMESTAMP => 8,
        TYPE_TIME => 12,
        TYPE_STRING => {
            let (n, used) = varint_at(body, 0, "json: string length", base)?;
            used.checked_add(n)
                .ok_or_else(|| too_long("json: string length", base))?
        }
        TYPE_OPAQUE => {
            let (n, used) = varint_at(body, 1, "json: opaque length", base)?;
            (1 + used)
                .checked_add(n)
                .ok_or_else(|| too_long("json: opaque length", base + 1))?
        }
        other => return Err(unknown_type(other, base)),
    };
    slice_at(body, 0, fixed, "json: value").map_err(|e| e.offset_by(base))?;
    Ok(fixed)
}

fn too_long(what: &'static str, offset: usize) -> CodecError {
    CodecError::invalid(what, offset, "length overflows usize")
}

fn unknown_type(code: u8, offset: usize) -> CodecError {
    CodecError::invalid(
        "json: type code",
        offset,
        format!("expected a JSON type code (0x01, 0x03..=0x11), found 0x{code:02x}"),
    )
}

fn read_u32(input: &[u8], at: usize, what: &'static str, base: usize) -> Result<u32> {
    array_at::<4>(input, at, what)
        .map(u32::from_le_bytes)
        .map_err(|e| e.offset_by(base))
}

fn read_u64(input: &[u8], at: usize, what: &'static str, base: usize) -> Result<u64> {
    array_at::<8>(input, at, what)
        .map(u64::from_le_bytes)
        .map_err(|e| e.offset_by(base))
}

/// A varint length at `at`, as usize, plus the bytes it used.
fn varint_at(input: &[u8], at: usize, what: &'static str, base: usize) -> Result<(usize, usize)> {
    let rest = input.get(at..).unwrap_or_default();
    // Most lengths (those below 128) are one byte.
    if let Some(&n) = rest.first().filter(|&&n| n < 0x80) {
        return Ok((usize::from(n), 1));
    }
    let (n, used) = decode_varint_u64(rest).map_err(|e| match e {
        CodecError::Truncated {
            needed, available, ..
        } => CodecError::Truncated {
            what,
            offset: base + at,
            needed,
            available,
        },
        other => CodecError::invalid(what, base + at, other.to_string()),
    })?;
    let n = usize::try_from(n).map_err(|_| too_long(what, base + at))?;
    Ok((n, used))
}

/// Appends the MySQL/TiDB text of a JSON value (type code + body) to `out`.
///
/// Formatting follows TiDB: `", "` and `": "` separators, strings escaped like Go's
/// `encoding/json` without HTML escaping, doubles in `%f` style with a trailing `.0` when
/// integral and in exponent style when `|v| < 1e-15` or `|v| >= 1e15`, opaque values as
/// `"base64:type<N>:<base64>"`, dates as `"YYYY-MM-DD"`, datetimes/timestamps and times
/// with 6 fractional digits. On error `out` keeps the text written so far.
///
/// # Errors
/// Unknown type codes or literals, offsets or lengths outside the value, nesting deeper than
/// [`MAX_DEPTH`], or a NaN/infinite double.
pub fn json_to_text(type_code: u8, body: &[u8], out: &mut String) -> Result<()> {
    write_value(type_code, body, 0, 0, out)
}

/// [`json_to_text`] for a row v2 JSON payload (type byte followed by the body).
///
/// # Errors
/// As [`json_to_text`], plus an empty payload.
pub fn json_payload_to_text(payload: &[u8], out: &mut String) -> Result<()> {
    let type_code = byte_at(payload, 0, "json: type code")?;
    write_value(type_code, payload.get(1..).unwrap_or_default(), 1, 0, out)
}

/// Writes the value of `type_code` starting at `body[0]`; `base` is the offset of `body` in
/// the outermost input; `depth` the number of enclosing containers.
fn write_value(
    type_code: u8,
    body: &[u8],
    base: usize,
    depth: usize,
    out: &mut String,
) -> Result<()> {
    match type_code {
        TYPE_OBJECT | TYPE_ARRAY => {
            write_container(type_code == TYPE_OBJECT, body, base, depth + 1, out)
        }
        TYPE_LITERAL => write_literal(
            byte_at(body, 0, "json: literal").map_err(|e| e.offset_by(base))?,
            base,
            out,
        ),
        TYPE_INT16 => {
            let b = array_at::<2>(body, 0, "json: int16").map_err(|e| e.offset_by(base))?;
            push_signed(out, i64::from(i16::from_le_bytes(b)));
            Ok(())
        }
        TYPE_UINT16 => {
            let b = array_at::<2>(body, 0, "json: uint16").map_err(|e| e.offset_by(base))?;
            push_unsigned(out, u64::from(u16::from_le_bytes(b)));
            Ok(())
        }
        TYPE_INT32 => {
            push_signed(
                out,
                i64::from(read_u32(body, 0, "json: int32", base)? as i32),
            );
            Ok(())
        }
        TYPE_UINT32 => {
            push_unsigned(out, u64::from(read_u32(body, 0, "json: uint32", base)?));
            Ok(())
        }
        TYPE_INT64 => {
            push_signed(out, read_u64(body, 0, "json: int64", base)? as i64);
            Ok(())
        }
        TYPE_UINT64 => {
            push_unsigned(out, read_u64(body, 0, "json: uint64", base)?);
            Ok(())
        }
        TYPE_DOUBLE => {
            let f = f64::from_bits(read_u64(body, 0, "json: double", base)?);
            write_double(f, base, out)
        }
        TYPE_STRING => {
            let (n, used) = varint_at(body, 0, "json: string length", base)?;
            let s = slice_at(body, used, n, "json: string").map_err(|e| e.offset_by(base))?;
            write_json_string(s, out);
            Ok(())
        }
        TYPE_OPAQUE => {
            let mysql_type =
                byte_at(body, 0, "json: opaque type").map_err(|e| e.offset_by(base))?;
            let (n, used) = varint_at(body, 1, "json: opaque length", base)?;
            let data =
                slice_at(body, 1 + used, n, "json: opaque").map_err(|e| e.offset_by(base))?;
            let _ = write!(out, "\"base64:type{mysql_type}:");
            base64::engine::general_purpose::STANDARD.encode_string(data, out);
            out.push('"');
            Ok(())
        }
        TYPE_DATE | TYPE_DATETIME | TYPE_TIMESTAMP => {
            let t = PackedTime::from_core_time(read_u64(body, 0, "json: time", base)?);
            if type_code == TYPE_DATE {
                let _ = write!(out, "\"{}\"", t.format_date());
            } else {
                let _ = write!(out, "\"{}\"", t.format_with_fsp(6));
            }
            Ok(())
        }
        TYPE_TIME => {
            let ns = read_u64(body, 0, "json: time", base)? as i64;
            // The stored u32 fsp must be present, but TiDB always prints 6 digits.
            read_u32(body, 8, "json: time fsp", base)?;
            let _ = write!(out, "\"{}\"", Duration(ns).format_with_fsp(6));
            Ok(())
        }
        other => Err(unknown_type(other, base)),
    }
}

/// Appends `v` in decimal (as `Display` does, without the formatting machinery: JSON documents
/// are mostly small integers and short strings).
fn push_signed(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    push_unsigned(out, v.unsigned_abs());
}

/// Appends `v` in decimal.
fn push_unsigned(out: &mut String, mut v: u64) {
    let mut digits = [b'0'; 20];
    let mut first = digits.len();
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (v % 10) as u8;
        first -= 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &digit in digits.get(first..).unwrap_or_default() {
        out.push(char::from(digit));
    }
}

fn write_literal(lit: u8, offset: usize, out: &mut String) -> Result<()> {
    out.push_str(match lit {
        LITERAL_NULL => "null",
        LITERAL_TRUE => "true",
        LITERAL_FALSE => "false",
        other => {
            return Err(CodecError::invalid(
                "json: literal",
                offset,
                format!("expected 0x00, 0x01 or 0x02, found 0x{other:02x}"),
            ))
        }
    });
    Ok(())
}

fn write_double(f: f64, offset: usize, out: &mut String) -> Result<()> {
    if !f.is_finite() {
        return Err(CodecError::invalid(
            "json: double",
            offset,
            format!("expected a finite number, found {f}"),
        ));
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-15..1e15).contains(&abs) {
        // Go: strconv 'e' with shortest digits, '+' removed; exponents here have ≥ 2 digits,
        // so this matches Rust's `{:e}` exactly.
        let _ = write!(out, "{f:e}");
    } else {
        let start = out.len();
        let _ = write!(out, "{f}");
        if !out.get(start..).is_some_and(|s| s.contains('.')) {
            out.push_str(".0");
        }
    }
    Ok(())
}

fn write_container(
    is_object: bool,
    body: &[u8],
    base: usize,
    depth: usize,
    out: &mut String,
) -> Result<()> {
    let what = if is_object {
        "json: object"
    } else {
        "json: array"
    };
    if depth > MAX_DEPTH {
        return Err(CodecError::TooDeep {
            what,
            offset: base,
            limit: MAX_DEPTH,
        });
    }
    let count = read_u32(body, 0, "json: element count", base)? as usize;
    let size = value_len(if is_object { TYPE_OBJECT } else { TYPE_ARRAY }, body, base)?;
    let doc = body.get(..size).unwrap_or_default();
    let key_entries = if is_object {
        count.checked_mul(KEY_ENTRY_SIZE)
    } else {
        Some(0)
    };
    let entries_end = key_entries
        .zip(count.checked_mul(VALUE_ENTRY_SIZE))
        .and_then(|(k, v)| k.checked_add(v))
        .and_then(|e| e.checked_add(HEADER_SIZE));
    let value_entries_at = HEADER_SIZE + key_entries.unwrap_or(0);
    match entries_end {
        Some(end) if end <= size => {}
        _ => {
            return Err(CodecError::invalid(
                what,
                base,
                format!("{count} entries do not fit in its size of {size} bytes"),
            ))
        }
    }
    out.push(if is_object { '{' } else { '[' });
    for i in 0..count {
        if i > 0 {
            out.push_str(", ");
        }
        if is_object {
            let entry = HEADER_SIZE + i * KEY_ENTRY_SIZE;
            let key_off = read_u32(doc, entry, "json: key entry", base)? as usize;
            let key_len = u16::from_le_bytes(
                array_at::<2>(doc, entry + 4, "json: key entry").map_err(|e| e.offset_by(base))?,
            );
            let key = slice_at(doc, key_off, usize::from(key_len), "json: key")
                .map_err(|e| e.offset_by(base))?;
            write_json_string(key, out);
            out.push_str(": ");
        }
        let entry = value_entries_at + i * VALUE_ENTRY_SIZE;
        let type_code = byte_at(doc, entry, "json: value entry").map_err(|e| e.offset_by(base))?;
        let field =
            slice_at(doc, entry + 1, 4, "json: value entry").map_err(|e| e.offset_by(base))?;
        match type_code {
            // inlined values
            TYPE_LITERAL | TYPE_INT16 | TYPE_UINT16 | TYPE_INT32 | TYPE_UINT32 => {
                write_value(type_code, field, base + entry + 1, depth, out)?;
            }
            _ => {
                let off = read_u32(doc, entry + 1, "json: value entry", base)? as usize;
                let Some(value) = doc.get(off..) else {
                    return Err(CodecError::invalid(
                        "json: value offset",
                        base + entry + 1,
                        format!("offset {off} is outside the {size}-byte {what}"),
                    ));
                };
                write_value(type_code, value, base + off, depth, out)?;
            }
        }
    }
    out.push(if is_object { '}' } else { ']' });
    Ok(())
}

/// Appends `s` as a quoted JSON string, escaped as TiDB's `jsonMarshalStringTo` does: `"` and
/// `\`, `\n \r \t \b \f`, other control bytes as `\u00xx`, U+2028/U+2029 as `\u2028`/`\u2029`,
/// and each byte of invalid UTF-8 as `\ufffd`. Everything else (incl. `<>&` and DEL) is kept.
pub fn write_json_string(s: &[u8], out: &mut String) {
    out.push('"');
    // Most keys and many values are short printable ASCII without `"` or `\`: every byte is
    // its own character, copied without a UTF-8 check or an escape scan.
    if s.len() <= 32
        && s.iter()
            .all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.extend(s.iter().map(|&b| char::from(b)));
        out.push('"');
        return;
    }
    // Else nearly always valid UTF-8: escaped in one pass, without splitting into chunks.
    if let Ok(text) = std::str::from_utf8(s) {
        escape_str(text, out);
        out.push('"');
        return;
    }
    for chunk in s.utf8_chunks() {
        escape_str(chunk.valid(), out);
        for _ in chunk.invalid() {
            out.push_str("\\ufffd");
        }
    }
    out.push('"');
}

/// Escapes valid UTF-8 byte by byte: everything that needs escaping is ASCII except U+2028 and
/// U+2029 (`E2 80 A8`/`E2 80 A9`), so unescaped runs are copied whole, and the common case (no
/// escape at all) is one scan and one copy.
fn escape_str(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    let mut run_start = 0usize;
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        let (esc, len): (&str, usize) = match b {
            b'"' => ("\\\"", 1),
            b'\\' => ("\\\\", 1),
            b'\n' => ("\\n", 1),
            b'\r' => ("\\r", 1),
            b'\t' => ("\\t", 1),
            0x08 => ("\\b", 1),
            0x0c => ("\\f", 1),
            0x00..=0x1f => ("", 1),
            0xe2 => match bytes.get(i + 1..i + 3) {
                Some([0x80, 0xa8]) => ("\\u2028", 3),
                Some([0x80, 0xa9]) => ("\\u2029", 3),
                _ => {
                    i += 1;
                    continue;
                }
            },
            _ => {
                i += 1;
                continue;
            }
        };
        // `run_start..i` ends before an ASCII byte or before `E2`: a character boundary.
        out.push_str(s.get(run_start..i).unwrap_or_default());
        if esc.is_empty() {
            let b = usize::from(b);
            out.push_str("\\u00");
            out.push(char::from(HEX.get(b >> 4).copied().unwrap_or(b'0')));
            out.push(char::from(HEX.get(b & 0xf).copied().unwrap_or(b'0')));
        } else {
            out.push_str(esc);
        }
        i += len;
        run_start = i;
    }
    out.push_str(s.get(run_start..).unwrap_or_default());
}

/// Encodes a `serde_json::Value` the way TiDB does (test kit): integers as int64 (or uint64
/// above `i64::MAX`), other numbers as double, object keys sorted by bytes, literals inlined.
/// Returns the type code and the body.
///
/// # Errors
/// [`CodecError::Unencodable`] when a key is longer than 65535 bytes or a container exceeds
/// 4 GiB (the binary format's limits).
pub fn encode_json(v: &serde_json::Value) -> Result<(u8, Vec<u8>)> {
    let mut buf = Vec::new();
    let t = append_value(v, &mut buf)?;
    Ok((t, buf))
}

fn to_u32(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| CodecError::Unencodable {
        what: "JSON container",
        reason: format!("{n} bytes or elements exceed the format's 4 GiB limit"),
    })
}

fn put_at(buf: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

fn append_value(v: &serde_json::Value, buf: &mut Vec<u8>) -> Result<u8> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => {
            buf.push(LITERAL_NULL);
            TYPE_LITERAL
        }
        Value::Bool(b) => {
            buf.push(if *b { LITERAL_TRUE } else { LITERAL_FALSE });
            TYPE_LITERAL
        }
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                buf.extend_from_slice(&i.to_le_bytes());
                TYPE_INT64
            } else if let Some(u) = n.as_u64() {
                buf.extend_from_slice(&u.to_le_bytes());
                TYPE_UINT64
            } else {
                buf.extend_from_slice(&n.as_f64().unwrap_or(0.0).to_bits().to_le_bytes());
                TYPE_DOUBLE
            }
        }
        Value::String(s) => {
            encode_varint_u64(s.len() as u64, buf);
            buf.extend_from_slice(s.as_bytes());
            TYPE_STRING
        }
        Value::Array(items) => {
            let values: Vec<&Value> = items.iter().collect();
            append_container(None, &values, buf)?;
            TYPE_ARRAY
        }
        Value::Object(map) => {
            let mut fields: Vec<(&String, &Value)> = map.iter().collect();
            fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
            let values: Vec<&Value> = fields.iter().map(|(_, v)| *v).collect();
            append_container(Some(&keys), &values, buf)?;
            TYPE_OBJECT
        }
    })
}

fn append_container(
    keys: Option<&[&str]>,
    values: &[&serde_json::Value],
    buf: &mut Vec<u8>,
) -> Result<()> {
    let doc = buf.len();
    let n = values.len();
    buf.extend_from_slice(&to_u32(n)?.to_le_bytes());
    buf.extend_from_slice(&[0; 4]);
    let key_entries = buf.len();
    if keys.is_some() {
        buf.resize(buf.len() + n * KEY_ENTRY_SIZE, 0);
    }
    let value_entries = buf.len();
    buf.resize(buf.len() + n * VALUE_ENTRY_SIZE, 0);
    for (i, key) in keys.unwrap_or_default().iter().enumerate() {
        let len = u16::try_from(key.len()).map_err(|_| CodecError::Unencodable {
            what: "JSON object key",
            reason: format!("{} bytes exceed the format's 65535", key.len()),
        })?;
        let off = to_u32(buf.len() - doc)?;
        let at = key_entries + i * KEY_ENTRY_SIZE;
        put_at(buf, at, &off.to_le_bytes());
        put_at(buf, at + 4, &len.to_le_bytes());
        buf.extend_from_slice(key.as_bytes());
    }
    for (i, v) in values.iter().enumerate() {
        let at = value_entries + i * VALUE_ENTRY_SIZE;
        let elem = buf.len();
        let t = append_value(v, buf)?;
        if t == TYPE_LITERAL {
            let lit = buf.get(elem).copied().unwrap_or(LITERAL_NULL);
            buf.truncate(elem);
            put_at(buf, at, &[TYPE_LITERAL, lit, 0, 0, 0]);
        } else {
            put_at(buf, at, &[t]);
            put_at(buf, at + 1, &to_u32(elem - doc)?.to_le_bytes());
        }
    }
    let size = to_u32(buf.len() - doc)?;
    put_at(buf, doc + 4, &size.to_le_bytes());
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    fn text(t: u8, body: &[u8]) -> String {
        let mut s = String::new();
        json_to_text(t, body, &mut s).unwrap();
        s
    }

    fn text_of(v: &Value) -> String {
        let (t, b) = encode_json(v).unwrap();
        text(t, &b)
    }

    #[test]
    fn derived_object_vector() {
        // §10.2: JSON {"a":2}
        let payload = h("01 01 00 00 00 1c 00 00 00 13 00 00 00 01 00 09 14 00 00 00 61 02 00 00 00 00 00 00 00");
        let (t, body) = encode_json(&json!({"a": 2})).unwrap();
        assert_eq!(t, payload[0]);
        assert_eq!(body, &payload[1..]);
        assert_eq!(json_datum_len(t, &body).unwrap(), 28);
        assert_eq!(text(t, &body), r#"{"a": 2}"#);
        let mut s = String::new();
        json_payload_to_text(&payload, &mut s).unwrap();
        assert_eq!(s, r#"{"a": 2}"#);
    }

    #[test]
    fn scalars() {
        assert_eq!(text_of(&json!(null)), "null");
        assert_eq!(text_of(&json!(true)), "true");
        assert_eq!(text_of(&json!(false)), "false");
        assert_eq!(text_of(&json!(-5)), "-5");
        assert_eq!(text_of(&json!(u64::MAX)), "18446744073709551615");
        assert_eq!(encode_json(&json!(u64::MAX)).unwrap().0, TYPE_UINT64);
        assert_eq!(text_of(&json!("hi")), r#""hi""#);
        assert_eq!(text_of(&json!([])), "[]");
        assert_eq!(text_of(&json!({})), "{}");
        assert_eq!(
            text_of(&json!({"b": [1, "x", null, {"c": false}], "a": 1.5})),
            r#"{"a": 1.5, "b": [1, "x", null, {"c": false}]}"#
        );
    }

    #[test]
    fn integers_are_written_as_display_writes_them() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut values = vec![0, 1, 9, 10, 99, 100, u64::MAX, i64::MAX as u64, 1 << 63];
        for _ in 0..1000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(x >> (x % 64));
        }
        for v in values {
            let mut s = String::new();
            push_unsigned(&mut s, v);
            assert_eq!(s, v.to_string());
            let signed = v as i64;
            s.clear();
            push_signed(&mut s, signed);
            assert_eq!(s, signed.to_string());
        }
        assert_eq!(text_of(&json!(i64::MIN)), "-9223372036854775808");
        assert_eq!(text_of(&json!(0)), "0");
    }

    #[test]
    fn doubles_follow_tidb() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (2.0, "2.0"),
            (-3.0, "-3.0"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (123456789.125, "123456789.125"),
            (1e14, "100000000000000.0"),
            (999999999999999.9, "999999999999999.9"),
            (1e15, "1e15"),
            (1.5e300, "1.5e300"),
            (-2.5e20, "-2.5e20"),
            (1e-15, "0.000000000000001"),
            (1.5e-16, "1.5e-16"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e308"),
        ];
        for &(f, expected) in cases {
            let body = f.to_bits().to_le_bytes();
            assert_eq!(text(TYPE_DOUBLE, &body), expected, "{f:?}");
        }
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut s = String::new();
            assert!(json_to_text(TYPE_DOUBLE, &bad.to_bits().to_le_bytes(), &mut s).is_err());
        }
    }

    #[test]
    fn doubles_round_trip_exactly() {
        let mut seed = 77u64;
        for _ in 0..20_000 {
            let f = f64::from_bits(rnd(&mut seed));
            if !f.is_finite() {
                continue;
            }
            let t = text(TYPE_DOUBLE, &f.to_bits().to_le_bytes());
            assert_eq!(t.parse::<f64>().unwrap().to_bits(), f.to_bits(), "{t}");
        }
    }

    #[test]
    fn string_escaping_follows_tidb() {
        let mut s = String::new();
        write_json_string(
            b"a\"b\\c\n\r\t\x08\x0c\x01\x1f<>&\x7f\xe2\x80\xa8\xe2\x80\xa9\xc3\xa9",
            &mut s,
        );
        assert_eq!(
            s,
            "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f<>&\u{7f}\\u2028\\u2029é\""
        );
        // invalid UTF-8: one \ufffd per bad byte, like Go's utf8.DecodeRune loop
        let mut s = String::new();
        write_json_string(b"x\xe2\x82y\xff\xed\xa0\x80", &mut s);
        assert_eq!(s, "\"x\\ufffd\\ufffdy\\ufffd\\ufffd\\ufffd\\ufffd\"");
        // other characters starting with E2 are kept, escapes at either end
        let mut s = String::new();
        write_json_string("€\u{2027}\u{202a}\u{2029}x\u{2028}".as_bytes(), &mut s);
        assert_eq!(s, "\"€\u{2027}\u{202a}\\u2029x\\u2028\"");
        let mut s = String::new();
        write_json_string(b"\x01", &mut s);
        assert_eq!(s, "\"\\u0001\"");
        // keys are escaped too
        assert_eq!(text_of(&json!({"k\"\n": 1})), r#"{"k\"\n": 1}"#);
    }

    #[test]
    fn opaque_and_times() {
        // opaque: type 0xfc (BLOB) with bytes 01 02 03
        let body = [0xfc, 3, 1, 2, 3];
        assert_eq!(text(TYPE_OPAQUE, &body), r#""base64:type252:AQID""#);
        assert_eq!(json_datum_len(TYPE_OPAQUE, &body).unwrap(), 5);
        let t = PackedTime {
            year: 2024,
            month: 2,
            day: 29,
            hour: 13,
            minute: 4,
            second: 5,
            micro: 120,
        };
        let dt = t.to_core_time(0b1100).to_le_bytes();
        assert_eq!(text(TYPE_DATETIME, &dt), r#""2024-02-29 13:04:05.000120""#);
        assert_eq!(
            text(TYPE_TIMESTAMP, &t.to_core_time(0b1101).to_le_bytes()),
            r#""2024-02-29 13:04:05.000120""#
        );
        let date = PackedTime {
            hour: 0,
            minute: 0,
            second: 0,
            micro: 0,
            ..t
        };
        assert_eq!(
            text(TYPE_DATE, &date.to_core_time(0b1110).to_le_bytes()),
            r#""2024-02-29""#
        );
        let mut tm = (-(3_723_000_456_000i64)).to_le_bytes().to_vec();
        tm.extend_from_slice(&2u32.to_le_bytes());
        assert_eq!(text(TYPE_TIME, &tm), r#""-01:02:03.000456""#);
        assert_eq!(json_datum_len(TYPE_TIME, &tm).unwrap(), 12);
        assert!(json_to_text(TYPE_TIME, &tm[..11], &mut String::new()).is_err());
    }

    #[test]
    fn mysql_inline_small_ints_are_accepted() {
        // array of [int16 -2, uint16 7] inlined in the value entries
        let mut body = vec![2, 0, 0, 0, 18, 0, 0, 0];
        body.extend_from_slice(&[TYPE_INT16, 0xfe, 0xff, 0, 0]);
        body.extend_from_slice(&[TYPE_UINT32, 7, 0, 0, 0]);
        assert_eq!(text(TYPE_ARRAY, &body), "[-2, 7]");
        assert_eq!(text(TYPE_INT32, &(-9i32).to_le_bytes()), "-9");
        assert_eq!(text(TYPE_UINT16, &[1, 1]), "257");
    }

    fn rnd(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    fn doc(seed: &mut u64, depth: usize) -> Value {
        let kind = rnd(seed) % if depth >= 5 { 6 } else { 8 };
        match kind {
            0 => Value::Null,
            1 => Value::Bool(rnd(seed).is_multiple_of(2)),
            2 => {
                let shift = rnd(seed) % 64;
                json!((rnd(seed) as i64) >> shift)
            }
            3 => json!(rnd(seed)),
            // short binary fractions: serde_json parses them exactly (see
            // `doubles_round_trip_exactly` for arbitrary bit patterns)
            4 => json!(f64::from((rnd(seed) as i32) >> 8) / 8.0),
            5 => {
                let chars = [
                    "a", "é", "\"", "\\", "\n", "\u{1}", "\u{2028}", "中", "😀", " ",
                ];
                let n = rnd(seed) % 6;
                let mut s = String::new();
                for _ in 0..n {
                    s.push_str(chars[(rnd(seed) % chars.len() as u64) as usize]);
                }
                Value::String(s)
            }
            6 => {
                let n = rnd(seed) % 5;
                Value::Array((0..n).map(|_| doc(seed, depth + 1)).collect())
            }
            _ => {
                let n = rnd(seed) % 5;
                let mut m = serde_json::Map::new();
                for i in 0..n {
                    let key = format!(
                        "k{}{}",
                        rnd(seed) % 100,
                        ["", "é", "\"q", "Z"][i as usize % 4]
                    );
                    m.insert(key, doc(seed, depth + 1));
                }
                Value::Object(m)
            }
        }
    }

    #[test]
    fn nested_round_trip_through_text() {
        let mut seed = 0xdead_beef_u64;
        for _ in 0..500 {
            let v = doc(&mut seed, 0);
            let (t, body) = encode_json(&v).unwrap();
            assert_eq!(json_datum_len(t, &body).unwrap(), body.len());
            let s = text(t, &body);
            let parsed: Value = serde_json::from_str(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(parsed, v, "{s}");
            // every truncation of a container errors and never panics
            if t == TYPE_OBJECT || t == TYPE_ARRAY {
                for cut in 0..body.len() {
                    assert!(json_to_text(t, &body[..cut], &mut String::new()).is_err());
                    assert!(json_datum_len(t, &body[..cut]).is_err());
                }
            }
        }
    }

    #[test]
    fn depth_limit() {
        let mut v = json!(1);
        for _ in 0..MAX_DEPTH {
            v = json!([v]);
        }
        let (t, body) = encode_json(&v).unwrap();
        assert!(text(t, &body).starts_with("[[[["));
        let v = json!({ "x": v });
        let (t, body) = encode_json(&v).unwrap();
        let err = json_to_text(t, &body, &mut String::new()).unwrap_err();
        assert!(
            matches!(err, CodecError::TooDeep { limit: 100, .. }),
            "{err}"
        );
    }

    #[test]
    fn corrupt_containers() {
        let (t, body) = encode_json(&json!({"a": [1, 2], "b": "x"})).unwrap();
        // flip every byte in turn: must never panic
        for i in 0..body.len() {
            for x in [0x01u8, 0x80, 0xff] {
                let mut b = body.clone();
                b[i] ^= x;
                let _ = json_to_text(t, &b, &mut String::new());
                let _ = json_datum_len(t, &b);
            }
        }
        // huge count
        let mut b = body.clone();
        b[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = json_to_text(t, &b, &mut String::new()).unwrap_err();
        assert!(err.to_string().contains("entries do not fit"), "{err}");
        // size smaller than header
        assert!(json_datum_len(TYPE_ARRAY, &[0, 0, 0, 0, 4, 0, 0, 0]).is_err());
        // value offset outside the container
        let mut b = vec![1, 0, 0, 0, 13, 0, 0, 0, TYPE_INT64, 200, 0, 0, 0];
        assert!(json_to_text(TYPE_ARRAY, &b, &mut String::new()).is_err());
        b[9] = 13;
        assert!(json_to_text(TYPE_ARRAY, &b, &mut String::new()).is_err());
        // unknown type / literal
        assert_eq!(
            json_to_text(0x02, &[], &mut String::new()).unwrap_err().to_string(),
            "json: type code at offset 0: expected a JSON type code (0x01, 0x03..=0x11), found 0x02"
        );
        assert!(json_to_text(TYPE_LITERAL, &[3], &mut String::new()).is_err());
        assert!(json_payload_to_text(&[], &mut String::new()).is_err());
        // string longer than body
        assert!(json_to_text(TYPE_STRING, &[5, b'a'], &mut String::new()).is_err());
        assert!(json_datum_len(TYPE_STRING, &[0x80]).is_err());
    }
}
