//! Online issuance (OpenID4VCI 1.0) through the API: resolve an offer, let the citizen see
//! what is offered and by whom, get the token (transaction code, or the browser step the host
//! opens), receive the credentials into fresh device keys, check them against the issuer trust
//! anchors and the offer, and store them — a batch as one credential whose copies are each
//! presented once, a re-issue in place of its predecessor, a deferred one as a pending issuance
//! to poll. The protocol lives in `issuance`; this file moves bytes through the host's
//! `HttpClient` and keys through its `SecureArea`.

use std::sync::Arc;

use super::host::CheckedSecureArea;
use super::http::{HttpClient, HttpHeader, HttpMethod, HttpRequest};
use super::presentation::display_names;
use super::records::{CredentialFormat, NewCredential};
use super::{Wallet, WalletError};
use crate::issuance::check::{IssuedFormat, IssuerAnchors};
use crate::issuance::error::IssuanceFailure;
use crate::issuance::flow::{
    self, AcceptOptions, ClientAttestation, DeferredIssuance, HolderKey, Issuance, IssuanceHost,
    Outcome, Poll, Received, ResolveOptions,
};
use crate::issuance::messages::{self, NotificationEvent};
use crate::issuance::metadata::{ConfigurationFormat, LocalizedName};
use crate::issuance::offer::TxCodeSpec;
use crate::issuance::url::UrlPolicy;
use crate::store::credentials::CredentialCopy;
use crate::store::documents::{kind::PENDING_ISSUANCE, StoredDocument};
use crate::trust::x509::TrustRole;

/// The host platform's attestations, which HAIP asks issuers to require: key attestations
/// (Android Key Attestation, iOS App Attest turned into a `key-attestation+jwt` by the wallet
/// provider) and the wallet's client attestation. The core passes them through; the issuer
/// checks them.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait PlatformAttestation: Send + Sync {
    /// A key attestation JWT covering `public_keys` (SEC1 P-256, made by the `SecureArea`),
    /// for the issuer's `nonce`; `None` when the platform cannot attest them.
    async fn key_attestation(
        &self,
        public_keys: Vec<Vec<u8>>,
        nonce: Option<String>,
    ) -> Result<Option<String>, WalletError>;

    /// The wallet's client attestation and a fresh proof of possession for the authorization
    /// server `audience`; `None` when the wallet has none.
    async fn client_attestation(
        &self,
        audience: String,
    ) -> Result<Option<ClientAttestationPair>, WalletError>;
}

/// A client attestation and its proof of possession.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientAttestationPair {
    /// `oauth-client-attestation+jwt`.
    pub attestation: String,
    /// `oauth-client-attestation-pop+jwt`, for one request.
    pub pop: String,
}

impl std::fmt::Debug for ClientAttestationPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientAttestationPair(<redacted>)")
    }
}

/// One credential an offer holds, as the citizen is shown it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OfferedCredential {
    /// The issuer's id for it.
    pub configuration_id: String,
    /// Its encoding.
    pub format: CredentialFormat,
    /// docType or `vct`.
    pub doc_type: String,
    /// Its name in Korean (the wallet's, else the issuer's, else the type).
    pub display_name_ko: String,
    /// Its name in English.
    pub display_name_en: String,
    /// Whether the issuer requires a key attestation for it.
    pub key_attestation_required: bool,
}

/// A resolved credential offer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CredentialOfferView {
    /// The credential issuer's identifier (an https URL).
    pub credential_issuer: String,
    /// The issuer's names, as its metadata gives them.
    pub issuer_names: Vec<LocalizedName>,
    /// The subject of the certificate that signed the issuer's metadata, when it was signed
    /// (and verified against the wallet's issuer metadata anchors).
    pub metadata_signed_by: Option<String>,
    /// What is offered.
    pub credentials: Vec<OfferedCredential>,
    /// The pre-authorized code flow: `accept` directly (with the transaction code if asked).
    pub pre_authorized: bool,
    /// The transaction code the citizen must type, if any.
    pub tx_code: Option<TxCodeSpec>,
    /// The authorization code flow: `authorization_url`, the browser, then
    /// `complete_authorization`.
    pub authorization_code: bool,
    /// Most copies of each credential one request may ask for (a batch).
    pub max_copies: u32,
}

/// What to ask for when accepting an offer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IssuanceOptions {
    /// The transaction code the citizen typed, when the offer asks for one.
    #[uniffi(default = None)]
    pub tx_code: Option<String>,
    /// The wallet's OAuth client id, if it has one (else the pre-authorized flow is
    /// anonymous).
    #[uniffi(default = None)]
    pub client_id: Option<String>,
    /// Copies of each credential, each bound to its own key and presented once (1 to
    /// `max_copies`).
    #[uniffi(default = 1)]
    pub copies: u32,
    /// A credential this issuance replaces (a refresh): it is deleted, with its keys, in the
    /// same transaction that stores its successor, which must be of the same type.
    #[uniffi(default = None)]
    pub replaces: Option<String>,
    /// Only these offered configurations; empty: all of them.
    #[uniffi(default = [])]
    pub configuration_ids: Vec<String>,
}

impl Default for IssuanceOptions {
    fn default() -> Self {
        IssuanceOptions {
            tx_code: None,
            client_id: None,
            copies: 1,
            replaces: None,
            configuration_ids: Vec::new(),
        }
    }
}

/// A credential received and stored.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IssuedCredential {
    /// Its id in the wallet.
    pub credential_id: String,
    /// The configuration it was issued for.
    pub configuration_id: String,
    /// docType or `vct`.
    pub doc_type: String,
    /// Its name in Korean.
    pub display_name_ko: String,
    /// Its name in English.
    pub display_name_en: String,
    /// Copies stored (1 unless a batch).
    pub copies: u32,
    /// The credential it replaced, if any.
    pub replaced: Option<String>,
}

/// An issuance the issuer deferred: poll it with `Wallet.poll_pending_issuance`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PendingIssuance {
    /// Its id in the wallet.
    pub id: String,
    /// The issuer.
    pub credential_issuer: String,
    /// The configuration asked for.
    pub configuration_id: String,
    /// docType or `vct`, when known.
    pub doc_type: Option<String>,
    /// Not before this time (Unix seconds), as the issuer asked.
    pub retry_after: i64,
}

/// What an accept or a poll came to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IssuanceResult {
    /// Credentials stored.
    pub credentials: Vec<IssuedCredential>,
    /// Issuances deferred.
    pub pending: Vec<PendingIssuance>,
    /// What did not stop the issuance but the host may show or log (a notification the
    /// issuer did not take, a predecessor key that could not be deleted).
    pub warnings: Vec<String>,
}

/// What a pending issuance keeps (sealed in the store).
#[derive(serde::Serialize, serde::Deserialize)]
struct PendingRecord {
    deferred: DeferredIssuance,
    replaces: Option<String>,
    names: (String, String),
}

/// The wallet, the host's HTTP client and its platform, as the issuance flow sees them.
struct Host {
    wallet: Arc<Wallet>,
    http: Arc<dyn HttpClient>,
    platform: Option<Arc<dyn PlatformAttestation>>,
}

#[async_trait::async_trait]
impl IssuanceHost for Host {
    type Error = WalletError;

    async fn send(&self, request: messages::Request) -> Result<messages::Response, WalletError> {
        let response = self
            .http
            .send(HttpRequest {
                method: match request.method {
                    messages::Method::Get => HttpMethod::Get,
                    messages::Method::Post => HttpMethod::Post,
                },
                url: request.url,
                headers: request
                    .headers
                    .into_iter()
                    .map(|(name, value)| HttpHeader { name, value })
                    .collect(),
                body: request.body,
            })
            .await
            .map_err(|e| e.in_callback("HttpClient.send"))?;
        let mut headers: Vec<(String, String)> = response
            .headers
            .into_iter()
            .map(|h| (h.name, h.value))
            .collect();
        if let Some(content_type) = response.content_type {
            if !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            {
                headers.push(("Content-Type".into(), content_type));
            }
        }
        Ok(messages::Response {
            status: response.status,
            headers,
            body: response.body,
        })
    }

    fn now(&self) -> Result<i64, WalletError> {
        self.wallet.now()
    }

    fn create_key(&self) -> Result<HolderKey, WalletError> {
        let key = self.wallet.create_device_key()?;
        Ok(HolderKey {
            alias: key.alias,
            public_key: key.public_key,
        })
    }

    fn sign(&self, key: &HolderKey, message: &[u8]) -> Result<Vec<u8>, WalletError> {
        CheckedSecureArea(&*self.wallet.secure_area).sign(&key.alias, &key.public_key, message)
    }

    fn discard_key(&self, key: &HolderKey) {
        // A key that holds nothing: deleting it is tidiness, and a wipe deletes it otherwise.
        let _ = self
            .wallet
            .delete_host_keys(std::slice::from_ref(&key.alias));
    }

    async fn key_attestation(
        &self,
        keys: &[Vec<u8>],
        nonce: Option<&str>,
    ) -> Result<Option<String>, WalletError> {
        match &self.platform {
            Some(platform) => platform
                .key_attestation(keys.to_vec(), nonce.map(str::to_owned))
                .await
                .map_err(|e| e.in_callback("PlatformAttestation.keyAttestation")),
            None => Ok(None),
        }
    }

    async fn client_attestation(
        &self,
        audience: &str,
    ) -> Result<Option<ClientAttestation>, WalletError> {
        match &self.platform {
            Some(platform) => Ok(platform
                .client_attestation(audience.to_owned())
                .await
                .map_err(|e| e.in_callback("PlatformAttestation.clientAttestation"))?
                .map(|pair| ClientAttestation {
                    attestation: pair.attestation,
                    pop: pair.pop,
                })),
            None => Ok(None),
        }
    }
}

fn name_in(names: &[LocalizedName], language: &str) -> Option<String> {
    names
        .iter()
        .find(|n| {
            n.locale
                .as_deref()
                .is_some_and(|l| l.split('-').next() == Some(language))
        })
        .map(|n| n.name.clone())
}

fn names_of(doc_type: &str, issuer_names: &[LocalizedName]) -> (String, String) {
    if crate::documents::known_names(doc_type).is_some() {
        return display_names(doc_type);
    }
    let fallback = issuer_names
        .first()
        .map_or_else(|| doc_type.to_owned(), |n| n.name.clone());
    (
        name_in(issuer_names, "ko").unwrap_or_else(|| fallback.clone()),
        name_in(issuer_names, "en").unwrap_or(fallback),
    )
}

fn format_of(format: &ConfigurationFormat) -> Option<CredentialFormat> {
    match format {
        ConfigurationFormat::MsoMdoc { .. } => Some(CredentialFormat::MsoMdoc),
        ConfigurationFormat::SdJwtVc { .. } => Some(CredentialFormat::SdJwtVc),
        ConfigurationFormat::Other(_) => None,
    }
}

impl Wallet {
    fn url_policy(&self) -> UrlPolicy {
        UrlPolicy {
            allow_loopback_http: self.allow_loopback_http,
        }
    }

    /// Stores what was received for a configuration, then tells the issuer.
    async fn store_received(
        &self,
        host: &Host,
        received: Received,
        replaces: Option<&str>,
        names: (String, String),
        warnings: &mut Vec<String>,
    ) -> Result<IssuedCredential, WalletError> {
        let stored = self.store_copies(&received, replaces, &names);
        if let Some(target) = &received.notification {
            let event = if stored.is_ok() {
                NotificationEvent::Accepted
            } else {
                NotificationEvent::Failure
            };
            if let Err(e) = flow::notify(host, target, event, None).await {
                warnings.push(format!("notification: {e}"));
            }
        }
        let (credential_id, replaced) = stored?;
        Ok(IssuedCredential {
            credential_id,
            configuration_id: received.configuration_id.clone(),
            doc_type: received
                .copies
                .first()
                .map(|c| c.checked.doc_type.clone())
                .unwrap_or_default(),
            display_name_ko: names.0,
            display_name_en: names.1,
            copies: u32::try_from(received.copies.len()).unwrap_or(u32::MAX),
            replaced,
        })
    }

    fn store_copies(
        &self,
        received: &Received,
        replaces: Option<&str>,
        names: &(String, String),
    ) -> Result<(String, Option<String>), WalletError> {
        let first = received
            .copies
            .first()
            .ok_or_else(|| WalletError::Internal {
                reason: "a response without credentials".into(),
            })?;
        let format = match first.checked.format {
            IssuedFormat::MsoMdoc => CredentialFormat::MsoMdoc,
            IssuedFormat::SdJwtVc => CredentialFormat::SdJwtVc,
        };
        let copies: Vec<CredentialCopy> = if received.copies.len() > 1 {
            received
                .copies
                .iter()
                .map(|c| CredentialCopy {
                    key_alias: c.key.alias.clone(),
                    raw: c.bytes.clone(),
                })
                .collect()
        } else {
            Vec::new()
        };
        // A replaced credential must still be there, and of the same type.
        let replaces = match replaces {
            Some(old) => {
                let old_credential = self.get_credential(old.to_owned())?;
                (old_credential.summary.doc_type == first.checked.doc_type).then_some(old)
            }
            None => None,
        };
        let id = self.store_issued(
            NewCredential {
                format,
                doc_type: first.checked.doc_type.clone(),
                issuer: first.checked.issuer.clone(),
                display_name_ko: names.0.clone(),
                display_name_en: names.1.clone(),
                valid_from: first.checked.valid_from,
                valid_until: first.checked.valid_until,
                key_alias: Some(first.key.alias.clone()),
                raw: first.bytes.clone(),
            },
            &copies,
            replaces,
        )?;
        Ok((id, replaces.map(str::to_owned)))
    }

    fn pending_record(&self, id: &str) -> Result<PendingRecord, WalletError> {
        let doc = self
            .store
            .get_document(PENDING_ISSUANCE, id)?
            .ok_or_else(|| WalletError::not_found(format!("pending issuance {id}")))?;
        ciborium::from_reader(doc.body.as_slice()).map_err(|e| WalletError::StoreCorrupt {
            reason: format!("pending issuance: {e}"),
        })
    }

    fn put_pending(
        &self,
        id: &str,
        record: &PendingRecord,
    ) -> Result<PendingIssuance, WalletError> {
        let mut body = Vec::new();
        ciborium::into_writer(record, &mut body).map_err(|e| WalletError::Internal {
            reason: e.to_string(),
        })?;
        self.store.put_document(
            PENDING_ISSUANCE,
            &StoredDocument {
                id: id.to_owned(),
                state: 0,
                received_at: self.now()?,
                body,
            },
        )?;
        Ok(pending_view(id, record))
    }

    fn issuer_anchors(
        &self,
    ) -> Result<
        (
            Vec<crate::trust::x509::ParsedCertificate>,
            Vec<crate::trust::x509::ParsedCertificate>,
        ),
        WalletError,
    > {
        Ok((
            self.anchors(TrustRole::MdocIssuer)?,
            self.anchors(TrustRole::SdJwtIssuer)?,
        ))
    }
}

fn pending_view(id: &str, record: &PendingRecord) -> PendingIssuance {
    let d = &record.deferred;
    PendingIssuance {
        id: id.to_owned(),
        credential_issuer: d.credential_issuer.clone(),
        configuration_id: d.configuration_id.clone(),
        doc_type: match &d.format {
            ConfigurationFormat::MsoMdoc { doctype } => Some(doctype.clone()),
            ConfigurationFormat::SdJwtVc { vct } => Some(vct.clone()),
            ConfigurationFormat::Other(_) => None,
        },
        retry_after: d.not_before,
    }
}

/// A resolved offer being issued: show `offer()`, then `accept` (after the browser step for
/// the authorization code flow).
#[derive(uniffi::Object)]
pub struct IssuanceSession {
    host: Host,
    flow: super::tasks::AsyncLock<Issuance>,
    view: CredentialOfferView,
}

impl std::fmt::Debug for IssuanceSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuanceSession")
            .field("credential_issuer", &self.view.credential_issuer)
            .finish_non_exhaustive()
    }
}

#[uniffi::export]
impl Wallet {
    /// Resolves a credential offer the host scanned or received (an
    /// `openid-credential-offer://` URI, or the offer's JSON): fetches the offer when it is
    /// by reference, the issuer's metadata (signed metadata is verified against the
    /// `IssuerMetadata` anchors; the wallet asks for it only when it has such anchors) and the
    /// authorization server's, through `http`. `platform` supplies key and client
    /// attestations when the issuer requires them.
    pub async fn resolve_credential_offer(
        self: Arc<Self>,
        offer: String,
        http: Arc<dyn HttpClient>,
        platform: Option<Arc<dyn PlatformAttestation>>,
    ) -> Result<Arc<IssuanceSession>, WalletError> {
        self.require_unlocked()?;
        let options = ResolveOptions {
            policy: self.url_policy(),
            metadata_anchors: self.anchors(TrustRole::IssuerMetadata)?,
        };
        let host = Host {
            wallet: self.clone(),
            http,
            platform,
        };
        let issuance = Issuance::resolve(&host, &offer, &options).await?;
        let view = view_of(&issuance);
        Ok(Arc::new(IssuanceSession {
            host,
            flow: super::tasks::AsyncLock::new(issuance),
            view,
        }))
    }

    /// Polls a deferred issuance once: stores the credential when the issuer has it ready,
    /// else returns the issuance still pending with its new `retry_after`. Before
    /// `retry_after` nothing is sent.
    pub async fn poll_pending_issuance(
        self: Arc<Self>,
        id: String,
        http: Arc<dyn HttpClient>,
    ) -> Result<IssuanceResult, WalletError> {
        self.require_unlocked()?;
        let record = self.pending_record(&id)?;
        if self.now()? < record.deferred.not_before {
            return Ok(IssuanceResult {
                credentials: Vec::new(),
                pending: vec![pending_view(&id, &record)],
                warnings: Vec::new(),
            });
        }
        let host = Host {
            wallet: self.clone(),
            http,
            platform: None,
        };
        let (mdoc, sd_jwt) = self.issuer_anchors()?;
        let anchors = IssuerAnchors {
            mdoc: &mdoc,
            sd_jwt: &sd_jwt,
        };
        let polled = flow::poll_deferred(&host, &record.deferred, &anchors).await;
        let polled = match polled {
            Ok(polled) => polled,
            Err(e) => {
                // A spent or refused transaction ends the pending issuance and frees its keys.
                if matches!(
                    e,
                    WalletError::Issuance {
                        failure: IssuanceFailure::InvalidTransactionId
                            | IssuanceFailure::CredentialRequestDenied,
                        ..
                    }
                ) {
                    self.drop_pending(&id, &record)?;
                }
                return Err(e);
            }
        };
        match polled {
            Poll::Pending(next) => {
                let record = PendingRecord {
                    deferred: next,
                    replaces: record.replaces.clone(),
                    names: record.names.clone(),
                };
                let view = self.put_pending(&id, &record)?;
                Ok(IssuanceResult {
                    credentials: Vec::new(),
                    pending: vec![view],
                    warnings: Vec::new(),
                })
            }
            Poll::Received(received) => {
                let unused: Vec<String> = record
                    .deferred
                    .keys
                    .iter()
                    .filter(|k| !received.copies.iter().any(|c| c.key.alias == k.alias))
                    .map(|k| k.alias.clone())
                    .collect();
                let mut warnings = Vec::new();
                let issued = self
                    .store_received(
                        &host,
                        received,
                        record.replaces.as_deref(),
                        record.names.clone(),
                        &mut warnings,
                    )
                    .await?;
                self.store.delete_document(PENDING_ISSUANCE, &id)?;
                if let Err(e) = self.delete_host_keys(&unused) {
                    warnings.push(format!("unused keys: {e}"));
                }
                Ok(IssuanceResult {
                    credentials: vec![issued],
                    pending: Vec::new(),
                    warnings,
                })
            }
        }
    }
}

impl Wallet {
    fn drop_pending(&self, id: &str, record: &PendingRecord) -> Result<(), WalletError> {
        self.store.delete_document(PENDING_ISSUANCE, id)?;
        let aliases: Vec<String> = record
            .deferred
            .keys
            .iter()
            .map(|k| k.alias.clone())
            .collect();
        self.delete_host_keys(&aliases)
    }
}

#[uniffi::export]
impl Wallet {
    /// Deferred issuances waiting to be polled.
    pub fn list_pending_issuances(&self) -> Result<Vec<PendingIssuance>, WalletError> {
        self.require_unlocked()?;
        let mut out = Vec::new();
        for doc in self.store.list_documents(PENDING_ISSUANCE)? {
            let record: PendingRecord =
                ciborium::from_reader(doc.body.as_slice()).map_err(|e| {
                    WalletError::StoreCorrupt {
                        reason: format!("pending issuance: {e}"),
                    }
                })?;
            out.push(pending_view(&doc.id, &record));
        }
        Ok(out)
    }

    /// Gives up a deferred issuance: forgets it and deletes the keys it was for.
    pub fn cancel_pending_issuance(&self, id: String) -> Result<(), WalletError> {
        self.require_unlocked()?;
        let record = self.pending_record(&id)?;
        self.drop_pending(&id, &record)
    }
}

fn view_of(issuance: &Issuance) -> CredentialOfferView {
    let issuer = issuance.issuer();
    let offer = issuance.offer();
    CredentialOfferView {
        credential_issuer: issuer.credential_issuer.clone(),
        issuer_names: issuer.display.clone(),
        metadata_signed_by: issuer.signed_by.clone(),
        credentials: issuance
            .offered()
            .into_iter()
            .filter_map(|c| {
                let doc_type = c.doc_type()?.to_owned();
                let (display_name_ko, display_name_en) = names_of(&doc_type, &c.display);
                Some(OfferedCredential {
                    configuration_id: c.id.clone(),
                    format: format_of(&c.format)?,
                    doc_type,
                    display_name_ko,
                    display_name_en,
                    key_attestation_required: c.key_attestation_required,
                })
            })
            .collect(),
        pre_authorized: offer.pre_authorized.is_some(),
        tx_code: offer
            .pre_authorized
            .as_ref()
            .and_then(|g| g.tx_code.clone()),
        authorization_code: offer.authorization_code.is_some(),
        max_copies: issuance.max_copies(),
    }
}

#[uniffi::export]
impl IssuanceSession {
    /// What is offered, by whom.
    pub fn offer(&self) -> CredentialOfferView {
        self.view.clone()
    }

    /// Starts the authorization code flow: returns the URL to open in the browser (after
    /// pushing the request when the server takes PAR). The authorization server redirects to
    /// `redirect_uri` (the wallet's registered one); pass that redirect to
    /// `complete_authorization`.
    pub async fn authorization_url(
        &self,
        client_id: String,
        redirect_uri: String,
    ) -> Result<String, WalletError> {
        self.host.wallet.require_unlocked()?;
        let mut flow = self.flow.lock().await;
        flow.authorization_url(&self.host, &client_id, &redirect_uri)
            .await
    }

    /// Finishes the browser step with the redirect the authorization server sent back (its
    /// full URL): checks it is for this request, from this server, and gets the token.
    pub async fn complete_authorization(&self, redirect: String) -> Result<(), WalletError> {
        self.host.wallet.require_unlocked()?;
        let mut flow = self.flow.lock().await;
        flow.complete_authorization(&self.host, &redirect).await
    }

    /// Receives the offered credentials: each into fresh device keys (`copies` of them for a
    /// batch), each checked against the issuer trust anchors (IACA for mdocs, SD-JWT VC
    /// issuer roots) and the offer (its docType or `vct`, bound to the wallet's key) before
    /// anything is stored. Deferred ones become pending issuances.
    pub async fn accept(&self, options: IssuanceOptions) -> Result<IssuanceResult, WalletError> {
        let wallet = &self.host.wallet;
        wallet.require_unlocked()?;
        if let Some(old) = &options.replaces {
            let old = wallet.get_credential(old.clone())?;
            let wanted: Vec<&OfferedCredential> = self
                .view
                .credentials
                .iter()
                .filter(|c| {
                    options.configuration_ids.is_empty()
                        || options.configuration_ids.contains(&c.configuration_id)
                })
                .collect();
            if !wanted.iter().any(|c| c.doc_type == old.summary.doc_type) {
                return Err(WalletError::invalid(format!(
                    "credential {} is a {}, which this offer does not re-issue",
                    old.summary.id, old.summary.doc_type
                )));
            }
        }
        let (mdoc, sd_jwt) = wallet.issuer_anchors()?;
        let anchors = IssuerAnchors {
            mdoc: &mdoc,
            sd_jwt: &sd_jwt,
        };
        let accept = AcceptOptions {
            tx_code: options.tx_code.clone(),
            client_id: options.client_id.clone(),
            copies: options.copies,
        };
        let outcomes = {
            let mut flow = self.flow.lock().await;
            flow.accept(&self.host, &accept, &options.configuration_ids, &anchors)
                .await?
        };
        let mut result = IssuanceResult {
            credentials: Vec::new(),
            pending: Vec::new(),
            warnings: Vec::new(),
        };
        let names_for = |configuration_id: &str| {
            self.view
                .credentials
                .iter()
                .find(|c| c.configuration_id == configuration_id)
                .map(|c| (c.display_name_ko.clone(), c.display_name_en.clone()))
                .unwrap_or_else(|| (configuration_id.to_owned(), configuration_id.to_owned()))
        };
        for outcome in outcomes {
            match outcome {
                Outcome::Received(received) => {
                    let names = names_for(&received.configuration_id);
                    let issued = wallet
                        .store_received(
                            &self.host,
                            received,
                            options.replaces.as_deref(),
                            names,
                            &mut result.warnings,
                        )
                        .await?;
                    result.credentials.push(issued);
                }
                Outcome::Deferred(deferred) => {
                    let names = names_for(&deferred.configuration_id);
                    let id = crate::crypto::random::identifier()?;
                    let record = PendingRecord {
                        deferred,
                        replaces: options.replaces.clone(),
                        names,
                    };
                    result.pending.push(wallet.put_pending(&id, &record)?);
                }
            }
        }
        Ok(result)
    }
}
