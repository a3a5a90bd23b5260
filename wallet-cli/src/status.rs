//! Status-list commands. Issuer side: `publish` creates a list, `revoke`/`suspend`/`reinstate`
//! change an entry and re-sign, `serve` answers GETs on 127.0.0.1. Wallet side: `refresh`
//! fetches lists through the CLI's HTTP client and updates credential states.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::json;
use wallet_core::{CredentialState, StatusListFormat, StatusValue, TestAuthority};

use crate::commands::{open, unlock, wallet_path, CliError};
use crate::http::{serve, CliHttpClient};
use crate::mdoc::load_material;
use crate::Cli;

type Result<T> = std::result::Result<T, CliError>;

/// Status list actions.
#[derive(Subcommand, Debug)]
pub enum StatusAction {
    /// Create a status list (all entries valid) in the authority's directory.
    Publish {
        /// The test authority's directory.
        #[arg(long)]
        issuer: PathBuf,
        /// The list's path on the server, e.g. /lists/1.
        #[arg(long, default_value = "/lists/1")]
        path: String,
        /// The URL the list will be served at, without the path.
        #[arg(long, default_value = "http://127.0.0.1:8471")]
        base_url: String,
        /// Entries in the list.
        #[arg(long, default_value_t = 1024)]
        size: u64,
        /// Seconds a wallet may cache the list.
        #[arg(long, default_value_t = 300)]
        ttl: u32,
    },
    /// Revoke an entry (final).
    Revoke(EntryArgs),
    /// Suspend an entry.
    Suspend(EntryArgs),
    /// Make a suspended entry valid again.
    Reinstate(EntryArgs),
    /// Serve the authority's status lists on 127.0.0.1.
    Serve {
        /// The test authority's directory.
        #[arg(long)]
        issuer: PathBuf,
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 8471)]
        port: u16,
    },
    /// Fetch the status of every credential in the wallet and update their states.
    Refresh,
}

/// Which entry to change.
#[derive(clap::Args, Debug)]
pub struct EntryArgs {
    /// The test authority's directory.
    #[arg(long)]
    pub issuer: PathBuf,
    /// The list's path, e.g. /lists/1.
    #[arg(long, default_value = "/lists/1")]
    pub path: String,
    /// The entry's index.
    #[arg(long)]
    pub index: u64,
}

fn state_file(issuer: &Path, path: &str) -> Result<PathBuf> {
    let name: String = path
        .trim_start_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        return Err(CliError::from("the list path is empty".to_string()));
    }
    Ok(issuer.join("status").join(format!("{name}.json")))
}

fn load_state(file: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        CliError::from(format!(
            "no status list at {} ({e}); publish it first",
            file.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| CliError::from(format!("{}: {e}", file.display())))
}

/// Signs the list in `state` and stores the token next to it.
fn sign_and_store(issuer: &Path, file: &Path, state: &serde_json::Value) -> Result<Vec<u8>> {
    let authority = TestAuthority::load(load_material(issuer)?, None)?;
    let statuses: Vec<StatusValue> = state["statuses"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    Some(StatusValue {
                        index: k.parse().ok()?,
                        status: u8::try_from(v.as_u64()?).ok()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let token = authority.status_list_token(
        state["uri"].as_str().unwrap_or_default().to_string(),
        state["size"].as_u64().unwrap_or(0),
        statuses,
        StatusListFormat::Jwt,
        u32::try_from(state["ttl"].as_u64().unwrap_or(300)).unwrap_or(300),
    )?;
    std::fs::create_dir_all(file.parent().unwrap_or(Path::new(".")))?;
    std::fs::write(file, serde_json::to_vec_pretty(state).unwrap_or_default())?;
    std::fs::write(file.with_extension("jwt"), &token)?;
    Ok(token)
}

fn say(cli: &Cli, value: serde_json::Value, text: String) {
    if cli.json {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

/// `jigap status ...`
pub fn run(cli: &Cli, action: &StatusAction) -> Result<()> {
    match action {
        StatusAction::Publish {
            issuer,
            path,
            base_url,
            size,
            ttl,
        } => {
            let file = state_file(issuer, path)?;
            let uri = format!(
                "{}{}",
                base_url.trim_end_matches('/'),
                if path.starts_with('/') {
                    path.clone()
                } else {
                    format!("/{path}")
                }
            );
            let state = json!({ "uri": uri, "size": size, "ttl": ttl, "statuses": BTreeMap::<String, u8>::new() });
            let token = sign_and_store(issuer, &file, &state)?;
            say(
                cli,
                json!({ "uri": uri, "size": size, "token_bytes": token.len() }),
                format!(
                    "published {uri} ({size} entries, all valid; {} bytes signed)",
                    token.len()
                ),
            );
            Ok(())
        }
        StatusAction::Revoke(e) | StatusAction::Suspend(e) | StatusAction::Reinstate(e) => {
            let (value, word) = match action {
                StatusAction::Revoke(_) => (1u8, "revoked"),
                StatusAction::Suspend(_) => (2, "suspended"),
                _ => (0, "reinstated"),
            };
            let file = state_file(&e.issuer, &e.path)?;
            let mut state = load_state(&file)?;
            if e.index >= state["size"].as_u64().unwrap_or(0) {
                return Err(CliError::from(format!(
                    "index {} is outside the list",
                    e.index
                )));
            }
            let key = e.index.to_string();
            if state["statuses"][&key].as_u64() == Some(1) && value != 1 {
                return Err(CliError::from(format!(
                    "entry {} is revoked; revocation is final",
                    e.index
                )));
            }
            state["statuses"][&key] = json!(value);
            sign_and_store(&e.issuer, &file, &state)?;
            say(
                cli,
                json!({ "index": e.index, "status": word }),
                format!(
                    "entry {} of {} is now {word}",
                    e.index,
                    state["uri"].as_str().unwrap_or_default()
                ),
            );
            Ok(())
        }
        StatusAction::Serve { issuer, port } => {
            let listener = TcpListener::bind(("127.0.0.1", *port))
                .map_err(|e| CliError::from(format!("binding 127.0.0.1:{port}: {e}")))?;
            let actual = listener.local_addr()?.port();
            eprintln!(
                "serving status lists of {} on http://127.0.0.1:{actual}",
                issuer.display()
            );
            let issuer = issuer.clone();
            serve(
                listener,
                move |path| {
                    let file = state_file(&issuer, path).ok()?.with_extension("jwt");
                    std::fs::read(file)
                        .ok()
                        .map(|body| ("application/statuslist+jwt".to_string(), body))
                },
                || true,
            );
            Ok(())
        }
        StatusAction::Refresh => {
            let wallet = open(&wallet_path(cli), false)?;
            unlock(&wallet)?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let report =
                runtime.block_on(wallet.refresh_status(std::sync::Arc::new(CliHttpClient)))?;
            let name = |s: CredentialState| crate::output::state_name(s);
            let changes: Vec<serde_json::Value> = report
                .changed
                .iter()
                .map(|c| json!({ "id": c.credential_id, "from": name(c.previous), "to": name(c.current) }))
                .collect();
            let mut text = format!(
                "checked {} credential(s) with a status list; {} changed",
                report.checked,
                report.changed.len()
            );
            for c in &report.changed {
                text.push_str(&format!(
                    "\n  {}: {} → {}",
                    c.credential_id,
                    name(c.previous),
                    name(c.current)
                ));
            }
            for f in &report.failures {
                text.push_str(&format!("\n  unavailable: {f}"));
            }
            say(
                cli,
                json!({ "checked": report.checked, "changed": changes, "failures": report.failures }),
                text,
            );
            Ok(())
        }
    }
}
