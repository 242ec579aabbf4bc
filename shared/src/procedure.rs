//! The public catalogue of administrative procedures (TTHC), as `GET /api/v1/procedures` serves it.

use serde::{Deserialize, Serialize};

use crate::{Localized, Vnd};

/// The government level whose agency handles a procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Province,
    District,
    Commune,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::District => "district",
            Level::Commune => "commune",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "province" => Some(Level::Province),
            "district" => Some(Level::District),
            "commune" => Some(Level::Commune),
            _ => None,
        }
    }
}

/// How much of a procedure can be done online (Decree 42/2022 art. 11): `full` means
/// information, submission, handling and result are all online; anything less is `partial`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum OnlineLevel {
    Full,
    Partial,
}

impl OnlineLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            OnlineLevel::Full => "full",
            OnlineLevel::Partial => "partial",
        }
    }

    pub fn parse(s: &str) -> Option<OnlineLevel> {
        match s {
            "full" => Some(OnlineLevel::Full),
            "partial" => Some(OnlineLevel::Partial),
            _ => None,
        }
    }
}

/// The agency that receives and decides a procedure's dossiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agency {
    /// Stable short code, for example `CA-CSGT`.
    pub code: String,
    pub name: Localized,
}

/// A document the applicant must provide (or reuse from their warehouse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequiredDocument {
    pub code: String,
    pub name: Localized,
    /// How it is supplied without an upload: `form` (the e-form is this declaration) or a
    /// register source such as `health.code`. Absent: a document field of the form asks for it
    /// (from the warehouse, or uploaded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provided_by: Option<String>,
}

/// When a procedure's fee is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeeTiming {
    /// Online filing is complete only once paid: the dossier waits, and lapses unpaid.
    AtFiling,
    /// Due with the result.
    #[default]
    AtResult,
}

impl FeeTiming {
    pub fn as_str(self) -> &'static str {
        match self {
            FeeTiming::AtFiling => "at_filing",
            FeeTiming::AtResult => "at_result",
        }
    }
}

/// One administrative procedure of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Procedure {
    /// The procedure's code in the national catalogue, for example `1.001234`.
    pub code: String,
    pub name: Localized,
    /// The field of administration, for example "Civil status".
    pub category: Localized,
    /// One or two sentences on what the procedure gives the person.
    pub summary: Localized,
    pub agency: Agency,
    pub level: Level,
    pub online_level: OnlineLevel,
    /// The fee when filed at the counter.
    pub fee_vnd: Vnd,
    /// The (often reduced) fee when filed online.
    pub online_fee_vnd: Vnd,
    /// When the fee is paid: at filing (the dossier waits for it, and its clock starts at
    /// payment) or with the result.
    #[serde(default)]
    pub fee_paid: FeeTiming,
    /// The legal time limit for a result, in working days (0: the same day).
    pub time_limit_working_days: u16,
    pub required_documents: Vec<RequiredDocument>,
}

/// A procedure with its e-form and eligibility checks: `GET /api/v1/procedures/{code}`. Kept
/// apart from [`Procedure`] so the catalogue listing (and the PWA code reading it) stays small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(from = "RawDetail")]
pub struct ProcedureDetail {
    #[serde(flatten)]
    pub procedure: Procedure,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<crate::eform::Form>,
    /// Named eligibility checks run at submission against the national registers, such as
    /// `licence_renewable` or `health_certificate_fit`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eligibility: Vec<String>,
    /// The address field of the form whose unit, at the procedure's level, handles the dossier
    /// (the applicant's residence, a building site). Required when there is a form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction: Option<String>,
    /// The results issued into the applicant's warehouse when the dossier is done (an
    /// interconnected procedure issues several).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<crate::warehouse::IssuedResult>,
    /// The e-identity level filing needs; level 2 also needs a fresh proof (step-up).
    #[serde(default = "level1", skip_serializing_if = "is_level1")]
    pub min_acr: crate::identity::Acr,
}

/// A procedure detail as written: every key at one level. Reading through it keeps serde's
/// buffering of flattened content out of the PWA.
#[derive(Deserialize)]
struct RawDetail {
    code: String,
    name: Localized,
    category: Localized,
    summary: Localized,
    agency: Agency,
    level: Level,
    online_level: OnlineLevel,
    fee_vnd: Vnd,
    online_fee_vnd: Vnd,
    #[serde(default)]
    fee_paid: FeeTiming,
    time_limit_working_days: u16,
    required_documents: Vec<RequiredDocument>,
    #[serde(default)]
    form: Option<crate::eform::Form>,
    #[serde(default)]
    eligibility: Vec<String>,
    #[serde(default)]
    jurisdiction: Option<String>,
    #[serde(default)]
    results: Vec<crate::warehouse::IssuedResult>,
    #[serde(default = "level1")]
    min_acr: crate::identity::Acr,
}

impl From<RawDetail> for ProcedureDetail {
    fn from(raw: RawDetail) -> ProcedureDetail {
        ProcedureDetail {
            procedure: Procedure {
                code: raw.code,
                name: raw.name,
                category: raw.category,
                summary: raw.summary,
                agency: raw.agency,
                level: raw.level,
                online_level: raw.online_level,
                fee_vnd: raw.fee_vnd,
                online_fee_vnd: raw.online_fee_vnd,
                fee_paid: raw.fee_paid,
                time_limit_working_days: raw.time_limit_working_days,
                required_documents: raw.required_documents,
            },
            form: raw.form,
            eligibility: raw.eligibility,
            jurisdiction: raw.jurisdiction,
            results: raw.results,
            min_acr: raw.min_acr,
        }
    }
}

fn level1() -> crate::identity::Acr {
    crate::identity::Acr::Level1
}

fn is_level1(acr: &crate::identity::Acr) -> bool {
    *acr == crate::identity::Acr::Level1
}

/// The body of `GET /api/v1/procedures`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcedureList {
    pub procedures: Vec<Procedure>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_online_levels_round_trip_through_their_names() {
        for level in [Level::Province, Level::District, Level::Commune] {
            assert_eq!(Level::parse(level.as_str()), Some(level));
        }
        for online in [OnlineLevel::Full, OnlineLevel::Partial] {
            assert_eq!(OnlineLevel::parse(online.as_str()), Some(online));
        }
        assert_eq!(Level::parse("national"), None);
    }
}
