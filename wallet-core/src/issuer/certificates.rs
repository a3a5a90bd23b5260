//! Certificates of the test authority, after ISO/IEC 18013-5 Annex B: a self-signed IACA root
//! (CA, keyCertSign + cRLSign, country), a document signer (digitalSignature, EKU
//! 1.0.18013.5.1.2), and the same pair for reader authentication (EKU 1.0.18013.5.1.6).
//! Issuer alternative names and CRL distribution points, which Annex B also lists, are left out:
//! nothing here publishes a CRL.

use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};

use der::referenced::OwnedToRef;
use der::Encode;
use p256::ecdsa::{DerSignature, SigningKey};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};

use super::IssuerError;
use crate::crypto::ec::SoftwareKey;
use crate::crypto::random;
use crate::trust::x509::{EKU_MDL_DS, EKU_MDL_READER_AUTH};

/// A certificate with its private key.
#[derive(Debug)]
pub struct CertifiedKey {
    /// DER certificate.
    pub certificate: Vec<u8>,
    /// The key the certificate certifies.
    pub key: SoftwareKey,
}

/// Everything the test authority signs with.
#[derive(Debug)]
pub struct Authority {
    /// The IACA root.
    pub iaca: CertifiedKey,
    /// The document signer, issued by the IACA.
    pub document_signer: CertifiedKey,
    /// The reader root.
    pub reader_root: CertifiedKey,
    /// A reader authentication certificate, issued by the reader root.
    pub reader: CertifiedKey,
    /// The signer of SD-JWT VC e-certificates, issued by the IACA.
    pub certificate_issuer: CertifiedKey,
    /// A registered sender of bills and notifications, issued by the IACA.
    pub sender: CertifiedKey,
}

fn err(e: impl std::fmt::Display) -> IssuerError {
    IssuerError::Certificate(e.to_string())
}

fn signing_key(key: &SoftwareKey) -> Result<SigningKey, IssuerError> {
    SigningKey::from_slice(key.private_scalar().expose()).map_err(err)
}

fn spki(key: &SoftwareKey) -> Result<SubjectPublicKeyInfoOwned, IssuerError> {
    SubjectPublicKeyInfoOwned::from_key(*signing_key(key)?.verifying_key()).map_err(err)
}

fn validity(from: i64, until: i64) -> Result<Validity, IssuerError> {
    let time = |t: i64| -> Result<Time, IssuerError> {
        let secs = u64::try_from(t).map_err(|_| IssuerError::Invalid("time before 1970".into()))?;
        Time::try_from(UNIX_EPOCH + Duration::from_secs(secs)).map_err(err)
    };
    Ok(Validity {
        not_before: time(from)?,
        not_after: time(until)?,
    })
}

fn serial() -> Result<SerialNumber, IssuerError> {
    let mut bytes: [u8; 16] = random::array()?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    SerialNumber::new(&bytes).map_err(err)
}

fn name(common_name: &str, country: &str) -> Result<Name, IssuerError> {
    let clean = |s: &str| s.replace([',', '+', '=', '\\', '"', '<', '>', ';'], " ");
    Name::from_str(&format!("CN={},C={}", clean(common_name), clean(country))).map_err(err)
}

/// A self-signed root CA (IACA or reader root).
pub fn root(
    common_name: &str,
    country: &str,
    from: i64,
    until: i64,
) -> Result<CertifiedKey, IssuerError> {
    let key = SoftwareKey::generate()?;
    let signer = signing_key(&key)?;
    let builder = CertificateBuilder::new(
        Profile::Root,
        serial()?,
        validity(from, until)?,
        name(common_name, country)?,
        spki(&key)?,
        &signer,
    )
    .map_err(err)?;
    let cert = builder.build::<DerSignature>().map_err(err)?;
    Ok(CertifiedKey {
        certificate: cert.to_der().map_err(err)?,
        key,
    })
}

/// An end-entity signing certificate issued by `issuer` with one extended key usage.
pub fn leaf(
    issuer: &CertifiedKey,
    common_name: &str,
    country: &str,
    extended_key_usage: Option<der::asn1::ObjectIdentifier>,
    from: i64,
    until: i64,
) -> Result<CertifiedKey, IssuerError> {
    use der::Decode;
    let issuer_cert = x509_cert::Certificate::from_der(&issuer.certificate).map_err(err)?;
    let key = SoftwareKey::generate()?;
    let subject_spki = spki(&key)?;
    let signer = signing_key(&issuer.key)?;
    let mut builder = CertificateBuilder::new(
        Profile::Manual {
            issuer: Some(issuer_cert.tbs_certificate.subject.clone()),
        },
        serial()?,
        validity(from, until)?,
        name(common_name, country)?,
        subject_spki.clone(),
        &signer,
    )
    .map_err(err)?;
    builder
        .add_extension(&SubjectKeyIdentifier::try_from(subject_spki.owned_to_ref()).map_err(err)?)
        .map_err(err)?;
    builder
        .add_extension(
            &AuthorityKeyIdentifier::try_from(
                issuer_cert
                    .tbs_certificate
                    .subject_public_key_info
                    .owned_to_ref(),
            )
            .map_err(err)?,
        )
        .map_err(err)?;
    builder
        .add_extension(&BasicConstraints {
            ca: false,
            path_len_constraint: None,
        })
        .map_err(err)?;
    builder
        .add_extension(&KeyUsage(KeyUsages::DigitalSignature.into()))
        .map_err(err)?;
    if let Some(eku) = extended_key_usage {
        builder
            .add_extension(&ExtendedKeyUsage(vec![eku]))
            .map_err(err)?;
    }
    let cert = builder.build::<DerSignature>().map_err(err)?;
    Ok(CertifiedKey {
        certificate: cert.to_der().map_err(err)?,
        key,
    })
}

/// A complete test authority for `country` (ISO 3166 alpha-2), valid from `now`: IACA and
/// reader root for about 10 years; document signer, certificate issuer (SD-JWT VC signer, no
/// extended key usage) and reader certificate for about 3 years.
pub fn create_authority(
    name_prefix: &str,
    country: &str,
    now: i64,
) -> Result<Authority, IssuerError> {
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(IssuerError::Invalid(format!(
            "country must be two capital letters, not {country}"
        )));
    }
    const YEAR: i64 = 365 * 86_400;
    let start = now - 86_400;
    let iaca = root(
        &format!("{name_prefix} IACA"),
        country,
        start,
        now + 10 * YEAR,
    )?;
    let document_signer = leaf(
        &iaca,
        &format!("{name_prefix} Document Signer"),
        country,
        Some(EKU_MDL_DS),
        start,
        now + 3 * YEAR,
    )?;
    let certificate_issuer = leaf(
        &iaca,
        &format!("{name_prefix} Certificate Issuer"),
        country,
        None,
        start,
        now + 3 * YEAR,
    )?;
    let sender = leaf(
        &iaca,
        &format!("{name_prefix} Sender"),
        country,
        None,
        start,
        now + 3 * YEAR,
    )?;
    let reader_root = root(
        &format!("{name_prefix} Reader Root"),
        country,
        start,
        now + 10 * YEAR,
    )?;
    let reader = leaf(
        &reader_root,
        &format!("{name_prefix} Reader"),
        country,
        Some(EKU_MDL_READER_AUTH),
        start,
        now + 3 * YEAR,
    )?;
    Ok(Authority {
        iaca,
        document_signer,
        certificate_issuer,
        sender,
        reader_root,
        reader,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::x509::{verify_chain, LeafProfile, ParsedCertificate, TrustError};

    #[test]
    fn authority_chains_verify_with_their_profiles() {
        let now = 1_800_000_000;
        let a = create_authority("Jigap Test", "KR", now).unwrap();
        let iaca = ParsedCertificate::from_der(&a.iaca.certificate).unwrap();
        let reader_root = ParsedCertificate::from_der(&a.reader_root.certificate).unwrap();
        let (ds, _) = verify_chain(
            std::slice::from_ref(&a.document_signer.certificate),
            std::slice::from_ref(&iaca),
            now,
            LeafProfile::DocumentSigner,
        )
        .unwrap();
        assert_eq!(
            ds.p256_public_key().unwrap(),
            a.document_signer.key.public_key()
        );
        assert_eq!(ds.country().as_deref(), Some("KR"));
        verify_chain(
            std::slice::from_ref(&a.reader.certificate),
            std::slice::from_ref(&reader_root),
            now,
            LeafProfile::ReaderAuthentication,
        )
        .unwrap();
        // Roles do not mix.
        assert!(matches!(
            verify_chain(
                std::slice::from_ref(&a.reader.certificate),
                std::slice::from_ref(&iaca),
                now,
                LeafProfile::DocumentSigner
            ),
            Err(TrustError::Untrusted(_))
        ));
        assert!(matches!(
            verify_chain(
                std::slice::from_ref(&a.document_signer.certificate),
                std::slice::from_ref(&iaca),
                now,
                LeafProfile::ReaderAuthentication
            ),
            Err(TrustError::Profile(_))
        ));
        // A leaf is not a trust anchor for another leaf.
        assert!(verify_chain(
            std::slice::from_ref(&a.document_signer.certificate),
            &[ParsedCertificate::from_der(&a.reader.certificate).unwrap()],
            now,
            LeafProfile::DocumentSigner
        )
        .is_err());
        assert!(create_authority("x", "Korea", now).is_err());
    }
}
