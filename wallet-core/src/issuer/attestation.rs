//! What a credential issuer receives besides key proofs, made and checked the way the test
//! authority's issuer server does: signed credential issuer metadata (OpenID4VCI 1.0 section
//! 12.2.3), key attestations (appendix D.1) and client attestations with their proof of
//! possession (OAuth 2.0 Attestation-Based Client Authentication, draft 07). The wallet
//! passes attestations through from its platform; the issuer checks them.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use super::certificates::CertifiedKey;
use super::IssuerError;
use crate::crypto::ec::SoftwareKey;
use crate::crypto::{jose, random};
use crate::trust::jws::{self, JwsError};
use crate::trust::x509::{ParsedCertificate, TrustRole};

/// `typ` of signed credential issuer metadata.
pub const METADATA_TYP: &str = "openidvci-issuer-metadata+jwt";
/// `typ` of a key attestation.
pub const KEY_ATTESTATION_TYP: &str = "key-attestation+jwt";
/// `typ` of a client attestation.
pub const CLIENT_ATTESTATION_TYP: &str = "oauth-client-attestation+jwt";
/// `typ` of a client attestation's proof of possession.
pub const CLIENT_ATTESTATION_POP_TYP: &str = "oauth-client-attestation-pop+jwt";
/// How old a proof of possession may be, in seconds.
pub const POP_MAX_AGE: i64 = 300;
/// Tolerated clock skew, in seconds.
pub const SKEW: i64 = 60;

/// Why an attestation was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AttestationError {
    /// Its signature, chain or type does not hold.
    #[error("{0}")]
    Signature(#[from] JwsError),
    /// A claim is missing, malformed, expired, or for another nonce, audience or key.
    #[error("attestation claim: {0}")]
    Claim(String),
}

fn claim(what: impl Into<String>) -> AttestationError {
    AttestationError::Claim(what.into())
}

fn sign(signer: &CertifiedKey, typ: &str, payload: &Value) -> Result<String, IssuerError> {
    let header = json!({
        "alg": "ES256",
        "typ": typ,
        "x5c": [STANDARD.encode(&signer.certificate)],
    });
    let input = jose::signing_input(&header, payload);
    Ok(jose::compact(&input, &signer.key.sign(input.as_bytes())?))
}

fn int(payload: &Value, name: &str) -> Result<i64, AttestationError> {
    payload
        .get(name)
        .and_then(Value::as_i64)
        .ok_or_else(|| claim(format!("{name} is missing")))
}

fn text<'a>(payload: &'a Value, name: &str) -> Result<&'a str, AttestationError> {
    payload
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| claim(format!("{name} is missing")))
}

/// Signs credential issuer metadata: every metadata parameter becomes a claim, with `sub` the
/// credential issuer identifier, `iat` and `exp`.
pub fn sign_metadata(
    signer: &CertifiedKey,
    metadata: &Value,
    now: i64,
    valid_seconds: i64,
) -> Result<String, IssuerError> {
    let mut claims = metadata
        .as_object()
        .cloned()
        .ok_or_else(|| IssuerError::Invalid("metadata is not a JSON object".into()))?;
    let issuer = claims
        .get("credential_issuer")
        .and_then(Value::as_str)
        .ok_or_else(|| IssuerError::Invalid("metadata has no credential_issuer".into()))?
        .to_owned();
    claims.insert("sub".into(), issuer.into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), (now + valid_seconds).into());
    sign(signer, METADATA_TYP, &Value::Object(claims))
}

/// A key attestation for `keys` (SEC1 P-256 public keys), stored with moderate attack
/// potential resistance, for `nonce` when the issuer gave one.
pub fn sign_key_attestation(
    signer: &CertifiedKey,
    keys: &[Vec<u8>],
    nonce: Option<&str>,
    now: i64,
    valid_seconds: i64,
) -> Result<String, IssuerError> {
    let attested = keys
        .iter()
        .map(|k| jose::p256_jwk(k))
        .collect::<Result<Vec<_>, _>>()?;
    let mut payload = json!({
        "iat": now,
        "exp": now + valid_seconds,
        "attested_keys": attested,
        "key_storage": ["iso_18045_moderate"],
        "user_authentication": ["iso_18045_moderate"],
    });
    if let (Some(nonce), Some(map)) = (nonce, payload.as_object_mut()) {
        map.insert("nonce".into(), nonce.into());
    }
    sign(signer, KEY_ATTESTATION_TYP, &payload)
}

/// Checks a key attestation: signed by a wallet provider under `anchors`, unexpired at `now`,
/// for `nonce` when one was issued. Returns the attested keys (SEC1).
pub fn verify_key_attestation(
    attestation: &str,
    anchors: &[ParsedCertificate],
    now: i64,
    nonce: Option<&str>,
) -> Result<Vec<Vec<u8>>, AttestationError> {
    let signed = jws::verify_x5c(
        attestation,
        KEY_ATTESTATION_TYP,
        anchors,
        now,
        TrustRole::WalletProvider,
    )?;
    let p = &signed.payload;
    if int(p, "exp")?.saturating_add(SKEW) <= now {
        return Err(claim("the key attestation expired"));
    }
    if int(p, "iat")? > now.saturating_add(SKEW) {
        return Err(claim("the key attestation is from the future"));
    }
    if let Some(nonce) = nonce {
        if p.get("nonce").and_then(Value::as_str) != Some(nonce) {
            return Err(claim("the key attestation is for another nonce"));
        }
    }
    let keys = p
        .get("attested_keys")
        .and_then(Value::as_array)
        .filter(|k| !k.is_empty() && k.len() <= crate::limits::MAX_BATCH_PROOFS)
        .ok_or_else(|| claim("attested_keys"))?;
    keys.iter()
        .map(|k| jose::p256_from_jwk(k).map_err(|e| claim(format!("attested key: {e}"))))
        .collect()
}

/// A client attestation: the wallet provider vouches that the wallet instance holding
/// `instance_key` is a genuine `client_id`.
pub fn sign_client_attestation(
    signer: &CertifiedKey,
    client_id: &str,
    instance_key: &[u8],
    now: i64,
    valid_seconds: i64,
) -> Result<String, IssuerError> {
    let payload = json!({
        "iss": signer_name(signer)?,
        "sub": client_id,
        "iat": now,
        "exp": now + valid_seconds,
        "cnf": { "jwk": jose::p256_jwk(instance_key)? },
        "wallet_name": "Jigap",
    });
    sign(signer, CLIENT_ATTESTATION_TYP, &payload)
}

fn signer_name(signer: &CertifiedKey) -> Result<String, IssuerError> {
    Ok(ParsedCertificate::from_der(&signer.certificate)
        .map_err(|e| IssuerError::Certificate(e.to_string()))?
        .subject())
}

/// The wallet instance's proof of possession for a client attestation, addressed to the
/// authorization server `audience` (what the wallet's platform makes per request).
pub fn client_attestation_pop(
    instance: &SoftwareKey,
    client_id: &str,
    audience: &str,
    now: i64,
    challenge: Option<&str>,
) -> Result<String, IssuerError> {
    let header = json!({ "alg": "ES256", "typ": CLIENT_ATTESTATION_POP_TYP });
    let mut payload = json!({
        "iss": client_id,
        "aud": audience,
        "jti": random::identifier()?,
        "iat": now,
    });
    if let (Some(challenge), Some(map)) = (challenge, payload.as_object_mut()) {
        map.insert("challenge".into(), challenge.into());
    }
    let input = jose::signing_input(&header, &payload);
    Ok(jose::compact(&input, &instance.sign(input.as_bytes())?))
}

/// A client whose attestation and proof of possession verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestedClient {
    /// The attested `client_id`.
    pub client_id: String,
    /// The proof's `jti`, for the server's replay check.
    pub jti: String,
}

/// Checks a client attestation and its proof of possession as the authorization server
/// `audience` does: the attestation signed by a wallet provider under `anchors` and
/// unexpired, the proof signed by the attested instance key, from that client, for this
/// server, fresh.
pub fn verify_client_attestation(
    attestation: &str,
    pop: &str,
    audience: &str,
    anchors: &[ParsedCertificate],
    now: i64,
) -> Result<AttestedClient, AttestationError> {
    let signed = jws::verify_x5c(
        attestation,
        CLIENT_ATTESTATION_TYP,
        anchors,
        now,
        TrustRole::WalletProvider,
    )?;
    let a = &signed.payload;
    if int(a, "exp")?.saturating_add(SKEW) <= now {
        return Err(claim("the client attestation expired"));
    }
    let client_id = text(a, "sub")?.to_owned();
    let instance = a
        .pointer("/cnf/jwk")
        .map(jose::p256_from_jwk)
        .transpose()
        .map_err(|e| claim(format!("cnf.jwk: {e}")))?
        .ok_or_else(|| claim("cnf.jwk is missing"))?;
    let header = jws::unverified_header(pop)?;
    if header.get("typ").and_then(Value::as_str) != Some(CLIENT_ATTESTATION_POP_TYP) {
        return Err(JwsError::Malformed(format!("typ is not {CLIENT_ATTESTATION_POP_TYP}")).into());
    }
    let proof = jose::verify_es256(pop, &instance).map_err(|_| JwsError::Signature)?;
    let p = &proof.payload;
    if text(p, "iss")? != client_id {
        return Err(claim("the proof of possession is from another client"));
    }
    if text(p, "aud")? != audience {
        return Err(claim("the proof of possession is for another server"));
    }
    let iat = int(p, "iat")?;
    if iat > now.saturating_add(SKEW) || iat < now.saturating_sub(POP_MAX_AGE) {
        return Err(claim("the proof of possession is stale"));
    }
    Ok(AttestedClient {
        client_id,
        jti: text(p, "jti")?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::certificates::create_authority;

    #[test]
    fn attestations_verify_only_for_their_role_nonce_audience_and_key() {
        let now = 1_800_000_000;
        let authority = create_authority("Test", "KR", now).unwrap();
        let provider = authority.signer(TrustRole::WalletProvider).unwrap();
        let anchors = vec![ParsedCertificate::from_der(
            authority
                .root_certificate(TrustRole::WalletProvider)
                .unwrap(),
        )
        .unwrap()];
        let key = SoftwareKey::generate().unwrap();
        let keys = vec![key.public_key().to_vec()];
        let att = sign_key_attestation(provider, &keys, Some("n1"), now, 3600).unwrap();
        assert_eq!(
            verify_key_attestation(&att, &anchors, now, Some("n1")).unwrap(),
            keys
        );
        assert!(matches!(
            verify_key_attestation(&att, &anchors, now, Some("n2")),
            Err(AttestationError::Claim(_))
        ));
        assert!(verify_key_attestation(&att, &anchors, now + 7200, Some("n1")).is_err());
        // Signed by another role's signer: refused.
        let other = authority.signer(TrustRole::Sender).unwrap();
        let forged = sign_key_attestation(other, &keys, Some("n1"), now, 3600).unwrap();
        assert!(matches!(
            verify_key_attestation(&forged, &anchors, now, Some("n1")),
            Err(AttestationError::Signature(JwsError::Untrusted(_)))
        ));

        let instance = SoftwareKey::generate().unwrap();
        let client =
            sign_client_attestation(provider, "wallet-client", instance.public_key(), now, 3600)
                .unwrap();
        let pop =
            client_attestation_pop(&instance, "wallet-client", "https://as", now, None).unwrap();
        let attested =
            verify_client_attestation(&client, &pop, "https://as", &anchors, now).unwrap();
        assert_eq!(attested.client_id, "wallet-client");
        assert!(verify_client_attestation(&client, &pop, "https://other", &anchors, now).is_err());
        let stranger = SoftwareKey::generate().unwrap();
        let stolen =
            client_attestation_pop(&stranger, "wallet-client", "https://as", now, None).unwrap();
        assert!(matches!(
            verify_client_attestation(&client, &stolen, "https://as", &anchors, now),
            Err(AttestationError::Signature(JwsError::Signature))
        ));
        assert!(
            verify_client_attestation(&client, &pop, "https://as", &anchors, now + 600).is_err(),
            "a stale proof"
        );
    }

    #[test]
    fn signed_metadata_carries_sub_iat_exp() {
        let now = 1_800_000_000;
        let authority = create_authority("Test", "KR", now).unwrap();
        let signer = authority.signer(TrustRole::IssuerMetadata).unwrap();
        let jwt = sign_metadata(
            signer,
            &json!({"credential_issuer": "https://issuer.example", "credential_endpoint": "https://issuer.example/credential"}),
            now,
            86_400,
        )
        .unwrap();
        let anchors = vec![ParsedCertificate::from_der(
            authority
                .root_certificate(TrustRole::IssuerMetadata)
                .unwrap(),
        )
        .unwrap()];
        let signed =
            jws::verify_x5c(&jwt, METADATA_TYP, &anchors, now, TrustRole::IssuerMetadata).unwrap();
        assert_eq!(signed.payload["sub"], "https://issuer.example");
        assert_eq!(signed.payload["exp"], now + 86_400);
        assert!(sign_metadata(signer, &json!([1]), now, 1).is_err());
    }
}
