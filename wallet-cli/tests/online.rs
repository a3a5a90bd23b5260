//! Online presentation end to end: `jigap serve verifier` (the OpenID4VP 1.0 test relying
//! party, over HTTPS on 127.0.0.1 with the test authority's TLS certificate) and the wallet
//! answering it with `jigap present URL` as a user runs it — an mDL and an e-certificate, by
//! `direct_post` and `direct_post.jwt`, credential sets, transaction data — and every refusal
//! on either side. Where a test must stand between the wallet and the verifier (to replay the
//! wallet's answer to another request) the wallet is driven through the API instead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wallet_core::{
    HttpClient, HttpHeader, HttpMethod, HttpRequest, HttpResponse, MdlClaims, QueryChoice,
    TestAuthority, TrustRole, Wallet, WalletConfig, WalletError,
};

const PASSPHRASE: &str = "online presentation test passphrase";
const MDL: &str = "org.iso.18013.5.1.mDL";
const ABSTRACT: &str = "urn:jigap:cert:resident-registration-abstract:1";

fn jigap() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jigap"));
    cmd.env_remove("JIGAP_PIN")
        .env_remove("JIGAP_NEW_PIN")
        .env_remove("JIGAP_WALLET")
        .env("JIGAP_PASSPHRASE", PASSPHRASE);
    cmd
}

/// A test authority directory, made by `jigap issuer init`.
fn authority() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = jigap()
        .args(["issuer", "init", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
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

/// A running `jigap serve verifier`, stopped when dropped.
struct Verifier {
    child: Child,
    /// Its standard output after the startup line: one JSON line per verified response.
    lines: BufReader<ChildStdout>,
    /// The startup line.
    started: Value,
    base: String,
    admin: String,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Drop for Verifier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
struct Reply {
    status: u16,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Verifier {
    fn start(authority: &Path, extra: &[&str]) -> Self {
        let mut child = jigap()
            .args(["--json", "serve", "verifier", "--issuer"])
            .arg(authority)
            .args(["--exit-after", "300"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        lines.read_line(&mut line).unwrap();
        let started: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{e}: the startup line {line:?}"));
        Verifier {
            child,
            lines,
            base: started["base_url"].as_str().unwrap().to_owned(),
            admin: started["admin_token"].as_str().unwrap().to_owned(),
            started,
            client: tls_client(&std::fs::read(authority.join("tls-root.der")).unwrap()),
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap(),
        }
    }

    fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        self.runtime.block_on(async {
            let response = request.send().await.unwrap();
            Reply {
                status: response.status().as_u16(),
                body: response.bytes().await.unwrap().to_vec(),
            }
        })
    }

    fn get(&self, url: &str) -> Reply {
        self.send(self.client.get(url))
    }

    /// A new request through the admin API.
    fn request(&self, body: Value) -> Value {
        let reply = self.send(
            self.client
                .post(format!("{}/admin/requests", self.base))
                .bearer_auth(&self.admin)
                .header("Content-Type", "application/json")
                .body(body.to_string()),
        );
        assert_eq!(reply.status, 201, "{}", reply.text());
        reply.json()
    }

    /// What became of a request.
    fn result(&self, request_id: &str) -> Value {
        let reply = self.send(
            self.client
                .get(format!("{}/admin/results/{request_id}", self.base))
                .bearer_auth(&self.admin),
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    }

    /// The next verified response the server printed.
    fn printed(&mut self) -> Value {
        let mut line = String::new();
        self.lines.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
    }
}

/// A wallet file driven through `jigap`.
struct CliWallet {
    dir: tempfile::TempDir,
    authority: PathBuf,
}

impl CliWallet {
    /// A new wallet trusting the authority's roots of `roles`.
    fn new(authority: &Path, roles: &[&str]) -> Self {
        let wallet = CliWallet {
            dir: tempfile::tempdir().unwrap(),
            authority: authority.to_owned(),
        };
        wallet.ok(&["init"]);
        for role in roles {
            let root = authority.join(format!("{role}-root.der"));
            wallet.ok(&["trust", "add", "--role", role, root.to_str().unwrap()]);
        }
        wallet
    }

    /// A wallet trusting the authority's relying parties (unless `trust_relying_parties` is
    /// false) and issuers, holding an mDL and a resident registration abstract; with their ids.
    fn holding_an_mdl_and_a_certificate(
        authority: &Path,
        trust_relying_parties: bool,
    ) -> (Self, String, String) {
        let mut roles = vec!["mdoc-issuer", "sd-jwt-issuer"];
        if trust_relying_parties {
            roles.push("relying-party");
        }
        let wallet = CliWallet::new(authority, &roles);
        let path = wallet.path();
        let issuer = authority.to_str().unwrap();
        let holder = path.to_str().unwrap();
        let mdl = wallet.json(&[
            "issue",
            "mdl",
            "--issuer",
            issuer,
            "--holder",
            holder,
            "--family-name",
            "홍",
            "--given-name",
            "길동",
            "--birth-date",
            "1990-05-05",
        ]);
        let certificate = wallet.json(&[
            "issue",
            "e-certificate",
            "--issuer",
            issuer,
            "--holder",
            holder,
            "--type",
            "resident-abstract",
            "--claims",
            r#"{"name":"홍길동","resident_registration_number":"900505-1234567","birth_date":"1990-05-05","address":{"region":"서울특별시","locality":"종로구"}}"#,
        ]);
        (
            wallet,
            mdl["id"].as_str().unwrap().to_owned(),
            certificate["id"].as_str().unwrap().to_owned(),
        )
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("w.jigap")
    }

    fn run(&self, args: &[&str]) -> Output {
        jigap()
            .arg("--wallet")
            .arg(self.path())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(self.ok(&all).trim()).unwrap()
    }

    /// `jigap present URL --tls-root ... --approve APPROVE` (with `--json` when `json`).
    fn present(&self, url: &str, approve: &str, json: bool) -> Output {
        let tls = self.authority.join("tls-root.der");
        let mut args = vec![];
        if json {
            args.push("--json");
        }
        args.extend_from_slice(&[
            "present",
            url,
            "--tls-root",
            tls.to_str().unwrap(),
            "--approve",
            approve,
        ]);
        self.run(&args)
    }

    /// Presents and expects success; the `--json` outcome.
    fn answer(&self, url: &str, approve: &str) -> Value {
        let out = self.present(url, approve, true);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Presents and expects failure; the error on stderr.
    fn refused(&self, url: &str, approve: &str) -> String {
        let out = self.present(url, approve, false);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "expected a refusal: {stderr}");
        stderr
    }
}

/// The paths and values of a verified credential's claims, as `path=value` strings.
fn claims(credential: &Value) -> Vec<String> {
    let mut all: Vec<String> = credential["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let path: Vec<&str> = c["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect();
            format!("{}={}", path.join("/"), c["value"])
        })
        .collect();
    all.sort();
    all
}

#[test]
fn an_mdl_and_an_e_certificate_by_direct_post_jwt_and_by_direct_post() {
    let authority = authority();
    let (wallet, mdl_id, cert_id) =
        CliWallet::holding_an_mdl_and_a_certificate(authority.path(), true);
    let mut verifier = Verifier::start(
        authority.path(),
        &["--request", "mdl:age_over_19,family_name"],
    );
    assert!(verifier.started["client_id"]
        .as_str()
        .unwrap()
        .starts_with("x509_hash:"));

    // The request made at startup, encrypted (direct_post.jwt is the default).
    let first = &verifier.started["requests"][0];
    let request_id = first["request_id"].as_str().unwrap().to_owned();
    let outcome = wallet.answer(first["wallet_uri"].as_str().unwrap(), "all");
    assert_eq!(
        outcome["presented"],
        json!([{"query_id": "q0", "credential_id": mdl_id,
                "claims": ["org.iso.18013.5.1/age_over_19", "org.iso.18013.5.1/family_name"],
                "withheld": []}])
    );
    let redirect = outcome["redirect_uri"].as_str().unwrap().to_owned();
    assert!(
        redirect.starts_with(&format!(
            "{}/done/{request_id}?response_code=",
            verifier.base
        )),
        "{redirect}"
    );
    // The server printed it as it arrived, and reports it.
    let printed = verifier.printed();
    assert_eq!(printed["request_id"], request_id.as_str());
    assert_eq!(printed["status"], "verified");
    let result = verifier.result(&request_id);
    assert_eq!(result["status"], "verified", "{result}");
    assert_eq!(result["error"], Value::Null);
    assert_eq!(result["result"], printed["result"]);
    let credential = &result["result"]["credentials"][0];
    assert_eq!(credential["doc_type"], MDL);
    assert_eq!(credential["format"], "mso_mdoc");
    assert_eq!(
        claims(credential),
        [
            "org.iso.18013.5.1/age_over_19=true",
            "org.iso.18013.5.1/family_name=\"홍\""
        ]
    );
    // The redirect leads to the result, for the holder of the response code only.
    let page = verifier.get(&redirect);
    assert_eq!(page.status, 200);
    assert!(page.text().contains("age_over_19"), "{}", page.text());
    let without_code = verifier.get(&format!("{}/done/{request_id}", verifier.base));
    assert_eq!(without_code.status, 404);
    let wrong_code = verifier.get(&format!(
        "{}/done/{request_id}?response_code=guess",
        verifier.base
    ));
    assert_eq!(wrong_code.status, 404);

    // Each format by each response mode, through the admin API.
    for mode in ["direct_post.jwt", "direct_post"] {
        for (spec, id, doc_type, expected) in [
            (
                "mdl:age_over_19",
                &mdl_id,
                MDL,
                vec!["org.iso.18013.5.1/age_over_19=true".to_string()],
            ),
            (
                "resident-abstract:name,address.locality",
                &cert_id,
                ABSTRACT,
                // The address object is disclosed to reach its locality, which is all of it
                // that shows.
                vec![
                    "address/locality=\"종로구\"".to_string(),
                    "address={\"locality\":\"종로구\"}".to_string(),
                    "name=\"홍길동\"".to_string(),
                ],
            ),
        ] {
            let made = verifier.request(json!({"request": [spec], "response_mode": mode}));
            assert_eq!(made["client_id"], verifier.started["client_id"]);
            let outcome = wallet.answer(made["wallet_uri"].as_str().unwrap(), &format!("q0={id}"));
            assert!(outcome["redirect_uri"].is_string(), "{outcome}");
            let result = verifier.result(made["request_id"].as_str().unwrap());
            assert_eq!(result["status"], "verified", "{mode} {spec}: {result}");
            let credential = &result["result"]["credentials"][0];
            assert_eq!(credential["doc_type"], doc_type);
            assert_eq!(claims(credential), expected, "only what was asked");
            verifier.printed();
        }
    }

    // Both at once, with a transaction to authorize, answered in text mode: the request is
    // shown on stderr, what was presented on stdout.
    let made = verifier.request(json!({
        "request": ["mdl:age_over_19", "resident-abstract:name"],
        "transaction_data": [{"type": "account_opening", "credential_ids": ["q1"],
                              "product": "자유적금"}],
    }));
    let out = wallet.present(made["wallet_uri"].as_str().unwrap(), "all", false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{stderr}\n{}",
        verifier.result(made["request_id"].as_str().unwrap())
    );
    assert!(
        stderr.contains("verified: CN=Jigap Test Relying Party"),
        "{stderr}"
    );
    assert!(
        stderr.contains("org.iso.18013.5.1/age_over_19 (만 19세 이상, Aged 19 or over) = true"),
        "{stderr}"
    );
    assert!(
        stderr.contains("/name (성명, Name) = \"홍길동\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("transaction to authorize: account_opening (with q1)"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("presented {mdl_id} for q0")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("presented {cert_id} for q1: /name")),
        "{stdout}"
    );
    let result = verifier.result(made["request_id"].as_str().unwrap());
    assert_eq!(
        result["result"]["credentials"].as_array().unwrap().len(),
        2,
        "{result}"
    );

    // A restricted identifier asked by a relying party without a legal basis for it, which
    // also accepts the name alone: the name goes, the number stays, and the output says why.
    let made = verifier.request(json!({"dcql": {"credentials": [{
        "id": "abstract", "format": "dc+sd-jwt", "meta": {"vct_values": [ABSTRACT]},
        "claims": [{"id": "name", "path": ["name"]},
                   {"id": "rrn", "path": ["resident_registration_number"]}],
        "claim_sets": [["name", "rrn"], ["name"]]}]}}));
    let outcome = wallet.answer(made["wallet_uri"].as_str().unwrap(), "all");
    assert_eq!(
        outcome["presented"],
        json!([{"query_id": "abstract", "credential_id": cert_id, "claims": ["/name"],
                "withheld": [{"path": "/resident_registration_number",
                              "reason": "restricted identifier"}]}])
    );
    let result = verifier.result(made["request_id"].as_str().unwrap());
    let credential = &result["result"]["credentials"][0];
    assert_eq!(
        claims(credential),
        vec!["name=\"홍길동\"".to_string()],
        "{result}"
    );
}

#[test]
fn credential_sets_answered_with_the_second_option_for_an_x509_san_dns_client() {
    let authority = authority();
    let (wallet, _, cert_id) = CliWallet::holding_an_mdl_and_a_certificate(authority.path(), true);
    // A resident registration card, or else an abstract: the wallet holds only the latter.
    let dcql = json!({
        "credentials": [
            {"id": "card", "format": "mso_mdoc",
             "meta": {"doctype_value": "kr.jigap.mdoc.resident-registration.1"},
             "claims": [{"path": ["kr.jigap.mdoc.resident-registration.1", "name_ko"]}]},
            {"id": "abstract", "format": "dc+sd-jwt", "meta": {"vct_values": [ABSTRACT]},
             "claims": [{"path": ["name"]}, {"path": ["birth_date"]}]}
        ],
        "credential_sets": [{"options": [["card"], ["abstract"]]}]
    });
    let file = authority.path().join("query.json");
    std::fs::write(&file, dcql.to_string()).unwrap();
    let verifier = Verifier::start(
        authority.path(),
        &[
            "--client-id",
            "x509-san-dns",
            "--response-mode",
            "direct_post",
            "--dcql",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(verifier.started["client_id"], "x509_san_dns:localhost");
    assert!(
        verifier.base.starts_with("https://localhost:"),
        "{}",
        verifier.base
    );
    // The query from the file at startup, and the same through the admin API.
    let made = verifier.request(json!({ "dcql": dcql }));
    assert!(made["request_uri"]
        .as_str()
        .unwrap()
        .starts_with("https://localhost:"));
    for (request_id, wallet_uri) in [
        (
            &verifier.started["requests"][0]["request_id"],
            &verifier.started["requests"][0]["wallet_uri"],
        ),
        (&made["request_id"], &made["wallet_uri"]),
    ] {
        let outcome = wallet.answer(wallet_uri.as_str().unwrap(), "all");
        assert_eq!(
            outcome["presented"],
            json!([{"query_id": "abstract", "credential_id": cert_id,
                    "claims": ["/name", "/birth_date"], "withheld": []}])
        );
        let result = verifier.result(request_id.as_str().unwrap());
        assert_eq!(result["status"], "verified", "{result}");
        let credentials = result["result"]["credentials"].as_array().unwrap();
        assert_eq!(credentials.len(), 1);
        assert_eq!(credentials[0]["query_id"], "abstract");
        assert_eq!(
            claims(&credentials[0]),
            ["birth_date=\"1990-05-05\"", "name=\"홍길동\""]
        );
    }
}

#[test]
fn the_wallet_refuses_an_untrusted_relying_party_a_wrong_client_id_an_expired_and_a_replayed_request(
) {
    let authority = authority();
    let (wallet, _, _) = CliWallet::holding_an_mdl_and_a_certificate(authority.path(), true);
    let verifier = Verifier::start(authority.path(), &[]);
    let ask = |body: Value| verifier.request(body);

    // A wallet that does not trust the authority's relying parties.
    let stranger = CliWallet::new(authority.path(), &["mdoc-issuer"]);
    let made = ask(json!({"request": ["mdl:age_over_19"]}));
    let stderr = stranger.refused(made["wallet_uri"].as_str().unwrap(), "all");
    assert!(stderr.contains("UntrustedRelyingParty"), "{stderr}");
    assert_eq!(
        verifier.result(made["request_id"].as_str().unwrap())["status"],
        "pending",
        "nothing was sent to an untrusted relying party"
    );

    // A client id prefix the wallet does not support: refused before anything is fetched, so
    // the real request is still there to answer.
    let made = ask(json!({"request": ["mdl:age_over_19"]}));
    let request_uri = made["request_uri"].as_str().unwrap();
    let decentralized = format!(
        "openid4vp://?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", "decentralized_identifier:did:example:1")
            .append_pair("request_uri", request_uri)
            .finish()
    );
    let stderr = wallet.refused(&decentralized, "all");
    assert!(stderr.contains("InvalidClient"), "{stderr}");
    wallet.answer(made["wallet_uri"].as_str().unwrap(), "all");
    assert_eq!(
        verifier.result(made["request_id"].as_str().unwrap())["status"],
        "verified"
    );

    // A client id outside the request object that is not the one inside it.
    let made = ask(json!({"request": ["mdl:age_over_19"]}));
    let mismatched = format!(
        "openid4vp://?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", "x509_san_dns:localhost")
            .append_pair("request_uri", made["request_uri"].as_str().unwrap())
            .finish()
    );
    let stderr = wallet.refused(&mismatched, "all");
    assert!(
        stderr.contains("the client_id outside and inside the request object differ"),
        "{stderr}"
    );

    // An expired request: the object is still served once, and the wallet checks `exp`.
    let made = ask(json!({"request": ["mdl:age_over_19"], "lifetime": 1}));
    std::thread::sleep(std::time::Duration::from_secs(2));
    let stderr = wallet.refused(made["wallet_uri"].as_str().unwrap(), "all");
    assert!(stderr.contains("ExpiredRequest"), "{stderr}");
    let result = verifier.result(made["request_id"].as_str().unwrap());
    assert_eq!(result["status"], "failed");
    assert!(
        result["error"].as_str().unwrap().contains("expired"),
        "{result}"
    );

    // A request URI used once already (someone else fetched it): 404, and the wallet says so.
    let made = ask(json!({"request": ["mdl:age_over_19"]}));
    let request_uri = made["request_uri"].as_str().unwrap();
    assert_eq!(verifier.get(request_uri).status, 200);
    assert_eq!(verifier.get(request_uri).status, 404);
    let stderr = wallet.refused(made["wallet_uri"].as_str().unwrap(), "all");
    assert!(stderr.contains("HTTP 404"), "{stderr}");
}

#[test]
fn an_unanswerable_query_is_declined_and_a_declined_request_recorded() {
    let authority = authority();
    let (wallet, _, _) = CliWallet::holding_an_mdl_and_a_certificate(authority.path(), true);
    let verifier = Verifier::start(authority.path(), &["--response-mode", "direct_post"]);

    // Nothing answers: the wallet exits non-zero with the reason and tells the verifier.
    let made = verifier.request(json!({"request": ["resident-card:name_ko"]}));
    let stderr = wallet.refused(made["wallet_uri"].as_str().unwrap(), "all");
    assert!(
        stderr.contains("cannot answer this request")
            && stderr.contains("holds no kr.jigap.mdoc.resident-registration.1"),
        "{stderr}"
    );
    assert!(stderr.contains("the relying party was told no"), "{stderr}");
    let result = verifier.result(made["request_id"].as_str().unwrap());
    assert_eq!(result["status"], "declined", "{result}");
    assert_eq!(result["result"], Value::Null);

    // Without --approve and without a terminal to ask, nothing is sent.
    let made = verifier.request(json!({"request": ["mdl:age_over_19"]}));
    let out = wallet.run(&[
        "present",
        made["wallet_uri"].as_str().unwrap(),
        "--tls-root",
        authority.path().join("tls-root.der").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no terminal to ask"));
    assert_eq!(
        verifier.result(made["request_id"].as_str().unwrap())["status"],
        "pending"
    );

    // The citizen says no.
    let made = verifier.request(json!({"request": ["mdl:age_over_19"]}));
    let outcome = wallet.answer(made["wallet_uri"].as_str().unwrap(), "none");
    assert_eq!(outcome, json!({"declined": true}));
    assert_eq!(
        verifier.result(made["request_id"].as_str().unwrap())["status"],
        "declined"
    );

    // The admin API wants its token, and a query.
    let reply = verifier.send(
        verifier
            .client
            .post(format!("{}/admin/requests", verifier.base))
            .bearer_auth("not-the-token")
            .header("Content-Type", "application/json")
            .body(json!({"request": ["mdl:age_over_19"]}).to_string()),
    );
    assert_eq!(reply.status, 401);
    let reply = verifier.send(
        verifier
            .client
            .post(format!("{}/admin/requests", verifier.base))
            .bearer_auth(&verifier.admin)
            .header("Content-Type", "application/json")
            .body(json!({"request": ["passport:name"]}).to_string()),
    );
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "invalid_request");
}

/// The wallet side through the API, for a test that must keep what the wallet sent: reqwest
/// with the test root, every POST body kept.
struct Recording {
    client: reqwest::Client,
    bodies: Mutex<Vec<Vec<u8>>>,
}

#[async_trait::async_trait]
impl HttpClient for Recording {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, WalletError> {
        let method = match request.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => {
                self.bodies.lock().unwrap().push(request.body.clone());
                reqwest::Method::POST
            }
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
        Ok(HttpResponse {
            status,
            content_type,
            headers,
            body: response.bytes().await.unwrap().to_vec(),
        })
    }
}

/// The test authority's material, read from its directory the way `jigap` writes it.
fn material(dir: &Path) -> wallet_core::AuthorityMaterial {
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    wallet_core::AuthorityMaterial {
        roles: TrustRole::ALL
            .into_iter()
            .map(|role| wallet_core::RoleMaterial {
                role,
                root_certificate: read(&format!("{}-root.der", role.name())),
                root_key: read(&format!("{}-root.key", role.name())),
                certificate: read(&format!("{}.der", role.name())),
                key: read(&format!("{}.key", role.name())),
            })
            .collect(),
        tls_root_certificate: read("tls-root.der"),
        tls_root_key: read("tls-root.key"),
        tls_certificate: read("tls.der"),
        tls_key: read("tls.key"),
    }
}

#[test]
fn an_answer_delivered_for_another_request_or_twice_is_refused() {
    let authority = authority();
    let verifier = Verifier::start(authority.path(), &["--response-mode", "direct_post"]);
    let issuing = TestAuthority::load(material(authority.path()), None).unwrap();
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
    for role in [TrustRole::MdocIssuer, TrustRole::RelyingParty] {
        wallet
            .add_trust_anchor(role, issuing.root_certificate(role).unwrap())
            .unwrap();
    }
    let key = wallet.create_device_key().unwrap();
    let mdl = issuing
        .issue_mdl(
            key.public_key,
            MdlClaims {
                family_name: "홍".into(),
                given_name: "길동".into(),
                birth_date: "1990-05-05".into(),
                document_number: "11-23-456789-01".into(),
                issuing_authority: "경찰청".into(),
                portrait: vec![0xff, 0xd8, 0xff, 0xd9],
                vehicle_categories: vec!["B".into()],
                valid_days: 365,
                status: None,
            },
        )
        .unwrap();
    let mdl_id = wallet.add_mdoc(mdl, key.alias).unwrap();
    let http = Arc::new(Recording {
        client: tls_client(&std::fs::read(authority.path().join("tls-root.der")).unwrap()),
        bodies: Mutex::new(Vec::new()),
    });

    // The wallet answers one request, and the answer verifies.
    let answered = verifier.request(json!({"request": ["mdl:age_over_19"]}));
    verifier.runtime.block_on(async {
        let session = wallet
            .clone()
            .start_online_presentation(
                answered["wallet_uri"].as_str().unwrap().to_owned(),
                http.clone(),
            )
            .await
            .unwrap();
        session
            .respond(vec![QueryChoice {
                query_id: "q0".into(),
                credential_ids: vec![mdl_id.clone()],
            }])
            .await
            .unwrap();
    });
    let answered_id = answered["request_id"].as_str().unwrap();
    assert_eq!(verifier.result(answered_id)["status"], "verified");
    let body = http.bodies.lock().unwrap().pop().unwrap();

    // The same answer delivered for another request (another nonce and state): 400, and that
    // request has failed.
    let other = verifier.request(json!({"request": ["mdl:age_over_19"]}));
    let other_id = other["request_id"].as_str().unwrap();
    let post = |request_id: &str| {
        verifier.send(
            verifier
                .client
                .post(format!("{}/response/{request_id}", verifier.base))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body.clone()),
        )
    };
    let reply = post(other_id);
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.json()["error"], "invalid_request");
    let result = verifier.result(other_id);
    assert_eq!(result["status"], "failed", "{result}");
    assert!(result["error"]
        .as_str()
        .unwrap()
        .contains("another request"));

    // Delivered again for its own request: that one is answered already.
    let reply = post(answered_id);
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(verifier.result(answered_id)["status"], "verified");
}

/// A child process stopped when dropped.
struct Stopped(Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_verifier_reads_status_lists_and_refuses_a_revoked_certificate() {
    let authority = authority();
    let a = authority.path().to_str().unwrap();
    let mut status_server = jigap()
        .args(["status", "serve", "--issuer", a, "--port", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(status_server.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _status_server = Stopped(status_server);
    let base = line.trim().rsplit(' ').next().unwrap().to_string();
    let wallet = CliWallet::new(authority.path(), &["sd-jwt-issuer", "relying-party"]);
    wallet.ok(&[
        "status",
        "publish",
        "--issuer",
        a,
        "--base-url",
        &base,
        "--size",
        "16",
    ]);
    let uri = format!("{base}/lists/1");
    let holder = wallet.path();
    wallet.ok(&[
        "issue",
        "e-certificate",
        "--issuer",
        a,
        "--holder",
        holder.to_str().unwrap(),
        "--type",
        "resident-abstract",
        "--claims",
        r#"{"name":"홍길동"}"#,
        "--status-uri",
        &uri,
        "--status-index",
        "5",
    ]);
    let verifier = Verifier::start(authority.path(), &["--status-uri", &uri]);

    let made = verifier.request(json!({"request": ["resident-abstract:name"]}));
    wallet.answer(made["wallet_uri"].as_str().unwrap(), "all");
    let result = verifier.result(made["request_id"].as_str().unwrap());
    assert_eq!(result["status"], "verified", "{result}");

    // Revoked at the source: the verifier reads the list again before it verifies.
    wallet.ok(&["status", "revoke", "--issuer", a, "--index", "5"]);
    let made = verifier.request(json!({"request": ["resident-abstract:name"]}));
    let stderr = wallet.refused(made["wallet_uri"].as_str().unwrap(), "all");
    assert!(stderr.contains("HTTP 400"), "{stderr}");
    let result = verifier.result(made["request_id"].as_str().unwrap());
    assert_eq!(result["status"], "failed", "{result}");
    assert!(
        result["error"].as_str().unwrap().contains("Revoked"),
        "{result}"
    );
}

#[test]
fn plain_http_only_when_the_wallet_allows_the_loopback_interface() {
    let authority = authority();
    let (wallet, _, _) = CliWallet::holding_an_mdl_and_a_certificate(authority.path(), true);
    let verifier = Verifier::start(
        authority.path(),
        &[
            "--plain-http",
            "--request",
            "mdl:age_over_19+resident-abstract:name",
            "--transaction-data",
            r#"{"type": "account_opening", "credential_ids": ["q1"]}"#,
        ],
    );
    assert!(verifier.base.starts_with("http://127.0.0.1:"));
    let first = &verifier.started["requests"][0];
    let uri = first["wallet_uri"].as_str().unwrap();
    let stderr = wallet.refused(uri, "all");
    assert!(stderr.contains("not an https URL"), "{stderr}");
    let out = wallet.run(&["present", uri, "--allow-loopback-http", "--approve", "all"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result = verifier.result(first["request_id"].as_str().unwrap());
    assert_eq!(result["status"], "verified", "{result}");
    assert_eq!(
        result["result"]["credentials"].as_array().unwrap().len(),
        2,
        "one request for both credentials: {result}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("transaction to authorize"));
}

#[test]
fn in_text_the_server_prints_each_wallet_uri_with_its_qr_code() {
    let authority = authority();
    let out = jigap()
        .args(["serve", "verifier", "--issuer"])
        .arg(authority.path())
        .args(["--request", "mdl:age_over_19", "--exit-after", "1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("client id: x509_hash:"), "{text}");
    assert!(text.contains("admin token: "), "{text}");
    assert!(text.contains(": openid4vp://?client_id="), "{text}");
    assert!(text.contains('█'), "a QR code: {text}");
}
