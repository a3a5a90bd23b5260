//! Issue → present (selective disclosure) → verify, in process, and every tamper case the
//! reader must reject with its own error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use wallet_core::cose;
use wallet_core::cose::cbor::Value;
use wallet_core::crypto::ec::SoftwareKey;
use wallet_core::crypto::secret::SecretBytes;
use wallet_core::issuer::certificates::{create_authority, Authority};
use wallet_core::issuer::mdoc::{issue, mdl_claims, MdlFacts, MDL_DOCTYPE, MDL_NAMESPACE};
use wallet_core::mdoc::engagement::RetrievalMethod;
use wallet_core::mdoc::holder::{build_document, DeviceAuthentication, Incoming, Presentment};
use wallet_core::mdoc::issuer_signed::{IssuerSigned, IssuerSignedItem, ValidityInfo};
use wallet_core::mdoc::reader::{ReaderIdentity, ReaderSession};
use wallet_core::mdoc::request::ItemsRequest;
use wallet_core::mdoc::response::{DeviceResponse, STATUS_OK};
use wallet_core::mdoc::{DeviceAuthMode, MdocError};
use wallet_core::time;
use wallet_core::trust::x509::{verify_chain, ParsedCertificate, TrustRole};
use wallet_core::verifier::mdoc::{
    check_against_request, check_issuer_signed, verify_document, VerificationContext,
    VerifiedDocument,
};

const NOW: i64 = 1_800_000_000;

struct World {
    authority: Authority,
    device: SoftwareKey,
    mdl: Vec<u8>,
}

fn world() -> World {
    let authority = create_authority("Jigap Test", "KR", NOW).unwrap();
    let device = SoftwareKey::generate().unwrap();
    let day = NOW / 86_400;
    let facts = MdlFacts {
        family_name: "Hong".into(),
        given_name: "Gildong".into(),
        birth_date: time::parse_full_date("1990-05-05").unwrap(),
        issue_date: day - 10,
        expiry_date: day + 3650,
        issuing_country: "KR".into(),
        issuing_authority: "Korean National Police Agency".into(),
        document_number: "11-23-456789-01".into(),
        portrait: vec![0xff, 0xd8, 0xff, 0xd9],
        vehicle_categories: vec!["B".into()],
        un_distinguishing_sign: "ROK".into(),
    };
    let validity = ValidityInfo {
        signed: NOW - 100,
        valid_from: NOW - 100,
        valid_until: NOW + 86_400 * 30,
        expected_update: None,
    };
    let mdl = issue(
        authority.signer(TrustRole::MdocIssuer).unwrap(),
        MDL_DOCTYPE,
        &mdl_claims(&facts),
        device.public_key(),
        validity,
        None,
    )
    .unwrap();
    World {
        authority,
        device,
        mdl,
    }
}

fn request(elements: &[&str]) -> ItemsRequest {
    ItemsRequest {
        doc_type: MDL_DOCTYPE.into(),
        namespaces: vec![(
            MDL_NAMESPACE.into(),
            elements.iter().map(|e| (e.to_string(), false)).collect(),
        )],
        request_info: None,
    }
}

/// Runs a session; `approve` picks what the holder releases; `signing_key` signs device auth.
fn present(
    w: &World,
    elements: &[&str],
    approve: &[&str],
    mac: bool,
    signing_key: &SoftwareKey,
) -> (ReaderSession, DeviceResponse) {
    let mut holder = Presentment::new(vec![RetrievalMethod::Nfc {
        max_command_data: 255,
        max_response_data: 65536,
    }])
    .unwrap();
    let mut reader = ReaderSession::from_qr(&holder.engagement().qr_uri()).unwrap();
    let identity = ReaderIdentity {
        key: &w.authority.signer(TrustRole::MdocReader).unwrap().key,
        chain: std::slice::from_ref(
            &w.authority
                .signer(TrustRole::MdocReader)
                .unwrap()
                .certificate,
        ),
    };
    let establishment = reader
        .request(vec![request(elements)], Some(identity))
        .unwrap();

    let Incoming::Request(device_request) = holder.receive(&establishment).unwrap() else {
        panic!("expected a request")
    };
    let doc_request = &device_request.doc_requests[0];
    // The holder checks readerAuth against its reader trust anchors.
    let reader_auth = doc_request.reader_auth.as_ref().unwrap();
    let reader_root =
        ParsedCertificate::from_der(w.authority.root_certificate(TrustRole::MdocReader).unwrap())
            .unwrap();
    let (reader_cert, _) = verify_chain(
        &cose::x5chain(&reader_auth.unprotected).unwrap(),
        &[reader_root],
        NOW,
        TrustRole::MdocReader,
    )
    .unwrap();
    let payload = wallet_core::mdoc::request::reader_authentication_bytes(
        holder.transcript().unwrap(),
        &doc_request.items_request_bytes,
    );
    cose::verify_sign1(
        reader_auth,
        Some(&payload),
        &reader_cert.p256_public_key().unwrap(),
    )
    .unwrap();

    let requested: Vec<(String, String)> = doc_request.items_request.namespaces[0]
        .1
        .iter()
        .map(|(e, _)| (MDL_NAMESPACE.to_string(), e.clone()))
        .collect();
    let approved: Vec<(String, String)> = approve
        .iter()
        .map(|e| (MDL_NAMESPACE.to_string(), e.to_string()))
        .collect();
    let stored = IssuerSigned::parse(&w.mdl).unwrap();
    let transcript = holder.transcript().unwrap().clone();
    let document = if mac {
        let mut agree =
            |peer: &[u8]| -> Result<SecretBytes, MdocError> { Ok(signing_key.agree(peer)?) };
        build_document(
            &stored,
            &requested,
            &approved,
            &transcript,
            DeviceAuthentication::Mac(&mut agree),
        )
        .unwrap()
    } else {
        let mut sign = |tbs: &[u8]| -> Result<Vec<u8>, MdocError> { Ok(signing_key.sign(tbs)?) };
        build_document(
            &stored,
            &requested,
            &approved,
            &transcript,
            DeviceAuthentication::Signature(&mut sign),
        )
        .unwrap()
    };
    let response = DeviceResponse::encode_values(vec![document], &[], STATUS_OK);
    let message = holder.respond(&response).unwrap();
    let (_, parsed) = reader.receive(&message).unwrap().unwrap();
    (reader, parsed)
}

fn verify(
    w: &World,
    reader: &ReaderSession,
    response: &DeviceResponse,
    at: i64,
) -> Result<VerifiedDocument, MdocError> {
    let iaca =
        [
            ParsedCertificate::from_der(
                w.authority.root_certificate(TrustRole::MdocIssuer).unwrap(),
            )
            .unwrap(),
        ];
    let ctx = VerificationContext {
        iaca: &iaca,
        at,
        transcript: reader.transcript(),
        e_reader_key: Some(reader.ephemeral_key()),
    };
    verify_document(&response.documents[0], &ctx)
}

#[test]
fn only_age_over_19_leaves_the_device_and_verifies() {
    let w = world();
    let (reader, response) = present(
        &w,
        &["age_over_19", "family_name", "portrait"],
        &["age_over_19"],
        false,
        &w.device,
    );
    let verified = verify(&w, &reader, &response, NOW).unwrap();
    assert_eq!(verified.elements.len(), 1);
    assert_eq!(verified.elements[0].identifier, "age_over_19");
    assert_eq!(verified.elements[0].value, Value::Bool(true));
    assert_eq!(verified.device_auth, DeviceAuthMode::Signature);
    assert_eq!(verified.issuing_country.as_deref(), Some("KR"));
    let mut not_returned: Vec<&str> = verified
        .not_returned
        .iter()
        .map(|(_, e, _)| e.as_str())
        .collect();
    not_returned.sort_unstable();
    assert_eq!(not_returned, ["family_name", "portrait"]);
}

#[test]
fn mac_device_authentication_verifies() {
    let w = world();
    let (reader, response) = present(
        &w,
        &["given_name", "no_such_element"],
        &["given_name", "no_such_element"],
        true,
        &w.device,
    );
    let verified = verify(&w, &reader, &response, NOW).unwrap();
    assert_eq!(verified.device_auth, DeviceAuthMode::Mac);
    assert_eq!(verified.elements.len(), 1);
    assert_eq!(
        verified.not_returned,
        vec![(MDL_NAMESPACE.to_string(), "no_such_element".to_string(), 0)]
    );
}

#[test]
fn each_tamper_case_has_its_own_error() {
    let w = world();
    let (reader, response) = present(
        &w,
        &["family_name", "given_name"],
        &["family_name", "given_name"],
        false,
        &w.device,
    );
    verify(&w, &reader, &response, NOW).unwrap();

    // Tampered value.
    let mut r = response.clone();
    let item = &mut r.documents[0].issuer_signed.namespaces[0].1[0];
    *item = IssuerSignedItem::new(
        item.digest_id,
        item.random.clone(),
        &item.element_identifier.clone(),
        Value::Text("Mallory".into()),
    );
    assert!(matches!(
        verify(&w, &reader, &r, NOW),
        Err(MdocError::DigestMismatch { .. })
    ));

    // Unknown digest id.
    let mut r = response.clone();
    let item = &mut r.documents[0].issuer_signed.namespaces[0].1[0];
    *item = IssuerSignedItem::new(
        987_654,
        item.random.clone(),
        &item.element_identifier.clone(),
        item.element_value.clone(),
    );
    assert!(matches!(
        verify(&w, &reader, &r, NOW),
        Err(MdocError::UnknownDigestId {
            digest_id: 987_654,
            ..
        })
    ));

    // Wrong docType.
    let mut r = response.clone();
    r.documents[0].doc_type = "org.iso.23220.photoid.1".into();
    assert!(matches!(
        verify(&w, &reader, &r, NOW),
        Err(MdocError::DocTypeMismatch { .. })
    ));

    // Expired, not yet valid.
    assert!(matches!(
        verify(&w, &reader, &response, NOW + 86_400 * 31),
        Err(MdocError::Expired(_))
    ));
    assert!(matches!(
        verify(&w, &reader, &response, NOW - 1000),
        Err(MdocError::NotYetValid(_))
    ));

    // Issuer signature over a changed MSO.
    let mut r = response.clone();
    let auth = &mut r.documents[0].issuer_signed.issuer_auth;
    let mut payload = auth.payload.clone().unwrap();
    let n = payload.len();
    payload[n - 1] ^= 0x01;
    auth.payload = Some(payload);
    assert!(matches!(
        verify(&w, &reader, &r, NOW),
        Err(MdocError::IssuerSignature)
    ));

    // Untrusted: a different authority's IACA.
    let other = create_authority("Other", "KR", NOW).unwrap();
    let iaca =
        [
            ParsedCertificate::from_der(other.root_certificate(TrustRole::MdocIssuer).unwrap())
                .unwrap(),
        ];
    let ctx = VerificationContext {
        iaca: &iaca,
        at: NOW,
        transcript: reader.transcript(),
        e_reader_key: None,
    };
    assert!(matches!(
        verify_document(&response.documents[0], &ctx),
        Err(MdocError::UntrustedIssuer(_))
    ));

    // Broken chain: the DS certificate's signature is damaged.
    let mut r = response.clone();
    let chain = cose::x5chain(&r.documents[0].issuer_signed.issuer_auth.unprotected).unwrap();
    let mut ds = chain[0].clone();
    let n = ds.len();
    ds[n - 3] ^= 0x01;
    r.documents[0].issuer_signed.issuer_auth.unprotected.rest =
        vec![(coset::Label::Int(33), Value::Bytes(ds))];
    assert!(matches!(
        verify(&w, &reader, &r, NOW),
        Err(MdocError::CertificateChain(_))
    ));
}

#[test]
fn wrong_device_key_and_replayed_response_fail_device_authentication() {
    let w = world();
    // The mdoc is bound to w.device, but another key signs.
    let thief = SoftwareKey::generate().unwrap();
    let (reader, response) = present(&w, &["family_name"], &["family_name"], false, &thief);
    assert!(matches!(
        verify(&w, &reader, &response, NOW),
        Err(MdocError::DeviceAuthentication(_))
    ));
    let (reader, response) = present(&w, &["family_name"], &["family_name"], true, &thief);
    assert!(matches!(
        verify(&w, &reader, &response, NOW),
        Err(MdocError::DeviceAuthentication(_))
    ));

    // A genuine response from one session, replayed into another session's transcript.
    let (_, genuine) = present(&w, &["family_name"], &["family_name"], false, &w.device);
    let (other_session, _) = present(&w, &["family_name"], &["family_name"], false, &w.device);
    assert!(matches!(
        verify(&w, &other_session, &genuine, NOW),
        Err(MdocError::DeviceAuthentication(_))
    ));
}

#[test]
fn session_messages_out_of_order_are_refused() {
    let w = world();
    let mut holder = Presentment::new(vec![]).unwrap();
    let mut reader = ReaderSession::from_qr(&holder.engagement().qr_uri()).unwrap();
    let first = reader
        .request(vec![request(&["family_name"])], None)
        .unwrap();
    holder.receive(&first).unwrap();
    let second = reader
        .request(vec![request(&["given_name"])], None)
        .unwrap();
    let third = reader
        .request(vec![request(&["birth_date"])], None)
        .unwrap();
    assert_eq!(holder.receive(&third), Err(MdocError::Decryption));
    assert!(matches!(holder.receive(&second), Ok(Incoming::Request(_))));
    assert_eq!(
        holder.receive(&second),
        Err(MdocError::Decryption),
        "replay"
    );
    // The reader sees a replayed response the same way.
    let stored = IssuerSigned::parse(&w.mdl).unwrap();
    let transcript = holder.transcript().unwrap().clone();
    let mut sign = |tbs: &[u8]| -> Result<Vec<u8>, MdocError> { Ok(w.device.sign(tbs)?) };
    let doc = build_document(
        &stored,
        &[],
        &[],
        &transcript,
        DeviceAuthentication::Signature(&mut sign),
    )
    .unwrap();
    let message = holder
        .respond(&DeviceResponse::encode_values(vec![doc], &[], 0))
        .unwrap();
    reader.receive(&message).unwrap();
    assert!(matches!(
        reader.receive(&message),
        Err(MdocError::Decryption)
    ));
    // Termination ends both sides.
    let end = holder.terminate();
    assert_eq!(reader.receive(&end).unwrap(), None);
    assert_eq!(holder.receive(&second), Err(MdocError::SessionTerminated));
}

#[test]
fn a_response_must_answer_what_was_asked() {
    let w = world();
    // The holder releases family_name though only age_over_19 was asked for.
    let (reader, response) = present(
        &w,
        &["age_over_19"],
        &["age_over_19", "family_name"],
        false,
        &w.device,
    );
    assert!(matches!(
        check_against_request(&response, reader.requested()),
        Err(MdocError::NotRequested(m)) if m.contains("family_name")
    ));
    let (reader, response) = present(&w, &["age_over_19"], &["age_over_19"], false, &w.device);
    check_against_request(&response, reader.requested()).unwrap();
    // An answer of another docType than the one asked for.
    let mut other = request(&["age_over_19"]);
    other.doc_type = "kr.jigap.mdoc.resident-registration.1".into();
    assert!(matches!(
        check_against_request(&response, &[other]),
        Err(MdocError::NotRequested(_))
    ));
    // The same document twice when it was asked for once.
    let mut twice = response.clone();
    twice.documents.push(response.documents[0].clone());
    assert!(matches!(
        check_against_request(&twice, reader.requested()),
        Err(MdocError::NotRequested(_))
    ));
}

/// Re-signs `issuer_signed` with `validityInfo.validFrom` replaced by `valid_from` (any text).
fn with_valid_from(w: &World, valid_from: &str) -> Vec<u8> {
    use wallet_core::cose::cbor;
    let stored = IssuerSigned::parse(&w.mdl).unwrap();
    let outer = cbor::decode(stored.issuer_auth.payload.as_deref().unwrap()).unwrap();
    let mut mso = cbor::decode(cbor::untag_bytes(&outer, "MSO").unwrap()).unwrap();
    let Value::Map(entries) = &mut mso else {
        panic!("MSO is a map")
    };
    for (k, v) in entries.iter_mut() {
        if *k == Value::Text("validityInfo".into()) {
            let Value::Map(validity) = v else { panic!() };
            for (vk, vv) in validity.iter_mut() {
                if *vk == Value::Text("validFrom".into()) {
                    *vv = Value::Tag(0, Box::new(Value::Text(valid_from.into())));
                }
            }
        }
    }
    let payload = cbor::encode(&cbor::tagged_bytes(cbor::encode(&mso)));
    let signer = w.authority.signer(TrustRole::MdocIssuer).unwrap();
    let issuer_auth = cose::create_sign1(
        &payload,
        false,
        std::slice::from_ref(&signer.certificate),
        |tbs| signer.key.sign(tbs),
    )
    .unwrap();
    let mut value = cbor::decode(&w.mdl).unwrap();
    let Value::Map(top) = &mut value else {
        panic!()
    };
    for (k, v) in top.iter_mut() {
        if *k == Value::Text("issuerAuth".into()) {
            *v = cose::to_value(issuer_auth.clone()).unwrap();
        }
    }
    cbor::encode(&value)
}

#[test]
fn a_signed_mso_with_a_non_ascii_date_is_a_typed_error() {
    let w = world();
    // A well-formed date re-signed the same way passes: the test's re-signing is sound.
    let sound = with_valid_from(&w, "2020-01-01T00:00:00Z");
    check_issuer_signed(&IssuerSigned::parse(&sound).unwrap()).unwrap();
    for bad in [
        "2020-01-01T00:00:0é",
        "2020-01-01T00:00:0\u{e9}Z",
        "é",
        "2020-01-01T00:00:00.é",
        "２０２０-01-01T00:00:00Z",
    ] {
        let mdl = with_valid_from(&w, bad);
        let parsed = IssuerSigned::parse(&mdl).unwrap();
        assert!(
            matches!(check_issuer_signed(&parsed), Err(MdocError::Malformed(_))),
            "{bad}"
        );
    }
}

/// The holder parses its credential's MSO once and keeps it; the kept one is the MSO, and a
/// copy or a comparison does not depend on whether it was read yet.
#[test]
fn the_held_mso_is_parsed_once_and_is_the_mso() {
    let w = world();
    let stored = IssuerSigned::parse(&w.mdl).unwrap();
    let fresh = IssuerSigned::parse(&w.mdl).unwrap();
    let first = stored.held_mso().unwrap();
    assert_eq!(first, &stored.mso().unwrap());
    assert!(std::ptr::eq(first, stored.held_mso().unwrap()), "kept");
    assert_eq!(stored, fresh, "equal whether or not the MSO was read");
    assert_eq!(stored.clone().held_mso().unwrap(), first);
}
