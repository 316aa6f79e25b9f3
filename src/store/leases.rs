//! How a running job's lease outlives nothing: a worker renews a short lease while the job runs
//! (a heartbeat), so a replica that dies holds its jobs for seconds, not for the job's whole
//! allowed run time; and a one-server store (SQLite) takes back every lease when it starts, since
//! whoever held them is gone.

use async_trait::async_trait;

use super::{Millis, StoreError};

#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Extends the lease `owner` holds on a running job to `until`; `false` when it no longer
    /// holds it (it ran out and another worker took the job).
    async fn renew(&self, id: i64, owner: &str, until: Millis) -> Result<bool, StoreError>;
    /// Puts every running job back in the queue, due at `now`: for a store only this process
    /// uses, at its start. How many.
    async fn take_back_all(&self, now: Millis) -> Result<u64, StoreError>;
}

/// Both backends' statements, in SQLite's placeholders.
pub(super) mod sql {
    pub const RENEW: &str = "UPDATE jobs SET lease_until = ?3 WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'";
    pub const TAKE_BACK_ALL: &str = "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL,
         run_after = ?1, updated_at = ?1 WHERE state = 'running'";
}

/// The one implementation both backends share.
macro_rules! lease_store {
    ($store:ty, $write:ident, $sql:path) => {
        #[async_trait::async_trait]
        impl $crate::store::leases::LeaseStore for $store {
            async fn renew(
                &self,
                id: i64,
                owner: &str,
                until: $crate::store::Millis,
            ) -> Result<bool, $crate::store::StoreError> {
                let done = sqlx::query(&$sql($crate::store::leases::sql::RENEW))
                    .bind(id)
                    .bind(owner)
                    .bind(until)
                    .execute(&self.$write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn take_back_all(&self, now: $crate::store::Millis) -> Result<u64, $crate::store::StoreError> {
                let done = sqlx::query(&$sql($crate::store::leases::sql::TAKE_BACK_ALL))
                    .bind(now)
                    .execute(&self.$write)
                    .await?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(super) use lease_store;
