//! Slack's pace kept in the store, for replicas that share one: every replica reserves its
//! posts' turns in the same table, so two replicas posting to one channel keep one pace.

use std::sync::Arc;

use async_trait::async_trait;

use crate::clients::slack::{Millis, PaceBook};
use crate::store::JobStore;

pub struct StorePaces(pub Arc<dyn JobStore>);

#[async_trait]
impl PaceBook for StorePaces {
    async fn reserve(
        &self,
        key: &str,
        now: Millis,
        interval: Millis,
        burst: u32,
        latest: Millis,
    ) -> Result<Option<Millis>, String> {
        let reserved = self.0.reserve_pace(key, now, interval, burst, latest).await;
        reserved.map_err(|e| e.to_string())
    }

    async fn hold(&self, key: &str, tat: Millis) -> Result<(), String> {
        self.0.hold_pace(key, tat).await.map_err(|e| e.to_string())
    }

    async fn peek(&self, key: &str) -> Result<Option<Millis>, String> {
        self.0.peek_pace(key).await.map_err(|e| e.to_string())
    }
}
