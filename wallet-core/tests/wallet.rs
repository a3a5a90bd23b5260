//! End-to-end tests of the wallet through its public API: the credential store, PIN access,
//! persistence, tamper detection, host callbacks, wiping, and the async exports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use wallet_core::crypto::{ec, jose};
use wallet_core::*;

const PASSPHRASE: &str = "correct horse battery staple";

fn protector() -> Arc<dyn KeyProtector> {
    passphrase_key_protector_with_cost(PASSPHRASE.into(), 10_000).unwrap()
}

fn config(path: Option<String>) -> WalletConfig {
    WalletConfig {
        path,
        create_if_missing: true,
        key_protector: protector(),
        secure_area: None,
        clock: Some(fixed_clock(1_800_000_000)),
        listener: None,
    }
}

fn memory_wallet() -> Arc<Wallet> {
    Wallet::open(config(None)).unwrap()
}

fn sample(doc_type: &str, issuer: &str, raw: &[u8]) -> NewCredential {
    NewCredential {
        format: CredentialFormat::MsoMdoc,
        doc_type: doc_type.into(),
        issuer: issuer.into(),
        display_name_ko: "모바일 운전면허증".into(),
        display_name_en: "Mobile driver's licence".into(),
        valid_from: Some(1_700_000_000),
        valid_until: Some(1_900_000_000),
        key_alias: None,
        raw: raw.to_vec(),
    }
}

fn path_in(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).to_string_lossy().into_owned()
}

#[test]
fn credentials_add_get_list_update_delete() {
    let w = memory_wallet();
    let raw: Vec<u8> = (0..=255u8).cycle().take(4000).collect();
    let id = w
        .add_credential(sample("org.iso.18013.5.1.mDL", "KR Police", &raw))
        .unwrap();
    let got = w.get_credential(id.clone()).unwrap();
    assert_eq!(got.raw, raw, "bytes kept exactly");
    assert_eq!(got.summary.doc_type, "org.iso.18013.5.1.mDL");
    assert_eq!(got.summary.display_name_ko, "모바일 운전면허증");
    assert_eq!(got.summary.state, CredentialState::Valid);
    assert_eq!(got.summary.added_at, 1_800_000_000);

    let mut cert = sample("urn:kr:cert:resident-abstract", "KR MOIS", b"eyJ...");
    cert.format = CredentialFormat::SdJwtVc;
    let cert_id = w.add_credential(cert).unwrap();

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
                issuer: Some("KR Police".into()),
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
    let mut ids = Vec::new();
    for i in 0..23u8 {
        ids.push(w.add_credential(sample("t", "i", &[i])).unwrap());
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
    let cases = [
        sample("", "i", b"x"),
        sample("t", " ", b"x"),
        sample("t", "i", b""),
        sample("t", "i", &vec![0u8; MAX_CREDENTIAL_BYTES + 1]),
        sample(&"x".repeat(MAX_TEXT_BYTES + 1), "i", b"x"),
        NewCredential {
            valid_from: Some(10),
            valid_until: Some(5),
            ..sample("t", "i", b"x")
        },
        NewCredential {
            key_alias: Some("bad alias!".into()),
            ..sample("t", "i", b"x")
        },
    ];
    for case in cases {
        assert!(matches!(
            w.add_credential(case),
            Err(WalletError::InvalidInput { .. })
        ));
    }
    assert_eq!(w.status().unwrap().credential_count, Some(0));
}

#[test]
fn pin_lifecycle_and_lockout() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(&dir, "pin.jigap");
    let w = Wallet::open(config(Some(path.clone()))).unwrap();
    let id = w.add_credential(sample("t", "i", b"raw")).unwrap();
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
        w.add_credential(sample("t", "i", b"x")),
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
    assert_eq!(w.get_credential(id.clone()).unwrap().raw, b"raw");
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
    for expected in [4, 3] {
        assert!(matches!(
            w.verify_pin("999999".into()),
            Err(WalletError::WrongPin { tries_left }) if tries_left == expected
        ));
    }
    w.close_store().unwrap();
    let w = Wallet::open(config(Some(path.clone()))).unwrap();
    assert!(
        !w.status().unwrap().unlocked,
        "a wallet with a PIN opens locked"
    );
    for expected in [2, 1, 0] {
        assert!(matches!(
            w.verify_pin("999999".into()),
            Err(WalletError::WrongPin { tries_left }) if tries_left == expected
        ));
    }
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

    w.reset_pin("135790".into()).unwrap();
    assert_eq!(w.get_credential(id.clone()).unwrap().raw, b"raw");
    assert!(matches!(
        w.reset_pin("111111".into()),
        Err(WalletError::InvalidInput { .. })
    ));
    w.lock().unwrap();
    w.verify_pin("135790".into()).unwrap();
}

#[test]
fn close_and_reopen_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(&dir, "w.jigap");
    let w = Wallet::open(config(Some(path.clone()))).unwrap();
    assert!(w.status().unwrap().newly_created);
    let key = w.create_device_key().unwrap();
    let id = w
        .add_credential(NewCredential {
            key_alias: Some(key.alias.clone()),
            ..sample("t", "i", b"\x00\x01\xff")
        })
        .unwrap();
    w.close_store().unwrap();
    assert!(matches!(w.status(), Err(WalletError::Closed)));
    assert!(matches!(
        w.get_credential(id.clone()),
        Err(WalletError::Closed)
    ));

    let w = Wallet::open(WalletConfig {
        create_if_missing: false,
        ..config(Some(path.clone()))
    })
    .unwrap();
    assert!(!w.status().unwrap().newly_created);
    let got = w.get_credential(id).unwrap();
    assert_eq!(got.raw, b"\x00\x01\xff");
    assert_eq!(got.summary.key_alias.as_deref(), Some(key.alias.as_str()));
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
    let err = Wallet::open(WalletConfig {
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
    Wallet::open(config(Some(path.clone())))
        .unwrap()
        .close_store()
        .unwrap();
    let wrong = WalletConfig {
        key_protector: passphrase_key_protector_with_cost("not it".into(), 10_000).unwrap(),
        ..config(Some(path.clone()))
    };
    assert!(matches!(Wallet::open(wrong), Err(WalletError::WrongKey)));
    Wallet::open(config(Some(path))).unwrap();
}

#[test]
fn corrupt_store_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(&dir, "junk.jigap");
    let junk: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &junk).unwrap();
    let err = Wallet::open(config(Some(path.clone()))).unwrap_err();
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
        Wallet::open(config(Some(other.clone()))),
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
    Wallet::open(config(Some(path.clone())))
        .unwrap()
        .close_store()
        .unwrap();
    {
        let conn = rusqlite_open(&path);
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    assert!(matches!(
        Wallet::open(config(Some(path))),
        Err(WalletError::UnsupportedStoreVersion { found: 99, .. })
    ));
}

#[test]
fn tampered_rows_are_typed_errors_never_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(&dir, "w.jigap");
    let w = Wallet::open(config(Some(path.clone()))).unwrap();
    let a = w
        .add_credential(sample("type-a", "issuer-a", b"AAAA"))
        .unwrap();
    let b = w
        .add_credential(sample("type-b", "issuer-b", b"BBBB"))
        .unwrap();
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
    let w = Wallet::open(config(Some(path.clone()))).unwrap();
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
                issuer: Some("issuer-a".into()),
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
        Wallet::open(config(Some(path.clone()))),
        Err(WalletError::WrongKey)
    ));
    {
        let conn = rusqlite_open(&path);
        conn.execute("DELETE FROM meta WHERE key = 'wrapped_data_key'", [])
            .unwrap();
    }
    assert!(matches!(
        Wallet::open(config(Some(path))),
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
        b"org.iso.18013.5.1.mDL.scanmarker",
        b"Seoul Metropolitan Police Agency",
        "홍길동 운전면허증".as_bytes(),
        b"Hong Gildong driving licence",
        b"RAW-CREDENTIAL-BYTES-0123456789",
        b"900101-1234567",
    ];
    let w = Wallet::open(config(Some(path.clone()))).unwrap();
    w.set_pin("482916".into()).unwrap();
    let key = w.create_device_key().unwrap();
    let mut raw = b"RAW-CREDENTIAL-BYTES-0123456789 rrn=900101-1234567".to_vec();
    raw.extend_from_slice(&[0u8; 64]);
    w.add_credential(NewCredential {
        format: CredentialFormat::MsoMdoc,
        doc_type: "org.iso.18013.5.1.mDL.scanmarker".into(),
        issuer: "Seoul Metropolitan Police Agency".into(),
        display_name_ko: "홍길동 운전면허증".into(),
        display_name_en: "Hong Gildong driving licence".into(),
        valid_from: None,
        valid_until: None,
        key_alias: Some(key.alias.clone()),
        raw,
    })
    .unwrap();

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
    let w = Wallet::open(config(Some(path.clone()))).unwrap();
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
    let w = Wallet::open(WalletConfig {
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
    let id = w
        .add_credential(NewCredential {
            key_alias: Some(key.alias.clone()),
            ..sample("t", "i", b"x")
        })
        .unwrap();
    w.key_proof_jwt(key.alias.clone(), "aud".into(), None)
        .unwrap();
    assert!(matches!(
        w.key_proof_jwt("nope".into(), "aud".into(), None),
        Err(WalletError::NotFound { .. })
    ));

    // Deleting the credential deletes its host key.
    w.delete_credential(id).unwrap();
    assert_eq!(*area.deleted.lock().unwrap(), vec![key.alias.clone()]);
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
        key_protector: flaky.clone(),
        ..config(Some(path.clone()))
    };
    assert!(matches!(
        Wallet::open(cfg()),
        Err(WalletError::HostCallback { .. })
    ));
    *flaky.fail.lock().unwrap() = false;
    let w = Wallet::open(cfg()).unwrap();
    assert!(
        w.status().unwrap().newly_created,
        "the failed first open left nothing half-made"
    );
    let id = w.add_credential(sample("t", "i", b"kept")).unwrap();
    w.close_store().unwrap();
    *flaky.fail.lock().unwrap() = true;
    assert!(matches!(
        Wallet::open(cfg()),
        Err(WalletError::HostCallback { .. })
    ));
    *flaky.fail.lock().unwrap() = false;
    assert_eq!(
        Wallet::open(cfg()).unwrap().get_credential(id).unwrap().raw,
        b"kept"
    );
}

#[test]
fn expiry_follows_the_injected_clock() {
    let w = memory_wallet();
    let old = w
        .add_credential(NewCredential {
            valid_until: Some(1_799_999_999),
            ..sample("t", "i", b"old")
        })
        .unwrap();
    let fresh = w.add_credential(sample("t", "i", b"new")).unwrap();
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
    let w = Wallet::open(config(Some(path.clone()))).unwrap();
    w.set_pin("112233".into()).unwrap();
    let key = w.create_device_key().unwrap();
    for i in 0..3u8 {
        w.add_credential(NewCredential {
            key_alias: Some(key.alias.clone()),
            ..sample("t", "i", &[i; 40])
        })
        .unwrap();
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
    assert_eq!(report.software_keys_removed, 1);
    assert!(
        report.records_removed >= 3,
        "wrapped key, key check, PIN verifier: {report:?}"
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
    let w = Wallet::open(config(Some(path))).unwrap();
    let status = w.status().unwrap();
    assert!(status.newly_created && !status.pin_set && status.credential_count == Some(0));
}

#[test]
fn wipe_deletes_host_keys() {
    let area = Arc::new(HostArea::default());
    let w = Wallet::open(WalletConfig {
        secure_area: Some(area.clone()),
        ..config(None)
    })
    .unwrap();
    let k1 = w.create_device_key().unwrap();
    let k2 = w.create_device_key().unwrap();
    w.add_credential(NewCredential {
        key_alias: Some(k1.alias.clone()),
        ..sample("t", "i", b"x")
    })
    .unwrap();
    let report = w.wipe_blocking().unwrap();
    assert_eq!(report.host_keys_removed, 2);
    let mut deleted = area.deleted.lock().unwrap().clone();
    deleted.sort();
    let mut expected = vec![k1.alias, k2.alias];
    expected.sort();
    assert_eq!(deleted, expected);
}

#[test]
fn async_exports_run_off_the_callers_thread() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let w = open_wallet(config(None)).await.unwrap();
        w.add_credential(sample("t", "i", b"x")).unwrap();
        let report = w.clone().wipe().await.unwrap();
        assert_eq!(report.credentials_removed, 1);
        assert!(matches!(w.clone().wipe().await, Err(WalletError::Closed)));
        let err = open_wallet(WalletConfig {
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
    let w = Wallet::open(config(Some(path_in(&dir, "w.jigap")))).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let w = w.clone();
            std::thread::spawn(move || {
                for i in 0..25u8 {
                    let id = w
                        .add_credential(sample("t", &format!("issuer-{t}"), &[t, i]))
                        .unwrap();
                    assert_eq!(w.get_credential(id).unwrap().raw, vec![t, i]);
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
                issuer: Some("issuer-2".into()),
                ..Default::default()
            },
            0,
            100,
        )
        .unwrap();
    assert_eq!(one.total, 25);
}
