//! The Azure container's and the Google Cloud Storage bucket's settings, by Lookerbot's names.
//! One image store at most: S3, Azure or GCS (none: images are uploaded to Slack).

use super::checker::{Checker, non_empty};
use super::{AzureSettings, GcsSettings, RawSettings, Secret};

impl RawSettings {
    pub(super) fn azure(&self, c: &mut Checker, s3_too: bool) -> Option<AzureSettings> {
        let account = non_empty(&self.azure_storage_account);
        let container = non_empty(&self.slackbot_azure_container);
        let key = non_empty(&self.azure_storage_access_key);
        if account.is_none() && container.is_none() && key.is_none() {
            return None;
        }
        if s3_too {
            c.problem(
                "AZURE_STORAGE_ACCOUNT",
                "chart images go to one store: set the S3 settings (SLACKBOT_S3_BUCKET) or the Azure ones, not both",
            );
            return None;
        }
        let endpoint = non_empty(&self.slackbot_azure_endpoint).and_then(|v| c.url("SLACKBOT_AZURE_ENDPOINT", v));
        let missing: Vec<&str> = [
            ("AZURE_STORAGE_ACCOUNT", account.is_none()),
            ("SLACKBOT_AZURE_CONTAINER", container.is_none()),
            ("AZURE_STORAGE_ACCESS_KEY", key.is_none()),
        ]
        .into_iter()
        .filter_map(|(name, missing)| missing.then_some(name))
        .collect();
        if let Some(first) = missing.first() {
            c.problem(
                first,
                format!(
                    "Azure image storage needs AZURE_STORAGE_ACCOUNT, SLACKBOT_AZURE_CONTAINER and AZURE_STORAGE_ACCESS_KEY together; missing: {}",
                    missing.join(", ")
                ),
            );
            return None;
        }
        Some(AzureSettings {
            account: account?.to_string(),
            container: container?.to_string(),
            access_key: Secret::new(key?),
            endpoint,
            url_expiry: self.s3_link_ttl(c),
        })
    }

    pub(super) fn gcs(&self, c: &mut Checker, other_store: bool) -> Option<GcsSettings> {
        let credentials = non_empty(&self.google_cloud_credentials_json);
        let Some(bucket) = non_empty(&self.google_cloud_bucket) else {
            if credentials.is_some() || non_empty(&self.google_cloud_project).is_some() {
                c.warn("GOOGLE_CLOUD_PROJECT or GOOGLE_CLOUD_CREDENTIALS_JSON is set without GOOGLE_CLOUD_BUCKET; images go to Slack");
            }
            return None;
        };
        if other_store {
            c.problem(
                "GOOGLE_CLOUD_BUCKET",
                "chart images go to one store: set the S3, the Azure or the Google Cloud settings, not two",
            );
            return None;
        }
        if let Some(json) = credentials
            && serde_json::from_str::<serde_json::Value>(json)
                .ok()
                .and_then(|key| key.get("private_key").cloned())
                .is_none()
        {
            c.problem(
                "GOOGLE_CLOUD_CREDENTIALS_JSON",
                "expected a service account's JSON key (with its private_key), as the console downloads it, on one line",
            );
            return None;
        }
        let endpoint = non_empty(&self.slackbot_gcs_endpoint).and_then(|v| c.url("SLACKBOT_GCS_ENDPOINT", v));
        Some(GcsSettings {
            bucket: bucket.to_string(),
            project: non_empty(&self.google_cloud_project).map(str::to_string),
            credentials_json: credentials.map(Secret::new),
            endpoint,
            url_expiry: self.s3_link_ttl(c),
        })
    }
}
