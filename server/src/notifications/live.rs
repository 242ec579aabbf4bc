//! Live updates for the open PWA over Server-Sent Events: a dossier of yours changed, a notice
//! came, a payment moved. An outbox consumer writes each as a row of `live_events` (numbered,
//! per person); each instance has one hub that reads new rows twice a second while anyone is
//! connected and hands them to the connections of their person. A reconnecting client sends the
//! last id it saw (`Last-Event-ID`) and is given what it missed. An idle connection costs a
//! broadcast receiver and a keep-alive every 20 s.

use std::{
    collections::BTreeSet,
    convert::Infallible,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use axum::{
    extract::State,
    http::HeaderMap,
    response::sse::{Event, KeepAlive, Sse},
};
use futures_util::stream::{self, Stream};
use motcua_shared::notification_api::LiveEvent;
use tokio::sync::broadcast;

use crate::{
    AppState,
    error::ApiError,
    events::DomainEvent,
    identity::AuthUser,
    outbox::{Consumer, Delivery, DeliveryError},
    store::{Store, StoreResult, WriteTx},
};

/// One row of the live feed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LiveRow {
    pub seq: i64,
    pub person_id: String,
    pub kind: String,
    pub subject: Option<String>,
}

/// How long one connection lasts before the client reconnects (and its session is checked
/// again).
const CONNECTION_MS: u64 = 15 * 60 * 1000;
/// Rows a reconnecting client is given at most; more and it is told to reload.
const BACKLOG: i64 = 200;

/// The outbox consumer that writes the live feed.
pub struct LiveConsumer;

#[async_trait::async_trait]
impl Consumer for LiveConsumer {
    fn name(&self) -> &'static str {
        "live"
    }

    async fn apply(&self, tx: &mut WriteTx, delivery: &Delivery) -> Result<(), DeliveryError> {
        let write = super::storage::write_live_event;
        match &delivery.event {
            DomainEvent::Dossier(event) => {
                for person in dossier_people(tx, &event.dossier_id).await? {
                    write(tx, &person, &delivery.id, "dossier", &event.dossier_id).await?;
                }
            }
            DomainEvent::Notice(event) => {
                write(
                    tx,
                    &event.person_id,
                    &delivery.id,
                    "notice",
                    &event.notice_id,
                )
                .await?;
            }
            DomainEvent::Payment(event) => {
                write(
                    tx,
                    &event.payer_id,
                    &delivery.id,
                    "payment",
                    &event.payment_id,
                )
                .await?;
            }
            DomainEvent::Credential(_)
            | DomainEvent::Reminder(_)
            | DomainEvent::Feedback(_)
            | DomainEvent::Rating(_) => {}
        }
        Ok(())
    }
}

/// Who follows a dossier: its applicant and, for an organisation's dossier, the organisation's
/// representatives.
async fn dossier_people(tx: &mut WriteTx, dossier_id: &str) -> anyhow::Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "select applicant_id from dossiers where id = $1 \
         union select p.id from dossiers d join representatives r on r.tax_code = d.acting_for \
           join people p on p.cccd = r.cccd where d.id = $1",
    )
    .bind(dossier_id)
    .fetch_all(&mut **tx)
    .await
    .context("finding who follows a dossier")?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

impl Store {
    /// The live feed of `person_id` after `after`, oldest first.
    pub async fn live_events_after(
        &self,
        person_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<LiveRow>> {
        let rows = sqlx::query_as(
            "select seq, person_id, kind, subject from live_events where person_id = $1 and seq > $2 \
             order by seq limit $3",
        )
        .bind(person_id)
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .context("reading the live feed")?;
        Ok(rows)
    }

    /// Everyone's live feed after `after` (the hub's poll), oldest first.
    async fn live_events_since(&self, after: i64) -> StoreResult<Vec<LiveRow>> {
        let rows = sqlx::query_as(
            "select seq, person_id, kind, subject from live_events where seq > $1 order by seq limit 1000",
        )
        .bind(after)
        .fetch_all(self.pool())
        .await
        .context("reading the live feed")?;
        Ok(rows)
    }

    /// The last number of the live feed (0 when empty).
    pub async fn live_head(&self) -> StoreResult<i64> {
        let (head,): (i64,) = sqlx::query_as("select coalesce(max(seq), 0) from live_events")
            .fetch_one(self.pool())
            .await
            .context("reading the live feed's head")?;
        Ok(head)
    }
}

/// This instance's hub: reads new rows of the live feed while anyone is connected and hands
/// them to every connection (each keeps its person's).
#[derive(Clone)]
pub struct LiveHub {
    store: Store,
    sender: broadcast::Sender<Arc<LiveRow>>,
    running: Arc<AtomicBool>,
    /// Turns true when the server shuts down: every stream ends, so a graceful shutdown does
    /// not wait for them.
    closing: Arc<tokio::sync::watch::Sender<bool>>,
}

impl LiveHub {
    pub fn new(store: Store) -> LiveHub {
        LiveHub {
            store,
            sender: broadcast::channel(4096).0,
            running: Arc::new(AtomicBool::new(false)),
            closing: Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    /// Ends every live stream (the server is shutting down; browsers reconnect elsewhere).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// A receiver of every new row; starts the poll when it is not running.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveRow>> {
        let receiver = self.sender.subscribe();
        if !self.running.swap(true, Ordering::SeqCst) {
            tokio::spawn(self.clone().poll());
        }
        receiver
    }

    /// Reads new rows every 500 ms until nobody is connected. A row numbered below one already
    /// seen (a PostgreSQL transaction that committed late) is still handed on: the last 64
    /// numbers are read again each time and the ones seen skipped.
    async fn poll(self) {
        // From a little before the head: a connection that read its backlog just before this
        // poll began misses nothing (each connection skips what it has sent).
        let mut head = match self.store.live_head().await {
            Ok(head) => head - 64,
            Err(e) => {
                tracing::warn!(error = %e, "the live feed could not be read");
                self.running.store(false, Ordering::SeqCst);
                return;
            }
        };
        let mut seen: BTreeSet<i64> = BTreeSet::new();
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if self.sender.receiver_count() == 0 {
                self.running.store(false, Ordering::SeqCst);
                // A connection that came in meanwhile restarts it.
                if self.sender.receiver_count() == 0 || self.running.swap(true, Ordering::SeqCst) {
                    return;
                }
            }
            match self.store.live_events_since(head - 64).await {
                Ok(rows) => {
                    for row in rows {
                        if row.seq <= head - 64 || !seen.insert(row.seq) {
                            continue;
                        }
                        head = head.max(row.seq);
                        let _ = self.sender.send(Arc::new(row));
                    }
                    let floor = head - 64;
                    seen.retain(|seq| *seq > floor);
                }
                Err(e) => tracing::warn!(error = %e, "the live feed could not be read"),
            }
        }
    }
}

fn event_of(row: &LiveRow) -> Event {
    let data = LiveEvent {
        kind: row.kind.clone(),
        subject: row.subject.clone(),
    };
    Event::default()
        .id(row.seq.to_string())
        .event(row.kind.as_str())
        .json_data(data)
        .unwrap_or_default()
}

/// What one connection still has to send.
struct Connection {
    person_id: String,
    backlog: std::vec::IntoIter<LiveRow>,
    receiver: broadcast::Receiver<Arc<LiveRow>>,
    last: i64,
    ends_at: tokio::time::Instant,
    closing: tokio::sync::watch::Receiver<bool>,
}

/// The signed-in person's live events (Server-Sent Events): `dossier`, `notice` and `payment`,
/// each with its number as the event id. Send `Last-Event-ID` to resume after it; a `resync`
/// event means more was missed than is kept, so reload. The stream ends after 15 minutes
/// and the browser reconnects.
#[utoipa::path(
    get, path = "/me/events", tag = "notifications",
    responses((status = 200, description = "Server-sent events without end: each `data:` line one LiveEvent as JSON", content_type = "text/event-stream", body = String))
)]
pub async fn events(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let receiver = state.live.subscribe();
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let person_id = user.person.id.clone();
    let (backlog, last, resync) = match resume {
        Some(after) => {
            let rows = state
                .store
                .live_events_after(&person_id, after, BACKLOG + 1)
                .await?;
            if rows.len() > usize::try_from(BACKLOG).unwrap_or(usize::MAX) {
                (Vec::new(), state.store.live_head().await?, true)
            } else {
                let last = rows.last().map_or(after, |r| r.seq);
                (rows, last, false)
            }
        }
        None => (Vec::new(), state.store.live_head().await?, false),
    };
    let first = resync.then(|| {
        Event::default()
            .event("resync")
            .json_data(LiveEvent {
                kind: "resync".into(),
                subject: None,
            })
            .unwrap_or_default()
    });
    let connection = Connection {
        person_id,
        backlog: backlog.into_iter(),
        receiver,
        last,
        ends_at: tokio::time::Instant::now() + Duration::from_millis(CONNECTION_MS),
        closing: state.live.closing.subscribe(),
    };
    let live = stream::unfold(connection, |mut c| async move {
        if let Some(row) = c.backlog.next() {
            return Some((Ok(event_of(&row)), c));
        }
        loop {
            if *c.closing.borrow() {
                return None;
            }
            let next = tokio::select! {
                next = tokio::time::timeout_at(c.ends_at, c.receiver.recv()) => next,
                _ = c.closing.changed() => return None,
            };
            match next {
                Err(_) | Ok(Err(broadcast::error::RecvError::Closed)) => return None,
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                    let resync = Event::default()
                        .event("resync")
                        .json_data(LiveEvent {
                            kind: "resync".into(),
                            subject: None,
                        })
                        .unwrap_or_default();
                    return Some((Ok(resync), c));
                }
                Ok(Ok(row)) => {
                    if row.person_id == c.person_id && row.seq > c.last {
                        c.last = row.seq;
                        return Some((Ok(event_of(&row)), c));
                    }
                }
            }
        }
    });
    let stream = stream::iter(first.map(Ok)).chain(live);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))))
}

use futures_util::StreamExt as _;
