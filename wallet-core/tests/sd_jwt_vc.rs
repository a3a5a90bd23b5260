//! The relying party's SD-JWT VC checks beyond RFC 9901: the header `typ`, a non-empty `vct`
//! (and the relying party's accepted list), an `iss` named by the issuer's certificate, the
//! expiry policy and clock skew, envelope claims never selectively disclosed, a status
//! reference that parses, and a signer of the SD-JWT VC issuer role.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use wallet_core::crypto::ec::SoftwareKey;
use wallet_core::crypto::jose;
use wallet_core::issuer::certificates::{create_authority, issuer_url, Authority};
use wallet_core::sdjwt::disclosure::{Disclosure, SdAlg};
use wallet_core::sdjwt::format::SdJwt;
use wallet_core::sdjwt::present::key_binding_input;
use wallet_core::sdjwt::verify::KeyBindingPolicy;
use wallet_core::sdjwt::SdJwtError;
use wallet_core::trust::x509::{ParsedCertificate, TrustRole};
use wallet_core::verifier::sdjwt::{verify_vc, VcPolicy, VerifiedVc};

const NOW: i64 = 1_800_000_000;
const AUD: &str = "https://bank.example";
const NONCE: &str = "n-1";

struct World {
    authority: Authority,
    holder: SoftwareKey,
    anchors: Vec<ParsedCertificate>,
}

fn world() -> World {
    let authority = create_authority("VC Test", "KR", NOW).unwrap();
    let anchors = vec![ParsedCertificate::from_der(
        authority.root_certificate(TrustRole::SdJwtIssuer).unwrap(),
    )
    .unwrap()];
    World {
        authority,
        holder: SoftwareKey::generate().unwrap(),
        anchors,
    }
}

/// A presentation signed by `role`'s signer, with `typ`, the payload changed by `edit`, the
/// given disclosures (a `name` one by default) and a Key Binding JWT.
fn presentation(
    w: &World,
    role: TrustRole,
    typ: Option<&str>,
    edit: impl FnOnce(&mut serde_json::Map<String, Value>, &mut Vec<Disclosure>),
) -> SdJwt {
    let signer = w.authority.signer(role).unwrap();
    let mut header = json!({"alg": "ES256", "x5c": [STANDARD.encode(&signer.certificate)]});
    if let Some(typ) = typ {
        header["typ"] = json!(typ);
    }
    let mut disclosures = vec![Disclosure::new(Some("name"), json!("홍길동")).unwrap()];
    let mut payload = serde_json::Map::new();
    payload.insert("iss".into(), json!(issuer_url("KR")));
    payload.insert("vct".into(), json!("urn:jigap:test"));
    payload.insert("iat".into(), json!(NOW - 10));
    payload.insert("exp".into(), json!(NOW + 3600));
    payload.insert(
        "cnf".into(),
        json!({ "jwk": jose::p256_jwk(w.holder.public_key()).unwrap() }),
    );
    payload.insert("_sd_alg".into(), json!("sha-256"));
    edit(&mut payload, &mut disclosures);
    let digests: Vec<Value> = disclosures
        .iter()
        .map(|d| json!(d.digest(SdAlg::Sha256)))
        .collect();
    payload.insert("_sd".into(), Value::Array(digests));
    let input = jose::signing_input(&header, &Value::Object(payload));
    let mut text = jose::compact(&input, &signer.key.sign(input.as_bytes()).unwrap());
    text.push('~');
    for d in &disclosures {
        text.push_str(&d.encoded);
        text.push('~');
    }
    let mut sd = SdJwt::parse_compact(&text).unwrap();
    let kb = key_binding_input(&sd, SdAlg::Sha256, AUD, NONCE, NOW);
    sd.kb_jwt = Some(jose::compact(&kb, &w.holder.sign(kb.as_bytes()).unwrap()));
    sd
}

fn check(
    w: &World,
    sd: &SdJwt,
    accepted: &[String],
    require_expiry: bool,
    at: i64,
    skew: i64,
) -> Result<VerifiedVc, SdJwtError> {
    verify_vc(
        sd,
        &VcPolicy {
            anchors: &w.anchors,
            at,
            skew,
            accepted_vcts: accepted,
            require_expiry,
            key_binding: KeyBindingPolicy {
                nonce: NONCE,
                audience: AUD,
                at,
                max_age: 300,
                skew,
            },
        },
    )
}

fn ok(w: &World, sd: &SdJwt) -> Result<VerifiedVc, SdJwtError> {
    check(w, sd, &[], true, NOW, 60)
}

#[test]
fn a_well_formed_vc_verifies_and_names_its_issuer() {
    let w = world();
    let verified = ok(
        &w,
        &presentation(&w, TrustRole::SdJwtIssuer, Some("dc+sd-jwt"), |_, _| {}),
    )
    .unwrap();
    assert_eq!(verified.vct, "urn:jigap:test");
    assert_eq!(verified.iss, issuer_url("KR"));
    assert_eq!(verified.expires_at, Some(NOW + 3600));
    assert!(verified.sd_jwt.key_bound);
    // The transitional typ is accepted.
    ok(
        &w,
        &presentation(&w, TrustRole::SdJwtIssuer, Some("vc+sd-jwt"), |_, _| {}),
    )
    .unwrap();
}

#[test]
fn typ_and_vct_are_checked() {
    let w = world();
    for typ in [Some("JWT"), Some("sd+jwt"), None] {
        let sd = presentation(&w, TrustRole::SdJwtIssuer, typ, |_, _| {});
        assert!(
            matches!(ok(&w, &sd), Err(SdJwtError::WrongType(_))),
            "{typ:?}"
        );
    }
    for vct in [None, Some(json!("")), Some(json!(7))] {
        let sd = presentation(
            &w,
            TrustRole::SdJwtIssuer,
            Some("dc+sd-jwt"),
            |p, _| match &vct {
                None => {
                    p.remove("vct");
                }
                Some(v) => {
                    p.insert("vct".into(), v.clone());
                }
            },
        );
        assert!(
            matches!(ok(&w, &sd), Err(SdJwtError::Malformed(_))),
            "{vct:?}"
        );
    }
    let sd = presentation(&w, TrustRole::SdJwtIssuer, Some("dc+sd-jwt"), |_, _| {});
    assert!(matches!(
        check(&w, &sd, &["urn:jigap:other".into()], true, NOW, 60),
        Err(SdJwtError::WrongType(_))
    ));
    check(&w, &sd, &["urn:jigap:test".into()], true, NOW, 60).unwrap();
    // vct may not be selectively disclosed.
    let sd = presentation(&w, TrustRole::SdJwtIssuer, Some("dc+sd-jwt"), |p, d| {
        let vct = p.remove("vct").unwrap();
        d.push(Disclosure::new(Some("vct"), vct).unwrap());
    });
    assert!(matches!(ok(&w, &sd), Err(SdJwtError::Malformed(m)) if m.contains("/vct")));
}

#[test]
fn iss_must_name_the_issuers_certificate() {
    let w = world();
    for iss in [
        json!("https://evil.example/kr"),
        json!("https://issuer.jigap.example/jp"),
    ] {
        let sd = presentation(&w, TrustRole::SdJwtIssuer, Some("dc+sd-jwt"), |p, _| {
            p.insert("iss".into(), iss.clone());
        });
        assert!(
            matches!(ok(&w, &sd), Err(SdJwtError::IssuerMismatch(_))),
            "{iss}"
        );
    }
    for iss in [None, Some(json!(""))] {
        let sd = presentation(
            &w,
            TrustRole::SdJwtIssuer,
            Some("dc+sd-jwt"),
            |p, _| match &iss {
                None => {
                    p.remove("iss");
                }
                Some(v) => {
                    p.insert("iss".into(), v.clone());
                }
            },
        );
        assert!(
            matches!(ok(&w, &sd), Err(SdJwtError::Malformed(_))),
            "{iss:?}"
        );
    }
}

#[test]
fn expiry_policy_and_clock_skew() {
    let w = world();
    let no_exp = presentation(&w, TrustRole::SdJwtIssuer, Some("dc+sd-jwt"), |p, _| {
        p.remove("exp");
    });
    assert!(matches!(ok(&w, &no_exp), Err(SdJwtError::Malformed(m)) if m.contains("exp")));
    check(&w, &no_exp, &[], false, NOW, 60).unwrap();
    let just_expired = presentation(&w, TrustRole::SdJwtIssuer, Some("dc+sd-jwt"), |p, _| {
        p.insert("exp".into(), json!(NOW - 30));
    });
    check(&w, &just_expired, &[], true, NOW, 60).unwrap();
    assert!(matches!(
        check(&w, &just_expired, &[], true, NOW, 0),
        Err(SdJwtError::Expired(_))
    ));
}

#[test]
fn a_status_that_does_not_parse_is_an_error() {
    let w = world();
    let sd = presentation(&w, TrustRole::SdJwtIssuer, Some("dc+sd-jwt"), |p, _| {
        p.insert("status".into(), json!({"status_list": {"idx": "seven"}}));
    });
    assert!(matches!(ok(&w, &sd), Err(SdJwtError::Malformed(m)) if m.contains("status")));
}

#[test]
fn a_signer_of_another_role_is_refused() {
    let mut w = world();
    // The document signer's key, with its IACA trusted too: the leaf's role is what fails.
    w.anchors.push(
        ParsedCertificate::from_der(w.authority.root_certificate(TrustRole::MdocIssuer).unwrap())
            .unwrap(),
    );
    let sd = presentation(&w, TrustRole::MdocIssuer, Some("dc+sd-jwt"), |_, _| {});
    match ok(&w, &sd) {
        Err(SdJwtError::CertificateChain(m)) => assert!(m.contains("extended key usage"), "{m}"),
        other => panic!("a document signer's SD-JWT VC was not refused: {other:?}"),
    }
}
