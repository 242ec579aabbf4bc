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
    compression::{
        CompressionLayer,
        predicate::{NotForContentType, Predicate as _, SizeAbove},
    },
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::{
    AppState, Config, error, http, identity, identity::oidc::RelyingParty, monitoring, procedures,
    store::Store, web,
};

/// The embedded sandboxes of a demo build; nothing in a production build.
#[cfg(feature = "sandbox")]
type Sandboxes = Option<Arc<crate::sandbox::Sandbox>>;
#[cfg(not(feature = "sandbox"))]
type Sandboxes = Option<std::convert::Infallible>;

#[derive(OpenApi)]
#[openapi(info(
    title = "motcua API",
    description = "Citizen one-stop public services: catalogue, dossiers, wallet, payments."
))]
struct ApiDoc;

/// `openapi` with a `default` response on every operation: any status an operation does not
/// list (401 signed out, 400 a query that does not parse, 429 too many, 503 the database gone,
/// …) answers the JSON error shape.
fn with_error_shape(mut openapi: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::{Ref, RefOr, ResponseBuilder, content::Content};
    let error = ResponseBuilder::new()
        .description(
            "An error: `{\"error\": CODE, \"message\": TEXT}` in the reader's language \
             (401 signed out, 400 or 422 bad input, 403 not allowed, 404 not found, 429 too many, 503 unavailable)",
        )
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
        .build();
    for item in openapi.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            operation
                .responses
                .responses
                .entry("default".to_owned())
                .or_insert_with(|| RefOr::T(error.clone()));
        }
    }
    openapi
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP application for `state`. Tests call it directly; `serve` binds it to a port.
pub fn app(state: AppState) -> Router {
    app_with(state, None)
}

/// As [`app`], with `extra` routes (the sandboxes of a demo build) merged in.
fn app_with(state: AppState, extra: Option<Router<AppState>>) -> Router {
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(
            "/api",
            OpenApiRouter::new().merge(monitoring::routes()).nest(
                "/v1",
                procedures::routes()
                    .merge(identity::api_routes())
                    .merge(crate::records::routes())
                    .merge(crate::dossiers::routes())
                    .merge(crate::notifications::routes())
                    .merge(crate::satisfaction::routes())
                    .merge(crate::wallet::routes())
                    .merge(crate::payments::routes())
                    .merge(crate::warehouse::routes(state.config.upload_limit_bytes)),
            ),
        )
        .split_for_parts();
    let openapi = Arc::new(with_error_shape(openapi));
    let router = router
        .merge(identity::auth_routes())
        .merge(crate::wallet::short_routes());
    let router = match extra {
        Some(extra) => router.merge(extra),
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
        // A body that stalls is cut off; one that keeps coming (a slow upload) is not.
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(Duration::from_secs(
            state.config.body_read_timeout_secs,
        )))
        .layer(middleware::from_fn_with_state(
            Arc::new(
                http::client_addr::TrustedProxies::parse(&state.config.trusted_proxies)
                    .unwrap_or_default(),
            ),
            http::client_addr::resolve,
        ))
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
                    // `client` is filled in by `client_addr::resolve` (the IPv4 address or IPv6 /64).
                    tracing::info_span!("request", method = %request.method(), path = request.uri().path(), request_id = id, client = tracing::field::Empty)
                }))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(middleware::from_fn(http::log_server_errors))
                .layer(middleware::from_fn_with_state(state.clone(), http::security_headers))
                .layer(middleware::from_fn_with_state(state.metrics.clone(), monitoring::record_http))
                // Dynamic answers over 1 KB, at level 4 for brotli and gzip: little work per
                // request for most of the gain (the default, brotli's 11, suits files compressed
                // once, which the PWA's are, ahead of time; tiny answers are not worth it).
                .layer(
                    CompressionLayer::new()
                        .quality(tower_http::CompressionLevel::Precise(4))
                        .compress_when(
                            SizeAbove::new(1024)
                                .and(NotForContentType::GRPC)
                                .and(NotForContentType::IMAGES)
                                .and(NotForContentType::SSE),
                        ),
                )
                .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout)),
        )
        .with_state(state)
}

async fn api_not_found() -> error::ApiError {
    error::ApiError::NotFound
}

/// The platform's outbox dispatcher: every consumer (notices, push, the live feed, refunds,
/// the tax authority's reports).
pub fn dispatcher(state: &AppState) -> crate::outbox::Dispatcher {
    crate::payments::jobs::consumers(state)
        .into_iter()
        .chain(crate::notifications::consumers(state))
        .chain(crate::monitoring::sync::consumers(state))
        .fold(
            crate::outbox::Dispatcher::standard(state.store.clone()),
            crate::outbox::Dispatcher::with,
        )
}

/// A server instance, bound and ready to run.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    // Read only by a demo build (its routes, the tests' access to the sandbox's keys).
    #[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
    sandbox: Sandboxes,
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
        #[cfg(not(feature = "sandbox"))]
        anyhow::ensure!(
            !config.sandbox,
            "sandbox is on, but this is a production build without the sandboxes; set MOTCUA_SANDBOX=false"
        );
        let store = Store::connect_with(
            config.database_url.expose(),
            config.database_max_connections,
            config.sqlite_synchronous,
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
        let sandbox = load_sandboxes(&config, &store).await?;
        #[cfg(feature = "sandbox")]
        let (provider, registries, hooks, gateway, national) = match &sandbox {
            Some(s) => (
                Some(s.provider_registration()),
                Some(s.registry_defaults(&config)),
                vec![s.sign_in_hook()],
                Some(s.gateway_defaults(&config)),
                Some(s.national_defaults(&config)),
            ),
            None => (None, None, Vec::new(), None, None),
        };
        #[cfg(not(feature = "sandbox"))]
        let (provider, registries, hooks, gateway, national) = (None, None, Vec::new(), None, None);
        let national = Arc::new(crate::monitoring::national::National::new(
            &config,
            national.as_ref(),
        )?);
        if national.portal_url.is_none() || national.emc_url.is_none() {
            tracing::warn!(
                portal = national.portal_url.is_some(),
                emc = national.emc_url.is_some(),
                "the national portal or EMC is not configured (MOTCUA_NATIONAL_PORTAL_URL, MOTCUA_EMC_URL): dossiers are not reported to it"
            );
        }
        let payments = Arc::new(crate::payments::Payments::new(&config, gateway.as_ref())?);
        let identity = Arc::new(RelyingParty::new(&config, provider.as_ref())?);
        let registries = Arc::new(crate::adapters::Registries::new(
            &config,
            registries.as_ref(),
        )?);
        let push = Arc::new(crate::notifications::push::WebPush::new(&config)?);
        let state = AppState::new(crate::state::Services {
            national,
            push,
            live: crate::notifications::live::LiveHub::new(store.clone()),
            rate_limits: crate::http::rate_limit::RateLimits::new(&config, store.clone()),
            passkeys: identity::passkeys::relying_party(&config)?.map(Arc::new),
            blobs: crate::warehouse::blobs::BlobStore::open(
                &config.blob_url,
                config.data_dir.join("blobs"),
                &crate::warehouse::blobs::ObjectOptions {
                    endpoint: config.s3_endpoint.clone(),
                    region: config.s3_region.clone(),
                    access_key_id: config.s3_access_key_id.clone(),
                    secret_access_key: config.s3_secret_access_key.expose().to_owned(),
                    allow_http: config.s3_allow_http,
                },
            )?,
            keys: Arc::new(crate::wallet::keys::FileKeyStore::new(
                config.data_dir.join("keys"),
            )),
            config: Arc::new(config),
            store,
            metrics: monitoring::Metrics::new()?,
            identity,
            registries,
            payments,
            sign_in_hooks: Arc::new(hooks),
            catalogue: Default::default(),
            readiness: Default::default(),
        });
        state.rate_limits.spawn_pruning();
        Ok(Application {
            listener,
            state,
            sandbox,
        })
    }

    /// The embedded sandboxes, when this demo build runs them.
    #[cfg(feature = "sandbox")]
    pub fn sandbox(&self) -> Option<&crate::sandbox::Sandbox> {
        self.sandbox.as_deref()
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
        // The outbox dispatcher, the deadline sweep and the index's rollup, stopped with the server.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let stopped_catalogue = stopped.clone();
        let every = self.state.config.worker_interval_secs;
        let mut workers = Vec::new();
        if every > 0 {
            let every = Duration::from_secs(every);
            let dispatcher = dispatcher(&self.state);
            dispatcher.register().await?;
            workers.extend(dispatcher.spawn(every, stopped.clone()));
            workers.push(tokio::spawn(crate::payments::jobs::run(
                self.state.clone(),
                every,
                stopped.clone(),
            )));
            workers.push(tokio::spawn(crate::dossiers::deadlines::run(
                store.clone(),
                every,
                stopped.clone(),
            )));
            workers.push(tokio::spawn(crate::monitoring::rollup::run(
                store.clone(),
                every,
                stopped.clone(),
            )));
        }
        // Readiness and the prepared catalogue follow the database whatever the worker interval.
        workers.push(tokio::spawn(
            self.state
                .readiness
                .clone()
                .run(store.clone(), stopped.clone()),
        ));
        {
            let store = store.clone();
            let stopped = stopped.clone();
            workers.push(tokio::spawn(async move {
                crate::workers::every(
                    "sealing the audit log",
                    crate::audit::SEAL_EVERY,
                    stopped,
                    || async { store.seal_audit().await.map(drop) },
                )
                .await;
            }));
        }
        {
            let (catalogue, store) = (self.state.catalogue.clone(), store.clone());
            workers.push(tokio::spawn(async move {
                crate::workers::every(
                    "refreshing the prepared catalogue",
                    crate::procedures::cache::REFRESH_EVERY,
                    stopped_catalogue,
                    || async { catalogue.refresh(&store).await.map(drop) },
                )
                .await;
            }));
        }
        let reminders = self.state.config.reminders_every_secs;
        if reminders > 0 {
            workers.push(tokio::spawn(crate::notifications::reminders::run(
                self.state.clone(),
                Duration::from_secs(reminders),
                stopped.clone(),
            )));
        }
        let checkpoints = self.state.config.audit_checkpoint_secs;
        if checkpoints > 0 {
            workers.push(tokio::spawn(crate::audit::run_checkpoints(
                self.state.clone(),
                Duration::from_secs(checkpoints),
                stopped.clone(),
            )));
        }
        let sync = self.state.config.register_sync_secs;
        if sync > 0 {
            workers.push(tokio::spawn(crate::wallet::registers::run(
                self.state.clone(),
                Duration::from_secs(sync),
                stopped,
            )));
        }
        #[cfg(feature = "sandbox")]
        let extra = self.sandbox.as_ref().map(|s| s.routes());
        #[cfg(not(feature = "sandbox"))]
        let extra = None;
        let live = self.state.live.clone();
        let shutdown = async move {
            shutdown.await;
            live.close();
        };
        let header_timeout = Duration::from_secs(self.state.config.header_read_timeout_secs);
        let router = app_with(self.state, extra);
        http::serve::serve(self.listener, router, header_timeout, shutdown)
            .await
            .context("serving HTTP")?;
        let _ = stop.send(true);
        for worker in workers {
            let _ = worker.await;
        }
        store.close().await;
        Ok(())
    }
}

/// The sandboxes `config` asks for: refused when this build has none, and (checked by
/// `Config::validate`) on an https site without the explicit override, which is warned about at
/// every start.
async fn load_sandboxes(config: &Config, store: &Store) -> anyhow::Result<Sandboxes> {
    if !config.sandbox {
        return Ok(None);
    }
    if config.is_https() {
        tracing::warn!(
            public_url = %config.public_url,
            "THE SANDBOXES ARE ON AT AN HTTPS ADDRESS (allow_sandbox_on_https): anyone can sign in \
             with the published demo password, and demo officers and the demo admin act on real dossiers"
        );
    }
    #[cfg(feature = "sandbox")]
    {
        let sandbox = Arc::new(crate::sandbox::Sandbox::load(config)?);
        crate::sandbox::people::grant_demo_roles(store, sandbox.idp.people()).await?;
        if config.sandbox_seed_history && !crate::sandbox::history::seeded(store).await? {
            let started = std::time::Instant::now();
            let written = crate::sandbox::history::seed(
                store,
                sandbox.idp.people(),
                crate::sandbox::history::Plan {
                    days: 180,
                    per_day: 6,
                    today: motcua_shared::calendar::Day::of_instant(crate::store::now_ms()),
                    detail: true,
                },
            )
            .await?;
            tracing::info!(
                dossiers = written,
                took_ms = started.elapsed().as_millis(),
                "demo history written"
            );
        }
        Ok(Some(sandbox))
    }
    #[cfg(not(feature = "sandbox"))]
    {
        let _ = store;
        anyhow::bail!(
            "sandbox is on, but this is a production build without the sandboxes; set MOTCUA_SANDBOX=false"
        )
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
