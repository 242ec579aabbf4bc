//! The embedded SQLite backend: a file in WAL mode, foreign keys enforced, writers waiting on a
//! busy timeout instead of failing.

use anyhow::Context;
use sqlx::{AnyConnection, Executor, migrate::Migrator};

pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations/sqlite");

/// Creates the database file's folder and asks sqlx to create the file if it is missing.
pub fn prepare_url(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .context("a SQLite URL starts with sqlite://")?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    anyhow::ensure!(
        !path.is_empty() && path != ":memory:",
        "give SQLite a file path: an in-memory database is not shared between pooled connections"
    );
    if let Some(parent) = std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the database folder {}", parent.display()))?;
    }
    Ok(if query.contains("mode=") {
        url.to_string()
    } else if query.is_empty() {
        format!("sqlite://{path}?mode=rwc")
    } else {
        format!("sqlite://{path}?{query}&mode=rwc")
    })
}

/// How SQLite syncs its write-ahead log (`pragma synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Synchronous {
    /// Every commit is synced before it is acknowledged: a power loss or an operating-system
    /// crash loses nothing acknowledged. What a public register needs; the default.
    #[default]
    Full,
    /// Durable across an application crash; an operating-system crash may lose the last commits
    /// (never corrupting the file). Faster; for demos and tests of other things.
    Normal,
}

/// Per-connection settings: SQLite keeps these per connection, not per file.
pub async fn configure_connection(
    conn: &mut AnyConnection,
    synchronous: Synchronous,
) -> Result<(), sqlx::Error> {
    conn.execute("pragma journal_mode = wal").await?;
    conn.execute("pragma foreign_keys = on").await?;
    conn.execute("pragma busy_timeout = 5000").await?;
    conn.execute(match synchronous {
        Synchronous::Full => "pragma synchronous = full",
        Synchronous::Normal => "pragma synchronous = normal",
    })
    .await?;
    Ok(())
}

/// The table (and columns) of a unique violation, from SQLite's message
/// `UNIQUE constraint failed: passkeys.credential_id` (SQLite names no constraint).
pub fn conflict_of(message: &str) -> (String, Option<String>) {
    let columns = message
        .split_once("constraint failed: ")
        .map_or("", |(_, rest)| rest.trim());
    let table = columns
        .split('.')
        .next()
        .filter(|t| !t.is_empty())
        .unwrap_or("unknown");
    (table.to_owned(), Some(columns.to_owned()))
}

/// Primary result codes that mean the database cannot answer now: BUSY (5) past the busy
/// timeout, LOCKED (6), IOERR (10), FULL (13), CANTOPEN (14), and their extended codes.
pub fn is_outage(code: &str) -> bool {
    code.parse::<i64>()
        .is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 10 | 13 | 14))
}

#[cfg(test)]
mod tests {
    use super::{conflict_of, is_outage, prepare_url};

    #[test]
    fn a_unique_violation_names_its_table() {
        assert_eq!(
            conflict_of("UNIQUE constraint failed: passkeys.credential_id"),
            ("passkeys".into(), Some("passkeys.credential_id".into()))
        );
        assert!(is_outage("5") && is_outage("522") && !is_outage("2067"));
    }

    #[test]
    fn urls_get_create_mode_unless_they_set_a_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/motcua.db");
        let url = format!("sqlite://{}", path.display());
        assert_eq!(prepare_url(&url).expect("ok"), format!("{url}?mode=rwc"));
        assert!(path.parent().expect("parent").is_dir());
        let ro = format!("{url}?mode=ro");
        assert_eq!(prepare_url(&ro).expect("ok"), ro);
    }

    #[test]
    fn in_memory_databases_are_refused() {
        assert!(prepare_url("sqlite::memory:").is_err());
        assert!(prepare_url("sqlite://").is_err());
    }
}
