//! Block helpers and Slack's message budget: 50 blocks, 3000 characters a section, about 12,000
//! characters in all. Long content is cut with a pointer to Looker instead of being refused.

use serde_json::Value;
use slack_morphism::prelude::*;

use super::mrkdwn::{escape, truncate};

/// Slack refuses more blocks than this in one message.
pub const MAX_BLOCKS: usize = 50;
/// Slack refuses messages whose blocks hold much more text than this (`msg_blocks_too_long`).
pub const MAX_MESSAGE_CHARS: usize = 11_000;
/// At most two native charts per message.
pub const MAX_CHARTS: usize = 2;

pub fn section(text: &str) -> SlackBlock {
    SlackBlock::Section(
        SlackSectionBlock::new().with_text(SlackBlockText::MarkDown(SlackBlockMarkDownText::new(truncate(
            text, 3000,
        )))),
    )
}

/// A section of text shown as it is: Slack reads no mention, link or mrkdwn in it.
pub fn plain_section(text: &str) -> SlackBlock {
    SlackBlock::Section(
        SlackSectionBlock::new().with_text(SlackBlockText::Plain(SlackBlockPlainText::new(truncate(text, 3000)))),
    )
}

pub fn context(text: &str) -> SlackBlock {
    SlackBlock::Context(SlackContextBlock::new(vec![SlackContextBlockElement::MarkDown(
        SlackBlockMarkDownText::new(truncate(text, 2000)),
    )]))
}

/// A plain warning line: what happened, said once.
pub fn warning(message: &str) -> SlackBlock {
    section(&format!(":warning: {}", escape(message)))
}

/// Characters of text a block carries (what Slack counts towards a message's size).
pub fn block_chars(block: &SlackBlock) -> usize {
    fn count(value: &Value) -> usize {
        match value {
            Value::String(s) => s.chars().count(),
            Value::Array(items) => items.iter().map(count).sum(),
            Value::Object(map) => map
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "type" | "block_id" | "style" | "align"))
                .map(|(_, v)| count(v))
                .sum(),
            _ => 0,
        }
    }
    serde_json::to_value(block).map(|v| count(&v)).unwrap_or(0)
}

pub fn is_chart(block: &SlackBlock) -> bool {
    matches!(block, SlackBlock::DataVisualization(_))
}

/// Packs groups of blocks (a group is never split: a tile, a table with its footer) into as few
/// messages as Slack's limits allow, in order.
pub fn pack(groups: Vec<Vec<SlackBlock>>) -> Vec<Vec<SlackBlock>> {
    let mut messages: Vec<Vec<SlackBlock>> = Vec::new();
    let mut current: Vec<SlackBlock> = Vec::new();
    let (mut chars, mut charts) = (0, 0);
    for group in groups {
        let group_chars: usize = group.iter().map(block_chars).sum();
        let group_charts = group.iter().filter(|b| is_chart(b)).count();
        let fits = current.len() + group.len() <= MAX_BLOCKS
            && chars + group_chars <= MAX_MESSAGE_CHARS
            && charts + group_charts <= MAX_CHARTS;
        if !fits && !current.is_empty() {
            messages.push(std::mem::take(&mut current));
            chars = 0;
            charts = 0;
        }
        chars += group_chars;
        charts += group_charts;
        current.extend(group);
    }
    if !current.is_empty() {
        messages.push(current);
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_keeps_groups_whole_and_messages_inside_the_limits() {
        let tile = |n: usize| (0..n).map(|i| section(&format!("block {i}"))).collect::<Vec<_>>();
        let messages = pack(vec![tile(30), tile(30), tile(10)]);
        assert_eq!(messages.iter().map(Vec::len).collect::<Vec<_>>(), [30, 40]);

        let long = vec![section(&"x".repeat(2900))];
        let messages = pack(vec![long.clone(), long.clone(), long.clone(), long.clone(), long]);
        assert_eq!(messages.len(), 2, "about 11,000 characters a message");
    }
}
