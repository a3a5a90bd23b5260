//! Online presentation through the public API, sans-I/O: an `Openid4vpVerifier` (the relying
//! party) and a wallet, with an `HttpClient` that carries their messages in memory (the CLI's
//! end-to-end tests run the same over HTTPS). Both response modes, both formats, DCQL
//! credential sets, transaction data, the Digital Credentials API, and every refusal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wallet_core::*;

const NOW: i64 = 1_800_000_000;
const RP: &str = "https://bank.example";

fn wallet(authority: &TestAuthority, trust_relying_parties: bool) -> Arc<Wallet> {
    let wallet = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        path: None,
        create_if_missing: true,
        key_protector: passphrase_key_protector_with_cost("pw".into(), 10_000).unwrap(),
        secure_area: None,
        clock: Some(fixed_clock(NOW)),
        listener: None,
    })
    .unwrap();
    let mut roles = vec![
        TrustRole::MdocIssuer,
        TrustRole::SdJwtIssuer,
        TrustRole::MdocReader,
    ];
    if trust_relying_parties {
        roles.push(TrustRole::RelyingParty);
    }
    for role in roles {
        wallet
            .add_trust_anchor(role, authority.root_certificate(role).unwrap())
            .unwrap();
    }
    wallet
}

fn mdl_claims(birth_date: &str) -> MdlClaims {
    MdlClaims {
        family_name: "홍".into(),
        given_name: "길동".into(),
        birth_date: birth_date.into(),
        document_number: "11-23-456789-01".into(),
        issuing_authority: "경찰청".into(),
        portrait: vec![0xff, 0xd8, 0xff, 0xd9],
        vehicle_categories: vec!["B".into()],
        valid_days: 365,
        status: None,
    }
}

fn issue(wallet: &Wallet, authority: &TestAuthority, birth_date: &str) -> (String, String) {
    let key = wallet.create_device_key().unwrap();
    let mdl = authority
        .issue_mdl(key.public_key, mdl_claims(birth_date))
        .unwrap();
    let mdl_id = wallet.add_mdoc(mdl, key.alias).unwrap();
    let key = wallet.create_device_key().unwrap();
    let certificate = authority
        .issue_e_certificate(
            "resident-abstract".into(),
            key.public_key,
            serde_json::json!({"name": "홍길동", "resident_registration_number": "900505-1234567",
                "birth_date": birth_date, "address": {"region": "서울특별시", "locality": "종로구"}})
            .to_string(),
            None,
        )
        .unwrap();
    let cert_id = wallet.add_sd_jwt(certificate, key.alias).unwrap();
    (mdl_id, cert_id)
}

fn verifier(authority: &TestAuthority, at: i64, scheme: ClientIdScheme) -> Arc<Openid4vpVerifier> {
    Openid4vpVerifier::new(Openid4vpVerifierConfig {
        signing_certificate_chain: vec![authority
            .signer_certificate(TrustRole::RelyingParty)
            .unwrap()],
        signing_key: authority.signer_key(TrustRole::RelyingParty).unwrap(),
        client_id_scheme: scheme,
        iaca_certificates: vec![authority.root_certificate(TrustRole::MdocIssuer).unwrap()],
        sd_jwt_issuer_certificates: vec![authority
            .root_certificate(TrustRole::SdJwtIssuer)
            .unwrap()],
        status_list_certificates: vec![],
        clock: Some(fixed_clock(at)),
        max_key_binding_age_seconds: 300,
        clock_skew_seconds: 60,
    })
    .unwrap()
}

/// The relying party's web server, in memory: it serves request objects and takes
/// responses, answering with a redirect.
struct Bank {
    verifier: Arc<Openid4vpVerifier>,
    objects: Mutex<HashMap<String, String>>,
    results: Mutex<Vec<Result<PresentationResult, WalletError>>>,
    bodies: Mutex<Vec<Vec<u8>>>,
}

#[async_trait::async_trait]
impl HttpClient for Bank {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, WalletError> {
        let respond = |status: u16, body: String| HttpResponse {
            status,
            content_type: Some("application/json".into()),
            headers: vec![],
            body: body.into_bytes(),
        };
        if let Some(id) = request.url.strip_prefix(&format!("{RP}/request/")) {
            return Ok(match self.objects.lock().unwrap().remove(id) {
                Some(jwt) => HttpResponse {
                    status: 200,
                    content_type: Some("application/oauth-authz-req+jwt".into()),
                    headers: vec![],
                    body: jwt.into_bytes(),
                },
                None => respond(404, "{}".into()),
            });
        }
        if let Some(id) = request.url.strip_prefix(&format!("{RP}/response/")) {
            self.bodies.lock().unwrap().push(request.body.clone());
            let result = self.verifier.receive_direct_post(id.into(), request.body);
            let answer = match &result {
                Ok(_) => respond(200, format!(r#"{{"redirect_uri": "{RP}/done?code=c-1"}}"#)),
                // The wallet's own error answer is taken note of.
                Err(WalletError::Presentation { .. }) => respond(200, "{}".into()),
                Err(_) => respond(400, r#"{"error": "invalid_request"}"#.into()),
            };
            self.results.lock().unwrap().push(result);
            return Ok(answer);
        }
        Ok(respond(404, "{}".into()))
    }
}

impl Bank {
    fn new(verifier: Arc<Openid4vpVerifier>) -> Arc<Self> {
        Arc::new(Bank {
            verifier,
            objects: Mutex::new(HashMap::new()),
            results: Mutex::new(Vec::new()),
            bodies: Mutex::new(Vec::new()),
        })
    }

    /// A request by reference: the wallet gets only the URI.
    fn ask(
        &self,
        dcql: serde_json::Value,
        mode: ResponseMode,
        transaction_data: Vec<String>,
    ) -> String {
        let created = self
            .verifier
            .create_request(PresentationRequestOptions {
                dcql_query_json: dcql.to_string(),
                response_mode: mode,
                response_uri_base: Some(format!("{RP}/response")),
                transaction_data_json: transaction_data,
                expected_origins: vec![],
                lifetime_seconds: 300,
            })
            .unwrap();
        self.objects
            .lock()
            .unwrap()
            .insert(created.request_id.clone(), created.request_object);
        openid4vp_wallet_uri(
            created.client_id,
            format!("{RP}/request/{}", created.request_id),
            false,
        )
    }

    fn last(&self) -> Result<PresentationResult, WalletError> {
        self.results
            .lock()
            .unwrap()
            .pop()
            .expect("a response arrived")
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn age_and_name() -> serde_json::Value {
    serde_json::json!({
        "credentials": [
            {"id": "licence", "format": "mso_mdoc", "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
             "claims": [{"path": ["org.iso.18013.5.1", "age_over_19"], "values": [true]},
                        {"path": ["org.iso.18013.5.1", "family_name"], "intent_to_retain": true}]},
            {"id": "abstract", "format": "dc+sd-jwt",
             "meta": {"vct_values": ["urn:jigap:cert:resident-registration-abstract:1"]},
             "claims": [{"path": ["name"]}, {"path": ["address", "locality"]}]}
        ]
    })
}

fn choose(view: &OnlineRequestView) -> Vec<QueryChoice> {
    view.queries
        .iter()
        .map(|q| QueryChoice {
            query_id: q.query_id.clone(),
            credential_ids: vec![q.candidates[0].credential_id.clone()],
        })
        .collect()
}

#[test]
fn both_formats_by_direct_post_jwt_and_direct_post() {
    let authority =
        TestAuthority::create("Test".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    let wallet = wallet(&authority, true);
    issue(&wallet, &authority, "1990-05-05");
    let bank = Bank::new(verifier(&authority, NOW, ClientIdScheme::X509Hash));
    let rt = runtime();
    for mode in [ResponseMode::DirectPostJwt, ResponseMode::DirectPost] {
        let uri = bank.ask(age_and_name(), mode, vec![]);
        let session = rt
            .block_on(wallet.clone().start_online_presentation(uri, bank.clone()))
            .unwrap();
        let view = session.request();
        assert!(view.relying_party.verified, "{:?}", view.relying_party);
        assert!(view.relying_party.client_id.starts_with("x509_hash:"));
        assert_eq!(
            view.relying_party.subject.as_deref(),
            Some("CN=Test Relying Party,C=KR")
        );
        assert!(view.unsatisfiable.is_none());
        assert_eq!(view.queries.len(), 2);
        let licence = &view.queries[0].candidates[0];
        assert_eq!(licence.claims.len(), 2);
        assert!(licence
            .claims
            .iter()
            .any(|c| c.path == "org.iso.18013.5.1/family_name" && c.intent_to_retain));
        let outcome = rt.block_on(session.respond(choose(&view))).unwrap();
        assert_eq!(
            outcome.redirect_uri.as_deref(),
            Some("https://bank.example/done?code=c-1")
        );
        let result = bank.last().unwrap();
        assert_eq!(result.credentials.len(), 2);
        let mdoc = result
            .credentials
            .iter()
            .find(|c| c.format == "mso_mdoc")
            .unwrap();
        let mut mdoc_claims: Vec<String> = mdoc.claims.iter().map(|c| c.path.join("/")).collect();
        mdoc_claims.sort();
        assert_eq!(
            mdoc_claims,
            [
                "org.iso.18013.5.1/age_over_19",
                "org.iso.18013.5.1/family_name"
            ]
        );
        let sd = result
            .credentials
            .iter()
            .find(|c| c.format == "dc+sd-jwt")
            .unwrap();
        let shown: Vec<String> = sd.claims.iter().map(|c| c.path.join("/")).collect();
        assert!(
            shown.contains(&"name".to_string()) && shown.contains(&"address/locality".to_string()),
            "{shown:?}"
        );
        assert!(
            !shown
                .iter()
                .any(|p| p.contains("resident_registration_number")),
            "only what was asked"
        );
        // Encrypted when asked: the body is a JWE, the vp_token is not in the clear.
        let body = String::from_utf8(bank.bodies.lock().unwrap().last().unwrap().clone()).unwrap();
        assert_eq!(
            body.starts_with("response="),
            mode == ResponseMode::DirectPostJwt,
            "{body}"
        );
        // The citizen's record names the verified relying party and what was released.
        let entry = &wallet
            .list_journal(
                JournalFilter {
                    kinds: vec![JournalKind::Presentation],
                    ..Default::default()
                },
                0,
                1,
            )
            .unwrap()
            .entries[0];
        let details: serde_json::Value = serde_json::from_str(&entry.details_json).unwrap();
        assert_eq!(details["relying_party"]["verified"], true, "{details}");
        assert_eq!(
            details["credentials"].as_array().unwrap().len(),
            2,
            "{details}"
        );
        assert!(entry.details_json.contains("org.iso.18013.5.1/age_over_19"));
    }
    assert_eq!(
        wallet
            .list_journal(
                JournalFilter {
                    kinds: vec![JournalKind::Presentation],
                    ..Default::default()
                },
                0,
                10
            )
            .unwrap()
            .total,
        2
    );
}

#[test]
fn credential_sets_let_the_wallet_pick_what_it_can_answer() {
    let authority =
        TestAuthority::create("Test".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    let wallet = wallet(&authority, true);
    // A minor: the licence does not say age_over_19 = true, the certificate answers instead.
    issue(&wallet, &authority, "2010-01-01");
    let bank = Bank::new(verifier(&authority, NOW, ClientIdScheme::X509Hash));
    let query = serde_json::json!({
        "credentials": [
            {"id": "adult_licence", "format": "mso_mdoc", "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
             "claims": [{"path": ["org.iso.18013.5.1", "age_over_19"], "values": [true]}]},
            {"id": "abstract", "format": "dc+sd-jwt",
             "meta": {"vct_values": ["urn:jigap:cert:resident-registration-abstract:1"]},
             "claims": [{"id": "birth", "path": ["birth_date"]}, {"id": "name", "path": ["name"]}],
             "claim_sets": [["birth"], ["name"]]}
        ],
        "credential_sets": [{"options": [["adult_licence"], ["abstract"]]}]
    });
    let rt = runtime();
    let session = rt
        .block_on(wallet.clone().start_online_presentation(
            bank.ask(query, ResponseMode::DirectPostJwt, vec![]),
            bank.clone(),
        ))
        .unwrap();
    let view = session.request();
    assert_eq!(view.queries.len(), 1);
    assert_eq!(view.queries[0].query_id, "abstract");
    assert_eq!(view.queries[0].candidates[0].claims[0].path, "/birth_date");
    rt.block_on(session.respond(choose(&view))).unwrap();
    let result = bank.last().unwrap();
    assert_eq!(result.credentials[0].query_id, "abstract");
    assert_eq!(result.credentials[0].claims[0].path, ["birth_date"]);
}

#[test]
fn transaction_data_is_shown_and_bound_into_the_key_binding() {
    let authority =
        TestAuthority::create("Test".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    let wallet = wallet(&authority, true);
    issue(&wallet, &authority, "1990-05-05");
    let bank = Bank::new(verifier(&authority, NOW, ClientIdScheme::X509Hash));
    let query = serde_json::json!({"credentials": [{"id": "abstract", "format": "dc+sd-jwt",
        "meta": {"vct_values": ["urn:jigap:cert:resident-registration-abstract:1"]},
        "claims": [{"path": ["name"]}]}]});
    let transaction = serde_json::json!({"type": "account_opening", "credential_ids": ["abstract"],
        "product": "자유적금", "amount_krw": 1_000_000});
    let rt = runtime();
    let session = rt
        .block_on(wallet.clone().start_online_presentation(
            bank.ask(
                query,
                ResponseMode::DirectPost,
                vec![transaction.to_string()],
            ),
            bank.clone(),
        ))
        .unwrap();
    let view = session.request();
    assert_eq!(view.transaction_data.len(), 1);
    assert_eq!(view.transaction_data[0].kind, "account_opening");
    assert!(view.transaction_data[0].fields_json.contains("자유적금"));
    rt.block_on(session.respond(choose(&view))).unwrap();
    bank.last().unwrap();
}

fn presentation_failure(
    result: Result<Arc<OnlinePresentation>, WalletError>,
) -> PresentationFailure {
    match result {
        Err(WalletError::Presentation { failure, .. }) => failure,
        Err(other) => panic!("expected a presentation failure, got {other:?}"),
        Ok(_) => panic!("expected a presentation failure, got a session"),
    }
}

#[test]
fn refusals_untrusted_wrong_prefix_unsatisfiable_expired_replayed_and_another_nonce() {
    let authority =
        TestAuthority::create("Test".into(), "KR".into(), Some(fixed_clock(NOW - 200))).unwrap();
    let rt = runtime();
    let trusting = wallet(&authority, true);
    issue(&trusting, &authority, "1990-05-05");
    let bank = Bank::new(verifier(&authority, NOW, ClientIdScheme::X509Hash));

    // A relying party the wallet does not trust.
    let stranger = wallet(&authority, false);
    assert_eq!(
        presentation_failure(rt.block_on(stranger.clone().start_online_presentation(
            bank.ask(age_and_name(), ResponseMode::DirectPost, vec![]),
            bank.clone()
        ))),
        PresentationFailure::UntrustedRelyingParty
    );

    // A client id that does not name the signing certificate: x509_san_dns with a name the
    // certificate does not carry.
    let liar = Bank::new(verifier(
        &authority,
        NOW,
        ClientIdScheme::X509SanDns {
            dns_name: "bank.example".into(),
        },
    ));
    assert_eq!(
        presentation_failure(rt.block_on(trusting.clone().start_online_presentation(
            liar.ask(age_and_name(), ResponseMode::DirectPost, vec![]),
            liar.clone()
        ))),
        PresentationFailure::UntrustedRelyingParty
    );
    // An unknown prefix.
    assert_eq!(
        presentation_failure(rt.block_on(trusting.clone().start_online_presentation(
            "openid4vp://?client_id=decentralized_identifier%3Adid%3Aexample%3A1&request_uri=https%3A%2F%2Fbank.example%2Frequest%2Fx".into(),
            bank.clone()
        ))),
        PresentationFailure::InvalidClient
    );

    // Nothing answers the query: the wallet says why, and declining tells the relying party.
    let passport = serde_json::json!({"credentials": [{"id": "p", "format": "mso_mdoc",
        "meta": {"doctype_value": "org.iso.23220.photoid.1"}}]});
    let session = rt
        .block_on(trusting.clone().start_online_presentation(
            bank.ask(passport, ResponseMode::DirectPost, vec![]),
            bank.clone(),
        ))
        .unwrap();
    let view = session.request();
    assert!(view
        .unsatisfiable
        .as_deref()
        .unwrap()
        .contains("holds no org.iso.23220.photoid.1"));
    assert!(matches!(
        rt.block_on(session.respond(vec![])),
        Err(WalletError::Presentation {
            failure: PresentationFailure::Unsatisfiable,
            ..
        })
    ));
    rt.block_on(session.decline()).unwrap();
    assert!(matches!(
        bank.last(),
        Err(WalletError::Presentation {
            failure: PresentationFailure::Declined,
            ..
        })
    ));

    // An expired request: made 200 s ago to live 100 s.
    let old = Bank::new(verifier(&authority, NOW - 200, ClientIdScheme::X509Hash));
    let created = old
        .verifier
        .create_request(PresentationRequestOptions {
            dcql_query_json: age_and_name().to_string(),
            response_mode: ResponseMode::DirectPost,
            response_uri_base: Some(format!("{RP}/response")),
            transaction_data_json: vec![],
            expected_origins: vec![],
            lifetime_seconds: 100,
        })
        .unwrap();
    old.objects
        .lock()
        .unwrap()
        .insert("old".into(), created.request_object);
    let uri = openid4vp_wallet_uri(created.client_id, format!("{RP}/request/old"), false);
    assert_eq!(
        presentation_failure(
            rt.block_on(trusting.clone().start_online_presentation(uri, old.clone()))
        ),
        PresentationFailure::ExpiredRequest
    );

    // A replayed request: the same request object (client and nonce) a second time.
    let created = bank
        .verifier
        .create_request(PresentationRequestOptions {
            dcql_query_json: age_and_name().to_string(),
            response_mode: ResponseMode::DirectPost,
            response_uri_base: Some(format!("{RP}/response")),
            transaction_data_json: vec![],
            expected_origins: vec![],
            lifetime_seconds: 300,
        })
        .unwrap();
    let by_value = format!(
        "openid4vp://?client_id={}&request={}",
        created.client_id, created.request_object
    );
    let first = rt
        .block_on(
            trusting
                .clone()
                .start_online_presentation(by_value.clone(), bank.clone()),
        )
        .unwrap();
    assert_eq!(
        presentation_failure(
            rt.block_on(
                trusting
                    .clone()
                    .start_online_presentation(by_value, bank.clone())
            )
        ),
        PresentationFailure::ReplayedRequest
    );
    let view = first.request();

    // A response made for one request, delivered for another (another nonce and state): the
    // relying party refuses it.
    rt.block_on(first.respond(choose(&view))).unwrap();
    bank.last().unwrap();
    let answered = bank.bodies.lock().unwrap().last().unwrap().clone();
    let other = bank
        .verifier
        .create_request(PresentationRequestOptions {
            dcql_query_json: age_and_name().to_string(),
            response_mode: ResponseMode::DirectPost,
            response_uri_base: Some(format!("{RP}/response")),
            transaction_data_json: vec![],
            expected_origins: vec![],
            lifetime_seconds: 300,
        })
        .unwrap();
    assert!(bank
        .verifier
        .receive_direct_post(other.request_id, answered.clone())
        .is_err());
    // And the request it was made for is spent: a replayed response is refused too.
    assert!(bank
        .verifier
        .receive_direct_post(created.request_id, answered)
        .is_err());
}

#[test]
fn the_digital_credentials_api_signed_and_unsigned() {
    let authority =
        TestAuthority::create("Test".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    let wallet = wallet(&authority, true);
    issue(&wallet, &authority, "1990-05-05");
    let verifier = verifier(&authority, NOW, ClientIdScheme::X509Hash);
    let origin = "https://bank.example";
    for protocol in ["openid4vp-v1-signed", "openid4vp-v1-unsigned"] {
        let created = verifier
            .create_request(PresentationRequestOptions {
                dcql_query_json: age_and_name().to_string(),
                response_mode: ResponseMode::DcApiJwt,
                response_uri_base: None,
                transaction_data_json: vec![],
                expected_origins: vec![origin.into()],
                lifetime_seconds: 300,
            })
            .unwrap();
        let data = if protocol == "openid4vp-v1-signed" {
            serde_json::json!({ "request": created.request_object })
        } else {
            // The same parameters, unsigned, as a page would pass them to the browser.
            let payload = created.request_object.split('.').nth(1).unwrap();
            let bytes =
                base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                    .unwrap();
            serde_json::from_slice(&bytes).unwrap()
        };
        let session = wallet
            .clone()
            .start_dc_api_presentation(protocol.into(), data.to_string(), origin.into())
            .unwrap();
        let view = session.request();
        assert_eq!(
            view.relying_party.verified,
            protocol == "openid4vp-v1-signed"
        );
        assert_eq!(view.origin.as_deref(), Some(origin));
        let outcome = runtime().block_on(session.respond(choose(&view))).unwrap();
        let response = outcome.dc_api_response.unwrap();
        assert!(response.contains("\"response\""), "encrypted (dc_api.jwt)");
        let result = verifier.receive_dc_api(created.request_id, response, origin.into());
        if protocol == "openid4vp-v1-signed" {
            assert_eq!(result.unwrap().credentials.len(), 2);
        } else {
            // Nothing proves who asks: the policy lets only the age predicate go, so the
            // certificate the bank requires is not presented and the bank refuses the answer;
            // the record says what was withheld and why.
            assert!(
                matches!(
                    result,
                    Err(WalletError::Verification {
                        failure: VerificationFailure::NotRequested,
                        ..
                    })
                ),
                "{result:?}"
            );
            let entry = &wallet
                .list_journal(
                    JournalFilter {
                        kinds: vec![JournalKind::Presentation],
                        ..Default::default()
                    },
                    0,
                    1,
                )
                .unwrap()
                .entries[0];
            let details: serde_json::Value = serde_json::from_str(&entry.details_json).unwrap();
            let credentials = details["credentials"].as_array().unwrap();
            let mdl = credentials
                .iter()
                .find(|c| c["doc_type"] == "org.iso.18013.5.1.mDL")
                .unwrap();
            assert_eq!(
                mdl["released"],
                serde_json::json!(["org.iso.18013.5.1/age_over_19"])
            );
            assert_eq!(
                mdl["withheld"],
                serde_json::json!([{"item": "org.iso.18013.5.1/family_name", "reason": "policy"}])
            );
            let certificate = credentials
                .iter()
                .find(|c| c["doc_type"] != "org.iso.18013.5.1.mDL")
                .unwrap();
            assert_eq!(certificate["released"], serde_json::json!([]));
        }
    }
    // A signed request from another origin than it names is refused.
    let created = verifier
        .create_request(PresentationRequestOptions {
            dcql_query_json: age_and_name().to_string(),
            response_mode: ResponseMode::DcApi,
            response_uri_base: None,
            transaction_data_json: vec![],
            expected_origins: vec!["https://bank.example".into()],
            lifetime_seconds: 300,
        })
        .unwrap();
    let data = serde_json::json!({ "request": created.request_object }).to_string();
    assert!(wallet
        .clone()
        .start_dc_api_presentation(
            "openid4vp-v1-signed".into(),
            data,
            "https://phish.example".into()
        )
        .is_err());
}

#[test]
fn annex_c_over_the_digital_credentials_api_round_trip() {
    use wallet_core::mdoc::request::{DeviceRequest, DocRequest, ItemsRequest};
    use wallet_core::mdoc::response::DeviceResponse;
    use wallet_core::openid4vp::dc_api;
    use wallet_core::trust::x509::ParsedCertificate;
    use wallet_core::verifier::mdoc::{verify_document, VerificationContext};

    let authority =
        TestAuthority::create("Test".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    let wallet = wallet(&authority, true);
    issue(&wallet, &authority, "1990-05-05");
    let items = ItemsRequest {
        doc_type: "org.iso.18013.5.1.mDL".into(),
        namespaces: vec![(
            "org.iso.18013.5.1".into(),
            vec![("age_over_19".into(), false), ("portrait".into(), false)],
        )],
        request_info: None,
    };
    let request = DeviceRequest {
        version: "1.0".into(),
        doc_requests: vec![DocRequest {
            items_request_bytes: items.encode(),
            items_request: items,
            reader_auth: None,
        }],
    };
    // The relying party's page: a request with a fresh EncryptionInfo.
    let (key, encryption_info, data) = dc_api::mdoc_request(&request).unwrap();
    let origin = "https://shop.example";
    let session = wallet
        .clone()
        .start_dc_api_presentation("org-iso-mdoc".into(), data.to_string(), origin.into())
        .unwrap();
    let view = session.request();
    assert!(!view.relying_party.verified, "no reader authentication");
    assert_eq!(view.queries[0].candidates[0].claims.len(), 2);
    let outcome = runtime().block_on(session.respond(choose(&view))).unwrap();
    let response: serde_json::Value =
        serde_json::from_str(&outcome.dc_api_response.unwrap()).unwrap();
    let (bytes, transcript) =
        dc_api::open_mdoc_response(&key, &encryption_info, origin, &response).unwrap();
    let device_response = DeviceResponse::parse(&bytes).unwrap();
    let iaca = vec![ParsedCertificate::from_der(
        &authority.root_certificate(TrustRole::MdocIssuer).unwrap(),
    )
    .unwrap()];
    let verified = verify_document(
        &device_response.documents[0],
        &VerificationContext {
            iaca: &iaca,
            at: NOW,
            transcript: &transcript,
            e_reader_key: None,
        },
    )
    .unwrap();
    assert_eq!(verified.elements.len(), 2);
    // Another origin's transcript does not open it.
    assert!(
        dc_api::open_mdoc_response(&key, &encryption_info, "https://phish.example", &response)
            .is_err()
    );
}

/// A relying party signing with `signer` instead of the authority's own relying-party signer.
/// The citizen approves every item of every document, with its first credential.
fn approve_everything(disclosure: &DisclosureRequest, remember_days: u32) -> DisclosureDecision {
    DisclosureDecision {
        approved: disclosure
            .documents
            .iter()
            .map(|d| DocumentApproval {
                id: d.id.clone(),
                credential_id: d.credential_ids[0].clone(),
                items: d.items.iter().map(|i| i.path.clone()).collect(),
            })
            .collect(),
        remember_days,
    }
}

fn verifier_signed_by(authority: &TestAuthority, signer: IssuedSigner) -> Arc<Openid4vpVerifier> {
    Openid4vpVerifier::new(Openid4vpVerifierConfig {
        signing_certificate_chain: vec![signer.certificate],
        signing_key: signer.key,
        client_id_scheme: ClientIdScheme::X509Hash,
        iaca_certificates: vec![authority.root_certificate(TrustRole::MdocIssuer).unwrap()],
        sd_jwt_issuer_certificates: vec![authority
            .root_certificate(TrustRole::SdJwtIssuer)
            .unwrap()],
        status_list_certificates: vec![],
        clock: Some(fixed_clock(NOW)),
        max_key_binding_age_seconds: 300,
        clock_skew_seconds: 60,
    })
    .unwrap()
}

#[test]
fn online_the_policy_restricts_prefers_predicates_and_remembers() {
    let authority =
        TestAuthority::create("Test".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    let wallet = wallet(&authority, true);
    let mut policy = wallet.disclosure_policy().unwrap();
    policy.legal_basis_policies = vec![TEST_LEGAL_BASIS_POLICY.into()];
    wallet.set_disclosure_policy(policy).unwrap();
    issue(&wallet, &authority, "1990-05-05");
    let rt = runtime();
    let rrn_and_age = serde_json::json!({
        "credentials": [
            {"id": "licence", "format": "mso_mdoc", "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
             "claims": [{"path": ["org.iso.18013.5.1", "birth_date"]},
                        {"path": ["org.iso.18013.5.1", "age_over_19"]}]},
            {"id": "abstract", "format": "dc+sd-jwt",
             "meta": {"vct_values": ["urn:jigap:cert:resident-registration-abstract:1"]},
             "claims": [{"path": ["name"]}, {"path": ["resident_registration_number"]}]}
        ]
    });
    let verdict_of = |d: &DisclosureRequest, query: &str, path: &str| {
        d.documents
            .iter()
            .find(|doc| doc.id == query)
            .and_then(|doc| doc.items.iter().find(|i| i.path == path))
            .map(|i| i.verdict.clone())
            .unwrap()
    };

    // A verified bank without a legal basis: the number is withheld, the birth date waits for
    // its own approval behind age_over_19.
    let plain = Bank::new(verifier(&authority, NOW, ClientIdScheme::X509Hash));
    let uri = plain.ask(rrn_and_age.clone(), ResponseMode::DirectPost, vec![]);
    let session = rt
        .block_on(wallet.clone().start_online_presentation(uri, plain.clone()))
        .unwrap();
    let disclosure = session.disclosure();
    assert_eq!(disclosure.channel, DisclosureChannel::Online);
    assert!(disclosure.relying_party.authenticated && !disclosure.relying_party.legal_basis);
    assert_eq!(
        verdict_of(&disclosure, "abstract", "/resident_registration_number"),
        ItemVerdict::Withheld {
            reason: WithheldReason::Restricted
        }
    );
    assert_eq!(
        verdict_of(&disclosure, "licence", "org.iso.18013.5.1/birth_date"),
        ItemVerdict::NeedsOwnApproval {
            minimal: "org.iso.18013.5.1/age_over_19".into()
        }
    );
    // The host answers by query; the policy decides the items: the bank gets neither the
    // number nor the birth date, sees its query unanswered, and refuses.
    assert!(matches!(
        rt.block_on(session.respond(choose(&session.request()))),
        Err(WalletError::Presentation {
            failure: PresentationFailure::Protocol,
            ..
        })
    ));
    assert!(plain.last().is_err());
    let entry = &wallet
        .list_journal(JournalFilter::default(), 0, 1)
        .unwrap()
        .entries[0];
    assert!(
        entry.details_json.contains(r#""reason":"restricted""#),
        "{}",
        entry.details_json
    );

    // A bank whose certificate carries the legal basis gets the number when the citizen
    // approves it, and the birth date when named; the citizen remembers the decision.
    let signer = authority
        .issue_signer(
            TrustRole::RelyingParty,
            "Test Bank With Basis".into(),
            vec![TEST_LEGAL_BASIS_POLICY.into()],
        )
        .unwrap();
    let based = Bank::new(verifier_signed_by(&authority, signer));
    let uri = based.ask(rrn_and_age.clone(), ResponseMode::DirectPostJwt, vec![]);
    let session = rt
        .block_on(wallet.clone().start_online_presentation(uri, based.clone()))
        .unwrap();
    let disclosure = session.disclosure();
    assert!(disclosure.relying_party.legal_basis);
    assert_eq!(
        verdict_of(&disclosure, "abstract", "/resident_registration_number"),
        ItemVerdict::Offered
    );
    rt.block_on(session.respond_to(approve_everything(&disclosure, 7)))
        .unwrap();
    let result = based.last().unwrap();
    let paths: Vec<String> = result
        .credentials
        .iter()
        .flat_map(|c| c.claims.iter().map(|cl| cl.path.join("/")))
        .collect();
    assert!(
        paths.contains(&"resident_registration_number".to_string()),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"org.iso.18013.5.1/birth_date".to_string()),
        "{paths:?}"
    );
    // Remembered per credential, never the number.
    let grants = wallet.list_grants().unwrap();
    assert_eq!(grants.len(), 2);
    assert!(grants
        .iter()
        .all(|g| g.relying_party.contains("Test Bank With Basis")
            && !g
                .items
                .iter()
                .any(|i| i.contains("resident_registration_number"))));
}

#[test]
fn the_policy_narrows_to_a_claim_set_the_relying_party_also_accepts() {
    let authority =
        TestAuthority::create("Test".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    let wallet = wallet(&authority, true);
    issue(&wallet, &authority, "1990-05-05");
    let verifier = verifier(&authority, NOW, ClientIdScheme::X509Hash);
    let origin = "https://bank.example";
    let dcql = serde_json::json!({"credentials": [{"id": "abstract", "format": "dc+sd-jwt",
        "meta": {"vct_values": ["urn:jigap:cert:resident-registration-abstract:1"]},
        "claims": [{"id": "name", "path": ["name"]}, {"id": "district", "path": ["address", "locality"]},
                   {"id": "rrn", "path": ["resident_registration_number"]}],
        "claim_sets": [["name", "district", "rrn"], ["name", "district"]]}]});
    let created = verifier
        .create_request(PresentationRequestOptions {
            dcql_query_json: dcql.to_string(),
            response_mode: ResponseMode::DcApiJwt,
            response_uri_base: None,
            transaction_data_json: vec![],
            expected_origins: vec![origin.into()],
            lifetime_seconds: 300,
        })
        .unwrap();
    let session = wallet
        .clone()
        .start_dc_api_presentation(
            "openid4vp-v1-signed".into(),
            serde_json::json!({ "request": created.request_object }).to_string(),
            origin.into(),
        )
        .unwrap();
    let disclosure = session.disclosure();
    assert_eq!(disclosure.channel, DisclosureChannel::DigitalCredentialsApi);
    let rrn = disclosure.documents[0]
        .items
        .iter()
        .find(|i| i.path == "/resident_registration_number")
        .unwrap();
    assert_eq!(
        rrn.verdict,
        ItemVerdict::Withheld {
            reason: WithheldReason::Restricted
        }
    );
    let outcome = runtime()
        .block_on(session.respond(choose(&session.request())))
        .unwrap();
    // The host learns what went and what did not, and why.
    assert_eq!(outcome.disclosed.len(), 1);
    assert_eq!(
        outcome.disclosed[0].withheld,
        vec![WithheldItem {
            path: "/resident_registration_number".into(),
            reason: WithheldReason::Restricted
        }]
    );
    assert!(outcome.disclosed[0].released.contains(&"/name".to_string()));
    let result = verifier
        .receive_dc_api(
            created.request_id,
            outcome.dc_api_response.unwrap(),
            origin.into(),
        )
        .unwrap();
    let shown: Vec<String> = result.credentials[0]
        .claims
        .iter()
        .map(|c| c.path.join("/"))
        .collect();
    assert!(shown.contains(&"name".to_string()) && shown.contains(&"address/locality".to_string()));
    assert!(!shown
        .iter()
        .any(|p| p.contains("resident_registration_number")));
}

#[test]
fn online_a_restricted_identifier_inside_an_asked_object_is_refused_without_a_legal_basis() {
    let authority =
        TestAuthority::create("Test".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    let wallet = wallet(&authority, true);
    let mut policy = wallet.disclosure_policy().unwrap();
    policy.legal_basis_policies = vec![TEST_LEGAL_BASIS_POLICY.into()];
    wallet.set_disclosure_policy(policy).unwrap();
    // The address is one disclosure; the number the issuer put in it is a plain claim of it.
    let key = wallet.create_device_key().unwrap();
    let certificate = authority
        .issue_e_certificate(
            "resident-abstract".into(),
            key.public_key,
            serde_json::json!({"name": "홍길동", "address": {"locality": "종로구",
                "resident_registration_number": "900505-1234567"}})
            .to_string(),
            None,
        )
        .unwrap();
    wallet.add_sd_jwt(certificate, key.alias).unwrap();
    let locality = serde_json::json!({
        "credentials": [{"id": "abstract", "format": "dc+sd-jwt",
            "meta": {"vct_values": ["urn:jigap:cert:resident-registration-abstract:1"]},
            "claims": [{"path": ["address", "locality"]}]}]
    });
    let rt = runtime();

    // A verified bank without a legal basis: the locality is offered, but it cannot go
    // without the address, which carries the number. Nothing is sent.
    let plain = Bank::new(verifier(&authority, NOW, ClientIdScheme::X509Hash));
    let uri = plain.ask(locality.clone(), ResponseMode::DirectPost, vec![]);
    let session = rt
        .block_on(wallet.clone().start_online_presentation(uri, plain.clone()))
        .unwrap();
    let decision = approve_everything(&session.disclosure(), 0);
    assert!(matches!(
        rt.block_on(session.respond_to(decision)),
        Err(WalletError::InvalidInput { reason })
            if reason.contains("/address/resident_registration_number")
    ));
    assert!(
        plain.results.lock().unwrap().is_empty(),
        "nothing reached the bank"
    );

    // A bank whose certificate carries the legal basis may have it.
    let signer = authority
        .issue_signer(
            TrustRole::RelyingParty,
            "Test Bank With Basis".into(),
            vec![TEST_LEGAL_BASIS_POLICY.into()],
        )
        .unwrap();
    let based = Bank::new(verifier_signed_by(&authority, signer));
    let uri = based.ask(locality, ResponseMode::DirectPostJwt, vec![]);
    let session = rt
        .block_on(wallet.clone().start_online_presentation(uri, based.clone()))
        .unwrap();
    let decision = approve_everything(&session.disclosure(), 0);
    rt.block_on(session.respond_to(decision)).unwrap();
    assert!(based.last().is_ok());
}
