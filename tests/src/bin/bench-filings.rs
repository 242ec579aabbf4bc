//! `bench-filings [N] [CONCURRENCY]`: durable filings per second on one instance, against the
//! raw ceiling of durable commits measured on the same database in the same run.
//!
//! A server (sandboxes on; SQLite with `synchronous=FULL` in a temporary folder, or PostgreSQL
//! with `MOTCUA_TEST_DATABASE=postgres`) and, `CONCURRENCY` at a time (16 by default):
//!
//! 1. the ceiling: `N` durable transactions of one inserted row each;
//! 2. the storage part of a filing: `N` calls of the storage's `create_dossier` (the idempotency
//!    key, the receipt number, the dossier, its version, event, outbox row and audit entry, one
//!    transaction), as the handler makes it once the registers have answered;
//! 3. end to end: `N` filings over HTTP (`POST /api/v1/dossiers`), session, CSRF, the e-form's
//!    validation and the registers' eligibility checks included.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures::{StreamExt, stream};
use motcua_server::{
    dossiers::storage::NewDossier, monitoring::scorecard::FilingFacts, store::Engine,
};
use motcua_tests::{
    LEVEL2_CCCD,
    bench::{ceiling_table, one_row_commits, summary},
};
use serde_json::json;

const RENEWAL: &str = "1.002804";

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let concurrency: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(16);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let app = motcua_tests::spawn_app_with(|c| {
            c.filing_rate_per_hour = 1_000_000;
            c.drafts_per_person = 1_000_000;
            c.database_max_connections = concurrency.max(4) as u32;
        })
        .await;
        let engine = match app.store.engine() {
            Engine::Sqlite => "SQLite (synchronous=FULL)",
            Engine::Postgres => "PostgreSQL",
        };
        app.sign_in(LEVEL2_CCCD).await;
        let me = app.me().await;
        let token = me["csrf_token"].as_str().expect("a token").to_owned();
        let answers = Arc::new(
            app.prefilled_answers(RENEWAL, &[("delivery", json!("counter"))])
                .await,
        );

        // 1. The ceiling.
        ceiling_table(&app.store).await?;
        let (latencies, took) = one_row_commits(&app.store, "row", n, concurrency).await;
        println!(
            "filings {engine}, {concurrency} in flight: {}",
            summary("ceiling, one-row durable transactions", latencies, took)
        );

        // 2. The storage part, as the handler calls it.
        let (person_id,): (String,) = sqlx::query_as("select id from people where cccd = $1")
            .bind(LEVEL2_CCCD)
            .fetch_one(app.store.pool())
            .await?;
        let detail = app.store.procedure(RENEWAL).await?.expect("the renewal");
        let unit = (motcua_server::dossiers::filing::unit_of(&detail, &answers)
            .expect("the answers name the unit"),);
        let started = Instant::now();
        let latencies: Vec<Duration> = stream::iter(0..n)
            .map(|i| {
                let (store, detail, answers, person_id, unit) = (
                    app.store.clone(),
                    &detail,
                    answers.clone(),
                    person_id.as_str(),
                    unit.0.as_str(),
                );
                async move {
                    let key = format!("bench-storage-{i:06}");
                    let t = Instant::now();
                    let created = store
                        .create_dossier(&NewDossier {
                            procedure: &detail.procedure,
                            applicant_id: person_id,
                            acting_for: None,
                            answers: &answers,
                            verified_fields: &[],
                            deadline_at: Some(motcua_server::store::now_ms() + 86_400_000),
                            receive_by: None,
                            fee_vnd: 0,
                            fee_paid: detail.procedure.fee_paid,
                            pay_by: None,
                            unit_code: unit,
                            idempotency_key: &key,
                            facts: FilingFacts::of(detail, &[]),
                        })
                        .await
                        .expect("filed");
                    assert!(created.is_some(), "a fresh key files");
                    t.elapsed()
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        println!(
            "filings {engine}, {concurrency} in flight: {}",
            summary(
                "storage part of a filing (dossier, version, event, outbox, audit, key)",
                latencies,
                started.elapsed()
            )
        );

        // 3. End to end over HTTP.
        let started = Instant::now();
        let latencies: Vec<Duration> = stream::iter(0..n)
            .map(|i| {
                let (app, answers, token) = (&app, answers.clone(), token.clone());
                async move {
                    let t = Instant::now();
                    let response = app
                        .client
                        .post(app.url("/api/v1/dossiers"))
                        .header("x-csrf-token", token)
                        .json(&json!({
                            "procedure_code": RENEWAL,
                            "answers": *answers,
                            "idempotency_key": format!("bench-http-{i:06}"),
                        }))
                        .send()
                        .await
                        .expect("answered");
                    let took = t.elapsed();
                    assert_eq!(
                        response.status().as_u16(),
                        201,
                        "{:?}",
                        response.text().await
                    );
                    took
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        println!(
            "filings {engine}, {concurrency} in flight: {}",
            summary(
                "end to end over HTTP (registers' checks included)",
                latencies,
                started.elapsed()
            )
        );
        let report = app.store.verify_audit_chain().await?;
        anyhow::ensure!(
            matches!(report, motcua_server::audit::ChainReport::Intact { .. }),
            "the audit chain after the bench: {report:?}"
        );
        Ok(())
    })
}
