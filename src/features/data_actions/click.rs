//! A click on a data-action button, inside its acknowledgement: an action with a form gets a modal
//! at once (a loading view, within the three seconds a `trigger_id` lasts; Looker's form follows
//! from a job); any other click becomes a job that sends the action. Nothing reaches Looker here.
//! A click Slack delivers twice (a retried request, a Socket Mode envelope sent again) is taken
//! once: its `trigger_id` is unique to it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::{Asker, DataActionForm, DataActionSend, modal, unix_seconds};
use crate::features::Context;
use crate::features::errors::Error;
use crate::queue::Push;

/// How long the acknowledgement waits for the modal to open; the opening goes on behind it.
const HOLD_ACK: Duration = Duration::from_millis(2500);

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
    /// Which element of the interaction (one payload can carry several actions).
    pub index: usize,
}

impl Click {
    /// The same click, delivered again, has the same key.
    fn once(&self) -> Push {
        match &self.trigger_id {
            Some(trigger) => Push::once(format!("data-action-click:{trigger}:{}", self.index)),
            None => Push::default(),
        }
    }
}

/// Whether the kept action asks for a form first.
async fn has_form(ctx: &Context, key: &str) -> Result<bool, Error> {
    let Ok(id) = ctx.action_keys.verify(key, unix_seconds()) else {
        // The job tells the clicker why; nothing else happens.
        return Ok(false);
    };
    let Some(record) = ctx.queue.store().data_action(&id).await? else {
        return Ok(false);
    };
    let action: serde_json::Value = serde_json::from_str(&record.action).unwrap_or_default();
    Ok(["form", "form_url"]
        .iter()
        .any(|k| action.get(*k).is_some_and(|v| !v.is_null())))
}

/// Takes a click; an error means it was not recorded (Slack shows the user it failed).
pub async fn clicked(ctx: &Arc<Context>, click: Click) -> Result<(), Error> {
    let once = click.once();
    if let Some(key) = &once.dedupe_key
        && ctx.queue.recorded(key).await?
    {
        tracing::info!("a data-action click delivered again; taken once");
        return Ok(());
    }
    let asker = Asker {
        team: click.team.clone(),
        user: click.user.clone(),
        channel: click.channel.clone(),
        response_url: click
            .response_url
            .as_deref()
            .map(|url| crate::sealing::SealedText::seal(&ctx.sealer, url)),
    };
    let send = DataActionSend {
        asker: asker.clone(),
        key: click.key.clone(),
        form_values: BTreeMap::new(),
        form_failed: false,
    };
    let Some(trigger) = click.trigger_id.clone() else {
        ctx.queue.push(&send, once).await?;
        return Ok(());
    };
    if !has_form(ctx, &click.key).await? {
        ctx.queue.push(&send, once).await?;
        return Ok(());
    }
    // The modal is opened behind the acknowledgement, which waits for it a little: a slow
    // `views.open` still ends in its form (or in a sentence), never in a modal left loading.
    let opening = tokio::spawn(open_form(ctx.clone(), trigger, asker, send, once));
    match tokio::time::timeout(HOLD_ACK, opening).await {
        Ok(Ok(recorded)) => recorded,
        Ok(Err(panicked)) => Err(crate::features::errors::UserError::Internal {
            detail: format!("opening a form: {panicked}"),
        }
        .into()),
        Err(_) => {
            tracing::warn!("Slack is slow to open a data action's form; acknowledged while it opens");
            Ok(())
        }
    }
}

/// Opens the loading modal, then records the job that fills it (or says it could not open).
async fn open_form(
    ctx: Arc<Context>,
    trigger: String,
    asker: Asker,
    send: DataActionSend,
    once: Push,
) -> Result<(), Error> {
    let recorded = match ctx.slack.open_view(&trigger, modal::loading_view()).await {
        Ok(view_id) => {
            let job = DataActionForm {
                asker,
                key: send.key.clone(),
                view_id: view_id.to_string(),
            };
            ctx.queue.push(&job, once).await
        }
        Err(error) => {
            tracing::warn!(%error, "could not open a data action's form");
            // The job says the form could not be opened; nothing is sent.
            let failed = DataActionSend {
                form_failed: true,
                ..send
            };
            ctx.queue.push(&failed, once).await
        }
    };
    recorded.map(|_| ()).map_err(|error| {
        tracing::error!(%error, "could not record a data action's form");
        error.into()
    })
}
