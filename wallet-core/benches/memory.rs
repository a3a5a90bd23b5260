//! Peak memory of a presentation with a 100 KB portrait and of opening the store, measured as
//! the growth of the process's peak resident set (Linux `VmHWM`, reset through
//! `/proc/self/clear_refs` just before the measured step). Each measurement runs in a fresh
//! child process with glibc told to give freed memory back at once, so that memory freed by the
//! setup is not silently reused by the step measured.
//!
//! Run: `cargo bench -p wallet-core --features issuer --bench memory` (results in
//! BENCHMARKS.md). Linux only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::process::Command;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use wallet_core::*;

mod support;

use support::{mdl_claims, notice};

const MDL: &str = "org.iso.18013.5.1.mDL";
const NS: &str = "org.iso.18013.5.1";

/// A field of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Runs `step` and returns how far the peak resident set rose above the resident set at its
/// start, in KiB.
fn peak_growth<T>(step: impl FnOnce() -> T) -> (T, u64) {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_kib("VmRSS:");
    let out = step();
    let peak = status_kib("VmHWM:");
    (out, peak.saturating_sub(before))
}

fn protector() -> Arc<dyn KeyProtector> {
    passphrase_key_protector_with_cost("memory".into(), 10_000).unwrap()
}

fn open(path: Option<String>) -> Arc<Wallet> {
    Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        path,
        create_if_missing: true,
        key_protector: protector(),
        secure_area: None,
        clock: None,
        listener: None,
    })
    .unwrap()
}

/// In a child: one in-person presentation of an mDL with a 100 KB portrait, five elements
/// asked (the portrait among them), from the reader's request to its verified report.
fn child_present() {
    let wallet = open(None);
    let authority = TestAuthority::create("Memory".into(), "KR".into(), None).unwrap();
    let key = wallet.create_device_key().unwrap();
    let portrait: Vec<u8> = (0..100 * 1024).map(|i| (i % 251) as u8).collect();
    let mdl = authority
        .issue_mdl(key.public_key.clone(), mdl_claims(0, portrait))
        .unwrap();
    let id = wallet.add_mdoc(mdl, key.alias).unwrap();
    // An authenticated reader the wallet trusts, so that the policy releases all five.
    wallet
        .add_trust_anchor(
            TrustRole::MdocReader,
            authority.root_certificate(TrustRole::MdocReader).unwrap(),
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
    let asked = [
        "family_name",
        "given_name",
        "birth_date",
        "age_over_19",
        "portrait",
    ];
    let request = || DocumentRequest {
        doc_type: MDL.into(),
        items: asked
            .iter()
            .map(|e| RequestedItem {
                namespace: NS.into(),
                identifier: (*e).into(),
                intent_to_retain: false,
            })
            .collect(),
    };
    let approval = || Approval {
        document_index: 0,
        credential_id: id.clone(),
        elements: asked
            .iter()
            .map(|e| ElementRef {
                namespace: NS.into(),
                identifier: (*e).into(),
            })
            .collect(),
    };
    // A first presentation warms every lazily built table, so the one measured is the
    // steady state.
    for round in 0..2 {
        let holder = wallet
            .clone()
            .start_presentation(vec![], DeviceAuthMode::Signature)
            .unwrap();
        let qr = holder.engagement().unwrap().qr_uri;
        let session = reader.start_session(qr, vec![request()]).unwrap();
        let message = session.request_message();
        let (report, kib) = peak_growth(|| {
            holder.receive(message).unwrap();
            let answer = holder.respond(vec![approval()]).unwrap();
            session.receive(answer).unwrap()
        });
        let ReaderEvent::Response { report } = report else {
            panic!("no report")
        };
        assert_eq!(report.documents[0].elements.len(), 5);
        if round == 1 {
            println!("present {kib}");
        }
    }
}

/// In a child: opening the store at `path`, then a first page of credentials and of the
/// inbox, and an inbox search.
fn child_open(path: &str) {
    let (wallet, open_kib) = peak_growth(|| open(Some(path.into())));
    let (_, page_kib) = peak_growth(|| {
        wallet
            .list_credentials(CredentialFilter::default(), 0, 50)
            .unwrap();
        wallet
            .list_notifications(NotificationFilter::default(), 0, 50)
            .unwrap()
    });
    let (_, search_kib) = peak_growth(|| {
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
    });
    println!("open {open_kib} {page_kib} {search_kib}");
}

fn build_store(path: &str, credentials: usize, notifications: usize) {
    let wallet = open(Some(path.into()));
    let authority = TestAuthority::create("Memory".into(), "KR".into(), None).unwrap();
    wallet
        .add_trust_anchor(
            TrustRole::Sender,
            authority.root_certificate(TrustRole::Sender).unwrap(),
        )
        .unwrap();
    for i in 0..credentials {
        let key = wallet.create_device_key().unwrap();
        let mdl = authority
            .issue_mdl(key.public_key, mdl_claims(i, vec![0xff, 0xd8, 0xff, 0xd9]))
            .unwrap();
        wallet.add_mdoc(mdl, key.alias).unwrap();
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for i in 0..notifications {
        let signed = authority
            .sign_notification(notice(i, NotificationCategory::HealthCheckup, now))
            .unwrap();
        wallet.add_notification(signed).unwrap();
    }
    wallet.close_store().unwrap();
}

/// Runs this binary again as a child doing `args`, and returns the numbers it printed.
fn in_child(args: &[&str]) -> Vec<u64> {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(args)
        .env("MALLOC_TRIM_THRESHOLD_", "0")
        .env("MALLOC_ARENA_MAX", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().last().unwrap();
    line.split_whitespace()
        .skip(1)
        .map(|n| n.parse().unwrap())
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--child-present") => return child_present(),
        Some("--child-open") => return child_open(&args[2]),
        _ => {}
    }
    let present = in_child(&["--child-present"]);
    println!("| step | peak resident growth |");
    println!("|---|---:|");
    println!(
        "| a presentation with a 100 KB portrait (request in, response out, verified report) | {} KiB |",
        present[0]
    );
    let dir = tempfile::tempdir().unwrap();
    for (credentials, notifications) in [(500, 5_000), (2_000, 20_000), (5_000, 50_000)] {
        let path = dir
            .path()
            .join(format!("memory-{notifications}.jigap"))
            .to_string_lossy()
            .into_owned();
        eprintln!(
            "building a store of {credentials} credentials and {notifications} notifications"
        );
        build_store(&path, credentials, notifications);
        let kib = in_child(&["--child-open", &path]);
        let file = std::fs::metadata(&path).unwrap().len();
        println!(
            "| {credentials} credentials, {notifications} notifications ({:.0} MiB file): open / first pages / a search | {} / {} / {} KiB |",
            file as f64 / 1_048_576.0,
            kib[0],
            kib[1],
            kib[2]
        );
    }
}
