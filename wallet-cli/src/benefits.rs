//! Benefit commands: sign the sample catalog (as a publisher), opt in or out, enter facts, and
//! check or explain eligibility — all evaluated locally.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;
use wallet_core::{
    benefit_attributes, BenefitResult, CitizenFact, Eligibility, FactValue, TestAuthority,
};

use crate::authority_dir::load_material;
use crate::context::{open, say, unlock, wallet_path, CliError};
use crate::Cli;

type Result<T> = std::result::Result<T, CliError>;

/// Benefit actions.
#[derive(Subcommand, Debug)]
pub enum BenefitsAction {
    /// Sign the sample catalog (35 programmes) as the test authority, acting as publisher.
    Catalog {
        /// The test authority's directory.
        #[arg(long)]
        issuer: PathBuf,
        /// Where to write the signed catalog.
        #[arg(long)]
        out: PathBuf,
    },
    /// List the attributes rules use and the documents that prove them.
    Attributes,
    /// Opt in to on-device checks.
    OptIn,
    /// Withdraw: deletes every fact entered.
    OptOut,
    /// Enter facts (name=value) and show them.
    Facts {
        /// Facts, e.g. --set income_percent_median=55 --set homeowner=false
        #[arg(long = "set")]
        set: Vec<String>,
    },
    /// Check every benefit of a signed catalog.
    Check {
        /// The signed catalog.
        #[arg(long)]
        catalog: PathBuf,
    },
    /// Explain one benefit's result.
    Explain {
        /// Benefit id.
        id: String,
        /// The signed catalog.
        #[arg(long)]
        catalog: PathBuf,
    },
}

fn outcome(e: Eligibility) -> &'static str {
    match e {
        Eligibility::Eligible => "eligible",
        Eligibility::NotEligible => "not eligible",
        Eligibility::Unknown => "unknown",
    }
}

fn result_json(r: &BenefitResult) -> serde_json::Value {
    json!({
        "id": r.benefit_id, "name_ko": r.name_ko, "name_en": r.name_en, "agency": r.agency,
        "eligibility": outcome(r.eligibility), "explanation": r.explanation,
        "missing": r.missing.iter().map(|m| json!({ "attribute": m.attribute, "document": m.document })).collect::<Vec<_>>(),
        "documents": r.documents,
    })
}

fn parse_fact(text: &str) -> Result<CitizenFact> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| CliError::from(format!("a fact is name=value, not {text}")))?;
    let info = benefit_attributes()
        .into_iter()
        .find(|a| a.name == name)
        .ok_or_else(|| {
            CliError::from(format!(
                "unknown attribute {name} (see jigap benefits attributes)"
            ))
        })?;
    let value = match info.type_name.as_str() {
        "int" => FactValue::Int {
            value: value
                .parse()
                .map_err(|_| CliError::from(format!("{name} takes a whole number")))?,
        },
        "bool" => FactValue::Bool {
            value: match value {
                "true" | "yes" | "y" => true,
                "false" | "no" | "n" => false,
                _ => return Err(CliError::from(format!("{name} takes true or false"))),
            },
        },
        _ => FactValue::Text {
            value: value.to_string(),
        },
    };
    Ok(CitizenFact {
        name: name.to_string(),
        value,
    })
}

/// `jigap benefits ...`.
pub fn run(cli: &Cli, action: &BenefitsAction) -> Result<()> {
    match action {
        BenefitsAction::Catalog { issuer, out } => {
            let authority = TestAuthority::load(load_material(issuer)?, None)?;
            let signed = authority.sign_benefit_catalog(1)?;
            std::fs::write(out, &signed)?;
            say(
                cli,
                json!({ "out": out, "bytes": signed.len() }),
                format!(
                    "signed the sample catalog ({} bytes) → {}",
                    signed.len(),
                    out.display()
                ),
            );
            return Ok(());
        }
        BenefitsAction::Attributes => {
            let attrs = benefit_attributes();
            let value = json!(attrs.iter().map(|a| json!({ "name": a.name, "type": a.type_name, "meaning": a.meaning, "document": a.document })).collect::<Vec<_>>());
            let text = attrs
                .iter()
                .map(|a| {
                    format!(
                        "{:<26} {:<5} {} — {}",
                        a.name, a.type_name, a.meaning, a.document
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            say(cli, value, text);
            return Ok(());
        }
        _ => {}
    }
    let wallet = open(&wallet_path(cli), false)?;
    unlock(&wallet)?;
    match action {
        BenefitsAction::OptIn => {
            wallet.set_benefit_opt_in(true)?;
            say(
                cli,
                json!({ "opted_in": true }),
                "opted in: benefit checks run on this device only",
            );
        }
        BenefitsAction::OptOut => {
            wallet.set_benefit_opt_in(false)?;
            say(
                cli,
                json!({ "opted_in": false }),
                "opted out: entered facts deleted",
            );
        }
        BenefitsAction::Facts { set } => {
            if !set.is_empty() {
                wallet.set_citizen_facts(
                    set.iter()
                        .map(|f| parse_fact(f))
                        .collect::<Result<Vec<_>>>()?,
                )?;
            }
            let facts = wallet.citizen_facts()?;
            let show = |v: &FactValue| match v {
                FactValue::Int { value } => value.to_string(),
                FactValue::Bool { value } => value.to_string(),
                FactValue::Text { value } => value.clone(),
            };
            let value = json!(facts
                .iter()
                .map(|f| json!({ "name": f.name, "value": show(&f.value) }))
                .collect::<Vec<_>>());
            let text = if facts.is_empty() {
                "no facts entered".to_string()
            } else {
                facts
                    .iter()
                    .map(|f| format!("{} = {}", f.name, show(&f.value)))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            say(cli, value, text);
        }
        BenefitsAction::Check { catalog } => {
            let mut results = wallet.evaluate_benefits(std::fs::read(catalog)?)?;
            results.sort_by_key(|r| match r.eligibility {
                Eligibility::Eligible => 0,
                Eligibility::Unknown => 1,
                Eligibility::NotEligible => 2,
            });
            let text = results
                .iter()
                .map(|r| {
                    let detail = match r.eligibility {
                        Eligibility::Unknown => format!(
                            "needs {}",
                            r.missing
                                .iter()
                                .map(|m| m.attribute.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        _ => r.explanation.join("; "),
                    };
                    format!(
                        "{:<13} {:<30} {} — {}",
                        outcome(r.eligibility),
                        r.benefit_id,
                        r.name_ko,
                        detail
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            say(
                cli,
                json!(results.iter().map(result_json).collect::<Vec<_>>()),
                text,
            );
        }
        BenefitsAction::Explain { id, catalog } => {
            let results = wallet.evaluate_benefits(std::fs::read(catalog)?)?;
            let r = results
                .iter()
                .find(|r| &r.benefit_id == id)
                .ok_or_else(|| CliError::from(format!("no benefit {id} in the catalog")))?;
            let mut lines = vec![format!(
                "{} ({}) — {}: {}",
                r.name_ko,
                r.name_en,
                r.agency,
                outcome(r.eligibility)
            )];
            lines.extend(r.explanation.iter().map(|e| format!("  because {e}")));
            lines.extend(
                r.missing
                    .iter()
                    .map(|m| format!("  missing {} — supplied by {}", m.attribute, m.document)),
            );
            lines.push(format!("  apply with: {}", r.documents.join(", ")));
            say(cli, result_json(r), lines.join("\n"));
        }
        BenefitsAction::Catalog { .. } | BenefitsAction::Attributes => {}
    }
    Ok(())
}
