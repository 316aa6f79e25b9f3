//! One module per capability.

pub mod dashboards;
pub mod deliveries;
pub mod merged;
