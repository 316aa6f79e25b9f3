//! Claiming work fairly (most urgent first, skipping lanes already at their cap), what a running
//! job waits for, and paces kept in the database.

use std::time::Duration;

use sqlx::Row;

use super::SqliteStore;
use crate::store::{ClaimedJob, Millis, StoreError};

impl SqliteStore {
    pub(super) async fn claim_job(
        &self,
        owner: &str,
        now: Millis,
        lease: Duration,
        busy_lanes: &[String],
    ) -> Result<Option<ClaimedJob>, StoreError> {
        let busy = serde_json::to_string(busy_lanes).map_err(|e| StoreError::new(e.to_string()))?;
        let row = sqlx::query(
            "UPDATE jobs
             SET state = 'running', attempts = attempts + 1, lease_owner = ?1, lease_until = ?2, updated_at = ?3,
                 waiting = NULL
             WHERE id = (
                 SELECT id FROM jobs
                 WHERE ((state = 'queued' AND run_after <= ?3) OR (state = 'running' AND lease_until < ?3))
                   AND (lane IS NULL OR lane NOT IN (SELECT value FROM json_each(?4)))
                 ORDER BY priority, run_after, id
                 LIMIT 1
             )
             RETURNING id, kind, payload, summary, attempts, max_attempts, progress, created_at, lane",
        )
        .bind(owner)
        .bind(now + lease.as_millis() as i64)
        .bind(now)
        .bind(busy)
        .fetch_optional(&self.writer)
        .await?;
        Ok(row.map(|row| ClaimedJob {
            id: row.get("id"),
            kind: row.get("kind"),
            payload: row.get("payload"),
            summary: row.get("summary"),
            attempts: row.get::<i64, _>("attempts") as u32,
            max_attempts: row.get::<i64, _>("max_attempts") as u32,
            progress: row.get("progress"),
            created_at: row.get("created_at"),
            lane: row.get("lane"),
        }))
    }

    pub(super) async fn defer_job(
        &self,
        id: i64,
        owner: &str,
        at: Millis,
        waiting: &str,
        now: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET state = 'queued', run_after = ?3, attempts = attempts - 1, waiting = ?4,
                 lease_owner = NULL, lease_until = NULL, updated_at = ?5
             WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'",
        )
        .bind(id)
        .bind(owner)
        .bind(at)
        .bind(waiting)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub(super) async fn set_waiting(&self, id: i64, owner: &str, waiting: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE jobs SET waiting = ?3 WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'")
            .bind(id)
            .bind(owner)
            .bind(waiting)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub(super) async fn reserve(
        &self,
        key: &str,
        now: Millis,
        interval: Millis,
        burst: u32,
        latest: Millis,
    ) -> Result<Option<Millis>, StoreError> {
        let tat = sqlx::query_scalar(
            "INSERT INTO paces (key, tat) SELECT ?1, ?2 + ?3 WHERE ?2 + ?3 - ?3 * ?4 <= ?5
             ON CONFLICT (key) DO UPDATE SET tat = MAX(paces.tat, ?2) + ?3
             WHERE MAX(paces.tat, ?2) + ?3 - ?3 * ?4 <= ?5
             RETURNING tat",
        )
        .bind(key)
        .bind(now)
        .bind(interval)
        .bind(burst as i64)
        .bind(latest)
        .fetch_optional(&self.writer)
        .await?;
        Ok(tat)
    }

    pub(super) async fn peek(&self, key: &str) -> Result<Option<Millis>, StoreError> {
        let tat = sqlx::query_scalar("SELECT tat FROM paces WHERE key = ?1")
            .bind(key)
            .fetch_optional(&self.reader)
            .await?;
        Ok(tat)
    }

    pub(super) async fn hold(&self, key: &str, tat: Millis) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO paces (key, tat) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET tat = MAX(paces.tat, ?2)",
        )
        .bind(key)
        .bind(tat)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
