//! What the bot's jobs and acknowledgements need: the Looker and Slack clients, the render
//! options, the image bucket, Lookerbot's switches and the custom-command catalogs. Built once at
//! start-up from the settings; the queue carries it to every job without knowing what it holds.

use std::sync::Arc;
use std::time::Duration;

use super::action_hub::Destinations;
use super::custom_commands::CustomCommands;
use super::data_actions::ActionSigner;
use crate::clients::bucket::ImageBucket;
use crate::clients::looker::{Lookers, downloads_client};
use crate::clients::slack::SlackApi;
use crate::config::{AudienceSettings, DashboardStyle, Features, HubSettings, Settings, TrustSettings};
use crate::queue::Queue;
use crate::render::RenderOptions;
use crate::sealing::Sealer;

pub struct Context {
    /// For jobs that look at or add other jobs.
    pub queue: Queue,
    pub lookers: Lookers,
    pub slack: Arc<SlackApi>,
    pub render: RenderOptions,
    /// The bucket (S3, Azure or GCS) for images; `None` uploads them to Slack.
    pub images: Option<ImageBucket>,
    pub render_timeout: Duration,
    pub dashboard_style: DashboardStyle,
    /// Lookerbot's switches (guests, shared workspaces, loading messages...).
    pub features: Features,
    /// The catalogs of custom commands (dashboards in each Looker's commands folder).
    pub custom_commands: CustomCommands,
    /// For Looker's one-time `download_url`s (no auth header, no redirects).
    pub downloads: reqwest::Client,
    /// The largest download accepted (as large as a webhook body may be).
    pub download_limit: usize,
    /// Signs and checks the keys data-action buttons carry.
    pub action_keys: ActionSigner,
    /// The Action Hub's settings.
    pub hub: HubSettings,
    /// The channels and people the Action Hub's forms offer, kept for a while.
    pub destinations: Destinations,
    /// Whether notifications from other applications may mention people and channels.
    pub notify_mentions: bool,
    /// Braze's REST API, for the Action Hub's `braze` integration.
    pub braze: crate::clients::braze::BrazeClient,
    /// Who may read answers in each channel.
    pub audience: AudienceSettings,
    /// People's linked Looker accounts, where any Looker answers with them (`oauth`).
    pub links: Option<Arc<super::identity::links::StoredLinks>>,
    /// Link a Looker account only when its email is the person's Slack email.
    pub oauth_same_email: bool,
    /// How webhooks prove where they were sent.
    pub trust: TrustSettings,
    /// Seals what jobs keep that must not be read from the database (response URLs, download
    /// links, API keys).
    pub sealer: Arc<Sealer>,
}

impl Context {
    pub async fn build(settings: &Settings, queue: Queue) -> anyhow::Result<Self> {
        let mut slack = SlackApi::new(&settings.slack)?;
        if queue.store().is_shared() {
            slack = slack.with_pace_book(Arc::new(super::shared_pace::StorePaces(queue.store().clone())));
        }
        let sealer = Arc::new(Sealer::of_settings(settings));
        let links = linked_accounts(settings, &queue, &sealer);
        let lookers = Lookers::new(&settings.lookers, &settings.looker_tls, settings.looker_timeout)?;
        if let Some(links) = &links {
            for (_, looker) in lookers.all() {
                looker.keep_links_in(links.clone());
            }
        }
        Ok(Context {
            queue,
            lookers,
            slack: Arc::new(slack),
            render: RenderOptions {
                max_table_rows: settings.table_max_rows,
                attach_csv: settings.attach_csv,
            },
            images: ImageBucket::from_settings(settings.s3.as_ref(), settings.azure.as_ref(), settings.gcs.as_ref())
                .await?,
            render_timeout: settings.render_timeout,
            dashboard_style: settings.dashboard_style,
            features: settings.features.clone(),
            custom_commands: CustomCommands::default(),
            // Looker's download links live on the Looker host: trust the same CA.
            downloads: downloads_client(&settings.looker_tls, settings.looker_timeout)?,
            download_limit: settings.webhook_max_bytes,
            action_keys: ActionSigner::new(settings.slack.key_secret(), settings.data_action_lifetime),
            hub: settings.hub.clone(),
            destinations: Destinations::default(),
            notify_mentions: settings.notify.allow_mentions,
            braze: crate::clients::braze::BrazeClient::new(settings.looker_timeout)?,
            audience: settings.audience.clone(),
            links,
            oauth_same_email: settings.oauth_same_email,
            trust: settings.trust.clone(),
            sealer,
        })
    }
}

/// Where linked accounts are kept, when a Looker answers with them and the settings allow it.
fn linked_accounts(
    settings: &Settings,
    queue: &Queue,
    sealer: &Arc<Sealer>,
) -> Option<Arc<super::identity::links::StoredLinks>> {
    if !settings.lookers.iter().any(|l| l.identity.is_oauth()) || settings.trust.token_keys.is_empty() {
        return None;
    }
    let redirect = super::identity::connect::redirect_uri(settings.hub.public_url.as_ref()?);
    Some(Arc::new(super::identity::links::StoredLinks::new(
        queue.store().clone(),
        sealer.clone(),
        redirect,
    )))
}
