//! The one-stop back office on the API: an officer's queue (their agency, level and territorial
//! unit only) with filters, claiming and the lead's assigning, opening a dossier (recorded in the
//! applicant's data-access log), and acting on it through the state machine, with the legal
//! clock paused while a supplement is asked during processing.

use anyhow::Context as _;
use axum::extract::State;
use motcua_shared::ErrorCode;
use motcua_shared::{
    dossier::{Actor, Context, DossierAction, DossierStatus, available_actions, transition},
    dossier_api::{AssignDossier, OfficerAction, OfficerDossier, OfficerQueue, OfficerQueueItem},
    identity::Role,
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::events::DossierChange;

use super::{
    changed_meanwhile,
    storage::{Clock, Dossier, QueueFilter, Step},
};
use crate::{
    AppState,
    error::{ApiError, AppJson, AppPath, AppQuery},
    http::page::PageQuery,
    identity::{AuthUser, data_access::Access, roles::Assignment},
    store::now_ms,
};

async fn assignment(state: &AppState, user: &AuthUser) -> Result<Assignment, ApiError> {
    user.require(Role::Officer)?;
    state
        .store
        .assignment_of(&user.person.cccd)
        .await?
        .ok_or_else(|| ApiError::forbidden(ErrorCode::ForbiddenRole))
}

/// Segregation of duties: nobody receives, processes or decides a dossier they filed
/// themselves; another officer of the desk does, given it by the desk's lead.
fn not_own(dossier: &Dossier, officer_id: &str) -> Result<(), ApiError> {
    if dossier.applicant_id == officer_id {
        return Err(ApiError::forbidden(ErrorCode::OwnDossier));
    }
    Ok(())
}

fn context(dossier: &Dossier) -> Context {
    Context {
        clock_started: dossier.received_at.is_some(),
    }
}

fn officer_view(
    dossier: Dossier,
    applicant_name: String,
    assignee_name: Option<String>,
    me: &str,
) -> OfficerDossier {
    let actions = available_actions(dossier.view.status, Actor::Officer, context(&dossier));
    let mine = dossier.assignee_id.as_deref() == Some(me);
    OfficerDossier {
        version: dossier.version,
        dossier: dossier.view,
        applicant_name,
        assignee_name,
        mine,
        actions,
    }
}

/// What the queue shows of a dossier (no answers).
fn queue_item(
    dossier: Dossier,
    applicant_name: String,
    assignee_name: Option<String>,
    me: &str,
) -> OfficerQueueItem {
    let full = officer_view(dossier, applicant_name, assignee_name, me);
    let d = full.dossier;
    OfficerQueueItem {
        id: d.id,
        receipt_number: d.receipt_number,
        procedure_code: d.procedure_code,
        procedure_name: d.procedure_name,
        status: d.status,
        submitted_at: d.submitted_at,
        deadline_at: d.deadline_at,
        receive_by: d.receive_by,
        overdue_at: d.overdue_at,
        unit_code: d.unit_code,
        applicant_name: full.applicant_name,
        assignee_name: full.assignee_name,
        mine: full.mine,
        actions: full.actions,
        version: full.version,
    }
}

/// Whether the officer's desk (agency, level, unit) handles `dossier`.
fn on_desk(assignment: &Assignment, dossier: &Dossier) -> bool {
    dossier.view.agency_code == assignment.agency_code
        && dossier.level == assignment.level.as_str()
        && dossier.view.unit_code == assignment.unit_code
}

/// A dossier of the officer's agency, level and unit; anything else is answered as missing.
async fn assigned_dossier(
    state: &AppState,
    assignment: &Assignment,
    id: &str,
) -> Result<(Dossier, String, Option<String>), ApiError> {
    let dossier = state
        .store
        .dossier(id)
        .await?
        .filter(|d| on_desk(assignment, d))
        .ok_or_else(|| ApiError::NotFound)?;
    let name_of = async |id: &str| -> Result<Option<String>, ApiError> {
        Ok(state.store.person(id).await?.map(|p| p.name))
    };
    let applicant = name_of(&dossier.applicant_id).await?.unwrap_or_default();
    let assignee = match dossier.assignee_id.as_deref() {
        Some(id) => name_of(id).await?,
        None => None,
    };
    Ok((dossier, applicant, assignee))
}

/// The dossier as it is now, for the officer who just changed it: its queue line (opening it
/// shows the rest, logged).
async fn current_view(
    state: &AppState,
    assignment: &Assignment,
    id: &str,
    user: &AuthUser,
) -> Result<AppJson<OfficerQueueItem>, ApiError> {
    let (dossier, applicant, assignee) = assigned_dossier(state, assignment, id).await?;
    Ok(AppJson(queue_item(
        dossier,
        applicant,
        assignee,
        &user.person.id,
    )))
}

/// Records in the applicant's data-access log that this officer read `data` of their dossier.
async fn record_officer_read(
    state: &AppState,
    user: &AuthUser,
    assignment: &Assignment,
    applicant_id: &str,
    source: &str,
    data: &str,
) -> Result<(), ApiError> {
    let applicant = state
        .store
        .person(applicant_id)
        .await?
        .context("a dossier's applicant is missing")?;
    let accessor = format!("{} (cán bộ {})", user.person.name, assignment.agency_code);
    state
        .store
        .record_accesses(&[Access {
            cccd: applicant.cccd.as_str(),
            accessor_kind: "officer",
            accessor: &accessor,
            source,
            data,
            purpose: "Giải quyết hồ sơ",
        }])
        .await?;
    Ok(())
}

/// How urgent a dossier is, for the queue's filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    /// Receipt due within 2 office hours, or the result within one working day.
    Soon,
    /// Receipt or result past due.
    Overdue,
}

/// Filters of the queue. All optional.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// A status, such as `submitted`.
    status: Option<String>,
    /// A procedure code.
    procedure: Option<String>,
    /// `soon` or `overdue`.
    #[param(inline)]
    due: Option<Due>,
    /// `true`: only dossiers claimed by or assigned to me.
    mine: Option<bool>,
}

/// The officer's queue: open dossiers of their agency, level and unit, most urgent first, with
/// filters. Officers only.
#[utoipa::path(
    get, path = "/officer/dossiers", tag = "back office",
    params(QueueQuery, PageQuery),
    responses((status = 200, description = "The queue", body = OfficerQueue), (status = 403, description = "Not an officer", body = motcua_shared::ErrorBody))
)]
pub async fn queue(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(query): AppQuery<QueueQuery>,
    AppQuery(asked): AppQuery<PageQuery>,
) -> Result<AppJson<OfficerQueue>, ApiError> {
    let assignment = assignment(&state, &user).await?;
    let status = query
        .status
        .as_deref()
        .map(|s| {
            DossierStatus::parse(s).ok_or_else(|| ApiError::validation(ErrorCode::InvalidStatus))
        })
        .transpose()?;
    let page = asked.page()?;
    let status = status.map(|s| s.as_str()).unwrap_or("");
    let filter = QueueFilter {
        status,
        procedure: query.procedure.as_deref().unwrap_or(""),
        assignee: if query.mine.unwrap_or(false) {
            &user.person.id
        } else {
            ""
        },
        due: match query.due {
            None => "",
            Some(Due::Soon) => "soon",
            Some(Due::Overdue) => "overdue",
        },
        now: now_ms(),
    };
    let rows = state
        .store
        .unit_queue(
            &assignment.agency_code,
            assignment.level.as_str(),
            &assignment.unit_code,
            &filter,
            &page,
        )
        .await?;
    let (rows, next) = page.finish(rows, |(d, _, _)| {
        (QueueFilter::urgency(&d.view), &d.view.id)
    });
    let dossiers = rows
        .into_iter()
        .map(|(d, applicant, assignee)| queue_item(d, applicant, assignee, &user.person.id))
        .collect();
    Ok(AppJson(OfficerQueue { dossiers, next }))
}

/// Claims a dossier of the queue: the officer takes it on. Refused (409) when another officer
/// already has it. Officers of the dossier's unit; CSRF token required.
#[utoipa::path(
    post, path = "/officer/dossiers/{id}/claim", tag = "back office",
    params(("id" = String, Path, description = "The dossier's id")),
    responses(
        (status = 200, description = "Claimed", body = OfficerQueueItem),
        (status = 403, description = "The officer filed it (own_dossier)", body = motcua_shared::ErrorBody),
        (status = 409, description = "Another officer has it", body = motcua_shared::ErrorBody),
    )
)]
pub async fn claim(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<OfficerQueueItem>, ApiError> {
    let assignment = assignment(&state, &user).await?;
    let (dossier, _, assignee) = assigned_dossier(&state, &assignment, &id).await?;
    not_own(&dossier, &user.person.id)?;
    if dossier.assignee_id.as_deref() == Some(&*user.person.id) {
        return current_view(&state, &assignment, &id, &user).await;
    }
    if dossier.assignee_id.is_some() {
        return Err(ApiError::conflict(ErrorCode::AssignedToOther)
            .with("name", assignee.unwrap_or_default()));
    }
    let actor = format!("officer:{}", user.person.id);
    let note = format!("Cán bộ {} nhận xử lý", user.person.name);
    if !state
        .store
        .set_assignee(
            &dossier,
            &user.person.id,
            &actor,
            DossierChange::Claimed,
            &note,
        )
        .await?
    {
        return Err(changed_meanwhile());
    }
    current_view(&state, &assignment, &id, &user).await
}

/// Assigns a dossier to an officer of the same agency, level and unit. The unit's lead only;
/// CSRF token required.
#[utoipa::path(
    post, path = "/officer/dossiers/{id}/assign", tag = "back office",
    params(("id" = String, Path, description = "The dossier's id")),
    request_body = AssignDossier,
    responses(
        (status = 200, description = "Assigned", body = OfficerQueueItem),
        (status = 403, description = "Not the lead", body = motcua_shared::ErrorBody),
        (status = 422, description = "Not an officer of this unit", body = motcua_shared::ErrorBody),
    )
)]
pub async fn assign(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<AssignDossier>,
) -> Result<AppJson<OfficerQueueItem>, ApiError> {
    let assignment = assignment(&state, &user).await?;
    if !assignment.lead {
        return Err(ApiError::forbidden(ErrorCode::LeadOnly));
    }
    let (dossier, _, _) = assigned_dossier(&state, &assignment, &id).await?;
    let not_here = || ApiError::validation(ErrorCode::NotAnOfficerHere);
    let cccd = motcua_shared::Cccd::parse(&body.officer_cccd).map_err(|_| not_here())?;
    let theirs = state
        .store
        .assignment_of(&cccd)
        .await?
        .ok_or_else(not_here)?;
    if theirs.agency_code != assignment.agency_code
        || theirs.level != assignment.level
        || theirs.unit_code != assignment.unit_code
    {
        return Err(not_here());
    }
    let officer = state
        .store
        .person_by_cccd(&cccd)
        .await?
        .ok_or_else(not_here)?;
    if officer.id == dossier.applicant_id {
        return Err(ApiError::validation(ErrorCode::OwnDossier));
    }
    let actor = format!("officer:{}", user.person.id);
    let note = format!("Giao cán bộ {} xử lý", officer.name);
    if !state
        .store
        .set_assignee(
            &dossier,
            &officer.id,
            &actor,
            DossierChange::Assigned,
            &note,
        )
        .await?
    {
        return Err(changed_meanwhile());
    }
    current_view(&state, &assignment, &id, &user).await
}

/// Opens a dossier of the officer's queue, with its timeline; the applicant's data-access log
/// records who and when. Officers of the dossier's agency, level and unit only.
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
    let accessor = format!("{} (cán bộ {})", user.person.name, assignment.agency_code);
    let mut dossier = state
        .store
        .open_dossier_logged(&id, |d| on_desk(&assignment, d), &accessor)
        .await?
        .ok_or(ApiError::NotFound)?;
    dossier.view.events = state.store.dossier_events(&id).await?;
    let name_of = async |id: &str| -> Result<Option<String>, ApiError> {
        Ok(state.store.person(id).await?.map(|p| p.name))
    };
    let applicant_name = name_of(&dossier.applicant_id).await?.unwrap_or_default();
    let assignee = match dossier.assignee_id.clone() {
        Some(id) => name_of(&id).await?,
        None => None,
    };
    Ok(AppJson(officer_view(
        dossier,
        applicant_name,
        assignee,
        &user.person.id,
    )))
}

/// Acts on a dossier: receive, ask for a supplement, start processing, approve, refuse (with a
/// reason), issue the result. Officers of the dossier's agency, level and unit, and not one
/// another officer has (unless the lead); CSRF token required.
#[utoipa::path(
    post, path = "/officer/dossiers/{id}/actions", tag = "back office",
    params(("id" = String, Path, description = "The dossier's id")),
    request_body = OfficerAction,
    responses(
        (status = 200, description = "Done", body = OfficerQueueItem),
        (status = 403, description = "The officer filed it (own_dossier)", body = motcua_shared::ErrorBody),
        (status = 409, description = "Not allowed in the dossier's state, or changed meanwhile", body = motcua_shared::ErrorBody),
        (status = 422, description = "A reason is required", body = motcua_shared::ErrorBody),
    )
)]
pub async fn act(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<OfficerAction>,
) -> Result<AppJson<OfficerQueueItem>, ApiError> {
    let assignment = assignment(&state, &user).await?;
    let (dossier, _, assignee) = assigned_dossier(&state, &assignment, &id).await?;
    not_own(&dossier, &user.person.id)?;
    if body.expected_version.is_some_and(|v| v != dossier.version) {
        return Err(changed_meanwhile());
    }
    // A filing that waits for its fee is not complete: nothing is done with it until paid.
    if dossier
        .view
        .fee
        .as_ref()
        .is_some_and(|f| f.when == "at_filing" && f.paid_at.is_none())
    {
        return Err(ApiError::conflict(ErrorCode::AwaitingFee));
    }
    if dossier
        .assignee_id
        .as_deref()
        .is_some_and(|a| a != user.person.id)
        && !assignment.lead
    {
        return Err(ApiError::conflict(ErrorCode::AssignedToOther)
            .with("name", assignee.unwrap_or_default()));
    }
    let reason = body
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 1000) {
        return Err(ApiError::validation(ErrorCode::ReasonTooLong));
    }
    let to = transition(
        dossier.view.status,
        body.action,
        Actor::Officer,
        reason,
        context(&dossier),
    )
    .map_err(|e| match e {
        motcua_shared::dossier::TransitionError::ReasonRequired => {
            ApiError::validation(ErrorCode::ReasonRequired)
        }
        _ => ApiError::conflict(ErrorCode::TransitionNotAllowed),
    })?;
    let now = now_ms();
    let calendar = super::calendar()?;
    let mut clock = Clock::of(&dossier);
    match body.action {
        DossierAction::Receive => {
            clock.received_at = Some(now);
            clock.receive_by = None;
        }
        // Asked at receipt: the dossier is not received; its clocks restart on resubmission.
        DossierAction::RequestSupplement if dossier.received_at.is_none() => {
            clock.receive_by = None;
        }
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
    let change = match body.action {
        DossierAction::Receive => DossierChange::Received,
        DossierAction::RequestSupplement => DossierChange::SupplementRequested,
        DossierAction::StartProcessing => DossierChange::ProcessingStarted,
        DossierAction::Approve => DossierChange::Approved,
        DossierAction::Reject => DossierChange::Rejected,
        DossierAction::IssueResult => DossierChange::ResultIssued,
        // The state machine refuses these to an officer above.
        DossierAction::Resubmit => DossierChange::Resubmitted,
        DossierAction::Withdraw => DossierChange::Withdrawn,
    };
    let (issued, drafts) = if body.action == DossierAction::IssueResult {
        issue_results(&state, &dossier, now).await?
    } else {
        (Vec::new(), Vec::new())
    };
    // The agency's key signs the results into the applicant's wallet, in the same transaction.
    let key = if drafts.is_empty() {
        None
    } else {
        Some(
            state
                .store
                .signing_key(state.keys.as_ref(), &dossier.view.agency_code, false)
                .await?,
        )
    };
    let issuing = key.as_ref().map(|key| super::storage::Issuing {
        key,
        public_url: &state.config.public_url,
        drafts: &drafts,
    });
    let actor = format!("officer:{}", user.person.id);
    if !state
        .store
        .apply_transition_with(
            &dossier,
            &Step {
                actor: &actor,
                change,
                to,
                reason,
                issued: &issued,
                credentials: issuing.as_ref(),
            },
            &clock,
            None,
        )
        .await?
    {
        return Err(changed_meanwhile());
    }
    current_view(&state, &assignment, &id, &user).await
}

/// The result documents a procedure issues, stored (content-addressed) ahead of the transition
/// that records them in the applicant's warehouse (the record of the result: what, to whom, by
/// whom, when), and the credential each becomes in the applicant's wallet.
async fn issue_results(
    state: &AppState,
    dossier: &Dossier,
    now: i64,
) -> Result<
    (
        Vec<super::storage::Issued>,
        Vec<crate::wallet::issue::Draft>,
    ),
    ApiError,
> {
    let procedure = state
        .store
        .procedure(&dossier.view.procedure_code)
        .await?
        .context("a dossier's procedure is missing")?;
    let holder = state
        .store
        .person(&dossier.applicant_id)
        .await?
        .context("a dossier's applicant is missing")?;
    let mut issued = Vec::new();
    let mut drafts = Vec::new();
    let today = motcua_shared::calendar::Day::of_instant(now);
    for result in &procedure.results {
        let mut draft = crate::wallet::issue::draft(
            &result.code,
            &result.name,
            &dossier.view.answers,
            &crate::wallet::issue::Holder {
                name: &holder.name,
                cccd: holder.cccd.as_str(),
            },
            &dossier.view.receipt_number,
            today,
        );
        if draft.kind == motcua_shared::credential::CredentialKind::CertifiedCopy {
            // A certified copy is bound to exactly the file the officer compared.
            let copy = dossier
                .view
                .answers
                .get("copy")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            let (_, sha) = state
                .store
                .warehouse_item(&dossier.applicant_id, copy)
                .await?
                .context("the certified copy's file is missing")?;
            draft
                .fields
                .push(motcua_shared::credential::Field::FileSha256(sha));
        }
        drafts.push(draft);
        let record = serde_json::json!({
            "type": "motcua.result",
            "document": result.code,
            "title": result.name,
            "procedure": dossier.view.procedure_code,
            "receipt_number": dossier.view.receipt_number,
            "dossier_id": dossier.view.id,
            "holder": { "cccd": holder.cccd.as_str(), "name": holder.name },
            "issuer": dossier.view.agency_code,
            "unit": dossier.view.unit_code,
            "issued_at": now,
        });
        let bytes = serde_json::to_vec_pretty(&record).context("encoding a result")?;
        let sha = state.blobs.put(&bytes).await?;
        issued.push(super::storage::Issued {
            document_code: result.code.clone(),
            title: result.name.vi.clone(),
            sha256: sha,
            content_type: "application/json",
            size_bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        });
    }
    Ok((issued, drafts))
}

/// A document attached to a dossier of the officer's queue; the applicant's data-access log
/// records who opened it. Only documents the dossier's answers name.
#[utoipa::path(
    get, path = "/officer/dossiers/{id}/documents/{item}", tag = "back office",
    params(("id" = String, Path, description = "The dossier's id"), ("item" = String, Path, description = "The warehouse item's id")),
    responses((status = 200, description = "The file"), (status = 404, description = "Not a document of a dossier in your queue", body = motcua_shared::ErrorBody))
)]
pub async fn document(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath((id, item_id)): AppPath<(String, String)>,
) -> Result<axum::response::Response, ApiError> {
    let assignment = assignment(&state, &user).await?;
    let (dossier, _, _) = assigned_dossier(&state, &assignment, &id).await?;
    let attached = dossier
        .view
        .answers
        .values()
        .any(|v| v.as_str() == Some(item_id.as_str()));
    let missing = || ApiError::NotFound;
    if !attached {
        return Err(missing());
    }
    let (item, sha) = state
        .store
        .warehouse_item(&dossier.applicant_id, &item_id)
        .await?
        .ok_or_else(missing)?;
    let read = format!("{} (hồ sơ {})", item.title, dossier.view.receipt_number);
    record_officer_read(
        &state,
        &user,
        &assignment,
        &dossier.applicant_id,
        "warehouse",
        &read,
    )
    .await?;
    crate::warehouse::serve(&state, &item, &sha).await
}

impl crate::store::Store {
    /// The officers (who have signed in) of one agency, level and unit.
    pub async fn desk_officers(
        &self,
        assignment: &Assignment,
    ) -> anyhow::Result<Vec<motcua_shared::dossier_api::Colleague>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "select p.cccd, p.name, g.lead from role_grants g join people p on p.cccd = g.cccd \
             where g.role = 'officer' and g.agency_code = $1 and g.level = $2 and g.unit_code = $3 \
             order by p.name, p.cccd",
        )
        .bind(&assignment.agency_code)
        .bind(assignment.level.as_str())
        .bind(&assignment.unit_code)
        .fetch_all(self.pool())
        .await
        .context("listing a desk's officers")?;
        Ok(rows
            .into_iter()
            .map(|(cccd, name, lead)| motcua_shared::dossier_api::Colleague {
                cccd,
                name,
                lead: lead != 0,
            })
            .collect())
    }
}

/// The officers of the lead's desk (same agency, level and unit), to assign dossiers to. The
/// desk's lead only.
#[utoipa::path(
    get, path = "/officer/colleagues", tag = "back office",
    responses(
        (status = 200, description = "The desk's officers", body = motcua_shared::dossier_api::Colleagues),
        (status = 403, description = "Not the lead", body = motcua_shared::ErrorBody),
    )
)]
pub async fn colleagues(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<AppJson<motcua_shared::dossier_api::Colleagues>, ApiError> {
    let assignment = assignment(&state, &user).await?;
    if !assignment.lead {
        return Err(ApiError::forbidden(ErrorCode::LeadOnly));
    }
    Ok(AppJson(motcua_shared::dossier_api::Colleagues {
        officers: state.store.desk_officers(&assignment).await?,
    }))
}
