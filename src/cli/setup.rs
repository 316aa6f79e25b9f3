//! What `check` says about the settings themselves before it tries any service: the traps of a
//! first set-up, each in one sentence that says what to do.

use crate::config::{Secret, Settings};

/// `.env.example`'s stand-in for a real value.
const PLACEHOLDER: &str = "replace-me";

/// The shortest Action Hub token worth having: Looker sends it with every request.
const MIN_HUB_TOKEN: usize = 32;

/// `(ok, sentence)` for each problem found; a placeholder fails the check, the rest warn.
pub fn report(settings: &Settings) -> Vec<(bool, String)> {
    let mut found = Vec::new();
    let mut secrets: Vec<(String, &Secret)> = vec![("SLACK_API_KEY".into(), &settings.slack.bot_token)];
    secrets.extend(
        settings
            .slack
            .signing_secret
            .iter()
            .map(|s| ("SLACK_SIGNING_SECRET".into(), s)),
    );
    secrets.extend(
        settings
            .lookerbot_auth_token
            .iter()
            .map(|s| ("LOOKERBOT_AUTH_TOKEN".into(), s)),
    );
    for looker in &settings.lookers {
        let host = looker.url.host_str().unwrap_or_default();
        secrets.push((
            format!("the client secret of {host} (LOOKER_API_CLIENT_SECRET)"),
            &looker.client_secret,
        ));
        if let Some(token) = &looker.webhook_token {
            secrets.push((format!("the webhook token of {host} (LOOKER_WEBHOOK_TOKEN)"), token));
        }
        if looker.client_id.contains(PLACEHOLDER) {
            found.push(placeholder(&format!("the client id of {host} (LOOKER_API_CLIENT_ID)")));
        }
    }
    for (name, secret) in secrets {
        if secret.expose().contains(PLACEHOLDER) {
            found.push(placeholder(&name));
        }
    }
    if settings.looker_tls.insecure {
        found.push((
            true,
            "Looker TLS: warning: Looker's certificate is not verified (LOOKER_TLS_INSECURE, UNSAFE_LOCAL_DEV or NODE_TLS_REJECT_UNAUTHORIZED=0); set LOOKER_CA_CERT to its CA certificate instead".into(),
        ));
    }
    if let Some(url) = &settings.hub.public_url
        && url.scheme() == "http"
        && !matches!(url.host_str(), Some("localhost" | "127.0.0.1"))
    {
        found.push((
            true,
            format!("PUBLIC_URL: warning: {url} is plain http; Slack, Looker's Action Hub and Looker's sign-in need an https address"),
        ));
    }
    if let Some(token) = &settings.lookerbot_auth_token
        && token.expose().len() < MIN_HUB_TOKEN
    {
        found.push((
            true,
            format!(
                "Action Hub: warning: LOOKERBOT_AUTH_TOKEN is {} characters; use at least {MIN_HUB_TOKEN} random ones (openssl rand -hex 32)",
                token.expose().len()
            ),
        ));
    }
    if settings.lookerbot_auth_token.is_none() && settings.lookers.iter().all(|l| l.webhook_token.is_none()) {
        found.push((
            true,
            "schedules: warning: neither LOOKER_WEBHOOK_TOKEN nor LOOKERBOT_AUTH_TOKEN is set, so every webhook Looker sends will be refused; set LOOKER_WEBHOOK_TOKEN to the token Looker's admin settings show for webhooks".into(),
        ));
    }
    found
}

fn placeholder(name: &str) -> (bool, String) {
    (
        false,
        format!("settings: {name} still holds the `{PLACEHOLDER}` placeholder of .env.example; put in the real value"),
    )
}
