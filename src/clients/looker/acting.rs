//! As whom a call to Looker runs: the API user of the settings, or a person's own Looker user.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Acting {
    /// The API user of the settings.
    Api,
    /// This Looker user (its id), logged in as through the API user.
    User(String),
}
