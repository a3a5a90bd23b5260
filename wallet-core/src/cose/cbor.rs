//! Bounded CBOR (RFC 8949) for every CBOR input the wallet reads (mdoc, COSE, CWTs, signed documents).
//!
//! Every input is first walked by [`check_well_formed`], which enforces a size limit, a nesting
//! limit, and that every length read from the input fits in the bytes that remain — so the
//! decoder never allocates for a length an attacker merely claimed. Only then is it decoded into
//! a `ciborium::Value`. Accessors turn a missing or mistyped field into a typed error naming it.

use std::cmp::Ordering;

pub use ciborium::Value;

use super::CoseError;
use crate::limits::{MAX_CBOR_BYTES, MAX_CBOR_CONTAINER_LEN, MAX_CBOR_DEPTH, MAX_CBOR_ITEMS};

/// Largest CBOR message accepted (see [`crate::limits`]).
pub const MAX_MESSAGE_BYTES: usize = MAX_CBOR_BYTES;
/// Deepest nesting accepted (arrays, maps and tags).
pub const MAX_DEPTH: usize = MAX_CBOR_DEPTH;

/// The tag for embedded CBOR (`#6.24(bstr .cbor T)`).
pub const TAG_ENCODED_CBOR: u64 = 24;
/// The tag for RFC 3339 date-time strings (`tdate`).
pub const TAG_DATE_TIME: u64 = 0;
/// The tag for RFC 8943 full-date strings.
pub const TAG_FULL_DATE: u64 = 1004;

fn malformed(what: impl Into<String>) -> CoseError {
    CoseError::Malformed(what.into())
}

struct Walker<'a> {
    bytes: &'a [u8],
    pos: usize,
    items: u64,
}

impl Walker<'_> {
    fn byte(&mut self) -> Result<u8, CoseError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or_else(|| malformed("CBOR ends early"))?;
        self.pos += 1;
        Ok(b)
    }

    fn remaining(&self) -> u64 {
        self.bytes.len().saturating_sub(self.pos) as u64
    }

    fn skip(&mut self, n: u64) -> Result<(), CoseError> {
        if n > self.remaining() {
            return Err(malformed("CBOR length exceeds the input"));
        }
        // n <= remaining <= bytes.len(), so it fits in usize and the sum cannot overflow.
        self.pos += n as usize;
        Ok(())
    }

    /// The argument of an initial byte: `Some(n)`, or `None` for indefinite length.
    fn argument(&mut self, info: u8) -> Result<Option<u64>, CoseError> {
        let n = match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()?),
            25..=27 => {
                let len = 1usize << (info - 24);
                let mut v = 0u64;
                for _ in 0..len {
                    v = (v << 8) | u64::from(self.byte()?);
                }
                v
            }
            31 => return Ok(None),
            _ => return Err(malformed("reserved CBOR additional information")),
        };
        Ok(Some(n))
    }

    fn count(&mut self) -> Result<(), CoseError> {
        self.items += 1;
        if self.items > MAX_CBOR_ITEMS {
            return Err(malformed(format!(
                "CBOR message has more than {MAX_CBOR_ITEMS} items"
            )));
        }
        Ok(())
    }

    fn item(&mut self, depth: usize) -> Result<(), CoseError> {
        if depth > MAX_DEPTH {
            return Err(malformed("CBOR nested too deeply"));
        }
        self.count()?;
        let initial = self.byte()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        if initial == 0xff {
            return Err(malformed("unexpected CBOR break"));
        }
        let arg = self.argument(info)?;
        match (major, arg) {
            (0 | 1, Some(_)) => Ok(()),
            (2 | 3, Some(n)) => self.skip(n),
            (2 | 3, None) => loop {
                let chunk = self.byte()?;
                if chunk == 0xff {
                    return Ok(());
                }
                if chunk >> 5 != major {
                    return Err(malformed("mixed chunks in an indefinite CBOR string"));
                }
                self.count()?;
                match self.argument(chunk & 0x1f)? {
                    Some(n) => self.skip(n)?,
                    None => return Err(malformed("nested indefinite CBOR string")),
                }
            },
            (4 | 5, Some(n)) => {
                let per_entry: u64 = if major == 5 { 2 } else { 1 };
                if n > MAX_CBOR_CONTAINER_LEN {
                    return Err(malformed(format!(
                        "CBOR container of {n} entries (at most {MAX_CBOR_CONTAINER_LEN})"
                    )));
                }
                if n * per_entry > self.remaining() {
                    return Err(malformed("CBOR container longer than the input"));
                }
                (0..n * per_entry).try_for_each(|_| self.item(depth + 1))
            }
            (4 | 5, None) => {
                let per_entry = if major == 5 { 2 } else { 1 };
                let mut entries = 0u64;
                loop {
                    if self.bytes.get(self.pos) == Some(&0xff) {
                        self.pos += 1;
                        return Ok(());
                    }
                    entries += 1;
                    if entries > MAX_CBOR_CONTAINER_LEN {
                        return Err(malformed(format!(
                            "CBOR container of more than {MAX_CBOR_CONTAINER_LEN} entries"
                        )));
                    }
                    for _ in 0..per_entry {
                        self.item(depth + 1)?;
                    }
                }
            }
            (6, Some(_)) => self.item(depth + 1),
            (7, Some(_)) => Ok(()),
            _ => Err(malformed("malformed CBOR initial byte")),
        }
    }
}

/// Checks that `bytes` is exactly one well-formed CBOR item within the size, depth, item-count
/// and container limits of [`crate::limits`], without allocating for anything it reads.
pub fn check_well_formed(bytes: &[u8]) -> Result<(), CoseError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(malformed("CBOR message too large"));
    }
    let mut walker = Walker {
        bytes,
        pos: 0,
        items: 0,
    };
    walker.item(0)?;
    if walker.pos != bytes.len() {
        return Err(malformed("trailing bytes after CBOR item"));
    }
    Ok(())
}

/// Decodes one bounded CBOR item. Every map in it has unique keys (RFC 8949 section 5.6), or
/// the item is refused.
pub fn decode(bytes: &[u8]) -> Result<Value, CoseError> {
    check_well_formed(bytes)?;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(bytes, MAX_DEPTH + 8)
        .map_err(|e| malformed(format!("CBOR: {e}")))?;
    check_unique_keys_everywhere(&value)?;
    Ok(value)
}

/// Checks every map in `value` for duplicate keys, walking with an explicit stack.
fn check_unique_keys_everywhere(value: &Value) -> Result<(), CoseError> {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Map(entries) => {
                unique_keys(entries, "map")?;
                for (k, v) in entries {
                    stack.push(k);
                    stack.push(v);
                }
            }
            Value::Array(items) => stack.extend(items.iter()),
            Value::Tag(_, inner) => stack.push(inner),
            _ => {}
        }
    }
    Ok(())
}

fn rank(value: &Value) -> u8 {
    match value {
        Value::Integer(_) => 0,
        Value::Bytes(_) => 1,
        Value::Text(_) => 2,
        Value::Array(_) => 3,
        Value::Map(_) => 4,
        Value::Tag(..) => 5,
        Value::Bool(_) => 6,
        Value::Null => 7,
        Value::Float(_) => 8,
        _ => 9,
    }
}

/// A total order on CBOR values (by kind, then content), for sorting map keys. Depth is
/// bounded by the decoder, so the recursion is too.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => i128::from(*x).cmp(&i128::from(*y)),
        (Value::Bytes(x), Value::Bytes(y)) => x.cmp(y),
        (Value::Text(x), Value::Text(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => x.total_cmp(y),
        (Value::Tag(t, x), Value::Tag(u, y)) => t.cmp(u).then_with(|| compare(x, y)),
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .map(|(p, q)| compare(p, q))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| x.len().cmp(&y.len())),
        (Value::Map(x), Value::Map(y)) => x
            .iter()
            .zip(y)
            .map(|((pk, pv), (qk, qv))| compare(pk, qk).then_with(|| compare(pv, qv)))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| x.len().cmp(&y.len())),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Encodes a value (definite lengths, shortest integer forms, map order as given).
pub fn encode(value: &Value) -> Vec<u8> {
    // Sized first: a response carrying a portrait is written into one buffer of its size,
    // not grown by doubling (which held up to twice its size, and moved it on each step).
    let mut out = Vec::with_capacity(encoded_len(value));
    // Writing into a Vec cannot fail, and every Value is serializable.
    let _ = ciborium::ser::into_writer(value, &mut out);
    out
}

/// Major type 0, an unsigned integer (RFC 8949 section 3.1).
pub const MAJOR_UNSIGNED: u8 = 0;
/// Major type 2, a byte string.
pub const MAJOR_BYTES: u8 = 2;
/// Major type 3, a text string.
pub const MAJOR_TEXT: u8 = 3;
/// Major type 5, a map.
pub const MAJOR_MAP: u8 = 5;
/// Major type 6, a tag.
pub const MAJOR_TAG: u8 = 6;

/// Writes the head of a data item of `major` type with argument `value` (a length, a count or
/// the integer itself) in its shortest form, as deterministic encoding requires.
pub fn write_head(out: &mut Vec<u8>, major: u8, value: u64) {
    let major = major << 5;
    if value < 24 {
        out.push(major | value as u8);
    } else if let Ok(v) = u8::try_from(value) {
        out.extend_from_slice(&[major | 24, v]);
    } else if let Ok(v) = u16::try_from(value) {
        out.push(major | 25);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = u32::try_from(value) {
        out.push(major | 26);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.push(major | 27);
        out.extend_from_slice(&value.to_be_bytes());
    }
}

/// Writes a text string.
pub fn write_text(out: &mut Vec<u8>, text: &str) {
    write_head(out, MAJOR_TEXT, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// The length of a head whose argument is `value`.
fn head_len(value: u64) -> usize {
    match value {
        0..=23 => 1,
        24..=0xff => 2,
        0x100..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// The length of `value` encoded, exact for everything but floats and integers beyond 64
/// bits, where it is an upper bound. Used to size the output buffer.
pub fn encoded_len(value: &Value) -> usize {
    match value {
        Value::Integer(i) => {
            let i = i128::from(*i);
            if i >= 0 {
                u64::try_from(i).map_or(20, head_len)
            } else {
                u64::try_from(-1 - i).map_or(20, head_len)
            }
        }
        Value::Bytes(b) => head_len(b.len() as u64) + b.len(),
        Value::Text(t) => head_len(t.len() as u64) + t.len(),
        Value::Float(_) => 9,
        Value::Bool(_) | Value::Null => 1,
        Value::Tag(tag, inner) => head_len(*tag) + encoded_len(inner),
        Value::Array(items) => {
            head_len(items.len() as u64) + items.iter().map(encoded_len).sum::<usize>()
        }
        Value::Map(entries) => {
            head_len(entries.len() as u64)
                + entries
                    .iter()
                    .map(|(k, v)| encoded_len(k) + encoded_len(v))
                    .sum::<usize>()
        }
        _ => 9,
    }
}

/// The value of the entry `key` (a text key) of the map `value`, moved out rather than copied:
/// for a large value, such as a portrait or a whole message, once it has been checked. `None`
/// when `value` is not a map or has no such entry.
pub fn take(value: Value, key: &str) -> Option<Value> {
    match value {
        Value::Map(entries) => entries
            .into_iter()
            .find_map(|(k, v)| matches!(&k, Value::Text(t) if t == key).then_some(v)),
        _ => None,
    }
}

/// `#6.24(bstr)` around already-encoded CBOR.
pub fn tagged_bytes(encoded: Vec<u8>) -> Value {
    Value::Tag(TAG_ENCODED_CBOR, Box::new(Value::Bytes(encoded)))
}

/// The encoded CBOR inside a `#6.24(bstr)`.
pub fn untag_bytes<'a>(value: &'a Value, what: &str) -> Result<&'a [u8], CoseError> {
    match value {
        Value::Tag(TAG_ENCODED_CBOR, inner) => match inner.as_ref() {
            Value::Bytes(b) => Ok(b),
            _ => Err(malformed(format!("{what}: tag 24 without a byte string"))),
        },
        _ => Err(malformed(format!(
            "{what}: expected tag 24 (embedded CBOR)"
        ))),
    }
}

/// A map's entries.
pub fn map<'a>(value: &'a Value, what: &str) -> Result<&'a [(Value, Value)], CoseError> {
    match value {
        Value::Map(entries) => Ok(entries),
        _ => Err(malformed(format!("{what}: expected a map"))),
    }
}

/// An array's items.
pub fn array<'a>(value: &'a Value, what: &str) -> Result<&'a [Value], CoseError> {
    match value {
        Value::Array(items) => Ok(items),
        _ => Err(malformed(format!("{what}: expected an array"))),
    }
}

/// A byte string.
pub fn bytes<'a>(value: &'a Value, what: &str) -> Result<&'a [u8], CoseError> {
    match value {
        Value::Bytes(b) => Ok(b),
        _ => Err(malformed(format!("{what}: expected a byte string"))),
    }
}

/// A text string.
pub fn text<'a>(value: &'a Value, what: &str) -> Result<&'a str, CoseError> {
    match value {
        Value::Text(t) => Ok(t),
        _ => Err(malformed(format!("{what}: expected a text string"))),
    }
}

/// An unsigned integer that fits in u64.
pub fn uint(value: &Value, what: &str) -> Result<u64, CoseError> {
    match value {
        Value::Integer(i) => u64::try_from(*i)
            .map_err(|_| malformed(format!("{what}: expected an unsigned integer"))),
        _ => Err(malformed(format!("{what}: expected an unsigned integer"))),
    }
}

/// A boolean.
pub fn boolean(value: &Value, what: &str) -> Result<bool, CoseError> {
    match value {
        Value::Bool(b) => Ok(*b),
        _ => Err(malformed(format!("{what}: expected a boolean"))),
    }
}

/// The value under text key `key`, if present.
pub fn get<'a>(entries: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    entries
        .iter()
        .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
        .map(|(_, v)| v)
}

/// The value under text key `key`, or an error naming it.
pub fn require<'a>(
    entries: &'a [(Value, Value)],
    key: &str,
    what: &str,
) -> Result<&'a Value, CoseError> {
    get(entries, key).ok_or_else(|| malformed(format!("{what}: missing {key}")))
}

/// The value under integer key `key`, if present.
pub fn get_int(entries: &[(Value, Value)], key: i64) -> Option<&Value> {
    entries
        .iter()
        .find(|(k, _)| matches!(k, Value::Integer(i) if i128::from(*i) == i128::from(key)))
        .map(|(_, v)| v)
}

/// Rejects maps with duplicate keys (RFC 8949 section 5.6: such maps are not valid), in
/// O(n log n).
pub fn unique_keys(entries: &[(Value, Value)], what: &str) -> Result<(), CoseError> {
    if entries.len() < 2 {
        return Ok(());
    }
    let mut keys: Vec<&Value> = entries.iter().map(|(k, _)| k).collect();
    keys.sort_unstable_by(|a, b| compare(a, b));
    if keys
        .windows(2)
        .any(|w| matches!(w, [a, b] if compare(a, b).is_eq()))
    {
        return Err(malformed(format!("{what}: duplicate map key")));
    }
    Ok(())
}

/// A text-keyed map entry.
pub fn entry(key: &str, value: Value) -> (Value, Value) {
    (Value::Text(key.to_owned()), value)
}

/// A short human-readable rendering of a value for display: text as is, dates as dates,
/// byte strings by length, containers in a JSON-like form.
pub fn display(value: &Value) -> String {
    match value {
        Value::Text(t) => t.clone(),
        Value::Integer(i) => i128::from(*i).to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Float(f) => f.to_string(),
        Value::Bytes(b) => format!("<{} bytes>", b.len()),
        Value::Tag(TAG_FULL_DATE | TAG_DATE_TIME, inner) => display(inner),
        Value::Tag(tag, inner) => format!("{tag}({})", display(inner)),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(display).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", display(k), display(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => "?".into(),
    }
}

/// A value as JSON (RFC 8949 section 6.1): byte strings as base64url text, tags by their
/// content, map keys that are not text by their display; what JSON cannot hold (non-finite
/// floats, integers beyond 64 bits) as null.
pub fn to_json(value: &Value) -> serde_json::Value {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    match value {
        Value::Text(t) => serde_json::Value::String(t.clone()),
        Value::Integer(i) => {
            let n = i128::from(*i);
            i64::try_from(n)
                .map(serde_json::Value::from)
                .or_else(|_| u64::try_from(n).map(serde_json::Value::from))
                .unwrap_or(serde_json::Value::Null)
        }
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::Bytes(b) => serde_json::Value::String(URL_SAFE_NO_PAD.encode(b)),
        Value::Tag(_, inner) => to_json(inner),
        Value::Array(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::Text(t) => t.clone(),
                        other => display(other),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        _ => serde_json::Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_moves_an_entry_out_of_a_map_and_nothing_else() {
        let map = Value::Map(vec![
            (Value::Integer(1.into()), Value::Text("one".into())),
            entry("k", Value::Bytes(vec![9; 3])),
        ]);
        assert_eq!(take(map.clone(), "k"), Some(Value::Bytes(vec![9; 3])));
        assert_eq!(take(map, "absent"), None);
        assert_eq!(take(Value::Array(vec![Value::Text("k".into())]), "k"), None);
    }

    #[test]
    fn the_encoded_length_is_exact_for_what_the_wallet_writes() {
        let mut values = vec![
            Value::Null,
            Value::Bool(true),
            Value::Bytes(vec![1; 100_000]),
            Value::Text("포트레이트".into()),
            tagged_bytes(vec![0xa0; 300]),
            Value::Tag(TAG_FULL_DATE, Box::new(Value::Text("1990-05-05".into()))),
        ];
        for n in [0i64, 23, 24, 255, 256, 65_535, 65_536, 1 << 32, i64::MAX] {
            values.push(Value::Integer(n.into()));
            values.push(Value::Integer((-n - 1).into()));
        }
        values.push(Value::Integer(u64::MAX.into()));
        values.push(Value::Array(values.clone()));
        values.push(Value::Map(
            values
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Integer(i.into()), v.clone()))
                .collect(),
        ));
        for value in &values {
            assert_eq!(encoded_len(value), encode(value).len(), "{value:?}");
        }
        // Floats: an upper bound.
        for f in [0.0, 1.5, 1e300] {
            let value = Value::Float(f);
            assert!(encoded_len(&value) >= encode(&value).len());
        }
    }

    #[test]
    fn written_heads_are_the_shortest_forms_ciborium_writes() {
        let boundaries = [
            0u64,
            23,
            24,
            255,
            256,
            65_535,
            65_536,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
            u64::MAX,
        ];
        for n in boundaries {
            let mut out = Vec::new();
            write_head(&mut out, MAJOR_UNSIGNED, n);
            assert_eq!(out, encode(&Value::Integer(n.into())), "{n}");
        }
        for len in [0usize, 23, 24, 255, 256, 65_535, 65_536] {
            let bytes = vec![7u8; len];
            let mut out = Vec::new();
            write_head(&mut out, MAJOR_BYTES, len as u64);
            out.extend_from_slice(&bytes);
            assert_eq!(out, encode(&Value::Bytes(bytes)), "{len}");
            let mut map = Vec::new();
            write_head(&mut map, MAJOR_MAP, len as u64);
            let mut text = Vec::new();
            write_text(&mut text, &"t".repeat(len));
            assert_eq!(text, encode(&Value::Text("t".repeat(len))), "{len}");
            assert_eq!(map.first().map(|b| b >> 5), Some(MAJOR_MAP));
        }
        let mut map = Vec::new();
        write_head(&mut map, MAJOR_MAP, 2);
        assert_eq!(map, [0xa2]);
    }

    #[test]
    fn values_as_json() {
        let v = Value::Map(vec![
            (Value::Text("b".into()), Value::Bytes(vec![0xff, 0x00])),
            (
                Value::Text("d".into()),
                Value::Tag(TAG_FULL_DATE, Box::new(Value::Text("1990-05-05".into()))),
            ),
            (
                Value::Integer(1.into()),
                Value::Array(vec![Value::Bool(true), Value::Null]),
            ),
        ]);
        assert_eq!(
            to_json(&v),
            serde_json::json!({"b": "_wA", "d": "1990-05-05", "1": [true, null]})
        );
    }

    #[test]
    fn accepts_well_formed_items() {
        for hex_item in [
            "00",
            "1903e8",
            "4401020304",
            "6449455446",
            "83010203",
            "a201020304",
            "d818420102",
            "f5",
            "fb3ff0000000000000",
            "5f42010243030405ff",
            "9f0102ff",
            "bf6161f4ff",
        ] {
            let bytes = hex(hex_item);
            check_well_formed(&bytes).unwrap_or_else(|e| panic!("{hex_item}: {e}"));
            decode(&bytes).unwrap_or_else(|e| panic!("{hex_item}: {e}"));
        }
    }

    #[test]
    fn rejects_lengths_beyond_the_input() {
        for hex_item in [
            "5b7fffffffffffffff", // byte string of 2^63 bytes
            "9b7fffffffffffffff", // array of 2^63 items
            "bb7fffffffffffffff", // map of 2^63 pairs
            "7a00100000",         // text of 1 MiB with no bytes
            "8301",               // array ends early
            "",                   // nothing
            "0000",               // trailing bytes
            "ff",                 // lone break
            "1c",                 // reserved info
            "5f01ff",             // integer chunk in a byte string
            "d818",               // tag without content
        ] {
            let bytes = hex(hex_item);
            assert!(
                matches!(check_well_formed(&bytes), Err(CoseError::Malformed(_))),
                "{hex_item}"
            );
            assert!(decode(&bytes).is_err(), "{hex_item}");
        }
    }

    #[test]
    fn bounds_items_and_containers() {
        // An array of MAX_CBOR_CONTAINER_LEN + 1 zeros.
        let n = crate::limits::MAX_CBOR_CONTAINER_LEN + 1;
        let mut big = vec![0x9a];
        big.extend_from_slice(&(n as u32).to_be_bytes());
        big.extend(vec![0u8; n as usize]);
        assert!(
            matches!(check_well_formed(&big), Err(CoseError::Malformed(m)) if m.contains("container"))
        );
        // Many small containers: more items in total than allowed.
        let per = 16_000usize;
        let arrays = (crate::limits::MAX_CBOR_ITEMS as usize / per) + 1;
        let mut many = vec![0x99];
        many.extend_from_slice(&(arrays as u16).to_be_bytes());
        for _ in 0..arrays {
            many.push(0x99);
            many.extend_from_slice(&(per as u16).to_be_bytes());
            many.extend(vec![0u8; per]);
        }
        assert!(
            matches!(check_well_formed(&many), Err(CoseError::Malformed(m)) if m.contains("items"))
        );
        // An indefinite-length array is bounded the same way.
        let mut indefinite = vec![0x9f];
        indefinite.extend(vec![0u8; n as usize]);
        indefinite.push(0xff);
        assert!(check_well_formed(&indefinite).is_err());
    }

    #[test]
    fn rejects_deep_nesting() {
        let mut deep = vec![0x81u8; MAX_DEPTH + 2];
        deep.push(0x00);
        assert!(check_well_formed(&deep).is_err());
        let mut ok = vec![0x81u8; MAX_DEPTH - 1];
        ok.push(0x00);
        check_well_formed(&ok).unwrap();
    }

    #[test]
    fn accessors_name_what_is_wrong() {
        let v = decode(&hex("a1616101")).unwrap();
        let m = map(&v, "thing").unwrap();
        assert_eq!(uint(require(m, "a", "thing").unwrap(), "a").unwrap(), 1);
        let err = require(m, "b", "thing").unwrap_err();
        assert!(err.to_string().contains("missing b"), "{err}");
        assert!(text(&Value::Integer(1.into()), "x").is_err());
        let duplicated = Value::Map(vec![entry("a", Value::Null), entry("a", Value::Bool(true))]);
        assert!(unique_keys(map(&duplicated, "m").unwrap(), "m").is_err());
        // The decoder refuses duplicate keys at any depth.
        assert!(decode(&hex("a2616101616102")).is_err());
        assert!(decode(&hex("81a2616101616102")).is_err());
        assert!(decode(&hex("a201010101")).is_err(), "integer keys too");
    }

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
