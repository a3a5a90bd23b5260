//! NFC for ISO/IEC 18013-5, sans-I/O: the holder as an NFC Forum Type 4 Tag that serves its
//! Handover Select (engagement, 8.2.2.1), then the mdoc data transfer application (8.3.3.1.2):
//! ENVELOPE commands carrying a BER-TLV `53` data object, with command chaining, and responses
//! with response chaining through GET RESPONSE; short and extended length. And the reader's
//! side of both. The host moves APDUs; every byte of them is built and checked here.

use super::MdocError;

/// The NFC Forum Type 4 Tag NDEF application.
pub const NDEF_AID: [u8; 7] = [0xd2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01];
/// The mdoc NFC data transfer application (18013-5 8.3.3.1.2).
pub const MDOC_AID: [u8; 7] = [0xa0, 0x00, 0x00, 0x02, 0x48, 0x04, 0x00];
/// The capability container file of a Type 4 Tag.
pub const CC_FILE: [u8; 2] = [0xe1, 0x03];
/// The NDEF file that holds the Handover Select.
pub const NDEF_FILE: [u8; 2] = [0xe1, 0x04];

/// Success.
pub const SW_OK: [u8; 2] = [0x90, 0x00];
const SW_WRONG_LENGTH: [u8; 2] = [0x67, 0x00];
const SW_NOT_ALLOWED: [u8; 2] = [0x69, 0x86];
const SW_CONDITIONS: [u8; 2] = [0x69, 0x85];
const SW_NOT_FOUND: [u8; 2] = [0x6a, 0x82];
const SW_WRONG_P1P2: [u8; 2] = [0x6b, 0x00];
const SW_INS: [u8; 2] = [0x6d, 0x00];
const SW_CLA: [u8; 2] = [0x6e, 0x00];
const SW_DATA: [u8; 2] = [0x6a, 0x80];

const INS_SELECT: u8 = 0xa4;
const INS_READ_BINARY: u8 = 0xb0;
const INS_UPDATE_BINARY: u8 = 0xd6;
const INS_ENVELOPE: u8 = 0xc3;
const INS_GET_RESPONSE: u8 = 0xc0;
const CLA_CHAINING: u8 = 0x10;

/// The most bytes one mdoc message over NFC may have (as a session message).
pub const MAX_MESSAGE_BYTES: usize = crate::limits::MAX_CBOR_BYTES;

fn malformed(what: impl Into<String>) -> MdocError {
    MdocError::Malformed(what.into())
}

/// A command APDU (ISO/IEC 7816-4 5.1), short or extended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Class byte.
    pub cla: u8,
    /// Instruction.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data.
    pub data: Vec<u8>,
    /// Expected response length (`Ne`), 0 when none is expected.
    pub ne: usize,
}

impl Command {
    /// Reads a command APDU in any of the seven cases of 7816-4.
    pub fn parse(bytes: &[u8]) -> Result<Self, MdocError> {
        let [cla, ins, p1, p2, body @ ..] = bytes else {
            return Err(malformed("APDU shorter than its header"));
        };
        let (data, ne) = match body {
            [] => (Vec::new(), 0),
            [le] => (Vec::new(), if *le == 0 { 256 } else { usize::from(*le) }),
            [0, hi, lo] => {
                let le = usize::from(u16::from_be_bytes([*hi, *lo]));
                (Vec::new(), if le == 0 { 65_536 } else { le })
            }
            [0, hi, lo, rest @ ..] => {
                let lc = usize::from(u16::from_be_bytes([*hi, *lo]));
                if lc == 0 {
                    return Err(malformed("extended APDU with no data length"));
                }
                match rest.len().checked_sub(lc) {
                    Some(0) => (rest.to_vec(), 0),
                    Some(2) => {
                        let (data, le) = rest.split_at(lc);
                        let le = le.iter().fold(0usize, |v, b| (v << 8) | usize::from(*b));
                        (data.to_vec(), if le == 0 { 65_536 } else { le })
                    }
                    _ => return Err(malformed("APDU length does not match its data")),
                }
            }
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                match rest.len().checked_sub(lc) {
                    Some(0) => (rest.to_vec(), 0),
                    Some(1) => {
                        let (data, le) = rest.split_at(lc);
                        let le = le.first().copied().map_or(256, usize::from);
                        (data.to_vec(), if le == 0 { 256 } else { le })
                    }
                    _ => return Err(malformed("APDU length does not match its data")),
                }
            }
        };
        Ok(Self {
            cla: *cla,
            ins: *ins,
            p1: *p1,
            p2: *p2,
            data,
            ne,
        })
    }

    /// Writes the APDU: short when data and `Ne` fit (255 and 256), extended otherwise.
    pub fn encode(&self) -> Result<Vec<u8>, MdocError> {
        if self.data.len() > 65_535 || self.ne > 65_536 {
            return Err(malformed("APDU too long"));
        }
        let mut out = vec![self.cla, self.ins, self.p1, self.p2];
        let extended = self.data.len() > 255 || self.ne > 256;
        // The casts below are within range: checked above.
        let ne16 = (self.ne % 65_536) as u16;
        if extended {
            out.push(0);
            if !self.data.is_empty() {
                out.extend_from_slice(&(self.data.len() as u16).to_be_bytes());
                out.extend_from_slice(&self.data);
            }
            if self.ne > 0 {
                out.extend_from_slice(&ne16.to_be_bytes());
            }
        } else {
            if !self.data.is_empty() {
                out.push(self.data.len() as u8);
                out.extend_from_slice(&self.data);
            }
            if self.ne > 0 {
                out.push((self.ne % 256) as u8);
            }
        }
        Ok(out)
    }
}

fn respond(data: &[u8], sw: [u8; 2]) -> Vec<u8> {
    let mut out = data.to_vec();
    out.extend_from_slice(&sw);
    out
}

/// BER-TLV data object `53` around an mdoc message (8.3.3.1.2).
fn wrap(message: &[u8]) -> Result<Vec<u8>, MdocError> {
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(malformed("mdoc message too large for NFC"));
    }
    let len = message.len();
    let mut out = vec![0x53];
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0x81, len as u8]);
    } else if len <= 0xffff {
        out.push(0x82);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x83);
        out.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
    }
    out.extend_from_slice(message);
    Ok(out)
}

/// The message inside a complete `53` data object; nothing may follow it.
fn unwrap(tlv: &[u8]) -> Result<Vec<u8>, MdocError> {
    let [0x53, first, rest @ ..] = tlv else {
        return Err(malformed("NFC data is not a 53 data object"));
    };
    let (len, value) = match *first {
        n if n < 0x80 => (usize::from(n), rest),
        0x81 => match rest {
            [a, v @ ..] => (usize::from(*a), v),
            _ => return Err(malformed("53 length")),
        },
        0x82 => match rest {
            [a, b, v @ ..] => (usize::from(u16::from_be_bytes([*a, *b])), v),
            _ => return Err(malformed("53 length")),
        },
        0x83 => match rest {
            [a, b, c, v @ ..] => (
                usize::try_from(u32::from_be_bytes([0, *a, *b, *c]))
                    .map_err(|_| malformed("53 length"))?,
                v,
            ),
            _ => return Err(malformed("53 length")),
        },
        _ => return Err(malformed("53 length form")),
    };
    if len > MAX_MESSAGE_BYTES {
        return Err(malformed("mdoc message too large for NFC"));
    }
    if value.len() != len {
        return Err(malformed("53 data object length does not match its value"));
    }
    Ok(value.to_vec())
}

/// What the holder's NFC service does with a command APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HolderStep {
    /// Send this response APDU now.
    Respond(Vec<u8>),
    /// A complete message from the reader: answer it (session message in, session message
    /// out) and send what [`NfcHolder::reply`] returns as this command's response.
    Message(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Application {
    None,
    Ndef,
    Transfer,
}

/// The holder's NFC service: a Type 4 Tag with the Handover Select, and the data transfer
/// application. Never fails: a bad command gets its status word.
#[derive(Debug)]
pub struct NfcHolder {
    ndef_file: Vec<u8>,
    application: Application,
    file: Option<[u8; 2]>,
    incoming: Vec<u8>,
    outgoing: Vec<u8>,
    sent: usize,
    /// Ne of the ENVELOPE that delivered the message being answered.
    awaiting: Option<usize>,
    max_command: usize,
    max_response: usize,
    negotiation: Option<HolderNegotiation>,
    /// What the reader has written into the NDEF file so far.
    written: Vec<u8>,
}

/// The holder's side of negotiated handover (TNEP): what it answers a Handover Request with.
#[derive(Debug)]
struct HolderNegotiation {
    engagement: Vec<u8>,
    ble: Option<super::ndef::BleOob>,
    phase: HolderPhase,
    handover: Option<(Vec<u8>, Vec<u8>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HolderPhase {
    AwaitSelect,
    AwaitRequest,
    Done,
}

/// The largest NDEF file a negotiating tag announces (a Handover Request is written into it).
const NEGOTIATION_FILE: usize = 8 * 1024;

fn ndef_file_of(message: &[u8]) -> Result<Vec<u8>, MdocError> {
    let len = u16::try_from(message.len())
        .ok()
        .filter(|l| *l <= 0x7ffd)
        .ok_or_else(|| malformed("NDEF message too large for a Type 4 Tag"))?;
    let mut file = len.to_be_bytes().to_vec();
    file.extend_from_slice(message);
    Ok(file)
}

impl NfcHolder {
    /// A holder offering negotiated handover (TNEP, 18013-5 8.2.2.1): the tag shows the
    /// handover service; the reader selects it and writes its Handover Request, and the tag
    /// answers with a Handover Select carrying `engagement` (and `ble`, when the reader offered
    /// BLE too). Then [`NfcHolder::take_handover`] gives both messages for the transcript.
    pub fn negotiated(
        engagement: Vec<u8>,
        ble: Option<super::ndef::BleOob>,
        max_command: usize,
        max_response: usize,
    ) -> Result<Self, MdocError> {
        let offer =
            super::ndef::encode(&[super::ndef::service_parameter(NEGOTIATION_FILE as u16 - 2)])?;
        let mut holder = Self::new(offer, max_command, max_response)?;
        holder.negotiation = Some(HolderNegotiation {
            engagement,
            ble,
            phase: HolderPhase::AwaitSelect,
            handover: None,
        });
        Ok(holder)
    }

    /// Once negotiated handover is complete: the Handover Select and the Handover Request,
    /// as they go into the session transcript (once).
    pub fn take_handover(&mut self) -> Option<(Vec<u8>, Vec<u8>)> {
        self.negotiation.as_mut().and_then(|n| n.handover.take())
    }

    fn update_binary(&mut self, command: &Command) -> [u8; 2] {
        if self.application != Application::Ndef || self.file != Some(NDEF_FILE) {
            return SW_NOT_ALLOWED;
        }
        if self.negotiation.is_none() {
            return SW_NOT_ALLOWED;
        }
        let offset = usize::from(u16::from_be_bytes([command.p1 & 0x7f, command.p2]));
        let end = offset + command.data.len();
        if end > NEGOTIATION_FILE {
            return SW_WRONG_LENGTH;
        }
        if self.written.len() < end {
            self.written.resize(end, 0);
        }
        if let Some(target) = self.written.get_mut(offset..end) {
            target.copy_from_slice(&command.data);
        }
        let nlen = match self.written.as_slice() {
            [hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
            _ => 0,
        };
        if offset != 0 || command.data.len() != 2 || nlen == 0 {
            return SW_OK;
        }
        let written = std::mem::take(&mut self.written);
        let Some(message) = written.get(2..2 + nlen) else {
            return SW_WRONG_LENGTH;
        };
        match self.negotiate(message) {
            Ok(()) => SW_OK,
            Err(_) => SW_DATA,
        }
    }

    fn negotiate(&mut self, message: &[u8]) -> Result<(), MdocError> {
        use super::ndef;
        let negotiation = self
            .negotiation
            .as_mut()
            .ok_or_else(|| malformed("not negotiating"))?;
        let reply = match negotiation.phase {
            HolderPhase::AwaitSelect => {
                if !ndef::selects_handover_service(&ndef::parse(message)?) {
                    return Err(malformed("not a selection of the handover service"));
                }
                negotiation.phase = HolderPhase::AwaitRequest;
                ndef::encode(&[ndef::tnep_status(0)])?
            }
            HolderPhase::AwaitRequest => {
                let request = ndef::HandoverMessage::parse_request(message)?;
                let ble = negotiation.ble.as_ref().filter(|_| request.ble().is_some());
                let nfc = request
                    .offers_nfc()
                    .then(|| Self::carrier(self.max_command, self.max_response));
                let select = ndef::handover_select(&negotiation.engagement, ble, nfc.as_ref())?;
                negotiation.phase = HolderPhase::Done;
                negotiation.handover = Some((select.clone(), message.to_vec()));
                select
            }
            HolderPhase::Done => return Err(malformed("the handover is already negotiated")),
        };
        self.ndef_file = ndef_file_of(&reply)?;
        Ok(())
    }
    /// The NFC carrier configuration a holder with these limits announces in its Handover
    /// Select (the limits as [`NfcHolder::new`] applies them).
    pub fn carrier(max_command: usize, max_response: usize) -> super::ndef::NfcCarrier {
        let (max_command, max_response) = apdu_limits(max_command, max_response);
        super::ndef::NfcCarrier {
            max_command: Some(max_command as u32),
            max_response: Some(max_response as u32),
        }
    }

    /// A holder serving `handover_select` (an NDEF message) and accepting command data up to
    /// `max_command` bytes and sending response data up to `max_response` bytes per APDU (the
    /// NFC retrieval options of its DeviceEngagement).
    pub fn new(
        handover_select: Vec<u8>,
        max_command: usize,
        max_response: usize,
    ) -> Result<Self, MdocError> {
        let len = u16::try_from(handover_select.len())
            .ok()
            .filter(|l| *l <= 0xfffe)
            .ok_or_else(|| malformed("Handover Select too large for a Type 4 Tag"))?;
        let (max_command, max_response) = apdu_limits(max_command, max_response);
        let mut ndef_file = len.to_be_bytes().to_vec();
        ndef_file.extend(handover_select);
        Ok(Self {
            ndef_file,
            application: Application::None,
            file: None,
            incoming: Vec::new(),
            outgoing: Vec::new(),
            sent: 0,
            awaiting: None,
            max_command,
            max_response,
            negotiation: None,
            written: Vec::new(),
        })
    }

    fn capability_container(&self) -> Vec<u8> {
        let mle = (self.max_response.min(0xffff) as u16).to_be_bytes();
        let mlc = (self.max_command.min(0xffff) as u16).to_be_bytes();
        let (size, write) = if self.negotiation.is_some() {
            (NEGOTIATION_FILE as u16, 0x00)
        } else {
            (self.ndef_file.len() as u16, 0xff)
        };
        let size = size.to_be_bytes();
        vec![
            0x00,
            0x0f,
            0x20,
            mle[0],
            mle[1],
            mlc[0],
            mlc[1],
            0x04,
            0x06,
            NDEF_FILE[0],
            NDEF_FILE[1],
            size[0],
            size[1],
            0x00,
            write,
        ]
    }

    /// Handles one command APDU from the reader.
    pub fn process(&mut self, apdu: &[u8]) -> HolderStep {
        let Ok(command) = Command::parse(apdu) else {
            return HolderStep::Respond(SW_WRONG_LENGTH.to_vec());
        };
        if self.awaiting.is_some() {
            // The reader's message is being answered; nothing else until the answer is out.
            return HolderStep::Respond(SW_CONDITIONS.to_vec());
        }
        if command.cla & !CLA_CHAINING != 0 {
            return HolderStep::Respond(SW_CLA.to_vec());
        }
        match command.ins {
            INS_SELECT => HolderStep::Respond(self.select(&command).to_vec()),
            INS_READ_BINARY => HolderStep::Respond(self.read_binary(&command)),
            INS_UPDATE_BINARY => HolderStep::Respond(self.update_binary(&command).to_vec()),
            INS_ENVELOPE => self.envelope(command),
            INS_GET_RESPONSE => HolderStep::Respond(self.get_response(&command)),
            _ => HolderStep::Respond(SW_INS.to_vec()),
        }
    }

    fn select(&mut self, command: &Command) -> [u8; 2] {
        match (command.p1, command.data.as_slice()) {
            (0x04, aid) if aid == NDEF_AID => {
                self.application = Application::Ndef;
                self.file = None;
                SW_OK
            }
            (0x04, aid) if aid == MDOC_AID => {
                self.application = Application::Transfer;
                self.file = None;
                self.incoming.clear();
                self.outgoing.clear();
                self.sent = 0;
                SW_OK
            }
            (0x04, _) => SW_NOT_FOUND,
            (0x00, id) if self.application == Application::Ndef => {
                if id == CC_FILE || id == NDEF_FILE {
                    self.file = id.try_into().ok();
                    SW_OK
                } else {
                    SW_NOT_FOUND
                }
            }
            (0x00, _) => SW_NOT_ALLOWED,
            _ => SW_WRONG_P1P2,
        }
    }

    fn read_binary(&self, command: &Command) -> Vec<u8> {
        if self.application != Application::Ndef {
            return SW_NOT_ALLOWED.to_vec();
        }
        let file = match self.file {
            Some(CC_FILE) => self.capability_container(),
            Some(NDEF_FILE) => self.ndef_file.clone(),
            _ => return SW_NOT_ALLOWED.to_vec(),
        };
        let offset = usize::from(u16::from_be_bytes([command.p1 & 0x7f, command.p2]));
        if offset > file.len() {
            return SW_WRONG_P1P2.to_vec();
        }
        let end = offset
            .saturating_add(command.ne.min(self.max_response))
            .min(file.len());
        respond(file.get(offset..end).unwrap_or_default(), SW_OK)
    }

    fn envelope(&mut self, command: Command) -> HolderStep {
        if self.application != Application::Transfer {
            return HolderStep::Respond(SW_NOT_ALLOWED.to_vec());
        }
        if command.data.len() > self.max_command {
            return HolderStep::Respond(SW_WRONG_LENGTH.to_vec());
        }
        // The whole data object, with its tag and length, may not exceed the message bound.
        if self.incoming.len() + command.data.len() > MAX_MESSAGE_BYTES + 6 {
            self.incoming.clear();
            return HolderStep::Respond(SW_WRONG_LENGTH.to_vec());
        }
        self.incoming.extend_from_slice(&command.data);
        if command.cla & CLA_CHAINING != 0 {
            return HolderStep::Respond(SW_OK.to_vec());
        }
        let tlv = std::mem::take(&mut self.incoming);
        match unwrap(&tlv) {
            Ok(message) => {
                self.awaiting = Some(command.ne);
                HolderStep::Message(message)
            }
            Err(_) => HolderStep::Respond(SW_DATA.to_vec()),
        }
    }

    /// The response APDU to the ENVELOPE that delivered the reader's message: the answer in a
    /// `53` data object, as much as fits, with `61XX` when GET RESPONSE must fetch the rest.
    pub fn reply(&mut self, message: &[u8]) -> Result<Vec<u8>, MdocError> {
        let ne = self
            .awaiting
            .take()
            .ok_or_else(|| malformed("no reader message is waiting for an answer"))?;
        self.outgoing = wrap(message)?;
        self.sent = 0;
        Ok(self.next_chunk(ne))
    }

    /// The response APDU to the ENVELOPE that delivered the reader's message when there is no
    /// answer to send (the reader ended the session): success, no data.
    pub fn acknowledge(&mut self) -> Result<Vec<u8>, MdocError> {
        self.awaiting
            .take()
            .ok_or_else(|| malformed("no reader message is waiting for an answer"))?;
        Ok(SW_OK.to_vec())
    }

    fn get_response(&mut self, command: &Command) -> Vec<u8> {
        if self.application != Application::Transfer || self.sent >= self.outgoing.len() {
            return SW_CONDITIONS.to_vec();
        }
        self.next_chunk(command.ne)
    }

    fn next_chunk(&mut self, ne: usize) -> Vec<u8> {
        let size = if ne == 0 { 256 } else { ne }.min(self.max_response);
        let end = self.sent.saturating_add(size).min(self.outgoing.len());
        let chunk = self
            .outgoing
            .get(self.sent..end)
            .unwrap_or_default()
            .to_vec();
        self.sent = end;
        let remaining = self.outgoing.len() - self.sent;
        if remaining == 0 {
            self.outgoing.clear();
            self.sent = 0;
            respond(&chunk, SW_OK)
        } else {
            respond(&chunk, [0x61, remaining.min(256) as u8])
        }
    }
}

/// What the reader does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderStep {
    /// Send this command APDU.
    Send(Vec<u8>),
    /// Done: the NDEF message read (engagement) or the holder's message (transfer; empty when
    /// the holder acknowledged without an answer).
    Done(Vec<u8>),
}

fn split_response(apdu: &[u8]) -> Result<(&[u8], [u8; 2]), MdocError> {
    let at = apdu
        .len()
        .checked_sub(2)
        .ok_or_else(|| malformed("response APDU without status word"))?;
    let (data, sw) = apdu.split_at(at);
    let sw: [u8; 2] = sw
        .try_into()
        .map_err(|_| malformed("response APDU without status word"))?;
    Ok((data, sw))
}

fn status_error(step: &str, [sw1, sw2]: [u8; 2]) -> MdocError {
    MdocError::Malformed(format!("{step}: status {sw1:02X}{sw2:02X}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagStep {
    SelectApp,
    SelectCc,
    ReadCc,
    SelectNdef,
    ReadLength,
    ReadNdef,
    /// Writing a message; the queue holds the rest of its UPDATE BINARY commands.
    Writing,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Negotiation {
    /// Static handover, or not yet known.
    None,
    /// Service Select written; the TNEP status comes next.
    SelectSent,
    /// Handover Request written; the Handover Select comes next.
    RequestSent,
}

/// The reader's side of NFC engagement: reads the Handover Select from the holder's Type 4
/// Tag (static handover) or, when the tag offers the TNEP handover service and the reader
/// has a Handover Request to send, negotiates it (negotiated handover).
#[derive(Debug)]
pub struct TagReader {
    step: TagStep,
    max_read: usize,
    max_write: usize,
    length: usize,
    ndef: Vec<u8>,
    request: Option<Vec<u8>>,
    negotiation: Negotiation,
    writes: std::collections::VecDeque<Vec<u8>>,
}

impl TagReader {
    /// Starts reading; `extended` when the reader's NFC stack can send extended-length APDUs.
    /// Returns the reader and the first command (SELECT the NDEF application).
    pub fn start(extended: bool) -> Result<(Self, Vec<u8>), MdocError> {
        Self::with_request(extended, None)
    }

    /// Starts an engagement that negotiates with this Handover Request when the tag offers
    /// the handover service (and reads a static Handover Select otherwise).
    pub fn start_negotiated(
        extended: bool,
        handover_request: Vec<u8>,
    ) -> Result<(Self, Vec<u8>), MdocError> {
        super::ndef::HandoverMessage::parse_request(&handover_request)?;
        Self::with_request(extended, Some(handover_request))
    }

    fn with_request(
        extended: bool,
        request: Option<Vec<u8>>,
    ) -> Result<(Self, Vec<u8>), MdocError> {
        let limit = if extended { 65_535 } else { 255 };
        let reader = Self {
            step: TagStep::SelectApp,
            max_read: limit,
            max_write: limit,
            length: 0,
            ndef: Vec::new(),
            request,
            negotiation: Negotiation::None,
            writes: std::collections::VecDeque::new(),
        };
        let first = select_aid(&NDEF_AID)?;
        Ok((reader, first))
    }

    /// The Handover Request that went into the handover, once negotiated: with the Handover
    /// Select it belongs in the session transcript.
    pub fn negotiated_request(&self) -> Option<&[u8]> {
        match (self.step, self.negotiation) {
            (TagStep::Done, Negotiation::RequestSent) => self.request.as_deref(),
            _ => None,
        }
    }

    fn read(&self, offset: usize, n: usize) -> Result<Vec<u8>, MdocError> {
        file_command(INS_READ_BINARY, offset, Vec::new(), n)
    }

    /// The UPDATE BINARY commands that write `message` into the NDEF file: the length zeroed
    /// with the message, then the length set.
    fn write_message(&mut self, message: &[u8]) -> Result<Vec<u8>, MdocError> {
        let nlen = u16::try_from(message.len())
            .map_err(|_| malformed("NDEF message too long for the tag"))?;
        let mut file = vec![0, 0];
        file.extend_from_slice(message);
        let update =
            |offset: usize, data: &[u8]| file_command(INS_UPDATE_BINARY, offset, data.to_vec(), 0);
        let mut commands = std::collections::VecDeque::new();
        for (i, chunk) in file.chunks(self.max_write).enumerate() {
            commands.push_back(update(i * self.max_write, chunk)?);
        }
        commands.push_back(update(0, &nlen.to_be_bytes())?);
        self.writes = commands;
        self.step = TagStep::Writing;
        self.writes
            .pop_front()
            .ok_or_else(|| malformed("nothing to write"))
    }

    /// A whole NDEF message read: done, or the next negotiation step.
    fn on_message(&mut self, message: Vec<u8>) -> Result<ReaderStep, MdocError> {
        use super::ndef;
        let records = ndef::parse(&message)?;
        match self.negotiation {
            Negotiation::None if ndef::offers_handover_service(&records) => {
                if self.request.is_none() {
                    return Err(MdocError::Unsupported(
                        "the tag offers only negotiated handover".into(),
                    ));
                }
                self.negotiation = Negotiation::SelectSent;
                let select = ndef::encode(&[ndef::service_select()])?;
                Ok(ReaderStep::Send(self.write_message(&select)?))
            }
            Negotiation::SelectSent => match ndef::tnep_status_of(&records) {
                Some(0) => {
                    self.negotiation = Negotiation::RequestSent;
                    let request = self.request.clone().unwrap_or_default();
                    Ok(ReaderStep::Send(self.write_message(&request)?))
                }
                other => Err(malformed(format!(
                    "the tag refused the handover service (TNEP status {other:?})"
                ))),
            },
            Negotiation::None | Negotiation::RequestSent => {
                ndef::HandoverMessage::parse_select(&message)?;
                self.step = TagStep::Done;
                Ok(ReaderStep::Done(message))
            }
        }
    }

    /// Takes the holder's response to the last command.
    pub fn on_response(&mut self, apdu: &[u8]) -> Result<ReaderStep, MdocError> {
        let (data, sw) = split_response(apdu)?;
        if sw != SW_OK {
            return Err(status_error("NFC engagement", sw));
        }
        let select_file = |id: [u8; 2]| {
            Command {
                cla: 0,
                ins: INS_SELECT,
                p1: 0x00,
                p2: 0x0c,
                data: id.to_vec(),
                ne: 0,
            }
            .encode()
        };
        match self.step {
            TagStep::SelectApp => {
                self.step = TagStep::SelectCc;
                Ok(ReaderStep::Send(select_file(CC_FILE)?))
            }
            TagStep::SelectCc => {
                self.step = TagStep::ReadCc;
                Ok(ReaderStep::Send(self.read(0, 15)?))
            }
            TagStep::ReadCc => {
                let [_, _, version, mle_hi, mle_lo, mlc_hi, mlc_lo, 0x04, 0x06, f1, f2, ..] = data
                else {
                    return Err(malformed("Type 4 Tag capability container"));
                };
                if version >> 4 < 2 || [*f1, *f2] != NDEF_FILE {
                    return Err(malformed("Type 4 Tag capability container"));
                }
                let mle = usize::from(u16::from_be_bytes([*mle_hi, *mle_lo]));
                let mlc = usize::from(u16::from_be_bytes([*mlc_hi, *mlc_lo]));
                if mle < 0x0f || mlc == 0 {
                    return Err(malformed("Type 4 Tag MLe or MLc"));
                }
                self.max_read = self.max_read.min(mle);
                self.max_write = self.max_write.min(mlc);
                self.step = TagStep::SelectNdef;
                Ok(ReaderStep::Send(select_file(NDEF_FILE)?))
            }
            TagStep::SelectNdef => {
                self.step = TagStep::ReadLength;
                Ok(ReaderStep::Send(self.read(0, 2)?))
            }
            TagStep::ReadLength => {
                let [hi, lo] = data else {
                    return Err(malformed("NDEF file length"));
                };
                self.length = usize::from(u16::from_be_bytes([*hi, *lo]));
                if self.length == 0 || self.length > super::ndef::MAX_NDEF_BYTES {
                    return Err(malformed("NDEF file length"));
                }
                self.ndef.clear();
                self.step = TagStep::ReadNdef;
                let n = self.length.min(self.max_read);
                Ok(ReaderStep::Send(self.read(2, n)?))
            }
            TagStep::ReadNdef => {
                if data.is_empty() || self.ndef.len() + data.len() > self.length {
                    return Err(malformed("NDEF file read past its length"));
                }
                self.ndef.extend_from_slice(data);
                if self.ndef.len() == self.length {
                    let message = std::mem::take(&mut self.ndef);
                    return self.on_message(message);
                }
                let n = (self.length - self.ndef.len()).min(self.max_read);
                Ok(ReaderStep::Send(self.read(2 + self.ndef.len(), n)?))
            }
            TagStep::Writing => match self.writes.pop_front() {
                Some(next) => Ok(ReaderStep::Send(next)),
                None => {
                    // Written: read the tag's answer.
                    self.step = TagStep::ReadLength;
                    Ok(ReaderStep::Send(self.read(0, 2)?))
                }
            },
            TagStep::Done => Err(malformed("NFC engagement already read")),
        }
    }
}

/// The APDU data limits a holder applies: at least the short-APDU sizes (255 and 256), at
/// most the extended ones (65,535 and 65,536).
fn apdu_limits(max_command: usize, max_response: usize) -> (usize, usize) {
    (
        max_command.clamp(255, 65_535),
        max_response.clamp(256, 65_536),
    )
}

/// READ BINARY or UPDATE BINARY at `offset` of the selected file (at most 0x7FFF).
fn file_command(ins: u8, offset: usize, data: Vec<u8>, ne: usize) -> Result<Vec<u8>, MdocError> {
    let offset = u16::try_from(offset)
        .ok()
        .filter(|o| *o <= 0x7fff)
        .ok_or_else(|| malformed("NDEF file offset"))?;
    let [p1, p2] = offset.to_be_bytes();
    Command {
        cla: 0,
        ins,
        p1,
        p2,
        data,
        ne,
    }
    .encode()
}

fn select_aid(aid: &[u8]) -> Result<Vec<u8>, MdocError> {
    Command {
        cla: 0,
        ins: INS_SELECT,
        p1: 0x04,
        p2: 0x0c,
        data: aid.to_vec(),
        ne: 0,
    }
    .encode()
}

/// The reader's side of NFC data transfer: sends a message in chained ENVELOPE commands and
/// collects the answer through GET RESPONSE.
#[derive(Debug)]
pub struct TransferReader {
    max_command: usize,
    ne: usize,
    pending: Vec<Vec<u8>>,
    incoming: Vec<u8>,
    busy: bool,
}

impl TransferReader {
    /// A reader that sends command data up to the holder's `max_command` (from its engagement)
    /// and asks for up to 65,536 response bytes per APDU when `extended`, 256 otherwise. Returns
    /// the reader and the SELECT of the mdoc application to send first.
    pub fn start(extended: bool, max_command: usize) -> Result<(Self, Vec<u8>), MdocError> {
        let limit = if extended { 65_535 } else { 255 };
        let reader = Self {
            max_command: max_command.clamp(1, limit),
            ne: if extended { 65_536 } else { 256 },
            pending: Vec::new(),
            incoming: Vec::new(),
            busy: true,
        };
        Ok((reader, select_aid(&MDOC_AID)?))
    }

    /// Takes the response to SELECT.
    pub fn on_selected(&mut self, apdu: &[u8]) -> Result<(), MdocError> {
        let (_, sw) = split_response(apdu)?;
        if sw != SW_OK {
            return Err(status_error("SELECT mdoc application", sw));
        }
        self.busy = false;
        Ok(())
    }

    /// Starts sending `message`: the first ENVELOPE command.
    pub fn send(&mut self, message: &[u8]) -> Result<Vec<u8>, MdocError> {
        if self.busy {
            return Err(malformed("an NFC exchange is already under way"));
        }
        let tlv = wrap(message)?;
        let chunks: Vec<&[u8]> = tlv.chunks(self.max_command).collect();
        let last = chunks.len().saturating_sub(1);
        let mut commands = Vec::with_capacity(chunks.len());
        for (i, chunk) in chunks.into_iter().enumerate() {
            commands.push(
                Command {
                    cla: if i == last { 0 } else { CLA_CHAINING },
                    ins: INS_ENVELOPE,
                    p1: 0,
                    p2: 0,
                    data: chunk.to_vec(),
                    ne: if i == last { self.ne } else { 0 },
                }
                .encode()?,
            );
        }
        commands.reverse();
        self.pending = commands;
        self.incoming.clear();
        self.busy = true;
        self.pending
            .pop()
            .ok_or_else(|| malformed("nothing to send"))
    }

    /// Takes the holder's response to the last command.
    pub fn on_response(&mut self, apdu: &[u8]) -> Result<ReaderStep, MdocError> {
        let (data, sw) = split_response(apdu)?;
        if let Some(next) = self.pending.pop() {
            if sw != SW_OK || !data.is_empty() {
                self.busy = false;
                return Err(status_error("chained ENVELOPE", sw));
            }
            return Ok(ReaderStep::Send(next));
        }
        if self.incoming.len() + data.len() > MAX_MESSAGE_BYTES + 6 {
            self.busy = false;
            return Err(malformed("mdoc message too large for NFC"));
        }
        self.incoming.extend_from_slice(data);
        match sw {
            SW_OK => {
                self.busy = false;
                let tlv = std::mem::take(&mut self.incoming);
                if tlv.is_empty() {
                    return Ok(ReaderStep::Done(Vec::new()));
                }
                Ok(ReaderStep::Done(unwrap(&tlv)?))
            }
            [0x61, xx] => {
                let ne = if xx == 0 { self.ne } else { usize::from(xx) };
                Ok(ReaderStep::Send(
                    Command {
                        cla: 0,
                        ins: INS_GET_RESPONSE,
                        p1: 0,
                        p2: 0,
                        data: Vec::new(),
                        ne: ne.min(self.ne),
                    }
                    .encode()?,
                ))
            }
            _ => {
                self.busy = false;
                Err(status_error("ENVELOPE", sw))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apdus_of_every_case_round_trip() {
        for command in [
            Command {
                cla: 0,
                ins: 0xa4,
                p1: 4,
                p2: 0,
                data: MDOC_AID.to_vec(),
                ne: 0,
            },
            Command {
                cla: 0,
                ins: 0xb0,
                p1: 0,
                p2: 2,
                data: vec![],
                ne: 256,
            },
            Command {
                cla: 0,
                ins: 0xb0,
                p1: 0,
                p2: 2,
                data: vec![],
                ne: 15,
            },
            Command {
                cla: 0x10,
                ins: 0xc3,
                p1: 0,
                p2: 0,
                data: vec![1; 255],
                ne: 0,
            },
            Command {
                cla: 0,
                ins: 0xc3,
                p1: 0,
                p2: 0,
                data: vec![1; 300],
                ne: 65_536,
            },
            Command {
                cla: 0,
                ins: 0xc3,
                p1: 0,
                p2: 0,
                data: vec![1; 3],
                ne: 1000,
            },
            Command {
                cla: 0,
                ins: 0xc0,
                p1: 0,
                p2: 0,
                data: vec![],
                ne: 65_536,
            },
            Command {
                cla: 0,
                ins: 0xc0,
                p1: 0,
                p2: 0,
                data: vec![],
                ne: 0,
            },
        ] {
            let bytes = command.encode().unwrap();
            assert_eq!(Command::parse(&bytes).unwrap(), command, "{bytes:02x?}");
        }
        for bad in [
            &[0u8, 1, 2][..],
            &[0, 0xc3, 0, 0, 5, 1, 2],
            &[0, 0xc3, 0, 0, 0, 0, 0, 1],
            &[0, 0xc3, 0, 0, 0, 0, 3, 1, 2, 3, 4],
        ] {
            assert!(Command::parse(bad).is_err(), "{bad:02x?}");
        }
    }

    #[test]
    fn data_objects_of_every_length_form() {
        for len in [0, 1, 127, 128, 255, 256, 65_535, 65_536, 100_000] {
            let message = vec![7u8; len];
            assert_eq!(unwrap(&wrap(&message).unwrap()).unwrap(), message, "{len}");
        }
        assert!(unwrap(&[0x53, 2, 1]).is_err());
        assert!(unwrap(&[0x53, 1, 1, 1]).is_err());
        assert!(unwrap(&[0x54, 0]).is_err());
        assert!(unwrap(&[0x53, 0x84, 0, 0, 0, 1, 1]).is_err());
    }

    #[test]
    fn commands_out_of_place_get_their_status_words() {
        let mut holder = NfcHolder::new(vec![0xd0, 0, 0], 255, 256).unwrap();
        let envelope = [0, 0xc3, 0, 0, 2, 0x53, 0, 0];
        // ENVELOPE before the mdoc application is selected; READ BINARY with no file.
        assert_eq!(
            holder.process(&envelope),
            HolderStep::Respond(SW_NOT_ALLOWED.to_vec())
        );
        assert_eq!(
            holder.process(&[0, 0xb0, 0, 0, 2]),
            HolderStep::Respond(SW_NOT_ALLOWED.to_vec())
        );
        assert_eq!(
            holder.process(&[0, 0xa4, 4, 0, 2, 1, 2]),
            HolderStep::Respond(SW_NOT_FOUND.to_vec())
        );
        assert_eq!(
            holder.process(&[0x80, 0xa4, 4, 0]),
            HolderStep::Respond(SW_CLA.to_vec())
        );
        assert_eq!(
            holder.process(&[0, 0x12, 0, 0]),
            HolderStep::Respond(SW_INS.to_vec())
        );
        assert_eq!(
            holder.process(&[0, 0xa4]),
            HolderStep::Respond(SW_WRONG_LENGTH.to_vec())
        );
        let (_, select) = TransferReader::start(false, 255).unwrap();
        assert_eq!(holder.process(&select), HolderStep::Respond(SW_OK.to_vec()));
        // Not a 53 data object; GET RESPONSE with nothing to get; a reply nobody asked for.
        assert_eq!(
            holder.process(&[0, 0xc3, 0, 0, 2, 0x54, 0, 0]),
            HolderStep::Respond(SW_DATA.to_vec())
        );
        assert_eq!(
            holder.process(&[0, 0xc0, 0, 0, 0]),
            HolderStep::Respond(SW_CONDITIONS.to_vec())
        );
        assert!(holder.reply(b"x").is_err());
        // While a message is being answered, nothing else is taken.
        assert_eq!(holder.process(&envelope), HolderStep::Message(vec![]));
        assert_eq!(
            holder.process(&envelope),
            HolderStep::Respond(SW_CONDITIONS.to_vec())
        );
        assert_eq!(
            holder.reply(b"ok").unwrap(),
            vec![0x53, 2, b'o', b'k', 0x90, 0]
        );
    }
}
