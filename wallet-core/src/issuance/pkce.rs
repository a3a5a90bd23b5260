//! Proof Key for Code Exchange (RFC 7636) with the S256 method: the wallet keeps a random
//! verifier and sends its SHA-256 in the authorization request, so a stolen authorization code
//! is useless to anyone else.

use ring::digest;
use zeroize::Zeroizing;

use crate::crypto::{jose, random, CryptoError};

/// A PKCE pair.
pub struct Pkce {
    verifier: Zeroizing<String>,
    challenge: String,
}

impl std::fmt::Debug for Pkce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkce")
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

/// The S256 challenge of a verifier.
pub fn challenge_of(verifier: &str) -> String {
    jose::b64url(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref())
}

impl Pkce {
    /// A fresh pair: 32 random bytes as a 43-character verifier.
    pub fn new() -> Result<Self, CryptoError> {
        let verifier = Zeroizing::new(jose::b64url(&random::array::<32>()?));
        let challenge = challenge_of(&verifier);
        Ok(Pkce {
            verifier,
            challenge,
        })
    }

    /// The verifier, for the token request.
    pub fn verifier(&self) -> &str {
        &self.verifier
    }

    /// The challenge, for the authorization request.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example() {
        // RFC 7636 appendix B.
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let pkce = Pkce::new().unwrap();
        assert_eq!(pkce.verifier().len(), 43);
        assert_eq!(pkce.challenge(), challenge_of(pkce.verifier()));
        assert!(!format!("{pkce:?}").contains(pkce.verifier()));
    }
}
