//! `jigap demo`: the wallet's story end to end in a temporary directory, through the public API.
//! Each capability adds its chapter here as it lands.

use std::time::Instant;

use serde_json::json;
use wallet_core::crypto::jose;
use wallet_core::{
    passphrase_key_protector, CredentialFilter, CredentialFormat, NewCredential, Wallet,
    WalletConfig, WalletError,
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

        // Credential issuance arrives with the mdoc and SD-JWT capabilities; until then the
        // demo stores opaque sample bytes to show the sealed store at work.
        let raw: Vec<u8> = b"sample credential bytes \x00\x01\x02\xff".to_vec();
        let id = wallet.add_credential(NewCredential {
            format: CredentialFormat::MsoMdoc,
            doc_type: "org.iso.18013.5.1.mDL".into(),
            issuer: "Jigap demo authority".into(),
            display_name_ko: "모바일 운전면허증 (예시)".into(),
            display_name_en: "Mobile driver's licence (sample)".into(),
            valid_from: None,
            valid_until: None,
            key_alias: Some(key.alias.clone()),
            raw: raw.clone(),
        })?;
        steps.say(
            "store",
            format!("sealed credential {id} ({} bytes) in the store", raw.len()),
        );
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
                "reopened: {} credential(s), bytes identical, named {}",
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
