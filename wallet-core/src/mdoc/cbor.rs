//! Bounded CBOR (RFC 8949) for ISO/IEC 18013-5 structures.
//!
//! Every input is first walked by [`check_well_formed`], which enforces a size limit, a nesting
//! limit, and that every length read from the input fits in the bytes that remain — so the
//! decoder never allocates for a length an attacker merely claimed. Only then is it decoded into
//! a `ciborium::Value`. Accessors turn a missing or mistyped field into a typed error naming it.

pub use ciborium::Value;

use super::MdocError;

/// Largest CBOR message accepted.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;
/// Deepest nesting accepted (arrays, maps and tags).
pub const MAX_DEPTH: usize = 48;

/// The tag for embedded CBOR (`#6.24(bstr .cbor T)`).
pub const TAG_ENCODED_CBOR: u64 = 24;
/// The tag for RFC 3339 date-time strings (`tdate`).
pub const TAG_DATE_TIME: u64 = 0;
/// The tag for RFC 8943 full-date strings.
pub const TAG_FULL_DATE: u64 = 1004;

fn malformed(what: impl Into<String>) -> MdocError {
    MdocError::Malformed(what.into())
}

struct Walker<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Walker<'_> {
    fn byte(&mut self) -> Result<u8, MdocError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or_else(|| malformed("CBOR ends early"))?;
        self.pos += 1;
        Ok(b)
    }

    fn remaining(&self) -> u64 {
        (self.bytes.len() - self.pos) as u64
    }

    fn skip(&mut self, n: u64) -> Result<(), MdocError> {
        if n > self.remaining() {
            return Err(malformed("CBOR length exceeds the input"));
        }
        self.pos += n as usize;
        Ok(())
    }

    /// The argument of an initial byte: `Some(n)`, or `None` for indefinite length.
    fn argument(&mut self, info: u8) -> Result<Option<u64>, MdocError> {
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

    fn item(&mut self, depth: usize) -> Result<(), MdocError> {
        if depth > MAX_DEPTH {
            return Err(malformed("CBOR nested too deeply"));
        }
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
                match self.argument(chunk & 0x1f)? {
                    Some(n) => self.skip(n)?,
                    None => return Err(malformed("nested indefinite CBOR string")),
                }
            },
            (4, Some(n)) => {
                if n > self.remaining() {
                    return Err(malformed("CBOR array longer than the input"));
                }
                (0..n).try_for_each(|_| self.item(depth + 1))
            }
            (5, Some(n)) => {
                if n.saturating_mul(2) > self.remaining() {
                    return Err(malformed("CBOR map longer than the input"));
                }
                (0..n.saturating_mul(2)).try_for_each(|_| self.item(depth + 1))
            }
            (4 | 5, None) => {
                let per_entry = if major == 5 { 2 } else { 1 };
                loop {
                    if self.bytes.get(self.pos) == Some(&0xff) {
                        self.pos += 1;
                        return Ok(());
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

/// Checks that `bytes` is exactly one well-formed CBOR item within the size and depth limits.
pub fn check_well_formed(bytes: &[u8]) -> Result<(), MdocError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(malformed("CBOR message too large"));
    }
    let mut walker = Walker { bytes, pos: 0 };
    walker.item(0)?;
    if walker.pos != bytes.len() {
        return Err(malformed("trailing bytes after CBOR item"));
    }
    Ok(())
}

/// Decodes one bounded CBOR item.
pub fn decode(bytes: &[u8]) -> Result<Value, MdocError> {
    check_well_formed(bytes)?;
    ciborium::de::from_reader_with_recursion_limit(bytes, MAX_DEPTH + 8)
        .map_err(|e| malformed(format!("CBOR: {e}")))
}

/// Encodes a value (definite lengths, shortest integer forms, map order as given).
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail, and every Value is serializable.
    let _ = ciborium::ser::into_writer(value, &mut out);
    out
}

/// `#6.24(bstr)` around already-encoded CBOR.
pub fn tagged_bytes(encoded: Vec<u8>) -> Value {
    Value::Tag(TAG_ENCODED_CBOR, Box::new(Value::Bytes(encoded)))
}

/// The encoded CBOR inside a `#6.24(bstr)`.
pub fn untag_bytes<'a>(value: &'a Value, what: &str) -> Result<&'a [u8], MdocError> {
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
pub fn map<'a>(value: &'a Value, what: &str) -> Result<&'a [(Value, Value)], MdocError> {
    match value {
        Value::Map(entries) => Ok(entries),
        _ => Err(malformed(format!("{what}: expected a map"))),
    }
}

/// An array's items.
pub fn array<'a>(value: &'a Value, what: &str) -> Result<&'a [Value], MdocError> {
    match value {
        Value::Array(items) => Ok(items),
        _ => Err(malformed(format!("{what}: expected an array"))),
    }
}

/// A byte string.
pub fn bytes<'a>(value: &'a Value, what: &str) -> Result<&'a [u8], MdocError> {
    match value {
        Value::Bytes(b) => Ok(b),
        _ => Err(malformed(format!("{what}: expected a byte string"))),
    }
}

/// A text string.
pub fn text<'a>(value: &'a Value, what: &str) -> Result<&'a str, MdocError> {
    match value {
        Value::Text(t) => Ok(t),
        _ => Err(malformed(format!("{what}: expected a text string"))),
    }
}

/// An unsigned integer that fits in u64.
pub fn uint(value: &Value, what: &str) -> Result<u64, MdocError> {
    match value {
        Value::Integer(i) => u64::try_from(*i)
            .map_err(|_| malformed(format!("{what}: expected an unsigned integer"))),
        _ => Err(malformed(format!("{what}: expected an unsigned integer"))),
    }
}

/// A boolean.
pub fn boolean(value: &Value, what: &str) -> Result<bool, MdocError> {
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
) -> Result<&'a Value, MdocError> {
    get(entries, key).ok_or_else(|| malformed(format!("{what}: missing {key}")))
}

/// The value under integer key `key`, if present.
pub fn get_int(entries: &[(Value, Value)], key: i64) -> Option<&Value> {
    entries
        .iter()
        .find(|(k, _)| matches!(k, Value::Integer(i) if i128::from(*i) == i128::from(key)))
        .map(|(_, v)| v)
}

/// Rejects maps with duplicate keys (RFC 8949 section 5.6: such maps are not valid).
pub fn unique_keys(entries: &[(Value, Value)], what: &str) -> Result<(), MdocError> {
    for (i, (k, _)) in entries.iter().enumerate() {
        if entries[..i].iter().any(|(other, _)| other == k) {
            return Err(malformed(format!("{what}: duplicate map key")));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
                matches!(check_well_formed(&bytes), Err(MdocError::Malformed(_))),
                "{hex_item}"
            );
            assert!(decode(&bytes).is_err(), "{hex_item}");
        }
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
        assert!(unique_keys(
            map(&decode(&hex("a2616101616102")).unwrap(), "m").unwrap(),
            "m"
        )
        .is_err());
    }

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
