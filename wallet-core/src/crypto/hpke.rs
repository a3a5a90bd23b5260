//! HPKE (RFC 9180) in base mode with the one suite ISO/IEC 18013-7 Annex C uses for the
//! Digital Credentials API: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256 and AES-128-GCM, single
//! shot (one message per context, sequence number 0).

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
use ring::{hkdf, hmac};
use zeroize::Zeroizing;

use super::ec::{uncompressed_public_key, SoftwareKey};
use super::CryptoError;

/// KEM id of DHKEM(P-256, HKDF-SHA256).
pub const KEM_P256_SHA256: u16 = 0x0010;
/// KDF id of HKDF-SHA256.
pub const KDF_SHA256: u16 = 0x0001;
/// AEAD id of AES-128-GCM.
pub const AEAD_AES128GCM: u16 = 0x0001;

const N_SECRET: usize = 32;
const N_K: usize = 16;
const N_N: usize = 12;

fn kem_suite() -> Vec<u8> {
    let mut id = b"KEM".to_vec();
    id.extend_from_slice(&KEM_P256_SHA256.to_be_bytes());
    id
}

fn hpke_suite() -> Vec<u8> {
    let mut id = b"HPKE".to_vec();
    id.extend_from_slice(&KEM_P256_SHA256.to_be_bytes());
    id.extend_from_slice(&KDF_SHA256.to_be_bytes());
    id.extend_from_slice(&AEAD_AES128GCM.to_be_bytes());
    id
}

/// HKDF-Extract (an HMAC-SHA256 keyed by the salt).
fn extract(salt: &[u8], ikm: &[u8]) -> Zeroizing<Vec<u8>> {
    let salt = if salt.is_empty() {
        &[0u8; 32][..]
    } else {
        salt
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, salt);
    Zeroizing::new(hmac::sign(&key, ikm).as_ref().to_vec())
}

fn labeled_extract(suite: &[u8], salt: &[u8], label: &str, ikm: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut labeled = Zeroizing::new(b"HPKE-v1".to_vec());
    labeled.extend_from_slice(suite);
    labeled.extend_from_slice(label.as_bytes());
    labeled.extend_from_slice(ikm);
    extract(salt, &labeled)
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn labeled_expand(
    suite: &[u8],
    prk: &[u8],
    label: &str,
    info: &[u8],
    length: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let length_bytes = u16::try_from(length)
        .map_err(|_| CryptoError::InvalidParameter("HPKE length"))?
        .to_be_bytes();
    let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, prk);
    let parts = [&length_bytes[..], b"HPKE-v1", suite, label.as_bytes(), info];
    let okm = prk
        .expand(&parts, Len(length))
        .map_err(|_| CryptoError::InvalidParameter("HPKE length"))?;
    let mut out = Zeroizing::new(vec![0u8; length]);
    okm.fill(&mut out)
        .map_err(|_| CryptoError::InvalidParameter("HPKE length"))?;
    Ok(out)
}

/// DHKEM's ExtractAndExpand of the shared Diffie-Hellman secret.
fn kem_shared_secret(
    dh: &[u8],
    enc: &[u8],
    recipient: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let suite = kem_suite();
    let eae_prk = labeled_extract(&suite, b"", "eae_prk", dh);
    let mut context = enc.to_vec();
    context.extend_from_slice(recipient);
    labeled_expand(&suite, &eae_prk, "shared_secret", &context, N_SECRET)
}

/// A context's key and base nonce.
type KeyAndNonce = (Zeroizing<Vec<u8>>, Zeroizing<Vec<u8>>);

/// The base-mode key schedule: (key, base_nonce).
fn key_schedule(shared_secret: &[u8], info: &[u8]) -> Result<KeyAndNonce, CryptoError> {
    let suite = hpke_suite();
    let psk_id_hash = labeled_extract(&suite, b"", "psk_id_hash", b"");
    let info_hash = labeled_extract(&suite, b"", "info_hash", info);
    let mut context = vec![0u8]; // mode_base
    context.extend_from_slice(&psk_id_hash);
    context.extend_from_slice(&info_hash);
    let secret = labeled_extract(&suite, shared_secret, "secret", b"");
    let key = labeled_expand(&suite, &secret, "key", &context, N_K)?;
    let nonce = labeled_expand(&suite, &secret, "base_nonce", &context, N_N)?;
    Ok((key, nonce))
}

fn aead_key(key: &[u8]) -> Result<LessSafeKey, CryptoError> {
    Ok(LessSafeKey::new(
        UnboundKey::new(&AES_128_GCM, key).map_err(|_| CryptoError::Malformed("AES-128 key"))?,
    ))
}

fn nonce(base: &[u8]) -> Result<Nonce, CryptoError> {
    // Sequence number 0: the base nonce itself.
    Nonce::try_assume_unique_for_key(base).map_err(|_| CryptoError::Malformed("HPKE nonce"))
}

/// A derived key pair (RFC 9180 section 7.1.3), for deterministic tests.
pub fn derive_key_pair(ikm: &[u8]) -> Result<SoftwareKey, CryptoError> {
    let suite = kem_suite();
    let dkp_prk = labeled_extract(&suite, b"", "dkp_prk", ikm);
    for counter in 0u8..=255 {
        let candidate = labeled_expand(&suite, &dkp_prk, "candidate", &[counter], 32)?;
        if let Ok(key) = SoftwareKey::from_private_scalar(&candidate) {
            return Ok(key);
        }
    }
    Err(CryptoError::InvalidParameter("HPKE key derivation"))
}

/// Seals `plaintext` to `recipient` (SEC1) with the ephemeral key `ephemeral`: returns `enc`
/// (the ephemeral public key, uncompressed SEC1) and the ciphertext with its tag.
pub fn seal_with(
    ephemeral: &SoftwareKey,
    recipient: &[u8],
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let recipient = uncompressed_public_key(recipient)?;
    let dh = ephemeral.agree(&recipient)?;
    let enc = ephemeral.public_key().to_vec();
    let shared = kem_shared_secret(dh.expose(), &enc, &recipient)?;
    let (key, base_nonce) = key_schedule(&shared, info)?;
    let mut out = plaintext.to_vec();
    aead_key(&key)?
        .seal_in_place_append_tag(nonce(&base_nonce)?, Aad::from(aad), &mut out)
        .map_err(|_| CryptoError::InvalidParameter("HPKE plaintext"))?;
    Ok((enc, out))
}

/// Seals `plaintext` to `recipient` with a fresh ephemeral key.
pub fn seal(
    recipient: &[u8],
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    seal_with(&SoftwareKey::generate()?, recipient, info, aad, plaintext)
}

/// Opens what [`seal`] made for `recipient`'s key.
pub fn open(
    recipient: &SoftwareKey,
    enc: &[u8],
    info: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let enc = uncompressed_public_key(enc)?;
    let dh = recipient.agree(&enc)?;
    let shared = kem_shared_secret(dh.expose(), &enc, recipient.public_key())?;
    let (key, base_nonce) = key_schedule(&shared, info)?;
    let mut body = ciphertext.to_vec();
    let len = aead_key(&key)?
        .open_in_place(nonce(&base_nonce)?, Aad::from(aad), &mut body)
        .map_err(|_| CryptoError::AuthenticationFailed)?
        .len();
    body.truncate(len);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 9180 appendix A.3.1: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base
    /// mode, the first encryption (sequence number 0).
    #[test]
    fn rfc_9180_a_3_1() {
        let info = hex("4f6465206f6e2061204772656369616e2055726e");
        let ephemeral = derive_key_pair(&hex(
            "4270e54ffd08d79d5928020af4686d8f6b7d35dbe470265f1f5aa22816ce860e",
        ))
        .unwrap();
        assert_eq!(
            ephemeral.private_scalar().expose(),
            hex("4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb")
        );
        let recipient = derive_key_pair(&hex(
            "668b37171f1072f3cf12ea8a236a45df23fc13b82af3609ad1e354f6ef817550",
        ))
        .unwrap();
        assert_eq!(
            recipient.public_key(),
            hex("04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a826a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72ea0")
        );
        let aad = hex("436f756e742d30");
        let plaintext = hex("4265617574792069732074727574682c20747275746820626561757479");
        let (enc, ct) =
            seal_with(&ephemeral, recipient.public_key(), &info, &aad, &plaintext).unwrap();
        assert_eq!(
            enc,
            hex("04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4")
        );
        assert_eq!(
            ct,
            hex("5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f9076ac232e3ab2523f39513434")
        );
        assert_eq!(open(&recipient, &enc, &info, &aad, &ct).unwrap(), plaintext);
    }

    #[test]
    fn seal_and_open_round_trip_and_refuse_tampering() {
        let recipient = SoftwareKey::generate().unwrap();
        let (enc, ct) = seal(recipient.public_key(), b"info", b"aad", b"hello").unwrap();
        assert_eq!(
            open(&recipient, &enc, b"info", b"aad", &ct).unwrap(),
            b"hello"
        );
        assert!(open(&recipient, &enc, b"other", b"aad", &ct).is_err());
        assert!(open(&recipient, &enc, b"info", b"", &ct).is_err());
        let other = SoftwareKey::generate().unwrap();
        assert!(open(&other, &enc, b"info", b"aad", &ct).is_err());
    }
}
