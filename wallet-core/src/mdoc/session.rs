//! Session establishment and encryption (ISO/IEC 18013-5 9.1.1).
//!
//! Both sides derive SKReader and SKDevice with HKDF-SHA-256 from the ECDH shared secret of their
//! ephemeral keys, salted with SHA-256(SessionTranscriptBytes). Messages are AES-256-GCM with the
//! IV `identifier (8 bytes: reader 0, mdoc 1) || message counter (4 bytes, from 1)`; each side
//! counts what it sends and what it receives, so a replayed, dropped or reordered message fails.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::digest;

use super::MdocError;
use crate::cose::cbor::{self, Value};
use crate::crypto::aead::hkdf_sha256;
use crate::crypto::secret::SymmetricKey;

/// SessionData status: error, session encryption.
pub const STATUS_ENCRYPTION_ERROR: u64 = 10;
/// SessionData status: error, CBOR decoding.
pub const STATUS_DECODING_ERROR: u64 = 11;
/// SessionData status: session termination.
pub const STATUS_TERMINATION: u64 = 20;

/// How the engagement reached the reader, as bound into the SessionTranscript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handover {
    /// QR code engagement: the handover is CBOR null.
    Qr,
    /// NFC static or negotiated handover: the Handover Select message and, for negotiated
    /// handover, the Handover Request message (both as NDEF bytes).
    Nfc {
        /// Handover Select message.
        select: Vec<u8>,
        /// Handover Request message, for negotiated handover.
        request: Option<Vec<u8>>,
    },
    /// OpenID4VP (OpenID for Verifiable Presentations 1.0, Annex B.2.6.1):
    /// `["OpenID4VPHandover", SHA-256(CBOR([client_id, nonce, jwk_thumbprint, response_uri]))]`.
    /// The transcript then has null in place of both engagement keys.
    OpenId4Vp {
        /// The verifier's client_id.
        client_id: String,
        /// The request nonce.
        nonce: String,
        /// SHA-256 JWK thumbprint of the verifier's encryption key, when the response is encrypted.
        jwk_thumbprint: Option<Vec<u8>>,
        /// response_uri (or redirect_uri) of the request.
        response_uri: String,
    },
    /// OpenID4VP over the W3C Digital Credentials API (OpenID4VP 1.0 appendix B.2.6.2):
    /// `["OpenID4VPDCAPIHandover", SHA-256(CBOR([origin, nonce, jwk_thumbprint]))]`.
    OpenId4VpDcApi {
        /// The web origin the platform reports (not prefixed with `origin:`).
        origin: String,
        /// The request nonce.
        nonce: String,
        /// SHA-256 JWK thumbprint of the verifier's encryption key, when the response is encrypted.
        jwk_thumbprint: Option<Vec<u8>>,
    },
    /// ISO/IEC 18013-7 Annex C, `org-iso-mdoc` over the Digital Credentials API:
    /// `["dcapi", SHA-256(CBOR([encryption_info, origin]))]`, where `encryption_info` is the
    /// base64url text exactly as received.
    DcApi {
        /// The request's `encryptionInfo`, as received (base64url, no padding).
        encryption_info: String,
        /// The web origin the platform reports.
        origin: String,
    },
}

fn hashed_handover(label: &str, info: &Value) -> Value {
    let hash = digest::digest(&digest::SHA256, &cbor::encode(info));
    Value::Array(vec![
        Value::Text(label.into()),
        Value::Bytes(hash.as_ref().to_vec()),
    ])
}

impl Handover {
    fn to_value(&self) -> Value {
        match self {
            Handover::Qr => Value::Null,
            Handover::Nfc { select, request } => Value::Array(vec![
                Value::Bytes(select.clone()),
                request.clone().map_or(Value::Null, Value::Bytes),
            ]),
            Handover::OpenId4Vp {
                client_id,
                nonce,
                jwk_thumbprint,
                response_uri,
            } => {
                let info = Value::Array(vec![
                    Value::Text(client_id.clone()),
                    Value::Text(nonce.clone()),
                    jwk_thumbprint.clone().map_or(Value::Null, Value::Bytes),
                    Value::Text(response_uri.clone()),
                ]);
                hashed_handover("OpenID4VPHandover", &info)
            }
            Handover::OpenId4VpDcApi {
                origin,
                nonce,
                jwk_thumbprint,
            } => {
                let info = Value::Array(vec![
                    Value::Text(origin.clone()),
                    Value::Text(nonce.clone()),
                    jwk_thumbprint.clone().map_or(Value::Null, Value::Bytes),
                ]);
                hashed_handover("OpenID4VPDCAPIHandover", &info)
            }
            Handover::DcApi {
                encryption_info,
                origin,
            } => {
                let info = Value::Array(vec![
                    Value::Text(encryption_info.clone()),
                    Value::Text(origin.clone()),
                ]);
                hashed_handover("dcapi", &info)
            }
        }
    }
}

/// The SessionTranscript (9.1.5.1), held as its tagged encoding `SessionTranscriptBytes`.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionTranscript {
    value: Value,
    tagged_bytes: Vec<u8>,
}

impl SessionTranscript {
    /// `[DeviceEngagementBytes, EReaderKeyBytes, Handover]` from the exact engagement and reader
    /// key bytes (each the encoded CBOR inside the tag 24).
    pub fn new(
        device_engagement: Option<&[u8]>,
        e_reader_key: Option<&[u8]>,
        handover: &Handover,
    ) -> Self {
        let embed = |b: Option<&[u8]>| b.map_or(Value::Null, |b| cbor::tagged_bytes(b.to_vec()));
        let value = Value::Array(vec![
            embed(device_engagement),
            embed(e_reader_key),
            handover.to_value(),
        ]);
        Self::from_value(value)
    }

    fn from_value(value: Value) -> Self {
        let tagged_bytes = cbor::encode(&cbor::tagged_bytes(cbor::encode(&value)));
        SessionTranscript {
            value,
            tagged_bytes,
        }
    }

    /// A transcript received as `SessionTranscriptBytes` (e.g. from a test vector).
    pub fn from_tagged_bytes(bytes: &[u8]) -> Result<Self, MdocError> {
        let outer = cbor::decode(bytes)?;
        let inner = cbor::untag_bytes(&outer, "SessionTranscriptBytes")?;
        let value = cbor::decode(inner)?;
        if cbor::array(&value, "SessionTranscript")?.len() != 3 {
            return Err(MdocError::Malformed(
                "SessionTranscript: expected 3 items".into(),
            ));
        }
        Ok(SessionTranscript {
            value,
            tagged_bytes: bytes.to_vec(),
        })
    }

    /// The transcript as a CBOR value (for DeviceAuthentication and ReaderAuthentication).
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// `SessionTranscriptBytes`: `#6.24(bstr .cbor SessionTranscript)`.
    pub fn tagged_bytes(&self) -> &[u8] {
        &self.tagged_bytes
    }

    /// SHA-256 of `SessionTranscriptBytes`: the HKDF salt of the session and MAC keys.
    pub fn hash(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest::digest(&digest::SHA256, &self.tagged_bytes).as_ref());
        out
    }
}

/// Which side of the session this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The mdoc reader.
    Reader,
    /// The mdoc (holder device).
    Device,
}

impl Role {
    fn identifier(self) -> [u8; 8] {
        match self {
            Role::Reader => [0; 8],
            Role::Device => [0, 0, 0, 0, 0, 0, 0, 1],
        }
    }
}

/// SKReader and SKDevice.
pub struct SessionKeys {
    /// Key of messages from the reader.
    pub sk_reader: SymmetricKey,
    /// Key of messages from the mdoc.
    pub sk_device: SymmetricKey,
}

impl SessionKeys {
    /// Derives both keys from the ECDH shared secret and the transcript.
    pub fn derive(shared_secret: &[u8], transcript: &SessionTranscript) -> Result<Self, MdocError> {
        let salt = transcript.hash();
        Ok(SessionKeys {
            sk_reader: hkdf_sha256(shared_secret, &salt, b"SKReader")?,
            sk_device: hkdf_sha256(shared_secret, &salt, b"SKDevice")?,
        })
    }
}

/// EMacKey for MAC-based mdoc authentication (9.1.3.5).
pub fn mac_key(
    shared_secret: &[u8],
    transcript: &SessionTranscript,
) -> Result<SymmetricKey, MdocError> {
    Ok(hkdf_sha256(shared_secret, &transcript.hash(), b"EMacKey")?)
}

/// One side's encryption state: keys, counters, and whether the session has ended.
pub struct SessionCipher {
    role: Role,
    send_key: LessSafeKey,
    receive_key: LessSafeKey,
    sent: u32,
    received: u32,
    terminated: bool,
}

fn aes(key: &SymmetricKey) -> Result<LessSafeKey, MdocError> {
    let unbound = UnboundKey::new(&AES_256_GCM, key.expose())
        .map_err(|_| MdocError::Crypto("AES key".into()))?;
    Ok(LessSafeKey::new(unbound))
}

fn nonce(role: Role, counter: u32) -> Nonce {
    let mut iv = [0u8; 12];
    iv[..8].copy_from_slice(&role.identifier());
    iv[8..].copy_from_slice(&counter.to_be_bytes());
    Nonce::assume_unique_for_key(iv)
}

impl SessionCipher {
    /// The cipher of `role` with the session keys.
    pub fn new(role: Role, keys: &SessionKeys) -> Result<Self, MdocError> {
        let (send, receive) = match role {
            Role::Reader => (&keys.sk_reader, &keys.sk_device),
            Role::Device => (&keys.sk_device, &keys.sk_reader),
        };
        Ok(SessionCipher {
            role,
            send_key: aes(send)?,
            receive_key: aes(receive)?,
            sent: 0,
            received: 0,
            terminated: false,
        })
    }

    fn peer(&self) -> Role {
        match self.role {
            Role::Reader => Role::Device,
            Role::Device => Role::Reader,
        }
    }

    /// The counters of messages sent and received so far.
    pub fn counters(&self) -> (u32, u32) {
        (self.sent, self.received)
    }

    /// Restores counters saved with [`SessionCipher::counters`].
    pub fn set_counters(&mut self, sent: u32, received: u32) {
        self.sent = sent;
        self.received = received;
    }

    /// True once either side ended the session.
    pub fn is_terminated(&self) -> bool {
        self.terminated
    }

    /// Marks the session ended (after sending or receiving status 20).
    pub fn terminate(&mut self) {
        self.terminated = true;
    }

    /// Encrypts the next outgoing message.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, MdocError> {
        let mut buffer = Vec::with_capacity(self.sealed_len(plaintext.len()));
        self.seal_into(&mut buffer, plaintext)?;
        Ok(buffer)
    }

    /// The length of `plaintext_len` bytes once encrypted: the ciphertext and its tag.
    pub fn sealed_len(&self, plaintext_len: usize) -> usize {
        plaintext_len + self.send_key.algorithm().tag_len()
    }

    /// Encrypts the next outgoing message at the end of `out` (the ciphertext, then the tag),
    /// so that a large response is written once, where it is sent from. On an error `out` is
    /// as it was and the counter has not moved.
    pub fn seal_into(&mut self, out: &mut Vec<u8>, plaintext: &[u8]) -> Result<(), MdocError> {
        if self.terminated {
            return Err(MdocError::SessionTerminated);
        }
        let counter = self.sent.checked_add(1).ok_or(MdocError::BadCounter)?;
        let start = out.len();
        out.reserve(self.sealed_len(plaintext.len()));
        out.extend_from_slice(plaintext);
        let sealed = out.get_mut(start..).and_then(|tail| {
            self.send_key
                .seal_in_place_separate_tag(nonce(self.role, counter), Aad::empty(), tail)
                .ok()
        });
        let Some(tag) = sealed else {
            out.truncate(start);
            return Err(MdocError::Crypto("AES-GCM seal".into()));
        };
        out.extend_from_slice(tag.as_ref());
        self.sent = counter;
        Ok(())
    }

    fn open_with(&self, counter: u32, mut buffer: Vec<u8>) -> Option<Vec<u8>> {
        let len = self
            .receive_key
            .open_in_place(nonce(self.peer(), counter), Aad::empty(), &mut buffer)
            .ok()?
            .len();
        buffer.truncate(len);
        Some(buffer)
    }

    /// Decrypts the next incoming message, which must carry the next counter. A message that
    /// does not open under that counter is refused as `Decryption` and never tried against
    /// other counters: a replayed, reordered or skipped message is indistinguishable from a
    /// corrupt one, and costs one AES-GCM open either way.
    pub fn decrypt(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>, MdocError> {
        self.decrypt_owned(ciphertext.to_vec())
    }

    /// [`SessionCipher::decrypt`], in place in `ciphertext`'s buffer: a large response is not
    /// copied to be opened.
    pub fn decrypt_owned(&mut self, ciphertext: Vec<u8>) -> Result<Vec<u8>, MdocError> {
        if self.terminated {
            return Err(MdocError::SessionTerminated);
        }
        let expected = self.received.checked_add(1).ok_or(MdocError::BadCounter)?;
        let plain = self
            .open_with(expected, ciphertext)
            .ok_or(MdocError::Decryption)?;
        self.received = expected;
        Ok(plain)
    }
}

/// SessionEstablishment (9.1.1.4): the reader's ephemeral key and its first encrypted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEstablishment {
    /// `EReaderKeyBytes` content: the encoded COSE_Key inside the tag 24, exactly as received.
    pub e_reader_key_bytes: Vec<u8>,
    /// The encrypted DeviceRequest.
    pub data: Vec<u8>,
}

impl SessionEstablishment {
    /// Parses a SessionEstablishment message.
    pub fn parse(bytes: &[u8]) -> Result<Self, MdocError> {
        let value = cbor::decode(bytes)?;
        let entries = cbor::map(&value, "SessionEstablishment")?;
        cbor::unique_keys(entries, "SessionEstablishment")?;
        let key = cbor::require(entries, "eReaderKey", "SessionEstablishment")?;
        let data = cbor::require(entries, "data", "SessionEstablishment")?;
        Ok(SessionEstablishment {
            e_reader_key_bytes: cbor::untag_bytes(key, "eReaderKey")?.to_vec(),
            data: cbor::bytes(data, "SessionEstablishment data")?.to_vec(),
        })
    }

    /// Encodes the message.
    pub fn encode(&self) -> Vec<u8> {
        cbor::encode(&Value::Map(vec![
            cbor::entry(
                "eReaderKey",
                cbor::tagged_bytes(self.e_reader_key_bytes.clone()),
            ),
            cbor::entry("data", Value::Bytes(self.data.clone())),
        ]))
    }
}

/// SessionData (9.1.1.4): an encrypted message, a status, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionData {
    /// The encrypted payload.
    pub data: Option<Vec<u8>>,
    /// A status code (10, 11 or 20).
    pub status: Option<u64>,
}

impl SessionData {
    /// Parses a SessionData message.
    pub fn parse(bytes: &[u8]) -> Result<Self, MdocError> {
        let value = cbor::decode(bytes)?;
        let entries = cbor::map(&value, "SessionData")?;
        cbor::unique_keys(entries, "SessionData")?;
        if let Some(data) = cbor::get(entries, "data") {
            cbor::bytes(data, "SessionData data")?;
        }
        let status = cbor::get(entries, "status")
            .map(|v| cbor::uint(v, "SessionData status"))
            .transpose()?;
        // Checked above; the data (a whole DeviceResponse) is moved out, not copied.
        let data = match cbor::take(value, "data") {
            Some(Value::Bytes(data)) => Some(data),
            _ => None,
        };
        if data.is_none() && status.is_none() {
            return Err(MdocError::Malformed(
                "SessionData: neither data nor status".into(),
            ));
        }
        Ok(SessionData { data, status })
    }

    /// Encodes the message. It is written directly, in one buffer of the exact size: the data
    /// (a whole DeviceResponse, portraits included) is copied once, never through a CBOR tree.
    pub fn encode(&self) -> Vec<u8> {
        let data_len = self.data.as_ref().map_or(0, Vec::len);
        let mut out = Vec::with_capacity(data_len + 32);
        Self::write_head(&mut out, self.data.as_ref().map(Vec::len), self.status);
        if let Some(data) = &self.data {
            out.extend_from_slice(data);
        }
        Self::write_status(&mut out, self.status);
        out
    }

    /// The encoded SessionData carrying `plaintext` encrypted with `cipher`, and `status`.
    /// Equal to encrypting and then encoding, but the message (a DeviceResponse with its
    /// portraits) is encrypted in place in the buffer that is sent, never copied twice.
    pub fn seal(
        cipher: &mut SessionCipher,
        plaintext: &[u8],
        status: Option<u64>,
    ) -> Result<Vec<u8>, MdocError> {
        let sealed_len = cipher.sealed_len(plaintext.len());
        let mut out = Vec::with_capacity(sealed_len + 32);
        Self::write_head(&mut out, Some(sealed_len), status);
        cipher.seal_into(&mut out, plaintext)?;
        Self::write_status(&mut out, status);
        Ok(out)
    }

    /// The map's head and, when there is data of `data_len` bytes, its key and byte string
    /// head.
    fn write_head(out: &mut Vec<u8>, data_len: Option<usize>, status: Option<u64>) {
        let entries = u64::from(data_len.is_some()) + u64::from(status.is_some());
        cbor::write_head(out, cbor::MAJOR_MAP, entries);
        if let Some(len) = data_len {
            cbor::write_text(out, "data");
            cbor::write_head(out, cbor::MAJOR_BYTES, len as u64);
        }
    }

    fn write_status(out: &mut Vec<u8>, status: Option<u64>) {
        if let Some(status) = status {
            cbor::write_text(out, "status");
            cbor::write_head(out, cbor::MAJOR_UNSIGNED, status);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The examples of OpenID4VP 1.0 appendix B.2.6.1 (redirects) and B.2.6.2 (the Digital
    /// Credentials API): client `x509_san_dns:example.com`, the example nonce, the RFC 7638
    /// thumbprint of the example encryption key, response URI / origin `https://example.com`.
    #[test]
    fn openid4vp_handovers_match_the_specification_examples() {
        let nonce = "exc7gBkxjx1rdc9udRrveKvSsJIq80avlXeLHhGwqtA";
        let thumbprint = hex("4283ec927ae0f208daaa2d026a814f2b22dca52cf85ffa8f3f8626c6bd669047");
        let redirect = SessionTranscript::new(
            None,
            None,
            &Handover::OpenId4Vp {
                client_id: "x509_san_dns:example.com".into(),
                nonce: nonce.into(),
                jwk_thumbprint: Some(thumbprint.clone()),
                response_uri: "https://example.com/response".into(),
            },
        );
        assert_eq!(
            cbor::encode(redirect.value()),
            hex("83f6f682714f70656e494434565048616e646f7665725820048bc053c00442af9b8eed494cefdd9d95240d254b046b11b68013722aad38ac")
        );
        let dc_api = SessionTranscript::new(
            None,
            None,
            &Handover::OpenId4VpDcApi {
                origin: "https://example.com".into(),
                nonce: nonce.into(),
                jwk_thumbprint: Some(thumbprint),
            },
        );
        assert_eq!(
            cbor::encode(dc_api.value()),
            hex("83f6f682764f70656e4944345650444341504948616e646f7665725820fbece366f4212f9762c74cfdbf83b8c69e371d5d68cea09cb4c48ca6daab761a")
        );
    }

    /// ISO/IEC 18013-7 Annex C: the transcript of a request captured from a public verifier
    /// (its reader authentication verifies over exactly these bytes).
    #[test]
    fn annex_c_dcapi_handover_matches_a_real_request() {
        let transcript = SessionTranscript::new(
            None,
            None,
            &Handover::DcApi {
                encryption_info: "gmVkY2FwaaJlbm9uY2VQpug626n35A7Z-g8rdzLEX3JyZWNpcGllbnRQdWJsaWNLZXmkAQIgASFYIIMoajsjYmNws0yWVDjk1t-vUrIk7yCm2XdJuSLtqOR6IlgggIvmjRaDYottzHjFTr48jfeeUvv5oxqXVWoPcpumx7Y".into(),
                origin: "https://verifier.multipaz.org".into(),
            },
        );
        assert_eq!(
            cbor::encode(transcript.value()),
            hex("83f6f68265646361706958207ae3c1f8060298b9ff26cb2de23facc9eeeb4828a75a4a80e0c7d03a67e0abfd")
        );
    }

    fn pair() -> (SessionCipher, SessionCipher) {
        let transcript = SessionTranscript::new(Some(b"\xa0"), Some(b"\xa0"), &Handover::Qr);
        let keys = SessionKeys::derive(&[7u8; 32], &transcript).unwrap();
        (
            SessionCipher::new(Role::Reader, &keys).unwrap(),
            SessionCipher::new(Role::Device, &keys).unwrap(),
        )
    }

    #[test]
    fn sealing_into_session_data_equals_encrypting_then_encoding() {
        for len in [0usize, 7, 23, 24, 65_519, 65_520, 100_000] {
            for status in [None, Some(STATUS_TERMINATION)] {
                let plaintext: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
                let (_, mut device) = pair();
                let (_, mut device_again) = pair();
                // Both devices at the same counter, past the first message.
                device.encrypt(b"first").unwrap();
                device_again.encrypt(b"first").unwrap();
                let sealed = SessionData::seal(&mut device, &plaintext, status).unwrap();
                let expected = SessionData {
                    data: Some(device_again.encrypt(&plaintext).unwrap()),
                    status,
                }
                .encode();
                assert_eq!(sealed, expected, "{len} {status:?}");
                let parsed = SessionData::parse(&sealed).unwrap();
                assert_eq!(parsed.status, status);
                let (mut reader, _) = pair();
                reader.set_counters(0, 1);
                assert_eq!(reader.decrypt(&parsed.data.unwrap()).unwrap(), plaintext);
            }
        }
        // A terminated session seals nothing and keeps its counter.
        let (_, mut device) = pair();
        device.terminate();
        assert_eq!(
            SessionData::seal(&mut device, b"late", None),
            Err(MdocError::SessionTerminated)
        );
        assert_eq!(device.counters(), (0, 0));
    }

    #[test]
    fn messages_flow_both_ways_with_counters() {
        let (mut reader, mut device) = pair();
        let m1 = reader.encrypt(b"request").unwrap();
        assert_eq!(device.decrypt(&m1).unwrap(), b"request");
        let r1 = device.encrypt(b"response").unwrap();
        assert_eq!(reader.decrypt(&r1).unwrap(), b"response");
        // Replay of the first message: refused, without probing other counters.
        assert_eq!(device.decrypt(&m1), Err(MdocError::Decryption));
        // Skipped message.
        let m2 = reader.encrypt(b"two").unwrap();
        let m3 = reader.encrypt(b"three").unwrap();
        assert_eq!(device.decrypt(&m3), Err(MdocError::Decryption));
        // The failures consumed nothing: the next message in order still opens.
        assert_eq!(device.decrypt(&m2).unwrap(), b"two");
        // Tampering.
        let mut bad = reader.encrypt(b"x").unwrap();
        bad[0] ^= 1;
        assert_eq!(device.decrypt(&bad), Err(MdocError::Decryption));
        // A reader cannot decrypt its own message.
        let own = reader.encrypt(b"own").unwrap();
        assert!(reader.decrypt(&own).is_err());
    }

    #[test]
    fn terminated_sessions_refuse_messages() {
        let (mut reader, mut device) = pair();
        let m = reader.encrypt(b"x").unwrap();
        device.terminate();
        assert_eq!(device.decrypt(&m), Err(MdocError::SessionTerminated));
        assert_eq!(device.encrypt(b"y"), Err(MdocError::SessionTerminated));
    }

    #[test]
    fn session_messages_parse_and_reject_garbage() {
        let est = SessionEstablishment {
            e_reader_key_bytes: vec![0xa0],
            data: vec![1, 2, 3],
        };
        assert_eq!(SessionEstablishment::parse(&est.encode()).unwrap(), est);
        let data = SessionData {
            data: None,
            status: Some(20),
        };
        assert_eq!(SessionData::parse(&data.encode()).unwrap(), data);
        assert!(SessionData::parse(&[0xa0]).is_err());
        // Data that is not a byte string is refused, never read as a status-only message.
        for data in [
            Value::Text("data".into()),
            cbor::tagged_bytes(vec![1, 2, 3]),
            Value::Array(vec![]),
        ] {
            let message = cbor::encode(&Value::Map(vec![
                cbor::entry("data", data),
                cbor::entry("status", Value::Integer(20.into())),
            ]));
            assert!(SessionData::parse(&message).is_err());
        }
        assert!(SessionEstablishment::parse(&[0xa1, 0x61, 0x61, 0x01]).is_err());
    }

    #[test]
    fn session_data_is_written_as_a_cbor_encoder_writes_the_same_map() {
        for len in [0usize, 1, 23, 24, 255, 256, 65_535, 65_536, 100_000] {
            for status in [None, Some(10), Some(20)] {
                let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
                let message = SessionData {
                    data: Some(payload.clone()),
                    status,
                };
                let mut entries = vec![cbor::entry("data", Value::Bytes(payload))];
                if let Some(s) = status {
                    entries.push(cbor::entry("status", Value::Integer(s.into())));
                }
                let written = message.encode();
                assert_eq!(
                    written,
                    cbor::encode(&Value::Map(entries)),
                    "{len} {status:?}"
                );
                assert_eq!(SessionData::parse(&written).unwrap(), message);
            }
        }
        let status_only = SessionData {
            data: None,
            status: Some(20),
        };
        assert_eq!(
            status_only.encode(),
            cbor::encode(&Value::Map(vec![cbor::entry(
                "status",
                Value::Integer(20.into())
            )]))
        );
    }
}
