//! JWS signed under a certificate chain: the `x5c` header (RFC 7515 section 4.1.6), validated
//! to a role's trust anchors before the signature and the payload are looked at. Shared by
//! status list JWTs, signed issuer metadata and attestations.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use super::x509::{verify_chain, ParsedCertificate, TrustError, TrustRole};
use crate::crypto::{jose, CryptoError};
use crate::limits::MAX_CHAIN_CERTIFICATES;

/// Why a certificate-signed JWS was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum JwsError {
    /// Not a compact ES256 JWS of the expected `typ`, or its `x5c` does not decode.
    #[error("malformed JWS: {0}")]
    Malformed(String),
    /// Its chain does not validate to a trust anchor of the role (or has no `x5c`).
    #[error("untrusted signer: {0}")]
    Untrusted(TrustError),
    /// The signature does not verify with the leaf's key.
    #[error("the JWS signature does not verify")]
    Signature,
}

/// A verified JWS: its header and payload, and the certificate that signed it.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedJws {
    /// The protected header.
    pub header: Value,
    /// The payload.
    pub payload: Value,
    /// The signer's (leaf) certificate.
    pub signer: ParsedCertificate,
}

/// The certificates (DER, leaf first) of a JOSE header's `x5c` (standard base64, not url).
pub fn x5c_chain(header: &Value) -> Result<Vec<Vec<u8>>, JwsError> {
    let entries = header
        .get("x5c")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| JwsError::Untrusted(TrustError::Untrusted("no x5c header".into())))?;
    if entries.len() > MAX_CHAIN_CERTIFICATES {
        return Err(JwsError::Malformed(format!(
            "x5c holds {} certificates (at most {MAX_CHAIN_CERTIFICATES})",
            entries.len()
        )));
    }
    entries
        .iter()
        .map(|c| {
            c.as_str()
                .and_then(|s| STANDARD.decode(s).ok())
                .ok_or_else(|| JwsError::Malformed("x5c entry is not base64".into()))
        })
        .collect()
}

/// The protected header of a compact JWS, decoded but not yet verified: only to find the
/// `typ` and the key that will verify it.
pub fn unverified_header(jws: &str) -> Result<Value, JwsError> {
    let header = jws.split('.').next().unwrap_or_default();
    jose::b64url_decode(header)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .filter(Value::is_object)
        .ok_or_else(|| JwsError::Malformed("header".into()))
}

/// Verifies an ES256 compact JWS of type `typ` whose `x5c` chain validates to `anchors` for
/// `role` at `at`: the chain first, then the signature with the leaf's key, then the payload
/// (which must be a JSON object).
pub fn verify_x5c(
    jws: &str,
    typ: &str,
    anchors: &[ParsedCertificate],
    at: i64,
    role: TrustRole,
) -> Result<SignedJws, JwsError> {
    let header = unverified_header(jws)?;
    if header.get("typ").and_then(Value::as_str) != Some(typ) {
        return Err(JwsError::Malformed(format!("typ is not {typ}")));
    }
    let chain = x5c_chain(&header)?;
    let (leaf, _) = verify_chain(&chain, anchors, at, role).map_err(JwsError::Untrusted)?;
    let key = leaf.p256_public_key().map_err(JwsError::Untrusted)?;
    let verified = jose::verify_es256(jws, &key).map_err(|e| match e {
        CryptoError::AuthenticationFailed => JwsError::Signature,
        other => JwsError::Malformed(other.to_string()),
    })?;
    if !verified.payload.is_object() {
        return Err(JwsError::Malformed(
            "the payload is not a JSON object".into(),
        ));
    }
    Ok(SignedJws {
        header: verified.header,
        payload: verified.payload,
        signer: leaf,
    })
}
