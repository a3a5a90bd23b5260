//! Credential status through Token Status Lists: the host's HTTP stack fetches status list
//! tokens, the wallet verifies them against its status-list trust anchors, updates each
//! credential's state and tells the host through its `WalletListener`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::http::{HttpClient, HttpRequest};
use super::records::{CredentialFilter, CredentialFormat, CredentialState};
use super::{VerificationFailure, Wallet, WalletError};
use crate::mdoc::issuer_signed::IssuerSigned;
use crate::sdjwt::format::SdJwt;
use crate::sdjwt::present::status_reference;
use crate::trust::status_list::StatusReference;
use crate::trust::status_token::{verify_any, StatusCache, StatusCheckError};
use crate::trust::x509::ParsedCertificate;
use crate::trust::x509::TrustRole;

/// Something the host may want to show or schedule.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum WalletEvent {
    /// A bill is due soon (from `bills_due_within`): schedule a reminder.
    BillDue {
        /// The bill.
        bill_id: String,
        /// Its due date, YYYY-MM-DD.
        due_date: String,
        /// Amount in whole won.
        amount_krw: u64,
    },
    /// A notification arrived in the inbox.
    NotificationAdded {
        /// Its id.
        id: String,
    },
    /// A credential's state changed (its issuer revoked, suspended or reinstated it).
    CredentialStateChanged {
        /// The credential.
        credential_id: String,
        /// Its state before.
        previous: CredentialState,
        /// Its state now.
        current: CredentialState,
    },
    /// Checking the citizen's record found tampering.
    JournalIntegrityFailure {
        /// What was found.
        reason: String,
    },
    /// A presentation waits for the citizen's decision (the `UserPrompt` was called).
    ConsentStepWaiting {
        /// How the request arrived.
        channel: super::disclosure::DisclosureChannel,
        /// Who asks: the verified subject, else the client id, else "unverified".
        relying_party: String,
    },
    /// A remembered grant answered (part of) a request without asking the citizen.
    GrantUsed {
        /// The grant.
        grant_id: String,
        /// The relying party it names.
        relying_party: String,
    },
}

/// Receives wallet events. Errors it returns are ignored: an event is a notice, not a request.
#[uniffi::export(with_foreign)]
pub trait WalletListener: Send + Sync {
    /// Called for each event, on the thread doing the work.
    fn on_event(&self, event: WalletEvent) -> Result<(), WalletError>;
}

/// One credential whose state changed in a refresh.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StateChange {
    /// The credential.
    pub credential_id: String,
    /// Its state before.
    pub previous: CredentialState,
    /// Its state now.
    pub current: CredentialState,
}

/// What a status refresh did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StatusRefreshReport {
    /// Credentials that carry a status reference and were checked.
    pub checked: u32,
    /// Credentials whose state changed.
    pub changed: Vec<StateChange>,
    /// Status lists that could not be used (URI and why); their credentials keep their state.
    pub failures: Vec<String>,
}

/// Where a stored credential's status is published: `Ok(None)` when it has no `status` at all,
/// an error when it has one that cannot be read (which is never taken as "no status").
fn reference_of(format: CredentialFormat, raw: &[u8]) -> Result<Option<StatusReference>, String> {
    match format {
        CredentialFormat::MsoMdoc => IssuerSigned::parse(raw)
            .and_then(|parsed| parsed.status_reference())
            .map_err(|e| e.to_string()),
        CredentialFormat::SdJwtVc => {
            let text = std::str::from_utf8(raw).map_err(|_| "the SD-JWT is not text".to_owned())?;
            SdJwt::parse_compact(text)
                .and_then(|sd| status_reference(&sd))
                .map_err(|e| e.to_string())
        }
    }
}

#[uniffi::export]
impl Wallet {
    /// Refreshes the status of every credential that has a status list reference: fetches each
    /// list once through `http`, verifies it against the wallet's `StatusListIssuer` anchors,
    /// and updates credential states (valid / suspended / revoked), raising
    /// `CredentialStateChanged` events. Lists that fail are reported; nothing else changes.
    pub async fn refresh_status(
        self: Arc<Self>,
        http: Arc<dyn HttpClient>,
    ) -> Result<StatusRefreshReport, WalletError> {
        self.require_unlocked()?;
        let now = self.now()?;
        let anchors: Vec<ParsedCertificate> = self
            .store
            .trust_anchors(Some(TrustRole::StatusListIssuer.code()))?
            .into_iter()
            .filter_map(|(_, _, der)| ParsedCertificate::from_der(&der).ok())
            .collect();
        let mut references = Vec::new();
        let mut failures = Vec::new();
        let mut offset = Some(0);
        while let Some(o) = offset {
            let page =
                self.list_credentials(CredentialFilter::default(), o, super::MAX_PAGE_SIZE)?;
            for summary in page.items {
                let credential = self.get_credential(summary.id.clone())?;
                // Every copy of a batch has its own entry in the issuer's lists.
                let mut raws = vec![credential.raw];
                if summary.copies.is_some() {
                    raws.extend(
                        self.store
                            .credential_copies(&summary.id)?
                            .into_iter()
                            .map(|c| c.raw),
                    );
                }
                let mut held = Vec::new();
                for raw in &raws {
                    match reference_of(summary.format, raw) {
                        Ok(Some(reference)) => held.push(reference),
                        Ok(None) => {}
                        Err(why) => failures.push(format!("credential {}: {why}", summary.id)),
                    }
                }
                if !held.is_empty() {
                    references.push((summary.id, summary.state, held));
                }
            }
            offset = page.next_offset;
        }
        let mut lists = HashMap::new();
        let mut failed_uris = HashSet::new();
        for reference in references.iter().flat_map(|(_, _, held)| held) {
            if lists.contains_key(&reference.uri) || failed_uris.contains(&reference.uri) {
                continue;
            }
            let cached = self.status_cache()?.fresh(&reference.uri, now).cloned();
            let list = match cached {
                Some(list) => Ok(list),
                None => match http.send(HttpRequest::get(&reference.uri)).await {
                    Err(e) => Err(e.in_callback("HttpClient.get").to_string()),
                    Ok(response) if response.status != 200 => {
                        Err(format!("HTTP {}", response.status))
                    }
                    Ok(response) => match verify_any(&response.body, &reference.uri, &anchors, now)
                    {
                        Ok(token) => {
                            let list = token.list.clone();
                            self.status_cache()?.insert(token, now);
                            Ok(list)
                        }
                        Err(e) => Err(e.to_string()),
                    },
                },
            };
            match list {
                Ok(list) => {
                    lists.insert(reference.uri.clone(), list);
                }
                Err(why) => {
                    failed_uris.insert(reference.uri.clone());
                    failures.push(format!("{}: {why}", reference.uri));
                }
            }
        }
        let mut changed = Vec::new();
        for (id, current, held) in &references {
            let mut statuses = Vec::new();
            let mut complete = true;
            for reference in held {
                let Some(list) = lists.get(&reference.uri) else {
                    complete = false;
                    continue;
                };
                match list.get(reference.index) {
                    Ok(status) => statuses.push(status),
                    Err(e) => {
                        failures.push(format!("{}: {e}", reference.uri));
                        complete = false;
                    }
                }
            }
            let next = current.after_statuses(&statuses, complete);
            if next != *current {
                self.update_credential_state(id.clone(), next)?;
                if let Some(listener) = &self.listener {
                    let _ = listener.on_event(WalletEvent::CredentialStateChanged {
                        credential_id: id.clone(),
                        previous: *current,
                        current: next,
                    });
                }
                self.local_notification(
                    format!("local:status:{id}:{now}"),
                    crate::inbox::notifications::NotificationCategory::General,
                    "자격증명 상태 변경".into(),
                    format!(
                        "발급기관이 자격증명의 상태를 바꾸었습니다: {}",
                        match next {
                            CredentialState::Revoked => "폐지",
                            CredentialState::Suspended => "정지",
                            CredentialState::Valid => "유효",
                            CredentialState::Expired => "만료",
                        }
                    ),
                    Some(id.clone()),
                )?;
                changed.push(StateChange {
                    credential_id: id.clone(),
                    previous: *current,
                    current: next,
                });
            }
        }
        Ok(StatusRefreshReport {
            checked: u32::try_from(references.len()).unwrap_or(u32::MAX),
            changed,
            failures,
        })
    }
}

/// A status list entry: an index and its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct StatusValue {
    /// Index in the list.
    pub index: u64,
    /// 0 valid, 1 revoked (invalid), 2 suspended, 3 and 0x0C-0x0F application-specific.
    pub status: u8,
}

/// What a verified status list token says.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StatusListContents {
    /// `sub`: the URI the list is published at.
    pub subject: String,
    /// Subject of the status list signer's certificate.
    pub signer: String,
    /// `iat`, Unix seconds.
    pub issued_at: i64,
    /// `exp`, Unix seconds.
    pub expires_at: Option<i64>,
    /// `ttl`, seconds.
    pub ttl: Option<i64>,
    /// Bits per entry (1, 2, 4 or 8).
    pub bits: u8,
    /// Entries in the list.
    pub size: u64,
    /// Every entry whose status is not VALID, in index order (at most `max_entries`).
    pub not_valid: Vec<StatusValue>,
    /// More entries are not valid than `max_entries` allowed to return.
    pub truncated: bool,
}

/// Verifies a status list token (JWT or CWT) fetched from `uri` — signed by a status list
/// signer under one of `status_list_certificates`, for `uri`, unexpired at `at_unix_seconds`
/// — and returns the whole list: its header claims and every entry that is not VALID (at most
/// `max_entries`). For testers and relying parties inspecting a list; nothing is stored.
#[uniffi::export]
pub fn decode_status_list(
    token: Vec<u8>,
    uri: String,
    status_list_certificates: Vec<Vec<u8>>,
    at_unix_seconds: i64,
    max_entries: u32,
) -> Result<StatusListContents, WalletError> {
    if status_list_certificates.is_empty() {
        return Err(WalletError::invalid(
            "give the status list signer's root certificate",
        ));
    }
    let anchors = super::e_certificates::parse_anchors(&status_list_certificates, "status list")?;
    let token = verify_any(&token, &uri, &anchors, at_unix_seconds).map_err(|e| {
        WalletError::Verification {
            failure: VerificationFailure::StatusUnavailable,
            detail: e.to_string(),
        }
    })?;
    let list = &token.list;
    let (entries, truncated) = list.not_valid(max_entries as usize);
    let not_valid = entries
        .into_iter()
        .map(|(index, status)| StatusValue { index, status })
        .collect();
    Ok(StatusListContents {
        subject: token.subject.clone(),
        signer: token.signer.clone(),
        issued_at: token.issued_at,
        expires_at: token.expires_at,
        ttl: token.ttl,
        bits: list.bits(),
        size: list.len(),
        not_valid,
        truncated,
    })
}

/// Status lists a relying party has loaded: verified on the way in, consulted on every
/// verification. Shared by `MdocReader` and `SdJwtVerifier`.
#[derive(Default)]
pub(super) struct VerifierStatuses(std::sync::Mutex<StatusCache>);

impl VerifierStatuses {
    pub(super) fn cache(&self) -> Result<std::sync::MutexGuard<'_, StatusCache>, WalletError> {
        self.0.lock().map_err(|_| WalletError::Internal {
            reason: "status cache poisoned".into(),
        })
    }

    /// Verifies a token fetched from `uri` against `anchors` at `at`, then keeps it.
    pub(super) fn load(
        &self,
        uri: &str,
        token: &[u8],
        anchors: &[ParsedCertificate],
        at: i64,
    ) -> Result<(), WalletError> {
        let verified =
            verify_any(token, uri, anchors, at).map_err(|e| WalletError::Verification {
                failure: VerificationFailure::StatusUnavailable,
                detail: e.to_string(),
            })?;
        self.cache()?.insert(verified, at);
        Ok(())
    }

    /// Fails when the credential's entry says revoked or suspended, or when no fresh list for
    /// it was loaded (a verifier that cannot tell must not accept).
    pub(super) fn check(&self, reference: &StatusReference, at: i64) -> Result<(), WalletError> {
        self.cache()?.check(reference, at).map_err(|e| {
            let failure = match e {
                StatusCheckError::Unavailable(_) => VerificationFailure::StatusUnavailable,
                StatusCheckError::Revoked => VerificationFailure::Revoked,
                StatusCheckError::Suspended => VerificationFailure::Suspended,
                StatusCheckError::NotValid(_) => VerificationFailure::StatusNotValid,
            };
            WalletError::Verification {
                failure,
                detail: e.to_string(),
            }
        })
    }
}
