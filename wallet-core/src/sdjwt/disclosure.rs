//! Disclosures (RFC 9901 section 4.2): `base64url(JSON [salt, name, value])` for object
//! properties and `[salt, value]` for array elements; the digest is over the base64url text.

use ring::digest;
use serde_json::Value;

use super::SdJwtError;
use crate::crypto::jose::{b64url, b64url_decode};

/// The hash named by `_sd_alg` (IANA "Named Information Hash Algorithm" names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdAlg {
    /// sha-256 (the default).
    Sha256,
    /// sha-384.
    Sha384,
    /// sha-512.
    Sha512,
}

impl SdAlg {
    /// From an `_sd_alg` value.
    pub fn from_name(name: &str) -> Result<Self, SdJwtError> {
        match name {
            "sha-256" => Ok(SdAlg::Sha256),
            "sha-384" => Ok(SdAlg::Sha384),
            "sha-512" => Ok(SdAlg::Sha512),
            other => Err(SdJwtError::Unsupported(format!("_sd_alg {other}"))),
        }
    }

    /// The `_sd_alg` name.
    pub fn name(self) -> &'static str {
        match self {
            SdAlg::Sha256 => "sha-256",
            SdAlg::Sha384 => "sha-384",
            SdAlg::Sha512 => "sha-512",
        }
    }

    /// base64url of the hash of `ascii`.
    pub fn digest(self, ascii: &str) -> String {
        let alg = match self {
            SdAlg::Sha256 => &digest::SHA256,
            SdAlg::Sha384 => &digest::SHA384,
            SdAlg::Sha512 => &digest::SHA512,
        };
        b64url(digest::digest(alg, ascii.as_bytes()).as_ref())
    }
}

/// A decoded disclosure with its exact encoded form.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosure {
    /// The base64url text, as sent (the digest input).
    pub encoded: String,
    /// The salt.
    pub salt: String,
    /// The claim name, for an object property; `None` for an array element.
    pub name: Option<String>,
    /// The claim value.
    pub value: Value,
}

impl Disclosure {
    /// Decodes a disclosure.
    pub fn parse(encoded: &str) -> Result<Self, SdJwtError> {
        let bytes = b64url_decode(encoded)
            .map_err(|_| SdJwtError::Malformed("disclosure is not base64url".into()))?;
        let json: Value = serde_json::from_slice(&bytes)
            .map_err(|_| SdJwtError::Malformed("disclosure is not JSON".into()))?;
        let Value::Array(items) = json else {
            return Err(SdJwtError::Malformed(
                "disclosure is not a JSON array".into(),
            ));
        };
        let salt = |v: Value| match v {
            Value::String(salt) => Ok(salt),
            _ => Err(SdJwtError::Malformed(
                "disclosure salt is not a string".into(),
            )),
        };
        // The parsed array is taken apart, not copied: a disclosed object moves as it is.
        let mut items = items.into_iter();
        match (items.next(), items.next(), items.next(), items.next()) {
            (Some(s), Some(name), Some(value), None) => {
                let Value::String(name) = name else {
                    return Err(SdJwtError::Malformed(
                        "disclosure claim name is not a string".into(),
                    ));
                };
                if name == "_sd" || name == "..." {
                    return Err(SdJwtError::ClaimConflict(format!(
                        "a disclosure may not name the claim {name}"
                    )));
                }
                Ok(Disclosure {
                    encoded: encoded.to_owned(),
                    salt: salt(s)?,
                    name: Some(name),
                    value,
                })
            }
            (Some(s), Some(value), None, None) => Ok(Disclosure {
                encoded: encoded.to_owned(),
                salt: salt(s)?,
                name: None,
                value,
            }),
            _ => Err(SdJwtError::Malformed(
                "disclosure must have 2 or 3 elements".into(),
            )),
        }
    }

    /// A new disclosure (issuer side) with a fresh 128-bit salt.
    pub fn new(name: Option<&str>, value: Value) -> Result<Self, SdJwtError> {
        let salt = b64url(&crate::crypto::random::array::<16>()?);
        let array = match name {
            Some(n) => serde_json::json!([salt, n, value]),
            None => serde_json::json!([salt, value]),
        };
        let encoded = b64url(array.to_string().as_bytes());
        Ok(Disclosure {
            encoded,
            salt,
            name: name.map(str::to_owned),
            value,
        })
    }

    /// The digest of this disclosure under `alg`.
    pub fn digest(&self, alg: SdAlg) -> String {
        alg.digest(&self.encoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9901_given_name_digest() {
        // RFC 9901 section 5.1's example disclosure for given_name, and its digest.
        let d =
            Disclosure::parse("WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd")
                .unwrap();
        assert_eq!(d.name.as_deref(), Some("given_name"));
        assert_eq!(d.value, Value::String("John".into()));
        assert_eq!(
            d.digest(SdAlg::Sha256),
            "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4"
        );
    }

    #[test]
    fn malformed_disclosures_are_errors() {
        for bad in [
            "",
            "!!",
            &b64url(b"{}"),
            &b64url(b"[1]"),
            &b64url(b"[1, 2, 3]"),
            &b64url(br#"["s", "_sd", 1]"#),
        ] {
            assert!(Disclosure::parse(bad).is_err(), "{bad}");
        }
        let fresh = Disclosure::new(Some("x"), Value::Bool(true)).unwrap();
        assert_eq!(Disclosure::parse(&fresh.encoded).unwrap(), fresh);
    }
}
