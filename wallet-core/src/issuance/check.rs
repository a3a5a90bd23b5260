//! What a wallet checks of a credential an issuer sent, before storing it: the issuer is
//! trusted for its format (an mdoc document signer under a trusted IACA, an SD-JWT VC issuer
//! under a trusted root), the credential is intact and valid now, it is what was offered (the
//! configuration's docType or `vct`), and it is bound to a key this wallet made for it.

use serde_json::Value;

use super::metadata::ConfigurationFormat;
use crate::crypto::jose;
use crate::mdoc::issuer_signed::IssuerSigned;
use crate::mdoc::MdocError;
use crate::sdjwt::format::SdJwt;
use crate::sdjwt::SdJwtError;
use crate::trust::x509::ParsedCertificate;
use crate::verifier::{mdoc as mdoc_verifier, sdjwt as sd_jwt_verifier};

/// Seconds a fresh credential's start may lie ahead of the wallet's clock.
pub const ISSUANCE_SKEW: i64 = 300;

/// The trust anchors issued credentials are checked against.
#[derive(Debug, Clone, Copy)]
pub struct IssuerAnchors<'a> {
    /// IACAs (role `MdocIssuer`).
    pub mdoc: &'a [ParsedCertificate],
    /// SD-JWT VC issuer roots (role `SdJwtIssuer`).
    pub sd_jwt: &'a [ParsedCertificate],
}

/// How a checked credential is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuedFormat {
    /// `mso_mdoc`.
    MsoMdoc,
    /// `dc+sd-jwt`.
    SdJwtVc,
}

/// A credential that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedCredential {
    /// Its encoding.
    pub format: IssuedFormat,
    /// docType or `vct`.
    pub doc_type: String,
    /// Who issued it: the document signer's subject (mdoc) or `iss` (SD-JWT VC).
    pub issuer: String,
    /// Start of validity.
    pub valid_from: Option<i64>,
    /// End of validity.
    pub valid_until: Option<i64>,
    /// The device key it is bound to (SEC1).
    pub device_key: Vec<u8>,
}

/// Why an issued credential was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// The mdoc failed a check (untrusted issuer, signature, digest, validity, ...).
    #[error(transparent)]
    Mdoc(#[from] MdocError),
    /// The SD-JWT VC failed a check.
    #[error(transparent)]
    SdJwt(#[from] SdJwtError),
    /// It is not what was offered, or not bound to one of the wallet's keys for it.
    #[error("not what was offered: {0}")]
    NotOffered(String),
}

/// Checks `bytes` issued for `format` at `now` against `anchors`.
pub fn check(
    format: &ConfigurationFormat,
    bytes: &[u8],
    anchors: &IssuerAnchors<'_>,
    now: i64,
) -> Result<CheckedCredential, CheckError> {
    match format {
        ConfigurationFormat::MsoMdoc { doctype } => {
            let issuer_signed = IssuerSigned::parse(bytes)?;
            let issued =
                mdoc_verifier::check_issued(&issuer_signed, anchors.mdoc, now, ISSUANCE_SKEW)?;
            if issued.mso.doc_type != *doctype {
                return Err(CheckError::NotOffered(format!(
                    "an mdoc of type {}, offered {doctype}",
                    issued.mso.doc_type
                )));
            }
            Ok(CheckedCredential {
                format: IssuedFormat::MsoMdoc,
                doc_type: issued.mso.doc_type,
                issuer: issued.signer.subject(),
                valid_from: Some(issued.mso.validity.valid_from),
                valid_until: Some(issued.mso.validity.valid_until),
                device_key: issued.mso.device_key,
            })
        }
        ConfigurationFormat::SdJwtVc { vct } => {
            let text = std::str::from_utf8(bytes)
                .map_err(|_| SdJwtError::Malformed("the SD-JWT is not text".into()))?;
            let parsed = SdJwt::parse_compact(text)?;
            let vc = sd_jwt_verifier::check_issued_vc(&parsed, anchors.sd_jwt, now, ISSUANCE_SKEW)?;
            if vc.vct != *vct {
                return Err(CheckError::NotOffered(format!(
                    "an SD-JWT VC of type {}, offered {vct}",
                    vc.vct
                )));
            }
            let device_key = vc
                .sd_jwt
                .claims
                .pointer("/cnf/jwk")
                .map(jose::p256_from_jwk)
                .transpose()
                .map_err(|e| SdJwtError::Malformed(format!("cnf.jwk: {e}")))?
                .ok_or_else(|| CheckError::NotOffered("the SD-JWT VC has no cnf.jwk".into()))?;
            Ok(CheckedCredential {
                format: IssuedFormat::SdJwtVc,
                doc_type: vc.vct,
                issuer: vc.iss,
                valid_from: vc.sd_jwt.claims.get("iat").and_then(Value::as_i64),
                valid_until: vc.expires_at,
                device_key,
            })
        }
        ConfigurationFormat::Other(other) => Err(CheckError::NotOffered(format!(
            "the format {other} is not one this wallet holds"
        ))),
    }
}
