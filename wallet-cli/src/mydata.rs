//! MyData consent commands: consent to a registered recipient, list, revoke, record a
//! transfer, and verify a token as a data holder.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;
use wallet_core::{
    consent_is_revoked, verify_consent_token, ConsentMode, ConsentRecord, ConsentRequest,
};

use crate::context::{open, read, say, unlock, wallet_path, CliError};
use crate::Cli;

type Result<T> = std::result::Result<T, CliError>;

/// MyData actions.
#[derive(Subcommand, Debug)]
pub enum MyDataAction {
    /// Consent to a recipient receiving data bundles; writes the signed token.
    Consent {
        /// The recipient's certificate (DER).
        #[arg(long)]
        recipient: PathBuf,
        /// Data bundles: income,health_insurance,...
        #[arg(long, value_delimiter = ',')]
        bundles: Vec<String>,
        /// Purpose.
        #[arg(long)]
        purpose: String,
        /// one-off, selected (30 days at most), or periodic.
        #[arg(long, default_value = "one-off")]
        mode: String,
        /// Schedule of a periodic consent (e.g. monthly).
        #[arg(long, default_value = "monthly")]
        schedule: String,
        /// Days until the consent ends.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Where to write the token.
        #[arg(long)]
        out: PathBuf,
    },
    /// Withdraw a consent; writes the signed revocation.
    Revoke {
        /// The consent id.
        id: String,
        /// Where to write the revocation.
        #[arg(long)]
        out: PathBuf,
    },
    /// List consents.
    List {
        /// Include used, revoked and expired ones.
        #[arg(long)]
        all: bool,
    },
    /// Record a transfer a data holder reported.
    Transfer {
        /// The consent id.
        id: String,
        /// The bundle sent.
        #[arg(long)]
        bundle: String,
        /// Who sent it.
        #[arg(long)]
        holder: String,
    },
    /// As a data holder: verify a consent token (and optionally its revocation).
    Verify {
        /// The token file.
        token: PathBuf,
        /// The certificate (DER) of the recipient presenting the token: the token must name it.
        #[arg(long)]
        recipient: PathBuf,
        /// A revocation to check against the token.
        #[arg(long)]
        revocation: Option<PathBuf>,
    },
}

fn record_json(c: &ConsentRecord) -> serde_json::Value {
    json!({
        "id": c.id, "recipient": c.recipient, "bundles": c.bundles, "purpose": c.purpose,
        "mode": format!("{:?}", c.mode), "state": format!("{:?}", c.state), "not_after": c.not_after,
        "transfers": c.transfers.iter().map(|t| json!({ "bundle": t.bundle, "holder": t.data_holder, "at": t.transferred_at })).collect::<Vec<_>>(),
    })
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `jigap mydata ...`.
pub fn run(cli: &Cli, action: &MyDataAction) -> Result<()> {
    if let MyDataAction::Verify {
        token,
        recipient,
        revocation,
    } = action
    {
        let token = read(token)?;
        let verified = verify_consent_token(token.clone(), read(recipient)?, now())?;
        let revoked = match revocation {
            Some(r) => consent_is_revoked(token, read(r)?)?,
            None => false,
        };
        if revoked {
            return Err(CliError::from(format!(
                "consent {} is revoked",
                verified.id
            )));
        }
        say(
            cli,
            json!({ "id": verified.id, "recipient": verified.recipient, "bundles": verified.bundles, "purpose": verified.purpose, "not_after": verified.not_after }),
            format!(
                "VALID consent {} for {}: {} ({}), until {}",
                verified.id,
                verified.recipient,
                verified.bundles.join(", "),
                verified.purpose,
                crate::context::format_time(verified.not_after)
            ),
        );
        return Ok(());
    }
    let wallet = open(&wallet_path(cli), false)?;
    unlock(&wallet)?;
    match action {
        MyDataAction::Consent {
            recipient,
            bundles,
            purpose,
            mode,
            schedule,
            days,
            out,
        } => {
            let mode = match mode.as_str() {
                "one-off" => ConsentMode::OneOff,
                "selected" => ConsentMode::Selected,
                "periodic" => ConsentMode::Periodic {
                    schedule: schedule.clone(),
                },
                other => {
                    return Err(CliError::from(format!(
                        "unknown mode {other} (one-off, selected, periodic)"
                    )))
                }
            };
            let record = wallet.create_consent(ConsentRequest {
                recipient_certificate: read(recipient)?,
                bundles: bundles.clone(),
                purpose: purpose.clone(),
                mode,
                valid_days: *days,
            })?;
            std::fs::write(out, &record.token)?;
            say(
                cli,
                record_json(&record),
                format!(
                    "consent {} for {} written to {}",
                    record.id,
                    record.recipient,
                    out.display()
                ),
            );
        }
        MyDataAction::Revoke { id, out } => {
            let revocation = wallet.revoke_consent(id.clone())?;
            std::fs::write(out, &revocation)?;
            say(
                cli,
                json!({ "revoked": id }),
                format!(
                    "consent {id} revoked; revocation written to {}",
                    out.display()
                ),
            );
        }
        MyDataAction::List { all } => {
            let consents = wallet.list_consents(*all)?;
            let text = if consents.is_empty() {
                "no consents".to_string()
            } else {
                consents
                    .iter()
                    .map(|c| {
                        format!(
                            "{}  {:?}  {}  {} — {} transfer(s)",
                            c.id,
                            c.state,
                            c.recipient,
                            c.bundles.join(","),
                            c.transfers.len()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            say(
                cli,
                json!(consents.iter().map(record_json).collect::<Vec<_>>()),
                text,
            );
        }
        MyDataAction::Transfer { id, bundle, holder } => {
            let record = wallet.add_transfer(id.clone(), bundle.clone(), holder.clone())?;
            say(
                cli,
                record_json(&record),
                format!("recorded {bundle} from {holder} under {id}"),
            );
        }
        MyDataAction::Verify { .. } => {}
    }
    Ok(())
}
