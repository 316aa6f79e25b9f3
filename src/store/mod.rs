//! Durable storage behind one small trait, so a second backend can sit beside SQLite.
//! Times are unix milliseconds; nothing here assumes a single process or a single writer.

mod batch;
#[cfg(test)]
mod conformance;
mod error;
pub mod leases;
pub mod notify;
pub mod people;
pub mod pins;
mod postgres;
pub mod sealed;
mod sqlite;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

pub use error::StoreError;
pub use postgres::PostgresStore;
pub use sqlite::{SqliteStore, lock_for_server};

/// Unix time in milliseconds.
pub type Millis = i64;

pub fn now_millis() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// RFC 3339 UTC, to the second (`2026-12-01T09:00:00Z`), for operators and senders.
pub fn utc_text(millis: Millis) -> String {
    let time = UNIX_EPOCH + Duration::from_millis(millis.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}

/// Which due job goes first: someone waiting in Slack before scheduled work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Priority {
    /// A person is waiting for the answer (commands, link previews, data actions).
    Interactive = 0,
    /// Looker's scheduler or an Action Hub send: nobody watches it arrive to the second.
    #[default]
    Scheduled = 1,
}

/// Work to record before answering a request.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: String,
    /// One line for operators (`lookerbot jobs`, logs): what the job delivers and where.
    pub summary: String,
    /// A second job with the same key is not created (webhook and event ids).
    pub dedupe_key: Option<String>,
    pub max_attempts: u32,
    pub priority: Priority,
    /// How long after it is recorded the job becomes due (zero: at once).
    pub delay: Duration,
    /// The shared resource the job mostly waits on (a Looker), for fairness between them.
    pub lane: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    Created(i64),
    /// A job with this dedupe key already exists (any state).
    Duplicate(i64),
}

/// A job a worker holds under a lease.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub summary: String,
    /// Including this one.
    pub attempts: u32,
    pub max_attempts: u32,
    /// What earlier attempts recorded having done (JSON), if anything.
    pub progress: Option<String>,
    /// When it was recorded (for how long it took from then to done).
    pub created_at: Millis,
    pub lane: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Dead,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    fn parse(text: &str) -> JobState {
        match text {
            "running" => JobState::Running,
            "done" => JobState::Done,
            "dead" => JobState::Dead,
            _ => JobState::Queued,
        }
    }
}

/// A job as `lookerbot jobs` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JobRecord {
    pub id: i64,
    pub kind: String,
    pub summary: String,
    pub state: JobState,
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_after: Millis,
    pub last_error: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub lane: Option<String>,
    /// What a running job waits for now (Slack's pace, a `Retry-After`, a Looker query slot).
    pub waiting: Option<String>,
}

/// A job as the API shows it to whoever recorded it: its record, payload and progress.
#[derive(Debug, Clone)]
pub struct JobDetail {
    pub record: JobRecord,
    pub payload: String,
    pub progress: Option<String>,
}

/// Files are written and read in chunks of this size.
pub const FILE_CHUNK: usize = 4 * 1024 * 1024;

/// A Looker data action behind a button: the key's id, the Looker it belongs to, Looker's link
/// object as it came (JSON), and the form Looker gave for it once asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataActionRecord {
    pub id: String,
    pub looker: String,
    pub action: String,
    pub form: Option<String>,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// The queue's storage. Every method is one atomic statement or transaction.
#[async_trait]
pub trait JobStore: Send + Sync + 'static {
    async fn enqueue(&self, job: NewJob, now: Millis) -> Result<Enqueued, StoreError>;

    /// Takes the first ready job (queued and due, or running with an expired lease), most urgent
    /// first, and leases it; jobs in `busy_lanes` are left for later.
    async fn claim(
        &self,
        owner: &str,
        now: Millis,
        lease: Duration,
        busy_lanes: &[String],
    ) -> Result<Option<ClaimedJob>, StoreError>;

    /// Says what a running job this worker holds waits for (`None`: nothing any more).
    async fn note_wait(&self, id: i64, owner: &str, waiting: Option<&str>) -> Result<(), StoreError>;

    /// Reserves the next call under a pace kept here, so that every replica shares it (GCRA): if
    /// `max(tat, now) + interval - burst·interval <= latest`, the key's theoretical arrival time
    /// becomes `max(tat, now) + interval` and is returned; otherwise nothing changes (`None`).
    async fn reserve_pace(
        &self,
        key: &str,
        now: Millis,
        interval: Millis,
        burst: u32,
        latest: Millis,
    ) -> Result<Option<Millis>, StoreError>;

    /// Pushes a pace's theoretical arrival time to at least `tat` (a `Retry-After` from Slack).
    async fn hold_pace(&self, key: &str, tat: Millis) -> Result<(), StoreError>;

    /// A pace's theoretical arrival time, if one is kept.
    async fn peek_pace(&self, key: &str) -> Result<Option<Millis>, StoreError>;

    async fn complete(&self, id: i64, owner: &str, now: Millis) -> Result<(), StoreError>;

    /// Back to the queue, due at `at`, keeping the error for operators.
    async fn retry_at(&self, id: i64, owner: &str, at: Millis, error: &str, now: Millis) -> Result<(), StoreError>;

    /// Back to the queue until `at` without counting the attempt (a pace says to come back
    /// then), saying what it waits for.
    async fn defer(&self, id: i64, owner: &str, at: Millis, waiting: &str, now: Millis) -> Result<(), StoreError>;

    /// Gives up on a job: it stays visible as dead with its last error.
    async fn bury(&self, id: i64, owner: &str, error: &str, now: Millis) -> Result<(), StoreError>;

    /// Records what a running job has done so far; `false` when the job is no longer this
    /// worker's (its lease expired and another took it over).
    async fn save_progress(&self, id: i64, owner: &str, progress: &str, now: Millis) -> Result<bool, StoreError>;

    /// Hands a leased job back untouched (graceful shutdown), so the next start runs it at once.
    async fn release(&self, id: i64, owner: &str, now: Millis) -> Result<(), StoreError>;

    /// Queued, running and dead jobs (or only dead ones), newest first.
    async fn list(&self, only_dead: bool, limit: u32) -> Result<Vec<JobRecord>, StoreError>;

    async fn get(&self, id: i64) -> Result<Option<JobRecord>, StoreError>;

    /// A job with its payload and progress.
    async fn job_detail(&self, id: i64) -> Result<Option<JobDetail>, StoreError>;

    /// Notifications' repeats and threads, kept beside the queue.
    fn notify(&self) -> &dyn notify::NotifyStore;

    /// The audit, linked Looker accounts and sign-ins.
    fn people(&self) -> &dyn people::PeopleStore;

    /// The channels delivery names are pinned to.
    fn pins(&self) -> &dyn pins::PinStore;

    /// What is kept sealed, for re-sealing under a new key.
    fn sealed(&self) -> &dyn sealed::SealedRows;

    /// Running jobs' leases: renewed while they run, taken back at a one-server start.
    fn leases(&self) -> &dyn leases::LeaseStore;

    /// Gives dead jobs (one, or all with `None`) a fresh set of attempts, due at once; their
    /// progress is kept, so they go on where they stopped. How many were dead.
    async fn revive(&self, id: Option<i64>, now: Millis) -> Result<u64, StoreError>;

    /// Dead jobs of these kinds not yet reported in the alerts channel, oldest first.
    async fn unalerted_dead(&self, kinds: &[&str], limit: u32) -> Result<Vec<JobRecord>, StoreError>;

    /// Notes that these dead jobs were reported (a revived job is reported again if it dies again).
    async fn mark_alerted(&self, ids: &[i64], now: Millis) -> Result<(), StoreError>;

    /// How many jobs of each kind are queued, running and dead (for `/metrics`).
    async fn counts(&self) -> Result<Vec<(String, JobState, u64)>, StoreError>;

    /// Forgets a dead job for good; `false` when `id` is not a dead job.
    async fn drop_dead(&self, id: i64) -> Result<bool, StoreError>;

    /// Keeps a file a job will need (an attachment Looker sent), durably; returns its id.
    async fn put_file(&self, bytes: Vec<u8>, now: Millis) -> Result<i64, StoreError>;

    /// The whole file, for files small enough to hold ([`FILE_CHUNK`] or so); larger ones are
    /// read with [`JobStore::file_chunk`].
    async fn get_file(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError>;

    /// Begins a file written a chunk at a time (one too large to hold); returns its id.
    async fn begin_file(&self, now: Millis) -> Result<i64, StoreError>;

    /// Adds chunk `seq` (0, 1, 2...) to a file begun with [`JobStore::begin_file`].
    async fn append_chunk(&self, id: i64, seq: u32, bytes: Vec<u8>) -> Result<(), StoreError>;

    /// Chunk `seq` of a file; `None` past its last chunk.
    async fn file_chunk(&self, id: i64, seq: u32) -> Result<Option<Vec<u8>>, StoreError>;

    /// The file's size in bytes; `None` when it is not kept (any more).
    async fn file_length(&self, id: i64) -> Result<Option<u64>, StoreError>;

    /// Keeps data actions shown as buttons until they expire.
    async fn put_data_actions(&self, actions: Vec<DataActionRecord>) -> Result<(), StoreError>;

    async fn data_action(&self, id: &str) -> Result<Option<DataActionRecord>, StoreError>;

    /// Forgets a file its job no longer needs.
    async fn forget_file(&self, id: i64) -> Result<(), StoreError>;

    /// Forgets finished and dead jobs last changed before `before` (`LOOKERBOT_JOB_RETENTION_DAYS`),
    /// files kept since before `before` and data actions expired before `before`.
    async fn prune_finished(&self, before: Millis) -> Result<u64, StoreError>;

    /// Whether a job (in any state, until pruned) was recorded under this dedupe key.
    async fn has_key(&self, dedupe_key: &str) -> Result<bool, StoreError>;

    /// A cheap round trip, for readiness checks.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Whether several replicas may share this store (then so must Slack's pace).
    fn is_shared(&self) -> bool {
        false
    }
}

/// Which database a `DATABASE_URL` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `sqlite:` or `postgres:`/`postgresql:` (Heroku's form); anything else is not a database
    /// the bot knows.
    pub fn of(database_url: &str) -> Option<Backend> {
        let scheme = database_url.split(':').next()?.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        }
    }
}

const UNKNOWN_SCHEME: &str = "unsupported DATABASE_URL scheme (expected sqlite:// or postgres://)";

/// Opens the store named by `DATABASE_URL`; with `migrate`, brings its schema up to date first
/// (SQLite always is: its file belongs to this one process).
pub async fn connect(database_url: &str, migrate: bool) -> anyhow::Result<std::sync::Arc<dyn JobStore>> {
    match Backend::of(database_url) {
        Some(Backend::Sqlite) => Ok(std::sync::Arc::new(SqliteStore::connect(database_url).await?)),
        Some(Backend::Postgres) => {
            if !migrate
                && let Probe::Reachable { applied, known } = probe(database_url).await?
                && applied < known
            {
                anyhow::bail!(
                    "the database has {applied} of this lookerbot's {known} migrations; run `lookerbot migrate` first"
                );
            }
            Ok(std::sync::Arc::new(
                PostgresStore::connect(database_url, migrate).await?,
            ))
        }
        None => anyhow::bail!(UNKNOWN_SCHEME),
    }
}

/// Applies the migrations this bot knows and says how many were new (`lookerbot migrate`).
pub async fn migrate(database_url: &str) -> anyhow::Result<usize> {
    let before = match probe(database_url).await? {
        Probe::Missing { .. } => 0,
        Probe::Reachable { applied, .. } => applied,
    };
    let store = connect(database_url, true).await?;
    drop(store);
    let Probe::Reachable { applied, .. } = probe(database_url).await? else {
        anyhow::bail!("the database was not created")
    };
    Ok(applied.saturating_sub(before))
}

/// Opens the store named by `DATABASE_URL` for reading only, if it exists: nothing is created
/// or migrated (`lookerbot jobs`).
pub async fn open_read_only(database_url: &str) -> anyhow::Result<Option<std::sync::Arc<dyn JobStore>>> {
    match Backend::of(database_url) {
        Some(Backend::Sqlite) => {
            if let Probe::Missing { .. } = probe(database_url).await? {
                return Ok(None);
            }
            Ok(Some(std::sync::Arc::new(
                SqliteStore::open_read_only(database_url).await?,
            )))
        }
        Some(Backend::Postgres) => match probe(database_url).await? {
            Probe::Reachable { applied: 0, .. } | Probe::Missing { .. } => Ok(None),
            Probe::Reachable { .. } => Ok(Some(std::sync::Arc::new(
                PostgresStore::connect(database_url, false).await?,
            ))),
        },
        None => anyhow::bail!(UNKNOWN_SCHEME),
    }
}

/// What `lookerbot check` learns of a database without creating or changing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// Nothing there yet; `serve` creates it (the folder it goes in exists).
    Missing { location: String },
    /// It opens; the schema has `applied` of the bot's `known` migrations.
    Reachable { applied: usize, known: usize },
}

/// Looks at the database named by `DATABASE_URL` read-only: whether it opens and how far its
/// schema is, without creating the file or migrating it.
pub async fn probe(database_url: &str) -> anyhow::Result<Probe> {
    match Backend::of(database_url) {
        Some(Backend::Sqlite) => sqlite::probe(database_url).await,
        Some(Backend::Postgres) => postgres::probe(database_url).await,
        None => anyhow::bail!(UNKNOWN_SCHEME),
    }
}
