//! The exported surface: everything a host app (through uniffi) or the CLI calls.
//!
//! This is the only module with `#[uniffi::export]` items. It validates input, enforces the
//! lock, converts between boundary records and domain types, and maps every internal error
//! into [`WalletError`].

mod error;
mod host;
mod records;
mod wallet;

pub use error::WalletError;
pub use host::{
    fixed_clock, passphrase_key_protector, passphrase_key_protector_with_cost, system_clock, Clock,
    FixedClock, KeyProtector, PassphraseKeyProtector, SecureArea, SoftwareSecureArea, SystemClock,
};
pub use records::{
    Credential, CredentialFilter, CredentialFormat, CredentialPage, CredentialState,
    CredentialSummary, DeviceKey, NewCredential, WalletConfig, WalletStatus, WipeReport,
};
pub use wallet::{open_wallet, Wallet, MAX_CREDENTIAL_BYTES, MAX_PAGE_SIZE, MAX_TEXT_BYTES};
