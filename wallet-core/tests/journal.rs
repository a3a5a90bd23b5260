//! The citizen's record through the public API: what is recorded, how it is listed, that every
//! kind of tampering with the stored log or with an export is detected, that an action whose
//! record cannot be signed is not done, and that a wipe erases the record.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use wallet_core::crypto::ec;
use wallet_core::*;

const NOW: i64 = 1_800_000_000;

struct TestClock(AtomicI64);

impl TestClock {
    fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_unix_seconds(&self) -> Result<i64, WalletError> {
        Ok(self.0.load(Ordering::SeqCst))
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

impl Events {
    fn integrity_failures(&self) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, WalletEvent::JournalIntegrityFailure { .. }))
            .count()
    }
}

/// A host secure area whose signing can be made to fail.
#[derive(Default)]
struct FlakyArea {
    keys: Mutex<Vec<(String, ec::SoftwareKey)>>,
    failing: AtomicBool,
}

impl SecureArea for FlakyArea {
    fn create_key(&self, alias: String) -> Result<Vec<u8>, WalletError> {
        let key = ec::SoftwareKey::generate().unwrap();
        let public = key.public_key().to_vec();
        self.keys.lock().unwrap().push((alias, key));
        Ok(public)
    }

    fn public_key(&self, alias: String) -> Result<Vec<u8>, WalletError> {
        let keys = self.keys.lock().unwrap();
        let (_, key) = keys
            .iter()
            .find(|(a, _)| *a == alias)
            .ok_or(WalletError::NotFound {
                what: alias.clone(),
            })?;
        Ok(key.public_key().to_vec())
    }

    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, WalletError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(WalletError::HostCallback {
                reason: "the citizen cancelled the prompt".into(),
            });
        }
        let keys = self.keys.lock().unwrap();
        let (_, key) = keys
            .iter()
            .find(|(a, _)| *a == alias)
            .ok_or(WalletError::NotFound {
                what: alias.clone(),
            })?;
        Ok(key.sign(&message).unwrap())
    }

    fn key_agreement(&self, _alias: String, _peer: Vec<u8>) -> Result<Vec<u8>, WalletError> {
        Err(WalletError::HostCallback {
            reason: "no key agreement in this test".into(),
        })
    }

    fn delete_key(&self, alias: String) -> Result<(), WalletError> {
        self.keys.lock().unwrap().retain(|(a, _)| *a != alias);
        Ok(())
    }
}

fn config(path: Option<String>, clock: Arc<TestClock>, listener: Arc<Events>) -> WalletConfig {
    WalletConfig {
        allow_loopback_http: false,
        path,
        create_if_missing: true,
        key_protector: passphrase_key_protector_with_cost("journal test passphrase".into(), 10_000)
            .unwrap(),
        secure_area: None,
        clock: Some(clock),
        listener: Some(listener),
    }
}

fn authority(name: &str) -> Arc<TestAuthority> {
    TestAuthority::create(name.into(), "KR".into(), Some(fixed_clock(NOW))).unwrap()
}

fn add_mdl(w: &Wallet, a: &TestAuthority) -> String {
    let key = w.create_device_key().unwrap();
    let raw = a
        .issue_mdl(
            key.public_key,
            MdlClaims {
                family_name: "Hong".into(),
                given_name: "Gildong".into(),
                birth_date: "1990-01-01".into(),
                document_number: "11-23-456789-01".into(),
                issuing_authority: "Korean National Police Agency".into(),
                portrait: vec![0xff, 0xd8, 0xff, 0xd9],
                vehicle_categories: vec!["B".into()],
                valid_days: 365,
                status: None,
            },
        )
        .unwrap();
    w.add_mdoc(raw, key.alias).unwrap()
}

fn add_cert(w: &Wallet, a: &TestAuthority) -> String {
    let key = w.create_device_key().unwrap();
    let sd_jwt = a
        .issue_e_certificate(
            "tax-payment".into(),
            key.public_key,
            r#"{"name":"홍길동","arrears":false}"#.into(),
            None,
        )
        .unwrap();
    w.add_sd_jwt(sd_jwt, key.alias).unwrap()
}

fn all(w: &Wallet, filter: JournalFilter) -> Vec<JournalEntry> {
    w.list_journal(filter, 0, 500).unwrap().entries
}

fn kinds(entries: &[JournalEntry]) -> Vec<JournalKind> {
    entries.iter().map(|e| e.kind).collect()
}

/// A wallet whose record holds, oldest first: two issuances, a presentation, a suspension, a
/// consent, its withdrawal and a deletion.
fn busy_wallet(path: Option<String>) -> (Arc<Wallet>, Arc<TestClock>, Arc<Events>) {
    let clock = Arc::new(TestClock(AtomicI64::new(NOW)));
    let events = Arc::new(Events::default());
    let w = Wallet::open_blocking(config(path, clock.clone(), events.clone())).unwrap();
    let a = authority("Journal Authority");
    let mdl = add_mdl(&w, &a);
    let cert = add_cert(&w, &a);
    clock.advance(60);
    w.present_sd_jwt(
        cert,
        vec!["/name".into()],
        "https://bank.example".into(),
        "n-1".into(),
    )
    .unwrap();
    clock.advance(60);
    w.update_credential_state(mdl.clone(), CredentialState::Suspended)
        .unwrap();
    w.add_trust_anchor(
        TrustRole::DataRecipient,
        a.root_certificate(TrustRole::DataRecipient).unwrap(),
    )
    .unwrap();
    let consent = w
        .create_consent(ConsentRequest {
            recipient_certificate: a.signer_certificate(TrustRole::DataRecipient).unwrap(),
            bundles: vec!["income".into()],
            purpose: "loan".into(),
            mode: ConsentMode::Selected,
            valid_days: 1,
        })
        .unwrap();
    w.revoke_consent(consent.id).unwrap();
    clock.advance(60);
    w.delete_credential(mdl).unwrap();
    (w, clock, events)
}

#[test]
fn actions_are_recorded_listed_filtered_and_paged() {
    let (w, _, events) = busy_wallet(None);
    let entries = all(&w, JournalFilter::default());
    assert_eq!(
        kinds(&entries),
        vec![
            JournalKind::Deletion,
            JournalKind::ConsentRevoked,
            JournalKind::Consent,
            JournalKind::StatusChange,
            JournalKind::Presentation,
            JournalKind::Issuance,
            JournalKind::Issuance,
        ],
        "newest first"
    );
    let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![7, 6, 5, 4, 3, 2, 1]);

    // The presentation names the relying party and what was released, and is not shown as
    // verified: an audience string is only what the relying party said of itself.
    let presentation: Value = serde_json::from_str(&entries[4].details_json).unwrap();
    assert_eq!(
        presentation["relying_party"]["client_id"],
        "https://bank.example"
    );
    assert_eq!(presentation["relying_party"]["verified"], false);
    assert_eq!(presentation["credentials"][0]["released"][0], "/name");
    let status: Value = serde_json::from_str(&entries[3].details_json).unwrap();
    assert_eq!(status["state"], "Suspended");

    // By kind, by time, by relying party.
    let issued = all(
        &w,
        JournalFilter {
            kinds: vec![JournalKind::Issuance, JournalKind::Deletion],
            ..Default::default()
        },
    );
    assert_eq!(
        kinds(&issued),
        vec![
            JournalKind::Deletion,
            JournalKind::Issuance,
            JournalKind::Issuance
        ]
    );
    let window = all(
        &w,
        JournalFilter {
            from: Some(NOW + 60),
            until: Some(NOW + 120),
            ..Default::default()
        },
    );
    assert_eq!(
        kinds(&window),
        vec![
            JournalKind::ConsentRevoked,
            JournalKind::Consent,
            JournalKind::StatusChange,
            JournalKind::Presentation,
        ]
    );
    let bank = all(
        &w,
        JournalFilter {
            relying_party: Some("bank.example".into()),
            ..Default::default()
        },
    );
    assert_eq!(kinds(&bank), vec![JournalKind::Presentation]);
    assert!(all(
        &w,
        JournalFilter {
            relying_party: Some("shop.example".into()),
            ..Default::default()
        }
    )
    .is_empty());

    // Pages of three: 3 + 3 + 1, each naming where the next starts.
    let first = w.list_journal(JournalFilter::default(), 0, 3).unwrap();
    assert_eq!((first.total, first.next_offset), (7, Some(3)));
    let second = w.list_journal(JournalFilter::default(), 3, 3).unwrap();
    assert_eq!(second.next_offset, Some(6));
    let last = w.list_journal(JournalFilter::default(), 6, 3).unwrap();
    assert_eq!((last.entries.len(), last.next_offset), (1, None));
    assert_eq!(last.entries[0].seq, 1);
    assert!(matches!(
        w.list_journal(JournalFilter::default(), 0, 0),
        Err(WalletError::InvalidInput { .. })
    ));
    assert!(matches!(
        w.list_journal(JournalFilter::default(), 0, 501),
        Err(WalletError::InvalidInput { .. })
    ));

    let check = w.verify_journal().unwrap();
    assert_eq!(check.entries, 7);
    assert_eq!(events.integrity_failures(), 0);
}

#[test]
fn a_pin_lockout_is_recorded_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.jigap").to_string_lossy().into_owned();
    let clock = Arc::new(TestClock(AtomicI64::new(NOW)));
    let events = Arc::new(Events::default());
    let w =
        Wallet::open_blocking(config(Some(path.clone()), clock.clone(), events.clone())).unwrap();
    w.set_pin("123456".into()).unwrap();
    w.lock().unwrap();
    for (wait, expected) in [(0, 4), (0, 3), (0, 2), (30, 1), (300, 0)] {
        clock.advance(wait);
        assert!(matches!(
            w.verify_pin("999999".into()),
            Err(WalletError::WrongPin { tries_left }) if tries_left == expected
        ));
    }
    w.close_store().unwrap();
    // The row is there, in the clear only as its kind (code 10).
    let db = rusqlite::Connection::open(&path).unwrap();
    let kinds: Vec<i64> = db
        .prepare("SELECT kind FROM journal ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(kinds, vec![10]);
}

/// Opens the store file directly, as someone with the phone's file system would.
fn tamper(path: &str, sql: &str) {
    let db = rusqlite::Connection::open(path).unwrap();
    db.execute_batch(sql).unwrap();
}

fn reopen(path: &str, events: Arc<Events>) -> Arc<Wallet> {
    let clock = Arc::new(TestClock(AtomicI64::new(NOW + 1_000)));
    Wallet::open_blocking(config(Some(path.into()), clock, events)).unwrap()
}

#[test]
fn every_kind_of_tampering_with_the_stored_log_is_detected() {
    let cases: [(&str, &str); 7] = [
        // A clear column changed: the entry no longer hashes to its chain value.
        ("edited time", "UPDATE journal SET at = at + 1 WHERE seq = 3"),
        ("edited kind", "UPDATE journal SET kind = 1 WHERE seq = 3"),
        // The sealed details replaced by another entry's: they no longer open in this row.
        (
            "swapped details",
            "UPDATE journal SET details = (SELECT details FROM journal WHERE seq = 2) WHERE seq = 3",
        ),
        ("dropped", "DELETE FROM journal WHERE seq = 4"),
        (
            "reordered",
            "UPDATE journal SET seq = 100 WHERE seq = 3;
             UPDATE journal SET seq = 3 WHERE seq = 4;
             UPDATE journal SET seq = 4 WHERE seq = 100;",
        ),
        ("truncated", "DELETE FROM journal WHERE seq = 7"),
        (
            "extended",
            "INSERT INTO journal (seq, at, kind, details, chain)
             SELECT 8, at, kind, details, chain FROM journal WHERE seq = 7",
        ),
    ];
    for (what, sql) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.jigap").to_string_lossy().into_owned();
        let (w, _, _) = busy_wallet(Some(path.clone()));
        let before = w.verify_journal().unwrap();
        assert_eq!(before.entries, 7);
        w.close_store().unwrap();
        tamper(&path, sql);
        let events = Arc::new(Events::default());
        let w = reopen(&path, events.clone());
        match w.verify_journal() {
            Err(WalletError::JournalTampered { reason }) => assert!(!reason.is_empty(), "{what}"),
            other => panic!("{what}: {other:?}"),
        }
        assert_eq!(
            events.integrity_failures(),
            1,
            "{what}: the listener hears of it"
        );
        assert!(
            matches!(w.export_journal(), Err(WalletError::JournalTampered { .. })),
            "{what}: no export of a broken record"
        );
    }
}

#[test]
fn a_removed_head_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.jigap").to_string_lossy().into_owned();
    let (w, _, _) = busy_wallet(Some(path.clone()));
    w.close_store().unwrap();
    tamper(&path, "DELETE FROM meta WHERE key = 'journal_head'");
    let events = Arc::new(Events::default());
    let w = reopen(&path, events.clone());
    assert!(matches!(
        w.verify_journal(),
        Err(WalletError::JournalTampered { .. })
    ));
    assert_eq!(events.integrity_failures(), 1);
}

#[test]
fn the_record_survives_a_restart_and_keeps_growing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.jigap").to_string_lossy().into_owned();
    let (w, _, _) = busy_wallet(Some(path.clone()));
    let key = w.verify_journal().unwrap().public_key;
    w.close_store().unwrap();
    let w = reopen(&path, Arc::new(Events::default()));
    add_cert(&w, &authority("Another Authority"));
    let check = w.verify_journal().unwrap();
    assert_eq!(check.entries, 8);
    assert_eq!(check.public_key, key, "the same key signs across restarts");
}

fn lines(export: &str) -> Vec<String> {
    export.lines().map(str::to_owned).collect()
}

#[test]
fn exports_check_elsewhere_and_every_kind_of_tampering_is_detected() {
    let (w, _, _) = busy_wallet(None);
    let key = w.verify_journal().unwrap().public_key;
    let export = w.export_journal().unwrap();
    let original = lines(&export);
    assert_eq!(original.len(), 8, "seven entries and the head");
    assert_eq!(
        verify_journal_export(export.clone(), Some(key.clone())).unwrap(),
        7
    );
    assert_eq!(verify_journal_export(export.clone(), None).unwrap(), 7);
    let first: Value = serde_json::from_str(&original[0]).unwrap();
    assert_eq!(
        (first["seq"].as_u64(), first["kind"].as_str()),
        (Some(1), Some("issuance"))
    );

    let edited = {
        let mut l = original.clone();
        let mut entry: Value = serde_json::from_str(&l[2]).unwrap();
        entry["details_text"] = Value::String(
            entry["details_text"]
                .as_str()
                .unwrap()
                .replace("bank.example", "shop.example"),
        );
        l[2] = entry.to_string();
        l
    };
    let dropped = {
        let mut l = original.clone();
        l.remove(3);
        l
    };
    let reordered = {
        let mut l = original.clone();
        l.swap(2, 3);
        l
    };
    let truncated = {
        let mut l = original.clone();
        l.remove(6);
        l
    };
    let headless = original[..7].to_vec();
    let after_head = {
        let mut l = original.clone();
        l.push(original[0].clone());
        l
    };
    let other_key = ec::SoftwareKey::generate().unwrap().public_key().to_vec();
    for (what, tampered, expected_key) in [
        ("edited", edited, Some(key.clone())),
        ("dropped", dropped, Some(key.clone())),
        ("reordered", reordered, Some(key.clone())),
        ("truncated", truncated, Some(key.clone())),
        ("no head", headless, None),
        ("a line after the head", after_head, None),
        ("signed by another key", original.clone(), Some(other_key)),
        ("not JSON", vec!["{".to_owned()], None),
    ] {
        assert!(
            matches!(
                verify_journal_export(tampered.join("\n"), expected_key),
                Err(WalletError::JournalTampered { .. })
            ),
            "{what}"
        );
    }
}

#[test]
fn an_action_whose_record_cannot_be_signed_is_not_done() {
    let area = Arc::new(FlakyArea::default());
    let clock = Arc::new(TestClock(AtomicI64::new(NOW)));
    let w = Wallet::open_blocking(WalletConfig {
        secure_area: Some(area.clone()),
        ..config(None, clock, Arc::new(Events::default()))
    })
    .unwrap();
    let a = authority("Flaky Authority");
    let mdl = add_mdl(&w, &a);
    let key = w.create_device_key().unwrap();
    let raw = a
        .issue_e_certificate(
            "tax-payment".into(),
            key.public_key,
            r#"{"name":"홍길동","arrears":false}"#.into(),
            None,
        )
        .unwrap();
    area.failing.store(true, Ordering::SeqCst);
    assert!(matches!(
        w.add_sd_jwt(raw, key.alias),
        Err(WalletError::HostCallback { .. })
    ));
    assert!(matches!(
        w.delete_credential(mdl.clone()),
        Err(WalletError::HostCallback { .. })
    ));
    area.failing.store(false, Ordering::SeqCst);
    let summaries = w
        .list_credentials(CredentialFilter::default(), 0, 10)
        .unwrap();
    assert_eq!(summaries.total, 1, "neither stored nor deleted");
    assert_eq!(summaries.items[0].id, mdl);
    assert_eq!(w.verify_journal().unwrap().entries, 1);
}

#[test]
fn a_wipe_erases_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.jigap").to_string_lossy().into_owned();
    let (w, _, _) = busy_wallet(Some(path.clone()));
    let report = w.wipe_blocking().unwrap();
    assert!(report.records_removed >= 7, "{report:?}");
    let w = reopen(&path, Arc::new(Events::default()));
    assert!(all(&w, JournalFilter::default()).is_empty());
    assert_eq!(w.verify_journal().unwrap().entries, 0);
    let db = rusqlite::Connection::open(&path).unwrap();
    let rows: i64 = db
        .query_row("SELECT count(*) FROM journal", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
}
