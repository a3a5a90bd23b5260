//! Conformance with the Token Status List draft's examples: every list decodes to exactly the
//! statuses in `expected_nonzero.json`, and the small examples re-encode byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use serde_json::Value;
use wallet_core::cose::cbor;
use wallet_core::trust::status_list::{StatusList, StatusReference};

fn read(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/token-status-list")
            .join(name),
    )
    .unwrap()
}

fn hex(text: &str) -> Vec<u8> {
    let clean: String = text.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..clean.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&clean[i..i + 2], 16).unwrap())
        .collect()
}

/// The JSON example's `lst` (the files wrap long strings over several lines).
fn json_list(text: &str) -> StatusList {
    let bits: u64 = text
        .split("\"bits\":")
        .nth(1)
        .unwrap()
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let lst: String = text
        .split("\"lst\": \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    StatusList::from_json(&serde_json::json!({ "bits": bits, "lst": lst })).unwrap()
}

/// The CBOR example after `encoded:` (or the whole file).
fn cbor_list(text: &str) -> (StatusList, Vec<u8>) {
    let encoded = text.split("encoded:").last().unwrap();
    let bytes = hex(encoded);
    (
        StatusList::from_cbor(&cbor::decode(&bytes).unwrap()).unwrap(),
        bytes,
    )
}

fn byte_array(text: &str) -> Option<Vec<u8>> {
    let inside = text.strip_prefix("byte_array = [")?.split(']').next()?;
    Some(
        inside
            .split(',')
            .map(|b| u8::from_str_radix(b.trim().trim_start_matches("0x"), 16).unwrap())
            .collect(),
    )
}

fn check(list: &StatusList, expected: &Value, name: &str) {
    assert_eq!(
        u64::from(list.bits()),
        expected["bits"].as_u64().unwrap(),
        "{name}"
    );
    let size = expected["size"].as_u64().unwrap();
    assert!(list.len() >= size, "{name}: {} < {size}", list.len());
    let nonzero = expected["nonzero"].as_object().unwrap();
    let mut found = 0;
    for index in 0..list.len() {
        let status = list.get(index).unwrap();
        match nonzero.get(&index.to_string()) {
            Some(v) => {
                assert_eq!(u64::from(status), v.as_u64().unwrap(), "{name}[{index}]");
                found += 1;
            }
            None => assert_eq!(status, 0, "{name}[{index}]"),
        }
    }
    assert_eq!(found, nonzero.len(), "{name}");
}

#[test]
fn every_example_list_decodes_to_the_expected_statuses() {
    let expected: Value = serde_json::from_str(&read("expected_nonzero.json")).unwrap();
    let mut checked = 0;
    for (name, want) in expected.as_object().unwrap() {
        for suffix in ["json", "cbor"] {
            let file = format!("{name}_{suffix}.md");
            let Ok(text) = std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/data/token-status-list")
                    .join(&file),
            ) else {
                continue;
            };
            let list = if suffix == "json" {
                json_list(&text)
            } else {
                cbor_list(&text).0
            };
            check(&list, want, &file);
            checked += 1;
        }
    }
    assert_eq!(checked, 12, "six lists, each in JSON and CBOR");
}

#[test]
fn small_examples_re_encode_byte_for_byte() {
    let mut checked = 0;
    for name in ["status_list_encoding", "status_list_encoding2"] {
        let json_text = read(&format!("{name}_json.md"));
        let bytes = byte_array(&json_text).unwrap();
        let bits = json_list(&json_text).bits();
        let list = StatusList::from_bytes(bits, bytes.clone()).unwrap();
        let lst: String = json_text
            .split("\"lst\": \"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(list.to_json()["lst"], Value::String(lst), "{name} JSON");
        if let Ok(cbor_text) = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("tests/data/token-status-list/{name}_cbor.md")),
        ) {
            let (_, encoded) = cbor_list(&cbor_text);
            assert_eq!(cbor::encode(&list.to_cbor()), encoded, "{name} CBOR");
        }
        checked += 1;
    }
    assert_eq!(checked, 2);
}

#[test]
fn the_status_list_cwt_example_carries_the_one_bit_list() {
    let bytes = hex(&read("status_list_cwt.md"));
    let value = cbor::decode(&bytes).unwrap();
    let sign1 = wallet_core::cose::parse_sign1(&value).unwrap();
    let claims = cbor::decode(sign1.payload.as_ref().unwrap()).unwrap();
    let entries = cbor::map(&claims, "claims").unwrap();
    assert_eq!(
        cbor::text(cbor::get_int(entries, 2).unwrap(), "sub").unwrap(),
        "https://example.com/statuslists/1"
    );
    let list = StatusList::from_cbor(cbor::get_int(entries, 65533).unwrap()).unwrap();
    assert_eq!(list.bytes(), [0xb9, 0xa3]);
    let reference = StatusReference {
        index: 3,
        uri: "https://example.com/statuslists/1".into(),
    };
    assert_eq!(
        StatusReference::from_cbor(&reference.to_cbor()).unwrap(),
        reference
    );
    assert_eq!(
        StatusReference::from_json(&reference.to_json()).unwrap(),
        reference
    );
}
