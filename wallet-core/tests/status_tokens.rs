//! Status list tokens signed by a test authority: both forms verify against the IACA, and a
//! foreign signer, a wrong subject, an expired token or a flipped byte are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use wallet_core::crypto::CryptoError;
use wallet_core::issuer::certificates::create_authority;
use wallet_core::trust::status_list::{StatusList, INVALID, SUSPENDED};
use wallet_core::trust::status_token::{sign_cwt, sign_jwt, verify_any, StatusTokenError};
use wallet_core::trust::x509::ParsedCertificate;

const NOW: i64 = 1_800_000_000;
const URI: &str = "https://status.jigap.example/lists/1";

#[test]
fn jwt_and_cwt_tokens_verify_and_refuse_tampering() {
    let authority = create_authority("Status Test", "KR", NOW).unwrap();
    let signer = &authority.certificate_issuer;
    let chain = [signer.certificate.clone()];
    let anchors = [ParsedCertificate::from_der(&authority.iaca.certificate).unwrap()];
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
        assert!(verified.signer.contains("Certificate Issuer"));
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
    let foreign = [ParsedCertificate::from_der(&other.iaca.certificate).unwrap()];
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
