//! The citizen's record through the API: every action that matters is appended, in the same
//! transaction, to a hash-chained log whose head a wallet key in the `SecureArea` signs; the
//! host lists it, checks it, and exports it with the means to check the export elsewhere.

use serde_json::Value;

use super::host::CheckedSecureArea;
use super::{Wallet, WalletError};
use crate::journal::{self, JournalError, JournalKind};
use crate::store::journal::{JournalQuery, JournalWrite};

const META_JOURNAL_KEY: &str = crate::store::journal::META_KEY;

/// The whole log as read at one moment: its entries and its signed head.
type Snapshot = (Vec<journal::Entry>, Option<journal::Head>);

impl From<JournalError> for WalletError {
    fn from(e: JournalError) -> Self {
        WalletError::JournalTampered {
            reason: e.to_string(),
        }
    }
}

/// One entry of the citizen's record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct JournalEntry {
    /// Its position, from 1.
    pub seq: u64,
    /// When, Unix seconds.
    pub at: i64,
    /// What.
    pub kind: JournalKind,
    /// The details (JSON): the credential, the relying party, the items, and so on.
    pub details_json: String,
}

/// Which entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct JournalFilter {
    /// Only these kinds (empty: all).
    #[uniffi(default = [])]
    pub kinds: Vec<JournalKind>,
    /// Not before (Unix seconds).
    #[uniffi(default = None)]
    pub from: Option<i64>,
    /// Not after.
    #[uniffi(default = None)]
    pub until: Option<i64>,
    /// Only entries about this relying party (its client id or certificate subject contains
    /// this text).
    #[uniffi(default = None)]
    pub relying_party: Option<String>,
}

/// A page of the record, newest first.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct JournalPage {
    /// The entries.
    pub entries: Vec<JournalEntry>,
    /// How many match in all.
    pub total: u64,
    /// Where the next page starts, if there is one.
    pub next_offset: Option<u32>,
}

/// What checking the record found.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct JournalCheck {
    /// Entries checked.
    pub entries: u64,
    /// The public key that signs the head (SEC1), to compare an export against.
    pub public_key: Vec<u8>,
}

fn entry_record(e: journal::Entry) -> JournalEntry {
    JournalEntry {
        seq: e.seq,
        at: e.at,
        kind: e.kind,
        details_json: e.details,
    }
}

impl Wallet {
    /// The journal key: created in the secure area on first use, and remembered for wiping.
    fn journal_key(&self) -> Result<(String, Vec<u8>), WalletError> {
        let area = CheckedSecureArea(&*self.secure_area);
        if let Some(alias) = self.store.get_meta(META_JOURNAL_KEY)? {
            let alias = String::from_utf8(alias).map_err(|_| WalletError::StoreCorrupt {
                reason: "journal key alias".into(),
            })?;
            let public = area.public_key(&alias)?;
            return Ok((alias, public));
        }
        let alias = format!("journal-{}", crate::crypto::random::identifier()?);
        let public = area.create_key(&alias)?;
        self.remember_host_key(&alias)?;
        self.store.put_meta(META_JOURNAL_KEY, alias.as_bytes())?;
        Ok((alias, public))
    }

    /// Runs `f` with a record of `kind` with `details`, to write in `f`'s transaction. The
    /// entry is chained and signed first, with no store lock held (the signing key may prompt
    /// the citizen, or live in the store); recording is one at a time in this wallet.
    pub(super) fn recorded<T>(
        &self,
        kind: JournalKind,
        details: Value,
        f: impl FnOnce(&JournalWrite) -> Result<T, WalletError>,
    ) -> Result<T, WalletError> {
        let _one_at_a_time = self
            .journal_lock
            .lock()
            .map_err(|_| WalletError::Internal {
                reason: "journal lock poisoned".into(),
            })?;
        let (alias, public) = self.journal_key()?;
        let area = CheckedSecureArea(&*self.secure_area);
        let write = JournalWrite::prepare(
            self.store.journal_end()?,
            self.now()?,
            kind,
            details.to_string(),
            |message| {
                area.sign(&alias, &public, message)
                    .map_err(|e| e.to_string())
            },
        )?;
        f(&write)
    }

    /// Appends a record on its own (what writes nothing else).
    pub(super) fn record(&self, kind: JournalKind, details: Value) -> Result<(), WalletError> {
        self.recorded(kind, details, |write| {
            Ok(self.store.append_journal(write).map(|_| ())?)
        })
    }
}

#[uniffi::export]
impl Wallet {
    /// The record, newest first, `limit` (1 to 500) at a time.
    pub fn list_journal(
        &self,
        filter: JournalFilter,
        offset: u32,
        limit: u32,
    ) -> Result<JournalPage, WalletError> {
        self.require_unlocked()?;
        if limit == 0 || limit > super::MAX_PAGE_SIZE {
            return Err(WalletError::invalid(format!(
                "limit must be between 1 and {}",
                super::MAX_PAGE_SIZE
            )));
        }
        let query = JournalQuery {
            kinds: filter.kinds,
            from: filter.from,
            until: filter.until,
        };
        let (entries, total) = match &filter.relying_party {
            None => {
                let (entries, total) = self.store.journal_page(&query, offset, limit)?;
                (
                    entries.into_iter().map(entry_record).collect::<Vec<_>>(),
                    total,
                )
            }
            Some(who) => {
                // The relying party is in the sealed details: filtered after opening them.
                let (all, _) = self.store.journal_page(&query, 0, u32::MAX)?;
                let matching: Vec<JournalEntry> = all
                    .into_iter()
                    .filter(|e| {
                        serde_json::from_str::<Value>(&e.details)
                            .ok()
                            .and_then(|d| d.get("relying_party").cloned())
                            .is_some_and(|rp| rp.to_string().contains(who.as_str()))
                    })
                    .map(entry_record)
                    .collect();
                let total = matching.len() as u64;
                (
                    matching
                        .into_iter()
                        .skip(offset as usize)
                        .take(limit as usize)
                        .collect(),
                    total,
                )
            }
        };
        let end = u64::from(offset) + entries.len() as u64;
        Ok(JournalPage {
            entries,
            total,
            next_offset: (end < total).then(|| u32::try_from(end).ok()).flatten(),
        })
    }

    /// Checks the whole record: every entry in its place, unchanged, and the signed head
    /// naming the last one (`JournalTampered` otherwise; the listener hears of it too).
    pub fn verify_journal(&self) -> Result<JournalCheck, WalletError> {
        self.checked_snapshot().map(|(check, _)| check)
    }

    /// The whole record as JSON lines, oldest first, the signed head and its key last; check
    /// it with `verify_journal_export`.
    pub fn export_journal(&self) -> Result<String, WalletError> {
        // What is exported is what was checked: one snapshot for both.
        let (check, (entries, head)) = self.checked_snapshot()?;
        let mut lines: Vec<String> = entries.iter().map(journal::export_line).collect();
        if let Some(head) = head {
            lines.push(journal::export_head(&head, &check.public_key)?);
        }
        Ok(lines.join("\n"))
    }
}

/// Checks an exported record: every entry in its place and unchanged, and the head signed —
/// by `expected_public_key` when given (from `JournalCheck.public_key`), else by the key the
/// export names. Returns the number of entries.
#[uniffi::export]
pub fn verify_journal_export(
    export: String,
    expected_public_key: Option<Vec<u8>>,
) -> Result<u64, WalletError> {
    Ok(journal::verify_export(&export, expected_public_key.as_deref())?.len() as u64)
}

impl Wallet {
    /// Checks entries and head read together, telling the listener when they do not hold.
    fn checked_snapshot(&self) -> Result<(JournalCheck, Snapshot), WalletError> {
        self.require_unlocked()?;
        let (_, public_key) = self.journal_key()?;
        let result = (|| -> Result<(u64, Snapshot), WalletError> {
            let (entries, head) = self.store.journal_snapshot()?;
            let count = match &head {
                None if entries.is_empty() => 0,
                None => {
                    return Err(WalletError::JournalTampered {
                        reason: "entries without a signed head".into(),
                    })
                }
                Some(head) => {
                    journal::verify(&entries, head, &public_key)?;
                    entries.len() as u64
                }
            };
            Ok((count, (entries, head)))
        })();
        match result {
            Ok((entries, snapshot)) => Ok((
                JournalCheck {
                    entries,
                    public_key,
                },
                snapshot,
            )),
            Err(e) => {
                let reason = match &e {
                    WalletError::StoreCorrupt { reason } => {
                        format!("an entry does not open: {reason}")
                    }
                    other => other.to_string(),
                };
                if let Some(listener) = &self.listener {
                    let _ =
                        listener.on_event(super::status::WalletEvent::JournalIntegrityFailure {
                            reason: reason.clone(),
                        });
                }
                Err(WalletError::JournalTampered { reason })
            }
        }
    }
}
