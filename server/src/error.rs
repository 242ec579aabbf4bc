//! The one API error type. Each variant documents its HTTP status; the body is always
//! `{"error": CODE, "message": TEXT}` and a 5xx body never carries the cause.

use axum::{
    Json,
    extract::{FromRequest, FromRequestParts, Request, rejection::*},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use motcua_shared::{ErrorBody, ErrorCode, Lang, eform::FieldError};

/// An error code with the values its text names (`%{name}` in the resource files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: ErrorCode,
    pub params: Vec<(&'static str, String)>,
}

impl From<ErrorCode> for Problem {
    fn from(code: ErrorCode) -> Self {
        Problem {
            code,
            params: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (syntax, missing parts).
    #[error("{}", english(.0))]
    BadRequest(Problem),
    /// 401: no valid session; sign in (again).
    #[error("{}", english(.0))]
    Unauthorized(Problem),
    /// 403: signed in, but not allowed to do this (role, ownership, CSRF).
    #[error("{}", english(.0))]
    Forbidden(Problem),
    /// 404: no such resource, or not one the caller may know of.
    #[error("not found")]
    NotFound,
    /// 409: the request conflicts with the current state (or a concurrent request won).
    #[error("{}", english(.0))]
    Conflict(Problem),
    /// 413: the body is larger than this endpoint accepts.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// 408: the client stopped sending its request (the body stalled).
    #[error("the request was not sent in time")]
    TimedOut,
    /// 415: the body is not of a media type this endpoint reads.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 422: well-formed, but a value is not acceptable.
    #[error("{}", english(.0))]
    Validation(Problem),
    /// 429: too many attempts; try again after `retry_after_secs`.
    #[error("Too many attempts. Wait {retry_after_secs} seconds and try again.")]
    RateLimited { retry_after_secs: u64 },
    /// 429 with its own code: a per-person quota or rate is used up (uploads a day, filings an
    /// hour); again after `retry_after_secs`.
    #[error("{}", english(.problem))]
    QuotaUsed {
        problem: Problem,
        retry_after_secs: u64,
    },
    /// 413 with its own code: what the person keeps has reached its limit.
    #[error("{}", english(.0))]
    StorageFull(Problem),
    /// 422: form answers that do not hold, each field with what to fix.
    #[error("{}", english(&Problem::from(*code)))]
    InvalidAnswers {
        code: ErrorCode,
        fields: Vec<FieldError>,
    },
    /// 503: a dependency (the database, a national register) does not answer.
    #[error("unavailable")]
    Unavailable,
    /// 500: anything else. Logged with its cause; the client sees a fixed sentence.
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<crate::store::StoreError> for ApiError {
    /// A constraint a concurrent request won is 409 (named by its table), an outage 503.
    fn from(err: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match err {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict { table, constraint } => {
                tracing::info!(%table, ?constraint, "a concurrent write won");
                ApiError::conflict(match table.as_str() {
                    "passkeys" => ErrorCode::PasskeyAlreadyRegistered,
                    _ => ErrorCode::AlreadyExists,
                })
            }
            StoreError::Unavailable(cause) => {
                tracing::warn!(cause = %format!("{cause:#}"), "the database is unavailable");
                ApiError::Unavailable
            }
            StoreError::Other(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    /// Errors on their way up from storage are typed first (see [`crate::store::StoreError`]).
    fn from(err: anyhow::Error) -> Self {
        crate::store::StoreError::from(err).into()
    }
}

fn english(problem: &Problem) -> String {
    crate::i18n::text(Lang::En, &problem.code.text_key(), &problem.params)
        .unwrap_or_else(|| problem.code.as_str().to_owned())
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TimedOut => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) | ApiError::InvalidAnswers { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::RateLimited { .. } | ApiError::QuotaUsed { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::StorageFull(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The code and the values its text names.
    pub fn problem(&self) -> Problem {
        match self {
            ApiError::BadRequest(p)
            | ApiError::Validation(p)
            | ApiError::Unauthorized(p)
            | ApiError::Forbidden(p)
            | ApiError::Conflict(p)
            | ApiError::StorageFull(p) => p.clone(),
            ApiError::QuotaUsed { problem, .. } => problem.clone(),
            ApiError::InvalidAnswers { code, .. } => Problem::from(*code),
            ApiError::NotFound => ErrorCode::NotFound.into(),
            ApiError::PayloadTooLarge => ErrorCode::PayloadTooLarge.into(),
            ApiError::TimedOut => ErrorCode::Timeout.into(),
            ApiError::UnsupportedMediaType => ErrorCode::UnsupportedMediaType.into(),
            ApiError::RateLimited { retry_after_secs } => Problem {
                code: ErrorCode::RateLimited,
                params: vec![("seconds", retry_after_secs.to_string())],
            },
            ApiError::Unavailable => ErrorCode::Unavailable.into(),
            ApiError::Internal(_) => ErrorCode::Internal.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.problem().code
    }

    pub fn validation(code: ErrorCode) -> Self {
        ApiError::Validation(code.into())
    }

    pub fn unauthorized(code: ErrorCode) -> Self {
        ApiError::Unauthorized(code.into())
    }

    pub fn forbidden(code: ErrorCode) -> Self {
        ApiError::Forbidden(code.into())
    }

    pub fn bad_request(code: ErrorCode) -> Self {
        ApiError::BadRequest(code.into())
    }

    pub fn conflict(code: ErrorCode) -> Self {
        ApiError::Conflict(code.into())
    }

    /// Adds a value the code's text names as `%{name}`.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        if let ApiError::BadRequest(p)
        | ApiError::Validation(p)
        | ApiError::Unauthorized(p)
        | ApiError::Forbidden(p)
        | ApiError::Conflict(p) = &mut self
        {
            p.params.push((name, value.into()));
        }
        self
    }

    /// The JSON body in `lang`.
    pub fn body(&self, lang: Lang) -> ErrorBody {
        localized_body(&self.problem(), self.fields(), lang)
    }

    fn fields(&self) -> &[FieldError] {
        match self {
            ApiError::InvalidAnswers { fields, .. } => fields,
            _ => &[],
        }
    }
}

/// The error body of `problem` in `lang`, from the resource files.
fn localized_body(problem: &Problem, fields: &[FieldError], lang: Lang) -> ErrorBody {
    let mut message = crate::i18n::text(lang, &problem.code.text_key(), &problem.params)
        .unwrap_or_else(|| problem.code.as_str().to_owned());
    // A technical detail (what the parser said) follows the sentence, as it came.
    if let Some((_, detail)) = problem.params.iter().find(|(name, _)| *name == "detail") {
        message = format!("{message} ({detail})");
    }
    let mut body = ErrorBody::new(problem.code.as_str(), message);
    body.fields = fields.to_vec();
    body
}

/// What the language middleware needs to render an error body in the reader's language.
#[derive(Clone, Debug)]
struct Localizable {
    problem: Problem,
    fields: Vec<FieldError>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Vietnamese here; [`json_error_bodies`] renders it again in the reader's language.
        let mut response = (self.status(), Json(self.body(Lang::Vi))).into_response();
        if let ApiError::RateLimited { retry_after_secs }
        | ApiError::QuotaUsed {
            retry_after_secs, ..
        } = &self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        let problem = self.problem();
        // Refusals are security events: logged in the request's span (method, path, request id,
        // client network), with their code; never with the body or who the object belonged to.
        if matches!(
            self,
            ApiError::Unauthorized(_)
                | ApiError::Forbidden(_)
                | ApiError::NotFound
                | ApiError::RateLimited { .. }
                | ApiError::QuotaUsed { .. }
        ) {
            tracing::info!(
                status = self.status().as_u16(),
                code = problem.code.as_str(),
                "request refused"
            );
        }
        response.extensions_mut().insert(Localizable {
            problem,
            fields: self.fields().to_vec(),
        });
        if let ApiError::Internal(cause) = self {
            // The cause is logged by the request-tracing middleware, never sent.
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

fn with_detail(code: ErrorCode, detail: String) -> Problem {
    Problem {
        code,
        params: vec![("detail", detail)],
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => {
                ApiError::Validation(with_detail(ErrorCode::InvalidBody, e.body_text()))
            }
            JsonRejection::JsonSyntaxError(_) => ApiError::bad_request(ErrorCode::InvalidJson),
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            other if stalled(&other) => ApiError::TimedOut,
            other => ApiError::BadRequest(with_detail(ErrorCode::BadRequest, other.body_text())),
        }
    }
}

/// Whether reading the body failed because the client stopped sending it (the body read
/// timeout, `MOTCUA_BODY_READ_TIMEOUT_SECS`).
pub fn stalled(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest(with_detail(ErrorCode::InvalidQuery, rejection.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest(with_detail(ErrorCode::InvalidPath, rejection.body_text()))
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
fn code_for_status(status: StatusCode) -> ErrorCode {
    match status {
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ErrorCode::Timeout,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::BadRequest,
    }
}

/// Middleware: every [`ApiError`] body is rendered in the reader's language (`Accept-Language`),
/// and under `/api` any error response that is not already JSON (from routing, timeouts, body
/// limits, …) is replaced by the JSON error shape with the same status.
pub async fn json_error_bodies(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_api = path == "/api" || path.starts_with("/api/");
    let lang = crate::i18n::lang_of(request.headers());
    let mut response = next.run(request).await;
    let status = response.status();
    if let Some(Localizable { problem, fields }) = response.extensions_mut().remove::<Localizable>()
    {
        if lang == Lang::Vi {
            return response;
        }
        let (mut parts, _) = response.into_parts();
        parts.headers.remove(header::CONTENT_LENGTH);
        let body = serde_json::to_vec(&localized_body(&problem, &fields, lang)).unwrap_or_default();
        return Response::from_parts(parts, body.into());
    }
    if !is_api {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let problem = Problem::from(code_for_status(status));
    let body = serde_json::to_vec(&localized_body(&problem, &[], lang)).unwrap_or_default();
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

    /// What `f` logs, as text.
    fn logged(f: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Sink {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().expect("not poisoned").extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let bytes = sink.0.lock().expect("not poisoned").clone();
        String::from_utf8(bytes).expect("utf-8")
    }

    #[test]
    fn refusals_are_logged_with_their_code_and_nothing_else_is() {
        let span_fields = |f: &dyn Fn()| {
            logged(|| {
                let span =
                    tracing::info_span!("request", path = "/api/v1/x", client = "203.0.113.7");
                let _entered = span.enter();
                f();
            })
        };
        type Case = (fn() -> ApiError, &'static str, u16);
        let cases: [Case; 4] = [
            (
                || ApiError::forbidden(ErrorCode::ForbiddenRole),
                "forbidden_role",
                403,
            ),
            (
                || ApiError::unauthorized(ErrorCode::Unauthenticated),
                "unauthenticated",
                401,
            ),
            (|| ApiError::NotFound, "not_found", 404),
            (
                || ApiError::RateLimited {
                    retry_after_secs: 3,
                },
                "rate_limited",
                429,
            ),
        ];
        for (error, code, status) in cases {
            let text = span_fields(&|| drop(error().into_response()));
            assert!(text.contains("request refused"), "{text}");
            assert!(
                text.contains(&format!("code=\"{code}\""))
                    || text.contains(&format!("code={code}")),
                "{text}"
            );
            assert!(text.contains(&format!("status={status}")), "{text}");
            assert!(
                text.contains("client=\"203.0.113.7\"") || text.contains("client=203.0.113.7"),
                "{text}"
            );
        }
        let quiet =
            span_fields(&|| drop(ApiError::validation(ErrorCode::InvalidAnswers).into_response()));
        assert!(!quiet.contains("request refused"), "{quiet}");
    }

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
        assert!(
            body.message.contains("Nội dung"),
            "Vietnamese by default: {}",
            body.message
        );
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
