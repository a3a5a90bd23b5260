//! mdoc reader verification (ISO/IEC 18013-5 9.3.1): issuer data authentication (x5chain to a
//! trusted IACA, issuerAuth signature, docType, validity, every disclosed digest), then mdoc
//! authentication (device signature or MAC over this session's DeviceAuthentication).
//!
//! Checks run cheapest-trust-first: nothing in the MSO is believed before the chain and the
//! issuer signature verify, and nothing disclosed is believed before its digest matches.

use crate::cose::cbor::Value;
use crate::cose::{self, CoseError};
use crate::crypto::ec::SoftwareKey;
use crate::mdoc::issuer_signed::{IssuerSigned, MobileSecurityObject, ValidityInfo};
use crate::mdoc::request::ItemsRequest;
use crate::mdoc::response::{device_authentication_bytes, DeviceAuth, DeviceResponse, Document};
use crate::mdoc::session::{self, SessionTranscript};
use crate::mdoc::{DeviceAuthMode, MdocError};
use crate::time;
use crate::trust::status_list::StatusReference;
use crate::trust::x509::{verify_chain, ParsedCertificate, TrustError, TrustRole};

/// One verified data element.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedElement {
    /// Namespace.
    pub namespace: String,
    /// Element identifier.
    pub identifier: String,
    /// Value, as the issuer signed it.
    pub value: Value,
}

/// A document that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedDocument {
    /// docType.
    pub doc_type: String,
    /// Subject of the document signer certificate.
    pub document_signer: String,
    /// Subject of the IACA it chains to.
    pub issuing_authority: String,
    /// Country of the document signer, if named.
    pub issuing_country: Option<String>,
    /// MSO validity.
    pub validity: ValidityInfo,
    /// How the device authenticated.
    pub device_auth: DeviceAuthMode,
    /// Every disclosed element, each digest-checked.
    pub elements: Vec<VerifiedElement>,
    /// Elements the holder did not return, with error codes.
    pub not_returned: Vec<(String, String, i64)>,
    /// Where the document's status is published (MSO `status`), if it has one. A status
    /// that does not parse fails verification; it never reads as "no status".
    pub status: Option<StatusReference>,
}

/// What verification needs besides the document.
pub struct VerificationContext<'a> {
    /// Trusted IACA certificates.
    pub iaca: &'a [ParsedCertificate],
    /// The verification time, Unix seconds.
    pub at: i64,
    /// This session's transcript.
    pub transcript: &'a SessionTranscript,
    /// The reader's ephemeral key, for MAC device authentication.
    pub e_reader_key: Option<&'a SoftwareKey>,
}

fn trust_error(e: TrustError) -> MdocError {
    match e {
        TrustError::Untrusted(what) => MdocError::UntrustedIssuer(what),
        other => MdocError::CertificateChain(other.to_string()),
    }
}

/// Verifies one returned document.
pub fn verify_document(
    doc: &Document,
    ctx: &VerificationContext<'_>,
) -> Result<VerifiedDocument, MdocError> {
    let issuer_signed = &doc.issuer_signed;
    // 1. The document signer chains to a trusted IACA and signed the MSO.
    let chain = cose::x5chain(&issuer_signed.issuer_auth.unprotected)?;
    let (signer, anchor) =
        verify_chain(&chain, ctx.iaca, ctx.at, TrustRole::MdocIssuer).map_err(trust_error)?;
    let signer_key = signer.p256_public_key().map_err(trust_error)?;
    verify_issuer_auth(issuer_signed, &signer_key)?;
    let mso = issuer_signed.mso()?;
    let status = mso
        .status
        .as_ref()
        .map(StatusReference::from_cbor)
        .transpose()
        .map_err(|e| MdocError::Malformed(format!("MSO status: {e}")))?;
    // 2. The MSO is for this docType and valid now.
    if mso.doc_type != doc.doc_type {
        return Err(MdocError::DocTypeMismatch {
            document: doc.doc_type.clone(),
            mso: mso.doc_type.clone(),
        });
    }
    if ctx.at < mso.validity.valid_from {
        return Err(MdocError::NotYetValid(time::format_rfc3339(
            mso.validity.valid_from,
        )));
    }
    if ctx.at > mso.validity.valid_until {
        return Err(MdocError::Expired(time::format_rfc3339(
            mso.validity.valid_until,
        )));
    }
    // 3. Every disclosed element is one the issuer signed.
    let elements = check_digests(issuer_signed, &mso)?;
    // 4. The device holding the MSO's key took part in this session.
    let payload = device_authentication_bytes(
        ctx.transcript,
        &doc.doc_type,
        &doc.device_signed.namespaces_bytes,
    );
    let device_auth = match &doc.device_signed.device_auth {
        DeviceAuth::Signature(sig) => {
            cose::verify_sign1(sig, Some(&payload), &mso.device_key).map_err(|e| match e {
                CoseError::BadSignature => MdocError::DeviceAuthentication(
                    "the device signature does not verify with the MSO device key over this session's transcript (wrong device key, or a response from another session)".into(),
                ),
                other => other.into(),
            })?;
            DeviceAuthMode::Signature
        }
        DeviceAuth::Mac(mac) => {
            let reader = ctx.e_reader_key.ok_or_else(|| {
                MdocError::DeviceAuthentication("deviceMac needs the reader's ephemeral key".into())
            })?;
            let shared = reader.agree(&mso.device_key)?;
            let key = session::mac_key(shared.expose(), ctx.transcript)?;
            cose::verify_mac0(mac, &key, &payload).map_err(|e| match e {
                CoseError::BadMac => MdocError::DeviceAuthentication(
                    "the device MAC does not verify with the MSO device key over this session's transcript (wrong device key, or a response from another session)".into(),
                ),
                other => other.into(),
            })?;
            DeviceAuthMode::Mac
        }
    };
    let not_returned = doc
        .errors
        .iter()
        .flat_map(|(ns, elems)| {
            elems
                .iter()
                .map(move |(e, code)| (ns.clone(), e.clone(), *code))
        })
        .collect();
    Ok(VerifiedDocument {
        doc_type: doc.doc_type.clone(),
        document_signer: signer.subject(),
        issuing_authority: anchor.subject(),
        issuing_country: signer.country(),
        validity: mso.validity,
        device_auth,
        elements,
        not_returned,
        status,
    })
}

/// Checks that a response answers the request it was sent for, before anything in it is
/// verified further: every returned document is of a requested docType (and no docType comes
/// back more often than it was asked for), and every returned element was asked for in that
/// document's request. What was not asked for is refused, never shown as verified.
pub fn check_against_request(
    response: &DeviceResponse,
    requested: &[ItemsRequest],
) -> Result<(), MdocError> {
    let mut used = vec![false; requested.len()];
    for doc in &response.documents {
        let (request, taken) = requested
            .iter()
            .zip(used.iter_mut())
            .find(|(r, taken)| !**taken && r.doc_type == doc.doc_type)
            .ok_or_else(|| {
                MdocError::NotRequested(format!(
                    "a document of type {} was not asked for",
                    doc.doc_type
                ))
            })?;
        *taken = true;
        for (ns, items) in &doc.issuer_signed.namespaces {
            let asked = request
                .namespaces
                .iter()
                .find(|(n, _)| n == ns)
                .map(|(_, elements)| elements.as_slice())
                .unwrap_or_default();
            for item in items {
                if !asked.iter().any(|(e, _)| *e == item.element_identifier) {
                    return Err(MdocError::NotRequested(format!(
                        "{ns}/{} of {} was not asked for",
                        item.element_identifier, doc.doc_type
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Verifies the issuerAuth COSE_Sign1 over the MSO with the document signer's key (SEC1).
fn verify_issuer_auth(issuer_signed: &IssuerSigned, signer_key: &[u8]) -> Result<(), MdocError> {
    cose::verify_sign1(&issuer_signed.issuer_auth, None, signer_key).map_err(|e| match e {
        CoseError::BadSignature => MdocError::IssuerSignature,
        other => other.into(),
    })
}

/// Checks every item against its MSO digest; returns the items as verified elements.
fn check_digests(
    issuer_signed: &IssuerSigned,
    mso: &MobileSecurityObject,
) -> Result<Vec<VerifiedElement>, MdocError> {
    let mut elements = Vec::new();
    for (ns, items) in &issuer_signed.namespaces {
        for item in items {
            let expected =
                mso.digest(ns, item.digest_id)
                    .ok_or_else(|| MdocError::UnknownDigestId {
                        namespace: ns.clone(),
                        element: item.element_identifier.clone(),
                        digest_id: item.digest_id,
                    })?;
            let actual = item.digest(mso.digest_algorithm);
            if !crate::crypto::constant_time_eq(expected, &actual) {
                return Err(MdocError::DigestMismatch {
                    namespace: ns.clone(),
                    element: item.element_identifier.clone(),
                });
            }
            elements.push(VerifiedElement {
                namespace: ns.clone(),
                identifier: item.element_identifier.clone(),
                value: item.element_value.clone(),
            });
        }
    }
    Ok(elements)
}

/// An mdoc as issued, checked.
#[derive(Debug, Clone)]
pub struct IssuedMdoc {
    /// The document signer's certificate.
    pub signer: ParsedCertificate,
    /// The trusted IACA it chains to.
    pub anchor: ParsedCertificate,
    /// The signed MSO.
    pub mso: MobileSecurityObject,
}

/// Checks an IssuerSigned an issuer just sent, before a wallet stores it: the document signer
/// chains to one of `anchors` (IACAs) at `at`, its signature over the MSO verifies, every item
/// matches its digest, and the MSO is valid at `at` (its start may lie up to `skew` seconds
/// ahead, for clocks that disagree).
pub fn check_issued(
    issuer_signed: &IssuerSigned,
    anchors: &[ParsedCertificate],
    at: i64,
    skew: i64,
) -> Result<IssuedMdoc, MdocError> {
    let chain = cose::x5chain(&issuer_signed.issuer_auth.unprotected)?;
    let (signer, anchor) =
        verify_chain(&chain, anchors, at, TrustRole::MdocIssuer).map_err(trust_error)?;
    let signer_key = signer.p256_public_key().map_err(trust_error)?;
    verify_issuer_auth(issuer_signed, &signer_key)?;
    let mso = issuer_signed.mso()?;
    if at.saturating_add(skew) < mso.validity.valid_from {
        return Err(MdocError::NotYetValid(time::format_rfc3339(
            mso.validity.valid_from,
        )));
    }
    if at > mso.validity.valid_until {
        return Err(MdocError::Expired(time::format_rfc3339(
            mso.validity.valid_until,
        )));
    }
    check_digests(issuer_signed, &mso)?;
    Ok(IssuedMdoc {
        signer,
        anchor,
        mso,
    })
}

/// Checks a received IssuerSigned on its own, as a wallet does before storing it: the
/// issuerAuth signature verifies with the first x5chain certificate (a document signer), and
/// every item matches its digest in the MSO. Whether that signer is trusted is the reader's
/// question, answered by [`verify_document`] against its IACA list. Returns the signer and the
/// MSO, parsed once its signature verified.
pub fn check_issuer_signed(
    issuer_signed: &IssuerSigned,
) -> Result<(ParsedCertificate, MobileSecurityObject), MdocError> {
    let chain = cose::x5chain(&issuer_signed.issuer_auth.unprotected)?;
    let leaf = chain.first().ok_or(MdocError::IssuerSignature)?;
    let signer = ParsedCertificate::from_der(leaf).map_err(trust_error)?;
    signer
        .check_leaf_profile(TrustRole::MdocIssuer)
        .map_err(trust_error)?;
    let signer_key = signer.p256_public_key().map_err(trust_error)?;
    verify_issuer_auth(issuer_signed, &signer_key)?;
    let mso = issuer_signed.mso()?;
    check_digests(issuer_signed, &mso)?;
    Ok((signer, mso))
}
