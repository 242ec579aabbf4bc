//! Notices: what the platform tells a person about their dossiers (received, a supplement asked,
//! approved, refused, the result issued, an apology for lateness with the new date) and what it
//! tells a unit's lead (a late receipt or result). Made by the outbox worker from dossier
//! events; read and marked read by their person.

use anyhow::Context;
use axum::extract::State;
use motcua_shared::{
    Lang, Localized,
    dossier_api::{Notice, NoticeList},
    time::format_vn_datetime,
};
use serde_json::{Value, json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    error::{ApiError, AppJson, AppPath, AppQuery},
    events::{DomainEvent, DossierChange, NoticeEvent, ReminderEvent},
    http::page::{Page, PageQuery},
    identity::AuthUser,
    outbox::{Consumer, Delivery, DeliveryError},
    store::{Store, StoreResult, WriteTx, now_ms},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(mark_read))
}

/// The outbox consumer that turns events into notices.
#[derive(Debug, Clone, Copy)]
pub struct NoticesConsumer;

#[async_trait::async_trait]
impl Consumer for NoticesConsumer {
    fn name(&self) -> &'static str {
        "notices"
    }

    async fn apply(&self, tx: &mut WriteTx, delivery: &Delivery) -> Result<(), DeliveryError> {
        from_event(tx, &delivery.id, &delivery.event).await?;
        Ok(())
    }
}

/// A notice to write: to whom, its kind, its text (a resource key with values), the page it
/// opens and what a newer notice about the same thing replaces on a lock screen.
pub struct NewNotice<'a> {
    /// The event it comes from (or a fresh id): with `person_id`, its key.
    pub id: &'a str,
    pub person_id: &'a str,
    pub dossier_id: Option<&'a str>,
    /// `status`, `apology`, `escalation`, `reminder`, `account`.
    pub kind: &'static str,
    /// `notice.<template>.title` and `.body` in the resource files.
    pub template: &'a str,
    pub params: &'a Value,
    pub link: &'a str,
    pub topic: &'a str,
}

/// Writes a notice inside `tx` and, when it is new, its `notice.written` event (which pushes it
/// to the person's devices and tells their open PWA). Keyed by id and person: writing it again
/// does nothing.
pub async fn write_notice(tx: &mut WriteTx, notice: &NewNotice<'_>) -> anyhow::Result<bool> {
    let written = sqlx::query(
        "insert into notices (id, person_id, dossier_id, kind, title_vi, title_en, body_vi, body_en, created_at, template, params, link, topic) \
         values ($1, $2, $3, $4, '', '', '', '', $5, $6, $7, $8, $9) on conflict (id, person_id) do nothing",
    )
    .bind(notice.id)
    .bind(notice.person_id)
    .bind(notice.dossier_id)
    .bind(notice.kind)
    .bind(now_ms())
    .bind(notice.template)
    .bind(notice.params.to_string())
    .bind(notice.link)
    .bind(notice.topic)
    .execute(&mut **tx)
    .await
    .context("writing a notice")?;
    if written.rows_affected() == 0 {
        return Ok(false);
    }
    crate::events::emit(
        tx,
        &DomainEvent::Notice(NoticeEvent {
            notice_id: notice.id.to_owned(),
            person_id: notice.person_id.to_owned(),
        }),
    )
    .await?;
    Ok(true)
}

/// Writes the notices an event calls for, keyed by the event so a redelivery adds nothing.
pub async fn from_event(
    tx: &mut WriteTx,
    event_id: &str,
    event: &DomainEvent,
) -> anyhow::Result<()> {
    let event = match event {
        DomainEvent::Dossier(event) => event,
        DomainEvent::Credential(event) => return credential_notice(tx, event_id, event).await,
        DomainEvent::Payment(event) => return payment_notice(tx, event_id, event).await,
        DomainEvent::Reminder(event) => return reminder_notices(tx, event_id, event).await,
        DomainEvent::Feedback(event) => return feedback_notice(tx, event_id, event).await,
        DomainEvent::Notice(_) | DomainEvent::Rating(_) => return Ok(()),
    };
    // What each change tells whom. Every change is named, so a new one must be decided here.
    let (to_applicant, to_leads): (Option<(&'static str, &'static str)>, Option<&'static str>) =
        match event.change {
            DossierChange::Received => (Some(("status", "received")), None),
            DossierChange::SupplementRequested => (Some(("status", "supplement_requested")), None),
            DossierChange::Approved => (Some(("status", "approved")), None),
            DossierChange::Rejected => (Some(("status", "rejected")), None),
            DossierChange::ResultIssued => (Some(("status", "result_issued")), None),
            DossierChange::Overdue => (Some(("apology", "overdue")), Some("overdue_lead")),
            DossierChange::ReceiptOverdue => (None, Some("receipt_overdue")),
            DossierChange::FeePaid => (Some(("status", "fee_paid")), None),
            DossierChange::Lapsed => (Some(("status", "lapsed")), None),
            DossierChange::Submitted
            | DossierChange::Resubmitted
            | DossierChange::ProcessingStarted
            | DossierChange::Withdrawn
            | DossierChange::Claimed
            | DossierChange::Assigned => (None, None),
        };
    if to_applicant.is_none() && to_leads.is_none() {
        return Ok(());
    }
    let dossier_id = event.dossier_id.as_str();
    type DossierRow = (
        String,
        Option<String>,
        String,
        String,
        String,
        String,
        String,
        Option<i64>,
        Option<i64>,
    );
    let row: Option<DossierRow> =
        sqlx::query_as(
            "select applicant_id, acting_for, receipt_number, procedure_name, agency_code, level, unit_code, rescheduled_to, deadline_at \
             from dossiers where id = $1",
        )
        .bind(dossier_id)
        .fetch_optional(&mut **tx)
        .await
        .context("reading a dossier for its notices")?;
    let Some((applicant, acting_for, receipt, name, agency, level, unit, rescheduled, deadline)) =
        row
    else {
        return Ok(());
    };
    let name: Value = serde_json::from_str(&name).unwrap_or(Value::Null);
    let params = json!({
        "receipt": receipt,
        "procedure": name,
        "reason": event.reason.clone().unwrap_or_default(),
        "date": rescheduled.map(format_vn_datetime).unwrap_or_default(),
        "deadline": deadline.map(format_vn_datetime).unwrap_or_default(),
    });
    let topic = format!("dossier:{dossier_id}");
    if let Some((kind, template)) = to_applicant {
        let link = format!("/dossiers/{dossier_id}");
        for person in with_representatives(tx, &applicant, acting_for.as_deref()).await? {
            write_notice(
                tx,
                &NewNotice {
                    id: event_id,
                    person_id: &person,
                    dossier_id: Some(dossier_id),
                    kind,
                    template,
                    params: &params,
                    link: &link,
                    topic: &topic,
                },
            )
            .await?;
        }
    }
    if let Some(template) = to_leads {
        let link = format!("/office/{dossier_id}");
        for lead in leads(tx, &agency, &level, &unit).await? {
            write_notice(
                tx,
                &NewNotice {
                    id: event_id,
                    person_id: &lead,
                    dossier_id: Some(dossier_id),
                    kind: "escalation",
                    template,
                    params: &params,
                    link: &link,
                    topic: &topic,
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// `person_id`, and when they acted for an organisation, that organisation's other
/// representatives who have signed in here: each gets the organisation's notices.
async fn with_representatives(
    tx: &mut WriteTx,
    person_id: &str,
    organisation: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    let mut people = vec![person_id.to_owned()];
    if let Some(tax_code) = organisation {
        let others: Vec<(String,)> = sqlx::query_as(
            "select p.id from representatives r join people p on p.cccd = r.cccd \
             where r.tax_code = $1 and p.id <> $2 order by p.id",
        )
        .bind(tax_code)
        .bind(person_id)
        .fetch_all(&mut **tx)
        .await
        .context("finding an organisation's representatives")?;
        people.extend(others.into_iter().map(|(id,)| id));
    }
    Ok(people)
}

/// What a credential's holder is told: a revocation, a suspension or its lifting. (Issuing is
/// told by the dossier's "result issued"; a replacement by the new credential itself.)
async fn credential_notice(
    tx: &mut WriteTx,
    event_id: &str,
    event: &crate::events::CredentialEvent,
) -> anyhow::Result<()> {
    use crate::events::CredentialChange;
    let template = match event.change {
        CredentialChange::Revoked => "credential_revoked",
        CredentialChange::Suspended => "credential_suspended",
        CredentialChange::Reinstated => "credential_reinstated",
        CredentialChange::Issued | CredentialChange::Replaced => return Ok(()),
    };
    let row: Option<(String, String)> =
        sqlx::query_as("select title_vi, title_en from credentials where id = $1")
            .bind(&event.credential_id)
            .fetch_optional(&mut **tx)
            .await
            .context("reading a credential for its notice")?;
    let Some((vi, en)) = row else {
        return Ok(());
    };
    let params = json!({
        "credential": { "vi": vi, "en": en },
        "reason": event.reason.clone().unwrap_or_default(),
    });
    write_notice(
        tx,
        &NewNotice {
            id: event_id,
            person_id: &event.person_id,
            dossier_id: None,
            kind: "status",
            template,
            params: &params,
            link: "/wallet",
            topic: &format!("credential:{}", event.credential_id),
        },
    )
    .await?;
    Ok(())
}

/// The sender of feedback is told when the desk answered it.
async fn feedback_notice(
    tx: &mut WriteTx,
    event_id: &str,
    event: &crate::events::FeedbackEvent,
) -> anyhow::Result<()> {
    if event.change != crate::events::FeedbackChange::Answered {
        return Ok(());
    }
    let row: Option<(String,)> = sqlx::query_as("select subject from feedback where id = $1")
        .bind(&event.feedback_id)
        .fetch_optional(&mut **tx)
        .await
        .context("reading feedback for its notice")?;
    let Some((subject,)) = row else {
        return Ok(());
    };
    write_notice(
        tx,
        &NewNotice {
            id: event_id,
            person_id: &event.person_id,
            dossier_id: None,
            kind: "status",
            template: "feedback_answered",
            params: &json!({ "subject": subject }),
            link: "/feedback",
            topic: &format!("feedback:{}", event.feedback_id),
        },
    )
    .await?;
    Ok(())
}

/// What a payer is told of their payment: paid (the receipt is in the wallet), not completed,
/// and money going back. An organisation's payment is told to each of its representatives.
async fn payment_notice(
    tx: &mut WriteTx,
    event_id: &str,
    event: &crate::events::PaymentEvent,
) -> anyhow::Result<()> {
    use crate::events::PaymentChange;
    let template = match event.change {
        PaymentChange::Paid => "payment_paid",
        PaymentChange::Failed => "payment_failed",
        PaymentChange::ReturnStarted => "payment_return_started",
        PaymentChange::Refunded => "payment_refunded",
        PaymentChange::Started | PaymentChange::Expired => return Ok(()),
    };
    let params = json!({
        "amount": motcua_shared::Vnd(event.amount_vnd).to_string(),
        "references": event.references.join(", "),
    });
    let link = match (&event.dossier_id, &event.payer_org) {
        (Some(dossier), _) => format!("/dossiers/{dossier}"),
        (None, Some(_)) => "/business".to_owned(),
        (None, None) => "/wallet".to_owned(),
    };
    let topic = format!("payment:{}", event.payment_id);
    for person in with_representatives(tx, &event.payer_id, event.payer_org.as_deref()).await? {
        write_notice(
            tx,
            &NewNotice {
                id: event_id,
                person_id: &person,
                dossier_id: event.dossier_id.as_deref(),
                kind: "status",
                template,
                params: &params,
                link: &link,
                topic: &topic,
            },
        )
        .await?;
    }
    Ok(())
}

/// A reminder, to each of its recipients.
async fn reminder_notices(
    tx: &mut WriteTx,
    event_id: &str,
    event: &ReminderEvent,
) -> anyhow::Result<()> {
    for person in &event.recipients {
        write_notice(
            tx,
            &NewNotice {
                id: event_id,
                person_id: person,
                dossier_id: event.dossier_id.as_deref(),
                kind: "reminder",
                template: &event.template,
                params: &event.params,
                link: &event.link,
                topic: &event.topic,
            },
        )
        .await?;
    }
    Ok(())
}

/// Writes a notice to `person_id` inside the caller's transaction, for what is not a domain
/// event (a change to the person's own account, such as a passkey removed): `template` names
/// its texts (`notice.<template>.title` and `.body`), `params` their values.
pub async fn notify_in(
    tx: &mut WriteTx,
    person_id: &str,
    template: &'static str,
    params: &Value,
) -> anyhow::Result<()> {
    let id = uuid::Uuid::new_v4().to_string();
    write_notice(
        tx,
        &NewNotice {
            id: &id,
            person_id,
            dossier_id: None,
            kind: "account",
            template,
            params,
            link: "/account",
            topic: &format!("account:{person_id}"),
        },
    )
    .await?;
    Ok(())
}

/// A notice's text in `lang`: its resource text with its values (a value given per language
/// takes that language's).
pub fn render(template: &str, part: &str, params: &Value, lang: Lang) -> String {
    let values: Vec<(&str, String)> = params
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Object(by_lang) => by_lang
                    .get(lang.code())
                    .or_else(|| by_lang.get(Lang::Vi.code()))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                _ => String::new(),
            };
            (name.as_str(), text)
        })
        .collect();
    crate::i18n::text(lang, &format!("notice.{template}.{part}"), &values).unwrap_or_default()
}

/// The people who lead an agency's desk at a level and unit (and have signed in once).
async fn leads(
    tx: &mut WriteTx,
    agency: &str,
    level: &str,
    unit: &str,
) -> anyhow::Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "select p.id from role_grants g join people p on p.cccd = g.cccd \
         where g.role = 'officer' and g.lead = 1 and g.agency_code = $1 and g.level = $2 and g.unit_code = $3 \
         order by p.id",
    )
    .bind(agency)
    .bind(level)
    .bind(unit)
    .fetch_all(&mut **tx)
    .await
    .context("finding a desk's leads")?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

#[derive(sqlx::FromRow)]
struct NoticeRow {
    id: String,
    dossier_id: Option<String>,
    kind: String,
    title_vi: String,
    title_en: String,
    body_vi: String,
    body_en: String,
    created_at: i64,
    read_at: Option<i64>,
    template: Option<String>,
    params: Option<String>,
    link: Option<String>,
}

impl NoticeRow {
    fn into_notice(self) -> Notice {
        let params: Value = self
            .params
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or(Value::Null);
        let localized = |part: &str, vi: String, en: String| match &self.template {
            Some(template) => Localized {
                vi: render(template, part, &params, Lang::Vi),
                en: render(template, part, &params, Lang::En),
            },
            // Written before notices were rendered when read.
            None => Localized { vi, en },
        };
        let title = localized("title", self.title_vi.clone(), self.title_en.clone());
        let body = localized("body", self.body_vi.clone(), self.body_en.clone());
        Notice {
            title,
            body,
            id: self.id,
            dossier_id: self.dossier_id,
            kind: self.kind,
            created_at: self.created_at,
            read: self.read_at.is_some(),
            link: self.link,
        }
    }
}

impl Store {
    /// A page of a person's notices, newest first, and how many of all their notices are unread.
    pub async fn notices_of(
        &self,
        person_id: &str,
        unread_only: bool,
        page: &Page,
    ) -> StoreResult<NoticeList> {
        let (key, id) = page.below();
        let rows: Vec<NoticeRow> = sqlx::query_as(
            "select id, dossier_id, kind, title_vi, title_en, body_vi, body_en, created_at, read_at, template, params, link \
             from notices where person_id = $1 and (created_at < $2 or (created_at = $2 and id > $3)) \
               and ($5 = 0 or read_at is null) \
             order by created_at desc, id limit $4",
        )
        .bind(person_id)
        .bind(key)
        .bind(id)
        .bind(page.fetch())
        .bind(i64::from(unread_only))
        .fetch_all(self.pool())
        .await
        .context("reading notices")?;
        let (unread,): (i64,) =
            sqlx::query_as("select count(*) from notices where person_id = $1 and read_at is null")
                .bind(person_id)
                .fetch_one(self.pool())
                .await
                .context("counting unread notices")?;
        let (rows, next) = page.finish(rows, |n| (n.created_at, &n.id));
        let notices: Vec<Notice> = rows.into_iter().map(NoticeRow::into_notice).collect();
        Ok(NoticeList {
            notices,
            unread: usize::try_from(unread).unwrap_or(0),
            next,
        })
    }

    /// Marks one of the person's notices read; false when they have no such notice.
    pub async fn mark_notice_read(&self, person_id: &str, id: &str) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "update notices set read_at = coalesce(read_at, $1) where id = $2 and person_id = $3",
        )
        .bind(now_ms())
        .bind(id)
        .bind(person_id)
        .execute(&mut *tx)
        .await
        .context("marking a notice read")?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}

/// The signed-in person's notices, newest first, with how many are unread. Their own only.
/// Which notices to list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// `true`: only those not marked read yet.
    unread: Option<bool>,
}

#[utoipa::path(get, path = "/me/notices", tag = "notices", params(PageQuery, NoticeQuery), responses((status = 200, description = "Newest first", body = NoticeList)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(asked): AppQuery<PageQuery>,
    AppQuery(only): AppQuery<NoticeQuery>,
) -> Result<AppJson<NoticeList>, ApiError> {
    let unread_only = only.unread.unwrap_or(false);
    Ok(AppJson(
        state
            .store
            .notices_of(&user.person.id, unread_only, &asked.page()?)
            .await?,
    ))
}

/// Marks one of the person's notices read. Their own only (another's is 404); CSRF token required.
#[utoipa::path(
    post, path = "/me/notices/{id}/read", tag = "notices",
    params(("id" = String, Path, description = "The notice's id")),
    responses((status = 204, description = "Marked read"), (status = 404, description = "No such notice of yours", body = motcua_shared::ErrorBody))
)]
async fn mark_read(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    if !state.store.mark_notice_read(&user.person.id, &id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(axum::http::StatusCode::NO_CONTENT)
}
