//! `bench-payments`: how fast one instance starts payments and confirms them by IPN, over HTTP.
//!
//! A server (sandboxes on, SQLite in a temporary folder unless `MOTCUA_TEST_DATABASE=postgres`)
//! gets `N` filed renewals whose fee is due at filing. Then, each with 16 requests in flight:
//!
//! 1. `N` payment starts (`POST /api/v1/payments`, a fresh key each): the claim, the payment, its
//!    line, its audit entry and event in one transaction, and the signed gateway URL.
//! 2. `N` IPN confirmations (`GET /api/v1/payments/vnpay/ipn`, signed as the gateway signs): each
//!    one durable transaction with the payment paid, its ledger entries, the dossier's clock, a
//!    signed receipt in the wallet, the audit entry and the events.
//!
//! The ceiling, measured in the same run on the same database: `N` durable transactions of one
//! inserted row each, with the same concurrency.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures::{StreamExt, stream};
use motcua_tests::{
    LEVEL2_CCCD, TestApp,
    bench::{ceiling_table, one_row_commits, summary},
    pay,
};
use serde_json::{Value, json};

const CONCURRENCY: usize = 16;

async fn file(app: &TestApp, n: usize) -> Vec<String> {
    let answers = app
        .prefilled_answers("1.002804", &[("delivery", json!("counter"))])
        .await;
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let answers = Arc::new(answers);
    stream::iter(0..n)
        .map(|i| {
            let (answers, token) = (answers.clone(), token.clone());
            async move {
                let body: Value = app
                    .client
                    .post(app.url("/api/v1/dossiers"))
                    .header("x-csrf-token", token)
                    .json(&json!({ "procedure_code": "1.002804", "answers": *answers, "idempotency_key": format!("bench-pay-{i:05}") }))
                    .send()
                    .await
                    .expect("answered")
                    .json()
                    .await
                    .expect("json");
                body["id"].as_str().expect("filed").to_owned()
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(Ok(1000), |v| v.parse())
        .unwrap_or(1000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let app = motcua_tests::spawn_app_with(|c| {
            c.filing_rate_per_hour = 1_000_000;
            c.step_up_max_age_secs = 86_400;
        })
        .await;
        app.sign_in(LEVEL2_CCCD).await;
        let dossiers = file(&app, n).await;
        let token = app.me().await["csrf_token"]
            .as_str()
            .expect("a token")
            .to_owned();

        // The ceiling: one-row durable transactions at the same concurrency.
        ceiling_table(&app.store).await?;
        let (latencies, took) = one_row_commits(&app.store, "row", n, CONCURRENCY).await;
        println!(
            "payments ceiling {}",
            summary(
                "one-row durable transactions (synchronous=FULL, the default)",
                latencies,
                took
            )
        );
        // What FULL costs: the same with SQLite's NORMAL (lost on a power cut, not on a crash).
        if app.store.engine() == motcua_server::store::Engine::Sqlite {
            let normal = motcua_server::store::Store::connect_with(
                app.config.database_url.expose(),
                4,
                motcua_server::store::sqlite::Synchronous::Normal,
            )
            .await?;
            let (latencies, took) = one_row_commits(&normal, "normal", n, CONCURRENCY).await;
            println!(
                "payments ceiling {}",
                summary("one-row transactions with synchronous=NORMAL", latencies, took)
            );
            normal.close().await;
        }

        // 1. Payment starts.
        let started = Instant::now();
        let results: Vec<(Duration, String)> = stream::iter(dossiers.iter().enumerate())
            .map(|(i, dossier)| {
                let (app, token) = (&app, token.clone());
                async move {
                    let t = Instant::now();
                    let response = app
                        .client
                        .post(app.url("/api/v1/payments"))
                        .header("x-csrf-token", token)
                        .header("idempotency-key", format!("bench-start-{i:05}"))
                        .json(&json!({ "dossier_id": dossier }))
                        .send()
                        .await
                        .expect("answered");
                    let took = t.elapsed();
                    assert_eq!(response.status().as_u16(), 201);
                    let body: Value = response.json().await.expect("json");
                    (took, body["pay_url"].as_str().expect("a pay URL").to_owned())
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let took = started.elapsed();
        let (latencies, urls): (Vec<Duration>, Vec<String>) = results.into_iter().unzip();
        println!("payments {}", summary("payment starts", latencies, took));

        // 2. IPN confirmations, signed as the gateway signs them.
        let queries: Vec<String> = urls
            .iter()
            .enumerate()
            .map(|(i, url)| {
                let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
                let get = |k: &str| {
                    url::form_urlencoded::parse(query.as_bytes())
                        .find(|(name, _)| name == k)
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                };
                let mut note = format!(
                    "vnp_TmnCode={}&vnp_Amount={}&vnp_TxnRef={}&vnp_ResponseCode=00&vnp_TransactionStatus=00&vnp_TransactionNo={}&vnp_BankCode=NCB&vnp_PayDate=20261130120000&vnp_SecureHash=x",
                    get("vnp_TmnCode"),
                    get("vnp_Amount"),
                    get("vnp_TxnRef"),
                    90_000_000 + i
                );
                note = pay::resigned(&app, &note, "vnp_BankCode", "NCB");
                note
            })
            .collect();
        let started = Instant::now();
        let latencies: Vec<Duration> = stream::iter(queries.iter())
            .map(|query| {
                let app = &app;
                async move {
                    let t = Instant::now();
                    let code = pay::ipn(app, query).await;
                    let took = t.elapsed();
                    assert_eq!(code, "00");
                    took
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        println!(
            "payments {}",
            summary("IPN confirmations", latencies, started.elapsed())
        );
        anyhow::ensure!(
            app.store.unbalanced_transactions().await?.is_empty(),
            "an unbalanced ledger transaction"
        );
        Ok(())
    })
}
