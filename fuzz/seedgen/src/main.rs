//! Writes the committed seed corpus of every fuzz target (`fuzz/seeds/<target>/`) and the
//! trust fixtures the harnesses verify against (`fuzz/fixtures/authority/`).
//!
//! Inputs come from two places: the published vectors copied into
//! `wallet-core/tests/data` (ISO/IEC 18013-5 Annex D, RFC 9901 examples, Token Status List
//! examples) and a test authority created at a fixed time, whose root certificates are
//! written as fixtures so the harnesses can check the authority's signatures.
//!
//! Run from the repository root:
//! `cargo run --manifest-path fuzz/Cargo.toml -p wallet-core-fuzz-seedgen [-- OUT_DIR]`
//! (`OUT_DIR` defaults to `fuzz/`; it receives `seeds/` and `fixtures/`).
//! Every run makes a new authority (fresh keys), so seeds and fixtures are replaced together.

use std::error::Error;
use std::path::PathBuf;

use serde_json::json;
use wallet_core::benefits::catalog::SAMPLE;
use wallet_core::cose;
use wallet_core::cose::cbor::{self, Value};
use wallet_core::crypto::ec::SoftwareKey;
use wallet_core::crypto::jwe::{self, Enc};
use wallet_core::crypto::secret::SymmetricKey;
use wallet_core::documents::bills::BillKind;
use wallet_core::documents::consent::{sign_consent, sign_revocation, Consent};
use wallet_core::inbox::notifications::{NotificationCategory, Priority};
use wallet_core::issuance::url::form;
use wallet_core::mdoc::engagement::{DeviceEngagement, RetrievalMethod};
use wallet_core::mdoc::holder::{build_document, DeviceAuthentication};
use wallet_core::mdoc::issuer_signed::IssuerSigned;
use wallet_core::mdoc::reader::ReaderSession;
use wallet_core::mdoc::request::{DeviceRequest, DocRequest, ItemsRequest};
use wallet_core::mdoc::response::{DeviceAuth, DeviceResponse};
use wallet_core::mdoc::session::{Handover, SessionTranscript};
use wallet_core::mdoc::MdocError;
use wallet_core::openid4vp::dcql::DcqlQuery;
use wallet_core::openid4vp::request::{thumbprint, ResponseMode};
use wallet_core::openid4vp::verifier::{
    create_request, wallet_uri, ClientIdKind, RelyingPartyKey, RequestSpec,
};
use wallet_core::sdjwt::disclosure::SdAlg;
use wallet_core::sdjwt::format::SdJwt;
use wallet_core::sdjwt::present::{inspect, key_binding_input, select};
use wallet_core::trust::status_list::{StatusList, StatusReference};
use wallet_core::trust::x509::TrustRole;
use wallet_core::{
    fixed_clock, passphrase_key_protector_with_cost, BillDraft, ConsentMode, ConsentRequest,
    MdlClaims, NotificationDraft, ResidentCardClaims, StatusListEntry, StatusListFormat,
    StatusValue, TestAuthority, Wallet, WalletConfig,
};

type Res<T> = Result<T, Box<dyn Error>>;

// These constants are repeated in `fuzz/src/harness.rs`, which checks what is written here.
/// The harnesses verify test-authority material at this time (2026-11-30T00:00:00Z).
const AUTHORITY_TIME: i64 = 1_795_996_800;
/// The test authority is created (and signs everything) an hour before [`AUTHORITY_TIME`].
const AUTHORITY_CREATED: i64 = AUTHORITY_TIME - 3_600;
/// The URI the test authority's status list tokens are published under.
const STATUS_URI: &str = "https://status.example.invalid/lists/1";
/// Private scalar of the fixed COSE signing key.
const FIXED_SIGNING_SCALAR: [u8; 32] = [0x5a; 32];
/// The fixed HMAC key of COSE_Mac0 seeds.
const FIXED_MAC_KEY: [u8; 32] = [0x3c; 32];
/// The detached payload of COSE seeds.
const DETACHED_PAYLOAD: &[u8] = b"wallet-core fuzz: detached payload";
/// Private scalar of the holder (device) key of SD-JWT and mdoc seeds.
const HOLDER_SCALAR: [u8; 32] = [0x6b; 32];
/// OpenID4VP: the relying party of the response seeds, and the wallet's view of it.
const RP_ORIGIN: &str = "https://rp.example.invalid";
const RP_CLIENT_ID: &str = "x509_san_dns:rp.example.invalid";
const RP_RESPONSE_URI: &str = "https://rp.example.invalid/response";
const RP_NONCE: &str = "fuzz-nonce-0123456789";
const RP_STATE: &str = "fuzz-state-0123456789";
/// Private scalar of the relying party's response encryption key.
const RP_ENCRYPTION_SCALAR: [u8; 32] = [0x77; 32];
/// The DCQL query of the OpenID4VP seeds: an mDL's names and an e-certificate's name and
/// locality.
const DCQL_QUERY: &str = r#"{"credentials":[{"id":"licence","format":"mso_mdoc","meta":{"doctype_value":"org.iso.18013.5.1.mDL"},"claims":[{"path":["org.iso.18013.5.1","family_name"]},{"path":["org.iso.18013.5.1","given_name"],"intent_to_retain":true}]},{"id":"abstract","format":"dc+sd-jwt","meta":{"vct_values":["urn:jigap:cert:resident-registration-abstract:1"]},"claims":[{"path":["name"]},{"path":["address","locality"]}]}]}"#;
/// OpenID4VCI: the credential issuer of the issuance seeds, and the wallet's redirect URI.
const ISSUER_URL: &str = "https://issuer.example.invalid";
const WALLET_REDIRECT: &str = "https://wallet.example.invalid/callback";
/// Key binding nonce and audience (those of the RFC 9901 examples).
const KB_NONCE: &str = "1234567890";
const KB_AUDIENCE: &str = "https://verifier.example.org";

struct Out {
    fuzz: PathBuf,
    data: PathBuf,
    written: usize,
}

impl Out {
    fn seed(&mut self, target: &str, name: &str, bytes: &[u8]) -> Res<()> {
        let dir = self.fuzz.join("seeds").join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)?;
        self.written += bytes.len();
        Ok(())
    }

    fn fixture(&mut self, name: &str, bytes: &[u8]) -> Res<()> {
        let dir = self.fuzz.join("fixtures").join("authority");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)?;
        Ok(())
    }

    fn text(&self, relative: &str) -> Res<String> {
        Ok(std::fs::read_to_string(self.data.join(relative))?)
    }

    fn annex_d(&self, name: &str) -> Res<Vec<u8>> {
        hex(&self.text(&format!("iso18013-5-annexD/{name}.hex"))?)
    }
}

fn hex(text: &str) -> Res<Vec<u8>> {
    let clean: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    clean
        .chunks(2)
        .map(|pair| Ok(u8::from_str_radix(std::str::from_utf8(pair)?, 16)?))
        .collect()
}

/// The file name of a role's fixture (also used by the harness).
fn role_file(role: TrustRole) -> &'static str {
    match role {
        TrustRole::MdocIssuer => "mdoc_issuer",
        TrustRole::MdocReader => "mdoc_reader",
        TrustRole::SdJwtIssuer => "sd_jwt_issuer",
        TrustRole::StatusListIssuer => "status_list_issuer",
        TrustRole::Sender => "sender",
        TrustRole::DataRecipient => "data_recipient",
        TrustRole::CatalogPublisher => "catalog_publisher",
        TrustRole::IdentityVerifier => "identity_verifier",
        TrustRole::IssuerMetadata => "issuer_metadata",
        TrustRole::WalletProvider => "wallet_provider",
        TrustRole::RelyingParty => "relying_party",
    }
}

/// The x509 target's multi-certificate framing: a first byte that is not 0x30, then each
/// certificate as a big-endian u16 length and its bytes.
fn framed_chain(certs: &[&[u8]]) -> Res<Vec<u8>> {
    let mut out = vec![0x01];
    for cert in certs {
        out.extend_from_slice(&u16::try_from(cert.len())?.to_be_bytes());
        out.extend_from_slice(cert);
    }
    Ok(out)
}

fn payload_of(signed: &[u8]) -> Res<Vec<u8>> {
    let sign1 = cose::parse_sign1(&cbor::decode(signed)?)?;
    sign1.payload.ok_or_else(|| "no payload".into())
}

fn main() -> Res<()> {
    let manifest_fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no parent directory")?
        .to_path_buf();
    let data = manifest_fuzz.join("../wallet-core/tests/data");
    // Writes into fuzz/ unless another directory is given (to try the generator out).
    let fuzz = std::env::args().nth(1).map_or(manifest_fuzz, PathBuf::from);
    let seeds = fuzz.join("seeds");
    if seeds.exists() {
        std::fs::remove_dir_all(&seeds)?;
    }
    let mut out = Out {
        fuzz,
        data,
        written: 0,
    };
    annex_d(&mut out)?;
    small_cbor(&mut out)?;
    fixed_cose(&mut out)?;
    let authority = TestAuthority::create(
        "Fuzz Seeds".into(),
        "KR".into(),
        Some(fixed_clock(AUTHORITY_CREATED)),
    )?;
    authority_material(&mut out, &authority)?;
    mdoc_credentials(&mut out, &authority)?;
    sd_jwt(&mut out, &authority)?;
    status(&mut out, &authority)?;
    signed_documents(&mut out, &authority)?;
    consent(&mut out, &authority)?;
    texts(&mut out)?;
    openid4vp_request(&mut out, &authority)?;
    openid4vp_response(&mut out, &authority)?;
    openid4vci(&mut out, &authority)?;
    println!("wrote {} bytes of seeds", out.written);
    Ok(())
}

/// ISO/IEC 18013-5 Annex D: every message, the certificates, and the parts inside them.
fn annex_d(out: &mut Out) -> Res<()> {
    for name in [
        "device_engagement",
        "e_device_key_bytes",
        "session_establishment",
        "session_data",
        "session_termination",
        "session_transcript_bytes",
        "device_request",
        "items_request",
        "reader_auth",
        "device_authentication_bytes",
        "reader_authentication_bytes",
    ] {
        out.seed("cbor", &format!("annexd_{name}"), &out.annex_d(name)?)?;
    }
    let engagement = out.annex_d("device_engagement")?;
    out.seed("device_engagement", "annexd_device_engagement", &engagement)?;
    let parsed = DeviceEngagement::parse(&engagement)?;
    out.seed(
        "device_engagement",
        "annexd_qr.txt",
        parsed.qr_uri().as_bytes(),
    )?;
    for name in [
        "session_establishment",
        "session_data",
        "session_termination",
        "session_transcript_bytes",
    ] {
        out.seed(
            "session_messages",
            &format!("annexd_{name}"),
            &out.annex_d(name)?,
        )?;
    }
    out.seed(
        "device_request",
        "annexd_device_request",
        &out.annex_d("device_request")?,
    )?;
    let response = out.annex_d("device_response")?;
    out.seed("device_response", "annexd_device_response", &response)?;

    let cose_key = out.annex_d("e_device_key_bytes")?;
    let e_device_key = cbor::untag_bytes(&cbor::decode(&cose_key)?, "key")?.to_vec();
    out.seed("cose", "annexd_e_device_cose_key", &e_device_key)?;
    out.seed("cose", "annexd_reader_auth", &out.annex_d("reader_auth")?)?;
    let parsed = DeviceResponse::parse(&response)?;
    let doc = parsed.documents.first().ok_or("no document")?;
    let issuer_auth = cbor::encode(&cose::to_value(doc.issuer_signed.issuer_auth.clone())?);
    out.seed("cose", "annexd_issuer_auth", &issuer_auth)?;
    if let DeviceAuth::Mac(mac) = &doc.device_signed.device_auth {
        out.seed(
            "cose",
            "annexd_device_mac",
            &cbor::encode(&cose::to_value(mac.clone())?),
        )?;
    }
    let issuer_signed = cbor::encode(&doc.issuer_signed.to_value_filtered(|_, _| true)?);
    out.seed("issuer_signed", "annexd_issuer_signed", &issuer_signed)?;
    let mso_payload = doc
        .issuer_signed
        .issuer_auth
        .payload
        .clone()
        .ok_or("no MSO")?;
    let mso = cbor::untag_bytes(&cbor::decode(&mso_payload)?, "MSO")?.to_vec();
    out.seed("mso", "annexd_mso", &mso)?;

    let iaca = out.annex_d("iaca_cert")?;
    let ds = out.annex_d("ds_cert")?;
    let reader_root = out.annex_d("reader_root_cert")?;
    let reader = out.annex_d("reader_cert")?;
    out.seed("x509", "annexd_iaca.der", &iaca)?;
    out.seed("x509", "annexd_ds.der", &ds)?;
    out.seed("x509", "annexd_reader_root.der", &reader_root)?;
    out.seed("x509", "annexd_reader.der", &reader)?;
    out.seed(
        "x509",
        "annexd_ds_iaca.chain",
        &framed_chain(&[&ds, &iaca])?,
    )?;
    out.seed(
        "x509",
        "annexd_reader_root.chain",
        &framed_chain(&[&reader, &reader_root])?,
    )?;

    // A reader session resumed from saved state, started from the Annex D engagement.
    let mut reader_session =
        ReaderSession::from_qr(&DeviceEngagement::parse(&engagement)?.qr_uri())?;
    let request = DeviceRequest::parse(&out.annex_d("device_request")?)?;
    let items: Vec<ItemsRequest> = request
        .doc_requests
        .iter()
        .map(|d| d.items_request.clone())
        .collect();
    reader_session.request(items, None)?;
    out.seed(
        "session_messages",
        "reader_state",
        &reader_session.save_state(),
    )?;
    Ok(())
}

/// Hand-written CBOR covering encodings the messages above do not use.
fn small_cbor(out: &mut Out) -> Res<()> {
    for (name, text) in [
        ("indefinite_bytes", "5f42010243030405ff"),
        ("indefinite_text", "7f6161616262ff"),
        ("indefinite_array", "9f0102ff"),
        ("indefinite_map", "bf6161f4ff"),
        ("half_float", "f93c00"),
        ("double", "fb3ff0000000000000"),
        ("bignum", "c249010000000000000000"),
        ("negative_bignum", "c349010000000000000000"),
        ("full_date", "d903ec6a323032362d31312d3330"),
        ("tdate", "c074323032362d31312d33305430303a30303a30305a"),
        ("simple_values", "84f4f5f6f7"),
        ("nested_tags", "d818d81841a0"),
    ] {
        out.seed("cbor", name, &hex(text)?)?;
    }
    Ok(())
}

/// COSE_Sign1 and COSE_Mac0 under the harness's fixed keys, attached and detached.
fn fixed_cose(out: &mut Out) -> Res<()> {
    let key = SoftwareKey::from_private_scalar(&FIXED_SIGNING_SCALAR)?;
    let attached = cose::create_sign1(b"attached payload", false, &[], |tbs| key.sign(tbs))?;
    out.seed(
        "cose",
        "fixed_sign1_attached",
        &cbor::encode(&cose::to_value(attached)?),
    )?;
    let detached = cose::create_sign1(DETACHED_PAYLOAD, true, &[], |tbs| key.sign(tbs))?;
    let tagged = Value::Tag(18, Box::new(cose::to_value(detached)?));
    out.seed(
        "cose",
        "fixed_sign1_detached_tagged",
        &cbor::encode(&tagged),
    )?;
    let typed =
        cose::create_sign1_with_type(b"{}", "application/example+cwt", &[], |tbs| key.sign(tbs))?;
    out.seed(
        "cose",
        "fixed_sign1_typed",
        &cbor::encode(&cose::to_value(typed)?),
    )?;
    let mac = cose::create_mac0(&SymmetricKey::from_bytes(FIXED_MAC_KEY), DETACHED_PAYLOAD);
    out.seed(
        "cose",
        "fixed_mac0",
        &cbor::encode(&cose::to_value(mac.clone())?),
    )?;
    let tagged = Value::Tag(17, Box::new(cose::to_value(mac)?));
    out.seed("cose", "fixed_mac0_tagged", &cbor::encode(&tagged))?;
    out.seed(
        "cose",
        "fixed_cose_key",
        &cbor::encode(&cose::cose_key(key.public_key())?),
    )?;

    let engagement = DeviceEngagement::new(
        key.public_key(),
        vec![
            RetrievalMethod::Ble {
                peripheral_server_mode: true,
                central_client_mode: true,
                peripheral_server_uuid: Some(vec![0x45; 16]),
                central_client_uuid: Some(vec![0x46; 16]),
            },
            RetrievalMethod::Nfc {
                max_command_data: 255,
                max_response_data: 256,
            },
        ],
    )?;
    out.seed("device_engagement", "ble_nfc", &engagement.bytes)?;
    out.seed(
        "device_engagement",
        "ble_nfc_qr.txt",
        engagement.qr_uri().as_bytes(),
    )?;
    Ok(())
}

fn authority_material(out: &mut Out, authority: &TestAuthority) -> Res<()> {
    for role in TrustRole::ALL {
        let root = authority.root_certificate(role)?;
        let signer = authority.signer_certificate(role)?;
        let name = role_file(role);
        out.fixture(&format!("{name}_root.der"), &root)?;
        out.seed("x509", &format!("authority_{name}_signer.der"), &signer)?;
        if matches!(role, TrustRole::MdocIssuer | TrustRole::Sender) {
            out.seed("x509", &format!("authority_{name}_root.der"), &root)?;
            out.seed(
                "x509",
                &format!("authority_{name}.chain"),
                &framed_chain(&[&signer, &root])?,
            )?;
        }
    }
    Ok(())
}

/// An mDL and a resident card from the authority, their MSOs, and a DeviceResponse with a
/// device signature over the Annex D session transcript.
fn mdoc_credentials(out: &mut Out, authority: &TestAuthority) -> Res<()> {
    let holder = SoftwareKey::from_private_scalar(&HOLDER_SCALAR)?;
    let mdl = authority.issue_mdl(
        holder.public_key().to_vec(),
        MdlClaims {
            family_name: "홍".into(),
            given_name: "길동".into(),
            birth_date: "1990-05-05".into(),
            document_number: "11-22-333333-44".into(),
            issuing_authority: "경찰청".into(),
            portrait: vec![0xff, 0xd8, 0xff, 0xd9],
            vehicle_categories: vec!["B".into(), "C1".into()],
            valid_days: 365,
            status: Some(StatusListEntry {
                index: 7,
                uri: STATUS_URI.into(),
            }),
        },
    )?;
    out.seed("issuer_signed", "authority_mdl", &mdl)?;
    out.seed("cbor", "authority_mdl", &mdl)?;
    let card = authority.issue_resident_card(
        holder.public_key().to_vec(),
        ResidentCardClaims {
            name_ko: "홍길동".into(),
            resident_registration_number: "900505-1234567".into(),
            birth_date: "1990-05-05".into(),
            address: "서울특별시 종로구 세종대로 209".into(),
            issuing_authority: "종로구청".into(),
            portrait: vec![0xff, 0xd8, 0xff, 0xd9],
            valid_days: 30,
            status: None,
        },
    )?;
    out.seed("issuer_signed", "authority_resident_card", &card)?;
    let stored = IssuerSigned::parse(&mdl)?;
    let mso_payload = stored.issuer_auth.payload.clone().ok_or("no MSO")?;
    let mso = cbor::untag_bytes(&cbor::decode(&mso_payload)?, "MSO")?.to_vec();
    out.seed("mso", "authority_mdl_mso", &mso)?;
    out.seed(
        "cose",
        "authority_issuer_auth",
        &cbor::encode(&cose::to_value(stored.issuer_auth.clone())?),
    )?;

    let transcript =
        SessionTranscript::from_tagged_bytes(&out.annex_d("session_transcript_bytes")?)?;
    let ns = "org.iso.18013.5.1".to_string();
    let requested: Vec<(String, String)> = ["family_name", "given_name", "birth_date", "portrait"]
        .iter()
        .map(|e| (ns.clone(), e.to_string()))
        .collect();
    let approved = &requested[..3];
    let mut sign = |tbs: &[u8]| -> Result<Vec<u8>, MdocError> { Ok(holder.sign(tbs)?) };
    let document = build_document(
        &stored,
        &requested,
        approved,
        &transcript,
        DeviceAuthentication::Signature(&mut sign),
    )?;
    let response = DeviceResponse::encode_values(
        vec![document],
        &[("org.iso.18013.5.1.mDL.other".into(), 10)],
        0,
    );
    out.seed("device_response", "authority_mdl_signature", &response)?;
    let empty = DeviceResponse::encode_values(vec![], &[("org.iso.18013.5.1.mDL".into(), 10)], 20);
    out.seed("device_response", "document_errors_only", &empty)?;

    // A request of two documents, one with requestInfo, signed by the authority's reader.
    let reader_key =
        SoftwareKey::from_private_scalar(&authority.signer_key(TrustRole::MdocReader)?)?;
    let reader_chain = [authority.signer_certificate(TrustRole::MdocReader)?];
    let first = ItemsRequest {
        doc_type: "org.iso.18013.5.1.mDL".into(),
        namespaces: vec![(
            ns.clone(),
            vec![("family_name".into(), false), ("portrait".into(), true)],
        )],
        request_info: Some(Value::Map(vec![cbor::entry(
            "purpose",
            Value::Text("fuzz".into()),
        )])),
    };
    let second = ItemsRequest {
        doc_type: "kr.jigap.mdoc.resident-registration.1".into(),
        namespaces: vec![(
            "kr.jigap.mdoc.resident-registration.1".into(),
            vec![("name_ko".into(), false)],
        )],
        request_info: None,
    };
    let request = DeviceRequest {
        version: "1.0".into(),
        doc_requests: vec![
            DocRequest::signed(first, &transcript, &reader_chain, |tbs| {
                reader_key.sign(tbs)
            })?,
            DocRequest::unsigned(second),
        ],
    };
    out.seed(
        "device_request",
        "authority_signed_two_docs",
        &request.encode()?,
    )?;
    Ok(())
}

fn sd_jwt(out: &mut Out, authority: &TestAuthority) -> Res<()> {
    let examples = out.data.join("sd-jwt-rfc9901-examples");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&examples)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in &dirs {
        let name = dir.file_name().and_then(|n| n.to_str()).ok_or("name")?;
        for (file, kind) in [
            ("sd_jwt_issuance.txt", "issuance"),
            ("sd_jwt_presentation.txt", "presentation"),
            ("sd_jwt_issuance.json", "issuance_json"),
            ("sd_jwt_presentation.json", "presentation_json"),
        ] {
            let path = dir.join(file);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            // The JSON serialization examples are stored as a JSON string.
            let text: String = serde_json::from_str(&text).unwrap_or(text);
            out.seed("sd_jwt", &format!("rfc9901_{name}_{kind}"), text.as_bytes())?;
        }
        if let Ok(kb) = std::fs::read_to_string(dir.join("kb_jwt_serialized.txt")) {
            out.seed(
                "kb_jwt",
                &format!("rfc9901_{name}_kb_jwt"),
                kb.trim().as_bytes(),
            )?;
        }
    }
    // The simple example's issuer-signed JWT and disclosures, one by one.
    let simple = std::fs::read_to_string(examples.join("simple/sd_jwt_issuance.txt"))?;
    let parsed = SdJwt::parse(&simple)?;
    out.seed(
        "kb_jwt",
        "rfc9901_simple_issuer_jws",
        parsed.jws().as_bytes(),
    )?;
    for (i, d) in parsed.disclosures.iter().take(4).enumerate() {
        out.seed(
            "kb_jwt",
            &format!("rfc9901_simple_disclosure_{i}"),
            d.as_bytes(),
        )?;
    }
    let holder_jwk = json!({
        "kty": "EC",
        "crv": "P-256",
        "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
        "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"
    });
    out.seed(
        "kb_jwt",
        "rfc9901_holder_jwk.json",
        holder_jwk.to_string().as_bytes(),
    )?;

    // An SD-JWT VC from the authority, and a presentation of two claims with key binding.
    let holder = SoftwareKey::from_private_scalar(&HOLDER_SCALAR)?;
    let issued = authority.issue_e_certificate(
        "resident-abstract".into(),
        holder.public_key().to_vec(),
        json!({
            "name": "홍길동",
            "resident_registration_number": "900505-1234567",
            "birth_date": "1990-05-05",
            "address": { "region": "서울특별시", "locality": "종로구", "street": "세종대로 209" },
            "address_history": ["부산광역시", "대전광역시"],
            "is_head_of_household": true
        })
        .to_string(),
        Some(StatusListEntry {
            index: 3,
            uri: STATUS_URI.into(),
        }),
    )?;
    out.seed("sd_jwt", "authority_vc_issuance", issued.as_bytes())?;
    let sd = SdJwt::parse(&issued)?;
    let inspected = inspect(&sd)?;
    let paths = vec!["/name".to_string(), "/address/locality".to_string()];
    let presentation = select(&sd, &inspected, &paths)?;
    let input = key_binding_input(
        &presentation,
        SdAlg::Sha256,
        KB_AUDIENCE,
        KB_NONCE,
        AUTHORITY_TIME - 60,
    );
    let signature = holder.sign(input.as_bytes())?;
    let kb_jwt = wallet_core::crypto::jose::compact(&input, &signature);
    let presented = SdJwt {
        kb_jwt: Some(kb_jwt.clone()),
        ..presentation
    };
    out.seed(
        "sd_jwt",
        "authority_vc_presentation",
        presented.to_compact().as_bytes(),
    )?;
    out.seed("kb_jwt", "authority_kb_jwt", kb_jwt.as_bytes())?;
    Ok(())
}

fn status(out: &mut Out, authority: &TestAuthority) -> Res<()> {
    let statuses = vec![
        StatusValue {
            index: 3,
            status: 1,
        },
        StatusValue {
            index: 7,
            status: 2,
        },
    ];
    let jwt = authority.status_list_token(
        STATUS_URI.into(),
        64,
        statuses.clone(),
        StatusListFormat::Jwt,
        3600,
    )?;
    out.seed("status_token", "authority_status_list.jwt", &jwt)?;
    let cwt = authority.status_list_token(
        STATUS_URI.into(),
        64,
        statuses,
        StatusListFormat::Cwt,
        3600,
    )?;
    out.seed("status_token", "authority_status_list.cwt", &cwt)?;
    out.seed("cbor", "authority_status_list_cwt", &cwt)?;
    out.seed("cose", "authority_status_list_cwt", &cwt)?;
    let jwt_raw = out.text("token-status-list/status_list_jwt_raw.md")?;
    let jwt_raw: String = jwt_raw.chars().filter(|c| !c.is_whitespace()).collect();
    out.seed("status_token", "draft_status_list.jwt", jwt_raw.as_bytes())?;
    for name in ["status_list_cwt", "referenced_token_cwt"] {
        let bytes = hex(&out.text(&format!("token-status-list/{name}.md"))?)?;
        out.seed("status_token", &format!("draft_{name}"), &bytes)?;
    }

    // The draft's lists, JSON and CBOR (the short ones and the 2-bit long one).
    for name in [
        "status_list_encoding",
        "status_list_encoding2",
        "status_list_encoding4",
        "status_list_encoding2_long",
    ] {
        let json_text = out.text(&format!("token-status-list/{name}_json.md"))?;
        let body = json_text.split("encoded:").last().unwrap_or(&json_text);
        // The long examples wrap `lst` over several lines.
        let compact: String = body.split_whitespace().collect();
        out.seed(
            "status_list",
            &format!("draft_{name}.json"),
            compact.as_bytes(),
        )?;
        let cbor_text = out.text(&format!("token-status-list/{name}_cbor.md"))?;
        let bytes = hex(cbor_text.split("encoded:").last().unwrap_or(&cbor_text))?;
        out.seed("status_list", &format!("draft_{name}.cbor"), &bytes)?;
    }
    let mut list = StatusList::new(8, 40)?;
    list.set(0, 1)?;
    list.set(39, 255)?;
    let mut compressed = vec![8u8];
    compressed.extend_from_slice(&list.compressed());
    out.seed("status_list", "compressed_bits8", &compressed)?;
    let reference = StatusReference {
        index: 7,
        uri: STATUS_URI.into(),
    };
    out.seed(
        "status_list",
        "reference.json",
        reference.to_json().to_string().as_bytes(),
    )?;
    out.seed(
        "status_list",
        "reference.cbor",
        &cbor::encode(&reference.to_cbor()),
    )?;
    Ok(())
}

fn signed_documents(out: &mut Out, authority: &TestAuthority) -> Res<()> {
    let bill = authority.sign_bill(BillDraft {
        id: "bill-2026-11".into(),
        version: 2,
        sender_name: "서울특별시".into(),
        kind: BillKind::LocalTax,
        title: "2026년 11월 주민세".into(),
        amount_krw: 12_500,
        due_date: "2026-12-31".into(),
        payee_account: "국민은행 123-456-789".into(),
        period: "2026-11".into(),
        cancelled: false,
    })?;
    let notification = authority.sign_notification(NotificationDraft {
        id: "notice-1".into(),
        category: NotificationCategory::HealthCheckup,
        title_ko: "건강검진 안내".into(),
        body_ko: "올해 건강검진 대상자입니다.".into(),
        title_en: Some("Health check-up".into()),
        body_en: Some("You are due for a check-up this year.".into()),
        priority: Priority::High,
        expires_at: Some(AUTHORITY_TIME + 30 * 86_400),
        reference: Some("bill-2026-11".into()),
    })?;
    let catalog = authority.sign_benefit_catalog(3)?;
    let pin_reset = authority.sign_pin_reset(vec![0x42; 32], 600)?;
    for (name, signed, target) in [
        ("bill", &bill, "bill"),
        ("notification", &notification, "notification"),
        ("catalog", &catalog, "benefit_catalog"),
        ("pin_reset", &pin_reset, "reverification"),
    ] {
        out.seed("signed_document", name, signed)?;
        out.seed(target, &format!("{name}_payload"), &payload_of(signed)?)?;
    }
    out.seed("cbor", "signed_bill", &bill)?;
    out.seed("cose", "signed_bill", &bill)?;
    for (i, sample) in SAMPLE.iter().enumerate().step_by(5) {
        out.seed(
            "benefit_catalog",
            &format!("rule_{i}.txt"),
            sample.5.as_bytes(),
        )?;
    }
    out.seed(
        "benefit_catalog",
        "rule_arith.txt",
        b"age + 9223372036854775807 >= 65 and not (region in [\"seoul\", \"busan\"]) or income - 3 < -1",
    )?;
    Ok(())
}

/// A consent token and its revocation, made by a wallet, plus a pair signed directly.
fn consent(out: &mut Out, authority: &TestAuthority) -> Res<()> {
    let wallet = Wallet::open_blocking(WalletConfig {
        path: None,
        create_if_missing: true,
        key_protector: passphrase_key_protector_with_cost("fuzz seeds".into(), 10_000)?,
        secure_area: None,
        clock: Some(fixed_clock(AUTHORITY_TIME)),
        listener: None,
        allow_loopback_http: false,
    })?;
    wallet.add_trust_anchor(
        TrustRole::DataRecipient,
        authority.root_certificate(TrustRole::DataRecipient)?,
    )?;
    let record = wallet.create_consent(ConsentRequest {
        recipient_certificate: authority.signer_certificate(TrustRole::DataRecipient)?,
        bundles: vec!["income".into(), "health_insurance".into()],
        purpose: "대출 심사".into(),
        mode: ConsentMode::Periodic {
            schedule: "monthly".into(),
        },
        valid_days: 365,
    })?;
    out.seed("consent", "wallet_consent", &record.token)?;
    out.seed("cose", "wallet_consent", &record.token)?;
    let revocation = wallet.revoke_consent(record.id.clone())?;
    out.seed("consent", "wallet_revocation", &revocation)?;

    let key = SoftwareKey::from_private_scalar(&HOLDER_SCALAR)?;
    let mut sign = |m: &[u8]| -> Result<Vec<u8>, MdocError> { Ok(key.sign(m)?) };
    let one_off = sign_consent(
        &Consent {
            id: "c-one-off".into(),
            recipient: "CN=Example Bank".into(),
            recipient_certificate_sha256: vec![7; 32],
            bundles: vec!["tax_payment".into()],
            purpose: "loan".into(),
            mode: wallet_core::documents::consent::ConsentMode::OneOff,
            issued_at: AUTHORITY_TIME,
            not_after: AUTHORITY_TIME + 86_400,
        },
        key.public_key(),
        &mut sign,
    )?;
    out.seed("consent", "direct_one_off", &one_off)?;
    let revoked = sign_revocation(
        "c-one-off",
        AUTHORITY_TIME + 60,
        key.public_key(),
        &mut sign,
    )?;
    out.seed("consent", "direct_revocation", &revoked)?;
    Ok(())
}

fn texts(out: &mut Out) -> Res<()> {
    for (name, text) in [
        ("rfc3339_z", "2026-11-30T00:00:00Z"),
        (
            "rfc3339_offset_fraction",
            "2026-11-30T09:00:00.123456+09:00",
        ),
        ("rfc3339_lower_t", "1985-04-12t23:20:50.52z"),
        ("rfc3339_leap_second", "1990-12-31T23:59:60Z"),
        ("full_date", "2026-11-30"),
        ("full_date_leap", "2024-02-29"),
        ("extreme", "9999-12-31T23:59:59-23:59"),
    ] {
        out.seed("dates", name, text.as_bytes())?;
    }
    Ok(())
}

/// OpenID4VP requests as a wallet receives them: signed request objects for every response
/// mode, request URIs by value, by reference and unsigned, Digital Credentials API data, and
/// the DCQL query alone.
fn openid4vp_request(out: &mut Out, authority: &TestAuthority) -> Res<()> {
    let target = "openid4vp_request";
    let key = SoftwareKey::from_private_scalar(&authority.signer_key(TrustRole::RelyingParty)?)?;
    let chain = vec![authority.signer_certificate(TrustRole::RelyingParty)?];
    let rp = RelyingPartyKey::new(key, chain, &ClientIdKind::X509Hash)?;
    let dcql_json: serde_json::Value = serde_json::from_str(DCQL_QUERY)?;
    let dcql = DcqlQuery::parse(&dcql_json)?;
    out.seed(target, "dcql.json", dcql_json.to_string().as_bytes())?;
    let mut by_value = String::new();
    for (name, mode, response_uri, origins) in [
        (
            "direct_post",
            ResponseMode::DirectPost,
            Some(RP_RESPONSE_URI),
            vec![],
        ),
        (
            "direct_post_jwt",
            ResponseMode::DirectPostJwt,
            Some(RP_RESPONSE_URI),
            vec![],
        ),
        (
            "dc_api",
            ResponseMode::DcApi,
            None,
            vec![RP_ORIGIN.to_string()],
        ),
        (
            "dc_api_jwt",
            ResponseMode::DcApiJwt,
            None,
            vec![RP_ORIGIN.to_string()],
        ),
    ] {
        let (jwt, _) = create_request(
            &rp,
            RequestSpec {
                dcql: dcql.clone(),
                response_mode: mode,
                response_uri: response_uri.map(str::to_owned),
                transaction_data: if name == "direct_post" {
                    vec![
                        json!({"type": "payment", "credential_ids": ["licence"], "amount": "1000 KRW"}),
                    ]
                } else {
                    vec![]
                },
                expected_origins: origins,
                lifetime: 7_200,
            },
            AUTHORITY_CREATED,
        )?;
        out.seed(
            target,
            &format!("request_object_{name}.jwt"),
            jwt.as_bytes(),
        )?;
        if name == "direct_post_jwt" {
            by_value = jwt.clone();
        }
        if name == "dc_api" {
            let data = json!({ "request": jwt });
            out.seed(
                target,
                "dc_api_signed_data.json",
                data.to_string().as_bytes(),
            )?;
        }
    }
    let uri = format!(
        "openid4vp://?{}",
        form(&[("client_id", &rp.client_id), ("request", &by_value)])
    );
    out.seed(target, "uri_by_value.txt", uri.as_bytes())?;
    let reference = wallet_uri(&rp.client_id, "https://rp.example.invalid/request/1", true);
    out.seed(target, "uri_by_reference.txt", reference.as_bytes())?;
    let unsigned = format!(
        "haip-vp://?{}",
        form(&[
            (
                "client_id",
                "redirect_uri:https://rp.example.invalid/response"
            ),
            ("response_type", "vp_token"),
            ("response_mode", "direct_post"),
            ("response_uri", "https://rp.example.invalid/response"),
            ("nonce", RP_NONCE),
            ("state", RP_STATE),
            ("dcql_query", DCQL_QUERY),
        ])
    );
    out.seed(target, "uri_unsigned_redirect_uri.txt", unsigned.as_bytes())?;
    let dc_api_unsigned = json!({
        "response_type": "vp_token",
        "response_mode": "dc_api",
        "nonce": RP_NONCE,
        "dcql_query": dcql_json,
        "client_metadata": {"vp_formats_supported": {"mso_mdoc": {}, "dc+sd-jwt": {}}}
    });
    out.seed(
        target,
        "dc_api_unsigned_data.json",
        dc_api_unsigned.to_string().as_bytes(),
    )?;
    // A captured ISO/IEC 18013-7 Annex C request (its `data`).
    let annex_c: serde_json::Value =
        serde_json::from_str(&out.text("dc-api/multipaz-request.json")?)?;
    out.seed(
        target,
        "dc_api_annex_c_data.json",
        annex_c["data"].to_string().as_bytes(),
    )?;
    Ok(())
}

/// OpenID4VP responses as a relying party receives them, for the fixed pending requests of
/// the harness: a direct_post form, the same encrypted (direct_post.jwt), a wallet's error,
/// and a Digital Credentials API answer. Each answers [`DCQL_QUERY`] with an mDL and an
/// e-certificate that verify.
fn openid4vp_response(out: &mut Out, authority: &TestAuthority) -> Res<()> {
    let target = "openid4vp_response";
    let holder = SoftwareKey::from_private_scalar(&HOLDER_SCALAR)?;
    let mdl = IssuerSigned::parse(&authority.issue_mdl(
        holder.public_key().to_vec(),
        MdlClaims {
            family_name: "홍".into(),
            given_name: "길동".into(),
            birth_date: "1990-05-05".into(),
            document_number: "11-22-333333-44".into(),
            issuing_authority: "경찰청".into(),
            portrait: vec![0xff, 0xd8, 0xff, 0xd9],
            vehicle_categories: vec!["B".into()],
            valid_days: 365,
            status: None,
        },
    )?)?;
    let issued = SdJwt::parse(&authority.issue_e_certificate(
        "resident-abstract".into(),
        holder.public_key().to_vec(),
        json!({
            "name": "홍길동",
            "resident_registration_number": "900505-1234567",
            "birth_date": "1990-05-05",
            "address": { "region": "서울특별시", "locality": "종로구", "street": "세종대로 209" }
        })
        .to_string(),
        None,
    )?)?;
    let ns = "org.iso.18013.5.1".to_string();
    let asked: Vec<(String, String)> = ["family_name", "given_name"]
        .iter()
        .map(|e| (ns.clone(), e.to_string()))
        .collect();
    let encryption = SoftwareKey::from_private_scalar(&RP_ENCRYPTION_SCALAR)?;
    let encrypted_thumbprint = thumbprint(encryption.public_key())?;
    let vp_token = |handover: Handover, audience: &str| -> Res<serde_json::Value> {
        let transcript = SessionTranscript::new(None, None, &handover);
        let mut sign = |tbs: &[u8]| -> Result<Vec<u8>, MdocError> { Ok(holder.sign(tbs)?) };
        let document = build_document(
            &mdl,
            &asked,
            &asked,
            &transcript,
            DeviceAuthentication::Signature(&mut sign),
        )?;
        let response = DeviceResponse::encode_values(vec![document], &[], 0);
        let inspected = inspect(&issued)?;
        let paths = vec!["/name".to_string(), "/address/locality".to_string()];
        let presentation = select(&issued, &inspected, &paths)?;
        let input = key_binding_input(
            &presentation,
            SdAlg::Sha256,
            audience,
            RP_NONCE,
            AUTHORITY_TIME - 60,
        );
        let kb_jwt = wallet_core::crypto::jose::compact(&input, &holder.sign(input.as_bytes())?);
        let presented = SdJwt {
            kb_jwt: Some(kb_jwt),
            ..presentation
        };
        Ok(json!({
            "licence": [wallet_core::crypto::jose::b64url(&response)],
            "abstract": [presented.to_compact()],
        }))
    };
    let plain = vp_token(
        Handover::OpenId4Vp {
            client_id: RP_CLIENT_ID.into(),
            nonce: RP_NONCE.into(),
            jwk_thumbprint: None,
            response_uri: RP_RESPONSE_URI.into(),
        },
        RP_CLIENT_ID,
    )?;
    out.seed(
        target,
        "direct_post.form",
        form(&[("vp_token", &plain.to_string()), ("state", RP_STATE)]).as_bytes(),
    )?;
    out.seed(
        target,
        "wallet_error.form",
        form(&[
            ("error", "access_denied"),
            ("error_description", "the holder declined"),
            ("state", RP_STATE),
        ])
        .as_bytes(),
    )?;
    let sealed = vp_token(
        Handover::OpenId4Vp {
            client_id: RP_CLIENT_ID.into(),
            nonce: RP_NONCE.into(),
            jwk_thumbprint: Some(encrypted_thumbprint),
            response_uri: RP_RESPONSE_URI.into(),
        },
        RP_CLIENT_ID,
    )?;
    let jwe = jwe::encrypt(
        encryption.public_key(),
        Enc::A128Gcm,
        serde_json::Map::new(),
        json!({ "vp_token": sealed, "state": RP_STATE })
            .to_string()
            .as_bytes(),
    )?;
    out.seed(
        target,
        "direct_post_jwt.form",
        form(&[("response", &jwe)]).as_bytes(),
    )?;
    let dc_api = vp_token(
        Handover::OpenId4VpDcApi {
            origin: RP_ORIGIN.into(),
            nonce: RP_NONCE.into(),
            jwk_thumbprint: None,
        },
        &format!("origin:{RP_ORIGIN}"),
    )?;
    out.seed(
        target,
        "dc_api_data.json",
        json!({ "vp_token": dc_api }).to_string().as_bytes(),
    )?;
    Ok(())
}

/// OpenID4VCI as a wallet receives it: credential offers (JSON, by value and by reference),
/// issuer metadata (JSON and signed), authorization server metadata, and the token, nonce,
/// PAR, credential and error responses, and an authorization redirect.
fn openid4vci(out: &mut Out, authority: &TestAuthority) -> Res<()> {
    let offer = json!({
        "credential_issuer": ISSUER_URL,
        "credential_configuration_ids": ["mdl", "resident-abstract"],
        "grants": {
            "urn:ietf:params:oauth:grant-type:pre-authorized_code": {
                "pre-authorized_code": "pre-authorized-0123456789",
                "tx_code": {"input_mode": "numeric", "length": 6, "description": "PIN"}
            },
            "authorization_code": {"issuer_state": "issuer-state-1"}
        }
    });
    let target = "openid4vci_offer";
    out.seed(target, "offer.json", offer.to_string().as_bytes())?;
    let by_value = format!(
        "openid-credential-offer://?{}",
        form(&[("credential_offer", &offer.to_string())])
    );
    out.seed(target, "offer_by_value.txt", by_value.as_bytes())?;
    let by_reference = format!(
        "openid-credential-offer://?{}",
        form(&[("credential_offer_uri", &format!("{ISSUER_URL}/offers/1"))])
    );
    out.seed(target, "offer_by_reference.txt", by_reference.as_bytes())?;
    let redirect = format!(
        "{WALLET_REDIRECT}?{}",
        form(&[("code", "code-1"), ("state", RP_STATE), ("iss", ISSUER_URL)])
    );
    out.seed(target, "authorization_redirect.txt", redirect.as_bytes())?;

    let target = "openid4vci_messages";
    let metadata = json!({
        "credential_issuer": ISSUER_URL,
        "authorization_servers": [ISSUER_URL],
        "credential_endpoint": format!("{ISSUER_URL}/credential"),
        "nonce_endpoint": format!("{ISSUER_URL}/nonce"),
        "deferred_credential_endpoint": format!("{ISSUER_URL}/deferred"),
        "notification_endpoint": format!("{ISSUER_URL}/notification"),
        "batch_credential_issuance": {"batch_size": 2},
        "display": [{"name": "시험 발급기관", "locale": "ko"}, {"name": "Test issuer", "locale": "en"}],
        "credential_configurations_supported": {
            "mdl": {
                "format": "mso_mdoc",
                "doctype": "org.iso.18013.5.1.mDL",
                "scope": "mdl",
                "cryptographic_binding_methods_supported": ["cose_key"],
                "credential_signing_alg_values_supported": [-7],
                "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}},
                "credential_metadata": {"display": [{"name": "운전면허증", "locale": "ko"}]}
            },
            "resident-abstract": {
                "format": "dc+sd-jwt",
                "vct": "urn:jigap:cert:resident-registration-abstract:1",
                "cryptographic_binding_methods_supported": ["jwk"],
                "proof_types_supported": {"jwt": {
                    "proof_signing_alg_values_supported": ["ES256"],
                    "key_attestations_required": {}
                }}
            }
        }
    });
    out.seed(
        target,
        "issuer_metadata.json",
        metadata.to_string().as_bytes(),
    )?;
    let signed = authority.sign_issuer_metadata(metadata.to_string())?;
    out.seed(target, "issuer_metadata.jwt", signed.as_bytes())?;
    let as_metadata = json!({
        "issuer": ISSUER_URL,
        "authorization_endpoint": format!("{ISSUER_URL}/authorize"),
        "token_endpoint": format!("{ISSUER_URL}/token"),
        "pushed_authorization_request_endpoint": format!("{ISSUER_URL}/par"),
        "require_pushed_authorization_requests": true,
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "urn:ietf:params:oauth:grant-type:pre-authorized_code"],
        "authorization_response_iss_parameter_supported": true
    });
    out.seed(
        target,
        "as_metadata.json",
        as_metadata.to_string().as_bytes(),
    )?;
    for (name, body) in [
        (
            "token",
            json!({
                "access_token": "access-0123456789",
                "token_type": "Bearer",
                "expires_in": 300,
                "authorization_details": [{
                    "type": "openid_credential",
                    "credential_configuration_id": "mdl",
                    "credential_identifiers": ["mdl-1", "mdl-2"]
                }]
            }),
        ),
        ("nonce", json!({"c_nonce": "c-nonce-0123456789"})),
        (
            "par",
            json!({"request_uri": "urn:ietf:params:oauth:request_uri:par-1", "expires_in": 60}),
        ),
        (
            "credential",
            json!({
                "credentials": [{"credential": "o2d2ZXJzaW9uYzEuMA"}, {"credential": "eyJhbGciOiJFUzI1NiJ9.e30.c2ln~"}],
                "notification_id": "notification-1"
            }),
        ),
        (
            "deferred",
            json!({"transaction_id": "transaction-1", "interval": 5}),
        ),
        (
            "error",
            json!({"error": "invalid_proof", "error_description": "the proof is stale"}),
        ),
    ] {
        out.seed(
            target,
            &format!("{name}_response.json"),
            body.to_string().as_bytes(),
        )?;
    }
    Ok(())
}
