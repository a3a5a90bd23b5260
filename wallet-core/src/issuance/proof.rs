//! Key proofs (OpenID4VCI 1.0, appendix F.1, proof type `jwt`): a JWT signed with the device key
//! that a credential will be bound to, showing the issuer that the wallet holds that key.

use crate::crypto::{jose, CryptoError};

/// The JOSE `typ` of a key proof.
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";

/// The signing input of a key proof for `public_key`, addressed to `audience` (the credential
/// issuer identifier), issued at `iat`, echoing the issuer's `nonce` when it sent one.
pub fn signing_input(
    public_key: &[u8],
    audience: &str,
    iat: i64,
    nonce: Option<&str>,
) -> Result<String, CryptoError> {
    signing_input_with(public_key, audience, iat, nonce, &ProofExtras::default())
}

/// What a key proof may carry besides the key, the audience, the time and the nonce.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProofExtras<'a> {
    /// `iss`: the wallet's client id (omitted for an anonymous pre-authorized flow).
    pub client_id: Option<&'a str>,
    /// A key attestation JWT (`key-attestation+jwt`) covering the key, in the JOSE header.
    pub key_attestation: Option<&'a str>,
}

/// [`signing_input`] with `extras`.
pub fn signing_input_with(
    public_key: &[u8],
    audience: &str,
    iat: i64,
    nonce: Option<&str>,
    extras: &ProofExtras<'_>,
) -> Result<String, CryptoError> {
    let mut header = serde_json::Map::new();
    header.insert("typ".into(), PROOF_TYP.into());
    header.insert("alg".into(), "ES256".into());
    header.insert("jwk".into(), jose::p256_jwk(public_key)?);
    if let Some(attestation) = extras.key_attestation {
        header.insert("key_attestation".into(), attestation.into());
    }
    let mut payload = serde_json::Map::new();
    if let Some(client_id) = extras.client_id {
        payload.insert("iss".into(), client_id.into());
    }
    payload.insert("aud".into(), audience.into());
    payload.insert("iat".into(), iat.into());
    if let Some(nonce) = nonce {
        payload.insert("nonce".into(), nonce.into());
    }
    Ok(jose::signing_input(
        &serde_json::Value::Object(header),
        &serde_json::Value::Object(payload),
    ))
}

/// Why a key proof was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ProofError {
    /// Not a key proof: a part does not decode, or `typ`, `alg` or `jwk` is wrong.
    #[error("malformed key proof: {0}")]
    Malformed(String),
    /// The signature does not verify with the key in the header.
    #[error("the key proof's signature does not verify")]
    Signature,
    /// Addressed to another issuer, for another nonce, or issued outside the window.
    #[error("key proof not for this request: {0}")]
    Mismatch(String),
}

/// Checks a key proof as a credential issuer does (OpenID4VCI 1.0 F.4): `typ`, ES256 with the
/// header's P-256 `jwk`, `aud` is `audience`, `nonce` is the issuer's `nonce` when it sent one,
/// and `iat` within `max_age` seconds before `now` (and not ahead of it by more than `skew`).
/// Returns the proven public key (SEC1).
pub fn verify(
    proof: &str,
    audience: &str,
    nonce: Option<&str>,
    now: i64,
    max_age: i64,
    skew: i64,
) -> Result<Vec<u8>, ProofError> {
    let header_part = proof.split('.').next().unwrap_or_default();
    let header: serde_json::Value = jose::b64url_decode(header_part)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| ProofError::Malformed("header".into()))?;
    if header.get("typ").and_then(serde_json::Value::as_str) != Some(PROOF_TYP) {
        return Err(ProofError::Malformed(format!("typ is not {PROOF_TYP}")));
    }
    let key = header
        .get("jwk")
        .map(jose::p256_from_jwk)
        .transpose()
        .map_err(|e| ProofError::Malformed(format!("jwk: {e}")))?
        .ok_or_else(|| ProofError::Malformed("no jwk".into()))?;
    let verified = jose::verify_es256(proof, &key).map_err(|e| match e {
        CryptoError::AuthenticationFailed => ProofError::Signature,
        other => ProofError::Malformed(other.to_string()),
    })?;
    let payload = &verified.payload;
    if payload.get("aud").and_then(serde_json::Value::as_str) != Some(audience) {
        return Err(ProofError::Mismatch("aud".into()));
    }
    if let Some(nonce) = nonce {
        if payload.get("nonce").and_then(serde_json::Value::as_str) != Some(nonce) {
            return Err(ProofError::Mismatch("nonce".into()));
        }
    }
    let iat = payload
        .get("iat")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| ProofError::Malformed("iat".into()))?;
    if iat > now.saturating_add(skew) || iat < now.saturating_sub(max_age) {
        return Err(ProofError::Mismatch(format!("iat {iat}")));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ec::SoftwareKey;

    #[test]
    fn the_issuer_side_check() {
        let key = SoftwareKey::generate().unwrap();
        let make = |aud: &str, iat: i64, nonce: Option<&str>| {
            let input = signing_input(key.public_key(), aud, iat, nonce).unwrap();
            jose::compact(&input, &key.sign(input.as_bytes()).unwrap())
        };
        let ok = make("https://issuer.example", 1_000, Some("n"));
        assert_eq!(
            verify(&ok, "https://issuer.example", Some("n"), 1_010, 300, 60).unwrap(),
            key.public_key()
        );
        assert!(matches!(
            verify(&ok, "https://other", Some("n"), 1_010, 300, 60),
            Err(ProofError::Mismatch(_))
        ));
        assert!(matches!(
            verify(&ok, "https://issuer.example", Some("m"), 1_010, 300, 60),
            Err(ProofError::Mismatch(_))
        ));
        assert!(matches!(
            verify(&ok, "https://issuer.example", Some("n"), 2_000, 300, 60),
            Err(ProofError::Mismatch(_))
        ));
        // Another signature: flip one character in the middle of the signature part.
        let cut = ok.len() - 20;
        let flipped = if ok.as_bytes()[cut] == b'A' { "B" } else { "A" };
        let tampered = format!("{}{flipped}{}", &ok[..cut], &ok[cut + 1..]);
        assert!(verify(
            &tampered,
            "https://issuer.example",
            Some("n"),
            1_010,
            300,
            60
        )
        .is_err());
        assert!(matches!(
            verify("x.y.z", "a", None, 0, 1, 1),
            Err(ProofError::Malformed(_))
        ));
    }

    #[test]
    fn proof_verifies_with_embedded_jwk() {
        let key = SoftwareKey::generate().unwrap();
        let input = signing_input(
            key.public_key(),
            "https://issuer.example",
            1_700_000_000,
            Some("n-0S6"),
        )
        .unwrap();
        let jwt = jose::compact(&input, &key.sign(input.as_bytes()).unwrap());
        let header: serde_json::Value =
            serde_json::from_slice(&jose::b64url_decode(jwt.split('.').next().unwrap()).unwrap())
                .unwrap();
        let public = jose::p256_from_jwk(&header["jwk"]).unwrap();
        let verified = jose::verify_es256(&jwt, &public).unwrap();
        assert_eq!(verified.header["typ"], PROOF_TYP);
        assert_eq!(verified.payload["aud"], "https://issuer.example");
        assert_eq!(verified.payload["nonce"], "n-0S6");
        assert_eq!(verified.payload["iat"], 1_700_000_000);
    }
}
