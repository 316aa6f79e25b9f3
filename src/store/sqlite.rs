//! The embedded default: one SQLite file in WAL mode with full fsync, so a 200 means the job is on
//! disk. Several replicas need a shared server database instead.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};

use super::{ClaimedJob, Enqueued, JobRecord, JobState, JobStore, Millis, NewJob, StoreError};

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    pub async fn connect(database_url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(database_url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        if let Some(parent) = options.get_filename().parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

const RECORD_COLUMNS: &str =
    "id, kind, summary, state, attempts, max_attempts, run_after, last_error, created_at, updated_at";

fn record(row: &SqliteRow) -> JobRecord {
    JobRecord {
        id: row.get("id"),
        kind: row.get("kind"),
        summary: row.get("summary"),
        state: JobState::parse(row.get::<String, _>("state").as_str()),
        attempts: row.get::<i64, _>("attempts") as u32,
        max_attempts: row.get::<i64, _>("max_attempts") as u32,
        run_after: row.get("run_after"),
        last_error: row.get("last_error"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
    }
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn enqueue(&self, job: NewJob, now: Millis) -> Result<Enqueued, StoreError> {
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, summary, dedupe_key, max_attempts, run_after, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6)
             ON CONFLICT (dedupe_key) DO NOTHING
             RETURNING id",
        )
        .bind(&job.kind)
        .bind(&job.payload)
        .bind(&job.summary)
        .bind(&job.dedupe_key)
        .bind(job.max_attempts as i64)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(id) = inserted {
            return Ok(Enqueued::Created(id));
        }
        let existing: i64 = sqlx::query_scalar("SELECT id FROM jobs WHERE dedupe_key = ?1")
            .bind(&job.dedupe_key)
            .fetch_one(&self.pool)
            .await?;
        Ok(Enqueued::Duplicate(existing))
    }

    async fn claim(&self, owner: &str, now: Millis, lease: Duration) -> Result<Option<ClaimedJob>, StoreError> {
        let row = sqlx::query(
            "UPDATE jobs
             SET state = 'running', attempts = attempts + 1, lease_owner = ?1, lease_until = ?2, updated_at = ?3
             WHERE id = (
                 SELECT id FROM jobs
                 WHERE (state = 'queued' AND run_after <= ?3) OR (state = 'running' AND lease_until < ?3)
                 ORDER BY run_after, id
                 LIMIT 1
             )
             RETURNING id, kind, payload, summary, attempts, max_attempts",
        )
        .bind(owner)
        .bind(now + lease.as_millis() as i64)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| ClaimedJob {
            id: row.get("id"),
            kind: row.get("kind"),
            payload: row.get("payload"),
            summary: row.get("summary"),
            attempts: row.get::<i64, _>("attempts") as u32,
            max_attempts: row.get::<i64, _>("max_attempts") as u32,
        }))
    }

    async fn complete(&self, id: i64, owner: &str, now: Millis) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = NULL, updated_at = ?3
             WHERE id = ?1 AND lease_owner = ?2",
        )
        .bind(id)
        .bind(owner)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn retry_at(
        &self,
        id: i64,
        owner: &str,
        run_after: Millis,
        error: &str,
        now: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET state = 'queued', run_after = ?3, last_error = ?4, lease_owner = NULL, lease_until = NULL,
                 updated_at = ?5
             WHERE id = ?1 AND lease_owner = ?2",
        )
        .bind(id)
        .bind(owner)
        .bind(run_after)
        .bind(error)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn bury(&self, id: i64, owner: &str, error: &str, now: Millis) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET state = 'dead', last_error = ?3, lease_owner = NULL, lease_until = NULL, updated_at = ?4
             WHERE id = ?1 AND lease_owner = ?2",
        )
        .bind(id)
        .bind(owner)
        .bind(error)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn release(&self, id: i64, owner: &str, now: Millis) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET state = 'queued', run_after = ?3, attempts = MAX(attempts - 1, 0), lease_owner = NULL,
                 lease_until = NULL, updated_at = ?3
             WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'",
        )
        .bind(id)
        .bind(owner)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list(&self, only_dead: bool, limit: u32) -> Result<Vec<JobRecord>, StoreError> {
        let filter = if only_dead { "state = 'dead'" } else { "state <> 'done'" };
        let rows = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM jobs WHERE {filter} ORDER BY id DESC LIMIT ?1"
        ))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(record).collect())
    }

    async fn get(&self, id: i64) -> Result<Option<JobRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {RECORD_COLUMNS} FROM jobs WHERE id = ?1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(record))
    }

    async fn prune_done(&self, before: Millis) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM jobs WHERE state = 'done' AND updated_at < ?1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/jobs.db", dir.path().display());
        let store = SqliteStore::connect(&url).await.unwrap();
        (dir, store)
    }

    fn job(key: Option<&str>) -> NewJob {
        NewJob {
            kind: "test".into(),
            payload: "{}".into(),
            summary: "a test job".into(),
            dedupe_key: key.map(str::to_string),
            max_attempts: 3,
        }
    }

    #[tokio::test]
    async fn dedupe_keys_make_one_job() {
        let (_dir, store) = store().await;
        let first = store.enqueue(job(Some("k")), 1).await.unwrap();
        let second = store.enqueue(job(Some("k")), 2).await.unwrap();
        let Enqueued::Created(id) = first else {
            panic!("first should be created")
        };
        assert_eq!(second, Enqueued::Duplicate(id));
        // Jobs without a key never collide.
        assert!(matches!(
            store.enqueue(job(None), 3).await.unwrap(),
            Enqueued::Created(_)
        ));
        assert!(matches!(
            store.enqueue(job(None), 3).await.unwrap(),
            Enqueued::Created(_)
        ));
    }

    #[tokio::test]
    async fn a_claimed_job_is_invisible_until_its_lease_expires() {
        let (_dir, store) = store().await;
        store.enqueue(job(None), 100).await.unwrap();
        let lease = Duration::from_millis(1000);
        let claimed = store.claim("a", 100, lease).await.unwrap().unwrap();
        assert_eq!(claimed.attempts, 1);
        assert!(store.claim("b", 500, lease).await.unwrap().is_none());
        // The owner died: after the lease another worker takes it over, attempts counted.
        let taken = store.claim("b", 1101, lease).await.unwrap().unwrap();
        assert_eq!((taken.id, taken.attempts), (claimed.id, 2));
        // The old owner can no longer finish it.
        store.complete(claimed.id, "a", 1200).await.unwrap();
        assert_eq!(store.get(claimed.id).await.unwrap().unwrap().state, JobState::Running);
        store.complete(claimed.id, "b", 1200).await.unwrap();
        assert_eq!(store.get(claimed.id).await.unwrap().unwrap().state, JobState::Done);
    }

    #[tokio::test]
    async fn retries_wait_for_their_time_and_dead_jobs_stay_listed() {
        let (_dir, store) = store().await;
        store.enqueue(job(None), 0).await.unwrap();
        let lease = Duration::from_secs(60);
        let claimed = store.claim("w", 0, lease).await.unwrap().unwrap();
        store
            .retry_at(claimed.id, "w", 5000, "Slack answered 500", 10)
            .await
            .unwrap();
        assert!(store.claim("w", 4999, lease).await.unwrap().is_none());
        let again = store.claim("w", 5000, lease).await.unwrap().unwrap();
        store.bury(again.id, "w", "channel_not_found", 5001).await.unwrap();
        let dead = store.list(true, 10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].last_error.as_deref(), Some("channel_not_found"));
        assert_eq!(dead[0].attempts, 2);
        assert_eq!(store.prune_done(i64::MAX).await.unwrap(), 0, "dead jobs are kept");
    }

    #[tokio::test]
    async fn a_released_job_runs_again_at_once_without_losing_an_attempt() {
        let (_dir, store) = store().await;
        store.enqueue(job(None), 0).await.unwrap();
        let claimed = store.claim("w", 0, Duration::from_secs(60)).await.unwrap().unwrap();
        store.release(claimed.id, "w", 10).await.unwrap();
        let again = store.claim("v", 10, Duration::from_secs(60)).await.unwrap().unwrap();
        assert_eq!(again.attempts, 1);
    }
}
