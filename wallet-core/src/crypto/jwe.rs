//! JWE (RFC 7516) compact serialization with the one key management OpenID4VP's encrypted
//! responses use: ECDH-ES direct key agreement on P-256 (RFC 7518 section 4.6, the Concat KDF
//! of NIST SP 800-56A) and content encryption with A128GCM or A256GCM.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};
use ring::digest;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::ec::SoftwareKey;
use super::{jose, random, CryptoError};

/// The largest compact JWE read, in bytes.
pub const MAX_JWE_BYTES: usize = 4 * 1024 * 1024;

/// A content encryption algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enc {
    /// AES-128-GCM.
    A128Gcm,
    /// AES-256-GCM.
    A256Gcm,
}

impl Enc {
    /// Its JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Enc::A128Gcm => "A128GCM",
            Enc::A256Gcm => "A256GCM",
        }
    }

    /// The algorithm of a JOSE name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "A128GCM" => Some(Enc::A128Gcm),
            "A256GCM" => Some(Enc::A256Gcm),
            _ => None,
        }
    }

    fn key_len(self) -> usize {
        match self {
            Enc::A128Gcm => 16,
            Enc::A256Gcm => 32,
        }
    }

    fn key(self, bytes: &[u8]) -> Result<LessSafeKey, CryptoError> {
        let algorithm = match self {
            Enc::A128Gcm => &AES_128_GCM,
            Enc::A256Gcm => &AES_256_GCM,
        };
        Ok(LessSafeKey::new(
            UnboundKey::new(algorithm, bytes).map_err(|_| CryptoError::Malformed("AES key"))?,
        ))
    }
}

fn length_prefixed(out: &mut Vec<u8>, data: &[u8]) -> Result<(), CryptoError> {
    let len = u32::try_from(data.len()).map_err(|_| CryptoError::InvalidParameter("KDF input"))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data);
    Ok(())
}

/// The Concat KDF of ECDH-ES in direct mode (RFC 7518 section 4.6.2): the content key for
/// `enc`, from the shared secret `z` and the decoded `apu` and `apv`.
pub fn concat_kdf(
    z: &[u8],
    enc: Enc,
    apu: &[u8],
    apv: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let key_len = enc.key_len();
    let mut other = Vec::new();
    length_prefixed(&mut other, enc.name().as_bytes())?;
    length_prefixed(&mut other, apu)?;
    length_prefixed(&mut other, apv)?;
    other.extend_from_slice(&((key_len * 8) as u32).to_be_bytes());
    // One round of SHA-256 yields 256 bits, enough for either key.
    let mut input = Zeroizing::new(1u32.to_be_bytes().to_vec());
    input.extend_from_slice(z);
    input.extend_from_slice(&other);
    let hash = digest::digest(&digest::SHA256, &input);
    Ok(Zeroizing::new(
        hash.as_ref()
            .get(..key_len)
            .ok_or(CryptoError::InvalidParameter("KDF length"))?
            .to_vec(),
    ))
}

/// Encrypts `plaintext` to `recipient` (SEC1 P-256) as a compact JWE with a fresh ephemeral
/// key. `header` adds to the protected header (`kid`, `apu`, `apv`, ...); `alg`, `enc` and
/// `epk` are set here.
pub fn encrypt(
    recipient: &[u8],
    enc: Enc,
    header: Map<String, Value>,
    plaintext: &[u8],
) -> Result<String, CryptoError> {
    encrypt_with(&SoftwareKey::generate()?, recipient, enc, header, plaintext)
}

fn decoded_party(header: &Map<String, Value>, name: &str) -> Result<Vec<u8>, CryptoError> {
    match header.get(name) {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => jose::b64url_decode(s),
        Some(_) => Err(CryptoError::Malformed("JWE apu/apv")),
    }
}

/// [`encrypt`] with a given ephemeral key.
pub fn encrypt_with(
    ephemeral: &SoftwareKey,
    recipient: &[u8],
    enc: Enc,
    mut header: Map<String, Value>,
    plaintext: &[u8],
) -> Result<String, CryptoError> {
    header.insert("alg".into(), "ECDH-ES".into());
    header.insert("enc".into(), enc.name().into());
    header.insert("epk".into(), jose::p256_jwk(ephemeral.public_key())?);
    let apu = decoded_party(&header, "apu")?;
    let apv = decoded_party(&header, "apv")?;
    let z = ephemeral.agree(recipient)?;
    let key = concat_kdf(z.expose(), enc, &apu, &apv)?;
    let protected = jose::b64url(Value::Object(header).to_string().as_bytes());
    let iv: [u8; 12] = random::array()?;
    let mut body = plaintext.to_vec();
    let tag = enc
        .key(&key)?
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(protected.as_bytes()),
            &mut body,
        )
        .map_err(|_| CryptoError::InvalidParameter("JWE plaintext"))?;
    Ok(format!(
        "{protected}..{}.{}.{}",
        jose::b64url(&iv),
        jose::b64url(&body),
        jose::b64url(tag.as_ref())
    ))
}

/// A decrypted JWE: its protected header and plaintext.
#[derive(Debug, Clone, PartialEq)]
pub struct Decrypted {
    /// The protected header.
    pub header: Map<String, Value>,
    /// The plaintext.
    pub plaintext: Vec<u8>,
}

/// Decrypts a compact JWE made for `recipient` with ECDH-ES and A128GCM or A256GCM; any other
/// `alg` or `enc`, an encrypted key part (ECDH-ES direct has none), or a tampered part fails.
pub fn decrypt(recipient: &SoftwareKey, jwe: &str) -> Result<Decrypted, CryptoError> {
    if jwe.len() > MAX_JWE_BYTES {
        return Err(CryptoError::Malformed("JWE too large"));
    }
    let mut parts = jwe.split('.');
    let (Some(protected), Some(encrypted_key), Some(iv), Some(ciphertext), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(CryptoError::Malformed("compact JWE"));
    };
    if !encrypted_key.is_empty() {
        return Err(CryptoError::Malformed("ECDH-ES carries no encrypted key"));
    }
    let header: Map<String, Value> = serde_json::from_slice(&jose::b64url_decode(protected)?)
        .map_err(|_| CryptoError::Malformed("JWE header"))?;
    if header.get("alg").and_then(Value::as_str) != Some("ECDH-ES") {
        return Err(CryptoError::Malformed("JWE alg (expected ECDH-ES)"));
    }
    let enc = header
        .get("enc")
        .and_then(Value::as_str)
        .and_then(Enc::from_name)
        .ok_or(CryptoError::Malformed(
            "JWE enc (expected A128GCM or A256GCM)",
        ))?;
    if header.get("zip").is_some() {
        return Err(CryptoError::Malformed("JWE zip is not supported"));
    }
    let epk = jose::p256_from_jwk(header.get("epk").ok_or(CryptoError::Malformed("JWE epk"))?)?;
    let apu = decoded_party(&header, "apu")?;
    let apv = decoded_party(&header, "apv")?;
    let iv: [u8; 12] = jose::b64url_decode(iv)?
        .try_into()
        .map_err(|_| CryptoError::Malformed("JWE iv"))?;
    let mut body = jose::b64url_decode(ciphertext)?;
    let tag = jose::b64url_decode(tag)?;
    if tag.len() != 16 {
        return Err(CryptoError::Malformed("JWE tag"));
    }
    body.extend_from_slice(&tag);
    let z = recipient.agree(&epk)?;
    let key = concat_kdf(z.expose(), enc, &apu, &apv)?;
    let len = enc
        .key(&key)?
        .open_in_place(
            Nonce::assume_unique_for_key(iv),
            Aad::from(protected.as_bytes()),
            &mut body,
        )
        .map_err(|_| CryptoError::AuthenticationFailed)?
        .len();
    body.truncate(len);
    Ok(Decrypted {
        header,
        plaintext: body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7518 appendix C: the ECDH-ES key agreement of Alice's ephemeral key and Bob's key,
    /// `apu` "Alice", `apv` "Bob", A128GCM.
    #[test]
    fn rfc_7518_appendix_c() {
        let d = |text: &str| jose::b64url_decode(text).unwrap();
        let alice =
            SoftwareKey::from_private_scalar(&d("0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo"))
                .unwrap();
        let bob =
            SoftwareKey::from_private_scalar(&d("VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw"))
                .unwrap();
        assert_eq!(
            jose::p256_jwk(bob.public_key()).unwrap()["x"],
            "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ"
        );
        let z = alice.agree(bob.public_key()).unwrap();
        let cek = concat_kdf(z.expose(), Enc::A128Gcm, b"Alice", b"Bob").unwrap();
        assert_eq!(jose::b64url(&cek), "VqqN6vgjbSBcIijNcacQGg");
        // And a JWE made with Alice's key as the ephemeral opens with Bob's.
        let mut header = Map::new();
        header.insert("apu".into(), "QWxpY2U".into());
        header.insert("apv".into(), "Qm9i".into());
        let jwe = encrypt_with(
            &alice,
            bob.public_key(),
            Enc::A128Gcm,
            header,
            b"imagination",
        )
        .unwrap();
        assert_eq!(decrypt(&bob, &jwe).unwrap().plaintext, b"imagination");
    }

    #[test]
    fn round_trip_both_encs_and_refuse_tampering() {
        let recipient = SoftwareKey::generate().unwrap();
        for enc in [Enc::A128Gcm, Enc::A256Gcm] {
            let mut header = Map::new();
            header.insert("kid".into(), "k1".into());
            header.insert("apv".into(), jose::b64url(b"nonce").into());
            let jwe = encrypt(recipient.public_key(), enc, header, b"{\"vp_token\":{}}").unwrap();
            let out = decrypt(&recipient, &jwe).unwrap();
            assert_eq!(out.plaintext, b"{\"vp_token\":{}}");
            assert_eq!(out.header["kid"], "k1");
            assert_eq!(out.header["enc"], enc.name());
            let other = SoftwareKey::generate().unwrap();
            assert_eq!(
                decrypt(&other, &jwe),
                Err(CryptoError::AuthenticationFailed)
            );
            let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
            parts[3] = jose::b64url(b"tampered ciphertext");
            assert!(decrypt(&recipient, &parts.join(".")).is_err());
        }
        assert!(decrypt(&recipient, "a.b.c.d.e").is_err());
        assert!(decrypt(&recipient, "a.b.c").is_err());
    }
}
