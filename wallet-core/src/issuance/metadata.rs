//! Credential issuer metadata (OpenID4VCI 1.0 section 12.2) and authorization server metadata
//! (RFC 8414, with the OpenID4VCI additions of section 12.3). Signed issuer metadata
//! (`application/jwt`) is verified against the wallet's issuer-metadata trust anchors before a
//! single parameter of it is used.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::IssuanceError;
use super::url::{self, UrlPolicy};
use crate::limits::{MAX_BATCH_PROOFS, MAX_METADATA_CONFIGURATIONS, MAX_TEXT_BYTES};
use crate::trust::jws;
use crate::trust::x509::{ParsedCertificate, TrustRole};

/// Where the issuer's metadata lives, under its identifier.
pub const ISSUER_WELL_KNOWN: &str = "openid-credential-issuer";
/// Where an authorization server's metadata lives.
pub const AS_WELL_KNOWN: &str = "oauth-authorization-server";
/// The `typ` of signed issuer metadata.
pub const SIGNED_METADATA_TYP: &str = "openidvci-issuer-metadata+jwt";
/// Largest metadata document read, in bytes.
pub const MAX_METADATA_BYTES: usize = 1024 * 1024;

/// A name in one language.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LocalizedName {
    /// The name.
    pub name: String,
    /// Its language (BCP 47), when stated.
    pub locale: Option<String>,
}

/// What a credential configuration issues.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ConfigurationFormat {
    /// `mso_mdoc`, of this docType.
    MsoMdoc {
        /// The docType.
        doctype: String,
    },
    /// `dc+sd-jwt`, of this type.
    SdJwtVc {
        /// The `vct`.
        vct: String,
    },
    /// A format this wallet does not hold.
    Other(String),
}

/// One entry of `credential_configurations_supported`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialConfiguration {
    /// Its id (the key in the metadata).
    pub id: String,
    /// What it issues.
    pub format: ConfigurationFormat,
    /// The OAuth scope that asks for it, if any.
    pub scope: Option<String>,
    /// How credentials are bound to keys (`cose_key`, `jwk`, ...); empty: not key-bound.
    pub binding_methods: Vec<String>,
    /// Algorithms accepted for `jwt` proofs; `None`: no `jwt` proof type.
    pub jwt_proof_algorithms: Option<Vec<String>>,
    /// Whether `jwt` proofs must carry a key attestation.
    pub key_attestation_required: bool,
    /// Display names.
    pub display: Vec<LocalizedName>,
}

impl CredentialConfiguration {
    /// The docType or `vct` it issues, if in a format this wallet holds.
    pub fn doc_type(&self) -> Option<&str> {
        match &self.format {
            ConfigurationFormat::MsoMdoc { doctype } => Some(doctype),
            ConfigurationFormat::SdJwtVc { vct } => Some(vct),
            ConfigurationFormat::Other(_) => None,
        }
    }

    /// Whether this wallet can receive it: a format it holds, key-bound, with ES256 `jwt`
    /// proofs.
    pub fn check_supported(&self) -> Result<(), IssuanceError> {
        let unsupported =
            |why: String| IssuanceError::new(super::error::IssuanceFailure::Unsupported, why);
        if let ConfigurationFormat::Other(format) = &self.format {
            return Err(unsupported(format!(
                "{}: the format {format} is not one this wallet holds",
                self.id
            )));
        }
        if self.binding_methods.is_empty() {
            return Err(unsupported(format!(
                "{}: credentials not bound to a device key are not accepted",
                self.id
            )));
        }
        match &self.jwt_proof_algorithms {
            Some(algs) if algs.iter().any(|a| a == "ES256") => Ok(()),
            _ => Err(unsupported(format!(
                "{}: the issuer takes no ES256 jwt proof",
                self.id
            ))),
        }
    }
}

/// A credential issuer's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerMetadata {
    /// Its identifier, exactly the one the metadata was fetched for.
    pub credential_issuer: String,
    /// Its authorization servers; empty: the issuer is its own.
    pub authorization_servers: Vec<String>,
    /// Where credentials are requested.
    pub credential_endpoint: String,
    /// Where nonces are fetched, if the issuer uses them.
    pub nonce_endpoint: Option<String>,
    /// Where deferred credentials are fetched.
    pub deferred_credential_endpoint: Option<String>,
    /// Where the wallet reports what it did with a credential.
    pub notification_endpoint: Option<String>,
    /// Most proofs per request; `None`: one.
    pub batch_size: Option<u32>,
    /// Whether the issuer requires encrypted credential requests or responses (not
    /// supported: refused when a configuration is used).
    pub encryption_required: bool,
    /// The issuer's names.
    pub display: Vec<LocalizedName>,
    /// The configurations it issues.
    pub configurations: BTreeMap<String, CredentialConfiguration>,
    /// The subject of the certificate that signed the metadata, when it was signed.
    pub signed_by: Option<String>,
}

/// An authorization server's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationServerMetadata {
    /// Its identifier.
    pub issuer: String,
    /// The browser step, for the authorization code flow.
    pub authorization_endpoint: Option<String>,
    /// Where tokens are requested.
    pub token_endpoint: String,
    /// Pushed authorization requests (RFC 9126).
    pub par_endpoint: Option<String>,
    /// Whether PAR is required.
    pub require_par: bool,
    /// PKCE methods; the wallet uses S256 only.
    pub code_challenge_methods: Vec<String>,
    /// Grant types supported.
    pub grant_types: Vec<String>,
    /// Whether a pre-authorized code may be used without client authentication.
    pub pre_authorized_anonymous: bool,
    /// Whether authorization responses carry `iss` (RFC 9207).
    pub iss_in_response: bool,
}

fn field<'a>(m: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, IssuanceError> {
    match m.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 4 * MAX_TEXT_BYTES => Ok(Some(s)),
        Some(_) => Err(IssuanceError::metadata(format!("{key} is not a string"))),
    }
}

fn endpoint(
    m: &Map<String, Value>,
    key: &str,
    policy: UrlPolicy,
) -> Result<Option<String>, IssuanceError> {
    match field(m, key)? {
        None => Ok(None),
        Some(u) => {
            url::check(u, key, policy)?;
            Ok(Some(u.to_owned()))
        }
    }
}

fn strings(m: &Map<String, Value>, key: &str) -> Result<Vec<String>, IssuanceError> {
    match m.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) if items.len() <= 64 => items
            .iter()
            .map(|v| match v {
                Value::String(s) if s.len() <= MAX_TEXT_BYTES => Ok(s.clone()),
                // COSE algorithm numbers (mso_mdoc) are kept as text.
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(IssuanceError::metadata(format!("{key} holds a non-string"))),
            })
            .collect(),
        Some(_) => Err(IssuanceError::metadata(format!("{key} is not a list"))),
    }
}

fn display(value: Option<&Value>) -> Vec<LocalizedName> {
    // Display is informative: entries that do not read are skipped, not fatal.
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .take(16)
                .filter_map(|d| {
                    let name = d.get("name")?.as_str()?;
                    (!name.is_empty() && name.len() <= MAX_TEXT_BYTES).then(|| LocalizedName {
                        name: name.to_owned(),
                        locale: d
                            .get("locale")
                            .and_then(Value::as_str)
                            .filter(|l| l.len() <= 35)
                            .map(str::to_owned),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn configuration(id: &str, value: &Value) -> Result<CredentialConfiguration, IssuanceError> {
    let bad = |why: &str| IssuanceError::metadata(format!("configuration {id}: {why}"));
    let m = value.as_object().ok_or_else(|| bad("not an object"))?;
    let format = match field(m, "format")?.ok_or_else(|| bad("no format"))? {
        "mso_mdoc" => ConfigurationFormat::MsoMdoc {
            doctype: field(m, "doctype")?
                .ok_or_else(|| bad("mso_mdoc without doctype"))?
                .to_owned(),
        },
        "dc+sd-jwt" => ConfigurationFormat::SdJwtVc {
            vct: field(m, "vct")?
                .ok_or_else(|| bad("dc+sd-jwt without vct"))?
                .to_owned(),
        },
        other => ConfigurationFormat::Other(other.to_owned()),
    };
    let proof_types = match m.get("proof_types_supported") {
        None => None,
        Some(Value::Object(p)) => Some(p),
        Some(_) => return Err(bad("proof_types_supported is not an object")),
    };
    let jwt = proof_types.and_then(|p| p.get("jwt"));
    let jwt_proof_algorithms = jwt
        .map(|j| {
            j.as_object()
                .ok_or_else(|| bad("the jwt proof type is not an object"))
                .and_then(|j| strings(j, "proof_signing_alg_values_supported"))
        })
        .transpose()?;
    let key_attestation_required = jwt
        .and_then(|j| j.get("key_attestations_required"))
        .is_some();
    let credential_display = m
        .get("credential_metadata")
        .and_then(|c| c.get("display"))
        .or_else(|| m.get("display"));
    Ok(CredentialConfiguration {
        id: id.to_owned(),
        format,
        scope: field(m, "scope")?.map(str::to_owned),
        binding_methods: strings(m, "cryptographic_binding_methods_supported")?,
        jwt_proof_algorithms,
        key_attestation_required,
        display: display(credential_display),
    })
}

/// The claims of signed metadata, verified: the signer chains to one of `anchors` (issuer
/// metadata signers) at `now`, `sub` is `expected_issuer`, `iat` is present and `exp`, when
/// present, has not passed. Returns the claims and the signer's subject.
fn verify_signed(
    jwt: &str,
    expected_issuer: &str,
    anchors: &[ParsedCertificate],
    now: i64,
) -> Result<(Map<String, Value>, String), IssuanceError> {
    if anchors.is_empty() {
        return Err(IssuanceError::metadata(
            "the metadata is signed, and the wallet trusts no issuer metadata signer",
        ));
    }
    let signed = jws::verify_x5c(
        jwt,
        SIGNED_METADATA_TYP,
        anchors,
        now,
        TrustRole::IssuerMetadata,
    )
    .map_err(|e| IssuanceError::metadata(format!("signed metadata: {e}")))?;
    let Value::Object(claims) = signed.payload else {
        return Err(IssuanceError::metadata("signed metadata is not an object"));
    };
    if claims.get("sub").and_then(Value::as_str) != Some(expected_issuer) {
        return Err(IssuanceError::metadata(
            "signed metadata: sub is not the credential issuer",
        ));
    }
    if claims.get("iat").and_then(Value::as_i64).is_none() {
        return Err(IssuanceError::metadata("signed metadata: no iat"));
    }
    if let Some(exp) = claims.get("exp") {
        if exp.as_i64().is_none_or(|exp| exp <= now) {
            return Err(IssuanceError::metadata("signed metadata: expired"));
        }
    }
    Ok((claims, signed.signer.subject()))
}

/// Reads the issuer metadata fetched for `expected_issuer`: JSON, or a signed JWT (when
/// `content_type` is `application/jwt`) verified against `anchors` first. The metadata's
/// `credential_issuer` must be `expected_issuer` exactly, or it is not used.
pub fn parse_issuer_metadata(
    body: &[u8],
    content_type: Option<&str>,
    expected_issuer: &str,
    anchors: &[ParsedCertificate],
    now: i64,
    policy: UrlPolicy,
) -> Result<IssuerMetadata, IssuanceError> {
    if body.len() > MAX_METADATA_BYTES {
        return Err(IssuanceError::metadata("the metadata is too large"));
    }
    let media = content_type
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let (m, signed_by) = if media == "application/jwt" {
        let text = std::str::from_utf8(body)
            .map_err(|_| IssuanceError::metadata("signed metadata is not text"))?;
        let (claims, signer) = verify_signed(text.trim(), expected_issuer, anchors, now)?;
        (claims, Some(signer))
    } else {
        match serde_json::from_slice(body) {
            Ok(Value::Object(m)) => (m, None),
            _ => return Err(IssuanceError::metadata("the metadata is not a JSON object")),
        }
    };
    let credential_issuer = field(&m, "credential_issuer")?
        .ok_or_else(|| IssuanceError::metadata("no credential_issuer"))?;
    if credential_issuer != expected_issuer {
        return Err(IssuanceError::metadata(format!(
            "the metadata is for {credential_issuer}, not {expected_issuer}"
        )));
    }
    let mut authorization_servers = strings(&m, "authorization_servers")?;
    authorization_servers.truncate(8);
    for server in &authorization_servers {
        url::check(server, "authorization_servers", policy)?;
    }
    let credential_endpoint = endpoint(&m, "credential_endpoint", policy)?
        .ok_or_else(|| IssuanceError::metadata("no credential_endpoint"))?;
    let batch_size = match m.get("batch_credential_issuance") {
        None => None,
        Some(b) => Some(
            b.get("batch_size")
                .and_then(Value::as_u64)
                .filter(|n| *n >= 2)
                .and_then(|n| u32::try_from(n.min(MAX_BATCH_PROOFS as u64)).ok())
                .ok_or_else(|| IssuanceError::metadata("batch_size is not 2 or more"))?,
        ),
    };
    let required = |key: &str| {
        m.get(key)
            .and_then(|e| e.get("encryption_required"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let encryption_required =
        required("credential_request_encryption") || required("credential_response_encryption");
    let supported = m
        .get("credential_configurations_supported")
        .and_then(Value::as_object)
        .ok_or_else(|| IssuanceError::metadata("no credential_configurations_supported"))?;
    if supported.len() > MAX_METADATA_CONFIGURATIONS {
        return Err(IssuanceError::metadata(
            "too many credential configurations",
        ));
    }
    let configurations = supported
        .iter()
        .map(|(id, c)| Ok((id.clone(), configuration(id, c)?)))
        .collect::<Result<BTreeMap<_, _>, IssuanceError>>()?;
    Ok(IssuerMetadata {
        credential_issuer: credential_issuer.to_owned(),
        authorization_servers,
        nonce_endpoint: endpoint(&m, "nonce_endpoint", policy)?,
        deferred_credential_endpoint: endpoint(&m, "deferred_credential_endpoint", policy)?,
        notification_endpoint: endpoint(&m, "notification_endpoint", policy)?,
        credential_endpoint,
        batch_size,
        encryption_required,
        display: display(m.get("display")),
        configurations,
        signed_by,
    })
}

/// Reads an authorization server's metadata fetched for `expected_issuer`; its `issuer` must
/// be exactly that (RFC 8414 section 3.3).
pub fn parse_as_metadata(
    body: &[u8],
    expected_issuer: &str,
    policy: UrlPolicy,
) -> Result<AuthorizationServerMetadata, IssuanceError> {
    if body.len() > MAX_METADATA_BYTES {
        return Err(IssuanceError::metadata("the metadata is too large"));
    }
    let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) else {
        return Err(IssuanceError::metadata(
            "the authorization server metadata is not a JSON object",
        ));
    };
    let issuer = field(&m, "issuer")?
        .ok_or_else(|| IssuanceError::metadata("no issuer in the authorization server metadata"))?;
    if issuer != expected_issuer {
        return Err(IssuanceError::metadata(format!(
            "the authorization server metadata is for {issuer}, not {expected_issuer}"
        )));
    }
    let mut grant_types = strings(&m, "grant_types_supported")?;
    if grant_types.is_empty() {
        grant_types = vec!["authorization_code".into(), "implicit".into()];
    }
    let flag = |key: &str| m.get(key).and_then(Value::as_bool).unwrap_or(false);
    Ok(AuthorizationServerMetadata {
        issuer: issuer.to_owned(),
        authorization_endpoint: endpoint(&m, "authorization_endpoint", policy)?,
        token_endpoint: endpoint(&m, "token_endpoint", policy)?
            .ok_or_else(|| IssuanceError::metadata("no token_endpoint"))?,
        par_endpoint: endpoint(&m, "pushed_authorization_request_endpoint", policy)?,
        require_par: flag("require_pushed_authorization_requests"),
        code_challenge_methods: strings(&m, "code_challenge_methods_supported")?,
        grant_types,
        pre_authorized_anonymous: flag("pre-authorized_grant_anonymous_access_supported"),
        iss_in_response: flag("authorization_response_iss_parameter_supported"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuance::error::IssuanceFailure;

    fn metadata(extra: &str) -> String {
        format!(
            r#"{{
            "credential_issuer": "https://issuer.example",
            "credential_endpoint": "https://issuer.example/credential",
            "nonce_endpoint": "https://issuer.example/nonce",
            "batch_credential_issuance": {{"batch_size": 10}},
            "display": [{{"name": "발급기관", "locale": "ko"}}, {{"name": 3}}],
            "credential_configurations_supported": {{
                "mdl": {{"format": "mso_mdoc", "doctype": "org.iso.18013.5.1.mDL",
                    "cryptographic_binding_methods_supported": ["cose_key"],
                    "credential_signing_alg_values_supported": [-7],
                    "proof_types_supported": {{"jwt": {{"proof_signing_alg_values_supported": ["ES256"]}}}}}},
                "vc": {{"format": "dc+sd-jwt", "vct": "urn:x",
                    "cryptographic_binding_methods_supported": ["jwk"],
                    "proof_types_supported": {{"jwt": {{"proof_signing_alg_values_supported": ["ES384"]}}}}}},
                "ldp": {{"format": "ldp_vc"}}
            }}{extra}
        }}"#
        )
    }

    #[test]
    fn issuer_metadata_reads_and_says_what_it_supports() {
        let m = parse_issuer_metadata(
            metadata("").as_bytes(),
            Some("application/json"),
            "https://issuer.example",
            &[],
            0,
            UrlPolicy::default(),
        )
        .unwrap();
        assert_eq!(m.batch_size, Some(10));
        assert_eq!(
            m.display.len(),
            1,
            "the unreadable display entry is skipped"
        );
        assert!(m.configurations["mdl"].check_supported().is_ok());
        assert_eq!(
            m.configurations["mdl"].doc_type(),
            Some("org.iso.18013.5.1.mDL")
        );
        assert_eq!(
            m.configurations["vc"]
                .check_supported()
                .unwrap_err()
                .failure,
            IssuanceFailure::Unsupported,
            "no ES256 proofs"
        );
        assert!(m.configurations["ldp"].check_supported().is_err());
        assert!(!m.encryption_required);
    }

    #[test]
    fn metadata_for_another_issuer_or_malformed_is_refused() {
        let policy = UrlPolicy::default();
        let parse = |body: &str, issuer: &str| {
            parse_issuer_metadata(body.as_bytes(), None, issuer, &[], 0, policy)
        };
        assert!(parse(&metadata(""), "https://issuer.example/other").is_err());
        assert!(
            parse(&metadata(""), "https://issuer.example/").is_err(),
            "exact match"
        );
        assert!(parse("[]", "https://issuer.example").is_err());
        assert!(parse(
            &metadata(r#", "credential_endpoint": "http://issuer.example/c""#),
            "https://issuer.example"
        )
        .is_err());
        assert!(parse(
            &metadata(r#", "batch_credential_issuance": {"batch_size": 1}"#),
            "https://issuer.example"
        )
        .is_err());
        let encrypted = parse(
            &metadata(r#", "credential_response_encryption": {"encryption_required": true}"#),
            "https://issuer.example",
        )
        .unwrap();
        assert!(encrypted.encryption_required);
        // Signed metadata with no anchor to check it against is refused, not read unsigned.
        let err = parse_issuer_metadata(
            b"eyJ.eyJ.sig",
            Some("application/jwt"),
            "https://issuer.example",
            &[],
            0,
            policy,
        )
        .unwrap_err();
        assert_eq!(err.failure, IssuanceFailure::Metadata);
    }

    #[test]
    fn authorization_server_metadata() {
        let body =
            br#"{"issuer": "https://as.example", "token_endpoint": "https://as.example/token",
            "pre-authorized_grant_anonymous_access_supported": true}"#;
        let m = parse_as_metadata(body, "https://as.example", UrlPolicy::default()).unwrap();
        assert!(m.pre_authorized_anonymous);
        assert_eq!(m.grant_types, ["authorization_code", "implicit"]);
        assert!(parse_as_metadata(body, "https://other.example", UrlPolicy::default()).is_err());
        assert!(parse_as_metadata(b"{}", "https://as.example", UrlPolicy::default()).is_err());
    }
}
