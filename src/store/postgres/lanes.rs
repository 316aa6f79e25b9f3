//! Claiming work fairly (most urgent first, skipping lanes already at their cap, never a job
//! another replica is claiming), what a running job waits for, and Slack's pace shared by every
//! replica: one atomic upsert reserves the next call, so N replicas keep one channel's pace.

use std::time::Duration;

use sqlx::Row;

use super::PostgresStore;
use crate::store::{ClaimedJob, Millis, StoreError};

/// Claims the job to run (`$1` owner, `$2` lease end, `$3` now, `$4` the busy lanes): the most
/// urgent among the first few due jobs of each lane with room and of no lane (each found by one
/// index seek, the lanes listed by skipping through the index) and any job whose worker's lease
/// ran out, skipping those another replica is claiming at this moment. Sorting every due job
/// instead cost milliseconds a claim with thousands queued.
const CLAIM: &str = "
    UPDATE jobs
    SET state = 'running', attempts = attempts + 1, lease_owner = $1, lease_until = $2, updated_at = $3,
        waiting = NULL
    WHERE id = (
        SELECT id FROM jobs WHERE id = ANY(ARRAY(
            WITH RECURSIVE lanes(lane) AS (
                (SELECT lane FROM jobs WHERE state = 'queued' AND lane IS NOT NULL ORDER BY lane LIMIT 1)
                UNION ALL
                SELECT (SELECT j.lane FROM jobs j WHERE j.state = 'queued' AND j.lane > lanes.lane ORDER BY j.lane LIMIT 1)
                FROM lanes WHERE lanes.lane IS NOT NULL
            )
            (SELECT id FROM jobs WHERE state = 'queued' AND lane IS NULL AND run_after <= $3
             ORDER BY priority, run_after, id LIMIT 8)
            UNION ALL
            SELECT c.id FROM lanes
            CROSS JOIN LATERAL (SELECT id FROM jobs j WHERE j.state = 'queued' AND j.lane = lanes.lane
                AND j.run_after <= $3 ORDER BY j.priority, j.run_after, j.id LIMIT 8) c
            WHERE lanes.lane IS NOT NULL AND NOT (lanes.lane = ANY($4))
            UNION ALL
            (SELECT id FROM jobs WHERE state = 'running' AND lease_until < $3
               AND (lane IS NULL OR NOT (lane = ANY($4))) ORDER BY priority, run_after, id LIMIT 8)
        ))
        AND ((state = 'queued' AND run_after <= $3) OR (state = 'running' AND lease_until < $3))
        ORDER BY priority, run_after, id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id, kind, payload, summary, attempts, max_attempts, progress, created_at, lane";

impl PostgresStore {
    pub(super) async fn claim_job(
        &self,
        owner: &str,
        now: Millis,
        lease: Duration,
        busy_lanes: &[String],
    ) -> Result<Option<ClaimedJob>, StoreError> {
        let row = sqlx::query(CLAIM)
            .bind(owner)
            .bind(now + lease.as_millis() as i64)
            .bind(now)
            .bind(busy_lanes)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| ClaimedJob {
            id: row.get("id"),
            kind: row.get("kind"),
            payload: row.get("payload"),
            summary: row.get("summary"),
            attempts: row.get::<i32, _>("attempts") as u32,
            max_attempts: row.get::<i32, _>("max_attempts") as u32,
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
            "UPDATE jobs SET state = 'queued', run_after = $3, attempts = attempts - 1, waiting = $4,
                 lease_owner = NULL, lease_until = NULL, updated_at = $5
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(owner)
        .bind(at)
        .bind(waiting)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn set_waiting(&self, id: i64, owner: &str, waiting: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE jobs SET waiting = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'")
            .bind(id)
            .bind(owner)
            .bind(waiting)
            .execute(&self.pool)
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
            "INSERT INTO paces (key, tat) SELECT $1, $2 + $3 WHERE $2 + $3 - $3 * $4 <= $5
             ON CONFLICT (key) DO UPDATE SET tat = GREATEST(paces.tat, $2) + $3
             WHERE GREATEST(paces.tat, $2) + $3 - $3 * $4 <= $5
             RETURNING tat",
        )
        .bind(key)
        .bind(now)
        .bind(interval)
        .bind(burst as i64)
        .bind(latest)
        .fetch_optional(&self.pool)
        .await?;
        Ok(tat)
    }

    pub(super) async fn peek(&self, key: &str) -> Result<Option<Millis>, StoreError> {
        let tat = sqlx::query_scalar("SELECT tat FROM paces WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(tat)
    }

    pub(super) async fn hold(&self, key: &str, tat: Millis) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO paces (key, tat) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET tat = GREATEST(paces.tat, $2)",
        )
        .bind(key)
        .bind(tat)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
