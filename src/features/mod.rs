//! One module per capability.

pub mod deliveries;
