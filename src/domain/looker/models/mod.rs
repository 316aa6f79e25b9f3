//! Looker API 4.0 shapes the bot reads, following `Looker.4.0.oas.json`. Ids are strings in 4.0
//! but older payloads carry numbers, so every id accepts both.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// A Looker id: a string in API 4.0, sometimes a number in webhook payloads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord, Default)]
#[serde(transparent)]
pub struct LookerId(pub String);

impl LookerId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LookerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for LookerId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(s) => Ok(LookerId(s)),
            Value::Number(n) => Ok(LookerId(n.to_string())),
            other => Err(serde::de::Error::custom(format!("expected an id, got {other}"))),
        }
    }
}

/// Deserialises an optional id, treating `null`, `""` and absence alike.
pub fn optional_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<LookerId>, D::Error> {
    Ok(Option::<LookerId>::deserialize(deserializer)?.filter(|id| !id.0.is_empty()))
}

/// `POST /login` answer.
#[derive(Debug, Deserialize)]
pub struct AccessToken {
    pub access_token: String,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub expires_in: Option<i64>,
}

/// Looker's error body: `{message, documentation_url}`.
#[derive(Debug, Deserialize, Default)]
pub struct ApiErrorBody {
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FolderBase {
    #[serde(default, deserialize_with = "optional_id")]
    pub id: Option<LookerId>,
    #[serde(default)]
    pub name: Option<String>,
}

/// `GET /looks/{id}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Look {
    pub id: LookerId,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub short_url: Option<String>,
    #[serde(default, deserialize_with = "optional_id")]
    pub query_id: Option<LookerId>,
    #[serde(default)]
    pub query: Option<Query>,
    #[serde(default)]
    pub folder: Option<FolderBase>,
}

/// A Looker query. Unknown fields are kept so a query can be sent back (`POST /queries`) intact.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct Query {
    #[serde(default, deserialize_with = "optional_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<LookerId>,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub view: String,
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    #[serde(default)]
    pub pivots: Option<Vec<String>>,
    #[serde(default)]
    pub filters: Option<BTreeMap<String, Option<String>>>,
    #[serde(default)]
    pub sorts: Option<Vec<String>>,
    #[serde(default)]
    pub limit: Option<String>,
    #[serde(default)]
    pub vis_config: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Query {
    /// `vis_config.type`, e.g. `single_value` or `looker_grid`.
    pub fn vis_type(&self) -> Option<&str> {
        self.vis_config.as_ref()?.get("type")?.as_str()
    }

    /// `vis_config.hidden_fields`: fields to leave out of what is shown.
    pub fn hidden_fields(&self) -> Vec<String> {
        self.vis_config
            .as_ref()
            .and_then(|v| v.get("hidden_fields"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }

    /// `vis_config.show_view_names`: label (with view) rather than label_short.
    pub fn show_view_names(&self) -> bool {
        self.vis_config
            .as_ref()
            .and_then(|v| v.get("show_view_names"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// One field of a `json_detail` result.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct ResultField {
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub label_short: Option<String>,
    #[serde(default)]
    pub view_label: Option<String>,
    #[serde(default, rename = "type")]
    pub field_type: Option<String>,
    #[serde(default)]
    pub measure: Option<bool>,
    #[serde(default)]
    pub is_measure: Option<bool>,
    #[serde(default)]
    pub is_numeric: Option<bool>,
    #[serde(default)]
    pub value_format: Option<String>,
    #[serde(default)]
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
pub struct ResultFields {
    #[serde(default)]
    pub dimensions: Vec<ResultField>,
    #[serde(default)]
    pub measures: Vec<ResultField>,
    #[serde(default)]
    pub table_calculations: Vec<ResultField>,
    #[serde(default)]
    pub pivots: Vec<ResultField>,
}

/// A link Looker attaches to a cell (drill, measure default, data action).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CellLink {
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default, rename = "type")]
    pub link_type: Option<String>,
}

/// One cell of a `json_detail` row.
#[derive(Debug, Clone, Deserialize, Serialize, Default, PartialEq)]
pub struct Cell {
    #[serde(default)]
    pub value: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendered: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct QueryErrorDetail {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub message_details: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PivotValue {
    pub key: String,
    #[serde(default)]
    pub is_total: bool,
    #[serde(default)]
    pub data: Map<String, Value>,
}

/// `GET /queries/{id}/run/json_detail`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct QueryResult {
    #[serde(default)]
    pub fields: ResultFields,
    /// Rows keyed by field name; pivoted measures nest one level by pivot key.
    #[serde(default)]
    pub data: Vec<Row>,
    #[serde(default)]
    pub pivots: Option<Vec<PivotValue>>,
    #[serde(default)]
    pub errors: Option<Vec<QueryErrorDetail>>,
    #[serde(default)]
    pub has_totals: Option<bool>,
    #[serde(default)]
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

/// `GET /dashboards/{id}` (LookML dashboards take `model::name` ids).
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct Dashboard {
    #[serde(default, deserialize_with = "optional_id")]
    pub id: Option<LookerId>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub dashboard_elements: Vec<DashboardElement>,
    #[serde(default)]
    pub dashboard_filters: Vec<DashboardFilter>,
    #[serde(default)]
    pub dashboard_layouts: Vec<DashboardLayout>,
}

/// A tile: text, a query, a Look or a merged result.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct DashboardElement {
    #[serde(default, deserialize_with = "optional_id")]
    pub id: Option<LookerId>,
    #[serde(default, rename = "type")]
    pub element_type: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub title_text: Option<String>,
    #[serde(default)]
    pub title_hidden: Option<bool>,
    #[serde(default)]
    pub subtitle_text: Option<String>,
    #[serde(default)]
    pub body_text: Option<String>,
    #[serde(default)]
    pub note_text: Option<String>,
    #[serde(default, deserialize_with = "optional_id")]
    pub look_id: Option<LookerId>,
    #[serde(default)]
    pub look: Option<Look>,
    #[serde(default, deserialize_with = "optional_id")]
    pub query_id: Option<LookerId>,
    #[serde(default)]
    pub query: Option<Query>,
    #[serde(default, deserialize_with = "optional_id")]
    pub merge_result_id: Option<LookerId>,
    #[serde(default)]
    pub result_maker: Option<ResultMaker>,
}

/// How a tile's data is made, and which dashboard filters it listens to.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct ResultMaker {
    #[serde(default, deserialize_with = "optional_id")]
    pub query_id: Option<LookerId>,
    #[serde(default)]
    pub query: Option<Query>,
    #[serde(default, deserialize_with = "optional_id")]
    pub merge_result_id: Option<LookerId>,
    #[serde(default)]
    pub vis_config: Option<Map<String, Value>>,
    #[serde(default)]
    pub filterables: Option<Vec<Filterable>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct Filterable {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub view: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub listen: Option<Vec<FilterListen>>,
}

/// "Dashboard filter X sets query field Y."
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct FilterListen {
    #[serde(default)]
    pub dashboard_filter_name: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct DashboardFilter {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default, rename = "type")]
    pub filter_type: Option<String>,
    #[serde(default)]
    pub default_value: Option<String>,
    #[serde(default)]
    pub dimension: Option<String>,
    #[serde(default)]
    pub row: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct DashboardLayout {
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub dashboard_layout_components: Vec<DashboardLayoutComponent>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct DashboardLayoutComponent {
    #[serde(default, deserialize_with = "optional_id")]
    pub dashboard_element_id: Option<LookerId>,
    #[serde(default)]
    pub row: Option<i64>,
    #[serde(default)]
    pub column: Option<i64>,
}

/// `GET /merge_queries/{id}`: the source queries of a merged-result tile and how they join.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct MergeQuery {
    #[serde(default)]
    pub source_queries: Vec<MergeSourceQuery>,
    #[serde(default)]
    pub vis_config: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct MergeSourceQuery {
    #[serde(default, deserialize_with = "optional_id")]
    pub query_id: Option<LookerId>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub merge_fields: Option<Vec<MergeField>>,
}

/// The source query's field `source_field_name` joins the first query's `field_name`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct MergeField {
    #[serde(default)]
    pub field_name: Option<String>,
    #[serde(default)]
    pub source_field_name: Option<String>,
}

/// `POST /render_tasks/...` and `GET /render_tasks/{id}`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct RenderTask {
    pub id: LookerId,
    /// enqueued_for_query, querying, enqueued_for_render, rendering, success, failure
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub status_detail: Option<String>,
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
    fn ids_accept_numbers_and_strings() {
        let look: Look = serde_json::from_value(serde_json::json!({"id": 12, "query_id": "34"})).unwrap();
        assert_eq!(look.id.as_str(), "12");
        assert_eq!(look.query_id.unwrap().as_str(), "34");
    }

    #[test]
    fn queries_keep_fields_they_do_not_model() {
        let query: Query = serde_json::from_value(serde_json::json!({
            "model": "m", "view": "v", "dynamic_fields": "[]", "query_timezone": "UTC"
        }))
        .unwrap();
        let back = serde_json::to_value(&query).unwrap();
        assert_eq!(back["dynamic_fields"], "[]");
        assert_eq!(back["query_timezone"], "UTC");
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
