//! The API client: one generic request function that decodes either the expected body or the
//! shared error body. Paths are relative to the page's origin: no API root is baked in.

use gloo_net::http::Request;
use motcua_shared::{ErrorBody, procedure::ProcedureList};
use serde::de::DeserializeOwned;

/// Why a request gave no data.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiFailure {
    /// No answer: offline, or the server is unreachable.
    Network,
    /// The server answered with its JSON error.
    Server { status: u16, body: ErrorBody },
    /// The answer was not what this version of the app understands.
    Unexpected,
}

/// GET `path` with query `params`, decoding `T`.
pub async fn get<T: DeserializeOwned>(
    path: &str,
    params: &[(&str, &str)],
) -> Result<T, ApiFailure> {
    let response = Request::get(path)
        .query(params.iter().copied())
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|_| ApiFailure::Network)?;
    if response.ok() {
        return response
            .json::<T>()
            .await
            .map_err(|_| ApiFailure::Unexpected);
    }
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(ApiFailure::Server { status, body }),
        Err(_) => Err(ApiFailure::Unexpected),
    }
}

/// The catalogue narrowed by search text and level (empty strings mean no filter).
pub async fn procedures(text: String, level: String) -> Result<ProcedureList, ApiFailure> {
    let mut params = Vec::new();
    if !text.trim().is_empty() {
        params.push(("q", text.trim()));
    }
    if !level.is_empty() {
        params.push(("level", level.as_str()));
    }
    get("/api/v1/procedures", &params).await
}
