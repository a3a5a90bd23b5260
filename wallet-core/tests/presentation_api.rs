//! In-person presentation through the public API, as a host app and a relying party use it:
//! issue into a wallet, engage by QR, request, approve, verify.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use wallet_core::*;

const NOW: i64 = 1_800_000_000;

fn wallet() -> Arc<Wallet> {
    Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        path: None,
        create_if_missing: true,
        key_protector: passphrase_key_protector_with_cost("pw".into(), 10_000).unwrap(),
        secure_area: None,
        clock: Some(fixed_clock(NOW)),
        listener: None,
    })
    .unwrap()
}

fn authority() -> Arc<TestAuthority> {
    TestAuthority::create(
        "Jigap Test".into(),
        "KR".into(),
        Some(fixed_clock(NOW - 60)),
    )
    .unwrap()
}

fn mdl_claims() -> MdlClaims {
    MdlClaims {
        family_name: "홍".into(),
        given_name: "길동".into(),
        birth_date: "2000-02-29".into(),
        document_number: "11-23-456789-01".into(),
        issuing_authority: "경찰청".into(),
        portrait: vec![0xff, 0xd8, 0xff, 0xd9],
        vehicle_categories: vec!["B".into()],
        valid_days: 365,
        status: None,
    }
}

struct Setup {
    wallet: Arc<Wallet>,
    authority: Arc<TestAuthority>,
    mdl_id: String,
}

fn setup() -> Setup {
    let wallet = wallet();
    let authority = authority();
    let key = wallet.create_device_key().unwrap();
    let mdl = authority
        .issue_mdl(key.public_key.clone(), mdl_claims())
        .unwrap();
    let mdl_id = wallet.add_mdoc(mdl, key.alias).unwrap();
    wallet
        .add_trust_anchor(
            TrustRole::MdocReader,
            authority.root_certificate(TrustRole::MdocReader).unwrap(),
        )
        .unwrap();
    Setup {
        wallet,
        authority,
        mdl_id,
    }
}

fn reader(authority: &TestAuthority, signed: bool) -> Arc<MdocReader> {
    MdocReader::new(ReaderConfig {
        iaca_certificates: vec![authority.root_certificate(TrustRole::MdocIssuer).unwrap()],
        status_list_certificates: vec![],
        reader_certificate_chain: if signed {
            vec![authority.signer_certificate(TrustRole::MdocReader).unwrap()]
        } else {
            vec![]
        },
        reader_private_key: signed.then(|| authority.signer_key(TrustRole::MdocReader).unwrap()),
        clock: Some(fixed_clock(NOW)),
        session_state_key: Some(vec![0x5a; 32]),
    })
    .unwrap()
}

fn item(id: &str) -> RequestedItem {
    RequestedItem {
        namespace: "org.iso.18013.5.1".into(),
        identifier: id.into(),
        intent_to_retain: false,
    }
}

fn mdl_request(ids: &[&str]) -> DocumentRequest {
    DocumentRequest {
        doc_type: "org.iso.18013.5.1.mDL".into(),
        items: ids.iter().map(|i| item(i)).collect(),
    }
}

fn documents(event: PresentationEvent) -> Vec<RequestedDocument> {
    match event {
        PresentationEvent::Request { documents, .. } => documents,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn report(event: ReaderEvent) -> VerificationReport {
    match event {
        ReaderEvent::Response { report } => report,
        other => panic!("expected a response, got {other:?}"),
    }
}

#[test]
fn age_over_19_only_from_qr_to_verified_report() {
    let s = setup();
    let stored = s.wallet.get_credential(s.mdl_id.clone()).unwrap();
    assert_eq!(stored.summary.display_name_ko, "모바일 운전면허증");
    assert!(stored.summary.issuer.contains("Jigap Test Document Signer"));

    let holder = s
        .wallet
        .clone()
        .start_presentation(
            vec![RetrievalMethod::Ble {
                peripheral_server_uuid: Some(vec![7; 16]),
                central_client_uuid: None,
            }],
            DeviceAuthMode::Signature,
        )
        .unwrap();
    let engagement = holder.engagement().unwrap();
    assert!(engagement.qr_uri.starts_with("mdoc:"));

    let session = reader(&s.authority, true)
        .start_session(
            engagement.qr_uri,
            vec![mdl_request(&["age_over_19", "family_name", "birth_date"])],
        )
        .unwrap();
    let docs = documents(holder.receive(session.request_message()).unwrap());
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    assert_eq!(doc.matching_credentials, vec![s.mdl_id.clone()]);
    let reader_info = doc.reader.as_ref().unwrap();
    assert!(reader_info.trusted, "{reader_info:?}");
    assert!(reader_info.subject.contains("Jigap Test Reader"));
    assert!(doc.elements.iter().all(|e| e.available));

    let answer = holder
        .respond(vec![Approval {
            document_index: 0,
            credential_id: s.mdl_id.clone(),
            elements: vec![ElementRef {
                namespace: "org.iso.18013.5.1".into(),
                identifier: "age_over_19".into(),
            }],
        }])
        .unwrap();
    let report = report(session.receive(answer).unwrap());
    assert_eq!(report.status, 0);
    let mdl = &report.documents[0];
    assert_eq!(mdl.elements.len(), 1);
    assert_eq!(
        (
            mdl.elements[0].identifier.as_str(),
            mdl.elements[0].display.as_str()
        ),
        ("age_over_19", "true")
    );
    assert_eq!(mdl.elements[0].value_cbor, vec![0xf5]);
    assert_eq!(mdl.device_authentication, DeviceAuthMode::Signature);
    assert_eq!(mdl.issuing_country.as_deref(), Some("KR"));
    assert_eq!(mdl.not_returned.len(), 2);

    // Either side ends the session.
    let end = holder.terminate().unwrap();
    assert_eq!(session.receive(end).unwrap(), ReaderEvent::Terminated);
}

#[test]
fn mac_mode_two_documents_and_a_missing_one() {
    let s = setup();
    let key = s.wallet.create_device_key().unwrap();
    let card = s
        .authority
        .issue_resident_card(
            key.public_key.clone(),
            ResidentCardClaims {
                name_ko: "홍길동".into(),
                resident_registration_number: "000229-3123456".into(),
                birth_date: "2000-02-29".into(),
                address: "서울특별시 종로구 세종대로 209".into(),
                issuing_authority: "서울특별시 종로구청장".into(),
                portrait: vec![0xff, 0xd8, 0xff, 0xd9],
                valid_days: 30,
                status: None,
            },
        )
        .unwrap();
    let card_id = s.wallet.add_mdoc(card, key.alias).unwrap();
    assert_eq!(
        s.wallet
            .get_credential(card_id.clone())
            .unwrap()
            .summary
            .display_name_en,
        "Mobile resident registration card"
    );

    let holder = s
        .wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Mac)
        .unwrap();
    let ns = "kr.jigap.mdoc.resident-registration.1";
    // This unsigned reader may have the given name: the host's policy allows it to
    // unauthenticated readers (by default they get only age predicates and portraits).
    let mut policy = s.wallet.disclosure_policy().unwrap();
    policy.unauthenticated_allowed.push("given_name".into());
    s.wallet.set_disclosure_policy(policy).unwrap();
    let session = reader(&s.authority, false)
        .start_session(
            holder.engagement().unwrap().qr_uri,
            vec![
                mdl_request(&["given_name"]),
                DocumentRequest {
                    doc_type: ns.into(),
                    items: vec![RequestedItem {
                        namespace: ns.into(),
                        identifier: "age_over_19".into(),
                        intent_to_retain: true,
                    }],
                },
                DocumentRequest {
                    doc_type: "org.iso.23220.photoid.1".into(),
                    items: vec![item("x")],
                },
            ],
        )
        .unwrap();
    let docs = documents(holder.receive(session.request_message()).unwrap());
    assert_eq!(docs.len(), 3);
    assert!(docs[0].reader.is_none(), "unsigned request");
    assert!(docs[1].elements[0].intent_to_retain);
    assert!(docs[2].matching_credentials.is_empty());

    // Releasing something not requested is refused, and the request stays answerable.
    let sneaky = holder.respond(vec![Approval {
        document_index: 0,
        credential_id: s.mdl_id.clone(),
        elements: vec![ElementRef {
            namespace: "org.iso.18013.5.1".into(),
            identifier: "portrait".into(),
        }],
    }]);
    assert!(matches!(sneaky, Err(WalletError::InvalidInput { .. })));
    // The wrong credential for a document is refused too.
    assert!(matches!(
        holder.respond(vec![Approval {
            document_index: 1,
            credential_id: s.mdl_id.clone(),
            elements: vec![]
        }]),
        Err(WalletError::InvalidInput { .. })
    ));

    let answer = holder
        .respond(vec![
            Approval {
                document_index: 0,
                credential_id: s.mdl_id.clone(),
                elements: vec![ElementRef {
                    namespace: "org.iso.18013.5.1".into(),
                    identifier: "given_name".into(),
                }],
            },
            Approval {
                document_index: 1,
                credential_id: card_id,
                elements: vec![ElementRef {
                    namespace: ns.into(),
                    identifier: "age_over_19".into(),
                }],
            },
        ])
        .unwrap();
    let report = report(session.receive(answer).unwrap());
    assert_eq!(report.documents.len(), 2);
    assert!(report
        .documents
        .iter()
        .all(|d| d.device_authentication == DeviceAuthMode::Mac));
    assert_eq!(report.documents[0].elements[0].display, "길동");
    assert_eq!(
        report.document_errors,
        vec![DocumentError {
            doc_type: "org.iso.23220.photoid.1".into(),
            code: 0
        }]
    );
}

#[test]
fn reader_rejects_an_untrusted_issuer_and_holder_flags_an_untrusted_reader() {
    let s = setup();
    let stranger =
        TestAuthority::create("Stranger".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    let holder = s
        .wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Signature)
        .unwrap();
    // The stranger's reader signs its request, but the wallet does not trust its root.
    let session = reader(&stranger, true)
        .start_session(
            holder.engagement().unwrap().qr_uri,
            vec![mdl_request(&["age_over_19"])],
        )
        .unwrap();
    let docs = documents(holder.receive(session.request_message()).unwrap());
    let info = docs[0].reader.clone().unwrap();
    assert!(!info.trusted && info.problem.is_some(), "{info:?}");
    let answer = holder
        .respond(vec![Approval {
            document_index: 0,
            credential_id: s.mdl_id.clone(),
            elements: vec![ElementRef {
                namespace: "org.iso.18013.5.1".into(),
                identifier: "age_over_19".into(),
            }],
        }])
        .unwrap();
    // And the stranger's reader does not trust our issuer.
    match session.receive(answer) {
        Err(WalletError::Verification {
            failure: VerificationFailure::UntrustedIssuer,
            ..
        }) => {}
        other => panic!("expected UntrustedIssuer, got {other:?}"),
    }
}

#[test]
fn locked_wallets_and_bad_inputs() {
    let s = setup();
    // An mdoc bound to another key is refused.
    let other = s.wallet.create_device_key().unwrap();
    let foreign = s
        .authority
        .issue_mdl(other.public_key.clone(), mdl_claims())
        .unwrap();
    let mine = s.wallet.create_device_key().unwrap();
    assert!(matches!(
        s.wallet.add_mdoc(foreign, mine.alias.clone()),
        Err(WalletError::InvalidInput { .. })
    ));
    assert!(matches!(
        s.wallet.add_mdoc(vec![0xa0], mine.alias),
        Err(WalletError::Verification {
            failure: VerificationFailure::Malformed,
            ..
        })
    ));
    assert!(matches!(
        s.wallet
            .add_trust_anchor(TrustRole::MdocIssuer, vec![1, 2, 3]),
        Err(WalletError::InvalidInput { .. })
    ));
    // A reader certificate is not a trust anchor.
    assert!(matches!(
        s.wallet.add_trust_anchor(
            TrustRole::MdocReader,
            s.authority
                .signer_certificate(TrustRole::MdocReader)
                .unwrap()
        ),
        Err(WalletError::InvalidInput { .. })
    ));
    assert_eq!(
        s.wallet
            .list_trust_anchors(Some(TrustRole::MdocReader))
            .unwrap()
            .len(),
        1
    );

    let holder = s
        .wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Signature)
        .unwrap();
    assert!(
        matches!(
            holder.respond(vec![]),
            Err(WalletError::InvalidInput { .. })
        ),
        "nothing to answer yet"
    );
    assert!(matches!(
        holder.receive(vec![0x00]),
        Err(WalletError::Verification {
            failure: VerificationFailure::Malformed,
            ..
        })
    ));
    s.wallet.set_pin("123456".into()).unwrap();
    s.wallet.lock().unwrap();
    assert!(matches!(
        s.wallet
            .clone()
            .start_presentation(vec![], DeviceAuthMode::Signature),
        Err(WalletError::Locked)
    ));
    let session = reader(&s.authority, true)
        .start_session(
            holder.engagement().unwrap().qr_uri,
            vec![mdl_request(&["age_over_19"])],
        )
        .unwrap();
    assert!(matches!(
        holder.receive(session.request_message()),
        Err(WalletError::Locked)
    ));
    assert!(matches!(
        reader(&s.authority, true).start_session("http://x".into(), vec![mdl_request(&["a"])]),
        Err(WalletError::Verification { .. })
    ));
    assert!(matches!(
        reader(&s.authority, true).start_session("mdoc:x".into(), vec![]),
        Err(WalletError::InvalidInput { .. })
    ));
}

#[test]
fn a_reader_session_continues_from_saved_state() {
    let s = setup();
    let holder = s
        .wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Signature)
        .unwrap();
    let reader = reader(&s.authority, true);
    let session = reader
        .start_session(
            holder.engagement().unwrap().qr_uri,
            vec![mdl_request(&["age_over_21"])],
        )
        .unwrap();
    let request = session.request_message();
    let state = session.save_state().unwrap();
    drop(session);
    holder.receive(request).unwrap();
    let answer = holder
        .respond(vec![Approval {
            document_index: 0,
            credential_id: s.mdl_id.clone(),
            elements: vec![ElementRef {
                namespace: "org.iso.18013.5.1".into(),
                identifier: "age_over_21".into(),
            }],
        }])
        .unwrap();
    let resumed = reader.resume_session(state).unwrap();
    let report = report(resumed.receive(answer).unwrap());
    assert_eq!(report.documents[0].elements[0].display, "true");
    assert!(matches!(
        reader.resume_session(vec![0xa0]),
        Err(WalletError::Verification { .. })
    ));
    // The saved state is sealed: another reader's key does not open it, and a reader without
    // a state key cannot save its session at all.
    let session = reader
        .start_session(
            s.wallet
                .clone()
                .start_presentation(vec![], DeviceAuthMode::Signature)
                .unwrap()
                .engagement()
                .unwrap()
                .qr_uri,
            vec![mdl_request(&["age_over_21"])],
        )
        .unwrap();
    let sealed = session.save_state().unwrap();
    let other = MdocReader::new(ReaderConfig {
        iaca_certificates: vec![s.authority.root_certificate(TrustRole::MdocIssuer).unwrap()],
        status_list_certificates: vec![],
        reader_certificate_chain: vec![],
        reader_private_key: None,
        clock: Some(fixed_clock(NOW)),
        session_state_key: Some(vec![0x33; 32]),
    })
    .unwrap();
    assert!(matches!(
        other.resume_session(sealed),
        Err(WalletError::Verification {
            failure: VerificationFailure::Decryption,
            ..
        })
    ));
    let keyless = MdocReader::new(ReaderConfig {
        iaca_certificates: vec![s.authority.root_certificate(TrustRole::MdocIssuer).unwrap()],
        status_list_certificates: vec![],
        reader_certificate_chain: vec![],
        reader_private_key: None,
        clock: Some(fixed_clock(NOW)),
        session_state_key: None,
    })
    .unwrap();
    let session = keyless
        .start_session(
            s.wallet
                .clone()
                .start_presentation(vec![], DeviceAuthMode::Signature)
                .unwrap()
                .engagement()
                .unwrap()
                .qr_uri,
            vec![mdl_request(&["age_over_21"])],
        )
        .unwrap();
    assert!(matches!(
        session.save_state(),
        Err(WalletError::InvalidInput { .. })
    ));
}

#[test]
fn a_device_response_verifies_on_its_own_against_what_was_asked() {
    let s = setup();
    let holder = s
        .wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Signature)
        .unwrap();
    let reader = reader(&s.authority, true);
    let asked = vec![mdl_request(&["age_over_21", "family_name"])];
    let session = reader
        .start_session(holder.engagement().unwrap().qr_uri, asked.clone())
        .unwrap();
    assert!(session.last_device_response().is_none());
    holder.receive(session.request_message()).unwrap();
    let answer = holder
        .respond(vec![Approval {
            document_index: 0,
            credential_id: s.mdl_id.clone(),
            elements: vec![ElementRef {
                namespace: "org.iso.18013.5.1".into(),
                identifier: "age_over_21".into(),
            }],
        }])
        .unwrap();
    report(session.receive(answer).unwrap());
    let response = session.last_device_response().unwrap();
    let transcript = session.session_transcript().unwrap();
    let again = reader
        .verify_device_response(response.clone(), transcript.clone(), asked)
        .unwrap();
    assert_eq!(again.documents[0].elements[0].identifier, "age_over_21");
    // Checked against a request that did not ask for it: refused.
    assert!(matches!(
        reader.verify_device_response(
            response.clone(),
            transcript.clone(),
            vec![mdl_request(&["family_name"])]
        ),
        Err(WalletError::Verification {
            failure: VerificationFailure::NotRequested,
            ..
        })
    ));
    // Against another session's transcript: device authentication fails.
    let other_session = reader
        .start_session(
            s.wallet
                .clone()
                .start_presentation(vec![], DeviceAuthMode::Signature)
                .unwrap()
                .engagement()
                .unwrap()
                .qr_uri,
            vec![mdl_request(&["age_over_21"])],
        )
        .unwrap();
    assert!(matches!(
        reader.verify_device_response(
            response,
            other_session.session_transcript().unwrap(),
            vec![mdl_request(&["age_over_21"])]
        ),
        Err(WalletError::Verification {
            failure: VerificationFailure::DeviceAuthentication,
            ..
        })
    ));
}

#[test]
fn altered_or_badly_signed_mdocs_are_refused_before_storage() {
    let wallet = wallet();
    let authority = authority();
    let key = wallet.create_device_key().unwrap();
    let mdl = authority
        .issue_mdl(key.public_key.clone(), mdl_claims())
        .unwrap();
    let failure = |bytes: Vec<u8>| match wallet.add_mdoc(bytes, key.alias.clone()) {
        Err(WalletError::Verification { failure, .. }) => failure,
        other => panic!("expected a verification failure, got {other:?}"),
    };

    // One element value changed after signing (same length, so the CBOR stays well formed).
    let family = "홍".as_bytes();
    let at = mdl.windows(family.len()).position(|w| w == family).unwrap();
    let mut altered = mdl.clone();
    altered[at..at + family.len()].copy_from_slice("김".as_bytes());
    assert_eq!(failure(altered), VerificationFailure::DigestMismatch);

    // A bit flipped inside the issuer's signature.
    let signature = wallet_core::mdoc::issuer_signed::IssuerSigned::parse(&mdl)
        .unwrap()
        .issuer_auth
        .signature;
    let at = mdl
        .windows(signature.len())
        .position(|w| w == signature.as_slice())
        .unwrap();
    let mut forged = mdl.clone();
    forged[at + 7] ^= 0x01;
    assert_eq!(failure(forged), VerificationFailure::IssuerSignature);

    assert_eq!(
        wallet.status().unwrap().credential_count,
        Some(0),
        "nothing stored"
    );
    wallet.add_mdoc(mdl, key.alias.clone()).unwrap();
    assert_eq!(wallet.status().unwrap().credential_count, Some(1));
}

/// The host's side of an NFC tap and transfer, as a card emulation service and a reader's NFC
/// stack would run it: every APDU through the exported objects, the consent step in between.
#[test]
fn by_nfc_tap_engagement_and_transfer_through_the_api() {
    let s = setup();
    let holder = s
        .wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Signature)
        .unwrap();
    let link = holder.start_nfc_engagement(255, 256, None).unwrap();

    // The reader taps: it reads the Handover Select off the tag.
    let tag = NfcEngagementReader::new(false).unwrap();
    let mut command = tag.first_command();
    let select = loop {
        let NfcHolderStep::Respond { apdu } = link.process_apdu(command).unwrap() else {
            panic!("the tag answers engagement commands itself")
        };
        match tag.on_response(apdu).unwrap() {
            NfcReaderStep::Send { apdu } => command = apdu,
            NfcReaderStep::Done { message } => break message,
        }
    };
    assert_eq!(select, link.handover_select().unwrap());
    assert_eq!(ble_carrier_of(select.clone()).unwrap(), None);
    // The tag announces NFC data transfer with the limits its host gave.
    let limits = nfc_carrier_of(select.clone()).unwrap().unwrap();
    assert_eq!(
        (limits.max_command_data, limits.max_response_data),
        (255, 256)
    );
    let session = reader(&s.authority, true)
        .start_nfc_session(select, vec![mdl_request(&["age_over_19", "family_name"])])
        .unwrap();

    // The transfer, on NFC: the request goes in ENVELOPEs, the answer comes back in chunks.
    let transfer = NfcTransferReader::new(false, limits.max_command_data).unwrap();
    let NfcHolderStep::Respond { apdu } = link.process_apdu(transfer.select_command()).unwrap()
    else {
        panic!()
    };
    transfer.on_selected(apdu).unwrap();
    let mut command = transfer.send(session.request_message()).unwrap();
    let answer = loop {
        let response = match link.process_apdu(command).unwrap() {
            NfcHolderStep::Respond { apdu } => apdu,
            NfcHolderStep::Message { message } => {
                let docs = documents(holder.receive(message).unwrap());
                assert!(docs[0].reader.as_ref().unwrap().trusted);
                let reply = holder
                    .respond(vec![Approval {
                        document_index: 0,
                        credential_id: s.mdl_id.clone(),
                        elements: vec![ElementRef {
                            namespace: "org.iso.18013.5.1".into(),
                            identifier: "age_over_19".into(),
                        }],
                    }])
                    .unwrap();
                link.reply(reply).unwrap()
            }
        };
        match transfer.on_response(response).unwrap() {
            NfcReaderStep::Send { apdu } => command = apdu,
            NfcReaderStep::Done { message } => break message,
        }
    };
    // The device signature covers the NFC handover: it verifies only over that transcript.
    let report = report(session.receive(answer).unwrap());
    assert_eq!(report.documents[0].elements[0].identifier, "age_over_19");
    assert_eq!(
        report.documents[0].device_authentication,
        DeviceAuthMode::Signature
    );

    // The handover is fixed once the session is under way.
    assert!(holder.start_nfc_engagement(255, 256, None).is_err());
    // A Handover Select without an engagement, or garbage, is refused by the reader.
    assert!(reader(&s.authority, true)
        .start_nfc_session(
            vec![0xd1, 0x02, 0x01, b'H', b's', 0x15],
            vec![mdl_request(&["age_over_19"])]
        )
        .is_err());
    assert!(
        NfcTransferReader::new(false, 255)
            .unwrap()
            .send(vec![1])
            .is_err(),
        "nothing is sent before the application is selected"
    );
}

/// An NFC tap that hands over to BLE, and the transfer over BLE at the smallest MTU.
#[test]
fn by_nfc_tap_then_ble_through_the_api() {
    let s = setup();
    let holder = s
        .wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Mac)
        .unwrap();
    let uuid = vec![
        0x45, 0xef, 0xef, 0x74, 0x2b, 0x2c, 0x48, 0x37, 0xa9, 0xa3, 0xb0, 0xe1, 0xd0, 0x5a, 0x69,
        0x17,
    ];
    let carrier = BleCarrier {
        uuid: uuid.clone(),
        peripheral_server: true,
        address: None,
    };
    let link = holder
        .start_nfc_engagement(65_535, 65_536, Some(carrier.clone()))
        .unwrap();
    let tag = NfcEngagementReader::new(true).unwrap();
    let mut command = tag.first_command();
    let select = loop {
        let NfcHolderStep::Respond { apdu } = link.process_apdu(command).unwrap() else {
            panic!()
        };
        match tag.on_response(apdu).unwrap() {
            NfcReaderStep::Send { apdu } => command = apdu,
            NfcReaderStep::Done { message } => break message,
        }
    };
    assert_eq!(ble_carrier_of(select.clone()).unwrap(), Some(carrier));
    let session = reader(&s.authority, false)
        .start_nfc_session(select, vec![mdl_request(&["age_over_19", "portrait"])])
        .unwrap();

    // The reader checks the peripheral's Ident, then both sides frame for MTU 23.
    let engagement = holder.engagement().unwrap().device_engagement;
    check_ble_ident(engagement.clone(), ble_ident(engagement.clone()).unwrap()).unwrap();
    assert!(check_ble_ident(engagement, vec![0; 16]).is_err());
    let reader_side = BleTransport::new(23).unwrap();
    let holder_side = BleTransport::new(23).unwrap();
    assert!(BleTransport::new(22).is_err());
    assert_eq!(
        holder_side.on_state(reader_side.start().unwrap()).unwrap(),
        BleStateChange::Started
    );
    let mut request = None;
    for write in reader_side.outgoing(session.request_message()).unwrap() {
        request = holder_side.on_data(write).unwrap().or(request);
    }
    let docs = documents(holder.receive(request.unwrap()).unwrap());
    assert!(docs[0].reader.is_none(), "an unsigned request");
    let reply = holder
        .respond(vec![Approval {
            document_index: 0,
            credential_id: s.mdl_id.clone(),
            elements: vec![ElementRef {
                namespace: "org.iso.18013.5.1".into(),
                // An unauthenticated reader: the policy's allowance (age predicates, portrait).
                identifier: "portrait".into(),
            }],
        }])
        .unwrap();
    let notifications = holder_side.outgoing(reply).unwrap();
    assert!(notifications.iter().all(|n| n.len() <= 20));
    let mut answer = None;
    for notification in notifications {
        answer = reader_side.on_data(notification).unwrap().or(answer);
    }
    let report = report(session.receive(answer.unwrap()).unwrap());
    assert_eq!(report.documents[0].elements[0].identifier, "portrait");
    assert_eq!(
        report.documents[0].device_authentication,
        DeviceAuthMode::Mac
    );
    let end = holder.terminate().unwrap();
    let mut ended = None;
    for notification in holder_side.outgoing(end).unwrap() {
        ended = reader_side.on_data(notification).unwrap().or(ended);
    }
    assert_eq!(
        session.receive(ended.unwrap()).unwrap(),
        ReaderEvent::Terminated
    );
    assert_eq!(
        holder_side.on_state(reader_side.end().unwrap()).unwrap(),
        BleStateChange::Ended
    );
    assert!(holder_side.on_data(vec![0, 1]).is_err());
}

/// A session over a BLE L2CAP channel: the reader reads the PSM, both sides frame messages
/// with their length, and the host's socket returns the bytes in whatever chunks it likes.
#[test]
fn over_a_ble_l2cap_channel_through_the_api() {
    let s = setup();
    let holder = s
        .wallet
        .clone()
        .start_presentation(
            vec![RetrievalMethod::Ble {
                peripheral_server_uuid: Some(vec![7; 16]),
                central_client_uuid: None,
            }],
            DeviceAuthMode::Signature,
        )
        .unwrap();
    let session = reader(&s.authority, true)
        .start_session(
            holder.engagement().unwrap().qr_uri,
            vec![mdl_request(&["age_over_19", "family_name", "portrait"])],
        )
        .unwrap();
    // The holder publishes its PSM; the reader reads it and opens the channel.
    let psm = l2cap_psm_of(l2cap_psm_value(0x80).unwrap()).unwrap();
    assert_eq!(psm, 0x80);
    assert!(l2cap_psm_of(vec![0x80, 0x00]).is_err());
    let (reader_side, holder_side) = (BleL2capChannel::new(), BleL2capChannel::new());
    // The socket hands over 7 bytes at a time.
    let carry = |from: &BleL2capChannel, to: &BleL2capChannel, message: Vec<u8>| {
        let bytes = from.outgoing(message).unwrap();
        let mut got = Vec::new();
        for chunk in bytes.chunks(7) {
            got.extend(to.on_bytes(chunk.to_vec()).unwrap());
        }
        assert_eq!(got.len(), 1);
        got.remove(0)
    };
    let request = carry(&reader_side, &holder_side, session.request_message());
    documents(holder.receive(request).unwrap());
    let reply = holder
        .respond(vec![Approval {
            document_index: 0,
            credential_id: s.mdl_id.clone(),
            elements: ["age_over_19", "family_name", "portrait"]
                .iter()
                .map(|e| ElementRef {
                    namespace: "org.iso.18013.5.1".into(),
                    identifier: (*e).into(),
                })
                .collect(),
        }])
        .unwrap();
    let answer = carry(&holder_side, &reader_side, reply);
    let report = report(session.receive(answer).unwrap());
    assert_eq!(report.documents[0].elements.len(), 3);
    // No State characteristic on L2CAP: the session ends with its status, then the channel.
    let end = carry(&holder_side, &reader_side, holder.terminate().unwrap());
    assert_eq!(session.receive(end).unwrap(), ReaderEvent::Terminated);
    reader_side.on_channel_closed().unwrap();
    assert!(reader_side.outgoing(vec![1]).is_err(), "closed");
    // A channel that closes inside a message says so.
    let cut = BleL2capChannel::new();
    assert!(cut.on_bytes(vec![0, 0, 0, 9, 1, 2]).unwrap().is_empty());
    assert!(cut.on_channel_closed().is_err());
}

/// A clock the test moves.
struct MovingClock(std::sync::atomic::AtomicI64);

impl Clock for MovingClock {
    fn now_unix_seconds(&self) -> Result<i64, WalletError> {
        Ok(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// The host sets a time limit; once it has passed, the session ends with status 20 for the
/// reader, the waiting request is recorded as declined, and nothing more is answered.
#[test]
fn a_session_ends_when_the_hosts_time_limit_passes() {
    use std::sync::atomic::Ordering;
    let clock = Arc::new(MovingClock(std::sync::atomic::AtomicI64::new(NOW)));
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
    let authority = authority();
    let key = wallet.create_device_key().unwrap();
    let mdl_id = wallet
        .add_mdoc(
            authority.issue_mdl(key.public_key, mdl_claims()).unwrap(),
            key.alias,
        )
        .unwrap();
    let approval = || Approval {
        document_index: 0,
        credential_id: mdl_id.clone(),
        elements: vec![ElementRef {
            namespace: "org.iso.18013.5.1".into(),
            identifier: "age_over_19".into(),
        }],
    };

    // Within the limit, everything works.
    let holder = wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Signature)
        .unwrap();
    holder.set_time_limit(30).unwrap();
    let session = reader(&authority, false)
        .start_session(
            holder.engagement().unwrap().qr_uri,
            vec![mdl_request(&["age_over_19"])],
        )
        .unwrap();
    clock.0.store(NOW + 20, Ordering::SeqCst);
    documents(holder.receive(session.request_message()).unwrap());
    report(
        session
            .receive(holder.respond(vec![approval()]).unwrap())
            .unwrap(),
    );

    // Past it, the answer is refused and the reader gets the termination.
    let holder = wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Signature)
        .unwrap();
    holder.set_time_limit(30).unwrap();
    let session = reader(&authority, false)
        .start_session(
            holder.engagement().unwrap().qr_uri,
            vec![mdl_request(&["age_over_19"])],
        )
        .unwrap();
    documents(holder.receive(session.request_message()).unwrap());
    clock.0.store(NOW + 20 + 31, Ordering::SeqCst);
    assert!(matches!(
        holder.respond(vec![approval()]),
        Err(WalletError::Timeout { .. })
    ));
    let end = holder.failure_message().unwrap().expect("the termination");
    assert_eq!(session.receive(end).unwrap(), ReaderEvent::Terminated);
    assert_eq!(holder.failure_message().unwrap(), None, "given once");
    assert!(
        holder.respond(vec![approval()]).is_err(),
        "nothing more is answered"
    );
    assert!(holder.set_time_limit(30).is_err(), "the session is over");
    let declined = wallet
        .list_journal(JournalFilter::default(), 0, 50)
        .unwrap()
        .entries
        .into_iter()
        .filter(|e| e.details_json.contains("time limit"))
        .count();
    assert_eq!(declined, 1, "the unanswered request is recorded");
}

/// A reader message that does not decrypt or does not decode ends the holder's session with
/// the status the reader must get (10 or 11); nothing stays half open.
#[test]
fn a_damaged_message_ends_the_session_with_its_status() {
    let s = setup();
    let holder = s
        .wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Signature)
        .unwrap();
    let session = reader(&s.authority, true)
        .start_session(
            holder.engagement().unwrap().qr_uri,
            vec![mdl_request(&["age_over_19"])],
        )
        .unwrap();
    assert_eq!(holder.failure_message().unwrap(), None);
    let mut damaged = session.request_message();
    let at = damaged.len() - 3;
    damaged[at] ^= 1;
    assert!(matches!(
        holder.receive(damaged),
        Err(WalletError::Verification {
            failure: VerificationFailure::Decryption,
            ..
        })
    ));
    let status = holder.failure_message().unwrap().unwrap();
    // SessionData {"status": 10}
    assert_eq!(
        status,
        [0xa1, 0x66, b's', b't', b'a', b't', b'u', b's', 0x0a]
    );
    assert_eq!(holder.failure_message().unwrap(), None, "once");
    assert!(matches!(
        session.receive(status),
        Err(WalletError::Verification {
            failure: VerificationFailure::SessionStatus,
            ..
        })
    ));
    assert!(holder.receive(session.request_message()).is_err(), "over");
    assert_eq!(holder.failure_message().unwrap(), None);

    // Bytes that are not a session message: status 11.
    let other = s
        .wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Signature)
        .unwrap();
    assert!(other.receive(vec![0x00]).is_err());
    assert_eq!(
        other.failure_message().unwrap().unwrap(),
        [0xa1, 0x66, b's', b't', b'a', b't', b'u', b's', 0x0b]
    );
}

/// Negotiated handover (TNEP) through the API: the reader writes its Handover Request, the
/// tag answers with the Handover Select, and both go into each side's transcript.
#[test]
fn by_nfc_tap_with_negotiated_handover_through_the_api() {
    let s = setup();
    let holder = s
        .wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Signature)
        .unwrap();
    let uuid = vec![9; 16];
    let link = holder
        .clone()
        .start_nfc_negotiated_engagement(
            255,
            256,
            Some(BleCarrier {
                uuid: uuid.clone(),
                peripheral_server: true,
                address: None,
            }),
        )
        .unwrap();
    assert!(
        link.handover_select().unwrap().is_empty(),
        "not yet negotiated"
    );
    let tag = NfcEngagementReader::negotiating(
        false,
        Some(BleCarrier {
            uuid: uuid.clone(),
            peripheral_server: false,
            address: None,
        }),
    )
    .unwrap();
    let mut command = tag.first_command();
    let mut apdus = 0;
    let select = loop {
        apdus += 1;
        let NfcHolderStep::Respond { apdu } = link.process_apdu(command).unwrap() else {
            panic!()
        };
        match tag.on_response(apdu).unwrap() {
            NfcReaderStep::Send { apdu } => command = apdu,
            NfcReaderStep::Done { message } => break message,
        }
    };
    assert!(
        apdus > 10,
        "select, CC, TNEP select and status, request, select: {apdus}"
    );
    assert_eq!(link.handover_select().unwrap(), select);
    let handover = tag.handover(select).unwrap();
    assert!(handover.request.is_some());
    assert_eq!(
        ble_carrier_of(handover.select.clone())
            .unwrap()
            .unwrap()
            .uuid,
        uuid
    );
    // The reader offered NFC too, so the negotiated Handover Select carries it with its limits.
    assert_eq!(
        nfc_carrier_of(handover.select.clone()).unwrap(),
        Some(NfcCarrierLimits {
            max_command_data: 255,
            max_response_data: 256
        })
    );
    let session = reader(&s.authority, true)
        .start_nfc_handover_session(handover, vec![mdl_request(&["age_over_19"])])
        .unwrap();
    let transfer = NfcTransferReader::new(false, 255).unwrap();
    let NfcHolderStep::Respond { apdu } = link.process_apdu(transfer.select_command()).unwrap()
    else {
        panic!()
    };
    transfer.on_selected(apdu).unwrap();
    let mut command = transfer.send(session.request_message()).unwrap();
    let answer = loop {
        let response = match link.process_apdu(command).unwrap() {
            NfcHolderStep::Respond { apdu } => apdu,
            NfcHolderStep::Message { message } => {
                let docs = documents(holder.receive(message).unwrap());
                let reply = holder
                    .respond(vec![Approval {
                        document_index: 0,
                        credential_id: s.mdl_id.clone(),
                        elements: vec![ElementRef {
                            namespace: "org.iso.18013.5.1".into(),
                            identifier: docs[0].elements[0].identifier.clone(),
                        }],
                    }])
                    .unwrap();
                link.reply(reply).unwrap()
            }
        };
        match transfer.on_response(response).unwrap() {
            NfcReaderStep::Send { apdu } => command = apdu,
            NfcReaderStep::Done { message } => break message,
        }
    };
    // Verified over the transcript with both handover messages.
    let report = report(session.receive(answer).unwrap());
    assert_eq!(report.documents[0].elements[0].identifier, "age_over_19");
}

/// The mDL and the resident card asked for together, each with its own consent, then a second
/// request in the same session, answered and verified over the same transcript.
#[test]
fn two_documents_with_their_own_consent_then_a_second_request_in_one_session() {
    let s = setup();
    let key = s.wallet.create_device_key().unwrap();
    let card = s
        .authority
        .issue_resident_card(
            key.public_key.clone(),
            ResidentCardClaims {
                name_ko: "홍길동".into(),
                resident_registration_number: "000229-3234567".into(),
                birth_date: "2000-02-29".into(),
                address: "서울특별시 종로구".into(),
                issuing_authority: "종로구청".into(),
                portrait: vec![0xff, 0xd8, 0xff, 0xd9],
                valid_days: 365,
                status: None,
            },
        )
        .unwrap();
    let card_id = s.wallet.add_mdoc(card, key.alias).unwrap();
    let holder = s
        .wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Signature)
        .unwrap();
    let card_ns = "kr.jigap.mdoc.resident-registration.1";
    let session = reader(&s.authority, true)
        .start_session(
            holder.engagement().unwrap().qr_uri,
            vec![
                mdl_request(&["age_over_19", "family_name"]),
                DocumentRequest {
                    doc_type: card_ns.into(),
                    items: vec![RequestedItem {
                        namespace: card_ns.into(),
                        identifier: "name_ko".into(),
                        intent_to_retain: false,
                    }],
                },
            ],
        )
        .unwrap();
    let PresentationEvent::Request { disclosure, .. } =
        holder.receive(session.request_message()).unwrap()
    else {
        panic!("expected a request")
    };
    // One consent screen, a decision per document: the mDL's age, the card's name.
    assert_eq!(disclosure.documents.len(), 2);
    assert_eq!(
        disclosure.documents[1].credential_ids,
        vec![card_id.clone()]
    );
    let answer = holder
        .respond_to(DisclosureDecision {
            approved: vec![
                DocumentApproval {
                    id: disclosure.documents[0].id.clone(),
                    credential_id: s.mdl_id.clone(),
                    items: vec!["org.iso.18013.5.1/age_over_19".into()],
                },
                DocumentApproval {
                    id: disclosure.documents[1].id.clone(),
                    credential_id: card_id.clone(),
                    items: vec![format!("{card_ns}/name_ko")],
                },
            ],
            remember_days: 0,
        })
        .unwrap();
    let first = report(session.receive(answer).unwrap());
    let released: Vec<(&str, &str)> = first
        .documents
        .iter()
        .flat_map(|d| {
            d.elements
                .iter()
                .map(move |e| (d.doc_type.as_str(), e.identifier.as_str()))
        })
        .collect();
    assert_eq!(
        released,
        [
            ("org.iso.18013.5.1.mDL", "age_over_19"),
            (card_ns, "name_ko")
        ]
    );

    // A second request in the same session: only the mDL's family name this time.
    let more = session
        .request_more(vec![mdl_request(&["family_name"])])
        .unwrap();
    let docs = documents(holder.receive(more).unwrap());
    assert_eq!(docs.len(), 1);
    assert!(docs[0].reader.as_ref().unwrap().trusted, "signed again");
    let answer = holder
        .respond(vec![Approval {
            document_index: 0,
            credential_id: s.mdl_id.clone(),
            elements: vec![ElementRef {
                namespace: "org.iso.18013.5.1".into(),
                identifier: "family_name".into(),
            }],
        }])
        .unwrap();
    let second = report(session.receive(answer).unwrap());
    assert_eq!(second.documents.len(), 1);
    assert_eq!(second.documents[0].elements[0].identifier, "family_name");
    assert!(session.request_more(vec![]).is_err());
    let end = holder.terminate().unwrap();
    assert_eq!(session.receive(end).unwrap(), ReaderEvent::Terminated);
}
