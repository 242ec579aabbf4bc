//! What the national link reads and writes: a dossier as the national systems are told of it,
//! the order of a dossier's events, the acknowledgements, and what reconciliation expects.

use anyhow::Context;
use motcua_shared::{calendar::Day, dossier::DossierStatus, procedure::ProcedureDetail};
use sqlx::Row as _;

use super::{decide, national::HeldDossier};
use crate::{
    dossiers::storage::Dossier,
    events::DossierChange,
    store::{Store, StoreResult, WriteTx},
};

/// A dossier and what the national systems are told about it beside it.
#[derive(Debug, Clone)]
pub struct SyncFacts {
    pub dossier: Dossier,
    pub applicant_name: String,
    pub applicant_cccd: String,
    /// The organisation filed for: tax code and name.
    pub organisation: Option<(String, String)>,
    pub procedure: Option<ProcedureDetail>,
    pub finished_at: Option<i64>,
    /// Results issued: code, title, and whether it is a signed credential.
    pub results: Vec<(String, String, bool)>,
    /// The acting officer's name, when an officer acted.
    pub actor_name: Option<String>,
}

/// Which national system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Portal,
    Emc,
}

impl System {
    pub fn as_str(self) -> &'static str {
        match self {
            System::Portal => "portal",
            System::Emc => "emc",
        }
    }

    /// The outbox consumer that tells it.
    pub fn consumer(self) -> &'static str {
        match self {
            System::Portal => "national_portal",
            System::Emc => "emc",
        }
    }
}

impl Store {
    /// The dossier `id` as the national systems are told of it; `actor` names who acted.
    pub async fn sync_facts(&self, id: &str, actor: &str) -> anyhow::Result<Option<SyncFacts>> {
        let Some(dossier) = self.dossier(id).await? else {
            return Ok(None);
        };
        let row = sqlx::query(
            "select p.name, p.cccd, d.acting_for, o.name as org_name, d.finished_at \
             from dossiers d join people p on p.id = d.applicant_id \
             left join organisations o on o.tax_code = d.acting_for where d.id = $1",
        )
        .bind(id)
        .fetch_one(self.pool())
        .await
        .context("reading a dossier's applicant")?;
        let acting_for: Option<String> = row.try_get("acting_for")?;
        let org_name: Option<String> = row.try_get("org_name")?;
        let procedure = self.procedure(&dossier.view.procedure_code).await?;
        let mut results: Vec<(String, String, bool)> = sqlx::query_as::<_, (String, String)>(
            "select kind, title_vi from credentials where dossier_id = $1 and derived_from is null order by created_at",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await
        .context("reading a dossier's credentials")?
        .into_iter()
        .map(|(code, title)| (code, title, true))
        .collect();
        let documents: Vec<(String, String)> = sqlx::query_as(
            "select distinct document_code, title from warehouse_items \
             where dossier_id = $1 and provenance = 'issued' order by document_code",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await
        .context("reading a dossier's results")?;
        for (code, title) in documents {
            if !results.iter().any(|r| r.1 == title) {
                results.push((code, title, false));
            }
        }
        let actor_name = match actor.strip_prefix("officer:") {
            Some(officer) => {
                sqlx::query_as::<_, (String,)>("select name from people where id = $1")
                    .bind(officer)
                    .fetch_optional(self.pool())
                    .await
                    .context("reading an officer's name")?
                    .map(|r| r.0)
            }
            None => None,
        };
        Ok(Some(SyncFacts {
            dossier,
            applicant_name: row.try_get("name")?,
            applicant_cccd: row.try_get("cccd")?,
            organisation: acting_for.map(|tax| (tax, org_name.unwrap_or_default())),
            procedure,
            finished_at: row.try_get("finished_at")?,
            results,
            actor_name,
        }))
    }

    /// The events of `subject` before `seq` still pending for `consumer` (not given up): their
    /// ids and when each is next tried.
    pub async fn earlier_pending(
        &self,
        consumer: &str,
        subject: &str,
        seq: i64,
    ) -> StoreResult<Vec<(String, i64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "select d.event_id, d.next_attempt_at from outbox_deliveries d join outbox o on o.id = d.event_id \
             where d.consumer = $1 and d.given_up_at is null and o.subject = $2 and o.subject_seq < $3 \
             order by o.subject_seq limit 50",
        )
        .bind(consumer)
        .bind(subject)
        .bind(seq)
        .fetch_all(self.pool())
        .await
        .context("looking for a dossier's earlier events")?;
        Ok(rows)
    }

    /// The dossiers filed in `[from, to)` as `system` should hold them: how many of their
    /// changes it is told of, and their last status in its codes.
    pub async fn expected_held(
        &self,
        system: System,
        from: i64,
        to: i64,
    ) -> anyhow::Result<Vec<HeldDossier>> {
        let rows = sqlx::query(
            "select d.receipt_number, d.status, d.received_at, e.action, e.from_status, e.to_status \
             from dossiers d join dossier_events e on e.dossier_id = d.id \
             where d.submitted_at >= $1 and d.submitted_at < $2 \
             order by d.receipt_number, e.at, e.id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await
        .context("reading the period's dossier events")?;
        let mut held: Vec<HeldDossier> = Vec::new();
        for row in rows {
            let number: String = row.try_get("receipt_number")?;
            let action: String = row.try_get("action")?;
            let from_status: Option<String> = row.try_get("from_status")?;
            let to_status: String = row.try_get("to_status")?;
            let (Some(change), Some(to)) = (
                DossierChange::parse(&action),
                DossierStatus::parse(&to_status),
            ) else {
                continue;
            };
            let from = from_status.as_deref().and_then(DossierStatus::parse);
            if held.last().is_none_or(|h| h.number != number) {
                let status: String = row.try_get("status")?;
                let received: Option<i64> = row.try_get("received_at")?;
                let current = DossierStatus::parse(&status).context("a stored status")?;
                held.push(HeldDossier {
                    number: number.clone(),
                    changes: 0,
                    status: match system {
                        System::Portal => decide::portal_status(current, received.is_some()),
                        System::Emc => 0,
                    },
                });
            }
            if decide::syncs(change, from, to)
                && let Some(h) = held.last_mut()
            {
                h.changes += 1;
                if system == System::Emc {
                    h.status = decide::emc_status(change, to);
                }
            }
        }
        held.retain(|h| h.changes > 0);
        Ok(held)
    }
}

/// Records in `tx` that `system` acknowledged event `event_id` (a change of `dossier_id`).
pub struct Ack<'a> {
    pub system: System,
    pub event_id: &'a str,
    pub dossier_id: &'a str,
    pub seq: i64,
    pub change: DossierChange,
    pub status: DossierStatus,
    pub changed_at: i64,
    pub acked_at: i64,
    pub attempts: i64,
}

pub async fn record_ack(tx: &mut WriteTx, ack: &Ack<'_>) -> StoreResult<()> {
    let recorded = sqlx::query(
        "insert into national_sync (system, event_id, dossier_id, seq, change, status, changed_at, acked_at, attempts) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (system, event_id) do nothing",
    )
    .bind(ack.system.as_str())
    .bind(ack.event_id)
    .bind(ack.dossier_id)
    .bind(ack.seq)
    .bind(ack.change.as_str())
    .bind(ack.status.as_str())
    .bind(ack.changed_at)
    .bind(ack.acked_at)
    .bind(ack.attempts)
    .execute(&mut **tx)
    .await
    .context("recording a national system's acknowledgement")?;
    if recorded.rows_affected() > 0 && ack.system == System::Portal {
        let slow = ack.acked_at - ack.changed_at > decide::REAL_TIME_MS;
        sqlx::query(
            "update dossiers set portal_acks = portal_acks + 1, portal_slow_acks = portal_slow_acks + $1 where id = $2",
        )
        .bind(i64::from(slow))
        .bind(ack.dossier_id)
        .execute(&mut **tx)
        .await
        .context("counting a dossier's acknowledgements")?;
    }
    Ok(())
}

/// A class of the period's dossiers as the store counts them: procedure, unit, status, what
/// holds of them (bits), the working days they took when decided in the period (else -1), how
/// many, and their form fields and prefilled fields.
type ClassRow = (
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
);

/// A row of the index's rollup: procedure, unit, status, the months filed, finished and late,
/// the bits (`traits`), working days, how many, and their form fields and prefilled fields.
type RollupRow = (
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

/// A class from its bits: 0 filed in the period, 1 finished by its end, 2 late by then, 3 a
/// fee due, 4 paid online, 5 a signed result, 6 results stored, 7 a document replaced, 8 all
/// of them, 9 the population database used, 10 synced in time, 11 feedback sent, 12-13 the
/// rating + 1 (migration 0018 keeps bits 3 on as `traits`).
fn class_of(
    procedure: String,
    unit: String,
    status: DossierStatus,
    mask: i64,
    count: i64,
    form_fields: i64,
    prefilled_fields: i64,
) -> super::scorecard::DossierClass {
    let bit = |n: u32| mask & (1 << n) != 0;
    super::scorecard::DossierClass {
        procedure,
        unit,
        status,
        filed: bit(0),
        finished: bit(1),
        late: bit(2),
        // Every filing here is made online; counter filings are not taken yet.
        online: true,
        fee_due: bit(3),
        fee_paid_online: bit(4),
        credential: bit(5),
        results_stored: bit(6),
        replaced: bit(7),
        fully_replaced: bit(8),
        used_population: bit(9),
        synced: bit(10),
        complained: bit(11),
        satisfied: match (mask >> 12) & 3 {
            1 => Some(false),
            2 => Some(true),
            _ => None,
        },
        count,
        form_fields,
        prefilled_fields,
    }
}

/// The scope of a scorecard, as filters (empty: any).
#[derive(Debug, Clone, Default)]
pub struct ScopeFilter {
    pub province: String,
    pub agency: String,
    pub unit: String,
    pub procedure: String,
}

impl ScopeFilter {
    /// The communes in scope.
    fn communes(&self) -> Vec<String> {
        motcua_shared::units::all()
            .iter()
            .filter(|u| u.level == motcua_shared::procedure::Level::Commune)
            .filter(|u| self.covers_unit(u.code))
            .map(|u| u.code.to_owned())
            .collect()
    }

    fn covers_unit(&self, unit: &str) -> bool {
        (self.province.is_empty() || motcua_shared::units::is_within(unit, &self.province))
            && (self.unit.is_empty() || motcua_shared::units::is_within(unit, &self.unit))
    }
}

fn flag(row: &sqlx::any::AnyRow, name: &str) -> anyhow::Result<bool> {
    Ok(row.try_get::<i64, _>(name)? != 0)
}

impl Store {
    /// Every procedure of the catalogue with its whole definition, in catalogue order.
    pub async fn procedure_details(&self) -> anyhow::Result<Vec<ProcedureDetail>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("select definition from procedures order by position")
                .fetch_all(self.pool())
                .await
                .context("reading the catalogue")?;
        rows.into_iter()
            .map(|(definition,)| {
                serde_json::from_str(&definition).context("decoding a procedure's definition")
            })
            .collect()
    }

    /// What the index of the days `[first, end)` reads, for `scope`: the period's dossiers by
    /// class and their processing times, from the rollup (a few rows a month, see
    /// [`super::rollup`]) and, one by one, the dossiers the rollup's months do not place; its
    /// feedback, the catalogue and the communes. A change made after `now` less 15 minutes may
    /// still be unacknowledged.
    pub async fn scorecard_facts(
        &self,
        scope: &ScopeFilter,
        (first, end): (Day, Day),
        now: i64,
        lang: motcua_shared::Lang,
    ) -> anyhow::Result<super::scorecard::Facts> {
        use super::rollup::{MonthSpan, Placed};
        use super::scorecard::{Facts, FeedbackFacts, ProcedureFacts, Processed};
        let (from, to) = (first.start_ms(), end.start_ms());
        let details: Vec<ProcedureDetail> = self
            .procedure_details()
            .await?
            .into_iter()
            .filter(|d| scope.agency.is_empty() || d.procedure.agency.code == scope.agency)
            .filter(|d| scope.procedure.is_empty() || d.procedure.code == scope.procedure)
            .collect();
        let span = MonthSpan::of(first, end);
        let (first_month, end_month) = span.months();
        let mut dossiers = Vec::new();
        let mut processed = Vec::new();
        // The rollup, with the changes not folded into it yet.
        let rows: Vec<RollupRow> = sqlx::query_as(
            "select procedure_code, unit_code, status, submit_month, finish_month, late_month, traits, \
               working_days, cast(sum(n) as bigint) as n, cast(sum(form_fields) as bigint) as form_fields, \
               cast(sum(prefilled_fields) as bigint) as prefilled \
             from (select agency_code, procedure_code, unit_code, status, submit_month, finish_month, \
                     late_month, traits, working_days, n, form_fields, prefilled_fields \
                   from dossier_classes where finish_month >= $1 and submit_month <= $2 \
                   union all \
                   select agency_code, procedure_code, unit_code, status, submit_month, finish_month, \
                     late_month, traits, working_days, n, form_fields, prefilled_fields \
                   from dossier_class_changes where finish_month >= $1 and submit_month <= $2) c \
             where ($3 = '' or agency_code = $3) and ($4 = '' or procedure_code = $4) \
             group by procedure_code, unit_code, status, submit_month, finish_month, late_month, traits, working_days \
             having sum(n) <> 0",
        )
        .bind(first_month)
        .bind(end_month)
        .bind(&scope.agency)
        .bind(&scope.procedure)
        .fetch_all(self.pool())
        .await
        .context("reading the index's rollup")?;
        for row in rows {
            let (
                procedure,
                unit,
                status,
                filed,
                finished,
                late,
                traits,
                days,
                count,
                fields,
                prefilled,
            ) = row;
            if !scope.covers_unit(&unit) {
                continue;
            }
            let sync = traits >> 14;
            let Placed::In {
                filed,
                finished,
                late,
                decided,
            } = span.place(filed, finished, late, sync == 2)
            else {
                continue;
            };
            let status = DossierStatus::parse(&status).context("a stored status")?;
            if let (true, false, Ok(working_days)) = (
                decided,
                status == DossierStatus::Withdrawn,
                u32::try_from(days),
            ) {
                processed.push(Processed {
                    procedure: procedure.clone(),
                    working_days,
                    count,
                });
            }
            // Bits 0-2 are the period's; the store's bits from 3 on, and the sync (1: in time).
            let mask = i64::from(filed)
                + 2 * i64::from(finished)
                + 4 * i64::from(late)
                + (traits & 0x3fff)
                + 1024 * i64::from(sync == 1);
            dossiers.push(class_of(
                procedure, unit, status, mask, count, fields, prefilled,
            ));
        }
        // The dossiers the rollup does not place: filed, finished or late in a month the period
        // starts or ends inside, or with an unacknowledged change.
        let [(start_a, start_b), (end_a, end_b)] = span.unsure_ranges();
        let unsure = |n: usize| {
            let (a, b, c, d) = (n, n + 1, n + 2, n + 3);
            // Each branch an index's range, less the dossiers earlier branches took (each
            // condition is true or false, never null): a dossier is met once.
            let conditions = [
                "traits >= 32768".to_owned(),
                format!("submitted_at >= ${a} and submitted_at < ${b}"),
                format!("finished_at is not null and finished_at >= ${a} and finished_at < ${b}"),
                format!("submitted_at >= ${c} and submitted_at < ${d}"),
                format!("finished_at is not null and finished_at >= ${c} and finished_at < ${d}"),
                format!("late_at is not null and late_at >= ${c} and late_at < ${d}"),
            ];
            let branches: Vec<String> = (0..conditions.len())
                .map(|k| {
                    let earlier: String = conditions[..k]
                        .iter()
                        .map(|e| format!(" and not ({e})"))
                        .collect();
                    format!(
                        "select agency_code, procedure_code, unit_code, status, submitted_at, finished_at, \
                           late_at, traits, portal_acks, portal_slow_acks, sync_changes, last_sync_change_at, \
                           form_fields, prefilled_fields, working_days \
                         from dossiers where {}{earlier}",
                        conditions[k]
                    )
                })
                .collect();
            format!("({}) d", branches.join(" union all "))
        };
        // What holds of each dossier in the period, as bits of one number (fewer keys to
        // group by): see `class_of`.
        let rows: Vec<ClassRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select d.procedure_code, d.unit_code, d.status, \
               (case when d.submitted_at >= $1 then 1 else 0 end) \
               + 2 * (case when d.finished_at is not null and d.finished_at < $2 then 1 else 0 end) \
               + 4 * (case when d.late_at < $2 then 1 else 0 end) \
               + d.traits % 16384 \
               + 1024 * (case when d.portal_acks > 0 and d.portal_slow_acks = 0 and (d.portal_acks >= d.sync_changes \
                   or (d.portal_acks + 1 >= d.sync_changes and d.last_sync_change_at >= $3)) then 1 else 0 end) as mask, \
               case when d.finished_at < $2 and d.status <> 'withdrawn' then d.working_days else -1 end as decided_in, \
               count(*) as n, cast(sum(d.form_fields) as bigint) as form_fields, \
               cast(sum(d.prefilled_fields) as bigint) as prefilled \
             from {} \
             where d.submitted_at < $2 and (d.finished_at is null or d.finished_at >= $1) \
               and ($4 = '' or d.agency_code = $4) and ($5 = '' or d.procedure_code = $5) \
             group by d.procedure_code, d.unit_code, d.status, 4, 5",
            unsure(6)
        )))
        .bind(from)
        .bind(to)
        .bind(now - super::decide::REAL_TIME_MS)
        .bind(&scope.agency)
        .bind(&scope.procedure)
        .bind(start_a)
        .bind(start_b)
        .bind(end_a)
        .bind(end_b)
        .fetch_all(self.pool())
        .await
        .context("counting the period's dossiers")?;
        for (procedure, unit, status, mask, decided_in, count, fields, prefilled) in rows {
            if !scope.covers_unit(&unit) {
                continue;
            }
            // Decided within the period (not withdrawn), in so many working days.
            if let Ok(working_days) = u32::try_from(decided_in) {
                processed.push(Processed {
                    procedure: procedure.clone(),
                    working_days,
                    count,
                });
            }
            let status = DossierStatus::parse(&status).context("a stored status")?;
            dossiers.push(class_of(
                procedure,
                unit,
                status,
                mask,
                count,
                fields.unwrap_or(0),
                prefilled.unwrap_or(0),
            ));
        }
        let feedback_rows = sqlx::query(
            "select received_at, due_at, answered_at, settled, unit_code from feedback \
             where received_at < $2 and (answered_at is null or answered_at >= $1) \
               and ($3 = '' or agency_code = $3) and ($4 = '' or procedure_code = $4)",
        )
        .bind(from)
        .bind(to)
        .bind(&scope.agency)
        .bind(&scope.procedure)
        .fetch_all(self.pool())
        .await
        .context("reading the period's feedback")?;
        let mut feedback = Vec::new();
        for row in feedback_rows {
            let unit: String = row.try_get("unit_code")?;
            if !scope.covers_unit(&unit) {
                continue;
            }
            let settled: Option<i64> = row.try_get("settled")?;
            feedback.push(FeedbackFacts {
                received_at: row.try_get("received_at")?,
                due_at: row.try_get("due_at")?,
                answered_at: row.try_get("answered_at")?,
                settled: settled.map(|s| s == 1),
            });
        }
        Ok(Facts {
            procedures: details
                .iter()
                .map(|d| ProcedureFacts::of(d, lang))
                .collect(),
            dossiers,
            processed,
            feedback,
            communes: scope.communes(),
        })
    }

    /// Folds the changes the triggers appended into the index's rollup, in one transaction
    /// reading one snapshot (a second instance folding at once waits, then fails and retries
    /// later), and drops classes left empty. Returns how many changes.
    pub async fn fold_dossier_classes(&self) -> StoreResult<i64> {
        let (pending,): (Option<i64>,) =
            sqlx::query_as("select max(id) from dossier_class_changes")
                .fetch_one(self.pool())
                .await
                .context("looking for the rollup's changes")?;
        if pending.is_none() {
            return Ok(0);
        }
        // One snapshot: the changes summed are the changes deleted, whatever commits meanwhile.
        let mut tx = self.begin_snapshot_write().await?;
        sqlx::query("update rollup_folds set folded_at = $1 where name = 'dossier_classes'")
            .bind(crate::store::now_ms())
            .execute(&mut *tx)
            .await
            .context("taking the rollup's fold")?;
        let (last, count): (Option<i64>, i64) =
            sqlx::query_as("select max(id), count(*) from dossier_class_changes")
                .fetch_one(&mut *tx)
                .await
                .context("counting the rollup's changes")?;
        let Some(last) = last else {
            tx.rollback().await?;
            return Ok(0);
        };
        const KEYS: &str = "agency_code, procedure_code, unit_code, status, submit_month, \
            finish_month, late_month, traits, working_days";
        // Built of constants only.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "insert into dossier_classes ({KEYS}, n, form_fields, prefilled_fields) \
             select {KEYS}, cast(sum(n) as bigint), cast(sum(form_fields) as bigint), \
               cast(sum(prefilled_fields) as bigint) \
             from dossier_class_changes where id <= $1 group by {KEYS} order by {KEYS} \
             on conflict ({KEYS}) do update set n = dossier_classes.n + excluded.n, \
               form_fields = dossier_classes.form_fields + excluded.form_fields, \
               prefilled_fields = dossier_classes.prefilled_fields + excluded.prefilled_fields"
        )))
        .bind(last)
        .execute(&mut *tx)
        .await
        .context("folding the rollup's changes")?;
        sqlx::query("delete from dossier_class_changes where id <= $1")
            .bind(last)
            .execute(&mut *tx)
            .await
            .context("clearing the folded changes")?;
        sqlx::query("delete from dossier_classes where n = 0")
            .execute(&mut *tx)
            .await
            .context("dropping empty classes")?;
        tx.commit().await?;
        Ok(count)
    }

    /// Sets the processing time of every finished dossier that has none (those finished
    /// before migration 0018), from the calendar; in batches.
    pub async fn fill_working_days(&self) -> anyhow::Result<()> {
        let calendar = motcua_shared::calendar::Calendar::vietnam_shared()?;
        loop {
            let rows: Vec<(String, i64, i64)> = sqlx::query_as(
                "select id, coalesce(received_at, submitted_at), finished_at from dossiers \
                 where finished_at is not null and working_days < 0 limit 500",
            )
            .fetch_all(self.pool())
            .await
            .context("finding dossiers without a processing time")?;
            if rows.is_empty() {
                return Ok(());
            }
            let mut tx = self.begin_write().await?;
            for (id, start, finish) in rows {
                sqlx::query("update dossiers set working_days = $1 where id = $2")
                    .bind(i64::from(super::rollup::working_days(
                        calendar, start, finish,
                    )))
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .context("setting a processing time")?;
            }
            tx.commit().await?;
        }
    }

    /// The dossiers active in `[from, to)` one by one, as [`super::scorecard::DossierFacts`]:
    /// for checking the grouped scan against the rule for one dossier.
    pub async fn dossier_facts(
        &self,
        from: i64,
        to: i64,
    ) -> anyhow::Result<Vec<super::scorecard::DossierFacts>> {
        use super::scorecard::{DossierFacts, FilingFacts};
        let rows = sqlx::query(
            "select d.procedure_code, d.unit_code, d.status, d.submitted_at, d.received_at, d.finished_at, \
               d.deadline_at, d.overdue_at, d.fee_vnd, d.fee_paid_at, d.has_credential, d.results_stored, \
               d.replaced_docs, d.replaceable_docs, d.used_population, d.form_fields, d.prefilled_fields, \
               d.sync_changes, d.last_sync_change_at, d.portal_acks, d.portal_slow_acks, \
               d.rating as satisfied, d.complained \
             from dossiers d \
             where d.submitted_at < $2 and (d.finished_at is null or d.finished_at >= $1)",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await
        .context("reading the period's dossiers")?;
        rows.iter()
            .map(|row| -> anyhow::Result<DossierFacts> {
                let status: String = row.try_get("status")?;
                let satisfied: i64 = row.try_get("satisfied")?;
                Ok(DossierFacts {
                    procedure: row.try_get("procedure_code")?,
                    unit: row.try_get("unit_code")?,
                    status: DossierStatus::parse(&status).context("a stored status")?,
                    submitted_at: row.try_get("submitted_at")?,
                    received_at: row.try_get("received_at")?,
                    finished_at: row.try_get("finished_at")?,
                    deadline_at: row.try_get("deadline_at")?,
                    overdue_at: row.try_get("overdue_at")?,
                    online: true,
                    fee_due: row.try_get::<i64, _>("fee_vnd")? > 0,
                    fee_paid_online: row.try_get::<Option<i64>, _>("fee_paid_at")?.is_some(),
                    credential: flag(row, "has_credential")?,
                    results_stored: flag(row, "results_stored")?,
                    filing: FilingFacts {
                        replaced_docs: row.try_get("replaced_docs")?,
                        replaceable_docs: row.try_get("replaceable_docs")?,
                        used_population: flag(row, "used_population")?,
                        form_fields: row.try_get("form_fields")?,
                        prefilled_fields: row.try_get("prefilled_fields")?,
                    },
                    sync_changes: row.try_get("sync_changes")?,
                    last_sync_change_at: row.try_get("last_sync_change_at")?,
                    portal_acks: row.try_get("portal_acks")?,
                    portal_slow_acks: row.try_get("portal_slow_acks")?,
                    satisfied: (satisfied >= 0).then_some(satisfied == 1),
                    complained: flag(row, "complained")?,
                })
            })
            .collect()
    }
}
