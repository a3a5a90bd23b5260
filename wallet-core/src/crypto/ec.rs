//! P-256 keys held in software: generation, ECDSA-SHA-256 signing and verification, and ECDH.
//!
//! Public keys travel as SEC1 uncompressed points (65 bytes, `0x04 || x || y`); signatures are
//! the fixed-length `r || s` form (64 bytes) that COSE (RFC 9053) and JOSE (RFC 7518) both use.
//! Signing and verification go through `ring` (fast); ECDH with static keys uses `p256`, since
//! `ring` only offers ephemeral agreement, which [`EphemeralAgreementKey`] uses for one-use keys.

use p256::elliptic_curve::sec1::ToEncodedPoint;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, UnparsedPublicKey};

use super::secret::SecretBytes;
use super::CryptoError;

/// Length of an uncompressed SEC1 P-256 public key.
pub const PUBLIC_KEY_LEN: usize = 65;
/// Length of a fixed-size ECDSA P-256 signature.
pub const SIGNATURE_LEN: usize = 64;

/// A one-use P-256 ECDH key (the holder's session key): generated, its public key shown, and
/// agreed exactly once, through `ring` (constant time and assembly-optimised; the private key
/// never leaves ring and is gone after the agreement).
pub struct EphemeralAgreementKey {
    private: Option<ring::agreement::EphemeralPrivateKey>,
    public: Vec<u8>,
}

impl std::fmt::Debug for EphemeralAgreementKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EphemeralAgreementKey")
            .field("used", &self.private.is_none())
            .finish_non_exhaustive()
    }
}

impl EphemeralAgreementKey {
    /// A fresh key.
    pub fn generate() -> Result<Self, CryptoError> {
        let private = ring::agreement::EphemeralPrivateKey::generate(
            &ring::agreement::ECDH_P256,
            &SystemRandom::new(),
        )
        .map_err(|_| CryptoError::Rng)?;
        let public = private
            .compute_public_key()
            .map_err(|_| CryptoError::Rng)?
            .as_ref()
            .to_vec();
        Ok(Self {
            private: Some(private),
            public,
        })
    }

    /// The public key, SEC1 uncompressed.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// ECDH with `peer_public_key` (SEC1 uncompressed, checked to be on the curve): the
    /// shared secret. Once only: a second call is an error.
    pub fn agree(&mut self, peer_public_key: &[u8]) -> Result<SecretBytes, CryptoError> {
        let private = self.private.take().ok_or(CryptoError::InvalidParameter(
            "an ephemeral key agrees once",
        ))?;
        let peer =
            ring::agreement::UnparsedPublicKey::new(&ring::agreement::ECDH_P256, peer_public_key);
        ring::agreement::agree_ephemeral(private, &peer, |shared| SecretBytes::new(shared.to_vec()))
            .map_err(|_| CryptoError::Malformed("P-256 public key"))
    }
}

/// A P-256 key pair in software. The private scalar is zeroized on drop.
pub struct SoftwareKey {
    private: SecretBytes,
    public: Vec<u8>,
}

impl std::fmt::Debug for SoftwareKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareKey")
            .field("public", &super::random::hex(&self.public))
            .finish_non_exhaustive()
    }
}

impl SoftwareKey {
    /// A fresh random key pair.
    pub fn generate() -> Result<Self, CryptoError> {
        // Rejection sampling: a random 256-bit string is a valid scalar except with
        // probability about 2^-32, so this loop almost never runs twice.
        for _ in 0..16 {
            let mut candidate: [u8; 32] = super::random::array()?;
            let parsed = p256::SecretKey::from_slice(&candidate);
            zeroize::Zeroize::zeroize(&mut candidate);
            if let Ok(secret) = parsed {
                return Ok(Self::from_secret(&secret));
            }
        }
        Err(CryptoError::Rng)
    }

    fn from_secret(secret: &p256::SecretKey) -> Self {
        let public = secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        let mut scalar = secret.to_bytes();
        let private = SecretBytes::new(scalar.to_vec());
        zeroize::Zeroize::zeroize(&mut scalar[..]);
        Self { private, public }
    }

    /// Rebuilds a key pair from its 32-byte private scalar.
    pub fn from_private_scalar(scalar: &[u8]) -> Result<Self, CryptoError> {
        let secret = p256::SecretKey::from_slice(scalar)
            .map_err(|_| CryptoError::Malformed("P-256 private key"))?;
        Ok(Self::from_secret(&secret))
    }

    /// The private key as PKCS#8 DER (for a TLS server of the test authority).
    #[cfg(feature = "issuer")]
    pub fn pkcs8_der(&self) -> Result<Vec<u8>, CryptoError> {
        use p256::pkcs8::EncodePrivateKey;
        let secret = p256::SecretKey::from_slice(self.private.expose())
            .map_err(|_| CryptoError::Malformed("P-256 private key"))?;
        Ok(secret
            .to_pkcs8_der()
            .map_err(|_| CryptoError::Malformed("P-256 private key"))?
            .as_bytes()
            .to_vec())
    }

    /// The private scalar (32 bytes), for sealing in the store.
    pub fn private_scalar(&self) -> &SecretBytes {
        &self.private
    }

    /// The public key as an uncompressed SEC1 point.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// ECDSA P-256 with SHA-256 over `message`; returns `r || s`.
    ///
    /// No signing key is cached: ring's key pair is built for the one signature and dropped
    /// (ring does not zeroize it, so it lives no longer than that); the only long-lived copy
    /// of the scalar is this key's own, zeroized on drop.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            self.private.expose(),
            &self.public,
            &rng,
        )
        .map_err(|_| CryptoError::Malformed("P-256 key pair"))?;
        let sig = pair.sign(&rng, message).map_err(|_| CryptoError::Rng)?;
        Ok(sig.as_ref().to_vec())
    }

    /// Static-static ECDH with `peer_public_key` (SEC1); returns the 32-byte x coordinate.
    pub fn agree(&self, peer_public_key: &[u8]) -> Result<SecretBytes, CryptoError> {
        let secret = p256::SecretKey::from_slice(self.private.expose())
            .map_err(|_| CryptoError::Malformed("P-256 private key"))?;
        let peer = p256::PublicKey::from_sec1_bytes(peer_public_key)
            .map_err(|_| CryptoError::Malformed("P-256 public key"))?;
        let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), peer.as_affine());
        Ok(SecretBytes::new(shared.raw_secret_bytes().to_vec()))
    }
}

/// Checks that `bytes` is a valid P-256 public key (a point on the curve).
pub fn validate_public_key(bytes: &[u8]) -> Result<(), CryptoError> {
    p256::PublicKey::from_sec1_bytes(bytes)
        .map(|_| ())
        .map_err(|_| CryptoError::Malformed("P-256 public key"))
}

/// The uncompressed SEC1 form of any valid encoding (compressed or uncompressed) of a key.
pub fn uncompressed_public_key(bytes: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let key = p256::PublicKey::from_sec1_bytes(bytes)
        .map_err(|_| CryptoError::Malformed("P-256 public key"))?;
    Ok(key.to_encoded_point(false).as_bytes().to_vec())
}

/// The x and y coordinates (32 bytes each) of an uncompressed SEC1 point.
pub fn coordinates(point: &[u8]) -> Result<(&[u8], &[u8]), CryptoError> {
    match point.split_first() {
        Some((0x04, xy)) if xy.len() == 64 => Ok(xy.split_at(32)),
        _ => Err(CryptoError::Malformed("uncompressed P-256 point")),
    }
}

/// Verifies an `r || s` ECDSA P-256 SHA-256 signature.
pub fn verify(public_key: &[u8], message: &[u8], signature_rs: &[u8]) -> Result<(), CryptoError> {
    if signature_rs.len() != SIGNATURE_LEN {
        return Err(CryptoError::Malformed("ECDSA signature"));
    }
    let public = uncompressed_public_key(public_key)?;
    UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &public)
        .verify(message, signature_rs)
        .map_err(|_| CryptoError::AuthenticationFailed)
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_ephemeral_key_agrees_once_and_matches_the_static_side() {
        let static_key = SoftwareKey::generate().unwrap();
        let mut ephemeral = EphemeralAgreementKey::generate().unwrap();
        let ours = ephemeral.agree(static_key.public_key()).unwrap();
        let theirs = static_key.agree(ephemeral.public_key()).unwrap();
        assert_eq!(ours.expose(), theirs.expose());
        assert!(ephemeral.agree(static_key.public_key()).is_err(), "once");
        let mut other = EphemeralAgreementKey::generate().unwrap();
        let mut off_curve = static_key.public_key().to_vec();
        off_curve[40] ^= 1;
        assert!(other.agree(&off_curve).is_err());
        assert!(!format!("{other:?}").contains("private"));
    }
    use super::*;

    #[test]
    fn sign_verify_and_reload() {
        let key = SoftwareKey::generate().unwrap();
        assert_eq!(key.public_key().len(), PUBLIC_KEY_LEN);
        let sig = key.sign(b"message").unwrap();
        assert_eq!(sig.len(), SIGNATURE_LEN);
        verify(key.public_key(), b"message", &sig).unwrap();
        assert_eq!(
            verify(key.public_key(), b"other", &sig),
            Err(CryptoError::AuthenticationFailed)
        );
        let again = SoftwareKey::from_private_scalar(key.private_scalar().expose()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
    }

    #[test]
    fn ecdh_is_symmetric() {
        let a = SoftwareKey::generate().unwrap();
        let b = SoftwareKey::generate().unwrap();
        assert_eq!(
            a.agree(b.public_key()).unwrap(),
            b.agree(a.public_key()).unwrap()
        );
    }

    #[test]
    fn malformed_inputs_are_errors() {
        assert!(SoftwareKey::from_private_scalar(&[0u8; 32]).is_err());
        assert!(SoftwareKey::from_private_scalar(&[1u8; 7]).is_err());
        let key = SoftwareKey::generate().unwrap();
        assert!(key.agree(&[4u8; 65]).is_err());
        assert!(verify(&[4u8; 65], b"m", &[0u8; 64]).is_err());
        assert!(verify(key.public_key(), b"m", &[0u8; 63]).is_err());
        assert!(validate_public_key(b"").is_err());
    }

    #[test]
    fn debug_hides_private_key() {
        let key = SoftwareKey::generate().unwrap();
        let text = format!("{key:?}");
        assert!(!text.contains(&super::super::random::hex(key.private_scalar().expose())));
    }
}

/// Accepts an ECDSA P-256 signature as `r || s` (64 bytes) or DER (what Android and Apple
/// keystores return) and returns `r || s`.
pub fn signature_to_raw(signature: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if signature.len() == SIGNATURE_LEN {
        return Ok(signature.to_vec());
    }
    let parsed = p256::ecdsa::Signature::from_der(signature)
        .map_err(|_| CryptoError::Malformed("ECDSA signature"))?;
    Ok(parsed.to_bytes().to_vec())
}

#[cfg(test)]
mod der_tests {
    use super::*;

    #[test]
    fn der_signatures_are_normalised() {
        let key = SoftwareKey::generate().unwrap();
        let raw = key.sign(b"m").unwrap();
        let der = p256::ecdsa::Signature::from_slice(&raw).unwrap().to_der();
        assert_eq!(signature_to_raw(der.as_bytes()).unwrap(), raw);
        assert_eq!(signature_to_raw(&raw).unwrap(), raw);
        assert!(signature_to_raw(&[0x30, 0x01, 0x00]).is_err());
    }
}
