//! Braze's REST API, the one call an export needs: `POST <endpoint>/users/track` with at most 75
//! attribute objects and the API key as a bearer token (never logged, never in an error). Its
//! answers are typed: a rate limit with when to come back (`X-RateLimit-Reset`, `Retry-After`),
//! Braze's own trouble (5xx, a network failure) worth another try, and a refusal (4xx) with
//! Braze's message. TLS trusts the operating system's certificates (and `SSL_CERT_FILE`) as well
//! as the built-in roots, so a TLS-inspecting corporate proxy works.

use std::time::Duration;

use serde_json::{Value, json};
use url::Url;

use crate::config::Secret;

/// Braze takes at most this many attribute objects in one `users/track` request.
pub const MAX_OBJECTS: usize = 75;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrazeError {
    #[error("Braze is rate-limiting; next try in {}s", wait.as_secs())]
    RateLimited { wait: Duration },
    #[error("Braze is unavailable ({reason})")]
    Unavailable { reason: String },
    #[error("Braze refused the batch (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
}

impl BrazeError {
    /// The key is wrong or lacks `users.track`: every later batch would be refused too.
    pub fn is_key_refused(&self) -> bool {
        matches!(self, BrazeError::Refused { status: 401 | 403, .. })
    }
}

/// What Braze said about an accepted batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracked {
    pub processed: Option<u64>,
    /// Objects Braze reported as not applied, with its reasons.
    pub errors: Vec<String>,
}

pub struct BrazeClient {
    http: reqwest::Client,
}

impl BrazeClient {
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_native_certs(true)
            .tls_built_in_webpki_certs(true)
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10).min(timeout))
            .user_agent(concat!("lookerbot/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { http })
    }

    pub async fn track(&self, endpoint: &Url, key: &Secret, attributes: &[Value]) -> Result<Tracked, BrazeError> {
        let mut url = endpoint.clone();
        url.set_fragment(None);
        url.set_query(None);
        let path = format!("{}/users/track", url.path().trim_end_matches('/'));
        url.set_path(&path);
        let answer = self
            .http
            .post(url)
            .bearer_auth(key.expose())
            .json(&json!({ "attributes": attributes }))
            .send()
            .await
            .map_err(|e| BrazeError::Unavailable {
                reason: crate::clients::cause_chain(&e.without_url()),
            })?;
        let status = answer.status().as_u16();
        let wait = rate_limit_wait(answer.headers());
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        let message = || {
            body.get("message")
                .and_then(Value::as_str)
                .map(|m| crate::telemetry::printable(m).chars().take(300).collect())
                .unwrap_or_else(|| format!("HTTP {status}"))
        };
        match status {
            200..=299 => Ok(Tracked {
                processed: body.get("attributes_processed").and_then(Value::as_u64),
                errors: body
                    .get("errors")
                    .and_then(Value::as_array)
                    .map(|errors| errors.iter().map(error_text).collect())
                    .unwrap_or_default(),
            }),
            429 => Err(BrazeError::RateLimited {
                wait: wait.unwrap_or(Duration::from_secs(1)),
            }),
            500..=599 => Err(BrazeError::Unavailable {
                reason: format!("HTTP {status}: {}", message()),
            }),
            _ => Err(BrazeError::Refused {
                status,
                message: message(),
            }),
        }
    }
}

fn error_text(error: &Value) -> String {
    let text = match error {
        Value::String(s) => s.clone(),
        other => other
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| other.to_string()),
    };
    crate::telemetry::printable(&text).chars().take(200).collect()
}

/// How long Braze asks to wait: `Retry-After` seconds, else until `X-RateLimit-Reset` (unix
/// seconds), at most an hour.
fn rate_limit_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok();
    let wait = match (number("retry-after"), number("x-ratelimit-reset")) {
        (Some(secs), _) if secs >= 0.0 => secs,
        (_, Some(reset)) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            (reset - now).max(0.0)
        }
        _ => return None,
    };
    Some(Duration::from_secs_f64(wait.min(3600.0)).max(Duration::from_millis(100)))
}

/// Braze's REST endpoint from the integration's setting: trimmed, without a trailing `/`, an
/// `https://` address on a `braze.com` or `braze.eu` host (`https://rest.iad-01.braze.com`), or
/// exactly one of the endpoints an operator allowed besides (a proxy).
pub fn endpoint(setting: &str, also_allowed: &[Url]) -> Result<Url, String> {
    let trimmed = setting.trim().trim_end_matches('/');
    let refused = || {
        format!(
            "The Braze REST endpoint must be an https:// address on braze.com or braze.eu, such as https://rest.iad-01.braze.com (got {:?}).",
            crate::telemetry::printable(trimmed)
                .chars()
                .take(100)
                .collect::<String>()
        )
    };
    let url = Url::parse(trimmed).map_err(|_| refused())?;
    if also_allowed
        .iter()
        .any(|allowed| allowed.as_str().trim_end_matches('/') == url.as_str().trim_end_matches('/'))
    {
        return Ok(url);
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let braze_host = [".braze.com", ".braze.eu"]
        .iter()
        .any(|suffix| host.len() > suffix.len() && host.ends_with(suffix));
    let bare = matches!(url.path(), "" | "/")
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if url.scheme() == "https" && braze_host && bare && url.port().is_none() {
        Ok(url)
    } else {
        Err(refused())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_braze_s_own_hosts_are_endpoints() {
        for good in [
            "https://rest.iad-01.braze.com",
            " https://rest.iad-01.braze.com/ ",
            "https://rest.fra-01.braze.eu",
            "HTTPS://REST.BRAZE.EU",
        ] {
            assert!(endpoint(good, &[]).is_ok(), "{good}");
        }
        for bad in [
            "rest.braze.com",
            "http://rest.braze.com",
            "https://rest.notbraze.com",
            "https://evil.com/x.braze.com",
            "https://braze.com.evil.com",
            "https://user:pw@rest.braze.com",
            "https://rest.braze.com/users/track",
            "https://rest.iad-01.braze.com#x",
            "https://.braze.com",
            "",
        ] {
            assert!(endpoint(bad, &[]).is_err(), "{bad}");
        }
        let proxy = Url::parse("http://127.0.0.1:9000").unwrap();
        assert!(endpoint("http://127.0.0.1:9000/", std::slice::from_ref(&proxy)).is_ok());
        assert!(endpoint("http://127.0.0.1:9001", &[proxy]).is_err());
    }
}
