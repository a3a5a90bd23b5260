//! The holder's side: read a stored SD-JWT without a trust decision (to show it), choose which
//! disclosures to present, and build the Key Binding JWT (RFC 9901 sections 4.3 and 7.2).

use serde_json::Value;

use super::disclosure::{Disclosure, SdAlg};
use super::format::{encode_json, SdJwt};
use super::process::apply;
use super::SdJwtError;
use crate::crypto::jose;
use crate::trust::status_list::StatusReference;

/// A stored SD-JWT, decoded for display: claims with every disclosure applied, and the path of
/// each disclosure. No signature is checked here; the wallet checked it when it stored the
/// SD-JWT, and verifiers check everything.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspected {
    /// The issuer-signed JWT's header.
    pub header: Value,
    /// All claims, with every disclosure applied and `_sd`/`_sd_alg` removed.
    pub claims: Value,
    /// Each disclosure, in document order.
    pub disclosures: Vec<InspectedDisclosure>,
    /// `_sd_alg`.
    pub alg: SdAlg,
}

/// One disclosure of a stored SD-JWT.
#[derive(Debug, Clone, PartialEq)]
pub struct InspectedDisclosure {
    /// The path of the claim it discloses (e.g. `/address/locality`, or `/nationalities/1`
    /// for the second element of the issuer's array).
    pub path: String,
    /// The disclosure as sent (base64url).
    pub encoded: String,
    /// The disclosed value, with nested disclosures applied.
    pub value: Value,
}

fn decode_json(part: &str, what: &str) -> Result<Value, SdJwtError> {
    let bytes = jose::b64url_decode(part)
        .map_err(|_| SdJwtError::Malformed(format!("{what} is not base64url")))?;
    serde_json::from_slice(&bytes).map_err(|_| SdJwtError::Malformed(format!("{what} is not JSON")))
}

/// Decodes a stored SD-JWT for display and selection.
pub fn inspect(sd: &SdJwt) -> Result<Inspected, SdJwtError> {
    let header = decode_json(&sd.protected, "JWT header")?;
    let payload = decode_json(&sd.payload, "JWT payload")?;
    let alg = match payload.get("_sd_alg").and_then(Value::as_str) {
        Some(name) => SdAlg::from_name(name)?,
        None => SdAlg::Sha256,
    };
    let decoded = sd
        .disclosures
        .iter()
        .map(|d| Disclosure::parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    let applied = apply(&payload, &decoded, alg)?;
    let disclosures = applied
        .disclosed
        .into_iter()
        .filter_map(|(path, value, index)| {
            decoded.get(index).map(|d| InspectedDisclosure {
                path,
                encoded: d.encoded.clone(),
                value,
            })
        })
        .collect();
    Ok(Inspected {
        header,
        claims: applied.claims,
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
            .any(|d| d.path == *path || is_under(&d.path, path));
        let visible = pointer_exists(&inspected.claims, path);
        if !known && !visible {
            return Err(SdJwtError::Malformed(format!("no claim at {path}")));
        }
    }
    let chosen = inspected
        .disclosures
        .iter()
        .filter(|d| {
            let p = &d.path;
            paths
                .iter()
                .any(|r| p == r || is_under(r, p) || is_under(p, r))
        })
        .map(|d| d.encoded.clone())
        .collect();
    Ok(SdJwt {
        disclosures: chosen,
        kb_jwt: None,
        ..sd.clone()
    })
}

/// Whether the JSON pointer `path` names something inside the claim at `ancestor`.
fn is_under(path: &str, ancestor: &str) -> bool {
    path.strip_prefix(ancestor)
        .is_some_and(|rest| rest.starts_with('/'))
}

fn pointer_exists(value: &Value, path: &str) -> bool {
    value.pointer(path).is_some()
}

/// Where a stored SD-JWT's status is published (its `status` claim): `None` when it has none;
/// an error when it has one that does not parse, which is never read as "no status".
pub fn status_reference(sd: &SdJwt) -> Result<Option<StatusReference>, SdJwtError> {
    inspect(sd)?
        .claims
        .get("status")
        .map(StatusReference::from_json)
        .transpose()
        .map_err(|e| SdJwtError::Malformed(format!("status reference: {e}")))
}

/// The signing input of a Key Binding JWT for `presentation` (which must have no KB-JWT yet).
pub fn key_binding_input(
    presentation: &SdJwt,
    alg: SdAlg,
    audience: &str,
    nonce: &str,
    iat: i64,
) -> String {
    key_binding_input_with(
        presentation,
        alg,
        audience,
        nonce,
        iat,
        serde_json::Map::new(),
    )
}

/// [`key_binding_input`] with `extra` claims (OpenID4VP's `transaction_data_hashes` and
/// `transaction_data_hashes_alg`).
pub fn key_binding_input_with(
    presentation: &SdJwt,
    alg: SdAlg,
    audience: &str,
    nonce: &str,
    iat: i64,
    extra: serde_json::Map<String, Value>,
) -> String {
    let header = serde_json::json!({ "alg": "ES256", "typ": "kb+jwt" });
    let mut payload = extra;
    payload.insert("nonce".into(), nonce.into());
    payload.insert("aud".into(), audience.into());
    payload.insert("iat".into(), iat.into());
    payload.insert("sd_hash".into(), presentation.sd_hash(alg).into());
    format!(
        "{}.{}",
        encode_json(&header),
        encode_json(&Value::Object(payload))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn select_takes_a_claim_its_parents_and_its_children_and_nothing_that_only_shares_a_prefix() {
        let d = |name: &str, value: Value| Disclosure::new(Some(name), value).unwrap();
        let h = |d: &Disclosure| d.digest(SdAlg::Sha256);
        let locality = d("locality", json!("중구"));
        let region = d("region", json!("서울특별시"));
        let address = d("address", json!({"_sd": [h(&locality), h(&region)]}));
        let addr = d("addr", json!("short"));
        let payload = json!({"_sd": [h(&address), h(&addr)], "_sd_alg": "sha-256", "iss": "x"});
        let sd = SdJwt {
            protected: encode_json(&json!({"alg": "ES256"})),
            payload: encode_json(&payload),
            signature: "c2ln".into(),
            disclosures: [&locality, &address, &addr, &region]
                .iter()
                .map(|d| d.encoded.clone())
                .collect(),
            kb_jwt: None,
        };
        let view = inspect(&sd).unwrap();
        let chosen = |paths: &[&str]| {
            let paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
            select(&sd, &view, &paths).map(|s| {
                let mut chosen = s.disclosures;
                chosen.sort();
                chosen
            })
        };
        let sorted = |ds: &[&Disclosure]| {
            let mut encoded: Vec<String> = ds.iter().map(|d| d.encoded.clone()).collect();
            encoded.sort();
            encoded
        };
        assert_eq!(chosen(&["/addr"]).unwrap(), sorted(&[&addr]));
        assert_eq!(
            chosen(&["/address/locality"]).unwrap(),
            sorted(&[&locality, &address])
        );
        assert_eq!(
            chosen(&["/address"]).unwrap(),
            sorted(&[&locality, &address, &region])
        );
        // A visible claim needs no disclosure; a prefix of a name is not a claim.
        assert_eq!(chosen(&["/iss"]).unwrap(), Vec::<String>::new());
        assert!(matches!(chosen(&["/addre"]), Err(SdJwtError::Malformed(_))));
        assert!(matches!(
            chosen(&["/address/loc"]),
            Err(SdJwtError::Malformed(_))
        ));
    }
}
