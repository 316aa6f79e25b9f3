//! The durable queue: work recorded before an HTTP answer, run afterwards by a pool of workers
//! that lease jobs, retry transient failures with exponential backoff and jitter, and bury jobs
//! that fail permanently or run out of attempts (`lookerbot jobs --failed`). It knows no feature:
//! jobs come typed ([`Job`]) and are registered by the layer above.

mod error;
mod job;
mod lanes;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

pub use crate::store::Priority;
use crate::store::{Enqueued, JobState, JobStore, NewJob, StoreError, now_millis};
pub use error::{Failure, JobError};
pub use job::{Job, JobKinds, JobRun};
pub use lanes::Lanes;
pub use worker::{Outcome, Worker, backoff};

/// How a job is pushed: at most once per dedupe key, and when it becomes due.
#[derive(Debug, Clone, Default)]
pub struct Push {
    pub dedupe_key: Option<String>,
    pub delay: Duration,
}

impl Push {
    /// A second job with this key is not created (webhook and event ids, message keys).
    pub fn once(key: impl Into<String>) -> Self {
        Self {
            dedupe_key: Some(key.into()),
            delay: Duration::ZERO,
        }
    }

    /// Due only after `delay`.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// Adds jobs and wakes a worker.
#[derive(Clone)]
pub struct Queue {
    store: Arc<dyn JobStore>,
    wake: Arc<Notify>,
    max_attempts: u32,
}

impl Queue {
    pub fn new(store: Arc<dyn JobStore>, max_attempts: u32) -> Self {
        Self {
            store,
            wake: Arc::new(Notify::new()),
            max_attempts,
        }
    }

    pub fn store(&self) -> &Arc<dyn JobStore> {
        &self.store
    }

    /// The notifier workers wait on.
    pub fn wake_handle(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Whether a job (in any state, until pruned) was recorded under this dedupe key.
    pub async fn recorded(&self, dedupe_key: &str) -> Result<bool, StoreError> {
        self.store.has_key(dedupe_key).await
    }

    /// Records a job durably; returns once it is committed.
    pub async fn push<J: Job>(&self, job: &J, how: Push) -> Result<Enqueued, StoreError> {
        let payload = serde_json::to_string(job).map_err(|e| StoreError::new(format!("job payload: {e}")))?;
        let new = NewJob {
            kind: J::KIND.to_string(),
            payload,
            summary: job.summary(),
            dedupe_key: how.dedupe_key,
            max_attempts: self.max_attempts,
            priority: J::PRIORITY,
            delay: how.delay,
            lane: job.lane(),
        };
        let outcome = self.store.enqueue(new, now_millis()).await?;
        if matches!(outcome, Enqueued::Created(_)) {
            self.wake.notify_one();
        }
        Ok(outcome)
    }

    /// Waits, at most `within`, for a job to finish (here or on another replica), so that a
    /// caller can answer with what really happened.
    pub async fn settled(&self, id: i64, within: Duration) -> Result<Settled, StoreError> {
        let deadline = tokio::time::Instant::now() + within;
        let mut pause = Duration::from_millis(10);
        loop {
            let Some(job) = self.store.get(id).await? else {
                return Ok(Settled::Gone);
            };
            match job.state {
                JobState::Done => return Ok(Settled::Done),
                JobState::Dead => return Ok(Settled::Failed(job.last_error.unwrap_or_default())),
                JobState::Queued | JobState::Running => {}
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(Settled::Pending {
                    last_error: job.last_error,
                });
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }
}

/// What became of a job a caller waited on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    Done,
    /// Failed for good, with the reason.
    Failed(String),
    /// Not finished in time: it goes on (and retries) in the background.
    Pending {
        last_error: Option<String>,
    },
    /// Pruned already (finished long ago).
    Gone,
}
