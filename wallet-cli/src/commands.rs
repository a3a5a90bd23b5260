//! Dispatch, and the wallet commands themselves: status, PIN, keys, credentials, wipe.

use base64::Engine;
use serde_json::json;
use wallet_core::{CredentialFilter, CredentialFormat, CredentialState, Wallet};

use crate::context::{open, say_with, unlock, wallet_path, CliError, Result};
use crate::output::{self, format_name, state_name};
use crate::{secrets, Cli, Command, CredentialAction, FormatArg, PinAction, StateArg};

impl From<FormatArg> for CredentialFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::MsoMdoc => CredentialFormat::MsoMdoc,
            FormatArg::SdJwtVc => CredentialFormat::SdJwtVc,
        }
    }
}

impl From<StateArg> for CredentialState {
    fn from(s: StateArg) -> Self {
        match s {
            StateArg::Valid => CredentialState::Valid,
            StateArg::Suspended => CredentialState::Suspended,
            StateArg::Revoked => CredentialState::Revoked,
            StateArg::Expired => CredentialState::Expired,
        }
    }
}

/// Runs the parsed command.
pub fn run(cli: &Cli) -> Result<()> {
    let path = wallet_path(cli);
    match &cli.command {
        Command::Demo => crate::demo::run(cli.json),
        Command::Issuer { action } => crate::mdoc::issuer(cli, action),
        Command::Issue { what } => crate::mdoc::issue(cli, what),
        Command::Trust { action } => crate::mdoc::trust(cli, action),
        Command::Present {
            what: Some(crate::PresentWhat::ECertificate(args)),
            ..
        } => crate::e_certificates::present(cli, args),
        Command::Present { what: None, mdoc } => crate::mdoc::present(cli, mdoc),
        Command::Verify { what } => crate::e_certificates::verify(cli, what),
        Command::Bills { action } => crate::services::bills(cli, action),
        Command::Inbox { action } => crate::services::inbox(cli, action),
        Command::Mydata { action } => crate::mydata::run(cli, action),
        Command::Log { action } => crate::log::run(cli, action),
        Command::Benefits { action } => crate::benefits::run(cli, action),
        Command::Status {
            action: Some(action),
        } => crate::status::run(cli, action),
        Command::Reader { action } => crate::mdoc::reader(cli, action),
        Command::Receive(args) => crate::receive::receive(cli, args),
        Command::Pending { action } => crate::receive::pending(cli, action),
        Command::Serve {
            what: crate::ServeWhat::Issuer(args),
        } => crate::issuer_server::run(cli, args),
        Command::Serve {
            what: crate::ServeWhat::Verifier(args),
        } => crate::verifier_server::run(cli, args),
        Command::Init => {
            if path.exists() {
                return Err(CliError(format!(
                    "{} already exists; use it, or wipe it first",
                    path.display()
                )));
            }
            let wallet = open(&path, true)?;
            let status = wallet.status()?;
            say_with(
                cli,
                json!({ "created": path, "schema_version": status.schema_version }),
                || {
                    format!(
                        "created wallet {} (schema v{})",
                        path.display(),
                        status.schema_version
                    )
                },
            );
            Ok(())
        }
        Command::Status { action: None } => {
            let wallet = open(&path, false)?;
            let status = wallet.status()?;
            say_with(cli, output::status_json(&status), || {
                format!(
                    "wallet {}\n  schema version: {}\n  PIN: {}\n  locked: {}\n  PIN tries left: {}{}",
                    path.display(),
                    status.schema_version,
                    if status.pin_set { "set" } else { "not set" },
                    if status.unlocked { "no" } else { "yes" },
                    status.pin_tries_left,
                    if status.pin_locked_out { " (LOCKED OUT: reset needed)" } else { "" }
                )
            });
            Ok(())
        }
        Command::Pin { action } => {
            let wallet = open(&path, false)?;
            match action {
                PinAction::Set => {
                    let pin = secrets::read("JIGAP_NEW_PIN", "new PIN")?;
                    wallet.set_pin(pin.to_string())?;
                    say_with(cli, json!({ "pin_set": true }), || "PIN set".into());
                }
                PinAction::Change => {
                    let current = secrets::read("JIGAP_PIN", "current PIN")?;
                    let new = secrets::read("JIGAP_NEW_PIN", "new PIN")?;
                    wallet.change_pin(current.to_string(), new.to_string())?;
                    say_with(cli, json!({ "pin_changed": true }), || "PIN changed".into());
                }
                PinAction::Verify => {
                    let pin = secrets::read("JIGAP_PIN", "PIN")?;
                    wallet.verify_pin(pin.to_string())?;
                    say_with(cli, json!({ "pin_ok": true }), || "PIN correct".into());
                }
                PinAction::Challenge { out } => {
                    let challenge = wallet.pin_reset_challenge()?;
                    let encoded = base64::engine::general_purpose::STANDARD.encode(&challenge);
                    if let Some(out) = out {
                        crate::context::write(out, &challenge, false)?;
                    }
                    say_with(cli, json!({ "challenge": encoded }), || {
                        format!(
                            "re-verification challenge (valid 15 minutes): {encoded}{}",
                            out.as_ref()
                                .map(|o| format!("\nwritten to {}", o.display()))
                                .unwrap_or_default()
                        )
                    });
                }
                PinAction::Reset { proof } => {
                    let token = std::fs::read(proof)
                        .map_err(|e| CliError(format!("reading {}: {e}", proof.display())))?;
                    let pin = secrets::read("JIGAP_NEW_PIN", "new PIN")?;
                    wallet.reset_pin(pin.to_string(), token)?;
                    say_with(cli, json!({ "pin_reset": true }), || {
                        "PIN reset after re-verification; the wallet is unlocked".into()
                    });
                }
                PinAction::EraseAndReset { yes } => {
                    if !yes {
                        return Err(CliError(
                            "this erases every credential for good; repeat with --yes".into(),
                        ));
                    }
                    let pin = secrets::read("JIGAP_NEW_PIN", "new PIN")?;
                    let erased = wallet.reset_pin_by_erasing(pin.to_string())?;
                    say_with(cli, json!({ "pin_reset": true, "erased": erased }), || {
                        format!("erased {erased} credential(s) and set a new PIN")
                    });
                }
            }
            Ok(())
        }
        Command::Credentials { action } => {
            let wallet = open(&path, false)?;
            unlock(&wallet)?;
            credentials(cli, &wallet, action)
        }
        Command::Keys {
            action: crate::KeyAction::Create { out, jwk_out },
        } => {
            let wallet = open(&path, false)?;
            unlock(&wallet)?;
            let key = wallet.create_device_key()?;
            if let Some(out) = out {
                crate::context::write(out, &key.public_key, false)?;
            }
            if let Some(out) = jwk_out {
                crate::context::write(out, key.public_jwk.as_bytes(), false)?;
            }
            let jwk: serde_json::Value = serde_json::from_str(&key.public_jwk).unwrap_or_default();
            say_with(
                cli,
                json!({ "alias": key.alias, "public_key_hex": hex(&key.public_key), "jwk": jwk }),
                || {
                    format!(
                        "created device key {}\n  public key (SEC1): {}\n  JWK: {}",
                        key.alias,
                        hex(&key.public_key),
                        key.public_jwk
                    )
                },
            );
            Ok(())
        }
        Command::Wipe { yes } => {
            if !yes {
                return Err(CliError(
                    "wiping destroys the wallet for good; repeat with --yes".into(),
                ));
            }
            let wallet = open(&path, false)?;
            let report = wallet.wipe_blocking()?;
            say_with(cli, output::wipe_json(&report), || {
                output::wipe_text(&report)
            });
            Ok(())
        }
    }
}

fn credentials(cli: &Cli, wallet: &Wallet, action: &CredentialAction) -> Result<()> {
    match action {
        CredentialAction::List {
            format,
            doc_type,
            issuer,
            state,
            offset,
            limit,
        } => {
            let page = wallet.list_credentials(
                CredentialFilter {
                    format: format.map(Into::into),
                    doc_type: doc_type.clone(),
                    issuer: issuer.clone(),
                    state: state.map(Into::into),
                },
                *offset,
                *limit,
            )?;
            let value = json!({
                "total": page.total,
                "next_offset": page.next_offset,
                "items": page.items.iter().map(output::summary_json).collect::<Vec<_>>(),
            });
            say_with(cli, value, || {
                let mut lines: Vec<String> = page.items.iter().map(output::summary_line).collect();
                lines.push(format!(
                    "{} of {} credentials{}",
                    page.items.len(),
                    page.total,
                    page.next_offset
                        .map(|o| format!(" (more: --offset {o})"))
                        .unwrap_or_default()
                ));
                lines.join("\n")
            });
        }
        CredentialAction::Show { id, raw_out } => {
            let credential = wallet.get_credential(id.clone())?;
            if let Some(file) = raw_out {
                std::fs::write(file, &credential.raw)
                    .map_err(|e| CliError(format!("writing {}: {e}", file.display())))?;
            }
            let mut value = output::summary_json(&credential.summary);
            value["raw_length"] = json!(credential.raw.len());
            let s = &credential.summary;
            say_with(cli, value, || {
                format!(
                    "id: {}\nformat: {}\nstate: {}\ntype: {}\nissuer: {}\nname: {} / {}\nvalid: {} .. {}\nadded: {}\nkey: {}\nsize: {} bytes",
                    s.id,
                    format_name(s.format),
                    state_name(s.state),
                    s.doc_type,
                    s.issuer,
                    s.display_name_ko,
                    s.display_name_en,
                    s.valid_from.map(|v| v.to_string()).unwrap_or_else(|| "-".into()),
                    s.valid_until.map(|v| v.to_string()).unwrap_or_else(|| "-".into()),
                    s.added_at,
                    s.key_alias.as_deref().unwrap_or("-"),
                    credential.raw.len()
                )
            });
        }
        CredentialAction::Import {
            file,
            key_alias,
            format,
        } => {
            let raw = std::fs::read(file)
                .map_err(|e| CliError(format!("reading {}: {e}", file.display())))?;
            let looks_like_jwt = raw.starts_with(b"ey");
            let id = match format.unwrap_or(if looks_like_jwt {
                FormatArg::SdJwtVc
            } else {
                FormatArg::MsoMdoc
            }) {
                FormatArg::MsoMdoc => wallet.add_mdoc(raw, key_alias.clone())?,
                FormatArg::SdJwtVc => {
                    let text =
                        String::from_utf8(raw).map_err(|_| CliError("an SD-JWT is text".into()))?;
                    wallet.add_sd_jwt(text.trim().to_string(), key_alias.clone())?
                }
            };
            let summary = wallet.get_credential(id.clone())?.summary;
            say_with(
                cli,
                json!({ "id": id, "doc_type": summary.doc_type, "issuer": summary.issuer }),
                || {
                    format!(
                        "checked and stored {} from {} as {id}",
                        summary.doc_type, summary.issuer
                    )
                },
            );
        }
        CredentialAction::Delete { id } => {
            wallet.delete_credential(id.clone())?;
            say_with(cli, json!({ "deleted": id }), || {
                format!("deleted credential {id}")
            });
        }
        CredentialAction::SetState { id, state } => {
            wallet.update_credential_state(id.clone(), (*state).into())?;
            let name = state_name((*state).into());
            say_with(cli, json!({ "id": id, "state": name }), || {
                format!("credential {id} is now {name}")
            });
        }
    }
    Ok(())
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
