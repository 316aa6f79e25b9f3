//! Lookerbot's `POST /data_actions`: a LookML `action:` (or the `post` integration's form) sends
//! `message` to `channel`, as the bot. Recorded as a job, posted once.

use serde::{Deserialize, Serialize};

use super::delivery::Target;
use crate::domain::slack::OutgoingMessage;
use crate::features::Context;
use crate::features::errors::Error;
use crate::features::ledger::Ledger;
use crate::queue::{Job, JobError, JobRun, Priority};
use crate::render::mrkdwn::escape;
use crate::render::{context, plain_section};

/// A message to post where a data action asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChannelMessage {
    pub target: Target,
    pub message: String,
    /// Who sent it, as the action's `looker_user_email` (or `looker_user`) parameter says; a
    /// LookML `user_attribute_param` is how Looker tells.
    #[serde(default)]
    pub sender: Option<String>,
}

impl Job for ChannelMessage {
    const KIND: &'static str = "data_action_message";
    type Context = Context;
    const PRIORITY: Priority = Priority::Interactive;

    fn summary(&self) -> String {
        format!("data-action message to {}", self.target)
    }

    async fn run(self, ctx: &Context, run: &JobRun) -> Result<(), JobError> {
        let ledger = Ledger::new(ctx, run)?;
        post(ctx, &ledger, &self).await.map_err(JobError::from)
    }
}

async fn post(ctx: &Context, ledger: &Ledger<'_>, job: &ChannelMessage) -> Result<(), Error> {
    let channel = super::delivery::conversation(ctx, &job.target).await?;
    let message = attributed(&job.message, job.sender.as_deref());
    ledger.post(&channel, &message, None).await?;
    Ok(())
}

/// The message as Looker's user wrote it, shown and never interpreted: no mention pings, no link
/// hides its address, no mrkdwn. A line says who sent it, so nobody posts anonymously as the bot.
pub fn attributed(message: &str, sender: Option<&str>) -> OutgoingMessage {
    let said = match sender.map(str::trim).filter(|s| !s.is_empty()) {
        Some(sender) => format!("Sent from Looker by {}", escape(sender)),
        None => "Sent from a Looker data action; Looker did not say by whom".to_string(),
    };
    OutgoingMessage {
        text: format!("{} ({said})", escape(message)),
        blocks: vec![plain_section(message), context(&said)],
    }
}
