//! The whole result as CSV (Looker's raw values, one column per visible column), for attaching
//! under a table that Slack could not hold.

use super::CsvFile;
use super::columns::{Column, totals_row};
use crate::domain::looker::models::QueryResult;
use serde_json::Value;

fn raw(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => inert(s),
        other => other.to_string(),
    }
}

/// A cell a spreadsheet will not run: text starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return gets a leading `'` (OWASP's rule for CSV injection), unless it is a number.
fn inert(text: &str) -> String {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && text.trim().parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

pub(super) fn csv(result: &QueryResult, columns: &[Column], title: &str) -> Option<CsvFile> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(columns.iter().map(|c| inert(&c.label))).ok()?;
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

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn formulas_are_made_text_and_numbers_are_left_alone() {
        for (cell, written) in [
            (
                "=HYPERLINK(\"https://evil.example\",\"click\")",
                "'=HYPERLINK(\"https://evil.example\",\"click\")",
            ),
            ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
            ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
            ("-2+3", "'-2+3"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-42.5", "-42.5"),
            ("+7", "+7"),
            ("complete", "complete"),
            ("", ""),
        ] {
            assert_eq!(inert(cell), written, "{cell:?}");
        }
    }
}
