//! The audit, linked Looker accounts and sign-ins on SQLite: writes through the one writer
//! connection, reads from the reader pool.

use async_trait::async_trait;
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow as Row;

use super::SqliteStore;
use crate::store::people::{
    AuditEntry, AuditQuery, LinkRecord, PeopleStore, SignIn, people_rows, people_store, sql, sqlite_placeholders,
};
use crate::store::{Millis, StoreError};

people_rows!();
people_store!(SqliteStore, writer, reader, sqlite_placeholders);
crate::store::pins::pin_store!(SqliteStore, reader, writer, sqlite_placeholders);
crate::store::sealed::sealed_rows!(SqliteStore, writer, sqlite_placeholders);
crate::store::leases::lease_store!(SqliteStore, writer, sqlite_placeholders);
