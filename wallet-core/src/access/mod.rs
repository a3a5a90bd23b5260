//! Wallet access: the 6-digit PIN, its try counter and lockout.
//!
//! The PIN verifier is a PBKDF2-HMAC-SHA-256 hash with a random salt, sealed in the store like
//! every other secret. The failure counter is written *before* the hash is checked and cleared
//! only on success, so killing the process mid-check never yields a free try. After
//! [`MAX_PIN_TRIES`] consecutive failures the PIN is locked out until the host confirms the
//! citizen's identity another way and calls for a reset.

use serde::{Deserialize, Serialize};

use crate::crypto::{passphrase, random, CryptoError};
use crate::store::{Store, StoreError};

/// Consecutive wrong PINs allowed before lockout.
pub const MAX_PIN_TRIES: u32 = 5;
/// Digits in a PIN.
pub const PIN_LENGTH: usize = 6;

const META_PIN: &str = "pin_verifier";
const META_FAILURES: &str = "pin_failures";

/// Why a PIN operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The PIN is not exactly six ASCII digits.
    #[error("a PIN is exactly {PIN_LENGTH} digits")]
    InvalidPinFormat,
    /// A PIN is already set; change it instead.
    #[error("a PIN is already set")]
    PinAlreadySet,
    /// No PIN has been set yet.
    #[error("no PIN is set")]
    PinNotSet,
    /// The PIN was wrong.
    #[error("wrong PIN, {tries_left} tries left")]
    WrongPin {
        /// Tries before lockout.
        tries_left: u32,
    },
    /// Too many wrong PINs.
    #[error("PIN locked out")]
    LockedOut,
    /// A reset was asked for while the PIN is not locked out.
    #[error("the PIN is not locked out")]
    NotLockedOut,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

#[derive(Serialize, Deserialize)]
struct PinVerifier {
    #[serde(with = "serde_bytes_compat")]
    salt: Vec<u8>,
    iterations: u32,
    #[serde(with = "serde_bytes_compat")]
    hash: Vec<u8>,
}

/// Encodes byte vectors as CBOR byte strings rather than arrays of integers.
mod serde_bytes_compat {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let bytes: ciborium::value::Value = Deserialize::deserialize(d)?;
        bytes
            .into_bytes()
            .map_err(|_| serde::de::Error::custom("expected a byte string"))
    }
}

/// What the store says about the PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinState {
    /// A PIN has been set.
    pub is_set: bool,
    /// Consecutive failures so far.
    pub failures: u32,
}

impl PinState {
    /// Tries left before lockout.
    pub fn tries_left(&self) -> u32 {
        MAX_PIN_TRIES.saturating_sub(self.failures)
    }

    /// True when locked out.
    pub fn locked_out(&self) -> bool {
        self.failures >= MAX_PIN_TRIES
    }
}

fn check_format(pin: &str) -> Result<(), AccessError> {
    if pin.len() == PIN_LENGTH && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(AccessError::InvalidPinFormat)
    }
}

fn read_failures(store: &Store) -> Result<u32, AccessError> {
    match store.get_meta(META_FAILURES)? {
        None => Ok(0),
        Some(bytes) => {
            let array: [u8; 4] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| StoreError::Corrupt("PIN failure counter".into()))?;
            Ok(u32::from_be_bytes(array))
        }
    }
}

fn write_failures(store: &Store, failures: u32) -> Result<(), AccessError> {
    Ok(store.put_meta(META_FAILURES, &failures.to_be_bytes())?)
}

fn read_verifier(store: &Store) -> Result<Option<PinVerifier>, AccessError> {
    match store.get_meta(META_PIN)? {
        None => Ok(None),
        Some(bytes) => ciborium::from_reader(bytes.as_slice())
            .map(Some)
            .map_err(|e| AccessError::Store(StoreError::Corrupt(format!("PIN verifier: {e}")))),
    }
}

fn write_verifier(store: &Store, pin: &str) -> Result<(), AccessError> {
    let salt: [u8; 16] = random::array()?;
    let hash = passphrase::derive(pin.as_bytes(), &salt, passphrase::PIN_ITERATIONS)?;
    let verifier = PinVerifier {
        salt: salt.to_vec(),
        iterations: passphrase::PIN_ITERATIONS,
        hash: hash.expose().to_vec(),
    };
    let mut encoded = zeroize::Zeroizing::new(Vec::new());
    ciborium::into_writer(&verifier, &mut *encoded)
        .map_err(|e| StoreError::Encoding(e.to_string()))?;
    store.put_meta(META_PIN, &encoded)?;
    write_failures(store, 0)
}

/// Reads the PIN state.
pub fn state(store: &Store) -> Result<PinState, AccessError> {
    Ok(PinState {
        is_set: store.get_meta(META_PIN)?.is_some(),
        failures: read_failures(store)?,
    })
}

/// Sets the first PIN.
pub fn set_pin(store: &Store, pin: &str) -> Result<(), AccessError> {
    check_format(pin)?;
    if read_verifier(store)?.is_some() {
        return Err(AccessError::PinAlreadySet);
    }
    write_verifier(store, pin)
}

/// Checks a PIN, counting failures.
pub fn verify_pin(store: &Store, pin: &str) -> Result<(), AccessError> {
    let verifier = read_verifier(store)?.ok_or(AccessError::PinNotSet)?;
    let failures = read_failures(store)?;
    if failures >= MAX_PIN_TRIES {
        return Err(AccessError::LockedOut);
    }
    // Count the try first: an interrupted check still costs a try.
    write_failures(store, failures + 1)?;
    let ok = check_format(pin).is_ok()
        && passphrase::verify(
            pin.as_bytes(),
            &verifier.salt,
            verifier.iterations,
            &verifier.hash,
        )?;
    if ok {
        write_failures(store, 0)?;
        Ok(())
    } else {
        Err(AccessError::WrongPin {
            tries_left: MAX_PIN_TRIES.saturating_sub(failures + 1),
        })
    }
}

/// Replaces the PIN after checking the current one.
pub fn change_pin(store: &Store, current: &str, new: &str) -> Result<(), AccessError> {
    check_format(new)?;
    verify_pin(store, current)?;
    write_verifier(store, new)
}

/// Sets a new PIN after lockout. The host must have confirmed the citizen's identity first.
pub fn reset_after_lockout(store: &Store, new: &str) -> Result<(), AccessError> {
    check_format(new)?;
    if !state(store)?.locked_out() {
        return Err(AccessError::NotLockedOut);
    }
    write_verifier(store, new)
}
