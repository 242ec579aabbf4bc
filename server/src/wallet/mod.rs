//! The result wallet: every result a dossier issues becomes a signed credential (a QR anyone
//! can verify, also offline) in its holder's wallet; the trust list of the agencies' keys,
//! signed by the national root key; status lists for revocation; verification on the server with
//! the same code the PWA's verifier runs; and officers revoking or suspending what their agency
//! issued.

pub mod issue;
pub mod keys;
pub mod pdf;
pub mod registers;
pub mod storage;

pub use registers::licence_from_register;

use std::collections::HashMap;

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use motcua_shared::{
    ErrorCode, Localized,
    credential::{
        self, Invalid,
        status::{self, Status},
        status_token::{self, StatusListToken},
        trust::{self, SignedTrustList, TrustList},
    },
    identity::Role,
    wallet_api::{ChangeStatus, Issuer, VerifyRequest, VerifyResult, Wallet, WalletCredential},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    error::{ApiError, AppJson, AppPath, AppQuery},
    http::page::PageQuery,
    identity::AuthUser,
    store::{Store, StoreResult, now_ms},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(wallet))
        .routes(routes!(verify))
        .routes(routes!(trust_list))
        .routes(routes!(status_list))
        .routes(routes!(change_status))
        .routes(routes!(from_register))
        .routes(routes!(proof))
        .routes(routes!(printable))
}

/// The short address of a status list, as credentials carry it (`/s/{id}`).
pub fn short_routes() -> axum::Router<AppState> {
    axum::Router::new().route("/s/{id}", axum::routing::get(status_list))
}

/// How long an offline verifier may rely on a trust list it fetched.
pub const TRUST_LIST_MAX_AGE_SECS: i64 = 48 * 3600;
/// How long a status list may be cached before it is fetched again (the token's `ttl`).
pub const STATUS_LIST_TTL_SECS: i64 = 300;

/// The agencies' names: those of the catalogue, and the registers' agencies that sign what
/// they hold.
async fn agency_names_localized(store: &Store) -> StoreResult<HashMap<String, Localized>> {
    let mut names: HashMap<String, Localized> = store
        .list_procedures(&crate::procedures::CatalogueFilter::default())
        .await?
        .into_iter()
        .map(|p| (p.agency.code, p.agency.name))
        .collect();
    for (code, vi, en) in registers::REGISTER_AGENCIES {
        names.entry(code.to_owned()).or_insert_with(|| Localized {
            vi: vi.into(),
            en: en.into(),
        });
    }
    Ok(names)
}

/// The signed-in person's credentials, newest first, each with its QR. Their own only.
#[utoipa::path(get, path = "/wallet", tag = "wallet", params(PageQuery), responses((status = 200, description = "Newest first", body = Wallet)))]
async fn wallet(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(asked): AppQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let page = asked.page()?;
    let names = agency_names_localized(&state.store).await?;
    let rows = state.store.credentials_page(&user.person.id, &page).await?;
    let (rows, next) = page.finish(rows, |c| (c.created_at, &c.id));
    let credentials = rows
        .into_iter()
        .map(|row| row.into_view(&names))
        .collect::<anyhow::Result<Vec<WalletCredential>>>()?;
    Ok(personal(AppJson(Wallet { credentials, next })))
}

/// One of the person's credentials as a printable PDF (A4, in Vietnamese, with its QR). Their
/// own only; never cached.
#[utoipa::path(
    get, path = "/wallet/{id}/pdf", tag = "wallet",
    params(("id" = String, Path, description = "The credential's id")),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, description = "No credential of yours with this id", body = motcua_shared::ErrorBody),
    )
)]
async fn printable(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<Response, ApiError> {
    let row = state
        .store
        .credential(&id)
        .await?
        .filter(|c| c.person_id == user.person.id)
        .ok_or(ApiError::NotFound)?;
    let view = row.into_view(&agency_names_localized(&state.store).await?)?;
    let verify_url = format!("{}/verify", state.config.public_url.trim_end_matches('/'));
    // Drawing and subsetting fonts is CPU work: off the async workers.
    let bytes = tokio::task::spawn_blocking(move || pdf::render(&view, &verify_url, now_ms()))
        .await
        .map_err(anyhow::Error::from)??;
    let filename = format!("motcua-{id}.pdf");
    Ok(personal((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )))
}

/// Personal data is never stored by a cache.
fn personal(body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Checks a credential's QR text: signature (against the agencies' keys), expiry and status.
/// Public. Any input is answered 200; an undecodable one is `valid: false` with its reason.
#[utoipa::path(
    post, path = "/verify", tag = "wallet",
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "What the check found", body = VerifyResult),
        (status = 429, description = "Too many checks from this address", body = motcua_shared::ErrorBody),
    )
)]
async fn verify(
    State(state): State<AppState>,
    client: crate::identity::ClientMeta,
    body: AppJson<VerifyRequest>,
) -> Result<AppJson<VerifyResult>, ApiError> {
    let result = check(&state, &client, body).await?;
    state
        .metrics
        .verifications
        .with_label_values(&[result.0.reason.as_deref().unwrap_or("valid")])
        .inc();
    Ok(result)
}

async fn check(
    state: &AppState,
    client: &crate::identity::ClientMeta,
    AppJson(body): AppJson<VerifyRequest>,
) -> Result<AppJson<VerifyResult>, ApiError> {
    state
        .rate_limits
        .check(crate::http::rate_limit::Limit::Verify, &client.rate_key())
        .await?;
    // The catalogue is read once: for the keys' agency names and the issuer's.
    let names = agency_names_localized(&state.store).await?;
    let keys = state.store.trusted_keys(&names).await?;
    let issuer_of = |code: &str| Issuer {
        code: code.to_owned(),
        name: names.get(code).cloned().unwrap_or(Localized {
            vi: code.to_owned(),
            en: code.to_owned(),
        }),
    };
    let refused = |why: &str, credential: Option<credential::Credential>| VerifyResult {
        valid: false,
        reason: Some(why.to_owned()),
        revoked: false,
        status: None,
        issuer: credential.as_ref().map(|c| issuer_of(&c.issuer)),
        claims: None,
    };
    let checked = credential::verify(&body.qr, &keys, now_ms() / 1000);
    let credential = match checked {
        Ok(c) => c,
        Err(e @ Invalid::Expired) => {
            // The signature held: say who issued it, not what it says.
            let issuer = credential::decode(&body.qr)
                .ok()
                .and_then(|u| {
                    keys.iter()
                        .find(|k| credential::from_hex(&k.kid).as_deref() == Some(&u.kid[..]))
                })
                .map(|k| issuer_of(&k.agency));
            return Ok(AppJson(VerifyResult {
                issuer,
                ..refused(e.code(), None)
            }));
        }
        Err(e) => return Ok(AppJson(refused(e.code(), None))),
    };
    let status = state
        .store
        .credential(&credential.id)
        .await?
        .map_or(Status::Valid, |row| row.status());
    // A certified copy shown with a file: it must be that file.
    let wrong_file = body
        .file_sha256
        .as_deref()
        .and_then(|sha| credential.certifies_file(sha))
        == Some(false);
    let reason = match status {
        Status::Valid if wrong_file => Some("file_mismatch"),
        Status::Valid => None,
        Status::Revoked => Some("revoked"),
        Status::Suspended => Some("suspended"),
        Status::Replaced => Some("replaced"),
    };
    Ok(AppJson(VerifyResult {
        valid: reason.is_none(),
        reason: reason.map(str::to_owned),
        revoked: status == Status::Revoked,
        status: Some(status),
        issuer: Some(issuer_of(&credential.issuer)),
        claims: Some(credential),
    }))
}

/// The agencies' keys with their validity and status, signed by the national root key; an
/// offline verifier relies on it for at most `max_age_secs` after `issued_at`. Public.
#[utoipa::path(
    get, path = "/trust-list", tag = "wallet",
    responses((status = 200, description = "The signed trust list", body = SignedTrustList))
)]
async fn trust_list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let list = TrustList {
        issued_at: now_ms() / 1000,
        max_age_secs: TRUST_LIST_MAX_AGE_SECS,
        keys: state
            .store
            .trusted_keys(&agency_names_localized(&state.store).await?)
            .await?,
        status_lists: state
            .store
            .status_list_ids()
            .await?
            .into_iter()
            .map(|id| storage::status_uri(&state.config.public_url, id))
            .collect(),
    };
    let root = keys::root_key(state.keys.as_ref())?;
    let mut response = AppJson(trust::sign(&list, &root)).into_response();
    // Verifiers keep their own copy with its signed age; the network answer is always current
    // (a withdrawn key must stop verifying at once for anyone online).
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// A status list token (IETF Token Status List, CWT): 2 bits per credential (valid, revoked,
/// suspended, replaced), zlib-compressed, signed by the root key. Public; `/s/{id}` too.
#[utoipa::path(
    get, path = "/status-lists/{id}", tag = "wallet",
    params(("id" = i64, Path, description = "The list's number")),
    responses(
        (status = 200, description = "application/statuslist+cwt"),
        (status = 404, description = "No such list", body = motcua_shared::ErrorBody),
    )
)]
async fn status_list(
    State(state): State<AppState>,
    AppPath(id): AppPath<i64>,
) -> Result<Response, ApiError> {
    let entries = state
        .store
        .status_list_entries(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let now = now_ms() / 1000;
    let token = StatusListToken {
        uri: storage::status_uri(&state.config.public_url, id),
        issued_at: now,
        expires_at: now + TRUST_LIST_MAX_AGE_SECS,
        ttl_secs: STATUS_LIST_TTL_SECS,
        list: status::build(&entries),
    };
    let root = keys::root_key(state.keys.as_ref())?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/statuslist+cwt"),
            ),
            // A revocation is seen by the next online check; offline verifiers rely on the
            // token's own `exp` and `ttl`, not on HTTP caching.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        status_token::sign(&token, &root),
    )
        .into_response())
}

/// Revokes or suspends a credential the officer's agency issued, or lifts a suspension, with a
/// reason the holder is told. Officers of the issuing agency, with a fresh proof of identity;
/// CSRF token required.
#[utoipa::path(
    post, path = "/officer/credentials/{id}/status", tag = "wallet",
    params(("id" = String, Path, description = "The credential's id")),
    request_body = ChangeStatus,
    responses(
        (status = 204, description = "Changed"),
        (status = 404, description = "Not a credential of your agency", body = motcua_shared::ErrorBody),
        (status = 409, description = "It already has that status, or was replaced", body = motcua_shared::ErrorBody),
        (status = 422, description = "A reason is required", body = motcua_shared::ErrorBody),
    )
)]
async fn change_status(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<ChangeStatus>,
) -> Result<axum::http::StatusCode, ApiError> {
    user.require(Role::Officer)?;
    let assignment = state
        .store
        .assignment_of(&user.person.cccd)
        .await?
        .ok_or_else(|| ApiError::forbidden(ErrorCode::ForbiddenRole))?;
    let credential = state
        .store
        .credential(&id)
        .await?
        .filter(|c| c.issuer == assignment.agency_code)
        .ok_or(ApiError::NotFound)?;
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::validation(ErrorCode::ReasonRequired));
    }
    if reason.chars().count() > 1000 {
        return Err(ApiError::validation(ErrorCode::ReasonTooLong));
    }
    if body.status == Status::Replaced {
        return Err(ApiError::validation(ErrorCode::InvalidStatus));
    }
    // Revoking is signing: the officer proves it is them again.
    user.require_fresh(state.config.step_up_max_age_ms())?;
    let actor = format!("officer:{}", user.person.id);
    if !state
        .store
        .set_credential_status(&credential.id, body.status, reason, &actor)
        .await?
    {
        return Err(ApiError::conflict(ErrorCode::TransitionNotAllowed));
    }
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The body of `POST /api/v1/wallet/from-register`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct FromRegister {
    /// What to add: `driving_licence` or `health_insurance_card`.
    pub document: String,
}

/// Adds to the wallet what a national register holds about the person: their driving licence
/// (from the licence register) or their health-insurance card (from the social-insurance
/// register), read now (logged in their data-access log) and signed by the register's agency.
/// A licence the register marks suspended is added suspended. Signed-in callers, about
/// themself; CSRF token required. Adding it again returns the same credential.
#[utoipa::path(
    post, path = "/wallet/from-register", tag = "wallet",
    request_body = FromRegister,
    responses(
        (status = 200, description = "In the wallet", body = WalletCredential),
        (status = 404, description = "The register holds no such document of yours", body = motcua_shared::ErrorBody),
        (status = 422, description = "Not a document a register can add", body = motcua_shared::ErrorBody),
    )
)]
async fn from_register(
    State(state): State<AppState>,
    user: AuthUser,
    AppJson(body): AppJson<FromRegister>,
) -> Result<Response, ApiError> {
    let id = match body.document.as_str() {
        "driving_licence" => registers::licence_from_register(&state, &user.person).await?,
        "health_insurance_card" => {
            registers::insurance_card_from_register(&state, &user.person).await?
        }
        _ => {
            return Err(ApiError::validation(ErrorCode::InvalidBody).with(
                "detail",
                "document must be driving_licence or health_insurance_card",
            ));
        }
    }
    .ok_or(ApiError::NotFound)?;
    let names = agency_names_localized(&state.store).await?;
    let view = state
        .store
        .credential(&id)
        .await?
        .ok_or(ApiError::NotFound)?
        .into_view(&names)?;
    Ok(personal(AppJson(view)))
}

/// Makes the purpose-minimised form of one of the person's valid licences: it proves only that
/// the holder has a valid licence of its classes, with the name and birth year (no CCCD, number
/// or address), and follows the licence's status. Made once; asking again returns it. Their own
/// only; CSRF token required.
#[utoipa::path(
    post, path = "/wallet/{id}/proof", tag = "wallet",
    params(("id" = String, Path, description = "The licence credential's id")),
    responses(
        (status = 200, description = "The proof, in the wallet", body = WalletCredential),
        (status = 404, description = "No valid licence of yours with this id", body = motcua_shared::ErrorBody),
    )
)]
async fn proof(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<Response, ApiError> {
    let licence = state
        .store
        .credential(&id)
        .await?
        .filter(|c| c.person_id == user.person.id && c.status() == Status::Valid)
        .ok_or(ApiError::NotFound)?;
    let names = agency_names_localized(&state.store).await?;
    let view = licence.into_view(&names)?;
    let draft = issue::licence_proof(
        &issue::Draft {
            kind: view.claims.kind,
            title: view.title.clone(),
            issued_on: view.claims.issued_on.clone(),
            valid_until: view.claims.valid_until.clone(),
            fields: view.claims.fields.clone(),
        },
        user.person
            .birthdate
            .as_deref()
            .and_then(|b| b.get(..4))
            .and_then(|y| y.parse().ok()),
    )
    .ok_or(ApiError::NotFound)?;
    // Signed today, by the agency that issued the licence.
    let draft = issue::Draft {
        issued_on: issue::today(),
        ..draft
    };
    let key = state
        .store
        .signing_key(state.keys.as_ref(), &view.issuer.code, false)
        .await?;
    let made = state
        .store
        .licence_proof(&key, &state.config.public_url, &user.person.id, &id, &draft)
        .await?;
    let view = state
        .store
        .credential(&made)
        .await?
        .ok_or(ApiError::NotFound)?
        .into_view(&names)?;
    Ok(personal(AppJson(view)))
}
