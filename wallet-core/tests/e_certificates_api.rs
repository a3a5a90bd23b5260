//! Electronic certificates through the public API: issue an SD-JWT VC into a wallet, show
//! it, present two claims with key binding, verify as a bank would, and every tamper case.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use wallet_core::*;

const NOW: i64 = 1_800_000_000;

fn wallet() -> Arc<Wallet> {
    Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        path: None,
        create_if_missing: true,
        key_protector: passphrase_key_protector_with_cost("pw".into(), 10_000).unwrap(),
        secure_area: None,
        clock: Some(fixed_clock(NOW)),
        listener: None,
    })
    .unwrap()
}

fn claims() -> String {
    serde_json::json!({
        "name": "홍길동",
        "resident_registration_number": "900505-1234567",
        "birth_date": "1990-05-05",
        "address": { "region": "서울특별시", "locality": "종로구", "street": "세종대로 209" },
        "is_head_of_household": true
    })
    .to_string()
}

fn verifier(authority: &TestAuthority, at: i64) -> Arc<SdJwtVerifier> {
    SdJwtVerifier::new(SdJwtVerifierConfig {
        trusted_issuer_certificates: vec![authority
            .root_certificate(TrustRole::SdJwtIssuer)
            .unwrap()],
        status_list_certificates: vec![],
        accepted_vcts: vec![],
        require_expiry: true,
        clock_skew_seconds: 60,
        max_key_binding_age_seconds: 300,
        clock: Some(fixed_clock(at)),
    })
    .unwrap()
}

struct Setup {
    wallet: Arc<Wallet>,
    authority: Arc<TestAuthority>,
    id: String,
}

fn setup() -> Setup {
    let wallet = wallet();
    let authority = TestAuthority::create(
        "Jigap Test".into(),
        "KR".into(),
        Some(fixed_clock(NOW - 60)),
    )
    .unwrap();
    let key = wallet.create_device_key().unwrap();
    let issued = authority
        .issue_e_certificate("resident-abstract".into(), key.public_key, claims(), None)
        .unwrap();
    let id = wallet.add_sd_jwt(issued, key.alias).unwrap();
    Setup {
        wallet,
        authority,
        id,
    }
}

fn failure(result: Result<VerifiedECertificate, WalletError>) -> VerificationFailure {
    match result {
        Err(WalletError::Verification { failure, .. }) => failure,
        other => panic!("expected a verification failure, got {other:?}"),
    }
}

#[test]
fn present_two_claims_and_verify() {
    let s = setup();
    let summary = s.wallet.get_credential(s.id.clone()).unwrap().summary;
    assert_eq!(summary.format, CredentialFormat::SdJwtVc);
    assert_eq!(summary.display_name_ko, "주민등록표 초본");
    assert_eq!(summary.valid_until, Some(NOW - 60 + 90 * 86_400));

    let view = s.wallet.e_certificate_view(s.id.clone()).unwrap();
    let name = view.claims.iter().find(|c| c.path == "/name").unwrap();
    assert!(name.disclosable && name.label_ko.as_deref() == Some("성명"));
    assert!(view
        .claims
        .iter()
        .any(|c| c.path == "/address/locality" && c.disclosable));

    let presentation = s
        .wallet
        .present_sd_jwt(
            s.id.clone(),
            vec!["/name".into(), "/address/locality".into()],
            "https://bank.example".into(),
            "n-42".into(),
        )
        .unwrap();
    let verified = verifier(&s.authority, NOW + 10)
        .verify(presentation, "https://bank.example".into(), "n-42".into())
        .unwrap();
    assert!(verified.key_bound);
    assert_eq!(
        verified.vct,
        "urn:jigap:cert:resident-registration-abstract:1"
    );
    assert!(verified.issuer_certificate.contains("Certificate Issuer"));
    let claims: serde_json::Value = serde_json::from_str(&verified.claims_json).unwrap();
    assert_eq!(claims["name"], "홍길동");
    assert_eq!(claims["address"]["locality"], "종로구");
    assert!(
        claims.get("resident_registration_number").is_none(),
        "withheld"
    );
    assert!(claims["address"].get("street").is_none(), "withheld");
    let mut paths: Vec<&str> = verified.disclosed.iter().map(|d| d.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/address", "/address/locality", "/name"]);
    // A file presentation authenticates no one: the resident registration number, a
    // restricted identifier, is refused (and no copy is spent, nothing recorded).
    let recorded = s.wallet.verify_journal().unwrap().entries;
    assert!(matches!(
        s.wallet.present_sd_jwt(
            s.id.clone(),
            vec!["/name".into(), "/resident_registration_number".into()],
            "https://bank.example".into(),
            "n-43".into(),
        ),
        Err(WalletError::InvalidInput { reason }) if reason.contains("restricted")
    ));
    assert_eq!(s.wallet.verify_journal().unwrap().entries, recorded);
    // Nor does it go along with a path that holds it: the whole credential (the root), or an
    // object it sits in.
    for claims in [vec![String::new()], vec!["".into(), "/name".into()]] {
        assert!(matches!(
            s.wallet.present_sd_jwt(
                s.id.clone(),
                claims,
                "https://bank.example".into(),
                "n-44".into(),
            ),
            Err(WalletError::InvalidInput { reason })
                if reason.contains("/resident_registration_number") && reason.contains("restricted")
        ));
    }
    assert_eq!(s.wallet.verify_journal().unwrap().entries, recorded);
}

#[test]
fn a_restricted_identifier_inside_an_object_does_not_go_with_the_object() {
    let s = setup();
    let issue = |claims: serde_json::Value| {
        let key = s.wallet.create_device_key().unwrap();
        let issued = s
            .authority
            .issue_e_certificate(
                "resident-abstract".into(),
                key.public_key,
                claims.to_string(),
                None,
            )
            .unwrap();
        s.wallet.add_sd_jwt(issued, key.alias).unwrap()
    };
    let present = |id: &str, claims: &[&str]| {
        s.wallet.present_sd_jwt(
            id.to_owned(),
            claims.iter().map(|c| c.to_string()).collect(),
            "https://bank.example".into(),
            "n-1".into(),
        )
    };
    let refused = |result: Result<String, WalletError>, path: &str| matches!(result, Err(WalletError::InvalidInput { reason }) if reason.contains(path));
    // The catalogue makes the address a disclosure and its region, locality and street
    // disclosures inside it; a number the issuer put there besides is a plain claim of the
    // address, seen by whoever sees the address.
    let inside = issue(serde_json::json!({
        "name": "홍길동",
        "address": {
            "region": "서울특별시",
            "locality": "종로구",
            "resident_registration_number": "900505-1234567"
        }
    }));
    let view = s.wallet.e_certificate_view(inside.clone()).unwrap();
    assert!(view
        .claims
        .iter()
        .any(|c| c.path == "/address/locality" && c.disclosable));
    for asked in [
        &["/address"][..],
        &["/address/locality"],
        &["/name", "/address/region"],
    ] {
        assert!(
            refused(
                present(&inside, asked),
                "/address/resident_registration_number"
            ),
            "{asked:?}"
        );
    }
    // The claim beside the address goes, and the verifier sees nothing of the address.
    let presentation = present(&inside, &["/name"]).unwrap();
    let verified = verifier(&s.authority, NOW + 10)
        .verify(presentation, "https://bank.example".into(), "n-1".into())
        .unwrap();
    let claims: serde_json::Value = serde_json::from_str(&verified.claims_json).unwrap();
    assert_eq!(claims["name"], "홍길동");
    assert!(claims.get("address").is_none());

    // A claim the catalogue does not make disclosable goes with every presentation: a
    // credential carrying the number that way is never presented to an unauthenticated
    // audience.
    let plain = issue(serde_json::json!({
        "name": "홍길동",
        "household": { "head": "홍길동", "resident_registration_number": "900505-1234567" }
    }));
    assert!(refused(
        present(&plain, &["/name"]),
        "/household/resident_registration_number"
    ));
}

#[test]
fn every_tamper_case_is_rejected_with_its_own_failure() {
    let s = setup();
    let present = |nonce: &str| {
        s.wallet
            .present_sd_jwt(
                s.id.clone(),
                vec!["/name".into(), "/birth_date".into()],
                "https://bank.example".into(),
                nonce.into(),
            )
            .unwrap()
    };
    let good = present("n-1");
    let v = verifier(&s.authority, NOW + 10);
    v.verify(good.clone(), "https://bank.example".into(), "n-1".into())
        .unwrap();

    assert_eq!(
        failure(v.verify(good.clone(), "https://bank.example".into(), "n-2".into())),
        VerificationFailure::KeyBindingNonce
    );
    assert_eq!(
        failure(v.verify(good.clone(), "https://other.example".into(), "n-1".into())),
        VerificationFailure::KeyBindingAudience
    );
    assert_eq!(
        failure(verifier(&s.authority, NOW + 3600).verify(
            good.clone(),
            "https://bank.example".into(),
            "n-1".into()
        )),
        VerificationFailure::KeyBindingStale
    );
    assert_eq!(
        failure(verifier(&s.authority, NOW + 91 * 86_400).verify(
            good.clone(),
            "https://bank.example".into(),
            "n-1".into()
        )),
        VerificationFailure::Expired
    );
    let stranger =
        TestAuthority::create("Stranger".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    assert_eq!(
        failure(verifier(&stranger, NOW + 10).verify(
            good.clone(),
            "https://bank.example".into(),
            "n-1".into()
        )),
        VerificationFailure::UntrustedIssuer
    );

    // Dropped key binding.
    let without_kb = format!("{}~", good.rsplit_once('~').unwrap().0);
    assert_eq!(
        failure(v.verify(without_kb, "https://bank.example".into(), "n-1".into())),
        VerificationFailure::KeyBindingMissing
    );
    // A changed disclosure.
    let mut parts: Vec<String> = good.split('~').map(str::to_owned).collect();
    let forged = {
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let decoded: serde_json::Value =
            serde_json::from_slice(&engine.decode(&parts[1]).unwrap()).unwrap();
        engine.encode(serde_json::json!([decoded[0], decoded[1], "Mallory"]).to_string())
    };
    parts[1] = forged;
    assert_eq!(
        failure(v.verify(parts.join("~"), "https://bank.example".into(), "n-1".into())),
        VerificationFailure::UnreferencedDisclosure
    );
    // An extra disclosure added after key binding breaks sd_hash.
    let full = String::from_utf8(s.wallet.get_credential(s.id.clone()).unwrap().raw).unwrap();
    let extra = full
        .split('~')
        .skip(1)
        .find(|d| {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(d)
                .unwrap_or_default();
            String::from_utf8_lossy(&bytes).contains("resident_registration_number")
        })
        .unwrap()
        .to_owned();
    let (body, kb) = good.rsplit_once('~').unwrap();
    let sneaked = format!("{body}~{extra}~{kb}");
    assert_eq!(
        failure(v.verify(sneaked, "https://bank.example".into(), "n-1".into())),
        VerificationFailure::KeyBindingSdHash
    );
    // Garbage.
    assert_eq!(
        failure(v.verify("not an sd-jwt".into(), "a".into(), "n".into())),
        VerificationFailure::Malformed
    );
}

#[test]
fn holder_side_errors() {
    let s = setup();
    let other = s.wallet.create_device_key().unwrap();
    let mine = s.wallet.create_device_key().unwrap();
    let issued = s
        .authority
        .issue_e_certificate(
            "tax-payment".into(),
            other.public_key.clone(),
            serde_json::json!({"name": "홍길동", "arrears": false}).to_string(),
            None,
        )
        .unwrap();
    assert!(matches!(
        s.wallet.add_sd_jwt(issued.clone(), mine.alias),
        Err(WalletError::InvalidInput { .. })
    ));
    let tax = s.wallet.add_sd_jwt(issued, other.alias).unwrap();
    // `arrears` is not disclosable in the catalogue: always visible.
    let view = s.wallet.e_certificate_view(tax.clone()).unwrap();
    assert!(view
        .claims
        .iter()
        .any(|c| c.path == "/arrears" && !c.disclosable));
    assert!(matches!(
        s.wallet
            .present_sd_jwt(tax.clone(), vec!["/nope".into()], "a".into(), "n".into()),
        Err(WalletError::InvalidInput { .. })
    ));
    assert!(matches!(
        s.wallet.present_sd_jwt(tax, vec![], "".into(), "n".into()),
        Err(WalletError::InvalidInput { .. })
    ));
    assert!(matches!(
        s.authority.issue_e_certificate(
            "no-such-type".into(),
            other.public_key.clone(),
            "{}".into(),
            None
        ),
        Err(WalletError::InvalidInput { .. })
    ));
    assert!(matches!(
        s.authority.issue_e_certificate(
            "tax-payment".into(),
            other.public_key,
            "{\"iss\": \"me\"}".into(),
            None
        ),
        Err(WalletError::InvalidInput { .. })
    ));
    assert!(matches!(
        s.wallet.add_sd_jwt("x.y.z~".into(), "device-1".into()),
        Err(WalletError::Verification { .. })
    ));
}

#[test]
fn altered_or_badly_signed_certificates_are_refused_before_storage() {
    let s = setup();
    let key = s.wallet.create_device_key().unwrap();
    let issued = s
        .authority
        .issue_e_certificate("resident-abstract".into(), key.public_key, claims(), None)
        .unwrap();
    let refused = |sd_jwt: String| match s.wallet.add_sd_jwt(sd_jwt, key.alias.clone()) {
        Err(WalletError::Verification { failure, .. }) => failure,
        other => panic!("expected a verification failure, got {other:?}"),
    };
    let before = s.wallet.status().unwrap().credential_count;

    // A character of the issuer's signature changed.
    let jws_end = issued.find('~').unwrap();
    let mut forged = issued.clone().into_bytes();
    let at = jws_end - 5;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        refused(String::from_utf8(forged).unwrap()),
        VerificationFailure::IssuerSignature
    );

    // A disclosure the issuer never signed, slipped in next to the real ones.
    let stranger = jose_free_disclosure();
    let smuggled = format!("{issued}{stranger}~");
    assert!(matches!(
        s.wallet.add_sd_jwt(smuggled, key.alias.clone()),
        Err(WalletError::Verification { .. })
    ));

    assert_eq!(s.wallet.status().unwrap().credential_count, before);
    s.wallet.add_sd_jwt(issued, key.alias).unwrap();
}

/// A well-formed disclosure `["salt", "resident_registration_number", "000000-0000000"]`.
fn jose_free_disclosure() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"["c2FsdHNhbHRzYWx0","resident_registration_number","000000-0000000"]"#)
}
