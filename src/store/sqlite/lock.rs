//! One server per SQLite file. A server takes back every running job when it starts (whoever ran
//! them is gone), which is only true if no other server uses the file: a second one would take
//! the first one's jobs from under it and post them twice. So a server holds an exclusive lock
//! on `<database>.lock` for as long as it runs; the operator's commands (`jobs`, `audit`) do not
//! take it. Replicas share PostgreSQL instead.

use std::fs::{File, OpenOptions, TryLockError};
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;

/// Locks the server's SQLite file, or says which server holds it. `None` for an in-memory
/// database, which no other process can open.
pub fn lock_for_server(database_url: &str) -> anyhow::Result<Option<File>> {
    if database_url.contains(":memory:") || database_url.contains("mode=memory") {
        return Ok(None);
    }
    let options = SqliteConnectOptions::from_str(database_url)?;
    let database = options.get_filename();
    let mut path = database.as_os_str().to_owned();
    path.push(".lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => anyhow::bail!(
            "another lookerbot server is running on {} (it holds {}); run one server per SQLite file, or replicas on PostgreSQL",
            database.display(),
            std::path::Path::new(&path).display()
        ),
        Err(TryLockError::Error(error)) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_server_on_one_file_is_refused_until_the_first_stops() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/jobs.db", dir.path().display());
        let first = lock_for_server(&url).unwrap();
        assert!(first.is_some());
        let refused = lock_for_server(&url).unwrap_err().to_string();
        assert!(refused.contains("another lookerbot server is running"), "{refused}");
        drop(first);
        assert!(
            lock_for_server(&url).unwrap().is_some(),
            "free again once the first stops"
        );
        assert!(lock_for_server("sqlite::memory:").unwrap().is_none());
    }
}
