//! Notices: what the platform tells a person about their dossiers (received, a supplement asked,
//! approved, refused, the result issued, an apology for lateness with the new date) and what it
//! tells a unit's lead (a late receipt or result). Made by the outbox worker from dossier
//! events; read and marked read by their person.

use anyhow::Context;
use axum::extract::State;
use motcua_shared::{
    Localized,
    dossier_api::{Notice, NoticeList},
    time::format_vn_datetime,
};
use sqlx::{Any, Transaction};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    error::{ApiError, AppJson, AppPath},
    identity::AuthUser,
    store::{Store, now_ms},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(mark_read))
}

struct Draft {
    person_id: String,
    kind: &'static str,
    title: Localized,
    body: Localized,
}

fn text(vi: String, en: String) -> Localized {
    Localized { vi, en }
}

/// Writes the notices an event calls for, keyed by the event so a redelivery adds nothing.
pub async fn from_event(
    tx: &mut Transaction<'_, Any>,
    event_id: &str,
    topic: &str,
    payload: &serde_json::Value,
    now: i64,
) -> anyhow::Result<()> {
    let Some(action) = topic.strip_prefix("dossier.") else {
        return Ok(());
    };
    let Some(dossier_id) = payload["dossier_id"].as_str() else {
        return Ok(());
    };
    type DossierRow = (String, String, String, String, String, String, Option<i64>);
    let row: Option<DossierRow> =
        sqlx::query_as(
            "select applicant_id, receipt_number, procedure_name, agency_code, level, unit_code, rescheduled_to \
             from dossiers where id = $1",
        )
        .bind(dossier_id)
        .fetch_optional(&mut **tx)
        .await
        .context("reading a dossier for its notices")?;
    let Some((applicant, receipt, name, agency, level, unit, rescheduled)) = row else {
        return Ok(());
    };
    let name: Localized = serde_json::from_str(&name).unwrap_or(Localized {
        vi: String::new(),
        en: String::new(),
    });
    let reason = payload["reason"].as_str().unwrap_or_default().to_owned();
    let to_applicant = |kind: &'static str, title: Localized, body: Localized| Draft {
        person_id: applicant.clone(),
        kind,
        title,
        body,
    };
    let mut drafts = Vec::new();
    match action {
        "received" => drafts.push(to_applicant(
            "status",
            text(
                format!("Hồ sơ {receipt} đã được tiếp nhận"),
                format!("Dossier {receipt} was received"),
            ),
            text(
                format!("{}: cán bộ một cửa đã tiếp nhận hồ sơ.", name.vi),
                format!("{}: a one-stop officer received the dossier.", name.en),
            ),
        )),
        "supplement_requested" => drafts.push(to_applicant(
            "status",
            text(
                format!("Hồ sơ {receipt} cần bổ sung"),
                format!("Dossier {receipt} needs a supplement"),
            ),
            text(
                format!("{}: {reason}", name.vi),
                format!("{}: {reason}", name.en),
            ),
        )),
        "approved" => drafts.push(to_applicant(
            "status",
            text(
                format!("Hồ sơ {receipt} đã được phê duyệt"),
                format!("Dossier {receipt} was approved"),
            ),
            text(
                format!(
                    "{}: kết quả sẽ được trả theo hình thức bạn đã chọn.",
                    name.vi
                ),
                format!("{}: the result will be delivered as you chose.", name.en),
            ),
        )),
        "rejected" => drafts.push(to_applicant(
            "status",
            text(
                format!("Hồ sơ {receipt} bị từ chối"),
                format!("Dossier {receipt} was refused"),
            ),
            text(
                format!("{}: {reason}", name.vi),
                format!("{}: {reason}", name.en),
            ),
        )),
        "result_issued" => drafts.push(to_applicant(
            "status",
            text(
                format!("Đã trả kết quả hồ sơ {receipt}"),
                format!("The result of dossier {receipt} was issued"),
            ),
            text(name.vi.clone(), name.en.clone()),
        )),
        "overdue" => {
            let date = rescheduled.map(format_vn_datetime).unwrap_or_default();
            drafts.push(to_applicant(
                "apology",
                text(format!("Thư xin lỗi: hồ sơ {receipt} trễ hạn"), format!("Apology: dossier {receipt} is late")),
                text(
                    format!("Cơ quan giải quyết thành thật xin lỗi vì hồ sơ {} chưa có kết quả đúng hạn. Thời hạn trả kết quả mới: {date}.", name.vi),
                    format!("The office sincerely apologises: dossier {} has no result by its legal deadline. The new date for the result: {date}.", name.en),
                ),
            ));
            for lead in leads(tx, &agency, &level, &unit).await? {
                drafts.push(Draft {
                    person_id: lead,
                    kind: "escalation",
                    title: text(
                        format!("Hồ sơ {receipt} trễ hạn giải quyết"),
                        format!("Dossier {receipt} is late"),
                    ),
                    body: text(
                        format!(
                            "{}: đã quá thời hạn; đã gửi thư xin lỗi, hẹn trả mới {date}.",
                            name.vi
                        ),
                        format!(
                            "{}: past its deadline; an apology was sent with the new date {date}.",
                            name.en
                        ),
                    ),
                });
            }
        }
        "receipt_overdue" => {
            for lead in leads(tx, &agency, &level, &unit).await? {
                drafts.push(Draft {
                    person_id: lead,
                    kind: "escalation",
                    title: text(
                        format!("Hồ sơ {receipt} chưa được tiếp nhận"),
                        format!("Dossier {receipt} is not received"),
                    ),
                    body: text(
                        format!(
                            "{}: quá 8 giờ làm việc kể từ khi nộp mà chưa tiếp nhận.",
                            name.vi
                        ),
                        format!("{}: not received within 8 office hours of filing.", name.en),
                    ),
                });
            }
        }
        _ => {}
    }
    for draft in drafts {
        sqlx::query(
            "insert into notices (id, person_id, dossier_id, kind, title_vi, title_en, body_vi, body_en, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (id, person_id) do nothing",
        )
        .bind(event_id)
        .bind(&draft.person_id)
        .bind(dossier_id)
        .bind(draft.kind)
        .bind(&draft.title.vi)
        .bind(&draft.title.en)
        .bind(&draft.body.vi)
        .bind(&draft.body.en)
        .bind(now)
        .execute(&mut **tx)
        .await
        .context("writing a notice")?;
    }
    Ok(())
}

/// The people who lead an agency's desk at a level and unit (and have signed in once).
async fn leads(
    tx: &mut Transaction<'_, Any>,
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

type NoticeRow = (
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
);

impl Store {
    /// A person's notices, newest first (the last 100).
    pub async fn notices_of(&self, person_id: &str) -> anyhow::Result<NoticeList> {
        let rows: Vec<NoticeRow> = sqlx::query_as(
            "select id, dossier_id, kind, title_vi, title_en, body_vi, body_en, created_at, read_at \
             from notices where person_id = $1 order by created_at desc, id limit 100",
        )
        .bind(person_id)
        .fetch_all(self.pool())
        .await
        .context("reading notices")?;
        let notices: Vec<Notice> = rows
            .into_iter()
            .map(
                |(
                    id,
                    dossier_id,
                    kind,
                    title_vi,
                    title_en,
                    body_vi,
                    body_en,
                    created_at,
                    read_at,
                )| {
                    Notice {
                        id,
                        dossier_id,
                        kind,
                        title: text(title_vi, title_en),
                        body: text(body_vi, body_en),
                        created_at,
                        read: read_at.is_some(),
                    }
                },
            )
            .collect();
        let unread = notices.iter().filter(|n| !n.read).count();
        Ok(NoticeList { notices, unread })
    }
}

/// The signed-in person's notices, newest first, with how many are unread. Their own only.
#[utoipa::path(get, path = "/me/notices", tag = "notices", responses((status = 200, description = "Newest first", body = NoticeList)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<AppJson<NoticeList>, ApiError> {
    Ok(AppJson(state.store.notices_of(&user.person.id).await?))
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
    let mut tx = state.store.begin_write().await?;
    let done = sqlx::query(
        "update notices set read_at = coalesce(read_at, $1) where id = $2 and person_id = $3",
    )
    .bind(now_ms())
    .bind(&id)
    .bind(&user.person.id)
    .execute(&mut *tx)
    .await
    .context("marking a notice read")?;
    tx.commit().await.context("committing a notice read")?;
    if done.rows_affected() == 0 {
        return Err(ApiError::NotFound(
            "You have no notice with this id.".into(),
        ));
    }
    Ok(axum::http::StatusCode::NO_CONTENT)
}
