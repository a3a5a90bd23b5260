//! The store's schema and its migrations, versioned with `PRAGMA user_version`.
//!
//! A fresh store is created from [`SCHEMA_SQL`] in one step. An older store is brought forward
//! with [`upgrade_from`], one version at a time, inside the opening transaction. A store whose
//! version is newer than [`CURRENT_VERSION`] is refused rather than guessed at. The tests keep a
//! frozen copy of every earlier schema and check that upgrading it yields exactly the fresh one.

use rusqlite::Transaction;

use super::StoreError;

/// The schema version this code writes.
pub const CURRENT_VERSION: u32 = 10;

/// The complete current schema. Every sensitive column holds a value sealed with AES-256-GCM
/// (see `store::envelope`); `*_idx` columns hold keyed blind indexes for equality filters, and
/// `search_tokens` keyed 32-bit blind indexes of characters and character pairs for text search.
pub const SCHEMA_SQL: &str = "
CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;
CREATE TABLE credentials (
    id TEXT PRIMARY KEY NOT NULL,
    format INTEGER NOT NULL,
    state INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    doc_type_idx BLOB NOT NULL,
    issuer_idx BLOB NOT NULL,
    metadata BLOB NOT NULL,
    raw BLOB NOT NULL
) STRICT;
CREATE INDEX credentials_by_added ON credentials (added_at, id);
CREATE INDEX credentials_by_issuer ON credentials (issuer_idx, added_at, id);
CREATE INDEX credentials_by_doc_type ON credentials (doc_type_idx, added_at, id);
CREATE TABLE software_keys (
    alias TEXT PRIMARY KEY NOT NULL,
    public_key BLOB NOT NULL,
    private_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE trust_anchors (
    id TEXT PRIMARY KEY NOT NULL,
    role INTEGER NOT NULL,
    certificate BLOB NOT NULL
) STRICT;
CREATE INDEX trust_anchors_by_role ON trust_anchors (role);
CREATE TABLE documents (
    kind INTEGER NOT NULL,
    id TEXT NOT NULL,
    state INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;
CREATE TABLE credential_copies (
    credential_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    key_alias BLOB NOT NULL,
    raw BLOB NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (credential_id, n)
) STRICT;
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY NOT NULL,
    at INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    details BLOB NOT NULL,
    chain BLOB NOT NULL
) STRICT;
CREATE INDEX journal_by_kind ON journal (kind, seq);
CREATE TABLE document_order (
    seq INTEGER PRIMARY KEY NOT NULL,
    kind INTEGER NOT NULL,
    id TEXT NOT NULL,
    sort_at INTEGER NOT NULL,
    tag_idx BLOB NOT NULL,
    state INTEGER NOT NULL,
    tokens BLOB NOT NULL,
    UNIQUE (kind, id)
) STRICT;
CREATE INDEX document_order_by_time ON document_order (kind, sort_at, id);
CREATE INDEX document_order_by_tag ON document_order (kind, tag_idx, sort_at, id);
CREATE TABLE document_counts (
    kind INTEGER NOT NULL,
    tag_idx BLOB NOT NULL,
    state INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (kind, tag_idx, state)
) STRICT;
CREATE TABLE search_tokens (
    token INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (token, seq)
) STRICT, WITHOUT ROWID;
";

/// Applies the migration from `version` to `version + 1`.
pub fn upgrade_from(tx: &Transaction<'_>, version: u32) -> Result<(), StoreError> {
    match version {
        // Version 2 added keys of the built-in software secure area, and an index for paging
        // credentials in the order they were added.
        1 => tx.execute_batch(
            "CREATE TABLE software_keys (
                alias TEXT PRIMARY KEY NOT NULL,
                public_key BLOB NOT NULL,
                private_key BLOB NOT NULL,
                created_at INTEGER NOT NULL
            ) STRICT;
            CREATE INDEX credentials_by_added ON credentials (added_at, id);",
        )?,
        // Version 3 added trust anchors per role (mdoc issuing authorities, readers).
        2 => tx.execute_batch(
            "CREATE TABLE trust_anchors (
                id TEXT PRIMARY KEY NOT NULL,
                role INTEGER NOT NULL,
                certificate BLOB NOT NULL
            ) STRICT;
            CREATE INDEX trust_anchors_by_role ON trust_anchors (role);",
        )?,
        // Version 4 added signed documents from senders: bills and notifications.
        3 => tx.execute_batch(
            "CREATE TABLE documents (
                kind INTEGER NOT NULL,
                id TEXT NOT NULL,
                state INTEGER NOT NULL,
                received_at INTEGER NOT NULL,
                body BLOB NOT NULL,
                PRIMARY KEY (kind, id)
            ) STRICT;",
        )?,
        // Version 5 added the copies of batch-issued credentials, each bound to its own key
        // and used once.
        4 => tx.execute_batch(
            "CREATE TABLE credential_copies (
                credential_id TEXT NOT NULL,
                n INTEGER NOT NULL,
                key_alias BLOB NOT NULL,
                raw BLOB NOT NULL,
                used_at INTEGER,
                PRIMARY KEY (credential_id, n)
            ) STRICT;",
        )?,
        // Version 6 added the citizen's record: a hash-chained log with a signed head.
        5 => tx.execute_batch(
            "CREATE TABLE journal (
                seq INTEGER PRIMARY KEY NOT NULL,
                at INTEGER NOT NULL,
                kind INTEGER NOT NULL,
                details BLOB NOT NULL,
                chain BLOB NOT NULL
            ) STRICT;
            CREATE INDEX journal_by_kind ON journal (kind, seq);",
        )?,
        // Version 7 added indexes for the filtered credential pages (by keyed blind index of
        // the issuer and of the docType, in the order they were added).
        6 => tx.execute_batch(
            "CREATE INDEX credentials_by_issuer ON credentials (issuer_idx, added_at, id);
            CREATE INDEX credentials_by_doc_type ON credentials (doc_type_idx, added_at, id);",
        )?,
        // Version 8 added where each listed document sits (its time, a keyed blind index of
        // its tag, its state) and how many sit under each tag and state, so that inbox pages
        // and their totals are read in SQL; the documents already stored are placed on first
        // listing (the marker below says so).
        7 => tx.execute_batch(
            "CREATE TABLE document_order (
                kind INTEGER NOT NULL,
                id TEXT NOT NULL,
                sort_at INTEGER NOT NULL,
                tag_idx BLOB NOT NULL,
                state INTEGER NOT NULL,
                PRIMARY KEY (kind, id)
            ) STRICT;
            CREATE INDEX document_order_by_time ON document_order (kind, sort_at, id);
            CREATE INDEX document_order_by_tag ON document_order (kind, tag_idx, sort_at, id);
            CREATE TABLE document_counts (
                kind INTEGER NOT NULL,
                tag_idx BLOB NOT NULL,
                state INTEGER NOT NULL,
                n INTEGER NOT NULL,
                PRIMARY KEY (kind, tag_idx, state)
            ) STRICT;
            INSERT INTO meta (key, value) VALUES ('document_order_pending', x'01');",
        )?,
        // Version 9 added search tokens to each placement (so an inbox search reads only the
        // notifications whose tokens match) and a stable sequence number to refer to it; the
        // placements are rebuilt from the documents on first listing, as after version 8.
        8 => tx.execute_batch(
            "DROP TABLE document_order;
            DELETE FROM document_counts;
            CREATE TABLE document_order (
                seq INTEGER PRIMARY KEY NOT NULL,
                kind INTEGER NOT NULL,
                id TEXT NOT NULL,
                sort_at INTEGER NOT NULL,
                tag_idx BLOB NOT NULL,
                state INTEGER NOT NULL,
                tokens BLOB NOT NULL,
                UNIQUE (kind, id)
            ) STRICT;
            CREATE INDEX document_order_by_time ON document_order (kind, sort_at, id);
            CREATE INDEX document_order_by_tag ON document_order (kind, tag_idx, sort_at, id);
            CREATE TABLE search_tokens (
                token INTEGER NOT NULL,
                seq INTEGER NOT NULL,
                PRIMARY KEY (token, seq)
            ) STRICT, WITHOUT ROWID;
            INSERT OR REPLACE INTO meta (key, value) VALUES ('document_order_pending', x'01');",
        )?,
        // Version 10 added a token for each single character to the search tokens, so that a
        // search for one character reads only the notifications holding it. The tables are
        // unchanged; the placements are rebuilt from the documents on first listing.
        9 => tx.execute_batch(
            "DELETE FROM search_tokens;
            DELETE FROM document_order;
            DELETE FROM document_counts;
            INSERT OR REPLACE INTO meta (key, value) VALUES ('document_order_pending', x'01');",
        )?,
        other => {
            return Err(StoreError::Corrupt(format!(
                "no migration from schema version {other}"
            )))
        }
    }
    Ok(())
}

/// What [`prepare`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Prepared {
    /// The database was empty and now has the current schema.
    Created,
    /// The database already had a schema (possibly upgraded just now).
    Existing {
        /// The version the file had before this open.
        from_version: u32,
    },
}

/// Creates the schema in an empty database or upgrades an older one, inside `tx`.
pub fn prepare(tx: &Transaction<'_>) -> Result<Prepared, StoreError> {
    let version: u32 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version > CURRENT_VERSION {
        return Err(StoreError::UnsupportedVersion {
            found: version,
            supported: CURRENT_VERSION,
        });
    }
    if version == 0 {
        let objects: i64 = tx.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if objects != 0 {
            return Err(StoreError::Corrupt(
                "the database has tables but no Jigap schema version".into(),
            ));
        }
        tx.execute_batch(SCHEMA_SQL)?;
        tx.pragma_update(None, "user_version", CURRENT_VERSION)?;
        return Ok(Prepared::Created);
    }
    for v in version..CURRENT_VERSION {
        upgrade_from(tx, v)?;
    }
    if version != CURRENT_VERSION {
        tx.pragma_update(None, "user_version", CURRENT_VERSION)?;
    }
    Ok(Prepared::Existing {
        from_version: version,
    })
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    /// Version 1, frozen as it shipped: never edit.
    const SCHEMA_V1: &str = "
CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;
CREATE TABLE credentials (
    id TEXT PRIMARY KEY NOT NULL,
    format INTEGER NOT NULL,
    state INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    doc_type_idx BLOB NOT NULL,
    issuer_idx BLOB NOT NULL,
    metadata BLOB NOT NULL,
    raw BLOB NOT NULL
) STRICT;
PRAGMA user_version = 1;
";

    /// Version 2, frozen as it shipped: never edit.
    const SCHEMA_V2: &str = "
CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;
CREATE TABLE credentials (
    id TEXT PRIMARY KEY NOT NULL,
    format INTEGER NOT NULL,
    state INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    doc_type_idx BLOB NOT NULL,
    issuer_idx BLOB NOT NULL,
    metadata BLOB NOT NULL,
    raw BLOB NOT NULL
) STRICT;
CREATE INDEX credentials_by_added ON credentials (added_at, id);
CREATE TABLE software_keys (
    alias TEXT PRIMARY KEY NOT NULL,
    public_key BLOB NOT NULL,
    private_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
PRAGMA user_version = 2;
";

    /// Version 3, frozen as it shipped: never edit.
    const SCHEMA_V3: &str = "
CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;
CREATE TABLE credentials (
    id TEXT PRIMARY KEY NOT NULL,
    format INTEGER NOT NULL,
    state INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    doc_type_idx BLOB NOT NULL,
    issuer_idx BLOB NOT NULL,
    metadata BLOB NOT NULL,
    raw BLOB NOT NULL
) STRICT;
CREATE INDEX credentials_by_added ON credentials (added_at, id);
CREATE TABLE software_keys (
    alias TEXT PRIMARY KEY NOT NULL,
    public_key BLOB NOT NULL,
    private_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE trust_anchors (
    id TEXT PRIMARY KEY NOT NULL,
    role INTEGER NOT NULL,
    certificate BLOB NOT NULL
) STRICT;
CREATE INDEX trust_anchors_by_role ON trust_anchors (role);
PRAGMA user_version = 3;
";

    /// Every earlier schema, by version.
    /// Version 4, frozen as it shipped: never edit.
    const SCHEMA_V4: &str = "
CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;
CREATE TABLE credentials (
    id TEXT PRIMARY KEY NOT NULL,
    format INTEGER NOT NULL,
    state INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    doc_type_idx BLOB NOT NULL,
    issuer_idx BLOB NOT NULL,
    metadata BLOB NOT NULL,
    raw BLOB NOT NULL
) STRICT;
CREATE INDEX credentials_by_added ON credentials (added_at, id);
CREATE TABLE software_keys (
    alias TEXT PRIMARY KEY NOT NULL,
    public_key BLOB NOT NULL,
    private_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE trust_anchors (
    id TEXT PRIMARY KEY NOT NULL,
    role INTEGER NOT NULL,
    certificate BLOB NOT NULL
) STRICT;
CREATE INDEX trust_anchors_by_role ON trust_anchors (role);
CREATE TABLE documents (
    kind INTEGER NOT NULL,
    id TEXT NOT NULL,
    state INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;
PRAGMA user_version = 4;
";

    /// Version 5, frozen as it shipped: never edit.
    const SCHEMA_V5: &str = "
CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;
CREATE TABLE credentials (
    id TEXT PRIMARY KEY NOT NULL,
    format INTEGER NOT NULL,
    state INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    doc_type_idx BLOB NOT NULL,
    issuer_idx BLOB NOT NULL,
    metadata BLOB NOT NULL,
    raw BLOB NOT NULL
) STRICT;
CREATE INDEX credentials_by_added ON credentials (added_at, id);
CREATE TABLE software_keys (
    alias TEXT PRIMARY KEY NOT NULL,
    public_key BLOB NOT NULL,
    private_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE trust_anchors (
    id TEXT PRIMARY KEY NOT NULL,
    role INTEGER NOT NULL,
    certificate BLOB NOT NULL
) STRICT;
CREATE INDEX trust_anchors_by_role ON trust_anchors (role);
CREATE TABLE documents (
    kind INTEGER NOT NULL,
    id TEXT NOT NULL,
    state INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;
CREATE TABLE credential_copies (
    credential_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    key_alias BLOB NOT NULL,
    raw BLOB NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (credential_id, n)
) STRICT;
PRAGMA user_version = 5;
";

    const SCHEMA_V6: &str = "
CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;
CREATE TABLE credentials (
    id TEXT PRIMARY KEY NOT NULL,
    format INTEGER NOT NULL,
    state INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    doc_type_idx BLOB NOT NULL,
    issuer_idx BLOB NOT NULL,
    metadata BLOB NOT NULL,
    raw BLOB NOT NULL
) STRICT;
CREATE INDEX credentials_by_added ON credentials (added_at, id);
CREATE TABLE software_keys (
    alias TEXT PRIMARY KEY NOT NULL,
    public_key BLOB NOT NULL,
    private_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE trust_anchors (
    id TEXT PRIMARY KEY NOT NULL,
    role INTEGER NOT NULL,
    certificate BLOB NOT NULL
) STRICT;
CREATE INDEX trust_anchors_by_role ON trust_anchors (role);
CREATE TABLE documents (
    kind INTEGER NOT NULL,
    id TEXT NOT NULL,
    state INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;
CREATE TABLE credential_copies (
    credential_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    key_alias BLOB NOT NULL,
    raw BLOB NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (credential_id, n)
) STRICT;
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY NOT NULL,
    at INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    details BLOB NOT NULL,
    chain BLOB NOT NULL
) STRICT;
CREATE INDEX journal_by_kind ON journal (kind, seq);
PRAGMA user_version = 6;
";

    const SCHEMA_V7: &str = "
CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;
CREATE TABLE credentials (
    id TEXT PRIMARY KEY NOT NULL,
    format INTEGER NOT NULL,
    state INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    doc_type_idx BLOB NOT NULL,
    issuer_idx BLOB NOT NULL,
    metadata BLOB NOT NULL,
    raw BLOB NOT NULL
) STRICT;
CREATE INDEX credentials_by_added ON credentials (added_at, id);
CREATE INDEX credentials_by_issuer ON credentials (issuer_idx, added_at, id);
CREATE INDEX credentials_by_doc_type ON credentials (doc_type_idx, added_at, id);
CREATE TABLE software_keys (
    alias TEXT PRIMARY KEY NOT NULL,
    public_key BLOB NOT NULL,
    private_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE trust_anchors (
    id TEXT PRIMARY KEY NOT NULL,
    role INTEGER NOT NULL,
    certificate BLOB NOT NULL
) STRICT;
CREATE INDEX trust_anchors_by_role ON trust_anchors (role);
CREATE TABLE documents (
    kind INTEGER NOT NULL,
    id TEXT NOT NULL,
    state INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;
CREATE TABLE credential_copies (
    credential_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    key_alias BLOB NOT NULL,
    raw BLOB NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (credential_id, n)
) STRICT;
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY NOT NULL,
    at INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    details BLOB NOT NULL,
    chain BLOB NOT NULL
) STRICT;
CREATE INDEX journal_by_kind ON journal (kind, seq);
PRAGMA user_version = 7;
";

    /// Version 8, frozen as it shipped: never edit.
    const SCHEMA_V8: &str = "
CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;
CREATE TABLE credentials (
    id TEXT PRIMARY KEY NOT NULL,
    format INTEGER NOT NULL,
    state INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    doc_type_idx BLOB NOT NULL,
    issuer_idx BLOB NOT NULL,
    metadata BLOB NOT NULL,
    raw BLOB NOT NULL
) STRICT;
CREATE INDEX credentials_by_added ON credentials (added_at, id);
CREATE INDEX credentials_by_issuer ON credentials (issuer_idx, added_at, id);
CREATE INDEX credentials_by_doc_type ON credentials (doc_type_idx, added_at, id);
CREATE TABLE software_keys (
    alias TEXT PRIMARY KEY NOT NULL,
    public_key BLOB NOT NULL,
    private_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE trust_anchors (
    id TEXT PRIMARY KEY NOT NULL,
    role INTEGER NOT NULL,
    certificate BLOB NOT NULL
) STRICT;
CREATE INDEX trust_anchors_by_role ON trust_anchors (role);
CREATE TABLE documents (
    kind INTEGER NOT NULL,
    id TEXT NOT NULL,
    state INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;
CREATE TABLE credential_copies (
    credential_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    key_alias BLOB NOT NULL,
    raw BLOB NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (credential_id, n)
) STRICT;
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY NOT NULL,
    at INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    details BLOB NOT NULL,
    chain BLOB NOT NULL
) STRICT;
CREATE INDEX journal_by_kind ON journal (kind, seq);
CREATE TABLE document_order (
    kind INTEGER NOT NULL,
    id TEXT NOT NULL,
    sort_at INTEGER NOT NULL,
    tag_idx BLOB NOT NULL,
    state INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;
CREATE INDEX document_order_by_time ON document_order (kind, sort_at, id);
CREATE INDEX document_order_by_tag ON document_order (kind, tag_idx, sort_at, id);
CREATE TABLE document_counts (
    kind INTEGER NOT NULL,
    tag_idx BLOB NOT NULL,
    state INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (kind, tag_idx, state)
) STRICT;
PRAGMA user_version = 8;
";

    /// Version 9, frozen as it shipped: never edit.
    const SCHEMA_V9: &str = "
CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;
CREATE TABLE credentials (
    id TEXT PRIMARY KEY NOT NULL,
    format INTEGER NOT NULL,
    state INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    doc_type_idx BLOB NOT NULL,
    issuer_idx BLOB NOT NULL,
    metadata BLOB NOT NULL,
    raw BLOB NOT NULL
) STRICT;
CREATE INDEX credentials_by_added ON credentials (added_at, id);
CREATE INDEX credentials_by_issuer ON credentials (issuer_idx, added_at, id);
CREATE INDEX credentials_by_doc_type ON credentials (doc_type_idx, added_at, id);
CREATE TABLE software_keys (
    alias TEXT PRIMARY KEY NOT NULL,
    public_key BLOB NOT NULL,
    private_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE trust_anchors (
    id TEXT PRIMARY KEY NOT NULL,
    role INTEGER NOT NULL,
    certificate BLOB NOT NULL
) STRICT;
CREATE INDEX trust_anchors_by_role ON trust_anchors (role);
CREATE TABLE documents (
    kind INTEGER NOT NULL,
    id TEXT NOT NULL,
    state INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;
CREATE TABLE credential_copies (
    credential_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    key_alias BLOB NOT NULL,
    raw BLOB NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (credential_id, n)
) STRICT;
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY NOT NULL,
    at INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    details BLOB NOT NULL,
    chain BLOB NOT NULL
) STRICT;
CREATE INDEX journal_by_kind ON journal (kind, seq);
CREATE TABLE document_order (
    seq INTEGER PRIMARY KEY NOT NULL,
    kind INTEGER NOT NULL,
    id TEXT NOT NULL,
    sort_at INTEGER NOT NULL,
    tag_idx BLOB NOT NULL,
    state INTEGER NOT NULL,
    tokens BLOB NOT NULL,
    UNIQUE (kind, id)
) STRICT;
CREATE INDEX document_order_by_time ON document_order (kind, sort_at, id);
CREATE INDEX document_order_by_tag ON document_order (kind, tag_idx, sort_at, id);
CREATE TABLE document_counts (
    kind INTEGER NOT NULL,
    tag_idx BLOB NOT NULL,
    state INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (kind, tag_idx, state)
) STRICT;
CREATE TABLE search_tokens (
    token INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (token, seq)
) STRICT, WITHOUT ROWID;
PRAGMA user_version = 9;
";

    const OLD_SCHEMAS: &[(u32, &str)] = &[
        (1, SCHEMA_V1),
        (2, SCHEMA_V2),
        (3, SCHEMA_V3),
        (4, SCHEMA_V4),
        (5, SCHEMA_V5),
        (6, SCHEMA_V6),
        (7, SCHEMA_V7),
        (8, SCHEMA_V8),
        (9, SCHEMA_V9),
    ];

    /// The schema as SQLite reports it: (type, name, table, normalised SQL), sorted.
    fn describe(conn: &Connection) -> Vec<(String, String, String, String)> {
        let mut stmt = conn
            .prepare("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name")
            .unwrap();
        stmt.query_map([], |r| {
            let sql: String = r.get(3)?;
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                sql.split_whitespace().collect::<Vec<_>>().join(" "),
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }

    fn fresh() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        assert_eq!(prepare(&tx).unwrap(), Prepared::Created);
        tx.commit().unwrap();
        conn
    }

    #[test]
    fn every_old_schema_upgrades_to_the_fresh_one() {
        let expected = describe(&fresh());
        assert!(!expected.is_empty());
        assert_eq!(
            OLD_SCHEMAS.len() as u32,
            CURRENT_VERSION - 1,
            "freeze each old schema here"
        );
        for (version, sql) in OLD_SCHEMAS {
            let mut conn = Connection::open_in_memory().unwrap();
            conn.execute_batch(sql).unwrap();
            conn.execute(
                "INSERT INTO credentials VALUES ('id1', 1, 0, 5, x'00', x'00', x'01', x'02')",
                [],
            )
            .unwrap();
            let tx = conn.transaction().unwrap();
            assert_eq!(
                prepare(&tx).unwrap(),
                Prepared::Existing {
                    from_version: *version
                }
            );
            tx.commit().unwrap();
            assert_eq!(describe(&conn), expected, "upgrade from v{version} differs");
            let v: u32 = conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap();
            assert_eq!(v, CURRENT_VERSION);
            let rows: i64 = conn
                .query_row("SELECT count(*) FROM credentials", [], |r| r.get(0))
                .unwrap();
            assert_eq!(rows, 1, "upgrade from v{version} lost data");
        }
    }

    #[test]
    fn newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", CURRENT_VERSION + 1)
            .unwrap();
        let tx = conn.transaction().unwrap();
        assert!(matches!(
            prepare(&tx),
            Err(StoreError::UnsupportedVersion { found, supported })
                if found == CURRENT_VERSION + 1 && supported == CURRENT_VERSION
        ));
    }

    #[test]
    fn foreign_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE other (x)").unwrap();
        let tx = conn.transaction().unwrap();
        assert!(matches!(prepare(&tx), Err(StoreError::Corrupt(_))));
    }
}
