//! Satisfaction and feedback: a person's rating of the service for a dossier, feedback and
//! petitions (phản ánh, kiến nghị) with the desk's answer, and what officers see of them.

use serde::{Deserialize, Serialize};

/// The longest comment on a rating.
pub const MAX_COMMENT: usize = 1000;
/// The longest subject, body and answer of feedback.
pub const MAX_SUBJECT: usize = 200;
pub const MAX_BODY: usize = 4000;

/// `PUT /api/v1/dossiers/{id}/rating`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RatingInput {
    pub satisfied: bool,
    /// 1–5: was it on time, were the steps clear, how were the staff.
    pub timeliness: u8,
    pub clarity: u8,
    pub attitude: u8,
    #[serde(default)]
    pub comment: Option<String>,
}

/// A rating as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rating {
    pub satisfied: bool,
    pub timeliness: u8,
    pub clarity: u8,
    pub attitude: u8,
    pub comment: Option<String>,
    pub updated_at: i64,
}

/// `GET /api/v1/dossiers/{id}/rating`: the person's rating and until when it may be given or
/// changed (`null`: it cannot be rated, the dossier has not ended).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DossierRating {
    pub rating: Option<Rating>,
    pub open_until: Option<i64>,
}

/// What feedback is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeedbackAbout {
    /// A procedure's rules or documents (sent to a unit the person chooses).
    Procedure,
    /// One of the person's dossiers (a complaint about its handling).
    Dossier,
    /// An officer's conduct while handling one of the person's dossiers.
    Conduct,
}

impl FeedbackAbout {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackAbout::Procedure => "procedure",
            FeedbackAbout::Dossier => "dossier",
            FeedbackAbout::Conduct => "conduct",
        }
    }

    pub fn parse(text: &str) -> Option<FeedbackAbout> {
        [
            FeedbackAbout::Procedure,
            FeedbackAbout::Dossier,
            FeedbackAbout::Conduct,
        ]
        .into_iter()
        .find(|a| a.as_str() == text)
    }
}

/// `POST /api/v1/feedback`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewFeedback {
    pub about: FeedbackAbout,
    /// For feedback about a procedure: its code, and the unit (commune, district or province
    /// at the procedure's level) it is sent to.
    #[serde(default)]
    pub procedure_code: Option<String>,
    #[serde(default)]
    pub unit_code: Option<String>,
    /// For feedback about a dossier or an officer's conduct: the dossier.
    #[serde(default)]
    pub dossier_id: Option<String>,
    pub subject: String,
    pub body: String,
}

/// Feedback as its sender sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Feedback {
    pub id: String,
    pub about: FeedbackAbout,
    pub procedure_code: Option<String>,
    pub dossier_id: Option<String>,
    /// The dossier's receipt number, when about one.
    pub receipt_number: Option<String>,
    pub agency_code: String,
    pub unit_code: String,
    pub subject: String,
    pub body: String,
    /// `open` or `answered`.
    pub status: String,
    pub received_at: i64,
    /// The answer is due by then (10 working days).
    pub due_at: i64,
    pub answer: Option<String>,
    pub answered_at: Option<i64>,
    /// The sender's word on the answer.
    pub settled: Option<bool>,
}

/// `POST /api/v1/me/feedback/{id}/settled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settle {
    pub settled: bool,
}

/// `POST /api/v1/officer/feedback/{id}/answer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedbackAnswer {
    pub answer: String,
}

/// Feedback in a desk's queue: what was said, never who said it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeskFeedback {
    pub id: String,
    pub about: FeedbackAbout,
    pub procedure_code: Option<String>,
    pub receipt_number: Option<String>,
    pub unit_code: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub received_at: i64,
    pub due_at: i64,
    pub answer: Option<String>,
    pub answered_at: Option<i64>,
    pub settled: Option<bool>,
}

/// A rating as a desk sees it: the scores and comment, the procedure, the month; no dossier
/// and no person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeskRating {
    pub procedure_code: String,
    pub unit_code: String,
    pub satisfied: bool,
    pub timeliness: u8,
    pub clarity: u8,
    pub attitude: u8,
    pub comment: Option<String>,
    /// `YYYY-MM`.
    pub month: String,
}

/// A dossier past its legal deadline, for the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LateDossier {
    pub id: String,
    pub receipt_number: String,
    pub procedure_code: String,
    pub unit_code: String,
    pub status: String,
    pub deadline_at: Option<i64>,
    pub overdue_at: Option<i64>,
}

/// A change a national system has not acknowledged in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncFailure {
    /// `national_portal` or `emc`.
    pub system: String,
    pub receipt_number: String,
    pub change: String,
    pub changed_at: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// Given up after its attempts (an operator resends it).
    pub given_up: bool,
}

/// `GET /api/v1/officer/dashboard`: an agency in detail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    pub agency_code: String,
    pub scorecard: crate::stats_api::Scorecard,
    pub ratings: Vec<DeskRating>,
    pub feedback: Vec<DeskFeedback>,
    pub late: Vec<LateDossier>,
    pub sync_failures: Vec<SyncFailure>,
}

/// `GET /api/v1/me/feedback`: what the person sent, newest first, a page at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedbackList {
    pub feedback: Vec<Feedback>,
    /// The cursor of the next page (`?after=`); absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `GET /api/v1/officer/feedback`: open first by due date, then the latest answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeskFeedbackList {
    pub feedback: Vec<DeskFeedback>,
    /// The cursor of the next page (`?after=`); absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `GET /api/v1/officer/ratings`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeskRatingList {
    pub ratings: Vec<DeskRating>,
    /// The cursor of the next page (`?after=`); absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}
