//! The PostgreSQL backend, for several stateless server instances on one database.

use sqlx::{AnyConnection, Executor, migrate::Migrator};

pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations/postgres");

/// Per-connection settings: UTC everywhere, and no statement may hold a connection forever.
pub async fn configure_connection(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    conn.execute("set time zone 'UTC'").await?;
    conn.execute("set statement_timeout = '30s'").await?;
    Ok(())
}

/// The table and constraint a unique violation names.
pub fn conflict_of(err: &sqlx::postgres::PgDatabaseError) -> (String, Option<String>) {
    (
        err.table().unwrap_or("unknown").to_owned(),
        err.constraint().map(str::to_owned),
    )
}

/// SQLSTATE codes that mean the database is not there to answer: connection exceptions (08),
/// insufficient resources (53), operator intervention (57P), system errors (58).
pub fn is_outage(code: &str) -> bool {
    code.len() == 5
        && (code.starts_with("08")
            || code.starts_with("53")
            || code.starts_with("57P")
            || code.starts_with("58"))
}
