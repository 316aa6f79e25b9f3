//! Looker's data actions as Slack buttons, both halves: results offer their `action` links as
//! buttons (each carrying a signed, expiring key; the action is kept here), and a click is
//! acknowledged at once and sent to Looker (`POST /data_actions`) by a durable job that tells
//! the clicker the outcome. Actions with a form open a Slack modal at once (a loading view within
//! the three seconds a `trigger_id` lasts) that Looker's form replaces when it arrives; the
//! submission is checked field by field, then sent with its values.

mod click;
mod form;
mod keys;
mod modal;
mod send;

use slack_morphism::prelude::*;

pub use crate::render::actions::ACTION_ID_PREFIX;
pub use click::{Click, clicked};
pub use form::DataActionForm;
pub use keys::{ActionSigner, KeyMint, KeyRefusal};
pub use modal::FORM_CALLBACK_ID;
pub use send::DataActionSend;

use super::Context;
use super::errors::Error;
use crate::clients::looker::LookerClient;
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

/// Where the outcome of an action is told: the click's `response_url`, else an ephemeral message.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Asker {
    pub team: String,
    pub user: String,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub response_url: Option<crate::sealing::SealedText>,
}

/// Where the form fetched for one person's modal is kept: beside its action, under the person and
/// the modal. Never a key a button carries (those are signed ids of actions).
fn form_id(action: &str, user: &str, view: &str) -> String {
    format!("{action}#form/{user}/{view}")
}

fn unix_seconds() -> i64 {
    now_millis() / 1000
}

pub use modal::{Submission, SubmitAnswer, submitted};

fn view_id(id: &str) -> SlackViewId {
    SlackViewId(id.to_string())
}
