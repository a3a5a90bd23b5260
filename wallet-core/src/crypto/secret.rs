//! Secret byte containers: their `Debug` prints no bytes and they are zeroized on drop.

use zeroize::{Zeroize, ZeroizeOnDrop};

/// A 256-bit symmetric key (the store's data key, or a key derived from it). Compared in
/// constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SymmetricKey([u8; 32]);

impl PartialEq for SymmetricKey {
    fn eq(&self, other: &Self) -> bool {
        super::constant_time_eq(&self.0, &other.0)
    }
}

impl Eq for SymmetricKey {}

impl SymmetricKey {
    /// Wraps 32 key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Copies a key from a slice, which must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, super::CryptoError> {
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| super::CryptoError::Malformed("256-bit key"))?;
        Ok(Self(array))
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self, super::CryptoError> {
        Ok(Self(super::random::array()?))
    }

    /// The key bytes; keep the borrow short.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SymmetricKey(<redacted>)")
    }
}

/// Secret bytes of any length (a private scalar, a PIN, a passphrase). Compared in time that
/// depends only on the lengths.
#[derive(Clone, Zeroize, ZeroizeOnDrop, Default)]
pub struct SecretBytes(Vec<u8>);

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        super::constant_time_eq(&self.0, &other.0)
    }
}

impl Eq for SecretBytes {}

impl SecretBytes {
    /// Takes ownership of secret bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The secret bytes; keep the borrow short.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl From<String> for SecretBytes {
    fn from(value: String) -> Self {
        Self(value.into_bytes())
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_bytes() {
        let key = SymmetricKey::from_bytes([0x41; 32]);
        let text = format!("{key:?}");
        assert!(!text.contains("41") && !text.contains("65"), "{text}");
        let secret = SecretBytes::new(b"123456".to_vec());
        assert!(!format!("{secret:?}").contains("123456"));
    }

    #[test]
    fn from_slice_checks_length() {
        assert!(SymmetricKey::from_slice(&[0; 31]).is_err());
        assert!(SymmetricKey::from_slice(&[0; 32]).is_ok());
    }
}
