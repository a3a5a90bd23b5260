//! Bluetooth LE transfer for ISO/IEC 18013-5 (8.3.3.1.1), sans-I/O: the framing of the
//! Client2Server and Server2Client characteristics, the State characteristic, and the Ident
//! characteristic of mdoc peripheral server mode. The host owns the GATT connection: it tells
//! the core the negotiated MTU and moves characteristic writes and notifications; the core
//! cuts messages into writes and puts them back together.
//!
//! Each write is at most MTU − 3 bytes: one leading byte (`0x01`: more of this message
//! follows, `0x00`: its last part) and the message's bytes. The framing carries no sequence
//! number: BLE delivers writes in order, so what can go wrong is a write out of its place
//! (data before the start or after the end of the session), a write larger than the MTU
//! allows, an unknown leading byte, or a message that never ends; each is refused here.

use super::MdocError;

/// State characteristic: the session starts.
pub const STATE_START: u8 = 0x01;
/// State characteristic: the session ends.
pub const STATE_END: u8 = 0x02;
/// The smallest ATT MTU (Bluetooth Core, ATT_MTU default).
pub const MIN_MTU: usize = 23;
/// The longest attribute value a write or notification carries.
const MAX_ATTRIBUTE: usize = 512;
/// The most bytes one mdoc message over BLE may have (as a session message).
pub const MAX_MESSAGE_BYTES: usize = crate::limits::MAX_CBOR_BYTES;

fn malformed(what: impl Into<String>) -> MdocError {
    MdocError::Malformed(what.into())
}

/// The Ident characteristic's value: HKDF-SHA-256 of EDeviceKeyBytes with an empty salt and
/// the info `BLEIdent`, 16 bytes. A reader compares it with what it reads from the peripheral
/// to know it reached the mdoc that showed the engagement.
pub fn ident(e_device_key_bytes: &[u8]) -> Result<[u8; 16], MdocError> {
    let okm = crate::crypto::aead::hkdf_sha256(e_device_key_bytes, &[], b"BLEIdent")
        .map_err(|e| malformed(format!("BLE ident: {e}")))?;
    // HKDF output is a prefix-stable stream: the first 16 of 32 bytes are the 16-byte output.
    let mut out = [0u8; 16];
    out.copy_from_slice(&okm.expose()[..16]);
    Ok(out)
}

/// Whether the value read from the Ident characteristic is the one this engagement implies.
pub fn check_ident(e_device_key_bytes: &[u8], read: &[u8]) -> Result<(), MdocError> {
    let expected = ident(e_device_key_bytes)?;
    if crate::crypto::constant_time_eq(&expected, read) {
        Ok(())
    } else {
        Err(malformed("the BLE Ident characteristic is not this mdoc's"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Open,
    Ended,
}

/// What the State characteristic says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateChange {
    /// The session starts: data may flow.
    Started,
    /// The session ends.
    Ended,
}

/// One side of a BLE session's data transfer: framing out, reassembly in, and the session
/// state. The same for both roles (mdoc peripheral server and mdoc central client).
#[derive(Debug)]
pub struct BleLink {
    mtu: usize,
    phase: Phase,
    incoming: Vec<u8>,
}

impl BleLink {
    /// A link over a connection with this ATT MTU (at least 23).
    pub fn new(mtu: usize) -> Result<Self, MdocError> {
        if mtu < MIN_MTU {
            return Err(malformed(format!("BLE MTU {mtu} is below {MIN_MTU}")));
        }
        Ok(Self {
            mtu,
            phase: Phase::Waiting,
            incoming: Vec::new(),
        })
    }

    /// The MTU changed (renegotiated): later writes use the new size.
    pub fn set_mtu(&mut self, mtu: usize) -> Result<(), MdocError> {
        if mtu < MIN_MTU {
            return Err(malformed(format!("BLE MTU {mtu} is below {MIN_MTU}")));
        }
        self.mtu = mtu;
        Ok(())
    }

    fn max_write(&self) -> usize {
        (self.mtu - 3).min(MAX_ATTRIBUTE)
    }

    /// A value written to (or notified on) the State characteristic. A session ended while a
    /// message was half received reports the loss.
    pub fn on_state(&mut self, value: &[u8]) -> Result<StateChange, MdocError> {
        match value {
            [STATE_START] if self.phase == Phase::Waiting => {
                self.phase = Phase::Open;
                Ok(StateChange::Started)
            }
            [STATE_START] => Err(malformed("BLE session started twice")),
            [STATE_END] => {
                self.phase = Phase::Ended;
                if self.incoming.is_empty() {
                    Ok(StateChange::Ended)
                } else {
                    self.incoming.clear();
                    Err(malformed(
                        "the BLE session ended in the middle of a message",
                    ))
                }
            }
            _ => Err(malformed("unknown BLE state value")),
        }
    }

    /// The local side starts the session (the value to write to State is [`STATE_START`]).
    pub fn start(&mut self) -> Result<[u8; 1], MdocError> {
        self.on_state(&[STATE_START]).map(|_| [STATE_START])
    }

    /// The local side ends the session: the value to write to State. A half-received message
    /// is dropped.
    pub fn end(&mut self) -> [u8; 1] {
        self.phase = Phase::Ended;
        self.incoming.clear();
        [STATE_END]
    }

    /// Whether the session has ended.
    pub fn ended(&self) -> bool {
        self.phase == Phase::Ended
    }

    /// The writes (or notifications) that carry `message`, in order.
    pub fn outgoing(&self, message: &[u8]) -> Result<Vec<Vec<u8>>, MdocError> {
        if self.phase != Phase::Open {
            return Err(MdocError::SessionTerminated);
        }
        if message.is_empty() || message.len() > MAX_MESSAGE_BYTES {
            return Err(malformed("BLE message size"));
        }
        let part = self.max_write() - 1;
        let count = message.len().div_ceil(part);
        Ok(message
            .chunks(part)
            .enumerate()
            .map(|(i, chunk)| {
                let mut write = Vec::with_capacity(chunk.len() + 1);
                write.push(if i + 1 == count { 0x00 } else { 0x01 });
                write.extend_from_slice(chunk);
                write
            })
            .collect())
    }

    /// One write (or notification) received on the data characteristic: the complete message
    /// when this was its last part.
    pub fn on_data(&mut self, write: &[u8]) -> Result<Option<Vec<u8>>, MdocError> {
        match self.phase {
            Phase::Waiting => return Err(malformed("BLE data before the session started")),
            Phase::Ended => return Err(MdocError::SessionTerminated),
            Phase::Open => {}
        }
        if write.len() > self.max_write() {
            self.incoming.clear();
            return Err(malformed("BLE write larger than the MTU allows"));
        }
        let (&flag, data) = write
            .split_first()
            .ok_or_else(|| malformed("empty BLE write"))?;
        if flag > 0x01 {
            self.incoming.clear();
            return Err(malformed("unknown BLE framing byte"));
        }
        if self.incoming.len() + data.len() > MAX_MESSAGE_BYTES {
            self.incoming.clear();
            return Err(malformed("BLE message too large"));
        }
        self.incoming.extend_from_slice(data);
        if flag == 0x01 {
            return Ok(None);
        }
        if self.incoming.is_empty() {
            return Err(malformed("empty BLE message"));
        }
        Ok(Some(std::mem::take(&mut self.incoming)))
    }
}

/// The L2CAP PSM characteristic of mdoc peripheral server mode (18013-5 Table A.1): the mdoc
/// publishes the PSM of its L2CAP channel there.
pub const L2CAP_PSM_PERIPHERAL_SERVER: &str = "0000000a-a123-48ce-896b-4c76973373e6";
/// The L2CAP PSM characteristic of mdoc central client mode: the reader publishes its PSM.
pub const L2CAP_PSM_CENTRAL_CLIENT: &str = "0000000b-a123-48ce-896b-4c76973373e6";

/// Reads the value of an L2CAP PSM characteristic: four bytes, big-endian, naming a PSM in the
/// LE range (1 to 255). Any other length or value is refused rather than guessed at: the
/// 2021 edition does not fix the encoding, and this is the one the open implementations that
/// interoperate over L2CAP use.
pub fn l2cap_psm(value: &[u8]) -> Result<u16, MdocError> {
    let bytes: [u8; 4] = value
        .try_into()
        .map_err(|_| malformed("an L2CAP PSM is four bytes"))?;
    u16::try_from(u32::from_be_bytes(bytes))
        .ok()
        .filter(|psm| (1..=0xff).contains(psm))
        .ok_or_else(|| malformed("L2CAP PSM outside the LE range"))
}

/// The value of an L2CAP PSM characteristic for `psm`.
pub fn l2cap_psm_value(psm: u16) -> Result<[u8; 4], MdocError> {
    if !(1..=0xff).contains(&psm) {
        return Err(malformed("L2CAP PSM outside the LE range"));
    }
    Ok(u32::from(psm).to_be_bytes())
}

/// The session's messages on an L2CAP connection-oriented channel. The channel is a byte
/// stream with no message boundaries of its own, so each message goes with a four-byte
/// big-endian length before it; what arrives is cut back into messages whatever the chunks
/// the host's socket returns. A length of zero or above [`MAX_MESSAGE_BYTES`] is refused, and
/// a message cut short is reported when the channel closes. There is no State characteristic
/// on L2CAP: the session ends with a SessionData status, then the host closes the channel.
#[derive(Debug, Default)]
pub struct L2capChannel {
    incoming: Vec<u8>,
    closed: bool,
}

impl L2capChannel {
    const PREFIX: usize = 4;

    /// A channel just opened.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes to write for `message`.
    pub fn outgoing(&self, message: &[u8]) -> Result<Vec<u8>, MdocError> {
        if self.closed {
            return Err(MdocError::SessionTerminated);
        }
        if message.is_empty() || message.len() > MAX_MESSAGE_BYTES {
            return Err(malformed("L2CAP message empty or too large"));
        }
        let len = u32::try_from(message.len()).map_err(|_| malformed("L2CAP message too large"))?;
        let mut out = Vec::with_capacity(Self::PREFIX + message.len());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(message);
        Ok(out)
    }

    /// Bytes read from the channel: every message they complete, in order. After an error the
    /// channel is unusable (its framing is lost) and should be closed.
    pub fn on_bytes(&mut self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, MdocError> {
        if self.closed {
            return Err(MdocError::SessionTerminated);
        }
        self.incoming.extend_from_slice(bytes);
        let mut messages = Vec::new();
        while let Some(prefix) = self.incoming.get(..Self::PREFIX) {
            let mut len = [0u8; 4];
            len.copy_from_slice(prefix);
            let len = u32::from_be_bytes(len) as usize;
            if len == 0 || len > MAX_MESSAGE_BYTES {
                self.closed = true;
                self.incoming.clear();
                return Err(malformed("L2CAP message length out of bounds"));
            }
            if self.incoming.len() < Self::PREFIX + len {
                break;
            }
            let rest = self.incoming.split_off(Self::PREFIX + len);
            let mut framed = std::mem::replace(&mut self.incoming, rest);
            messages.push(framed.split_off(Self::PREFIX));
        }
        Ok(messages)
    }

    /// The channel closed: an error when a message was cut short.
    pub fn close(&mut self) -> Result<(), MdocError> {
        self.closed = true;
        if self.incoming.is_empty() {
            Ok(())
        } else {
            self.incoming.clear();
            Err(malformed("the L2CAP channel closed inside a message"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(mtu: usize) -> BleLink {
        let mut link = BleLink::new(mtu).unwrap();
        assert_eq!(link.on_state(&[STATE_START]).unwrap(), StateChange::Started);
        link
    }

    #[test]
    fn messages_of_any_size_at_any_mtu() {
        for mtu in [23, 24, 100, 185, 247, 512, 515, 517] {
            let sender = open(mtu);
            let mut receiver = open(mtu);
            for len in [1usize, 18, 19, 20, 508, 509, 510, 4096, 100_000] {
                let message: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
                let writes = sender.outgoing(&message).unwrap();
                assert!(writes.iter().all(|w| w.len() <= (mtu - 3).min(512)));
                assert_eq!(writes.len(), len.div_ceil((mtu - 3).min(512) - 1));
                let mut got = None;
                for (i, write) in writes.iter().enumerate() {
                    let out = receiver.on_data(write).unwrap();
                    assert_eq!(out.is_some(), i + 1 == writes.len());
                    got = out.or(got);
                }
                assert_eq!(got.unwrap(), message, "mtu {mtu} len {len}");
            }
        }
    }

    #[test]
    fn writes_out_of_place_are_refused() {
        assert!(BleLink::new(22).is_err());
        let mut link = BleLink::new(23).unwrap();
        assert!(link.on_data(&[0, 1]).is_err(), "before start");
        assert!(link.outgoing(b"x").is_err());
        link.start().unwrap();
        assert!(link.on_state(&[STATE_START]).is_err());
        assert!(link.on_state(&[9]).is_err());
        assert!(link.on_data(&[]).is_err());
        assert!(link.on_data(&[2, 1]).is_err(), "unknown framing byte");
        assert!(link.on_data(&[0; 21]).is_err(), "larger than MTU - 3");
        assert!(link.on_data(&[0]).is_err(), "empty message");
        // The last part lost: the end of the session reports the half message.
        assert_eq!(link.on_data(&[1, 1, 2]).unwrap(), None);
        assert!(link.on_state(&[STATE_END]).is_err());
        assert!(link.ended());
        assert!(matches!(
            link.on_data(&[0, 1]),
            Err(MdocError::SessionTerminated)
        ));
    }

    #[test]
    fn ident_is_hkdf_of_the_engagement_key() {
        let key = b"\xd8\x18\x58\x4b\xa4";
        let id = ident(key).unwrap();
        assert_eq!(id.len(), 16);
        check_ident(key, &id).unwrap();
        assert!(check_ident(b"other", &id).is_err());
        assert!(check_ident(key, &id[..15]).is_err());
    }

    #[test]
    fn l2cap_messages_come_back_whatever_the_chunks() {
        let sender = L2capChannel::new();
        let messages: Vec<Vec<u8>> = (1..40).map(|n| vec![n as u8; n * 97]).collect();
        let mut stream = Vec::new();
        for m in &messages {
            stream.extend(sender.outgoing(m).unwrap());
        }
        for chunk in [1usize, 3, 4, 5, 512, 4096, stream.len()] {
            let mut receiver = L2capChannel::new();
            let mut got = Vec::new();
            for piece in stream.chunks(chunk) {
                got.extend(receiver.on_bytes(piece).unwrap());
            }
            assert_eq!(got, messages, "chunks of {chunk}");
            receiver.close().unwrap();
        }
        // Cut short, then closed: reported.
        let mut receiver = L2capChannel::new();
        assert!(receiver.on_bytes(&stream[..10]).unwrap().is_empty());
        assert!(receiver.close().is_err());
        // A length of zero or beyond the bound ends the channel.
        let mut receiver = L2capChannel::new();
        assert!(receiver.on_bytes(&[0, 0, 0, 0]).is_err());
        assert!(
            receiver.on_bytes(&[0, 0, 0, 1, 7]).is_err(),
            "closed after an error"
        );
        let mut receiver = L2capChannel::new();
        assert!(receiver.on_bytes(&[0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(sender.outgoing(&[]).is_err());
    }

    #[test]
    fn l2cap_psm_is_four_big_endian_bytes_in_the_le_range() {
        assert_eq!(l2cap_psm(&[0, 0, 0, 0x80]).unwrap(), 0x80);
        assert_eq!(l2cap_psm_value(0x80).unwrap(), [0, 0, 0, 0x80]);
        for bad in [
            &[0x80][..],
            &[0x80, 0],
            &[0, 0, 0, 0],
            &[0, 0, 1, 0],
            &[0, 0, 0, 0x80, 0],
        ] {
            assert!(l2cap_psm(bad).is_err(), "{bad:?}");
        }
        assert!(l2cap_psm_value(0).is_err());
        assert!(l2cap_psm_value(0x100).is_err());
    }
}
