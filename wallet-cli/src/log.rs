//! The citizen's record: list it (filtered, paged), export it as JSON lines with its chain and
//! signed head, and verify the wallet's record or an export of one.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::{json, Value};
use wallet_core::{verify_journal_export, JournalEntry, JournalFilter, JournalKind};

use crate::commands::hex;
use crate::context::{open, read, say, say_with, unlock, wallet_path, write, CliError};
use crate::Cli;

type Result<T> = std::result::Result<T, CliError>;

/// Record actions.
#[derive(Subcommand, Debug)]
pub enum LogAction {
    /// List entries, newest first.
    List {
        /// Only these kinds (comma-separated): issuance, presentation, presentation_declined,
        /// consent, consent_revoked, status_change, bill, notice, deletion, pin_lockout.
        #[arg(long, value_delimiter = ',')]
        kind: Vec<String>,
        /// Not before this time (RFC 3339 or Unix seconds).
        #[arg(long)]
        since: Option<String>,
        /// Not after this time (RFC 3339 or Unix seconds).
        #[arg(long)]
        until: Option<String>,
        /// Only entries about this relying party (a part of its client id or subject).
        #[arg(long)]
        relying_party: Option<String>,
        /// Entries to skip.
        #[arg(long, default_value_t = 0)]
        offset: u32,
        /// Entries to show (1 to 500).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Write the whole record as JSON lines (oldest first, the signed head last), after
    /// checking it.
    Export {
        /// Where to write it (stdout when absent).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check the wallet's record, or with FILE an export of one.
    Verify {
        /// An export to check instead of the wallet's record.
        file: Option<PathBuf>,
        /// The public key (SEC1, hex) the export's head must be signed with (from `jigap log
        /// verify` on the wallet); without it the export's own key is used, which shows the
        /// export is intact but not whose it is.
        #[arg(long)]
        key: Option<String>,
    },
}

fn kind_of(name: &str) -> Result<JournalKind> {
    JournalKind::from_name(name.trim())
        .ok_or_else(|| CliError::from(format!("unknown kind {name}")))
}

/// A time given as Unix seconds or RFC 3339.
fn time_of(text: &str) -> Result<i64> {
    if let Ok(seconds) = text.trim().parse::<i64>() {
        return Ok(seconds);
    }
    time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
        .map(time::OffsetDateTime::unix_timestamp)
        .map_err(|_| CliError::from(format!("{text}: not RFC 3339 or Unix seconds")))
}

fn entry_json(e: &JournalEntry) -> Value {
    json!({
        "seq": e.seq,
        "at": e.at,
        "kind": e.kind.name(),
        "details": serde_json::from_str::<Value>(&e.details_json).unwrap_or(Value::Null),
    })
}

/// What a presentation entry says in a sentence: to whom (verified or not), what went, what
/// was withheld and why.
pub fn entry_summary(e: &JournalEntry) -> String {
    let details: Value = serde_json::from_str(&e.details_json).unwrap_or(Value::Null);
    let rp = details.get("relying_party").unwrap_or(&Value::Null);
    let who = rp
        .get("subject")
        .and_then(Value::as_str)
        .or_else(|| rp.get("client_id").and_then(Value::as_str))
        .unwrap_or("an unidentified reader");
    let verified = rp.get("verified").and_then(Value::as_bool) == Some(true);
    let parts = details
        .get("documents")
        .or_else(|| details.get("credentials"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let short = |p: &str| p.rsplit('/').next().unwrap_or(p).to_owned();
    let released: Vec<String> = parts
        .iter()
        .flat_map(|p| {
            p.get("released")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|v| v.as_str().map(short))
        .collect();
    let withheld: Vec<String> = parts
        .iter()
        .flat_map(|p| {
            p.get("withheld")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|w| {
            Some(format!(
                "{} ({})",
                short(w.get("item")?.as_str()?),
                w.get("reason")?.as_str()?
            ))
        })
        .collect();
    format!(
        "#{} {} via {} to {who} ({}): released {}{}",
        e.seq,
        e.kind.name(),
        details
            .get("channel")
            .and_then(Value::as_str)
            .unwrap_or("?"),
        if verified { "verified" } else { "NOT verified" },
        if released.is_empty() {
            "nothing".to_owned()
        } else {
            released.join(", ")
        },
        if withheld.is_empty() {
            String::new()
        } else {
            format!("; withheld {}", withheld.join(", "))
        }
    )
}

/// One line for a person: when, what, and the details that say most.
fn entry_text(e: &JournalEntry) -> String {
    let details: Value = serde_json::from_str(&e.details_json).unwrap_or(Value::Null);
    let who = details
        .get("relying_party")
        .and_then(|rp| {
            let name = rp
                .get("subject")
                .and_then(Value::as_str)
                .or_else(|| rp.get("client_id").and_then(Value::as_str))?;
            let verified = rp.get("verified").and_then(Value::as_bool) == Some(true);
            Some(format!(
                " to {name} ({})",
                if verified { "verified" } else { "NOT verified" }
            ))
        })
        .unwrap_or_default();
    format!(
        "{:>5}  {}  {:<21}{who}  {}",
        e.seq,
        crate::context::format_time(e.at),
        e.kind.name(),
        e.details_json
    )
}

fn unhex(text: &str) -> Result<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return Err(CliError::from("--key: not hex".to_string()));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| CliError::from("--key: not hex".to_string()))
        })
        .collect()
}

/// `jigap log ...`.
pub fn run(cli: &Cli, action: &LogAction) -> Result<()> {
    if let LogAction::Verify {
        file: Some(file),
        key,
    } = action
    {
        let export = String::from_utf8(read(file)?)
            .map_err(|_| CliError::from(format!("{}: not UTF-8", file.display())))?;
        let expected = key.as_deref().map(unhex).transpose()?;
        let signed_by_expected = expected.is_some();
        let entries = verify_journal_export(export, expected)?;
        say(
            cli,
            json!({ "valid": true, "entries": entries, "key_checked": signed_by_expected }),
            format!(
                "VALID export: {entries} entries, chained, the head signed by {}",
                if signed_by_expected {
                    "the expected key"
                } else {
                    "the key it names (pass --key to check whose it is)"
                }
            ),
        );
        return Ok(());
    }
    let wallet = open(&wallet_path(cli), false)?;
    unlock(&wallet)?;
    match action {
        LogAction::List {
            kind,
            since,
            until,
            relying_party,
            offset,
            limit,
        } => {
            let filter = JournalFilter {
                kinds: kind.iter().map(|k| kind_of(k)).collect::<Result<_>>()?,
                from: since.as_deref().map(time_of).transpose()?,
                until: until.as_deref().map(time_of).transpose()?,
                relying_party: relying_party.clone(),
            };
            let page = wallet.list_journal(filter, *offset, *limit)?;
            say_with(
                cli,
                json!({
                    "entries": page.entries.iter().map(entry_json).collect::<Vec<_>>(),
                    "total": page.total,
                    "next_offset": page.next_offset,
                }),
                || {
                    let mut lines: Vec<String> = page.entries.iter().map(entry_text).collect();
                    lines.push(match page.next_offset {
                        Some(next) => format!(
                            "{} of {} shown; more with --offset {next}",
                            page.entries.len(),
                            page.total
                        ),
                        None => format!("{} of {} shown", page.entries.len(), page.total),
                    });
                    lines.join("\n")
                },
            );
        }
        LogAction::Export { out } => {
            let export = wallet.export_journal()?;
            match out {
                Some(path) => {
                    write(path, format!("{export}\n").as_bytes(), true)?;
                    let entries = export.lines().count().saturating_sub(1);
                    say(
                        cli,
                        json!({ "written": path.display().to_string(), "entries": entries }),
                        format!("{entries} entries written to {}", path.display()),
                    );
                }
                None => out!("{export}"),
            }
        }
        LogAction::Verify { file: None, .. } => {
            let check = wallet.verify_journal()?;
            say(
                cli,
                json!({ "valid": true, "entries": check.entries, "public_key": hex(&check.public_key) }),
                format!(
                    "VALID record: {} entries, chained, the head signed by the wallet's key {}",
                    check.entries,
                    hex(&check.public_key)
                ),
            );
        }
        LogAction::Verify { file: Some(_), .. } => {}
    }
    Ok(())
}
