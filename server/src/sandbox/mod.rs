//! Embedded stand-ins for the national systems, mounted under `/sandbox/…` when `sandbox` is
//! on (the demo and the tests; never production). Each speaks its system's real protocol, so the
//! server reaches it through the same adapter code as the real one.

pub mod idp;
pub mod people;
pub mod registries;

use std::sync::Arc;

use axum::Router;

use crate::{AppState, Config};

/// The sandboxes of one server instance.
pub struct Sandbox {
    pub idp: Arc<idp::SandboxIdp>,
    pub registries: Arc<registries::SandboxRegistries>,
}

impl Sandbox {
    pub fn load(config: &Config) -> anyhow::Result<Sandbox> {
        let people = people::load()?;
        let idp = idp::SandboxIdp::load(config, people.clone())?;
        let registries =
            registries::SandboxRegistries::load(idp.derived_secret("registries"), people)?;
        Ok(Sandbox {
            idp: Arc::new(idp),
            registries: Arc::new(registries),
        })
    }

    pub fn routes(&self) -> Router<AppState> {
        Router::new()
            .nest("/sandbox/idp", idp::routes(self.idp.clone()))
            .merge(registries::routes(self.registries.clone()))
    }
}
