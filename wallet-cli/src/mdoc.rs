//! mdoc commands: the test issuing authority (`issuer init`, `issue mdl|resident-card`), trust
//! anchors, in-person presentation (`present`) and the reader (`reader request|verify`).
//! Messages travel as files in a session directory, or as base64 lines on stdin/stdout.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use wallet_core::{
    Approval, DeviceAuthMode, DocumentRequest, ElementRef, MdlClaims, MdocReader,
    PresentationEvent, ReaderConfig, ReaderEvent, RequestedDocument, RequestedItem,
    ResidentCardClaims, TestAuthority, TrustRole, VerificationReport,
};

use crate::authority_dir::{
    load_material, material_files, root_of, save_material, signer_of, status_entry, Destination,
    IssueTarget,
};
use crate::context::{open, read, say_with, unlock, wallet_path, write, CliError, Result};
use crate::{qr, Cli};

/// The sample portrait used when none is given.
pub const SAMPLE_PORTRAIT: &[u8] = include_bytes!("../assets/sample-portrait.jpg");

/// Test-authority actions.
#[derive(Subcommand, Debug)]
pub enum IssuerAction {
    /// Create a test authority (IACA, document signer, reader root, reader) in a directory.
    Init {
        /// Directory for the certificates and keys.
        #[arg(long)]
        dir: PathBuf,
        /// Name prefix of the certificates.
        #[arg(long, default_value = "Jigap Test")]
        name: String,
        /// Country (ISO 3166-1 alpha-2).
        #[arg(long, default_value = "KR")]
        country: String,
    },
    /// Sign a re-verification token for a locked-out wallet's challenge, as the authority's
    /// identity verifier (after the citizen re-verified).
    Reverify {
        /// The test authority's directory.
        #[arg(long)]
        dir: PathBuf,
        /// The challenge file (from `jigap pin challenge --out`).
        #[arg(long)]
        challenge: PathBuf,
        /// Where to write the token.
        #[arg(long)]
        out: PathBuf,
        /// Seconds the token stays valid.
        #[arg(long, default_value_t = 600)]
        valid: u32,
    },
}

/// Common options of `jigap issue`.
#[derive(Args, Debug)]
pub struct IssueCommon {
    /// The test authority's directory (from `jigap issuer init`).
    #[arg(long)]
    pub issuer: PathBuf,
    /// Where the credential goes.
    #[command(flatten)]
    pub to: IssueTarget,
    /// Birth date, YYYY-MM-DD.
    #[arg(long)]
    pub birth_date: String,
    /// Portrait JPEG (default: a sample image).
    #[arg(long)]
    pub portrait: Option<PathBuf>,
    /// Days of validity.
    #[arg(long, default_value_t = 365)]
    pub valid_days: u32,
    /// Status list URI, to make the credential revocable.
    #[arg(long)]
    pub status_uri: Option<String>,
    /// Index in that status list.
    #[arg(long)]
    pub status_index: Option<u64>,
}

/// What to issue.
#[derive(Subcommand, Debug)]
pub enum IssueWhat {
    /// An ISO 18013-5 mobile driver's licence.
    Mdl {
        /// Issuer, holder, birth date, portrait, validity.
        #[command(flatten)]
        common: IssueCommon,
        /// Family name.
        #[arg(long)]
        family_name: String,
        /// Given name.
        #[arg(long)]
        given_name: String,
        /// Licence number.
        #[arg(long, default_value = "11-00-000000-00")]
        document_number: String,
        /// Issuing authority.
        #[arg(long, default_value = "경찰청 (Korean National Police Agency)")]
        authority: String,
        /// Vehicle category codes.
        #[arg(long = "category", default_values_t = vec!["B".to_string()])]
        categories: Vec<String>,
    },
    /// An e-certificate (전자증명서) as an SD-JWT VC.
    ECertificate(crate::e_certificates::IssueECertificate),
    /// A signed bill, as the authority's registered sender (written to a file).
    Bill(crate::services::IssueBill),
    /// A signed notification, as the authority's registered sender (written to a file).
    Notification(crate::services::IssueNotification),
    /// A mobile resident registration card (provisional docType).
    ResidentCard {
        /// Issuer, holder, birth date, portrait, validity.
        #[command(flatten)]
        common: IssueCommon,
        /// Name in Korean.
        #[arg(long)]
        name_ko: String,
        /// Resident registration number.
        #[arg(long)]
        rrn: String,
        /// Address.
        #[arg(long)]
        address: String,
        /// Issuing authority.
        #[arg(long, default_value = "서울특별시 종로구청장")]
        authority: String,
    },
}

/// Roles as typed on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum RoleArg {
    /// mdoc issuing authority (IACA).
    MdocIssuer,
    /// mdoc reader root.
    MdocReader,
    /// Root of SD-JWT VC (e-certificate) issuers.
    SdJwtIssuer,
    /// Root of status list signers.
    StatusListIssuer,
    /// Root of bill and notification senders.
    Sender,
    /// Root of registered MyData recipients.
    DataRecipient,
    /// Root of benefit catalog publishers.
    CatalogPublisher,
    /// Root of identity-verification authorities (PIN reset after lockout).
    IdentityVerifier,
    /// Root of credential issuer metadata signers (OpenID4VCI signed metadata).
    IssuerMetadata,
    /// Root of wallet providers (key and client attestations).
    WalletProvider,
    /// Root of online relying parties (OpenID4VP requests).
    RelyingParty,
}

impl From<RoleArg> for TrustRole {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::MdocIssuer => TrustRole::MdocIssuer,
            RoleArg::MdocReader => TrustRole::MdocReader,
            RoleArg::SdJwtIssuer => TrustRole::SdJwtIssuer,
            RoleArg::StatusListIssuer => TrustRole::StatusListIssuer,
            RoleArg::Sender => TrustRole::Sender,
            RoleArg::DataRecipient => TrustRole::DataRecipient,
            RoleArg::CatalogPublisher => TrustRole::CatalogPublisher,
            RoleArg::IdentityVerifier => TrustRole::IdentityVerifier,
            RoleArg::IssuerMetadata => TrustRole::IssuerMetadata,
            RoleArg::WalletProvider => TrustRole::WalletProvider,
            RoleArg::RelyingParty => TrustRole::RelyingParty,
        }
    }
}

/// Trust-anchor actions (on a wallet).
#[derive(Subcommand, Debug)]
pub enum TrustAction {
    /// Trust a CA certificate (DER) for a role.
    Add {
        /// The role.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The certificate file (DER).
        certificate: PathBuf,
    },
    /// List trust anchors.
    List,
    /// Delete a trust anchor.
    Delete {
        /// Its id.
        id: String,
    },
}

/// Options of `jigap present`.
#[derive(Args, Debug)]
pub struct PresentArgs {
    /// An online request to answer instead of presenting in person (OpenID4VP 1.0): an
    /// `openid4vp://` or `haip-vp://` URI, or an https link carrying one.
    #[arg(value_name = "URL", conflicts_with_all = ["dir", "mac", "png"])]
    pub request: Option<String>,
    /// Online: trust this TLS root (DER) for the relying party's HTTPS instead of the
    /// system's roots (a test authority's `tls-root.der`). Repeatable.
    #[arg(long, requires = "request")]
    pub tls_root: Vec<PathBuf>,
    /// Online: accept a relying party on plain `http://127.0.0.1` (a test server started
    /// with `--plain-http`).
    #[arg(long, requires = "request")]
    pub allow_loopback_http: bool,
    /// Session directory: write engagement.txt/.png and response.cbor, read request.cbor.
    /// Without it, messages are base64 lines on stdin/stdout.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// What to release. In person: `all` (everything requested that the wallet holds),
    /// `none`, or a comma-separated list of element identifiers. Online: `all` (each query
    /// with its first candidate), `none` (decline), or QUERY=CREDENTIAL_ID pairs joined by
    /// commas. Asked on the terminal when omitted.
    #[arg(long)]
    pub approve: Option<String>,
    /// Authenticate with an ECDH MAC instead of a signature.
    #[arg(long)]
    pub mac: bool,
    /// Also write the QR code here as PNG (session mode writes engagement.png anyway).
    #[arg(long)]
    pub png: Option<PathBuf>,
    /// Seconds to wait for the reader.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// In person over a simulated radio to another process: `nfc` (engagement by tap, then
    /// APDUs) or `ble` (engagement by QR code, then GATT values), on the Unix socket given
    /// with --socket (`jigap reader connect` is the other end).
    #[arg(long, requires = "socket", conflicts_with_all = ["dir", "request", "png"])]
    pub link: Option<crate::link::LinkKind>,
    /// The Unix socket standing in for the radio, with --link.
    #[arg(long, requires = "link")]
    pub socket: Option<PathBuf>,
    /// BLE: the ATT MTU negotiated (23 to 517).
    #[arg(long, default_value_t = 185)]
    pub mtu: u32,
    /// NFC: negotiated handover (TNEP: the reader writes a Handover Request) instead of a
    /// static Handover Select.
    #[arg(long, requires = "link")]
    pub negotiated: bool,
}

/// Where the reader's trust and identity come from.
#[derive(Args, Debug)]
pub struct ReaderTrust {
    /// A test authority directory: its IACA and status list root are trusted (each for its
    /// role) and its reader certificate signs.
    #[arg(long)]
    pub issuer: Option<PathBuf>,
    /// Trusted IACA certificates (DER).
    #[arg(long)]
    pub iaca: Vec<PathBuf>,
    /// Trusted status list signer roots (DER).
    #[arg(long)]
    pub status_root: Vec<PathBuf>,
    /// Reader certificate (DER), to sign requests.
    #[arg(long)]
    pub reader_cert: Option<PathBuf>,
    /// Reader private key (32-byte scalar file), with --reader-cert.
    #[arg(long)]
    pub reader_key: Option<PathBuf>,
}

/// Reader actions.
#[derive(Subcommand, Debug)]
pub enum ReaderAction {
    /// Build a request from the holder's engagement (QR text).
    Request {
        /// The QR code text (`mdoc:...`), or @FILE to read it from a file.
        #[arg(long)]
        engagement: Option<String>,
        /// Session directory (reads engagement.txt, writes request.cbor and reader-state.cbor).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// What to ask: DOCTYPE=element,element (namespace/element for other namespaces).
        #[arg(long = "request", default_values_t = vec!["org.iso.18013.5.1.mDL=age_over_19".to_string()])]
        requests: Vec<String>,
        /// Trust and signing.
        #[command(flatten)]
        trust: ReaderTrust,
    },
    /// In person over a simulated radio: engage with the holder's `jigap present --link`
    /// at the same socket, request, verify what comes back and end the session.
    Connect {
        /// The radio: `nfc` (tap, then APDUs) or `ble` (QR code, then GATT values).
        #[arg(long)]
        link: crate::link::LinkKind,
        /// The Unix socket the holder listens on.
        #[arg(long)]
        socket: PathBuf,
        /// What to ask: DOCTYPE=element,element (namespace/element for other namespaces).
        #[arg(long = "request", default_values_t = vec!["org.iso.18013.5.1.mDL=age_over_19".to_string()])]
        requests: Vec<String>,
        /// NFC: extended-length APDUs (up to 64 KiB each) instead of short ones.
        #[arg(long)]
        extended: bool,
        /// BLE: the ATT MTU negotiated (23 to 517).
        #[arg(long, default_value_t = 185)]
        mtu: u32,
        /// Seconds to wait for the holder.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
        /// Trust and signing.
        #[command(flatten)]
        trust: ReaderTrust,
    },
    /// Verify a DeviceResponse on its own, given the SessionTranscript it answers and what was
    /// asked (device authentication by signature only).
    Check {
        /// The DeviceResponse (plain CBOR, e.g. device-response.cbor from `reader verify`).
        #[arg(long)]
        response: PathBuf,
        /// The SessionTranscriptBytes (e.g. session-transcript.cbor from `reader verify`).
        #[arg(long)]
        transcript: PathBuf,
        /// What was asked: DOCTYPE=element,element (namespace/element for other namespaces).
        #[arg(long = "request", required = true)]
        requests: Vec<String>,
        /// Trust.
        #[command(flatten)]
        trust: ReaderTrust,
    },
    /// Verify the holder's response and print what verified. The decrypted DeviceResponse and
    /// the SessionTranscript are written beside the session state (device-response.cbor,
    /// session-transcript.cbor) for the relying party's records or an independent check.
    Verify {
        /// Session directory (reads response.cbor and reader-state.cbor).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The response message file (instead of the session directory's).
        #[arg(long)]
        response: Option<PathBuf>,
        /// The saved reader state file (instead of the session directory's).
        #[arg(long)]
        state: Option<PathBuf>,
        /// Seconds to wait for the response to appear.
        #[arg(long, default_value_t = 0)]
        wait: u64,
        /// Trust and signing.
        #[command(flatten)]
        trust: ReaderTrust,
    },
}

/// The key that seals saved reader sessions: `reader-session.key` beside the session state,
/// made (owner-only) the first time.
fn session_state_key(state_path: &Path) -> Result<Vec<u8>> {
    let dir = state_path.parent().filter(|d| !d.as_os_str().is_empty());
    let key_path = dir.map_or_else(
        || PathBuf::from("reader-session.key"),
        |d| d.join("reader-session.key"),
    );
    match std::fs::read(&key_path) {
        Ok(key) if key.len() == 32 => Ok(key),
        Ok(_) => Err(CliError::from(format!(
            "{} is not a 32-byte key",
            key_path.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = crate::secrets::random_bytes(32)?;
            write(&key_path, &key, true)?;
            Ok(key)
        }
        Err(e) => Err(CliError::from(format!(
            "reading {}: {e}",
            key_path.display()
        ))),
    }
}

/// `jigap issuer ...`
pub fn issuer(cli: &Cli, action: &IssuerAction) -> Result<()> {
    match action {
        IssuerAction::Reverify {
            dir,
            challenge,
            out,
            valid,
        } => {
            let authority = TestAuthority::load(load_material(dir)?, None)?;
            let token = authority.sign_pin_reset(read(challenge)?, *valid)?;
            write(out, &token, false)?;
            say_with(cli, json!({ "token": out }), || {
                format!("re-verification token written to {}", out.display())
            });
            Ok(())
        }
        IssuerAction::Init { dir, name, country } => {
            if dir.join(&material_files(TrustRole::MdocIssuer)[0]).exists() {
                return Err(CliError::from(format!(
                    "{} already holds an authority",
                    dir.display()
                )));
            }
            let authority = TestAuthority::create(name.clone(), country.clone(), None)?;
            save_material(dir, &authority.material())?;
            let files: Vec<String> = TrustRole::ALL
                .into_iter()
                .flat_map(material_files)
                .collect();
            say_with(cli, json!({ "dir": dir, "files": files }), || {
                format!(
                    "created test authority '{name}' ({country}) in {}: a root and a signer for each of {} roles \
                     (mdoc-issuer-root.der is the IACA; keys 0600)",
                    dir.display(),
                    TrustRole::ALL.len()
                )
            });
            Ok(())
        }
    }
}

/// `jigap issue ...`
pub fn issue(cli: &Cli, what: &IssueWhat) -> Result<()> {
    let common = match what {
        IssueWhat::Mdl { common, .. } | IssueWhat::ResidentCard { common, .. } => common,
        IssueWhat::ECertificate(args) => return crate::e_certificates::issue(cli, args),
        IssueWhat::Bill(args) => return crate::services::issue_bill(cli, args),
        IssueWhat::Notification(args) => return crate::services::issue_notification(cli, args),
    };
    let authority = TestAuthority::load(load_material(&common.issuer)?, None)?;
    let destination = common.to.resolve()?;
    let portrait = match &common.portrait {
        Some(path) => read(path)?,
        None => SAMPLE_PORTRAIT.to_vec(),
    };
    let issued = match what {
        IssueWhat::Mdl {
            family_name,
            given_name,
            document_number,
            authority: by,
            categories,
            ..
        } => authority.issue_mdl(
            destination.public_key(),
            MdlClaims {
                family_name: family_name.clone(),
                given_name: given_name.clone(),
                birth_date: common.birth_date.clone(),
                document_number: document_number.clone(),
                issuing_authority: by.clone(),
                portrait,
                vehicle_categories: categories.clone(),
                valid_days: common.valid_days,
                status: status_entry(&common.status_uri, common.status_index)?,
            },
        )?,
        IssueWhat::ResidentCard {
            name_ko,
            rrn,
            address,
            authority: by,
            ..
        } => authority.issue_resident_card(
            destination.public_key(),
            ResidentCardClaims {
                name_ko: name_ko.clone(),
                resident_registration_number: rrn.clone(),
                birth_date: common.birth_date.clone(),
                address: address.clone(),
                issuing_authority: by.clone(),
                portrait,
                valid_days: common.valid_days,
                status: status_entry(&common.status_uri, common.status_index)?,
            },
        )?,
        IssueWhat::ECertificate(_) | IssueWhat::Bill(_) | IssueWhat::Notification(_) => {
            return Err(CliError::from("not an mdoc".to_string()))
        }
    };
    let (wallet, key, holder) = match destination {
        Destination::File(_, out) => {
            write(&out, &issued, false)?;
            say_with(cli, json!({ "out": out, "bytes": issued.len() }), || {
                format!("issued {} bytes to {}", issued.len(), out.display())
            });
            return Ok(());
        }
        Destination::Wallet(wallet, key, holder) => (wallet, key, holder),
    };
    let id = wallet.add_mdoc(issued.clone(), key.alias.clone())?;
    let summary = wallet.get_credential(id.clone())?.summary;
    say_with(
        cli,
        json!({ "id": id, "doc_type": summary.doc_type, "bytes": issued.len(), "key_alias": key.alias }),
        || {
            format!(
                "issued {} ({}, {} bytes) into {} as {id}, bound to device key {}",
                summary.display_name_ko,
                summary.doc_type,
                issued.len(),
                holder.display(),
                key.alias
            )
        },
    );
    Ok(())
}

/// `jigap trust ...`
pub fn trust(cli: &Cli, action: &TrustAction) -> Result<()> {
    let wallet = open(&wallet_path(cli), false)?;
    unlock(&wallet)?;
    match action {
        TrustAction::Add { role, certificate } => {
            let anchor = wallet.add_trust_anchor((*role).into(), read(certificate)?)?;
            say_with(
                cli,
                json!({ "id": anchor.id, "subject": anchor.subject }),
                || {
                    format!(
                        "trusted {} as {:?} ({})",
                        anchor.subject, anchor.role, anchor.id
                    )
                },
            );
        }
        TrustAction::List => {
            let anchors = wallet.list_trust_anchors(None)?;
            let value = json!(anchors
                .iter()
                .map(|a| json!({ "id": a.id, "role": format!("{:?}", a.role), "subject": a.subject, "not_after": a.not_after }))
                .collect::<Vec<_>>());
            say_with(cli, value, || {
                if anchors.is_empty() {
                    "no trust anchors".into()
                } else {
                    anchors
                        .iter()
                        .map(|a| format!("{}  {:?}  {}", a.id, a.role, a.subject))
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            });
        }
        TrustAction::Delete { id } => {
            wallet.delete_trust_anchor(id.clone())?;
            say_with(cli, json!({ "deleted": id }), || format!("deleted {id}"));
        }
    }
    Ok(())
}

fn wait_for(path: &Path, timeout: Duration) -> Result<Vec<u8>> {
    let start = Instant::now();
    let mut announced = false;
    loop {
        if let Ok(bytes) = std::fs::read(path) {
            if !bytes.is_empty() {
                return Ok(bytes);
            }
        }
        if start.elapsed() >= timeout {
            return Err(CliError::from(format!(
                "timed out waiting for {}",
                path.display()
            )));
        }
        if !announced {
            eprintln!("waiting for {} ...", path.display());
            announced = true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn describe_request(documents: &[RequestedDocument]) -> String {
    let mut lines = Vec::new();
    for d in documents {
        let reader = match &d.reader {
            Some(r) if r.trusted => format!("signed by trusted reader {}", r.subject),
            Some(r) => format!(
                "signed by UNTRUSTED reader {} ({})",
                r.subject,
                r.problem.as_deref().unwrap_or("?")
            ),
            None => "unsigned request".into(),
        };
        lines.push(format!("request #{}: {} — {reader}", d.index, d.doc_type));
        for e in &d.elements {
            lines.push(format!(
                "  {}/{}{}{}",
                e.namespace,
                e.identifier,
                if e.intent_to_retain {
                    " (will be kept)"
                } else {
                    ""
                },
                if e.available { "" } else { " (not held)" }
            ));
        }
    }
    lines.join("\n")
}

fn choose(
    documents: &[RequestedDocument],
    approve: Option<&str>,
    can_prompt: bool,
) -> Result<Vec<Approval>> {
    let mut approvals = Vec::new();
    for d in documents {
        let Some(credential_id) = d.matching_credentials.first().cloned() else {
            continue;
        };
        let mut elements = Vec::new();
        for e in d.elements.iter().filter(|e| e.available) {
            let release = match approve {
                Some("all") => true,
                Some("none") => false,
                Some(list) => list.split(',').any(|x| x.trim() == e.identifier),
                None if can_prompt => {
                    eprint!("release {}/{}? [y/N] ", e.namespace, e.identifier);
                    let _ = std::io::stderr().flush();
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line)?;
                    line.trim().eq_ignore_ascii_case("y")
                }
                None => {
                    return Err(CliError::from(
                        "no terminal to ask: pass --approve all|none|ELEMENTS".to_string(),
                    ))
                }
            };
            if release {
                elements.push(ElementRef {
                    namespace: e.namespace.clone(),
                    identifier: e.identifier.clone(),
                });
            }
        }
        approvals.push(Approval {
            document_index: d.index,
            credential_id,
            elements,
        });
    }
    Ok(approvals)
}

/// `jigap present`: in person, or online when a request URL is given.
pub fn present(cli: &Cli, args: &PresentArgs) -> Result<()> {
    if let Some(request) = &args.request {
        return crate::online::present(cli, args, request);
    }
    let wallet = open(&wallet_path(cli), false)?;
    unlock(&wallet)?;
    let mode = if args.mac {
        DeviceAuthMode::Mac
    } else {
        DeviceAuthMode::Signature
    };
    let session = wallet.clone().start_presentation(vec![], mode)?;
    if let (Some(kind), Some(socket)) = (args.link, &args.socket) {
        let approve = args.approve.as_deref();
        let mut released = 0usize;
        let answered = {
            let respond_with = session.clone();
            let mut decide = |event: &PresentationEvent| -> Result<Vec<u8>> {
                let PresentationEvent::Request { documents, .. } = event else {
                    return Err(CliError::from("the reader ended the session".to_string()));
                };
                eprintln!("{}", describe_request(documents));
                let approvals = choose(documents, approve, false)?;
                released += approvals.iter().map(|a| a.elements.len()).sum::<usize>();
                Ok(respond_with.respond(approvals)?)
            };
            crate::link::holder(
                kind,
                &session,
                socket,
                Duration::from_secs(args.timeout),
                args.mtu,
                args.negotiated,
                &mut decide,
            )?
        };
        say_with(
            cli,
            json!({ "answered": answered, "released": released }),
            || format!("answered {answered} request(s); released {released} element(s)"),
        );
        return Ok(());
    }
    let engagement = session.engagement()?;
    eprintln!("{}", qr::terminal(&engagement.qr_uri)?);
    eprintln!(
        "show this QR code to the reader (engagement: {} bytes)",
        engagement.device_engagement.len()
    );
    let png = qr::png(&engagement.qr_uri, 8)?;
    if let Some(path) = &args.png {
        write(path, &png, false)?;
    }
    let timeout = Duration::from_secs(args.timeout);
    let approve = args.approve.as_deref();
    match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            for stale in ["request.cbor", "response.cbor"] {
                let _ = std::fs::remove_file(dir.join(stale));
            }
            write(&dir.join("engagement.png"), &png, false)?;
            write(
                &dir.join("engagement.txt"),
                engagement.qr_uri.as_bytes(),
                false,
            )?;
            let request = wait_for(&dir.join("request.cbor"), timeout)?;
            let PresentationEvent::Request { documents, .. } = session.receive(request)? else {
                return Err(CliError::from("the reader ended the session".to_string()));
            };
            eprintln!("{}", describe_request(&documents));
            let approvals = choose(&documents, approve, std::io::stdin().is_terminal())?;
            let released: usize = approvals.iter().map(|a| a.elements.len()).sum();
            write(
                &dir.join("response.cbor"),
                &session.respond(approvals)?,
                false,
            )?;
            say_with(
                cli,
                json!({ "released": released, "response": dir.join("response.cbor") }),
                || {
                    format!(
                        "released {released} element(s); response in {}",
                        dir.join("response.cbor").display()
                    )
                },
            );
        }
        None => {
            let stdout = std::io::stdout();
            writeln!(stdout.lock(), "{}", engagement.qr_uri)?;
            let lines = std::io::stdin().lock().lines();
            for line in lines {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                let message = STANDARD
                    .decode(line.trim())
                    .map_err(|_| CliError::from("a message line is not base64".to_string()))?;
                match session.receive(message)? {
                    PresentationEvent::Terminated => {
                        eprintln!("the reader ended the session");
                        break;
                    }
                    PresentationEvent::Request { documents, .. } => {
                        eprintln!("{}", describe_request(&documents));
                        let approvals = choose(&documents, approve, false)?;
                        writeln!(
                            stdout.lock(),
                            "{}",
                            STANDARD.encode(session.respond(approvals)?)
                        )?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn reader_for(
    trust: &ReaderTrust,
    sign: bool,
    state_path: Option<&Path>,
) -> Result<std::sync::Arc<MdocReader>> {
    let mut iaca: Vec<Vec<u8>> = trust.iaca.iter().map(|p| read(p)).collect::<Result<_>>()?;
    let mut status_roots: Vec<Vec<u8>> = trust
        .status_root
        .iter()
        .map(|p| read(p))
        .collect::<Result<_>>()?;
    let mut chain = Vec::new();
    let mut key = None;
    if let Some(dir) = &trust.issuer {
        iaca.push(root_of(dir, TrustRole::MdocIssuer)?);
        status_roots.push(root_of(dir, TrustRole::StatusListIssuer)?);
        if sign {
            let (certificate, private_key) = signer_of(dir, TrustRole::MdocReader)?;
            chain = vec![certificate];
            key = Some(private_key);
        }
    }
    if let (Some(cert), Some(k)) = (&trust.reader_cert, &trust.reader_key) {
        if sign {
            chain = vec![read(cert)?];
            key = Some(read(k)?);
        }
    }
    Ok(MdocReader::new(ReaderConfig {
        iaca_certificates: iaca,
        status_list_certificates: status_roots,
        reader_certificate_chain: chain,
        reader_private_key: key,
        clock: None,
        session_state_key: state_path.map(session_state_key).transpose()?,
    })?)
}

/// Parses `DOCTYPE=element,namespace/element`.
pub fn parse_request(text: &str) -> Result<DocumentRequest> {
    let (doc_type, elements) = text.split_once('=').ok_or_else(|| {
        CliError::from(format!("request '{text}' is not DOCTYPE=element,element"))
    })?;
    let default_ns = match doc_type {
        "org.iso.18013.5.1.mDL" => "org.iso.18013.5.1".to_string(),
        other => other.to_string(),
    };
    let items = elements
        .split(',')
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let (namespace, identifier) = match e.trim().rsplit_once('/') {
                Some((ns, id)) => (ns.to_string(), id.to_string()),
                None => (default_ns.clone(), e.trim().to_string()),
            };
            RequestedItem {
                namespace,
                identifier,
                intent_to_retain: false,
            }
        })
        .collect();
    Ok(DocumentRequest {
        doc_type: doc_type.to_string(),
        items,
    })
}

fn report_json(report: &VerificationReport) -> serde_json::Value {
    json!({
        "status": report.status,
        "documents": report.documents.iter().map(|d| json!({
            "doc_type": d.doc_type,
            "document_signer": d.document_signer,
            "issuing_authority": d.issuing_authority,
            "issuing_country": d.issuing_country,
            "valid_until": d.valid_until,
            "device_authentication": format!("{:?}", d.device_authentication),
            "elements": d.elements.iter().map(|e| json!({ "namespace": e.namespace, "identifier": e.identifier, "value": e.display })).collect::<Vec<_>>(),
            "not_returned": d.not_returned.iter().map(|n| format!("{}/{}", n.namespace, n.identifier)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "document_errors": report.document_errors.iter().map(|e| json!({ "doc_type": e.doc_type, "code": e.code })).collect::<Vec<_>>(),
    })
}

/// The verified report as text.
pub fn report_text(report: &VerificationReport) -> String {
    let mut lines = Vec::new();
    for d in &report.documents {
        lines.push(format!(
            "VERIFIED {} — signed by {} under {} ({}), device {:?}, valid until {}",
            d.doc_type,
            d.document_signer,
            d.issuing_authority,
            d.issuing_country.as_deref().unwrap_or("?"),
            d.device_authentication,
            crate::context::format_time(d.valid_until)
        ));
        for e in &d.elements {
            lines.push(format!(
                "  ✓ {}/{} = {}",
                e.namespace, e.identifier, e.display
            ));
        }
        for n in &d.not_returned {
            lines.push(format!("  – {}/{} not returned", n.namespace, n.identifier));
        }
    }
    for e in &report.document_errors {
        lines.push(format!("not returned: {} (code {})", e.doc_type, e.code));
    }
    lines.join("\n")
}

/// `jigap reader ...`
pub fn reader(cli: &Cli, action: &ReaderAction) -> Result<()> {
    match action {
        ReaderAction::Request {
            engagement,
            dir,
            requests,
            trust,
        } => {
            let uri = match (engagement, dir) {
                (Some(e), _) if e.starts_with('@') => {
                    String::from_utf8_lossy(&read(Path::new(e.trim_start_matches('@')))?)
                        .trim()
                        .to_string()
                }
                (Some(e), _) => e.clone(),
                (None, Some(d)) => String::from_utf8_lossy(&wait_for(
                    &d.join("engagement.txt"),
                    Duration::from_secs(60),
                )?)
                .trim()
                .to_string(),
                (None, None) => {
                    return Err(CliError::from("give --engagement or --dir".to_string()))
                }
            };
            let requests = requests
                .iter()
                .map(|r| parse_request(r))
                .collect::<Result<Vec<_>>>()?;
            let state_path = dir.as_ref().map_or_else(
                || PathBuf::from("reader-state.cbor"),
                |d| d.join("reader-state.cbor"),
            );
            let reader = reader_for(trust, true, Some(&state_path))?;
            let session = reader.start_session(uri, requests)?;
            let message = session.request_message();
            let state = session.save_state()?;
            match dir {
                Some(d) => {
                    write(&state_path, &state, true)?;
                    write(&d.join("request.cbor"), &message, false)?;
                    say_with(cli, json!({ "request": d.join("request.cbor") }), || {
                        format!("request written to {}", d.join("request.cbor").display())
                    });
                }
                None => {
                    write(Path::new("reader-state.cbor"), &state, true)?;
                    out!("{}", STANDARD.encode(&message));
                }
            }
            Ok(())
        }
        ReaderAction::Verify {
            dir,
            response,
            state,
            wait,
            trust,
        } => {
            let state_path = state
                .clone()
                .or_else(|| dir.as_ref().map(|d| d.join("reader-state.cbor")))
                .unwrap_or_else(|| PathBuf::from("reader-state.cbor"));
            let response_path = response
                .clone()
                .or_else(|| dir.as_ref().map(|d| d.join("response.cbor")))
                .ok_or_else(|| CliError::from("give --response or --dir".to_string()))?;
            let message = wait_for(&response_path, Duration::from_secs(*wait))?;
            let reader = reader_for(trust, false, Some(&state_path))?;
            let session = reader.resume_session(read(&state_path)?)?;
            let out_dir = state_path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let outcome = session.receive(message);
            // Keep what was received even when it fails verification: that is when a tester
            // needs it most.
            if let Some(plain) = session.last_device_response() {
                write(&out_dir.join("device-response.cbor"), &plain, false)?;
                write(
                    &out_dir.join("session-transcript.cbor"),
                    &session.session_transcript()?,
                    false,
                )?;
            }
            let _ = std::fs::remove_file(&state_path);
            match outcome? {
                ReaderEvent::Terminated => say_with(cli, json!({ "terminated": true }), || {
                    "the holder ended the session".into()
                }),
                ReaderEvent::Response { report } => {
                    say_with(cli, report_json(&report), || report_text(&report))
                }
            }
            Ok(())
        }
        ReaderAction::Connect {
            link,
            socket,
            requests,
            extended,
            mtu,
            timeout,
            trust,
        } => {
            let requests = requests
                .iter()
                .map(|r| parse_request(r))
                .collect::<Result<Vec<_>>>()?;
            let reader = reader_for(trust, true, None)?;
            let report = crate::link::reader(
                *link,
                &reader,
                requests,
                socket,
                Duration::from_secs(*timeout),
                *extended,
                *mtu,
            )?;
            say_with(cli, report_json(&report), || report_text(&report));
            Ok(())
        }
        ReaderAction::Check {
            response,
            transcript,
            requests,
            trust,
        } => {
            let requests = requests
                .iter()
                .map(|r| parse_request(r))
                .collect::<Result<Vec<_>>>()?;
            let reader = reader_for(trust, false, None)?;
            let report =
                reader.verify_device_response(read(response)?, read(transcript)?, requests)?;
            say_with(cli, report_json(&report), || report_text(&report));
            Ok(())
        }
    }
}
