//! The Slack app manifest for this bot, so a new user creates the Slack app in one step
//! (api.slack.com/apps → Create New App → From a manifest).

use serde_json::{Value, json};
use url::Url;

/// Bot scopes: posting, slash command, mentions and DMs, channel and user lookup (`*:read`: who
/// reads a conversation, for the audience guard), files, unfurls, and reading the bot's own earlier posts back (the `*:history` scopes: a delivery resumed after
/// a crash looks for the message it may already have posted, so it never posts twice).
pub const BOT_SCOPES: &[&str] = &[
    "app_mentions:read",
    "channels:history",
    "channels:read",
    "chat:write",
    "chat:write.public",
    "commands",
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",
    "im:read",
    "im:write",
    "links:read",
    "links:write",
    "mpim:history",
    "mpim:read",
    "team:read",
    "users:read",
    "users:read.email",
];

/// Events the bot subscribes to.
pub const BOT_EVENTS: &[&str] = &["app_mention", "message.im", "link_shared"];

/// Builds the manifest for a bot served at `public_url`, unfurling links of the given Lookers.
pub fn manifest(public_url: &Url, looker_urls: &[Url]) -> Value {
    let base = public_url.as_str().trim_end_matches('/');
    let mut domains: Vec<String> = Vec::new();
    for host in looker_urls.iter().filter_map(|u| u.host_str()) {
        let host = host.to_ascii_lowercase();
        if !domains.contains(&host) && domains.len() < 5 {
            domains.push(host);
        }
    }
    let mut features = json!({
        "bot_user": { "display_name": "lookerbot", "always_online": true },
        "app_home": { "home_tab_enabled": false, "messages_tab_enabled": true, "messages_tab_read_only_enabled": false },
        "slash_commands": [{
            "command": "/looker",
            "url": format!("{base}/slack/receive"),
            "description": "Ask Looker: run a Look or dashboard, search, or a custom command",
            "usage_hint": "help | find <words> | look <id> | dashboard <id> | <command> [filter=value]",
            "should_escape": false
        }]
    });
    if !domains.is_empty() {
        features["unfurl_domains"] = json!(domains);
    }
    json!({
        "_metadata": { "major_version": 1, "minor_version": 1 },
        "display_information": {
            "name": "Lookerbot",
            "description": "Looker data in Slack: scheduled Looks and dashboards, commands and link previews.",
            "background_color": "#4285f4"
        },
        "features": features,
        "oauth_config": { "scopes": { "bot": BOT_SCOPES } },
        "settings": {
            "event_subscriptions": {
                "request_url": format!("{base}/slack/events"),
                "bot_events": BOT_EVENTS
            },
            "interactivity": { "is_enabled": true, "request_url": format!("{base}/slack/action") },
            "org_deploy_enabled": false,
            "socket_mode_enabled": false,
            "token_rotation_enabled": false
        }
    })
}

/// The manifest as YAML (Slack's editor default) or JSON.
pub fn render(manifest: &Value, json_format: bool) -> anyhow::Result<String> {
    if json_format {
        Ok(serde_json::to_string_pretty(manifest)?)
    } else {
        Ok(serde_yaml_ng::to_string(manifest)?)
    }
}
