//! SD-JWT VC issuance (`dc+sd-jwt`): selectively disclosable claims (flat, structured,
//! recursive, array elements) with decoy digests, `cnf` holding the holder's device key,
//! `iss`, `vct`, `iat`, `exp`, `status`, signed ES256 with an `x5c` certificate chain.

use std::collections::HashSet;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Value};

use super::certificates::CertifiedKey;
use super::IssuerError;
use crate::crypto::{jose, random};
use crate::sdjwt::disclosure::{Disclosure, SdAlg};
use crate::sdjwt::format::encode_json;
use crate::trust::status_list::StatusReference;

/// What the issuer puts in an SD-JWT VC besides the claims.
pub struct VcEnvelope<'a> {
    /// `iss`.
    pub issuer: &'a str,
    /// `vct`.
    pub vct: &'a str,
    /// `iat`.
    pub issued_at: i64,
    /// `exp`.
    pub expires_at: i64,
    /// The holder's device key (SEC1), for `cnf.jwk`.
    pub holder_key: &'a [u8],
    /// The status list entry, if any.
    pub status: Option<StatusReference>,
    /// Decoy digests added to each object that has disclosable claims.
    pub decoys_per_object: usize,
}

struct Builder<'a> {
    disclosable: &'a HashSet<String>,
    disclosures: Vec<Disclosure>,
    decoys: usize,
}

impl Builder<'_> {
    fn decoy(&self) -> Result<String, IssuerError> {
        let bytes: [u8; 32] = random::array()?;
        Ok(SdAlg::Sha256.digest(&jose::b64url(&bytes)))
    }

    fn build(&mut self, value: &Value, path: &str) -> Result<Value, IssuerError> {
        match value {
            Value::Object(map) => {
                let mut out = Map::new();
                let mut digests = Vec::new();
                for (k, v) in map {
                    let child_path = format!("{path}/{k}");
                    // Children first: a disclosable object may hold disclosable claims (recursive).
                    let child = self.build(v, &child_path)?;
                    if self.disclosable.contains(&child_path) {
                        let d = Disclosure::new(Some(k), child)
                            .map_err(|e| IssuerError::Invalid(e.to_string()))?;
                        digests.push(d.digest(SdAlg::Sha256));
                        self.disclosures.push(d);
                    } else {
                        out.insert(k.clone(), child);
                    }
                }
                if !digests.is_empty() {
                    for _ in 0..self.decoys {
                        digests.push(self.decoy()?);
                    }
                    // Sorted, so the order reveals nothing about the claims.
                    digests.sort();
                    out.insert(
                        "_sd".into(),
                        Value::Array(digests.into_iter().map(Value::String).collect()),
                    );
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let child_path = format!("{path}/{i}");
                    let child = self.build(item, &child_path)?;
                    if self.disclosable.contains(&child_path) {
                        let d = Disclosure::new(None, child)
                            .map_err(|e| IssuerError::Invalid(e.to_string()))?;
                        out.push(serde_json::json!({ "...": d.digest(SdAlg::Sha256) }));
                        self.disclosures.push(d);
                    } else {
                        out.push(child);
                    }
                }
                Ok(Value::Array(out))
            }
            other => Ok(other.clone()),
        }
    }
}

/// Issues an SD-JWT VC: `claims` with the claims at `disclosable` paths (JSON pointers, e.g.
/// `/given_name`, `/address/locality`, `/nationalities/0`) made selectively disclosable.
/// Returns the compact issuance `<JWS>~<D1>~...~<Dn>~`.
pub fn issue(
    signer: &CertifiedKey,
    chain: &[Vec<u8>],
    envelope: &VcEnvelope<'_>,
    claims: &Value,
    disclosable: &[String],
) -> Result<String, IssuerError> {
    let Value::Object(user_claims) = claims else {
        return Err(IssuerError::Invalid("claims must be a JSON object".into()));
    };
    const RESERVED: [&str; 9] = [
        "iss", "vct", "iat", "exp", "nbf", "cnf", "status", "_sd", "_sd_alg",
    ];
    if let Some(k) = user_claims.keys().find(|k| RESERVED.contains(&k.as_str())) {
        return Err(IssuerError::Invalid(format!(
            "{k} is set by the issuer, not a claim"
        )));
    }
    let set: HashSet<String> = disclosable.iter().cloned().collect();
    for path in &set {
        if claims.pointer(path).is_none() {
            return Err(IssuerError::Invalid(format!("no claim at {path}")));
        }
    }
    let mut builder = Builder {
        disclosable: &set,
        disclosures: Vec::new(),
        decoys: envelope.decoys_per_object,
    };
    let Value::Object(mut payload) = builder.build(claims, "")? else {
        return Err(IssuerError::Invalid("claims must be a JSON object".into()));
    };
    payload.insert("iss".into(), Value::String(envelope.issuer.to_owned()));
    payload.insert("vct".into(), Value::String(envelope.vct.to_owned()));
    payload.insert("iat".into(), Value::from(envelope.issued_at));
    payload.insert("exp".into(), Value::from(envelope.expires_at));
    payload.insert(
        "cnf".into(),
        serde_json::json!({ "jwk": jose::p256_jwk(envelope.holder_key)? }),
    );
    if let Some(status) = &envelope.status {
        payload.insert("status".into(), status.to_json());
    }
    payload.insert("_sd_alg".into(), Value::String(SdAlg::Sha256.name().into()));
    let header = serde_json::json!({
        "alg": "ES256",
        "typ": "dc+sd-jwt",
        "x5c": chain.iter().map(|c| STANDARD.encode(c)).collect::<Vec<_>>(),
    });
    let input = format!(
        "{}.{}",
        encode_json(&header),
        encode_json(&Value::Object(payload))
    );
    let signature = signer.key.sign(input.as_bytes())?;
    let mut out = jose::compact(&input, &signature);
    out.push('~');
    for d in &builder.disclosures {
        out.push_str(&d.encoded);
        out.push('~');
    }
    Ok(out)
}
