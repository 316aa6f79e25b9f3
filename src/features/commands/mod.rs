//! The `/looker` command, mentions and DMs: the grammar ([`grammar`]), what is answered at once
//! ([`help`]), who may ask ([`access`]), and the job that answers the rest after Slack's
//! acknowledgement, one file per command. Every failure reaches the asker as one sentence; what
//! an operator needs goes to the log and, when an operator can fix it, to `lookerbot jobs --failed`.

pub mod access;
mod connect;
mod dashboard;
pub mod find;
pub mod grammar;
pub mod help;
mod look;
pub mod reply;
pub mod share;

use serde::{Deserialize, Serialize};

use crate::features::Context;
use crate::features::audience::Placement;
use crate::features::audit::{self, Asked};
use crate::features::errors::{Error, UserError};
use crate::features::identity::as_asker;
use crate::features::ledger::Ledger;
use crate::queue::{Job, JobError, JobRun, Priority};
use access::{Admission, admit_within_limit};
use grammar::{Command, words};
use help::Catalog;
use reply::Conversation;
pub use reply::ReplyTo;

/// The dedupe key of a question asked in a message (a mention or a DM). Keyed on the message
/// rather than the event, so Slack's retries, and the `app_mention` and `message.im` events of
/// one message, make one answer; link previews look it up to leave answered links alone.
pub fn question_key(team_id: &str, channel: &str, ts: &str) -> String {
    format!("slack-message:{team_id}:{channel}:{ts}")
}

/// A command to run after the acknowledgement (the job payload).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommandRequest {
    /// `/looker` (or whatever the slash command is called), or `@lookerbot`.
    #[serde(default = "default_invocation")]
    pub invoked_as: String,
    pub team_id: String,
    pub user_id: String,
    pub channel_id: String,
    /// Answers to a mention go in its thread.
    pub thread_ts: Option<String>,
    pub reply: ReplyTo,
    pub command: Command,
    /// The words as typed, for logs and `lookerbot jobs`.
    #[serde(default)]
    pub text: String,
    /// Asked again by "Share to channel": the answer goes in the channel unless it takes only links.
    #[serde(default)]
    pub sharing: bool,
}

fn default_invocation() -> String {
    "/looker".into()
}

impl Job for CommandRequest {
    const KIND: &'static str = "command";
    type Context = Context;
    const PRIORITY: Priority = Priority::Interactive;

    fn summary(&self) -> String {
        format!(
            "{} “{}” from {} in {}",
            self.invoked_as,
            crate::render::mrkdwn::truncate(self.text.trim(), 80),
            self.user_id,
            self.channel_id
        )
    }

    /// Interactive answers are not retried: a failure is told to the asker at once (a wait for
    /// Slack's pace is not a failure: the job comes back at its turn). The job is
    /// buried (with the operator's detail) only when an operator can do something about it.
    async fn run(self, ctx: &Context, run: &JobRun) -> Result<(), JobError> {
        let admission = admit_within_limit(ctx, &self.team_id, &self.user_id, run).await;
        let (mut placement, mut share) = share::placement(ctx, &self).await;
        // Who reads the answer is unknown while Slack is down: the answer waits for Slack rather
        // than going to the asker alone (which it does on the last attempt).
        if placement.slack_down && !run.is_last_attempt() {
            return Err(JobError::transient("Slack did not say who reads the conversation"));
        }
        // Someone from another organisation gets links to Looker, never data, wherever they ask.
        if matches!(admission, Ok(Admission::LinksOnly)) {
            (placement.audience, placement.dm, share) = (crate::config::Audience::Links, false, None);
        }
        let mut conversation = Conversation::new(
            ctx,
            Ledger::new(ctx, run)?,
            &self.channel_id,
            self.thread_ts.as_deref(),
            &self.user_id,
            &self.reply,
        )
        .placed(
            placement,
            share,
            crate::features::audience::tie(ctx, &self.channel_id).await,
        );
        let asked = Asked {
            team: &self.team_id,
            slack_user: &self.user_id,
            kind: self.kind(placement),
            what: what(&self.command),
            channel: &self.channel_id,
            audience: placement.recorded(),
            key: format!("job:{}", run.id()),
        };
        let (failure, looker_user) = match admission {
            Ok(Admission::Admitted | Admission::LinksOnly) if self.sharing && placement.links_only() => {
                (UserError::LinksOnlyHere, None)
            }
            Ok(Admission::Admitted | Admission::LinksOnly) if self.sharing && !placement.known => {
                (UserError::SlackUnavailable, None)
            }
            // As the asker's own Looker user where the Looker says so.
            Ok(Admission::Admitted | Admission::LinksOnly) => {
                match as_asker(ctx, &self.team_id, &self.user_id, answer(&mut conversation, &self)).await {
                    (Ok(()), looker_user) => {
                        audit::record(ctx, asked, looker_user, "answered".into()).await;
                        if self.sharing
                            && let ReplyTo::ResponseUrl { url } = &self.reply
                            && let Some(url) = url.open(&ctx.sealer)
                            && let Err(error) = ctx.slack.delete_original(&url).await
                        {
                            tracing::info!(%error, "could not remove the answer only its asker saw");
                        }
                        return Ok(());
                    }
                    // Slack's pace: the answer comes at its turn, not an apology now.
                    (Err(error), _) if error.waits_its_turn() => return Err(error.into()),
                    // Slack (or the store) is down: the answer is tried again, like a delivery.
                    (Err(error), _) if error.is_outage() && !run.is_last_attempt() => return Err(error.into()),
                    (Err(error), looker_user) => (error.for_user(), looker_user),
                }
            }
            Ok(Admission::Refused(reason)) => (reason, None),
            Err(error) if error.is_transient() && !run.is_last_attempt() => return Err(Error::from(error).into()),
            Err(error) => (Error::from(error).for_user(), None),
        };
        audit::record(ctx, asked, looker_user, audit::told(&failure)).await;
        // Not connected yet: the sentence (never the audit) carries the person's own link.
        let failure = crate::features::identity::connect::explain(ctx, &self.team_id, &self.user_id, failure);
        conversation.say(&failure.to_string()).await.map_err(JobError::from)?;
        match failure.detail() {
            Some(detail) => Err(JobError::permanent(detail)),
            None => Ok(()),
        }
    }
}

impl CommandRequest {
    /// How the audit names the way it was asked.
    fn kind(&self, placement: Placement) -> &'static str {
        if self.sharing {
            "share"
        } else if self.invoked_as.starts_with('/') {
            "command"
        } else if placement.dm {
            "dm"
        } else {
            "mention"
        }
    }
}

/// What a command runs, as the audit names it.
fn what(command: &Command) -> String {
    match command {
        Command::Help => "help".into(),
        Command::Find { request } => format!("find {}", request.words),
        Command::Look { id, .. } => format!("look {id}"),
        Command::Query { slug, .. } => format!("query {slug}"),
        Command::Dashboard { request } => format!("dashboard {}", request.id),
        Command::NotAFilter { word } => format!("dashboard (not a filter: {word})"),
        Command::ForeignLink { url } => format!("link {url}"),
        Command::Unknown { text } => format!("words {text}"),
        Command::Connect => "connect".into(),
        Command::Disconnect => "disconnect".into(),
    }
}

/// Answers the command in its conversation.
async fn answer(conversation: &mut Conversation<'_>, request: &CommandRequest) -> Result<(), Error> {
    let ctx = conversation.ctx;
    let command = match &request.command {
        Command::Help => {
            ctx.custom_commands.refresh_soon();
            let commands = ctx.custom_commands.snapshot(&ctx.lookers);
            let catalog = Catalog {
                commands: &commands,
                incomplete: !ctx.custom_commands.loaded(&ctx.lookers),
                accounts: ctx.lookers.all().any(|(_, l)| l.settings().identity.is_oauth()),
            };
            return conversation
                .answer_asker(&help::help(&request.invoked_as, &catalog))
                .await;
        }
        Command::Unknown { text } => match ctx.custom_commands.find(&ctx.lookers, &words(text)) {
            Some((custom, args)) => Command::Dashboard {
                request: custom.request(&args)?,
            },
            None if !ctx.custom_commands.loaded(&ctx.lookers) => {
                return Err(UserError::CommandsNotLoaded { text: text.clone() }.into());
            }
            None => {
                let pointer = help::unknown(&request.invoked_as, text);
                return conversation.answer_asker(&pointer).await;
            }
        },
        Command::Connect => return connect::connect(conversation, &request.team_id).await,
        Command::Disconnect => return connect::disconnect(conversation, &request.team_id).await,
        Command::ForeignLink { .. } => return Err(UserError::ForeignLink.into()),
        Command::NotAFilter { word } => return Err(UserError::NotAFilter { word: word.clone() }.into()),
        other => other.clone(),
    };

    conversation.start_working().await?;
    match &command {
        Command::Look { id, looker } => look::look(conversation, looker, id).await,
        Command::Query { slug, url, looker } => look::query(conversation, looker, slug, url).await,
        Command::Dashboard { request: board } => dashboard::dashboard(conversation, board).await,
        Command::Find { request: find } => find::answer(conversation, find).await,
        Command::Help
        | Command::Unknown { .. }
        | Command::ForeignLink { .. }
        | Command::NotAFilter { .. }
        | Command::Connect
        | Command::Disconnect => Ok(()),
    }
}
