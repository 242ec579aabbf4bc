//! Black-box tests of the HTTP API, one module per area. One binary keeps linking fast.

mod audit;
mod authorisation;
mod back_office;
mod catalogue;
mod deadlines;
mod dossiers;
mod errors;
mod id_tokens;
mod identity;
mod interop;
mod monitoring;
mod national_sync;
mod notifications;
mod outbox;
mod pages;
mod passkeys;
mod payments;
mod payments_property;
mod prefill;
mod pwa;
mod records;
mod satisfaction;
mod schemathesis;
mod storage;
mod wallet;
mod warehouse;
