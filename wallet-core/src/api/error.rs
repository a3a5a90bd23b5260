//! The one error type that crosses the boundary, and the one place internal errors map into it.
//!
//! Each variant is something a host can act on: ask for the PIN again, show a lockout screen,
//! report a corrupt store, retry a host callback. Messages never contain secrets.

use crate::access::AccessError;
use crate::crypto::CryptoError;
use crate::store::StoreError;

/// Everything the wallet API can fail with.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum WalletError {
    /// A PIN is set and the wallet has not been unlocked with it.
    #[error("the wallet is locked")]
    Locked,
    /// The PIN was wrong.
    #[error("wrong PIN ({tries_left} tries left)")]
    WrongPin {
        /// Tries left before lockout.
        tries_left: u32,
    },
    /// Too many wrong PINs: the wallet stays locked until a re-verification
    /// (`reset_pin`) or until the citizen erases the credentials (`reset_pin_by_erasing`).
    #[error("too many wrong PINs; a re-verified PIN reset is required")]
    PinLockedOut,
    /// Too soon after wrong PINs: the next try is accepted from `retry_at`.
    #[error("too soon after a wrong PIN; try again at {retry_at}")]
    PinDelayed {
        /// Unix seconds.
        retry_at: i64,
    },
    /// The operation needs a PIN and none is set.
    #[error("no PIN is set")]
    PinNotSet,
    /// No such credential, key or record.
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// An argument was rejected; nothing was changed.
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What is wrong with it.
        reason: String,
    },
    /// A cryptographic check or operation failed.
    #[error("cryptographic failure: {reason}")]
    Crypto {
        /// What failed.
        reason: String,
    },
    /// The database could not be read or written (I/O, locking, disk full).
    #[error("storage failure: {reason}")]
    Storage {
        /// What failed.
        reason: String,
    },
    /// The store is damaged or was tampered with. It is never recreated silently.
    #[error("the wallet store is corrupt: {reason}")]
    StoreCorrupt {
        /// What was found.
        reason: String,
    },
    /// The key protector's key does not open this store (e.g. a wrong passphrase).
    #[error("the key protector could not open this wallet's data key (wrong passphrase or key?)")]
    WrongKey,
    /// The store was written by a newer version of Jigap.
    #[error("the wallet store has schema version {found}; this build supports up to {supported}")]
    UnsupportedStoreVersion {
        /// The version in the file.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },
    /// A host callback (secure area, key protector, clock) threw or returned nonsense. The
    /// wallet stays usable.
    #[error("host callback failed: {reason}")]
    HostCallback {
        /// What the host reported.
        reason: String,
    },
    /// The wallet was closed or wiped.
    #[error("the wallet is closed")]
    Closed,
    /// The store was wiped, but the host secure area did not delete these device keys: delete
    /// them through the platform keystore. Nothing in the store can use them any more.
    #[error("wiped, but {} device key(s) could not be deleted", undeleted_key_aliases.len())]
    WipeIncomplete {
        /// The aliases of the keys left in the host secure area.
        undeleted_key_aliases: Vec<String>,
        /// The store's data key was destroyed.
        data_key_destroyed: bool,
    },
    /// A credential, request, response or session message failed a check; `failure` says
    /// which one, so a reader can tell a tampered value from an expired document.
    #[error("verification failed ({failure:?}): {detail}")]
    Verification {
        /// Which check failed.
        failure: VerificationFailure,
        /// What exactly.
        detail: String,
    },
    /// Every copy of a batch-issued credential has been presented once: each copy is shown
    /// to one relying party only, so the credential needs a new batch (refresh it).
    #[error("every copy of credential {credential_id} has been used")]
    CopiesExhausted {
        /// The credential.
        credential_id: String,
    },
    /// Credential issuance (OpenID4VCI) failed; `failure` says how (a wrong transaction
    /// code, an expired offer, the issuer's refusal, ...).
    #[error("issuance failed ({failure:?}): {detail}")]
    Issuance {
        /// What went wrong.
        failure: crate::issuance::error::IssuanceFailure,
        /// The issuer's error and description, or the wallet's reason.
        detail: String,
    },
    /// An online presentation (OpenID4VP, the Digital Credentials API) failed; `failure`
    /// says how (an untrusted relying party, an unsupported client id prefix, an expired or
    /// replayed request, nothing that answers the query, ...).
    #[error("presentation failed ({failure:?}): {detail}")]
    Presentation {
        /// What went wrong.
        failure: crate::openid4vp::request::PresentationFailure,
        /// What exactly.
        detail: String,
    },
    /// The citizen's record fails its check: an entry was changed, dropped, reordered or
    /// truncated, or its signed head does not match.
    #[error("the record was tampered with: {reason}")]
    JournalTampered {
        /// What was found.
        reason: String,
    },
    /// Something the core waited for (the citizen's decision) did not come in time.
    #[error("timed out waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
    },
    /// A bug in the core; please report it.
    #[error("internal error: {reason}")]
    Internal {
        /// What went wrong.
        reason: String,
    },
}

/// The check a credential, request, response or session message failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum VerificationFailure {
    /// Not well-formed (CBOR, structure, encoding).
    Malformed,
    /// A version, algorithm or curve that is not supported.
    Unsupported,
    /// A session message did not decrypt.
    Decryption,
    /// A session message was replayed, reordered or skipped.
    BadCounter,
    /// The session has ended.
    SessionTerminated,
    /// The peer reported a session error status.
    SessionStatus,
    /// The issuer's signature does not verify.
    IssuerSignature,
    /// The issuer does not chain to a trusted authority.
    UntrustedIssuer,
    /// A certificate chain is broken, of the wrong profile, or not valid at the time.
    CertificateChain,
    /// A disclosed value does not match its signed digest (tampered).
    DigestMismatch,
    /// A disclosed value refers to a digest the issuer did not sign.
    UnknownDigestId,
    /// The document type differs from what was signed or requested.
    DocTypeMismatch,
    /// The document's validity has ended.
    Expired,
    /// The document is not valid yet.
    NotYetValid,
    /// The holder's device did not prove possession of the bound key for this session
    /// (wrong device key, or a response from another session).
    DeviceAuthentication,
    /// The reader's signature on its request does not verify.
    ReaderAuthentication,
    /// A response carries a document or element that was not asked for.
    NotRequested,
    /// A cryptographic operation failed.
    Crypto,
    /// An SD-JWT disclosure is not covered by the issuer's digests (changed or foreign).
    UnreferencedDisclosure,
    /// A digest or disclosure appears twice.
    Duplicate,
    /// A disclosed claim clashes with one already present.
    ClaimConflict,
    /// The presentation lacks the required Key Binding JWT.
    KeyBindingMissing,
    /// The Key Binding JWT's signature does not verify with the credential's holder key.
    KeyBindingSignature,
    /// The Key Binding JWT is for another nonce.
    KeyBindingNonce,
    /// The Key Binding JWT is for another audience.
    KeyBindingAudience,
    /// The Key Binding JWT is too old or from the future.
    KeyBindingStale,
    /// The Key Binding JWT does not cover exactly this presentation.
    KeyBindingSdHash,
    /// The issuer revoked the credential.
    Revoked,
    /// The issuer suspended the credential.
    Suspended,
    /// A status list could not be fetched, verified or read.
    StatusUnavailable,
    /// The status list gives a status other than valid, revoked or suspended (an
    /// application-specific or reserved value): not valid.
    StatusNotValid,
    /// The credential's type (`typ`, `vct`) is not one the relying party accepts.
    CredentialType,
    /// The credential's `iss` is not a name of its issuer's certificate.
    IssuerMismatch,
    /// A bill or notification is not signed by a trusted sender.
    UntrustedSender,
    /// A notification's text carries a link or a phone number (refused against smishing).
    CallToAction,
    /// A key proof (OpenID4VCI) is malformed, for another issuer or nonce, stale, or its
    /// signature does not verify.
    KeyProof,
    /// A PIN re-verification token is not signed by a trusted identity verifier, is for
    /// another challenge, or has expired.
    Reverification,
    /// A consent's recipient is not a registered data recipient, or not the one named.
    UntrustedRecipient,
    /// A key attestation is not signed by a trusted wallet provider, has expired, or is for
    /// another nonce.
    KeyAttestation,
    /// Transaction data the relying party asked to be authorized is not covered by the
    /// presentation's key binding.
    TransactionData,
    /// An issued credential is not what was offered (another type), or is bound to a key the
    /// wallet did not prove.
    NotOffered,
    /// A client attestation or its proof of possession does not hold (untrusted provider,
    /// expired, another client, another server, stale, or not signed by the attested key).
    ClientAttestation,
}

impl From<crate::sdjwt::SdJwtError> for WalletError {
    fn from(e: crate::sdjwt::SdJwtError) -> Self {
        use crate::sdjwt::SdJwtError as S;
        use VerificationFailure as F;
        let failure = match &e {
            S::Malformed(_) => F::Malformed,
            S::Unsupported(_) => F::Unsupported,
            S::IssuerSignature => F::IssuerSignature,
            S::UntrustedIssuer(_) => F::UntrustedIssuer,
            S::CertificateChain(_) => F::CertificateChain,
            S::UnreferencedDisclosure(_) => F::UnreferencedDisclosure,
            S::DuplicateDigest(_) | S::DuplicateDisclosure(_) => F::Duplicate,
            S::ClaimConflict(_) => F::ClaimConflict,
            S::Expired(_) => F::Expired,
            S::NotYetValid(_) => F::NotYetValid,
            S::KeyBindingMissing => F::KeyBindingMissing,
            S::KeyBindingSignature => F::KeyBindingSignature,
            S::KeyBindingNonce => F::KeyBindingNonce,
            S::KeyBindingAudience => F::KeyBindingAudience,
            S::KeyBindingStale(_) => F::KeyBindingStale,
            S::KeyBindingSdHash => F::KeyBindingSdHash,
            S::Revoked => F::Revoked,
            S::Suspended => F::Suspended,
            S::StatusUnavailable(_) => F::StatusUnavailable,
            S::WrongType(_) => F::CredentialType,
            S::IssuerMismatch(_) => F::IssuerMismatch,
        };
        WalletError::Verification {
            failure,
            detail: e.to_string(),
        }
    }
}

impl From<crate::mdoc::MdocError> for WalletError {
    fn from(e: crate::mdoc::MdocError) -> Self {
        use crate::mdoc::MdocError as M;
        use VerificationFailure as F;
        let failure = match &e {
            M::Malformed(_) => F::Malformed,
            M::Unsupported(_) => F::Unsupported,
            M::Decryption => F::Decryption,
            M::BadCounter => F::BadCounter,
            M::SessionTerminated => F::SessionTerminated,
            M::SessionStatus(_) => F::SessionStatus,
            M::IssuerSignature => F::IssuerSignature,
            M::UntrustedIssuer(_) => F::UntrustedIssuer,
            M::CertificateChain(_) => F::CertificateChain,
            M::DigestMismatch { .. } => F::DigestMismatch,
            M::UnknownDigestId { .. } => F::UnknownDigestId,
            M::DocTypeMismatch { .. } => F::DocTypeMismatch,
            M::Expired(_) => F::Expired,
            M::NotYetValid(_) => F::NotYetValid,
            M::DeviceAuthentication(_) => F::DeviceAuthentication,
            M::ReaderAuthentication(_) => F::ReaderAuthentication,
            M::NotRequested(_) => F::NotRequested,
            M::Crypto(_) => F::Crypto,
        };
        WalletError::Verification {
            failure,
            detail: e.to_string(),
        }
    }
}

impl From<crate::cose::CoseError> for WalletError {
    fn from(e: crate::cose::CoseError) -> Self {
        use crate::cose::CoseError as C;
        use VerificationFailure as F;
        let failure = match &e {
            C::Malformed(_) => F::Malformed,
            C::Unsupported(_) => F::Unsupported,
            C::BadSignature | C::BadMac | C::Crypto(_) => F::Crypto,
        };
        WalletError::Verification {
            failure,
            detail: e.to_string(),
        }
    }
}

impl From<crate::documents::consent::ConsentError> for WalletError {
    fn from(e: crate::documents::consent::ConsentError) -> Self {
        use crate::documents::consent::ConsentError as C;
        use VerificationFailure as F;
        let failure = match &e {
            C::Malformed(_) => F::Malformed,
            C::BadSignature => F::IssuerSignature,
        };
        WalletError::Verification {
            failure,
            detail: e.to_string(),
        }
    }
}

impl From<crate::issuance::error::IssuanceError> for WalletError {
    fn from(e: crate::issuance::error::IssuanceError) -> Self {
        WalletError::Issuance {
            failure: e.failure,
            detail: e.detail,
        }
    }
}

impl From<crate::issuance::check::CheckError> for WalletError {
    fn from(e: crate::issuance::check::CheckError) -> Self {
        use crate::issuance::check::CheckError as C;
        match e {
            C::Mdoc(e) => e.into(),
            C::SdJwt(e) => e.into(),
            C::NotOffered(detail) => WalletError::Verification {
                failure: VerificationFailure::NotOffered,
                detail,
            },
        }
    }
}

impl WalletError {
    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        WalletError::InvalidInput {
            reason: reason.into(),
        }
    }

    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        WalletError::NotFound { what: what.into() }
    }

    /// Errors raised by a host callback arrive as `HostCallback`, unless the host chose a
    /// specific wallet error (for example `WrongKey` from a key protector).
    pub(crate) fn in_callback(self, callback: &str) -> Self {
        match self {
            WalletError::HostCallback { reason } => WalletError::HostCallback {
                reason: format!("{callback}: {reason}"),
            },
            other => other,
        }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for WalletError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        WalletError::HostCallback { reason: e.reason }
    }
}

impl From<StoreError> for WalletError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Sqlite(e) => WalletError::Storage {
                reason: e.to_string(),
            },
            StoreError::Corrupt(reason) => WalletError::StoreCorrupt { reason },
            StoreError::UnsupportedVersion { found, supported } => {
                WalletError::UnsupportedStoreVersion { found, supported }
            }
            StoreError::WrongKey => WalletError::WrongKey,
            StoreError::Closed => WalletError::Closed,
            StoreError::Missing(path) => WalletError::NotFound {
                what: format!("wallet store {path}"),
            },
            StoreError::Crypto(e) => e.into(),
            StoreError::Encoding(reason) => WalletError::Internal { reason },
            StoreError::Signing(reason) => WalletError::HostCallback {
                reason: format!("signing the record: {reason}"),
            },
            StoreError::Conflict(reason) => WalletError::Storage { reason },
        }
    }
}

impl From<CryptoError> for WalletError {
    fn from(e: CryptoError) -> Self {
        WalletError::Crypto {
            reason: e.to_string(),
        }
    }
}

impl From<AccessError> for WalletError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::InvalidPinFormat => WalletError::invalid(e.to_string()),
            AccessError::PinAlreadySet => {
                WalletError::invalid("a PIN is already set; change it instead")
            }
            AccessError::PinNotSet => WalletError::PinNotSet,
            AccessError::WrongPin { tries_left } => WalletError::WrongPin { tries_left },
            AccessError::LockedOut => WalletError::PinLockedOut,
            AccessError::NotLockedOut => {
                WalletError::invalid("a PIN reset is only possible after lockout")
            }
            AccessError::TooSoon { retry_at } => WalletError::PinDelayed { retry_at },
            AccessError::RolledBack => WalletError::StoreCorrupt {
                reason: e.to_string(),
            },
            AccessError::BadProof(detail) => WalletError::Verification {
                failure: VerificationFailure::Reverification,
                detail,
            },
            AccessError::Store(e) => e.into(),
            AccessError::Crypto(e) => e.into(),
        }
    }
}
