//! One module per page of the app.

pub mod account;
pub mod desk;
pub mod dossiers;
pub mod filing;
pub mod home;
pub mod not_found;
pub mod office;
pub mod payments;
pub mod placeholder;
pub mod procedure;
pub mod procedures;
pub mod satisfaction;
pub mod stats;
pub mod wallet;
