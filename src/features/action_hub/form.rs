//! The Action Hub's forms, field for field as Looker's own Slack action and Lookerbot ask them:
//! the `slack` integration's `channelType` (an interactive select: a channel or user id typed in,
//! or chosen from the channels or the people), `channel`, `initial_comment` and `filename`; and
//! Lookerbot's bare list of one `channel` select of channels and people.

use serde_json::{Value, json};

use super::destinations::Choice;
use crate::features::Context;
use crate::features::errors::{Error, UserError};

fn options(choices: &[Choice]) -> Vec<Value> {
    choices
        .iter()
        .map(|c| json!({"name": c.id, "label": c.label}))
        .collect()
}

fn channel_type_field() -> Value {
    json!({
        "description": "Type of destination to fetch",
        "label": "Channel Type",
        "name": "channelType",
        "options": [
            {"name": "manual", "label": "Manual Channel ID"},
            {"name": "channels", "label": "Channels"},
            {"name": "users", "label": "Users"}
        ],
        "default": "manual",
        "type": "select",
        "interactive": true
    })
}

fn share_in(choices: &[Choice], description: &str) -> Value {
    json!({
        "description": description,
        "label": "Share In",
        "name": "channel",
        "options": options(choices),
        "required": true,
        "type": "select"
    })
}

/// The `slack` integration's form for the values Looker has so far (`form_params`).
pub async fn slack_form(ctx: &Context, form_params: &Value, every_public: bool) -> Value {
    let channel_type = form_params
        .get("channelType")
        .and_then(Value::as_str)
        .unwrap_or("manual");
    let channel = match channel_type {
        "channels" => match ctx.destinations.channels(&ctx.slack, every_public).await {
            Ok(list) => share_in(&list, "Name of the Slack channel you would like to post to."),
            Err(error) => return form_error(error.into()),
        },
        "users" => match ctx.destinations.people(&ctx.slack).await {
            Ok(list) => share_in(&list, "The person to send the file to, as a direct message."),
            Err(error) => return form_error(error.into()),
        },
        _ => json!({
            "description": "Slack channel or user id",
            "label": "Channel or User ID",
            "name": "channel",
            "type": "string"
        }),
    };
    json!({"fields": [
        channel_type_field(),
        channel,
        {"label": "Comment", "type": "string", "name": "initial_comment"},
        {"label": "Filename", "name": "filename", "type": "string"}
    ]})
}

/// What Looker shows in place of the form when Slack cannot list: one sentence.
fn form_error(error: Error) -> Value {
    tracing::warn!(%error, "the Action Hub's form could not list Slack's channels");
    let sentence = match error.for_user() {
        UserError::SlackRefused { .. } => {
            "Slack refused to list channels for the bot; an admin can find why in the bot's log.".to_string()
        }
        other => other.to_string(),
    };
    json!({"error": sentence})
}

/// Lookerbot's form (`POST /data_actions/form`): one `channel` select of the channels the bot is
/// in. Never the workspace's people: the form answers anyone holding the webhook token, which
/// Looker hands to every address a user schedules to.
pub async fn lookerbot_form(ctx: &Context) -> Result<Value, Error> {
    let channels = ctx.destinations.channels(&ctx.slack, false).await?;
    Ok(json!([share_in(
        &channels,
        "For channels, the Lookerbot user must be a member."
    )]))
}
