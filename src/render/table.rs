//! A native Slack `table` block: at most 20 columns and 100 rows (a header and 99 rows), numbers
//! right-aligned, Looker's rendered values, measure drill links as links. What does not fit is
//! counted in a footer, linked to Looker, and (when the operator allows) attached as CSV.

use slack_morphism::prelude::*;

use super::blocks::context;
use super::columns::{Column, totals_row};
use super::mrkdwn::{link, truncate};
use super::{Body, RenderContext, export};
use crate::domain::looker::models::{Cell, QueryResult};

/// Slack's table limits.
pub const MAX_COLUMNS: usize = 20;
pub const MAX_ROWS: usize = 99;
/// Characters of cell text per table, so the message stays under Slack's total size.
const CELL_BUDGET: usize = 9_000;
/// A cell longer than this is cut.
const MAX_CELL_CHARS: usize = 200;

fn bold(text: &str) -> SlackTableCell {
    let style = SlackRichTextStyle::new().with_bold(true);
    SlackTableCell::RichText(SlackTableRichTextCell::new(vec![SlackRichTextElement::Section(
        SlackRichTextSection::new(vec![SlackRichTextInlineElement::Text(
            SlackRichTextText::new(text.to_string()).with_style(style),
        )]),
    )]))
}

/// Looker's measure drill link, made absolute.
fn drill_link(cell: &Cell, web_base: &str) -> Option<String> {
    let url = cell
        .links
        .as_ref()?
        .iter()
        .find(|l| l.link_type.as_deref() == Some("measure_default"))?
        .url
        .as_deref()?;
    Some(if url.starts_with("http://") || url.starts_with("https://") {
        url.to_string()
    } else {
        format!("{}/{}", web_base.trim_end_matches('/'), url.trim_start_matches('/'))
    })
}

fn data_cell(cell: &Cell, web_base: &str) -> (SlackTableCell, usize) {
    let text = truncate(
        &cell.display().split_whitespace().collect::<Vec<_>>().join(" "),
        MAX_CELL_CHARS,
    );
    let chars = text.chars().count();
    let table_cell = match drill_link(cell, web_base) {
        Some(url) => SlackTableCell::RichText(SlackTableRichTextCell::new(vec![SlackRichTextElement::Section(
            SlackRichTextSection::new(vec![SlackRichTextInlineElement::Link(
                SlackRichTextLink::new(url.into()).with_text(text),
            )]),
        )])),
        None => SlackTableCell::RawText(SlackTableRawTextCell::new(text)),
    };
    (table_cell, chars)
}

/// The table block and how many data rows it shows.
pub(super) fn table_block(
    result: &QueryResult,
    columns: &[Column],
    max_rows: usize,
    web_base: &str,
) -> (SlackBlock, usize) {
    let shown_columns = &columns[..columns.len().min(MAX_COLUMNS)];
    let mut budget: usize = shown_columns.iter().map(|c| c.label.chars().count()).sum();
    let mut rows: Vec<Vec<SlackTableCell>> = vec![shown_columns.iter().map(|c| bold(&c.label)).collect()];
    let mut shown = 0;
    for row in result.data.iter().take(max_rows.min(MAX_ROWS)) {
        let cells: Vec<(SlackTableCell, usize)> =
            shown_columns.iter().map(|c| data_cell(c.cell(row), web_base)).collect();
        let chars: usize = cells.iter().map(|(_, n)| n).sum();
        if budget + chars > CELL_BUDGET {
            break;
        }
        budget += chars;
        rows.push(cells.into_iter().map(|(cell, _)| cell).collect());
        shown += 1;
    }
    // Looker's totals close the table when everything above them is shown.
    if let Some(totals) = totals_row(result).filter(|_| shown == result.data.len() && rows.len() <= MAX_ROWS) {
        let mut cells: Vec<SlackTableCell> = shown_columns.iter().map(|c| bold(&c.cell(totals).display())).collect();
        if shown_columns[0].cell(totals).value.is_null() {
            cells[0] = bold("Total");
        }
        rows.push(cells);
    }
    let settings = shown_columns
        .iter()
        .map(|c| {
            let align = if c.numeric {
                SlackTableColumnAlign::Right
            } else {
                SlackTableColumnAlign::Left
            };
            SlackTableColumnSetting::new().with_align(align).with_is_wrapped(false)
        })
        .collect();
    (
        SlackBlock::Table(SlackTableBlock::new(rows).with_column_settings(settings)),
        shown,
    )
}

pub(super) fn table(result: &QueryResult, columns: &[Column], ctx: &RenderContext<'_>) -> Body {
    let (block, shown) = table_block(result, columns, ctx.options.max_table_rows, ctx.looker_web_base);
    let total = result.data.len();
    let hidden_columns = columns.len().saturating_sub(MAX_COLUMNS);
    let mut blocks = vec![block];
    let cut = shown < total || hidden_columns > 0;
    let csv = if cut && ctx.options.attach_csv {
        export::csv(result, columns, &ctx.heading.title)
    } else {
        None
    };
    if cut {
        let mut parts = Vec::new();
        if shown < total {
            parts.push(format!("Showing {shown} of {total} rows"));
        }
        if hidden_columns > 0 {
            let noun = if hidden_columns == 1 { "column" } else { "columns" };
            parts.push(format!("{hidden_columns} more {noun} not shown"));
        }
        if csv.is_some() {
            parts.push("the full result is attached as CSV".into());
        }
        if let Some(url) = &ctx.heading.link {
            parts.push(link(url, "see all in Looker"));
        }
        blocks.push(context(&parts.join(" · ")));
    }
    let noun = if total == 1 { "row" } else { "rows" };
    super::Body {
        blocks,
        summary: format!("{total} {noun}"),
        image: None,
        csv,
        shown_rows: Some(shown),
    }
}
