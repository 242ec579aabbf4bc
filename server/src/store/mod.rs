//! The storage interface: one [`Store`] over the embedded SQLite or PostgreSQL for scale, chosen
//! by the `database_url` scheme.
//!
//! Queries are written once in the SQL both engines share (lower-case, `$N` parameters numbered in
//! order of first use, `bigint` integers, `text` for strings and JSON, times as Unix
//! milliseconds), and run through sqlx's `Any` driver. What differs between the engines is kept
//! here, once: connection set-up ([`sqlite`], [`postgres`]) and each engine's own migrations under
//! `migrations/`. Each capability keeps its queries beside its routes as `impl Store` blocks.

pub mod postgres;
pub mod sqlite;

use std::time::Duration;

use anyhow::Context;
use sqlx::{
    AnyPool,
    any::{AnyPoolOptions, install_default_drivers},
    migrate::Migrator,
};

/// The database engine behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn from_url(url: &str) -> anyhow::Result<Engine> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Engine::Postgres)
        } else {
            anyhow::bail!("unsupported database URL scheme (use sqlite:// or postgres://)")
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Engine::Sqlite => &sqlite::MIGRATOR,
            Engine::Postgres => &postgres::MIGRATOR,
        }
    }
}

/// A handle on the database, cheap to clone (it is a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
}

impl Store {
    /// Opens a pool on `url`. The database itself must exist, except a SQLite file, which is
    /// created with its folder.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Store> {
        install_default_drivers();
        let engine = Engine::from_url(url)?;
        let url = match engine {
            Engine::Sqlite => sqlite::prepare_url(url)?,
            Engine::Postgres => url.to_string(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    match engine {
                        Engine::Sqlite => sqlite::configure_connection(conn).await,
                        Engine::Postgres => postgres::configure_connection(conn).await,
                    }
                })
            })
            .connect(&url)
            .await
            .with_context(|| format!("connecting to the {} database", engine.name()))?;
        Ok(Store { pool, engine })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first fails, without waiting, when
    /// another connection wrote meanwhile (SQLITE_BUSY_SNAPSHOT). PostgreSQL's default is right.
    pub async fn begin_write(&self) -> anyhow::Result<sqlx::Transaction<'static, sqlx::Any>> {
        let tx = match self.engine {
            Engine::Sqlite => self.pool.begin_with("begin immediate").await,
            Engine::Postgres => self.pool.begin().await,
        };
        tx.context("starting a transaction")
    }

    /// Applies this engine's pending migrations.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.engine
            .migrator()
            .run(&self.pool)
            .await
            .with_context(|| format!("migrating the {} database", self.engine.name()))
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> anyhow::Result<()> {
        let one: i64 = sqlx::query_scalar("select cast(1 as bigint)")
            .fetch_one(&self.pool)
            .await
            .context("pinging the database")?;
        anyhow::ensure!(one == 1, "the database answered {one} to select 1");
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Now, as stored: Unix milliseconds, UTC.
pub fn now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
