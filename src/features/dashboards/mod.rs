//! Whole dashboards: every tile in the dashboard's layout order (text tiles as text, query and Look
//! tiles through the renderer, merged results joined from their source queries), packed into as
//! few messages as Slack allows and threaded under the first; or one PNG/PDF of the dashboard.
//! Dashboard filters reach each tile through `result_maker.filterables[].listen`.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use regex::Regex;
use slack_morphism::prelude::*;

use super::merged;
use crate::clients::looker::models::{Dashboard, DashboardElement, DashboardFilter, Filterable, Query};
use crate::clients::looker::{LookerClient, LookerError};
use crate::clients::slack::{FileUpload, OutgoingMessage};
use crate::config::DashboardStyle;
use crate::images::{Format, RenderRequest};
use crate::jobs::{JobContext, JobError};
use crate::present::{draw, file_stem, post_rendered, render_result};
use crate::render::blocks::pack;
use crate::render::mrkdwn::{escape, truncate};
use crate::render::{Heading, Rendered, Source, context, heading_block, section, warning};

/// A dashboard to show, with the filter values asked for (by filter name or title).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DashboardRequest {
    pub id: String,
    pub filters: Vec<(String, String)>,
    pub title: Option<String>,
    pub link: Option<String>,
    /// The Looker asked for by host (`dashboard looker.example.com 5`) when there is no link.
    #[serde(default)]
    pub host: Option<String>,
}

/// The value of every dashboard filter: the one asked for, else the filter's default.
pub fn effective_filters(filters: &[DashboardFilter], requested: &[(String, String)]) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for filter in filters {
        let asked = requested.iter().find(|(key, _)| {
            key.eq_ignore_ascii_case(&filter.name)
                || filter.title.as_deref().is_some_and(|t| key.eq_ignore_ascii_case(t))
        });
        let value = asked
            .map(|(_, v)| v.clone())
            .or_else(|| filter.default_value.clone().filter(|v| !v.is_empty()));
        if let Some(value) = value {
            values.insert(filter.name.clone(), value);
        }
    }
    values
}

/// The query with the dashboard's filter values applied to the fields that listen to them;
/// `None` when nothing changes.
pub fn filtered_query(query: &Query, filterables: &[Filterable], values: &BTreeMap<String, String>) -> Option<Query> {
    let mut changed = query.clone();
    let mut any = false;
    for listen in filterables.iter().flat_map(|f| f.listen.iter().flatten()) {
        let (Some(name), Some(field)) = (&listen.dashboard_filter_name, &listen.field) else {
            continue;
        };
        let Some(value) = values.get(name) else { continue };
        let filters = changed.filters.get_or_insert_with(Default::default);
        if filters.get(field).and_then(|v| v.as_deref()) != Some(value.as_str()) {
            filters.insert(field.clone(), Some(value.clone()));
            any = true;
        }
    }
    any.then_some(changed)
}

/// Elements in reading order: by the active layout's rows and columns, else as Looker lists them.
fn in_layout_order(dashboard: &Dashboard) -> Vec<&DashboardElement> {
    let layout = dashboard
        .dashboard_layouts
        .iter()
        .find(|l| l.active.unwrap_or(false))
        .or(dashboard.dashboard_layouts.first());
    let position: HashMap<String, (i64, i64)> = layout
        .map(|l| {
            l.dashboard_layout_components
                .iter()
                .filter_map(|c| {
                    Some((
                        c.dashboard_element_id.clone()?.0,
                        (c.row.unwrap_or(0), c.column.unwrap_or(0)),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut elements: Vec<&DashboardElement> = dashboard.dashboard_elements.iter().collect();
    elements.sort_by_key(|e| {
        e.id.as_ref()
            .and_then(|id| position.get(&id.0))
            .copied()
            .unwrap_or((i64::MAX, i64::MAX))
    });
    elements
}

static MD_LINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[([^\]]+)\]\(([^)\s]+)\)").expect("valid regex"));
static MD_BOLD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\*\*([^*]+)\*\*").expect("valid regex"));
static MD_HEADING: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?m)^#{1,6}\s+(.+)$").expect("valid regex"));

/// Looker text tiles are Markdown; Slack speaks mrkdwn.
pub fn markdown_to_mrkdwn(markdown: &str) -> String {
    let escaped = escape(markdown);
    let linked = MD_LINK.replace_all(&escaped, "<$2|$1>");
    let bold = MD_BOLD.replace_all(&linked, "*$1*");
    MD_HEADING.replace_all(&bold, "*$1*").into_owned()
}

fn tile_title(element: &DashboardElement) -> Option<String> {
    if element.title_hidden.unwrap_or(false) {
        return None;
    }
    element
        .title_text
        .clone()
        .or_else(|| element.title.clone())
        .or_else(|| element.look.as_ref().and_then(|l| l.title.clone()))
        .filter(|t| !t.trim().is_empty())
}

fn text_tile(element: &DashboardElement) -> Option<Rendered> {
    let mut blocks = Vec::new();
    let title = tile_title(element);
    if let Some(title) = &title {
        blocks.push(section(&format!("*{}*", escape(title))));
    }
    if let Some(subtitle) = element.subtitle_text.as_deref().filter(|s| !s.is_empty()) {
        blocks.push(context(&escape(subtitle)));
    }
    if let Some(body) = element.body_text.as_deref().filter(|b| !b.trim().is_empty()) {
        blocks.push(section(&truncate(&markdown_to_mrkdwn(body), 3000)));
    }
    if blocks.is_empty() {
        return None;
    }
    let title = title.unwrap_or_else(|| "Text".into());
    Some(Rendered {
        message: OutgoingMessage {
            text: title.clone(),
            blocks,
        },
        title,
        image: None,
        csv: None,
    })
}

/// A tile Looker refused (deleted Look, no permission) is shown as a warning, not a failed dashboard.
fn broken_tile(title: &str, error: &LookerError) -> Rendered {
    let blocks = vec![
        section(&format!("*{}*", escape(title))),
        warning(&format!("This tile could not be loaded: {error}")),
    ];
    Rendered {
        title: title.into(),
        message: OutgoingMessage {
            text: title.into(),
            blocks,
        },
        image: None,
        csv: None,
    }
}

async fn query_tile(
    ctx: &JobContext,
    looker: &LookerClient,
    element: &DashboardElement,
    values: &BTreeMap<String, String>,
    link: &str,
) -> Result<Option<Rendered>, LookerError> {
    let maker = element.result_maker.clone().unwrap_or_default();
    let filterables = maker.filterables.clone().unwrap_or_default();
    let title = tile_title(element).unwrap_or_else(|| "Untitled tile".into());
    let heading = Heading {
        title,
        link: Some(link.to_string()),
    };

    if let Some(merge_id) = maker.merge_result_id.as_ref().or(element.merge_result_id.as_ref()) {
        let (result, mut query) = merged::run(looker, merge_id, values, &filterables).await?;
        if maker.vis_config.is_some() {
            query.vis_config = maker.vis_config.clone();
        }
        let source = Source {
            dashboard_element_id: element.id.clone(),
            ..Default::default()
        };
        return Ok(Some(render_result(
            ctx,
            looker,
            &heading,
            source,
            &result,
            Some(&query),
        )));
    }

    let saved = maker
        .query
        .clone()
        .or_else(|| element.query.clone())
        .or_else(|| element.look.as_ref().and_then(|l| l.query.clone()));
    let mut query = match (saved, maker.query_id.as_ref().or(element.query_id.as_ref())) {
        (Some(query), _) => query,
        (None, Some(id)) => looker.query(id).await?,
        (None, None) => return Ok(None),
    };
    // The tile's own vis settings win over the saved query's.
    if maker.vis_config.is_some() {
        query.vis_config = maker.vis_config.clone();
    }
    let (query_id, refiltered) = match filtered_query(&query, &filterables, values) {
        Some(changed) => (looker.create_query(&changed).await?.id, true),
        None => (
            query.id.clone().or(maker.query_id.clone()).or(element.query_id.clone()),
            false,
        ),
    };
    let Some(query_id) = query_id else { return Ok(None) };
    let result = looker.run_query_detail(&query_id).await?;
    let source = Source {
        query_id: Some(query_id),
        // Looker draws a tile with its saved filters: with others applied, draw the query instead.
        dashboard_element_id: if refiltered { None } else { element.id.clone() },
        look_id: None,
    };
    Ok(Some(render_result(
        ctx,
        looker,
        &heading,
        source,
        &result,
        Some(&query),
    )))
}

/// Renders every tile, in order.
pub async fn render_tiles(
    ctx: &JobContext,
    looker: &LookerClient,
    dashboard: &Dashboard,
    values: &BTreeMap<String, String>,
    link: &str,
) -> Result<Vec<Rendered>, JobError> {
    let mut tiles = Vec::new();
    for element in in_layout_order(dashboard) {
        if element.element_type.as_deref() == Some("text") {
            tiles.extend(text_tile(element));
            continue;
        }
        match query_tile(ctx, looker, element, values, link).await {
            Ok(tile) => tiles.extend(tile),
            Err(error) if error.is_transient() => return Err(error.into()),
            Err(error) => {
                tracing::warn!(%error, tile = ?element.id, "dashboard tile could not be loaded");
                tiles.push(broken_tile(
                    &tile_title(element).unwrap_or_else(|| "A tile".into()),
                    &error,
                ));
            }
        }
    }
    Ok(tiles)
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
    ctx: &JobContext,
    looker: &LookerClient,
    channel: &SlackChannelId,
    thread: Option<&SlackTs>,
    request: &DashboardRequest,
    style: DashboardStyle,
) -> Result<(), JobError> {
    let dashboard = looker.dashboard(&request.id).await?;
    let values = effective_filters(&dashboard.dashboard_filters, &request.filters);
    let link = request
        .link
        .clone()
        .unwrap_or_else(|| format!("{}/dashboards/{}", looker.web_base(), request.id));
    let title = request
        .title
        .clone()
        .or(dashboard.title.clone())
        .unwrap_or_else(|| "Dashboard".into());
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
            target: format!("dashboards/{}", request.id),
            format,
            width: 1200,
            height: 1600,
            body: Some(serde_json::json!({"dashboard_filters": query_string, "dashboard_style": "tiled"})),
            query_id: None,
        };
        return match draw(ctx, looker, &request).await? {
            Ok(image) => {
                let file = FileUpload {
                    filename: format!("{}.{}", file_stem(&title), image.extension),
                    title: title.clone(),
                    content_type: image.content_type.into(),
                    bytes: image.bytes,
                };
                ctx.slack.upload_file(channel, &file, Some(head), thread).await?;
                Ok(())
            }
            Err(error) => {
                head.push(warning(&error.user_message()));
                ctx.slack
                    .post_message(
                        channel,
                        &OutgoingMessage {
                            text: title,
                            blocks: head,
                        },
                        thread,
                    )
                    .await?;
                Ok(())
            }
        };
    }

    let tiles = render_tiles(ctx, looker, &dashboard, &values, &link).await?;
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
            ctx,
            channel,
            thread,
            &mut first_ts,
            std::mem::take(&mut plain_groups),
            &title,
        )
        .await?;
        let under = first_ts.as_ref().or(thread).cloned();
        let ts = post_rendered(ctx, looker, channel, under.as_ref(), tile).await?;
        if first_ts.is_none() && thread.is_none() {
            first_ts = ts;
        }
    }
    post_groups(ctx, channel, thread, &mut first_ts, plain_groups, &title).await
}

/// Posts packed groups: the first message where asked, the rest in its thread.
async fn post_groups(
    ctx: &JobContext,
    channel: &SlackChannelId,
    thread: Option<&SlackTs>,
    first_ts: &mut Option<SlackTs>,
    groups: Vec<Vec<SlackBlock>>,
    title: &str,
) -> Result<(), JobError> {
    for blocks in pack(groups.into_iter().filter(|g| !g.is_empty()).collect()) {
        let under = first_ts.as_ref().or(thread).cloned();
        let message = OutgoingMessage {
            text: title.to_string(),
            blocks,
        };
        let posted = ctx.slack.post_message(channel, &message, under.as_ref()).await?;
        if first_ts.is_none() && thread.is_none() {
            *first_ts = Some(posted.ts);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requested_filters_win_and_defaults_fill_the_rest() {
        let filters: Vec<DashboardFilter> = serde_json::from_value(json!([
            {"name": "status", "title": "Order Status", "default_value": "complete"},
            {"name": "date", "title": "Date", "default_value": "7 days"},
            {"name": "region", "title": "Region", "default_value": ""}
        ]))
        .unwrap();
        let values = effective_filters(&filters, &[("order status".into(), "pending".into())]);
        assert_eq!(values.get("status").map(String::as_str), Some("pending"));
        assert_eq!(values.get("date").map(String::as_str), Some("7 days"));
        assert!(!values.contains_key("region"));
    }

    #[test]
    fn filters_reach_the_fields_that_listen() {
        let query: Query = serde_json::from_value(json!({"id": "1", "model": "m", "view": "orders",
            "filters": {"orders.status": "complete"}}))
        .unwrap();
        let filterables: Vec<Filterable> = serde_json::from_value(json!([
            {"model": "m", "view": "orders", "listen": [{"dashboard_filter_name": "status", "field": "orders.status"}]}
        ]))
        .unwrap();
        let mut values = BTreeMap::new();
        values.insert("status".to_string(), "pending".to_string());
        let changed = filtered_query(&query, &filterables, &values).unwrap();
        assert_eq!(changed.filters.unwrap()["orders.status"].as_deref(), Some("pending"));
        values.insert("status".to_string(), "complete".to_string());
        assert!(
            filtered_query(&query, &filterables, &values).is_none(),
            "no new query when nothing changes"
        );
    }

    #[test]
    fn text_tiles_speak_slack() {
        assert_eq!(
            markdown_to_mrkdwn("# KPIs\n**Bold** see [docs](https://x.io/a?b=1&c=2)"),
            "*KPIs*\n*Bold* see <https://x.io/a?b=1&amp;c=2|docs>"
        );
    }
}
