//! Dossiers: filing a procedure (validated, verified against the registers, idempotent, with a
//! receipt number and a legal deadline), the applicant's list and withdrawal. Officers' work on
//! dossiers comes through the same state machine (`motcua_shared::dossier`).

pub mod deadlines;
pub mod eligibility;
pub mod officer;
pub mod storage;

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use motcua_shared::{
    calendar::{Calendar, Day},
    dossier::{Actor, Context, DossierAction, transition},
    dossier_api::{DossierList, DossierView, Resubmission, SubmitDossier},
    identity::Acr,
    procedure::ProcedureDetail,
    units::Address,
};
use serde_json::{Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    error::{ApiError, AppJson, AppPath},
    identity::AuthUser,
    procedures::prefill,
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
        return Err(ApiError::forbidden(
            "level2_required",
            "This procedure needs a level 2 electronic identity (VNeID level 2). Sign in with a level 2 account; level 2 is activated at the police with your chip-based ID card.",
        ));
    }
    Ok(())
}

/// A value the state verified was changed.
fn locked_changed(field: &str) -> motcua_shared::eform::FieldError {
    motcua_shared::eform::FieldError {
        field: field.to_owned(),
        code: "locked_field_changed".into(),
        message: motcua_shared::Localized {
            vi: "Thông tin này do cơ sở dữ liệu quốc gia cung cấp và không được sửa.".into(),
            en: "This value comes from the national register and cannot be changed.".into(),
        },
    }
}

pub(crate) fn changed_meanwhile() -> ApiError {
    ApiError::Conflict {
        code: "changed_meanwhile",
        message: "The dossier changed meanwhile. Reload it and try again.".into(),
    }
}

/// The status an applicant's `action` leads to, with the dossier's context; 409 `refusal: why`
/// when it is not allowed now.
fn applicant_step(
    dossier: &storage::Dossier,
    action: DossierAction,
    refusal: &str,
) -> Result<(motcua_shared::dossier::DossierStatus, Context), ApiError> {
    let context = Context {
        clock_started: dossier.received_at.is_some(),
    };
    let to =
        transition(dossier.view.status, action, Actor::Applicant, None, context).map_err(|e| {
            ApiError::Conflict {
                code: "transition_not_allowed",
                message: format!("{refusal}: {e}."),
            }
        })?;
    Ok((to, context))
}

/// Refuses (422 `unknown_document`) document answers the person's warehouse (`held`) does not hold.
fn check_documents(
    form: &motcua_shared::eform::Form,
    answers: &Map<String, Value>,
    held: &[motcua_shared::warehouse::WarehouseItem],
) -> Result<(), ApiError> {
    let unknown = documents_not_held(form, answers, held);
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ApiError::InvalidAnswers {
            code: "unknown_document",
            message: "A document is not in your warehouse.".into(),
            fields: unknown,
        })
    }
}

/// Document answers that are not an item of the person's warehouse of the required kind.
pub fn documents_not_held(
    form: &motcua_shared::eform::Form,
    answers: &Map<String, Value>,
    held: &[motcua_shared::warehouse::WarehouseItem],
) -> Vec<motcua_shared::eform::FieldError> {
    form.fields
        .iter()
        .filter_map(|field| {
            let motcua_shared::eform::FieldKind::Document { document } = &field.kind else {
                return None;
            };
            let id = answers.get(&field.name)?.as_str()?;
            let ok = held
                .iter()
                .any(|i| i.id == id && i.document_code == *document);
            (!ok).then(|| motcua_shared::eform::FieldError {
                field: field.name.clone(),
                code: "unknown_document".into(),
                message: motcua_shared::Localized {
                    vi: "Chọn giấy tờ trong kho dữ liệu của bạn hoặc tải lên bản mới.".into(),
                    en: "Choose the document from your warehouse or upload a new one.".into(),
                },
            })
        })
        .collect()
}

/// The unit handling a dossier: where its jurisdiction address lies, at the procedure's level.
fn unit_of(procedure: &ProcedureDetail, answers: &Map<String, Value>) -> Result<String, ApiError> {
    procedure
        .jurisdiction
        .as_deref()
        .and_then(|field| answers.get(field))
        .and_then(Address::from_value)
        .filter(Address::is_consistent)
        .map(|a| a.unit_at(procedure.procedure.level).to_owned())
        .ok_or_else(|| {
            ApiError::validation(
                "no_jurisdiction",
                "The address that decides which office handles this dossier is missing.",
            )
        })
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
        return Err(ApiError::validation(
            "invalid_idempotency_key",
            "idempotency_key must be 8 to 100 letters, digits, - or _",
        ));
    }
    if let Some(existing) = state
        .store
        .dossier_for_key(&user.person.id, &body.idempotency_key)
        .await?
    {
        return Ok((StatusCode::OK, Json(existing.view)).into_response());
    }
    let procedure = state
        .store
        .procedure(&body.procedure_code)
        .await?
        .ok_or_else(|| {
            ApiError::validation(
                "unknown_procedure",
                "No procedure in the catalogue has this code.",
            )
        })?;
    let form = procedure.form.clone().ok_or_else(|| {
        ApiError::validation("no_eform", "This procedure cannot be filed online yet.")
    })?;
    require_level(&user, &procedure)?;
    if procedure.min_acr == Acr::Level2 {
        // How recent the proof of identity must be (5 minutes by default).
        let max_age = i64::try_from(state.config.step_up_max_age_secs)
            .unwrap_or(300)
            .saturating_mul(1000);
        user.require_fresh(max_age)?;
    }
    let now = now_ms();
    let today = Day::of_instant(now);
    let problems = form.validate(&body.answers, today);
    if !problems.is_empty() {
        return Err(ApiError::InvalidAnswers {
            code: "invalid_answers",
            message: "Some answers need fixing.".into(),
            fields: problems,
        });
    }
    // Verified values are checked again now: what the form showed may have been altered.
    let purpose = format!("Kiểm tra hồ sơ khi nộp: {}", procedure.procedure.name.vi);
    let mut data = prefill::read_registers(
        &state.registries,
        &state.store,
        &user.person.cccd,
        &form,
        &purpose,
    )
    .await?;
    prefill::read_warehouse(&state.store, &user.person.id, &form, &mut data).await?;
    if !data.unavailable.is_empty() {
        return Err(ApiError::Unavailable("A national register did not answer, so the dossier cannot be checked. Please try again later.".into()));
    }
    let mut verified = Vec::new();
    let mut changed = Vec::new();
    for field in &form.fields {
        let Some(source) = field.source.as_deref() else {
            continue;
        };
        if prefill::is_warehouse_source(source) {
            continue;
        }
        let Some(expected) = prefill::source_value(source, &user.person.cccd, &data) else {
            continue;
        };
        match body.answers.get(&field.name) {
            Some(given) if *given == expected => verified.push(field.name.clone()),
            // A suggestion (the phone) may be changed; a verified value may not.
            _ if !prefill::is_locked_source(source) => {}
            _ => changed.push(locked_changed(&field.name)),
        }
    }
    if !changed.is_empty() {
        return Err(ApiError::InvalidAnswers {
            code: "locked_field_changed",
            message: "Values verified by the state were changed.".into(),
            fields: changed,
        });
    }
    // The warehouse was read with the registers, once.
    check_documents(&form, &body.answers, &data.warehouse)?;
    let mut refusals = Vec::new();
    for check in &procedure.eligibility {
        if let Some(refusal) = eligibility::run(
            check,
            &body.answers,
            &user.person.cccd,
            &data,
            &state.registries,
            today,
        )
        .await?
        {
            refusals.push(refusal);
        }
    }
    if !refusals.is_empty() {
        return Err(ApiError::InvalidAnswers {
            code: "not_eligible",
            message: "The registers show this procedure cannot go ahead.".into(),
            fields: refusals,
        });
    }
    let unit_code = unit_of(&procedure, &body.answers)?;
    let calendar = calendar()?;
    let deadline_at =
        calendar.deadline(now, u32::from(procedure.procedure.time_limit_working_days));
    let created = state
        .store
        .create_dossier(&storage::NewDossier {
            procedure: &procedure.procedure,
            applicant_id: &user.person.id,
            acting_for: user.session.acting_for.as_deref(),
            answers: &body.answers,
            verified_fields: &verified,
            deadline_at,
            receive_by: calendar.add_office_hours(now, RECEIPT_OFFICE_HOURS),
            unit_code: &unit_code,
            idempotency_key: &body.idempotency_key,
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
#[utoipa::path(get, path = "/dossiers", tag = "dossiers", responses((status = 200, description = "Newest first", body = DossierList)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<AppJson<DossierList>, ApiError> {
    let dossiers = state
        .store
        .dossiers_of(&user.person.id)
        .await?
        .into_iter()
        .map(|d| d.view)
        .collect();
    Ok(AppJson(DossierList { dossiers }))
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
        .ok_or_else(|| ApiError::NotFound("You have no dossier with this id.".into()))
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
    let (to, _) = applicant_step(
        &dossier,
        DossierAction::Withdraw,
        "This dossier can no longer be withdrawn",
    )?;
    let actor = format!("person:{}", user.person.id);
    if !state
        .store
        .apply_transition(
            &dossier,
            &storage::Step {
                actor: &actor,
                action: "withdrawn",
                to,
                reason: None,
                issued: &[],
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
    let (to, context) = applicant_step(
        &dossier,
        DossierAction::Resubmit,
        "Nothing is asked of you on this dossier",
    )?;
    let procedure = state
        .store
        .procedure(&dossier.view.procedure_code)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a dossier's procedure is missing")))?;
    let form = procedure.form.clone().ok_or_else(|| {
        ApiError::validation("no_eform", "This procedure cannot be filed online.")
    })?;
    let now = now_ms();
    let problems = form.validate(&body.answers, Day::of_instant(now));
    if !problems.is_empty() {
        return Err(ApiError::InvalidAnswers {
            code: "invalid_answers",
            message: "Some answers need fixing.".into(),
            fields: problems,
        });
    }
    let changed: Vec<_> = dossier
        .view
        .verified_fields
        .iter()
        .filter(|f| body.answers.get(*f) != dossier.view.answers.get(*f))
        .map(|f| locked_changed(f))
        .collect();
    if !changed.is_empty() {
        return Err(ApiError::InvalidAnswers {
            code: "locked_field_changed",
            message: "Values verified by the state were changed.".into(),
            fields: changed,
        });
    }
    let held = state.store.warehouse_of(&user.person.id).await?;
    check_documents(&form, &body.answers, &held)?;
    if unit_of(&procedure, &body.answers)? != dossier.view.unit_code {
        return Err(ApiError::validation(
            "jurisdiction_changed",
            "A resubmission cannot move the dossier to another office; file a new dossier there.",
        ));
    }
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
                action: "resubmitted",
                to,
                reason: None,
                issued: &[],
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
