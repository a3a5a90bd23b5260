//! Keys of the built-in software secure area: P-256 private scalars sealed under the data key.

use rusqlite::OptionalExtension;

use super::{Store, StoreError};
use crate::crypto::ec::SoftwareKey;

const TABLE: &str = "software_keys";

impl Store {
    /// Stores a new key under `alias`; false when the alias is taken.
    pub fn insert_software_key(
        &self,
        alias: &str,
        key: &SoftwareKey,
        created_at: i64,
    ) -> Result<bool, StoreError> {
        self.with(|conn, keys| {
            let sealed = keys.seal(TABLE, alias, "private_key", key.private_scalar().expose())?;
            let inserted = conn.execute(
                "INSERT OR IGNORE INTO software_keys (alias, public_key, private_key, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![alias, key.public_key(), sealed, created_at],
            )?;
            Ok(inserted == 1)
        })
    }

    /// Loads the key pair stored under `alias`.
    pub fn load_software_key(&self, alias: &str) -> Result<Option<SoftwareKey>, StoreError> {
        self.with(|conn, keys| {
            let row: Option<(Vec<u8>, Vec<u8>)> = conn
                .query_row(
                    "SELECT public_key, private_key FROM software_keys WHERE alias = ?1",
                    [alias],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((public, sealed)) = row else {
                return Ok(None);
            };
            let scalar =
                zeroize::Zeroizing::new(keys.open(TABLE, alias, "private_key", &sealed)?);
            let key = SoftwareKey::from_private_scalar(&scalar)
                .map_err(|_| StoreError::Corrupt(format!("software key {alias} is malformed")))?;
            if key.public_key() != public.as_slice() {
                return Err(StoreError::Corrupt(format!(
                    "software key {alias} does not match its public key"
                )));
            }
            Ok(Some(key))
        })
    }

    /// Deletes the key stored under `alias`; false when there was none.
    pub fn delete_software_key(&self, alias: &str) -> Result<bool, StoreError> {
        self.with(|conn, _| {
            Ok(conn.execute("DELETE FROM software_keys WHERE alias = ?1", [alias])? == 1)
        })
    }
}
