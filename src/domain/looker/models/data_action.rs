//! Looker's data actions as its API 4.0 answers them (`DataActionResponse`, `DataActionForm`):
//! what an action server said about an action, and the form it asks for first.

use serde::{Deserialize, Serialize};

/// `POST /data_actions`: what the action server made of the action.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct DataActionResponse {
    pub webhook_id: Option<String>,
    pub success: bool,
    pub refresh_query: bool,
    pub validation_errors: Option<ValidationError>,
    pub message: Option<String>,
}

/// Looker's `ValidationError`: a message and the fields at fault.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct ValidationError {
    pub message: Option<String>,
    pub errors: Option<Vec<ValidationErrorDetail>>,
    pub documentation_url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct ValidationErrorDetail {
    pub field: Option<String>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub documentation_url: Option<String>,
}

/// `POST /data_actions/form`: the fields an action asks for before it is sent.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct DataActionForm {
    pub state: Option<DataActionUserState>,
    pub fields: Option<Vec<DataActionFormField>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct DataActionUserState {
    pub data: Option<String>,
    pub refresh_time: Option<i64>,
}

/// One form field: `string`, `textarea`, `select`, `oauth_link` or `message` (Looker's types).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct DataActionFormField {
    pub name: Option<String>,
    pub label: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub field_type: Option<String>,
    pub default: Option<String>,
    pub oauth_url: Option<String>,
    pub interactive: bool,
    pub required: bool,
    pub options: Option<Vec<DataActionFormSelectOption>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct DataActionFormSelectOption {
    pub name: Option<String>,
    pub label: Option<String>,
}
