//! The state every handler can reach, passed in (never global).

use std::sync::Arc;

use crate::http::rate_limit::RateLimits;

use crate::{
    Config,
    identity::{SignInHook, oidc::RelyingParty},
    monitoring::Metrics,
    store::Store,
};

/// A cheap handle on the services: one reference count to clone for each middleware and
/// extractor that takes the state, not one per service.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> AppState {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// What the handlers reach through [`AppState`].
pub struct Services {
    pub config: Arc<Config>,
    pub store: Store,
    pub metrics: Metrics,
    /// The relying party of the national e-identity.
    pub identity: Arc<RelyingParty>,
    /// What runs after an e-ID sign-in (nothing in production; the demo seeds warehouses).
    pub sign_in_hooks: Arc<Vec<Arc<dyn SignInHook>>>,
    pub rate_limits: RateLimits,
    /// The WebAuthn relying party; `None` when the site has no domain name (passkeys unavailable).
    pub passkeys: Option<Arc<webauthn_rs::Webauthn>>,
    /// Clients of the national registers.
    pub registries: Arc<crate::adapters::Registries>,
    /// The agencies' and the root's private keys (credentials, trust list, status lists).
    pub keys: Arc<dyn crate::wallet::keys::KeyStore>,
    /// The payment gateway.
    pub payments: crate::payments::Shared,
    /// Documents' content, stored by digest.
    pub blobs: crate::warehouse::blobs::BlobStore,
    /// Web push: the VAPID key and the push services posted to.
    pub push: Arc<crate::notifications::push::WebPush>,
    /// This instance's hub of live updates for the open PWAs.
    pub live: crate::notifications::live::LiveHub,
    /// The catalogue prepared in memory (JSON, gzip, brotli, ETag).
    pub catalogue: crate::procedures::cache::CatalogueCache,
    /// When the database last answered a ping.
    pub readiness: crate::monitoring::Readiness,
    /// The national portal and EMC, told of every dossier change.
    pub national: Arc<crate::monitoring::national::National>,
}
