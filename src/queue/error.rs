//! Why a job did not finish: for the operator (logs, `lookerbot jobs`), never shown to Slack users
//! as it is, and whether trying again may help.

use std::time::Duration;

use crate::store::StoreError;

/// Whether trying again later may help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Transient,
    Permanent,
    /// Not a failure: a pace or a `Retry-After` says to come back later. The job goes back to
    /// the queue until then, holding no worker, and the attempt is not counted.
    Deferred,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct JobError {
    pub failure: Failure,
    /// What went wrong, for operators.
    pub message: String,
    /// How long the failing service asked us to wait, when it did.
    pub retry_after: Option<Duration>,
}

impl JobError {
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            failure: Failure::Permanent,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            failure: Failure::Transient,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Comes back later, at `after`: see [`Failure::Deferred`].
    pub fn deferred(message: impl Into<String>, after: Duration) -> Self {
        Self {
            failure: Failure::Deferred,
            message: message.into(),
            retry_after: Some(after),
        }
    }

    pub fn is_transient(&self) -> bool {
        matches!(self.failure, Failure::Transient | Failure::Deferred)
    }
}

/// The queue's own database failing is worth another try.
impl From<StoreError> for JobError {
    fn from(error: StoreError) -> Self {
        Self::transient(error.to_string())
    }
}
