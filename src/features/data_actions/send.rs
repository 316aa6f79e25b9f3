//! Sending a clicked (or submitted) data action to Looker, at most once: the intent is recorded
//! before the call and Looker's answer after it, so a job resumed after a crash never sends the
//! action again. It retries only what certainly never reached Looker (no connection, a rate
//! limit); when it cannot know, it says so. The clicker is told the outcome ephemerally.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use slack_morphism::prelude::*;

use super::{Asker, KeyRefusal, unix_seconds};
use crate::clients::looker::LookerClient;
use crate::domain::looker::models::DataActionResponse;
use crate::features::Context;
use crate::features::audit::{self, Asked};
use crate::features::commands::access::admit_within_limit;
use crate::features::errors::{Error, UserError};
use crate::features::identity::as_asker;
use crate::queue::{Job, JobError, JobRun, Priority};
use crate::render::mrkdwn::escape;
use crate::store::{DataActionRecord, now_millis};

/// A data action to send for someone who clicked its button (or submitted its form).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataActionSend {
    pub asker: Asker,
    /// The button's signed key.
    pub key: String,
    /// The form's values, by Looker's field name (empty without a form).
    #[serde(default)]
    pub form_values: BTreeMap<String, String>,
    /// The form could not be opened in time: only say so.
    #[serde(default)]
    pub form_failed: bool,
}

/// What an attempt recorded.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Progress {
    /// The action's label, for the audit.
    #[serde(default)]
    label: Option<String>,
    /// The call to Looker began (unix ms).
    #[serde(default)]
    sent_at: Option<i64>,
    /// What to tell the clicker, once known.
    #[serde(default)]
    outcome: Option<String>,
}

impl Job for DataActionSend {
    const KIND: &'static str = "data_action_send";
    type Context = Context;
    const PRIORITY: Priority = Priority::Interactive;

    fn summary(&self) -> String {
        format!("data action for {}", self.asker.user)
    }

    async fn run(self, ctx: &Context, run: &JobRun) -> Result<(), JobError> {
        let mut progress: Progress = run.progress()?.unwrap_or_default();
        if progress.outcome.is_none() {
            let sentence = if progress.sent_at.is_some() {
                tracing::warn!(
                    job = run.id(),
                    "a data action was begun by an attempt that stopped; not sent again"
                );
                UserError::ActionUncertain.to_string()
            } else {
                // Sent as the clicker, where the Looker runs each person's work as theirs.
                let performed = self.perform(ctx, run, &mut progress);
                let asker = &self.asker;
                let (result, looker_user) = as_asker(ctx, &asker.team, &asker.user, performed).await;
                let sentence = match result {
                    Ok(sentence) => sentence,
                    Err(error) if error.is_transient() => return Err(error.into()),
                    Err(error) => {
                        tracing::warn!(%error, "a data action failed");
                        // Kept with the job, so without a connect link (it says `/looker connect`).
                        error.for_user().to_string()
                    }
                };
                let asked = Asked {
                    team: &asker.team,
                    slack_user: &asker.user,
                    kind: "data_action",
                    what: progress.label.clone().unwrap_or_else(|| "a data action".into()),
                    channel: asker.channel.as_deref().unwrap_or("-"),
                    audience: "private",
                    key: format!("job:{}", run.id()),
                };
                audit::record(ctx, asked, looker_user, sentence.clone()).await;
                sentence
            };
            progress.outcome = Some(sentence);
            run.save_progress(&progress).await?;
        }
        let sentence = progress.outcome.as_deref().unwrap_or_default();
        tell(ctx, &self.asker, sentence).await.map_err(JobError::from)
    }
}

impl DataActionSend {
    /// Checks who asked and the key, then sends the action once; returns what to tell.
    async fn perform(&self, ctx: &Context, run: &JobRun, progress: &mut Progress) -> Result<String, Error> {
        if self.form_failed {
            return Err(UserError::FormUnavailable {
                detail: "Slack did not open the form in time".into(),
            }
            .into());
        }
        if let Some(reason) = admit_within_limit(ctx, &self.asker.team, &self.asker.user, run)
            .await?
            .refusal_of_data()
        {
            return Err(reason.into());
        }
        let (record, looker) = action_for(ctx, &self.key).await?;
        let action: Value = serde_json::from_str(&record.action).map_err(|e| UserError::ActionFailed {
            detail: format!("the kept action cannot be read: {e}"),
        })?;
        progress.label = action.get("label").and_then(Value::as_str).map(str::to_string);
        progress.sent_at = Some(now_millis());
        run.save_progress(&*progress).await?;
        match looker.perform_data_action(&action, &self.form_values).await {
            Ok(answer) => Ok(outcome(&answer)),
            Err(error) if error.never_sent() && error.is_transient() => {
                // Looker never saw it: the next attempt may send it.
                progress.sent_at = None;
                run.save_progress(&*progress).await?;
                Err(error.into())
            }
            Err(error) if error.status().is_some_and(|s| (400..500).contains(&s)) => Err(UserError::ActionFailed {
                detail: error.to_string(),
            }
            .into()),
            Err(error) => {
                tracing::warn!(%error, "a data action's outcome is unknown");
                Ok(UserError::ActionUncertain.to_string())
            }
        }
    }
}

/// The kept action a key names, and the client of its Looker.
pub(super) async fn action_for<'a>(ctx: &'a Context, key: &str) -> Result<(DataActionRecord, &'a LookerClient), Error> {
    let id = ctx
        .action_keys
        .verify(key, unix_seconds())
        .map_err(|refusal| match refusal {
            KeyRefusal::Expired => UserError::ActionExpired,
            KeyRefusal::Malformed | KeyRefusal::Tampered => {
                tracing::warn!(%refusal, "refused a data-action key");
                UserError::ActionUnknown
            }
        })?;
    let record = ctx
        .queue
        .store()
        .data_action(&id)
        .await?
        .ok_or(UserError::ActionUnknown)?;
    let looker = ctx
        .lookers
        .registry()
        .key(&record.looker)
        .and_then(|key| ctx.lookers.get(&key))
        .ok_or_else(|| UserError::ActionFailed {
            detail: format!("{} is no longer a configured Looker", record.looker),
        })?;
    Ok((record, looker))
}

/// What the clicker reads about Looker's answer: its message on success, its validation errors
/// listed, or one sentence.
pub(super) fn outcome(answer: &DataActionResponse) -> String {
    let message = answer.message.as_deref().map(str::trim).filter(|m| !m.is_empty());
    if answer.success {
        return format!(
            ":white_check_mark: {}",
            message.map(escape).unwrap_or_else(|| "Done.".into())
        );
    }
    let errors: Vec<String> = answer
        .validation_errors
        .iter()
        .flat_map(|v| v.errors.iter().flatten())
        .filter_map(|e| {
            let message = e.message.as_deref()?.trim();
            Some(match e.field.as_deref() {
                Some(field) if !field.is_empty() => format!("• {}: {}", escape(field), escape(message)),
                _ => format!("• {}", escape(message)),
            })
        })
        .collect();
    if !errors.is_empty() {
        return format!(":x: Looker didn't accept this action:\n{}", errors.join("\n"));
    }
    format!(
        ":x: {}",
        message
            .map(escape)
            .unwrap_or_else(|| "The action didn't go through. Check it in Looker.".into())
    )
}

/// Tells the clicker: through the click's `response_url`, or an ephemeral message where they
/// clicked when that has lapsed (it lasts half an hour).
pub(super) async fn tell(ctx: &Context, asker: &Asker, sentence: &str) -> Result<(), Error> {
    if let Some(url) = asker.response_url.as_ref().and_then(|url| url.open(&ctx.sealer)) {
        match ctx.slack.respond(&url, sentence).await {
            Ok(()) => return Ok(()),
            Err(error) if asker.channel.is_none() => return Err(error.into()),
            Err(error) => tracing::info!(%error, "response_url failed; answering ephemerally"),
        }
    }
    let Some(channel) = &asker.channel else {
        tracing::warn!(user = %asker.user, "nowhere to tell the outcome of a data action");
        return Ok(());
    };
    ctx.slack
        .post_ephemeral(
            &SlackChannelId(channel.clone()),
            &SlackUserId(asker.user.clone()),
            sentence,
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::looker::models::{ValidationError, ValidationErrorDetail};

    #[test]
    fn the_clicker_reads_lookers_message_or_its_validation_errors() {
        let done = DataActionResponse {
            success: true,
            message: Some("Ticket <#42> created".into()),
            ..Default::default()
        };
        assert_eq!(outcome(&done), ":white_check_mark: Ticket &lt;#42&gt; created");
        let refused = DataActionResponse {
            success: false,
            validation_errors: Some(ValidationError {
                errors: Some(vec![ValidationErrorDetail {
                    field: Some("email".into()),
                    message: Some("is not an address".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            outcome(&refused),
            ":x: Looker didn't accept this action:\n• email: is not an address"
        );
        assert!(outcome(&DataActionResponse::default()).starts_with(":x: The action didn't go through"));
    }
}
