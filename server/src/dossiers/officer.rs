//! The one-stop back office on the API: an officer's queue (their agency and level only), opening
//! a dossier (recorded in the applicant's data-access log), and acting on it through the state
//! machine, with the legal clock paused while a supplement is asked during processing.

use anyhow::Context as _;
use axum::extract::State;
use motcua_shared::{
    calendar::Calendar,
    dossier::{Actor, Context, DossierAction, available_actions, transition},
    dossier_api::{OfficerAction, OfficerDossier, OfficerQueue},
    identity::Role,
};

use super::storage::{Clock, Dossier};
use crate::{
    AppState,
    error::{ApiError, AppJson, AppPath},
    identity::{
        AuthUser,
        data_access::{self, Access},
        roles::Assignment,
    },
    store::now_ms,
};

async fn assignment(state: &AppState, user: &AuthUser) -> Result<Assignment, ApiError> {
    user.require(Role::Officer)?;
    state
        .store
        .assignment_of(&user.person.cccd)
        .await?
        .ok_or_else(|| {
            ApiError::forbidden("forbidden_role", "Your officer role has no assignment.")
        })
}

fn context(dossier: &Dossier) -> Context {
    Context {
        clock_started: dossier.received_at.is_some(),
    }
}

fn officer_view(dossier: Dossier, applicant_name: String) -> OfficerDossier {
    let actions = available_actions(dossier.view.status, Actor::Officer, context(&dossier));
    OfficerDossier {
        dossier: dossier.view,
        applicant_name,
        actions,
    }
}

/// A dossier of the officer's agency and level; anything else is answered as missing.
async fn assigned_dossier(
    state: &AppState,
    assignment: &Assignment,
    id: &str,
) -> Result<(Dossier, String), ApiError> {
    let dossier = state
        .store
        .dossier(id)
        .await?
        .filter(|d| {
            d.view.agency_code == assignment.agency_code && d.level == assignment.level.as_str()
        })
        .ok_or_else(|| {
            ApiError::NotFound("There is no dossier with this id in your queue.".into())
        })?;
    let name = state
        .store
        .person(&dossier.applicant_id)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    Ok((dossier, name))
}

/// The officer's queue: open dossiers of their agency and level, most urgent first. Officers only.
#[utoipa::path(
    get, path = "/officer/dossiers", tag = "back office",
    responses((status = 200, description = "The queue", body = OfficerQueue), (status = 403, description = "Not an officer", body = motcua_shared::ErrorBody))
)]
pub async fn queue(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<AppJson<OfficerQueue>, ApiError> {
    let assignment = assignment(&state, &user).await?;
    let dossiers = state
        .store
        .queue(&assignment.agency_code, assignment.level.as_str())
        .await?
        .into_iter()
        .map(|(d, name)| officer_view(d, name))
        .collect();
    Ok(AppJson(OfficerQueue { dossiers }))
}

/// Opens a dossier of the officer's queue; the applicant's data-access log records who and when.
/// Officers of the dossier's agency and level only.
#[utoipa::path(
    get, path = "/officer/dossiers/{id}", tag = "back office",
    params(("id" = String, Path, description = "The dossier's id")),
    responses((status = 200, description = "The dossier", body = OfficerDossier), (status = 404, description = "Not in your queue", body = motcua_shared::ErrorBody))
)]
pub async fn open(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<OfficerDossier>, ApiError> {
    let assignment = assignment(&state, &user).await?;
    let (dossier, applicant_name) = assigned_dossier(&state, &assignment, &id).await?;
    let applicant = state
        .store
        .person(&dossier.applicant_id)
        .await?
        .context("a dossier's applicant is missing")?;
    let accessor = format!("{} (cán bộ {})", user.person.name, assignment.agency_code);
    let mut tx = state.store.begin_write().await?;
    data_access::record(
        &mut tx,
        &Access {
            cccd: applicant.cccd.as_str(),
            accessor_kind: "officer",
            accessor: &accessor,
            source: "dossier",
            data: &format!("Hồ sơ {}", dossier.view.receipt_number),
            purpose: "Giải quyết hồ sơ",
        },
    )
    .await?;
    tx.commit().await.context("committing a data access")?;
    Ok(AppJson(officer_view(dossier, applicant_name)))
}

/// Acts on a dossier: receive, ask for a supplement, start processing, approve, refuse (with a
/// reason), issue the result. Officers of the dossier's agency and level; CSRF token required.
#[utoipa::path(
    post, path = "/officer/dossiers/{id}/actions", tag = "back office",
    params(("id" = String, Path, description = "The dossier's id")),
    request_body = OfficerAction,
    responses(
        (status = 200, description = "Done", body = OfficerDossier),
        (status = 409, description = "Not allowed in the dossier's state, or changed meanwhile", body = motcua_shared::ErrorBody),
        (status = 422, description = "A reason is required", body = motcua_shared::ErrorBody),
    )
)]
pub async fn act(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<OfficerAction>,
) -> Result<AppJson<OfficerDossier>, ApiError> {
    let assignment = assignment(&state, &user).await?;
    let (dossier, applicant_name) = assigned_dossier(&state, &assignment, &id).await?;
    let reason = body
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 1000) {
        return Err(ApiError::validation(
            "reason_too_long",
            "Give the reason in at most 1000 characters.",
        ));
    }
    let to = transition(
        dossier.view.status,
        body.action,
        Actor::Officer,
        reason,
        context(&dossier),
    )
    .map_err(|e| match e {
        motcua_shared::dossier::TransitionError::ReasonRequired => ApiError::validation(
            "reason_required",
            "Tell the applicant why: a reason is required.",
        ),
        other => ApiError::Conflict {
            code: "transition_not_allowed",
            message: format!("Not possible now: {other}."),
        },
    })?;
    let now = now_ms();
    let calendar = Calendar::vietnam()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the holiday calendar: {e}")))?;
    let mut clock = Clock {
        received_at: dossier.received_at,
        deadline_at: dossier.view.deadline_at,
        paused_days_left: dossier.paused_days_left,
    };
    match body.action {
        DossierAction::Receive => clock.received_at = Some(now),
        // Asked during processing: the clock stops with what is left.
        DossierAction::RequestSupplement if dossier.received_at.is_some() => {
            let left = clock
                .deadline_at
                .map_or(0, |d| calendar.working_days_left(d, now));
            clock.paused_days_left = Some(i64::from(left));
            clock.deadline_at = None;
        }
        _ => {}
    }
    let action = match body.action {
        DossierAction::Receive => "received",
        DossierAction::RequestSupplement => "supplement_requested",
        DossierAction::StartProcessing => "processing_started",
        DossierAction::Approve => "approved",
        DossierAction::Reject => "rejected",
        DossierAction::IssueResult => "result_issued",
        DossierAction::Resubmit | DossierAction::Withdraw => "applicant_action",
    };
    let actor = format!("officer:{}", user.person.id);
    if !state
        .store
        .apply_transition_with(&dossier, &actor, action, to, reason, &clock)
        .await?
    {
        return Err(ApiError::Conflict {
            code: "changed_meanwhile",
            message: "The dossier changed meanwhile. Reload it and try again.".into(),
        });
    }
    let (dossier, _) = assigned_dossier(&state, &assignment, &id).await?;
    Ok(AppJson(officer_view(dossier, applicant_name)))
}
