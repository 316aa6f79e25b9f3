//! What became of a notification, for the application that sent it (`GET /api/notify/{id}`):
//! queued (with its last error while it retries), posted (with a link to the message), held back
//! as a repeat, or failed with the reason. A sender sees only its own notifications.

use serde::Serialize;

use super::NotifyJob;
use crate::features::Context;
use crate::features::errors::Error;
use crate::features::ledger::posted_messages;
use crate::queue::Job;
use crate::store::JobState;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    Queued {
        attempts: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        last_error: Option<String>,
    },
    Posted {
        channel: String,
        ts: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        link: Option<String>,
    },
    /// A repeat within the sender's `wait_duration`: counted, told with the next one posted.
    Held,
    Failed {
        reason: String,
    },
}

/// The state of notification `id` if `sender` sent it (and it is not forgotten yet).
pub async fn status(ctx: &Context, sender: &str, id: i64) -> Result<Option<State>, Error> {
    let Some(detail) = ctx.queue.store().job_detail(id).await? else {
        return Ok(None);
    };
    if detail.record.kind != NotifyJob::KIND {
        return Ok(None);
    }
    match serde_json::from_str::<NotifyJob>(&detail.payload) {
        Ok(job) if job.sender == sender => {}
        _ => return Ok(None),
    }
    let record = detail.record;
    let state = match record.state {
        JobState::Queued | JobState::Running => State::Queued {
            attempts: record.attempts,
            last_error: record.last_error,
        },
        JobState::Dead => State::Failed {
            reason: record.last_error.unwrap_or_else(|| "it could not be posted".into()),
        },
        JobState::Done => {
            let progress = detail.progress.unwrap_or_default();
            match posted_messages(&progress).into_iter().next() {
                Some((channel, ts)) => {
                    // Known since the job posted it: the answer never waits on Slack.
                    let link = ctx
                        .slack
                        .known_identity()
                        .map(|identity| permalink(&identity.url, &channel, &ts));
                    State::Posted { channel, ts, link }
                }
                None => State::Held,
            }
        }
    };
    Ok(Some(state))
}

/// A link to a message, as Slack makes them: `https://acme.slack.com/archives/C1/p1700000000000100`.
fn permalink(workspace: &str, channel: &str, ts: &str) -> String {
    format!(
        "{}/archives/{channel}/p{}",
        workspace.trim_end_matches('/'),
        ts.replace('.', "")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_permalink_is_the_workspace_the_channel_and_the_ts_without_its_dot() {
        assert_eq!(
            super::permalink("https://acme.slack.com/", "C0000GENERAL", "1700000000.000100"),
            "https://acme.slack.com/archives/C0000GENERAL/p1700000000000100"
        );
    }
}
