//! Passkeys (WebAuthn, through webauthn-rs): after an e-ID sign-in a person may register
//! passkeys and then sign in with one alone, discoverable on phones. Ceremony state lives in the
//! database under a random single-use key with a short lifetime, and is deleted before it is
//! verified. A passkey sign-in keeps the assurance level the person earned at e-ID sign-in.

use anyhow::Context;
use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use axum_extra::extract::CookieJar;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use motcua_shared::ErrorCode;
use motcua_shared::identity::{AuthMethod, PasskeyInfo, PasskeyList};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::{
    AuthUser, ClientMeta,
    session::{self, NewSession, Person},
};
use crate::{
    AppState, Config,
    error::{ApiError, AppJson, AppPath},
    http::rate_limit::Limit,
    security::random_token,
    store::{Store, now_ms},
};

/// How long a started registration or sign-in may take.
const CEREMONY_LIFETIME_MS: i64 = 5 * 60 * 1000;
/// Adding a passkey needs an e-ID sign-in (or passkey use) this recent.
const FRESH_FOR_REGISTRATION_MS: i64 = 10 * 60 * 1000;

/// The site's WebAuthn relying party, when it can have one: browsers accept passkeys only for a
/// domain name (`localhost` included), never for a bare IP address such as 127.0.0.1.
pub fn relying_party(config: &Config) -> anyhow::Result<Option<Webauthn>> {
    let origin = Url::parse(&config.public_url).context("public_url")?;
    let Some(url::Host::Domain(domain)) = origin.host() else {
        return Ok(None);
    };
    let webauthn = WebauthnBuilder::new(domain, &origin)
        .context("WebAuthn relying party")?
        .rp_name("Dịch vụ công một cửa")
        .build()
        .context("WebAuthn relying party")?;
    Ok(Some(webauthn))
}

fn webauthn(state: &AppState) -> Result<&Webauthn, ApiError> {
    state
        .passkeys
        .as_deref()
        .ok_or_else(|| ApiError::Unavailable)
}

/// A ceremony's public half: its key and the options for `navigator.credentials`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CeremonyStart {
    pub ceremony_id: String,
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegistrationStart {
    /// A label the person recognises, such as "Điện thoại của tôi".
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegistrationFinish {
    pub ceremony_id: String,
    #[schema(value_type = Object)]
    pub credential: RegisterPublicKeyCredential,
}

#[derive(Debug, Deserialize)]
pub struct SignInFinish {
    pub ceremony_id: String,
    pub credential: PublicKeyCredential,
}

fn invalid_ceremony() -> ApiError {
    ApiError::bad_request(ErrorCode::CeremonyInvalid)
}

/// Takes (deletes) a ceremony before anything is checked, so it is single-use whatever happens;
/// then checks it belongs to `session` (`None`: a sign-in, bound to no session) and has not
/// expired, and decodes its state.
async fn take_ceremony_state<T: serde::de::DeserializeOwned>(
    store: &Store,
    id: &str,
    kind: &str,
    session: Option<&str>,
) -> Result<(Ceremony, T), ApiError> {
    let ceremony = store
        .take_ceremony(id, kind)
        .await?
        .ok_or_else(invalid_ceremony)?;
    if ceremony.session_hash.as_deref() != session || ceremony.expires_at <= now_ms() {
        return Err(invalid_ceremony());
    }
    let state = serde_json::from_str(&ceremony.state).context("decoding a ceremony")?;
    Ok((ceremony, state))
}

/// Starts registering a passkey. Signed-in callers, for themselves; needs a recent sign-in and the CSRF token.
#[utoipa::path(
    post, path = "/me/passkeys/registration/start", tag = "identity",
    request_body = RegistrationStart,
    responses(
        (status = 200, description = "Options for navigator.credentials.create", body = CeremonyStart),
        (status = 403, description = "Sign in again first (step_up_required)", body = motcua_shared::ErrorBody),
    )
)]
pub async fn registration_start(
    State(state): State<AppState>,
    user: AuthUser,
    AppJson(body): AppJson<RegistrationStart>,
) -> Result<AppJson<CeremonyStart>, ApiError> {
    let webauthn = webauthn(&state)?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ApiError::validation(ErrorCode::InvalidName));
    }
    user.require_fresh(FRESH_FOR_REGISTRATION_MS)?;
    let existing = state.store.passkeys_of(&user.person.id).await?;
    let exclude = existing
        .iter()
        .map(|(_, _, p)| p.cred_id().clone())
        .collect::<Vec<_>>();
    let person_uuid = Uuid::parse_str(&user.person.id).context("a person id is not a UUID")?;
    let (challenge, registration) = webauthn
        // The authenticator, and any password manager it syncs to, keeps the user name: the
        // CCCD masked (enough to tell two accounts apart), never the whole number.
        .start_passkey_registration(
            person_uuid,
            &user.person.cccd.masked(),
            &user.person.name,
            Some(exclude),
        )
        .context("starting a passkey registration")?;
    let mut options = serde_json::to_value(&challenge).context("encoding WebAuthn options")?;
    // Ask for a discoverable credential, so the passkey alone signs in (no CCCD to type).
    if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection") {
        selection["residentKey"] = "required".into();
        selection["requireResidentKey"] = true.into();
    }
    let ceremony_id = random_token(24);
    state
        .store
        .save_ceremony(
            &ceremony_id,
            "registration",
            Some(&user.session.secret_hash),
            Some(name),
            &serde_json::to_string(&registration).context("encoding a ceremony")?,
        )
        .await?;
    Ok(AppJson(CeremonyStart {
        ceremony_id,
        options,
    }))
}

/// Completes a passkey registration. Signed-in callers, the session that started it; CSRF token required.
#[utoipa::path(
    post, path = "/me/passkeys/registration/finish", tag = "identity",
    request_body = RegistrationFinish,
    responses(
        (status = 201, description = "Registered", body = PasskeyInfo),
        (status = 400, description = "Expired, reused or unverifiable", body = motcua_shared::ErrorBody),
    )
)]
pub async fn registration_finish(
    State(state): State<AppState>,
    user: AuthUser,
    AppJson(body): AppJson<RegistrationFinish>,
) -> Result<Response, ApiError> {
    let webauthn = webauthn(&state)?;
    let (ceremony, registration): (_, PasskeyRegistration) = take_ceremony_state(
        &state.store,
        &body.ceremony_id,
        "registration",
        Some(&user.session.secret_hash),
    )
    .await?;
    let passkey = webauthn
        .finish_passkey_registration(&body.credential, &registration)
        .map_err(|e| {
            tracing::info!(error = %e, "passkey registration refused");
            ApiError::bad_request(ErrorCode::PasskeyRejected)
        })?;
    let name = ceremony.passkey_name.unwrap_or_else(|| "Passkey".into());
    let info = state
        .store
        .add_passkey(&user.person.id, &name, &passkey)
        .await?;
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

/// The person's passkeys. Signed-in callers, their own.
#[utoipa::path(
    get, path = "/me/passkeys", tag = "identity",
    responses((status = 200, description = "Passkeys, oldest first", body = PasskeyList))
)]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<AppJson<PasskeyList>, ApiError> {
    let passkeys = state
        .store
        .passkeys_of(&user.person.id)
        .await?
        .into_iter()
        .map(|(info, _, _)| info)
        .collect();
    Ok(AppJson(PasskeyList {
        available: state.passkeys.is_some(),
        passkeys,
    }))
}

/// Removes one of the person's passkeys. Signed-in callers, their own, with a proof of identity
/// from the last minutes (a stolen session cannot lock the owner out); CSRF token required. The
/// person is told in their notices.
#[utoipa::path(
    delete, path = "/me/passkeys/{id}", tag = "identity",
    params(("id" = String, Path, description = "The passkey's id from the list")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Prove who you are again first (step_up_required)", body = motcua_shared::ErrorBody),
        (status = 404, description = "No such passkey of yours", body = motcua_shared::ErrorBody),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    user.require_fresh(state.config.step_up_max_age_ms())?;
    if state.store.delete_passkey(&user.person.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// A state-changing request without a session must come from our own pages.
fn require_same_origin(headers: &HeaderMap, config: &Config) -> Result<(), ApiError> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if origin == Some(config.public_url.trim_end_matches('/')) {
        Ok(())
    } else {
        Err(ApiError::forbidden(ErrorCode::CrossOrigin))
    }
}

/// Starts a passkey sign-in (discoverable: the authenticator offers the person's passkeys). Public.
pub async fn sign_in_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientMeta,
) -> Result<AppJson<CeremonyStart>, ApiError> {
    require_same_origin(&headers, &state.config)?;
    state
        .rate_limits
        .check(Limit::Passkey, &format!("ip:{}", client.rate_key()))
        .await?;
    let webauthn = webauthn(&state)?;
    let (challenge, authentication) = webauthn
        .start_discoverable_authentication()
        .context("starting a passkey sign-in")?;
    let ceremony_id = random_token(24);
    state
        .store
        .save_ceremony(
            &ceremony_id,
            "authentication",
            None,
            None,
            &serde_json::to_string(&authentication).context("encoding a ceremony")?,
        )
        .await?;
    Ok(AppJson(CeremonyStart {
        ceremony_id,
        options: serde_json::to_value(&challenge).context("encoding WebAuthn options")?,
    }))
}

/// Completes a passkey sign-in and opens a session. Public; rate-limited per IP and per account.
pub async fn sign_in_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    client: ClientMeta,
    AppJson(body): AppJson<SignInFinish>,
) -> Result<Response, ApiError> {
    require_same_origin(&headers, &state.config)?;
    state
        .rate_limits
        .check(Limit::Passkey, &format!("ip:{}", client.rate_key()))
        .await?;
    let webauthn = webauthn(&state)?;
    // Bound to no session: a step-up ceremony (bound to one) cannot be turned into a sign-in.
    let (_, authentication): (_, DiscoverableAuthentication) =
        take_ceremony_state(&state.store, &body.ceremony_id, "authentication", None).await?;
    let rejected = || ApiError::unauthorized(ErrorCode::PasskeyRejected);
    let (user_handle, credential_id) = webauthn
        .identify_discoverable_authentication(&body.credential)
        .map_err(|_| rejected())?;
    state
        .rate_limits
        .check(Limit::Passkey, &format!("account:{user_handle}"))
        .await?;
    let credential_id = URL_SAFE_NO_PAD.encode(credential_id);
    let (person, mut passkey) = state
        .store
        .passkey_by_credential(&credential_id)
        .await?
        .filter(|(person, _)| person.id == user_handle.to_string())
        .ok_or_else(rejected)?;
    let result = webauthn
        .finish_discoverable_authentication_v2(&body.credential, authentication, &passkey)
        .map_err(|e| {
            tracing::info!(error = %e, "passkey sign-in refused");
            rejected()
        })?;
    passkey.update_credential(&result);
    let lifetime = i64::try_from(state.config.session_absolute_hours).unwrap_or(12) * 3_600_000;
    let secret = state
        .store
        .record_passkey_sign_in(
            &person,
            &credential_id,
            &passkey,
            lifetime,
            &client,
            session::previous_session(&state.config, &jar).as_deref(),
        )
        .await?;
    tracing::info!(person = %person.cccd.masked(), "signed in with a passkey");
    let jar = jar.add(session::session_cookie(&state.config, secret));
    Ok((jar, Json(serde_json::json!({ "signed_in": true }))).into_response())
}

/// A ceremony as stored.
pub struct Ceremony {
    pub session_hash: Option<String>,
    pub passkey_name: Option<String>,
    pub state: String,
    pub expires_at: i64,
}

impl Store {
    pub async fn save_ceremony(
        &self,
        id: &str,
        kind: &str,
        session_hash: Option<&str>,
        passkey_name: Option<&str>,
        state: &str,
    ) -> anyhow::Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query("delete from webauthn_ceremonies where expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("pruning ceremonies")?;
        sqlx::query(
            "insert into webauthn_ceremonies (id, kind, session_hash, passkey_name, state, expires_at) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(kind)
        .bind(session_hash)
        .bind(passkey_name)
        .bind(state)
        .bind(now + CEREMONY_LIFETIME_MS)
        .execute(&mut *tx)
        .await
        .context("saving a ceremony")?;
        tx.commit().await.context("committing a ceremony")?;
        Ok(())
    }

    /// Deletes and returns a ceremony: it can be used once.
    pub async fn take_ceremony(&self, id: &str, kind: &str) -> anyhow::Result<Option<Ceremony>> {
        let row: Option<(Option<String>, Option<String>, String, i64)> = sqlx::query_as(
            "delete from webauthn_ceremonies where id = $1 and kind = $2 \
             returning session_hash, passkey_name, state, expires_at",
        )
        .bind(id)
        .bind(kind)
        .fetch_optional(self.pool())
        .await
        .context("taking a ceremony")?;
        Ok(
            row.map(|(session_hash, passkey_name, state, expires_at)| Ceremony {
                session_hash,
                passkey_name,
                state,
                expires_at,
            }),
        )
    }

    pub async fn add_passkey(
        &self,
        person_id: &str,
        name: &str,
        passkey: &Passkey,
    ) -> anyhow::Result<PasskeyInfo> {
        let id = URL_SAFE_NO_PAD.encode(passkey.cred_id());
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "insert into passkeys (credential_id, person_id, name, passkey, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(person_id)
        .bind(name)
        .bind(serde_json::to_string(passkey).context("encoding a passkey")?)
        .bind(now)
        .execute(&mut *tx)
        .await
        .context("saving a passkey")?;
        let who = format!("person:{person_id}");
        crate::audit::append(
            &mut tx,
            &crate::audit::Event {
                actor: &who,
                action: "identity.passkey_added",
                subject: &who,
                details: serde_json::json!({ "passkey": id, "name": name }),
            },
        )
        .await?;
        tx.commit().await.context("committing a passkey")?;
        Ok(PasskeyInfo {
            id,
            name: name.to_owned(),
            created_at: now,
            last_used_at: None,
        })
    }

    /// The person's passkeys with their stored form, oldest first.
    pub async fn passkeys_of(
        &self,
        person_id: &str,
    ) -> anyhow::Result<Vec<(PasskeyInfo, String, Passkey)>> {
        let rows: Vec<(String, String, i64, Option<i64>, String)> = sqlx::query_as(
            "select credential_id, name, created_at, last_used_at, passkey from passkeys \
             where person_id = $1 order by created_at, credential_id",
        )
        .bind(person_id)
        .fetch_all(self.pool())
        .await
        .context("listing passkeys")?;
        rows.into_iter()
            .map(|(id, name, created_at, last_used_at, json)| {
                let passkey: Passkey = serde_json::from_str(&json).context("decoding a passkey")?;
                Ok((
                    PasskeyInfo {
                        id: id.clone(),
                        name,
                        created_at,
                        last_used_at,
                    },
                    id,
                    passkey,
                ))
            })
            .collect()
    }

    /// The passkey with this credential id and the person it belongs to.
    pub async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> anyhow::Result<Option<(Person, Passkey)>> {
        let row: Option<(String, String)> =
            sqlx::query_as("select person_id, passkey from passkeys where credential_id = $1")
                .bind(credential_id)
                .fetch_optional(self.pool())
                .await
                .context("reading a passkey")?;
        let Some((person_id, json)) = row else {
            return Ok(None);
        };
        let passkey: Passkey = serde_json::from_str(&json).context("decoding a passkey")?;
        let person = self
            .person(&person_id)
            .await?
            .context("a passkey's person is missing")?;
        Ok(Some((person, passkey)))
    }

    pub async fn delete_passkey(
        &self,
        person_id: &str,
        credential_id: &str,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin_write().await?;
        let name: Option<(String,)> = sqlx::query_as(
            "delete from passkeys where person_id = $1 and credential_id = $2 returning name",
        )
        .bind(person_id)
        .bind(credential_id)
        .fetch_optional(&mut *tx)
        .await
        .context("removing a passkey")?;
        let Some((name,)) = name else {
            return Ok(false);
        };
        crate::notifications::inbox::notify_in(
            &mut tx,
            person_id,
            "passkey_removed",
            &serde_json::json!({ "name": name }),
        )
        .await?;
        let who = format!("person:{person_id}");
        crate::audit::append(
            &mut tx,
            &crate::audit::Event {
                actor: &who,
                action: "identity.passkey_removed",
                subject: &who,
                details: serde_json::json!({ "passkey": credential_id }),
            },
        )
        .await?;
        tx.commit().await.context("committing a passkey removal")?;
        Ok(true)
    }

    /// Records a passkey sign-in in one transaction: the passkey's new counter and the session.
    /// The session's assurance level is the one the person earned at their last e-ID sign-in.
    pub async fn record_passkey_sign_in(
        &self,
        person: &Person,
        credential_id: &str,
        passkey: &Passkey,
        lifetime_ms: i64,
        client: &ClientMeta,
        replaces: Option<&str>,
    ) -> anyhow::Result<String> {
        let mut tx = self.begin_write().await?;
        sqlx::query("update passkeys set passkey = $1, last_used_at = $2 where credential_id = $3")
            .bind(serde_json::to_string(passkey).context("encoding a passkey")?)
            .bind(now_ms())
            .bind(credential_id)
            .execute(&mut *tx)
            .await
            .context("updating a passkey")?;
        let secret = session::open_session(
            &mut tx,
            &NewSession {
                person,
                method: AuthMethod::Passkey,
                acr: person.acr,
                lifetime_ms,
                client,
                authenticated_at: crate::store::now_ms(),
                replaces,
            },
        )
        .await?;
        let who = format!("person:{}", person.id);
        crate::audit::append(
            &mut tx,
            &crate::audit::Event {
                actor: &who,
                action: "identity.sign_in",
                subject: &who,
                details: serde_json::json!({ "method": "passkey", "acr": person.acr.as_str(), "passkey": credential_id }),
            },
        )
        .await?;
        tx.commit().await.context("committing a passkey sign-in")?;
        Ok(secret)
    }
}

/// Starts a step-up with one of the person's passkeys, bound to the current session.
/// Signed-in callers; CSRF token required.
#[utoipa::path(
    post, path = "/me/step-up/passkey/start", tag = "identity",
    responses(
        (status = 200, description = "Options for navigator.credentials.get", body = CeremonyStart),
        (status = 409, description = "No passkey to confirm with (no_passkeys)", body = motcua_shared::ErrorBody),
    )
)]
pub async fn step_up_start(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<AppJson<CeremonyStart>, ApiError> {
    let webauthn = webauthn(&state)?;
    state
        .rate_limits
        .check(Limit::Passkey, &format!("account:{}", user.person.id))
        .await?;
    let passkeys: Vec<Passkey> = state
        .store
        .passkeys_of(&user.person.id)
        .await?
        .into_iter()
        .map(|(_, _, p)| p)
        .collect();
    if passkeys.is_empty() {
        return Err(ApiError::conflict(ErrorCode::NoPasskeys));
    }
    let (challenge, authentication) = webauthn
        .start_passkey_authentication(&passkeys)
        .context("starting a passkey step-up")?;
    let ceremony_id = random_token(24);
    state
        .store
        .save_ceremony(
            &ceremony_id,
            "authentication",
            Some(&user.session.secret_hash),
            None,
            &serde_json::to_string(&authentication).context("encoding a ceremony")?,
        )
        .await?;
    Ok(AppJson(CeremonyStart {
        ceremony_id,
        options: serde_json::to_value(&challenge).context("encoding WebAuthn options")?,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StepUpFinish {
    pub ceremony_id: String,
    #[schema(value_type = Object)]
    pub credential: PublicKeyCredential,
}

/// Completes a passkey step-up: the current session counts as freshly verified.
/// Signed-in callers, the session that started it; CSRF token required.
#[utoipa::path(
    post, path = "/me/step-up/passkey/finish", tag = "identity",
    request_body = StepUpFinish,
    responses(
        (status = 204, description = "Verified"),
        (status = 400, description = "Expired or reused", body = motcua_shared::ErrorBody),
        (status = 401, description = "The passkey was not verified", body = motcua_shared::ErrorBody),
    )
)]
pub async fn step_up_finish(
    State(state): State<AppState>,
    user: AuthUser,
    AppJson(body): AppJson<StepUpFinish>,
) -> Result<StatusCode, ApiError> {
    let webauthn = webauthn(&state)?;
    let (_, authentication): (_, PasskeyAuthentication) = take_ceremony_state(
        &state.store,
        &body.ceremony_id,
        "authentication",
        Some(&user.session.secret_hash),
    )
    .await?;
    let result = webauthn
        .finish_passkey_authentication(&body.credential, &authentication)
        .map_err(|e| {
            tracing::info!(error = %e, "passkey step-up refused");
            ApiError::unauthorized(ErrorCode::PasskeyRejected)
        })?;
    let credential_id = URL_SAFE_NO_PAD.encode(result.cred_id());
    let (_, mut passkey) = state
        .store
        .passkey_by_credential(&credential_id)
        .await?
        .filter(|(person, _)| person.id == user.person.id)
        .ok_or_else(|| ApiError::unauthorized(ErrorCode::PasskeyRejected))?;
    passkey.update_credential(&result);
    state
        .store
        .record_step_up(&user.session.secret_hash, &credential_id, &passkey)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

impl Store {
    /// A passkey step-up in one transaction: the passkey's counter and the session's verification time.
    pub async fn record_step_up(
        &self,
        session_hash: &str,
        credential_id: &str,
        passkey: &Passkey,
    ) -> anyhow::Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query("update passkeys set passkey = $1, last_used_at = $2 where credential_id = $3")
            .bind(serde_json::to_string(passkey).context("encoding a passkey")?)
            .bind(now)
            .bind(credential_id)
            .execute(&mut *tx)
            .await
            .context("updating a passkey")?;
        sqlx::query("update sessions set authenticated_at = $1 where secret_hash = $2")
            .bind(now)
            .bind(session_hash)
            .execute(&mut *tx)
            .await
            .context("refreshing a session's verification")?;
        let (person_id,): (String,) =
            sqlx::query_as("select person_id from sessions where secret_hash = $1")
                .bind(session_hash)
                .fetch_one(&mut *tx)
                .await
                .context("reading a session's person")?;
        let who = format!("person:{person_id}");
        crate::audit::append(
            &mut tx,
            &crate::audit::Event {
                actor: &who,
                action: "identity.step_up",
                subject: &who,
                details: serde_json::json!({ "method": "passkey", "passkey": credential_id }),
            },
        )
        .await?;
        tx.commit().await.context("committing a step-up")?;
        Ok(())
    }
}
