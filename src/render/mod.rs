//! Looker results to Slack messages. Every place the bot shows Looker data goes through
//! [`render_query`]: it picks a [`Shape`] for the result and hands it to that shape's renderer.

pub mod columns;
pub mod mrkdwn;
mod text;

use slack_morphism::prelude::*;

use crate::clients::looker::models::{Query, QueryResult};
use crate::clients::slack::OutgoingMessage;
use columns::{Column, visible_columns};

/// What the message is about: the content's title and where it lives in Looker.
#[derive(Debug, Clone)]
pub struct Heading {
    pub title: String,
    pub link: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Rows shown in a table before "and N more rows".
    pub max_table_rows: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self { max_table_rows: 20 }
    }
}

/// How a result is best shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Looker could not run the query.
    QueryError(String),
    /// The query ran and returned nothing.
    Empty,
    /// One number or word.
    SingleValue,
    /// One record: label/value pairs.
    SingleRow,
    /// Everything else.
    Table,
}

/// Chooses the shape from the data and the query's vis type.
pub fn classify(result: &QueryResult, query: Option<&Query>, columns: &[Column]) -> Shape {
    if let Some(message) = result.error_message() {
        return Shape::QueryError(message);
    }
    if result.data.is_empty() || columns.is_empty() {
        return Shape::Empty;
    }
    let vis = query.and_then(Query::vis_type);
    match (vis, result.data.len(), columns.len()) {
        (Some("single_value"), _, _) | (_, 1, 1) => Shape::SingleValue,
        (Some("looker_single_record"), _, _) | (_, 1, _) => Shape::SingleRow,
        _ => Shape::Table,
    }
}

/// Renders a query result under its heading.
pub fn render_query(
    result: &QueryResult,
    query: Option<&Query>,
    heading: &Heading,
    options: &RenderOptions,
) -> OutgoingMessage {
    let columns = visible_columns(result, query);
    let shape = classify(result, query, &columns);
    let body = match &shape {
        Shape::QueryError(message) => text::warning(&format!("Looker could not run this query: {message}")),
        Shape::Empty => text::Body {
            blocks: vec![text::section("No results.")],
            summary: "No results.".into(),
        },
        Shape::SingleValue => text::single_value(result, query, &columns),
        Shape::SingleRow => text::single_row(result, &columns),
        Shape::Table => text::table(result, &columns, heading, options),
    };
    let mut blocks = vec![heading_block(heading)];
    blocks.extend(body.blocks);
    OutgoingMessage {
        text: format!("{}: {}", heading.title, body.summary),
        blocks,
    }
}

/// A message with only the heading and a line under it (dashboards, notices).
pub fn heading_with_note(heading: &Heading, note: Option<&str>) -> OutgoingMessage {
    let mut blocks = vec![heading_block(heading)];
    if let Some(note) = note {
        blocks.push(text::context(note));
    }
    OutgoingMessage {
        text: heading.title.clone(),
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
    text::section(&text)
}
