//! Status list tokens signed by a test authority: both forms verify against the status list
//! root, and a foreign signer, a signer of another role, a wrong subject, an expired token, a
//! CWT typed the old way or a flipped byte are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use wallet_core::cose::{self, cbor};
use wallet_core::crypto::CryptoError;
use wallet_core::issuer::certificates::create_authority;
use wallet_core::trust::status_list::{StatusList, INVALID, SUSPENDED};
use wallet_core::trust::status_token::{sign_cwt, sign_jwt, verify_any, StatusTokenError};
use wallet_core::trust::x509::{ParsedCertificate, TrustRole};

const NOW: i64 = 1_800_000_000;
const URI: &str = "https://status.jigap.example/lists/1";

#[test]
fn jwt_and_cwt_tokens_verify_and_refuse_tampering() {
    let authority = create_authority("Status Test", "KR", NOW).unwrap();
    let signer = authority.signer(TrustRole::StatusListIssuer).unwrap();
    let chain = [signer.certificate.clone()];
    let anchors = [ParsedCertificate::from_der(
        authority
            .root_certificate(TrustRole::StatusListIssuer)
            .unwrap(),
    )
    .unwrap()];
    let mut list = StatusList::new(2, 1000).unwrap();
    list.set(7, INVALID).unwrap();
    list.set(8, SUSPENDED).unwrap();

    let jwt = sign_jwt(
        &list,
        URI,
        NOW,
        NOW + 86_400,
        3600,
        &chain,
        |m| -> Result<Vec<u8>, CryptoError> { signer.key.sign(m) },
    )
    .unwrap();
    let cwt = sign_cwt(
        &list,
        URI,
        NOW,
        NOW + 86_400,
        3600,
        &chain,
        |m| -> Result<Vec<u8>, CryptoError> { signer.key.sign(m) },
    )
    .unwrap();
    for token in [jwt.as_bytes().to_vec(), cwt.clone()] {
        let verified = verify_any(&token, URI, &anchors, NOW + 10).unwrap();
        assert_eq!(verified.list.get(7).unwrap(), INVALID);
        assert_eq!(verified.list.get(8).unwrap(), SUSPENDED);
        assert_eq!(verified.list.get(9).unwrap(), 0);
        assert_eq!(verified.cache_until(NOW + 10), NOW + 10 + 3600);
        assert!(verified.signer.contains("Status List Signer"));
        assert!(matches!(
            verify_any(&token, "https://elsewhere", &anchors, NOW),
            Err(StatusTokenError::WrongSubject { .. })
        ));
        assert!(matches!(
            verify_any(&token, URI, &anchors, NOW + 86_400),
            Err(StatusTokenError::Expired(_))
        ));
        let mut flipped = token.clone();
        let n = flipped.len();
        flipped[n - 5] ^= 0x01;
        assert!(verify_any(&flipped, URI, &anchors, NOW).is_err());
    }
    let other = create_authority("Other", "KR", NOW).unwrap();
    let foreign =
        [
            ParsedCertificate::from_der(
                other.root_certificate(TrustRole::StatusListIssuer).unwrap(),
            )
            .unwrap(),
        ];
    assert!(matches!(
        verify_any(jwt.as_bytes(), URI, &foreign, NOW),
        Err(StatusTokenError::Untrusted(_))
    ));
    assert!(matches!(
        verify_any(&cwt, URI, &foreign, NOW),
        Err(StatusTokenError::Untrusted(_))
    ));
    assert!(verify_any(b"garbage", URI, &anchors, NOW).is_err());
}

#[test]
fn a_document_signer_cannot_sign_a_status_list() {
    let authority = create_authority("Roles", "KR", NOW).unwrap();
    let ds = authority.signer(TrustRole::MdocIssuer).unwrap();
    let list = StatusList::new(1, 16).unwrap();
    let sign = |m: &[u8]| -> Result<Vec<u8>, CryptoError> { ds.key.sign(m) };
    let chain = [ds.certificate.clone()];
    let jwt = sign_jwt(&list, URI, NOW, NOW + 60, 60, &chain, sign).unwrap();
    let cwt = sign_cwt(&list, URI, NOW, NOW + 60, 60, &chain, sign).unwrap();
    // Even with the IACA itself trusted for status lists, the signer's role is checked.
    let iaca =
        [
            ParsedCertificate::from_der(authority.root_certificate(TrustRole::MdocIssuer).unwrap())
                .unwrap(),
        ];
    for token in [jwt.as_bytes(), cwt.as_slice()] {
        match verify_any(token, URI, &iaca, NOW) {
            Err(StatusTokenError::Untrusted(why)) => {
                assert!(why.contains("extended key usage"), "{why}")
            }
            other => panic!("a document signer's status list was not refused: {other:?}"),
        }
    }
}

#[test]
fn the_cwt_type_is_in_header_16() {
    let authority = create_authority("Typ", "KR", NOW).unwrap();
    let signer = authority.signer(TrustRole::StatusListIssuer).unwrap();
    let anchors = [ParsedCertificate::from_der(
        authority
            .root_certificate(TrustRole::StatusListIssuer)
            .unwrap(),
    )
    .unwrap()];
    let list = StatusList::new(1, 16).unwrap();
    let chain = [signer.certificate.clone()];
    let cwt = sign_cwt(&list, URI, NOW, NOW + 60, 60, &chain, |m| {
        signer.key.sign(m)
    })
    .unwrap();
    let sign1 = cose::parse_sign1(&cbor::decode(&cwt).unwrap()).unwrap();
    assert_eq!(
        cose::protected_type(&sign1),
        Some("application/statuslist+cwt")
    );
    // The same claims typed only with a content type (header 3), as before, are refused.
    let old = coset::CoseSign1Builder::new()
        .protected(
            coset::HeaderBuilder::new()
                .algorithm(coset::iana::Algorithm::ES256)
                .content_type("application/statuslist+cwt".into())
                .build(),
        )
        .unprotected(
            coset::HeaderBuilder::new()
                .value(33, cbor::Value::Bytes(signer.certificate.clone()))
                .build(),
        )
        .payload(sign1.payload.clone().unwrap())
        .create_signature(&[], |tbs| signer.key.sign(tbs).unwrap())
        .build();
    let old = cbor::encode(&cose::to_value(old).unwrap());
    assert!(matches!(
        verify_any(&old, URI, &anchors, NOW),
        Err(StatusTokenError::Malformed(m)) if m.contains("typ")
    ));
}
