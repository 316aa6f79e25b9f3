//! The channel each delivery name was first found to be: `/slack/post/channel/sales` keeps
//! posting to the channel `#sales` was when the first delivery came, so a channel renamed or
//! re-created under that name (perhaps by someone who wants the data) is not posted to until an
//! operator confirms it (`lookerbot jobs retry ID --repin`).

use async_trait::async_trait;

use super::{Millis, StoreError};

#[async_trait]
pub trait PinStore: Send + Sync {
    /// The channel `name` is pinned to: `channel` if it was not pinned before (it is now).
    async fn pin(&self, name: &str, channel: &str, now: Millis) -> Result<String, StoreError>;
    /// Forgets the pin of `name`; whether there was one.
    async fn unpin(&self, name: &str) -> Result<bool, StoreError>;
}

/// Both backends' statements, in SQLite's placeholders.
pub(super) mod sql {
    pub const PIN: &str =
        "INSERT INTO delivery_pins (name, channel, pinned_at) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING";
    pub const PINNED: &str = "SELECT channel FROM delivery_pins WHERE name = ?1";
    pub const UNPIN: &str = "DELETE FROM delivery_pins WHERE name = ?1";
}

/// The one implementation both backends share.
macro_rules! pin_store {
    ($store:ty, $read:ident, $write:ident, $sql:path) => {
        #[async_trait::async_trait]
        impl $crate::store::pins::PinStore for $store {
            async fn pin(
                &self,
                name: &str,
                channel: &str,
                now: $crate::store::Millis,
            ) -> Result<String, $crate::store::StoreError> {
                use sqlx::Row as _;
                use $crate::store::pins::sql;
                // Every delivery asks; only the first of a name writes.
                let pinned = sqlx::query(&$sql(sql::PINNED))
                    .bind(name)
                    .fetch_optional(&self.$read)
                    .await?;
                if let Some(row) = pinned {
                    return Ok(row.get("channel"));
                }
                sqlx::query(&$sql(sql::PIN))
                    .bind(name)
                    .bind(channel)
                    .bind(now)
                    .execute(&self.$write)
                    .await?;
                let row = sqlx::query(&$sql(sql::PINNED))
                    .bind(name)
                    .fetch_one(&self.$write)
                    .await?;
                Ok(row.get("channel"))
            }

            async fn unpin(&self, name: &str) -> Result<bool, $crate::store::StoreError> {
                let done = sqlx::query(&$sql($crate::store::pins::sql::UNPIN))
                    .bind(name)
                    .execute(&self.$write)
                    .await?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}
pub(super) use pin_store;
