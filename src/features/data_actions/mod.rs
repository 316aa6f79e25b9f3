//! Looker's data actions as Slack buttons, both halves: results offer their `action` links as
//! buttons (each carrying a signed, expiring key; the action is kept here), and a click is
//! acknowledged at once and sent to Looker (`POST /data_actions`) by a durable job that tells
//! the clicker the outcome. Actions with a form open a Slack modal at once (a loading view within
//! the three seconds a `trigger_id` lasts) that Looker's form replaces when it arrives; the
//! submission is checked field by field, then sent with its values.

mod form;
mod keys;
mod modal;
mod send;

use std::collections::BTreeMap;

use slack_morphism::prelude::*;

pub use crate::render::actions::ACTION_ID_PREFIX;
pub use form::DataActionForm;
pub use keys::{ActionSigner, KeyMint, KeyRefusal};
pub use modal::FORM_CALLBACK_ID;
pub use send::DataActionSend;

use super::Context;
use super::errors::Error;
use crate::clients::looker::LookerClient;
use crate::queue::Push;
use crate::render::ShownAction;
use crate::store::{DataActionRecord, now_millis};

/// Keeps the actions a message offers, before the message is posted.
pub async fn keep(ctx: &Context, looker: &LookerClient, actions: &[ShownAction]) -> Result<(), Error> {
    if actions.is_empty() {
        return Ok(());
    }
    let Some(key) = ctx.lookers.key_of(looker) else {
        return Ok(());
    };
    let now = now_millis();
    let expires_at = now + ctx.action_keys.lifetime().as_millis() as i64;
    let records = actions
        .iter()
        .map(|shown| DataActionRecord {
            id: shown.id.clone(),
            looker: key.as_str().to_string(),
            action: shown.action.to_string(),
            form: None,
            created_at: now,
            expires_at,
        })
        .collect();
    ctx.queue.store().put_data_actions(records).await?;
    Ok(())
}

/// Who clicked which data-action button, and where.
#[derive(Debug, Clone)]
pub struct Click {
    pub team: String,
    pub user: String,
    pub channel: Option<String>,
    /// The button's value (or the chosen menu option's).
    pub key: String,
    pub trigger_id: Option<String>,
    pub response_url: Option<String>,
}

/// Where the outcome of an action is told: the click's `response_url`, else an ephemeral message.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Asker {
    pub team: String,
    pub user: String,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub response_url: Option<String>,
}

fn unix_seconds() -> i64 {
    now_millis() / 1000
}

/// Takes a click, inside its acknowledgement: an action with a form gets a modal at once (its
/// form follows); any other click becomes a job. Nothing reaches Looker here.
pub async fn clicked(ctx: &Context, click: Click) -> Result<(), Error> {
    let asker = Asker {
        team: click.team.clone(),
        user: click.user.clone(),
        channel: click.channel.clone(),
        response_url: click.response_url.clone(),
    };
    let send = DataActionSend {
        asker: asker.clone(),
        key: click.key.clone(),
        form_values: BTreeMap::new(),
        form_failed: false,
    };
    let record = match ctx.action_keys.verify(&click.key, unix_seconds()) {
        Ok(id) => ctx.queue.store().data_action(&id).await?,
        // The job tells the clicker why; nothing else happens.
        Err(_) => None,
    };
    let has_form = record
        .as_ref()
        .and_then(|r| serde_json::from_str::<serde_json::Value>(&r.action).ok())
        .is_some_and(|action| {
            ["form", "form_url"]
                .iter()
                .any(|k| action.get(*k).is_some_and(|v| !v.is_null()))
        });
    if let (true, Some(trigger)) = (has_form, click.trigger_id.as_deref()) {
        let opened = tokio::time::timeout(
            std::time::Duration::from_millis(2500),
            ctx.slack.open_view(trigger, modal::loading_view()),
        )
        .await;
        match opened {
            Ok(Ok(view_id)) => {
                let job = DataActionForm {
                    asker,
                    key: click.key,
                    view_id: view_id.to_string(),
                };
                ctx.queue.push(&job, Push::default()).await?;
                return Ok(());
            }
            Ok(Err(error)) => tracing::warn!(%error, "could not open a data action's form"),
            Err(_) => tracing::warn!("Slack took too long to open a data action's form"),
        }
        // The job says the form could not be opened; nothing is sent.
        let failed = DataActionSend {
            form_failed: true,
            ..send
        };
        ctx.queue.push(&failed, Push::default()).await?;
        return Ok(());
    }
    ctx.queue.push(&send, Push::default()).await?;
    Ok(())
}

pub use modal::{Submission, SubmitAnswer, submitted};

fn view_id(id: &str) -> SlackViewId {
    SlackViewId(id.to_string())
}
