//! Documents from senders (bills, notifications), each sealed as a whole; only the kind, id,
//! a small state code and the time of receipt are in the clear, for paging and dedup.

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
        self.with(|conn, keys| {
            let tx = conn.transaction()?;
            let sealed = keys.seal(TABLE, &row_key(kind, &doc.id), "body", &doc.body)?;
            tx.execute(
                "INSERT INTO documents (kind, id, state, received_at, body) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (kind, id) DO UPDATE SET state = excluded.state, received_at = excluded.received_at, body = excluded.body",
                rusqlite::params![kind, doc.id, doc.state, doc.received_at, sealed],
            )?;
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
            let rows = stmt.query_map([kind], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get::<_, Vec<u8>>(3)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (id, state, received_at, sealed) = row?;
                let body = keys.open(TABLE, &row_key(kind, &id), "body", &sealed)?;
                out.push(StoredDocument { id, state, received_at, body });
            }
            Ok(out)
        })
    }

    /// Sets a document's state code; false when there is no such document.
    pub fn set_document_state(&self, kind: i64, id: &str, state: i64) -> Result<bool, StoreError> {
        self.with(|conn, _| {
            Ok(conn.execute(
                "UPDATE documents SET state = ?1 WHERE kind = ?2 AND id = ?3",
                rusqlite::params![state, kind, id],
            )? == 1)
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
            if deleted {
                if let Some(write) = journal {
                    append_in(&tx, keys, write)?;
                }
            }
            tx.commit()?;
            Ok(deleted)
        })
    }
}
