//! Link previews: a Looker link posted in a channel (`link_shared`, with
//! `LOOKER_SLACKBOT_EXPAND_URLS`) is answered with `chat.unfurl` showing the rendered result.
//! Links in a mention of the bot or a DM to it are answered in place by the command path
//! instead: the preview waits a moment and steps aside when that message was a question. Previews carry no uploads: a
//! chart only Looker can draw is shown as an image only when an S3 bucket holds it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use slack_morphism::prelude::*;

use super::commands::{Command, CommandFailure, admit, parse, render_look, render_query_link};
use super::dashboards::render_tiles;
use crate::http::slack_events::message_key;
use crate::images::RenderRequest;
use crate::jobs::{JobContext, JobError};
use crate::present::draw;
use crate::render::blocks::pack;
use crate::render::{Heading, Rendered, context, heading_block};
use crate::store::JobStore;

/// The job payload for one `link_shared` event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnfurlRequest {
    pub team_id: String,
    pub user_id: String,
    pub channel: String,
    pub message_ts: String,
    pub unfurl_id: Option<String>,
    pub source: Option<String>,
    pub links: Vec<String>,
}

/// A rendered result as preview blocks: the image from S3 when there is one, else a pointer.
async fn preview(
    ctx: &JobContext,
    looker: &crate::clients::looker::LookerClient,
    rendered: Rendered,
) -> Result<Vec<SlackBlock>, JobError> {
    let mut blocks = rendered.message.blocks;
    if let Some(need) = rendered.image {
        let stored = match (&ctx.images, RenderRequest::for_source(&need.source)) {
            (Some(bucket), Some(request)) => match draw(ctx, looker, &request).await? {
                Ok(image) => bucket.store(&image).await.ok(),
                Err(_) => None,
            },
            _ => None,
        };
        match stored.and_then(|url| url::Url::parse(&url).ok()) {
            Some(url) => blocks.push(SlackBlock::Image(SlackImageBlock::new(
                SlackImageUrlOrFile::ImageUrl { image_url: url },
                need.alt_text,
            ))),
            None => blocks.push(context("Open the link to see this chart in Looker.")),
        }
    }
    Ok(blocks)
}

pub async fn unfurl(ctx: &JobContext, store: &dyn JobStore, request: UnfurlRequest) -> Result<(), JobError> {
    // A message that asked the bot (a mention, a DM) is answered in place: no preview as well.
    let asked = message_key(&request.team_id, &request.channel, &request.message_ts);
    if request.source.as_deref() != Some("composer") && store.has_key(&asked).await? {
        tracing::info!(channel = %request.channel, "links answered in place; no preview");
        return Ok(());
    }
    if let Err(reason) = admit(ctx, &request.team_id, &request.user_id).await? {
        tracing::info!(user = %request.user_id, %reason, "no preview for a link shared by someone the bot does not serve");
        return Ok(());
    }
    let mut unfurls = HashMap::new();
    for link in &request.links {
        let Some(looker) = ctx.lookers.for_url(link) else {
            continue;
        };
        let blocks = match parse(link) {
            Command::Look { id, .. } => match render_look(ctx, looker, &id).await {
                Ok(rendered) => preview(ctx, looker, rendered).await?,
                Err(CommandFailure::Looker(error, _)) if error.is_transient() => return Err(error.into()),
                Err(_) => continue,
            },
            Command::Query { slug, url } => match render_query_link(ctx, looker, &slug, &url).await {
                Ok(rendered) => preview(ctx, looker, rendered).await?,
                Err(CommandFailure::Looker(error, _)) if error.is_transient() => return Err(error.into()),
                Err(_) => continue,
            },
            Command::Dashboard { request: dashboard } => {
                let board = match looker.dashboard(&dashboard.id).await {
                    Ok(board) => board,
                    Err(error) if error.is_transient() => return Err(error.into()),
                    Err(_) => continue,
                };
                let values = super::dashboards::effective_filters(&board.dashboard_filters, &dashboard.filters);
                let title = board.title.clone().unwrap_or_else(|| "Dashboard".into());
                let mut groups = vec![vec![heading_block(&Heading {
                    title,
                    link: Some(link.clone()),
                })]];
                groups.extend(
                    render_tiles(ctx, looker, &board, &values, link)
                        .await?
                        .into_iter()
                        .filter(|t| t.image.is_none())
                        .map(|t| t.message.blocks),
                );
                pack(groups).into_iter().next().unwrap_or_default()
            }
            Command::Help | Command::Find { .. } | Command::Unknown { .. } => continue,
        };
        unfurls.insert(link.clone(), blocks);
    }
    if unfurls.is_empty() {
        return Ok(());
    }
    let id = match (&request.unfurl_id, &request.source) {
        (Some(unfurl_id), Some(source)) => SlackUnfurlRequestId::UnfurlIdSource(SlackUnfurlIdSource::new(
            source.clone(),
            SlackUnfurlId(unfurl_id.clone()),
        )),
        _ => SlackUnfurlRequestId::ChannelTs(SlackChannelTs::new(
            SlackChannelId(request.channel.clone()),
            SlackTs(request.message_ts.clone()),
        )),
    };
    ctx.slack.unfurl(id, unfurls).await?;
    Ok(())
}
