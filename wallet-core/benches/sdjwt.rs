//! Speed of SD-JWT VC issuance, presentation with key binding and verification (chain,
//! signature, disclosures, key binding, status), against the bare cryptography each needs.
//!
//! Run: `cargo bench -p wallet-core --features issuer --bench sdjwt`. Prints medians; results
//! are recorded in BENCHMARKS.md. No timing assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::hint::black_box;

use support::{median_micros, report_micros, report_timing, timing};

use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use serde_json::json;
use wallet_core::crypto::jose;
use wallet_core::crypto::CryptoError;
use wallet_core::issuer::certificates::{create_authority, issuer_url};
use wallet_core::issuer::sdjwt::{issue, VcEnvelope};
use wallet_core::sdjwt::disclosure::SdAlg;
use wallet_core::sdjwt::format::SdJwt;
use wallet_core::sdjwt::present::{inspect, key_binding_input, select};
use wallet_core::sdjwt::verify::KeyBindingPolicy;
use wallet_core::trust::status_list::{StatusList, StatusReference, VALID};
use wallet_core::trust::status_token::{sign_jwt, verify_any};
use wallet_core::trust::x509::{ParsedCertificate, TrustRole};
use wallet_core::verifier::sdjwt::{verify_vc, VcPolicy};

const NOW: i64 = 1_800_000_000;
const AUD: &str = "https://bank.example";
const NONCE: &str = "n-0S6_WzA2Mj";
const STATUS_URI: &str = "https://status.example/lists/1";

fn main() {
    let rng = SystemRandom::new();
    let authority = create_authority("Bench", "KR", NOW).unwrap();
    let signer = authority.signer(TrustRole::SdJwtIssuer).unwrap();
    let chain = [signer.certificate.clone()];
    let anchors =
        [
            ParsedCertificate::from_der(
                authority.root_certificate(TrustRole::SdJwtIssuer).unwrap(),
            )
            .unwrap(),
        ];
    let status_signer = authority.signer(TrustRole::StatusListIssuer).unwrap();
    let status_anchors = [ParsedCertificate::from_der(
        authority
            .root_certificate(TrustRole::StatusListIssuer)
            .unwrap(),
    )
    .unwrap()];
    // The holder's key, held by its signer as a keystore holds it.
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let holder =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();

    // A person identification credential: 13 selectively disclosable claims.
    let claims = json!({
        "given_name": "길동",
        "family_name": "홍",
        "birthdate": "1990-05-05",
        "place_of_birth": {"locality": "서울"},
        "nationalities": ["KR"],
        "address": {
            "street_address": "세종대로 110",
            "locality": "중구",
            "region": "서울특별시",
            "country": "KR"
        },
        "age_equal_or_over": {"19": true},
        "email": "hong@example.kr",
        "phone_number": "+82-10-0000-0000"
    });
    let disclosable: Vec<String> = [
        "/given_name",
        "/family_name",
        "/birthdate",
        "/place_of_birth",
        "/nationalities",
        "/address/street_address",
        "/address/locality",
        "/address/region",
        "/address/country",
        "/age_equal_or_over/19",
        "/email",
        "/phone_number",
        "/address",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let envelope = VcEnvelope {
        issuer: &issuer_url("KR"),
        vct: "urn:eudi:pid:1",
        issued_at: NOW - 10,
        expires_at: NOW + 86_400,
        holder_key: holder.public_key().as_ref(),
        status: Some(StatusReference {
            index: 4_242,
            uri: STATUS_URI.into(),
        }),
        decoys_per_object: 0,
    };
    let issue_once = || issue(signer, &chain, &envelope, &claims, &disclosable).unwrap();
    let issued = issue_once();

    // What a relying party asks for: five claims.
    let asked: Vec<String> = [
        "/given_name",
        "/family_name",
        "/birthdate",
        "/age_equal_or_over/19",
        "/address/locality",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let stored = SdJwt::parse_compact(&issued).unwrap();
    let present_once = || {
        let inspected = inspect(&stored).unwrap();
        let mut presentation = select(&stored, &inspected, &asked).unwrap();
        let kb = key_binding_input(&presentation, SdAlg::Sha256, AUD, NONCE, NOW);
        let signature = holder.sign(&rng, kb.as_bytes()).unwrap();
        presentation.kb_jwt = Some(jose::compact(&kb, signature.as_ref()));
        presentation.to_compact()
    };
    let presented = present_once();

    // The status list: 10,000 entries of 2 bits, signed as a JWT.
    let mut list = StatusList::new(2, 10_000).unwrap();
    for i in (0..10_000).step_by(97) {
        list.set(i, 1).unwrap();
    }
    let token = sign_jwt(
        &list,
        STATUS_URI,
        NOW - 60,
        NOW + 86_400,
        3600,
        std::slice::from_ref(&status_signer.certificate),
        |m| -> Result<Vec<u8>, CryptoError> { status_signer.key.sign(m) },
    )
    .unwrap();

    let policy = VcPolicy {
        anchors: &anchors,
        at: NOW,
        skew: 60,
        accepted_vcts: &[],
        require_expiry: true,
        key_binding: KeyBindingPolicy {
            nonce: NONCE,
            audience: AUD,
            at: NOW,
            max_age: 300,
            skew: 60,
        },
    };
    let verify_once = || {
        let sd = SdJwt::parse_compact(&presented).unwrap();
        let verified = verify_vc(&sd, &policy).unwrap();
        assert_eq!(
            verified.sd_jwt.disclosed.len(),
            6,
            "five claims and the address"
        );
        verified
    };
    let status_once = |reference: &StatusReference| {
        let token = verify_any(token.as_bytes(), STATUS_URI, &status_anchors, NOW).unwrap();
        assert_eq!(token.list.get(reference.index).unwrap(), VALID);
    };
    let reference = verify_once().status.unwrap();
    status_once(&reference);

    // The floors.
    let message = vec![0x5a; 600];
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let sig = pair.sign(&rng, &message).unwrap();
    let public = pair.public_key().as_ref().to_vec();
    let sign = median_micros(2000, || {
        black_box(pair.sign(&rng, black_box(&message)).unwrap());
    });
    let verify = median_micros(1000, || {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public)
            .verify(black_box(&message), sig.as_ref())
            .unwrap();
    });
    let sha = median_micros(20_000, || {
        black_box(ring::digest::digest(
            &ring::digest::SHA256,
            black_box(&message[..80]),
        ));
    });
    let presentation_bytes = presented.as_bytes().to_vec();
    let sd_hash = median_micros(5_000, || {
        black_box(ring::digest::digest(
            &ring::digest::SHA256,
            black_box(&presentation_bytes),
        ));
    });
    let software_sign = median_micros(1000, || {
        black_box(signer.key.sign(black_box(&message)).unwrap());
    });
    report_micros("ring P-256 sign", sign);
    report_micros("ring P-256 verify", verify);
    report_micros("ring SHA-256, 80 B", sha);
    report_micros("ring SHA-256 of the presentation (sd_hash)", sd_hash);
    report_micros("software key sign (the test issuer's key)", software_sign);

    let n = disclosable.len() as f64;
    let issue_floor = software_sign + n * sha;
    let present_floor = sign + sd_hash;
    // Chain (1), the issuer's signature (1), the key binding (1); a digest per disclosure
    // sent (6) and the sd_hash.
    let verify_floor = 3.0 * verify + 6.0 * sha + sd_hash;
    let status_floor = 2.0 * verify;

    let issue_time = timing(200, || {
        black_box(issue_once());
    });
    let present_time = timing(500, || {
        black_box(present_once());
    });
    let inspect_time = timing(500, || {
        black_box(inspect(&stored).unwrap());
    });
    let inspected = inspect(&stored).unwrap();
    let select_and_bind = timing(500, || {
        let mut presentation = select(&stored, &inspected, &asked).unwrap();
        let kb = key_binding_input(&presentation, SdAlg::Sha256, AUD, NONCE, NOW);
        let signature = holder.sign(&rng, kb.as_bytes()).unwrap();
        presentation.kb_jwt = Some(jose::compact(&kb, signature.as_ref()));
        black_box(presentation.to_compact());
    });
    let verify_time = timing(200, || {
        black_box(verify_once());
    });
    let status_time = timing(200, || status_once(&reference));
    report_micros(
        "floor: issue (1 signature with the issuer's key + 13 SHA-256)",
        issue_floor,
    );
    report_timing("issue 13 disclosable claims", &issue_time);
    report_micros("floor: present (1 signature + sd_hash)", present_floor);
    report_timing(
        "present 5 claims with a Key Binding JWT (keystore-held key)",
        &present_time,
    );
    report_timing(
        "… of which reading the stored SD-JWT (decode, 13 digests, claims)",
        &inspect_time,
    );
    report_timing(
        "… and choosing the 5 and binding them (select, sd_hash, sign)",
        &select_and_bind,
    );
    report_micros(
        "floor: verify (3 signature checks, 6 disclosure digests, sd_hash)",
        verify_floor,
    );
    report_timing(
        "verify: chain, signature, disclosures, envelope, key binding",
        &verify_time,
    );
    report_micros(
        "floor: status list token (2 signature checks)",
        status_floor,
    );
    report_timing(
        "status: verify a 10,000-entry list token, chain, read the entry",
        &status_time,
    );
    println!();
    println!(
        "issue / floor: {:.2}x   present / floor: {:.2}x   verify / floor: {:.2}x   status / floor: {:.2}x   verify with status / floor: {:.2}x",
        issue_time.median / issue_floor,
        present_time.median / present_floor,
        verify_time.median / verify_floor,
        status_time.median / status_floor,
        (verify_time.median + status_time.median) / (verify_floor + status_floor)
    );
    println!(
        "sizes: issued {} bytes, presented {} bytes, status token {} bytes",
        issued.len(),
        presented.len(),
        token.len()
    );
}
