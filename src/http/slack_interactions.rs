//! `POST /slack/action`: Slack's interactivity request URL (named in the app manifest). Slack
//! posts here when someone clicks a button in one of the bot's messages or submits a modal, and
//! shows the user an error unless it gets a 200 within three seconds. Every interaction is
//! verified. Data-action buttons and their forms go to `features::data_actions` (a job, or a
//! modal opened at once); link buttons open their URL by themselves and are only acknowledged,
//! as are types the bot does not offer, so Slack never retries them.

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::slack_verify::VerifiedSlack;
use crate::features::commands::share::{self, SHARE_ACTION_ID, ShareClick};
use crate::features::data_actions::{self, ACTION_ID_PREFIX, Click, FORM_CALLBACK_ID, Submission, SubmitAnswer};
use crate::telemetry::printable;

pub fn router() -> Router<AppState> {
    Router::new().route("/slack/action", post(receive))
}

/// The parts of an interaction payload the bot reads.
#[derive(Debug, Default, Deserialize)]
pub struct Interaction {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub user: Option<InteractionUser>,
    #[serde(default)]
    pub team: Option<Named>,
    #[serde(default)]
    pub channel: Option<Named>,
    #[serde(default)]
    pub trigger_id: Option<String>,
    #[serde(default)]
    pub response_url: Option<String>,
    #[serde(default)]
    pub actions: Vec<InteractionAction>,
    #[serde(default)]
    pub view: Option<InteractionView>,
    /// The message the click came from.
    #[serde(default)]
    pub container: Option<Container>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Container {
    #[serde(default)]
    pub message_ts: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InteractionUser {
    pub id: String,
    #[serde(default)]
    pub team_id: Option<String>,
}

/// A team or a channel: only its id is read.
#[derive(Debug, Default, Deserialize)]
pub struct Named {
    pub id: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct InteractionAction {
    #[serde(default)]
    pub action_id: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub selected_option: Option<Selected>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Selected {
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InteractionView {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub hash: Option<String>,
    #[serde(default)]
    pub callback_id: Option<String>,
    #[serde(default)]
    pub private_metadata: Option<String>,
    #[serde(default)]
    pub state: Option<ViewState>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ViewState {
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, StateValue>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct StateValue {
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub selected_option: Option<Selected>,
}

/// Slack sends the interaction as JSON in the `payload` field of a form body.
fn payload(body: &[u8]) -> Option<Interaction> {
    let (_, json) = url::form_urlencoded::parse(body).find(|(key, _)| key == "payload")?;
    serde_json::from_str(&json).ok()
}

async fn receive(State(state): State<AppState>, VerifiedSlack { body, .. }: VerifiedSlack) -> Response {
    let Some(interaction) = payload(&body) else {
        return (StatusCode::BAD_REQUEST, "not a Slack interaction payload").into_response();
    };
    match acknowledge(&state, interaction).await {
        Ok(None) => StatusCode::OK.into_response(),
        Ok(Some(answer)) => Json(answer).into_response(),
        Err(Unrecorded) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the bot could not record this click; try again shortly",
        )
            .into_response(),
    }
}

/// The interaction could not be recorded: Slack tells the user it failed.
#[derive(Debug)]
pub struct Unrecorded;

/// What the bot does with an interaction (over HTTP or Socket Mode) before its answer: `None`
/// for an empty 200, or the JSON Slack expects (a modal's field errors).
pub async fn acknowledge(state: &AppState, interaction: Interaction) -> Result<Option<Value>, Unrecorded> {
    let user = interaction.user.as_ref().map(|u| u.id.clone()).unwrap_or_default();
    let team = interaction
        .team
        .as_ref()
        .map(|t| t.id.clone())
        .or_else(|| interaction.user.as_ref().and_then(|u| u.team_id.clone()))
        .unwrap_or_default();
    match interaction.kind.as_str() {
        "block_actions" => {
            for (index, action) in interaction.actions.iter().enumerate() {
                let action_id = action.action_id.as_deref().unwrap_or("-");
                let key = action
                    .value
                    .clone()
                    .or_else(|| action.selected_option.as_ref().and_then(|o| o.value.clone()));
                if action_id == SHARE_ACTION_ID {
                    let click = ShareClick {
                        team: team.clone(),
                        user: user.clone(),
                        channel: interaction.channel.as_ref().map(|c| c.id.clone()).unwrap_or_default(),
                        value: key.unwrap_or_default(),
                        response_url: interaction.response_url.clone(),
                        trigger_id: interaction.trigger_id.clone(),
                        message_ts: interaction.container.as_ref().and_then(|c| c.message_ts.clone()),
                    };
                    match share::clicked(&state.bot, click).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::info!(user = %printable(&user), "a share button without a question; nothing to do")
                        }
                        Err(error) => {
                            tracing::error!(%error, "could not record a share click");
                            return Err(Unrecorded);
                        }
                    }
                    continue;
                }
                let (true, Some(key)) = (action_id.starts_with(ACTION_ID_PREFIX), key) else {
                    // Link buttons ("Open in Looker") are opened by Slack itself.
                    tracing::debug!(user = %printable(&user), action_id = %printable(action_id), "button clicked; nothing to do");
                    continue;
                };
                let click = Click {
                    team: team.clone(),
                    user: user.clone(),
                    channel: interaction.channel.as_ref().map(|c| c.id.clone()),
                    key,
                    trigger_id: interaction.trigger_id.clone(),
                    response_url: interaction.response_url.clone(),
                    index,
                };
                if let Err(error) = data_actions::clicked(&state.bot, click).await {
                    tracing::error!(%error, "could not record a data-action click");
                    return Err(Unrecorded);
                }
            }
            Ok(None)
        }
        "view_submission" => {
            let Some(view) = interaction
                .view
                .filter(|v| v.callback_id.as_deref() == Some(FORM_CALLBACK_ID))
            else {
                return Ok(None);
            };
            let values = view
                .state
                .map(|state| state.values)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(block, mut actions)| {
                    let value = actions.remove("value")?;
                    let text = value.value.or_else(|| value.selected_option.and_then(|o| o.value))?;
                    Some((block, text))
                })
                .collect();
            let submission = Submission {
                user: user.clone(),
                view_id: view.id.clone().unwrap_or_default(),
                private_metadata: view.private_metadata.unwrap_or_default(),
                values,
                // A submission Slack delivers again is the same view in the same state.
                once: view
                    .id
                    .map(|id| format!("{user}:{id}:{}", view.hash.unwrap_or_default())),
            };
            match data_actions::submitted(&state.bot, submission).await {
                Ok(SubmitAnswer::Close) => Ok(None),
                Ok(SubmitAnswer::Errors(errors)) => Ok(Some(json!({"response_action": "errors", "errors": errors}))),
                Err(error) => {
                    tracing::error!(%error, "could not record a data-action form");
                    Err(Unrecorded)
                }
            }
        }
        other => {
            tracing::debug!(user = %printable(&user), kind = %printable(other), "interaction the bot does not offer; acknowledged");
            Ok(None)
        }
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::http::fuzz::json;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_interaction_is_read_or_refused(document in json(), bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let form = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("payload", &document.to_string())
                .finish();
            for body in [form.into_bytes(), bytes] {
                let _ = payload(&body);
            }
        }
    }
}
