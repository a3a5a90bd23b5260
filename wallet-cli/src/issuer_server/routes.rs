//! The server's routes and what they share: the test authority, the settings, the admin token
//! and the state; the JSON error of every endpoint; the two metadata documents (OpenID4VCI 1.0
//! section 12.2, RFC 8414); credential offers (OpenID4VCI 1.0 section 4.1) and the admin API
//! that makes them.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use wallet_core::TestAuthority;

use super::configurations::{self, Configuration, Subject};
use super::state::{
    random_digits, random_token, Full, GrantType, Issuance, Offer, PreAuthorizedCode,
    State as Memory,
};
use super::{credential, oauth};

/// Largest request body read, in bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// The pre-authorized grant type.
pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/// How the server was started.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Most proofs (and so credentials) in one credential request.
    pub batch_size: usize,
    /// Every proof must carry a key attestation.
    pub require_key_attestation: bool,
    /// `/par` and `/token` require a client attestation and its proof of possession.
    pub require_client_attestation: bool,
    /// Every credential gets an entry in this status list.
    pub status_uri: Option<String>,
    /// Print no progress lines (an issuer embedded in another command).
    pub quiet: bool,
}

/// What every handler shares.
pub struct Shared {
    /// The test authority that signs everything.
    pub authority: Arc<TestAuthority>,
    /// How the server was started.
    pub settings: Settings,
    /// The bearer token of the admin API.
    admin_token: String,
    /// The credential issuer identifier, known once the server is bound.
    base_url: OnceLock<String>,
    /// Offers, codes, tokens ...
    state: Mutex<Memory>,
}

impl Shared {
    /// A server for `authority` with a fresh admin token.
    pub fn new(authority: Arc<TestAuthority>, settings: Settings) -> std::io::Result<Self> {
        Ok(Shared {
            authority,
            settings,
            admin_token: random_token()?,
            base_url: OnceLock::new(),
            state: Mutex::new(Memory::default()),
        })
    }

    /// A progress line on stderr (configuration ids and counts only, never a secret), unless
    /// the server runs quiet.
    pub fn progress(&self, line: std::fmt::Arguments<'_>) {
        if !self.settings.quiet {
            eprintln!("{line}");
        }
    }

    /// The admin API's bearer token.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// Sets the base URL once the server is bound (later calls change nothing).
    pub fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    /// The credential issuer identifier (= authorization server issuer).
    pub fn base_url(&self) -> Result<&str, ApiError> {
        self.base_url
            .get()
            .map(String::as_str)
            .ok_or_else(|| ApiError::server("the server is starting"))
    }

    /// The state. No handler panics while holding it, so a poisoned lock still holds
    /// consistent data.
    pub fn state(&self) -> MutexGuard<'_, Memory> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// An error answer: `{"error", "error_description"}`, `no-store`, with `WWW-Authenticate`
/// for an invalid bearer token.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    status: StatusCode,
    /// The OAuth / OpenID4VCI error code.
    code: &'static str,
    /// What went wrong, for a developer (never a secret).
    description: String,
    /// Answer with `WWW-Authenticate: Bearer error="invalid_token"`.
    bearer: bool,
}

impl ApiError {
    /// A 400 error.
    pub fn bad(code: &'static str, description: impl Into<String>) -> Self {
        Self::with_status(StatusCode::BAD_REQUEST, code, description)
    }

    /// An error with another status.
    pub fn with_status(
        status: StatusCode,
        code: &'static str,
        description: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code,
            description: description.into(),
            bearer: false,
        }
    }

    /// 401 `invalid_token` with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750).
    pub fn invalid_token(description: impl Into<String>) -> Self {
        ApiError {
            bearer: true,
            ..Self::with_status(StatusCode::UNAUTHORIZED, "invalid_token", description)
        }
    }

    /// 401 `invalid_client`.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::with_status(StatusCode::UNAUTHORIZED, "invalid_client", description)
    }

    /// 500 `server_error`.
    pub fn server(description: impl Into<String>) -> Self {
        Self::with_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            description,
        )
    }

    /// The error of a request whose body did not parse: `code`, or 413 when it was too large.
    pub fn unreadable(code: &'static str, why: impl std::fmt::Display, status: StatusCode) -> Self {
        let status = if status == StatusCode::PAYLOAD_TOO_LARGE {
            status
        } else {
            StatusCode::BAD_REQUEST
        };
        Self::with_status(status, code, format!("the request body: {why}"))
    }

    /// Its error code.
    #[cfg(test)]
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl From<Full> for ApiError {
    fn from(_: Full) -> Self {
        Self::with_status(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "too many live entries; try again later",
        )
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        Self::server(format!("randomness: {e}"))
    }
}

impl From<wallet_core::WalletError> for ApiError {
    fn from(e: wallet_core::WalletError) -> Self {
        Self::server(format!("issuing: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = json_response(
            self.status,
            &json!({ "error": self.code, "error_description": self.description }),
        );
        if self.bearer {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        response
    }
}

/// A JSON answer with `Cache-Control: no-store`.
pub fn json_response(status: StatusCode, value: &Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        value.to_string(),
    )
        .into_response()
}

/// The bearer token of an `Authorization` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Equal without a timing difference that depends on where the bytes differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Every route.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/.well-known/openid-credential-issuer",
            get(issuer_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(authorization_server_metadata),
        )
        .route("/offers/{offer_id}", get(offer_by_reference))
        .route("/admin/offers", post(admin_offers))
        .route("/admin/events", get(admin_events))
        .route("/par", post(oauth::par))
        .route(
            "/authorize",
            get(oauth::authorize_page).post(oauth::authorize_decision),
        )
        .route("/token", post(oauth::token))
        .route("/nonce", post(credential::nonce))
        .route("/credential", post(credential::credential))
        .route("/deferred", post(credential::deferred))
        .route("/notification", post(credential::notification))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}

/// The credential issuer metadata (OpenID4VCI 1.0 section 12.2.4). The issuer is its own
/// authorization server, so there is no `authorization_servers`.
pub fn issuer_metadata_json(shared: &Shared, base: &str) -> Value {
    let settings = &shared.settings;
    let configurations: serde_json::Map<String, Value> = configurations::configurations()
        .iter()
        .map(|c| {
            (
                c.id.to_string(),
                c.metadata(settings.require_key_attestation),
            )
        })
        .collect();
    let mut metadata = json!({
        "credential_issuer": base,
        "credential_endpoint": format!("{base}/credential"),
        "nonce_endpoint": format!("{base}/nonce"),
        "deferred_credential_endpoint": format!("{base}/deferred"),
        "notification_endpoint": format!("{base}/notification"),
        "display": [
            { "name": "Jigap 테스트 발급기관", "locale": "ko" },
            { "name": "Jigap test issuer", "locale": "en" },
        ],
        "credential_configurations_supported": configurations,
    });
    if settings.batch_size > 1 {
        metadata["batch_credential_issuance"] = json!({ "batch_size": settings.batch_size });
    }
    metadata
}

/// Whether an `Accept` header lists `application/jwt` (with a non-zero quality).
fn accepts_jwt(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let is_jwt = parts
                .next()
                .is_some_and(|t| t.eq_ignore_ascii_case("application/jwt"));
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            is_jwt && !refused
        })
}

/// `GET /.well-known/openid-credential-issuer`: JSON, or signed metadata (`application/jwt`)
/// when the `Accept` header asks for it (section 12.2.2).
async fn issuer_metadata(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let metadata = issuer_metadata_json(&shared, shared.base_url()?);
    if accepts_jwt(&headers) {
        let jwt = shared
            .authority
            .sign_issuer_metadata(metadata.to_string())?;
        return Ok(([(header::CONTENT_TYPE, "application/jwt")], jwt).into_response());
    }
    Ok(Json(metadata).into_response())
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
async fn authorization_server_metadata(
    State(shared): State<Arc<Shared>>,
) -> Result<Response, ApiError> {
    let base = shared.base_url()?;
    let attested = shared.settings.require_client_attestation;
    let mut auth_methods = vec!["none"];
    if attested {
        auth_methods.push("attest_jwt_client_auth");
    }
    Ok(Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "pushed_authorization_request_endpoint": format!("{base}/par"),
        "require_pushed_authorization_requests": true,
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", PRE_AUTHORIZED_GRANT],
        "code_challenge_methods_supported": ["S256"],
        // With client attestation required, the pre-authorized grant needs a client_id.
        "pre-authorized_grant_anonymous_access_supported": !attested,
        "authorization_details_types_supported": ["openid_credential"],
        "authorization_response_iss_parameter_supported": true,
        "token_endpoint_auth_methods_supported": auth_methods,
    }))
    .into_response())
}

/// `GET /offers/{offer_id}`: an offer by reference, while it is live and unused.
async fn offer_by_reference(
    State(shared): State<Arc<Shared>>,
    Path(offer_id): Path<String>,
) -> Response {
    let state = shared.state();
    match state.offers.get(&offer_id).filter(|o| o.by_reference) {
        Some(offer) => json_response(StatusCode::OK, &offer.json),
        None => ApiError::with_status(
            StatusCode::NOT_FOUND,
            "invalid_request",
            "no such offer (expired or used)",
        )
        .into_response(),
    }
}

/// `tx_code` defaults to true.
fn default_true() -> bool {
    true
}

/// An offer lives 600 seconds unless told otherwise.
fn default_expires_in() -> u64 {
    600
}

/// The grant of a new offer.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
pub enum GrantChoice {
    /// A pre-authorized code (with a transaction code unless `tx_code` is false).
    #[default]
    #[serde(rename = "pre-authorized")]
    PreAuthorized,
    /// An authorization code flow started with `issuer_state`.
    #[serde(rename = "authorization_code")]
    AuthorizationCode,
}

/// The body of `POST /admin/offers`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferRequest {
    /// The configurations offered (at least one).
    pub configuration_ids: Vec<String>,
    /// The grant.
    #[serde(default)]
    pub grant: GrantChoice,
    /// Whether the pre-authorized code needs a transaction code.
    #[serde(default = "default_true")]
    pub tx_code: bool,
    /// Offer by reference (`credential_offer_uri`) instead of by value.
    #[serde(default)]
    pub by_reference: bool,
    /// Seconds the offer and its code live.
    #[serde(default = "default_expires_in")]
    pub expires_in: u64,
    /// Issue deferred, ready this many seconds after the credential request.
    #[serde(default)]
    pub deferred_seconds: Option<u64>,
    /// Who the credentials are about.
    #[serde(default)]
    pub subject: Option<Subject>,
}

impl OfferRequest {
    /// An offer of `configuration_ids` with every default: pre-authorized with a
    /// transaction code, by value, for 600 seconds.
    pub fn of(configuration_ids: Vec<String>) -> Self {
        OfferRequest {
            configuration_ids,
            grant: GrantChoice::PreAuthorized,
            tx_code: true,
            by_reference: false,
            expires_in: default_expires_in(),
            deferred_seconds: None,
            subject: None,
        }
    }
}

/// A new offer.
#[derive(Debug, Clone)]
pub struct CreatedOffer {
    /// Its id (`/offers/{id}` when by reference).
    pub offer_id: String,
    /// `openid-credential-offer://?credential_offer...`
    pub offer_uri: String,
    /// The Credential Offer object.
    pub offer: Value,
    /// The transaction code to give the holder out of band.
    pub tx_code: Option<String>,
}

/// Longest offer lifetime, in seconds (a day).
const MAX_OFFER_SECONDS: u64 = 86_400;
/// Longest issuance delay, in seconds (an hour).
const MAX_DEFERRED_SECONDS: u64 = 3_600;

/// Checks `configuration_ids`: at least one, each known, none twice.
pub fn known_configurations(ids: &[String]) -> Result<Vec<&'static Configuration>, String> {
    if ids.is_empty() {
        return Err("configuration_ids is empty".into());
    }
    let mut found: Vec<&'static Configuration> = Vec::with_capacity(ids.len());
    for id in ids {
        let configuration =
            configurations::find(id).ok_or_else(|| format!("unknown configuration {id:?}"))?;
        if found.iter().any(|c| c.id == configuration.id) {
            return Err(format!("configuration {id:?} is named twice"));
        }
        found.push(configuration);
    }
    Ok(found)
}

/// Makes an offer (OpenID4VCI 1.0 section 4.1.1) and remembers its code or issuer state.
pub fn create_offer(shared: &Shared, request: OfferRequest) -> Result<CreatedOffer, ApiError> {
    let invalid = |why: String| ApiError::bad("invalid_request", why);
    known_configurations(&request.configuration_ids).map_err(invalid)?;
    if request.expires_in == 0 || request.expires_in > MAX_OFFER_SECONDS {
        return Err(invalid(format!(
            "expires_in must be 1 to {MAX_OFFER_SECONDS} seconds"
        )));
    }
    if request
        .deferred_seconds
        .is_some_and(|d| d > MAX_DEFERRED_SECONDS)
    {
        return Err(invalid(format!(
            "deferred_seconds must be at most {MAX_DEFERRED_SECONDS}"
        )));
    }
    let subject = request.subject.unwrap_or_default();
    subject.check().map_err(invalid)?;
    let base = shared.base_url()?.to_string();
    let offer_id = random_token()?;
    let lifetime = Duration::from_secs(request.expires_in);
    let grant_value = random_token()?;
    let (grant, grants, tx_code) = match request.grant {
        GrantChoice::PreAuthorized => {
            let tx_code = if request.tx_code {
                Some(random_digits(6)?)
            } else {
                None
            };
            let mut grant = json!({ "pre-authorized_code": grant_value });
            if tx_code.is_some() {
                grant["tx_code"] = json!({
                    "input_mode": "numeric",
                    "length": 6,
                    "description": "발급 기관이 따로 보낸 6자리 숫자 (the 6-digit code sent separately)",
                });
            }
            (
                GrantType::PreAuthorized,
                json!({ PRE_AUTHORIZED_GRANT: grant }),
                tx_code,
            )
        }
        GrantChoice::AuthorizationCode => (
            GrantType::AuthorizationCode,
            json!({ "authorization_code": { "issuer_state": grant_value } }),
            None,
        ),
    };
    let offer_json = json!({
        "credential_issuer": base,
        "credential_configuration_ids": request.configuration_ids,
        "grants": grants,
    });
    let query = if request.by_reference {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("credential_offer_uri", &format!("{base}/offers/{offer_id}"))
            .finish()
    } else {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("credential_offer", &offer_json.to_string())
            .finish()
    };
    let offer = Offer {
        grant,
        by_reference: request.by_reference,
        json: offer_json.clone(),
        issuance: Issuance {
            configuration_ids: request.configuration_ids,
            subject,
            deferred_seconds: request.deferred_seconds,
        },
    };
    let mut state = shared.state();
    match grant {
        GrantType::PreAuthorized => state.pre_authorized.insert(
            grant_value,
            lifetime,
            PreAuthorizedCode {
                offer_id: offer_id.clone(),
                tx_code: tx_code.clone(),
                wrong_tries: 0,
            },
        )?,
        GrantType::AuthorizationCode => {
            state
                .issuer_states
                .insert(grant_value, lifetime, offer_id.clone())?
        }
    }
    state.offers.insert(offer_id.clone(), lifetime, offer)?;
    Ok(CreatedOffer {
        offer_id,
        offer_uri: format!("openid-credential-offer://?{query}"),
        offer: offer_json,
        tx_code,
    })
}

/// Checks the admin API's bearer token.
fn admin(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    match bearer(headers) {
        Some(token) if same_secret(token, shared.admin_token()) => Ok(()),
        _ => Err(ApiError::invalid_token(
            "the admin API needs the admin token",
        )),
    }
}

/// `POST /admin/offers`: a new offer.
async fn admin_offers(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    admin(&shared, &headers)?;
    let Json(body) = body.map_err(|e| ApiError::unreadable("invalid_request", &e, e.status()))?;
    let request: OfferRequest = serde_json::from_value(body)
        .map_err(|e| ApiError::bad("invalid_request", e.to_string()))?;
    let created = create_offer(&shared, request)?;
    shared.progress(format_args!(
        "offer made for {}",
        created.offer["credential_configuration_ids"]
    ));
    Ok(json_response(
        StatusCode::CREATED,
        &json!({
            "offer_id": created.offer_id,
            "offer_uri": created.offer_uri,
            "offer": created.offer,
            "tx_code": created.tx_code,
        }),
    ))
}

/// `GET /admin/events`: notifications received and how many credentials were issued.
async fn admin_events(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    admin(&shared, &headers)?;
    let state = shared.state();
    let notifications: Vec<Value> = state
        .events
        .iter()
        .map(|e| {
            json!({
                "notification_id": e.notification_id,
                "event": e.event,
                "event_description": e.event_description,
            })
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "notifications": notifications, "issued": state.issued }),
    ))
}
