//! SD-JWT verification (RFC 9901 section 7): the issuer's signature first, then the
//! disclosures against the payload's digests, then time, then key binding.

use std::collections::{HashMap, HashSet};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Value};

use super::disclosure::{Disclosure, SdAlg};
use super::format::SdJwt;
use super::SdJwtError;
use crate::crypto::{ec, jose};
use crate::trust::x509::{verify_chain, LeafProfile, ParsedCertificate, TrustError};

/// How to find and trust the issuer's key.
pub enum IssuerTrust<'a> {
    /// A known public key (SEC1), e.g. from the issuer's metadata or a test vector.
    Key(&'a [u8]),
    /// The `x5c` header's certificate chain, validated to one of these anchors at `at`.
    X5c {
        /// Trusted roots.
        anchors: &'a [ParsedCertificate],
        /// Validation time, Unix seconds.
        at: i64,
    },
    /// The key of the first `x5c` certificate, with no chain validation: proves the SD-JWT is
    /// intact as its signer issued it, not that the signer is trusted (a wallet at intake).
    X5cLeaf,
}

/// The `x5c` header's certificates (DER), leaf first.
fn x5c_chain(header: &Value) -> Result<Vec<Vec<u8>>, SdJwtError> {
    header
        .get("x5c")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| SdJwtError::UntrustedIssuer("no x5c header".into()))?
        .iter()
        .map(|c| {
            c.as_str()
                .and_then(|s| STANDARD.decode(s).ok())
                .ok_or_else(|| SdJwtError::Malformed("x5c entry is not base64".into()))
        })
        .collect()
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
    /// The holder key from `cnf.jwk` (SEC1), if any.
    pub holder_key: Option<Vec<u8>>,
    /// A Key Binding JWT was verified.
    pub key_bound: bool,
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

struct Processor<'a> {
    alg: SdAlg,
    by_digest: HashMap<String, &'a Disclosure>,
    used: HashSet<String>,
    seen: HashSet<String>,
    disclosed: Vec<(String, Value)>,
}

impl Processor<'_> {
    fn see(&mut self, digest: &str) -> Result<(), SdJwtError> {
        if !self.seen.insert(digest.to_owned()) {
            return Err(SdJwtError::DuplicateDigest(digest.to_owned()));
        }
        Ok(())
    }

    fn process(&mut self, value: &Value, path: &str) -> Result<Value, SdJwtError> {
        match value {
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, v) in map {
                    if k == "_sd" {
                        continue;
                    }
                    out.insert(k.clone(), self.process(v, &format!("{path}/{k}"))?);
                }
                if let Some(sd) = map.get("_sd") {
                    let Value::Array(digests) = sd else {
                        return Err(SdJwtError::Malformed("_sd is not an array".into()));
                    };
                    for digest in digests {
                        let digest = digest.as_str().ok_or_else(|| {
                            SdJwtError::Malformed("_sd digest is not a string".into())
                        })?;
                        self.see(digest)?;
                        let Some(disclosure) = self.by_digest.get(digest).copied() else {
                            continue;
                        };
                        let name = disclosure.name.as_deref().ok_or_else(|| {
                            SdJwtError::Malformed(
                                "an array-element disclosure is referenced from _sd".into(),
                            )
                        })?;
                        if out.contains_key(name) {
                            return Err(SdJwtError::ClaimConflict(format!(
                                "{path}/{name} is both disclosed and present"
                            )));
                        }
                        self.used.insert(digest.to_owned());
                        let child_path = format!("{path}/{name}");
                        let processed = self.process(&disclosure.value, &child_path)?;
                        self.disclosed.push((child_path, processed.clone()));
                        out.insert(name.to_owned(), processed);
                    }
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::Object(obj) if obj.len() == 1 && obj.contains_key("...") => {
                            let digest = obj["..."].as_str().ok_or_else(|| {
                                SdJwtError::Malformed("'...' digest is not a string".into())
                            })?;
                            self.see(digest)?;
                            let Some(disclosure) = self.by_digest.get(digest).copied() else {
                                continue;
                            };
                            if disclosure.name.is_some() {
                                return Err(SdJwtError::Malformed(
                                    "an object-property disclosure is referenced from an array"
                                        .into(),
                                ));
                            }
                            self.used.insert(digest.to_owned());
                            let child_path = format!("{path}/{}", out.len());
                            let processed = self.process(&disclosure.value, &child_path)?;
                            self.disclosed.push((child_path, processed.clone()));
                            out.push(processed);
                        }
                        other => {
                            let child_path = format!("{path}/{}", out.len());
                            out.push(self.process(other, &child_path)?);
                        }
                    }
                }
                Ok(Value::Array(out))
            }
            other => Ok(other.clone()),
        }
    }
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

/// Verifies `sd` with the issuer `trust`, checking `exp`/`nbf`/`iat` at `at` when given and the
/// Key Binding JWT against `key_binding` when given.
pub fn verify(
    sd: &SdJwt,
    trust: IssuerTrust<'_>,
    at: Option<i64>,
    key_binding: Option<&KeyBindingPolicy<'_>>,
) -> Result<VerifiedSdJwt, SdJwtError> {
    // 1. The issuer's key and signature, before anything in the payload is believed.
    let header = decode_json(&sd.protected, "JWT header")?;
    match header.get("alg").and_then(Value::as_str) {
        Some("ES256") => {}
        Some(other) => return Err(SdJwtError::Unsupported(format!("JWT alg {other}"))),
        None => return Err(SdJwtError::Malformed("JWT header without alg".into())),
    }
    let (issuer_key, issuer_certificate) = match trust {
        IssuerTrust::Key(key) => (key.to_vec(), None),
        IssuerTrust::X5c { anchors, at } => {
            let chain = x5c_chain(&header)?;
            let (leaf, _) =
                verify_chain(&chain, anchors, at, LeafProfile::Signer).map_err(trust_error)?;
            (
                leaf.p256_public_key().map_err(trust_error)?,
                Some(leaf.subject()),
            )
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
    let disclosures = sd
        .disclosures
        .iter()
        .map(|d| Disclosure::parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    let mut by_digest = HashMap::with_capacity(disclosures.len());
    for d in &disclosures {
        if by_digest.insert(d.digest(alg), d).is_some() {
            return Err(SdJwtError::DuplicateDisclosure(d.encoded.clone()));
        }
    }
    let mut processor = Processor {
        alg,
        by_digest,
        used: HashSet::new(),
        seen: HashSet::new(),
        disclosed: Vec::new(),
    };
    let mut claims = processor.process(&payload, "")?;
    if let Some(unused) = disclosures
        .iter()
        .find(|d| !processor.used.contains(&d.digest(processor.alg)))
    {
        return Err(SdJwtError::UnreferencedDisclosure(unused.encoded.clone()));
    }
    if let Value::Object(map) = &mut claims {
        map.remove("_sd_alg");
    }

    // 3. Time.
    if let Some(at) = at {
        if let Some(exp) = int_claim(&claims, "exp")? {
            if at >= exp {
                return Err(SdJwtError::Expired(exp));
            }
        }
        if let Some(nbf) = int_claim(&claims, "nbf")? {
            if at < nbf {
                return Err(SdJwtError::NotYetValid(nbf));
            }
        }
    }

    // 4. Key binding.
    // The holder key matters only for key binding; a key of another type is refused there.
    let cnf_jwk = claims.get("cnf").and_then(|c| c.get("jwk"));
    let holder_key = cnf_jwk.and_then(|jwk| jose::p256_from_jwk(jwk).ok());
    let key_bound = match key_binding {
        None => false,
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
            if iat > policy.at + policy.skew || iat < policy.at - policy.max_age {
                return Err(SdJwtError::KeyBindingStale(iat));
            }
            let expected = sd.sd_hash(alg);
            match p.get("sd_hash").and_then(Value::as_str) {
                Some(h) if crate::crypto::constant_time_eq(h.as_bytes(), expected.as_bytes()) => {}
                _ => return Err(SdJwtError::KeyBindingSdHash),
            }
            true
        }
    };
    ec::validate_public_key(&issuer_key)?;
    Ok(VerifiedSdJwt {
        header,
        claims,
        disclosed: processor.disclosed,
        issuer_certificate,
        holder_key,
        key_bound,
    })
}
