//! One module per capability.

pub mod commands;
pub mod custom_commands;
pub mod dashboards;
pub mod deliveries;
pub mod merged;
pub mod search;
pub mod unfurls;
