//! Where a command's answer goes: the conversation it was asked in (a mention's thread, a DM, the
//! channel of a slash command), the "working on it" line the answer replaces, and the private
//! channel for sentences only the asker should read (the slash command's `response_url`, or an
//! ephemeral message).

use serde::{Deserialize, Serialize};
use slack_morphism::prelude::*;

use crate::clients::looker::LookerClient;
use crate::domain::slack::OutgoingMessage;
use crate::features::Context;
use crate::features::audience::Placement;
use crate::features::errors::Error;
use crate::features::ledger::Ledger;
use crate::features::posting::post_rendered;
use crate::render::Rendered;
use crate::sealing::SealedText;

/// Slack honours a `response_url` for 30 minutes; a little less, to leave the post time to arrive.
const RESPONSE_URL_LIFETIME: std::time::Duration = std::time::Duration::from_secs(29 * 60);

/// Said under an answer an outage delayed by more than a minute.
const SORRY: &str = "Sorry for the wait: Slack was unavailable.";

fn is_apology(block: &SlackBlock) -> bool {
    matches!(block, SlackBlock::Context(c) if c.elements.iter().any(|e| matches!(e, SlackContextBlockElement::MarkDown(t) if t.text == SORRY)))
}

/// How sentences meant only for the asker reach them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum ReplyTo {
    /// A slash command's `response_url`, sealed (it lets anyone who reads it post for half an hour).
    ResponseUrl { url: SealedText },
    /// An ephemeral message in the conversation (mentions and DMs).
    Ephemeral,
}

/// One command's conversation.
pub struct Conversation<'a> {
    pub ctx: &'a Context,
    /// What this command has posted already (a command run again posts nothing twice).
    pub ledger: Ledger<'a>,
    pub channel: SlackChannelId,
    /// Answers to a mention go in its thread.
    pub thread: Option<SlackTs>,
    pub asker: SlackUserId,
    pub reply: &'a ReplyTo,
    /// Who may read the answer where it was asked.
    pub placement: Placement,
    /// The "Share to channel" button for an answer shown to the asker alone.
    share: Option<SlackBlock>,
    /// The Looker group the channel is tied to: data only from models it may use.
    pub tie: Option<String>,
    /// The "working on it" line, while it is there.
    loading: Option<SlackTs>,
}

impl<'a> Conversation<'a> {
    pub fn new(
        ctx: &'a Context,
        ledger: Ledger<'a>,
        channel: &str,
        thread: Option<&str>,
        asker: &str,
        reply: &'a ReplyTo,
    ) -> Self {
        Self {
            ctx,
            ledger,
            channel: SlackChannelId(channel.to_string()),
            thread: thread.map(|ts| SlackTs(ts.to_string())),
            asker: SlackUserId(asker.to_string()),
            reply,
            placement: Placement::DM,
            share: None,
            tie: None,
            loading: None,
        }
    }

    /// Where the answer may go, and the button that shares an answer shown to the asker alone.
    pub fn placed(mut self, placement: Placement, share: Option<SlackBlock>, tie: Option<String>) -> Self {
        self.placement = placement;
        self.share = share;
        self.tie = tie;
        self
    }

    /// Whether data from `models` may be posted where the answer goes (a channel tied to a
    /// Looker group takes only its models'); if not, the asker is told why, alone.
    pub async fn tie_allows<'m>(
        &mut self,
        looker: &LookerClient,
        models: impl IntoIterator<Item = &'m String>,
        message: &OutgoingMessage,
    ) -> Result<bool, Error> {
        let Some(group) = self.tie.clone().filter(|_| !self.placement.dm) else {
            return Ok(true);
        };
        if crate::features::audience::group_may_see(looker, &group, models).await? {
            return Ok(true);
        }
        let note = format!(
            "This channel shows only data the {} group may see in Looker, so only you can see this answer.",
            crate::render::mrkdwn::escape(&group)
        );
        self.show_to_asker(message.clone(), note, false).await?;
        Ok(false)
    }

    /// Whether the command came from a conversation (a mention or a DM) rather than `/looker`.
    pub fn is_conversation(&self) -> bool {
        matches!(self.reply, ReplyTo::Ephemeral)
    }

    /// Posts the "working on it" line, where Lookerbot's setting asks for one (only where the
    /// answer will be posted too).
    pub async fn start_working(&mut self) -> Result<(), Error> {
        if self.is_conversation() && self.ctx.features.loading_messages && self.placement.in_conversation() {
            let line = OutgoingMessage::text("Working on it…");
            self.loading = Some(self.post(&line).await?);
        }
        Ok(())
    }

    async fn post(&self, message: &OutgoingMessage) -> Result<SlackTs, Error> {
        let posted = self.ledger.post(&self.channel, message, self.thread.as_ref()).await?;
        Ok(posted.ts)
    }

    /// The slash command's `response_url`, opened; `None` for mentions and DMs (and for a URL
    /// sealed under a key that is gone: the asker is then answered ephemerally).
    /// A `response_url` lives half an hour: past that (an answer an outage held back), the asker
    /// is answered in the conversation instead, as for a mention.
    fn response_url(&self) -> Option<String> {
        match self.reply {
            ReplyTo::ResponseUrl { .. } if self.ledger.age() > RESPONSE_URL_LIFETIME => None,
            ReplyTo::ResponseUrl { url } => url.open(&self.ctx.sealer),
            ReplyTo::Ephemeral => None,
        }
    }

    /// One short line under an answer that comes more than a minute late because Slack was down.
    fn apologise(&self, message: &mut OutgoingMessage) {
        if self.ledger.late() && !message.blocks.iter().any(is_apology) {
            message.blocks.push(SlackBlock::Context(SlackContextBlock::new(vec![
                SlackContextBlockElement::MarkDown(SlackBlockMarkDownText::new(SORRY.into())),
            ])));
        }
    }

    /// `message` for the asker alone: through the slash command's `response_url` while Slack takes
    /// it (half an hour, five uses), else as an ephemeral message in the conversation, else (a
    /// slash command in a channel the bot is not in) in a DM with the asker.
    async fn to_asker_alone(&self, message: &OutgoingMessage, thread: Option<&SlackTs>) -> Result<(), Error> {
        if let Some(url) = self.response_url() {
            match self.ctx.slack.respond_message(&url, message).await {
                Ok(()) => return Ok(()),
                Err(error) if error.response_url_gone() => {
                    tracing::info!("the command's response_url is used up or expired; answering in the conversation")
                }
                Err(error) => return Err(error.into()),
            }
        }
        let slack = &self.ctx.slack;
        match slack
            .post_ephemeral_message(&self.channel, &self.asker, message, thread)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if error.not_in_channel() && !self.is_conversation() => {
                let dm = slack.open_dm(&self.asker).await?;
                self.ledger.post(&dm, message, None).await?;
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// A sentence only the asker sees.
    pub async fn say(&mut self, sentence: &str) -> Result<(), Error> {
        let late = format!("{sentence} {SORRY}");
        let sentence = if self.ledger.late() { late.as_str() } else { sentence };
        self.stop_working().await;
        self.to_asker_alone(&OutgoingMessage::text(sentence), None).await
    }

    /// An answer for the asker alone where that is possible (a slash command's), else in the
    /// conversation (help, pointers to help).
    pub async fn answer_asker(&mut self, message: &OutgoingMessage) -> Result<(), Error> {
        match self.reply {
            ReplyTo::ResponseUrl { .. } => self.to_asker_alone(message, None).await,
            ReplyTo::Ephemeral => self.show_message(message).await,
        }
    }

    /// A message-only answer: it takes the place of the "working on it" line.
    pub async fn show_message(&mut self, message: &OutgoingMessage) -> Result<(), Error> {
        let mut message = message.clone();
        self.apologise(&mut message);
        let message = &message;
        match self.loading.take() {
            Some(loading) => self.ctx.slack.update_message(&self.channel, &loading, message).await?,
            None => {
                self.post(message).await?;
            }
        }
        Ok(())
    }

    /// A rendered answer: a plain one replaces the "working on it" line; one with a file is
    /// posted after it, and the line removed. Where the channel's readers may not see it, the
    /// asker alone does.
    pub async fn show(&mut self, looker: &LookerClient, mut rendered: Rendered) -> Result<(), Error> {
        self.apologise(&mut rendered.message);
        if !self.placement.in_conversation() {
            let more = rendered.image.is_some() || rendered.csv.is_some();
            return self.show_privately(rendered.message, more).await;
        }
        if !self
            .tie_allows(looker, rendered.model.iter(), &rendered.message)
            .await?
        {
            return Ok(());
        }
        if self.loading.is_some() && rendered.image.is_none() && rendered.csv.is_none() {
            return self.show_message(&rendered.message).await;
        }
        post_rendered(
            self.ctx,
            &self.ledger,
            looker,
            &self.channel,
            self.thread.as_ref(),
            rendered,
        )
        .await?;
        self.stop_working().await;
        Ok(())
    }

    /// An answer only the asker sees, with the button that shares it in the channel.
    pub async fn show_privately(&mut self, message: OutgoingMessage, more: bool) -> Result<(), Error> {
        let mut note = String::from("Only you can see this answer");
        if self.share.is_some() {
            note.push_str(": share it to post it in the channel");
            if more {
                note.push_str(", with its chart and attachments");
            }
        }
        note.push('.');
        self.show_to_asker(message, note, true).await
    }

    /// `message` for the asker alone, with `note` under it (and the share button if asked).
    async fn show_to_asker(&mut self, mut message: OutgoingMessage, note: String, share: bool) -> Result<(), Error> {
        self.apologise(&mut message);
        message.blocks.push(SlackBlock::Context(SlackContextBlock::new(vec![
            SlackContextBlockElement::MarkDown(SlackBlockMarkDownText::new(note)),
        ])));
        if share {
            message.blocks.extend(self.share.clone());
        }
        self.stop_working().await;
        self.to_asker_alone(&message, self.thread.as_ref()).await
    }

    /// Only a link to Looker, never data (a channel whose audience is `links`).
    pub async fn show_link(&mut self, title: &str, url: &str) -> Result<(), Error> {
        let line = format!("<{url}|{}>", crate::render::mrkdwn::escape(title));
        let message = OutgoingMessage {
            text: crate::render::mrkdwn::escape(&format!("{title}: {url}")),
            blocks: vec![
                SlackBlock::Section(SlackSectionBlock::new().with_text(SlackBlockMarkDownText::new(line).into())),
                SlackBlock::Context(SlackContextBlock::new(vec![SlackContextBlockElement::MarkDown(
                    SlackBlockMarkDownText::new("This channel gets links to Looker, not data.".into()),
                )])),
            ],
        };
        self.show_message(&message).await
    }

    /// Removes the "working on it" line if it is still there.
    pub async fn stop_working(&mut self) {
        if let Some(loading) = self.loading.take()
            && let Err(error) = self.ctx.slack.delete_message(&self.channel, &loading).await
        {
            tracing::warn!(%error, "could not remove the loading message");
        }
    }
}
