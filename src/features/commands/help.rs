//! `help`: the built-in commands, then the custom commands by category (hidden ones left out),
//! each linked to its dashboard with its filters, its description and, when several Lookers have
//! commands, the Looker it belongs to. Built from what is in memory, so it fits in Slack's
//! acknowledgement; and the answer to words that are no command.

use crate::domain::slack::OutgoingMessage;
use crate::features::custom_commands::CustomCommand;
use crate::features::errors::UserError;
use crate::render::mrkdwn::{escape, link};
use crate::render::{context, section};

/// What the catalog of custom commands holds right now.
pub struct Catalog<'a> {
    pub commands: &'a [CustomCommand],
    /// Some Looker's catalog has not been fetched yet (the bot just started, or Looker is down).
    pub incomplete: bool,
    /// Some Looker answers everyone with their own connected account (`oauth`).
    pub accounts: bool,
}

impl Catalog<'_> {
    pub const NONE: Catalog<'static> = Catalog {
        commands: &[],
        incomplete: false,
        accounts: false,
    };
}

/// The answer to `help`.
pub fn help(command: &str, catalog: &Catalog<'_>) -> OutgoingMessage {
    let text = format!(
        "*What I can do*\n\
         • `{command} find [look|dashboard] <words>`: the five Looks and dashboards whose titles match best\n\
         • `{command} look <id>`: run a Look and show its result here\n\
         • `{command} dashboard <id> [filter=value ...]`: show every tile of a dashboard, with filters by name or title (quote values with spaces)\n\
         • With several Lookers, put the Looker's host first: `{command} look looker.example.com <id>`\n\
         • `{command} <Looker link>`: show the Look or dashboard behind a link\n\
         • `{command} help`: this list"
    );
    let text = if catalog.accounts {
        format!(
            "{text}\n• `{command} connect`: connect your own Looker account (I answer you with its permissions)\n\
             • `{command} disconnect`: forget your connected Looker account"
        )
    } else {
        text
    };
    let mut blocks = vec![section(&text)];
    let shown: Vec<&CustomCommand> = catalog.commands.iter().filter(|c| !c.hidden).collect();
    let several_lookers = shown.windows(2).any(|pair| pair[0].looker != pair[1].looker);
    let mut categories: Vec<Option<&str>> = Vec::new();
    for c in &shown {
        if !categories.contains(&c.category.as_deref()) {
            categories.push(c.category.as_deref());
        }
    }
    categories.sort_by_key(|c| c.unwrap_or_default().to_lowercase());
    for category in categories.into_iter().take(40) {
        let lines: Vec<String> = shown
            .iter()
            .filter(|c| c.category.as_deref() == category)
            .map(|c| {
                let mut line = format!("• {} `{command} {}`", link(&c.link, &c.title), escape(&c.name));
                if let Some(hint) = c.filter_hint() {
                    line.push_str(&format!(" [{}]", escape(&hint)));
                }
                if several_lookers {
                    line.push_str(&format!(" on {}", escape(&c.looker_host)));
                }
                if let Some(description) = &c.description {
                    line.push_str(&format!(": {}", escape(description)));
                }
                line
            })
            .collect();
        let heading = category.map(escape).unwrap_or_else(|| "Custom commands".into());
        blocks.push(section(&format!("*{heading}*\n{}", lines.join("\n"))));
    }
    if catalog.incomplete {
        blocks.push(context(
            "Some custom commands could not be loaded from Looker yet; ask for help again in a minute.",
        ));
    }
    OutgoingMessage {
        text: "What lookerbot can do".into(),
        blocks,
    }
}

/// The answer to words that are no command.
pub fn unknown(command: &str, text: &str) -> OutgoingMessage {
    let sentence = UserError::UnknownCommand {
        invoked_as: command.to_string(),
        text: text.to_string(),
    }
    .to_string();
    OutgoingMessage {
        blocks: vec![section(&escape(&sentence))],
        text: sentence,
    }
}
