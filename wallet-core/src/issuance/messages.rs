//! The messages of OpenID4VCI 1.0 and the OAuth 2.0 steps it uses, built and read as plain
//! values: requests the host's HTTP client sends, responses it hands back. Every response is
//! size-bounded, and every error response becomes its typed [`IssuanceFailure`].

use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

use super::error::{IssuanceError, IssuanceFailure};
use super::url;
use crate::crypto::jose;
use crate::limits::{MAX_BATCH_PROOFS, MAX_DEFERRED_INTERVAL_SECONDS, MAX_ISSUANCE_RESPONSE_BYTES};

/// The form content type.
pub const FORM: &str = "application/x-www-form-urlencoded";
/// The JSON content type.
pub const JSON: &str = "application/json";

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
}

/// A request for the host's HTTP client.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// URL.
    pub url: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Request {
    // Bodies and headers carry codes and tokens: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &url::without_query(&self.url))
            .finish_non_exhaustive()
    }
}

impl Request {
    /// A GET of `url`, accepting `accept`.
    pub fn get(url: &str, accept: &str) -> Self {
        Request {
            method: Method::Get,
            url: url.to_owned(),
            headers: vec![("Accept".into(), accept.to_owned())],
            body: Vec::new(),
        }
    }

    /// A form POST.
    pub fn form(url: &str, params: &[(&str, &str)]) -> Self {
        Request {
            method: Method::Post,
            url: url.to_owned(),
            headers: vec![
                ("Content-Type".into(), FORM.into()),
                ("Accept".into(), JSON.into()),
            ],
            body: url::form(params).into_bytes(),
        }
    }

    /// A JSON POST.
    pub fn json(url: &str, body: &Value) -> Self {
        Request {
            method: Method::Post,
            url: url.to_owned(),
            headers: vec![
                ("Content-Type".into(), JSON.into()),
                ("Accept".into(), JSON.into()),
            ],
            body: body.to_string().into_bytes(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        let value = format!("Bearer {token}");
        self.header("Authorization", &value)
    }
}

/// A response from the host's HTTP client.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl Response {
    /// The first header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The media type, lower case, without parameters.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|c| {
            c.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
    }

    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Text from a server, bounded and on a character boundary, for error details.
fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(300).collect();
    if text.chars().count() > 300 {
        out.push('…');
    }
    out
}

/// The typed error of a failed response: the `error` code of an OAuth / OpenID4VCI error body,
/// `invalid_token` from a `WWW-Authenticate` challenge, or the HTTP status.
pub fn error_of(response: &Response, step: &str) -> IssuanceError {
    let body: Option<Map<String, Value>> = (response.body.len() <= MAX_ISSUANCE_RESPONSE_BYTES)
        .then(|| serde_json::from_slice(&response.body).ok())
        .flatten();
    let code = body
        .as_ref()
        .and_then(|b| b.get("error"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            let challenge = response.header("www-authenticate")?;
            challenge
                .contains("invalid_token")
                .then(|| "invalid_token".to_owned())
        });
    let description = body
        .as_ref()
        .and_then(|b| b.get("error_description"))
        .and_then(Value::as_str)
        .map(excerpt);
    match code {
        Some(code) => IssuanceError::new(
            IssuanceFailure::from_code(&code),
            match description {
                Some(d) => format!("{step}: {} ({d})", excerpt(&code)),
                None => format!("{step}: {}", excerpt(&code)),
            },
        ),
        None if response.status == 401 => {
            IssuanceError::new(IssuanceFailure::InvalidToken, format!("{step}: HTTP 401"))
        }
        None => IssuanceError::new(
            IssuanceFailure::ServerError,
            format!("{step}: HTTP {}", response.status),
        ),
    }
}

/// The JSON object of a successful response.
pub fn json_body(response: &Response, step: &str) -> Result<Map<String, Value>, IssuanceError> {
    if !response.is_success() {
        return Err(error_of(response, step));
    }
    if response.body.len() > MAX_ISSUANCE_RESPONSE_BYTES {
        return Err(IssuanceError::protocol(format!(
            "{step}: the response is too large"
        )));
    }
    match serde_json::from_slice(&response.body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(IssuanceError::protocol(format!(
            "{step}: the response is not a JSON object"
        ))),
    }
}

fn required_text<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    step: &str,
) -> Result<&'a str, IssuanceError> {
    m.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 8 * 1024)
        .ok_or_else(|| IssuanceError::protocol(format!("{step}: no {key}")))
}

/// An access token.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// The token (a secret).
    pub access_token: Zeroizing<String>,
    /// Seconds it lives, when said.
    pub expires_in: Option<u64>,
    /// For each credential configuration the token covers, the credential identifiers to
    /// request it with (from `authorization_details`); empty: request by configuration id.
    pub credential_identifiers: Vec<(String, Vec<String>)>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("expires_in", &self.expires_in)
            .field("credential_identifiers", &self.credential_identifiers)
            .finish_non_exhaustive()
    }
}

/// Reads a token response (RFC 6749 section 5.1 with OpenID4VCI's `authorization_details`).
/// Only Bearer tokens are used: a DPoP-bound token is refused as unsupported.
pub fn parse_token(response: &Response) -> Result<Token, IssuanceError> {
    let m = json_body(response, "token")?;
    let access_token = required_text(&m, "access_token", "token")?;
    let token_type = required_text(&m, "token_type", "token")?;
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(IssuanceError::new(
            IssuanceFailure::Unsupported,
            format!("token type {} (only Bearer)", excerpt(token_type)),
        ));
    }
    let mut credential_identifiers = Vec::new();
    if let Some(details) = m.get("authorization_details") {
        let details = details
            .as_array()
            .filter(|d| d.len() <= 64)
            .ok_or_else(|| IssuanceError::protocol("token: authorization_details"))?;
        for d in details {
            if d.get("type").and_then(Value::as_str) != Some("openid_credential") {
                continue;
            }
            let id = d
                .get("credential_configuration_id")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    IssuanceError::protocol("token: authorization_details without a configuration")
                })?;
            let identifiers = d
                .get("credential_identifiers")
                .and_then(Value::as_array)
                .filter(|i| !i.is_empty() && i.len() <= 64)
                .ok_or_else(|| {
                    IssuanceError::protocol(
                        "token: authorization_details without credential_identifiers",
                    )
                })?
                .iter()
                .map(|i| {
                    i.as_str()
                        .filter(|s| !s.is_empty() && s.len() <= 1024)
                        .map(str::to_owned)
                        .ok_or_else(|| IssuanceError::protocol("token: a credential identifier"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            credential_identifiers.push((id.to_owned(), identifiers));
        }
    }
    Ok(Token {
        access_token: Zeroizing::new(access_token.to_owned()),
        expires_in: m.get("expires_in").and_then(Value::as_u64),
        credential_identifiers,
    })
}

/// Reads a nonce response: the `c_nonce`.
pub fn parse_nonce(response: &Response) -> Result<String, IssuanceError> {
    let m = json_body(response, "nonce")?;
    Ok(required_text(&m, "c_nonce", "nonce")?.to_owned())
}

/// Reads a pushed authorization response (RFC 9126 section 2.2): the `request_uri`.
pub fn parse_par(response: &Response) -> Result<String, IssuanceError> {
    let m = json_body(response, "pushed authorization request")?;
    Ok(required_text(&m, "request_uri", "pushed authorization request")?.to_owned())
}

/// The `authorization_details` asking for `configuration_ids` (RFC 9396, OpenID4VCI section
/// 5.1.1).
pub fn authorization_details(configuration_ids: &[String]) -> String {
    Value::Array(
        configuration_ids
            .iter()
            .map(|id| json!({"type": "openid_credential", "credential_configuration_id": id}))
            .collect(),
    )
    .to_string()
}

/// Reads the redirect back from the browser step: it must come to `redirect_uri`, for
/// `state`, from `issuer` when it names one (RFC 9207; required when the server said it
/// sends it). An `error` becomes its typed failure. Returns the authorization code.
pub fn parse_redirect(
    redirect: &str,
    redirect_uri: &str,
    state: &str,
    issuer: &str,
    iss_required: bool,
) -> Result<Zeroizing<String>, IssuanceError> {
    if url::without_query(redirect) != url::without_query(redirect_uri) {
        return Err(IssuanceError::protocol(
            "the redirect is not to the wallet's redirect URI",
        ));
    }
    let params = url::query(redirect);
    let one = |name: &str| -> Result<Option<&str>, IssuanceError> {
        let mut values = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        let first = values.next();
        if values.next().is_some() {
            return Err(IssuanceError::protocol(format!(
                "the redirect repeats {name}"
            )));
        }
        Ok(first.map(String::as_str))
    };
    if one("state")? != Some(state) {
        return Err(IssuanceError::protocol(
            "the redirect is for another authorization request (state)",
        ));
    }
    match one("iss")? {
        Some(iss) if iss != issuer => {
            return Err(IssuanceError::protocol(
                "the redirect comes from another authorization server (iss)",
            ))
        }
        None if iss_required => {
            return Err(IssuanceError::protocol(
                "the redirect does not name its issuer (iss)",
            ))
        }
        _ => {}
    }
    if let Some(error) = one("error")? {
        let description = one("error_description")?.map(excerpt).unwrap_or_default();
        return Err(IssuanceError::new(
            IssuanceFailure::from_code(error),
            format!("authorization: {} {description}", excerpt(error)),
        ));
    }
    let code = one("code")?
        .filter(|c| !c.is_empty())
        .ok_or_else(|| IssuanceError::protocol("the redirect carries no code"))?;
    Ok(Zeroizing::new(code.to_owned()))
}

/// How to name the credential asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSelector {
    /// A `credential_identifier` from the token response.
    Identifier(String),
    /// A `credential_configuration_id` (when the token named no identifiers).
    Configuration(String),
}

/// The body of a credential request with `jwt` proofs.
pub fn credential_request(selector: &CredentialSelector, proofs: &[String]) -> Value {
    let mut body = Map::new();
    match selector {
        CredentialSelector::Identifier(id) => {
            body.insert("credential_identifier".into(), id.clone().into());
        }
        CredentialSelector::Configuration(id) => {
            body.insert("credential_configuration_id".into(), id.clone().into());
        }
    }
    body.insert("proofs".into(), json!({ "jwt": proofs }));
    Value::Object(body)
}

/// What the credential (or deferred credential) endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialResponse {
    /// Issued now.
    Issued {
        /// The credentials, as bytes (mdoc: the decoded IssuerSigned; SD-JWT: its text).
        credentials: Vec<Vec<u8>>,
        /// For the notification endpoint.
        notification_id: Option<String>,
    },
    /// Not yet: ask the deferred endpoint with `transaction_id`, not before `interval` seconds.
    Deferred {
        /// The transaction.
        transaction_id: String,
        /// Seconds to wait.
        interval: u64,
    },
}

/// Reads a credential response (OpenID4VCI 1.0 sections 8.3 and 9.2): `200` with
/// `credentials`, or `202` with `transaction_id` and `interval`. `base64url_credentials`:
/// the format sends binary credentials (mso_mdoc) as base64url text.
pub fn parse_credential_response(
    response: &Response,
    base64url_credentials: bool,
    step: &str,
) -> Result<CredentialResponse, IssuanceError> {
    let m = json_body(response, step)?;
    if response.status == 202 {
        let transaction_id = required_text(&m, "transaction_id", step)?.to_owned();
        let interval = m
            .get("interval")
            .and_then(Value::as_u64)
            .ok_or_else(|| IssuanceError::protocol(format!("{step}: no interval")))?
            .clamp(1, MAX_DEFERRED_INTERVAL_SECONDS);
        return Ok(CredentialResponse::Deferred {
            transaction_id,
            interval,
        });
    }
    let items = m
        .get("credentials")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| IssuanceError::protocol(format!("{step}: no credentials")))?;
    if items.len() > MAX_BATCH_PROOFS {
        return Err(IssuanceError::protocol(format!(
            "{step}: more credentials than proofs"
        )));
    }
    let credentials = items
        .iter()
        .map(|item| {
            let text = item
                .get("credential")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    IssuanceError::protocol(format!("{step}: a credential is not text"))
                })?;
            if base64url_credentials {
                jose::b64url_decode(text).map_err(|_| {
                    IssuanceError::protocol(format!("{step}: a credential is not base64url"))
                })
            } else {
                Ok(text.as_bytes().to_vec())
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let notification_id = m
        .get("notification_id")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty() && n.len() <= 1024)
        .map(str::to_owned);
    Ok(CredentialResponse::Issued {
        credentials,
        notification_id,
    })
}

/// What the wallet did with an issued credential, for the notification endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationEvent {
    /// Stored.
    Accepted,
    /// Refused or lost (e.g. it failed the wallet's checks).
    Failure,
    /// The citizen deleted it.
    Deleted,
}

impl NotificationEvent {
    /// The protocol's name of the event.
    pub fn name(self) -> &'static str {
        match self {
            NotificationEvent::Accepted => "credential_accepted",
            NotificationEvent::Failure => "credential_failure",
            NotificationEvent::Deleted => "credential_deleted",
        }
    }
}

/// The body of a notification (OpenID4VCI 1.0 section 11.1).
pub fn notification(
    notification_id: &str,
    event: NotificationEvent,
    description: Option<&str>,
) -> Value {
    let mut body = json!({ "notification_id": notification_id, "event": event.name() });
    if let (Some(d), Some(m)) = (description, body.as_object_mut()) {
        m.insert("event_description".into(), excerpt(d).into());
    }
    body
}

/// Checks a notification response: any 2xx.
pub fn check_notification(response: &Response) -> Result<(), IssuanceError> {
    if response.is_success() {
        Ok(())
    } else {
        Err(error_of(response, "notification"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn every_defined_error_code_is_typed() {
        for (code, failure) in [
            ("invalid_request", IssuanceFailure::InvalidRequest),
            ("invalid_grant", IssuanceFailure::InvalidGrant),
            ("invalid_client", IssuanceFailure::InvalidClient),
            ("unauthorized_client", IssuanceFailure::UnauthorizedClient),
            (
                "unsupported_grant_type",
                IssuanceFailure::UnsupportedGrantType,
            ),
            ("invalid_scope", IssuanceFailure::InvalidScope),
            ("access_denied", IssuanceFailure::AccessDenied),
            ("invalid_token", IssuanceFailure::InvalidToken),
            (
                "invalid_credential_request",
                IssuanceFailure::InvalidCredentialRequest,
            ),
            (
                "unknown_credential_configuration",
                IssuanceFailure::UnknownCredentialConfiguration,
            ),
            (
                "unknown_credential_identifier",
                IssuanceFailure::UnknownCredentialIdentifier,
            ),
            ("invalid_proof", IssuanceFailure::InvalidProof),
            ("invalid_nonce", IssuanceFailure::InvalidNonce),
            (
                "invalid_encryption_parameters",
                IssuanceFailure::InvalidEncryptionParameters,
            ),
            (
                "credential_request_denied",
                IssuanceFailure::CredentialRequestDenied,
            ),
            (
                "invalid_transaction_id",
                IssuanceFailure::InvalidTransactionId,
            ),
            (
                "invalid_notification_id",
                IssuanceFailure::InvalidNotificationId,
            ),
            (
                "invalid_notification_request",
                IssuanceFailure::InvalidNotificationRequest,
            ),
            ("something_new", IssuanceFailure::ServerError),
        ] {
            let e = error_of(
                &response(
                    400,
                    &format!(r#"{{"error": "{code}", "error_description": "why"}}"#),
                ),
                "step",
            );
            assert_eq!(e.failure, failure, "{code}");
            assert!(e.detail.contains("why"));
        }
        let challenge = Response {
            status: 401,
            headers: vec![(
                "WWW-Authenticate".into(),
                r#"Bearer error="invalid_token""#.into(),
            )],
            body: Vec::new(),
        };
        assert_eq!(
            error_of(&challenge, "c").failure,
            IssuanceFailure::InvalidToken
        );
        assert_eq!(
            error_of(&response(500, "<html>"), "c").failure,
            IssuanceFailure::ServerError
        );
        let long = format!(
            r#"{{"error": "invalid_proof", "error_description": "{}"}}"#,
            "é".repeat(1000)
        );
        assert!(error_of(&response(400, &long), "c").detail.chars().count() < 400);
    }

    #[test]
    fn token_responses() {
        let ok = response(
            200,
            r#"{"access_token": "secret-token", "token_type": "Bearer", "expires_in": 600,
                "authorization_details": [{"type": "openid_credential",
                  "credential_configuration_id": "mdl", "credential_identifiers": ["mdl-1"]}]}"#,
        );
        let token = parse_token(&ok).unwrap();
        assert_eq!(token.access_token.as_str(), "secret-token");
        assert_eq!(
            token.credential_identifiers,
            [("mdl".into(), vec!["mdl-1".into()])]
        );
        assert!(!format!("{token:?}").contains("secret-token"));
        let dpop = response(200, r#"{"access_token": "t", "token_type": "DPoP"}"#);
        assert_eq!(
            parse_token(&dpop).unwrap_err().failure,
            IssuanceFailure::Unsupported
        );
        assert_eq!(
            parse_token(&response(200, r#"{"token_type": "Bearer"}"#))
                .unwrap_err()
                .failure,
            IssuanceFailure::Protocol
        );
        assert_eq!(
            parse_token(&response(400, r#"{"error": "invalid_grant"}"#))
                .unwrap_err()
                .failure,
            IssuanceFailure::InvalidGrant
        );
    }

    #[test]
    fn credential_responses() {
        let issued = response(
            200,
            r#"{"credentials": [{"credential": "AAEC"}, {"credential": "AwQ"}], "notification_id": "n1"}"#,
        );
        assert_eq!(
            parse_credential_response(&issued, true, "c").unwrap(),
            CredentialResponse::Issued {
                credentials: vec![vec![0, 1, 2], vec![3, 4]],
                notification_id: Some("n1".into())
            }
        );
        assert!(parse_credential_response(
            &response(200, r#"{"credentials": [{"credential": "!!"}]}"#),
            true,
            "c"
        )
        .is_err());
        let deferred = response(202, r#"{"transaction_id": "t1", "interval": 999999999}"#);
        assert_eq!(
            parse_credential_response(&deferred, true, "c").unwrap(),
            CredentialResponse::Deferred {
                transaction_id: "t1".into(),
                interval: MAX_DEFERRED_INTERVAL_SECONDS
            }
        );
        assert!(
            parse_credential_response(&response(200, r#"{"credentials": []}"#), false, "c")
                .is_err()
        );
        assert!(parse_credential_response(
            &response(202, r#"{"transaction_id": "t"}"#),
            false,
            "c"
        )
        .is_err());
        assert_eq!(
            credential_request(&CredentialSelector::Identifier("x".into()), &["p".into()]),
            json!({"credential_identifier": "x", "proofs": {"jwt": ["p"]}})
        );
    }

    #[test]
    fn redirects() {
        let base = "kr.jigap.wallet://callback";
        let ok = format!("{base}?code=abc&state=s1&iss=https%3A%2F%2Fas.example");
        assert_eq!(
            parse_redirect(&ok, base, "s1", "https://as.example", true)
                .unwrap()
                .as_str(),
            "abc"
        );
        assert!(parse_redirect(&ok, base, "s2", "https://as.example", true).is_err());
        assert!(parse_redirect(&ok, base, "s1", "https://evil.example", false).is_err());
        assert!(parse_redirect(&ok, "https://other/cb", "s1", "https://as.example", true).is_err());
        let no_iss = format!("{base}?code=abc&state=s1");
        assert!(parse_redirect(&no_iss, base, "s1", "https://as.example", true).is_err());
        assert!(parse_redirect(&no_iss, base, "s1", "https://as.example", false).is_ok());
        let denied = format!("{base}?error=access_denied&state=s1");
        assert_eq!(
            parse_redirect(&denied, base, "s1", "https://as.example", false)
                .unwrap_err()
                .failure,
            IssuanceFailure::AccessDenied
        );
        let twice = format!("{base}?code=a&code=b&state=s1");
        assert!(parse_redirect(&twice, base, "s1", "https://as.example", false).is_err());
    }
}
