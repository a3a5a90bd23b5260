//! The two serializations of an SD-JWT (RFC 9901 sections 4 and 8): compact
//! `<JWS>~<Disclosure>~...~<KB-JWT>` and JWS JSON (flattened or general, disclosures and the
//! KB-JWT in the unprotected header).

use serde_json::Value;

use super::SdJwtError;
use crate::crypto::jose::b64url;

/// Largest SD-JWT accepted, in bytes.
pub const MAX_SD_JWT_BYTES: usize = 1024 * 1024;

/// An SD-JWT split into its parts, each exactly as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdJwt {
    /// base64url protected header of the issuer-signed JWT.
    pub protected: String,
    /// base64url payload.
    pub payload: String,
    /// base64url signature.
    pub signature: String,
    /// The disclosures, in order.
    pub disclosures: Vec<String>,
    /// The Key Binding JWT, if any.
    pub kb_jwt: Option<String>,
}

impl SdJwt {
    /// The issuer-signed JWT in compact form.
    pub fn jws(&self) -> String {
        format!("{}.{}.{}", self.protected, self.payload, self.signature)
    }

    /// Parses the compact serialization.
    pub fn parse_compact(text: &str) -> Result<Self, SdJwtError> {
        let text = text.trim();
        if text.len() > MAX_SD_JWT_BYTES {
            return Err(SdJwtError::Malformed("SD-JWT too large".into()));
        }
        let mut parts: Vec<&str> = text.split('~').collect();
        if parts.len() < 2 {
            return Err(SdJwtError::Malformed(
                "no '~' separator: not an SD-JWT".into(),
            ));
        }
        let last = parts.pop().unwrap_or_default();
        let kb_jwt = if last.is_empty() {
            None
        } else {
            Some(last.to_owned())
        };
        let jws = parts.remove(0);
        let mut jws_parts = jws.split('.');
        let (Some(protected), Some(payload), Some(signature), None) = (
            jws_parts.next(),
            jws_parts.next(),
            jws_parts.next(),
            jws_parts.next(),
        ) else {
            return Err(SdJwtError::Malformed(
                "the issuer-signed JWT is not a compact JWS".into(),
            ));
        };
        if parts.iter().any(|d| d.is_empty()) {
            return Err(SdJwtError::Malformed("empty disclosure".into()));
        }
        Ok(SdJwt {
            protected: protected.to_owned(),
            payload: payload.to_owned(),
            signature: signature.to_owned(),
            disclosures: parts.into_iter().map(str::to_owned).collect(),
            kb_jwt,
        })
    }

    /// Parses the JWS JSON serialization (flattened, or general with one signature).
    pub fn parse_json(text: &str) -> Result<Self, SdJwtError> {
        if text.len() > MAX_SD_JWT_BYTES {
            return Err(SdJwtError::Malformed("SD-JWT too large".into()));
        }
        let value: Value =
            serde_json::from_str(text).map_err(|_| SdJwtError::Malformed("not JSON".into()))?;
        let str_field = |v: &Value, name: &str| -> Result<String, SdJwtError> {
            v.get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| SdJwtError::Malformed(format!("JSON serialization: missing {name}")))
        };
        let payload = str_field(&value, "payload")?;
        let signer = match value.get("signatures") {
            Some(Value::Array(sigs)) if sigs.len() == 1 => sigs.first().unwrap_or(&Value::Null),
            Some(_) => {
                return Err(SdJwtError::Unsupported(
                    "an SD-JWT with more than one signature".into(),
                ))
            }
            None => &value,
        };
        // RFC 9901 puts disclosures and the KB-JWT in the unprotected header; some
        // implementations (the reference one among them) put them at the top level. Accept both.
        let header = signer.get("header").cloned().unwrap_or(Value::Null);
        let field = |name: &str| header.get(name).or_else(|| value.get(name)).cloned();
        let disclosures = match field("disclosures").as_ref() {
            Some(Value::Array(list)) => list
                .iter()
                .map(|d| {
                    d.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| SdJwtError::Malformed("disclosure is not a string".into()))
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err(SdJwtError::Malformed("disclosures is not an array".into())),
            None => Vec::new(),
        };
        let kb_jwt = field("kb_jwt")
            .as_ref()
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(SdJwt {
            protected: str_field(signer, "protected")?,
            payload,
            signature: str_field(signer, "signature")?,
            disclosures,
            kb_jwt,
        })
    }

    /// Parses either serialization.
    pub fn parse(text: &str) -> Result<Self, SdJwtError> {
        if text.trim_start().starts_with('{') {
            Self::parse_json(text)
        } else {
            Self::parse_compact(text)
        }
    }

    /// The compact serialization without a KB-JWT: `<JWS>~<D1>~...~<Dn>~` — also what
    /// `sd_hash` is computed over (RFC 9901 section 4.3.1).
    pub fn compact_without_kb(&self) -> String {
        let mut out = self.jws();
        out.push('~');
        for d in &self.disclosures {
            out.push_str(d);
            out.push('~');
        }
        out
    }

    /// The compact serialization, with the KB-JWT if present.
    pub fn to_compact(&self) -> String {
        let mut out = self.compact_without_kb();
        if let Some(kb) = &self.kb_jwt {
            out.push_str(kb);
        }
        out
    }

    /// `sd_hash` for a Key Binding JWT over this presentation (with `alg`, the `_sd_alg`).
    pub fn sd_hash(&self, alg: super::disclosure::SdAlg) -> String {
        alg.digest(&self.compact_without_kb())
    }
}

/// base64url of compact JSON, for building headers and payloads.
pub fn encode_json(value: &Value) -> String {
    b64url(value.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_round_trip() {
        let sd = SdJwt::parse_compact("a.b.c~d1~d2~kb.x.y").unwrap();
        assert_eq!(sd.disclosures, vec!["d1", "d2"]);
        assert_eq!(sd.kb_jwt.as_deref(), Some("kb.x.y"));
        assert_eq!(sd.compact_without_kb(), "a.b.c~d1~d2~");
        assert_eq!(sd.to_compact(), "a.b.c~d1~d2~kb.x.y");
        let bare = SdJwt::parse_compact("a.b.c~").unwrap();
        assert!(bare.disclosures.is_empty() && bare.kb_jwt.is_none());
        for bad in ["a.b.c", "a.b~", "a.b.c.d~", "a.b.c~~d~"] {
            assert!(SdJwt::parse_compact(bad).is_err(), "{bad}");
        }
    }
}
