//! End-to-end tests of the wallet through its public API: the credential store, PIN access,
//! persistence, tamper detection, host callbacks, wiping, and the async exports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use wallet_core::crypto::{ec, jose};
use wallet_core::*;

const PASSPHRASE: &str = "correct horse battery staple";
const NOW: i64 = 1_800_000_000;

/// A clock the test moves.
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

fn protector() -> Arc<dyn KeyProtector> {
    passphrase_key_protector_with_cost(PASSPHRASE.into(), 10_000).unwrap()
}

fn config(path: Option<String>) -> WalletConfig {
    WalletConfig {
        allow_loopback_http: false,
        path,
        create_if_missing: true,
        key_protector: protector(),
        secure_area: None,
        clock: Some(fixed_clock(1_800_000_000)),
        listener: None,
    }
}

fn memory_wallet() -> Arc<Wallet> {
    Wallet::open_blocking(config(None)).unwrap()
}

/// A test issuing authority named `name`, on the wallet's clock.
fn authority(name: &str) -> Arc<TestAuthority> {
    TestAuthority::create(name.into(), "KR".into(), Some(fixed_clock(NOW))).unwrap()
}

fn mdl_claims(family_name: &str, portrait: &[u8]) -> MdlClaims {
    MdlClaims {
        family_name: family_name.into(),
        given_name: "Gildong".into(),
        birth_date: "1990-01-01".into(),
        document_number: "11-23-456789-01".into(),
        issuing_authority: "Korean National Police Agency".into(),
        portrait: portrait.to_vec(),
        vehicle_categories: vec!["B".into()],
        valid_days: 365,
        status: None,
    }
}

/// Issues `claims` as an mDL to a fresh device key of `w` and stores it: its id and bytes.
fn add_mdl_with(w: &Wallet, a: &TestAuthority, claims: MdlClaims) -> (String, Vec<u8>) {
    let key = w.create_device_key().unwrap();
    let raw = a.issue_mdl(key.public_key, claims).unwrap();
    (w.add_mdoc(raw.clone(), key.alias).unwrap(), raw)
}

/// Issues an mDL to `w` and stores it: its id and bytes.
fn add_mdl(w: &Wallet, a: &TestAuthority) -> (String, Vec<u8>) {
    add_mdl_with(w, a, mdl_claims("Hong", &[0xff, 0xd8, 0xff, 0xd9]))
}

/// Issues a tax-payment e-certificate to `w` and stores it: its id and bytes.
fn add_cert(w: &Wallet, a: &TestAuthority) -> (String, Vec<u8>) {
    let key = w.create_device_key().unwrap();
    let sd_jwt = a
        .issue_e_certificate(
            "tax-payment".into(),
            key.public_key,
            r#"{"name":"홍길동","arrears":false}"#.into(),
            None,
        )
        .unwrap();
    let id = w.add_sd_jwt(sd_jwt.clone(), key.alias).unwrap();
    (id, sd_jwt.into_bytes())
}

/// The issuer the wallet records for a credential.
fn issuer_of(w: &Wallet, id: &str) -> String {
    w.get_credential(id.into()).unwrap().summary.issuer
}

fn path_in(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).to_string_lossy().into_owned()
}

#[test]
fn credentials_add_get_list_update_delete() {
    let w = memory_wallet();
    let police = authority("KR Police");
    let portrait: Vec<u8> = (0..=255u8).cycle().take(4000).collect();
    let (id, raw) = add_mdl_with(&w, &police, mdl_claims("Hong", &portrait));
    let got = w.get_credential(id.clone()).unwrap();
    assert_eq!(got.raw, raw, "bytes kept exactly");
    assert_eq!(got.summary.doc_type, "org.iso.18013.5.1.mDL");
    assert_eq!(got.summary.display_name_ko, "모바일 운전면허증");
    assert_eq!(got.summary.state, CredentialState::Valid);
    assert_eq!(got.summary.added_at, NOW);
    assert!(got.summary.issuer.contains("KR Police Document Signer"));
    let debug = format!("{got:?}");
    assert!(
        !debug.contains("Hong") && debug.contains("bytes redacted"),
        "Debug shows no credential bytes: {debug}"
    );

    let (cert_id, _) = add_cert(&w, &authority("KR MOIS"));

    let all = w
        .list_credentials(CredentialFilter::default(), 0, 10)
        .unwrap();
    assert_eq!(all.total, 2);
    assert_eq!(all.next_offset, None);
    let by_format = w
        .list_credentials(
            CredentialFilter {
                format: Some(CredentialFormat::SdJwtVc),
                ..Default::default()
            },
            0,
            10,
        )
        .unwrap();
    assert_eq!(by_format.items.len(), 1);
    assert_eq!(by_format.items[0].id, cert_id);
    let by_issuer = w
        .list_credentials(
            CredentialFilter {
                issuer: Some(got.summary.issuer.clone()),
                ..Default::default()
            },
            0,
            10,
        )
        .unwrap();
    assert_eq!(
        by_issuer.items.iter().map(|c| &c.id).collect::<Vec<_>>(),
        vec![&id]
    );
    let by_type = w
        .list_credentials(
            CredentialFilter {
                doc_type: Some("org.iso.18013.5.1.mDL".into()),
                ..Default::default()
            },
            0,
            10,
        )
        .unwrap();
    assert_eq!(by_type.total, 1);

    w.update_credential_state(id.clone(), CredentialState::Suspended)
        .unwrap();
    let suspended = w
        .list_credentials(
            CredentialFilter {
                state: Some(CredentialState::Suspended),
                ..Default::default()
            },
            0,
            10,
        )
        .unwrap();
    assert_eq!(suspended.items.len(), 1);
    assert_eq!(suspended.items[0].state, CredentialState::Suspended);

    // Revocation is final: nothing moves a revoked credential back.
    w.update_credential_state(cert_id.clone(), CredentialState::Revoked)
        .unwrap();
    for state in [
        CredentialState::Valid,
        CredentialState::Suspended,
        CredentialState::Expired,
    ] {
        assert!(matches!(
            w.update_credential_state(cert_id.clone(), state),
            Err(WalletError::InvalidInput { .. })
        ));
    }
    w.update_credential_state(cert_id.clone(), CredentialState::Revoked)
        .unwrap();
    assert_eq!(
        w.get_credential(cert_id).unwrap().summary.state,
        CredentialState::Revoked
    );

    w.delete_credential(id.clone()).unwrap();
    assert!(matches!(
        w.get_credential(id.clone()),
        Err(WalletError::NotFound { .. })
    ));
    assert!(matches!(
        w.delete_credential(id.clone()),
        Err(WalletError::NotFound { .. })
    ));
    assert!(matches!(
        w.update_credential_state(id, CredentialState::Revoked),
        Err(WalletError::NotFound { .. })
    ));
}

#[test]
fn paging_walks_every_credential_once_newest_first() {
    let w = memory_wallet();
    let a = authority("Paging");
    let mut ids = Vec::new();
    for _ in 0..23u8 {
        ids.push(add_mdl(&w, &a).0);
    }
    let mut seen = Vec::new();
    let mut offset = Some(0);
    while let Some(o) = offset {
        let page = w
            .list_credentials(CredentialFilter::default(), o, 5)
            .unwrap();
        assert_eq!(page.total, 23);
        assert!(page.items.len() <= 5);
        seen.extend(page.items.into_iter().map(|c| c.id));
        offset = page.next_offset;
    }
    let mut sorted_seen = seen.clone();
    sorted_seen.sort();
    ids.sort();
    assert_eq!(sorted_seen, ids);
    assert!(matches!(
        w.list_credentials(CredentialFilter::default(), 0, 0),
        Err(WalletError::InvalidInput { .. })
    ));
    assert!(matches!(
        w.list_credentials(CredentialFilter::default(), 0, MAX_PAGE_SIZE + 1),
        Err(WalletError::InvalidInput { .. })
    ));
}

#[test]
fn bad_credential_input_is_rejected_and_nothing_is_written() {
    let w = memory_wallet();
    let key = w.create_device_key().unwrap();
    let random: Vec<u8> = (0..100u32).map(|i| (i * 37 + 11) as u8).collect();
    for bytes in [
        vec![],
        random.clone(),
        vec![0xa0],
        vec![0u8; MAX_CREDENTIAL_BYTES + 1],
    ] {
        let r = w.add_mdoc(bytes, key.alias.clone());
        assert!(
            matches!(
                r,
                Err(WalletError::Verification { .. } | WalletError::InvalidInput { .. })
            ),
            "{r:?}"
        );
    }
    for text in ["", "not an sd-jwt", "a.b.c~", &"x~".repeat(1000)] {
        let r = w.add_sd_jwt(text.into(), key.alias.clone());
        assert!(
            matches!(
                r,
                Err(WalletError::Verification { .. } | WalletError::InvalidInput { .. })
            ),
            "{r:?}"
        );
    }
    // A real mDL under a bad alias, or bound to another key, is refused too.
    let a = authority("Intake");
    let mdl = a
        .issue_mdl(key.public_key.clone(), mdl_claims("Hong", &[1, 2, 3]))
        .unwrap();
    assert!(matches!(
        w.add_mdoc(mdl.clone(), "bad alias!".into()),
        Err(WalletError::InvalidInput { .. })
    ));
    let other = w.create_device_key().unwrap();
    assert!(matches!(
        w.add_mdoc(mdl, other.alias),
        Err(WalletError::InvalidInput { .. })
    ));
    assert_eq!(w.status().unwrap().credential_count, Some(0));
}

#[test]
fn pin_lifecycle_delay_and_lockout() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(&dir, "pin.jigap");
    let clock = Arc::new(TestClock(AtomicI64::new(NOW)));
    let cfg = || WalletConfig {
        allow_loopback_http: false,
        clock: Some(clock.clone()),
        ..config(Some(path.clone()))
    };
    let w = Wallet::open_blocking(cfg()).unwrap();
    let gov = authority("Gov");
    let (id, raw) = add_mdl(&w, &gov);
    w.add_trust_anchor(
        TrustRole::IdentityVerifier,
        gov.root_certificate(TrustRole::IdentityVerifier).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        w.verify_pin("123456".into()),
        Err(WalletError::PinNotSet)
    ));
    for bad in ["12345", "1234567", "12345a", "١٢٣٤٥٦"] {
        let r = w.set_pin(bad.into());
        assert!(
            matches!(r, Err(WalletError::InvalidInput { .. })),
            "{bad}: {r:?}"
        );
    }
    w.set_pin("123456".into()).unwrap();
    assert!(matches!(
        w.set_pin("654321".into()),
        Err(WalletError::InvalidInput { .. })
    ));
    w.lock().unwrap();
    assert!(matches!(
        w.get_credential(id.clone()),
        Err(WalletError::Locked)
    ));
    assert!(matches!(
        w.list_credentials(CredentialFilter::default(), 0, 10),
        Err(WalletError::Locked)
    ));
    assert!(matches!(
        w.add_mdoc(raw.clone(), "any".into()),
        Err(WalletError::Locked)
    ));
    assert!(matches!(w.create_device_key(), Err(WalletError::Locked)));
    assert_eq!(w.status().unwrap().credential_count, None);

    assert!(matches!(
        w.verify_pin("000000".into()),
        Err(WalletError::WrongPin { tries_left: 4 })
    ));
    assert!(matches!(
        w.verify_pin("000001".into()),
        Err(WalletError::WrongPin { tries_left: 3 })
    ));
    w.verify_pin("123456".into()).unwrap();
    assert_eq!(w.get_credential(id.clone()).unwrap().raw, raw);
    assert_eq!(
        w.status().unwrap().pin_tries_left,
        5,
        "success resets the counter"
    );

    w.change_pin("123456".into(), "246810".into()).unwrap();
    w.lock().unwrap();
    assert!(matches!(
        w.verify_pin("123456".into()),
        Err(WalletError::WrongPin { tries_left: 4 })
    ));
    w.verify_pin("246810".into()).unwrap();

    // Failures survive a restart: no free tries by killing the app.
    w.lock().unwrap();
    for expected in [4, 3, 2] {
        assert!(matches!(
            w.verify_pin("999999".into()),
            Err(WalletError::WrongPin { tries_left }) if tries_left == expected
        ));
    }
    // After the third wrong PIN the next try waits 30 seconds, even the right PIN.
    let retry_at = NOW + 30;
    assert!(matches!(
        w.verify_pin("246810".into()),
        Err(WalletError::PinDelayed { retry_at: r }) if r == retry_at
    ));
    assert_eq!(w.status().unwrap().pin_retry_at, Some(retry_at));
    w.close_store().unwrap();
    let w = Wallet::open_blocking(cfg()).unwrap();
    assert!(
        !w.status().unwrap().unlocked,
        "a wallet with a PIN opens locked"
    );
    assert!(matches!(
        w.verify_pin("999999".into()),
        Err(WalletError::PinDelayed { .. })
    ));
    clock.advance(30);
    assert!(matches!(
        w.verify_pin("999999".into()),
        Err(WalletError::WrongPin { tries_left: 1 })
    ));
    clock.advance(299);
    assert!(matches!(
        w.verify_pin("999999".into()),
        Err(WalletError::PinDelayed { .. })
    ));
    clock.advance(1);
    assert!(matches!(
        w.verify_pin("999999".into()),
        Err(WalletError::WrongPin { tries_left: 0 })
    ));
    clock.advance(3600);
    assert!(matches!(
        w.verify_pin("246810".into()),
        Err(WalletError::PinLockedOut)
    ));
    let status = w.status().unwrap();
    assert!(status.pin_locked_out && !status.unlocked && status.pin_tries_left == 0);
    assert!(matches!(
        w.get_credential(id.clone()),
        Err(WalletError::Locked)
    ));

    // A new PIN alone no longer unlocks a locked-out wallet: it takes a re-verification
    // token for this wallet's challenge from a trusted identity verifier.
    let challenge = w.pin_reset_challenge().unwrap();
    let stranger = authority("Stranger");
    for token in [
        vec![],
        b"not a token".to_vec(),
        stranger.sign_pin_reset(challenge.clone(), 600).unwrap(),
        gov.sign_pin_reset(vec![0; 32], 600).unwrap(),
        // Another role of the same authority is not an identity verifier.
        gov.sign_bill(BillDraft {
            id: "b".into(),
            version: 1,
            sender_name: "x".into(),
            kind: BillKind::LocalTax,
            title: "t".into(),
            amount_krw: 1,
            due_date: "2027-01-01".into(),
            payee_account: "a".into(),
            period: "p".into(),
            cancelled: false,
        })
        .unwrap(),
    ] {
        let r = w.reset_pin("135790".into(), token);
        assert!(matches!(r, Err(WalletError::Verification { .. })), "{r:?}");
    }
    // A token valid for a minute, used two minutes later, is stale.
    let stale = gov.sign_pin_reset(challenge.clone(), 60).unwrap();
    clock.advance(120);
    assert!(matches!(
        w.reset_pin("135790".into(), stale),
        Err(WalletError::Verification { .. })
    ));
    let challenge = w.pin_reset_challenge().unwrap();
    let gov_now = TestAuthority::load(gov.material(), Some(clock.clone())).unwrap();
    let token = gov_now.sign_pin_reset(challenge, 600).unwrap();
    w.reset_pin("135790".into(), token.clone()).unwrap();
    assert_eq!(w.get_credential(id.clone()).unwrap().raw, raw);
    assert!(matches!(
        w.reset_pin("111111".into(), token),
        Err(WalletError::InvalidInput { .. })
    ));
    w.lock().unwrap();
    w.verify_pin("135790".into()).unwrap();
}

#[test]
fn a_locked_out_citizen_can_erase_and_start_again() {
    let clock = Arc::new(TestClock(AtomicI64::new(NOW)));
    let w = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        clock: Some(clock.clone()),
        ..config(None)
    })
    .unwrap();
    let a = authority("Gov");
    add_mdl(&w, &a);
    add_cert(&w, &a);
    w.add_trust_anchor(
        TrustRole::MdocReader,
        a.root_certificate(TrustRole::MdocReader).unwrap(),
    )
    .unwrap();
    w.set_pin("123456".into()).unwrap();
    assert!(matches!(
        w.reset_pin_by_erasing("999999".into()),
        Err(WalletError::InvalidInput { .. })
    ));
    for _ in 0..5 {
        let _ = w.verify_pin("000000".into());
        clock.advance(600);
    }
    assert!(w.status().unwrap().pin_locked_out);
    assert_eq!(w.reset_pin_by_erasing("999999".into()).unwrap(), 2);
    let status = w.status().unwrap();
    assert!(status.unlocked && !status.pin_locked_out);
    assert_eq!(status.credential_count, Some(0));
    assert_eq!(
        w.list_trust_anchors(None).unwrap().len(),
        1,
        "trust anchors are configuration, not holdings"
    );
    // The record went with the holdings (whoever sets the new PIN does not read the old one),
    // its key too, and a new record starts under a new key.
    assert_eq!(w.verify_journal().unwrap().entries, 0);
    add_mdl(&w, &a);
    assert_eq!(w.verify_journal().unwrap().entries, 1);
    w.lock().unwrap();
    w.verify_pin("999999".into()).unwrap();
}

#[test]
fn a_rolled_back_try_counter_locks_the_wallet_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(&dir, "rollback.jigap");
    let clock = Arc::new(TestClock(AtomicI64::new(NOW)));
    let cfg = || WalletConfig {
        allow_loopback_http: false,
        clock: Some(clock.clone()),
        ..config(Some(path.clone()))
    };
    let w = Wallet::open_blocking(cfg()).unwrap();
    w.set_pin("123456".into()).unwrap();
    w.close_store().unwrap();
    // Keep the counter row as it is now (no failures)...
    let saved: Vec<u8> = rusqlite_open(&path)
        .query_row(
            "SELECT value FROM meta WHERE key = 'pin_failures'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let w = Wallet::open_blocking(cfg()).unwrap();
    for _ in 0..3 {
        let _ = w.verify_pin("000000".into());
        clock.advance(600);
    }
    w.close_store().unwrap();
    // ...and put the old copy back, as an attacker with the file would for free tries.
    rusqlite_open(&path)
        .execute(
            "UPDATE meta SET value = ?1 WHERE key = 'pin_failures'",
            [&saved],
        )
        .unwrap();
    let w = Wallet::open_blocking(cfg()).unwrap();
    assert!(w.status().unwrap().pin_locked_out, "read as locked out");
    assert!(matches!(
        w.verify_pin("123456".into()),
        Err(WalletError::StoreCorrupt { .. })
    ));
    assert!(matches!(
        w.verify_pin("123456".into()),
        Err(WalletError::PinLockedOut)
    ));
}

#[test]
fn close_and_reopen_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(&dir, "w.jigap");
    let w = Wallet::open_blocking(config(Some(path.clone()))).unwrap();
    assert!(w.status().unwrap().newly_created);
    let key = w.create_device_key().unwrap();
    let (id, raw) = add_mdl(&w, &authority("Reopen"));
    w.close_store().unwrap();
    assert!(matches!(w.status(), Err(WalletError::Closed)));
    assert!(matches!(
        w.get_credential(id.clone()),
        Err(WalletError::Closed)
    ));

    let w = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        create_if_missing: false,
        ..config(Some(path.clone()))
    })
    .unwrap();
    assert!(!w.status().unwrap().newly_created);
    let got = w.get_credential(id).unwrap();
    assert_eq!(got.raw, raw);
    assert!(got.summary.key_alias.is_some());
    // The software key survived too: a proof made now verifies with the old public key.
    let jwt = w
        .key_proof_jwt(key.alias, "https://issuer.example".into(), None)
        .unwrap();
    jose::verify_es256(&jwt, &key.public_key).unwrap();
}

#[test]
fn missing_store_is_not_created_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(&dir, "absent.jigap");
    let err = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        create_if_missing: false,
        ..config(Some(path.clone()))
    })
    .unwrap_err();
    assert!(matches!(err, WalletError::NotFound { .. }), "{err:?}");
    assert!(!std::path::Path::new(&path).exists());
}

#[test]
fn wrong_passphrase_is_wrong_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(&dir, "w.jigap");
    Wallet::open_blocking(config(Some(path.clone())))
        .unwrap()
        .close_store()
        .unwrap();
    let wrong = WalletConfig {
        allow_loopback_http: false,
        key_protector: passphrase_key_protector_with_cost("not it".into(), 10_000).unwrap(),
        ..config(Some(path.clone()))
    };
    assert!(matches!(
        Wallet::open_blocking(wrong),
        Err(WalletError::WrongKey)
    ));
    Wallet::open_blocking(config(Some(path))).unwrap();
}

#[test]
fn corrupt_store_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(&dir, "junk.jigap");
    let junk: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &junk).unwrap();
    let err = Wallet::open_blocking(config(Some(path.clone()))).unwrap_err();
    assert!(matches!(err, WalletError::StoreCorrupt { .. }), "{err:?}");
    assert_eq!(std::fs::read(&path).unwrap(), junk, "never recreated");

    // A SQLite database that is not a wallet.
    let other = path_in(&dir, "other.db");
    {
        let conn = rusqlite_open(&other);
        conn.execute_batch("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('keep me');")
            .unwrap();
    }
    assert!(matches!(
        Wallet::open_blocking(config(Some(other.clone()))),
        Err(WalletError::StoreCorrupt { .. })
    ));
    let conn = rusqlite_open(&other);
    let kept: String = conn
        .query_row("SELECT x FROM notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, "keep me");
}

fn rusqlite_open(path: &str) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn newer_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(&dir, "w.jigap");
    Wallet::open_blocking(config(Some(path.clone())))
        .unwrap()
        .close_store()
        .unwrap();
    {
        let conn = rusqlite_open(&path);
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    assert!(matches!(
        Wallet::open_blocking(config(Some(path))),
        Err(WalletError::UnsupportedStoreVersion { found: 99, .. })
    ));
}

#[test]
fn tampered_rows_are_typed_errors_never_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(&dir, "w.jigap");
    let w = Wallet::open_blocking(config(Some(path.clone()))).unwrap();
    let (a, _) = add_mdl(&w, &authority("issuer-a"));
    let (b, _) = add_mdl(&w, &authority("issuer-b"));
    let issuer_a = issuer_of(&w, &a);
    w.close_store().unwrap();

    // Swap the sealed raw values of the two rows.
    {
        let conn = rusqlite_open(&path);
        let raw_a: Vec<u8> = conn
            .query_row("SELECT raw FROM credentials WHERE id = ?1", [&a], |r| {
                r.get(0)
            })
            .unwrap();
        let raw_b: Vec<u8> = conn
            .query_row("SELECT raw FROM credentials WHERE id = ?1", [&b], |r| {
                r.get(0)
            })
            .unwrap();
        conn.execute(
            "UPDATE credentials SET raw = ?1 WHERE id = ?2",
            rusqlite::params![raw_b, a],
        )
        .unwrap();
        conn.execute(
            "UPDATE credentials SET raw = ?1 WHERE id = ?2",
            rusqlite::params![raw_a, b],
        )
        .unwrap();
        // Flip one byte of b's metadata.
        let mut meta: Vec<u8> = conn
            .query_row(
                "SELECT metadata FROM credentials WHERE id = ?1",
                [&b],
                |r| r.get(0),
            )
            .unwrap();
        let last = meta.len() - 1;
        meta[last] ^= 0x01;
        conn.execute(
            "UPDATE credentials SET metadata = ?1 WHERE id = ?2",
            rusqlite::params![meta, b],
        )
        .unwrap();
    }
    let w = Wallet::open_blocking(config(Some(path.clone()))).unwrap();
    assert!(matches!(
        w.get_credential(a.clone()),
        Err(WalletError::StoreCorrupt { .. })
    ));
    assert!(matches!(
        w.get_credential(b),
        Err(WalletError::StoreCorrupt { .. })
    ));
    assert!(matches!(
        w.list_credentials(CredentialFilter::default(), 0, 10),
        Err(WalletError::StoreCorrupt { .. })
    ));
    // The intact row's metadata still lists on its own.
    let only_a = w
        .list_credentials(
            CredentialFilter {
                issuer: Some(issuer_a),
                ..Default::default()
            },
            0,
            10,
        )
        .unwrap();
    assert_eq!(only_a.items[0].id, a);
    w.close_store().unwrap();

    // A tampered wrapped key or key check is reported, not recreated.
    {
        let conn = rusqlite_open(&path);
        conn.execute("UPDATE meta SET value = x'00' WHERE key = 'key_check'", [])
            .unwrap();
    }
    assert!(matches!(
        Wallet::open_blocking(config(Some(path.clone()))),
        Err(WalletError::WrongKey)
    ));
    {
        let conn = rusqlite_open(&path);
        conn.execute("DELETE FROM meta WHERE key = 'wrapped_data_key'", [])
            .unwrap();
    }
    assert!(matches!(
        Wallet::open_blocking(config(Some(path))),
        Err(WalletError::StoreCorrupt { .. })
    ));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_plaintext_in_the_database_or_its_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(&dir, "scan.jigap");
    let secrets: Vec<&[u8]> = vec![
        b"org.iso.18013.5.1.mDL",
        b"Seoul Metropolitan Police Agency",
        "모바일 운전면허증".as_bytes(),
        b"Mobile driver's licence",
        b"RAW-CREDENTIAL-BYTES-0123456789",
        b"HONGSCANMARKER",
        b"11-23-456789-01",
    ];
    let w = Wallet::open_blocking(config(Some(path.clone()))).unwrap();
    w.set_pin("482916".into()).unwrap();
    let mut portrait = b"RAW-CREDENTIAL-BYTES-0123456789".to_vec();
    portrait.extend_from_slice(&[0u8; 64]);
    add_mdl_with(
        &w,
        &authority("Seoul Metropolitan Police Agency"),
        mdl_claims("HONGSCANMARKER", &portrait),
    );

    let scan = |label: &str| {
        let mut scanned = 0;
        for file in wallet_core::store::companion_files(std::path::Path::new(&path)) {
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            scanned += bytes.len();
            for s in &secrets {
                assert!(
                    !contains(&bytes, s),
                    "{label}: {:?} found in {}",
                    String::from_utf8_lossy(s),
                    file.display()
                );
            }
            assert!(
                !contains(&bytes, b"482916"),
                "{label}: PIN found in {}",
                file.display()
            );
        }
        assert!(scanned > 0);
    };
    // While open, the WAL holds the recent pages.
    let wal = format!("{path}-wal");
    assert!(
        std::fs::metadata(&wal)
            .map(|m| m.len() > 0)
            .unwrap_or(false),
        "the WAL is in use"
    );
    scan("open");
    w.close_store().unwrap();
    scan("closed");

    // The software key's private scalar is sealed too: it must not be in the file.
    let w = Wallet::open_blocking(config(Some(path.clone()))).unwrap();
    w.verify_pin("482916".into()).unwrap();
    w.close_store().unwrap();
}

/// A host secure area written as a host app would: software keys in memory, and a switch
/// that makes every call throw.
#[derive(Default)]
struct HostArea {
    keys: Mutex<Vec<(String, ec::SoftwareKey)>>,
    failing: Mutex<bool>,
    garbage_signatures: Mutex<bool>,
    deleted: Mutex<Vec<String>>,
}

impl HostArea {
    fn check(&self) -> Result<(), WalletError> {
        if *self.failing.lock().unwrap() {
            // What an unexpected host exception looks like when it arrives in Rust.
            return Err(uniffi::UnexpectedUniFFICallbackError::new("keystore unavailable").into());
        }
        Ok(())
    }
    fn with_key<T>(
        &self,
        alias: &str,
        f: impl FnOnce(&ec::SoftwareKey) -> T,
    ) -> Result<T, WalletError> {
        let keys = self.keys.lock().unwrap();
        let (_, key) = keys
            .iter()
            .find(|(a, _)| a == alias)
            .ok_or(WalletError::NotFound { what: alias.into() })?;
        Ok(f(key))
    }
}

impl SecureArea for HostArea {
    fn create_key(&self, alias: String) -> Result<Vec<u8>, WalletError> {
        self.check()?;
        let key = ec::SoftwareKey::generate().unwrap();
        let public = key.public_key().to_vec();
        self.keys.lock().unwrap().push((alias, key));
        Ok(public)
    }
    fn public_key(&self, alias: String) -> Result<Vec<u8>, WalletError> {
        self.check()?;
        self.with_key(&alias, |k| k.public_key().to_vec())
    }
    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, WalletError> {
        self.check()?;
        if *self.garbage_signatures.lock().unwrap() {
            return Ok(vec![7u8; 64]);
        }
        // Hardware keystores return DER; the core accepts it.
        let raw = self.with_key(&alias, |k| k.sign(&message).unwrap())?;
        Ok(p256::ecdsa::Signature::from_slice(&raw)
            .unwrap()
            .to_der()
            .as_bytes()
            .to_vec())
    }
    fn key_agreement(&self, alias: String, peer: Vec<u8>) -> Result<Vec<u8>, WalletError> {
        self.check()?;
        self.with_key(&alias, |k| k.agree(&peer).map(|s| s.expose().to_vec()))?
            .map_err(Into::into)
    }
    fn delete_key(&self, alias: String) -> Result<(), WalletError> {
        self.check()?;
        self.keys.lock().unwrap().retain(|(a, _)| a != &alias);
        self.deleted.lock().unwrap().push(alias);
        Ok(())
    }
}

#[test]
fn host_secure_area_signs_and_failures_leave_the_wallet_usable() {
    let area = Arc::new(HostArea::default());
    let w = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        secure_area: Some(area.clone()),
        ..config(None)
    })
    .unwrap();
    let key = w.create_device_key().unwrap();
    let jwt = w
        .key_proof_jwt(
            key.alias.clone(),
            "https://issuer.example".into(),
            Some("c-nonce".into()),
        )
        .unwrap();
    let verified = jose::verify_es256(&jwt, &key.public_key).unwrap();
    assert_eq!(verified.header["typ"], "openid4vci-proof+jwt");
    assert_eq!(verified.payload["nonce"], "c-nonce");
    assert_eq!(verified.payload["iat"], 1_800_000_000);
    assert_eq!(
        jose::p256_from_jwk(&verified.header["jwk"]).unwrap(),
        key.public_key
    );

    *area.failing.lock().unwrap() = true;
    let err = w
        .key_proof_jwt(key.alias.clone(), "aud".into(), None)
        .unwrap_err();
    assert!(
        matches!(&err, WalletError::HostCallback { reason } if reason.contains("keystore unavailable")),
        "{err:?}"
    );
    assert!(matches!(
        w.create_device_key(),
        Err(WalletError::HostCallback { .. })
    ));
    *area.failing.lock().unwrap() = false;

    *area.garbage_signatures.lock().unwrap() = true;
    assert!(matches!(
        w.key_proof_jwt(key.alias.clone(), "aud".into(), None),
        Err(WalletError::HostCallback { .. })
    ));
    *area.garbage_signatures.lock().unwrap() = false;

    // Still usable.
    let (id, _) = add_mdl(&w, &authority("Host"));
    let bound = w
        .get_credential(id.clone())
        .unwrap()
        .summary
        .key_alias
        .unwrap();
    w.key_proof_jwt(key.alias.clone(), "aud".into(), None)
        .unwrap();
    assert!(matches!(
        w.key_proof_jwt("nope".into(), "aud".into(), None),
        Err(WalletError::NotFound { .. })
    ));

    // Deleting the credential deletes its host key.
    w.delete_credential(id).unwrap();
    assert_eq!(*area.deleted.lock().unwrap(), vec![bound]);
}

/// A host key protector that can be told to fail.
struct FlakyProtector {
    inner: Arc<dyn KeyProtector>,
    fail: Mutex<bool>,
}

impl KeyProtector for FlakyProtector {
    fn wrap_key(&self, k: Vec<u8>) -> Result<Vec<u8>, WalletError> {
        if *self.fail.lock().unwrap() {
            return Err(uniffi::UnexpectedUniFFICallbackError::new("user cancelled").into());
        }
        self.inner.wrap_key(k)
    }
    fn unwrap_key(&self, k: Vec<u8>) -> Result<Vec<u8>, WalletError> {
        if *self.fail.lock().unwrap() {
            return Err(uniffi::UnexpectedUniFFICallbackError::new("user cancelled").into());
        }
        self.inner.unwrap_key(k)
    }
}

#[test]
fn failing_key_protector_is_a_host_callback_error_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(&dir, "w.jigap");
    let flaky = Arc::new(FlakyProtector {
        inner: protector(),
        fail: Mutex::new(true),
    });
    let cfg = || WalletConfig {
        allow_loopback_http: false,
        key_protector: flaky.clone(),
        ..config(Some(path.clone()))
    };
    assert!(matches!(
        Wallet::open_blocking(cfg()),
        Err(WalletError::HostCallback { .. })
    ));
    *flaky.fail.lock().unwrap() = false;
    let w = Wallet::open_blocking(cfg()).unwrap();
    assert!(
        w.status().unwrap().newly_created,
        "the failed first open left nothing half-made"
    );
    let (id, raw) = add_mdl(&w, &authority("Kept"));
    w.close_store().unwrap();
    *flaky.fail.lock().unwrap() = true;
    assert!(matches!(
        Wallet::open_blocking(cfg()),
        Err(WalletError::HostCallback { .. })
    ));
    *flaky.fail.lock().unwrap() = false;
    assert_eq!(
        Wallet::open_blocking(cfg())
            .unwrap()
            .get_credential(id)
            .unwrap()
            .raw,
        raw
    );
}

#[test]
fn expiry_follows_the_injected_clock() {
    let w = memory_wallet();
    // An mDL issued ten days ago for one day has expired by the wallet's clock.
    let earlier = TestAuthority::create(
        "Earlier".into(),
        "KR".into(),
        Some(fixed_clock(NOW - 864_000)),
    )
    .unwrap();
    let (old, _) = add_mdl_with(
        &w,
        &earlier,
        MdlClaims {
            valid_days: 1,
            ..mdl_claims("Hong", &[1])
        },
    );
    let (fresh, _) = add_mdl(&w, &authority("Now"));
    assert_eq!(w.expire_credentials().unwrap(), vec![old.clone()]);
    assert_eq!(
        w.get_credential(old).unwrap().summary.state,
        CredentialState::Expired
    );
    assert_eq!(
        w.get_credential(fresh).unwrap().summary.state,
        CredentialState::Valid
    );
    assert!(w.expire_credentials().unwrap().is_empty());
}

#[test]
fn wipe_crypto_erases_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(&dir, "w.jigap");
    let w = Wallet::open_blocking(config(Some(path.clone()))).unwrap();
    w.set_pin("112233".into()).unwrap();
    let a = authority("Wipe");
    for _ in 0..3u8 {
        add_mdl(&w, &a);
    }
    let files = wallet_core::store::companion_files(std::path::Path::new(&path));
    let before: Vec<u8> = files
        .iter()
        .filter_map(|f| std::fs::read(f).ok())
        .flatten()
        .collect();
    assert!(
        contains(&before, b"JGP1"),
        "the wrapped key is in the files before the wipe"
    );
    w.lock().unwrap();
    let report = w.wipe_blocking().unwrap();
    assert_eq!(report.credentials_removed, 3);
    // Three credential keys and the key that signs the citizen's record.
    assert_eq!(report.software_keys_removed, 4);
    assert!(
        report.records_removed >= 6,
        "wrapped key, key check, PIN verifier, three issuance entries: {report:?}"
    );
    assert!(report.data_key_destroyed);
    assert!(matches!(w.status(), Err(WalletError::Closed)));
    for file in wallet_core::store::companion_files(std::path::Path::new(&path)) {
        if let Ok(bytes) = std::fs::read(&file) {
            assert!(
                !contains(&bytes, b"JGP1"),
                "wrapped key survived in {}",
                file.display()
            );
        }
    }
    // Reopening gives a new, empty wallet.
    let w = Wallet::open_blocking(config(Some(path))).unwrap();
    let status = w.status().unwrap();
    assert!(status.newly_created && !status.pin_set && status.credential_count == Some(0));
}

#[test]
fn wipe_deletes_host_keys() {
    let area = Arc::new(HostArea::default());
    let w = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        secure_area: Some(area.clone()),
        ..config(None)
    })
    .unwrap();
    let spare = w.create_device_key().unwrap();
    let a = authority("Host Wipe");
    let (id, _) = add_mdl(&w, &a);
    let bound = w.get_credential(id).unwrap().summary.key_alias.unwrap();
    // The MyData consent key lives in the host area too.
    w.add_trust_anchor(
        TrustRole::DataRecipient,
        a.root_certificate(TrustRole::DataRecipient).unwrap(),
    )
    .unwrap();
    w.create_consent(ConsentRequest {
        recipient_certificate: a.signer_certificate(TrustRole::DataRecipient).unwrap(),
        bundles: vec!["income".into()],
        purpose: "loan".into(),
        mode: ConsentMode::Selected,
        valid_days: 1,
    })
    .unwrap();
    let mut expected: Vec<String> = area
        .keys
        .lock()
        .unwrap()
        .iter()
        .map(|(alias, _)| alias.clone())
        .collect();
    expected.sort();
    assert_eq!(expected.len(), 4, "spare, bound, consent and record keys");
    assert!(expected.contains(&spare.alias) && expected.contains(&bound));
    let report = w.wipe_blocking().unwrap();
    assert_eq!(report.host_keys_removed, 4);
    assert!(report.data_key_destroyed);
    let mut deleted = area.deleted.lock().unwrap().clone();
    deleted.sort();
    assert_eq!(deleted, expected);
    assert!(area.keys.lock().unwrap().is_empty());
}

#[test]
fn a_wipe_whose_host_keys_survive_is_not_reported_as_success() {
    let area = Arc::new(HostArea::default());
    let w = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        secure_area: Some(area.clone()),
        ..config(None)
    })
    .unwrap();
    let key = w.create_device_key().unwrap();
    *area.failing.lock().unwrap() = true;
    match w.wipe_blocking() {
        Err(WalletError::WipeIncomplete {
            undeleted_key_aliases,
            data_key_destroyed,
        }) => {
            assert_eq!(undeleted_key_aliases, vec![key.alias]);
            assert!(data_key_destroyed, "the store is erased all the same");
        }
        other => panic!("expected WipeIncomplete, got {other:?}"),
    }
    assert!(matches!(w.status(), Err(WalletError::Closed)));
}

#[test]
fn async_exports_run_off_the_callers_thread() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let w = open_wallet(config(None)).await.unwrap();
        add_mdl(&w, &authority("Async"));
        let report = w.clone().wipe().await.unwrap();
        assert_eq!(report.credentials_removed, 1);
        assert!(matches!(w.clone().wipe().await, Err(WalletError::Closed)));
        let err = open_wallet(WalletConfig {
            allow_loopback_http: false,
            path: Some(" ".into()),
            ..config(None)
        })
        .await
        .unwrap_err();
        assert!(matches!(err, WalletError::InvalidInput { .. }));
    });
}

#[test]
fn concurrent_use_from_many_threads() {
    let dir = tempfile::tempdir().unwrap();
    let w = Wallet::open_blocking(config(Some(path_in(&dir, "w.jigap")))).unwrap();
    let authorities: Vec<_> = (0..4).map(|t| authority(&format!("issuer-{t}"))).collect();
    let handles: Vec<_> = authorities
        .iter()
        .map(|a| {
            let (w, a) = (w.clone(), a.clone());
            std::thread::spawn(move || {
                for _ in 0..25u8 {
                    let (id, raw) = add_mdl(&w, &a);
                    assert_eq!(w.get_credential(id).unwrap().raw, raw);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(w.status().unwrap().credential_count, Some(100));
    let one = w
        .list_credentials(
            CredentialFilter {
                issuer: Some(
                    w.list_credentials(CredentialFilter::default(), 0, 100)
                        .unwrap()
                        .items
                        .into_iter()
                        .map(|c| c.issuer)
                        .find(|i| i.contains("issuer-2"))
                        .unwrap(),
                ),
                ..Default::default()
            },
            0,
            100,
        )
        .unwrap();
    assert_eq!(one.total, 25);
}
