//! The verifier server's routes and what they share. A wallet meets three of them (OpenID4VP
//! 1.0 sections 5.10 and 8.2): `GET /request/{id}` serves the signed request object once,
//! `POST /response/{id}` takes the `direct_post` (or `direct_post.jwt`) answer and has the core
//! verify it, and `GET /done/{id}` is where a verified answer's redirect leads. The admin API
//! (bearer: the admin token) makes requests and reads what became of them. Errors are the
//! issuer server's `{"error", "error_description"}` with `no-store`.

use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use wallet_core::{
    openid4vp_wallet_uri, HttpClient, HttpRequest, Openid4vpVerifier, PresentationFailure,
    PresentationRequestOptions, PresentationResult, ResponseMode, WalletError,
};

use super::queries::dcql_of_specs;
use super::state::{Outcome, Record, Records};
use crate::http::CliHttpClient;
use crate::issuer_server::oauth::escape;
use crate::issuer_server::routes::{bearer, json_response, same_secret, ApiError};
use crate::issuer_server::state::random_token;

/// Largest request body read, in bytes (a wallet's response with a few credentials fits
/// easily; a portrait is never asked for by the shorthand).
pub const MAX_BODY: usize = 256 * 1024;
/// Longest request lifetime, in seconds (a day).
pub const MAX_LIFETIME: u32 = 86_400;
/// Default request lifetime, in seconds.
pub const DEFAULT_LIFETIME: u32 = 300;
/// Most transaction data objects in one request.
pub const MAX_TRANSACTIONS: usize = 16;
/// The media type of a request object (RFC 9101).
const REQUEST_OBJECT_TYPE: &str = "application/oauth-authz-req+jwt";

/// The response modes this server asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
pub enum DirectPostMode {
    /// The response is POSTed as a form.
    #[serde(rename = "direct_post")]
    #[value(name = "direct_post")]
    DirectPost,
    /// The response is POSTed encrypted to the request's key (a JWE in `response`).
    #[serde(rename = "direct_post.jwt")]
    #[value(name = "direct_post.jwt")]
    DirectPostJwt,
}

impl From<DirectPostMode> for ResponseMode {
    fn from(mode: DirectPostMode) -> Self {
        match mode {
            DirectPostMode::DirectPost => ResponseMode::DirectPost,
            DirectPostMode::DirectPostJwt => ResponseMode::DirectPostJwt,
        }
    }
}

/// How the server was started.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The response mode of a request that names none.
    pub response_mode: DirectPostMode,
    /// Status lists fetched before each verification, so credentials that carry a status
    /// reference can be checked.
    pub status_uris: Vec<String>,
    /// Print no progress lines.
    pub quiet: bool,
}

/// A verified response, for whoever prints them as they arrive.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The request it answers.
    pub request_id: String,
    /// What was presented (JSON, see [`result_json`]).
    pub result: Value,
}

/// What every handler shares.
pub struct Shared {
    /// The relying party: signs requests, keeps their secrets, verifies responses.
    pub verifier: Arc<Openid4vpVerifier>,
    /// How the server was started.
    pub settings: Settings,
    /// Fetches the status lists (trusting the test authority's TLS root).
    status_client: CliHttpClient,
    /// The bearer token of the admin API.
    admin_token: String,
    /// `https://127.0.0.1:PORT` (or `https://localhost:PORT`), known once bound.
    base_url: OnceLock<String>,
    /// Every request made.
    records: Mutex<Records>,
    /// Where verified responses are sent as they arrive.
    verified: Mutex<Option<Sender<Verified>>>,
}

impl Shared {
    /// A server for `verifier` with a fresh admin token.
    pub fn new(
        verifier: Arc<Openid4vpVerifier>,
        settings: Settings,
        status_client: CliHttpClient,
    ) -> std::io::Result<Self> {
        Ok(Shared {
            verifier,
            settings,
            status_client,
            admin_token: random_token()?,
            base_url: OnceLock::new(),
            records: Mutex::new(Records::default()),
            verified: Mutex::new(None),
        })
    }

    /// A progress line on stderr (counts and kinds only: never a request id, nonce or claim),
    /// unless the server runs quiet.
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

    /// The base URL.
    pub fn base_url(&self) -> Result<&str, ApiError> {
        self.base_url
            .get()
            .map(String::as_str)
            .ok_or_else(|| ApiError::server("the server is starting"))
    }

    /// Sends each verified response to `sender` from now on.
    pub fn report_to(&self, sender: Sender<Verified>) {
        *self
            .verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(sender);
    }

    /// The records. No handler panics while holding them, so a poisoned lock still holds
    /// consistent data.
    fn records(&self) -> MutexGuard<'_, Records> {
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What became of a request, as `GET /admin/results/{id}` reports it.
    pub fn report(&self, request_id: &str) -> Option<Value> {
        self.records().get(request_id).map(|r| r.report(now()))
    }

    /// Fetches every status list again and hands it to the verifier, which checks its
    /// signer. A list that cannot be had is reported; the verifier then refuses credentials
    /// that point to it once its cached copy is stale.
    pub async fn refresh_status_lists(&self) -> Result<(), String> {
        let mut failures = Vec::new();
        for uri in &self.settings.status_uris {
            let fetched = self
                .status_client
                .send(HttpRequest::get(uri))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| match r.status {
                    200 => Ok(r.body),
                    status => Err(format!("HTTP {status}")),
                })
                .and_then(|token| {
                    self.verifier
                        .add_status_list(uri.clone(), token)
                        .map_err(|e| e.to_string())
                });
            if let Err(e) = fetched {
                failures.push(format!("{uri}: {e}"));
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(format!("status list unavailable: {}", failures.join("; ")))
        }
    }
}

/// Unix seconds now.
fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Every route.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/request/{request_id}", get(request_object))
        .route("/response/{request_id}", post(response))
        .route("/done/{request_id}", get(done))
        .route("/admin/requests", post(admin_requests))
        .route("/admin/results/{request_id}", get(admin_results))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}

/// What to ask, from the command line or the admin API.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// The DCQL query.
    pub dcql: Value,
    /// How the answer comes back (the server's default when `None`).
    pub response_mode: Option<DirectPostMode>,
    /// Transactions to authorize, each a JSON object with `type` and `credential_ids`.
    pub transaction_data: Vec<Value>,
    /// Seconds the request lives.
    pub lifetime: u32,
}

/// A request made.
#[derive(Debug, Clone)]
pub struct CreatedRequest {
    /// Its id.
    pub request_id: String,
    /// What a wallet opens (or a QR code carries): `openid4vp://?client_id=..&request_uri=..`.
    pub wallet_uri: String,
    /// Where its signed request object is served, once.
    pub request_uri: String,
    /// The relying party's client id.
    pub client_id: String,
}

/// Makes a signed request, remembered until answered.
pub fn create_request(shared: &Shared, new: NewRequest) -> Result<CreatedRequest, ApiError> {
    let invalid = |why: String| ApiError::bad("invalid_request", why);
    if new.lifetime == 0 || new.lifetime > MAX_LIFETIME {
        return Err(invalid(format!(
            "lifetime must be 1 to {MAX_LIFETIME} seconds"
        )));
    }
    if new.transaction_data.len() > MAX_TRANSACTIONS {
        return Err(invalid(format!(
            "at most {MAX_TRANSACTIONS} transaction data objects"
        )));
    }
    let base = shared.base_url()?.to_owned();
    let mode = new.response_mode.unwrap_or(shared.settings.response_mode);
    let created = shared
        .verifier
        .create_request(PresentationRequestOptions {
            dcql_query_json: new.dcql.to_string(),
            response_mode: mode.into(),
            response_uri_base: Some(format!("{base}/response")),
            transaction_data_json: new.transaction_data.iter().map(Value::to_string).collect(),
            expected_origins: Vec::new(),
            lifetime_seconds: new.lifetime,
        })
        .map_err(|e| match e {
            WalletError::InvalidInput { reason } => invalid(reason),
            other => ApiError::server(other.to_string()),
        })?;
    let request_uri = format!("{base}/request/{}", created.request_id);
    shared
        .records()
        .insert(
            created.request_id.clone(),
            Record::new(created.request_object, created.expires_at),
            now(),
        )
        .map_err(|_| {
            ApiError::with_status(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "too many requests remembered; try again later",
            )
        })?;
    let queries = new.dcql["credentials"].as_array().map_or(0, Vec::len);
    shared.progress(format_args!(
        "request made: {queries} credential quer{}, {}",
        if queries == 1 { "y" } else { "ies" },
        ResponseMode::from(mode).name()
    ));
    Ok(CreatedRequest {
        wallet_uri: openid4vp_wallet_uri(created.client_id.clone(), request_uri.clone(), false),
        request_id: created.request_id,
        request_uri,
        client_id: created.client_id,
    })
}

/// A verified response as JSON: each credential with the query it answers and its claims.
pub fn result_json(result: &PresentationResult) -> Value {
    json!({
        "credentials": result.credentials.iter().map(|c| json!({
            "query_id": c.query_id,
            "format": c.format,
            "doc_type": c.doc_type,
            "issuer": c.issuer,
            "claims": c.claims.iter().map(|claim| json!({
                "path": claim.path,
                "value": serde_json::from_str::<Value>(&claim.value_json)
                    .unwrap_or_else(|_| Value::String(claim.value_json.clone())),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// Text from outside made fit for one line of a terminal: no control characters, at most 300
/// characters.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect()
}

/// `GET /request/{id}`: the signed request object, once (a request URI is single use).
async fn request_object(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
) -> Response {
    let object = shared
        .records()
        .get_mut(&request_id)
        .and_then(|r| r.request_object.take());
    match object {
        Some(jwt) => {
            shared.progress(format_args!("request object fetched"));
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, REQUEST_OBJECT_TYPE),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                jwt,
            )
                .into_response()
        }
        None => ApiError::with_status(
            StatusCode::NOT_FOUND,
            "invalid_request",
            "no such request object (unknown, or already fetched)",
        )
        .into_response(),
    }
}

/// `POST /response/{id}`: the wallet's answer. The first answer to a request is the only one
/// the core sees; a verified one is answered with a redirect to its result page, a wallet's
/// error with `{}`, and one that fails verification with `400 invalid_request`.
async fn response(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    let first = match shared.records().get_mut(&request_id) {
        Some(record) if record.outcome == Outcome::Pending && !record.answered => {
            record.answered = true;
            true
        }
        _ => false,
    };
    if !first {
        return ApiError::bad(
            "invalid_request",
            "no request waits for this response (unknown, or already answered)",
        )
        .into_response();
    }
    if !shared.settings.status_uris.is_empty() {
        if let Err(e) = shared.refresh_status_lists().await {
            shared.progress(format_args!("{}", one_line(&e)));
        }
    }
    let verified = shared
        .verifier
        .receive_direct_post(request_id.clone(), body.to_vec());
    let (outcome, answer) = match verified {
        Ok(result) => {
            let code = match random_token() {
                Ok(code) => code,
                Err(e) => return ApiError::from(e).into_response(),
            };
            let redirect = match shared.base_url() {
                Ok(base) => format!("{base}/done/{request_id}?response_code={code}"),
                Err(e) => return e.into_response(),
            };
            shared.progress(format_args!(
                "response verified: {} credential(s)",
                result.credentials.len()
            ));
            let value = result_json(&result);
            if let Some(sender) = shared
                .verified
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .as_ref()
            {
                let _ = sender.send(Verified {
                    request_id: request_id.clone(),
                    result: value.clone(),
                });
            }
            if let Some(record) = shared.records().get_mut(&request_id) {
                record.response_code = Some(code);
            }
            (
                Outcome::Verified(value),
                json_response(StatusCode::OK, &json!({ "redirect_uri": redirect })),
            )
        }
        // The wallet's own error answer is taken note of (OpenID4VP 1.0 section 8.5).
        Err(WalletError::Presentation { failure, detail }) => {
            let detail = one_line(&detail);
            shared.progress(format_args!("the wallet answered {failure:?}"));
            let outcome = if failure == PresentationFailure::Declined {
                Outcome::Declined(detail)
            } else {
                Outcome::Failed(format!("the wallet answered {failure:?}: {detail}"))
            };
            (outcome, json_response(StatusCode::OK, &json!({})))
        }
        Err(e) => {
            let why = one_line(&e.to_string());
            shared.progress(format_args!("response refused: {why}"));
            let answer = match e {
                WalletError::Internal { .. } | WalletError::HostCallback { .. } => {
                    ApiError::server(why.clone())
                }
                _ => ApiError::bad("invalid_request", why.clone()),
            };
            (Outcome::Failed(why), answer.into_response())
        }
    };
    if let Some(record) = shared.records().get_mut(&request_id) {
        record.finish(outcome);
    }
    answer
}

/// `GET /done/{id}?response_code=..`: the result page a verified answer's redirect leads to;
/// only the holder of the response code sees it.
async fn done(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let code = query
        .iter()
        .find(|(name, _)| name == "response_code")
        .map(|(_, value)| value.as_str());
    let result = {
        let records = shared.records();
        records.get(&request_id).and_then(|r| {
            let known = r.response_code.as_deref();
            match (&r.outcome, known, code) {
                (Outcome::Verified(result), Some(known), Some(code))
                    if same_secret(known, code) =>
                {
                    Some(result.clone())
                }
                _ => None,
            }
        })
    };
    let page = |status: StatusCode, body: String| {
        (
            status,
            [(header::CACHE_CONTROL, "no-store")],
            Html(format!(
                "<!doctype html><html lang=\"ko\"><head><meta charset=\"utf-8\"><title>Jigap \
                 테스트 검증기 (test verifier)</title></head><body>{body}</body></html>"
            )),
        )
            .into_response()
    };
    let Some(result) = result else {
        return page(
            StatusCode::NOT_FOUND,
            "<h1>결과 없음 (no such result)</h1>".into(),
        );
    };
    let mut body = String::from("<h1>검증 완료 (verified)</h1>");
    for credential in result["credentials"].as_array().into_iter().flatten() {
        let text = |name: &str| escape(credential[name].as_str().unwrap_or_default());
        body.push_str(&format!(
            "<h2>{} <small>({}, {})</small></h2><p>{}</p><ul>",
            text("doc_type"),
            text("format"),
            text("query_id"),
            text("issuer")
        ));
        for claim in credential["claims"].as_array().into_iter().flatten() {
            let path: Vec<&str> = claim["path"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            body.push_str(&format!(
                "<li><code>{}</code> = {}</li>",
                escape(&path.join("/")),
                escape(&claim["value"].to_string())
            ));
        }
        body.push_str("</ul>");
    }
    page(StatusCode::OK, body)
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

/// The body of `POST /admin/requests`: a DCQL query, or SPECs (see [`super::queries`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestBody {
    /// A DCQL query.
    #[serde(default)]
    dcql: Option<Value>,
    /// SPECs, one credential query each.
    #[serde(default)]
    request: Option<Vec<String>>,
    /// The response mode (default: the server's).
    #[serde(default)]
    response_mode: Option<DirectPostMode>,
    /// Transactions to authorize.
    #[serde(default)]
    transaction_data: Vec<Value>,
    /// Seconds the request lives.
    #[serde(default = "default_lifetime")]
    lifetime: u32,
}

/// A request lives 300 seconds unless told otherwise.
fn default_lifetime() -> u32 {
    DEFAULT_LIFETIME
}

/// `POST /admin/requests`: a new request.
async fn admin_requests(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    admin(&shared, &headers)?;
    let Json(body) = body.map_err(|e| ApiError::unreadable("invalid_request", &e, e.status()))?;
    let body: RequestBody = serde_json::from_value(body)
        .map_err(|e| ApiError::bad("invalid_request", e.to_string()))?;
    let dcql = match (body.dcql, body.request) {
        (Some(dcql), None) => dcql,
        (None, Some(specs)) => {
            dcql_of_specs(&specs).map_err(|e| ApiError::bad("invalid_request", e))?
        }
        _ => {
            return Err(ApiError::bad(
                "invalid_request",
                "give either dcql or request",
            ))
        }
    };
    let created = create_request(
        &shared,
        NewRequest {
            dcql,
            response_mode: body.response_mode,
            transaction_data: body.transaction_data,
            lifetime: body.lifetime,
        },
    )?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({
            "request_id": created.request_id,
            "wallet_uri": created.wallet_uri,
            "request_uri": created.request_uri,
            "client_id": created.client_id,
        }),
    ))
}

/// `GET /admin/results/{id}`: what became of a request.
async fn admin_results(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(request_id): Path<String>,
) -> Result<Response, ApiError> {
    admin(&shared, &headers)?;
    let records = shared.records();
    let record = records.get(&request_id).ok_or_else(|| {
        ApiError::with_status(StatusCode::NOT_FOUND, "invalid_request", "no such request")
    })?;
    Ok(json_response(StatusCode::OK, &record.report(now())))
}
