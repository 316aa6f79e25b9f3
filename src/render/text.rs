//! The text shapes: single value, single record, and a monospace table that stays inside Slack's
//! 3000-character section limit.

use slack_morphism::prelude::*;
use unicode_width::UnicodeWidthStr;

use super::columns::Column;
use super::mrkdwn::{escape, link, truncate};
use super::{Heading, RenderOptions};
use crate::clients::looker::models::{Query, QueryResult};

/// Blocks for the body of a message and a one-line summary for its fallback text.
pub struct Body {
    pub blocks: Vec<SlackBlock>,
    pub summary: String,
}

/// Slack rejects section text over 3000 characters; keep a margin for the code fence.
const SECTION_BUDGET: usize = 2900;
/// Wider cells are cut so one long value does not push the table off the screen.
const MAX_CELL_WIDTH: usize = 40;

pub fn section(text: &str) -> SlackBlock {
    SlackBlock::Section(
        SlackSectionBlock::new().with_text(SlackBlockText::MarkDown(SlackBlockMarkDownText::new(truncate(
            text, 3000,
        )))),
    )
}

pub fn context(text: &str) -> SlackBlock {
    SlackBlock::Context(SlackContextBlock::new(vec![SlackContextBlockElement::MarkDown(
        SlackBlockMarkDownText::new(truncate(text, 2000)),
    )]))
}

pub fn warning(message: &str) -> Body {
    Body {
        blocks: vec![section(&format!(":warning: {}", escape(message)))],
        summary: message.to_string(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn single_value(result: &QueryResult, _query: Option<&Query>, columns: &[Column]) -> Body {
    let row = &result.data[0];
    let column = columns.iter().find(|c| c.numeric).unwrap_or(&columns[0]);
    let value = one_line(&column.cell(row).display());
    Body {
        blocks: vec![section(&format!("*{}*\n{}", escape(&value), escape(&column.label)))],
        summary: format!("{value} {}", column.label),
    }
}

pub fn single_row(result: &QueryResult, columns: &[Column]) -> Body {
    let row = &result.data[0];
    let pairs: Vec<String> = columns
        .iter()
        .map(|c| format!("*{}:* {}", escape(&c.label), escape(&one_line(&c.cell(row).display()))))
        .collect();
    let mut text = String::new();
    let mut shown = 0;
    for pair in &pairs {
        if text.len() + pair.len() + 1 > SECTION_BUDGET {
            break;
        }
        text.push_str(pair);
        text.push('\n');
        shown += 1;
    }
    let mut blocks = vec![section(text.trim_end())];
    if shown < pairs.len() {
        blocks.push(context(&format!("and {} more fields", pairs.len() - shown)));
    }
    Body {
        blocks,
        summary: format!("{} fields", columns.len()),
    }
}

fn pad(text: &str, width: usize, right_align: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(text.width()));
    if right_align {
        format!("{fill}{text}")
    } else {
        format!("{text}{fill}")
    }
}

pub fn table(result: &QueryResult, columns: &[Column], heading: &Heading, options: &RenderOptions) -> Body {
    let header: Vec<String> = columns
        .iter()
        .map(|c| truncate(&one_line(&c.label), MAX_CELL_WIDTH))
        .collect();
    let rows: Vec<Vec<String>> = result
        .data
        .iter()
        .take(options.max_table_rows)
        .map(|row| {
            columns
                .iter()
                .map(|c| truncate(&one_line(&c.cell(row).display()), MAX_CELL_WIDTH))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].width())
                .chain([header[i].width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, cell)| pad(cell, widths[i], columns[i].numeric))
            .collect();
        escape(padded.join("  ").trim_end())
    };

    let mut text = String::from("```\n");
    text.push_str(&line(&header));
    text.push('\n');
    let mut shown = 0;
    for row in &rows {
        let next = line(row);
        if text.len() + next.len() + 4 > SECTION_BUDGET {
            break;
        }
        text.push_str(&next);
        text.push('\n');
        shown += 1;
    }
    text.push_str("```");

    let total = result.data.len();
    let mut blocks = vec![section(&text)];
    if shown < total {
        let more = total - shown;
        let noun = if more == 1 { "row" } else { "rows" };
        let note = match &heading.link {
            Some(url) => format!("and {more} more {noun} · {}", link(url, "see all in Looker")),
            None => format!("and {more} more {noun}"),
        };
        blocks.push(context(&note));
    }
    let noun = if total == 1 { "row" } else { "rows" };
    Body {
        blocks,
        summary: format!("{total} {noun}"),
    }
}
