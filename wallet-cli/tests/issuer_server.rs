//! `jigap serve issuer` as a wallet meets it: the built binary is started with `--json`, its
//! startup line read, and its HTTPS endpoints driven with reqwest trusting only the test
//! authority's TLS root. Key proofs, attestations and the checks of what comes back use the
//! core's own modules (tests may reach them; the CLI may not).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use wallet_core::crypto::ec::SoftwareKey;
use wallet_core::crypto::jose;
use wallet_core::{AuthorityMaterial, RoleMaterial, TestAuthority, TrustRole};

const PRE_AUTHORIZED: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
const REDIRECT: &str = "https://wallet.example/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An HTTP answer.
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
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

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The OAuth error code of an error answer with `status`.
    fn error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.header("cache-control"), Some("no-store"));
        assert!(self
            .header("content-type")
            .unwrap()
            .starts_with("application/json"));
        let body = self.json();
        assert!(body["error_description"].is_string(), "{body}");
        body["error"].as_str().unwrap().to_owned()
    }

    /// A successful JSON answer with `status`.
    fn ok(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        self.json()
    }
}

/// Reads a test authority directory the way the CLI writes it.
fn load_authority(dir: &std::path::Path) -> Arc<TestAuthority> {
    let f = |name: String| std::fs::read(dir.join(name)).unwrap();
    let roles = TrustRole::ALL
        .iter()
        .map(|&role| {
            let name = role.name();
            RoleMaterial {
                role,
                root_certificate: f(format!("{name}-root.der")),
                root_key: f(format!("{name}-root.key")),
                certificate: f(format!("{name}.der")),
                key: f(format!("{name}.key")),
            }
        })
        .collect();
    TestAuthority::load(
        AuthorityMaterial {
            roles,
            tls_root_certificate: f("tls-root.der".into()),
            tls_root_key: f("tls-root.key".into()),
            tls_certificate: f("tls.der".into()),
            tls_key: f("tls.key".into()),
        },
        None,
    )
    .unwrap()
}

/// A running `jigap serve issuer` and a client for it.
struct Server {
    child: Child,
    _dir: tempfile::TempDir,
    base: String,
    admin: String,
    startup: Value,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    authority: Arc<TestAuthority>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn new_authority() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_jigap"))
        .args(["issuer", "init", "--dir"])
        .arg(dir.path().join("authority"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

impl Server {
    fn start(flags: &[&str]) -> Server {
        let dir = new_authority();
        let authority_dir = dir.path().join("authority");
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_jigap"))
            .args(["--json", "serve", "issuer", "--issuer"])
            .arg(&authority_dir)
            .args(["--port", "0", "--exit-after", "300"])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let startup: Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("{e}: startup line {line:?}"));
        let base = startup["base_url"].as_str().unwrap().to_owned();
        assert!(base.starts_with("https://127.0.0.1:"), "{startup}");
        let tls_root = std::fs::read(startup["tls_root"].as_str().unwrap()).unwrap();
        assert_eq!(
            tls_root,
            std::fs::read(authority_dir.join("tls-root.der")).unwrap()
        );
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from(tls_root))
            .unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let authority = load_authority(&authority_dir);
        Server {
            child,
            _dir: dir,
            admin: startup["admin_token"].as_str().unwrap().to_owned(),
            base,
            startup,
            client,
            runtime,
            authority,
        }
    }

    fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        self.runtime.block_on(async {
            let response = request.send().await.unwrap();
            Reply {
                status: response.status().as_u16(),
                headers: response.headers().clone(),
                body: response.bytes().await.unwrap().to_vec(),
            }
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.client.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request)
    }

    fn post_form(&self, path: &str, pairs: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs {
            body.append_pair(name, value);
        }
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.finish());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request)
    }

    fn post_json(&self, path: &str, body: &Value, bearer: Option<&str>) -> Reply {
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(token) = bearer {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        self.send(request)
    }

    /// `POST /admin/offers`.
    fn offer(&self, body: Value) -> Value {
        let admin = self.admin.clone();
        self.post_json("/admin/offers", &body, Some(&admin)).ok(201)
    }

    fn events(&self) -> Value {
        let admin = format!("Bearer {}", self.admin);
        self.get("/admin/events", &[("authorization", &admin)])
            .ok(200)
    }

    /// A pre-authorized token request.
    fn pre_authorized_token(&self, code: &str, tx_code: Option<&str>) -> Reply {
        let mut pairs = vec![
            ("grant_type", PRE_AUTHORIZED),
            ("pre-authorized_code", code),
        ];
        if let Some(tx) = tx_code {
            pairs.push(("tx_code", tx));
        }
        self.post_form("/token", &pairs, &[])
    }

    /// An access token for a new pre-authorized offer of `ids` (no transaction code).
    fn token_for(&self, ids: &[&str], extra: Value) -> String {
        let mut body = json!({ "configuration_ids": ids, "tx_code": false });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let offer = self.offer(body);
        let code = pre_authorized_code(&offer["offer"]);
        let token = self.pre_authorized_token(&code, None).ok(200);
        token["access_token"].as_str().unwrap().to_owned()
    }

    fn nonce(&self) -> String {
        let reply = self.send(self.client.post(self.url("/nonce")));
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        reply.ok(200)["c_nonce"].as_str().unwrap().to_owned()
    }

    fn credential(&self, token: &str, identifier: &str, proofs: &[String]) -> Reply {
        self.post_json(
            "/credential",
            &json!({ "credential_identifier": identifier, "proofs": { "jwt": proofs } }),
            Some(token),
        )
    }
}

fn pre_authorized_code(offer: &Value) -> String {
    offer["grants"][PRE_AUTHORIZED]["pre-authorized_code"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The query parameters of a URI.
fn query(uri: &str) -> Vec<(String, String)> {
    let (_, query) = uri.split_once('?').unwrap();
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn param(uri: &str, name: &str) -> Option<String> {
    query(uri)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// A key proof (`openid4vci-proof+jwt`) by `key` for `audience` and `nonce`.
fn proof(key: &SoftwareKey, audience: &str, nonce: &str) -> String {
    let input =
        wallet_core::issuance::proof::signing_input(key.public_key(), audience, now(), Some(nonce))
            .unwrap();
    jose::compact(&input, &key.sign(input.as_bytes()).unwrap())
}

/// A key proof whose header carries `key_attestation`.
fn attested_proof(key: &SoftwareKey, audience: &str, nonce: &str, attestation: &str) -> String {
    let header = json!({
        "typ": "openid4vci-proof+jwt",
        "alg": "ES256",
        "jwk": jose::p256_jwk(key.public_key()).unwrap(),
        "key_attestation": attestation,
    });
    let payload = json!({ "aud": audience, "iat": now(), "nonce": nonce });
    let input = jose::signing_input(&header, &payload);
    jose::compact(&input, &key.sign(input.as_bytes()).unwrap())
}

fn jwt_payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The IssuerSigned of a credential response entry.
fn mdoc(entry: &Value) -> wallet_core::mdoc::issuer_signed::IssuerSigned {
    let bytes = URL_SAFE_NO_PAD
        .decode(entry["credential"].as_str().unwrap())
        .unwrap();
    wallet_core::mdoc::issuer_signed::IssuerSigned::parse(&bytes).unwrap()
}

fn text_element(
    issuer_signed: &wallet_core::mdoc::issuer_signed::IssuerSigned,
    namespace: &str,
    element: &str,
) -> String {
    match &issuer_signed
        .item(namespace, element)
        .unwrap()
        .element_value
    {
        wallet_core::cose::cbor::Value::Text(t) => t.clone(),
        other => panic!("{element} is {other:?}"),
    }
}

#[test]
fn metadata_plain_and_signed_the_authorization_server_and_startup_offers() {
    let s = Server::start(&["--offer", "mdl", "--offer", "resident-abstract,tax-payment"]);
    let base = s.base.clone();

    let metadata = s.get("/.well-known/openid-credential-issuer", &[]);
    assert!(metadata
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let m = metadata.ok(200);
    assert_eq!(m["credential_issuer"], base);
    assert_eq!(m["credential_endpoint"], format!("{base}/credential"));
    assert_eq!(m["nonce_endpoint"], format!("{base}/nonce"));
    assert_eq!(
        m["deferred_credential_endpoint"],
        format!("{base}/deferred")
    );
    assert_eq!(m["notification_endpoint"], format!("{base}/notification"));
    assert_eq!(m["batch_credential_issuance"]["batch_size"], 10);
    assert!(m.get("authorization_servers").is_none());
    assert_eq!(m["display"][0]["name"], "Jigap 테스트 발급기관");
    assert_eq!(m["display"][1]["locale"], "en");
    let configurations = m["credential_configurations_supported"]
        .as_object()
        .unwrap();
    let mdl = &configurations["mdl"];
    assert_eq!(mdl["format"], "mso_mdoc");
    assert_eq!(mdl["doctype"], "org.iso.18013.5.1.mDL");
    assert_eq!(mdl["scope"], "mdl");
    assert_eq!(
        mdl["cryptographic_binding_methods_supported"],
        json!(["cose_key"])
    );
    assert_eq!(mdl["credential_signing_alg_values_supported"], json!([-7]));
    assert_eq!(
        mdl["proof_types_supported"],
        json!({ "jwt": { "proof_signing_alg_values_supported": ["ES256"] } })
    );
    assert_eq!(
        mdl["credential_metadata"]["display"][0]["name"],
        "모바일 운전면허증"
    );
    assert_eq!(
        mdl["credential_metadata"]["claims"][0]["path"],
        json!(["org.iso.18013.5.1", "family_name"])
    );
    assert_eq!(
        configurations["resident-card"]["doctype"],
        "kr.jigap.mdoc.resident-registration.1"
    );
    // Every e-certificate type of the core's catalogue, with its vct and names.
    let catalogue = wallet_core::documents::e_certificates::CATALOGUE;
    assert_eq!(configurations.len(), 2 + catalogue.len());
    for kind in catalogue {
        let c = &configurations[kind.id];
        assert_eq!(c["format"], "dc+sd-jwt", "{}", kind.id);
        assert_eq!(c["vct"], kind.vct);
        assert_eq!(c["scope"], kind.id);
        assert_eq!(c["cryptographic_binding_methods_supported"], json!(["jwk"]));
        assert_eq!(
            c["credential_signing_alg_values_supported"],
            json!(["ES256"])
        );
        assert_eq!(c["credential_metadata"]["display"][0]["name"], kind.name_ko);
        assert_eq!(c["credential_metadata"]["display"][1]["name"], kind.name_en);
    }

    // Signed metadata: a JWT by the issuer metadata signer under its root, sub = issuer.
    let signed = s.get(
        "/.well-known/openid-credential-issuer",
        &[("accept", "application/jwt, application/json;q=0.5")],
    );
    assert_eq!(signed.status, 200);
    assert_eq!(signed.header("content-type"), Some("application/jwt"));
    let anchors = vec![wallet_core::trust::x509::ParsedCertificate::from_der(
        &s.authority
            .root_certificate(TrustRole::IssuerMetadata)
            .unwrap(),
    )
    .unwrap()];
    let verified = wallet_core::trust::jws::verify_x5c(
        signed.text().trim(),
        "openidvci-issuer-metadata+jwt",
        &anchors,
        now(),
        TrustRole::IssuerMetadata,
    )
    .unwrap();
    assert_eq!(verified.payload["sub"], base);
    assert_eq!(verified.payload["credential_issuer"], base);
    assert_eq!(
        verified.payload["credential_configurations_supported"],
        m["credential_configurations_supported"]
    );

    let a = s
        .get("/.well-known/oauth-authorization-server", &[])
        .ok(200);
    assert_eq!(a["issuer"], base);
    assert_eq!(a["authorization_endpoint"], format!("{base}/authorize"));
    assert_eq!(a["token_endpoint"], format!("{base}/token"));
    assert_eq!(
        a["pushed_authorization_request_endpoint"],
        format!("{base}/par")
    );
    assert_eq!(a["require_pushed_authorization_requests"], true);
    assert_eq!(a["response_types_supported"], json!(["code"]));
    assert_eq!(
        a["grant_types_supported"],
        json!(["authorization_code", PRE_AUTHORIZED])
    );
    assert_eq!(a["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(a["pre-authorized_grant_anonymous_access_supported"], true);
    assert_eq!(
        a["authorization_details_types_supported"],
        json!(["openid_credential"])
    );
    assert_eq!(a["authorization_response_iss_parameter_supported"], true);
    assert_eq!(a["token_endpoint_auth_methods_supported"], json!(["none"]));

    // The startup offers: by value, pre-authorized with a six-digit transaction code.
    let offers = s.startup["offers"].as_array().unwrap();
    assert_eq!(offers.len(), 2);
    let uri = offers[1]["offer_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("openid-credential-offer://?credential_offer="),
        "{uri}"
    );
    let offer: Value = serde_json::from_str(&param(uri, "credential_offer").unwrap()).unwrap();
    assert_eq!(offer["credential_issuer"], base);
    assert_eq!(
        offer["credential_configuration_ids"],
        json!(["resident-abstract", "tax-payment"])
    );
    let grant = &offer["grants"][PRE_AUTHORIZED];
    assert_eq!(grant["tx_code"]["input_mode"], "numeric");
    assert_eq!(grant["tx_code"]["length"], 6);
    let tx = offers[1]["tx_code"].as_str().unwrap();
    assert!(
        tx.len() == 6 && tx.bytes().all(|b| b.is_ascii_digit()),
        "{tx}"
    );
    let token = s
        .pre_authorized_token(grant["pre-authorized_code"].as_str().unwrap(), Some(tx))
        .ok(200);
    assert_eq!(
        token["authorization_details"],
        json!([
            { "type": "openid_credential", "credential_configuration_id": "resident-abstract",
              "credential_identifiers": ["resident-abstract"] },
            { "type": "openid_credential", "credential_configuration_id": "tax-payment",
              "credential_identifiers": ["tax-payment"] },
        ])
    );
}

#[test]
fn the_admin_api_needs_its_token_and_known_configurations() {
    let s = Server::start(&[]);
    let body = json!({ "configuration_ids": ["mdl"] });
    assert_eq!(
        s.post_json("/admin/offers", &body, None).error(401),
        "invalid_token"
    );
    let wrong = s.post_json("/admin/offers", &body, Some("not-the-token"));
    assert_eq!(wrong.error(401), "invalid_token");
    assert!(wrong
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer"));
    assert_eq!(s.get("/admin/events", &[]).error(401), "invalid_token");
    let admin = s.admin.clone();
    for bad in [
        json!({ "configuration_ids": ["no-such-thing"] }),
        json!({ "configuration_ids": [] }),
        json!({ "configuration_ids": ["mdl"], "grant": "implicit" }),
        json!({ "configuration_ids": ["mdl"], "expires_in": 0 }),
        json!({ "configuration_ids": ["mdl"], "subject": { "birth_date": "5 May 1990" } }),
        json!({}),
    ] {
        assert_eq!(
            s.post_json("/admin/offers", &bad, Some(&admin)).error(400),
            "invalid_request",
            "{bad}"
        );
    }
    let created = s.offer(json!({ "configuration_ids": ["mdl", "health-insurance"] }));
    assert!(created["offer_id"].is_string());
    assert_eq!(created["tx_code"].as_str().unwrap().len(), 6);
    let uri = created["offer_uri"].as_str().unwrap();
    let by_value: Value = serde_json::from_str(&param(uri, "credential_offer").unwrap()).unwrap();
    assert_eq!(by_value, created["offer"]);
    assert_eq!(s.events(), json!({ "notifications": [], "issued": 0 }));

    // Bodies are bounded (64 KiB), and refused in the endpoint's own error form.
    let huge = json!({ "configuration_ids": ["mdl"], "pad": "x".repeat(70 * 1024) });
    assert_eq!(
        s.post_json("/credential", &huge, Some("any-token")).status,
        401,
        "the token is checked first"
    );
    assert_eq!(
        s.post_json("/admin/offers", &huge, Some(&admin)).error(413),
        "invalid_request"
    );
}

#[test]
fn pre_authorized_codes_with_transaction_codes() {
    let s = Server::start(&[]);
    let offer = s.offer(json!({ "configuration_ids": ["mdl"] }));
    let code = pre_authorized_code(&offer["offer"]);
    let tx = offer["tx_code"].as_str().unwrap().to_owned();
    let wrong = if tx == "000000" { "111111" } else { "000000" };
    assert_eq!(
        s.pre_authorized_token(&code, None).error(400),
        "invalid_request"
    );
    assert_eq!(
        s.pre_authorized_token(&code, Some(wrong)).error(400),
        "invalid_grant"
    );
    let token = s.pre_authorized_token(&code, Some(&tx)).ok(200);
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 600);
    assert!(token["access_token"].as_str().unwrap().len() >= 32);
    assert_eq!(
        token["authorization_details"][0]["credential_identifiers"],
        json!(["mdl"])
    );
    // Single use.
    assert_eq!(
        s.pre_authorized_token(&code, Some(&tx)).error(400),
        "invalid_grant"
    );

    // Three wrong codes and the right one no longer works.
    let offer = s.offer(json!({ "configuration_ids": ["mdl"] }));
    let code = pre_authorized_code(&offer["offer"]);
    let tx = offer["tx_code"].as_str().unwrap().to_owned();
    let wrong = if tx == "000000" { "111111" } else { "000000" };
    for _ in 0..3 {
        assert_eq!(
            s.pre_authorized_token(&code, Some(wrong)).error(400),
            "invalid_grant"
        );
    }
    assert_eq!(
        s.pre_authorized_token(&code, Some(&tx)).error(400),
        "invalid_grant"
    );

    // No transaction code asked for: sending one is a malformed request.
    let offer = s.offer(json!({ "configuration_ids": ["mdl"], "tx_code": false }));
    assert!(offer["tx_code"].is_null());
    assert!(offer["offer"]["grants"][PRE_AUTHORIZED]
        .get("tx_code")
        .is_none());
    let code = pre_authorized_code(&offer["offer"]);
    assert_eq!(
        s.pre_authorized_token(&code, Some("123456")).error(400),
        "invalid_request"
    );
    s.pre_authorized_token(&code, None).ok(200);

    assert_eq!(
        s.pre_authorized_token("no-such-code", None).error(400),
        "invalid_grant"
    );
    assert_eq!(
        s.post_form("/token", &[("grant_type", "password")], &[])
            .error(400),
        "unsupported_grant_type"
    );
    assert_eq!(
        s.post_form("/token", &[("grant_type", PRE_AUTHORIZED)], &[])
            .error(400),
        "invalid_request"
    );
    assert_eq!(
        s.post_form(
            "/token",
            &[
                ("grant_type", PRE_AUTHORIZED),
                ("grant_type", PRE_AUTHORIZED)
            ],
            &[]
        )
        .error(400),
        "invalid_request",
        "a repeated parameter"
    );
}

#[test]
fn mdocs_are_issued_to_proven_keys_in_batches_with_single_use_nonces() {
    let s = Server::start(&[]);
    let base = s.base.clone();

    // No token, an unknown token.
    let key = SoftwareKey::generate().unwrap();
    let nonce = s.nonce();
    let p = proof(&key, &base, &nonce);
    let request = json!({ "credential_identifier": "mdl", "proofs": { "jwt": [p] } });
    for token in [None, Some("unknown-token")] {
        let reply = s.post_json("/credential", &request, token);
        assert_eq!(reply.error(401), "invalid_token");
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Bearer error=\"invalid_token\"")
        );
    }

    let token = s.token_for(
        &["mdl"],
        json!({ "subject": { "family_name": "김", "given_name": "철수" } }),
    );
    let reply = s.credential(&token, "mdl", std::slice::from_ref(&p));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let issued = reply.ok(200);
    let credentials = issued["credentials"].as_array().unwrap();
    assert_eq!(credentials.len(), 1);
    assert!(issued["notification_id"].is_string());
    let mdl = mdoc(&credentials[0]);
    let mso = mdl.mso().unwrap();
    assert_eq!(mso.doc_type, "org.iso.18013.5.1.mDL");
    assert_eq!(mso.device_key, key.public_key());
    assert_eq!(text_element(&mdl, "org.iso.18013.5.1", "family_name"), "김");
    assert_eq!(
        text_element(&mdl, "org.iso.18013.5.1", "given_name"),
        "철수"
    );

    // The nonce is spent; with a fresh one, the identifier is spent for this token.
    assert_eq!(
        s.credential(&token, "mdl", std::slice::from_ref(&p))
            .error(400),
        "invalid_nonce"
    );
    let fresh = proof(&key, &base, &s.nonce());
    assert_eq!(
        s.credential(&token, "mdl", &[fresh]).error(400),
        "credential_request_denied"
    );

    // A batch of three: three mdocs, one per key.
    let token = s.token_for(&["mdl"], json!({}));
    let nonce = s.nonce();
    let keys: Vec<SoftwareKey> = (0..3).map(|_| SoftwareKey::generate().unwrap()).collect();
    let proofs: Vec<String> = keys.iter().map(|k| proof(k, &base, &nonce)).collect();
    // Refused first, for reasons that leave the nonce unspent.
    let other_audience = proof(&keys[0], "https://other.example", &nonce);
    assert_eq!(
        s.credential(&token, "mdl", &[other_audience]).error(400),
        "invalid_proof"
    );
    assert_eq!(
        s.credential(
            &token,
            "mdl",
            &[proofs[0].clone(), proof(&keys[0], &base, &nonce)]
        )
        .error(400),
        "invalid_proof",
        "two proofs for one key"
    );
    assert_eq!(
        s.credential(
            &token,
            "mdl",
            &[proofs[0].clone(), proof(&keys[1], &base, &s.nonce())]
        )
        .error(400),
        "invalid_nonce",
        "two nonces"
    );
    assert_eq!(
        s.credential(&token, "mdl", &["not-a-jwt".to_string()])
            .error(400),
        "invalid_proof"
    );
    let unknown_nonce = proof(&keys[0], &base, "made-up");
    assert_eq!(
        s.credential(&token, "mdl", &[unknown_nonce]).error(400),
        "invalid_nonce"
    );
    let eleven: Vec<String> = (0..11).map(|_| proofs[0].clone()).collect();
    assert_eq!(
        s.credential(&token, "mdl", &eleven).error(400),
        "invalid_credential_request"
    );
    assert_eq!(
        s.credential(&token, "tax-payment", &proofs).error(400),
        "unknown_credential_identifier"
    );
    assert_eq!(
        s.post_json(
            "/credential",
            &json!({ "credential_configuration_id": "no-such", "proofs": { "jwt": proofs } }),
            Some(&token)
        )
        .error(400),
        "unknown_credential_configuration"
    );
    assert_eq!(
        s.post_json(
            "/credential",
            &json!({ "proofs": { "jwt": proofs } }),
            Some(&token)
        )
        .error(400),
        "invalid_credential_request"
    );
    let batch = s.credential(&token, "mdl", &proofs).ok(200);
    let credentials = batch["credentials"].as_array().unwrap();
    assert_eq!(credentials.len(), 3);
    for (entry, key) in credentials.iter().zip(&keys) {
        assert_eq!(mdoc(entry).mso().unwrap().device_key, key.public_key());
    }

    // The resident card. Asked for by configuration id, it is refused: the token named its
    // credential identifiers, and then only those may be used.
    let token = s.token_for(&["resident-card"], json!({}));
    let by_configuration = s.post_json(
        "/credential",
        &json!({
            "credential_configuration_id": "resident-card",
            "proofs": { "jwt": [proof(&key, &base, &s.nonce())] },
        }),
        Some(&token),
    );
    assert_eq!(by_configuration.error(400), "invalid_credential_request");
    let reply = s.credential(&token, "resident-card", &[proof(&key, &base, &s.nonce())]);
    let card = mdoc(&reply.ok(200)["credentials"][0]);
    assert_eq!(
        card.mso().unwrap().doc_type,
        "kr.jigap.mdoc.resident-registration.1"
    );
    assert_eq!(s.events()["issued"], 5);
}

#[test]
fn e_certificates_are_sd_jwt_vcs_with_status_entries() {
    let s = Server::start(&["--status-uri", "https://127.0.0.1:9/lists/1"]);
    let base = s.base.clone();
    let key = SoftwareKey::generate().unwrap();
    let token = s.token_for(
        &["resident-abstract", "tax-payment"],
        json!({ "subject": { "name_ko": "김철수" } }),
    );
    let issued = s
        .credential(
            &token,
            "resident-abstract",
            &[proof(&key, &base, &s.nonce())],
        )
        .ok(200);
    let sd_jwt = issued["credentials"][0]["credential"].as_str().unwrap();
    assert!(sd_jwt.ends_with('~'), "an issuance has no key binding");
    let mut parts = sd_jwt.split('~');
    let jwt = parts.next().unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["typ"], "dc+sd-jwt");
    let payload = jwt_payload(jwt);
    assert_eq!(
        payload["vct"],
        "urn:jigap:cert:resident-registration-abstract:1"
    );
    assert_eq!(
        jose::p256_from_jwk(&payload["cnf"]["jwk"]).unwrap(),
        key.public_key()
    );
    assert_eq!(payload["status"]["status_list"]["idx"], 0);
    assert_eq!(
        payload["status"]["status_list"]["uri"],
        "https://127.0.0.1:9/lists/1"
    );
    let disclosed: Vec<Value> = parts
        .filter(|d| !d.is_empty())
        .map(|d| serde_json::from_slice(&URL_SAFE_NO_PAD.decode(d).unwrap()).unwrap())
        .collect();
    assert!(
        disclosed.iter().any(|d| d[1] == "name" && d[2] == "김철수"),
        "{disclosed:?}"
    );

    // Claims given whole, and the next status index.
    let token = s.token_for(
        &["tax-payment"],
        json!({ "subject": { "claims": { "name": "이영희", "arrears": false } } }),
    );
    let issued = s
        .credential(&token, "tax-payment", &[proof(&key, &base, &s.nonce())])
        .ok(200);
    let sd_jwt = issued["credentials"][0]["credential"].as_str().unwrap();
    let payload = jwt_payload(sd_jwt.split('~').next().unwrap());
    assert_eq!(payload["vct"], "urn:jigap:cert:tax-payment:1");
    assert_eq!(payload["status"]["status_list"]["idx"], 1);
}

#[test]
fn deferred_issuance_and_notifications() {
    let s = Server::start(&[]);
    let base = s.base.clone();
    let key = SoftwareKey::generate().unwrap();
    let token = s.token_for(&["mdl"], json!({ "deferred_seconds": 2 }));
    let accepted = s
        .credential(&token, "mdl", &[proof(&key, &base, &s.nonce())])
        .ok(202);
    assert_eq!(accepted["interval"], 1);
    let transaction_id = accepted["transaction_id"].as_str().unwrap().to_owned();
    let poll = json!({ "transaction_id": transaction_id });
    let pending = s.post_json("/deferred", &poll, Some(&token)).ok(202);
    assert_eq!(pending["transaction_id"], transaction_id);
    assert_eq!(s.events()["issued"], 0);
    std::thread::sleep(Duration::from_millis(2_200));
    let ready = s.post_json("/deferred", &poll, Some(&token)).ok(200);
    assert_eq!(
        mdoc(&ready["credentials"][0]).mso().unwrap().device_key,
        key.public_key()
    );
    assert_eq!(
        s.post_json("/deferred", &poll, Some(&token)).error(400),
        "invalid_transaction_id"
    );
    assert_eq!(
        s.post_json("/deferred", &poll, None).error(401),
        "invalid_token"
    );

    let notification_id = ready["notification_id"].as_str().unwrap();
    let accepted = s.post_json(
        "/notification",
        &json!({ "notification_id": notification_id, "event": "credential_accepted",
                 "event_description": "stored" }),
        Some(&token),
    );
    assert_eq!(accepted.status, 204, "{}", accepted.text());
    assert_eq!(
        s.post_json(
            "/notification",
            &json!({ "notification_id": "nope", "event": "credential_accepted" }),
            Some(&token)
        )
        .error(400),
        "invalid_notification_id"
    );
    assert_eq!(
        s.post_json(
            "/notification",
            &json!({ "notification_id": notification_id, "event": "credential_liked" }),
            Some(&token)
        )
        .error(400),
        "invalid_notification_request"
    );
    assert_eq!(
        s.post_json(
            "/notification",
            &json!({ "notification_id": notification_id, "event": "credential_deleted" }),
            None
        )
        .error(401),
        "invalid_token"
    );
    let events = s.events();
    assert_eq!(events["issued"], 1);
    assert_eq!(
        events["notifications"],
        json!([{ "notification_id": notification_id, "event": "credential_accepted",
                 "event_description": "stored" }])
    );
}

/// A pushed authorization request for `mdl` by client `wallet`; its `request_uri`.
fn push(s: &Server, extra: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", "wallet"),
        ("redirect_uri", REDIRECT),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("state", "st-1"),
    ];
    for (name, value) in extra {
        pairs.retain(|(n, _)| n != name);
        pairs.push((name, value));
    }
    s.post_form("/par", &pairs, headers)
}

const MDL_DETAILS: &str = r#"[{"type":"openid_credential","credential_configuration_id":"mdl"}]"#;

/// Approves or denies a pushed request; the redirect `Location`.
fn decide(s: &Server, request_uri: &str, decision: &str) -> String {
    let reply = s.post_form(
        "/authorize",
        &[("request_uri", request_uri), ("decision", decision)],
        &[],
    );
    assert_eq!(reply.status, 303, "{}", reply.text());
    reply.header("location").unwrap().to_owned()
}

fn code_token(s: &Server, code: &str, verifier: &str) -> Reply {
    s.post_form(
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
            ("client_id", "wallet"),
        ],
        &[],
    )
}

#[test]
fn authorization_code_flow_with_par_pkce_and_the_browser_step() {
    let s = Server::start(&[]);
    let base = s.base.clone();
    let pushed = push(&s, &[("authorization_details", MDL_DETAILS)], &[]).ok(201);
    assert_eq!(pushed["expires_in"], 60);
    let request_uri = pushed["request_uri"].as_str().unwrap().to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));

    let page_query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", "wallet")
        .append_pair("request_uri", &request_uri)
        .finish();
    let page = s.get(&format!("/authorize?{page_query}"), &[]);
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let html = page.text();
    assert!(html.contains("모바일 운전면허증"), "{html}");
    assert!(html.contains(&request_uri));
    assert!(html.contains("value=\"approve\"") && html.contains("value=\"deny\""));
    let stranger = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", "someone-else")
        .append_pair("request_uri", &request_uri)
        .finish();
    assert_eq!(s.get(&format!("/authorize?{stranger}"), &[]).status, 400);

    let location = decide(&s, &request_uri, "approve");
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    assert_eq!(param(&location, "state").as_deref(), Some("st-1"));
    assert_eq!(param(&location, "iss").as_deref(), Some(base.as_str()));
    let code = param(&location, "code").unwrap();
    // The request_uri is spent.
    let again = s.post_form(
        "/authorize",
        &[("request_uri", &request_uri), ("decision", "approve")],
        &[],
    );
    assert_eq!(again.status, 400);

    let token = code_token(&s, &code, VERIFIER).ok(200);
    assert_eq!(
        token["authorization_details"],
        json!([{ "type": "openid_credential", "credential_configuration_id": "mdl",
                 "credential_identifiers": ["mdl"] }])
    );
    assert_eq!(code_token(&s, &code, VERIFIER).error(400), "invalid_grant");
    let key = SoftwareKey::generate().unwrap();
    s.credential(
        token["access_token"].as_str().unwrap(),
        "mdl",
        &[proof(&key, &base, &s.nonce())],
    )
    .ok(200);

    // A wrong verifier, by scope this time.
    let pushed = push(&s, &[("scope", "mdl tax-payment")], &[]).ok(201);
    let location = decide(&s, pushed["request_uri"].as_str().unwrap(), "approve");
    let code = param(&location, "code").unwrap();
    let wrong_verifier = "x".repeat(43);
    assert_eq!(
        code_token(&s, &code, &wrong_verifier).error(400),
        "invalid_grant"
    );

    // Denied.
    let pushed = push(&s, &[("authorization_details", MDL_DETAILS)], &[]).ok(201);
    let location = decide(&s, pushed["request_uri"].as_str().unwrap(), "deny");
    assert_eq!(param(&location, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&location, "state").as_deref(), Some("st-1"));
    assert_eq!(param(&location, "iss").as_deref(), Some(base.as_str()));
    assert!(param(&location, "code").is_none());

    // What a pushed request must carry.
    let details = [("authorization_details", MDL_DETAILS)];
    let refusals: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("client_id", "")], "invalid_request"),
        (vec![("redirect_uri", "")], "invalid_request"),
        (vec![("code_challenge", "")], "invalid_request"),
        (vec![("scope", "openid")], "invalid_scope"),
        (
            vec![(
                "authorization_details",
                r#"[{"type":"openid_credential","credential_configuration_id":"x"}]"#,
            )],
            "invalid_authorization_details",
        ),
        (
            vec![("authorization_details", "not json")],
            "invalid_authorization_details",
        ),
        (vec![("issuer_state", "unknown")], "invalid_request"),
    ];
    for (extra, expected) in refusals {
        let mut all: Vec<(&str, &str)> = details.to_vec();
        all.extend(extra.iter().copied());
        // An empty value removes the parameter (OAuth reads it as absent).
        let reply = push(&s, &all, &[]);
        assert_eq!(reply.error(400), expected, "{extra:?}");
    }
    assert_eq!(
        push(
            &s,
            &[
                ("response_type", "token"),
                ("authorization_details", MDL_DETAILS)
            ],
            &[]
        )
        .error(400),
        "unsupported_response_type"
    );
    assert_eq!(
        s.post_form("/par", &[("response_type", "code")], &[])
            .error(400),
        "invalid_request"
    );

    // An authorization-code offer: issuer_state brings the offer's configurations and subject.
    let offer = s.offer(json!({
        "configuration_ids": ["mdl"], "grant": "authorization_code",
        "subject": { "family_name": "박" },
    }));
    let issuer_state = offer["offer"]["grants"]["authorization_code"]["issuer_state"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(offer["tx_code"].is_null());
    let pushed = push(&s, &[("issuer_state", &issuer_state)], &[]).ok(201);
    let location = decide(&s, pushed["request_uri"].as_str().unwrap(), "approve");
    let token = code_token(&s, &param(&location, "code").unwrap(), VERIFIER).ok(200);
    let issued = s
        .credential(
            token["access_token"].as_str().unwrap(),
            "mdl",
            &[proof(&key, &base, &s.nonce())],
        )
        .ok(200);
    assert_eq!(
        text_element(
            &mdoc(&issued["credentials"][0]),
            "org.iso.18013.5.1",
            "family_name"
        ),
        "박"
    );
    // The offer is used up.
    assert_eq!(
        push(&s, &[("issuer_state", &issuer_state)], &[]).error(400),
        "invalid_request"
    );
}

#[test]
fn client_and_key_attestations_when_required() {
    let s = Server::start(&[
        "--require-client-attestation",
        "--require-key-attestation",
        "--batch-size",
        "1",
    ]);
    let base = s.base.clone();
    let m = s.get("/.well-known/openid-credential-issuer", &[]).ok(200);
    assert!(m.get("batch_credential_issuance").is_none(), "{m}");
    assert_eq!(
        m["credential_configurations_supported"]["mdl"]["proof_types_supported"]["jwt"]
            ["key_attestations_required"],
        json!({ "key_storage": ["iso_18045_moderate"] })
    );
    let a = s
        .get("/.well-known/oauth-authorization-server", &[])
        .ok(200);
    assert_eq!(
        a["token_endpoint_auth_methods_supported"],
        json!(["none", "attest_jwt_client_auth"])
    );

    let instance = SoftwareKey::generate().unwrap();
    let attestation = s
        .authority
        .sign_client_attestation("wallet".into(), instance.public_key().to_vec())
        .unwrap();
    let pop = || {
        wallet_core::issuer::attestation::client_attestation_pop(
            &instance,
            "wallet",
            &base,
            now(),
            None,
        )
        .unwrap()
    };
    let details = [("authorization_details", MDL_DETAILS)];

    // /par: refused without the headers, with a replayed proof, or for another client_id.
    assert_eq!(push(&s, &details, &[]).error(401), "invalid_client");
    let first = pop();
    let headers = [
        ("OAuth-Client-Attestation", attestation.as_str()),
        ("OAuth-Client-Attestation-PoP", first.as_str()),
    ];
    let pushed = push(&s, &details, &headers).ok(201);
    assert_eq!(push(&s, &details, &headers).error(401), "invalid_client");
    let other_pop = pop();
    let mut other_client = details.to_vec();
    other_client.push(("client_id", "someone-else"));
    assert_eq!(
        push(
            &s,
            &other_client,
            &[
                ("OAuth-Client-Attestation", attestation.as_str()),
                ("OAuth-Client-Attestation-PoP", other_pop.as_str()),
            ],
        )
        .error(401),
        "invalid_client"
    );
    // A proof of possession by another key.
    let stranger = SoftwareKey::generate().unwrap();
    let forged = wallet_core::issuer::attestation::client_attestation_pop(
        &stranger,
        "wallet",
        &base,
        now(),
        None,
    )
    .unwrap();
    assert_eq!(
        push(
            &s,
            &details,
            &[
                ("OAuth-Client-Attestation", attestation.as_str()),
                ("OAuth-Client-Attestation-PoP", forged.as_str()),
            ],
        )
        .error(401),
        "invalid_client"
    );

    // /token for the authorization code: attested too.
    let location = decide(&s, pushed["request_uri"].as_str().unwrap(), "approve");
    let code = param(&location, "code").unwrap();
    assert_eq!(code_token(&s, &code, VERIFIER).error(401), "invalid_client");

    // The pre-authorized grant: client_id and an attestation are required.
    let offer = s.offer(json!({ "configuration_ids": ["mdl"], "tx_code": false }));
    let pre_code = pre_authorized_code(&offer["offer"]);
    let token_pop = pop();
    let attested = [
        ("OAuth-Client-Attestation", attestation.as_str()),
        ("OAuth-Client-Attestation-PoP", token_pop.as_str()),
    ];
    assert_eq!(
        s.post_form(
            "/token",
            &[
                ("grant_type", PRE_AUTHORIZED),
                ("pre-authorized_code", &pre_code)
            ],
            &attested,
        )
        .error(401),
        "invalid_client"
    );
    let token_pop = pop();
    let token = s
        .post_form(
            "/token",
            &[
                ("grant_type", PRE_AUTHORIZED),
                ("pre-authorized_code", &pre_code),
                ("client_id", "wallet"),
            ],
            &[
                ("OAuth-Client-Attestation", attestation.as_str()),
                ("OAuth-Client-Attestation-PoP", token_pop.as_str()),
            ],
        )
        .ok(200);
    let token = token["access_token"].as_str().unwrap().to_owned();

    // Key attestation: missing, for another key, for another nonce, then right.
    let key = SoftwareKey::generate().unwrap();
    let nonce = s.nonce();
    assert_eq!(
        s.credential(&token, "mdl", &[proof(&key, &base, &nonce)])
            .error(400),
        "invalid_proof"
    );
    let others = s
        .authority
        .sign_key_attestation(vec![stranger.public_key().to_vec()], Some(nonce.clone()))
        .unwrap();
    assert_eq!(
        s.credential(
            &token,
            "mdl",
            &[attested_proof(&key, &base, &nonce, &others)]
        )
        .error(400),
        "invalid_proof"
    );
    let stale = s
        .authority
        .sign_key_attestation(vec![key.public_key().to_vec()], Some("another".into()))
        .unwrap();
    assert_eq!(
        s.credential(
            &token,
            "mdl",
            &[attested_proof(&key, &base, &nonce, &stale)]
        )
        .error(400),
        "invalid_proof"
    );
    let good = s
        .authority
        .sign_key_attestation(vec![key.public_key().to_vec()], Some(nonce.clone()))
        .unwrap();
    let issued = s
        .credential(&token, "mdl", &[attested_proof(&key, &base, &nonce, &good)])
        .ok(200);
    assert_eq!(
        mdoc(&issued["credentials"][0]).mso().unwrap().device_key,
        key.public_key()
    );
}

#[test]
fn offers_by_reference_live_until_expired_or_used() {
    let s = Server::start(&[]);
    let base = s.base.clone();
    let offer =
        s.offer(json!({ "configuration_ids": ["mdl"], "by_reference": true, "expires_in": 1 }));
    let id = offer["offer_id"].as_str().unwrap();
    let uri = offer["offer_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("openid-credential-offer://?credential_offer_uri="),
        "{uri}"
    );
    assert_eq!(
        param(uri, "credential_offer_uri").unwrap(),
        format!("{base}/offers/{id}")
    );
    let fetched = s.get(&format!("/offers/{id}"), &[]);
    assert!(fetched
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(fetched.ok(200), offer["offer"]);
    std::thread::sleep(Duration::from_millis(1_300));
    assert_eq!(s.get(&format!("/offers/{id}"), &[]).status, 404);
    let code = pre_authorized_code(&offer["offer"]);
    let tx = offer["tx_code"].as_str().unwrap();
    assert_eq!(
        s.pre_authorized_token(&code, Some(tx)).error(400),
        "invalid_grant",
        "the code expires with its offer"
    );

    // Used: gone once its code is redeemed.
    let offer =
        s.offer(json!({ "configuration_ids": ["mdl"], "by_reference": true, "tx_code": false }));
    let id = offer["offer_id"].as_str().unwrap();
    s.get(&format!("/offers/{id}"), &[]).ok(200);
    s.pre_authorized_token(&pre_authorized_code(&offer["offer"]), None)
        .ok(200);
    assert_eq!(s.get(&format!("/offers/{id}"), &[]).status, 404);
    // An offer by value is not served by reference.
    let by_value = s.offer(json!({ "configuration_ids": ["mdl"] }));
    let path = format!("/offers/{}", by_value["offer_id"].as_str().unwrap());
    assert_eq!(s.get(&path, &[]).status, 404);
}

#[test]
fn text_mode_prints_offers_and_exit_after_stops_the_server() {
    let dir = new_authority();
    let out = Command::new(env!("CARGO_BIN_EXE_jigap"))
        .args(["serve", "issuer", "--issuer"])
        .arg(dir.path().join("authority"))
        .args(["--offer", "mdl", "--exit-after", "1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("https://127.0.0.1:"), "{text}");
    assert!(text.contains("admin token: "), "{text}");
    assert!(
        text.contains("openid-credential-offer://?credential_offer="),
        "{text}"
    );
    assert!(text.contains("transaction code: "), "{text}");
    assert!(text.contains('█'), "a QR code: {text}");
    assert!(
        text.trim_end().ends_with("serving; Ctrl-C to stop"),
        "{text}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_jigap"))
        .args(["serve", "issuer", "--issuer"])
        .arg(dir.path().join("authority"))
        .args(["--offer", "mdl,no-such", "--exit-after", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("jigap: error: --offer: unknown configuration"),
        "{err}"
    );
}
