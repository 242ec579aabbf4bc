//! The PostgreSQL backend, for several stateless server instances on one database.

use sqlx::{AnyConnection, Executor, migrate::Migrator};

pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations/postgres");

/// Per-connection settings: UTC everywhere, and no statement may hold a connection forever.
pub async fn configure_connection(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    conn.execute("set time zone 'UTC'").await?;
    conn.execute("set statement_timeout = '30s'").await?;
    Ok(())
}
