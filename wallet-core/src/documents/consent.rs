//! Public MyData consents: the citizen's permission for a named recipient to receive data
//! bundles from data holders, for a purpose, once, for 30 days ("selected"), or periodically.
//!
//! The consent token is a COSE_Sign1 over a CBOR map signed by a wallet key, which travels in
//! the token as a COSE_Key so a data holder can verify it without contacting the wallet; the
//! recipient is pinned by the SHA-256 of its certificate. A revocation is a second COSE_Sign1
//! by the same key naming the consent.

use ring::digest;

use crate::cose::cbor::{self, Value};
use crate::cose::{self, CoseError, Signer};

/// `type` of a consent token's payload.
pub const CONSENT_TYPE: &str = "mydata-consent";
/// `type` of a revocation's payload.
pub const REVOCATION_TYPE: &str = "mydata-consent-revocation";
/// Days a "selected" consent lasts at most.
pub const SELECTED_DAYS: i64 = 30;
const SUBJECT_KEY: i64 = -65537;

/// Checks what a citizen asks to consent to: 1 to 32 data bundles of 1 to 64 bytes, a purpose
/// of 1 to 512 bytes, at least a day, and a schedule for a periodic consent. Returns how many
/// days the consent lasts (a "selected" consent at most [`SELECTED_DAYS`]).
pub fn consent_days(
    bundles: &[String],
    purpose: &str,
    mode: &ConsentMode,
    valid_days: u32,
) -> Result<i64, String> {
    if bundles.is_empty() || bundles.len() > 32 {
        return Err("a consent names 1 to 32 data bundles".into());
    }
    if bundles.iter().any(|b| b.trim().is_empty() || b.len() > 64)
        || purpose.trim().is_empty()
        || purpose.len() > 512
    {
        return Err("bundles are 1 to 64 bytes and the purpose 1 to 512".into());
    }
    if valid_days == 0 {
        return Err("valid_days must be at least 1".into());
    }
    if let ConsentMode::Periodic { schedule } = mode {
        if schedule.trim().is_empty() || schedule.len() > 64 {
            return Err("a periodic consent needs a schedule".into());
        }
    }
    let days = i64::from(valid_days);
    Ok(if *mode == ConsentMode::Selected {
        days.min(SELECTED_DAYS)
    } else {
        days
    })
}

/// How long a consent lasts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, uniffi::Enum)]
pub enum ConsentMode {
    /// One transfer, then done.
    OneOff,
    /// Kept for at most 30 days (선택 동의).
    Selected,
    /// Repeated on a schedule (e.g. "monthly"), until expiry.
    Periodic {
        /// The schedule, e.g. "monthly", "weekly".
        schedule: String,
    },
}

/// The content of a consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// Unique id.
    pub id: String,
    /// Subject of the recipient's certificate.
    pub recipient: String,
    /// SHA-256 of the recipient's certificate (DER).
    pub recipient_certificate_sha256: Vec<u8>,
    /// The data bundles (e.g. "income", "health_insurance").
    pub bundles: Vec<String>,
    /// Why.
    pub purpose: String,
    /// How long.
    pub mode: ConsentMode,
    /// Issued, Unix seconds.
    pub issued_at: i64,
    /// Valid until, Unix seconds.
    pub not_after: i64,
}

/// A verified consent token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedConsent {
    /// Its content.
    pub consent: Consent,
    /// The wallet key that signed it (SEC1).
    pub subject_key: Vec<u8>,
}

/// Why a consent token or a revocation was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ConsentError {
    /// Not a consent token (or not a revocation): bad CBOR or COSE, a missing or mistyped
    /// field, the wrong `type`, no subject key.
    #[error("malformed consent token: {0}")]
    Malformed(String),
    /// The signature does not verify with the key the token carries.
    #[error("the consent token's signature does not verify")]
    BadSignature,
}

impl From<CoseError> for ConsentError {
    fn from(e: CoseError) -> Self {
        match e {
            CoseError::BadSignature => ConsentError::BadSignature,
            other => ConsentError::Malformed(other.to_string()),
        }
    }
}

fn malformed(what: &str) -> ConsentError {
    ConsentError::Malformed(format!("consent: {what}"))
}

/// SHA-256 of a certificate.
pub fn certificate_hash(der: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, der).as_ref().to_vec()
}

fn mode_value(mode: &ConsentMode) -> Value {
    match mode {
        ConsentMode::OneOff => Value::Text("one_off".into()),
        ConsentMode::Selected => Value::Text("selected".into()),
        ConsentMode::Periodic { schedule } => {
            Value::Map(vec![cbor::entry("periodic", Value::Text(schedule.clone()))])
        }
    }
}

fn mode_from(value: &Value) -> Result<ConsentMode, ConsentError> {
    match value {
        Value::Text(t) if t == "one_off" => Ok(ConsentMode::OneOff),
        Value::Text(t) if t == "selected" => Ok(ConsentMode::Selected),
        Value::Map(m) => Ok(ConsentMode::Periodic {
            schedule: cbor::text(cbor::require(m, "periodic", "mode")?, "schedule")?.to_owned(),
        }),
        _ => Err(malformed("mode")),
    }
}

fn signed<E: From<CoseError>>(
    body: Value,
    subject_key: &[u8],
    sign: Signer<'_, E>,
) -> Result<Vec<u8>, E> {
    let mut sign1 = cose::create_sign1(&cbor::encode(&body), false, &[], |tbs| sign(tbs))?;
    sign1
        .unprotected
        .rest
        .push((coset::Label::Int(SUBJECT_KEY), cose::cose_key(subject_key)?));
    Ok(cbor::encode(&cose::to_value(sign1)?))
}

/// Signs a consent token with the wallet key `subject_key` (`sign` returns `r || s`).
pub fn sign_consent<E: From<CoseError>>(
    consent: &Consent,
    subject_key: &[u8],
    sign: Signer<'_, E>,
) -> Result<Vec<u8>, E> {
    let body = Value::Map(vec![
        cbor::entry("type", Value::Text(CONSENT_TYPE.into())),
        cbor::entry("id", Value::Text(consent.id.clone())),
        cbor::entry("recipient", Value::Text(consent.recipient.clone())),
        cbor::entry(
            "recipient_cert_sha256",
            Value::Bytes(consent.recipient_certificate_sha256.clone()),
        ),
        cbor::entry(
            "bundles",
            Value::Array(
                consent
                    .bundles
                    .iter()
                    .map(|b| Value::Text(b.clone()))
                    .collect(),
            ),
        ),
        cbor::entry("purpose", Value::Text(consent.purpose.clone())),
        cbor::entry("mode", mode_value(&consent.mode)),
        cbor::entry("iat", Value::Integer(consent.issued_at.into())),
        cbor::entry("nat", Value::Integer(consent.not_after.into())),
    ]);
    signed(body, subject_key, sign)
}

/// Signs the revocation of consent `id` at `revoked_at`.
pub fn sign_revocation<E: From<CoseError>>(
    id: &str,
    revoked_at: i64,
    subject_key: &[u8],
    sign: Signer<'_, E>,
) -> Result<Vec<u8>, E> {
    let body = Value::Map(vec![
        cbor::entry("type", Value::Text(REVOCATION_TYPE.into())),
        cbor::entry("id", Value::Text(id.to_owned())),
        cbor::entry("revoked_at", Value::Integer(revoked_at.into())),
    ]);
    signed(body, subject_key, sign)
}

/// Verifies a token's signature with the key it carries and returns (payload map, key).
fn open(token: &[u8], expected_type: &str) -> Result<(Value, Vec<u8>), ConsentError> {
    let sign1 = cose::parse_sign1(&cbor::decode(token)?)?;
    let key = sign1
        .unprotected
        .rest
        .iter()
        .find(|(l, _)| *l == coset::Label::Int(SUBJECT_KEY))
        .map(|(_, v)| cose::public_key_from_cose(v))
        .transpose()?
        .ok_or_else(|| malformed("no subject key"))?;
    cose::verify_sign1(&sign1, None, &key)?;
    let body = cbor::decode(sign1.payload.as_deref().unwrap_or_default())?;
    let m = cbor::map(&body, "consent")?;
    cbor::unique_keys(m, "consent")?;
    if cbor::text(cbor::require(m, "type", "consent")?, "type")? != expected_type {
        return Err(malformed("wrong type"));
    }
    Ok((body, key))
}

fn int(m: &[(Value, Value)], key: &str) -> Result<i64, ConsentError> {
    match cbor::require(m, key, "consent")? {
        Value::Integer(i) => i64::try_from(*i).map_err(|_| malformed(key)),
        _ => Err(malformed(key)),
    }
}

/// Verifies a consent token (signature with its own key) and reads it.
pub fn verify_consent(token: &[u8]) -> Result<VerifiedConsent, ConsentError> {
    let (body, subject_key) = open(token, CONSENT_TYPE)?;
    let m = cbor::map(&body, "consent")?;
    let text = |k: &str| -> Result<String, ConsentError> {
        Ok(cbor::text(cbor::require(m, k, "consent")?, k)?.to_owned())
    };
    let bundles = cbor::array(cbor::require(m, "bundles", "consent")?, "bundles")?
        .iter()
        .map(|b| cbor::text(b, "bundle").map(str::to_owned))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(VerifiedConsent {
        consent: Consent {
            id: text("id")?,
            recipient: text("recipient")?,
            recipient_certificate_sha256: cbor::bytes(
                cbor::require(m, "recipient_cert_sha256", "consent")?,
                "hash",
            )?
            .to_vec(),
            bundles,
            purpose: text("purpose")?,
            mode: mode_from(cbor::require(m, "mode", "consent")?)?,
            issued_at: int(m, "iat")?,
            not_after: int(m, "nat")?,
        },
        subject_key,
    })
}

/// Verifies a revocation and returns (consent id, revoked at, signing key).
pub fn verify_revocation(token: &[u8]) -> Result<(String, i64, Vec<u8>), ConsentError> {
    let (body, key) = open(token, REVOCATION_TYPE)?;
    let m = cbor::map(&body, "revocation")?;
    Ok((
        cbor::text(cbor::require(m, "id", "revocation")?, "id")?.to_owned(),
        int(m, "revoked_at")?,
        key,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ec::SoftwareKey;

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        let key = SoftwareKey::generate().unwrap();
        let consent = Consent {
            id: "c1".into(),
            recipient: "CN=Bank".into(),
            recipient_certificate_sha256: vec![1; 32],
            bundles: vec!["income".into()],
            purpose: "loan".into(),
            mode: ConsentMode::Periodic {
                schedule: "monthly".into(),
            },
            issued_at: 10,
            not_after: 20,
        };
        let mut sign = |m: &[u8]| -> Result<Vec<u8>, CoseError> { Ok(key.sign(m)?) };
        let token = sign_consent(&consent, key.public_key(), &mut sign).unwrap();
        let verified = verify_consent(&token).unwrap();
        assert_eq!(verified.consent, consent);
        assert_eq!(verified.subject_key, key.public_key());
        let mut bad = token.clone();
        let pos = bad.windows(4).position(|w| w == b"loan").unwrap();
        bad[pos] = b'L';
        assert_eq!(verify_consent(&bad), Err(ConsentError::BadSignature));
        let revocation = sign_revocation("c1", 15, key.public_key(), &mut sign).unwrap();
        assert_eq!(verify_revocation(&revocation).unwrap().0, "c1");
        assert!(
            verify_consent(&revocation).is_err(),
            "a revocation is not a consent"
        );
    }
}
