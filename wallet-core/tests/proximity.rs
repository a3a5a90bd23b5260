//! In person over NFC and BLE, sans-I/O: the ISO/IEC 18013-5 Annex D NFC handover rebuilt byte
//! for byte, and whole sessions (engagement, request, a 100 KB portrait back, verification)
//! carried over simulated NFC and BLE links between the holder and the reader in the core.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use wallet_core::cose::cbor::{self, Value};
use wallet_core::crypto::ec::SoftwareKey;
use wallet_core::issuer::certificates::{create_authority, Authority};
use wallet_core::issuer::mdoc::{issue, mdl_claims, MdlFacts, MDL_DOCTYPE, MDL_NAMESPACE};
use wallet_core::mdoc::ble::{self, BleLink, StateChange};
use wallet_core::mdoc::engagement::{DeviceEngagement, RetrievalMethod};
use wallet_core::mdoc::holder::{build_document, DeviceAuthentication, Incoming, Presentment};
use wallet_core::mdoc::issuer_signed::{IssuerSigned, ValidityInfo};
use wallet_core::mdoc::ndef::{self, BleOob, HandoverMessage, LeRole, NfcCarrier};
use wallet_core::mdoc::nfc::{HolderStep, NfcHolder, ReaderStep, TagReader, TransferReader};
use wallet_core::mdoc::reader::ReaderSession;
use wallet_core::mdoc::request::ItemsRequest;
use wallet_core::mdoc::response::{DeviceResponse, STATUS_OK};
use wallet_core::mdoc::session::{Handover, SessionTranscript};
use wallet_core::mdoc::MdocError;
use wallet_core::time;
use wallet_core::trust::x509::{ParsedCertificate, TrustRole};
use wallet_core::verifier::mdoc::{verify_document, VerificationContext};

fn vector(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/data/iso18013-5-annexD/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    (0..text.trim().len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text.trim()[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn annex_d_nfc_handover_is_rebuilt_byte_for_byte() {
    let transcript_bytes = vector("session_transcript_bytes");
    let transcript = SessionTranscript::from_tagged_bytes(&transcript_bytes).unwrap();
    let items = cbor::array(transcript.value(), "transcript").unwrap();
    let handover = cbor::array(&items[2], "handover").unwrap();
    let select = cbor::bytes(&handover[0], "Hs").unwrap();
    let request = cbor::bytes(&handover[1], "Hr").unwrap();

    // The Handover Select: one active BLE carrier whose auxiliary data is the engagement.
    let read = HandoverMessage::parse_select(select).unwrap();
    assert_eq!(read.version, ndef::HANDOVER_VERSION);
    assert_eq!(read.carriers.len(), 1);
    assert_eq!(read.carriers[0].power_state, 1);
    assert_eq!(
        read.carriers[0].auxiliary_data_references,
        vec![b"mdoc".to_vec()]
    );
    let ble = read.ble().unwrap();
    assert_eq!(ble.role(), Some(LeRole::CentralOnly));
    assert_eq!(
        ble.address(),
        Some([0x28, 0x12, 0x8b, 0x37, 0x28, 0x28, 0x01])
    );
    let engagement_bytes = read.device_engagement().unwrap();
    let engagement = DeviceEngagement::parse(engagement_bytes).unwrap();
    assert!(engagement.retrieval_methods.is_empty());
    assert_eq!(
        engagement.e_device_key_bytes,
        DeviceEngagement::parse(&vector("device_engagement"))
            .unwrap()
            .e_device_key_bytes
    );
    // Built from its parts, the mdoc's Handover Select is the published one, byte for byte.
    let built = ndef::handover_select(
        engagement_bytes,
        Some(&BleOob::new(
            LeRole::CentralOnly,
            None,
            Some([0x28, 0x12, 0x8b, 0x37, 0x28, 0x28, 0x01]),
        )),
        None,
    )
    .unwrap();
    assert_eq!(built, select);
    assert_eq!(read.encode_select().unwrap(), select);

    // The reader's Handover Request: collision resolution, three carriers (BLE, NFC, Wi-Fi
    // Aware), re-encoded exactly.
    let hr = HandoverMessage::parse_request(request).unwrap();
    assert_eq!(hr.collision_resolution, Some(0x0102));
    assert_eq!(hr.carriers.len(), 3);
    assert!(hr.offers_nfc());
    // The reader's NFC carrier record is the version alone.
    assert_eq!(
        hr.nfc().unwrap(),
        Some(NfcCarrier {
            max_command: None,
            max_response: None
        })
    );
    let reader_ble = hr.ble().unwrap();
    assert_eq!(reader_ble.role(), Some(LeRole::PeripheralPreferred));
    // UUIDs are little-endian on air (c8 32 … 82 3a), big-endian here.
    assert_eq!(
        reader_ble.uuid().unwrap(),
        [
            0x3a, 0x82, 0xd4, 0x55, 0xd5, 0xfc, 0x4d, 0xb3, 0xbe, 0xa0, 0x6f, 0xd2, 0xf6, 0xff,
            0x32, 0xc8
        ]
    );
    assert_eq!(hr.encode_request().unwrap(), request);

    // The transcript made from these bytes is the published one.
    let e_reader_key = cbor::untag_bytes(&items[1], "EReaderKeyBytes").unwrap();
    let rebuilt = SessionTranscript::new(
        Some(engagement_bytes),
        Some(e_reader_key),
        &Handover::Nfc {
            select: built,
            request: Some(request.to_vec()),
        },
    );
    assert_eq!(rebuilt.tagged_bytes(), transcript_bytes.as_slice());
}

#[test]
fn ble_ident_is_the_standards_hkdf() {
    // HKDF-SHA-256(EDeviceKeyBytes of Annex D, salt empty, info "BLEIdent", 16 bytes),
    // computed independently of the core.
    let key = vector("e_device_key_bytes");
    assert_eq!(
        ble::ident(&key).unwrap().to_vec(),
        [
            0x8d, 0xa0, 0xb7, 0xa8, 0x59, 0x19, 0xf0, 0x56, 0x73, 0x05, 0x4e, 0xa9, 0x96, 0xbb,
            0xd1, 0x24
        ]
    );
}

const NOW: i64 = 1_800_000_000;

struct World {
    authority: Authority,
    device: SoftwareKey,
    mdl: Vec<u8>,
    portrait: Vec<u8>,
}

fn world() -> World {
    let authority = create_authority("Jigap Test", "KR", NOW).unwrap();
    let device = SoftwareKey::generate().unwrap();
    let day = NOW / 86_400;
    // A 100 KB portrait: what makes large documents hard over BLE and NFC.
    let mut portrait = vec![0xff, 0xd8];
    portrait.extend((0..100 * 1024).map(|i| (i * 7 % 253) as u8));
    portrait.extend([0xff, 0xd9]);
    let facts = MdlFacts {
        family_name: "Hong".into(),
        given_name: "Gildong".into(),
        birth_date: time::parse_full_date("1990-05-05").unwrap(),
        issue_date: day - 10,
        expiry_date: day + 3650,
        issuing_country: "KR".into(),
        issuing_authority: "Korean National Police Agency".into(),
        document_number: "11-23-456789-01".into(),
        portrait: portrait.clone(),
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
        portrait,
    }
}

fn request() -> ItemsRequest {
    ItemsRequest {
        doc_type: MDL_DOCTYPE.into(),
        namespaces: vec![(
            MDL_NAMESPACE.into(),
            vec![("family_name".into(), false), ("portrait".into(), false)],
        )],
        request_info: None,
    }
}

/// The holder's answer to a reader message: the DeviceResponse with what was asked, sealed.
fn answer(w: &World, holder: &mut Presentment, message: &[u8]) -> Vec<u8> {
    let Incoming::Request(device_request) = holder.receive(message).unwrap() else {
        panic!("expected a request")
    };
    let asked: Vec<(String, String)> = device_request.doc_requests[0].items_request.namespaces[0]
        .1
        .iter()
        .map(|(e, _)| (MDL_NAMESPACE.to_string(), e.clone()))
        .collect();
    let stored = IssuerSigned::parse(&w.mdl).unwrap();
    let transcript = holder.transcript().unwrap().clone();
    let mut sign = |tbs: &[u8]| -> Result<Vec<u8>, MdocError> { Ok(w.device.sign(tbs)?) };
    let document = build_document(
        &stored,
        &asked,
        &asked,
        &transcript,
        DeviceAuthentication::Signature(&mut sign),
    )
    .unwrap();
    holder
        .respond(&DeviceResponse::encode_values(
            vec![document],
            &[],
            STATUS_OK,
        ))
        .unwrap()
}

/// The reader verifies what came back, over this session's transcript, portrait included.
fn verify(w: &World, reader: &mut ReaderSession, message: &[u8]) {
    let (_, response) = reader.receive(message).unwrap().unwrap();
    let iaca =
        [
            ParsedCertificate::from_der(
                w.authority.root_certificate(TrustRole::MdocIssuer).unwrap(),
            )
            .unwrap(),
        ];
    let ctx = VerificationContext {
        iaca: &iaca,
        at: NOW,
        transcript: reader.transcript(),
        e_reader_key: Some(reader.ephemeral_key()),
    };
    let verified = verify_document(&response.documents[0], &ctx).unwrap();
    let portrait = verified
        .elements
        .iter()
        .find(|e| e.identifier == "portrait")
        .unwrap();
    assert_eq!(portrait.value, Value::Bytes(w.portrait.clone()));
}

/// Reader ↔ holder over NFC: the Type 4 Tag read for engagement, then ENVELOPE / GET
/// RESPONSE for the request and the 100 KB answer, then the reader ends the session.
fn nfc_session(extended: bool, negotiated: bool) -> (usize, usize) {
    let w = world();
    let mut holder = Presentment::new(vec![]).unwrap();
    let (max_command, max_response) = if extended {
        (65_535, 65_536)
    } else {
        (255, 256)
    };
    let ble = BleOob::new(LeRole::PeripheralOnly, Some([7; 16]), None);
    let mut tag = if negotiated {
        NfcHolder::negotiated(
            holder.engagement().bytes.clone(),
            Some(ble),
            max_command,
            max_response,
        )
        .unwrap()
    } else {
        let select = ndef::handover_select(&holder.engagement().bytes, None, None).unwrap();
        holder
            .set_handover(Handover::Nfc {
                select: select.clone(),
                request: None,
            })
            .unwrap();
        NfcHolder::new(select, max_command, max_response).unwrap()
    };
    let mut apdus = 0;
    let mut exchange = |tag: &mut NfcHolder, command: &[u8]| -> HolderStep {
        apdus += 1;
        tag.process(command)
    };

    // Engagement: the reader reads the Handover Select off the tag, or negotiates it with
    // its Handover Request (BLE and NFC offered).
    let hr = ndef::handover_request(
        0x1234,
        Some(&BleOob::new(LeRole::CentralOnly, Some([7; 16]), None)),
        true,
    )
    .unwrap();
    let (mut tag_reader, mut command) = if negotiated {
        TagReader::start_negotiated(extended, hr.clone()).unwrap()
    } else {
        TagReader::start(extended).unwrap()
    };
    let ndef_message = loop {
        let HolderStep::Respond(response) = exchange(&mut tag, &command) else {
            panic!("the tag answers engagement commands itself")
        };
        match tag_reader.on_response(&response).unwrap() {
            ReaderStep::Send(next) => command = next,
            ReaderStep::Done(message) => break message,
        }
    };
    let hs = HandoverMessage::parse_select(&ndef_message).unwrap();
    let handover = if negotiated {
        assert_eq!(tag_reader.negotiated_request(), Some(hr.as_slice()));
        let (select, got) = tag.take_handover().unwrap();
        assert_eq!((&select, &got), (&ndef_message, &hr));
        assert_eq!(
            hs.ble().unwrap().uuid(),
            Some([7; 16]),
            "BLE, offered by both"
        );
        let handover = Handover::Nfc {
            select,
            request: Some(got),
        };
        holder.set_handover(handover.clone()).unwrap();
        handover
    } else {
        assert_eq!(tag_reader.negotiated_request(), None);
        Handover::Nfc {
            select: ndef_message.clone(),
            request: None,
        }
    };
    let engagement = DeviceEngagement::parse(hs.device_engagement().unwrap()).unwrap();
    let mut reader = ReaderSession::with_handover(engagement, &handover).unwrap();

    // Data transfer.
    let (mut transfer, select_app) = TransferReader::start(extended, max_command).unwrap();
    let HolderStep::Respond(selected) = exchange(&mut tag, &select_app) else {
        panic!()
    };
    transfer.on_selected(&selected).unwrap();
    let establishment = reader.request(vec![request()], None).unwrap();
    let mut command = transfer.send(&establishment).unwrap();
    // A reader that keeps its session across processes keeps the NFC handover with it.
    let mut reader = ReaderSession::resume(&reader.save_state()).unwrap();
    let mut envelopes = 0;
    let answer_bytes = loop {
        envelopes += 1;
        let response = match exchange(&mut tag, &command) {
            HolderStep::Respond(response) => response,
            HolderStep::Message(message) => {
                assert_eq!(message, establishment);
                let reply = answer(&w, &mut holder, &message);
                tag.reply(&reply).unwrap()
            }
        };
        match transfer.on_response(&response).unwrap() {
            ReaderStep::Send(next) => command = next,
            ReaderStep::Done(message) => break message,
        }
    };
    verify(&w, &mut reader, &answer_bytes);
    assert_eq!(reader.transcript(), holder.transcript().unwrap());

    // The reader ends the session; the holder acknowledges.
    let end = reader.terminate();
    let command = transfer.send(&end).unwrap();
    let HolderStep::Message(message) = exchange(&mut tag, &command) else {
        panic!("the end of the session reaches the holder")
    };
    assert_eq!(holder.receive(&message).unwrap(), Incoming::Terminated);
    let ack = tag.acknowledge().unwrap();
    assert_eq!(
        transfer.on_response(&ack).unwrap(),
        ReaderStep::Done(vec![])
    );
    (apdus, envelopes)
}

#[test]
fn negotiated_handover_over_tnep_then_the_transfer() {
    for extended in [false, true] {
        nfc_session(extended, true);
    }
    // A reader without a Handover Request cannot use a tag that only negotiates.
    let holder = Presentment::new(vec![]).unwrap();
    let mut tag = NfcHolder::negotiated(holder.engagement().bytes.clone(), None, 255, 256).unwrap();
    let (mut tag_reader, mut command) = TagReader::start(false).unwrap();
    let error = loop {
        let HolderStep::Respond(response) = tag.process(&command) else {
            panic!()
        };
        match tag_reader.on_response(&response) {
            Ok(ReaderStep::Send(next)) => command = next,
            Ok(ReaderStep::Done(_)) => panic!("read a Handover Select that is not there"),
            Err(e) => break e,
        }
    };
    assert!(matches!(error, MdocError::Unsupported(_)), "{error}");
    // A static tag refuses writes.
    let mut tag = NfcHolder::new(vec![0xd0, 0, 0], 255, 256).unwrap();
    tag.process(&[0, 0xa4, 4, 0x0c, 7, 0xd2, 0x76, 0, 0, 0x85, 1, 1]);
    tag.process(&[0, 0xa4, 0, 0x0c, 2, 0xe1, 0x04]);
    assert_eq!(
        tag.process(&[0, 0xd6, 0, 0, 2, 0, 1]),
        HolderStep::Respond(vec![0x69, 0x86])
    );
}

#[test]
fn a_session_over_nfc_with_short_and_extended_apdus() {
    let (short_apdus, short_transfer) = nfc_session(false, false);
    let (extended_apdus, extended_transfer) = nfc_session(true, false);
    // 100 KB in 256-byte responses takes hundreds of GET RESPONSE; extended length a few.
    assert!(short_transfer > 400, "{short_transfer}");
    assert!(extended_transfer < 10, "{extended_transfer}");
    assert!(extended_apdus < short_apdus);
}

/// Reader ↔ holder over BLE at `mtu`: the reader starts, sends the request in writes; the
/// holder answers in notifications. Returns the number of notifications.
fn ble_session(mtu: usize) -> usize {
    let w = world();
    let uuid = [
        0x45, 0xef, 0xef, 0x74, 0x2b, 0x2c, 0x48, 0x37, 0xa9, 0xa3, 0xb0, 0xe1, 0xd0, 0x5a, 0x69,
        0x17,
    ];
    let mut holder = Presentment::new(vec![RetrievalMethod::Ble {
        peripheral_server_mode: true,
        central_client_mode: false,
        peripheral_server_uuid: Some(uuid.to_vec()),
        central_client_uuid: None,
    }])
    .unwrap();
    let mut reader = ReaderSession::from_qr(&holder.engagement().qr_uri()).unwrap();
    // The reader checks it reached this mdoc (peripheral server mode).
    let ident = ble::ident(&holder.engagement().e_device_key_bytes).unwrap();
    ble::check_ident(&reader.engagement.e_device_key_bytes, &ident).unwrap();

    let mut reader_link = BleLink::new(mtu).unwrap();
    let mut holder_link = BleLink::new(mtu).unwrap();
    let start = reader_link.start().unwrap();
    assert_eq!(holder_link.on_state(&start).unwrap(), StateChange::Started);

    let establishment = reader.request(vec![request()], None).unwrap();
    let mut received = None;
    for write in reader_link.outgoing(&establishment).unwrap() {
        assert!(write.len() <= mtu - 3);
        received = holder_link.on_data(&write).unwrap().or(received);
    }
    let reply = answer(&w, &mut holder, &received.unwrap());
    let notifications = holder_link.outgoing(&reply).unwrap();
    let count = notifications.len();
    let mut received = None;
    for notification in notifications {
        received = reader_link.on_data(&notification).unwrap().or(received);
    }
    verify(&w, &mut reader, &received.unwrap());

    let end = reader_link.end();
    assert_eq!(holder_link.on_state(&end).unwrap(), StateChange::Ended);
    assert!(holder_link.on_data(&[0, 1]).is_err());
    count
}

#[test]
fn a_100_kb_portrait_over_ble_at_mtu_23_and_512() {
    let small = ble_session(23);
    let large = ble_session(512);
    assert!(small > 5_000, "{small} notifications of 19 bytes");
    assert!(large < 250, "{large} notifications of 508 bytes");
}

#[test]
fn random_mtus_and_a_lost_last_chunk() {
    let w = world();
    let mut holder = Presentment::new(vec![]).unwrap();
    let mut reader = ReaderSession::from_qr(&holder.engagement().qr_uri()).unwrap();
    let establishment = reader.request(vec![request()], None).unwrap();
    let reply = {
        let mut link_in = BleLink::new(23).unwrap();
        link_in.start().unwrap();
        answer(&w, &mut holder, &establishment)
    };
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..24 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mtu = 23 + (seed % 495) as usize;
        let mut sender = BleLink::new(mtu).unwrap();
        let mut receiver = BleLink::new(mtu).unwrap();
        sender.start().unwrap();
        receiver.on_state(&[ble::STATE_START]).unwrap();
        let writes = sender.outgoing(&reply).unwrap();
        // Everything but the last part arrives; the session then ends: the loss is reported,
        // and nothing half-received is handed on.
        for write in &writes[..writes.len() - 1] {
            assert_eq!(receiver.on_data(write).unwrap(), None, "mtu {mtu}");
        }
        assert!(receiver.on_state(&[ble::STATE_END]).is_err(), "mtu {mtu}");
        // The same writes in full, at the same MTU, arrive whole.
        let mut receiver = BleLink::new(mtu).unwrap();
        receiver.on_state(&[ble::STATE_START]).unwrap();
        let mut whole = None;
        for write in &writes {
            whole = receiver.on_data(write).unwrap().or(whole);
        }
        assert_eq!(whole.unwrap(), reply, "mtu {mtu}");
        // A write sized for a larger MTU than this link's is refused.
        let mut narrow = BleLink::new(23).unwrap();
        narrow.start().unwrap();
        if mtu > 23 {
            assert!(narrow.on_data(&writes[0]).is_err(), "mtu {mtu}");
        }
    }
    verify(&w, &mut reader, &reply);
}
