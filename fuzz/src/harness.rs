//! One function per fuzz target: each feeds arbitrary bytes to the real parsers and verifiers
//! of wallet-core and ignores their results. None of them may panic, whatever the input; the
//! only assertion is the CBOR round trip in [`cbor`].
//!
//! This file is compiled twice: into the fuzz crate (`fuzz/src/lib.rs`) and, through a
//! `#[path]` module, into `wallet-core/tests/parser_robustness.rs`. It therefore uses only
//! `wallet_core` and `serde_json`, and reads its fixtures with `include_str!`/`include_bytes!`
//! relative to this file: the Annex D vectors from `wallet-core/tests/data`, and the root
//! certificates of the seed generator's test authority from `fuzz/fixtures/authority`.

use std::collections::HashMap;
use std::sync::OnceLock;

use wallet_core::access::parse_reverification;
use wallet_core::benefits::catalog;
use wallet_core::benefits::rules::{self, Type, Val};
use wallet_core::cose;
use wallet_core::cose::cbor::{self, Value};
use wallet_core::crypto::ec::SoftwareKey;
use wallet_core::crypto::jose;
use wallet_core::crypto::jwe;
use wallet_core::crypto::secret::SymmetricKey;
use wallet_core::documents::{bills, consent, signed};
use wallet_core::inbox::{notifications, smishing};
use wallet_core::issuance::messages::{self, Response};
use wallet_core::issuance::metadata::{parse_as_metadata, parse_issuer_metadata};
use wallet_core::issuance::offer;
use wallet_core::issuance::url::{self, UrlPolicy};
use wallet_core::mdoc::engagement::DeviceEngagement;
use wallet_core::mdoc::holder::Presentment;
use wallet_core::mdoc::issuer_signed::{IssuerSigned, IssuerSignedItem, MobileSecurityObject};
use wallet_core::mdoc::reader::ReaderSession;
use wallet_core::mdoc::request::{reader_authentication_bytes, DeviceRequest, ItemsRequest};
use wallet_core::mdoc::response::DeviceResponse;
use wallet_core::mdoc::session::{
    Role, SessionCipher, SessionData, SessionEstablishment, SessionKeys, SessionTranscript,
};
use wallet_core::openid4vp::dc_api;
use wallet_core::openid4vp::dcql::{self, Candidate, DcqlQuery};
use wallet_core::openid4vp::request::{
    self as vp_request, ClientIdPrefix, ReadOptions, RequestLocation, ResponseMode,
};
use wallet_core::openid4vp::response as vp_response;
use wallet_core::openid4vp::verifier::{
    open_dc_api, open_direct_post, verify_vp_token, PendingRequest, Trust,
};
use wallet_core::sdjwt::disclosure::{Disclosure, SdAlg};
use wallet_core::sdjwt::format::SdJwt;
use wallet_core::sdjwt::present::{inspect, select};
use wallet_core::sdjwt::verify::{verify, IssuerTrust, KeyBindingPolicy, TimeCheck};
use wallet_core::time;
use wallet_core::trust::status_list::{StatusList, StatusReference};
use wallet_core::trust::status_token;
use wallet_core::trust::status_token::StatusCache;
use wallet_core::trust::x509::{verify_chain, ParsedCertificate, TrustRole};
use wallet_core::verifier::mdoc::{
    check_against_request, check_issuer_signed, verify_document, VerificationContext,
};
use wallet_core::verifier::sdjwt::{verify_vc, VcPolicy};

// The seed generator (`fuzz/seedgen`) uses the same values.
/// The Annex D example's certificates and MSO are valid at 2021-01-01T00:00:00Z.
pub const ANNEX_D_TIME: i64 = 1_609_459_200;
/// The seed generator's test authority is checked at 2026-11-30T00:00:00Z.
pub const AUTHORITY_TIME: i64 = 1_795_996_800;
/// The URI the test authority's status list tokens are published under.
pub const STATUS_URI: &str = "https://status.example.invalid/lists/1";
/// Private scalar of the fixed COSE signing key.
pub const FIXED_SIGNING_SCALAR: [u8; 32] = [0x5a; 32];
/// The fixed HMAC key of COSE_Mac0 seeds.
pub const FIXED_MAC_KEY: [u8; 32] = [0x3c; 32];
/// The detached payload of COSE seeds.
pub const DETACHED_PAYLOAD: &[u8] = b"wallet-core fuzz: detached payload";
/// OpenID4VP: the relying party of the fixed pending requests, and the web origin requests
/// and answers come from over the Digital Credentials API.
pub const RP_ORIGIN: &str = "https://rp.example.invalid";
/// See [`RP_ORIGIN`].
pub const RP_CLIENT_ID: &str = "x509_san_dns:rp.example.invalid";
/// See [`RP_ORIGIN`].
pub const RP_RESPONSE_URI: &str = "https://rp.example.invalid/response";
/// See [`RP_ORIGIN`].
pub const RP_NONCE: &str = "fuzz-nonce-0123456789";
/// See [`RP_ORIGIN`].
pub const RP_STATE: &str = "fuzz-state-0123456789";
/// Private scalar of the relying party's response encryption key.
pub const RP_ENCRYPTION_SCALAR: [u8; 32] = [0x77; 32];
/// The DCQL query of the fixed pending requests: an mDL's names and an e-certificate's name
/// and locality.
pub const DCQL_QUERY: &str = r#"{"credentials":[{"id":"licence","format":"mso_mdoc","meta":{"doctype_value":"org.iso.18013.5.1.mDL"},"claims":[{"path":["org.iso.18013.5.1","family_name"]},{"path":["org.iso.18013.5.1","given_name"],"intent_to_retain":true}]},{"id":"abstract","format":"dc+sd-jwt","meta":{"vct_values":["urn:jigap:cert:resident-registration-abstract:1"]},"claims":[{"path":["name"]},{"path":["address","locality"]}]}]}"#;
/// OpenID4VCI: the credential issuer the wallet expects, and its redirect URI.
pub const ISSUER_URL: &str = "https://issuer.example.invalid";
/// See [`ISSUER_URL`].
pub const WALLET_REDIRECT: &str = "https://wallet.example.invalid/callback";
/// Key binding nonce and audience (those of the RFC 9901 examples and of the seeds).
pub const KB_NONCE: &str = "1234567890";
/// See [`KB_NONCE`].
pub const KB_AUDIENCE: &str = "https://verifier.example.org";

/// A harness: arbitrary bytes in, nothing out, never a panic.
pub type Harness = fn(&[u8]);

/// Every target: its name (the directory of its seeds) and its harness.
pub const TARGETS: &[(&str, Harness)] = &[
    ("cbor", cbor),
    ("cose", cose),
    ("device_engagement", device_engagement),
    ("session_messages", session_messages),
    ("device_request", device_request),
    ("device_response", device_response),
    ("issuer_signed", issuer_signed),
    ("mso", mso),
    ("x509", x509),
    ("sd_jwt", sd_jwt),
    ("kb_jwt", kb_jwt),
    ("status_list", status_list),
    ("status_token", status_token),
    ("signed_document", signed_document),
    ("bill", bill),
    ("notification", notification),
    ("benefit_catalog", benefit_catalog),
    ("consent", consent),
    ("dates", dates),
    ("reverification", reverification),
    ("openid4vp_request", openid4vp_request),
    ("openid4vp_response", openid4vp_response),
    ("openid4vci_offer", openid4vci_offer),
    ("openid4vci_messages", openid4vci_messages),
    ("proximity", proximity),
];

// ---------------------------------------------------------------------------------------------
// Fixtures

const ANNEX_D_IACA: &str =
    include_str!("../../wallet-core/tests/data/iso18013-5-annexD/iaca_cert.hex");
const ANNEX_D_READER_ROOT: &str =
    include_str!("../../wallet-core/tests/data/iso18013-5-annexD/reader_root_cert.hex");
const ANNEX_D_READER_CERT: &str =
    include_str!("../../wallet-core/tests/data/iso18013-5-annexD/reader_cert.hex");
const ANNEX_D_TRANSCRIPT: &str =
    include_str!("../../wallet-core/tests/data/iso18013-5-annexD/session_transcript_bytes.hex");
const ANNEX_D_DEVICE_REQUEST: &str =
    include_str!("../../wallet-core/tests/data/iso18013-5-annexD/device_request.hex");
const ANNEX_D_E_READER_D: &str =
    include_str!("../../wallet-core/tests/data/iso18013-5-annexD/ephemeral_reader_key_d.hex");
const ANNEX_D_E_DEVICE_X: &str =
    include_str!("../../wallet-core/tests/data/iso18013-5-annexD/ephemeral_device_key_x.hex");
const ANNEX_D_E_DEVICE_Y: &str =
    include_str!("../../wallet-core/tests/data/iso18013-5-annexD/ephemeral_device_key_y.hex");

/// Root certificates of the seed generator's test authority, one per role.
const AUTHORITY_ROOTS: [(TrustRole, &[u8]); 11] = [
    (
        TrustRole::MdocIssuer,
        include_bytes!("../fixtures/authority/mdoc_issuer_root.der"),
    ),
    (
        TrustRole::MdocReader,
        include_bytes!("../fixtures/authority/mdoc_reader_root.der"),
    ),
    (
        TrustRole::SdJwtIssuer,
        include_bytes!("../fixtures/authority/sd_jwt_issuer_root.der"),
    ),
    (
        TrustRole::StatusListIssuer,
        include_bytes!("../fixtures/authority/status_list_issuer_root.der"),
    ),
    (
        TrustRole::Sender,
        include_bytes!("../fixtures/authority/sender_root.der"),
    ),
    (
        TrustRole::DataRecipient,
        include_bytes!("../fixtures/authority/data_recipient_root.der"),
    ),
    (
        TrustRole::CatalogPublisher,
        include_bytes!("../fixtures/authority/catalog_publisher_root.der"),
    ),
    (
        TrustRole::IdentityVerifier,
        include_bytes!("../fixtures/authority/identity_verifier_root.der"),
    ),
    (
        TrustRole::IssuerMetadata,
        include_bytes!("../fixtures/authority/issuer_metadata_root.der"),
    ),
    (
        TrustRole::WalletProvider,
        include_bytes!("../fixtures/authority/wallet_provider_root.der"),
    ),
    (
        TrustRole::RelyingParty,
        include_bytes!("../fixtures/authority/relying_party_root.der"),
    ),
];

/// The RFC 9901 examples' issuer and holder keys (from their `settings.yml`), as JWK x and y.
const RFC9901_ISSUER: (&str, &str) = (
    "b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ",
    "Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8",
);
const RFC9901_HOLDER: (&str, &str) = (
    "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
    "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ",
);

/// Lower-case hex (whitespace ignored) to bytes; anything else gives an empty vector.
pub fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks_exact(2)
        .filter_map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
        })
        .collect()
}

/// Everything the harnesses verify against, built once.
pub struct Fixtures {
    /// Annex D IACA (the mdoc issuer anchor of the example).
    pub iaca: Vec<ParsedCertificate>,
    /// Annex D reader root.
    pub reader_root: Vec<ParsedCertificate>,
    /// The Annex D reader certificate's public key.
    pub reader_key: Vec<u8>,
    /// The Annex D session transcript.
    pub transcript: Option<SessionTranscript>,
    /// The Annex D reader's ephemeral key (for deviceMac).
    pub e_reader_key: Option<SoftwareKey>,
    /// The Annex D session keys.
    pub session_keys: Option<SessionKeys>,
    /// The ItemsRequests of the Annex D DeviceRequest.
    pub requested: Vec<ItemsRequest>,
    /// The test authority's roots, by role.
    pub authority: Vec<(TrustRole, ParsedCertificate)>,
    /// The public key of [`FIXED_SIGNING_SCALAR`].
    pub fixed_key: Vec<u8>,
    /// The RFC 9901 issuer key (SEC1).
    pub rfc_issuer: Vec<u8>,
    /// The RFC 9901 holder key (SEC1).
    pub rfc_holder: Vec<u8>,
    /// OpenID4VP requests waiting for their answer: in plain `direct_post`, and encrypted
    /// (`direct_post.jwt`) to [`RP_ENCRYPTION_SCALAR`].
    pub pending: Vec<PendingRequest>,
    /// The relying party's response encryption key.
    pub rp_encryption: Option<SoftwareKey>,
    /// What a wallet holds, for DCQL matching: an mDL and an e-certificate.
    pub candidates: Vec<Candidate>,
}

impl Fixtures {
    /// The authority's root for `role`.
    pub fn root(&self, role: TrustRole) -> Vec<ParsedCertificate> {
        self.authority
            .iter()
            .filter(|(r, _)| *r == role)
            .map(|(_, c)| c.clone())
            .collect()
    }

    /// Every authority root and both Annex D roots.
    pub fn all_roots(&self) -> Vec<ParsedCertificate> {
        let mut all: Vec<ParsedCertificate> =
            self.authority.iter().map(|(_, c)| c.clone()).collect();
        all.extend(self.iaca.iter().cloned());
        all.extend(self.reader_root.iter().cloned());
        all
    }
}

fn jwk_key((x, y): (&str, &str)) -> Vec<u8> {
    jose::p256_from_jwk(&serde_json::json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y }))
        .unwrap_or_default()
}

/// The fixtures (built on first use).
pub fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let cert = |text: &str| ParsedCertificate::from_der(&hex(text)).ok();
        let transcript = SessionTranscript::from_tagged_bytes(&hex(ANNEX_D_TRANSCRIPT)).ok();
        let e_reader_key = SoftwareKey::from_private_scalar(&hex(ANNEX_D_E_READER_D)).ok();
        let e_device = [vec![0x04], hex(ANNEX_D_E_DEVICE_X), hex(ANNEX_D_E_DEVICE_Y)].concat();
        let session_keys = match (&e_reader_key, &transcript) {
            (Some(k), Some(t)) => k
                .agree(&e_device)
                .ok()
                .and_then(|shared| SessionKeys::derive(shared.expose(), t).ok()),
            _ => None,
        };
        Fixtures {
            iaca: cert(ANNEX_D_IACA).into_iter().collect(),
            reader_root: cert(ANNEX_D_READER_ROOT).into_iter().collect(),
            reader_key: cert(ANNEX_D_READER_CERT)
                .and_then(|c| c.p256_public_key().ok())
                .unwrap_or_default(),
            transcript,
            e_reader_key,
            session_keys,
            requested: DeviceRequest::parse(&hex(ANNEX_D_DEVICE_REQUEST))
                .map(|r| {
                    r.doc_requests
                        .into_iter()
                        .map(|d| d.items_request)
                        .collect()
                })
                .unwrap_or_default(),
            authority: AUTHORITY_ROOTS
                .iter()
                .filter_map(|(role, der)| ParsedCertificate::from_der(der).ok().map(|c| (*role, c)))
                .collect(),
            fixed_key: SoftwareKey::from_private_scalar(&FIXED_SIGNING_SCALAR)
                .map(|k| k.public_key().to_vec())
                .unwrap_or_default(),
            rfc_issuer: jwk_key(RFC9901_ISSUER),
            rfc_holder: jwk_key(RFC9901_HOLDER),
            pending: pending_requests(),
            rp_encryption: SoftwareKey::from_private_scalar(&RP_ENCRYPTION_SCALAR).ok(),
            candidates: candidates(),
        }
    })
}

fn pending_requests() -> Vec<PendingRequest> {
    let Ok(dcql) = serde_json::from_str(DCQL_QUERY)
        .map_err(|_| ())
        .and_then(|v| DcqlQuery::parse(&v).map_err(|_| ()))
    else {
        return Vec::new();
    };
    let pending = |response_mode, encryption_key| PendingRequest {
        client_id: RP_CLIENT_ID.into(),
        nonce: RP_NONCE.into(),
        state: RP_STATE.into(),
        dcql: dcql.clone(),
        response_mode,
        response_uri: Some(RP_RESPONSE_URI.into()),
        encryption_key,
        transaction_data: Vec::new(),
        expires_at: AUTHORITY_TIME + 600,
    };
    let mut out = vec![pending(ResponseMode::DirectPost, None)];
    if let Ok(key) = SoftwareKey::from_private_scalar(&RP_ENCRYPTION_SCALAR) {
        out.push(pending(ResponseMode::DirectPostJwt, Some(key)));
    }
    out
}

fn candidates() -> Vec<Candidate> {
    vec![
        Candidate {
            format: "mso_mdoc".into(),
            doc_type: "org.iso.18013.5.1.mDL".into(),
            claims: serde_json::json!({"org.iso.18013.5.1": {
                "family_name": "홍", "given_name": "길동", "age_over_19": true,
                "driving_privileges": [{"vehicle_category_code": "B"}]
            }}),
            authority_key_ids: vec![vec![1, 2, 3]],
            holder_bound: true,
        },
        Candidate {
            format: "dc+sd-jwt".into(),
            doc_type: "urn:jigap:cert:resident-registration-abstract:1".into(),
            claims: serde_json::json!({
                "name": "홍길동",
                "address": {"region": "서울특별시", "locality": "종로구"},
                "address_history": ["부산광역시", "대전광역시"]
            }),
            authority_key_ids: Vec::new(),
            holder_bound: true,
        },
    ]
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Targets

/// `cbor::check_well_formed` and `cbor::decode`; a decoded value must re-encode to CBOR that
/// decodes again.
pub fn cbor(data: &[u8]) {
    let _ = cbor::check_well_formed(data);
    if let Ok(value) = cbor::decode(data) {
        let encoded = cbor::encode(&value);
        if let Err(e) = cbor::decode(&encoded) {
            panic!("a decoded value does not decode after re-encoding: {e}");
        }
        let _ = cbor::display(&value);
        if let Value::Map(entries) = &value {
            let _ = cbor::unique_keys(entries, "map");
        }
    }
}

/// COSE_Sign1, COSE_Mac0 and COSE_Key from decoded CBOR: headers, x5chain, and verification
/// with the fixed keys over the attached or the fixed detached payload.
pub fn cose(data: &[u8]) {
    let Ok(value) = cbor::decode(data) else {
        return;
    };
    let fx = fixtures();
    let _ = cose::public_key_from_cose(&value);
    if let Ok(sign1) = cose::parse_sign1(&value) {
        let _ = cose::x5chain(&sign1.protected.header);
        let _ = cose::x5chain(&sign1.unprotected);
        let _ = cose::protected_type(&sign1);
        let _ = cose::sign1_tbs(&sign1, Some(DETACHED_PAYLOAD));
        let _ = cose::verify_sign1(&sign1, None, &fx.fixed_key);
        let _ = cose::verify_sign1(&sign1, Some(DETACHED_PAYLOAD), &fx.fixed_key);
        let _ = cose::to_value(sign1);
    }
    if let Ok(mac0) = cose::parse_mac0(&value) {
        let _ = cose::x5chain(&mac0.protected.header);
        let _ = cose::x5chain(&mac0.unprotected);
        let key = SymmetricKey::from_bytes(FIXED_MAC_KEY);
        let _ = cose::verify_mac0(&mac0, &key, DETACHED_PAYLOAD);
        let _ = cose::to_value(mac0);
    }
}

/// `DeviceEngagement::parse` on the bytes and `from_qr_uri` on them as text.
pub fn device_engagement(data: &[u8]) {
    if let Ok(engagement) = DeviceEngagement::parse(data) {
        let _ = DeviceEngagement::from_qr_uri(&engagement.qr_uri());
    }
    let _ = DeviceEngagement::from_qr_uri(&text(data));
}

/// Session messages: SessionEstablishment, SessionData and SessionTranscriptBytes; their
/// payloads decrypted with the Annex D session keys; a holder receiving the bytes; and a
/// reader session resumed from them as saved state.
pub fn session_messages(data: &[u8]) {
    let fx = fixtures();
    if let Ok(establishment) = SessionEstablishment::parse(data) {
        let _ = cbor::decode(&establishment.e_reader_key_bytes)
            .and_then(|k| cose::public_key_from_cose(&k));
        if let Some(keys) = &fx.session_keys {
            if let Ok(mut device) = SessionCipher::new(Role::Device, keys) {
                if let Ok(plain) = device.decrypt(&establishment.data) {
                    let _ = DeviceRequest::parse(&plain);
                }
            }
        }
        let _ = establishment.encode();
    }
    if let Ok(message) = SessionData::parse(data) {
        if let (Some(keys), Some(ciphertext)) = (&fx.session_keys, &message.data) {
            if let Ok(mut reader) = SessionCipher::new(Role::Reader, keys) {
                if let Ok(plain) = reader.decrypt(ciphertext) {
                    let _ = DeviceResponse::parse(&plain);
                }
            }
        }
        let _ = message.encode();
    }
    if let Ok(transcript) = SessionTranscript::from_tagged_bytes(data) {
        let _ = transcript.hash();
    }
    // A holder's first message goes through the same parse as above: only build one (a fresh
    // key pair) for inputs that get past it.
    if SessionEstablishment::parse(data).is_ok() {
        if let Ok(mut holder) = Presentment::new(Vec::new()) {
            let _ = holder.receive(data);
            let _ = holder.receive(data);
        }
    }
    if let Ok(mut reader) = ReaderSession::resume(data) {
        let _ = reader.save_state();
        let _ = reader.receive(data);
    }
}

/// `DeviceRequest::parse`; each readerAuth is checked over the Annex D transcript, its
/// x5chain against the Annex D reader root, and its signature with the chain's leaf and with
/// the Annex D reader key.
pub fn device_request(data: &[u8]) {
    let fx = fixtures();
    let Ok(request) = DeviceRequest::parse(data) else {
        return;
    };
    let _ = request.encode();
    let Some(transcript) = &fx.transcript else {
        return;
    };
    for doc in &request.doc_requests {
        let _ = ItemsRequest::parse(&doc.items_request_bytes);
        let Some(auth) = &doc.reader_auth else {
            continue;
        };
        let payload = reader_authentication_bytes(transcript, &doc.items_request_bytes);
        if let Ok(chain) = cose::x5chain(&auth.unprotected) {
            if let Ok((leaf, _)) =
                verify_chain(&chain, &fx.reader_root, ANNEX_D_TIME, TrustRole::MdocReader)
            {
                if let Ok(key) = leaf.p256_public_key() {
                    let _ = cose::verify_sign1(auth, Some(&payload), &key);
                }
            }
        }
        let _ = cose::verify_sign1(auth, Some(&payload), &fx.reader_key);
    }
}

/// `DeviceResponse::parse`, the check against the Annex D request, and full verification of
/// every document over the Annex D transcript: against the Annex D IACA at 2021-01-01, and
/// against the test authority's IACA at [`AUTHORITY_TIME`].
pub fn device_response(data: &[u8]) {
    let fx = fixtures();
    let Ok(response) = DeviceResponse::parse(data) else {
        return;
    };
    let _ = check_against_request(&response, &fx.requested);
    let Some(transcript) = &fx.transcript else {
        return;
    };
    let authority_iaca = fx.root(TrustRole::MdocIssuer);
    for (iaca, at) in [
        (fx.iaca.as_slice(), ANNEX_D_TIME),
        (authority_iaca.as_slice(), AUTHORITY_TIME),
    ] {
        let ctx = VerificationContext {
            iaca,
            at,
            transcript,
            e_reader_key: fx.e_reader_key.as_ref(),
        };
        for doc in &response.documents {
            let _ = verify_document(doc, &ctx);
        }
    }
    for doc in &response.documents {
        let _ = DeviceResponse::document_value(
            &doc.doc_type,
            Value::Null,
            &doc.device_signed,
            &doc.errors,
        );
    }
}

/// `IssuerSigned::parse`, its MSO, and the wallet's intake check `check_issuer_signed`.
pub fn issuer_signed(data: &[u8]) {
    let Ok(issuer_signed) = IssuerSigned::parse(data) else {
        let _ = IssuerSignedItem::parse(data);
        return;
    };
    let _ = issuer_signed.mso();
    let _ = check_issuer_signed(&issuer_signed);
    let _ = issuer_signed.to_value_filtered(|_, e| e.len() % 2 == 0);
}

/// `MobileSecurityObject::parse`, and its status reference.
pub fn mso(data: &[u8]) {
    if let Ok(mso) = MobileSecurityObject::parse(data) {
        if let Some(status) = &mso.status {
            let _ = StatusReference::from_cbor(status);
        }
        let _ = mso.digest("org.iso.18013.5.1", 0);
        let _ = mso.encode();
    }
}

/// The certificates of an x509 input: a DER certificate as is when the input starts with
/// 0x30, otherwise up to three certificates after one framing byte, each a big-endian u16
/// length and that many bytes (the last one takes what remains).
pub fn split_chain(data: &[u8]) -> Vec<Vec<u8>> {
    if data.first() == Some(&0x30) {
        return vec![data.to_vec()];
    }
    let mut rest = data.get(1..).unwrap_or_default();
    let mut chain = Vec::new();
    while chain.len() < 3 && rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let body = &rest[2..];
        let take = len.min(body.len());
        chain.push(body[..take].to_vec());
        rest = &body[take..];
    }
    chain
}

/// `ParsedCertificate::from_der` on every certificate of the input with every accessor and
/// profile check, and `verify_chain` for every role against the Annex D roots and the test
/// authority's roots.
pub fn x509(data: &[u8]) {
    let fx = fixtures();
    let chain = split_chain(data);
    for der in &chain {
        let Ok(cert) = ParsedCertificate::from_der(der) else {
            continue;
        };
        let _ = cert.subject();
        let _ = cert.issuer();
        let _ = cert.country();
        let _ = cert.validity();
        let _ = cert.public_key();
        let _ = cert.p256_public_key();
        let _ = cert.subject_key_id();
        let _ = cert.subject_alt_names();
        for role in TrustRole::ALL {
            let _ = cert.check_anchor_profile(role);
            let _ = cert.check_leaf_profile(role);
        }
        if let Some(anchor) = fx.iaca.first() {
            let _ = cert.verify_signed_by(anchor);
        }
    }
    if chain.is_empty() {
        return;
    }
    let mut annex_d = fx.iaca.clone();
    annex_d.extend(fx.reader_root.iter().cloned());
    for role in TrustRole::ALL {
        let _ = verify_chain(&chain, &annex_d, ANNEX_D_TIME, role);
        let _ = verify_chain(&chain, &fx.root(role), AUTHORITY_TIME, role);
    }
}

fn key_binding() -> KeyBindingPolicy<'static> {
    KeyBindingPolicy {
        nonce: KB_NONCE,
        audience: KB_AUDIENCE,
        at: AUTHORITY_TIME,
        max_age: 30 * 86_400,
        skew: 300,
    }
}

/// `SdJwt::parse` (compact and JSON), verification with a known key, with the x5c leaf and
/// with the test authority's root, holder inspection and selection, and SD-JWT VC verification
/// with no anchors and with the authority's root.
pub fn sd_jwt(data: &[u8]) {
    let fx = fixtures();
    let text = text(data);
    let _ = SdJwt::parse_compact(&text);
    let _ = SdJwt::parse_json(&text);
    let Ok(sd) = SdJwt::parse(&text) else {
        return;
    };
    let _ = sd.to_compact();
    let _ = sd.sd_hash(SdAlg::Sha256);
    let time = Some(TimeCheck {
        at: AUTHORITY_TIME,
        skew: 300,
    });
    let kb = key_binding();
    let _ = verify(&sd, IssuerTrust::Key(&fx.rfc_issuer), time, Some(&kb));
    let _ = verify(&sd, IssuerTrust::Key(&fx.rfc_issuer), None, None);
    let _ = verify(&sd, IssuerTrust::X5cLeaf, None, None);
    let anchors = fx.root(TrustRole::SdJwtIssuer);
    let _ = verify(
        &sd,
        IssuerTrust::X5c {
            anchors: &anchors,
            at: AUTHORITY_TIME,
            profile: TrustRole::SdJwtIssuer,
        },
        time,
        Some(&kb),
    );
    if let Ok(inspected) = inspect(&sd) {
        let paths: Vec<String> = inspected
            .disclosures
            .iter()
            .step_by(2)
            .map(|d| d.path.clone())
            .collect();
        let _ = select(&sd, &inspected, &paths);
    }
    for anchors in [&[][..], anchors.as_slice()] {
        let policy = VcPolicy {
            anchors,
            at: AUTHORITY_TIME,
            skew: 300,
            accepted_vcts: &[],
            require_expiry: true,
            key_binding: key_binding(),
        };
        let _ = verify_vc(&sd, &policy);
    }
}

/// Compact JWS verification (the KB-JWT's path) with the RFC 9901 holder and issuer keys, a
/// JWK read from the input, and the input as a disclosure.
pub fn kb_jwt(data: &[u8]) {
    let fx = fixtures();
    let text = text(data);
    let _ = jose::verify_es256(&text, &fx.rfc_holder);
    let _ = jose::verify_es256(&text, &fx.rfc_issuer);
    let _ = jose::b64url_decode(&text);
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) {
        let _ = jose::p256_from_jwk(&json);
    }
    if let Ok(disclosure) = Disclosure::parse(&text) {
        let _ = disclosure.digest(SdAlg::Sha256);
    }
}

fn read_list(list: &StatusList) {
    let len = list.len();
    for index in [0, 1, 7, len / 2, len.saturating_sub(1), len, u64::MAX] {
        let _ = list.get(index);
    }
}

/// Status lists in JSON, CBOR and compressed form (first byte = bits), and status references.
pub fn status_list(data: &[u8]) {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(list) = StatusList::from_json(&json) {
            read_list(&list);
        }
        let _ = StatusReference::from_json(&json);
    }
    if let Ok(value) = cbor::decode(data) {
        if let Ok(list) = StatusList::from_cbor(&value) {
            read_list(&list);
        }
        let _ = StatusReference::from_cbor(&value);
    }
    if let Some((bits, lst)) = data.split_first() {
        if let Ok(list) = StatusList::from_compressed(u64::from(*bits), lst) {
            read_list(&list);
        }
    }
}

/// Status list tokens (JWT or CWT) fetched from [`STATUS_URI`], verified against the test
/// authority's status list root.
pub fn status_token(data: &[u8]) {
    let fx = fixtures();
    let anchors = fx.root(TrustRole::StatusListIssuer);
    if let Ok(token) = status_token::verify_any(data, STATUS_URI, &anchors, AUTHORITY_TIME) {
        let _ = token.cache_until(AUTHORITY_TIME);
        read_list(&token.list);
    }
    let _ = status_token::verify_cwt(data, STATUS_URI, &anchors, AUTHORITY_TIME);
}

/// Signed documents for the sender, catalog publisher and identity verifier roles (every
/// authority root trusted), and the payload parser of each role on what verifies.
pub fn signed_document(data: &[u8]) {
    let fx = fixtures();
    let anchors = fx.all_roots();
    for role in [
        TrustRole::Sender,
        TrustRole::CatalogPublisher,
        TrustRole::IdentityVerifier,
    ] {
        let Ok(payload) = signed::verify(data, &anchors, AUTHORITY_TIME, role) else {
            continue;
        };
        match role {
            TrustRole::Sender => {
                let _ = bills::parse(&payload.body, &payload.sender);
                let _ = notifications::parse(&payload.body, &payload.sender);
            }
            TrustRole::CatalogPublisher => {
                let _ = catalog::parse(&payload.body);
            }
            _ => {
                let _ = parse_reverification(&payload.body);
            }
        }
    }
}

/// `bills::parse` on decoded CBOR.
pub fn bill(data: &[u8]) {
    if let Ok(value) = cbor::decode(data) {
        if let Ok(bill) = bills::parse(&value, "CN=Sender") {
            let _ = bill.state(AUTHORITY_TIME / 86_400);
        }
    }
}

/// `notifications::parse` on decoded CBOR, and the call-to-action scan on the input as text.
pub fn notification(data: &[u8]) {
    if let Ok(value) = cbor::decode(data) {
        if let Ok(n) = notifications::parse(&value, "CN=Sender") {
            let _ = n.matches("건강");
            let _ = n.matches("");
            let _ = n.check_text();
        }
    }
    let _ = smishing::find_call_to_action(&text(data));
}

fn facts() -> HashMap<String, Val> {
    let mut facts = HashMap::new();
    facts.insert("age".to_string(), Val::Int(40));
    facts.insert("region".to_string(), Val::Text("서울".into()));
    facts.insert("income".to_string(), Val::Int(i64::MIN));
    facts
}

/// A schema that types any identifier by its length, so most fuzzed names type-check.
fn schema(name: &str) -> Option<Type> {
    match name.len() % 4 {
        0 => Some(Type::Int),
        1 => Some(Type::Bool),
        2 => Some(Type::Text),
        _ => wallet_core::benefits::attribute_type(name),
    }
}

fn lookup(name: &str) -> Option<Val> {
    match (schema(name)?, name.len() % 3) {
        (_, 0) => None,
        (Type::Int, 1) => Some(Val::Int(i64::MAX)),
        (Type::Int, _) => Some(Val::Int(i64::MIN)),
        (Type::Bool, n) => Some(Val::Bool(n == 1)),
        (Type::Text, _) => Some(Val::Text(name.to_string())),
    }
}

/// `catalog::parse` on decoded CBOR with every benefit evaluated, and `rules::parse` and
/// `rules::eval` on the input as text.
pub fn benefit_catalog(data: &[u8]) {
    if let Ok(value) = cbor::decode(data) {
        if let Ok(benefits) = catalog::parse(&value) {
            let _ = catalog::evaluate(&benefits, &facts());
            let _ = catalog::evaluate(&benefits, &HashMap::new());
        }
    }
    let text = text(data);
    if let Ok(rule) = rules::parse(&text, &schema) {
        let _ = rules::eval(&rule, &lookup);
    }
    if let Ok(rule) = rules::parse(&text, &wallet_core::benefits::attribute_type) {
        let facts = facts();
        let _ = rules::eval(&rule, &|name: &str| facts.get(name).cloned());
    }
}

/// MyData consent tokens and revocations.
pub fn consent(data: &[u8]) {
    let _ = consent::verify_consent(data);
    let _ = consent::verify_revocation(data);
}

/// RFC 3339 date-times and full dates as text.
pub fn dates(data: &[u8]) {
    let text = text(data);
    if let Some(unix) = time::parse_rfc3339(&text) {
        let _ = time::format_rfc3339(unix);
    }
    if let Some(days) = time::parse_full_date(&text) {
        let _ = time::format_full_date(days);
        let _ = time::age_in_years(days, AUTHORITY_TIME / 86_400);
    }
    let _ = time::parse_rfc3339(text.trim());
}

/// `access::parse_reverification` on decoded CBOR.
pub fn reverification(data: &[u8]) {
    if let Ok(value) = cbor::decode(data) {
        let _ = parse_reverification(&value);
    }
}

fn read_options(anchors: &[ParsedCertificate]) -> ReadOptions<'_> {
    ReadOptions {
        anchors,
        now: AUTHORITY_TIME,
        outer_client_id: None,
        origin: None,
        wallet_nonce: None,
        allow_loopback_http: false,
    }
}

/// What a wallet does with a request it read: match DCQL against its credentials, and work out
/// the response's encryption, mdoc transcript, audience and transaction data claims.
fn answer(request: &vp_request::AuthorizationRequest, origin: Option<&str>) {
    let fx = fixtures();
    let _ = dcql::evaluate(&request.dcql, &fx.candidates);
    let encryption = vp_response::encryption(request);
    let _ = vp_response::mdoc_transcript(request, origin, encryption.as_ref().map(|(k, _)| k));
    let _ = vp_response::audience(request, origin);
    for query in &request.dcql.credentials {
        let _ = vp_response::transaction_data_claims(request, &query.id);
    }
}

/// OpenID4VP requests as a wallet reads them: request URIs (`parse_uri`, then `read` and
/// `read_unsigned_dc_api`), signed request objects (`read_object`, verified against the test
/// authority's relying party root), request parameters and DCQL queries as JSON (`DcqlQuery::parse`
/// and `dcql::evaluate` against an mDL and an e-certificate), client ids, and Digital
/// Credentials API requests (`dc_api::read` for each protocol).
pub fn openid4vp_request(data: &[u8]) {
    let fx = fixtures();
    let anchors = fx.root(TrustRole::RelyingParty);
    let options = read_options(&anchors);
    let text = text(data);
    let _ = ClientIdPrefix::parse(text.trim());
    if let Ok(RequestLocation::Parameters(params)) = vp_request::parse_uri(&text) {
        if let Ok(request) = vp_request::read(&params, &options) {
            answer(&request, None);
        }
        let _ = vp_request::read_unsigned_dc_api(&params, RP_ORIGIN, &options);
    }
    if let Ok(request) = vp_request::read_object(text.trim(), &options) {
        answer(&request, None);
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
        if let Ok(query) = DcqlQuery::parse(&value) {
            let _ = dcql::evaluate(&query, &fx.candidates);
            let _ = query.to_json();
        }
        if let Some(params) = value.as_object() {
            let _ = vp_request::read(params, &options);
            if let Ok(request) = vp_request::read_unsigned_dc_api(params, RP_ORIGIN, &options) {
                answer(&request, Some(RP_ORIGIN));
            }
        }
    }
    for protocol in [
        dc_api::OPENID4VP_UNSIGNED,
        dc_api::OPENID4VP_SIGNED,
        dc_api::ISO_MDOC,
    ] {
        if let Ok(dc_api::DcApiRequest::OpenId4Vp(request)) =
            dc_api::read(protocol, &text, RP_ORIGIN, &options)
        {
            answer(&request, Some(RP_ORIGIN));
        }
    }
}

/// OpenID4VP responses as a relying party reads them, for fixed pending requests (plain and
/// encrypted): `open_direct_post` on the input as a form body and `open_dc_api` on it as JSON,
/// each followed by `verify_vp_token` against the test authority's IACA and SD-JWT VC root;
/// `jwe::decrypt` and `dc_api::open_mdoc_response` with the fixed encryption key.
pub fn openid4vp_response(data: &[u8]) {
    let fx = fixtures();
    let iaca = fx.root(TrustRole::MdocIssuer);
    let sd_jwt_issuers = fx.root(TrustRole::SdJwtIssuer);
    let statuses = StatusCache::default();
    let trust = Trust {
        iaca: &iaca,
        sd_jwt_issuers: &sd_jwt_issuers,
        statuses: &statuses,
        at: AUTHORITY_TIME,
        skew: 300,
        max_age: 30 * 86_400,
    };
    for pending in &fx.pending {
        if let Ok(parameters) = open_direct_post(pending, data) {
            let _ = verify_vp_token(pending, &parameters, None, &trust);
        }
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        for pending in &fx.pending {
            if let Ok(parameters) = open_dc_api(pending, &value) {
                let _ = verify_vp_token(pending, &parameters, Some(RP_ORIGIN), &trust);
            }
        }
        if let Some(key) = &fx.rp_encryption {
            let _ = dc_api::open_mdoc_response(key, "AA", RP_ORIGIN, &value);
        }
    }
    if let Some(key) = &fx.rp_encryption {
        let _ = jwe::decrypt(key, text(data).trim());
    }
}

/// OpenID4VCI input a wallet reads from a QR code or a link: credential offers
/// (`offer::parse_input` under both URL policies, `offer::parse_json`), URLs (`url::check`,
/// `url::query`, `url::well_known`) and the authorization redirect (`messages::parse_redirect`).
pub fn openid4vci_offer(data: &[u8]) {
    let text = text(data);
    for allow_loopback_http in [false, true] {
        let policy = UrlPolicy {
            allow_loopback_http,
        };
        let _ = offer::parse_input(&text, policy);
        let _ = url::check(&text, "url", policy);
    }
    let _ = offer::parse_json(data, UrlPolicy::default());
    let _ = url::query(&text);
    let _ = url::without_query(&text);
    let _ = url::well_known(text.trim(), "openid-credential-issuer");
    for iss_required in [false, true] {
        let _ =
            messages::parse_redirect(&text, WALLET_REDIRECT, RP_STATE, ISSUER_URL, iss_required);
    }
}

/// OpenID4VCI responses a wallet reads from an issuer: credential issuer metadata (JSON, and
/// signed JWT verified against the test authority's issuer metadata root), authorization
/// server metadata, and the token, nonce, PAR, credential and notification responses with
/// statuses 200, 202 and 400.
pub fn openid4vci_messages(data: &[u8]) {
    let fx = fixtures();
    let anchors = fx.root(TrustRole::IssuerMetadata);
    let policy = UrlPolicy::default();
    for content_type in [None, Some("application/json"), Some("application/jwt")] {
        if let Ok(metadata) = parse_issuer_metadata(
            data,
            content_type,
            ISSUER_URL,
            &anchors,
            AUTHORITY_TIME,
            policy,
        ) {
            for configuration in metadata.configurations.values() {
                let _ = configuration.check_supported();
                let _ = configuration.doc_type();
            }
        }
    }
    let _ = parse_as_metadata(data, ISSUER_URL, policy);
    for status in [200, 202, 400] {
        let response = Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: data.to_vec(),
        };
        let _ = messages::parse_token(&response);
        let _ = messages::parse_nonce(&response);
        let _ = messages::parse_par(&response);
        let _ = messages::parse_credential_response(&response, true, "credential");
        let _ = messages::parse_credential_response(&response, false, "credential");
        let _ = messages::error_of(&response, "token");
        let _ = messages::check_notification(&response);
        let _ = response.media_type();
    }
}

/// NDEF, handover, APDU and BLE input: parsers return a value or a typed error, and the
/// holder's NFC service answers every command with a status word.
pub fn proximity(bytes: &[u8]) {
    use wallet_core::mdoc::ble::BleLink;
    use wallet_core::mdoc::ndef::{self, BleOob, HandoverMessage, NfcCarrier};
    use wallet_core::mdoc::nfc::{Command, HolderStep, NfcHolder, TagReader, TransferReader};

    let _ = ndef::parse(bytes);
    if let Ok(select) = HandoverMessage::parse_select(bytes) {
        let _ = select.ble();
        let _ = select.nfc();
        let _ = select.device_engagement().map(DeviceEngagement::parse);
        let _ = select.encode_select();
    }
    if let Ok(request) = HandoverMessage::parse_request(bytes) {
        let _ = request.offers_nfc();
        let _ = request.encode_request();
    }
    let _ = wallet_core::mdoc::ble::l2cap_psm(bytes);
    let mut channel = wallet_core::mdoc::ble::L2capChannel::new();
    if let Ok(messages) = channel.on_bytes(bytes) {
        assert!(messages.iter().all(|m| !m.is_empty()));
    }
    if let Ok(carrier) = NfcCarrier::parse(bytes) {
        // What is read writes back to something that reads the same.
        if let Ok(written) = carrier.encode() {
            assert_eq!(NfcCarrier::parse(&written).ok(), Some(carrier));
        }
    }
    if let Ok(oob) = BleOob::parse(bytes) {
        let _ = (oob.uuid(), oob.role(), oob.address(), oob.encode());
    }
    if let Ok(command) = Command::parse(bytes) {
        let _ = command.encode();
    }
    let mut holder = NfcHolder::new(vec![0xd0, 0, 0], 255, 256).unwrap();
    for command in [
        &[
            0x00, 0xa4, 0x04, 0x0c, 0x07, 0xa0, 0x00, 0x00, 0x02, 0x48, 0x04, 0x00,
        ][..],
        bytes,
        bytes,
    ] {
        if let HolderStep::Message(_) = holder.process(command) {
            let _ = holder.reply(bytes);
        }
    }
    // A negotiating tag takes the bytes as what the reader writes (Service Select, then
    // Handover Request), through UPDATE BINARY.
    let mut negotiating = NfcHolder::negotiated(vec![0xa0], None, 255, 256).unwrap();
    negotiating.process(&[
        0x00, 0xa4, 0x04, 0x0c, 0x07, 0xd2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01,
    ]);
    negotiating.process(&[0x00, 0xa4, 0x00, 0x0c, 0x02, 0xe1, 0x04]);
    let select =
        wallet_core::mdoc::ndef::encode(&[wallet_core::mdoc::ndef::service_select()]).unwrap();
    for message in [&select[..], bytes, bytes] {
        let chunk = &message[..message.len().min(200)];
        let mut update = vec![0x00, 0xd6, 0x00, 0x00, (chunk.len() + 2) as u8, 0, 0];
        update.extend_from_slice(chunk);
        negotiating.process(&update);
        let [hi, lo] = (chunk.len() as u16).to_be_bytes();
        negotiating.process(&[0x00, 0xd6, 0x00, 0x00, 0x02, hi, lo]);
        let _ = negotiating.take_handover();
    }
    negotiating.process(bytes);
    let (mut tag, _) = TagReader::start(false).unwrap();
    let _ = tag.on_response(&[0x90, 0x00]);
    let _ = tag.on_response(&[0x90, 0x00]);
    let _ = tag.on_response(bytes);
    let (mut transfer, _) = TransferReader::start(true, 1000).unwrap();
    let _ = transfer.on_selected(&[0x90, 0x00]);
    let _ = transfer.send(b"\xa0");
    let _ = transfer.on_response(bytes);
    let mut link = BleLink::new(23 + bytes.len() % 500).unwrap();
    let _ = link.on_state(&[1]);
    for chunk in bytes.chunks(7) {
        let _ = link.on_data(chunk);
    }
    let _ = link.on_state(bytes);
}
