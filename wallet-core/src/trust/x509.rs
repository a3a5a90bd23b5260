//! X.509 certificates (RFC 5280): parsing with `x509-cert`, ECDSA signature checks with `ring`,
//! and chain validation to a trust anchor at a given time for one signer role.
//!
//! Every signer has a role ([`TrustRole`]) and every role a certificate profile: the leaf must
//! carry the role's extended key usage, so a key trusted for one role signs nothing for
//! another. The two mdoc roles follow ISO/IEC 18013-5 Annex B (IACA, document signer, reader
//! authentication), checked strictly for the fields Annex B makes mandatory. Intermediates
//! must be CAs allowed to sign certificates within their pathLenConstraint, and an unknown
//! critical extension anywhere fails the chain.

use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use ring::signature::{self, UnparsedPublicKey};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage,
    IssuerAltName, KeyUsage, KeyUsages, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::Certificate;

use crate::limits::{MAX_CERTIFICATE_BYTES, MAX_CHAIN_CERTIFICATES};

const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const AUTHORITY_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const ISSUER_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.18");
const CRL_DISTRIBUTION_POINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.31");
const CERTIFICATE_POLICIES: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.32");
/// The most certificate policies read from one certificate.
const MAX_POLICIES: usize = 32;
/// The extensions this code understands; any other one marked critical fails the chain.
const KNOWN_EXTENSIONS: [ObjectIdentifier; 9] = [
    KEY_USAGE,
    BASIC_CONSTRAINTS,
    EXT_KEY_USAGE,
    SUBJECT_KEY_ID,
    AUTHORITY_KEY_ID,
    SUBJECT_ALT_NAME,
    ISSUER_ALT_NAME,
    CRL_DISTRIBUTION_POINTS,
    CERTIFICATE_POLICIES,
];
const COUNTRY_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");

/// The attribute types of names in certificates, with their RFC 4514 short names: the
/// formatting below writes these without searching the whole OID database (which made naming
/// the signer a tenth of a reader's verification).
const NAME_KEYS: [(ObjectIdentifier, &str); 10] = [
    (ObjectIdentifier::new_unwrap("2.5.4.3"), "CN"),
    (COUNTRY_NAME, "C"),
    (ObjectIdentifier::new_unwrap("2.5.4.7"), "L"),
    (ObjectIdentifier::new_unwrap("2.5.4.8"), "ST"),
    (ObjectIdentifier::new_unwrap("2.5.4.9"), "STREET"),
    (ObjectIdentifier::new_unwrap("2.5.4.10"), "O"),
    (ObjectIdentifier::new_unwrap("2.5.4.11"), "OU"),
    (ObjectIdentifier::new_unwrap("2.5.4.5"), "SERIALNUMBER"),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.25"),
        "DC",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.1"),
        "UID",
    ),
];

/// A name as an RFC 4514 string, the last RDN first, exactly as `x509-cert` writes it.
fn rfc4514(name: &x509_cert::name::Name) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for (i, rdn) in name.0.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.0.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let key = NAME_KEYS.iter().find(|(oid, _)| *oid == atv.oid);
            let text = match der::Tagged::tag(&atv.value) {
                der::Tag::PrintableString => der::asn1::PrintableStringRef::try_from(&atv.value)
                    .ok()
                    .map(|s| s.as_str()),
                der::Tag::Utf8String => der::asn1::Utf8StringRef::try_from(&atv.value)
                    .ok()
                    .map(|s| s.as_str()),
                der::Tag::Ia5String => der::asn1::Ia5StringRef::try_from(&atv.value)
                    .ok()
                    .map(|s| s.as_str()),
                _ => None,
            };
            match (key, text) {
                (Some((_, key)), Some(text)) => {
                    out.push_str(key);
                    out.push('=');
                    let mut chars = text.chars().enumerate().peekable();
                    while let Some((k, c)) = chars.next() {
                        match c {
                            '#' if k == 0 => out.push_str("\\#"),
                            ' ' if k == 0 || chars.peek().is_none() => out.push_str("\\ "),
                            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                                out.push('\\');
                                out.push(c);
                            }
                            '\x00'..='\x1f' | '\x7f' => {
                                let _ = write!(out, "\\{:02x}", c as u8);
                            }
                            _ => out.push(c),
                        }
                    }
                }
                // Anything else as the library writes it.
                _ => {
                    let _ = write!(out, "{atv}");
                }
            }
        }
    }
    out
}
/// Extended key usage of an mdoc document signer (ISO/IEC 18013-5 Annex B).
pub const EKU_MDL_DS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.0.18013.5.1.2");
/// Extended key usage of an mdoc reader authentication certificate (Annex B).
pub const EKU_MDL_READER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.0.18013.5.1.6");
/// Extended key usage of an SD-JWT VC issuer (provisional, see [`TrustRole`]).
pub const EKU_SD_JWT_ISSUER: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.7.1");
/// Extended key usage of a Token Status List signer (provisional until
/// `id-kp-oauthStatusSigning` of draft-ietf-oauth-status-list is assigned).
pub const EKU_STATUS_LIST_SIGNER: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.7.2");
/// Extended key usage of a bill and notification sender (provisional).
pub const EKU_SENDER: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.7.3");
/// Extended key usage of a benefit catalog publisher (provisional).
pub const EKU_CATALOG_PUBLISHER: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.7.4");
/// Extended key usage of a registered MyData data recipient (provisional).
pub const EKU_DATA_RECIPIENT: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.7.5");
/// Extended key usage of an identity-verification authority that may unlock a locked-out
/// wallet (provisional).
pub const EKU_IDENTITY_VERIFIER: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.7.6");
/// Extended key usage of a signer of credential issuer metadata (OpenID4VCI 1.0 signed
/// metadata; provisional).
pub const EKU_ISSUER_METADATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.7.7");
/// Extended key usage of a wallet provider attesting its wallets' keys and instances (key
/// attestations and client attestations; provisional).
pub const EKU_WALLET_PROVIDER: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.7.8");
/// Extended key usage of an online relying party signing OpenID4VP requests (provisional).
pub const EKU_RELYING_PARTY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.7.9");
/// Longest validity of a document signer certificate (Annex B: 457 days).
pub const MAX_DOCUMENT_SIGNER_DAYS: i64 = 457;
/// Longest validity of a reader authentication certificate (Annex B: 1187 days).
pub const MAX_READER_DAYS: i64 = 1187;
/// Longest validity of an IACA certificate (Annex B: 20 years).
pub const MAX_IACA_DAYS: i64 = 20 * 366;

/// What a signer (and the trust anchors above it) is trusted for. Each role has its own
/// certificate profile: the leaf carries the role's extended key usage.
///
/// The mdoc roles use the extended key usages of ISO/IEC 18013-5. The other roles have no
/// registered key purpose yet; Jigap's provisional ones sit under 1.3.6.1.4.1.32473.7, in the arc RFC 5612 reserves for documentation,
/// and are to be replaced by the operator's registered OIDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum TrustRole {
    /// mdoc issuing authorities (IACA roots) and their document signers.
    MdocIssuer,
    /// mdoc reader roots and reader authentication certificates.
    MdocReader,
    /// SD-JWT VC (e-certificate) issuers.
    SdJwtIssuer,
    /// Token Status List signers: whose lists may change a credential's state.
    StatusListIssuer,
    /// Senders of bills and notifications.
    Sender,
    /// Registered MyData recipients (banks, agencies).
    DataRecipient,
    /// Benefit catalog publishers.
    CatalogPublisher,
    /// Identity-verification authorities whose re-verification unlocks a locked-out wallet.
    IdentityVerifier,
    /// Signers of credential issuer metadata (OpenID4VCI signed metadata).
    IssuerMetadata,
    /// Wallet providers: they attest device keys (key attestations) and wallet instances
    /// (client attestations) to credential issuers.
    WalletProvider,
    /// Online relying parties: they sign OpenID4VP requests (`x509_san_dns`, `x509_hash`).
    RelyingParty,
}

impl TrustRole {
    /// Every role.
    pub const ALL: [TrustRole; 11] = [
        TrustRole::MdocIssuer,
        TrustRole::MdocReader,
        TrustRole::SdJwtIssuer,
        TrustRole::StatusListIssuer,
        TrustRole::Sender,
        TrustRole::DataRecipient,
        TrustRole::CatalogPublisher,
        TrustRole::IdentityVerifier,
        TrustRole::IssuerMetadata,
        TrustRole::WalletProvider,
        TrustRole::RelyingParty,
    ];

    /// The extended key usage a leaf of this role carries.
    pub fn extended_key_usage(self) -> ObjectIdentifier {
        match self {
            TrustRole::MdocIssuer => EKU_MDL_DS,
            TrustRole::MdocReader => EKU_MDL_READER_AUTH,
            TrustRole::SdJwtIssuer => EKU_SD_JWT_ISSUER,
            TrustRole::StatusListIssuer => EKU_STATUS_LIST_SIGNER,
            TrustRole::Sender => EKU_SENDER,
            TrustRole::DataRecipient => EKU_DATA_RECIPIENT,
            TrustRole::CatalogPublisher => EKU_CATALOG_PUBLISHER,
            TrustRole::IdentityVerifier => EKU_IDENTITY_VERIFIER,
            TrustRole::IssuerMetadata => EKU_ISSUER_METADATA,
            TrustRole::WalletProvider => EKU_WALLET_PROVIDER,
            TrustRole::RelyingParty => EKU_RELYING_PARTY,
        }
    }

    /// The stable number stored with a trust anchor.
    pub fn code(self) -> i64 {
        match self {
            TrustRole::MdocIssuer => 1,
            TrustRole::MdocReader => 2,
            TrustRole::StatusListIssuer => 3,
            TrustRole::Sender => 4,
            TrustRole::DataRecipient => 5,
            TrustRole::CatalogPublisher => 6,
            TrustRole::SdJwtIssuer => 7,
            TrustRole::IdentityVerifier => 8,
            TrustRole::IssuerMetadata => 9,
            TrustRole::WalletProvider => 10,
            TrustRole::RelyingParty => 11,
        }
    }

    /// The role of a stored number.
    pub fn from_code(code: i64) -> Option<Self> {
        TrustRole::ALL.into_iter().find(|r| r.code() == code)
    }

    /// A short name, for messages and file names.
    pub fn name(self) -> &'static str {
        match self {
            TrustRole::MdocIssuer => "mdoc-issuer",
            TrustRole::MdocReader => "mdoc-reader",
            TrustRole::SdJwtIssuer => "sd-jwt-issuer",
            TrustRole::StatusListIssuer => "status-list-issuer",
            TrustRole::Sender => "sender",
            TrustRole::DataRecipient => "data-recipient",
            TrustRole::CatalogPublisher => "catalog-publisher",
            TrustRole::IdentityVerifier => "identity-verifier",
            TrustRole::IssuerMetadata => "issuer-metadata",
            TrustRole::WalletProvider => "wallet-provider",
            TrustRole::RelyingParty => "relying-party",
        }
    }
}

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

impl ParsedCertificate {
    /// Parses DER.
    pub fn from_der(der: &[u8]) -> Result<Self, TrustError> {
        if der.len() > MAX_CERTIFICATE_BYTES {
            return Err(TrustError::Malformed(format!(
                "certificate of {} bytes (at most {MAX_CERTIFICATE_BYTES})",
                der.len()
            )));
        }
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
        rfc4514(&self.cert.tbs_certificate.subject)
    }

    /// The issuer as an RFC 4514 string.
    pub fn issuer(&self) -> String {
        rfc4514(&self.cert.tbs_certificate.issuer)
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

    /// The certificate policy OIDs it carries (dotted), at most 32.
    pub fn policies(&self) -> Result<Vec<String>, TrustError> {
        let Some((_, policies)) =
            self.extension::<x509_cert::ext::pkix::CertificatePolicies>(CERTIFICATE_POLICIES)?
        else {
            return Ok(Vec::new());
        };
        if policies.0.len() > MAX_POLICIES {
            return Err(TrustError::Malformed(format!(
                "more than {MAX_POLICIES} certificate policies"
            )));
        }
        Ok(policies
            .0
            .iter()
            .map(|p| p.policy_identifier.to_string())
            .collect())
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

    fn basic_constraints(&self) -> Result<Option<(bool, BasicConstraints)>, TrustError> {
        self.extension::<BasicConstraints>(BASIC_CONSTRAINTS)
    }

    fn is_ca(&self) -> Result<bool, TrustError> {
        Ok(self.basic_constraints()?.is_some_and(|(_, bc)| bc.ca))
    }

    fn has_extension(&self, oid: ObjectIdentifier) -> bool {
        self.cert
            .tbs_certificate
            .extensions
            .as_ref()
            .is_some_and(|exts| exts.iter().any(|e| e.extn_id == oid))
    }

    /// The subjectKeyIdentifier, if any.
    pub fn subject_key_id(&self) -> Result<Option<Vec<u8>>, TrustError> {
        Ok(self
            .extension::<SubjectKeyIdentifier>(SUBJECT_KEY_ID)?
            .map(|(_, ski)| ski.0.as_bytes().to_vec()))
    }

    /// The authorityKeyIdentifier's key identifier, if any (DCQL `trusted_authorities` of type `aki`).
    pub fn authority_key_id(&self) -> Result<Option<Vec<u8>>, TrustError> {
        Ok(self
            .extension::<AuthorityKeyIdentifier>(AUTHORITY_KEY_ID)?
            .and_then(|(_, aki)| aki.key_identifier.map(|k| k.as_bytes().to_vec())))
    }

    /// The subjectAltName entries: URIs and DNS names.
    pub fn subject_alt_names(&self) -> Result<(Vec<String>, Vec<String>), TrustError> {
        let mut uris = Vec::new();
        let mut dns = Vec::new();
        if let Some((_, san)) = self.extension::<SubjectAltName>(SUBJECT_ALT_NAME)? {
            for name in san.0 {
                match name {
                    GeneralName::UniformResourceIdentifier(u) => uris.push(u.to_string()),
                    GeneralName::DnsName(d) => dns.push(d.to_string()),
                    _ => {}
                }
            }
        }
        Ok((uris, dns))
    }

    fn profile_error(&self, what: &str) -> TrustError {
        TrustError::Profile(format!("{}: {what}", self.subject()))
    }

    /// Fails on a critical extension this code does not understand (RFC 5280 4.2).
    fn check_critical_extensions(&self) -> Result<(), TrustError> {
        let Some(exts) = &self.cert.tbs_certificate.extensions else {
            return Ok(());
        };
        match exts
            .iter()
            .find(|e| e.critical && !KNOWN_EXTENSIONS.contains(&e.extn_id))
        {
            Some(unknown) => {
                Err(self.profile_error(&format!("unknown critical extension {}", unknown.extn_id)))
            }
            None => Ok(()),
        }
    }

    fn validity_days(&self) -> i64 {
        let (from, until) = self.validity();
        until.saturating_sub(from) / 86_400
    }

    fn check_ca_key_usage(&self) -> Result<(), TrustError> {
        match self.key_usage()? {
            Some((_, ku)) if ku.0.contains(KeyUsages::KeyCertSign) => Ok(()),
            _ => Err(self.profile_error("may not sign certificates (keyUsage keyCertSign)")),
        }
    }

    /// A trust anchor for `role`: a CA that may sign certificates. For mdoc issuing
    /// authorities, the IACA profile of Annex B: critical basicConstraints with CA and
    /// pathLenConstraint 0, critical keyUsage keyCertSign and cRLSign, a subjectKeyIdentifier,
    /// an issuerAlternativeName, a country, at most 20 years of validity.
    pub fn check_anchor_profile(&self, role: TrustRole) -> Result<(), TrustError> {
        self.check_critical_extensions()?;
        match self.basic_constraints()? {
            Some((critical, bc)) if bc.ca => {
                if role == TrustRole::MdocIssuer {
                    if !critical {
                        return Err(self.profile_error("basicConstraints is not critical"));
                    }
                    if bc.path_len_constraint != Some(0) {
                        return Err(self.profile_error("an IACA has pathLenConstraint 0"));
                    }
                }
            }
            _ => return Err(self.profile_error("is not a CA (basicConstraints)")),
        }
        self.check_ca_key_usage()?;
        if role == TrustRole::MdocIssuer {
            match self.key_usage()? {
                Some((true, ku)) if ku.0.contains(KeyUsages::CRLSign) => {}
                _ => {
                    return Err(
                        self.profile_error("an IACA has critical keyUsage keyCertSign, cRLSign")
                    )
                }
            }
            if self.subject_key_id()?.is_none() {
                return Err(self.profile_error("an IACA has a subjectKeyIdentifier"));
            }
            if !self.has_extension(ISSUER_ALT_NAME) {
                self.extension::<IssuerAltName>(ISSUER_ALT_NAME)?;
                return Err(self.profile_error("an IACA has an issuerAlternativeName"));
            }
            if self.country().is_none() {
                return Err(self.profile_error("an IACA names its country"));
            }
            if self.validity_days() > MAX_IACA_DAYS {
                return Err(self.profile_error("an IACA is valid for at most 20 years"));
            }
        }
        Ok(())
    }

    /// An intermediate CA with `below` CA certificates under it in the chain.
    fn check_intermediate(&self, below: u64) -> Result<(), TrustError> {
        self.check_critical_extensions()?;
        match self.basic_constraints()? {
            Some((_, bc)) if bc.ca => {
                if let Some(limit) = bc.path_len_constraint {
                    if below > u64::from(limit) {
                        return Err(self.profile_error(&format!(
                            "pathLenConstraint {limit} allows fewer CAs below it than the chain has"
                        )));
                    }
                }
            }
            _ => return Err(self.profile_error("is not a CA (basicConstraints)")),
        }
        self.check_ca_key_usage()
    }

    /// Checks the leaf profile of `role`: critical keyUsage with digitalSignature, not a CA, and
    /// the role's extended key usage. Document signers and reader certificates also follow
    /// Annex B: keyUsage digitalSignature only, critical extendedKeyUsage, authority and
    /// subject key identifiers, and a bounded validity; document signers also an
    /// issuerAlternativeName and cRLDistributionPoints.
    pub fn check_leaf_profile(&self, role: TrustRole) -> Result<(), TrustError> {
        self.check_critical_extensions()?;
        match self.key_usage()? {
            Some((true, ku)) if ku.0.contains(KeyUsages::DigitalSignature) => {
                let annex_b = matches!(role, TrustRole::MdocIssuer | TrustRole::MdocReader);
                if annex_b
                    && ku.0.bits()
                        != der::flagset::FlagSet::from(KeyUsages::DigitalSignature).bits()
                {
                    return Err(self.profile_error("keyUsage is not digitalSignature alone"));
                }
            }
            Some((false, _)) => return Err(self.profile_error("keyUsage is not critical")),
            _ => return Err(self.profile_error("lacks keyUsage digitalSignature")),
        }
        if self.is_ca()? {
            return Err(self.profile_error("is a CA, not an end entity"));
        }
        let wanted = role.extended_key_usage();
        match self.extension::<ExtendedKeyUsage>(EXT_KEY_USAGE)? {
            Some((critical, eku)) if eku.0.contains(&wanted) => {
                if !critical && matches!(role, TrustRole::MdocIssuer | TrustRole::MdocReader) {
                    return Err(self.profile_error("extendedKeyUsage is not critical"));
                }
            }
            _ => {
                return Err(self.profile_error(&format!(
                    "lacks extended key usage {wanted} ({})",
                    role.name()
                )))
            }
        }
        match role {
            TrustRole::MdocIssuer => {
                if self.has_extension(BASIC_CONSTRAINTS)
                    && self.basic_constraints()?.is_some_and(|(c, _)| c)
                {
                    return Err(
                        self.profile_error("a document signer has no critical basicConstraints")
                    );
                }
                if self.authority_key_id()?.is_none() || self.subject_key_id()?.is_none() {
                    return Err(self.profile_error(
                        "a document signer has authority and subject key identifiers",
                    ));
                }
                match self.extension::<IssuerAltName>(ISSUER_ALT_NAME)? {
                    Some((_, ian)) if !ian.0.is_empty() => {}
                    _ => {
                        return Err(
                            self.profile_error("a document signer has an issuerAlternativeName")
                        )
                    }
                }
                match self.extension::<CrlDistributionPoints>(CRL_DISTRIBUTION_POINTS)? {
                    Some((_, dp)) if !dp.0.is_empty() => {}
                    _ => {
                        return Err(
                            self.profile_error("a document signer has cRLDistributionPoints")
                        )
                    }
                }
                if self.validity_days() > MAX_DOCUMENT_SIGNER_DAYS {
                    return Err(
                        self.profile_error("a document signer is valid for at most 457 days")
                    );
                }
            }
            TrustRole::MdocReader => {
                if self.authority_key_id()?.is_none() {
                    return Err(
                        self.profile_error("a reader certificate has an authorityKeyIdentifier")
                    );
                }
                if self.validity_days() > MAX_READER_DAYS {
                    return Err(
                        self.profile_error("a reader certificate is valid for at most 1187 days")
                    );
                }
            }
            _ => {}
        }
        Ok(())
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
}

/// Validates `chain` (DER, leaf first; intermediates optional) against `anchors` at time `at`
/// (Unix seconds) for a signer of `role`: every signature links, every certificate is valid at
/// `at`, intermediates are CAs that may sign certificates within their pathLenConstraint, the
/// anchor has the role's CA profile, the leaf has the role's profile, no certificate has an
/// unknown critical extension, and for document signers the leaf's country matches the IACA's
/// and its authority key identifier the IACA's subject key identifier (Annex B). Returns the
/// leaf and the anchor.
pub fn verify_chain(
    chain: &[Vec<u8>],
    anchors: &[ParsedCertificate],
    at: i64,
    role: TrustRole,
) -> Result<(ParsedCertificate, ParsedCertificate), TrustError> {
    if chain.len() > MAX_CHAIN_CERTIFICATES {
        return Err(TrustError::Malformed(format!(
            "a chain of {} certificates (at most {MAX_CHAIN_CERTIFICATES})",
            chain.len()
        )));
    }
    let certs = chain
        .iter()
        .map(|der| ParsedCertificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()?;
    let leaf = certs
        .first()
        .ok_or_else(|| TrustError::Malformed("empty certificate chain".into()))?;
    for pair in certs.windows(2) {
        if let [child, parent] = pair {
            child.verify_signed_by(parent)?;
        }
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
    anchor.check_anchor_profile(role)?;
    // The CAs between leaf and anchor, nearest the leaf first; the anchor itself, when sent
    // as the last certificate of the chain, is not an intermediate.
    let intermediates: Vec<&ParsedCertificate> = certs
        .iter()
        .skip(1)
        .filter(|c| c.der != anchor.der)
        .collect();
    for (below, ca) in intermediates.iter().enumerate() {
        ca.check_intermediate(below as u64)?;
    }
    if let Some(limit) = anchor
        .basic_constraints()?
        .and_then(|(_, bc)| bc.path_len_constraint)
    {
        if intermediates.len() as u64 > u64::from(limit) {
            return Err(anchor.profile_error(&format!(
                "pathLenConstraint {limit} allows fewer CAs below it than the chain has"
            )));
        }
    }
    for cert in certs.iter().chain(std::iter::once(anchor)) {
        cert.check_time(at)?;
    }
    leaf.check_leaf_profile(role)?;
    if role == TrustRole::MdocIssuer {
        let issuer = intermediates.first().copied().unwrap_or(anchor);
        match (leaf.country(), issuer.country()) {
            (Some(leaf_c), Some(anchor_c)) if leaf_c == anchor_c => {}
            (leaf_c, anchor_c) => {
                return Err(TrustError::Profile(format!(
                    "document signer country {} differs from IACA country {}",
                    leaf_c.unwrap_or_default(),
                    anchor_c.unwrap_or_default()
                )))
            }
        }
        if leaf.authority_key_id()? != issuer.subject_key_id()? {
            return Err(TrustError::Profile(format!(
                "{}: authorityKeyIdentifier does not name the IACA's key",
                leaf.subject()
            )));
        }
    }
    Ok((leaf.clone(), anchor.clone()))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use x509_cert::attr::AttributeTypeAndValue;
    use x509_cert::name::{Name, RelativeDistinguishedName};

    use super::*;

    #[test]
    fn names_are_written_exactly_as_the_library_writes_them() {
        let mut names: Vec<Name> = [
            "CN=Jigap Test Document Signer,O=Gov,C=KR",
            "CN=\\#hash\\, plus\\+ and \\; \\<\\>\\\\ end\\ ,OU=Unit,L=Jongno,ST=Seoul,STREET=Sejong-daero 209",
            "SERIALNUMBER=42,DC=example,UID=u1,CN=\\ leading space",
            "CN=서울특별시 경찰청,O=대한민국",
            "CN=a+O=b,C=KR",
        ]
        .iter()
        .map(|s| Name::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}")))
        .collect();
        // Attribute types outside the short list, and values that are not text.
        let mut other = Name::from_str("CN=x").unwrap();
        for (oid, value) in [
            (
                "1.2.840.113549.1.9.1",
                der::Any::from(der::asn1::Ia5StringRef::new("a@b.example").unwrap()),
            ),
            (
                "1.2.3.4.5",
                der::Any::from(der::asn1::Utf8StringRef::new("v").unwrap()),
            ),
            (
                "2.5.4.6",
                der::Any::from(der::asn1::OctetStringRef::new(&[1, 2]).unwrap()),
            ),
            (
                "2.5.4.3",
                der::Any::from(der::asn1::Utf8StringRef::new("tab\there\u{7f}").unwrap()),
            ),
        ] {
            let mut rdn = RelativeDistinguishedName::default();
            rdn.0
                .insert(AttributeTypeAndValue {
                    oid: ObjectIdentifier::new_unwrap(oid),
                    value,
                })
                .unwrap();
            other.0.push(rdn);
        }
        names.push(other);
        names.push(Name::default());
        for name in names {
            assert_eq!(rfc4514(&name), name.to_string());
        }
    }
}
