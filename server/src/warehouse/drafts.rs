//! Drafts: a filing in progress saved on the server as the person goes, so it can be continued
//! on another device. One draft per person and procedure; filing the dossier deletes it.

use anyhow::Context;
use axum::{extract::State, http::StatusCode};
use motcua_shared::warehouse::Draft;

use crate::{
    AppState,
    error::{ApiError, AppJson, AppPath},
    identity::AuthUser,
    store::{Store, now_ms},
};

/// Answers larger than this are not a draft of any real form.
const MAX_DRAFT_BYTES: usize = 64 * 1024;

impl Store {
    pub async fn draft(&self, person_id: &str, procedure: &str) -> anyhow::Result<Option<Draft>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "select answers, updated_at from drafts where person_id = $1 and procedure_code = $2",
        )
        .bind(person_id)
        .bind(procedure)
        .fetch_optional(self.pool())
        .await
        .context("reading a draft")?;
        row.map(|(answers, updated_at)| {
            Ok(Draft {
                answers: serde_json::from_str(&answers).context("decoding a draft")?,
                updated_at,
            })
        })
        .transpose()
    }

    /// Saves (or replaces) a person's draft of a procedure; false (nothing saved) when it would
    /// be a new draft beyond the person's `limit`.
    pub async fn save_draft(
        &self,
        person_id: &str,
        procedure: &str,
        answers: &str,
        limit: i64,
    ) -> crate::store::StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let (held, this): (i64, i64) = sqlx::query_as(
            "select cast(count(*) as bigint), cast(coalesce(sum(case when procedure_code = $2 then 1 else 0 end), 0) as bigint) \
             from drafts where person_id = $1",
        )
        .bind(person_id)
        .bind(procedure)
        .fetch_one(&mut *tx)
        .await
        .context("counting drafts")?;
        if this == 0 && held >= limit {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "insert into drafts (person_id, procedure_code, answers, updated_at) values ($1, $2, $3, $4) \
             on conflict (person_id, procedure_code) do update set answers = excluded.answers, updated_at = excluded.updated_at",
        )
        .bind(person_id)
        .bind(procedure)
        .bind(answers)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .context("saving a draft")?;
        tx.commit().await?;
        Ok(true)
    }

    /// Discards a person's draft of a procedure (there may be none).
    pub async fn delete_draft(
        &self,
        person_id: &str,
        procedure: &str,
    ) -> crate::store::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        Store::delete_draft_in(&mut tx, person_id, procedure).await?;
        tx.commit().await
    }

    /// Deletes a person's draft of a procedure, in the caller's transaction.
    pub async fn delete_draft_in(
        tx: &mut crate::store::WriteTx,
        person_id: &str,
        procedure: &str,
    ) -> anyhow::Result<()> {
        sqlx::query("delete from drafts where person_id = $1 and procedure_code = $2")
            .bind(person_id)
            .bind(procedure)
            .execute(&mut **tx)
            .await
            .context("deleting a draft")?;
        Ok(())
    }
}

/// The person's draft of a procedure (404 when there is none). Their own only.
#[utoipa::path(
    get, path = "/me/drafts/{code}", tag = "warehouse",
    params(("code" = String, Path, description = "The procedure's code")),
    responses((status = 200, description = "The draft", body = Draft), (status = 404, description = "No draft", body = motcua_shared::ErrorBody))
)]
pub async fn get_draft(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(code): AppPath<String>,
) -> Result<AppJson<Draft>, ApiError> {
    state
        .store
        .draft(&user.person.id, &code)
        .await?
        .map(AppJson)
        .ok_or_else(|| ApiError::NotFound)
}

/// Saves the person's draft of a procedure (any answers so far; checked when filed). CSRF token
/// required.
#[utoipa::path(
    put, path = "/me/drafts/{code}", tag = "warehouse",
    params(("code" = String, Path, description = "The procedure's code")),
    request_body = Draft,
    responses(
        (status = 204, description = "Saved"),
        (status = 404, description = "No such procedure", body = motcua_shared::ErrorBody),
        (status = 413, description = "A new draft beyond the person's limit (draft_quota)", body = motcua_shared::ErrorBody),
    )
)]
pub async fn save_draft(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(code): AppPath<String>,
    AppJson(draft): AppJson<Draft>,
) -> Result<StatusCode, ApiError> {
    let answers = serde_json::to_string(&draft.answers).context("encoding a draft")?;
    if answers.len() > MAX_DRAFT_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    if state.store.procedure(&code).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    let limit = state.config.drafts_per_person;
    if !state
        .store
        .save_draft(&user.person.id, &code, &answers, i64::from(limit))
        .await?
    {
        return Err(ApiError::StorageFull(crate::error::Problem {
            code: motcua_shared::ErrorCode::DraftQuota,
            params: vec![("limit", limit.to_string())],
        }));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Discards the person's draft of a procedure. CSRF token required.
#[utoipa::path(
    delete, path = "/me/drafts/{code}", tag = "warehouse",
    params(("code" = String, Path, description = "The procedure's code")),
    responses((status = 204, description = "Discarded (or there was none)"))
)]
pub async fn delete_draft(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(code): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_draft(&user.person.id, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}
