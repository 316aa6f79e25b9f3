//! Helpers for the SQLite store's own tests; the behaviour every backend shares is in
//! `store::conformance`.

use super::*;

pub(crate) async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/jobs.db", dir.path().display());
    let store = SqliteStore::connect(&url).await.unwrap();
    (dir, store)
}

pub(crate) use crate::store::conformance::job;
