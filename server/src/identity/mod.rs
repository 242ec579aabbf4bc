//! Identity: sign-in with the national e-identity (OpenID Connect), server-side sessions,
//! roles, and the signed-in person's own endpoints.

use motcua_shared::ErrorCode;
pub mod data_access;
pub mod oidc;
pub mod organisations;
pub mod passkeys;
pub mod roles;
pub mod session;

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_extra::extract::{
    CookieJar,
    cookie::{Cookie, SameSite},
};
use motcua_shared::identity::{DataAccessLog, Me, SessionInfo, SessionList};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

pub use session::{AuthUser, ClientMeta};

use crate::{
    AppState,
    error::{ApiError, AppJson, AppPath, AppQuery},
    http::{page::PageQuery, rate_limit::Limit},
    store::now_ms,
};

/// Something to do when a person has signed in with the e-ID (the demo fills demo people's
/// warehouses this way, from outside the production code).
#[async_trait::async_trait]
pub trait SignInHook: Send + Sync {
    async fn signed_in(&self, state: &AppState, person: &session::Person) -> anyhow::Result<()>;
}

/// The browser-facing sign-in routes (not under `/api`: they answer with redirects).
pub fn auth_routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route("/auth/logout", post(logout))
        .route("/auth/passkey/start", post(passkeys::sign_in_start))
        .route("/auth/passkey/finish", post(passkeys::sign_in_finish))
}

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list_sessions))
        .routes(routes!(end_session))
        .routes(routes!(end_all_sessions))
        .routes(routes!(data_access_log))
        .routes(routes!(officer_assignment))
        .routes(routes!(organisations::set_acting_for))
        .routes(routes!(passkeys::list))
        .routes(routes!(passkeys::remove))
        .routes(routes!(passkeys::registration_start))
        .routes(routes!(passkeys::registration_finish))
        .routes(routes!(passkeys::step_up_start))
        .routes(routes!(passkeys::step_up_finish))
}

/// Accepts only a path on this site (`/dossiers?x=1`), never another origin (`//evil`, `https:`,
/// `/\evil`), so the sign-in cannot be turned into an open redirect.
pub fn safe_return_to(value: &str) -> Option<&str> {
    let ok = value.starts_with('/')
        && !value.starts_with("//")
        && !value.contains('\\')
        && !value.chars().any(char::is_control)
        && value.len() <= 512;
    ok.then_some(value)
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    return_to: Option<String>,
    /// `fresh`: the provider must authenticate the person again; `level2`: again, at level 2.
    step_up: Option<String>,
}

/// Starts an e-ID sign-in: redirects to the identity provider. Public.
async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    client: ClientMeta,
    AppQuery(query): AppQuery<LoginQuery>,
) -> Result<Response, ApiError> {
    state
        .rate_limits
        .check(Limit::SignIn, &client.rate_key())
        .await?;
    let return_to = match query.return_to.as_deref() {
        None | Some("") => "/account",
        Some(value) => safe_return_to(value)
            .ok_or_else(|| ApiError::bad_request(ErrorCode::InvalidReturnTo))?,
    };
    let (url, login_state) = state
        .identity
        .start(
            &state.store,
            return_to,
            oidc::StepUp::parse(query.step_up.as_deref())
                .ok_or_else(|| ApiError::bad_request(ErrorCode::InvalidQuery))?,
        )
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "sign-in could not start");
            match e {
                oidc::SigninError::NotConfigured => ApiError::Unavailable,
                _ => ApiError::Unavailable,
            }
        })?;
    let cookie = Cookie::build((session::login_cookie_name(&state.config), login_state))
        .http_only(true)
        .secure(state.config.is_https())
        .same_site(SameSite::Lax)
        .path(session::login_cookie_path(&state.config))
        .max_age(time::Duration::milliseconds(oidc::LOGIN_LIFETIME_MS))
        .build();
    Ok((jar.add(cookie), Redirect::to(&url)).into_response())
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Where the identity provider sends the browser back. Opens a session on success; otherwise
/// redirects to the account page with `signin_error=CODE` and opens nothing.
async fn callback(
    State(state): State<AppState>,
    jar: CookieJar,
    client: ClientMeta,
    AppQuery(query): AppQuery<CallbackQuery>,
) -> Result<Response, ApiError> {
    state
        .rate_limits
        .check(Limit::SignIn, &client.rate_key())
        .await?;
    let login_cookie = session::login_cookie_name(&state.config);
    let browser_state = jar.get(login_cookie).map(|c| c.value().to_owned());
    let jar = jar.remove(session::removal_cookie(
        login_cookie,
        session::login_cookie_path(&state.config),
    ));
    let outcome = match (&query.error, &query.code, &query.state) {
        (Some(error), _, state_param) => {
            // Use up the attempt so its state cannot be replayed.
            if let Some(s) = state_param {
                let _ = state
                    .store
                    .take_login_attempt(&crate::security::sha256_hex(s))
                    .await;
            }
            // What the provider (or whoever crafted the link) wrote is logged escaped: a
            // newline in it cannot forge a log line.
            Err(oidc::SigninError::ProviderRefused(
                crate::security::log_safe(error, 64),
            ))
        }
        (None, Some(code), Some(login_state)) => {
            state
                .identity
                .finish(&state.store, login_state, browser_state.as_deref(), code)
                .await
        }
        _ => Err(oidc::SigninError::InvalidState),
    };
    let (who, return_to) = match outcome {
        Ok(done) => done,
        Err(e) => {
            tracing::warn!(code = e.code(), error = %e, "sign-in refused");
            state
                .store
                .record_failed_sign_in(e.code(), &client.rate_key())
                .await?;
            return Ok((
                jar,
                Redirect::to(&format!("/account?signin_error={}", e.code())),
            )
                .into_response());
        }
    };
    let lifetime = i64::try_from(state.config.session_absolute_hours).unwrap_or(12) * 3_600_000;
    let previous = session::previous_session(&state.config, &jar);
    let (person, secret) = state
        .store
        .record_eid_sign_in(&who, lifetime, &client, previous.as_deref())
        .await?;
    tracing::info!(person = %person.cccd.masked(), acr = who.acr.as_str(), "signed in with e-ID");
    for hook in state.sign_in_hooks.iter() {
        hook.signed_in(&state, &person).await?;
    }
    let jar = jar.add(session::session_cookie(&state.config, secret));
    Ok((jar, Redirect::to(&return_to)).into_response())
}

/// Ends this session. Signed-in callers; CSRF token required.
async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    user: AuthUser,
) -> Result<Response, ApiError> {
    state
        .store
        .revoke_session(&user.session.secret_hash, &user.person.id)
        .await?;
    let name = session::session_cookie_name(&state.config);
    Ok((
        jar.remove(session::removal_cookie(name, "/")),
        StatusCode::NO_CONTENT,
    )
        .into_response())
}

/// The signed-in person. Any signed-in caller, about themself only.
#[utoipa::path(
    get, path = "/me", tag = "identity",
    responses(
        (status = 200, description = "The signed-in person", body = Me),
        (status = 401, description = "Not signed in", body = motcua_shared::ErrorBody),
    )
)]
async fn me(State(state): State<AppState>, user: AuthUser) -> Result<AppJson<Me>, ApiError> {
    let organisations = state.store.organisations_of(&user.person.cccd).await?;
    // A representation withdrawn since the switch no longer counts.
    let acting_for = user
        .session
        .acting_for
        .clone()
        .filter(|tax_code| organisations.iter().any(|o| &o.tax_code == tax_code));
    Ok(AppJson(Me {
        cccd: user.person.cccd.as_str().to_owned(),
        name: user.person.name.clone(),
        birthdate: user.person.birthdate.clone(),
        acr: user.session.acr,
        roles: user.roles.clone(),
        auth_method: user.session.auth_method,
        authenticated_at: user.session.authenticated_at,
        csrf_token: user.session.csrf_token.clone(),
        organisations,
        acting_for,
    }))
}

/// The person's signed-in devices. Any signed-in caller, their own sessions only.
#[utoipa::path(
    get, path = "/me/sessions", tag = "identity",
    responses((status = 200, description = "Live sessions, newest first", body = SessionList))
)]
async fn list_sessions(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<AppJson<SessionList>, ApiError> {
    let idle_ms = i64::try_from(state.config.session_idle_minutes).unwrap_or(30) * 60_000;
    let sessions = state
        .store
        .sessions_of(&user.person.id, now_ms(), idle_ms)
        .await?
        .into_iter()
        .map(|s| SessionInfo {
            current: s.public_id == user.session.public_id,
            id: s.public_id,
            auth_method: s.auth_method,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            user_agent: s.user_agent,
        })
        .collect();
    Ok(AppJson(SessionList { sessions }))
}

/// Ends one of the person's sessions. Signed-in callers, their own sessions only; CSRF token required.
#[utoipa::path(
    delete, path = "/me/sessions/{id}", tag = "identity",
    params(("id" = String, Path, description = "The session's id from the list")),
    responses(
        (status = 204, description = "Ended"),
        (status = 404, description = "No such session of yours", body = motcua_shared::ErrorBody),
    )
)]
async fn end_session(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    if state.store.revoke_session_of(&user.person.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// Signs the person out everywhere, this device included. Signed-in callers; CSRF token required.
#[utoipa::path(
    post, path = "/me/sessions/revoke-all", tag = "identity",
    responses((status = 204, description = "Every session ended"))
)]
async fn end_all_sessions(
    State(state): State<AppState>,
    jar: CookieJar,
    user: AuthUser,
) -> Result<Response, ApiError> {
    state.store.revoke_all_sessions(&user.person.id).await?;
    let name = session::session_cookie_name(&state.config);
    Ok((
        jar.remove(session::removal_cookie(name, "/")),
        StatusCode::NO_CONTENT,
    )
        .into_response())
}

/// Who read the person's data from national systems, and which officers opened their dossiers.
/// Any signed-in caller, their own log only.
#[utoipa::path(
    get, path = "/me/data-access", tag = "identity",
    params(PageQuery),
    responses((status = 200, description = "Newest first, a page at a time", body = DataAccessLog))
)]
async fn data_access_log(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(asked): AppQuery<PageQuery>,
) -> Result<AppJson<DataAccessLog>, ApiError> {
    let page = asked.page()?;
    let rows = state
        .store
        .data_access_of(user.person.cccd.as_str(), &page)
        .await?;
    let (rows, next) = page.finish(rows, |(id, e)| (e.at, id));
    let entries = rows.into_iter().map(|(_, e)| e).collect();
    Ok(AppJson(DataAccessLog { entries, next }))
}

/// The officer's own assignment: the agency and level whose dossiers they work on. Officers only.
#[utoipa::path(
    get, path = "/officer/assignment", tag = "identity",
    responses(
        (status = 200, description = "The caller's assignment", body = roles::Assignment),
        (status = 403, description = "The caller is not an officer", body = motcua_shared::ErrorBody),
    )
)]
async fn officer_assignment(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<AppJson<roles::Assignment>, ApiError> {
    user.require(motcua_shared::identity::Role::Officer)?;
    let assignment = state
        .store
        .assignment_of(&user.person.cccd)
        .await?
        .ok_or_else(|| ApiError::forbidden(ErrorCode::ForbiddenRole))?;
    Ok(AppJson(assignment))
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn only_paths_on_this_site_are_return_targets() {
        assert_eq!(
            safe_return_to("/dossiers?tab=open"),
            Some("/dossiers?tab=open")
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "evil",
            "/a\nb",
            "",
        ] {
            assert_eq!(safe_return_to(bad), None, "{bad:?}");
        }
    }
}
