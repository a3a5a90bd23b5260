//! Slow, salted hashing of low-entropy secrets (passphrases and PINs) with PBKDF2-HMAC-SHA-256.

use std::num::NonZeroU32;

use ring::pbkdf2;

use super::secret::SymmetricKey;
use super::CryptoError;

/// Iterations used to derive a key-encryption key from a passphrase (OWASP's 2023 figure for
/// PBKDF2-HMAC-SHA-256).
pub const PASSPHRASE_ITERATIONS: u32 = 600_000;
/// Iterations for the PIN verifier. The verifier is itself sealed under the data key, so the
/// slow hash is a second line of defence, and a PIN check must stay well under a second on a
/// phone.
pub const PIN_ITERATIONS: u32 = 210_000;
/// The smallest iteration count accepted from anyone, including stored records.
pub const MIN_ITERATIONS: u32 = 10_000;
/// The largest iteration count accepted from stored records (bounds the work an attacker who
/// edits the store can make us do).
pub const MAX_ITERATIONS: u32 = 10_000_000;

fn iterations(n: u32) -> Result<NonZeroU32, CryptoError> {
    if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&n) {
        return Err(CryptoError::InvalidParameter("PBKDF2 iteration count"));
    }
    NonZeroU32::new(n).ok_or(CryptoError::InvalidParameter("PBKDF2 iteration count"))
}

/// Derives a 256-bit key from `secret` and `salt`.
pub fn derive(secret: &[u8], salt: &[u8], rounds: u32) -> Result<SymmetricKey, CryptoError> {
    let mut out = [0u8; 32];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations(rounds)?,
        salt,
        secret,
        &mut out,
    );
    Ok(SymmetricKey::from_bytes(out))
}

/// Checks `secret` against a hash made by [`derive()`], in constant time.
pub fn verify(
    secret: &[u8],
    salt: &[u8],
    rounds: u32,
    expected: &[u8],
) -> Result<bool, CryptoError> {
    Ok(pbkdf2::verify(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations(rounds)?,
        salt,
        secret,
        expected,
    )
    .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derive_and_verify() {
        let salt = [7u8; 16];
        let key = derive(b"123456", &salt, MIN_ITERATIONS).unwrap();
        assert!(verify(b"123456", &salt, MIN_ITERATIONS, key.expose()).unwrap());
        assert!(!verify(b"123457", &salt, MIN_ITERATIONS, key.expose()).unwrap());
        assert!(!verify(b"123456", &[8u8; 16], MIN_ITERATIONS, key.expose()).unwrap());
    }

    #[test]
    fn rejects_out_of_range_iterations() {
        assert!(derive(b"x", b"salt", 1).is_err());
        assert!(derive(b"x", b"salt", MAX_ITERATIONS + 1).is_err());
    }

    #[test]
    fn matches_rfc7914_pbkdf2_sha256_vector() {
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256("passwd", "salt", c=1) — c is below our
        // minimum, so check the ring primitive directly with the same call shape.
        let mut out = [0u8; 32];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            NonZeroU32::new(1).unwrap(),
            b"salt",
            b"passwd",
            &mut out,
        );
        assert_eq!(
            super::super::random::hex(&out),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
    }
}
