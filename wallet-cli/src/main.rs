//! `jigap`: the reference command-line wallet.
//!
//! Everything here goes through the same exported API a mobile host uses (`wallet_core::Wallet`
//! and friends). Secrets never appear on the command line: the passphrase comes from
//! `JIGAP_PASSPHRASE` or standard input, PINs from `JIGAP_PIN` / `JIGAP_NEW_PIN` or standard input.

// A command-line tool talks on stdout and stderr by design.
#![allow(clippy::print_stdout, clippy::print_stderr)]

/// Prints a line on standard output. A closed pipe (`jigap ... | head`) ends the program
/// quietly, as command-line tools do, instead of a panic.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_line(format_args!($($arg)*))
    };
}

mod authority_dir;
mod benefits;
mod commands;
mod context;
mod demo;
mod e_certificates;
mod http;
mod issuer_server;
mod link;
mod log;
mod mdoc;
mod mydata;
mod online;
mod output;
mod qr;
mod receive;
mod secrets;
mod services;
mod status;
mod verifier_server;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Jigap (지갑): a digital wallet for mobile IDs, certificates, bills and notices.
#[derive(Parser, Debug)]
#[command(name = "jigap", version, about)]
pub struct Cli {
    /// Wallet store file [env: JIGAP_WALLET] [default: wallet.jigap]
    #[arg(long, global = true)]
    pub wallet: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new wallet store protected by a passphrase.
    Init,
    /// Show the wallet's state, or manage Token Status Lists.
    Status {
        /// Without an action: the wallet's state. With one: Token Status Lists — publish,
        /// revoke, suspend, reinstate, serve (issuer side); refresh (wallet side).
        #[command(subcommand)]
        action: Option<status::StatusAction>,
    },
    /// Create device keys, to have a credential issued to one by any issuer.
    Keys {
        /// Key action.
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Set, change or verify the 6-digit PIN; unlock a locked-out wallet.
    Pin {
        /// PIN action.
        #[command(subcommand)]
        action: PinAction,
    },
    /// List, show, import or delete credentials.
    Credentials {
        /// Credential action.
        #[command(subcommand)]
        action: CredentialAction,
    },
    /// Crypto-erase the wallet: delete every credential and key and destroy the data key.
    Wipe {
        /// Confirm: the wallet cannot be recovered.
        #[arg(long)]
        yes: bool,
    },
    /// Run the whole story in a temporary wallet: create, protect, issue an mDL, present only
    /// age_over_19 to a reader, verify, reopen, wipe.
    Demo,
    /// The test issuing authority.
    Issuer {
        /// Authority action.
        #[command(subcommand)]
        action: mdoc::IssuerAction,
    },
    /// Issue a credential from a test authority into a wallet.
    Issue {
        /// What to issue.
        #[command(subcommand)]
        what: mdoc::IssueWhat,
    },
    /// Manage the wallet's trust anchors.
    Trust {
        /// Trust action.
        #[command(subcommand)]
        action: mdoc::TrustAction,
    },
    /// Present a credential: mdocs in person (QR code and session messages), an answer to an
    /// online request (OpenID4VP), or a certificate.
    #[command(args_conflicts_with_subcommands = true)]
    Present {
        /// Present a certificate instead of mdocs.
        #[command(subcommand)]
        what: Option<PresentWhat>,
        /// In-person mdoc presentation options.
        #[command(flatten)]
        mdoc: mdoc::PresentArgs,
    },
    /// Bills from registered senders.
    Bills {
        /// Bill action.
        #[command(subcommand)]
        action: services::BillsAction,
    },
    /// The notification inbox.
    Inbox {
        /// Inbox action.
        #[command(subcommand)]
        action: services::InboxAction,
    },
    /// Public MyData consents: consent, revoke, list, transfer; verify as a data holder.
    Mydata {
        /// MyData action.
        #[command(subcommand)]
        action: mydata::MyDataAction,
    },
    /// The citizen's record of what the wallet did: list, export, verify.
    Log {
        /// Record action.
        #[command(subcommand)]
        action: log::LogAction,
    },
    /// On-device benefit eligibility: catalog, attributes, opt-in/out, facts, check, explain.
    Benefits {
        /// Benefits action.
        #[command(subcommand)]
        action: benefits::BenefitsAction,
    },
    /// Verify a presentation as a relying party.
    Verify {
        /// What to verify.
        #[command(subcommand)]
        what: e_certificates::VerifyWhat,
    },
    /// Receive credentials online from an issuer's offer (OpenID4VCI 1.0).
    Receive(receive::ReceiveArgs),
    /// Deferred issuances: list, poll, cancel.
    Pending {
        /// Pending action.
        #[command(subcommand)]
        action: receive::PendingAction,
    },
    /// Act as an mdoc reader: request from a QR engagement, verify the response.
    Reader {
        /// Reader action.
        #[command(subcommand)]
        action: mdoc::ReaderAction,
    },
    /// Run a test server on 127.0.0.1.
    Serve {
        /// What to serve.
        #[command(subcommand)]
        what: ServeWhat,
    },
}

/// The test servers `jigap serve` runs.
#[derive(Subcommand, Debug)]
pub enum ServeWhat {
    /// An OpenID4VCI 1.0 credential issuer and its authorization server, issuing from a test
    /// authority.
    Issuer(issuer_server::ServeIssuerArgs),
    /// An OpenID4VP 1.0 relying party (verifier), signing requests with a test authority's
    /// relying-party certificate and verifying the answers.
    Verifier(verifier_server::ServeVerifierArgs),
}

/// What `present` presents besides in-person mdocs.
#[derive(Subcommand, Debug)]
pub enum PresentWhat {
    /// An e-certificate (전자증명서, an SD-JWT VC) with chosen claims and key binding.
    ECertificate(e_certificates::PresentECertificate),
}

/// PIN actions.
#[derive(Subcommand, Debug)]
pub enum PinAction {
    /// Set the first PIN [reads JIGAP_NEW_PIN or stdin].
    Set,
    /// Change the PIN [reads JIGAP_PIN and JIGAP_NEW_PIN, or stdin].
    Change,
    /// Check the PIN [reads JIGAP_PIN or stdin].
    Verify,
    /// After lockout: write the challenge an identity-verification authority signs.
    Challenge {
        /// Write the challenge here (else it is printed as base64).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// After lockout: set a new PIN with a signed re-verification token [reads JIGAP_NEW_PIN
    /// or stdin].
    Reset {
        /// The re-verification token (from `jigap issuer reverify`, or a real authority).
        #[arg(long)]
        proof: PathBuf,
    },
    /// After lockout: erase every credential, bill, notification and consent, and set a new
    /// PIN [reads JIGAP_NEW_PIN or stdin].
    EraseAndReset {
        /// Confirm: the credentials are gone for good.
        #[arg(long)]
        yes: bool,
    },
}

/// Device-key actions.
#[derive(Subcommand, Debug)]
pub enum KeyAction {
    /// Create a P-256 device key; prints its alias and public key (JWK) so another issuer can
    /// issue a credential bound to it; `credentials import --key-alias` then stores it.
    Create {
        /// Also write the public key here: SEC1 uncompressed point (65 bytes).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write the public key here as a JWK (JSON).
        #[arg(long)]
        jwk_out: Option<PathBuf>,
    },
}

/// Credential formats as typed on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum FormatArg {
    /// ISO/IEC 18013-5 mdoc.
    MsoMdoc,
    /// SD-JWT VC.
    SdJwtVc,
}

/// Credential states as typed on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum StateArg {
    /// Usable.
    Valid,
    /// Suspended by the issuer.
    Suspended,
    /// Revoked by the issuer.
    Revoked,
    /// Past its validity.
    Expired,
}

/// Credential actions.
#[derive(Subcommand, Debug)]
pub enum CredentialAction {
    /// List credentials, newest first.
    List {
        /// Only this format.
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// Only this docType / vct.
        #[arg(long)]
        doc_type: Option<String>,
        /// Only this issuer.
        #[arg(long)]
        issuer: Option<String>,
        /// Only this state.
        #[arg(long, value_enum)]
        state: Option<StateArg>,
        /// Skip this many.
        #[arg(long, default_value_t = 0)]
        offset: u32,
        /// At most this many (1 to 500).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show one credential's metadata (and optionally write its raw bytes to a file).
    Show {
        /// Credential id.
        id: String,
        /// Write the raw credential bytes here.
        #[arg(long)]
        raw_out: Option<PathBuf>,
    },
    /// Store an issued credential (an mdoc's IssuerSigned CBOR, or a compact SD-JWT VC)
    /// bound to a device key from `keys create`. It is checked first: the issuer's signature,
    /// every digest or disclosure, and the device key binding; anything else is refused and
    /// nothing is written.
    Import {
        /// The credential file.
        file: PathBuf,
        /// The device key it is bound to.
        #[arg(long)]
        key_alias: String,
        /// Its format (default: an SD-JWT if the file is text starting with `ey`, else mdoc).
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
    },
    /// Delete a credential and its device key.
    Delete {
        /// Credential id.
        id: String,
    },
    /// Set a credential's state.
    SetState {
        /// Credential id.
        id: String,
        /// The new state.
        #[arg(value_enum)]
        state: StateArg,
    },
}

/// Writes one line to standard output; on a closed pipe, exits with success at once.
pub fn write_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_fmt(args)
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("jigap: error: writing to standard output: {e}");
            std::process::exit(1);
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if cli.json {
                out!("{}", serde_json::json!({ "error": e.to_string() }));
            }
            eprintln!("jigap: error: {e}");
            ExitCode::FAILURE
        }
    }
}
