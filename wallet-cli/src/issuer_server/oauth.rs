//! The authorization server: pushed authorization requests (RFC 9126), the browser step at
//! `/authorize` with the `iss` response parameter (RFC 9207), PKCE with S256 only (RFC 7636),
//! `authorization_details` of type `openid_credential` (RFC 9396, OpenID4VCI 1.0 section
//! 5.1.1), the token endpoint for the authorization code and pre-authorized code grants
//! (OpenID4VCI 1.0 section 6), and, when asked for, attestation-based client authentication
//! (OAuth 2.0 Attestation-Based Client Authentication).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::configurations;
use super::routes::{json_response, ApiError, Shared, PRE_AUTHORIZED_GRANT};
use super::state::{
    random_token, AccessToken, AuthorizationCode, GrantType, Issuance, PushedRequest,
};

/// Seconds a pushed request lives.
const REQUEST_URI_SECONDS: u64 = 60;
/// Seconds an authorization code lives.
const CODE_SECONDS: u64 = 60;
/// Seconds an access token lives.
pub const TOKEN_SECONDS: u64 = 600;
/// Wrong transaction codes a pre-authorized code survives.
const TX_CODE_TRIES: u8 = 3;
/// Seconds a client attestation PoP `jti` is remembered: its freshness window plus skew.
const JTI_SECONDS: u64 = 300 + 60;
/// The `request_uri` prefix (RFC 9126 section 2.2).
const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// The header carrying a client attestation.
const CLIENT_ATTESTATION: &str = "OAuth-Client-Attestation";
/// The header carrying its proof of possession.
const CLIENT_ATTESTATION_POP: &str = "OAuth-Client-Attestation-PoP";

/// Form or query parameters: each at most once (RFC 6749 section 3.1), an empty value read as
/// absent.
struct Params(Vec<(String, String)>);

impl Params {
    /// The parameters, refused if one is repeated.
    fn new(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        let mut seen = HashSet::new();
        for (name, _) in &pairs {
            if !seen.insert(name.as_str()) {
                return Err(ApiError::bad(
                    "invalid_request",
                    format!("{name} is repeated"),
                ));
            }
        }
        Ok(Params(pairs))
    }

    /// A parameter's non-empty value.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// A parameter's value, or `invalid_request` when it is absent.
    fn require(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| ApiError::bad("invalid_request", format!("{name} is missing")))
    }
}

/// The parameters of a form body; one that does not parse is `invalid_request`.
fn form_params(
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Params, ApiError> {
    let Form(pairs) = form.map_err(|e| ApiError::unreadable("invalid_request", &e, e.status()))?;
    Params::new(pairs)
}

/// With `--require-client-attestation`: the client the request's attestation headers prove,
/// after checking them and that the proof's `jti` is new. Without it: `None`.
fn attested_client(shared: &Shared, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    if !shared.settings.require_client_attestation {
        return Ok(None);
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| ApiError::invalid_client(format!("{name} header is missing")))
    };
    let attestation = header(CLIENT_ATTESTATION)?;
    let pop = header(CLIENT_ATTESTATION_POP)?;
    let attested = shared
        .authority
        .verify_client_attestation(attestation, pop, shared.base_url()?.to_string())
        .map_err(|e| ApiError::invalid_client(format!("client attestation: {e}")))?;
    let mut state = shared.state();
    if state.seen_jtis.get(&attested.jti).is_some() {
        return Err(ApiError::invalid_client(
            "the client attestation proof of possession was used before",
        ));
    }
    state
        .seen_jtis
        .insert(attested.jti, Duration::from_secs(JTI_SECONDS), ())?;
    Ok(Some(attested.client_id))
}

/// Checks that an attested client (if attestation is required) is the request's `client_id`.
fn client_matches(attested: Option<String>, client_id: Option<&str>) -> Result<(), ApiError> {
    match attested {
        None => Ok(()),
        Some(attested) if Some(attested.as_str()) == client_id => Ok(()),
        Some(_) if client_id.is_none() => Err(ApiError::invalid_client(
            "client_id is required with client attestation",
        )),
        Some(_) => Err(ApiError::invalid_client(
            "the client attestation is for another client_id",
        )),
    }
}

/// The configurations a request's `authorization_details` (RFC 9396) name.
fn authorization_details(text: &str) -> Result<Vec<String>, ApiError> {
    let invalid = |why: &str| ApiError::bad("invalid_authorization_details", why.to_string());
    let details: Value =
        serde_json::from_str(text).map_err(|_| invalid("authorization_details is not JSON"))?;
    let details = details
        .as_array()
        .filter(|d| !d.is_empty())
        .ok_or_else(|| invalid("authorization_details is not a non-empty array"))?;
    let mut ids = Vec::with_capacity(details.len());
    for detail in details {
        if detail.get("type").and_then(Value::as_str) != Some("openid_credential") {
            return Err(invalid("a detail's type is not openid_credential"));
        }
        let id = detail
            .get("credential_configuration_id")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("a detail has no credential_configuration_id"))?;
        if configurations::find(id).is_none() {
            return Err(ApiError::bad(
                "invalid_authorization_details",
                format!("unknown credential_configuration_id {id:?}"),
            ));
        }
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_string());
        }
    }
    Ok(ids)
}

/// The configurations a request's `scope` names (each configuration's scope is its id).
fn scopes(text: &str) -> Result<Vec<String>, ApiError> {
    let mut ids: Vec<String> = Vec::new();
    for scope in text.split(' ').filter(|s| !s.is_empty()) {
        if configurations::find(scope).is_none() {
            return Err(ApiError::bad(
                "invalid_scope",
                format!("unknown scope {scope:?}"),
            ));
        }
        if !ids.iter().any(|known| known == scope) {
            ids.push(scope.to_string());
        }
    }
    Ok(ids)
}

/// Whether `text` is a PKCE S256 challenge: 43 base64url characters.
fn is_s256_challenge(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The S256 challenge of a PKCE `code_verifier`, if it is one (43 to 128 unreserved
/// characters).
fn s256(verifier: &str) -> Option<String> {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    ((43..=128).contains(&verifier.len()) && verifier.bytes().all(unreserved))
        .then(|| URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())))
}

/// `POST /par`: stores an authorization request and answers its `request_uri`.
pub async fn par(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, ApiError> {
    let params = form_params(form)?;
    let attested = attested_client(&shared, &headers)?;
    let client_id = params.require("client_id")?;
    client_matches(attested, Some(client_id))?;
    match params.require("response_type")? {
        "code" => {}
        other => {
            return Err(ApiError::bad(
                "unsupported_response_type",
                format!("response_type {other:?}; only code"),
            ))
        }
    }
    let redirect_uri = params.require("redirect_uri")?;
    match reqwest::Url::parse(redirect_uri) {
        Ok(url) if url.fragment().is_none() && !url.cannot_be_a_base() => {}
        _ => {
            return Err(ApiError::bad(
                "invalid_request",
                "redirect_uri is not an absolute URI without a fragment",
            ))
        }
    }
    let code_challenge = params.require("code_challenge")?;
    if params.get("code_challenge_method") != Some("S256") {
        return Err(ApiError::bad(
            "invalid_request",
            "code_challenge_method must be S256",
        ));
    }
    if !is_s256_challenge(code_challenge) {
        return Err(ApiError::bad(
            "invalid_request",
            "code_challenge is not an S256 challenge",
        ));
    }
    let mut requested = Vec::new();
    if let Some(details) = params.get("authorization_details") {
        requested.extend(authorization_details(details)?);
    }
    if let Some(scope) = params.get("scope") {
        for id in scopes(scope)? {
            if !requested.contains(&id) {
                requested.push(id);
            }
        }
    }
    let mut state = shared.state();
    let (offer_id, issuance) = match params.get("issuer_state") {
        Some(issuer_state) => {
            let offer_id = state
                .issuer_states
                .get(issuer_state)
                .cloned()
                .ok_or_else(|| {
                    ApiError::bad("invalid_request", "issuer_state names no live offer")
                })?;
            let offer = state
                .offers
                .get(&offer_id)
                .filter(|o| o.grant == GrantType::AuthorizationCode)
                .ok_or_else(|| {
                    ApiError::bad("invalid_request", "issuer_state names no live offer")
                })?;
            let mut issuance = offer.issuance.clone();
            if !requested.is_empty() {
                if let Some(extra) = requested
                    .iter()
                    .find(|id| !issuance.configuration_ids.contains(id))
                {
                    return Err(ApiError::bad(
                        "invalid_authorization_details",
                        format!("{extra:?} is not in the offer"),
                    ));
                }
                issuance.configuration_ids = requested;
            }
            (Some(offer_id), issuance)
        }
        None if requested.is_empty() => {
            return Err(ApiError::bad(
                "invalid_request",
                "authorization_details or scope is missing",
            ))
        }
        None => (
            None,
            Issuance {
                configuration_ids: requested,
                subject: configurations::Subject::default(),
                deferred_seconds: None,
            },
        ),
    };
    let request_uri = format!("{REQUEST_URI_PREFIX}{}", random_token()?);
    state.pushed.insert(
        request_uri.clone(),
        Duration::from_secs(REQUEST_URI_SECONDS),
        PushedRequest {
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            code_challenge: code_challenge.to_string(),
            state: params.get("state").map(str::to_owned),
            offer_id,
            issuance,
        },
    )?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({ "request_uri": request_uri, "expires_in": REQUEST_URI_SECONDS }),
    ))
}

/// Text made safe to put in HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A 400 page for the browser step (its errors are not redirected: the redirect URI is
/// unknown or not trusted yet).
fn error_page(why: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><html lang=\"ko\"><head><meta charset=\"utf-8\"><title>요청 오류 \
             (bad request)</title></head><body><h1>요청 오류 (bad request)</h1><p>{}</p>\
             </body></html>",
            escape(why)
        )),
    )
        .into_response()
}

/// `GET /authorize?client_id=..&request_uri=..`: the page where the citizen approves or
/// denies issuance.
pub async fn authorize_page(
    State(shared): State<Arc<Shared>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let Ok(Query(pairs)) = query else {
        return error_page("the query does not parse");
    };
    let Ok(params) = Params::new(pairs) else {
        return error_page("a parameter is repeated");
    };
    let (Some(client_id), Some(request_uri)) = (params.get("client_id"), params.get("request_uri"))
    else {
        return error_page("client_id and request_uri are required (pushed requests only)");
    };
    let state = shared.state();
    let Some(request) = state.pushed.get(request_uri) else {
        return error_page("the request_uri is unknown, expired or used");
    };
    if request.client_id != client_id {
        return error_page("the client_id is not the one that pushed the request");
    }
    let items: String = request
        .issuance
        .configuration_ids
        .iter()
        .filter_map(|id| configurations::find(id))
        .map(|c| format!("<li>{} ({})</li>", escape(&c.name_ko), escape(&c.name_en)))
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"ko\"><head><meta charset=\"utf-8\"><title>Jigap 테스트 \
         발급기관</title></head><body><h1>증명서 발급 (credential issuance)</h1>\
         <p><code>{client}</code> 앱이 다음 증명서의 발급을 요청합니다 (asks to be issued):</p>\
         <ul>{items}</ul>\
         <form method=\"post\" action=\"/authorize\">\
         <input type=\"hidden\" name=\"request_uri\" value=\"{request_uri}\">\
         <button type=\"submit\" name=\"decision\" value=\"approve\">승인 (approve)</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\">거부 (deny)</button>\
         </form></body></html>",
        client = escape(client_id),
        request_uri = escape(request_uri),
    ))
    .into_response()
}

/// `redirect_uri` with `pairs` added to its query (application/x-www-form-urlencoded).
fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{separator}{}", query.finish())
}

/// `POST /authorize` (form `request_uri`, `decision`): back to the client with a code, or
/// with `access_denied`; either way with `state` and `iss`.
pub async fn authorize_decision(
    State(shared): State<Arc<Shared>>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Ok(params) = form_params(form) else {
        return error_page("the form does not parse");
    };
    let approve = match params.get("decision") {
        Some("approve") => true,
        Some("deny") => false,
        _ => return error_page("decision must be approve or deny"),
    };
    let Some(request_uri) = params.get("request_uri") else {
        return error_page("request_uri is missing");
    };
    let Ok(issuer) = shared.base_url().map(str::to_owned) else {
        return error_page("the server is starting");
    };
    let mut state = shared.state();
    let Some(request) = state.pushed.remove(request_uri) else {
        return error_page("the request_uri is unknown, expired or used");
    };
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let code;
    if approve {
        let Ok(fresh) = random_token() else {
            return error_page("no randomness");
        };
        code = fresh;
        let stored = state.codes.insert(
            code.clone(),
            Duration::from_secs(CODE_SECONDS),
            AuthorizationCode {
                client_id: request.client_id,
                redirect_uri: request.redirect_uri.clone(),
                code_challenge: request.code_challenge,
                offer_id: request.offer_id,
                issuance: request.issuance,
            },
        );
        if stored.is_err() {
            return error_page("too many live codes; try again later");
        }
        pairs.push(("code", &code));
    } else {
        pairs.push(("error", "access_denied"));
    }
    if let Some(client_state) = &request.state {
        pairs.push(("state", client_state));
    }
    pairs.push(("iss", &issuer));
    let location = redirect_with(&request.redirect_uri, &pairs);
    drop(state);
    shared.progress(format_args!(
        "authorization {}",
        if approve { "approved" } else { "denied" }
    ));
    Redirect::to(&location).into_response()
}

/// `POST /token`: an access token for a pre-authorized code or an authorization code.
pub async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, ApiError> {
    let params = form_params(form)?;
    let attested = attested_client(&shared, &headers)?;
    client_matches(attested, params.get("client_id"))?;
    let grant_type = params.require("grant_type")?;
    let (issuance, how) = match grant_type {
        PRE_AUTHORIZED_GRANT => (pre_authorized(&shared, &params)?, "pre-authorized code"),
        "authorization_code" => (authorization_code(&shared, &params)?, "authorization code"),
        other => {
            return Err(ApiError::bad(
                "unsupported_grant_type",
                format!("grant_type {other:?}"),
            ))
        }
    };
    let access_token = random_token()?;
    let details: Vec<Value> = issuance
        .configuration_ids
        .iter()
        .map(|id| {
            json!({
                "type": "openid_credential",
                "credential_configuration_id": id,
                "credential_identifiers": [id],
            })
        })
        .collect();
    shared.progress(format_args!(
        "token for {} ({how})",
        issuance.configuration_ids.join(", ")
    ));
    shared.state().tokens.insert(
        access_token.clone(),
        Duration::from_secs(TOKEN_SECONDS),
        AccessToken {
            issuance,
            issued: HashSet::new(),
        },
    )?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
            "authorization_details": details,
        }),
    ))
}

/// The pre-authorized code grant: the code, and its transaction code within three tries.
fn pre_authorized(shared: &Shared, params: &Params) -> Result<Issuance, ApiError> {
    let code = params.require("pre-authorized_code")?;
    let tx_code = params.get("tx_code");
    let invalid_grant = || {
        ApiError::bad(
            "invalid_grant",
            "the pre-authorized code is unknown, expired or used",
        )
    };
    let mut state = shared.state();
    let entry = state
        .pre_authorized
        .get_mut(code)
        .ok_or_else(invalid_grant)?;
    match (&entry.tx_code, tx_code) {
        (Some(_), None) => {
            return Err(ApiError::bad(
                "invalid_request",
                "tx_code is missing; this offer requires one",
            ))
        }
        (None, Some(_)) => {
            return Err(ApiError::bad(
                "invalid_request",
                "tx_code was sent; this offer requires none",
            ))
        }
        (Some(expected), Some(sent)) if expected != sent => {
            entry.wrong_tries = entry.wrong_tries.saturating_add(1);
            let offer_id = entry.offer_id.clone();
            if entry.wrong_tries >= TX_CODE_TRIES {
                state.pre_authorized.remove(code);
                state.use_up_offer(&offer_id);
                shared.progress(format_args!(
                    "a pre-authorized code died after {TX_CODE_TRIES} wrong transaction codes"
                ));
            }
            return Err(ApiError::bad("invalid_grant", "the tx_code is wrong"));
        }
        _ => {}
    }
    let offer_id = entry.offer_id.clone();
    state.pre_authorized.remove(code);
    let issuance = state
        .offers
        .get(&offer_id)
        .map(|o| o.issuance.clone())
        .ok_or_else(invalid_grant)?;
    state.use_up_offer(&offer_id);
    Ok(issuance)
}

/// The authorization code grant: the code (single use, whatever the outcome), the client, the
/// redirect URI and the PKCE verifier.
fn authorization_code(shared: &Shared, params: &Params) -> Result<Issuance, ApiError> {
    let code = params.require("code")?;
    let redirect_uri = params.require("redirect_uri")?;
    let verifier = params.require("code_verifier")?;
    let client_id = params.require("client_id")?;
    let mut state = shared.state();
    let grant = state.codes.remove(code).ok_or_else(|| {
        ApiError::bad(
            "invalid_grant",
            "the authorization code is unknown, expired or used",
        )
    })?;
    if grant.client_id != client_id {
        return Err(ApiError::bad(
            "invalid_grant",
            "the code was issued to another client",
        ));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(ApiError::bad(
            "invalid_grant",
            "redirect_uri differs from the authorization request's",
        ));
    }
    if s256(verifier).as_deref() != Some(grant.code_challenge.as_str()) {
        return Err(ApiError::bad(
            "invalid_grant",
            "the code_verifier does not match the code_challenge",
        ));
    }
    if let Some(offer_id) = &grant.offer_id {
        state.use_up_offer(offer_id);
    }
    Ok(grant.issuance)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").as_deref(),
            Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        );
        assert!(s256("short").is_none());
        assert!(is_s256_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!is_s256_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"
        ));
    }

    #[test]
    fn redirects_keep_an_existing_query_and_form_encode() {
        assert_eq!(
            redirect_with("https://app.example/cb?x=1", &[("state", "a b&c")]),
            "https://app.example/cb?x=1&state=a+b%26c"
        );
        assert_eq!(
            redirect_with("https://app.example/cb", &[("iss", "https://127.0.0.1:1")]),
            "https://app.example/cb?iss=https%3A%2F%2F127.0.0.1%3A1"
        );
    }

    #[test]
    fn details_and_scopes_name_known_configurations() {
        assert_eq!(
            authorization_details(
                r#"[{"type":"openid_credential","credential_configuration_id":"mdl"}]"#
            )
            .unwrap(),
            vec!["mdl".to_string()]
        );
        for bad in [
            "[]",
            "{}",
            r#"[{"type":"other","credential_configuration_id":"mdl"}]"#,
            r#"[{"type":"openid_credential","credential_configuration_id":"nope"}]"#,
        ] {
            assert_eq!(
                authorization_details(bad).unwrap_err().code(),
                "invalid_authorization_details",
                "{bad}"
            );
        }
        assert_eq!(
            scopes("mdl  tax-payment mdl").unwrap(),
            vec!["mdl".to_string(), "tax-payment".to_string()]
        );
        assert_eq!(scopes("openid").unwrap_err().code(), "invalid_scope");
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
