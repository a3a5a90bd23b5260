//! `jigap serve issuer`: an OpenID for Verifiable Credential Issuance 1.0 test issuer that is
//! also its own OAuth authorization server, on 127.0.0.1, signing with a test authority.
//! It exists so that a wallet's issuance client can be run against a real server: metadata
//! (plain and signed), offers with the pre-authorized and authorization code grants, pushed
//! authorization requests with PKCE, nonces, key proofs, batches, deferred issuance,
//! notifications, and optionally key and client attestations. Everything is kept in memory.
//!
//! - [`configurations`]: what it issues, and about whom;
//! - [`state`]: what it remembers, and for how long;
//! - [`routes`]: metadata, offers, the admin API, the JSON errors;
//! - [`oauth`]: `/par`, `/authorize`, `/token`;
//! - [`credential`]: `/nonce`, `/credential`, `/deferred`, `/notification`.
//!
//! It never logs a token, code, nonce or personal data: progress lines name configurations
//! and counts only.

pub mod configurations;
pub mod credential;
pub mod oauth;
pub mod routes;
pub mod state;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use serde_json::json;
use wallet_core::TestAuthority;

use crate::authority_dir::{load_material, TLS_FILES};
use crate::context::{CliError, Result};
use crate::http::{runtime, serve, Server};
use crate::Cli;
use routes::{create_offer, known_configurations, OfferRequest, Settings, Shared};

/// Most proofs one credential request may carry here: the core's bound on a batch
/// (`wallet_core::limits::MAX_BATCH_PROOFS`).
const MAX_BATCH_SIZE: u64 = 16;

/// `jigap serve issuer` options.
#[derive(Args, Debug)]
pub struct ServeIssuerArgs {
    /// The test authority's directory (from `jigap issuer init`).
    #[arg(long)]
    pub issuer: PathBuf,
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    pub plain_http: bool,
    /// Make an offer at startup, pre-authorized with a transaction code: a configuration id
    /// (mdl, resident-card, resident-abstract, family-relation, health-insurance,
    /// tax-payment), or several joined by commas for one offer. Repeatable.
    #[arg(long = "offer", value_name = "SPEC")]
    pub offers: Vec<String>,
    /// Most proofs, and so credentials, in one credential request (1 to 16).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=MAX_BATCH_SIZE))]
    pub batch_size: u64,
    /// Require a key attestation in every key proof.
    #[arg(long)]
    pub require_key_attestation: bool,
    /// Require a client attestation and its proof of possession at /par and /token.
    #[arg(long)]
    pub require_client_attestation: bool,
    /// Give every issued credential an entry in this status list (indexes from 0).
    #[arg(long)]
    pub status_uri: Option<String>,
    /// Stop after this many seconds (default: serve until interrupted).
    #[arg(long)]
    pub exit_after: Option<u64>,
}

/// A test issuer running in this process.
pub struct Running {
    /// Its state (offers are made with [`routes::create_offer`]).
    pub shared: Arc<Shared>,
    /// The server: its base URL (the credential issuer identifier) and its stop handle.
    pub server: Server,
}

/// Starts a test issuer signing with `authority` on 127.0.0.1:`port` (0: any free port),
/// over HTTPS with the authority's TLS certificate unless `plain_http`.
pub fn start(
    runtime: &tokio::runtime::Runtime,
    authority: Arc<TestAuthority>,
    settings: Settings,
    port: u16,
    plain_http: bool,
) -> Result<Running> {
    let identity = if plain_http {
        None
    } else {
        Some(authority.tls_server_identity()?)
    };
    let shared = Arc::new(Shared::new(authority, settings)?);
    let server = serve(
        runtime,
        routes::router(shared.clone()),
        port,
        identity.as_ref(),
    )?;
    shared.set_base_url(server.base_url.clone());
    Ok(Running { shared, server })
}

/// `jigap serve issuer`.
pub fn run(cli: &Cli, args: &ServeIssuerArgs) -> Result<()> {
    let specs: Vec<Vec<String>> = args
        .offers
        .iter()
        .map(|spec| spec.split(',').map(|id| id.trim().to_string()).collect())
        .collect();
    for ids in &specs {
        known_configurations(ids).map_err(|e| CliError::from(format!("--offer: {e}")))?;
    }
    let authority = TestAuthority::load(load_material(&args.issuer)?, None)?;
    let settings = Settings {
        batch_size: usize::try_from(args.batch_size).unwrap_or(1),
        require_key_attestation: args.require_key_attestation,
        require_client_attestation: args.require_client_attestation,
        status_uri: args.status_uri.clone(),
        quiet: false,
    };
    let runtime = runtime()?;
    let Running { shared, server } =
        start(&runtime, authority, settings, args.port, args.plain_http)?;
    let mut offers = Vec::with_capacity(specs.len());
    for ids in specs {
        let offer = create_offer(&shared, OfferRequest::of(ids))
            .map_err(|e| CliError::from(format!("--offer: {e}")))?;
        offers.push(offer);
    }
    let tls_root = (!args.plain_http).then(|| args.issuer.join(TLS_FILES[0]));
    if cli.json {
        let offers: Vec<serde_json::Value> = offers
            .iter()
            .map(|o| json!({ "offer_id": o.offer_id, "offer_uri": o.offer_uri, "tx_code": o.tx_code }))
            .collect();
        out!(
            "{}",
            json!({
                "base_url": server.base_url,
                "admin_token": shared.admin_token(),
                "tls_root": tls_root,
                "offers": offers,
            })
        );
    } else {
        out!("OpenID4VCI test issuer at {}", server.base_url);
        if let Some(root) = &tls_root {
            out!("  clients trust the TLS root {}", root.display());
        }
        out!("  admin token: {}", shared.admin_token());
        for offer in &offers {
            out!(
                "offer of {}: {}",
                offer.offer["credential_configuration_ids"],
                offer.offer_uri
            );
            if let Some(code) = &offer.tx_code {
                out!("  transaction code: {code}");
            }
            match crate::qr::terminal(&offer.offer_uri) {
                Ok(qr) => out!("{qr}"),
                Err(e) => out!("  (no QR code: {e})"),
            }
        }
        out!("serving; Ctrl-C to stop");
    }
    match args.exit_after {
        Some(seconds) => std::thread::sleep(Duration::from_secs(seconds)),
        None => runtime.block_on(std::future::pending::<()>()),
    }
    server.handle.shutdown();
    Ok(())
}
