//! The electronic data warehouse as the API shows it: a person's documents with provenance.

use serde::{Deserialize, Serialize};

use crate::Localized;

/// The document types a person may upload, found from the first bytes (never from the name or
/// the declared type): PDF, JPEG or PNG, by their signatures. Only these three matchers of
/// `infer` are linked (its whole table would add 8 KB to the citizen's bundle).
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if infer::archive::is_pdf(bytes) {
        Some("application/pdf")
    } else if infer::image::is_jpeg(bytes) {
        Some("image/jpeg")
    } else if infer::image::is_png(bytes) {
        Some("image/png")
    } else {
        None
    }
}

/// One document of a person's warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WarehouseItem {
    pub id: String,
    /// `upload` (by the person) or `issued` (a result an agency issued).
    pub provenance: String,
    /// What it is, as procedures name required documents (`portrait-photo`, `birth-certificate`).
    pub document_code: String,
    pub title: String,
    /// Found from the content: `application/pdf`, `image/jpeg`, `image/png`, `application/json`.
    pub content_type: String,
    pub size_bytes: i64,
    /// The issuing agency, for issued results.
    pub issuer: Option<String>,
    /// The dossier that produced it, for issued results.
    pub dossier_id: Option<String>,
    pub created_at: i64,
}

/// The body of `GET /api/v1/me/warehouse`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Warehouse {
    pub items: Vec<WarehouseItem>,
    /// The cursor of the next page (`?after=`); absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A result a procedure issues into the applicant's warehouse when its dossier is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedResult {
    /// The document code it satisfies later (`birth-certificate`).
    pub code: String,
    pub name: Localized,
}

/// The body of `PUT /api/v1/me/drafts/{code}` and of its `GET`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Draft {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// When it was last saved (on a `GET`).
    #[serde(default)]
    pub updated_at: i64,
}
