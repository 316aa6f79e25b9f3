//! PostgreSQL, for several replicas (and Heroku, whose disk does not last): the same queue as the
//! SQLite store. Intake commits in groups (every enqueue waiting at a moment in one multi-row
//! statement, one commit), jobs are claimed with `FOR UPDATE SKIP LOCKED` so replicas never take
//! the same job, and dedupe keys are a unique constraint, so the same Slack event given to two
//! replicas at once is recorded once.

mod enqueue;
mod files;
mod lanes;
mod notify;
mod people;

use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use tokio::sync::{mpsc, oneshot};

use super::{
    ClaimedJob, DataActionRecord, Enqueued, JobDetail, JobRecord, JobState, JobStore, Millis, NewJob, Probe, StoreError,
};
use enqueue::{MAX_BATCH, commit_enqueues};

pub(super) static MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

type EnqueueRequest = super::batch::Waiting<NewJob, Enqueued>;

pub struct PostgresStore {
    pool: PgPool,
    enqueues: mpsc::Sender<EnqueueRequest>,
}

/// How many connections one replica keeps (intake, workers, readers).
const CONNECTIONS: u32 = 16;

impl PostgresStore {
    /// Connects and, when asked, brings the schema up to date.
    pub async fn connect(database_url: &str, migrate: bool) -> anyhow::Result<Self> {
        Self::connect_with(database_url.parse()?, migrate).await
    }

    /// As [`PostgresStore::connect`], with options already parsed (a test's own schema).
    pub async fn connect_with(options: PgConnectOptions, migrate: bool) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        if migrate {
            MIGRATIONS.run(&pool).await?;
        }
        let (enqueues, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(commit_enqueues(pool.clone(), queue));
        Ok(Self { pool, enqueues })
    }

    /// Changes a running job this worker still holds: `set` with `params` bound from `$4` (`$3`
    /// is always the time of the change), and with `ends_lease` the lease given up. The rows
    /// changed: 0 when the job is no longer this worker's.
    async fn update_held(
        &self,
        id: i64,
        owner: &str,
        now: Millis,
        set: &str,
        params: &[Param<'_>],
        ends_lease: bool,
    ) -> Result<u64, StoreError> {
        let (lease, held) = if ends_lease {
            (", lease_owner = NULL, lease_until = NULL, waiting = NULL", "")
        } else {
            ("", " AND lease_until >= $3")
        };
        let sql = format!(
            "UPDATE jobs SET {set}{lease}, updated_at = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'{held}"
        );
        let mut query = sqlx::query(&sql).bind(id).bind(owner).bind(now);
        for param in params {
            query = match param {
                Param::Int(n) => query.bind(*n),
                Param::Text(text) => query.bind(*text),
            };
        }
        Ok(query.execute(&self.pool).await?.rows_affected())
    }
}

/// A value bound into a statement.
enum Param<'a> {
    Int(i64),
    Text(&'a str),
}

const RECORD_COLUMNS: &str =
    "id, kind, summary, state, attempts, max_attempts, run_after, last_error, created_at, updated_at, lane, waiting";

fn record(row: &PgRow) -> JobRecord {
    JobRecord {
        id: row.get("id"),
        kind: row.get("kind"),
        summary: row.get("summary"),
        state: JobState::parse(row.get::<String, _>("state").as_str()),
        attempts: row.get::<i32, _>("attempts") as u32,
        max_attempts: row.get::<i32, _>("max_attempts") as u32,
        run_after: row.get("run_after"),
        last_error: row.get("last_error"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
        lane: row.get("lane"),
        waiting: row.get("waiting"),
    }
}

#[async_trait]
impl JobStore for PostgresStore {
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
        self.update_held(id, owner, now, "state = 'done'", &[], true).await?;
        Ok(())
    }

    async fn retry_at(&self, id: i64, owner: &str, at: Millis, error: &str, now: Millis) -> Result<(), StoreError> {
        let set = "state = 'queued', run_after = $4, last_error = $5";
        self.update_held(id, owner, now, set, &[Param::Int(at), Param::Text(error)], true)
            .await?;
        Ok(())
    }

    async fn defer(&self, id: i64, owner: &str, at: Millis, waiting: &str, now: Millis) -> Result<(), StoreError> {
        self.defer_job(id, owner, at, waiting, now).await
    }

    async fn bury(&self, id: i64, owner: &str, error: &str, now: Millis) -> Result<(), StoreError> {
        self.update_held(
            id,
            owner,
            now,
            "state = 'dead', last_error = $4",
            &[Param::Text(error)],
            true,
        )
        .await?;
        Ok(())
    }

    async fn save_progress(&self, id: i64, owner: &str, progress: &str, now: Millis) -> Result<bool, StoreError> {
        let saved = self
            .update_held(id, owner, now, "progress = $4", &[Param::Text(progress)], false)
            .await?;
        Ok(saved == 1)
    }

    async fn release(&self, id: i64, owner: &str, now: Millis) -> Result<(), StoreError> {
        let set = "state = 'queued', run_after = $3, attempts = GREATEST(attempts - 1, 0)";
        self.update_held(id, owner, now, set, &[], true).await?;
        Ok(())
    }

    async fn list(&self, only_dead: bool, limit: u32) -> Result<Vec<JobRecord>, StoreError> {
        let filter = if only_dead { "state = 'dead'" } else { "state <> 'done'" };
        let rows = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM jobs WHERE {filter} ORDER BY id DESC LIMIT $1"
        ))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(record).collect())
    }

    async fn job_detail(&self, id: i64) -> Result<Option<JobDetail>, StoreError> {
        let sql = format!("SELECT {RECORD_COLUMNS}, payload, progress FROM jobs WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
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

    fn sealed(&self) -> &dyn crate::store::sealed::SealedRows {
        self
    }

    fn leases(&self) -> &dyn crate::store::leases::LeaseStore {
        self
    }

    async fn get(&self, id: i64) -> Result<Option<JobRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {RECORD_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(record))
    }

    async fn revive(&self, id: Option<i64>, now: Millis) -> Result<u64, StoreError> {
        let revived = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_after = $1, lease_owner = NULL, lease_until = NULL,
             alerted_at = NULL, updated_at = $1 WHERE state = 'dead' AND ($2::BIGINT IS NULL OR id = $2)",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(revived.rows_affected())
    }

    async fn unalerted_dead(&self, kinds: &[&str], limit: u32) -> Result<Vec<JobRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM jobs WHERE state = 'dead' AND alerted_at IS NULL AND kind = ANY($1)
             ORDER BY id LIMIT $2"
        ))
        .bind(kinds)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(record).collect())
    }

    async fn mark_alerted(&self, ids: &[i64], now: Millis) -> Result<(), StoreError> {
        sqlx::query("UPDATE jobs SET alerted_at = $2 WHERE id = ANY($1)")
            .bind(ids)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn counts(&self) -> Result<Vec<(String, JobState, u64)>, StoreError> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT kind, state, COUNT(*) FROM jobs WHERE state <> 'done' GROUP BY kind, state")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(kind, state, n)| (kind, JobState::parse(&state), n as u64))
            .collect())
    }

    async fn drop_dead(&self, id: i64) -> Result<bool, StoreError> {
        let dropped = sqlx::query("DELETE FROM jobs WHERE id = $1 AND state = 'dead'")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(dropped.rows_affected() == 1)
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
        sqlx::query("DELETE FROM job_files WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn put_data_actions(&self, actions: Vec<DataActionRecord>) -> Result<(), StoreError> {
        self.insert_data_actions(actions).await
    }

    async fn data_action(&self, id: &str) -> Result<Option<DataActionRecord>, StoreError> {
        self.find_data_action(id).await
    }

    async fn prune_finished(&self, before: Millis) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM jobs WHERE state IN ('done', 'dead') AND updated_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        for sql in [
            "DELETE FROM job_files WHERE created_at < $1",
            "DELETE FROM data_actions WHERE expires_at < $1",
            "DELETE FROM paces WHERE tat < $1",
        ] {
            sqlx::query(sql).bind(before).execute(&self.pool).await?;
        }
        Ok(done.rows_affected())
    }

    async fn has_key(&self, dedupe_key: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM jobs WHERE dedupe_key = $1")
            .bind(dedupe_key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn is_shared(&self) -> bool {
        true
    }
}

/// Connects without migrating and counts the migrations the database has had.
pub(super) async fn probe(database_url: &str) -> anyhow::Result<Probe> {
    let options: PgConnectOptions = database_url.parse()?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?;
    let known = MIGRATIONS.iter().filter(|m| m.migration_type.is_up_migration()).count();
    let has_table: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(&pool)
        .await?;
    let applied = match has_table {
        Some(_) => {
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&pool)
                .await?;
            count as usize
        }
        None => 0,
    };
    pool.close().await;
    Ok(Probe::Reachable { applied, known })
}
