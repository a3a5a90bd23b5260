//! Electronic-certificate commands: issue an SD-JWT VC from the test authority, present chosen
//! claims with key binding, and verify a presentation as a relying party.

use std::io::Read;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;
use wallet_core::{SdJwtVerifier, SdJwtVerifierConfig, TestAuthority, TrustRole};

use crate::authority_dir::load_material;
use crate::context::{open, unlock, wallet_path, CliError};
use crate::Cli;

type Result<T> = std::result::Result<T, CliError>;

/// `jigap issue e-certificate` options.
#[derive(Args, Debug)]
pub struct IssueECertificate {
    /// The test authority's directory.
    #[arg(long)]
    pub issuer: PathBuf,
    /// Where the certificate goes.
    #[command(flatten)]
    pub to: crate::authority_dir::IssueTarget,
    /// Certificate type: resident-abstract, family-relation, health-insurance, tax-payment.
    #[arg(long = "type")]
    pub kind: String,
    /// The claims as a JSON object, or @FILE.
    #[arg(long)]
    pub claims: String,
    /// Status list URI, to make the certificate revocable.
    #[arg(long)]
    pub status_uri: Option<String>,
    /// Index in that status list.
    #[arg(long)]
    pub status_index: Option<u64>,
}

/// `jigap present e-certificate` options.
#[derive(Args, Debug)]
pub struct PresentECertificate {
    /// The certificate's credential id.
    #[arg(long)]
    pub id: String,
    /// Claims to disclose, as JSON pointers: /name,/address/locality
    #[arg(long, value_delimiter = ',')]
    pub claims: Vec<String>,
    /// The verifier's identifier.
    #[arg(long)]
    pub aud: String,
    /// The verifier's nonce.
    #[arg(long)]
    pub nonce: String,
}

/// What `jigap verify` checks.
#[derive(Subcommand, Debug)]
pub enum VerifyWhat {
    /// An SD-JWT+KB presentation (from a file, or stdin with `-`).
    SdJwt {
        /// The presentation file, or `-`.
        #[arg(default_value = "-")]
        presentation: String,
        /// A test authority directory whose IACA is trusted.
        #[arg(long)]
        issuer: Option<PathBuf>,
        /// Trusted issuer root certificates (DER).
        #[arg(long)]
        trust: Vec<PathBuf>,
        /// Expected audience (this verifier).
        #[arg(long)]
        aud: String,
        /// The nonce this verifier sent.
        #[arg(long)]
        nonce: String,
        /// Status list URLs to fetch (http://) and check the credential against.
        #[arg(long = "status-list")]
        status_lists: Vec<String>,
    },
}

fn read_arg(text: &str) -> Result<String> {
    if let Some(path) = text.strip_prefix('@') {
        return std::fs::read_to_string(path)
            .map_err(|e| CliError::from(format!("reading {path}: {e}")));
    }
    Ok(text.to_string())
}

/// `jigap issue e-certificate`.
pub fn issue(cli: &Cli, args: &IssueECertificate) -> Result<()> {
    let authority = TestAuthority::load(load_material(&args.issuer)?, None)?;
    let destination = args.to.resolve()?;
    let status = crate::authority_dir::status_entry(&args.status_uri, args.status_index)?;
    let issued = authority.issue_e_certificate(
        args.kind.clone(),
        destination.public_key(),
        read_arg(&args.claims)?,
        status,
    )?;
    let (wallet, key, holder) = match destination {
        crate::authority_dir::Destination::File(_, out) => {
            crate::context::write(&out, issued.as_bytes(), false)?;
            if cli.json {
                out!("{}", json!({ "out": out, "bytes": issued.len() }));
            } else {
                out!("issued {} bytes to {}", issued.len(), out.display());
            }
            return Ok(());
        }
        crate::authority_dir::Destination::Wallet(wallet, key, holder) => (wallet, key, holder),
    };
    let id = wallet.add_sd_jwt(issued.clone(), key.alias)?;
    let view = wallet.e_certificate_view(id.clone())?;
    let withholdable: Vec<&str> = view
        .claims
        .iter()
        .filter(|c| c.disclosable)
        .map(|c| c.path.as_str())
        .collect();
    if cli.json {
        out!(
            "{}",
            json!({ "id": id, "vct": view.vct, "disclosable": withholdable })
        );
    } else {
        out!(
            "issued {} ({}) into {} as {id}; the holder may withhold {}",
            view.name_ko,
            view.vct,
            holder.display(),
            withholdable.join(", ")
        );
    }
    Ok(())
}

/// `jigap present e-certificate`.
pub fn present(cli: &Cli, args: &PresentECertificate) -> Result<()> {
    let wallet = open(&wallet_path(cli), false)?;
    unlock(&wallet)?;
    let presentation = wallet.present_sd_jwt(
        args.id.clone(),
        args.claims.clone(),
        args.aud.clone(),
        args.nonce.clone(),
    )?;
    if cli.json {
        out!("{}", json!({ "presentation": presentation }));
    } else {
        out!("{presentation}");
    }
    Ok(())
}

/// `jigap verify ...`.
pub fn verify(cli: &Cli, what: &VerifyWhat) -> Result<()> {
    match what {
        VerifyWhat::SdJwt {
            presentation,
            issuer,
            trust,
            aud,
            nonce,
            status_lists,
        } => {
            let text = if presentation == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                s
            } else {
                std::fs::read_to_string(presentation)
                    .map_err(|e| CliError::from(format!("reading {presentation}: {e}")))?
            };
            let mut anchors = Vec::new();
            let mut status_roots = Vec::new();
            if let Some(dir) = issuer {
                anchors.push(crate::authority_dir::root_of(dir, TrustRole::SdJwtIssuer)?);
                status_roots.push(crate::authority_dir::root_of(
                    dir,
                    TrustRole::StatusListIssuer,
                )?);
            }
            for path in trust {
                anchors.push(
                    std::fs::read(path)
                        .map_err(|e| CliError::from(format!("reading {}: {e}", path.display())))?,
                );
            }
            let verifier = SdJwtVerifier::new(SdJwtVerifierConfig {
                trusted_issuer_certificates: anchors,
                status_list_certificates: status_roots,
                accepted_vcts: vec![],
                require_expiry: true,
                max_key_binding_age_seconds: 300,
                clock_skew_seconds: 60,
                clock: None,
            })?;
            let mut tls_roots = Vec::new();
            if let Some(dir) = issuer {
                tls_roots.push(crate::authority_dir::tls_root_of(dir)?);
            }
            let client = crate::http::CliHttpClient::new(&tls_roots)?;
            for url in status_lists {
                let response = crate::http::fetch(&client, wallet_core::HttpRequest::get(url))?;
                if response.status != 200 {
                    return Err(CliError::from(format!("{url}: HTTP {}", response.status)));
                }
                verifier.add_status_list(url.clone(), response.body)?;
            }
            let verified = verifier.verify(text.trim().to_string(), aud.clone(), nonce.clone())?;
            if cli.json {
                let claims: serde_json::Value =
                    serde_json::from_str(&verified.claims_json).unwrap_or_default();
                out!(
                    "{}",
                    json!({
                        "vct": verified.vct,
                        "issuer": verified.issuer,
                        "issuer_certificate": verified.issuer_certificate,
                        "key_bound": verified.key_bound,
                        "disclosed": verified.disclosed.iter().map(|d| json!({ "path": d.path, "value": serde_json::from_str::<serde_json::Value>(&d.value_json).unwrap_or_default() })).collect::<Vec<_>>(),
                        "claims": claims,
                    })
                );
            } else {
                out!(
                    "VERIFIED {} from {} ({}), key-bound to this verifier: {}",
                    verified.vct,
                    verified.issuer,
                    verified.issuer_certificate,
                    verified.key_bound
                );
                for d in &verified.disclosed {
                    out!("  ✓ {} = {}", d.path, d.value_json);
                }
            }
            Ok(())
        }
    }
}
