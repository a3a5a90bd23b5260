//! The encrypted SQLite store: one file (or memory), one writer connection, WAL.
//!
//! Opening a store creates or upgrades the schema ([`schema`]), unwraps the data key with the
//! caller's [`KeyWrap`], and checks that the key opens this store. Every sensitive value is
//! sealed (`envelope`); nothing is ever silently recreated: a damaged file, a wrong key or a
//! newer schema is an error. Closing or wiping drops the keys (zeroized) and the connection.
//!
//! Owns: the schema, its migrations, sealing, and the rows. Imports `crypto` and the status
//! values of `trust`; never a credential format, `access` or `api`.

pub mod credentials;
pub mod documents;
mod envelope;
mod error;
pub mod journal;
pub mod keys;
pub mod schema;
pub mod trust_anchors;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::crypto::secret::SymmetricKey;
pub use envelope::Keys;
pub use error::StoreError;

const META_WRAPPED_KEY: &str = "wrapped_data_key";
const META_KEY_CHECK: &str = "key_check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"jigap data key check v1";

/// Where the store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A database file (plus its `-wal` and `-shm` companions).
    File(PathBuf),
    /// A private in-memory database, gone when closed.
    Memory,
}

/// Wraps and unwraps the data key; implemented by the API over the host's `KeyProtector`.
pub trait KeyWrap {
    /// The error the caller's wrapping reports; store errors convert into it.
    type Error: From<StoreError>;
    /// Wraps a fresh data key for storage.
    fn wrap(&self, key: &SymmetricKey) -> Result<Vec<u8>, Self::Error>;
    /// Unwraps a stored data key.
    fn unwrap(&self, wrapped: &[u8]) -> Result<SymmetricKey, Self::Error>;
}

/// What a wipe removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WipeCounts {
    /// Credential rows deleted.
    pub credentials: u64,
    /// Copies of batch-issued credentials deleted.
    pub credential_copies: u64,
    /// Entries of the citizen's record deleted.
    pub journal_entries: u64,
    /// Software secure-area keys deleted.
    pub software_keys: u64,
    /// Other records deleted (PIN verifier, counters, the wrapped data key).
    pub meta_records: u64,
    /// Trust anchors deleted.
    pub trust_anchors: u64,
    /// Bills and notifications deleted.
    pub documents: u64,
    /// The wrapped data key was in the store and is deleted.
    pub data_key_destroyed: bool,
}

struct Open {
    conn: Connection,
    keys: Keys,
}

/// An open store. Thread-safe: every operation takes the single connection in turn.
pub struct Store {
    open: Mutex<Option<Open>>,
    location: Location,
    created: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

fn connect(location: &Location, create_if_missing: bool) -> Result<Connection, StoreError> {
    let conn = match location {
        Location::Memory => Connection::open_in_memory()?,
        Location::File(path) => {
            if !create_if_missing && !path.exists() {
                return Err(StoreError::Missing(path.display().to_string()));
            }
            Connection::open(path)?
        }
    };
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Touching the journal mode reads the header: a file that is not a database fails here.
    if matches!(location, Location::File(_)) {
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt(format!(
                "cannot use WAL (journal mode {mode})"
            )));
        }
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

impl Store {
    /// Opens (or, with `create_if_missing`, creates) the store at `location`.
    pub fn open<W: KeyWrap>(
        location: Location,
        create_if_missing: bool,
        wrap: &W,
    ) -> Result<Store, W::Error> {
        let mut conn = connect(&location, create_if_missing)?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let prepared = schema::prepare(&tx)?;
        let created = prepared == schema::Prepared::Created;
        let keys = if created {
            let data_key = SymmetricKey::generate().map_err(StoreError::Crypto)?;
            let wrapped = wrap.wrap(&data_key)?;
            let keys = Keys::new(data_key)?;
            let check = keys.seal("meta", META_KEY_CHECK, "value", KEY_CHECK_PLAINTEXT)?;
            put_meta_raw(&tx, META_WRAPPED_KEY, &wrapped)?;
            put_meta_raw(&tx, META_KEY_CHECK, &check)?;
            keys
        } else {
            let wrapped = get_meta_raw(&tx, META_WRAPPED_KEY)?
                .ok_or_else(|| StoreError::Corrupt("the wrapped data key is missing".into()))?;
            let keys = Keys::new(wrap.unwrap(&wrapped)?)?;
            let check = get_meta_raw(&tx, META_KEY_CHECK)?
                .ok_or_else(|| StoreError::Corrupt("the key check record is missing".into()))?;
            match keys.open("meta", META_KEY_CHECK, "value", &check) {
                Ok(plain) if plain == KEY_CHECK_PLAINTEXT => {}
                _ => return Err(StoreError::WrongKey.into()),
            }
            keys
        };
        tx.commit().map_err(StoreError::from)?;
        Ok(Store {
            open: Mutex::new(Some(Open { conn, keys })),
            location,
            created,
        })
    }

    /// Where this store lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// True when this open created the store.
    pub fn was_created(&self) -> bool {
        self.created
    }

    /// Runs `f` with the connection and keys, or fails with [`StoreError::Closed`].
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection, &Keys) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.open.lock().map_err(|_| StoreError::Closed)?;
        let open = guard.as_mut().ok_or(StoreError::Closed)?;
        f(&mut open.conn, &open.keys)
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.with(|conn, _| Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?))
    }

    /// Reads and opens a sealed meta record.
    pub fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|conn, keys| match get_meta_raw(conn, key)? {
            Some(sealed) => Ok(Some(keys.open("meta", key, "value", &sealed)?)),
            None => Ok(None),
        })
    }

    /// Seals and writes a meta record.
    pub fn put_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.with(|conn, keys| {
            let sealed = keys.seal("meta", key, "value", value)?;
            put_meta_raw(conn, key, &sealed)
        })
    }

    /// Seals and writes several meta records in one transaction: all or none.
    pub fn put_metas(&self, records: &[(&str, &[u8])]) -> Result<(), StoreError> {
        self.with(|conn, keys| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for (key, value) in records {
                let sealed = keys.seal("meta", key, "value", value)?;
                put_meta_raw(&tx, key, &sealed)?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Whether a meta record exists, without opening it (for markers a migration leaves,
    /// written before the data key is at hand).
    pub fn has_meta(&self, key: &str) -> Result<bool, StoreError> {
        self.with(|conn, _| Ok(get_meta_raw(conn, key)?.is_some()))
    }

    /// Deletes a meta record.
    pub fn delete_meta(&self, key: &str) -> Result<(), StoreError> {
        self.with(|conn, _| {
            conn.execute("DELETE FROM meta WHERE key = ?1", [key])?;
            Ok(())
        })
    }

    /// Checkpoints the WAL and closes the connection; the keys are zeroized.
    pub fn close(&self) -> Result<(), StoreError> {
        let taken = self.open.lock().map_err(|_| StoreError::Closed)?.take();
        if let Some(open) = taken {
            if matches!(self.location, Location::File(_)) {
                open.conn
                    .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            }
            open.conn.close().map_err(|(_, e)| StoreError::from(e))?;
        }
        Ok(())
    }

    /// True once closed or wiped.
    pub fn is_closed(&self) -> bool {
        self.open.lock().map(|g| g.is_none()).unwrap_or(true)
    }

    /// Erases what the citizen holds — credentials, software keys, bills, notifications,
    /// consents, the citizen's record and the meta records named in `meta_keys` (each also
    /// erases the records named `KEY:…`) — in one transaction, keeping trust anchors and the
    /// store itself. Returns how many credentials were deleted.
    pub fn erase_holdings(&self, meta_keys: &[&str]) -> Result<u64, StoreError> {
        self.with(|conn, _| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let credentials = tx.execute("DELETE FROM credentials", [])? as u64;
            tx.execute("DELETE FROM credential_copies", [])?;
            tx.execute("DELETE FROM software_keys", [])?;
            tx.execute("DELETE FROM documents", [])?;
            tx.execute("DELETE FROM document_order", [])?;
            tx.execute("DELETE FROM document_counts", [])?;
            tx.execute("DELETE FROM search_tokens", [])?;
            tx.execute("DELETE FROM journal", [])?;
            for key in meta_keys.iter().chain(journal::META_KEYS) {
                tx.execute(
                    "DELETE FROM meta WHERE key = ?1 OR substr(key, 1, length(?1) + 1) = ?1 || ':'",
                    [key],
                )?;
            }
            tx.commit()?;
            Ok(credentials)
        })
    }

    /// Crypto-erase: deletes every row (the wrapped data key with them) and drops the schema, then
    /// vacuums and truncates the WAL so no sealed page survives in the file; finally drops the
    /// in-memory keys. The store is closed afterwards.
    pub fn wipe(&self) -> Result<WipeCounts, StoreError> {
        let mut guard = self.open.lock().map_err(|_| StoreError::Closed)?;
        let open = guard.as_mut().ok_or(StoreError::Closed)?;
        let tx = open
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let data_key_destroyed =
            tx.execute("DELETE FROM meta WHERE key = ?1", [META_WRAPPED_KEY])? == 1;
        let counts = WipeCounts {
            data_key_destroyed,
            meta_records: tx.execute("DELETE FROM meta", [])? as u64
                + u64::from(data_key_destroyed),
            credentials: tx.execute("DELETE FROM credentials", [])? as u64,
            credential_copies: tx.execute("DELETE FROM credential_copies", [])? as u64,
            journal_entries: tx.execute("DELETE FROM journal", [])? as u64,
            software_keys: tx.execute("DELETE FROM software_keys", [])? as u64,
            trust_anchors: tx.execute("DELETE FROM trust_anchors", [])? as u64,
            documents: tx.execute("DELETE FROM documents", [])? as u64,
        };
        tx.execute("DELETE FROM document_order", [])?;
        tx.execute("DELETE FROM document_counts", [])?;
        tx.execute("DELETE FROM search_tokens", [])?;
        tx.execute_batch(
            "DROP TABLE credentials; DROP TABLE credential_copies; DROP TABLE journal; DROP TABLE software_keys; DROP TABLE trust_anchors; DROP TABLE documents; DROP TABLE document_order; DROP TABLE document_counts; DROP TABLE search_tokens; DROP TABLE meta; PRAGMA user_version = 0;",
        )?;
        tx.commit()?;
        open.conn.execute_batch("VACUUM")?;
        if matches!(self.location, Location::File(_)) {
            open.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        if let Some(open) = guard.take() {
            open.conn.close().map_err(|(_, e)| StoreError::from(e))?;
        }
        Ok(counts)
    }
}

fn get_meta_raw(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

fn put_meta_raw(conn: &Connection, key: &str, value: &[u8]) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        rusqlite::params![key, value],
    )?;
    Ok(())
}

/// Path helpers for tests and tools that inspect the files a store writes.
pub fn companion_files(path: &Path) -> Vec<PathBuf> {
    let mut out = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        out.push(PathBuf::from(p));
    }
    out
}
