//! Chart images in an S3 bucket (or an S3-compatible store): an unguessable key, linked with a
//! presigned URL that expires. Public-read objects only when the operator opts in. Everything the
//! client needs (region, endpoint, credentials) comes from the settings, not from the process
//! environment.

use std::time::Duration;

use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::provider_config::ProviderConfig;
use aws_config::web_identity_token::{StaticConfiguration, WebIdentityTokenCredentialsProvider};
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ObjectCannedAcl;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use super::cause_chain;
use super::looker::Image;
use crate::config::{AwsCredentials, S3Settings};

#[derive(Debug, thiserror::Error)]
#[error("S3 bucket {bucket}: {message}")]
pub struct S3Error {
    pub bucket: String,
    pub message: String,
}

pub struct S3Images {
    client: aws_sdk_s3::Client,
    bucket: String,
    public_read: bool,
    url_expiry: Duration,
}

impl S3Images {
    pub async fn new(settings: &S3Settings) -> Self {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let region = Region::new(settings.region.clone().unwrap_or_else(|| "us-east-1".into()));
        let credentials = match &settings.credentials {
            AwsCredentials::Keys {
                access_key_id,
                secret_access_key,
                session_token,
            } => SharedCredentialsProvider::new(Credentials::new(
                access_key_id,
                secret_access_key.expose(),
                session_token.as_ref().map(|t| t.expose().to_string()),
                None,
                "lookerbot settings",
            )),
            AwsCredentials::Ambient { profile, web_identity } => {
                let provider = ProviderConfig::without_region()
                    .with_region(Some(region.clone()))
                    .with_http_client(http.clone());
                let mut files = aws_config::profile::ProfileFileCredentialsProvider::builder().configure(&provider);
                if let Some(profile) = profile {
                    files = files.profile_name(profile);
                }
                let mut chain = CredentialsProviderChain::first_try("profile", files.build());
                if let Some((role_arn, token_file)) = web_identity {
                    let identity = WebIdentityTokenCredentialsProvider::builder()
                        .configure(&provider)
                        .static_configuration(StaticConfiguration {
                            web_identity_token_file: token_file.into(),
                            role_arn: role_arn.clone(),
                            session_name: "lookerbot".into(),
                        })
                        .build();
                    chain = chain.or_else("web identity", identity);
                }
                let chain = chain
                    .or_else(
                        "container",
                        aws_config::ecs::EcsCredentialsProvider::builder()
                            .configure(&provider)
                            .build(),
                    )
                    .or_else(
                        "instance",
                        aws_config::imds::credentials::ImdsCredentialsProvider::builder()
                            .configure(&provider)
                            .build(),
                    );
                SharedCredentialsProvider::new(chain)
            }
        };
        let mut config = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .http_client(http)
            .region(region)
            .credentials_provider(credentials)
            .force_path_style(settings.force_path_style);
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

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Checks the bucket can be reached with these credentials, for `lookerbot check`.
    pub async fn check(&self) -> Result<(), S3Error> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| self.error(cause_chain(&e)))?;
        Ok(())
    }

    /// Stores the image under a random key and returns the link Slack will show.
    pub async fn store(&self, image: &Image) -> Result<url::Url, S3Error> {
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
        put.send().await.map_err(|e| self.error(cause_chain(&e)))?;
        let presigning = PresigningConfig::expires_in(self.url_expiry).map_err(|e| self.error(cause_chain(&e)))?;
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .presigned(presigning)
            .await
            .map_err(|e| self.error(cause_chain(&e)))?;
        let mut url = url::Url::parse(presigned.uri()).map_err(|e| self.error(format!("unusable link: {e}")))?;
        // A public object needs no signature: keep the plain address.
        if self.public_read {
            url.set_query(None);
        }
        Ok(url)
    }
}
