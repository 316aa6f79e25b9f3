//! Chart images in an S3 bucket (or an S3-compatible store): an unguessable key, linked with a
//! presigned URL that expires. Public-read objects only when the operator opts in.

use std::time::Duration;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ObjectCannedAcl;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use super::Image;
use crate::config::S3Settings;

#[derive(Debug, thiserror::Error)]
#[error("S3 bucket {bucket}: {message}")]
pub struct S3Error {
    pub bucket: String,
    pub message: String,
}

impl S3Error {
    /// The sentence a Slack user reads; the cause goes to the operator's log.
    pub fn user_message(&self) -> String {
        "The chart was drawn but could not be stored for Slack (the image bucket refused it). \
         An admin can find the cause in the bot's log."
            .into()
    }
}

pub struct S3Images {
    client: aws_sdk_s3::Client,
    bucket: String,
    public_read: bool,
    url_expiry: Duration,
}

fn describe(error: &dyn std::error::Error) -> String {
    crate::clients::looker::cause_chain(error)
}

impl S3Images {
    pub async fn new(settings: &S3Settings) -> Self {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let (Some(id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
            loader =
                loader.credentials_provider(Credentials::new(id, secret.expose(), None, None, "lookerbot settings"));
        }
        let shared = loader.load().await;
        let mut config = aws_sdk_s3::config::Builder::from(&shared).force_path_style(settings.force_path_style);
        if shared.region().is_none() {
            config = config.region(Region::new("us-east-1"));
        }
        if let Some(endpoint) = &settings.endpoint {
            config = config.endpoint_url(endpoint.as_str().trim_end_matches('/'));
        }
        Self {
            client: aws_sdk_s3::Client::from_conf(config.build()),
            bucket: settings.bucket.clone(),
            public_read: settings.public_read,
            url_expiry: settings.url_expiry,
        }
    }

    fn error(&self, message: String) -> S3Error {
        S3Error {
            bucket: self.bucket.clone(),
            message,
        }
    }

    /// Checks the bucket can be reached with these credentials, for `lookerbot check`.
    pub async fn check(&self) -> Result<(), S3Error> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| self.error(describe(&e)))?;
        Ok(())
    }

    /// Stores the image under a random key and returns the link Slack will show.
    pub async fn store(&self, image: &Image) -> Result<String, S3Error> {
        let key = format!("lookerbot/{}.{}", uuid::Uuid::new_v4(), image.extension);
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(image.content_type)
            .body(ByteStream::from(image.bytes.clone()));
        if self.public_read {
            put = put.acl(ObjectCannedAcl::PublicRead);
        }
        put.send().await.map_err(|e| self.error(describe(&e)))?;
        let presigning = PresigningConfig::expires_in(self.url_expiry).map_err(|e| self.error(describe(&e)))?;
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .presigned(presigning)
            .await
            .map_err(|e| self.error(describe(&e)))?;
        let url = presigned.uri().to_string();
        // A public object needs no signature: keep the plain address.
        Ok(if self.public_read {
            url.split('?').next().unwrap_or(&url).to_string()
        } else {
            url
        })
    }
}
