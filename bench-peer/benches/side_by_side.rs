//! Jigap and isomdl 0.2.0 on identical mdoc work, with the ring floor, in one criterion run.
//!
//! The work: an mDL of 13 elements with a portrait (1 KB, and 16 KB for a second reader
//! figure), a reader asking for 5 of them (the portrait among them), inside an established
//! session. Each library uses its own test PKI (an IACA and a document signer, P-256) and a
//! device key held in memory by the signer, as a keystore holds it.
//!
//! Run from `bench-peer/`: `cargo bench --bench side_by_side`, then `python3 report.py` for the
//! table of medians, spreads and ratios (BENCHMARKS.md records it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use ciborium::Value;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};

const DOC_TYPE: &str = "org.iso.18013.5.1.mDL";
const NS: &str = "org.iso.18013.5.1";
const REQUESTED: [&str; 5] = [
    "family_name",
    "given_name",
    "birth_date",
    "age_over_21",
    "portrait",
];

/// The 13 elements both libraries issue, the portrait `portrait_len` bytes long.
fn elements(portrait_len: usize) -> Vec<(String, Value)> {
    let date = |s: &str| Value::Tag(1004, Box::new(Value::Text(s.into())));
    let portrait: Vec<u8> = (0..portrait_len).map(|i| (i * 31 % 251) as u8).collect();
    let privileges = Value::Array(vec![Value::Map(vec![
        (
            Value::Text("vehicle_category_code".into()),
            Value::Text("B".into()),
        ),
        (Value::Text("issue_date".into()), date("2020-01-01")),
        (Value::Text("expiry_date".into()), date("2030-01-01")),
    ])]);
    [
        ("family_name", Value::Text("Smith".into())),
        ("given_name", Value::Text("Alice".into())),
        ("birth_date", date("1980-01-01")),
        ("issue_date", date("2020-01-01")),
        ("expiry_date", date("2030-01-01")),
        ("issuing_country", Value::Text("US".into())),
        ("issuing_authority", Value::Text("NY DMV".into())),
        ("document_number", Value::Text("DL12345678".into())),
        ("portrait", Value::Bytes(portrait)),
        ("driving_privileges", privileges),
        ("un_distinguishing_sign", Value::Text("USA".into())),
        ("age_over_18", Value::Bool(true)),
        ("age_over_21", Value::Bool(true)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Jigap: the domain paths an mdoc library runs (what `PresentationSession` and `MdocReader`
/// call), without the store, the journal or the host's key store around them.
mod jigap {
    use super::*;
    use wallet_core::issuer::certificates::{create_authority, Authority};
    use wallet_core::issuer::mdoc::issue;
    use wallet_core::mdoc::holder::{build_document, DeviceAuthentication, Incoming, Presentment};
    use wallet_core::mdoc::issuer_signed::{IssuerSigned, ValidityInfo};
    use wallet_core::mdoc::reader::ReaderSession;
    use wallet_core::mdoc::request::ItemsRequest;
    use wallet_core::mdoc::response::DeviceResponse;
    use wallet_core::mdoc::MdocError;
    use wallet_core::trust::x509::{ParsedCertificate, TrustRole};
    use wallet_core::verifier::mdoc::{verify_document, VerificationContext};

    pub const NOW: i64 = 1_800_000_000;

    pub struct World {
        pub authority: Authority,
        pub iaca: Vec<ParsedCertificate>,
        pub device: EcdsaKeyPair,
        pub rng: SystemRandom,
        pub stored: IssuerSigned,
        pub requested: Vec<(String, String)>,
    }

    pub fn world(portrait_len: usize) -> World {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let device =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                .unwrap();
        let authority = create_authority("Side by side", "US", NOW).unwrap();
        let mdl = issue(
            authority.signer(TrustRole::MdocIssuer).unwrap(),
            DOC_TYPE,
            &vec![(NS.to_string(), elements(portrait_len))],
            device.public_key().as_ref(),
            ValidityInfo {
                signed: NOW,
                valid_from: NOW,
                valid_until: NOW + 86_400,
                expected_update: None,
            },
            None,
        )
        .unwrap();
        let iaca = vec![ParsedCertificate::from_der(
            authority.root_certificate(TrustRole::MdocIssuer).unwrap(),
        )
        .unwrap()];
        World {
            authority,
            iaca,
            device,
            rng,
            stored: IssuerSigned::parse(&mdl).unwrap(),
            requested: REQUESTED
                .iter()
                .map(|e| (NS.to_string(), e.to_string()))
                .collect(),
        }
    }

    pub fn items() -> ItemsRequest {
        ItemsRequest {
            doc_type: DOC_TYPE.into(),
            namespaces: vec![(
                NS.into(),
                REQUESTED.iter().map(|e| (e.to_string(), false)).collect(),
            )],
            request_info: None,
        }
    }

    /// A holder and a reader after the reader's first request.
    pub fn engaged() -> (Presentment, ReaderSession) {
        let mut holder = Presentment::new(vec![]).unwrap();
        let mut reader = ReaderSession::from_qr(&holder.engagement().qr_uri()).unwrap();
        let establishment = reader.request(vec![items()], None).unwrap();
        let Incoming::Request(_) = holder.receive(&establishment).unwrap() else {
            panic!("no request")
        };
        (holder, reader)
    }

    /// A fresh holder and the reader's SessionEstablishment for it.
    pub fn first_request() -> (Presentment, Vec<u8>) {
        let holder = Presentment::new(vec![]).unwrap();
        let mut reader = ReaderSession::from_qr(&holder.engagement().qr_uri()).unwrap();
        let establishment = reader.request(vec![items()], None).unwrap();
        (holder, establishment)
    }

    /// The holder's answer: the document built and device-signed, the response encoded and
    /// encrypted.
    pub fn respond(w: &World, holder: &mut Presentment) -> Vec<u8> {
        let transcript = holder.transcript().unwrap().clone();
        let mut sign = |tbs: &[u8]| -> Result<Vec<u8>, MdocError> {
            Ok(w.device.sign(&w.rng, tbs).unwrap().as_ref().to_vec())
        };
        let doc = build_document(
            &w.stored,
            &w.requested,
            &w.requested,
            &transcript,
            DeviceAuthentication::Signature(&mut sign),
        )
        .unwrap();
        holder
            .respond(&DeviceResponse::encode_values(vec![doc], &[], 0))
            .unwrap()
    }

    /// The reader's full verification: decrypt, parse, match against the request, the chain to
    /// the IACA with its profiles, issuerAuth, every returned digest, validity, the docType, the
    /// device signature.
    pub fn verify(w: &World, reader: &mut ReaderSession, message: &[u8]) -> usize {
        let (_, response) = reader.receive(message).unwrap().unwrap();
        let ctx = VerificationContext {
            iaca: &w.iaca,
            at: NOW,
            transcript: reader.transcript(),
            e_reader_key: None,
        };
        let verified = verify_document(&response.documents[0], &ctx).unwrap();
        let _ = &w.authority;
        verified.elements.len()
    }
}

/// isomdl 0.2.0, through its public API as its own tests drive it.
mod peer {
    use super::*;
    use der::asn1::OctetString;
    use isomdl::cbor;
    use isomdl::definitions::device_engagement::{CentralClientMode, DeviceRetrievalMethods};
    use isomdl::definitions::device_request::{DataElements, Namespaces as RequestNamespaces};
    use isomdl::definitions::helpers::NonEmptyMap;
    use isomdl::definitions::x509::trust_anchor::{TrustAnchor, TrustAnchorRegistry, TrustPurpose};
    use isomdl::definitions::x509::X5Chain;
    use isomdl::definitions::{
        BleOptions, CoseKey, DeviceKeyInfo, DeviceRetrievalMethod, DigestAlgorithm, EC2Curve,
        SessionEstablishment, ValidityInfo, EC2Y,
    };
    use isomdl::issuance::Mdoc;
    use isomdl::presentation::authentication::{
        AuthenticationStatus, RequestAuthenticationOutcome, ResponseAuthenticationOutcome,
    };
    use isomdl::presentation::device::{self, Document, Documents, PermittedItems};
    use isomdl::presentation::reader;
    use p256::ecdsa::{Signature, SigningKey};
    use sha1::{Digest, Sha1};
    use signature::Signer;
    use x509_cert::builder::{Builder, CertificateBuilder, Profile};
    use x509_cert::ext::pkix::crl::dp::DistributionPoint;
    use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
    use x509_cert::ext::pkix::{
        AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage,
        IssuerAltName, KeyUsage, KeyUsages, SubjectKeyIdentifier,
    };
    use x509_cert::name::Name;
    use x509_cert::spki::SubjectPublicKeyInfoOwned;
    use x509_cert::time::Validity;
    use x509_cert::Certificate;

    pub struct World {
        pub device_key: SigningKey,
        pub trust: TrustAnchorRegistry,
        pub document: Document,
    }

    fn key_id(key: &SigningKey) -> OctetString {
        let spki = SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).unwrap();
        OctetString::new(Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec()).unwrap()
    }

    fn crl() -> CrlDistributionPoints {
        CrlDistributionPoints(vec![DistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(vec![
                GeneralName::UniformResourceIdentifier(
                    "http://crl.example/iaca".to_string().try_into().unwrap(),
                ),
            ])),
            reasons: None,
            crl_issuer: None,
        }])
    }

    fn issuer_alt_name() -> IssuerAltName {
        IssuerAltName(vec![GeneralName::Rfc822Name(
            "iaca@example.com".to_string().try_into().unwrap(),
        )])
    }

    /// An IACA and a document signer shaped as isomdl's validator requires (Annex B).
    fn certificates(iaca_key: &SigningKey, ds_key: &SigningKey) -> (Certificate, Certificate) {
        let validity = Validity::from_now(Duration::from_secs(30 * 86_400)).unwrap();
        let iaca_name: Name = "CN=Test IACA,C=US".parse().unwrap();
        let spki = SubjectPublicKeyInfoOwned::from_key(*iaca_key.verifying_key()).unwrap();
        let mut b = CertificateBuilder::new(
            Profile::Manual { issuer: None },
            1u32.into(),
            validity,
            iaca_name.clone(),
            spki,
            iaca_key,
        )
        .unwrap();
        b.add_extension(&SubjectKeyIdentifier(key_id(iaca_key)))
            .unwrap();
        b.add_extension(&KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign))
            .unwrap();
        b.add_extension(&BasicConstraints {
            ca: true,
            path_len_constraint: Some(0),
        })
        .unwrap();
        b.add_extension(&issuer_alt_name()).unwrap();
        b.add_extension(&crl()).unwrap();
        let iaca: Certificate = b.build::<p256::ecdsa::DerSignature>().unwrap();

        let spki = SubjectPublicKeyInfoOwned::from_key(*ds_key.verifying_key()).unwrap();
        let mut b = CertificateBuilder::new(
            Profile::Manual {
                issuer: Some(iaca_name),
            },
            2u32.into(),
            validity,
            "CN=Test DS,C=US".parse().unwrap(),
            spki,
            iaca_key,
        )
        .unwrap();
        b.add_extension(&SubjectKeyIdentifier(key_id(ds_key)))
            .unwrap();
        b.add_extension(&AuthorityKeyIdentifier {
            key_identifier: Some(key_id(iaca_key)),
            ..Default::default()
        })
        .unwrap();
        b.add_extension(&KeyUsage(KeyUsages::DigitalSignature.into()))
            .unwrap();
        b.add_extension(&issuer_alt_name()).unwrap();
        b.add_extension(&crl()).unwrap();
        b.add_extension(&ExtendedKeyUsage(vec![
            der::oid::ObjectIdentifier::new_unwrap("1.0.18013.5.1.2"),
        ]))
        .unwrap();
        let ds: Certificate = b.build::<p256::ecdsa::DerSignature>().unwrap();
        (iaca, ds)
    }

    pub fn world(portrait_len: usize) -> World {
        let mut rng = rand::thread_rng();
        let iaca_key = SigningKey::random(&mut rng);
        let issuer_key = SigningKey::random(&mut rng);
        let device_key = SigningKey::random(&mut rng);
        let (iaca, ds) = certificates(&iaca_key, &issuer_key);
        let x5chain = X5Chain::builder()
            .with_certificate(ds)
            .unwrap()
            .build()
            .unwrap();
        let point = device_key.verifying_key().to_encoded_point(false);
        let now = time::OffsetDateTime::now_utc();
        let mdoc = Mdoc::builder()
            .doc_type(DOC_TYPE.to_string())
            .namespaces(
                [(
                    NS.to_string(),
                    elements(portrait_len)
                        .into_iter()
                        .collect::<BTreeMap<_, _>>(),
                )]
                .into_iter()
                .collect(),
            )
            .validity_info(ValidityInfo {
                signed: now,
                valid_from: now,
                valid_until: now + time::Duration::days(365),
                expected_update: None,
            })
            .digest_algorithm(DigestAlgorithm::SHA256)
            .device_key_info(DeviceKeyInfo {
                device_key: CoseKey::EC2 {
                    crv: EC2Curve::P256,
                    x: point.x().unwrap().to_vec(),
                    y: EC2Y::Value(point.y().unwrap().to_vec()),
                },
                key_authorizations: None,
                key_info: None,
            })
            // Decoys add a random amount of work; Jigap issues none either.
            .enable_decoy_digests(false)
            .issue::<SigningKey, Signature>(x5chain, issuer_key)
            .unwrap();
        World {
            device_key,
            trust: TrustAnchorRegistry {
                anchors: vec![TrustAnchor {
                    certificate: iaca,
                    purpose: TrustPurpose::Iaca,
                }],
            },
            document: Document::from(mdoc),
        }
    }

    /// The holder after QR engagement, and its QR code.
    pub fn engaged(w: &World) -> (device::SessionManagerEngaged, String) {
        let docs: Documents = NonEmptyMap::new(DOC_TYPE.to_string(), w.document.clone());
        let methods = DeviceRetrievalMethods::new(DeviceRetrievalMethod::BLE(BleOptions {
            peripheral_server_mode: None,
            central_client_mode: Some(CentralClientMode {
                uuid: uuid::Uuid::new_v4(),
            }),
        }));
        device::SessionManagerInit::initialise(docs, Some(methods), None)
            .unwrap()
            .qr_engagement()
            .unwrap()
    }

    /// The reader's session from the QR code, and its SessionEstablishment (the first request).
    pub fn reader(w: &World, qr: String) -> (reader::SessionManager, Vec<u8>) {
        let asked: BTreeMap<String, bool> =
            REQUESTED.iter().map(|e| (e.to_string(), false)).collect();
        let namespaces: RequestNamespaces =
            NonEmptyMap::new(NS.to_string(), DataElements::try_from(asked).unwrap());
        let (session, request, _) =
            reader::SessionManager::establish_session(qr, namespaces, w.trust.clone()).unwrap();
        (session, request)
    }

    /// The holder's first request: the SessionEstablishment in, session keys, the request out.
    pub fn first_request(
        engaged: device::SessionManagerEngaged,
        establishment: &[u8],
    ) -> (device::SessionManager, RequestAuthenticationOutcome) {
        let establishment: SessionEstablishment = cbor::from_slice(establishment).unwrap();
        engaged
            .process_session_establishment(establishment, TrustAnchorRegistry::default())
            .unwrap()
    }

    /// The holder's answer to the request: prepared, device-signed, encoded and encrypted.
    pub fn respond(
        w: &World,
        mut session: device::SessionManager,
        outcome: &RequestAuthenticationOutcome,
    ) -> Vec<u8> {
        let permitted: PermittedItems = [(
            DOC_TYPE.to_string(),
            [(
                NS.to_string(),
                REQUESTED.iter().map(|s| s.to_string()).collect(),
            )]
            .into_iter()
            .collect(),
        )]
        .into_iter()
        .collect();
        session.prepare_response(&outcome.items_request, permitted);
        while let Some((_, payload)) = session.get_next_signature_payload() {
            let signature: Signature = w.device_key.sign(payload);
            session.submit_next_signature(signature.to_vec()).unwrap();
        }
        session.retrieve_response().unwrap()
    }

    /// The reader's verification, checked to have succeeded.
    pub fn verify(session: &mut reader::SessionManager, response: &[u8]) -> usize {
        let outcome: ResponseAuthenticationOutcome = session.handle_response(response);
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        assert_eq!(outcome.issuer_authentication, AuthenticationStatus::Valid);
        assert_eq!(outcome.device_authentication, AuthenticationStatus::Valid);
        outcome.response[NS].as_object().unwrap().len()
    }
}

/// The bare cryptography each step cannot avoid, with ring.
mod floor {
    use super::*;

    pub struct Primitives {
        pub rng: SystemRandom,
        pub pair: EcdsaKeyPair,
        pub public: Vec<u8>,
        pub signature: Vec<u8>,
        pub message: Vec<u8>,
        pub aes: LessSafeKey,
    }

    pub fn primitives() -> Primitives {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let message = vec![0x5a; 600];
        let signature = pair.sign(&rng, &message).unwrap().as_ref().to_vec();
        Primitives {
            public: pair.public_key().as_ref().to_vec(),
            rng,
            pair,
            signature,
            message,
            aes: LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7; 32]).unwrap()),
        }
    }

    pub fn seal(p: &Primitives, len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        p.aes
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key([1; 12]),
                Aad::empty(),
                &mut buf,
            )
            .unwrap();
        buf
    }

    /// One device signature and the response sealed twice (the COSE payload is hashed inside
    /// the signature; the session encryption is one AES-GCM pass, the second stands for the
    /// encoding copies a response cannot avoid).
    pub fn holder(p: &Primitives, response_len: usize) {
        let _ = p.pair.sign(&p.rng, &p.message).unwrap();
        let _ = seal(p, response_len);
        let _ = seal(p, response_len);
    }

    /// Three signature checks (certificate, issuerAuth, device), a SHA-256 of each returned
    /// item and one AES-GCM pass over the response.
    pub fn reader(p: &Primitives, item_lens: &[usize], response_len: usize) {
        for _ in 0..3 {
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &p.public)
                .verify(&p.message, &p.signature)
                .unwrap();
        }
        for len in item_lens {
            let _ = ring::digest::digest(&ring::digest::SHA256, &vec![0u8; *len]);
        }
        let _ = seal(p, response_len);
    }
}

fn hkdf(secret: &[u8], info: &'static [u8]) -> [u8; 32] {
    struct Len;
    impl ring::hkdf::KeyType for Len {
        fn len(&self) -> usize {
            32
        }
    }
    let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, &[1; 32]).extract(secret);
    let mut out = [0u8; 32];
    prk.expand(&[info], Len).unwrap().fill(&mut out).unwrap();
    out
}

fn side_by_side(c: &mut Criterion) {
    let ours = jigap::world(1024);
    let theirs = peer::world(1024);
    let p = floor::primitives();

    // Each answers once first, to check it works and to size the floor.
    let (mut holder, mut reader) = jigap::engaged();
    let our_response = jigap::respond(&ours, &mut holder);
    assert_eq!(jigap::verify(&ours, &mut reader, &our_response), 5);
    let (engaged, qr) = peer::engaged(&theirs);
    let (their_reader, establishment) = peer::reader(&theirs, qr);
    let (their_session, their_request) = peer::first_request(engaged.clone(), &establishment);
    let their_response = peer::respond(&theirs, their_session.clone(), &their_request);
    assert_eq!(peer::verify(&mut their_reader.clone(), &their_response), 5);
    eprintln!(
        "response sizes: Jigap {} bytes, isomdl {} bytes",
        our_response.len(),
        their_response.len()
    );

    let mut g = c.benchmark_group("holder response");
    g.bench_function("jigap", |b| {
        let (mut holder, _) = jigap::engaged();
        b.iter(|| jigap::respond(&ours, &mut holder))
    });
    g.bench_function("isomdl", |b| {
        b.iter_batched(
            || their_session.clone(),
            |session| peer::respond(&theirs, session, &their_request),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("floor", |b| {
        b.iter(|| floor::holder(&p, our_response.len()))
    });
    g.finish();

    let mut g = c.benchmark_group("holder first request");
    g.bench_function("jigap", |b| {
        b.iter_batched(
            jigap::first_request,
            |(mut holder, establishment)| holder.receive(&establishment).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("isomdl", |b| {
        b.iter_batched(
            || engaged.clone(),
            |engaged| peer::first_request(engaged, &establishment),
            BatchSize::SmallInput,
        )
    });
    let peer_key =
        ring::agreement::EphemeralPrivateKey::generate(&ring::agreement::ECDH_P256, &p.rng)
            .unwrap()
            .compute_public_key()
            .unwrap()
            .as_ref()
            .to_vec();
    g.bench_function("floor", |b| {
        b.iter_batched(
            || {
                ring::agreement::EphemeralPrivateKey::generate(&ring::agreement::ECDH_P256, &p.rng)
                    .unwrap()
            },
            |private| {
                let peer =
                    ring::agreement::UnparsedPublicKey::new(&ring::agreement::ECDH_P256, &peer_key);
                let secret =
                    ring::agreement::agree_ephemeral(private, &peer, |s| s.to_vec()).unwrap();
                (
                    hkdf(&secret, b"SKReader"),
                    hkdf(&secret, b"SKDevice"),
                    floor::seal(&p, 300),
                )
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();

    for (portrait, ours, theirs) in [
        (1024, &ours, &theirs),
        (16 * 1024, &jigap::world(16 * 1024), &peer::world(16 * 1024)),
    ] {
        let mut g = c.benchmark_group(format!(
            "reader verification, {} KB portrait",
            portrait / 1024
        ));
        g.bench_function("jigap", |b| {
            b.iter_batched(
                || {
                    let (mut holder, reader) = jigap::engaged();
                    (reader, jigap::respond(ours, &mut holder))
                },
                |(mut reader, message)| jigap::verify(ours, &mut reader, &message),
                BatchSize::SmallInput,
            )
        });
        let (engaged, qr) = peer::engaged(theirs);
        let (their_reader, establishment) = peer::reader(theirs, qr);
        let (session, request) = peer::first_request(engaged, &establishment);
        let response = peer::respond(theirs, session, &request);
        g.bench_function("isomdl", |b| {
            b.iter_batched(
                || their_reader.clone(),
                |mut reader| peer::verify(&mut reader, &response),
                BatchSize::SmallInput,
            )
        });
        let (mut holder, _) = jigap::engaged();
        let response_len = jigap::respond(ours, &mut holder).len();
        let items = [40, 40, 40, 40, portrait + 60];
        g.bench_function("floor", |b| {
            b.iter(|| floor::reader(&p, &items, response_len))
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = side_by_side
}
criterion_main!(benches);
