//! What the relying party asks for: DCQL queries (OpenID4VP 1.0 section 6), written out in full
//! or made from a shorthand. A SPEC names one credential and the claims wanted from it —
//! `mdl:age_over_19,family_name` (the mDL, namespace `org.iso.18013.5.1`),
//! `resident-card:name_ko` (the provisional resident registration card, whose docType is also
//! its namespace), or an e-certificate short name from the core's catalogue with claim paths
//! whose keys `.` separates (`resident-abstract:name,address.locality`); a segment of digits is
//! an array index. Each SPEC becomes one credential query, `q0`, `q1` ... in order.

use serde_json::{json, Value};

/// The mDL's docType.
pub const MDL_DOCTYPE: &str = "org.iso.18013.5.1.mDL";
/// The mDL's namespace.
pub const MDL_NAMESPACE: &str = "org.iso.18013.5.1";
/// The resident registration card's docType and namespace (provisional, the project's own).
pub const RESIDENT_CARD_DOCTYPE: &str = "kr.jigap.mdoc.resident-registration.1";
/// Most credential queries one request may hold.
pub const MAX_QUERIES: usize = 16;
/// Most claims one SPEC may name.
pub const MAX_CLAIMS: usize = 64;

/// One credential query from one SPEC, with the id `id`.
pub fn credential_query(id: &str, spec: &str) -> Result<Value, String> {
    let (name, claims) = spec
        .split_once(':')
        .ok_or_else(|| format!("{spec:?} is not NAME:claim,claim"))?;
    let claims: Vec<&str> = claims
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    if claims.is_empty() {
        return Err(format!("{spec:?} names no claim"));
    }
    if claims.len() > MAX_CLAIMS {
        return Err(format!("{spec:?} names more than {MAX_CLAIMS} claims"));
    }
    let mdoc = |doctype: &str, namespace: &str| {
        json!({
            "id": id,
            "format": "mso_mdoc",
            "meta": { "doctype_value": doctype },
            "claims": claims
                .iter()
                .map(|element| json!({ "path": [namespace, element] }))
                .collect::<Vec<_>>(),
        })
    };
    match name.trim() {
        "mdl" => Ok(mdoc(MDL_DOCTYPE, MDL_NAMESPACE)),
        "resident-card" => Ok(mdoc(RESIDENT_CARD_DOCTYPE, RESIDENT_CARD_DOCTYPE)),
        short => {
            let kind = wallet_core::e_certificate_types()
                .into_iter()
                .find(|k| k.id == short)
                .ok_or_else(|| {
                    format!(
                        "unknown credential {short:?}: mdl, resident-card, or an e-certificate \
                         ({})",
                        wallet_core::e_certificate_types()
                            .iter()
                            .map(|k| k.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
            let paths = claims
                .iter()
                .map(|claim| claim_path(claim).map(|path| json!({ "path": path })))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(json!({
                "id": id,
                "format": "dc+sd-jwt",
                "meta": { "vct_values": [kind.vct] },
                "claims": paths,
            }))
        }
    }
}

/// `address.locality` as a DCQL claims path: `["address", "locality"]`; digits are an index.
fn claim_path(claim: &str) -> Result<Vec<Value>, String> {
    claim
        .split('.')
        .map(|segment| {
            if segment.is_empty() {
                Err(format!("the claim path {claim:?} has an empty segment"))
            } else if segment.bytes().all(|b| b.is_ascii_digit()) {
                segment
                    .parse::<u64>()
                    .map(Value::from)
                    .map_err(|_| format!("the index in {claim:?} is too large"))
            } else {
                Ok(Value::from(segment))
            }
        })
        .collect()
}

/// A DCQL query with one credential query per SPEC (`q0`, `q1` ...).
pub fn dcql_of_specs(specs: &[String]) -> Result<Value, String> {
    if specs.is_empty() {
        return Err("no SPEC given".into());
    }
    if specs.len() > MAX_QUERIES {
        return Err(format!("more than {MAX_QUERIES} SPECs in one request"));
    }
    let credentials = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| credential_query(&format!("q{i}"), spec))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({ "credentials": credentials }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_become_credential_queries() {
        let dcql = dcql_of_specs(&[
            "mdl:age_over_19, family_name".into(),
            "resident-abstract:name,address.locality,address_history.0".into(),
            "resident-card:name_ko".into(),
        ])
        .unwrap();
        assert_eq!(
            dcql,
            json!({"credentials": [
                {"id": "q0", "format": "mso_mdoc", "meta": {"doctype_value": MDL_DOCTYPE},
                 "claims": [{"path": [MDL_NAMESPACE, "age_over_19"]},
                            {"path": [MDL_NAMESPACE, "family_name"]}]},
                {"id": "q1", "format": "dc+sd-jwt",
                 "meta": {"vct_values": ["urn:jigap:cert:resident-registration-abstract:1"]},
                 "claims": [{"path": ["name"]}, {"path": ["address", "locality"]},
                            {"path": ["address_history", 0]}]},
                {"id": "q2", "format": "mso_mdoc", "meta": {"doctype_value": RESIDENT_CARD_DOCTYPE},
                 "claims": [{"path": [RESIDENT_CARD_DOCTYPE, "name_ko"]}]}
            ]})
        );
    }

    #[test]
    fn bad_specs_say_why() {
        for (spec, why) in [
            ("mdl", "is not NAME:claim"),
            ("mdl:", "names no claim"),
            ("passport:name", "unknown credential"),
            ("resident-abstract:address..locality", "empty segment"),
        ] {
            let e = dcql_of_specs(&[spec.into()]).unwrap_err();
            assert!(e.contains(why), "{spec}: {e}");
        }
        assert!(dcql_of_specs(&[]).is_err());
    }
}
