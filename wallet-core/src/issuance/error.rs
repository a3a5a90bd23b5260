//! Why an issuance failed: every error response OpenID4VCI 1.0 and OAuth 2.0 define, and what
//! the wallet itself refuses, each as its own kind so a host can react (ask for the code again,
//! start over, tell the citizen the issuer refused).

/// What went wrong, by kind.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum IssuanceFailure {
    /// The credential offer is malformed, or its reference could not be fetched.
    InvalidOffer,
    /// The issuer's or the authorization server's metadata is missing, malformed, or for
    /// another issuer.
    Metadata,
    /// The issuer needs something this wallet does not do (a credential format, a proof type,
    /// an encryption it requires, DPoP).
    Unsupported,
    /// A step was called out of order (no token yet, a flow the offer does not grant).
    OutOfOrder,
    /// A response does not follow the protocol (wrong status, malformed body).
    Protocol,
    /// OAuth `invalid_request`: a missing or unexpected parameter, e.g. a transaction code sent
    /// when none was asked for, or none sent when one was.
    InvalidRequest,
    /// OAuth `invalid_grant`: a wrong transaction code, or an expired, used or unknown
    /// (pre-)authorization code.
    InvalidGrant,
    /// OAuth `invalid_client`: the wallet's client authentication or attestation was refused.
    InvalidClient,
    /// OAuth `unauthorized_client`.
    UnauthorizedClient,
    /// OAuth `unsupported_grant_type`.
    UnsupportedGrantType,
    /// OAuth `invalid_scope`, or RFC 9396 `invalid_authorization_details`.
    InvalidScope,
    /// The citizen (or the authorization server) refused: `access_denied`.
    AccessDenied,
    /// The access token was refused (`invalid_token`, RFC 6750).
    InvalidToken,
    /// `invalid_credential_request`.
    InvalidCredentialRequest,
    /// `unknown_credential_configuration`.
    UnknownCredentialConfiguration,
    /// `unknown_credential_identifier`.
    UnknownCredentialIdentifier,
    /// `invalid_proof`: the issuer refused a key proof (or its key attestation).
    InvalidProof,
    /// `invalid_nonce`: the proof's nonce is not (or no longer) valid.
    InvalidNonce,
    /// `invalid_encryption_parameters`.
    InvalidEncryptionParameters,
    /// `credential_request_denied`: the issuer will not issue; do not retry.
    CredentialRequestDenied,
    /// `invalid_transaction_id` (deferred issuance).
    InvalidTransactionId,
    /// `invalid_notification_id`.
    InvalidNotificationId,
    /// `invalid_notification_request`.
    InvalidNotificationRequest,
    /// An error response with a code this wallet does not know, or an HTTP error without one.
    ServerError,
}

impl IssuanceFailure {
    /// The kind of an OAuth / OpenID4VCI `error` code.
    pub fn from_code(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_grant" => Self::InvalidGrant,
            "invalid_client" => Self::InvalidClient,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" | "invalid_authorization_details" => Self::InvalidScope,
            "access_denied" => Self::AccessDenied,
            "invalid_token" | "insufficient_scope" => Self::InvalidToken,
            "invalid_credential_request" => Self::InvalidCredentialRequest,
            "unknown_credential_configuration" => Self::UnknownCredentialConfiguration,
            "unknown_credential_identifier" => Self::UnknownCredentialIdentifier,
            "invalid_proof" => Self::InvalidProof,
            "invalid_nonce" => Self::InvalidNonce,
            "invalid_encryption_parameters" => Self::InvalidEncryptionParameters,
            "credential_request_denied" => Self::CredentialRequestDenied,
            "invalid_transaction_id" => Self::InvalidTransactionId,
            "invalid_notification_id" => Self::InvalidNotificationId,
            "invalid_notification_request" => Self::InvalidNotificationRequest,
            _ => Self::ServerError,
        }
    }
}

/// An issuance failure with what the issuer or the wallet said about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{failure:?}: {detail}")]
pub struct IssuanceError {
    /// The kind.
    pub failure: IssuanceFailure,
    /// The details: the issuer's `error` and `error_description`, or the wallet's reason.
    /// Never a token, code or nonce.
    pub detail: String,
}

impl IssuanceError {
    /// An error of `failure` kind.
    pub fn new(failure: IssuanceFailure, detail: impl Into<String>) -> Self {
        IssuanceError {
            failure,
            detail: detail.into(),
        }
    }

    /// A protocol violation.
    pub fn protocol(detail: impl Into<String>) -> Self {
        Self::new(IssuanceFailure::Protocol, detail)
    }

    /// A malformed offer.
    pub fn offer(detail: impl Into<String>) -> Self {
        Self::new(IssuanceFailure::InvalidOffer, detail)
    }

    /// Bad metadata.
    pub fn metadata(detail: impl Into<String>) -> Self {
        Self::new(IssuanceFailure::Metadata, detail)
    }
}

impl From<crate::crypto::CryptoError> for IssuanceError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        IssuanceError::protocol(e.to_string())
    }
}
