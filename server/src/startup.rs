//! Builds the router and runs one server instance until it is told to stop.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Request},
    http::{HeaderName, StatusCode},
    middleware,
    routing::{any, get},
};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::{
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::{
    AppState, Config, error, http, identity, identity::oidc::RelyingParty, monitoring, procedures,
    sandbox::Sandbox, store::Store, web,
};

#[derive(OpenApi)]
#[openapi(info(
    title = "motcua API",
    description = "Citizen one-stop public services: catalogue, dossiers, wallet, payments."
))]
struct ApiDoc;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP application for `state`. Tests call it directly; `serve` binds it to a port.
pub fn app(state: AppState) -> Router {
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(
            "/api",
            OpenApiRouter::new().merge(monitoring::routes()).nest(
                "/v1",
                procedures::routes()
                    .merge(identity::api_routes())
                    .merge(crate::records::routes())
                    .merge(crate::dossiers::routes())
                    .merge(crate::notices::routes())
                    .merge(crate::warehouse::routes(state.config.upload_limit_bytes)),
            ),
        )
        .split_for_parts();
    let openapi = Arc::new(openapi);
    let router = router.merge(identity::auth_routes());
    let router = match &state.sandbox {
        Some(sandbox) => router.merge(sandbox.routes()),
        None => router,
    };
    let timeout = Duration::from_secs(state.config.request_timeout_secs);

    router
        .route("/api/openapi.json", get(move || async move { axum::Json(openapi.as_ref().clone()) }))
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .route("/metrics", get(monitoring::metrics))
        .fallback_service(web::service(state.config.web_dir.clone()))
        .layer(DefaultBodyLimit::max(state.config.body_limit_bytes))
        .layer(middleware::from_fn(error::json_error_bodies))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
                    let id = request
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|id| id.header_value().to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", method = %request.method(), path = request.uri().path(), request_id = id)
                }))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(middleware::from_fn(http::log_server_errors))
                .layer(middleware::from_fn_with_state(state.clone(), http::security_headers))
                .layer(middleware::from_fn_with_state(state.metrics.clone(), monitoring::record_http))
                .layer(CompressionLayer::new())
                .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout)),
        )
        .with_state(state)
}

async fn api_not_found() -> error::ApiError {
    error::ApiError::NotFound("There is no such API endpoint.".into())
}

/// A server instance, bound and ready to run.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Connects the database, applies migrations (when configured), seeds the catalogue and
    /// binds the listen address (port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("binding {}", config.addr))?;
        Self::build_on(config, listener).await
    }

    /// As [`Application::build`], on a listener bound beforehand (tests bind port 0 first so that
    /// `public_url` can name the real port).
    pub async fn build_on(config: Config, listener: TcpListener) -> anyhow::Result<Application> {
        config.validate()?;
        let store = Store::connect(
            config.database_url.expose(),
            config.database_max_connections,
        )
        .await?;
        if config.migrate_on_start {
            store.migrate().await?;
        }
        let seeded = procedures::seed_catalogue(&store).await?;
        tracing::info!(
            procedures = seeded,
            engine = store.engine().name(),
            "catalogue ready"
        );
        let sandbox = if config.sandbox {
            Some(Arc::new(Sandbox::load(&config)?))
        } else {
            None
        };
        if let Some(sandbox) = &sandbox {
            crate::sandbox::people::grant_demo_roles(&store, sandbox.idp.people()).await?;
        }
        let identity = Arc::new(RelyingParty::new(&config, sandbox.as_deref())?);
        let config_for_limits = config.clone();
        let registries = Arc::new(crate::adapters::Registries::new(
            &config,
            sandbox.as_deref(),
        )?);
        let state = AppState {
            config: Arc::new(config),
            store,
            metrics: monitoring::Metrics::new()?,
            identity,
            sandbox,
            rate_limits: crate::http::rate_limit::RateLimits::new(&config_for_limits),
            passkeys: identity::passkeys::relying_party(&config_for_limits)?.map(Arc::new),
            registries,
            blobs: crate::warehouse::blobs::BlobStore::new(
                config_for_limits.data_dir.join("blobs"),
            ),
        };
        state.rate_limits.spawn_pruning();
        Ok(Application { listener, state })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listener
            .local_addr()
            .context("reading the bound address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let store = self.state.store.clone();
        // The deadline sweep and outbox delivery, stopped with the server.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let every = self.state.config.worker_interval_secs;
        let worker = (every > 0).then(|| {
            tokio::spawn(crate::outbox::run_worker(
                store.clone(),
                std::time::Duration::from_secs(every),
                stopped,
            ))
        });
        let router = app(self.state);
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP")?;
        let _ = stop.send(true);
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        store.close().await;
        Ok(())
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
