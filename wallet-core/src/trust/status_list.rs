//! IETF Token Status List (draft-ietf-oauth-status-list): a compressed bit array in which each
//! credential owns `bits` bits at its index — 0 valid, 1 invalid (revoked), 2 suspended, 3
//! application-specific. Encoded in JSON (`lst`: base64url of zlib) or CBOR (`lst`: bstr of
//! zlib), inside a signed status-list JWT (`statuslist+jwt`) or CWT (`statuslist+cwt`).

use ciborium::Value as Cbor;
use serde_json::Value as Json;

use crate::crypto::jose;

/// Largest decompressed list accepted (see [`crate::limits`]).
pub const MAX_LIST_BYTES: usize = crate::limits::MAX_STATUS_LIST_BYTES;

/// Status value: valid.
pub const VALID: u8 = 0;
/// Status value: invalid (revoked).
pub const INVALID: u8 = 1;
/// Status value: suspended.
pub const SUSPENDED: u8 = 2;

/// Why a status list could not be used.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StatusListError {
    /// Not a status list, or a field of the wrong type (names it).
    #[error("malformed status list: {0}")]
    Malformed(String),
    /// `bits` other than 1, 2, 4 or 8.
    #[error("unsupported bits per status: {0}")]
    Bits(u64),
    /// The list does not decompress, or decompresses past the size limit.
    #[error("status list does not decompress (or exceeds {MAX_LIST_BYTES} bytes)")]
    Compression,
    /// The index is outside the list.
    #[error("index {index} is outside the list of {len} entries")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// Entries in the list.
        len: u64,
    },
}

/// A decompressed status list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    bytes: Vec<u8>,
}

impl StatusList {
    /// A list of `len` entries, all valid.
    pub fn new(bits: u8, len: usize) -> Result<Self, StatusListError> {
        check_bits(u64::from(bits))?;
        let bytes = len
            .checked_mul(usize::from(bits))
            .ok_or(StatusListError::Compression)?
            .div_ceil(8);
        if bytes > MAX_LIST_BYTES {
            return Err(StatusListError::Compression);
        }
        Ok(StatusList {
            bits,
            bytes: vec![0; bytes],
        })
    }

    /// A list from its decompressed bytes.
    pub fn from_bytes(bits: u8, bytes: Vec<u8>) -> Result<Self, StatusListError> {
        check_bits(u64::from(bits))?;
        if bytes.len() > MAX_LIST_BYTES {
            return Err(StatusListError::Compression);
        }
        Ok(StatusList { bits, bytes })
    }

    /// Bits per entry.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// The decompressed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of entries.
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64 * 8 / u64::from(self.bits)
    }

    /// True when the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn position(&self, index: u64) -> Result<(usize, u32), StatusListError> {
        if index >= self.len() {
            return Err(StatusListError::IndexOutOfRange {
                index,
                len: self.len(),
            });
        }
        // index < len, and len * bits is the list's bit count, which fits.
        let bit = index * u64::from(self.bits);
        let byte = usize::try_from(bit / 8).map_err(|_| StatusListError::IndexOutOfRange {
            index,
            len: self.len(),
        })?;
        Ok((byte, (bit % 8) as u32))
    }

    /// The status at `index` (entries fill each byte from the least significant bit).
    pub fn get(&self, index: u64) -> Result<u8, StatusListError> {
        let (byte, shift) = self.position(index)?;
        let mask = ((1u16 << self.bits) - 1) as u8;
        let value = self
            .bytes
            .get(byte)
            .ok_or(StatusListError::IndexOutOfRange {
                index,
                len: self.len(),
            })?;
        Ok((value >> shift) & mask)
    }

    /// Every entry whose status is not VALID, in index order, at most `max` of them, and
    /// whether more were left out. Bytes of VALID entries are skipped whole.
    pub fn not_valid(&self, max: usize) -> (Vec<(u64, u8)>, bool) {
        let mut found = Vec::new();
        let per_byte = 8 / u64::from(self.bits);
        for (byte_index, byte) in self.bytes.iter().enumerate() {
            if *byte == 0 {
                continue;
            }
            let first = (byte_index as u64).saturating_mul(per_byte);
            for index in first..first.saturating_add(per_byte).min(self.len()) {
                let status = self.get(index).unwrap_or(VALID);
                if status != VALID {
                    if found.len() >= max {
                        return (found, true);
                    }
                    found.push((index, status));
                }
            }
        }
        (found, false)
    }

    /// Sets the status at `index`.
    pub fn set(&mut self, index: u64, status: u8) -> Result<(), StatusListError> {
        let (byte, shift) = self.position(index)?;
        let mask = ((1u16 << self.bits) - 1) as u8;
        if status > mask {
            return Err(StatusListError::Malformed(format!(
                "status {status} does not fit in {} bits",
                self.bits
            )));
        }
        let len = self.len();
        let slot = self
            .bytes
            .get_mut(byte)
            .ok_or(StatusListError::IndexOutOfRange { index, len })?;
        *slot = (*slot & !(mask << shift)) | (status << shift);
        Ok(())
    }

    /// The zlib-compressed list (best compression, as the draft's examples use).
    pub fn compressed(&self) -> Vec<u8> {
        miniz_oxide::deflate::compress_to_vec_zlib(&self.bytes, 9)
    }

    /// Decompresses an `lst`.
    pub fn from_compressed(bits: u64, lst: &[u8]) -> Result<Self, StatusListError> {
        let bits = check_bits(bits)?;
        let bytes = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(lst, MAX_LIST_BYTES)
            .map_err(|_| StatusListError::Compression)?;
        Ok(StatusList { bits, bytes })
    }

    /// The JSON form `{"bits": n, "lst": base64url}`.
    pub fn to_json(&self) -> Json {
        serde_json::json!({ "bits": self.bits, "lst": jose::b64url(&self.compressed()) })
    }

    /// Reads the JSON form.
    pub fn from_json(value: &Json) -> Result<Self, StatusListError> {
        let bits = value
            .get("bits")
            .and_then(Json::as_u64)
            .ok_or_else(|| StatusListError::Malformed("bits".into()))?;
        let lst = value
            .get("lst")
            .and_then(Json::as_str)
            .ok_or_else(|| StatusListError::Malformed("lst".into()))?;
        let lst = jose::b64url_decode(lst)
            .map_err(|_| StatusListError::Malformed("lst is not base64url".into()))?;
        Self::from_compressed(bits, &lst)
    }

    /// The CBOR form `{"bits": n, "lst": bstr}`.
    pub fn to_cbor(&self) -> Cbor {
        Cbor::Map(vec![
            (Cbor::Text("bits".into()), Cbor::Integer(self.bits.into())),
            (Cbor::Text("lst".into()), Cbor::Bytes(self.compressed())),
        ])
    }

    /// Reads the CBOR form.
    pub fn from_cbor(value: &Cbor) -> Result<Self, StatusListError> {
        let Cbor::Map(entries) = value else {
            return Err(StatusListError::Malformed("not a map".into()));
        };
        let get = |k: &str| {
            entries
                .iter()
                .find(|(key, _)| matches!(key, Cbor::Text(t) if t == k))
                .map(|(_, v)| v)
        };
        let bits = match get("bits") {
            Some(Cbor::Integer(i)) => {
                u64::try_from(*i).map_err(|_| StatusListError::Malformed("bits".into()))?
            }
            _ => return Err(StatusListError::Malformed("bits".into())),
        };
        let Some(Cbor::Bytes(lst)) = get("lst") else {
            return Err(StatusListError::Malformed("lst".into()));
        };
        Self::from_compressed(bits, lst)
    }
}

fn check_bits(bits: u64) -> Result<u8, StatusListError> {
    match bits {
        1 | 2 | 4 | 8 => Ok(bits as u8),
        other => Err(StatusListError::Bits(other)),
    }
}

/// Where a credential's status lives: `status.status_list` = `{idx, uri}` (JWT/SD-JWT claim, or
/// the mdoc MSO `status` and CWT claim in CBOR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReference {
    /// The credential's index in the list.
    pub index: u64,
    /// The URI of the status list token.
    pub uri: String,
}

impl StatusReference {
    /// From a JSON `status` claim.
    pub fn from_json(status: &Json) -> Result<Self, StatusListError> {
        let list = status
            .get("status_list")
            .ok_or_else(|| StatusListError::Malformed("status_list".into()))?;
        Ok(StatusReference {
            index: list
                .get("idx")
                .and_then(Json::as_u64)
                .ok_or_else(|| StatusListError::Malformed("idx".into()))?,
            uri: list
                .get("uri")
                .and_then(Json::as_str)
                .ok_or_else(|| StatusListError::Malformed("uri".into()))?
                .to_owned(),
        })
    }

    /// The JSON `status` claim.
    pub fn to_json(&self) -> Json {
        serde_json::json!({ "status_list": { "idx": self.index, "uri": self.uri } })
    }

    /// From a CBOR `status` value.
    pub fn from_cbor(status: &Cbor) -> Result<Self, StatusListError> {
        let text_key = |entries: &[(Cbor, Cbor)], k: &str| {
            entries
                .iter()
                .find(|(key, _)| matches!(key, Cbor::Text(t) if t == k))
                .map(|(_, v)| v.clone())
        };
        let Cbor::Map(outer) = status else {
            return Err(StatusListError::Malformed("status".into()));
        };
        let Some(Cbor::Map(list)) = text_key(outer, "status_list") else {
            return Err(StatusListError::Malformed("status_list".into()));
        };
        let index = match text_key(&list, "idx") {
            Some(Cbor::Integer(i)) => {
                u64::try_from(i).map_err(|_| StatusListError::Malformed("idx".into()))?
            }
            _ => return Err(StatusListError::Malformed("idx".into())),
        };
        let Some(Cbor::Text(uri)) = text_key(&list, "uri") else {
            return Err(StatusListError::Malformed("uri".into()));
        };
        Ok(StatusReference { index, uri })
    }

    /// The CBOR `status` value.
    pub fn to_cbor(&self) -> Cbor {
        Cbor::Map(vec![(
            Cbor::Text("status_list".into()),
            Cbor::Map(vec![
                (Cbor::Text("idx".into()), Cbor::Integer(self.index.into())),
                (Cbor::Text("uri".into()), Cbor::Text(self.uri.clone())),
            ]),
        )])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_valid_lists_entries_in_order_up_to_a_bound() {
        let list = StatusList::from_bytes(1, vec![0xb9, 0x00, 0x01]).unwrap();
        let (all, truncated) = list.not_valid(100);
        assert!(!truncated);
        assert_eq!(
            all.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            [0, 3, 4, 5, 7, 16]
        );
        let (first, truncated) = list.not_valid(2);
        assert!(truncated);
        assert_eq!(first, [(0, 1), (3, 1)]);
        let mut two = StatusList::new(2, 5).unwrap();
        two.set(4, 2).unwrap();
        assert_eq!(two.not_valid(10), (vec![(4, 2)], false));
    }

    #[test]
    fn bits_are_packed_from_the_least_significant_end() {
        // The draft's 1-bit example: [0xb9, 0xa3] = indices 0,3,4,5,7,8,9,13,15 set.
        let list = StatusList::from_bytes(1, vec![0xb9, 0xa3]).unwrap();
        let set: Vec<u64> = (0..16).filter(|i| list.get(*i).unwrap() == 1).collect();
        assert_eq!(set, [0, 3, 4, 5, 7, 8, 9, 13, 15]);
        let mut two = StatusList::new(2, 12).unwrap();
        two.set(0, 1).unwrap();
        two.set(1, 2).unwrap();
        two.set(3, 3).unwrap();
        assert_eq!(two.bytes()[0], 0b1100_1001);
        assert!(two.set(2, 4).is_err());
        assert!(matches!(
            two.get(12),
            Err(StatusListError::IndexOutOfRange { .. })
        ));
        assert!(StatusList::new(3, 8).is_err());
    }

    #[test]
    fn hostile_lists_are_refused() {
        // A zlib bomb: 32 MiB of zeros compresses to a few KiB.
        let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&vec![0u8; 2 * MAX_LIST_BYTES], 9);
        assert_eq!(
            StatusList::from_compressed(1, &bomb),
            Err(StatusListError::Compression)
        );
        assert_eq!(
            StatusList::from_compressed(1, b"not zlib"),
            Err(StatusListError::Compression)
        );
        assert!(StatusList::from_json(&serde_json::json!({"bits": 1})).is_err());
        assert!(
            StatusList::from_json(&serde_json::json!({"bits": 5, "lst": "eNrbuRgAAhcBXQ"}))
                .is_err()
        );
    }
}
