//! Satisfaction and feedback: after a result is issued or a dossier refused, its applicant rates
//! the service (one rating per dossier, changeable for 30 days); anyone signed in sends
//! feedback or a petition about a procedure, a dossier or an officer's conduct, which the desk
//! answers within 10 working days and the sender then judges. Officers see their desk's
//! ratings and feedback without who gave them, and a dashboard of their agency.

pub mod decide;
pub mod storage;

use axum::extract::State;
use motcua_shared::{
    ErrorCode,
    calendar::{Calendar, Day},
    identity::Role,
    satisfaction_api::{
        Dashboard, DeskFeedback, DeskFeedbackList, DeskRatingList, DossierRating, Feedback,
        FeedbackAbout, FeedbackAnswer, FeedbackList, MAX_BODY, MAX_COMMENT, MAX_SUBJECT,
        NewFeedback, RatingInput, Settle,
    },
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    error::{ApiError, AppJson, AppPath, AppQuery, Problem},
    http::page::{Page, PageQuery},
    identity::AuthUser,
    monitoring::storage::ScopeFilter,
    store::now_ms,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_rating, put_rating))
        .routes(routes!(send_feedback))
        .routes(routes!(my_feedback))
        .routes(routes!(judge))
        .routes(routes!(desk_feedback))
        .routes(routes!(answer))
        .routes(routes!(desk_ratings))
        .routes(routes!(dashboard))
}

fn calendar() -> Result<&'static Calendar, ApiError> {
    Calendar::vietnam_shared().map_err(|e| ApiError::Internal(e.into()))
}

fn refused(code: ErrorCode) -> ApiError {
    match code {
        ErrorCode::InvalidRating => ApiError::validation(code).with("max", MAX_COMMENT.to_string()),
        ErrorCode::InvalidFeedback => ApiError::validation(code)
            .with("subject", MAX_SUBJECT.to_string())
            .with("body", MAX_BODY.to_string()),
        ErrorCode::RatingClosed => {
            ApiError::conflict(code).with("days", decide::RATING_DAYS.to_string())
        }
        _ => ApiError::conflict(code),
    }
}

/// The applicant's dossier for a rating; another's is 404.
async fn own_target(
    state: &AppState,
    user: &AuthUser,
    id: &str,
) -> Result<storage::Target, ApiError> {
    state
        .store
        .rating_target(id)
        .await?
        .filter(|t| t.applicant_id == user.person.id)
        .ok_or(ApiError::NotFound)
}

/// The person's rating of their dossier and until when it may be given or changed.
#[utoipa::path(
    get, path = "/dossiers/{id}/rating", tag = "satisfaction",
    params(("id" = String, Path, description = "The dossier's id")),
    responses(
        (status = 200, description = "The rating (or none) and its window", body = DossierRating),
        (status = 404, description = "No such dossier of yours", body = motcua_shared::ErrorBody),
    )
)]
async fn get_rating(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<DossierRating>, ApiError> {
    let target = own_target(&state, &user, &id).await?;
    Ok(AppJson(DossierRating {
        rating: state.store.rating_of(&id).await?,
        open_until: decide::rating_open_until(target.status, target.finished_at, now_ms()).ok(),
    }))
}

/// Rates the service of an ended dossier (a result issued, or refused): satisfied or not, 1–5
/// on time, clarity and staff attitude, and a comment. Its applicant only; again to change it,
/// for 30 days. CSRF token required. 409 `not_rateable` or `rating_closed`; 422
/// `invalid_rating`.
#[utoipa::path(
    put, path = "/dossiers/{id}/rating", tag = "satisfaction", request_body = RatingInput,
    params(("id" = String, Path, description = "The dossier's id")),
    responses(
        (status = 200, description = "Saved", body = DossierRating),
        (status = 404, description = "No such dossier of yours", body = motcua_shared::ErrorBody),
        (status = 409, description = "Not ended, or rated too late", body = motcua_shared::ErrorBody),
        (status = 422, description = "Scores or comment out of bounds", body = motcua_shared::ErrorBody),
    )
)]
async fn put_rating(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
    AppJson(input): AppJson<RatingInput>,
) -> Result<AppJson<DossierRating>, ApiError> {
    let target = own_target(&state, &user, &id).await?;
    let open_until =
        decide::rating_open_until(target.status, target.finished_at, now_ms()).map_err(refused)?;
    let rating = decide::check_rating(&input).map_err(refused)?;
    state.store.save_rating(&target, &rating).await?;
    Ok(AppJson(DossierRating {
        rating: state.store.rating_of(&id).await?,
        open_until: Some(open_until),
    }))
}

/// Sends feedback or a petition: about a procedure (to the unit named, at the procedure's
/// level), one of the person's dossiers, or an officer's conduct on one. The desk answers
/// within 10 working days. CSRF token required. 422 `invalid_feedback` or `unknown_unit`; 429
/// `feedback_rate` (10 a day).
#[utoipa::path(
    post, path = "/feedback", tag = "satisfaction", request_body = NewFeedback,
    responses(
        (status = 201, description = "Sent", body = Feedback),
        (status = 404, description = "No such procedure, or no such dossier of yours", body = motcua_shared::ErrorBody),
        (status = 422, description = "Empty, too long, or not saying what it is about", body = motcua_shared::ErrorBody),
        (status = 429, description = "Too much feedback today", body = motcua_shared::ErrorBody),
    )
)]
async fn send_feedback(
    State(state): State<AppState>,
    user: AuthUser,
    AppJson(input): AppJson<NewFeedback>,
) -> Result<(axum::http::StatusCode, AppJson<Feedback>), ApiError> {
    let input = decide::check_feedback(&input).map_err(refused)?;
    let now = now_ms();
    let sent = state
        .store
        .feedback_sent_since(&user.person.id, now - 86_400_000)
        .await?;
    if sent >= decide::FEEDBACK_PER_DAY {
        return Err(ApiError::QuotaUsed {
            problem: Problem {
                code: ErrorCode::FeedbackRate,
                params: vec![("limit", decide::FEEDBACK_PER_DAY.to_string())],
            },
            retry_after_secs: 3600,
        });
    }
    let (agency, unit, procedure, dossier) = match input.about {
        FeedbackAbout::Procedure => {
            let code = input.procedure_code.clone().unwrap_or_default();
            let detail = state
                .store
                .procedure(code.trim())
                .await?
                .ok_or(ApiError::NotFound)?;
            let unit = input.unit_code.clone().unwrap_or_default();
            let at_level = motcua_shared::units::get(unit.trim())
                .is_some_and(|u| u.level == detail.procedure.level);
            if !at_level {
                return Err(ApiError::validation(ErrorCode::UnknownUnit));
            }
            (
                detail.procedure.agency.code.clone(),
                unit.trim().to_owned(),
                Some(detail.procedure.code.clone()),
                None,
            )
        }
        FeedbackAbout::Dossier | FeedbackAbout::Conduct => {
            let id = input.dossier_id.clone().unwrap_or_default();
            let target = own_target(&state, &user, id.trim()).await?;
            (
                target.agency_code,
                target.unit_code,
                Some(target.procedure_code),
                Some(target.id),
            )
        }
    };
    let feedback = state
        .store
        .send_feedback(
            &input,
            &storage::Routed {
                person_id: &user.person.id,
                acting_for: user.session.acting_for.as_deref(),
                agency_code: &agency,
                unit_code: &unit,
                procedure_code: procedure.as_deref(),
                dossier_id: dossier.as_deref(),
                due_at: decide::answer_due(calendar()?, now),
            },
        )
        .await?;
    Ok((axum::http::StatusCode::CREATED, AppJson(feedback)))
}

/// The feedback the person sent, newest first, with the desk's answers.
#[utoipa::path(get, path = "/me/feedback", tag = "satisfaction", params(PageQuery), responses((status = 200, body = FeedbackList)))]
async fn my_feedback(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(asked): AppQuery<PageQuery>,
) -> Result<AppJson<FeedbackList>, ApiError> {
    let page = asked.page()?;
    let rows = state.store.feedback_of(&user.person.id, &page).await?;
    let (feedback, next) = page.finish(rows, |f| (f.received_at, &f.id));
    Ok(AppJson(FeedbackList { feedback, next }))
}

/// Says whether the desk's answer settled the matter, once. CSRF token required. 409
/// `not_answered` or `already_judged`.
#[utoipa::path(
    post, path = "/me/feedback/{id}/settled", tag = "satisfaction", request_body = Settle,
    params(("id" = String, Path, description = "The feedback's id")),
    responses(
        (status = 200, description = "Recorded", body = Feedback),
        (status = 404, description = "No such feedback of yours", body = motcua_shared::ErrorBody),
        (status = 409, description = "Not answered yet, or already judged", body = motcua_shared::ErrorBody),
    )
)]
async fn judge(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
    AppJson(settle): AppJson<Settle>,
) -> Result<AppJson<Feedback>, ApiError> {
    let (feedback, sender) = state
        .store
        .feedback(&id)
        .await?
        .filter(|(_, sender)| *sender == user.person.id)
        .ok_or(ApiError::NotFound)?;
    if feedback.answered_at.is_none() {
        return Err(ApiError::conflict(ErrorCode::NotAnswered));
    }
    if !state
        .store
        .judge_feedback(&id, &sender, settle.settled)
        .await?
    {
        return Err(ApiError::conflict(ErrorCode::AlreadyJudged));
    }
    let (feedback, _) = state.store.feedback(&id).await?.ok_or(ApiError::NotFound)?;
    Ok(AppJson(feedback))
}

/// The officer's desk: its agency and the unit they handle (admins: any).
struct Desk {
    agency: String,
    within: String,
}

async fn desk_of(state: &AppState, user: &AuthUser) -> Result<Desk, ApiError> {
    user.require(Role::Officer)?;
    let assignment = state
        .store
        .assignment_of(&user.person.cccd)
        .await?
        .ok_or_else(|| ApiError::forbidden(ErrorCode::ForbiddenRole))?;
    Ok(Desk {
        agency: assignment.agency_code,
        within: assignment.unit_code,
    })
}

/// The desk's feedback: open first, by due date; then the latest answered. Who sent it is not
/// shown. Officers only.
#[utoipa::path(
    get, path = "/officer/feedback", tag = "satisfaction", params(PageQuery),
    responses((status = 200, body = DeskFeedbackList), (status = 403, description = "Not an officer", body = motcua_shared::ErrorBody))
)]
async fn desk_feedback(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(asked): AppQuery<PageQuery>,
) -> Result<AppJson<DeskFeedbackList>, ApiError> {
    let desk = desk_of(&state, &user).await?;
    let page = asked.page()?;
    let (feedback, next) = state
        .store
        .desk_feedback(&desk.agency, &desk.within, None, &page)
        .await?;
    Ok(AppJson(DeskFeedbackList { feedback, next }))
}

/// Answers feedback sent to the officer's desk, once; its sender is told. CSRF token required.
/// 409 `already_answered`; 422 `invalid_feedback` (empty or too long).
#[utoipa::path(
    post, path = "/officer/feedback/{id}/answer", tag = "satisfaction", request_body = FeedbackAnswer,
    params(("id" = String, Path, description = "The feedback's id")),
    responses(
        (status = 200, description = "Answered", body = DeskFeedback),
        (status = 403, description = "Not an officer", body = motcua_shared::ErrorBody),
        (status = 404, description = "No such feedback at this desk", body = motcua_shared::ErrorBody),
        (status = 409, description = "Already answered", body = motcua_shared::ErrorBody),
        (status = 422, description = "Empty or too long", body = motcua_shared::ErrorBody),
    )
)]
async fn answer(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
    AppJson(input): AppJson<FeedbackAnswer>,
) -> Result<AppJson<DeskFeedback>, ApiError> {
    let desk = desk_of(&state, &user).await?;
    let text = decide::clean_text(&input.answer, MAX_BODY)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| refused(ErrorCode::InvalidFeedback))?;
    let (feedback, sender) = state
        .store
        .feedback(&id)
        .await?
        .filter(|(f, _)| {
            f.agency_code == desk.agency
                && motcua_shared::units::is_within(&f.unit_code, &desk.within)
        })
        .ok_or(ApiError::NotFound)?;
    if !state
        .store
        .answer_feedback(&feedback.id, &sender, &user.person.id, &text)
        .await?
    {
        return Err(ApiError::conflict(ErrorCode::AlreadyAnswered));
    }
    state
        .store
        .desk_feedback(&desk.agency, &desk.within, Some(&id), &Page::first(1))
        .await?
        .0
        .into_iter()
        .next()
        .map(AppJson)
        .ok_or(ApiError::NotFound)
}

/// A period and filters for the desk's views.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeskQuery {
    /// First day, `YYYY-MM-DD`; default: 30 days ago.
    pub from: Option<String>,
    /// Last day, included; default: today.
    pub to: Option<String>,
    pub procedure: Option<String>,
    /// A unit within the officer's (admins: any).
    pub unit: Option<String>,
    /// Admins only: the agency.
    pub agency: Option<String>,
}

/// The period of a desk query, as days.
fn desk_period(q: &DeskQuery) -> Result<(Day, Day), ApiError> {
    let today = Day::of_instant(now_ms());
    let day = |v: &Option<String>, default: Day| match v.as_deref().map(str::trim) {
        None | Some("") => Some(default),
        Some(text) => Day::parse_iso(text),
    };
    match (day(&q.from, Day(today.0 - 30)), day(&q.to, today)) {
        (Some(first), Some(last)) if first <= last && last.0 - first.0 < 5 * 366 => {
            Ok((first, last))
        }
        _ => Err(ApiError::validation(ErrorCode::InvalidPeriod)),
    }
}

/// Whose detail the caller sees: an officer their own agency, within their unit; an admin any
/// `agency` they name.
async fn scope_of(state: &AppState, user: &AuthUser, q: &DeskQuery) -> Result<Desk, ApiError> {
    let named = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let mut desk = if let Some(agency) = named(&q.agency).filter(|_| user.has_role(Role::Admin)) {
        Desk {
            agency,
            within: String::new(),
        }
    } else {
        let desk = desk_of(state, user).await?;
        if named(&q.agency).is_some_and(|a| a != desk.agency) {
            return Err(ApiError::forbidden(ErrorCode::NotAnOfficerHere));
        }
        desk
    };
    if let Some(unit) = named(&q.unit) {
        if motcua_shared::units::get(&unit).is_none() {
            return Err(ApiError::validation(ErrorCode::UnknownUnit));
        }
        if !desk.within.is_empty() && !motcua_shared::units::is_within(&unit, &desk.within) {
            return Err(ApiError::forbidden(ErrorCode::NotAnOfficerHere));
        }
        desk.within = unit;
    }
    Ok(desk)
}

/// The desk's ratings in a period (default: the last 30 days): scores, comments, procedure and
/// month; never the dossier or who gave them. Officers only.
#[utoipa::path(
    get, path = "/officer/ratings", tag = "satisfaction", params(DeskQuery, PageQuery),
    responses((status = 200, body = DeskRatingList), (status = 403, description = "Not an officer", body = motcua_shared::ErrorBody))
)]
async fn desk_ratings(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(q): AppQuery<DeskQuery>,
    AppQuery(asked): AppQuery<PageQuery>,
) -> Result<AppJson<DeskRatingList>, ApiError> {
    let desk = scope_of(&state, &user, &q).await?;
    let (first, last) = desk_period(&q)?;
    let page = asked.page()?;
    if page
        .after
        .as_ref()
        .is_some_and(|(_, shown)| storage::ratings_shown(shown).is_none())
    {
        return Err(ApiError::bad_request(ErrorCode::InvalidCursor));
    }
    let (ratings, next) = state
        .store
        .desk_ratings(
            &desk.agency,
            &desk.within,
            q.procedure.as_deref().unwrap_or("").trim(),
            first.start_ms(),
            Day(last.0 + 1).start_ms(),
            &page,
        )
        .await?;
    Ok(AppJson(DeskRatingList { ratings, next }))
}

/// An agency in detail for a period (default: the last 30 days): its index, ratings, feedback,
/// late dossiers and changes the national systems have not acknowledged. An officer sees their
/// own agency within their unit (403 `not_an_officer_here` for another); an admin names any
/// `agency`.
#[utoipa::path(
    get, path = "/officer/dashboard", tag = "satisfaction", params(DeskQuery),
    responses(
        (status = 200, body = Dashboard),
        (status = 403, description = "Not an officer of that agency or unit", body = motcua_shared::ErrorBody),
        (status = 422, description = "Not a period, or an unknown unit", body = motcua_shared::ErrorBody),
    )
)]
async fn dashboard(
    State(state): State<AppState>,
    user: AuthUser,
    headers: axum::http::HeaderMap,
    AppQuery(q): AppQuery<DeskQuery>,
) -> Result<AppJson<Dashboard>, ApiError> {
    if !user.has_role(Role::Admin) {
        user.require(Role::Officer)?;
    }
    let desk = scope_of(&state, &user, &q).await?;
    let (first, last) = desk_period(&q)?;
    let (from, to) = (first.start_ms(), Day(last.0 + 1).start_ms());
    let procedure = q.procedure.clone().unwrap_or_default().trim().to_owned();
    let lang = crate::i18n::lang_of(&headers);
    let now = now_ms();
    let filter = ScopeFilter {
        province: String::new(),
        agency: desk.agency.clone(),
        unit: desk.within.clone(),
        procedure: procedure.clone(),
    };
    let facts = state
        .store
        .scorecard_facts(&filter, (first, Day(last.0 + 1)), now, lang)
        .await?;
    let scope = motcua_shared::stats_api::Scope {
        province: None,
        agency: Some(desk.agency.clone()),
        unit: (!desk.within.is_empty()).then(|| desk.within.clone()),
        procedure: (!procedure.is_empty()).then(|| procedure.clone()),
    };
    let scorecard = crate::monitoring::stats::scorecard_of(&facts, (first, last), scope, lang);
    // The dashboard shows the first page of each list; the lists themselves page on.
    let dashboard_page = Page::first(crate::http::page::MAX_PAGE);
    let (mut feedback, _) = state
        .store
        .desk_feedback(&desk.agency, &desk.within, None, &dashboard_page)
        .await?;
    feedback.retain(|f| procedure.is_empty() || f.procedure_code.as_deref() == Some(&procedure));
    let mut late = state
        .store
        .late_dossiers(&desk.agency, &desk.within, now)
        .await?;
    late.retain(|d| procedure.is_empty() || d.procedure_code == procedure);
    Ok(AppJson(Dashboard {
        agency_code: desk.agency.clone(),
        scorecard,
        ratings: state
            .store
            .desk_ratings(
                &desk.agency,
                &desk.within,
                &procedure,
                from,
                to,
                &dashboard_page,
            )
            .await?
            .0,
        feedback,
        late,
        sync_failures: state
            .store
            .sync_failures(
                &desk.agency,
                &desk.within,
                now - crate::monitoring::decide::REAL_TIME_MS,
            )
            .await?,
    }))
}
