//! Online presentation through the API: an OpenID4VP 1.0 request (a QR code or link on
//! another screen, a redirect on the same phone) or a Digital Credentials API request the
//! platform hands over, read and verified, matched against the wallet's credentials, shown to
//! the citizen, and answered with exactly the approved claims — delivered over the host's
//! `HttpClient` (`direct_post`, `direct_post.jwt`) or handed back to the platform. The
//! protocol lives in `openid4vp`; this file moves bytes and keys.

use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::disclosure::{
    fully_granted, release, Asked, DisclosureChannel, DisclosureDecision, DisclosureDocument,
    DisclosurePolicy, DisclosureRequest, DocumentApproval, ItemVerdict, Party, Released,
    UserPrompt, WithheldItem,
};
use super::e_certificates::{check_presented_claims, select_stored};
use super::host::CheckedSecureArea;
use super::http::{HttpClient, HttpRequest};
use super::presentation::{ask, granted_ids, party_of_readers, shown_name};
use super::records::{CredentialFilter, CredentialFormat, CredentialState};
use super::status::WalletEvent;
use super::{Wallet, WalletError};
use crate::cose::cbor;
use crate::documents::e_certificates as catalogue;
use crate::mdoc::holder::{build_document, DeviceAuthentication};
use crate::mdoc::issuer_signed::IssuerSigned;
use crate::mdoc::request::verify_reader_auth;
use crate::mdoc::response::DeviceResponse;
use crate::openid4vp::dc_api::{self, DcApiRequest, MdocRequest};
use crate::openid4vp::dcql::{self, Answerable, Candidate, FORMAT_MDOC, FORMAT_SD_JWT};
use crate::openid4vp::request::{
    self, AuthorizationRequest, PresentationFailure, ReadOptions, RelyingPartyIdentity,
    RequestError, RequestLocation, ResponseMode,
};
use crate::openid4vp::response::{self, Presentation};
use crate::sdjwt::format::SdJwt;
use crate::sdjwt::present::{inspect, key_binding_input_with};
use crate::trust::x509::{ParsedCertificate, TrustRole};

impl From<RequestError> for WalletError {
    fn from(e: RequestError) -> Self {
        WalletError::Presentation {
            failure: e.failure,
            detail: e.detail,
        }
    }
}

fn failure(failure: PresentationFailure, detail: impl Into<String>) -> WalletError {
    WalletError::Presentation {
        failure,
        detail: detail.into(),
    }
}

/// Who is asking, as the citizen should see it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RelyingPartyView {
    /// The client id (the presentation's audience).
    pub client_id: String,
    /// The request was signed by a certificate chaining to one of the wallet's relying-party
    /// anchors (or, for Annex C, a reader anchor), and the client id names it.
    pub verified: bool,
    /// The verified certificate's subject.
    pub subject: Option<String>,
    /// The anchor it chains to.
    pub anchor: Option<String>,
    /// Why it is not verified, when it is not.
    pub note: Option<String>,
}

/// A claim that would be disclosed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OfferedClaim {
    /// Where it is: `namespace/element` for an mdoc, a JSON pointer for an SD-JWT VC.
    pub path: String,
    /// Its Korean label, when known.
    pub label_ko: Option<String>,
    /// Its English label, when known.
    pub label_en: Option<String>,
    /// Its value as JSON.
    pub value_json: String,
    /// The relying party says it will keep it (mdoc).
    pub intent_to_retain: bool,
}

/// A credential that can answer a query, with what it would disclose.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CandidateCredential {
    /// The credential.
    pub credential_id: String,
    /// Its Korean name.
    pub display_name_ko: String,
    /// Its English name.
    pub display_name_en: String,
    /// What it would disclose.
    pub claims: Vec<OfferedClaim>,
}

/// One credential query of the request that the wallet can answer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OnlineQuery {
    /// Its id.
    pub query_id: String,
    /// Whether it must be answered.
    pub required: bool,
    /// Whether several credentials may answer it.
    pub multiple: bool,
    /// The format asked for.
    pub format: CredentialFormat,
    /// The docType or `vct` asked for.
    pub doc_type: String,
    /// The credentials that can answer it.
    pub candidates: Vec<CandidateCredential>,
}

/// A transaction the relying party asks the citizen to authorize.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TransactionView {
    /// Its type.
    pub kind: String,
    /// The queries it is bound to.
    pub credential_ids: Vec<String>,
    /// Its fields as JSON, to show as they are.
    pub fields_json: String,
}

/// A request, as the citizen is asked about it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OnlineRequestView {
    /// Who is asking.
    pub relying_party: RelyingPartyView,
    /// What the wallet can answer.
    pub queries: Vec<OnlineQuery>,
    /// Transactions to authorize with the presentation.
    pub transaction_data: Vec<TransactionView>,
    /// The web origin, over the Digital Credentials API.
    pub origin: Option<String>,
    /// Why the request cannot be answered, when it cannot (`respond` then fails, `decline`
    /// tells the relying party).
    pub unsatisfiable: Option<String>,
}

/// The citizen's answer to one query.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QueryChoice {
    /// The query.
    pub query_id: String,
    /// The credentials to present (one unless the query allows several).
    pub credential_ids: Vec<String>,
}

/// What answering came to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OnlineOutcome {
    /// Where the relying party sends the citizen next (same-device flows).
    pub redirect_uri: Option<String>,
    /// Over the Digital Credentials API: the response data (JSON) to hand back to the
    /// platform.
    pub dc_api_response: Option<String>,
    /// What each presented credential released and what it withheld, and why (empty when
    /// declined).
    pub disclosed: Vec<DisclosedCredential>,
}

/// What one credential of an answer released and withheld.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DisclosedCredential {
    /// The query it answered.
    pub query_id: String,
    /// The credential.
    pub credential_id: String,
    /// The items that went (paths as in the disclosure request).
    pub released: Vec<String>,
    /// The items that did not, and why.
    pub withheld: Vec<WithheldItem>,
}

/// The protocol behind a presentation.
enum Protocol {
    OpenId4Vp(Box<AuthorizationRequest>),
    Mdoc(Box<MdocRequest>),
}

/// What each credential of an answer released and withheld, for the host.
fn disclosed_of(answered: &[Answered]) -> Vec<DisclosedCredential> {
    answered
        .iter()
        .map(|a| DisclosedCredential {
            query_id: a.query_id.clone(),
            credential_id: a.credential_id.clone(),
            released: a.released.released.clone(),
            withheld: a
                .released
                .withheld
                .iter()
                .map(|(path, reason)| WithheldItem {
                    path: path.clone(),
                    reason: *reason,
                })
                .collect(),
        })
        .collect()
}

/// The presentations per query id, and what each credential released and withheld.
type Built = (Vec<(String, Vec<Presentation>)>, Vec<Answered>);

/// One credential's part of an answer: what leaves, and what does not and why.
struct Answered {
    query_id: String,
    credential_id: String,
    doc_type: String,
    released: Released,
}

/// A held credential as a query sees it, and where it is.
struct Held {
    id: String,
    format: CredentialFormat,
    names: (String, String),
    candidate: Candidate,
}

/// An online presentation in progress: show `request()`, then `respond` or `decline`.
#[derive(uniffi::Object)]
pub struct OnlinePresentation {
    wallet: Arc<Wallet>,
    http: Option<Arc<dyn HttpClient>>,
    protocol: Protocol,
    origin: Option<String>,
    held: Vec<Held>,
    answerable: Result<Vec<Answerable>, String>,
    view: OnlineRequestView,
    party: Party,
    disclosure: DisclosureRequest,
    policy: DisclosurePolicy,
    done: Mutex<bool>,
}

impl std::fmt::Debug for OnlinePresentation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnlinePresentation")
            .field("client_id", &self.view.relying_party.client_id)
            .finish_non_exhaustive()
    }
}

fn label_of(doc_type: &str, path: &str) -> (Option<String>, Option<String>) {
    if !path.starts_with('/') {
        return path
            .rsplit_once('/')
            .and_then(|(ns, e)| crate::documents::element_label(ns, e))
            .map_or((None, None), |(ko, en)| (Some(ko), Some(en)));
    }
    catalogue::find(doc_type)
        .filter(|k| k.vct == doc_type)
        .and_then(|k| catalogue::label(k, path))
        .map_or((None, None), |(ko, en)| {
            (Some(ko.to_owned()), Some(en.to_owned()))
        })
}

fn path_text(format: &str, path: &[dcql::Segment]) -> String {
    if format == FORMAT_MDOC {
        path.iter()
            .map(|s| match s {
                dcql::Segment::Key(k) => k.clone(),
                dcql::Segment::Index(i) => i.to_string(),
            })
            .collect::<Vec<_>>()
            .join("/")
    } else {
        dcql::pointer(path)
    }
}

impl Wallet {
    /// Every valid credential as a query sees it.
    /// The valid credentials a DCQL query could match, read and parsed. Every credential query
    /// names its docType or its vcts, so only credentials of those (found through the keyed
    /// blind index of the type) are opened; a query of another format sees them all.
    fn held_credentials(&self, dcql: &dcql::DcqlQuery) -> Result<Vec<Held>, WalletError> {
        let mut kinds: Vec<(CredentialFormat, &str)> = Vec::new();
        let mut every = false;
        for query in &dcql.credentials {
            let named: Vec<(CredentialFormat, &str)> = match &query.meta {
                dcql::Meta::MsoMdoc { doctype } => vec![(CredentialFormat::MsoMdoc, doctype)],
                dcql::Meta::SdJwtVc { vcts } => vcts
                    .iter()
                    .map(|vct| (CredentialFormat::SdJwtVc, vct.as_str()))
                    .collect(),
                dcql::Meta::Other(_) => {
                    every = true;
                    Vec::new()
                }
            };
            for kind in named {
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
        }
        let filters: Vec<CredentialFilter> = if every {
            vec![CredentialFilter {
                state: Some(CredentialState::Valid),
                ..Default::default()
            }]
        } else {
            kinds
                .into_iter()
                .map(|(format, doc_type)| CredentialFilter {
                    format: Some(format),
                    doc_type: Some(doc_type.to_owned()),
                    issuer: None,
                    state: Some(CredentialState::Valid),
                })
                .collect()
        };
        let mut held = Vec::new();
        for filter in filters {
            self.held_matching(filter, &mut held)?;
        }
        Ok(held)
    }

    fn held_matching(
        &self,
        filter: CredentialFilter,
        held: &mut Vec<Held>,
    ) -> Result<(), WalletError> {
        let mut offset = Some(0);
        while let Some(o) = offset {
            let page = self.list_credentials(filter.clone(), o, super::MAX_PAGE_SIZE)?;
            for summary in page.items {
                let credential = self.get_credential(summary.id.clone())?;
                let chain_aki = |leaf: Option<&[u8]>| -> Vec<Vec<u8>> {
                    leaf.and_then(|der| ParsedCertificate::from_der(der).ok())
                        .and_then(|c| c.authority_key_id().ok().flatten())
                        .into_iter()
                        .collect()
                };
                let candidate = match summary.format {
                    CredentialFormat::MsoMdoc => {
                        let Ok(parsed) = IssuerSigned::parse(&credential.raw) else {
                            continue;
                        };
                        let mut claims = serde_json::Map::new();
                        for (ns, items) in &parsed.namespaces {
                            let mut elements = serde_json::Map::new();
                            for item in items {
                                elements.insert(
                                    item.element_identifier.clone(),
                                    cbor::to_json(&item.element_value),
                                );
                            }
                            claims.insert(ns.clone(), Value::Object(elements));
                        }
                        let chain = crate::cose::x5chain(&parsed.issuer_auth.unprotected)
                            .unwrap_or_default();
                        Candidate {
                            format: FORMAT_MDOC.into(),
                            doc_type: summary.doc_type.clone(),
                            claims: Value::Object(claims),
                            authority_key_ids: chain_aki(chain.first().map(Vec::as_slice)),
                            holder_bound: true,
                        }
                    }
                    CredentialFormat::SdJwtVc => {
                        let Some(parsed) = std::str::from_utf8(&credential.raw)
                            .ok()
                            .and_then(|t| SdJwt::parse_compact(t).ok())
                        else {
                            continue;
                        };
                        let Ok(view) = inspect(&parsed) else {
                            continue;
                        };
                        let header: Value = parsed
                            .protected
                            .split('.')
                            .next()
                            .and_then(|h| crate::crypto::jose::b64url_decode(h).ok())
                            .and_then(|b| serde_json::from_slice(&b).ok())
                            .unwrap_or(Value::Null);
                        let leaf = crate::trust::jws::x5c_chain(&header).unwrap_or_default();
                        Candidate {
                            format: FORMAT_SD_JWT.into(),
                            doc_type: summary.doc_type.clone(),
                            holder_bound: view.claims.pointer("/cnf/jwk").is_some(),
                            claims: view.claims,
                            authority_key_ids: chain_aki(leaf.first().map(Vec::as_slice)),
                        }
                    }
                };
                held.push(Held {
                    id: summary.id.clone(),
                    format: summary.format,
                    names: (
                        summary.display_name_ko.clone(),
                        summary.display_name_en.clone(),
                    ),
                    candidate,
                });
            }
            offset = page.next_offset;
        }
        Ok(())
    }

    fn read_options<'a>(
        &self,
        anchors: &'a [ParsedCertificate],
    ) -> Result<ReadOptions<'a>, WalletError> {
        Ok(ReadOptions {
            anchors,
            now: self.now()?,
            outer_client_id: None,
            origin: None,
            wallet_nonce: None,
            allow_loopback_http: self.allow_loopback_http,
        })
    }

    /// Refuses a request (client and nonce) seen before.
    fn check_replay(&self, request: &AuthorizationRequest) -> Result<(), WalletError> {
        let now = self.now()?;
        let key = format!("{}\u{0}{}", request.client_id, request.nonce);
        let mut seen = self
            .seen_requests
            .lock()
            .map_err(|_| WalletError::Internal {
                reason: "request memory poisoned".into(),
            })?;
        seen.retain(|(_, at)| now.saturating_sub(*at) < 24 * 3600);
        if seen.iter().any(|(k, _)| *k == key) {
            return Err(failure(
                PresentationFailure::ReplayedRequest,
                "this request (client and nonce) was answered before",
            ));
        }
        if seen.len() >= 1024 {
            seen.remove(0);
        }
        seen.push((key, now));
        Ok(())
    }

    fn presentation(
        self: &Arc<Self>,
        protocol: Protocol,
        (relying_party, party): (RelyingPartyView, Party),
        origin: Option<String>,
        http: Option<Arc<dyn HttpClient>>,
    ) -> Result<Arc<OnlinePresentation>, WalletError> {
        let policy = self.policy()?;
        let (dcql, transaction_data) = match &protocol {
            Protocol::OpenId4Vp(r) => (&r.dcql, r.transaction_data.clone()),
            Protocol::Mdoc(r) => (&r.dcql, Vec::new()),
        };
        let held = self.held_credentials(dcql)?;
        let candidates: Vec<Candidate> = held.iter().map(|h| h.candidate.clone()).collect();
        let answerable = dcql::evaluate(dcql, &candidates).map_err(|e| e.to_string());
        let queries = match &answerable {
            Ok(list) => list
                .iter()
                .filter_map(|a| {
                    let query = dcql.credential(&a.query_id)?;
                    let format = match query.format.as_str() {
                        FORMAT_MDOC => CredentialFormat::MsoMdoc,
                        _ => CredentialFormat::SdJwtVc,
                    };
                    Some(OnlineQuery {
                        query_id: a.query_id.clone(),
                        required: a.required,
                        multiple: query.multiple,
                        format,
                        doc_type: match &query.meta {
                            dcql::Meta::MsoMdoc { doctype } => doctype.clone(),
                            dcql::Meta::SdJwtVc { vcts } => vcts.join(", "),
                            dcql::Meta::Other(_) => query.format.clone(),
                        },
                        candidates: a
                            .matches
                            .iter()
                            .filter_map(|m| {
                                let h = held.get(m.candidate)?;
                                Some(CandidateCredential {
                                    credential_id: h.id.clone(),
                                    display_name_ko: h.names.0.clone(),
                                    display_name_en: h.names.1.clone(),
                                    claims: m
                                        .claims
                                        .iter()
                                        .map(|c| {
                                            let path = path_text(&h.candidate.format, &c.path);
                                            let (label_ko, label_en) =
                                                label_of(&h.candidate.doc_type, &path);
                                            OfferedClaim {
                                                path,
                                                label_ko,
                                                label_en,
                                                value_json: c.value.to_string(),
                                                intent_to_retain: c.intent_to_retain,
                                            }
                                        })
                                        .collect(),
                                })
                            })
                            .collect(),
                    })
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        let mut documents = Vec::with_capacity(queries.len());
        for q in &queries {
            let Some(first) = q.candidates.first() else {
                continue;
            };
            let doc_type = held
                .iter()
                .find(|h| h.id == first.credential_id)
                .map(|h| h.candidate.doc_type.clone())
                .unwrap_or_else(|| q.doc_type.clone());
            documents.push(DisclosureDocument {
                id: q.query_id.clone(),
                doc_type: doc_type.clone(),
                display_name_ko: first.display_name_ko.clone(),
                display_name_en: first.display_name_en.clone(),
                required: q.required,
                credential_ids: q
                    .candidates
                    .iter()
                    .map(|c| c.credential_id.clone())
                    .collect(),
                items: self.decide(&policy, &party, &doc_type, asked_claims(first))?,
            });
        }
        let disclosure = DisclosureRequest {
            channel: if origin.is_some() {
                DisclosureChannel::DigitalCredentialsApi
            } else {
                DisclosureChannel::Online
            },
            relying_party: party.identity.clone(),
            origin: origin.clone(),
            purpose: None,
            stated_legal_basis: None,
            documents,
        };
        let view = OnlineRequestView {
            relying_party,
            queries,
            transaction_data: transaction_data
                .iter()
                .map(|t| TransactionView {
                    kind: t.kind.clone(),
                    credential_ids: t.credential_ids.clone(),
                    fields_json: t.fields.to_string(),
                })
                .collect(),
            origin: origin.clone(),
            unsatisfiable: answerable.as_ref().err().cloned(),
        };
        Ok(Arc::new(OnlinePresentation {
            wallet: self.clone(),
            http,
            protocol,
            origin,
            held,
            answerable,
            view,
            party,
            disclosure,
            policy,
            done: Mutex::new(false),
        }))
    }
}

/// Who asks, as the host shows it and as the policy sees it.
fn relying_party_of(
    request: &AuthorizationRequest,
    policy: &DisclosurePolicy,
) -> (RelyingPartyView, Party) {
    match &request.relying_party {
        RelyingPartyIdentity::Verified {
            subject,
            anchor,
            certificate,
        } => {
            let policies = ParsedCertificate::from_der(certificate)
                .and_then(|c| c.policies())
                .unwrap_or_default();
            (
                RelyingPartyView {
                    client_id: request.client_id.clone(),
                    verified: true,
                    subject: Some(subject.clone()),
                    anchor: Some(anchor.clone()),
                    note: None,
                },
                Party::authenticated(
                    policy,
                    subject.clone(),
                    policies,
                    format!("openid4vp:{}", request.client_id),
                    Some(request.client_id.clone()),
                ),
            )
        }
        RelyingPartyIdentity::Unverified { reason } => (
            RelyingPartyView {
                client_id: request.client_id.clone(),
                verified: false,
                subject: None,
                anchor: None,
                note: Some(reason.clone()),
            },
            Party::unauthenticated(reason.clone(), Some(request.client_id.clone())),
        ),
    }
}

/// The claims a candidate would disclose, as the policy weighs them.
fn asked_claims(candidate: &CandidateCredential) -> Vec<Asked> {
    candidate
        .claims
        .iter()
        .map(|c| Asked {
            path: c.path.clone(),
            held: true,
            intent_to_retain: c.intent_to_retain,
            labels: (c.label_ko.clone(), c.label_en.clone()),
        })
        .collect()
}

#[uniffi::export]
impl Wallet {
    /// Reads an OpenID4VP request the host received (an `openid4vp://` or `haip-vp://` URI, or
    /// an https link carrying one): fetches the request object through `http` when it is by
    /// reference (GET, or POST with the wallet's metadata and a nonce it must echo), verifies
    /// its signature and signer against the `RelyingParty` anchors (`x509_san_dns`,
    /// `x509_hash`; an unsigned request only with `redirect_uri`, shown as unverified), refuses
    /// one seen before, and matches its DCQL query against the wallet's valid credentials.
    pub async fn start_online_presentation(
        self: Arc<Self>,
        request: String,
        http: Arc<dyn HttpClient>,
    ) -> Result<Arc<OnlinePresentation>, WalletError> {
        self.require_unlocked()?;
        let anchors = self.anchors(TrustRole::RelyingParty)?;
        let mut options = self.read_options(&anchors)?;
        let parsed = match request::parse_uri(&request)? {
            RequestLocation::Parameters(params) => request::read(&params, &options)?,
            RequestLocation::Reference {
                client_id,
                request_uri,
                post,
            } => {
                // An unsupported client is refused before anything is fetched from it.
                request::ClientIdPrefix::parse(&client_id)?;
                let loopback =
                    self.allow_loopback_http && request_uri.starts_with("http://127.0.0.1");
                if !(request_uri.starts_with("https://") || loopback) {
                    return Err(failure(
                        PresentationFailure::InvalidRequest,
                        "request_uri is not an https URL",
                    ));
                }
                let wallet_nonce =
                    crate::crypto::jose::b64url(&crate::crypto::random::array::<16>()?);
                let fetch = if post {
                    HttpRequest::post(
                        &request_uri,
                        "application/x-www-form-urlencoded",
                        request::request_uri_post_body(&wallet_nonce).into_bytes(),
                    )
                } else {
                    HttpRequest::get(&request_uri)
                }
                .header("Accept", "application/oauth-authz-req+jwt");
                let response = http
                    .send(fetch)
                    .await
                    .map_err(|e| e.in_callback("HttpClient.send"))?;
                if response.status != 200 {
                    return Err(failure(
                        PresentationFailure::Transport,
                        format!(
                            "the request could not be fetched (HTTP {})",
                            response.status
                        ),
                    ));
                }
                if response.body.len() > request::MAX_REQUEST_BYTES {
                    return Err(failure(
                        PresentationFailure::InvalidRequest,
                        "the request is too large",
                    ));
                }
                let jwt = String::from_utf8(response.body).map_err(|_| {
                    failure(
                        PresentationFailure::InvalidRequest,
                        "the request object is not text",
                    )
                })?;
                options.outer_client_id = Some(&client_id);
                if post {
                    options.wallet_nonce = Some(&wallet_nonce);
                }
                request::read_object(jwt.trim(), &options)?
            }
        };
        self.check_replay(&parsed)?;
        let relying_party = relying_party_of(&parsed, &self.policy()?);
        self.presentation(
            Protocol::OpenId4Vp(Box::new(parsed)),
            relying_party,
            None,
            Some(http),
        )
    }
}

#[uniffi::export]
impl Wallet {
    /// Reads a Digital Credentials API request the platform handed over: `protocol`
    /// (`openid4vp-v1-unsigned`, `openid4vp-v1-signed`, `org-iso-mdoc`), the request's data
    /// (JSON), and the calling web `origin` the platform vouches for. Signed requests are
    /// verified as for `start_online_presentation` and must list the origin in
    /// `expected_origins`; Annex C requests have their reader authentication checked against
    /// the `MdocReader` anchors.
    pub fn start_dc_api_presentation(
        self: Arc<Self>,
        protocol: String,
        request: String,
        origin: String,
    ) -> Result<Arc<OnlinePresentation>, WalletError> {
        self.require_unlocked()?;
        let anchors = self.anchors(TrustRole::RelyingParty)?;
        let options = self.read_options(&anchors)?;
        match dc_api::read(&protocol, &request, &origin, &options)? {
            DcApiRequest::OpenId4Vp(parsed) => {
                self.check_replay(&parsed)?;
                let relying_party = relying_party_of(&parsed, &self.policy()?);
                self.presentation(
                    Protocol::OpenId4Vp(parsed),
                    relying_party,
                    Some(origin),
                    None,
                )
            }
            DcApiRequest::Mdoc(parsed) => {
                let readers = self.anchors(TrustRole::MdocReader)?;
                let now = self.now()?;
                let verdicts: Vec<_> = parsed
                    .device_request
                    .doc_requests
                    .iter()
                    .map(|doc| verify_reader_auth(doc, &parsed.transcript, &readers, now))
                    .collect();
                let mut party = party_of_readers(&verdicts, &self.policy()?);
                party.identity.client_id = Some(format!("origin:{origin}"));
                if verdicts.iter().all(Option::is_none) {
                    party.identity.unauthenticated_reason =
                        Some(format!("an unsigned request from the web origin {origin}"));
                }
                let relying_party = RelyingPartyView {
                    client_id: format!("origin:{origin}"),
                    verified: party.identity.authenticated,
                    subject: party.identity.name.clone(),
                    anchor: None,
                    note: party.identity.unauthenticated_reason.clone(),
                };
                self.presentation(
                    Protocol::Mdoc(parsed),
                    (relying_party, party),
                    Some(origin),
                    None,
                )
            }
        }
    }
}

impl OnlinePresentation {
    fn channel(&self) -> &'static str {
        match (&self.protocol, &self.origin) {
            (Protocol::Mdoc(_), _) => "dc_api_annex_c",
            (Protocol::OpenId4Vp(_), Some(_)) => "dc_api_openid4vp",
            (Protocol::OpenId4Vp(_), None) => "openid4vp",
        }
    }

    fn relying_party_json(&self) -> Value {
        self.party.record_json_from(self.origin.as_deref())
    }

    /// Records what was presented to whom, what was withheld and why, and remembers what the
    /// citizen asked to remember.
    fn record_presented(
        &self,
        choices: &[QueryChoice],
        answered: &[Answered],
        remember_days: u32,
    ) -> Result<(), WalletError> {
        let withheld_queries: Vec<&str> = self
            .view
            .queries
            .iter()
            .filter(|q| {
                !choices
                    .iter()
                    .any(|c| c.query_id == q.query_id && !c.credential_ids.is_empty())
            })
            .map(|q| q.query_id.as_str())
            .collect();
        let mut grants = Vec::new();
        if remember_days > 0 {
            for a in answered {
                if let Some(grant) = self.wallet.remember(
                    &self.party,
                    &a.doc_type,
                    &a.released.released,
                    remember_days,
                )? {
                    grants.push(grant);
                }
            }
        }
        self.wallet.record(
            crate::journal::JournalKind::Presentation,
            serde_json::json!({
                "channel": self.channel(),
                "relying_party": self.relying_party_json(),
                "credentials": answered.iter().map(|a| a.released.record_json_with(&[
                    ("query_id", a.query_id.clone().into()),
                    ("credential_id", a.credential_id.clone().into()),
                    ("doc_type", a.doc_type.clone().into()),
                ])).collect::<Vec<_>>(),
                "withheld_queries": withheld_queries,
                "transaction_data": self.view.transaction_data.iter().map(|t| &t.kind).collect::<Vec<_>>(),
                "grants_made": grants,
            }),
        )
    }

    fn finish(&self) -> Result<(), WalletError> {
        let mut done = self.done.lock().map_err(|_| WalletError::Internal {
            reason: "presentation state poisoned".into(),
        })?;
        if *done {
            return Err(failure(
                PresentationFailure::OutOfOrder,
                "this request was already answered",
            ));
        }
        *done = true;
        Ok(())
    }

    /// The presentations for the chosen credentials, with the SessionTranscript and audience
    /// of this request.
    #[allow(clippy::too_many_arguments)]
    fn build(
        &self,
        choices: &[QueryChoice],
        named: Option<&[DocumentApproval]>,
        transcript: &crate::mdoc::session::SessionTranscript,
        audience: &str,
        nonce: &str,
        request: Option<&AuthorizationRequest>,
    ) -> Result<Built, WalletError> {
        let answerable = self
            .answerable
            .as_ref()
            .map_err(|why| failure(PresentationFailure::Unsatisfiable, why.clone()))?;
        for a in answerable.iter().filter(|a| a.required) {
            if !choices
                .iter()
                .any(|c| c.query_id == a.query_id && !c.credential_ids.is_empty())
            {
                return Err(WalletError::invalid(format!(
                    "the query {} must be answered",
                    a.query_id
                )));
            }
        }
        let wallet = &self.wallet;
        let area = CheckedSecureArea(&*wallet.secure_area);
        // Every answer is weighed by the policy before any copy of a batch is spent on it.
        let mut plan = Vec::new();
        for choice in choices {
            if choice.credential_ids.is_empty() {
                continue;
            }
            let a = answerable
                .iter()
                .find(|a| a.query_id == choice.query_id)
                .ok_or_else(|| {
                    WalletError::invalid(format!(
                        "{} is not a query the wallet can answer",
                        choice.query_id
                    ))
                })?;
            let dcql = match &self.protocol {
                Protocol::OpenId4Vp(r) => &r.dcql,
                Protocol::Mdoc(r) => &r.dcql,
            };
            let query = dcql
                .credential(&a.query_id)
                .ok_or_else(|| WalletError::invalid("unknown query"))?;
            if !query.multiple && choice.credential_ids.len() != 1 {
                return Err(WalletError::invalid(format!(
                    "the query {} takes one credential",
                    a.query_id
                )));
            }
            for credential_id in &choice.credential_ids {
                let m = a
                    .matches
                    .iter()
                    .find(|m| {
                        self.held
                            .get(m.candidate)
                            .is_some_and(|h| h.id == *credential_id)
                    })
                    .ok_or_else(|| {
                        WalletError::invalid(format!(
                            "credential {credential_id} does not answer {}",
                            a.query_id
                        ))
                    })?;
                let held = self
                    .held
                    .get(m.candidate)
                    .ok_or_else(|| WalletError::invalid("unknown credential"))?;
                let offered = self
                    .view
                    .queries
                    .iter()
                    .filter(|q| q.query_id == a.query_id)
                    .flat_map(|q| q.candidates.iter())
                    .find(|c| c.credential_id == *credential_id)
                    .map(asked_claims)
                    .unwrap_or_default();
                let items =
                    wallet.decide(&self.policy, &self.party, &held.candidate.doc_type, offered)?;
                let named_items: Option<Vec<String>> = named.map(|list| {
                    list.iter()
                        .filter(|d| d.id == a.query_id && d.credential_id == *credential_id)
                        .flat_map(|d| d.items.iter().cloned())
                        .collect()
                });
                let released = release(&items, named_items.as_deref())?;
                plan.push((a, m, held, released));
            }
        }
        // Each answer's released claims. For an SD-JWT, what it carries beyond the claims
        // decided one by one (the contents of a disclosed object, its plain claims) is weighed
        // too, on the stored credential, before any copy is spent: a copy of a batch holds
        // the same claims. The selection is kept for a credential issued alone, its own copy.
        let mut prepared = Vec::with_capacity(plan.len());
        for (a, m, held, released) in plan {
            let claims: Vec<&dcql::Disclosed> = m
                .claims
                .iter()
                .filter(|c| {
                    released
                        .released
                        .contains(&path_text(&held.candidate.format, &c.path))
                })
                .collect();
            // Nothing it was asked for may go: it is not presented at all.
            let presented = !claims.is_empty() || m.claims.is_empty();
            let credential = if presented {
                Some(wallet.get_credential(held.id.clone())?)
            } else {
                None
            };
            let sd_jwt = match (&credential, held.format) {
                (Some(credential), CredentialFormat::SdJwtVc) => {
                    let pointers: Vec<String> =
                        claims.iter().map(|c| dcql::pointer(&c.path)).collect();
                    let selected = select_stored(&credential.raw, &pointers)?;
                    check_presented_claims(&self.policy, &self.party.asker, &selected.0)?;
                    Some((pointers, selected))
                }
                _ => None,
            };
            prepared.push((a, held, released, claims, credential, sd_jwt));
        }
        let mut out: Vec<(String, Vec<Presentation>)> = Vec::new();
        let mut answered = Vec::new();
        for (a, held, released, claims, credential, sd_jwt) in prepared {
            answered.push(Answered {
                query_id: a.query_id.clone(),
                credential_id: held.id.clone(),
                doc_type: held.candidate.doc_type.clone(),
                released,
            });
            let Some(credential) = credential else {
                continue;
            };
            let at = match out.iter().position(|(q, _)| *q == a.query_id) {
                Some(at) => at,
                None => {
                    out.push((a.query_id.clone(), Vec::new()));
                    out.len() - 1
                }
            };
            let Some((_, presentations)) = out.get_mut(at) else {
                continue;
            };
            let (raw, alias) = wallet.presentation_copy(&credential)?;
            // An SD-JWT came with its selection; anything else is an mdoc.
            match sd_jwt {
                None => {
                    let elements: Vec<(String, String)> = claims
                        .iter()
                        .filter_map(|c| match c.path.as_slice() {
                            [dcql::Segment::Key(ns), dcql::Segment::Key(e)] => {
                                Some((ns.clone(), e.clone()))
                            }
                            _ => None,
                        })
                        .collect();
                    let stored = IssuerSigned::parse(&raw)?;
                    let device_key = stored.held_mso()?.device_key.clone();
                    let mut sign = |tbs: &[u8]| area.sign(&alias, &device_key, tbs);
                    let document = build_document(
                        &stored,
                        &elements,
                        &elements,
                        transcript,
                        DeviceAuthentication::Signature(&mut sign),
                    )?;
                    presentations.push(Presentation::Mdoc(DeviceResponse::encode_values(
                        vec![document],
                        &[],
                        0,
                    )));
                }
                Some((pointers, checked)) => {
                    let (mut presentation, alg) = if raw == credential.raw {
                        checked
                    } else {
                        select_stored(&raw, &pointers)?
                    };
                    let extra = request
                        .map(|r| response::transaction_data_claims(r, &a.query_id))
                        .unwrap_or_default();
                    let input = key_binding_input_with(
                        &presentation,
                        alg,
                        audience,
                        nonce,
                        wallet.now()?,
                        extra,
                    );
                    let public_key = area.public_key(&alias)?;
                    let signature = area.sign(&alias, &public_key, input.as_bytes())?;
                    presentation.kb_jwt = Some(crate::crypto::jose::compact(&input, &signature));
                    presentations.push(Presentation::SdJwt(presentation.to_compact()));
                }
            }
        }
        Ok((out, answered))
    }
}

#[uniffi::export]
impl OnlinePresentation {
    /// The request as the citizen is asked about it.
    pub fn request(&self) -> OnlineRequestView {
        self.view.clone()
    }

    /// The consent step: who asks, and the policy's verdict on every item of the first
    /// candidate of every query.
    pub fn disclosure(&self) -> DisclosureRequest {
        self.disclosure.clone()
    }

    /// Answers with the chosen credentials (every required query answered): builds each
    /// presentation (the DeviceResponse bound to this request's transcript, the SD-JWT VC with
    /// the asked claims the policy releases and a key binding to this client and nonce,
    /// transaction data hashed in), and delivers it — POSTed to the relying party (encrypted
    /// when it asked), or returned for the platform over the Digital Credentials API. Items
    /// the policy withholds, and full values that need their own approval, do not go (use
    /// `respond_to` to approve those by name).
    pub async fn respond(&self, choices: Vec<QueryChoice>) -> Result<OnlineOutcome, WalletError> {
        self.answer_with(choices, None, 0).await
    }

    /// Answers with the citizen's decision on the `DisclosureRequest` (documents named by
    /// query id), remembering it when asked.
    pub async fn respond_to(
        &self,
        decision: DisclosureDecision,
    ) -> Result<OnlineOutcome, WalletError> {
        let mut choices: Vec<QueryChoice> = Vec::new();
        for approval in &decision.approved {
            match choices.iter_mut().find(|c| c.query_id == approval.id) {
                Some(choice) => choice.credential_ids.push(approval.credential_id.clone()),
                None => choices.push(QueryChoice {
                    query_id: approval.id.clone(),
                    credential_ids: vec![approval.credential_id.clone()],
                }),
            }
        }
        self.answer_with(choices, Some(decision.approved), decision.remember_days)
            .await
    }

    /// Runs the consent step: when remembered grants cover everything that could go, answers
    /// without asking (a `GrantUsed` event says so); otherwise asks `prompt` (a
    /// `ConsentStepWaiting` event first) and answers its decision as `respond_to`, or declines
    /// on a refusal. A prompt that fails or does not answer within `timeout_seconds` (0: no
    /// limit) declines to the relying party and is then an error (`HostCallback`, `Timeout`).
    pub async fn answer(
        &self,
        prompt: Arc<dyn UserPrompt>,
        timeout_seconds: u32,
    ) -> Result<OnlineOutcome, WalletError> {
        self.wallet.require_unlocked()?;
        if fully_granted(&self.disclosure.documents) {
            let approved: Vec<DocumentApproval> = self
                .disclosure
                .documents
                .iter()
                .filter_map(|d| {
                    Some(DocumentApproval {
                        id: d.id.clone(),
                        credential_id: d.credential_ids.first()?.clone(),
                        items: d
                            .items
                            .iter()
                            .filter(|i| matches!(i.verdict, ItemVerdict::Granted { .. }))
                            .map(|i| i.path.clone())
                            .collect(),
                    })
                })
                .filter(|a| !a.items.is_empty())
                .collect();
            let outcome = self
                .respond_to(DisclosureDecision {
                    approved,
                    remember_days: 0,
                })
                .await?;
            for grant in granted_ids(&self.disclosure) {
                self.wallet.notify(WalletEvent::GrantUsed {
                    grant_id: grant,
                    relying_party: self.party.identity.name.clone().unwrap_or_default(),
                });
            }
            return Ok(outcome);
        }
        self.wallet.notify(WalletEvent::ConsentStepWaiting {
            channel: self.disclosure.channel,
            relying_party: shown_name(&self.party),
        });
        match ask(prompt, self.disclosure.clone(), timeout_seconds).await {
            Ok(Some(decision)) => self.respond_to(decision).await,
            Ok(None) => self.decline().await,
            Err(e) => {
                self.decline().await?;
                Err(e)
            }
        }
    }

    /// Declines: tells the relying party `access_denied` (POSTed, or handed back over the
    /// Digital Credentials API). Nothing is disclosed.
    pub async fn decline(&self) -> Result<OnlineOutcome, WalletError> {
        self.finish()?;
        self.wallet.record(
            crate::journal::JournalKind::PresentationDeclined,
            serde_json::json!({
                "channel": self.channel(),
                "relying_party": self.relying_party_json(),
                "reason": match &self.view.unsatisfiable {
                    Some(why) => format!("the wallet cannot answer: {why}"),
                    None => "declined by the citizen".into(),
                },
            }),
        )?;
        match &self.protocol {
            Protocol::OpenId4Vp(request)
                if matches!(
                    request.response_mode,
                    ResponseMode::DirectPost | ResponseMode::DirectPostJwt
                ) =>
            {
                let body = response::error_body(
                    request,
                    PresentationFailure::Declined,
                    "the citizen declined",
                );
                self.post(request, body).await
            }
            _ => Ok(OnlineOutcome {
                redirect_uri: None,
                dc_api_response: Some(serde_json::json!({ "error": "access_denied" }).to_string()),
                disclosed: Vec::new(),
            }),
        }
    }
}

impl OnlinePresentation {
    async fn answer_with(
        &self,
        choices: Vec<QueryChoice>,
        named: Option<Vec<DocumentApproval>>,
        remember_days: u32,
    ) -> Result<OnlineOutcome, WalletError> {
        self.wallet.require_unlocked()?;
        let named = named.as_deref();
        match &self.protocol {
            Protocol::OpenId4Vp(request) => {
                let encryption = response::encryption(request);
                if request.response_mode.encrypted() && encryption.is_none() {
                    return Err(failure(
                        PresentationFailure::InvalidRequest,
                        "no usable encryption key",
                    ));
                }
                let transcript = response::mdoc_transcript(
                    request,
                    self.origin.as_deref(),
                    encryption.as_ref().map(|(k, _)| k),
                );
                let audience = response::audience(request, self.origin.as_deref());
                let (answers, answered) = self.build(
                    &choices,
                    named,
                    &transcript,
                    &audience,
                    &request.nonce,
                    Some(request),
                )?;
                self.finish()?;
                // Recorded before anything leaves: no presentation without its record.
                self.record_presented(&choices, &answered, remember_days)?;
                let token = response::vp_token(&answers);
                let outcome = match request.response_mode {
                    ResponseMode::DcApi | ResponseMode::DcApiJwt => OnlineOutcome {
                        redirect_uri: None,
                        dc_api_response: Some(
                            response::dc_api_data(&token, encryption.as_ref())?.to_string(),
                        ),
                        disclosed: Vec::new(),
                    },
                    ResponseMode::DirectPost | ResponseMode::DirectPostJwt => {
                        let body =
                            response::direct_post_body(request, &token, encryption.as_ref())?;
                        self.post(request, body).await?
                    }
                };
                Ok(OnlineOutcome {
                    disclosed: disclosed_of(&answered),
                    ..outcome
                })
            }
            Protocol::Mdoc(request) => {
                let (answers, answered) =
                    self.build(&choices, named, &request.transcript, "", "", None)?;
                self.finish()?;
                self.record_presented(&choices, &answered, remember_days)?;
                // One DeviceResponse with every document, encrypted to the relying party.
                let mut documents = Vec::new();
                for (_, presentations) in &answers {
                    for p in presentations {
                        if let Presentation::Mdoc(bytes) = p {
                            let parsed = cbor::decode(bytes)?;
                            if let Ok(Some(docs)) = cbor::map(&parsed, "DeviceResponse").map(|m| {
                                cbor::get(m, "documents")
                                    .and_then(|d| cbor::array(d, "documents").ok())
                            }) {
                                documents.extend(docs.iter().cloned());
                            }
                        }
                    }
                }
                let device_response = DeviceResponse::encode_values(documents, &[], 0);
                Ok(OnlineOutcome {
                    redirect_uri: None,
                    dc_api_response: Some(
                        dc_api::mdoc_response(request, &device_response)?.to_string(),
                    ),
                    disclosed: disclosed_of(&answered),
                })
            }
        }
    }

    async fn post(
        &self,
        request: &AuthorizationRequest,
        body: String,
    ) -> Result<OnlineOutcome, WalletError> {
        let http = self.http.as_ref().ok_or_else(|| {
            failure(
                PresentationFailure::OutOfOrder,
                "no HTTP client for direct_post",
            )
        })?;
        let uri = request
            .response_uri
            .clone()
            .ok_or_else(|| failure(PresentationFailure::InvalidRequest, "no response_uri"))?;
        let answer = http
            .send(
                HttpRequest::post(&uri, "application/x-www-form-urlencoded", body.into_bytes())
                    .header("Accept", "application/json"),
            )
            .await
            .map_err(|e| e.in_callback("HttpClient.send"))?;
        Ok(OnlineOutcome {
            redirect_uri: response::redirect_of(answer.status, &answer.body)?,
            dc_api_response: None,
            disclosed: Vec::new(),
        })
    }
}
