//! What the bot sends to Slack, independent of how it is sent.

use slack_morphism::prelude::SlackBlock;

/// A message ready to post: fallback text for notifications plus Block Kit blocks.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct OutgoingMessage {
    pub text: String,
    pub blocks: Vec<SlackBlock>,
}

impl OutgoingMessage {
    /// A message of plain text only (sentences, "working on it" lines).
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            blocks: Vec::new(),
        }
    }
}
