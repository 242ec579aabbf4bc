//! Monitoring: health and Prometheus metrics for operators; the link to the national systems
//! that measure the service (the National Public Service Portal and EMC); and the
//! service-quality index of Decision 766 with its public statistics.

pub mod decide;
pub mod national;
pub mod scorecard;
pub mod stats;
pub mod storage;
pub mod sync;

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use motcua_shared::health::Health;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{AppState, error::ApiError, store::Store};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(audit_checkpoint))
        .routes(routes!(stats::scorecard))
        .routes(routes!(stats::trend))
}

/// The newest signed checkpoint of the audit chain's head, for witnesses to poll and keep:
/// a later rewrite of the chain can no longer match what they hold. Public: it holds a count,
/// a hash, a time and a signature.
#[utoipa::path(
    get, path = "/v1/audit/checkpoint", tag = "operations",
    responses((status = 200, description = "The newest checkpoint", body = crate::audit::Checkpoint))
)]
async fn audit_checkpoint(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<axum::Json<crate::audit::Checkpoint>, crate::error::ApiError> {
    let data_dir = state.config.data_dir.clone();
    let newest = crate::audit::read_checkpoints(&data_dir)?.pop();
    let checkpoint = match newest {
        Some(c) => c,
        None => crate::audit::checkpoint(&state.store, state.keys.as_ref(), &data_dir).await?,
    };
    Ok(axum::Json(checkpoint))
}

/// This instance's metrics, in its own registry (no process-global state, so tests can run
/// several servers in one process).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Metrics> {
        let registry = Registry::new_custom(Some("motcua".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route and status",
            ),
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer HTTP requests, by route",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ]),
            &["method", "route"],
        )?;
        let build = IntGauge::with_opts(
            Opts::new(
                "build_info",
                "Always 1; the labels name the running version",
            )
            .const_label("version", env!("CARGO_PKG_VERSION")),
        )?;
        build.set(1);
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(build))?;
        Ok(Metrics {
            registry,
            http_requests,
            http_duration,
        })
    }

    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        // Encoding into a Vec cannot fail on I/O; an error here would be a registry bug.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}

/// Middleware: counts and times every request by its route pattern (never the raw path, which
/// would give one series per dossier).
pub async fn record_http(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = match request.extensions().get::<MatchedPath>() {
        Some(path) => path.as_str().to_owned(),
        None if request.uri().path().starts_with("/api") => "/api/<unmatched>".to_owned(),
        None => "<static>".to_owned(),
    };
    let response = next.run(request).await;
    metrics
        .http_requests
        .with_label_values(&[&method, &route, response.status().as_str()])
        .inc();
    metrics
        .http_duration
        .with_label_values(&[&method, &route])
        .observe(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(metrics): State<Metrics>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        metrics.render(),
    )
}

/// Whether this instance can serve: 200 when the database answers, 503 otherwise. Public.
#[utoipa::path(
    get,
    path = "/health",
    tag = "monitoring",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database does not answer", body = motcua_shared::ErrorBody),
    )
)]
async fn health(State(store): State<Store>) -> Result<axum::Json<Health>, ApiError> {
    match store.ping().await {
        Ok(()) => Ok(axum::Json(Health {
            status: "ok".into(),
            database: store.engine().name().into(),
            version: env!("CARGO_PKG_VERSION").into(),
        })),
        Err(err) => {
            tracing::warn!(error = %format!("{err:#}"), "health check: database unavailable");
            Err(ApiError::Unavailable)
        }
    }
}
