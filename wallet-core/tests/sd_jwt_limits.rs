//! Hostile SD-JWT shapes cost bounded stack and memory: disclosures nested thousands deep, many
//! disclosures, deep plain claims. Each is a typed `Malformed` error, never an abort.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};
use wallet_core::crypto::ec::SoftwareKey;
use wallet_core::crypto::jose;
use wallet_core::sdjwt::disclosure::{Disclosure, SdAlg};
use wallet_core::sdjwt::format::SdJwt;
use wallet_core::sdjwt::present::inspect;
use wallet_core::sdjwt::verify::{verify, IssuerTrust};
use wallet_core::sdjwt::SdJwtError;

/// A signed SD-JWT whose payload and disclosures are given.
fn signed(key: &SoftwareKey, payload: &Value, disclosures: &[Disclosure]) -> SdJwt {
    let input = jose::signing_input(&json!({"alg": "ES256", "typ": "dc+sd-jwt"}), payload);
    let jws = jose::compact(&input, &key.sign(input.as_bytes()).unwrap());
    let mut text = jws;
    text.push('~');
    for d in disclosures {
        text.push_str(&d.encoded);
        text.push('~');
    }
    SdJwt::parse_compact(&text).unwrap()
}

/// A chain of `depth` disclosures, each an object holding the digest of the next.
fn chain(depth: usize) -> (Value, Vec<Disclosure>) {
    let mut disclosures = Vec::with_capacity(depth);
    let mut inner = json!({ "leaf": true });
    for level in 0..depth {
        let d = Disclosure::new(Some(&format!("l{level}")), inner).unwrap();
        inner = json!({ "_sd": [d.digest(SdAlg::Sha256)] });
        disclosures.push(d);
    }
    (inner, disclosures)
}

fn malformed(result: Result<impl std::fmt::Debug, SdJwtError>, what: &str) {
    match result {
        Err(SdJwtError::Malformed(m)) => assert!(m.contains(what), "{m}"),
        other => panic!("expected Malformed({what}), got {other:?}"),
    }
}

#[test]
fn disclosures_nested_thousands_deep_are_refused_without_recursion() {
    let key = SoftwareKey::generate().unwrap();
    for depth in [17, 1_000, 2_000, 5_000] {
        let (payload, disclosures) = chain(depth);
        // Over the disclosure limit (1024), refused by count before anything is hashed.
        let sd = signed(&key, &payload, &disclosures);
        let result = verify(&sd, IssuerTrust::Key(key.public_key()), None, None);
        // Within the count limit, the depth limit refuses it (the walk uses no recursion).
        let expected = if depth <= 1_000 {
            "nested deeper"
        } else {
            "(at most"
        };
        malformed(result, expected);
        malformed(inspect(&sd), expected);
    }
    // Within the limits, a chain of 16 verifies and reports each level.
    let (payload, disclosures) = chain(16);
    let verified = verify(
        &signed(&key, &payload, &disclosures),
        IssuerTrust::Key(key.public_key()),
        None,
        None,
    )
    .unwrap();
    assert_eq!(verified.disclosed.len(), 16);
}

#[test]
fn deep_plain_claims_are_refused() {
    let key = SoftwareKey::generate().unwrap();
    let mut deep = json!(1);
    for _ in 0..100 {
        deep = json!([deep]);
    }
    let sd = signed(&key, &json!({ "deep": deep }), &[]);
    malformed(
        verify(&sd, IssuerTrust::Key(key.public_key()), None, None),
        "nested deeper",
    );
}
