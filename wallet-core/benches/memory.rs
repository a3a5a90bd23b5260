//! Peak memory of a presentation with a 100 KB portrait and of opening the store, measured two
//! ways. The growth of the process's peak resident set (Linux `VmHWM`, reset through
//! `/proc/self/clear_refs` just before the measured step) counts everything, SQLite's page
//! cache included, but depends on how the allocator reuses memory freed earlier. The peak of
//! the bytes the Rust code holds above what it held at the start (a counting global
//! allocator) is exact and repeatable, but does not see SQLite's own allocations. Each
//! measurement runs in fresh child processes with glibc told to give freed memory back at
//! once, so that memory freed by the setup is not silently reused by the step measured.
//!
//! Run: `cargo bench -p wallet-core --features issuer --bench memory` (results in
//! BENCHMARKS.md). Linux only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::alloc::System;
use std::process::Command;
use std::sync::Arc;

use peakmem_alloc::{PeakMemAlloc, PeakMemAllocTrait, INSTRUMENTED_SYSTEM};
use std::time::{SystemTime, UNIX_EPOCH};

use wallet_core::*;

mod support;

use support::{mdl_claims, notice};

const MDL: &str = "org.iso.18013.5.1.mDL";
const NS: &str = "org.iso.18013.5.1";

/// The system allocator, counting the bytes allocated less those freed since a reset, and
/// their peak. A block that grows in place or moves counts only its growth.
#[global_allocator]
static ALLOCATOR: &PeakMemAlloc<System> = &INSTRUMENTED_SYSTEM;

/// A field of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Runs `step` and returns, in KiB, how far the peak resident set rose above the resident set
/// at its start, then how far the bytes held by Rust code peaked above those held at its start.
fn peak_growth<T>(step: impl FnOnce() -> T) -> (T, [u64; 2]) {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_kib("VmRSS:");
    ALLOCATOR.reset_peak_memory();
    let out = step();
    let heap = ALLOCATOR.get_peak_memory() as u64;
    let peak = status_kib("VmHWM:");
    (out, [peak.saturating_sub(before), heap.div_ceil(1024)])
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
    // A first presentation warms every lazily built table, so the ones measured are the
    // steady state: the whole presentation, then each of its three steps on its own.
    let mut figures = Vec::new();
    for round in 0..3 {
        let holder = wallet
            .clone()
            .start_presentation(vec![], DeviceAuthMode::Signature)
            .unwrap();
        let qr = holder.engagement().unwrap().qr_uri;
        let session = reader.start_session(qr, vec![request()]).unwrap();
        let message = session.request_message();
        let report = if round == 2 {
            let (_, receive) = peak_growth(|| holder.receive(message).unwrap());
            let (answer, respond) = peak_growth(|| holder.respond(vec![approval()]).unwrap());
            let (report, verify) = peak_growth(|| session.receive(answer).unwrap());
            figures.extend(receive.into_iter().chain(respond).chain(verify));
            report
        } else {
            let (report, kib) = peak_growth(|| {
                holder.receive(message).unwrap();
                let answer = holder.respond(vec![approval()]).unwrap();
                session.receive(answer).unwrap()
            });
            if round == 1 {
                figures.extend(kib);
            }
            report
        };
        let ReaderEvent::Response { report } = report else {
            panic!("no report")
        };
        assert_eq!(report.documents[0].elements.len(), 5);
    }
    let figures: Vec<String> = figures.iter().map(u64::to_string).collect();
    println!("present {}", figures.join(" "));
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
    let figures: Vec<String> = [open_kib, page_kib, search_kib]
        .iter()
        .flatten()
        .map(u64::to_string)
        .collect();
    println!("open {}", figures.join(" "));
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

/// How many fresh children each measurement runs in: the allocator's reuse of freed memory,
/// and so the resident set, differs from one process to the next on the same work.
const RUNS: usize = 7;

/// Runs this binary [`RUNS`] times as a child doing `args`; for each number the child prints,
/// the median and, when the runs differ, their range, as "median (least–most)".
fn in_children(args: &[&str]) -> Vec<String> {
    let runs: Vec<Vec<u64>> = (0..RUNS).map(|_| in_child(args)).collect();
    (0..runs[0].len())
        .map(|i| {
            let mut values: Vec<u64> = runs.iter().map(|r| r[i]).collect();
            values.sort_unstable();
            let (least, median, most) = (values[0], values[RUNS / 2], values[RUNS - 1]);
            if least == most {
                median.to_string()
            } else {
                format!("{median} ({least}–{most})")
            }
        })
        .collect()
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
    let present = in_children(&["--child-present"]);
    println!("KiB; median (least–most) of {RUNS} fresh processes where the runs differ.");
    println!("| step | peak resident growth | peak Rust heap above the start |");
    println!("|---|---:|---:|");
    println!(
        "| a presentation with a 100 KB portrait (request in, response out, verified report) | {} | {} |",
        present[0], present[1]
    );
    for (i, step) in [
        "the holder receives the request",
        "the holder answers it",
        "the reader verifies the answer",
    ]
    .iter()
    .enumerate()
    {
        println!(
            "| … {step} | {} | {} |",
            present[2 + 2 * i],
            present[3 + 2 * i]
        );
    }
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
        let kib = in_children(&["--child-open", &path]);
        let file = std::fs::metadata(&path).unwrap().len();
        let mib = file as f64 / 1_048_576.0;
        for (i, step) in ["open", "then the first pages", "then a search"]
            .iter()
            .enumerate()
        {
            println!(
                "| {credentials} credentials, {notifications} notifications ({mib:.0} MiB file): {step} | {} | {} |",
                kib[2 * i],
                kib[2 * i + 1]
            );
        }
    }
}
