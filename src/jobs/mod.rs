//! The durable queue: work recorded before an HTTP answer, run afterwards by a pool of workers
//! that lease jobs, retry transient failures with exponential backoff and jitter, and bury jobs
//! that fail permanently or run out of attempts (`lookerbot jobs --failed`).

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde::Serialize;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::clients::looker::{LookerError, Lookers};
use crate::clients::slack::{SlackApi, SlackError, SlackErrorCode};
use crate::config::{DashboardStyle, Features, JobSettings};
use crate::features::{commands, deliveries, unfurls};
use crate::images::S3Images;
use crate::render::RenderOptions;
use crate::store::{ClaimedJob, Enqueued, JobStore, NewJob, StoreError, now_millis};

/// Job kinds, one per feature that works after the answer.
pub mod kinds {
    pub const DELIVERY: &str = "looker_delivery";
    pub const COMMAND: &str = "command";
    pub const UNFURL: &str = "unfurl";
}

/// Whether trying again later may help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Transient,
    Permanent,
}

/// Why a job did not finish, for the operator (never shown to Slack users as is).
#[derive(Debug)]
pub struct JobError {
    pub failure: Failure,
    pub message: String,
    pub retry_after: Option<Duration>,
    /// Slack's error code, when Slack refused: callers turn some into sentences for the asker.
    pub slack_code: Option<SlackErrorCode>,
}

impl JobError {
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            failure: Failure::Permanent,
            message: message.into(),
            retry_after: None,
            slack_code: None,
        }
    }

    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            failure: Failure::Transient,
            message: message.into(),
            retry_after: None,
            slack_code: None,
        }
    }
}

impl From<LookerError> for JobError {
    fn from(error: LookerError) -> Self {
        let failure = if error.is_transient() {
            Failure::Transient
        } else {
            Failure::Permanent
        };
        Self {
            failure,
            message: error.to_string(),
            retry_after: None,
            slack_code: None,
        }
    }
}

/// The queue's own database failing is worth another try.
impl From<StoreError> for JobError {
    fn from(error: StoreError) -> Self {
        Self::transient(error.to_string())
    }
}

impl From<SlackError> for JobError {
    fn from(error: SlackError) -> Self {
        let failure = if error.is_transient() {
            Failure::Transient
        } else {
            Failure::Permanent
        };
        let message = match error.code().and_then(|c| c.operator_hint()) {
            Some(hint) => format!("{error} — {hint}"),
            None => error.to_string(),
        };
        Self {
            failure,
            retry_after: error.retry_after(),
            slack_code: error.code().cloned(),
            message,
        }
    }
}

/// What jobs need to do their work.
pub struct JobContext {
    pub lookers: Lookers,
    pub slack: Arc<SlackApi>,
    pub render: RenderOptions,
    /// The S3 bucket for images; `None` uploads them to Slack.
    pub images: Option<S3Images>,
    pub render_timeout: Duration,
    pub dashboard_style: DashboardStyle,
    /// Lookerbot's switches (guests, shared workspaces, loading messages...).
    pub features: Features,
    /// The catalogs of custom commands (dashboards in each Looker's commands folder).
    pub custom_commands: crate::features::custom_commands::CustomCommands,
    /// For Looker's one-time `download_url`s (no auth header).
    pub downloads: reqwest::Client,
}

/// The one registration point: a job kind to the feature that runs it.
async fn perform(ctx: &JobContext, store: &dyn JobStore, job: &ClaimedJob) -> Result<(), JobError> {
    match job.kind.as_str() {
        kinds::DELIVERY => {
            let delivery = serde_json::from_str(&job.payload)
                .map_err(|e| JobError::permanent(format!("unreadable delivery payload: {e}")))?;
            deliveries::deliver(ctx, delivery).await
        }
        kinds::COMMAND => {
            let request = serde_json::from_str(&job.payload)
                .map_err(|e| JobError::permanent(format!("unreadable command payload: {e}")))?;
            commands::run(ctx, request).await
        }
        kinds::UNFURL => {
            let request = serde_json::from_str(&job.payload)
                .map_err(|e| JobError::permanent(format!("unreadable unfurl payload: {e}")))?;
            unfurls::unfurl(ctx, store, request).await
        }
        other => Err(JobError::permanent(format!("unknown job kind {other:?}"))),
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

    /// Records a job durably, due at once; returns once it is committed.
    pub async fn push(
        &self,
        kind: &str,
        payload: &impl Serialize,
        summary: String,
        dedupe_key: Option<String>,
    ) -> Result<Enqueued, StoreError> {
        let payload = serde_json::to_string(payload).expect("job payloads serialise");
        self.push_serialized(kind, payload, summary, dedupe_key, Duration::ZERO)
            .await
    }

    /// Records a job whose payload is already JSON (the event path serialises it only once),
    /// due after `delay`.
    pub async fn push_serialized(
        &self,
        kind: &str,
        payload: String,
        summary: String,
        dedupe_key: Option<String>,
        delay: Duration,
    ) -> Result<Enqueued, StoreError> {
        let job = NewJob {
            kind: kind.to_string(),
            payload,
            summary,
            dedupe_key,
            max_attempts: self.max_attempts,
            delay,
        };
        let outcome = self.store.enqueue(job, now_millis()).await?;
        if matches!(outcome, Enqueued::Created(_)) {
            self.wake.notify_one();
        }
        Ok(outcome)
    }
}

/// What happened to the job a worker took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Retrying {
        in_ms: i64,
    },
    Dead,
    /// Handed back untouched at shutdown.
    Released,
}

/// Exponential backoff with jitter: base·2^(n-1), capped at an hour, drawn from its upper half.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let capped = exp.min(Duration::from_secs(3600));
    let half = capped / 2;
    half + rand::rng().random_range(Duration::ZERO..=half)
}

pub struct Worker {
    pub id: String,
    store: Arc<dyn JobStore>,
    ctx: Arc<JobContext>,
    settings: JobSettings,
    /// How long a job may keep running after shutdown is asked before it is handed back.
    shutdown_grace: Duration,
}

impl Worker {
    pub fn new(store: Arc<dyn JobStore>, ctx: Arc<JobContext>, settings: JobSettings) -> Self {
        Self {
            id: format!("worker-{}", uuid::Uuid::new_v4()),
            store,
            ctx,
            settings,
            shutdown_grace: Duration::from_secs(20),
        }
    }

    /// Claims and runs one ready job; `None` when nothing is due.
    pub async fn run_next(&self, shutdown: &CancellationToken) -> Result<Option<Outcome>, StoreError> {
        let Some(job) = self.store.claim(&self.id, now_millis(), self.settings.lease).await? else {
            return Ok(None);
        };
        if job.attempts > job.max_attempts {
            let error = "gave up: the bot stopped while running this job on its last attempts";
            tracing::error!(job = job.id, summary = %job.summary, error, "job is dead");
            self.store.bury(job.id, &self.id, error, now_millis()).await?;
            return Ok(Some(Outcome::Dead));
        }
        tracing::debug!(job = job.id, kind = %job.kind, attempt = job.attempts, "running job");

        // A job never outlives its lease, so no other worker can take it over while it runs.
        let deadline = self
            .settings
            .lease
            .saturating_sub(Duration::from_millis(500))
            .max(Duration::from_millis(500));
        let work = tokio::time::timeout(deadline, perform(&self.ctx, self.store.as_ref(), &job));
        tokio::pin!(work);
        let grace = self.shutdown_grace;
        let result = tokio::select! {
            result = &mut work => result,
            _ = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => {
                tracing::warn!(job = job.id, "shutting down: handing the job back for the next start");
                self.store.release(job.id, &self.id, now_millis()).await?;
                return Ok(Some(Outcome::Released));
            }
        };
        let error = match result {
            Ok(Ok(())) => {
                self.store.complete(job.id, &self.id, now_millis()).await?;
                tracing::info!(job = job.id, summary = %job.summary, "job done");
                return Ok(Some(Outcome::Done));
            }
            Ok(Err(error)) => error,
            Err(_) => JobError::transient(format!("took longer than {}s", deadline.as_secs())),
        };
        let now = now_millis();
        if error.failure == Failure::Permanent || job.attempts >= job.max_attempts {
            tracing::error!(job = job.id, summary = %job.summary, attempts = job.attempts, error = %error.message, "job failed for good");
            self.store.bury(job.id, &self.id, &error.message, now).await?;
            return Ok(Some(Outcome::Dead));
        }
        let wait = backoff(self.settings.backoff_base, job.attempts).max(error.retry_after.unwrap_or_default());
        let in_ms = wait.as_millis() as i64;
        tracing::warn!(job = job.id, summary = %job.summary, attempt = job.attempts, retry_in_ms = in_ms, error = %error.message, "job failed; will retry");
        self.store
            .retry_at(job.id, &self.id, now + in_ms, &error.message, now)
            .await?;
        Ok(Some(Outcome::Retrying { in_ms }))
    }

    /// Runs jobs until shutdown, sleeping until woken or the next poll when the queue is empty.
    pub async fn run_until_stopped(self, wake: Arc<Notify>, shutdown: CancellationToken) {
        let poll = Duration::from_millis(500);
        while !shutdown.is_cancelled() {
            match self.run_next(&shutdown).await {
                Ok(Some(_)) => continue,
                Ok(None) => {
                    tokio::select! {
                        _ = wake.notified() => {}
                        _ = tokio::time::sleep(poll) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "job queue unavailable; retrying shortly");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

impl Queue {
    /// The notifier workers wait on.
    pub fn wake_handle(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_secs(2);
        for attempt in 1..=5 {
            let full = base * (1 << (attempt - 1));
            let wait = backoff(base, attempt);
            assert!(wait >= full / 2 && wait <= full, "attempt {attempt}: {wait:?}");
        }
        assert!(backoff(base, 40) <= Duration::from_secs(3600));
    }
}
