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
    let header = serde_json::json!({
        "typ": PROOF_TYP,
        "alg": "ES256",
        "jwk": jose::p256_jwk(public_key)?,
    });
    let mut payload = serde_json::Map::new();
    payload.insert("aud".into(), audience.into());
    payload.insert("iat".into(), iat.into());
    if let Some(nonce) = nonce {
        payload.insert("nonce".into(), nonce.into());
    }
    let payload = serde_json::Value::Object(payload);
    Ok(jose::signing_input(&header, &payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ec::SoftwareKey;

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
