//! Public MyData consents through the API: the citizen consents to a registered recipient
//! receiving data bundles; the wallet signs a consent token with its own key in the
//! `SecureArea`, keeps the consent sealed with its transfer history, and can revoke it with a
//! signed revocation. Data holders check tokens with `verify_consent_token`.

use serde::{Deserialize, Serialize};

use super::host::CheckedSecureArea;
use super::{VerificationFailure, Wallet, WalletError};
use crate::crypto::random;
use crate::documents::consent::{self, certificate_hash, Consent, ConsentMode};
use crate::store::documents::StoredDocument;
use crate::trust::x509::TrustRole;
use crate::trust::x509::{verify_chain, ParsedCertificate};

use crate::store::documents::kind::CONSENT as KIND_CONSENT;
pub(super) const META_CONSENT_KEY: &str = "mydata_key_alias";

/// What the citizen consents to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConsentRequest {
    /// The recipient's certificate (DER); it must chain to a `DataRecipient` anchor.
    pub recipient_certificate: Vec<u8>,
    /// Data bundles (e.g. "income", "health_insurance", "tax_payment").
    pub bundles: Vec<String>,
    /// Why the recipient wants them.
    pub purpose: String,
    /// How long the consent lasts.
    pub mode: ConsentMode,
    /// Days until it ends ("selected" consents end after 30 days at most).
    pub valid_days: u32,
}

/// Where a consent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ConsentState {
    /// In force.
    Active,
    /// A one-off consent whose transfer happened.
    Used,
    /// Withdrawn by the citizen.
    Revoked,
    /// Past its end.
    Expired,
}

/// A transfer a data holder reported under a consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
pub struct TransferRecord {
    /// The bundle sent.
    pub bundle: String,
    /// Who sent it.
    pub data_holder: String,
    /// When, Unix seconds.
    pub transferred_at: i64,
}

/// A consent as the wallet keeps it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConsentRecord {
    /// Id.
    pub id: String,
    /// Subject of the recipient's certificate.
    pub recipient: String,
    /// Bundles.
    pub bundles: Vec<String>,
    /// Purpose.
    pub purpose: String,
    /// Mode.
    pub mode: ConsentMode,
    /// Issued, Unix seconds.
    pub issued_at: i64,
    /// Ends, Unix seconds.
    pub not_after: i64,
    /// State now.
    pub state: ConsentState,
    /// The signed consent token to hand to the recipient.
    pub token: Vec<u8>,
    /// The signed revocation, once revoked.
    pub revocation: Option<Vec<u8>>,
    /// Transfers reported so far.
    pub transfers: Vec<TransferRecord>,
}

/// A consent token a data holder verified.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifiedConsentToken {
    /// Id.
    pub id: String,
    /// Subject of the recipient's certificate.
    pub recipient: String,
    /// Bundles.
    pub bundles: Vec<String>,
    /// Purpose.
    pub purpose: String,
    /// Mode.
    pub mode: ConsentMode,
    /// Issued, Unix seconds.
    pub issued_at: i64,
    /// Ends, Unix seconds.
    pub not_after: i64,
    /// The citizen's wallet key that signed it (SEC1).
    pub subject_key: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct StoredConsent {
    id: String,
    recipient: String,
    recipient_sha256: Vec<u8>,
    bundles: Vec<String>,
    purpose: String,
    mode: ConsentMode,
    issued_at: i64,
    not_after: i64,
    token: Vec<u8>,
    revocation: Option<Vec<u8>>,
    transfers: Vec<TransferRecord>,
    used: bool,
    /// The recipient's own signing key (absent in consents made with the wallet-wide key).
    #[serde(default)]
    key_alias: Option<String>,
}

impl StoredConsent {
    fn state(&self, now: i64) -> ConsentState {
        if self.revocation.is_some() {
            ConsentState::Revoked
        } else if self.used {
            ConsentState::Used
        } else if now > self.not_after {
            ConsentState::Expired
        } else {
            ConsentState::Active
        }
    }

    fn record(&self, now: i64) -> ConsentRecord {
        ConsentRecord {
            id: self.id.clone(),
            recipient: self.recipient.clone(),
            bundles: self.bundles.clone(),
            purpose: self.purpose.clone(),
            mode: self.mode.clone(),
            issued_at: self.issued_at,
            not_after: self.not_after,
            state: self.state(now),
            token: self.token.clone(),
            revocation: self.revocation.clone(),
            transfers: self.transfers.clone(),
        }
    }
}

fn encode(c: &StoredConsent) -> Result<Vec<u8>, WalletError> {
    let mut out = Vec::new();
    ciborium::into_writer(c, &mut out).map_err(|e| WalletError::Internal {
        reason: e.to_string(),
    })?;
    Ok(out)
}

fn decode(bytes: &[u8]) -> Result<StoredConsent, WalletError> {
    ciborium::from_reader(bytes).map_err(|e| WalletError::StoreCorrupt {
        reason: format!("consent: {e}"),
    })
}

impl Wallet {
    /// The key that signs consents for the recipient named `recipient` (its certificate
    /// subject): one per recipient, created in the secure area on first use, so two recipients
    /// cannot tell from the keys that their consents came from the same citizen.
    fn consent_key(&self, recipient: &str) -> Result<(String, Vec<u8>), WalletError> {
        let area = CheckedSecureArea(&*self.secure_area);
        let meta = format!(
            "{META_CONSENT_KEY}:{}",
            crate::crypto::jose::b64url(&crate::crypto::sha256(recipient.as_bytes()))
        );
        if let Some(alias) = self.store.get_meta(&meta)? {
            let alias = String::from_utf8(alias).map_err(|_| WalletError::StoreCorrupt {
                reason: "consent key alias".into(),
            })?;
            let public = area.public_key(&alias)?;
            return Ok((alias, public));
        }
        let alias = format!("mydata-{}", random::identifier()?);
        // Remembered for wiping before it exists, so a crash in between leaves no key behind.
        self.remember_host_key(&alias)?;
        let public = area.create_key(&alias)?;
        self.store.put_meta(&meta, alias.as_bytes())?;
        Ok((alias, public))
    }

    /// The key that signed `consent` (consents made before keys were per recipient name none:
    /// theirs was the wallet-wide key).
    fn signing_key_of(&self, consent: &StoredConsent) -> Result<(String, Vec<u8>), WalletError> {
        let alias = match &consent.key_alias {
            Some(alias) => alias.clone(),
            None => String::from_utf8(self.store.get_meta(META_CONSENT_KEY)?.ok_or_else(|| {
                WalletError::StoreCorrupt {
                    reason: "the key of an older consent is gone".into(),
                }
            })?)
            .map_err(|_| WalletError::StoreCorrupt {
                reason: "consent key alias".into(),
            })?,
        };
        let public = CheckedSecureArea(&*self.secure_area).public_key(&alias)?;
        Ok((alias, public))
    }

    fn load_consent(&self, id: &str) -> Result<(StoredDocument, StoredConsent), WalletError> {
        let doc = self
            .store
            .get_document(KIND_CONSENT, id)?
            .ok_or_else(|| WalletError::not_found(format!("consent {id}")))?;
        let consent = decode(&doc.body)?;
        Ok((doc, consent))
    }
}

#[uniffi::export]
impl Wallet {
    /// Creates a consent for a registered recipient and returns it with its signed token.
    /// A recipient whose certificate does not chain to a `DataRecipient` anchor is refused.
    pub fn create_consent(&self, request: ConsentRequest) -> Result<ConsentRecord, WalletError> {
        self.require_unlocked()?;
        let days = consent::consent_days(
            &request.bundles,
            &request.purpose,
            &request.mode,
            request.valid_days,
        )
        .map_err(WalletError::invalid)?;
        let now = self.now()?;
        let anchors: Vec<ParsedCertificate> = self
            .store
            .trust_anchors(Some(TrustRole::DataRecipient.code()))?
            .into_iter()
            .filter_map(|(_, _, der)| ParsedCertificate::from_der(&der).ok())
            .collect();
        let (recipient, _) = verify_chain(
            std::slice::from_ref(&request.recipient_certificate),
            &anchors,
            now,
            TrustRole::DataRecipient,
        )
        .map_err(|e| WalletError::Verification {
            failure: VerificationFailure::UntrustedRecipient,
            detail: e.to_string(),
        })?;
        let consent = Consent {
            id: random::identifier()?,
            recipient: recipient.subject(),
            recipient_certificate_sha256: certificate_hash(&request.recipient_certificate),
            bundles: request.bundles,
            purpose: request.purpose,
            mode: request.mode,
            issued_at: now,
            not_after: now + days * 86_400,
        };
        let (alias, public) = self.consent_key(&consent.recipient)?;
        let area = CheckedSecureArea(&*self.secure_area);
        let mut sign = |tbs: &[u8]| area.sign(&alias, &public, tbs);
        let token = consent::sign_consent(&consent, &public, &mut sign)?;
        let stored = StoredConsent {
            id: consent.id.clone(),
            recipient: consent.recipient,
            recipient_sha256: consent.recipient_certificate_sha256,
            bundles: consent.bundles,
            purpose: consent.purpose,
            mode: consent.mode,
            issued_at: consent.issued_at,
            not_after: consent.not_after,
            token,
            revocation: None,
            transfers: Vec::new(),
            used: false,
            key_alias: Some(alias.clone()),
        };
        let doc = StoredDocument {
            id: stored.id.clone(),
            state: 0,
            received_at: now,
            body: encode(&stored)?,
        };
        let details = serde_json::json!({
            "consent_id": stored.id, "recipient": stored.recipient, "bundles": stored.bundles,
            "purpose": stored.purpose, "until": stored.not_after,
        });
        self.recorded(crate::journal::JournalKind::Consent, details, |record| {
            Ok(self
                .store
                .put_document_recorded(KIND_CONSENT, &doc, Some(record))?)
        })?;
        Ok(stored.record(now))
    }

    /// Consents, newest first: active ones only, or also used, revoked and expired ones.
    pub fn list_consents(&self, include_past: bool) -> Result<Vec<ConsentRecord>, WalletError> {
        self.require_unlocked()?;
        let now = self.now()?;
        let mut out = Vec::new();
        for doc in self.store.list_documents(KIND_CONSENT)? {
            let record = decode(&doc.body)?.record(now);
            if include_past || record.state == ConsentState::Active {
                out.push(record);
            }
        }
        Ok(out)
    }

    /// Withdraws a consent; returns the signed revocation to send to the recipient and holders.
    pub fn revoke_consent(&self, id: String) -> Result<Vec<u8>, WalletError> {
        self.require_unlocked()?;
        let (doc, mut stored) = self.load_consent(&id)?;
        if let Some(existing) = &stored.revocation {
            return Ok(existing.clone());
        }
        let now = self.now()?;
        let (alias, public) = self.signing_key_of(&stored)?;
        let area = CheckedSecureArea(&*self.secure_area);
        let mut sign = |tbs: &[u8]| area.sign(&alias, &public, tbs);
        let revocation = consent::sign_revocation(&id, now, &public, &mut sign)?;
        stored.revocation = Some(revocation.clone());
        let updated = StoredDocument {
            body: encode(&stored)?,
            state: 1,
            ..doc
        };
        let details = serde_json::json!({ "consent_id": id, "recipient": stored.recipient });
        self.recorded(
            crate::journal::JournalKind::ConsentRevoked,
            details,
            |record| {
                Ok(self
                    .store
                    .put_document_recorded(KIND_CONSENT, &updated, Some(record))?)
            },
        )?;
        Ok(revocation)
    }

    /// Records a transfer a data holder reported under an active consent (a one-off consent is
    /// used up by it).
    pub fn add_transfer(
        &self,
        consent_id: String,
        bundle: String,
        data_holder: String,
    ) -> Result<ConsentRecord, WalletError> {
        self.require_unlocked()?;
        let (doc, mut stored) = self.load_consent(&consent_id)?;
        let now = self.now()?;
        match stored.state(now) {
            ConsentState::Active => {}
            other => return Err(WalletError::invalid(format!("the consent is {other:?}"))),
        }
        if !stored.bundles.contains(&bundle) {
            return Err(WalletError::invalid(format!(
                "{bundle} is not covered by the consent"
            )));
        }
        if data_holder.trim().is_empty() || data_holder.len() > 256 {
            return Err(WalletError::invalid("the data holder is 1 to 256 bytes"));
        }
        stored.transfers.push(TransferRecord {
            bundle,
            data_holder,
            transferred_at: now,
        });
        if stored.mode == ConsentMode::OneOff {
            stored.used = true;
        }
        self.store.put_document(
            KIND_CONSENT,
            &StoredDocument {
                body: encode(&stored)?,
                ..doc
            },
        )?;
        Ok(stored.record(now))
    }
}

fn consent_failure(e: consent::ConsentError) -> WalletError {
    e.into()
}

/// For data holders: verifies a consent token at `at`: its signature with the citizen's key
/// it carries, its period, and that it names `recipient_certificate` (DER), the certificate of
/// whoever presents it — a token is never accepted without knowing whom it is for.
#[uniffi::export]
pub fn verify_consent_token(
    token: Vec<u8>,
    recipient_certificate: Vec<u8>,
    at: i64,
) -> Result<VerifiedConsentToken, WalletError> {
    let verified = consent::verify_consent(&token).map_err(consent_failure)?;
    let c = verified.consent;
    if at > c.not_after {
        return Err(WalletError::Verification {
            failure: VerificationFailure::Expired,
            detail: format!("the consent ended at {}", c.not_after),
        });
    }
    if at < c.issued_at {
        return Err(WalletError::Verification {
            failure: VerificationFailure::NotYetValid,
            detail: format!("the consent starts at {}", c.issued_at),
        });
    }
    if !crate::crypto::constant_time_eq(
        &certificate_hash(&recipient_certificate),
        &c.recipient_certificate_sha256,
    ) {
        return Err(WalletError::Verification {
            failure: VerificationFailure::UntrustedRecipient,
            detail: "the consent names another recipient".into(),
        });
    }
    Ok(VerifiedConsentToken {
        id: c.id,
        recipient: c.recipient,
        bundles: c.bundles,
        purpose: c.purpose,
        mode: c.mode,
        issued_at: c.issued_at,
        not_after: c.not_after,
        subject_key: verified.subject_key,
    })
}

/// For recipients and data holders: true when `revocation` is a valid revocation of `token`
/// signed by the same citizen key.
#[uniffi::export]
pub fn consent_is_revoked(token: Vec<u8>, revocation: Vec<u8>) -> Result<bool, WalletError> {
    let consent = consent::verify_consent(&token).map_err(consent_failure)?;
    let (id, _, key) = consent::verify_revocation(&revocation).map_err(consent_failure)?;
    Ok(id == consent.consent.id && key == consent.subject_key)
}
