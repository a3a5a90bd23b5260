//! Revocation and suspension end to end through the API: the issuer publishes a status list,
//! the wallet refreshes through the host's HttpClient and tells its listener, and verifiers
//! reject revoked and suspended credentials.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use wallet_core::*;

const T0: i64 = 1_800_000_000;
const URI: &str = "https://status.jigap.example/lists/1";

/// A clock the test moves forward.
struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now_unix_seconds(&self) -> Result<i64, WalletError> {
        Ok(self.0.load(Ordering::SeqCst))
    }
}

/// The host's HTTP stack, serving what the issuer published.
#[derive(Default)]
struct Published {
    documents: Mutex<HashMap<String, Vec<u8>>>,
    requests: AtomicUsize,
    down: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl HttpClient for Published {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, WalletError> {
        assert_eq!(request.method, HttpMethod::Get);
        let url = request.url;
        self.requests.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(uniffi::UnexpectedUniFFICallbackError::new("network unreachable").into());
        }
        Ok(match self.documents.lock().unwrap().get(&url) {
            Some(body) => HttpResponse {
                status: 200,
                content_type: Some("application/statuslist+jwt".into()),
                headers: vec![],
                body: body.clone(),
            },
            None => HttpResponse {
                status: 404,
                content_type: None,
                headers: vec![],
                body: vec![],
            },
        })
    }
}

#[derive(Default)]
struct Events(Mutex<Vec<WalletEvent>>);

impl WalletListener for Events {
    fn on_event(&self, event: WalletEvent) -> Result<(), WalletError> {
        self.0.lock().unwrap().push(event);
        Ok(())
    }
}

fn entry(index: u64) -> Option<StatusListEntry> {
    Some(StatusListEntry {
        index,
        uri: URI.into(),
    })
}

#[test]
fn revoke_suspend_reinstate_through_refresh_and_verifiers() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let clock = Arc::new(TestClock(AtomicI64::new(T0)));
    let events = Arc::new(Events::default());
    let wallet = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        path: None,
        create_if_missing: true,
        key_protector: passphrase_key_protector_with_cost("pw".into(), 10_000).unwrap(),
        secure_area: None,
        clock: Some(clock.clone()),
        listener: Some(events.clone()),
    })
    .unwrap();
    let authority =
        TestAuthority::create("Status Test".into(), "KR".into(), Some(clock.clone())).unwrap();
    let status_root = authority
        .root_certificate(TrustRole::StatusListIssuer)
        .unwrap();
    wallet
        .add_trust_anchor(TrustRole::StatusListIssuer, status_root.clone())
        .unwrap();

    let cert_key = wallet.create_device_key().unwrap();
    let cert = authority
        .issue_e_certificate(
            "tax-payment".into(),
            cert_key.public_key.clone(),
            r#"{"name":"홍길동","arrears":false}"#.into(),
            entry(5),
        )
        .unwrap();
    let cert_id = wallet.add_sd_jwt(cert, cert_key.alias).unwrap();
    let mdl_key = wallet.create_device_key().unwrap();
    let mdl = authority
        .issue_mdl(
            mdl_key.public_key.clone(),
            MdlClaims {
                family_name: "홍".into(),
                given_name: "길동".into(),
                birth_date: "1990-05-05".into(),
                document_number: "1".into(),
                issuing_authority: "경찰청".into(),
                portrait: vec![0xff, 0xd8, 0xff, 0xd9],
                vehicle_categories: vec!["B".into()],
                valid_days: 365,
                status: entry(6),
            },
        )
        .unwrap();
    let mdl_id = wallet.add_mdoc(mdl, mdl_key.alias).unwrap();
    let publish = |statuses: Vec<StatusValue>, format: StatusListFormat| {
        authority
            .status_list_token(URI.into(), 64, statuses, format, 600)
            .unwrap()
    };
    let http = Arc::new(Published::default());
    http.documents
        .lock()
        .unwrap()
        .insert(URI.into(), publish(vec![], StatusListFormat::Jwt));

    let report = rt
        .block_on(wallet.clone().refresh_status(http.clone()))
        .unwrap();
    assert_eq!(
        (report.checked, report.changed.len(), report.failures.len()),
        (2, 0, 0),
        "{report:?}"
    );
    assert_eq!(
        http.requests.load(Ordering::SeqCst),
        1,
        "one list fetched once for both credentials"
    );

    // Revoke the certificate, suspend the licence; the cached list is good for ten minutes.
    http.documents.lock().unwrap().insert(
        URI.into(),
        publish(
            vec![
                StatusValue {
                    index: 5,
                    status: 1,
                },
                StatusValue {
                    index: 6,
                    status: 2,
                },
            ],
            StatusListFormat::Cwt,
        ),
    );
    let report = rt
        .block_on(wallet.clone().refresh_status(http.clone()))
        .unwrap();
    assert!(report.changed.is_empty(), "still cached");
    clock.0.store(T0 + 601, Ordering::SeqCst);
    let report = rt
        .block_on(wallet.clone().refresh_status(http.clone()))
        .unwrap();
    assert_eq!(report.changed.len(), 2, "{report:?}");
    assert_eq!(
        wallet
            .get_credential(cert_id.clone())
            .unwrap()
            .summary
            .state,
        CredentialState::Revoked
    );
    assert_eq!(
        wallet.get_credential(mdl_id.clone()).unwrap().summary.state,
        CredentialState::Suspended
    );
    assert!(events
        .0
        .lock()
        .unwrap()
        .contains(&WalletEvent::CredentialStateChanged {
            credential_id: cert_id.clone(),
            previous: CredentialState::Valid,
            current: CredentialState::Revoked,
        }));

    // Verifiers with the current list reject both.
    let token = publish(
        vec![
            StatusValue {
                index: 5,
                status: 1,
            },
            StatusValue {
                index: 6,
                status: 2,
            },
        ],
        StatusListFormat::Jwt,
    );
    let bank = SdJwtVerifier::new(SdJwtVerifierConfig {
        trusted_issuer_certificates: vec![authority
            .root_certificate(TrustRole::SdJwtIssuer)
            .unwrap()],
        status_list_certificates: vec![status_root.clone()],
        accepted_vcts: vec![],
        require_expiry: true,
        clock_skew_seconds: 60,
        max_key_binding_age_seconds: 300,
        clock: Some(clock.clone()),
    })
    .unwrap();
    let presentation = wallet
        .present_sd_jwt(
            cert_id.clone(),
            vec!["/name".into()],
            "https://bank".into(),
            "n".into(),
        )
        .unwrap();
    match bank.verify(presentation.clone(), "https://bank".into(), "n".into()) {
        Err(WalletError::Verification {
            failure: VerificationFailure::StatusUnavailable,
            ..
        }) => {}
        other => panic!("without a status list the verifier cannot decide: {other:?}"),
    }
    bank.add_status_list(URI.into(), token.clone()).unwrap();
    match bank.verify(presentation, "https://bank".into(), "n".into()) {
        Err(WalletError::Verification {
            failure: VerificationFailure::Revoked,
            ..
        }) => {}
        other => panic!("expected Revoked, got {other:?}"),
    }
    let reader = MdocReader::new(ReaderConfig {
        iaca_certificates: vec![authority.root_certificate(TrustRole::MdocIssuer).unwrap()],
        status_list_certificates: vec![status_root.clone()],
        reader_certificate_chain: vec![],
        reader_private_key: None,
        clock: Some(clock.clone()),
        session_state_key: None,
    })
    .unwrap();
    reader.add_status_list(URI.into(), token).unwrap();
    let holder = wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Signature)
        .unwrap();
    let session = reader
        .start_session(
            holder.engagement().unwrap().qr_uri,
            vec![DocumentRequest {
                doc_type: "org.iso.18013.5.1.mDL".into(),
                items: vec![RequestedItem {
                    namespace: "org.iso.18013.5.1".into(),
                    identifier: "age_over_19".into(),
                    intent_to_retain: false,
                }],
            }],
        )
        .unwrap();
    holder.receive(session.request_message()).unwrap();
    let answer = holder
        .respond(vec![Approval {
            document_index: 0,
            credential_id: mdl_id.clone(),
            elements: vec![ElementRef {
                namespace: "org.iso.18013.5.1".into(),
                identifier: "age_over_19".into(),
            }],
        }])
        .unwrap();
    match session.receive(answer) {
        Err(WalletError::Verification {
            failure: VerificationFailure::Suspended,
            ..
        }) => {}
        other => panic!("expected Suspended, got {other:?}"),
    }

    // Reinstating lifts the suspension; revocation is final.
    http.documents
        .lock()
        .unwrap()
        .insert(URI.into(), publish(vec![], StatusListFormat::Jwt));
    clock.0.store(T0 + 1300, Ordering::SeqCst);
    let report = rt
        .block_on(wallet.clone().refresh_status(http.clone()))
        .unwrap();
    assert_eq!(report.changed.len(), 1);
    assert_eq!(
        wallet.get_credential(mdl_id.clone()).unwrap().summary.state,
        CredentialState::Valid
    );
    assert_eq!(
        wallet.get_credential(cert_id).unwrap().summary.state,
        CredentialState::Revoked
    );

    // A network failure or a list from an untrusted signer changes nothing and is reported.
    http.down.store(true, Ordering::SeqCst);
    clock.0.store(T0 + 2000, Ordering::SeqCst);
    let report = rt
        .block_on(wallet.clone().refresh_status(http.clone()))
        .unwrap();
    assert!(
        report.changed.is_empty() && report.failures[0].contains("network unreachable"),
        "{report:?}"
    );
    http.down.store(false, Ordering::SeqCst);
    let stranger =
        TestAuthority::create("Stranger".into(), "KR".into(), Some(clock.clone())).unwrap();
    http.documents.lock().unwrap().insert(
        URI.into(),
        stranger
            .status_list_token(
                URI.into(),
                64,
                vec![StatusValue {
                    index: 6,
                    status: 1,
                }],
                StatusListFormat::Jwt,
                600,
            )
            .unwrap(),
    );
    let report = rt
        .block_on(wallet.clone().refresh_status(http.clone()))
        .unwrap();
    assert!(
        report.changed.is_empty() && report.failures[0].contains("not trusted"),
        "{report:?}"
    );
    assert_eq!(
        wallet.get_credential(mdl_id).unwrap().summary.state,
        CredentialState::Valid
    );
}

#[test]
fn status_fails_closed_on_unknown_values_unreadable_references_and_failed_lists() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let clock = Arc::new(TestClock(AtomicI64::new(T0)));
    let wallet = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        path: None,
        create_if_missing: true,
        key_protector: passphrase_key_protector_with_cost("pw".into(), 10_000).unwrap(),
        secure_area: None,
        clock: Some(clock.clone()),
        listener: None,
    })
    .unwrap();
    let authority =
        TestAuthority::create("Fail Closed".into(), "KR".into(), Some(clock.clone())).unwrap();
    let status_root = authority
        .root_certificate(TrustRole::StatusListIssuer)
        .unwrap();
    wallet
        .add_trust_anchor(TrustRole::StatusListIssuer, status_root.clone())
        .unwrap();
    // Two lists whose URIs share a prefix: /lists/1 will fail, /lists/10 will not.
    let failing = "https://status.jigap.example/lists/1";
    let working = "https://status.jigap.example/lists/10";
    let issue = |uri: &str, index: u64| {
        let key = wallet.create_device_key().unwrap();
        let sd_jwt = authority
            .issue_e_certificate(
                "tax-payment".into(),
                key.public_key,
                r#"{"name":"홍길동","arrears":false}"#.into(),
                Some(StatusListEntry {
                    index,
                    uri: uri.into(),
                }),
            )
            .unwrap();
        wallet.add_sd_jwt(sd_jwt, key.alias).unwrap()
    };
    let on_failing = issue(failing, 1);
    let application_specific = issue(working, 2);
    // An mdoc whose MSO status is not a status reference at all.
    let unreadable = {
        use wallet_core::cose::cbor::Value;
        use wallet_core::issuer::certificates::create_authority;
        use wallet_core::issuer::mdoc::{issue, mdl_claims, MdlFacts, MDL_DOCTYPE};
        use wallet_core::mdoc::issuer_signed::ValidityInfo;
        let domain = create_authority("Unreadable", "KR", T0).unwrap();
        let key = wallet.create_device_key().unwrap();
        let facts = MdlFacts {
            family_name: "Hong".into(),
            given_name: "Gildong".into(),
            birth_date: 7000,
            issue_date: T0 / 86_400,
            expiry_date: T0 / 86_400 + 365,
            issuing_country: "KR".into(),
            issuing_authority: "KNPA".into(),
            document_number: "1".into(),
            portrait: vec![1],
            vehicle_categories: vec!["B".into()],
            un_distinguishing_sign: "ROK".into(),
        };
        let mdl = issue(
            domain.signer(TrustRole::MdocIssuer).unwrap(),
            MDL_DOCTYPE,
            &mdl_claims(&facts),
            &key.public_key,
            ValidityInfo {
                signed: T0,
                valid_from: T0,
                valid_until: T0 + 86_400,
                expected_update: None,
            },
            Some(Value::Text("not a status reference".into())),
        )
        .unwrap();
        wallet.add_mdoc(mdl, key.alias).unwrap()
    };
    let http = Arc::new(Published::default());
    http.documents.lock().unwrap().insert(
        working.into(),
        authority
            .status_list_token(
                working.into(),
                16,
                vec![StatusValue {
                    index: 2,
                    status: 3,
                }],
                StatusListFormat::Jwt,
                60,
            )
            .unwrap(),
    );
    let report = rt
        .block_on(wallet.clone().refresh_status(http.clone()))
        .unwrap();
    // The unreadable reference is a failure, never "no status"; the failed list is reported
    // once, by its exact URI, and does not hide the list that shares its prefix.
    assert_eq!(report.failures.len(), 2, "{report:?}");
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.contains(&unreadable) && f.contains("status")),
        "{report:?}"
    );
    assert!(
        report.failures.iter().any(|f| f.starts_with(failing)),
        "{report:?}"
    );
    assert_eq!(
        wallet.get_credential(on_failing).unwrap().summary.state,
        CredentialState::Valid,
        "a list that could not be read changes nothing"
    );
    // 0x03 (application-specific) is not VALID: the wallet stops using the credential.
    assert_eq!(
        wallet
            .get_credential(application_specific.clone())
            .unwrap()
            .summary
            .state,
        CredentialState::Suspended
    );
    // A verifier refuses it too.
    let bank = SdJwtVerifier::new(SdJwtVerifierConfig {
        trusted_issuer_certificates: vec![authority
            .root_certificate(TrustRole::SdJwtIssuer)
            .unwrap()],
        status_list_certificates: vec![status_root],
        accepted_vcts: vec![],
        require_expiry: true,
        max_key_binding_age_seconds: 300,
        clock_skew_seconds: 60,
        clock: Some(clock.clone()),
    })
    .unwrap();
    bank.add_status_list(
        working.into(),
        http.documents.lock().unwrap()[working].clone(),
    )
    .unwrap();
    wallet
        .update_credential_state(application_specific.clone(), CredentialState::Valid)
        .unwrap();
    let presentation = wallet
        .present_sd_jwt(
            application_specific,
            vec!["/name".into()],
            "https://bank".into(),
            "n".into(),
        )
        .unwrap();
    match bank.verify(presentation, "https://bank".into(), "n".into()) {
        Err(WalletError::Verification {
            failure: VerificationFailure::StatusNotValid,
            ..
        }) => {}
        other => panic!("status 0x03 must not verify: {other:?}"),
    }
    // A status list signed by another role's key is refused by the verifier.
    let ds_signed = decode_status_list(
        http.documents.lock().unwrap()[working].clone(),
        working.into(),
        vec![authority.root_certificate(TrustRole::MdocIssuer).unwrap()],
        T0,
        10,
    );
    assert!(
        matches!(ds_signed, Err(WalletError::Verification { .. })),
        "{ds_signed:?}"
    );
    let decoded = decode_status_list(
        http.documents.lock().unwrap()[working].clone(),
        working.into(),
        vec![authority
            .root_certificate(TrustRole::StatusListIssuer)
            .unwrap()],
        T0,
        10,
    )
    .unwrap();
    assert_eq!(
        decoded.not_valid,
        vec![StatusValue {
            index: 2,
            status: 3
        }]
    );
    assert_eq!((decoded.size, decoded.bits), (16, 2));
}
