//! One record: label/value pairs as section fields (at most 10 a section, 2000 characters each).

use slack_morphism::prelude::*;

use super::Body;
use super::blocks::context;
use super::columns::Column;
use super::mrkdwn::{escape, truncate};
use crate::domain::looker::models::QueryResult;

/// Sections of fields; more than this many sections and the rest is summarised.
const MAX_SECTIONS: usize = 5;

pub(super) fn single_record(result: &QueryResult, columns: &[Column]) -> Body {
    let row = &result.data[0];
    let fields: Vec<SlackBlockText> = columns
        .iter()
        .map(|c| {
            let value = c.cell(row).display();
            SlackBlockText::MarkDown(SlackBlockMarkDownText::new(truncate(
                &format!("*{}*\n{}", escape(&c.label), escape(&value)),
                2000,
            )))
        })
        .collect();
    let mut blocks: Vec<SlackBlock> = fields
        .chunks(10)
        .take(MAX_SECTIONS)
        .map(|chunk| SlackBlock::Section(SlackSectionBlock::new().with_fields(chunk.to_vec())))
        .collect();
    let shown = (MAX_SECTIONS * 10).min(fields.len());
    if shown < fields.len() {
        blocks.push(context(&format!("and {} more fields", fields.len() - shown)));
    }
    Body::text(blocks, format!("{} fields", columns.len()))
}
