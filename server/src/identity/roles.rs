//! Roles beyond `citizen`: granted by an operator (`motcua-server grant-role`) or, in the demo,
//! by the sandbox seed; never taken from a claim the person controls.

use anyhow::Context;
use motcua_shared::ErrorCode;
use motcua_shared::{Cccd, identity::Role, procedure::Level};
use serde::{Deserialize, Serialize};

use super::AuthUser;
use crate::{
    error::ApiError,
    store::{Store, now_ms},
};

/// Where an officer works: the agency and the level whose dossiers they handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Assignment {
    pub agency_code: String,
    pub level: Level,
    /// The province, district or commune (at `level`) whose dossiers they handle.
    pub unit_code: String,
    /// Leads the unit's desk: overdue dossiers are escalated to them.
    #[serde(default)]
    pub lead: bool,
}

impl AuthUser {
    /// Refuses callers without `role` (403 `forbidden_role`).
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(ErrorCode::ForbiddenRole))
        }
    }
}

impl Store {
    /// Grants `role` to the person with `cccd` (who may not have signed in yet). For officers,
    /// the agency and level are required and replace any earlier assignment.
    pub async fn grant_role(
        &self,
        cccd: &Cccd,
        role: Role,
        assignment: Option<&Assignment>,
        audited_by: Option<&str>,
    ) -> anyhow::Result<()> {
        let name = match role {
            Role::Officer => "officer",
            Role::Admin => "admin",
            Role::Citizen | Role::Business => {
                anyhow::bail!("citizen and business are not granted roles")
            }
        };
        anyhow::ensure!(
            (role == Role::Officer) == assignment.is_some(),
            "an officer needs an agency and a level; an admin takes none"
        );
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "insert into role_grants (cccd, role, agency_code, level, unit_code, lead, granted_at) \
             values ($1, $2, $3, $4, $5, $6, $7) \
             on conflict (cccd, role) do update set agency_code = excluded.agency_code, level = excluded.level, \
               unit_code = excluded.unit_code, lead = excluded.lead, granted_at = excluded.granted_at",
        )
        .bind(cccd.as_str())
        .bind(name)
        .bind(assignment.map(|a| a.agency_code.as_str()))
        .bind(assignment.map(|a| a.level.as_str()))
        .bind(assignment.map(|a| a.unit_code.as_str()))
        .bind(i64::from(assignment.is_some_and(|a| a.lead)))
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .context("granting a role")?;
        if let Some(actor) = audited_by {
            let subject = format!("cccd:{}", cccd.as_str());
            let details = serde_json::json!({ "role": name, "assignment": assignment });
            crate::audit::append(
                &mut tx,
                &crate::audit::Event {
                    actor,
                    action: "identity.role_granted",
                    subject: &subject,
                    details,
                },
            )
            .await?;
        }
        tx.commit().await.context("committing a role grant")?;
        Ok(())
    }

    /// Withdraws `role`, recorded in the audit log as done by `actor`; false when the person did not have it.
    pub async fn revoke_role(&self, cccd: &Cccd, role: &str, actor: &str) -> anyhow::Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("delete from role_grants where cccd = $1 and role = $2")
            .bind(cccd.as_str())
            .bind(role)
            .execute(&mut *tx)
            .await
            .context("revoking a role")?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let subject = format!("cccd:{}", cccd.as_str());
        let details = serde_json::json!({ "role": role });
        crate::audit::append(
            &mut tx,
            &crate::audit::Event {
                actor,
                action: "identity.role_revoked",
                subject: &subject,
                details,
            },
        )
        .await?;
        tx.commit().await.context("committing a role withdrawal")?;
        Ok(true)
    }

    /// The officer's assignment, if they are one.
    pub async fn assignment_of(&self, cccd: &Cccd) -> anyhow::Result<Option<Assignment>> {
        type Grant = (Option<String>, Option<String>, Option<String>, i64);
        let row: Option<Grant> = sqlx::query_as(
            "select agency_code, level, unit_code, lead from role_grants where cccd = $1 and role = 'officer'",
        )
        .bind(cccd.as_str())
        .fetch_optional(self.pool())
        .await
        .context("reading an assignment")?;
        Ok(row.and_then(|(agency, level, unit, lead)| {
            Some(Assignment {
                agency_code: agency?,
                level: Level::parse(&level?)?,
                unit_code: unit?,
                lead: lead != 0,
            })
        }))
    }
}
