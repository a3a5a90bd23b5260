//! SD-JWT VC issuance shapes: flat, structured, recursive and array-element disclosures with
//! decoys, each verified by the RFC 9901 verifier, and holder selection by path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};
use wallet_core::crypto::ec::SoftwareKey;
use wallet_core::issuer::certificates::create_authority;
use wallet_core::issuer::sdjwt::{issue, VcEnvelope};
use wallet_core::sdjwt::format::SdJwt;
use wallet_core::sdjwt::present::{inspect, select};
use wallet_core::sdjwt::verify::{verify, IssuerTrust, TimeCheck};
use wallet_core::trust::x509::{ParsedCertificate, TrustRole};

const NOW: i64 = 1_800_000_000;

#[test]
fn every_disclosure_shape_round_trips_through_the_verifier() {
    let authority = create_authority("Shapes", "KR", NOW).unwrap();
    let holder = SoftwareKey::generate().unwrap();
    let claims = json!({
        "given_name": "길동",
        "family_name": "홍",
        "address": { "locality": "종로구", "region": "서울특별시", "country": "KR" },
        "nationalities": ["KR", "JP", "US"],
        "sub": "user-1"
    });
    let disclosable: Vec<String> = [
        "/given_name",
        "/family_name",
        "/address",
        "/address/locality",
        "/address/region",
        "/nationalities/1",
        "/nationalities/2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let envelope = VcEnvelope {
        issuer: "https://issuer.example",
        vct: "urn:test",
        issued_at: NOW,
        expires_at: NOW + 3600,
        holder_key: holder.public_key(),
        status: None,
        decoys_per_object: 3,
    };
    let signer = authority.signer(TrustRole::SdJwtIssuer).unwrap();
    let chain = [signer.certificate.clone()];
    let issued = issue(signer, &chain, &envelope, &claims, &disclosable).unwrap();
    let sd = SdJwt::parse_compact(&issued).unwrap();
    assert_eq!(sd.disclosures.len(), 7);

    // The payload hides what is disclosable and pads with decoys.
    let payload: Value =
        serde_json::from_slice(&wallet_core::crypto::jose::b64url_decode(&sd.payload).unwrap())
            .unwrap();
    assert!(payload.get("given_name").is_none() && payload.get("address").is_none());
    assert_eq!(
        payload["_sd"].as_array().unwrap().len(),
        3 + 3,
        "given_name, family_name, address + 3 decoys"
    );
    assert_eq!(
        payload["nationalities"][0], "KR",
        "array element 0 stays plain"
    );
    assert!(payload["nationalities"][1].get("...").is_some());
    assert_eq!(payload["_sd_alg"], "sha-256");
    assert_eq!(payload["cnf"]["jwk"]["crv"], "P-256");

    let anchors =
        [
            ParsedCertificate::from_der(
                authority.root_certificate(TrustRole::SdJwtIssuer).unwrap(),
            )
            .unwrap(),
        ];
    let all = verify(
        &sd,
        IssuerTrust::X5c {
            anchors: &anchors,
            at: NOW + 1,
            profile: TrustRole::SdJwtIssuer,
        },
        Some(TimeCheck {
            at: NOW + 1,
            skew: 0,
        }),
        None,
    )
    .unwrap();
    assert_eq!(all.claims["address"]["locality"], "종로구");
    assert_eq!(all.claims["address"]["country"], "KR");
    assert_eq!(all.claims["nationalities"], json!(["KR", "JP", "US"]));
    // Array elements are reported at their index in the issuer's array.
    let paths: Vec<&str> = all.disclosed.iter().map(|(p, _)| p.as_str()).collect();
    assert!(paths.contains(&"/nationalities/1") && paths.contains(&"/nationalities/2"));

    // Holder selection: one array element, one nested claim (its parent comes along).
    let view = inspect(&sd).unwrap();
    let chosen = select(
        &sd,
        &view,
        &[
            "/nationalities/2".to_string(),
            "/address/region".to_string(),
        ],
    )
    .unwrap();
    let shown = verify(
        &chosen,
        IssuerTrust::X5c {
            anchors: &anchors,
            at: NOW + 1,
            profile: TrustRole::SdJwtIssuer,
        },
        Some(TimeCheck {
            at: NOW + 1,
            skew: 0,
        }),
        None,
    )
    .unwrap();
    assert_eq!(shown.claims["nationalities"], json!(["KR", "US"]));
    // "US" is element 2 of the issued array, though element 1 of what the verifier sees.
    assert_eq!(
        shown
            .disclosed
            .iter()
            .find(|(_, v)| *v == json!("US"))
            .map(|(p, _)| p.as_str()),
        Some("/nationalities/2")
    );
    assert_eq!(
        shown.claims["address"],
        json!({ "region": "서울특별시", "country": "KR" })
    );
    assert!(shown.claims.get("given_name").is_none());
    assert_eq!(shown.header["typ"], "dc+sd-jwt");
    assert!(select(&sd, &view, &["/nope".to_string()]).is_err());
    // Issuing reserved or missing claims is refused.
    assert!(issue(signer, &chain, &envelope, &json!({"iss": "x"}), &[]).is_err());
    assert!(issue(
        signer,
        &chain,
        &envelope,
        &claims,
        &["/missing".to_string()]
    )
    .is_err());
}
