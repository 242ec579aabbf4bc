//! The sandbox national registers (population, driving licences, drivers' health certificates and
//! electronic birth notices):
//! JSON over HTTP with an API key, as the national data-exchange platform serves them, answered
//! from the synthetic seed.

use std::sync::{Arc, RwLock};

use axum::{
    Json, Router,
    extract::{Path, Query, Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, put},
};
use motcua_shared::registry::{
    BirthNotice, DrivingLicence, HealthCertificate, HealthInsuranceCard, PopulationRecord,
};
use serde::Deserialize;
use serde_json::json;

use super::people::DemoPerson;
use crate::security::same_secret;

pub struct SandboxRegistries {
    pub api_key: String,
    people: Vec<DemoPerson>,
    /// Changeable, as the traffic police suspend and lift licences (`PUT …/status`).
    licences: RwLock<Vec<DrivingLicence>>,
    certificates: Vec<HealthCertificate>,
    births: Vec<BirthNotice>,
    cards: Vec<HealthInsuranceCard>,
}

impl SandboxRegistries {
    pub fn load(api_key: String, people: Vec<DemoPerson>) -> anyhow::Result<SandboxRegistries> {
        Ok(SandboxRegistries {
            api_key,
            people,
            licences: RwLock::new(super::people::licences()?),
            certificates: super::people::health_certificates()?,
            births: super::people::birth_notices()?,
            cards: super::people::insurance_cards()?,
        })
    }
}

type Shared = Arc<SandboxRegistries>;

pub fn routes(registries: Shared) -> Router<crate::AppState> {
    Router::new()
        .route("/sandbox/population/v1/people/{cccd}", get(person))
        .route("/sandbox/licences/v1/licences", get(licences_of))
        .route("/sandbox/licences/v1/licences/{number}", get(licence))
        .route(
            "/sandbox/licences/v1/licences/{number}/status",
            put(set_licence_status),
        )
        .route("/sandbox/health/v1/certificates", get(certificates_of))
        .route("/sandbox/health/v1/certificates/{code}", get(certificate))
        .route("/sandbox/health/v1/birth-notices", get(birth_notices_of))
        .route("/sandbox/insurance/v1/cards", get(cards_of))
        .layer(middleware::from_fn_with_state(
            registries.clone(),
            require_api_key,
        ))
        .with_state(registries)
}

/// Every register refuses callers without the platform's API key.
async fn require_api_key(
    State(registries): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    let key = request
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !same_secret(key, &registries.api_key) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_api_key"})),
        )
            .into_response();
    }
    next.run(request).await
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"error": "not_found"}))).into_response()
}

async fn person(State(registries): State<Shared>, Path(cccd): Path<String>) -> Response {
    match registries.people.iter().find(|p| p.cccd.as_str() == cccd) {
        Some(p) => Json(PopulationRecord {
            cccd: p.cccd.as_str().to_owned(),
            full_name: p.name.clone(),
            birth_date: p.birthdate.clone(),
            sex: p.sex.clone(),
            permanent_residence: p.address.written(),
            residence_address: Some(p.address.clone()),
            household_id: p.household_id.clone(),
            household_relation: p.household_relation.clone(),
            phone: p.phone.clone(),
            birth_place: p.civil.birth_place.clone(),
            ethnicity: p.civil.ethnicity.clone(),
            nationality: p.civil.nationality.clone(),
            father_name: p.civil.father_name.clone(),
            mother_name: p.civil.mother_name.clone(),
            spouse_name: p.civil.spouse_name.clone(),
            marital_status: p.civil.marital_status.clone(),
        })
        .into_response(),
        None => not_found(),
    }
}

#[derive(Deserialize)]
struct HolderQuery {
    holder_cccd: String,
}

async fn cards_of(State(registries): State<Shared>, Query(q): Query<HolderQuery>) -> Response {
    let cards: Vec<&HealthInsuranceCard> = registries
        .cards
        .iter()
        .filter(|c| c.holder_cccd == q.holder_cccd)
        .collect();
    Json(json!({ "cards": cards })).into_response()
}

fn licences(registries: &SandboxRegistries) -> std::sync::RwLockReadGuard<'_, Vec<DrivingLicence>> {
    registries
        .licences
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn licences_of(State(registries): State<Shared>, Query(q): Query<HolderQuery>) -> Response {
    let all = licences(&registries);
    let found: Vec<&DrivingLicence> = all
        .iter()
        .filter(|l| l.holder_cccd == q.holder_cccd)
        .collect();
    Json(json!({ "licences": found })).into_response()
}

async fn licence(State(registries): State<Shared>, Path(number): Path<String>) -> Response {
    match licences(&registries).iter().find(|l| l.number == number) {
        Some(l) => Json(l).into_response(),
        None => not_found(),
    }
}

#[derive(Deserialize)]
struct SetStatus {
    status: motcua_shared::registry::LicenceStatus,
}

/// The register's own change: the traffic police suspend a licence, lift the suspension or
/// revoke it (what a demo or a test does to the register).
async fn set_licence_status(
    State(registries): State<Shared>,
    Path(number): Path<String>,
    Json(body): Json<SetStatus>,
) -> Response {
    let mut all = registries
        .licences
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match all.iter_mut().find(|l| l.number == number) {
        Some(l) => {
            l.status = body.status;
            Json(l.clone()).into_response()
        }
        None => not_found(),
    }
}

async fn certificates_of(
    State(registries): State<Shared>,
    Query(q): Query<HolderQuery>,
) -> Response {
    let found: Vec<&HealthCertificate> = registries
        .certificates
        .iter()
        .filter(|c| c.holder_cccd == q.holder_cccd)
        .collect();
    Json(json!({ "certificates": found })).into_response()
}

async fn certificate(State(registries): State<Shared>, Path(code): Path<String>) -> Response {
    match registries.certificates.iter().find(|c| c.code == code) {
        Some(c) => Json(c).into_response(),
        None => not_found(),
    }
}

#[derive(Deserialize)]
struct ParentQuery {
    parent_cccd: String,
}

/// Birth notices where the person is the mother or the father.
async fn birth_notices_of(
    State(registries): State<Shared>,
    Query(q): Query<ParentQuery>,
) -> Response {
    let found: Vec<&BirthNotice> = registries
        .births
        .iter()
        .filter(|b| {
            b.mother_cccd == q.parent_cccd || b.father_cccd.as_deref() == Some(&*q.parent_cccd)
        })
        .collect();
    Json(json!({ "birth_notices": found })).into_response()
}
