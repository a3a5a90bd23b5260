//! The reader's side of device retrieval: scan the engagement, send a (signed) DeviceRequest
//! in a SessionEstablishment, decrypt the DeviceResponse. Sans-I/O.

use super::engagement::DeviceEngagement;
use super::request::{DeviceRequest, DocRequest, ItemsRequest};
use super::response::DeviceResponse;
use super::session::{
    self, Handover, Role, SessionCipher, SessionData, SessionEstablishment, SessionKeys,
    SessionTranscript,
};
use super::MdocError;
use crate::cose::{self, cbor};
use crate::crypto::ec::SoftwareKey;

/// A reader session with one mdoc.
pub struct ReaderSession {
    ephemeral: SoftwareKey,
    transcript: SessionTranscript,
    cipher: SessionCipher,
    e_reader_key_bytes: Vec<u8>,
    sent_establishment: bool,
    requested: Vec<ItemsRequest>,
    handover: Handover,
    /// The engagement scanned from the mdoc.
    pub engagement: DeviceEngagement,
}

/// The reader's signing key and certificate chain (leaf first), for readerAuth.
pub struct ReaderIdentity<'a> {
    /// The reader authentication key.
    pub key: &'a SoftwareKey,
    /// Its certificate chain, leaf first.
    pub chain: &'a [Vec<u8>],
}

impl ReaderSession {
    /// Starts a session from a scanned `mdoc:` QR code.
    pub fn from_qr(uri: &str) -> Result<Self, MdocError> {
        Self::new(DeviceEngagement::from_qr_uri(uri)?)
    }

    /// Starts a session from a DeviceEngagement read from a QR code.
    pub fn new(engagement: DeviceEngagement) -> Result<Self, MdocError> {
        Self::with_key(engagement, SoftwareKey::generate()?, &Handover::Qr)
    }

    /// Starts a session from a DeviceEngagement read over NFC: the Handover Select it came in
    /// (and the Handover Request, for negotiated handover) go into the session transcript.
    pub fn with_handover(
        engagement: DeviceEngagement,
        handover: &Handover,
    ) -> Result<Self, MdocError> {
        Self::with_key(engagement, SoftwareKey::generate()?, handover)
    }

    fn with_key(
        engagement: DeviceEngagement,
        ephemeral: SoftwareKey,
        handover: &Handover,
    ) -> Result<Self, MdocError> {
        let e_reader_key_bytes = cbor::encode(&cose::cose_key(ephemeral.public_key())?);
        let transcript =
            SessionTranscript::new(Some(&engagement.bytes), Some(&e_reader_key_bytes), handover);
        let shared = ephemeral.agree(&engagement.e_device_key)?;
        let keys = SessionKeys::derive(shared.expose(), &transcript)?;
        let cipher = SessionCipher::new(Role::Reader, &keys)?;
        Ok(ReaderSession {
            ephemeral,
            transcript,
            cipher,
            e_reader_key_bytes,
            sent_establishment: false,
            requested: Vec::new(),
            handover: handover.clone(),
            engagement,
        })
    }

    /// The session transcript.
    pub fn transcript(&self) -> &SessionTranscript {
        &self.transcript
    }

    /// What the last request asked for: the response must answer exactly this.
    pub fn requested(&self) -> &[ItemsRequest] {
        &self.requested
    }

    /// The reader's ephemeral key (for verifying deviceMac).
    pub fn ephemeral_key(&self) -> &SoftwareKey {
        &self.ephemeral
    }

    /// Builds and encrypts a DeviceRequest: the first one travels in a SessionEstablishment,
    /// later ones in SessionData.
    pub fn request(
        &mut self,
        items: Vec<ItemsRequest>,
        identity: Option<ReaderIdentity<'_>>,
    ) -> Result<Vec<u8>, MdocError> {
        if items.is_empty() {
            return Err(MdocError::Malformed(
                "a request needs at least one document".into(),
            ));
        }
        let mut doc_requests = Vec::with_capacity(items.len());
        self.requested = items.clone();
        for item in items {
            doc_requests.push(match &identity {
                Some(id) => {
                    DocRequest::signed(item, &self.transcript, id.chain, |tbs| id.key.sign(tbs))?
                }
                None => DocRequest::unsigned(item),
            });
        }
        let request = DeviceRequest {
            version: "1.0".into(),
            doc_requests,
        }
        .encode()?;
        if self.sent_establishment {
            SessionData::seal(&mut self.cipher, &request, None)
        } else {
            let data = self.cipher.encrypt(&request)?;
            self.sent_establishment = true;
            Ok(SessionEstablishment {
                e_reader_key_bytes: self.e_reader_key_bytes.clone(),
                data,
            }
            .encode())
        }
    }

    /// Decrypts the mdoc's SessionData into its DeviceResponse (`None` when the mdoc ended
    /// the session without one).
    pub fn receive(
        &mut self,
        message: &[u8],
    ) -> Result<Option<(Vec<u8>, DeviceResponse)>, MdocError> {
        let data = SessionData::parse(message)?;
        let response = match data.data {
            Some(ciphertext) => {
                let plain = self.cipher.decrypt_owned(ciphertext)?;
                let parsed = DeviceResponse::parse(&plain)?;
                Some((plain, parsed))
            }
            None => None,
        };
        match data.status {
            Some(session::STATUS_TERMINATION) => self.cipher.terminate(),
            Some(other) if response.is_none() => return Err(MdocError::SessionStatus(other)),
            _ => {}
        }
        Ok(response)
    }

    /// The session as bytes, to continue it in another process (a CLI step, a stateless
    /// server). It holds the reader's ephemeral private key and what was requested: the API
    /// seals it before it leaves the core.
    pub fn save_state(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let (sent, received) = self.cipher.counters();
        let requested = self
            .requested
            .iter()
            .map(|r| cbor::Value::Bytes(r.encode()))
            .collect();
        let mut entries = vec![
            cbor::entry("v", cbor::Value::Integer(2.into())),
            cbor::entry("requested", cbor::Value::Array(requested)),
            cbor::entry(
                "key",
                cbor::Value::Bytes(self.ephemeral.private_scalar().expose().to_vec()),
            ),
            cbor::entry(
                "engagement",
                cbor::Value::Bytes(self.engagement.bytes.clone()),
            ),
            cbor::entry("sent", cbor::Value::Integer(sent.into())),
            cbor::entry("received", cbor::Value::Integer(received.into())),
            cbor::entry("terminated", cbor::Value::Bool(self.cipher.is_terminated())),
        ];
        if let Handover::Nfc { select, request } = &self.handover {
            entries.push(cbor::entry("hs", cbor::Value::Bytes(select.clone())));
            if let Some(request) = request {
                entries.push(cbor::entry("hr", cbor::Value::Bytes(request.clone())));
            }
        }
        zeroize::Zeroizing::new(cbor::encode(&cbor::Value::Map(entries)))
    }

    /// Continues a session saved with [`ReaderSession::save_state`].
    pub fn resume(state: &[u8]) -> Result<Self, MdocError> {
        let value = cbor::decode(state)?;
        let m = cbor::map(&value, "reader state")?;
        if cbor::uint(cbor::require(m, "v", "reader state")?, "version")? != 2 {
            return Err(MdocError::Unsupported("reader state version".into()));
        }
        let key = zeroize::Zeroizing::new(
            cbor::bytes(cbor::require(m, "key", "reader state")?, "key")?.to_vec(),
        );
        let ephemeral = SoftwareKey::from_private_scalar(&key)?;
        let engagement = DeviceEngagement::parse(cbor::bytes(
            cbor::require(m, "engagement", "reader state")?,
            "engagement",
        )?)?;
        let counter = |name: &str| -> Result<u32, MdocError> {
            u32::try_from(cbor::uint(cbor::require(m, name, "reader state")?, name)?)
                .map_err(|_| MdocError::Malformed("reader state counter".into()))
        };
        let requested = cbor::array(cbor::require(m, "requested", "reader state")?, "requested")?
            .iter()
            .map(|r| ItemsRequest::parse(cbor::bytes(r, "requested")?))
            .collect::<Result<Vec<_>, _>>()?;
        let optional = |name: &str| -> Result<Option<Vec<u8>>, MdocError> {
            cbor::get(m, name)
                .map(|v| cbor::bytes(v, name).map(<[u8]>::to_vec))
                .transpose()
                .map_err(MdocError::from)
        };
        let handover = match (optional("hs")?, optional("hr")?) {
            (Some(select), request) => Handover::Nfc { select, request },
            (None, None) => Handover::Qr,
            (None, Some(_)) => {
                return Err(MdocError::Malformed(
                    "reader state with a Handover Request and no Select".into(),
                ))
            }
        };
        let mut session = Self::with_key(engagement, ephemeral, &handover)?;
        session.requested = requested;
        session
            .cipher
            .set_counters(counter("sent")?, counter("received")?);
        session.sent_establishment = counter("sent")? > 0;
        if cbor::boolean(
            cbor::require(m, "terminated", "reader state")?,
            "terminated",
        )? {
            session.cipher.terminate();
        }
        Ok(session)
    }

    /// Ends the session: the SessionData with status 20 to send.
    pub fn terminate(&mut self) -> Vec<u8> {
        self.cipher.terminate();
        SessionData {
            data: None,
            status: Some(session::STATUS_TERMINATION),
        }
        .encode()
    }
}
