//! The citizen's record in the store: one sealed row per entry (its details sealed, its chain
//! value and kind in the clear for filtering and checking), and the signed head in a sealed
//! meta record. An entry is written in the same transaction as what it records, with its new
//! head, so a crash leaves both or neither.
//!
//! The head is signed before the transaction opens (a host key may prompt the citizen, and the
//! software key lives in this store): the caller reads where the log ends with
//! [`Store::journal_end`], signs the next entry, and the transaction refuses it if the log
//! moved meanwhile ([`StoreError::Conflict`]), so no entry can be written on a stale head.

use rusqlite::{Connection, OptionalExtension};

use super::{Keys, Store, StoreError};
use crate::journal::{self, Entry, Head, JournalKind};

const TABLE: &str = "journal";
const META_HEAD: &str = "journal_head";
/// Where the API keeps the alias of the key that signs the head.
pub const META_KEY: &str = "journal_key";
/// The meta records of the record: erased with it.
pub const META_KEYS: &[&str] = &[META_HEAD, META_KEY];

/// An entry to append, already chained and with its head signed.
pub struct JournalWrite {
    /// Its position: one after the end it was prepared on.
    pub seq: u64,
    /// The chain value it follows (the previous entry's, or the genesis value).
    pub previous: [u8; 32],
    /// When, Unix seconds.
    pub at: i64,
    /// What.
    pub kind: JournalKind,
    /// Its details (JSON text).
    pub details: String,
    /// Its chain value.
    pub chain: [u8; 32],
    /// The journal key's signature over the new head (ES256, `r || s`).
    pub signature: Vec<u8>,
}

impl JournalWrite {
    /// Chains an entry after `end` (from [`Store::journal_end`]) and signs the new head with
    /// `sign`.
    pub fn prepare(
        end: (u64, [u8; 32]),
        at: i64,
        kind: JournalKind,
        details: String,
        sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>,
    ) -> Result<JournalWrite, StoreError> {
        let (last, previous) = end;
        let seq = last
            .checked_add(1)
            .ok_or_else(|| StoreError::Encoding("journal position".into()))?;
        let chain = journal::chain(&previous, seq, at, kind, &details);
        let signature = sign(&journal::head_input(seq, &chain)).map_err(StoreError::Signing)?;
        Ok(JournalWrite {
            seq,
            previous,
            at,
            kind,
            details,
            chain,
            signature,
        })
    }
}

impl std::fmt::Debug for JournalWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalWrite")
            .field("seq", &self.seq)
            .field("at", &self.at)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

fn head_in(conn: &Connection, keys: &Keys) -> Result<Option<Head>, StoreError> {
    let sealed: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [META_HEAD], |r| {
            r.get(0)
        })
        .optional()?;
    match sealed {
        None => Ok(None),
        Some(sealed) => {
            let bytes = keys.open("meta", META_HEAD, "value", &sealed)?;
            ciborium::from_reader(bytes.as_slice())
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("journal head: {e}")))
        }
    }
}

fn end_of(head: Option<&Head>) -> (u64, [u8; 32]) {
    match head {
        Some(head) => (head.seq, head.chain),
        None => (0, journal::GENESIS),
    }
}

/// Appends `write` inside the caller's transaction, if the log still ends where it was
/// prepared: the sealed row and the new head.
pub(super) fn append_in(
    conn: &Connection,
    keys: &Keys,
    write: &JournalWrite,
) -> Result<u64, StoreError> {
    let (last, previous) = end_of(head_in(conn, keys)?.as_ref());
    if last.checked_add(1) != Some(write.seq) || previous != write.previous {
        return Err(StoreError::Conflict(
            "the record moved while an entry was being signed".into(),
        ));
    }
    let row = write.seq.to_string();
    let seq_db =
        i64::try_from(write.seq).map_err(|_| StoreError::Encoding("journal position".into()))?;
    conn.execute(
        "INSERT INTO journal (seq, at, kind, details, chain) VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![
            seq_db,
            write.at,
            write.kind.code(),
            keys.seal(TABLE, &row, "details", write.details.as_bytes())?,
            write.chain.to_vec(),
        ],
    )?;
    let head = Head {
        seq: write.seq,
        chain: write.chain,
        signature: write.signature.clone(),
    };
    let mut encoded = Vec::new();
    ciborium::into_writer(&head, &mut encoded).map_err(|e| StoreError::Encoding(e.to_string()))?;
    let sealed = keys.seal("meta", META_HEAD, "value", &encoded)?;
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        rusqlite::params![META_HEAD, sealed],
    )?;
    Ok(write.seq)
}

/// Which entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalQuery {
    /// Only these kinds (empty: all).
    pub kinds: Vec<JournalKind>,
    /// Not before (Unix seconds).
    pub from: Option<i64>,
    /// Not after.
    pub until: Option<i64>,
}

fn read_entry(
    keys: &Keys,
    seq: i64,
    at: i64,
    kind: i64,
    details: &[u8],
    chain: &[u8],
) -> Result<Entry, StoreError> {
    let seq = u64::try_from(seq).map_err(|_| StoreError::Corrupt("journal position".into()))?;
    let details = keys.open(TABLE, &seq.to_string(), "details", details)?;
    Ok(Entry {
        seq,
        at,
        kind: JournalKind::from_code(kind)
            .ok_or_else(|| StoreError::Corrupt(format!("journal kind {kind}")))?,
        details: String::from_utf8(details)
            .map_err(|_| StoreError::Corrupt("journal details".into()))?,
        chain: <[u8; 32]>::try_from(chain)
            .map_err(|_| StoreError::Corrupt("journal chain".into()))?,
    })
}

impl Store {
    /// Appends an entry on its own (for what writes nothing else: a presentation, a lockout).
    pub fn append_journal(&self, write: &JournalWrite) -> Result<u64, StoreError> {
        self.with(|conn, keys| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let seq = append_in(&tx, keys, write)?;
            tx.commit()?;
            Ok(seq)
        })
    }

    /// Where the log ends: the last position (0 when empty) and its chain value.
    pub fn journal_end(&self) -> Result<(u64, [u8; 32]), StoreError> {
        self.with(|conn, keys| Ok(end_of(head_in(conn, keys)?.as_ref())))
    }

    /// Entries matching `query`, newest first, `limit` at a time after `offset`, with the
    /// number matching in all.
    pub fn journal_page(
        &self,
        query: &JournalQuery,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<Entry>, u64), StoreError> {
        self.with(|conn, keys| {
            let mut clauses = Vec::new();
            let mut params: Vec<rusqlite::types::Value> = Vec::new();
            if !query.kinds.is_empty() {
                clauses.push(format!(
                    "kind IN ({})",
                    vec!["?"; query.kinds.len()].join(", ")
                ));
                params.extend(query.kinds.iter().map(|k| rusqlite::types::Value::Integer(k.code())));
            }
            if let Some(from) = query.from {
                clauses.push("at >= ?".into());
                params.push(rusqlite::types::Value::Integer(from));
            }
            if let Some(until) = query.until {
                clauses.push("at <= ?".into());
                params.push(rusqlite::types::Value::Integer(until));
            }
            let clause = if clauses.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", clauses.join(" AND "))
            };
            let total: i64 = conn.query_row(
                &format!("SELECT count(*) FROM journal{clause}"),
                rusqlite::params_from_iter(params.iter()),
                |r| r.get(0),
            )?;
            params.push(rusqlite::types::Value::Integer(i64::from(limit)));
            params.push(rusqlite::types::Value::Integer(i64::from(offset)));
            let out = entries_in(
                conn,
                keys,
                &format!("SELECT seq, at, kind, details, chain FROM journal{clause} ORDER BY seq DESC LIMIT ? OFFSET ?"),
                &params,
            )?;
            Ok((out, u64::try_from(total).unwrap_or(0)))
        })
    }

    /// Every entry, oldest first, and the signed head, read together: no write lands between
    /// the two (checking them read apart would report a log that grew as one tampered with).
    pub fn journal_snapshot(&self) -> Result<(Vec<Entry>, Option<Head>), StoreError> {
        self.with(|conn, keys| Ok((all_in(conn, keys)?, head_in(conn, keys)?)))
    }
}

/// Every entry, oldest first.
fn all_in(conn: &Connection, keys: &Keys) -> Result<Vec<Entry>, StoreError> {
    entries_in(
        conn,
        keys,
        "SELECT seq, at, kind, details, chain FROM journal ORDER BY seq",
        &[],
    )
}

/// The entries a `SELECT seq, at, kind, details, chain …` statement returns, opened.
fn entries_in(
    conn: &Connection,
    keys: &Keys,
    sql: &str,
    params: &[rusqlite::types::Value],
) -> Result<Vec<Entry>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, Vec<u8>>(3)?,
            r.get::<_, Vec<u8>>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, at, kind, details, chain) = row?;
        out.push(read_entry(keys, seq, at, kind, &details, &chain)?);
    }
    Ok(out)
}
