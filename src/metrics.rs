//! Prometheus metrics, recorded where things happen (routes, jobs, Slack and Looker calls) with
//! the `metrics` facade and rendered by `GET /metrics`. Nothing is recorded until
//! [`install`] runs (only when an operator turns `/metrics` on), and no label ever carries a
//! token, a channel or a user: routes are route templates, Looker calls have their ids replaced.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds, from a sub-millisecond ack to a five-minute job.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder once per process (several apps in one test process share it).
pub fn install() {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().set_buckets(BUCKETS).ok()?.install_recorder();
        match recorder {
            Ok(handle) => {
                describe();
                Some(handle)
            }
            Err(error) => {
                tracing::warn!(%error, "metrics could not be turned on");
                None
            }
        }
    });
}

/// `# HELP` for every metric, so that promtool's lint and a reader of `/metrics` know each one.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "lookerbot_http_requests_total",
        "HTTP requests answered, by route template and status"
    );
    describe_histogram!(
        "lookerbot_http_request_duration_seconds",
        "Time to answer an HTTP request (the ack), by route template"
    );
    describe_counter!(
        "lookerbot_job_runs_total",
        "Job attempts, by kind and outcome (done, retrying, deferred, dead)"
    );
    describe_histogram!(
        "lookerbot_job_run_duration_seconds",
        "Time one job attempt ran, by kind"
    );
    describe_histogram!(
        "lookerbot_job_latency_seconds",
        "Time from a job's recording to its completion, by kind"
    );
    describe_counter!(
        "lookerbot_looker_calls_total",
        "Looker API calls, by call (ids replaced) and status"
    );
    describe_histogram!(
        "lookerbot_looker_call_duration_seconds",
        "Time a Looker API call took, by call"
    );
    describe_gauge!(
        "lookerbot_looker_queries_in_flight",
        "Queries running on each Looker now"
    );
    describe_counter!(
        "lookerbot_slack_calls_total",
        "Slack Web API calls, by method and result"
    );
    describe_histogram!(
        "lookerbot_slack_call_duration_seconds",
        "Time a Slack Web API call took, by method"
    );
    describe_counter!("lookerbot_slack_rate_limited_total", "Slack answers of 429, by method");
    describe_gauge!(
        "lookerbot_jobs",
        "Jobs in the store, by kind and state (queued, running, dead); 0 for a kind with none"
    );
    describe_gauge!(
        "lookerbot_store_up",
        "1 when the job store answered this scrape, else 0"
    );
}

/// Whether metrics are being recorded (an operator turned `/metrics` on).
pub fn enabled() -> bool {
    matches!(HANDLE.get(), Some(Some(_)))
}

/// A gauge known only at scrape time: its name, its labels and its value.
pub type Gauge = (&'static str, Vec<(&'static str, String)>, f64);

/// The metrics in Prometheus' text format, after setting `gauges` (values known only at scrape
/// time, such as the jobs in the store).
pub fn render(gauges: &[Gauge]) -> Option<String> {
    let handle = HANDLE.get()?.as_ref()?;
    for (name, labels, value) in gauges {
        let labels: Vec<metrics::Label> = labels.iter().map(|(k, v)| metrics::Label::new(*k, v.clone())).collect();
        metrics::gauge!(*name, labels).set(*value);
    }
    handle.run_upkeep();
    Some(handle.render())
}

/// A Looker API path as a label: every segment with a digit (ids, slugs) becomes `{id}`, so a
/// label names the call, not the content (`GET queries/{id}/run/json_detail`).
pub fn looker_call(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .map(|segment| {
            if segment.chars().any(|c| c.is_ascii_digit()) || segment.contains("::") {
                "{id}"
            } else {
                segment
            }
        })
        .collect();
    format!("{method} {}", segments.join("/"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn looker_calls_are_named_without_their_ids() {
        assert_eq!(
            super::looker_call("GET", "queries/8731/run/json_detail?x=1"),
            "GET queries/{id}/run/json_detail"
        );
        assert_eq!(
            super::looker_call("GET", "/dashboards/model::name"),
            "GET dashboards/{id}"
        );
        assert_eq!(super::looker_call("POST", "login"), "POST login");
    }
}
