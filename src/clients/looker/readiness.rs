//! Whether a Looker is ready for the identity mode its settings name, for `lookerbot check`:
//! `sudo` needs an API user that may log in as others (`POST /login/{user_id}`, admins only);
//! `oauth` needs the bot registered as an OAuth client app with the bot's callback address.

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::LookerClient;
use super::acting::Acting;
use super::error::LookerError;
use crate::config::Identity;

#[derive(Deserialize)]
struct Me {
    id: Value,
}

#[derive(Deserialize)]
struct ClientApp {
    #[serde(default)]
    redirect_uri: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
}

impl LookerClient {
    /// What is ready (`Ok`) or missing (`Err`), in a sentence; `None` for the shared identity.
    pub async fn identity_readiness(&self, redirect_uri: Option<&str>) -> Option<Result<String, String>> {
        match self.settings.identity {
            Identity::Shared => None,
            Identity::Sudo | Identity::SudoOrShared => Some(self.sudo_readiness().await),
            Identity::Oauth | Identity::OauthOrShared => Some(self.oauth_readiness(redirect_uri).await),
        }
    }

    async fn sudo_readiness(&self) -> Result<String, String> {
        let me: Me = self
            .get_as_api("user", &[("fields", "id")], "GET /user")
            .await
            .map_err(|e| e.to_string())?;
        let id = match me.id {
            Value::String(s) => s,
            other => other.to_string(),
        };
        // Logging in as itself proves the API user may log in as anyone.
        match self.user_token(&id, None).await {
            Ok(_) => Ok("identity sudo: the API user may answer people as their own Looker users".into()),
            Err(error) if matches!(error.status(), Some(401 | 403 | 404)) => Err(format!(
                "identity sudo: the API user may not log in as other users ({error}); give it the Admin role, or use LOOKERBOT_IDENTITY=oauth"
            )),
            Err(error) => Err(format!("identity sudo: {error}")),
        }
    }

    async fn oauth_readiness(&self, redirect_uri: Option<&str>) -> Result<String, String> {
        let Some(guid) = self.oauth_client_id() else {
            return Err("identity oauth: no LOOKER_OAUTH_CLIENT_ID".into());
        };
        let path = format!("oauth_client_apps/{}", super::http::segment(guid));
        let app: ClientApp = match self
            .get_as_api(&path, &[], "GET /oauth_client_apps/{client_guid}")
            .await
        {
            Ok(app) => app,
            Err(error) if error.status() == Some(404) => {
                return Err(format!(
                    "identity oauth: Looker has no OAuth client app {guid}; register it (POST /api/4.0/oauth_client_apps/{guid}) with redirect_uri {}",
                    redirect_uri.unwrap_or("PUBLIC_URL/looker/oauth/callback")
                ));
            }
            Err(error) => return Err(format!("identity oauth: {error}")),
        };
        if app.enabled == Some(false) {
            return Err(format!(
                "identity oauth: the OAuth client app {guid} is disabled in Looker"
            ));
        }
        match (redirect_uri, app.redirect_uri.as_deref()) {
            (Some(ours), Some(theirs)) if ours != theirs => Err(format!(
                "identity oauth: Looker sends people back to {theirs}, but the bot listens at {ours}; update the app's redirect_uri"
            )),
            _ => Ok(format!(
                "identity oauth: registered in Looker as OAuth client app {guid}"
            )),
        }
    }

    async fn get_as_api<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        what: &str,
    ) -> Result<T, LookerError> {
        let response = self
            .send_once_relogging(Method::GET, path, query, None, what, &Acting::Api)
            .await?;
        response.json().await.map_err(|e| LookerError::Decode {
            what: what.into(),
            message: e.to_string(),
        })
    }
}
