//! The wallet's storage: credentials as issued (their QR and claims), their place in a status
//! list, and changes of their status, each with its audit entry and domain event.

use std::collections::HashMap;

use anyhow::Context;
use motcua_shared::{
    Localized,
    credential::{
        self, Credential, CredentialKind,
        status::{LIST_SIZE, Status},
    },
    wallet_api::{Issuer, WalletCredential},
};

use super::{issue::Draft, keys::IssuerKey};
use crate::{
    events::{self, CredentialChange, CredentialEvent, DomainEvent},
    http::page::Page,
    store::{Store, StoreResult, WriteTx, now_ms},
};

/// A list is closed to new credentials once half full, so its indices stay hard to guess.
const FILL_LIMIT: i64 = (LIST_SIZE / 2) as i64;

fn status_text(status: Status) -> &'static str {
    match status {
        Status::Valid => "valid",
        Status::Revoked => "revoked",
        Status::Suspended => "suspended",
        Status::Replaced => "replaced",
    }
}

fn status_of(text: &str) -> Status {
    match text {
        "revoked" => Status::Revoked,
        "suspended" => Status::Suspended,
        "replaced" => Status::Replaced,
        _ => Status::Valid,
    }
}

fn kind_text(kind: CredentialKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The address of status list `id`, as the QR carries it: short, because every byte counts.
pub fn status_uri(public_url: &str, list: i64) -> String {
    format!("{}/s/{list}", public_url.trim_end_matches('/'))
}

/// A random free index in the open status list (a new list when none is open), inside `tx`.
async fn allocate_index(tx: &mut WriteTx) -> StoreResult<(i64, i64)> {
    let open: Option<(i64,)> =
        sqlx::query_as("select id from status_lists where allocated < $1 order by id desc limit 1")
            .bind(FILL_LIMIT)
            .fetch_optional(&mut **tx)
            .await
            .context("finding the open status list")?;
    let list = match open {
        Some((id,)) => id,
        None => {
            let (next,): (i64,) =
                sqlx::query_as("select coalesce(max(id), 0) + 1 from status_lists")
                    .fetch_one(&mut **tx)
                    .await
                    .context("numbering a status list")?;
            sqlx::query(
                "insert into status_lists (id, size, allocated, created_at) values ($1, $2, 0, $3)",
            )
            .bind(next)
            .bind(LIST_SIZE as i64)
            .bind(now_ms())
            .execute(&mut **tx)
            .await
            .context("opening a status list")?;
            next
        }
    };
    for _ in 0..64 {
        let mut raw = [0u8; 8];
        getrandom::fill(&mut raw).context("the random source")?;
        let idx = (u64::from_le_bytes(raw) % LIST_SIZE) as i64;
        let taken: Option<(i64,)> = sqlx::query_as(
            "select status_idx from credentials where status_list = $1 and status_idx = $2",
        )
        .bind(list)
        .bind(idx)
        .fetch_optional(&mut **tx)
        .await
        .context("checking a status index")?;
        if taken.is_none() {
            sqlx::query("update status_lists set allocated = allocated + 1 where id = $1")
                .bind(list)
                .execute(&mut **tx)
                .await
                .context("counting a status index")?;
            return Ok((list, idx));
        }
    }
    Err(anyhow::anyhow!("no free status index after 64 draws").into())
}

/// Signs `draft` for `person_id` with `key` and records it inside `tx`; a licence replaces the
/// holder's earlier licence (marked `replaced` in its status list). Returns the credential.
pub async fn issue_in(
    tx: &mut WriteTx,
    key: &IssuerKey,
    public_url: &str,
    person_id: &str,
    dossier_id: Option<&str>,
    draft: &Draft,
) -> StoreResult<Credential> {
    issue_derived_in(tx, key, public_url, person_id, dossier_id, draft, None).await
}

/// As [`issue_in`], for a credential made from another (`derived_from`), whose status it follows.
pub async fn issue_derived_in(
    tx: &mut WriteTx,
    key: &IssuerKey,
    public_url: &str,
    person_id: &str,
    dossier_id: Option<&str>,
    draft: &Draft,
    derived_from: Option<&str>,
) -> StoreResult<Credential> {
    let (list, idx) = allocate_index(tx).await?;
    let mut id = [0u8; 6];
    getrandom::fill(&mut id).context("the random source")?;
    let signed = Credential {
        kind: draft.kind,
        id: credential::to_hex(&id),
        issuer: key.agency.clone(),
        issued_on: draft.issued_on.clone(),
        valid_until: draft.valid_until.clone(),
        status: Some(credential::StatusRef {
            idx: idx as u64,
            uri: status_uri(public_url, list),
        }),
        fields: draft.fields.clone(),
    };
    let kid = credential::from_hex(&key.kid).unwrap_or_default();
    let qr = credential::issue(&signed, &kid, &key.key);
    let now = now_ms();
    if draft.kind == CredentialKind::DrivingLicence && derived_from.is_none() {
        let replaced: Vec<(String,)> = sqlx::query_as(
            "select id from credentials where person_id = $1 and kind = $2 and status = 'valid'",
        )
        .bind(person_id)
        .bind(kind_text(draft.kind))
        .fetch_all(&mut **tx)
        .await
        .context("finding a replaced credential")?;
        let derived: Vec<(String,)> = sqlx::query_as(
            "select d.id from credentials d join credentials l on l.id = d.derived_from \
             where l.person_id = $1 and l.kind = $2 and l.status = 'valid'",
        )
        .bind(person_id)
        .bind(kind_text(draft.kind))
        .fetch_all(&mut **tx)
        .await
        .context("finding what replaced credentials made")?;
        for (old,) in replaced.into_iter().chain(derived) {
            change_status_in(
                tx,
                &old,
                Status::Replaced,
                Some(&format!(
                    "Đã cấp bản mới ngày {}",
                    motcua_shared::time::format_vn_date(&signed.issued_on)
                )),
                "system:wallet",
            )
            .await?;
        }
    }
    sqlx::query(
        "insert into credentials (id, person_id, kind, title_vi, title_en, issuer, kid, issued_on, valid_until, \
           status_list, status_idx, status, qr, claims, dossier_id, created_at, updated_at, derived_from) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'valid', $12, $13, $14, $15, $15, $16)",
    )
    .bind(&signed.id)
    .bind(person_id)
    .bind(kind_text(draft.kind))
    .bind(&draft.title.vi)
    .bind(&draft.title.en)
    .bind(&key.agency)
    .bind(&key.kid)
    .bind(&signed.issued_on)
    .bind(signed.valid_until.as_deref())
    .bind(list)
    .bind(idx)
    .bind(&qr)
    .bind(serde_json::to_string(&signed).context("encoding claims")?)
    .bind(dossier_id)
    .bind(now)
    .bind(derived_from)
    .execute(&mut **tx)
    .await
    .context("recording a credential")?;
    let subject = format!("credential:{}", signed.id);
    crate::audit::append(
        tx,
        &crate::audit::Event {
            actor: &format!("agency:{}", key.agency),
            action: "credential.issued",
            subject: &subject,
            details: serde_json::json!({ "kind": kind_text(draft.kind), "kid": key.kid, "dossier": dossier_id }),
        },
    )
    .await?;
    events::emit(
        tx,
        &DomainEvent::Credential(CredentialEvent {
            credential_id: signed.id.clone(),
            person_id: person_id.to_owned(),
            change: CredentialChange::Issued,
            reason: None,
            actor: format!("agency:{}", key.agency),
        }),
    )
    .await?;
    Ok(signed)
}

/// Sets a credential's status inside `tx`, with its audit entry and event. False when it has
/// no other status to take (already so, or unknown).
/// A licence credential as the register sync sees it.
#[derive(Debug, Clone)]
pub struct LicenceCredential {
    pub id: String,
    pub cccd: String,
    pub number: String,
    pub status: Status,
    pub status_by: Option<String>,
}

async fn change_status_in(
    tx: &mut WriteTx,
    id: &str,
    status: Status,
    reason: Option<&str>,
    actor: &str,
) -> StoreResult<bool> {
    let row: Option<(String, String)> =
        sqlx::query_as("select person_id, status from credentials where id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await
            .context("reading a credential")?;
    let Some((person_id, now_status)) = row else {
        return Ok(false);
    };
    if now_status == status_text(status) || now_status == "replaced" {
        return Ok(false);
    }
    sqlx::query(
        "update credentials set status = $1, status_reason = $2, status_by = $3, updated_at = $4 \
         where id = $5",
    )
    .bind(status_text(status))
    .bind(reason)
    .bind(actor)
    .bind(now_ms())
    .bind(id)
    .execute(&mut **tx)
    .await
    .context("changing a credential's status")?;
    let change = match status {
        Status::Valid => CredentialChange::Reinstated,
        Status::Revoked => CredentialChange::Revoked,
        Status::Suspended => CredentialChange::Suspended,
        Status::Replaced => CredentialChange::Replaced,
    };
    crate::audit::append(
        tx,
        &crate::audit::Event {
            actor,
            action: &format!("credential.{}", status_text(status)),
            subject: &format!("credential:{id}"),
            details: serde_json::json!({ "from": now_status, "reason": reason }),
        },
    )
    .await?;
    events::emit(
        tx,
        &DomainEvent::Credential(CredentialEvent {
            credential_id: id.to_owned(),
            person_id,
            change,
            reason: reason.map(str::to_owned),
            actor: actor.to_owned(),
        }),
    )
    .await?;
    Ok(true)
}

/// A credential as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CredentialRow {
    pub id: String,
    pub person_id: String,
    pub kind: String,
    pub title_vi: String,
    pub title_en: String,
    pub issuer: String,
    pub issued_on: String,
    pub valid_until: Option<String>,
    pub status_list: i64,
    pub status_idx: i64,
    pub status: String,
    pub status_reason: Option<String>,
    pub qr: String,
    pub claims: String,
    pub dossier_id: Option<String>,
    pub created_at: i64,
}

const CREDENTIAL_COLUMNS: &str = "id, person_id, kind, title_vi, title_en, issuer, issued_on, valid_until, \
     status_list, status_idx, status, status_reason, qr, claims, dossier_id, created_at";

impl CredentialRow {
    pub fn status(&self) -> Status {
        status_of(&self.status)
    }

    pub fn into_view(self, names: &HashMap<String, Localized>) -> anyhow::Result<WalletCredential> {
        let claims: Credential =
            serde_json::from_str(&self.claims).context("decoding stored claims")?;
        Ok(WalletCredential {
            status: status_of(&self.status),
            kind: claims.kind,
            issuer: Issuer {
                name: names.get(&self.issuer).cloned().unwrap_or(Localized {
                    vi: self.issuer.clone(),
                    en: self.issuer.clone(),
                }),
                code: self.issuer,
            },
            title: Localized {
                vi: self.title_vi,
                en: self.title_en,
            },
            issued_at: self.issued_on,
            expires_at: self.valid_until,
            status_reason: self.status_reason,
            claims,
            qr: self.qr,
            id: self.id,
            dossier_id: self.dossier_id,
        })
    }
}

impl Store {
    /// The purpose-minimised proof made from `licence`: the valid one already made, or a new
    /// one signed by `key`.
    pub async fn licence_proof(
        &self,
        key: &IssuerKey,
        public_url: &str,
        person_id: &str,
        licence: &str,
        draft: &Draft,
    ) -> StoreResult<String> {
        let mut tx = self.begin_write().await?;
        let existing: Option<(String,)> = sqlx::query_as(
            "select id from credentials where derived_from = $1 and status = 'valid'",
        )
        .bind(licence)
        .fetch_optional(&mut *tx)
        .await
        .context("finding a licence proof")?;
        if let Some((id,)) = existing {
            return Ok(id);
        }
        let made = issue_derived_in(
            &mut tx,
            key,
            public_url,
            person_id,
            None,
            draft,
            Some(licence),
        )
        .await?;
        tx.commit().await?;
        Ok(made.id)
    }

    /// Issues credentials outside any other change (what a register holds, on request).
    pub async fn issue_credentials(
        &self,
        key: &IssuerKey,
        public_url: &str,
        person_id: &str,
        drafts: &[Draft],
    ) -> StoreResult<Vec<Credential>> {
        let mut tx = self.begin_write().await?;
        let mut issued = Vec::new();
        for draft in drafts {
            issued.push(issue_in(&mut tx, key, public_url, person_id, None, draft).await?);
        }
        tx.commit().await?;
        Ok(issued)
    }

    /// The person's credentials, newest first.
    pub async fn credentials_of(&self, person_id: &str) -> StoreResult<Vec<CredentialRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {CREDENTIAL_COLUMNS} from credentials where person_id = $1 order by created_at desc, id"
        )))
        .bind(person_id)
        .fetch_all(self.pool())
        .await
        .context("reading a wallet")?)
    }

    /// A page of the person's credentials, newest first.
    pub async fn credentials_page(
        &self,
        person_id: &str,
        page: &Page,
    ) -> StoreResult<Vec<CredentialRow>> {
        let (key, id) = page.below();
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {CREDENTIAL_COLUMNS} from credentials where person_id = $1 \
               and (created_at < $2 or (created_at = $2 and id > $3)) \
             order by created_at desc, id limit $4"
        )))
        .bind(person_id)
        .bind(key)
        .bind(id)
        .bind(page.fetch())
        .fetch_all(self.pool())
        .await
        .context("reading a wallet")?)
    }

    pub async fn credential(&self, id: &str) -> StoreResult<Option<CredentialRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {CREDENTIAL_COLUMNS} from credentials where id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .context("reading a credential")?)
    }

    /// Sets a credential's status (revoked, suspended, or valid again), with its audit entry and
    /// event. False when it already had that status (or was replaced).
    pub async fn set_credential_status(
        &self,
        id: &str,
        status: Status,
        reason: &str,
        actor: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = change_status_in(&mut tx, id, status, Some(reason), actor).await?;
        if changed {
            // What was made from it (a licence proof) follows it.
            let derived: Vec<(String,)> =
                sqlx::query_as("select id from credentials where derived_from = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await
                    .context("finding derived credentials")?;
            for (derived,) in derived {
                change_status_in(&mut tx, &derived, status, Some(reason), actor).await?;
            }
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// The driving-licence credentials a register may change, by holder: (credential id, the
    /// holder's CCCD, the licence number, its status, who set that status). Valid and suspended
    /// ones only; a proof made from a licence follows the licence.
    pub async fn licence_credentials(&self) -> StoreResult<Vec<LicenceCredential>> {
        let rows: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
            "select c.id, p.cccd, c.claims, c.status, c.status_by from credentials c \
             join people p on p.id = c.person_id \
             where c.kind = 'driving_licence' and c.status in ('valid', 'suspended') \
             and c.derived_from is null order by p.cccd, c.id",
        )
        .fetch_all(self.pool())
        .await
        .context("listing licence credentials")?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, cccd, claims, status, status_by)| {
                let claims: credential::Credential = serde_json::from_str(&claims).ok()?;
                let number = claims.fields.iter().find_map(|f| match f {
                    credential::Field::Number(n) => Some(n.clone()),
                    _ => None,
                })?;
                Some(LicenceCredential {
                    id,
                    cccd,
                    number,
                    status: status_of(&status),
                    status_by,
                })
            })
            .collect())
    }

    /// The numbers of the status lists in use.
    pub async fn status_list_ids(&self) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as("select id from status_lists order by id")
            .fetch_all(self.pool())
            .await
            .context("listing status lists")?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The entries of status list `list` that are not valid (a missing list is `None`).
    pub async fn status_list_entries(&self, list: i64) -> StoreResult<Option<Vec<(u64, Status)>>> {
        let exists: Option<(i64,)> = sqlx::query_as("select id from status_lists where id = $1")
            .bind(list)
            .fetch_optional(self.pool())
            .await
            .context("reading a status list")?;
        if exists.is_none() {
            return Ok(None);
        }
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "select status_idx, status from credentials where status_list = $1 and status <> 'valid'",
        )
        .bind(list)
        .fetch_all(self.pool())
        .await
        .context("reading a status list's entries")?;
        Ok(Some(
            rows.into_iter()
                .map(|(idx, s)| (u64::try_from(idx).unwrap_or(0), status_of(&s)))
                .collect(),
        ))
    }
}
