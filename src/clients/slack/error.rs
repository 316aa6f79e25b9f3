//! Slack's failures: `ok:false` codes as a type, rate limits with their `Retry-After`, HTTP and
//! transport failures, and which of them are worth another try.

use std::time::Duration;

use slack_morphism::errors::SlackClientError;

use crate::clients::network::why_unreachable;

/// Slack's `error` codes the bot acts on; every other one is kept as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackErrorCode {
    ChannelNotFound,
    NotInChannel,
    IsArchived,
    UserNotFound,
    InvalidAuth,
    NotAuthed,
    AccountInactive,
    TokenRevoked,
    MissingScope,
    InvalidBlocks,
    MsgTooLong,
    Ratelimited,
    InternalError,
    ServiceUnavailable,
    Other(String),
}

impl SlackErrorCode {
    pub fn parse(code: &str) -> Self {
        match code {
            "channel_not_found" => Self::ChannelNotFound,
            "not_in_channel" => Self::NotInChannel,
            "is_archived" => Self::IsArchived,
            "user_not_found" | "users_not_found" => Self::UserNotFound,
            "invalid_auth" => Self::InvalidAuth,
            "not_authed" => Self::NotAuthed,
            "account_inactive" => Self::AccountInactive,
            "token_revoked" => Self::TokenRevoked,
            "missing_scope" => Self::MissingScope,
            "invalid_blocks" => Self::InvalidBlocks,
            "msg_too_long" | "msg_blocks_too_long" => Self::MsgTooLong,
            "ratelimited" => Self::Ratelimited,
            "internal_error" | "fatal_error" | "request_timeout" => Self::InternalError,
            "service_unavailable" => Self::ServiceUnavailable,
            other => Self::Other(other.to_string()),
        }
    }

    /// What an operator should do about the errors that stop work for good.
    pub fn operator_hint(&self) -> Option<&'static str> {
        match self {
            Self::NotInChannel => Some("invite the bot to the channel (/invite @lookerbot)"),
            Self::ChannelNotFound => Some("check the channel name, and invite the bot to private channels"),
            Self::IsArchived => Some("the channel is archived; point the schedule elsewhere"),
            Self::InvalidAuth | Self::TokenRevoked | Self::AccountInactive | Self::NotAuthed => {
                Some("SLACK_API_KEY is not valid any more; reinstall the app and update it")
            }
            Self::MissingScope => Some("the Slack app lacks a scope; recreate it from `lookerbot manifest`"),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::ChannelNotFound => "channel_not_found",
            Self::NotInChannel => "not_in_channel",
            Self::IsArchived => "is_archived",
            Self::UserNotFound => "user_not_found",
            Self::InvalidAuth => "invalid_auth",
            Self::NotAuthed => "not_authed",
            Self::AccountInactive => "account_inactive",
            Self::TokenRevoked => "token_revoked",
            Self::MissingScope => "missing_scope",
            Self::InvalidBlocks => "invalid_blocks",
            Self::MsgTooLong => "msg_too_long",
            Self::Ratelimited => "ratelimited",
            Self::InternalError => "internal_error",
            Self::ServiceUnavailable => "service_unavailable",
            Self::Other(code) => code,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    #[error("Slack {method} failed: {}{}", code.as_str(), detail_suffix(detail))]
    Api {
        method: &'static str,
        code: SlackErrorCode,
        detail: Vec<String>,
    },
    #[error("Slack rate-limited {method}; retry after {}s", retry_after.as_secs())]
    RateLimited {
        method: &'static str,
        retry_after: Duration,
    },
    /// The bot's own keeping of Slack's pace: this channel's (or method's) next turn is too far
    /// off to wait for inside one job.
    #[error("waiting for Slack's pace{} for {method}; next turn in {}s", in_channel(channel), retry_after.as_secs())]
    Paced {
        method: &'static str,
        channel: Option<String>,
        retry_after: Duration,
    },
    #[error("Slack answered HTTP {status} to {method}")]
    Http { method: &'static str, status: u16 },
    #[error("Slack {method} did not answer within {}s", timeout.as_secs())]
    Timeout { method: &'static str, timeout: Duration },
    #[error("could not reach Slack for {method}: {message}")]
    Transport { method: &'static str, message: String },
}

fn in_channel(channel: &Option<String>) -> String {
    channel.as_ref().map(|c| format!(" in {c}")).unwrap_or_default()
}

fn detail_suffix(detail: &[String]) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(" ({})", detail.join("; "))
    }
}

impl SlackError {
    /// Worth trying again later (network, Slack's own trouble, rate limits).
    pub fn is_transient(&self) -> bool {
        match self {
            SlackError::Api { code, .. } => {
                matches!(
                    code,
                    SlackErrorCode::Ratelimited | SlackErrorCode::InternalError | SlackErrorCode::ServiceUnavailable
                )
            }
            SlackError::RateLimited { .. }
            | SlackError::Paced { .. }
            | SlackError::Timeout { .. }
            | SlackError::Transport { .. } => true,
            SlackError::Http { status, .. } => *status == 408 || *status >= 500,
        }
    }

    /// Whether the request may still take effect at Slack after this error: a timeout or a broken
    /// connection leaves it unknown; any answer from Slack (an error, a status) means it is over.
    pub fn may_still_land(&self) -> bool {
        matches!(self, SlackError::Timeout { .. } | SlackError::Transport { .. })
    }

    /// A `response_url` Slack no longer takes: past its half hour or its five uses (Slack answers
    /// those with a 404).
    pub fn response_url_gone(&self) -> bool {
        matches!(
            self,
            SlackError::Http {
                method: "response_url",
                status: 404 | 410
            }
        )
    }

    /// The bot cannot post in the channel: it is not a member, or cannot see it.
    pub fn not_in_channel(&self) -> bool {
        matches!(
            self,
            SlackError::Api {
                code: SlackErrorCode::NotInChannel | SlackErrorCode::ChannelNotFound,
                ..
            }
        )
    }

    /// How long Slack asked us to wait, when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SlackError::RateLimited { retry_after, .. } | SlackError::Paced { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// What went wrong, as a metric label: Slack's error code (a short word of letters and
    /// underscores, else `other`), `ratelimited`, `http_<status>`, `timeout` or `transport`.
    pub fn metric_label(&self) -> String {
        match self {
            SlackError::Api { code, .. } => {
                let code = code.as_str();
                let word = code.len() <= 40 && code.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                if word { code.to_string() } else { "other".into() }
            }
            SlackError::RateLimited { .. } => "ratelimited".into(),
            SlackError::Paced { .. } => "paced".into(),
            SlackError::Http { status, .. } => format!("http_{status}"),
            SlackError::Timeout { .. } => "timeout".into(),
            SlackError::Transport { .. } => "transport".into(),
        }
    }

    pub fn code(&self) -> Option<&SlackErrorCode> {
        match self {
            SlackError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// `host`: the Slack API host the call went to, to name it when it cannot be reached.
    pub(super) fn from_client(method: &'static str, host: Option<&str>, error: SlackClientError) -> Self {
        match error {
            SlackClientError::ApiError(e) => SlackError::Api {
                method,
                code: SlackErrorCode::parse(&e.code),
                detail: e.errors.unwrap_or_default(),
            },
            SlackClientError::RateLimitError(e) => SlackError::RateLimited {
                method,
                retry_after: e.retry_after.unwrap_or(Duration::from_secs(1)),
            },
            SlackClientError::HttpError(e) => SlackError::Http {
                method,
                status: e.status_code.as_u16(),
            },
            SlackClientError::SystemError(e) => SlackError::Transport {
                method,
                message: match (&e.cause, host) {
                    (Some(cause), Some(host)) => why_unreachable(host, cause.as_ref()),
                    _ => e.message.clone().unwrap_or_else(|| "no answer".into()),
                },
            },
            other => SlackError::Transport {
                method,
                message: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use slack_morphism::errors::SlackClientSystemError;

    use super::*;

    #[test]
    fn a_slack_host_that_does_not_resolve_is_named_in_one_sentence() {
        let lookup = std::io::Error::other("failed to lookup address information: Name or service not known");
        let error = SlackClientError::SystemError(SlackClientSystemError {
            message: None,
            cause: Some(Box::new(lookup)),
        });
        let said = SlackError::from_client("auth.test", Some("slack.example.com"), error).to_string();
        assert_eq!(
            said,
            "could not reach Slack for auth.test: cannot resolve slack.example.com"
        );
        assert!(!said.contains("Some(") && !said.contains("protocol error"), "{said}");
    }
}
