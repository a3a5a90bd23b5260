//! Randomness from the operating system, through `ring`.

use ring::rand::{SecureRandom, SystemRandom};

use super::CryptoError;

/// Fills a fixed-size array with random bytes.
pub fn array<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| CryptoError::Rng)?;
    Ok(out)
}

/// A random identifier: 16 random bytes as 32 lower-case hex digits.
pub fn identifier() -> Result<String, CryptoError> {
    let bytes: [u8; 16] = array()?;
    Ok(hex(&bytes))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'?'),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_distinct_hex() {
        let a = identifier().unwrap();
        let b = identifier().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
    }
}
