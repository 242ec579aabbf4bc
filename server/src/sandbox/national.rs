//! The sandbox National Public Service Portal and EMC: they take what a one-stop system sends
//! (JSON "sync dossier" and "update progress"; EMC's form-encoded actions, answered 204), each
//! message once by its id, record it, and serve it back: everything received (for tests and
//! the demo) and the per-dossier report a province reconciles against. Either can be told to
//! fail its next requests, to show retries catching up.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex},
};

use axum::{
    Form, Json, Router,
    extract::{Path, Query, Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    monitoring::national::{EmcAction, Held, HeldDossier, PortalDossier, PortalProgress},
    security::same_secret,
    store::now_ms,
};

/// One message as the sandbox took it.
#[derive(Debug, Clone, Serialize)]
pub struct Received<T> {
    /// Unix ms.
    pub at: i64,
    pub message: T,
}

#[derive(Default)]
struct Recorded {
    dossiers: Vec<Received<PortalDossier>>,
    progress: Vec<Received<PortalProgress>>,
    emc: Vec<Received<EmcAction>>,
    seen: HashSet<String>,
    /// Requests to refuse with 503 before taking any again, per system.
    portal_failures: u32,
    emc_failures: u32,
}

pub struct SandboxNational {
    api_key: String,
    recorded: Mutex<Recorded>,
}

impl SandboxNational {
    pub fn new(api_key: String) -> SandboxNational {
        SandboxNational {
            api_key,
            recorded: Mutex::new(Recorded::default()),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Recorded) -> T) -> T {
        let mut recorded = self
            .recorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut recorded)
    }

    /// The portal refuses its next `n` requests with 503 (an outage).
    pub fn fail_portal(&self, n: u32) {
        self.with(|r| r.portal_failures = n);
    }

    /// EMC refuses its next `n` requests with 503.
    pub fn fail_emc(&self, n: u32) {
        self.with(|r| r.emc_failures = n);
    }

    /// The progress steps the portal took of dossier `number`, in the order taken.
    pub fn progress_of(&self, number: &str) -> Vec<PortalProgress> {
        self.with(|r| {
            r.progress
                .iter()
                .filter(|p| p.message.MaHoSo == number)
                .map(|p| p.message.clone())
                .collect()
        })
    }

    /// The newest state of dossier `number` the portal holds.
    pub fn dossier(&self, number: &str) -> Option<PortalDossier> {
        self.with(|r| {
            r.dossiers
                .iter()
                .rev()
                .find(|d| d.message.MaHoSo == number)
                .map(|d| d.message.clone())
        })
    }

    /// The actions EMC took of dossier `number`, in the order taken.
    pub fn emc_actions_of(&self, number: &str) -> Vec<EmcAction> {
        self.with(|r| {
            r.emc
                .iter()
                .filter(|a| a.message.code_profile == number)
                .map(|a| a.message.clone())
                .collect()
        })
    }

    /// What the portal holds of the dossiers filed in `[from, to)` (Unix ms).
    fn portal_held(&self, from: i64, to: i64) -> Held {
        self.with(|r| {
            let mut by_number: BTreeMap<String, HeldDossier> = BTreeMap::new();
            for d in &r.dossiers {
                let filed = crate::payments::vnpay::parse_gmt7(&d.message.NgayNopHoSo);
                if filed.is_some_and(|t| t >= from && t < to) {
                    by_number
                        .entry(d.message.MaHoSo.clone())
                        .or_insert_with(|| HeldDossier {
                            number: d.message.MaHoSo.clone(),
                            changes: 0,
                            status: 0,
                        })
                        .status = d.message.TrangThaiHoSo;
                }
            }
            for p in &r.progress {
                if let Some(held) = by_number.get_mut(&p.message.MaHoSo) {
                    held.changes += 1;
                }
            }
            Held {
                dossiers: by_number.into_values().collect(),
            }
        })
    }

    /// What EMC holds of the dossiers whose first action it took in `[from, to)`.
    fn emc_held(&self, from: i64, to: i64) -> Held {
        self.with(|r| {
            let mut by_number: BTreeMap<String, (i64, HeldDossier)> = BTreeMap::new();
            for a in &r.emc {
                let entry = by_number
                    .entry(a.message.code_profile.clone())
                    .or_insert_with(|| {
                        (
                            a.at,
                            HeldDossier {
                                number: a.message.code_profile.clone(),
                                changes: 0,
                                status: 0,
                            },
                        )
                    });
                entry.1.changes += 1;
                entry.1.status = a.message.status;
            }
            Held {
                dossiers: by_number
                    .into_values()
                    .filter(|(first, _)| *first >= from && *first < to)
                    .map(|(_, held)| held)
                    .collect(),
            }
        })
    }
}

type Shared = Arc<SandboxNational>;

pub fn routes(national: Shared) -> Router<crate::AppState> {
    Router::new()
        .route("/sandbox/dvcqg/v1/dossiers", post(sync_dossier))
        .route(
            "/sandbox/dvcqg/v1/dossiers/{number}/progress",
            post(update_progress),
        )
        .route(
            "/sandbox/dvcqg/v1/reconciliation",
            get(portal_reconciliation),
        )
        .route("/sandbox/dvcqg/v1/received", get(portal_received))
        .route("/sandbox/emc/api/dossier-actions", post(emc_action))
        .route("/sandbox/emc/v1/reconciliation", get(emc_reconciliation))
        .route("/sandbox/emc/v1/received", get(emc_received))
        .layer(middleware::from_fn_with_state(
            national.clone(),
            require_api_key,
        ))
        .with_state(national)
}

async fn require_api_key(State(national): State<Shared>, request: Request, next: Next) -> Response {
    let key = request
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !same_secret(key, &national.api_key) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error_code": 401, "message": "invalid api key"})),
        )
            .into_response();
    }
    next.run(request).await
}

/// Why the sandbox did not take a message.
enum Refusal {
    /// An outage the test asked for: 503 with `Retry-After: 1`.
    Outage,
    /// Progress of a dossier never synced.
    UnknownDossier,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Outage => (
                StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", "1")],
                Json(json!({"error_code": 503, "message": "bảo trì"})),
            )
                .into_response(),
            Refusal::UnknownDossier => (
                StatusCode::NOT_FOUND,
                Json(json!({"error_code": 404, "message": "unknown dossier"})),
            )
                .into_response(),
        }
    }
}

/// Takes a message once (`Ok(false)`: already taken).
fn take(
    r: &mut Recorded,
    portal: bool,
    id: &str,
    record: impl FnOnce(&mut Recorded),
) -> Result<bool, Refusal> {
    let failures = if portal {
        &mut r.portal_failures
    } else {
        &mut r.emc_failures
    };
    if *failures > 0 {
        *failures -= 1;
        return Err(Refusal::Outage);
    }
    if !r.seen.insert(id.to_owned()) {
        return Ok(false);
    }
    record(r);
    Ok(true)
}

async fn sync_dossier(State(national): State<Shared>, Json(d): Json<PortalDossier>) -> Response {
    let id = d.message_id.clone();
    let taken = national.with(|r| {
        take(r, true, &id, |r| {
            r.dossiers.push(Received {
                at: now_ms(),
                message: d,
            });
        })
    });
    match taken {
        Ok(first) => {
            Json(json!({"error_code": 0, "message": "OK", "duplicate": !first})).into_response()
        }
        Err(refusal) => refusal.into_response(),
    }
}

async fn update_progress(
    State(national): State<Shared>,
    Path(number): Path<String>,
    Json(p): Json<PortalProgress>,
) -> Response {
    if p.MaHoSo != number {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error_code": 400, "message": "MaHoSo does not match the path"})),
        )
            .into_response();
    }
    let id = p.message_id.clone();
    let taken = national.with(|r| {
        if !r.dossiers.iter().any(|d| d.message.MaHoSo == number) {
            return Err(Refusal::UnknownDossier);
        }
        take(r, true, &id, |r| {
            r.progress.push(Received {
                at: now_ms(),
                message: p,
            });
        })
    });
    match taken {
        Ok(first) => {
            Json(json!({"error_code": 0, "message": "OK", "duplicate": !first})).into_response()
        }
        Err(refusal) => refusal.into_response(),
    }
}

async fn emc_action(State(national): State<Shared>, Form(a): Form<EmcAction>) -> Response {
    let taken = national.with(|r| {
        let id = format!("emc:{}", a.action_id);
        take(r, false, &id, |r| {
            r.emc.push(Received {
                at: now_ms(),
                message: a,
            });
        })
    });
    match taken {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

#[derive(Deserialize)]
struct Period {
    from: i64,
    to: i64,
}

async fn portal_reconciliation(
    State(national): State<Shared>,
    Query(p): Query<Period>,
) -> Json<Held> {
    Json(national.portal_held(p.from, p.to))
}

async fn emc_reconciliation(State(national): State<Shared>, Query(p): Query<Period>) -> Json<Held> {
    Json(national.emc_held(p.from, p.to))
}

async fn portal_received(State(national): State<Shared>) -> Response {
    national
        .with(|r| Json(json!({"dossiers": r.dossiers, "progress": r.progress})))
        .into_response()
}

async fn emc_received(State(national): State<Shared>) -> Response {
    national
        .with(|r| Json(json!({"actions": r.emc})))
        .into_response()
}
