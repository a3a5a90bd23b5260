//! `jigap demo`: the wallet's story end to end in a temporary directory, through the public API.
//! Each capability adds its chapter here as it lands.

use std::time::Instant;

use serde_json::json;
use std::sync::{Arc, Mutex};

use wallet_core::{
    consent_is_revoked, passphrase_key_protector, verify_consent_token, Approval, BenefitResult,
    BillDraft, BillKind, CitizenFact, ConsentMode, ConsentRequest, CredentialFilter,
    DeviceAuthMode, DisclosureDecision, DisclosureRequest, DocumentApproval, ElementRef,
    Eligibility, FactValue, HttpClient, HttpRequest, IssuanceOptions, IssuedCredential,
    ItemVerdict, JournalFilter, JournalKind, MdocReader, NotificationCategory, NotificationDraft,
    NotificationFilter, PresentationEvent, Priority, QueryChoice, ReaderConfig, ReaderEvent,
    SdJwtVerifier, SdJwtVerifierConfig, StatusListFormat, StatusValue, TestAuthority, TrustRole,
    UserPrompt, VerificationFailure, Wallet, WalletConfig, WalletError,
};

use crate::context::CliError;

struct Steps {
    json: bool,
    started: Instant,
    log: Vec<serde_json::Value>,
}

impl Steps {
    fn say(&mut self, step: &str, detail: String) {
        if self.json {
            self.log.push(json!({ "step": step, "detail": detail }));
        } else {
            out!(
                "[{:>6.2}s] {step}: {detail}",
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

/// Runs the demo.
pub fn run(json_output: bool) -> Result<(), CliError> {
    let dir = tempdir()?;
    let path = dir.join("demo.jigap");
    let path_text = path.to_string_lossy().into_owned();
    let passphrase = "demo passphrase — not for real use".to_string();
    let mut steps = Steps {
        json: json_output,
        started: Instant::now(),
        log: Vec::new(),
    };
    let config = || -> Result<WalletConfig, CliError> {
        Ok(WalletConfig {
            allow_loopback_http: false,
            path: Some(path_text.clone()),
            create_if_missing: true,
            key_protector: passphrase_key_protector(passphrase.clone())?,
            secure_area: None,
            clock: None,
            listener: None,
        })
    };

    let result = (|| -> Result<(), CliError> {
        let wallet = Wallet::open_blocking(config()?)?;
        steps.say(
            "open",
            format!("created an encrypted wallet at {path_text}"),
        );

        wallet.set_pin("246810".into())?;
        wallet.lock()?;
        steps.say("pin", "set a 6-digit PIN and locked the wallet".into());
        match wallet.verify_pin("000000".into()) {
            Err(WalletError::WrongPin { tries_left }) => {
                steps.say("pin", format!("wrong PIN refused, {tries_left} tries left"))
            }
            other => {
                return Err(CliError::from(format!(
                    "expected a wrong PIN, got {other:?}"
                )))
            }
        }
        wallet.verify_pin("246810".into())?;
        steps.say("pin", "unlocked with the right PIN".into());

        let authority = TestAuthority::create("Jigap Demo".into(), "KR".into(), None)?;
        // The authority's servers on loopback, over HTTPS with its TLS certificate: a status
        // list (so credentials can be revoked) and an OpenID4VCI issuer that puts every
        // credential it issues in that list.
        let runtime = crate::http::runtime()?;
        let published: Arc<Mutex<Vec<u8>>> = Arc::new(Mutex::new(Vec::new()));
        let served = published.clone();
        let router = axum::Router::new().route(
            "/lists/1",
            axum::routing::get(move || {
                let body = served.lock().map(|b| b.clone()).unwrap_or_default();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "application/statuslist+jwt",
                        )],
                        body,
                    )
                }
            }),
        );
        let status_server =
            crate::http::serve(&runtime, router, 0, Some(&authority.tls_server_identity()?))?;
        let uri = format!("{}/lists/1", status_server.base_url);
        if let Ok(mut list) = published.lock() {
            *list =
                authority.status_list_token(uri.clone(), 256, vec![], StatusListFormat::Jwt, 0)?;
        }
        let issuer = crate::issuer_server::start(
            &runtime,
            authority.clone(),
            crate::issuer_server::routes::Settings {
                batch_size: 10,
                require_key_attestation: false,
                require_client_attestation: false,
                status_uri: Some(uri.clone()),
                quiet: true,
            },
            0,
            false,
        )?;
        let client: Arc<crate::http::CliHttpClient> =
            Arc::new(crate::http::CliHttpClient::new(&[
                authority.tls_root_certificate()
            ])?);
        for role in [
            TrustRole::MdocIssuer,
            TrustRole::SdJwtIssuer,
            TrustRole::StatusListIssuer,
        ] {
            wallet.add_trust_anchor(role, authority.root_certificate(role)?)?;
        }
        steps.say(
            "issuer",
            format!(
                "an OpenID4VCI issuer serves at {} (HTTPS, the authority's TLS certificate); the wallet trusts its IACA, its certificate issuer and its status lists",
                issuer.server.base_url
            ),
        );

        let received = receive(&wallet, &issuer, &client, &runtime, "mdl", &mut steps)?;
        let id = received.credential_id.clone();
        let mdl = wallet.get_credential(id.clone())?.raw;
        steps.say(
            "issue",
            format!(
                "received an mDL over OpenID4VCI (pre-authorized code + transaction code, nonce, key proof for a fresh device key), checked against the IACA and stored as {id} ({} bytes)",
                mdl.len()
            ),
        );
        wallet.add_trust_anchor(
            TrustRole::MdocReader,
            authority.root_certificate(TrustRole::MdocReader)?,
        )?;

        let holder = wallet
            .clone()
            .start_presentation(vec![], DeviceAuthMode::Signature)?;
        let qr_uri = holder.engagement()?.qr_uri;
        steps.say(
            "engage",
            format!(
                "the wallet shows its QR code: {}…",
                qr_uri.chars().take(48).collect::<String>()
            ),
        );
        let reader = MdocReader::new(ReaderConfig {
            iaca_certificates: vec![authority.root_certificate(TrustRole::MdocIssuer)?],
            status_list_certificates: vec![authority.root_certificate(TrustRole::StatusListIssuer)?],
            reader_certificate_chain: vec![authority.signer_certificate(TrustRole::MdocReader)?],
            reader_private_key: Some(authority.signer_key(TrustRole::MdocReader)?),
            clock: None,
            session_state_key: None,
        })?;
        // The reader checks the licence's status too: it fetches the list the MSO points to.
        let list = crate::http::fetch(&client, HttpRequest::get(&uri))?;
        reader.add_status_list(uri.clone(), list.body)?;
        let request =
            crate::mdoc::parse_request("org.iso.18013.5.1.mDL=age_over_19,family_name,portrait")?;
        let session = reader.start_session(qr_uri, vec![request])?;
        let PresentationEvent::Request { documents, .. } =
            holder.receive(session.request_message())?
        else {
            return Err(CliError::from("the reader ended the session".to_string()));
        };
        let first = documents
            .first()
            .ok_or_else(|| CliError::from("the request names no document".to_string()))?;
        let asked: Vec<String> = first
            .elements
            .iter()
            .map(|e| e.identifier.clone())
            .collect();
        let trusted = first.reader.as_ref().is_some_and(|r| r.trusted);
        steps.say(
            "request",
            format!(
                "a {} reader asks for {}; the citizen approves only age_over_19",
                if trusted { "trusted" } else { "UNTRUSTED" },
                asked.join(", ")
            ),
        );
        let answer = holder.respond(vec![Approval {
            document_index: 0,
            credential_id: id.clone(),
            elements: vec![ElementRef {
                namespace: "org.iso.18013.5.1".into(),
                identifier: "age_over_19".into(),
            }],
        }])?;
        let ReaderEvent::Response { report } = session.receive(answer)? else {
            return Err(CliError::from("no response".to_string()));
        };
        let released = report
            .documents
            .first()
            .map(|d| d.elements.len())
            .unwrap_or(0);
        if released != 1 {
            return Err(CliError::from(format!(
                "expected one released element, got {released}"
            )));
        }
        steps.say(
            "verify",
            crate::mdoc::report_text(&report).replace('\n', " | "),
        );
        holder.terminate()?;
        policy_chapter(&wallet, &authority, &uri, &client, &runtime, &mut steps)?;

        let result = certificate_chapter(
            &wallet, &authority, &issuer, &uri, &published, &client, &runtime, &mut steps,
        );
        issuer.server.handle.shutdown();
        status_server.handle.shutdown();
        result?;
        services_chapter(&wallet, &authority, &mut steps)?;
        let raw = mdl;
        wallet.close_store()?;

        let wallet = Wallet::open_blocking(config()?)?;
        wallet.verify_pin("246810".into())?;
        let page = wallet.list_credentials(CredentialFilter::default(), 0, 10)?;
        let back = wallet.get_credential(id.clone())?;
        if back.raw != raw {
            return Err(CliError::from(
                "credential bytes changed across reopen".to_string(),
            ));
        }
        steps.say(
            "reopen",
            format!(
                "reopened: {} credential(s), the mDL's bytes identical, named {}",
                page.total, back.summary.display_name_ko
            ),
        );

        let check = wallet.verify_journal()?;
        let record = wallet.list_journal(JournalFilter::default(), 0, 500)?;
        for entry in record
            .entries
            .iter()
            .filter(|e| e.kind == JournalKind::Presentation)
            .rev()
        {
            steps.say("record", crate::log::entry_summary(entry));
        }
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        for entry in &record.entries {
            *counts.entry(format!("{:?}", entry.kind)).or_default() += 1;
        }
        steps.say(
            "record",
            format!(
                "the citizen's record holds {} entries ({}), each chained to the last, the head signed by a wallet key: checked",
                check.entries,
                counts
                    .iter()
                    .map(|(kind, n)| format!("{n} {kind}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );

        let report = wallet.wipe_blocking()?;
        steps.say("wipe", crate::output::wipe_text(&report));
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    if json_output {
        out!("{}", json!({ "demo": "ok", "steps": steps.log }));
    } else {
        out!("demo complete");
    }
    Ok(())
}

/// Receives `configuration` from the demo's issuer: an offer with a transaction code, resolved
/// and accepted through the wallet's API over HTTPS.
fn receive(
    wallet: &Arc<Wallet>,
    issuer: &crate::issuer_server::Running,
    client: &Arc<crate::http::CliHttpClient>,
    runtime: &tokio::runtime::Runtime,
    configuration: &str,
    steps: &mut Steps,
) -> Result<IssuedCredential, CliError> {
    let offer = crate::issuer_server::routes::create_offer(
        &issuer.shared,
        crate::issuer_server::routes::OfferRequest::of(vec![configuration.to_owned()]),
    )
    .map_err(|e| CliError::from(format!("offer: {e}")))?;
    steps.say(
        "offer",
        format!(
            "the issuer offers {configuration}: {}…; its transaction code goes to the citizen separately",
            offer.offer_uri.chars().take(56).collect::<String>()
        ),
    );
    let http: Arc<dyn HttpClient> = client.clone();
    let result = runtime.block_on(async {
        let session = wallet
            .clone()
            .resolve_credential_offer(offer.offer_uri.clone(), http, None)
            .await?;
        session
            .accept(IssuanceOptions {
                tx_code: offer.tx_code.clone(),
                ..IssuanceOptions::default()
            })
            .await
    })?;
    result
        .credentials
        .into_iter()
        .next()
        .ok_or_else(|| CliError::from(format!("{configuration} was not issued")))
}

fn tempdir() -> Result<std::path::PathBuf, CliError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("jigap-demo-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Receives a resident registration abstract over OpenID4VCI (with a status list entry),
/// presents two claims to a bank, then revokes it: the wallet's refresh and the bank's
/// verifier both see it.
#[allow(clippy::too_many_arguments)]
fn certificate_chapter(
    wallet: &Arc<Wallet>,
    authority: &TestAuthority,
    issuer: &crate::issuer_server::Running,
    uri: &str,
    published: &Mutex<Vec<u8>>,
    client: &Arc<crate::http::CliHttpClient>,
    runtime: &tokio::runtime::Runtime,
    steps: &mut Steps,
) -> Result<(), CliError> {
    let status_root = authority.root_certificate(TrustRole::StatusListIssuer)?;
    let received = receive(wallet, issuer, client, runtime, "resident-abstract", steps)?;
    let cert_id = received.credential_id;
    // The issuer numbers status entries in issuing order: the mDL has 0, this certificate 1.
    let cert_index = 1;
    let present = || {
        wallet.present_sd_jwt(
            cert_id.clone(),
            vec!["/name".into(), "/address/locality".into()],
            "https://bank.jigap.example".into(),
            "demo-nonce-7".into(),
        )
    };
    let bank = || -> Result<Arc<SdJwtVerifier>, CliError> {
        let verifier = SdJwtVerifier::new(SdJwtVerifierConfig {
            trusted_issuer_certificates: vec![authority.root_certificate(TrustRole::SdJwtIssuer)?],
            status_list_certificates: vec![status_root.clone()],
            accepted_vcts: vec![],
            require_expiry: true,
            max_key_binding_age_seconds: 300,
            clock_skew_seconds: 60,
            clock: None,
        })?;
        let fetched = crate::http::fetch(client, HttpRequest::get(uri))?;
        verifier.add_status_list(uri.to_string(), fetched.body)?;
        Ok(verifier)
    };
    // The presentation is made before the bank fetches the list: the list is published with
    // a ttl of 0, so it is fresh only within the second it was fetched.
    let presentation = present()?;
    let verified = bank()?.verify(
        presentation,
        "https://bank.jigap.example".into(),
        "demo-nonce-7".into(),
    )?;
    let shown: Vec<String> = verified
        .disclosed
        .iter()
        .map(|d| format!("{} = {}", d.path, d.value_json))
        .collect();
    steps.say(
        "certificate",
        format!(
            "a resident registration abstract (SD-JWT VC) went to a bank with two claims; verified, key-bound, status valid: {}",
            shown.join(", ")
        ),
    );
    online_chapter(wallet, authority, uri, client, runtime, steps)?;

    *published
        .lock()
        .map_err(|_| CliError::from("status list lock".to_string()))? = authority
        .status_list_token(
            uri.to_string(),
            256,
            vec![StatusValue {
                index: cert_index,
                status: 1,
            }],
            StatusListFormat::Jwt,
            0,
        )?;
    let report = runtime.block_on(wallet.clone().refresh_status(client.clone()))?;
    let now_state = wallet.get_credential(cert_id.clone())?.summary.state;
    let presentation = present()?;
    let rejected = match bank()?.verify(
        presentation,
        "https://bank.jigap.example".into(),
        "demo-nonce-7".into(),
    ) {
        Err(WalletError::Verification {
            failure: VerificationFailure::Revoked,
            ..
        }) => true,
        other => {
            return Err(CliError::from(format!(
                "a revoked certificate was not rejected: {other:?}"
            )))
        }
    };
    steps.say(
        "revoke",
        format!(
            "the issuer revoked it in its status list ({uri}); the wallet's refresh over HTTP marked it {} ({} change); the bank now rejects it: {rejected}",
            crate::output::state_name(now_state),
            report.changed.len()
        ),
    );
    Ok(())
}

/// The consent screen of the demo: prints what the core asks and shares what is offered.
struct DemoScreen;

#[async_trait::async_trait]
impl UserPrompt for DemoScreen {
    async fn ask(
        &self,
        request: DisclosureRequest,
    ) -> Result<Option<DisclosureDecision>, WalletError> {
        Ok(Some(DisclosureDecision {
            approved: request
                .documents
                .iter()
                .filter_map(|d| {
                    Some(DocumentApproval {
                        id: d.id.clone(),
                        credential_id: d.credential_ids.first()?.clone(),
                        items: d
                            .items
                            .iter()
                            .filter(|i| matches!(i.verdict, ItemVerdict::Offered))
                            .map(|i| i.path.clone())
                            .collect(),
                    })
                })
                .collect(),
            remember_days: 0,
        }))
    }
}

/// How a verdict reads in the demo.
fn verdict_text(verdict: &ItemVerdict) -> String {
    match verdict {
        ItemVerdict::Offered => "offered".into(),
        ItemVerdict::Granted { .. } => "remembered".into(),
        ItemVerdict::NeedsOwnApproval { minimal } => {
            format!("only if chosen ({minimal} answers first)")
        }
        ItemVerdict::Withheld { reason } => {
            format!("withheld: {}", crate::online::reason_text(*reason))
        }
    }
}

/// A bar's reader that does not sign its requests asks for the birth date, the age predicate,
/// the name and the licence number: the policy leaves it only the predicate, whatever the
/// citizen would approve, and the record says why.
fn policy_chapter(
    wallet: &Arc<Wallet>,
    authority: &TestAuthority,
    status_uri: &str,
    client: &Arc<crate::http::CliHttpClient>,
    runtime: &tokio::runtime::Runtime,
    steps: &mut Steps,
) -> Result<(), CliError> {
    let holder = wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Signature)?;
    let bar = MdocReader::new(ReaderConfig {
        iaca_certificates: vec![authority.root_certificate(TrustRole::MdocIssuer)?],
        status_list_certificates: vec![authority.root_certificate(TrustRole::StatusListIssuer)?],
        reader_certificate_chain: vec![],
        reader_private_key: None,
        clock: None,
        session_state_key: None,
    })?;
    let list = crate::http::fetch(client, HttpRequest::get(status_uri))?;
    bar.add_status_list(status_uri.to_owned(), list.body)?;
    let request = crate::mdoc::parse_request(
        "org.iso.18013.5.1.mDL=birth_date,age_over_19,family_name,document_number",
    )?;
    let session = bar.start_session(holder.engagement()?.qr_uri, vec![request])?;
    let PresentationEvent::Request { disclosure, .. } =
        holder.receive(session.request_message())?
    else {
        return Err(CliError::from("the reader ended the session".to_string()));
    };
    let verdicts: Vec<String> = disclosure
        .documents
        .iter()
        .flat_map(|d| d.items.iter())
        .map(|i| {
            format!(
                "{} {}",
                i.path.rsplit('/').next().unwrap_or(&i.path),
                verdict_text(&i.verdict)
            )
        })
        .collect();
    steps.say(
        "policy",
        format!(
            "a bar's reader that signs nothing ({}) asks; the policy: {}",
            disclosure
                .relying_party
                .unauthenticated_reason
                .as_deref()
                .unwrap_or("unverified"),
            verdicts.join("; ")
        ),
    );
    let answer = runtime.block_on(holder.answer(Arc::new(DemoScreen), 60))?;
    let ReaderEvent::Response { report } = session.receive(answer)? else {
        return Err(CliError::from("no response".to_string()));
    };
    let released: Vec<String> = report
        .documents
        .iter()
        .flat_map(|d| {
            d.elements
                .iter()
                .map(|e| format!("{} = {}", e.identifier, e.display))
        })
        .collect();
    if released.len() != 1 {
        return Err(CliError::from(format!(
            "the policy should leave one item, not {released:?}"
        )));
    }
    steps.say(
        "policy",
        format!(
            "the citizen shares what is offered; the bar receives only {}",
            released.join(", ")
        ),
    );
    session.receive(holder.terminate()?)?;
    Ok(())
}

/// A bank asks online (OpenID4VP 1.0, a signed request by reference, the answer encrypted to
/// it) for the mDL's age_over_19 and the abstract's name and locality; the wallet shows who
/// asks and what would leave, answers, and the bank verifies both credentials and their status.
fn online_chapter(
    wallet: &Arc<Wallet>,
    authority: &TestAuthority,
    status_uri: &str,
    client: &Arc<crate::http::CliHttpClient>,
    runtime: &tokio::runtime::Runtime,
    steps: &mut Steps,
) -> Result<(), CliError> {
    use crate::verifier_server::routes;
    let bank = crate::verifier_server::start(
        runtime,
        authority,
        routes::Settings {
            response_mode: routes::DirectPostMode::DirectPostJwt,
            status_uris: vec![status_uri.to_owned()],
            quiet: true,
        },
        crate::verifier_server::ClientIdArg::X509Hash,
        0,
        false,
    )?;
    let result = (|| -> Result<(), CliError> {
        wallet.add_trust_anchor(
            TrustRole::RelyingParty,
            authority.root_certificate(TrustRole::RelyingParty)?,
        )?;
        let dcql = crate::verifier_server::queries::dcql_of_specs(&[
            "mdl:age_over_19".to_owned(),
            "resident-abstract:name,address.locality".to_owned(),
        ])?;
        let request = routes::create_request(
            &bank.shared,
            routes::NewRequest {
                dcql,
                response_mode: None,
                transaction_data: vec![],
                lifetime: 300,
            },
        )
        .map_err(|e| CliError::from(format!("request: {e}")))?;
        let http: Arc<dyn HttpClient> = client.clone();
        let session = runtime.block_on(
            wallet
                .clone()
                .start_online_presentation(request.wallet_uri.clone(), http),
        )?;
        let view = session.request();
        let asked: Vec<String> = view
            .queries
            .iter()
            .flat_map(|q| q.candidates.first())
            .flat_map(|c| c.claims.iter().map(|claim| claim.path.clone()))
            .collect();
        steps.say(
            "online",
            format!(
                "a bank asks online (OpenID4VP, signed request by reference from {}): {} relying party {}; it would receive {}",
                bank.server.base_url,
                if view.relying_party.verified { "verified" } else { "UNVERIFIED" },
                view.relying_party.subject.as_deref().unwrap_or(&view.relying_party.client_id),
                asked.join(", ")
            ),
        );
        let choices: Vec<QueryChoice> = view
            .queries
            .iter()
            .filter_map(|q| {
                q.candidates.first().map(|c| QueryChoice {
                    query_id: q.query_id.clone(),
                    credential_ids: vec![c.credential_id.clone()],
                })
            })
            .collect();
        let outcome = runtime.block_on(session.respond(choices))?;
        let report = bank
            .shared
            .report(&request.request_id)
            .ok_or_else(|| CliError::from("the bank lost its request".to_string()))?;
        if report["status"] != "verified" {
            return Err(CliError::from(format!(
                "the bank did not verify the answer: {report}"
            )));
        }
        let credentials = report["result"]["credentials"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0);
        steps.say(
            "online",
            format!(
                "the citizen approves; the answer goes encrypted (direct_post.jwt) and the bank verifies {credentials} credential(s), their issuers, device/key binding and status; it sends the wallet on to {}",
                outcome.redirect_uri.as_deref().unwrap_or("-")
            ),
        );
        Ok(())
    })();
    bank.server.handle.shutdown();
    result
}

/// A bill and a notification from a registered sender, and a smishing message refused.
fn services_chapter(
    wallet: &Arc<Wallet>,
    authority: &TestAuthority,
    steps: &mut Steps,
) -> Result<(), CliError> {
    wallet.add_trust_anchor(
        TrustRole::Sender,
        authority.root_certificate(TrustRole::Sender)?,
    )?;
    let due = crate::context::format_date(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
            + 5 * 86_400,
    );
    let bill = wallet.add_bill(authority.sign_bill(BillDraft {
        id: "JONGNO-2026-RES-0001".into(),
        version: 1,
        sender_name: "서울특별시 종로구청".into(),
        kind: BillKind::LocalTax,
        title: "주민세 (개인분)".into(),
        amount_krw: 10_000,
        due_date: due,
        payee_account: "농협 123-4567-8901-23 (가상계좌)".into(),
        period: "2026".into(),
        cancelled: false,
    })?)?;
    let reminders = wallet.bills_due_within(7)?;
    steps.say(
        "bill",
        format!(
            "a signed bill from {}: {} {}원 due {} ({} due within 7 days, reminder in the inbox)",
            bill.sender_name,
            bill.title,
            bill.amount_krw,
            bill.due_date,
            reminders.len()
        ),
    );
    let notice = wallet.add_notification(authority.sign_notification(NotificationDraft {
        id: "NHIS-2026-CHECKUP-77".into(),
        category: NotificationCategory::HealthCheckup,
        title_ko: "국가건강검진 대상자 안내".into(),
        body_ko: "올해 국가건강검진 대상자입니다. 가까운 검진기관을 방문하세요.".into(),
        title_en: None,
        body_en: None,
        priority: Priority::Normal,
        expires_at: None,
        reference: None,
    })?)?;
    let smishing = wallet.add_notification(authority.sign_notification(NotificationDraft {
        id: "FAKE-REFUND-1".into(),
        category: NotificationCategory::Tax,
        title_ko: "환급금 안내".into(),
        body_ko: "미수령 환급금이 있습니다. https://bit.ly/refund 에서 조회하세요.".into(),
        title_en: None,
        body_en: None,
        priority: Priority::High,
        expires_at: None,
        reference: None,
    })?);
    let refused = match smishing {
        Err(WalletError::Verification {
            failure: VerificationFailure::CallToAction,
            detail,
        }) => detail,
        other => {
            return Err(CliError::from(format!(
                "a notification with a link was not refused: {other:?}"
            )))
        }
    };
    let inbox = wallet.list_notifications(NotificationFilter::default(), 0, 20)?;
    consent_chapter(wallet, steps)?;
    benefits_chapter(wallet, authority, steps)?;
    steps.say(
        "inbox",
        format!("received \"{}\"; refused a message with a link ({refused}); {} notification(s) in the inbox", notice.title_ko, inbox.total),
    );
    Ok(())
}

/// A MyData consent to a registered bank, checked by a data holder, then withdrawn.
fn consent_chapter(wallet: &Arc<Wallet>, steps: &mut Steps) -> Result<(), CliError> {
    let bank = TestAuthority::create("Hana Bank".into(), "KR".into(), None)?;
    wallet.add_trust_anchor(
        TrustRole::DataRecipient,
        bank.root_certificate(TrustRole::DataRecipient)?,
    )?;
    let recipient = bank.signer_certificate(TrustRole::DataRecipient)?;
    let consent = wallet.create_consent(ConsentRequest {
        recipient_certificate: recipient.clone(),
        bundles: vec!["income".into(), "health_insurance".into()],
        purpose: "전세자금대출 심사".into(),
        mode: ConsentMode::Selected,
        valid_days: 90,
    })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let checked = verify_consent_token(consent.token.clone(), recipient, now)?;
    wallet.add_transfer(consent.id.clone(), "income".into(), "국세청".into())?;
    let revocation = wallet.revoke_consent(consent.id.clone())?;
    let revoked = consent_is_revoked(consent.token, revocation)?;
    steps.say(
        "consent",
        format!(
            "a MyData consent for {} to receive {} ({} days at most), verified by the data holder, one transfer recorded, then withdrawn (revocation verifies: {revoked})",
            checked.recipient,
            checked.bundles.join(" + "),
            (consent.not_after - consent.issued_at) / 86_400
        ),
    );
    Ok(())
}

/// On-device benefit recommendations from the mDL's birth date and a few entered facts.
fn benefits_chapter(
    wallet: &Arc<Wallet>,
    authority: &TestAuthority,
    steps: &mut Steps,
) -> Result<(), CliError> {
    wallet.add_trust_anchor(
        TrustRole::CatalogPublisher,
        authority.root_certificate(TrustRole::CatalogPublisher)?,
    )?;
    wallet.set_benefit_opt_in(true)?;
    wallet.set_citizen_facts(vec![
        CitizenFact {
            name: "youngest_child_age_months".into(),
            value: FactValue::Int { value: 7 },
        },
        CitizenFact {
            name: "region".into(),
            value: FactValue::Text {
                value: "서울".into(),
            },
        },
        CitizenFact {
            name: "income_percent_median".into(),
            value: FactValue::Int { value: 55 },
        },
    ])?;
    let results = wallet.evaluate_benefits(authority.sign_benefit_catalog(1)?)?;
    let eligible: Vec<&BenefitResult> = results
        .iter()
        .filter(|r| r.eligibility == Eligibility::Eligible)
        .collect();
    let unknown = results
        .iter()
        .filter(|r| r.eligibility == Eligibility::Unknown)
        .count();
    let first = eligible
        .first()
        .map(|r| format!("{} ({})", r.name_ko, r.explanation.join(", ")))
        .unwrap_or_default();
    steps.say(
        "benefits",
        format!(
            "checked {} benefits on the device: {} eligible (e.g. {first}), {unknown} need more facts; nothing left the phone",
            results.len(),
            eligible.len()
        ),
    );
    Ok(())
}
