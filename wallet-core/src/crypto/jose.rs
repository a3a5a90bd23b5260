//! The small part of JOSE the wallet needs: compact JWS (RFC 7515) with ES256 (RFC 7518
//! section 3.4) and P-256 public keys as JWKs (RFC 7517/7518 section 6.2).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::{ec, CryptoError};

/// base64url without padding.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding (padding and other alphabets are rejected).
pub fn b64url_decode(text: &str) -> Result<Vec<u8>, CryptoError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| CryptoError::Malformed("base64url"))
}

/// The JWK of a P-256 public key (SEC1 bytes, compressed or not).
pub fn p256_jwk(public_key: &[u8]) -> Result<serde_json::Value, CryptoError> {
    let point = ec::uncompressed_public_key(public_key)?;
    let (x, y) = ec::coordinates(&point)?;
    Ok(serde_json::json!({
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(x),
        "y": b64url(y),
    }))
}

/// The SEC1 public key of a P-256 JWK.
pub fn p256_from_jwk(jwk: &serde_json::Value) -> Result<Vec<u8>, CryptoError> {
    let field = |name: &str| {
        jwk.get(name)
            .and_then(serde_json::Value::as_str)
            .ok_or(CryptoError::Malformed("JWK"))
    };
    if field("kty")? != "EC" || field("crv")? != "P-256" {
        return Err(CryptoError::Malformed("JWK (not EC P-256)"));
    }
    let x = b64url_decode(field("x")?)?;
    let y = b64url_decode(field("y")?)?;
    if x.len() != 32 || y.len() != 32 {
        return Err(CryptoError::Malformed("JWK coordinates"));
    }
    let mut point = Vec::with_capacity(65);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    ec::validate_public_key(&point)?;
    Ok(point)
}

/// The JWS signing input `base64url(header) . base64url(payload)`.
pub fn signing_input(header: &serde_json::Value, payload: &serde_json::Value) -> String {
    format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(payload.to_string().as_bytes())
    )
}

/// A compact JWS: the signing input plus the base64url signature.
pub fn compact(signing_input: &str, signature_rs: &[u8]) -> String {
    format!("{signing_input}.{}", b64url(signature_rs))
}

/// A verified compact JWS, split into its decoded parts.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedJws {
    /// The protected header.
    pub header: serde_json::Value,
    /// The payload.
    pub payload: serde_json::Value,
}

/// Verifies an ES256 compact JWS with `public_key` before looking at its payload.
pub fn verify_es256(jws: &str, public_key: &[u8]) -> Result<VerifiedJws, CryptoError> {
    let mut parts = jws.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CryptoError::Malformed("compact JWS"));
    };
    let header: serde_json::Value = serde_json::from_slice(&b64url_decode(h)?)
        .map_err(|_| CryptoError::Malformed("JWS header"))?;
    if header.get("alg").and_then(serde_json::Value::as_str) != Some("ES256") {
        return Err(CryptoError::Malformed("JWS alg (expected ES256)"));
    }
    let signature = b64url_decode(s)?;
    ec::verify(public_key, format!("{h}.{p}").as_bytes(), &signature)?;
    let payload = serde_json::from_slice(&b64url_decode(p)?)
        .map_err(|_| CryptoError::Malformed("JWS payload"))?;
    Ok(VerifiedJws { header, payload })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_round_trip() {
        let key = ec::SoftwareKey::generate().unwrap();
        let input = signing_input(
            &serde_json::json!({"alg": "ES256"}),
            &serde_json::json!({"a": 1}),
        );
        let jws = compact(&input, &key.sign(input.as_bytes()).unwrap());
        let verified = verify_es256(&jws, key.public_key()).unwrap();
        assert_eq!(verified.payload["a"], 1);
        let other = ec::SoftwareKey::generate().unwrap();
        assert_eq!(
            verify_es256(&jws, other.public_key()),
            Err(CryptoError::AuthenticationFailed)
        );
        assert!(verify_es256("a.b", key.public_key()).is_err());
        assert!(verify_es256("a.b.c.d", key.public_key()).is_err());
        assert!(verify_es256("!!.b.c", key.public_key()).is_err());
    }

    #[test]
    fn jwk_round_trip() {
        let key = ec::SoftwareKey::generate().unwrap();
        let jwk = p256_jwk(key.public_key()).unwrap();
        assert_eq!(p256_from_jwk(&jwk).unwrap(), key.public_key());
        assert!(p256_from_jwk(&serde_json::json!({"kty": "RSA"})).is_err());
    }
}
