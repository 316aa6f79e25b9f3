//! The Azure image container's settings, by Lookerbot's names. One image store at most: S3 or
//! Azure (neither: images are uploaded to Slack).

use super::checker::{Checker, non_empty};
use super::{AzureSettings, RawSettings, Secret};

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
}
