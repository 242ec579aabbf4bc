//! Public statistics: the service-quality index for any period and scope, and its trend by
//! month. No account needed: the figures are counts, never people.

use axum::{extract::State, http::HeaderMap};
use motcua_shared::{
    ErrorCode, Lang,
    calendar::Day,
    stats_api::{MonthPoint, Scope, Scorecard, Trend},
};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    scorecard::{self, Facts},
    storage::ScopeFilter,
};
use crate::{
    AppState,
    error::{ApiError, AppJson, AppQuery},
    store::now_ms,
};

/// The longest period one request may ask for.
const MAX_DAYS: i64 = 5 * 366;

/// `from`/`to` and the scope.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScorecardQuery {
    /// First day, `YYYY-MM-DD` (Vietnam's calendar).
    pub from: String,
    /// Last day, included.
    pub to: String,
    /// A province code.
    pub province: Option<String>,
    /// An agency code (`UBND-XA`, `CA-CSGT`).
    pub agency: Option<String>,
    /// A unit code (province, district or commune).
    pub unit: Option<String>,
    /// A procedure code.
    pub procedure: Option<String>,
}

/// `from`/`to` as months and the scope.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendQuery {
    /// First month, `YYYY-MM`.
    pub from: String,
    /// Last month, included.
    pub to: String,
    pub province: Option<String>,
    pub agency: Option<String>,
    pub unit: Option<String>,
    pub procedure: Option<String>,
}

fn scope_of(
    province: Option<String>,
    agency: Option<String>,
    unit: Option<String>,
    procedure: Option<String>,
) -> Result<(Scope, ScopeFilter), ApiError> {
    let clean = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let scope = Scope {
        province: clean(province),
        agency: clean(agency),
        unit: clean(unit),
        procedure: clean(procedure),
    };
    for code in [&scope.province, &scope.unit].into_iter().flatten() {
        if motcua_shared::units::get(code).is_none() {
            return Err(ApiError::validation(ErrorCode::UnknownUnit));
        }
    }
    if scope
        .province
        .as_deref()
        .is_some_and(|p| motcua_shared::units::get(p).is_some_and(|u| u.parent.is_some()))
    {
        return Err(ApiError::validation(ErrorCode::UnknownUnit));
    }
    let filter = ScopeFilter {
        province: scope.province.clone().unwrap_or_default(),
        agency: scope.agency.clone().unwrap_or_default(),
        unit: scope.unit.clone().unwrap_or_default(),
        procedure: scope.procedure.clone().unwrap_or_default(),
    };
    Ok((scope, filter))
}

/// The days `[first, last]` as Unix ms `[from, to)`, or 422 `invalid_period`.
fn period(first: Option<Day>, last: Option<Day>) -> Result<(Day, Day), ApiError> {
    match (first, last) {
        (Some(first), Some(last)) if first <= last && last.0 - first.0 < MAX_DAYS => {
            Ok((first, last))
        }
        _ => Err(ApiError::validation(ErrorCode::InvalidPeriod)),
    }
}

fn month_start(text: &str) -> Option<Day> {
    if text.len() != 7 {
        return None;
    }
    Day::parse_iso(&format!("{text}-01"))
}

fn next_month(day: Day) -> Day {
    let (y, m, _) = day.ymd();
    if m == 12 {
        Day::from_ymd(y + 1, 1, 1)
    } else {
        Day::from_ymd(y, m + 1, 1)
    }
    .unwrap_or(Day(day.0 + 31))
}

/// The index in one period, from facts read for it (or a longer range holding it).
pub(crate) fn scorecard_of(
    facts: &Facts,
    (first, last): (Day, Day),
    scope: Scope,
    lang: Lang,
) -> Scorecard {
    let (from, to) = (first.start_ms(), Day(last.0 + 1).start_ms());
    let groups = scorecard::score(facts, from, to, lang);
    let (prefilled, answered) = facts
        .dossiers
        .iter()
        .filter(|d| d.filed)
        .fold((0, 0), |(p, a), d| {
            (p + d.prefilled_fields, a + d.form_fields)
        });
    Scorecard {
        from: first.iso(),
        to: last.iso(),
        scope,
        points: (groups.iter().map(|g| g.points).sum::<f64>() * 100.0).round() / 100.0,
        groups,
        dossiers: scorecard::active_count(facts),
        processing: scorecard::processing_times(facts),
        prefilled_fields: prefilled,
        answered_fields: answered,
    }
}

/// The service-quality index of Decision 766/QĐ-TTg for a period and a scope: six groups, 100
/// points, each indicator with its numerator, denominator and points (definitions in the
/// README); with processing times per procedure and the once-only share of form fields.
/// Public. 422 `invalid_period` (dates unreadable, reversed or over five years) or
/// `unknown_unit`.
#[utoipa::path(
    get, path = "/v1/stats/scorecard", tag = "statistics", params(ScorecardQuery),
    responses(
        (status = 200, description = "The index", body = Scorecard),
        (status = 400, description = "A parameter is missing", body = motcua_shared::ErrorBody),
        (status = 422, description = "Not a period, or an unknown unit", body = motcua_shared::ErrorBody),
    )
)]
pub async fn scorecard(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppQuery(q): AppQuery<ScorecardQuery>,
) -> Result<AppJson<Scorecard>, ApiError> {
    let days = period(Day::parse_iso(&q.from), Day::parse_iso(&q.to))?;
    let (scope, filter) = scope_of(q.province, q.agency, q.unit, q.procedure)?;
    let lang = crate::i18n::lang_of(&headers);
    let facts = state
        .store
        .scorecard_facts(&filter, (days.0, Day(days.1.0 + 1)), now_ms(), lang)
        .await?;
    Ok(AppJson(scorecard_of(&facts, days, scope, lang)))
}

/// The index month by month (at most 60 months): points, dossiers, on-time and satisfied
/// shares. Public. 422 `invalid_period` or `unknown_unit`.
#[utoipa::path(
    get, path = "/v1/stats/trend", tag = "statistics", params(TrendQuery),
    responses(
        (status = 200, description = "The months", body = Trend),
        (status = 422, description = "Not a period, or an unknown unit", body = motcua_shared::ErrorBody),
    )
)]
pub async fn trend(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppQuery(q): AppQuery<TrendQuery>,
) -> Result<AppJson<Trend>, ApiError> {
    let first = month_start(&q.from);
    let last = month_start(&q.to).map(|m| Day(next_month(m).0 - 1));
    let (first, last) = period(first, last)?;
    let (scope, filter) = scope_of(q.province, q.agency, q.unit, q.procedure)?;
    let lang = crate::i18n::lang_of(&headers);
    let now = now_ms();
    let mut months = Vec::new();
    let mut month = first;
    while month <= last {
        let next = next_month(month);
        let (from, to) = (month.start_ms(), next.start_ms());
        let facts = state
            .store
            .scorecard_facts(&filter, (month, next), now, lang)
            .await?;
        let groups = scorecard::score(&facts, from, to, lang);
        let ratio = |code: &str| {
            groups
                .iter()
                .flat_map(|g| &g.indicators)
                .find(|i| i.code == code)
                .and_then(|i| i.ratio)
        };
        months.push(MonthPoint {
            month: month.iso()[..7].to_owned(),
            points: (groups.iter().map(|g| g.points).sum::<f64>() * 100.0).round() / 100.0,
            dossiers: scorecard::active_count(&facts),
            on_time: ratio("2.1"),
            satisfied: ratio("6.1"),
        });
        month = next;
    }
    Ok(AppJson(Trend { scope, months }))
}
