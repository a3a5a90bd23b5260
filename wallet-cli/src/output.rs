//! Text and JSON renderings of the API's records.

use serde_json::{json, Value};
use wallet_core::{CredentialFormat, CredentialState, CredentialSummary, WalletStatus, WipeReport};

/// The CLI spelling of a format.
pub fn format_name(f: CredentialFormat) -> &'static str {
    match f {
        CredentialFormat::MsoMdoc => "mso-mdoc",
        CredentialFormat::SdJwtVc => "sd-jwt-vc",
    }
}

/// The CLI spelling of a state.
pub fn state_name(s: CredentialState) -> &'static str {
    match s {
        CredentialState::Valid => "valid",
        CredentialState::Suspended => "suspended",
        CredentialState::Revoked => "revoked",
        CredentialState::Expired => "expired",
    }
}

/// JSON of a credential summary.
pub fn summary_json(c: &CredentialSummary) -> Value {
    json!({
        "id": c.id,
        "format": format_name(c.format),
        "state": state_name(c.state),
        "doc_type": c.doc_type,
        "issuer": c.issuer,
        "display_name_ko": c.display_name_ko,
        "display_name_en": c.display_name_en,
        "valid_from": c.valid_from,
        "valid_until": c.valid_until,
        "added_at": c.added_at,
        "key_alias": c.key_alias,
        "copies": c.copies.map(|n| json!({ "total": n.total, "unused": n.unused })),
    })
}

/// One line of text for a credential.
pub fn summary_line(c: &CredentialSummary) -> String {
    let copies = c
        .copies
        .map(|n| format!("  copies: {} of {} unused", n.unused, n.total))
        .unwrap_or_default();
    format!(
        "{}  {:<9}  {:<9}  {}  ({} / {})  issuer: {}{copies}",
        c.id,
        format_name(c.format),
        state_name(c.state),
        c.doc_type,
        c.display_name_ko,
        c.display_name_en,
        c.issuer
    )
}

/// JSON of the wallet status.
pub fn status_json(s: &WalletStatus) -> Value {
    json!({
        "pin_set": s.pin_set,
        "unlocked": s.unlocked,
        "pin_locked_out": s.pin_locked_out,
        "pin_tries_left": s.pin_tries_left,
        "credential_count": s.credential_count,
        "schema_version": s.schema_version,
        "in_memory": s.in_memory,
    })
}

/// JSON of a wipe report.
pub fn wipe_json(r: &WipeReport) -> Value {
    json!({
        "credentials_removed": r.credentials_removed,
        "software_keys_removed": r.software_keys_removed,
        "host_keys_removed": r.host_keys_removed,
        "records_removed": r.records_removed,
        "data_key_destroyed": r.data_key_destroyed,
    })
}

/// Text of a wipe report.
pub fn wipe_text(r: &WipeReport) -> String {
    format!(
        "wiped: {} credentials, {} software keys, {} host keys, {} records; data key destroyed: {}",
        r.credentials_removed,
        r.software_keys_removed,
        r.host_keys_removed,
        r.records_removed,
        r.data_key_destroyed
    )
}
