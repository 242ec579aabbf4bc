//! The person's data-access log: every read of their data from a national system, and every
//! officer who opened their dossier. Written in the same transaction as what caused the read.

use anyhow::Context;
use motcua_shared::identity::DataAccess;

use crate::{
    http::page::Page,
    store::{Store, now_ms},
};

/// One entry to record.
#[derive(Debug, Clone)]
pub struct Access<'a> {
    pub cccd: &'a str,
    pub accessor_kind: &'static str,
    pub accessor: &'a str,
    pub source: &'a str,
    pub data: &'a str,
    pub purpose: &'a str,
}

/// Appends `entry` inside `tx`.
pub async fn record(tx: &mut crate::store::WriteTx, entry: &Access<'_>) -> anyhow::Result<()> {
    sqlx::query(
        "insert into data_access_log (id, cccd, at, accessor_kind, accessor, source, data, purpose) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(entry.cccd)
    .bind(now_ms())
    .bind(entry.accessor_kind)
    .bind(entry.accessor)
    .bind(entry.source)
    .bind(entry.data)
    .bind(entry.purpose)
    .execute(&mut **tx)
    .await
    .context("recording a data access")?;
    Ok(())
}

impl Store {
    /// Records `entries` in one transaction (reads that changed nothing else).
    pub async fn record_accesses(&self, entries: &[Access<'_>]) -> crate::store::StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for entry in entries {
            record(&mut tx, entry).await?;
        }
        tx.commit().await
    }

    /// A page of the person's data-access log, newest first, each entry with its id.
    pub async fn data_access_of(
        &self,
        cccd: &str,
        page: &Page,
    ) -> anyhow::Result<Vec<(String, DataAccess)>> {
        let (key, id) = page.below();
        let rows: Vec<(String, i64, String, String, String, String, String)> = sqlx::query_as(
            "select id, at, accessor_kind, accessor, source, data, purpose from data_access_log \
             where cccd = $1 and (at < $2 or (at = $2 and id > $3)) order by at desc, id limit $4",
        )
        .bind(cccd)
        .bind(key)
        .bind(id)
        .bind(page.fetch())
        .fetch_all(self.pool())
        .await
        .context("reading the data-access log")?;
        Ok(rows
            .into_iter()
            .map(|(id, at, accessor_kind, accessor, source, data, purpose)| {
                let entry = DataAccess {
                    at,
                    accessor_kind,
                    accessor,
                    source,
                    data,
                    purpose,
                };
                (id, entry)
            })
            .collect())
    }
}
