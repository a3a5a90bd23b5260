//! The holder's side of OpenID4VCI 1.0, step by step, over an [`IssuanceHost`] that moves the
//! bytes and holds the keys: resolve an offer (fetching it by reference, the issuer's metadata
//! and its authorization server's), get a token (pre-authorized code with a transaction code,
//! or authorization code with PKCE and PAR, the browser step left to the host), then request
//! credentials with key proofs for fresh device keys (several for a batch), check each one,
//! and hand back what passed, or a deferred transaction to poll later.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::check::{self, CheckError, CheckedCredential, IssuerAnchors};
use super::error::{IssuanceError, IssuanceFailure};
use super::messages::{
    self, CredentialResponse, CredentialSelector, NotificationEvent, Request, Response, Token,
};
use super::metadata::{
    self, AuthorizationServerMetadata, ConfigurationFormat, CredentialConfiguration, IssuerMetadata,
};
use super::offer::{self, CredentialOffer, OfferSource, TxCodeInputMode, PRE_AUTHORIZED_GRANT};
use super::pkce::Pkce;
use super::proof::{self, ProofExtras};
use super::url::{self, UrlPolicy};
use crate::crypto::{jose, random};
use crate::limits::MAX_BATCH_PROOFS;
use crate::trust::x509::ParsedCertificate;

/// A device key the host made for a credential.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderKey {
    /// Its alias in the secure area.
    pub alias: String,
    /// Its public key (SEC1).
    pub public_key: Vec<u8>,
}

impl std::fmt::Debug for HolderKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HolderKey")
            .field("alias", &self.alias)
            .finish_non_exhaustive()
    }
}

/// A client attestation and its proof of possession, from the host's platform.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientAttestation {
    /// The attestation JWT (`oauth-client-attestation+jwt`).
    pub attestation: String,
    /// The proof of possession JWT, for this authorization server.
    pub pop: String,
}

/// What the flow needs from its host: HTTP, the clock, device keys, and the platform's
/// attestations.
#[async_trait::async_trait]
pub trait IssuanceHost: Send + Sync {
    /// The host's error; issuance and check failures convert into it.
    type Error: From<IssuanceError> + From<CheckError> + Send;
    /// Sends a request.
    async fn send(&self, request: Request) -> Result<Response, Self::Error>;
    /// Now, Unix seconds.
    fn now(&self) -> Result<i64, Self::Error>;
    /// Creates a device key for a credential.
    fn create_key(&self) -> Result<HolderKey, Self::Error>;
    /// Signs `message` with `key` (ES256, `r || s`).
    fn sign(&self, key: &HolderKey, message: &[u8]) -> Result<Vec<u8>, Self::Error>;
    /// Deletes a key that ended up holding nothing (best effort).
    fn discard_key(&self, key: &HolderKey);
    /// A key attestation for `keys` and `nonce`, when the platform can make one.
    async fn key_attestation(
        &self,
        keys: &[Vec<u8>],
        nonce: Option<&str>,
    ) -> Result<Option<String>, Self::Error>;
    /// A client attestation for the authorization server `audience`, when the platform has
    /// one.
    async fn client_attestation(
        &self,
        audience: &str,
    ) -> Result<Option<ClientAttestation>, Self::Error>;
}

/// How to resolve an offer.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// Which URLs are accepted.
    pub policy: UrlPolicy,
    /// Trust anchors for signed issuer metadata (role `IssuerMetadata`).
    pub metadata_anchors: Vec<ParsedCertificate>,
}

/// An authorization request sent to the browser, waiting for its redirect.
struct PendingAuthorization {
    pkce: Pkce,
    state: String,
    redirect_uri: String,
    client_id: String,
}

/// A resolved offer and the state of its flow.
pub struct Issuance {
    offer: CredentialOffer,
    issuer: IssuerMetadata,
    server: AuthorizationServerMetadata,
    policy: UrlPolicy,
    authorization: Option<PendingAuthorization>,
    token: Option<Token>,
    /// The client id the token was obtained with (none: anonymous pre-authorized).
    client_id: Option<String>,
}

impl std::fmt::Debug for Issuance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuance")
            .field("credential_issuer", &self.issuer.credential_issuer)
            .field("configurations", &self.offer.configuration_ids)
            .field("has_token", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

/// Credentials received for one configuration.
#[derive(Debug, Clone)]
pub struct Received {
    /// The configuration.
    pub configuration_id: String,
    /// Every copy, each bound to its own key.
    pub copies: Vec<ReceivedCopy>,
    /// Where and how to tell the issuer what became of them.
    pub notification: Option<NotificationTarget>,
}

/// One issued copy, checked.
#[derive(Debug, Clone)]
pub struct ReceivedCopy {
    /// The credential exactly as issued.
    pub bytes: Vec<u8>,
    /// Its key.
    pub key: HolderKey,
    /// What the checks established.
    pub checked: CheckedCredential,
}

/// Where to send a notification, with the token to send it with.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct NotificationTarget {
    /// The notification endpoint.
    #[zeroize(skip)]
    pub endpoint: String,
    /// The access token.
    pub access_token: String,
    /// The issuer's id for these credentials.
    #[zeroize(skip)]
    pub notification_id: String,
}

impl std::fmt::Debug for NotificationTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationTarget")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// A deferred issuance, kept (sealed) until the credential is ready.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct DeferredIssuance {
    /// The issuer.
    #[zeroize(skip)]
    pub credential_issuer: String,
    /// The configuration asked for.
    #[zeroize(skip)]
    pub configuration_id: String,
    /// What it issues.
    #[zeroize(skip)]
    pub format: ConfigurationFormat,
    /// The deferred credential endpoint.
    #[zeroize(skip)]
    pub deferred_endpoint: String,
    /// The notification endpoint, if any.
    #[zeroize(skip)]
    pub notification_endpoint: Option<String>,
    /// The access token to poll with.
    pub access_token: String,
    /// The transaction.
    #[zeroize(skip)]
    pub transaction_id: String,
    /// Not before this time (Unix seconds).
    #[zeroize(skip)]
    pub not_before: i64,
    /// The keys the proofs were for.
    #[zeroize(skip)]
    pub keys: Vec<HolderKey>,
    /// Whether loopback http was allowed when it started.
    #[zeroize(skip)]
    pub allow_loopback_http: bool,
}

impl std::fmt::Debug for DeferredIssuance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeferredIssuance")
            .field("credential_issuer", &self.credential_issuer)
            .field("configuration_id", &self.configuration_id)
            .field("not_before", &self.not_before)
            .finish_non_exhaustive()
    }
}

/// What a credential request came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Issued and checked.
    Received(Received),
    /// Deferred: poll later.
    Deferred(DeferredIssuance),
}

/// What the holder asks for when accepting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcceptOptions {
    /// The transaction code the citizen typed, when the offer asks for one.
    pub tx_code: Option<String>,
    /// The wallet's OAuth client id, when it has one.
    pub client_id: Option<String>,
    /// Copies per credential (a batch), 1 to the issuer's batch size.
    pub copies: u32,
}

async fn send<H: IssuanceHost>(host: &H, request: Request) -> Result<Response, H::Error> {
    host.send(request).await
}

fn out_of_order(why: &str) -> IssuanceError {
    IssuanceError::new(IssuanceFailure::OutOfOrder, why)
}

fn with_attestation(request: Request, attestation: &Option<ClientAttestation>) -> Request {
    match attestation {
        Some(a) => request
            .header("OAuth-Client-Attestation", &a.attestation)
            .header("OAuth-Client-Attestation-PoP", &a.pop),
        None => request,
    }
}

/// Checks the transaction code the citizen typed against what the offer asked for.
fn check_tx_code(
    spec: Option<&offer::TxCodeSpec>,
    code: Option<&str>,
) -> Result<(), IssuanceError> {
    let invalid = |why: &str| IssuanceError::new(IssuanceFailure::InvalidRequest, why);
    match (spec, code) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(invalid("this offer asks for no transaction code")),
        (Some(_), None) => Err(invalid("this offer asks for a transaction code")),
        (Some(spec), Some(code)) => {
            if code.is_empty() || code.len() > 64 {
                return Err(invalid("a transaction code is 1 to 64 characters"));
            }
            if spec.input_mode == TxCodeInputMode::Numeric
                && !code.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(invalid("this transaction code is digits only"));
            }
            if let Some(length) = spec.length {
                if code.chars().count() != length as usize {
                    return Err(invalid(&format!(
                        "this transaction code has {length} characters"
                    )));
                }
            }
            Ok(())
        }
    }
}

impl Issuance {
    /// Resolves what the host scanned or received: the offer (fetched when by reference),
    /// the issuer's metadata (verified when signed) and its authorization server's. Every
    /// offered configuration must be described by the issuer and be one this wallet can
    /// receive.
    pub async fn resolve<H: IssuanceHost>(
        host: &H,
        input: &str,
        options: &ResolveOptions,
    ) -> Result<Self, H::Error> {
        let policy = options.policy;
        let offer = match offer::parse_input(input, policy)? {
            OfferSource::Value(offer) => offer,
            OfferSource::Reference(reference) => {
                let response = send(host, Request::get(&reference, messages::JSON)).await?;
                if response.status != 200 {
                    return Err(IssuanceError::offer(format!(
                        "the offer could not be fetched (HTTP {})",
                        response.status
                    ))
                    .into());
                }
                offer::parse_json(&response.body, policy)?
            }
        };
        let accept = if options.metadata_anchors.is_empty() {
            messages::JSON.to_owned()
        } else {
            format!("application/jwt, {};q=0.9", messages::JSON)
        };
        let location = url::well_known(&offer.credential_issuer, metadata::ISSUER_WELL_KNOWN)?;
        let response = send(
            host,
            Request::get(&location, &accept).header("Accept-Language", "ko, en;q=0.8"),
        )
        .await?;
        if response.status != 200 {
            return Err(IssuanceError::metadata(format!(
                "the issuer's metadata could not be fetched (HTTP {})",
                response.status
            ))
            .into());
        }
        let issuer = metadata::parse_issuer_metadata(
            &response.body,
            response.media_type().as_deref(),
            &offer.credential_issuer,
            &options.metadata_anchors,
            host.now()?,
            policy,
        )?;
        if issuer.encryption_required {
            return Err(IssuanceError::new(
                IssuanceFailure::Unsupported,
                "the issuer requires encrypted credential requests or responses",
            )
            .into());
        }
        for id in &offer.configuration_ids {
            let configuration = issuer.configurations.get(id).ok_or_else(|| {
                IssuanceError::offer(format!("the issuer does not describe configuration {id}"))
            })?;
            configuration.check_supported()?;
        }
        let named = offer
            .pre_authorized
            .as_ref()
            .and_then(|g| g.authorization_server.clone())
            .or_else(|| {
                offer
                    .authorization_code
                    .as_ref()
                    .and_then(|g| g.authorization_server.clone())
            });
        let server_id = match named {
            Some(named) if issuer.authorization_servers.contains(&named) => named,
            Some(named) => {
                return Err(IssuanceError::offer(format!(
                    "the offer names {named}, not one of the issuer's authorization servers"
                ))
                .into())
            }
            None => issuer
                .authorization_servers
                .first()
                .cloned()
                .unwrap_or_else(|| issuer.credential_issuer.clone()),
        };
        let location = url::well_known(&server_id, metadata::AS_WELL_KNOWN)?;
        let response = send(host, Request::get(&location, messages::JSON)).await?;
        if response.status != 200 {
            return Err(IssuanceError::metadata(format!(
                "the authorization server's metadata could not be fetched (HTTP {})",
                response.status
            ))
            .into());
        }
        let server = metadata::parse_as_metadata(&response.body, &server_id, policy)?;
        let mut offer = offer;
        if offer.pre_authorized.is_none() && offer.authorization_code.is_none() {
            // No grant in the offer: the authorization code flow, when the server has it.
            if server.grant_types.iter().any(|g| g == "authorization_code")
                && server.authorization_endpoint.is_some()
            {
                offer.authorization_code = Some(offer::AuthorizationCodeGrant {
                    issuer_state: None,
                    authorization_server: None,
                });
            } else {
                return Err(IssuanceError::offer(
                    "the offer grants nothing and the server has no authorization code flow",
                )
                .into());
            }
        }
        Ok(Issuance {
            offer,
            issuer,
            server,
            policy,
            authorization: None,
            token: None,
            client_id: None,
        })
    }

    /// The offer.
    pub fn offer(&self) -> &CredentialOffer {
        &self.offer
    }

    /// The issuer's metadata.
    pub fn issuer(&self) -> &IssuerMetadata {
        &self.issuer
    }

    /// The authorization server's metadata.
    pub fn server(&self) -> &AuthorizationServerMetadata {
        &self.server
    }

    /// The offered configurations, in the offer's order.
    pub fn offered(&self) -> Vec<&CredentialConfiguration> {
        self.offer
            .configuration_ids
            .iter()
            .filter_map(|id| self.issuer.configurations.get(id))
            .collect()
    }

    /// Most copies one request can ask for.
    pub fn max_copies(&self) -> u32 {
        self.issuer
            .batch_size
            .unwrap_or(1)
            .clamp(1, MAX_BATCH_PROOFS as u32)
    }

    /// Whether a token is held.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Starts the authorization code flow: pushes the authorization request (PAR) when the
    /// server takes it, and returns the URL the host opens in the browser. The redirect comes
    /// back to `redirect_uri`; hand it to [`Issuance::complete_authorization`].
    pub async fn authorization_url<H: IssuanceHost>(
        &mut self,
        host: &H,
        client_id: &str,
        redirect_uri: &str,
    ) -> Result<String, H::Error> {
        let grant =
            self.offer.authorization_code.clone().ok_or_else(|| {
                out_of_order("this offer does not grant the authorization code flow")
            })?;
        if client_id.is_empty() || client_id.len() > 256 {
            return Err(IssuanceError::new(
                IssuanceFailure::InvalidRequest,
                "a client id is 1 to 256 bytes",
            )
            .into());
        }
        if !redirect_uri.contains("://") || redirect_uri.len() > 2048 || redirect_uri.contains('#')
        {
            return Err(IssuanceError::new(
                IssuanceFailure::InvalidRequest,
                "the redirect URI is not an absolute URI without fragment",
            )
            .into());
        }
        let endpoint = self.server.authorization_endpoint.clone().ok_or_else(|| {
            IssuanceError::metadata("the authorization server has no authorization endpoint")
        })?;
        if !self.server.code_challenge_methods.is_empty()
            && !self
                .server
                .code_challenge_methods
                .iter()
                .any(|m| m == "S256")
        {
            return Err(IssuanceError::new(
                IssuanceFailure::Unsupported,
                "the authorization server does not take S256 PKCE",
            )
            .into());
        }
        let pkce = Pkce::new().map_err(IssuanceError::from)?;
        let state = random::identifier().map_err(IssuanceError::from)?;
        let details = messages::authorization_details(&self.offer.configuration_ids);
        let mut params: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("code_challenge", pkce.challenge()),
            ("code_challenge_method", "S256"),
            ("state", &state),
            ("authorization_details", &details),
        ];
        if let Some(issuer_state) = &grant.issuer_state {
            params.push(("issuer_state", issuer_state));
        }
        let location = match &self.server.par_endpoint {
            Some(par) => {
                let attestation = host.client_attestation(&self.server.issuer).await?;
                let request = with_attestation(Request::form(par, &params), &attestation);
                let request_uri = messages::parse_par(&send(host, request).await?)?;
                url::with_query(
                    &endpoint,
                    &[("client_id", client_id), ("request_uri", &request_uri)],
                )
            }
            None if self.server.require_par => {
                return Err(IssuanceError::metadata(
                    "the server requires PAR and names no PAR endpoint",
                )
                .into())
            }
            None => url::with_query(&endpoint, &params),
        };
        self.authorization = Some(PendingAuthorization {
            pkce,
            state,
            redirect_uri: redirect_uri.to_owned(),
            client_id: client_id.to_owned(),
        });
        Ok(location)
    }

    /// Finishes the browser step: reads the redirect (state, issuer, code or error) and
    /// exchanges the code for a token with the PKCE verifier.
    pub async fn complete_authorization<H: IssuanceHost>(
        &mut self,
        host: &H,
        redirect: &str,
    ) -> Result<(), H::Error> {
        let pending = self
            .authorization
            .take()
            .ok_or_else(|| out_of_order("no authorization request is waiting for a redirect"))?;
        let code = messages::parse_redirect(
            redirect,
            &pending.redirect_uri,
            &pending.state,
            &self.server.issuer,
            self.server.iss_in_response,
        )?;
        let attestation = host.client_attestation(&self.server.issuer).await?;
        let request = Request::form(
            &self.server.token_endpoint,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &pending.redirect_uri),
                ("code_verifier", pending.pkce.verifier()),
                ("client_id", &pending.client_id),
            ],
        );
        let token =
            messages::parse_token(&send(host, with_attestation(request, &attestation)).await?)?;
        self.token = Some(token);
        self.client_id = Some(pending.client_id);
        Ok(())
    }

    /// Gets a token with the offer's pre-authorized code and the citizen's transaction code.
    async fn pre_authorized_token<H: IssuanceHost>(
        &mut self,
        host: &H,
        options: &AcceptOptions,
    ) -> Result<(), H::Error> {
        let grant = self.offer.pre_authorized.clone().ok_or_else(|| {
            out_of_order("this offer needs the browser step first (authorization_url)")
        })?;
        check_tx_code(grant.tx_code.as_ref(), options.tx_code.as_deref())?;
        let attestation = host.client_attestation(&self.server.issuer).await?;
        let client_id = options.client_id.clone().filter(|c| !c.is_empty());
        if client_id.is_none() && !self.server.pre_authorized_anonymous {
            return Err(IssuanceError::new(
                IssuanceFailure::InvalidClient,
                "the authorization server takes no anonymous pre-authorized code: give a client id",
            )
            .into());
        }
        let mut params: Vec<(&str, &str)> = vec![
            ("grant_type", PRE_AUTHORIZED_GRANT),
            ("pre-authorized_code", &grant.code),
        ];
        if let Some(tx_code) = &options.tx_code {
            params.push(("tx_code", tx_code));
        }
        if let Some(client_id) = &client_id {
            params.push(("client_id", client_id));
        }
        let request = Request::form(&self.server.token_endpoint, &params);
        let token =
            messages::parse_token(&send(host, with_attestation(request, &attestation)).await?)?;
        self.token = Some(token);
        self.client_id = client_id;
        Ok(())
    }

    /// Requests every offered credential (or those in `only`), `options.copies` copies each,
    /// each copy for a fresh device key, and checks what comes back. Gets the token first
    /// for a pre-authorized offer. Keys that end up holding nothing are discarded.
    pub async fn accept<H: IssuanceHost>(
        &mut self,
        host: &H,
        options: &AcceptOptions,
        only: &[String],
        anchors: &IssuerAnchors<'_>,
    ) -> Result<Vec<Outcome>, H::Error> {
        if self.token.is_none() {
            self.pre_authorized_token(host, options).await?;
        }
        let copies = options.copies.max(1);
        if copies > self.max_copies() {
            return Err(IssuanceError::new(
                IssuanceFailure::InvalidRequest,
                format!(
                    "{copies} copies asked for; this issuer issues at most {} per request",
                    self.max_copies()
                ),
            )
            .into());
        }
        let wanted: Vec<String> = if only.is_empty() {
            self.offer.configuration_ids.clone()
        } else {
            for id in only {
                if !self.offer.configuration_ids.contains(id) {
                    return Err(IssuanceError::new(
                        IssuanceFailure::InvalidRequest,
                        format!("{id} was not offered"),
                    )
                    .into());
                }
            }
            only.to_vec()
        };
        let mut outcomes = Vec::new();
        for id in wanted {
            outcomes.push(self.request_one(host, &id, copies, anchors).await?);
        }
        Ok(outcomes)
    }

    async fn fresh_nonce<H: IssuanceHost>(&self, host: &H) -> Result<Option<String>, H::Error> {
        match &self.issuer.nonce_endpoint {
            None => Ok(None),
            Some(endpoint) => {
                let request = Request {
                    method: messages::Method::Post,
                    url: endpoint.clone(),
                    headers: vec![("Accept".into(), messages::JSON.into())],
                    body: Vec::new(),
                };
                Ok(Some(messages::parse_nonce(&send(host, request).await?)?))
            }
        }
    }

    async fn proofs<H: IssuanceHost>(
        &self,
        host: &H,
        keys: &[HolderKey],
        nonce: Option<&str>,
        configuration: &CredentialConfiguration,
    ) -> Result<Vec<String>, H::Error> {
        let key_attestation = if configuration.key_attestation_required {
            let publics: Vec<Vec<u8>> = keys.iter().map(|k| k.public_key.clone()).collect();
            Some(
                host.key_attestation(&publics, nonce)
                    .await?
                    .ok_or_else(|| {
                        IssuanceError::new(
                            IssuanceFailure::Unsupported,
                            "the issuer requires a key attestation, and the platform gives none",
                        )
                    })?,
            )
        } else {
            None
        };
        let now = host.now()?;
        let mut proofs = Vec::with_capacity(keys.len());
        for key in keys {
            let extras = ProofExtras {
                client_id: self.client_id.as_deref(),
                key_attestation: key_attestation.as_deref(),
            };
            let input = proof::signing_input_with(
                &key.public_key,
                &self.issuer.credential_issuer,
                now,
                nonce,
                &extras,
            )
            .map_err(IssuanceError::from)?;
            let signature = host.sign(key, input.as_bytes())?;
            proofs.push(jose::compact(&input, &signature));
        }
        Ok(proofs)
    }

    async fn request_one<H: IssuanceHost>(
        &self,
        host: &H,
        id: &str,
        copies: u32,
        anchors: &IssuerAnchors<'_>,
    ) -> Result<Outcome, H::Error> {
        let configuration = self
            .issuer
            .configurations
            .get(id)
            .ok_or_else(|| IssuanceError::offer(format!("no configuration {id}")))?
            .clone();
        configuration.check_supported()?;
        let mut keys = Vec::new();
        for _ in 0..copies {
            match host.create_key() {
                Ok(key) => keys.push(key),
                Err(e) => {
                    keys.iter().for_each(|k| host.discard_key(k));
                    return Err(e);
                }
            }
        }
        let result = self
            .request_with_keys(host, &configuration, &keys, anchors)
            .await;
        match &result {
            Ok(Outcome::Received(received)) => {
                for key in &keys {
                    if !received.copies.iter().any(|c| c.key.alias == key.alias) {
                        host.discard_key(key);
                    }
                }
            }
            Ok(Outcome::Deferred(_)) => {}
            Err(_) => keys.iter().for_each(|k| host.discard_key(k)),
        }
        result
    }

    async fn request_with_keys<H: IssuanceHost>(
        &self,
        host: &H,
        configuration: &CredentialConfiguration,
        keys: &[HolderKey],
        anchors: &IssuerAnchors<'_>,
    ) -> Result<Outcome, H::Error> {
        let token = self
            .token
            .as_ref()
            .ok_or_else(|| out_of_order("no access token yet"))?;
        let selector = token
            .credential_identifiers
            .iter()
            .find(|(c, _)| *c == configuration.id)
            .and_then(|(_, ids)| ids.first().cloned())
            .map_or_else(
                || CredentialSelector::Configuration(configuration.id.clone()),
                CredentialSelector::Identifier,
            );
        let mdoc = matches!(configuration.format, ConfigurationFormat::MsoMdoc { .. });
        let mut retried = false;
        let response = loop {
            let nonce = self.fresh_nonce(host).await?;
            let proofs = self
                .proofs(host, keys, nonce.as_deref(), configuration)
                .await?;
            let body = messages::credential_request(&selector, &proofs);
            let request =
                Request::json(&self.issuer.credential_endpoint, &body).bearer(&token.access_token);
            let response = send(host, request).await?;
            match messages::parse_credential_response(&response, mdoc, "credential") {
                // A nonce that expired between fetching and using it: once more, fresh.
                Err(e) if e.failure == IssuanceFailure::InvalidNonce && !retried => {
                    retried = true;
                }
                other => break other?,
            }
        };
        let now = host.now()?;
        match response {
            CredentialResponse::Issued {
                credentials,
                notification_id,
            } => {
                let notification = match (&self.issuer.notification_endpoint, notification_id) {
                    (Some(endpoint), Some(id)) => Some(NotificationTarget {
                        endpoint: endpoint.clone(),
                        access_token: token.access_token.to_string(),
                        notification_id: id,
                    }),
                    _ => None,
                };
                let checked = check_all(&configuration.format, &credentials, keys, anchors, now);
                match checked {
                    Ok(copies) => Ok(Outcome::Received(Received {
                        configuration_id: configuration.id.clone(),
                        copies,
                        notification,
                    })),
                    Err(e) => {
                        if let Some(target) = &notification {
                            // The issuer learns that its credentials were refused; a failure
                            // to tell it does not hide why they were.
                            let _ = notify(
                                host,
                                target,
                                NotificationEvent::Failure,
                                Some("the credential failed the wallet's checks"),
                            )
                            .await;
                        }
                        Err(e.into())
                    }
                }
            }
            CredentialResponse::Deferred {
                transaction_id,
                interval,
            } => {
                let deferred_endpoint = self
                    .issuer
                    .deferred_credential_endpoint
                    .clone()
                    .ok_or_else(|| {
                        IssuanceError::protocol(
                            "the issuer deferred issuance and names no deferred endpoint",
                        )
                    })?;
                Ok(Outcome::Deferred(DeferredIssuance {
                    credential_issuer: self.issuer.credential_issuer.clone(),
                    configuration_id: configuration.id.clone(),
                    format: configuration.format.clone(),
                    deferred_endpoint,
                    notification_endpoint: self.issuer.notification_endpoint.clone(),
                    access_token: token.access_token.to_string(),
                    transaction_id,
                    not_before: now.saturating_add(i64::try_from(interval).unwrap_or(i64::MAX)),
                    keys: keys.to_vec(),
                    allow_loopback_http: self.policy.allow_loopback_http,
                }))
            }
        }
    }
}

/// Checks every credential of a response and pairs each with the key it is bound to: every
/// one must be bound to a distinct key of `keys`.
fn check_all(
    format: &ConfigurationFormat,
    credentials: &[Vec<u8>],
    keys: &[HolderKey],
    anchors: &IssuerAnchors<'_>,
    now: i64,
) -> Result<Vec<ReceivedCopy>, CheckError> {
    if credentials.len() > keys.len() {
        return Err(CheckError::NotOffered(format!(
            "{} credentials for {} keys",
            credentials.len(),
            keys.len()
        )));
    }
    let mut copies: Vec<ReceivedCopy> = Vec::with_capacity(credentials.len());
    for bytes in credentials {
        let checked = check::check(format, bytes, anchors, now)?;
        let key = keys
            .iter()
            .find(|k| k.public_key == checked.device_key)
            .ok_or_else(|| {
                CheckError::NotOffered(
                    "a credential is bound to a key this wallet did not prove".into(),
                )
            })?;
        if copies.iter().any(|c| c.key.alias == key.alias) {
            return Err(CheckError::NotOffered(
                "two credentials are bound to the same key".into(),
            ));
        }
        copies.push(ReceivedCopy {
            bytes: bytes.clone(),
            key: key.clone(),
            checked,
        });
    }
    Ok(copies)
}

/// Tells the issuer what became of credentials (OpenID4VCI 1.0 section 11).
pub async fn notify<H: IssuanceHost>(
    host: &H,
    target: &NotificationTarget,
    event: NotificationEvent,
    description: Option<&str>,
) -> Result<(), H::Error> {
    let body = messages::notification(&target.notification_id, event, description);
    let request = Request::json(&target.endpoint, &body).bearer(&target.access_token);
    messages::check_notification(&send(host, request).await?)?;
    Ok(())
}

/// What polling a deferred issuance came to.
#[derive(Debug, Clone)]
pub enum Poll {
    /// Issued and checked.
    Received(Received),
    /// Still pending: poll again at the new time.
    Pending(DeferredIssuance),
}

/// Polls a deferred issuance once (OpenID4VCI 1.0 section 9).
pub async fn poll_deferred<H: IssuanceHost>(
    host: &H,
    deferred: &DeferredIssuance,
    anchors: &IssuerAnchors<'_>,
) -> Result<Poll, H::Error> {
    let policy = UrlPolicy {
        allow_loopback_http: deferred.allow_loopback_http,
    };
    url::check(
        &deferred.deferred_endpoint,
        "deferred_credential_endpoint",
        policy,
    )?;
    let body = serde_json::json!({ "transaction_id": deferred.transaction_id });
    let request = Request::json(&deferred.deferred_endpoint, &body).bearer(&deferred.access_token);
    let response = send(host, request).await?;
    let mdoc = matches!(deferred.format, ConfigurationFormat::MsoMdoc { .. });
    let now = host.now()?;
    match messages::parse_credential_response(&response, mdoc, "deferred credential")? {
        CredentialResponse::Deferred {
            transaction_id,
            interval,
        } => {
            let mut next = deferred.clone();
            next.transaction_id = transaction_id;
            next.not_before = now.saturating_add(i64::try_from(interval).unwrap_or(i64::MAX));
            Ok(Poll::Pending(next))
        }
        CredentialResponse::Issued {
            credentials,
            notification_id,
        } => {
            let notification = match (&deferred.notification_endpoint, notification_id) {
                (Some(endpoint), Some(id)) => Some(NotificationTarget {
                    endpoint: endpoint.clone(),
                    access_token: deferred.access_token.clone(),
                    notification_id: id,
                }),
                _ => None,
            };
            let copies = check_all(&deferred.format, &credentials, &deferred.keys, anchors, now)?;
            Ok(Poll::Received(Received {
                configuration_id: deferred.configuration_id.clone(),
                copies,
                notification,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuance::offer::TxCodeSpec;

    #[test]
    fn transaction_codes_are_checked_before_sending() {
        let numeric = TxCodeSpec {
            input_mode: TxCodeInputMode::Numeric,
            length: Some(6),
            description: None,
        };
        assert!(check_tx_code(Some(&numeric), Some("123456")).is_ok());
        for bad in [None, Some("12345"), Some("12345a"), Some("")] {
            assert_eq!(
                check_tx_code(Some(&numeric), bad).unwrap_err().failure,
                IssuanceFailure::InvalidRequest
            );
        }
        assert!(check_tx_code(None, Some("1")).is_err());
        assert!(check_tx_code(None, None).is_ok());
        let text = TxCodeSpec {
            input_mode: TxCodeInputMode::Text,
            length: None,
            description: None,
        };
        assert!(check_tx_code(Some(&text), Some("코드-1")).is_ok());
    }
}
