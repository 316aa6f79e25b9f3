//! The bot's domain types, below every layer that uses them: what Looker content is (ids,
//! Looks, queries, dashboards, results, links) and which Looker it belongs to, and the messages
//! the bot sends to Slack.

pub mod looker;
pub mod slack;
