//! Where chart images go when not to Slack: an S3 (or S3-compatible) bucket, an Azure Blob
//! Storage container or a Google Cloud Storage bucket, private, each image linked by a signed address that expires.

use super::azure::{AzureError, AzureImages};
use super::gcs::{GcsError, GcsImages};
use super::looker::Image;
use super::s3::{S3Error, S3Images};
use crate::config::{AzureSettings, GcsSettings, S3Settings};

#[derive(Debug, thiserror::Error)]
#[error("{store}: {message}")]
pub struct BucketError {
    /// Which store, as the operator named it ("S3 bucket charts", "Azure container charts").
    pub store: String,
    pub message: String,
}

impl From<AzureError> for BucketError {
    fn from(error: AzureError) -> Self {
        BucketError {
            store: format!("Azure container {}", error.container),
            message: error.message,
        }
    }
}

impl From<GcsError> for BucketError {
    fn from(error: GcsError) -> Self {
        BucketError {
            store: format!("Google Cloud Storage bucket {}", error.bucket),
            message: error.message,
        }
    }
}

impl From<S3Error> for BucketError {
    fn from(error: S3Error) -> Self {
        BucketError {
            store: format!("S3 bucket {}", error.bucket),
            message: error.message,
        }
    }
}

pub enum ImageBucket {
    S3(S3Images),
    Azure(Box<AzureImages>),
    Gcs(Box<GcsImages>),
}

impl ImageBucket {
    /// The bucket the settings name, if any (the settings allow one at most).
    pub async fn from_settings(
        s3: Option<&S3Settings>,
        azure: Option<&AzureSettings>,
        gcs: Option<&GcsSettings>,
    ) -> Result<Option<Self>, BucketError> {
        Ok(match (s3, azure, gcs) {
            (Some(s3), _, _) => Some(ImageBucket::S3(S3Images::new(s3).await)),
            (None, Some(azure), _) => Some(ImageBucket::Azure(Box::new(AzureImages::new(azure)?))),
            (None, None, Some(gcs)) => Some(ImageBucket::Gcs(Box::new(GcsImages::new(gcs).await?))),
            (None, None, None) => None,
        })
    }

    /// The store as the operator named it.
    pub fn name(&self) -> String {
        match self {
            ImageBucket::S3(s3) => format!("S3 bucket {}", s3.bucket()),
            ImageBucket::Azure(azure) => format!("Azure container {}", azure.container()),
            ImageBucket::Gcs(gcs) => format!("Google Cloud Storage bucket {}", gcs.bucket()),
        }
    }

    /// Stores the image and returns the link Slack will show.
    pub async fn store(&self, image: &Image) -> Result<url::Url, BucketError> {
        match self {
            ImageBucket::S3(s3) => Ok(s3.store(image).await?),
            ImageBucket::Azure(azure) => Ok(azure.store(image).await?),
            ImageBucket::Gcs(gcs) => Ok(gcs.store(image).await?),
        }
    }

    /// Checks the bucket can be reached with these credentials, for `lookerbot check`.
    pub async fn check(&self) -> Result<(), BucketError> {
        match self {
            ImageBucket::S3(s3) => Ok(s3.check().await?),
            ImageBucket::Azure(azure) => Ok(azure.check().await?),
            ImageBucket::Gcs(gcs) => Ok(gcs.check().await?),
        }
    }
}
