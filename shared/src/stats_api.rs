//! Public statistics: the service-quality index of Decision 766/QĐ-TTg (six groups, 100
//! points) for a period and a scope, processing times, and trends by month.

use serde::{Deserialize, Serialize};

/// One indicator: `numerator / denominator` and the points it earns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Indicator {
    /// `1.4`, `2.1`, … as the national portal numbers them.
    pub code: String,
    /// In the reader's language.
    pub name: String,
    pub numerator: i64,
    pub denominator: i64,
    /// `numerator / denominator`; `null` when there is nothing to count.
    pub ratio: Option<f64>,
    pub points: f64,
    pub max_points: f64,
    /// The ratio that earns full points, when below 1 (0.8, 0.9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_at: Option<f64>,
}

/// One of the six groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    /// `transparency`, `progress`, `online`, `digitisation`, `payment`, `satisfaction`.
    pub code: String,
    pub name: String,
    pub points: f64,
    pub max_points: f64,
    pub indicators: Vec<Indicator>,
}

/// How long a procedure's dossiers took, in working days from reception to result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcessingTime {
    pub procedure_code: String,
    pub procedure_name: String,
    /// Dossiers finished in the period.
    pub finished: i64,
    pub median_working_days: Option<f64>,
    pub p90_working_days: Option<f64>,
    /// The procedure's legal time limit.
    pub time_limit_working_days: i64,
}

/// The scope asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure: Option<String>,
}

/// `GET /api/v1/stats/scorecard`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scorecard {
    /// `YYYY-MM-DD`, both days included.
    pub from: String,
    pub to: String,
    pub scope: Scope,
    /// Out of 100.
    pub points: f64,
    pub groups: Vec<Group>,
    /// Dossiers received, in progress or returned in the period.
    pub dossiers: i64,
    /// Per procedure, for the dossiers finished in the period.
    pub processing: Vec<ProcessingTime>,
    /// Once-only: form fields the state filled (verified from its registers) over all answered
    /// fields of the period's filings.
    pub prefilled_fields: i64,
    pub answered_fields: i64,
}

/// One month of a trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthPoint {
    /// `YYYY-MM`.
    pub month: String,
    pub points: f64,
    pub dossiers: i64,
    /// Indicator 2.1's ratio: dossiers on time.
    pub on_time: Option<f64>,
    /// Indicator 6.1's ratio: dossiers with no dissatisfaction.
    pub satisfied: Option<f64>,
}

/// `GET /api/v1/stats/trend`: the index month by month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trend {
    pub scope: Scope,
    pub months: Vec<MonthPoint>,
}
