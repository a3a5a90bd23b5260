//! Credential offers (OpenID4VCI 1.0 section 4.1): by value (`credential_offer`) or by
//! reference (`credential_offer_uri`), in an `openid-credential-offer://` URI, a QR code's
//! text, or the offer's JSON itself.

use serde_json::Value;
use zeroize::Zeroizing;

use super::error::IssuanceError;
use super::url::{self, UrlPolicy};
use crate::limits::{MAX_OFFERED_CONFIGURATIONS, MAX_TEXT_BYTES};

/// The grant type of the pre-authorized code flow.
pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// Largest offer JSON read, in bytes.
pub const MAX_OFFER_BYTES: usize = 64 * 1024;

/// How a transaction code is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TxCodeInputMode {
    /// Digits only.
    Numeric,
    /// Any characters.
    Text,
}

/// The transaction code an offer asks for (sent to the citizen on another channel).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TxCodeSpec {
    /// How it is typed.
    pub input_mode: TxCodeInputMode,
    /// Its length, when the issuer says.
    pub length: Option<u32>,
    /// The issuer's hint for the citizen (where to find the code), at most 300 characters.
    pub description: Option<String>,
}

/// The pre-authorized code grant of an offer.
#[derive(Clone, PartialEq, Eq)]
pub struct PreAuthorizedGrant {
    /// The code (a secret: never logged).
    pub code: Zeroizing<String>,
    /// The transaction code asked for, if any.
    pub tx_code: Option<TxCodeSpec>,
    /// Which authorization server to use, when the issuer names several.
    pub authorization_server: Option<String>,
}

impl std::fmt::Debug for PreAuthorizedGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreAuthorizedGrant")
            .field("tx_code", &self.tx_code)
            .field("authorization_server", &self.authorization_server)
            .finish_non_exhaustive()
    }
}

/// The authorization code grant of an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCodeGrant {
    /// To echo in the authorization request.
    pub issuer_state: Option<String>,
    /// Which authorization server to use, when the issuer names several.
    pub authorization_server: Option<String>,
}

/// A credential offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialOffer {
    /// The credential issuer's identifier (an https URL).
    pub credential_issuer: String,
    /// The offered credential configurations (keys of the issuer's metadata).
    pub configuration_ids: Vec<String>,
    /// The pre-authorized code grant, if offered.
    pub pre_authorized: Option<PreAuthorizedGrant>,
    /// The authorization code grant, if offered.
    pub authorization_code: Option<AuthorizationCodeGrant>,
}

/// Where the offer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferSource {
    /// The offer itself.
    Value(CredentialOffer),
    /// A URL to GET it from.
    Reference(String),
}

fn text<'a>(
    m: &'a serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<&'a str>, IssuanceError> {
    match m.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_TEXT_BYTES => Ok(Some(s)),
        Some(_) => Err(IssuanceError::offer(format!(
            "{key} is not a string of 1 to {MAX_TEXT_BYTES} bytes"
        ))),
    }
}

fn tx_code(value: &Value) -> Result<TxCodeSpec, IssuanceError> {
    let m = value
        .as_object()
        .ok_or_else(|| IssuanceError::offer("tx_code is not an object"))?;
    let input_mode = match text(m, "input_mode")? {
        None | Some("numeric") => TxCodeInputMode::Numeric,
        Some("text") => TxCodeInputMode::Text,
        Some(other) => {
            return Err(IssuanceError::offer(format!(
                "tx_code input_mode {other} is neither numeric nor text"
            )))
        }
    };
    let length = match m.get("length") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| (1..=64).contains(n))
                .ok_or_else(|| IssuanceError::offer("tx_code length is not 1 to 64"))?,
        ),
    };
    let description = match m.get("description") {
        None => None,
        Some(Value::String(s)) if s.chars().count() <= 300 => Some(s.clone()),
        Some(_) => {
            return Err(IssuanceError::offer(
                "tx_code description is not a string of at most 300 characters",
            ))
        }
    };
    Ok(TxCodeSpec {
        input_mode,
        length,
        description,
    })
}

/// Reads an offer's JSON and checks it: an https `credential_issuer` (or loopback http when
/// `policy` allows), 1 to [`MAX_OFFERED_CONFIGURATIONS`] distinct configuration ids, and the
/// grants this wallet knows (others are ignored, as the specification requires).
pub fn parse_json(bytes: &[u8], policy: UrlPolicy) -> Result<CredentialOffer, IssuanceError> {
    if bytes.len() > MAX_OFFER_BYTES {
        return Err(IssuanceError::offer("the offer is too large"));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| IssuanceError::offer(format!("not JSON: {e}")))?;
    let m = value
        .as_object()
        .ok_or_else(|| IssuanceError::offer("the offer is not a JSON object"))?;
    let credential_issuer = text(m, "credential_issuer")?
        .ok_or_else(|| IssuanceError::offer("no credential_issuer"))?
        .to_owned();
    url::check(&credential_issuer, "credential_issuer", policy)
        .map_err(|e| IssuanceError::offer(e.detail))?;
    let ids = m
        .get("credential_configuration_ids")
        .and_then(Value::as_array)
        .ok_or_else(|| IssuanceError::offer("no credential_configuration_ids array"))?;
    if ids.is_empty() || ids.len() > MAX_OFFERED_CONFIGURATIONS {
        return Err(IssuanceError::offer(format!(
            "an offer names 1 to {MAX_OFFERED_CONFIGURATIONS} credential configurations"
        )));
    }
    let mut configuration_ids = Vec::with_capacity(ids.len());
    for id in ids {
        let id = id
            .as_str()
            .filter(|s| !s.is_empty() && s.len() <= MAX_TEXT_BYTES)
            .ok_or_else(|| IssuanceError::offer("a configuration id is not a string"))?;
        if configuration_ids.iter().any(|c| c == id) {
            return Err(IssuanceError::offer(format!(
                "configuration {id} is offered twice"
            )));
        }
        configuration_ids.push(id.to_owned());
    }
    let mut pre_authorized = None;
    let mut authorization_code = None;
    match m.get("grants") {
        None => {}
        Some(Value::Object(grants)) => {
            if let Some(grant) = grants.get(PRE_AUTHORIZED_GRANT) {
                let g = grant
                    .as_object()
                    .ok_or_else(|| IssuanceError::offer("the pre-authorized grant"))?;
                pre_authorized = Some(PreAuthorizedGrant {
                    code: Zeroizing::new(
                        text(g, "pre-authorized_code")?
                            .ok_or_else(|| IssuanceError::offer("no pre-authorized_code"))?
                            .to_owned(),
                    ),
                    // Present, even as {}, means a code is required.
                    tx_code: g.get("tx_code").map(tx_code).transpose()?,
                    authorization_server: text(g, "authorization_server")?.map(str::to_owned),
                });
            }
            if let Some(grant) = grants.get("authorization_code") {
                let g = grant
                    .as_object()
                    .ok_or_else(|| IssuanceError::offer("the authorization_code grant"))?;
                authorization_code = Some(AuthorizationCodeGrant {
                    issuer_state: text(g, "issuer_state")?.map(str::to_owned),
                    authorization_server: text(g, "authorization_server")?.map(str::to_owned),
                });
            }
        }
        Some(_) => return Err(IssuanceError::offer("grants is not an object")),
    }
    Ok(CredentialOffer {
        credential_issuer,
        configuration_ids,
        pre_authorized,
        authorization_code,
    })
}

/// Reads what the host scanned or received: an offer URI (any scheme, usually
/// `openid-credential-offer://`) with exactly one of `credential_offer` and
/// `credential_offer_uri`, or the offer's JSON itself.
pub fn parse_input(input: &str, policy: UrlPolicy) -> Result<OfferSource, IssuanceError> {
    let input = input.trim();
    if input.starts_with('{') {
        return parse_json(input.as_bytes(), policy).map(OfferSource::Value);
    }
    if input.len() > MAX_OFFER_BYTES * 3 {
        return Err(IssuanceError::offer("the offer URI is too large"));
    }
    if !input.contains("://") || !input.contains('?') {
        return Err(IssuanceError::offer(
            "neither an offer URI (openid-credential-offer://?...) nor an offer's JSON",
        ));
    }
    let params = url::query(input);
    let by_value: Vec<&String> = params
        .iter()
        .filter(|(k, _)| k == "credential_offer")
        .map(|(_, v)| v)
        .collect();
    let by_reference: Vec<&String> = params
        .iter()
        .filter(|(k, _)| k == "credential_offer_uri")
        .map(|(_, v)| v)
        .collect();
    match (by_value.as_slice(), by_reference.as_slice()) {
        ([offer], []) => parse_json(offer.as_bytes(), policy).map(OfferSource::Value),
        ([], [reference]) => {
            url::check(reference, "credential_offer_uri", policy)
                .map_err(|e| IssuanceError::offer(e.detail))?;
            Ok(OfferSource::Reference((*reference).clone()))
        }
        _ => Err(IssuanceError::offer(
            "an offer URI carries exactly one credential_offer or credential_offer_uri",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuance::error::IssuanceFailure;

    const OFFER: &str = r#"{
        "credential_issuer": "https://credential-issuer.example.com",
        "credential_configuration_ids": ["UniversityDegreeCredential", "org.iso.18013.5.1.mDL"],
        "grants": {
            "urn:ietf:params:oauth:grant-type:pre-authorized_code": {
                "pre-authorized_code": "oaKazRN8I0IbtZ0C7JuMn5",
                "tx_code": {"length": 4, "input_mode": "numeric",
                            "description": "Please provide the one-time code that was sent via e-mail"}
            },
            "authorization_code": {"issuer_state": "eyJhbGciOiJSU0Et...FYUaBy"},
            "urn:example:unknown": {}
        }
    }"#;

    #[test]
    fn the_specification_example_reads() {
        let offer = parse_json(OFFER.as_bytes(), UrlPolicy::default()).unwrap();
        assert_eq!(
            offer.credential_issuer,
            "https://credential-issuer.example.com"
        );
        assert_eq!(offer.configuration_ids.len(), 2);
        let pre = offer.pre_authorized.clone().unwrap();
        assert_eq!(pre.code.as_str(), "oaKazRN8I0IbtZ0C7JuMn5");
        assert_eq!(
            pre.tx_code,
            Some(TxCodeSpec {
                input_mode: TxCodeInputMode::Numeric,
                length: Some(4),
                description: Some(
                    "Please provide the one-time code that was sent via e-mail".into()
                ),
            })
        );
        assert!(
            !format!("{pre:?}").contains("oaKaz"),
            "the code is not in Debug"
        );
        assert_eq!(
            offer.authorization_code.unwrap().issuer_state.as_deref(),
            Some("eyJhbGciOiJSU0Et...FYUaBy")
        );
    }

    #[test]
    fn uris_by_value_and_by_reference() {
        let encoded = url::form(&[("credential_offer", OFFER)]);
        let uri = format!("openid-credential-offer://?{encoded}");
        assert!(matches!(
            parse_input(&uri, UrlPolicy::default()).unwrap(),
            OfferSource::Value(o) if o.configuration_ids.len() == 2
        ));
        let uri = "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fserver%2Eexample%2Ecom%2Fcredential-offer%2FGkurKxf5T0Y";
        assert_eq!(
            parse_input(uri, UrlPolicy::default()).unwrap(),
            OfferSource::Reference(
                "https://server.example.com/credential-offer/GkurKxf5T0Y".into()
            )
        );
        let both =
            format!("openid-credential-offer://?{encoded}&credential_offer_uri=https%3A%2F%2Fa");
        assert!(parse_input(&both, UrlPolicy::default()).is_err());
        let plain = "openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fexample.com%2Fo";
        assert!(parse_input(plain, UrlPolicy::default()).is_err());
    }

    #[test]
    fn malformed_offers_are_typed_errors() {
        let policy = UrlPolicy::default();
        for bad in [
            "",
            "{",
            "[]",
            r#"{"credential_issuer": "https://i.example"}"#,
            r#"{"credential_issuer": "https://i.example", "credential_configuration_ids": []}"#,
            r#"{"credential_issuer": "https://i.example", "credential_configuration_ids": ["a", "a"]}"#,
            r#"{"credential_issuer": "http://i.example", "credential_configuration_ids": ["a"]}"#,
            r#"{"credential_issuer": "https://i.example", "credential_configuration_ids": [1]}"#,
            r#"{"credential_issuer": "https://i.example", "credential_configuration_ids": ["a"], "grants": []}"#,
            r#"{"credential_issuer": "https://i.example", "credential_configuration_ids": ["a"],
                "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {}}}"#,
            r#"{"credential_issuer": "https://i.example", "credential_configuration_ids": ["a"],
                "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code":
                  {"pre-authorized_code": "c", "tx_code": {"input_mode": "emoji"}}}}"#,
            "openid-credential-offer://",
            "openid-credential-offer://?x=1",
            "https://wallet.example/?credential_offer=%7B",
        ] {
            let err = parse_input(bad, policy).unwrap_err();
            assert_eq!(err.failure, IssuanceFailure::InvalidOffer, "{bad}: {err}");
        }
        let ids: Vec<String> = (0..40).map(|i| format!("\"c{i}\"")).collect();
        let many = format!(
            r#"{{"credential_issuer": "https://i.example", "credential_configuration_ids": [{}]}}"#,
            ids.join(",")
        );
        assert!(parse_json(many.as_bytes(), policy).is_err());
        // An empty tx_code object still means a code is required.
        let empty = r#"{"credential_issuer": "https://i.example", "credential_configuration_ids": ["a"],
            "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code":
              {"pre-authorized_code": "c", "tx_code": {}}}}"#;
        let offer = parse_json(empty.as_bytes(), policy).unwrap();
        assert_eq!(
            offer.pre_authorized.unwrap().tx_code.unwrap().input_mode,
            TxCodeInputMode::Numeric
        );
    }
}
