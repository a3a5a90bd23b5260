//! A simulated NFC or BLE link between two `jigap` processes: a Unix socket standing in for
//! the radio. The holder's process plays the phone's card emulation service or GATT server,
//! the reader's process the terminal; each moves bytes exactly as a host app would (APDUs,
//! or State, Ident and data characteristic values) and leaves every protocol step to the
//! core. Each frame is one byte naming what it carries, a 4-byte big-endian length, and the
//! bytes.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use clap::ValueEnum;
use wallet_core::{
    ble_ident, check_ble_ident, BleStateChange, BleTransport, DocumentRequest, MdocReader,
    MdocReaderSession, NfcEngagementReader, NfcHolderStep, NfcReaderStep, NfcTransferReader,
    PresentationEvent, PresentationSession, ReaderEvent, VerificationReport,
};

use crate::context::{CliError, Result};

/// Which radio the link simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LinkKind {
    /// NFC: engagement by tap (Type 4 Tag) and the transfer in APDUs.
    Nfc,
    /// BLE: engagement by QR code, the transfer in characteristic writes and notifications
    /// (mdoc peripheral server mode).
    Ble,
}

const APDU_COMMAND: u8 = 0x01;
const APDU_RESPONSE: u8 = 0x02;
const QR_CODE: u8 = 0x10;
const BLE_STATE: u8 = 0x11;
const BLE_CLIENT2SERVER: u8 = 0x12;
const BLE_SERVER2CLIENT: u8 = 0x13;
const BLE_IDENT: u8 = 0x14;
/// The largest frame either side accepts.
const MAX_FRAME: usize = 2 * 1024 * 1024;

/// One end of the simulated radio.
pub struct Link {
    stream: UnixStream,
    /// Frames sent.
    pub sent: usize,
}

impl Link {
    /// The holder's end: waits (up to `timeout`) for the reader to connect at `socket`.
    pub fn listen(socket: &Path, timeout: Duration) -> Result<Self> {
        let _ = std::fs::remove_file(socket);
        let listener = UnixListener::bind(socket)
            .map_err(|e| CliError::from(format!("{}: {e}", socket.display())))?;
        listener.set_nonblocking(true)?;
        let deadline = Instant::now() + timeout;
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() > deadline {
                        return Err(CliError::from(
                            "no reader came within the timeout".to_string(),
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e.into()),
            }
        };
        let _ = std::fs::remove_file(socket);
        Self::with(stream, timeout)
    }

    /// The reader's end: connects to `socket`, retrying until the holder listens.
    pub fn connect(socket: &Path, timeout: Duration) -> Result<Self> {
        let deadline = Instant::now() + timeout;
        let stream = loop {
            match UnixStream::connect(socket) {
                Ok(stream) => break stream,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(e) => {
                    return Err(CliError::from(format!(
                        "no holder at {}: {e}",
                        socket.display()
                    )))
                }
            }
        };
        Self::with(stream, timeout)
    }

    fn with(stream: UnixStream, timeout: Duration) -> Result<Self> {
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(Self { stream, sent: 0 })
    }

    /// Sends one frame.
    pub fn send(&mut self, kind: u8, bytes: &[u8]) -> Result<()> {
        let len = u32::try_from(bytes.len())
            .ok()
            .filter(|l| *l as usize <= MAX_FRAME)
            .ok_or_else(|| CliError::from("frame too large".to_string()))?;
        let mut frame = Vec::with_capacity(bytes.len() + 5);
        frame.push(kind);
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(bytes);
        self.stream.write_all(&frame)?;
        self.sent += 1;
        Ok(())
    }

    /// Receives one frame; `None` when the other side closed the link.
    pub fn receive(&mut self) -> Result<Option<(u8, Vec<u8>)>> {
        let mut header = [0u8; 5];
        match self.stream.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(CliError::from(format!("the link failed: {e}"))),
        }
        let [kind, a, b, c, d] = header;
        let len = u32::from_be_bytes([a, b, c, d]) as usize;
        if len > MAX_FRAME {
            return Err(CliError::from("frame too large".to_string()));
        }
        let mut bytes = vec![0u8; len];
        self.stream.read_exact(&mut bytes)?;
        Ok(Some((kind, bytes)))
    }

    /// Receives one frame of `kind`.
    pub fn expect(&mut self, kind: u8) -> Result<Vec<u8>> {
        match self.receive()? {
            Some((k, bytes)) if k == kind => Ok(bytes),
            Some((k, _)) => Err(CliError::from(format!(
                "unexpected frame {k:#04x} on the link (expected {kind:#04x})"
            ))),
            None => Err(CliError::from("the other side closed the link".to_string())),
        }
    }
}

/// How the holder answers a request: the approvals to release, after showing the request.
pub type Decide<'a> = dyn FnMut(&PresentationEvent) -> Result<Vec<u8>> + 'a;

/// The holder over a simulated link: serves the engagement, answers each request with
/// `decide`, and returns how many requests were answered.
pub fn holder(
    kind: LinkKind,
    session: &Arc<PresentationSession>,
    socket: &Path,
    timeout: Duration,
    mtu: u32,
    negotiated: bool,
    decide: &mut Decide<'_>,
) -> Result<usize> {
    match kind {
        LinkKind::Nfc => holder_nfc(session, socket, timeout, negotiated, decide),
        LinkKind::Ble => holder_ble(session, socket, timeout, mtu, decide),
    }
}

fn holder_nfc(
    session: &Arc<PresentationSession>,
    socket: &Path,
    timeout: Duration,
    negotiated: bool,
    decide: &mut Decide<'_>,
) -> Result<usize> {
    // The tag takes and sends extended-length APDUs; the reader chooses what it uses.
    let nfc = if negotiated {
        session
            .clone()
            .start_nfc_negotiated_engagement(65_535, 65_536, None)?
    } else {
        session.start_nfc_engagement(65_535, 65_536, None)?
    };
    eprintln!(
        "waiting for a reader's tap on {} (simulated NFC)",
        socket.display()
    );
    let mut link = Link::listen(socket, timeout)?;
    let mut answered = 0;
    while let Some((kind, apdu)) = link.receive()? {
        if kind != APDU_COMMAND {
            return Err(CliError::from(format!(
                "unexpected frame {kind:#04x} on NFC"
            )));
        }
        let response = match nfc.process_apdu(apdu)? {
            NfcHolderStep::Respond { apdu } => apdu,
            NfcHolderStep::Message { message } => {
                let event = match session.receive(message) {
                    Ok(event) => event,
                    Err(e) => {
                        // The reader gets the session's error status before the link closes.
                        if let Some(status) = session.failure_message()? {
                            link.send(APDU_RESPONSE, &nfc.reply(status)?)?;
                        }
                        return Err(e.into());
                    }
                };
                if event == PresentationEvent::Terminated {
                    link.send(APDU_RESPONSE, &nfc.acknowledge()?)?;
                    eprintln!("the reader ended the session");
                    break;
                }
                answered += 1;
                nfc.reply(decide(&event)?)?
            }
        };
        link.send(APDU_RESPONSE, &response)?;
    }
    eprintln!("{} APDU responses sent", link.sent);
    Ok(answered)
}

fn holder_ble(
    session: &Arc<PresentationSession>,
    socket: &Path,
    timeout: Duration,
    mtu: u32,
    decide: &mut Decide<'_>,
) -> Result<usize> {
    let engagement = session.engagement()?;
    let transport = BleTransport::new(mtu)?;
    eprintln!(
        "advertising on {} (simulated BLE, MTU {mtu}); the reader scans the QR code",
        socket.display()
    );
    let mut link = Link::listen(socket, timeout)?;
    // The reader "scans" the QR code: the engagement travels on the link, as light would.
    link.send(QR_CODE, engagement.qr_uri.as_bytes())?;
    let mut answered = 0;
    let mut terminated = false;
    // Until the reader writes the end to the State characteristic (or goes away).
    while let Some((kind, value)) = link.receive()? {
        match kind {
            BLE_IDENT => link.send(BLE_IDENT, &ble_ident(engagement.device_engagement.clone())?)?,
            BLE_STATE => {
                if transport.on_state(value)? == BleStateChange::Ended {
                    if !terminated {
                        eprintln!("the reader ended the session");
                    }
                    break;
                }
            }
            BLE_CLIENT2SERVER => {
                let Some(message) = transport.on_data(value)? else {
                    continue;
                };
                let event = match session.receive(message) {
                    Ok(event) => event,
                    Err(e) => {
                        if let Some(status) = session.failure_message()? {
                            for notification in transport.outgoing(status)? {
                                link.send(BLE_SERVER2CLIENT, &notification)?;
                            }
                        }
                        return Err(e.into());
                    }
                };
                if event == PresentationEvent::Terminated {
                    eprintln!("the reader ended the session");
                    terminated = true;
                    continue;
                }
                answered += 1;
                for notification in transport.outgoing(decide(&event)?)? {
                    link.send(BLE_SERVER2CLIENT, &notification)?;
                }
            }
            other => {
                return Err(CliError::from(format!(
                    "unexpected frame {other:#04x} on BLE"
                )))
            }
        }
    }
    eprintln!("{} characteristic values sent", link.sent);
    Ok(answered)
}

/// The reader over a simulated link: engages, sends the request, verifies the answer, ends
/// the session. Returns the verification report.
pub fn reader(
    kind: LinkKind,
    reader: &MdocReader,
    requests: Vec<DocumentRequest>,
    socket: &Path,
    timeout: Duration,
    extended: bool,
    mtu: u32,
) -> Result<VerificationReport> {
    let mut link = Link::connect(socket, timeout)?;
    let report = match kind {
        LinkKind::Nfc => reader_nfc(&mut link, reader, requests, extended)?,
        LinkKind::Ble => reader_ble(&mut link, reader, requests, mtu)?,
    };
    Ok(report)
}

fn exchange(link: &mut Link, apdu: &[u8]) -> Result<Vec<u8>> {
    link.send(APDU_COMMAND, apdu)?;
    link.expect(APDU_RESPONSE)
}

fn report_of(event: ReaderEvent) -> Result<VerificationReport> {
    match event {
        ReaderEvent::Response { report } => Ok(report),
        ReaderEvent::Terminated => Err(CliError::from("the holder ended the session".to_string())),
    }
}

fn reader_nfc(
    link: &mut Link,
    reader: &MdocReader,
    requests: Vec<DocumentRequest>,
    extended: bool,
) -> Result<VerificationReport> {
    // Negotiates the handover when the tag offers it; reads a static one as it is.
    let tag = NfcEngagementReader::negotiating(extended, None)?;
    let mut command = tag.first_command();
    let select = loop {
        match tag.on_response(exchange(link, &command)?)? {
            NfcReaderStep::Send { apdu } => command = apdu,
            NfcReaderStep::Done { message } => break message,
        }
    };
    let handover = tag.handover(select)?;
    eprintln!(
        "tapped: {} handover, Handover Select of {} bytes",
        if handover.request.is_some() {
            "negotiated"
        } else {
            "static"
        },
        handover.select.len()
    );
    let session = reader.start_nfc_handover_session(handover, requests)?;
    let transfer = NfcTransferReader::new(extended, if extended { 65_535 } else { 255 })?;
    transfer.on_selected(exchange(link, &transfer.select_command())?)?;
    let answer = send_over_nfc(link, &transfer, session.request_message())?;
    eprintln!("answer of {} bytes after {} APDUs", answer.len(), link.sent);
    let report = report_of(session.receive(answer)?)?;
    end_nfc(link, &transfer, &session)?;
    Ok(report)
}

fn send_over_nfc(
    link: &mut Link,
    transfer: &NfcTransferReader,
    message: Vec<u8>,
) -> Result<Vec<u8>> {
    let mut command = transfer.send(message)?;
    loop {
        match transfer.on_response(exchange(link, &command)?)? {
            NfcReaderStep::Send { apdu } => command = apdu,
            NfcReaderStep::Done { message } => return Ok(message),
        }
    }
}

fn end_nfc(
    link: &mut Link,
    transfer: &NfcTransferReader,
    session: &MdocReaderSession,
) -> Result<()> {
    let ack = send_over_nfc(link, transfer, session.terminate()?)?;
    if !ack.is_empty() {
        return Err(CliError::from(
            "the holder answered the end of the session".to_string(),
        ));
    }
    Ok(())
}

fn reader_ble(
    link: &mut Link,
    reader: &MdocReader,
    requests: Vec<DocumentRequest>,
    mtu: u32,
) -> Result<VerificationReport> {
    let qr = String::from_utf8(link.expect(QR_CODE)?)
        .map_err(|_| CliError::from("the QR code is not text".to_string()))?;
    let engagement = qr
        .strip_prefix("mdoc:")
        .and_then(|b64| URL_SAFE_NO_PAD.decode(b64).ok())
        .ok_or_else(|| CliError::from("not an mdoc: QR code".to_string()))?;
    let session = reader.start_session(qr, requests)?;
    // Reached the right phone? The Ident characteristic says.
    link.send(BLE_IDENT, &[])?;
    check_ble_ident(engagement, link.expect(BLE_IDENT)?)?;
    let transport = BleTransport::new(mtu)?;
    link.send(BLE_STATE, &transport.start()?)?;
    let writes = transport.outgoing(session.request_message())?;
    let count = writes.len();
    for write in writes {
        link.send(BLE_CLIENT2SERVER, &write)?;
    }
    let mut notifications = 0;
    let answer = loop {
        let value = link.expect(BLE_SERVER2CLIENT)?;
        notifications += 1;
        if let Some(message) = transport.on_data(value)? {
            break message;
        }
    };
    eprintln!(
        "request in {count} writes, answer of {} bytes in {notifications} notifications (MTU {mtu})",
        answer.len()
    );
    let report = report_of(session.receive(answer)?)?;
    for write in transport.outgoing(session.terminate()?)? {
        link.send(BLE_CLIENT2SERVER, &write)?;
    }
    link.send(BLE_STATE, &transport.end()?)?;
    Ok(report)
}
