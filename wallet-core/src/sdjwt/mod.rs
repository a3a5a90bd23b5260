//! SD-JWT (RFC 9901) and SD-JWT VC (`dc+sd-jwt`): selectively disclosable JWTs, their
//! disclosures, presentations with Key Binding JWTs, and verification.
//!
//! Sections cited: 4 (format and digests), 5 (disclosures), 7 (verification), 4.3 (KB-JWT).
//!
//! Owns: SD-JWT parsing, disclosure processing, presentation and key binding. Imports `crypto`,
//! `trust` and `limits`; never `mdoc`, `cose`, `documents`, `store` or `api`.

pub mod disclosure;
pub mod format;
pub mod present;
pub mod process;
pub mod verify;

/// What can go wrong with an SD-JWT; each verification failure has its own variant.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SdJwtError {
    /// Not an SD-JWT, or a part that does not decode (names it).
    #[error("malformed SD-JWT: {0}")]
    Malformed(String),
    /// An algorithm, `typ` or hash this implementation does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The issuer's signature does not verify.
    #[error("issuer signature does not verify")]
    IssuerSignature,
    /// The issuer does not chain to a trusted anchor.
    #[error("untrusted issuer: {0}")]
    UntrustedIssuer(String),
    /// The issuer's certificate chain is broken or of the wrong profile.
    #[error("issuer certificate chain invalid: {0}")]
    CertificateChain(String),
    /// A disclosure is not referenced by any digest in the payload (changed or foreign).
    #[error("disclosure not referenced by the SD-JWT: {0}")]
    UnreferencedDisclosure(String),
    /// The same digest appears twice in the payload.
    #[error("digest {0} appears more than once")]
    DuplicateDigest(String),
    /// The same disclosure was sent twice.
    #[error("disclosure {0} appears more than once")]
    DuplicateDisclosure(String),
    /// A disclosed claim name clashes with a claim already present, or is reserved.
    #[error("claim name conflict: {0}")]
    ClaimConflict(String),
    /// `exp` has passed.
    #[error("expired at {0}")]
    Expired(i64),
    /// `nbf` (or `iat`) is in the future.
    #[error("not valid before {0}")]
    NotYetValid(i64),
    /// A Key Binding JWT was required but none was sent.
    #[error("key binding JWT missing")]
    KeyBindingMissing,
    /// The Key Binding JWT's signature does not verify with the `cnf` key.
    #[error("key binding signature does not verify with the cnf key")]
    KeyBindingSignature,
    /// The Key Binding JWT's nonce is not the verifier's.
    #[error("key binding nonce mismatch")]
    KeyBindingNonce,
    /// The Key Binding JWT's audience is not the verifier.
    #[error("key binding audience mismatch")]
    KeyBindingAudience,
    /// The Key Binding JWT's `iat` is outside the accepted window.
    #[error("key binding JWT issued at {0}, outside the accepted window")]
    KeyBindingStale(i64),
    /// The Key Binding JWT's `sd_hash` does not match the presented SD-JWT.
    #[error("key binding sd_hash does not match the presentation")]
    KeyBindingSdHash,
    /// The issuer revoked the credential (Token Status List).
    #[error("the credential is revoked")]
    Revoked,
    /// The issuer suspended the credential (Token Status List).
    #[error("the credential is suspended")]
    Suspended,
    /// The `typ` or `vct` is not one the relying party accepts.
    #[error("credential type: {0}")]
    WrongType(String),
    /// `iss` is not a name of the issuer's certificate.
    #[error("issuer name: {0}")]
    IssuerMismatch(String),
    /// The credential's status list could not be fetched, verified or read.
    #[error("credential status unavailable: {0}")]
    StatusUnavailable(String),
}

impl From<crate::crypto::CryptoError> for SdJwtError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        SdJwtError::Malformed(e.to_string())
    }
}
