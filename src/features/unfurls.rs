//! Link previews: a Looker link posted in a channel (`link_shared`, with
//! `LOOKER_SLACKBOT_EXPAND_URLS`) is answered with `chat.unfurl` showing the rendered result.
//! Links in a mention of the bot or a DM to it are answered in place by the command path
//! instead: the preview waits a moment and steps aside when that message was a question.
//! Previews carry no uploads: a chart only Looker can draw is shown as an image only when an S3
//! bucket holds it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use slack_morphism::prelude::*;

use super::Context;
use super::audit::{self, Asked};
use super::commands::access::admit;
use super::commands::question_key;
use super::dashboard_filters::effective_filters;
use super::dashboards::{DashboardView, render_tiles};
use super::errors::Error;
use super::looks::{LookRun, render_look, render_query_link};
use super::posting::{Drawn, draw, render_request};
use crate::clients::looker::LookerClient;
use crate::domain::looker::{Content, Link};
use crate::queue::{Job, JobError, JobRun, Priority};
use crate::render::blocks::pack;
use crate::render::{Heading, Rendered, context, heading_block};

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

impl Job for UnfurlRequest {
    const KIND: &'static str = "unfurl";
    type Context = Context;
    const PRIORITY: Priority = Priority::Interactive;

    fn summary(&self) -> String {
        format!(
            "preview of {} link(s) from {} in {}",
            self.links.len(),
            self.user_id,
            self.channel
        )
    }

    async fn run(self, ctx: &Context, run: &JobRun) -> Result<(), JobError> {
        // A preview is read by everyone in the channel: only where its audience is public.
        let placement = super::audience::placement(ctx, &self.channel).await;
        let asked = Asked {
            team: &self.team_id,
            slack_user: &self.user_id,
            kind: "preview",
            what: self.links.join(" "),
            channel: &self.channel,
            audience: placement.recorded(),
            key: format!("job:{}", run.id()),
        };
        if !placement.in_conversation() {
            tracing::info!(channel = %self.channel, audience = placement.recorded(), "no preview where the channel's readers may not see data");
            let outcome = "not previewed: the channel's readers may not see data".to_string();
            audit::record(ctx, asked, None, outcome).await;
            return Ok(());
        }
        // A preview shows what the person who shared the link may see.
        let (result, looker_user) =
            super::identity::as_asker(ctx, &self.team_id, &self.user_id, unfurl(ctx, &self)).await;
        match &result {
            Err(error) if error.is_transient() || error.waits_its_turn() => {}
            Ok(0) => {}
            Ok(shown) => audit::record(ctx, asked, looker_user, format!("previewed {shown} link(s)")).await,
            Err(_) => audit::record(ctx, asked, looker_user, audit::outcome(&result)).await,
        }
        result.map(|_| ()).map_err(JobError::from)
    }
}

/// A rendered result as preview blocks: the image from S3 when there is one, else a pointer.
async fn preview(ctx: &Context, looker: &LookerClient, rendered: Rendered) -> Result<Vec<SlackBlock>, Error> {
    let mut blocks = rendered.message.blocks;
    if let Some(need) = rendered.image {
        let stored = match (&ctx.images, render_request(&need.source)) {
            (Some(bucket), Some(request)) => match draw(ctx, looker, &request).await? {
                Drawn::Image(image) => bucket.store(&image).await.ok(),
                Drawn::Missing(_) => None,
            },
            _ => None,
        };
        match stored {
            Some(url) => blocks.push(SlackBlock::Image(SlackImageBlock::new(
                SlackImageUrlOrFile::ImageUrl { image_url: url },
                need.alt_text,
            ))),
            None => blocks.push(context("Open the link to see this chart in Looker.")),
        }
    }
    Ok(blocks)
}

/// The preview of one link; `None` when Looker will not show it (it is simply not previewed).
/// In a channel tied to a Looker group, only Looks and queries of the group's models are
/// previewed (a dashboard's tiles are not).
async fn preview_link(
    ctx: &Context,
    looker: &LookerClient,
    link: &Link,
    tie: Option<&str>,
) -> Result<Option<Vec<SlackBlock>>, Error> {
    if tie.is_some() && matches!(link.content, Content::Dashboard { .. }) {
        return Ok(None);
    }
    let rendered = match &link.content {
        Content::Look { id } => render_look(ctx, looker, LookRun::look(id)).await,
        Content::Query { slug } => render_query_link(ctx, looker, slug, &link.url).await,
        Content::Dashboard { id, filters } => {
            let board = match looker.dashboard(id).await {
                Ok(board) => board,
                Err(error) if error.is_transient() => return Err(error.into()),
                Err(_) => return Ok(None),
            };
            let values = effective_filters(&board.dashboard_filters, filters);
            let title = board.title.clone().unwrap_or_else(|| "Dashboard".into());
            let mut groups = vec![vec![heading_block(&Heading {
                title,
                link: Some(link.url.clone()),
            })]];
            groups.extend(
                render_tiles(
                    ctx,
                    looker,
                    &DashboardView {
                        dashboard: &board,
                        values: &values,
                        link: &link.url,
                    },
                )
                .await?
                .into_iter()
                .filter(|t| t.image.is_none())
                .map(|t| t.message.blocks),
            );
            return Ok(Some(pack(groups).into_iter().next().unwrap_or_default()));
        }
    };
    match rendered {
        Ok(rendered) if let Some(group) = tie => {
            let model = rendered.model.clone().unwrap_or_default();
            if super::audience::group_may_see(looker, group, [&model]).await? {
                Ok(Some(preview(ctx, looker, rendered).await?))
            } else {
                Ok(None)
            }
        }
        Ok(rendered) => Ok(Some(preview(ctx, looker, rendered).await?)),
        Err(error) if error.is_transient() => Err(error),
        Err(_) => Ok(None),
    }
}

/// Previews the links the sharer may see; how many.
async fn unfurl(ctx: &Context, request: &UnfurlRequest) -> Result<usize, Error> {
    // A message that asked the bot (a mention, a DM) is answered in place: no preview as well.
    let asked = question_key(&request.team_id, &request.channel, &request.message_ts);
    if request.source.as_deref() != Some("composer") && ctx.queue.recorded(&asked).await? {
        tracing::info!(channel = %request.channel, "links answered in place; no preview");
        return Ok(0);
    }
    if let Some(reason) = admit(ctx, &request.user_id).await?.refusal_of_data() {
        tracing::info!(user = %request.user_id, %reason, "no preview for a link shared by someone the bot does not serve");
        return Ok(0);
    }
    let tie = super::audience::tie(ctx, &request.channel).await;
    let mut unfurls = HashMap::new();
    for url in &request.links {
        let Some(link) = ctx.lookers.registry().link(url) else {
            continue;
        };
        let Some(looker) = link.looker.as_ref().and_then(|key| ctx.lookers.get(key)) else {
            continue;
        };
        if let Some(blocks) = preview_link(ctx, looker, &link, tie.as_deref()).await? {
            unfurls.insert(url.clone(), blocks);
        }
    }
    if unfurls.is_empty() {
        return Ok(0);
    }
    let shown = unfurls.len();
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
    Ok(shown)
}
