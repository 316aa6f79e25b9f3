//! The audit, linked Looker accounts and sign-ins on PostgreSQL: the same statements as on
//! SQLite, in PostgreSQL's placeholders.

use async_trait::async_trait;
use sqlx::Row as _;
use sqlx::postgres::PgRow as Row;

use super::PostgresStore;
use crate::store::people::{
    AuditEntry, AuditQuery, LinkRecord, PeopleStore, SignIn, people_rows, people_store, postgres_placeholders, sql,
};
use crate::store::{Millis, StoreError};

people_rows!();
people_store!(PostgresStore, pool, pool, postgres_placeholders);
crate::store::pins::pin_store!(PostgresStore, pool, pool, postgres_placeholders);
crate::store::sealed::sealed_rows!(PostgresStore, pool, postgres_placeholders);
crate::store::leases::lease_store!(PostgresStore, pool, postgres_placeholders);
