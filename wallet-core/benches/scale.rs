//! The store at scale: years of data on one phone. Builds a store with 10,000 credentials
//! (from two issuers) and 100,000 notifications through the public API (each write also
//! appends to the record), then times opening it, pages, filtered pages, searches and a get.
//!
//! Run: `cargo bench -p wallet-core --features issuer --bench scale` (results in
//! BENCHMARKS.md). `JIGAP_SCALE_CREDENTIALS` and `JIGAP_SCALE_NOTIFICATIONS` change the sizes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wallet_core::*;

mod support;

use support::{mdl_claims, notice};

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn protector() -> Arc<dyn KeyProtector> {
    passphrase_key_protector_with_cost("scale".into(), 10_000).unwrap()
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

/// Median, fastest and slowest of `runs` timings of `f`.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, Duration) {
    let mut all: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .collect();
    all.sort();
    (all[all.len() / 2], all[0], all[all.len() - 1])
}

fn report(what: &str, (median, min, max): (Duration, Duration, Duration)) {
    println!(
        "| {what} | {:.3} ms | {:.3}–{:.3} ms |",
        median.as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
}

fn main() {
    let credentials = size("JIGAP_SCALE_CREDENTIALS", 10_000);
    let notifications = size("JIGAP_SCALE_NOTIFICATIONS", 100_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("scale.jigap")
        .to_string_lossy()
        .into_owned();
    let wallet = open(&path);
    let authorities = [
        TestAuthority::create("Scale A".into(), "KR".into(), None).unwrap(),
        TestAuthority::create("Scale B".into(), "KR".into(), None).unwrap(),
    ];
    wallet
        .add_trust_anchor(
            TrustRole::Sender,
            authorities[0].root_certificate(TrustRole::Sender).unwrap(),
        )
        .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;

    let started = Instant::now();
    let mut last_id = String::new();
    for i in 0..credentials {
        let key = wallet.create_device_key().unwrap();
        let mdl = authorities[i % 2]
            .issue_mdl(key.public_key, mdl_claims(i, vec![0xff, 0xd8, 0xff, 0xd9]))
            .unwrap();
        last_id = wallet.add_mdoc(mdl, key.alias).unwrap();
        if i % 2_000 == 1_999 {
            eprintln!("{} credentials stored", i + 1);
        }
    }
    let categories = [
        NotificationCategory::HealthCheckup,
        NotificationCategory::Tax,
        NotificationCategory::Benefit,
    ];
    for i in 0..notifications {
        let signed = authorities[0]
            .sign_notification(notice(i, categories[i % categories.len()], now))
            .unwrap();
        wallet.add_notification(signed).unwrap();
        if i % 20_000 == 19_999 {
            eprintln!("{} notifications stored", i + 1);
        }
    }
    eprintln!("built in {:.0} s", started.elapsed().as_secs_f64());
    let issuer = wallet
        .get_credential(last_id.clone())
        .unwrap()
        .summary
        .issuer;
    wallet.close_store().unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let tokens: i64 = conn
            .query_row("SELECT count(*) FROM search_tokens", [], |r| r.get(0))
            .unwrap();
        let file = std::fs::metadata(&path).unwrap().len();
        // What the search tokens cost on disk: a copy without them, vacuumed.
        let copy = format!("{path}.without-tokens");
        conn.execute("VACUUM INTO ?1", [&copy]).unwrap();
        let full = std::fs::metadata(&copy).unwrap().len();
        let without = rusqlite::Connection::open(&copy).unwrap();
        without
            .execute_batch("DELETE FROM search_tokens; VACUUM;")
            .unwrap();
        drop(without);
        let bare = std::fs::metadata(&copy).unwrap().len();
        std::fs::remove_file(&copy).unwrap();
        println!(
            "store file {:.1} MiB ({:.1} MiB vacuumed); {tokens} search tokens take {:.1} MiB of it\n",
            file as f64 / 1_048_576.0,
            full as f64 / 1_048_576.0,
            full.saturating_sub(bare) as f64 / 1_048_576.0
        );
    }

    println!("{credentials} credentials, {notifications} notifications and their record entries\n");
    println!("| operation | median | fastest–slowest |");
    println!("|---|---:|---:|");
    let unwrapper = protector();
    let wrapped = unwrapper.wrap_key(vec![7; 32]).unwrap();
    report(
        "the host's key unwrap alone (PBKDF2, 10,000 iterations)",
        time(20, || unwrapper.unwrap_key(wrapped.clone()).unwrap()),
    );
    report(
        "open the store (with that unwrap)",
        time(20, || {
            let w = open(&path);
            w.close_store().unwrap();
        }),
    );
    let wallet = open(&path);
    report(
        "first page of 50 credentials",
        time(50, || {
            wallet
                .list_credentials(CredentialFilter::default(), 0, 50)
                .unwrap()
        }),
    );
    report(
        "a page of 50 credentials filtered by issuer",
        time(50, || {
            wallet
                .list_credentials(
                    CredentialFilter {
                        issuer: Some(issuer.clone()),
                        ..CredentialFilter::default()
                    },
                    0,
                    50,
                )
                .unwrap()
        }),
    );
    report(
        "a page of 50 credentials deep in the list (offset 5,000)",
        time(50, || {
            wallet
                .list_credentials(CredentialFilter::default(), 5_000, 50)
                .unwrap()
        }),
    );
    report(
        "get one credential",
        time(50, || wallet.get_credential(last_id.clone()).unwrap()),
    );
    report(
        "first inbox page of 50 notifications",
        time(20, || {
            wallet
                .list_notifications(NotificationFilter::default(), 0, 50)
                .unwrap()
        }),
    );
    report(
        "an inbox page of one category",
        time(20, || {
            wallet
                .list_notifications(
                    NotificationFilter {
                        category: Some(NotificationCategory::Tax),
                        ..NotificationFilter::default()
                    },
                    0,
                    50,
                )
                .unwrap()
        }),
    );
    report(
        "an inbox text search",
        time(20, || {
            wallet
                .list_notifications(
                    NotificationFilter {
                        query: Some("건강검진 결과".into()),
                        ..NotificationFilter::default()
                    },
                    0,
                    50,
                )
                .unwrap()
        }),
    );
    let search = |query: &str| {
        time(10, || {
            wallet
                .list_notifications(
                    NotificationFilter {
                        query: Some(query.into()),
                        ..NotificationFilter::default()
                    },
                    0,
                    50,
                )
                .unwrap()
        })
    };
    report(
        "an inbox search for one word (결과, 100 found)",
        search("결과"),
    );
    report(
        "an inbox search that finds 1 in 1,000 of one category",
        time(10, || {
            wallet
                .list_notifications(
                    NotificationFilter {
                        query: Some("건강검진".into()),
                        category: Some(NotificationCategory::HealthCheckup),
                        ..NotificationFilter::default()
                    },
                    0,
                    50,
                )
                .unwrap()
        }),
    );
    report(
        "an inbox search that finds nearly all (번째 안내)",
        search("번째 안내"),
    );
    report(
        "an inbox search for one character (결, 100 found)",
        search("결"),
    );
    report(
        "an inbox search for one common character (째, 99,900 found)",
        search("째"),
    );
    report(
        "an inbox search whose every pair is common but which finds 11 (내 9999)",
        search("내 9999"),
    );
    report(
        "first page of 50 record entries",
        time(50, || {
            wallet
                .list_journal(JournalFilter::default(), 0, 50)
                .unwrap()
        }),
    );
}
