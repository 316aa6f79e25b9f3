//! The operator's commands besides `serve`: `check`, `manifest` and `jobs`.

pub mod check;
pub mod jobs;
pub mod manifest;
