//! NFC Forum NDEF messages and the connection handover records of ISO/IEC 18013-5 8.2.2.1:
//! the Handover Select message an mdoc shows on NFC (static handover, or its answer to a
//! reader's Handover Request in negotiated handover), with the DeviceEngagement record and the
//! carrier configuration records, and the Handover Request a reader sends.
//!
//! The exact bytes matter: the Handover Select (and for negotiated handover the Handover
//! Request) go into the SessionTranscript as they were read, so parsing keeps every record,
//! and building follows the NDEF record layout (short records when the payload fits one byte,
//! an ID length only when there is an ID).

use super::MdocError;

/// Type name format: NFC Forum well-known type (`Hs`, `Hr`, `ac`, `cr`).
pub const TNF_WELL_KNOWN: u8 = 0x01;
/// Type name format: a media type (`application/vnd.bluetooth.le.oob`).
pub const TNF_MEDIA: u8 = 0x02;
/// Type name format: an NFC Forum external type (`iso.org:18013:deviceengagement`).
pub const TNF_EXTERNAL: u8 = 0x04;

/// The external type of the DeviceEngagement record (18013-5 8.2.2.1).
pub const DEVICE_ENGAGEMENT_TYPE: &[u8] = b"iso.org:18013:deviceengagement";
/// The record ID of the DeviceEngagement record, named as auxiliary data by the carriers.
pub const DEVICE_ENGAGEMENT_ID: &[u8] = b"mdoc";
/// The media type of a Bluetooth LE carrier configuration record.
pub const BLE_OOB_TYPE: &[u8] = b"application/vnd.bluetooth.le.oob";
/// The external type of the NFC carrier configuration record of 18013-5.
pub const NFC_CARRIER_TYPE: &[u8] = b"iso.org:18013:nfc";
/// Connection handover version 1.5, the one 18013-5 uses.
pub const HANDOVER_VERSION: u8 = 0x15;

/// The most bytes an NDEF message read from outside may have.
pub const MAX_NDEF_BYTES: usize = 64 * 1024;
/// The most records an NDEF message read from outside may have (nested ones count apart).
pub const MAX_NDEF_RECORDS: usize = 32;

const MB: u8 = 0x80;
const ME: u8 = 0x40;
const CF: u8 = 0x20;
const SR: u8 = 0x10;
const IL: u8 = 0x08;

fn malformed(what: impl Into<String>) -> MdocError {
    MdocError::Malformed(what.into())
}

/// One NDEF record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Type name format (the low three bits of the header).
    pub tnf: u8,
    /// The record type.
    pub record_type: Vec<u8>,
    /// The record ID (empty when there is none).
    pub id: Vec<u8>,
    /// The payload.
    pub payload: Vec<u8>,
}

impl Record {
    /// A record of this type name format, type, ID and payload.
    pub fn new(tnf: u8, record_type: &[u8], id: &[u8], payload: Vec<u8>) -> Self {
        Self {
            tnf,
            record_type: record_type.to_vec(),
            id: id.to_vec(),
            payload,
        }
    }

    fn is(&self, tnf: u8, record_type: &[u8]) -> bool {
        self.tnf == tnf && self.record_type == record_type
    }
}

/// Reads an NDEF message: every record in order. Chunked records, reserved type name formats,
/// a missing message begin or end flag, lengths past the end and trailing bytes are refused.
pub fn parse(bytes: &[u8]) -> Result<Vec<Record>, MdocError> {
    if bytes.len() > MAX_NDEF_BYTES {
        return Err(malformed("NDEF message too large"));
    }
    let mut records = Vec::new();
    let mut rest = bytes;
    loop {
        let (&header, tail) = rest
            .split_first()
            .ok_or_else(|| malformed("NDEF message ends without a last record"))?;
        rest = tail;
        let first = records.is_empty();
        if (header & MB != 0) != first {
            return Err(malformed("NDEF message-begin flag out of place"));
        }
        if header & CF != 0 {
            return Err(MdocError::Unsupported("chunked NDEF records".into()));
        }
        let tnf = header & 0x07;
        if tnf > 0x04 {
            return Err(malformed(format!("NDEF type name format {tnf}")));
        }
        let mut take = |n: usize, what: &str| -> Result<&[u8], MdocError> {
            if rest.len() < n {
                return Err(malformed(format!("NDEF record {what} past the end")));
            }
            let (head, tail) = rest.split_at(n);
            rest = tail;
            Ok(head)
        };
        let mut length = |n: usize, what: &str| -> Result<usize, MdocError> {
            let b = take(n, what)?;
            let value = b.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b));
            usize::try_from(value).map_err(|_| malformed(format!("NDEF {what}")))
        };
        let type_len = length(1, "type length")?;
        let payload_len = length(if header & SR != 0 { 1 } else { 4 }, "payload length")?;
        let id_len = if header & IL != 0 {
            length(1, "ID length")?
        } else {
            0
        };
        let record_type = take(type_len, "type")?.to_vec();
        let id = take(id_len, "ID")?.to_vec();
        let payload = take(payload_len, "payload")?.to_vec();
        if tnf == 0 && (type_len != 0 || id_len != 0 || payload_len != 0) {
            return Err(malformed("empty NDEF record with content"));
        }
        if records.len() == MAX_NDEF_RECORDS {
            return Err(malformed("too many NDEF records"));
        }
        records.push(Record {
            tnf,
            record_type,
            id,
            payload,
        });
        if header & ME != 0 {
            if !rest.is_empty() {
                return Err(malformed("bytes after the last NDEF record"));
            }
            return Ok(records);
        }
    }
}

/// Writes an NDEF message: short records where the payload fits, an ID length only with an ID.
pub fn encode(records: &[Record]) -> Result<Vec<u8>, MdocError> {
    if records.is_empty() {
        return Err(malformed("an NDEF message has at least one record"));
    }
    let mut out = Vec::new();
    let last = records.len() - 1;
    for (i, record) in records.iter().enumerate() {
        let type_len = u8::try_from(record.record_type.len())
            .map_err(|_| malformed("NDEF record type too long"))?;
        let id_len =
            u8::try_from(record.id.len()).map_err(|_| malformed("NDEF record ID too long"))?;
        let short = u8::try_from(record.payload.len()).ok();
        let mut header = record.tnf & 0x07;
        if i == 0 {
            header |= MB;
        }
        if i == last {
            header |= ME;
        }
        if short.is_some() {
            header |= SR;
        }
        if !record.id.is_empty() {
            header |= IL;
        }
        out.push(header);
        out.push(type_len);
        match short {
            Some(len) => out.push(len),
            None => {
                let len = u32::try_from(record.payload.len())
                    .map_err(|_| malformed("NDEF payload too long"))?;
                out.extend_from_slice(&len.to_be_bytes());
            }
        }
        if !record.id.is_empty() {
            out.push(id_len);
        }
        out.extend_from_slice(&record.record_type);
        out.extend_from_slice(&record.id);
        out.extend_from_slice(&record.payload);
    }
    if out.len() > MAX_NDEF_BYTES {
        return Err(malformed("NDEF message too large"));
    }
    Ok(out)
}

/// An alternative carrier record (`ac`): which carrier configuration record to use, in what
/// power state, and which auxiliary records (the DeviceEngagement) go with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlternativeCarrier {
    /// Carrier power state: 0 inactive, 1 active, 2 activating, 3 unknown.
    pub power_state: u8,
    /// The ID of the carrier configuration record.
    pub carrier_data_reference: Vec<u8>,
    /// IDs of auxiliary data records.
    pub auxiliary_data_references: Vec<Vec<u8>>,
}

impl AlternativeCarrier {
    fn parse(payload: &[u8]) -> Result<Self, MdocError> {
        let mut rest = payload;
        let mut byte = |what: &str| -> Result<u8, MdocError> {
            let (&b, tail) = rest
                .split_first()
                .ok_or_else(|| malformed(format!("alternative carrier {what} missing")))?;
            rest = tail;
            Ok(b)
        };
        let power_state = byte("power state")? & 0x03;
        let reference_len = usize::from(byte("reference length")?);
        let mut take = |n: usize| -> Result<Vec<u8>, MdocError> {
            if rest.len() < n {
                return Err(malformed("alternative carrier reference past the end"));
            }
            let (head, tail) = rest.split_at(n);
            rest = tail;
            Ok(head.to_vec())
        };
        let carrier_data_reference = take(reference_len)?;
        let count = take(1)?
            .first()
            .copied()
            .ok_or_else(|| malformed("alternative carrier count missing"))?;
        let mut auxiliary_data_references = Vec::new();
        for _ in 0..count {
            let len = take(1)?
                .first()
                .copied()
                .ok_or_else(|| malformed("auxiliary reference length missing"))?;
            auxiliary_data_references.push(take(usize::from(len))?);
        }
        if !rest.is_empty() {
            return Err(malformed("bytes after an alternative carrier"));
        }
        Ok(Self {
            power_state,
            carrier_data_reference,
            auxiliary_data_references,
        })
    }

    fn encode(&self) -> Result<Vec<u8>, MdocError> {
        let len = |b: &[u8]| u8::try_from(b.len()).map_err(|_| malformed("reference too long"));
        let mut out = vec![self.power_state & 0x03, len(&self.carrier_data_reference)?];
        out.extend_from_slice(&self.carrier_data_reference);
        out.push(
            u8::try_from(self.auxiliary_data_references.len())
                .map_err(|_| malformed("too many auxiliary references"))?,
        );
        for reference in &self.auxiliary_data_references {
            out.push(len(reference)?);
            out.extend_from_slice(reference);
        }
        Ok(out)
    }
}

/// The Bluetooth LE role a carrier configuration announces (Bluetooth Core Supplement, LE Role).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeRole {
    /// Only the peripheral role.
    PeripheralOnly,
    /// Only the central role.
    CentralOnly,
    /// Both, peripheral preferred.
    PeripheralPreferred,
    /// Both, central preferred.
    CentralPreferred,
}

const AD_UUID128_COMPLETE: u8 = 0x07;
const AD_LE_ADDRESS: u8 = 0x1b;
const AD_LE_ROLE: u8 = 0x1c;

/// A Bluetooth LE out-of-band carrier configuration: its advertising data structures, in order
/// (kept as read, so that a configuration re-encodes to its own bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BleOob {
    /// `(AD type, data)` in order.
    pub structures: Vec<(u8, Vec<u8>)>,
}

impl BleOob {
    /// A configuration with the LE role, the service UUID (big-endian, as in the
    /// DeviceEngagement) and, for the peripheral, its device address (6 bytes and the address
    /// type), in the order 18013-5's example uses.
    pub fn new(role: LeRole, uuid: Option<[u8; 16]>, address: Option<[u8; 7]>) -> Self {
        let mut structures = Vec::new();
        if let Some(address) = address {
            structures.push((AD_LE_ADDRESS, address.to_vec()));
        }
        let role = match role {
            LeRole::PeripheralOnly => 0,
            LeRole::CentralOnly => 1,
            LeRole::PeripheralPreferred => 2,
            LeRole::CentralPreferred => 3,
        };
        structures.push((AD_LE_ROLE, vec![role]));
        if let Some(uuid) = uuid {
            let mut le = uuid;
            le.reverse();
            structures.push((AD_UUID128_COMPLETE, le.to_vec()));
        }
        Self { structures }
    }

    /// Reads the advertising data structures of a carrier configuration record.
    pub fn parse(payload: &[u8]) -> Result<Self, MdocError> {
        let mut structures = Vec::new();
        let mut rest = payload;
        while let Some((&len, tail)) = rest.split_first() {
            let len = usize::from(len);
            if len == 0 || tail.len() < len {
                return Err(malformed("Bluetooth LE OOB data structure length"));
            }
            let (structure, tail) = tail.split_at(len);
            rest = tail;
            if let Some((&ad_type, data)) = structure.split_first() {
                structures.push((ad_type, data.to_vec()));
            }
        }
        Ok(Self { structures })
    }

    /// The record payload.
    pub fn encode(&self) -> Result<Vec<u8>, MdocError> {
        let mut out = Vec::new();
        for (ad_type, data) in &self.structures {
            let len = u8::try_from(data.len() + 1)
                .map_err(|_| malformed("Bluetooth LE OOB data structure too long"))?;
            out.push(len);
            out.push(*ad_type);
            out.extend_from_slice(data);
        }
        Ok(out)
    }

    fn find(&self, ad_type: u8) -> Option<&[u8]> {
        self.structures
            .iter()
            .find(|(t, _)| *t == ad_type)
            .map(|(_, d)| d.as_slice())
    }

    /// The LE role, when announced and known.
    pub fn role(&self) -> Option<LeRole> {
        match self.find(AD_LE_ROLE)? {
            [0] => Some(LeRole::PeripheralOnly),
            [1] => Some(LeRole::CentralOnly),
            [2] => Some(LeRole::PeripheralPreferred),
            [3] => Some(LeRole::CentralPreferred),
            _ => None,
        }
    }

    /// The first complete 128-bit service UUID, big-endian.
    pub fn uuid(&self) -> Option<[u8; 16]> {
        let data = self.find(AD_UUID128_COMPLETE)?;
        let mut uuid: [u8; 16] = data.get(..16)?.try_into().ok()?;
        uuid.reverse();
        Some(uuid)
    }

    /// The LE device address (6 bytes and the address type).
    pub fn address(&self) -> Option<[u8; 7]> {
        self.find(AD_LE_ADDRESS)?.try_into().ok()
    }
}

/// A Handover Select or Handover Request message, read or to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoverMessage {
    /// The connection handover version (0x15 for 1.5).
    pub version: u8,
    /// The collision resolution number of a Handover Request.
    pub collision_resolution: Option<u16>,
    /// The alternative carriers, in order of preference.
    pub carriers: Vec<AlternativeCarrier>,
    /// The records after the handover record: carrier configurations and auxiliary data.
    pub records: Vec<Record>,
}

impl HandoverMessage {
    /// Reads a Handover Select message (`Hs` first).
    pub fn parse_select(bytes: &[u8]) -> Result<Self, MdocError> {
        Self::parse(bytes, b"Hs")
    }

    /// Reads a Handover Request message (`Hr` first, with its collision resolution record).
    pub fn parse_request(bytes: &[u8]) -> Result<Self, MdocError> {
        let message = Self::parse(bytes, b"Hr")?;
        if message.collision_resolution.is_none() {
            return Err(malformed("Handover Request without collision resolution"));
        }
        Ok(message)
    }

    fn parse(bytes: &[u8], kind: &[u8]) -> Result<Self, MdocError> {
        let mut records = parse(bytes)?.into_iter();
        let first = records
            .next()
            .ok_or_else(|| malformed("empty handover message"))?;
        if !first.is(TNF_WELL_KNOWN, kind) {
            return Err(malformed("not the expected handover record"));
        }
        let (&version, inner) = first
            .payload
            .split_first()
            .ok_or_else(|| malformed("handover record without version"))?;
        if version >> 4 != 1 {
            return Err(MdocError::Unsupported(format!(
                "connection handover version {version:#04x}"
            )));
        }
        let mut collision_resolution = None;
        let mut carriers = Vec::new();
        if !inner.is_empty() {
            for record in parse(inner)? {
                if record.is(TNF_WELL_KNOWN, b"ac") {
                    carriers.push(AlternativeCarrier::parse(&record.payload)?);
                } else if record.is(TNF_WELL_KNOWN, b"cr") {
                    let random: [u8; 2] = record
                        .payload
                        .as_slice()
                        .try_into()
                        .map_err(|_| malformed("collision resolution record"))?;
                    collision_resolution = Some(u16::from_be_bytes(random));
                }
                // Other local records (an error record, for example) carry nothing used here.
            }
        }
        let records: Vec<Record> = records.collect();
        for carrier in &carriers {
            if !records
                .iter()
                .any(|r| r.id == carrier.carrier_data_reference)
            {
                return Err(malformed("alternative carrier names no record"));
            }
        }
        Ok(Self {
            version,
            collision_resolution,
            carriers,
            records,
        })
    }

    /// Writes the message as a Handover Select.
    pub fn encode_select(&self) -> Result<Vec<u8>, MdocError> {
        self.encode(b"Hs")
    }

    /// Writes the message as a Handover Request.
    pub fn encode_request(&self) -> Result<Vec<u8>, MdocError> {
        self.encode(b"Hr")
    }

    fn encode(&self, kind: &[u8]) -> Result<Vec<u8>, MdocError> {
        let mut inner = Vec::new();
        if let Some(random) = self.collision_resolution {
            inner.push(Record::new(
                TNF_WELL_KNOWN,
                b"cr",
                b"",
                random.to_be_bytes().to_vec(),
            ));
        }
        for carrier in &self.carriers {
            inner.push(Record::new(TNF_WELL_KNOWN, b"ac", b"", carrier.encode()?));
        }
        let mut payload = vec![self.version];
        if !inner.is_empty() {
            payload.extend(encode(&inner)?);
        }
        let mut records = vec![Record::new(TNF_WELL_KNOWN, kind, b"", payload)];
        records.extend(self.records.iter().cloned());
        encode(&records)
    }

    /// The DeviceEngagement an mdoc's Handover Select carries.
    pub fn device_engagement(&self) -> Option<&[u8]> {
        self.records
            .iter()
            .find(|r| r.is(TNF_EXTERNAL, DEVICE_ENGAGEMENT_TYPE))
            .map(|r| r.payload.as_slice())
    }

    /// The first Bluetooth LE carrier configuration that an alternative carrier names.
    pub fn ble(&self) -> Option<BleOob> {
        self.carriers.iter().find_map(|carrier| {
            self.records
                .iter()
                .find(|r| r.id == carrier.carrier_data_reference && r.is(TNF_MEDIA, BLE_OOB_TYPE))
                .and_then(|r| BleOob::parse(&r.payload).ok())
        })
    }

    /// Whether an alternative carrier names an NFC carrier configuration.
    pub fn offers_nfc(&self) -> bool {
        self.nfc_record().is_some()
    }

    /// The NFC carrier configuration an alternative carrier names, read.
    pub fn nfc(&self) -> Result<Option<NfcCarrier>, MdocError> {
        self.nfc_record()
            .map(|r| NfcCarrier::parse(&r.payload))
            .transpose()
    }

    fn nfc_record(&self) -> Option<&Record> {
        self.carriers.iter().find_map(|carrier| {
            self.records.iter().find(|r| {
                r.id == carrier.carrier_data_reference && r.is(TNF_EXTERNAL, NFC_CARRIER_TYPE)
            })
        })
    }
}

/// The 18013-5 NFC carrier configuration (record type `iso.org:18013:nfc`, ID `nfc`): version
/// 1, then, in an mdoc's Handover Select, the largest command data field it accepts and the
/// largest response data field it sends. Each limit is written as a length (of the type and
/// value), a type (1 command, 2 response) and a big-endian value in as few bytes as it needs.
/// A reader's Handover Request may carry the version alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NfcCarrier {
    /// The largest command data field, in bytes (at most 65,535).
    pub max_command: Option<u32>,
    /// The largest response data field, in bytes (at most 16,777,215).
    pub max_response: Option<u32>,
}

impl NfcCarrier {
    const VERSION: u8 = 0x01;
    const COMMAND: u8 = 0x01;
    const RESPONSE: u8 = 0x02;

    /// Reads a carrier configuration payload. An unknown version, a limit written twice or
    /// too wide for its kind, or bytes past the end are refused; a field of an unknown type is
    /// skipped.
    pub fn parse(payload: &[u8]) -> Result<Self, MdocError> {
        let (&version, mut rest) = payload
            .split_first()
            .ok_or_else(|| malformed("empty NFC carrier configuration"))?;
        if version != Self::VERSION {
            return Err(MdocError::Unsupported(format!(
                "NFC carrier configuration version {version:#04x}"
            )));
        }
        let mut carrier = Self {
            max_command: None,
            max_response: None,
        };
        while let Some((&len, tail)) = rest.split_first() {
            let len = usize::from(len);
            if len < 2 || tail.len() < len {
                return Err(malformed("NFC carrier field past the end"));
            }
            let (field, after) = tail.split_at(len);
            rest = after;
            let Some((&kind, value)) = field.split_first() else {
                return Err(malformed("empty NFC carrier field"));
            };
            let (slot, widest) = match kind {
                Self::COMMAND => (&mut carrier.max_command, 2),
                Self::RESPONSE => (&mut carrier.max_response, 3),
                _ => continue,
            };
            if value.len() > widest || slot.is_some() {
                return Err(malformed("NFC carrier limit too wide or repeated"));
            }
            *slot = Some(value.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)));
        }
        Ok(carrier)
    }

    /// Writes the payload.
    pub fn encode(&self) -> Result<Vec<u8>, MdocError> {
        let mut out = vec![Self::VERSION];
        for (kind, limit, widest) in [
            (Self::COMMAND, self.max_command, 2usize),
            (Self::RESPONSE, self.max_response, 3),
        ] {
            let Some(limit) = limit else { continue };
            let bytes = limit.to_be_bytes();
            let skip = bytes.iter().take(3).take_while(|b| **b == 0).count();
            let value = bytes.get(skip..).unwrap_or_default();
            if value.len() > widest {
                return Err(malformed("NFC carrier limit too large"));
            }
            out.push(u8::try_from(value.len() + 1).map_err(|_| malformed("NFC carrier field"))?);
            out.push(kind);
            out.extend_from_slice(value);
        }
        Ok(out)
    }
}

/// The Handover Select an mdoc shows for static handover (or answers a Handover Request with):
/// the DeviceEngagement and, when given, a Bluetooth LE carrier (ID `0`, active) and an NFC
/// carrier (ID `nfc`, active), each with the engagement as auxiliary data.
pub fn handover_select(
    engagement: &[u8],
    ble: Option<&BleOob>,
    nfc: Option<&NfcCarrier>,
) -> Result<Vec<u8>, MdocError> {
    let mut carriers = Vec::new();
    let mut records = Vec::new();
    if let Some(ble) = ble {
        carriers.push(AlternativeCarrier {
            power_state: 1,
            carrier_data_reference: b"0".to_vec(),
            auxiliary_data_references: vec![DEVICE_ENGAGEMENT_ID.to_vec()],
        });
        records.push(Record::new(TNF_MEDIA, BLE_OOB_TYPE, b"0", ble.encode()?));
    }
    if let Some(nfc) = nfc {
        carriers.push(AlternativeCarrier {
            power_state: 1,
            carrier_data_reference: b"nfc".to_vec(),
            auxiliary_data_references: vec![DEVICE_ENGAGEMENT_ID.to_vec()],
        });
        records.push(Record::new(
            TNF_EXTERNAL,
            NFC_CARRIER_TYPE,
            b"nfc",
            nfc.encode()?,
        ));
    }
    records.push(Record::new(
        TNF_EXTERNAL,
        DEVICE_ENGAGEMENT_TYPE,
        DEVICE_ENGAGEMENT_ID,
        engagement.to_vec(),
    ));
    HandoverMessage {
        version: HANDOVER_VERSION,
        collision_resolution: None,
        carriers,
        records,
    }
    .encode_select()
}

/// The TNEP service name of connection handover (NFC Forum TNEP 1.0, negotiated handover).
pub const HANDOVER_SERVICE: &[u8] = b"urn:nfc:sn:handover";
/// TNEP version 1.0.
const TNEP_VERSION: u8 = 0x10;

/// The TNEP Service Parameter record (`Tp`) a tag offering negotiated handover shows first:
/// version, service name, single-response mode, the minimum waiting time, no extensions, and
/// the largest NDEF message it takes.
pub fn service_parameter(max_message: u16) -> Record {
    let mut payload = vec![TNEP_VERSION, HANDOVER_SERVICE.len() as u8];
    payload.extend_from_slice(HANDOVER_SERVICE);
    payload.extend_from_slice(&[0x00, 0x00, 0x00]);
    payload.extend_from_slice(&max_message.to_be_bytes());
    Record::new(TNF_WELL_KNOWN, b"Tp", b"", payload)
}

/// Whether a message is a TNEP Service Parameter offer of connection handover.
pub fn offers_handover_service(records: &[Record]) -> bool {
    records.iter().any(|r| {
        r.is(TNF_WELL_KNOWN, b"Tp")
            && matches!(r.payload.as_slice(), [TNEP_VERSION, len, rest @ ..]
                if usize::from(*len) <= rest.len()
                    && rest.get(..usize::from(*len)) == Some(HANDOVER_SERVICE))
    })
}

/// The TNEP Service Select record (`Ts`) for connection handover.
pub fn service_select() -> Record {
    let mut payload = vec![HANDOVER_SERVICE.len() as u8];
    payload.extend_from_slice(HANDOVER_SERVICE);
    Record::new(TNF_WELL_KNOWN, b"Ts", b"", payload)
}

/// Whether a message selects the connection handover service.
pub fn selects_handover_service(records: &[Record]) -> bool {
    records.iter().any(|r| {
        r.is(TNF_WELL_KNOWN, b"Ts")
            && matches!(r.payload.split_first(), Some((len, name))
                if usize::from(*len) == name.len() && name == HANDOVER_SERVICE)
    })
}

/// A TNEP Status record (`Te`): 0 for success.
pub fn tnep_status(status: u8) -> Record {
    Record::new(TNF_WELL_KNOWN, b"Te", b"", vec![status])
}

/// The TNEP status a message carries, if it is a Status record.
pub fn tnep_status_of(records: &[Record]) -> Option<u8> {
    records
        .iter()
        .find(|r| r.is(TNF_WELL_KNOWN, b"Te"))
        .and_then(|r| r.payload.first().copied())
}

/// A reader's Handover Request (negotiated handover): its collision resolution number and
/// the carriers it can use: Bluetooth LE (reference `0`) and NFC (reference `nfc`, the
/// 18013-5 NFC carrier record, version 1).
pub fn handover_request(
    random: u16,
    ble: Option<&BleOob>,
    nfc: bool,
) -> Result<Vec<u8>, MdocError> {
    let mut carriers = Vec::new();
    let mut records = Vec::new();
    if let Some(ble) = ble {
        carriers.push(AlternativeCarrier {
            power_state: 1,
            carrier_data_reference: b"0".to_vec(),
            auxiliary_data_references: vec![],
        });
        records.push(Record::new(TNF_MEDIA, BLE_OOB_TYPE, b"0", ble.encode()?));
    }
    if nfc {
        carriers.push(AlternativeCarrier {
            power_state: 1,
            carrier_data_reference: b"nfc".to_vec(),
            auxiliary_data_references: vec![],
        });
        let version_only = NfcCarrier {
            max_command: None,
            max_response: None,
        };
        records.push(Record::new(
            TNF_EXTERNAL,
            NFC_CARRIER_TYPE,
            b"nfc",
            version_only.encode()?,
        ));
    }
    if carriers.is_empty() {
        return Err(malformed("a Handover Request offers at least one carrier"));
    }
    HandoverMessage {
        version: HANDOVER_VERSION,
        collision_resolution: Some(random),
        carriers,
        records,
    }
    .encode_request()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_short_and_long() {
        let records = vec![
            Record::new(TNF_WELL_KNOWN, b"T", b"", vec![1, 2, 3]),
            Record::new(TNF_MEDIA, b"a/b", b"x", vec![7; 300]),
        ];
        let bytes = encode(&records).unwrap();
        assert_eq!(bytes[0], MB | SR | TNF_WELL_KNOWN);
        assert_eq!(bytes[7], ME | IL | TNF_MEDIA);
        assert_eq!(parse(&bytes).unwrap(), records);
    }

    #[test]
    fn nfc_carrier_limits_are_written_in_as_few_bytes_as_they_need() {
        let carrier = NfcCarrier {
            max_command: Some(0xffff),
            max_response: Some(0xffff),
        };
        assert_eq!(
            carrier.encode().unwrap(),
            [1, 3, 1, 0xff, 0xff, 3, 2, 0xff, 0xff]
        );
        let short = NfcCarrier {
            max_command: Some(255),
            max_response: Some(0x01_0000),
        };
        let bytes = short.encode().unwrap();
        assert_eq!(bytes, [1, 2, 1, 0xff, 4, 2, 1, 0, 0]);
        assert_eq!(NfcCarrier::parse(&bytes).unwrap(), short);
        assert_eq!(
            NfcCarrier::parse(&[1]).unwrap(),
            NfcCarrier {
                max_command: None,
                max_response: None
            }
        );
        // An unknown field is skipped.
        assert_eq!(
            NfcCarrier::parse(&[1, 2, 9, 0, 3, 1, 1, 0])
                .unwrap()
                .max_command,
            Some(256)
        );
        let too_wide = NfcCarrier {
            max_command: Some(0x01_0000),
            max_response: None,
        };
        assert!(too_wide.encode().is_err());
        for bad in [
            &[][..],
            &[2],
            &[1, 3, 1, 0xff],
            &[1, 1, 1],
            &[1, 4, 1, 1, 0, 0],
            &[1, 2, 1, 5, 2, 1, 6],
            &[1, 5, 2, 1, 0, 0, 0],
        ] {
            assert!(NfcCarrier::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn malformed_messages_are_typed_errors() {
        let good = encode(&[Record::new(TNF_WELL_KNOWN, b"T", b"", vec![1, 2, 3])]).unwrap();
        for cut in 0..good.len() {
            assert!(parse(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(parse(&trailing).is_err());
        let mut chunked = good.clone();
        chunked[0] |= CF;
        assert!(matches!(parse(&chunked), Err(MdocError::Unsupported(_))));
        let mut no_begin = good.clone();
        no_begin[0] &= !MB;
        assert!(parse(&no_begin).is_err());
        let mut reserved = good;
        reserved[0] = (reserved[0] & !0x07) | 0x07;
        assert!(parse(&reserved).is_err());
        // A long payload length past the end, and a huge one.
        assert!(parse(&[MB | ME | TNF_MEDIA, 1, 0xff, 0xff, 0xff, 0xff, b'a']).is_err());
    }

    #[test]
    fn a_select_names_only_records_it_has() {
        let ble = BleOob::new(LeRole::CentralOnly, Some([9; 16]), None);
        let select = handover_select(b"\xa0", Some(&ble), None).unwrap();
        let read = HandoverMessage::parse_select(&select).unwrap();
        assert_eq!(read.device_engagement(), Some(&b"\xa0"[..]));
        assert_eq!(read.ble().unwrap().uuid(), Some([9; 16]));
        assert_eq!(read.ble().unwrap().role(), Some(LeRole::CentralOnly));
        assert_eq!(read.encode_select().unwrap(), select);
        // An alternative carrier naming a record that is not there.
        let mut broken = read;
        broken.records.retain(|r| r.id != b"0");
        let bytes = broken.encode_select().unwrap();
        assert!(HandoverMessage::parse_select(&bytes).is_err());
        assert!(HandoverMessage::parse_request(&select).is_err());
    }
}
