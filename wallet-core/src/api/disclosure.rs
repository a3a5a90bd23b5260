//! The consent step every presentation goes through, in person, online and over the Digital
//! Credentials API: one [`DisclosureRequest`] for the host to show (who asks, verified or not;
//! each item with its labels, the relying party's intent to retain, and the policy's verdict),
//! answered through the async [`UserPrompt`] or by calling back with a [`DisclosureDecision`].
//! The core enforces the policy on whatever the host answers, remembers grants the citizen
//! asks it to remember, and records what left and what was withheld, and why.

use serde::{Deserialize, Serialize};

use super::{Wallet, WalletError};
use crate::crypto::random;
use crate::policy::{self, Asker, Verdict};
use crate::store::documents::kind::GRANT as KIND_GRANT;
use crate::store::documents::StoredDocument;

pub use crate::policy::{DisclosurePolicy, WithheldReason, TEST_LEGAL_BASIS_POLICY};

const META_POLICY: &str = "disclosure_policy";
/// The longest a grant may be remembered.
pub const MAX_GRANT_DAYS: u32 = 365;
/// The most grants a wallet keeps.
const MAX_GRANTS: usize = 1_000;

/// How the relying party reached the wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
pub enum DisclosureChannel {
    /// ISO/IEC 18013-5 device retrieval (QR, NFC, BLE).
    InPerson,
    /// OpenID4VP, same or cross device.
    Online,
    /// The platform's Digital Credentials API (OpenID4VP or ISO/IEC 18013-7 Annex C).
    DigitalCredentialsApi,
}

/// Who asks, as the citizen may be told: a name only when it is verified.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RelyingPartyIdentity {
    /// The request was signed by a certificate that chains to an anchor of the relying
    /// party's role (reader or relying party) and, online, that the client id names.
    pub authenticated: bool,
    /// The verified certificate's subject (never a self-declared name).
    pub name: Option<String>,
    /// Online: the client id as the request gave it (vouched for only when authenticated).
    pub client_id: Option<String>,
    /// Why it is not authenticated, when it is not.
    pub unauthenticated_reason: Option<String>,
    /// Its certificate carries a legal basis for restricted identifiers.
    pub legal_basis: bool,
}

/// The policy's verdict on one item, as the host shows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ItemVerdict {
    /// May go, if the citizen approves.
    Offered,
    /// A remembered grant covers it: approved unless the citizen takes it out.
    Granted {
        /// The grant.
        grant_id: String,
    },
    /// An age predicate asked in the same request answers more narrowly; this full value
    /// goes only if the citizen approves it by name.
    NeedsOwnApproval {
        /// The predicate offered first.
        minimal: String,
    },
    /// Does not go.
    Withheld {
        /// Why.
        reason: WithheldReason,
    },
}

/// One requested item.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DisclosureItem {
    /// `namespace/element` (mdoc) or a JSON pointer (SD-JWT VC).
    pub path: String,
    /// Its Korean label, when known.
    pub label_ko: Option<String>,
    /// Its English label, when known.
    pub label_en: Option<String>,
    /// The relying party says it will keep it.
    pub intent_to_retain: bool,
    /// The policy's verdict.
    pub verdict: ItemVerdict,
}

/// One requested document (in person) or credential query (online).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DisclosureDocument {
    /// What to name it by in the answer: the document's index in person, the query id online.
    pub id: String,
    /// The docType or `vct` asked for.
    pub doc_type: String,
    /// Korean name of what is asked for.
    pub display_name_ko: String,
    /// English name.
    pub display_name_en: String,
    /// Whether it must be answered for the request to be answered at all.
    pub required: bool,
    /// The valid credentials that can answer it (the first is suggested).
    pub credential_ids: Vec<String>,
    /// The items asked for, with the verdicts for the first credential.
    pub items: Vec<DisclosureItem>,
}

/// A request, as the citizen is asked about it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DisclosureRequest {
    /// How it arrived.
    pub channel: DisclosureChannel,
    /// Who asks.
    pub relying_party: RelyingPartyIdentity,
    /// The web origin, over the Digital Credentials API.
    pub origin: Option<String>,
    /// The purpose the relying party states, when it states one.
    pub purpose: Option<String>,
    /// The legal basis the relying party states, when it states one (shown as stated; what
    /// the policy relies on is the certificate's).
    pub stated_legal_basis: Option<String>,
    /// What is asked.
    pub documents: Vec<DisclosureDocument>,
}

/// An item that was not released, and why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WithheldItem {
    /// Its path.
    pub path: String,
    /// Why.
    pub reason: WithheldReason,
}

/// The citizen's answer for one document or query.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DocumentApproval {
    /// `DisclosureDocument.id`.
    pub id: String,
    /// The credential to present.
    pub credential_id: String,
    /// The items to release (paths as in `DisclosureItem.path`). Items the policy withholds
    /// do not go even if named here; a full value that needs its own approval goes only if
    /// named here.
    pub items: Vec<String>,
}

/// The citizen's answer to a [`DisclosureRequest`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DisclosureDecision {
    /// What to release; a document or query left out is not answered.
    pub approved: Vec<DocumentApproval>,
    /// Remember these approvals for this relying party for this many days (0: do not; at
    /// most 365). Only for an authenticated relying party, never for a restricted identifier.
    #[uniffi(default = 0)]
    pub remember_days: u32,
}

/// The host's consent screen: shows a request and returns the citizen's decision, or `None`
/// when the citizen refuses.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait UserPrompt: Send + Sync {
    /// Asks the citizen.
    async fn ask(
        &self,
        request: DisclosureRequest,
    ) -> Result<Option<DisclosureDecision>, WalletError>;
}

/// A remembered decision: this relying party may see these items of this kind of document.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Grant {
    /// Its id.
    pub id: String,
    /// The relying party (its verified certificate subject).
    pub relying_party: String,
    /// The docType or `vct`.
    pub doc_type: String,
    /// The items it covers.
    pub items: Vec<String>,
    /// When it was made, Unix seconds.
    pub created_at: i64,
    /// When it ends.
    pub expires_at: i64,
}

#[derive(Serialize, Deserialize)]
struct StoredGrant {
    id: String,
    key: String,
    relying_party: String,
    doc_type: String,
    items: Vec<String>,
    created_at: i64,
    expires_at: i64,
}

impl StoredGrant {
    fn record(&self) -> Grant {
        Grant {
            id: self.id.clone(),
            relying_party: self.relying_party.clone(),
            doc_type: self.doc_type.clone(),
            items: self.items.clone(),
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}

/// The relying party as the policy and the grants see it.
#[derive(Debug, Clone)]
pub(super) struct Party {
    /// As the host shows it.
    pub identity: RelyingPartyIdentity,
    /// As the policy sees it.
    pub asker: Asker,
    /// What names it in grants: its verified identity (subject and key, or client id), only
    /// when authenticated.
    pub grant_key: Option<String>,
}

impl Party {
    /// An authenticated relying party: `subject` of a certificate with `policies`, known to
    /// grants by `key`.
    pub fn authenticated(
        policy: &DisclosurePolicy,
        subject: String,
        policies: Vec<String>,
        key: String,
        client_id: Option<String>,
    ) -> Party {
        let asker = Asker {
            authenticated: true,
            policies,
        };
        Party {
            identity: RelyingPartyIdentity {
                authenticated: true,
                name: Some(subject),
                client_id,
                unauthenticated_reason: None,
                legal_basis: policy.has_legal_basis(&asker),
            },
            asker,
            grant_key: Some(key),
        }
    }

    /// An unauthenticated relying party, and why.
    pub fn unauthenticated(reason: String, client_id: Option<String>) -> Party {
        Party {
            identity: RelyingPartyIdentity {
                authenticated: false,
                name: None,
                client_id,
                unauthenticated_reason: Some(reason),
                legal_basis: false,
            },
            asker: Asker::default(),
            grant_key: None,
        }
    }

    /// Its identity in the record, seen from `origin` when there is one.
    pub fn record_json_from(&self, origin: Option<&str>) -> serde_json::Value {
        serde_json::json!({
            "verified": self.identity.authenticated,
            "subject": self.identity.name,
            "client_id": self.identity.client_id,
            "why_not_verified": self.identity.unauthenticated_reason,
            "legal_basis": self.identity.legal_basis,
            "origin": origin,
        })
    }

    /// Its identity in the record.
    pub fn record_json(&self) -> serde_json::Value {
        serde_json::json!({
            "verified": self.identity.authenticated,
            "subject": self.identity.name,
            "client_id": self.identity.client_id,
            "why_not_verified": self.identity.unauthenticated_reason,
            "legal_basis": self.identity.legal_basis,
        })
    }
}

/// A requested item before the verdict.
pub(super) struct Asked {
    pub path: String,
    pub held: bool,
    pub intent_to_retain: bool,
    pub labels: (Option<String>, Option<String>),
}

/// What leaves, and what does not and why.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Released {
    pub released: Vec<String>,
    pub withheld: Vec<(String, WithheldReason)>,
    pub grants_used: Vec<String>,
}

impl Released {
    /// As the record keeps it, with `fields` (which credential, which query ...) first.
    pub fn record_json_with(&self, fields: &[(&str, serde_json::Value)]) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        for (name, value) in fields {
            out.insert((*name).to_owned(), value.clone());
        }
        if let serde_json::Value::Object(own) = self.record_json() {
            out.extend(own);
        }
        serde_json::Value::Object(out)
    }

    /// As the record keeps it.
    pub fn record_json(&self) -> serde_json::Value {
        serde_json::json!({
            "released": self.released,
            "withheld": self.withheld.iter().map(|(item, reason)| serde_json::json!({
                "item": item, "reason": reason.name(),
            })).collect::<Vec<_>>(),
            "grants_used": self.grants_used,
        })
    }
}

fn standing(verdict: &ItemVerdict) -> policy::Standing {
    match verdict {
        ItemVerdict::Offered => policy::Standing::Verdict(Verdict::Offered),
        ItemVerdict::Granted { grant_id } => policy::Standing::Granted(grant_id.clone()),
        ItemVerdict::NeedsOwnApproval { minimal } => {
            policy::Standing::Verdict(Verdict::NeedsOwnApproval {
                minimal: minimal.clone(),
            })
        }
        ItemVerdict::Withheld { reason } => policy::Standing::Verdict(Verdict::Withheld(*reason)),
    }
}

/// Applies the verdicts to an answer (see [`policy::release`]).
pub(super) fn release(
    items: &[DisclosureItem],
    approved: Option<&[String]>,
) -> Result<Released, WalletError> {
    let standings: Vec<(String, policy::Standing)> = items
        .iter()
        .map(|i| (i.path.clone(), standing(&i.verdict)))
        .collect();
    let out = policy::release(&standings, approved)
        .map_err(|extra| WalletError::invalid(format!("{extra} was not requested")))?;
    Ok(Released {
        released: out.released,
        withheld: out.withheld,
        grants_used: out.grants_used,
    })
}

/// Whether the citizen need not be asked (see [`policy::fully_granted`]).
pub(super) fn fully_granted(documents: &[DisclosureDocument]) -> bool {
    let standings: Vec<policy::Standing> = documents
        .iter()
        .flat_map(|d| d.items.iter().map(|i| standing(&i.verdict)))
        .collect();
    policy::fully_granted(standings.iter())
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, WalletError> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).map_err(|e| WalletError::Internal {
        reason: e.to_string(),
    })?;
    Ok(out)
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8], what: &str) -> Result<T, WalletError> {
    ciborium::from_reader(bytes).map_err(|e| WalletError::StoreCorrupt {
        reason: format!("{what}: {e}"),
    })
}

impl Wallet {
    /// The policy in force (the default until the host sets one).
    pub(super) fn policy(&self) -> Result<DisclosurePolicy, WalletError> {
        match self.store.get_meta(META_POLICY)? {
            None => Ok(DisclosurePolicy::default()),
            Some(bytes) => decode(&bytes, "disclosure policy"),
        }
    }

    fn grants_for(&self, party: &Party, doc_type: &str) -> Result<Vec<StoredGrant>, WalletError> {
        let Some(key) = &party.grant_key else {
            return Ok(Vec::new());
        };
        let now = self.now()?;
        let mut out = Vec::new();
        for doc in self.store.list_documents(KIND_GRANT)? {
            let grant: StoredGrant = decode(&doc.body, "grant")?;
            if grant.key == *key && grant.doc_type == doc_type && grant.expires_at > now {
                out.push(grant);
            }
        }
        Ok(out)
    }

    /// The verdicts on one document request's items for `party`, grants applied.
    pub(super) fn decide(
        &self,
        policy: &DisclosurePolicy,
        party: &Party,
        doc_type: &str,
        asked: Vec<Asked>,
    ) -> Result<Vec<DisclosureItem>, WalletError> {
        let items: Vec<policy::Item> = asked
            .iter()
            .map(|a| policy::Item {
                path: a.path.clone(),
                held: a.held,
            })
            .collect();
        let verdicts = policy.decide(&party.asker, &items);
        let grants = self.grants_for(party, doc_type)?;
        Ok(asked
            .into_iter()
            .zip(verdicts)
            .map(|(a, verdict)| {
                let granted = grants
                    .iter()
                    .find(|g| g.items.contains(&a.path))
                    .filter(|_| policy.may_remember(&party.asker, &a.path));
                let verdict = match (verdict, granted) {
                    (Verdict::Withheld(reason), _) => ItemVerdict::Withheld { reason },
                    (_, Some(g)) => ItemVerdict::Granted {
                        grant_id: g.id.clone(),
                    },
                    (Verdict::Offered, None) => ItemVerdict::Offered,
                    (Verdict::NeedsOwnApproval { minimal }, None) => {
                        ItemVerdict::NeedsOwnApproval { minimal }
                    }
                };
                DisclosureItem {
                    path: a.path,
                    label_ko: a.labels.0,
                    label_en: a.labels.1,
                    intent_to_retain: a.intent_to_retain,
                    verdict,
                }
            })
            .collect())
    }

    /// Remembers what was released to `party` for `doc_type` for `days`, leaving out what may
    /// not be remembered. Returns the grant's id, if one was made.
    pub(super) fn remember(
        &self,
        party: &Party,
        doc_type: &str,
        released: &[String],
        days: u32,
    ) -> Result<Option<String>, WalletError> {
        if days == 0 {
            return Ok(None);
        }
        if days > MAX_GRANT_DAYS {
            return Err(WalletError::invalid(format!(
                "a grant lasts at most {MAX_GRANT_DAYS} days"
            )));
        }
        let (Some(key), Some(name)) = (&party.grant_key, &party.identity.name) else {
            return Ok(None);
        };
        let policy = self.policy()?;
        let items: Vec<String> = released
            .iter()
            .filter(|i| policy.may_remember(&party.asker, i))
            .cloned()
            .collect();
        if items.is_empty() {
            return Ok(None);
        }
        if self.store.list_documents(KIND_GRANT)?.len() >= MAX_GRANTS {
            return Err(WalletError::invalid(format!(
                "at most {MAX_GRANTS} grants; revoke some first"
            )));
        }
        let now = self.now()?;
        let grant = StoredGrant {
            id: random::identifier()?,
            key: key.clone(),
            relying_party: name.clone(),
            doc_type: doc_type.to_owned(),
            items,
            created_at: now,
            expires_at: now + i64::from(days) * 86_400,
        };
        let doc = StoredDocument {
            id: grant.id.clone(),
            state: 0,
            received_at: now,
            body: encode(&grant)?,
        };
        let details = serde_json::json!({
            "grant_id": grant.id, "relying_party": party.record_json(), "doc_type": grant.doc_type,
            "items": grant.items, "until": grant.expires_at,
        });
        self.recorded(crate::journal::JournalKind::Grant, details, |record| {
            Ok(self
                .store
                .put_document_recorded(KIND_GRANT, &doc, Some(record))?)
        })?;
        Ok(Some(grant.id))
    }

    /// Tells the listener.
    pub(super) fn notify(&self, event: super::status::WalletEvent) {
        if let Some(listener) = &self.listener {
            let _ = listener.on_event(event);
        }
    }
}

#[uniffi::export]
impl Wallet {
    /// The disclosure policy in force.
    pub fn disclosure_policy(&self) -> Result<DisclosurePolicy, WalletError> {
        self.require_unlocked()?;
        self.policy()
    }

    /// Sets the disclosure policy (checked: bounded patterns, none matching everything, OIDs
    /// that are OIDs).
    pub fn set_disclosure_policy(&self, policy: DisclosurePolicy) -> Result<(), WalletError> {
        self.require_unlocked()?;
        policy.check().map_err(WalletError::invalid)?;
        self.store.put_meta(META_POLICY, &encode(&policy)?)?;
        Ok(())
    }

    /// The remembered grants that have not ended, newest first.
    pub fn list_grants(&self) -> Result<Vec<Grant>, WalletError> {
        self.require_unlocked()?;
        let now = self.now()?;
        let mut out: Vec<Grant> = Vec::new();
        for doc in self.store.list_documents(KIND_GRANT)? {
            let grant: StoredGrant = decode(&doc.body, "grant")?;
            if grant.expires_at > now {
                out.push(grant.record());
            }
        }
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Forgets a grant: the relying party is asked again next time.
    pub fn revoke_grant(&self, id: String) -> Result<(), WalletError> {
        self.require_unlocked()?;
        let doc = self
            .store
            .get_document(KIND_GRANT, &id)?
            .ok_or_else(|| WalletError::not_found(format!("grant {id}")))?;
        let grant: StoredGrant = decode(&doc.body, "grant")?;
        let details = serde_json::json!({
            "grant_id": id, "relying_party": grant.relying_party, "doc_type": grant.doc_type,
        });
        self.recorded(
            crate::journal::JournalKind::GrantRevoked,
            details,
            |record| {
                Ok(self
                    .store
                    .delete_document_recorded(KIND_GRANT, &id, Some(record))?)
            },
        )?;
        Ok(())
    }
}
