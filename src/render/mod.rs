//! Looker results to Slack messages. Every place the bot shows Looker data goes through
//! [`render_query`]: it picks a [`Shape`] from the data and the query's vis type and hands the
//! result to that shape's module. Rendering is pure: what needs I/O (an image Looker must draw,
//! a CSV to upload) is returned as a need for the caller to fulfil (`crate::features::posting`).

pub mod actions;
pub mod blocks;
mod chart;
pub mod columns;
mod export;
pub mod mrkdwn;
mod record;
mod table;
mod value;

use slack_morphism::prelude::*;

use crate::domain::looker::models::{LookerId, Query, QueryResult};
use crate::domain::slack::OutgoingMessage;
use columns::{Column, visible_columns};

pub use actions::{ActionKeys, ShownAction};
pub use blocks::{context, plain_section, section, warning};
pub use chart::ChartKind;

/// What the message is about: the content's title and where it lives in Looker.
#[derive(Debug, Clone)]
pub struct Heading {
    pub title: String,
    pub link: Option<String>,
}

/// Where a result came from in Looker, so Looker can be asked to draw it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Source {
    pub look_id: Option<LookerId>,
    pub query_id: Option<LookerId>,
    pub dashboard_element_id: Option<LookerId>,
}

#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Rows shown in a table before "and N more rows" (Slack's table holds 99 under a header).
    pub max_table_rows: usize,
    /// Attach the whole result as a CSV file when a table had to be cut (operator's choice).
    pub attach_csv: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            max_table_rows: 20,
            attach_csv: false,
        }
    }
}

/// Everything a renderer needs besides the result.
#[derive(Debug, Clone)]
pub struct RenderContext<'a> {
    pub heading: &'a Heading,
    /// `LOOKER_URL`, to turn Looker's relative drill links into links people can open.
    pub looker_web_base: &'a str,
    pub source: Source,
    pub options: &'a RenderOptions,
    /// Keys for data-action buttons; `None` shows no buttons.
    pub actions: Option<&'a dyn ActionKeys>,
}

/// An image only Looker can draw (maps, custom visualisations, charts too big for Slack's).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageNeed {
    pub source: Source,
    pub alt_text: String,
}

/// The full result as a CSV file, attached under a table that had to be cut.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvFile {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// A rendered result: the message, plus what the caller still has to fetch or upload.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The content's title, for file names and logs.
    pub title: String,
    pub message: OutgoingMessage,
    pub image: Option<ImageNeed>,
    pub csv: Option<CsvFile>,
    /// What went wrong at Looker (a query error), for the operator's log: readers see a sentence.
    pub problem: Option<String>,
    /// Data actions offered as buttons, to keep before the message is posted.
    pub actions: Vec<ShownAction>,
    /// The LookML model the data came from, when a query made it (for channels tied to a group).
    pub model: Option<String>,
}

impl Rendered {
    /// A result made only of blocks (text tiles, notices).
    pub fn blocks(title: impl Into<String>, blocks: Vec<SlackBlock>) -> Self {
        let title = title.into();
        Rendered {
            message: OutgoingMessage {
                text: mrkdwn::escape(&title),
                blocks,
            },
            title,
            image: None,
            csv: None,
            problem: None,
            actions: Vec::new(),
            model: None,
        }
    }
}

/// How a result is best shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Looker could not run the query.
    QueryError(String),
    /// The query ran and returned nothing.
    Empty,
    /// One number or word, big.
    SingleValue,
    /// One record: label/value pairs.
    SingleRecord,
    /// A native Slack table.
    Table,
    /// A native Slack chart (the table follows when it is small).
    Chart(ChartKind),
    /// Drawn by Looker.
    Image,
}

/// A shape's output: body blocks, a one-line summary for the fallback text, and its needs.
pub(crate) struct Body {
    pub blocks: Vec<SlackBlock>,
    pub summary: String,
    pub image: Option<ImageNeed>,
    pub csv: Option<CsvFile>,
    /// Rows a table shows (for the actions offered under it).
    pub shown_rows: Option<usize>,
}

impl Body {
    pub(crate) fn text(blocks: Vec<SlackBlock>, summary: impl Into<String>) -> Self {
        Body {
            blocks,
            summary: summary.into(),
            image: None,
            csv: None,
            shown_rows: None,
        }
    }
}

/// Chooses the shape from the data and the query's vis type.
pub fn classify(result: &QueryResult, query: Option<&Query>, columns: &[Column]) -> Shape {
    if let Some(message) = result.error_message() {
        return Shape::QueryError(message);
    }
    if result.data.is_empty() || columns.is_empty() {
        return Shape::Empty;
    }
    let tabular = |rows: usize, cols: usize| match (rows, cols) {
        (1, 1) => Shape::SingleValue,
        (1, _) => Shape::SingleRecord,
        _ => Shape::Table,
    };
    match query.and_then(Query::vis_type) {
        Some("single_value") => Shape::SingleValue,
        Some("looker_single_record") => Shape::SingleRecord,
        None | Some("table" | "looker_grid" | "looker_single_record_table") => {
            tabular(result.data.len(), columns.len())
        }
        Some(vis) => match ChartKind::for_vis(vis) {
            Some(kind) => Shape::Chart(kind),
            None => Shape::Image,
        },
    }
}

/// Renders a query result under its heading.
pub fn render_query(result: &QueryResult, query: Option<&Query>, ctx: &RenderContext<'_>) -> Rendered {
    let columns = visible_columns(result, query);
    let shape = classify(result, query, &columns);
    let image = |ctx: &RenderContext<'_>| Body {
        blocks: Vec::new(),
        summary: "chart".into(),
        image: Some(ImageNeed {
            source: ctx.source.clone(),
            alt_text: mrkdwn::truncate(&ctx.heading.title, 2000),
        }),
        csv: None,
        shown_rows: None,
    };
    let body = match &shape {
        // Looker's own words: the Look's owner learns what to fix (a content problem, not an
        // operator's); escaped, and cut to a few lines.
        Shape::QueryError(message) => Body::text(
            vec![warning(&format!(
                "Looker could not run this query: {}. Open it in Looker to fix it, or ask the person who built it.",
                mrkdwn::truncate(message.trim_end_matches('.'), 500)
            ))],
            "Looker could not run this query",
        ),
        Shape::Empty => Body::text(vec![section("No results.")], "No results."),
        Shape::SingleValue => value::single_value(result, query, &columns),
        Shape::SingleRecord => record::single_record(result, &columns),
        Shape::Table => table::table(result, &columns, ctx),
        // A chart that does not fit Slack's native charts is drawn by Looker instead.
        Shape::Chart(kind) => chart::chart(*kind, result, &columns, ctx).unwrap_or_else(|| image(ctx)),
        Shape::Image => image(ctx),
    };
    let mut all = vec![heading_block(ctx.heading)];
    all.extend(body.blocks);
    let mut actions = Vec::new();
    if let Some(keys) = ctx.actions {
        let choices = action_choices(result, &columns, &shape, body.shown_rows);
        if let Some((block, shown)) = actions::actions_block(choices, keys) {
            all.push(block);
            actions = shown;
        }
    }
    Rendered {
        title: ctx.heading.title.clone(),
        message: OutgoingMessage {
            text: mrkdwn::escape(&format!("{}: {}", ctx.heading.title, body.summary)),
            blocks: all,
        },
        image: body.image,
        csv: body.csv,
        problem: match shape {
            Shape::QueryError(message) => Some(message),
            _ => None,
        },
        actions,
        model: query.map(|q| q.model.clone()).filter(|m| !m.is_empty()),
    }
}

/// The data actions to offer for a result: the value's, the record's, or each shown row's
/// (labelled with the row's first value). Charts and images offer none.
fn action_choices<'a>(
    result: &'a QueryResult,
    columns: &[Column],
    shape: &Shape,
    shown_rows: Option<usize>,
) -> Vec<actions::Choice<'a>> {
    let cells_of = |row: &'a crate::domain::looker::models::Row, context: Option<&str>| -> Vec<actions::Choice<'a>> {
        columns
            .iter()
            .flat_map(|c| actions::choices_on(c.cell(row).links.as_ref(), context))
            .collect()
    };
    match shape {
        Shape::SingleValue => columns
            .first()
            .map(|c| actions::choices_on(c.cell(&result.data[0]).links.as_ref(), None))
            .unwrap_or_default(),
        Shape::SingleRecord => cells_of(&result.data[0], None),
        Shape::Table => result
            .data
            .iter()
            .take(shown_rows.unwrap_or(0))
            .flat_map(|row| {
                let label = columns.first().map(|c| c.cell(row).display()).unwrap_or_default();
                cells_of(row, Some(&label))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A message with only the heading and a line under it (dashboards, notices).
pub fn heading_with_note(heading: &Heading, note: Option<&str>) -> OutgoingMessage {
    let mut blocks = vec![heading_block(heading)];
    if let Some(note) = note {
        blocks.push(context(note));
    }
    OutgoingMessage {
        text: mrkdwn::escape(&heading.title),
        blocks,
    }
}

/// The bold title, linked to the content in Looker.
pub fn heading_block(heading: &Heading) -> SlackBlock {
    let title = mrkdwn::truncate(&heading.title, 200);
    let text = match &heading.link {
        Some(link) => format!("*{}*", mrkdwn::link(link, &title)),
        None => format!("*{}*", mrkdwn::escape(&title)),
    };
    section(&text)
}

#[cfg(test)]
mod tests;
