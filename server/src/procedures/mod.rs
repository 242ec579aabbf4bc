//! The public catalogue of administrative procedures: its HTTP routes, its storage and its seed.

use motcua_shared::ErrorCode;
pub mod cache;
pub mod prefill;
mod seed;
mod storage;

pub use seed::{load_seed, seed_catalogue};
pub use storage::CatalogueFilter;

use axum::{
    extract::State,
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use motcua_shared::procedure::{Level, OnlineLevel, ProcedureList};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    error::{ApiError, AppJson, AppPath, AppQuery},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_procedures))
        .routes(routes!(get_procedure))
        .routes(routes!(get_prefill))
}

use cache::CATALOGUE_CACHE;

/// Filters of the catalogue. All optional.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogueQuery {
    /// `province`, `district` or `commune`.
    level: Option<String>,
    /// `full` or `partial`.
    online_level: Option<String>,
    /// Words of the name, with or without Vietnamese diacritics.
    q: Option<String>,
}

impl CatalogueQuery {
    fn into_filter(self) -> Result<CatalogueFilter, ApiError> {
        let level = match self.level.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(Level::parse(s).ok_or_else(|| {
                ApiError::bad_request(ErrorCode::InvalidQuery)
                    .with("detail", "level must be province, district or commune")
            })?),
        };
        let online_level = match self.online_level.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(
                OnlineLevel::parse(s)
                    .ok_or_else(|| ApiError::bad_request(ErrorCode::InvalidQuery))?,
            ),
        };
        let text = self
            .q
            .map(|q| q.trim().to_string())
            .filter(|q| !q.is_empty());
        if text.as_ref().is_some_and(|q| q.chars().count() > 100) {
            return Err(ApiError::bad_request(ErrorCode::InvalidQuery));
        }
        Ok(CatalogueFilter {
            level,
            online_level,
            text,
        })
    }
}

/// The public catalogue of procedures, most used first. Public: no sign-in.
#[utoipa::path(
    get,
    path = "/procedures",
    tag = "procedures",
    params(CatalogueQuery),
    responses(
        (status = 200, description = "The catalogue", body = ProcedureList),
        (status = 400, description = "A filter has an unknown value", body = motcua_shared::ErrorBody),
    )
)]
async fn list_procedures(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppQuery(query): AppQuery<CatalogueQuery>,
) -> Result<Response, ApiError> {
    let filter = query.into_filter()?;
    if filter.is_everything() {
        // The whole catalogue, as prepared in memory.
        let prepared = state.catalogue.current(&state.store).await?;
        return Ok(prepared.list.respond(&headers));
    }
    let procedures = state.store.list_procedures(&filter).await?;
    Ok((
        [(header::CACHE_CONTROL, CATALOGUE_CACHE)],
        AppJson(ProcedureList { procedures }),
    )
        .into_response())
}

/// One procedure of the catalogue by its code. Public: no sign-in.
#[utoipa::path(
    get,
    path = "/procedures/{code}",
    tag = "procedures",
    params(("code" = String, Path, description = "The procedure's code in the national catalogue")),
    responses(
        (status = 200, description = "The procedure with its e-form", body = motcua_shared::procedure::ProcedureDetail),
        (status = 404, description = "No procedure has this code", body = motcua_shared::ErrorBody),
    )
)]
async fn get_procedure(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppPath(code): AppPath<String>,
) -> Result<Response, ApiError> {
    let prepared = state.catalogue.current(&state.store).await?;
    match prepared.by_code.get(&code) {
        Some(answer) => Ok(answer.respond(&headers)),
        None => Err(ApiError::NotFound),
    }
}

/// The procedure's e-form pre-filled for the signed-in person from the national registers
/// (values from the state are locked). Any signed-in caller, about themself; each read is logged.
#[utoipa::path(
    get,
    path = "/procedures/{code}/prefill",
    tag = "procedures",
    params(("code" = String, Path, description = "The procedure's code")),
    responses(
        (status = 200, description = "Pre-filled values by field", body = motcua_shared::registry::Prefill),
        (status = 401, description = "Not signed in", body = motcua_shared::ErrorBody),
        (status = 403, description = "The procedure needs a level 2 e-identity (`level2_required`)", body = motcua_shared::ErrorBody),
        (status = 404, description = "No procedure has this code", body = motcua_shared::ErrorBody),
    )
)]
async fn get_prefill(
    State(state): State<AppState>,
    user: crate::identity::AuthUser,
    AppPath(code): AppPath<String>,
) -> Result<AppJson<motcua_shared::registry::Prefill>, ApiError> {
    let procedure = state
        .store
        .procedure(&code)
        .await?
        .ok_or_else(|| ApiError::NotFound)?;
    // No register is read for a person who could not file.
    crate::dossiers::require_level(&user, &procedure)?;
    let Some(form) = procedure.form else {
        return Ok(AppJson(motcua_shared::registry::Prefill {
            values: Default::default(),
            unavailable: Vec::new(),
        }));
    };
    let purpose = format!("Điền sẵn tờ khai: {}", procedure.procedure.name.vi);
    let mut data = prefill::read_registers(
        &state.registries,
        &state.store,
        &user.person.cccd,
        &form,
        &purpose,
    )
    .await?;
    prefill::read_warehouse(&state.store, &user.person.id, &form, &mut data).await?;
    Ok(AppJson(prefill::prefill(&form, &user.person.cccd, &data)))
}
