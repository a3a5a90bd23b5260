//! The Digital Credentials API against an independent implementation: a real ISO/IEC 18013-7
//! Annex C request, captured from a public verifier, read by the wallet. Its reader
//! authentication verifies over the SessionTranscript this wallet builds, so both sides agree
//! on the transcript byte for byte (the construction the response's HPKE `info` uses too).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use wallet_core::cose;
use wallet_core::mdoc::request::reader_authentication_bytes;
use wallet_core::openid4vp::dc_api::{self, DcApiRequest};
use wallet_core::openid4vp::request::ReadOptions;
use wallet_core::trust::x509::ParsedCertificate;

fn request() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/dc-api/multipaz-request.json"
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn read(origin: &str) -> dc_api::MdocRequest {
    let vector = request();
    let options = ReadOptions {
        anchors: &[],
        now: 1_765_789_000,
        outer_client_id: None,
        origin: None,
        wallet_nonce: None,
        allow_loopback_http: false,
    };
    match dc_api::read(
        vector["protocol"].as_str().unwrap(),
        &vector["data"].to_string(),
        origin,
        &options,
    )
    .unwrap()
    {
        DcApiRequest::Mdoc(request) => *request,
        DcApiRequest::OpenId4Vp(_) => panic!("an Annex C request"),
    }
}

fn reader_signature_verifies(request: &dc_api::MdocRequest) -> bool {
    let doc = &request.device_request.doc_requests[0];
    let auth = doc.reader_auth.as_ref().unwrap();
    let chain = cose::x5chain(&auth.unprotected).unwrap();
    let leaf = ParsedCertificate::from_der(&chain[0]).unwrap();
    let payload = reader_authentication_bytes(&request.transcript, &doc.items_request_bytes);
    cose::verify_sign1(auth, Some(&payload), &leaf.p256_public_key().unwrap()).is_ok()
}

#[test]
fn a_real_annex_c_request_reads_and_its_reader_signature_binds_our_transcript() {
    let vector = request();
    let request = read(vector["origin"].as_str().unwrap());
    let doc = &request.device_request.doc_requests[0];
    assert_eq!(doc.items_request.doc_type, "org.iso.18013.5.1.mDL");
    assert_eq!(
        request.dcql.credentials[0].claims.as_ref().unwrap()[0]
            .path
            .len(),
        2,
        "the request becomes a DCQL query for matching"
    );
    assert!(
        reader_signature_verifies(&request),
        "the verifier signed the transcript this wallet built (ESP256)"
    );
    // Another origin is another transcript: the signature no longer holds.
    assert!(!reader_signature_verifies(&read("https://phish.example")));
}
