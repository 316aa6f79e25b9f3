//! How a notification reads in Slack: its level as an emoji Slack users know, the title bold,
//! the text below, fields as a section, the link as a button, and how many repeats were held
//! back. A sender's text is escaped, so it cannot mention `@channel` or a person unless the
//! operator allows mentions.

use slack_morphism::prelude::*;

use super::request::{Level, Notification};
use crate::domain::slack::OutgoingMessage;
use crate::render::mrkdwn::{escape, truncate};

impl Level {
    pub fn emoji(self) -> &'static str {
        match self {
            Level::Info => ":information_source:",
            Level::Warn => ":warning:",
            Level::Error => ":rotating_light:",
        }
    }
}

/// The message for `n`, from `sender`; `repeats` held back since `since` (RFC 3339).
pub fn message(
    n: &Notification,
    sender: &str,
    allow_mentions: bool,
    repeats: u64,
    since: Option<&str>,
) -> OutgoingMessage {
    let safe = |text: &str| if allow_mentions { text.to_string() } else { escape(text) };
    // Verbatim: Slack does not turn a bare #channel or @here in a sender's text into a link.
    let md = |text: &str| md(text, !allow_mentions);
    let section = |text: &str| -> SlackBlock { SlackSectionBlock::new().with_text(md(text)).into() };
    let title = format!("{} *{}*", n.level.emoji(), safe(&n.title).replace('*', "∗"));
    let mut blocks = vec![section(&truncate(&title, 3000))];
    if !n.text.is_empty() {
        blocks.push(section(&truncate(&safe(&n.text), 3000)));
    }
    if !n.fields.is_empty() {
        let fields = n
            .fields
            .iter()
            .map(|f| md(&truncate(&format!("*{}*\n{}", escape(&f.title), safe(&f.value)), 2000)))
            .collect();
        blocks.push(SlackSectionBlock::new().with_fields(fields).into());
    }
    if let Some(link) = &n.link
        && let Ok(url) = link.parse()
    {
        let button = SlackBlockButtonElement::new(SlackBlockPlainTextOnly::from("Open")).with_url(url);
        blocks.push(SlackActionsBlock::new(vec![SlackActionBlockElement::Button(button)]).into());
    }
    let mut context = vec![format!("from {}", escape(sender))];
    if repeats > 0 {
        let times = if repeats == 1 { "once" } else { "times" };
        let count = if repeats == 1 {
            String::new()
        } else {
            format!("{repeats} ")
        };
        context.push(format!(
            "repeated {count}{times} since {} (held back by its wait_duration)",
            since.unwrap_or("the last one")
        ));
    }
    blocks.push(
        SlackContextBlock::new(
            context
                .into_iter()
                .map(|c| SlackContextBlockElement::MarkDown(SlackBlockMarkDownText::new(c).with_verbatim(true)))
                .collect(),
        )
        .into(),
    );
    let mut text = format!("{}: {}", level_word(n.level), n.title);
    if repeats > 0 {
        text.push_str(&format!(" (repeated {repeats} times)"));
    }
    OutgoingMessage {
        text: truncate(&safe(&text), 3000),
        blocks,
    }
}

fn level_word(level: Level) -> &'static str {
    match level {
        Level::Info => "Info",
        Level::Warn => "Warning",
        Level::Error => "Error",
    }
}

fn md(text: &str, verbatim: bool) -> SlackBlockText {
    let text = SlackBlockMarkDownText::new(text.to_string());
    SlackBlockText::MarkDown(if verbatim { text.with_verbatim(true) } else { text })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(text: &str) -> Notification {
        let body = serde_json::json!({"channel": "#ops", "title": "Load <failed>", "text": text, "level": "error"});
        Notification::parse(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_sender_cannot_mention_the_channel_unless_allowed() {
        let n = notification("<!channel> look at <@U123>");
        let shown = serde_json::to_string(&message(&n, "ci", false, 0, None).blocks).unwrap();
        assert!(
            !shown.contains("<!channel>") && shown.contains("&lt;!channel&gt;"),
            "{shown}"
        );
        assert!(shown.contains(":rotating_light: *Load &lt;failed&gt;*"), "{shown}");
        let allowed = serde_json::to_string(&message(&n, "ci", true, 0, None).blocks).unwrap();
        assert!(allowed.contains("<!channel>"), "{allowed}");
        assert!(shown.contains("\"verbatim\":true"), "{shown}");
    }

    #[test]
    fn held_back_repeats_are_told() {
        let n = notification("again");
        let m = message(&n, "ci", false, 4, Some("2026-12-01T09:00:00Z"));
        let shown = serde_json::to_string(&m.blocks).unwrap();
        assert!(shown.contains("repeated 4 times since 2026-12-01T09:00:00Z"), "{shown}");
        assert!(m.text.contains("(repeated 4 times)"));
    }
}
