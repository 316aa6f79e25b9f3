//! Fetching an action's form from Looker (`POST /data_actions/form`) for a modal that is already
//! open (showing "loading"), and putting the form in its place. The form is kept with the action
//! so that its submission can be checked and mapped back to Looker's field names.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::modal::{Carried, form_view, sentence_view};
use super::send::action_for;
use super::{Asker, form_id, view_id};
use crate::features::Context;
use crate::features::commands::access::admit_within_limit;
use crate::features::errors::{Error, UserError};
use crate::queue::{Job, JobError, JobRun, Priority};
use crate::store::DataActionRecord;

/// Shows an action's form in the modal Slack opened for the click.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataActionForm {
    pub asker: Asker,
    pub key: String,
    /// The modal showing "loading".
    pub view_id: String,
}

impl Job for DataActionForm {
    const KIND: &'static str = "data_action_form";
    type Context = Context;
    const PRIORITY: Priority = Priority::Interactive;

    fn summary(&self) -> String {
        format!("data action form for {}", self.asker.user)
    }

    async fn run(self, ctx: &Context, run: &JobRun) -> Result<(), JobError> {
        // Looker is asked for the form as the clicker, where it runs each person's work as theirs.
        let view =
            match crate::features::identity::as_asker(ctx, &self.asker.team, &self.asker.user, self.form(ctx, run))
                .await
                .0
            {
                Ok(view) => view,
                Err(error) if error.is_transient() => return Err(error.into()),
                Err(error) => {
                    tracing::warn!(%error, "could not show a data action's form");
                    sentence_view(&error.for_user().to_string())
                }
            };
        // Updating a modal twice shows the same thing: safe to repeat.
        ctx.slack
            .update_view(&view_id(&self.view_id), view)
            .await
            .map_err(|e| JobError::from(Error::from(e)))
    }
}

impl DataActionForm {
    async fn form(&self, ctx: &Context, run: &JobRun) -> Result<slack_morphism::prelude::SlackView, Error> {
        if let Some(reason) = admit_within_limit(ctx, &self.asker.team, &self.asker.user, run)
            .await?
            .refusal_of_data()
        {
            return Err(reason.into());
        }
        let (record, looker) = action_for(ctx, &self.key).await?;
        let action: Value = serde_json::from_str(&record.action).unwrap_or(Value::Null);
        let form = match looker.data_action_form(&action).await {
            Ok(form) => form,
            Err(error) if error.is_transient() => return Err(error.into()),
            Err(error) => {
                return Err(UserError::FormUnavailable {
                    detail: error.to_string(),
                }
                .into());
            }
        };
        let json = serde_json::to_string(&form).map_err(|e| UserError::Internal { detail: e.to_string() })?;
        // Kept for this person's modal alone: another person's form (Looker may offer each
        // person different choices) or another modal's never checks this one's submission.
        let kept = DataActionRecord {
            id: form_id(&record.id, &self.asker.user, &self.view_id),
            action: "null".into(),
            form: Some(json),
            ..record.clone()
        };
        ctx.queue.store().put_data_actions(vec![kept]).await?;
        let title = action
            .get("label")
            .and_then(Value::as_str)
            .filter(|l| !l.trim().is_empty())
            .unwrap_or("Looker action");
        let carried = Carried {
            key: self.key.clone(),
            asker: self.asker.clone(),
        };
        Ok(form_view(title, &form, &carried))
    }
}
