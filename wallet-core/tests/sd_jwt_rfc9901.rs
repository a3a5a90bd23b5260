//! Conformance with the RFC 9901 examples: every presentation verifies with the issuer key from
//! `settings.yml` to exactly `verified_contents.json`, key binding included, and every
//! disclosure's digest is one the issuer published.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;
use wallet_core::crypto::jose;
use wallet_core::sdjwt::disclosure::{Disclosure, SdAlg};
use wallet_core::sdjwt::format::SdJwt;
use wallet_core::sdjwt::verify::{verify, IssuerTrust, KeyBindingPolicy, TimeCheck};
use wallet_core::sdjwt::SdJwtError;

/// A time check at `at` with no clock skew.
fn at(at: i64) -> TimeCheck {
    TimeCheck { at, skew: 0 }
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sd-jwt-rfc9901-examples")
}

/// The key `name` (issuer_key or holder_key) from settings.yml, as SEC1.
fn settings_key(name: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(dir().join("settings.yml")).unwrap();
    let block = text.split(&format!("    {name}:")).nth(1).unwrap();
    let field = |f: &str| -> String {
        block
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{f}: ")))
            .unwrap()
            .trim()
            .to_string()
    };
    jose::p256_from_jwk(
        &serde_json::json!({"kty": "EC", "crv": "P-256", "x": field("x"), "y": field("y")}),
    )
    .unwrap()
}

fn read_presentation(example: &Path) -> Option<SdJwt> {
    if let Ok(text) = std::fs::read_to_string(example.join("sd_jwt_presentation.txt")) {
        return Some(SdJwt::parse(&text).unwrap());
    }
    let text = std::fs::read_to_string(example.join("sd_jwt_presentation.json")).ok()?;
    // The JSON serialization is stored as a JSON string holding the JSON.
    let inner: String = serde_json::from_str(&text).unwrap_or(text);
    Some(SdJwt::parse(&inner).unwrap())
}

fn examples() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

#[test]
fn every_presentation_verifies_to_the_published_contents() {
    let issuer = settings_key("issuer_key");
    let mut checked = 0;
    for example in examples() {
        let Some(sd) = read_presentation(&example) else {
            continue;
        };
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(example.join("verified_contents.json")).unwrap(),
        )
        .unwrap();
        let kb_payload: Option<Value> =
            std::fs::read_to_string(example.join("kb_jwt_payload.json"))
                .ok()
                .map(|t| serde_json::from_str(&t).unwrap());
        let json_serialized = !example.join("sd_jwt_presentation.txt").exists();
        let verified = match &kb_payload {
            // The JSON-serialized examples' KB-JWTs were generated with sd_hash taken over the
            // issuance's JSON text, not over `<JWS>~<Disclosures>~` as RFC 9901 specifies; a
            // conformant verifier must refuse that binding, so only their content is compared.
            Some(kb) if json_serialized => {
                let iat = kb["iat"].as_i64().unwrap();
                let policy = KeyBindingPolicy {
                    nonce: "1234567890",
                    audience: "https://verifier.example.org",
                    at: iat,
                    max_age: 300,
                    skew: 60,
                };
                assert_eq!(
                    verify(
                        &sd,
                        IssuerTrust::Key(&issuer),
                        Some(at(1_700_000_000)),
                        Some(&policy)
                    ),
                    Err(SdJwtError::KeyBindingSdHash),
                    "{}",
                    example.display()
                );
                verify(
                    &sd,
                    IssuerTrust::Key(&issuer),
                    Some(at(1_700_000_000)),
                    None,
                )
                .unwrap()
            }
            Some(kb) => {
                let iat = kb["iat"].as_i64().unwrap();
                let policy = KeyBindingPolicy {
                    nonce: "1234567890",
                    audience: "https://verifier.example.org",
                    at: iat,
                    max_age: 300,
                    skew: 60,
                };
                let v = verify(
                    &sd,
                    IssuerTrust::Key(&issuer),
                    Some(at(1_700_000_000)),
                    Some(&policy),
                )
                .unwrap_or_else(|e| panic!("{}: {e}", example.display()));
                assert!(v.key_bound);
                assert_eq!(
                    v.holder_key.as_deref(),
                    Some(settings_key("holder_key").as_slice())
                );
                v
            }
            None => verify(
                &sd,
                IssuerTrust::Key(&issuer),
                Some(at(1_700_000_000)),
                None,
            )
            .unwrap_or_else(|e| panic!("{}: {e}", example.display())),
        };
        assert_eq!(verified.claims, expected, "{}", example.display());
        checked += 1;
    }
    assert!(checked >= 14, "only {checked} examples checked");
}

#[test]
fn every_issued_disclosure_digest_is_published_by_the_issuer() {
    let mut checked = 0;
    for example in examples() {
        let Ok(issuance) = std::fs::read_to_string(example.join("sd_jwt_issuance.txt")) else {
            continue;
        };
        let sd = SdJwt::parse(&issuance).unwrap();
        // A digest is published in the payload, or inside another disclosure (recursive ones).
        let mut published = std::fs::read_to_string(example.join("sd_jwt_payload.json")).unwrap();
        for encoded in &sd.disclosures {
            published.push_str(&Disclosure::parse(encoded).unwrap().value.to_string());
        }
        for encoded in &sd.disclosures {
            let digest = Disclosure::parse(encoded).unwrap().digest(SdAlg::Sha256);
            assert!(
                published.contains(&format!("\"{digest}\"")),
                "{}: {digest}",
                example.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked}");
    // The RFC's own example value.
    let simple = std::fs::read_to_string(dir().join("simple/sd_jwt_issuance.txt")).unwrap();
    assert!(SdJwt::parse(&simple)
        .unwrap()
        .disclosures
        .iter()
        .any(|d| Disclosure::parse(d).unwrap().digest(SdAlg::Sha256)
            == "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4"));
}

#[test]
fn tampering_with_the_simple_example_fails_with_specific_errors() {
    let issuer = settings_key("issuer_key");
    let sd = read_presentation(&dir().join("simple")).unwrap();
    let kb: Value = serde_json::from_str(
        &std::fs::read_to_string(dir().join("simple/kb_jwt_payload.json")).unwrap(),
    )
    .unwrap();
    let iat = kb["iat"].as_i64().unwrap();
    let policy = |nonce: &'static str, aud: &'static str, at: i64| KeyBindingPolicy {
        nonce,
        audience: aud,
        at,
        max_age: 300,
        skew: 60,
    };
    let good = policy("1234567890", "https://verifier.example.org", iat);
    verify(&sd, IssuerTrust::Key(&issuer), None, Some(&good)).unwrap();

    // A changed disclosure is not referenced by any digest.
    let mut changed = sd.clone();
    let d = Disclosure::parse(&changed.disclosures[0]).unwrap();
    let forged = jose::b64url(
        serde_json::json!([d.salt, d.name, "Mallory"])
            .to_string()
            .as_bytes(),
    );
    changed.disclosures[0] = forged;
    assert!(matches!(
        verify(&changed, IssuerTrust::Key(&issuer), None, None),
        Err(SdJwtError::UnreferencedDisclosure(_))
    ));
    // A repeated disclosure.
    let mut twice = sd.clone();
    twice.disclosures.push(twice.disclosures[0].clone());
    assert!(matches!(
        verify(&twice, IssuerTrust::Key(&issuer), None, None),
        Err(SdJwtError::DuplicateDisclosure(_))
    ));
    // Dropped key binding.
    let mut no_kb = sd.clone();
    no_kb.kb_jwt = None;
    assert_eq!(
        verify(&no_kb, IssuerTrust::Key(&issuer), None, Some(&good)),
        Err(SdJwtError::KeyBindingMissing)
    );
    // A dropped disclosure breaks sd_hash.
    let mut fewer = sd.clone();
    fewer.disclosures.pop();
    assert_eq!(
        verify(&fewer, IssuerTrust::Key(&issuer), None, Some(&good)),
        Err(SdJwtError::KeyBindingSdHash)
    );
    // Wrong nonce, wrong audience, stale.
    assert_eq!(
        verify(
            &sd,
            IssuerTrust::Key(&issuer),
            None,
            Some(&policy("0", "https://verifier.example.org", iat))
        ),
        Err(SdJwtError::KeyBindingNonce)
    );
    assert_eq!(
        verify(
            &sd,
            IssuerTrust::Key(&issuer),
            None,
            Some(&policy("1234567890", "https://evil.example", iat))
        ),
        Err(SdJwtError::KeyBindingAudience)
    );
    assert!(matches!(
        verify(
            &sd,
            IssuerTrust::Key(&issuer),
            None,
            Some(&policy(
                "1234567890",
                "https://verifier.example.org",
                iat + 3600
            ))
        ),
        Err(SdJwtError::KeyBindingStale(_))
    ));
    // Expired.
    assert!(matches!(
        verify(
            &sd,
            IssuerTrust::Key(&issuer),
            Some(at(1_883_000_000)),
            None
        ),
        Err(SdJwtError::Expired(1_883_000_000))
    ));
    // Another issuer key.
    let holder = settings_key("holder_key");
    assert_eq!(
        verify(&sd, IssuerTrust::Key(&holder), None, None),
        Err(SdJwtError::IssuerSignature)
    );
    // The KB-JWT signed by someone else.
    let mut foreign_kb = sd.clone();
    let parts: Vec<&str> = sd.kb_jwt.as_deref().unwrap().split('.').collect();
    let other = wallet_core::crypto::ec::SoftwareKey::generate().unwrap();
    let input = format!("{}.{}", parts[0], parts[1]);
    foreign_kb.kb_jwt = Some(jose::compact(
        &input,
        &other.sign(input.as_bytes()).unwrap(),
    ));
    assert_eq!(
        verify(&foreign_kb, IssuerTrust::Key(&issuer), None, Some(&good)),
        Err(SdJwtError::KeyBindingSignature)
    );
}
