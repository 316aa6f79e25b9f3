//! The embedded default: one SQLite file in WAL mode with full fsync, so a 200 means the job is on
//! disk. SQLite has one writer at a time, so all writes go through one connection (no lock
//! contention, no busy-wait sleeps) and concurrent enqueues are committed together: many
//! webhooks, one transaction, one fsync. Reads use their own pool. Several replicas need a
//! shared server database instead.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::{ClaimedJob, Enqueued, JobRecord, JobState, JobStore, Millis, NewJob, StoreError};

/// The most enqueues committed in one transaction.
const MAX_BATCH: usize = 256;

type EnqueueRequest = (NewJob, Millis, oneshot::Sender<Result<Enqueued, StoreError>>);

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    enqueues: mpsc::Sender<EnqueueRequest>,
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
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        let (enqueues, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(commit_enqueues(writer.clone(), queue));
        Ok(Self {
            writer,
            reader,
            enqueues,
        })
    }
}

/// Group commit: takes every enqueue waiting (up to `MAX_BATCH`) and writes them in one transaction.
async fn commit_enqueues(writer: SqlitePool, mut queue: mpsc::Receiver<EnqueueRequest>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcome: Result<Vec<Enqueued>, sqlx::Error> = async {
            let mut tx = writer.begin().await?;
            let mut results = Vec::with_capacity(batch.len());
            for (job, now, _) in &batch {
                results.push(insert_job(&mut tx, job, *now).await?);
            }
            tx.commit().await?;
            Ok(results)
        }
        .await;
        match outcome {
            Ok(results) => {
                for ((_, _, reply), result) in batch.drain(..).zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(error) => {
                let message = error.to_string();
                for (_, _, reply) in batch.drain(..) {
                    let _ = reply.send(Err(StoreError(sqlx::Error::Protocol(message.clone()))));
                }
            }
        }
    }
}

async fn insert_job(conn: &mut SqliteConnection, job: &NewJob, now: Millis) -> Result<Enqueued, sqlx::Error> {
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
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = inserted {
        return Ok(Enqueued::Created(id));
    }
    let existing: i64 = sqlx::query_scalar("SELECT id FROM jobs WHERE dedupe_key = ?1")
        .bind(&job.dedupe_key)
        .fetch_one(&mut *conn)
        .await?;
    Ok(Enqueued::Duplicate(existing))
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
        let (reply, answer) = oneshot::channel();
        let closed = || StoreError(sqlx::Error::PoolClosed);
        self.enqueues.send((job, now, reply)).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
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
        .fetch_optional(&self.writer)
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
        .execute(&self.writer)
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
        .execute(&self.writer)
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
        .execute(&self.writer)
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
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn list(&self, only_dead: bool, limit: u32) -> Result<Vec<JobRecord>, StoreError> {
        let filter = if only_dead { "state = 'dead'" } else { "state <> 'done'" };
        let rows = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM jobs WHERE {filter} ORDER BY id DESC LIMIT ?1"
        ))
        .bind(limit as i64)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.iter().map(record).collect())
    }

    async fn get(&self, id: i64) -> Result<Option<JobRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {RECORD_COLUMNS} FROM jobs WHERE id = ?1"))
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.as_ref().map(record))
    }

    async fn prune_done(&self, before: Millis) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM jobs WHERE state = 'done' AND updated_at < ?1")
            .bind(before)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
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
