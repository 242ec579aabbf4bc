//! The body of `GET /api/health`.

use serde::{Deserialize, Serialize};

/// Liveness and readiness of one server instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok` when the database answers.
    pub status: String,
    /// The storage engine in use: `sqlite` or `postgres`.
    pub database: String,
    /// The server's version.
    pub version: String,
}
