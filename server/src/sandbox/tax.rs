//! The sandbox tax authority: the land-related payment notices of the demo organisations (JSON
//! over HTTP with the platform's API key), and the payments the platform reports, which mark
//! instalments paid (each payment taken once).

use std::{
    collections::BTreeSet,
    sync::{Arc, RwLock},
};

use axum::{
    Json, Router,
    extract::{Query, Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use motcua_shared::{
    calendar::Day,
    registry::{Beneficiary, LandNotice, NoticeInstalment, NoticePayment, Parcel},
};
use serde::Deserialize;
use serde_json::json;

use crate::security::same_secret;

/// A notice as seeded: dates relative to the day the sandbox starts.
#[derive(Debug, Clone, Deserialize)]
struct SeedNotice {
    number: String,
    kind: String,
    notice_type: String,
    issued_days_ago: i64,
    #[serde(default)]
    year: Option<i32>,
    tax_code: String,
    tax_office: String,
    parcel: Parcel,
    amount_vnd: i64,
    exemption_vnd: i64,
    allows_instalments: bool,
    instalments: Vec<SeedInstalment>,
    beneficiary: Beneficiary,
}

#[derive(Debug, Clone, Deserialize)]
struct SeedInstalment {
    number: u32,
    due_in_days: i64,
    amount_vnd: i64,
    #[serde(default)]
    paid: bool,
}

#[derive(Debug, Deserialize)]
struct SeedFile {
    #[serde(default)]
    land_notice: Vec<SeedNotice>,
    #[serde(default)]
    organisation: Vec<super::people::DemoOrganisation>,
}

pub struct SandboxTax {
    api_key: String,
    notices: RwLock<Vec<LandNotice>>,
    reported: RwLock<BTreeSet<String>>,
}

impl SandboxTax {
    pub fn load(api_key: String, today: Day) -> anyhow::Result<SandboxTax> {
        let seed: SeedFile = toml::from_str(include_str!("../../seed/sandbox/people.toml"))?;
        let name_of = |tax_code: &str| {
            seed.organisation
                .iter()
                .find(|o| o.tax_code.as_str() == tax_code)
                .map(|o| o.name.clone())
                .unwrap_or_default()
        };
        let notices = seed
            .land_notice
            .iter()
            .map(|n| LandNotice {
                number: n.number.clone(),
                kind: n.kind.clone(),
                notice_type: n.notice_type.clone(),
                notice_date: Day(today.0 - n.issued_days_ago).iso(),
                year: n.year,
                tax_code: n.tax_code.clone(),
                payer_name: name_of(&n.tax_code),
                tax_office: n.tax_office.clone(),
                parcel: n.parcel.clone(),
                amount_vnd: n.amount_vnd,
                exemption_vnd: n.exemption_vnd,
                payable_vnd: n.amount_vnd - n.exemption_vnd,
                allows_instalments: n.allows_instalments,
                instalments: n
                    .instalments
                    .iter()
                    .map(|i| NoticeInstalment {
                        number: i.number,
                        due_on: Day(today.0 + i.due_in_days).iso(),
                        amount_vnd: i.amount_vnd,
                        paid: i.paid,
                    })
                    .collect(),
                beneficiary: n.beneficiary.clone(),
            })
            .collect();
        Ok(SandboxTax {
            api_key,
            notices: RwLock::new(notices),
            reported: RwLock::new(BTreeSet::new()),
        })
    }

    /// Whether the platform reported payment `payment_id` (for tests).
    pub fn was_reported(&self, payment_id: &str) -> bool {
        self.reported.read().is_ok_and(|r| r.contains(payment_id))
    }
}

type Shared = Arc<SandboxTax>;

pub fn routes(tax: Shared) -> Router<crate::AppState> {
    Router::new()
        .route("/sandbox/tax/v1/notices", get(notices_of))
        .route("/sandbox/tax/v1/payments", post(report_payment))
        .layer(middleware::from_fn_with_state(tax.clone(), require_api_key))
        .with_state(tax)
}

async fn require_api_key(State(tax): State<Shared>, request: Request, next: Next) -> Response {
    let key = request
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !same_secret(key, &tax.api_key) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_api_key"})),
        )
            .into_response();
    }
    next.run(request).await
}

#[derive(Deserialize)]
struct TaxCodeQuery {
    tax_code: String,
}

async fn notices_of(State(tax): State<Shared>, Query(q): Query<TaxCodeQuery>) -> Response {
    let notices: Vec<LandNotice> = tax
        .notices
        .read()
        .map(|all| {
            all.iter()
                .filter(|n| n.tax_code == q.tax_code)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    Json(json!({ "notices": notices })).into_response()
}

async fn report_payment(State(tax): State<Shared>, Json(payment): Json<NoticePayment>) -> Response {
    let first = tax
        .reported
        .write()
        .map(|mut r| r.insert(payment.payment_id.clone()))
        .unwrap_or(false);
    if first && let Ok(mut all) = tax.notices.write() {
        for line in &payment.lines {
            if let Some(instalment) = all
                .iter_mut()
                .filter(|n| n.number == line.notice_number && n.tax_code == payment.tax_code)
                .flat_map(|n| n.instalments.iter_mut())
                .find(|i| i.number == line.instalment)
            {
                instalment.paid = true;
            }
        }
    }
    Json(json!({ "acknowledged": true, "payment_id": payment.payment_id })).into_response()
}
