//! Logging in to Looker: a form login, a token cached until shortly before it expires, and a
//! fresh login when Looker refuses the cached one.

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::LookerClient;
use super::error::LookerError;
use super::http::error_message;
use crate::clients::network::describe;
use crate::config::Secret;

/// `POST /login` (and `/login/{user_id}`) answer.
#[derive(Debug, Deserialize)]
pub(super) struct AccessToken {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
}

pub(super) struct CachedToken {
    pub(super) value: Secret,
    refresh_at: Instant,
}

impl From<AccessToken> for CachedToken {
    /// Kept until a little before it expires, so a call never starts with a token about to.
    fn from(token: AccessToken) -> Self {
        let lifetime = Duration::from_secs(token.expires_in.unwrap_or(3600).max(1) as u64);
        let margin = (lifetime / 10).min(Duration::from_secs(60));
        CachedToken {
            value: Secret::new(token.access_token),
            refresh_at: Instant::now() + lifetime - margin,
        }
    }
}

impl CachedToken {
    /// Not due, and not the one Looker just refused.
    pub(super) fn usable(&self, refused: Option<&Secret>) -> bool {
        Instant::now() < self.refresh_at && refused.is_none_or(|r| !r.same_as(&self.value))
    }
}

impl LookerClient {
    /// Logs in as the API user of the settings.
    async fn login(&self) -> Result<CachedToken, LookerError> {
        self.login_with(&self.settings.client_id, &self.settings.client_secret)
            .await
    }

    /// A valid token of the fallback API user (`*_or_shared`), cached like the bot's own.
    pub(super) async fn fallback_token(&self, refused: Option<&Secret>) -> Result<Secret, LookerError> {
        let Some(fallback) = &self.settings.fallback else {
            return Err(LookerError::NoLookerUser {
                looker: self.settings.host(),
            });
        };
        let mut cached = self.fallback.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| t.usable(refused)) {
            return Ok(token.value.clone());
        }
        let fresh = self.login_with(&fallback.client_id, &fallback.client_secret).await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    /// Logs in (form-encoded, as Looker documents) and returns the new token.
    async fn login_with(&self, client_id: &str, client_secret: &Secret) -> Result<CachedToken, LookerError> {
        let looker = self.settings.url.to_string();
        let failed = |status: Option<u16>, message: String| LookerError::Login {
            looker: looker.clone(),
            status,
            message,
        };
        let response = self
            .http
            .post(self.endpoint("login"))
            .form(&[("client_id", client_id), ("client_secret", client_secret.expose())])
            .send()
            .await
            .map_err(|e| failed(None, describe(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(failed(Some(status.as_u16()), error_message(response).await));
        }
        let token: AccessToken = response
            .json()
            .await
            .map_err(|e| failed(Some(status.as_u16()), e.to_string()))?;
        tracing::debug!(looker = %self.settings.url, expires_in = ?token.expires_in, "logged in to Looker");
        Ok(CachedToken::from(token))
    }

    /// A valid token: the cached one, or a fresh login when it is missing, due or was just refused.
    pub(super) async fn token(&self, refused: Option<&Secret>) -> Result<Secret, LookerError> {
        let mut cached = self.token.lock().await;
        let usable = cached.as_ref().filter(|t| t.usable(refused));
        if let Some(token) = usable {
            return Ok(token.value.clone());
        }
        let fresh = self.login().await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    /// Checks the credentials by logging in, for `lookerbot check`.
    pub async fn verify_login(&self) -> Result<(), LookerError> {
        self.token(None).await.map(|_| ())
    }
}
