//! X.509 certificates (RFC 5280) for mdoc trust: parsing with `x509-cert`, ECDSA signature checks
//! with `ring`, and chain validation to a trust anchor at a given time, with the Annex B profile
//! checks of ISO/IEC 18013-5 (IACA, document signer, reader authentication).

use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use ring::signature::{self, UnparsedPublicKey};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};
use x509_cert::Certificate;

const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const COUNTRY_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
/// Extended key usage of an mdoc document signer (ISO/IEC 18013-5 Annex B.1.4).
pub const EKU_MDL_DS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.0.18013.5.1.2");
/// Extended key usage of an mdoc reader authentication certificate (Annex B.1.7).
pub const EKU_MDL_READER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.0.18013.5.1.6");

/// Why a certificate or chain was rejected.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TrustError {
    /// Not DER, or not a certificate.
    #[error("malformed certificate: {0}")]
    Malformed(String),
    /// The chain does not end at a configured trust anchor.
    #[error("no trust anchor for {0}")]
    Untrusted(String),
    /// A signature in the chain does not verify, or issuer and subject do not link.
    #[error("broken chain: {0}")]
    Broken(String),
    /// A certificate is outside its validity at the verification time.
    #[error("certificate {subject} is not valid at that time ({not_before} to {not_after})")]
    Validity {
        /// The certificate's subject.
        subject: String,
        /// notBefore, Unix seconds.
        not_before: i64,
        /// notAfter, Unix seconds.
        not_after: i64,
    },
    /// A certificate does not have the profile its role requires.
    #[error("certificate profile: {0}")]
    Profile(String),
    /// An algorithm or curve this implementation does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
}

/// A parsed certificate with its DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCertificate {
    der: Vec<u8>,
    cert: Certificate,
}

/// The role a chain's leaf plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafProfile {
    /// An mdoc document signer (EKU 1.0.18013.5.1.2, digitalSignature).
    DocumentSigner,
    /// An mdoc reader (EKU 1.0.18013.5.1.6, digitalSignature).
    ReaderAuthentication,
    /// Any end-entity signing certificate (digitalSignature).
    Signer,
}

impl ParsedCertificate {
    /// Parses DER.
    pub fn from_der(der: &[u8]) -> Result<Self, TrustError> {
        let cert = Certificate::from_der(der).map_err(|e| TrustError::Malformed(e.to_string()))?;
        Ok(ParsedCertificate {
            der: der.to_vec(),
            cert,
        })
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject as an RFC 4514 string.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    /// The issuer as an RFC 4514 string.
    pub fn issuer(&self) -> String {
        self.cert.tbs_certificate.issuer.to_string()
    }

    /// The subject's countryName, if any.
    pub fn country(&self) -> Option<String> {
        self.cert
            .tbs_certificate
            .subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .find_map(|atv| {
                (atv.oid == COUNTRY_NAME).then(|| {
                    der::asn1::PrintableStringRef::try_from(&atv.value)
                        .map(|s| s.to_string())
                        .unwrap_or_default()
                })
            })
    }

    /// notBefore and notAfter in Unix seconds.
    pub fn validity(&self) -> (i64, i64) {
        let v = &self.cert.tbs_certificate.validity;
        let secs = |t: &x509_cert::time::Time| {
            i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
        };
        (secs(&v.not_before), secs(&v.not_after))
    }

    /// The subject public key (SEC1) and its curve; only EC P-256 and P-384 keys.
    pub fn public_key(&self) -> Result<(Vec<u8>, ObjectIdentifier), TrustError> {
        let spki = &self.cert.tbs_certificate.subject_public_key_info;
        if spki.algorithm.oid != EC_PUBLIC_KEY {
            return Err(TrustError::Unsupported(format!(
                "public key algorithm {}",
                spki.algorithm.oid
            )));
        }
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            .ok_or_else(|| TrustError::Malformed("EC key without a named curve".into()))?;
        if curve != P256 && curve != P384 {
            return Err(TrustError::Unsupported(format!("curve {curve}")));
        }
        let key = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| TrustError::Malformed("public key bit string".into()))?;
        Ok((key.to_vec(), curve))
    }

    /// The P-256 public key, for ES256 COSE verification.
    pub fn p256_public_key(&self) -> Result<Vec<u8>, TrustError> {
        match self.public_key()? {
            (key, curve) if curve == P256 => Ok(key),
            (_, curve) => Err(TrustError::Unsupported(format!(
                "signing key on curve {curve} (ES256 needs P-256)"
            ))),
        }
    }

    fn extension<T: for<'a> Decode<'a>>(
        &self,
        oid: ObjectIdentifier,
    ) -> Result<Option<(bool, T)>, TrustError> {
        let Some(exts) = &self.cert.tbs_certificate.extensions else {
            return Ok(None);
        };
        let mut found = exts.iter().filter(|e| e.extn_id == oid);
        let Some(ext) = found.next() else {
            return Ok(None);
        };
        if found.next().is_some() {
            return Err(TrustError::Malformed(format!("duplicate extension {oid}")));
        }
        let value = T::from_der(ext.extn_value.as_bytes())
            .map_err(|e| TrustError::Malformed(format!("extension {oid}: {e}")))?;
        Ok(Some((ext.critical, value)))
    }

    fn key_usage(&self) -> Result<Option<(bool, KeyUsage)>, TrustError> {
        self.extension::<KeyUsage>(KEY_USAGE)
    }

    fn is_ca(&self) -> Result<bool, TrustError> {
        Ok(self
            .extension::<BasicConstraints>(BASIC_CONSTRAINTS)?
            .is_some_and(|(_, bc)| bc.ca))
    }

    /// Checks that `issuer` signed this certificate.
    pub fn verify_signed_by(&self, issuer: &ParsedCertificate) -> Result<(), TrustError> {
        if self.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            return Err(TrustError::Broken(format!(
                "{} names issuer {}, not {}",
                self.subject(),
                self.issuer(),
                issuer.subject()
            )));
        }
        let (key, curve) = issuer.public_key()?;
        let alg = &self.cert.signature_algorithm.oid;
        let verifier: &dyn signature::VerificationAlgorithm = match (curve, alg) {
            (c, a) if c == P256 && *a == ECDSA_WITH_SHA256 => &signature::ECDSA_P256_SHA256_ASN1,
            (c, a) if c == P256 && *a == ECDSA_WITH_SHA384 => &signature::ECDSA_P256_SHA384_ASN1,
            (c, a) if c == P384 && *a == ECDSA_WITH_SHA256 => &signature::ECDSA_P384_SHA256_ASN1,
            (c, a) if c == P384 && *a == ECDSA_WITH_SHA384 => &signature::ECDSA_P384_SHA384_ASN1,
            (_, a) => return Err(TrustError::Unsupported(format!("signature algorithm {a}"))),
        };
        let tbs = self
            .cert
            .tbs_certificate
            .to_der()
            .map_err(|e| TrustError::Malformed(e.to_string()))?;
        let sig = self
            .cert
            .signature
            .as_bytes()
            .ok_or_else(|| TrustError::Malformed("signature bit string".into()))?;
        UnparsedPublicKey::new(verifier, &key)
            .verify(&tbs, sig)
            .map_err(|_| {
                TrustError::Broken(format!(
                    "signature on {} does not verify with {}",
                    self.subject(),
                    issuer.subject()
                ))
            })
    }

    fn check_time(&self, at: i64) -> Result<(), TrustError> {
        let (not_before, not_after) = self.validity();
        if at < not_before || at > not_after {
            return Err(TrustError::Validity {
                subject: self.subject(),
                not_before,
                not_after,
            });
        }
        Ok(())
    }

    /// Annex B.1.2 (IACA): a CA that may sign certificates.
    pub fn check_anchor_profile(&self) -> Result<(), TrustError> {
        if !self.is_ca()? {
            return Err(TrustError::Profile(format!(
                "{} is not a CA (basicConstraints)",
                self.subject()
            )));
        }
        match self.key_usage()? {
            Some((_, ku)) if ku.0.contains(KeyUsages::KeyCertSign) => Ok(()),
            _ => Err(TrustError::Profile(format!(
                "{} may not sign certificates (keyUsage)",
                self.subject()
            ))),
        }
    }

    /// Checks the leaf profile (Annex B): critical keyUsage with digitalSignature and, for mdoc
    /// document signers and reader certificates, their extended key usage.
    pub fn check_leaf_profile(&self, profile: LeafProfile) -> Result<(), TrustError> {
        match self.key_usage()? {
            Some((true, ku)) if ku.0.contains(KeyUsages::DigitalSignature) => {}
            Some((false, _)) => {
                return Err(TrustError::Profile(format!(
                    "keyUsage of {} is not critical",
                    self.subject()
                )))
            }
            _ => {
                return Err(TrustError::Profile(format!(
                    "{} lacks keyUsage digitalSignature",
                    self.subject()
                )))
            }
        }
        if self.is_ca()? {
            return Err(TrustError::Profile(format!(
                "{} is a CA, not an end entity",
                self.subject()
            )));
        }
        let wanted = match profile {
            LeafProfile::DocumentSigner => Some(EKU_MDL_DS),
            LeafProfile::ReaderAuthentication => Some(EKU_MDL_READER_AUTH),
            LeafProfile::Signer => None,
        };
        if let Some(wanted) = wanted {
            match self.extension::<ExtendedKeyUsage>(EXT_KEY_USAGE)? {
                Some((_, eku)) if eku.0.contains(&wanted) => {}
                _ => {
                    return Err(TrustError::Profile(format!(
                        "{} lacks extended key usage {wanted}",
                        self.subject()
                    )))
                }
            }
        }
        Ok(())
    }
}

/// Validates `chain` (DER, leaf first; intermediates optional) against `anchors` at time `at`
/// (Unix seconds): every signature links, every certificate is valid at `at`, the anchor is a
/// CA allowed to sign certificates, the leaf has `profile`, and for document signers the
/// leaf's country matches the anchor's (Annex B). Returns the leaf and the anchor.
pub fn verify_chain(
    chain: &[Vec<u8>],
    anchors: &[ParsedCertificate],
    at: i64,
    profile: LeafProfile,
) -> Result<(ParsedCertificate, ParsedCertificate), TrustError> {
    let certs = chain
        .iter()
        .map(|der| ParsedCertificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()?;
    let leaf = certs
        .first()
        .ok_or_else(|| TrustError::Malformed("empty certificate chain".into()))?;
    for pair in certs.windows(2) {
        if !pair[1].is_ca()? {
            return Err(TrustError::Profile(format!(
                "{} is not a CA",
                pair[1].subject()
            )));
        }
        pair[0].verify_signed_by(&pair[1])?;
    }
    let last = certs.last().unwrap_or(leaf);
    let anchor = match anchors.iter().find(|a| a.der == last.der) {
        Some(itself) => itself,
        None => {
            // Anchors named as the issuer: a name match whose signature fails is a broken
            // chain; no name match at all is an untrusted one.
            let mut failure = None;
            let mut found = None;
            for candidate in anchors
                .iter()
                .filter(|a| a.cert.tbs_certificate.subject == last.cert.tbs_certificate.issuer)
            {
                match last.verify_signed_by(candidate) {
                    Ok(()) => {
                        found = Some(candidate);
                        break;
                    }
                    Err(e) => failure = Some(e),
                }
            }
            match (found, failure) {
                (Some(anchor), _) => anchor,
                (None, Some(e)) => return Err(e),
                (None, None) => {
                    return Err(TrustError::Untrusted(format!(
                        "{} (issued by {})",
                        last.subject(),
                        last.issuer()
                    )))
                }
            }
        }
    };
    anchor.check_anchor_profile()?;
    for cert in certs.iter().chain(std::iter::once(anchor)) {
        cert.check_time(at)?;
    }
    leaf.check_leaf_profile(profile)?;
    if profile == LeafProfile::DocumentSigner {
        if let (Some(leaf_c), Some(anchor_c)) = (leaf.country(), anchor.country()) {
            if leaf_c != anchor_c {
                return Err(TrustError::Profile(format!(
                    "document signer country {leaf_c} differs from IACA country {anchor_c}"
                )));
            }
        }
    }
    Ok((leaf.clone(), anchor.clone()))
}
