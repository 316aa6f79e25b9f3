//! `POST /slack/action`: Slack's interactivity request URL (named in the app manifest). Slack
//! posts here when someone clicks a button or a link button in one of the bot's messages, uses a
//! shortcut or submits a modal, and shows the user an error unless it gets a 200 within three
//! seconds. Every interaction is verified; the ones the bot has nothing to do for (link buttons
//! open their URL in the browser by themselves) are acknowledged with an empty 200, and unknown
//! types get the same 200 so Slack never retries them.

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;

use super::AppState;
use super::slack_verify::VerifiedSlack;

pub fn router() -> Router<AppState> {
    Router::new().route("/slack/action", post(receive))
}

/// The parts of an interaction payload the bot reads.
#[derive(Debug, Deserialize)]
pub struct Interaction {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub user: Option<InteractionUser>,
    #[serde(default)]
    pub actions: Vec<InteractionAction>,
}

#[derive(Debug, Deserialize)]
pub struct InteractionUser {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct InteractionAction {
    #[serde(default)]
    pub action_id: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// Slack sends the interaction as JSON in the `payload` field of a form body.
fn payload(body: &[u8]) -> Option<Interaction> {
    let (_, json) = url::form_urlencoded::parse(body).find(|(key, _)| key == "payload")?;
    serde_json::from_str(&json).ok()
}

async fn receive(VerifiedSlack { body, .. }: VerifiedSlack) -> Response {
    let Some(interaction) = payload(&body) else {
        return (StatusCode::BAD_REQUEST, "not a Slack interaction payload").into_response();
    };
    acknowledge(&interaction);
    StatusCode::OK.into_response()
}

/// What the bot does with an interaction (over HTTP or Socket Mode) before its empty 200.
pub fn acknowledge(interaction: &Interaction) {
    let user = interaction.user.as_ref().map(|u| u.id.as_str()).unwrap_or("-");
    match interaction.kind.as_str() {
        // Link buttons ("Open in Looker") are opened by Slack itself; the click is only reported.
        "block_actions" => {
            for action in &interaction.actions {
                tracing::debug!(
                    user,
                    action_id = action.action_id.as_deref().unwrap_or("-"),
                    kind = action.kind.as_deref().unwrap_or("-"),
                    "button clicked; nothing to do"
                );
            }
        }
        other => tracing::debug!(user, kind = other, "interaction the bot does not offer; acknowledged"),
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::http::fuzz::json;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_interaction_is_answered(document in json(), bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let form = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("payload", &document.to_string())
                .finish();
            for body in [form.into_bytes(), bytes] {
                if let Some(interaction) = payload(&body) {
                    acknowledge(&interaction);
                }
            }
        }
    }
}
