//! `json_detail` query results: fields, rows of cells (pivoted measures nest one level), totals
//! and errors, parsed in one pass without per-cell JSON objects.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// One field of a `json_detail` result.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct ResultField {
    pub name: String,
    pub label: Option<String>,
    pub label_short: Option<String>,
    pub view_label: Option<String>,
    #[serde(rename = "type")]
    pub field_type: Option<String>,
    pub measure: Option<bool>,
    pub is_measure: Option<bool>,
    pub is_numeric: Option<bool>,
    pub value_format: Option<String>,
    pub hidden: Option<bool>,
}

impl ResultField {
    /// The header to show: `label` with view names on, else the short label.
    pub fn display_label(&self, show_view_names: bool) -> &str {
        let preferred = if show_view_names {
            &self.label
        } else {
            &self.label_short
        };
        preferred.as_deref().or(self.label.as_deref()).unwrap_or(&self.name)
    }

    pub fn is_numeric(&self) -> bool {
        self.is_numeric.unwrap_or(false)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct ResultFields {
    pub dimensions: Vec<ResultField>,
    pub measures: Vec<ResultField>,
    pub table_calculations: Vec<ResultField>,
    pub pivots: Vec<ResultField>,
}

/// A link Looker attaches to a cell (drill, measure default, data action).
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct CellLink {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub link_type: Option<String>,
    /// Everything else Looker put in the link (a data action's `form`, `form_url`, `params`...),
    /// kept so that an action goes back to Looker exactly as it came.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl CellLink {
    /// A data action Looker can perform (`type: "action"`).
    pub fn is_action(&self) -> bool {
        self.link_type.as_deref() == Some("action")
    }

    /// Whether the action asks for a form before it is sent.
    pub fn has_form(&self) -> bool {
        ["form", "form_url"]
            .iter()
            .any(|key| self.rest.get(*key).is_some_and(|v| !v.is_null()))
    }

    /// The link object as Looker sent it.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// One cell of a `json_detail` row.
#[derive(Debug, Clone, Deserialize, Serialize, Default, PartialEq)]
#[serde(default)]
pub struct Cell {
    pub value: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<CellLink>>,
}

impl PartialEq for CellLink {
    fn eq(&self, other: &Self) -> bool {
        (&self.label, &self.url, &self.link_type) == (&other.label, &other.url, &other.link_type)
    }
}

/// The cell of a field missing from a row.
pub static EMPTY_CELL: Cell = Cell {
    value: Value::Null,
    rendered: None,
    links: None,
};

impl Cell {
    /// Looker's formatted text where it has one, else the raw value; null is shown as `∅`.
    pub fn display(&self) -> String {
        if let Some(rendered) = &self.rendered {
            return rendered.clone();
        }
        match &self.value {
            Value::Null => "∅".to_string(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// A field's entry in a row: one cell, or (pivoted measures) one cell per pivot key.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum FieldValue {
    Single(Cell),
    Pivoted(BTreeMap<String, Cell>),
}

impl FieldValue {
    pub fn single(&self) -> Option<&Cell> {
        match self {
            FieldValue::Single(cell) => Some(cell),
            FieldValue::Pivoted(_) => None,
        }
    }
}

/// Read in one pass without buffering: a cell's keys are `value`, `rendered`, `links`...;
/// any other key is a pivot value holding a cell. (A pivot value may be named "value": then
/// its entry is an object, where a cell's own `value` never is.)
impl<'de> Deserialize<'de> for FieldValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entry;
        impl<'de> serde::de::Visitor<'de> for Entry {
            type Value = FieldValue;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a json_detail cell or a map of pivot values to cells")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<FieldValue, A::Error> {
                let mut cell = Cell::default();
                let mut pivots = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "rendered" | "links" | "value" | "html" | "filterable_value" => {
                            let value: Value = map.next_value()?;
                            if value.is_object() {
                                pivots.insert(key, serde_json::from_value(value).map_err(serde::de::Error::custom)?);
                            } else if key == "value" {
                                cell.value = value;
                            } else if key == "rendered" {
                                cell.rendered = value.as_str().map(str::to_string);
                            } else if key == "links" {
                                cell.links = serde_json::from_value(value).map_err(serde::de::Error::custom)?;
                            }
                        }
                        _ => {
                            pivots.insert(key, map.next_value::<Cell>()?);
                        }
                    }
                }
                Ok(if pivots.is_empty() {
                    FieldValue::Single(cell)
                } else {
                    FieldValue::Pivoted(pivots)
                })
            }
        }
        deserializer.deserialize_map(Entry)
    }
}

/// A `json_detail` row: field name to its entry.
pub type Row = BTreeMap<String, FieldValue>;

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct QueryErrorDetail {
    pub message: Option<String>,
    pub message_details: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct PivotValue {
    pub key: String,
    pub is_total: bool,
    pub data: Map<String, Value>,
}

/// `GET /queries/{id}/run/json_detail`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct QueryResult {
    pub fields: ResultFields,
    /// Rows keyed by field name; pivoted measures nest one level by pivot key.
    pub data: Vec<Row>,
    pub pivots: Option<Vec<PivotValue>>,
    pub errors: Option<Vec<QueryErrorDetail>>,
    pub has_totals: Option<bool>,
    pub totals_data: Option<Row>,
}

impl QueryResult {
    /// The first query error Looker reported, if any.
    pub fn error_message(&self) -> Option<String> {
        let first = self.errors.as_ref()?.first()?;
        let mut message = first
            .message
            .clone()
            .unwrap_or_else(|| "Looker could not run the query".into());
        if let Some(details) = first.message_details.as_deref().filter(|d| !d.is_empty()) {
            message.push_str(": ");
            message.push_str(details);
        }
        Some(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_entries_are_cells_or_pivots_even_when_a_pivot_is_called_value() {
        let row: Row = serde_json::from_value(serde_json::json!({
            "a": {"value": 1, "rendered": "1", "links": [{"label": "x", "url": "/u", "type": "drill"}], "html": "<b>1</b>"},
            "b": {"open": {"value": 2}, "value": {"value": 3, "rendered": "three"}}
        }))
        .unwrap();
        assert_eq!(row["a"].single().unwrap().rendered.as_deref(), Some("1"));
        assert_eq!(
            row["a"].single().unwrap().links.as_ref().unwrap()[0].url.as_deref(),
            Some("/u")
        );
        let FieldValue::Pivoted(pivots) = &row["b"] else {
            panic!("pivoted")
        };
        assert_eq!(pivots["open"].value, serde_json::json!(2));
        assert_eq!(pivots["value"].display(), "three");
    }

    #[test]
    fn cells_show_rendered_then_value_then_null_sign() {
        let rendered: Cell =
            serde_json::from_value(serde_json::json!({"value": 1234.5, "rendered": "$1,234.50"})).unwrap();
        let raw: Cell = serde_json::from_value(serde_json::json!({"value": 7})).unwrap();
        let null: Cell = serde_json::from_value(serde_json::json!({"value": null})).unwrap();
        assert_eq!(
            (rendered.display(), raw.display(), null.display()),
            ("$1,234.50".into(), "7".into(), "∅".into())
        );
    }
}
