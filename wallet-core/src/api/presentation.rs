//! In-person presentation of mdocs (ISO/IEC 18013-5 device retrieval), holder side, and the
//! wallet's mdoc credentials and trust anchors. The host only moves bytes: it shows the QR
//! code, carries each message over BLE or NFC, and asks the citizen what to release.

use std::sync::{Arc, Mutex};

use super::host::CheckedSecureArea;
use super::records::{CredentialFilter, CredentialFormat, CredentialState, NewCredential};
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
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PresentationEvent {
    /// A request: ask the citizen, then call `respond`.
    Request {
        /// The requested documents.
        documents: Vec<RequestedDocument>,
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
    pending: Option<DeviceRequest>,
    device_auth: DeviceAuthMode,
}

/// A presentation in progress. Feed it the reader's messages with [`PresentationSession::receive`]
/// and send back what [`PresentationSession::respond`] returns.
#[derive(uniffi::Object)]
pub struct PresentationSession {
    wallet: Arc<Wallet>,
    state: Mutex<HolderState>,
}

impl PresentationSession {
    fn state(&self) -> Result<std::sync::MutexGuard<'_, HolderState>, WalletError> {
        self.state.lock().map_err(|_| WalletError::Internal {
            reason: "presentation state poisoned".into(),
        })
    }

    fn reader_info(
        &self,
        doc: &crate::mdoc::request::DocRequest,
        transcript: &crate::mdoc::session::SessionTranscript,
    ) -> Result<Option<ReaderInfo>, WalletError> {
        if doc.reader_auth.is_none() {
            return Ok(None);
        }
        let anchors = self.wallet.anchors(TrustRole::MdocReader)?;
        Ok(
            verify_reader_auth(doc, transcript, &anchors, self.wallet.now()?).map(|v| ReaderInfo {
                subject: v.subject,
                trusted: v.trusted,
                problem: v.problem,
            }),
        )
    }
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

    /// Processes a message from the reader (SessionEstablishment, then SessionData).
    pub fn receive(&self, message: Vec<u8>) -> Result<PresentationEvent, WalletError> {
        self.wallet.require_unlocked()?;
        let mut state = self.state()?;
        let request = match state.presentment.receive(&message)? {
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
        let mut documents = Vec::with_capacity(request.doc_requests.len());
        for (index, doc) in request.doc_requests.iter().enumerate() {
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
                    held.push(parsed);
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
                            .any(|h| h.item(&namespace, &identifier).is_some()),
                        namespace,
                        identifier,
                        intent_to_retain,
                    },
                )
                .collect();
            documents.push(RequestedDocument {
                index: u32::try_from(index)
                    .map_err(|_| WalletError::invalid("too many documents"))?,
                doc_type,
                elements,
                reader: self.reader_info(doc, &transcript)?,
                matching_credentials: matches.items.into_iter().map(|c| c.id).collect(),
            });
        }
        state.pending = Some(request);
        Ok(PresentationEvent::Request { documents })
    }

    /// Answers the pending request with what the citizen approved and returns the encrypted
    /// message to send. Only approved elements leave the device; requested documents without an
    /// approval are reported as not returned.
    pub fn respond(&self, approvals: Vec<Approval>) -> Result<Vec<u8>, WalletError> {
        self.wallet.require_unlocked()?;
        let mut state = self.state()?;
        let request = state
            .pending
            .take()
            .ok_or_else(|| WalletError::invalid("there is no request to answer"))?;
        let transcript =
            state
                .presentment
                .transcript()
                .cloned()
                .ok_or_else(|| WalletError::Internal {
                    reason: "no transcript".into(),
                })?;
        for approval in &approvals {
            if usize::try_from(approval.document_index)
                .map_or(true, |i| i >= request.doc_requests.len())
            {
                state.pending = Some(request);
                return Err(WalletError::invalid(format!(
                    "no requested document {}",
                    approval.document_index
                )));
            }
        }
        let mut documents = Vec::new();
        let mut document_errors = Vec::new();
        let mut recorded = Vec::new();
        let area = CheckedSecureArea(&*self.wallet.secure_area);
        for (index, doc) in request.doc_requests.iter().enumerate() {
            let doc_type = &doc.items_request.doc_type;
            let Some(approval) = approvals
                .iter()
                .find(|a| a.document_index as usize == index)
            else {
                document_errors.push((doc_type.clone(), ERROR_DATA_NOT_RETURNED));
                continue;
            };
            let requested = requested_elements(&doc.items_request);
            let approved: Vec<(String, String)> = approval
                .elements
                .iter()
                .map(|e| (e.namespace.clone(), e.identifier.clone()))
                .collect();
            if let Some(extra) = approved.iter().find(|a| !requested.contains(a)) {
                state.pending = Some(request.clone());
                return Err(WalletError::invalid(format!(
                    "{}/{} was not requested",
                    extra.0, extra.1
                )));
            }
            let credential = self.wallet.get_credential(approval.credential_id.clone())?;
            if credential.summary.format != CredentialFormat::MsoMdoc
                || &credential.summary.doc_type != doc_type
            {
                state.pending = Some(request.clone());
                return Err(WalletError::invalid(format!(
                    "credential {} is not a {doc_type}",
                    approval.credential_id
                )));
            }
            let (raw, alias) = self.wallet.presentation_copy(&credential)?;
            let stored = IssuerSigned::parse(&raw)?;
            let device_key = stored.mso()?.device_key;
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
            let reader = self.reader_info(doc, &transcript)?;
            recorded.push(serde_json::json!({
                "credential_id": approval.credential_id,
                "doc_type": doc_type,
                "relying_party": reader.as_ref().map(|r| serde_json::json!({
                    "subject": r.subject, "verified": r.trusted,
                })),
                "released": approved.iter().map(|(n, e)| format!("{n}/{e}")).collect::<Vec<_>>(),
                "withheld": requested
                    .iter()
                    .filter(|r| !approved.contains(r))
                    .map(|(n, e)| serde_json::json!({"item": format!("{n}/{e}"), "reason": "refused by the citizen"}))
                    .collect::<Vec<_>>(),
            }));
        }
        let response = DeviceResponse::encode_values(documents, &document_errors, STATUS_OK);
        let message = state.presentment.respond(&response)?;
        let relying_party = recorded
            .iter()
            .find_map(|d| d.get("relying_party").filter(|r| !r.is_null()).cloned())
            .unwrap_or(serde_json::Value::Null);
        self.wallet.record(
            crate::journal::JournalKind::Presentation,
            serde_json::json!({
                "channel": "in_person",
                "relying_party": relying_party,
                "documents": recorded,
                "not_returned": document_errors.iter().map(|(d, _)| d).collect::<Vec<_>>(),
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
