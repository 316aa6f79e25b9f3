//! Looker's failures, carrying Looker's own message for the operator.

use crate::clients::network::describe;

#[derive(Debug, thiserror::Error)]
pub enum LookerError {
    #[error("Looker login failed at {looker}: {message}")]
    Login {
        looker: String,
        status: Option<u16>,
        message: String,
    },
    #[error("Looker answered {status} to {what}: {message}")]
    Api {
        status: u16,
        what: String,
        message: String,
        /// Whether it ran as the asker's own Looker user (their permissions, not the bot's).
        as_person: bool,
    },
    /// The Looker runs each person's work as their own user, and this person has none there.
    #[error("no Looker user at {looker} has the asker's Slack email")]
    NoLookerUser { looker: String },
    /// The Looker runs each person's work with the account they linked, and this person has
    /// not linked one (or their link stopped working).
    #[error("the asker has not linked a Looker account at {looker}")]
    NotLinked { looker: String },
    /// The asker's Looker user exists but is disabled: nothing runs for them, not even as the
    /// fallback user.
    #[error("the asker's Looker user at {looker} is disabled")]
    DisabledUser { looker: String },
    /// Slack did not say who the asker is, so their own Looker user cannot be found; nothing
    /// runs rather than run as someone else.
    #[error("Slack did not say who the asker is, so their Looker user at {looker} is unknown")]
    UnknownAsker { looker: String },
    #[error("could not reach Looker for {what}: {}", describe(source))]
    Network {
        what: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("Looker's answer to {what} could not be read: {message}")]
    Decode { what: String, message: String },
    /// Where people's linked accounts are kept could not be read (the database); try again.
    #[error("the linked Looker accounts could not be read: {message}")]
    AccountsUnavailable { message: String },
}

impl LookerError {
    /// Worth trying again later: the network, Looker being busy or down, or a failed login (an
    /// instance restarting or an admin fixing credentials; attempts run out if it stays broken).
    pub fn is_transient(&self) -> bool {
        match self {
            LookerError::Login { .. } => true,
            LookerError::Api { status, .. } => *status == 408 || *status == 429 || *status >= 500,
            LookerError::Network { .. } | LookerError::AccountsUnavailable { .. } => true,
            LookerError::Decode { .. }
            | LookerError::NoLookerUser { .. }
            | LookerError::NotLinked { .. }
            | LookerError::DisabledUser { .. }
            | LookerError::UnknownAsker { .. } => false,
        }
    }

    /// Whether the call certainly did nothing at Looker (so a call that is not idempotent, such
    /// as a data action, may be sent again): the login failed, the connection was never made, or
    /// Looker refused it for its rate limit.
    pub fn never_sent(&self) -> bool {
        match self {
            LookerError::Login { .. } => true,
            LookerError::Network { source, .. } => source.is_connect(),
            LookerError::Api { status, .. } => *status == 429,
            LookerError::NoLookerUser { .. }
            | LookerError::NotLinked { .. }
            | LookerError::DisabledUser { .. }
            | LookerError::UnknownAsker { .. } => true,
            LookerError::AccountsUnavailable { .. } => true,
            LookerError::Decode { .. } => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            LookerError::Api { status, .. } => Some(*status),
            LookerError::Login { status, .. } => *status,
            _ => None,
        }
    }
}
