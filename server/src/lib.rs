//! The motcua API server as a library: the binary, the black-box tests and the bench all start
//! it through [`startup::Application`].

pub mod adapters;
pub mod audit;
pub mod cli;
pub mod config;
pub mod dossiers;
pub mod error;
pub mod http;
pub mod identity;
pub mod monitoring;
pub mod notices;
pub mod outbox;
pub mod procedures;
pub mod records;
pub mod sandbox;
pub mod security;
pub mod startup;
pub mod state;
pub mod store;
pub mod warehouse;
pub mod web;

pub use config::Config;
pub use error::ApiError;
pub use startup::Application;
pub use state::AppState;
