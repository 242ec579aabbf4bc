//! The one JSON error body every `/api` failure uses: `{"error": CODE, "message": TEXT}`.

use serde::{Deserialize, Serialize};

/// Body of every API error response. `error` is a stable machine code (snake_case), `message`
/// is a human sentence that says what to do; it never carries internal failure details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable machine-readable code, for example `not_found` or `invalid_json`.
    pub error: String,
    /// What went wrong and how to fix it, for people.
    pub message: String,
    /// For form answers: what is wrong with each field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<crate::eform::FieldError>,
}

impl ErrorBody {
    pub fn new(error: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            message: message.into(),
            fields: Vec::new(),
        }
    }
}
