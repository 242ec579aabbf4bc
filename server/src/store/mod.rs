//! The storage interface: one [`Store`] over the embedded SQLite or PostgreSQL for scale, chosen
//! by the `database_url` scheme.
//!
//! Queries are written once in the SQL both engines share (lower-case, `$N` parameters numbered in
//! order of first use, `bigint` integers, `text` for strings and JSON, times as Unix
//! milliseconds), and run through sqlx's `Any` driver. What differs between the engines is kept
//! here, once: connection set-up ([`sqlite`], [`postgres`]) and each engine's own migrations under
//! `migrations/`. Each capability keeps its queries beside its routes as `impl Store` blocks;
//! its storage module is the only place that opens a write transaction ([`Store::begin_write`]).
//!
//! Failures are a [`StoreError`]: a constraint another request won ([`StoreError::Conflict`],
//! named by its table), an outage ([`StoreError::Unavailable`]), or anything else. Each engine
//! says which of its error codes are which; the API turns them into 409 and 503.

pub mod postgres;
pub mod sqlite;

use std::{
    ops::{Deref, DerefMut},
    sync::Arc,
    time::Duration,
};

use anyhow::Context;
use sqlx::{
    Any, AnyConnection, AnyPool,
    any::{AnyPoolOptions, install_default_drivers},
    migrate::Migrator,
};

/// Why a storage call failed, typed where the caller can do something about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint of `table` refused the write: a concurrent request wrote it first.
    #[error("a concurrent write to {table} won (constraint {constraint:?})")]
    Conflict {
        table: String,
        constraint: Option<String>,
    },
    /// The database does not answer (closed pool, timeout, connection lost, disk full).
    #[error("the database is unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    #[error(transparent)]
    Other(anyhow::Error),
}

/// What storage calls return.
pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::from(anyhow::Error::new(err))
    }
}

impl From<anyhow::Error> for StoreError {
    /// Finds the database error under the context added on the way up, and types it.
    fn from(err: anyhow::Error) -> Self {
        for cause in err.chain() {
            if let Some(known) = cause.downcast_ref::<StoreError>() {
                return match known {
                    StoreError::NotFound => StoreError::NotFound,
                    StoreError::Conflict { table, constraint } => StoreError::Conflict {
                        table: table.clone(),
                        constraint: constraint.clone(),
                    },
                    StoreError::Unavailable(_) => StoreError::Unavailable(err),
                    StoreError::Other(_) => StoreError::Other(err),
                };
            }
            let Some(sqlx_err) = cause.downcast_ref::<sqlx::Error>() else {
                continue;
            };
            return match sqlx_err {
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err),
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    let (table, constraint) =
                        match db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                            Some(pg) => postgres::conflict_of(pg),
                            None => sqlite::conflict_of(db.message()),
                        };
                    StoreError::Conflict { table, constraint }
                }
                sqlx::Error::Database(db)
                    if db.code().is_some_and(|code| {
                        postgres::is_outage(&code) || sqlite::is_outage(&code)
                    }) =>
                {
                    StoreError::Unavailable(err)
                }
                _ => StoreError::Other(err),
            };
        }
        StoreError::Other(err)
    }
}

/// Whether `err` is PostgreSQL's serialisation failure (SQLSTATE 40001): a REPEATABLE READ
/// transaction met a concurrent change, and may be tried again from the start. SQLite's
/// single writer never fails so.
pub fn is_serialization_failure(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<sqlx::Error>(),
            Some(sqlx::Error::Database(db)) if db.code().as_deref() == Some("40001")
        )
    })
}

/// Wakes this instance's outbox dispatcher when a transaction that emitted events commits.
#[derive(Clone, Debug)]
pub struct OutboxSignal(Arc<tokio::sync::watch::Sender<u64>>);

impl OutboxSignal {
    fn new() -> OutboxSignal {
        OutboxSignal(Arc::new(tokio::sync::watch::channel(0).0))
    }

    pub fn wake(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that sees every wake after this call.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.subscribe()
    }
}

/// A write transaction. Reads and writes go through it as through a connection (`&mut *tx`);
/// committing one in which events were emitted wakes the outbox dispatcher at once.
pub struct WriteTx {
    tx: sqlx::Transaction<'static, Any>,
    signal: OutboxSignal,
    emitted: bool,
}

impl WriteTx {
    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await.context("committing")?;
        if self.emitted {
            self.signal.wake();
        }
        Ok(())
    }

    pub async fn rollback(self) -> StoreResult<()> {
        self.tx.rollback().await.context("rolling back")?;
        Ok(())
    }

    /// Notes that this transaction wrote outbox events (see `crate::events::emit`).
    pub(crate) fn note_emitted(&mut self) {
        self.emitted = true;
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

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

    /// Whether a counter row that every writer of a kind updates (a receipt book's) is best
    /// taken in a short transaction of its own. On PostgreSQL, yes: concurrent writers would
    /// otherwise queue on its row lock until each of them commits. SQLite's writers are one at a
    /// time anyway, so there it is taken inside the writer's transaction, without a second
    /// commit.
    pub fn counters_apart(self) -> bool {
        matches!(self, Engine::Postgres)
    }

    /// What a statement claiming rows for one worker ends with: `for update skip locked` on
    /// PostgreSQL (concurrent claimers pass each other's rows by); nothing on SQLite, whose one
    /// writer at a time makes a claim exclusive anyway.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Engine::Sqlite => "",
            Engine::Postgres => " for update skip locked",
        }
    }

    /// What a read of a row about to be changed ends with: `for update` on PostgreSQL (a
    /// concurrent writer waits for this transaction); nothing on SQLite, whose write
    /// transactions (`begin immediate`) are exclusive already.
    pub fn for_update(self) -> &'static str {
        match self {
            Engine::Sqlite => "",
            Engine::Postgres => " for update",
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
    signal: OutboxSignal,
}

impl Store {
    /// Opens a pool on `url`. The database itself must exist, except a SQLite file, which is
    /// created with its folder.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Store> {
        Store::connect_with(url, max_connections, sqlite::Synchronous::Full).await
    }

    /// As [`Store::connect`], with SQLite's `synchronous` setting (ignored on PostgreSQL):
    /// `Full` (the default) keeps every acknowledged commit through a power loss or an
    /// operating-system crash; `Normal` only through an application crash.
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        synchronous: sqlite::Synchronous,
    ) -> anyhow::Result<Store> {
        install_default_drivers();
        let engine = Engine::from_url(url)?;
        let url = match engine {
            Engine::Sqlite => sqlite::prepare_url(url)?,
            Engine::Postgres => url.to_string(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            // No ping before each checkout (a round trip per statement or transaction): a
            // connection that broke fails its next statement, which is closed and reported,
            // and the readiness worker's ping marks the database down within a second.
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    match engine {
                        Engine::Sqlite => sqlite::configure_connection(conn, synchronous).await,
                        Engine::Postgres => postgres::configure_connection(conn).await,
                    }
                })
            })
            .connect(&url)
            .await
            .with_context(|| format!("connecting to the {} database", engine.name()))?;
        Ok(Store {
            pool,
            engine,
            signal: OutboxSignal::new(),
        })
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
    pub async fn begin_write(&self) -> StoreResult<WriteTx> {
        let tx = match self.engine {
            Engine::Sqlite => self.pool.begin_with("begin immediate").await,
            Engine::Postgres => self.pool.begin().await,
        };
        Ok(WriteTx {
            tx: tx.context("starting a transaction")?,
            signal: self.signal.clone(),
            emitted: false,
        })
    }

    /// Begins a write transaction whose statements all read one snapshot, for moving rows
    /// from one table to another: what the first statement sums, the last deletes, even while
    /// others commit. SQLite's immediate transaction has no concurrent writer; on PostgreSQL it
    /// is REPEATABLE READ, where a concurrent change to the same rows fails it (it is retried).
    pub async fn begin_snapshot_write(&self) -> StoreResult<WriteTx> {
        let tx = match self.engine {
            Engine::Sqlite => self.pool.begin_with("begin immediate").await,
            Engine::Postgres => {
                self.pool
                    .begin_with("begin isolation level repeatable read")
                    .await
            }
        };
        Ok(WriteTx {
            tx: tx.context("starting a transaction")?,
            signal: self.signal.clone(),
            emitted: false,
        })
    }

    /// This instance's outbox wake-up signal.
    pub fn outbox_signal(&self) -> &OutboxSignal {
        &self.signal
    }

    /// Applies this engine's pending migrations.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.engine
            .migrator()
            .run(&self.pool)
            .await
            .with_context(|| format!("migrating the {} database", self.engine.name()))?;
        // What a migration cannot compute in SQL: the processing times of dossiers finished
        // before migration 0018, from the holiday calendar.
        self.fill_working_days().await
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> StoreResult<()> {
        let one: i64 = sqlx::query_scalar("select cast(1 as bigint)")
            .fetch_one(&self.pool)
            .await
            .context("pinging the database")?;
        if one != 1 {
            return Err(StoreError::Other(anyhow::anyhow!(
                "the database answered {one} to select 1"
            )));
        }
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
