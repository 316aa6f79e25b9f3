//! Notifications from other applications to Slack, through the bot (`POST /api/notify`): a CI
//! run, a model's drift alarm. Recorded durably before the 202, then delivered as a job with the
//! usual retries, posted once (the ledger), repeats within a sender's `wait_duration` held back
//! and counted, and related ones (`thread_key`) kept in one thread, where an escalation (an error
//! after infos) is also shown in the channel.

pub mod message;
pub mod request;
mod status;

use serde::{Deserialize, Serialize};
use slack_morphism::prelude::*;

use super::Context;
use super::errors::Error;
use super::ledger::Ledger;
use crate::queue::{Job, JobError, JobRun};
use crate::store::notify::{Repeat, ThreadTurn};
use crate::store::now_millis;
pub use request::{Level, Notification, Problem};
pub use status::{State, status};

/// The job: one notification from one sender.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotifyJob {
    pub sender: String,
    pub notification: Notification,
}

/// Whether the notification is posted, decided once and kept with the job, so that a retry
/// (after a Slack failure, or a crash) keeps to the first decision.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Decision {
    Post {
        repeats: u64,
        since: Option<i64>,
        /// For a reply in a thread: whether it is an escalation, also shown in the channel.
        #[serde(default)]
        broadcast: Option<bool>,
    },
    Held,
}

impl Job for NotifyJob {
    const KIND: &'static str = "notification";
    type Context = Context;

    fn summary(&self) -> String {
        let n = &self.notification;
        format!(
            "notification from {} to {}: '{}'",
            self.sender,
            n.channel,
            crate::render::mrkdwn::truncate(&n.title, 80)
        )
    }

    async fn run(self, ctx: &Context, run: &JobRun) -> Result<(), JobError> {
        deliver(ctx, run, &self).await.map_err(JobError::from)
    }
}

async fn deliver(ctx: &Context, run: &JobRun, job: &NotifyJob) -> Result<(), Error> {
    // The workspace's address, for the links `GET /api/notify/{id}` gives (asked once, here
    // rather than in that answer).
    if let Err(error) = ctx.slack.identity().await {
        tracing::debug!(%error, "the workspace's address is not known yet; links wait for it");
    }
    let n = &job.notification;
    let name = n.channel.trim_start_matches('#');
    let channel = ctx.slack.directory.channel_id(&ctx.slack, name).await?.ok_or_else(|| {
        Error::from(JobError::permanent(format!(
            "no channel named #{name} that the bot can see (check the name; invite the bot to private channels)"
        )))
    })?;
    let store = ctx.queue.store().notify();
    let scope = format!("{}\u{1f}{}", job.sender, channel);
    let ledger = Ledger::new(ctx, run)?;
    let decision = match ledger.more::<Decision>()? {
        Some(decided) => decided,
        None => {
            let decided = match n.wait_ms {
                Some(wait) => {
                    let key = format!("{scope}\u{1f}{}", n.repeat_key());
                    match store.repeat(&key, run.id(), run.recorded_at(), wait as i64).await? {
                        Repeat::Held => Decision::Held,
                        Repeat::Post { repeats, since } => Decision::Post {
                            repeats,
                            since,
                            broadcast: None,
                        },
                    }
                }
                None => Decision::Post {
                    repeats: 0,
                    since: None,
                    broadcast: None,
                },
            };
            ledger.record_more(&decided).await?;
            decided
        }
    };
    let Decision::Post {
        repeats,
        since,
        broadcast: decided_broadcast,
    } = decision
    else {
        return Ok(());
    };
    let since_text = since.map(crate::store::utc_text);
    let message = message::message(n, &job.sender, ctx.notify_mentions, repeats, since_text.as_deref());
    let Some(thread_key) = &n.thread_key else {
        ledger.post(&channel, &message, None).await?;
        return Ok(());
    };
    let key = format!("{scope}\u{1f}{thread_key}");
    let level = n.level as i16;
    match store.thread_turn(&key, run.id(), now_millis()).await? {
        ThreadTurn::Start => {
            let posted = ledger.post(&channel, &message, None).await?;
            if !store.thread_started(&key, run.id(), &posted.ts.0, level).await? {
                tracing::info!(
                    job = run.id(),
                    "the thread was started already; its first message stands"
                );
            }
        }
        ThreadTurn::Reply { ts } => {
            // An escalation (above any level before it in the thread) is also shown in the
            // channel: claimed in one step, so two at once are broadcast once, and kept with the
            // job, so a retry keeps to it.
            let broadcast = match decided_broadcast {
                Some(broadcast) => broadcast,
                None => {
                    let broadcast = store.raise_level(&key, level).await?;
                    let decided = Decision::Post {
                        repeats,
                        since,
                        broadcast: Some(broadcast),
                    };
                    ledger.record_more(&decided).await?;
                    broadcast
                }
            };
            ledger.post_reply(&channel, &message, &SlackTs(ts), broadcast).await?;
        }
        ThreadTurn::Pending => {
            let wait = std::time::Duration::from_secs(1);
            return Err(JobError::deferred("waiting for the thread's first message to be posted", wait).into());
        }
    }
    Ok(())
}
