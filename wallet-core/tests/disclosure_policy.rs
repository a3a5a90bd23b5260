//! The consent step and the disclosure policy through the public API, in person: predicates
//! first, restricted identifiers only to an authenticated relying party with a legal basis,
//! the unauthenticated allowance, every withheld reason in the response and the record,
//! remembered grants used and revoked, and a refusal, a failing prompt and a prompt that
//! does not answer each ending the session cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use wallet_core::*;

const NOW: i64 = 1_800_000_000;
const MDL: &str = "org.iso.18013.5.1";
const CARD: &str = "kr.jigap.mdoc.resident-registration.1";

#[derive(Default)]
struct Events(Mutex<Vec<WalletEvent>>);

impl WalletListener for Events {
    fn on_event(&self, event: WalletEvent) -> Result<(), WalletError> {
        self.0.lock().unwrap().push(event);
        Ok(())
    }
}

impl Events {
    fn take(&self) -> Vec<WalletEvent> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

type Answer = Box<
    dyn Fn(&DisclosureRequest) -> Result<Option<DisclosureDecision>, WalletError> + Send + Sync,
>;

/// A consent screen written in Rust: answers with `answer`, or never answers.
struct Prompt {
    answer: Option<Answer>,
    asked: Mutex<Vec<DisclosureRequest>>,
}

impl Prompt {
    fn answering(answer: Answer) -> Arc<Prompt> {
        Arc::new(Prompt {
            answer: Some(answer),
            asked: Mutex::new(Vec::new()),
        })
    }

    fn silent() -> Arc<Prompt> {
        Arc::new(Prompt {
            answer: None,
            asked: Mutex::new(Vec::new()),
        })
    }

    fn times_asked(&self) -> usize {
        self.asked.lock().unwrap().len()
    }
}

#[async_trait::async_trait]
impl UserPrompt for Prompt {
    async fn ask(
        &self,
        request: DisclosureRequest,
    ) -> Result<Option<DisclosureDecision>, WalletError> {
        self.asked.lock().unwrap().push(request.clone());
        match &self.answer {
            Some(answer) => answer(&request),
            None => std::future::pending().await,
        }
    }
}

/// Approves, for every document, the items the policy offers or a grant covers (what a
/// consent screen preselects), remembering them for `remember_days`.
fn approve_offered(remember_days: u32) -> Answer {
    Box::new(move |request| {
        Ok(Some(DisclosureDecision {
            approved: request
                .documents
                .iter()
                .map(|d| DocumentApproval {
                    id: d.id.clone(),
                    credential_id: d.credential_ids[0].clone(),
                    items: d
                        .items
                        .iter()
                        .filter(|i| {
                            matches!(
                                i.verdict,
                                ItemVerdict::Offered | ItemVerdict::Granted { .. }
                            )
                        })
                        .map(|i| i.path.clone())
                        .collect(),
                })
                .collect(),
            remember_days,
        }))
    })
}

/// Approves every item by name, whatever the verdict.
fn approve_everything() -> Answer {
    Box::new(|request| {
        Ok(Some(DisclosureDecision {
            approved: request
                .documents
                .iter()
                .map(|d| DocumentApproval {
                    id: d.id.clone(),
                    credential_id: d.credential_ids[0].clone(),
                    items: d.items.iter().map(|i| i.path.clone()).collect(),
                })
                .collect(),
            remember_days: 0,
        }))
    })
}

struct Setup {
    wallet: Arc<Wallet>,
    authority: Arc<TestAuthority>,
    events: Arc<Events>,
    mdl: String,
    card: String,
}

fn setup() -> Setup {
    let events = Arc::new(Events::default());
    let wallet = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        path: None,
        create_if_missing: true,
        key_protector: passphrase_key_protector_with_cost("pw".into(), 10_000).unwrap(),
        secure_area: None,
        clock: Some(fixed_clock(NOW)),
        listener: Some(events.clone()),
    })
    .unwrap();
    let authority = TestAuthority::create(
        "Policy Test".into(),
        "KR".into(),
        Some(fixed_clock(NOW - 60)),
    )
    .unwrap();
    let key = wallet.create_device_key().unwrap();
    let mdl = wallet
        .add_mdoc(
            authority
                .issue_mdl(
                    key.public_key,
                    MdlClaims {
                        family_name: "홍".into(),
                        given_name: "길동".into(),
                        birth_date: "2000-02-29".into(),
                        document_number: "11-23-456789-01".into(),
                        issuing_authority: "경찰청".into(),
                        portrait: vec![0xff, 0xd8, 0xff, 0xd9],
                        vehicle_categories: vec!["B".into()],
                        valid_days: 365,
                        status: None,
                    },
                )
                .unwrap(),
            key.alias,
        )
        .unwrap();
    let key = wallet.create_device_key().unwrap();
    let card = wallet
        .add_mdoc(
            authority
                .issue_resident_card(
                    key.public_key,
                    ResidentCardClaims {
                        name_ko: "홍길동".into(),
                        resident_registration_number: "000229-3123456".into(),
                        birth_date: "2000-02-29".into(),
                        address: "서울특별시 종로구 세종대로 209".into(),
                        issuing_authority: "서울특별시 종로구청장".into(),
                        portrait: vec![0xff, 0xd8, 0xff, 0xd9],
                        valid_days: 30,
                        status: None,
                    },
                )
                .unwrap(),
            key.alias,
        )
        .unwrap();
    wallet
        .add_trust_anchor(
            TrustRole::MdocReader,
            authority.root_certificate(TrustRole::MdocReader).unwrap(),
        )
        .unwrap();
    // The host names the certificate policy its trust framework uses for a legal basis.
    let mut policy = wallet.disclosure_policy().unwrap();
    policy.legal_basis_policies = vec![TEST_LEGAL_BASIS_POLICY.into()];
    wallet.set_disclosure_policy(policy).unwrap();
    events.take();
    Setup {
        wallet,
        authority,
        events,
        mdl,
        card,
    }
}

enum Reader {
    Unsigned,
    Trusted,
    WithLegalBasis,
}

fn reader(authority: &TestAuthority, who: Reader) -> Arc<MdocReader> {
    let (chain, key) = match who {
        Reader::Unsigned => (vec![], None),
        Reader::Trusted => (
            vec![authority.signer_certificate(TrustRole::MdocReader).unwrap()],
            Some(authority.signer_key(TrustRole::MdocReader).unwrap()),
        ),
        Reader::WithLegalBasis => {
            let signer = authority
                .issue_signer(
                    TrustRole::MdocReader,
                    "Policy Test Bank Reader".into(),
                    vec![TEST_LEGAL_BASIS_POLICY.into()],
                )
                .unwrap();
            (vec![signer.certificate], Some(signer.key))
        }
    };
    MdocReader::new(ReaderConfig {
        iaca_certificates: vec![authority.root_certificate(TrustRole::MdocIssuer).unwrap()],
        status_list_certificates: vec![],
        reader_certificate_chain: chain,
        reader_private_key: key,
        clock: Some(fixed_clock(NOW)),
        session_state_key: None,
    })
    .unwrap()
}

fn request(doc_type: &str, namespace: &str, ids: &[&str]) -> DocumentRequest {
    DocumentRequest {
        doc_type: doc_type.into(),
        items: ids
            .iter()
            .map(|id| RequestedItem {
                namespace: namespace.into(),
                identifier: (*id).into(),
                intent_to_retain: false,
            })
            .collect(),
    }
}

/// Starts a session of `reader` asking for `docs`: the holder, the reader's session and the
/// consent step.
fn engage(
    s: &Setup,
    reader: &MdocReader,
    docs: Vec<DocumentRequest>,
) -> (
    Arc<PresentationSession>,
    Arc<MdocReaderSession>,
    DisclosureRequest,
) {
    let holder = s
        .wallet
        .clone()
        .start_presentation(vec![], DeviceAuthMode::Signature)
        .unwrap();
    let session = reader
        .start_session(holder.engagement().unwrap().qr_uri, docs)
        .unwrap();
    match holder.receive(session.request_message()).unwrap() {
        PresentationEvent::Request { disclosure, .. } => (holder, session, disclosure),
        other => panic!("{other:?}"),
    }
}

fn verdicts(d: &DisclosureRequest, doc: usize) -> Vec<(String, ItemVerdict)> {
    d.documents[doc]
        .items
        .iter()
        .map(|i| (i.path.clone(), i.verdict.clone()))
        .collect()
}

fn withheld(reason: WithheldReason) -> ItemVerdict {
    ItemVerdict::Withheld { reason }
}

/// The released element identifiers of each document, sorted.
fn released(event: ReaderEvent) -> Vec<Vec<String>> {
    match event {
        ReaderEvent::Response { report } => report
            .documents
            .iter()
            .map(|d| {
                let mut ids: Vec<String> =
                    d.elements.iter().map(|e| e.identifier.clone()).collect();
                ids.sort();
                ids
            })
            .collect(),
        other => panic!("{other:?}"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn last_record(w: &Wallet) -> serde_json::Value {
    let page = w.list_journal(JournalFilter::default(), 0, 1).unwrap();
    serde_json::from_str(&page.entries[0].details_json).unwrap()
}

#[test]
fn the_predicate_is_offered_first_and_the_full_value_needs_its_own_approval() {
    let s = setup();
    let r = reader(&s.authority, Reader::Trusted);
    let ask = || {
        engage(
            &s,
            &r,
            vec![request(
                "org.iso.18013.5.1.mDL",
                MDL,
                &["birth_date", "age_over_19", "family_name"],
            )],
        )
    };
    let (holder, session, disclosure) = ask();
    assert!(disclosure.relying_party.authenticated);
    assert!(disclosure
        .relying_party
        .name
        .as_deref()
        .unwrap()
        .contains("Policy Test Reader"));
    assert_eq!(disclosure.channel, DisclosureChannel::InPerson);
    let doc = &disclosure.documents[0];
    assert_eq!(doc.credential_ids, std::slice::from_ref(&s.mdl));
    assert_eq!(
        verdicts(&disclosure, 0),
        vec![
            (
                format!("{MDL}/birth_date"),
                ItemVerdict::NeedsOwnApproval {
                    minimal: format!("{MDL}/age_over_19")
                }
            ),
            (format!("{MDL}/age_over_19"), ItemVerdict::Offered),
            (format!("{MDL}/family_name"), ItemVerdict::Offered),
        ]
    );
    assert_eq!(doc.items[1].label_ko.as_deref(), Some("만 19세 이상"));
    // The citizen approves what is offered: the birth date stays home.
    let prompt = Prompt::answering(approve_offered(0));
    let message = runtime()
        .block_on(holder.answer(prompt.clone(), 0))
        .unwrap();
    assert_eq!(prompt.times_asked(), 1);
    assert_eq!(
        released(session.receive(message).unwrap()),
        [["age_over_19", "family_name"]]
    );
    assert!(s.events.take().iter().any(|e| matches!(
        e,
        WalletEvent::ConsentStepWaiting {
            channel: DisclosureChannel::InPerson,
            ..
        }
    )));
    let record = last_record(&s.wallet);
    assert_eq!(
        record["documents"][0]["withheld"],
        serde_json::json!([{"item": format!("{MDL}/birth_date"), "reason": "refused_by_citizen"}])
    );
    // Named, it goes.
    let (holder, session, _) = ask();
    let message = runtime()
        .block_on(holder.answer(Prompt::answering(approve_everything()), 0))
        .unwrap();
    assert_eq!(
        released(session.receive(message).unwrap()),
        [["age_over_19", "birth_date", "family_name"]]
    );
}

#[test]
fn restricted_identifiers_go_only_to_an_authenticated_reader_with_a_legal_basis() {
    let s = setup();
    let ask = |who: Reader| {
        let r = reader(&s.authority, who);
        engage(
            &s,
            &r,
            vec![request(
                CARD,
                CARD,
                &["resident_registration_number", "age_over_19", "name_ko"],
            )],
        )
    };
    let rrn = format!("{CARD}/resident_registration_number");

    // Unsigned: withheld as restricted, and the name by the unauthenticated allowance; even
    // a host that approves everything by name cannot release them.
    let (holder, session, disclosure) = ask(Reader::Unsigned);
    assert!(!disclosure.relying_party.authenticated);
    assert!(
        disclosure.relying_party.name.is_none(),
        "never a name for an unverified reader"
    );
    assert!(disclosure.relying_party.unauthenticated_reason.is_some());
    assert_eq!(
        verdicts(&disclosure, 0),
        vec![
            (rrn.clone(), withheld(WithheldReason::Restricted)),
            (format!("{CARD}/age_over_19"), ItemVerdict::Offered),
            (format!("{CARD}/name_ko"), withheld(WithheldReason::Policy)),
        ]
    );
    let message = runtime()
        .block_on(holder.answer(Prompt::answering(approve_everything()), 0))
        .unwrap();
    assert_eq!(
        released(session.receive(message).unwrap()),
        [["age_over_19"]]
    );
    let record = last_record(&s.wallet);
    assert_eq!(record["relying_party"]["verified"], false);
    assert_eq!(
        record["documents"][0]["withheld"],
        serde_json::json!([
            {"item": rrn, "reason": "restricted"},
            {"item": format!("{CARD}/name_ko"), "reason": "policy"},
        ])
    );

    // Authenticated without a legal basis: still restricted; the name may go.
    let (holder, session, disclosure) = ask(Reader::Trusted);
    assert!(disclosure.relying_party.authenticated && !disclosure.relying_party.legal_basis);
    assert_eq!(
        verdicts(&disclosure, 0)[0],
        (rrn.clone(), withheld(WithheldReason::Restricted))
    );
    let message = holder
        .respond(vec![Approval {
            document_index: 0,
            credential_id: s.card.clone(),
            elements: ["resident_registration_number", "name_ko"]
                .iter()
                .map(|e| ElementRef {
                    namespace: CARD.into(),
                    identifier: (*e).into(),
                })
                .collect(),
        }])
        .unwrap();
    assert_eq!(released(session.receive(message).unwrap()), [["name_ko"]]);

    // Authenticated with a legal basis in its certificate: offered, and released when approved.
    let (holder, session, disclosure) = ask(Reader::WithLegalBasis);
    assert!(disclosure.relying_party.legal_basis);
    assert_eq!(verdicts(&disclosure, 0)[0], (rrn, ItemVerdict::Offered));
    let message = runtime()
        .block_on(holder.answer(Prompt::answering(approve_offered(30)), 0))
        .unwrap();
    assert_eq!(
        released(session.receive(message).unwrap()),
        [["age_over_19", "name_ko", "resident_registration_number"]]
    );
    // The citizen asked to remember: never the restricted identifier.
    let grants = s.wallet.list_grants().unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(
        grants[0].items,
        [format!("{CARD}/age_over_19"), format!("{CARD}/name_ko")]
    );
}

#[test]
fn every_withheld_reason_reaches_the_host_the_reader_and_the_record() {
    let s = setup();
    let r = reader(&s.authority, Reader::Trusted);
    let mut policy = s.wallet.disclosure_policy().unwrap();
    policy.never_released = vec!["portrait".into()];
    s.wallet.set_disclosure_policy(policy).unwrap();
    let (holder, session, disclosure) = engage(
        &s,
        &r,
        vec![request(
            "org.iso.18013.5.1.mDL",
            MDL,
            &[
                "portrait",
                "nationality",
                "given_name",
                "document_number",
                "family_name",
            ],
        )],
    );
    assert_eq!(
        verdicts(&disclosure, 0),
        vec![
            (format!("{MDL}/portrait"), withheld(WithheldReason::Policy)),
            (
                format!("{MDL}/nationality"),
                withheld(WithheldReason::NotHeld)
            ),
            (format!("{MDL}/given_name"), ItemVerdict::Offered),
            (
                format!("{MDL}/document_number"),
                withheld(WithheldReason::Restricted)
            ),
            (format!("{MDL}/family_name"), ItemVerdict::Offered),
        ]
    );
    // The citizen approves only the family name.
    let message = holder
        .respond_to(DisclosureDecision {
            approved: vec![DocumentApproval {
                id: "0".into(),
                credential_id: s.mdl.clone(),
                items: vec![format!("{MDL}/family_name")],
            }],
            remember_days: 0,
        })
        .unwrap();
    match session.receive(message).unwrap() {
        ReaderEvent::Response { report } => {
            let doc = &report.documents[0];
            assert_eq!(doc.elements.len(), 1);
            assert_eq!(doc.not_returned.len(), 4, "{:?}", doc.not_returned);
        }
        other => panic!("{other:?}"),
    }
    let reasons: Vec<(String, String)> = last_record(&s.wallet)["documents"][0]["withheld"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["item"].as_str().unwrap().to_owned(),
                w["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            (format!("{MDL}/portrait"), "policy".to_owned()),
            (format!("{MDL}/nationality"), "not_held".to_owned()),
            (format!("{MDL}/given_name"), "refused_by_citizen".to_owned()),
            (format!("{MDL}/document_number"), "restricted".to_owned()),
        ]
    );
    // A policy that would release everything to anyone is refused.
    let open = DisclosurePolicy {
        unauthenticated_allowed: vec!["*".into()],
        ..DisclosurePolicy::default()
    };
    assert!(matches!(
        s.wallet.set_disclosure_policy(open),
        Err(WalletError::InvalidInput { .. })
    ));
}

#[test]
fn a_remembered_grant_answers_without_asking_until_it_is_revoked() {
    let s = setup();
    let r = reader(&s.authority, Reader::Trusted);
    let ask = || {
        engage(
            &s,
            &r,
            vec![request("org.iso.18013.5.1.mDL", MDL, &["age_over_19"])],
        )
    };
    let (holder, session, _) = ask();
    let message = runtime()
        .block_on(holder.answer(Prompt::answering(approve_offered(30)), 0))
        .unwrap();
    assert_eq!(
        released(session.receive(message).unwrap()),
        [["age_over_19"]]
    );
    let grants = s.wallet.list_grants().unwrap();
    assert_eq!(grants.len(), 1);
    assert!(grants[0].relying_party.contains("Policy Test Reader"));
    assert_eq!(grants[0].expires_at, NOW + 30 * 86_400);

    // Next time the grant answers; the prompt is not called.
    s.events.take();
    let (holder, session, disclosure) = ask();
    assert_eq!(
        verdicts(&disclosure, 0)[0].1,
        ItemVerdict::Granted {
            grant_id: grants[0].id.clone()
        }
    );
    let prompt = Prompt::answering(approve_everything());
    let message = runtime()
        .block_on(holder.answer(prompt.clone(), 0))
        .unwrap();
    assert_eq!(prompt.times_asked(), 0);
    assert_eq!(
        released(session.receive(message).unwrap()),
        [["age_over_19"]]
    );
    assert!(s.events.take().iter().any(|e| matches!(
        e,
        WalletEvent::GrantUsed { grant_id, .. } if *grant_id == grants[0].id
    )));
    assert_eq!(
        last_record(&s.wallet)["documents"][0]["grants_used"],
        serde_json::json!([grants[0].id])
    );
    // An unauthenticated reader never benefits from it.
    let unsigned = reader(&s.authority, Reader::Unsigned);
    let (_, _, disclosure) = engage(
        &s,
        &unsigned,
        vec![request("org.iso.18013.5.1.mDL", MDL, &["age_over_19"])],
    );
    assert_eq!(verdicts(&disclosure, 0)[0].1, ItemVerdict::Offered);

    // Revoked: asked again.
    s.wallet.revoke_grant(grants[0].id.clone()).unwrap();
    assert!(s.wallet.list_grants().unwrap().is_empty());
    assert!(matches!(
        s.wallet.revoke_grant(grants[0].id.clone()),
        Err(WalletError::NotFound { .. })
    ));
    let (holder, session, disclosure) = ask();
    assert_eq!(verdicts(&disclosure, 0)[0].1, ItemVerdict::Offered);
    let prompt = Prompt::answering(approve_offered(0));
    let message = runtime()
        .block_on(holder.answer(prompt.clone(), 0))
        .unwrap();
    assert_eq!(prompt.times_asked(), 1);
    assert_eq!(
        released(session.receive(message).unwrap()),
        [["age_over_19"]]
    );
    let kinds: Vec<JournalKind> = s
        .wallet
        .list_journal(JournalFilter::default(), 0, 10)
        .unwrap()
        .entries
        .iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&JournalKind::Grant) && kinds.contains(&JournalKind::GrantRevoked));
    s.wallet.verify_journal().unwrap();
}

#[test]
fn refusal_failure_and_silence_each_end_the_session() {
    let s = setup();
    let r = reader(&s.authority, Reader::Trusted);
    let ask = || {
        engage(
            &s,
            &r,
            vec![request("org.iso.18013.5.1.mDL", MDL, &["age_over_19"])],
        )
    };
    // Refused: a response without documents, and the end of the session.
    let (holder, session, _) = ask();
    let message = runtime()
        .block_on(holder.answer(Prompt::answering(Box::new(|_| Ok(None))), 0))
        .unwrap();
    match session.receive(message).unwrap() {
        ReaderEvent::Response { report } => {
            assert!(report.documents.is_empty());
            assert_eq!(report.document_errors.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        s.wallet
            .list_journal(JournalFilter::default(), 0, 1)
            .unwrap()
            .entries[0]
            .kind,
        JournalKind::PresentationDeclined
    );
    assert!(holder.respond(vec![]).is_err(), "nothing left to answer");

    // The prompt fails: the session ends (status 20) and the host hears why.
    let (holder, _session, _) = ask();
    let failing = Prompt::answering(Box::new(|_| {
        Err(WalletError::HostCallback {
            reason: "the screen could not be shown".into(),
        })
    }));
    match runtime().block_on(holder.answer(failing, 0)) {
        Err(WalletError::HostCallback { reason }) => {
            assert!(reason.contains("UserPrompt.ask"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(holder.respond(vec![]).is_err());

    // No answer in time.
    let (holder, _session, _) = ask();
    assert!(matches!(
        runtime().block_on(holder.answer(Prompt::silent(), 1)),
        Err(WalletError::Timeout { .. })
    ));
    let declined = s
        .wallet
        .list_journal(
            JournalFilter {
                kinds: vec![JournalKind::PresentationDeclined],
                ..Default::default()
            },
            0,
            10,
        )
        .unwrap();
    assert_eq!(declined.total, 3);
}
