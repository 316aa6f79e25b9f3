//! Which LookML models a Looker group may use (the model sets of its roles), for channels tied
//! to a group: asked as the API user (`GET /groups/search/with_roles`), remembered ten minutes.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::LookerClient;
use super::acting::Acting;
use super::error::LookerError;

const GROUP_TTL: Duration = Duration::from_secs(600);

/// The models a group may use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupModels {
    /// A role of the group has a model set with access to every model.
    pub all: bool,
    pub models: BTreeSet<String>,
}

impl GroupModels {
    pub fn allows(&self, model: &str) -> bool {
        self.all || self.models.contains(model)
    }
}

pub(super) type GroupCache = Mutex<HashMap<String, (Instant, GroupModels)>>;

#[derive(Deserialize)]
struct FoundGroup {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    roles: Vec<Role>,
}

#[derive(Deserialize)]
struct Role {
    #[serde(default)]
    model_set: Option<ModelSet>,
}

#[derive(Deserialize)]
struct ModelSet {
    #[serde(default)]
    all_access: bool,
    #[serde(default)]
    models: Vec<String>,
}

impl LookerClient {
    /// The models the group named `name` may use; none for a group Looker does not have.
    pub async fn group_models(&self, name: &str) -> Result<GroupModels, LookerError> {
        if let Some((at, models)) = self.groups.lock().await.get(name)
            && at.elapsed() < GROUP_TTL
        {
            return Ok(models.clone());
        }
        let what = "GET /groups/search/with_roles";
        let query = [("name", name), ("fields", "id,name,roles")];
        let response = self
            .send_once_relogging(
                Method::GET,
                "groups/search/with_roles",
                &query,
                None,
                what,
                &Acting::Api,
            )
            .await?;
        let found: Vec<FoundGroup> = response.json().await.map_err(|e| LookerError::Decode {
            what: what.into(),
            message: e.to_string(),
        })?;
        let mut models = GroupModels::default();
        let group = found.into_iter().find(|g| g.name.as_deref() == Some(name));
        if group.is_none() {
            tracing::warn!(looker = %self.settings.url, group = %name, "a channel is tied to a Looker group Looker does not have; nothing is posted there publicly");
        }
        for set in group.into_iter().flat_map(|g| g.roles).filter_map(|r| r.model_set) {
            models.all |= set.all_access;
            models.models.extend(set.models);
        }
        self.groups
            .lock()
            .await
            .insert(name.to_string(), (Instant::now(), models.clone()));
        Ok(models)
    }
}
