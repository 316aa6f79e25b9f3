//! Workers: claim a due job under a lease, run it within the lease, and record the outcome.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::{Failure, JobError, JobKinds, JobRun, Lanes};
use crate::config::JobSettings;
use crate::scope::Scope;
use crate::store::{JobStore, StoreError, now_millis};

/// What happened to the job a worker took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Retrying {
        in_ms: i64,
    },
    Dead,
    /// Back in the queue until a pace allows it, the attempt not counted.
    Deferred {
        in_ms: i64,
    },
    /// Handed back untouched at shutdown.
    Released,
}

/// The lease a running job holds, renewed every third of it while the job runs: a worker that
/// dies (a replica killed) holds its job this long at most, whatever the job's allowed run time
/// (`LOOKERBOT_JOB_LEASE_SECS`).
const HEARTBEAT_LEASE: Duration = Duration::from_secs(30);

/// A job deferred to its turn (a pace, a `Retry-After`) for longer than this since it was
/// recorded is given up: something keeps refusing it.
const MAX_WAITING: Duration = Duration::from_secs(24 * 3600);

/// Exponential backoff with jitter: base·2^(n-1), capped at an hour, drawn from its upper half.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let capped = exp.min(Duration::from_secs(3600));
    let half = capped / 2;
    half + rand::rng().random_range(Duration::ZERO..=half)
}

pub struct Worker<C> {
    pub id: String,
    store: Arc<dyn JobStore>,
    kinds: Arc<JobKinds<C>>,
    ctx: Arc<C>,
    settings: JobSettings,
    /// How long a job may keep running after shutdown is asked before it is handed back.
    shutdown_grace: Duration,
    /// Shared by a replica's workers: how many jobs of each lane run now.
    lanes: Arc<Lanes>,
}

impl<C: Send + Sync + 'static> Worker<C> {
    pub fn new(store: Arc<dyn JobStore>, kinds: Arc<JobKinds<C>>, ctx: Arc<C>, settings: JobSettings) -> Self {
        Self {
            id: format!("worker-{}", uuid::Uuid::new_v4()),
            store,
            kinds,
            ctx,
            settings,
            shutdown_grace: Duration::from_secs(20),
            lanes: Lanes::unbounded(),
        }
    }

    /// Shares lane counts (and caps) with the replica's other workers.
    pub fn with_lanes(mut self, lanes: Arc<Lanes>) -> Self {
        self.lanes = lanes;
        self
    }

    /// Writes what the job waits for as it changes, until the job's scope ends.
    fn note_waits(&self, id: i64, mut waits: watch::Receiver<Option<String>>) {
        let (store, owner) = (self.store.clone(), self.id.clone());
        tokio::spawn(async move {
            while waits.changed().await.is_ok() {
                let note = waits.borrow_and_update().clone();
                if let Err(error) = store.note_wait(id, &owner, note.as_deref()).await {
                    tracing::debug!(job = id, %error, "could not note what the job waits for");
                }
            }
        });
    }

    /// Renews the lease on job `id` every third of it, for as long as the job runs.
    async fn heartbeat(&self, id: i64, held: Duration) -> std::convert::Infallible {
        loop {
            tokio::time::sleep(held / 3).await;
            let until = now_millis() + held.as_millis() as i64;
            match self.store.leases().renew(id, &self.id, until).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(job = id, "the job's lease was lost; another worker may take it"),
                Err(error) => tracing::warn!(job = id, %error, "could not renew the job's lease"),
            }
        }
    }

    /// Claims and runs one ready job; `None` when nothing is due.
    pub async fn run_next(&self, shutdown: &CancellationToken) -> Result<Option<Outcome>, StoreError> {
        let busy = self.lanes.busy();
        let held = self.settings.lease.min(HEARTBEAT_LEASE);
        let Some(job) = self.store.claim(&self.id, now_millis(), held, &busy).await? else {
            return Ok(None);
        };
        // Another worker may have filled the lane since it was read: then the job goes back.
        let Some(_in_lane) = self.lanes.try_enter(job.lane.as_deref()) else {
            self.store.release(job.id, &self.id, now_millis()).await?;
            return Ok(Some(Outcome::Released));
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
        let run = JobRun::new(&job, &self.id, self.store.clone());
        let started = std::time::Instant::now();
        let record = |outcome: &'static str| {
            let kind = job.kind.clone();
            metrics::counter!("lookerbot_job_runs_total", "kind" => kind.clone(), "outcome" => outcome).increment(1);
            metrics::histogram!("lookerbot_job_run_duration_seconds", "kind" => kind)
                .record(started.elapsed().as_secs_f64());
        };
        let (waits, watched) = watch::channel(None);
        self.note_waits(job.id, watched);
        let ends = tokio::time::Instant::now() + deadline;
        let scope = Scope::job(self.kinds.is_interactive(&job.kind), waits, ends);
        let work = tokio::time::timeout(
            deadline,
            scope.enter(self.kinds.start(&job.kind, &job.payload, self.ctx.clone(), run)),
        );
        tokio::pin!(work);
        let grace = self.shutdown_grace;
        let result = tokio::select! {
            result = &mut work => result,
            never = self.heartbeat(job.id, held) => match never {},
            _ = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => {
                tracing::warn!(job = job.id, "shutting down: handing the job back for the next start");
                self.store.release(job.id, &self.id, now_millis()).await?;
                return Ok(Some(Outcome::Released));
            }
        };
        let error = match result {
            Ok(Ok(())) => {
                let now = now_millis();
                self.store.complete(job.id, &self.id, now).await?;
                record("done");
                let waited = (now - job.created_at).max(0) as f64 / 1000.0;
                metrics::histogram!("lookerbot_job_latency_seconds", "kind" => job.kind.clone()).record(waited);
                tracing::info!(job = job.id, summary = %job.summary, "job done");
                return Ok(Some(Outcome::Done));
            }
            Ok(Err(error)) => error,
            Err(_) => JobError::transient(format!("took longer than {}s", deadline.as_secs())),
        };
        let now = now_millis();
        if error.failure == Failure::Deferred && now - job.created_at > MAX_WAITING.as_millis() as i64 {
            let error = format!(
                "gave up after waiting {} hours for its turn: {}",
                MAX_WAITING.as_secs() / 3600,
                error.message
            );
            tracing::error!(job = job.id, summary = %job.summary, error, "job is dead");
            self.store.bury(job.id, &self.id, &error, now).await?;
            record("dead");
            return Ok(Some(Outcome::Dead));
        }
        if error.failure == Failure::Deferred {
            let in_ms = error.retry_after.unwrap_or_default().as_millis() as i64;
            tracing::info!(job = job.id, summary = %job.summary, come_back_in_ms = in_ms, why = %error.message, "job waits its turn");
            self.store
                .defer(job.id, &self.id, now + in_ms, &error.message, now)
                .await?;
            record("deferred");
            return Ok(Some(Outcome::Deferred { in_ms }));
        }
        if error.failure == Failure::Permanent || job.attempts >= job.max_attempts {
            tracing::error!(job = job.id, summary = %job.summary, attempts = job.attempts, error = %error.message, "job failed for good");
            self.store.bury(job.id, &self.id, &error.message, now).await?;
            record("dead");
            return Ok(Some(Outcome::Dead));
        }
        let wait = backoff(self.settings.backoff_base, job.attempts).max(error.retry_after.unwrap_or_default());
        let in_ms = wait.as_millis() as i64;
        tracing::warn!(job = job.id, summary = %job.summary, attempt = job.attempts, retry_in_ms = in_ms, error = %error.message, "job failed; will retry");
        self.store
            .retry_at(job.id, &self.id, now + in_ms, &error.message, now)
            .await?;
        record("retrying");
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
