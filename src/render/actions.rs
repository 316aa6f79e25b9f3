//! Looker's data actions (`type: "action"` links on cells) as Slack buttons: up to five buttons,
//! more as overflow menus (five choices each, 25 menus a block). A button carries only a key the
//! caller makes ([`ActionKeys`]): the action itself is kept server-side, since Looker's action
//! objects can be far longer than the 2,000 characters (150 in a menu) a value may hold.

use serde_json::Value;
use slack_morphism::prelude::*;

use super::mrkdwn::truncate;
use crate::domain::looker::models::CellLink;

/// The prefix of every data-action element's `action_id`.
pub const ACTION_ID_PREFIX: &str = "looker_data_action";

const MAX_BUTTONS: usize = 5;
const PER_MENU: usize = 5;
const MAX_ELEMENTS: usize = 25;

/// Makes the value an action's button carries: a signed, expiring key naming `id`.
pub trait ActionKeys: std::fmt::Debug + Send + Sync {
    fn key_for(&self, id: &str) -> String;
}

/// A data action shown in a message: the id its key names, and Looker's link as it came.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownAction {
    pub id: String,
    pub action: Value,
}

/// An action to offer, with the label to show for it.
pub(super) struct Choice<'a> {
    pub label: String,
    pub link: &'a CellLink,
}

/// The choices on one cell, labelled with the action's label and, when given, where it applies.
pub(super) fn choices_on<'a>(links: Option<&'a Vec<CellLink>>, context: Option<&str>) -> Vec<Choice<'a>> {
    links
        .into_iter()
        .flatten()
        .filter(|link| link.is_action())
        .map(|link| {
            let label = link
                .label
                .as_deref()
                .filter(|l| !l.trim().is_empty())
                .unwrap_or("Action");
            Choice {
                label: match context {
                    Some(context) if !context.is_empty() => format!("{label} · {context}"),
                    _ => label.to_string(),
                },
                link,
            }
        })
        .collect()
}

/// One actions block for the choices, and what it shows; `None` when there is nothing to offer.
pub(super) fn actions_block(choices: Vec<Choice<'_>>, keys: &dyn ActionKeys) -> Option<(SlackBlock, Vec<ShownAction>)> {
    if choices.is_empty() {
        return None;
    }
    let capacity = if choices.len() <= MAX_BUTTONS {
        MAX_BUTTONS
    } else {
        MAX_ELEMENTS * PER_MENU
    };
    let mut shown = Vec::new();
    let mut keyed = Vec::new();
    for choice in choices.into_iter().take(capacity) {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let key = keys.key_for(&id);
        shown.push(ShownAction {
            id,
            action: choice.link.to_json(),
        });
        keyed.push((choice.label, key));
    }
    let elements: Vec<SlackActionBlockElement> = if keyed.len() <= MAX_BUTTONS {
        keyed
            .into_iter()
            .enumerate()
            .map(|(n, (label, key))| {
                SlackActionBlockElement::Button(
                    SlackBlockButtonElement::new(SlackBlockPlainTextOnly::from(truncate(&label, 75)))
                        .with_action_id(format!("{ACTION_ID_PREFIX}:{n}").into())
                        .with_value(key),
                )
            })
            .collect()
    } else {
        keyed
            .chunks(PER_MENU)
            .enumerate()
            .map(|(n, menu)| {
                let options = menu
                    .iter()
                    .map(|(label, key)| {
                        SlackBlockChoiceItem::new(SlackBlockPlainTextOnly::from(truncate(label, 75)), key.clone())
                    })
                    .collect();
                SlackActionBlockElement::Overflow(
                    SlackBlockOverflowElement::new(options).with_action_id(format!("{ACTION_ID_PREFIX}:{n}").into()),
                )
            })
            .collect()
    };
    Some((SlackBlock::Actions(SlackActionsBlock::new(elements)), shown))
}
