//! Looker's scheduled plans in the fake: `GET /scheduled_plans/{id}` in the shape of
//! `Looker.4.0.oas.json`'s `ScheduledPlan`, seen by the API user (an admin) and the plan's owner
//! only, 404 otherwise, as Looker answers.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::fake_looker::{FakeLooker, LookerState, admit, looker_error};

pub(crate) fn routes() -> Router<Arc<Mutex<LookerState>>> {
    Router::new().route("/api/4.0/scheduled_plans/{id}", get(plan))
}

async fn plan(State(state): State<Arc<Mutex<LookerState>>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("scheduled_plans/{id}");
    let caller = match admit(&state, &headers, format!("GET /scheduled_plans/{id}"), &path) {
        Ok(caller) => caller,
        Err(denied) => return denied,
    };
    let s = state.lock().unwrap();
    match s.plans.get(&id) {
        Some(plan) if caller == "api" || plan["user_id"].as_str() == Some(caller.as_str()) => {
            axum::Json(plan.clone()).into_response()
        }
        _ => looker_error(StatusCode::NOT_FOUND, "Not found"),
    }
}

/// A plan as Looker keeps it: `content` sets `look_id`, `dashboard_id`, `query_id`,
/// `filters_string`...; one webhook destination at `address`.
pub fn scheduled_plan(id: &str, owner: &str, address: &str, content: Value) -> Value {
    let mut plan = json!({
        "id": id, "name": format!("Plan {id}"), "title": null, "user_id": owner, "run_as_recipient": false,
        "enabled": true, "look_id": null, "dashboard_id": null, "lookml_dashboard_id": null,
        "filters_string": null, "require_results": false, "require_no_results": false,
        "require_change": false, "send_all_results": false, "crontab": "0 6 * * *", "datagroup": null,
        "timezone": "America/Los_Angeles", "query_id": null, "run_once": false, "include_links": true,
        "scheduled_plan_destination": [{
            "id": format!("{id}01"), "scheduled_plan_id": id, "format": "json_detail",
            "apply_formatting": true, "apply_vis": true, "address": address, "looker_recipient": false,
            "type": "webhook", "parameters": null, "secret_parameters": null, "message": null
        }],
        "created_at": "2026-11-02T09:00:00.000+00:00", "updated_at": "2026-11-02T09:00:00.000+00:00",
        "next_run_at": "2026-12-08T14:00:00.000+00:00", "last_run_at": null,
        "can": {"show": true, "update": true, "destroy": true, "run_once": true}
    });
    if let (Some(plan), Some(content)) = (plan.as_object_mut(), content.as_object()) {
        for (key, value) in content {
            plan.insert(key.clone(), value.clone());
        }
    }
    plan
}

impl FakeLooker {
    /// Keeps a scheduled plan (replacing one with its id).
    pub fn add_plan(&self, plan: Value) {
        let id = plan["id"].as_str().expect("a plan id").to_string();
        self.state.lock().unwrap().plans.insert(id, plan);
    }

    pub fn has_plan(&self, id: &str) -> bool {
        self.state.lock().unwrap().plans.contains_key(id)
    }

    /// Changes a kept plan (`enabled`, `scheduled_plan_destination`...).
    pub fn change_plan(&self, id: &str, change: Value) {
        let mut s = self.state.lock().unwrap();
        let plan = s.plans.get_mut(id).expect("the plan exists");
        for (key, value) in change.as_object().unwrap() {
            plan[key] = value.clone();
        }
    }
}

impl FakeLooker {
    /// What Looker holds behind a webhook body it sends to `address`: the plan, made once from
    /// the body (its Look, the query of a filtered schedule, or its dashboard and filters), owned
    /// by Looker user 1, with a webhook destination at each address it was sent to. Looker sends
    /// a schedule's webhook only for a plan it keeps, to the plan's own destinations.
    pub fn plan_behind(&self, address: &str, body: &Value) {
        let plan = &body["scheduled_plan"];
        let Some(id) = plan["scheduled_plan_id"]
            .as_i64()
            .map(|n| n.to_string())
            .or_else(|| plan["scheduled_plan_id"].as_str().map(str::to_string))
        else {
            return;
        };
        if self.has_plan(&id) {
            // The same plan sent to several webhooks: one destination each.
            let mut s = self.state.lock().unwrap();
            let destinations = s.plans.get_mut(&id).unwrap()["scheduled_plan_destination"]
                .as_array_mut()
                .unwrap();
            if !destinations.iter().any(|d| d["address"] == address) {
                destinations.push(
                    json!({"id": format!("{id}0{}", destinations.len() + 1), "scheduled_plan_id": id,
                    "format": "json_detail", "type": "webhook", "address": address}),
                );
            }
            return;
        }
        let url = plan["url"].as_str().unwrap_or("");
        let path = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or("");
        let (path, filters) = path.split_once('?').map(|(p, f)| (p, Some(f))).unwrap_or((path, None));
        let mut content = json!({"title": plan["title"]});
        if let Some(look) = path.strip_prefix("/looks/") {
            let saved = self
                .state
                .lock()
                .unwrap()
                .looks
                .get(look)
                .map(|l| l["query_id"].clone());
            content["look_id"] = json!(look);
            content["filters_string"] = json!(filters.map(|f| format!("?{f}")));
            if !plan["query_id"].is_null() && saved.is_some_and(|q| q != plan["query_id"]) {
                content["query_id"] = plan["query_id"].clone();
            }
        } else if let Some(dashboard) = path.strip_prefix("/dashboards/") {
            content["dashboard_id"] = json!(dashboard);
            content["filters_string"] = json!(filters.map(|f| format!("?{f}")));
        } else if !plan["query_id"].is_null() {
            content["query_id"] = plan["query_id"].clone();
        }
        self.add_plan(scheduled_plan(&id, "1", address, content));
    }
}
