//! Dashboard filters: the values asked for (by filter name or title, in any letter case) matched
//! to the dashboard's filters, defaults for the rest, a sentence for names the dashboard does not
//! have, and each tile's query changed to listen to them (`result_maker.filterables[].listen`).

use std::collections::BTreeMap;

use super::errors::UserError;
use crate::domain::looker::models::{Dashboard, DashboardFilter, Filterable, Query};
use crate::render::mrkdwn::escape;

fn matches(filter: &DashboardFilter, key: &str) -> bool {
    key.eq_ignore_ascii_case(&filter.name) || filter.title.as_deref().is_some_and(|t| key.eq_ignore_ascii_case(t))
}

/// The value of every dashboard filter: the one asked for, else the filter's default.
pub fn effective_filters(filters: &[DashboardFilter], requested: &[(String, String)]) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for filter in filters {
        let asked = requested.iter().find(|(key, _)| matches(filter, key));
        let value = asked
            .map(|(_, v)| v.clone())
            .or_else(|| filter.default_value.clone().filter(|v| !v.is_empty()));
        if let Some(value) = value {
            values.insert(filter.name.clone(), value);
        }
    }
    values
}

/// Refuses filter names the dashboard does not have, listing the ones it does.
pub fn check_names(dashboard: &Dashboard, title: &str, requested: &[(String, String)]) -> Result<(), UserError> {
    let unknown: Vec<String> = requested
        .iter()
        .filter(|(key, _)| !dashboard.dashboard_filters.iter().any(|f| matches(f, key)))
        .map(|(key, _)| format!("“{}”", escape(key)))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let known: Vec<String> = dashboard
        .dashboard_filters
        .iter()
        .map(|f| match f.title.as_deref().filter(|t| !t.trim().is_empty()) {
            Some(title) if title.eq_ignore_ascii_case(&f.name) => escape(title),
            Some(title) => format!("{} (`{}`)", escape(title), escape(&f.name)),
            None => format!("`{}`", escape(&f.name)),
        })
        .collect();
    let choices = match known.split_last() {
        None => "It has no filters.".to_string(),
        Some((only, [])) => format!("Its only filter is {only}."),
        Some((last, rest)) => format!("Its filters are {} and {last}.", rest.join(", ")),
    };
    Err(UserError::UnknownFilters {
        dashboard: format!("“{}”", escape(title)),
        asked: unknown.join(" or "),
        choices,
    })
}

/// The query with the dashboard's filter values applied to the fields that listen to them;
/// `None` when nothing changes.
pub fn filtered_query(query: &Query, filterables: &[Filterable], values: &BTreeMap<String, String>) -> Option<Query> {
    let mut changed = query.clone();
    let mut any = false;
    for listen in filterables.iter().flat_map(|f| f.listen.iter().flatten()) {
        let (Some(name), Some(field)) = (&listen.dashboard_filter_name, &listen.field) else {
            continue;
        };
        let Some(value) = values.get(name) else { continue };
        let filters = changed.filters.get_or_insert_with(Default::default);
        if filters.get(field).and_then(|v| v.as_deref()) != Some(value.as_str()) {
            filters.insert(field.clone(), Some(value.clone()));
            any = true;
        }
    }
    any.then_some(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requested_filters_win_and_defaults_fill_the_rest() {
        let filters: Vec<DashboardFilter> = serde_json::from_value(json!([
            {"name": "status", "title": "Order Status", "default_value": "complete"},
            {"name": "date", "title": "Date", "default_value": "7 days"},
            {"name": "region", "title": "Region", "default_value": ""}
        ]))
        .unwrap();
        let values = effective_filters(&filters, &[("order status".into(), "pending".into())]);
        assert_eq!(values.get("status").map(String::as_str), Some("pending"));
        assert_eq!(values.get("date").map(String::as_str), Some("7 days"));
        assert!(!values.contains_key("region"));
    }

    #[test]
    fn unknown_names_are_answered_with_the_real_ones() {
        let dashboard: Dashboard = serde_json::from_value(json!({"dashboard_filters": [
            {"name": "status", "title": "Order Status"}, {"name": "date", "title": "Date"}]}))
        .unwrap();
        assert!(check_names(&dashboard, "Sales", &[("DATE".into(), "x".into())]).is_ok());
        let refused = check_names(&dashboard, "Sales", &[("regoin".into(), "west".into())]).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "“Sales” has no filter called “regoin”. Its filters are Order Status (`status`) and Date."
        );
        let bare = Dashboard::default();
        assert_eq!(
            check_names(&bare, "Notes", &[("a".into(), "1".into())])
                .unwrap_err()
                .to_string(),
            "“Notes” has no filter called “a”. It has no filters."
        );
    }

    #[test]
    fn filters_reach_the_fields_that_listen() {
        let query: Query = serde_json::from_value(json!({"id": "1", "model": "m", "view": "orders",
            "filters": {"orders.status": "complete"}}))
        .unwrap();
        let filterables: Vec<Filterable> = serde_json::from_value(json!([
            {"model": "m", "view": "orders", "listen": [{"dashboard_filter_name": "status", "field": "orders.status"}]}
        ]))
        .unwrap();
        let mut values = BTreeMap::new();
        values.insert("status".to_string(), "pending".to_string());
        let changed = filtered_query(&query, &filterables, &values).unwrap();
        assert_eq!(changed.filters.unwrap()["orders.status"].as_deref(), Some("pending"));
        values.insert("status".to_string(), "complete".to_string());
        assert!(
            filtered_query(&query, &filterables, &values).is_none(),
            "no new query when nothing changes"
        );
    }
}
