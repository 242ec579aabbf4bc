//! The state every handler can reach, passed in (never global).

use std::sync::Arc;

use axum::extract::FromRef;

use crate::{Config, monitoring::Metrics, store::Store};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub metrics: Metrics,
}
