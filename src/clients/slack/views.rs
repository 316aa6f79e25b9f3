//! Modals: opened within the three seconds a `trigger_id` lasts, then replaced in place when the
//! content they wait for (a Looker form) arrives.

use slack_morphism::prelude::*;

use super::{SlackApi, SlackError};

impl SlackApi {
    /// Opens a modal for the person who clicked (`views.open`); returns its id.
    pub async fn open_view(&self, trigger_id: &str, view: SlackView) -> Result<SlackViewId, SlackError> {
        let request = SlackApiViewsOpenRequest::new(SlackTriggerId(trigger_id.to_string()), view);
        let answer = slack_call!(self, "views.open", views_open(&request))?;
        Ok(answer.view.state_params.id)
    }

    /// Replaces an open modal's content (`views.update`).
    pub async fn update_view(&self, view_id: &SlackViewId, view: SlackView) -> Result<(), SlackError> {
        let request = SlackApiViewsUpdateRequest::new(view).with_view_id(view_id.clone());
        slack_call!(self, "views.update", views_update(&request))?;
        Ok(())
    }
}
