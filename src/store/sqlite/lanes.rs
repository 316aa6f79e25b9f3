//! Claiming work fairly (most urgent first, skipping lanes already at their cap), what a running
//! job waits for and how it ends, and paces kept in the database.

use std::time::Duration;

use sqlx::Row;

use super::{SqliteStore, writer};
use crate::store::{ClaimedJob, Millis, StoreError};

/// Claims the job to run (`?1` owner, `?2` lease end, `?3` now, `?4` the busy lanes as a JSON
/// list): the most urgent among the first due job of each lane with room and of no lane (each
/// found by one index seek, the lanes listed by skipping through the index) and any job whose
/// worker's lease ran out. Sorting every due job instead cost milliseconds a claim with thousands
/// queued, all of it the one writer's time.
const CLAIM: &str = "
    UPDATE jobs
    SET state = 'running', attempts = attempts + 1, lease_owner = ?1, lease_until = ?2, updated_at = ?3,
        waiting = NULL
    WHERE id = (
    WITH RECURSIVE lanes(lane) AS (
        SELECT (SELECT MIN(lane) FROM jobs WHERE state = 'queued')
        UNION ALL
        SELECT (SELECT MIN(j.lane) FROM jobs j WHERE j.state = 'queued' AND j.lane > lanes.lane)
        FROM lanes WHERE lanes.lane IS NOT NULL
    ), candidates(id) AS (
        SELECT (SELECT id FROM jobs WHERE state = 'queued' AND lane IS NULL AND run_after <= ?3
                ORDER BY priority, run_after, id LIMIT 1)
        UNION ALL
        SELECT (SELECT j.id FROM jobs j WHERE j.state = 'queued' AND j.lane = lanes.lane AND j.run_after <= ?3
                ORDER BY j.priority, j.run_after, j.id LIMIT 1)
        FROM lanes WHERE lanes.lane IS NOT NULL AND lanes.lane NOT IN (SELECT value FROM json_each(?4))
        UNION ALL
        SELECT id FROM jobs WHERE state = 'running' AND lease_until < ?3
          AND (lane IS NULL OR lane NOT IN (SELECT value FROM json_each(?4)))
    )
    SELECT jobs.id FROM candidates JOIN jobs ON jobs.id = candidates.id
    ORDER BY jobs.priority, jobs.run_after, jobs.id LIMIT 1)
    RETURNING id, kind, payload, summary, attempts, max_attempts, progress, created_at, lane";

impl SqliteStore {
    pub(super) async fn claim_job(
        &self,
        owner: &str,
        now: Millis,
        lease: Duration,
        busy_lanes: &[String],
    ) -> Result<Option<ClaimedJob>, StoreError> {
        let busy = serde_json::to_string(busy_lanes).map_err(|e| StoreError::new(e.to_string()))?;
        let (owner, until) = (owner.to_string(), now + lease.as_millis() as i64);
        let row = writer::bookkeep(&self.ops, move |conn| {
            Box::pin(async move {
                let query = sqlx::query(CLAIM).bind(owner).bind(until).bind(now).bind(busy);
                query.fetch_optional(conn).await
            })
        })
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
        let (owner, waiting) = (owner.to_string(), waiting.to_string());
        writer::bookkeep(&self.ops, move |conn| {
            Box::pin(async move {
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
                .execute(conn)
                .await
            })
        })
        .await?;
        Ok(())
    }

    pub(super) async fn set_waiting(&self, id: i64, owner: &str, waiting: Option<&str>) -> Result<(), StoreError> {
        let (owner, waiting) = (owner.to_string(), waiting.map(str::to_string));
        writer::bookkeep(&self.ops, move |conn| {
            Box::pin(async move {
                sqlx::query("UPDATE jobs SET waiting = ?3 WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'")
                    .bind(id)
                    .bind(owner)
                    .bind(waiting)
                    .execute(conn)
                    .await
            })
        })
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

/// A value bound into a statement.
pub(super) enum Param {
    Int(i64),
    Text(String),
}

impl SqliteStore {
    /// Changes a running job this worker still holds: `set` with `params` bound from `?3` (the
    /// first is always the time of the change), and with `ends_lease` the lease given up. The
    /// rows changed: 0 when the job is no longer this worker's.
    pub(super) async fn update_held(
        &self,
        id: i64,
        owner: &str,
        set: &str,
        params: Vec<Param>,
        ends_lease: bool,
    ) -> Result<u64, StoreError> {
        // A job ends its lease when it finishes; while it goes on, it must still hold it.
        let (lease, held) = if ends_lease {
            (", lease_owner = NULL, lease_until = NULL, waiting = NULL", "")
        } else {
            ("", " AND lease_until >= ?3")
        };
        let sql = format!(
            "UPDATE jobs SET {set}{lease}, updated_at = ?3 WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'{held}"
        );
        let owner = owner.to_string();
        writer::bookkeep(&self.ops, move |conn| {
            Box::pin(async move {
                let mut query = sqlx::query(&sql).bind(id).bind(owner);
                for param in params {
                    query = match param {
                        Param::Int(n) => query.bind(n),
                        Param::Text(text) => query.bind(text),
                    };
                }
                Ok(query.execute(conn).await?.rows_affected())
            })
        })
        .await
    }
}
