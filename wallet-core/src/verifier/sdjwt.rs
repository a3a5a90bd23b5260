//! SD-JWT VC verification for a relying party (draft-ietf-oauth-sd-jwt-vc over RFC 9901):
//! everything an SD-JWT verifier checks (issuer chain and signature, disclosures, time, key
//! binding), then what an SD-JWT VC adds: the header `typ`, a `vct` (optionally one the
//! relying party expects), an `iss` bound to the issuer's certificate, the expiry policy, the
//! envelope claims not selectively disclosed, and a status reference that parses.

use serde_json::Value;

use crate::sdjwt::format::SdJwt;
use crate::sdjwt::verify::{verify, IssuerTrust, KeyBindingPolicy, TimeCheck, VerifiedSdJwt};
use crate::sdjwt::SdJwtError;
use crate::trust::status_list::StatusReference;
use crate::trust::x509::{ParsedCertificate, TrustRole};

/// The `typ` of an SD-JWT VC.
pub const TYP_DC_SD_JWT: &str = "dc+sd-jwt";
/// The `typ` used until November 2024, accepted during the transition.
pub const TYP_VC_SD_JWT: &str = "vc+sd-jwt";
/// Claims of the envelope that may not be selectively disclosed.
const NEVER_DISCLOSED: [&str; 7] = ["iss", "vct", "vct#integrity", "nbf", "exp", "cnf", "status"];

/// What a relying party requires of an SD-JWT VC presentation.
pub struct VcPolicy<'a> {
    /// Trusted SD-JWT VC issuer roots.
    pub anchors: &'a [ParsedCertificate],
    /// Now, Unix seconds.
    pub at: i64,
    /// Accepted clock skew, in seconds, for `exp`, `nbf` and the KB-JWT's `iat`.
    pub skew: i64,
    /// The credential types accepted; empty accepts any `vct`.
    pub accepted_vcts: &'a [String],
    /// Refuse a credential that states no `exp`.
    pub require_expiry: bool,
    /// The Key Binding JWT the presentation must carry.
    pub key_binding: KeyBindingPolicy<'a>,
}

/// A verified SD-JWT VC.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedVc {
    /// `vct`, never empty.
    pub vct: String,
    /// `iss`, never empty, named by the issuer's certificate.
    pub iss: String,
    /// `exp`, when stated.
    pub expires_at: Option<i64>,
    /// Where its status is published, when it has one.
    pub status: Option<StatusReference>,
    /// The verified SD-JWT underneath.
    pub sd_jwt: VerifiedSdJwt,
}

fn text_claim(claims: &Value, name: &str) -> Result<String, SdJwtError> {
    match claims.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(_) => Err(SdJwtError::Malformed(format!(
            "{name} is not a non-empty string"
        ))),
        None => Err(SdJwtError::Malformed(format!("an SD-JWT VC states {name}"))),
    }
}

/// The host of an `https://` URL, if it is one (no user info, port kept out).
fn https_host(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.contains('@') || authority.is_empty() {
        return None;
    }
    Some(authority.split(':').next().unwrap_or(authority))
}

/// Checks that `iss` names the issuer's certificate: equal to one of its URI subject
/// alternative names, or an `https` URL whose host is one of its DNS names.
pub fn check_issuer_name(iss: &str, leaf: &ParsedCertificate) -> Result<(), SdJwtError> {
    let (uris, dns) = leaf
        .subject_alt_names()
        .map_err(|e| SdJwtError::CertificateChain(e.to_string()))?;
    let by_uri = uris.iter().any(|u| u == iss);
    let by_dns =
        https_host(iss).is_some_and(|host| dns.iter().any(|d| d.eq_ignore_ascii_case(host)));
    if by_uri || by_dns {
        Ok(())
    } else {
        Err(SdJwtError::IssuerMismatch(format!(
            "iss {iss} is not a name of the issuer's certificate {}",
            leaf.subject()
        )))
    }
}

/// Verifies an SD-JWT VC presentation under `policy`.
pub fn verify_vc(sd: &SdJwt, policy: &VcPolicy<'_>) -> Result<VerifiedVc, SdJwtError> {
    let verified = verify(
        sd,
        IssuerTrust::X5c {
            anchors: policy.anchors,
            at: policy.at,
            profile: TrustRole::SdJwtIssuer,
        },
        Some(TimeCheck {
            at: policy.at,
            skew: policy.skew,
        }),
        Some(&policy.key_binding),
    )?;
    envelope(verified, policy.accepted_vcts, policy.require_expiry)
}

/// Checks an SD-JWT VC as issued, as a wallet does before storing what an issuer sent: the
/// issuer's chain to `anchors` (an SD-JWT VC issuer), its signature, the disclosures, the time
/// at `at` with `skew`, and the SD-JWT VC envelope (`typ`, `vct`, `iss` named by the
/// certificate, nothing of the envelope disclosed). There is no key binding yet: the holder
/// has not presented it.
pub fn check_issued_vc(
    sd: &SdJwt,
    anchors: &[ParsedCertificate],
    at: i64,
    skew: i64,
) -> Result<VerifiedVc, SdJwtError> {
    if sd.kb_jwt.is_some() {
        return Err(SdJwtError::Malformed(
            "an issued SD-JWT carries no key binding JWT".into(),
        ));
    }
    let verified = verify(
        sd,
        IssuerTrust::X5c {
            anchors,
            at,
            profile: TrustRole::SdJwtIssuer,
        },
        Some(TimeCheck { at, skew }),
        None,
    )?;
    envelope(verified, &[], false)
}

/// What an SD-JWT VC adds to a verified SD-JWT: `typ`, the envelope claims never disclosed, a
/// `vct` (one of `accepted_vcts` unless empty), an `iss` named by the issuer's certificate, the
/// expiry policy and a status reference that parses.
fn envelope(
    verified: VerifiedSdJwt,
    accepted_vcts: &[String],
    require_expiry: bool,
) -> Result<VerifiedVc, SdJwtError> {
    match verified.header.get("typ").and_then(Value::as_str) {
        Some(TYP_DC_SD_JWT | TYP_VC_SD_JWT) => {}
        Some(other) => {
            return Err(SdJwtError::WrongType(format!(
                "typ {other} is not {TYP_DC_SD_JWT}"
            )))
        }
        None => return Err(SdJwtError::WrongType("no typ in the header".into())),
    }
    if let Some((path, _)) = verified.disclosed.iter().find(|(path, _)| {
        NEVER_DISCLOSED
            .iter()
            .any(|name| path.strip_prefix('/') == Some(name))
    }) {
        return Err(SdJwtError::Malformed(format!(
            "{path} is selectively disclosed, which an SD-JWT VC forbids"
        )));
    }
    let vct = text_claim(&verified.claims, "vct")?;
    if !accepted_vcts.is_empty() && !accepted_vcts.contains(&vct) {
        return Err(SdJwtError::WrongType(format!(
            "vct {vct} is not one this relying party accepts"
        )));
    }
    let iss = text_claim(&verified.claims, "iss")?;
    let leaf = verified
        .issuer_leaf
        .as_ref()
        .ok_or_else(|| SdJwtError::UntrustedIssuer("no issuer certificate".into()))?;
    check_issuer_name(&iss, leaf)?;
    let expires_at = match verified.claims.get("exp") {
        None => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| SdJwtError::Malformed("exp is not an integer".into()))?,
        ),
    };
    if require_expiry && expires_at.is_none() {
        return Err(SdJwtError::Malformed(
            "the credential states no exp, and this relying party requires one".into(),
        ));
    }
    let status = verified
        .claims
        .get("status")
        .map(StatusReference::from_json)
        .transpose()
        .map_err(|e| SdJwtError::Malformed(format!("status: {e}")))?;
    Ok(VerifiedVc {
        vct,
        iss,
        expires_at,
        status,
        sd_jwt: verified,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_hosts() {
        assert_eq!(
            https_host("https://issuer.example/kr"),
            Some("issuer.example")
        );
        assert_eq!(
            https_host("https://issuer.example:8443"),
            Some("issuer.example")
        );
        assert_eq!(https_host("https://user@issuer.example/"), None);
        assert_eq!(https_host("http://issuer.example/"), None);
        assert_eq!(https_host("https:///x"), None);
    }
}
