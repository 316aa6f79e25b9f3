//! Lookerbot's `POST /data_actions`: a LookML `action:` (or the `post` integration's form) sends
//! `message` to `channel`, as the bot. Recorded as a job, posted once.

use serde::{Deserialize, Serialize};

use super::delivery::Target;
use crate::domain::slack::OutgoingMessage;
use crate::features::Context;
use crate::features::errors::Error;
use crate::features::ledger::Ledger;
use crate::queue::{Job, JobError, JobRun, Priority};
use crate::render::section;

/// A message to post where a data action asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChannelMessage {
    pub target: Target,
    pub message: String,
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
    let message = OutgoingMessage {
        text: job.message.clone(),
        blocks: vec![section(&job.message)],
    };
    ledger.post(&channel, &message, None).await?;
    Ok(())
}
