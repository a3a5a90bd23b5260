//! `jigap serve verifier`: an OpenID for Verifiable Presentations 1.0 relying party on
//! 127.0.0.1, signing its requests with a test authority's relying-party certificate. It exists
//! so that a wallet's online presentation can be run against a real server: signed request
//! objects by reference (`x509_hash` or `x509_san_dns` client ids), DCQL queries with
//! credential sets and transaction data, `direct_post` and `direct_post.jwt` answers verified
//! by the core's `Openid4vpVerifier` against the authority's IACA, SD-JWT VC issuer root and
//! status list root. Everything is kept in memory.
//!
//! - [`queries`]: the SPEC shorthand for DCQL queries;
//! - [`state`]: what it remembers about each request;
//! - [`routes`]: the request and response endpoints, the result page, the admin API.
//!
//! It never logs a request id, nonce, token or claim: progress lines name counts and kinds
//! only; verified claims go to standard output, which is the operator's.

pub mod queries;
pub mod routes;
pub mod state;

use std::path::PathBuf;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde_json::{json, Value};
use wallet_core::{
    ClientIdScheme, Openid4vpVerifier, Openid4vpVerifierConfig, TestAuthority, TrustRole,
};

use crate::authority_dir::{load_material, TLS_FILES};
use crate::context::{read, CliError, Result};
use crate::http::{runtime, serve, CliHttpClient, Server};
use crate::Cli;
use routes::{
    create_request, DirectPostMode, NewRequest, Settings, Shared, Verified, DEFAULT_LIFETIME,
};

/// The DNS name of the test authority's TLS and relying-party certificates.
pub const LOCALHOST: &str = "localhost";

/// How the client id names the relying party's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientIdArg {
    /// `x509_hash:` the SHA-256 of the signing certificate.
    #[value(name = "x509-hash")]
    X509Hash,
    /// `x509_san_dns:localhost`: the base URL is then `https://localhost:PORT`, the name the
    /// certificate carries.
    #[value(name = "x509-san-dns")]
    X509SanDns,
}

/// `jigap serve verifier` options.
#[derive(Args, Debug)]
pub struct ServeVerifierArgs {
    /// The test authority's directory (from `jigap issuer init`): its relying-party signer
    /// signs requests; its IACA, SD-JWT VC issuer root and status list root are trusted.
    #[arg(long)]
    pub issuer: PathBuf,
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    pub plain_http: bool,
    /// How the client id names the request-signing certificate.
    #[arg(long, value_enum, default_value = "x509-hash")]
    pub client_id: ClientIdArg,
    /// How wallets answer: `direct_post`, or `direct_post.jwt` (encrypted to the request).
    #[arg(long, value_enum, default_value = "direct_post.jwt")]
    pub response_mode: DirectPostMode,
    /// Make a request at startup with this DCQL query (a JSON file). Repeatable.
    #[arg(long = "dcql", value_name = "FILE")]
    pub dcql: Vec<PathBuf>,
    /// Make a request at startup: a SPEC (`mdl:age_over_19,family_name`,
    /// `resident-card:name_ko`, `resident-abstract:name,address.locality`), or several joined
    /// by `+` for one request of several credentials. Repeatable (after the --dcql ones).
    #[arg(long = "request", value_name = "SPEC")]
    pub requests: Vec<String>,
    /// Transaction data (a JSON object with `type` and `credential_ids`) for every startup
    /// request. Repeatable.
    #[arg(long = "transaction-data", value_name = "JSON")]
    pub transaction_data: Vec<String>,
    /// Fetch this status list before each verification (trusting the authority's TLS root),
    /// so that credentials pointing to it can be checked. Repeatable.
    #[arg(long = "status-uri", value_name = "URI")]
    pub status_uris: Vec<String>,
    /// Stop after this many seconds (default: serve until interrupted).
    #[arg(long)]
    pub exit_after: Option<u64>,
}

/// A verifier running in this process.
pub struct Running {
    /// Its state (requests are made with [`routes::create_request`]).
    pub shared: Arc<Shared>,
    /// The server and its stop handle (its base URL names 127.0.0.1, whatever the client id).
    pub server: Server,
}

/// Starts a verifier signing with `authority`'s relying-party key on 127.0.0.1:`port` (0:
/// any free port), over HTTPS with the authority's TLS certificate unless `plain_http`.
pub fn start(
    runtime: &tokio::runtime::Runtime,
    authority: &TestAuthority,
    settings: Settings,
    client_id: ClientIdArg,
    port: u16,
    plain_http: bool,
) -> Result<Running> {
    let verifier = Openid4vpVerifier::new(Openid4vpVerifierConfig {
        signing_certificate_chain: vec![authority.signer_certificate(TrustRole::RelyingParty)?],
        signing_key: authority.signer_key(TrustRole::RelyingParty)?,
        client_id_scheme: match client_id {
            ClientIdArg::X509Hash => ClientIdScheme::X509Hash,
            ClientIdArg::X509SanDns => ClientIdScheme::X509SanDns {
                dns_name: LOCALHOST.into(),
            },
        },
        iaca_certificates: vec![authority.root_certificate(TrustRole::MdocIssuer)?],
        sd_jwt_issuer_certificates: vec![authority.root_certificate(TrustRole::SdJwtIssuer)?],
        status_list_certificates: vec![authority.root_certificate(TrustRole::StatusListIssuer)?],
        clock: None,
        max_key_binding_age_seconds: 300,
        clock_skew_seconds: 60,
    })?;
    let status_client = CliHttpClient::new(&[authority.tls_root_certificate()])?;
    let identity = if plain_http {
        None
    } else {
        Some(authority.tls_server_identity()?)
    };
    let shared = Arc::new(Shared::new(verifier, settings, status_client)?);
    let server = serve(
        runtime,
        routes::router(shared.clone()),
        port,
        identity.as_ref(),
    )?;
    // An x509_san_dns client must answer at the name its certificate carries.
    let base_url = match client_id {
        ClientIdArg::X509Hash => server.base_url.clone(),
        ClientIdArg::X509SanDns => server.base_url.replacen("127.0.0.1", LOCALHOST, 1),
    };
    shared.set_base_url(base_url);
    Ok(Running { shared, server })
}

/// The startup requests: one per `--dcql` file, then one per `--request`.
fn startup_requests(args: &ServeVerifierArgs) -> Result<Vec<NewRequest>> {
    let transaction_data = args
        .transaction_data
        .iter()
        .map(|t| {
            serde_json::from_str::<Value>(t)
                .ok()
                .filter(Value::is_object)
                .ok_or_else(|| CliError::from(format!("--transaction-data {t}: not a JSON object")))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut dcqls = Vec::new();
    for file in &args.dcql {
        let text = read(file)?;
        dcqls.push(
            serde_json::from_slice::<Value>(&text)
                .map_err(|e| CliError::from(format!("{}: {e}", file.display())))?,
        );
    }
    for spec in &args.requests {
        let specs: Vec<String> = spec.split('+').map(str::to_owned).collect();
        dcqls.push(
            queries::dcql_of_specs(&specs)
                .map_err(|e| CliError::from(format!("--request: {e}")))?,
        );
    }
    Ok(dcqls
        .into_iter()
        .map(|dcql| NewRequest {
            dcql,
            response_mode: None,
            transaction_data: transaction_data.clone(),
            lifetime: DEFAULT_LIFETIME,
        })
        .collect())
}

/// A verified response as text: one block per credential, with its claims.
fn verified_text(verified: &Verified) -> String {
    let mut lines = vec![format!(
        "verified response to request {}:",
        verified.request_id
    )];
    for credential in verified.result["credentials"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let text = |name: &str| credential[name].as_str().unwrap_or_default().to_owned();
        lines.push(format!(
            "  {}: {} ({}) from {}",
            text("query_id"),
            text("doc_type"),
            text("format"),
            text("issuer")
        ));
        for claim in credential["claims"].as_array().into_iter().flatten() {
            let path: Vec<&str> = claim["path"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            lines.push(format!("    ✓ {} = {}", path.join("/"), claim["value"]));
        }
    }
    lines.join("\n")
}

/// `jigap serve verifier`.
pub fn run(cli: &Cli, args: &ServeVerifierArgs) -> Result<()> {
    let requests = startup_requests(args)?;
    let authority = TestAuthority::load(load_material(&args.issuer)?, None)?;
    let settings = Settings {
        response_mode: args.response_mode,
        status_uris: args.status_uris.clone(),
        quiet: false,
    };
    let runtime = runtime()?;
    let Running { shared, server } = start(
        &runtime,
        &authority,
        settings,
        args.client_id,
        args.port,
        args.plain_http,
    )?;
    if !args.status_uris.is_empty() {
        runtime
            .block_on(shared.refresh_status_lists())
            .map_err(CliError::from)?;
    }
    let mut created = Vec::with_capacity(requests.len());
    for request in requests {
        created.push(create_request(&shared, request).map_err(|e| CliError::from(e.to_string()))?);
    }
    let (sender, verified) = std::sync::mpsc::channel();
    shared.report_to(sender);
    let base_url = shared
        .base_url()
        .map_err(|e| CliError::from(e.to_string()))?
        .to_owned();
    let client_id = shared.verifier.client_id();
    if cli.json {
        let requests: Vec<Value> = created
            .iter()
            .map(|c| json!({ "request_id": c.request_id, "wallet_uri": c.wallet_uri }))
            .collect();
        out!(
            "{}",
            json!({
                "base_url": base_url,
                "admin_token": shared.admin_token(),
                "client_id": client_id,
                "requests": requests,
            })
        );
    } else {
        out!("OpenID4VP test verifier at {base_url}");
        out!("  client id: {client_id}");
        if !args.plain_http {
            out!(
                "  wallets trust the TLS root {}",
                args.issuer.join(TLS_FILES[0]).display()
            );
        }
        out!("  admin token: {}", shared.admin_token());
        for c in &created {
            out!("request {}: {}", c.request_id, c.wallet_uri);
            match crate::qr::terminal(&c.wallet_uri) {
                Ok(qr) => out!("{qr}"),
                Err(e) => out!("  (no QR code: {e})"),
            }
        }
        out!("serving; Ctrl-C to stop");
    }
    let print = |v: Verified| {
        if cli.json {
            out!(
                "{}",
                json!({ "request_id": v.request_id, "status": "verified", "result": v.result })
            );
        } else {
            out!("{}", verified_text(&v));
        }
    };
    match args.exit_after {
        Some(seconds) => {
            let deadline = Instant::now() + Duration::from_secs(seconds);
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match verified.recv_timeout(left) {
                    Ok(v) => print(v),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => {
                        std::thread::sleep(left);
                        break;
                    }
                }
            }
        }
        None => {
            for v in verified.iter() {
                print(v);
            }
            runtime.block_on(std::future::pending::<()>());
        }
    }
    server.handle.shutdown();
    Ok(())
}
