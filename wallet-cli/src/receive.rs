//! `jigap receive OFFER` and `jigap pending ...`: online issuance (OpenID4VCI 1.0) into the
//! wallet through the same API a phone uses, with the CLI's HTTP client. Each request is shown
//! on stderr as it happens; `--json` prints the result on stdout.

use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use serde_json::json;
use wallet_core::{HttpClient, IssuanceOptions, IssuanceResult, Wallet, WalletError};

use crate::context::{open_with, read, unlock, wallet_path, CliError, Result};
use crate::http::{progress_client, runtime};
use crate::{secrets, Cli};

/// Receive credentials from an issuer's offer.
#[derive(Args, Debug)]
pub struct ReceiveArgs {
    /// The offer: an `openid-credential-offer://` URI, a file holding one (or the offer's
    /// JSON), or `-` for standard input.
    pub offer: String,
    /// Trust this TLS root (DER) for the issuer's HTTPS, instead of the system's roots (a test
    /// authority's `tls-root.der`).
    #[arg(long)]
    pub tls_root: Vec<PathBuf>,
    /// Accept plain `http://` issuer URLs on 127.0.0.1 (test servers started with
    /// `--plain-http`).
    #[arg(long)]
    pub allow_loopback_http: bool,
    /// Copies of each credential, each bound to its own device key and presented once.
    #[arg(long, default_value_t = 1)]
    pub copies: u32,
    /// A credential this one re-issues: it is replaced (deleted with its keys) when the new
    /// one is stored.
    #[arg(long)]
    pub replaces: Option<String>,
    /// Only these offered configurations (repeatable); default: all.
    #[arg(long = "only")]
    pub only: Vec<String>,
    /// The wallet's OAuth client id.
    #[arg(long, default_value = "jigap-cli")]
    pub client_id: String,
    /// The redirect URI of the authorization code flow; after the browser step, paste the
    /// address the browser was sent to on standard input.
    #[arg(long, default_value = "http://127.0.0.1/jigap/callback")]
    pub redirect_uri: String,
    /// When the issuer defers: keep polling (as often as it asks) for up to this many seconds.
    #[arg(long, default_value_t = 0)]
    pub wait: u64,
}

/// Deferred issuances.
#[derive(Subcommand, Debug)]
pub enum PendingAction {
    /// List deferred issuances.
    List,
    /// Poll one (or every) deferred issuance once, or until ready with `--wait`.
    Poll {
        /// Its id (default: every pending issuance).
        id: Option<String>,
        /// Trust this TLS root (DER) for the issuer's HTTPS.
        #[arg(long)]
        tls_root: Vec<PathBuf>,
        /// Accept plain `http://` issuer URLs on 127.0.0.1.
        #[arg(long)]
        allow_loopback_http: bool,
        /// Keep polling for up to this many seconds.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Give up a deferred issuance (its device keys are deleted).
    Cancel {
        /// Its id.
        id: String,
    },
}

fn offer_text(offer: &str) -> Result<String> {
    if offer == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        return Ok(text.trim().to_owned());
    }
    if offer.contains("://") || offer.trim_start().starts_with('{') {
        return Ok(offer.to_owned());
    }
    let bytes = read(&PathBuf::from(offer))?;
    String::from_utf8(bytes)
        .map(|t| t.trim().to_owned())
        .map_err(|_| CliError::from(format!("{offer} is not text")))
}

fn step(cli: &Cli, text: impl std::fmt::Display) {
    if !cli.json {
        eprintln!("{text}");
    }
}

fn result_json(result: &IssuanceResult) -> serde_json::Value {
    json!({
        "credentials": result.credentials.iter().map(|c| json!({
            "id": c.credential_id,
            "configuration_id": c.configuration_id,
            "doc_type": c.doc_type,
            "name": c.display_name_ko,
            "copies": c.copies,
            "replaced": c.replaced,
        })).collect::<Vec<_>>(),
        "pending": result.pending.iter().map(|p| json!({
            "id": p.id,
            "configuration_id": p.configuration_id,
            "retry_after": p.retry_after,
        })).collect::<Vec<_>>(),
        "warnings": result.warnings,
    })
}

fn report(cli: &Cli, result: &IssuanceResult) {
    if cli.json {
        out!("{}", result_json(result));
        return;
    }
    for c in &result.credentials {
        let copies = if c.copies > 1 {
            format!(", {} copies", c.copies)
        } else {
            String::new()
        };
        let replaced = c
            .replaced
            .as_deref()
            .map(|r| format!(", replacing {r}"))
            .unwrap_or_default();
        out!(
            "stored {} ({}{copies}{replaced}) as {}",
            c.display_name_ko,
            c.doc_type,
            c.credential_id
        );
    }
    for p in &result.pending {
        out!(
            "pending: {} deferred by the issuer, id {} (poll with `jigap pending poll {}`)",
            p.configuration_id,
            p.id,
            p.id
        );
    }
    for w in &result.warnings {
        out!("warning: {w}");
    }
}

/// Polls pending issuance `id` until it is issued or `wait` seconds pass.
async fn poll_until(
    cli: &Cli,
    wallet: &Arc<Wallet>,
    id: &str,
    http: &Arc<dyn HttpClient>,
    wait: u64,
) -> std::result::Result<IssuanceResult, WalletError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait);
    loop {
        let result = wallet
            .clone()
            .poll_pending_issuance(id.to_owned(), http.clone())
            .await?;
        let Some(pending) = result.pending.first() else {
            return Ok(result);
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let delay = u64::try_from(pending.retry_after.saturating_sub(now))
            .unwrap_or(0)
            .max(1);
        if std::time::Instant::now() + std::time::Duration::from_secs(delay) > deadline {
            return Ok(result);
        }
        step(cli, format!("not ready; asking again in {delay} s"));
        tokio::time::sleep(std::time::Duration::from_secs(delay)).await;
    }
}

/// `jigap receive OFFER`.
pub fn receive(cli: &Cli, args: &ReceiveArgs) -> Result<()> {
    let wallet = open_with(&wallet_path(cli), false, args.allow_loopback_http)?;
    unlock(&wallet)?;
    let offer = offer_text(&args.offer)?;
    let http = progress_client(&args.tls_root, cli.json)?;
    let runtime = runtime()?;
    let result = runtime.block_on(async {
        step(
            cli,
            "resolving the offer: the offer, the issuer's and its server's metadata",
        );
        let session = wallet
            .clone()
            .resolve_credential_offer(offer, http.clone(), None)
            .await?;
        let view = session.offer();
        let issuer_name = view
            .issuer_names
            .first()
            .map_or(view.credential_issuer.clone(), |n| n.name.clone());
        step(
            cli,
            format!(
                "{issuer_name} ({}) offers: {}{}",
                view.credential_issuer,
                view.credentials
                    .iter()
                    .map(|c| format!("{} [{}]", c.display_name_ko, c.doc_type))
                    .collect::<Vec<_>>()
                    .join(", "),
                view.metadata_signed_by
                    .as_deref()
                    .map(|s| format!("; metadata signed by {s}"))
                    .unwrap_or_default()
            ),
        );
        let mut tx_code = None;
        if view.pre_authorized {
            if let Some(spec) = &view.tx_code {
                let hint = spec.description.clone().unwrap_or_default();
                step(
                    cli,
                    format!("the issuer asks for a transaction code. {hint}"),
                );
                tx_code = Some(
                    secrets::read("JIGAP_TX_CODE", "transaction code")
                        .map_err(|e| WalletError::InvalidInput { reason: e })?
                        .to_string(),
                );
            }
        } else if view.authorization_code {
            let url = session
                .authorization_url(args.client_id.clone(), args.redirect_uri.clone())
                .await?;
            // The browser step belongs to the user: the URL goes to stderr, the redirect comes
            // back on stdin.
            eprintln!("open this address in a browser and approve:\n{url}");
            eprintln!("then paste the address the browser was sent to:");
            let mut redirect = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut redirect)
                .map_err(|e| WalletError::InvalidInput {
                    reason: format!("reading the redirect: {e}"),
                })?;
            session
                .complete_authorization(redirect.trim().to_owned())
                .await?;
            step(cli, "authorized");
        }
        step(
            cli,
            format!(
                "requesting {} cop{} of each credential with key proofs",
                args.copies,
                if args.copies == 1 { "y" } else { "ies" }
            ),
        );
        let mut result = session
            .accept(IssuanceOptions {
                tx_code,
                client_id: None,
                copies: args.copies,
                replaces: args.replaces.clone(),
                configuration_ids: args.only.clone(),
            })
            .await?;
        if args.wait > 0 {
            let pending = std::mem::take(&mut result.pending);
            for p in pending {
                step(
                    cli,
                    format!("{} is deferred; waiting for it", p.configuration_id),
                );
                let polled = poll_until(cli, &wallet, &p.id, &http, args.wait).await?;
                result.credentials.extend(polled.credentials);
                result.pending.extend(polled.pending);
                result.warnings.extend(polled.warnings);
            }
        }
        Ok::<_, WalletError>(result)
    })?;
    report(cli, &result);
    Ok(())
}

/// `jigap pending ...`.
pub fn pending(cli: &Cli, action: &PendingAction) -> Result<()> {
    match action {
        PendingAction::List => {
            let wallet = open_with(&wallet_path(cli), false, false)?;
            unlock(&wallet)?;
            let pending = wallet.list_pending_issuances()?;
            if cli.json {
                out!(
                    "{}",
                    json!(pending
                        .iter()
                        .map(|p| json!({
                            "id": p.id,
                            "credential_issuer": p.credential_issuer,
                            "configuration_id": p.configuration_id,
                            "doc_type": p.doc_type,
                            "retry_after": p.retry_after,
                        }))
                        .collect::<Vec<_>>())
                );
            } else if pending.is_empty() {
                out!("no pending issuance");
            } else {
                for p in pending {
                    out!(
                        "{}  {}  {}  retry after {}",
                        p.id,
                        p.credential_issuer,
                        p.configuration_id,
                        crate::context::format_time(p.retry_after)
                    );
                }
            }
            Ok(())
        }
        PendingAction::Cancel { id } => {
            let wallet = open_with(&wallet_path(cli), false, false)?;
            unlock(&wallet)?;
            wallet.cancel_pending_issuance(id.clone())?;
            crate::context::say(cli, json!({ "cancelled": id }), format!("cancelled {id}"));
            Ok(())
        }
        PendingAction::Poll {
            id,
            tls_root,
            allow_loopback_http,
            wait,
        } => {
            let wallet = open_with(&wallet_path(cli), false, *allow_loopback_http)?;
            unlock(&wallet)?;
            let http = progress_client(tls_root, cli.json)?;
            let ids: Vec<String> = match id {
                Some(id) => vec![id.clone()],
                None => wallet
                    .list_pending_issuances()?
                    .into_iter()
                    .map(|p| p.id)
                    .collect(),
            };
            let runtime = runtime()?;
            let mut all = IssuanceResult {
                credentials: Vec::new(),
                pending: Vec::new(),
                warnings: Vec::new(),
            };
            for id in ids {
                let polled = runtime.block_on(poll_until(cli, &wallet, &id, &http, *wait))?;
                all.credentials.extend(polled.credentials);
                all.pending.extend(polled.pending);
                all.warnings.extend(polled.warnings);
            }
            report(cli, &all);
            Ok(())
        }
    }
}
