//! Online issuance end to end: `jigap serve issuer` (the OpenID4VCI test issuer, over HTTPS on
//! 127.0.0.1 with the test authority's TLS certificate) and the wallet receiving from it —
//! through `jigap receive` as a user runs it, and through the API where a test needs to stand
//! between the wallet and the issuer (a replayed nonce, a credential for another key).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wallet_core::{
    HttpClient, HttpHeader, HttpMethod, HttpRequest, HttpResponse, IssuanceFailure,
    IssuanceOptions, TestAuthority, TrustRole, VerificationFailure, Wallet, WalletConfig,
    WalletError,
};

const PASSPHRASE: &str = "issuance test passphrase";

fn jigap() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jigap"));
    cmd.env_remove("JIGAP_PIN")
        .env_remove("JIGAP_NEW_PIN")
        .env_remove("JIGAP_WALLET")
        .env_remove("JIGAP_TX_CODE")
        .env("JIGAP_PASSPHRASE", PASSPHRASE);
    cmd
}

/// A running `jigap serve issuer`, stopped when dropped.
struct Issuer {
    child: Child,
    base: String,
    admin: String,
    dir: PathBuf,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

impl Issuer {
    fn start(dir: &Path, extra: &[&str]) -> Self {
        if !dir.join("tls-root.der").exists() {
            let out = jigap()
                .args(["issuer", "init", "--dir"])
                .arg(dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let mut child = jigap()
            .args(["--json", "serve", "issuer", "--issuer"])
            .arg(dir)
            .args(["--exit-after", "300"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let started: Value = serde_json::from_str(&line).unwrap();
        Issuer {
            child,
            base: started["base_url"].as_str().unwrap().to_owned(),
            admin: started["admin_token"].as_str().unwrap().to_owned(),
            dir: dir.to_owned(),
            client: tls_client(&std::fs::read(dir.join("tls-root.der")).unwrap()),
            runtime: tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap(),
        }
    }

    /// A new offer through the admin API.
    fn offer(&self, body: Value) -> Value {
        self.runtime.block_on(async {
            let response = self
                .client
                .post(format!("{}/admin/offers", self.base))
                .bearer_auth(&self.admin)
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 201);
            serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
        })
    }

    fn events(&self) -> Value {
        self.runtime.block_on(async {
            let response = self
                .client
                .get(format!("{}/admin/events", self.base))
                .bearer_auth(&self.admin)
                .send()
                .await
                .unwrap();
            serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
        })
    }

    fn root(&self, role: &str) -> PathBuf {
        self.dir.join(format!("{role}-root.der"))
    }

    fn tls_root(&self) -> PathBuf {
        self.dir.join("tls-root.der")
    }

    /// The browser step: open the authorization page, press "approve" (or "deny"), and
    /// return where the server sends the browser.
    fn browse(&self, url: &str, decision: &str) -> String {
        self.runtime.block_on(async {
            let page = self.client.get(url).send().await.unwrap();
            assert_eq!(page.status().as_u16(), 200);
            let html = page.text().await.unwrap();
            let marker = "name=\"request_uri\" value=\"";
            let start = html.find(marker).expect("a request_uri field") + marker.len();
            let request_uri = &html[start..start + html[start..].find('"').unwrap()];
            let answer = self
                .client
                .post(format!("{}/authorize", self.base))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(
                    form_urlencoded::Serializer::new(String::new())
                        .append_pair("request_uri", request_uri)
                        .append_pair("decision", decision)
                        .finish(),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status().as_u16(), 303);
            answer.headers()["location"].to_str().unwrap().to_owned()
        })
    }
}

/// A wallet file driven through `jigap`.
struct CliWallet {
    dir: tempfile::TempDir,
}

impl CliWallet {
    fn new(issuer: &Issuer, roles: &[(&str, &str)]) -> Self {
        let wallet = CliWallet {
            dir: tempfile::tempdir().unwrap(),
        };
        wallet.ok(&["init"], &[]);
        for (role, file) in roles {
            wallet.ok(
                &[
                    "trust",
                    "add",
                    "--role",
                    role,
                    issuer.root(file).to_str().unwrap(),
                ],
                &[],
            );
        }
        wallet
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = jigap();
        cmd.arg("--wallet")
            .arg(self.dir.path().join("w.jigap"))
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(args, env)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.run(args, env);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str], env: &[(&str, &str)]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(self.ok(&all, env).trim()).unwrap()
    }

    fn receive(&self, issuer: &Issuer, offer: &Value, extra: &[&str]) -> Value {
        let uri = offer["offer_uri"].as_str().unwrap();
        let tls = issuer.tls_root();
        let mut args = vec!["receive", uri, "--tls-root", tls.to_str().unwrap()];
        args.extend_from_slice(extra);
        let code = offer["tx_code"].as_str().unwrap_or_default().to_owned();
        self.json(&args, &[("JIGAP_TX_CODE", &code)])
    }

    fn credentials(&self) -> Vec<Value> {
        self.json(&["credentials", "list"], &[])["items"]
            .as_array()
            .unwrap()
            .clone()
    }
}

const MDOC: (&str, &str) = ("mdoc-issuer", "mdoc-issuer");
const SD_JWT: (&str, &str) = ("sd-jwt-issuer", "sd-jwt-issuer");

#[test]
fn pre_authorized_mdl_and_e_certificate_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = Issuer::start(dir.path(), &[]);
    let wallet = CliWallet::new(&issuer, &[MDOC, SD_JWT]);
    let offer = issuer.offer(json!({"configuration_ids": ["mdl", "resident-abstract"]}));
    assert_eq!(offer["tx_code"].as_str().unwrap().len(), 6);
    let result = wallet.receive(&issuer, &offer, &[]);
    let types: Vec<&str> = result["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["doc_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "org.iso.18013.5.1.mDL",
            "urn:jigap:cert:resident-registration-abstract:1"
        ]
    );
    assert_eq!(wallet.credentials().len(), 2);
    // The issuer heard back for each.
    let events = issuer.events();
    let accepted = events["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["event"] == "credential_accepted")
        .count();
    assert_eq!(accepted, 2, "{events}");
    // The received certificate presents with key binding and verifies.
    let id = result["credentials"][1]["id"].as_str().unwrap();
    let presented = wallet.ok(
        &[
            "present",
            "e-certificate",
            "--id",
            id,
            "--claims",
            "/name",
            "--aud",
            "https://bank.example",
            "--nonce",
            "n-1",
        ],
        &[],
    );
    assert!(presented.trim().contains('~'));
}

#[test]
fn authorization_code_with_a_scripted_browser() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = Issuer::start(dir.path(), &[]);
    let wallet = CliWallet::new(&issuer, &[MDOC]);
    let offer = issuer.offer(json!({"configuration_ids": ["mdl"], "grant": "authorization_code"}));
    let tls = issuer.tls_root();
    let mut child = wallet
        .command(
            &[
                "--json",
                "receive",
                offer["offer_uri"].as_str().unwrap(),
                "--tls-root",
                tls.to_str().unwrap(),
            ],
            &[],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The wallet prints the address to open; the browser step happens here.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no authorization URL"
        );
        if line.starts_with("https://") {
            break line.trim().to_owned();
        }
    };
    assert!(
        url.starts_with(&format!("{}/authorize?", issuer.base)),
        "{url}"
    );
    assert!(url.contains("request_uri="), "pushed (PAR): {url}");
    let redirect = issuer.browse(&url, "approve");
    assert!(
        redirect.starts_with("http://127.0.0.1/jigap/callback?code="),
        "{redirect}"
    );
    writeln!(child.stdin.take().unwrap(), "{redirect}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        result["credentials"][0]["doc_type"],
        "org.iso.18013.5.1.mDL"
    );

    // Denying in the browser is a typed refusal, and nothing is stored.
    let offer = issuer.offer(json!({"configuration_ids": ["mdl"], "grant": "authorization_code"}));
    let mut child = wallet
        .command(
            &[
                "receive",
                offer["offer_uri"].as_str().unwrap(),
                "--tls-root",
                tls.to_str().unwrap(),
            ],
            &[],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0);
        if line.starts_with("https://") {
            break line.trim().to_owned();
        }
    };
    let redirect = issuer.browse(&url, "deny");
    writeln!(child.stdin.take().unwrap(), "{redirect}").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(!child.wait().unwrap().success());
    assert!(rest.contains("AccessDenied"), "{rest}");
    assert_eq!(wallet.credentials().len(), 1);
}

#[test]
fn a_batch_is_one_credential_whose_copies_are_each_presented_once() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = Issuer::start(dir.path(), &[]);
    let wallet = CliWallet::new(&issuer, &[SD_JWT]);
    let offer = issuer.offer(json!({"configuration_ids": ["resident-abstract"]}));
    let result = wallet.receive(&issuer, &offer, &["--copies", "3"]);
    assert_eq!(result["credentials"][0]["copies"], 3);
    let listed = wallet.credentials();
    assert_eq!(listed.len(), 1, "one logical credential");
    assert_eq!(listed[0]["copies"], json!({"total": 3, "unused": 3}));
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let present = |nonce: &str| {
        wallet.run(
            &[
                "present",
                "e-certificate",
                "--id",
                &id,
                "--claims",
                "/name",
                "--aud",
                "https://bank.example",
                "--nonce",
                nonce,
            ],
            &[],
        )
    };
    let mut shown = std::collections::BTreeSet::new();
    for n in 0..3 {
        let out = present(&format!("n{n}"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Each presentation is a different copy: a different issuer signature.
        let text = String::from_utf8(out.stdout).unwrap();
        shown.insert(text.split('~').next().unwrap().to_owned());
    }
    assert_eq!(shown.len(), 3, "three distinct copies");
    let fourth = present("n3");
    assert!(!fourth.status.success());
    assert!(String::from_utf8_lossy(&fourth.stderr).contains("every copy"));
    assert_eq!(
        wallet.credentials()[0]["copies"],
        json!({"total": 3, "unused": 0})
    );
}

#[test]
fn deferred_issuance_is_polled_until_ready() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = Issuer::start(dir.path(), &[]);
    let wallet = CliWallet::new(&issuer, &[MDOC]);
    let offer = issuer.offer(json!({"configuration_ids": ["mdl"], "deferred_seconds": 2}));
    let result = wallet.receive(&issuer, &offer, &[]);
    assert_eq!(result["credentials"], json!([]));
    let pending = result["pending"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(wallet.json(&["pending", "list"], &[])[0]["id"], pending);
    assert!(wallet.credentials().is_empty());
    let tls = issuer.tls_root();
    let polled = wallet.json(
        &[
            "pending",
            "poll",
            &pending,
            "--tls-root",
            tls.to_str().unwrap(),
            "--wait",
            "30",
        ],
        &[],
    );
    assert_eq!(
        polled["credentials"][0]["doc_type"],
        "org.iso.18013.5.1.mDL"
    );
    assert_eq!(wallet.json(&["pending", "list"], &[]), json!([]));
    assert_eq!(wallet.credentials().len(), 1);
}

#[test]
fn a_refresh_replaces_its_predecessor() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = Issuer::start(dir.path(), &[]);
    let wallet = CliWallet::new(&issuer, &[MDOC]);
    let first = wallet.receive(
        &issuer,
        &issuer.offer(json!({"configuration_ids": ["mdl"]})),
        &[],
    );
    let old = first["credentials"][0]["id"].as_str().unwrap().to_owned();
    let second = wallet.receive(
        &issuer,
        &issuer.offer(json!({"configuration_ids": ["mdl"]})),
        &["--replaces", &old],
    );
    assert_eq!(second["credentials"][0]["replaced"], old.as_str());
    let listed = wallet.credentials();
    assert_eq!(listed.len(), 1);
    assert_ne!(listed[0]["id"], old.as_str());
    assert!(!wallet
        .run(&["credentials", "show", &old], &[])
        .status
        .success());
}

/// Rewrites a response on its way to the wallet (a faulty or hostile issuer).
type Hook = Box<dyn FnMut(&HttpRequest, HttpResponse) -> HttpResponse + Send>;

/// The HttpClient of the API-level tests: reqwest with the test root, and a hook that may
/// rewrite a response.
struct Http {
    client: reqwest::Client,
    hook: Mutex<Option<Hook>>,
}

#[async_trait::async_trait]
impl HttpClient for Http {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, WalletError> {
        let method = match request.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
        };
        let mut builder = self.client.request(method, &request.url);
        for h in &request.headers {
            builder = builder.header(&h.name, &h.value);
        }
        let response = builder
            .body(request.body.clone())
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
        let body = response.bytes().await.unwrap().to_vec();
        let response = HttpResponse {
            status,
            content_type,
            headers,
            body,
        };
        Ok(match self.hook.lock().unwrap().as_mut() {
            Some(hook) => hook(&request, response),
            None => response,
        })
    }
}

fn api_wallet(issuer: &Issuer, trusted: bool) -> Arc<Wallet> {
    let wallet = Wallet::open_blocking(WalletConfig {
        path: None,
        create_if_missing: true,
        key_protector: wallet_core::passphrase_key_protector_with_cost(PASSPHRASE.into(), 10_000)
            .unwrap(),
        secure_area: None,
        clock: None,
        listener: None,
        allow_loopback_http: false,
    })
    .unwrap();
    if trusted {
        wallet
            .add_trust_anchor(
                TrustRole::MdocIssuer,
                std::fs::read(issuer.root("mdoc-issuer")).unwrap(),
            )
            .unwrap();
    }
    wallet
}

fn http(issuer: &Issuer) -> Arc<Http> {
    Arc::new(Http {
        client: tls_client(&std::fs::read(issuer.tls_root()).unwrap()),
        hook: Mutex::new(None),
    })
}

fn receive(
    issuer: &Issuer,
    wallet: &Arc<Wallet>,
    http: &Arc<Http>,
    offer: &Value,
    tx_code: Option<&str>,
) -> Result<wallet_core::IssuanceResult, WalletError> {
    issuer.runtime.block_on(async {
        let session = wallet
            .clone()
            .resolve_credential_offer(
                offer["offer_uri"].as_str().unwrap().to_owned(),
                http.clone(),
                None,
            )
            .await?;
        session
            .accept(IssuanceOptions {
                tx_code: tx_code.map(str::to_owned),
                ..IssuanceOptions::default()
            })
            .await
    })
}

fn issuance_failure(result: Result<wallet_core::IssuanceResult, WalletError>) -> IssuanceFailure {
    match result {
        Err(WalletError::Issuance { failure, .. }) => failure,
        other => panic!("expected an issuance failure, got {other:?}"),
    }
}

#[test]
fn wrong_code_expired_offer_and_untrusted_issuer_are_typed_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = Issuer::start(dir.path(), &[]);
    let http = http(&issuer);
    let wallet = api_wallet(&issuer, true);
    let count = |w: &Wallet| w.list_credentials(Default::default(), 0, 10).unwrap().total;

    // A wrong transaction code.
    let offer = issuer.offer(json!({"configuration_ids": ["mdl"]}));
    let code = offer["tx_code"].as_str().unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(
        issuance_failure(receive(&issuer, &wallet, &http, &offer, Some(wrong))),
        IssuanceFailure::InvalidGrant
    );
    // None at all, when one is asked for: refused before anything is sent.
    assert_eq!(
        issuance_failure(receive(&issuer, &wallet, &http, &offer, None)),
        IssuanceFailure::InvalidRequest
    );

    // An expired offer: its pre-authorized code is dead.
    let offer = issuer.offer(json!({"configuration_ids": ["mdl"], "expires_in": 1}));
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(
        issuance_failure(receive(
            &issuer,
            &wallet,
            &http,
            &offer,
            offer["tx_code"].as_str()
        )),
        IssuanceFailure::InvalidGrant
    );
    // An expired offer by reference cannot even be fetched.
    let offer =
        issuer.offer(json!({"configuration_ids": ["mdl"], "expires_in": 1, "by_reference": true}));
    assert!(offer["offer_uri"]
        .as_str()
        .unwrap()
        .contains("credential_offer_uri="));
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(
        issuance_failure(receive(
            &issuer,
            &wallet,
            &http,
            &offer,
            offer["tx_code"].as_str()
        )),
        IssuanceFailure::InvalidOffer
    );
    assert_eq!(count(&wallet), 0);

    // An issuer the wallet does not trust: refused after receipt, before storage, and the
    // issuer is told.
    let stranger = api_wallet(&issuer, false);
    let offer = issuer.offer(json!({"configuration_ids": ["mdl"]}));
    match receive(&issuer, &stranger, &http, &offer, offer["tx_code"].as_str()) {
        Err(WalletError::Verification { failure, .. }) => {
            assert!(
                matches!(
                    failure,
                    VerificationFailure::UntrustedIssuer | VerificationFailure::CertificateChain
                ),
                "{failure:?}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(count(&stranger), 0);
    let events = issuer.events();
    assert!(
        events["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["event"] == "credential_failure"),
        "{events}"
    );
}

#[test]
fn a_reused_nonce_and_a_credential_for_another_key_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = Issuer::start(dir.path(), &[]);
    let http = http(&issuer);
    let wallet = api_wallet(&issuer, true);

    // A first issuance, remembering the nonce it used.
    let seen: Arc<Mutex<Option<HttpResponse>>> = Arc::new(Mutex::new(None));
    let keep = seen.clone();
    *http.hook.lock().unwrap() = Some(Box::new(move |request, response| {
        if request.url.ends_with("/nonce") {
            *keep.lock().unwrap() = Some(response.clone());
        }
        response
    }));
    let offer = issuer.offer(json!({"configuration_ids": ["mdl"]}));
    receive(&issuer, &wallet, &http, &offer, offer["tx_code"].as_str()).unwrap();

    // Then every nonce answer replaced by that spent one: the issuer refuses the proofs, the
    // wallet asks for a fresh nonce once, gets the spent one again, and gives up typed.
    let replay = seen.lock().unwrap().clone().unwrap();
    *http.hook.lock().unwrap() = Some(Box::new(move |request, response| {
        if request.url.ends_with("/nonce") {
            replay.clone()
        } else {
            response
        }
    }));
    let offer = issuer.offer(json!({"configuration_ids": ["mdl"]}));
    assert_eq!(
        issuance_failure(receive(
            &issuer,
            &wallet,
            &http,
            &offer,
            offer["tx_code"].as_str()
        )),
        IssuanceFailure::InvalidNonce
    );

    // An issuer answering with an mDL bound to someone else's key.
    let authority = TestAuthority::load(material(&issuer.dir), None).unwrap();
    let stranger_key = {
        let w = api_wallet(&issuer, false);
        w.create_device_key().unwrap().public_key
    };
    let foreign = authority
        .issue_mdl(
            stranger_key,
            wallet_core::MdlClaims {
                family_name: "홍".into(),
                given_name: "길동".into(),
                birth_date: "1990-05-05".into(),
                document_number: "11-00-000000-00".into(),
                issuing_authority: "경찰청".into(),
                portrait: vec![0xff, 0xd8, 0xff, 0xd9],
                vehicle_categories: vec!["B".into()],
                valid_days: 30,
                status: None,
            },
        )
        .unwrap();
    let encoded =
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &foreign);
    *http.hook.lock().unwrap() = Some(Box::new(move |request, mut response| {
        if request.url.ends_with("/credential") && response.status == 200 {
            response.body = json!({"credentials": [{"credential": encoded}]})
                .to_string()
                .into_bytes();
        }
        response
    }));
    let before = wallet
        .list_credentials(Default::default(), 0, 10)
        .unwrap()
        .total;
    let offer = issuer.offer(json!({"configuration_ids": ["mdl"]}));
    match receive(&issuer, &wallet, &http, &offer, offer["tx_code"].as_str()) {
        Err(WalletError::Verification { failure, .. }) => {
            assert_eq!(failure, VerificationFailure::NotOffered)
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        wallet
            .list_credentials(Default::default(), 0, 10)
            .unwrap()
            .total,
        before
    );
}

/// The test authority's material, read from its directory the way `jigap` writes it.
fn material(dir: &Path) -> wallet_core::AuthorityMaterial {
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    wallet_core::AuthorityMaterial {
        roles: roles()
            .into_iter()
            .map(|(role, name)| wallet_core::RoleMaterial {
                role,
                root_certificate: read(&format!("{name}-root.der")),
                root_key: read(&format!("{name}-root.key")),
                certificate: read(&format!("{name}.der")),
                key: read(&format!("{name}.key")),
            })
            .collect(),
        tls_root_certificate: read("tls-root.der"),
        tls_root_key: read("tls-root.key"),
        tls_certificate: read("tls.der"),
        tls_key: read("tls.key"),
    }
}

fn roles() -> Vec<(TrustRole, &'static str)> {
    vec![
        (TrustRole::MdocIssuer, "mdoc-issuer"),
        (TrustRole::MdocReader, "mdoc-reader"),
        (TrustRole::SdJwtIssuer, "sd-jwt-issuer"),
        (TrustRole::StatusListIssuer, "status-list-issuer"),
        (TrustRole::Sender, "sender"),
        (TrustRole::DataRecipient, "data-recipient"),
        (TrustRole::CatalogPublisher, "catalog-publisher"),
        (TrustRole::IdentityVerifier, "identity-verifier"),
        (TrustRole::IssuerMetadata, "issuer-metadata"),
        (TrustRole::WalletProvider, "wallet-provider"),
        (TrustRole::RelyingParty, "relying-party"),
    ]
}

/// The host platform of a test: key attestations and a client attestation from the test
/// authority's wallet provider, the proof of possession signed with the instance key.
struct Platform {
    authority: Arc<TestAuthority>,
    instance: wallet_core::crypto::ec::SoftwareKey,
    attestation: String,
    calls: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl wallet_core::PlatformAttestation for Platform {
    async fn key_attestation(
        &self,
        public_keys: Vec<Vec<u8>>,
        nonce: Option<String>,
    ) -> Result<Option<String>, WalletError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("keys:{}", public_keys.len()));
        Ok(Some(
            self.authority.sign_key_attestation(public_keys, nonce)?,
        ))
    }

    async fn client_attestation(
        &self,
        audience: String,
    ) -> Result<Option<wallet_core::ClientAttestationPair>, WalletError> {
        self.calls.lock().unwrap().push("client".into());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let pop = wallet_core::issuer::attestation::client_attestation_pop(
            &self.instance,
            "jigap-wallet",
            &audience,
            now,
            None,
        )
        .unwrap();
        Ok(Some(wallet_core::ClientAttestationPair {
            attestation: self.attestation.clone(),
            pop,
        }))
    }
}

#[test]
fn key_and_client_attestations_come_from_the_platform_and_are_passed_through() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = Issuer::start(
        dir.path(),
        &["--require-key-attestation", "--require-client-attestation"],
    );
    let http = http(&issuer);
    let wallet = api_wallet(&issuer, true);
    let authority = TestAuthority::load(material(&issuer.dir), None).unwrap();
    let instance = wallet_core::crypto::ec::SoftwareKey::generate().unwrap();
    let attestation = authority
        .sign_client_attestation("jigap-wallet".into(), instance.public_key().to_vec())
        .unwrap();
    let platform = Arc::new(Platform {
        authority,
        instance,
        attestation,
        calls: Mutex::new(Vec::new()),
    });
    let offer = issuer.offer(json!({"configuration_ids": ["mdl"]}));
    let accept = |platform: Option<Arc<Platform>>, offer: &Value, client_id: Option<&str>| {
        issuer.runtime.block_on(async {
            let session = wallet
                .clone()
                .resolve_credential_offer(
                    offer["offer_uri"].as_str().unwrap().to_owned(),
                    http.clone(),
                    platform.map(|p| p as Arc<dyn wallet_core::PlatformAttestation>),
                )
                .await?;
            assert!(session.offer().credentials[0].key_attestation_required);
            session
                .accept(IssuanceOptions {
                    tx_code: offer["tx_code"].as_str().map(str::to_owned),
                    client_id: client_id.map(str::to_owned),
                    copies: 2,
                    ..IssuanceOptions::default()
                })
                .await
        })
    };
    let result = accept(Some(platform.clone()), &offer, Some("jigap-wallet")).unwrap();
    assert_eq!(result.credentials[0].copies, 2);
    // One client attestation for the token, one key attestation covering both keys.
    assert_eq!(*platform.calls.lock().unwrap(), ["client", "keys:2"]);

    // Without a platform, the server's demand for a client attestation is a typed refusal
    // (and a wallet cannot be anonymous where the server does not allow it).
    let offer = issuer.offer(json!({"configuration_ids": ["mdl"]}));
    assert_eq!(
        issuance_failure(accept(None, &offer, None)),
        IssuanceFailure::InvalidClient
    );
    assert_eq!(
        issuance_failure(accept(None, &offer, Some("jigap-wallet"))),
        IssuanceFailure::InvalidClient
    );
}
