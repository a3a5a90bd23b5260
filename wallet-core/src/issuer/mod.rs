//! The test issuing authority: certificates shaped after ISO/IEC 18013-5 Annex B (IACA root,
//! document signer, reader root and reader authentication certificate) and mdoc issuance with
//! fresh random salts. For developers and tests; behind the `issuer` cargo feature so the
//! mobile library does not ship it.
//!
//! Owns: the test authority's certificates and encoders. May import any capability module;
//! never `api`, and nothing outside `api/authority.rs` imports it.

pub mod attestation;
pub mod certificates;
pub mod mdoc;
pub mod sdjwt;

/// A failure of the test authority.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    /// Building or signing a certificate failed.
    #[error("certificate: {0}")]
    Certificate(String),
    /// A claim or parameter is invalid.
    #[error("invalid: {0}")]
    Invalid(String),
    /// Encoding the credential failed.
    #[error(transparent)]
    Mdoc(#[from] crate::mdoc::MdocError),
    /// CBOR or COSE encoding failed.
    #[error(transparent)]
    Cose(#[from] crate::cose::CoseError),
    /// A cryptographic primitive failed.
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
}
