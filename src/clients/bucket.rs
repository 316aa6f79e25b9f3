//! Where chart images go when not to Slack: an S3 (or S3-compatible) bucket or an Azure Blob
//! Storage container, private, each image linked by a signed address that expires.

use super::azure::{AzureError, AzureImages};
use super::looker::Image;
use super::s3::{S3Error, S3Images};
use crate::config::{AzureSettings, S3Settings};

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
    Azure(AzureImages),
}

impl ImageBucket {
    /// The bucket the settings name, if any (the settings allow one at most).
    pub async fn from_settings(
        s3: Option<&S3Settings>,
        azure: Option<&AzureSettings>,
    ) -> Result<Option<Self>, BucketError> {
        Ok(match (s3, azure) {
            (Some(s3), _) => Some(ImageBucket::S3(S3Images::new(s3).await)),
            (None, Some(azure)) => Some(ImageBucket::Azure(AzureImages::new(azure)?)),
            (None, None) => None,
        })
    }

    /// Stores the image and returns the link Slack will show.
    pub async fn store(&self, image: &Image) -> Result<url::Url, BucketError> {
        match self {
            ImageBucket::S3(s3) => Ok(s3.store(image).await?),
            ImageBucket::Azure(azure) => Ok(azure.store(image).await?),
        }
    }

    /// Checks the bucket can be reached with these credentials, for `lookerbot check`.
    pub async fn check(&self) -> Result<(), BucketError> {
        match self {
            ImageBucket::S3(s3) => Ok(s3.check().await?),
            ImageBucket::Azure(azure) => Ok(azure.check().await?),
        }
    }
}
