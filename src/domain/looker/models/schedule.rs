//! A scheduled plan as Looker keeps it (`GET /scheduled_plans/{id}`): what it delivers, whose
//! it is, and where it sends. The bot trusts this, never the copy in a webhook's body, which
//! anyone who knows the instance's webhook token could write.

use serde::Deserialize;

use super::{LookerId, optional_id};

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct ScheduledPlan {
    #[serde(deserialize_with = "optional_id")]
    pub id: Option<LookerId>,
    pub name: Option<String>,
    pub title: Option<String>,
    /// The Looker user who owns the plan: a schedule shows no more than they may see.
    #[serde(deserialize_with = "optional_id")]
    pub user_id: Option<LookerId>,
    /// `null` is read as enabled, as Looker's UI shows a plan without the flag.
    pub enabled: Option<bool>,
    pub run_once: Option<bool>,
    #[serde(deserialize_with = "optional_id")]
    pub look_id: Option<LookerId>,
    #[serde(deserialize_with = "optional_id")]
    pub dashboard_id: Option<LookerId>,
    pub lookml_dashboard_id: Option<String>,
    #[serde(deserialize_with = "optional_id")]
    pub query_id: Option<LookerId>,
    /// The filters the plan runs with, as a URL query string (`?Status=complete&...`).
    pub filters_string: Option<String>,
    pub scheduled_plan_destination: Option<Vec<PlanDestination>>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct PlanDestination {
    /// `email`, `webhook`, `s3`, `sftp`, `action_hub`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub address: Option<String>,
    pub format: Option<String>,
}

impl ScheduledPlan {
    pub fn is_enabled(&self) -> bool {
        self.enabled != Some(false)
    }

    /// The addresses of the plan's webhook destinations.
    pub fn webhook_addresses(&self) -> impl Iterator<Item = &str> {
        self.scheduled_plan_destination
            .iter()
            .flatten()
            .filter(|d| d.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("webhook")))
            .filter_map(|d| d.address.as_deref())
    }

    /// The filters of `filters_string` as name/value pairs (`f[field]` names lose their brackets).
    pub fn filters(&self) -> Vec<(String, String)> {
        let text = self
            .filters_string
            .as_deref()
            .unwrap_or("")
            .trim()
            .trim_start_matches('?');
        url::form_urlencoded::parse(text.as_bytes())
            .map(|(name, value)| {
                let name = name
                    .strip_prefix("f[")
                    .and_then(|n| n.strip_suffix(']'))
                    .unwrap_or(&name)
                    .to_string();
                (name, value.into_owned())
            })
            .filter(|(name, _)| !name.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_looker_s_shape_and_its_filters() {
        let plan: ScheduledPlan = serde_json::from_value(serde_json::json!({
            "id": "17", "name": "Daily", "user_id": 42, "enabled": null, "look_id": "7",
            "dashboard_id": null, "lookml_dashboard_id": null, "query_id": null,
            "filters_string": "?f[orders.status]=complete&Region=EMEA+North",
            "scheduled_plan_destination": [
                {"type": "email", "address": "a@example.com"},
                {"type": "webhook", "address": "https://bot.example.com/slack/post/channel/sales", "format": "json_detail"}
            ]
        }))
        .unwrap();
        assert!(plan.is_enabled());
        assert_eq!(plan.user_id.as_ref().unwrap().as_str(), "42");
        assert_eq!(
            plan.webhook_addresses().collect::<Vec<_>>(),
            ["https://bot.example.com/slack/post/channel/sales"]
        );
        assert_eq!(
            plan.filters(),
            [
                ("orders.status".to_string(), "complete".to_string()),
                ("Region".to_string(), "EMEA North".to_string())
            ]
        );
    }
}
