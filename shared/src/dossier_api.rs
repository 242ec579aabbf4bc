//! The JSON of the dossier endpoints.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::dossier::DossierStatus;

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
    /// Fields whose values the state verified.
    pub verified_fields: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub answers: Map<String, Value>,
}

/// The body of `GET /api/v1/dossiers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DossierList {
    pub dossiers: Vec<DossierView>,
}

/// A dossier as an officer sees it in the queue and when opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfficerDossier {
    #[serde(flatten)]
    pub dossier: DossierView,
    pub applicant_name: String,
    /// The actions this officer can take now.
    pub actions: Vec<crate::dossier::DossierAction>,
}

/// The body of `GET /api/v1/officer/dossiers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfficerQueue {
    pub dossiers: Vec<OfficerDossier>,
}

/// The body of `POST /api/v1/officer/dossiers/{id}/actions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfficerAction {
    pub action: crate::dossier::DossierAction,
    /// Required to ask for a supplement or to refuse; the applicant reads it.
    pub reason: Option<String>,
}
