//! What the bot does, one module per capability, above the clients, the renderer, the queue and
//! the store. [`jobs`] is the one place that lists the work done after an acknowledgement.

pub mod action_hub;
pub mod alerts;
pub mod audience;
pub mod audit;
pub mod braze;
pub mod commands;
pub mod context;
pub mod custom_commands;
pub mod dashboard_filters;
pub mod dashboards;
pub mod data_actions;
pub mod deliveries;
pub mod downloads;
pub mod errors;
pub mod identity;
pub mod lanes;
pub mod ledger;
pub mod looks;
pub mod merged;
pub mod notify;
pub mod posting;
pub mod schedules;
pub mod shared_pace;
pub mod stored_files;
pub mod unfurls;

pub use context::Context;

use crate::queue::JobKinds;

/// Every kind of job the bot runs, registered once at start-up.
pub fn jobs() -> JobKinds<Context> {
    let mut kinds = JobKinds::default();
    kinds
        .register::<deliveries::Delivery>()
        .register::<commands::CommandRequest>()
        .register::<unfurls::UnfurlRequest>()
        .register::<data_actions::DataActionSend>()
        .register::<data_actions::DataActionForm>()
        .register::<action_hub::HubDelivery>()
        .register::<action_hub::ChannelMessage>()
        .register::<alerts::FailureReport>()
        .register::<notify::NotifyJob>()
        .register::<braze::BrazeExport>()
        .register::<identity::notice::LinkNotice>();
    kinds
}
