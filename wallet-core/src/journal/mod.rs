//! The citizen's record: an append-only log of what the wallet did and saw — issuances,
//! presentations (to whom, verified or not, which items, which withheld and why), consents,
//! status changes, received bills and notices, deletions, PIN lockouts. Each entry's chain
//! value hashes the previous one, and the head (last sequence number and chain value) is
//! signed by a wallet key, so an edited, dropped, reordered or truncated entry is detected.
//!
//! Owns: entry kinds, the chain and head constructions, the export format and its verifier.
//! Imports only `crypto`; never `store` or `api` (the store keeps the rows, the API signs).

use ring::digest;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::crypto::{ec, jose, CryptoError};

/// The chain value before the first entry.
pub const GENESIS: [u8; 32] = [0; 32];
const CHAIN_LABEL: &[u8] = b"jigap-journal-entry-v1";
const HEAD_LABEL: &[u8] = b"jigap-journal-head-v1";
/// The largest export [`verify_export`] reads (about 100 000 entries of typical size).
pub const MAX_EXPORT_BYTES: usize = 64 * 1024 * 1024;

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, uniffi::Enum)]
pub enum JournalKind {
    /// A credential was received and stored.
    Issuance,
    /// Credentials were presented (in person, online or as a file).
    Presentation,
    /// A presentation was declined, or refused by policy.
    PresentationDeclined,
    /// A MyData consent was given.
    Consent,
    /// A MyData consent was withdrawn.
    ConsentRevoked,
    /// A credential's state changed (revoked, suspended, reinstated, expired).
    StatusChange,
    /// A bill was received.
    Bill,
    /// A notice was received.
    Notice,
    /// A credential was deleted.
    Deletion,
    /// Too many wrong PINs locked the wallet.
    PinLockout,
    /// The citizen let a relying party see some items without asking again.
    Grant,
    /// The citizen took such a grant back.
    GrantRevoked,
}

impl JournalKind {
    /// The stored code (never reuse one).
    pub fn code(self) -> i64 {
        match self {
            JournalKind::Issuance => 1,
            JournalKind::Presentation => 2,
            JournalKind::PresentationDeclined => 3,
            JournalKind::Consent => 4,
            JournalKind::ConsentRevoked => 5,
            JournalKind::StatusChange => 6,
            JournalKind::Bill => 7,
            JournalKind::Notice => 8,
            JournalKind::Deletion => 9,
            JournalKind::PinLockout => 10,
            JournalKind::Grant => 11,
            JournalKind::GrantRevoked => 12,
        }
    }

    /// The kind of a stored code.
    pub fn from_code(code: i64) -> Option<Self> {
        use JournalKind::*;
        [
            Issuance,
            Presentation,
            PresentationDeclined,
            Consent,
            ConsentRevoked,
            StatusChange,
            Bill,
            Notice,
            Deletion,
            PinLockout,
            Grant,
            GrantRevoked,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }

    /// Its name in exports.
    pub fn name(self) -> &'static str {
        match self {
            JournalKind::Issuance => "issuance",
            JournalKind::Presentation => "presentation",
            JournalKind::PresentationDeclined => "presentation_declined",
            JournalKind::Consent => "consent",
            JournalKind::ConsentRevoked => "consent_revoked",
            JournalKind::StatusChange => "status_change",
            JournalKind::Bill => "bill",
            JournalKind::Notice => "notice",
            JournalKind::Deletion => "deletion",
            JournalKind::PinLockout => "pin_lockout",
            JournalKind::Grant => "grant",
            JournalKind::GrantRevoked => "grant_revoked",
        }
    }

    /// The kind of an export name.
    pub fn from_name(name: &str) -> Option<Self> {
        (1..=12)
            .filter_map(Self::from_code)
            .find(|k| k.name() == name)
    }
}

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its position, from 1.
    pub seq: u64,
    /// When, Unix seconds.
    pub at: i64,
    /// What.
    pub kind: JournalKind,
    /// The details, as JSON text (personal data: kept sealed).
    pub details: String,
    /// Its chain value.
    pub chain: [u8; 32],
}

/// The chain value of an entry: SHA-256 over a label, the previous chain value, the sequence
/// number, the time, the kind and the SHA-256 of the details.
pub fn chain(previous: &[u8; 32], seq: u64, at: i64, kind: JournalKind, details: &str) -> [u8; 32] {
    let details_hash = digest::digest(&digest::SHA256, details.as_bytes());
    let mut input = Vec::with_capacity(CHAIN_LABEL.len() + 32 + 8 + 8 + 8 + 32);
    input.extend_from_slice(CHAIN_LABEL);
    input.extend_from_slice(previous);
    input.extend_from_slice(&seq.to_be_bytes());
    input.extend_from_slice(&at.to_be_bytes());
    input.extend_from_slice(&kind.code().to_be_bytes());
    input.extend_from_slice(details_hash.as_ref());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, &input).as_ref());
    out
}

/// What the head signature covers.
pub fn head_input(seq: u64, chain: &[u8; 32]) -> Vec<u8> {
    let mut input = HEAD_LABEL.to_vec();
    input.extend_from_slice(&seq.to_be_bytes());
    input.extend_from_slice(chain);
    input
}

/// The signed head: the last entry's position and chain value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The last sequence number (0: empty).
    pub seq: u64,
    /// Its chain value.
    pub chain: [u8; 32],
    /// ES256 over [`head_input`] by the journal key (`r || s`).
    pub signature: Vec<u8>,
}

/// How a log, or an export of one, fails its check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// An entry is not where the chain says (dropped, reordered or inserted).
    #[error("entry {0} is missing or out of order")]
    Sequence(u64),
    /// An entry's content does not hash to its chain value (edited).
    #[error("entry {0} was changed")]
    Edited(u64),
    /// The signed head does not match the last entry (truncated or extended), or its
    /// signature does not verify.
    #[error("the log's signed head does not match: {0}")]
    Head(String),
    /// An export line does not read.
    #[error("the export does not read: {0}")]
    Malformed(String),
}

/// Checks `entries` (in order) against the signed `head` and the journal key: every position
/// follows the last, every chain value is recomputed, the head names the last entry and its
/// signature verifies.
pub fn verify(entries: &[Entry], head: &Head, public_key: &[u8]) -> Result<(), JournalError> {
    let mut previous = GENESIS;
    let mut expected_seq = 1u64;
    for entry in entries {
        if entry.seq != expected_seq {
            return Err(JournalError::Sequence(expected_seq));
        }
        let recomputed = chain(&previous, entry.seq, entry.at, entry.kind, &entry.details);
        if recomputed != entry.chain {
            return Err(JournalError::Edited(entry.seq));
        }
        previous = recomputed;
        expected_seq = expected_seq.saturating_add(1);
    }
    let last = expected_seq.saturating_sub(1);
    if head.seq != last || head.chain != previous {
        return Err(JournalError::Head(format!(
            "the head names entry {}, the log ends at {last}",
            head.seq
        )));
    }
    ec::verify(
        public_key,
        &head_input(head.seq, &head.chain),
        &head.signature,
    )
    .map_err(|_| JournalError::Head("the head signature does not verify".into()))
}

/// One export line of an entry.
pub fn export_line(entry: &Entry) -> String {
    let details: Value = serde_json::from_str(&entry.details).unwrap_or(Value::Null);
    json!({
        "seq": entry.seq,
        "at": entry.at,
        "kind": entry.kind.name(),
        "details": details,
        "details_text": entry.details,
        "chain": jose::b64url(&entry.chain),
    })
    .to_string()
}

/// The last export line: the signed head and the key that signed it.
pub fn export_head(head: &Head, public_key: &[u8]) -> Result<String, CryptoError> {
    Ok(json!({
        "head": {
            "seq": head.seq,
            "chain": jose::b64url(&head.chain),
            "signature": jose::b64url(&head.signature),
            "key": jose::p256_jwk(public_key)?,
        }
    })
    .to_string())
}

fn b64_32(value: Option<&Value>, what: &str) -> Result<[u8; 32], JournalError> {
    value
        .and_then(Value::as_str)
        .and_then(|t| jose::b64url_decode(t).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| JournalError::Malformed(what.into()))
}

/// Verifies an export (JSON lines, the head last) and returns its entries. With
/// `expected_key` the head must be signed by that key (else by the key the export names,
/// which proves integrity but not origin).
pub fn verify_export(
    export: &str,
    expected_key: Option<&[u8]>,
) -> Result<Vec<Entry>, JournalError> {
    if export.len() > MAX_EXPORT_BYTES {
        return Err(JournalError::Malformed(format!(
            "an export is at most {MAX_EXPORT_BYTES} bytes"
        )));
    }
    let mut entries = Vec::new();
    let mut head = None;
    for (n, line) in export
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        if head.is_some() {
            return Err(JournalError::Malformed(format!(
                "line {} follows the head",
                n + 1
            )));
        }
        let value: Value = serde_json::from_str(line)
            .map_err(|_| JournalError::Malformed(format!("line {} is not JSON", n + 1)))?;
        if let Some(h) = value.get("head") {
            let key = h
                .get("key")
                .map(jose::p256_from_jwk)
                .transpose()
                .map_err(|e| JournalError::Malformed(format!("head key: {e}")))?
                .ok_or_else(|| JournalError::Malformed("the head names no key".into()))?;
            head = Some((
                Head {
                    seq: h
                        .get("seq")
                        .and_then(Value::as_u64)
                        .ok_or_else(|| JournalError::Malformed("head seq".into()))?,
                    chain: b64_32(h.get("chain"), "head chain")?,
                    signature: h
                        .get("signature")
                        .and_then(Value::as_str)
                        .and_then(|s| jose::b64url_decode(s).ok())
                        .ok_or_else(|| JournalError::Malformed("head signature".into()))?,
                },
                key,
            ));
            continue;
        }
        let kind = value
            .get("kind")
            .and_then(Value::as_str)
            .and_then(JournalKind::from_name)
            .ok_or_else(|| JournalError::Malformed(format!("line {}: kind", n + 1)))?;
        entries.push(Entry {
            seq: value
                .get("seq")
                .and_then(Value::as_u64)
                .ok_or_else(|| JournalError::Malformed(format!("line {}: seq", n + 1)))?,
            at: value
                .get("at")
                .and_then(Value::as_i64)
                .ok_or_else(|| JournalError::Malformed(format!("line {}: at", n + 1)))?,
            kind,
            details: value
                .get("details_text")
                .and_then(Value::as_str)
                .ok_or_else(|| JournalError::Malformed(format!("line {}: details", n + 1)))?
                .to_owned(),
            chain: b64_32(value.get("chain"), "chain")?,
        });
    }
    let (head, key) = head.ok_or_else(|| JournalError::Head("the export has no head".into()))?;
    if let Some(expected) = expected_key {
        if expected != key.as_slice() {
            return Err(JournalError::Head(
                "the head is signed by another key".into(),
            ));
        }
    }
    verify(&entries, &head, &key)?;
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ec::SoftwareKey;

    fn log(key: &SoftwareKey, n: u64) -> (Vec<Entry>, Head) {
        let mut previous = GENESIS;
        let mut entries = Vec::new();
        for seq in 1..=n {
            let details = format!("{{\"n\":{seq}}}");
            let c = chain(
                &previous,
                seq,
                1_000 + seq as i64,
                JournalKind::Presentation,
                &details,
            );
            entries.push(Entry {
                seq,
                at: 1_000 + seq as i64,
                kind: JournalKind::Presentation,
                details,
                chain: c,
            });
            previous = c;
        }
        let head = Head {
            seq: n,
            chain: previous,
            signature: key.sign(&head_input(n, &previous)).unwrap(),
        };
        (entries, head)
    }

    #[test]
    fn every_kind_of_tampering_is_detected() {
        let key = SoftwareKey::generate().unwrap();
        let (entries, head) = log(&key, 5);
        verify(&entries, &head, key.public_key()).unwrap();
        // Edited.
        let mut edited = entries.clone();
        edited[2].details = "{\"n\":99}".into();
        assert_eq!(
            verify(&edited, &head, key.public_key()),
            Err(JournalError::Edited(3))
        );
        // Dropped.
        let mut dropped = entries.clone();
        dropped.remove(1);
        assert_eq!(
            verify(&dropped, &head, key.public_key()),
            Err(JournalError::Sequence(2))
        );
        // Reordered.
        let mut reordered = entries.clone();
        reordered.swap(1, 2);
        assert_eq!(
            verify(&reordered, &head, key.public_key()),
            Err(JournalError::Sequence(2))
        );
        // Truncated: the last entries gone, the head still naming them.
        assert!(matches!(
            verify(&entries[..3], &head, key.public_key()),
            Err(JournalError::Head(_))
        ));
        // A head re-signed by another key.
        let other = SoftwareKey::generate().unwrap();
        assert!(matches!(
            verify(&entries, &head, other.public_key()),
            Err(JournalError::Head(_))
        ));
        // Exported, it verifies; edited in the export, it does not.
        let export: String = entries
            .iter()
            .map(export_line)
            .chain(std::iter::once(
                export_head(&head, key.public_key()).unwrap(),
            ))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            verify_export(&export, Some(key.public_key()))
                .unwrap()
                .len(),
            5
        );
        assert!(verify_export(&export.replace("{\\\"n\\\":2}", "{\\\"n\\\":7}"), None).is_err());
        assert!(verify_export(&export, Some(other.public_key())).is_err());
        assert!(verify_export("not json", None).is_err());
        let without_head: String = export.lines().take(5).collect::<Vec<_>>().join("\n");
        assert!(verify_export(&without_head, None).is_err());
    }

    #[test]
    fn kinds_round_trip() {
        for code in 1..=12 {
            let kind = JournalKind::from_code(code).unwrap();
            assert_eq!(kind.code(), code);
            assert_eq!(JournalKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(JournalKind::from_code(13), None);
        assert_eq!(JournalKind::from_code(0), None);
    }
}
