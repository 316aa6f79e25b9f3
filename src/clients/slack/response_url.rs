//! Answers through a slash command's (or a click's) `response_url`: ephemeral by default, and only
//! to Slack's own hosts (or the configured API host), never to an address a payload made up.

use std::time::Duration;

use super::{SlackApi, SlackError, SlackErrorCode};
use crate::clients::network::describe;
use crate::domain::slack::OutgoingMessage;

impl SlackApi {
    /// An ephemeral sentence to the person who asked, through the command's `response_url`.
    pub async fn respond(&self, response_url: &str, sentence: &str) -> Result<(), SlackError> {
        self.respond_message(response_url, &OutgoingMessage::text(sentence))
            .await
    }

    /// An ephemeral message (with blocks) to the person who asked, through `response_url`.
    pub async fn respond_message(&self, response_url: &str, message: &OutgoingMessage) -> Result<(), SlackError> {
        let mut body =
            serde_json::json!({"response_type": "ephemeral", "replace_original": false, "text": message.text});
        if !message.blocks.is_empty() {
            body["blocks"] = serde_json::to_value(&message.blocks).unwrap_or_default();
        }
        self.respond_json(response_url, &body).await
    }

    /// Removes the message a click came from (an answer only its asker saw, once shared).
    pub async fn delete_original(&self, response_url: &str) -> Result<(), SlackError> {
        self.respond_json(response_url, &serde_json::json!({"delete_original": true}))
            .await
    }

    async fn respond_json(&self, response_url: &str, body: &serde_json::Value) -> Result<(), SlackError> {
        let method = "response_url";
        let url = url::Url::parse(response_url)
            .ok()
            .filter(|u| {
                u.host_str()
                    .is_some_and(|h| self.response_hosts.iter().any(|allowed| allowed == h))
            })
            .ok_or(SlackError::Api {
                method,
                code: SlackErrorCode::Other("untrusted_response_url".into()),
                detail: vec![],
            })?;
        let response = self
            .http
            .post(url)
            .json(body)
            .send()
            .await
            .map_err(|e| SlackError::Transport {
                method,
                message: describe(&e),
            })?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            429 => Err(SlackError::RateLimited {
                method,
                retry_after: Duration::from_secs(1),
            }),
            status => Err(SlackError::Http { method, status }),
        }
    }
}
