//! Fuzz-style robustness: random and mutated bytes thrown at every parser of untrusted input.
//! Each must return (Ok or a typed error) without panicking, however malformed the input.
//!
//! `committed_fuzz_seeds_and_their_mutations_never_panic` replays the cargo-fuzz seed corpus
//! (`fuzz/seeds/<target>/`) and the published vectors through the fuzz harnesses themselves
//! (`fuzz/src/harness.rs`, compiled in here), then a bounded, deterministic number of
//! mutations of them: the shipping configuration (no `issuer` feature) runs the same calls as
//! the fuzzers, in seconds. `FUZZ_SEED_ROUNDS` sets the mutations per target (default 10 000).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../fuzz/src/harness.rs"]
#[allow(dead_code)]
mod harness;

use wallet_core::cose::cbor;
use wallet_core::mdoc::engagement::DeviceEngagement;
use wallet_core::mdoc::issuer_signed::{IssuerSigned, IssuerSignedItem, MobileSecurityObject};
use wallet_core::mdoc::request::DeviceRequest;
use wallet_core::mdoc::response::DeviceResponse;
use wallet_core::mdoc::session::{SessionData, SessionEstablishment, SessionTranscript};
use wallet_core::trust::x509::ParsedCertificate;

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn vector(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/data/iso18013-5-annexD/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.trim();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = [
                    0x00, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x5f, 0x7f, 0x9f, 0xbf, 0xd8, 0xff,
                ][rng.below(12)];
            }
            2 => out.truncate(rng.below(out.len() + 1)),
            3 => {
                let i = rng.below(out.len() + 1);
                out.insert(i, rng.next() as u8);
            }
            4 if out.len() > 2 => {
                let a = rng.below(out.len());
                let b = rng.below(out.len());
                out.swap(a, b);
            }
            _ => {
                let i = rng.below(out.len() + 1);
                let extra: Vec<u8> = (0..rng.below(9)).map(|_| rng.next() as u8).collect();
                out.splice(i..i, extra);
            }
        }
    }
    out
}

fn every_parser(bytes: &[u8]) {
    let _ = cbor::decode(bytes);
    let _ = SessionEstablishment::parse(bytes);
    let _ = SessionData::parse(bytes);
    let _ = SessionTranscript::from_tagged_bytes(bytes);
    let _ = DeviceEngagement::parse(bytes);
    let _ = DeviceRequest::parse(bytes);
    let _ = DeviceResponse::parse(bytes);
    let _ = IssuerSigned::parse(bytes);
    let _ = IssuerSignedItem::parse(bytes);
    let _ = MobileSecurityObject::parse(bytes);
    let _ = ParsedCertificate::from_der(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = DeviceEngagement::from_qr_uri(text);
    }
}

#[test]
fn mutated_valid_messages_never_panic() {
    let seeds: Vec<Vec<u8>> = [
        "device_engagement",
        "session_establishment",
        "session_data",
        "session_transcript_bytes",
        "device_request",
        "device_response",
        "items_request",
        "ds_cert",
        "iaca_cert",
        "reader_auth",
        "e_device_key_bytes",
    ]
    .iter()
    .map(|n| vector(n))
    .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..40_000 {
        let seed = &seeds[round % seeds.len()];
        every_parser(&mutate(&mut rng, seed));
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for _ in 0..50_000 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        every_parser(&bytes);
    }
}

#[test]
fn hostile_lengths_are_refused_without_allocating() {
    // Claims of huge strings, arrays and maps, nested tags, deep nesting.
    let mut cases: Vec<Vec<u8>> = vec![
        vec![0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        vec![0x9b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        vec![0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        vec![
            0xa1, 0x64, b'd', b'a', b't', b'a', 0x5a, 0xff, 0xff, 0xff, 0xff,
        ],
    ];
    cases.push([[0xd8u8, 0x18].repeat(200), vec![0x40]].concat());
    cases.push([vec![0x81; 10_000], vec![0x00]].concat());
    cases.push([vec![0x9f; 10_000], vec![0xff; 10_000]].concat());
    for case in cases {
        assert!(cbor::decode(&case).is_err());
        every_parser(&case);
    }
}

// ---------------------------------------------------------------------------------------------
// The fuzz harnesses on their committed seeds and the published vectors.

fn read_dir_sorted(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// The published vectors as inputs: Annex D messages (hex-decoded), the RFC 9901 examples and
/// the Token Status List examples (as text).
fn published_vectors() -> Vec<(String, Vec<u8>)> {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut out = Vec::new();
    for (name, bytes) in read_dir_sorted(&data.join("iso18013-5-annexD")) {
        if let Some(stem) = name.strip_suffix(".hex") {
            out.push((
                format!("annexD/{stem}"),
                harness::hex(&String::from_utf8_lossy(&bytes)),
            ));
        }
    }
    for example in ["simple", "arf-pid", "json_serialization_flattened"] {
        let dir = data.join("sd-jwt-rfc9901-examples").join(example);
        for (name, bytes) in read_dir_sorted(&dir) {
            if name.starts_with("sd_jwt_presentation") || name.starts_with("kb_jwt_serialized") {
                out.push((format!("rfc9901/{example}/{name}"), bytes));
            }
        }
    }
    for (name, bytes) in read_dir_sorted(&data.join("token-status-list")) {
        if name.starts_with("status_list_") && !name.contains("diag") {
            out.push((format!("token-status-list/{name}"), bytes));
        }
    }
    out
}

/// One input through one harness; a panic names the target, the input's origin and its bytes.
fn run_harness(target: &str, f: fn(&[u8]), origin: &str, input: &[u8]) {
    if std::panic::catch_unwind(|| f(input)).is_err() {
        let hex: String = input.iter().map(|b| format!("{b:02x}")).collect();
        panic!(
            "fuzz harness {target} panicked on {origin} ({} bytes): {hex}",
            input.len()
        );
    }
}

/// FNV-1a, to give each target its own deterministic mutation stream.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// [`mutate`], sometimes with a chunk of another input spliced in (crossover) or a character
/// that matters to the text formats inserted.
fn mutate_from(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = mutate(rng, seed);
    match rng.below(4) {
        0 if !other.is_empty() => {
            let start = rng.below(other.len());
            let end = (start + 1 + rng.below(64)).min(other.len());
            let at = rng.below(out.len() + 1);
            out.splice(at..at, other[start..end].iter().copied());
        }
        1 => {
            let at = rng.below(out.len() + 1);
            let specials = b"~.\"{}[]:,=-+0_ZT";
            out.insert(at, specials[rng.below(specials.len())]);
        }
        _ => {}
    }
    out
}

#[test]
fn committed_fuzz_seeds_and_their_mutations_never_panic() {
    let rounds: usize = std::env::var("FUZZ_SEED_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let seeds_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    let vectors = published_vectors();
    assert!(vectors.len() > 30, "the published vectors are missing");
    for (target, f) in harness::TARGETS {
        let mut inputs = read_dir_sorted(&seeds_dir.join(target));
        assert!(
            !inputs.is_empty(),
            "no committed seeds for the fuzz target {target}"
        );
        for (name, bytes) in &inputs {
            run_harness(target, *f, &format!("seeds/{target}/{name}"), bytes);
        }
        for (name, bytes) in &vectors {
            run_harness(target, *f, name, bytes);
        }
        inputs.extend(vectors.iter().cloned());
        let mut rng = Rng(fnv(target) | 1);
        for round in 0..rounds {
            let (name, seed) = &inputs[rng.below(inputs.len())];
            let (_, other) = &inputs[rng.below(inputs.len())];
            let input = mutate_from(&mut rng, seed, other);
            run_harness(target, *f, &format!("mutation {round} of {name}"), &input);
        }
    }
}

/// The committed seeds are valid where they should be, so the fuzzers (and the test above)
/// start from inputs that pass every check and reach the deepest code: the fixtures the
/// harnesses verify against belong to the authority that made the seeds.
#[test]
fn committed_seeds_pass_the_verifiers_they_are_for() {
    use wallet_core::cose;
    use wallet_core::documents::{consent, signed};
    use wallet_core::issuance::metadata::parse_issuer_metadata;
    use wallet_core::issuance::offer;
    use wallet_core::issuance::url::UrlPolicy;
    use wallet_core::mdoc::request::{reader_authentication_bytes, DeviceRequest};
    use wallet_core::mdoc::response::DeviceResponse;
    use wallet_core::openid4vp::request::{read_object, ReadOptions};
    use wallet_core::openid4vp::verifier::{open_dc_api, open_direct_post, verify_vp_token, Trust};
    use wallet_core::sdjwt::format::SdJwt;
    use wallet_core::sdjwt::verify::{verify, IssuerTrust, KeyBindingPolicy, TimeCheck};
    use wallet_core::trust::status_token;
    use wallet_core::trust::status_token::StatusCache;
    use wallet_core::trust::x509::TrustRole;
    use wallet_core::verifier::mdoc::{check_issuer_signed, verify_document, VerificationContext};
    use wallet_core::verifier::sdjwt::{verify_vc, VcPolicy};

    let seed = |target: &str, name: &str| {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../fuzz/seeds")
                .join(target)
                .join(name),
        )
        .unwrap()
    };
    let fx = harness::fixtures();
    assert_eq!(
        fx.authority.len(),
        TrustRole::ALL.len(),
        "one fixture root per role"
    );
    let transcript = fx.transcript.as_ref().unwrap();

    // mdoc: both responses verify in full, each against its own IACA.
    let authority_iaca = fx.root(TrustRole::MdocIssuer);
    for (name, iaca, at) in [
        ("annexd_device_response", &fx.iaca, harness::ANNEX_D_TIME),
        (
            "authority_mdl_signature",
            &authority_iaca,
            harness::AUTHORITY_TIME,
        ),
    ] {
        let response = DeviceResponse::parse(&seed("device_response", name)).unwrap();
        let ctx = VerificationContext {
            iaca,
            at,
            transcript,
            e_reader_key: fx.e_reader_key.as_ref(),
        };
        verify_document(&response.documents[0], &ctx).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for name in [
        "annexd_issuer_signed",
        "authority_mdl",
        "authority_resident_card",
    ] {
        let issuer_signed = IssuerSigned::parse(&seed("issuer_signed", name)).unwrap();
        check_issuer_signed(&issuer_signed).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let request = DeviceRequest::parse(&seed("device_request", "annexd_device_request")).unwrap();
    let doc = &request.doc_requests[0];
    cose::verify_sign1(
        doc.reader_auth.as_ref().unwrap(),
        Some(&reader_authentication_bytes(
            transcript,
            &doc.items_request_bytes,
        )),
        &fx.reader_key,
    )
    .unwrap();

    // COSE under the fixed keys.
    let sign1 =
        cose::parse_sign1(&cbor::decode(&seed("cose", "fixed_sign1_attached")).unwrap()).unwrap();
    cose::verify_sign1(&sign1, None, &fx.fixed_key).unwrap();
    let mac0 =
        cose::parse_mac0(&cbor::decode(&seed("cose", "fixed_mac0_tagged")).unwrap()).unwrap();
    cose::verify_mac0(
        &mac0,
        &wallet_core::crypto::secret::SymmetricKey::from_bytes(harness::FIXED_MAC_KEY),
        harness::DETACHED_PAYLOAD,
    )
    .unwrap();

    // SD-JWT: the RFC example with its issuer key and key binding; the authority's VC as a
    // relying party verifies it.
    let key_binding = || KeyBindingPolicy {
        nonce: harness::KB_NONCE,
        audience: harness::KB_AUDIENCE,
        at: harness::AUTHORITY_TIME,
        max_age: 30 * 86_400,
        skew: 300,
    };
    let rfc = String::from_utf8(seed("sd_jwt", "rfc9901_simple_presentation")).unwrap();
    let time = Some(TimeCheck {
        at: harness::AUTHORITY_TIME,
        skew: 300,
    });
    verify(
        &SdJwt::parse(&rfc).unwrap(),
        IssuerTrust::Key(&fx.rfc_issuer),
        time,
        Some(&key_binding()),
    )
    .unwrap();
    let vc = String::from_utf8(seed("sd_jwt", "authority_vc_presentation")).unwrap();
    let anchors = fx.root(TrustRole::SdJwtIssuer);
    let policy = VcPolicy {
        anchors: &anchors,
        at: harness::AUTHORITY_TIME,
        skew: 300,
        accepted_vcts: &[],
        require_expiry: true,
        key_binding: key_binding(),
    };
    verify_vc(&SdJwt::parse(&vc).unwrap(), &policy).unwrap();

    // Status list tokens, signed documents and consents.
    let status_root = fx.root(TrustRole::StatusListIssuer);
    for name in ["authority_status_list.jwt", "authority_status_list.cwt"] {
        let token = status_token::verify_any(
            &seed("status_token", name),
            harness::STATUS_URI,
            &status_root,
            harness::AUTHORITY_TIME,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(token.list.get(3).unwrap(), 1);
    }
    let roots = fx.all_roots();
    for (name, role) in [
        ("bill", TrustRole::Sender),
        ("notification", TrustRole::Sender),
        ("catalog", TrustRole::CatalogPublisher),
        ("pin_reset", TrustRole::IdentityVerifier),
    ] {
        signed::verify(
            &seed("signed_document", name),
            &roots,
            harness::AUTHORITY_TIME,
            role,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    consent::verify_consent(&seed("consent", "wallet_consent")).unwrap();
    consent::verify_revocation(&seed("consent", "wallet_revocation")).unwrap();

    // OpenID4VP: the signed request objects read against the relying party root; each answer
    // verifies for the fixed pending requests (plain, encrypted, over the DC API).
    let rp_root = fx.root(TrustRole::RelyingParty);
    let options = ReadOptions {
        anchors: &rp_root,
        now: harness::AUTHORITY_TIME,
        outer_client_id: None,
        origin: None,
        wallet_nonce: None,
        allow_loopback_http: false,
    };
    for name in ["direct_post", "direct_post_jwt"] {
        let jwt = String::from_utf8(seed(
            "openid4vp_request",
            &format!("request_object_{name}.jwt"),
        ))
        .unwrap();
        read_object(&jwt, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let iaca = fx.root(TrustRole::MdocIssuer);
    let sd_jwt_issuers = fx.root(TrustRole::SdJwtIssuer);
    let statuses = StatusCache::default();
    let trust = Trust {
        iaca: &iaca,
        sd_jwt_issuers: &sd_jwt_issuers,
        statuses: &statuses,
        at: harness::AUTHORITY_TIME,
        skew: 300,
        max_age: 30 * 86_400,
    };
    for (name, pending) in [
        ("direct_post.form", &fx.pending[0]),
        ("direct_post_jwt.form", &fx.pending[1]),
    ] {
        let parameters = open_direct_post(pending, &seed("openid4vp_response", name)).unwrap();
        let verified = verify_vp_token(pending, &parameters, None, &trust)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(verified.len(), 2, "{name}");
    }
    let data: serde_json::Value =
        serde_json::from_slice(&seed("openid4vp_response", "dc_api_data.json")).unwrap();
    let parameters = open_dc_api(&fx.pending[0], &data).unwrap();
    verify_vp_token(
        &fx.pending[0],
        &parameters,
        Some(harness::RP_ORIGIN),
        &trust,
    )
    .unwrap();

    // OpenID4VCI: the offer, and the signed issuer metadata verified against its root.
    let offer = String::from_utf8(seed("openid4vci_offer", "offer_by_value.txt")).unwrap();
    offer::parse_input(&offer, UrlPolicy::default()).unwrap();
    let metadata = parse_issuer_metadata(
        &seed("openid4vci_messages", "issuer_metadata.jwt"),
        Some("application/jwt"),
        harness::ISSUER_URL,
        &fx.root(TrustRole::IssuerMetadata),
        harness::AUTHORITY_TIME,
        UrlPolicy::default(),
    )
    .unwrap();
    assert!(metadata.signed_by.is_some());
}

// ---------------------------------------------------------------------------------------------
// NFC and BLE: NDEF handover messages, APDUs and BLE writes from outside.

#[test]
fn nfc_and_ble_input_never_panics() {
    let transcript = vector("session_transcript_bytes");
    let value = cbor::decode(&transcript).unwrap();
    let inner = cbor::decode(cbor::untag_bytes(&value, "transcript").unwrap()).unwrap();
    let handover = cbor::array(&cbor::array(&inner, "t").unwrap()[2], "h")
        .unwrap()
        .to_vec();
    let mut seeds: Vec<Vec<u8>> = handover
        .iter()
        .map(|h| cbor::bytes(h, "h").unwrap().to_vec())
        .collect();
    seeds.extend([
        vec![
            0x00, 0xa4, 0x04, 0x0c, 0x07, 0xd2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01,
        ],
        vec![0x10, 0xc3, 0x00, 0x00, 0x03, 0x53, 0x82, 0x01],
        vec![
            0x00, 0xc3, 0x00, 0x00, 0x00, 0x00, 0x04, 0x53, 0x02, 0xa0, 0xf6, 0x00, 0x00,
        ],
        vec![0x00, 0xb0, 0x00, 0x02, 0x00],
        vec![0x53, 0x81, 0x80, 0x61, 0x00],
        vec![0x01, 0x02, 0x03, 0x00, 0x04],
        vec![
            0x08, 0x1b, 0x28, 0x12, 0x8b, 0x37, 0x28, 0x28, 0x01, 0x02, 0x1c, 0x01,
        ],
    ]);
    for seed in &seeds {
        harness::proximity(seed);
    }
    let mut rng = Rng(0x5eed_0f00_0b1e_0001);
    for round in 0..20_000 {
        let seed = &seeds[round % seeds.len()];
        harness::proximity(&mutate(&mut rng, seed));
    }
}
