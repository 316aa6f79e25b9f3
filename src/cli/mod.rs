//! The operator's commands besides `serve`: `check`, `manifest`, `jobs`, `audit` and `identity`.

pub mod audit;
pub mod check;
pub mod identity;
pub mod jobs;
pub mod manifest;
