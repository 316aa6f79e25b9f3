//! Recognising the bot's own earlier posts. Slack's `chat.postMessage` has no idempotency key, so
//! each post a job makes carries metadata naming the job and the part (invisible to readers); a
//! job resumed after a crash looks for it in the conversation's history (or the thread's replies)
//! before it posts again. Files are checked with `files.info`.

use std::collections::HashMap;

use serde::Deserialize;
use slack_morphism::prelude::*;

use super::{SlackApi, SlackError, SlackIdentity};

/// The metadata `event_type` of the bot's posts.
const EVENT_TYPE: &str = "lookerbot_post";
/// How far back to look before the time a post was begun (clocks differ a little).
const CLOCK_SLACK_SECS: i64 = 120;
/// History pages looked through at most (200 messages each).
const MAX_PAGES: usize = 10;

/// Which post of which job a message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostTag {
    pub job: i64,
    pub part: String,
}

impl PostTag {
    pub(super) fn metadata(&self) -> SlackMessageMetadata {
        let payload = HashMap::from([
            ("job".to_string(), self.job.to_string()),
            ("part".to_string(), self.part.clone()),
        ]);
        SlackMessageMetadata::new(EVENT_TYPE.into()).with_event_payload(payload)
    }

    fn is(&self, metadata: &Metadata) -> bool {
        metadata.event_type == EVENT_TYPE
            && metadata.event_payload.get("job").and_then(|v| v.as_str()) == Some(self.job.to_string().as_str())
            && metadata.event_payload.get("part").and_then(|v| v.as_str()) == Some(self.part.as_str())
    }
}

#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    response_metadata: Option<SlackResponseMetadata>,
}

#[derive(Debug, Deserialize)]
struct Message {
    ts: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    bot_id: Option<String>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    event_type: String,
    #[serde(default)]
    event_payload: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct FileInfo {
    file: SharedFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SharedFile {
    shares: HashMap<String, HashMap<String, serde_json::Value>>,
    channels: Vec<String>,
    groups: Vec<String>,
    ims: Vec<String>,
}

impl SlackApi {
    /// Who the bot is (`auth.test`, asked once).
    pub async fn identity(&self) -> Result<&SlackIdentity, SlackError> {
        self.identity.get_or_try_init(|| self.auth_test()).await
    }

    /// Who the bot is, if it was asked already; never calls Slack (for an HTTP answer).
    pub fn known_identity(&self) -> Option<&SlackIdentity> {
        self.identity.get()
    }

    /// The bot's own message with this tag in the channel (or the thread) since `since_ms`.
    pub async fn find_tagged(
        &self,
        channel: &SlackChannelId,
        thread: Option<&SlackTs>,
        since_ms: i64,
        tag: &PostTag,
    ) -> Result<Option<SlackTs>, SlackError> {
        let me = self.identity().await?.clone();
        let oldest = format!("{}.000000", (since_ms / 1000 - CLOCK_SLACK_SECS).max(0));
        let method = if thread.is_some() {
            "conversations.replies"
        } else {
            "conversations.history"
        };
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params: Vec<(&str, Option<String>)> = vec![
                ("channel", Some(channel.to_string())),
                ("ts", thread.map(|t| t.to_string())),
                ("oldest", Some(oldest.clone())),
                ("limit", Some("200".into())),
                ("include_all_metadata", Some("true".into())),
                ("cursor", cursor.clone()),
            ];
            let page: Page = self
                .call(method, None, {
                    let params = &params;
                    move || async move { self.session().http_session_api.http_get(method, params, None).await }
                })
                .await?;
            let ours = |m: &Message| {
                m.bot_id.is_some() && m.bot_id == me.bot_id || m.user.as_deref() == Some(me.user_id.as_str())
            };
            if let Some(found) = page
                .messages
                .iter()
                .find(|m| ours(m) && m.metadata.as_ref().is_some_and(|meta| tag.is(meta)))
            {
                return Ok(Some(SlackTs(found.ts.clone())));
            }
            cursor = page
                .response_metadata
                .and_then(|m| m.next_cursor)
                .map(|c| c.0)
                .filter(|c| !c.is_empty());
            if cursor.is_none() {
                break;
            }
        }
        Ok(None)
    }

    /// Whether an uploaded file is shared in the channel; `None` when Slack does not know the
    /// file (its upload was never completed).
    pub async fn file_shared_in(
        &self,
        file: &SlackFileId,
        channel: &SlackChannelId,
    ) -> Result<Option<bool>, SlackError> {
        let params: Vec<(&str, Option<String>)> = vec![("file", Some(file.to_string()))];
        let answer: Result<FileInfo, SlackError> = self
            .call("files.info", None, {
                let params = &params;
                move || async move {
                    self.session()
                        .http_session_api
                        .http_get("files.info", params, None)
                        .await
                }
            })
            .await;
        let info = match answer {
            Ok(info) => info.file,
            Err(SlackError::Api { code, .. })
                if code.as_str() == "file_not_found" || code.as_str() == "file_deleted" =>
            {
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        let channel = channel.to_string();
        let listed = [&info.channels, &info.groups, &info.ims]
            .iter()
            .any(|ids| ids.contains(&channel));
        let shared = info.shares.values().any(|by_channel| by_channel.contains_key(&channel));
        Ok(Some(listed || shared))
    }
}
