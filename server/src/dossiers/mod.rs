//! Dossiers: filing a procedure (validated, verified against the registers, idempotent, with a
//! receipt number and a legal deadline), the applicant's list and withdrawal. Officers' work on
//! dossiers comes through the same state machine (`motcua_shared::dossier`).

pub mod deadlines;
pub mod eligibility;
pub mod filing;
pub mod officer;
pub mod storage;

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use motcua_shared::{
    ErrorCode,
    calendar::{Calendar, Day},
    dossier::{Actor, Context, DossierAction, transition},
    dossier_api::{DossierList, DossierView, Resubmission, SubmitDossier},
    identity::Acr,
    procedure::{FeeTiming, ProcedureDetail},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    error::{ApiError, AppJson, AppPath, AppQuery},
    http::page::PageQuery,
    identity::AuthUser,
    store::now_ms,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit, list))
        .routes(routes!(get_one))
        .routes(routes!(withdraw))
        .routes(routes!(resubmit))
        .routes(routes!(officer::queue))
        .routes(routes!(officer::open))
        .routes(routes!(officer::claim))
        .routes(routes!(officer::assign))
        .routes(routes!(officer::document))
        .routes(routes!(officer::colleagues))
        .routes(routes!(officer::act))
}

/// Refuses (403 `level2_required`) a person whose e-identity is below what `procedure` needs.
pub fn require_level(user: &AuthUser, procedure: &ProcedureDetail) -> Result<(), ApiError> {
    if user.session.acr < procedure.min_acr {
        return Err(ApiError::forbidden(ErrorCode::Level2Required));
    }
    Ok(())
}

pub(crate) fn changed_meanwhile() -> ApiError {
    ApiError::conflict(ErrorCode::ChangedMeanwhile)
}

/// The status an applicant's `action` leads to, with the dossier's context; 409
/// `transition_not_allowed` when it is not allowed now.
fn applicant_step(
    dossier: &storage::Dossier,
    action: DossierAction,
) -> Result<(motcua_shared::dossier::DossierStatus, Context), ApiError> {
    let context = Context {
        clock_started: dossier.received_at.is_some(),
    };
    let to = transition(dossier.view.status, action, Actor::Applicant, None, context)
        .map_err(|_| ApiError::conflict(ErrorCode::TransitionNotAllowed))?;
    Ok((to, context))
}

/// Receipt is acknowledged, or a supplement asked, within 8 office hours of submission.
pub const RECEIPT_OFFICE_HOURS: u32 = 8;

pub fn calendar() -> Result<&'static Calendar, ApiError> {
    Calendar::vietnam_shared()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the holiday calendar: {e}")))
}

fn valid_key(key: &str) -> bool {
    (8..=100).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Files a dossier. Any signed-in caller, for themself or the organisation the session acts for;
/// CSRF token required. A retry with the same `idempotency_key` returns the same dossier (200).
#[utoipa::path(
    post, path = "/dossiers", tag = "dossiers",
    request_body = SubmitDossier,
    responses(
        (status = 201, description = "Filed", body = DossierView),
        (status = 200, description = "Already filed with this key", body = DossierView),
        (status = 422, description = "Answers to fix, a changed verified value, or not eligible; `fields` says what", body = motcua_shared::ErrorBody),
    )
)]
async fn submit(
    State(state): State<AppState>,
    user: AuthUser,
    AppJson(body): AppJson<SubmitDossier>,
) -> Result<Response, ApiError> {
    if !valid_key(&body.idempotency_key) {
        return Err(ApiError::validation(ErrorCode::InvalidIdempotencyKey));
    }
    if let Some(existing) = state
        .store
        .dossier_for_key(&user.person.id, &body.idempotency_key)
        .await?
    {
        return Ok((StatusCode::OK, Json(existing.view)).into_response());
    }
    // A replayed filing (above) is not a new one; a new one counts against the hourly rate.
    const HOUR_MS: i64 = 3_600_000;
    let per_hour = state.config.filing_rate_per_hour;
    if state
        .store
        .filings_since(&user.person.id, now_ms() - HOUR_MS)
        .await?
        >= i64::from(per_hour)
    {
        return Err(ApiError::QuotaUsed {
            problem: crate::error::Problem {
                code: ErrorCode::FilingRate,
                params: vec![("limit", per_hour.to_string())],
            },
            retry_after_secs: 600,
        });
    }
    let procedure = state
        .store
        .procedure(&body.procedure_code)
        .await?
        .ok_or_else(|| ApiError::validation(ErrorCode::UnknownProcedure))?;
    let form = procedure
        .form
        .clone()
        .ok_or_else(|| ApiError::validation(ErrorCode::NoEform))?;
    require_level(&user, &procedure)?;
    // Filing for an organisation: the person must still represent it now, not only when they
    // chose it (a representation withdrawn meanwhile files nothing).
    if let Some(tax_code) = user.session.acting_for.as_deref()
        && !state
            .store
            .organisations_of(&user.person.cccd)
            .await?
            .iter()
            .any(|o| o.tax_code == tax_code)
    {
        return Err(ApiError::forbidden(ErrorCode::NotARepresentative));
    }
    if procedure.min_acr == Acr::Level2 {
        // How recent the proof of identity must be (5 minutes by default).
        user.require_fresh(state.config.step_up_max_age_ms())?;
    }
    let now = now_ms();
    // Verified values are checked again now: what the form showed may have been altered.
    let purpose = format!("Kiểm tra hồ sơ khi nộp: {}", procedure.procedure.name.vi);
    let evidence = filing::gather(
        &state,
        &user.person.cccd,
        &user.person.id,
        &procedure,
        &form,
        &body.answers,
        &purpose,
    )
    .await?;
    let accepted = filing::check(
        &procedure,
        &form,
        &body.answers,
        &user.person.cccd,
        &evidence,
        Day::of_instant(now),
        None,
    )?;
    let calendar = calendar()?;
    // Online filing pays the reduced online fee. Due at filing, the dossier waits for it: its
    // clocks start when the payment is confirmed, and it lapses unpaid after the time allowed.
    let fee = procedure.procedure.online_fee_vnd.0;
    let waits_for_fee = fee > 0 && procedure.procedure.fee_paid == FeeTiming::AtFiling;
    let (deadline_at, receive_by, pay_by) = if waits_for_fee {
        (
            None,
            None,
            Some(now + i64::from(state.config.payment_lapse_hours) * 3_600_000),
        )
    } else {
        (
            Some(calendar.deadline(now, u32::from(procedure.procedure.time_limit_working_days))),
            Some(calendar.add_office_hours(now, RECEIPT_OFFICE_HOURS)),
            None,
        )
    };
    let created = state
        .store
        .create_dossier(&storage::NewDossier {
            procedure: &procedure.procedure,
            applicant_id: &user.person.id,
            acting_for: user.session.acting_for.as_deref(),
            answers: &body.answers,
            verified_fields: &accepted.verified_fields,
            deadline_at,
            receive_by,
            fee_vnd: fee,
            fee_paid: procedure.procedure.fee_paid,
            pay_by,
            unit_code: &accepted.unit_code,
            idempotency_key: &body.idempotency_key,
            facts: crate::monitoring::scorecard::FilingFacts::of(
                &procedure,
                &accepted.verified_fields,
            ),
        })
        .await?;
    match created {
        Some(dossier) => Ok((StatusCode::CREATED, Json(dossier.view)).into_response()),
        None => {
            let existing = state
                .store
                .dossier_for_key(&user.person.id, &body.idempotency_key)
                .await?
                .ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("an idempotency key without its dossier"))
                })?;
            Ok((StatusCode::OK, Json(existing.view)).into_response())
        }
    }
}

/// The signed-in person's dossiers, newest first. Their own only.
#[utoipa::path(get, path = "/dossiers", tag = "dossiers", params(PageQuery), responses((status = 200, description = "Newest first", body = DossierList)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(asked): AppQuery<PageQuery>,
) -> Result<AppJson<DossierList>, ApiError> {
    let page = asked.page()?;
    let rows = state.store.dossiers_of(&user.person.id, &page).await?;
    let (rows, next) = page.finish(rows, |d| (d.view.submitted_at, &d.view.id));
    let dossiers = rows.into_iter().map(|d| d.view).collect();
    Ok(AppJson(DossierList { dossiers, next }))
}

async fn own_dossier(
    state: &AppState,
    user: &AuthUser,
    id: &str,
) -> Result<storage::Dossier, ApiError> {
    // Someone else's dossier is answered exactly like a missing one.
    state
        .store
        .dossier(id)
        .await?
        .filter(|d| d.applicant_id == user.person.id)
        .ok_or_else(|| ApiError::NotFound)
}

/// One of the person's dossiers. Their own only (another's is 404).
#[utoipa::path(
    get, path = "/dossiers/{id}", tag = "dossiers",
    params(("id" = String, Path, description = "The dossier's id")),
    responses((status = 200, description = "The dossier", body = DossierView), (status = 404, description = "No such dossier of yours", body = motcua_shared::ErrorBody))
)]
async fn get_one(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<DossierView>, ApiError> {
    let mut view = own_dossier(&state, &user, &id).await?.view;
    view.events = state.store.dossier_events(&id).await?;
    Ok(AppJson(view))
}

/// Withdraws a dossier before processing starts. The applicant only; CSRF token required.
#[utoipa::path(
    post, path = "/dossiers/{id}/withdraw", tag = "dossiers",
    params(("id" = String, Path, description = "The dossier's id")),
    responses(
        (status = 200, description = "Withdrawn", body = DossierView),
        (status = 409, description = "Too late: processing has started, or it is closed", body = motcua_shared::ErrorBody),
    )
)]
async fn withdraw(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<DossierView>, ApiError> {
    let dossier = own_dossier(&state, &user, &id).await?;
    let (to, _) = applicant_step(&dossier, DossierAction::Withdraw)?;
    let actor = format!("person:{}", user.person.id);
    if !state
        .store
        .apply_transition(
            &dossier,
            &storage::Step {
                actor: &actor,
                change: crate::events::DossierChange::Withdrawn,
                to,
                reason: None,
                issued: &[],
                credentials: None,
            },
        )
        .await?
    {
        return Err(changed_meanwhile());
    }
    Ok(AppJson(own_dossier(&state, &user, &id).await?.view))
}

/// Resubmits a dossier a supplement was asked for, with the answers completed as asked. Values the
/// state verified at filing cannot change. The applicant only; CSRF token required. The clock
/// resumes with the working days it held when paused.
#[utoipa::path(
    post, path = "/dossiers/{id}/resubmit", tag = "dossiers",
    params(("id" = String, Path, description = "The dossier's id")),
    request_body = Resubmission,
    responses(
        (status = 200, description = "Resubmitted", body = DossierView),
        (status = 409, description = "No supplement is asked", body = motcua_shared::ErrorBody),
        (status = 422, description = "Answers to fix, or a verified value changed", body = motcua_shared::ErrorBody),
    )
)]
async fn resubmit(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<Resubmission>,
) -> Result<AppJson<DossierView>, ApiError> {
    let dossier = own_dossier(&state, &user, &id).await?;
    let (to, context) = applicant_step(&dossier, DossierAction::Resubmit)?;
    let procedure = state
        .store
        .procedure(&dossier.view.procedure_code)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a dossier's procedure is missing")))?;
    let form = procedure
        .form
        .clone()
        .ok_or_else(|| ApiError::validation(ErrorCode::NoEform))?;
    let now = now_ms();
    // The registers are read again: what they say may have changed since filing.
    let purpose = format!("Kiểm tra hồ sơ bổ sung: {}", procedure.procedure.name.vi);
    let evidence = filing::gather(
        &state,
        &user.person.cccd,
        &user.person.id,
        &procedure,
        &form,
        &body.answers,
        &purpose,
    )
    .await?;
    filing::check(
        &procedure,
        &form,
        &body.answers,
        &user.person.cccd,
        &evidence,
        Day::of_instant(now),
        Some(filing::Earlier {
            answers: &dossier.view.answers,
            verified_fields: &dossier.view.verified_fields,
            unit_code: &dossier.view.unit_code,
        }),
    )?;
    let calendar = calendar()?;
    let mut clock = storage::Clock::of(&dossier);
    if context.clock_started {
        // The clock resumes with what it held.
        let left = clock
            .paused_days_left
            .unwrap_or(0)
            .clamp(0, i64::from(u16::MAX));
        clock.deadline_at = Some(calendar.deadline(now, u32::try_from(left).unwrap_or(0)));
        clock.paused_days_left = None;
    } else {
        // Asked at receipt: the dossier counts as filed now, complete.
        clock.deadline_at =
            Some(calendar.deadline(now, u32::from(procedure.procedure.time_limit_working_days)));
        clock.receive_by = Some(calendar.add_office_hours(now, RECEIPT_OFFICE_HOURS));
    }
    let actor = format!("person:{}", user.person.id);
    if !state
        .store
        .apply_transition_with(
            &dossier,
            &storage::Step {
                actor: &actor,
                change: crate::events::DossierChange::Resubmitted,
                to,
                reason: None,
                issued: &[],
                credentials: None,
            },
            &clock,
            Some(&body.answers),
        )
        .await?
    {
        return Err(changed_meanwhile());
    }
    Ok(AppJson(own_dossier(&state, &user, &id).await?.view))
}
