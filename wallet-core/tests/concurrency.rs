//! Many threads on one `Wallet`: writers adding credentials and notifications, readers paging
//! and checking the record while it grows, in-person presentations start to finish, status
//! refreshes through the host's HTTP client while the list changes, and a wipe at the end. No deadlock (a deadline watches), no busy error reaching a caller (every call
//! is unwrapped), and results consistent with what was written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wallet_core::*;

const WRITERS: usize = 4;
const PER_WRITER: usize = 15;
const READERS: usize = 2;
const PRESENTATIONS: usize = 8;
const REFRESHES: usize = 4;
const STATUS_URI: &str = "https://status.jigap.example/lists/threads";

/// The host's HTTP client, serving the status list the issuer currently publishes.
struct Published(Mutex<Vec<u8>>);

#[async_trait::async_trait]
impl HttpClient for Published {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, WalletError> {
        assert_eq!(request.url, STATUS_URI);
        Ok(HttpResponse {
            status: 200,
            content_type: Some("application/statuslist+jwt".into()),
            headers: vec![],
            body: self.0.lock().unwrap().clone(),
        })
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims(name: &str) -> MdlClaims {
    MdlClaims {
        family_name: name.into(),
        given_name: "길동".into(),
        birth_date: "1990-05-05".into(),
        document_number: "11-23-456789-01".into(),
        issuing_authority: "경찰청".into(),
        portrait: vec![0xff, 0xd8, 0xff, 0xd9],
        vehicle_categories: vec!["B".into()],
        valid_days: 365,
        status: None,
    }
}

fn notice(id: &str) -> NotificationDraft {
    NotificationDraft {
        id: id.into(),
        category: NotificationCategory::HealthCheckup,
        title_ko: "국가건강검진 안내".into(),
        body_ko: "검진 기간입니다.".into(),
        title_en: None,
        body_en: None,
        priority: Priority::Normal,
        expires_at: Some(now() + 86_400),
        reference: None,
    }
}

/// One in-person presentation of `mdl_id`, start to verified report.
fn present(wallet: &Arc<Wallet>, reader: &MdocReader, mdl_id: &str) {
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
    let PresentationEvent::Request { documents, .. } =
        holder.receive(session.request_message()).unwrap()
    else {
        panic!("expected a request")
    };
    assert!(documents[0]
        .matching_credentials
        .contains(&mdl_id.to_string()));
    let answer = holder
        .respond(vec![Approval {
            document_index: 0,
            credential_id: mdl_id.into(),
            elements: vec![ElementRef {
                namespace: "org.iso.18013.5.1".into(),
                identifier: "age_over_19".into(),
            }],
        }])
        .unwrap();
    let ReaderEvent::Response { report } = session.receive(answer).unwrap() else {
        panic!("expected a response")
    };
    assert_eq!(report.documents[0].elements[0].display, "true");
}

#[test]
fn many_threads_on_one_wallet_then_a_wipe() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("shared.jigap")
        .to_string_lossy()
        .into_owned();
    let wallet = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        path: Some(path),
        create_if_missing: true,
        key_protector: passphrase_key_protector_with_cost("threads".into(), 10_000).unwrap(),
        secure_area: None,
        clock: None,
        listener: None,
    })
    .unwrap();
    let authority = TestAuthority::create("Threads".into(), "KR".into(), None).unwrap();
    for role in [TrustRole::Sender, TrustRole::MdocReader] {
        wallet
            .add_trust_anchor(role, authority.root_certificate(role).unwrap())
            .unwrap();
    }
    let key = wallet.create_device_key().unwrap();
    let first = wallet
        .add_mdoc(
            authority.issue_mdl(key.public_key, claims("처음")).unwrap(),
            key.alias,
        )
        .unwrap();
    // A credential with a status list entry, suspended and reinstated while the others work.
    wallet
        .add_trust_anchor(
            TrustRole::StatusListIssuer,
            authority
                .root_certificate(TrustRole::StatusListIssuer)
                .unwrap(),
        )
        .unwrap();
    let publish = {
        let authority = authority.clone();
        move |suspended: bool| {
            let statuses = if suspended {
                vec![StatusValue {
                    index: 3,
                    status: 2,
                }]
            } else {
                vec![]
            };
            authority
                .status_list_token(STATUS_URI.into(), 16, statuses, StatusListFormat::Jwt, 0)
                .unwrap()
        }
    };
    let http = Arc::new(Published(Mutex::new(publish(false))));
    let watched_key = wallet.create_device_key().unwrap();
    let mut watched_claims = claims("상태");
    watched_claims.status = Some(StatusListEntry {
        index: 3,
        uri: STATUS_URI.into(),
    });
    let watched = wallet
        .add_mdoc(
            authority
                .issue_mdl(watched_key.public_key, watched_claims)
                .unwrap(),
            watched_key.alias,
        )
        .unwrap();
    let reader = MdocReader::new(ReaderConfig {
        iaca_certificates: vec![authority.root_certificate(TrustRole::MdocIssuer).unwrap()],
        status_list_certificates: vec![],
        reader_certificate_chain: vec![authority
            .signer_certificate(TrustRole::MdocReader)
            .unwrap()],
        reader_private_key: Some(authority.signer_key(TrustRole::MdocReader).unwrap()),
        clock: None,
        session_state_key: None,
    })
    .unwrap();

    let (done_tx, done_rx) = mpsc::channel();
    let work = {
        let wallet = wallet.clone();
        let authority = authority.clone();
        let first = first.clone();
        std::thread::spawn(move || {
            let writing = AtomicBool::new(true);
            let written: Vec<(Vec<String>, Vec<String>)> = std::thread::scope(|scope| {
                let writers: Vec<_> = (0..WRITERS)
                    .map(|w| {
                        let wallet = &wallet;
                        let authority = &authority;
                        scope.spawn(move || {
                            let mut credentials = Vec::new();
                            let mut notices = Vec::new();
                            for i in 0..PER_WRITER {
                                let key = wallet.create_device_key().unwrap();
                                let mdl = authority
                                    .issue_mdl(key.public_key, claims(&format!("w{w}-{i}")))
                                    .unwrap();
                                credentials.push(wallet.add_mdoc(mdl, key.alias).unwrap());
                                let id = format!("N-{w}-{i}");
                                wallet
                                    .add_notification(
                                        authority.sign_notification(notice(&id)).unwrap(),
                                    )
                                    .unwrap();
                                notices.push(id);
                            }
                            (credentials, notices)
                        })
                    })
                    .collect();
                for _ in 0..READERS {
                    let wallet = &wallet;
                    let writing = &writing;
                    scope.spawn(move || {
                        let mut last = (0u64, 0u64, 0u64);
                        while writing.load(Ordering::SeqCst) {
                            let credentials = wallet
                                .list_credentials(CredentialFilter::default(), 0, 50)
                                .unwrap();
                            let notices = wallet
                                .list_notifications(NotificationFilter::default(), 0, 50)
                                .unwrap();
                            let record = wallet.verify_journal().unwrap().entries;
                            // Totals only grow, and a page holds what it says.
                            assert!(credentials.total >= last.0 && notices.total >= last.1);
                            assert!(record >= last.2, "the record shrank");
                            assert_eq!(credentials.items.len() as u64, credentials.total.min(50));
                            last = (credentials.total, notices.total, record);
                        }
                    });
                }
                let presenter = {
                    let wallet = &wallet;
                    let reader = &reader;
                    let first = &first;
                    scope.spawn(move || {
                        for _ in 0..PRESENTATIONS {
                            present(wallet, reader, first);
                        }
                    })
                };
                let refresher = {
                    let wallet = &wallet;
                    let http = &http;
                    let publish = &publish;
                    let watched = &watched;
                    scope.spawn(move || {
                        let rt = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .unwrap();
                        for round in 0..REFRESHES {
                            // The list may be cached for the second it was fetched in (its
                            // time to live is 0): the next one comes a second later.
                            if round > 0 {
                                std::thread::sleep(Duration::from_millis(1_100));
                            }
                            let suspended = round % 2 == 0;
                            *http.0.lock().unwrap() = publish(suspended);
                            let report = rt
                                .block_on(wallet.clone().refresh_status(http.clone()))
                                .unwrap();
                            assert!(report.failures.is_empty(), "{:?}", report.failures);
                            assert_eq!(report.checked, 1);
                            let state = wallet
                                .get_credential(watched.clone())
                                .unwrap()
                                .summary
                                .state;
                            let expected = if suspended {
                                CredentialState::Suspended
                            } else {
                                CredentialState::Valid
                            };
                            assert_eq!(state, expected, "round {round}");
                        }
                    })
                };
                let written = writers.into_iter().map(|w| w.join().unwrap()).collect();
                presenter.join().unwrap();
                refresher.join().unwrap();
                writing.store(false, Ordering::SeqCst);
                written
            });
            done_tx.send(()).unwrap();
            written
        })
    };
    // A deadlock would hang here: the deadline turns it into a failure.
    done_rx
        .recv_timeout(Duration::from_secs(300))
        .expect("threads on one wallet did not finish: a deadlock?");
    let written = work.join().unwrap();

    // Everything written is there, once.
    let credentials: BTreeSet<String> = written.iter().flat_map(|w| w.0.clone()).collect();
    let notices: BTreeSet<String> = written.iter().flat_map(|w| w.1.clone()).collect();
    assert_eq!(credentials.len(), WRITERS * PER_WRITER);
    let listed = wallet
        .list_credentials(CredentialFilter::default(), 0, 500)
        .unwrap();
    assert_eq!(listed.total as usize, WRITERS * PER_WRITER + 2);
    for id in &credentials {
        wallet.get_credential(id.clone()).unwrap();
    }
    let page = wallet
        .list_notifications(NotificationFilter::default(), 0, 500)
        .unwrap();
    let (changes, present): (BTreeSet<String>, BTreeSet<String>) = page
        .items
        .into_iter()
        .map(|n| n.id)
        .partition(|id| id.starts_with("local:status:"));
    assert_eq!(present, notices);
    // Each state change the refreshes made told the citizen once.
    assert_eq!(changes.len(), REFRESHES, "{changes:?}");
    let record = wallet.verify_journal().unwrap();
    assert!(record.entries as usize >= 2 * WRITERS * PER_WRITER + PRESENTATIONS);

    // A wipe at the end, then every call is a typed error.
    let report = wallet.wipe_blocking().unwrap();
    assert_eq!(
        report.credentials_removed as usize,
        WRITERS * PER_WRITER + 2
    );
    assert!(matches!(
        wallet.list_credentials(CredentialFilter::default(), 0, 10),
        Err(WalletError::Closed)
    ));
}
