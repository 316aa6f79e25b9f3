//! The embedded default: one SQLite file in WAL mode with full fsync, so a 200 means the job is on
//! disk. SQLite has one writer at a time, so all writes go through one connection (no lock
//! contention, no busy-wait sleeps) and concurrent enqueues are committed together: many
//! webhooks, one statement, one fsync. Reads use their own pool. Several replicas need a
//! shared server database instead.

use std::collections::{HashMap, HashSet};
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
        // The one writer connection never goes stale; a ping before each use would cost a round trip.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
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

/// Group commit: takes every enqueue waiting (up to `MAX_BATCH`) and writes them with one
/// statement in one transaction, so a batch costs a few round trips to SQLite's thread and one
/// fsync.
async fn commit_enqueues(writer: SqlitePool, mut queue: mpsc::Receiver<EnqueueRequest>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // One transaction: a batch whose answers cannot all be worked out is not kept at all, so
        // no caller is told "try again" for a job that is already stored.
        let outcome = async {
            let mut tx = writer.begin().await?;
            let results = insert_jobs(&mut tx, &batch).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(results)
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

/// Inserts a batch in one multi-row statement (atomic on its own) and says, for each job in
/// order, whether it was created or which earlier job holds its dedupe key.
///
/// `RETURNING` gives the new rows in no promised order: keyed rows are matched by key, and
/// keyless rows by id, because `AUTOINCREMENT` ids grow in the order the `VALUES` rows are
/// inserted.
async fn insert_jobs(conn: &mut SqliteConnection, batch: &[EnqueueRequest]) -> Result<Vec<Enqueued>, sqlx::Error> {
    let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "INSERT INTO jobs (kind, payload, summary, dedupe_key, max_attempts, run_after, created_at, updated_at) ",
    );
    insert.push_values(batch, |mut row, (job, now, _)| {
        row.push_bind(&job.kind)
            .push_bind(&job.payload)
            .push_bind(&job.summary)
            .push_bind(&job.dedupe_key)
            .push_bind(job.max_attempts as i64)
            .push_bind(*now + job.delay.as_millis() as i64)
            .push_bind(*now)
            .push_bind(*now);
    });
    insert.push(" ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key");
    let inserted: Vec<(i64, Option<String>)> = insert.build_query_as().fetch_all(&mut *conn).await?;

    let mut created_by_key = HashMap::new();
    let mut keyless = Vec::new();
    for (id, key) in inserted {
        match key {
            Some(key) => {
                created_by_key.insert(key, id);
            }
            None => keyless.push(id),
        }
    }
    keyless.sort_unstable();
    let mut keyless = keyless.into_iter();

    // Keys that were already in the table before this batch: one lookup, only when there are any.
    let earlier: Vec<&str> = batch
        .iter()
        .filter_map(|(job, _, _)| job.dedupe_key.as_deref())
        .filter(|key| !created_by_key.contains_key(*key))
        .collect();
    let mut existing_by_key = HashMap::new();
    if !earlier.is_empty() {
        let mut select =
            sqlx::QueryBuilder::<sqlx::Sqlite>::new("SELECT id, dedupe_key FROM jobs WHERE dedupe_key IN (");
        let mut keys = select.separated(", ");
        for key in &earlier {
            keys.push_bind(*key);
        }
        select.push(")");
        let rows: Vec<(i64, String)> = select.build_query_as().fetch_all(&mut *conn).await?;
        existing_by_key.extend(rows.into_iter().map(|(id, key)| (key, id)));
    }

    let mut claimed_in_batch = HashSet::new();
    batch
        .iter()
        .map(|(job, _, _)| match job.dedupe_key.as_deref() {
            None => keyless
                .next()
                .map(Enqueued::Created)
                .ok_or_else(|| sqlx::Error::Protocol("SQLite returned fewer rows than it inserted".into())),
            Some(key) => match created_by_key.get(key) {
                // The first job in the batch with a new key created it; later ones repeat it.
                Some(&id) if claimed_in_batch.insert(key) => Ok(Enqueued::Created(id)),
                Some(&id) => Ok(Enqueued::Duplicate(id)),
                None => existing_by_key
                    .get(key)
                    .map(|&id| Enqueued::Duplicate(id))
                    .ok_or_else(|| sqlx::Error::RowNotFound),
            },
        })
        .collect()
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

    async fn has_key(&self, dedupe_key: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM jobs WHERE dedupe_key = ?1")
            .bind(dedupe_key)
            .fetch_optional(&self.reader)
            .await?;
        Ok(found.is_some())
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
            delay: Duration::ZERO,
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
    async fn one_batch_answers_each_job_in_order() {
        let (_dir, store) = store().await;
        let Enqueued::Created(old) = store.enqueue(job(Some("old")), 1).await.unwrap() else {
            panic!("first should be created")
        };
        let jobs = [None, Some("new"), Some("old"), None, Some("new"), Some("other"), None];
        let batch: Vec<EnqueueRequest> = jobs
            .iter()
            .enumerate()
            .map(|(position, key)| {
                let mut job = job(*key);
                job.summary = format!("job {position}");
                (job, 2, oneshot::channel().0)
            })
            .collect();
        let mut conn = store.writer.acquire().await.unwrap();
        let results = insert_jobs(&mut conn, &batch).await.unwrap();
        let created: Vec<i64> = results
            .iter()
            .filter_map(|r| match r {
                Enqueued::Created(id) => Some(*id),
                Enqueued::Duplicate(_) => None,
            })
            .collect();
        assert_eq!(created.len(), 5, "{results:?}");
        assert!(
            created.windows(2).all(|w| w[0] < w[1]),
            "ids follow the batch order: {results:?}"
        );
        assert_eq!(results[2], Enqueued::Duplicate(old));
        assert_eq!(results[4], Enqueued::Duplicate(created[1]));
        // Every created id holds that very job, keyed or not.
        for (position, (result, key)) in results.iter().zip(jobs).enumerate() {
            if let Enqueued::Created(id) = result {
                let (summary, stored_key): (String, Option<String>) =
                    sqlx::query_as("SELECT summary, dedupe_key FROM jobs WHERE id = ?1")
                        .bind(id)
                        .fetch_one(&mut *conn)
                        .await
                        .unwrap();
                assert_eq!((summary, stored_key.as_deref()), (format!("job {position}"), key));
            }
        }
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
