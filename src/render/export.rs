//! The whole result as CSV (Looker's raw values, one column per visible column), for attaching
//! under a table that Slack could not hold.

use super::CsvFile;
use super::columns::{Column, totals_row};
use crate::domain::looker::models::QueryResult;
use serde_json::Value;

fn raw(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(super) fn csv(result: &QueryResult, columns: &[Column], title: &str) -> Option<CsvFile> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(columns.iter().map(|c| c.label.as_str())).ok()?;
    for row in result.data.iter().chain(totals_row(result)) {
        writer
            .write_record(columns.iter().map(|c| raw(&c.cell(row).value)))
            .ok()?;
    }
    let bytes = writer.into_inner().ok()?;
    let stem: String = title
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' })
        .collect();
    let stem = stem.trim_matches('_');
    Some(CsvFile {
        filename: format!("{}.csv", if stem.is_empty() { "result" } else { stem }),
        bytes,
    })
}
