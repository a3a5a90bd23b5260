//! The holder's response (OpenID4VP 1.0 section 8): the `vp_token` keyed by credential query,
//! the mdoc SessionTranscript its DeviceResponses are bound to, the key-binding claims of an
//! SD-JWT VC, and the response itself — a form for `direct_post`, a JWE for
//! `direct_post.jwt` / `dc_api.jwt`, or the Digital Credentials API's `data`.

use ring::digest;
use serde_json::{json, Map, Value};

use super::request::{AuthorizationRequest, EncryptionKey, PresentationFailure, ResponseMode};
use crate::crypto::jwe::{self, Enc};
use crate::crypto::{jose, CryptoError};
use crate::mdoc::session::{Handover, SessionTranscript};

/// One presentation in a `vp_token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presentation {
    /// An SD-JWT VC with its Key Binding JWT (compact).
    SdJwt(String),
    /// An mdoc DeviceResponse (CBOR).
    Mdoc(Vec<u8>),
}

/// The key and content encryption a response is encrypted with (for encrypted modes): the
/// first ECDH-ES P-256 key, and A256GCM when the relying party takes it (HAIP's preference),
/// else A128GCM.
pub fn encryption(request: &AuthorizationRequest) -> Option<(EncryptionKey, Enc)> {
    if !request.response_mode.encrypted() {
        return None;
    }
    let key = request.encryption_keys.first()?.clone();
    let enc = if request.encryption_methods.contains(&Enc::A256Gcm) {
        Enc::A256Gcm
    } else if request.encryption_methods.contains(&Enc::A128Gcm) {
        Enc::A128Gcm
    } else {
        return None;
    };
    Some((key, enc))
}

/// The SessionTranscript an mdoc presentation is bound to: the OpenID4VP handover for
/// `direct_post` modes, the Digital Credentials API handover (with `origin`) otherwise; the
/// thumbprint of the encryption key when the response is encrypted.
pub fn mdoc_transcript(
    request: &AuthorizationRequest,
    origin: Option<&str>,
    key: Option<&EncryptionKey>,
) -> SessionTranscript {
    let jwk_thumbprint = key.map(|k| k.thumbprint.clone());
    let handover = match (request.response_mode, origin) {
        (ResponseMode::DcApi | ResponseMode::DcApiJwt, Some(origin)) => Handover::OpenId4VpDcApi {
            origin: origin.to_owned(),
            nonce: request.nonce.clone(),
            jwk_thumbprint,
        },
        _ => Handover::OpenId4Vp {
            client_id: request.client_id.clone(),
            nonce: request.nonce.clone(),
            jwk_thumbprint,
            response_uri: request.response_uri.clone().unwrap_or_default(),
        },
    };
    SessionTranscript::new(None, None, &handover)
}

/// The audience of an SD-JWT VC's Key Binding JWT: the full client id, or `origin:<origin>`
/// over the Digital Credentials API.
pub fn audience(request: &AuthorizationRequest, origin: Option<&str>) -> String {
    match origin {
        Some(origin) => format!("origin:{origin}"),
        None => request.client_id.clone(),
    }
}

/// The Key Binding JWT claims transaction data adds for credential query `query_id`: the
/// SHA-256 of each entry that names it (over the base64url text as received), and the
/// algorithm when the relying party stated one.
pub fn transaction_data_claims(
    request: &AuthorizationRequest,
    query_id: &str,
) -> Map<String, Value> {
    let hashes: Vec<Value> = request
        .transaction_data
        .iter()
        .filter(|t| t.credential_ids.iter().any(|id| id == query_id))
        .map(|t| {
            Value::String(jose::b64url(
                digest::digest(&digest::SHA256, t.encoded.as_bytes()).as_ref(),
            ))
        })
        .collect();
    let mut claims = Map::new();
    if !hashes.is_empty() {
        claims.insert("transaction_data_hashes".into(), Value::Array(hashes));
        if request.transaction_data_hashes_alg.is_some() {
            claims.insert("transaction_data_hashes_alg".into(), "sha-256".into());
        }
    }
    claims
}

/// The `vp_token`: every presentation under its credential query id.
pub fn vp_token(answers: &[(String, Vec<Presentation>)]) -> Value {
    let mut token = Map::new();
    for (query_id, presentations) in answers {
        token.insert(
            query_id.clone(),
            presentations
                .iter()
                .map(|p| match p {
                    Presentation::SdJwt(text) => Value::String(text.clone()),
                    Presentation::Mdoc(bytes) => Value::String(jose::b64url(bytes)),
                })
                .collect(),
        );
    }
    Value::Object(token)
}

fn payload(
    request: &AuthorizationRequest,
    mut parameters: Map<String, Value>,
) -> Map<String, Value> {
    if let Some(state) = &request.state {
        parameters.insert("state".into(), state.clone().into());
    }
    parameters
}

fn encrypt(
    key: &EncryptionKey,
    enc: Enc,
    parameters: &Map<String, Value>,
) -> Result<String, CryptoError> {
    let mut header = Map::new();
    if let Some(kid) = &key.kid {
        header.insert("kid".into(), kid.clone().into());
    }
    jwe::encrypt(
        &key.public_key,
        enc,
        header,
        Value::Object(parameters.clone()).to_string().as_bytes(),
    )
}

/// The form body POSTed to `response_uri`: `vp_token` (and `state`) for `direct_post`, or
/// `response` holding them encrypted for `direct_post.jwt`.
pub fn direct_post_body(
    request: &AuthorizationRequest,
    vp_token: &Value,
    encryption: Option<&(EncryptionKey, Enc)>,
) -> Result<String, CryptoError> {
    let mut parameters = Map::new();
    parameters.insert("vp_token".into(), vp_token.clone());
    let parameters = payload(request, parameters);
    let mut form = form_urlencoded::Serializer::new(String::new());
    match encryption {
        Some((key, enc)) => {
            form.append_pair("response", &encrypt(key, *enc, &parameters)?);
        }
        None => {
            form.append_pair("vp_token", &vp_token.to_string());
            if let Some(state) = &request.state {
                form.append_pair("state", state);
            }
        }
    }
    Ok(form.finish())
}

/// The form body of an error response (sent unencrypted, as the specification allows).
pub fn error_body(
    request: &AuthorizationRequest,
    failure: PresentationFailure,
    description: &str,
) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("error", failure.code());
    let description: String = description
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    form.append_pair("error_description", &description);
    if let Some(state) = &request.state {
        form.append_pair("state", state);
    }
    form.finish()
}

/// The `data` of a Digital Credentials API response: `{"vp_token": ...}`, or
/// `{"response": <JWE>}` for `dc_api.jwt`.
pub fn dc_api_data(
    vp_token: &Value,
    encryption: Option<&(EncryptionKey, Enc)>,
) -> Result<Value, CryptoError> {
    let mut parameters = Map::new();
    parameters.insert("vp_token".into(), vp_token.clone());
    match encryption {
        Some((key, enc)) => Ok(json!({ "response": encrypt(key, *enc, &parameters)? })),
        None => Ok(Value::Object(parameters)),
    }
}

/// What the relying party answered a `direct_post`: where to send the citizen next, if anywhere.
pub fn redirect_of(
    status: u16,
    body: &[u8],
) -> Result<Option<String>, super::request::RequestError> {
    if !(200..300).contains(&status) {
        return Err(super::request::RequestError::new(
            PresentationFailure::Protocol,
            format!("the relying party answered HTTP {status}"),
        ));
    }
    if body.is_empty() {
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        super::request::RequestError::new(
            PresentationFailure::Protocol,
            "the relying party's answer is not JSON",
        )
    })?;
    Ok(value
        .get("redirect_uri")
        .and_then(Value::as_str)
        .filter(|u| u.starts_with("https://") || u.starts_with("http://127.0.0.1"))
        .map(str::to_owned))
}
