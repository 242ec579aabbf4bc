//! Months of demo history, so that the statistics, the dashboards and the index mean something
//! on the demo's first start (`MOTCUA_SANDBOX_SEED_HISTORY`, which `cargo xtask run` sets), and
//! so that the bench can measure the index over a million dossiers.
//!
//! The history is what the platform's own paths would have left behind: dossiers of the demo
//! people in their own units, filed at office hours over past days, received, decided on time or
//! late by the desks' demo officers with the legal clock of the real calendar, fees paid online,
//! every change acknowledged by the national portal and EMC (a few slowly), ratings and
//! feedback with answers. It is written as rows, backdated, in large transactions: nothing in
//! it is sent to the national systems again, and one audit entry records the seeding.

use anyhow::Context;
use motcua_shared::{
    calendar::{Calendar, Day},
    procedure::ProcedureDetail,
};

use super::people::DemoPerson;
use crate::store::{Store, now_ms};

/// How much history to write.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Days of history, ending the day before `today`.
    pub days: i64,
    pub per_day: usize,
    pub today: Day,
    /// Also the timeline, ratings, feedback and the national systems' acknowledgements
    /// (the demo); without, only what the index reads beside the dossier (the bench).
    pub detail: bool,
}

/// A small deterministic generator: the same history every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        #[allow(clippy::cast_precision_loss)]
        let x = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        x < p
    }
}

const HOUR: i64 = 3_600_000;
const MINUTE: i64 = 60_000;

/// Whether the history was written already.
pub async fn seeded(store: &Store) -> anyhow::Result<bool> {
    let (n,): (i64,) = sqlx::query_as("select count(*) from dossiers where id like 'history-%'")
        .fetch_one(store.pool())
        .await
        .context("looking for demo history")?;
    Ok(n > 0)
}

/// Ensures a row for each demo person (their first sign-in refreshes it); returns
/// `(person, id)` pairs.
async fn person_ids<'a>(
    store: &Store,
    people: &'a [DemoPerson],
) -> anyhow::Result<Vec<(&'a DemoPerson, String)>> {
    let mut ids = Vec::new();
    for person in people {
        let now = now_ms();
        sqlx::query(
            "insert into people (id, cccd, issuer, subject, name, birthdate, acr, created_at, updated_at) \
             values ($1, $2, 'demo-history', $2, $3, $4, $5, $6, $6) on conflict (cccd) do nothing",
        )
        .bind(format!("history-person-{}", person.cccd.as_str()))
        .bind(person.cccd.as_str())
        .bind(&person.name)
        .bind(&person.birthdate)
        .bind(person.acr.as_str())
        .bind(now)
        .execute(store.pool())
        .await
        .context("adding a demo person")?;
        let (id,): (String,) = sqlx::query_as("select id from people where cccd = $1")
            .bind(person.cccd.as_str())
            .fetch_one(store.pool())
            .await?;
        ids.push((person, id));
    }
    Ok(ids)
}

/// One dossier of the history and what surrounds it.
struct Synth {
    id: String,
    receipt: String,
    procedure: usize,
    applicant: String,
    unit: String,
    status: &'static str,
    submitted: i64,
    received: Option<i64>,
    deadline: Option<i64>,
    finished: Option<i64>,
    /// Its processing time in working days once finished; -1 before.
    working_days: i64,
    overdue: Option<i64>,
    fee: i64,
    fee_paid: Option<i64>,
    verified: String,
    filing: crate::monitoring::scorecard::FilingFacts,
    officer: Option<String>,
}

/// Writes the history of `plan`; returns how many dossiers.
#[allow(clippy::too_many_lines)]
pub async fn seed(store: &Store, people: &[DemoPerson], plan: Plan) -> anyhow::Result<usize> {
    let calendar = Calendar::vietnam_shared()?;
    let procedures: Vec<ProcedureDetail> = store.procedure_details().await?;
    anyhow::ensure!(!procedures.is_empty(), "the catalogue is empty");
    let applicants = person_ids(store, people).await?;
    // The desks' officers, by agency and unit.
    let officers: Vec<(String, String, String)> = applicants
        .iter()
        .filter_map(|(p, id)| {
            p.officer
                .as_ref()
                .map(|a| (a.agency_code.clone(), a.unit_code.clone(), id.clone()))
        })
        .collect();
    let citizens: Vec<&(&DemoPerson, String)> = applicants
        .iter()
        .filter(|(p, _)| p.officer.is_none())
        .collect();
    anyhow::ensure!(!citizens.is_empty(), "no demo citizens");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let total = usize::try_from(plan.days).unwrap_or(0) * plan.per_day;
    let mut written = 0;
    let mut batch: Vec<Synth> = Vec::with_capacity(100);
    let first_day = plan.today.0 - plan.days;
    for n in 0..total {
        let day = Day(first_day + i64::try_from(n / plan.per_day.max(1)).unwrap_or(0));
        let p_index = usize::try_from(rng.below(procedures.len() as u64)).unwrap_or(0);
        let detail = &procedures[p_index];
        let p = &detail.procedure;
        let (person, applicant) =
            citizens[usize::try_from(rng.below(citizens.len() as u64)).unwrap_or(0)];
        let unit = person.address.unit_at(p.level).to_owned();
        // Filed at an office hour (some at night), received within the office hours after.
        let submitted = day.at_minute(7 * 60 + i64::try_from(rng.below(14 * 60)).unwrap_or(0));
        let age_days = plan.today.0 - day.0;
        let received = (age_days > 1 || rng.chance(0.6)).then(|| {
            calendar.add_office_hours(submitted, 1 + u32::try_from(rng.below(6)).unwrap_or(0))
        });
        let limit = u32::from(p.time_limit_working_days);
        let deadline = received.map(|r| calendar.deadline(r, limit));
        let now = plan.today.start_ms();
        let late = rng.chance(0.08);
        let refused = rng.chance(0.05);
        let withdrawn = received.is_none() && rng.chance(0.3);
        let finished = match (received, deadline) {
            _ if withdrawn => {
                Some(submitted + HOUR * i64::try_from(1 + rng.below(20)).unwrap_or(1))
            }
            (Some(r), Some(d)) => {
                let done = if late {
                    d + HOUR * i64::try_from(4 + rng.below(24 * 6)).unwrap_or(4)
                } else {
                    r + (d - r).max(HOUR) * i64::try_from(1 + rng.below(9)).unwrap_or(1) / 10
                };
                (done < now).then_some(done)
            }
            _ => None,
        };
        let status = match (withdrawn, received, finished) {
            (true, _, _) => "withdrawn",
            (_, None, _) => "submitted",
            (_, Some(_), Some(_)) if refused => "rejected",
            (_, Some(_), Some(_)) => "result_issued",
            (_, Some(_), None) => "in_processing",
        };
        let overdue = match (status, deadline) {
            ("in_processing", Some(d)) if d < now => Some(d + HOUR),
            (_, Some(d)) if finished.is_some_and(|f| f > d) => Some(d + HOUR),
            _ => None,
        };
        let fee = p.online_fee_vnd.0;
        let fee_paid = (fee > 0 && rng.chance(0.92)).then_some(submitted + 3 * MINUTE);
        let verified: Vec<&str> = detail
            .form
            .iter()
            .flat_map(|f| f.fields.iter())
            .filter(|f| f.source.is_some())
            .map(|f| f.name.as_str())
            .collect();
        let officer = officers
            .iter()
            .find(|(agency, u, _)| {
                *agency == p.agency.code && motcua_shared::units::is_within(&unit, u)
            })
            .map(|o| o.2.clone());
        let (y, m, d) = day.ymd();
        batch.push(Synth {
            id: format!("history-{n:07}"),
            receipt: format!("{}-{y:04}{m:02}{d:02}-H{n:07}", p.agency.code),
            procedure: p_index,
            applicant: applicant.clone(),
            unit,
            status,
            submitted,
            received,
            deadline,
            finished,
            working_days: finished.map_or(-1, |f| {
                i64::from(crate::monitoring::rollup::working_days(
                    calendar,
                    received.unwrap_or(submitted),
                    f,
                ))
            }),
            overdue,
            fee,
            fee_paid,
            verified: serde_json::to_string(&verified)?,
            filing: crate::monitoring::scorecard::FilingFacts::of(
                detail,
                &verified.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>(),
            ),
            officer,
        });
        if batch.len() == 100 || n + 1 == total {
            written += write(store, &procedures, &batch, &mut rng, plan.detail).await?;
            batch.clear();
        }
    }
    let mut tx = store.begin_write().await?;
    crate::audit::append(
        &mut tx,
        &crate::audit::Event {
            actor: "system:demo",
            action: "demo.history_seeded",
            subject: "dossiers",
            details: serde_json::json!({ "dossiers": written, "days": plan.days }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(written)
}

/// `head` followed by `rows` tuples of `cols` numbered placeholders (`$1`, …: both engines
/// read them).
fn insert_sql(head: &str, rows: usize, cols: usize) -> sqlx::AssertSqlSafe<String> {
    let mut sql = String::with_capacity(head.len() + rows * cols * 6);
    sql.push_str(head);
    sql.push_str(" values ");
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("${}", r * cols + c + 1));
        }
        sql.push(')');
    }
    sqlx::AssertSqlSafe(sql)
}

/// A timeline entry: id, dossier, when, who, what, from and to.
type TimelineRow = (
    String,
    String,
    i64,
    String,
    &'static str,
    Option<&'static str>,
    &'static str,
);

/// Writes one batch and what surrounds it, in one transaction.
#[allow(clippy::too_many_lines)]
async fn write(
    store: &Store,
    procedures: &[ProcedureDetail],
    batch: &[Synth],
    rng: &mut Rng,
    detail: bool,
) -> anyhow::Result<usize> {
    // What the national portal acknowledged: each change, most within seconds, a few late.
    let mut acks: Vec<(String, String, i64, &'static str, i64, i64)> = Vec::new();
    let mut events: Vec<TimelineRow> = Vec::new();
    for s in batch {
        let mut steps: Vec<(
            i64,
            &'static str,
            Option<&'static str>,
            &'static str,
            String,
        )> = vec![(
            s.submitted,
            "submitted",
            None,
            "submitted",
            format!("person:{}", s.applicant),
        )];
        let officer = s
            .officer
            .as_ref()
            .map_or_else(|| "system:demo".to_owned(), |o| format!("officer:{o}"));
        if s.fee_paid.is_some() {
            steps.push((
                s.submitted + 3 * MINUTE,
                "fee_paid",
                Some("submitted"),
                "submitted",
                "system:payments".into(),
            ));
        }
        if let Some(r) = s.received {
            steps.push((
                r,
                "received",
                Some("submitted"),
                "received",
                officer.clone(),
            ));
            steps.push((
                r + 10 * MINUTE,
                "processing_started",
                Some("received"),
                "in_processing",
                officer.clone(),
            ));
        }
        match (s.status, s.finished) {
            ("result_issued", Some(f)) => {
                steps.push((
                    f - HOUR,
                    "approved",
                    Some("in_processing"),
                    "approved",
                    officer.clone(),
                ));
                steps.push((
                    f,
                    "result_issued",
                    Some("approved"),
                    "result_issued",
                    officer.clone(),
                ));
            }
            ("rejected", Some(f)) => steps.push((
                f,
                "rejected",
                Some("in_processing"),
                "rejected",
                officer.clone(),
            )),
            ("withdrawn", Some(f)) => steps.push((
                f,
                "withdrawn",
                Some("submitted"),
                "withdrawn",
                format!("person:{}", s.applicant),
            )),
            _ => {}
        }
        for (k, (at, action, from, to, actor)) in steps.into_iter().enumerate() {
            let delay = if rng.chance(0.01) {
                20 * MINUTE + i64::try_from(rng.below(3 * 3_600)).unwrap_or(0) * 1000
            } else {
                200 + i64::try_from(rng.below(2800)).unwrap_or(0)
            };
            acks.push((
                format!("{}-{k}", s.id),
                s.id.clone(),
                i64::try_from(k + 1).unwrap_or(1),
                to,
                at,
                at + delay,
            ));
            if detail {
                events.push((
                    format!("{}-{k}", s.id),
                    s.id.clone(),
                    at,
                    actor,
                    action,
                    from,
                    to,
                ));
            }
        }
    }
    // Ratings of most ended dossiers (late ones less happy), and some feedback with answers.
    let mut ratings = Vec::new();
    let mut feedback = Vec::new();
    for s in batch {
        let Some(finished) = s.finished.filter(|_| s.status != "withdrawn") else {
            continue;
        };
        let p = &procedures[s.procedure].procedure;
        let late = s.overdue.is_some();
        if rng.chance(if detail { 0.55 } else { 0.3 }) {
            let satisfied = !rng.chance(if late { 0.45 } else { 0.06 });
            let score = |rng: &mut Rng| {
                let base: i64 = if satisfied { 4 } else { 2 };
                (base + i64::try_from(rng.below(2)).unwrap_or(0)).clamp(1, 5)
            };
            let comment = match (satisfied, rng.below(4)) {
                (true, 0) => Some("Nhanh gọn, không phải đi lại."),
                (true, 1) => Some("Biểu mẫu điền sẵn rất tiện."),
                (false, 0) => Some("Trả kết quả chậm so với hẹn."),
                (false, 1) => Some("Hướng dẫn bổ sung chưa rõ."),
                _ => None,
            };
            ratings.push((
                s.id.clone(),
                s.applicant.clone(),
                i64::from(satisfied),
                score(rng),
                score(rng),
                score(rng),
                comment,
                p.agency.code.clone(),
                s.unit.clone(),
                p.code.clone(),
                finished + 6 * HOUR,
            ));
        }
        if detail && rng.chance(if late { 0.25 } else { 0.02 }) {
            let calendar = Calendar::vietnam_shared()?;
            let received = finished + 2 * HOUR;
            let due = calendar.deadline(received, 10);
            let answered = (received + HOUR * i64::try_from(8 + rng.below(24 * 16)).unwrap_or(8))
                .min(now_ms() - HOUR);
            let answered = (answered > received).then_some(answered);
            let settled = answered.map(|_| i64::from(!rng.chance(0.2)));
            feedback.push((
                format!("history-feedback-{}", s.id),
                s.applicant.clone(),
                s.id.clone(),
                p.agency.code.clone(),
                s.unit.clone(),
                p.code.clone(),
                received,
                due,
                answered,
                s.officer.clone(),
                settled,
            ));
        }
    }
    // What the index reads of each, as the platform keeps it on the dossier's row.
    let mut synced: std::collections::HashMap<&str, (i64, i64, i64)> =
        std::collections::HashMap::new();
    for (_, dossier, _, _, at, acked) in &acks {
        let entry = synced.entry(dossier.as_str()).or_insert((0, 0, 0));
        entry.0 += 1;
        entry.1 = entry.1.max(*at);
        entry.2 += i64::from(acked - at > crate::monitoring::decide::REAL_TIME_MS);
    }
    let complained: std::collections::HashSet<&str> =
        feedback.iter().map(|f| f.2.as_str()).collect();
    let rated: std::collections::HashMap<&str, i64> =
        ratings.iter().map(|r| (r.0.as_str(), r.2)).collect();
    let mut tx = store.begin_write().await?;
    let sql = insert_sql(
        "insert into dossiers (id, receipt_number, procedure_code, applicant_id, agency_code, level, status, \
           answers, verified_fields, time_limit_working_days, submitted_at, received_at, deadline_at, updated_at, \
           version, unit_code, receive_by, assignee_id, overdue_at, procedure_name, fee_vnd, fee_paid, fee_paid_at, finished_at, \
           replaced_docs, replaceable_docs, used_population, form_fields, prefilled_fields, \
           sync_changes, last_sync_change_at, portal_acks, portal_slow_acks, complained, rating, working_days)",
        batch.len(),
        36,
    );
    let mut q = sqlx::query(sql);
    for s in batch {
        let p = &procedures[s.procedure].procedure;
        q = q
            .bind(s.id.clone())
            .bind(s.receipt.clone())
            .bind(p.code.clone())
            .bind(s.applicant.clone())
            .bind(p.agency.code.clone())
            .bind(p.level.as_str())
            .bind(s.status)
            .bind("{}")
            .bind(s.verified.clone())
            .bind(i64::from(p.time_limit_working_days))
            .bind(s.submitted)
            .bind(s.received)
            .bind(s.deadline)
            .bind(s.finished.unwrap_or(s.submitted))
            .bind(5_i64)
            .bind(s.unit.clone())
            .bind(s.submitted + 8 * HOUR)
            .bind(s.officer.clone())
            .bind(s.overdue)
            .bind(serde_json::to_string(&p.name).unwrap_or_default())
            .bind(s.fee)
            .bind(p.fee_paid.as_str())
            .bind(s.fee_paid)
            .bind(s.finished)
            .bind(s.filing.replaced_docs)
            .bind(s.filing.replaceable_docs)
            .bind(i64::from(s.filing.used_population))
            .bind(s.filing.form_fields)
            .bind(s.filing.prefilled_fields);
        let (changes, last, slow) = synced.get(s.id.as_str()).copied().unwrap_or((0, 0, 0));
        q = q
            .bind(changes)
            .bind((changes > 0).then_some(last))
            .bind(changes)
            .bind(slow)
            .bind(i64::from(complained.contains(s.id.as_str())))
            .bind(rated.get(s.id.as_str()).copied().unwrap_or(-1))
            .bind(s.working_days);
    }
    q.execute(&mut *tx)
        .await
        .context("writing history dossiers")?;

    // Statements of a hundred rows: SQLite binds numbered values by searching their names, so
    // a statement of thousands of values is slow to bind.
    for chunk in acks.chunks(100) {
        for system in ["portal", "emc"] {
            if system == "emc" && !detail {
                continue;
            }
            let mut q = sqlx::query(insert_sql(
                "insert into national_sync (system, event_id, dossier_id, seq, change, status, changed_at, acked_at, attempts)",
                chunk.len(),
                9,
            ));
            for (event, dossier, seq, status, at, acked) in chunk {
                q = q
                    .bind(system)
                    .bind(event.clone())
                    .bind(dossier.clone())
                    .bind(*seq)
                    .bind(*status)
                    .bind(*status)
                    .bind(*at)
                    .bind(*acked)
                    .bind(1_i64);
            }
            q.execute(&mut *tx)
                .await
                .context("writing history acknowledgements")?;
        }
    }
    for chunk in events.chunks(100) {
        let mut q = sqlx::query(insert_sql(
            "insert into dossier_events (id, dossier_id, at, actor, action, from_status, to_status)",
            chunk.len(),
            7,
        ));
        for (id, dossier, at, actor, action, from, to) in chunk {
            q = q
                .bind(id.clone())
                .bind(dossier.clone())
                .bind(*at)
                .bind(actor.clone())
                .bind(*action)
                .bind(*from)
                .bind(*to);
        }
        q.execute(&mut *tx)
            .await
            .context("writing history timelines")?;
    }

    for chunk in ratings.chunks(100) {
        let mut q = sqlx::query(insert_sql(
            "insert into ratings (dossier_id, person_id, satisfied, timeliness, clarity, attitude, comment, \
               agency_code, unit_code, procedure_code, created_at, updated_at)",
            chunk.len(),
            12,
        ));
        for r in chunk {
            q = q
                .bind(r.0.clone())
                .bind(r.1.clone())
                .bind(r.2)
                .bind(r.3)
                .bind(r.4)
                .bind(r.5)
                .bind(r.6)
                .bind(r.7.clone())
                .bind(r.8.clone())
                .bind(r.9.clone())
                .bind(r.10)
                .bind(r.10);
        }
        q.execute(&mut *tx)
            .await
            .context("writing history ratings")?;
    }
    for f in &feedback {
        sqlx::query(
            "insert into feedback (id, person_id, about, procedure_code, dossier_id, agency_code, unit_code, subject, body, \
               status, received_at, due_at, answer, answered_at, answered_by, settled, settled_at, version) \
             values ($1, $2, 'dossier', $6, $3, $4, $5, 'Trả kết quả chậm', \
               'Hồ sơ của tôi trả kết quả chậm hơn ngày hẹn, đề nghị giải thích.', $7, $8, $9, $10, $11, $12, $13, $14, 2)",
        )
        .bind(&f.0)
        .bind(&f.1)
        .bind(&f.2)
        .bind(&f.3)
        .bind(&f.4)
        .bind(&f.5)
        .bind(if f.8.is_some() { "answered" } else { "open" })
        .bind(f.6)
        .bind(f.7)
        .bind(f.8.map(|_| "Cơ quan xin lỗi vì sự chậm trễ; hồ sơ đã được xử lý và trả kết quả."))
        .bind(f.8)
        .bind(f.8.and(f.9.clone()))
        .bind(f.10)
        .bind(f.10.and(f.8))
        .execute(&mut *tx)
        .await
        .context("writing history feedback")?;
    }
    tx.commit().await.context("committing history")?;
    Ok(batch.len())
}
