//! The one API error type. Each variant documents its HTTP status; the body is always
//! `{"error": CODE, "message": TEXT}` and a 5xx body never carries the cause.

use axum::{
    Json,
    extract::{FromRequest, FromRequestParts, Request, rejection::*},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use motcua_shared::ErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (syntax, missing parts).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: no valid session; sign in (again).
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// 403: signed in, but not allowed to do this (role, ownership, CSRF).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404: no such resource, or not one the caller may know of.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request conflicts with the current state.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 413: the body is larger than this endpoint accepts.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// 415: the body is not of a media type this endpoint reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed, but a value is not acceptable.
    #[error("{message}")]
    Validation { code: &'static str, message: String },
    /// 429: too many attempts; try again after `retry_after_secs`.
    #[error("Too many attempts. Wait {retry_after_secs} seconds and try again.")]
    RateLimited { retry_after_secs: u64 },
    /// 422: form answers that do not hold, each field with what to fix.
    #[error("{message}")]
    InvalidAnswers {
        code: &'static str,
        message: String,
        fields: Vec<motcua_shared::eform::FieldError>,
    },
    /// 503: a dependency (the database) does not answer.
    #[error("{0}")]
    Unavailable(String),
    /// 500: anything else. Logged with its cause; the client sees a fixed sentence.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation { .. } | ApiError::InvalidAnswers { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Validation { code, .. }
            | ApiError::Unauthorized { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::InvalidAnswers { code, .. } => code,
            ApiError::NotFound(_) => "not_found",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn validation(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Validation {
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Unauthorized {
            code,
            message: message.into(),
        }
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Forbidden {
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = match &self {
            // The cause is logged by the request-tracing middleware, never sent.
            ApiError::Internal(_) => {
                "Something went wrong on our side. Please try again later.".into()
            }
            other => other.to_string(),
        };
        let mut body = ErrorBody::new(self.code(), message);
        if let ApiError::InvalidAnswers { fields, .. } = &self {
            body.fields = fields.clone();
        }
        let mut response = (self.status(), Json(body)).into_response();
        if let ApiError::RateLimited { retry_after_secs } = &self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        if let ApiError::Internal(cause) = self {
            response
                .extensions_mut()
                .insert(InternalCause(format!("{cause:#}")));
        }
        response
    }
}

/// The cause of a 500, carried to the logging middleware in the response's extensions.
#[derive(Clone, Debug)]
pub struct InternalCause(pub String);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => ApiError::validation(
                "invalid_body",
                format!("The request body does not fit: {}", e.body_text()),
            ),
            JsonRejection::JsonSyntaxError(_) => {
                ApiError::bad_request("invalid_json", "The request body is not valid JSON.")
            }
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
                "Send the body as JSON with Content-Type: application/json.".into(),
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            other => ApiError::bad_request("invalid_body", other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request("invalid_query", rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::bad_request("invalid_path", rejection.body_text())
    }
}

/// `Json` whose rejection is an [`ApiError`].
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct AppJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// `Query` whose rejection is an [`ApiError`].
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct AppQuery<T>(pub T);

/// `Path` whose rejection is an [`ApiError`].
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct AppPath<T>(pub T);

/// The code used for an error response that some layer (routing, timeouts, body limits) made
/// without going through [`ApiError`].
fn code_for_status(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => ("not_found", "There is no such API endpoint or resource."),
        StatusCode::UNAUTHORIZED => ("unauthenticated", "Sign in to continue."),
        StatusCode::FORBIDDEN => ("forbidden", "You are not allowed to do this."),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "This endpoint does not accept that HTTP method.",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "timeout",
            "The request took too long and was stopped. Please try again.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "The request body is too large."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "This media type is not accepted here.",
        ),
        StatusCode::TOO_MANY_REQUESTS => (
            "rate_limited",
            "Too many requests. Wait a moment and try again.",
        ),
        s if s.is_server_error() => (
            "internal",
            "Something went wrong on our side. Please try again later.",
        ),
        _ => ("bad_request", "The request could not be understood."),
    }
}

/// Middleware for `/api`: any error response that is not already JSON (from routing, timeouts,
/// body limits, …) is replaced by the JSON error shape with the same status.
pub async fn json_error_bodies(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_api = path == "/api" || path.starts_with("/api/");
    let response = next.run(request).await;
    if !is_api {
        return response;
    }
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, message) = code_for_status(status);
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = serde_json::to_vec(&ErrorBody::new(code, message)).unwrap_or_default();
    Response::from_parts(parts, body.into())
}

#[cfg(test)]
mod tests {
    use axum::{
        Router,
        body::{Body, to_bytes},
        extract::DefaultBodyLimit,
        http::{Request, StatusCode},
        middleware,
        routing::post,
    };
    use serde::Deserialize;
    use tower::ServiceExt;

    use super::*;

    #[derive(Deserialize)]
    struct Filing {
        #[allow(dead_code)]
        count: u32,
    }

    async fn file(AppJson(_): AppJson<Filing>) -> StatusCode {
        StatusCode::NO_CONTENT
    }

    async fn send(content_type: Option<&str>, body: impl Into<Body>) -> (StatusCode, ErrorBody) {
        let app = Router::new()
            .route("/api/filings", post(file))
            .layer(DefaultBodyLimit::max(1024))
            .layer(middleware::from_fn(json_error_bodies));
        let mut request = Request::post("/api/filings");
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let response = app
            .oneshot(request.body(body.into()).expect("request"))
            .await
            .expect("answered");
        let status = response.status();
        let bytes = to_bytes(response.into_body(), 1 << 20).await.expect("body");
        let body: ErrorBody =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| ErrorBody::new("-", "-"));
        (status, body)
    }

    #[tokio::test]
    async fn broken_json_is_400_invalid_json() {
        let (status, body) = send(Some("application/json"), "{\"count\": ").await;
        assert_eq!(
            (status, body.error.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_json")
        );
    }

    #[tokio::test]
    async fn wrong_types_are_422_and_name_the_field() {
        let (status, body) = send(Some("application/json"), r#"{"count": "three"}"#).await;
        assert_eq!(
            (status, body.error.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")
        );
        assert!(body.message.contains("count"), "{}", body.message);
    }

    #[tokio::test]
    async fn a_body_without_the_json_content_type_is_415() {
        let (status, body) = send(Some("text/plain"), r#"{"count": 3}"#).await;
        assert_eq!(
            (status, body.error.as_str()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
        );
        let (status, _) = send(None, r#"{"count": 3}"#).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[tokio::test]
    async fn an_oversized_body_is_413_in_the_error_shape() {
        let big = format!(r#"{{"count": 3, "pad": "{}"}}"#, "x".repeat(4096));
        let (status, body) = send(Some("application/json"), big).await;
        assert_eq!(
            (status, body.error.as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
        );
    }

    #[tokio::test]
    async fn a_valid_body_passes() {
        let app = Router::new().route("/api/filings", post(file));
        let response = app
            .oneshot(
                Request::post("/api/filings")
                    .header("content-type", "application/json")
                    .body(Body::from(r#"{"count": 3}"#))
                    .expect("request"),
            )
            .await
            .expect("answered");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    #[test]
    fn internal_errors_never_show_their_cause() {
        let response =
            ApiError::Internal(anyhow::anyhow!("password=hunter2 at db")).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let cause = response
            .extensions()
            .get::<InternalCause>()
            .expect("kept for the log");
        assert!(cause.0.contains("hunter2"));
        let body = futures_body(response);
        assert!(!body.contains("hunter2"), "{body}");
    }

    fn futures_body(response: Response) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let bytes = rt
            .block_on(to_bytes(response.into_body(), 1 << 20))
            .expect("body");
        String::from_utf8_lossy(&bytes).into_owned()
    }
}
