//! Where the conformance suite runs: a SQLite file in a temporary folder, and a schema of its own
//! on the test PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::store::{JobStore, PostgresStore, SqliteStore};

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A store under test and what to clean up after it.
pub(super) struct Harness {
    pub(super) name: &'static str,
    /// Opens another handle on the same database (a second replica).
    reopen: Reopen,
    _dir: Option<tempfile::TempDir>,
}

enum Reopen {
    Sqlite(String),
    Postgres {
        options: Box<PgConnectOptions>,
        schema: String,
    },
}

impl Harness {
    pub(super) async fn open(&self) -> Arc<dyn JobStore> {
        match &self.reopen {
            Reopen::Sqlite(url) => Arc::new(SqliteStore::connect(url).await.unwrap()),
            Reopen::Postgres { options, schema } => Arc::new(
                PostgresStore::connect_with((**options).clone().options([("search_path", schema.as_str())]), true)
                    .await
                    .unwrap(),
            ),
        }
    }

    pub(super) async fn finish(self) {
        if let Reopen::Postgres { options, schema } = &self.reopen {
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect_with((**options).clone())
                .await
                .unwrap();
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
}

static SCHEMAS: AtomicU32 = AtomicU32::new(0);

/// SQLite always; PostgreSQL when it is there (and always when `.ci/run` says so).
pub(super) async fn backends() -> Vec<Harness> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/jobs.db", dir.path().display());
    let mut all = vec![Harness {
        name: "sqlite",
        reopen: Reopen::Sqlite(url),
        _dir: Some(dir),
    }];
    let required = std::env::var("LOOKERBOT_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let url = required.clone().unwrap_or_else(|| DEFAULT_POSTGRES.into());
    let options: PgConnectOptions = url.parse().expect("LOOKERBOT_TEST_POSTGRES_URL");
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(options.clone())
        .await;
    match admin {
        Ok(pool) => {
            let schema = format!(
                "lookerbot_test_{}_{}",
                std::process::id(),
                SCHEMAS.fetch_add(1, Ordering::Relaxed)
            );
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
            all.push(Harness {
                name: "postgres",
                reopen: Reopen::Postgres {
                    options: Box::new(options),
                    schema,
                },
                _dir: None,
            });
        }
        Err(error) if required.is_some() => panic!("PostgreSQL at LOOKERBOT_TEST_POSTGRES_URL: {error}"),
        Err(_) => {
            eprintln!("note: no PostgreSQL at {DEFAULT_POSTGRES}; the PostgreSQL half of the store suite is skipped")
        }
    }
    all
}
