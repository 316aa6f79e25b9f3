//! Chart images in an Azure Blob Storage container, as Lookerbot kept them
//! (`AZURE_STORAGE_ACCOUNT`, `SLACKBOT_AZURE_CONTAINER`, `AZURE_STORAGE_ACCESS_KEY`): an
//! unguessable name in a private container, linked with a read-only SAS that expires. Spoken
//! through `object_store` (Apache Arrow's object store client, also behind DataFusion and
//! delta-rs), which signs with the account key and follows Azure's retry advice.

use std::time::Duration;

use object_store::azure::{MicrosoftAzure, MicrosoftAzureBuilder};
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{Attribute, Attributes, ObjectStore, PutOptions, PutPayload};

use super::looker::Image;
use crate::config::AzureSettings;

#[derive(Debug, thiserror::Error)]
#[error("Azure container {container}: {message}")]
pub struct AzureError {
    pub container: String,
    pub message: String,
}

impl AzureError {
    fn new(container: &str, error: object_store::Error) -> Self {
        AzureError {
            container: container.to_string(),
            message: super::cause_chain(&error),
        }
    }
}

pub struct AzureImages {
    store: MicrosoftAzure,
    container: String,
    url_expiry: Duration,
}

impl AzureImages {
    pub fn new(settings: &AzureSettings) -> Result<Self, AzureError> {
        let mut builder = MicrosoftAzureBuilder::new()
            .with_account(&settings.account)
            .with_access_key(settings.access_key.expose())
            .with_container_name(&settings.container);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder
                .with_endpoint(endpoint.as_str().trim_end_matches('/').to_string())
                .with_allow_http(endpoint.scheme() == "http");
        }
        let store = builder.build().map_err(|e| AzureError::new(&settings.container, e))?;
        Ok(Self {
            store,
            container: settings.container.clone(),
            url_expiry: settings.url_expiry,
        })
    }

    pub fn container(&self) -> &str {
        &self.container
    }

    /// Checks the container can be listed with this key, for `lookerbot check`.
    pub async fn check(&self) -> Result<(), AzureError> {
        let prefix = Path::from("lookerbot");
        self.store
            .list_with_delimiter(Some(&prefix))
            .await
            .map_err(|e| AzureError::new(&self.container, e))?;
        Ok(())
    }

    /// Stores the image under a random name and returns a read-only link that expires.
    pub async fn store(&self, image: &Image) -> Result<url::Url, AzureError> {
        let path = Path::from(format!("lookerbot/{}.{}", uuid::Uuid::new_v4(), image.extension));
        let attributes = Attributes::from_iter([(Attribute::ContentType, image.content_type.to_string())]);
        let options = PutOptions {
            attributes,
            ..Default::default()
        };
        let payload = PutPayload::from(image.bytes.clone());
        self.store
            .put_opts(&path, payload, options)
            .await
            .map_err(|e| AzureError::new(&self.container, e))?;
        self.store
            .signed_url(http::Method::GET, &path, self.url_expiry)
            .await
            .map_err(|e| AzureError::new(&self.container, e))
    }
}
