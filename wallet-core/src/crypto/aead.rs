//! AES-256-GCM sealing of values at rest, and the keyed derivations the store needs.
//!
//! A sealed value is `version (1) || nonce (12) || ciphertext || tag (16)`. The nonce is random:
//! the store seals at most a few million values under one data key, far below the 2^32 bound
//! for random 96-bit nonces. The caller supplies the associated data, which the store uses to
//! bind every value to its table, row and column.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::{hkdf, hmac};

use super::secret::SymmetricKey;
use super::{random, CryptoError};

const SEALED_VERSION: u8 = 1;
const TAG_LEN: usize = 16;
/// Bytes a sealed value adds to its plaintext.
pub const SEAL_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

fn aes_key(key: &SymmetricKey) -> Result<LessSafeKey, CryptoError> {
    let unbound = UnboundKey::new(&AES_256_GCM, key.expose())
        .map_err(|_| CryptoError::Malformed("AES-256 key"))?;
    Ok(LessSafeKey::new(unbound))
}

/// Encrypts and authenticates `plaintext` under `key`, binding `aad`.
pub fn seal(key: &SymmetricKey, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let nonce_bytes: [u8; NONCE_LEN] = random::array()?;
    let mut out = Vec::with_capacity(plaintext.len() + SEAL_OVERHEAD);
    out.push(SEALED_VERSION);
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(plaintext);
    let (_, body) = out.split_at_mut(1 + NONCE_LEN);
    let tag = aes_key(key)?
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::from(aad),
            body,
        )
        .map_err(|_| CryptoError::InvalidParameter("plaintext too long"))?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Verifies and decrypts a value made by [`seal`] with the same key and `aad`.
pub fn open(key: &SymmetricKey, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    open_owned(key, aad, sealed.to_vec())
}

/// [`open`], in place in `sealed`'s buffer (a stored credential with its portrait is not
/// copied to be opened). On failure the buffer is dropped.
pub fn open_owned(
    key: &SymmetricKey,
    aad: &[u8],
    mut sealed: Vec<u8>,
) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < SEAL_OVERHEAD {
        return Err(CryptoError::Malformed("sealed value"));
    }
    let (version, rest) = sealed
        .split_first()
        .ok_or(CryptoError::Malformed("sealed value"))?;
    if *version != SEALED_VERSION {
        return Err(CryptoError::Malformed("sealed value version"));
    }
    let nonce = rest
        .first_chunk::<NONCE_LEN>()
        .ok_or(CryptoError::Malformed("sealed value"))?;
    let nonce = Nonce::assume_unique_for_key(*nonce);
    // The plaintext is written from the start of the buffer, over the version and nonce.
    let plain_len = aes_key(key)?
        .open_within(nonce, Aad::from(aad), &mut sealed, 1 + NONCE_LEN..)
        .map_err(|_| CryptoError::AuthenticationFailed)?
        .len();
    sealed.truncate(plain_len);
    Ok(sealed)
}

/// HKDF-SHA-256 of `ikm` with `salt` and `info`, producing a 256-bit key.
pub fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8]) -> Result<SymmetricKey, CryptoError> {
    struct Len32;
    impl hkdf::KeyType for Len32 {
        fn len(&self) -> usize {
            32
        }
    }
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let info_parts = [info];
    let okm = prk
        .expand(&info_parts, Len32)
        .map_err(|_| CryptoError::InvalidParameter("HKDF length"))?;
    let mut out = [0u8; 32];
    okm.fill(&mut out)
        .map_err(|_| CryptoError::InvalidParameter("HKDF length"))?;
    Ok(SymmetricKey::from_bytes(out))
}

/// An HMAC-SHA-256 key prepared once, for many MACs under it (the padded key blocks are
/// hashed once, not per message).
pub struct HmacSha256(hmac::Key);

impl HmacSha256 {
    /// Prepares `key`.
    pub fn new(key: &SymmetricKey) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, key.expose()))
    }

    /// The MAC of the concatenation of `parts`.
    pub fn sign(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.0);
        for part in parts {
            ctx.update(part);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }
}

/// HMAC-SHA-256 of the concatenation of `parts` under `key`.
pub fn hmac_sha256(key: &SymmetricKey, parts: &[&[u8]]) -> [u8; 32] {
    HmacSha256::new(key).sign(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> SymmetricKey {
        SymmetricKey::from_bytes([b; 32])
    }

    #[test]
    fn round_trip() {
        let sealed = seal(&key(1), b"aad", b"hello").unwrap();
        assert_eq!(sealed.len(), 5 + SEAL_OVERHEAD);
        assert_eq!(open(&key(1), b"aad", &sealed).unwrap(), b"hello");
        for len in [0usize, 1, 15, 16, 17, 100_000] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = seal(&key(1), b"aad", &plain).unwrap();
            assert_eq!(sealed.len(), plain.len() + SEAL_OVERHEAD);
            assert_eq!(
                open_owned(&key(1), b"aad", sealed.clone()).unwrap(),
                plain,
                "{len}"
            );
            let mut flipped = sealed.clone();
            if let Some(last) = flipped.last_mut() {
                *last ^= 1;
            }
            assert_eq!(
                open_owned(&key(1), b"aad", flipped),
                Err(CryptoError::AuthenticationFailed)
            );
            assert_eq!(
                open_owned(&key(1), b"other", sealed),
                Err(CryptoError::AuthenticationFailed)
            );
        }
    }

    #[test]
    fn wrong_key_aad_or_flipped_byte_fails() {
        let sealed = seal(&key(1), b"aad", b"hello").unwrap();
        assert_eq!(
            open(&key(2), b"aad", &sealed),
            Err(CryptoError::AuthenticationFailed)
        );
        assert_eq!(
            open(&key(1), b"aaX", &sealed),
            Err(CryptoError::AuthenticationFailed)
        );
        for i in 1..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(open(&key(1), b"aad", &bad).is_err(), "flip at {i} accepted");
        }
        assert_eq!(
            open(&key(1), b"aad", &sealed[..10]),
            Err(CryptoError::Malformed("sealed value"))
        );
        let mut wrong_version = sealed;
        wrong_version[0] = 9;
        assert!(matches!(
            open(&key(1), b"aad", &wrong_version),
            Err(CryptoError::Malformed(_))
        ));
    }

    #[test]
    fn nonces_are_fresh() {
        let a = seal(&key(1), b"", b"same").unwrap();
        let b = seal(&key(1), b"", b"same").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn hkdf_matches_rfc5869_case_1() {
        // RFC 5869 A.1 (first 32 bytes of the 42-byte OKM).
        let ikm = [0x0b; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        let okm = hkdf_sha256(&ikm, &salt, &info).unwrap();
        assert_eq!(
            super::random::hex(okm.expose()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        );
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // RFC 4231 test case 2 uses a 4-byte key; HMAC pads keys, so "Jefe" zero-padded to 32
        // bytes is the same key.
        let mut k = [0u8; 32];
        k[..4].copy_from_slice(b"Jefe");
        let mac = hmac_sha256(
            &SymmetricKey::from_bytes(k),
            &[b"what do ya want ", b"for nothing?"],
        );
        assert_eq!(
            super::random::hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
