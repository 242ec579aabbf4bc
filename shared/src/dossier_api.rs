//! The JSON of the dossier endpoints.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Localized, dossier::DossierStatus};

/// The body of `POST /api/v1/dossiers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmitDossier {
    pub procedure_code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub answers: Map<String, Value>,
    /// Made by the client once per filing: a retried submission returns the same dossier.
    pub idempotency_key: String,
}

/// A dossier as its applicant sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DossierView {
    pub id: String,
    pub receipt_number: String,
    pub procedure_code: String,
    pub agency_code: String,
    pub status: DossierStatus,
    pub submitted_at: i64,
    /// The legal deadline; `None` while the clock is paused for a supplement.
    pub deadline_at: Option<i64>,
    pub status_reason: Option<String>,
    /// Fields whose values the state verified. Left out of lists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verified_fields: Vec<String>,
    /// The answers as filed. Left out of lists, which never show them: one dossier is read
    /// for them.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub answers: Map<String, Value>,
    /// The procedure's name when filed.
    pub procedure_name: Localized,
    /// The territorial unit (province, district or commune code) handling it.
    pub unit_code: String,
    /// Receipt must be acknowledged (or a supplement asked) by then: 8 office hours after
    /// submission. `None` once received.
    pub receive_by: Option<i64>,
    /// Working days the paused clock still holds, while a supplement is asked.
    pub paused_days_left: Option<i64>,
    /// When the result was found late; the applicant was sent an apology with the new date.
    pub overdue_at: Option<i64>,
    /// The new date promised in that apology.
    pub rescheduled_to: Option<i64>,
    /// The fee, when there is one: how much, when it is due, whether it is paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<crate::payment_api::FeeDue>,
    /// The status timeline, oldest first; filled when one dossier is read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<DossierEvent>,
}

/// One step of a dossier's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DossierEvent {
    pub at: i64,
    /// `submitted`, `received`, `supplement_requested`, `resubmitted`, `processing_started`,
    /// `approved`, `rejected`, `result_issued`, `withdrawn`, `overdue`, `claimed`, `assigned`.
    pub action: String,
    pub status: DossierStatus,
    /// Given by an officer (a reason, a new date), shown to the applicant.
    pub reason: Option<String>,
}

/// The body of `POST /api/v1/dossiers/{id}/resubmit`: the answers, supplemented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resubmission {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub answers: Map<String, Value>,
}

/// The body of `GET /api/v1/dossiers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DossierList {
    pub dossiers: Vec<DossierView>,
    /// The cursor of the next page (`?after=`); absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A dossier as an officer sees it in the queue and when opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfficerDossier {
    #[serde(flatten)]
    pub dossier: DossierView,
    pub applicant_name: String,
    /// The officer who claimed it or was assigned it.
    pub assignee_name: Option<String>,
    /// Claimed by or assigned to the officer reading it.
    pub mine: bool,
    /// The actions this officer can take now.
    pub actions: Vec<crate::dossier::DossierAction>,
    /// Changes with every change of the dossier; send it back as `expected_version` so that an
    /// action on a dossier someone else changed meanwhile is refused (`changed_meanwhile`).
    pub version: i64,
}

/// A dossier as the officer's queue lists it, and as a claim, an assignment or an action leaves
/// it: what the queue shows, with no personal answers beyond the applicant's name. The answers
/// are read only by opening the dossier, and each opening is in the applicant's data-access log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfficerQueueItem {
    pub id: String,
    pub receipt_number: String,
    pub procedure_code: String,
    pub procedure_name: Localized,
    pub status: DossierStatus,
    pub submitted_at: i64,
    pub deadline_at: Option<i64>,
    pub receive_by: Option<i64>,
    pub overdue_at: Option<i64>,
    pub unit_code: String,
    pub applicant_name: String,
    pub assignee_name: Option<String>,
    /// Claimed by or assigned to the officer reading it.
    pub mine: bool,
    /// The actions this officer can take now.
    pub actions: Vec<crate::dossier::DossierAction>,
    /// As in [`OfficerDossier::version`].
    pub version: i64,
}

/// The body of `GET /api/v1/officer/dossiers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfficerQueue {
    pub dossiers: Vec<OfficerQueueItem>,
    /// The cursor of the next page (`?after=`); absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The body of `POST /api/v1/officer/dossiers/{id}/assign` (the unit's lead only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignDossier {
    /// The CCCD of an officer of the same agency, level and unit.
    pub officer_cccd: String,
}

/// The body of `POST /api/v1/officer/dossiers/{id}/actions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfficerAction {
    pub action: crate::dossier::DossierAction,
    /// Required to ask for a supplement or to refuse; the applicant reads it.
    pub reason: Option<String>,
    /// The `version` of the dossier the officer was looking at; when given and the dossier has
    /// changed since, the action is refused with 409 `changed_meanwhile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<i64>,
}

/// A notice to a person: a change of their dossier, an apology for lateness, an escalation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notice {
    pub id: String,
    pub dossier_id: Option<String>,
    /// `status`, `apology`, `escalation`, `reminder` or `account`.
    pub kind: String,
    pub title: Localized,
    pub body: Localized,
    pub created_at: i64,
    pub read: bool,
    /// The page it opens (`/dossiers/<id>`, `/wallet`, `/business`, a procedure to renew).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// The body of `GET /api/v1/me/notices`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeList {
    pub notices: Vec<Notice>,
    pub unread: usize,
    /// The cursor of the next page (`?after=`); absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// An officer of the same desk, whom the lead can assign a dossier to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Colleague {
    pub cccd: String,
    pub name: String,
    pub lead: bool,
}

/// The body of `GET /api/v1/officer/colleagues` (the desk's lead only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Colleagues {
    pub officers: Vec<Colleague>,
}
