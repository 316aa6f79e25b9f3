//! What a job is to the queue: a kind name, a typed payload and a `run` over a context the queue
//! knows nothing about. Kinds are registered once at start-up in a [`JobKinds`] table; pushing
//! takes the typed job, so a kind and its payload type cannot drift apart.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::JobError;
use crate::store::{ClaimedJob, JobStore, Priority, now_millis};

/// A piece of work done after an HTTP answer.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stored with every job of this type; renaming it strands queued jobs of the old name.
    const KIND: &'static str;
    /// What the job needs to do its work (clients, settings...), provided by the layer above.
    type Context: Send + Sync + 'static;
    /// Whether a person is waiting for this job (it then goes before scheduled work).
    const PRIORITY: Priority = Priority::Scheduled;

    /// One line for operators (`lookerbot jobs`, logs): what the job does and where.
    fn summary(&self) -> String;

    /// The shared resource this job mostly waits on (the Looker it queries), if any: workers
    /// take no more jobs of a lane than its cap, so one slow Looker cannot hold every worker.
    fn lane(&self) -> Option<String> {
        None
    }

    /// Does the work. A job that posts more than once records each step in `run`'s progress, so a
    /// retry or a takeover after a crash continues where it stopped.
    fn run(self, ctx: &Self::Context, run: &JobRun) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// One attempt at a job: who it is, and what earlier attempts recorded having done.
pub struct JobRun {
    id: i64,
    attempt: u32,
    max_attempts: u32,
    owner: String,
    store: Arc<dyn JobStore>,
    progress: Mutex<Option<String>>,
    recorded_at: i64,
}

impl JobRun {
    pub(super) fn new(job: &ClaimedJob, owner: &str, store: Arc<dyn JobStore>) -> Self {
        Self {
            id: job.id,
            attempt: job.attempts,
            max_attempts: job.max_attempts,
            owner: owner.to_string(),
            store,
            progress: Mutex::new(job.progress.clone()),
            recorded_at: job.created_at,
        }
    }

    /// When the job was recorded (unix ms): when its request arrived, whenever it runs.
    pub fn recorded_at(&self) -> i64 {
        self.recorded_at
    }

    pub fn id(&self) -> i64 {
        self.id
    }

    /// 1 on the first attempt.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Whether no attempt follows this one, whatever happens (a failure now is the job's last).
    pub fn is_last_attempt(&self) -> bool {
        self.attempt >= self.max_attempts
    }

    /// The progress last saved, by this attempt or an earlier one. Progress that cannot be read
    /// stops the job: going on without it could repeat what it records as done.
    pub fn progress<T: DeserializeOwned>(&self) -> Result<Option<T>, JobError> {
        let saved = self.progress.lock().unwrap_or_else(|p| p.into_inner()).clone();
        saved
            .map(|saved| serde_json::from_str(&saved))
            .transpose()
            .map_err(|e| JobError::permanent(format!("the job's recorded progress cannot be read: {e}")))
    }

    /// Saves progress durably before the job goes on. Fails when the job is no longer this
    /// worker's (its lease ran out and another worker took it over): it must stop.
    pub async fn save_progress<T: Serialize>(&self, progress: &T) -> Result<(), JobError> {
        let json = serde_json::to_string(progress).map_err(|e| JobError::permanent(format!("progress: {e}")))?;
        if !self
            .store
            .save_progress(self.id, &self.owner, &json, now_millis())
            .await?
        {
            return Err(JobError::transient("the job's lease ran out; another worker has it"));
        }
        *self.progress.lock().unwrap_or_else(|p| p.into_inner()) = Some(json);
        Ok(())
    }
}

type Running = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
type Runner<C> = Box<dyn Fn(&str, Arc<C>, JobRun) -> Running + Send + Sync>;

/// The job kinds a worker can run, each with the type its payload is read as and its priority.
pub struct JobKinds<C> {
    runners: HashMap<&'static str, (Runner<C>, Priority)>,
}

impl<C: Send + Sync + 'static> Default for JobKinds<C> {
    fn default() -> Self {
        Self {
            runners: HashMap::new(),
        }
    }
}

impl<C: Send + Sync + 'static> JobKinds<C> {
    /// Makes `J` runnable; its kind name must be unique.
    pub fn register<J: Job<Context = C>>(&mut self) -> &mut Self {
        let runner: Runner<C> = Box::new(|payload, ctx, run| match serde_json::from_str::<J>(payload) {
            Ok(job) => Box::pin(async move { job.run(&ctx, &run).await }),
            Err(error) => {
                let error = JobError::permanent(format!("unreadable {} payload: {error}", J::KIND));
                Box::pin(std::future::ready(Err(error)))
            }
        });
        let previous = self.runners.insert(J::KIND, (runner, J::PRIORITY));
        assert!(previous.is_none(), "job kind {} registered twice", J::KIND);
        self
    }

    /// Every kind registered, for counts that must show each one from the start (0 when none).
    pub fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.runners.keys().copied()
    }

    /// Whether a person waits for jobs of this kind.
    pub(super) fn is_interactive(&self, kind: &str) -> bool {
        self.runners
            .get(kind)
            .is_some_and(|(_, priority)| *priority == Priority::Interactive)
    }

    pub(super) fn start(&self, kind: &str, payload: &str, ctx: Arc<C>, run: JobRun) -> Running {
        match self.runners.get(kind) {
            Some((runner, _)) => runner(payload, ctx, run),
            None => Box::pin(std::future::ready(Err(JobError::permanent(format!(
                "unknown job kind {kind:?}"
            ))))),
        }
    }
}
