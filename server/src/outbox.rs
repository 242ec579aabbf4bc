//! The outbox dispatcher: delivers every emitted event (`crate::events`) to every registered
//! consumer, each on its own.
//!
//! An event is written with one pending row per registered consumer, in the transaction of what
//! happened. Each consumer's rows are claimed in batches under a lease (one statement; `for
//! update skip locked` on PostgreSQL, so several instances share the work); a worker that died
//! leaves its claim to expire and another takes it. A delivery first does the consumer's outside
//! work ([`Consumer::send`]), then writes its local effects ([`Consumer::apply`]) and removes the
//! pending row in one transaction. What a consumer writes is keyed by the event, so an event is
//! delivered once per consumer even when a lease runs out mid-delivery. A failure is retried for
//! that consumer alone, with jittered exponential backoff (honouring a `Retry-After`), and given
//! up (kept, with its last error) after the consumer's attempts; no other consumer waits for it.
//!
//! Each consumer runs in its own task, woken at once when a transaction of this instance that
//! emitted events commits (`crate::store::OutboxSignal`), and every `tick` as the safety net for
//! other instances' events and for retries.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use rand::Rng;

use crate::{
    events::{DomainEvent, Envelope},
    security::random_token,
    store::{Store, StoreResult, WriteTx, now_ms},
};

/// How long a claimed batch is reserved for the worker that claimed it.
pub const LEASE_MS: i64 = 60_000;
/// Events claimed at once by one consumer.
pub const BATCH: i64 = 256;
/// How long a woken consumer waits for more commits before its pass.
const COALESCE: Duration = Duration::from_millis(10);
/// The longest wait between two attempts.
const MAX_BACKOFF_MS: i64 = 3_600_000;

/// One event, as a consumer receives it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub event: DomainEvent,
    /// When the event was emitted (Unix ms).
    pub created_at: i64,
    /// 1 on the first attempt.
    pub attempt: i64,
}

/// Why a consumer could not take an event now.
#[derive(Debug, Clone)]
pub struct DeliveryError {
    pub message: String,
    /// What the other system asked for (`Retry-After`), when it did.
    pub retry_after_ms: Option<i64>,
    /// Not a failure: the event is to be delivered later (after `retry_after_ms`), such as a
    /// push waiting out the person's quiet hours. Not counted as an attempt.
    pub later: bool,
}

impl DeliveryError {
    pub fn new(message: impl Into<String>) -> DeliveryError {
        DeliveryError {
            message: message.into(),
            retry_after_ms: None,
            later: false,
        }
    }

    /// Deliver again in `wait_ms`, without counting an attempt.
    pub fn later(why: &str, wait_ms: i64) -> DeliveryError {
        DeliveryError {
            message: why.to_owned(),
            retry_after_ms: Some(wait_ms),
            later: true,
        }
    }
}

impl From<anyhow::Error> for DeliveryError {
    fn from(err: anyhow::Error) -> Self {
        DeliveryError::new(format!("{err:#}"))
    }
}

/// A part of the system that acts on events: notices, and later push, the national portal, EMC.
#[async_trait::async_trait]
pub trait Consumer: Send + Sync + 'static {
    /// A stable name: the consumer's delivery state is kept under it.
    fn name(&self) -> &'static str;

    /// Work outside any transaction, such as calling another system. None by default.
    async fn send(&self, _delivery: &Delivery) -> Result<(), DeliveryError> {
        Ok(())
    }

    /// Local effects, written inside the transaction that marks the event delivered, keyed by
    /// the event's id. None by default.
    async fn apply(&self, _tx: &mut WriteTx, _delivery: &Delivery) -> Result<(), DeliveryError> {
        Ok(())
    }

    /// Attempts after which an event is given up for this consumer (kept, with its last error).
    fn max_attempts(&self) -> i64 {
        25
    }

    /// How many events of a batch it may send at once (another system answers one request
    /// at a time slowly, many at once quickly). One by default: in order.
    fn concurrency(&self) -> usize {
        1
    }
}

/// The wait before attempt `attempt + 1`: 1 s doubling to an hour, ±25 % jitter, never shorter
/// than what the other system asked for.
pub fn backoff_ms(attempt: i64, retry_after_ms: Option<i64>) -> i64 {
    let exp = u32::try_from(attempt.clamp(1, 30) - 1).unwrap_or(0);
    let base = 1000_i64
        .saturating_mul(1_i64 << exp.min(22))
        .min(MAX_BACKOFF_MS);
    let jitter = rand::rng().random_range(0.75..1.25);
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let jittered = (base as f64 * jitter) as i64;
    jittered.max(retry_after_ms.unwrap_or(0))
}

/// Delivers the outbox to its consumers.
#[derive(Clone)]
pub struct Dispatcher {
    store: Store,
    consumers: Vec<Arc<dyn Consumer>>,
}

/// What one pass delivered and what failed, for one consumer.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub delivered: usize,
    pub failed: usize,
}

impl Dispatcher {
    pub fn new(store: Store) -> Dispatcher {
        Dispatcher {
            store,
            consumers: Vec::new(),
        }
    }

    /// The platform's consumers.
    pub fn standard(store: Store) -> Dispatcher {
        Dispatcher::new(store).with(Arc::new(crate::notifications::inbox::NoticesConsumer))
    }

    pub fn with(mut self, consumer: Arc<dyn Consumer>) -> Dispatcher {
        self.consumers.push(consumer);
        self
    }

    /// Records the consumers, so every event emitted from now on is pending for each of them.
    pub async fn register(&self) -> StoreResult<()> {
        for consumer in &self.consumers {
            self.store.register_consumer(consumer.name()).await?;
        }
        Ok(())
    }

    /// Delivers, for every consumer, what is due at `now` until nothing is left.
    pub async fn deliver_due(&self, now: i64) -> StoreResult<Pass> {
        let mut total = Pass::default();
        for consumer in &self.consumers {
            let pass = deliver_all(&self.store, consumer.as_ref(), now).await?;
            total.delivered += pass.delivered;
            total.failed += pass.failed;
        }
        Ok(total)
    }

    /// Runs one task per consumer until `stop` turns true: woken when this instance commits
    /// events, and every `tick`.
    pub fn spawn(
        self,
        tick: Duration,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        self.consumers
            .iter()
            .map(|consumer| {
                let store = self.store.clone();
                let consumer = consumer.clone();
                let mut stop = stop.clone();
                let mut woken = store.outbox_signal().subscribe();
                tokio::spawn(async move {
                    loop {
                        if let Err(e) = deliver_all(&store, consumer.as_ref(), now_ms()).await {
                            tracing::error!(consumer = consumer.name(), error = %e, "outbox delivery failed; retried at the next tick");
                        }
                        tokio::select! {
                            _ = stop.changed() => return,
                            _ = woken.changed() => {
                                // Let the commits of the next few milliseconds join this pass:
                                // under load one claim and one transaction (one fsync) carry
                                // many events instead of one each.
                                tokio::time::sleep(COALESCE).await;
                            }
                            () = tokio::time::sleep(tick) => {}
                        }
                    }
                })
            })
            .collect()
    }
}

/// Claims and delivers batches for `consumer` until none is due.
async fn deliver_all(store: &Store, consumer: &dyn Consumer, now: i64) -> StoreResult<Pass> {
    let mut total = Pass::default();
    loop {
        let batch = store.claim_batch(consumer.name(), now, BATCH).await?;
        if batch.is_empty() {
            return Ok(total);
        }
        let pass = deliver_batch(store, consumer, batch).await?;
        total.delivered += pass.delivered;
        total.failed += pass.failed;
        if pass.delivered == 0 {
            // Everything claimed failed: the rest waits for its backoff, not this loop.
            return Ok(total);
        }
    }
}

/// A claimed event, or why it cannot be read.
pub struct Claimed {
    pub claim: String,
    pub id: String,
    pub event: Result<DomainEvent, String>,
    pub created_at: i64,
    pub attempt: i64,
}

/// A delivery sent: its place in the batch, its claim and itself, and how it went.
type Sent = (usize, (String, Delivery), Result<(), DeliveryError>);

async fn deliver_batch(
    store: &Store,
    consumer: &dyn Consumer,
    batch: Vec<Claimed>,
) -> StoreResult<Pass> {
    use futures_util::StreamExt as _;
    let mut pass = Pass::default();
    let mut sent = Vec::new();
    let mut readable = Vec::with_capacity(batch.len());
    for claimed in batch {
        match claimed.event {
            Ok(event) => readable.push((
                claimed.claim,
                Delivery {
                    id: claimed.id,
                    event,
                    created_at: claimed.created_at,
                    attempt: claimed.attempt,
                },
            )),
            Err(why) => {
                store
                    .delivery_failed(
                        consumer,
                        &claimed.id,
                        claimed.attempt,
                        &DeliveryError::new(why),
                    )
                    .await?;
                pass.failed += 1;
            }
        }
    }
    // One chain per subject (a dossier's events in their order), `concurrency()` chains at a
    // time; the results come back in the batch's order.
    let mut chains: Vec<Vec<(usize, String, Delivery)>> = Vec::new();
    let mut chain_of: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (index, (claim, delivery)) in readable.into_iter().enumerate() {
        let subject = delivery.event.subject().map(|(s, _)| s);
        match subject.as_ref().and_then(|s| chain_of.get(s)) {
            Some(&c) => chains[c].push((index, claim, delivery)),
            None => {
                if let Some(s) = subject {
                    chain_of.insert(s, chains.len());
                }
                chains.push(vec![(index, claim, delivery)]);
            }
        }
    }
    let mut results: Vec<Sent> = futures_util::stream::iter(chains)
        .map(|chain| async move {
            let mut done = Vec::with_capacity(chain.len());
            for (index, claim, delivery) in chain {
                let result = consumer.send(&delivery).await;
                done.push((index, (claim, delivery), result));
            }
            done
        })
        .buffer_unordered(consumer.concurrency().max(1))
        .flat_map(futures_util::stream::iter)
        .collect()
        .await;
    results.sort_by_key(|(index, ..)| *index);
    let results = results
        .into_iter()
        .map(|(_, delivered, result)| (delivered, result));
    for ((claim, delivery), result) in results {
        match result {
            Ok(()) => sent.push((claim, delivery)),
            Err(e) => {
                store
                    .delivery_failed(consumer, &delivery.id, delivery.attempt, &e)
                    .await?;
                pass.failed += 1;
            }
        }
    }
    if sent.is_empty() {
        return Ok(pass);
    }
    // The whole batch in one transaction; if any event's effects fail, each alone.
    match store.apply_deliveries(consumer, &sent, true).await {
        Ok(()) => pass.delivered += sent.len(),
        Err(_) => {
            for one in sent {
                let single = std::slice::from_ref(&one);
                match store.apply_deliveries(consumer, single, false).await {
                    Ok(()) => pass.delivered += 1,
                    Err(e) => {
                        let e = DeliveryError::new(e.to_string());
                        store
                            .delivery_failed(consumer, &one.1.id, one.1.attempt, &e)
                            .await?;
                        pass.failed += 1;
                    }
                }
            }
        }
    }
    Ok(pass)
}

/// An apply step that failed: the consumer's error or a storage error.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{}", .0.message)]
    Consumer(DeliveryError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl Store {
    /// Makes every event emitted from now on pending for `consumer` too. Idempotent.
    pub async fn register_consumer(&self, consumer: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "insert into outbox_consumers (name, registered_at) values ($1, $2) on conflict (name) do nothing",
        )
        .bind(consumer)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .context("registering an outbox consumer")?;
        tx.commit().await
    }

    /// Claims up to `limit` events due for `consumer` at `now`, oldest first, for [`LEASE_MS`].
    pub async fn claim_batch(
        &self,
        consumer: &str,
        now: i64,
        limit: i64,
    ) -> StoreResult<Vec<Claimed>> {
        let claim = random_token(12);
        let sql = format!(
            "update outbox_deliveries set claim = $1, claimed_until = $2, attempts = attempts + 1 \
             where consumer = $3 and event_id in ( \
               select event_id from outbox_deliveries \
               where consumer = $3 and given_up_at is null and next_attempt_at <= $4 and claimed_until <= $4 \
               order by created_at, event_id limit $5{})",
            self.engine().skip_locked()
        );
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&claim)
            .bind(now + LEASE_MS)
            .bind(consumer)
            .bind(now)
            .bind(limit)
            .execute(&mut *tx)
            .await
            .context("claiming outbox events")?;
        tx.commit().await?;
        if claimed.rows_affected() == 0 {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
            "select o.id, o.payload, o.schema_version, o.created_at, p.attempts \
             from outbox_deliveries p join outbox o on o.id = p.event_id \
             where p.consumer = $1 and p.claim = $2 order by o.created_at, o.id",
        )
        .bind(consumer)
        .bind(&claim)
        .fetch_all(self.pool())
        .await
        .context("reading claimed outbox events")?;
        Ok(rows
            .into_iter()
            .map(|(id, payload, v, created_at, attempt)| Claimed {
                claim: claim.clone(),
                id,
                event: Envelope::decode(v, &payload).map_err(|e| format!("{e:#}")),
                created_at,
                attempt,
            })
            .collect())
    }

    /// Applies `deliveries` for `consumer` and marks them delivered, in one transaction.
    /// `whole_claim`: they are every event still held under their claim (a batch less the ones
    /// whose sending failed, which gave their claim back), so one statement marks them all.
    async fn apply_deliveries(
        &self,
        consumer: &dyn Consumer,
        deliveries: &[(String, Delivery)],
        whole_claim: bool,
    ) -> Result<(), ApplyError> {
        let mut tx = self.begin_write().await?;
        for (claim, delivery) in deliveries {
            consumer
                .apply(&mut tx, delivery)
                .await
                .map_err(ApplyError::Consumer)?;
            if !whole_claim {
                sqlx::query(
                    "delete from outbox_deliveries where event_id = $1 and consumer = $2 and claim = $3",
                )
                .bind(&delivery.id)
                .bind(consumer.name())
                .bind(claim)
                .execute(&mut *tx)
                .await
                .context("marking an event delivered")
                .map_err(crate::store::StoreError::from)?;
            }
        }
        if whole_claim && let Some((claim, _)) = deliveries.first() {
            let done =
                sqlx::query("delete from outbox_deliveries where consumer = $1 and claim = $2")
                    .bind(consumer.name())
                    .bind(claim)
                    .execute(&mut *tx)
                    .await
                    .context("marking events delivered")
                    .map_err(crate::store::StoreError::from)?;
            if usize::try_from(done.rows_affected()).ok() != Some(deliveries.len()) {
                // Some lease ran out and another worker holds them now: leave them to it.
                return Err(ApplyError::Store(crate::store::StoreError::from(
                    anyhow::anyhow!("a claim changed hands during its delivery"),
                )));
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed attempt: retried after its backoff, or given up after the consumer's
    /// attempts.
    async fn delivery_failed(
        &self,
        consumer: &dyn Consumer,
        event_id: &str,
        attempt: i64,
        error: &DeliveryError,
    ) -> StoreResult<()> {
        let now = now_ms();
        if error.later {
            let mut tx = self.begin_write().await?;
            sqlx::query(
                "update outbox_deliveries set claim = null, claimed_until = 0, next_attempt_at = $1, \
                   attempts = attempts - 1 where event_id = $2 and consumer = $3",
            )
            .bind(now + error.retry_after_ms.unwrap_or(0))
            .bind(event_id)
            .bind(consumer.name())
            .execute(&mut *tx)
            .await
            .context("putting off a delivery")?;
            return tx.commit().await;
        }
        let given_up = (attempt >= consumer.max_attempts()).then_some(now);
        tracing::warn!(
            consumer = consumer.name(),
            event = event_id,
            attempt,
            given_up = given_up.is_some(),
            error = %error.message,
            "an event was not delivered"
        );
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "update outbox_deliveries set claim = null, claimed_until = 0, next_attempt_at = $1, \
               last_error = $2, given_up_at = $3 where event_id = $4 and consumer = $5",
        )
        .bind(now + backoff_ms(attempt, error.retry_after_ms))
        .bind(error.message.chars().take(500).collect::<String>())
        .bind(given_up)
        .bind(event_id)
        .bind(consumer.name())
        .execute(&mut *tx)
        .await
        .context("recording a failed delivery")?;
        tx.commit().await
    }

    /// Events still pending for `consumer` (due or waiting for a retry), and given up.
    pub async fn outbox_backlog(&self, consumer: &str) -> StoreResult<(i64, i64)> {
        let (pending, given_up): (i64, i64) = sqlx::query_as(
            "select coalesce(sum(case when given_up_at is null then 1 else 0 end), 0), \
                    coalesce(sum(case when given_up_at is null then 0 else 1 end), 0) \
             from outbox_deliveries where consumer = $1",
        )
        .bind(consumer)
        .fetch_one(self.pool())
        .await
        .context("counting the outbox backlog")?;
        Ok((pending, given_up))
    }
}

/// Delivers what is due for the platform's consumers now (tests and tools; servers run
/// [`Dispatcher::spawn`]). Returns how many deliveries were made.
pub async fn deliver_pending(store: &Store, now: i64) -> StoreResult<usize> {
    let dispatcher = Dispatcher::standard(store.clone());
    Ok(dispatcher.deliver_due(now).await?.delivered)
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_doubles_with_jitter_up_to_an_hour_and_honours_retry_after() {
        for (attempt, base) in [(1, 1000), (2, 2000), (5, 16_000)] {
            let wait = backoff_ms(attempt, None);
            assert!(
                (base * 3 / 4..=base * 5 / 4).contains(&wait),
                "{attempt}: {wait}"
            );
        }
        assert!(backoff_ms(40, None) <= 3_600_000 * 5 / 4);
        assert!(backoff_ms(1, Some(120_000)) >= 120_000);
    }
}
