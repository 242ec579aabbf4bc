//! Dossier queries. Each change writes the dossier, its event, an audit entry and an outbox
//! event in one transaction.

use anyhow::Context;
use motcua_shared::{
    dossier::DossierStatus, dossier_api::DossierView, payment_api::FeeDue, procedure::Procedure,
};
use serde_json::{Map, Value};
use sqlx::{Row as _, any::AnyRow};

use crate::{
    audit,
    events::{self, DomainEvent, DossierChange, DossierEvent},
    http::page::Page,
    store::{Store, WriteTx, now_ms},
};

/// A dossier as stored, with what the server needs beyond the applicant's view.
#[derive(Debug, Clone)]
pub struct Dossier {
    pub view: DossierView,
    pub applicant_id: String,
    pub level: String,
    pub received_at: Option<i64>,
    pub version: i64,
    pub assignee_id: Option<String>,
}

const COLUMNS: &str = "d.id, d.receipt_number, d.procedure_code, d.agency_code, d.status, d.submitted_at, \
     d.deadline_at, d.status_reason, d.verified_fields, d.answers, d.applicant_id, d.level, d.received_at, \
     d.version, d.paused_days_left, d.procedure_name, d.unit_code, d.receive_by, d.overdue_at, d.assignee_id, d.rescheduled_to, \
     d.fee_vnd, d.fee_paid, d.fee_paid_at, d.pay_by";

/// The columns of a list: everything but the answers and which of them the state verified.
const LIST_COLUMNS: &str = "d.id, d.receipt_number, d.procedure_code, d.agency_code, d.status, d.submitted_at, \
     d.deadline_at, d.status_reason, '[]' as verified_fields, '{}' as answers, d.applicant_id, d.level, d.received_at, \
     d.version, d.paused_days_left, d.procedure_name, d.unit_code, d.receive_by, d.overdue_at, d.assignee_id, d.rescheduled_to, \
     d.fee_vnd, d.fee_paid, d.fee_paid_at, d.pay_by";

fn decode(row: &AnyRow) -> anyhow::Result<Dossier> {
    let status: String = row.try_get("status")?;
    let text = |name: &str| -> anyhow::Result<String> { Ok(row.try_get::<String, _>(name)?) };
    Ok(Dossier {
        view: DossierView {
            id: text("id")?,
            receipt_number: text("receipt_number")?,
            procedure_code: text("procedure_code")?,
            agency_code: text("agency_code")?,
            status: DossierStatus::parse(&status)
                .with_context(|| format!("unknown stored status {status}"))?,
            submitted_at: row.try_get("submitted_at")?,
            deadline_at: row.try_get("deadline_at")?,
            status_reason: row.try_get("status_reason")?,
            verified_fields: serde_json::from_str(&text("verified_fields")?)
                .context("decoding verified fields")?,
            answers: serde_json::from_str::<Map<String, Value>>(&text("answers")?)
                .context("decoding answers")?,
            procedure_name: serde_json::from_str(&text("procedure_name")?)
                .context("decoding a procedure name")?,
            unit_code: text("unit_code")?,
            receive_by: row.try_get("receive_by")?,
            paused_days_left: row.try_get("paused_days_left")?,
            overdue_at: row.try_get("overdue_at")?,
            rescheduled_to: row.try_get("rescheduled_to")?,
            fee: {
                let amount: i64 = row.try_get("fee_vnd")?;
                (amount > 0)
                    .then(|| -> anyhow::Result<FeeDue> {
                        Ok(FeeDue {
                            amount_vnd: motcua_shared::Vnd(amount),
                            when: row.try_get("fee_paid")?,
                            paid_at: row.try_get("fee_paid_at")?,
                            pay_by: row.try_get("pay_by")?,
                        })
                    })
                    .transpose()?
            },
            events: Vec::new(),
        },
        applicant_id: text("applicant_id")?,
        level: text("level")?,
        received_at: row.try_get("received_at")?,
        version: row.try_get("version")?,
        assignee_id: row.try_get("assignee_id")?,
    })
}

/// A dossier's legal clock after a transition.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub received_at: Option<i64>,
    /// `None` while paused.
    pub deadline_at: Option<i64>,
    /// Working days left while paused.
    pub paused_days_left: Option<i64>,
    /// Receipt due by; `None` once an officer acted on the submission.
    pub receive_by: Option<i64>,
}

impl Clock {
    /// The clock as it stands.
    pub fn of(dossier: &Dossier) -> Clock {
        Clock {
            received_at: dossier.received_at,
            deadline_at: dossier.view.deadline_at,
            paused_days_left: dossier.view.paused_days_left,
            receive_by: dossier.view.receive_by,
        }
    }
}

/// One checked step of a dossier's life: who, what happened, the new status and the reason.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    pub actor: &'a str,
    pub change: DossierChange,
    pub to: DossierStatus,
    pub reason: Option<&'a str>,
    /// Results issued into the applicant's warehouse by this step (content already stored).
    pub issued: &'a [Issued],
    /// Credentials signed into the applicant's wallet by this step.
    pub credentials: Option<&'a Issuing<'a>>,
}

/// Credentials to sign with a step: the agency's key and what to sign.
#[derive(Debug)]
pub struct Issuing<'a> {
    pub key: &'a crate::wallet::keys::IssuerKey,
    pub public_url: &'a str,
    pub drafts: &'a [crate::wallet::issue::Draft],
}

/// A result document issued with a step.
#[derive(Debug, Clone)]
pub struct Issued {
    pub document_code: String,
    pub title: String,
    pub sha256: String,
    pub content_type: &'static str,
    pub size_bytes: i64,
}

/// What a new dossier is.
pub struct NewDossier<'a> {
    pub procedure: &'a Procedure,
    pub applicant_id: &'a str,
    pub acting_for: Option<&'a str>,
    pub answers: &'a Map<String, Value>,
    pub verified_fields: &'a [String],
    /// `None` while the dossier waits for its fee (the clock starts at payment).
    pub deadline_at: Option<i64>,
    pub receive_by: Option<i64>,
    /// The online fee and when it is paid.
    pub fee_vnd: i64,
    pub fee_paid: motcua_shared::procedure::FeeTiming,
    /// An unpaid filing lapses then (a fee due at filing only).
    pub pay_by: Option<i64>,
    pub unit_code: &'a str,
    pub idempotency_key: &'a str,
    /// What the service-quality index reads of the filing.
    pub facts: crate::monitoring::scorecard::FilingFacts,
}

/// The statement that takes the next number of an agency's receipt book for a day.
const NEXT_RECEIPT: &str = "insert into receipt_counters (agency_code, day, last) values ($1, $2, 1) \
     on conflict (agency_code, day) do update set last = receipt_counters.last + 1 returning last";

/// The receipt book's day of `now` (Vietnam time), `YYYYMMDD`.
fn receipt_day(now: i64) -> String {
    let (y, m, d) = motcua_shared::calendar::Day::of_instant(now).ymd();
    format!("{y:04}{m:02}{d:02}")
}

/// `AGENCY-YYYYMMDD-NNNN`, numbered per agency and Vietnamese day, inside `tx`.
async fn next_receipt_number(
    tx: &mut crate::store::WriteTx,
    agency: &str,
    now: i64,
) -> anyhow::Result<String> {
    let day = receipt_day(now);
    let (n,): (i64,) = sqlx::query_as(NEXT_RECEIPT)
        .bind(agency)
        .bind(&day)
        .fetch_one(&mut **tx)
        .await
        .context("numbering a receipt")?;
    Ok(format!("{agency}-{day}-{n:04}"))
}

/// A dossier that waits for its fee: due at filing and not paid. Officers do not see it yet.
pub const AWAITING_FEE: &str =
    "(d.fee_paid = 'at_filing' and d.fee_vnd > 0 and d.fee_paid_at is null)";

/// Marks a dossier's fee paid inside a payment's transaction. A dossier that waited for it starts
/// its legal clock now (and its 8 office hours for receipt), with its timeline entry, audit entry
/// and the event that tells the applicant.
pub async fn fee_paid_in(
    tx: &mut WriteTx,
    dossier_id: &str,
    now: i64,
    calendar: &motcua_shared::calendar::Calendar,
    actor: &str,
) -> anyhow::Result<()> {
    let row: Option<(String, String, i64, Option<i64>)> = sqlx::query_as(
        "select status, fee_paid, time_limit_working_days, fee_paid_at from dossiers where id = $1",
    )
    .bind(dossier_id)
    .fetch_optional(&mut **tx)
    .await
    .context("reading a dossier's fee")?;
    let Some((status, when, limit, paid_at)) = row else {
        anyhow::bail!("a payment's dossier {dossier_id} is missing");
    };
    anyhow::ensure!(
        paid_at.is_none(),
        "the fee of dossier {dossier_id} was paid already"
    );
    let status = DossierStatus::parse(&status).context("a stored status")?;
    let waited = when == "at_filing" && status == DossierStatus::Submitted;
    let (deadline, receive_by) = if waited {
        (
            Some(calendar.deadline(now, u32::try_from(limit).unwrap_or(0))),
            Some(calendar.add_office_hours(now, crate::dossiers::RECEIPT_OFFICE_HOURS)),
        )
    } else {
        (None, None)
    };
    sqlx::query(
        "update dossiers set fee_paid_at = $1, pay_by = null, updated_at = $1, version = version + 1, \
           deadline_at = coalesce($2, deadline_at), receive_by = coalesce($3, receive_by) where id = $4",
    )
    .bind(now)
    .bind(deadline)
    .bind(receive_by)
    .bind(dossier_id)
    .execute(&mut **tx)
    .await
    .context("marking a dossier's fee paid")?;
    record_transition(
        tx,
        dossier_id,
        actor,
        DossierChange::FeePaid,
        Some(status),
        status,
        None,
    )
    .await
}

/// Records a transition's trail: the timeline entry, the audit entry and the domain event.
pub async fn record_transition(
    tx: &mut WriteTx,
    dossier_id: &str,
    actor: &str,
    change: DossierChange,
    from: Option<DossierStatus>,
    to: DossierStatus,
    reason: Option<&str>,
) -> anyhow::Result<()> {
    let now = now_ms();
    sqlx::query(
        "insert into dossier_events (id, dossier_id, at, actor, action, from_status, to_status, reason) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(dossier_id)
    .bind(now)
    .bind(actor)
    .bind(change.as_str())
    .bind(from.map(DossierStatus::as_str))
    .bind(to.as_str())
    .bind(reason)
    .execute(&mut **tx)
    .await
    .context("recording a dossier event")?;
    // The dossier's row is written by this transaction, so its transitions are serialised and
    // the count is its place in their order.
    let (seq,): (i64,) =
        sqlx::query_as("select count(*) from dossier_events where dossier_id = $1")
            .bind(dossier_id)
            .fetch_one(&mut **tx)
            .await
            .context("counting a dossier's events")?;
    if crate::monitoring::decide::syncs(change, from, to) {
        sqlx::query(
            "update dossiers set sync_changes = sync_changes + 1, last_sync_change_at = $1 where id = $2",
        )
        .bind(now)
        .bind(dossier_id)
        .execute(&mut **tx)
        .await
        .context("counting a dossier's reported changes")?;
    }
    if to.is_final() && from != Some(to) {
        // When it ended, and its processing time in working days (the index's).
        let (start,): (i64,) = sqlx::query_as(
            "select coalesce(received_at, submitted_at) from dossiers where id = $1",
        )
        .bind(dossier_id)
        .fetch_one(&mut **tx)
        .await
        .context("reading when a dossier's processing started")?;
        let calendar =
            motcua_shared::calendar::Calendar::vietnam_shared().map_err(anyhow::Error::from)?;
        let days = crate::monitoring::rollup::working_days(calendar, start, now);
        sqlx::query("update dossiers set finished_at = $1, working_days = $2 where id = $3")
            .bind(now)
            .bind(i64::from(days))
            .bind(dossier_id)
            .execute(&mut **tx)
            .await
            .context("marking a dossier finished")?;
    }
    let event = DomainEvent::Dossier(DossierEvent {
        dossier_id: dossier_id.to_owned(),
        change,
        from,
        to,
        reason: reason.map(str::to_owned),
        actor: actor.to_owned(),
        seq,
    });
    let subject = format!("dossier:{dossier_id}");
    let details = serde_json::json!({ "from": from.map(DossierStatus::as_str), "to": to.as_str(), "reason": reason });
    audit::append(
        tx,
        &audit::Event {
            actor,
            action: &event.topic(),
            subject: &subject,
            details,
        },
    )
    .await?;
    events::emit(tx, &event).await?;
    Ok(())
}

/// What the officer's queue is narrowed to; an empty text is no filter.
#[derive(Debug, Clone, Copy)]
pub struct QueueFilter<'a> {
    pub status: &'a str,
    pub procedure: &'a str,
    /// Only the dossiers this officer works on.
    pub assignee: &'a str,
    /// `soon`, `overdue` or empty, as of `now`.
    pub due: &'a str,
    pub now: i64,
}

impl QueueFilter<'_> {
    /// A receipt due within this is soon.
    pub const RECEIPT_SOON_MS: i64 = 2 * 3_600_000;
    /// A result due within this is soon.
    pub const RESULT_SOON_MS: i64 = 24 * 3_600_000;

    /// The sort key of a dossier in the queue: receipt due, else result due, else filing.
    pub fn urgency(view: &motcua_shared::dossier_api::DossierView) -> i64 {
        view.receive_by
            .or(view.deadline_at)
            .unwrap_or(view.submitted_at)
    }
}

impl Store {
    /// Files a dossier. `Ok(None)` when the idempotency key was already used meanwhile (the
    /// caller then returns the dossier that key made).
    pub async fn create_dossier(&self, new: &NewDossier<'_>) -> anyhow::Result<Option<Dossier>> {
        let now = now_ms();
        let id = uuid::Uuid::new_v4().to_string();
        let p = new.procedure;
        // The key's row refers to the dossier, so the dossier is written first; a key already
        // taken (read here, or claimed by a concurrent submission below) leaves nothing behind.
        // Where the receipt book's counter is taken apart (see `Engine::counters_apart`), the
        // number is taken first in its own transaction, after a look at the key: a filing that
        // fails after that leaves its number unused.
        let numbered = if self.engine().counters_apart() {
            if self
                .dossier_for_key(new.applicant_id, new.idempotency_key)
                .await?
                .is_some()
            {
                return Ok(None);
            }
            // One statement, committed on its own: the counter's row is locked only while
            // it runs.
            let day = receipt_day(now);
            let (n,): (i64,) = sqlx::query_as(NEXT_RECEIPT)
                .bind(&p.agency.code)
                .bind(&day)
                .fetch_one(self.pool())
                .await
                .context("numbering a receipt")?;
            Some(format!("{}-{day}-{n:04}", p.agency.code))
        } else {
            None
        };
        let mut tx = self.begin_write().await?;
        let taken: Option<(String,)> = sqlx::query_as(
            "select dossier_id from idempotency_keys where person_id = $1 and key = $2",
        )
        .bind(new.applicant_id)
        .bind(new.idempotency_key)
        .fetch_optional(&mut *tx)
        .await
        .context("reading an idempotency key")?;
        if taken.is_some() {
            return Ok(None);
        }
        let receipt = match numbered {
            Some(receipt) => receipt,
            None => next_receipt_number(&mut tx, &p.agency.code, now).await?,
        };
        sqlx::query(
            "insert into dossiers (id, receipt_number, procedure_code, applicant_id, acting_for, agency_code, level, \
               status, answers, verified_fields, time_limit_working_days, submitted_at, deadline_at, updated_at, version, \
               procedure_name, unit_code, receive_by, fee_vnd, fee_paid, pay_by, \
               replaced_docs, replaceable_docs, used_population, form_fields, prefilled_fields) \
             values ($1, $2, $3, $4, $5, $6, $7, 'submitted', $8, $9, $10, $11, $12, $11, 1, $13, $14, $15, $16, $17, $18, \
               $19, $20, $21, $22, $23)",
        )
        .bind(&id)
        .bind(&receipt)
        .bind(&p.code)
        .bind(new.applicant_id)
        .bind(new.acting_for)
        .bind(&p.agency.code)
        .bind(p.level.as_str())
        .bind(serde_json::to_string(new.answers).context("encoding answers")?)
        .bind(serde_json::to_string(new.verified_fields).context("encoding verified fields")?)
        .bind(i64::from(p.time_limit_working_days))
        .bind(now)
        .bind(new.deadline_at)
        .bind(serde_json::to_string(&p.name).context("encoding a name")?)
        .bind(new.unit_code)
        .bind(new.receive_by)
        .bind(new.fee_vnd)
        .bind(new.fee_paid.as_str())
        .bind(new.pay_by)
        .bind(new.facts.replaced_docs)
        .bind(new.facts.replaceable_docs)
        .bind(i64::from(new.facts.used_population))
        .bind(new.facts.form_fields)
        .bind(new.facts.prefilled_fields)
        .execute(&mut *tx)
        .await
        .context("filing a dossier")?;
        let inserted = sqlx::query(
            "insert into idempotency_keys (person_id, key, dossier_id, created_at) values ($1, $2, $3, $4) \
             on conflict (person_id, key) do nothing",
        )
        .bind(new.applicant_id)
        .bind(new.idempotency_key)
        .bind(&id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .context("saving an idempotency key")?;
        if inserted.rows_affected() == 0 {
            // A concurrent submission with the same key won: this one leaves nothing behind.
            tx.rollback().await.context("rolling back a duplicate")?;
            return Ok(None);
        }
        // The draft of this filing is done with.
        Store::delete_draft_in(&mut tx, new.applicant_id, &p.code).await?;
        let actor = format!("person:{}", new.applicant_id);
        record_transition(
            &mut tx,
            &id,
            &actor,
            DossierChange::Submitted,
            None,
            DossierStatus::Submitted,
            None,
        )
        .await?;
        tx.commit().await.context("committing a dossier")?;
        self.dossier(&id).await
    }

    pub async fn dossier(&self, id: &str) -> anyhow::Result<Option<Dossier>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from dossiers d where d.id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .context("reading a dossier")?;
        row.as_ref().map(decode).transpose()
    }

    /// Opens a dossier for an officer: reads it and writes the opening to its applicant's
    /// data-access log in one transaction, so nobody reads a dossier unlogged. `allowed` says
    /// whether this officer's desk handles it; when not, nothing is written and `None` returned.
    pub async fn open_dossier_logged(
        &self,
        id: &str,
        allowed: impl Fn(&Dossier) -> bool,
        accessor: &str,
    ) -> crate::store::StoreResult<Option<Dossier>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from dossiers d where d.id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .context("reading a dossier")?;
        let Some(dossier) = row.as_ref().map(decode).transpose()? else {
            return Ok(None);
        };
        if !allowed(&dossier) {
            return Ok(None);
        }
        let (cccd,): (String,) = sqlx::query_as("select cccd from people where id = $1")
            .bind(&dossier.applicant_id)
            .fetch_one(&mut *tx)
            .await
            .context("reading a dossier's applicant")?;
        crate::identity::data_access::record(
            &mut tx,
            &crate::identity::data_access::Access {
                cccd: &cccd,
                accessor_kind: "officer",
                accessor,
                source: "dossier",
                data: &format!("Hồ sơ {}", dossier.view.receipt_number),
                purpose: "Giải quyết hồ sơ",
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Some(dossier))
    }

    /// How many dossiers `person_id` filed since `since` (Unix ms).
    pub async fn filings_since(&self, person_id: &str, since: i64) -> anyhow::Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "select cast(count(*) as bigint) from dossiers where applicant_id = $1 and submitted_at >= $2",
        )
        .bind(person_id)
        .bind(since)
        .fetch_one(self.pool())
        .await
        .context("counting a person's filings")?;
        Ok(n)
    }

    /// The dossier a person's idempotency key made.
    pub async fn dossier_for_key(
        &self,
        person_id: &str,
        key: &str,
    ) -> anyhow::Result<Option<Dossier>> {
        let row: Option<(String,)> = sqlx::query_as(
            "select dossier_id from idempotency_keys where person_id = $1 and key = $2",
        )
        .bind(person_id)
        .bind(key)
        .fetch_optional(self.pool())
        .await
        .context("reading an idempotency key")?;
        match row {
            Some((id,)) => self.dossier(&id).await,
            None => Ok(None),
        }
    }

    /// The person's dossiers, newest first.
    pub async fn dossiers_of(&self, person_id: &str, page: &Page) -> anyhow::Result<Vec<Dossier>> {
        let (key, id) = page.below();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {LIST_COLUMNS} from dossiers d where d.applicant_id = $1 \
               and (d.submitted_at < $2 or (d.submitted_at = $2 and d.id > $3)) \
             order by d.submitted_at desc, d.id limit $4"
        )))
        .bind(person_id)
        .bind(key)
        .bind(id)
        .bind(page.fetch())
        .fetch_all(self.pool())
        .await
        .context("listing dossiers")?;
        rows.iter().map(decode).collect()
    }

    /// Applies a checked transition if nobody changed the dossier since `version` was read,
    /// leaving its clock as it is. False when it was changed meanwhile.
    pub async fn apply_transition(
        &self,
        dossier: &Dossier,
        step: &Step<'_>,
    ) -> anyhow::Result<bool> {
        self.apply_transition_with(dossier, step, &Clock::of(dossier), None)
            .await
    }

    /// As [`Store::apply_transition`], also setting the dossier's clock and, for a
    /// resubmission, its answers.
    pub async fn apply_transition_with(
        &self,
        dossier: &Dossier,
        step: &Step<'_>,
        clock: &Clock,
        answers: Option<&Map<String, Value>>,
    ) -> anyhow::Result<bool> {
        let Step {
            actor,
            change,
            to,
            reason,
            issued,
            credentials,
        } = *step;
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "update dossiers set status = $1, status_reason = coalesce($2, status_reason), updated_at = $3, \
               received_at = $4, deadline_at = $5, paused_days_left = $6, version = version + 1, \
               receive_by = $10, \
               answers = coalesce($9, answers) \
             where id = $7 and version = $8",
        )
        .bind(to.as_str())
        .bind(reason)
        .bind(now_ms())
        .bind(clock.received_at)
        .bind(clock.deadline_at)
        .bind(clock.paused_days_left)
        .bind(&dossier.view.id)
        .bind(dossier.version)
        .bind(
            answers
                .map(serde_json::to_string)
                .transpose()
                .context("encoding answers")?,
        )
        .bind(clock.receive_by)
        .execute(&mut *tx)
        .await
        .context("changing a dossier's status")?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        record_transition(
            &mut tx,
            &dossier.view.id,
            actor,
            change,
            Some(dossier.view.status),
            to,
            reason,
        )
        .await?;
        for result in issued {
            crate::warehouse::insert_item(
                &mut tx,
                &crate::warehouse::NewItem {
                    person_id: &dossier.applicant_id,
                    provenance: "issued",
                    document_code: &result.document_code,
                    title: &result.title,
                    sha256: &result.sha256,
                    content_type: result.content_type,
                    size_bytes: result.size_bytes,
                    issuer: Some(&dossier.view.agency_code),
                    dossier_id: Some(&dossier.view.id),
                },
            )
            .await?;
        }
        let signed = credentials.is_some_and(|c| !c.drafts.is_empty());
        if !issued.is_empty() || signed {
            sqlx::query(
                "update dossiers set results_stored = $1, has_credential = $2 where id = $3",
            )
            .bind(i64::from(!issued.is_empty()))
            .bind(i64::from(signed))
            .bind(&dossier.view.id)
            .execute(&mut *tx)
            .await
            .context("marking a dossier's results")?;
        }
        if let Some(issuing) = credentials {
            for draft in issuing.drafts {
                crate::wallet::storage::issue_in(
                    &mut tx,
                    issuing.key,
                    issuing.public_url,
                    &dossier.applicant_id,
                    Some(&dossier.view.id),
                    draft,
                )
                .await?;
            }
        }
        tx.commit().await.context("committing a transition")?;
        Ok(true)
    }
}

impl Store {
    /// Closes (as withdrawn, timeline `lapsed`) every filing whose fee was due at filing and is
    /// still unpaid at its `pay_by`, unless a payment of it is under way. Returns how many.
    pub async fn lapse_unpaid_filings(&self, now: i64) -> anyhow::Result<usize> {
        let due: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select d.id from dossiers d where d.status = 'submitted' and {AWAITING_FEE} and d.pay_by < $1 \
               and not exists (select 1 from payment_claims c where c.claim = 'dossier:' || d.id) limit 200"
        )))
        .bind(now)
        .fetch_all(self.pool())
        .await
        .context("finding unpaid filings")?;
        let mut lapsed = 0;
        for (id,) in due {
            let mut tx = self.begin_write().await?;
            let done = sqlx::query(
                "update dossiers set status = 'withdrawn', status_reason = $1, updated_at = $2, version = version + 1 \
                 where id = $3 and status = 'submitted' and fee_paid_at is null \
                   and not exists (select 1 from payment_claims c where c.claim = 'dossier:' || dossiers.id)",
            )
            .bind(LAPSED_REASON)
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await
            .context("closing an unpaid filing")?;
            if done.rows_affected() == 0 {
                tx.rollback().await?;
                continue;
            }
            record_transition(
                &mut tx,
                &id,
                "system:payments",
                DossierChange::Lapsed,
                Some(DossierStatus::Submitted),
                DossierStatus::Withdrawn,
                Some(LAPSED_REASON),
            )
            .await?;
            tx.commit().await?;
            lapsed += 1;
        }
        Ok(lapsed)
    }
}

/// Why an unpaid filing closed, as its applicant reads it.
const LAPSED_REASON: &str = "Hết thời hạn thanh toán lệ phí nộp hồ sơ trực tuyến";

/// Who flags late dossiers.
const DEADLINES: &str = "system:deadlines";

impl Store {
    /// Flags a dossier's result as late, once (false when it was flagged, or changed, meanwhile):
    /// the new date promised, the timeline entry, the audit entry and the event that tells the
    /// applicant and the desk's lead.
    pub async fn flag_late_result(
        &self,
        id: &str,
        status: DossierStatus,
        now: i64,
        new_date: i64,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin_write().await?;
        let flagged = sqlx::query(
            "update dossiers set overdue_at = $1, rescheduled_to = $2, updated_at = $1, version = version + 1 \
             where id = $3 and overdue_at is null and status = $4",
        )
        .bind(now)
        .bind(new_date)
        .bind(id)
        .bind(status.as_str())
        .execute(&mut *tx)
        .await
        .context("flagging a late dossier")?;
        if flagged.rows_affected() == 0 {
            return Ok(false);
        }
        let reason = format!(
            "Hẹn trả kết quả mới: {}",
            motcua_shared::time::format_vn_datetime(new_date)
        );
        record_transition(
            &mut tx,
            id,
            DEADLINES,
            DossierChange::Overdue,
            Some(status),
            status,
            Some(&reason),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Escalates a receipt not acknowledged in time to the desk's lead, once.
    pub async fn flag_late_receipt(&self, id: &str, now: i64) -> anyhow::Result<bool> {
        let mut tx = self.begin_write().await?;
        let flagged = sqlx::query(
            "update dossiers set receipt_escalated_at = $1 \
             where id = $2 and receipt_escalated_at is null and status = 'submitted'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .context("flagging a late receipt")?;
        if flagged.rows_affected() == 0 {
            return Ok(false);
        }
        let status = DossierStatus::Submitted;
        record_transition(
            &mut tx,
            id,
            DEADLINES,
            DossierChange::ReceiptOverdue,
            Some(status),
            status,
            Some("Quá 8 giờ làm việc chưa tiếp nhận; đã báo lãnh đạo bộ phận một cửa"),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A dossier's timeline, oldest first.
    pub async fn dossier_events(
        &self,
        dossier_id: &str,
    ) -> anyhow::Result<Vec<motcua_shared::dossier_api::DossierEvent>> {
        let rows: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
            "select at, action, to_status, reason from dossier_events where dossier_id = $1 order by at, id",
        )
        .bind(dossier_id)
        .fetch_all(self.pool())
        .await
        .context("reading a dossier's events")?;
        rows.into_iter()
            .map(|(at, action, to, reason)| {
                Ok(motcua_shared::dossier_api::DossierEvent {
                    at,
                    action,
                    status: DossierStatus::parse(&to)
                        .with_context(|| format!("unknown stored status {to}"))?,
                    reason,
                })
            })
            .collect()
    }

    /// A page of the open dossiers of one agency, level and unit that pass `filter`, most urgent
    /// first (by receipt due, else result due, else filing), with the applicant's and the
    /// assignee's names.
    pub async fn unit_queue(
        &self,
        agency_code: &str,
        level: &str,
        unit_code: &str,
        filter: &QueueFilter<'_>,
        page: &Page,
    ) -> anyhow::Result<Vec<(Dossier, String, Option<String>)>> {
        const URGENCY: &str = "coalesce(d.receive_by, d.deadline_at, d.submitted_at)";
        let sql = format!(
            "select {LIST_COLUMNS}, p.name as applicant_name, a.name as assignee_name \
             from dossiers d join people p on p.id = d.applicant_id left join people a on a.id = d.assignee_id \
             where d.agency_code = $1 and d.level = $2 and d.unit_code = $3 \
               and d.status not in ('rejected', 'result_issued', 'withdrawn') \
               and not {AWAITING_FEE} \
               and ($4 = '' or d.status = $4) \
               and ($5 = '' or d.procedure_code = $5) \
               and ($6 = '' or d.assignee_id = $6) \
               and ($7 = '' \
                 or ($7 = 'overdue' and (coalesce(d.receive_by, $9) < $8 or coalesce(d.deadline_at, $9) < $8)) \
                 or ($7 = 'soon' and coalesce(d.receive_by, $9) >= $8 and coalesce(d.deadline_at, $9) >= $8 \
                     and (coalesce(d.receive_by, $9) < $10 or coalesce(d.deadline_at, $9) < $11))) \
               and ({URGENCY} > $12 or ({URGENCY} = $12 and d.id > $13)) \
             order by {URGENCY}, d.id limit $14"
        );
        let (key, id) = page.above();
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(agency_code)
            .bind(level)
            .bind(unit_code)
            .bind(filter.status)
            .bind(filter.procedure)
            .bind(filter.assignee)
            .bind(filter.due)
            .bind(filter.now)
            .bind(i64::MAX)
            .bind(filter.now + QueueFilter::RECEIPT_SOON_MS)
            .bind(filter.now + QueueFilter::RESULT_SOON_MS)
            .bind(key)
            .bind(id)
            .bind(page.fetch())
            .fetch_all(self.pool())
            .await
            .context("reading a queue")?;
        rows.iter()
            .map(|r| {
                Ok((
                    decode(r)?,
                    r.try_get::<String, _>("applicant_name")?,
                    r.try_get::<Option<String>, _>("assignee_name")?,
                ))
            })
            .collect()
    }

    /// Sets who works on a dossier (a claim, or the lead's assignment), if nobody changed it
    /// since `version`; recorded as an event and in the audit log. False when changed meanwhile.
    pub async fn set_assignee(
        &self,
        dossier: &Dossier,
        assignee_id: &str,
        actor: &str,
        change: DossierChange,
        note: &str,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "update dossiers set assignee_id = $1, updated_at = $2, version = version + 1 \
             where id = $3 and version = $4",
        )
        .bind(assignee_id)
        .bind(now_ms())
        .bind(&dossier.view.id)
        .bind(dossier.version)
        .execute(&mut *tx)
        .await
        .context("assigning a dossier")?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        let status = dossier.view.status;
        record_transition(
            &mut tx,
            &dossier.view.id,
            actor,
            change,
            Some(status),
            status,
            Some(note),
        )
        .await?;
        tx.commit().await.context("committing an assignment")?;
        Ok(true)
    }
}
