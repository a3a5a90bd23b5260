//! Bills and the notification inbox through the API: only payloads signed by trusted senders
//! are stored; bills are idempotent by id and superseded by newer versions; notifications with
//! links or phone numbers are refused; reminders arrive as events and inbox entries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use wallet_core::*;

const NOW: i64 = 1_800_000_000; // 2027-01-15
fn day(offset: i64) -> String {
    wallet_core::time::format_full_date(NOW / 86_400 + offset)
}

#[derive(Default)]
struct Events(Mutex<Vec<WalletEvent>>);

impl WalletListener for Events {
    fn on_event(&self, event: WalletEvent) -> Result<(), WalletError> {
        self.0.lock().unwrap().push(event);
        Ok(())
    }
}

fn setup() -> (Arc<Wallet>, Arc<TestAuthority>, Arc<Events>) {
    let events = Arc::new(Events::default());
    let wallet = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        path: None,
        create_if_missing: true,
        key_protector: passphrase_key_protector_with_cost("pw".into(), 10_000).unwrap(),
        secure_area: None,
        clock: Some(fixed_clock(NOW)),
        listener: Some(events.clone()),
    })
    .unwrap();
    let authority =
        TestAuthority::create("Gov".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    wallet
        .add_trust_anchor(
            TrustRole::Sender,
            authority.root_certificate(TrustRole::Sender).unwrap(),
        )
        .unwrap();
    (wallet, authority, events)
}

fn bill(id: &str, version: u64, amount: u64, due: String) -> BillDraft {
    BillDraft {
        id: id.into(),
        version,
        sender_name: "서울특별시 종로구청".into(),
        kind: BillKind::LocalTax,
        title: "2027년 주민세".into(),
        amount_krw: amount,
        due_date: due,
        payee_account: "농협 123-4567-8901-23 (가상계좌)".into(),
        period: "2027-01".into(),
        cancelled: false,
    }
}

fn notice(id: &str, body: &str) -> NotificationDraft {
    NotificationDraft {
        id: id.into(),
        category: NotificationCategory::HealthCheckup,
        title_ko: "국가건강검진 안내".into(),
        body_ko: body.into(),
        title_en: None,
        body_en: None,
        priority: Priority::Normal,
        expires_at: Some(NOW + 86_400),
        reference: None,
    }
}

fn failure(result: Result<impl std::fmt::Debug, WalletError>) -> VerificationFailure {
    match result {
        Err(WalletError::Verification { failure, .. }) => failure,
        other => panic!("expected a verification failure, got {other:?}"),
    }
}

#[test]
fn bills_are_idempotent_superseded_paid_and_totalled() {
    let (wallet, authority, events) = setup();
    let first = wallet
        .add_bill(
            authority
                .sign_bill(bill("B-1", 1, 75_000, day(10)))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        (first.state, first.amount_krw, first.sender_name.as_str()),
        (BillState::Unpaid, 75_000, "서울특별시 종로구청")
    );
    assert!(first.sender.contains("Gov Sender"));
    // The same bill again, and an older version, change nothing.
    wallet
        .add_bill(
            authority
                .sign_bill(bill("B-1", 1, 75_000, day(10)))
                .unwrap(),
        )
        .unwrap();
    let corrected = wallet
        .add_bill(
            authority
                .sign_bill(bill("B-1", 2, 70_000, day(12)))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(corrected.amount_krw, 70_000);
    assert_eq!(
        wallet
            .add_bill(
                authority
                    .sign_bill(bill("B-1", 1, 75_000, day(10)))
                    .unwrap()
            )
            .unwrap()
            .amount_krw,
        70_000
    );
    wallet
        .add_bill(
            authority
                .sign_bill(bill("B-2", 1, 40_000, day(-3)))
                .unwrap(),
        )
        .unwrap();
    wallet
        .add_bill(authority.sign_bill(bill("B-3", 1, 10_000, day(2))).unwrap())
        .unwrap();
    let mut cancelled = bill("B-4", 1, 5_000, day(5));
    cancelled.cancelled = true;
    wallet
        .add_bill(authority.sign_bill(cancelled).unwrap())
        .unwrap();

    let listed = wallet.list_bills(None).unwrap();
    let order: Vec<(&str, BillState)> = listed.iter().map(|b| (b.id.as_str(), b.state)).collect();
    assert_eq!(
        order,
        [
            ("B-2", BillState::Overdue),
            ("B-3", BillState::Unpaid),
            ("B-1", BillState::Unpaid),
            ("B-4", BillState::Cancelled)
        ]
    );

    let paid = wallet
        .mark_bill_paid("B-3".into(), "RCPT-0001".into())
        .unwrap();
    assert_eq!(
        (paid.state, paid.receipt.as_deref(), paid.paid_at),
        (BillState::Paid, Some("RCPT-0001"), Some(NOW))
    );
    assert!(matches!(
        wallet.mark_bill_paid("B-3".into(), "again".into()),
        Err(WalletError::InvalidInput { .. })
    ));
    assert!(matches!(
        wallet.mark_bill_paid("B-4".into(), "x".into()),
        Err(WalletError::InvalidInput { .. })
    ));
    assert!(matches!(
        wallet.mark_bill_paid("nope".into(), "x".into()),
        Err(WalletError::NotFound { .. })
    ));
    assert_eq!(wallet.list_bills(Some(BillState::Paid)).unwrap().len(), 1);
    // A newer version keeps the recorded payment.
    assert_eq!(
        wallet
            .add_bill(authority.sign_bill(bill("B-3", 2, 10_000, day(2))).unwrap())
            .unwrap()
            .state,
        BillState::Paid
    );

    let totals = wallet.bill_totals_by_month().unwrap();
    let all: u64 = totals.iter().map(|t| t.total_krw).sum();
    let unpaid: u64 = totals.iter().map(|t| t.unpaid_krw).sum();
    assert_eq!((all, unpaid), (70_000 + 40_000 + 10_000, 70_000 + 40_000));

    let due = wallet.bills_due_within(3).unwrap();
    assert!(due.is_empty(), "B-3 is paid, B-2 overdue, B-1 in 12 days");
    let due = wallet.bills_due_within(14).unwrap();
    assert_eq!(
        due.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        ["B-1"]
    );
    assert!(events.0.lock().unwrap().iter().any(|e| matches!(e, WalletEvent::BillDue { bill_id, amount_krw: 70_000, .. } if bill_id == "B-1")));
    let reminders = wallet
        .list_notifications(
            NotificationFilter {
                query: Some("주민세".into()),
                ..Default::default()
            },
            0,
            10,
        )
        .unwrap();
    assert_eq!(reminders.total, 1, "one local reminder, deduplicated");
    wallet.bills_due_within(14).unwrap();
    assert_eq!(
        wallet
            .list_notifications(NotificationFilter::default(), 0, 10)
            .unwrap()
            .total,
        1
    );
}

#[test]
fn unsigned_untrusted_tampered_and_malformed_bills_are_never_stored() {
    let (wallet, authority, _) = setup();
    let good = authority.sign_bill(bill("B-9", 1, 1000, day(3))).unwrap();
    // Untrusted sender.
    let stranger =
        TestAuthority::create("Fake".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    assert_eq!(
        failure(wallet.add_bill(stranger.sign_bill(bill("B-9", 1, 1000, day(3))).unwrap())),
        VerificationFailure::UntrustedSender
    );
    // Tampered (a byte of the payload flipped): the signature fails.
    let mut tampered = good.clone();
    let pos = tampered
        .windows(4)
        .position(|w| w == b"B-9\x67")
        .unwrap_or(tampered.len() / 2);
    tampered[pos] ^= 0x01;
    let f = failure(wallet.add_bill(tampered));
    assert!(
        matches!(
            f,
            VerificationFailure::IssuerSignature | VerificationFailure::Malformed
        ),
        "{f:?}"
    );
    // Unsigned CBOR and garbage.
    assert_eq!(
        failure(wallet.add_bill(vec![0xa1, 0x61, 0x61, 0x01])),
        VerificationFailure::Malformed
    );
    assert_eq!(
        failure(wallet.add_bill(b"not cbor".to_vec())),
        VerificationFailure::Malformed
    );
    // Signed but not a valid bill.
    let mut zero = bill("B-0", 1, 1, day(3));
    zero.amount_krw = 0;
    assert_eq!(
        failure(wallet.add_bill(authority.sign_bill(zero).unwrap())),
        VerificationFailure::Malformed
    );
    assert!(matches!(
        authority.sign_bill(bill("B-0", 1, 1, "next week".into())),
        Err(WalletError::InvalidInput { .. })
    ));
    assert!(
        wallet.list_bills(None).unwrap().is_empty(),
        "nothing stored"
    );
    wallet.add_bill(good).unwrap();
}

#[test]
fn inbox_refuses_smishing_dedups_pages_searches_and_expires() {
    let (wallet, authority, events) = setup();
    for (i, body) in [
        "가까운 검진기관을 방문하세요.",
        "검진 결과가 나왔습니다.",
        "올해 검진 대상자입니다.",
    ]
    .iter()
    .enumerate()
    {
        wallet
            .add_notification(
                authority
                    .sign_notification(notice(&format!("N-{i}"), body))
                    .unwrap(),
            )
            .unwrap();
    }
    // Dedup by id.
    wallet
        .add_notification(
            authority
                .sign_notification(notice("N-0", "가까운 검진기관을 방문하세요."))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        wallet
            .list_notifications(NotificationFilter::default(), 0, 10)
            .unwrap()
            .total,
        3
    );
    assert_eq!(
        events
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, WalletEvent::NotificationAdded { .. }))
            .count(),
        3
    );

    for (id, body) in [
        ("S-1", "환급금 조회 https://bit.ly/x"),
        ("S-2", "문의: 010-1234-5678"),
        ("S-3", "www.nhis-refund.kr 접속"),
    ] {
        match wallet.add_notification(authority.sign_notification(notice(id, body)).unwrap()) {
            Err(WalletError::Verification {
                failure: VerificationFailure::CallToAction,
                detail,
            }) => {
                assert!(detail.contains("body_ko"), "{detail}");
            }
            other => panic!("{body}: expected CallToAction, got {other:?}"),
        }
    }
    let stranger =
        TestAuthority::create("Fake".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    assert_eq!(
        failure(
            wallet.add_notification(stranger.sign_notification(notice("F-1", "검진")).unwrap())
        ),
        VerificationFailure::UntrustedSender
    );
    assert_eq!(
        wallet
            .list_notifications(
                NotificationFilter {
                    include_archived: true,
                    ..Default::default()
                },
                0,
                50
            )
            .unwrap()
            .total,
        3
    );

    // Paging, read, archive, search, category.
    let first = wallet
        .list_notifications(NotificationFilter::default(), 0, 2)
        .unwrap();
    assert_eq!((first.items.len(), first.next_offset), (2, Some(2)));
    let rest = wallet
        .list_notifications(NotificationFilter::default(), 2, 2)
        .unwrap();
    assert_eq!((rest.items.len(), rest.next_offset), (1, None));
    wallet.mark_notification_read("N-1".into()).unwrap();
    assert_eq!(
        wallet
            .list_notifications(
                NotificationFilter {
                    unread_only: true,
                    ..Default::default()
                },
                0,
                10
            )
            .unwrap()
            .total,
        2
    );
    wallet.archive_notification("N-2".into()).unwrap();
    assert_eq!(
        wallet
            .list_notifications(NotificationFilter::default(), 0, 10)
            .unwrap()
            .total,
        2
    );
    let found = wallet
        .list_notifications(
            NotificationFilter {
                query: Some("결과".into()),
                ..Default::default()
            },
            0,
            10,
        )
        .unwrap();
    assert_eq!(found.items[0].id, "N-1");
    assert!(found.items[0].read);
    assert_eq!(
        wallet
            .list_notifications(
                NotificationFilter {
                    category: Some(NotificationCategory::Tax),
                    ..Default::default()
                },
                0,
                10
            )
            .unwrap()
            .total,
        0
    );
    assert!(matches!(
        wallet.mark_notification_read("none".into()),
        Err(WalletError::NotFound { .. })
    ));
    assert!(matches!(
        wallet.list_notifications(NotificationFilter::default(), 0, 0),
        Err(WalletError::InvalidInput { .. })
    ));
}

#[test]
fn expired_notifications_are_purged_and_expiring_credentials_remind() {
    let events = Arc::new(Events::default());
    let wallet = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        path: None,
        create_if_missing: true,
        key_protector: passphrase_key_protector_with_cost("pw".into(), 10_000).unwrap(),
        secure_area: None,
        clock: Some(fixed_clock(NOW + 2 * 86_400)),
        listener: Some(events),
    })
    .unwrap();
    let authority =
        TestAuthority::create("Gov".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    wallet
        .add_trust_anchor(
            TrustRole::Sender,
            authority.root_certificate(TrustRole::Sender).unwrap(),
        )
        .unwrap();
    wallet
        .add_notification(
            authority
                .sign_notification(notice("OLD", "지난 안내"))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(wallet.purge_expired_notifications().unwrap(), 1);
    let key = wallet.create_device_key().unwrap();
    let cert = authority
        .issue_e_certificate(
            "tax-payment".into(),
            key.public_key,
            r#"{"name":"홍길동","arrears":false}"#.into(),
            None,
        )
        .unwrap();
    wallet.add_sd_jwt(cert, key.alias).unwrap();
    // Valid for 30 days from NOW - 60; now is two days in: it expires within 30 days.
    assert_eq!(wallet.refresh_reminders().unwrap(), 1);
    assert_eq!(wallet.refresh_reminders().unwrap(), 0, "deduplicated");
    let inbox = wallet
        .list_notifications(
            NotificationFilter {
                category: Some(NotificationCategory::DocumentExpiry),
                ..Default::default()
            },
            0,
            10,
        )
        .unwrap();
    assert_eq!(inbox.items[0].sender, "Jigap");
    assert!(inbox.items[0].title_ko.contains("납세증명서"));
}

/// Pages of the inbox are read in SQL (order, category, state), and notifications stored
/// before placements existed (a store from before schema 8) are placed on first listing.
#[test]
fn inbox_pages_in_order_and_an_upgraded_store_is_placed_on_first_listing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("inbox.jigap")
        .to_string_lossy()
        .into_owned();
    let open = || {
        Wallet::open_blocking(WalletConfig {
            allow_loopback_http: false,
            path: Some(path.clone()),
            create_if_missing: true,
            key_protector: passphrase_key_protector_with_cost("pw".into(), 10_000).unwrap(),
            secure_area: None,
            clock: Some(fixed_clock(NOW)),
            listener: None,
        })
        .unwrap()
    };
    let wallet = open();
    let authority =
        TestAuthority::create("Gov".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    wallet
        .add_trust_anchor(
            TrustRole::Sender,
            authority.root_certificate(TrustRole::Sender).unwrap(),
        )
        .unwrap();
    let categories = [
        NotificationCategory::Tax,
        NotificationCategory::HealthCheckup,
    ];
    for i in 0..30 {
        let mut draft = notice(&format!("N-{i:02}"), "검진 기간입니다.");
        draft.category = categories[i % 2];
        wallet
            .add_notification(authority.sign_notification(draft).unwrap())
            .unwrap();
    }
    wallet.archive_notification("N-03".into()).unwrap();
    wallet.mark_notification_read("N-05".into()).unwrap();
    let listing = |wallet: &Wallet, filter: NotificationFilter| -> Vec<String> {
        let mut ids = Vec::new();
        let mut offset = 0;
        loop {
            let page = wallet
                .list_notifications(filter.clone(), offset, 7)
                .unwrap();
            let total = page.total;
            ids.extend(page.items.into_iter().map(|n| n.id));
            match page.next_offset {
                Some(next) => offset = next,
                None => {
                    // The total the pages announce is what they hold.
                    assert_eq!(total, ids.len() as u64, "{filter:?}");
                    return ids;
                }
            }
        }
    };
    let check = |wallet: &Wallet| {
        // Same issue time: by id. The archived one only when asked for.
        let all = listing(wallet, NotificationFilter::default());
        assert_eq!(all.len(), 29);
        assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
        assert!(!all.contains(&"N-03".to_string()));
        let with_archived = listing(
            wallet,
            NotificationFilter {
                include_archived: true,
                ..NotificationFilter::default()
            },
        );
        assert_eq!(with_archived.len(), 30);
        let tax = listing(
            wallet,
            NotificationFilter {
                category: Some(NotificationCategory::Tax),
                ..NotificationFilter::default()
            },
        );
        assert_eq!(tax.len(), 15, "{tax:?}");
        let unread = listing(
            wallet,
            NotificationFilter {
                unread_only: true,
                ..NotificationFilter::default()
            },
        );
        assert_eq!(unread.len(), 28);
        assert!(!unread.contains(&"N-05".to_string()));
        let found = listing(
            wallet,
            NotificationFilter {
                query: Some("검진".into()),
                category: Some(NotificationCategory::HealthCheckup),
                ..NotificationFilter::default()
            },
        );
        assert_eq!(
            found.len(),
            14,
            "15 checkup notices, one archived: {found:?}"
        );
    };
    check(&wallet);
    wallet.close_store().unwrap();

    // As a store from before placements: none placed, and the marker a migration leaves.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute("DELETE FROM document_order", []).unwrap();
        conn.execute("DELETE FROM document_counts", []).unwrap();
        conn.execute("DELETE FROM search_tokens", []).unwrap();
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('document_order_pending', x'01')",
            [],
        )
        .unwrap();
    }
    let wallet = open();
    check(&wallet);
    wallet.close_store().unwrap();

    // As a store of schema 9, whose tokens lack those of single characters (here: none left
    // at all, so that only the upgrade can make the search find anything again).
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute("DELETE FROM search_tokens", []).unwrap();
        conn.pragma_update(None, "user_version", 9).unwrap();
    }
    let wallet = open();
    check(&wallet);
    assert_eq!(wallet.status().unwrap().schema_version, 10);
}

/// A text search finds exactly what reading every notification would (the search tokens only
/// narrow what is opened), keeps up with archiving and purging, and leaves no text in the file.
#[test]
fn a_text_search_finds_exactly_what_a_full_scan_would() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("search.jigap");
    let wallet = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        path: Some(path.to_string_lossy().into_owned()),
        create_if_missing: true,
        key_protector: passphrase_key_protector_with_cost("pw".into(), 10_000).unwrap(),
        secure_area: None,
        clock: Some(fixed_clock(NOW)),
        listener: None,
    })
    .unwrap();
    let authority =
        TestAuthority::create("Gov".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    wallet
        .add_trust_anchor(
            TrustRole::Sender,
            authority.root_certificate(TrustRole::Sender).unwrap(),
        )
        .unwrap();
    let bodies = [
        "건강검진 결과가 도착했습니다.",
        "검진 기간은 12월 31일까지입니다.",
        "Your tax refund is ready.",
        "종합소득세 신고 기간입니다.",
        "결과를 확인하세요. RESULT",
        "진건강 검사",
    ];
    let mut drafts = Vec::new();
    for i in 0..48 {
        let mut draft = notice(&format!("S-{i:02}"), bodies[i % bodies.len()]);
        draft.title_ko = format!("안내 {i}");
        draft.title_en = (i % 4 == 0).then(|| "Health notice".to_string());
        draft.category = [
            NotificationCategory::HealthCheckup,
            NotificationCategory::Tax,
        ][i % 2];
        // Some expire before the others, to be purged below.
        draft.expires_at = Some(if i % 5 == 0 { NOW - 1 } else { NOW + 86_400 });
        wallet
            .add_notification(authority.sign_notification(draft.clone()).unwrap())
            .unwrap();
        drafts.push(draft);
    }
    for i in (0..48).step_by(7) {
        wallet.archive_notification(format!("S-{i:02}")).unwrap();
    }
    let queries = [
        "검진",
        "건강검진 결과",
        "강검",
        "진건",
        "결과",
        "result",
        "TAX REF",
        "notice",
        "안내 1",
        "세",
        "x",
        "없는 말",
        "다.",
    ];
    let check = |wallet: &Wallet, purged: bool| {
        for query in queries {
            for category in [None, Some(NotificationCategory::Tax)] {
                let filter = NotificationFilter {
                    query: Some(query.into()),
                    category,
                    include_archived: true,
                    ..NotificationFilter::default()
                };
                let mut found = Vec::new();
                let mut offset = 0;
                loop {
                    let page = wallet
                        .list_notifications(filter.clone(), offset, 5)
                        .unwrap();
                    found.extend(page.items.iter().map(|n| n.id.clone()));
                    match page.next_offset {
                        Some(next) => offset = next,
                        None => {
                            assert_eq!(page.total, found.len() as u64, "{query}");
                            break;
                        }
                    }
                }
                found.sort();
                let q = query.to_lowercase();
                let expected: Vec<String> = drafts
                    .iter()
                    .enumerate()
                    .filter(|(i, d)| {
                        !(purged && i % 5 == 0)
                            && category.is_none_or(|c| c == d.category)
                            && [Some(&d.title_ko), Some(&d.body_ko), d.title_en.as_ref()]
                                .into_iter()
                                .flatten()
                                .any(|t| t.to_lowercase().contains(&q))
                    })
                    .map(|(_, d)| d.id.clone())
                    .collect();
                assert_eq!(found, expected, "{query} in {category:?}");
            }
        }
    };
    check(&wallet, false);
    // A search is bounded: each pair of its characters is a token to look up.
    let long = NotificationFilter {
        query: Some("검".repeat(257)),
        ..NotificationFilter::default()
    };
    assert!(matches!(
        wallet.list_notifications(long, 0, 5),
        Err(WalletError::InvalidInput { .. })
    ));
    assert_eq!(wallet.purge_expired_notifications().unwrap(), 10);
    check(&wallet, true);
    wallet.close_store().unwrap();

    let conn = rusqlite::Connection::open(&path).unwrap();
    let placed: i64 = conn
        .query_row("SELECT count(DISTINCT seq) FROM search_tokens", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(placed, 38, "purged notifications leave no tokens behind");
    drop(conn);
    let file = std::fs::read(&path).unwrap();
    for text in ["건강검진", "result", "종합소득세"] {
        assert!(
            !file.windows(text.len()).any(|w| w == text.as_bytes()),
            "{text} is in the file"
        );
    }
}

#[test]
fn a_search_with_many_matches_counts_a_thousand_and_pages_on_to_the_last() {
    let (wallet, authority, _) = setup();
    let count: u32 = 1_010;
    for i in 0..count {
        let mut draft = notice(&format!("M-{i:04}"), &format!("{i}번째 안내입니다."));
        draft.title_ko = format!("알림 {i}");
        // Equal times in pairs: the order within a time is by id.
        draft.expires_at = Some(NOW + 86_400 + i64::from(i / 2));
        wallet
            .add_notification(authority.sign_notification(draft).unwrap())
            .unwrap();
    }
    let filter = |query: &str| NotificationFilter {
        query: Some(query.into()),
        ..NotificationFilter::default()
    };
    let all = wallet
        .list_notifications(NotificationFilter::default(), 0, 500)
        .unwrap();
    assert!(all.total_is_exact);
    assert_eq!(all.total, u64::from(count));

    // The first page: counted up to 1,000 and one more, then stopped.
    let first = wallet.list_notifications(filter("안내"), 0, 5).unwrap();
    assert_eq!(
        (
            first.items.len(),
            first.total,
            first.total_is_exact,
            first.next_offset
        ),
        (5, 1_001, false, Some(5))
    );
    let ids = |page: &NotificationPage| page.items.iter().map(|n| n.id.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(&first),
        ids(&all)[..5].to_vec(),
        "newest first, as the plain listing"
    );
    // Paging on reaches every match, in the listing's order, and the last page is exact.
    let mut found = Vec::new();
    let mut offset = 0;
    let last = loop {
        let page = wallet
            .list_notifications(filter("안내"), offset, 250)
            .unwrap();
        found.extend(ids(&page));
        match page.next_offset {
            Some(next) => offset = next,
            None => break page,
        }
    };
    assert!(last.total_is_exact);
    assert_eq!(last.total, u64::from(count));
    let mut everything = ids(&all);
    everything.extend(ids(&wallet
        .list_notifications(NotificationFilter::default(), 500, 500)
        .unwrap()));
    everything.extend(ids(&wallet
        .list_notifications(NotificationFilter::default(), 1_000, 500)
        .unwrap()));
    assert_eq!(found, everything);
    // Fewer matches than the count: exact at once; one character finds what it should.
    let few = wallet.list_notifications(filter("100번째"), 0, 5).unwrap();
    assert_eq!((few.total, few.total_is_exact), (1, true));
    let nines = wallet.list_notifications(filter("9"), 0, 500).unwrap();
    let expected = (0..count).filter(|i| i.to_string().contains('9')).count() as u64;
    assert_eq!((nines.total, nines.total_is_exact), (expected, true));
}
