//! `bench-seed DATABASE_URL [DOSSIERS] [PEOPLE]`: fills a running server's database with
//! `DOSSIERS` dossiers (1,000,000 by default) of `PEOPLE` other people (10,000), so that the
//! signed-in loads read among them. Each is a copy of one of the bench citizen's own dossiers
//! (same procedure, agency and unit, so the officer's queue holds them too), filed over the last
//! year; one in fifty is still being processed, the others ended with a result five days (three
//! working days) after filing; each fee paid a minute after filing. In SQL, a
//! statement for the people and one for the dossiers (the rollup's triggers run for each), and
//! the rollup folded.

use std::time::Instant;

use motcua_server::store::{Store, now_ms};

const YEAR_MS: i64 = 365 * 86_400_000;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: bench-seed DATABASE_URL [DOSSIERS] [PEOPLE]"))?;
    let dossiers: i64 = args
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let people: i64 = args.next().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let store = Store::connect(&url, 2).await?;
        let started = Instant::now();
        sqlx::query(
            "with recursive n(i) as (select 1 union all select i + 1 from n where i < $1) \
             insert into people (id, cccd, issuer, subject, name, acr, created_at, updated_at) \
             select 'bench-p-' || i, 'bench-' || i, 'bench', 'bench-' || i, 'Người thử ' || i, \
               'vneid:level2', 0, 0 from n",
        )
        .bind(people)
        .execute(store.pool())
        .await?;
        let now = now_ms();
        // One transaction, so that PostgreSQL's per-statement timeout (30 s, set on every
        // connection) can be lifted for this statement alone: the rollup's trigger runs a
        // million times.
        let mut tx = store.pool().begin().await?;
        if store.engine() == motcua_server::store::Engine::Postgres {
            sqlx::query("set local statement_timeout = 0")
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "with recursive n(i) as (select 1 union all select i + 1 from n where i < $1) \
             insert into dossiers (id, receipt_number, procedure_code, applicant_id, agency_code, level, \
               status, answers, verified_fields, time_limit_working_days, submitted_at, received_at, \
               deadline_at, finished_at, working_days, updated_at, version, procedure_name, unit_code, \
               fee_vnd, fee_paid, fee_paid_at) \
             select 'bench-d-' || n.i, 'BENCH-' || n.i, t.procedure_code, 'bench-p-' || (1 + n.i % $2), \
               t.agency_code, t.level, \
               case when n.i % 50 = 0 then 'in_processing' else 'result_issued' end, \
               t.answers, t.verified_fields, t.time_limit_working_days, \
               $3 - n.i * $4, $3 - n.i * $4 + 3600000, $3 - n.i * $4 + 864000000, \
               case when n.i % 50 = 0 then null else $3 - n.i * $4 + 432000000 end, \
               case when n.i % 50 = 0 then -1 else 3 end, \
               $3 - n.i * $4, 3, t.procedure_name, t.unit_code, t.fee_vnd, t.fee_paid, \
               $3 - n.i * $4 + 60000 \
             from n, (select * from dossiers order by submitted_at limit 1) t",
        )
        .bind(dossiers)
        .bind(people)
        .bind(now)
        .bind(YEAR_MS / dossiers.max(1))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        // What the server's worker would do over its first seconds: fold the triggers' million
        // class changes into the index's rollup, so the loads measure the steady state.
        store.fold_dossier_classes().await?;
        let (total,): (i64,) = sqlx::query_as("select cast(count(*) as bigint) from dossiers")
            .fetch_one(store.pool())
            .await?;
        println!(
            "seeded {dossiers} dossiers of {people} people in {:.1} s; the database holds {total}",
            started.elapsed().as_secs_f64()
        );
        store.close().await;
        Ok(())
    })
}
