//! A Looker action's form as a Slack modal, and its submission back as Looker's form values.
//! Looker's field types map to Block Kit inputs: `string` to a text input, `textarea` to a
//! multi-line one, `select` to a static select (option values are indexes, since Looker's option
//! names can be longer than the 150 characters a value holds), `message` to text, `oauth_link` to
//! a link button. `required`, defaults and descriptions carry over.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use slack_morphism::prelude::*;

use super::send::{DataActionSend, action_for};
use super::{Asker, form_id};
use crate::domain::looker::models::{DataActionForm as LookerForm, DataActionFormField};
use crate::features::Context;
use crate::features::errors::{Error, UserError};
use crate::queue::Push;
use crate::render::mrkdwn::{escape, truncate};
use crate::render::section;

/// The `callback_id` of every data-action modal.
pub const FORM_CALLBACK_ID: &str = "looker_data_action_form";
/// Slack shows at most this many options in a static select.
const MAX_OPTIONS: usize = 100;

/// What a modal carries for its submission (`private_metadata`, at most 3,000 characters).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Carried {
    pub key: String,
    pub asker: Asker,
}

fn plain(text: &str, limit: usize) -> SlackBlockPlainTextOnly {
    SlackBlockPlainTextOnly::from(truncate(text, limit))
}

fn modal(title: &str, blocks: Vec<SlackBlock>, submit: bool, carried: Option<&Carried>) -> SlackView {
    let mut view = SlackModalView::new(plain(title, 24), blocks)
        .with_close(plain(if submit { "Cancel" } else { "Close" }, 24))
        .with_callback_id(SlackCallbackId(FORM_CALLBACK_ID.into()));
    if submit {
        view = view.with_submit(plain("Send", 24));
    }
    if let Some(carried) = carried {
        view = view.with_private_metadata(serde_json::to_string(carried).unwrap_or_default());
    }
    SlackView::Modal(view)
}

/// Shown the moment the button is clicked, until Looker's form arrives.
pub(super) fn loading_view() -> SlackView {
    modal(
        "Looker action",
        vec![section(
            ":hourglass_flowing_sand: Asking Looker for this action's form…",
        )],
        false,
        None,
    )
}

/// Shown instead of the form when it cannot be: one sentence.
pub(super) fn sentence_view(sentence: &str) -> SlackView {
    modal("Looker action", vec![section(sentence)], false, None)
}

fn block_id(index: usize) -> String {
    format!("field:{index}")
}

fn label_of(field: &DataActionFormField) -> String {
    field
        .label
        .as_deref()
        .or(field.name.as_deref())
        .filter(|l| !l.trim().is_empty())
        .unwrap_or("Value")
        .to_string()
}

fn options_of(field: &DataActionFormField) -> Vec<SlackBlockChoiceItem<SlackBlockPlainTextOnly>> {
    field
        .options
        .iter()
        .flatten()
        .take(MAX_OPTIONS)
        .enumerate()
        .map(|(n, option)| {
            let label = option.label.as_deref().or(option.name.as_deref()).unwrap_or("—");
            SlackBlockChoiceItem::new(plain(label, 75), n.to_string())
        })
        .collect()
}

fn input(index: usize, field: &DataActionFormField) -> Option<SlackBlock> {
    let label = label_of(field);
    let element = match field.field_type.as_deref().unwrap_or("string") {
        "message" => {
            let text = field
                .description
                .as_deref()
                .or(field.label.as_deref())
                .unwrap_or_default();
            return Some(section(&escape(text)));
        }
        "oauth_link" => {
            let url = field.oauth_url.as_deref().and_then(|u| url::Url::parse(u).ok())?;
            let button = SlackBlockButtonElement::new(plain(&label, 75)).with_url(url);
            let text = "Looker needs you to log in to the action's service first; log in, then click the action again.";
            return Some(SlackBlock::Section(
                SlackSectionBlock::new()
                    .with_text(SlackBlockText::MarkDown(SlackBlockMarkDownText::new(text.into())))
                    .with_accessory(SlackSectionBlockElement::Button(button)),
            ));
        }
        "select" => {
            let options = options_of(field);
            let initial = field.default.as_deref().and_then(|default| {
                let n = field
                    .options
                    .iter()
                    .flatten()
                    .position(|o| o.name.as_deref() == Some(default))?;
                options.get(n).cloned()
            });
            let select = SlackBlockStaticSelectElement::new()
                .with_action_id(SlackActionId("value".into()))
                .with_options(options)
                .opt_initial_option(initial);
            SlackInputBlockElement::StaticSelect(select)
        }
        other => {
            let text_input = SlackBlockPlainTextInputElement::new()
                .with_action_id(SlackActionId("value".into()))
                .with_multiline(other == "textarea")
                .opt_initial_value(field.default.clone().filter(|d| !d.is_empty()));
            SlackInputBlockElement::PlainTextInput(text_input)
        }
    };
    let mut block = SlackInputBlock::new(plain(&label, 2000), element)
        .with_block_id(SlackBlockId(block_id(index)))
        .with_optional(!field.required);
    if let Some(description) = field.description.as_deref().filter(|d| !d.trim().is_empty()) {
        block = block.with_hint(plain(description, 2000));
    }
    Some(SlackBlock::Input(block))
}

/// Looker's form as a modal that submits to this action.
pub(super) fn form_view(title: &str, form: &LookerForm, carried: &Carried) -> SlackView {
    let fields = form.fields.as_deref().unwrap_or_default();
    let blocks: Vec<SlackBlock> = fields
        .iter()
        .enumerate()
        .filter_map(|(n, f)| input(n, f))
        .take(100)
        .collect();
    let inputs = blocks.iter().any(|b| matches!(b, SlackBlock::Input(_)));
    let blocks = if blocks.is_empty() {
        vec![section("This action asks for nothing more. Send it?")]
    } else {
        blocks
    };
    modal(title, blocks, inputs || fields.is_empty(), Some(carried))
}

/// A submitted data-action modal, as the HTTP layer read it: its carried state and the value of
/// each input (a text, or the index of the chosen option) by block id.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// Who submitted, and the modal (Slack's ids).
    pub user: String,
    pub view_id: String,
    pub private_metadata: String,
    pub values: BTreeMap<String, String>,
    /// Names this submission (the view and its state), so that a redelivery is taken once.
    pub once: Option<String>,
}

/// What Slack is told about a submission.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitAnswer {
    /// Close the modal: the action is on its way.
    Close,
    /// Keep the modal open with these messages under their fields (by block id).
    Errors(BTreeMap<String, String>),
}

/// The form values Looker expects, or the field-by-field reasons the submission is refused.
pub(super) fn form_values(
    form: &LookerForm,
    submitted: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, BTreeMap<String, String>> {
    let mut values = BTreeMap::new();
    let mut errors = BTreeMap::new();
    for (index, field) in form.fields.iter().flatten().enumerate() {
        let Some(name) = field.name.clone() else { continue };
        let kind = field.field_type.as_deref().unwrap_or("string");
        if matches!(kind, "message" | "oauth_link") {
            continue;
        }
        let given = submitted
            .get(&block_id(index))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty());
        let value = match (kind, given) {
            (_, None) if field.required => {
                errors.insert(block_id(index), "Please fill this in.".to_string());
                continue;
            }
            (_, None) => continue,
            ("select", Some(chosen)) => {
                let option = chosen
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| field.options.as_ref()?.get(n))
                    .and_then(|o| o.name.clone());
                match option {
                    Some(name) => name,
                    None => {
                        errors.insert(block_id(index), "Choose one of the options.".to_string());
                        continue;
                    }
                }
            }
            (_, Some(text)) => text.to_string(),
        };
        values.insert(name, value);
    }
    if errors.is_empty() { Ok(values) } else { Err(errors) }
}

/// Takes a submitted form inside its acknowledgement: refused field by field, or recorded as a
/// job that sends the action with the form's values.
pub async fn submitted(ctx: &Context, submission: Submission) -> Result<SubmitAnswer, Error> {
    let carried: Carried = serde_json::from_str(&submission.private_metadata).map_err(|_| UserError::ActionUnknown)?;
    let mut send = DataActionSend {
        asker: carried.asker.clone(),
        key: carried.key.clone(),
        form_values: BTreeMap::new(),
        form_failed: false,
    };
    // A bad key or a lost form is the job's to tell; the modal closes.
    let form = match action_for(ctx, &carried.key).await {
        Ok((record, _)) if submission.user == carried.asker.user => {
            let kept = form_id(&record.id, &submission.user, &submission.view_id);
            let kept = ctx.queue.store().data_action(&kept).await?;
            kept.and_then(|k| k.form)
                .and_then(|f| serde_json::from_str::<LookerForm>(&f).ok())
        }
        _ => None,
    };
    match form {
        Some(form) => match form_values(&form, &submission.values) {
            Ok(values) => send.form_values = values,
            Err(errors) => return Ok(SubmitAnswer::Errors(errors)),
        },
        None => send.form_failed = true,
    }
    let once = submission
        .once
        .map(|id| Push::once(format!("data-action-submit:{id}")))
        .unwrap_or_default();
    ctx.queue.push(&send, once).await?;
    Ok(SubmitAnswer::Close)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::looker::models::DataActionFormSelectOption;

    fn form() -> LookerForm {
        serde_json::from_value(serde_json::json!({"fields": [
            {"name": "title", "label": "Title", "type": "string", "required": true, "default": "Hi"},
            {"name": "body", "type": "textarea", "description": "What to say"},
            {"name": "priority", "label": "Priority", "type": "select", "required": true, "default": "p2",
             "options": [{"name": "p1", "label": "Urgent"}, {"name": "p2", "label": "Normal"}]},
            {"name": "note", "type": "message", "description": "Sent as you"}
        ]}))
        .unwrap()
    }

    #[test]
    fn lookers_fields_become_inputs_with_their_defaults() {
        let carried = Carried {
            key: "k".into(),
            asker: Asker::default(),
        };
        let view = serde_json::to_value(form_view("Create ticket", &form(), &carried)).unwrap();
        let blocks = view["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 4);
        assert_eq!(blocks[0]["element"]["type"], "plain_text_input");
        assert_eq!(blocks[0]["element"]["initial_value"], "Hi");
        assert_eq!(blocks[0]["optional"], false);
        assert_eq!(blocks[1]["element"]["multiline"], true);
        assert_eq!(blocks[1]["hint"]["text"], "What to say");
        assert_eq!(blocks[1]["optional"], true);
        assert_eq!(blocks[2]["element"]["type"], "static_select");
        assert_eq!(blocks[2]["element"]["initial_option"]["value"], "1");
        assert_eq!(blocks[2]["element"]["options"][0]["text"]["text"], "Urgent");
        assert_eq!(blocks[3]["type"], "section");
        assert_eq!(view["callback_id"], FORM_CALLBACK_ID);
        assert_eq!(view["submit"]["text"], "Send");
    }

    #[test]
    fn submissions_are_checked_field_by_field_and_options_named_as_looker_named_them() {
        let given = BTreeMap::from([
            ("field:0".to_string(), " ".to_string()),
            ("field:2".to_string(), "7".to_string()),
        ]);
        let errors = form_values(&form(), &given).unwrap_err();
        assert_eq!(errors["field:0"], "Please fill this in.");
        assert_eq!(errors["field:2"], "Choose one of the options.");
        let given = BTreeMap::from([
            ("field:0".to_string(), "Disk full".to_string()),
            ("field:2".to_string(), "0".to_string()),
        ]);
        let values = form_values(&form(), &given).unwrap();
        assert_eq!(
            values,
            BTreeMap::from([
                ("title".to_string(), "Disk full".to_string()),
                ("priority".to_string(), "p1".to_string())
            ])
        );
        let _ = DataActionFormSelectOption::default();
    }
}
