//! The holder's side of device retrieval (ISO/IEC 18013-5 6.3.2.x, 9.1): a sans-I/O state
//! machine. Create it (ephemeral key + DeviceEngagement for the QR code), feed it the reader's
//! messages, and answer each DeviceRequest with a DeviceResponse it encrypts.

use super::engagement::{DeviceEngagement, RetrievalMethod};
use super::issuer_signed::IssuerSigned;
use super::request::DeviceRequest;
use super::response::{
    device_authentication_bytes, DeviceAuth, DeviceResponse, DeviceSigned, ERROR_DATA_NOT_RETURNED,
};
use super::session::{
    self, Handover, Role, SessionCipher, SessionData, SessionEstablishment, SessionKeys,
    SessionTranscript,
};
use super::MdocError;
use crate::cose::cbor::Value;
use crate::cose::{self, cbor};
use crate::crypto::ec::EphemeralAgreementKey;
use crate::crypto::secret::SecretBytes;

/// What the reader sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A request to answer.
    Request(DeviceRequest),
    /// The reader ended the session.
    Terminated,
}

struct Established {
    cipher: SessionCipher,
    transcript: SessionTranscript,
    e_reader_key: Vec<u8>,
}

/// A presentation in progress.
pub struct Presentment {
    ephemeral: EphemeralAgreementKey,
    engagement: DeviceEngagement,
    session: Option<Established>,
    terminated: bool,
    handover: Handover,
}

/// ECDH between the device key and a peer public key, returning the shared secret.
pub type DeviceKeyAgreement<'a, E> = &'a mut dyn FnMut(&[u8]) -> Result<SecretBytes, E>;

/// How the device authenticates a document: sign in the secure area, or agree a key there.
pub enum DeviceAuthentication<'a, E> {
    /// ECDSA over DeviceAuthenticationBytes.
    Signature(cose::Signer<'a, E>),
    /// ECDH with the reader's ephemeral key, for EMacKey.
    Mac(DeviceKeyAgreement<'a, E>),
}

impl Presentment {
    /// Starts a QR-engaged presentation with the host's retrieval methods.
    pub fn new(retrieval_methods: Vec<RetrievalMethod>) -> Result<Self, MdocError> {
        let ephemeral = EphemeralAgreementKey::generate()?;
        let engagement = DeviceEngagement::new(ephemeral.public_key(), retrieval_methods)?;
        Ok(Presentment {
            ephemeral,
            engagement,
            session: None,
            terminated: false,
            handover: Handover::Qr,
        })
    }

    /// The engagement to show (its `qr_uri()` goes in the QR code).
    pub fn engagement(&self) -> &DeviceEngagement {
        &self.engagement
    }

    /// The engagement was shown over NFC: the Handover Select (and, for negotiated handover,
    /// the reader's Handover Request) go into the session transcript. Before the reader's
    /// first message only.
    pub fn set_handover(&mut self, handover: Handover) -> Result<(), MdocError> {
        if self.session.is_some() || self.terminated {
            return Err(MdocError::Malformed(
                "the handover is fixed once the session is established".into(),
            ));
        }
        self.handover = handover;
        Ok(())
    }

    /// The session transcript, once the reader has sent its key.
    pub fn transcript(&self) -> Option<&SessionTranscript> {
        self.session.as_ref().map(|s| &s.transcript)
    }

    /// The reader's ephemeral public key, once known.
    pub fn e_reader_key(&self) -> Option<&[u8]> {
        self.session.as_ref().map(|s| s.e_reader_key.as_slice())
    }

    /// Processes a message from the reader: SessionEstablishment first, SessionData after.
    pub fn receive(&mut self, message: &[u8]) -> Result<Incoming, MdocError> {
        if self.terminated {
            return Err(MdocError::SessionTerminated);
        }
        let ciphertext = match &mut self.session {
            None => {
                let establishment = SessionEstablishment::parse(message)?;
                let e_reader_key =
                    cose::public_key_from_cose(&cbor::decode(&establishment.e_reader_key_bytes)?)?;
                let transcript = SessionTranscript::new(
                    Some(&self.engagement.bytes),
                    Some(&establishment.e_reader_key_bytes),
                    &self.handover,
                );
                let shared = self.ephemeral.agree(&e_reader_key)?;
                let keys = SessionKeys::derive(shared.expose(), &transcript)?;
                let cipher = SessionCipher::new(Role::Device, &keys)?;
                self.session = Some(Established {
                    cipher,
                    transcript,
                    e_reader_key,
                });
                establishment.data
            }
            Some(_) => {
                let data = SessionData::parse(message)?;
                if let Some(status) = data.status {
                    if status == session::STATUS_TERMINATION || data.data.is_none() {
                        self.terminate_quietly();
                        return if status == session::STATUS_TERMINATION {
                            Ok(Incoming::Terminated)
                        } else {
                            Err(MdocError::SessionStatus(status))
                        };
                    }
                }
                data.data
                    .ok_or_else(|| MdocError::Malformed("SessionData without data".into()))?
            }
        };
        let session = self.session.as_mut().ok_or(MdocError::SessionTerminated)?;
        let plaintext = session.cipher.decrypt_owned(ciphertext)?;
        Ok(Incoming::Request(DeviceRequest::parse(&plaintext)?))
    }

    /// Encrypts a DeviceResponse into the SessionData to send.
    pub fn respond(&mut self, device_response: &[u8]) -> Result<Vec<u8>, MdocError> {
        let session = self
            .session
            .as_mut()
            .ok_or_else(|| MdocError::Malformed("no session yet".into()))?;
        SessionData::seal(&mut session.cipher, device_response, None)
    }

    /// Encrypts a last DeviceResponse and ends the session: SessionData with the data and
    /// status 20.
    pub fn respond_and_end(&mut self, device_response: &[u8]) -> Result<Vec<u8>, MdocError> {
        let session = self
            .session
            .as_mut()
            .ok_or_else(|| MdocError::Malformed("no session yet".into()))?;
        let message = SessionData::seal(
            &mut session.cipher,
            device_response,
            Some(session::STATUS_TERMINATION),
        )?;
        self.terminate_quietly();
        Ok(message)
    }

    /// Ends the session on a protocol error: the SessionData with `status` (10 or 11) to send.
    pub fn fail(&mut self, status: u64) -> Vec<u8> {
        self.terminate_quietly();
        SessionData {
            data: None,
            status: Some(status),
        }
        .encode()
    }

    /// Ends the session: the SessionData with status 20 to send.
    pub fn terminate(&mut self) -> Vec<u8> {
        self.terminate_quietly();
        SessionData {
            data: None,
            status: Some(session::STATUS_TERMINATION),
        }
        .encode()
    }

    fn terminate_quietly(&mut self) {
        self.terminated = true;
        if let Some(s) = &mut self.session {
            s.cipher.terminate();
        }
    }

    /// True once the session has ended.
    pub fn is_terminated(&self) -> bool {
        self.terminated
    }
}

/// The session status a holder sends when a reader's message fails (ISO/IEC 18013-5 9.1.1.4):
/// 10 for a message that does not decrypt or comes out of order, 11 for one that does not
/// decode; none for errors that are not the reader's message's fault.
pub fn status_for(error: &MdocError) -> Option<u64> {
    match error {
        MdocError::Decryption | MdocError::BadCounter => Some(session::STATUS_ENCRYPTION_ERROR),
        MdocError::Malformed(_) | MdocError::Unsupported(_) => Some(session::STATUS_DECODING_ERROR),
        _ => None,
    }
}

/// Builds one Document for a request: only `approved` elements leave the device; everything
/// requested but not returned is listed in `errors` (code 0, data not returned).
pub fn build_document<E: From<MdocError>>(
    stored: &IssuerSigned,
    requested: &[(String, String)],
    approved: &[(String, String)],
    transcript: &SessionTranscript,
    auth: DeviceAuthentication<'_, E>,
) -> Result<Value, E> {
    let doc_type = &stored.held_mso()?.doc_type;
    let is_approved = |ns: &str, e: &str| approved.iter().any(|(a, b)| a == ns && b == e);
    let issuer_signed = stored.to_value_filtered(is_approved)?;
    let mut errors: Vec<(String, Vec<(String, i64)>)> = Vec::new();
    for (ns, element) in requested {
        let returned = is_approved(ns, element) && stored.item(ns, element).is_some();
        if !returned {
            match errors.iter_mut().find(|(n, _)| n == ns) {
                Some((_, list)) => list.push((element.clone(), ERROR_DATA_NOT_RETURNED)),
                None => errors.push((ns.clone(), vec![(element.clone(), ERROR_DATA_NOT_RETURNED)])),
            }
        }
    }
    let namespaces_bytes = cbor::encode(&Value::Map(Vec::new()));
    let payload = device_authentication_bytes(transcript, doc_type, &namespaces_bytes);
    let device_auth = match auth {
        DeviceAuthentication::Signature(sign) => {
            DeviceAuth::Signature(cose::create_sign1(&payload, true, &[], |tbs| sign(tbs))?)
        }
        DeviceAuthentication::Mac(agree) => {
            let e_reader_key = match transcript.value() {
                Value::Array(items) => items
                    .get(1)
                    .map(|k| cbor::untag_bytes(k, "EReaderKeyBytes"))
                    .transpose()
                    .map_err(MdocError::from)?,
                _ => None,
            }
            .ok_or_else(|| {
                MdocError::Malformed("deviceMac needs the reader's ephemeral key".into())
            })?;
            let reader_key = cbor::decode(e_reader_key)
                .and_then(|key| cose::public_key_from_cose(&key))
                .map_err(MdocError::from)?;
            let shared = agree(&reader_key)?;
            let key = session::mac_key(shared.expose(), transcript)?;
            DeviceAuth::Mac(cose::create_mac0(&key, &payload))
        }
    };
    let device_signed = DeviceSigned {
        namespaces_bytes,
        device_auth,
    };
    Ok(DeviceResponse::document_value(
        doc_type,
        issuer_signed,
        &device_signed,
        &errors,
    )?)
}
