//! lookerbot: a Slack bot server for Looker.
//!
//! Layers, each using only those below it: `http` (routes, verification, Socket Mode) →
//! `features` (what the bot does) → `render`, `clients`, `queue`, `store` → `domain`, `config`.
// One `unsafe` call in all: `.env` values put into the environment at start (`env_file::load`).
#![deny(unsafe_code)]

/// The operator's commands: `check`, `manifest`, `jobs`.
pub mod cli;
/// Outbound clients: Looker API 4.0 (and the images it draws), Slack's Web API, the S3 bucket.
pub mod clients;
/// Settings from the environment, validated in one pass.
pub mod config;
/// What Looker content and Slack messages are, below every layer.
pub mod domain;
/// One module per capability, and the bot's context for jobs.
pub mod features;
/// HTTP routes and their verification, and Socket Mode.
pub mod http;
/// Prometheus metrics, recorded below every layer and rendered by `/metrics`.
pub mod metrics;
/// The durable job queue and its workers; it knows no feature.
pub mod queue;
/// Looker results to Slack messages.
pub mod render;
/// What the running task works for (a person or a schedule) and what it waits for.
pub mod scope;
/// The keyring that seals what is kept at rest, below every layer.
pub mod sealing;
/// Startup as a library function.
pub mod startup;
/// Durable storage behind one trait.
pub mod store;
/// Logging setup.
pub mod telemetry;
