//! Telling a person, in a DM, whenever a Looker account is connected to their Slack user: a
//! connect link that leaked and was used by someone else does not go unnoticed, and the notice
//! says how to undo it. Recorded as a job, so a Slack outage delays it and a crash repeats nothing.

use serde::{Deserialize, Serialize};
use slack_morphism::prelude::SlackUserId;

use crate::domain::slack::OutgoingMessage;
use crate::features::Context;
use crate::features::errors::Error;
use crate::features::ledger::Ledger;
use crate::queue::{Job, JobError, JobRun, Priority, Push};
use crate::render::mrkdwn::escape;
use crate::render::section;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkNotice {
    pub slack_user: String,
    /// The Looker's host and the account's email, as Looker named it.
    pub looker: String,
    pub looker_email: String,
    pub linked_at: i64,
}

impl LinkNotice {
    /// Once per link made.
    pub fn push(&self) -> Push {
        Push::once(format!(
            "link-notice:{}:{}:{}",
            self.looker, self.slack_user, self.linked_at
        ))
    }

    pub fn message(&self) -> OutgoingMessage {
        let account = match self.looker_email.is_empty() {
            true => "a Looker account".to_string(),
            false => format!("the Looker account {}", escape(&self.looker_email)),
        };
        let text = format!(
            "Your Slack account was just connected to {account} at {}. I now answer you with its permissions. If this wasn't you, type `/looker disconnect` and tell your Looker admin.",
            escape(&self.looker)
        );
        OutgoingMessage {
            blocks: vec![section(&text)],
            text,
        }
    }
}

impl Job for LinkNotice {
    const KIND: &'static str = "link_notice";
    type Context = Context;
    const PRIORITY: Priority = Priority::Interactive;

    fn summary(&self) -> String {
        format!("notice of a Looker account connected at {}", self.looker)
    }

    async fn run(self, ctx: &Context, run: &JobRun) -> Result<(), JobError> {
        let ledger = Ledger::new(ctx, run)?;
        notify(ctx, &ledger, &self).await.map_err(JobError::from)
    }
}

async fn notify(ctx: &Context, ledger: &Ledger<'_>, notice: &LinkNotice) -> Result<(), Error> {
    let dm = ctx.slack.open_dm(&SlackUserId(notice.slack_user.clone())).await?;
    ledger.post(&dm, &notice.message(), None).await?;
    Ok(())
}
