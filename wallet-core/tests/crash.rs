//! Through crashes: a child process writes through the public API (credentials, notifications,
//! and the record entries each of them appends) and is killed with SIGKILL at random moments.
//! After each kill the store must open, every write the child acknowledged must be there and
//! intact, and the tamper-evident record must verify.
//!
//! `JIGAP_CRASH_ROUNDS` sets the number of kills (default 12; the recorded run in
//! BENCHMARKS.md used 1,000). `JIGAP_CRASH_SEED` replays a run's random moments.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wallet_core::*;

/// Set in the child: the store it writes to.
const CHILD: &str = "JIGAP_CRASH_CHILD";
const TEST_NAME: &str = "sigkill_at_random_moments_loses_nothing_acknowledged";

fn protector() -> Arc<dyn KeyProtector> {
    passphrase_key_protector_with_cost("crash test".into(), 10_000).unwrap()
}

fn open(path: &str) -> Arc<Wallet> {
    Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        path: Some(path.into()),
        create_if_missing: true,
        key_protector: protector(),
        secure_area: None,
        clock: None,
        listener: None,
    })
    .unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The child: writes until it is killed, printing each write once the API has returned.
fn child(path: &str) {
    let wallet = open(path);
    let authority = TestAuthority::create("Crash Test".into(), "KR".into(), None).unwrap();
    wallet
        .add_trust_anchor(
            TrustRole::Sender,
            authority.root_certificate(TrustRole::Sender).unwrap(),
        )
        .unwrap();
    let stdout = std::io::stdout();
    let tag = format!("{}-{}", std::process::id(), now());
    for i in 0u64.. {
        if i % 2 == 0 {
            let key = wallet.create_device_key().unwrap();
            let mdl = authority
                .issue_mdl(
                    key.public_key.clone(),
                    MdlClaims {
                        family_name: format!("홍{i}"),
                        given_name: "길동".into(),
                        birth_date: "1990-05-05".into(),
                        document_number: format!("11-23-{i:06}-01"),
                        issuing_authority: "경찰청".into(),
                        portrait: vec![0xff, 0xd8, 0xff, 0xd9],
                        vehicle_categories: vec!["B".into()],
                        valid_days: 365,
                        status: None,
                    },
                )
                .unwrap();
            let id = wallet.add_mdoc(mdl, key.alias).unwrap();
            writeln!(stdout.lock(), "acked credential {id} 홍{i}").unwrap();
        } else {
            let id = format!("N-{tag}-{i}");
            let signed = authority
                .sign_notification(NotificationDraft {
                    id: id.clone(),
                    category: NotificationCategory::HealthCheckup,
                    title_ko: "국가건강검진 안내".into(),
                    body_ko: format!("{i}번째 안내입니다."),
                    title_en: None,
                    body_en: None,
                    priority: Priority::Normal,
                    expires_at: Some(now() + 86_400),
                    reference: None,
                })
                .unwrap();
            wallet.add_notification(signed).unwrap();
            writeln!(stdout.lock(), "acked notification {id}").unwrap();
        }
        stdout.lock().flush().unwrap();
    }
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing_acknowledged() {
    if let Ok(path) = std::env::var(CHILD) {
        child(&path);
        return;
    }
    let rounds: u64 = std::env::var("JIGAP_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let seed: u64 = std::env::var("JIGAP_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| (now() as u64) | 1);
    eprintln!("crash test: {rounds} kills, JIGAP_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("crash.jigap")
        .to_string_lossy()
        .into_owned();
    let mut credentials: BTreeSet<(String, String)> = BTreeSet::new();
    let mut notifications: BTreeSet<String> = BTreeSet::new();
    let started = Instant::now();
    let mut killed_mid_run = 0;
    for round in 0..rounds {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let acked = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let acked = acked.clone();
            let stdout = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if let Some(rest) = line.strip_prefix("acked ") {
                        acked.lock().unwrap().push(rest.to_string());
                    }
                }
            })
        };
        // Let the child open the store and write for a random while, then kill it wherever
        // it is: inside a transaction, between two, or while opening.
        std::thread::sleep(Duration::from_millis(20 + rng.below(280)));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        reader.join().unwrap();
        if status.code().is_none() {
            killed_mid_run += 1;
        }
        for line in acked.lock().unwrap().drain(..) {
            let mut words = line.split(' ');
            match (words.next(), words.next(), words.next()) {
                (Some("credential"), Some(id), Some(name)) => {
                    credentials.insert((id.to_string(), name.to_string()));
                }
                (Some("notification"), Some(id), None) => {
                    notifications.insert(id.to_string());
                }
                _ => panic!("unexpected line from the child: {line}"),
            }
        }

        // The store opens, and everything acknowledged is there and intact.
        let wallet = open(&path);
        for (id, name) in &credentials {
            let stored = wallet
                .get_credential(id.clone())
                .unwrap_or_else(|e| panic!("round {round}: credential {id} lost: {e}"));
            assert_eq!(stored.summary.doc_type, "org.iso.18013.5.1.mDL");
            let parsed = wallet_core::mdoc::issuer_signed::IssuerSigned::parse(&stored.raw)
                .unwrap_or_else(|e| panic!("round {round}: credential {id} damaged: {e}"));
            assert_eq!(
                parsed
                    .item("org.iso.18013.5.1", "family_name")
                    .map(|i| &i.element_value),
                Some(&wallet_core::cose::cbor::Value::Text(name.clone())),
                "round {round}: {id} is not {name}"
            );
        }
        let mut present = BTreeSet::new();
        let mut offset = 0;
        loop {
            let page = wallet
                .list_notifications(NotificationFilter::default(), offset, 500)
                .unwrap();
            present.extend(page.items.into_iter().map(|n| n.id));
            match page.next_offset {
                Some(next) => offset = next,
                None => break,
            }
        }
        let lost: Vec<&String> = notifications.difference(&present).collect();
        assert!(
            lost.is_empty(),
            "round {round}: notifications lost: {lost:?}"
        );
        let check = wallet.verify_journal().unwrap_or_else(|e| {
            panic!("round {round}: the record does not verify after a kill: {e}")
        });
        assert!(
            check.entries >= (credentials.len() + notifications.len()) as u64,
            "round {round}: {} entries for {} writes",
            check.entries,
            credentials.len() + notifications.len()
        );
        wallet.close_store().unwrap();
    }
    eprintln!(
        "crash test: {rounds} kills ({killed_mid_run} by signal) in {:.1} s; \
         {} credentials and {} notifications acknowledged, none lost",
        started.elapsed().as_secs_f64(),
        credentials.len(),
        notifications.len()
    );
    assert!(
        !credentials.is_empty() && !notifications.is_empty(),
        "the child never got to write"
    );
}
