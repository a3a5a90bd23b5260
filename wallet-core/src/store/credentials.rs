//! Credential rows: every format's raw bytes, kept exactly as received, with their metadata.
//!
//! Only the id, format, state and time of adding are stored in the clear (they drive paging
//! and filtering and reveal nothing about the citizen). The metadata (type, issuer, display
//! names, validity, key alias) and the raw credential are sealed; filters on type and issuer
//! use blind indexes.

use rusqlite::{params_from_iter, types::Value, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::journal::{append_in, JournalWrite};
use super::{Keys, Store, StoreError};

const TABLE: &str = "credentials";
const COPIES: &str = "credential_copies";

/// How a credential is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum CredentialFormat {
    /// ISO/IEC 18013-5 mdoc (CBOR `IssuerSigned`), e.g. a mobile driver's licence.
    MsoMdoc,
    /// SD-JWT VC (`dc+sd-jwt`), e.g. an electronic certificate.
    SdJwtVc,
}

impl CredentialFormat {
    fn code(self) -> i64 {
        match self {
            CredentialFormat::MsoMdoc => 1,
            CredentialFormat::SdJwtVc => 2,
        }
    }

    fn from_code(code: i64) -> Result<Self, StoreError> {
        match code {
            1 => Ok(CredentialFormat::MsoMdoc),
            2 => Ok(CredentialFormat::SdJwtVc),
            other => Err(StoreError::Corrupt(format!(
                "unknown credential format {other}"
            ))),
        }
    }
}

/// The lifecycle state of a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum CredentialState {
    /// Usable.
    Valid,
    /// Temporarily not usable (the issuer suspended it).
    Suspended,
    /// Permanently withdrawn by the issuer.
    Revoked,
    /// Past its validity window.
    Expired,
}

impl CredentialState {
    fn code(self) -> i64 {
        match self {
            CredentialState::Valid => 0,
            CredentialState::Suspended => 1,
            CredentialState::Revoked => 2,
            CredentialState::Expired => 3,
        }
    }

    fn from_code(code: i64) -> Result<Self, StoreError> {
        match code {
            0 => Ok(CredentialState::Valid),
            1 => Ok(CredentialState::Suspended),
            2 => Ok(CredentialState::Revoked),
            3 => Ok(CredentialState::Expired),
            other => Err(StoreError::Corrupt(format!(
                "unknown credential state {other}"
            ))),
        }
    }
}

/// The descriptive part of a credential, sealed in the `metadata` column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialMetadata {
    /// mdoc docType, or SD-JWT VC `vct`.
    pub doc_type: String,
    /// Who issued it (an issuer identifier or certificate subject).
    pub issuer: String,
    /// Display name in Korean.
    pub display_name_ko: String,
    /// Display name in English.
    pub display_name_en: String,
    /// Start of validity, Unix seconds.
    pub valid_from: Option<i64>,
    /// End of validity, Unix seconds.
    pub valid_until: Option<i64>,
    /// Alias of the device key in the secure area that the credential is bound to.
    pub key_alias: Option<String>,
}

/// How many copies a batch-issued credential has, and how many are unused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copies {
    /// Copies issued.
    pub total: u32,
    /// Copies not yet presented.
    pub unused: u32,
}

/// One copy of a batch-issued credential: its own bytes, bound to its own key.
#[derive(Clone, PartialEq, Eq)]
pub struct CredentialCopy {
    /// The device key it is bound to.
    pub key_alias: String,
    /// The credential exactly as issued.
    pub raw: Vec<u8>,
}

impl std::fmt::Debug for CredentialCopy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialCopy")
            .field("key_alias", &self.key_alias)
            .finish_non_exhaustive()
    }
}

/// What a presentation may use of a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresentationCopy {
    /// A single-issued credential: its own bytes and key, as often as needed.
    Single,
    /// A copy not presented before, now marked used.
    Copy(CredentialCopy),
    /// Every copy has been presented: a new batch is needed.
    Exhausted,
}

/// A stored credential, metadata and raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential {
    /// Wallet-assigned identifier.
    pub id: String,
    /// Encoding.
    pub format: CredentialFormat,
    /// Lifecycle state.
    pub state: CredentialState,
    /// When it was added, Unix seconds.
    pub added_at: i64,
    /// Sealed metadata.
    pub metadata: CredentialMetadata,
    /// The credential exactly as received; `None` when only metadata was read.
    pub raw: Option<Vec<u8>>,
    /// For a batch-issued credential, its copies' counts (`raw` is then the first copy, for
    /// display).
    pub copies: Option<Copies>,
}

/// Equality filters for listing; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this format.
    pub format: Option<CredentialFormat>,
    /// Only this docType / vct.
    pub doc_type: Option<String>,
    /// Only this issuer.
    pub issuer: Option<String>,
    /// Only this state.
    pub state: Option<CredentialState>,
}

fn encode_metadata(m: &CredentialMetadata) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::new();
    ciborium::into_writer(m, &mut out).map_err(|e| StoreError::Encoding(e.to_string()))?;
    Ok(out)
}

fn decode_metadata(bytes: &[u8]) -> Result<CredentialMetadata, StoreError> {
    ciborium::from_reader(bytes)
        .map_err(|e| StoreError::Corrupt(format!("credential metadata: {e}")))
}

fn where_clause(keys: &Keys, filter: &Filter) -> (String, Vec<Value>) {
    let mut clauses = Vec::new();
    let mut params = Vec::new();
    if let Some(f) = filter.format {
        clauses.push("format = ?");
        params.push(Value::Integer(f.code()));
    }
    if let Some(s) = filter.state {
        clauses.push("state = ?");
        params.push(Value::Integer(s.code()));
    }
    if let Some(d) = &filter.doc_type {
        clauses.push("doc_type_idx = ?");
        params.push(Value::Blob(keys.blind_index("doc_type", d)));
    }
    if let Some(i) = &filter.issuer {
        clauses.push("issuer_idx = ?");
        params.push(Value::Blob(keys.blind_index("issuer", i)));
    }
    if clauses.is_empty() {
        (String::new(), params)
    } else {
        (format!(" WHERE {}", clauses.join(" AND ")), params)
    }
}

impl CredentialState {
    /// The state a Token Status List value leads to. Revocation and expiry are final; any
    /// value other than VALID, INVALID or SUSPENDED (application-specific or reserved) makes
    /// the credential unusable, as suspended.
    pub fn after_status(self, status: u8) -> Self {
        use crate::trust::status_list::{INVALID, VALID};
        match (self, status) {
            (CredentialState::Revoked | CredentialState::Expired, _) => self,
            (_, INVALID) => CredentialState::Revoked,
            (_, VALID) => CredentialState::Valid,
            (_, _) => CredentialState::Suspended,
        }
    }
}

impl CredentialState {
    fn severity(self) -> u8 {
        match self {
            CredentialState::Valid => 0,
            CredentialState::Suspended => 1,
            CredentialState::Expired => 2,
            CredentialState::Revoked => 3,
        }
    }

    /// The state the statuses of all a credential's copies lead to: the most severe of them
    /// (one revoked copy revokes the credential). When some copy's status could not be read
    /// (`complete` false), the state only ever gets worse: an unread copy never reinstates.
    pub fn after_statuses(self, statuses: &[u8], complete: bool) -> Self {
        let Some(worst) = statuses
            .iter()
            .map(|s| self.after_status(*s))
            .max_by_key(|s| s.severity())
        else {
            return self;
        };
        if complete || worst.severity() > self.severity() {
            worst
        } else {
            self
        }
    }
}

/// What a state change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateUpdate {
    /// The state was set.
    Updated,
    /// No such credential.
    NotFound,
    /// The credential is revoked, which is final.
    Final,
}

impl Store {
    /// Inserts a credential; the id must be new.
    pub fn insert_credential(&self, c: &StoredCredential) -> Result<(), StoreError> {
        self.insert_credential_copies(c, &[], None, None)
            .map(|_| ())
    }

    /// Inserts a credential with its batch `copies` (none: a single-issued credential), in
    /// one transaction; and when `replaces` names a credential, deletes it in the same
    /// transaction (a refresh never leaves both, nor neither). Returns the key aliases the
    /// replaced credential held.
    pub fn insert_credential_copies(
        &self,
        c: &StoredCredential,
        copies: &[CredentialCopy],
        replaces: Option<&str>,
        journal: Option<&JournalWrite>,
    ) -> Result<Vec<String>, StoreError> {
        let raw = c
            .raw
            .as_deref()
            .ok_or_else(|| StoreError::Encoding("a credential needs its raw bytes".into()))?;
        self.with(|conn, keys| {
            let tx = conn.transaction()?;
            let replaced = match replaces {
                Some(old) => {
                    let aliases = key_aliases_of(&tx, keys, old)?.ok_or_else(|| {
                        StoreError::Corrupt(format!("credential {old} to replace is gone"))
                    })?;
                    tx.execute(
                        "DELETE FROM credential_copies WHERE credential_id = ?1",
                        [old],
                    )?;
                    tx.execute("DELETE FROM credentials WHERE id = ?1", [old])?;
                    aliases
                }
                None => Vec::new(),
            };
            insert_row(&tx, keys, c, raw)?;
            for (n, copy) in copies.iter().enumerate() {
                let row = format!("{}/{n}", c.id);
                tx.execute(
                    "INSERT INTO credential_copies (credential_id, n, key_alias, raw, used_at)
                     VALUES (?1, ?2, ?3, ?4, NULL)",
                    rusqlite::params![
                        c.id,
                        n as i64,
                        keys.seal(COPIES, &row, "key_alias", copy.key_alias.as_bytes())?,
                        keys.seal(COPIES, &row, "raw", &copy.raw)?,
                    ],
                )?;
            }
            if let Some(write) = journal {
                append_in(&tx, keys, write)?;
            }
            tx.commit()?;
            Ok(replaced)
        })
    }

    /// The bytes and key a presentation of credential `id` uses: for a batch-issued one, a
    /// copy never presented before, marked used in the same transaction (so no copy is shown
    /// twice, even across a crash); `None` when there is no such credential.
    pub fn take_presentation_copy(
        &self,
        id: &str,
        now: i64,
    ) -> Result<Option<PresentationCopy>, StoreError> {
        self.with(|conn, keys| {
            let tx = conn.transaction()?;
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM credentials WHERE id = ?1)",
                [id],
                |r| r.get(0),
            )?;
            if !exists {
                return Ok(None);
            }
            let total: i64 = tx.query_row(
                "SELECT count(*) FROM credential_copies WHERE credential_id = ?1",
                [id],
                |r| r.get(0),
            )?;
            if total == 0 {
                return Ok(Some(PresentationCopy::Single));
            }
            let next = tx
                .query_row(
                    "SELECT n, key_alias, raw FROM credential_copies
                     WHERE credential_id = ?1 AND used_at IS NULL ORDER BY n LIMIT 1",
                    [id],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, Vec<u8>>(1)?,
                            r.get::<_, Vec<u8>>(2)?,
                        ))
                    },
                )
                .optional()?;
            let Some((n, alias, raw)) = next else {
                return Ok(Some(PresentationCopy::Exhausted));
            };
            let row = format!("{id}/{n}");
            let alias = String::from_utf8(keys.open(COPIES, &row, "key_alias", &alias)?)
                .map_err(|_| StoreError::Corrupt("copy key alias".into()))?;
            let raw = keys.open(COPIES, &row, "raw", &raw)?;
            tx.execute(
                "UPDATE credential_copies SET used_at = ?1 WHERE credential_id = ?2 AND n = ?3",
                rusqlite::params![now, id, n],
            )?;
            tx.commit()?;
            Ok(Some(PresentationCopy::Copy(CredentialCopy {
                key_alias: alias,
                raw,
            })))
        })
    }
}

impl Store {
    /// Every copy of a batch-issued credential, used or not (none for a single-issued one).
    pub fn credential_copies(&self, id: &str) -> Result<Vec<CredentialCopy>, StoreError> {
        self.with(|conn, keys| {
            let mut stmt = conn.prepare(
                "SELECT n, key_alias, raw FROM credential_copies WHERE credential_id = ?1 ORDER BY n",
            )?;
            let rows = stmt.query_map([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (n, alias, raw) = row?;
                let key = format!("{id}/{n}");
                out.push(CredentialCopy {
                    key_alias: String::from_utf8(keys.open(COPIES, &key, "key_alias", &alias)?)
                        .map_err(|_| StoreError::Corrupt("copy key alias".into()))?,
                    raw: keys.open(COPIES, &key, "raw", &raw)?,
                });
            }
            Ok(out)
        })
    }
}

fn copies_of(conn: &Connection, id: &str) -> Result<Option<Copies>, StoreError> {
    let (total, unused): (i64, i64) = conn.query_row(
        "SELECT count(*), count(*) - count(used_at) FROM credential_copies WHERE credential_id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((total > 0).then(|| Copies {
        total: u32::try_from(total).unwrap_or(u32::MAX),
        unused: u32::try_from(unused).unwrap_or(u32::MAX),
    }))
}

/// Every key alias credential `id` holds (its own and its copies'); `None` when it does not
/// exist.
fn key_aliases_of(
    conn: &Connection,
    keys: &Keys,
    id: &str,
) -> Result<Option<Vec<String>>, StoreError> {
    let sealed: Option<Vec<u8>> = conn
        .query_row(
            "SELECT metadata FROM credentials WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(sealed) = sealed else {
        return Ok(None);
    };
    let metadata = decode_metadata(&keys.open(TABLE, id, "metadata", &sealed)?)?;
    let mut aliases: Vec<String> = metadata.key_alias.into_iter().collect();
    let mut stmt =
        conn.prepare("SELECT n, key_alias FROM credential_copies WHERE credential_id = ?1")?;
    let rows = stmt.query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
    for row in rows {
        let (n, sealed) = row?;
        let alias = keys.open(COPIES, &format!("{id}/{n}"), "key_alias", &sealed)?;
        aliases.push(
            String::from_utf8(alias).map_err(|_| StoreError::Corrupt("copy key alias".into()))?,
        );
    }
    aliases.sort();
    aliases.dedup();
    Ok(Some(aliases))
}

fn insert_row(
    conn: &Connection,
    keys: &Keys,
    c: &StoredCredential,
    raw: &[u8],
) -> Result<(), StoreError> {
    let metadata = keys.seal(TABLE, &c.id, "metadata", &encode_metadata(&c.metadata)?)?;
    let raw = keys.seal(TABLE, &c.id, "raw", raw)?;
    conn.execute(
                "INSERT INTO credentials (id, format, state, added_at, doc_type_idx, issuer_idx, metadata, raw)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                rusqlite::params![
                    c.id,
                    c.format.code(),
                    c.state.code(),
                    c.added_at,
                    keys.blind_index("doc_type", &c.metadata.doc_type),
                    keys.blind_index("issuer", &c.metadata.issuer),
                    metadata,
                    raw
                ],
            )?;
    Ok(())
}

impl Store {
    /// Reads one credential with its raw bytes.
    pub fn get_credential(&self, id: &str) -> Result<Option<StoredCredential>, StoreError> {
        self.with(|conn, keys| {
            let row = conn
                .query_row(
                    "SELECT format, state, added_at, metadata, raw FROM credentials WHERE id = ?1",
                    [id],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, Vec<u8>>(3)?,
                            r.get::<_, Vec<u8>>(4)?,
                        ))
                    },
                )
                .optional()?;
            let Some((format, state, added_at, metadata, raw)) = row else {
                return Ok(None);
            };
            Ok(Some(StoredCredential {
                id: id.to_owned(),
                format: CredentialFormat::from_code(format)?,
                state: CredentialState::from_code(state)?,
                added_at,
                metadata: decode_metadata(&keys.open(TABLE, id, "metadata", &metadata)?)?,
                raw: Some(keys.open_owned(TABLE, id, "raw", raw)?),
                copies: copies_of(conn, id)?,
            }))
        })
    }

    /// Lists credentials (metadata only), newest first, and counts all matches.
    pub fn list_credentials(
        &self,
        filter: &Filter,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<StoredCredential>, u64), StoreError> {
        self.with(|conn, keys| {
            let (clause, mut params) = where_clause(keys, filter);
            let total: i64 = conn.query_row(
                &format!("SELECT count(*) FROM credentials{clause}"),
                params_from_iter(params.iter()),
                |r| r.get(0),
            )?;
            params.push(Value::Integer(i64::from(limit)));
            params.push(Value::Integer(i64::from(offset)));
            let mut stmt = conn.prepare(&format!(
                "SELECT id, format, state, added_at, metadata FROM credentials{clause}
                 ORDER BY added_at DESC, id DESC LIMIT ? OFFSET ?"
            ))?;
            let rows = stmt.query_map(params_from_iter(params.iter()), |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, format, state, added_at, metadata) = row?;
                let metadata = decode_metadata(&keys.open(TABLE, &id, "metadata", &metadata)?)?;
                out.push(StoredCredential {
                    format: CredentialFormat::from_code(format)?,
                    state: CredentialState::from_code(state)?,
                    added_at,
                    metadata,
                    raw: None,
                    copies: copies_of(conn, &id)?,
                    id,
                });
            }
            Ok((out, u64::try_from(total).unwrap_or(0)))
        })
    }

    /// Sets a credential's state, recording `journal` with it when the state changes.
    pub fn set_credential_state(
        &self,
        id: &str,
        state: CredentialState,
        journal: Option<&JournalWrite>,
    ) -> Result<StateUpdate, StoreError> {
        self.with(|conn, keys| {
            let tx = conn.transaction()?;
            // Revocation is final: a revoked credential never changes state again.
            let changed = tx.execute(
                "UPDATE credentials SET state = ?1 WHERE id = ?2 AND (state != ?3 OR ?1 = ?3)",
                rusqlite::params![state.code(), id, CredentialState::Revoked.code()],
            )?;
            if changed == 1 {
                if let Some(write) = journal {
                    append_in(&tx, keys, write)?;
                }
                tx.commit()?;
                return Ok(StateUpdate::Updated);
            }
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM credentials WHERE id = ?1)",
                [id],
                |r| r.get(0),
            )?;
            Ok(if exists {
                StateUpdate::Final
            } else {
                StateUpdate::NotFound
            })
        })
    }

    /// Marks every valid credential whose validity ended before `now` as expired; returns
    /// the ids changed.
    pub fn expire_credentials(&self, now: i64) -> Result<Vec<String>, StoreError> {
        let (valid, _) = self.list_credentials(
            &Filter {
                state: Some(CredentialState::Valid),
                ..Filter::default()
            },
            0,
            u32::MAX,
        )?;
        let expired: Vec<String> = valid
            .into_iter()
            .filter(|c| c.metadata.valid_until.is_some_and(|until| until < now))
            .map(|c| c.id)
            .collect();
        self.with(|conn, _| {
            let tx = conn.transaction()?;
            for id in &expired {
                tx.execute(
                    "UPDATE credentials SET state = ?1 WHERE id = ?2",
                    rusqlite::params![CredentialState::Expired.code(), id],
                )?;
            }
            tx.commit()?;
            Ok(())
        })?;
        Ok(expired)
    }

    /// Deletes a credential and its copies; returns its metadata and every key alias it
    /// held, if it existed.
    pub fn delete_credential(
        &self,
        id: &str,
        journal: Option<&JournalWrite>,
    ) -> Result<Option<(CredentialMetadata, Vec<String>)>, StoreError> {
        self.with(|conn, keys| {
            let tx = conn.transaction()?;
            let sealed: Option<Vec<u8>> = tx
                .query_row(
                    "SELECT metadata FROM credentials WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(sealed) = sealed else {
                return Ok(None);
            };
            let metadata = decode_metadata(&keys.open(TABLE, id, "metadata", &sealed)?)?;
            let aliases = key_aliases_of(&tx, keys, id)?.unwrap_or_default();
            tx.execute(
                "DELETE FROM credential_copies WHERE credential_id = ?1",
                [id],
            )?;
            tx.execute("DELETE FROM credentials WHERE id = ?1", [id])?;
            if let Some(write) = journal {
                append_in(&tx, keys, write)?;
            }
            tx.commit()?;
            Ok(Some((metadata, aliases)))
        })
    }

    /// Key aliases of every stored credential and copy (for wiping host-held keys).
    pub fn credential_key_aliases(&self) -> Result<Vec<String>, StoreError> {
        let (all, _) = self.list_credentials(&Filter::default(), 0, u32::MAX)?;
        let mut aliases = Vec::new();
        for c in all {
            let held = self.with(|conn, keys| key_aliases_of(conn, keys, &c.id))?;
            aliases.extend(held.unwrap_or_default());
        }
        Ok(aliases)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::status_list::{INVALID, SUSPENDED, VALID};

    #[test]
    fn the_worst_copy_decides_and_an_unread_copy_never_reinstates() {
        use CredentialState::*;
        assert_eq!(Valid.after_statuses(&[VALID, INVALID], true), Revoked);
        assert_eq!(Valid.after_statuses(&[SUSPENDED, VALID], true), Suspended);
        assert_eq!(Suspended.after_statuses(&[VALID, VALID], true), Valid);
        assert_eq!(Suspended.after_statuses(&[VALID], false), Suspended);
        assert_eq!(Valid.after_statuses(&[INVALID], false), Revoked);
        assert_eq!(Valid.after_statuses(&[], false), Valid);
        assert_eq!(Revoked.after_statuses(&[VALID], true), Revoked);
        assert_eq!(Valid.after_statuses(&[0x0C], true), Suspended);
    }
}
