//! Wallet access: the 6-digit PIN, its try counter, the delay between wrong tries, lockout, and
//! the two ways out of a lockout.
//!
//! The PIN verifier is a PBKDF2-HMAC-SHA-256 hash with a random salt, sealed in the store like
//! every other secret. The failure counter is written *before* the hash is checked and cleared
//! only on success, so killing the process mid-check never yields a free try. After the third
//! wrong PIN each further try must wait ([`delay_after`]); after [`MAX_PIN_TRIES`] consecutive
//! failures the PIN is locked out. A locked-out wallet opens only with proof — a re-verification
//! token for this wallet's challenge, signed by an identity-verification authority the wallet
//! trusts — or by the citizen erasing the credentials and starting again.
//!
//! The counter carries an epoch that is also written, in the same transaction, to a second
//! sealed record. An older copy of the counter row put back into the file no longer matches
//! and is treated as a lockout. (Putting back every row of an older file at once is a rollback
//! of the whole store, which only a hardware counter outside the file can detect.)
//! Owns: the PIN verifier, its counters and epochs, the reset proofs. Imports `crypto`, `cose`
//! (the reverification token) and `store`; never `api`, never a credential format.

use serde::{Deserialize, Serialize};

use crate::crypto::{passphrase, random, CryptoError};
use crate::store::{Store, StoreError};

/// Consecutive wrong PINs allowed before lockout.
pub const MAX_PIN_TRIES: u32 = 5;
/// Digits in a PIN.
pub const PIN_LENGTH: usize = 6;
/// How long a re-verification challenge stays usable, in seconds.
pub const CHALLENGE_SECONDS: i64 = 15 * 60;

const META_PIN: &str = "pin_verifier";
const META_FAILURES: &str = "pin_failures";
const META_EPOCH: &str = "pin_epoch";
const META_CHALLENGE: &str = "pin_reset_challenge";

/// The wait before the next try after `failures` consecutive wrong PINs, in seconds: none for
/// the first two, 30 seconds after the third, 5 minutes after the fourth (the fifth locks out).
pub fn delay_after(failures: u32) -> i64 {
    match failures {
        0..=2 => 0,
        3 => 30,
        _ => 300,
    }
}

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
    /// Too soon after a wrong PIN: try again at `retry_at`.
    #[error("too soon after a wrong PIN; try again at {retry_at}")]
    TooSoon {
        /// Unix seconds.
        retry_at: i64,
    },
    /// Too many wrong PINs.
    #[error("PIN locked out")]
    LockedOut,
    /// The try counter in the store is older than its epoch record: it was rolled back. The
    /// wallet is now locked out.
    #[error("the PIN try counter was rolled back; the wallet is locked out")]
    RolledBack,
    /// A reset was asked for while the PIN is not locked out.
    #[error("the PIN is not locked out")]
    NotLockedOut,
    /// The re-verification proof is missing, stale, for another challenge, or not signed by a
    /// trusted identity-verification authority.
    #[error("re-verification refused: {0}")]
    BadProof(String),
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

/// The failure counter as sealed in the store.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Counter {
    failures: u32,
    epoch: u64,
    last_failure_at: i64,
}

/// What the store says about the PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinState {
    /// A PIN has been set.
    pub is_set: bool,
    /// Consecutive failures so far.
    pub failures: u32,
    /// The next try is refused before this time (Unix seconds), after recent failures.
    pub retry_at: Option<i64>,
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

fn corrupt(what: &str) -> AccessError {
    AccessError::Store(StoreError::Corrupt(what.into()))
}

/// The counter, checked against its epoch record. A counter whose epoch does not match is a
/// rolled-back row: reported as `RolledBack` (and the caller locks the wallet out).
fn read_counter(store: &Store) -> Result<Counter, AccessError> {
    let counter = match store.get_meta(META_FAILURES)? {
        None => Counter::default(),
        // Stores written before epochs: a bare 4-byte count.
        Some(bytes) if bytes.len() == 4 => {
            let array: [u8; 4] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| corrupt("PIN failure counter"))?;
            Counter {
                failures: u32::from_be_bytes(array),
                ..Counter::default()
            }
        }
        Some(bytes) => {
            ciborium::from_reader(bytes.as_slice()).map_err(|_| corrupt("PIN failure counter"))?
        }
    };
    let epoch = match store.get_meta(META_EPOCH)? {
        None => 0,
        Some(bytes) => u64::from_be_bytes(
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| corrupt("PIN counter epoch"))?,
        ),
    };
    if counter.epoch != epoch {
        return Err(AccessError::RolledBack);
    }
    Ok(counter)
}

/// Writes the counter and its epoch record together, with a fresh epoch.
fn write_counter(store: &Store, failures: u32, last_failure_at: i64) -> Result<(), AccessError> {
    let epoch = u64::from_be_bytes(random::array()?);
    let counter = Counter {
        failures,
        epoch,
        last_failure_at,
    };
    let mut encoded = Vec::new();
    ciborium::into_writer(&counter, &mut encoded)
        .map_err(|e| StoreError::Encoding(e.to_string()))?;
    store.put_metas(&[
        (META_FAILURES, encoded.as_slice()),
        (META_EPOCH, epoch.to_be_bytes().as_slice()),
    ])?;
    Ok(())
}

/// Reads the counter; a rolled-back one locks the wallet out on the spot.
fn counter_or_lockout(store: &Store, now: i64) -> Result<Counter, AccessError> {
    match read_counter(store) {
        Err(AccessError::RolledBack) => {
            write_counter(store, MAX_PIN_TRIES, now)?;
            Err(AccessError::RolledBack)
        }
        other => other,
    }
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
    write_counter(store, 0, 0)
}

/// Reads the PIN state. A rolled-back counter reads as locked out.
pub fn state(store: &Store) -> Result<PinState, AccessError> {
    let is_set = store.get_meta(META_PIN)?.is_some();
    let counter = match read_counter(store) {
        Err(AccessError::RolledBack) => Counter {
            failures: MAX_PIN_TRIES,
            ..Counter::default()
        },
        other => other?,
    };
    let delay = delay_after(counter.failures);
    Ok(PinState {
        is_set,
        failures: counter.failures,
        retry_at: (delay > 0 && counter.failures < MAX_PIN_TRIES)
            .then(|| counter.last_failure_at.saturating_add(delay)),
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

/// Checks a PIN at `now`, counting failures and enforcing the delay between wrong tries.
pub fn verify_pin(store: &Store, pin: &str, now: i64) -> Result<(), AccessError> {
    let verifier = read_verifier(store)?.ok_or(AccessError::PinNotSet)?;
    let counter = counter_or_lockout(store, now)?;
    if counter.failures >= MAX_PIN_TRIES {
        return Err(AccessError::LockedOut);
    }
    let retry_at = counter
        .last_failure_at
        .saturating_add(delay_after(counter.failures));
    // A clock set back before the last failure waits the whole delay again.
    if now < retry_at || (counter.failures > 0 && now < counter.last_failure_at) {
        return Err(AccessError::TooSoon {
            retry_at: retry_at.max(now.saturating_add(delay_after(counter.failures))),
        });
    }
    // Count the try first: an interrupted check still costs a try.
    let failures = counter.failures + 1;
    write_counter(store, failures, now)?;
    let ok = check_format(pin).is_ok()
        && passphrase::verify(
            pin.as_bytes(),
            &verifier.salt,
            verifier.iterations,
            &verifier.hash,
        )?;
    if ok {
        write_counter(store, 0, 0)?;
        Ok(())
    } else {
        Err(AccessError::WrongPin {
            tries_left: MAX_PIN_TRIES.saturating_sub(failures),
        })
    }
}

/// Replaces the PIN after checking the current one.
pub fn change_pin(store: &Store, current: &str, new: &str, now: i64) -> Result<(), AccessError> {
    check_format(new)?;
    verify_pin(store, current, now)?;
    write_verifier(store, new)
}

/// A fresh challenge for a re-verification token (only while locked out). The token an
/// identity-verification authority signs must carry it; it expires after
/// [`CHALLENGE_SECONDS`] and is used once.
pub fn reset_challenge(store: &Store, now: i64) -> Result<Vec<u8>, AccessError> {
    if !state(store)?.locked_out() {
        return Err(AccessError::NotLockedOut);
    }
    let challenge: [u8; 32] = random::array()?;
    let mut record = Vec::with_capacity(40);
    record.extend_from_slice(&now.to_be_bytes());
    record.extend_from_slice(&challenge);
    store.put_meta(META_CHALLENGE, &record)?;
    Ok(challenge.to_vec())
}

/// What a re-verification token states, once its signature has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reverification {
    /// The wallet's challenge.
    pub challenge: Vec<u8>,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
}

/// The `type` of a re-verification token's payload.
pub const REVERIFICATION_TYPE: &str = "jigap-pin-reset";

/// Reads the payload of a re-verification token (its signature already checked):
/// `{"type": "jigap-pin-reset", "challenge": bstr, "exp": int}`.
pub fn parse_reverification(
    body: &crate::cose::cbor::Value,
) -> Result<Reverification, AccessError> {
    use crate::cose::cbor;
    let bad = |e: crate::cose::CoseError| AccessError::BadProof(e.to_string());
    let m = cbor::map(body, "re-verification").map_err(bad)?;
    let kind = cbor::text(
        cbor::require(m, "type", "re-verification").map_err(bad)?,
        "type",
    )
    .map_err(bad)?;
    if kind != REVERIFICATION_TYPE {
        return Err(AccessError::BadProof(format!("a token of type {kind}")));
    }
    let challenge = cbor::bytes(
        cbor::require(m, "challenge", "re-verification").map_err(bad)?,
        "challenge",
    )
    .map_err(bad)?
    .to_vec();
    let expires_at = match cbor::require(m, "exp", "re-verification").map_err(bad)? {
        cbor::Value::Integer(i) => {
            i64::try_from(*i).map_err(|_| AccessError::BadProof("exp out of range".into()))?
        }
        _ => return Err(AccessError::BadProof("exp is not an integer".into())),
    };
    Ok(Reverification {
        challenge,
        expires_at,
    })
}

#[cfg(feature = "issuer")]
/// The payload of a re-verification token for `challenge` (the authority's side).
pub fn reverification_payload(challenge: &[u8], expires_at: i64) -> crate::cose::cbor::Value {
    use crate::cose::cbor::{entry, Value};
    Value::Map(vec![
        entry("type", Value::Text(REVERIFICATION_TYPE.into())),
        entry("challenge", Value::Bytes(challenge.to_vec())),
        entry("exp", Value::Integer(expires_at.into())),
    ])
}

/// Sets a new PIN after lockout on a verified re-verification for this wallet's current
/// challenge, and uses the challenge up.
pub fn reset_with_proof(
    store: &Store,
    new: &str,
    proof: &Reverification,
    now: i64,
) -> Result<(), AccessError> {
    check_format(new)?;
    if !state(store)?.locked_out() {
        return Err(AccessError::NotLockedOut);
    }
    let record = store
        .get_meta(META_CHALLENGE)?
        .ok_or_else(|| AccessError::BadProof("no challenge was issued".into()))?;
    let (issued, challenge) = record
        .split_first_chunk::<8>()
        .ok_or_else(|| corrupt("PIN reset challenge"))?;
    let issued_at = i64::from_be_bytes(*issued);
    if now > issued_at.saturating_add(CHALLENGE_SECONDS) || now < issued_at {
        return Err(AccessError::BadProof("the challenge has expired".into()));
    }
    if !crate::crypto::constant_time_eq(challenge, &proof.challenge) {
        return Err(AccessError::BadProof(
            "the token is for another challenge".into(),
        ));
    }
    if now >= proof.expires_at {
        return Err(AccessError::BadProof("the token has expired".into()));
    }
    store.delete_meta(META_CHALLENGE)?;
    write_verifier(store, new)
}

/// Checks that a reset by erasing may go ahead: the PIN is locked out and `new` is a PIN.
pub fn check_erase_reset(store: &Store, new: &str) -> Result<(), AccessError> {
    check_format(new)?;
    if !state(store)?.locked_out() {
        return Err(AccessError::NotLockedOut);
    }
    Ok(())
}

/// Sets a new PIN after lockout once the caller has erased every credential (the citizen's
/// other way out; see [`check_erase_reset`]).
pub fn reset_after_erasing(store: &Store, new: &str) -> Result<(), AccessError> {
    check_erase_reset(store, new)?;
    store.delete_meta(META_CHALLENGE)?;
    write_verifier(store, new)
}
