//! What the national link reads and writes: a dossier as the national systems are told of it,
//! the order of a dossier's events, the acknowledgements, and what reconciliation expects.

use anyhow::Context;
use motcua_shared::{dossier::DossierStatus, procedure::ProcedureDetail};
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
/// holds of them (bits), how many, and their form fields and prefilled fields.
type ClassRow = (String, String, String, i64, i64, Option<i64>, Option<i64>);

/// The scope of a scorecard, as filters (empty: any).
#[derive(Debug, Clone, Default)]
pub struct ScopeFilter {
    pub province: String,
    pub agency: String,
    pub unit: String,
    pub procedure: String,
}

impl ScopeFilter {
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

    /// What the index of `[from, to)` reads, for `scope`: the period's dossiers by class and
    /// their processing times, each in one grouped scan of `dossiers` (what the index reads of
    /// a dossier is kept on its row), its feedback, the catalogue and the communes. A change
    /// made after `now` less 15 minutes may still be unacknowledged.
    pub async fn scorecard_facts(
        &self,
        scope: &ScopeFilter,
        from: i64,
        to: i64,
        now: i64,
        lang: motcua_shared::Lang,
    ) -> anyhow::Result<super::scorecard::Facts> {
        use super::scorecard::{DossierClass, Facts, FeedbackFacts, ProcedureFacts, Processed};
        let details: Vec<ProcedureDetail> = self
            .procedure_details()
            .await?
            .into_iter()
            .filter(|d| scope.agency.is_empty() || d.procedure.agency.code == scope.agency)
            .filter(|d| scope.procedure.is_empty() || d.procedure.code == scope.procedure)
            .collect();
        // What holds of each dossier in the period, as bits of one number (fewer keys to
        // group by): see `bit` below.
        let rows: Vec<ClassRow> = sqlx::query_as(
            "select d.procedure_code, d.unit_code, d.status, \
               (case when d.submitted_at >= $1 then 1 else 0 end) \
               + 2 * (case when d.finished_at is not null and d.finished_at < $2 then 1 else 0 end) \
               + 4 * (case when (d.overdue_at is not null and d.overdue_at < $2) \
                   or (d.finished_at is not null and d.finished_at < $2 and d.deadline_at is not null and d.finished_at > d.deadline_at) \
                   or ((d.finished_at is null or d.finished_at >= $2) and d.deadline_at is not null and d.deadline_at < $2) \
                   then 1 else 0 end) \
               + 8 * (case when d.fee_vnd > 0 then 1 else 0 end) \
               + 16 * (case when d.fee_paid_at is not null then 1 else 0 end) \
               + 32 * d.has_credential + 64 * d.results_stored \
               + 128 * (case when d.replaced_docs > 0 then 1 else 0 end) \
               + 256 * (case when d.replaceable_docs > 0 and d.replaced_docs = d.replaceable_docs then 1 else 0 end) \
               + 512 * d.used_population \
               + 1024 * (case when d.portal_acks > 0 and d.portal_slow_acks = 0 and (d.portal_acks >= d.sync_changes \
                   or (d.portal_acks + 1 >= d.sync_changes and d.last_sync_change_at >= $3)) then 1 else 0 end) \
               + 2048 * d.complained + 4096 * (d.rating + 1) as mask, \
               count(*) as n, cast(sum(d.form_fields) as bigint) as form_fields, \
               cast(sum(d.prefilled_fields) as bigint) as prefilled \
             from dossiers d \
             where d.submitted_at < $2 and (d.finished_at is null or d.finished_at >= $1) \
               and ($4 = '' or d.agency_code = $4) and ($5 = '' or d.procedure_code = $5) \
             group by d.procedure_code, d.unit_code, d.status, 4",
        )
        .bind(from)
        .bind(to)
        .bind(now - super::decide::REAL_TIME_MS)
        .bind(&scope.agency)
        .bind(&scope.procedure)
        .fetch_all(self.pool())
        .await
        .context("counting the period's dossiers")?;
        let mut dossiers = Vec::with_capacity(rows.len());
        for (procedure, unit, status, mask, count, form_fields, prefilled) in rows {
            if !scope.covers_unit(&unit) {
                continue;
            }
            let bit = |n: u32| mask & (1 << n) != 0;
            dossiers.push(DossierClass {
                procedure,
                unit,
                status: DossierStatus::parse(&status).context("a stored status")?,
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
                form_fields: form_fields.unwrap_or(0),
                prefilled_fields: prefilled.unwrap_or(0),
            });
        }
        // Processing times: the start's day and whether after 15:00 (it then counts from the
        // next working day), and the decision's day, in Vietnam's time.
        let rows: Vec<(String, String, i64, i64, i64, i64)> = sqlx::query_as(
            "select d.procedure_code, d.unit_code, \
               (coalesce(d.received_at, d.submitted_at) + 25200000) / 86400000 as start_day, \
               case when (coalesce(d.received_at, d.submitted_at) + 25200000) % 86400000 >= 54000000 then 1 else 0 end as after_cutoff, \
               (d.finished_at + 25200000) / 86400000 as finish_day, count(*) as n \
             from dossiers d \
             where d.finished_at >= $1 and d.finished_at < $2 and d.status <> 'withdrawn' \
               and ($3 = '' or d.agency_code = $3) and ($4 = '' or d.procedure_code = $4) \
             group by d.procedure_code, d.unit_code, 3, 4, 5",
        )
        .bind(from)
        .bind(to)
        .bind(&scope.agency)
        .bind(&scope.procedure)
        .fetch_all(self.pool())
        .await
        .context("reading the period's processing times")?;
        let processed =
            rows.into_iter()
                .filter(|r| scope.covers_unit(&r.1))
                .map(
                    |(procedure, _, start, after_cutoff, finish, count)| Processed {
                        procedure,
                        start: motcua_shared::calendar::Day(start)
                            .at_minute(if after_cutoff == 1 { 16 * 60 } else { 9 * 60 }),
                        finish: motcua_shared::calendar::Day(finish).at_minute(12 * 60),
                        count,
                    },
                )
                .collect();
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
            communes: self.communes_of(scope),
        })
    }

    fn communes_of(&self, scope: &ScopeFilter) -> Vec<String> {
        motcua_shared::units::all()
            .iter()
            .filter(|u| u.level == motcua_shared::procedure::Level::Commune)
            .filter(|u| scope.covers_unit(u.code))
            .map(|u| u.code.to_owned())
            .collect()
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
