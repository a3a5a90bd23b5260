//! Conformance with the ISO/IEC 18013-5:2021 Annex D worked example: session keys, decryption,
//! reader and issuer authentication, digests, the device MAC, and byte-for-byte re-encoding.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use wallet_core::cose;
use wallet_core::cose::cbor;
use wallet_core::crypto::ec::SoftwareKey;
use wallet_core::mdoc::engagement::DeviceEngagement;
use wallet_core::mdoc::issuer_signed::IssuerSigned;
use wallet_core::mdoc::request::{reader_authentication_bytes, DeviceRequest};
use wallet_core::mdoc::response::{device_authentication_bytes, DeviceAuth, DeviceResponse};
use wallet_core::mdoc::session::{
    self, Role, SessionCipher, SessionData, SessionEstablishment, SessionKeys, SessionTranscript,
};
use wallet_core::trust::x509::{verify_chain, ParsedCertificate, TrustError, TrustRole};

fn vector(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/data/iso18013-5-annexD/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.trim();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn point(prefix: &str) -> Vec<u8> {
    [
        vec![0x04],
        vector(&format!("{prefix}_x")),
        vector(&format!("{prefix}_y")),
    ]
    .concat()
}

/// 2021-01-01T00:00:00Z: inside the validity of the example's certificates and MSO.
const AT: i64 = 1_609_459_200;

fn transcript() -> SessionTranscript {
    SessionTranscript::from_tagged_bytes(&vector("session_transcript_bytes")).unwrap()
}

fn keys() -> SessionKeys {
    let reader = SoftwareKey::from_private_scalar(&vector("ephemeral_reader_key_d")).unwrap();
    let shared = reader.agree(&point("ephemeral_device_key")).unwrap();
    // ECDH is symmetric: the device side gets the same secret.
    let device = SoftwareKey::from_private_scalar(&vector("ephemeral_device_key_d")).unwrap();
    assert_eq!(
        device.agree(&point("ephemeral_reader_key")).unwrap(),
        shared
    );
    SessionKeys::derive(shared.expose(), &transcript()).unwrap()
}

#[test]
fn private_keys_match_public_keys() {
    for prefix in [
        "ephemeral_device_key",
        "ephemeral_reader_key",
        "static_device_key",
    ] {
        let key = SoftwareKey::from_private_scalar(&vector(&format!("{prefix}_d"))).unwrap();
        assert_eq!(key.public_key(), point(prefix), "{prefix}");
    }
}

#[test]
fn session_establishment_decrypts_to_the_device_request_and_back() {
    let establishment = SessionEstablishment::parse(&vector("session_establishment")).unwrap();
    assert_eq!(
        establishment.encode(),
        vector("session_establishment"),
        "re-encodes byte for byte"
    );
    // The reader key in the message is the example's ephemeral reader key.
    let e_reader =
        cose::public_key_from_cose(&cbor::decode(&establishment.e_reader_key_bytes).unwrap())
            .unwrap();
    assert_eq!(e_reader, point("ephemeral_reader_key"));
    // And it is the one bound into the transcript.
    let transcript = transcript();
    let items = cbor::array(transcript.value(), "transcript").unwrap();
    assert_eq!(
        cbor::untag_bytes(&items[1], "EReaderKeyBytes").unwrap(),
        establishment.e_reader_key_bytes
    );
    let e_device = cbor::untag_bytes(&items[0], "DeviceEngagementBytes").unwrap();
    assert_eq!(
        DeviceEngagement::parse(e_device).unwrap().e_device_key,
        point("ephemeral_device_key")
    );

    let keys = keys();
    let mut device = SessionCipher::new(Role::Device, &keys).unwrap();
    let request = device.decrypt(&establishment.data).unwrap();
    assert_eq!(request, vector("device_request"));
    // The reader's encryption of the request is byte-identical to the example.
    let mut reader = SessionCipher::new(Role::Reader, &keys).unwrap();
    assert_eq!(reader.encrypt(&request).unwrap(), establishment.data);
}

#[test]
fn session_data_decrypts_to_the_device_response_and_back() {
    let session_data = SessionData::parse(&vector("session_data")).unwrap();
    assert_eq!(session_data.encode(), vector("session_data"));
    let keys = keys();
    let mut reader = SessionCipher::new(Role::Reader, &keys).unwrap();
    let response = reader.decrypt(session_data.data.as_ref().unwrap()).unwrap();
    assert_eq!(response, vector("device_response"));
    let mut device = SessionCipher::new(Role::Device, &keys).unwrap();
    assert_eq!(
        &device.encrypt(&response).unwrap(),
        session_data.data.as_ref().unwrap()
    );

    let termination = SessionData::parse(&vector("session_termination")).unwrap();
    assert_eq!(termination.status, Some(session::STATUS_TERMINATION));
    assert_eq!(termination.encode(), vector("session_termination"));
}

#[test]
fn device_engagement_parses_and_keeps_its_bytes() {
    let engagement = DeviceEngagement::parse(&vector("device_engagement")).unwrap();
    assert_eq!(engagement.bytes, vector("device_engagement"));
    assert_eq!(
        cbor::encode(&cbor::tagged_bytes(engagement.e_device_key_bytes.clone())),
        vector("e_device_key_bytes")
    );
    assert_eq!(engagement.retrieval_methods.len(), 1, "one BLE method");
}

#[test]
fn reader_authentication_verifies_and_chains_to_the_reader_root() {
    let request = DeviceRequest::parse(&vector("device_request")).unwrap();
    assert_eq!(
        request.encode().unwrap(),
        vector("device_request"),
        "re-encodes byte for byte"
    );
    let doc = &request.doc_requests[0];
    assert_eq!(doc.items_request_bytes, vector("items_request"));
    assert_eq!(doc.items_request.doc_type, "org.iso.18013.5.1.mDL");
    assert_eq!(doc.items_request.namespaces[0].1.len(), 6);
    assert!(doc.items_request.namespaces[0]
        .1
        .contains(&("portrait".to_string(), false)));

    let payload = reader_authentication_bytes(&transcript(), &doc.items_request_bytes);
    assert_eq!(payload, vector("reader_authentication_bytes"));
    let reader_auth = doc.reader_auth.as_ref().unwrap();
    assert_eq!(
        cbor::encode(&cose::to_value(reader_auth.clone()).unwrap()),
        vector("reader_auth")
    );
    let chain = cose::x5chain(&reader_auth.unprotected).unwrap();
    assert_eq!(chain, vec![vector("reader_cert")]);
    let root = ParsedCertificate::from_der(&vector("reader_root_cert")).unwrap();
    let (leaf, _) = verify_chain(
        &chain,
        std::slice::from_ref(&root),
        AT,
        TrustRole::MdocReader,
    )
    .unwrap();
    cose::verify_sign1(
        reader_auth,
        Some(&payload),
        &leaf.p256_public_key().unwrap(),
    )
    .unwrap();
    // Tampered payload fails.
    let mut other = payload.clone();
    let last = other.len() - 1;
    other[last] ^= 1;
    assert!(
        cose::verify_sign1(reader_auth, Some(&other), &leaf.p256_public_key().unwrap()).is_err()
    );
    // The reader certificate is not a document signer.
    assert!(matches!(
        verify_chain(&chain, &[root], AT, TrustRole::MdocIssuer),
        Err(TrustError::Profile(_))
    ));
}

#[test]
fn issuer_auth_digests_and_device_mac_verify() {
    let response = DeviceResponse::parse(&vector("device_response")).unwrap();
    assert_eq!(response.status, 0);
    let doc = &response.documents[0];
    assert_eq!(doc.doc_type, "org.iso.18013.5.1.mDL");

    // Re-encoding the whole response from its parts gives the same bytes.
    let value = DeviceResponse::document_value(
        &doc.doc_type,
        doc.issuer_signed.to_value_filtered(|_, _| true).unwrap(),
        &doc.device_signed,
        &doc.errors,
    )
    .unwrap();
    assert_eq!(
        DeviceResponse::encode_values(vec![value], &[], 0),
        vector("device_response")
    );

    // issuerAuth: DS certificate from the x5chain, chained to the IACA.
    let issuer_signed: &IssuerSigned = &doc.issuer_signed;
    let chain = cose::x5chain(&issuer_signed.issuer_auth.unprotected).unwrap();
    assert_eq!(chain, vec![vector("ds_cert")]);
    let iaca = ParsedCertificate::from_der(&vector("iaca_cert")).unwrap();
    let (ds, _) = verify_chain(
        &chain,
        std::slice::from_ref(&iaca),
        AT,
        TrustRole::MdocIssuer,
    )
    .unwrap();
    cose::verify_sign1(
        &issuer_signed.issuer_auth,
        None,
        &ds.p256_public_key().unwrap(),
    )
    .unwrap();
    // After the DS certificate expired (2021-10-01), the chain is refused.
    assert!(matches!(
        verify_chain(&chain, &[iaca], 1_640_995_200, TrustRole::MdocIssuer),
        Err(TrustError::Validity { .. })
    ));

    // All six disclosed digests match the MSO.
    let mso = &issuer_signed.mso().unwrap();
    assert_eq!(mso.doc_type, "org.iso.18013.5.1.mDL");
    assert!(mso.validity.valid_from <= AT && AT <= mso.validity.valid_until);
    let mut checked = 0;
    for (ns, items) in &issuer_signed.namespaces {
        for item in items {
            assert_eq!(
                mso.digest(ns, item.digest_id).unwrap(),
                item.digest(mso.digest_algorithm).as_slice(),
                "{ns}/{}",
                item.element_identifier
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 6);
    assert_eq!(
        issuer_signed
            .item("org.iso.18013.5.1", "family_name")
            .unwrap()
            .element_value,
        cbor::Value::Text("Doe".into())
    );

    // The MSO's device key is the static device key, and the deviceMac verifies.
    assert_eq!(mso.device_key, point("static_device_key"));
    let device_auth_bytes = device_authentication_bytes(
        &transcript(),
        &doc.doc_type,
        &doc.device_signed.namespaces_bytes,
    );
    assert_eq!(device_auth_bytes, vector("device_authentication_bytes"));
    let static_key = SoftwareKey::from_private_scalar(&vector("static_device_key_d")).unwrap();
    let shared = static_key.agree(&point("ephemeral_reader_key")).unwrap();
    let mac_key = session::mac_key(shared.expose(), &transcript()).unwrap();
    let DeviceAuth::Mac(mac) = &doc.device_signed.device_auth else {
        panic!("expected deviceMac")
    };
    cose::verify_mac0(mac, &mac_key, &device_auth_bytes).unwrap();
    let wrong = session::mac_key(&[0u8; 32], &transcript()).unwrap();
    assert!(cose::verify_mac0(mac, &wrong, &device_auth_bytes).is_err());
}
