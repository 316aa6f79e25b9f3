//! Which scheduled deliveries the bot acts on. Looker sends the same webhook token with every
//! webhook of the instance, to any address a user types, so the token proves little: a delivery
//! is run only when Looker's own copy of the plan (`GET /scheduled_plans/{id}`, read as the API
//! user) is enabled and sends to this very address, and then only what that plan holds, as its
//! owner where the Looker answers people as themselves. Ids in the webhook's body are never run.

pub mod signed;

use url::Url;

use super::Context;
use super::deliveries::{Content, Delivery, Destination};
use crate::clients::looker::LookerError;
use crate::domain::looker::LookerKey;
use crate::domain::looker::models::{LookerId, ScheduledPlan};

/// Why a webhook was not taken: the caller is told, and one line is logged.
#[derive(Debug)]
pub enum Refusal {
    /// The request does not hold up (403).
    Forbidden(String),
    /// Looker could not be asked now (503: Looker tries again).
    Unavailable(String),
}

/// The address a webhook came to, as Looker would have stored it.
#[derive(Debug, Clone)]
pub struct Addressed {
    /// `PUBLIC_URL`: scheme, host and port must match it.
    pub base: Option<Url>,
    /// Else the host (and port) the request named.
    pub host: Option<String>,
    /// The route's path (`/slack/post/channel/sales`), decoded.
    pub path: String,
}

fn normalised_path(path: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    decoded.trim_end_matches('/').to_lowercase()
}

impl Addressed {
    /// Whether a plan's webhook address is this one (scheme, host, port and path; case and a
    /// trailing slash aside, as Looker keeps what the user typed).
    pub fn is(&self, address: &str) -> bool {
        let Ok(url) = Url::parse(address.trim()) else {
            return false;
        };
        let prefix = self.base.as_ref().map(|b| b.path().trim_end_matches('/')).unwrap_or("");
        if normalised_path(url.path()) != normalised_path(&format!("{prefix}{}", self.path)) {
            return false;
        }
        match (&self.base, &self.host) {
            (Some(base), _) => {
                url.scheme() == base.scheme()
                    && url.host_str() == base.host_str()
                    && url.port_or_known_default() == base.port_or_known_default()
            }
            (None, Some(host)) => {
                let named = match url.port() {
                    Some(port) => format!("{}:{port}", url.host_str().unwrap_or("")),
                    None => url.host_str().unwrap_or("").to_string(),
                };
                named.eq_ignore_ascii_case(host)
            }
            (None, None) => false,
        }
    }
}

/// Checks a signed address (`?sig=`): a signature must be right, and with
/// `LOOKERBOT_WEBHOOK_SIGNED_ONLY` one is required.
pub fn check_signature(ctx: &Context, destination: &Destination, presented: Option<&str>) -> Result<(), Refusal> {
    let keys = &ctx.trust.webhook_url_secrets;
    match presented {
        Some(sig) if signed::verify(keys, destination, sig) => Ok(()),
        Some(_) => Err(Refusal::Forbidden(format!(
            "this address's signature is not the one for {destination}: print the address with `lookerbot webhook-url`"
        ))),
        None if ctx.trust.webhook_signed_only => Err(Refusal::Forbidden(
            "this bot takes scheduled deliveries only at signed addresses: print one with `lookerbot webhook-url`"
                .into(),
        )),
        None => Ok(()),
    }
}

/// The delivery Looker's own plan makes: its content, filters and owner, to the address's
/// destination. `sent` is what the body claimed: only its title and, for a dashboard, the file
/// Looker attached (or its download link, fetched only from that Looker) are kept.
pub async fn verified(
    ctx: &Context,
    plan_id: Option<LookerId>,
    addressed: &Addressed,
    sent: Delivery,
) -> Result<Delivery, Refusal> {
    let Some(key) = sent.looker.clone() else {
        return Err(Refusal::Forbidden(
            "cannot tell which Looker sent this schedule: scheduled_plan.url is missing".into(),
        ));
    };
    let Some(plan_id) = plan_id else {
        return Err(Refusal::Forbidden(
            "scheduled_plan.scheduled_plan_id is missing: only Looker's schedules are delivered".into(),
        ));
    };
    let plan = read_plan(ctx, &key, &plan_id).await?;
    if !plan.is_enabled() {
        return Err(Refusal::Forbidden(format!(
            "scheduled plan {plan_id} is disabled in Looker"
        )));
    }
    if !plan.webhook_addresses().any(|address| addressed.is(address)) {
        return Err(Refusal::Forbidden(format!(
            "scheduled plan {plan_id} does not send to this address"
        )));
    }
    let web = ctx
        .lookers
        .get(&key)
        .map(|l| l.web_base())
        .ok_or_else(|| Refusal::Forbidden("not a configured Looker".into()))?;
    let content = plan_content(&plan, &web, sent.content)
        .ok_or_else(|| Refusal::Forbidden(format!("scheduled plan {plan_id} holds no Look, query or dashboard")))?;
    Ok(Delivery {
        destination: sent.destination,
        looker: Some(key),
        // Only words to show: the plan's title, the one Looker sent, or the plan's name.
        title: [plan.title.clone(), sent.title, plan.name.clone()]
            .into_iter()
            .flatten()
            .find(|t| !t.trim().is_empty()),
        content,
        owner: plan.user_id.clone().map(|id| id.0),
    })
}

async fn read_plan(ctx: &Context, key: &LookerKey, plan_id: &LookerId) -> Result<ScheduledPlan, Refusal> {
    let looker = ctx
        .lookers
        .get(key)
        .ok_or_else(|| Refusal::Forbidden("not a configured Looker".into()))?;
    match looker.scheduled_plan(plan_id).await {
        Ok(plan) => Ok(plan),
        Err(LookerError::Api { status: 404, .. }) => {
            Err(Refusal::Forbidden(format!("Looker has no scheduled plan {plan_id}")))
        }
        Err(error) if error.is_transient() => Err(Refusal::Unavailable(format!(
            "could not read scheduled plan {plan_id} from Looker: {error}"
        ))),
        Err(error) => Err(Refusal::Forbidden(format!(
            "Looker would not show scheduled plan {plan_id}: {error}"
        ))),
    }
}

/// What the plan delivers, from the plan alone; a dashboard keeps the file Looker attached.
fn plan_content(plan: &ScheduledPlan, web: &str, sent: Content) -> Option<Content> {
    let filters = plan.filters();
    // Looker's own query string, so the link opens what the schedule sent.
    let query_string = match plan.filters_string.as_deref().map(str::trim) {
        Some(text) if !text.trim_start_matches('?').is_empty() => format!("?{}", text.trim_start_matches('?')),
        _ => String::new(),
    };
    if plan.look_id.is_some() || plan.query_id.is_some() {
        return Some(Content::Look {
            url: plan
                .look_id
                .as_ref()
                .map(|id| format!("{web}/looks/{id}{query_string}")),
            look_id: plan.look_id.clone(),
            query_id: plan.query_id.clone(),
            query: None,
            filters,
        });
    }
    let dashboard = plan
        .dashboard_id
        .as_ref()
        .map(|id| id.0.clone())
        .or_else(|| plan.lookml_dashboard_id.clone())?;
    let (attachment, download_url) = match sent {
        Content::Dashboard {
            attachment,
            download_url,
            ..
        } => (attachment, download_url),
        Content::Look { .. } => (None, None),
    };
    Some(Content::Dashboard {
        url: Some(format!("{web}/dashboards/{dashboard}{query_string}")),
        attachment,
        download_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(base: Option<&str>, host: Option<&str>, path: &str) -> Addressed {
        Addressed {
            base: base.map(|b| Url::parse(b).unwrap()),
            host: host.map(str::to_string),
            path: path.into(),
        }
    }

    #[test]
    fn an_address_matches_as_looker_keeps_it() {
        let bot = at(Some("https://bot.example.com"), None, "/slack/post/channel/sales");
        assert!(bot.is("https://bot.example.com/slack/post/channel/sales"));
        assert!(bot.is("https://BOT.example.com:443/slack/post/channel/sales/"));
        assert!(bot.is("https://bot.example.com/slack/post/channel/sales?sig=abc"));
        assert!(!bot.is("http://bot.example.com/slack/post/channel/sales"));
        assert!(!bot.is("https://evil.example.com/slack/post/channel/sales"));
        assert!(!bot.is("https://bot.example.com:8443/slack/post/channel/sales"));
        assert!(!bot.is("https://bot.example.com/slack/post/channel/finance"));
        assert!(!bot.is("not a url"));
        let prefixed = at(Some("https://example.com/lookerbot/"), None, "/slack/post/dm/ann");
        assert!(prefixed.is("https://example.com/lookerbot/slack/post/dm/ann"));
        assert!(!prefixed.is("https://example.com/slack/post/dm/ann"));
        let by_host = at(None, Some("127.0.0.1:4000"), "/slack/post/channel/sales");
        assert!(by_host.is("http://127.0.0.1:4000/slack/post/channel/sales"));
        assert!(!by_host.is("http://127.0.0.1:4001/slack/post/channel/sales"));
        assert!(!at(None, None, "/slack/post/channel/sales").is("http://x/slack/post/channel/sales"));
    }
}
