//! The motcua API server as a library: the binary, the black-box tests and the bench all start
//! it through [`startup::Application`].

pub mod adapters;
pub mod audit;
pub mod cli;
pub mod config;
pub mod dossiers;
pub mod error;
pub mod events;
pub mod http;
pub mod i18n;
pub mod identity;
pub mod monitoring;
pub mod notifications;
pub mod outbox;
pub mod payments;
pub mod procedures;
pub mod records;
/// The embedded stand-ins for the national systems: only in a build with the `sandbox` feature
/// (the demo and the tests); a production build leaves them out.
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod satisfaction;
pub mod security;
pub mod startup;
pub mod state;
pub mod store;
pub mod wallet;
pub mod warehouse;
pub mod web;
pub mod workers;

// The PWA's resource files, for the texts the server renders (see `i18n`).
rust_i18n::i18n!("../client/locales");

pub use config::Config;
pub use error::ApiError;
pub use startup::Application;
pub use state::AppState;
