//! Property tests over what the bot reads from the network: the Slack signature check, the
//! event, interaction and slash-command parsers, the command grammar, Looker's webhook and the
//! Action API's streaming body reader. For
//! any input they answer (accept or refuse) and never panic; what is signed is accepted and any
//! change to it refused. `cargo test fuzz` runs 256 cases each; `PROPTEST_CASES=100000 cargo
//! test --release fuzz` runs longer.

use proptest::prelude::*;
use serde_json::{Map, Value};

/// JSON of any shape, with the field names Slack's and Looker's payloads use, so that generated
/// documents reach past the first `match`.
pub fn json() -> impl Strategy<Value = Value> {
    let names = prop::sample::select(vec![
        "type",
        "event",
        "event_id",
        "team_id",
        "user",
        "channel",
        "channel_type",
        "text",
        "ts",
        "thread_ts",
        "subtype",
        "bot_id",
        "links",
        "url",
        "message_ts",
        "source",
        "unfurl_id",
        "authorizations",
        "challenge",
        "scheduled_plan",
        "attachment",
        "mimetype",
        "data",
        "title",
        "query_id",
        "query",
        "download_url",
        "actions",
        "payload",
        "view",
        "response_url",
        "trigger_id",
        "id",
        "value",
        "form_params",
        "extension",
        "callback_id",
        "private_metadata",
        "state",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        prop_oneof![
            ".*",
            Just("app_mention".to_string()),
            Just("message".to_string()),
            Just("im".to_string()),
            Just("event_callback".to_string()),
            Just("url_verification".to_string()),
            Just("link_shared".to_string()),
            Just("Look".to_string()),
            Just("Dashboard".to_string()),
            Just("image/png;base64".to_string()),
            Just("text/csv".to_string()),
            Just("aGVsbG8=\nd29ybGQ=".to_string()),
            Just("https://looker.example.com/looks/7".to_string()),
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((names.clone(), inner), 0..8).prop_map(|pairs| Value::Object(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect::<Map<_, _>>()
            )),
        ]
    })
}
