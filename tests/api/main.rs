//! Integration tests: the real server on port 0 against fake Slack and Looker servers.
// The fakes return ready-made HTTP responses as errors, the way axum handlers do.
#![allow(clippy::result_large_err)]

mod azurite;
mod fake_braze;
mod fake_looker;
mod fake_looker_oauth;
mod fake_looker_plans;
mod fake_slack;
mod gcs_emulator;
mod helpers;
mod process;
mod reading;

mod action_hub;
mod alerts;
mod answers_outage;
mod audience;
mod azure_store;
mod braze;
mod cli;
mod concurrency;
mod custom_commands;
mod dashboards;
mod data_actions;
mod deliveries;
mod docs;
mod engine;
mod env_file;
mod events;
mod exactly_once;
mod from_lookerbot;
mod gcs_store;
mod health;
mod hostile;
mod identity;
mod images;
mod interactions;
mod looker_client;
mod metrics;
mod notify;
mod oauth;
mod packaging;
mod real_traffic;
mod replicas;
mod restart;
mod s3_store;
mod signing;
mod slack_resilience;
mod slash_commands;
pub mod socket_mode;
mod trust_keys;
mod trust_names;
mod trust_slack;
mod trust_webhooks;
mod webhook_auth;
