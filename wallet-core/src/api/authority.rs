//! The test issuing authority through the API (cargo feature `issuer`): what the CLI, the
//! examples and the binding tests issue credentials with. Not in the mobile library.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::host::{Clock, SystemClock};
use super::status::StatusValue;
use super::WalletError;
use crate::crypto::ec::SoftwareKey;
use crate::issuer::certificates::{
    create_authority, issuer_url, Authority, CertifiedKey, RoleChain,
};
use crate::issuer::mdoc::{
    issue, mdl_claims, resident_card_claims, MdlFacts, ResidentCardFacts, MDL_DOCTYPE,
    RESIDENT_CARD_DOCTYPE,
};
use crate::issuer::sdjwt::{issue as issue_sd_jwt, VcEnvelope};
use crate::issuer::IssuerError;
use crate::mdoc::issuer_signed::ValidityInfo;
use crate::time;
use crate::trust::status_list::{StatusList, StatusReference};
use crate::trust::status_token::{sign_cwt, sign_jwt};
use crate::trust::x509::TrustRole;

/// One role's chain of a test authority: its root and the signer under it, with their keys.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct RoleMaterial {
    /// The role.
    pub role: TrustRole,
    /// The root certificate (DER): the trust anchor for this role.
    pub root_certificate: Vec<u8>,
    /// The root's private key (32-byte scalar).
    pub root_key: Vec<u8>,
    /// The signer's certificate (DER), issued by the root.
    pub certificate: Vec<u8>,
    /// The signer's private key (32-byte scalar).
    pub key: Vec<u8>,
}

impl std::fmt::Debug for RoleMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleMaterial")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A signer issued on demand ([`TestAuthority::issue_signer`]): its certificate and key.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct IssuedSigner {
    /// The certificate (DER), issued by the role's root.
    pub certificate: Vec<u8>,
    /// Its private key (32-byte scalar).
    pub key: Vec<u8>,
}

impl std::fmt::Debug for IssuedSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedSigner").finish_non_exhaustive()
    }
}

/// The certificates and keys of a test authority, for saving and loading: one chain per role.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuthorityMaterial {
    /// Every role's chain.
    pub roles: Vec<RoleMaterial>,
    /// The TLS root of the authority's web servers (DER).
    pub tls_root_certificate: Vec<u8>,
    /// Its private key.
    pub tls_root_key: Vec<u8>,
    /// The servers' certificate (DER): `localhost` and 127.0.0.1, serverAuth.
    pub tls_certificate: Vec<u8>,
    /// Its private key.
    pub tls_key: Vec<u8>,
}

impl std::fmt::Debug for AuthorityMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthorityMaterial(<keys redacted>)")
    }
}

/// A TLS server's certificate and key.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct TlsIdentity {
    /// The certificate (DER).
    pub certificate: Vec<u8>,
    /// The private key, PKCS#8 DER.
    pub private_key_pkcs8: Vec<u8>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsIdentity(<key redacted>)")
    }
}

/// A credential's entry in a Token Status List.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StatusListEntry {
    /// Index in the list.
    pub index: u64,
    /// URI of the status list token.
    pub uri: String,
}

/// How a status list token is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum StatusListFormat {
    /// `application/statuslist+jwt`.
    Jwt,
    /// `application/statuslist+cwt`.
    Cwt,
}

/// A bill to send.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BillDraft {
    /// Bill id (unique per sender).
    pub id: String,
    /// Version; send a higher one to supersede.
    pub version: u64,
    /// The sender's display name.
    pub sender_name: String,
    /// What it is for.
    pub kind: crate::documents::bills::BillKind,
    /// Title.
    pub title: String,
    /// Amount in whole won.
    pub amount_krw: u64,
    /// Due date, YYYY-MM-DD.
    pub due_date: String,
    /// Where to pay.
    pub payee_account: String,
    /// Period billed.
    pub period: String,
    /// Withdraw the bill.
    #[uniffi(default = false)]
    pub cancelled: bool,
}

/// A notification to send (not checked here: the wallet is what refuses links and numbers).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NotificationDraft {
    /// Id.
    pub id: String,
    /// Category.
    pub category: crate::inbox::notifications::NotificationCategory,
    /// Korean title.
    pub title_ko: String,
    /// Korean body.
    pub body_ko: String,
    /// English title.
    #[uniffi(default = None)]
    pub title_en: Option<String>,
    /// English body.
    #[uniffi(default = None)]
    pub body_en: Option<String>,
    /// Priority.
    pub priority: crate::inbox::notifications::Priority,
    /// Expiry, Unix seconds.
    #[uniffi(default = None)]
    pub expires_at: Option<i64>,
    /// Related bill, benefit or credential.
    #[uniffi(default = None)]
    pub reference: Option<String>,
}

/// Facts for an mDL.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MdlClaims {
    /// Family name.
    pub family_name: String,
    /// Given name.
    pub given_name: String,
    /// Birth date, YYYY-MM-DD.
    pub birth_date: String,
    /// Licence number.
    pub document_number: String,
    /// Issuing authority.
    pub issuing_authority: String,
    /// Portrait (JPEG).
    pub portrait: Vec<u8>,
    /// Vehicle category codes (e.g. "B").
    pub vehicle_categories: Vec<String>,
    /// Days the licence and its MSO are valid from today.
    pub valid_days: u32,
    /// The licence's entry in a status list, to make it revocable.
    #[uniffi(default = None)]
    pub status: Option<StatusListEntry>,
}

/// Facts for a mobile resident registration card.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ResidentCardClaims {
    /// Name in Korean.
    pub name_ko: String,
    /// Resident registration number.
    pub resident_registration_number: String,
    /// Birth date, YYYY-MM-DD.
    pub birth_date: String,
    /// Address.
    pub address: String,
    /// Issuing authority.
    pub issuing_authority: String,
    /// Portrait (JPEG).
    pub portrait: Vec<u8>,
    /// Days the MSO is valid from today.
    pub valid_days: u32,
    /// The card's entry in a status list, to make it revocable.
    #[uniffi(default = None)]
    pub status: Option<StatusListEntry>,
}

/// A test issuing authority: one root and one signer for every role (mdoc issuer, reader,
/// SD-JWT VC issuer, status lists, sender, data recipient, catalog publisher, identity
/// verifier).
#[derive(uniffi::Object)]
pub struct TestAuthority {
    authority: Authority,
    country: String,
    clock: Arc<dyn Clock>,
}

fn issuer_error(e: IssuerError) -> WalletError {
    match e {
        IssuerError::Invalid(reason) => WalletError::InvalidInput { reason },
        IssuerError::Mdoc(e) => e.into(),
        IssuerError::Cose(e) => e.into(),
        IssuerError::Crypto(e) => e.into(),
        IssuerError::Certificate(reason) => WalletError::Crypto { reason },
    }
}

fn certified(certificate: &[u8], key: &[u8]) -> Result<CertifiedKey, WalletError> {
    let key = SoftwareKey::from_private_scalar(&Zeroizing::new(key.to_vec()))
        .map_err(|_| WalletError::invalid("authority key is not a P-256 private key"))?;
    let cert = crate::trust::x509::ParsedCertificate::from_der(certificate)
        .map_err(|e| WalletError::invalid(e.to_string()))?;
    if cert
        .p256_public_key()
        .map_err(|e| WalletError::invalid(e.to_string()))?
        != key.public_key()
    {
        return Err(WalletError::invalid(format!(
            "the key of {} does not match its certificate",
            cert.subject()
        )));
    }
    Ok(CertifiedKey {
        certificate: certificate.to_vec(),
        key,
    })
}

/// The MSO `status` value for a status list entry.
fn mso_status(entry: &Option<StatusListEntry>) -> Option<crate::cose::cbor::Value> {
    entry.as_ref().map(|s| {
        StatusReference {
            index: s.index,
            uri: s.uri.clone(),
        }
        .to_cbor()
    })
}

fn birth_date(text: &str) -> Result<i64, WalletError> {
    time::parse_full_date(text)
        .ok_or_else(|| WalletError::invalid(format!("birth date {text} is not YYYY-MM-DD")))
}

impl TestAuthority {
    fn validity(&self, valid_days: u32) -> Result<(i64, ValidityInfo), WalletError> {
        if valid_days == 0 {
            return Err(WalletError::invalid("valid_days must be at least 1"));
        }
        let now = self
            .clock
            .now_unix_seconds()
            .map_err(|e| e.in_callback("Clock.nowUnixSeconds"))?;
        let until = now + i64::from(valid_days) * 86_400;
        Ok((
            now,
            ValidityInfo {
                signed: now,
                valid_from: now,
                valid_until: until,
                expected_update: None,
            },
        ))
    }
}

#[uniffi::export]
impl TestAuthority {
    /// A new authority for `country` (two capital letters), named `name`.
    #[uniffi::constructor]
    pub fn create(
        name: String,
        country: String,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Arc<Self>, WalletError> {
        let clock = clock.unwrap_or_else(|| Arc::new(SystemClock));
        let now = clock
            .now_unix_seconds()
            .map_err(|e| e.in_callback("Clock.nowUnixSeconds"))?;
        let authority = create_authority(&name, &country, now).map_err(issuer_error)?;
        Ok(Arc::new(TestAuthority {
            authority,
            country,
            clock,
        }))
    }

    /// An authority loaded from saved material (every role's chain, each key matching its
    /// certificate and each signer issued by its root).
    #[uniffi::constructor]
    pub fn load(
        material: AuthorityMaterial,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Arc<Self>, WalletError> {
        let mut chains = Vec::with_capacity(TrustRole::ALL.len());
        for role in TrustRole::ALL {
            let m = material
                .roles
                .iter()
                .find(|m| m.role == role)
                .ok_or_else(|| {
                    WalletError::invalid(format!("the material has no {} chain", role.name()))
                })?;
            chains.push(RoleChain {
                role,
                root: certified(&m.root_certificate, &m.root_key)?,
                signer: certified(&m.certificate, &m.key)?,
            });
        }
        let tls = crate::issuer::certificates::TlsChain {
            root: certified(&material.tls_root_certificate, &material.tls_root_key)?,
            server: certified(&material.tls_certificate, &material.tls_key)?,
        };
        let authority = Authority { chains, tls };
        let country = crate::trust::x509::ParsedCertificate::from_der(
            authority
                .root_certificate(TrustRole::MdocIssuer)
                .map_err(issuer_error)?,
        )
        .ok()
        .and_then(|c| c.country())
        .unwrap_or_default();
        Ok(Arc::new(TestAuthority {
            authority,
            country,
            clock: clock.unwrap_or_else(|| Arc::new(SystemClock)),
        }))
    }

    /// The certificates and keys, for saving.
    pub fn material(&self) -> AuthorityMaterial {
        let key = |k: &CertifiedKey| k.key.private_scalar().expose().to_vec();
        AuthorityMaterial {
            roles: self
                .authority
                .chains
                .iter()
                .map(|c| RoleMaterial {
                    role: c.role,
                    root_certificate: c.root.certificate.clone(),
                    root_key: key(&c.root),
                    certificate: c.signer.certificate.clone(),
                    key: key(&c.signer),
                })
                .collect(),
            tls_root_certificate: self.authority.tls.root.certificate.clone(),
            tls_root_key: key(&self.authority.tls.root),
            tls_certificate: self.authority.tls.server.certificate.clone(),
            tls_key: key(&self.authority.tls.server),
        }
    }

    /// The TLS root of the authority's test web servers (DER): what a client trusts to reach
    /// them over HTTPS.
    pub fn tls_root_certificate(&self) -> Vec<u8> {
        self.authority.tls.root.certificate.clone()
    }

    /// The test web servers' certificate (DER, for `localhost` and 127.0.0.1) and its private
    /// key as PKCS#8 DER, for a TLS server.
    pub fn tls_server_identity(&self) -> Result<TlsIdentity, WalletError> {
        let server = &self.authority.tls.server;
        Ok(TlsIdentity {
            certificate: server.certificate.clone(),
            private_key_pkcs8: server.key.pkcs8_der()?,
        })
    }

    /// The root certificate (DER) of `role`: what a wallet or relying party adds as the trust
    /// anchor for that role, and only for it.
    pub fn root_certificate(&self, role: TrustRole) -> Result<Vec<u8>, WalletError> {
        Ok(self
            .authority
            .root_certificate(role)
            .map_err(issuer_error)?
            .to_vec())
    }

    /// The signer certificate (DER) of `role` (a document signer, a reader, a data
    /// recipient ...).
    pub fn signer_certificate(&self, role: TrustRole) -> Result<Vec<u8>, WalletError> {
        Ok(self
            .authority
            .signer(role)
            .map_err(issuer_error)?
            .certificate
            .clone())
    }

    /// A further signer of `role` (a reader, a relying party ...) under the role's root, named
    /// `common_name`, valid for a year, whose certificate carries the certificate policies
    /// `policies` (dotted OIDs): e.g. a relying party with a legal basis for restricted
    /// identifiers (see `DisclosurePolicy.legal_basis_policies`).
    pub fn issue_signer(
        &self,
        role: TrustRole,
        common_name: String,
        policies: Vec<String>,
    ) -> Result<IssuedSigner, WalletError> {
        let now = self
            .clock
            .now_unix_seconds()
            .map_err(|e| e.in_callback("Clock.nowUnixSeconds"))?;
        let signer = self
            .authority
            .issue_signer(role, &common_name, &self.country, now, &policies)
            .map_err(issuer_error)?;
        Ok(IssuedSigner {
            certificate: signer.certificate,
            key: signer.key.private_scalar().expose().to_vec(),
        })
    }

    /// The signer's private key of `role` (32-byte scalar), e.g. for a reader to sign its
    /// requests with.
    pub fn signer_key(&self, role: TrustRole) -> Result<Vec<u8>, WalletError> {
        Ok(self
            .authority
            .signer(role)
            .map_err(issuer_error)?
            .key
            .private_scalar()
            .expose()
            .to_vec())
    }

    /// Issues an mDL bound to `device_public_key`; returns IssuerSigned bytes for `Wallet.addMdoc`.
    pub fn issue_mdl(
        &self,
        device_public_key: Vec<u8>,
        claims: MdlClaims,
    ) -> Result<Vec<u8>, WalletError> {
        let (now, validity) = self.validity(claims.valid_days)?;
        let today = now.div_euclid(86_400);
        let status = mso_status(&claims.status);
        let facts = MdlFacts {
            family_name: claims.family_name,
            given_name: claims.given_name,
            birth_date: birth_date(&claims.birth_date)?,
            issue_date: today,
            expiry_date: today + i64::from(claims.valid_days),
            issuing_country: self.country.clone(),
            issuing_authority: claims.issuing_authority,
            document_number: claims.document_number,
            portrait: claims.portrait,
            vehicle_categories: claims.vehicle_categories,
            un_distinguishing_sign: if self.country == "KR" {
                "ROK".into()
            } else {
                self.country.clone()
            },
        };
        issue(
            self.authority
                .signer(TrustRole::MdocIssuer)
                .map_err(issuer_error)?,
            MDL_DOCTYPE,
            &mdl_claims(&facts),
            &device_public_key,
            validity,
            status,
        )
        .map_err(issuer_error)
    }

    /// Issues a mobile resident registration card (provisional docType) bound to `device_public_key`.
    pub fn issue_resident_card(
        &self,
        device_public_key: Vec<u8>,
        claims: ResidentCardClaims,
    ) -> Result<Vec<u8>, WalletError> {
        let (now, validity) = self.validity(claims.valid_days)?;
        let status = mso_status(&claims.status);
        let facts = ResidentCardFacts {
            name_ko: claims.name_ko,
            resident_registration_number: claims.resident_registration_number,
            birth_date: birth_date(&claims.birth_date)?,
            address: claims.address,
            issue_date: now.div_euclid(86_400),
            issuing_authority: claims.issuing_authority,
            portrait: claims.portrait,
        };
        issue(
            self.authority
                .signer(TrustRole::MdocIssuer)
                .map_err(issuer_error)?,
            RESIDENT_CARD_DOCTYPE,
            &resident_card_claims(&facts),
            &device_public_key,
            validity,
            status,
        )
        .map_err(issuer_error)
    }

    /// Issues an e-certificate of catalogue type `certificate_type` (short name or
    /// `vct`) as an SD-JWT VC bound to `device_public_key`. `claims_json` is a JSON object; the
    /// catalogue says which claims are selectively disclosable. `status` points at a status
    /// list entry. Returns the compact issuance `<JWS>~<Disclosures>~`.
    pub fn issue_e_certificate(
        &self,
        certificate_type: String,
        device_public_key: Vec<u8>,
        claims_json: String,
        status: Option<StatusListEntry>,
    ) -> Result<String, WalletError> {
        let kind = crate::documents::e_certificates::find(&certificate_type).ok_or_else(|| {
            WalletError::invalid(format!("unknown certificate type {certificate_type}"))
        })?;
        let claims: serde_json::Value = serde_json::from_str(&claims_json)
            .map_err(|e| WalletError::invalid(format!("claims are not JSON: {e}")))?;
        let now = self
            .clock
            .now_unix_seconds()
            .map_err(|e| e.in_callback("Clock.nowUnixSeconds"))?;
        let issuer = issuer_url(&self.country);
        let envelope = VcEnvelope {
            issuer: &issuer,
            vct: kind.vct,
            issued_at: now,
            expires_at: now + i64::from(kind.valid_days) * 86_400,
            holder_key: &device_public_key,
            status: status.map(|s| StatusReference {
                index: s.index,
                uri: s.uri,
            }),
            decoys_per_object: 2,
        };
        let signer = self
            .authority
            .signer(TrustRole::SdJwtIssuer)
            .map_err(issuer_error)?;
        let chain = [signer.certificate.clone()];
        let disclosable = crate::documents::e_certificates::disclosable_paths(kind, &claims);
        issue_sd_jwt(signer, &chain, &envelope, &claims, &disclosable).map_err(issuer_error)
    }

    /// Publishes a status list for `uri`: `size` entries of 2 bits, all valid except
    /// `statuses`, signed by the status list signer (x5c), cacheable for `ttl_seconds` and
    /// expiring after a week. Serve the bytes at `uri`.
    pub fn status_list_token(
        &self,
        uri: String,
        size: u64,
        statuses: Vec<StatusValue>,
        format: StatusListFormat,
        ttl_seconds: u32,
    ) -> Result<Vec<u8>, WalletError> {
        let len =
            usize::try_from(size).map_err(|_| WalletError::invalid("status list too large"))?;
        let mut list = StatusList::new(2, len).map_err(|e| WalletError::invalid(e.to_string()))?;
        for s in statuses {
            list.set(s.index, s.status)
                .map_err(|e| WalletError::invalid(e.to_string()))?;
        }
        let now = self
            .clock
            .now_unix_seconds()
            .map_err(|e| e.in_callback("Clock.nowUnixSeconds"))?;
        let signer = self
            .authority
            .signer(TrustRole::StatusListIssuer)
            .map_err(issuer_error)?;
        let chain = [signer.certificate.clone()];
        let sign = |m: &[u8]| signer.key.sign(m);
        let ttl = i64::from(ttl_seconds);
        let exp = now + 7 * 86_400;
        Ok(match format {
            StatusListFormat::Jwt => {
                sign_jwt(&list, &uri, now, exp, ttl, &chain, sign)?.into_bytes()
            }
            StatusListFormat::Cwt => sign_cwt(&list, &uri, now, exp, ttl, &chain, sign)?,
        })
    }

    /// Signs a bill as the authority's registered sender.
    pub fn sign_bill(&self, draft: BillDraft) -> Result<Vec<u8>, WalletError> {
        let due_date = time::parse_full_date(&draft.due_date).ok_or_else(|| {
            WalletError::invalid(format!("due date {} is not YYYY-MM-DD", draft.due_date))
        })?;
        let bill = crate::documents::bills::Bill {
            id: draft.id,
            version: draft.version,
            sender: String::new(),
            sender_name: draft.sender_name,
            kind: draft.kind,
            title: draft.title,
            amount_krw: draft.amount_krw,
            due_date,
            payee_account: draft.payee_account,
            period: draft.period,
            cancelled: draft.cancelled,
            receipt: None,
            paid_at: None,
        };
        self.sign_as(TrustRole::Sender, &crate::documents::bills::payload(&bill))
    }

    /// Signs a notification as the authority's registered sender, issued now.
    pub fn sign_notification(&self, draft: NotificationDraft) -> Result<Vec<u8>, WalletError> {
        let notification = crate::inbox::notifications::Notification {
            id: draft.id,
            sender: String::new(),
            category: draft.category,
            title_ko: draft.title_ko,
            body_ko: draft.body_ko,
            title_en: draft.title_en,
            body_en: draft.body_en,
            priority: draft.priority,
            issued_at: self
                .clock
                .now_unix_seconds()
                .map_err(|e| e.in_callback("Clock.nowUnixSeconds"))?,
            expires_at: draft.expires_at,
            reference: draft.reference,
        };
        self.sign_as(
            TrustRole::Sender,
            &crate::inbox::notifications::payload(&notification),
        )
    }
    /// Signs the sample benefit catalog (35 Korean programmes) as the authority's catalog
    /// publisher.
    pub fn sign_benefit_catalog(&self, version: u64) -> Result<Vec<u8>, WalletError> {
        let benefits = crate::benefits::catalog::sample().map_err(|e| WalletError::Internal {
            reason: e.to_string(),
        })?;
        self.sign_as(
            TrustRole::CatalogPublisher,
            &crate::benefits::catalog::payload(&benefits, version),
        )
    }
}

#[uniffi::export]
impl TestAuthority {
    /// Checks a wallet's key proof (OpenID4VCI `openid4vci-proof+jwt`) as this issuer,
    /// `audience`, would before issuing to the key: signature with the header's key, `aud`,
    /// `nonce` when one was sent, `iat` within five minutes. Returns the proven public key.
    pub fn verify_key_proof(
        &self,
        proof: String,
        audience: String,
        nonce: Option<String>,
    ) -> Result<Vec<u8>, WalletError> {
        let now = self
            .clock
            .now_unix_seconds()
            .map_err(|e| e.in_callback("Clock.nowUnixSeconds"))?;
        crate::issuance::proof::verify(&proof, &audience, nonce.as_deref(), now, 300, 60).map_err(
            |e| WalletError::Verification {
                failure: super::VerificationFailure::KeyProof,
                detail: e.to_string(),
            },
        )
    }

    /// Signs a re-verification token for a locked-out wallet's `challenge`, as the
    /// authority's identity verifier, valid `valid_seconds` from now: what
    /// `Wallet.reset_pin` takes after the citizen re-verified.
    pub fn sign_pin_reset(
        &self,
        challenge: Vec<u8>,
        valid_seconds: u32,
    ) -> Result<Vec<u8>, WalletError> {
        let now = self
            .clock
            .now_unix_seconds()
            .map_err(|e| e.in_callback("Clock.nowUnixSeconds"))?;
        self.sign_as(
            TrustRole::IdentityVerifier,
            &crate::access::reverification_payload(&challenge, now + i64::from(valid_seconds)),
        )
    }
}

/// A client whose attestation and proof of possession verified.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AttestedClient {
    /// The attested `client_id`.
    pub client_id: String,
    /// The proof's `jti` (a server refuses one it has seen).
    pub jti: String,
}

fn attestation_failure(
    failure: super::VerificationFailure,
) -> impl Fn(crate::issuer::attestation::AttestationError) -> WalletError {
    move |e| WalletError::Verification {
        failure,
        detail: e.to_string(),
    }
}

#[uniffi::export]
impl TestAuthority {
    /// Signs credential issuer metadata (a JSON object with `credential_issuer`) as the
    /// authority's issuer metadata signer: the `application/jwt` form of
    /// `/.well-known/openid-credential-issuer`, valid for a day.
    pub fn sign_issuer_metadata(&self, metadata_json: String) -> Result<String, WalletError> {
        let metadata: serde_json::Value = serde_json::from_str(&metadata_json)
            .map_err(|e| WalletError::invalid(format!("metadata is not JSON: {e}")))?;
        let signer = self
            .authority
            .signer(TrustRole::IssuerMetadata)
            .map_err(issuer_error)?;
        crate::issuer::attestation::sign_metadata(signer, &metadata, self.now()?, 86_400)
            .map_err(issuer_error)
    }

    /// A key attestation for `public_keys` (SEC1), as the authority's wallet provider, for
    /// the issuer's `nonce`, valid for an hour: what a platform's key store would make.
    pub fn sign_key_attestation(
        &self,
        public_keys: Vec<Vec<u8>>,
        nonce: Option<String>,
    ) -> Result<String, WalletError> {
        let signer = self
            .authority
            .signer(TrustRole::WalletProvider)
            .map_err(issuer_error)?;
        crate::issuer::attestation::sign_key_attestation(
            signer,
            &public_keys,
            nonce.as_deref(),
            self.now()?,
            3600,
        )
        .map_err(issuer_error)
    }

    /// Checks a key attestation as an issuer trusting this authority's wallet provider
    /// does; returns the attested keys.
    pub fn verify_key_attestation(
        &self,
        attestation: String,
        nonce: Option<String>,
    ) -> Result<Vec<Vec<u8>>, WalletError> {
        crate::issuer::attestation::verify_key_attestation(
            &attestation,
            &self.anchors(TrustRole::WalletProvider)?,
            self.now()?,
            nonce.as_deref(),
        )
        .map_err(attestation_failure(
            super::VerificationFailure::KeyAttestation,
        ))
    }

    /// A client attestation for the wallet instance holding `instance_public_key`, as
    /// `client_id`, valid for a day.
    pub fn sign_client_attestation(
        &self,
        client_id: String,
        instance_public_key: Vec<u8>,
    ) -> Result<String, WalletError> {
        let signer = self
            .authority
            .signer(TrustRole::WalletProvider)
            .map_err(issuer_error)?;
        crate::issuer::attestation::sign_client_attestation(
            signer,
            &client_id,
            &instance_public_key,
            self.now()?,
            86_400,
        )
        .map_err(issuer_error)
    }

    /// Checks a client attestation and its proof of possession as the authorization server
    /// `audience` trusting this authority's wallet provider does.
    pub fn verify_client_attestation(
        &self,
        attestation: String,
        pop: String,
        audience: String,
    ) -> Result<AttestedClient, WalletError> {
        let attested = crate::issuer::attestation::verify_client_attestation(
            &attestation,
            &pop,
            &audience,
            &self.anchors(TrustRole::WalletProvider)?,
            self.now()?,
        )
        .map_err(attestation_failure(
            super::VerificationFailure::ClientAttestation,
        ))?;
        Ok(AttestedClient {
            client_id: attested.client_id,
            jti: attested.jti,
        })
    }
}

impl TestAuthority {
    fn now(&self) -> Result<i64, WalletError> {
        self.clock
            .now_unix_seconds()
            .map_err(|e| e.in_callback("Clock.nowUnixSeconds"))
    }

    fn anchors(
        &self,
        role: TrustRole,
    ) -> Result<Vec<crate::trust::x509::ParsedCertificate>, WalletError> {
        let root = self
            .authority
            .root_certificate(role)
            .map_err(issuer_error)?;
        Ok(vec![crate::trust::x509::ParsedCertificate::from_der(root)
            .map_err(|e| WalletError::Internal {
                reason: e.to_string(),
            })?])
    }

    fn sign_as(
        &self,
        role: TrustRole,
        body: &crate::cose::cbor::Value,
    ) -> Result<Vec<u8>, WalletError> {
        let sender = self.authority.signer(role).map_err(issuer_error)?;
        let signed =
            crate::documents::signed::sign(body, std::slice::from_ref(&sender.certificate), |m| {
                sender.key.sign(m).map_err(crate::mdoc::MdocError::from)
            })?;
        Ok(signed)
    }
}
