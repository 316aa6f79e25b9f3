//! As whom a call to Looker runs: the API user of the settings, or a person's own Looker user.

use crate::config::Secret;

#[derive(Debug, Clone)]
pub(super) enum Acting {
    /// The API user of the settings.
    Api,
    /// The less privileged fallback API user (`*_or_shared`, for someone with no Looker user).
    Fallback,
    /// This Looker user (its id), logged in as through the API user.
    User(String),
    /// The Looker account the person linked through OAuth (its user id), with its access token.
    Linked { user: String, token: Secret },
}

impl Acting {
    /// Whether the call runs with a person's own permissions rather than the bot's.
    pub(super) fn as_person(&self) -> bool {
        !matches!(self, Acting::Api | Acting::Fallback)
    }
}
