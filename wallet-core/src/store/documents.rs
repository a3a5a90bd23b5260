//! Documents from senders (bills, notifications), each sealed as a whole; only the kind, id,
//! a small state code and the time of receipt are in the clear, for paging and dedup. A
//! document listed in pages (notifications) also has a placement: the time it is ordered by
//! and a keyed blind index of its tag (the category), so that a page is read in SQL and only
//! its own rows are opened.

use rusqlite::OptionalExtension;

use super::journal::{append_in, JournalWrite};
use super::{Store, StoreError};

const TABLE: &str = "documents";

/// The kinds of document, one number each (stored; never reuse one).
pub mod kind {
    /// A bill.
    pub const BILL: i64 = 1;
    /// A notification.
    pub const NOTIFICATION: i64 = 2;
    /// A MyData consent.
    pub const CONSENT: i64 = 3;
    /// A deferred credential issuance waiting to be polled.
    pub const PENDING_ISSUANCE: i64 = 4;
    /// A remembered disclosure grant.
    pub const GRANT: i64 = 5;
}

/// A stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    /// Its id.
    pub id: String,
    /// A state code the caller defines.
    pub state: i64,
    /// When it was received, Unix seconds.
    pub received_at: i64,
    /// The opened body.
    pub body: Vec<u8>,
}

fn row_key(kind: i64, id: &str) -> String {
    format!("{kind}:{id}")
}

/// Where a document sits in its listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement<'a> {
    /// The time it is ordered by, newest first (then by id).
    pub sort_at: i64,
    /// The tag it is filtered by; stored only as a keyed blind index.
    pub tag: &'a str,
}

/// Which placed documents a page holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocumentQuery<'a> {
    /// Only this tag.
    pub tag: Option<&'a str>,
    /// Not these state codes.
    pub exclude_states: &'a [i64],
}

/// The marker a migration leaves when stored documents still need their placement (its
/// presence is the signal: it is written unsealed, before the data key is at hand).
pub const META_PLACEMENT_PENDING: &str = "document_order_pending";

/// The placement row of a document: its tag index and state.
fn placed_in(
    tx: &rusqlite::Transaction<'_>,
    kind: i64,
    id: &str,
) -> Result<Option<(Vec<u8>, i64)>, StoreError> {
    Ok(tx
        .query_row(
            "SELECT tag_idx, state FROM document_order WHERE kind = ?1 AND id = ?2",
            rusqlite::params![kind, id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Adds `delta` to the count of documents of `kind` under a tag and state.
fn count_in(
    tx: &rusqlite::Transaction<'_>,
    kind: i64,
    tag_idx: &[u8],
    state: i64,
    delta: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO document_counts (kind, tag_idx, state, n) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (kind, tag_idx, state) DO UPDATE SET n = n + excluded.n",
        rusqlite::params![kind, tag_idx, state, delta],
    )?;
    Ok(())
}

fn place_in(
    tx: &rusqlite::Transaction<'_>,
    keys: &super::envelope::Keys,
    kind: i64,
    id: &str,
    placement: &Placement<'_>,
    state: i64,
) -> Result<(), StoreError> {
    if let Some((tag_idx, old_state)) = placed_in(tx, kind, id)? {
        count_in(tx, kind, &tag_idx, old_state, -1)?;
    }
    let tag_idx = keys.blind_index("document_tag", placement.tag);
    tx.execute(
        "INSERT INTO document_order (kind, id, sort_at, tag_idx, state) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (kind, id) DO UPDATE SET sort_at = excluded.sort_at, tag_idx = excluded.tag_idx, state = excluded.state",
        rusqlite::params![kind, id, placement.sort_at, tag_idx, state],
    )?;
    count_in(tx, kind, &tag_idx, state, 1)
}

/// The WHERE clause of `query` over a table with `kind`, `tag_idx` and `state` columns (named
/// with `prefix`, e.g. `o.`): placements and counts are filtered alike.
fn query_clause(
    keys: &super::envelope::Keys,
    kind: i64,
    query: &DocumentQuery<'_>,
    prefix: &str,
) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut clause = format!(" WHERE {prefix}kind = ?");
    let mut params = vec![Value::Integer(kind)];
    if let Some(tag) = query.tag {
        clause.push_str(&format!(" AND {prefix}tag_idx = ?"));
        params.push(Value::Blob(keys.blind_index("document_tag", tag)));
    }
    for state in query.exclude_states {
        clause.push_str(&format!(" AND {prefix}state != ?"));
        params.push(Value::Integer(*state));
    }
    (clause, params)
}

fn read_rows(
    keys: &super::envelope::Keys,
    kind: i64,
    stmt: &mut rusqlite::Statement<'_>,
    params: &[rusqlite::types::Value],
) -> Result<Vec<StoredDocument>, StoreError> {
    let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get::<_, Vec<u8>>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, state, received_at, sealed) = row?;
        let body = keys.open(TABLE, &row_key(kind, &id), "body", &sealed)?;
        out.push(StoredDocument {
            id,
            state,
            received_at,
            body,
        });
    }
    Ok(out)
}

impl Store {
    /// Inserts or replaces a document.
    pub fn put_document(&self, kind: i64, doc: &StoredDocument) -> Result<(), StoreError> {
        self.put_document_recorded(kind, doc, None)
    }

    /// Inserts or replaces a document, recording `journal` in the same transaction.
    pub fn put_document_recorded(
        &self,
        kind: i64,
        doc: &StoredDocument,
        journal: Option<&JournalWrite>,
    ) -> Result<(), StoreError> {
        self.put_document_placed(kind, doc, None, journal)
    }

    /// Inserts or replaces a document with its placement in listings, recording `journal`, in
    /// one transaction.
    pub fn put_document_placed(
        &self,
        kind: i64,
        doc: &StoredDocument,
        placement: Option<&Placement<'_>>,
        journal: Option<&JournalWrite>,
    ) -> Result<(), StoreError> {
        self.with(|conn, keys| {
            let tx = conn.transaction()?;
            let sealed = keys.seal(TABLE, &row_key(kind, &doc.id), "body", &doc.body)?;
            tx.execute(
                "INSERT INTO documents (kind, id, state, received_at, body) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (kind, id) DO UPDATE SET state = excluded.state, received_at = excluded.received_at, body = excluded.body",
                rusqlite::params![kind, doc.id, doc.state, doc.received_at, sealed],
            )?;
            if let Some(placement) = placement {
                place_in(&tx, keys, kind, &doc.id, placement, doc.state)?;
            }
            if let Some(write) = journal {
                append_in(&tx, keys, write)?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// One document.
    pub fn get_document(&self, kind: i64, id: &str) -> Result<Option<StoredDocument>, StoreError> {
        self.with(|conn, keys| {
            let row: Option<(i64, i64, Vec<u8>)> = conn
                .query_row(
                    "SELECT state, received_at, body FROM documents WHERE kind = ?1 AND id = ?2",
                    rusqlite::params![kind, id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            row.map(|(state, received_at, sealed)| {
                Ok(StoredDocument {
                    id: id.to_owned(),
                    state,
                    received_at,
                    body: keys.open(TABLE, &row_key(kind, id), "body", &sealed)?,
                })
            })
            .transpose()
        })
    }

    /// Every document of a kind, newest first.
    pub fn list_documents(&self, kind: i64) -> Result<Vec<StoredDocument>, StoreError> {
        self.with(|conn, keys| {
            let mut stmt = conn.prepare(
                "SELECT id, state, received_at, body FROM documents WHERE kind = ?1 ORDER BY received_at DESC, id",
            )?;
            read_rows(keys, kind, &mut stmt, &[rusqlite::types::Value::Integer(kind)])
        })
    }

    /// Sets a document's state code; false when there is no such document.
    pub fn set_document_state(&self, kind: i64, id: &str, state: i64) -> Result<bool, StoreError> {
        self.with(|conn, _| {
            let tx = conn.transaction()?;
            let updated = tx.execute(
                "UPDATE documents SET state = ?1 WHERE kind = ?2 AND id = ?3",
                rusqlite::params![state, kind, id],
            )? == 1;
            if let Some((tag_idx, old_state)) = placed_in(&tx, kind, id)? {
                count_in(&tx, kind, &tag_idx, old_state, -1)?;
                count_in(&tx, kind, &tag_idx, state, 1)?;
                tx.execute(
                    "UPDATE document_order SET state = ?1 WHERE kind = ?2 AND id = ?3",
                    rusqlite::params![state, kind, id],
                )?;
            }
            tx.commit()?;
            Ok(updated)
        })
    }

    /// Deletes a document; false when there was none.
    pub fn delete_document(&self, kind: i64, id: &str) -> Result<bool, StoreError> {
        self.delete_document_recorded(kind, id, None)
    }

    /// Deletes a document, recording `journal` in the same transaction if there was one;
    /// false (and nothing recorded) when there was none.
    pub fn delete_document_recorded(
        &self,
        kind: i64,
        id: &str,
        journal: Option<&JournalWrite>,
    ) -> Result<bool, StoreError> {
        self.with(|conn, keys| {
            let tx = conn.transaction()?;
            let deleted = tx.execute(
                "DELETE FROM documents WHERE kind = ?1 AND id = ?2",
                rusqlite::params![kind, id],
            )? == 1;
            if let Some((tag_idx, state)) = placed_in(&tx, kind, id)? {
                count_in(&tx, kind, &tag_idx, state, -1)?;
                tx.execute(
                    "DELETE FROM document_order WHERE kind = ?1 AND id = ?2",
                    rusqlite::params![kind, id],
                )?;
            }
            if deleted {
                if let Some(write) = journal {
                    append_in(&tx, keys, write)?;
                }
            }
            tx.commit()?;
            Ok(deleted)
        })
    }

    /// A page of placed documents matching `query`, newest first, and how many match in all;
    /// only the page's rows are opened.
    pub fn page_documents(
        &self,
        kind: i64,
        query: &DocumentQuery<'_>,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<StoredDocument>, u64), StoreError> {
        self.with(|conn, keys| {
            // The total comes from the counts kept per tag and state, not from a scan.
            let (count_clause, count_params) = query_clause(keys, kind, query, "");
            let total: i64 = conn.query_row(
                &format!("SELECT coalesce(sum(n), 0) FROM document_counts{count_clause}"),
                rusqlite::params_from_iter(count_params.iter()),
                |r| r.get(0),
            )?;
            let (clause, mut params) = query_clause(keys, kind, query, "o.");
            let join = "FROM document_order o JOIN documents d ON d.kind = o.kind AND d.id = o.id";
            params.push(rusqlite::types::Value::Integer(i64::from(limit)));
            params.push(rusqlite::types::Value::Integer(i64::from(offset)));
            let mut stmt = conn.prepare(&format!(
                "SELECT d.id, d.state, d.received_at, d.body {join}{clause}
                 ORDER BY o.sort_at DESC, o.id ASC LIMIT ? OFFSET ?"
            ))?;
            let out = read_rows(keys, kind, &mut stmt, &params)?;
            Ok((out, u64::try_from(total).unwrap_or(0)))
        })
    }

    /// Every placed document matching `query`, newest first (for a text search, which must
    /// open them).
    pub fn placed_documents(
        &self,
        kind: i64,
        query: &DocumentQuery<'_>,
    ) -> Result<Vec<StoredDocument>, StoreError> {
        self.with(|conn, keys| {
            let (clause, params) = query_clause(keys, kind, query, "o.");
            let mut stmt = conn.prepare(&format!(
                "SELECT d.id, d.state, d.received_at, d.body
                 FROM document_order o JOIN documents d ON d.kind = o.kind AND d.id = o.id{clause}
                 ORDER BY o.sort_at DESC, o.id ASC"
            ))?;
            read_rows(keys, kind, &mut stmt, &params)
        })
    }

    /// Documents of a kind that have no placement yet (stored before placements existed).
    pub fn unplaced_documents(&self, kind: i64) -> Result<Vec<StoredDocument>, StoreError> {
        self.with(|conn, keys| {
            let mut stmt = conn.prepare(
                "SELECT d.id, d.state, d.received_at, d.body FROM documents d
                 WHERE d.kind = ? AND NOT EXISTS
                   (SELECT 1 FROM document_order o WHERE o.kind = d.kind AND o.id = d.id)",
            )?;
            read_rows(
                keys,
                kind,
                &mut stmt,
                &[rusqlite::types::Value::Integer(kind)],
            )
        })
    }

    /// Places documents stored before placements existed, in one transaction.
    pub fn place_documents(
        &self,
        kind: i64,
        placements: &[(String, Placement<'_>, i64)],
    ) -> Result<(), StoreError> {
        self.with(|conn, keys| {
            let tx = conn.transaction()?;
            for (id, placement, state) in placements {
                place_in(&tx, keys, kind, id, placement, *state)?;
            }
            tx.commit()?;
            Ok(())
        })
    }
}
