//! What a job has done in Slack, so that each post and upload happens once across retries,
//! crashes and takeovers. Before a post, its intent is recorded in the job's progress (which part
//! of the job, and when); the post carries metadata naming the job and the part; its `ts` is
//! recorded after. A job run again skips parts with a recorded `ts`, and for a part begun but not
//! recorded first looks for its own message in the conversation (since the intent) before
//! posting. Uploads likewise: the file id is recorded before the upload is completed and checked
//! with `files.info` before uploading again. Parts are numbered in the order a job makes them,
//! which is the same on every attempt.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use slack_morphism::prelude::*;

use super::Context;
use super::errors::Error;
use crate::clients::slack::{FileUpload, PostTag, Posted};
use crate::domain::slack::OutgoingMessage;
use crate::queue::{JobError, JobRun};
use crate::store::now_millis;

/// How long a post or upload an attempt sent may still be reaching Slack after that attempt
/// died (a `kill -9` or a lost lease drops the request, not Slack's handling of it). A later
/// attempt looks for it only after this, so it never posts beside one still landing.
const IN_FLIGHT_MS: i64 = 5_000;

/// Waits (as a deferral, holding no worker) until whatever an attempt begun at `at` sent has
/// landed or failed.
fn settled_since(at: i64) -> Result<(), Error> {
    let wait = at + IN_FLIGHT_MS - now_millis();
    if wait <= 0 {
        return Ok(());
    }
    let why = "an earlier attempt's post may still be reaching Slack";
    Err(JobError::deferred(why, std::time::Duration::from_millis(wait as u64)).into())
}

/// A job's progress, as saved with it.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Progress {
    #[serde(default)]
    parts: BTreeMap<String, Part>,
    /// Files kept for the job (a one-time download), by name.
    #[serde(default)]
    files: BTreeMap<String, KeptFile>,
    /// What else the job records having done (an export's batches sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    more: Option<serde_json::Value>,
}

/// A file kept in the job store for the rest of a job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeptFile {
    pub id: i64,
    pub content_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Part {
    /// About to post, since `at` (unix ms). `answered`: Slack answered that attempt (with an
    /// error), so nothing of it is still on its way.
    Posting {
        at: i64,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        answered: bool,
    },
    Posted {
        channel: String,
        ts: String,
    },
    /// An upload begun: Slack named the file `file`.
    Uploading {
        at: i64,
        file: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        answered: bool,
    },
    Uploaded {
        file: String,
    },
}

/// The messages a job's progress records as posted: (channel, ts), in the order posted.
pub fn posted_messages(progress: &str) -> Vec<(String, String)> {
    let Ok(progress) = serde_json::from_str::<Progress>(progress) else {
        return Vec::new();
    };
    progress
        .parts
        .into_values()
        .filter_map(|part| match part {
            Part::Posted { channel, ts } => Some((channel, ts)),
            _ => None,
        })
        .collect()
}

/// The effects of one job run.
pub struct Ledger<'a> {
    ctx: &'a Context,
    run: Option<&'a JobRun>,
    progress: Mutex<Progress>,
    next: AtomicUsize,
}

impl<'a> Ledger<'a> {
    /// The ledger of a job, with what earlier attempts recorded.
    pub fn new(ctx: &'a Context, run: &'a JobRun) -> Result<Self, Error> {
        Ok(Self {
            ctx,
            run: Some(run),
            progress: Mutex::new(run.progress()?.unwrap_or_default()),
            next: AtomicUsize::new(0),
        })
    }

    /// Effects outside any job (a benchmark): nothing recorded, nothing looked for.
    pub fn untracked(ctx: &'a Context) -> Self {
        Self {
            ctx,
            run: None,
            progress: Mutex::new(Progress::default()),
            next: AtomicUsize::new(0),
        }
    }

    /// How long ago the job's request arrived (zero outside a job).
    pub fn age(&self) -> std::time::Duration {
        let age = self.run.map_or(0, |run| crate::store::now_millis() - run.recorded_at());
        std::time::Duration::from_millis(age.max(0) as u64)
    }

    /// Whether this is a retry of work recorded more than a minute ago: an answer posted now
    /// comes late because an earlier attempt met an outage.
    pub fn late(&self) -> bool {
        self.run
            .is_some_and(|run| run.attempt() > 1 && crate::store::now_millis() - run.recorded_at() > 60_000)
    }

    fn next_part(&self) -> String {
        format!("p{}", self.next.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn part(&self, name: &str) -> Option<Part> {
        self.progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .parts
            .get(name)
            .cloned()
    }

    /// Records `part` durably before anything else happens.
    async fn record(&self, name: &str, part: Part) -> Result<(), Error> {
        let Some(run) = self.run else { return Ok(()) };
        let progress = {
            let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
            progress.parts.insert(name.to_string(), part);
            progress.clone()
        };
        run.save_progress(&progress).await?;
        Ok(())
    }

    /// Posts a message once: skipped when an earlier attempt posted it.
    pub async fn post(
        &self,
        channel: &SlackChannelId,
        message: &OutgoingMessage,
        thread: Option<&SlackTs>,
    ) -> Result<Posted, Error> {
        self.post_once(channel, message, thread, false).await
    }

    /// Replies once in a thread; with `broadcast`, also shown in the channel.
    pub async fn post_reply(
        &self,
        channel: &SlackChannelId,
        message: &OutgoingMessage,
        thread: &SlackTs,
        broadcast: bool,
    ) -> Result<Posted, Error> {
        self.post_once(channel, message, Some(thread), broadcast).await
    }

    async fn post_once(
        &self,
        channel: &SlackChannelId,
        message: &OutgoingMessage,
        thread: Option<&SlackTs>,
        broadcast: bool,
    ) -> Result<Posted, Error> {
        let name = self.next_part();
        let Some(run) = self.run else {
            return Ok(self
                .ctx
                .slack
                .post_tagged(channel, message, thread, None, broadcast)
                .await?);
        };
        let tag = PostTag {
            job: run.id(),
            part: name.clone(),
        };
        match self.part(&name) {
            Some(Part::Posted { channel, ts }) => {
                tracing::info!(job = run.id(), part = %name, "posted by an earlier attempt; not again");
                return Ok(Posted {
                    channel: SlackChannelId(channel),
                    ts: SlackTs(ts),
                });
            }
            Some(Part::Posting { at, answered }) => {
                if !answered {
                    settled_since(at)?;
                }
                if let Some(ts) = self.ctx.slack.find_tagged(channel, thread, at, &tag).await? {
                    tracing::info!(job = run.id(), part = %name, "found the post an earlier attempt made");
                    self.record(&name, posted(channel, &ts)).await?;
                    return Ok(Posted {
                        channel: channel.clone(),
                        ts,
                    });
                }
            }
            _ => {}
        }
        let at = now_millis();
        self.record(&name, Part::Posting { at, answered: false }).await?;
        let sent = match self
            .ctx
            .slack
            .post_tagged(channel, message, thread, Some(&tag), broadcast)
            .await
        {
            Ok(sent) => sent,
            Err(error) => {
                if !error.may_still_land() {
                    let _ = self.record(&name, Part::Posting { at, answered: true }).await;
                }
                return Err(error.into());
            }
        };
        self.record(&name, posted(&sent.channel, &sent.ts)).await?;
        Ok(sent)
    }

    /// Shares a file once, with blocks as its message.
    pub async fn upload(
        &self,
        channel: &SlackChannelId,
        file: &FileUpload,
        blocks: Option<Vec<SlackBlock>>,
        thread: Option<&SlackTs>,
    ) -> Result<(), Error> {
        let name = self.next_part();
        let slack = &self.ctx.slack;
        if self.run.is_none() {
            slack.upload_file(channel, file, blocks, thread).await?;
            return Ok(());
        }
        match self.part(&name) {
            Some(Part::Uploaded { .. }) => return Ok(()),
            Some(Part::Uploading { file: id, at, answered }) => {
                if !answered {
                    settled_since(at)?;
                }
                let id = SlackFileId(id);
                if slack.file_shared_in(&id, channel).await? == Some(true) {
                    tracing::info!(part = %name, "found the upload an earlier attempt completed");
                    return self.record(&name, Part::Uploaded { file: id.to_string() }).await;
                }
            }
            _ => {}
        }
        let ticket = slack.start_upload(file).await?;
        let (at, id) = (now_millis(), ticket.file_id.to_string());
        let uploading = |answered| Part::Uploading {
            at,
            file: id.clone(),
            answered,
        };
        self.record(&name, uploading(false)).await?;
        if let Err(error) = slack.finish_upload(&ticket, file, channel, blocks, thread).await {
            if !error.may_still_land() {
                let _ = self.record(&name, uploading(true)).await;
            }
            return Err(error.into());
        }
        self.record(
            &name,
            Part::Uploaded {
                file: ticket.file_id.to_string(),
            },
        )
        .await
    }

    /// A file kept for this job under `name` by an earlier attempt.
    pub fn kept_file(&self, name: &str) -> Option<KeptFile> {
        self.progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .files
            .get(name)
            .cloned()
    }

    /// Remembers a file kept for the rest of the job, across attempts (a one-time download).
    pub async fn remember_file(&self, name: &str, kept: KeptFile) -> Result<(), Error> {
        let Some(run) = self.run else { return Ok(()) };
        let progress = {
            let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
            progress.files.insert(name.to_string(), kept);
            progress.clone()
        };
        run.save_progress(&progress).await?;
        Ok(())
    }

    /// The files kept for this job (their ids), to forget once it is done.
    /// What the job recorded besides its posts and files (see [`Ledger::record_more`]).
    pub fn more<T: serde::de::DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        let progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        let Some(more) = progress.more.clone() else {
            return Ok(None);
        };
        serde_json::from_value(more)
            .map(Some)
            .map_err(|e| JobError::permanent(format!("the job's recorded progress cannot be read: {e}")).into())
    }

    /// Records durably what else the job has done, with its posts and files.
    pub async fn record_more<T: Serialize>(&self, more: &T) -> Result<(), Error> {
        let Some(run) = self.run else { return Ok(()) };
        let value = serde_json::to_value(more).map_err(|e| JobError::permanent(format!("progress: {e}")))?;
        let progress = {
            let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
            progress.more = Some(value);
            progress.clone()
        };
        run.save_progress(&progress).await?;
        Ok(())
    }

    /// What a finished job's progress recorded besides its posts (for whoever waits on it).
    pub fn more_of<T: serde::de::DeserializeOwned>(progress: &str) -> Option<T> {
        let progress: Progress = serde_json::from_str(progress).ok()?;
        serde_json::from_value(progress.more?).ok()
    }

    pub fn kept_files(&self) -> Vec<i64> {
        let progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        progress.files.values().map(|f| f.id).collect()
    }
}

fn posted(channel: &SlackChannelId, ts: &SlackTs) -> Part {
    Part::Posted {
        channel: channel.to_string(),
        ts: ts.to_string(),
    }
}
