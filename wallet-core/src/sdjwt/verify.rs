//! SD-JWT verification (RFC 9901 section 7): the issuer's signature first, then the
//! disclosures against the payload's digests, then time, then key binding.

use serde_json::Value;

use super::disclosure::{Disclosure, SdAlg};
use super::format::SdJwt;
use super::process::apply;
use super::SdJwtError;
use crate::crypto::{ec, jose};
use crate::trust::x509::{verify_chain, ParsedCertificate, TrustError, TrustRole};

/// How to find and trust the issuer's key.
pub enum IssuerTrust<'a> {
    /// A known public key (SEC1), e.g. from the issuer's metadata or a test vector.
    Key(&'a [u8]),
    /// The `x5c` header's certificate chain, validated to one of these anchors at `at`, with
    /// a leaf of the signer role `profile`.
    X5c {
        /// Trusted roots.
        anchors: &'a [ParsedCertificate],
        /// Validation time, Unix seconds.
        at: i64,
        /// The role the leaf must have.
        profile: TrustRole,
    },
    /// The key of the first `x5c` certificate, with no chain validation: proves the SD-JWT is
    /// intact as its signer issued it, not that the signer is trusted (a wallet at intake).
    X5cLeaf,
}

/// The `x5c` header's certificates (DER), leaf first.
fn x5c_chain(header: &Value) -> Result<Vec<Vec<u8>>, SdJwtError> {
    crate::trust::jws::x5c_chain(header).map_err(|e| match e {
        crate::trust::jws::JwsError::Malformed(m) => SdJwtError::Malformed(m),
        other => SdJwtError::UntrustedIssuer(other.to_string()),
    })
}

/// When to check `exp` and `nbf`, and with how much tolerance for clocks that disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeCheck {
    /// Now, Unix seconds.
    pub at: i64,
    /// Accepted clock skew, in seconds: `exp` may have passed and `nbf` may lie ahead by this
    /// much.
    pub skew: i64,
}

/// What the verifier expects of the Key Binding JWT.
pub struct KeyBindingPolicy<'a> {
    /// The nonce the verifier sent.
    pub nonce: &'a str,
    /// The verifier's identifier (the expected `aud`).
    pub audience: &'a str,
    /// Now, Unix seconds.
    pub at: i64,
    /// Oldest acceptable `iat`, in seconds before `at`.
    pub max_age: i64,
    /// Accepted clock skew into the future, in seconds.
    pub skew: i64,
}

/// A verified SD-JWT.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedSdJwt {
    /// The issuer-signed JWT's header.
    pub header: Value,
    /// The claims with every presented disclosure applied and SD-JWT internals removed.
    pub claims: Value,
    /// The disclosed claims as (JSON pointer-like path, value), in disclosure order.
    pub disclosed: Vec<(String, Value)>,
    /// Subject of the issuer's certificate, when trusted through `x5c`.
    pub issuer_certificate: Option<String>,
    /// The issuer's certificate itself, when trusted through `x5c` (for role and name checks).
    pub issuer_leaf: Option<ParsedCertificate>,
    /// The holder key from `cnf.jwk` (SEC1), if any.
    pub holder_key: Option<Vec<u8>>,
    /// A Key Binding JWT was verified.
    pub key_bound: bool,
    /// The verified Key Binding JWT's claims (for `transaction_data_hashes` and the like).
    pub key_binding_claims: Option<Value>,
}

fn trust_error(e: TrustError) -> SdJwtError {
    match e {
        TrustError::Untrusted(what) => SdJwtError::UntrustedIssuer(what),
        other => SdJwtError::CertificateChain(other.to_string()),
    }
}

fn decode_json(part: &str, what: &str) -> Result<Value, SdJwtError> {
    let bytes = jose::b64url_decode(part)
        .map_err(|_| SdJwtError::Malformed(format!("{what} is not base64url")))?;
    serde_json::from_slice(&bytes).map_err(|_| SdJwtError::Malformed(format!("{what} is not JSON")))
}

fn int_claim(claims: &Value, name: &str) -> Result<Option<i64>, SdJwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| SdJwtError::Malformed(format!("{name} is not a number"))),
    }
}

/// Verifies `sd` with the issuer `trust`, checking `exp`/`nbf` with `time` when given and the
/// Key Binding JWT against `key_binding` when given.
pub fn verify(
    sd: &SdJwt,
    trust: IssuerTrust<'_>,
    time: Option<TimeCheck>,
    key_binding: Option<&KeyBindingPolicy<'_>>,
) -> Result<VerifiedSdJwt, SdJwtError> {
    // 1. The issuer's key and signature, before anything in the payload is believed.
    let header = decode_json(&sd.protected, "JWT header")?;
    match header.get("alg").and_then(Value::as_str) {
        Some("ES256") => {}
        Some(other) => return Err(SdJwtError::Unsupported(format!("JWT alg {other}"))),
        None => return Err(SdJwtError::Malformed("JWT header without alg".into())),
    }
    let (issuer_key, issuer_leaf) = match trust {
        IssuerTrust::Key(key) => (key.to_vec(), None),
        IssuerTrust::X5c {
            anchors,
            at,
            profile,
        } => {
            let chain = x5c_chain(&header)?;
            let (leaf, _) = verify_chain(&chain, anchors, at, profile).map_err(trust_error)?;
            (leaf.p256_public_key().map_err(trust_error)?, Some(leaf))
        }
        IssuerTrust::X5cLeaf => {
            let chain = x5c_chain(&header)?;
            let leaf = chain
                .first()
                .map(|der| ParsedCertificate::from_der(der))
                .transpose()
                .map_err(trust_error)?
                .ok_or_else(|| SdJwtError::UntrustedIssuer("no x5c header".into()))?;
            (leaf.p256_public_key().map_err(trust_error)?, None)
        }
    };
    jose::verify_es256(&sd.jws(), &issuer_key).map_err(|e| match e {
        crate::crypto::CryptoError::AuthenticationFailed => SdJwtError::IssuerSignature,
        other => SdJwtError::Malformed(other.to_string()),
    })?;
    let payload = decode_json(&sd.payload, "JWT payload")?;
    if !payload.is_object() {
        return Err(SdJwtError::Malformed("JWT payload is not an object".into()));
    }

    // 2. Disclosures against digests.
    let alg = match payload.get("_sd_alg") {
        None => SdAlg::Sha256,
        Some(Value::String(name)) => SdAlg::from_name(name)?,
        Some(_) => return Err(SdJwtError::Malformed("_sd_alg is not a string".into())),
    };
    if sd.disclosures.len() > crate::limits::MAX_DISCLOSURES {
        return Err(SdJwtError::Malformed(format!(
            "{} disclosures (at most {})",
            sd.disclosures.len(),
            crate::limits::MAX_DISCLOSURES
        )));
    }
    let disclosures = sd
        .disclosures
        .iter()
        .map(|d| Disclosure::parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    let applied = apply(&payload, &disclosures, alg)?;
    let claims = applied.claims;

    // 3. Time.
    if let Some(TimeCheck { at, skew }) = time {
        if let Some(exp) = int_claim(&claims, "exp")? {
            if at >= exp.saturating_add(skew) {
                return Err(SdJwtError::Expired(exp));
            }
        }
        if let Some(nbf) = int_claim(&claims, "nbf")? {
            if at.saturating_add(skew) < nbf {
                return Err(SdJwtError::NotYetValid(nbf));
            }
        }
    }

    // 4. Key binding.
    // The holder key matters only for key binding; a key of another type is refused there.
    let cnf_jwk = claims.get("cnf").and_then(|c| c.get("jwk"));
    let holder_key = cnf_jwk.and_then(|jwk| jose::p256_from_jwk(jwk).ok());
    let key_binding_claims = match key_binding {
        None => None,
        Some(policy) => {
            let kb = sd.kb_jwt.as_deref().ok_or(SdJwtError::KeyBindingMissing)?;
            let key = match (holder_key.as_deref(), cnf_jwk) {
                (Some(key), _) => key,
                (None, Some(_)) => {
                    return Err(SdJwtError::Unsupported("cnf.jwk is not a P-256 key".into()))
                }
                (None, None) => {
                    return Err(SdJwtError::Malformed("key binding needs cnf.jwk".into()))
                }
            };
            let verified = jose::verify_es256(kb, key).map_err(|e| match e {
                crate::crypto::CryptoError::AuthenticationFailed => SdJwtError::KeyBindingSignature,
                other => SdJwtError::Malformed(format!("KB-JWT: {other}")),
            })?;
            if verified.header.get("typ").and_then(Value::as_str) != Some("kb+jwt") {
                return Err(SdJwtError::Malformed("KB-JWT typ is not kb+jwt".into()));
            }
            let p = &verified.payload;
            if p.get("nonce").and_then(Value::as_str) != Some(policy.nonce) {
                return Err(SdJwtError::KeyBindingNonce);
            }
            if p.get("aud").and_then(Value::as_str) != Some(policy.audience) {
                return Err(SdJwtError::KeyBindingAudience);
            }
            let iat = int_claim(p, "iat")?
                .ok_or_else(|| SdJwtError::Malformed("KB-JWT without iat".into()))?;
            if iat > policy.at.saturating_add(policy.skew)
                || iat < policy.at.saturating_sub(policy.max_age)
            {
                return Err(SdJwtError::KeyBindingStale(iat));
            }
            let expected = sd.sd_hash(alg);
            match p.get("sd_hash").and_then(Value::as_str) {
                Some(h) if crate::crypto::constant_time_eq(h.as_bytes(), expected.as_bytes()) => {}
                _ => return Err(SdJwtError::KeyBindingSdHash),
            }
            Some(verified.payload)
        }
    };
    let key_bound = key_binding_claims.is_some();
    ec::validate_public_key(&issuer_key)?;
    Ok(VerifiedSdJwt {
        header,
        claims,
        disclosed: applied
            .disclosed
            .into_iter()
            .map(|(path, value, _)| (path, value))
            .collect(),
        issuer_certificate: issuer_leaf.as_ref().map(ParsedCertificate::subject),
        issuer_leaf,
        holder_key,
        key_bound,
        key_binding_claims,
    })
}
