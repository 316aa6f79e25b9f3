//! `dashboard [host] <id> [filter=value ...]`, a pasted dashboard link, and custom commands:
//! every tile of the dashboard, in the conversation; where the channel's readers may not see
//! them, the dashboard's name and link.

use slack_morphism::prelude::*;

use super::reply::Conversation;
use crate::clients::looker::LookerClient;
use crate::domain::looker::models::Dashboard;
use crate::domain::slack::OutgoingMessage;
use crate::features::dashboards::{DashboardRequest, post_dashboard};
use crate::features::errors::{About, Error, UserError};
use crate::render::mrkdwn::escape;

pub async fn dashboard(conversation: &mut Conversation<'_>, request: &DashboardRequest) -> Result<(), Error> {
    let ctx = conversation.ctx;
    let (_, looker) = ctx
        .lookers
        .choose(&request.looker)
        .map_err(|unknown| UserError::unknown_looker(&unknown))?;
    let placement = conversation.placement;
    if !placement.in_conversation() || conversation.tie.is_some() {
        // Fetched as the asker: a dashboard they cannot see is refused here.
        let dashboard = looker
            .dashboard(&request.id)
            .await
            .about(format!("dashboard {}", request.id))?;
        let (title, link) = title_and_link(looker, request, &dashboard);
        if placement.links_only() {
            return conversation.show_link(&title, &link).await;
        }
        let line = format!("*<{link}|{}>*", escape(&title));
        let summary = OutgoingMessage {
            text: title,
            blocks: vec![SlackBlock::Section(
                SlackSectionBlock::new().with_text(SlackBlockMarkDownText::new(line).into()),
            )],
        };
        if !placement.in_conversation() {
            // The tiles come when the asker shares it.
            return conversation.show_privately(summary, true).await;
        }
        if !conversation
            .tie_allows(looker, tile_models(&dashboard).iter(), &summary)
            .await?
        {
            return Ok(());
        }
    }
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

fn title_and_link(looker: &LookerClient, request: &DashboardRequest, dashboard: &Dashboard) -> (String, String) {
    let title = request
        .title
        .clone()
        .or(dashboard.title.clone())
        .unwrap_or_else(|| format!("Dashboard {}", request.id));
    let link = request
        .link
        .clone()
        .unwrap_or_else(|| format!("{}/dashboards/{}", looker.web_base(), request.id));
    (title, link)
}

/// The model of every tile with data; a tile whose model is not known (a merged result) is an
/// empty name, which no group may use.
fn tile_models(dashboard: &Dashboard) -> Vec<String> {
    dashboard
        .dashboard_elements
        .iter()
        .filter_map(|e| {
            let maker = e.result_maker.as_ref();
            let model = e
                .query
                .as_ref()
                .or(maker.and_then(|r| r.query.as_ref()))
                .or(e.look.as_ref().and_then(|l| l.query.as_ref()))
                .map(|q| q.model.clone());
            let has_data = e.query_id.is_some()
                || e.look_id.is_some()
                || e.merge_result_id.is_some()
                || maker.is_some_and(|r| r.query_id.is_some() || r.merge_result_id.is_some());
            model.or(has_data.then(String::new))
        })
        .collect()
}
