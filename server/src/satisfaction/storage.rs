//! Ratings and feedback in the store. Every change writes its row, its audit entry and its
//! domain event in one transaction.

use anyhow::Context;
use motcua_shared::{
    calendar::Day,
    dossier::DossierStatus,
    satisfaction_api::{
        DeskFeedback, DeskRating, Feedback, FeedbackAbout, LateDossier, NewFeedback, Rating,
        RatingInput, SyncFailure,
    },
};
use serde_json::json;
use sqlx::{Row as _, any::AnyRow};

use crate::{
    audit,
    events::{self, DomainEvent, FeedbackChange, FeedbackEvent, RatingEvent},
    http::page::Page,
    store::{Store, StoreResult, WriteTx, now_ms},
};

/// Whether `unit` lies within `within` (empty: anywhere).
pub fn in_scope(unit: &str, within: &str) -> bool {
    within.is_empty() || motcua_shared::units::is_within(unit, within)
}

/// A dossier as a rating or feedback needs it.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: String,
    pub applicant_id: String,
    pub status: DossierStatus,
    pub finished_at: Option<i64>,
    pub agency_code: String,
    pub unit_code: String,
    pub procedure_code: String,
}

/// Where new feedback goes, decided by the handler.
pub struct Routed<'a> {
    pub person_id: &'a str,
    pub acting_for: Option<&'a str>,
    pub agency_code: &'a str,
    pub unit_code: &'a str,
    pub procedure_code: Option<&'a str>,
    pub dossier_id: Option<&'a str>,
    pub due_at: i64,
}

/// The order of a desk's feedback as one number: open by due date, then answered, latest first.
const DESK_ORDER: &str = "(case when f.status = 'open' then f.due_at \
     else 4000000000000000 - coalesce(f.answered_at, 0) end)";

/// The count in a ratings cursor (how many of its millisecond were shown), if it is one.
pub fn ratings_shown(text: &str) -> Option<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|n| (1..=i64::from(crate::http::page::MAX_PAGE) * 1000).contains(n))
}

const FEEDBACK_COLUMNS: &str = "f.id, f.about, f.procedure_code, f.dossier_id, d.receipt_number, \
     f.agency_code, f.unit_code, f.subject, f.body, f.status, f.received_at, f.due_at, f.answer, \
     f.answered_at, f.settled";

fn u8_of(row: &AnyRow, name: &str) -> anyhow::Result<u8> {
    Ok(u8::try_from(row.try_get::<i64, _>(name)?).unwrap_or(0))
}

fn feedback_of_row(row: &AnyRow) -> anyhow::Result<Feedback> {
    let about: String = row.try_get("about")?;
    let settled: Option<i64> = row.try_get("settled")?;
    Ok(Feedback {
        id: row.try_get("id")?,
        about: FeedbackAbout::parse(&about).context("a stored feedback kind")?,
        procedure_code: row.try_get("procedure_code")?,
        dossier_id: row.try_get("dossier_id")?,
        receipt_number: row.try_get("receipt_number")?,
        agency_code: row.try_get("agency_code")?,
        unit_code: row.try_get("unit_code")?,
        subject: row.try_get("subject")?,
        body: row.try_get("body")?,
        status: row.try_get("status")?,
        received_at: row.try_get("received_at")?,
        due_at: row.try_get("due_at")?,
        answer: row.try_get("answer")?,
        answered_at: row.try_get("answered_at")?,
        settled: settled.map(|s| s == 1),
    })
}

async fn trail(
    tx: &mut WriteTx,
    actor: &str,
    subject: &str,
    details: serde_json::Value,
    event: &DomainEvent,
) -> anyhow::Result<()> {
    audit::append(
        tx,
        &audit::Event {
            actor,
            action: &event.topic(),
            subject,
            details,
        },
    )
    .await?;
    events::emit(tx, event).await?;
    Ok(())
}

impl Store {
    /// The dossier `id` as ratings and feedback need it.
    pub async fn rating_target(&self, id: &str) -> anyhow::Result<Option<Target>> {
        let row = sqlx::query(
            "select id, applicant_id, status, finished_at, agency_code, unit_code, procedure_code \
             from dossiers where id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .context("reading a dossier")?;
        row.map(|row| -> anyhow::Result<Target> {
            let status: String = row.try_get("status")?;
            Ok(Target {
                id: row.try_get("id")?,
                applicant_id: row.try_get("applicant_id")?,
                status: DossierStatus::parse(&status).context("a stored status")?,
                finished_at: row.try_get("finished_at")?,
                agency_code: row.try_get("agency_code")?,
                unit_code: row.try_get("unit_code")?,
                procedure_code: row.try_get("procedure_code")?,
            })
        })
        .transpose()
    }

    pub async fn rating_of(&self, dossier_id: &str) -> anyhow::Result<Option<Rating>> {
        let row = sqlx::query(
            "select satisfied, timeliness, clarity, attitude, comment, updated_at from ratings where dossier_id = $1",
        )
        .bind(dossier_id)
        .fetch_optional(self.pool())
        .await
        .context("reading a rating")?;
        row.map(|row| -> anyhow::Result<Rating> {
            Ok(Rating {
                satisfied: row.try_get::<i64, _>("satisfied")? == 1,
                timeliness: u8_of(&row, "timeliness")?,
                clarity: u8_of(&row, "clarity")?,
                attitude: u8_of(&row, "attitude")?,
                comment: row.try_get("comment")?,
                updated_at: row.try_get("updated_at")?,
            })
        })
        .transpose()
    }

    /// Gives or changes the applicant's rating of `target`.
    pub async fn save_rating(&self, target: &Target, rating: &RatingInput) -> anyhow::Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "insert into ratings (dossier_id, person_id, satisfied, timeliness, clarity, attitude, comment, \
               agency_code, unit_code, procedure_code, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
             on conflict (dossier_id) do update set satisfied = excluded.satisfied, \
               timeliness = excluded.timeliness, clarity = excluded.clarity, attitude = excluded.attitude, \
               comment = excluded.comment, updated_at = excluded.updated_at",
        )
        .bind(&target.id)
        .bind(&target.applicant_id)
        .bind(i64::from(rating.satisfied))
        .bind(i64::from(rating.timeliness))
        .bind(i64::from(rating.clarity))
        .bind(i64::from(rating.attitude))
        .bind(rating.comment.as_deref())
        .bind(&target.agency_code)
        .bind(&target.unit_code)
        .bind(&target.procedure_code)
        .bind(now)
        .execute(&mut *tx)
        .await
        .context("saving a rating")?;
        // Kept on the dossier too: the index counts it in its scan of dossiers.
        sqlx::query("update dossiers set rating = $1 where id = $2")
            .bind(i64::from(rating.satisfied))
            .bind(&target.id)
            .execute(&mut *tx)
            .await
            .context("marking a dossier rated")?;
        trail(
            &mut tx,
            &format!("person:{}", target.applicant_id),
            &format!("dossier:{}", target.id),
            json!({
                "satisfied": rating.satisfied,
                "timeliness": rating.timeliness,
                "clarity": rating.clarity,
                "attitude": rating.attitude,
            }),
            &DomainEvent::Rating(RatingEvent {
                dossier_id: target.id.clone(),
                satisfied: rating.satisfied,
            }),
        )
        .await?;
        tx.commit().await.context("committing a rating")?;
        Ok(())
    }

    /// Feedback `person_id` sent since `since`.
    pub async fn feedback_sent_since(&self, person_id: &str, since: i64) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from feedback where person_id = $1 and received_at >= $2",
        )
        .bind(person_id)
        .bind(since)
        .fetch_one(self.pool())
        .await
        .context("counting feedback")?;
        Ok(n)
    }

    /// Records new feedback; returns it.
    pub async fn send_feedback(
        &self,
        input: &NewFeedback,
        routed: &Routed<'_>,
    ) -> anyhow::Result<Feedback> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "insert into feedback (id, person_id, acting_for, about, procedure_code, dossier_id, agency_code, \
               unit_code, subject, body, status, received_at, due_at, version) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11, $12, 1)",
        )
        .bind(&id)
        .bind(routed.person_id)
        .bind(routed.acting_for)
        .bind(input.about.as_str())
        .bind(routed.procedure_code)
        .bind(routed.dossier_id)
        .bind(routed.agency_code)
        .bind(routed.unit_code)
        .bind(&input.subject)
        .bind(&input.body)
        .bind(now)
        .bind(routed.due_at)
        .execute(&mut *tx)
        .await
        .context("recording feedback")?;
        if let Some(dossier) = routed.dossier_id {
            sqlx::query("update dossiers set complained = 1 where id = $1")
                .bind(dossier)
                .execute(&mut *tx)
                .await
                .context("marking a dossier complained about")?;
        }
        trail(
            &mut tx,
            &format!("person:{}", routed.person_id),
            &format!("feedback:{id}"),
            json!({ "about": input.about.as_str(), "agency": routed.agency_code, "unit": routed.unit_code }),
            &DomainEvent::Feedback(FeedbackEvent {
                feedback_id: id.clone(),
                person_id: routed.person_id.to_owned(),
                change: FeedbackChange::Sent,
            }),
        )
        .await?;
        tx.commit().await.context("committing feedback")?;
        self.feedback(&id)
            .await?
            .map(|(f, _)| f)
            .context("feedback just written")
    }

    /// Feedback `id` and its sender.
    pub async fn feedback(&self, id: &str) -> anyhow::Result<Option<(Feedback, String)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {FEEDBACK_COLUMNS}, f.person_id from feedback f \
             left join dossiers d on d.id = f.dossier_id where f.id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .context("reading feedback")?;
        row.map(|row| -> anyhow::Result<(Feedback, String)> {
            Ok((feedback_of_row(&row)?, row.try_get("person_id")?))
        })
        .transpose()
    }

    /// A page of the feedback a person sent, newest first.
    pub async fn feedback_of(&self, person_id: &str, page: &Page) -> anyhow::Result<Vec<Feedback>> {
        let (key, id) = page.below();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {FEEDBACK_COLUMNS} from feedback f left join dossiers d on d.id = f.dossier_id \
             where f.person_id = $1 and (f.received_at < $2 or (f.received_at = $2 and f.id > $3)) \
             order by f.received_at desc, f.id limit $4"
        )))
        .bind(person_id)
        .bind(key)
        .bind(id)
        .bind(page.fetch())
        .fetch_all(self.pool())
        .await
        .context("reading a person's feedback")?;
        rows.iter().map(feedback_of_row).collect()
    }

    /// The desk's answer to open feedback; false when it was answered meanwhile.
    pub async fn answer_feedback(
        &self,
        id: &str,
        sender: &str,
        officer_id: &str,
        answer: &str,
    ) -> anyhow::Result<bool> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "update feedback set status = 'answered', answer = $1, answered_at = $2, answered_by = $3, \
               version = version + 1 where id = $4 and status = 'open'",
        )
        .bind(answer)
        .bind(now)
        .bind(officer_id)
        .bind(id)
        .execute(&mut *tx)
        .await
        .context("answering feedback")?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        trail(
            &mut tx,
            &format!("officer:{officer_id}"),
            &format!("feedback:{id}"),
            json!({}),
            &DomainEvent::Feedback(FeedbackEvent {
                feedback_id: id.to_owned(),
                person_id: sender.to_owned(),
                change: FeedbackChange::Answered,
            }),
        )
        .await?;
        tx.commit().await.context("committing an answer")?;
        Ok(true)
    }

    /// The sender's word on the answer, once; false when already given.
    pub async fn judge_feedback(
        &self,
        id: &str,
        person_id: &str,
        settled: bool,
    ) -> anyhow::Result<bool> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "update feedback set settled = $1, settled_at = $2, version = version + 1 \
             where id = $3 and person_id = $4 and status = 'answered' and settled is null",
        )
        .bind(i64::from(settled))
        .bind(now)
        .bind(id)
        .bind(person_id)
        .execute(&mut *tx)
        .await
        .context("judging an answer")?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        trail(
            &mut tx,
            &format!("person:{person_id}"),
            &format!("feedback:{id}"),
            json!({ "settled": settled }),
            &DomainEvent::Feedback(FeedbackEvent {
                feedback_id: id.to_owned(),
                person_id: person_id.to_owned(),
                change: FeedbackChange::Judged,
            }),
        )
        .await?;
        tx.commit().await.context("committing a judgement")?;
        Ok(true)
    }

    /// A page of a desk's feedback, `within` a unit (empty: the whole agency): open first by due
    /// date, then the latest answered. Without senders. `only` narrows it to one feedback.
    pub async fn desk_feedback(
        &self,
        agency: &str,
        within: &str,
        only: Option<&str>,
        page: &Page,
    ) -> anyhow::Result<(Vec<DeskFeedback>, Option<String>)> {
        let (key, id) = page.above();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {FEEDBACK_COLUMNS}, {DESK_ORDER} as desk_order \
             from feedback f left join dossiers d on d.id = f.dossier_id \
             where f.agency_code = $1 and ($2 = '' or $2 like ('%,' || f.unit_code || ',%')) \
               and ($3 = '' or f.id = $3) \
               and ({DESK_ORDER} > $4 or ({DESK_ORDER} = $4 and f.id > $5)) \
             order by {DESK_ORDER}, f.id limit $6"
        )))
        .bind(agency)
        .bind(motcua_shared::units::within_list(within))
        .bind(only.unwrap_or(""))
        .bind(key)
        .bind(id)
        .bind(page.fetch())
        .fetch_all(self.pool())
        .await
        .context("reading a desk's feedback")?;
        let mut desk = Vec::new();
        for row in &rows {
            let f = feedback_of_row(row)?;
            desk.push((
                row.try_get::<i64, _>("desk_order")?,
                DeskFeedback {
                    id: f.id,
                    about: f.about,
                    procedure_code: f.procedure_code,
                    receipt_number: f.receipt_number,
                    unit_code: f.unit_code,
                    subject: f.subject,
                    body: f.body,
                    status: f.status,
                    received_at: f.received_at,
                    due_at: f.due_at,
                    answer: f.answer,
                    answered_at: f.answered_at,
                    settled: f.settled,
                },
            ));
        }
        let (desk, next) = page.finish(desk, |(order, f)| (*order, &f.id));
        Ok((desk.into_iter().map(|(_, f)| f).collect(), next))
    }

    /// A page of a desk's ratings given in `[from, to)`, `within` a unit, newest first, as
    /// officers see them: no dossier, no person. The cursor is the last rating's time and how
    /// many of that same millisecond were shown, so it names no dossier either.
    #[allow(clippy::too_many_arguments)]
    pub async fn desk_ratings(
        &self,
        agency: &str,
        within: &str,
        procedure: &str,
        from: i64,
        to: i64,
        page: &Page,
    ) -> anyhow::Result<(Vec<DeskRating>, Option<String>)> {
        let (upto, shown) = match &page.after {
            Some((at, shown)) => (*at, ratings_shown(shown).unwrap_or(0)),
            None => (to - 1, 0),
        };
        let rows = sqlx::query(
            "select procedure_code, unit_code, satisfied, timeliness, clarity, attitude, comment, updated_at \
             from ratings where agency_code = $1 and updated_at >= $2 and updated_at <= $3 and updated_at < $4 \
               and ($5 = '' or procedure_code = $5) \
               and ($6 = '' or $6 like ('%,' || unit_code || ',%')) \
             order by updated_at desc, dossier_id desc limit $7",
        )
        .bind(agency)
        .bind(from)
        .bind(upto)
        .bind(to)
        .bind(procedure)
        .bind(motcua_shared::units::within_list(within))
        .bind(page.fetch() + shown)
        .fetch_all(self.pool())
        .await
        .context("reading a desk's ratings")?;
        let mut ratings = Vec::new();
        let mut skip = shown;
        for row in &rows {
            let at: i64 = row.try_get("updated_at")?;
            if at == upto && skip > 0 {
                skip -= 1;
                continue;
            }
            ratings.push((
                at,
                DeskRating {
                    procedure_code: row.try_get("procedure_code")?,
                    unit_code: row.try_get("unit_code")?,
                    satisfied: row.try_get::<i64, _>("satisfied")? == 1,
                    timeliness: u8_of(row, "timeliness")?,
                    clarity: u8_of(row, "clarity")?,
                    attitude: u8_of(row, "attitude")?,
                    comment: row.try_get("comment")?,
                    month: Day::of_instant(at).iso()[..7].to_owned(),
                },
            ));
        }
        let more = ratings.len() > page.limit as usize;
        ratings.truncate(page.limit as usize);
        let next = match ratings.last() {
            Some((last, _)) if more => {
                let same = ratings.iter().filter(|(at, _)| at == last).count() as i64;
                let before = if *last == upto { shown } else { 0 };
                Some(format!("{last}_{}", before + same))
            }
            _ => None,
        };
        Ok((ratings.into_iter().map(|(_, r)| r).collect(), next))
    }

    /// A desk's open dossiers past their deadline or found late, most overdue first.
    pub async fn late_dossiers(
        &self,
        agency: &str,
        within: &str,
        now: i64,
    ) -> anyhow::Result<Vec<LateDossier>> {
        let rows = sqlx::query(
            "select id, receipt_number, procedure_code, unit_code, status, deadline_at, overdue_at from dossiers \
             where agency_code = $1 and status not in ('result_issued', 'rejected', 'withdrawn') \
               and (deadline_at < $2 or overdue_at is not null) \
             order by coalesce(deadline_at, overdue_at) limit 500",
        )
        .bind(agency)
        .bind(now)
        .fetch_all(self.pool())
        .await
        .context("reading late dossiers")?;
        let mut late = Vec::new();
        for row in &rows {
            let unit: String = row.try_get("unit_code")?;
            if !in_scope(&unit, within) {
                continue;
            }
            late.push(LateDossier {
                id: row.try_get("id")?,
                receipt_number: row.try_get("receipt_number")?,
                procedure_code: row.try_get("procedure_code")?,
                unit_code: unit,
                status: row.try_get("status")?,
                deadline_at: row.try_get("deadline_at")?,
                overdue_at: row.try_get("overdue_at")?,
            });
        }
        Ok(late)
    }

    /// A desk's dossier changes the national systems have not acknowledged within
    /// `older_than` ms (or gave up on).
    pub async fn sync_failures(
        &self,
        agency: &str,
        within: &str,
        older_than: i64,
    ) -> anyhow::Result<Vec<SyncFailure>> {
        let rows = sqlx::query(
            "select od.consumer, d.receipt_number, d.unit_code, o.topic, o.created_at, od.attempts, \
               od.last_error, od.given_up_at \
             from outbox_deliveries od join outbox o on o.id = od.event_id \
               join dossiers d on d.id = substr(o.subject, 9) \
             where od.consumer in ('national_portal', 'emc') and o.subject like 'dossier:%' \
               and (od.given_up_at is not null or od.created_at < $1) and d.agency_code = $2 \
             order by o.created_at limit 500",
        )
        .bind(older_than)
        .bind(agency)
        .fetch_all(self.pool())
        .await
        .context("reading unacknowledged changes")?;
        let mut failures = Vec::new();
        for row in &rows {
            let unit: String = row.try_get("unit_code")?;
            if !in_scope(&unit, within) {
                continue;
            }
            let topic: String = row.try_get("topic")?;
            failures.push(SyncFailure {
                system: row.try_get("consumer")?,
                receipt_number: row.try_get("receipt_number")?,
                change: topic.trim_start_matches("dossier.").to_owned(),
                changed_at: row.try_get("created_at")?,
                attempts: row.try_get("attempts")?,
                last_error: row.try_get("last_error")?,
                given_up: row.try_get::<Option<i64>, _>("given_up_at")?.is_some(),
            });
        }
        Ok(failures)
    }
}
