//! A `json_detail` result as columns: the visible fields in Looker's order (dimensions, measures
//! flattened per pivot value, table calculations), each able to read its cell from a row.

use crate::domain::looker::models::{Cell, EMPTY_CELL, FieldValue, Query, QueryResult, ResultField, Row};

/// What a column holds, which decides where it can go in a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Dimension,
    Measure,
    TableCalculation,
}

/// A column as shown: its header, whether its values are numbers (right-aligned), its role.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub label: String,
    pub numeric: bool,
    pub role: Role,
    source: Source,
}

#[derive(Debug, Clone, PartialEq)]
enum Source {
    Field(String),
    Pivoted { field: String, pivot_key: String },
}

impl Column {
    /// The cell of this column in a row (pivoted measures nest one level by pivot key).
    pub fn cell<'r>(&self, row: &'r Row) -> &'r Cell {
        let cell = match &self.source {
            Source::Field(name) => row.get(name).and_then(FieldValue::single),
            Source::Pivoted { field, pivot_key } => match row.get(field) {
                Some(FieldValue::Pivoted(pivots)) => pivots.get(pivot_key),
                _ => None,
            },
        };
        cell.unwrap_or(&EMPTY_CELL)
    }
}

/// The pivot value's label: Looker joins several pivot values with `|FIELD|`.
fn pivot_label(key: &str) -> String {
    key.split("|FIELD|").collect::<Vec<_>>().join(", ")
}

/// The columns to show, honouring `hidden_fields`, hidden fields and `show_view_names`.
pub fn visible_columns(result: &QueryResult, query: Option<&Query>) -> Vec<Column> {
    let hidden = query.map(Query::hidden_fields).unwrap_or_default();
    let show_view_names = query.is_some_and(Query::show_view_names);
    let visible = |f: &&ResultField| !f.hidden.unwrap_or(false) && !hidden.contains(&f.name);
    let pivots: Vec<_> = result
        .pivots
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter(|p| !p.key.is_empty())
        .collect();
    let pivoted = !result.fields.pivots.is_empty() && !pivots.is_empty();

    let plain = |f: &ResultField, role: Role| Column {
        label: f.display_label(show_view_names).to_string(),
        numeric: f.is_numeric(),
        role,
        source: Source::Field(f.name.clone()),
    };
    let mut columns: Vec<Column> = result
        .fields
        .dimensions
        .iter()
        .filter(visible)
        .map(|f| plain(f, Role::Dimension))
        .collect();
    for measure in result.fields.measures.iter().filter(visible) {
        if pivoted {
            columns.extend(pivots.iter().map(|p| Column {
                label: format!("{} | {}", measure.display_label(show_view_names), pivot_label(&p.key)),
                numeric: measure.is_numeric(),
                role: Role::Measure,
                source: Source::Pivoted {
                    field: measure.name.clone(),
                    pivot_key: p.key.clone(),
                },
            }));
        } else {
            columns.push(plain(measure, Role::Measure));
        }
    }
    columns.extend(
        result
            .fields
            .table_calculations
            .iter()
            .filter(visible)
            .map(|f| plain(f, Role::TableCalculation)),
    );
    columns
}

/// The totals row Looker sent (`totals_data`), shaped like a data row.
pub fn totals_row(result: &QueryResult) -> Option<&Row> {
    result.totals_data.as_ref().filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pivoted_measures_become_one_column_per_pivot_value() {
        let result: QueryResult = serde_json::from_value(json!({
            "fields": {
                "dimensions": [{"name": "o.month", "label": "Orders Month", "label_short": "Month"}],
                "measures": [{"name": "o.count", "label": "Orders Count", "label_short": "Count", "is_numeric": true}],
                "pivots": [{"name": "o.status", "label_short": "Status"}]
            },
            "pivots": [{"key": "open", "data": {"o.status": "open"}}, {"key": "closed", "data": {"o.status": "closed"}}],
            "data": [{"o.month": {"value": "2026-01"}, "o.count": {"open": {"value": 3}, "closed": {"value": 5}}}]
        }))
        .unwrap();
        let columns = visible_columns(&result, None);
        let labels: Vec<_> = columns.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["Month", "Count | open", "Count | closed"]);
        assert_eq!(columns[2].cell(&result.data[0]).display(), "5");
        assert!(columns[1].numeric);
        assert_eq!(columns[1].role, Role::Measure);
    }

    #[test]
    fn hidden_fields_are_left_out_and_view_names_follow_the_vis() {
        let result: QueryResult = serde_json::from_value(json!({
            "fields": {
                "dimensions": [
                    {"name": "u.name", "label": "Users Name", "label_short": "Name"},
                    {"name": "u.id", "label": "Users ID", "label_short": "ID"},
                    {"name": "u.secret", "label": "Users Secret", "hidden": true}
                ]
            },
            "data": []
        }))
        .unwrap();
        let query: Query = serde_json::from_value(json!({
            "model": "m", "view": "u",
            "vis_config": {"hidden_fields": ["u.id"], "show_view_names": true}
        }))
        .unwrap();
        let labels: Vec<_> = visible_columns(&result, Some(&query))
            .into_iter()
            .map(|c| c.label)
            .collect();
        assert_eq!(labels, ["Users Name"]);
    }
}
