//! Whole dashboards: every tile in the dashboard's layout order, packed into as few messages as
//! Slack allows and threaded under the first; or one PNG/PDF of the dashboard.

mod tiles;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use slack_morphism::prelude::*;

use super::Context;
use super::dashboard_filters::{check_names, effective_filters};
use super::errors::{About, Error};
use super::ledger::Ledger;
use super::posting::{Drawn, draw, file_stem, post_rendered};
use crate::clients::looker::{Format, LookerClient, RenderRequest, RenderTarget};
use crate::clients::slack::FileUpload;
use crate::config::DashboardStyle;
use crate::domain::looker::LookerChoice;
use crate::domain::looker::models::Dashboard;
use crate::domain::slack::OutgoingMessage;
use crate::render::blocks::pack;
use crate::render::mrkdwn::escape;
use crate::render::{Heading, context, heading_block, warning};
pub use tiles::{DashboardView, markdown_to_mrkdwn, render_tiles};

/// A dashboard to show, with the filter values asked for (by filter name or title).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "DashboardRequestWire")]
pub struct DashboardRequest {
    /// Which Looker it is on.
    #[serde(default)]
    pub looker: LookerChoice,
    pub id: String,
    pub filters: Vec<(String, String)>,
    pub title: Option<String>,
    pub link: Option<String>,
    /// Whether a filter name the dashboard does not have is refused with a sentence: yes for names
    /// a person typed, no for a link's address (which carries other parameters too).
    #[serde(default)]
    pub strict_filters: bool,
}

/// A request as job payloads hold it; earlier versions named the Looker by `host` or `link`.
#[derive(Deserialize)]
struct DashboardRequestWire {
    #[serde(default)]
    looker: Option<LookerChoice>,
    id: String,
    #[serde(default)]
    filters: Vec<(String, String)>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    link: Option<String>,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    strict_filters: bool,
}

impl From<DashboardRequestWire> for DashboardRequest {
    fn from(wire: DashboardRequestWire) -> Self {
        let looker = wire
            .looker
            .or(wire.host.map(LookerChoice::Host))
            .or(wire.link.clone().map(LookerChoice::Url))
            .unwrap_or_default();
        DashboardRequest {
            looker,
            id: wire.id,
            filters: wire.filters,
            title: wire.title,
            link: wire.link,
            strict_filters: wire.strict_filters,
        }
    }
}

fn filters_note(values: &BTreeMap<String, String>, dashboard: &Dashboard) -> Option<String> {
    if values.is_empty() {
        return None;
    }
    let label = |name: &String| {
        dashboard
            .dashboard_filters
            .iter()
            .find(|f| &f.name == name)
            .and_then(|f| f.title.clone())
            .unwrap_or(name.clone())
    };
    Some(
        values
            .iter()
            .map(|(name, value)| format!("{}: {}", escape(&label(name)), escape(value)))
            .collect::<Vec<_>>()
            .join(" · "),
    )
}

/// Shows a dashboard in a channel (or a thread), tile by tile or as one image/PDF.
pub async fn post_dashboard(
    ctx: &Context,
    ledger: &Ledger<'_>,
    looker: &LookerClient,
    channel: &SlackChannelId,
    thread: Option<&SlackTs>,
    request: &DashboardRequest,
    style: DashboardStyle,
) -> Result<(), Error> {
    let dashboard = looker
        .dashboard(&request.id)
        .await
        .about(format!("dashboard {}", request.id))?;
    let link = request
        .link
        .clone()
        .unwrap_or_else(|| format!("{}/dashboards/{}", looker.web_base(), request.id));
    let title = request
        .title
        .clone()
        .or(dashboard.title.clone())
        .unwrap_or_else(|| "Dashboard".into());
    if request.strict_filters {
        check_names(&dashboard, &title, &request.filters)?;
    }
    let values = effective_filters(&dashboard.dashboard_filters, &request.filters);
    let mut head = vec![heading_block(&Heading {
        title: title.clone(),
        link: Some(link.clone()),
    })];
    head.extend(filters_note(&values, &dashboard).map(|note| context(&note)));

    if let DashboardStyle::Png | DashboardStyle::Pdf = style {
        let format = if style == DashboardStyle::Pdf {
            Format::Pdf
        } else {
            Format::Png
        };
        let query_string: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(values.iter())
            .finish();
        let request = RenderRequest {
            target: RenderTarget::Dashboard {
                id: request.id.clone(),
                filters: query_string,
            },
            format,
            width: 1200,
            height: 1600,
            query_id: None,
        };
        return match draw(ctx, looker, &request).await? {
            Drawn::Image(image) => {
                let file = FileUpload {
                    filename: format!("{}.{}", file_stem(&title), image.extension),
                    title: title.clone(),
                    content_type: image.content_type.into(),
                    content: image.bytes.into(),
                    comment: None,
                };
                ledger.upload(channel, &file, Some(head), thread).await?;
                Ok(())
            }
            Drawn::Missing(sentence) => {
                head.push(warning(&sentence.to_string()));
                ledger
                    .post(
                        channel,
                        &OutgoingMessage {
                            text: crate::render::mrkdwn::escape(&title),
                            blocks: head,
                        },
                        thread,
                    )
                    .await?;
                Ok(())
            }
        };
    }

    let view = DashboardView {
        dashboard: &dashboard,
        values: &values,
        link: &link,
    };
    let tiles = render_tiles(ctx, looker, &view).await?;
    if tiles.is_empty() {
        head.push(context("This dashboard has no tiles the bot can show."));
    }
    // Tiles made only of blocks are packed together; tiles with an image or a CSV go on their own.
    let mut plain_groups = vec![head];
    let mut first_ts: Option<SlackTs> = None;
    for tile in tiles {
        if tile.image.is_none() && tile.csv.is_none() {
            plain_groups.push(tile.message.blocks);
            continue;
        }
        // Keep the order: the plain tiles before this one go out first.
        post_groups(
            ledger,
            channel,
            thread,
            &mut first_ts,
            std::mem::take(&mut plain_groups),
            &title,
        )
        .await?;
        let under = first_ts.as_ref().or(thread).cloned();
        let ts = post_rendered(ctx, ledger, looker, channel, under.as_ref(), tile).await?;
        if first_ts.is_none() && thread.is_none() {
            first_ts = ts;
        }
    }
    post_groups(ledger, channel, thread, &mut first_ts, plain_groups, &title).await
}

/// Posts packed groups: the first message where asked, the rest in its thread.
async fn post_groups(
    ledger: &Ledger<'_>,
    channel: &SlackChannelId,
    thread: Option<&SlackTs>,
    first_ts: &mut Option<SlackTs>,
    groups: Vec<Vec<SlackBlock>>,
    title: &str,
) -> Result<(), Error> {
    for blocks in pack(groups.into_iter().filter(|g| !g.is_empty()).collect()) {
        let under = first_ts.as_ref().or(thread).cloned();
        let message = OutgoingMessage {
            text: crate::render::mrkdwn::escape(title),
            blocks,
        };
        let posted = ledger.post(channel, &message, under.as_ref()).await?;
        if first_ts.is_none() && thread.is_none() {
            *first_ts = Some(posted.ts);
        }
    }
    Ok(())
}
