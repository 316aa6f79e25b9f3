//! The operator's commands besides `serve`: `check`, `manifest`, `jobs`, `audit`, `identity` and
//! `webhook-url`.

pub mod audit;
pub mod check;
pub mod identity;
pub mod jobs;
pub mod manifest;
pub mod settings;
pub mod setup;
pub mod webhook_url;
