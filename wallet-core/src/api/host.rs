//! Host capabilities as foreign traits, each with the Rust implementation the CLI and tests use.
//!
//! A host app implements these in Kotlin or Swift over the platform's keystore, clock and so
//! on. Whatever a host callback throws arrives in Rust as an error, never a panic; the wallet
//! reports it as [`WalletError::HostCallback`] (unless the host threw a specific
//! `WalletError`) and stays usable.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::WalletError;
use crate::crypto::ec::{self, SoftwareKey};
use crate::crypto::passphrase;
use crate::crypto::secret::{SecretBytes, SymmetricKey};
use crate::crypto::{aead, random};
use crate::store::Store;

/// Wraps and unwraps the store's 256-bit data key, typically with a hardware-backed key
/// (Android Keystore, Secure Enclave). The wallet calls `wrap_key` once, when the store is
/// created, and `unwrap_key` each time it is opened.
#[uniffi::export(with_foreign)]
pub trait KeyProtector: Send + Sync {
    /// Returns an opaque wrapped form of `data_key` to be stored with the wallet.
    fn wrap_key(&self, data_key: Vec<u8>) -> Result<Vec<u8>, WalletError>;
    /// Returns the data key from its wrapped form. Throw `WalletError.WrongKey` when the
    /// wrapping key cannot open it.
    fn unwrap_key(&self, wrapped_key: Vec<u8>) -> Result<Vec<u8>, WalletError>;
}

/// Holds the wallet's device keys: P-256 keys whose private part may never leave the device.
/// Public keys are SEC1 points (uncompressed preferred); signatures are ECDSA with SHA-256
/// over the message, as `r || s` (64 bytes) or DER.
#[uniffi::export(with_foreign)]
pub trait SecureArea: Send + Sync {
    /// Creates a new P-256 key under `alias` and returns its public key.
    fn create_key(&self, alias: String) -> Result<Vec<u8>, WalletError>;
    /// Returns the public key stored under `alias`.
    fn public_key(&self, alias: String) -> Result<Vec<u8>, WalletError>;
    /// Signs `message` (ECDSA P-256, SHA-256 computed by the secure area).
    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, WalletError>;
    /// ECDH between the key under `alias` and `peer_public_key`; returns the shared x
    /// coordinate (32 bytes). Used for MAC-based device authentication.
    fn key_agreement(
        &self,
        alias: String,
        peer_public_key: Vec<u8>,
    ) -> Result<Vec<u8>, WalletError>;
    /// Deletes the key under `alias`. Deleting a missing key is not an error.
    fn delete_key(&self, alias: String) -> Result<(), WalletError>;
}

/// The wallet's notion of now. Injectable so that expiry and old test vectors can be checked
/// at a chosen time.
#[uniffi::export(with_foreign)]
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now_unix_seconds(&self) -> Result<i64, WalletError>;
}

// ---------------------------------------------------------------------------------------------
// Rust implementations

const PASSPHRASE_MAGIC: &[u8; 4] = b"JGP1";
const PASSPHRASE_AAD: &[u8] = b"jigap passphrase key wrap v1";
const SALT_LEN: usize = 16;

/// The built-in key protector: the data key is sealed with AES-256-GCM under a key derived
/// from a passphrase with PBKDF2-HMAC-SHA-256. The wrapped form stores the salt and the
/// iteration count: `"JGP1" || iterations (u32 BE) || salt (16) || sealed key`.
pub struct PassphraseKeyProtector {
    passphrase: SecretBytes,
    iterations: u32,
}

impl PassphraseKeyProtector {
    fn derive(&self, salt: &[u8], iterations: u32) -> Result<SymmetricKey, WalletError> {
        Ok(passphrase::derive(
            self.passphrase.expose(),
            salt,
            iterations,
        )?)
    }
}

impl KeyProtector for PassphraseKeyProtector {
    fn wrap_key(&self, data_key: Vec<u8>) -> Result<Vec<u8>, WalletError> {
        let data_key = Zeroizing::new(data_key);
        let salt: [u8; SALT_LEN] = random::array()?;
        let kek = self.derive(&salt, self.iterations)?;
        let sealed = aead::seal(&kek, PASSPHRASE_AAD, &data_key)?;
        let mut out = Vec::with_capacity(8 + SALT_LEN + sealed.len());
        out.extend_from_slice(PASSPHRASE_MAGIC);
        out.extend_from_slice(&self.iterations.to_be_bytes());
        out.extend_from_slice(&salt);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn unwrap_key(&self, wrapped_key: Vec<u8>) -> Result<Vec<u8>, WalletError> {
        let malformed = || WalletError::StoreCorrupt {
            reason: "the wrapped data key is malformed".into(),
        };
        let (magic, rest) = wrapped_key.split_first_chunk::<4>().ok_or_else(malformed)?;
        let (iterations, rest) = rest.split_first_chunk::<4>().ok_or_else(malformed)?;
        let (salt, sealed) = rest.split_first_chunk::<SALT_LEN>().ok_or_else(malformed)?;
        if magic != PASSPHRASE_MAGIC {
            return Err(malformed());
        }
        let iterations = u32::from_be_bytes(*iterations);
        if !(passphrase::MIN_ITERATIONS..=passphrase::MAX_ITERATIONS).contains(&iterations) {
            return Err(malformed());
        }
        let kek = self.derive(salt, iterations)?;
        aead::open(&kek, PASSPHRASE_AAD, sealed).map_err(|_| WalletError::WrongKey)
    }
}

/// The built-in passphrase key protector with the default cost (600,000 PBKDF2 iterations).
#[uniffi::export]
pub fn passphrase_key_protector(passphrase: String) -> Result<Arc<dyn KeyProtector>, WalletError> {
    passphrase_key_protector_with_cost(passphrase, passphrase::PASSPHRASE_ITERATIONS)
}

/// The built-in passphrase key protector with a chosen PBKDF2 iteration count (at least
/// 10,000): for tests and for slow devices. Opening a store always uses the count it was
/// created with.
#[uniffi::export]
pub fn passphrase_key_protector_with_cost(
    passphrase: String,
    iterations: u32,
) -> Result<Arc<dyn KeyProtector>, WalletError> {
    if passphrase.is_empty() {
        return Err(WalletError::invalid("the passphrase is empty"));
    }
    if !(passphrase::MIN_ITERATIONS..=passphrase::MAX_ITERATIONS).contains(&iterations) {
        return Err(WalletError::invalid(format!(
            "PBKDF2 iterations must be between {} and {}",
            passphrase::MIN_ITERATIONS,
            passphrase::MAX_ITERATIONS
        )));
    }
    Ok(Arc::new(PassphraseKeyProtector {
        passphrase: SecretBytes::from(passphrase),
        iterations,
    }))
}

/// The operating system's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_seconds(&self) -> Result<i64, WalletError> {
        let elapsed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| WalletError::Internal {
                reason: "system clock is before 1970".into(),
            })?;
        i64::try_from(elapsed.as_secs()).map_err(|_| WalletError::Internal {
            reason: "system clock out of range".into(),
        })
    }
}

/// A clock stopped at one instant.
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_unix_seconds(&self) -> Result<i64, WalletError> {
        Ok(self.0)
    }
}

/// The operating system's clock, as a [`Clock`].
#[uniffi::export]
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// A clock fixed at `unix_seconds`, for tests and for checking old credentials.
#[uniffi::export]
pub fn fixed_clock(unix_seconds: i64) -> Arc<dyn Clock> {
    Arc::new(FixedClock(unix_seconds))
}

/// The built-in secure area: P-256 keys generated in software, their private scalars sealed
/// in the wallet's store under the data key. For the CLI, tests, and devices without a
/// hardware keystore.
pub struct SoftwareSecureArea {
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
}

impl SoftwareSecureArea {
    pub(crate) fn new(store: Arc<Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    fn load(&self, alias: &str) -> Result<SoftwareKey, WalletError> {
        self.store
            .load_software_key(alias)?
            .ok_or_else(|| WalletError::not_found(format!("key {alias}")))
    }
}

impl SecureArea for SoftwareSecureArea {
    fn create_key(&self, alias: String) -> Result<Vec<u8>, WalletError> {
        let key = SoftwareKey::generate()?;
        let now = self.clock.now_unix_seconds()?;
        if !self.store.insert_software_key(&alias, &key, now)? {
            return Err(WalletError::invalid(format!("key alias {alias} is taken")));
        }
        Ok(key.public_key().to_vec())
    }

    fn public_key(&self, alias: String) -> Result<Vec<u8>, WalletError> {
        Ok(self.load(&alias)?.public_key().to_vec())
    }

    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, WalletError> {
        Ok(self.load(&alias)?.sign(&message)?)
    }

    fn key_agreement(
        &self,
        alias: String,
        peer_public_key: Vec<u8>,
    ) -> Result<Vec<u8>, WalletError> {
        Ok(self
            .load(&alias)?
            .agree(&peer_public_key)?
            .expose()
            .to_vec())
    }

    fn delete_key(&self, alias: String) -> Result<(), WalletError> {
        self.store.delete_software_key(&alias)?;
        Ok(())
    }
}

/// Calls into a [`SecureArea`] and checks what comes back, so a misbehaving host yields a
/// `HostCallback` error instead of a bad signature or key leaving the wallet.
pub(crate) struct CheckedSecureArea<'a>(pub &'a dyn SecureArea);

impl CheckedSecureArea<'_> {
    /// Creates a key and returns its uncompressed public key.
    pub fn create_key(&self, alias: &str) -> Result<Vec<u8>, WalletError> {
        let public = self
            .0
            .create_key(alias.to_owned())
            .map_err(|e| e.in_callback("SecureArea.createKey"))?;
        ec::uncompressed_public_key(&public).map_err(|_| WalletError::HostCallback {
            reason: "SecureArea.createKey returned an invalid P-256 public key".into(),
        })
    }

    /// The uncompressed public key under `alias`.
    pub fn public_key(&self, alias: &str) -> Result<Vec<u8>, WalletError> {
        let public = self
            .0
            .public_key(alias.to_owned())
            .map_err(|e| e.in_callback("SecureArea.publicKey"))?;
        ec::uncompressed_public_key(&public).map_err(|_| WalletError::HostCallback {
            reason: "SecureArea.publicKey returned an invalid P-256 public key".into(),
        })
    }

    /// Signs and verifies the signature against `public_key`; returns `r || s`.
    pub fn sign(
        &self,
        alias: &str,
        public_key: &[u8],
        message: &[u8],
    ) -> Result<Vec<u8>, WalletError> {
        let signature = self
            .0
            .sign(alias.to_owned(), message.to_vec())
            .map_err(|e| e.in_callback("SecureArea.sign"))?;
        let raw = ec::signature_to_raw(&signature).map_err(|_| WalletError::HostCallback {
            reason: "SecureArea.sign returned a malformed signature".into(),
        })?;
        ec::verify(public_key, message, &raw).map_err(|_| WalletError::HostCallback {
            reason: "SecureArea.sign returned a signature that does not verify".into(),
        })?;
        Ok(raw)
    }

    /// ECDH with `peer_public_key`; returns the 32-byte shared secret.
    pub fn key_agreement(
        &self,
        alias: &str,
        peer_public_key: &[u8],
    ) -> Result<SecretBytes, WalletError> {
        let shared = SecretBytes::new(
            self.0
                .key_agreement(alias.to_owned(), peer_public_key.to_vec())
                .map_err(|e| e.in_callback("SecureArea.keyAgreement"))?,
        );
        if shared.expose().len() != 32 {
            return Err(WalletError::HostCallback {
                reason: "SecureArea.keyAgreement returned a secret that is not 32 bytes".into(),
            });
        }
        Ok(shared)
    }

    /// Deletes a key.
    pub fn delete_key(&self, alias: &str) -> Result<(), WalletError> {
        self.0
            .delete_key(alias.to_owned())
            .map_err(|e| e.in_callback("SecureArea.deleteKey"))
    }
}
