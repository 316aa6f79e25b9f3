//! Native Slack charts (`data_visualization`): one dimension as the categories, up to 12 measures
//! or pivot values as series, at most 20 categories; a pie takes one measure in at most 12
//! segments. Anything else returns `None` and is drawn by Looker instead.

use serde_json::{Number, Value};
use slack_morphism::prelude::*;

use super::columns::{Column, Role};
use super::mrkdwn::truncate;
use super::table::table_block;
use super::{Body, RenderContext};
use crate::domain::looker::models::QueryResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Line,
    Bar,
    Area,
    Pie,
}

impl ChartKind {
    /// The native chart for a Looker vis type, if Slack has one.
    pub fn for_vis(vis: &str) -> Option<ChartKind> {
        match vis {
            "looker_line" => Some(ChartKind::Line),
            "looker_column" | "looker_bar" => Some(ChartKind::Bar),
            "looker_area" => Some(ChartKind::Area),
            "looker_pie" => Some(ChartKind::Pie),
            _ => None,
        }
    }
}

const MAX_SERIES: usize = 12;
const MAX_CATEGORIES: usize = 20;
const MAX_SEGMENTS: usize = 12;
/// A chart this small also shows its numbers as a table underneath.
const TABLE_UNDER_ROWS: usize = 10;
const TABLE_UNDER_COLUMNS: usize = 6;

fn number(value: &Value) -> Option<Number> {
    match value {
        Value::Number(n) => Some(n.clone()),
        Value::String(s) => s.trim().parse::<f64>().ok().and_then(Number::from_f64),
        _ => None,
    }
}

pub(super) fn chart(
    kind: ChartKind,
    result: &QueryResult,
    columns: &[Column],
    ctx: &RenderContext<'_>,
) -> Option<Body> {
    let category = columns.iter().find(|c| c.role == Role::Dimension)?;
    let series_columns: Vec<&Column> = columns
        .iter()
        .filter(|c| c.role != Role::Dimension && c.numeric)
        .collect();
    if series_columns.is_empty() || series_columns.len() > MAX_SERIES {
        return None;
    }
    let rows = &result.data;
    let categories: Vec<String> = rows.iter().map(|r| truncate(&category.cell(r).display(), 60)).collect();
    let mut unique = categories.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != categories.len() {
        return None;
    }
    // Every value must be a number: a gap would be drawn as a wrong zero.
    let values: Vec<Vec<Number>> = series_columns
        .iter()
        .map(|c| {
            rows.iter()
                .map(|r| number(&c.cell(r).value))
                .collect::<Option<Vec<_>>>()
        })
        .collect::<Option<_>>()?;

    let title = truncate(&ctx.heading.title, 50);
    let chart = match kind {
        ChartKind::Pie => {
            if rows.len() > MAX_SEGMENTS || values[0].iter().any(|n| n.as_f64().is_none_or(|v| v < 0.0)) {
                return None;
            }
            let segments = categories
                .iter()
                .zip(&values[0])
                .map(|(label, value)| SlackChartSegment::new(label.clone(), value.clone()))
                .collect();
            SlackChart::Pie(SlackPieChart::new(segments))
        }
        _ => {
            if rows.len() > MAX_CATEGORIES {
                return None;
            }
            let series = series_columns
                .iter()
                .zip(&values)
                .map(|(column, values)| {
                    let points = categories
                        .iter()
                        .zip(values)
                        .map(|(label, value)| SlackChartDataPoint::new(label.clone(), value.clone()))
                        .collect();
                    SlackChartDataSeries::new(truncate(&column.label, 60), points)
                })
                .collect();
            let mut axis = SlackChartAxisConfig::new(categories.clone()).with_x_label(truncate(&category.label, 60));
            if let [only] = series_columns.as_slice() {
                axis = axis.with_y_label(truncate(&only.label, 60));
            }
            let series_chart = SlackSeriesChart::new(series, axis);
            match kind {
                ChartKind::Line => SlackChart::Line(series_chart),
                ChartKind::Area => SlackChart::Area(series_chart),
                _ => SlackChart::Bar(series_chart),
            }
        }
    };
    let mut blocks = vec![SlackBlock::DataVisualization(SlackDataVisualizationBlock::new(
        title, chart,
    ))];
    if rows.len() <= TABLE_UNDER_ROWS && columns.len() <= TABLE_UNDER_COLUMNS {
        blocks.push(table_block(result, columns, TABLE_UNDER_ROWS, ctx.looker_web_base).0);
    }
    let noun = if rows.len() == 1 { "point" } else { "points" };
    Some(Body::text(blocks, format!("chart of {} {noun}", rows.len())))
}
