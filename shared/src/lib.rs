//! What the motcua server and PWA must agree on: the JSON shapes of the API, the parsed
//! domain newtypes, and validation that both sides run. No I/O: this crate builds for wasm32.

pub mod calendar;
pub mod credential;
pub mod dossier;
pub mod dossier_api;
pub mod eform;
pub mod error;
pub mod health;
pub mod identity;
pub mod ids;
pub mod lang;
pub mod money;
pub mod notification_api;
pub mod pages;
pub mod payment_api;
pub mod procedure;
pub mod registry;
pub mod satisfaction_api;
pub mod stats_api;
pub mod time;
pub mod units;
pub mod wallet_api;
pub mod warehouse;

pub use error::{ErrorBody, ErrorCode};
pub use ids::{Cccd, IdError, TaxCode};
pub use lang::{Lang, Localized};
pub use money::Vnd;
