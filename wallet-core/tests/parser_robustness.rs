//! Fuzz-style robustness: random and mutated bytes thrown at every parser of untrusted input.
//! Each must return (Ok or a typed error) without panicking, however malformed the input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

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
