//! A dashboard's tiles, each as Slack blocks: text tiles as text (Markdown becomes mrkdwn), query
//! and Look tiles through the renderer with the dashboard's filters applied, merged results joined
//! from their source queries, and tiles Looker refuses as a warning. In the dashboard's layout order.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use regex::Regex;

use crate::clients::looker::{LookerClient, LookerError};
use crate::domain::looker::models::{Dashboard, DashboardElement, Query, QueryResult};
use crate::features::Context;
use crate::features::dashboard_filters::filtered_query;
use crate::features::errors::{Error, UserError};
use crate::features::merged;
use crate::features::posting::render_result;
use crate::render::mrkdwn::{escape, truncate};
use crate::render::{Heading, Rendered, Source, context, section, warning};

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
    Some(Rendered::blocks(title.unwrap_or_else(|| "Text".into()), blocks))
}

/// A tile Looker refused (deleted Look, no permission) is shown as a warning, not a failed dashboard.
fn broken_tile(title: &str, error: &LookerError) -> Rendered {
    let blocks = vec![
        section(&format!("*{}*", escape(title))),
        warning(&UserError::from_tile(error).to_string()),
    ];
    Rendered::blocks(title, blocks)
}

/// A dashboard as it is being shown: with the filter values that apply and the link to it.
pub struct DashboardView<'a> {
    pub dashboard: &'a Dashboard,
    pub values: &'a BTreeMap<String, String>,
    pub link: &'a str,
}

/// A tile's result, and the heading it is shown under.
type TileResult = (Heading, QueryResult, Query, Source);

async fn query_tile(
    looker: &LookerClient,
    element: &DashboardElement,
    view: &DashboardView<'_>,
) -> Result<Option<TileResult>, LookerError> {
    let Some((result, query, source)) = tile_result(looker, element, view.values).await? else {
        return Ok(None);
    };
    let heading = Heading {
        title: tile_title(element).unwrap_or_else(|| "Untitled tile".into()),
        link: Some(view.link.to_string()),
    };
    Ok(Some((heading, result, query, source)))
}

/// Runs a tile's query (or its merged result) with the dashboard's filter values; the query it
/// returns carries the tile's vis settings, and the source says how Looker would draw it.
async fn tile_result(
    looker: &LookerClient,
    element: &DashboardElement,
    values: &BTreeMap<String, String>,
) -> Result<Option<(QueryResult, Query, Source)>, LookerError> {
    let maker = element.result_maker.clone().unwrap_or_default();
    let filterables = maker.filterables.clone().unwrap_or_default();
    if let Some(merge_id) = maker.merge_result_id.as_ref().or(element.merge_result_id.as_ref()) {
        let (result, mut query) = merged::run(looker, merge_id, values, &filterables).await?;
        if maker.vis_config.is_some() {
            query.vis_config = maker.vis_config.clone();
        }
        let source = Source {
            dashboard_element_id: element.id.clone(),
            ..Default::default()
        };
        return Ok(Some((result, query, source)));
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
    Ok(Some((result, query, source)))
}

/// Renders every tile, in order.
pub async fn render_tiles(
    ctx: &Context,
    looker: &LookerClient,
    view: &DashboardView<'_>,
) -> Result<Vec<Rendered>, Error> {
    let mut tiles = Vec::new();
    for element in in_layout_order(view.dashboard) {
        if element.element_type.as_deref() == Some("text") {
            tiles.extend(text_tile(element));
            continue;
        }
        match query_tile(looker, element, view).await {
            Ok(Some((heading, result, query, source))) => {
                tiles.push(render_result(ctx, looker, &heading, source, &result, Some(&query)).await?);
            }
            Ok(None) => {}
            Err(error) if error.is_transient() => return Err(error.into()),
            Err(error) => {
                tiles.push(broken_tile(
                    &tile_title(element).unwrap_or_else(|| "A tile".into()),
                    &error,
                ));
            }
        }
    }
    Ok(tiles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_tiles_speak_slack() {
        assert_eq!(
            markdown_to_mrkdwn("# KPIs\n**Bold** see [docs](https://x.io/a?b=1&c=2)"),
            "*KPIs*\n*Bold* see <https://x.io/a?b=1&amp;c=2|docs>"
        );
    }
}
