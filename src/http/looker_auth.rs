//! Who may post to the Looker-facing routes: the Looker whose `X-Looker-Webhook-Token` matches,
//! or anyone holding `LOOKERBOT_AUTH_TOKEN` (`Authorization: Token token="..."`, the words in any
//! case, as Looker's own hub reads them). Compared in constant time, from the headers alone.

use std::sync::LazyLock;

use axum::http::HeaderMap;
use regex::Regex;

use crate::config::Settings;
use crate::domain::looker::{LookerKey, Registry};

static TOKEN_HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)^token\s+token="(.*)"$"#).expect("valid regex"));

/// How a request proved itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// `LOOKERBOT_AUTH_TOKEN`: may speak for any configured Looker.
    SharedToken,
    /// The webhook token of these Lookers.
    Looker(Vec<LookerKey>),
}

/// Whether the request holds the Action Hub's token (`LOOKERBOT_AUTH_TOKEN`).
pub fn hub_token(settings: &Settings, headers: &HeaderMap) -> bool {
    let presented = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|h| TOKEN_HEADER.captures(h.trim()))
        .and_then(|c| c.get(1));
    match (&settings.lookerbot_auth_token, presented) {
        (Some(expected), Some(presented)) => expected.matches(presented.as_str()),
        _ => false,
    }
}

/// `Some` when the request carries a valid credential.
pub fn authenticate(settings: &Settings, lookers: &Registry, headers: &HeaderMap) -> Option<Caller> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let (Some(expected), Some(presented)) = (
        &settings.lookerbot_auth_token,
        header("authorization")
            .and_then(|h| TOKEN_HEADER.captures(h.trim()))
            .and_then(|c| c.get(1)),
    ) && expected.matches(presented.as_str())
    {
        return Some(Caller::SharedToken);
    }
    let matching = lookers.by_webhook_token(header("x-looker-webhook-token")?);
    (!matching.is_empty()).then_some(Caller::Looker(matching))
}
