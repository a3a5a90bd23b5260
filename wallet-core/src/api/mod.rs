//! The exported surface: everything a host app (through uniffi) or the CLI calls.
//!
//! This is the only module with `#[uniffi::export]` items. It validates input, enforces the
//! lock, converts between boundary records and domain types, and maps every internal error
//! into [`WalletError`].
//!
//! Owns: the exported records, objects and errors, and nothing else: an exported method checks
//! access, calls a capability module and maps the result. It may import every module; no module
//! imports it, and it never holds a protocol or domain rule of its own.

#[cfg(feature = "issuer")]
mod authority;
mod benefits;
mod disclosure;
mod e_certificates;
mod error;
mod host;
mod http;
mod inbox;
mod issuance;
mod journal;
mod mydata;
mod online;
mod presentation;
mod proximity;
mod reader;
mod records;
mod relying_party;
mod status;
mod tasks;
mod wallet;

pub use crate::benefits::catalog::Eligibility;
pub use crate::documents::bills::{BillKind, BillState};
pub use crate::documents::consent::ConsentMode;
pub use crate::inbox::notifications::{NotificationCategory, Priority};
pub use crate::issuance::error::IssuanceFailure;
pub use crate::issuance::metadata::LocalizedName;
pub use crate::issuance::offer::{TxCodeInputMode, TxCodeSpec};
pub use crate::journal::JournalKind;
pub use crate::mdoc::DeviceAuthMode;
pub use crate::openid4vp::request::{PresentationFailure, ResponseMode};
pub use crate::trust::x509::TrustRole;
#[cfg(feature = "issuer")]
pub use authority::{
    AttestedClient, AuthorityMaterial, BillDraft, IssuedSigner, MdlClaims, NotificationDraft,
    ResidentCardClaims, RoleMaterial, StatusListEntry, StatusListFormat, TestAuthority,
    TlsIdentity,
};
pub use benefits::{
    benefit_attributes, AttributeInfo, BenefitResult, CitizenFact, FactValue, MissingAttribute,
};
pub use disclosure::{
    DisclosureChannel, DisclosureDecision, DisclosureDocument, DisclosureItem, DisclosurePolicy,
    DisclosureRequest, DocumentApproval, Grant, ItemVerdict, RelyingPartyIdentity, UserPrompt,
    WithheldItem, WithheldReason, MAX_GRANT_DAYS, TEST_LEGAL_BASIS_POLICY,
};
pub use e_certificates::{
    e_certificate_types, DisclosedClaim, ECertificateClaim, ECertificateClaimType,
    ECertificateType, ECertificateView, SdJwtVerifier, SdJwtVerifierConfig, VerifiedECertificate,
};
pub use error::{VerificationFailure, WalletError};
pub use host::{
    fixed_clock, passphrase_key_protector, passphrase_key_protector_with_cost, system_clock, Clock,
    FixedClock, KeyProtector, PassphraseKeyProtector, SecureArea, SoftwareSecureArea, SystemClock,
};
pub use http::{HttpClient, HttpHeader, HttpMethod, HttpRequest, HttpResponse};
pub use inbox::{BillRecord, MonthTotal, NotificationFilter, NotificationPage, NotificationRecord};
pub use issuance::{
    ClientAttestationPair, CredentialOfferView, IssuanceOptions, IssuanceResult, IssuanceSession,
    IssuedCredential, OfferedCredential, PendingIssuance, PlatformAttestation,
};
pub use journal::{verify_journal_export, JournalCheck, JournalEntry, JournalFilter, JournalPage};
pub use mydata::{
    consent_is_revoked, verify_consent_token, ConsentRecord, ConsentRequest, ConsentState,
    TransferRecord, VerifiedConsentToken,
};
pub use online::{
    CandidateCredential, DisclosedCredential, OfferedClaim, OnlineOutcome, OnlinePresentation,
    OnlineQuery, OnlineRequestView, QueryChoice, RelyingPartyView, TransactionView,
};
pub use presentation::{
    Approval, ElementRef, Engagement, PresentationEvent, PresentationSession, ReaderInfo,
    RequestedDocument, RequestedElement, RetrievalMethod, TrustAnchor,
};
pub use proximity::{
    ble_carrier_of, ble_ident, check_ble_ident, l2cap_psm_of, l2cap_psm_value, nfc_carrier_of,
    BleCarrier, BleL2capChannel, BleStateChange, BleTransport, NfcCarrierLimits,
    NfcEngagementReader, NfcHandover, NfcHolderLink, NfcHolderStep, NfcReaderStep,
    NfcTransferReader,
};
pub use reader::{
    DocumentError, DocumentRequest, MdocReader, MdocReaderSession, NotReturned, ReaderConfig,
    ReaderEvent, RequestedItem, VerificationReport, VerifiedElement, VerifiedMdoc,
};
pub use records::{
    CopyCount, Credential, CredentialFilter, CredentialFormat, CredentialPage, CredentialState,
    CredentialSummary, DeviceKey, NewCredential, WalletConfig, WalletStatus, WipeReport,
};
pub use relying_party::{
    openid4vp_wallet_uri, ClientIdScheme, CreatedRequest, Openid4vpVerifier,
    Openid4vpVerifierConfig, PresentationRequestOptions, PresentationResult, PresentedClaim,
    PresentedCredential,
};
pub use status::{
    decode_status_list, StateChange, StatusListContents, StatusRefreshReport, StatusValue,
    WalletEvent, WalletListener,
};
pub use wallet::{open_wallet, Wallet, MAX_CREDENTIAL_BYTES, MAX_PAGE_SIZE, MAX_TEXT_BYTES};
