//! Every connected Looker's client, found through the domain's [`Registry`].

use std::sync::Arc;
use std::time::Duration;

use super::{LookerClient, http_client};
use crate::config::{LookerSettings, LookerTls};
use crate::domain::looker::{LookerChoice, LookerKey, Registry, UnknownLooker};

/// The clients of every configured Looker, by key.
#[derive(Debug, Clone)]
pub struct Lookers {
    registry: Registry,
    clients: Vec<(LookerKey, Arc<LookerClient>)>,
}

impl Lookers {
    pub fn new(settings: &[LookerSettings], tls: &LookerTls, timeout: Duration) -> anyhow::Result<Self> {
        let http = http_client(tls, timeout)?;
        let registry = Registry::new(settings);
        let clients = registry
            .all()
            .map(|(key, settings)| (key.clone(), Arc::new(LookerClient::new(settings.clone(), http.clone()))))
            .collect();
        Ok(Self { registry, clients })
    }

    /// Which Looker is which.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Every client, in the order the settings list them, with its key.
    pub fn all(&self) -> impl Iterator<Item = (&LookerKey, &LookerClient)> {
        self.clients.iter().map(|(key, client)| (key, client.as_ref()))
    }

    pub fn get(&self, key: &LookerKey) -> Option<&LookerClient> {
        self.clients.iter().find(|(k, _)| k == key).map(|(_, c)| c.as_ref())
    }

    /// The client a request means.
    pub fn choose(&self, choice: &LookerChoice) -> Result<(LookerKey, &LookerClient), UnknownLooker> {
        let key = self.registry.choose(choice)?;
        let client = self.get(&key).expect("every registered Looker has a client");
        Ok((key, client))
    }

    /// The key of a client this registry holds.
    pub fn key_of(&self, client: &LookerClient) -> Option<LookerKey> {
        self.clients
            .iter()
            .find(|(_, c)| std::ptr::eq(c.as_ref(), client))
            .map(|(key, _)| key.clone())
    }
}
