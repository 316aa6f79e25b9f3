//! What is kept sealed (linked accounts' tokens, secrets in job payloads), listed and swapped so
//! that `lookerbot identity rekey` can seal it again under the keyring's first key.

use async_trait::async_trait;

use super::StoreError;
use super::people::LinkRecord;

#[async_trait]
pub trait SealedRows: Send + Sync {
    /// Every linked Looker account.
    async fn all_links(&self) -> Result<Vec<LinkRecord>, StoreError>;
    /// Up to `limit` jobs (any state) with ids above `after`, in id order, with their payloads.
    async fn payloads(&self, after: i64, limit: u32) -> Result<Vec<(i64, String)>, StoreError>;
    /// Replaces a job's payload if it is still `old` (a worker may have finished it meanwhile);
    /// whether it was replaced.
    async fn swap_payload(&self, id: i64, old: &str, new: &str) -> Result<bool, StoreError>;
}

/// Both backends' statements, in SQLite's placeholders.
pub(super) mod sql {
    pub const ALL_LINKS: &str =
        "SELECT looker, team, slack_user, looker_user, sealed, linked_at, updated_at FROM looker_links";
    pub const PAYLOADS: &str = "SELECT id, payload FROM jobs WHERE id > ?1 ORDER BY id LIMIT ?2";
    pub const SWAP_PAYLOAD: &str = "UPDATE jobs SET payload = ?3 WHERE id = ?1 AND payload = ?2";
}

/// The one implementation both backends share.
macro_rules! sealed_rows {
    ($store:ty, $write:ident, $sql:path) => {
        #[async_trait::async_trait]
        impl $crate::store::sealed::SealedRows for $store {
            async fn all_links(&self) -> Result<Vec<$crate::store::people::LinkRecord>, $crate::store::StoreError> {
                let rows = sqlx::query(&$sql($crate::store::sealed::sql::ALL_LINKS))
                    .fetch_all(&self.$write)
                    .await?;
                // The backend's own reading of a link row (`people_rows!`, in the same module).
                Ok(rows.iter().map(link_record).collect())
            }

            async fn payloads(&self, after: i64, limit: u32) -> Result<Vec<(i64, String)>, $crate::store::StoreError> {
                use sqlx::Row as _;
                let rows = sqlx::query(&$sql($crate::store::sealed::sql::PAYLOADS))
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.$write)
                    .await?;
                Ok(rows.iter().map(|r| (r.get("id"), r.get("payload"))).collect())
            }

            async fn swap_payload(&self, id: i64, old: &str, new: &str) -> Result<bool, $crate::store::StoreError> {
                let done = sqlx::query(&$sql($crate::store::sealed::sql::SWAP_PAYLOAD))
                    .bind(id)
                    .bind(old)
                    .bind(new)
                    .execute(&self.$write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}
pub(super) use sealed_rows;
