//! Format-neutral CBOR and COSE: the bounded CBOR codec ([`cbor`]) every CBOR input goes
//! through, and COSE (RFC 9052/9053) as this wallet uses it: EC2 P-256 keys, ES256
//! `COSE_Sign1` with an `x5chain` (RFC 9360, label 33) and an optionally detached payload, and
//! HMAC-256/256 `COSE_Mac0` with a detached payload. Built on `coset`; protected headers keep
//! the exact bytes they arrived with, so signatures are checked over what was signed.
//!
//! Owns: CBOR well-formedness and limits, COSE structures, signing and verifying them. Used by
//! mdoc (ISO/IEC 18013-5), status list CWTs, signed bills, notices, catalogs and consents, the
//! PIN reset proof and the test issuer. Imports only `crypto` and `limits`; it must never
//! import a format (`mdoc`, `sdjwt`), `trust`, `documents`, `inbox`, `store` or `api`.

pub mod cbor;

use coset::{
    iana, AsCborValue, CoseMac0, CoseSign1, Header, HeaderBuilder, Label, ProtectedHeader,
};
use ring::hmac;

use self::cbor::Value;

use crate::crypto::ec;
use crate::crypto::secret::SymmetricKey;

/// What can go wrong decoding, encoding, signing or verifying CBOR and COSE.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CoseError {
    /// Not well-formed, over a limit, or not the structure expected (names the field).
    #[error("malformed: {0}")]
    Malformed(String),
    /// An algorithm, key type or curve this implementation does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The signature does not verify with the given key.
    #[error("signature does not verify")]
    BadSignature,
    /// The MAC does not verify with the given key.
    #[error("MAC does not verify")]
    BadMac,
    /// A key could not be used (not a P-256 point, for instance).
    #[error("crypto failure: {0}")]
    Crypto(String),
}

impl From<crate::crypto::CryptoError> for CoseError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        CoseError::Crypto(e.to_string())
    }
}

/// A signer for the messages this crate builds: receives the bytes to be signed and returns
/// the ES256 signature `r || s` (a device key in a secure area, or a software key).
pub type Signer<'a, E> = &'a mut dyn FnMut(&[u8]) -> Result<Vec<u8>, E>;

/// The COSE header label of an X.509 certificate chain.
pub const X5CHAIN: i64 = 33;

/// A COSE_Key (EC2, P-256) for an uncompressed SEC1 public key, in the key order of the
/// standard's examples: kty, crv, x, y.
pub fn cose_key(public_key: &[u8]) -> Result<Value, CoseError> {
    let point = ec::uncompressed_public_key(public_key)?;
    let (x, y) = ec::coordinates(&point)?;
    Ok(Value::Map(vec![
        (Value::Integer(1.into()), Value::Integer(2.into())),
        (Value::Integer((-1).into()), Value::Integer(1.into())),
        (Value::Integer((-2).into()), Value::Bytes(x.to_vec())),
        (Value::Integer((-3).into()), Value::Bytes(y.to_vec())),
    ]))
}

/// The uncompressed SEC1 public key of an EC2 P-256 COSE_Key (y as coordinate or sign bit).
pub fn public_key_from_cose(key: &Value) -> Result<Vec<u8>, CoseError> {
    let entries = cbor::map(key, "COSE_Key")?;
    let int = |label: i64| cbor::get_int(entries, label);
    match int(1) {
        Some(Value::Integer(kty)) if i128::from(*kty) == 2 => {}
        _ => {
            return Err(CoseError::Unsupported(
                "COSE_Key type (expected EC2)".into(),
            ))
        }
    }
    match int(-1) {
        Some(Value::Integer(crv)) if i128::from(*crv) == 1 => {}
        _ => {
            return Err(CoseError::Unsupported(
                "COSE_Key curve (expected P-256)".into(),
            ))
        }
    }
    let x = cbor::bytes(
        int(-2).ok_or_else(|| CoseError::Malformed("COSE_Key: missing x".into()))?,
        "COSE_Key x",
    )?;
    if x.len() != 32 {
        return Err(CoseError::Malformed("COSE_Key: x is not 32 bytes".into()));
    }
    let sec1 = match int(-3) {
        Some(Value::Bytes(y)) if y.len() == 32 => [&[0x04], x, y.as_slice()].concat(),
        Some(Value::Bool(sign)) => [&[if *sign { 0x03 } else { 0x02 }], x].concat(),
        _ => return Err(CoseError::Malformed("COSE_Key: bad y".into())),
    };
    Ok(ec::uncompressed_public_key(&sec1)?)
}

/// Parses a COSE_Sign1 (untagged, or with tag 18).
pub fn parse_sign1(value: &Value) -> Result<CoseSign1, CoseError> {
    let inner = match value {
        Value::Tag(18, inner) => inner.as_ref().clone(),
        other => other.clone(),
    };
    CoseSign1::from_cbor_value(inner).map_err(|e| CoseError::Malformed(format!("COSE_Sign1: {e}")))
}

/// Parses a COSE_Mac0 (untagged, or with tag 17).
pub fn parse_mac0(value: &Value) -> Result<CoseMac0, CoseError> {
    let inner = match value {
        Value::Tag(17, inner) => inner.as_ref().clone(),
        other => other.clone(),
    };
    CoseMac0::from_cbor_value(inner).map_err(|e| CoseError::Malformed(format!("COSE_Mac0: {e}")))
}

/// A COSE structure as a CBOR value.
pub fn to_value<T: AsCborValue>(item: T) -> Result<Value, CoseError> {
    item.to_cbor_value()
        .map_err(|e| CoseError::Malformed(format!("COSE encoding: {e}")))
}

/// The certificates (DER) of the `x5chain` in a header, leaf first.
pub fn x5chain(header: &Header) -> Result<Vec<Vec<u8>>, CoseError> {
    let value = header
        .rest
        .iter()
        .find(|(label, _)| *label == Label::Int(X5CHAIN))
        .map(|(_, v)| v)
        .ok_or_else(|| CoseError::Malformed("COSE header: missing x5chain".into()))?;
    match value {
        Value::Bytes(der) => Ok(vec![der.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| cbor::bytes(item, "x5chain entry").map(<[u8]>::to_vec))
            .collect(),
        _ => Err(CoseError::Malformed("COSE header: bad x5chain".into())),
    }
}

fn check_alg(
    protected: &ProtectedHeader,
    expected: iana::Algorithm,
    what: &str,
) -> Result<(), CoseError> {
    match &protected.header.alg {
        Some(coset::RegisteredLabelWithPrivate::Assigned(alg)) if *alg == expected => Ok(()),
        // ESP256 (RFC 9864) is ES256 named fully: ECDSA on P-256 with SHA-256.
        Some(coset::RegisteredLabelWithPrivate::Assigned(iana::Algorithm::ESP256))
            if expected == iana::Algorithm::ES256 =>
        {
            Ok(())
        }
        Some(other) => Err(CoseError::Unsupported(format!(
            "{what} algorithm {other:?}"
        ))),
        None => Err(CoseError::Malformed(format!(
            "{what}: no algorithm in the protected header"
        ))),
    }
}

/// The to-be-signed bytes (Sig_structure) of a COSE_Sign1, for its own payload or a detached one.
pub fn sign1_tbs(sign1: &CoseSign1, detached_payload: Option<&[u8]>) -> Result<Vec<u8>, CoseError> {
    let payload = match (&sign1.payload, detached_payload) {
        (Some(p), None) => p.as_slice(),
        (None, Some(p)) => p,
        (Some(_), Some(_)) => {
            return Err(CoseError::Malformed(
                "COSE_Sign1: payload should be detached".into(),
            ))
        }
        (None, None) => return Err(CoseError::Malformed("COSE_Sign1: no payload".into())),
    };
    Ok(coset::sig_structure_data(
        coset::SignatureContext::CoseSign1,
        sign1.protected.clone(),
        None,
        &[],
        payload,
    ))
}

/// Verifies an ES256 COSE_Sign1 with `public_key` (SEC1), over its payload or `detached_payload`.
pub fn verify_sign1(
    sign1: &CoseSign1,
    detached_payload: Option<&[u8]>,
    public_key: &[u8],
) -> Result<(), CoseError> {
    check_alg(&sign1.protected, iana::Algorithm::ES256, "COSE_Sign1")?;
    let tbs = sign1_tbs(sign1, detached_payload)?;
    ec::verify(public_key, &tbs, &sign1.signature).map_err(|_| CoseError::BadSignature)
}

/// Builds an ES256 COSE_Sign1: `sign` receives the Sig_structure and returns `r || s`.
pub fn create_sign1<E>(
    payload: &[u8],
    detached: bool,
    x5chain_der: &[Vec<u8>],
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>,
) -> Result<CoseSign1, E> {
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES256)
        .build();
    sign1_with_protected(protected, payload, detached, x5chain_der, sign)
}

/// The COSE header label of the type of the whole message (`typ`, RFC 9596).
pub const TYP: i64 = 16;

/// Builds an attached ES256 COSE_Sign1 whose protected header names the message's type in
/// `typ` (label 16, RFC 9596), e.g. `application/statuslist+cwt`.
pub fn create_sign1_with_type<E>(
    payload: &[u8],
    typ: &str,
    x5chain_der: &[Vec<u8>],
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>,
) -> Result<CoseSign1, E> {
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES256)
        .value(TYP, Value::Text(typ.to_owned()))
        .build();
    sign1_with_protected(protected, payload, false, x5chain_der, sign)
}

/// The `typ` (label 16) of a protected header, when it is text.
pub fn protected_type(sign1: &CoseSign1) -> Option<&str> {
    sign1
        .protected
        .header
        .rest
        .iter()
        .find(|(label, _)| *label == Label::Int(TYP))
        .and_then(|(_, v)| match v {
            Value::Text(t) => Some(t.as_str()),
            _ => None,
        })
}

fn sign1_with_protected<E>(
    protected: Header,
    payload: &[u8],
    detached: bool,
    x5chain_der: &[Vec<u8>],
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>,
) -> Result<CoseSign1, E> {
    let mut unprotected = HeaderBuilder::new();
    match x5chain_der {
        [] => {}
        [single] => unprotected = unprotected.value(X5CHAIN, Value::Bytes(single.clone())),
        many => {
            unprotected = unprotected.value(
                X5CHAIN,
                Value::Array(many.iter().map(|c| Value::Bytes(c.clone())).collect()),
            )
        }
    }
    let mut sign1 = CoseSign1 {
        protected: ProtectedHeader {
            original_data: None,
            header: protected,
        },
        unprotected: unprotected.build(),
        payload: None,
        signature: Vec::new(),
    };
    let tbs = coset::sig_structure_data(
        coset::SignatureContext::CoseSign1,
        sign1.protected.clone(),
        None,
        &[],
        payload,
    );
    sign1.signature = sign(&tbs)?;
    if !detached {
        sign1.payload = Some(payload.to_vec());
    }
    Ok(sign1)
}

fn mac_tbs(protected: &ProtectedHeader, payload: &[u8]) -> Vec<u8> {
    coset::mac_structure_data(coset::MacContext::CoseMac0, protected.clone(), &[], payload)
}

/// Builds an HMAC-256/256 COSE_Mac0 over a detached `payload`.
pub fn create_mac0(key: &SymmetricKey, payload: &[u8]) -> CoseMac0 {
    let protected = ProtectedHeader {
        original_data: None,
        header: HeaderBuilder::new()
            .algorithm(iana::Algorithm::HMAC_256_256)
            .build(),
    };
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, key.expose()),
        &mac_tbs(&protected, payload),
    );
    CoseMac0 {
        protected,
        unprotected: Header::default(),
        payload: None,
        tag: tag.as_ref().to_vec(),
    }
}

/// Verifies an HMAC-256/256 COSE_Mac0 over a detached `payload`, in constant time.
pub fn verify_mac0(mac0: &CoseMac0, key: &SymmetricKey, payload: &[u8]) -> Result<(), CoseError> {
    check_alg(&mac0.protected, iana::Algorithm::HMAC_256_256, "COSE_Mac0")?;
    if mac0.payload.is_some() {
        return Err(CoseError::Malformed(
            "COSE_Mac0: payload should be detached".into(),
        ));
    }
    hmac::verify(
        &hmac::Key::new(hmac::HMAC_SHA256, key.expose()),
        &mac_tbs(&mac0.protected, payload),
        &mac0.tag,
    )
    .map_err(|_| CoseError::BadMac)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ec::SoftwareKey;

    #[test]
    fn cose_key_round_trip() {
        let key = SoftwareKey::generate().unwrap();
        let cose = cose_key(key.public_key()).unwrap();
        assert_eq!(public_key_from_cose(&cose).unwrap(), key.public_key());
        let bad = Value::Map(vec![(Value::Integer(1.into()), Value::Integer(1.into()))]);
        assert!(matches!(
            public_key_from_cose(&bad),
            Err(CoseError::Unsupported(_))
        ));
        assert!(public_key_from_cose(&Value::Integer(3.into())).is_err());
    }

    #[test]
    fn sign1_attached_and_detached() {
        let key = SoftwareKey::generate().unwrap();
        let chain = vec![b"cert".to_vec()];
        let attached = create_sign1(b"payload", false, &chain, |tbs| key.sign(tbs)).unwrap();
        verify_sign1(&attached, None, key.public_key()).unwrap();
        assert_eq!(x5chain(&attached.unprotected).unwrap(), chain);
        let detached = create_sign1(b"payload", true, &[], |tbs| key.sign(tbs)).unwrap();
        verify_sign1(&detached, Some(b"payload"), key.public_key()).unwrap();
        assert!(verify_sign1(&detached, Some(b"other"), key.public_key()).is_err());
        assert!(verify_sign1(&detached, None, key.public_key()).is_err());
        assert!(verify_sign1(&attached, Some(b"payload"), key.public_key()).is_err());
        let reparsed = parse_sign1(&to_value(attached).unwrap()).unwrap();
        verify_sign1(&reparsed, None, key.public_key()).unwrap();
    }

    #[test]
    fn mac0_detached() {
        let key = SymmetricKey::from_bytes([9; 32]);
        let mac = create_mac0(&key, b"data");
        verify_mac0(&mac, &key, b"data").unwrap();
        assert!(verify_mac0(&mac, &key, b"datb").is_err());
        assert!(verify_mac0(&mac, &SymmetricKey::from_bytes([8; 32]), b"data").is_err());
    }
}
