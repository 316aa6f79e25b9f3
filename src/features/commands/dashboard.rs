//! `dashboard [host] <id> [filter=value ...]`, a pasted dashboard link, and custom commands:
//! every tile of the dashboard, in the conversation.

use super::reply::Conversation;
use crate::features::dashboards::{DashboardRequest, post_dashboard};
use crate::features::errors::{Error, UserError};

pub async fn dashboard(conversation: &mut Conversation<'_>, request: &DashboardRequest) -> Result<(), Error> {
    let ctx = conversation.ctx;
    let (_, looker) = ctx
        .lookers
        .choose(&request.looker)
        .map_err(|unknown| UserError::unknown_looker(&unknown))?;
    post_dashboard(
        ctx,
        &conversation.ledger,
        looker,
        &conversation.channel,
        conversation.thread.as_ref(),
        request,
        ctx.dashboard_style,
    )
    .await?;
    conversation.stop_working().await;
    Ok(())
}
