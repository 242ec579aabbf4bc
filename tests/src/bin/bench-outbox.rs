//! `bench-outbox [DATABASE_URL]`: how fast one instance delivers the outbox to notices.
//!
//! 1. A burst: 10,000 events already in the outbox, delivered to notices by one dispatcher pass
//!    (claims of 256, each batch in one transaction). Prints the time and events/s.
//! 2. A steady load: events emitted at 1,000 a second for 10 seconds, each in its own committed
//!    transaction, with the dispatcher running as in the server (woken by each commit). Prints
//!    the lag from commit to the notice's creation, p50 and p99, and to the live feed's row.
//!    Every consumer of these events runs: notices, push (each new notice is an event too) and
//!    the live feed.
//!
//! Runs on a fresh SQLite file (synchronous as the server configures it) unless a PostgreSQL
//! URL is given, whose database it uses as it is (give it an empty one).

use std::time::{Duration, Instant};

use motcua_server::{
    events::{self, DomainEvent, DossierChange, DossierEvent},
    outbox::Dispatcher,
    store::{Store, now_ms},
};
use motcua_shared::dossier::DossierStatus;

const BURST: usize = 10_000;
const RATE_PER_SEC: u64 = 1_000;
const STEADY_SECS: u64 = 10;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.path().display()));
    let store = Store::connect(&url, 8).await?;
    store.migrate().await?;
    motcua_server::procedures::seed_catalogue(&store).await?;
    let dossier = seed_dossier(&store).await?;

    // 1. The burst.
    emit_many(&store, &dossier, BURST, 500).await?;
    // The platform's consumers of these events: notices, push and the live feed.
    let config = motcua_server::Config {
        data_dir: dir.path().to_path_buf(),
        ..motcua_server::Config::default()
    };
    let dispatcher = Dispatcher::standard(store.clone())
        .with(std::sync::Arc::new(
            motcua_server::notifications::push::PushConsumer {
                store: store.clone(),
                push: std::sync::Arc::new(motcua_server::notifications::push::WebPush::new(
                    &config,
                )?),
                metrics: motcua_server::monitoring::Metrics::new()?,
            },
        ))
        .with(std::sync::Arc::new(
            motcua_server::notifications::live::LiveConsumer,
        ));
    dispatcher.register().await?;
    let started = Instant::now();
    let pass = dispatcher.deliver_due(now_ms()).await?;
    let took = started.elapsed();
    // Each event to each of three consumers, and each notice it writes (an event of its own)
    // to each of them again.
    anyhow::ensure!(
        pass.delivered == BURST * 6 && pass.failed == 0,
        "the burst delivered {} and failed {}",
        pass.delivered,
        pass.failed
    );
    let notices = count(&store, "select count(*) from notices").await?;
    anyhow::ensure!(
        notices == BURST as i64,
        "{notices} notices for {BURST} events"
    );
    println!(
        "outbox burst: {BURST} events delivered to notices, push and the live feed (with the {BURST} notices they made, {} deliveries) in {:.2} s ({:.0} events/s; target under 10 s)",
        pass.delivered,
        took.as_secs_f64(),
        BURST as f64 / took.as_secs_f64()
    );

    // 2. The steady load, with the dispatcher running as in a server.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = dispatcher.clone().spawn(Duration::from_secs(1), stopped);
    let steady_from = now_ms();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / RATE_PER_SEC));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total = RATE_PER_SEC * STEADY_SECS;
    for _ in 0..total {
        tick.tick().await;
        emit_many(&store, &dossier, 1, 1).await?;
    }
    // Let the last ones arrive.
    let expected = BURST as i64 + total as i64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&store, "select count(*) from notices").await? < expected {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the steady load was not delivered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(true);
    for w in workers {
        let _ = w.await;
    }
    let mut lags: Vec<i64> = sqlx::query_as::<_, (i64,)>(
        "select n.created_at - o.created_at from notices n join outbox o on o.id = n.id \
         where o.created_at >= $1",
    )
    .bind(steady_from)
    .fetch_all(store.pool())
    .await?
    .into_iter()
    .map(|(lag,)| lag)
    .collect();
    lags.sort_unstable();
    let pick = |q: f64| percentile(&lags, q);
    println!(
        "outbox lag at {RATE_PER_SEC} events/s for {STEADY_SECS} s ({} events), commit to notice: p50 {} ms, p99 {} ms, max {} ms (target p99 under 1000 ms)",
        lags.len(),
        pick(0.5),
        pick(0.99),
        lags.last().copied().unwrap_or(0)
    );
    // The same events as the open PWA hears of them (the live feed's row, from the live consumer).
    let mut live: Vec<i64> = sqlx::query_as::<_, (i64,)>(
        "select l.created_at - o.created_at from live_events l join outbox o on o.id = l.event_id \
         where o.created_at >= $1 and l.kind = 'dossier'",
    )
    .bind(steady_from)
    .fetch_all(store.pool())
    .await?
    .into_iter()
    .map(|(lag,)| lag)
    .collect();
    live.sort_unstable();
    let at = |q: f64| percentile(&live, q);
    println!(
        "outbox lag to the live feed (SSE), same load ({} events): p50 {} ms, p99 {} ms (target p99 under 1000 ms)",
        live.len(),
        at(0.5),
        at(0.99)
    );
    store.close().await;
    Ok(())
}

/// The `q` quantile of sorted values (0 when there are none).
fn percentile(sorted: &[i64], q: f64) -> i64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).copied().unwrap_or(0)
}

async fn count(store: &Store, sql: &'static str) -> anyhow::Result<i64> {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(store.pool()).await?;
    Ok(n)
}

/// A person and a dossier the events are about.
async fn seed_dossier(store: &Store) -> anyhow::Result<String> {
    let now = now_ms();
    sqlx::query(
        "insert into people (id, cccd, issuer, subject, name, birthdate, acr, created_at, updated_at) \
         values ('p1', '001088012345', 'bench', 'p1', 'Nguyễn Văn An', null, 'vneid:level2', $1, $1)",
    )
    .bind(now)
    .execute(store.pool())
    .await?;
    sqlx::query(
        "insert into dossiers (id, receipt_number, procedure_code, applicant_id, agency_code, level, status, \
           answers, verified_fields, time_limit_working_days, submitted_at, updated_at, version, procedure_name, unit_code) \
         values ('d1', 'CA-PCSGT-20261129-0001', '1.002804', 'p1', 'CA-PCSGT', 'province', 'received', \
           '{}', '[]', 5, $1, $1, 1, '{\"vi\":\"Cấp đổi giấy phép lái xe\",\"en\":\"Driving licence renewal\"}', '01')",
    )
    .bind(now)
    .execute(store.pool())
    .await?;
    Ok("d1".into())
}

/// Emits `n` "received" events about `dossier`, `per_tx` to a transaction.
async fn emit_many(store: &Store, dossier: &str, n: usize, per_tx: usize) -> anyhow::Result<()> {
    let event = DomainEvent::Dossier(DossierEvent {
        dossier_id: dossier.to_owned(),
        change: DossierChange::Received,
        from: Some(DossierStatus::Submitted),
        to: DossierStatus::Received,
        reason: None,
        actor: "system:bench".into(),
        seq: 0,
    });
    let mut left = n;
    while left > 0 {
        let mut tx = store.begin_write().await?;
        for _ in 0..per_tx.min(left) {
            events::emit(&mut tx, &event).await?;
        }
        tx.commit().await?;
        left = left.saturating_sub(per_tx);
    }
    Ok(())
}
