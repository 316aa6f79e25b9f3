//! Looker → Braze user flags, as Looker's own Braze action does them (the `braze` integration of
//! the bot's Action Hub), without what it gets wrong: each batch of 75 is retried on Braze's rate
//! limits (as its headers ask) and its outages, a refusal is recorded with Braze's message, the
//! counts (sent, skipped without an id, failed, over the 100,000-row cap) are kept with the job
//! and told to Looker, and the rows are streamed from Looker's result, never held whole.

pub mod rows;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;
use url::Url;

use super::Context;
use super::action_hub::HubFile;
use super::downloads::{fetch_once, unsealed};
use super::errors::Error;
use super::ledger::Ledger;
use super::stored_files::{content_of, forget_when_finished};
use crate::clients::braze::{BrazeError, MAX_OBJECTS};
use crate::clients::slack::FileContent;
use crate::config::Secret;
use crate::queue::{Job, JobError, JobRun};
use crate::sealing::SealedText;
use rows::{Counts, Export, ReadError};

/// Rows an export sends at most, as Looker's Braze action.
pub const MAX_ROWS: u64 = 100_000;
/// Tries of one batch while Braze is unavailable, before the job is retried later.
const TRIES: u32 = 3;

/// The job payload: one export Looker sent to the `braze` integration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BrazeExport {
    /// Braze's REST endpoint, checked at intake.
    pub endpoint: String,
    /// Sealed: whoever reads it may write to the Braze workspace.
    pub api_key: SealedText,
    /// `external_id` or `braze_id`: which identifier the `braze_id` field holds.
    pub key: String,
    /// Added to each user's `looker_export` array.
    pub label: String,
    pub title: Option<String>,
    pub file: Option<HubFile>,
    /// Checked at intake to point at the system that sent it.
    pub download_url: Option<SealedText>,
}

/// What an export has done, kept with the job after each batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Batches finished (sent, or refused by Braze and counted as failed).
    pub batches: u64,
    pub sent: u64,
    pub failed: u64,
    pub skipped: u64,
    pub over_cap: u64,
    /// Braze's reasons, the first few.
    pub problems: Vec<String>,
    pub finished: bool,
}

impl Progress {
    fn note(&mut self, problem: String) {
        if self.problems.len() < 3 && !self.problems.contains(&problem) {
            self.problems.push(problem);
        }
    }

    /// The sentence Looker shows for a finished export.
    pub fn summary(&self) -> String {
        let mut text = format!("Sent {} rows to Braze", thousands(self.sent));
        if self.skipped > 0 {
            text.push_str(&format!("; {} skipped without a braze_id", thousands(self.skipped)));
        }
        if self.failed > 0 {
            text.push_str(&format!("; {} failed", thousands(self.failed)));
            if let Some(first) = self.problems.first() {
                text.push_str(&format!(" ({first})"));
            }
        }
        if self.over_cap > 0 {
            text.push_str(&format!(
                "; {} more not sent: an export sends at most {} rows",
                thousands(self.over_cap),
                thousands(MAX_ROWS)
            ));
        }
        text.push('.');
        text
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Job for BrazeExport {
    const KIND: &'static str = "braze_export";
    type Context = Context;

    /// Never the key.
    fn summary(&self) -> String {
        let host = Url::parse(&self.endpoint)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        format!(
            "Braze export '{}' to {host}",
            self.title.as_deref().unwrap_or("untitled")
        )
    }

    async fn run(self, ctx: &Context, run: &JobRun) -> Result<(), JobError> {
        let ledger = Ledger::new(ctx, run)?;
        let exported = export(ctx, &ledger, &self).await.map_err(JobError::from);
        let files: Vec<i64> = self.file.iter().map(|f| f.file_id).chain(ledger.kept_files()).collect();
        forget_when_finished(ctx.queue.store(), run, &exported, files).await?;
        exported
    }
}

async fn export(ctx: &Context, ledger: &Ledger<'_>, job: &BrazeExport) -> Result<(), Error> {
    let mut progress: Progress = ledger.more()?.unwrap_or_default();
    if progress.finished {
        return Ok(());
    }
    let endpoint = Url::parse(&job.endpoint).map_err(|_| JobError::permanent("the Braze endpoint is not a URL"))?;
    let file_id = match (&job.file, &job.download_url) {
        (Some(file), _) => file.file_id,
        (None, Some(link)) => {
            let link = unsealed(ctx, link, "download_url")?;
            let url = Url::parse(&link).map_err(|_| JobError::permanent("the download_url is not a URL"))?;
            fetch_once(ctx, ledger, url, ctx.download_limit).await?.id
        }
        (None, None) => return Err(JobError::permanent("Looker sent no data").into()),
    };
    let content = content_of(ctx.queue.store(), file_id)
        .await?
        .ok_or_else(|| JobError::permanent("the data Looker sent is no longer kept; send it again from Looker"))?;
    let (batches, reading) = read_batches(content, job.key.clone(), job.label.clone());
    let sent = send_batches(ctx, ledger, job, &endpoint, batches, &mut progress).await;
    let counts = match reading.await {
        Ok(Ok(counts)) => counts,
        Ok(Err(ReadError::Stopped)) => Counts::default(),
        Err(_) => {
            return Err(JobError::transient("reading Looker's result stopped unexpectedly; it is read again").into());
        }
        Ok(Err(ReadError::Refused(reason) | ReadError::Unreadable(reason))) => {
            return Err(JobError::permanent(reason).into());
        }
    };
    sent?;
    progress.skipped = counts.skipped;
    progress.over_cap = counts.over_cap;
    progress.finished = true;
    ledger.record_more(&progress).await?;
    tracing::info!(summary = %progress.summary(), "Braze export finished");
    Ok(())
}

/// Reads the result on a blocking thread, handing over batches of 75 as they fill.
fn read_batches(
    content: FileContent,
    key: String,
    label: String,
) -> (
    mpsc::Receiver<Vec<Value>>,
    tokio::task::JoinHandle<Result<Counts, ReadError>>,
) {
    let runtime = tokio::runtime::Handle::current();
    let open = move || -> Box<dyn std::io::Read> {
        match &content {
            FileContent::Bytes(bytes) => Box::new(std::io::Cursor::new(bytes.clone())),
            FileContent::Streamed(source) => {
                let stream = tokio_util::io::StreamReader::new(source.open());
                let reader = tokio_util::io::SyncIoBridge::new_with_handle(stream, runtime.clone());
                Box::new(std::io::BufReader::with_capacity(256 * 1024, reader))
            }
        }
    };
    let (batches, received) = mpsc::channel::<Vec<Value>>(4);
    let reading = tokio::task::spawn_blocking(move || {
        let export = Export {
            key: &key,
            label: &label,
            cap: MAX_ROWS,
        };
        let mut batch = Vec::with_capacity(MAX_OBJECTS);
        let counts = export.read(open, &mut |object| {
            batch.push(object);
            batch.len() < MAX_OBJECTS || batches.blocking_send(std::mem::take(&mut batch)).is_ok()
        })?;
        if !batch.is_empty() && batches.blocking_send(batch).is_err() {
            return Err(ReadError::Stopped);
        }
        Ok(counts)
    });
    (received, reading)
}

async fn send_batches(
    ctx: &Context,
    ledger: &Ledger<'_>,
    job: &BrazeExport,
    endpoint: &Url,
    mut batches: mpsc::Receiver<Vec<Value>>,
    progress: &mut Progress,
) -> Result<(), Error> {
    let api_key = Secret::new(unsealed(ctx, &job.api_key, "Braze API key")?);
    let mut number = 0u64;
    while let Some(batch) = batches.recv().await {
        number += 1;
        if number <= progress.batches {
            continue; // finished by an earlier attempt
        }
        let mut tries = 0;
        loop {
            tries += 1;
            match ctx.braze.track(endpoint, &api_key, &batch).await {
                Ok(tracked) => {
                    let failed = (tracked.errors.len() as u64).min(batch.len() as u64);
                    progress.sent += batch.len() as u64 - failed;
                    progress.failed += failed;
                    for error in tracked.errors {
                        progress.note(format!("Braze: {error}"));
                    }
                    break;
                }
                Err(error) if error.is_key_refused() => {
                    return Err(JobError::permanent(format!(
                        "{error}; check the API key and its users.track permission"
                    ))
                    .into());
                }
                Err(BrazeError::Refused { message, .. }) => {
                    progress.failed += batch.len() as u64;
                    progress.note(format!("Braze: {message}"));
                    break;
                }
                Err(BrazeError::RateLimited { wait }) => {
                    let patience = crate::scope::time_left()
                        .unwrap_or(Duration::from_secs(30))
                        .min(Duration::from_secs(30));
                    if wait > patience {
                        ledger.record_more(&*progress).await?;
                        return Err(JobError::deferred(
                            format!("Braze is rate-limiting; batch {number} goes on in {}s", wait.as_secs()),
                            wait,
                        )
                        .into());
                    }
                    let _waiting =
                        crate::scope::waiting(|| format!("waiting {}s for Braze's rate limit", wait.as_secs()));
                    tokio::time::sleep(wait).await;
                }
                Err(error @ BrazeError::Unavailable { .. }) if tries >= TRIES => {
                    ledger.record_more(&*progress).await?;
                    return Err(JobError::transient(format!("{error}; batch {number} is tried again later")).into());
                }
                Err(BrazeError::Unavailable { .. }) => {
                    tokio::time::sleep(Duration::from_millis(500 * (1 << tries))).await;
                }
            }
        }
        progress.batches = number;
        ledger.record_more(&*progress).await?;
    }
    Ok(())
}
