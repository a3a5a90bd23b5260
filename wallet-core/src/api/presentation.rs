//! In-person presentation of mdocs (ISO/IEC 18013-5 device retrieval), holder side, and the
//! wallet's mdoc credentials and trust anchors. The host only moves bytes: it shows the QR
//! code, carries each message over BLE or NFC, and asks the citizen what to release.

use std::sync::{Arc, Mutex};

use super::disclosure::{
    fully_granted, release, Asked, DisclosureChannel, DisclosureDecision, DisclosureDocument,
    DisclosurePolicy, DisclosureRequest, ItemVerdict, Party, UserPrompt,
};
use super::host::CheckedSecureArea;
use super::records::{CredentialFilter, CredentialFormat, CredentialState, NewCredential};
use super::status::WalletEvent;
use super::wallet::check_alias;
use super::{Wallet, WalletError};
use crate::crypto::random;
use crate::mdoc::engagement::RetrievalMethod as DomainRetrievalMethod;
use crate::mdoc::holder::{build_document, DeviceAuthentication, Incoming, Presentment};
use crate::mdoc::issuer_signed::IssuerSigned;
use crate::mdoc::request::{requested_elements, verify_reader_auth, DeviceRequest};
use crate::mdoc::response::{DeviceResponse, ERROR_DATA_NOT_RETURNED, STATUS_OK};
use crate::mdoc::DeviceAuthMode;
use crate::trust::x509::{ParsedCertificate, TrustRole};

/// A stored trust anchor.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TrustAnchor {
    /// Identifier.
    pub id: String,
    /// What it is trusted for.
    pub role: TrustRole,
    /// Certificate subject.
    pub subject: String,
    /// notBefore, Unix seconds.
    pub not_before: i64,
    /// notAfter, Unix seconds.
    pub not_after: i64,
    /// The DER certificate.
    pub certificate: Vec<u8>,
}

/// A way the reader can reach this device, as the host offers it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum RetrievalMethod {
    /// BLE, with the service UUIDs (16 bytes) the host will advertise or scan for.
    Ble {
        /// UUID for mdoc peripheral server mode.
        peripheral_server_uuid: Option<Vec<u8>>,
        /// UUID for mdoc central client mode.
        central_client_uuid: Option<Vec<u8>>,
    },
    /// NFC, with the host's APDU data limits.
    Nfc {
        /// Maximum command data length.
        max_command_data: u64,
        /// Maximum response data length.
        max_response_data: u64,
    },
}

/// The engagement to show the reader.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Engagement {
    /// Text for the QR code (`mdoc:` + base64url).
    pub qr_uri: String,
    /// DeviceEngagement bytes (for NFC handover).
    pub device_engagement: Vec<u8>,
}

/// Who is asking, as far as readerAuth tells.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReaderInfo {
    /// Subject of the reader certificate.
    pub subject: String,
    /// The request is signed by a reader that chains to one of the wallet's reader anchors.
    pub trusted: bool,
    /// Why it is not trusted, when it is not.
    pub problem: Option<String>,
}

/// One requested element.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RequestedElement {
    /// Namespace.
    pub namespace: String,
    /// Element identifier.
    pub identifier: String,
    /// The reader says it will keep the value.
    pub intent_to_retain: bool,
    /// Some matching credential in the wallet holds it.
    pub available: bool,
}

/// One requested document.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RequestedDocument {
    /// Position in the request (use it in [`Approval`]).
    pub index: u32,
    /// Requested docType.
    pub doc_type: String,
    /// The requested elements.
    pub elements: Vec<RequestedElement>,
    /// The reader's identity, when the request is signed.
    pub reader: Option<ReaderInfo>,
    /// Ids of valid wallet credentials of this docType.
    pub matching_credentials: Vec<String>,
}

/// What the reader sent.
// Records cross the FFI by value: the larger variant is not boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PresentationEvent {
    /// A request: ask the citizen (show `disclosure`), then call `respond_to` (or `respond`),
    /// or let `answer` ask through a `UserPrompt`.
    Request {
        /// The requested documents.
        documents: Vec<RequestedDocument>,
        /// The consent step: who asks and the policy's verdict on every item.
        disclosure: DisclosureRequest,
    },
    /// The reader ended the session.
    Terminated,
}

/// An element to release.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ElementRef {
    /// Namespace.
    pub namespace: String,
    /// Element identifier.
    pub identifier: String,
}

/// The citizen's answer for one requested document.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Approval {
    /// `RequestedDocument.index`.
    pub document_index: u32,
    /// The credential to present.
    pub credential_id: String,
    /// The elements to release (a subset of those requested).
    pub elements: Vec<ElementRef>,
}

impl From<RetrievalMethod> for DomainRetrievalMethod {
    fn from(m: RetrievalMethod) -> Self {
        match m {
            RetrievalMethod::Ble {
                peripheral_server_uuid,
                central_client_uuid,
            } => DomainRetrievalMethod::Ble {
                peripheral_server_mode: peripheral_server_uuid.is_some(),
                central_client_mode: central_client_uuid.is_some(),
                peripheral_server_uuid,
                central_client_uuid,
            },
            RetrievalMethod::Nfc {
                max_command_data,
                max_response_data,
            } => DomainRetrievalMethod::Nfc {
                max_command_data,
                max_response_data,
            },
        }
    }
}

/// Korean and English names of a credential type (the type itself when the wallet does not
/// know it).
pub(super) fn display_names(doc_type: &str) -> (String, String) {
    crate::documents::known_names(doc_type).map_or_else(
        || (doc_type.to_owned(), doc_type.to_owned()),
        |(ko, en)| (ko.to_owned(), en.to_owned()),
    )
}

#[uniffi::export]
impl Wallet {
    /// Stores an issued mdoc (encoded IssuerSigned) bound to the device key `key_alias`. The
    /// issuerAuth signature must verify with its document signer certificate and every item must
    /// match its MSO digest (else `Verification` with `IssuerSignature`, `DigestMismatch` or
    /// `UnknownDigestId`); the MSO's device key must be that key. The bytes are stored exactly
    /// as given.
    pub fn add_mdoc(
        &self,
        issuer_signed: Vec<u8>,
        key_alias: String,
    ) -> Result<String, WalletError> {
        self.require_unlocked()?;
        check_alias(&key_alias)?;
        let parsed = IssuerSigned::parse(&issuer_signed)?;
        // Nothing altered or unsigned is stored: the issuer's signature and every digest hold.
        let (signer, mso) = crate::verifier::mdoc::check_issuer_signed(&parsed)?;
        let device_key = CheckedSecureArea(&*self.secure_area).public_key(&key_alias)?;
        if device_key != mso.device_key {
            return Err(WalletError::invalid(
                "the mdoc is bound to a different device key than key_alias",
            ));
        }
        let issuer = signer.subject();
        let (display_name_ko, display_name_en) = display_names(&mso.doc_type);
        self.store_credential(NewCredential {
            format: CredentialFormat::MsoMdoc,
            doc_type: mso.doc_type.clone(),
            issuer,
            display_name_ko,
            display_name_en,
            valid_from: Some(mso.validity.valid_from),
            valid_until: Some(mso.validity.valid_until),
            key_alias: Some(key_alias),
            raw: issuer_signed,
        })
    }

    /// Adds a trust anchor (a CA certificate, DER) for `role`.
    pub fn add_trust_anchor(
        &self,
        role: TrustRole,
        certificate: Vec<u8>,
    ) -> Result<TrustAnchor, WalletError> {
        self.require_unlocked()?;
        let parsed = ParsedCertificate::from_der(&certificate)
            .map_err(|e| WalletError::invalid(e.to_string()))?;
        parsed
            .check_anchor_profile(role)
            .map_err(|e| WalletError::invalid(e.to_string()))?;
        let id = random::identifier()?;
        self.store
            .insert_trust_anchor(&id, role.code(), &certificate)?;
        anchor_record(id, role, certificate)
    }

    /// The trust anchors of `role`, or all.
    pub fn list_trust_anchors(
        &self,
        role: Option<TrustRole>,
    ) -> Result<Vec<TrustAnchor>, WalletError> {
        self.require_unlocked()?;
        self.store
            .trust_anchors(role.map(TrustRole::code))?
            .into_iter()
            .map(|(id, code, der)| {
                let role = TrustRole::from_code(code).ok_or_else(|| WalletError::StoreCorrupt {
                    reason: format!("unknown trust role {code}"),
                })?;
                anchor_record(id, role, der)
            })
            .collect()
    }

    /// Removes a trust anchor.
    pub fn delete_trust_anchor(&self, id: String) -> Result<(), WalletError> {
        self.require_unlocked()?;
        if self.store.delete_trust_anchor(&id)? {
            Ok(())
        } else {
            Err(WalletError::not_found(format!("trust anchor {id}")))
        }
    }

    /// Starts an in-person presentation: a fresh ephemeral key and the engagement to show.
    pub fn start_presentation(
        self: Arc<Self>,
        retrieval_methods: Vec<RetrievalMethod>,
        device_auth: DeviceAuthMode,
    ) -> Result<Arc<PresentationSession>, WalletError> {
        self.require_unlocked()?;
        let presentment =
            Presentment::new(retrieval_methods.into_iter().map(Into::into).collect())?;
        Ok(Arc::new(PresentationSession {
            wallet: self,
            state: Mutex::new(HolderState {
                presentment,
                pending: None,
                device_auth,
                failure: None,
                deadline: None,
            }),
        }))
    }
}

fn anchor_record(
    id: String,
    role: TrustRole,
    certificate: Vec<u8>,
) -> Result<TrustAnchor, WalletError> {
    let parsed =
        ParsedCertificate::from_der(&certificate).map_err(|e| WalletError::StoreCorrupt {
            reason: e.to_string(),
        })?;
    let (not_before, not_after) = parsed.validity();
    Ok(TrustAnchor {
        id,
        role,
        subject: parsed.subject(),
        not_before,
        not_after,
        certificate,
    })
}

struct HolderState {
    presentment: Presentment,
    pending: Option<Pending>,
    device_auth: DeviceAuthMode,
    /// The status message to send after a reader's message failed, until taken.
    failure: Option<Vec<u8>>,
    /// When the session must be over (the wallet clock's Unix seconds), if the host set it.
    deadline: Option<i64>,
}

/// A request waiting for the citizen.
#[derive(Clone)]
struct Pending {
    request: DeviceRequest,
    party: Party,
    disclosure: DisclosureRequest,
    /// The credentials offered for the request, read and parsed once when it came in, so
    /// that the answer does not read or parse them again.
    /// Shared, not copied, by the answer: a credential can carry a large portrait.
    held: Vec<(Arc<super::Credential>, Arc<IssuerSigned>)>,
}

/// A presentation in progress. Feed it the reader's messages with [`PresentationSession::receive`]
/// and send back what [`PresentationSession::respond`] returns.
#[derive(uniffi::Object)]
pub struct PresentationSession {
    wallet: Arc<Wallet>,
    state: Mutex<HolderState>,
}

impl PresentationSession {
    /// Fixes how the engagement reached the reader (before its first message): `make` gets
    /// the DeviceEngagement bytes and returns the handover for the transcript and a value.
    pub(super) fn with_handover<T>(
        &self,
        make: impl FnOnce(&[u8]) -> Result<(crate::mdoc::session::Handover, T), WalletError>,
    ) -> Result<T, WalletError> {
        self.wallet.require_unlocked()?;
        let mut state = self.state()?;
        let (handover, value) = make(&state.presentment.engagement().bytes)?;
        state.presentment.set_handover(handover)?;
        Ok(value)
    }

    fn state(&self) -> Result<std::sync::MutexGuard<'_, HolderState>, WalletError> {
        self.state.lock().map_err(|_| WalletError::Internal {
            reason: "presentation state poisoned".into(),
        })
    }

    /// The relying party of a request: authenticated only when every document request is
    /// signed by the same reader certificate, chaining to a reader anchor.
    fn party(
        &self,
        request: &DeviceRequest,
        transcript: &crate::mdoc::session::SessionTranscript,
        policy: &DisclosurePolicy,
    ) -> Result<(Party, Vec<Option<ReaderInfo>>), WalletError> {
        let anchors = self.wallet.anchors(TrustRole::MdocReader)?;
        let now = self.wallet.now()?;
        let verdicts: Vec<_> = request
            .doc_requests
            .iter()
            .map(|doc| verify_reader_auth(doc, transcript, &anchors, now))
            .collect();
        let infos = verdicts
            .iter()
            .map(|v| {
                v.as_ref().map(|v| ReaderInfo {
                    subject: v.subject.clone(),
                    trusted: v.trusted,
                    problem: v.problem.clone(),
                })
            })
            .collect();
        Ok((party_of_readers(&verdicts, policy), infos))
    }
}

impl PresentationSession {
    /// Ends the session when the host's time limit has passed: the pending request (if any)
    /// is dropped and recorded as declined, the termination (status 20) waits in
    /// `failure_message`, and the caller gets a timeout.
    fn check_deadline(&self, state: &mut HolderState) -> Result<(), WalletError> {
        let Some(deadline) = state.deadline else {
            return Ok(());
        };
        if self.wallet.now()? <= deadline {
            return Ok(());
        }
        state.deadline = None;
        if !state.presentment.is_terminated() {
            state.failure = Some(state.presentment.terminate());
        }
        if let Some(pending) = state.pending.take() {
            self.wallet.record(
                crate::journal::JournalKind::PresentationDeclined,
                serde_json::json!({
                    "channel": "in_person",
                    "relying_party": pending.party.record_json(),
                    "reason": "the session's time limit passed",
                }),
            )?;
        }
        Err(WalletError::Timeout {
            what: "the end of the session (its time limit passed; send failure_message)".into(),
        })
    }

    /// Answers the pending request: `approvals` name the citizen's elements; the policy's
    /// verdicts for the chosen credential decide what actually leaves.
    fn answer_with(
        &self,
        approvals: Vec<Approval>,
        remember_days: u32,
    ) -> Result<Vec<u8>, WalletError> {
        self.wallet.require_unlocked()?;
        let mut state = self.state()?;
        self.check_deadline(&mut state)?;
        let pending = state
            .pending
            .take()
            .ok_or_else(|| WalletError::invalid("there is no request to answer"))?;
        let result = self.build_response(&mut state, &pending, &approvals, remember_days);
        if result.is_err() && !state.presentment.is_terminated() {
            // A bad answer leaves the request to be answered again.
            state.pending = Some(pending);
        }
        result
    }

    fn build_response(
        &self,
        state: &mut HolderState,
        pending: &Pending,
        approvals: &[Approval],
        remember_days: u32,
    ) -> Result<Vec<u8>, WalletError> {
        let request = &pending.request;
        let transcript =
            state
                .presentment
                .transcript()
                .cloned()
                .ok_or_else(|| WalletError::Internal {
                    reason: "no transcript".into(),
                })?;
        for approval in approvals {
            if usize::try_from(approval.document_index)
                .map_or(true, |i| i >= request.doc_requests.len())
            {
                return Err(WalletError::invalid(format!(
                    "no requested document {}",
                    approval.document_index
                )));
            }
        }
        let policy = self.wallet.policy()?;
        // Every answer is checked before any copy of a batch is spent on it.
        let mut plan = Vec::new();
        let mut document_errors = Vec::new();
        for (index, doc) in request.doc_requests.iter().enumerate() {
            let doc_type = &doc.items_request.doc_type;
            let Some(approval) = approvals
                .iter()
                .find(|a| a.document_index as usize == index)
            else {
                document_errors.push((doc_type.clone(), ERROR_DATA_NOT_RETURNED));
                continue;
            };
            let (credential, held) = match pending
                .held
                .iter()
                .find(|(c, _)| c.summary.id == approval.credential_id)
            {
                Some((credential, held)) => (Arc::clone(credential), Arc::clone(held)),
                None => {
                    let credential = self.wallet.get_credential(approval.credential_id.clone())?;
                    let held = Arc::new(IssuerSigned::parse(&credential.raw)?);
                    (Arc::new(credential), held)
                }
            };
            if credential.summary.format != CredentialFormat::MsoMdoc
                || &credential.summary.doc_type != doc_type
            {
                return Err(WalletError::invalid(format!(
                    "credential {} is not a {doc_type}",
                    approval.credential_id
                )));
            }
            let items = self.wallet.decide(
                &policy,
                &pending.party,
                doc_type,
                asked_items(doc, Some(&held)),
            )?;
            let named: Vec<String> = approval
                .elements
                .iter()
                .map(|e| format!("{}/{}", e.namespace, e.identifier))
                .collect();
            let released = release(&items, Some(&named))?;
            plan.push((doc, credential, held, released));
        }
        let mut documents = Vec::new();
        let mut recorded = Vec::new();
        let mut remembered = Vec::new();
        let area = CheckedSecureArea(&*self.wallet.secure_area);
        for (doc, credential, held, released) in &plan {
            let doc_type = &doc.items_request.doc_type;
            let requested = requested_elements(&doc.items_request);
            let approved: Vec<(String, String)> = released
                .released
                .iter()
                .filter_map(|p| split_path(p))
                .collect();
            let (raw, alias) = self.wallet.presentation_copy(credential)?;
            // A batch gives a copy of its own, parsed here; a single credential is the one
            // already parsed.
            let stored = if raw == credential.raw {
                held.clone()
            } else {
                Arc::new(IssuerSigned::parse(&raw)?)
            };
            let device_key = stored.held_mso()?.device_key.clone();
            let document = match state.device_auth {
                DeviceAuthMode::Signature => {
                    let mut sign = |tbs: &[u8]| area.sign(&alias, &device_key, tbs);
                    build_document(
                        &stored,
                        &requested,
                        &approved,
                        &transcript,
                        DeviceAuthentication::Signature(&mut sign),
                    )?
                }
                DeviceAuthMode::Mac => {
                    let mut agree = |peer: &[u8]| area.key_agreement(&alias, peer);
                    build_document(
                        &stored,
                        &requested,
                        &approved,
                        &transcript,
                        DeviceAuthentication::Mac(&mut agree),
                    )?
                }
            };
            documents.push(document);
            recorded.push(released.record_json_with(&[
                ("credential_id", credential.summary.id.clone().into()),
                ("doc_type", doc_type.clone().into()),
            ]));
            if remember_days > 0 {
                if let Some(grant) = self.wallet.remember(
                    &pending.party,
                    doc_type,
                    &released.released,
                    remember_days,
                )? {
                    remembered.push(grant);
                }
            }
        }
        // Recorded before the answer is sealed for the reader: no presentation without its
        // record.
        self.wallet.record(
            crate::journal::JournalKind::Presentation,
            serde_json::json!({
                "channel": "in_person",
                "relying_party": pending.party.record_json(),
                "documents": recorded,
                "not_returned": document_errors.iter().map(|(d, _)| d).collect::<Vec<_>>(),
                "grants_made": remembered,
            }),
        )?;
        let response = DeviceResponse::encode_values(documents, &document_errors, STATUS_OK);
        Ok(state.presentment.respond(&response)?)
    }

    /// Ends the session after the citizen could not be asked (the prompt failed or timed
    /// out): the termination message, recorded.
    fn abandon(&self, why: &str) -> Result<Vec<u8>, WalletError> {
        let mut state = self.state()?;
        let pending = state.pending.take();
        let message = state.presentment.terminate();
        if let Some(pending) = pending {
            self.wallet.record(
                crate::journal::JournalKind::PresentationDeclined,
                serde_json::json!({
                    "channel": "in_person",
                    "relying_party": pending.party.record_json(),
                    "reason": why,
                }),
            )?;
        }
        Ok(message)
    }

    fn pending_disclosure(&self) -> Result<(DisclosureRequest, Party), WalletError> {
        let state = self.state()?;
        let pending = state
            .pending
            .as_ref()
            .ok_or_else(|| WalletError::invalid("there is no request to answer"))?;
        Ok((pending.disclosure.clone(), pending.party.clone()))
    }
}

#[uniffi::export]
impl PresentationSession {
    /// Runs the consent step for the pending request and returns the message to send the
    /// reader. When remembered grants cover everything that could go, the citizen is not
    /// asked (a `GrantUsed` event says so); otherwise `prompt` asks (a `ConsentStepWaiting`
    /// event first). A decision is answered as by `respond_to`; a refusal sends a response
    /// with no document and ends the session; a prompt that fails or does not answer within
    /// `timeout_seconds` (0: no limit) ends the session (status 20) and is then an error
    /// (`HostCallback`, or `Timeout`).
    pub async fn answer(
        &self,
        prompt: Arc<dyn UserPrompt>,
        timeout_seconds: u32,
    ) -> Result<Vec<u8>, WalletError> {
        self.wallet.require_unlocked()?;
        let (disclosure, party) = self.pending_disclosure()?;
        if fully_granted(&disclosure.documents) {
            let approvals = granted_approvals(&disclosure);
            let message = self.answer_with(approvals, 0)?;
            for grant in granted_ids(&disclosure) {
                self.wallet.notify(WalletEvent::GrantUsed {
                    grant_id: grant,
                    relying_party: party.identity.name.clone().unwrap_or_default(),
                });
            }
            return Ok(message);
        }
        self.wallet.notify(WalletEvent::ConsentStepWaiting {
            channel: DisclosureChannel::InPerson,
            relying_party: shown_name(&party),
        });
        match ask(prompt, disclosure, timeout_seconds).await {
            Ok(Some(decision)) => self.respond_to(decision),
            Ok(None) => self.decline(),
            Err(e) => {
                self.abandon(&e.to_string())?;
                Err(e)
            }
        }
    }
}

/// Asks `prompt`, within `timeout_seconds` (0: no limit).
pub(super) async fn ask(
    prompt: Arc<dyn UserPrompt>,
    request: DisclosureRequest,
    timeout_seconds: u32,
) -> Result<Option<DisclosureDecision>, WalletError> {
    let asked = prompt.ask(request);
    let answer = if timeout_seconds == 0 {
        asked.await
    } else {
        super::tasks::within(
            std::time::Duration::from_secs(u64::from(timeout_seconds)),
            asked,
        )
        .await
        .map_err(|_| WalletError::Timeout {
            what: format!("the citizen's decision ({timeout_seconds} s)"),
        })?
    };
    answer.map_err(|e| e.in_callback("UserPrompt.ask"))
}

/// Who asks, in an event: the verified subject, else the client id, else "unverified".
pub(super) fn shown_name(party: &Party) -> String {
    party
        .identity
        .name
        .clone()
        .or_else(|| {
            party
                .identity
                .client_id
                .as_ref()
                .map(|c| format!("{c} (unverified)"))
        })
        .unwrap_or_else(|| "unverified".into())
}

/// The approvals that grants alone give: each document's granted items, first credential.
fn granted_approvals(disclosure: &DisclosureRequest) -> Vec<Approval> {
    disclosure
        .documents
        .iter()
        .filter_map(|d| {
            let credential_id = d.credential_ids.first()?.clone();
            let elements: Vec<ElementRef> = d
                .items
                .iter()
                .filter(|i| matches!(i.verdict, ItemVerdict::Granted { .. }))
                .filter_map(|i| split_path(&i.path))
                .map(|(namespace, identifier)| ElementRef {
                    namespace,
                    identifier,
                })
                .collect();
            (!elements.is_empty()).then_some(Approval {
                document_index: d.id.parse().ok()?,
                credential_id,
                elements,
            })
        })
        .collect()
}

/// The grants a disclosure request uses.
pub(super) fn granted_ids(disclosure: &DisclosureRequest) -> Vec<String> {
    let mut ids: Vec<String> = disclosure
        .documents
        .iter()
        .flat_map(|d| d.items.iter())
        .filter_map(|i| match &i.verdict {
            ItemVerdict::Granted { grant_id } => Some(grant_id.clone()),
            _ => None,
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The relying party behind reader verdicts (one per document request).
pub(super) fn party_of_readers(
    verdicts: &[Option<crate::mdoc::request::ReaderVerdict>],
    policy: &DisclosurePolicy,
) -> Party {
    let first = verdicts.iter().flatten().next();
    let same_reader = verdicts.iter().all(|v| {
        v.as_ref()
            .is_some_and(|v| v.trusted && first.is_some_and(|f| f.key_sha256 == v.key_sha256))
    });
    match first {
        Some(v) if same_reader && !verdicts.is_empty() => Party::authenticated(
            policy,
            v.subject.clone(),
            v.policies.clone(),
            format!(
                "reader:{}:{}",
                v.subject,
                crate::crypto::jose::b64url(&v.key_sha256.unwrap_or_default())
            ),
            None,
        ),
        Some(v) if !v.trusted => Party::unauthenticated(
            v.problem
                .clone()
                .unwrap_or_else(|| "the reader is not trusted".into()),
            None,
        ),
        Some(_) => Party::unauthenticated(
            "the document requests are not all signed by the same trusted reader".into(),
            None,
        ),
        None => Party::unauthenticated("the request is not signed".into(), None),
    }
}

/// A text entry of an ItemsRequest's `requestInfo`.
fn request_info_text(info: Option<&crate::cose::cbor::Value>, key: &str) -> Option<String> {
    let entries = crate::cose::cbor::map(info?, "requestInfo").ok()?;
    match crate::cose::cbor::get(entries, key)? {
        crate::cose::cbor::Value::Text(t) if t.len() <= super::MAX_TEXT_BYTES => Some(t.clone()),
        _ => None,
    }
}

/// The requested items of one document request with the verdicts for `stored`.
fn asked_items(
    doc: &crate::mdoc::request::DocRequest,
    stored: Option<&IssuerSigned>,
) -> Vec<Asked> {
    doc.items_request
        .namespaces
        .iter()
        .flat_map(|(ns, elements)| {
            elements.iter().map(move |(e, retain)| Asked {
                path: format!("{ns}/{e}"),
                held: stored.is_some_and(|s| s.item(ns, e).is_some()),
                intent_to_retain: *retain,
                labels: crate::documents::element_label(ns, e)
                    .map_or((None, None), |(ko, en)| (Some(ko), Some(en))),
            })
        })
        .collect()
}

fn split_path(path: &str) -> Option<(String, String)> {
    let (ns, element) = path.rsplit_once('/')?;
    Some((ns.to_owned(), element.to_owned()))
}

#[uniffi::export]
impl PresentationSession {
    /// The engagement to show as a QR code (or hand over by NFC).
    pub fn engagement(&self) -> Result<Engagement, WalletError> {
        let state = self.state()?;
        let engagement = state.presentment.engagement();
        Ok(Engagement {
            qr_uri: engagement.qr_uri(),
            device_engagement: engagement.bytes.clone(),
        })
    }

    /// Sets how long, from now, the session may last (the host's choice, by its link and its
    /// screen). Once it has passed, the next `receive` or answer ends the session: the pending
    /// request is recorded as declined, the call fails with a timeout, and `failure_message`
    /// holds the termination (status 20) to send before closing the link.
    pub fn set_time_limit(&self, seconds: u32) -> Result<(), WalletError> {
        let deadline = self.wallet.now()?.saturating_add(i64::from(seconds));
        let mut state = self.state()?;
        if state.presentment.is_terminated() {
            return Err(WalletError::invalid("the session is over"));
        }
        state.deadline = Some(deadline);
        Ok(())
    }

    /// After `receive` failed on a message that did not decrypt, came out of order or did not
    /// decode (status 10 or 11), or after the time limit passed (status 20): the SessionData
    /// for the reader, once. The session is then over; send it and close the link.
    pub fn failure_message(&self) -> Result<Option<Vec<u8>>, WalletError> {
        Ok(self.state()?.failure.take())
    }

    /// Processes a message from the reader (SessionEstablishment, then SessionData). When it
    /// fails on the message itself, the session ends and `failure_message` holds the status
    /// to send.
    pub fn receive(&self, message: Vec<u8>) -> Result<PresentationEvent, WalletError> {
        self.wallet.require_unlocked()?;
        let mut state = self.state()?;
        self.check_deadline(&mut state)?;
        let incoming = match state.presentment.receive(&message) {
            Ok(incoming) => incoming,
            Err(e) => {
                // A damaged, replayed or undecodable message ends the session with the status
                // the reader must get; nothing stays half open.
                if let Some(status) = crate::mdoc::holder::status_for(&e) {
                    if !state.presentment.is_terminated() {
                        state.failure = Some(state.presentment.fail(status));
                        state.pending = None;
                    }
                }
                return Err(e.into());
            }
        };
        let request = match incoming {
            Incoming::Terminated => {
                state.pending = None;
                return Ok(PresentationEvent::Terminated);
            }
            Incoming::Request(request) => request,
        };
        let transcript =
            state
                .presentment
                .transcript()
                .cloned()
                .ok_or_else(|| WalletError::Internal {
                    reason: "no transcript after a request".into(),
                })?;
        let policy = self.wallet.policy()?;
        let (party, readers) = self.party(&request, &transcript, &policy)?;
        let mut documents = Vec::with_capacity(request.doc_requests.len());
        let mut disclosed = Vec::with_capacity(request.doc_requests.len());
        let mut offered = Vec::new();
        for ((index, doc), reader) in request.doc_requests.iter().enumerate().zip(readers) {
            let doc_type = doc.items_request.doc_type.clone();
            let matches = self.wallet.list_credentials(
                CredentialFilter {
                    format: Some(CredentialFormat::MsoMdoc),
                    doc_type: Some(doc_type.clone()),
                    issuer: None,
                    state: Some(CredentialState::Valid),
                },
                0,
                super::MAX_PAGE_SIZE,
            )?;
            let mut held = Vec::new();
            for summary in &matches.items {
                let credential = self.wallet.get_credential(summary.id.clone())?;
                if let Ok(parsed) = IssuerSigned::parse(&credential.raw) {
                    held.push((Arc::new(credential), Arc::new(parsed)));
                }
            }
            let elements = doc
                .items_request
                .namespaces
                .iter()
                .flat_map(|(ns, elements)| {
                    elements
                        .iter()
                        .map(move |(identifier, retain)| (ns.clone(), identifier.clone(), *retain))
                })
                .map(
                    |(namespace, identifier, intent_to_retain)| RequestedElement {
                        available: held
                            .iter()
                            .any(|(_, h)| h.item(&namespace, &identifier).is_some()),
                        namespace,
                        identifier,
                        intent_to_retain,
                    },
                )
                .collect();
            let index =
                u32::try_from(index).map_err(|_| WalletError::invalid("too many documents"))?;
            let (display_name_ko, display_name_en) = display_names(&doc_type);
            disclosed.push(DisclosureDocument {
                id: index.to_string(),
                doc_type: doc_type.clone(),
                display_name_ko,
                display_name_en,
                required: true,
                credential_ids: held.iter().map(|(c, _)| c.summary.id.clone()).collect(),
                items: self.wallet.decide(
                    &policy,
                    &party,
                    &doc_type,
                    asked_items(doc, held.first().map(|(_, h)| &**h)),
                )?,
            });
            documents.push(RequestedDocument {
                index,
                doc_type,
                elements,
                reader,
                matching_credentials: matches.items.into_iter().map(|c| c.id).collect(),
            });
            offered.extend(held);
        }
        let first_info = request
            .doc_requests
            .first()
            .map(|d| &d.items_request.request_info);
        let disclosure = DisclosureRequest {
            channel: DisclosureChannel::InPerson,
            relying_party: party.identity.clone(),
            origin: None,
            purpose: first_info.and_then(|i| request_info_text(i.as_ref(), "purpose")),
            stated_legal_basis: first_info
                .and_then(|i| request_info_text(i.as_ref(), "legal_basis")),
            documents: disclosed,
        };
        state.pending = Some(Pending {
            request,
            party,
            disclosure: disclosure.clone(),
            held: offered,
        });
        Ok(PresentationEvent::Request {
            documents,
            disclosure,
        })
    }

    /// Answers the pending request with what the citizen approved and returns the encrypted
    /// message to send. The named elements are the citizen's approval; the disclosure policy
    /// still withholds what it does not release to this reader (listed as not returned, and
    /// recorded with the reason). Requested documents without an approval are reported as
    /// not returned.
    pub fn respond(&self, approvals: Vec<Approval>) -> Result<Vec<u8>, WalletError> {
        self.answer_with(approvals, 0)
    }

    /// Answers the pending request with the citizen's decision on its `DisclosureRequest`
    /// (documents named by index), remembering it when asked; returns the message to send.
    pub fn respond_to(&self, decision: DisclosureDecision) -> Result<Vec<u8>, WalletError> {
        let approvals = decision
            .approved
            .iter()
            .map(|a| {
                let index = a
                    .id
                    .parse::<u32>()
                    .map_err(|_| WalletError::invalid(format!("no requested document {}", a.id)))?;
                let elements = a
                    .items
                    .iter()
                    .map(|p| {
                        split_path(p)
                            .map(|(namespace, identifier)| ElementRef {
                                namespace,
                                identifier,
                            })
                            .ok_or_else(|| WalletError::invalid(format!("{p} was not requested")))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Approval {
                    document_index: index,
                    credential_id: a.credential_id.clone(),
                    elements,
                })
            })
            .collect::<Result<Vec<_>, WalletError>>()?;
        self.answer_with(approvals, decision.remember_days)
    }

    /// Declines the pending request: a response that returns no document, ending the session
    /// (status 20). Recorded.
    pub fn decline(&self) -> Result<Vec<u8>, WalletError> {
        let mut state = self.state()?;
        let pending = state
            .pending
            .take()
            .ok_or_else(|| WalletError::invalid("there is no request to answer"))?;
        let errors: Vec<(String, i64)> = pending
            .request
            .doc_requests
            .iter()
            .map(|d| (d.items_request.doc_type.clone(), ERROR_DATA_NOT_RETURNED))
            .collect();
        let response = DeviceResponse::encode_values(Vec::new(), &errors, STATUS_OK);
        let message = state.presentment.respond_and_end(&response)?;
        self.wallet.record(
            crate::journal::JournalKind::PresentationDeclined,
            serde_json::json!({
                "channel": "in_person",
                "relying_party": pending.party.record_json(),
                "reason": "declined by the citizen",
            }),
        )?;
        Ok(message)
    }

    /// Ends the session; returns the termination message to send.
    pub fn terminate(&self) -> Result<Vec<u8>, WalletError> {
        let mut state = self.state()?;
        state.pending = None;
        Ok(state.presentment.terminate())
    }
}
