//! A single value: big (a header block), its label underneath, and Looker's comparison (the second
//! field) when the vis shows one: a plain value, a change with its direction, or progress to a goal.

use serde_json::Value;

use super::Body;
use super::blocks::context;
use super::columns::Column;
use super::mrkdwn::{escape, truncate};
use crate::domain::looker::models::{Query, QueryResult};
use slack_morphism::prelude::*;

fn vis_str<'a>(query: Option<&'a Query>, key: &str) -> Option<&'a str> {
    query?.vis_config.as_ref()?.get(key)?.as_str().filter(|s| !s.is_empty())
}

fn vis_bool(query: Option<&Query>, key: &str) -> Option<bool> {
    query?.vis_config.as_ref()?.get(key)?.as_bool()
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn single_value(result: &QueryResult, query: Option<&Query>, columns: &[Column]) -> Body {
    let row = &result.data[0];
    let main = &columns[0];
    let cell = main.cell(row);
    let shown = cell.display().split_whitespace().collect::<Vec<_>>().join(" ");
    let label = vis_str(query, "single_value_title").unwrap_or(&main.label).to_string();

    let mut notes = vec![escape(&label)];
    let comparison = columns
        .get(1)
        .filter(|_| vis_bool(query, "show_comparison").unwrap_or(false));
    if let Some(other) = comparison {
        let other_cell = other.cell(row);
        let other_label = if vis_bool(query, "show_comparison_label").unwrap_or(true) {
            vis_str(query, "comparison_label").unwrap_or(&other.label).to_string()
        } else {
            String::new()
        };
        let line = match vis_str(query, "comparison_type").unwrap_or("value") {
            "change" => {
                let arrow = match number(&other_cell.value) {
                    Some(n) if n > 0.0 => "▲ ",
                    Some(n) if n < 0.0 => "▼ ",
                    _ => "",
                };
                format!("{arrow}{} {other_label}", other_cell.display())
            }
            "progress" | "progress_percentage" => match (number(&cell.value), number(&other_cell.value)) {
                (Some(v), Some(goal)) if goal != 0.0 => {
                    format!("{:.0}% of {} {other_label}", v / goal * 100.0, other_cell.display())
                }
                _ => format!("{} {other_label}", other_cell.display()),
            },
            _ => format!("{} {other_label}", other_cell.display()),
        };
        notes.push(escape(line.trim()));
    }

    let header = SlackBlock::Header(SlackHeaderBlock::new(
        SlackBlockPlainText::new(truncate(&shown, 150)).into(),
    ));
    Body::text(vec![header, context(&notes.join(" · "))], format!("{shown} {label}"))
}
