//! Evaluating 10,000 benefits for one citizen, on the device.
//!
//! Run: `cargo bench -p wallet-core --bench benefits` (results in BENCHMARKS.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use wallet_core::benefits::catalog::{evaluate, parse, payload, sample, Eligibility};
use wallet_core::benefits::rules::Val;

fn main() {
    let base = sample().unwrap();
    let mut catalog = Vec::with_capacity(10_000);
    while catalog.len() < 10_000 {
        for b in &base {
            if catalog.len() == 10_000 {
                break;
            }
            let mut copy = b.clone();
            copy.id = format!("{}-{}", b.id, catalog.len());
            catalog.push(copy);
        }
    }
    let facts: HashMap<String, Val> = [
        ("age", Val::Int(34)),
        ("region", Val::Text("서울".into())),
        ("youngest_child_age_months", Val::Int(7)),
        ("children_count", Val::Int(2)),
        ("income_percent_median", Val::Int(55)),
        ("married", Val::Bool(true)),
        ("months_since_marriage", Val::Int(40)),
        ("employment", Val::Text("employed".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();

    let encoded = payload(&catalog, 1);
    let start = Instant::now();
    let parsed = parse(&encoded).unwrap();
    let parse_ms = start.elapsed().as_secs_f64() * 1e3;
    assert_eq!(parsed.len(), 10_000);

    let mut samples = Vec::new();
    for _ in 0..21 {
        let start = Instant::now();
        let results = black_box(evaluate(&parsed, black_box(&facts)));
        samples.push(start.elapsed().as_secs_f64() * 1e3);
        assert_eq!(results.len(), 10_000);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let results = evaluate(&parsed, &facts);
    let count = |e: Eligibility| results.iter().filter(|r| r.eligibility == e).count();
    println!("compile 10,000 rules from the catalog payload      {parse_ms:>8.2} ms");
    println!(
        "evaluate 10,000 benefits for one citizen (median)  {:>8.2} ms",
        samples[10]
    );
    println!(
        "  eligible {}, not eligible {}, unknown {}",
        count(Eligibility::Eligible),
        count(Eligibility::NotEligible),
        count(Eligibility::Unknown)
    );
}
