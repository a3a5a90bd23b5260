//! Errors of the storage layer. The API maps them to `WalletError` in one place.

use crate::crypto::CryptoError;

/// A failure of the encrypted store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error that is not corruption.
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// The file is not a database, a page is damaged, or a sealed value failed authentication
    /// (a flipped byte, or a value moved to another row or column).
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// The database was written by a newer version of this code.
    #[error("store schema version {found} is newer than this code supports ({supported})")]
    UnsupportedVersion {
        /// The version found in the file.
        found: u32,
        /// The newest version this code knows.
        supported: u32,
    },
    /// The data key could not be unwrapped, or it does not match this store.
    #[error("the data key does not open this store")]
    WrongKey,
    /// The store has been closed or wiped.
    #[error("store is closed")]
    Closed,
    /// No store exists at the given path and creating one was not requested.
    #[error("no wallet store at {0}")]
    Missing(String),
    /// A cryptographic primitive failed while sealing.
    #[error("crypto failure: {0}")]
    Crypto(CryptoError),
    /// A stored value could not be encoded or decoded.
    #[error("encoding error: {0}")]
    Encoding(String),
    /// The journal's head could not be signed (nothing was written).
    #[error("the record could not be signed: {0}")]
    Signing(String),
    /// Another writer changed what this write was prepared on (nothing was written; try again).
    #[error("changed by another writer: {0}")]
    Conflict(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => {
                StoreError::Corrupt(e.to_string())
            }
            _ => StoreError::Sqlite(e),
        }
    }
}
