//! The Action Hub's settings: where the bot says it lives, how large a request may be, how long
//! Looker waits for the real outcome, which channels its form lists; and how long data-action
//! buttons keep working.

use std::time::Duration;

use url::Url;

use super::RawSettings;
use super::checker::{Checker, non_empty};

#[derive(Debug, Clone)]
pub struct HubSettings {
    /// `PUBLIC_URL`: the base of the integration URLs; else the request's forwarded host.
    pub public_url: Option<Url>,
    pub max_bytes: usize,
    /// How long execute waits for its delivery before answering Looker (zero: at once).
    pub wait: Duration,
    /// List every public channel, not only the bot's.
    pub all_channels: bool,
    /// Hosts (`host` or `host:port`) whose `download_url`s are followed besides the configured
    /// Lookers': customer-hosted Lookers the bot has no API access to.
    pub download_hosts: Vec<String>,
    /// Endpoints the `braze` integration accepts besides Braze's own hosts (a proxy), exactly.
    pub braze_endpoints: Vec<Url>,
}

impl RawSettings {
    pub(super) fn hub(&self, c: &mut Checker) -> HubSettings {
        HubSettings {
            public_url: non_empty(&self.public_url).and_then(|url| c.url("PUBLIC_URL", url)),
            // 1 GiB of data is 1.41 GiB of base64 in Looker's escaped lines, and some JSON around it.
            max_bytes: c.number("LOOKERBOT_HUB_MAX_MB", &self.lookerbot_hub_max_mb, 1536usize, 1, 8192) * 1024 * 1024,
            // Looker holds an Action Hub request open for about half an hour (reports in
            // looker-open-source/actions#491 show 33 minutes): wait for the real outcome within it.
            wait: c.seconds("LOOKERBOT_HUB_WAIT_SECS", &self.lookerbot_hub_wait_secs, 1800, 0, 1800),
            all_channels: c.flag("LOOKERBOT_HUB_ALL_CHANNELS", &self.lookerbot_hub_all_channels, false),
            download_hosts: non_empty(&self.lookerbot_hub_download_hosts)
                .map(|hosts| {
                    hosts
                        .split(',')
                        .map(|h| h.trim().to_ascii_lowercase())
                        .filter(|h| !h.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            braze_endpoints: non_empty(&self.lookerbot_braze_endpoints)
                .map(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|e| !e.is_empty())
                        .filter_map(|e| c.url("LOOKERBOT_BRAZE_ENDPOINTS", e))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    pub(super) fn data_action_lifetime(&self, c: &mut Checker) -> Duration {
        let days = c.number(
            "LOOKERBOT_DATA_ACTION_DAYS",
            &self.lookerbot_data_action_days,
            30u64,
            1,
            365,
        );
        Duration::from_secs(days * 24 * 3600)
    }
}
