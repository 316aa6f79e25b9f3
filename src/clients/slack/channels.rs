//! What the bot must know of a conversation before answering in it: its name, whether it is a
//! DM, and whether people of other organisations read it (Slack Connect). slack-morphism's
//! channel model has no `is_ext_shared`, so `conversations.info` is read into our own shape.
//! Answers are cached for ten minutes: a channel shared with another organisation is treated as
//! such within that time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{SlackApi, SlackError};

const CHANNEL_TTL: Duration = Duration::from_secs(600);

pub(super) type ChannelCache = Mutex<HashMap<String, (Instant, ChannelFacts)>>;

/// A conversation as the audience guard needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ChannelFacts {
    #[serde(default)]
    pub name: Option<String>,
    /// A DM between one person and the bot.
    #[serde(default)]
    pub is_im: bool,
    #[serde(default)]
    pub is_mpim: bool,
    #[serde(default)]
    pub is_private: bool,
    /// Shared with another organisation (Slack Connect).
    #[serde(default)]
    pub is_ext_shared: bool,
    /// An invitation to share it with another organisation is pending.
    #[serde(default)]
    pub is_pending_ext_shared: bool,
}

impl ChannelFacts {
    /// Whether people of another organisation read it, or soon may.
    pub fn external(&self) -> bool {
        self.is_ext_shared || self.is_pending_ext_shared
    }
}

#[derive(Deserialize)]
struct InfoAnswer {
    channel: ChannelFacts,
}

impl SlackApi {
    /// `conversations.info` for one conversation, cached for ten minutes.
    pub async fn channel_facts(&self, channel: &str) -> Result<ChannelFacts, SlackError> {
        if let Some((at, facts)) = self.channels.lock().unwrap_or_else(|p| p.into_inner()).get(channel)
            && at.elapsed() < CHANNEL_TTL
        {
            return Ok(facts.clone());
        }
        let params = vec![("channel", Some(channel))];
        let answer: InfoAnswer = self
            .call("conversations.info", None, || async {
                self.session()
                    .http_session_api
                    .http_get("conversations.info", &params, None)
                    .await
            })
            .await?;
        self.channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(channel.to_string(), (Instant::now(), answer.channel.clone()));
        Ok(answer.channel)
    }
}
