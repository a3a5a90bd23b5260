//! NFC and BLE for in-person presentation, as the host sees them: it moves APDUs and
//! characteristic values; the core builds and checks every byte (`mdoc::ndef`, `mdoc::nfc`,
//! `mdoc::ble`). The holder's consent step and the reader's verification stay where they are
//! (`PresentationSession`, `MdocReaderSession`): these objects only carry their messages.

use std::sync::{Arc, Mutex, MutexGuard};

use super::presentation::PresentationSession;
use super::WalletError;
use crate::mdoc::ble::{self, BleLink, StateChange as DomainStateChange};
use crate::mdoc::engagement::DeviceEngagement;
use crate::mdoc::ndef::{self, BleOob, HandoverMessage, LeRole};
use crate::mdoc::nfc::{HolderStep, NfcHolder, ReaderStep, TagReader, TransferReader};
use crate::mdoc::reader::ReaderSession;
use crate::mdoc::session::Handover;

fn lock<'a, T>(mutex: &'a Mutex<T>, what: &str) -> Result<MutexGuard<'a, T>, WalletError> {
    mutex.lock().map_err(|_| WalletError::Internal {
        reason: format!("{what} state poisoned"),
    })
}

/// A Bluetooth LE carrier the holder offers in its NFC Handover Select, so that the reader
/// continues over BLE after the tap.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BleCarrier {
    /// The service UUID (16 bytes, big-endian) the host advertises or scans for.
    pub uuid: Vec<u8>,
    /// The holder acts as GATT server (mdoc peripheral server mode); otherwise as client.
    pub peripheral_server: bool,
    /// The peripheral's LE device address (6 bytes and the address type), when it has one.
    pub address: Option<Vec<u8>>,
}

/// What the holder's NFC service does with a command APDU.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum NfcHolderStep {
    /// Send this response APDU now.
    Respond {
        /// The response APDU.
        apdu: Vec<u8>,
    },
    /// A complete message from the reader: give it to `PresentationSession.receive`, then
    /// send what `NfcHolderLink.reply` (or `acknowledge`, when there is nothing to answer)
    /// returns as this command's response.
    Message {
        /// The session message.
        message: Vec<u8>,
    },
}

/// The holder's NFC service for one presentation: a Type 4 Tag serving the Handover Select,
/// then the mdoc data transfer application. The host's card emulation service hands it
/// every command APDU.
#[derive(uniffi::Object)]
pub struct NfcHolderLink {
    handover_select: Mutex<Vec<u8>>,
    inner: Mutex<NfcHolder>,
    /// For negotiated handover: the session whose transcript takes the handover once the
    /// reader has written its Handover Request.
    session: Option<Arc<PresentationSession>>,
}

#[uniffi::export]
impl PresentationSession {
    /// Engagement by NFC tap (static handover): the Handover Select carrying this session's
    /// DeviceEngagement (and a BLE carrier, when given) goes into the session transcript, and
    /// the returned link serves it to the reader, then carries the session's messages when
    /// the transfer stays on NFC. Only before the reader's first message. The APDU limits are
    /// what the host's NFC stack takes and sends (at least 255 and 256; 65,535 and 65,536
    /// with extended length).
    pub fn start_nfc_engagement(
        &self,
        max_command_data: u32,
        max_response_data: u32,
        ble: Option<BleCarrier>,
    ) -> Result<Arc<NfcHolderLink>, WalletError> {
        let oob = ble.map(oob_of).transpose()?;
        let handover_select = self.with_handover(|engagement| {
            let nfc = NfcHolder::carrier(max_command_data as usize, max_response_data as usize);
            let select = ndef::handover_select(engagement, oob.as_ref(), Some(&nfc))?;
            Ok((
                Handover::Nfc {
                    select: select.clone(),
                    request: None,
                },
                select,
            ))
        })?;
        let holder = NfcHolder::new(
            handover_select.clone(),
            max_command_data as usize,
            max_response_data as usize,
        )?;
        Ok(Arc::new(NfcHolderLink {
            handover_select: Mutex::new(handover_select),
            inner: Mutex::new(holder),
            session: None,
        }))
    }

    /// Engagement by NFC tap with negotiated handover (TNEP): the tag offers the handover
    /// service, the reader writes its Handover Request, and the tag answers with a Handover
    /// Select carrying this session's DeviceEngagement (and the BLE carrier, when given and
    /// the reader offered BLE too). Both messages then go into the session transcript. Only
    /// before the reader's first message.
    pub fn start_nfc_negotiated_engagement(
        self: Arc<Self>,
        max_command_data: u32,
        max_response_data: u32,
        ble: Option<BleCarrier>,
    ) -> Result<Arc<NfcHolderLink>, WalletError> {
        let oob = ble.map(oob_of).transpose()?;
        let engagement = self.engagement()?.device_engagement;
        let holder = NfcHolder::negotiated(
            engagement,
            oob,
            max_command_data as usize,
            max_response_data as usize,
        )?;
        Ok(Arc::new(NfcHolderLink {
            handover_select: Mutex::new(Vec::new()),
            inner: Mutex::new(holder),
            session: Some(self),
        }))
    }
}

fn oob_of(carrier: BleCarrier) -> Result<BleOob, WalletError> {
    let uuid: [u8; 16] = carrier
        .uuid
        .as_slice()
        .try_into()
        .map_err(|_| WalletError::invalid("a BLE service UUID has 16 bytes"))?;
    let address = carrier
        .address
        .map(|a| {
            <[u8; 7]>::try_from(a.as_slice())
                .map_err(|_| WalletError::invalid("an LE address has 7 bytes"))
        })
        .transpose()?;
    let role = if carrier.peripheral_server {
        LeRole::PeripheralOnly
    } else {
        LeRole::CentralOnly
    };
    Ok(BleOob::new(role, Some(uuid), address))
}

#[uniffi::export]
impl NfcHolderLink {
    /// The Handover Select this link serves (an NDEF message); for negotiated handover, empty
    /// until the reader's Handover Request has been answered.
    pub fn handover_select(&self) -> Result<Vec<u8>, WalletError> {
        Ok(lock(&self.handover_select, "NFC")?.clone())
    }

    /// Handles one command APDU from the reader. A command out of place is answered with its
    /// ISO 7816-4 status word, never an error.
    pub fn process_apdu(&self, apdu: Vec<u8>) -> Result<NfcHolderStep, WalletError> {
        let mut holder = lock(&self.inner, "NFC")?;
        let step = holder.process(&apdu);
        if let Some((select, request)) = holder.take_handover() {
            let session = self.session.as_ref().ok_or_else(|| WalletError::Internal {
                reason: "a negotiated handover without its session".into(),
            })?;
            session.with_handover(|_| {
                Ok((
                    Handover::Nfc {
                        select: select.clone(),
                        request: Some(request),
                    },
                    (),
                ))
            })?;
            *lock(&self.handover_select, "NFC")? = select;
        }
        Ok(match step {
            HolderStep::Respond(apdu) => NfcHolderStep::Respond { apdu },
            HolderStep::Message(message) => NfcHolderStep::Message { message },
        })
    }

    /// The response APDU carrying the session's answer to the message just delivered (what
    /// `PresentationSession.respond_to` or `decline` returned); the reader fetches any rest
    /// with GET RESPONSE, which `process_apdu` answers.
    pub fn reply(&self, message: Vec<u8>) -> Result<Vec<u8>, WalletError> {
        Ok(lock(&self.inner, "NFC")?.reply(&message)?)
    }

    /// The response APDU when the delivered message needs no answer (the reader ended).
    pub fn acknowledge(&self) -> Result<Vec<u8>, WalletError> {
        Ok(lock(&self.inner, "NFC")?.acknowledge()?)
    }
}

/// What the reader sends next over NFC.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum NfcReaderStep {
    /// Send this command APDU and pass its response back.
    Send {
        /// The command APDU.
        apdu: Vec<u8>,
    },
    /// Done: the Handover Select (engagement) or the holder's message (transfer; empty when
    /// the holder only acknowledged).
    Done {
        /// The bytes received.
        message: Vec<u8>,
    },
}

fn step(step: ReaderStep) -> NfcReaderStep {
    match step {
        ReaderStep::Send(apdu) => NfcReaderStep::Send { apdu },
        ReaderStep::Done(message) => NfcReaderStep::Done { message },
    }
}

/// The reader's side of an NFC tap: reads the holder's Handover Select off its Type 4 Tag.
/// Send `first_command()`, then each response to `on_response` until it is done; then start
/// the session with `MdocReader.start_nfc_session`.
#[derive(uniffi::Object)]
pub struct NfcEngagementReader {
    first: Vec<u8>,
    inner: Mutex<TagReader>,
}

/// What an NFC tap gave the reader: the Handover Select and, for negotiated handover, the
/// Handover Request it answered. Both go into the session transcript.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NfcHandover {
    /// The Handover Select (NDEF message) with the holder's DeviceEngagement.
    pub select: Vec<u8>,
    /// The reader's Handover Request, for negotiated handover.
    pub request: Option<Vec<u8>>,
}

#[uniffi::export]
impl NfcEngagementReader {
    /// A reader; `extended` when the reader's NFC stack sends extended-length APDUs.
    #[uniffi::constructor]
    pub fn new(extended: bool) -> Result<Arc<Self>, WalletError> {
        let (reader, first) = TagReader::start(extended)?;
        Ok(Arc::new(Self {
            first,
            inner: Mutex::new(reader),
        }))
    }

    /// A reader that negotiates the handover (TNEP) when the tag offers it: its Handover
    /// Request offers NFC and, when given, Bluetooth LE. A tag with a static Handover Select
    /// is read as it is.
    #[uniffi::constructor]
    pub fn negotiating(extended: bool, ble: Option<BleCarrier>) -> Result<Arc<Self>, WalletError> {
        let oob = ble.map(oob_of).transpose()?;
        let random = u16::from_be_bytes(crate::crypto::random::array::<2>()?);
        let request = ndef::handover_request(random, oob.as_ref(), true)?;
        let (reader, first) = TagReader::start_negotiated(extended, request)?;
        Ok(Arc::new(Self {
            first,
            inner: Mutex::new(reader),
        }))
    }

    /// The first command APDU (SELECT of the NDEF application).
    pub fn first_command(&self) -> Vec<u8> {
        self.first.clone()
    }

    /// Once done: the handover to start the session with (`MdocReader.start_nfc_handover_session`).
    pub fn handover(&self, select: Vec<u8>) -> Result<NfcHandover, WalletError> {
        Ok(NfcHandover {
            select,
            request: lock(&self.inner, "NFC")?
                .negotiated_request()
                .map(<[u8]>::to_vec),
        })
    }

    /// Takes the holder's response to the last command.
    pub fn on_response(&self, apdu: Vec<u8>) -> Result<NfcReaderStep, WalletError> {
        Ok(step(lock(&self.inner, "NFC")?.on_response(&apdu)?))
    }
}

/// The reader's side of the NFC data transfer: session messages in chained ENVELOPE
/// commands, answers collected through GET RESPONSE.
#[derive(uniffi::Object)]
pub struct NfcTransferReader {
    select: Vec<u8>,
    inner: Mutex<TransferReader>,
}

#[uniffi::export]
impl NfcTransferReader {
    /// A transfer to a holder that takes `max_command_data` bytes per command (255 for short
    /// APDUs); `extended` asks for up to 65,536 response bytes per APDU.
    #[uniffi::constructor]
    pub fn new(extended: bool, max_command_data: u32) -> Result<Arc<Self>, WalletError> {
        let (reader, select) = TransferReader::start(extended, max_command_data as usize)?;
        Ok(Arc::new(Self {
            select,
            inner: Mutex::new(reader),
        }))
    }

    /// The SELECT of the mdoc application, to send first.
    pub fn select_command(&self) -> Vec<u8> {
        self.select.clone()
    }

    /// Takes the response to the SELECT.
    pub fn on_selected(&self, apdu: Vec<u8>) -> Result<(), WalletError> {
        Ok(lock(&self.inner, "NFC")?.on_selected(&apdu)?)
    }

    /// Starts sending a session message: the first command APDU.
    pub fn send(&self, message: Vec<u8>) -> Result<Vec<u8>, WalletError> {
        Ok(lock(&self.inner, "NFC")?.send(&message)?)
    }

    /// Takes the holder's response to the last command.
    pub fn on_response(&self, apdu: Vec<u8>) -> Result<NfcReaderStep, WalletError> {
        Ok(step(lock(&self.inner, "NFC")?.on_response(&apdu)?))
    }
}

/// The reader's session from the Handover Select it read: the engagement inside, and the
/// Handover Select in the transcript.
pub(super) fn reader_session_from_handover(
    handover_select: Vec<u8>,
    handover_request: Option<Vec<u8>>,
) -> Result<ReaderSession, WalletError> {
    let select = HandoverMessage::parse_select(&handover_select)?;
    if let Some(request) = &handover_request {
        HandoverMessage::parse_request(request)?;
    }
    let engagement = DeviceEngagement::parse(
        select
            .device_engagement()
            .ok_or_else(|| WalletError::invalid("the Handover Select has no DeviceEngagement"))?,
    )?;
    Ok(ReaderSession::with_handover(
        engagement,
        &Handover::Nfc {
            select: handover_select,
            request: handover_request,
        },
    )?)
}

/// The NFC data transfer an mdoc offers in its Handover Select: the largest command and
/// response data fields it takes and sends per APDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct NfcCarrierLimits {
    /// The largest command data field the holder accepts (give it to [`NfcTransferReader::new`]).
    pub max_command_data: u32,
    /// The largest response data field the holder sends.
    pub max_response_data: u32,
}

/// The NFC carrier in a Handover Select, as the reader reads it: `None` when the mdoc offers no
/// NFC data transfer. A carrier record that is malformed, or that does not give both limits,
/// is an error.
#[uniffi::export]
pub fn nfc_carrier_of(handover_select: Vec<u8>) -> Result<Option<NfcCarrierLimits>, WalletError> {
    let select = HandoverMessage::parse_select(&handover_select)?;
    select
        .nfc()?
        .map(
            |carrier| match (carrier.max_command, carrier.max_response) {
                (Some(max_command_data), Some(max_response_data)) => Ok(NfcCarrierLimits {
                    max_command_data,
                    max_response_data,
                }),
                _ => Err(WalletError::invalid(
                    "the NFC carrier of a Handover Select gives no APDU limits",
                )),
            },
        )
        .transpose()
}

/// A BLE carrier in a Handover Select, as the reader reads it.
#[uniffi::export]
pub fn ble_carrier_of(handover_select: Vec<u8>) -> Result<Option<BleCarrier>, WalletError> {
    let select = HandoverMessage::parse_select(&handover_select)?;
    Ok(select.ble().and_then(|oob| {
        Some(BleCarrier {
            uuid: oob.uuid()?.to_vec(),
            peripheral_server: matches!(
                oob.role()?,
                LeRole::PeripheralOnly | LeRole::PeripheralPreferred
            ),
            address: oob.address().map(|a| a.to_vec()),
        })
    }))
}

/// What the BLE State characteristic said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum BleStateChange {
    /// The session started: data may flow.
    Started,
    /// The session ended.
    Ended,
}

/// One side of a BLE session's data transfer (either role): cuts session messages into
/// characteristic writes or notifications for the negotiated MTU, and puts received ones
/// back together. The host owns the GATT connection and moves the values.
#[derive(uniffi::Object)]
pub struct BleTransport {
    inner: Mutex<BleLink>,
}

#[uniffi::export]
impl BleTransport {
    /// A transport over a connection with this ATT MTU (at least 23).
    #[uniffi::constructor]
    pub fn new(mtu: u32) -> Result<Arc<Self>, WalletError> {
        Ok(Arc::new(Self {
            inner: Mutex::new(BleLink::new(mtu as usize)?),
        }))
    }

    /// The MTU was renegotiated.
    pub fn set_mtu(&self, mtu: u32) -> Result<(), WalletError> {
        Ok(lock(&self.inner, "BLE")?.set_mtu(mtu as usize)?)
    }

    /// This side starts the session: the value to write to the State characteristic.
    pub fn start(&self) -> Result<Vec<u8>, WalletError> {
        Ok(lock(&self.inner, "BLE")?.start()?.to_vec())
    }

    /// This side ends the session: the value to write to the State characteristic.
    pub fn end(&self) -> Result<Vec<u8>, WalletError> {
        Ok(lock(&self.inner, "BLE")?.end().to_vec())
    }

    /// A value the peer wrote to (or notified on) the State characteristic. An end in the
    /// middle of a message is an error naming the loss.
    pub fn on_state(&self, value: Vec<u8>) -> Result<BleStateChange, WalletError> {
        Ok(match lock(&self.inner, "BLE")?.on_state(&value)? {
            DomainStateChange::Started => BleStateChange::Started,
            DomainStateChange::Ended => BleStateChange::Ended,
        })
    }

    /// The writes (or notifications) that carry a session message, in order.
    pub fn outgoing(&self, message: Vec<u8>) -> Result<Vec<Vec<u8>>, WalletError> {
        Ok(lock(&self.inner, "BLE")?.outgoing(&message)?)
    }

    /// One value received on the peer's data characteristic: the complete session message
    /// when this was its last part.
    pub fn on_data(&self, value: Vec<u8>) -> Result<Option<Vec<u8>>, WalletError> {
        Ok(lock(&self.inner, "BLE")?.on_data(&value)?)
    }
}

/// One side of a session over a BLE L2CAP connection-oriented channel (where both sides offer
/// one, instead of the data characteristics): each message goes with a four-byte big-endian
/// length, and what the host's socket returns, in whatever chunks, is cut back into messages.
/// The session ends with a SessionData status; then the host closes the channel.
#[derive(uniffi::Object)]
pub struct BleL2capChannel {
    inner: Mutex<ble::L2capChannel>,
}

#[uniffi::export]
impl BleL2capChannel {
    /// A channel the host has just opened.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(ble::L2capChannel::new()),
        })
    }

    /// The bytes to write for a session message.
    pub fn outgoing(&self, message: Vec<u8>) -> Result<Vec<u8>, WalletError> {
        Ok(lock(&self.inner, "L2CAP")?.outgoing(&message)?)
    }

    /// Bytes the host read from the channel: every session message they complete, in order.
    /// After an error the framing is lost: close the channel.
    pub fn on_bytes(&self, bytes: Vec<u8>) -> Result<Vec<Vec<u8>>, WalletError> {
        Ok(lock(&self.inner, "L2CAP")?.on_bytes(&bytes)?)
    }

    /// The host's channel closed: an error when a message was cut short. (Named so that it
    /// does not clash with `close` of the bindings' own resource handling.)
    pub fn on_channel_closed(&self) -> Result<(), WalletError> {
        Ok(lock(&self.inner, "L2CAP")?.close()?)
    }
}

/// The PSM in the value of an L2CAP PSM characteristic (four bytes, big-endian, 1 to 255).
#[uniffi::export]
pub fn l2cap_psm_of(value: Vec<u8>) -> Result<u16, WalletError> {
    Ok(ble::l2cap_psm(&value)?)
}

/// The value of the L2CAP PSM characteristic for `psm`.
#[uniffi::export]
pub fn l2cap_psm_value(psm: u16) -> Result<Vec<u8>, WalletError> {
    Ok(ble::l2cap_psm_value(psm)?.to_vec())
}

/// The Ident characteristic's value for an engagement (mdoc peripheral server mode): the
/// holder serves it, the reader compares it with [`check_ble_ident`].
#[uniffi::export]
pub fn ble_ident(device_engagement: Vec<u8>) -> Result<Vec<u8>, WalletError> {
    let engagement = DeviceEngagement::parse(&device_engagement)?;
    Ok(ble::ident(&engagement.e_device_key_bytes)?.to_vec())
}

/// Checks the value the reader read from the Ident characteristic against the engagement it
/// scanned or tapped: a mismatch means another device answered.
#[uniffi::export]
pub fn check_ble_ident(device_engagement: Vec<u8>, read: Vec<u8>) -> Result<(), WalletError> {
    let engagement = DeviceEngagement::parse(&device_engagement)?;
    Ok(ble::check_ident(&engagement.e_device_key_bytes, &read)?)
}
