//! Looker API 4.0 shapes the bot reads, following `Looker.4.0.oas.json`: content (Looks, queries,
//! dashboards, folders) here, query results (`json_detail`) in [`result`]. Ids are strings in 4.0
//! but older payloads carry numbers, so every id accepts both. Every struct defaults as a whole:
//! Looker leaves out or nulls what it has not got, and a missing field is never an error.

mod data_action;
mod result;
mod schedule;

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

pub use data_action::*;
pub use result::*;
pub use schedule::*;

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

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct FolderBase {
    #[serde(deserialize_with = "optional_id")]
    pub id: Option<LookerId>,
    pub name: Option<String>,
}

/// `GET /folders/{id}`: a folder with the dashboards and Looks it holds (without their details).
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct Folder {
    #[serde(deserialize_with = "optional_id")]
    pub id: Option<LookerId>,
    pub name: Option<String>,
    pub dashboards: Vec<ContentSummary>,
    pub looks: Vec<ContentSummary>,
}

/// A Look or dashboard as folder listings and searches give it.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct ContentSummary {
    pub id: LookerId,
    pub title: Option<String>,
    pub short_url: Option<String>,
    pub folder: Option<FolderBase>,
}

/// `GET /looks/{id}`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct Look {
    pub id: LookerId,
    pub title: Option<String>,
    pub description: Option<String>,
    pub short_url: Option<String>,
    #[serde(deserialize_with = "optional_id")]
    pub query_id: Option<LookerId>,
    pub query: Option<Query>,
    pub folder: Option<FolderBase>,
}

/// A Looker query. Unknown fields are kept so a query can be sent back (`POST /queries`) intact.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct Query {
    #[serde(deserialize_with = "optional_id", skip_serializing_if = "Option::is_none")]
    pub id: Option<LookerId>,
    pub model: String,
    pub view: String,
    pub fields: Option<Vec<String>>,
    pub pivots: Option<Vec<String>>,
    pub filters: Option<BTreeMap<String, Option<String>>>,
    pub sorts: Option<Vec<String>>,
    pub limit: Option<String>,
    pub vis_config: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
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

/// `GET /dashboards/{id}` (LookML dashboards take `model::name` ids).
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct Dashboard {
    #[serde(deserialize_with = "optional_id")]
    pub id: Option<LookerId>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub dashboard_elements: Vec<DashboardElement>,
    pub dashboard_filters: Vec<DashboardFilter>,
    pub dashboard_layouts: Vec<DashboardLayout>,
}

/// A tile: text, a query, a Look or a merged result.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct DashboardElement {
    #[serde(deserialize_with = "optional_id")]
    pub id: Option<LookerId>,
    #[serde(rename = "type")]
    pub element_type: Option<String>,
    pub title: Option<String>,
    pub title_text: Option<String>,
    pub title_hidden: Option<bool>,
    pub subtitle_text: Option<String>,
    pub body_text: Option<String>,
    pub note_text: Option<String>,
    #[serde(deserialize_with = "optional_id")]
    pub look_id: Option<LookerId>,
    pub look: Option<Look>,
    #[serde(deserialize_with = "optional_id")]
    pub query_id: Option<LookerId>,
    pub query: Option<Query>,
    #[serde(deserialize_with = "optional_id")]
    pub merge_result_id: Option<LookerId>,
    pub result_maker: Option<ResultMaker>,
}

/// How a tile's data is made, and which dashboard filters it listens to.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct ResultMaker {
    #[serde(deserialize_with = "optional_id")]
    pub query_id: Option<LookerId>,
    pub query: Option<Query>,
    #[serde(deserialize_with = "optional_id")]
    pub merge_result_id: Option<LookerId>,
    pub vis_config: Option<Map<String, Value>>,
    pub filterables: Option<Vec<Filterable>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct Filterable {
    pub model: Option<String>,
    pub view: Option<String>,
    pub name: Option<String>,
    pub listen: Option<Vec<FilterListen>>,
}

/// "Dashboard filter X sets query field Y."
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct FilterListen {
    pub dashboard_filter_name: Option<String>,
    pub field: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct DashboardFilter {
    pub name: String,
    pub title: Option<String>,
    #[serde(rename = "type")]
    pub filter_type: Option<String>,
    pub default_value: Option<String>,
    pub dimension: Option<String>,
    pub row: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct DashboardLayout {
    pub active: Option<bool>,
    pub dashboard_layout_components: Vec<DashboardLayoutComponent>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct DashboardLayoutComponent {
    #[serde(deserialize_with = "optional_id")]
    pub dashboard_element_id: Option<LookerId>,
    pub row: Option<i64>,
    pub column: Option<i64>,
}

/// `GET /merge_queries/{id}`: the source queries of a merged-result tile and how they join.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct MergeQuery {
    pub source_queries: Vec<MergeSourceQuery>,
    pub vis_config: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct MergeSourceQuery {
    #[serde(deserialize_with = "optional_id")]
    pub query_id: Option<LookerId>,
    pub name: Option<String>,
    pub merge_fields: Option<Vec<MergeField>>,
}

/// The source query's field `source_field_name` joins the first query's `field_name`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct MergeField {
    pub field_name: Option<String>,
    pub source_field_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
