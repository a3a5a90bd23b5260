//! Speed of the mdoc hot paths against the bare cryptography they cannot avoid.
//!
//! Run: `cargo bench -p wallet-core --features issuer --bench mdoc`
//! Prints the median time per operation over many runs. No timing assertions: results are
//! recorded in BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::hint::black_box;

use support::{median_micros, report_micros, report_timing, timing};

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use wallet_core::crypto::ec::SoftwareKey;
use wallet_core::issuer::certificates::create_authority;
use wallet_core::issuer::mdoc::{issue, mdl_claims, MdlFacts, MDL_DOCTYPE, MDL_NAMESPACE};
use wallet_core::mdoc::holder::{build_document, DeviceAuthentication, Incoming, Presentment};
use wallet_core::mdoc::issuer_signed::{IssuerSigned, ValidityInfo};
use wallet_core::mdoc::reader::ReaderSession;
use wallet_core::mdoc::request::ItemsRequest;
use wallet_core::mdoc::response::DeviceResponse;
use wallet_core::mdoc::MdocError;
use wallet_core::trust::x509::{ParsedCertificate, TrustRole};
use wallet_core::verifier::mdoc::{verify_document, VerificationContext};

fn main() {
    const NOW: i64 = 1_800_000_000;
    let rng = SystemRandom::new();

    // The floor: the primitives one holder response and one reader verification need.
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let message = vec![0x5au8; 600];
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
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap());
    let payload = vec![0u8; 6000];
    let aes = median_micros(5000, || {
        let mut buf = payload.clone();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key([1; 12]),
            Aad::empty(),
            &mut buf,
        )
        .unwrap();
        black_box(buf);
    });
    let sha = median_micros(20_000, || {
        black_box(ring::digest::digest(
            &ring::digest::SHA256,
            black_box(&message[..100]),
        ));
    });
    report_micros("ring P-256 sign", sign);
    report_micros("ring P-256 verify", verify);
    report_micros("ring AES-256-GCM seal, 6 KB", aes);
    report_micros("ring SHA-256, 100 B", sha);
    let holder_floor = sign + 2.0 * aes;
    let reader_floor = 3.0 * verify + 5.0 * sha + aes;
    report_micros("floor: holder response (1 sign + 2 AES-GCM)", holder_floor);
    report_micros(
        "floor: reader verification (3 verify + 5 SHA + 1 AES)",
        reader_floor,
    );

    // The real paths, on an issued mDL with a 1 KB portrait.
    let authority = create_authority("Bench", "KR", NOW).unwrap();
    let device = SoftwareKey::generate().unwrap();
    let facts = MdlFacts {
        family_name: "Hong".into(),
        given_name: "Gildong".into(),
        birth_date: 7000,
        issue_date: NOW / 86_400,
        expiry_date: NOW / 86_400 + 3650,
        issuing_country: "KR".into(),
        issuing_authority: "KNPA".into(),
        document_number: "11-23-456789-01".into(),
        portrait: vec![0xff; 1024],
        vehicle_categories: vec!["B".into()],
        un_distinguishing_sign: "ROK".into(),
    };
    let validity = ValidityInfo {
        signed: NOW,
        valid_from: NOW,
        valid_until: NOW + 86_400,
        expected_update: None,
    };
    // The device key as a hardware keystore holds it: a key pair kept for its whole life.
    let keystore_pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let keystore = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        keystore_pkcs8.as_ref(),
        &rng,
    )
    .unwrap();
    let keystore_sign = |tbs: &[u8]| -> Result<Vec<u8>, MdocError> {
        Ok(keystore.sign(&rng, tbs).unwrap().as_ref().to_vec())
    };
    let mdl = issue(
        authority.signer(TrustRole::MdocIssuer).unwrap(),
        MDL_DOCTYPE,
        &mdl_claims(&facts),
        keystore.public_key().as_ref(),
        validity,
        None,
    )
    .unwrap();
    let stored = IssuerSigned::parse(&mdl).unwrap();
    // Five of the mDL's 13 elements, the 1 KB portrait among them.
    let elements = [
        "family_name",
        "given_name",
        "birth_date",
        "age_over_19",
        "portrait",
    ];
    let requested: Vec<(String, String)> = elements
        .iter()
        .map(|e| (MDL_NAMESPACE.to_string(), e.to_string()))
        .collect();

    let mut holder = Presentment::new(vec![]).unwrap();
    let mut reader = ReaderSession::from_qr(&holder.engagement().qr_uri()).unwrap();
    let items = ItemsRequest {
        doc_type: MDL_DOCTYPE.into(),
        namespaces: vec![(
            MDL_NAMESPACE.into(),
            elements.iter().map(|e| (e.to_string(), false)).collect(),
        )],
        request_info: None,
    };
    let establishment = reader.request(vec![items], None).unwrap();
    let Incoming::Request(_) = holder.receive(&establishment).unwrap() else {
        panic!()
    };
    let transcript = holder.transcript().unwrap().clone();

    let holder_response = timing(500, || {
        let mut sign = keystore_sign;
        let doc = build_document(
            &stored,
            &requested,
            &requested,
            &transcript,
            DeviceAuthentication::Signature(&mut sign),
        )
        .unwrap();
        let response = DeviceResponse::encode_values(vec![doc], &[], 0);
        black_box(holder.respond(&response).unwrap());
    });
    report_timing(
        "holder: build, sign and encrypt a DeviceResponse (5 elements)",
        &holder_response,
    );
    // The same with the built-in software key, which rebuilds its key pair for each signature
    // so that no unzeroized copy outlives it (its signature is not the MSO's device key's,
    // which only a reader would notice).
    let software_response = timing(500, || {
        let mut sign = |tbs: &[u8]| -> Result<Vec<u8>, MdocError> { Ok(device.sign(tbs)?) };
        let doc = build_document(
            &stored,
            &requested,
            &requested,
            &transcript,
            DeviceAuthentication::Signature(&mut sign),
        )
        .unwrap();
        let response = DeviceResponse::encode_values(vec![doc], &[], 0);
        black_box(holder.respond(&response).unwrap());
    });
    report_timing(
        "holder, signing with the software key instead",
        &software_response,
    );

    // Reader: a fresh session whose holder has answered 25,000 times in advance, so each
    // measured receive decrypts the next message in order, then parses and verifies it.
    let iaca =
        [
            ParsedCertificate::from_der(authority.root_certificate(TrustRole::MdocIssuer).unwrap())
                .unwrap(),
        ];
    let mut fresh_holder = Presentment::new(vec![]).unwrap();
    let mut reader = ReaderSession::from_qr(&fresh_holder.engagement().qr_uri()).unwrap();
    let one = ItemsRequest {
        doc_type: MDL_DOCTYPE.into(),
        namespaces: vec![(MDL_NAMESPACE.into(), vec![("age_over_19".into(), false)])],
        request_info: None,
    };
    fresh_holder
        .receive(&reader.request(vec![one], None).unwrap())
        .unwrap();
    let fresh_transcript = fresh_holder.transcript().unwrap().clone();
    let mut messages = Vec::with_capacity(25_000);
    for _ in 0..25_000 {
        let mut sign = keystore_sign;
        let doc = build_document(
            &stored,
            &requested,
            &requested,
            &fresh_transcript,
            DeviceAuthentication::Signature(&mut sign),
        )
        .unwrap();
        messages.push(
            fresh_holder
                .respond(&DeviceResponse::encode_values(vec![doc], &[], 0))
                .unwrap(),
        );
    }
    let mut next = messages.into_iter();
    let reader_verify = timing(1000, || {
        let message = next.next().unwrap();
        let (_, response) = reader.receive(&message).unwrap().unwrap();
        let ctx = VerificationContext {
            iaca: &iaca,
            at: NOW,
            transcript: reader.transcript(),
            e_reader_key: None,
        };
        black_box(verify_document(&response.documents[0], &ctx).unwrap());
    });
    report_timing(
        "reader: decrypt, parse and verify a DeviceResponse (5 elements)",
        &reader_verify,
    );

    // The holder's first request: the reader's SessionEstablishment in, session keys out
    // (ECDH with the holder's one-use key, HKDF for both directions) and the request
    // decrypted and parsed. Each measured receive is a fresh session, made in advance.
    // timing(100, …) calls it 100 / 10 + 21 × 100 times.
    let mut sessions: Vec<(Presentment, Vec<u8>)> = (0..2_110)
        .map(|_| {
            let holder = Presentment::new(vec![]).unwrap();
            let mut reader = ReaderSession::from_qr(&holder.engagement().qr_uri()).unwrap();
            let one = ItemsRequest {
                doc_type: MDL_DOCTYPE.into(),
                namespaces: vec![(MDL_NAMESPACE.into(), vec![("age_over_19".into(), false)])],
                request_info: None,
            };
            let establishment = reader.request(vec![one], None).unwrap();
            (holder, establishment)
        })
        .collect();
    let first_request = timing(100, || {
        let (mut holder, establishment) = sessions.pop().unwrap();
        black_box(holder.receive(&establishment).unwrap());
    });
    // Its floor: one ring ECDH, two HKDF-SHA-256 expansions and one AES-GCM open.
    let peer = SoftwareKey::generate().unwrap();
    let mut ephemerals: Vec<_> = (0..4_220)
        .map(|_| {
            ring::agreement::EphemeralPrivateKey::generate(&ring::agreement::ECDH_P256, &rng)
                .unwrap()
        })
        .collect();
    let ecdh = median_micros(200, || {
        let private = ephemerals.pop().unwrap();
        let peer =
            ring::agreement::UnparsedPublicKey::new(&ring::agreement::ECDH_P256, peer.public_key());
        black_box(ring::agreement::agree_ephemeral(private, &peer, |s| s.to_vec()).unwrap());
    });
    let hkdf = median_micros(5_000, || {
        black_box(wallet_core::crypto::aead::hkdf_sha256(&[7; 32], &[1; 32], b"SKDevice").unwrap());
    });
    let static_ecdh = median_micros(1_000, || {
        black_box(device.agree(peer.public_key()).unwrap());
    });
    report_micros("ring P-256 ECDH (one-use key)", ecdh);
    report_micros("p256 P-256 ECDH (static key, for comparison)", static_ecdh);
    report_micros("HKDF-SHA-256, 32 bytes", hkdf);
    let first_floor = ecdh + 2.0 * hkdf + aes;
    report_micros(
        "floor: holder first request (ECDH + 2 HKDF + AES)",
        first_floor,
    );
    report_timing(
        "holder: first request (ECDH, keys, decrypt, parse the request)",
        &first_request,
    );
    println!();
    println!(
        "holder / floor: {:.2}x   reader / floor: {:.2}x   first request / floor: {:.2}x",
        holder_response.median / holder_floor,
        reader_verify.median / reader_floor,
        first_request.median / first_floor
    );
}
