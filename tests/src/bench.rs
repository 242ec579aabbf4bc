//! What the bench binaries share: a latency summary line, and the durable-commit ceiling they
//! compare their writes with.

use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use motcua_server::store::Store;

/// `name: N in S s, R/s, p50, p99` from the latencies of `took`.
pub fn summary(name: &str, mut latencies: Vec<Duration>, took: Duration) -> String {
    latencies.sort();
    let at = |q: f64| {
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    format!(
        "{name}: {} in {:.2} s, {:.0}/s, p50 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        took.as_secs_f64(),
        latencies.len() as f64 / took.as_secs_f64(),
        at(0.5),
        at(0.99)
    )
}

/// Creates the ceiling's table (once per database).
pub async fn ceiling_table(store: &Store) -> anyhow::Result<()> {
    sqlx::query(
        "create table if not exists bench_ceiling (id text primary key, at bigint not null)",
    )
    .execute(store.pool())
    .await?;
    Ok(())
}

/// `n` durable transactions of one inserted row each, `concurrency` at a time: the latencies
/// and the wall time. What the database and disk allow a write, with nothing of the product.
pub async fn one_row_commits(
    store: &Store,
    prefix: &str,
    n: usize,
    concurrency: usize,
) -> (Vec<Duration>, Duration) {
    let started = Instant::now();
    let latencies = stream::iter(0..n)
        .map(|i| {
            let store = store.clone();
            let id = format!("{prefix}-{i}");
            async move {
                let t = Instant::now();
                let mut tx = store.begin_write().await.expect("a transaction");
                sqlx::query("insert into bench_ceiling (id, at) values ($1, $2)")
                    .bind(id)
                    .bind(i as i64)
                    .execute(&mut *tx)
                    .await
                    .expect("inserted");
                tx.commit().await.expect("committed");
                t.elapsed()
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    (latencies, started.elapsed())
}

/// Opens `n` live streams (`GET /api/v1/me/events`) of the session in `cookie`, 200 at a time,
/// each on its own connection; fails unless every one answered 200.
pub async fn open_live_streams(
    base: &str,
    cookie: &str,
    n: usize,
) -> anyhow::Result<Vec<reqwest::Response>> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let mut streams = Vec::with_capacity(n);
    let mut pending = Vec::new();
    for i in 0..n {
        let (client, url, cookie) = (
            client.clone(),
            format!("{base}/api/v1/me/events"),
            cookie.to_owned(),
        );
        pending.push(tokio::spawn(async move {
            client.get(url).header("cookie", cookie).send().await
        }));
        if pending.len() == 200 || i + 1 == n {
            for p in pending.drain(..) {
                streams.push(p.await??);
            }
        }
    }
    anyhow::ensure!(
        streams.iter().all(|s| s.status() == 200),
        "not every live stream opened"
    );
    Ok(streams)
}
