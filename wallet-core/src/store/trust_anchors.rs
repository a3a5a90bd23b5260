//! Trust anchors per role (sealed like everything else: a swapped or altered certificate is
//! corruption, not a silently different trust decision).

use super::{Store, StoreError};

const TABLE: &str = "trust_anchors";

impl Store {
    /// Stores a certificate under `id` for the role with `role_code`.
    pub fn insert_trust_anchor(
        &self,
        id: &str,
        role_code: i64,
        certificate: &[u8],
    ) -> Result<(), StoreError> {
        self.with(|conn, keys| {
            let sealed = keys.seal(TABLE, id, "certificate", certificate)?;
            conn.execute(
                "INSERT INTO trust_anchors (id, role, certificate) VALUES (?1, ?2, ?3)",
                rusqlite::params![id, role_code, sealed],
            )?;
            Ok(())
        })
    }

    /// The anchors of a role (`None`: every role) as (id, role code, certificate).
    pub fn trust_anchors(
        &self,
        role_code: Option<i64>,
    ) -> Result<Vec<(String, i64, Vec<u8>)>, StoreError> {
        self.with(|conn, keys| {
            let mut stmt = conn.prepare(
                "SELECT id, role, certificate FROM trust_anchors WHERE ?1 IS NULL OR role = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([role_code], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (id, role, sealed) = row?;
                let der = keys.open(TABLE, &id, "certificate", &sealed)?;
                out.push((id, role, der));
            }
            Ok(out)
        })
    }

    /// Deletes an anchor; false when there was none.
    pub fn delete_trust_anchor(&self, id: &str) -> Result<bool, StoreError> {
        self.with(|conn, _| Ok(conn.execute("DELETE FROM trust_anchors WHERE id = ?1", [id])? == 1))
    }
}
