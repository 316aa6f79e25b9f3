//! `dashboard [host] <id> [filter=value ...]`, a pasted dashboard link, and custom commands:
//! every tile of the dashboard, in the conversation.

use slack_morphism::prelude::*;

use super::reply::Conversation;
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
    if !conversation.placement.in_conversation() {
        // Where the channel's readers may not see the tiles: the dashboard's name and link,
        // fetched as the asker (the tiles come when the asker shares it).
        let dashboard = looker
            .dashboard(&request.id)
            .await
            .about(format!("dashboard {}", request.id))?;
        let title = request
            .title
            .clone()
            .or(dashboard.title)
            .unwrap_or_else(|| format!("Dashboard {}", request.id));
        let link = request
            .link
            .clone()
            .unwrap_or_else(|| format!("{}/dashboards/{}", looker.web_base(), request.id));
        if conversation.placement.links_only() {
            return conversation.show_link(&title, &link).await;
        }
        let line = format!("*<{link}|{}>*", escape(&title));
        let message = OutgoingMessage {
            text: title.clone(),
            blocks: vec![SlackBlock::Section(
                SlackSectionBlock::new().with_text(SlackBlockMarkDownText::new(line).into()),
            )],
        };
        return conversation.show_privately(message, true).await;
    }
    if conversation.tie.is_some() {
        // Every tile's model must be one the channel's group may use.
        let dashboard = looker
            .dashboard(&request.id)
            .await
            .about(format!("dashboard {}", request.id))?;
        // A tile with data whose model is not known (a merged result) counts as outside the group.
        let models: Vec<String> = dashboard
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
            .collect();
        let title = request
            .title
            .clone()
            .or(dashboard.title)
            .unwrap_or_else(|| format!("Dashboard {}", request.id));
        let link = format!("{}/dashboards/{}", looker.web_base(), request.id);
        let message = OutgoingMessage {
            text: title.clone(),
            blocks: vec![SlackBlock::Section(SlackSectionBlock::new().with_text(
                SlackBlockMarkDownText::new(format!("*<{link}|{}>*", escape(&title))).into(),
            ))],
        };
        if !conversation.tie_allows(looker, models.iter(), &message).await? {
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
