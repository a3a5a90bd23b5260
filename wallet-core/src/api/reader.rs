//! The mdoc reader for relying parties (ISO/IEC 18013-5 device retrieval, reader side): scan
//! the holder's QR code, send a signed request, verify the response against trusted issuing
//! authorities. The host moves the bytes.

use std::sync::{Arc, Mutex};

use zeroize::Zeroizing;

use super::host::{Clock, SystemClock};
use super::status::VerifierStatuses;
use super::VerificationFailure;
use super::WalletError;
use crate::cose::cbor;
use crate::crypto::aead;
use crate::crypto::ec::SoftwareKey;
use crate::crypto::secret::SymmetricKey;
use crate::mdoc::reader::{ReaderIdentity, ReaderSession};
use crate::mdoc::request::ItemsRequest;
use crate::mdoc::response::DeviceResponse;
use crate::mdoc::session::SessionTranscript;
use crate::mdoc::DeviceAuthMode;
use crate::trust::x509::ParsedCertificate;

use crate::verifier::mdoc::{check_against_request, verify_document, VerificationContext};

/// How to set up a reader.
#[derive(uniffi::Record)]
pub struct ReaderConfig {
    /// Trusted IACA certificates (DER): only mdocs chaining to one of them are accepted.
    pub iaca_certificates: Vec<Vec<u8>>,
    /// Trusted status list signer roots (DER): status list tokens loaded with
    /// `add_status_list` must be signed under one of them by a status list signer.
    #[uniffi(default = [])]
    pub status_list_certificates: Vec<Vec<u8>>,
    /// The reader authentication certificate chain (DER, leaf first); empty for unsigned requests.
    #[uniffi(default = [])]
    pub reader_certificate_chain: Vec<Vec<u8>>,
    /// The reader authentication private key (32-byte P-256 scalar), with the chain.
    #[uniffi(default = None)]
    pub reader_private_key: Option<Vec<u8>>,
    /// The verification clock; `None` uses the system clock.
    #[uniffi(default = None)]
    pub clock: Option<Arc<dyn Clock>>,
    /// A 256-bit key (kept in the relying party's keystore) that seals saved sessions: with
    /// it, [`MdocReaderSession::save_state`] returns the session sealed with AES-256-GCM and
    /// [`MdocReader::resume_session`] opens it. Without it, sessions cannot be saved: the state
    /// holds the session's ephemeral private key, which never leaves the core in the clear.
    #[uniffi(default = None)]
    pub session_state_key: Option<Vec<u8>>,
}

const SESSION_STATE_AAD: &[u8] = b"jigap mdoc reader session state v2";

/// An element the reader asks for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RequestedItem {
    /// Namespace.
    pub namespace: String,
    /// Element identifier.
    pub identifier: String,
    /// Whether the reader will keep the value.
    #[uniffi(default = false)]
    pub intent_to_retain: bool,
}

/// A document the reader asks for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DocumentRequest {
    /// docType.
    pub doc_type: String,
    /// The elements.
    pub items: Vec<RequestedItem>,
}

/// A verified element.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifiedElement {
    /// Namespace.
    pub namespace: String,
    /// Element identifier.
    pub identifier: String,
    /// The value for display (text, date, number; byte strings as their length).
    pub display: String,
    /// The value as CBOR, exactly as signed.
    pub value_cbor: Vec<u8>,
}

/// An element the holder did not return.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NotReturned {
    /// Namespace.
    pub namespace: String,
    /// Element identifier.
    pub identifier: String,
    /// Error code (0: not returned).
    pub code: i64,
}

/// A document that passed every check: chain, issuer signature, docType, validity, every
/// digest, and device authentication for this session.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifiedMdoc {
    /// docType.
    pub doc_type: String,
    /// Subject of the document signer.
    pub document_signer: String,
    /// Subject of the trusted IACA.
    pub issuing_authority: String,
    /// Country of the document signer.
    pub issuing_country: Option<String>,
    /// MSO validity start, Unix seconds.
    pub valid_from: i64,
    /// MSO validity end, Unix seconds.
    pub valid_until: i64,
    /// How the device authenticated.
    pub device_authentication: DeviceAuthMode,
    /// The disclosed, verified elements.
    pub elements: Vec<VerifiedElement>,
    /// Elements requested but not returned.
    pub not_returned: Vec<NotReturned>,
}

/// A requested document the holder did not return.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DocumentError {
    /// docType.
    pub doc_type: String,
    /// Error code.
    pub code: i64,
}

/// The outcome of one response.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerificationReport {
    /// Verified documents.
    pub documents: Vec<VerifiedMdoc>,
    /// Documents not returned.
    pub document_errors: Vec<DocumentError>,
    /// DeviceResponse status (0: OK).
    pub status: u64,
}

/// What the reader learned from the response: a report, or that the holder ended the session.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ReaderEvent {
    /// A response, fully verified.
    Response {
        /// What verified.
        report: VerificationReport,
    },
    /// The holder ended the session without a response.
    Terminated,
}

/// A configured mdoc reader.
#[derive(uniffi::Object)]
pub struct MdocReader {
    iaca: Vec<ParsedCertificate>,
    status_anchors: Vec<ParsedCertificate>,
    identity: Identity,
    clock: Arc<dyn Clock>,
    statuses: Arc<VerifierStatuses>,
    state_key: Option<Arc<SymmetricKey>>,
}

#[uniffi::export]
impl MdocReader {
    /// A reader trusting `config.iaca_certificates`; with a key and chain it signs requests.
    #[uniffi::constructor]
    pub fn new(config: ReaderConfig) -> Result<Arc<Self>, WalletError> {
        if config.iaca_certificates.is_empty() {
            return Err(WalletError::invalid(
                "a reader needs at least one IACA certificate",
            ));
        }
        let iaca = config
            .iaca_certificates
            .iter()
            .map(|der| {
                ParsedCertificate::from_der(der)
                    .map_err(|e| WalletError::invalid(format!("IACA certificate: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let identity = match (
            config.reader_private_key,
            config.reader_certificate_chain.is_empty(),
        ) {
            (None, true) => None,
            (Some(scalar), false) => {
                let scalar = Zeroizing::new(scalar);
                let key = SoftwareKey::from_private_scalar(&scalar)
                    .map_err(|_| WalletError::invalid("reader private key"))?;
                let first = config
                    .reader_certificate_chain
                    .first()
                    .ok_or_else(|| WalletError::invalid("the reader certificate chain is empty"))?;
                let leaf = ParsedCertificate::from_der(first)
                    .map_err(|e| WalletError::invalid(format!("reader certificate: {e}")))?;
                if leaf
                    .p256_public_key()
                    .map_err(|e| WalletError::invalid(e.to_string()))?
                    != key.public_key()
                {
                    return Err(WalletError::invalid(
                        "the reader private key does not match the reader certificate",
                    ));
                }
                Some(Arc::new((key, config.reader_certificate_chain)))
            }
            _ => {
                return Err(WalletError::invalid(
                    "give both the reader certificate chain and its private key, or neither",
                ))
            }
        };
        let state_key = config
            .session_state_key
            .map(|k| {
                let k = Zeroizing::new(k);
                SymmetricKey::from_slice(&k)
                    .map(Arc::new)
                    .map_err(|_| WalletError::invalid("the session state key is not 32 bytes"))
            })
            .transpose()?;
        Ok(Arc::new(MdocReader {
            iaca,
            status_anchors: super::e_certificates::parse_anchors(
                &config.status_list_certificates,
                "status list",
            )?,
            identity,
            clock: config.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            statuses: Arc::new(VerifierStatuses::default()),
            state_key,
        }))
    }

    /// Loads the status list token fetched from `uri` (JWT or CWT), after checking that a
    /// status list signer under `status_list_certificates` signed it. mdocs whose MSO points
    /// into it are then checked against it until its `ttl`/`exp` runs out.
    pub fn add_status_list(&self, uri: String, token: Vec<u8>) -> Result<(), WalletError> {
        let at = self
            .clock
            .now_unix_seconds()
            .map_err(|e| e.in_callback("Clock.nowUnixSeconds"))?;
        self.statuses.load(&uri, &token, &self.status_anchors, at)
    }

    /// Verifies a DeviceResponse on its own, given the SessionTranscriptBytes it answers and
    /// what was asked (`requests`): every check of [`MdocReaderSession::receive`] — what was
    /// asked, trusted chain, issuer signature, docType, validity, digests, status — and device
    /// authentication over that transcript. Only signature device authentication can be
    /// checked this way (a MAC needs the session's ephemeral reader key).
    pub fn verify_device_response(
        &self,
        device_response: Vec<u8>,
        session_transcript: Vec<u8>,
        requests: Vec<DocumentRequest>,
    ) -> Result<VerificationReport, WalletError> {
        if requests.is_empty() {
            return Err(WalletError::invalid(
                "say what was asked: a response is checked against its request",
            ));
        }
        let at = self
            .clock
            .now_unix_seconds()
            .map_err(|e| e.in_callback("Clock.nowUnixSeconds"))?;
        let transcript = SessionTranscript::from_tagged_bytes(&session_transcript)?;
        let response = DeviceResponse::parse(&device_response)?;
        verify_response(
            &response,
            &items_requests(&requests),
            &VerificationContext {
                iaca: &self.iaca,
                at,
                transcript: &transcript,
                e_reader_key: None,
            },
            &self.statuses,
        )
    }

    /// Continues a session saved with [`MdocReaderSession::save_state`] (needs the same
    /// `session_state_key`). A state that does not open under the key is `Verification` with
    /// `Decryption`.
    pub fn resume_session(&self, state: Vec<u8>) -> Result<Arc<MdocReaderSession>, WalletError> {
        let key = self.state_key.as_ref().ok_or_else(|| {
            WalletError::invalid("resuming a session needs the reader's session_state_key")
        })?;
        let plain = Zeroizing::new(aead::open(key, SESSION_STATE_AAD, &state).map_err(|_| {
            WalletError::Verification {
                failure: VerificationFailure::Decryption,
                detail: "the saved session does not open with this reader's state key".into(),
            }
        })?);
        let session = ReaderSession::resume(&plain)?;
        Ok(Arc::new(MdocReaderSession {
            statuses: self.statuses.clone(),
            iaca: self.iaca.clone(),
            clock: self.clock.clone(),
            first_message: Vec::new(),
            state_key: self.state_key.clone(),
            identity: self.identity.clone(),
            session: Mutex::new(session),
            last_response: Mutex::new(None),
        }))
    }

    /// Starts a session from the holder's QR code text and prepares the (signed) request.
    pub fn start_session(
        &self,
        qr_uri: String,
        requests: Vec<DocumentRequest>,
    ) -> Result<Arc<MdocReaderSession>, WalletError> {
        check_requests(&requests)?;
        self.open_session(ReaderSession::from_qr(&qr_uri)?, requests)
    }

    /// Starts a session from the Handover Select read off the holder's NFC tag (see
    /// [`NfcEngagementReader`](super::NfcEngagementReader)) and prepares the (signed) request.
    /// The Handover Select goes into the session transcript.
    pub fn start_nfc_session(
        &self,
        handover_select: Vec<u8>,
        requests: Vec<DocumentRequest>,
    ) -> Result<Arc<MdocReaderSession>, WalletError> {
        check_requests(&requests)?;
        let session = super::proximity::reader_session_from_handover(handover_select, None)?;
        self.open_session(session, requests)
    }

    /// Starts a session from what an NFC tap gave (`NfcEngagementReader.handover`): static or
    /// negotiated handover, both messages into the session transcript.
    pub fn start_nfc_handover_session(
        &self,
        handover: super::NfcHandover,
        requests: Vec<DocumentRequest>,
    ) -> Result<Arc<MdocReaderSession>, WalletError> {
        check_requests(&requests)?;
        let session =
            super::proximity::reader_session_from_handover(handover.select, handover.request)?;
        self.open_session(session, requests)
    }
}

/// The reader's signing key and chain: what signs each request of a session.
type Identity = Option<Arc<(SoftwareKey, Vec<Vec<u8>>)>>;

fn identity_of(identity: &Identity) -> Option<ReaderIdentity<'_>> {
    identity.as_ref().map(|i| ReaderIdentity {
        key: &i.0,
        chain: &i.1,
    })
}

fn check_requests(requests: &[DocumentRequest]) -> Result<(), WalletError> {
    if requests.is_empty()
        || requests
            .iter()
            .any(|r| r.items.is_empty() || r.doc_type.trim().is_empty())
    {
        return Err(WalletError::invalid(
            "request at least one element of at least one document",
        ));
    }
    Ok(())
}

impl MdocReader {
    fn open_session(
        &self,
        mut session: ReaderSession,
        requests: Vec<DocumentRequest>,
    ) -> Result<Arc<MdocReaderSession>, WalletError> {
        let items = items_requests(&requests);
        let first_message = session.request(items, identity_of(&self.identity))?;
        Ok(Arc::new(MdocReaderSession {
            statuses: self.statuses.clone(),
            iaca: self.iaca.clone(),
            clock: self.clock.clone(),
            state_key: self.state_key.clone(),
            identity: self.identity.clone(),
            first_message,
            session: Mutex::new(session),
            last_response: Mutex::new(None),
        }))
    }
}

/// One reader session with one holder.
#[derive(uniffi::Object)]
pub struct MdocReaderSession {
    statuses: Arc<VerifierStatuses>,
    iaca: Vec<ParsedCertificate>,
    clock: Arc<dyn Clock>,
    first_message: Vec<u8>,
    state_key: Option<Arc<SymmetricKey>>,
    identity: Identity,
    session: Mutex<ReaderSession>,
    last_response: Mutex<Option<Vec<u8>>>,
}

#[uniffi::export]
impl MdocReaderSession {
    /// The SessionEstablishment message carrying the request: send it to the holder first
    /// (empty for a resumed session, whose request was already sent).
    pub fn request_message(&self) -> Vec<u8> {
        self.first_message.clone()
    }

    /// Asks the holder for more in the same session, signed like the first request: the
    /// SessionData to send. The answer is checked against this request.
    pub fn request_more(&self, requests: Vec<DocumentRequest>) -> Result<Vec<u8>, WalletError> {
        check_requests(&requests)?;
        let mut session = self.session.lock().map_err(|_| WalletError::Internal {
            reason: "reader session poisoned".into(),
        })?;
        Ok(session.request(items_requests(&requests), identity_of(&self.identity))?)
    }

    /// Decrypts and verifies the holder's answer. Any failed check is a `Verification` error
    /// naming it (tampered value, unknown digest, wrong docType, expired, untrusted issuer,
    /// broken chain, device authentication, bad counter, ...).
    pub fn receive(&self, message: Vec<u8>) -> Result<ReaderEvent, WalletError> {
        let at = self
            .clock
            .now_unix_seconds()
            .map_err(|e| e.in_callback("Clock.nowUnixSeconds"))?;
        let mut session = self.session.lock().map_err(|_| WalletError::Internal {
            reason: "reader state poisoned".into(),
        })?;
        let Some((plain, response)) = session.receive(&message)? else {
            return Ok(ReaderEvent::Terminated);
        };
        if let Ok(mut last) = self.last_response.lock() {
            *last = Some(plain);
        }
        let report = verify_response(
            &response,
            session.requested(),
            &VerificationContext {
                iaca: &self.iaca,
                at,
                transcript: session.transcript(),
                e_reader_key: Some(session.ephemeral_key()),
            },
            &self.statuses,
        )?;
        Ok(ReaderEvent::Response { report })
    }

    /// The last DeviceResponse this session received, decrypted (CBOR), for the relying
    /// party's records or an independent check; `None` before any response.
    pub fn last_device_response(&self) -> Option<Vec<u8>> {
        self.last_response.lock().ok().and_then(|r| r.clone())
    }

    /// This session's SessionTranscriptBytes (`#6.24(bstr .cbor SessionTranscript)`): what
    /// device authentication is computed over.
    pub fn session_transcript(&self) -> Result<Vec<u8>, WalletError> {
        let session = self.session.lock().map_err(|_| WalletError::Internal {
            reason: "reader state poisoned".into(),
        })?;
        Ok(session.transcript().tagged_bytes().to_vec())
    }

    /// The session sealed under the reader's `session_state_key`, to continue it elsewhere
    /// with [`MdocReader::resume_session`]. The ephemeral private key inside never leaves the
    /// core unsealed; without a state key this is `InvalidInput`.
    pub fn save_state(&self) -> Result<Vec<u8>, WalletError> {
        let key = self.state_key.as_ref().ok_or_else(|| {
            WalletError::invalid("saving a session needs the reader's session_state_key")
        })?;
        let session = self.session.lock().map_err(|_| WalletError::Internal {
            reason: "reader state poisoned".into(),
        })?;
        Ok(aead::seal(key, SESSION_STATE_AAD, &session.save_state())?)
    }

    /// Ends the session; returns the termination message to send.
    pub fn terminate(&self) -> Result<Vec<u8>, WalletError> {
        let mut session = self.session.lock().map_err(|_| WalletError::Internal {
            reason: "reader state poisoned".into(),
        })?;
        Ok(session.terminate())
    }
}

/// Checks a DeviceResponse against what was asked, verifies every document, and checks its
/// status when it has one: the report, or the first failure.
fn verify_response(
    response: &DeviceResponse,
    requested: &[ItemsRequest],
    ctx: &VerificationContext<'_>,
    statuses: &VerifierStatuses,
) -> Result<VerificationReport, WalletError> {
    check_against_request(response, requested)?;
    let mut documents = Vec::with_capacity(response.documents.len());
    for doc in &response.documents {
        let verified = verify_document(doc, ctx)?;
        if let Some(reference) = &verified.status {
            statuses.check(reference, ctx.at)?;
        }
        documents.push(VerifiedMdoc {
            doc_type: verified.doc_type,
            document_signer: verified.document_signer,
            issuing_authority: verified.issuing_authority,
            issuing_country: verified.issuing_country,
            valid_from: verified.validity.valid_from,
            valid_until: verified.validity.valid_until,
            device_authentication: verified.device_auth,
            elements: verified
                .elements
                .into_iter()
                .map(|e| VerifiedElement {
                    display: cbor::display(&e.value),
                    value_cbor: cbor::encode(&e.value),
                    namespace: e.namespace,
                    identifier: e.identifier,
                })
                .collect(),
            not_returned: verified
                .not_returned
                .into_iter()
                .map(|(namespace, identifier, code)| NotReturned {
                    namespace,
                    identifier,
                    code,
                })
                .collect(),
        });
    }
    Ok(VerificationReport {
        documents,
        document_errors: response
            .document_errors
            .iter()
            .map(|(doc_type, code)| DocumentError {
                doc_type: doc_type.clone(),
                code: *code,
            })
            .collect(),
        status: response.status,
    })
}

/// The ItemsRequests of a relying party's document requests.
fn items_requests(requests: &[DocumentRequest]) -> Vec<ItemsRequest> {
    requests
        .iter()
        .map(|r| {
            let mut namespaces: Vec<(String, Vec<(String, bool)>)> = Vec::new();
            for item in &r.items {
                match namespaces.iter_mut().find(|(ns, _)| *ns == item.namespace) {
                    Some((_, list)) => list.push((item.identifier.clone(), item.intent_to_retain)),
                    None => namespaces.push((
                        item.namespace.clone(),
                        vec![(item.identifier.clone(), item.intent_to_retain)],
                    )),
                }
            }
            ItemsRequest {
                doc_type: r.doc_type.clone(),
                namespaces,
                request_info: None,
            }
        })
        .collect()
}
