//! ISO/IEC 18013-5 mobile documents (mdoc): the data model, session encryption, and the
//! holder's and reader's sides of device retrieval. Sans-I/O: every function takes and returns
//! bytes or values; the host moves the bytes over QR, BLE or NFC.
//!
//! Clause references are to ISO/IEC 18013-5:2021: 8.2 (device engagement), 9.1.1 (session
//! encryption), 8.3.2.1 (DeviceRequest / DeviceResponse), 9.1.2 (issuer data authentication,
//! MobileSecurityObject), 9.1.3 (mdoc authentication), 9.1.4 (reader authentication).
//!
//! Owns: ISO/IEC 18013-5 only (engagement, requests, responses, IssuerSigned and the MSO,
//! session encryption, device and reader authentication). Imports `cose`, `crypto`, `trust`,
//! `limits` and `time`; never `sdjwt`, `documents`, `inbox`, `benefits`, `store` or `api`.

pub mod ble;
pub mod engagement;
pub mod holder;
pub mod issuer_signed;
pub mod ndef;
pub mod nfc;
pub mod reader;
pub mod request;
pub mod response;
pub mod session;

/// How an mdoc proves it holds its device key (ISO/IEC 18013-5 9.1.3): a signature, or a MAC
/// keyed by ECDH with the reader's ephemeral key. The holder chooses one; the reader reports
/// which one verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DeviceAuthMode {
    /// ECDSA signature with the device key (deviceSignature).
    Signature,
    /// HMAC with the ECDH-derived EMacKey (deviceMac): no signature leaves the device.
    Mac,
}

/// Everything that can go wrong reading, decrypting or verifying mdoc data. Each verification
/// failure has its own variant so a reader can say exactly why a document was rejected.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum MdocError {
    /// CBOR or structure that does not follow the standard (names the field).
    #[error("malformed mdoc data: {0}")]
    Malformed(String),
    /// A version, algorithm, curve or cipher suite this implementation does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A session message did not decrypt (wrong keys, tampered ciphertext).
    #[error("session message did not decrypt")]
    Decryption,
    /// A session message was replayed, reordered or skipped (message counter mismatch).
    #[error("session message counter mismatch")]
    BadCounter,
    /// The session has ended; no more messages can be exchanged.
    #[error("the session is terminated")]
    SessionTerminated,
    /// The peer reported a session status error.
    #[error("session status {0}")]
    SessionStatus(u64),
    /// The issuer's signature on the MSO does not verify with the document signer key.
    #[error("issuer signature does not verify")]
    IssuerSignature,
    /// The document signer certificate does not chain to a trusted IACA.
    #[error("untrusted issuer: {0}")]
    UntrustedIssuer(String),
    /// A certificate chain is broken: bad signature, wrong profile, or invalid at the time.
    #[error("certificate chain invalid: {0}")]
    CertificateChain(String),
    /// A disclosed element's digest does not match the MSO (tampered value).
    #[error("digest mismatch for {namespace}/{element}")]
    DigestMismatch {
        /// Namespace of the element.
        namespace: String,
        /// Element identifier.
        element: String,
    },
    /// A disclosed element refers to a digest id the MSO does not have.
    #[error("unknown digest id {digest_id} for {namespace}/{element}")]
    UnknownDigestId {
        /// Namespace of the element.
        namespace: String,
        /// Element identifier.
        element: String,
        /// The digest id claimed.
        digest_id: u64,
    },
    /// The document's docType differs from the MSO's (or from what was requested).
    #[error("docType mismatch: document says {document}, MSO says {mso}")]
    DocTypeMismatch {
        /// docType in the document.
        document: String,
        /// docType in the signed MSO.
        mso: String,
    },
    /// The MSO's validity ended before the verification time.
    #[error("the document expired at {0}")]
    Expired(String),
    /// The MSO's validity starts after the verification time.
    #[error("the document is not valid until {0}")]
    NotYetValid(String),
    /// Device authentication failed: the signature or MAC does not verify with the MSO's device
    /// key over this session's transcript.
    #[error("device authentication failed: {0}")]
    DeviceAuthentication(String),
    /// A response carries a document or element the reader did not ask for.
    #[error("not requested: {0}")]
    NotRequested(String),
    /// The reader's signature over the request does not verify.
    #[error("reader authentication failed: {0}")]
    ReaderAuthentication(String),
    /// A cryptographic primitive failed.
    #[error("crypto failure: {0}")]
    Crypto(String),
}

impl From<crate::cose::CoseError> for MdocError {
    fn from(e: crate::cose::CoseError) -> Self {
        use crate::cose::CoseError;
        match e {
            CoseError::Malformed(m) => MdocError::Malformed(m),
            CoseError::Unsupported(m) => MdocError::Unsupported(m),
            CoseError::BadSignature => MdocError::Crypto("signature does not verify".into()),
            CoseError::BadMac => MdocError::Crypto("MAC does not verify".into()),
            CoseError::Crypto(m) => MdocError::Crypto(m),
        }
    }
}

impl From<crate::crypto::CryptoError> for MdocError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        MdocError::Crypto(e.to_string())
    }
}
