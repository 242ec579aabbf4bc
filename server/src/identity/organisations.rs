//! Business representatives: the organisations (by tax code) a person may act for, and which one
//! the session currently acts for.

use anyhow::Context;
use axum::extract::State;
use motcua_shared::ErrorCode;
use motcua_shared::{
    Cccd, TaxCode,
    identity::{ActingFor, Organisation},
};

use super::AuthUser;
use crate::{
    AppState,
    error::{ApiError, AppJson},
    store::{Store, now_ms},
};

/// Chooses whom this session acts for: an organisation the person represents, or themself
/// (`null`). Signed-in callers; CSRF token required.
#[utoipa::path(
    put, path = "/me/acting-for", tag = "identity",
    request_body = ActingFor,
    responses(
        (status = 200, description = "Now acting for this organisation (or yourself)", body = ActingFor),
        (status = 403, description = "You do not represent this organisation", body = motcua_shared::ErrorBody),
        (status = 422, description = "Not a tax code", body = motcua_shared::ErrorBody),
    )
)]
pub async fn set_acting_for(
    State(state): State<AppState>,
    user: AuthUser,
    AppJson(body): AppJson<ActingFor>,
) -> Result<AppJson<ActingFor>, ApiError> {
    let tax_code = match body.tax_code.as_deref() {
        None => None,
        Some(raw) => {
            let tax_code =
                TaxCode::parse(raw).map_err(|_| ApiError::validation(ErrorCode::InvalidTaxCode))?;
            let represents = state
                .store
                .organisations_of(&user.person.cccd)
                .await?
                .iter()
                .any(|o| o.tax_code == tax_code.as_str());
            if !represents {
                return Err(ApiError::forbidden(ErrorCode::NotARepresentative));
            }
            Some(tax_code.as_str().to_owned())
        }
    };
    state
        .store
        .set_acting_for(
            &user.session.secret_hash,
            &user.person.id,
            tax_code.as_deref(),
        )
        .await?;
    Ok(AppJson(ActingFor { tax_code }))
}

impl Store {
    pub async fn upsert_organisation(
        &self,
        tax_code: &TaxCode,
        name: &str,
        address: &str,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "insert into organisations (tax_code, name, address, updated_at) values ($1, $2, $3, $4) \
             on conflict (tax_code) do update set name = excluded.name, address = excluded.address, \
               updated_at = excluded.updated_at",
        )
        .bind(tax_code.as_str())
        .bind(name)
        .bind(address)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .context("saving an organisation")?;
        Ok(())
    }

    pub async fn add_representative(
        &self,
        tax_code: &TaxCode,
        cccd: &Cccd,
        title: &str,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "insert into representatives (tax_code, cccd, title, since) values ($1, $2, $3, $4) \
             on conflict (tax_code, cccd) do update set title = excluded.title",
        )
        .bind(tax_code.as_str())
        .bind(cccd.as_str())
        .bind(title)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .context("saving a representative")?;
        Ok(())
    }

    /// An organisation's registered name.
    pub async fn organisation_name(&self, tax_code: &str) -> anyhow::Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("select name from organisations where tax_code = $1")
                .bind(tax_code)
                .fetch_optional(self.pool())
                .await
                .context("reading an organisation")?;
        Ok(row.map(|(name,)| name))
    }

    /// The organisations the person may act for, by name.
    pub async fn organisations_of(&self, cccd: &Cccd) -> anyhow::Result<Vec<Organisation>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "select o.tax_code, o.name, r.title from representatives r \
             join organisations o on o.tax_code = r.tax_code where r.cccd = $1 order by o.name, o.tax_code",
        )
        .bind(cccd.as_str())
        .fetch_all(self.pool())
        .await
        .context("reading representations")?;
        Ok(rows
            .into_iter()
            .map(|(tax_code, name, title)| Organisation {
                tax_code,
                name,
                title,
            })
            .collect())
    }

    pub async fn set_acting_for(
        &self,
        session_hash: &str,
        person_id: &str,
        tax_code: Option<&str>,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("update sessions set acting_for = $1 where secret_hash = $2")
            .bind(tax_code)
            .bind(session_hash)
            .execute(&mut *tx)
            .await
            .context("switching whom a session acts for")?;
        super::session::audit_identity(
            &mut tx,
            person_id,
            "identity.acting_for",
            serde_json::json!({ "organisation": tax_code }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
