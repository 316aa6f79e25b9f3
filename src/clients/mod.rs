//! Outbound clients: Looker's API and Slack's Web API.

pub mod looker;
pub mod slack;
