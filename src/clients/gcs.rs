//! Chart images in a Google Cloud Storage bucket, as Lookerbot kept them (`GOOGLE_CLOUD_BUCKET`,
//! `GOOGLE_CLOUD_PROJECT`, `GOOGLE_CLOUD_CREDENTIALS_JSON`): an unguessable name in a private
//! bucket, linked with a V4 signed URL that expires. With a service account's key the link is
//! signed locally; with the machine's own credentials (Compute Engine, GKE) Google's IAM signs it.
//! Spoken through `gcloud-storage`, whose JSON API uploads also work against the emulator the
//! tests start (`object_store`'s XML API uploads do not).

use std::time::Duration;

use gcloud_auth::credentials::CredentialsFile;
use gcloud_storage::client::{Client, ClientConfig};
use gcloud_storage::http::objects::list::ListObjectsRequest;
use gcloud_storage::http::objects::upload::{Media, UploadObjectRequest, UploadType};
use gcloud_storage::sign::{SignedURLMethod, SignedURLOptions};

use super::looker::Image;
use crate::config::GcsSettings;

#[derive(Debug, thiserror::Error)]
#[error("Google Cloud Storage bucket {bucket}: {message}")]
pub struct GcsError {
    pub bucket: String,
    pub message: String,
}

pub struct GcsImages {
    client: Client,
    bucket: String,
    url_expiry: Duration,
}

impl GcsImages {
    pub async fn new(settings: &GcsSettings) -> Result<Self, GcsError> {
        // Google's client builds its TLS from the process's default provider: the same ring
        // every other client of the bot uses (a second call changes nothing).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let error = |message: String| GcsError {
            bucket: settings.bucket.clone(),
            message,
        };
        let config = match &settings.credentials_json {
            Some(json) => {
                let key = CredentialsFile::new_from_str(json.expose())
                    .await
                    .map_err(|e| error(format!("GOOGLE_CLOUD_CREDENTIALS_JSON could not be read: {e}")))?;
                ClientConfig::default().with_credentials(key).await
            }
            None => ClientConfig::default().with_auth().await,
        };
        let mut config = config.map_err(|e| error(format!("no Google credentials: {e}")))?;
        if let Some(endpoint) = &settings.endpoint {
            config.storage_endpoint = endpoint.as_str().trim_end_matches('/').to_string();
        }
        if settings.project.is_some() {
            config.project_id.clone_from(&settings.project);
        }
        Ok(Self {
            client: Client::new(config),
            bucket: settings.bucket.clone(),
            url_expiry: settings.url_expiry,
        })
    }

    fn error(&self, error: impl std::fmt::Display) -> GcsError {
        GcsError {
            bucket: self.bucket.clone(),
            message: error.to_string(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Checks the bucket can be listed with these credentials, for `lookerbot check`.
    pub async fn check(&self) -> Result<(), GcsError> {
        let request = ListObjectsRequest {
            bucket: self.bucket.clone(),
            prefix: Some("lookerbot/".into()),
            max_results: Some(1),
            ..Default::default()
        };
        self.client.list_objects(&request).await.map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Stores the image under a random name and returns a read-only link that expires.
    pub async fn store(&self, image: &Image) -> Result<url::Url, GcsError> {
        let name = format!("lookerbot/{}.{}", uuid::Uuid::new_v4(), image.extension);
        let mut media = Media::new(name.clone());
        media.content_type = image.content_type.into();
        let request = UploadObjectRequest {
            bucket: self.bucket.clone(),
            ..Default::default()
        };
        self.client
            .upload_object(&request, image.bytes.to_vec(), &UploadType::Simple(media))
            .await
            .map_err(|e| self.error(e))?;
        let options = SignedURLOptions {
            method: SignedURLMethod::GET,
            expires: self.url_expiry,
            ..Default::default()
        };
        let link = self
            .client
            .signed_url(&self.bucket, &name, None, None, options)
            .await
            .map_err(|e| self.error(e))?;
        url::Url::parse(&link).map_err(|e| self.error(format!("unusable link: {e}")))
    }
}
