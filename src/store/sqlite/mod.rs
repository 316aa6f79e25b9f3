//! The embedded default: one SQLite file in WAL mode with full fsync (a 200 means the job is on
//! disk). One task writes what the intake and the workers ask for, in batches (see `writer`). All writes go through one connection (SQLite has one writer) and concurrent enqueues are
//! committed together: many webhooks, one statement, one fsync. Reads use their own pool.

mod enqueue;
mod files;
mod lanes;
mod lock;
mod notify;
mod people;
mod probe;
#[cfg(test)]
mod tests;
mod writer;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use tokio::sync::{mpsc, oneshot};

use super::{
    ClaimedJob, DataActionRecord, Enqueued, JobDetail, JobRecord, JobState, JobStore, Millis, NewJob, StoreError,
};
use enqueue::MAX_BATCH;
use lanes::Param;
pub use lock::lock_for_server;
pub(super) use probe::probe;

static MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");

type EnqueueRequest = super::batch::Waiting<NewJob, Enqueued>;

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    enqueues: mpsc::Sender<EnqueueRequest>,
    /// The workers' bookkeeping, committed by the writer task after the enqueues.
    ops: mpsc::Sender<writer::Op>,
    files: mpsc::Sender<files::FileRequest>,
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
        MIGRATIONS.run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        let (enqueues, queue) = mpsc::channel(4 * MAX_BATCH);
        let (ops, bookkeeping) = mpsc::channel(4 * writer::MAX_OPS);
        tokio::spawn(writer::run(writer.clone(), queue, bookkeeping));
        let (files, waiting) = mpsc::channel(files::MAX_FILES);
        tokio::spawn(files::commit_files(writer.clone(), waiting));
        Ok(Self {
            writer,
            reader,
            enqueues,
            ops,
            files,
        })
    }

    /// Opens an existing database for reading only: nothing is created, migrated or written
    /// (`lookerbot jobs`). Writes fail.
    pub async fn open_read_only(database_url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(database_url)?
            .create_if_missing(false)
            .read_only(true);
        let reader = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        // No writer task runs: an enqueue finds the channel closed.
        let (enqueues, _) = mpsc::channel(1);
        let (ops, _) = mpsc::channel(1);
        let (files, _) = mpsc::channel(1);
        Ok(Self {
            writer: reader.clone(),
            reader,
            enqueues,
            ops,
            files,
        })
    }
}

const RECORD_COLUMNS: &str =
    "id, kind, summary, state, attempts, max_attempts, run_after, last_error, created_at, updated_at, lane, waiting";

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
        lane: row.get("lane"),
        waiting: row.get("waiting"),
    }
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn enqueue(&self, job: NewJob, now: Millis) -> Result<Enqueued, StoreError> {
        let (reply, answer) = oneshot::channel();
        let closed = || StoreError::new("the database writer has stopped");
        self.enqueues.send((job, now, reply)).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    async fn claim(
        &self,
        owner: &str,
        now: Millis,
        lease: Duration,
        busy_lanes: &[String],
    ) -> Result<Option<ClaimedJob>, StoreError> {
        self.claim_job(owner, now, lease, busy_lanes).await
    }

    async fn note_wait(&self, id: i64, owner: &str, waiting: Option<&str>) -> Result<(), StoreError> {
        self.set_waiting(id, owner, waiting).await
    }

    async fn reserve_pace(
        &self,
        key: &str,
        now: Millis,
        interval: Millis,
        burst: u32,
        latest: Millis,
    ) -> Result<Option<Millis>, StoreError> {
        self.reserve(key, now, interval, burst, latest).await
    }

    async fn peek_pace(&self, key: &str) -> Result<Option<Millis>, StoreError> {
        self.peek(key).await
    }

    async fn hold_pace(&self, key: &str, tat: Millis) -> Result<(), StoreError> {
        self.hold(key, tat).await
    }

    async fn complete(&self, id: i64, owner: &str, now: Millis) -> Result<(), StoreError> {
        self.update_held(id, owner, "state = 'done'", vec![Param::Int(now)], true)
            .await?;
        Ok(())
    }

    async fn retry_at(&self, id: i64, owner: &str, at: Millis, error: &str, now: Millis) -> Result<(), StoreError> {
        let set = "state = 'queued', run_after = ?4, last_error = ?5";
        let params = vec![Param::Int(now), Param::Int(at), Param::Text(error.into())];
        self.update_held(id, owner, set, params, true).await?;
        Ok(())
    }

    async fn defer(&self, id: i64, owner: &str, at: Millis, waiting: &str, now: Millis) -> Result<(), StoreError> {
        self.defer_job(id, owner, at, waiting, now).await
    }

    async fn bury(&self, id: i64, owner: &str, error: &str, now: Millis) -> Result<(), StoreError> {
        let params = vec![Param::Int(now), Param::Text(error.into())];
        self.update_held(id, owner, "state = 'dead', last_error = ?4", params, true)
            .await?;
        Ok(())
    }

    async fn save_progress(&self, id: i64, owner: &str, progress: &str, now: Millis) -> Result<bool, StoreError> {
        let params = vec![Param::Int(now), Param::Text(progress.into())];
        let saved = self.update_held(id, owner, "progress = ?4", params, false).await?;
        Ok(saved == 1)
    }

    async fn release(&self, id: i64, owner: &str, now: Millis) -> Result<(), StoreError> {
        let set = "state = 'queued', run_after = ?3, attempts = MAX(attempts - 1, 0)";
        self.update_held(id, owner, set, vec![Param::Int(now)], true).await?;
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

    async fn job_detail(&self, id: i64) -> Result<Option<JobDetail>, StoreError> {
        let sql = format!("SELECT {RECORD_COLUMNS}, payload, progress FROM jobs WHERE id = ?1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.reader).await?;
        Ok(row.map(|row| JobDetail {
            record: record(&row),
            payload: row.get("payload"),
            progress: row.get("progress"),
        }))
    }

    fn notify(&self) -> &dyn crate::store::notify::NotifyStore {
        self
    }

    fn people(&self) -> &dyn crate::store::people::PeopleStore {
        self
    }

    fn pins(&self) -> &dyn crate::store::pins::PinStore {
        self
    }

    async fn get(&self, id: i64) -> Result<Option<JobRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {RECORD_COLUMNS} FROM jobs WHERE id = ?1"))
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.as_ref().map(record))
    }

    async fn revive(&self, id: Option<i64>, now: Millis) -> Result<u64, StoreError> {
        let revived = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_after = ?1, lease_owner = NULL, lease_until = NULL,
             alerted_at = NULL, updated_at = ?1 WHERE state = 'dead' AND (?2 IS NULL OR id = ?2)",
        )
        .bind(now)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(revived.rows_affected())
    }

    async fn unalerted_dead(&self, kinds: &[&str], limit: u32) -> Result<Vec<JobRecord>, StoreError> {
        let mut select = sqlx::QueryBuilder::<sqlx::Sqlite>::new(format!(
            "SELECT {RECORD_COLUMNS} FROM jobs WHERE state = 'dead' AND alerted_at IS NULL AND kind IN ("
        ));
        let mut separated = select.separated(", ");
        for kind in kinds {
            separated.push_bind(*kind);
        }
        select.push(") ORDER BY id LIMIT ").push_bind(limit as i64);
        let rows = select.build().fetch_all(&self.reader).await?;
        Ok(rows.iter().map(record).collect())
    }

    async fn mark_alerted(&self, ids: &[i64], now: Millis) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut update = sqlx::QueryBuilder::<sqlx::Sqlite>::new("UPDATE jobs SET alerted_at = ");
        update.push_bind(now).push(" WHERE id IN (");
        let mut separated = update.separated(", ");
        for id in ids {
            separated.push_bind(*id);
        }
        update.push(")");
        update.build().execute(&self.writer).await?;
        Ok(())
    }

    async fn counts(&self) -> Result<Vec<(String, JobState, u64)>, StoreError> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT kind, state, COUNT(*) FROM jobs WHERE state <> 'done' GROUP BY kind, state")
                .fetch_all(&self.reader)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(kind, state, n)| (kind, JobState::parse(&state), n as u64))
            .collect())
    }

    async fn drop_dead(&self, id: i64) -> Result<bool, StoreError> {
        let dropped = sqlx::query("DELETE FROM jobs WHERE id = ?1 AND state = 'dead'")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(dropped.rows_affected() == 1)
    }

    async fn prune_finished(&self, before: Millis) -> Result<u64, StoreError> {
        self.prune_before(before).await
    }

    fn sealed(&self) -> &dyn crate::store::sealed::SealedRows {
        self
    }

    fn leases(&self) -> &dyn crate::store::leases::LeaseStore {
        self
    }

    async fn put_file(&self, bytes: Vec<u8>, now: Millis) -> Result<i64, StoreError> {
        self.put_whole_file(bytes, now).await
    }

    async fn get_file(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        self.whole_file(id).await
    }

    async fn begin_file(&self, now: Millis) -> Result<i64, StoreError> {
        self.new_file(now).await
    }

    async fn append_chunk(&self, id: i64, seq: u32, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.add_chunk(id, seq, bytes).await
    }

    async fn file_chunk(&self, id: i64, seq: u32) -> Result<Option<Vec<u8>>, StoreError> {
        self.chunk_of(id, seq).await
    }

    async fn file_length(&self, id: i64) -> Result<Option<u64>, StoreError> {
        self.length_of(id).await
    }

    async fn forget_file(&self, id: i64) -> Result<(), StoreError> {
        self.remove_file(id).await
    }

    async fn put_data_actions(&self, actions: Vec<DataActionRecord>) -> Result<(), StoreError> {
        self.insert_data_actions(actions).await
    }

    async fn data_action(&self, id: &str) -> Result<Option<DataActionRecord>, StoreError> {
        self.find_data_action(id).await
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
