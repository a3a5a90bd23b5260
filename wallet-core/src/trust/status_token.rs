//! Status list tokens (draft-ietf-oauth-status-list sections 5 and 6): the signed envelope of a
//! status list, as a JWT (`typ: statuslist+jwt`) or a CWT (COSE_Sign1 whose protected `typ`,
//! label 16, is `application/statuslist+cwt`), with `sub` (the list's URI), `iat`, `exp` and
//! `ttl`. The signer must be a status list signer (its own certificate role).
//! The signature is checked against trust anchors before the list is read.

#[cfg(feature = "issuer")]
use base64::engine::general_purpose::STANDARD;
#[cfg(feature = "issuer")]
use base64::Engine;
use serde_json::Value;

use super::jws::{self, JwsError};
use super::status_list::StatusList;
use super::x509::{verify_chain, ParsedCertificate, TrustRole};
use crate::cose::{self, cbor};
#[cfg(feature = "issuer")]
use crate::crypto::jose;

/// CWT claim keys (RFC 8392) and the draft's additions.
const CWT_SUB: i64 = 2;
const CWT_EXP: i64 = 4;
const CWT_IAT: i64 = 6;
const CWT_TTL: i64 = 65534;
const CWT_STATUS_LIST: i64 = 65533;
const CWT_TYPE: &str = "application/statuslist+cwt";

/// A verified status list token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusListToken {
    /// `sub`: the URI the list was fetched from.
    pub subject: String,
    /// `iat`.
    pub issued_at: i64,
    /// `exp`, if any.
    pub expires_at: Option<i64>,
    /// `ttl` in seconds, if any: how long it may be cached.
    pub ttl: Option<i64>,
    /// Subject of the signer's certificate.
    pub signer: String,
    /// The list.
    pub list: StatusList,
}

impl StatusListToken {
    /// Until when a cached copy fetched at `fetched_at` may be used.
    pub fn cache_until(&self, fetched_at: i64) -> i64 {
        let by_ttl = self.ttl.map(|ttl| fetched_at + ttl);
        match (by_ttl, self.expires_at) {
            (Some(t), Some(e)) => t.min(e),
            (Some(t), None) => t,
            (None, Some(e)) => e,
            (None, None) => fetched_at,
        }
    }
}

/// Why a status list token was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StatusTokenError {
    /// Not a status list token, or a part that does not decode.
    #[error("malformed status list token: {0}")]
    Malformed(String),
    /// The signature does not verify, or the signer is not trusted.
    #[error("status list token not trusted: {0}")]
    Untrusted(String),
    /// Its `sub` is not the URI it was fetched from.
    #[error("status list token is for {found}, not {expected}")]
    WrongSubject {
        /// The URI asked for.
        expected: String,
        /// The token's `sub`.
        found: String,
    },
    /// Its `exp` has passed.
    #[error("status list token expired at {0}")]
    Expired(i64),
}

fn signer_key(
    chain: &[Vec<u8>],
    anchors: &[ParsedCertificate],
    at: i64,
) -> Result<(Vec<u8>, String), StatusTokenError> {
    let (leaf, _) = verify_chain(chain, anchors, at, TrustRole::StatusListIssuer)
        .map_err(|e| StatusTokenError::Untrusted(e.to_string()))?;
    let key = leaf
        .p256_public_key()
        .map_err(|e| StatusTokenError::Untrusted(e.to_string()))?;
    Ok((key, leaf.subject()))
}

fn check(token: StatusListToken, uri: &str, at: i64) -> Result<StatusListToken, StatusTokenError> {
    if token.subject != uri {
        return Err(StatusTokenError::WrongSubject {
            expected: uri.to_owned(),
            found: token.subject,
        });
    }
    if let Some(exp) = token.expires_at {
        if at >= exp {
            return Err(StatusTokenError::Expired(exp));
        }
    }
    Ok(token)
}

/// Verifies a status list JWT fetched from `uri`, signed by a certificate chaining to `anchors`.
pub fn verify_jwt(
    token: &str,
    uri: &str,
    anchors: &[ParsedCertificate],
    at: i64,
) -> Result<StatusListToken, StatusTokenError> {
    let verified = jws::verify_x5c(
        token,
        "statuslist+jwt",
        anchors,
        at,
        TrustRole::StatusListIssuer,
    )
    .map_err(|e| match e {
        JwsError::Malformed(m) => StatusTokenError::Malformed(m),
        other => StatusTokenError::Untrusted(other.to_string()),
    })?;
    let signer = verified.signer.subject();
    let p = &verified.payload;
    let int = |name: &str| p.get(name).and_then(Value::as_i64);
    let list = StatusList::from_json(
        p.get("status_list")
            .ok_or_else(|| StatusTokenError::Malformed("status_list".into()))?,
    )
    .map_err(|e| StatusTokenError::Malformed(e.to_string()))?;
    check(
        StatusListToken {
            subject: p
                .get("sub")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            issued_at: int("iat").ok_or_else(|| StatusTokenError::Malformed("iat".into()))?,
            expires_at: int("exp"),
            ttl: int("ttl"),
            signer,
            list,
        },
        uri,
        at,
    )
}

/// Verifies a status list CWT fetched from `uri`, signed by a certificate chaining to `anchors`.
pub fn verify_cwt(
    token: &[u8],
    uri: &str,
    anchors: &[ParsedCertificate],
    at: i64,
) -> Result<StatusListToken, StatusTokenError> {
    let malformed = |e: crate::cose::CoseError| StatusTokenError::Malformed(e.to_string());
    let sign1 = cose::parse_sign1(&cbor::decode(token).map_err(malformed)?).map_err(malformed)?;
    // draft-ietf-oauth-status-list: the protected header's `typ` (label 16, RFC 9596) is
    // application/statuslist+cwt.
    if cose::protected_type(&sign1) != Some(CWT_TYPE) {
        return Err(StatusTokenError::Malformed(
            "protected header typ (16) is not application/statuslist+cwt".into(),
        ));
    }
    let chain = cose::x5chain(&sign1.protected.header)
        .or_else(|_| cose::x5chain(&sign1.unprotected))
        .map_err(malformed)?;
    let (key, signer) = signer_key(&chain, anchors, at)?;
    cose::verify_sign1(&sign1, None, &key)
        .map_err(|e| StatusTokenError::Untrusted(format!("signature: {e}")))?;
    let claims = cbor::decode(sign1.payload.as_deref().unwrap_or_default()).map_err(malformed)?;
    let m = cbor::map(&claims, "CWT claims").map_err(malformed)?;
    let int = |k: i64| match cbor::get_int(m, k) {
        Some(cbor::Value::Integer(i)) => i64::try_from(*i).ok(),
        _ => None,
    };
    let subject = match cbor::get_int(m, CWT_SUB) {
        Some(cbor::Value::Text(t)) => t.clone(),
        _ => return Err(StatusTokenError::Malformed("sub".into())),
    };
    let list = StatusList::from_cbor(
        cbor::get_int(m, CWT_STATUS_LIST)
            .ok_or_else(|| StatusTokenError::Malformed("status_list".into()))?,
    )
    .map_err(|e| StatusTokenError::Malformed(e.to_string()))?;
    check(
        StatusListToken {
            subject,
            issued_at: int(CWT_IAT).ok_or_else(|| StatusTokenError::Malformed("iat".into()))?,
            expires_at: int(CWT_EXP),
            ttl: int(CWT_TTL),
            signer,
            list,
        },
        uri,
        at,
    )
}

/// Verifies a token in either form (a JWT is text starting with `ey`).
pub fn verify_any(
    token: &[u8],
    uri: &str,
    anchors: &[ParsedCertificate],
    at: i64,
) -> Result<StatusListToken, StatusTokenError> {
    if token.len() > crate::limits::MAX_STATUS_TOKEN_BYTES {
        return Err(StatusTokenError::Malformed(
            "status list token too large".into(),
        ));
    }
    match std::str::from_utf8(token) {
        Ok(text) if text.trim_start().starts_with("ey") => {
            verify_jwt(text.trim(), uri, anchors, at)
        }
        _ => verify_cwt(token, uri, anchors, at),
    }
}

#[cfg(feature = "issuer")]
/// Signs a status list JWT (issuer side): `sign` gets the signing input and returns `r || s`.
pub fn sign_jwt<E>(
    list: &StatusList,
    uri: &str,
    issued_at: i64,
    expires_at: i64,
    ttl: i64,
    chain: &[Vec<u8>],
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>,
) -> Result<String, E> {
    let header = serde_json::json!({
        "alg": "ES256",
        "typ": "statuslist+jwt",
        "x5c": chain.iter().map(|c| STANDARD.encode(c)).collect::<Vec<_>>(),
    });
    let payload = serde_json::json!({
        "sub": uri,
        "iat": issued_at,
        "exp": expires_at,
        "ttl": ttl,
        "status_list": list.to_json(),
    });
    let input = jose::signing_input(&header, &payload);
    let signature = sign(input.as_bytes())?;
    Ok(jose::compact(&input, &signature))
}

#[cfg(feature = "issuer")]
/// Signs a status list CWT (issuer side).
pub fn sign_cwt<E: From<crate::crypto::CryptoError>>(
    list: &StatusList,
    uri: &str,
    issued_at: i64,
    expires_at: i64,
    ttl: i64,
    chain: &[Vec<u8>],
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>,
) -> Result<Vec<u8>, E> {
    let int = |i: i64| cbor::Value::Integer(i.into());
    let claims = cbor::Value::Map(vec![
        (int(CWT_SUB), cbor::Value::Text(uri.to_owned())),
        (int(CWT_IAT), int(issued_at)),
        (int(CWT_EXP), int(expires_at)),
        (int(CWT_TTL), int(ttl)),
        (int(CWT_STATUS_LIST), list.to_cbor()),
    ]);
    let sign1 = cose::create_sign1_with_type(&cbor::encode(&claims), CWT_TYPE, chain, sign)?;
    Ok(cbor::encode(&cbor::Value::Tag(
        18,
        Box::new(
            cose::to_value(sign1)
                .map_err(|_| crate::crypto::CryptoError::InvalidParameter("COSE encoding"))?,
        ),
    )))
}

/// Why a relying party cannot accept a credential's status.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StatusCheckError {
    /// No fresh, verified list for the reference, or its index is outside the list: a
    /// verifier that cannot tell does not accept.
    #[error("credential status unavailable: {0}")]
    Unavailable(String),
    /// INVALID (0x01).
    #[error("the credential is revoked")]
    Revoked,
    /// SUSPENDED (0x02).
    #[error("the credential is suspended")]
    Suspended,
    /// Any other value (application-specific or reserved): not VALID.
    #[error("the status list gives status {0:#04x}, which is not VALID")]
    NotValid(u8),
}

/// Verified status lists by URI, each usable until its `ttl`/`exp` runs out.
#[derive(Debug, Default, Clone)]
pub struct StatusCache {
    entries: std::collections::HashMap<String, (StatusList, i64)>,
}

impl StatusCache {
    /// Keeps a verified token fetched at `fetched_at`.
    pub fn insert(&mut self, token: StatusListToken, fetched_at: i64) {
        let until = token.cache_until(fetched_at).max(fetched_at);
        self.entries.insert(token.subject, (token.list, until));
    }

    /// A list still fresh at `at`.
    pub fn fresh(&self, uri: &str, at: i64) -> Option<&StatusList> {
        self.entries
            .get(uri)
            .filter(|(_, until)| at <= *until)
            .map(|(list, _)| list)
    }

    /// Accepts `reference` at `at` only when a fresh list says VALID (0x00).
    pub fn check(
        &self,
        reference: &super::status_list::StatusReference,
        at: i64,
    ) -> Result<(), StatusCheckError> {
        use super::status_list::{INVALID, SUSPENDED, VALID};
        match self.status(reference, at) {
            None => Err(StatusCheckError::Unavailable(format!(
                "no fresh status list for {}",
                reference.uri
            ))),
            Some(Err(e)) => Err(StatusCheckError::Unavailable(e.to_string())),
            Some(Ok(VALID)) => Ok(()),
            Some(Ok(INVALID)) => Err(StatusCheckError::Revoked),
            Some(Ok(SUSPENDED)) => Err(StatusCheckError::Suspended),
            Some(Ok(other)) => Err(StatusCheckError::NotValid(other)),
        }
    }

    /// The status of `reference` at `at`: `None` when its list is not cached or is stale.
    pub fn status(
        &self,
        reference: &super::status_list::StatusReference,
        at: i64,
    ) -> Option<Result<u8, super::status_list::StatusListError>> {
        self.fresh(&reference.uri, at)
            .map(|list| list.get(reference.index))
    }
}
