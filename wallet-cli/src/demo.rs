//! `jigap demo`: the wallet's story end to end in a temporary directory, through the public API.
//! Each capability adds its chapter here as it lands.

use std::time::Instant;

use serde_json::json;
use wallet_core::crypto::jose;
use wallet_core::{
    passphrase_key_protector, Approval, CredentialFilter, DeviceAuthMode, ElementRef, MdlClaims,
    MdocReader, PresentationEvent, ReaderConfig, ReaderEvent, SdJwtVerifier, SdJwtVerifierConfig,
    TestAuthority, TrustRole, Wallet, WalletConfig, WalletError,
};

use crate::commands::CliError;

struct Steps {
    json: bool,
    started: Instant,
    log: Vec<serde_json::Value>,
}

impl Steps {
    fn say(&mut self, step: &str, detail: String) {
        if self.json {
            self.log.push(json!({ "step": step, "detail": detail }));
        } else {
            println!(
                "[{:>6.2}s] {step}: {detail}",
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

/// Runs the demo.
pub fn run(json_output: bool) -> Result<(), CliError> {
    let dir = tempdir()?;
    let path = dir.join("demo.jigap");
    let path_text = path.to_string_lossy().into_owned();
    let passphrase = "demo passphrase — not for real use".to_string();
    let mut steps = Steps {
        json: json_output,
        started: Instant::now(),
        log: Vec::new(),
    };
    let config = || -> Result<WalletConfig, CliError> {
        Ok(WalletConfig {
            path: Some(path_text.clone()),
            create_if_missing: true,
            key_protector: passphrase_key_protector(passphrase.clone())?,
            secure_area: None,
            clock: None,
            listener: None,
        })
    };

    let result = (|| -> Result<(), CliError> {
        let wallet = Wallet::open(config()?)?;
        steps.say(
            "open",
            format!("created an encrypted wallet at {path_text}"),
        );

        wallet.set_pin("246810".into())?;
        wallet.lock()?;
        steps.say("pin", "set a 6-digit PIN and locked the wallet".into());
        match wallet.verify_pin("000000".into()) {
            Err(WalletError::WrongPin { tries_left }) => {
                steps.say("pin", format!("wrong PIN refused, {tries_left} tries left"))
            }
            other => {
                return Err(CliError::from(format!(
                    "expected a wrong PIN, got {other:?}"
                )))
            }
        }
        wallet.verify_pin("246810".into())?;
        steps.say("pin", "unlocked with the right PIN".into());

        let key = wallet.create_device_key()?;
        let proof = wallet.key_proof_jwt(
            key.alias.clone(),
            "https://issuer.jigap.example".into(),
            Some("demo-nonce".into()),
        )?;
        jose::verify_es256(&proof, &key.public_key)
            .map_err(|e| CliError::from(format!("key proof did not verify: {e}")))?;
        steps.say(
            "device key",
            format!(
                "created P-256 key {} in the secure area; its OpenID4VCI key proof verifies ({} bytes)",
                key.alias,
                proof.len()
            ),
        );

        let authority = TestAuthority::create("Jigap Demo".into(), "KR".into(), None)?;
        let mdl_key = wallet.create_device_key()?;
        let mdl = authority.issue_mdl(
            mdl_key.public_key.clone(),
            MdlClaims {
                family_name: "홍".into(),
                given_name: "길동".into(),
                birth_date: "1990-05-05".into(),
                document_number: "11-23-456789-01".into(),
                issuing_authority: "경찰청 (Korean National Police Agency)".into(),
                portrait: crate::mdoc::SAMPLE_PORTRAIT.to_vec(),
                vehicle_categories: vec!["B".into()],
                valid_days: 3650,
                status: None,
            },
        )?;
        let id = wallet.add_mdoc(mdl.clone(), mdl_key.alias.clone())?;
        steps.say(
            "issue",
            format!("a test authority (IACA + document signer, Annex B profiles) issued an mDL ({} bytes), sealed as {id}", mdl.len()),
        );
        let material = authority.material();
        wallet.add_trust_anchor(
            TrustRole::MdocReader,
            material.reader_root_certificate.clone(),
        )?;

        let holder = wallet
            .clone()
            .start_presentation(vec![], DeviceAuthMode::Signature)?;
        let qr_uri = holder.engagement()?.qr_uri;
        steps.say(
            "engage",
            format!(
                "the wallet shows its QR code: {}…",
                &qr_uri[..qr_uri.len().min(48)]
            ),
        );
        let reader = MdocReader::new(ReaderConfig {
            iaca_certificates: vec![material.iaca_certificate.clone()],
            reader_certificate_chain: vec![material.reader_certificate.clone()],
            reader_private_key: Some(material.reader_key.clone()),
            clock: None,
        })?;
        let request =
            crate::mdoc::parse_request("org.iso.18013.5.1.mDL=age_over_19,family_name,portrait")?;
        let session = reader.start_session(qr_uri, vec![request])?;
        let PresentationEvent::Request { documents } = holder.receive(session.request_message())?
        else {
            return Err(CliError::from("the reader ended the session".to_string()));
        };
        let asked: Vec<String> = documents[0]
            .elements
            .iter()
            .map(|e| e.identifier.clone())
            .collect();
        let trusted = documents[0].reader.as_ref().is_some_and(|r| r.trusted);
        steps.say(
            "request",
            format!(
                "a {} reader asks for {}; the citizen approves only age_over_19",
                if trusted { "trusted" } else { "UNTRUSTED" },
                asked.join(", ")
            ),
        );
        let answer = holder.respond(vec![Approval {
            document_index: 0,
            credential_id: id.clone(),
            elements: vec![ElementRef {
                namespace: "org.iso.18013.5.1".into(),
                identifier: "age_over_19".into(),
            }],
        }])?;
        let ReaderEvent::Response { report } = session.receive(answer)? else {
            return Err(CliError::from("no response".to_string()));
        };
        let released = report
            .documents
            .first()
            .map(|d| d.elements.len())
            .unwrap_or(0);
        if released != 1 {
            return Err(CliError::from(format!(
                "expected one released element, got {released}"
            )));
        }
        steps.say(
            "verify",
            crate::mdoc::report_text(&report).replace('\n', " | "),
        );
        holder.terminate()?;

        let cert_key = wallet.create_device_key()?;
        let certificate = authority.issue_certificate(
            "resident-abstract".into(),
            cert_key.public_key.clone(),
            serde_json::json!({
                "name": "홍길동",
                "resident_registration_number": "900505-1234567",
                "birth_date": "1990-05-05",
                "address": { "region": "서울특별시", "locality": "종로구", "street": "세종대로 209" }
            })
            .to_string(),
            None,
        )?;
        let cert_id = wallet.add_sd_jwt(certificate, cert_key.alias)?;
        let presentation = wallet.present_sd_jwt(
            cert_id,
            vec!["/name".into(), "/address/locality".into()],
            "https://bank.jigap.example".into(),
            "demo-nonce-7".into(),
        )?;
        let bank = SdJwtVerifier::new(SdJwtVerifierConfig {
            trusted_issuer_certificates: vec![material.iaca_certificate.clone()],
            max_key_binding_age_seconds: 300,
            clock: None,
        })?;
        let verified = bank.verify(
            presentation,
            "https://bank.jigap.example".into(),
            "demo-nonce-7".into(),
        )?;
        let shown: Vec<String> = verified
            .disclosed
            .iter()
            .map(|d| format!("{} = {}", d.path, d.value_json))
            .collect();
        steps.say(
            "certificate",
            format!(
                "a resident registration abstract (SD-JWT VC) went to a bank with two claims; verified, key-bound: {}",
                shown.join(", ")
            ),
        );
        let raw = mdl;
        wallet.close_store()?;

        let wallet = Wallet::open(config()?)?;
        wallet.verify_pin("246810".into())?;
        let page = wallet.list_credentials(CredentialFilter::default(), 0, 10)?;
        let back = wallet.get_credential(id.clone())?;
        if back.raw != raw {
            return Err(CliError::from(
                "credential bytes changed across reopen".to_string(),
            ));
        }
        steps.say(
            "reopen",
            format!(
                "reopened: {} credential(s), the mDL's bytes identical, named {}",
                page.total, back.summary.display_name_ko
            ),
        );

        let report = wallet.wipe_blocking()?;
        steps.say("wipe", crate::output::wipe_text(&report));
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    if json_output {
        println!("{}", json!({ "demo": "ok", "steps": steps.log }));
    } else {
        println!("demo complete");
    }
    Ok(())
}

fn tempdir() -> Result<std::path::PathBuf, CliError> {
    let id =
        wallet_core::crypto::random::identifier().map_err(|e| CliError::from(e.to_string()))?;
    let dir = std::env::temp_dir().join(format!("jigap-demo-{id}"));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
