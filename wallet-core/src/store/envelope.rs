//! Envelope encryption of column values.
//!
//! Each sensitive value is sealed with AES-256-GCM under the store's data key. The associated
//! data names the table, the row's primary key and the column, so a sealed value copied into
//! another row or column fails to open instead of decrypting to the wrong thing. Equality
//! filters use blind indexes: HMAC-SHA-256 under a separate key derived from the data key.

use crate::crypto::aead;
use crate::crypto::secret::SymmetricKey;

use super::StoreError;

const AAD_PREFIX: &[u8] = b"jigap.store.v1";
const INDEX_KEY_INFO: &[u8] = b"jigap.store.v1 blind index key";
const INDEX_LEN: usize = 16;

/// The keys a store works with: the data key and the blind-index key derived from it.
pub struct Keys {
    data: SymmetricKey,
    index: SymmetricKey,
}

impl Keys {
    /// Derives the index key from `data`.
    pub fn new(data: SymmetricKey) -> Result<Self, StoreError> {
        let index =
            aead::hkdf_sha256(data.expose(), b"", INDEX_KEY_INFO).map_err(StoreError::Crypto)?;
        Ok(Self { data, index })
    }

    /// The data key.
    pub fn data_key(&self) -> &SymmetricKey {
        &self.data
    }

    /// Seals `plaintext` for `table`.`column` of the row whose key is `row`.
    pub fn seal(
        &self,
        table: &str,
        row: &str,
        column: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        aead::seal(&self.data, &aad(table, row, column), plaintext).map_err(StoreError::Crypto)
    }

    /// Opens a value sealed by [`Keys::seal`] for the same place. A value that fails to open
    /// is corruption or tampering, reported with where it was found.
    pub fn open(
        &self,
        table: &str,
        row: &str,
        column: &str,
        sealed: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        self.open_owned(table, row, column, sealed.to_vec())
    }

    /// [`Keys::open`], in place in `sealed`'s buffer.
    pub fn open_owned(
        &self,
        table: &str,
        row: &str,
        column: &str,
        sealed: Vec<u8>,
    ) -> Result<Vec<u8>, StoreError> {
        aead::open_owned(&self.data, &aad(table, row, column), sealed).map_err(|_| {
            StoreError::Corrupt(format!(
                "{table}.{column} of row {row} failed authentication"
            ))
        })
    }

    /// The blind index of `value` for `column`.
    pub fn blind_index(&self, column: &str, value: &str) -> Vec<u8> {
        let mac = aead::hmac_sha256(&self.index, &[column.as_bytes(), &[0], value.as_bytes()]);
        mac[..INDEX_LEN].to_vec()
    }

    /// The search tokens of the texts of a document: a keyed 32-bit blind index of every
    /// character and of every pair of adjacent characters of each text, lowercased,
    /// deduplicated and sorted. A text contains a query only if its tokens include all of
    /// [`Keys::query_tokens`] of the query; the converse does not hold (a token may collide,
    /// and pairs may sit apart), so whatever the tokens find is confirmed on the opened text.
    pub fn search_tokens<'a>(&self, texts: impl IntoIterator<Item = &'a str>) -> Vec<u32> {
        let mac = aead::HmacSha256::new(&self.index);
        let mut tokens = Vec::new();
        for text in texts {
            let lower = text.to_lowercase();
            let mut prev: Option<char> = None;
            for c in lower.chars() {
                tokens.push(char_token(&mac, c));
                if let Some(p) = prev {
                    tokens.push(pair_token(&mac, p, c));
                }
                prev = Some(c);
            }
        }
        tokens.sort_unstable();
        tokens.dedup();
        tokens
    }

    /// The tokens a search for `query` looks up: its pairs of adjacent characters, or for a
    /// single character, that character (sorted, deduplicated; none for an empty query).
    pub fn query_tokens(&self, query: &str) -> Vec<u32> {
        let mac = aead::HmacSha256::new(&self.index);
        let lower = query.to_lowercase();
        let mut chars = lower.chars();
        let mut tokens = Vec::new();
        if let Some(mut prev) = chars.next() {
            for c in chars {
                tokens.push(pair_token(&mac, prev, c));
                prev = c;
            }
            if tokens.is_empty() {
                tokens.push(char_token(&mac, prev));
            }
        }
        tokens.sort_unstable();
        tokens.dedup();
        tokens
    }
}

fn token_of(tag: &[u8; 32]) -> u32 {
    u32::from_be_bytes([tag[0], tag[1], tag[2], tag[3]])
}

fn char_token(mac: &aead::HmacSha256, c: char) -> u32 {
    let mut bytes = [0u8; 4];
    token_of(&mac.sign(&[b"search_char\0", c.encode_utf8(&mut bytes).as_bytes()]))
}

fn pair_token(mac: &aead::HmacSha256, first: char, second: char) -> u32 {
    let (mut a, mut b) = ([0u8; 4], [0u8; 4]);
    token_of(&mac.sign(&[
        b"search_pair\0",
        first.encode_utf8(&mut a).as_bytes(),
        second.encode_utf8(&mut b).as_bytes(),
    ]))
}

fn aad(table: &str, row: &str, column: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(AAD_PREFIX.len() + table.len() + row.len() + column.len() + 3);
    for part in [
        AAD_PREFIX,
        table.as_bytes(),
        row.as_bytes(),
        column.as_bytes(),
    ] {
        // Length-prefix each part so ("ab", "c") and ("a", "bc") differ.
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_bound_to_their_place() {
        let keys = Keys::new(SymmetricKey::from_bytes([3; 32])).unwrap();
        let sealed = keys.seal("t", "row1", "col", b"secret").unwrap();
        assert_eq!(keys.open("t", "row1", "col", &sealed).unwrap(), b"secret");
        for (t, r, c) in [
            ("t", "row2", "col"),
            ("t", "row1", "other"),
            ("u", "row1", "col"),
        ] {
            assert!(matches!(
                keys.open(t, r, c, &sealed),
                Err(StoreError::Corrupt(_))
            ));
        }
        assert_ne!(aad("ab", "c", "d"), aad("a", "bc", "d"));
    }

    #[test]
    fn blind_index_is_keyed_and_column_bound() {
        let a = Keys::new(SymmetricKey::from_bytes([3; 32])).unwrap();
        let b = Keys::new(SymmetricKey::from_bytes([4; 32])).unwrap();
        assert_eq!(a.blind_index("issuer", "x"), a.blind_index("issuer", "x"));
        assert_ne!(a.blind_index("issuer", "x"), b.blind_index("issuer", "x"));
        assert_ne!(a.blind_index("issuer", "x"), a.blind_index("doc_type", "x"));
    }

    #[test]
    fn search_tokens_cover_every_substring() {
        let a = Keys::new(SymmetricKey::from_bytes([3; 32])).unwrap();
        let b = Keys::new(SymmetricKey::from_bytes([4; 32])).unwrap();
        let text = a.search_tokens(["2026년 건강검진 결과 안내", "Tax NOTICE"]);
        let has_all = |q: &str| {
            let wanted = a.query_tokens(q);
            !wanted.is_empty() && wanted.iter().all(|t| text.binary_search(t).is_ok())
        };
        for q in [
            "검진",
            "건강검진 결과",
            "결과 안",
            "notice",
            "x no",
            "TAX",
            "검",
            "x",
            "2",
        ] {
            assert!(has_all(q), "{q}");
        }
        for q in ["검사", "사", "z", "notices"] {
            assert!(!has_all(q), "{q}");
        }
        assert!(a.query_tokens("").is_empty());
        assert_eq!(a.query_tokens("검").len(), 1, "one character is one token");
        assert_eq!(
            a.query_tokens("검진").len(),
            1,
            "two characters are one pair"
        );
        assert_ne!(a.query_tokens("검진"), b.query_tokens("검진"), "keyed");
        assert_ne!(
            a.query_tokens("검"),
            a.query_tokens("검검"),
            "a character and a pair are told apart"
        );
        assert_eq!(
            a.search_tokens(["검진", "검진"]).len(),
            3,
            "deduplicated: 검, 진, 검진"
        );
    }
}
