//! Whether a SQLite database exists and how many of its migrations were applied, without
//! creating or changing anything.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use super::MIGRATIONS;
use crate::store::Probe;

/// Opens the file read-only, if it exists, and counts the migrations it has had.
pub(in crate::store) async fn probe(database_url: &str) -> anyhow::Result<Probe> {
    let options = SqliteConnectOptions::from_str(database_url)?
        .create_if_missing(false)
        .read_only(true);
    let path = options.get_filename().to_path_buf();
    let known = MIGRATIONS.iter().filter(|m| m.migration_type.is_up_migration()).count();
    if !path.exists() {
        return Ok(Probe::Missing {
            location: path.display().to_string(),
        });
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let has_table: Option<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
            .fetch_optional(&pool)
            .await?;
    let applied = match has_table {
        Some(_) => {
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&pool)
                .await?;
            count as usize
        }
        None => 0,
    };
    pool.close().await;
    Ok(Probe::Reachable { applied, known })
}
