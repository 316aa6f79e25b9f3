//! Messages: posting (paced per channel), replacing, deleting, ephemeral sentences, link previews.

use std::collections::HashMap;

use slack_morphism::prelude::*;

use super::{PostTag, SlackApi, SlackError};
use crate::domain::slack::OutgoingMessage;

/// A message as slack-morphism sends it.
fn content(message: &OutgoingMessage) -> SlackMessageContent {
    SlackMessageContent::new()
        .with_text(message.text.clone())
        .with_blocks(message.blocks.clone())
}

/// Where a posted message landed.
#[derive(Debug, Clone)]
pub struct Posted {
    pub channel: SlackChannelId,
    pub ts: SlackTs,
}

impl SlackApi {
    /// Posts a message, waiting for the channel's pace (about one a second, short bursts).
    pub async fn post_message(
        &self,
        channel: &SlackChannelId,
        message: &OutgoingMessage,
        thread_ts: Option<&SlackTs>,
    ) -> Result<Posted, SlackError> {
        self.post_tagged(channel, message, thread_ts, None, false).await
    }

    /// Posts a message carrying a tag (invisible metadata) by which it can be found again; a
    /// reply with `broadcast` is also shown in the channel.
    pub async fn post_tagged(
        &self,
        channel: &SlackChannelId,
        message: &OutgoingMessage,
        thread_ts: Option<&SlackTs>,
        tag: Option<&PostTag>,
        broadcast: bool,
    ) -> Result<Posted, SlackError> {
        let content = content(message).opt_metadata(tag.map(PostTag::metadata));
        let request = SlackApiChatPostMessageRequest::new(channel.clone(), content)
            .opt_thread_ts(thread_ts.cloned())
            .opt_reply_broadcast((broadcast && thread_ts.is_some()).then_some(true))
            .with_unfurl_links(false)
            .with_unfurl_media(false);
        let answer = slack_call!(self, "chat.postMessage", in channel, chat_post_message(&request))?;
        Ok(Posted {
            channel: answer.channel,
            ts: answer.ts,
        })
    }

    /// Replaces a message the bot posted (a "working on it" line by its answer).
    pub async fn update_message(
        &self,
        channel: &SlackChannelId,
        ts: &SlackTs,
        message: &OutgoingMessage,
    ) -> Result<(), SlackError> {
        let request = SlackApiChatUpdateRequest::new(channel.clone(), content(message), ts.clone());
        slack_call!(self, "chat.update", chat_update(&request)).map(|_| ())
    }

    pub async fn delete_message(&self, channel: &SlackChannelId, ts: &SlackTs) -> Result<(), SlackError> {
        let request = SlackApiChatDeleteRequest::new(channel.clone(), ts.clone());
        slack_call!(self, "chat.delete", chat_delete(&request)).map(|_| ())
    }

    /// A sentence only `user` sees, in `channel`.
    pub async fn post_ephemeral(
        &self,
        channel: &SlackChannelId,
        user: &SlackUserId,
        sentence: &str,
    ) -> Result<(), SlackError> {
        self.post_ephemeral_message(channel, user, &OutgoingMessage::text(sentence), None)
            .await
    }

    /// A message only `user` sees, in `channel` (in a thread of it when given).
    pub async fn post_ephemeral_message(
        &self,
        channel: &SlackChannelId,
        user: &SlackUserId,
        message: &OutgoingMessage,
        thread_ts: Option<&SlackTs>,
    ) -> Result<(), SlackError> {
        let request = SlackApiChatPostEphemeralRequest::new(channel.clone(), user.clone(), content(message))
            .opt_thread_ts(thread_ts.cloned());
        slack_call!(self, "chat.postEphemeral", chat_post_ephemeral(&request)).map(|_| ())
    }

    /// Link previews for a message (`link_shared`), by channel and ts or by unfurl id and source.
    pub async fn unfurl(
        &self,
        id: SlackUnfurlRequestId,
        unfurls: HashMap<String, Vec<SlackBlock>>,
    ) -> Result<(), SlackError> {
        let unfurls = unfurls
            .into_iter()
            .map(|(url, blocks)| (url, SlackApiChatUnfurlMapItemV2::new(blocks)))
            .collect();
        let request = SlackApiChatUnfurlRequestV3::new(id, unfurls);
        slack_call!(self, "chat.unfurl", chat_unfurl_v3(&request)).map(|_| ())
    }
}
