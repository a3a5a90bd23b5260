//! Certificates of the test authority: one chain per signer role (a self-signed root and one
//! signer under it), so that no key is trusted for two roles. The mdoc chains follow
//! ISO/IEC 18013-5 Annex B field by field: the IACA has critical basicConstraints (CA,
//! pathLenConstraint 0), critical keyUsage keyCertSign and cRLSign, a subject key identifier,
//! an issuer alternative name and CRL distribution points; the document signer has critical
//! keyUsage digitalSignature, the critical extended key usage 1.0.18013.5.1.2, authority and
//! subject key identifiers, an issuer alternative name, CRL distribution points, no
//! basicConstraints and 365 days of validity. The other roles use the same shape with their
//! own extended key usage; the SD-JWT VC issuer also names its `iss` URL as a subject
//! alternative name. The CRL URLs name where a real authority would publish; this one does
//! not publish CRLs.

use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};

use der::asn1::Ia5String;
use der::referenced::OwnedToRef;
use der::Encode;
use p256::ecdsa::{DerSignature, SigningKey};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies, CrlDistributionPoints,
    ExtendedKeyUsage, IssuerAltName, KeyUsage, KeyUsages, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};

use super::IssuerError;
use crate::crypto::ec::SoftwareKey;
use crate::crypto::random;
use crate::trust::x509::TrustRole;

/// A certificate with its private key.
#[derive(Debug)]
pub struct CertifiedKey {
    /// DER certificate.
    pub certificate: Vec<u8>,
    /// The key the certificate certifies.
    pub key: SoftwareKey,
}

/// One role's chain: a root (the trust anchor) and the signer it certifies.
#[derive(Debug)]
pub struct RoleChain {
    /// The role.
    pub role: TrustRole,
    /// The self-signed root: an IACA for mdoc issuers, a reader root for readers.
    pub root: CertifiedKey,
    /// The signer: a document signer, a reader, a status list signer, and so on.
    pub signer: CertifiedKey,
}

/// Everything the test authority signs with: one chain per role.
#[derive(Debug)]
pub struct Authority {
    /// The chains, one per role of [`TrustRole::ALL`], in that order.
    pub chains: Vec<RoleChain>,
    /// The authority's web servers' TLS chain: a root and a server certificate for
    /// `localhost` and 127.0.0.1 (extended key usage serverAuth). No wallet role trusts it; a
    /// client is told to trust the root for the test servers.
    pub tls: TlsChain,
}

/// A TLS root and the server certificate it issued.
#[derive(Debug)]
pub struct TlsChain {
    /// The root.
    pub root: CertifiedKey,
    /// The server certificate and key.
    pub server: CertifiedKey,
}

impl Authority {
    /// The chain of `role`.
    pub fn chain(&self, role: TrustRole) -> Result<&RoleChain, IssuerError> {
        self.chains
            .iter()
            .find(|c| c.role == role)
            .ok_or_else(|| IssuerError::Invalid(format!("no {} chain", role.name())))
    }

    /// The signer of `role`.
    pub fn signer(&self, role: TrustRole) -> Result<&CertifiedKey, IssuerError> {
        Ok(&self.chain(role)?.signer)
    }

    /// The root certificate of `role` (DER).
    pub fn root_certificate(&self, role: TrustRole) -> Result<&[u8], IssuerError> {
        Ok(&self.chain(role)?.root.certificate)
    }

    /// A further signer of `role` under its root, named `common_name`, valid from `now` for
    /// a year, whose certificate carries the certificate policies `policies` (dotted OIDs).
    pub fn issue_signer(
        &self,
        role: TrustRole,
        common_name: &str,
        country: &str,
        now: i64,
        policies: &[String],
    ) -> Result<CertifiedKey, IssuerError> {
        let oids = policies
            .iter()
            .map(|p| {
                // Checked first: the parser panics on an arc that does not fit 32 bits.
                if !crate::policy::is_oid(p) {
                    return Err(IssuerError::Invalid(format!("{p} is not an OID")));
                }
                der::asn1::ObjectIdentifier::from_str(p)
                    .map_err(|_| IssuerError::Invalid(format!("{p} is not an OID")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let subject_name = match role {
            TrustRole::SdJwtIssuer => None,
            TrustRole::RelyingParty => Some(SubjectName::Dns("localhost")),
            _ => None,
        };
        leaf(
            role,
            &self.chain(role)?.root,
            common_name,
            country,
            now - 60,
            now + 365 * 86_400,
            &AuthorityUrls {
                base: issuer_url(country),
            },
            subject_name,
            &oids,
        )
    }
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

fn uri(text: &str) -> Result<GeneralName, IssuerError> {
    Ok(GeneralName::UniformResourceIdentifier(
        Ia5String::new(text).map_err(err)?,
    ))
}

fn crl_points(url: &str) -> Result<CrlDistributionPoints, IssuerError> {
    Ok(CrlDistributionPoints(vec![DistributionPoint {
        distribution_point: Some(DistributionPointName::FullName(vec![uri(url)?])),
        reasons: None,
        crl_issuer: None,
    }]))
}

/// Where the test authority says it lives (issuer alternative name, CRLs, `iss`).
#[derive(Debug, Clone)]
pub struct AuthorityUrls {
    /// The authority's web address, e.g. `https://issuer.jigap.example/kr`.
    pub base: String,
}

impl AuthorityUrls {
    fn crl(&self, role: TrustRole) -> String {
        format!("{}/crl/{}.crl", self.base, role.name())
    }
}

/// A self-signed root CA for `role`: for mdoc issuers an IACA after Annex B.
pub fn root(
    role: TrustRole,
    common_name: &str,
    country: &str,
    from: i64,
    until: i64,
    urls: &AuthorityUrls,
) -> Result<CertifiedKey, IssuerError> {
    let key = SoftwareKey::generate()?;
    let signer = signing_key(&key)?;
    let subject_spki = spki(&key)?;
    let mut builder = CertificateBuilder::new(
        Profile::Manual { issuer: None },
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
        .add_extension(&BasicConstraints {
            ca: true,
            path_len_constraint: Some(0),
        })
        .map_err(err)?;
    builder
        .add_extension(&KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign))
        .map_err(err)?;
    builder
        .add_extension(&IssuerAltName(vec![uri(&urls.base)?]))
        .map_err(err)?;
    builder
        .add_extension(&crl_points(&urls.crl(role))?)
        .map_err(err)?;
    let cert = builder.build::<DerSignature>().map_err(err)?;
    Ok(CertifiedKey {
        certificate: cert.to_der().map_err(err)?,
        key,
    })
}

/// A subject alternative name of a leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectName<'a> {
    /// A URI (an SD-JWT VC issuer's `iss`).
    Uri(&'a str),
    /// A DNS name (an OpenID4VP relying party's `x509_san_dns`).
    Dns(&'a str),
}

/// An end-entity signing certificate for `role`, issued by `issuer`.
#[allow(clippy::too_many_arguments)]
pub fn leaf(
    role: TrustRole,
    issuer: &CertifiedKey,
    common_name: &str,
    country: &str,
    from: i64,
    until: i64,
    urls: &AuthorityUrls,
    subject_name: Option<SubjectName<'_>>,
    policies: &[der::asn1::ObjectIdentifier],
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
        .add_extension(&KeyUsage(KeyUsages::DigitalSignature.into()))
        .map_err(err)?;
    builder
        .add_extension(&ExtendedKeyUsage(vec![role.extended_key_usage()]))
        .map_err(err)?;
    builder
        .add_extension(&IssuerAltName(vec![uri(&urls.base)?]))
        .map_err(err)?;
    builder
        .add_extension(&crl_points(&urls.crl(role))?)
        .map_err(err)?;
    match subject_name {
        Some(SubjectName::Uri(subject_uri)) => builder
            .add_extension(&SubjectAltName(vec![uri(subject_uri)?]))
            .map_err(err)?,
        Some(SubjectName::Dns(dns)) => builder
            .add_extension(&SubjectAltName(vec![GeneralName::DnsName(
                Ia5String::new(dns).map_err(err)?,
            )]))
            .map_err(err)?,
        None => {}
    }
    if !policies.is_empty() {
        builder
            .add_extension(&CertificatePolicies(
                policies
                    .iter()
                    .map(|oid| PolicyInformation {
                        policy_identifier: *oid,
                        policy_qualifiers: None,
                    })
                    .collect(),
            ))
            .map_err(err)?;
    }
    let cert = builder.build::<DerSignature>().map_err(err)?;
    Ok(CertifiedKey {
        certificate: cert.to_der().map_err(err)?,
        key,
    })
}

/// The `iss` of the SD-JWT VCs a test authority of `country` issues.
pub fn issuer_url(country: &str) -> String {
    format!(
        "https://issuer.jigap.example/{}",
        country.to_ascii_lowercase()
    )
}

/// A complete test authority for `country` (ISO 3166 alpha-2), valid from `now`: for each
/// role a root valid about 10 years and a signer valid 365 days (document signers, within
/// Annex B's 457) or about 3 years (the others).
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
    let urls = AuthorityUrls {
        base: issuer_url(country),
    };
    let mut chains = Vec::with_capacity(TrustRole::ALL.len());
    for role in TrustRole::ALL {
        let (root_name, signer_name, signer_until) = match role {
            TrustRole::MdocIssuer => ("IACA", "Document Signer", now + 365 * 86_400 - 86_400),
            TrustRole::MdocReader => ("Reader Root", "Reader", now + 3 * YEAR),
            TrustRole::SdJwtIssuer => ("Certificate Root", "Certificate Issuer", now + 3 * YEAR),
            TrustRole::StatusListIssuer => ("Status Root", "Status List Signer", now + 3 * YEAR),
            TrustRole::Sender => ("Sender Root", "Sender", now + 3 * YEAR),
            TrustRole::DataRecipient => ("MyData Root", "Data Recipient", now + 3 * YEAR),
            TrustRole::CatalogPublisher => ("Catalog Root", "Catalog Publisher", now + 3 * YEAR),
            TrustRole::IdentityVerifier => ("Identity Root", "Identity Verifier", now + 3 * YEAR),
            TrustRole::IssuerMetadata => ("Metadata Root", "Issuer Metadata", now + 3 * YEAR),
            TrustRole::WalletProvider => {
                ("Wallet Provider Root", "Wallet Provider", now + 3 * YEAR)
            }
            TrustRole::RelyingParty => ("Relying Party Root", "Relying Party", now + 3 * YEAR),
        };
        let root = root(
            role,
            &format!("{name_prefix} {root_name}"),
            country,
            start,
            now + 10 * YEAR,
            &urls,
        )?;
        let subject_name = match role {
            TrustRole::SdJwtIssuer => Some(SubjectName::Uri(urls.base.as_str())),
            TrustRole::RelyingParty => Some(SubjectName::Dns("localhost")),
            _ => None,
        };
        let signer = leaf(
            role,
            &root,
            &format!("{name_prefix} {signer_name}"),
            country,
            start,
            signer_until,
            &urls,
            subject_name,
            &[],
        )?;
        chains.push(RoleChain { role, root, signer });
    }
    let tls = tls_chain(name_prefix, country, start, now + 3 * YEAR, &urls)?;
    Ok(Authority { chains, tls })
}

/// The extended key usage of a TLS server (RFC 5280 id-kp-serverAuth).
const EKU_SERVER_AUTH: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");

/// A TLS root and a server certificate for `localhost` and 127.0.0.1 under it.
pub fn tls_chain(
    name_prefix: &str,
    country: &str,
    from: i64,
    until: i64,
    urls: &AuthorityUrls,
) -> Result<TlsChain, IssuerError> {
    use der::Decode;
    let root = root(
        TrustRole::SdJwtIssuer,
        &format!("{name_prefix} TLS Root"),
        country,
        from,
        until,
        urls,
    )?;
    let issuer_cert = x509_cert::Certificate::from_der(&root.certificate).map_err(err)?;
    let key = SoftwareKey::generate()?;
    let subject_spki = spki(&key)?;
    let signer = signing_key(&root.key)?;
    let mut builder = CertificateBuilder::new(
        Profile::Manual {
            issuer: Some(issuer_cert.tbs_certificate.subject.clone()),
        },
        serial()?,
        validity(from, until)?,
        name(&format!("{name_prefix} TLS localhost"), country)?,
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
        .add_extension(&KeyUsage(KeyUsages::DigitalSignature.into()))
        .map_err(err)?;
    builder
        .add_extension(&ExtendedKeyUsage(vec![EKU_SERVER_AUTH]))
        .map_err(err)?;
    builder
        .add_extension(&SubjectAltName(vec![
            GeneralName::DnsName(Ia5String::new("localhost").map_err(err)?),
            GeneralName::IpAddress(der::asn1::OctetString::new(vec![127, 0, 0, 1]).map_err(err)?),
        ]))
        .map_err(err)?;
    let cert = builder.build::<DerSignature>().map_err(err)?;
    Ok(TlsChain {
        root,
        server: CertifiedKey {
            certificate: cert.to_der().map_err(err)?,
            key,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::x509::{verify_chain, ParsedCertificate, TrustError};

    #[test]
    fn every_role_chain_verifies_with_its_own_profile_only() {
        let now = 1_800_000_000;
        let a = create_authority("Jigap Test", "KR", now).unwrap();
        for chain in &a.chains {
            let root = ParsedCertificate::from_der(&chain.root.certificate).unwrap();
            let (leaf, _) = verify_chain(
                std::slice::from_ref(&chain.signer.certificate),
                std::slice::from_ref(&root),
                now,
                chain.role,
            )
            .unwrap_or_else(|e| panic!("{}: {e}", chain.role.name()));
            assert_eq!(
                leaf.p256_public_key().unwrap(),
                chain.signer.key.public_key()
            );
            for other in TrustRole::ALL.into_iter().filter(|r| *r != chain.role) {
                // A signer of one role is refused for every other, even under its own root.
                let result = verify_chain(
                    std::slice::from_ref(&chain.signer.certificate),
                    std::slice::from_ref(&root),
                    now,
                    other,
                );
                assert!(
                    matches!(result, Err(TrustError::Profile(_))),
                    "{} accepted as {}: {result:?}",
                    chain.role.name(),
                    other.name()
                );
            }
        }
        // Roots are separate: the document signer does not chain to the reader root.
        let reader_root =
            ParsedCertificate::from_der(a.root_certificate(TrustRole::MdocReader).unwrap())
                .unwrap();
        assert!(matches!(
            verify_chain(
                std::slice::from_ref(&a.signer(TrustRole::MdocIssuer).unwrap().certificate),
                std::slice::from_ref(&reader_root),
                now,
                TrustRole::MdocIssuer
            ),
            Err(TrustError::Untrusted(_))
        ));
        let ds = ParsedCertificate::from_der(&a.signer(TrustRole::MdocIssuer).unwrap().certificate)
            .unwrap();
        assert_eq!(ds.country().as_deref(), Some("KR"));
        let issuer =
            ParsedCertificate::from_der(&a.signer(TrustRole::SdJwtIssuer).unwrap().certificate)
                .unwrap();
        assert_eq!(
            issuer.subject_alt_names().unwrap().0,
            vec![issuer_url("KR")]
        );
        assert!(create_authority("x", "Korea", now).is_err());
    }

    /// An extension no one understands, marked critical or not.
    struct Unknown(bool);

    impl der::Encode for Unknown {
        fn encoded_len(&self) -> der::Result<der::Length> {
            der::asn1::Null.encoded_len()
        }
        fn encode(&self, writer: &mut impl der::Writer) -> der::Result<()> {
            der::asn1::Null.encode(writer)
        }
    }

    impl der::oid::AssociatedOid for Unknown {
        const OID: der::asn1::ObjectIdentifier =
            der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.99");
    }

    impl x509_cert::ext::AsExtension for Unknown {
        fn critical(&self, _: &Name, _: &[x509_cert::ext::Extension]) -> bool {
            self.0
        }
    }

    /// What a test certificate carries.
    #[derive(Clone)]
    struct Shape {
        ca: Option<Option<u8>>,
        key_usage: Option<KeyUsage>,
        eku: Option<TrustRole>,
        unknown: Option<bool>,
        ian: bool,
        crl: bool,
        days: i64,
        end_entity_constraints: bool,
    }

    impl Shape {
        fn ca(path_len: Option<u8>) -> Self {
            Shape {
                ca: Some(path_len),
                key_usage: Some(KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)),
                eku: None,
                unknown: None,
                ian: true,
                crl: true,
                days: 3650,
                end_entity_constraints: false,
            }
        }
        fn leaf(role: TrustRole) -> Self {
            Shape {
                ca: None,
                key_usage: Some(KeyUsage(KeyUsages::DigitalSignature.into())),
                eku: Some(role),
                unknown: None,
                ian: true,
                crl: true,
                days: 365,
                end_entity_constraints: false,
            }
        }
    }

    const NOW: i64 = 1_800_000_000;

    fn make(issuer: Option<&CertifiedKey>, cn: &str, shape: &Shape) -> CertifiedKey {
        use der::Decode;
        let key = SoftwareKey::generate().unwrap();
        let subject_spki = spki(&key).unwrap();
        let (issuer_name, issuer_spki, signer) = match issuer {
            Some(i) => {
                let cert = x509_cert::Certificate::from_der(&i.certificate).unwrap();
                (
                    Some(cert.tbs_certificate.subject.clone()),
                    cert.tbs_certificate.subject_public_key_info.clone(),
                    signing_key(&i.key).unwrap(),
                )
            }
            None => (None, subject_spki.clone(), signing_key(&key).unwrap()),
        };
        let mut b = CertificateBuilder::new(
            Profile::Manual {
                issuer: issuer_name,
            },
            serial().unwrap(),
            validity(NOW - 86_400, NOW - 86_400 + shape.days * 86_400).unwrap(),
            name(cn, "KR").unwrap(),
            subject_spki.clone(),
            &signer,
        )
        .unwrap();
        b.add_extension(&SubjectKeyIdentifier::try_from(subject_spki.owned_to_ref()).unwrap())
            .unwrap();
        b.add_extension(&AuthorityKeyIdentifier::try_from(issuer_spki.owned_to_ref()).unwrap())
            .unwrap();
        if let Some(path_len) = shape.ca {
            b.add_extension(&BasicConstraints {
                ca: true,
                path_len_constraint: path_len,
            })
            .unwrap();
        }
        if shape.end_entity_constraints {
            b.add_extension(&BasicConstraints {
                ca: false,
                path_len_constraint: None,
            })
            .unwrap();
        }
        if let Some(ku) = &shape.key_usage {
            b.add_extension(ku).unwrap();
        }
        if let Some(role) = shape.eku {
            b.add_extension(&ExtendedKeyUsage(vec![role.extended_key_usage()]))
                .unwrap();
        }
        let urls = AuthorityUrls {
            base: "https://test.example".into(),
        };
        if shape.ian {
            b.add_extension(&IssuerAltName(vec![uri(&urls.base).unwrap()]))
                .unwrap();
        }
        if shape.crl {
            b.add_extension(&crl_points(&urls.crl(TrustRole::MdocIssuer)).unwrap())
                .unwrap();
        }
        if let Some(critical) = shape.unknown {
            b.add_extension(&Unknown(critical)).unwrap();
        }
        CertifiedKey {
            certificate: b.build::<DerSignature>().unwrap().to_der().unwrap(),
            key,
        }
    }

    fn check(
        chain: &[&CertifiedKey],
        root: &CertifiedKey,
        role: TrustRole,
    ) -> Result<(ParsedCertificate, ParsedCertificate), TrustError> {
        let chain: Vec<Vec<u8>> = chain.iter().map(|c| c.certificate.clone()).collect();
        verify_chain(
            &chain,
            &[ParsedCertificate::from_der(&root.certificate).unwrap()],
            NOW,
            role,
        )
    }

    #[test]
    fn intermediates_must_be_cas_that_may_sign_within_their_path_length() {
        let role = TrustRole::SdJwtIssuer;
        let root = make(None, "Root", &Shape::ca(None));
        let inter = make(Some(&root), "Intermediate", &Shape::ca(Some(0)));
        let leaf = make(Some(&inter), "Leaf", &Shape::leaf(role));
        check(&[&leaf, &inter], &root, role).unwrap();

        // No keyCertSign on the intermediate.
        let no_sign = make(
            Some(&root),
            "No Sign",
            &Shape {
                key_usage: Some(KeyUsage(KeyUsages::CRLSign.into())),
                ..Shape::ca(None)
            },
        );
        let leaf2 = make(Some(&no_sign), "Leaf", &Shape::leaf(role));
        assert!(
            matches!(check(&[&leaf2, &no_sign], &root, role), Err(TrustError::Profile(m)) if m.contains("keyCertSign"))
        );

        // Not a CA at all.
        let not_ca = make(
            Some(&root),
            "Not CA",
            &Shape {
                ca: None,
                ..Shape::ca(None)
            },
        );
        let leaf3 = make(Some(&not_ca), "Leaf", &Shape::leaf(role));
        assert!(
            matches!(check(&[&leaf3, &not_ca], &root, role), Err(TrustError::Profile(m)) if m.contains("not a CA"))
        );

        // pathLenConstraint 0 on the upper intermediate, another CA below it.
        let lower = make(Some(&inter), "Lower", &Shape::ca(None));
        let leaf4 = make(Some(&lower), "Leaf", &Shape::leaf(role));
        assert!(
            matches!(check(&[&leaf4, &lower, &inter], &root, role), Err(TrustError::Profile(m)) if m.contains("pathLenConstraint"))
        );

        // The root's own pathLenConstraint 0 forbids any intermediate.
        let strict_root = make(None, "Strict Root", &Shape::ca(Some(0)));
        let inter5 = make(Some(&strict_root), "Intermediate", &Shape::ca(None));
        let leaf5 = make(Some(&inter5), "Leaf", &Shape::leaf(role));
        assert!(
            matches!(check(&[&leaf5, &inter5], &strict_root, role), Err(TrustError::Profile(m)) if m.contains("pathLenConstraint"))
        );
    }

    #[test]
    fn an_unknown_critical_extension_fails_the_chain() {
        let role = TrustRole::Sender;
        let root = make(None, "Root", &Shape::ca(Some(0)));
        for (critical, ok) in [(false, true), (true, false)] {
            let leaf = make(
                Some(&root),
                "Leaf",
                &Shape {
                    unknown: Some(critical),
                    ..Shape::leaf(role)
                },
            );
            assert_eq!(
                check(&[&leaf], &root, role).is_ok(),
                ok,
                "critical: {critical}"
            );
        }
        let odd_root = make(
            None,
            "Odd Root",
            &Shape {
                unknown: Some(true),
                ..Shape::ca(Some(0))
            },
        );
        let leaf = make(Some(&odd_root), "Leaf", &Shape::leaf(role));
        assert!(
            matches!(check(&[&leaf], &odd_root, role), Err(TrustError::Profile(m)) if m.contains("unknown critical"))
        );
    }

    #[test]
    fn the_annex_b_fields_are_required_of_mdoc_issuers() {
        let role = TrustRole::MdocIssuer;
        let iaca = make(None, "IACA", &Shape::ca(Some(0)));
        let ds = make(Some(&iaca), "DS", &Shape::leaf(role));
        check(&[&ds], &iaca, role).unwrap();
        let refused = |chain: &[&CertifiedKey], root: &CertifiedKey, what: &str| match check(
            chain, root, role,
        ) {
            Err(TrustError::Profile(m)) => assert!(m.contains(what), "{what}: {m}"),
            other => panic!("{what}: {other:?}"),
        };
        // IACA: pathLenConstraint 0 and an issuer alternative name.
        let loose = make(None, "IACA", &Shape::ca(None));
        refused(
            &[&make(Some(&loose), "DS", &Shape::leaf(role))],
            &loose,
            "pathLenConstraint 0",
        );
        let nameless = make(
            None,
            "IACA",
            &Shape {
                ian: false,
                ..Shape::ca(Some(0))
            },
        );
        refused(
            &[&make(Some(&nameless), "DS", &Shape::leaf(role))],
            &nameless,
            "issuerAlternativeName",
        );
        // Document signer: no critical basicConstraints, an IAN, CRL points, at most 457 days,
        // digitalSignature only.
        let with_bc = make(
            Some(&iaca),
            "DS",
            &Shape {
                ca: Some(None),
                ..Shape::leaf(role)
            },
        );
        refused(&[&with_bc], &iaca, "CA");
        let critical_bc = make(
            Some(&iaca),
            "DS",
            &Shape {
                end_entity_constraints: true,
                ..Shape::leaf(role)
            },
        );
        refused(&[&critical_bc], &iaca, "no critical basicConstraints");
        let no_ian = make(
            Some(&iaca),
            "DS",
            &Shape {
                ian: false,
                ..Shape::leaf(role)
            },
        );
        refused(&[&no_ian], &iaca, "issuerAlternativeName");
        let no_crl = make(
            Some(&iaca),
            "DS",
            &Shape {
                crl: false,
                ..Shape::leaf(role)
            },
        );
        refused(&[&no_crl], &iaca, "cRLDistributionPoints");
        let long = make(
            Some(&iaca),
            "DS",
            &Shape {
                days: 500,
                ..Shape::leaf(role)
            },
        );
        refused(&[&long], &iaca, "457 days");
        let more = make(
            Some(&iaca),
            "DS",
            &Shape {
                key_usage: Some(KeyUsage(
                    KeyUsages::DigitalSignature | KeyUsages::NonRepudiation,
                )),
                ..Shape::leaf(role)
            },
        );
        refused(&[&more], &iaca, "digitalSignature alone");
    }
}
