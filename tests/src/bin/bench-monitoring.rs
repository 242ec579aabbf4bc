//! `bench-monitoring`: the service-quality index and the national sync.
//!
//! 1. A year of 1,000,000 dossiers (the demo history's generator, with what the index reads:
//!    the national portal's acknowledgements, ratings), folded into the index's rollup: the
//!    time to compute the scorecard of the last twelve whole months for the whole platform and
//!    for one province, and of the 365 days to today (whose edge months are read dossier by
//!    dossier), best and median of three.
//! 2. A server with its sandboxes (the national portal and EMC over HTTP) and its outbox
//!    workers, taking 200 dossier changes a second for 10 seconds: the delay from each change's
//!    commit to the portal's acknowledgement, p50 and p99.
//!
//! On the engine the tests' variables name: SQLite (a fresh file) by default, PostgreSQL (a
//! fresh database) with `MOTCUA_TEST_DATABASE=postgres` and `MOTCUA_TEST_POSTGRES_URL`.

use std::time::{Duration, Instant};

use motcua_server::{
    events::{self, DomainEvent, DossierChange, DossierEvent},
    monitoring::{scorecard, storage::ScopeFilter},
    sandbox::history::{self, Plan},
    store::{Store, now_ms},
};
use motcua_shared::{Lang, calendar::Day, dossier::DossierStatus};

const DOSSIERS: usize = 1_000_000;
const RATE_PER_SEC: u64 = 200;
const LOAD_SECS: u64 = 10;

fn quantile(sorted: &[i64], q: f64) -> i64 {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

async fn time_scorecard(
    store: &Store,
    scope: &ScopeFilter,
    (first, end): (Day, Day),
) -> anyhow::Result<Vec<f64>> {
    let (from, to) = (first.start_ms(), end.start_ms());
    let mut took = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let facts = store
            .scorecard_facts(scope, (first, end), now_ms(), Lang::Vi)
            .await?;
        if std::env::var_os("MOTCUA_BENCH_SPLIT").is_some() {
            eprintln!("facts read in {:.2} s", started.elapsed().as_secs_f64());
        }
        let groups = scorecard::score(&facts, from, to, Lang::Vi);
        let times = scorecard::processing_times(&facts);
        anyhow::ensure!(groups.len() == 6 && !times.is_empty(), "an empty scorecard");
        anyhow::ensure!(
            scorecard::active_count(&facts) > 0,
            "no dossiers in the period"
        );
        took.push(started.elapsed().as_secs_f64());
    }
    took.sort_by(f64::total_cmp);
    Ok(took)
}

/// The first day of the month `back` months before the one holding `today`.
fn month_start(today: Day, back: i64) -> Day {
    let m = motcua_server::monitoring::rollup::month_of(today) - back;
    let month = u32::try_from(m.rem_euclid(12)).unwrap_or(0) + 1;
    Day::from_ymd(m.div_euclid(12), month, 1).unwrap_or(today)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let engine = match motcua_tests::engine() {
        motcua_tests::Engine::Sqlite => "SQLite",
        motcua_tests::Engine::Postgres => "PostgreSQL",
    };
    let people = motcua_server::sandbox::people::load()?;
    let today = Day::of_instant(now_ms());

    // 1. The index over a year of a million dossiers (`MOTCUA_BENCH_PART=sync` skips it,
    // `=scorecard` runs it alone).
    if std::env::var("MOTCUA_BENCH_PART").as_deref() != Ok("sync") {
        scorecard_part(&people, today, engine).await?;
    }
    if std::env::var("MOTCUA_BENCH_PART").as_deref() == Ok("scorecard") {
        return Ok(());
    }
    sync_part(&people, today, engine).await
}

async fn scorecard_part(
    people: &[motcua_server::sandbox::people::DemoPerson],
    today: Day,
    engine: &str,
) -> anyhow::Result<()> {
    let db = motcua_tests::TestDatabase::new().await;
    // `MOTCUA_BENCH_KEEP=URL` keeps the seeded database there, for a closer look; a database
    // kept before is measured again as it is.
    let url = std::env::var("MOTCUA_BENCH_KEEP").unwrap_or_else(|_| db.url.clone());
    let store = motcua_server::store::Store::connect(&url, 4).await?;
    store.migrate().await?;
    motcua_server::procedures::seed_catalogue(&store).await?;
    let started = Instant::now();
    let dossiers = std::env::var("MOTCUA_BENCH_DOSSIERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DOSSIERS);
    let per_day = dossiers.div_ceil(365);
    let (kept,): (i64,) = sqlx::query_as("select count(*) from dossiers")
        .fetch_one(store.pool())
        .await?;
    let written = if kept > 0 {
        usize::try_from(kept)?
    } else {
        history::seed(
            &store,
            people,
            Plan {
                days: 365,
                per_day,
                today,
                detail: false,
            },
        )
        .await?
    };
    let seeding = started.elapsed();
    // What the worker does every few seconds: fold the triggers' changes into the rollup
    // (here a million at once).
    let started = Instant::now();
    store.fold_dossier_classes().await?;
    let folding = started.elapsed();
    let (classes,): (i64,) = sqlx::query_as("select count(*) from dossier_classes")
        .fetch_one(store.pool())
        .await?;
    sqlx::query("analyze").execute(store.pool()).await?;
    // The year as the statistics page asks for it (twelve whole months), and the 365 days to
    // today (both edges inside a month: those months' dossiers are read one by one).
    let year = (month_start(today, 12), month_start(today, 0));
    let rolling = (Day(today.0 - 365), today);
    let platform = time_scorecard(&store, &ScopeFilter::default(), year).await?;
    let province = time_scorecard(
        &store,
        &ScopeFilter {
            province: "01".into(),
            ..ScopeFilter::default()
        },
        year,
    )
    .await?;
    let days = time_scorecard(&store, &ScopeFilter::default(), rolling).await?;
    println!(
        "monitoring {engine}: the year's scorecard ({} to {}) over {written} dossiers: platform best {:.2} s (median {:.2} s), one province best {:.2} s; \
         the 365 days to today best {:.2} s (median {:.2} s); seeding took {:.0} s, folding it into {classes} classes {:.1} s",
        year.0.iso(),
        Day(year.1.0 - 1).iso(),
        platform[0],
        platform[1],
        province[0],
        days[0],
        days[1],
        seeding.as_secs_f64(),
        folding.as_secs_f64()
    );
    store.close().await;
    drop(db);
    Ok(())
}

/// 2. The sync's latency under load, over HTTP to the sandbox portal.
async fn sync_part(
    people: &[motcua_server::sandbox::people::DemoPerson],
    today: Day,
    engine: &str,
) -> anyhow::Result<()> {
    let app = motcua_tests::spawn_app_with(|c| c.worker_interval_secs = 1).await;
    history::seed(
        &app.store,
        people,
        Plan {
            days: 4,
            per_day: 1000,
            today,
            detail: false,
        },
    )
    .await?;
    let ids: Vec<(String,)> =
        sqlx::query_as("select id from dossiers where id like 'history-%' order by id")
            .fetch_all(app.store.pool())
            .await?;
    let total = usize::try_from(RATE_PER_SEC * LOAD_SECS)?;
    anyhow::ensure!(ids.len() >= total, "too few dossiers to change");
    let mut emitted = Vec::with_capacity(total);
    let tick = Duration::from_micros(1_000_000 / RATE_PER_SEC);
    let mut next = tokio::time::Instant::now();
    for (id,) in ids.iter().take(total) {
        next += tick;
        tokio::time::sleep_until(next).await;
        let mut tx = app.store.begin_write().await?;
        let event_id = events::emit(
            &mut tx,
            &DomainEvent::Dossier(DossierEvent {
                dossier_id: id.clone(),
                change: DossierChange::Received,
                from: Some(DossierStatus::Submitted),
                to: DossierStatus::Received,
                reason: None,
                actor: "system:bench".into(),
                seq: 100,
            }),
        )
        .await?;
        tx.commit().await?;
        emitted.push(event_id);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let delays = loop {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "select event_id, changed_at, acked_at from national_sync where system = 'portal' and seq = 100",
        )
        .fetch_all(app.store.pool())
        .await?;
        if rows.len() >= total || Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    if delays.len() < total {
        let waiting: Vec<(i64, Option<String>)> = sqlx::query_as(
            "select attempts, last_error from outbox_deliveries where consumer = 'national_portal' limit 5",
        )
        .fetch_all(app.store.pool())
        .await?;
        // What became of the changes not recorded: their deliveries (any consumer), and what the
        // sandbox portal holds of their dossiers.
        let recorded: std::collections::HashSet<&str> =
            delays.iter().map(|(id, ..)| id.as_str()).collect();
        let mut missing = Vec::new();
        for id in emitted
            .iter()
            .filter(|id| !recorded.contains(id.as_str()))
            .take(5)
        {
            let deliveries: Vec<(String, i64, Option<String>, Option<i64>)> = sqlx::query_as(
                "select consumer, attempts, last_error, given_up_at from outbox_deliveries where event_id = $1",
            )
            .bind(id)
            .fetch_all(app.store.pool())
            .await?;
            let acks: Vec<(String, i64)> =
                sqlx::query_as("select system, seq from national_sync where event_id = $1")
                    .bind(id)
                    .fetch_all(app.store.pool())
                    .await?;
            missing.push(format!(
                "{id}: deliveries {deliveries:?}, acknowledgements {acks:?}"
            ));
        }
        anyhow::bail!(
            "the portal acknowledged {} of {total} changes; still pending, for example: {waiting:?}; unrecorded: {missing:?}",
            delays.len()
        );
    }
    let mut ms: Vec<i64> = delays.iter().map(|(_, c, a)| a - c).collect();
    ms.sort_unstable();
    println!(
        "monitoring {engine}: sync to the national portal under {RATE_PER_SEC} changes/s for {LOAD_SECS} s: p50 {} ms, p99 {} ms (commit to acknowledgement, over HTTP)",
        quantile(&ms, 0.5),
        quantile(&ms, 0.99)
    );
    Ok(())
}
