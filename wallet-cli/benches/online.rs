//! The online flows over loopback, and where their time goes: an OpenID4VCI pre-authorized
//! issuance of an mDL from `jigap serve issuer`, and an OpenID4VP presentation of it to
//! `jigap serve verifier` (both over HTTPS on 127.0.0.1, the verifier checking the answer
//! before it replies). The wallet is the core through its API with a file-backed store; its
//! `HttpClient` (reqwest on rustls) keeps the time spent waiting on HTTP, so each flow splits
//! into the round trips (network, TLS, the server's work) and the wallet's own work (parsing,
//! checks, keys, signatures, the store and its record).
//!
//! Run: `cargo bench -p wallet-cli --bench online` (results in BENCHMARKS.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wallet_core::{
    HttpClient, HttpHeader, HttpMethod, HttpRequest, HttpResponse, IssuanceOptions, QueryChoice,
    TrustRole, Wallet, WalletConfig, WalletError,
};

const ROUNDS: usize = 30;

fn jigap() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jigap"));
    cmd.env("JIGAP_PASSPHRASE", "online bench passphrase");
    cmd
}

fn tls_client(root: &[u8]) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(root.to_vec()))
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A running `jigap serve …`, stopped when dropped.
struct Server {
    child: Child,
    base: String,
    admin: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(kind: &str, authority: &Path) -> Self {
        let mut child = jigap()
            .args(["--json", "serve", kind, "--issuer"])
            .arg(authority)
            .args(["--exit-after", "600"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let started: Value = serde_json::from_str(&line).unwrap();
        // The server prints a line per verified answer: keep reading, so it never writes
        // into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        Server {
            child,
            base: started["base_url"].as_str().unwrap().to_owned(),
            admin: started["admin_token"].as_str().unwrap().to_owned(),
        }
    }

    async fn admin(&self, client: &reqwest::Client, path: &str, body: Value) -> Value {
        let response = client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.admin)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
    }
}

/// The wallet's `HttpClient`, keeping the time spent in HTTP and the number of requests.
struct Timed {
    client: reqwest::Client,
    spent: Mutex<Duration>,
    requests: AtomicUsize,
}

impl Timed {
    fn take(&self) -> (Duration, usize) {
        let spent = std::mem::take(&mut *self.spent.lock().unwrap());
        (spent, self.requests.swap(0, Ordering::SeqCst))
    }
}

#[async_trait::async_trait]
impl HttpClient for Timed {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, WalletError> {
        let started = Instant::now();
        let method = match request.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
        };
        let mut builder = self.client.request(method, &request.url);
        for h in &request.headers {
            builder = builder.header(&h.name, &h.value);
        }
        let response =
            builder
                .body(request.body)
                .send()
                .await
                .map_err(|e| WalletError::HostCallback {
                    reason: e.to_string(),
                })?;
        let status = response.status().as_u16();
        let headers: Vec<HttpHeader> = response
            .headers()
            .iter()
            .map(|(n, v)| HttpHeader {
                name: n.to_string(),
                value: v.to_str().unwrap_or_default().to_owned(),
            })
            .collect();
        let content_type = headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("content-type"))
            .map(|h| h.value.clone());
        let body = response
            .bytes()
            .await
            .map_err(|e| WalletError::HostCallback {
                reason: e.to_string(),
            })?
            .to_vec();
        *self.spent.lock().unwrap() += started.elapsed();
        self.requests.fetch_add(1, Ordering::SeqCst);
        Ok(HttpResponse {
            status,
            content_type,
            headers,
            body,
        })
    }
}

/// Median, fastest and slowest of `samples`, in milliseconds.
fn summary(samples: &mut [f64]) -> String {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    format!(
        "{:.2} ms | {:.2}–{:.2} ms",
        samples[samples.len() / 2],
        samples[0],
        samples[samples.len() - 1]
    )
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let authority = dir.path().join("authority");
    let out = jigap()
        .args(["issuer", "init", "--dir"])
        .arg(&authority)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let issuer = Server::start("issuer", &authority);
    let verifier = Server::start("verifier", &authority);
    let tls_root = std::fs::read(authority.join("tls-root.der")).unwrap();
    let admin = tls_client(&tls_root);
    let http = Arc::new(Timed {
        client: tls_client(&tls_root),
        spent: Mutex::new(Duration::ZERO),
        requests: AtomicUsize::new(0),
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    println!("| flow | median | fastest–slowest |");
    println!("|---|---:|---:|");
    // Once with the store in a file (as on a phone), once in memory: the difference is what
    // the store's writes (and their record) cost.
    for (label, path) in [
        ("store in a file", Some(dir.path().join("bench.jigap"))),
        ("store in memory", None),
    ] {
        let wallet = Wallet::open_blocking(WalletConfig {
            path: path.map(|p| p.to_string_lossy().into_owned()),
            create_if_missing: true,
            key_protector: wallet_core::passphrase_key_protector_with_cost("bench".into(), 10_000)
                .unwrap(),
            secure_area: None,
            clock: None,
            listener: None,
            allow_loopback_http: false,
        })
        .unwrap();
        for (role, file) in [
            (TrustRole::MdocIssuer, "mdoc-issuer-root.der"),
            (TrustRole::RelyingParty, "relying-party-root.der"),
        ] {
            wallet
                .add_trust_anchor(role, std::fs::read(authority.join(file)).unwrap())
                .unwrap();
        }
        flows(label, &wallet, &runtime, &issuer, &verifier, &admin, &http);
    }
}

/// Both flows, `ROUNDS` times each after one to warm up, printed as table rows.
fn flows(
    label: &str,
    wallet: &Arc<Wallet>,
    runtime: &tokio::runtime::Runtime,
    issuer: &Server,
    verifier: &Server,
    admin: &reqwest::Client,
    http: &Arc<Timed>,
) {
    // OpenID4VCI: offer (made through the issuer's admin API, not timed), then the wallet
    // resolves it and accepts it with the transaction code.
    let (mut total, mut waiting, mut own) = (Vec::new(), Vec::new(), Vec::new());
    let mut requests = 0;
    let mut mdl_id = String::new();
    for round in 0..=ROUNDS {
        let offer = offer_mdl(runtime, issuer, admin);
        http.take();
        let started = Instant::now();
        let result = receive(wallet, runtime, http, &offer);
        let elapsed = started.elapsed();
        let (spent, count) = http.take();
        assert_eq!(result.credentials.len(), 1);
        // Only the newest is kept, so that the presentation below finds one mDL.
        if !mdl_id.is_empty() {
            wallet.delete_credential(mdl_id.clone()).unwrap();
        }
        mdl_id = result.credentials[0].credential_id.clone();
        if round == 0 {
            continue; // warms the connections and every lazily built table
        }
        total.push(elapsed.as_secs_f64() * 1e3);
        waiting.push(spent.as_secs_f64() * 1e3);
        own.push((elapsed - spent).as_secs_f64() * 1e3);
        requests = count;
    }
    println!(
        "| OpenID4VCI pre-authorized issuance of an mDL ({label}): whole | {} |",
        summary(&mut total)
    );
    println!(
        "| … waiting on HTTP ({requests} requests, the issuer's work included) | {} |",
        summary(&mut waiting)
    );
    println!("| … the wallet's own work | {} |", summary(&mut own));

    present(label, wallet, runtime, verifier, admin, http, &mdl_id);
    // The same wallet holding 30 more mDLs: every one of them is a candidate to read.
    if label.contains("file") {
        for _ in 0..30 {
            receive(wallet, runtime, http, &offer_mdl(runtime, issuer, admin));
        }
        present(
            &format!("{label}, 31 mDLs held"),
            wallet,
            runtime,
            verifier,
            admin,
            http,
            &mdl_id,
        );
    }
}

/// OpenID4VP, `ROUNDS` times after one to warm up: a signed request by reference for the mDL's
/// age_over_19 and family name, answered with `mdl_id` by direct_post.jwt; the verifier checks
/// the answer before it replies.
fn present(
    label: &str,
    wallet: &Arc<Wallet>,
    runtime: &tokio::runtime::Runtime,
    verifier: &Server,
    admin: &reqwest::Client,
    http: &Arc<Timed>,
    mdl_id: &str,
) {
    let mut requests = 0;
    let (mut total, mut waiting, mut own) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..=ROUNDS {
        let made = runtime.block_on(verifier.admin(
            admin,
            "/admin/requests",
            json!({"request": ["mdl:age_over_19,family_name"],
                   "response_mode": "direct_post.jwt"}),
        ));
        http.take();
        let started = Instant::now();
        let outcome = runtime.block_on(async {
            let session = wallet
                .clone()
                .start_online_presentation(
                    made["wallet_uri"].as_str().unwrap().to_owned(),
                    http.clone(),
                )
                .await
                .unwrap();
            let view = session.request();
            let query = &view.queries[0];
            session
                .respond(vec![QueryChoice {
                    query_id: query.query_id.clone(),
                    credential_ids: vec![mdl_id.to_owned()],
                }])
                .await
                .unwrap()
        });
        let elapsed = started.elapsed();
        let (spent, count) = http.take();
        assert!(outcome.redirect_uri.is_some());
        if round == 0 {
            continue;
        }
        total.push(elapsed.as_secs_f64() * 1e3);
        waiting.push(spent.as_secs_f64() * 1e3);
        own.push((elapsed - spent).as_secs_f64() * 1e3);
        requests = count;
    }
    println!(
        "| OpenID4VP presentation of the mDL, 2 elements, direct_post.jwt ({label}): whole | {} |",
        summary(&mut total)
    );
    println!(
        "| … waiting on HTTP ({requests} requests, the verifier's checks included) | {} |",
        summary(&mut waiting)
    );
    println!("| … the wallet's own work | {} |", summary(&mut own));
}

/// A new offer of an mDL, through the issuer's admin API (not timed).
fn offer_mdl(runtime: &tokio::runtime::Runtime, issuer: &Server, admin: &reqwest::Client) -> Value {
    runtime.block_on(issuer.admin(
        admin,
        "/admin/offers",
        json!({"configuration_ids": ["mdl"]}),
    ))
}

/// The wallet resolves `offer` and accepts it with its transaction code.
fn receive(
    wallet: &Arc<Wallet>,
    runtime: &tokio::runtime::Runtime,
    http: &Arc<Timed>,
    offer: &Value,
) -> wallet_core::IssuanceResult {
    runtime.block_on(async {
        let session = wallet
            .clone()
            .resolve_credential_offer(
                offer["offer_uri"].as_str().unwrap().to_owned(),
                http.clone(),
                None,
            )
            .await
            .unwrap();
        session
            .accept(IssuanceOptions {
                tx_code: offer["tx_code"].as_str().map(str::to_owned),
                ..IssuanceOptions::default()
            })
            .await
            .unwrap()
    })
}
