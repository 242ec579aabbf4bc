//! Monitoring: health and Prometheus metrics for operators; the link to the national systems
//! that measure the service (the National Public Service Portal and EMC); and the
//! service-quality index of Decision 766 with its public statistics.

pub mod decide;
pub mod national;
pub mod rollup;
pub mod scorecard;
pub mod stats;
pub mod storage;
pub mod sync;

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use motcua_shared::health::Health;
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
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
    /// Credentials checked at `POST /api/v1/verify`, by result (`valid` or the reason).
    pub verifications: IntCounterVec,
    /// The delay from a dossier change to a national system's acknowledgement.
    pub sync_ack: HistogramVec,
    /// Attempts a national system refused or did not answer.
    pub sync_failures: IntCounterVec,
    /// Push deliveries by outcome (`sent`, `gone`, `retry`, `failed`).
    pub pushes: IntCounterVec,
    // Read from the database at each scrape.
    dossiers: IntGaugeVec,
    payments: IntGaugeVec,
    outbox_pending: IntGaugeVec,
    outbox_given_up: IntGaugeVec,
    outbox_oldest: GaugeVec,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Metrics> {
        let registry = Registry::new_custom(Some("motcua".into()), None)?;
        let counter = |name: &str, help: &str, labels: &[&str]| -> anyhow::Result<IntCounterVec> {
            let c = IntCounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        let gauge = |name: &str, help: &str, label: &str| -> anyhow::Result<IntGaugeVec> {
            let g = IntGaugeVec::new(Opts::new(name, help), &[label])?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let http_requests = counter(
            "http_requests_total",
            "HTTP requests answered, by route and status",
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
        registry.register(Box::new(http_duration.clone()))?;
        let sync_ack = HistogramVec::new(
            HistogramOpts::new(
                "national_sync_ack_seconds",
                "Time from a dossier change to its acknowledgement by a national system",
            )
            .buckets(vec![
                0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
            ]),
            &["system"],
        )?;
        registry.register(Box::new(sync_ack.clone()))?;
        let outbox_oldest = GaugeVec::new(
            Opts::new(
                "outbox_oldest_pending_seconds",
                "Age of the oldest event a consumer has not taken (its lag)",
            ),
            &["consumer"],
        )?;
        registry.register(Box::new(outbox_oldest.clone()))?;
        let build = IntGauge::with_opts(
            Opts::new(
                "build_info",
                "Always 1; the labels name the running version",
            )
            .const_label("version", env!("CARGO_PKG_VERSION")),
        )?;
        build.set(1);
        registry.register(Box::new(build))?;
        Ok(Metrics {
            verifications: counter(
                "verifications_total",
                "Credentials checked, by result",
                &["result"],
            )?,
            sync_failures: counter(
                "national_sync_failures_total",
                "Deliveries a national system refused or did not answer",
                &["system"],
            )?,
            pushes: counter(
                "push_deliveries_total",
                "Web push deliveries, by outcome",
                &["outcome"],
            )?,
            dossiers: gauge("dossiers", "Dossiers by status", "status")?,
            payments: gauge("payments", "Payments by state", "state")?,
            outbox_pending: gauge(
                "outbox_pending",
                "Events a consumer has still to take",
                "consumer",
            )?,
            outbox_given_up: gauge(
                "outbox_given_up",
                "Events a consumer gave up after its attempts",
                "consumer",
            )?,
            registry,
            http_requests,
            http_duration,
            sync_ack,
            outbox_oldest,
        })
    }

    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        // Encoding into a Vec cannot fail on I/O; an error here would be a registry bug.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }

    /// Reads the figures kept in the database into their gauges.
    async fn refresh(&self, store: &Store) -> anyhow::Result<()> {
        for (gauge, sql) in [
            (
                &self.dossiers,
                "select status, count(*) from dossiers group by status",
            ),
            (
                &self.payments,
                "select state, count(*) from payments group by state",
            ),
        ] {
            let rows: Vec<(String, i64)> = sqlx::query_as(sql).fetch_all(store.pool()).await?;
            gauge.reset();
            for (label, n) in rows {
                gauge.with_label_values(&[&label]).set(n);
            }
        }
        let rows: Vec<(String, i64, i64, Option<i64>)> = sqlx::query_as(
            "select c.name, \
               coalesce(sum(case when d.event_id is not null and d.given_up_at is null then 1 else 0 end), 0), \
               coalesce(sum(case when d.given_up_at is not null then 1 else 0 end), 0), \
               min(case when d.given_up_at is null then d.created_at end) \
             from outbox_consumers c left join outbox_deliveries d on d.consumer = c.name group by c.name",
        )
        .fetch_all(store.pool())
        .await?;
        let now = crate::store::now_ms();
        for (consumer, pending, given_up, oldest) in rows {
            self.outbox_pending
                .with_label_values(&[&consumer])
                .set(pending);
            self.outbox_given_up
                .with_label_values(&[&consumer])
                .set(given_up);
            #[allow(clippy::cast_precision_loss)]
            self.outbox_oldest
                .with_label_values(&[&consumer])
                .set(oldest.map_or(0.0, |t| (now - t).max(0) as f64 / 1000.0));
        }
        Ok(())
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

/// Whether the caller may read `/metrics`: from this machine, from a network named in
/// `metrics_networks`, or with `Authorization: Bearer <metrics_token>`.
fn may_scrape(state: &AppState, client: Option<std::net::IpAddr>, headers: &HeaderMap) -> bool {
    let token = state.config.metrics_token.expose();
    if !token.is_empty()
        && headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|sent| crate::security::same_secret(sent.trim(), token))
    {
        return true;
    }
    let Some(ip) = client else {
        return false;
    };
    let ip = match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
        v4 @ std::net::IpAddr::V4(_) => v4,
    };
    ip.is_loopback()
        || crate::http::client_addr::TrustedProxies::parse(&state.config.metrics_networks)
            .is_ok_and(|nets| nets.trusts(ip))
}

/// `GET /metrics`: Prometheus text format, for operators only (403 to anyone else). The
/// client is the TCP peer, or the address a trusted proxy forwarded.
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Option<axum::Extension<crate::http::client_addr::ClientIp>>,
) -> Result<impl IntoResponse, ApiError> {
    if !may_scrape(&state, client.map(|c| c.0.0), &headers) {
        return Err(ApiError::forbidden(motcua_shared::ErrorCode::Forbidden));
    }
    if let Err(e) = state.metrics.refresh(&state.store).await {
        tracing::warn!(error = %format!("{e:#}"), "metrics: the database figures could not be read");
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(),
    ))
}

/// Whether the database answered lately: the time of its last answer to a ping, kept fresh by a
/// worker twice a second, so `/api/health` makes no round trip of its own under load.
#[derive(Clone, Default)]
pub struct Readiness(std::sync::Arc<std::sync::atomic::AtomicI64>);

impl Readiness {
    /// How old a ping may be and still count.
    pub const FRESH_MS: i64 = 1_000;
    /// How often the worker pings.
    pub const EVERY: std::time::Duration = std::time::Duration::from_millis(500);

    /// Pings the database now and records the answer.
    pub async fn check(&self, store: &Store) -> crate::store::StoreResult<()> {
        use std::sync::atomic::Ordering;
        match store.ping().await {
            Ok(()) => {
                self.0.store(crate::store::now_ms(), Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                self.0.store(0, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// Whether the last ping answered within [`Readiness::FRESH_MS`].
    pub fn fresh(&self) -> bool {
        let at = self.0.load(std::sync::atomic::Ordering::Relaxed);
        at > 0 && crate::store::now_ms() - at < Self::FRESH_MS
    }

    /// The worker: pings every [`Readiness::EVERY`] until stopped.
    pub async fn run(self, store: Store, stop: tokio::sync::watch::Receiver<bool>) {
        crate::workers::every("the readiness ping", Self::EVERY, stop, || async {
            // A failure is what readiness records; it is not an error of the worker.
            let _ = self.check(&store).await;
            anyhow::Ok(())
        })
        .await;
    }
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
async fn health(State(state): State<AppState>) -> Result<axum::Json<Health>, ApiError> {
    let store = &state.store;
    // The worker's ping when it is fresh; a ping now when it is not (no worker, or a failure).
    let answered = if state.readiness.fresh() {
        Ok(())
    } else {
        state.readiness.check(store).await
    };
    match answered {
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
