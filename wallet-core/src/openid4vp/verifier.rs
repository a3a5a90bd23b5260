//! The relying party's side of OpenID4VP 1.0: a signed request object (`x509_hash` or
//! `x509_san_dns`, as HAIP asks) with a DCQL query, an ephemeral key per request for encrypted
//! responses, and the verification of what comes back — decryption, `state`, the `vp_token`
//! against the query (nothing more, nothing less, every required credential set satisfied),
//! each presentation with every check of the mdoc reader and the SD-JWT VC verifier, bound to
//! this request's nonce and client id, and the transaction data hashes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::dcql::{
    self, CredentialQuery, DcqlQuery, Meta, PathElement, FORMAT_MDOC, FORMAT_SD_JWT,
};
use super::request::{thumbprint, x509_hash, ResponseMode, REQUEST_TYP, SELF_ISSUED};
use crate::cose::cbor;
use crate::crypto::ec::SoftwareKey;
use crate::crypto::{jose, jwe, random};
use crate::mdoc::request::ItemsRequest;
use crate::mdoc::response::DeviceResponse;
use crate::mdoc::session::{Handover, SessionTranscript};
use crate::mdoc::MdocError;
use crate::sdjwt::format::SdJwt;
use crate::sdjwt::verify::KeyBindingPolicy;
use crate::sdjwt::SdJwtError;
use crate::trust::status_list::StatusReference;
use crate::trust::status_token::{StatusCache, StatusCheckError};
use crate::trust::x509::ParsedCertificate;
use crate::verifier::mdoc::{check_against_request, verify_document, VerificationContext};
use crate::verifier::sdjwt::{verify_vc, VcPolicy};

/// Largest response body read, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// How the relying party names itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientIdKind {
    /// `x509_hash:` the hash of the signing certificate (HAIP's choice).
    X509Hash,
    /// `x509_san_dns:` a DNS name of the signing certificate.
    X509SanDns(String),
}

/// The relying party's signing key and certificate chain (leaf first, without the anchor).
pub struct RelyingPartyKey {
    /// The request-signing key.
    pub key: SoftwareKey,
    /// Its certificate chain.
    pub chain: Vec<Vec<u8>>,
    /// Its full client id.
    pub client_id: String,
}

impl RelyingPartyKey {
    /// The key and chain under the client id `kind` names.
    pub fn new(
        key: SoftwareKey,
        chain: Vec<Vec<u8>>,
        kind: &ClientIdKind,
    ) -> Result<Self, ResponseError> {
        let leaf = chain
            .first()
            .ok_or_else(|| ResponseError::Protocol("a signing chain needs its leaf".into()))?;
        let client_id = match kind {
            ClientIdKind::X509Hash => format!("x509_hash:{}", x509_hash(leaf)),
            ClientIdKind::X509SanDns(dns) => format!("x509_san_dns:{dns}"),
        };
        Ok(RelyingPartyKey {
            key,
            chain,
            client_id,
        })
    }
}

/// Why a response was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// An mdoc failed a check.
    #[error(transparent)]
    Mdoc(#[from] MdocError),
    /// An SD-JWT VC failed a check.
    #[error(transparent)]
    SdJwt(#[from] SdJwtError),
    /// The response does not follow the protocol, or is for another request.
    #[error("response: {0}")]
    Protocol(String),
    /// The wallet answered with an error.
    #[error("the wallet answered {code}: {description}")]
    Wallet {
        /// Its error code.
        code: String,
        /// Its description.
        description: String,
    },
    /// What came back is not what was asked: an extra credential or claim, a missing one.
    #[error("not what was asked: {0}")]
    NotRequested(String),
    /// A credential's status is not VALID, or no fresh list tells.
    #[error("status: {0}")]
    Status(StatusCheckError),
    /// The transaction data was not authorized.
    #[error("transaction data: {0}")]
    TransactionData(String),
}

/// What a relying party asks.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// The query.
    pub dcql: DcqlQuery,
    /// How the answer comes back.
    pub response_mode: ResponseMode,
    /// Where it comes back (direct_post modes).
    pub response_uri: Option<String>,
    /// Transactions to authorize (JSON objects with `type` and `credential_ids`).
    pub transaction_data: Vec<Value>,
    /// Over the Digital Credentials API, when signed: the origins it may be sent from.
    pub expected_origins: Vec<String>,
    /// Seconds the request lives.
    pub lifetime: i64,
}

/// A request waiting for its response.
pub struct PendingRequest {
    /// The client id.
    pub client_id: String,
    /// The nonce.
    pub nonce: String,
    /// The state.
    pub state: String,
    /// What was asked.
    pub dcql: DcqlQuery,
    /// How it comes back.
    pub response_mode: ResponseMode,
    /// Where.
    pub response_uri: Option<String>,
    /// The ephemeral key responses are encrypted to.
    pub encryption_key: Option<SoftwareKey>,
    /// The transaction data, encoded as sent.
    pub transaction_data: Vec<String>,
    /// When it expires.
    pub expires_at: i64,
}

impl std::fmt::Debug for PendingRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingRequest")
            .field("client_id", &self.client_id)
            .field("response_mode", &self.response_mode)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A signed request object and its pending state.
pub fn create_request(
    rp: &RelyingPartyKey,
    spec: RequestSpec,
    now: i64,
) -> Result<(String, PendingRequest), ResponseError> {
    let crypto = |e: crate::crypto::CryptoError| ResponseError::Protocol(e.to_string());
    let nonce = jose::b64url(&random::array::<32>().map_err(crypto)?);
    let state = jose::b64url(&random::array::<32>().map_err(crypto)?);
    let encryption_key = if spec.response_mode.encrypted() {
        Some(SoftwareKey::generate().map_err(crypto)?)
    } else {
        None
    };
    let transaction_data: Vec<String> = spec
        .transaction_data
        .iter()
        .map(|t| jose::b64url(t.to_string().as_bytes()))
        .collect();
    let mut metadata = Map::new();
    metadata.insert(
        "vp_formats_supported".into(),
        json!({
            "mso_mdoc": { "issuerauth_alg_values": [-7, -9], "deviceauth_alg_values": [-7, -9] },
            "dc+sd-jwt": { "sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"] }
        }),
    );
    if let Some(key) = &encryption_key {
        let mut jwk = jose::p256_jwk(key.public_key()).map_err(crypto)?;
        if let Some(m) = jwk.as_object_mut() {
            m.insert("alg".into(), "ECDH-ES".into());
            m.insert("use".into(), "enc".into());
            m.insert("kid".into(), "response-encryption".into());
        }
        metadata.insert("jwks".into(), json!({ "keys": [jwk] }));
        metadata.insert(
            "encrypted_response_enc_values_supported".into(),
            json!(["A128GCM", "A256GCM"]),
        );
    }
    let mut claims = Map::new();
    claims.insert("iss".into(), rp.client_id.clone().into());
    claims.insert("aud".into(), SELF_ISSUED.into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), now.saturating_add(spec.lifetime).into());
    claims.insert("client_id".into(), rp.client_id.clone().into());
    claims.insert("response_type".into(), "vp_token".into());
    claims.insert("response_mode".into(), spec.response_mode.name().into());
    if let Some(uri) = &spec.response_uri {
        claims.insert("response_uri".into(), uri.clone().into());
    }
    claims.insert("nonce".into(), nonce.clone().into());
    let dc_api = matches!(
        spec.response_mode,
        ResponseMode::DcApi | ResponseMode::DcApiJwt
    );
    if !dc_api {
        claims.insert("state".into(), state.clone().into());
    }
    claims.insert("dcql_query".into(), spec.dcql.to_json());
    claims.insert("client_metadata".into(), Value::Object(metadata));
    if !transaction_data.is_empty() {
        claims.insert("transaction_data".into(), json!(transaction_data));
    }
    if !spec.expected_origins.is_empty() {
        claims.insert("expected_origins".into(), json!(spec.expected_origins));
    }
    let header = json!({
        "alg": "ES256",
        "typ": REQUEST_TYP,
        "x5c": rp.chain.iter().map(|c| STANDARD.encode(c)).collect::<Vec<_>>(),
    });
    let input = jose::signing_input(&header, &Value::Object(claims));
    let signature = rp.key.sign(input.as_bytes()).map_err(crypto)?;
    Ok((
        jose::compact(&input, &signature),
        PendingRequest {
            client_id: rp.client_id.clone(),
            nonce,
            state,
            dcql: spec.dcql,
            response_mode: spec.response_mode,
            response_uri: spec.response_uri,
            encryption_key,
            transaction_data,
            expires_at: now.saturating_add(spec.lifetime),
        },
    ))
}

/// The URI a wallet opens (or a QR code carries) for a request by reference.
pub fn wallet_uri(client_id: &str, request_uri: &str, post: bool) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("client_id", client_id)
        .append_pair("request_uri", request_uri);
    if post {
        form.append_pair("request_uri_method", "post");
    }
    format!("openid4vp://?{}", form.finish())
}

/// The response parameters of a `direct_post` body: decrypted when the request asked for an
/// encrypted response, `state` checked; a wallet's error answer becomes
/// [`ResponseError::Wallet`].
pub fn open_direct_post(
    pending: &PendingRequest,
    body: &[u8],
) -> Result<Map<String, Value>, ResponseError> {
    let mut form = Map::new();
    for (k, v) in form_urlencoded::parse(body) {
        if form
            .insert(k.to_string(), Value::String(v.to_string()))
            .is_some()
        {
            return Err(ResponseError::Protocol(format!(
                "the parameter {k} repeats"
            )));
        }
    }
    if let Some(code) = form.get("error").and_then(Value::as_str) {
        if form.get("state").and_then(Value::as_str) != Some(pending.state.as_str()) {
            return Err(ResponseError::Protocol(
                "an error for another request".into(),
            ));
        }
        return Err(ResponseError::Wallet {
            code: code.chars().take(64).collect(),
            description: form
                .get("error_description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect(),
        });
    }
    let parameters = match (&pending.encryption_key, form.get("response")) {
        (Some(key), Some(Value::String(jwe_text))) => decrypt(key, jwe_text)?,
        (Some(_), _) => {
            return Err(ResponseError::Protocol(
                "the response is not encrypted, and the request asked for it to be".into(),
            ))
        }
        (None, Some(_)) => {
            return Err(ResponseError::Protocol(
                "an encrypted response to a request that asked for none".into(),
            ))
        }
        (None, None) => {
            let mut parameters = form.clone();
            if let Some(Value::String(token)) = form.get("vp_token") {
                let token: Value = serde_json::from_str(token)
                    .map_err(|_| ResponseError::Protocol("vp_token is not JSON".into()))?;
                parameters.insert("vp_token".into(), token);
            }
            parameters
        }
    };
    if parameters.get("state").and_then(Value::as_str) != Some(pending.state.as_str()) {
        return Err(ResponseError::Protocol(
            "the response is for another request (state)".into(),
        ));
    }
    Ok(parameters)
}

fn decrypt(key: &SoftwareKey, text: &str) -> Result<Map<String, Value>, ResponseError> {
    let decrypted = jwe::decrypt(key, text)
        .map_err(|e| ResponseError::Protocol(format!("the encrypted response: {e}")))?;
    if decrypted.header.get("alg").and_then(Value::as_str) != Some("ECDH-ES") {
        return Err(ResponseError::Protocol("the response's alg".into()));
    }
    match serde_json::from_slice(&decrypted.plaintext) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ResponseError::Protocol(
            "the decrypted response is not a JSON object".into(),
        )),
    }
}

/// The response parameters of a Digital Credentials API answer (`data`).
pub fn open_dc_api(
    pending: &PendingRequest,
    data: &Value,
) -> Result<Map<String, Value>, ResponseError> {
    match (&pending.encryption_key, data.get("response")) {
        (Some(key), Some(Value::String(text))) => decrypt(key, text),
        (Some(_), _) => Err(ResponseError::Protocol(
            "the response is not encrypted, and the request asked for it to be".into(),
        )),
        (None, _) => data
            .as_object()
            .cloned()
            .ok_or_else(|| ResponseError::Protocol("the response data is not an object".into())),
    }
}

/// One verified claim.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaim {
    /// Its path (for an mdoc: namespace and element).
    pub path: Vec<String>,
    /// Its value as JSON.
    pub value: Value,
}

/// A presentation that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedPresentation {
    /// The credential query it answers.
    pub query_id: String,
    /// `mso_mdoc` or `dc+sd-jwt`.
    pub format: String,
    /// docType or `vct`.
    pub doc_type: String,
    /// Who issued it (document signer subject, or `iss`).
    pub issuer: String,
    /// The disclosed claims.
    pub claims: Vec<VerifiedClaim>,
}

/// What the relying party trusts, and when it checks.
pub struct Trust<'a> {
    /// IACAs.
    pub iaca: &'a [ParsedCertificate],
    /// SD-JWT VC issuer roots.
    pub sd_jwt_issuers: &'a [ParsedCertificate],
    /// Verified status lists.
    pub statuses: &'a StatusCache,
    /// Now, Unix seconds.
    pub at: i64,
    /// Tolerated clock skew, seconds.
    pub skew: i64,
    /// Oldest acceptable key binding, seconds.
    pub max_age: i64,
}

fn status(
    statuses: &StatusCache,
    reference: Option<&StatusReference>,
    at: i64,
) -> Result<(), ResponseError> {
    match reference {
        None => Ok(()),
        Some(r) => statuses.check(r, at).map_err(ResponseError::Status),
    }
}

fn asked_mdoc(query: &CredentialQuery, doctype: &str) -> ItemsRequest {
    let mut namespaces: Vec<(String, Vec<(String, bool)>)> = Vec::new();
    for claim in query.claims.iter().flatten() {
        if let [PathElement::Key(ns), PathElement::Key(element)] = claim.path.as_slice() {
            let retain = claim.intent_to_retain.unwrap_or(false);
            match namespaces.iter_mut().find(|(n, _)| n == ns) {
                Some((_, list)) => list.push((element.clone(), retain)),
                None => namespaces.push((ns.clone(), vec![(element.clone(), retain)])),
            }
        }
    }
    ItemsRequest {
        doc_type: doctype.to_owned(),
        namespaces,
        request_info: None,
    }
}

/// Whether the disclosed claims answer the query: every claim of some claim set (or every
/// claim) is present with an acceptable value.
fn check_claims(query: &CredentialQuery, claims: &Value) -> Result<(), ResponseError> {
    let candidate = dcql::Candidate {
        format: query.format.clone(),
        doc_type: match &query.meta {
            Meta::MsoMdoc { doctype } => doctype.clone(),
            Meta::SdJwtVc { vcts } => vcts.first().cloned().unwrap_or_default(),
            Meta::Other(_) => String::new(),
        },
        claims: claims.clone(),
        authority_key_ids: Vec::new(),
        holder_bound: true,
    };
    let unconstrained = CredentialQuery {
        trusted_authorities: Vec::new(),
        ..query.clone()
    };
    dcql::match_candidate(&unconstrained, &candidate)
        .map(|_| ())
        .map_err(|why| ResponseError::NotRequested(format!("{}: {why}", query.id)))
}

fn verify_mdoc(
    pending: &PendingRequest,
    query: &CredentialQuery,
    text: &str,
    transcript: &SessionTranscript,
    trust: &Trust<'_>,
) -> Result<Vec<VerifiedPresentation>, ResponseError> {
    let Meta::MsoMdoc { doctype } = &query.meta else {
        return Err(ResponseError::Protocol(format!(
            "{} is not an mdoc query",
            query.id
        )));
    };
    let bytes = jose::b64url_decode(text)
        .map_err(|_| ResponseError::Protocol(format!("{}: not base64url", query.id)))?;
    let response = DeviceResponse::parse(&bytes)?;
    if response.documents.len() != 1 {
        return Err(ResponseError::Protocol(format!(
            "{}: a DeviceResponse per mdoc, with one document",
            query.id
        )));
    }
    // Only what was asked comes back, before anything else is believed.
    check_against_request(&response, &[asked_mdoc(query, doctype)])?;
    let mut out = Vec::new();
    for doc in &response.documents {
        let verified = verify_document(
            doc,
            &VerificationContext {
                iaca: trust.iaca,
                at: trust.at,
                transcript,
                e_reader_key: None,
            },
        )?;
        status(trust.statuses, verified.status.as_ref(), trust.at)?;
        let mut view = Map::new();
        for e in &verified.elements {
            let ns = view
                .entry(e.namespace.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(m) = ns.as_object_mut() {
                m.insert(e.identifier.clone(), cbor::to_json(&e.value));
            }
        }
        check_claims(query, &Value::Object(view))?;
        if pending
            .transaction_data
            .iter()
            .any(|encoded| names_query(encoded, &query.id))
        {
            // No generic mdoc element carries transaction data hashes: a query with
            // transaction data is answered by an SD-JWT VC only.
            return Err(ResponseError::TransactionData(format!(
                "{}: transaction data needs an SD-JWT VC",
                query.id
            )));
        }
        out.push(VerifiedPresentation {
            query_id: query.id.clone(),
            format: FORMAT_MDOC.into(),
            doc_type: verified.doc_type,
            issuer: verified.document_signer,
            claims: verified
                .elements
                .iter()
                .map(|e| VerifiedClaim {
                    path: vec![e.namespace.clone(), e.identifier.clone()],
                    value: cbor::to_json(&e.value),
                })
                .collect(),
        });
    }
    Ok(out)
}

fn within(disclosed: &str, allowed: &str) -> bool {
    disclosed == allowed
        || disclosed.starts_with(&format!("{allowed}/"))
        || allowed.starts_with(&format!("{disclosed}/"))
}

fn verify_sd_jwt(
    pending: &PendingRequest,
    query: &CredentialQuery,
    text: &str,
    audience: &str,
    trust: &Trust<'_>,
) -> Result<VerifiedPresentation, ResponseError> {
    let Meta::SdJwtVc { vcts } = &query.meta else {
        return Err(ResponseError::Protocol(format!(
            "{} is not an SD-JWT VC query",
            query.id
        )));
    };
    let sd = SdJwt::parse_compact(text)?;
    let vc = verify_vc(
        &sd,
        &VcPolicy {
            anchors: trust.sd_jwt_issuers,
            at: trust.at,
            skew: trust.skew,
            accepted_vcts: vcts,
            require_expiry: false,
            key_binding: KeyBindingPolicy {
                nonce: &pending.nonce,
                audience,
                at: trust.at,
                max_age: trust.max_age,
                skew: trust.skew,
            },
        },
    )?;
    status(trust.statuses, vc.status.as_ref(), trust.at)?;
    // Transaction data: every entry naming this query is hashed into the key binding.
    let wanted: Vec<String> = pending
        .transaction_data
        .iter()
        .filter(|encoded| names_query(encoded, &query.id))
        .map(|encoded| {
            jose::b64url(ring::digest::digest(&ring::digest::SHA256, encoded.as_bytes()).as_ref())
        })
        .collect();
    if !wanted.is_empty() {
        let hashes: Vec<String> = vc
            .sd_jwt
            .key_binding_claims
            .as_ref()
            .and_then(|c| c.get("transaction_data_hashes"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|h| h.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(missing) = wanted.iter().find(|w| !hashes.contains(w)) {
            return Err(ResponseError::TransactionData(format!(
                "{}: the key binding does not cover transaction {missing}",
                query.id
            )));
        }
    }
    // Every requested claim is there, and nothing was disclosed that was not asked for.
    check_claims(query, &vc.sd_jwt.claims)?;
    let mut allowed: Vec<String> = Vec::new();
    for claim in query.claims.iter().flatten() {
        if let Some(found) = dcql::resolve(&vc.sd_jwt.claims, &claim.path) {
            allowed.extend(found.iter().map(|(p, _)| dcql::pointer(p)));
        }
    }
    if let Some((path, _)) = vc
        .sd_jwt
        .disclosed
        .iter()
        .find(|(path, _)| !allowed.iter().any(|a| within(path, a)))
    {
        return Err(ResponseError::NotRequested(format!(
            "{}: {path} was disclosed and not asked for",
            query.id
        )));
    }
    let claims = vc
        .sd_jwt
        .disclosed
        .iter()
        .map(|(path, value)| VerifiedClaim {
            path: path
                .split('/')
                .skip(1)
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect(),
            value: value.clone(),
        })
        .collect();
    Ok(VerifiedPresentation {
        query_id: query.id.clone(),
        format: FORMAT_SD_JWT.into(),
        doc_type: vc.vct,
        issuer: vc.iss,
        claims,
    })
}

/// Whether a transaction data entry (base64url JSON) names the credential query `query_id`
/// in its `credential_ids`.
fn names_query(encoded: &str, query_id: &str) -> bool {
    jose::b64url_decode(encoded)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.get("credential_ids").cloned())
        .and_then(|ids| ids.as_array().cloned())
        .is_some_and(|ids| ids.iter().any(|i| i.as_str() == Some(query_id)))
}

/// Verifies a `vp_token` against the request it answers. `origin`: the web origin, for a
/// Digital Credentials API response.
pub fn verify_vp_token(
    pending: &PendingRequest,
    parameters: &Map<String, Value>,
    origin: Option<&str>,
    trust: &Trust<'_>,
) -> Result<Vec<VerifiedPresentation>, ResponseError> {
    if trust.at > pending.expires_at {
        return Err(ResponseError::Protocol("the request has expired".into()));
    }
    let token = parameters
        .get("vp_token")
        .and_then(Value::as_object)
        .ok_or_else(|| ResponseError::Protocol("no vp_token object".into()))?;
    for id in token.keys() {
        if pending.dcql.credential(id).is_none() {
            return Err(ResponseError::NotRequested(format!(
                "a presentation for {id}, which was not asked for"
            )));
        }
    }
    // Every required credential set (or, without sets, every query) is answered.
    let answered = |id: &String| token.contains_key(id);
    if pending.dcql.credential_sets.is_empty() {
        if let Some(missing) = pending.dcql.credentials.iter().find(|c| !answered(&c.id)) {
            return Err(ResponseError::NotRequested(format!(
                "no presentation for {}",
                missing.id
            )));
        }
    } else {
        for set in pending.dcql.credential_sets.iter().filter(|s| s.required) {
            if !set.options.iter().any(|o| o.iter().all(answered)) {
                return Err(ResponseError::NotRequested(
                    "a required credential set is not answered".into(),
                ));
            }
        }
    }
    let thumbprint = pending
        .encryption_key
        .as_ref()
        .map(|k| thumbprint(k.public_key()))
        .transpose()
        .map_err(|e| ResponseError::Protocol(e.to_string()))?;
    let transcript = SessionTranscript::new(
        None,
        None,
        &match origin {
            Some(origin) => Handover::OpenId4VpDcApi {
                origin: origin.to_owned(),
                nonce: pending.nonce.clone(),
                jwk_thumbprint: thumbprint,
            },
            None => Handover::OpenId4Vp {
                client_id: pending.client_id.clone(),
                nonce: pending.nonce.clone(),
                jwk_thumbprint: thumbprint,
                response_uri: pending.response_uri.clone().unwrap_or_default(),
            },
        },
    );
    let audience = match origin {
        Some(origin) => format!("origin:{origin}"),
        None => pending.client_id.clone(),
    };
    let mut out = Vec::new();
    for (id, presentations) in token {
        let query = pending
            .dcql
            .credential(id)
            .ok_or_else(|| ResponseError::NotRequested(id.clone()))?;
        let items = presentations
            .as_array()
            .filter(|a| !a.is_empty() && a.len() <= crate::limits::MAX_DOCUMENTS)
            .ok_or_else(|| ResponseError::Protocol(format!("{id}: not a list of presentations")))?;
        if !query.multiple && items.len() != 1 {
            return Err(ResponseError::Protocol(format!(
                "{id}: one presentation was asked for"
            )));
        }
        for item in items {
            let text = item.as_str().ok_or_else(|| {
                ResponseError::Protocol(format!("{id}: a presentation is not text"))
            })?;
            match query.format.as_str() {
                FORMAT_MDOC => out.extend(verify_mdoc(pending, query, text, &transcript, trust)?),
                FORMAT_SD_JWT => out.push(verify_sd_jwt(pending, query, text, &audience, trust)?),
                other => return Err(ResponseError::Protocol(format!("{id}: format {other}"))),
            }
        }
    }
    Ok(out)
}
