//! The outbox: events written in the transaction of what happened, delivered afterwards by a
//! worker. A worker claims a batch under a lease (`claimed_until`), so several instances can run
//! it at once; an event whose delivery failed is claimed again when its lease runs out. Delivery
//! and the "delivered" mark are one transaction, and what delivery writes is keyed by the event,
//! so an event is never delivered twice.

use std::time::Duration;

use anyhow::Context;
use motcua_shared::calendar::Calendar;

use crate::{
    dossiers::deadlines,
    notices,
    store::{Store, now_ms},
};

/// How long a claimed event is reserved for the worker that claimed it.
pub const LEASE_MS: i64 = 60_000;
const BATCH: i64 = 50;

/// Claims up to one batch of undelivered events for `LEASE_MS`: `(id, topic, payload)`.
pub async fn claim(store: &Store, now: i64) -> anyhow::Result<Vec<(String, String, String)>> {
    let candidates: Vec<(String, String, String)> = sqlx::query_as(
        "select id, topic, payload from outbox \
         where delivered_at is null and (claimed_until is null or claimed_until < $1) \
         order by created_at, id limit $2",
    )
    .bind(now)
    .bind(BATCH)
    .fetch_all(store.pool())
    .await
    .context("reading the outbox")?;
    let mut claimed = Vec::new();
    for event in candidates {
        // Another worker may have claimed it since it was read: only one update wins.
        let won = sqlx::query(
            "update outbox set claimed_until = $1 \
             where id = $2 and delivered_at is null and (claimed_until is null or claimed_until < $3)",
        )
        .bind(now + LEASE_MS)
        .bind(&event.0)
        .bind(now)
        .execute(store.pool())
        .await
        .context("claiming an outbox event")?;
        if won.rows_affected() == 1 {
            claimed.push(event);
        }
    }
    Ok(claimed)
}

/// Delivers what is pending; returns how many events were delivered.
pub async fn deliver_pending(store: &Store, now: i64) -> anyhow::Result<usize> {
    let mut delivered = 0;
    for (id, topic, payload) in claim(store, now).await? {
        let mut tx = store.begin_write().await?;
        let payload: serde_json::Value =
            serde_json::from_str(&payload).context("an outbox payload is not JSON")?;
        notices::from_event(&mut tx, &id, &topic, &payload, now).await?;
        sqlx::query("update outbox set delivered_at = $1 where id = $2 and delivered_at is null")
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await
            .context("marking an event delivered")?;
        tx.commit().await.context("committing a delivery")?;
        delivered += 1;
    }
    Ok(delivered)
}

/// Runs the deadline sweep and outbox delivery every `every` until `stop` turns true.
pub async fn run_worker(
    store: Store,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let Ok(calendar) = Calendar::vietnam_shared() else {
        tracing::error!("the holiday calendar does not read: the worker does not run");
        return;
    };
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(every) => {}
        }
        let now = now_ms();
        match deadlines::sweep(&store, calendar, now).await {
            Ok(s) if s.late_results + s.late_receipts > 0 => {
                tracing::warn!(
                    late_results = s.late_results,
                    late_receipts = s.late_receipts,
                    "late dossiers flagged"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %format!("{e:#}"), "deadline sweep failed"),
        }
        if let Err(e) = deliver_pending(&store, now).await {
            tracing::error!(error = %format!("{e:#}"), "outbox delivery failed; it is retried when the lease runs out");
        }
    }
}
