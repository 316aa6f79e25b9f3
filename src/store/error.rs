//! The one error the store gives: the database failed.

/// The database failed: unreachable, locked, full or refusing a statement.
#[derive(Debug, Clone, thiserror::Error)]
#[error("database error: {message}")]
pub struct StoreError {
    message: String,
}

impl StoreError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::new(error.to_string())
    }
}
