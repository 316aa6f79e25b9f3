//! The bot as a Looker Action Hub, so that Looker (customer-hosted or not) can pick it as the
//! destination of any schedule or query: Looker's own "Slack Attachment" integration (`slack`:
//! files to a channel or a person, every format, pushed inline or streamed from a
//! `download_url`), and Lookerbot's `post` integration (results rendered by the bot) with its
//! `/data_actions` endpoints, so existing Lookerbot set-ups keep working.

mod delivery;
mod destinations;
mod filename;
mod form;
mod message;

use serde_json::{Value, json};
use std::sync::LazyLock;

pub use delivery::{HubDelivery, HubFile, Target, conversation};
pub use destinations::Destinations;
pub use filename::{complete_filename, suggested_filename};
pub use form::{lookerbot_form, slack_form};
pub use message::ChannelMessage;

/// Lookerbot's Slack icon, as Looker shows it beside the integrations.
static ICON: LazyLock<String> = LazyLock::new(|| {
    use base64::Engine;
    let svg = include_bytes!("../../../assets/slack.svg");
    format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    )
});

/// Every format Looker can send: the `slack` integration takes them all.
pub const ALL_FORMATS: &[&str] = &[
    "txt",
    "csv",
    "inline_json",
    "json",
    "json_label",
    "json_detail",
    "json_detail_lite_stream",
    "xlsx",
    "html",
    "wysiwyg_pdf",
    "assembled_pdf",
    "wysiwyg_png",
    "csv_zip",
];

/// The `braze` integration's form, as Looker's own Braze action has it.
pub fn braze_form() -> Value {
    json!({"fields": [
        {"label": "Unique Key", "name": "braze_key", "description": "Primary key for user to map to within Braze.",
         "required": true, "type": "select", "default": "external_id",
         "options": [{"name": "external_id", "label": "external_id"}, {"name": "braze_id", "label": "braze_id"}]},
        {"label": "Export Label", "name": "braze_segment", "type": "string", "required": true, "default": "LOOKER_EXPORT",
         "description": "Name of export (Appends to Custom Attribute Array 'looker_export'). Defaults to 'LOOKER_EXPORT'."}
    ]})
}

/// The hub's answer to `POST /`: its integrations, with absolute URLs under `base`.
pub fn integrations(base: &str) -> Value {
    let base = base.trim_end_matches('/');
    json!({
        "label": "lookerbot",
        "integrations": [
            {
                "name": "slack",
                "label": "Slack (lookerbot)",
                "description": "Send a file to a Slack channel or person, posted by the lookerbot app. Any format; files up to 1 GB.",
                "url": format!("{base}/actions/slack/execute"),
                "form_url": format!("{base}/actions/slack/form"),
                "icon_data_uri": *ICON,
                "params": [],
                "required_fields": [],
                "supported_action_types": ["query", "dashboard"],
                "supported_formats": ALL_FORMATS,
                "supported_formattings": ["formatted", "unformatted"],
                "supported_visualization_formattings": ["apply", "noapply"],
                // Looker sends a download_url only to a hub that lists `url`.
                "supported_download_settings": ["push", "url"],
                "uses_oauth": false
            },
            {
                "name": "braze",
                "label": "Braze",
                "description": "Flags users from Looker to Braze via the REST API for use with segmentation. Ensure there's a 'braze_id' field tagged in the results. MAX EXPORT: 100000.",
                "url": format!("{base}/actions/braze/execute"),
                "form_url": format!("{base}/actions/braze/form"),
                "params": [
                    {"name": "braze_description", "label": "Braze Description", "required": false, "sensitive": false,
                     "description": "Braze Action Description"},
                    {"name": "braze_api_key", "label": "Braze API Key", "required": true, "sensitive": true,
                     "description": "Braze API Key from https://dashboard.braze.com/app_settings/developer_console/ with users.track permission."},
                    {"name": "braze_api_endpoint", "label": "Braze REST API Endpoint", "required": true, "sensitive": false,
                     "description": "Braze REST API endpoint based on the instance location. See: https://www.braze.com/docs/developer_guide/rest_api/basics/#endpoints Example: https://rest.iad-01.braze.com"}
                ],
                "required_fields": [{"tag": "braze_id"}],
                "supported_action_types": ["query"],
                "supported_formats": ["json_detail"],
                "supported_formattings": ["unformatted"],
                "supported_visualization_formattings": ["noapply"],
                "supported_download_settings": ["push", "url"],
                "uses_oauth": false
            },
            {
                "name": "post",
                "label": "Slack",
                "description": "Send data to Slack. The data will be posted as the Lookerbot user.",
                "url": format!("{base}/slack/post_from_query_action"),
                "form_url": format!("{base}/data_actions/form"),
                "icon_data_uri": *ICON,
                "supported_action_types": ["query"],
                "supported_formats": ["txt"],
                "supported_formattings": ["unformatted"],
                "supported_visualization_formattings": ["noapply"]
            }
        ]
    })
}
