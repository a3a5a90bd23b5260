//! Signed government payloads (bills, notifications): a COSE_Sign1 over a CBOR map, signed
//! ES256 by a sender certificate carried in `x5chain`, which must chain to the wallet's sender
//! trust anchors. Nothing in the payload is read before the signature verifies.

use crate::cose;
use crate::cose::cbor::{self, Value};
use crate::trust::x509::{verify_chain, ParsedCertificate, TrustError, TrustRole};

/// Largest signed payload accepted.
pub const MAX_SIGNED_BYTES: usize = 256 * 1024;

/// Why a signed payload was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SignedPayloadError {
    /// Not a COSE_Sign1 over a CBOR map, or a field of the wrong type (names it).
    #[error("malformed payload: {0}")]
    Malformed(String),
    /// No signature, or the signature does not verify.
    #[error("the payload's signature does not verify")]
    BadSignature,
    /// The sender's certificate does not chain to a trusted sender anchor.
    #[error("untrusted sender: {0}")]
    UntrustedSender(String),
}

/// A verified payload and who signed it.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedPayload {
    /// The CBOR map.
    pub body: Value,
    /// Subject of the sender's certificate.
    pub sender: String,
}

/// Verifies `bytes`, signed by a signer of `role` under `anchors` at `at`, and decodes its
/// payload.
pub fn verify(
    bytes: &[u8],
    anchors: &[ParsedCertificate],
    at: i64,
    role: TrustRole,
) -> Result<SignedPayload, SignedPayloadError> {
    if bytes.len() > MAX_SIGNED_BYTES {
        return Err(SignedPayloadError::Malformed("payload too large".into()));
    }
    let malformed = |e: crate::cose::CoseError| SignedPayloadError::Malformed(e.to_string());
    let sign1 = cose::parse_sign1(&cbor::decode(bytes).map_err(malformed)?).map_err(|_| {
        SignedPayloadError::Malformed("not a COSE_Sign1 (unsigned payloads are refused)".into())
    })?;
    let chain = cose::x5chain(&sign1.protected.header)
        .or_else(|_| cose::x5chain(&sign1.unprotected))
        .map_err(|_| {
            SignedPayloadError::UntrustedSender("no sender certificate (x5chain)".into())
        })?;
    let (leaf, _) = verify_chain(&chain, anchors, at, role).map_err(|e| match e {
        TrustError::Malformed(m) => SignedPayloadError::Malformed(m),
        other => SignedPayloadError::UntrustedSender(other.to_string()),
    })?;
    let key = leaf
        .p256_public_key()
        .map_err(|e| SignedPayloadError::UntrustedSender(e.to_string()))?;
    cose::verify_sign1(&sign1, None, &key).map_err(|_| SignedPayloadError::BadSignature)?;
    let body = cbor::decode(sign1.payload.as_deref().unwrap_or_default()).map_err(malformed)?;
    let entries = cbor::map(&body, "payload").map_err(malformed)?;
    cbor::unique_keys(entries, "payload").map_err(malformed)?;
    Ok(SignedPayload {
        body,
        sender: leaf.subject(),
    })
}

#[cfg(feature = "issuer")]
/// Signs a CBOR map as a sender (issuer side and tests).
pub fn sign<E: From<crate::cose::CoseError>>(
    body: &Value,
    chain: &[Vec<u8>],
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>,
) -> Result<Vec<u8>, E> {
    let sign1 = cose::create_sign1(&cbor::encode(body), false, chain, sign)?;
    Ok(cbor::encode(&cose::to_value(sign1)?))
}
