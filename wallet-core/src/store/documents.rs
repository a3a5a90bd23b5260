//! Documents from senders (bills, notifications), each sealed as a whole; only the kind, id,
//! a small state code and the time of receipt are in the clear, for paging and dedup. A
//! document listed in pages (notifications) also has a placement: the time it is ordered by
//! and a keyed blind index of its tag (the category), so that a page is read in SQL and only
//! its own rows are opened. A placement also carries the search tokens of the document's text
//! (keyed blind indexes of its characters and character pairs, see [`Keys::search_tokens`]), so
//! that a text search opens only the documents whose tokens include all of the query's.
//!
//! [`Keys::search_tokens`]: super::Keys::search_tokens

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement<'a> {
    /// The time it is ordered by, newest first (then by id).
    pub sort_at: i64,
    /// The tag it is filtered by; stored only as a keyed blind index.
    pub tag: &'a str,
    /// The texts a search looks in; stored only as search tokens.
    pub text: Vec<&'a str>,
}

/// At most this many of a query's tokens are matched in SQL (the rarest ones); the opened
/// text confirms the rest.
const MAX_QUERY_TOKENS: usize = 8;

/// A token found this many times or more counts as common when choosing which tokens of a
/// query to match first.
const COMMON_TOKEN: i64 = 4_096;

fn pack_tokens(tokens: &[u32]) -> Vec<u8> {
    tokens.iter().flat_map(|t| t.to_be_bytes()).collect()
}

/// Removes the search tokens of the placement `seq`, whose packed list is `packed`.
fn unindex_in(tx: &rusqlite::Transaction<'_>, seq: i64, packed: &[u8]) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached("DELETE FROM search_tokens WHERE token = ?1 AND seq = ?2")?;
    for chunk in packed.chunks_exact(4) {
        let mut bytes = [0u8; 4];
        bytes.copy_from_slice(chunk);
        let token = u32::from_be_bytes(bytes);
        stmt.execute(rusqlite::params![i64::from(token), seq])?;
    }
    Ok(())
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

/// The placement row of a document.
struct Placed {
    seq: i64,
    tag_idx: Vec<u8>,
    state: i64,
    tokens: Vec<u8>,
}

fn placed_in(
    tx: &rusqlite::Transaction<'_>,
    kind: i64,
    id: &str,
) -> Result<Option<Placed>, StoreError> {
    Ok(tx
        .query_row(
            "SELECT seq, tag_idx, state, tokens FROM document_order WHERE kind = ?1 AND id = ?2",
            rusqlite::params![kind, id],
            |r| {
                Ok(Placed {
                    seq: r.get(0)?,
                    tag_idx: r.get(1)?,
                    state: r.get(2)?,
                    tokens: r.get(3)?,
                })
            },
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
    if let Some(old) = placed_in(tx, kind, id)? {
        count_in(tx, kind, &old.tag_idx, old.state, -1)?;
        unindex_in(tx, old.seq, &old.tokens)?;
    }
    let tag_idx = keys.blind_index("document_tag", placement.tag);
    let tokens = keys.search_tokens(placement.text.iter().copied());
    let seq: i64 = tx.query_row(
        "INSERT INTO document_order (kind, id, sort_at, tag_idx, state, tokens) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (kind, id) DO UPDATE SET sort_at = excluded.sort_at, tag_idx = excluded.tag_idx, state = excluded.state, tokens = excluded.tokens
         RETURNING seq",
        rusqlite::params![kind, id, placement.sort_at, tag_idx, state, pack_tokens(&tokens)],
        |r| r.get(0),
    )?;
    let mut stmt = tx.prepare_cached("INSERT INTO search_tokens (token, seq) VALUES (?1, ?2)")?;
    for token in tokens {
        stmt.execute(rusqlite::params![i64::from(token), seq])?;
    }
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
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(open_row(keys, kind, row)?);
    }
    Ok(out)
}

/// A row of `id, state, received_at, body`, its body opened.
fn open_row(
    keys: &super::envelope::Keys,
    kind: i64,
    row: &rusqlite::Row<'_>,
) -> Result<StoredDocument, StoreError> {
    let id: String = row.get(0)?;
    let sealed: Vec<u8> = row.get(3)?;
    let body = keys.open(TABLE, &row_key(kind, &id), "body", &sealed)?;
    Ok(StoredDocument {
        id,
        state: row.get(1)?,
        received_at: row.get(2)?,
        body,
    })
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
            if let Some(placed) = placed_in(&tx, kind, id)? {
                count_in(&tx, kind, &placed.tag_idx, placed.state, -1)?;
                count_in(&tx, kind, &placed.tag_idx, state, 1)?;
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
            if let Some(placed) = placed_in(&tx, kind, id)? {
                count_in(&tx, kind, &placed.tag_idx, placed.state, -1)?;
                unindex_in(&tx, placed.seq, &placed.tokens)?;
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

    /// Opens, newest first, the placed documents matching `query` whose search tokens include
    /// those of `text`, and hands each to `visit` until it returns `false`. What is handed over
    /// may still not contain `text` (tokens collide, pairs may sit apart): `visit` confirms on
    /// the opened text. An error of `visit` ends the search and is returned.
    ///
    /// When the query's rarest token is rare, the rows holding it are read and sorted; when
    /// every token is common, the listing is walked in order and each row's tokens checked in
    /// SQL, so that a caller that has seen enough stops early.
    pub fn search_documents<E: From<StoreError>>(
        &self,
        kind: i64,
        query: &DocumentQuery<'_>,
        text: &str,
        mut visit: impl FnMut(StoredDocument) -> Result<bool, E>,
    ) -> Result<(), E> {
        let mut failed = None;
        self.with(|conn, keys| {
            // The rarest tokens first: the rarest drives a scan, the next few narrow it.
            let mut counted = Vec::new();
            {
                let mut count = conn.prepare_cached(
                    "SELECT count(*) FROM (SELECT 1 FROM search_tokens WHERE token = ?1 LIMIT ?2)",
                )?;
                for token in keys.query_tokens(text) {
                    let n: i64 =
                        count.query_row(rusqlite::params![i64::from(token), COMMON_TOKEN], |r| {
                            r.get(0)
                        })?;
                    if n == 0 {
                        return Ok(());
                    }
                    counted.push((n, i64::from(token)));
                }
            }
            counted.sort_unstable();
            counted.truncate(MAX_QUERY_TOKENS);
            let (clause, mut params) = query_clause(keys, kind, query, "o.");
            let rare = counted.first().filter(|(n, _)| *n < COMMON_TOKEN);
            let from = match rare {
                Some(_) => "search_tokens s CROSS JOIN document_order o ON o.seq = s.seq",
                None => "document_order o",
            };
            let mut sql = format!(
                "SELECT d.id, d.state, d.received_at, d.body
                 FROM {from} JOIN documents d ON d.kind = o.kind AND d.id = o.id{clause}"
            );
            if let Some((_, token)) = rare {
                sql.push_str(" AND s.token = ?");
                params.push(rusqlite::types::Value::Integer(*token));
            }
            let skip = usize::from(rare.is_some());
            for (_, token) in counted.iter().skip(skip) {
                sql.push_str(
                    " AND EXISTS (SELECT 1 FROM search_tokens t WHERE t.token = ? AND t.seq = o.seq)",
                );
                params.push(rusqlite::types::Value::Integer(*token));
            }
            sql.push_str(" ORDER BY o.sort_at DESC, o.id ASC");
            let mut stmt = conn.prepare(&sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
            while let Some(row) = rows.next()? {
                let doc = open_row(keys, kind, row)?;
                match visit(doc) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            Ok(())
        })?;
        failed.map_or(Ok(()), Err)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::secret::SymmetricKey;
    use crate::store::{KeyWrap, Location};

    struct NoWrap;
    impl KeyWrap for NoWrap {
        type Error = StoreError;
        fn wrap(&self, _: &SymmetricKey) -> Result<Vec<u8>, StoreError> {
            Ok(vec![0])
        }
        fn unwrap(&self, _: &[u8]) -> Result<SymmetricKey, StoreError> {
            Err(StoreError::WrongKey)
        }
    }

    const KIND: i64 = kind::NOTIFICATION;

    /// What a search hands over, all of it or until `stop` documents.
    fn searched(store: &Store, query: &DocumentQuery<'_>, text: &str, stop: usize) -> Vec<String> {
        let mut seen = Vec::new();
        store
            .search_documents(KIND, query, text, |doc| -> Result<bool, StoreError> {
                seen.push(doc.id);
                Ok(seen.len() < stop)
            })
            .unwrap();
        seen
    }

    #[test]
    fn common_and_rare_tokens_find_the_same_documents_in_the_listings_order() {
        let store = Store::open(Location::Memory, true, &NoWrap).unwrap();
        // More documents than a common token's threshold, so that both ways of searching run.
        let n = COMMON_TOKEN as usize + 300;
        let mut texts = Vec::new();
        for i in 0..n {
            let text = if i % 97 == 0 {
                format!("{i}번째 드문 안내")
            } else {
                format!("{i}번째 안내")
            };
            let tag = if i % 3 == 0 { "tax" } else { "health" };
            let doc = StoredDocument {
                id: format!("D-{i:05}"),
                state: i64::from(i % 5 == 0),
                received_at: 0,
                body: text.clone().into_bytes(),
            };
            let placement = Placement {
                // Equal times in threes: the order within one time is by id.
                sort_at: (i / 3) as i64,
                tag,
                text: vec![&text],
            };
            store
                .put_document_placed(KIND, &doc, Some(&placement), None)
                .unwrap();
            texts.push((doc.id, i, tag, doc.state, text));
        }
        // The listing's order: newest first, then by id.
        texts.sort_by(|a, b| (b.1 / 3).cmp(&(a.1 / 3)).then(a.0.cmp(&b.0)));
        let all = DocumentQuery::default();
        let health_unread = DocumentQuery {
            tag: Some("health"),
            exclude_states: &[1],
        };
        for (query, q) in [(&all, None), (&health_unread, Some(("health", 1)))] {
            for text in [
                "안내",
                "번째 안내",
                "드문",
                "문",
                "안",
                "12",
                "1",
                "없음",
                "째 드",
            ] {
                let expected: Vec<String> = texts
                    .iter()
                    .filter(|(_, _, tag, state, t)| {
                        t.contains(text)
                            && q.is_none_or(|(want, excluded)| *tag == want && *state != excluded)
                    })
                    .map(|(id, ..)| id.clone())
                    .collect();
                // What the tokens find may include texts with the pairs apart: the caller
                // confirms. Confirmed, it is exactly what contains the text, in order.
                let got = searched(&store, query, text, usize::MAX);
                let text_of = |id: &String| {
                    texts
                        .iter()
                        .find(|(i, ..)| i == id)
                        .map(|(.., t)| t.clone())
                        .unwrap()
                };
                let confirmed: Vec<String> = got
                    .iter()
                    .filter(|id| text_of(id).contains(text))
                    .cloned()
                    .collect();
                let first_difference = confirmed.iter().zip(&expected).position(|(a, b)| a != b);
                assert!(
                    confirmed == expected,
                    "{text}: {} found, {} expected, first difference at {first_difference:?}",
                    confirmed.len(),
                    expected.len()
                );
                let listed: Vec<&String> = texts.iter().map(|(id, ..)| id).collect();
                let mut at = listed.iter();
                assert!(
                    got.iter().all(|id| at.any(|l| *l == id)),
                    "{text}: in the listing's order"
                );
                // Stopping early hands over the newest ones only.
                let first: Vec<String> = got.iter().take(7).cloned().collect();
                assert_eq!(searched(&store, query, text, 7), first, "{text}, first 7");
            }
        }
        // An error of the visitor ends the search and comes back.
        let mut visited = 0;
        let failed = store.search_documents(KIND, &all, "안내", |_| {
            visited += 1;
            Err::<bool, _>(StoreError::Closed)
        });
        assert!(matches!(failed, Err(StoreError::Closed)));
        assert_eq!(visited, 1);
    }
}
