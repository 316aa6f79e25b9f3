//! The two kinds of error. [`UserError`] is what a Slack user reads: its `Display` is exactly the
//! sentence (what happened, what to do next), never an operator's detail. [`Error`] is what the
//! features pass around (Looker's, Slack's, the store's failures as they are); it becomes a
//! sentence in [`Error::for_user`] and a queue outcome in `From<Error> for JobError`, and those
//! two are the only places where that is decided.

use crate::clients::bucket::BucketError;
use crate::clients::looker::{ImageError, LookerError};
use crate::clients::slack::{SlackError, SlackErrorCode};
use crate::domain::looker::UnknownLooker;
use crate::queue::{Failure, JobError};
use crate::store::StoreError;

/// One sentence for the person in Slack. Variants with a `detail` keep what the operator needs;
/// it is logged and recorded with the job, and never shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("I couldn't find {what} in Looker, or the bot's Looker user can't see it.")]
    NotFound { what: String },
    #[error("The bot's Looker user isn't allowed to see {what}. Ask a Looker admin to share it.")]
    Forbidden { what: String },
    #[error("I couldn't find {what} in Looker, or your Looker user can't see it.")]
    NotFoundForYou { what: String },
    #[error("Your Looker user isn't allowed to see {what}. Ask a Looker admin to share it with you.")]
    ForbiddenForYou { what: String },
    #[error(
        "I answer everyone here as their own Looker user, and {looker} has no user with your Slack email. Ask your Looker admin to add you."
    )]
    NoLookerUser { looker: String },
    #[error("Your Looker user at {looker} is disabled, so I can't answer you. Ask your Looker admin.")]
    DisabledLookerUser { looker: String },
    #[error(
        "Slack didn't tell me who you are just now, so I can't answer with your own Looker permissions. Try again in a minute."
    )]
    UnknownAsker,
    #[error(
        "I answer everyone here with their own Looker account, and you haven't connected yours at {looker}. Type `/looker connect` to connect it, then ask again."
    )]
    NotLinked { looker: String },
    #[error(
        "I answer everyone here with their own Looker account: <{link}|connect your account at {looker}> (the link is yours alone and works for 15 minutes), then ask again."
    )]
    ConnectFirst { looker: String, link: String },
    #[error("This channel gets links to Looker, not data, so I can't share this answer here.")]
    LinksOnlyHere,
    #[error("You're asking faster than I can answer. Wait a minute, then try again.")]
    TooFast,
    #[error("Looker isn't answering right now. Please try again in a few minutes.")]
    LookerUnavailable,
    #[error("Looker couldn't show {what}. An admin can find why in the bot's log.")]
    LookerRefused { what: String, detail: String },
    #[error("I can't post in this conversation. Invite me with `/invite @lookerbot` and ask again.")]
    CannotPostHere,
    #[error("Slack isn't answering right now. Please try again in a few minutes.")]
    SlackUnavailable,
    #[error("Slack refused the answer; an admin can find why in the bot's log.")]
    SlackRefused { detail: String },
    #[error("No Looker at {host} is connected to this bot. It knows {known}.")]
    UnknownLooker { host: String, known: String },
    #[error("That link isn't from a Looker this bot is connected to.")]
    ForeignLink,
    #[error("{what} has no query to run.")]
    NoQuery { what: String },
    #[error("{dashboard} has no filter called {asked}. {choices}")]
    UnknownFilters {
        dashboard: String,
        asked: String,
        choices: String,
    },
    #[error("I don't know how to “{text}”. Type `{invoked_as} help` to see what I can do.")]
    UnknownCommand { invoked_as: String, text: String },
    #[error(
        "I couldn't load the custom commands from Looker yet, so I don't know “{text}” yet. Try again in a minute."
    )]
    CommandsNotLoaded { text: String },
    #[error("“{word}” is not a filter: write filters as name=value, for example `region=west`.")]
    NotAFilter { word: String },
    #[error("“{command}” takes no arguments: its dashboard has no filters.")]
    NoFilters { command: String },
    #[error("Bots can't use lookerbot.")]
    Bot,
    #[error("Guest accounts can't use lookerbot in this workspace. Ask a workspace admin if you need access.")]
    Guest,
    #[error(
        "lookerbot only answers people from its own workspace here. Ask an admin of this workspace if you need access."
    )]
    Stranger,
    #[error(
        "Looker could not draw this chart because its image renderer is not available. Ask a Looker admin to enable rendering on the instance, or open the chart in Looker."
    )]
    NoRenderer { detail: String },
    #[error("Looker took longer than {seconds} seconds to draw this chart. Open it in Looker, or try again later.")]
    ChartTooSlow { seconds: u64 },
    #[error("Looker could not draw this chart. Open it in Looker.")]
    ChartFailed { detail: String },
    #[error(
        "The chart was drawn but could not be stored for Slack (the image bucket refused it). An admin can find the cause in the bot's log."
    )]
    ChartNotStored { detail: String },
    #[error("This tile could not be loaded: it was deleted, or the bot's Looker user can't see it.")]
    TileGone,
    #[error("This tile could not be loaded. An admin can find why in the bot's log.")]
    TileFailed { detail: String },
    #[error("The full result could not be attached as CSV; open it in Looker instead.")]
    CsvNotAttached { detail: String },
    #[error("Looker sent no file with this delivery: choose PNG, PDF or CSV in the schedule, or open the dashboard.")]
    NoFileInDelivery,
    #[error("Sorry, I couldn't take that request just now. Please try again in a moment.")]
    NotRecorded,
    #[error("This button has expired. Run the query again for fresh actions.")]
    ActionExpired,
    #[error("I don't recognise this button. Run the query again for fresh actions.")]
    ActionUnknown,
    #[error("Looker couldn't perform this action. An admin can find why in the bot's log.")]
    ActionFailed { detail: String },
    #[error(
        "I lost track of this action while sending it, so it may have gone through. Check in Looker before trying again."
    )]
    ActionUncertain,
    #[error("Looker couldn't load this action's form. Please try again in a moment.")]
    FormUnavailable { detail: String },
    #[error("Something went wrong on my side. Please try again in a moment; if it keeps happening, tell an admin.")]
    Internal { detail: String },
}

impl UserError {
    /// What the operator needs to know, when this is a failure an operator can fix.
    pub fn detail(&self) -> Option<&str> {
        match self {
            UserError::LookerRefused { detail, .. }
            | UserError::SlackRefused { detail }
            | UserError::NoRenderer { detail }
            | UserError::ChartFailed { detail }
            | UserError::ChartNotStored { detail }
            | UserError::TileFailed { detail }
            | UserError::CsvNotAttached { detail }
            | UserError::ActionFailed { detail }
            | UserError::FormUnavailable { detail }
            | UserError::Internal { detail } => Some(detail),
            _ => None,
        }
    }

    /// What Looker's refusal means to the asker; `what` names the content ("Look 7").
    pub fn from_looker(error: &LookerError, what: &str) -> Self {
        tracing::warn!(%error, what, "Looker refused");
        let what = crate::render::mrkdwn::escape(what);
        let as_person = matches!(error, LookerError::Api { as_person: true, .. });
        if let LookerError::NoLookerUser { looker } = error {
            return UserError::NoLookerUser {
                looker: crate::render::mrkdwn::escape(looker),
            };
        }
        if let LookerError::DisabledUser { looker } = error {
            return UserError::DisabledLookerUser {
                looker: crate::render::mrkdwn::escape(looker),
            };
        }
        if let LookerError::UnknownAsker { .. } = error {
            return UserError::UnknownAsker;
        }
        if let LookerError::NotLinked { looker } = error {
            return UserError::NotLinked {
                looker: crate::render::mrkdwn::escape(looker),
            };
        }
        match error.status() {
            Some(404) if as_person => UserError::NotFoundForYou { what },
            Some(403) if as_person => UserError::ForbiddenForYou { what },
            Some(404) => UserError::NotFound { what },
            Some(403) => UserError::Forbidden { what },
            _ if error.is_transient() => UserError::LookerUnavailable,
            _ => UserError::LookerRefused {
                what,
                detail: error.to_string(),
            },
        }
    }

    pub fn from_slack(error: &SlackError) -> Self {
        tracing::warn!(%error, "Slack refused");
        match error.code() {
            Some(SlackErrorCode::NotInChannel | SlackErrorCode::ChannelNotFound) => UserError::CannotPostHere,
            _ if error.is_transient() => UserError::SlackUnavailable,
            _ => UserError::SlackRefused {
                detail: operator_message(error),
            },
        }
    }

    /// The sentence shown in place of a chart Looker could not draw.
    pub fn from_image(error: &ImageError) -> Self {
        tracing::warn!(%error, "chart image unavailable");
        match error {
            ImageError::NoRenderer(detail) => UserError::NoRenderer { detail: detail.clone() },
            ImageError::TimedOut(limit) => UserError::ChartTooSlow {
                seconds: limit.as_secs(),
            },
            other => UserError::ChartFailed {
                detail: other.to_string(),
            },
        }
    }

    pub fn from_bucket(error: &BucketError) -> Self {
        tracing::error!(%error, "could not store a chart image in the bucket");
        UserError::ChartNotStored {
            detail: error.to_string(),
        }
    }

    /// The warning shown for a dashboard tile Looker refused.
    pub fn from_tile(error: &LookerError) -> Self {
        tracing::warn!(%error, "a dashboard tile could not be loaded");
        match error.status() {
            Some(403 | 404) => UserError::TileGone,
            _ => UserError::TileFailed {
                detail: error.to_string(),
            },
        }
    }

    pub fn unknown_looker(unknown: &UnknownLooker) -> Self {
        let known = match unknown.known.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => "no Looker".into(),
        };
        UserError::UnknownLooker {
            host: crate::render::mrkdwn::escape(unknown.host.as_deref().unwrap_or("that address")),
            known,
        }
    }
}

/// Slack's error with what an operator should do about it.
fn operator_message(error: &SlackError) -> String {
    match error.code().and_then(|c| c.operator_hint()) {
        Some(hint) => format!("{error} — {hint}"),
        None => error.to_string(),
    }
}

/// A feature's failure, as it happened.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Looker refused `what` (`None`: the request as a whole).
    #[error("{error}")]
    Looker { error: LookerError, what: Option<String> },
    #[error(transparent)]
    Slack(#[from] SlackError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Job(#[from] JobError),
    /// Already a sentence for the asker.
    #[error("{0}")]
    User(UserError),
}

impl From<LookerError> for Error {
    fn from(error: LookerError) -> Self {
        Error::Looker { error, what: None }
    }
}

impl From<UserError> for Error {
    fn from(error: UserError) -> Self {
        Error::User(error)
    }
}

/// Names what a Looker call was about, for the sentence the asker reads.
pub trait About<T> {
    fn about(self, what: impl Into<String>) -> Result<T, Error>;
}

impl<T> About<T> for Result<T, LookerError> {
    fn about(self, what: impl Into<String>) -> Result<T, Error> {
        self.map_err(|error| Error::Looker {
            error,
            what: Some(what.into()),
        })
    }
}

impl Error {
    /// Worth trying again later.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Looker { error, .. } => error.is_transient(),
            Error::Slack(error) => error.is_transient(),
            Error::Store(_) => true,
            Error::Job(error) => error.is_transient(),
            Error::User(_) => false,
        }
    }

    /// The sentence the asker reads.
    pub fn for_user(&self) -> UserError {
        match self {
            Error::Looker { error, what } => UserError::from_looker(error, what.as_deref().unwrap_or("that")),
            Error::Slack(error) => UserError::from_slack(error),
            Error::User(error) => error.clone(),
            Error::Store(_) | Error::Job(_) => UserError::Internal {
                detail: self.to_string(),
            },
        }
    }

    /// Slack (5xx, timeout, no connection, 429) or the store failed, not the question: an answer
    /// meeting it is tried again, like a delivery (Slack's table: `SlackError::is_transient`).
    pub fn is_outage(&self) -> bool {
        match self {
            Error::Slack(error) => error.is_transient(),
            Error::Job(error) => error.is_transient(),
            Error::Store(_) => true,
            Error::Looker { .. } | Error::User(_) => false,
        }
    }

    /// Slack's pace, its `Retry-After`, or a deferral: the work goes on at its turn.
    pub fn waits_its_turn(&self) -> bool {
        match self {
            Error::Slack(slack) => slack.retry_after().is_some(),
            Error::Job(job) => job.failure == Failure::Deferred,
            _ => false,
        }
    }
}

/// How a failure ends a job: retried when it may pass, buried with the operator's detail when not.
impl From<Error> for JobError {
    fn from(error: Error) -> Self {
        let failure = match &error {
            _ if error.waits_its_turn() => Failure::Deferred, // at its turn, holding no worker
            _ if error.is_transient() => Failure::Transient,
            _ => Failure::Permanent,
        };
        match error {
            Error::Slack(slack) => JobError {
                failure,
                retry_after: slack.retry_after(),
                message: operator_message(&slack),
            },
            Error::Job(job) => job,
            Error::User(user) => JobError {
                failure,
                retry_after: None,
                message: user.detail().map(str::to_string).unwrap_or_else(|| user.to_string()),
            },
            other => JobError {
                failure,
                retry_after: None,
                message: other.to_string(),
            },
        }
    }
}

impl From<LookerError> for JobError {
    fn from(error: LookerError) -> Self {
        Error::from(error).into()
    }
}

impl From<SlackError> for JobError {
    fn from(error: SlackError) -> Self {
        Error::from(error).into()
    }
}

#[cfg(test)]
#[path = "errors_tests.rs"]
mod tests;
