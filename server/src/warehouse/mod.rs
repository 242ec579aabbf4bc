//! The electronic data warehouse: a person's uploaded documents and issued results, with
//! provenance. Uploads are checked by their content (PDF, JPEG, PNG only; the file name and the
//! declared type are ignored), limited in size, stored content-addressed (`blobs.rs`) and recorded
//! only once fully written, so an interrupted upload leaves nothing attached. Drafts of filings
//! live here too: the person's own work in progress.

use motcua_shared::ErrorCode;
pub mod blobs;
pub mod drafts;

use anyhow::Context;
use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use motcua_shared::warehouse::{Warehouse, WarehouseItem};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    error::{ApiError, AppJson, AppPath, AppQuery},
    http::page::{Page, PageQuery},
    identity::AuthUser,
    store::{Store, now_ms},
};

pub fn routes(upload_limit_bytes: usize) -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(upload, list))
        .layer(DefaultBodyLimit::max(upload_limit_bytes));
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(content))
        .routes(routes!(
            drafts::get_draft,
            drafts::save_draft,
            drafts::delete_draft
        ))
}

pub use motcua_shared::warehouse::sniff;

fn valid_code(code: &str) -> bool {
    (1..=60).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// What an upload is.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The required-document code it is for, such as `portrait-photo`.
    document: String,
    /// A name the person recognises (the file's name will do).
    title: Option<String>,
}

type ItemRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    i64,
);

const ITEM_COLUMNS: &str = "id, provenance, document_code, title, content_sha256, content_type, size_bytes, issuer, dossier_id, created_at";

fn item(row: ItemRow) -> (WarehouseItem, String) {
    let (id, provenance, document_code, title, sha, content_type, size, issuer, dossier, at) = row;
    (
        WarehouseItem {
            id,
            provenance,
            document_code,
            title,
            content_type,
            size_bytes: size,
            issuer,
            dossier_id: dossier,
            created_at: at,
        },
        sha,
    )
}

/// A new warehouse item.
pub struct NewItem<'a> {
    pub person_id: &'a str,
    pub provenance: &'a str,
    pub document_code: &'a str,
    pub title: &'a str,
    pub sha256: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub issuer: Option<&'a str>,
    pub dossier_id: Option<&'a str>,
}

/// Records an item whose content is already stored; in the caller's transaction.
pub async fn insert_item(
    tx: &mut crate::store::WriteTx,
    new: &NewItem<'_>,
) -> anyhow::Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "insert into warehouse_items (id, person_id, provenance, document_code, title, content_sha256, \
           content_type, size_bytes, issuer, dossier_id, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(new.person_id)
    .bind(new.provenance)
    .bind(new.document_code)
    .bind(new.title)
    .bind(new.sha256)
    .bind(new.content_type)
    .bind(new.size_bytes)
    .bind(new.issuer)
    .bind(new.dossier_id)
    .bind(now_ms())
    .execute(&mut **tx)
    .await
    .context("recording a warehouse item")?;
    Ok(id)
}

impl Store {
    /// What `person_id` uploaded: how many since `since` (Unix ms), and the bytes of all the
    /// uploads they keep.
    pub async fn upload_usage(
        &self,
        person_id: &str,
        since: i64,
    ) -> crate::store::StoreResult<(i64, i64)> {
        let row: (i64, i64) = sqlx::query_as(
            "select cast(count(case when created_at >= $2 then 1 end) as bigint), \
                    cast(coalesce(sum(size_bytes), 0) as bigint) \
             from warehouse_items where person_id = $1 and provenance = 'upload'",
        )
        .bind(person_id)
        .bind(since)
        .fetch_one(self.pool())
        .await
        .context("reading a person's uploads")?;
        Ok(row)
    }

    /// Records an item whose content is already stored (an upload, a seeded document).
    pub async fn add_item(&self, new: &NewItem<'_>) -> crate::store::StoreResult<String> {
        let mut tx = self.begin_write().await?;
        let id = insert_item(&mut tx, new).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A person's warehouse, newest first.
    pub async fn warehouse_of(&self, person_id: &str) -> anyhow::Result<Vec<WarehouseItem>> {
        let rows: Vec<ItemRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {ITEM_COLUMNS} from warehouse_items where person_id = $1 order by created_at desc, id"
        )))
        .bind(person_id)
        .fetch_all(self.pool())
        .await
        .context("reading a warehouse")?;
        Ok(rows.into_iter().map(|r| item(r).0).collect())
    }

    /// A page of a person's warehouse, newest first.
    pub async fn warehouse_page(
        &self,
        person_id: &str,
        document: &str,
        page: &Page,
    ) -> anyhow::Result<Vec<WarehouseItem>> {
        let (key, id) = page.below();
        let rows: Vec<ItemRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {ITEM_COLUMNS} from warehouse_items where person_id = $1 \
               and (created_at < $2 or (created_at = $2 and id > $3)) \
               and ($5 = '' or document_code = $5) \
             order by created_at desc, id limit $4"
        )))
        .bind(person_id)
        .bind(key)
        .bind(id)
        .bind(page.fetch())
        .bind(document)
        .fetch_all(self.pool())
        .await
        .context("reading a warehouse")?;
        Ok(rows.into_iter().map(|r| item(r).0).collect())
    }

    /// One item of a person's warehouse, with its content's digest.
    pub async fn warehouse_item(
        &self,
        person_id: &str,
        id: &str,
    ) -> anyhow::Result<Option<(WarehouseItem, String)>> {
        let row: Option<ItemRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {ITEM_COLUMNS} from warehouse_items where person_id = $1 and id = $2"
        )))
        .bind(person_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .context("reading a warehouse item")?;
        Ok(row.map(item))
    }
}

/// Uploads a document into the person's warehouse. The body is the file itself; its type is
/// found from its content (PDF, JPEG or PNG; anything else is 415), its size is limited (413).
/// CSRF token required.
#[utoipa::path(
    post, path = "/me/warehouse", tag = "warehouse",
    params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file"),
    responses(
        (status = 201, description = "Stored", body = WarehouseItem),
        (status = 413, description = "Too large", body = motcua_shared::ErrorBody),
        (status = 415, description = "Not a PDF, JPEG or PNG", body = motcua_shared::ErrorBody),
    )
)]
async fn upload(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(query): AppQuery<UploadQuery>,
    body: Bytes,
) -> Result<(StatusCode, AppJson<WarehouseItem>), ApiError> {
    if !valid_code(&query.document) {
        return Err(ApiError::validation(ErrorCode::InvalidDocumentCode));
    }
    let title = query
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(&query.document);
    if title.chars().count() > 200 {
        return Err(ApiError::validation(ErrorCode::TitleTooLong));
    }
    if body.is_empty() {
        return Err(ApiError::validation(ErrorCode::EmptyFile));
    }
    let content_type = sniff(&body).ok_or_else(|| ApiError::UnsupportedMediaType)?;
    within_quota(&state, &user.person.id, body.len()).await?;
    // The content is fully on disk before its row exists.
    let sha = state.blobs.put(&body).await?;
    let size = i64::try_from(body.len()).unwrap_or(i64::MAX);
    let id = state
        .store
        .add_item(&NewItem {
            person_id: &user.person.id,
            provenance: "upload",
            document_code: &query.document,
            title,
            sha256: &sha,
            content_type,
            size_bytes: size,
            issuer: None,
            dossier_id: None,
        })
        .await?;
    let (item, _) = state
        .store
        .warehouse_item(&user.person.id, &id)
        .await?
        .context("an upload just recorded is missing")?;
    Ok((StatusCode::CREATED, AppJson(item)))
}

/// The person's warehouse: uploads and issued results, newest first. Their own only.
/// Which documents to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WarehouseQuery {
    /// Only documents of this kind (`portrait-photo`, `birth-certificate`, …).
    #[param(max_length = 64)]
    document: Option<String>,
}

#[utoipa::path(get, path = "/me/warehouse", tag = "warehouse", params(PageQuery, WarehouseQuery), responses((status = 200, description = "Newest first", body = Warehouse)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(asked): AppQuery<PageQuery>,
    AppQuery(only): AppQuery<WarehouseQuery>,
) -> Result<AppJson<Warehouse>, ApiError> {
    let page = asked.page()?;
    let document = only.document.as_deref().unwrap_or("");
    let rows = state
        .store
        .warehouse_page(&user.person.id, document, &page)
        .await?;
    let (items, next) = page.finish(rows, |i| (i.created_at, &i.id));
    Ok(AppJson(Warehouse { items, next }))
}

/// The content of one of the person's documents. Their own only (another's is 404).
#[utoipa::path(
    get, path = "/me/warehouse/{id}/content", tag = "warehouse",
    params(("id" = String, Path, description = "The item's id")),
    responses((status = 200, description = "The file, with the type found at upload"), (status = 404, description = "No such item of yours", body = motcua_shared::ErrorBody))
)]
async fn content(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<Response, ApiError> {
    let (item, sha) = state
        .store
        .warehouse_item(&user.person.id, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound)?;
    serve(&state, &item, &sha).await
}

/// Refuses an upload of `size` bytes past the person's quotas: documents a day (429
/// `upload_quota`) and bytes kept (413 `storage_quota`). Checked before the content is stored;
/// two uploads racing at the limit may both pass, which bounds the excess to one request each.
async fn within_quota(state: &AppState, person_id: &str, size: usize) -> Result<(), ApiError> {
    const DAY_MS: i64 = 24 * 3_600_000;
    let (today, held) = state
        .store
        .upload_usage(person_id, now_ms() - DAY_MS)
        .await?;
    let per_day = state.config.upload_quota_per_day;
    if today >= i64::from(per_day) {
        return Err(ApiError::QuotaUsed {
            problem: crate::error::Problem {
                code: ErrorCode::UploadQuota,
                params: vec![("limit", per_day.to_string())],
            },
            retry_after_secs: 3600,
        });
    }
    let bytes = state.config.upload_quota_bytes;
    if u64::try_from(held).unwrap_or(0) + size as u64 > bytes {
        return Err(ApiError::StorageFull(crate::error::Problem {
            code: ErrorCode::StorageQuota,
            params: vec![("limit", (bytes / (1024 * 1024)).to_string())],
        }));
    }
    Ok(())
}

/// A stored document as a download: its recorded type, no sniffing by the browser, private, an
/// attachment (never rendered as this site's page), and, should a browser render it anyway, in
/// a sandbox with no script, no requests and no access to this origin.
const DOCUMENT_CSP: &str =
    "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'";
pub async fn serve(
    state: &AppState,
    item: &WarehouseItem,
    sha: &str,
) -> Result<Response, ApiError> {
    let bytes = state.blobs.get(sha).await?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&item.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    let extension = match item.content_type.as_str() {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        _ => "bin",
    };
    // The name is ours (the item's id), never the uploader's: nothing to inject.
    let disposition = format!("attachment; filename=\"{}.{extension}\"", item.id);
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCUMENT_CSP),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn only_pdf_jpeg_and_png_are_recognised_from_their_content() {
        assert_eq!(
            sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"),
            Some("application/pdf")
        );
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F']),
            Some("image/jpeg")
        );
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff(b"GIF89a\x01\x00"), None);
        assert_eq!(sniff(b"MZ\x90\x00 an executable named photo.jpg"), None);
        assert_eq!(sniff(b"<html>not a pdf</html>"), None);
    }
}
