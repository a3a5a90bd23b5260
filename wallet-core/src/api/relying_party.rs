//! The relying party's side of online presentation through the API: `Openid4vpVerifier` makes
//! signed OpenID4VP requests with a DCQL query, keeps each pending request (with its own
//! encryption key) until its one response arrives, and verifies that response with every
//! check of the mdoc reader and the SD-JWT VC verifier, reporting each verified claim.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use zeroize::Zeroizing;

use super::e_certificates::parse_anchors;
use super::host::{Clock, SystemClock};
use super::status::VerifierStatuses;
use super::{VerificationFailure, WalletError};
use crate::crypto::ec::SoftwareKey;
use crate::crypto::{jose, random};
use crate::openid4vp::dcql::DcqlQuery;
use crate::openid4vp::request::{PresentationFailure, ResponseMode};
use crate::openid4vp::verifier::{
    self, ClientIdKind, PendingRequest, RelyingPartyKey, RequestSpec, ResponseError, Trust,
};
use crate::trust::x509::ParsedCertificate;

/// Most requests a verifier keeps pending at once.
pub const MAX_PENDING_REQUESTS: usize = 10_000;

impl From<ResponseError> for WalletError {
    fn from(e: ResponseError) -> Self {
        let detail = e.to_string();
        match e {
            ResponseError::Mdoc(e) => e.into(),
            ResponseError::SdJwt(e) => e.into(),
            ResponseError::Protocol(_) => WalletError::Verification {
                failure: VerificationFailure::Malformed,
                detail,
            },
            ResponseError::Wallet { code, .. } => WalletError::Presentation {
                failure: if code == "access_denied" {
                    PresentationFailure::Declined
                } else {
                    PresentationFailure::Protocol
                },
                detail,
            },
            ResponseError::NotRequested(_) => WalletError::Verification {
                failure: VerificationFailure::NotRequested,
                detail,
            },
            ResponseError::Status(s) => WalletError::Verification {
                failure: match s {
                    crate::trust::status_token::StatusCheckError::Unavailable(_) => {
                        VerificationFailure::StatusUnavailable
                    }
                    crate::trust::status_token::StatusCheckError::Revoked => {
                        VerificationFailure::Revoked
                    }
                    crate::trust::status_token::StatusCheckError::Suspended => {
                        VerificationFailure::Suspended
                    }
                    crate::trust::status_token::StatusCheckError::NotValid(_) => {
                        VerificationFailure::StatusNotValid
                    }
                },
                detail,
            },
            ResponseError::TransactionData(_) => WalletError::Verification {
                failure: VerificationFailure::TransactionData,
                detail,
            },
        }
    }
}

/// How the relying party's client id names its certificate.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ClientIdScheme {
    /// `x509_hash:` the SHA-256 of the signing certificate (what HAIP requires).
    X509Hash,
    /// `x509_san_dns:` a DNS name in the signing certificate, which must also be the host of
    /// the response URI.
    X509SanDns {
        /// The DNS name.
        dns_name: String,
    },
}

/// A relying party's configuration.
#[derive(Clone, uniffi::Record)]
pub struct Openid4vpVerifierConfig {
    /// The request-signing certificate chain (DER, leaf first, without the anchor).
    pub signing_certificate_chain: Vec<Vec<u8>>,
    /// The request-signing private key (32-byte P-256 scalar).
    pub signing_key: Vec<u8>,
    /// How the client id names the certificate.
    pub client_id_scheme: ClientIdScheme,
    /// Trusted IACAs (mdocs).
    pub iaca_certificates: Vec<Vec<u8>>,
    /// Trusted SD-JWT VC issuer roots.
    pub sd_jwt_issuer_certificates: Vec<Vec<u8>>,
    /// Trusted status list signer roots.
    #[uniffi(default = [])]
    pub status_list_certificates: Vec<Vec<u8>>,
    /// The clock; `None` uses the system clock.
    #[uniffi(default = None)]
    pub clock: Option<Arc<dyn Clock>>,
    /// Oldest acceptable key binding, seconds.
    #[uniffi(default = 300)]
    pub max_key_binding_age_seconds: u32,
    /// Tolerated clock skew, seconds.
    #[uniffi(default = 60)]
    pub clock_skew_seconds: u32,
}

impl std::fmt::Debug for Openid4vpVerifierConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Openid4vpVerifierConfig")
            .field("client_id_scheme", &self.client_id_scheme)
            .finish_non_exhaustive()
    }
}

/// What to ask.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PresentationRequestOptions {
    /// The DCQL query (JSON).
    pub dcql_query_json: String,
    /// How the answer comes back.
    pub response_mode: ResponseMode,
    /// For `direct_post` modes: the base the wallet POSTs to; the answer goes to
    /// `<base>/<request_id>`.
    #[uniffi(default = None)]
    pub response_uri_base: Option<String>,
    /// Transactions to authorize, each a JSON object with `type` and `credential_ids`.
    #[uniffi(default = [])]
    pub transaction_data_json: Vec<String>,
    /// For signed Digital Credentials API requests: the web origins that may send it.
    #[uniffi(default = [])]
    pub expected_origins: Vec<String>,
    /// Seconds the request lives.
    #[uniffi(default = 300)]
    pub lifetime_seconds: u32,
}

/// A request made.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CreatedRequest {
    /// Its id (the last path segment of its response URI).
    pub request_id: String,
    /// The relying party's client id.
    pub client_id: String,
    /// The signed request object: serve it at the request URI
    /// (`application/oauth-authz-req+jwt`), or hand it to the Digital Credentials API as
    /// `{"request": ...}` with the protocol `openid4vp-v1-signed`.
    pub request_object: String,
    /// Where the wallet POSTs (direct_post modes).
    pub response_uri: Option<String>,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
}

/// A verified claim.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PresentedClaim {
    /// Its path: namespace and element for an mdoc, JSON keys and indices for an SD-JWT VC.
    pub path: Vec<String>,
    /// Its value as JSON.
    pub value_json: String,
}

/// A verified credential.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PresentedCredential {
    /// The credential query it answers.
    pub query_id: String,
    /// `mso_mdoc` or `dc+sd-jwt`.
    pub format: String,
    /// docType or `vct`.
    pub doc_type: String,
    /// Who issued it.
    pub issuer: String,
    /// Its disclosed claims.
    pub claims: Vec<PresentedClaim>,
}

/// A verified response.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PresentationResult {
    /// The request it answers.
    pub request_id: String,
    /// Every verified credential.
    pub credentials: Vec<PresentedCredential>,
}

/// An OpenID4VP relying party.
#[derive(uniffi::Object)]
pub struct Openid4vpVerifier {
    key: RelyingPartyKey,
    iaca: Vec<ParsedCertificate>,
    sd_jwt_issuers: Vec<ParsedCertificate>,
    status_anchors: Vec<ParsedCertificate>,
    statuses: VerifierStatuses,
    clock: Arc<dyn Clock>,
    max_age: i64,
    skew: i64,
    pending: Mutex<HashMap<String, PendingRequest>>,
}

impl std::fmt::Debug for Openid4vpVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Openid4vpVerifier")
            .field("client_id", &self.key.client_id)
            .finish_non_exhaustive()
    }
}

impl Openid4vpVerifier {
    fn now(&self) -> Result<i64, WalletError> {
        self.clock
            .now_unix_seconds()
            .map_err(|e| e.in_callback("Clock.nowUnixSeconds"))
    }

    fn take(&self, request_id: &str) -> Result<PendingRequest, WalletError> {
        self.pending
            .lock()
            .map_err(|_| WalletError::Internal {
                reason: "pending requests poisoned".into(),
            })?
            .remove(request_id)
            .ok_or_else(|| WalletError::Presentation {
                failure: PresentationFailure::ExpiredRequest,
                detail: "no such pending request: unknown, expired or already answered".into(),
            })
    }

    fn verify(
        &self,
        request_id: String,
        pending: &PendingRequest,
        parameters: &serde_json::Map<String, serde_json::Value>,
        origin: Option<&str>,
    ) -> Result<PresentationResult, WalletError> {
        let statuses = self.statuses.cache()?;
        let trust = Trust {
            iaca: &self.iaca,
            sd_jwt_issuers: &self.sd_jwt_issuers,
            statuses: &statuses,
            at: self.now()?,
            skew: self.skew,
            max_age: self.max_age,
        };
        let verified = verifier::verify_vp_token(pending, parameters, origin, &trust)?;
        Ok(PresentationResult {
            request_id,
            credentials: verified
                .into_iter()
                .map(|p| PresentedCredential {
                    query_id: p.query_id,
                    format: p.format,
                    doc_type: p.doc_type,
                    issuer: p.issuer,
                    claims: p
                        .claims
                        .into_iter()
                        .map(|c| PresentedClaim {
                            path: c.path,
                            value_json: c.value.to_string(),
                        })
                        .collect(),
                })
                .collect(),
        })
    }
}

#[uniffi::export]
impl Openid4vpVerifier {
    /// A relying party signing with `config`'s key and chain, trusting its anchors.
    #[uniffi::constructor]
    pub fn new(config: Openid4vpVerifierConfig) -> Result<Arc<Self>, WalletError> {
        let key = SoftwareKey::from_private_scalar(&Zeroizing::new(config.signing_key.clone()))
            .map_err(|_| WalletError::invalid("the signing key is not a P-256 private key"))?;
        let leaf = config
            .signing_certificate_chain
            .first()
            .ok_or_else(|| WalletError::invalid("the signing chain is empty"))?;
        let parsed = ParsedCertificate::from_der(leaf)
            .map_err(|e| WalletError::invalid(format!("signing certificate: {e}")))?;
        if parsed.p256_public_key().ok().as_deref() != Some(key.public_key()) {
            return Err(WalletError::invalid(
                "the signing key does not match its certificate",
            ));
        }
        let kind = match config.client_id_scheme {
            ClientIdScheme::X509Hash => ClientIdKind::X509Hash,
            ClientIdScheme::X509SanDns { dns_name } => ClientIdKind::X509SanDns(dns_name),
        };
        Ok(Arc::new(Openid4vpVerifier {
            key: RelyingPartyKey::new(key, config.signing_certificate_chain, &kind)?,
            iaca: parse_anchors(&config.iaca_certificates, "IACA")?,
            sd_jwt_issuers: parse_anchors(&config.sd_jwt_issuer_certificates, "SD-JWT VC issuer")?,
            status_anchors: parse_anchors(&config.status_list_certificates, "status list")?,
            statuses: VerifierStatuses::default(),
            clock: config.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            max_age: i64::from(config.max_key_binding_age_seconds),
            skew: i64::from(config.clock_skew_seconds),
            pending: Mutex::new(HashMap::new()),
        }))
    }

    /// The relying party's client id.
    pub fn client_id(&self) -> String {
        self.key.client_id.clone()
    }

    /// Makes a signed request for `options`; it stays pending until its one response arrives
    /// or it expires.
    pub fn create_request(
        &self,
        options: PresentationRequestOptions,
    ) -> Result<CreatedRequest, WalletError> {
        let dcql_json: serde_json::Value = serde_json::from_str(&options.dcql_query_json)
            .map_err(|e| WalletError::invalid(format!("the DCQL query is not JSON: {e}")))?;
        let dcql = DcqlQuery::parse(&dcql_json).map_err(|e| WalletError::invalid(e.to_string()))?;
        let transaction_data = options
            .transaction_data_json
            .iter()
            .map(|t| {
                serde_json::from_str::<serde_json::Value>(t)
                    .ok()
                    .filter(serde_json::Value::is_object)
                    .ok_or_else(|| WalletError::invalid("transaction data is a JSON object"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let request_id = jose::b64url(&random::array::<16>()?);
        let direct = matches!(
            options.response_mode,
            ResponseMode::DirectPost | ResponseMode::DirectPostJwt
        );
        let response_uri = match (&options.response_uri_base, direct) {
            (Some(base), true) => Some(format!("{}/{request_id}", base.trim_end_matches('/'))),
            (None, true) => {
                return Err(WalletError::invalid(
                    "direct_post needs a response_uri_base",
                ))
            }
            (_, false) => None,
        };
        let now = self.now()?;
        let (request_object, pending) = verifier::create_request(
            &self.key,
            RequestSpec {
                dcql,
                response_mode: options.response_mode,
                response_uri: response_uri.clone(),
                transaction_data,
                expected_origins: options.expected_origins,
                lifetime: i64::from(options.lifetime_seconds.max(1)),
            },
            now,
        )?;
        let expires_at = pending.expires_at;
        let mut all = self.pending.lock().map_err(|_| WalletError::Internal {
            reason: "pending requests poisoned".into(),
        })?;
        all.retain(|_, p| p.expires_at >= now);
        if all.len() >= MAX_PENDING_REQUESTS {
            return Err(WalletError::invalid("too many pending requests"));
        }
        all.insert(request_id.clone(), pending);
        Ok(CreatedRequest {
            request_id,
            client_id: self.key.client_id.clone(),
            request_object,
            response_uri,
            expires_at,
        })
    }

    /// Verifies the wallet's `direct_post` body for request `request_id` (once: the request
    /// is then spent, so a replayed response is refused).
    pub fn receive_direct_post(
        &self,
        request_id: String,
        body: Vec<u8>,
    ) -> Result<PresentationResult, WalletError> {
        let pending = self.take(&request_id)?;
        let parameters = verifier::open_direct_post(&pending, &body)?;
        self.verify(request_id, &pending, &parameters, None)
    }

    /// Verifies a Digital Credentials API response (`data`, JSON) to request `request_id`,
    /// from the web `origin` the browser reports.
    pub fn receive_dc_api(
        &self,
        request_id: String,
        data_json: String,
        origin: String,
    ) -> Result<PresentationResult, WalletError> {
        let pending = self.take(&request_id)?;
        let data: serde_json::Value = serde_json::from_str(&data_json)
            .map_err(|_| WalletError::invalid("the response data is not JSON"))?;
        let parameters = verifier::open_dc_api(&pending, &data)?;
        self.verify(request_id, &pending, &parameters, Some(&origin))
    }

    /// Loads a status list token fetched from `uri`, after checking its signer against the
    /// status list roots.
    pub fn add_status_list(&self, uri: String, token: Vec<u8>) -> Result<(), WalletError> {
        let at = self.now()?;
        self.statuses.load(&uri, &token, &self.status_anchors, at)
    }
}

/// The URI a wallet opens, or a QR code carries, for a request served at `request_uri`.
#[uniffi::export]
pub fn openid4vp_wallet_uri(client_id: String, request_uri: String, post: bool) -> String {
    verifier::wallet_uri(&client_id, &request_uri, post)
}
