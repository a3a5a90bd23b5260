//! Public MyData consents through the API: a consent for a registered recipient, its token
//! verified by a data holder, transfers recorded, revocation, and every refusal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use wallet_core::*;

const NOW: i64 = 1_800_000_000;

fn setup() -> (Arc<Wallet>, Vec<u8>) {
    let wallet = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        path: None,
        create_if_missing: true,
        key_protector: passphrase_key_protector_with_cost("pw".into(), 10_000).unwrap(),
        secure_area: None,
        clock: Some(fixed_clock(NOW)),
        listener: None,
    })
    .unwrap();
    // A bank registered as a MyData recipient: its root is a DataRecipient anchor, and its
    // signing certificate identifies it.
    let bank = TestAuthority::create("Hana Bank".into(), "KR".into(), Some(fixed_clock(NOW - 60)))
        .unwrap();

    wallet
        .add_trust_anchor(
            TrustRole::DataRecipient,
            bank.root_certificate(TrustRole::DataRecipient).unwrap(),
        )
        .unwrap();
    (
        wallet,
        bank.signer_certificate(TrustRole::DataRecipient).unwrap(),
    )
}

fn request(cert: &[u8], mode: ConsentMode, days: u32) -> ConsentRequest {
    ConsentRequest {
        recipient_certificate: cert.to_vec(),
        bundles: vec!["income".into(), "health_insurance".into()],
        purpose: "대출 심사".into(),
        mode,
        valid_days: days,
    }
}

#[test]
fn consent_token_transfer_and_revocation() {
    let (wallet, bank_cert) = setup();
    let consent = wallet
        .create_consent(request(
            &bank_cert,
            ConsentMode::Periodic {
                schedule: "monthly".into(),
            },
            365,
        ))
        .unwrap();
    assert_eq!(consent.state, ConsentState::Active);
    assert!(consent.recipient.contains("Hana Bank"));
    assert_eq!(consent.not_after, NOW + 365 * 86_400);

    let verified =
        verify_consent_token(consent.token.clone(), bank_cert.clone(), NOW + 10).unwrap();
    assert_eq!(verified.id, consent.id);
    assert_eq!(verified.bundles, ["income", "health_insurance"]);
    assert_eq!(
        verified.mode,
        ConsentMode::Periodic {
            schedule: "monthly".into()
        }
    );
    // Another recipient cannot use it; it ends when it says.
    let other =
        TestAuthority::create("Other".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    match verify_consent_token(
        consent.token.clone(),
        other.signer_certificate(TrustRole::DataRecipient).unwrap(),
        NOW,
    ) {
        Err(WalletError::Verification {
            failure: VerificationFailure::UntrustedRecipient,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    match verify_consent_token(consent.token.clone(), bank_cert.clone(), NOW + 366 * 86_400) {
        Err(WalletError::Verification {
            failure: VerificationFailure::Expired,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    let mut tampered = consent.token.clone();
    let pos = tampered.windows(6).position(|w| w == b"income").unwrap();
    tampered[pos] = b'I';
    match verify_consent_token(tampered, bank_cert.clone(), NOW) {
        Err(WalletError::Verification {
            failure: VerificationFailure::IssuerSignature,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }

    let after = wallet
        .add_transfer(consent.id.clone(), "income".into(), "국세청".into())
        .unwrap();
    assert_eq!(after.transfers.len(), 1);
    assert_eq!(
        after.state,
        ConsentState::Active,
        "periodic consents stay active"
    );
    assert!(matches!(
        wallet.add_transfer(consent.id.clone(), "medical_records".into(), "병원".into()),
        Err(WalletError::InvalidInput { .. })
    ));

    let revocation = wallet.revoke_consent(consent.id.clone()).unwrap();
    assert!(consent_is_revoked(consent.token.clone(), revocation.clone()).unwrap());
    assert_eq!(
        wallet.revoke_consent(consent.id.clone()).unwrap(),
        revocation,
        "idempotent"
    );
    assert!(wallet.list_consents(false).unwrap().is_empty());
    let past = wallet.list_consents(true).unwrap();
    assert_eq!(past[0].state, ConsentState::Revoked);
    assert_eq!(past[0].transfers[0].data_holder, "국세청");
    assert!(matches!(
        wallet.add_transfer(consent.id, "income".into(), "국세청".into()),
        Err(WalletError::InvalidInput { .. })
    ));

    // A revocation of another consent by the same wallet does not revoke this one.
    let second = wallet
        .create_consent(request(&bank_cert, ConsentMode::OneOff, 7))
        .unwrap();
    assert!(!consent_is_revoked(second.token.clone(), revocation).unwrap());
    let used = wallet
        .add_transfer(second.id.clone(), "income".into(), "국세청".into())
        .unwrap();
    assert_eq!(
        used.state,
        ConsentState::Used,
        "one-off consents are used up"
    );
}

#[test]
fn selected_consents_last_thirty_days_and_bad_requests_are_refused() {
    let (wallet, bank_cert) = setup();
    let selected = wallet
        .create_consent(request(&bank_cert, ConsentMode::Selected, 365))
        .unwrap();
    assert_eq!(selected.not_after, NOW + 30 * 86_400);

    let stranger = TestAuthority::create(
        "Unregistered".into(),
        "KR".into(),
        Some(fixed_clock(NOW - 60)),
    )
    .unwrap();
    match wallet.create_consent(request(
        &stranger
            .signer_certificate(TrustRole::DataRecipient)
            .unwrap(),
        ConsentMode::OneOff,
        1,
    )) {
        Err(WalletError::Verification {
            failure: VerificationFailure::UntrustedRecipient,
            ..
        }) => {}
        other => panic!("unknown recipient: {other:?}"),
    }
    let mut empty = request(&bank_cert, ConsentMode::OneOff, 1);
    empty.bundles.clear();
    assert!(matches!(
        wallet.create_consent(empty),
        Err(WalletError::InvalidInput { .. })
    ));
    assert!(matches!(
        wallet.create_consent(request(&bank_cert, ConsentMode::OneOff, 0)),
        Err(WalletError::InvalidInput { .. })
    ));
    assert!(matches!(
        wallet.create_consent(request(
            &bank_cert,
            ConsentMode::Periodic {
                schedule: " ".into()
            },
            3
        )),
        Err(WalletError::InvalidInput { .. })
    ));
    assert!(matches!(
        wallet.create_consent(request(b"not a certificate", ConsentMode::OneOff, 1)),
        Err(WalletError::Verification { .. })
    ));
    assert!(matches!(
        wallet.revoke_consent("nope".into()),
        Err(WalletError::NotFound { .. })
    ));
    assert!(matches!(
        verify_consent_token(vec![0xa0], vec![0x30], NOW),
        Err(WalletError::Verification {
            failure: VerificationFailure::Malformed,
            ..
        })
    ));
    assert_eq!(wallet.list_consents(true).unwrap().len(), 1);
}

#[test]
fn each_recipient_gets_consents_signed_by_a_key_of_its_own() {
    let (wallet, bank_cert) = setup();
    let insurer = TestAuthority::create(
        "Samsung Fire".into(),
        "KR".into(),
        Some(fixed_clock(NOW - 60)),
    )
    .unwrap();
    wallet
        .add_trust_anchor(
            TrustRole::DataRecipient,
            insurer.root_certificate(TrustRole::DataRecipient).unwrap(),
        )
        .unwrap();
    let insurer_cert = insurer
        .signer_certificate(TrustRole::DataRecipient)
        .unwrap();
    let key_of = |cert: &[u8]| {
        let consent = wallet
            .create_consent(request(cert, ConsentMode::OneOff, 1))
            .unwrap();
        let verified = verify_consent_token(consent.token.clone(), cert.to_vec(), NOW).unwrap();
        (consent, verified.subject_key)
    };
    let (bank_first, bank_key) = key_of(&bank_cert);
    let (_, bank_again) = key_of(&bank_cert);
    let (insurer_consent, insurer_key) = key_of(&insurer_cert);
    assert_eq!(bank_key, bank_again, "one recipient, one key");
    assert_ne!(
        bank_key, insurer_key,
        "two recipients cannot link the citizen by the key"
    );
    // A revocation is signed by the key of the consent it withdraws.
    let revocation = wallet.revoke_consent(bank_first.id.clone()).unwrap();
    assert!(consent_is_revoked(bank_first.token.clone(), revocation.clone()).unwrap());
    assert!(!consent_is_revoked(insurer_consent.token.clone(), revocation).unwrap());
    // The token is for the bank only.
    assert!(matches!(
        verify_consent_token(bank_first.token, insurer_cert, NOW),
        Err(WalletError::Verification {
            failure: VerificationFailure::UntrustedRecipient,
            ..
        })
    ));
}
