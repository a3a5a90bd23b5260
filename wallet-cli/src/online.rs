//! `jigap present URL`: answering an online request (OpenID4VP 1.0) through the same API a
//! phone uses — `Wallet::start_online_presentation` fetches and verifies the signed request,
//! the request is shown (who asks, verified or not; each query with the credentials that can
//! answer it and exactly the claims they would disclose; transactions to authorize), the
//! citizen approves or declines, and `OnlinePresentation::respond` or `decline` delivers the
//! answer to the relying party. Each HTTP request is shown on stderr as it happens.

use std::io::{BufRead, IsTerminal, Write};

use serde_json::json;
use wallet_core::{
    DisclosureRequest, ItemVerdict, OnlineOutcome, OnlineRequestView, QueryChoice, WithheldReason,
};

use crate::context::{open_with, say_with, unlock, wallet_path, CliError, Result};
use crate::http::{progress_client, runtime};
use crate::mdoc::PresentArgs;
use crate::Cli;

/// Longest value shown for a claim before it is cut short.
const SHOWN_VALUE_CHARS: usize = 60;

/// What the citizen decided.
enum Decision {
    /// Present these credentials.
    Present(Vec<QueryChoice>),
    /// Tell the relying party no.
    Decline,
}

/// `value` cut to [`SHOWN_VALUE_CHARS`] characters, with no control characters.
fn shown(value: &str) -> String {
    let mut text: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(SHOWN_VALUE_CHARS)
        .collect();
    if value.chars().count() > SHOWN_VALUE_CHARS {
        text.push('…');
    }
    text
}

/// The policy's verdict on `path` of `query`'s first candidate, when it is not a plain offer.
fn verdict_note(disclosure: &DisclosureRequest, query: &str, path: &str) -> String {
    let verdict = disclosure
        .documents
        .iter()
        .filter(|d| d.id == query)
        .flat_map(|d| d.items.iter())
        .find(|i| i.path == path)
        .map(|i| &i.verdict);
    match verdict {
        Some(ItemVerdict::Withheld { reason }) => format!(" [withheld: {}]", reason_text(*reason)),
        Some(ItemVerdict::NeedsOwnApproval { minimal }) => {
            format!(" [only if chosen by name; {minimal} answers first]")
        }
        Some(ItemVerdict::Granted { .. }) => " [remembered]".into(),
        Some(ItemVerdict::Offered) | None => String::new(),
    }
}

/// How a withheld reason reads.
pub fn reason_text(reason: WithheldReason) -> &'static str {
    match reason {
        WithheldReason::Policy => "policy",
        WithheldReason::NotHeld => "not held",
        WithheldReason::RefusedByCitizen => "refused by the citizen",
        WithheldReason::Restricted => "restricted identifier",
    }
}

/// The request as the citizen is asked about it, with the policy's verdicts.
pub fn describe(view: &OnlineRequestView, disclosure: &DisclosureRequest) -> String {
    let rp = &view.relying_party;
    let mut lines = vec![if rp.verified {
        format!(
            "relying party {} — verified: {}{}",
            rp.client_id,
            rp.subject.as_deref().unwrap_or("?"),
            rp.anchor
                .as_deref()
                .map(|a| format!(" (under {a})"))
                .unwrap_or_default()
        )
    } else {
        format!(
            "relying party {} — NOT verified{}",
            rp.client_id,
            rp.note
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default()
        )
    }];
    if let Some(origin) = &view.origin {
        lines.push(format!("  from the web origin {origin}"));
    }
    for q in &view.queries {
        lines.push(format!(
            "query {} ({}{}) — {} [{}]",
            q.query_id,
            if q.required { "required" } else { "optional" },
            if q.multiple { ", several allowed" } else { "" },
            q.doc_type,
            crate::output::format_name(q.format)
        ));
        for (n, c) in q.candidates.iter().enumerate() {
            lines.push(format!(
                "  candidate {} — {} ({})",
                c.credential_id, c.display_name_ko, c.display_name_en
            ));
            for claim in &c.claims {
                let note = if n == 0 {
                    verdict_note(disclosure, &q.query_id, &claim.path)
                } else {
                    String::new()
                };
                let label = match (&claim.label_ko, &claim.label_en) {
                    (Some(ko), Some(en)) => format!(" ({ko}, {en})"),
                    (Some(l), None) | (None, Some(l)) => format!(" ({l})"),
                    (None, None) => String::new(),
                };
                lines.push(format!(
                    "    {}{label} = {}{}{note}",
                    claim.path,
                    shown(&claim.value_json),
                    if claim.intent_to_retain {
                        " (will be kept)"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    for t in &view.transaction_data {
        lines.push(format!(
            "transaction to authorize: {} (with {}) {}",
            t.kind,
            t.credential_ids.join(", "),
            t.fields_json
        ));
    }
    if let Some(why) = &view.unsatisfiable {
        lines.push(format!("the wallet cannot answer: {why}"));
    }
    lines.join("\n")
}

/// Each query the wallet can answer, with its first candidate.
fn first_candidates(view: &OnlineRequestView) -> Vec<QueryChoice> {
    view.queries
        .iter()
        .filter_map(|q| {
            let first = q.candidates.first()?;
            Some(QueryChoice {
                query_id: q.query_id.clone(),
                credential_ids: vec![first.credential_id.clone()],
            })
        })
        .collect()
}

/// `QUERY=CREDENTIAL_ID` pairs joined by commas (a query named twice takes both credentials).
fn parse_choices(text: &str) -> Result<Vec<QueryChoice>> {
    let mut choices: Vec<QueryChoice> = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (query_id, credential_id) = pair
            .split_once('=')
            .map(|(q, c)| (q.trim(), c.trim()))
            .filter(|(q, c)| !q.is_empty() && !c.is_empty())
            .ok_or_else(|| {
                CliError::from(format!(
                    "--approve: {pair:?} is not QUERY=CREDENTIAL_ID (or all, none)"
                ))
            })?;
        match choices.iter_mut().find(|c| c.query_id == query_id) {
            Some(choice) => choice.credential_ids.push(credential_id.to_owned()),
            None => choices.push(QueryChoice {
                query_id: query_id.to_owned(),
                credential_ids: vec![credential_id.to_owned()],
            }),
        }
    }
    if choices.is_empty() {
        return Err(CliError::from(
            "--approve: all, none, or QUERY=CREDENTIAL_ID pairs".to_string(),
        ));
    }
    Ok(choices)
}

/// The citizen's decision: from `--approve`, or asked on the terminal.
fn decide(view: &OnlineRequestView, approve: Option<&str>) -> Result<Decision> {
    match approve.map(str::trim) {
        Some("all") => Ok(Decision::Present(first_candidates(view))),
        Some("none") => Ok(Decision::Decline),
        Some(pairs) => Ok(Decision::Present(parse_choices(pairs)?)),
        None if std::io::stdin().is_terminal() => {
            eprint!(
                "present each query's first candidate to {}? [y/N] ",
                view.relying_party.client_id
            );
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            Ok(if line.trim().eq_ignore_ascii_case("y") {
                Decision::Present(first_candidates(view))
            } else {
                Decision::Decline
            })
        }
        None => Err(CliError::from(
            "no terminal to ask: pass --approve all|none|QUERY=CREDENTIAL_ID,...".to_string(),
        )),
    }
}

/// What was presented, for the output: each credential with what it released and withheld.
fn presented_json(outcome: &OnlineOutcome) -> Vec<serde_json::Value> {
    outcome
        .disclosed
        .iter()
        .map(|d| {
            json!({
                "query_id": d.query_id,
                "credential_id": d.credential_id,
                "claims": d.released,
                "withheld": d.withheld.iter().map(|w| json!({
                    "path": w.path, "reason": reason_text(w.reason),
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// `jigap present URL`.
pub fn present(cli: &Cli, args: &PresentArgs, request: &str) -> Result<()> {
    let wallet = open_with(&wallet_path(cli), false, args.allow_loopback_http)?;
    unlock(&wallet)?;
    let http = progress_client(&args.tls_root, cli.json)?;
    runtime()?.block_on(async {
        if !cli.json {
            eprintln!("fetching and checking the request");
        }
        let session = wallet
            .clone()
            .start_online_presentation(request.to_owned(), http)
            .await?;
        let view = session.request();
        if !cli.json || args.approve.is_none() {
            eprintln!("{}", describe(&view, &session.disclosure()));
        }
        if let Some(why) = &view.unsatisfiable {
            // The relying party hears `access_denied`; the citizen hears why.
            let told = match session.decline().await {
                Ok(_) => "the relying party was told no".to_string(),
                Err(e) => format!("telling the relying party failed: {e}"),
            };
            return Err(CliError::from(format!(
                "the wallet cannot answer this request: {why} ({told})"
            )));
        }
        match decide(&view, args.approve.as_deref())? {
            Decision::Decline => {
                session.decline().await?;
                say_with(cli, json!({ "declined": true }), || {
                    "declined; the relying party was told".into()
                });
            }
            Decision::Present(choices) => {
                let outcome = session.respond(choices.clone()).await?;
                let presented = presented_json(&outcome);
                say_with(
                    cli,
                    json!({ "redirect_uri": outcome.redirect_uri, "presented": presented }),
                    || {
                        let mut lines: Vec<String> = presented
                            .iter()
                            .map(|p| {
                                let withheld: Vec<String> = p["withheld"]
                                    .as_array()
                                    .into_iter()
                                    .flatten()
                                    .map(|w| {
                                        format!(
                                            "{} ({})",
                                            w["path"].as_str().unwrap_or_default(),
                                            w["reason"].as_str().unwrap_or_default()
                                        )
                                    })
                                    .collect();
                                format!(
                                    "presented {} for {}: {}{}",
                                    p["credential_id"].as_str().unwrap_or_default(),
                                    p["query_id"].as_str().unwrap_or_default(),
                                    p["claims"]
                                        .as_array()
                                        .into_iter()
                                        .flatten()
                                        .filter_map(serde_json::Value::as_str)
                                        .collect::<Vec<_>>()
                                        .join(", "),
                                    if withheld.is_empty() {
                                        String::new()
                                    } else {
                                        format!("; withheld {}", withheld.join(", "))
                                    }
                                )
                            })
                            .collect();
                        lines.push(match &outcome.redirect_uri {
                            Some(uri) => format!("the relying party sends you on to {uri}"),
                            None => "the relying party took the answer".into(),
                        });
                        lines.join("\n")
                    },
                );
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approvals_name_queries_and_credentials() {
        let choices = parse_choices("q0=a, q1=b,q0=c").unwrap();
        assert_eq!(
            choices,
            [
                QueryChoice {
                    query_id: "q0".into(),
                    credential_ids: vec!["a".into(), "c".into()]
                },
                QueryChoice {
                    query_id: "q1".into(),
                    credential_ids: vec!["b".into()]
                },
            ]
        );
        assert!(parse_choices("q0").is_err());
        assert!(parse_choices("=a").is_err());
        assert!(parse_choices(" , ").is_err());
    }

    #[test]
    fn shown_values_are_one_short_line() {
        assert_eq!(shown("\"a\nb\""), "\"a b\"");
        assert_eq!(shown(&"x".repeat(100)).chars().count(), 61);
    }
}
