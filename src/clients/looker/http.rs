//! One Looker API call: the token header, one fresh login on a 401, Looker's error message, and
//! path segments encoded as path segments.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::LookerClient;
use super::acting::Acting;
use super::error::LookerError;
use crate::config::Secret;

/// What `encodeURIComponent` leaves alone, as Looker's own SDKs encode ids in paths: a space is
/// `%20` (never `+`), `/` and `:` are encoded.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// A value as one path segment.
pub(super) fn segment(value: &str) -> String {
    utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

/// Looker's error body: `{message, documentation_url}`.
#[derive(Debug, Deserialize, Default)]
struct ApiErrorBody {
    #[serde(default)]
    message: Option<String>,
}

impl LookerClient {
    pub(super) fn endpoint(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.settings.api_base_url.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    /// Sends one API call; on a 401 logs in again once and repeats it.
    pub(super) async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<reqwest::Response, LookerError> {
        let what = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let call = crate::metrics::looker_call(method.as_str(), path);
        let started = std::time::Instant::now();
        let query_run = path.contains("/run/") || (method == Method::POST && path.starts_with("render_tasks"));
        let looker = self.settings.url.host_str().unwrap_or("looker").to_string();
        let acting = self.acting().await?;
        // A query waits for a slot here, not in Looker's queue, holding nothing else.
        let _slot = match query_run {
            true => Some(self.query_slot(&looker, &acting).await),
            false => None,
        };
        if query_run {
            metrics::gauge!("lookerbot_looker_queries_in_flight", "looker" => looker.clone()).increment(1.0);
        }
        let answer = self
            .send_once_relogging(method, path, query, body, &what, &acting)
            .await;
        if query_run {
            metrics::gauge!("lookerbot_looker_queries_in_flight", "looker" => looker).decrement(1.0);
        }
        let status = match &answer {
            Ok(response) => response.status().as_u16().to_string(),
            Err(LookerError::Api { status, .. }) => status.to_string(),
            Err(_) => "network".to_string(),
        };
        metrics::counter!("lookerbot_looker_calls_total", "call" => call.clone(), "status" => status).increment(1);
        metrics::histogram!("lookerbot_looker_call_duration_seconds", "call" => call)
            .record(started.elapsed().as_secs_f64());
        answer
    }

    /// A slot in the query budget of the Looker user the call runs as; people first.
    async fn query_slot(&self, looker: &str, acting: &Acting) -> super::budget::QuerySlot {
        let user = match acting {
            Acting::Api => format!("api:{}", self.settings.client_id),
            Acting::Fallback => format!("fallback:{}", self.settings.client_id),
            Acting::User(id) | Acting::Linked { user: id, .. } => format!("user:{id}"),
        };
        let interactive = crate::scope::interactive();
        if let Some(slot) = self.queries.try_take(&user, interactive) {
            return slot;
        }
        let _waiting = crate::scope::waiting(|| {
            format!(
                "waiting for a query slot on {looker} ({} of the bot's queries run there now)",
                self.queries.running()
            )
        });
        self.queries.take(&user, interactive).await
    }

    /// [`Self::send`] without its measuring, as `acting`.
    pub(super) async fn send_once_relogging(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        what: &str,
        acting: &Acting,
    ) -> Result<reqwest::Response, LookerError> {
        let what = what.to_string();
        let mut refused: Option<Secret> = None;
        loop {
            let token = match acting {
                Acting::Api => self.token(refused.as_ref()).await?,
                Acting::Fallback => self.fallback_token(refused.as_ref()).await?,
                // Boxed: the sudo login is itself a call as the API user.
                Acting::User(id) => Box::pin(self.user_token(id, refused.as_ref())).await?,
                Acting::Linked { token, .. } => match &refused {
                    None => token.clone(),
                    Some(refused) => Box::pin(self.linked_again(refused)).await?,
                },
            };
            // Looker's own SDKs send OAuth tokens as bearer tokens.
            let scheme = if matches!(acting, Acting::Linked { .. }) {
                "Bearer"
            } else {
                "token"
            };
            let mut request = self
                .http
                .request(method.clone(), self.endpoint(path))
                .header(reqwest::header::AUTHORIZATION, format!("{scheme} {}", token.expose()))
                .query(query);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(|source| LookerError::Network {
                what: what.clone(),
                source,
            })?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && refused.is_none() {
                tracing::info!(looker = %self.settings.url, "Looker refused the token; logging in again");
                refused = Some(token);
                continue;
            }
            if !status.is_success() {
                let message = error_message(response).await;
                return Err(LookerError::Api {
                    status: status.as_u16(),
                    what,
                    message,
                    as_person: acting.as_person(),
                });
            }
            return Ok(response);
        }
    }

    pub(super) async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, LookerError> {
        let response = self.send(Method::GET, path, query, None).await?;
        decode(response, path).await
    }

    pub(super) async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<T, LookerError> {
        let response = self.send(Method::POST, path, query, body).await?;
        decode(response, path).await
    }

    /// The raw bytes of an answer; `None` while Looker answers 202 (not ready yet).
    pub(super) async fn get_bytes(&self, path: &str, query: &[(&str, &str)]) -> Result<Option<Vec<u8>>, LookerError> {
        let response = self.send(Method::GET, path, query, None).await?;
        if response.status() == StatusCode::ACCEPTED {
            return Ok(None);
        }
        let bytes = response.bytes().await.map_err(|source| LookerError::Network {
            what: path.to_string(),
            source,
        })?;
        Ok(Some(bytes.to_vec()))
    }
}

async fn decode<T: DeserializeOwned>(response: reqwest::Response, what: &str) -> Result<T, LookerError> {
    let bytes = response.bytes().await.map_err(|source| LookerError::Network {
        what: what.to_string(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| LookerError::Decode {
        what: what.to_string(),
        message: e.to_string(),
    })
}

/// Looker's `message`, or the status text when the body is not Looker's error shape.
pub(super) async fn error_message(response: reqwest::Response) -> String {
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    serde_json::from_slice::<ApiErrorBody>(&body)
        .ok()
        .and_then(|b| b.message)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_encoded_as_path_segments() {
        assert_eq!(segment("12"), "12");
        assert_eq!(segment("thelook::orders"), "thelook%3A%3Aorders");
        assert_eq!(segment("a b/c+d"), "a%20b%2Fc%2Bd");
    }
}
