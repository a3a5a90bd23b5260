//! Status-list commands. Issuer side: `publish` creates a list, `revoke`/`suspend`/`reinstate`
//! change an entry and re-sign, `serve` answers GETs on 127.0.0.1. Wallet side: `refresh`
//! fetches lists through the CLI's HTTP client and updates credential states.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::json;
use wallet_core::{
    decode_status_list, CredentialState, StatusListFormat, StatusValue, TestAuthority, TrustRole,
};

use crate::authority_dir::load_material;
use crate::context::{open, say, unlock, wallet_path, CliError};
use crate::http::{runtime, serve, CliHttpClient};
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
        #[arg(long, default_value = "https://127.0.0.1:8471")]
        base_url: String,
        /// Entries in the list.
        #[arg(long, default_value_t = 1024)]
        size: u64,
        /// Seconds a wallet may cache the list.
        #[arg(long, default_value_t = 300)]
        ttl: u32,
        /// Token encoding: a JWT (`statuslist+jwt`) or a CWT (`application/statuslist+cwt`).
        #[arg(long, value_enum, default_value = "jwt")]
        format: TokenFormat,
    },
    /// Verify a status list token and print the whole list: its claims and every entry that is
    /// not valid.
    Decode {
        /// The token file (JWT or CWT).
        token: PathBuf,
        /// The URI it was fetched from (its `sub` must match).
        #[arg(long)]
        uri: String,
        /// A test authority directory whose status list root is trusted.
        #[arg(long)]
        issuer: Option<PathBuf>,
        /// Trusted status list signer roots (DER).
        #[arg(long)]
        trust: Vec<PathBuf>,
        /// Most non-valid entries to print.
        #[arg(long, default_value_t = 10_000)]
        max_entries: u32,
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
        /// Port on 127.0.0.1 (0: any free port).
        #[arg(long, default_value_t = 8471)]
        port: u16,
        /// Serve plain HTTP instead of HTTPS (for clients that cannot be given the test
        /// authority's TLS root).
        #[arg(long)]
        plain_http: bool,
    },
    /// Fetch the status of every credential in the wallet and update their states.
    Refresh {
        /// Trust this TLS root (DER) for the status servers, e.g. a test authority's
        /// tls-root.der (default: the platform's roots).
        #[arg(long)]
        tls_root: Vec<PathBuf>,
    },
}

/// Status list token encodings.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenFormat {
    /// JWT.
    Jwt,
    /// CWT.
    Cwt,
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

/// The stored token of the list at `path` in the authority `dir`, with its media type.
fn status_list_response(dir: &Path, path: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let found = state_file(dir, &format!("/{path}")).ok().and_then(|file| {
        ["jwt", "cwt"].into_iter().find_map(|ext| {
            std::fs::read(file.with_extension(ext))
                .ok()
                .map(|body| (format!("application/statuslist+{ext}"), body))
        })
    });
    match found {
        Some((content_type, body)) => {
            ([(axum::http::header::CONTENT_TYPE, content_type)], body).into_response()
        }
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
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
    let cwt = state["format"].as_str() == Some("cwt");
    let token = authority.status_list_token(
        state["uri"].as_str().unwrap_or_default().to_string(),
        state["size"].as_u64().unwrap_or(0),
        statuses,
        if cwt {
            StatusListFormat::Cwt
        } else {
            StatusListFormat::Jwt
        },
        u32::try_from(state["ttl"].as_u64().unwrap_or(300)).unwrap_or(300),
    )?;
    std::fs::create_dir_all(file.parent().unwrap_or(Path::new(".")))?;
    std::fs::write(file, serde_json::to_vec_pretty(state).unwrap_or_default())?;
    let (fresh, stale) = if cwt { ("cwt", "jwt") } else { ("jwt", "cwt") };
    std::fs::write(file.with_extension(fresh), &token)?;
    let _ = std::fs::remove_file(file.with_extension(stale));
    Ok(token)
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
            format,
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
            let format = if *format == TokenFormat::Cwt {
                "cwt"
            } else {
                "jwt"
            };
            let state = json!({ "uri": uri, "size": size, "ttl": ttl, "format": format, "statuses": BTreeMap::<String, u8>::new() });
            let token = sign_and_store(issuer, &file, &state)?;
            say(
                cli,
                json!({ "uri": uri, "size": size, "format": format, "token_bytes": token.len() }),
                format!(
                    "published {uri} ({size} entries, all valid; a {} {format} token)",
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
        StatusAction::Serve {
            issuer,
            port,
            plain_http,
        } => {
            let runtime = runtime()?;
            let identity = if *plain_http {
                None
            } else {
                Some(TestAuthority::load(load_material(issuer)?, None)?.tls_server_identity()?)
            };
            let dir = issuer.clone();
            let router = axum::Router::new().route(
                "/{*path}",
                axum::routing::get(
                    move |axum::extract::Path(path): axum::extract::Path<String>| {
                        let dir = dir.clone();
                        async move { status_list_response(&dir, &path) }
                    },
                ),
            );
            let server = serve(&runtime, router, *port, identity.as_ref())?;
            eprintln!(
                "serving status lists of {} on {}",
                issuer.display(),
                server.base_url
            );
            runtime.block_on(std::future::pending::<()>());
            Ok(())
        }
        StatusAction::Decode {
            token,
            uri,
            issuer,
            trust,
            max_entries,
        } => {
            let mut roots = Vec::new();
            if let Some(dir) = issuer {
                roots.push(crate::authority_dir::root_of(
                    dir,
                    TrustRole::StatusListIssuer,
                )?);
            }
            for path in trust {
                roots.push(
                    std::fs::read(path)
                        .map_err(|e| CliError::from(format!("reading {}: {e}", path.display())))?,
                );
            }
            let bytes = std::fs::read(token)
                .map_err(|e| CliError::from(format!("reading {}: {e}", token.display())))?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                .unwrap_or(0);
            let list = decode_status_list(bytes, uri.clone(), roots, now, *max_entries)?;
            let entries: Vec<serde_json::Value> = list
                .not_valid
                .iter()
                .map(|e| json!({ "index": e.index, "status": e.status }))
                .collect();
            let mut text = format!(
                "{} — {} entries of {} bit(s), signed by {}, issued {}{}; {} not valid{}",
                list.subject,
                list.size,
                list.bits,
                list.signer,
                list.issued_at,
                list.expires_at
                    .map(|e| format!(", expires {e}"))
                    .unwrap_or_default(),
                list.not_valid.len(),
                if list.truncated { " (truncated)" } else { "" }
            );
            for e in &list.not_valid {
                let word = match e.status {
                    1 => "invalid (revoked)",
                    2 => "suspended",
                    _ => "not valid (application-specific or reserved)",
                };
                text.push_str(&format!("\n  {}: {} {word}", e.index, e.status));
            }
            say(
                cli,
                json!({
                    "subject": list.subject, "signer": list.signer, "issued_at": list.issued_at,
                    "expires_at": list.expires_at, "ttl": list.ttl, "bits": list.bits,
                    "size": list.size, "not_valid": entries, "truncated": list.truncated,
                }),
                text,
            );
            Ok(())
        }
        StatusAction::Refresh { tls_root } => {
            let wallet = open(&wallet_path(cli), false)?;
            unlock(&wallet)?;
            let roots = tls_root
                .iter()
                .map(|p| crate::context::read(p))
                .collect::<Result<Vec<_>>>()?;
            let client = std::sync::Arc::new(CliHttpClient::new(&roots)?);
            let report = runtime()?.block_on(wallet.refresh_status(client))?;
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
