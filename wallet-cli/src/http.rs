//! The CLI's HTTP stack, on maintained crates: `reqwest` (rustls on ring) is the wallet's
//! `HttpClient`, trusting the platform's roots or, when told, a test authority's TLS root; `axum`
//! serves the test servers on 127.0.0.1 — over HTTPS with the test authority's TLS certificate,
//! over plain HTTP only when explicitly asked. The mobile library has no HTTP stack: on a phone
//! the host's own implements `HttpClient`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use wallet_core::{
    HttpClient, HttpHeader, HttpMethod, HttpRequest, HttpResponse, TlsIdentity, WalletError,
};

use crate::context::CliError;

/// Largest response body the client accepts.
const MAX_BODY: usize = 16 * 1024 * 1024;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The CLI's `HttpClient`.
pub struct CliHttpClient {
    client: reqwest::Client,
}

impl CliHttpClient {
    /// A client trusting `tls_roots` (DER) only, or the platform's roots when none are given.
    pub fn new(tls_roots: &[Vec<u8>]) -> Result<Self, CliError> {
        let builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none());
        let builder = if tls_roots.is_empty() {
            // The platform verifier needs a process-wide crypto provider.
            let _ = rustls::crypto::ring::default_provider().install_default();
            builder
        } else {
            let mut roots = rustls::RootCertStore::empty();
            for der in tls_roots {
                roots
                    .add(rustls::pki_types::CertificateDer::from(der.clone()))
                    .map_err(|e| CliError::from(format!("TLS root: {e}")))?;
            }
            let config = rustls::ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map_err(|e| CliError::from(format!("TLS: {e}")))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            builder.tls_backend_preconfigured(config)
        };
        Ok(CliHttpClient {
            client: builder
                .build()
                .map_err(|e| CliError::from(format!("HTTP client: {e}")))?,
        })
    }
}

#[async_trait::async_trait]
impl HttpClient for CliHttpClient {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, WalletError> {
        let failed = |what: String| WalletError::HostCallback { reason: what };
        let method = match request.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
        };
        let mut builder = self.client.request(method, &request.url);
        for h in &request.headers {
            builder = builder.header(&h.name, &h.value);
        }
        if request.method == HttpMethod::Post {
            builder = builder.body(request.body);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| failed(format!("{}: {e}", request.url)))?;
        let status = response.status().as_u16();
        let headers: Vec<HttpHeader> = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some(HttpHeader {
                    name: name.as_str().to_owned(),
                    value: value.to_str().ok()?.to_owned(),
                })
            })
            .collect();
        let content_type = headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("content-type"))
            .map(|h| h.value.clone());
        if response
            .content_length()
            .is_some_and(|len| len > MAX_BODY as u64)
        {
            return Err(failed(format!("{}: response too large", request.url)));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| failed(format!("{}: {e}", request.url)))?;
        if body.len() > MAX_BODY {
            return Err(failed(format!("{}: response too large", request.url)));
        }
        Ok(HttpResponse {
            status,
            content_type,
            headers,
            body: body.to_vec(),
        })
    }
}

/// The CLI's HTTP client as a wallet command uses it, telling the user about every request on
/// stderr (method, address without its query, status and size) unless `quiet`.
pub struct Progress {
    inner: CliHttpClient,
    quiet: bool,
}

#[async_trait::async_trait]
impl HttpClient for Progress {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, WalletError> {
        // Only the address without its query: queries and bodies carry codes and tokens.
        let address = request
            .url
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .to_owned();
        let method = format!("{:?}", request.method).to_uppercase();
        let response = self.inner.send(request).await;
        if !self.quiet {
            match &response {
                Ok(r) => eprintln!(
                    "  {method} {address} → {} ({} bytes)",
                    r.status,
                    r.body.len()
                ),
                Err(e) => eprintln!("  {method} {address} → failed: {e}"),
            }
        }
        response
    }
}

/// A [`Progress`] client trusting the TLS roots in `tls_roots` (DER files), or the
/// platform's roots when none are given.
pub fn progress_client(
    tls_roots: &[std::path::PathBuf],
    quiet: bool,
) -> Result<Arc<dyn HttpClient>, CliError> {
    let roots = tls_roots
        .iter()
        .map(|p| crate::context::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(Progress {
        inner: CliHttpClient::new(&roots)?,
        quiet,
    }))
}

/// A runtime for the CLI's async work.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::from(format!("runtime: {e}")))
}

/// Sends one request from synchronous code.
pub fn fetch(client: &CliHttpClient, request: HttpRequest) -> Result<HttpResponse, CliError> {
    Ok(runtime()?.block_on(client.send(request))?)
}

/// A test server bound to 127.0.0.1: its base URL, and a handle to stop it.
pub struct Server {
    /// `https://127.0.0.1:PORT` (or `http://` when plain).
    pub base_url: String,
    /// Stops the server.
    pub handle: axum_server::Handle<SocketAddr>,
}

/// Serves `router` on 127.0.0.1:`port` (0 for any free port) on `runtime`, over TLS with
/// `identity`, or over plain HTTP when `identity` is `None`.
pub fn serve(
    runtime: &tokio::runtime::Runtime,
    router: axum::Router,
    port: u16,
    identity: Option<&TlsIdentity>,
) -> Result<Server, CliError> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| CliError::from(format!("binding 127.0.0.1:{port}: {e}")))?;
    let address = listener.local_addr()?;
    // Taking the listener into tokio needs the runtime's context.
    let _context = runtime.enter();
    let handle = axum_server::Handle::new();
    let service = router.into_make_service();
    let base_url = match identity {
        Some(identity) => {
            let config = rustls::ServerConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map_err(|e| CliError::from(format!("TLS: {e}")))?
                .with_no_client_auth()
                .with_single_cert(
                    vec![rustls::pki_types::CertificateDer::from(
                        identity.certificate.clone(),
                    )],
                    rustls::pki_types::PrivateKeyDer::Pkcs8(
                        identity.private_key_pkcs8.clone().into(),
                    ),
                )
                .map_err(|e| CliError::from(format!("TLS: {e}")))?;
            let tls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config));
            let server = axum_server::tls_rustls::from_tcp_rustls(listener, tls)
                .map_err(|e| CliError::from(format!("server: {e}")))?
                .handle(handle.clone());
            runtime.spawn(async move {
                let _ = server.serve(service).await;
            });
            format!("https://127.0.0.1:{}", address.port())
        }
        None => {
            let server = axum_server::from_tcp(listener)
                .map_err(|e| CliError::from(format!("server: {e}")))?
                .handle(handle.clone());
            runtime.spawn(async move {
                let _ = server.serve(service).await;
            });
            format!("http://127.0.0.1:{}", address.port())
        }
    };
    Ok(Server { base_url, handle })
}
