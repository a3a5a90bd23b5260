//! Authorization requests (OpenID4VP 1.0 section 5): read from a URI (by value, or by
//! reference through `request_uri` with GET or POST), or from a signed request object (JAR,
//! RFC 9101) verified against the wallet's relying-party anchors with the client identifier
//! prefixes `x509_san_dns` and `x509_hash`. Only what the request object says is used.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::digest;
use serde_json::{Map, Value};

use super::dcql::{DcqlError, DcqlQuery};
use crate::crypto::jwe::Enc;
use crate::crypto::{jose, CryptoError};
use crate::trust::jws;
use crate::trust::x509::{ParsedCertificate, TrustRole};

/// The `typ` of a request object.
pub const REQUEST_TYP: &str = "oauth-authz-req+jwt";
/// The audience of a request object with static discovery.
pub const SELF_ISSUED: &str = "https://self-issued.me/v2";
/// Largest request (URI, object or fetched body) read, in bytes.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// Seconds a request object's `iat` may lie ahead of the wallet's clock.
pub const REQUEST_SKEW: i64 = 300;

/// What went wrong with a request, as the error codes of OpenID4VP 1.0 section 8.5 (which the
/// wallet may send back) and what the wallet tells its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PresentationFailure {
    /// `invalid_request`: malformed, or breaking the rules of its client identifier prefix.
    InvalidRequest,
    /// `invalid_client`: an unsupported or unknown client identifier prefix.
    InvalidClient,
    /// The request is signed by a relying party the wallet does not trust (no chain to a
    /// `RelyingParty` anchor, a bad signature, or a certificate that does not name the client).
    UntrustedRelyingParty,
    /// `vp_formats_not_supported`.
    VpFormatsNotSupported,
    /// `invalid_request_uri_method`.
    InvalidRequestUriMethod,
    /// `invalid_transaction_data`.
    InvalidTransactionData,
    /// The request object has expired.
    ExpiredRequest,
    /// The same request (client and nonce) was seen before.
    ReplayedRequest,
    /// The wallet holds nothing that answers the query (`access_denied` to the verifier).
    Unsatisfiable,
    /// The citizen declined (`access_denied` to the verifier).
    Declined,
    /// The request could not be fetched, or the response not delivered.
    Transport,
    /// The verifier answered outside the protocol.
    Protocol,
    /// A step was called out of order.
    OutOfOrder,
}

impl PresentationFailure {
    /// The error code sent to the verifier for it.
    pub fn code(self) -> &'static str {
        match self {
            PresentationFailure::InvalidClient => "invalid_client",
            PresentationFailure::VpFormatsNotSupported => "vp_formats_not_supported",
            PresentationFailure::InvalidRequestUriMethod => "invalid_request_uri_method",
            PresentationFailure::InvalidTransactionData => "invalid_transaction_data",
            PresentationFailure::Unsatisfiable | PresentationFailure::Declined => "access_denied",
            _ => "invalid_request",
        }
    }
}

/// A presentation failure with its detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{failure:?}: {detail}")]
pub struct RequestError {
    /// The kind.
    pub failure: PresentationFailure,
    /// What exactly.
    pub detail: String,
}

impl RequestError {
    /// An error of `failure` kind.
    pub fn new(failure: PresentationFailure, detail: impl Into<String>) -> Self {
        RequestError {
            failure,
            detail: detail.into(),
        }
    }
}

fn invalid(detail: impl Into<String>) -> RequestError {
    RequestError::new(PresentationFailure::InvalidRequest, detail)
}

impl From<DcqlError> for RequestError {
    fn from(e: DcqlError) -> Self {
        invalid(e.to_string())
    }
}

/// How a relying party identifies itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientIdPrefix {
    /// `x509_san_dns:<dns name>`: a DNS name of the signing certificate.
    X509SanDns(String),
    /// `x509_hash:<base64url SHA-256 of the signing certificate>`.
    X509Hash(String),
    /// `redirect_uri:<uri>`: unsigned; the relying party is not authenticated.
    RedirectUri(String),
    /// `origin:<web origin>`: an unsigned Digital Credentials API request, named by the origin
    /// the platform reports (never accepted from a request itself).
    Origin(String),
}

impl ClientIdPrefix {
    /// Reads a client identifier; unknown prefixes (and the pre-registered form, for which
    /// this wallet has no registry) are refused.
    pub fn parse(client_id: &str) -> Result<Self, RequestError> {
        let (prefix, rest) = client_id.split_once(':').ok_or_else(|| {
            RequestError::new(
                PresentationFailure::InvalidClient,
                "a client id without prefix names a pre-registered client, and this wallet has none",
            )
        })?;
        if rest.is_empty() {
            return Err(RequestError::new(
                PresentationFailure::InvalidClient,
                "an empty client id",
            ));
        }
        match prefix {
            "x509_san_dns" => Ok(ClientIdPrefix::X509SanDns(rest.to_owned())),
            "x509_hash" => Ok(ClientIdPrefix::X509Hash(rest.to_owned())),
            "redirect_uri" => Ok(ClientIdPrefix::RedirectUri(rest.to_owned())),
            other => Err(RequestError::new(
                PresentationFailure::InvalidClient,
                format!("the client id prefix {other} is not supported"),
            )),
        }
    }

    /// Whether requests with this prefix must be signed.
    pub fn requires_signature(&self) -> bool {
        !matches!(
            self,
            ClientIdPrefix::RedirectUri(_) | ClientIdPrefix::Origin(_)
        )
    }
}

/// The `x509_hash` of a certificate: base64url SHA-256 of its DER.
pub fn x509_hash(der: &[u8]) -> String {
    jose::b64url(digest::digest(&digest::SHA256, der).as_ref())
}

/// How the response goes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ResponseMode {
    /// POSTed as a form to `response_uri`.
    DirectPost,
    /// POSTed as an encrypted JWT to `response_uri`.
    DirectPostJwt,
    /// Returned through the Digital Credentials API.
    DcApi,
    /// Returned through the Digital Credentials API, encrypted.
    DcApiJwt,
}

impl ResponseMode {
    /// Its name in requests.
    pub fn name(self) -> &'static str {
        match self {
            ResponseMode::DirectPost => "direct_post",
            ResponseMode::DirectPostJwt => "direct_post.jwt",
            ResponseMode::DcApi => "dc_api",
            ResponseMode::DcApiJwt => "dc_api.jwt",
        }
    }

    /// Whether the response is encrypted.
    pub fn encrypted(self) -> bool {
        matches!(self, ResponseMode::DirectPostJwt | ResponseMode::DcApiJwt)
    }
}

/// A key the relying party asks responses to be encrypted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionKey {
    /// Its `kid`, to repeat in the JWE header.
    pub kid: Option<String>,
    /// The public key (SEC1).
    pub public_key: Vec<u8>,
    /// Its RFC 7638 SHA-256 thumbprint.
    pub thumbprint: Vec<u8>,
}

/// The RFC 7638 SHA-256 thumbprint of a P-256 public key.
pub fn thumbprint(public_key: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let jwk = jose::p256_jwk(public_key)?;
    let field = |k: &str| {
        jwk.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    // Members in lexicographic order, no whitespace.
    let canonical = format!(
        "{{\"crv\":\"{}\",\"kty\":\"{}\",\"x\":\"{}\",\"y\":\"{}\"}}",
        field("crv"),
        field("kty"),
        field("x"),
        field("y")
    );
    Ok(digest::digest(&digest::SHA256, canonical.as_bytes())
        .as_ref()
        .to_vec())
}

/// A transaction the relying party asks the citizen to authorize along with the presentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionData {
    /// The entry exactly as received (base64url), which is what gets hashed.
    pub encoded: String,
    /// Its `type`.
    pub kind: String,
    /// The credential queries it is for.
    pub credential_ids: Vec<String>,
    /// Its decoded JSON, for the consent screen.
    pub fields: Value,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelyingPartyIdentity {
    /// The request was signed by a certificate chaining to a relying-party anchor, and the
    /// client id names that certificate.
    Verified {
        /// The certificate's subject.
        subject: String,
        /// The anchor it chains to.
        anchor: String,
        /// The certificate (DER).
        certificate: Vec<u8>,
    },
    /// Unsigned (`redirect_uri`): nothing proves who is asking.
    Unverified {
        /// Why.
        reason: String,
    },
}

/// A request, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationRequest {
    /// The full client id, prefix included (the presentation's audience).
    pub client_id: String,
    /// Its prefix.
    pub prefix: ClientIdPrefix,
    /// Who is asking.
    pub relying_party: RelyingPartyIdentity,
    /// How the response goes back.
    pub response_mode: ResponseMode,
    /// Where it goes (direct_post modes).
    pub response_uri: Option<String>,
    /// The nonce the presentation binds.
    pub nonce: String,
    /// The state to echo.
    pub state: Option<String>,
    /// What is asked for.
    pub dcql: DcqlQuery,
    /// Keys to encrypt the response to.
    pub encryption_keys: Vec<EncryptionKey>,
    /// Content encryptions the relying party takes (default A128GCM).
    pub encryption_methods: Vec<Enc>,
    /// Transactions to authorize.
    pub transaction_data: Vec<TransactionData>,
    /// Hash algorithms for transaction data (`transaction_data_hashes_alg`), when given.
    pub transaction_data_hashes_alg: Option<Vec<String>>,
    /// For a signed Digital Credentials API request: the origins it may come from.
    pub expected_origins: Vec<String>,
    /// `exp` of the request object, if any.
    pub expires_at: Option<i64>,
}

/// Where a request is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestLocation {
    /// Its parameters (possibly with a `request` object by value).
    Parameters(Map<String, Value>),
    /// A `request_uri` to fetch.
    Reference {
        /// The outer client id.
        client_id: String,
        /// Where.
        request_uri: String,
        /// POST (with wallet metadata) instead of GET.
        post: bool,
    },
}

/// The parameters of a request URI (`openid4vp://?...`, `haip-vp://?...` or an https link), as
/// JSON strings.
pub fn parse_uri(uri: &str) -> Result<RequestLocation, RequestError> {
    let uri = uri.trim();
    if uri.len() > MAX_REQUEST_BYTES {
        return Err(invalid("the request is too large"));
    }
    let query = uri
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or_default())
        .ok_or_else(|| invalid("not an authorization request URI"))?;
    let mut params = Map::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if params
            .insert(k.to_string(), Value::String(v.to_string()))
            .is_some()
        {
            return Err(invalid(format!("the parameter {k} repeats")));
        }
    }
    let text = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_owned);
    match text("request_uri") {
        Some(request_uri) => {
            let post = match text("request_uri_method").as_deref() {
                None | Some("get") => false,
                Some("post") => true,
                Some(other) => {
                    return Err(RequestError::new(
                        PresentationFailure::InvalidRequestUriMethod,
                        format!("request_uri_method {other}"),
                    ))
                }
            };
            let client_id = text("client_id")
                .ok_or_else(|| invalid("a request by reference names its client_id"))?;
            if !request_uri.starts_with("https://") && !request_uri.starts_with("http://") {
                return Err(invalid("request_uri is not an http(s) URL"));
            }
            Ok(RequestLocation::Reference {
                client_id,
                request_uri,
                post,
            })
        }
        None if params.contains_key("request_uri_method") => Err(RequestError::new(
            PresentationFailure::InvalidRequestUriMethod,
            "request_uri_method without request_uri",
        )),
        None => Ok(RequestLocation::Parameters(params)),
    }
}

fn text<'a>(m: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, RequestError> {
    match m.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 8 * 1024 => Ok(Some(s)),
        Some(_) => Err(invalid(format!("{key} is not a string"))),
    }
}

/// A parameter that is a JSON object: itself in a request object, a JSON string in a URI.
fn object(m: &Map<String, Value>, key: &str) -> Result<Option<Value>, RequestError> {
    match m.get(key) {
        None => Ok(None),
        Some(Value::Object(o)) => Ok(Some(Value::Object(o.clone()))),
        Some(Value::String(s)) => serde_json::from_str::<Value>(s)
            .ok()
            .filter(Value::is_object)
            .map(Some)
            .ok_or_else(|| invalid(format!("{key} is not a JSON object"))),
        Some(_) => Err(invalid(format!("{key} is not a JSON object"))),
    }
}

fn array(m: &Map<String, Value>, key: &str) -> Result<Option<Vec<Value>>, RequestError> {
    match m.get(key) {
        None => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a.clone())),
        Some(Value::String(s)) => serde_json::from_str::<Value>(s)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .map(Some)
            .ok_or_else(|| invalid(format!("{key} is not a JSON array"))),
        Some(_) => Err(invalid(format!("{key} is not a JSON array"))),
    }
}

fn url_safe(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn encryption_keys(metadata: &Value) -> Result<Vec<EncryptionKey>, RequestError> {
    let Some(keys) = metadata.pointer("/jwks/keys") else {
        return Ok(Vec::new());
    };
    let keys = keys
        .as_array()
        .filter(|k| k.len() <= 16)
        .ok_or_else(|| invalid("client_metadata.jwks.keys is not a list"))?;
    let mut out = Vec::new();
    for key in keys {
        // Keys for other algorithms or curves are skipped: the wallet encrypts with ECDH-ES on
        // P-256 only.
        if key.get("alg").and_then(Value::as_str) != Some("ECDH-ES")
            || key.get("crv").and_then(Value::as_str) != Some("P-256")
        {
            continue;
        }
        let public_key =
            jose::p256_from_jwk(key).map_err(|e| invalid(format!("client_metadata key: {e}")))?;
        out.push(EncryptionKey {
            kid: key.get("kid").and_then(Value::as_str).map(str::to_owned),
            thumbprint: thumbprint(&public_key).map_err(|e| invalid(e.to_string()))?,
            public_key,
        });
    }
    Ok(out)
}

fn transaction_data(
    m: &Map<String, Value>,
    dcql: &DcqlQuery,
) -> Result<Vec<TransactionData>, RequestError> {
    let bad = |why: String| RequestError::new(PresentationFailure::InvalidTransactionData, why);
    let Some(entries) = array(m, "transaction_data")? else {
        return Ok(Vec::new());
    };
    if entries.is_empty() || entries.len() > 16 {
        return Err(bad("transaction_data holds 1 to 16 entries".into()));
    }
    entries
        .iter()
        .map(|entry| {
            let encoded = entry
                .as_str()
                .ok_or_else(|| bad("a transaction data entry is not a string".into()))?;
            let fields: Value = jose::b64url_decode(encoded)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .filter(Value::is_object)
                .ok_or_else(|| bad("a transaction data entry is not base64url JSON".into()))?;
            let kind = fields
                .get("type")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| bad("a transaction data entry has no type".into()))?
                .to_owned();
            let ids: Vec<String> = fields
                .get("credential_ids")
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty())
                .ok_or_else(|| bad("a transaction data entry names no credential_ids".into()))?
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad("credential_ids holds a non-string".into()))?;
            for id in &ids {
                let query = dcql
                    .credential(id)
                    .ok_or_else(|| bad(format!("credential_ids names unknown query {id}")))?;
                if !query.require_holder_binding {
                    return Err(bad(format!(
                        "transaction data for {id}, which needs no holder binding"
                    )));
                }
            }
            Ok(TransactionData {
                encoded: encoded.to_owned(),
                kind,
                credential_ids: ids,
                fields,
            })
        })
        .collect()
}

/// A request object whose signature and chain verified.
struct SignedRequest {
    claims: Map<String, Value>,
    signer: ParsedCertificate,
    leaf_der: Vec<u8>,
}

/// Verifies a request object's signature and its signer's chain against `anchors` (relying
/// parties) at `now`.
fn verify_signature(
    jwt: &str,
    anchors: &[ParsedCertificate],
    now: i64,
) -> Result<SignedRequest, RequestError> {
    let untrusted =
        |why: String| RequestError::new(PresentationFailure::UntrustedRelyingParty, why);
    let signed =
        jws::verify_x5c(jwt, REQUEST_TYP, anchors, now, TrustRole::RelyingParty).map_err(|e| {
            match e {
                jws::JwsError::Malformed(m) => invalid(format!("request object: {m}")),
                other => untrusted(other.to_string()),
            }
        })?;
    let chain = jws::x5c_chain(&signed.header).map_err(|e| untrusted(e.to_string()))?;
    let leaf_der = chain
        .first()
        .cloned()
        .ok_or_else(|| untrusted("no signing certificate".into()))?;
    let Value::Object(claims) = signed.payload else {
        return Err(invalid("the request object is not a JSON object"));
    };
    Ok(SignedRequest {
        claims,
        signer: signed.signer,
        leaf_der,
    })
}

/// Checks that the client id `prefix` names the signing certificate, and says who signed.
fn check_signer(
    prefix: &ClientIdPrefix,
    signer: &ParsedCertificate,
    leaf_der: &[u8],
    anchors: &[ParsedCertificate],
) -> Result<RelyingPartyIdentity, RequestError> {
    let untrusted =
        |why: String| RequestError::new(PresentationFailure::UntrustedRelyingParty, why);
    match prefix {
        ClientIdPrefix::X509SanDns(name) => {
            let (_, dns) = signer
                .subject_alt_names()
                .map_err(|e| untrusted(e.to_string()))?;
            if !dns.iter().any(|d| d.eq_ignore_ascii_case(name)) {
                return Err(untrusted(format!(
                    "the signing certificate does not name {name}"
                )));
            }
        }
        ClientIdPrefix::X509Hash(hash) => {
            if x509_hash(leaf_der) != *hash {
                return Err(untrusted(
                    "x509_hash is not the hash of the signing certificate".into(),
                ));
            }
        }
        ClientIdPrefix::RedirectUri(_) | ClientIdPrefix::Origin(_) => {
            return Err(invalid("this client id prefix may not sign its requests"));
        }
    }
    let anchor = anchors
        .iter()
        .find(|a| signer.verify_signed_by(a).is_ok())
        .map(ParsedCertificate::subject)
        .unwrap_or_default();
    Ok(RelyingPartyIdentity::Verified {
        subject: signer.subject(),
        anchor,
        certificate: leaf_der.to_vec(),
    })
}

/// The host of a URL (no port, no user info).
fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.contains('@') {
        return None;
    }
    if authority.starts_with('[') {
        return authority
            .split(']')
            .next()
            .map(|h| h.trim_start_matches('['));
    }
    authority.split(':').next()
}

/// How a request is read.
#[derive(Debug, Clone)]
pub struct ReadOptions<'a> {
    /// Trust anchors of relying parties.
    pub anchors: &'a [ParsedCertificate],
    /// Now, Unix seconds.
    pub now: i64,
    /// The client id outside the request object, which must be identical.
    pub outer_client_id: Option<&'a str>,
    /// Over the Digital Credentials API: the web origin the platform reports.
    pub origin: Option<&'a str>,
    /// The `wallet_nonce` sent with a POST of the request URI, which the object must echo.
    pub wallet_nonce: Option<&'a str>,
    /// Accept `http://` response URIs on the loopback interface (test servers).
    pub allow_loopback_http: bool,
}

/// Reads a request from its parameters: a signed request object (`request`) verified first,
/// or, for a `redirect_uri` client only, the unsigned parameters.
pub fn read(
    params: &Map<String, Value>,
    options: &ReadOptions<'_>,
) -> Result<AuthorizationRequest, RequestError> {
    match text(params, "request")? {
        Some(jwt) => read_object(jwt, options),
        None => {
            let client_id = text(params, "client_id")?
                .ok_or_else(|| invalid("the request names no client_id"))?;
            let prefix = ClientIdPrefix::parse(client_id)?;
            if prefix.requires_signature() {
                return Err(invalid(format!(
                    "{client_id}: this client id prefix requires a signed request"
                )));
            }
            if let Some(outer) = options.outer_client_id {
                if outer != client_id {
                    return Err(invalid("the client ids of the request differ"));
                }
            }
            build(
                params,
                client_id,
                prefix,
                RelyingPartyIdentity::Unverified {
                    reason: "an unsigned request (redirect_uri client id)".into(),
                },
                options,
            )
        }
    }
}

/// Reads an unsigned Digital Credentials API request (`openid4vp-v1-unsigned`) from `origin`:
/// its client is `origin:<origin>`, and nothing but the platform vouches for it.
pub fn read_unsigned_dc_api(
    params: &Map<String, Value>,
    origin: &str,
    options: &ReadOptions<'_>,
) -> Result<AuthorizationRequest, RequestError> {
    if params.contains_key("request") {
        return Err(invalid("a request object belongs in openid4vp-v1-signed"));
    }
    build(
        params,
        &format!("origin:{origin}"),
        ClientIdPrefix::Origin(origin.to_owned()),
        RelyingPartyIdentity::Unverified {
            reason: format!("an unsigned request from the web origin {origin}"),
        },
        options,
    )
}

/// Reads a signed request object (`oauth-authz-req+jwt`).
pub fn read_object(
    jwt: &str,
    options: &ReadOptions<'_>,
) -> Result<AuthorizationRequest, RequestError> {
    if jwt.len() > MAX_REQUEST_BYTES {
        return Err(invalid("the request object is too large"));
    }
    let header = jws::unverified_header(jwt).map_err(|e| invalid(e.to_string()))?;
    if header.get("typ").and_then(Value::as_str) != Some(REQUEST_TYP) {
        return Err(invalid(format!(
            "the request object's typ is not {REQUEST_TYP}"
        )));
    }
    // The signature and the signer's chain first: nothing in the payload is believed before.
    let SignedRequest {
        claims,
        signer,
        leaf_der,
    } = verify_signature(jwt, options.anchors, options.now)?;
    let client_id = text(&claims, "client_id")?
        .ok_or_else(|| invalid("the request object names no client_id"))?
        .to_owned();
    let prefix = ClientIdPrefix::parse(&client_id)?;
    let identity = check_signer(&prefix, &signer, &leaf_der, options.anchors)?;
    if let Some(outer) = options.outer_client_id {
        if outer != client_id {
            return Err(invalid(
                "the client_id outside and inside the request object differ",
            ));
        }
    }
    if let Some(aud) = claims.get("aud") {
        let ok = match aud {
            Value::String(a) => a == SELF_ISSUED,
            Value::Array(a) => a.iter().any(|v| v.as_str() == Some(SELF_ISSUED)),
            _ => false,
        };
        if !ok {
            return Err(invalid("the request object is for another audience"));
        }
    }
    if let Some(exp) = claims.get("exp") {
        match exp.as_i64() {
            Some(exp) if exp > options.now => {}
            _ => {
                return Err(RequestError::new(
                    PresentationFailure::ExpiredRequest,
                    "the request object has expired",
                ))
            }
        }
    }
    if let Some(iat) = claims.get("iat").and_then(Value::as_i64) {
        if iat > options.now.saturating_add(REQUEST_SKEW) {
            return Err(invalid("the request object was issued in the future"));
        }
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64) {
        if nbf > options.now.saturating_add(REQUEST_SKEW) {
            return Err(invalid("the request object is not valid yet"));
        }
    }
    if let Some(expected) = options.wallet_nonce {
        if claims.get("wallet_nonce").and_then(Value::as_str) != Some(expected) {
            return Err(invalid("the request object does not echo the wallet_nonce"));
        }
    }
    if claims.contains_key("request") || claims.contains_key("request_uri") {
        return Err(invalid("a request object may not hold another request"));
    }
    build(&claims, &client_id, prefix, identity, options)
}

fn build(
    m: &Map<String, Value>,
    client_id: &str,
    prefix: ClientIdPrefix,
    relying_party: RelyingPartyIdentity,
    options: &ReadOptions<'_>,
) -> Result<AuthorizationRequest, RequestError> {
    if text(m, "response_type")? != Some("vp_token") {
        return Err(invalid("response_type is not vp_token"));
    }
    let response_mode = match text(m, "response_mode")? {
        Some("direct_post") => ResponseMode::DirectPost,
        Some("direct_post.jwt") => ResponseMode::DirectPostJwt,
        Some("dc_api") => ResponseMode::DcApi,
        Some("dc_api.jwt") => ResponseMode::DcApiJwt,
        Some(other) => return Err(invalid(format!("response_mode {other} is not supported"))),
        None => return Err(invalid("the request names no response_mode")),
    };
    let dc_api = matches!(response_mode, ResponseMode::DcApi | ResponseMode::DcApiJwt);
    if dc_api != options.origin.is_some() {
        return Err(invalid(
            "dc_api response modes only over the Digital Credentials API, and only they",
        ));
    }
    let nonce = text(m, "nonce")?
        .filter(|n| url_safe(n))
        .ok_or_else(|| invalid("the request has no nonce of URL-safe characters"))?
        .to_owned();
    let state = text(m, "state")?.map(str::to_owned);
    if state.as_deref().is_some_and(|s| !url_safe(s)) {
        return Err(invalid("state is not of URL-safe characters"));
    }
    let response_uri = text(m, "response_uri")?.map(str::to_owned);
    if !dc_api {
        let uri = response_uri
            .as_deref()
            .ok_or_else(|| invalid("direct_post needs a response_uri"))?;
        if m.contains_key("redirect_uri") {
            return Err(invalid("redirect_uri may not come with direct_post"));
        }
        let loopback = options.allow_loopback_http
            && uri.starts_with("http://")
            && host_of(uri).is_some_and(|h| matches!(h, "127.0.0.1" | "localhost" | "::1"));
        if !(uri.starts_with("https://") || loopback) || host_of(uri).is_none_or(str::is_empty) {
            return Err(invalid("response_uri is not an https URL"));
        }
        match &prefix {
            ClientIdPrefix::RedirectUri(target) if target != uri => {
                return Err(invalid("a redirect_uri client id names its response_uri"))
            }
            ClientIdPrefix::X509SanDns(name)
                if !host_of(uri).is_some_and(|h| h.eq_ignore_ascii_case(name)) =>
            {
                return Err(invalid(format!(
                    "x509_san_dns:{name} may only receive at its own host"
                )))
            }
            _ => {}
        }
    }
    let expected_origins: Vec<String> = match array(m, "expected_origins")? {
        None => Vec::new(),
        Some(a) => a
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| invalid("expected_origins holds a non-string"))?,
    };
    if let Some(origin) = options.origin {
        let signed = matches!(relying_party, RelyingPartyIdentity::Verified { .. });
        if signed && !expected_origins.iter().any(|o| o == origin) {
            return Err(invalid("the origin is not one the request expects"));
        }
    }
    if m.contains_key("scope") {
        return Err(invalid(
            "scope-based queries are not supported: send dcql_query",
        ));
    }
    let dcql = DcqlQuery::parse(
        &object(m, "dcql_query")?.ok_or_else(|| invalid("the request has no dcql_query"))?,
    )?;
    let metadata = object(m, "client_metadata")?.unwrap_or(Value::Null);
    let encryption_keys = encryption_keys(&metadata)?;
    let encryption_methods = match metadata.get("encrypted_response_enc_values_supported") {
        None => vec![Enc::A128Gcm],
        Some(values) => values
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().and_then(Enc::from_name))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default(),
    };
    if response_mode.encrypted() && (encryption_keys.is_empty() || encryption_methods.is_empty()) {
        return Err(invalid(
            "an encrypted response mode needs an ECDH-ES P-256 key and A128GCM or A256GCM",
        ));
    }
    if let Some(formats) = metadata.get("vp_formats_supported") {
        let known = ["mso_mdoc", "dc+sd-jwt"];
        let any = formats
            .as_object()
            .is_some_and(|f| f.keys().any(|k| known.contains(&k.as_str())));
        if !any {
            return Err(RequestError::new(
                PresentationFailure::VpFormatsNotSupported,
                "the relying party takes neither mso_mdoc nor dc+sd-jwt",
            ));
        }
    }
    let transaction_data = transaction_data(m, &dcql)?;
    let transaction_data_hashes_alg = match array(m, "transaction_data_hashes_alg")? {
        None => None,
        Some(algs) => {
            let algs: Vec<String> = algs
                .iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect();
            if !algs.iter().any(|a| a == "sha-256") {
                return Err(RequestError::new(
                    PresentationFailure::InvalidTransactionData,
                    "transaction_data_hashes_alg does not offer sha-256",
                ));
            }
            Some(algs)
        }
    };
    Ok(AuthorizationRequest {
        client_id: client_id.to_owned(),
        prefix,
        relying_party,
        response_mode,
        response_uri: if dc_api { None } else { response_uri },
        nonce,
        state,
        dcql,
        encryption_keys,
        encryption_methods,
        transaction_data,
        transaction_data_hashes_alg,
        expected_origins,
        expires_at: m.get("exp").and_then(Value::as_i64),
    })
}

/// The body of a POST to a `request_uri` (OpenID4VP 1.0 section 5.10): the wallet's metadata
/// and a fresh `wallet_nonce` the request object must echo.
pub fn request_uri_post_body(wallet_nonce: &str) -> String {
    let metadata = serde_json::json!({
        "vp_formats_supported": {
            "mso_mdoc": { "issuerauth_alg_values": [-7, -9], "deviceauth_alg_values": [-7, -9] },
            "dc+sd-jwt": { "sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"] }
        },
        "client_id_prefixes_supported": ["x509_san_dns", "x509_hash", "redirect_uri"],
        "request_object_signing_alg_values_supported": ["ES256"],
    });
    form_urlencoded::Serializer::new(String::new())
        .append_pair("wallet_metadata", &metadata.to_string())
        .append_pair("wallet_nonce", wallet_nonce)
        .finish()
}

/// The certificates of a chain as `x5c` values (standard base64).
pub fn x5c(chain: &[Vec<u8>]) -> Vec<Value> {
    chain
        .iter()
        .map(|c| Value::String(STANDARD.encode(c)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options() -> ReadOptions<'static> {
        ReadOptions {
            anchors: &[],
            now: 1_800_000_000,
            outer_client_id: None,
            origin: None,
            wallet_nonce: None,
            allow_loopback_http: false,
        }
    }

    fn unsigned(extra: Value) -> Map<String, Value> {
        let mut m = json!({
            "client_id": "redirect_uri:https://rp.example/response",
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "response_uri": "https://rp.example/response",
            "nonce": "n-0S6_WzA2Mj",
            "state": "s1",
            "dcql_query": "{\"credentials\":[{\"id\":\"a\",\"format\":\"dc+sd-jwt\",\"meta\":{\"vct_values\":[\"v\"]}}]}"
        })
        .as_object()
        .cloned()
        .unwrap();
        if let Value::Object(extra) = extra {
            for (k, v) in extra {
                if v.is_null() {
                    m.remove(&k);
                } else {
                    m.insert(k, v);
                }
            }
        }
        m
    }

    #[test]
    fn an_unsigned_redirect_uri_request_reads_as_unverified() {
        let request = read(&unsigned(json!({})), &options()).unwrap();
        assert!(matches!(
            request.relying_party,
            RelyingPartyIdentity::Unverified { .. }
        ));
        assert_eq!(request.dcql.credentials.len(), 1);
        assert_eq!(request.response_mode, ResponseMode::DirectPost);
    }

    #[test]
    fn malformed_requests_are_typed_errors() {
        let failure = |extra: Value| read(&unsigned(extra), &options()).unwrap_err().failure;
        use PresentationFailure::*;
        assert_eq!(failure(json!({"response_type": "code"})), InvalidRequest);
        assert_eq!(
            failure(json!({"response_mode": "fragment"})),
            InvalidRequest
        );
        assert_eq!(failure(json!({"nonce": null})), InvalidRequest);
        assert_eq!(failure(json!({"nonce": "not url safe!"})), InvalidRequest);
        assert_eq!(failure(json!({"dcql_query": null})), InvalidRequest);
        assert_eq!(failure(json!({"dcql_query": "{"})), InvalidRequest);
        assert_eq!(failure(json!({"scope": "openid"})), InvalidRequest);
        assert_eq!(
            failure(json!({"redirect_uri": "https://rp.example/cb"})),
            InvalidRequest
        );
        assert_eq!(
            failure(json!({"response_uri": "http://rp.example/response"})),
            InvalidRequest
        );
        assert_eq!(
            failure(json!({"response_uri": "https://elsewhere.example/response"})),
            InvalidRequest,
            "a redirect_uri client id names its response_uri"
        );
        assert_eq!(
            failure(json!({"client_id": "x509_hash:abc"})),
            InvalidRequest,
            "x509 prefixes must be signed"
        );
        assert_eq!(failure(json!({"client_id": "no-prefix"})), InvalidClient);
        assert_eq!(
            failure(json!({"client_id": "decentralized_identifier:did:x"})),
            InvalidClient
        );
        assert_eq!(
            failure(json!({"response_mode": "direct_post.jwt"})),
            InvalidRequest,
            "an encrypted mode needs a key"
        );
        assert_eq!(
            failure(json!({"client_metadata": {"vp_formats_supported": {"jwt_vc_json": {}}}})),
            VpFormatsNotSupported
        );
        let tx = |fields: Value| json!({"transaction_data": [jose::b64url(fields.to_string().as_bytes())]});
        assert_eq!(failure(tx(json!({"type": "t"}))), InvalidTransactionData);
        assert_eq!(
            failure(tx(json!({"type": "t", "credential_ids": ["zz"]}))),
            InvalidTransactionData
        );
        assert_eq!(
            failure(json!({"transaction_data": ["!!"]})),
            InvalidTransactionData
        );
        assert_eq!(
            failure(json!({"transaction_data_hashes_alg": ["sha-512"],
                "transaction_data": [jose::b64url(json!({"type": "t", "credential_ids": ["a"]}).to_string().as_bytes())]})),
            InvalidTransactionData
        );
    }

    #[test]
    fn uris_by_value_and_by_reference() {
        assert!(matches!(
            parse_uri("openid4vp://?client_id=x509_hash%3Aabc&request_uri=https%3A%2F%2Frp.example%2Fr%2F1").unwrap(),
            RequestLocation::Reference { post: false, .. }
        ));
        assert!(matches!(
            parse_uri("haip-vp://?client_id=c%3Ad&request_uri=https%3A%2F%2Frp.example%2Fr&request_uri_method=post").unwrap(),
            RequestLocation::Reference { post: true, .. }
        ));
        for bad in [
            "openid4vp://",
            "openid4vp://?request_uri=https%3A%2F%2Frp.example%2Fr",
            "openid4vp://?client_id=a%3Ab&request_uri=ftp%3A%2F%2Fx",
            "openid4vp://?client_id=a%3Ab&request_uri=https%3A%2F%2Fx&request_uri_method=put",
            "openid4vp://?request_uri_method=get",
            "openid4vp://?a=1&a=2",
        ] {
            assert!(parse_uri(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_uri(
                "openid4vp://?client_id=c%3Ad&request_uri=https%3A%2F%2Fx&request_uri_method=put"
            )
            .unwrap_err()
            .failure,
            PresentationFailure::InvalidRequestUriMethod
        );
    }

    #[test]
    fn request_objects_that_do_not_verify_are_refused_before_they_are_read() {
        assert_eq!(
            read_object("a.b.c", &options()).unwrap_err().failure,
            PresentationFailure::InvalidRequest
        );
        let header = jose::b64url(
            json!({"alg": "ES256", "typ": REQUEST_TYP})
                .to_string()
                .as_bytes(),
        );
        let body = jose::b64url(json!({"client_id": "x509_hash:x"}).to_string().as_bytes());
        assert_eq!(
            read_object(&format!("{header}.{body}.c2ln"), &options())
                .unwrap_err()
                .failure,
            PresentationFailure::UntrustedRelyingParty,
            "no x5c: no trusted signer"
        );
        let wrong = jose::b64url(json!({"alg": "ES256", "typ": "JWT"}).to_string().as_bytes());
        assert_eq!(
            read_object(&format!("{wrong}.{body}.c2ln"), &options())
                .unwrap_err()
                .failure,
            PresentationFailure::InvalidRequest
        );
    }

    #[test]
    fn thumbprints_follow_rfc_7638() {
        // RFC 7638 section 3.1 is RSA; the OpenID4VP example key's thumbprint instead.
        let key = jose::p256_from_jwk(&json!({"kty": "EC", "crv": "P-256",
            "x": "DxiH5Q4Yx3UrukE2lWCErq8N8bqC9CHLLrAwLz5BmE0",
            "y": "XtLM4-3h5o3HUH0MHVJV0kyq0iBlrBwlh8qEDMZ4-Pc"}))
        .unwrap();
        let hex: String = thumbprint(&key)
            .unwrap()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "4283ec927ae0f208daaa2d026a814f2b22dca52cf85ffa8f3f8626c6bd669047"
        );
    }
}
