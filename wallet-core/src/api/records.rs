//! Records that cross the boundary: configuration, credentials, pages, status and reports.

use std::sync::Arc;

use super::host::{Clock, KeyProtector, SecureArea};
pub use crate::store::credentials::{CredentialFormat, CredentialState};
use crate::store::credentials::{CredentialMetadata, StoredCredential};

/// How to open a wallet.
#[derive(uniffi::Record)]
pub struct WalletConfig {
    /// Path of the store file; `None` keeps the wallet in memory (tests, previews).
    #[uniffi(default = None)]
    pub path: Option<String>,
    /// Create the store when it does not exist. When false, a missing store is `NotFound`.
    #[uniffi(default = true)]
    pub create_if_missing: bool,
    /// Wraps the store's data key (a hardware key on a phone, a passphrase in the CLI).
    pub key_protector: Arc<dyn KeyProtector>,
    /// Holds device keys; `None` uses the built-in software secure area sealed in the store.
    #[uniffi(default = None)]
    pub secure_area: Option<Arc<dyn SecureArea>>,
    /// The wallet's clock; `None` uses the system clock.
    #[uniffi(default = None)]
    pub clock: Option<Arc<dyn Clock>>,
    /// Receives events (status changes); `None` for none.
    #[uniffi(default = None)]
    pub listener: Option<Arc<dyn super::status::WalletListener>>,
    /// Accept plain `http://` issuer URLs on the loopback interface (127.0.0.1, localhost,
    /// `[::1]`) for test servers. Off by default: otherwise only `https` is spoken.
    #[uniffi(default = false)]
    pub allow_loopback_http: bool,
}

/// A checked credential about to be stored (inside the core only: hosts add credentials with
/// `add_mdoc` and `add_sd_jwt`, which check them first). The raw bytes are stored exactly as
/// given. Its `Debug` shows no personal data.
#[derive(Clone, PartialEq, Eq)]
pub struct NewCredential {
    /// Encoding of `raw`.
    pub format: CredentialFormat,
    /// mdoc docType, or SD-JWT VC `vct`.
    pub doc_type: String,
    /// Issuer identifier.
    pub issuer: String,
    /// Display name in Korean.
    pub display_name_ko: String,
    /// Display name in English.
    pub display_name_en: String,
    /// Start of validity, Unix seconds.
    pub valid_from: Option<i64>,
    /// End of validity, Unix seconds.
    pub valid_until: Option<i64>,
    /// Alias of the device key (in the secure area) the credential is bound to.
    pub key_alias: Option<String>,
    /// The credential as received from the issuer.
    pub raw: Vec<u8>,
}

impl std::fmt::Debug for NewCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCredential")
            .field("format", &self.format)
            .field("doc_type", &self.doc_type)
            .field("raw", &format_args!("<{} bytes redacted>", self.raw.len()))
            .finish_non_exhaustive()
    }
}

/// What the wallet knows about a stored credential, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CredentialSummary {
    /// Wallet-assigned identifier.
    pub id: String,
    /// Encoding.
    pub format: CredentialFormat,
    /// Lifecycle state.
    pub state: CredentialState,
    /// mdoc docType, or SD-JWT VC `vct`.
    pub doc_type: String,
    /// Issuer identifier.
    pub issuer: String,
    /// Display name in Korean.
    pub display_name_ko: String,
    /// Display name in English.
    pub display_name_en: String,
    /// Start of validity, Unix seconds.
    pub valid_from: Option<i64>,
    /// End of validity, Unix seconds.
    pub valid_until: Option<i64>,
    /// When it was added, Unix seconds.
    pub added_at: i64,
    /// Alias of the bound device key (of the first copy, for a batch).
    pub key_alias: Option<String>,
    /// For a batch-issued credential: its copies, each presented once.
    #[uniffi(default = None)]
    pub copies: Option<CopyCount>,
}

/// The copies of a batch-issued credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct CopyCount {
    /// Copies issued.
    pub total: u32,
    /// Copies not yet presented; at 0 the credential needs a new batch.
    pub unused: u32,
}

/// A stored credential with its bytes, exactly as received. Its `Debug` shows the metadata,
/// never the bytes (they are personal data).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct Credential {
    /// Metadata.
    pub summary: CredentialSummary,
    /// The credential bytes.
    pub raw: Vec<u8>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("summary", &self.summary)
            .field("raw", &format_args!("<{} bytes redacted>", self.raw.len()))
            .finish()
    }
}

/// Filters for listing credentials; every `None` matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct CredentialFilter {
    /// Only this format (the kind of credential).
    #[uniffi(default = None)]
    pub format: Option<CredentialFormat>,
    /// Only this docType / vct.
    #[uniffi(default = None)]
    pub doc_type: Option<String>,
    /// Only this issuer.
    #[uniffi(default = None)]
    pub issuer: Option<String>,
    /// Only this state.
    #[uniffi(default = None)]
    pub state: Option<CredentialState>,
}

/// One page of a credential listing, newest first.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CredentialPage {
    /// The credentials on this page.
    pub items: Vec<CredentialSummary>,
    /// How many credentials match the filter in all.
    pub total: u64,
    /// Offset of the next page, if there is one.
    pub next_offset: Option<u32>,
}

/// A device key created in the secure area.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceKey {
    /// Alias to refer to the key.
    pub alias: String,
    /// Uncompressed SEC1 P-256 public key (65 bytes).
    pub public_key: Vec<u8>,
    /// The same key as a JWK (JSON text), for issuers that bind credentials to a JWK.
    pub public_jwk: String,
}

/// The wallet's state as a host shows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WalletStatus {
    /// A PIN has been set.
    pub pin_set: bool,
    /// Operations on credentials are allowed (no PIN set yet, or the PIN was verified).
    pub unlocked: bool,
    /// Too many wrong PINs; a confirmed reset is needed.
    pub pin_locked_out: bool,
    /// PIN tries left before lockout.
    pub pin_tries_left: u32,
    /// After recent wrong PINs, the next try is refused before this time (Unix seconds).
    pub pin_retry_at: Option<i64>,
    /// Number of stored credentials, when unlocked.
    pub credential_count: Option<u64>,
    /// Schema version of the store.
    pub schema_version: u32,
    /// The store is in memory.
    pub in_memory: bool,
    /// This open created the store.
    pub newly_created: bool,
}

/// What a wipe removed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WipeReport {
    /// Credentials deleted.
    pub credentials_removed: u64,
    /// Keys of the built-in software secure area deleted.
    pub software_keys_removed: u64,
    /// Device keys deleted through a host secure area (credential keys, the consent key, the
    /// record's signing key).
    pub host_keys_removed: u64,
    /// Other records deleted (PIN verifier, counters, wrapped data key, trust anchors, bills,
    /// notifications, entries of the citizen's record).
    pub records_removed: u64,
    /// The wrapped data key was deleted with its table and the file vacuumed: nothing sealed
    /// under it can be opened again (the host's `KeyProtector` key may remain).
    pub data_key_destroyed: bool,
}

impl From<StoredCredential> for CredentialSummary {
    fn from(c: StoredCredential) -> Self {
        let CredentialMetadata {
            doc_type,
            issuer,
            display_name_ko,
            display_name_en,
            valid_from,
            valid_until,
            key_alias,
        } = c.metadata;
        CredentialSummary {
            id: c.id,
            format: c.format,
            state: c.state,
            doc_type,
            issuer,
            display_name_ko,
            display_name_en,
            valid_from,
            valid_until,
            added_at: c.added_at,
            key_alias,
            copies: c.copies.map(|c| CopyCount {
                total: c.total,
                unused: c.unused,
            }),
        }
    }
}

impl From<CredentialFilter> for crate::store::credentials::Filter {
    fn from(f: CredentialFilter) -> Self {
        Self {
            format: f.format,
            doc_type: f.doc_type,
            issuer: f.issuer,
            state: f.state,
        }
    }
}
