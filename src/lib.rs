//! lookerbot: a Slack bot server for Looker.

/// `lookerbot check`: settings, Looker logins, Slack auth and the database in one report.
pub mod check;
/// Outbound clients: Looker API 4.0 and Slack's Web API.
pub mod clients;
/// Settings from the environment, validated in one pass.
pub mod config;
/// One module per capability (scheduled deliveries, ...).
pub mod features;
/// HTTP routes and their verification.
pub mod http;
/// Images Looker draws, and where they are kept for Slack (Slack uploads or S3).
pub mod images;
/// The durable job queue and its workers.
pub mod jobs;
/// `lookerbot manifest`: the Slack app manifest for this bot.
pub mod manifest;
/// Posting rendered results: images, CSV attachments, threads.
pub mod present;
/// Looker results to Slack messages.
pub mod render;
/// Socket Mode: the Slack handlers over a WebSocket.
pub mod socket_mode;
/// Startup as a library function.
pub mod startup;
/// Durable storage behind one trait.
pub mod store;
/// Logging setup.
pub mod telemetry;
