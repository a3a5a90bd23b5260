//! The credential issuer's own endpoints (OpenID4VCI 1.0): the nonce endpoint (section 7),
//! the credential endpoint with `jwt` key proofs, batches and key attestations (section 8,
//! appendices D and F.1), the deferred credential endpoint (section 9) and the notification
//! endpoint (section 11).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use wallet_core::StatusListEntry;

use super::configurations::{self, Subject};
use super::oauth::TOKEN_SECONDS;
use super::routes::{bearer, json_response, ApiError, Shared};
use super::state::{random_token, Event, Pending};

/// Seconds a `c_nonce` lives.
const NONCE_SECONDS: u64 = 300;
/// Seconds a wallet should wait between deferred polls.
const INTERVAL_SECONDS: u64 = 1;
/// Seconds a deferred transaction stays collectable once ready.
const PENDING_GRACE_SECONDS: u64 = 600;

/// `POST /nonce`: a fresh `c_nonce`, used by the first credential request that names it.
pub async fn nonce(State(shared): State<Arc<Shared>>) -> Result<Response, ApiError> {
    let nonce = random_token()?;
    shared
        .state()
        .nonces
        .insert(nonce.clone(), Duration::from_secs(NONCE_SECONDS), ())?;
    Ok(json_response(StatusCode::OK, &json!({ "c_nonce": nonce })))
}

/// The access token of a request, if it is live.
fn access_token(shared: &Shared, headers: &HeaderMap) -> Result<String, ApiError> {
    let token = bearer(headers)
        .ok_or_else(|| ApiError::invalid_token("a bearer access token is needed"))?;
    if shared.state().tokens.get(token).is_none() {
        return Err(ApiError::invalid_token(
            "the access token is unknown or expired",
        ));
    }
    Ok(token.to_string())
}

/// A JSON request body as an object.
fn json_object(
    body: Result<Json<Value>, JsonRejection>,
    code: &'static str,
) -> Result<Map<String, Value>, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::unreadable(code, &e, e.status()))?;
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::bad(code, "the body is not a JSON object")),
    }
}

/// The JOSE header and payload of a compact JWS, unverified (only to find what to verify it
/// against; the signature covers both).
fn unverified_parts(jws: &str) -> Option<(Value, Value)> {
    let mut parts = jws.split('.');
    let mut decode = || -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next()?).ok()?).ok()
    };
    let header = decode()?;
    let payload = decode()?;
    (header.is_object() && payload.is_object()).then_some((header, payload))
}

/// What a credential request asks for, checked against its access token.
struct CredentialRequest {
    /// The configuration (= credential identifier) to issue.
    configuration_id: String,
    /// The `jwt` proofs.
    proofs: Vec<String>,
}

/// 400 `invalid_credential_request`.
fn invalid_request(why: impl Into<String>) -> ApiError {
    ApiError::bad("invalid_credential_request", why)
}

/// Reads a Credential Request (section 8.2): exactly one of `credential_identifier` and
/// `credential_configuration_id`, and `proofs` with 1 to `batch_size` `jwt` proofs.
fn read_request(
    body: &Map<String, Value>,
    granted: &[String],
    batch_size: usize,
) -> Result<CredentialRequest, ApiError> {
    if body.contains_key("proof") {
        return Err(invalid_request(
            "proof is not a parameter of OpenID4VCI 1.0; send proofs",
        ));
    }
    if body.contains_key("credential_response_encryption") {
        return Err(ApiError::bad(
            "invalid_encryption_parameters",
            "this issuer does not encrypt credential responses",
        ));
    }
    let text = |name: &str| -> Result<Option<&str>, ApiError> {
        match body.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.as_str())),
            Some(_) => Err(invalid_request(format!("{name} is not a string"))),
        }
    };
    let configuration_id = match (
        text("credential_identifier")?,
        text("credential_configuration_id")?,
    ) {
        (Some(_), Some(_)) => {
            return Err(invalid_request(
                "send credential_identifier or credential_configuration_id, not both",
            ))
        }
        (None, None) => {
            return Err(invalid_request(
                "credential_identifier or credential_configuration_id is missing",
            ))
        }
        (Some(identifier), None) => {
            if !granted.iter().any(|g| g == identifier) {
                return Err(ApiError::bad(
                    "unknown_credential_identifier",
                    format!("{identifier:?} is not a credential identifier of this token"),
                ));
            }
            identifier
        }
        (None, Some(configuration)) => {
            if configurations::find(configuration).is_none() {
                return Err(ApiError::bad(
                    "unknown_credential_configuration",
                    format!("unknown credential configuration {configuration:?}"),
                ));
            }
            // Every token here names its credential identifiers (authorization_details), and
            // then a request must use them (OpenID4VCI 1.0 section 8.2).
            return Err(invalid_request(format!(
                "this access token names credential identifiers: request {configuration:?} by credential_identifier"
            )));
        }
    };
    let proofs = body
        .get("proofs")
        .ok_or_else(|| invalid_request("proofs is missing"))?
        .as_object()
        .ok_or_else(|| invalid_request("proofs is not an object"))?;
    if proofs.len() != 1 {
        return Err(invalid_request("proofs must hold exactly one proof type"));
    }
    let jwts = proofs
        .get("jwt")
        .ok_or_else(|| ApiError::bad("invalid_proof", "only jwt proofs are supported"))?
        .as_array()
        .ok_or_else(|| invalid_request("proofs.jwt is not an array"))?;
    if jwts.is_empty() || jwts.len() > batch_size {
        return Err(invalid_request(format!(
            "proofs.jwt must hold 1 to {batch_size} proofs"
        )));
    }
    let proofs = jwts
        .iter()
        .map(|p| {
            p.as_str()
                .map(str::to_owned)
                .ok_or_else(|| invalid_request("a proof is not a string"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CredentialRequest {
        configuration_id: configuration_id.to_string(),
        proofs,
    })
}

/// Checks every proof (appendix F.4): the same live `c_nonce` in each, the signature, `aud`
/// and freshness through the test authority, a different key in each, and with
/// `--require-key-attestation` a key attestation naming the key. Returns the nonce and the
/// proven keys.
fn proven_keys(shared: &Shared, proofs: &[String]) -> Result<(String, Vec<Vec<u8>>), ApiError> {
    let invalid_proof = |why: String| ApiError::bad("invalid_proof", why);
    let mut parts = Vec::with_capacity(proofs.len());
    for proof in proofs {
        parts.push(
            unverified_parts(proof)
                .ok_or_else(|| invalid_proof("a proof is not a compact JWS".into()))?,
        );
    }
    let mut nonces = parts
        .iter()
        .map(|(_, payload)| payload.get("nonce").and_then(Value::as_str));
    let nonce = nonces.next().flatten().ok_or_else(|| {
        ApiError::bad(
            "invalid_nonce",
            "the proof has no nonce; get one from /nonce",
        )
    })?;
    if nonces.any(|n| n != Some(nonce)) {
        return Err(ApiError::bad(
            "invalid_nonce",
            "the proofs carry different nonces",
        ));
    }
    if shared.state().nonces.get(nonce).is_none() {
        return Err(ApiError::bad(
            "invalid_nonce",
            "the nonce is unknown, expired or used; get a fresh one from /nonce",
        ));
    }
    let audience = shared.base_url()?.to_string();
    let mut keys: Vec<Vec<u8>> = Vec::with_capacity(proofs.len());
    for (proof, (header, _)) in proofs.iter().zip(&parts) {
        let key = shared
            .authority
            .verify_key_proof(proof.clone(), audience.clone(), Some(nonce.to_string()))
            .map_err(|e| invalid_proof(format!("key proof: {e}")))?;
        if shared.settings.require_key_attestation {
            let attestation = header
                .get("key_attestation")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid_proof("the proof carries no key_attestation".into()))?;
            let attested = shared
                .authority
                .verify_key_attestation(attestation.to_string(), Some(nonce.to_string()))
                .map_err(|e| invalid_proof(format!("key attestation: {e}")))?;
            if !attested.contains(&key) {
                return Err(invalid_proof(
                    "the proof's key is not one the key attestation names".into(),
                ));
            }
        }
        if keys.contains(&key) {
            return Err(invalid_proof("two proofs are for the same key".into()));
        }
        keys.push(key);
    }
    Ok((nonce.to_string(), keys))
}

/// Issues one credential of `configuration_id` per key, each with the next status list entry
/// when `--status-uri` was given; counts them.
fn issue_all(
    shared: &Shared,
    configuration_id: &str,
    subject: &Subject,
    keys: Vec<Vec<u8>>,
) -> Result<Vec<Value>, ApiError> {
    let configuration = configurations::find(configuration_id)
        .ok_or_else(|| ApiError::server("the configuration disappeared"))?;
    let copies = keys.len();
    let mut credentials = Vec::with_capacity(copies);
    for key in keys {
        let status = match &shared.settings.status_uri {
            Some(uri) => {
                let mut state = shared.state();
                let index = state.next_status_index;
                state.next_status_index = index.saturating_add(1);
                Some(StatusListEntry {
                    index,
                    uri: uri.clone(),
                })
            }
            None => None,
        };
        let credential = configuration.issue(&shared.authority, subject, key, status)?;
        credentials.push(json!({ "credential": credential }));
    }
    shared.state().issued += copies as u64;
    shared.progress(format_args!(
        "issued {configuration_id} ({copies} {})",
        if copies == 1 { "copy" } else { "copies" }
    ));
    Ok(credentials)
}

/// A Credential Response with a fresh notification id for `token`.
fn credentials_response(
    shared: &Shared,
    token: &str,
    credentials: Vec<Value>,
) -> Result<Response, ApiError> {
    let notification_id = random_token()?;
    shared.state().notification_ids.insert(
        notification_id.clone(),
        Duration::from_secs(TOKEN_SECONDS),
        token.to_string(),
    )?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "credentials": credentials, "notification_id": notification_id }),
    ))
}

/// `POST /credential`.
pub async fn credential(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let token = access_token(&shared, &headers)?;
    let body = json_object(body, "invalid_credential_request")?;
    let (granted, subject, deferred) = {
        let state = shared.state();
        let grant = state
            .tokens
            .get(&token)
            .ok_or_else(|| ApiError::invalid_token("the access token expired"))?;
        (
            grant.issuance.configuration_ids.clone(),
            grant.issuance.subject.clone(),
            grant.issuance.deferred_seconds,
        )
    };
    let request = read_request(&body, &granted, shared.settings.batch_size)?;
    let (nonce, keys) = proven_keys(&shared, &request.proofs)?;
    {
        // Consume the nonce and the identifier together, or neither.
        let mut state = shared.state();
        if state.nonces.get(&nonce).is_none() {
            return Err(ApiError::bad(
                "invalid_nonce",
                "the nonce was used meanwhile; get a fresh one from /nonce",
            ));
        }
        let grant = state
            .tokens
            .get_mut(&token)
            .ok_or_else(|| ApiError::invalid_token("the access token expired"))?;
        if !grant.issued.insert(request.configuration_id.clone()) {
            return Err(ApiError::bad(
                "credential_request_denied",
                format!(
                    "{} was already issued under this access token",
                    request.configuration_id
                ),
            ));
        }
        state.nonces.remove(&nonce);
    }
    if let Some(seconds) = deferred {
        let transaction_id = random_token()?;
        shared.state().pending.insert(
            transaction_id.clone(),
            Duration::from_secs(seconds.saturating_add(PENDING_GRACE_SECONDS)),
            Pending {
                token,
                ready_at: Instant::now() + Duration::from_secs(seconds),
                configuration_id: request.configuration_id.clone(),
                subject,
                keys,
            },
        )?;
        shared.progress(format_args!(
            "deferred {} for {seconds} s",
            request.configuration_id
        ));
        return Ok(json_response(
            StatusCode::ACCEPTED,
            &json!({ "transaction_id": transaction_id, "interval": INTERVAL_SECONDS }),
        ));
    }
    let credentials = issue_all(&shared, &request.configuration_id, &subject, keys)?;
    credentials_response(&shared, &token, credentials)
}

/// `POST /deferred` (`{"transaction_id"}`): 202 while the credentials are not ready, then
/// 200 with them once (the transaction id is then spent).
pub async fn deferred(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let token = access_token(&shared, &headers)?;
    let body = json_object(body, "invalid_request")?;
    let transaction_id = body
        .get("transaction_id")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad("invalid_request", "transaction_id is missing"))?;
    let unknown = || {
        ApiError::bad(
            "invalid_transaction_id",
            "the transaction id is unknown or spent",
        )
    };
    let pending = {
        let mut state = shared.state();
        let pending = state
            .pending
            .get(transaction_id)
            .filter(|p| p.token == token)
            .ok_or_else(unknown)?;
        if Instant::now() < pending.ready_at {
            return Ok(json_response(
                StatusCode::ACCEPTED,
                &json!({ "transaction_id": transaction_id, "interval": INTERVAL_SECONDS }),
            ));
        }
        state.pending.remove(transaction_id).ok_or_else(unknown)?
    };
    let credentials = issue_all(
        &shared,
        &pending.configuration_id,
        &pending.subject,
        pending.keys,
    )?;
    credentials_response(&shared, &token, credentials)
}

/// `POST /notification` (`{"notification_id", "event", "event_description"?}`): 204, and the
/// event is kept for `/admin/events`.
pub async fn notification(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let token = access_token(&shared, &headers)?;
    let body = json_object(body, "invalid_notification_request")?;
    let invalid = |why: &str| ApiError::bad("invalid_notification_request", why.to_string());
    let notification_id = body
        .get("notification_id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("notification_id is missing"))?;
    let event = body
        .get("event")
        .and_then(Value::as_str)
        .filter(|e| {
            matches!(
                *e,
                "credential_accepted" | "credential_failure" | "credential_deleted"
            )
        })
        .ok_or_else(|| {
            invalid("event must be credential_accepted, credential_failure or credential_deleted")
        })?;
    let event_description = match body.get("event_description") {
        None => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => return Err(invalid("event_description is not a string")),
    };
    let mut state = shared.state();
    if state.notification_ids.get(notification_id) != Some(&token) {
        return Err(ApiError::bad(
            "invalid_notification_id",
            "the notification id is unknown, or of another access token",
        ));
    }
    shared.progress(format_args!("notification: {event}"));
    state.record(Event {
        notification_id: notification_id.to_string(),
        event: event.to_string(),
        event_description,
    });
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn credential_requests_name_one_granted_credential_and_a_bounded_batch() {
        let granted = vec!["mdl".to_string()];
        let ok = read_request(
            &body(json!({ "credential_identifier": "mdl", "proofs": { "jwt": ["a", "b"] } })),
            &granted,
            2,
        )
        .unwrap();
        assert_eq!(ok.configuration_id, "mdl");
        assert_eq!(ok.proofs.len(), 2);
        let code = |value: Value, batch: usize| {
            read_request(&body(value), &granted, batch)
                .err()
                .map(|e| e.code())
        };
        assert_eq!(
            code(
                json!({ "credential_identifier": "mdl", "proofs": { "jwt": ["a", "b"] } }),
                1
            ),
            Some("invalid_credential_request")
        );
        assert_eq!(
            code(
                json!({ "credential_identifier": "mdl", "credential_configuration_id": "mdl", "proofs": { "jwt": ["a"] } }),
                2
            ),
            Some("invalid_credential_request")
        );
        assert_eq!(
            code(
                json!({ "credential_identifier": "mdl", "proofs": { "jwt": [] } }),
                2
            ),
            Some("invalid_credential_request")
        );
        assert_eq!(
            code(
                json!({ "credential_identifier": "tax-payment", "proofs": { "jwt": ["a"] } }),
                2
            ),
            Some("unknown_credential_identifier")
        );
        assert_eq!(
            code(
                json!({ "credential_configuration_id": "nope", "proofs": { "jwt": ["a"] } }),
                2
            ),
            Some("unknown_credential_configuration")
        );
        assert_eq!(
            code(
                json!({ "credential_configuration_id": "mdl", "proof": { "jwt": "a" } }),
                2
            ),
            Some("invalid_credential_request")
        );
        assert_eq!(
            code(
                json!({ "credential_identifier": "mdl", "proofs": { "attestation": ["a"] } }),
                2
            ),
            Some("invalid_proof")
        );
    }
}
