//! A host-app integration sample in Rust: what a Rust-native host (a kiosk, a desktop wallet)
//! writes around the core.
//!
//! The host keeps the device keys itself, behind its own [`SecureArea`] (here P-256 keys held in
//! process memory, standing in for a hardware keystore), opens a wallet, receives a mobile
//! driving licence bound to one of those keys, proves it in person with MAC device
//! authentication (the core asks the host for ECDH, never for the private key), and asks which
//! public benefits the citizen may claim, computed on the device.
//!
//! Run it with `cargo run -p jigap-host-app-sample`; `cargo test` runs it as a test too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use p256::ecdsa::signature::Signer;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use ring::rand::{SecureRandom, SystemRandom};
use wallet_core::*;

/// Device keys held by the host: P-256 secrets in memory, keyed by alias.
#[derive(Default)]
struct HostKeys {
    keys: Mutex<HashMap<String, p256::SecretKey>>,
}

impl HostKeys {
    fn keys(&self) -> Result<MutexGuard<'_, HashMap<String, p256::SecretKey>>, WalletError> {
        self.keys
            .lock()
            .map_err(|_| host_failure("key map poisoned"))
    }

    fn with_key<T>(
        &self,
        alias: &str,
        f: impl FnOnce(&p256::SecretKey) -> Result<T, WalletError>,
    ) -> Result<T, WalletError> {
        let keys = self.keys()?;
        let key = keys.get(alias).ok_or_else(|| WalletError::NotFound {
            what: format!("host key {alias}"),
        })?;
        f(key)
    }
}

fn host_failure(reason: &str) -> WalletError {
    WalletError::HostCallback {
        reason: reason.to_string(),
    }
}

fn unexpected(reason: &str) -> WalletError {
    WalletError::InvalidInput {
        reason: reason.to_string(),
    }
}

impl SecureArea for HostKeys {
    fn create_key(&self, alias: String) -> Result<Vec<u8>, WalletError> {
        let random = SystemRandom::new();
        let mut scalar = [0u8; 32];
        // A random 32-byte string is a valid P-256 scalar except with negligible probability.
        let secret = loop {
            random
                .fill(&mut scalar)
                .map_err(|_| host_failure("no randomness"))?;
            if let Ok(secret) = p256::SecretKey::from_slice(&scalar) {
                break secret;
            }
        };
        let public = secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        self.keys()?.insert(alias, secret);
        Ok(public)
    }

    fn public_key(&self, alias: String) -> Result<Vec<u8>, WalletError> {
        self.with_key(&alias, |k| {
            Ok(k.public_key().to_encoded_point(false).as_bytes().to_vec())
        })
    }

    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, WalletError> {
        self.with_key(&alias, |k| {
            let signature: p256::ecdsa::Signature = p256::ecdsa::SigningKey::from(k).sign(&message);
            Ok(signature.to_bytes().to_vec())
        })
    }

    fn key_agreement(
        &self,
        alias: String,
        peer_public_key: Vec<u8>,
    ) -> Result<Vec<u8>, WalletError> {
        let peer = p256::PublicKey::from_sec1_bytes(&peer_public_key).map_err(|_| {
            WalletError::InvalidInput {
                reason: "the peer key is not a P-256 point".into(),
            }
        })?;
        self.with_key(&alias, |k| {
            let shared = p256::ecdh::diffie_hellman(k.to_nonzero_scalar(), peer.as_affine());
            Ok(shared.raw_secret_bytes().to_vec())
        })
    }

    fn delete_key(&self, alias: String) -> Result<(), WalletError> {
        self.keys()?.remove(&alias);
        Ok(())
    }
}

/// What the sample ends with, for the caller to print or check.
#[derive(Debug)]
struct Outcome {
    released: Vec<(String, String)>,
    withheld: Vec<String>,
    device_auth: DeviceAuthMode,
    eligible: Vec<String>,
    unknown: usize,
    evaluated: usize,
}

fn run() -> Result<Outcome, WalletError> {
    let host_keys = Arc::new(HostKeys::default());
    let wallet = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        path: None,
        create_if_missing: true,
        key_protector: passphrase_key_protector_with_cost("sample host secret".into(), 10_000)?,
        secure_area: Some(host_keys.clone()),
        clock: None,
        listener: None,
    })?;

    // The licence arrives bound to a key the host holds.
    let police = TestAuthority::create("Sample Police Agency".into(), "KR".into(), None)?;
    let key = wallet.create_device_key()?;
    let licence = police.issue_mdl(
        key.public_key.clone(),
        MdlClaims {
            family_name: "박".into(),
            given_name: "지갑".into(),
            birth_date: "1950-07-01".into(),
            document_number: "11-70-000002-01".into(),
            issuing_authority: "경찰청".into(),
            portrait: vec![0xff, 0xd8, 0xff, 0xd9],
            vehicle_categories: vec!["B".into()],
            valid_days: 365,
            status: None,
        },
    )?;
    let id = wallet.add_mdoc(licence, key.alias)?;
    wallet.add_trust_anchor(
        TrustRole::MdocReader,
        police.root_certificate(TrustRole::MdocReader)?,
    )?;

    // In person, with MAC device authentication: the reader's session key meets the host key.
    let holder = wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Mac)?;
    let reader = MdocReader::new(ReaderConfig {
        iaca_certificates: vec![police.root_certificate(TrustRole::MdocIssuer)?],
        status_list_certificates: vec![],
        reader_certificate_chain: vec![police.signer_certificate(TrustRole::MdocReader)?],
        reader_private_key: Some(police.signer_key(TrustRole::MdocReader)?),
        clock: None,
        session_state_key: None,
    })?;
    let ns = "org.iso.18013.5.1";
    let item = |identifier: &str| RequestedItem {
        namespace: ns.into(),
        identifier: identifier.into(),
        intent_to_retain: false,
    };
    let session = reader.start_session(
        holder.engagement()?.qr_uri,
        vec![DocumentRequest {
            doc_type: "org.iso.18013.5.1.mDL".into(),
            items: vec![item("age_over_65"), item("family_name")],
        }],
    )?;
    let PresentationEvent::Request { documents, .. } = holder.receive(session.request_message())?
    else {
        return Err(unexpected("the reader did not send a request"));
    };
    let document = documents
        .first()
        .ok_or_else(|| unexpected("the request names no document"))?;
    let answer = holder.respond(vec![Approval {
        document_index: document.index,
        credential_id: id,
        elements: vec![ElementRef {
            namespace: ns.into(),
            identifier: "age_over_65".into(),
        }],
    }])?;
    let ReaderEvent::Response { report } = session.receive(answer)? else {
        return Err(unexpected("the holder did not answer"));
    };
    let verified = report
        .documents
        .first()
        .ok_or_else(|| unexpected("no verified document"))?;
    session.receive(holder.terminate()?)?;

    // On-device eligibility: opt in, then evaluate a signed catalog against the licence.
    wallet.add_trust_anchor(
        TrustRole::CatalogPublisher,
        police.root_certificate(TrustRole::CatalogPublisher)?,
    )?;
    wallet.set_benefit_opt_in(true)?;
    let results = wallet.evaluate_benefits(police.sign_benefit_catalog(1)?)?;
    Ok(Outcome {
        released: verified
            .elements
            .iter()
            .map(|e| (e.identifier.clone(), e.display.clone()))
            .collect(),
        withheld: verified
            .not_returned
            .iter()
            .map(|e| e.identifier.clone())
            .collect(),
        device_auth: verified.device_authentication,
        eligible: results
            .iter()
            .filter(|r| r.eligibility == Eligibility::Eligible)
            .map(|r| r.name_ko.clone())
            .collect(),
        unknown: results
            .iter()
            .filter(|r| r.eligibility == Eligibility::Unknown)
            .count(),
        evaluated: results.len(),
    })
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() {
    match run() {
        Ok(outcome) => {
            println!("reader sees: {:?}", outcome.released);
            println!("withheld: {:?}", outcome.withheld);
            println!("device authentication: {:?}", outcome.device_auth);
            println!(
                "benefits: {} evaluated, {} eligible, {} need more facts",
                outcome.evaluated,
                outcome.eligible.len(),
                outcome.unknown
            );
            for name in &outcome.eligible {
                println!("  eligible: {name}");
            }
            println!("host app sample: ok");
        }
        Err(e) => {
            eprintln!("host app sample: FAILED: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_sample_story_ends_as_printed() {
        let outcome = run().unwrap();
        assert_eq!(
            outcome.released,
            vec![("age_over_65".to_string(), "true".to_string())]
        );
        assert_eq!(outcome.withheld, vec!["family_name".to_string()]);
        assert_eq!(outcome.device_auth, DeviceAuthMode::Mac);
        assert!(outcome.evaluated > 0);
        assert!(
            !outcome.eligible.is_empty(),
            "a 76-year-old qualifies for something"
        );
    }
}
