//! What several benches share: the timing loop of the micro-benchmarks, and the credentials
//! and notifications the store benches fill a wallet with. Each bench uses part of it.
#![allow(dead_code, clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

use wallet_core::{MdlClaims, NotificationCategory, NotificationDraft, Priority};

/// One call's time in microseconds over 21 runs: the median, and the fastest and slowest run.
pub struct Timing {
    /// The median run.
    pub median: f64,
    /// The fastest run.
    pub fastest: f64,
    /// The slowest run.
    pub slowest: f64,
}

/// Times 21 runs of `iterations` calls (after a tenth as many to warm up).
pub fn timing(iterations: usize, mut f: impl FnMut()) -> Timing {
    for _ in 0..iterations / 10 {
        f();
    }
    let mut samples = Vec::with_capacity(21);
    for _ in 0..21 {
        let start = Instant::now();
        for _ in 0..iterations {
            f();
        }
        samples.push(start.elapsed().as_secs_f64() * 1e6 / iterations as f64);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Timing {
        median: samples[10],
        fastest: samples[0],
        slowest: samples[20],
    }
}

/// The median of [`timing`].
pub fn median_micros(iterations: usize, f: impl FnMut()) -> f64 {
    timing(iterations, f).median
}

/// One line of a micro-benchmark's output, with the spread of its runs.
pub fn report_timing(name: &str, t: &Timing) {
    println!(
        "{name:<64} {:>9.1} µs  ({:.1}–{:.1})",
        t.median, t.fastest, t.slowest
    );
}

/// One line of a micro-benchmark's output.
pub fn report_micros(name: &str, micros: f64) {
    println!("{name:<64} {micros:>9.1} µs");
}

/// The `i`th holder's mDL facts, with `portrait`.
pub fn mdl_claims(i: usize, portrait: Vec<u8>) -> MdlClaims {
    MdlClaims {
        family_name: format!("홍{i}"),
        given_name: "길동".into(),
        birth_date: "1990-05-05".into(),
        document_number: format!("11-23-{i:06}-01"),
        issuing_authority: "경찰청".into(),
        portrait,
        vehicle_categories: vec!["B".into()],
        valid_days: 365,
        status: None,
    }
}

/// The `i`th notification, expiring a year after `now`: one in 1,000 is a checkup result (what
/// the searches look for), the others a plain notice.
pub fn notice(i: usize, category: NotificationCategory, now: i64) -> NotificationDraft {
    NotificationDraft {
        id: format!("N-{i}"),
        category,
        title_ko: format!("안내 {i}"),
        body_ko: if i % 1_000 == 7 {
            format!("{i}번 건강검진 결과가 도착했습니다.")
        } else {
            format!("{i}번째 안내입니다.")
        },
        title_en: None,
        body_en: None,
        priority: Priority::Normal,
        expires_at: Some(now + 365 * 86_400),
        reference: None,
    }
}
