//! The holder's side: read a stored SD-JWT without a trust decision (to show it), choose which
//! disclosures to present, and build the Key Binding JWT (RFC 9901 sections 4.3 and 7.2).

use std::collections::HashMap;

use serde_json::Value;

use super::disclosure::{Disclosure, SdAlg};
use super::format::{encode_json, SdJwt};
use super::SdJwtError;
use crate::crypto::jose;

/// A stored SD-JWT, decoded for display: claims with every disclosure applied, and the path of
/// each disclosure. No signature is checked here; the holder received it from its issuer and
/// verifiers check everything.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspected {
    /// The issuer-signed JWT's header.
    pub header: Value,
    /// All claims, with every disclosure applied and `_sd`/`_sd_alg` removed.
    pub claims: Value,
    /// Each disclosure with the path of the claim it discloses (e.g. `/address/locality`).
    pub disclosures: Vec<(String, String)>,
    /// `_sd_alg`.
    pub alg: SdAlg,
}

fn decode_json(part: &str, what: &str) -> Result<Value, SdJwtError> {
    let bytes = jose::b64url_decode(part)
        .map_err(|_| SdJwtError::Malformed(format!("{what} is not base64url")))?;
    serde_json::from_slice(&bytes).map_err(|_| SdJwtError::Malformed(format!("{what} is not JSON")))
}

fn walk(
    value: &Value,
    path: &str,
    by_digest: &HashMap<String, Disclosure>,
    out: &mut Vec<(String, String)>,
) -> Value {
    match value {
        Value::Object(map) => {
            let mut result = serde_json::Map::new();
            for (k, v) in map {
                if k != "_sd" {
                    result.insert(k.clone(), walk(v, &format!("{path}/{k}"), by_digest, out));
                }
            }
            if let Some(Value::Array(digests)) = map.get("_sd") {
                for digest in digests.iter().filter_map(Value::as_str) {
                    if let Some(d) = by_digest.get(digest) {
                        if let Some(name) = &d.name {
                            let child = format!("{path}/{name}");
                            out.push((child.clone(), d.encoded.clone()));
                            let v = walk(&d.value, &child, by_digest, out);
                            result.insert(name.clone(), v);
                        }
                    }
                }
            }
            Value::Object(result)
        }
        Value::Array(items) => {
            let mut result = Vec::new();
            for item in items {
                let digest = item
                    .as_object()
                    .filter(|o| o.len() == 1)
                    .and_then(|o| o.get("..."))
                    .and_then(Value::as_str);
                match digest {
                    Some(d) => {
                        if let Some(disclosure) = by_digest.get(d) {
                            let child = format!("{path}/{}", result.len());
                            out.push((child.clone(), disclosure.encoded.clone()));
                            result.push(walk(&disclosure.value, &child, by_digest, out));
                        }
                    }
                    None => {
                        let child = format!("{path}/{}", result.len());
                        result.push(walk(item, &child, by_digest, out));
                    }
                }
            }
            Value::Array(result)
        }
        other => other.clone(),
    }
}

/// Decodes a stored SD-JWT for display and selection.
pub fn inspect(sd: &SdJwt) -> Result<Inspected, SdJwtError> {
    let header = decode_json(&sd.protected, "JWT header")?;
    let payload = decode_json(&sd.payload, "JWT payload")?;
    let alg = match payload.get("_sd_alg").and_then(Value::as_str) {
        Some(name) => SdAlg::from_name(name)?,
        None => SdAlg::Sha256,
    };
    let mut by_digest = HashMap::new();
    for encoded in &sd.disclosures {
        let d = Disclosure::parse(encoded)?;
        by_digest.insert(d.digest(alg), d);
    }
    let mut disclosures = Vec::new();
    let mut claims = walk(&payload, "", &by_digest, &mut disclosures);
    if let Value::Object(map) = &mut claims {
        map.remove("_sd_alg");
    }
    Ok(Inspected {
        header,
        claims,
        disclosures,
        alg,
    })
}

/// The presentation of `sd` that discloses the claims at `paths` (and, for each, the
/// disclosures of its enclosing objects and of everything under it). Unknown paths are an error.
pub fn select(sd: &SdJwt, inspected: &Inspected, paths: &[String]) -> Result<SdJwt, SdJwtError> {
    for path in paths {
        let known = inspected
            .disclosures
            .iter()
            .any(|(p, _)| p == path || p.starts_with(&format!("{path}/")));
        let visible = pointer_exists(&inspected.claims, path);
        if !known && !visible {
            return Err(SdJwtError::Malformed(format!("no claim at {path}")));
        }
    }
    let chosen = inspected
        .disclosures
        .iter()
        .filter(|(p, _)| {
            paths.iter().any(|r| {
                p == r || r.starts_with(&format!("{p}/")) || p.starts_with(&format!("{r}/"))
            })
        })
        .map(|(_, encoded)| encoded.clone())
        .collect();
    Ok(SdJwt {
        disclosures: chosen,
        kb_jwt: None,
        ..sd.clone()
    })
}

fn pointer_exists(value: &Value, path: &str) -> bool {
    value.pointer(path).is_some()
}

/// The signing input of a Key Binding JWT for `presentation` (which must have no KB-JWT yet).
pub fn key_binding_input(
    presentation: &SdJwt,
    alg: SdAlg,
    audience: &str,
    nonce: &str,
    iat: i64,
) -> String {
    let header = serde_json::json!({ "alg": "ES256", "typ": "kb+jwt" });
    let payload = serde_json::json!({
        "nonce": nonce,
        "aud": audience,
        "iat": iat,
        "sd_hash": presentation.sd_hash(alg),
    });
    format!("{}.{}", encode_json(&header), encode_json(&payload))
}
