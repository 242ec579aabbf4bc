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
    sqlx::query(
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
    Ok(())
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

    /// What the index of `[from, to)` reads, for `scope`. `now` bounds how long a change may
    /// wait for the portal's acknowledgement.
    pub async fn scorecard_facts(
        &self,
        scope: &ScopeFilter,
        from: i64,
        to: i64,
        now: i64,
        lang: motcua_shared::Lang,
    ) -> anyhow::Result<super::scorecard::Facts> {
        use super::scorecard::{
            DossierFacts, Facts, FeedbackFacts, ProcedureFacts, replaced_documents, used_population,
        };
        let details: Vec<ProcedureDetail> = self
            .procedure_details()
            .await?
            .into_iter()
            .filter(|d| scope.agency.is_empty() || d.procedure.agency.code == scope.agency)
            .filter(|d| scope.procedure.is_empty() || d.procedure.code == scope.procedure)
            .collect();
        let rows = sqlx::query(
            "select d.procedure_code, d.unit_code, d.status, d.submitted_at, d.received_at, d.finished_at, \
               d.deadline_at, d.overdue_at, d.verified_fields, d.fee_vnd, d.fee_paid_at, \
               case when exists (select 1 from credentials c where c.dossier_id = d.id and c.derived_from is null) then 1 else 0 end as credential, \
               case when exists (select 1 from warehouse_items w where w.dossier_id = d.id and w.provenance = 'issued') then 1 else 0 end as stored, \
               (select count(*) from national_sync s where s.dossier_id = d.id and s.system = 'portal') as acks, \
               (select count(*) from national_sync s where s.dossier_id = d.id and s.system = 'portal' and s.acked_at - s.changed_at > $3) as slow, \
               case when exists (select 1 from outbox o join outbox_deliveries od on od.event_id = o.id \
                  where o.subject = 'dossier:' || d.id and od.consumer = 'national_portal' and o.created_at < $4) then 1 else 0 end as waiting, \
               coalesce(r.satisfied, -1) as satisfied, \
               case when exists (select 1 from feedback f where f.dossier_id = d.id) then 1 else 0 end as complained \
             from dossiers d left join ratings r on r.dossier_id = d.id \
             where d.submitted_at < $2 and (d.finished_at is null or d.finished_at >= $1) \
               and ($5 = '' or d.agency_code = $5) and ($6 = '' or d.procedure_code = $6)",
        )
        .bind(from)
        .bind(to)
        .bind(super::decide::REAL_TIME_MS)
        .bind(now - super::decide::REAL_TIME_MS)
        .bind(&scope.agency)
        .bind(&scope.procedure)
        .fetch_all(self.pool())
        .await
        .context("reading the period's dossiers")?;
        let mut dossiers = Vec::with_capacity(rows.len());
        for row in rows {
            let unit: String = row.try_get("unit_code")?;
            if !scope.covers_unit(&unit) {
                continue;
            }
            let code: String = row.try_get("procedure_code")?;
            let status: String = row.try_get("status")?;
            let verified: Vec<String> =
                serde_json::from_str(&row.try_get::<String, _>("verified_fields")?)
                    .context("decoding verified fields")?;
            let detail = details.iter().find(|d| d.procedure.code == code);
            let replaced = detail.map_or(0, |d| replaced_documents(d, &verified).len());
            let replaceable = detail.map_or(0, |d| {
                d.procedure
                    .required_documents
                    .iter()
                    .filter(|doc| doc.provided_by.as_deref().is_some_and(|s| s != "form"))
                    .count()
            });
            let satisfied: i64 = row.try_get("satisfied")?;
            dossiers.push(DossierFacts {
                procedure: code,
                unit,
                status: DossierStatus::parse(&status).context("a stored status")?,
                submitted_at: row.try_get("submitted_at")?,
                received_at: row.try_get("received_at")?,
                finished_at: row.try_get("finished_at")?,
                deadline_at: row.try_get("deadline_at")?,
                overdue_at: row.try_get("overdue_at")?,
                // Every filing here is made online; counter filings are not taken yet.
                online: true,
                fee_due: row.try_get::<i64, _>("fee_vnd")? > 0,
                fee_paid_online: row.try_get::<Option<i64>, _>("fee_paid_at")?.is_some(),
                credential: flag(&row, "credential")?,
                results_stored: flag(&row, "stored")?,
                replaced,
                fully_replaced: replaceable > 0 && replaced == replaceable,
                used_population: detail.is_some_and(|d| used_population(d, &verified)),
                portal_acks: row.try_get("acks")?,
                portal_slow_acks: row.try_get("slow")?,
                portal_overdue: flag(&row, "waiting")?,
                satisfied: (satisfied >= 0).then_some(satisfied == 1),
                complained: flag(&row, "complained")?,
                answered_fields: detail
                    .and_then(|d| d.form.as_ref())
                    .map_or(0, |f| i64::try_from(f.fields.len()).unwrap_or(0)),
                prefilled_fields: i64::try_from(verified.len()).unwrap_or(0),
            });
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
        let communes: Vec<String> = motcua_shared::units::all()
            .iter()
            .filter(|u| u.level == motcua_shared::procedure::Level::Commune)
            .filter(|u| scope.covers_unit(u.code))
            .map(|u| u.code.to_owned())
            .collect();
        Ok(Facts {
            procedures: details
                .iter()
                .map(|d| ProcedureFacts::of(d, lang))
                .collect(),
            dossiers,
            feedback,
            communes,
        })
    }
}
