//! E-certificates (전자증명서) as SD-JWT VCs through the API: the holder stores them, shows their
//! claims and which can be withheld, and presents a chosen subset with a Key Binding JWT signed
//! in the `SecureArea`; a relying party verifies with `SdJwtVerifier`.

use std::sync::Arc;

use serde_json::Value;

use super::host::{CheckedSecureArea, Clock, SystemClock};
use super::records::{CredentialFormat, NewCredential};
use super::status::VerifierStatuses;
use super::wallet::check_alias;
use super::{Wallet, WalletError};
use crate::crypto::jose;
use crate::documents::e_certificates as catalogue;
use crate::sdjwt::disclosure::SdAlg;
use crate::sdjwt::format::SdJwt;
use crate::sdjwt::present::{inspect, key_binding_input, select};
use crate::sdjwt::verify::{verify, IssuerTrust, KeyBindingPolicy};
use crate::trust::x509::ParsedCertificate;
use crate::verifier::sdjwt::{verify_vc, VcPolicy};

/// One claim of a stored certificate.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ECertificateClaim {
    /// JSON pointer (use it to choose what to present).
    pub path: String,
    /// Korean label, for known certificate types.
    pub label_ko: Option<String>,
    /// English label, for known certificate types.
    pub label_en: Option<String>,
    /// The value as JSON.
    pub value_json: String,
    /// The holder may withhold it.
    pub disclosable: bool,
}

/// A claim an e-certificate type carries.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ECertificateClaimType {
    /// JSON pointer.
    pub path: String,
    /// Korean label.
    pub label_ko: String,
    /// English label.
    pub label_en: String,
    /// The holder may withhold it.
    pub disclosable: bool,
}

/// An e-certificate type the wallet knows.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ECertificateType {
    /// Short name (`resident-abstract`, ...).
    pub id: String,
    /// SD-JWT VC type.
    pub vct: String,
    /// Korean name.
    pub name_ko: String,
    /// English name.
    pub name_en: String,
    /// Days a certificate of this type is valid after issue.
    pub valid_days: u32,
    /// Its claims, with labels.
    pub claims: Vec<ECertificateClaimType>,
}

/// Every e-certificate type the wallet knows (its catalogue), for hosts that show them and
/// issuers that offer them.
#[uniffi::export]
pub fn e_certificate_types() -> Vec<ECertificateType> {
    catalogue::CATALOGUE
        .iter()
        .map(|kind| ECertificateType {
            id: kind.id.to_owned(),
            vct: kind.vct.to_owned(),
            name_ko: kind.name_ko.to_owned(),
            name_en: kind.name_en.to_owned(),
            valid_days: kind.valid_days,
            claims: kind
                .claims
                .iter()
                .map(|c| ECertificateClaimType {
                    path: c.path.to_owned(),
                    label_ko: c.label_ko.to_owned(),
                    label_en: c.label_en.to_owned(),
                    disclosable: c.disclosable,
                })
                .collect(),
        })
        .collect()
}

/// A stored certificate as the holder sees it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ECertificateView {
    /// SD-JWT VC type.
    pub vct: String,
    /// Korean name.
    pub name_ko: String,
    /// English name.
    pub name_en: String,
    /// `iss`.
    pub issuer: String,
    /// `exp`, Unix seconds.
    pub expires_at: Option<i64>,
    /// Claims: every disclosable one, and the always-visible ones.
    pub claims: Vec<ECertificateClaim>,
}

/// A claim the verifier received.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DisclosedClaim {
    /// JSON pointer.
    pub path: String,
    /// The value as JSON.
    pub value_json: String,
}

/// A verified certificate presentation.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifiedECertificate {
    /// SD-JWT VC type.
    pub vct: String,
    /// `iss`.
    pub issuer: String,
    /// Subject of the issuer's certificate (from `x5c`).
    pub issuer_certificate: String,
    /// Every claim the verifier may rely on, as JSON (disclosures applied).
    pub claims_json: String,
    /// The selectively disclosed claims.
    pub disclosed: Vec<DisclosedClaim>,
    /// A Key Binding JWT for this verifier's nonce and audience was verified.
    pub key_bound: bool,
}

/// How a relying party verifies certificates.
#[derive(uniffi::Record)]
pub struct SdJwtVerifierConfig {
    /// Trusted SD-JWT VC issuer roots (DER): the `x5c` chain must end at one of them, with a
    /// leaf of the SD-JWT VC issuer profile.
    pub trusted_issuer_certificates: Vec<Vec<u8>>,
    /// Trusted status list signer roots (DER): status list tokens loaded with
    /// `add_status_list` must be signed under one of them by a status list signer.
    #[uniffi(default = [])]
    pub status_list_certificates: Vec<Vec<u8>>,
    /// The credential types (`vct`) accepted; empty accepts any.
    #[uniffi(default = [])]
    pub accepted_vcts: Vec<String>,
    /// Refuse credentials that state no expiry (`exp`).
    #[uniffi(default = true)]
    pub require_expiry: bool,
    /// Oldest acceptable Key Binding JWT, in seconds.
    #[uniffi(default = 300)]
    pub max_key_binding_age_seconds: u32,
    /// Accepted clock skew between the holder, the issuer and this verifier, in seconds.
    #[uniffi(default = 60)]
    pub clock_skew_seconds: u32,
    /// The verification clock; `None` uses the system clock.
    #[uniffi(default = None)]
    pub clock: Option<Arc<dyn Clock>>,
}

const ENVELOPE: [&str; 7] = ["iss", "vct", "iat", "exp", "nbf", "cnf", "status"];

/// Reads a stored SD-JWT and selects the claims at `paths`, with what they bring along (see
/// [`select`]): the presentation, without its key binding yet, and the SD-JWT's `_sd_alg`.
pub(super) fn select_stored(raw: &[u8], paths: &[String]) -> Result<(SdJwt, SdAlg), WalletError> {
    let text = std::str::from_utf8(raw).map_err(|_| WalletError::StoreCorrupt {
        reason: "SD-JWT is not text".into(),
    })?;
    let parsed = SdJwt::parse_compact(text)?;
    let view = inspect(&parsed)?;
    let presentation =
        select(&parsed, &view, paths).map_err(|e| WalletError::invalid(e.to_string()))?;
    Ok((presentation, view.alg))
}

/// Refuses `presentation` if its relying party, `asker`, would see a claim the policy keeps
/// from it whatever was asked: a restricted identifier without a legal basis, or a claim never
/// released. The check reads the presentation as a verifier will, so it covers what choosing a
/// path brings along: the disclosures nested under it, the plain claims inside a disclosed
/// object, and the claims every presentation carries. The envelope (`iss`, `vct`, times, `cnf`,
/// `status`) is not a claim about the citizen and is not checked.
pub(super) fn check_presented_claims(
    policy: &crate::policy::DisclosurePolicy,
    asker: &crate::policy::Asker,
    presentation: &SdJwt,
) -> Result<(), WalletError> {
    let seen = inspect(presentation)?;
    let Value::Object(claims) = &seen.claims else {
        return Err(WalletError::invalid(
            "the SD-JWT's claims are not an object",
        ));
    };
    let mut pending: Vec<(String, &Value)> = claims
        .iter()
        .filter(|(name, _)| !ENVELOPE.contains(&name.as_str()))
        .map(|(name, value)| (crate::sdjwt::process::child_path("", name), value))
        .collect();
    // Depth and size are bounded by the parse: the presentation was read by `inspect`.
    while let Some((path, value)) = pending.pop() {
        if let Some(reason) = policy.refused_regardless(asker, &path) {
            return Err(WalletError::invalid(format!(
                "the presentation would carry {path}, which this relying party may not receive ({}): choose the claims beside it instead",
                reason.name()
            )));
        }
        match value {
            Value::Object(map) => pending.extend(
                map.iter()
                    .map(|(k, v)| (crate::sdjwt::process::child_path(&path, k), v)),
            ),
            Value::Array(items) => pending.extend(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (format!("{path}/{i}"), v)),
            ),
            _ => {}
        }
    }
    Ok(())
}

fn type_of(vct: &str) -> Option<&'static catalogue::ECertificateType> {
    catalogue::find(vct)
}

fn labels(
    kind: Option<&catalogue::ECertificateType>,
    path: &str,
) -> (Option<String>, Option<String>) {
    match kind.and_then(|k| catalogue::label(k, path)) {
        Some((ko, en)) => (Some(ko.to_owned()), Some(en.to_owned())),
        None => (None, None),
    }
}

#[uniffi::export]
impl Wallet {
    /// Stores an SD-JWT VC (compact issuance) bound to the device key `key_alias`: its
    /// `cnf.jwk` must be that key. The issuer's ES256 signature must verify with the first
    /// `x5c` certificate and every disclosure must be referenced exactly once (else
    /// `Verification`); whether that issuer is trusted is the verifier's question. Kept exactly
    /// as received.
    pub fn add_sd_jwt(&self, sd_jwt: String, key_alias: String) -> Result<String, WalletError> {
        self.require_unlocked()?;
        check_alias(&key_alias)?;
        let parsed = SdJwt::parse_compact(&sd_jwt)?;
        if parsed.kb_jwt.is_some() {
            return Err(WalletError::invalid(
                "store the issued SD-JWT, not a presentation",
            ));
        }
        // Intact as issued: signed by its x5c leaf, every disclosure referenced once.
        let view = verify(&parsed, IssuerTrust::X5cLeaf, None, None)?;
        let holder = view
            .claims
            .pointer("/cnf/jwk")
            .map(jose::p256_from_jwk)
            .transpose()?
            .ok_or_else(|| WalletError::invalid("the SD-JWT has no cnf.jwk holder key"))?;
        if holder != CheckedSecureArea(&*self.secure_area).public_key(&key_alias)? {
            return Err(WalletError::invalid(
                "the SD-JWT is bound to a different device key than key_alias",
            ));
        }
        let text = |name: &str| {
            view.claims
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let vct = text("vct").ok_or_else(|| WalletError::invalid("the SD-JWT has no vct"))?;
        let (name_ko, name_en) = match type_of(&vct) {
            Some(k) => (k.name_ko.to_owned(), k.name_en.to_owned()),
            None => (vct.clone(), vct.clone()),
        };
        self.store_credential(NewCredential {
            format: CredentialFormat::SdJwtVc,
            issuer: text("iss").unwrap_or_else(|| "unknown issuer".into()),
            doc_type: vct,
            display_name_ko: name_ko,
            display_name_en: name_en,
            valid_from: view.claims.get("iat").and_then(Value::as_i64),
            valid_until: view.claims.get("exp").and_then(Value::as_i64),
            key_alias: Some(key_alias),
            raw: sd_jwt.into_bytes(),
        })
    }

    /// The claims of a stored certificate and which of them the holder can withhold.
    pub fn e_certificate_view(
        &self,
        credential_id: String,
    ) -> Result<ECertificateView, WalletError> {
        let credential = self.get_credential(credential_id)?;
        if credential.summary.format != CredentialFormat::SdJwtVc {
            return Err(WalletError::invalid("not an SD-JWT VC"));
        }
        let text = String::from_utf8(credential.raw).map_err(|_| WalletError::StoreCorrupt {
            reason: "SD-JWT is not text".into(),
        })?;
        let parsed = SdJwt::parse_compact(&text)?;
        let view = inspect(&parsed)?;
        let kind = type_of(&credential.summary.doc_type);
        let mut claims = Vec::new();
        for disclosure in &view.disclosures {
            let path = &disclosure.path;
            let value = &disclosure.value;
            let (label_ko, label_en) = labels(kind, path);
            claims.push(ECertificateClaim {
                path: path.clone(),
                label_ko,
                label_en,
                value_json: value.to_string(),
                disclosable: true,
            });
        }
        if let Value::Object(map) = &view.claims {
            for (k, v) in map {
                let path = format!("/{k}");
                if ENVELOPE.contains(&k.as_str()) || claims.iter().any(|c| c.path == path) {
                    continue;
                }
                let (label_ko, label_en) = labels(kind, &path);
                claims.push(ECertificateClaim {
                    path,
                    label_ko,
                    label_en,
                    value_json: v.to_string(),
                    disclosable: false,
                });
            }
        }
        Ok(ECertificateView {
            vct: credential.summary.doc_type,
            name_ko: credential.summary.display_name_ko,
            name_en: credential.summary.display_name_en,
            issuer: credential.summary.issuer,
            expires_at: credential.summary.valid_until,
            claims,
        })
    }

    /// Presents a stored certificate to `audience` (the verifier's identifier), disclosing
    /// only the claims at `claims` (JSON pointers from `e_certificate_view`), with a Key Binding
    /// JWT over the verifier's `nonce` signed by the device key. Returns the compact SD-JWT+KB.
    /// Nothing authenticates the audience here, so a restricted identifier of the disclosure
    /// policy is refused (`InvalidInput`): it goes only online, to a relying party whose
    /// certificate carries a legal basis.
    pub fn present_sd_jwt(
        &self,
        credential_id: String,
        claims: Vec<String>,
        audience: String,
        nonce: String,
    ) -> Result<String, WalletError> {
        if audience.trim().is_empty() || nonce.trim().is_empty() {
            return Err(WalletError::invalid(
                "a presentation needs the verifier's audience and nonce",
            ));
        }
        let credential = self.get_credential(credential_id)?;
        if credential.summary.format != CredentialFormat::SdJwtVc {
            return Err(WalletError::invalid("not an SD-JWT VC"));
        }
        let policy = self.policy()?;
        // Nothing authenticates the audience: it is an unauthenticated relying party. Every
        // claim the presentation would carry is weighed, not only those named: a parent, or
        // the root, brings the claims under it.
        let asker = crate::policy::Asker::default();
        let selection = |raw: &[u8]| -> Result<_, WalletError> {
            let selected = select_stored(raw, &claims)?;
            check_presented_claims(&policy, &asker, &selected.0)?;
            Ok(selected)
        };
        // The claims asked for are checked before a copy of a batch is spent on them; a
        // credential issued alone is its own copy, and is not read a second time.
        let checked = selection(&credential.raw)?;
        let (raw, alias) = self.presentation_copy(&credential)?;
        let (mut presentation, alg) = if raw == credential.raw {
            checked
        } else {
            selection(&raw)?
        };
        let input = key_binding_input(&presentation, alg, &audience, &nonce, self.now()?);
        let area = CheckedSecureArea(&*self.secure_area);
        let public_key = area.public_key(&alias)?;
        let signature = area.sign(&alias, &public_key, input.as_bytes())?;
        presentation.kb_jwt = Some(jose::compact(&input, &signature));
        self.record(
            crate::journal::JournalKind::Presentation,
            serde_json::json!({
                "channel": "sd_jwt",
                "relying_party": { "client_id": audience, "verified": false },
                "credentials": [{ "credential_id": credential.summary.id, "released": claims }],
            }),
        )?;
        Ok(presentation.to_compact())
    }
}

/// Verifies certificate presentations for a relying party.
#[derive(uniffi::Object)]
pub struct SdJwtVerifier {
    anchors: Vec<ParsedCertificate>,
    status_anchors: Vec<ParsedCertificate>,
    accepted_vcts: Vec<String>,
    require_expiry: bool,
    max_age: i64,
    skew: i64,
    clock: Arc<dyn Clock>,
    statuses: VerifierStatuses,
}

/// Parses DER certificates given to a relying party's configuration.
pub(super) fn parse_anchors(
    certificates: &[Vec<u8>],
    what: &str,
) -> Result<Vec<ParsedCertificate>, WalletError> {
    certificates
        .iter()
        .map(|der| {
            ParsedCertificate::from_der(der)
                .map_err(|e| WalletError::invalid(format!("{what} certificate: {e}")))
        })
        .collect()
}

#[uniffi::export]
impl SdJwtVerifier {
    /// A verifier trusting `config.trusted_issuer_certificates` for SD-JWT VCs and
    /// `config.status_list_certificates` for their status lists.
    #[uniffi::constructor]
    pub fn new(config: SdJwtVerifierConfig) -> Result<Arc<Self>, WalletError> {
        if config.trusted_issuer_certificates.is_empty() {
            return Err(WalletError::invalid(
                "a verifier needs at least one trusted issuer certificate",
            ));
        }
        Ok(Arc::new(SdJwtVerifier {
            anchors: parse_anchors(&config.trusted_issuer_certificates, "issuer")?,
            status_anchors: parse_anchors(&config.status_list_certificates, "status list")?,
            accepted_vcts: config.accepted_vcts,
            require_expiry: config.require_expiry,
            max_age: i64::from(config.max_key_binding_age_seconds),
            skew: i64::from(config.clock_skew_seconds),
            clock: config.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            statuses: VerifierStatuses::default(),
        }))
    }

    /// Loads the status list token fetched from `uri` (JWT or CWT), after checking that a
    /// status list signer under `status_list_certificates` signed it. Credentials that point
    /// into it are then checked against it until its `ttl`/`exp` runs out.
    pub fn add_status_list(&self, uri: String, token: Vec<u8>) -> Result<(), WalletError> {
        let at = self
            .clock
            .now_unix_seconds()
            .map_err(|e| e.in_callback("Clock.nowUnixSeconds"))?;
        self.statuses.load(&uri, &token, &self.status_anchors, at)
    }

    /// Verifies a compact SD-JWT+KB presented to `audience` for `nonce`: issuer signature and
    /// `x5c` chain (an SD-JWT VC issuer under a trusted root), every disclosure, `exp`/`nbf`
    /// with the configured skew and expiry policy, the header `typ` (`dc+sd-jwt`, or
    /// `vc+sd-jwt` during the transition), a `vct` this verifier accepts, an `iss` named by the
    /// issuer's certificate, the Key Binding JWT, and — when the credential has a `status` —
    /// its entry in a status list loaded with `add_status_list` (anything but VALID, or no
    /// list, is a failure). Every failure is a `Verification` error naming the check.
    pub fn verify(
        &self,
        presentation: String,
        audience: String,
        nonce: String,
    ) -> Result<VerifiedECertificate, WalletError> {
        let at = self
            .clock
            .now_unix_seconds()
            .map_err(|e| e.in_callback("Clock.nowUnixSeconds"))?;
        let sd = SdJwt::parse(&presentation)?;
        let policy = VcPolicy {
            anchors: &self.anchors,
            at,
            skew: self.skew,
            accepted_vcts: &self.accepted_vcts,
            require_expiry: self.require_expiry,
            key_binding: KeyBindingPolicy {
                nonce: &nonce,
                audience: &audience,
                at,
                max_age: self.max_age,
                skew: self.skew,
            },
        };
        let verified = verify_vc(&sd, &policy)?;
        if let Some(reference) = &verified.status {
            self.statuses.check(reference, at)?;
        }
        let sd_jwt = verified.sd_jwt;
        Ok(VerifiedECertificate {
            vct: verified.vct,
            issuer: verified.iss,
            issuer_certificate: sd_jwt.issuer_certificate.clone().unwrap_or_default(),
            claims_json: sd_jwt.claims.to_string(),
            disclosed: sd_jwt
                .disclosed
                .iter()
                .map(|(path, value)| DisclosedClaim {
                    path: path.clone(),
                    value_json: value.to_string(),
                })
                .collect(),
            key_bound: sd_jwt.key_bound,
        })
    }
}
