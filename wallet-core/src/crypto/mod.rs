//! Cryptographic building blocks, free of any wallet state.
//!
//! Everything here is a thin, typed layer over `ring` (AES-256-GCM, HKDF, HMAC, PBKDF2, ECDSA,
//! randomness) and `p256` (key encodings and ECDH with static keys). Nothing in this module
//! imports the rest of the crate, so the store, the protocols and the API all build on it.
//!
//! Owns: keys, AEAD, KDFs, signatures, JOSE compact serialization, randomness, constant-time
//! comparison. Must never import another module of the crate.

pub mod aead;
pub mod ec;
pub mod hpke;
pub mod jose;
pub mod jwe;
pub mod passphrase;
pub mod random;
pub mod secret;

/// Compares two byte strings in time that depends only on their lengths: for digests, MACs
/// and hashes an attacker may probe byte by byte.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

/// A failure of a cryptographic operation. Deliberately coarse: the reason a MAC or a tag
/// failed to verify is never more specific than "it did not verify".
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// An AEAD tag, MAC or signature did not verify, or the wrong key was used.
    #[error("authentication failed")]
    AuthenticationFailed,
    /// A key, nonce, signature or sealed value had the wrong length or encoding.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The system random number generator failed.
    #[error("random number generator failure")]
    Rng,
    /// A parameter was outside the range this code accepts.
    #[error("invalid parameter: {0}")]
    InvalidParameter(&'static str),
}
