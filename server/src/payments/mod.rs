//! Online payment: procedure fees and businesses' land obligations, through a VNPay-protocol
//! gateway, on a double-entry ledger, exactly once.
//!
//! - `POST /payments` (signed in, `Idempotency-Key`, a fresh proof of identity) starts a payment
//!   of a dossier's fee or of the notices of the organisation the session acts for, and answers
//!   it with the signed gateway URL. What it pays is claimed at once, so nothing has two live
//!   payments and nothing is paid twice.
//! - The gateway's IPN (`GET /payments/vnpay/ipn`) is the only thing that confirms a payment; the
//!   browser's return (`/payments/vnpay/return`, the PWA's page, checked through
//!   `GET /payments/vnpay/return-check`) only shows what is known.
//! - A payment still pending past its expiry is settled by asking the gateway (querydr); money
//!   taken that is not owed goes back by refund; each day's ledger is reconciled with the
//!   gateway's settlement ([`reconcile`]).

pub mod decide;
pub mod jobs;
pub mod obligations;
pub mod reconcile;
pub mod storage;
pub mod vnpay;

use std::sync::Arc;

use axum::{
    Json,
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use motcua_shared::{
    ErrorCode, Localized,
    credential::{CredentialKind, Field},
    payment_api::{PaymentList, PaymentView, ReturnCheck, StartPayment},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState, Config,
    error::{ApiError, AppJson, AppPath, AppQuery},
    http::page::PageQuery,
    identity::{AuthUser, ClientMeta},
    store::{StoreError, now_ms},
};
use storage::{GatewayWord, NewPayment, Payment, Started};

/// The agency that signs receipts for land obligations (the tax authority).
pub const TAX_AGENCY: &str = "CUC-THUE";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start, mine))
        .routes(routes!(one))
        .routes(routes!(ipn))
        .routes(routes!(return_check))
        .routes(routes!(obligations::list))
}

/// Where the gateway is when none is configured: the embedded sandbox gateway.
#[derive(Debug, Clone)]
pub struct GatewayDefaults {
    pub pay_url: String,
    pub query_url: String,
    pub settlement_url: String,
    pub tmn_code: String,
    pub hash_secret: String,
}

/// The payment gateway this server uses, when configured.
pub struct Payments {
    pub gateway: Option<vnpay::Gateway>,
}

impl Payments {
    pub fn new(config: &Config, defaults: Option<&GatewayDefaults>) -> anyhow::Result<Payments> {
        let pick = |configured: &str, default: Option<&str>| -> String {
            if configured.is_empty() {
                default.unwrap_or_default().to_owned()
            } else {
                configured.to_owned()
            }
        };
        let pay_url = pick(&config.vnpay_pay_url, defaults.map(|d| d.pay_url.as_str()));
        let secret = pick(
            config.vnpay_hash_secret.expose(),
            defaults.map(|d| d.hash_secret.as_str()),
        );
        let tmn = pick(
            &config.vnpay_tmn_code,
            defaults.map(|d| d.tmn_code.as_str()),
        );
        if pay_url.is_empty() || secret.is_empty() || tmn.is_empty() {
            return Ok(Payments { gateway: None });
        }
        let merchant = vnpay::Merchant {
            tmn_code: tmn,
            hash_secret: crate::config::Secret::new(secret),
            pay_url,
            query_url: pick(
                &config.vnpay_query_url,
                defaults.map(|d| d.query_url.as_str()),
            ),
            return_url: format!(
                "{}/payments/vnpay/return",
                config.public_url.trim_end_matches('/')
            ),
        };
        let settlement = pick(
            &config.vnpay_settlement_url,
            defaults.map(|d| d.settlement_url.as_str()),
        );
        Ok(Payments {
            gateway: Some(vnpay::Gateway::new(merchant, settlement)?),
        })
    }

    pub fn gateway(&self) -> Result<&vnpay::Gateway, ApiError> {
        self.gateway.as_ref().ok_or(ApiError::Unavailable)
    }
}

fn valid_key(key: &str) -> bool {
    (8..=100).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A new order reference: the GMT+7 day and ten random characters (unique per day, as the
/// gateway needs; unique for ever here).
fn new_txn_ref(now: i64) -> String {
    let day = &vnpay::gmt7(now)[..8];
    let random: String = crate::security::random_token(16)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .take(10)
        .collect();
    format!("{day}{random}")
}

/// The receipt (biên lai điện tử) a confirmed payment puts in the payer's wallet: who paid, the
/// receipt number (the order reference), the total, and each thing paid with its late interest.
pub fn receipt_draft(payment: &Payment, payer_name: &str) -> crate::wallet::issue::Draft {
    let mut lines: Vec<String> = Vec::new();
    if let Some(org) = &payment.view.payer_org {
        lines.push(format!("MST {org}"));
    }
    for item in &payment.view.items {
        let mut line = format!("{} {}", item.reference, item.principal_vnd.0);
        if item.interest_vnd.0 > 0 {
            line.push_str(&format!(
                " + lai cham nop {} ({} ngay)",
                item.interest_vnd.0, item.late_days
            ));
        }
        lines.push(line);
    }
    let today =
        motcua_shared::calendar::Day::of_instant(payment.view.paid_at.unwrap_or_else(now_ms));
    let (y, m, d) = today.ymd();
    crate::wallet::issue::Draft {
        kind: CredentialKind::Receipt,
        title: Localized {
            vi: "Biên lai thu điện tử".into(),
            en: "Electronic receipt".into(),
        },
        issued_on: format!("{y:04}-{m:02}-{d:02}"),
        valid_until: None,
        fields: vec![
            Field::Name(payer_name.to_owned()),
            Field::Number(payment.view.txn_ref.clone()),
            Field::AmountVnd(payment.view.amount_vnd.0),
            Field::Reference(lines.join("; ")),
        ],
    }
}

/// Applies the gateway's word on order `txn_ref`: the receipt's signer is found first (outside
/// the transaction), then everything is written in one. `01` when there is no such order.
pub async fn apply_word(
    state: &AppState,
    txn_ref: &str,
    word: &GatewayWord,
) -> Result<decide::IpnAnswer, ApiError> {
    let Some(payment) = state.store.payment_by_ref(txn_ref).await? else {
        return Ok(decide::IpnAnswer::OrderNotFound);
    };
    let agency = match &payment.view.dossier_id {
        Some(id) => state
            .store
            .dossier(id)
            .await?
            .map(|d| d.view.agency_code)
            .unwrap_or_else(|| TAX_AGENCY.to_owned()),
        None => TAX_AGENCY.to_owned(),
    };
    let key = state
        .store
        .signing_key(state.keys.as_ref(), &agency, false)
        .await?;
    let payer_name = match &payment.view.payer_org {
        Some(tax_code) => state
            .store
            .organisation_name(tax_code)
            .await?
            .unwrap_or_else(|| tax_code.clone()),
        None => state
            .store
            .person(&payment.payer_id)
            .await?
            .map(|p| p.name)
            .unwrap_or_default(),
    };
    let calendar = crate::dossiers::calendar()?;
    let receipt = move |p: &Payment| receipt_draft(p, &payer_name);
    let answer = state
        .store
        .apply_gateway_word(
            txn_ref,
            word,
            &storage::Confirming {
                key: &key,
                public_url: &state.config.public_url,
                calendar,
                receipt: &receipt,
            },
        )
        .await?;
    Ok(answer)
}

/// Starts a payment of a dossier's fee (`dossier_id`) or of payment notices (`notices`, for the
/// organisation the session acts for) and answers it with the gateway URL to go to. Needs an
/// `Idempotency-Key` header: the same key and body give the same payment (200); the same key with
/// another body is refused. Needs a proof of identity from the last minutes (`step_up_required`).
#[utoipa::path(
    post, path = "/payments", tag = "payments",
    request_body = StartPayment,
    params(("Idempotency-Key" = String, Header, description = "8 to 100 letters, digits, - or _; one per payment the person means")),
    responses(
        (status = 201, description = "Started: go to `pay_url`", body = PaymentView),
        (status = 200, description = "This key, or a live payment of the same things, was made before: that payment", body = PaymentView),
        (status = 400, description = "No Idempotency-Key", body = motcua_shared::ErrorBody),
        (status = 403, description = "A fresh proof of identity is needed, or the session acts for no organisation", body = motcua_shared::ErrorBody),
        (status = 409, description = "Already paid, or another payment of it is under way", body = motcua_shared::ErrorBody),
        (status = 422, description = "Nothing to pay, an unknown notice, or a key used for another request", body = motcua_shared::ErrorBody),
    )
)]
async fn start(
    State(state): State<AppState>,
    user: AuthUser,
    client: ClientMeta,
    headers: HeaderMap,
    AppJson(body): AppJson<StartPayment>,
) -> Result<Response, ApiError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::bad_request(ErrorCode::IdempotencyKeyRequired))?;
    if !valid_key(key) {
        return Err(ApiError::validation(ErrorCode::InvalidIdempotencyKey));
    }
    let acting_for = user.session.acting_for.clone();
    let request_hash = crate::security::sha256_hex(
        &serde_json::json!({ "request": body, "acting_for": acting_for }).to_string(),
    );
    if let Some(existing) = state.store.payment_for_key(&user.person.id, key).await? {
        return replay(existing, &request_hash);
    }
    user.require_fresh(state.config.step_up_max_age_ms())?;
    if let Some(bank) = &body.bank_code
        && (bank.is_empty() || bank.len() > 20 || !bank.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return Err(ApiError::validation(ErrorCode::InvalidBankCode));
    }
    let now = now_ms();
    let (purpose, items, dossier_id, payer_org) = match (&body.dossier_id, body.notices.is_empty())
    {
        (Some(dossier_id), true) => {
            let items = obligations::dossier_fee_items(&state, &user, dossier_id).await?;
            ("dossier_fee", items, Some(dossier_id.clone()), None)
        }
        (None, false) => {
            let (tax_code, items) =
                obligations::notice_items(&state, &user, &body.notices, now).await?;
            ("land_obligations", items, None, Some(tax_code))
        }
        _ => return Err(ApiError::validation(ErrorCode::NothingToPay)),
    };
    let gateway = state.payments.gateway()?;
    let txn_ref = new_txn_ref(now);
    let expires_at = now + i64::from(state.config.payment_expiry_minutes.max(1)) * 60_000;
    let order_info = match &dossier_id {
        Some(_) => format!(
            "Le phi ho so {}",
            items.first().map(|i| i.reference.as_str()).unwrap_or("")
        ),
        None => format!(
            "Nop tien dat MST {} {}",
            payer_org.as_deref().unwrap_or(""),
            items
                .iter()
                .map(|i| i.reference.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        ),
    };
    let new = NewPayment {
        id: uuid::Uuid::new_v4().to_string(),
        txn_ref: txn_ref.clone(),
        payer_id: user.person.id.clone(),
        payer_org,
        idempotency_key: key.to_owned(),
        request_hash: request_hash.clone(),
        purpose,
        dossier_id,
        order_info: vnpay::order_info(&order_info),
        gateway_created: vnpay::gmt7(now),
        pay_url: String::new(),
        created_at: now,
        expires_at,
        items,
    };
    let amount = new.amount();
    if amount <= 0 {
        return Err(ApiError::validation(ErrorCode::NothingToPay));
    }
    let lang = crate::i18n::lang_of(&headers);
    let pay_url = gateway.merchant.pay_url(&vnpay::PayRequest {
        txn_ref: &txn_ref,
        amount_vnd: amount,
        order_info: &new.order_info,
        created_at_ms: now,
        expires_at_ms: expires_at,
        ip: client.ip.as_deref().unwrap_or("127.0.0.1"),
        locale: if lang == motcua_shared::Lang::En {
            "en"
        } else {
            "vn"
        },
        bank_code: body.bank_code.as_deref(),
    });
    let new = NewPayment { pay_url, ..new };
    let actor = format!("person:{}", user.person.id);
    let started = match state.store.start_payment(&new, &actor).await {
        Ok(started) => started,
        // A concurrent start with this key, or of the same thing, won.
        Err(StoreError::Conflict { .. }) => {
            if let Some(existing) = state.store.payment_for_key(&user.person.id, key).await? {
                return replay(existing, &request_hash);
            }
            return Err(ApiError::conflict(ErrorCode::PaymentInProgress));
        }
        Err(e) => return Err(e.into()),
    };
    match started {
        Started::New(payment) => Ok((StatusCode::CREATED, Json(payment.view)).into_response()),
        Started::Replayed(payment) => replay(*payment, &request_hash),
        Started::Held { paid: true, .. } => Err(ApiError::conflict(ErrorCode::AlreadyPaid)),
        Started::Held { payment_id, .. } => {
            // A live payment of exactly these things by this person is the one to go on with.
            let live = state.store.payment(&payment_id).await?;
            match live {
                Some(live)
                    if live.payer_id == user.person.id && same_things(&live.claims, &new.items) =>
                {
                    Ok((StatusCode::OK, Json(live.view)).into_response())
                }
                _ => Err(ApiError::conflict(ErrorCode::PaymentInProgress)),
            }
        }
    }
}

fn same_things(claims: &[String], items: &[storage::NewItem]) -> bool {
    let mut a: Vec<&str> = claims.iter().map(String::as_str).collect();
    let mut b: Vec<&str> = items.iter().map(|i| i.claim.as_str()).collect();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

/// A key used before: its payment when the request is the same, 422 otherwise.
fn replay(existing: Payment, request_hash: &str) -> Result<Response, ApiError> {
    if !crate::security::same_secret(&existing.request_hash, request_hash) {
        return Err(ApiError::validation(ErrorCode::IdempotencyKeyReused));
    }
    Ok((StatusCode::OK, Json(existing.view)).into_response())
}

/// The signed-in person's payments, newest first.
#[utoipa::path(get, path = "/payments", tag = "payments", params(PageQuery), responses((status = 200, description = "Newest first", body = PaymentList)))]
async fn mine(
    State(state): State<AppState>,
    user: AuthUser,
    AppQuery(asked): AppQuery<PageQuery>,
) -> Result<AppJson<PaymentList>, ApiError> {
    let page = asked.page()?;
    let rows = state.store.payments_of(&user.person.id, &page).await?;
    let (rows, next) = page.finish(rows, |p| (p.view.created_at, &p.view.id));
    let payments = rows.into_iter().map(|p| p.view).collect();
    Ok(AppJson(PaymentList { payments, next }))
}

/// One of the person's payments (another's is 404).
#[utoipa::path(
    get, path = "/payments/{id}", tag = "payments",
    params(("id" = String, Path, description = "The payment's id")),
    responses((status = 200, description = "The payment", body = PaymentView), (status = 404, description = "No such payment of yours", body = motcua_shared::ErrorBody))
)]
async fn one(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<PaymentView>, ApiError> {
    let payment = state
        .store
        .payment(&id)
        .await?
        .filter(|p| p.payer_id == user.person.id)
        .ok_or(ApiError::NotFound)?;
    Ok(AppJson(payment.view))
}

/// The gateway's answer to an IPN.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct IpnReply {
    #[serde(rename = "RspCode")]
    rsp_code: &'static str,
    #[serde(rename = "Message")]
    message: &'static str,
}

fn ipn_reply(answer: decide::IpnAnswer) -> Response {
    (
        StatusCode::OK,
        Json(IpnReply {
            rsp_code: answer.code(),
            message: answer.message(),
        }),
    )
        .into_response()
}

/// The gateway's server-to-server notification (IPN): the only thing that confirms a payment.
/// Checks the signature (`97`), finds the order (`01`), compares the amount (`04`), ignores what
/// is already handled (`02`), then confirms or fails the payment (`00`). Money taken for a closed
/// order or with the wrong amount is recorded and refunded.
#[utoipa::path(
    get, path = "/payments/vnpay/ipn", tag = "payments",
    responses((status = 200, description = "`{\"RspCode\", \"Message\"}` as the gateway expects", body = IpnReply))
)]
async fn ipn(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let Some(gateway) = state.payments.gateway.as_ref() else {
        return ipn_reply(decide::IpnAnswer::Unknown);
    };
    let query = query.unwrap_or_default();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let note = match vnpay::read_notification(gateway.merchant.hash_secret.expose(), pairs) {
        Ok(note) => note,
        Err(vnpay::NotificationError::BadSignature) => {
            tracing::warn!("an IPN with a bad signature was refused");
            return ipn_reply(decide::IpnAnswer::InvalidSignature);
        }
        Err(vnpay::NotificationError::Malformed) => return ipn_reply(decide::IpnAnswer::Unknown),
    };
    if note.tmn_code != gateway.merchant.tmn_code {
        return ipn_reply(decide::IpnAnswer::OrderNotFound);
    }
    let word = GatewayWord {
        paid: note.paid(),
        amount_x100: note.amount_x100,
        transaction_no: note.transaction_no.clone(),
        bank_code: note.bank_code.clone(),
        response_code: note.response_code.clone(),
        pay_date: note.pay_date.clone(),
        source: "ipn",
    };
    match apply_word(&state, &note.txn_ref, &word).await {
        Ok(answer) => {
            tracing::info!(txn_ref = %note.txn_ref, answer = answer.code(), "IPN handled");
            ipn_reply(answer)
        }
        Err(e) => {
            tracing::error!(error = %e, txn_ref = %note.txn_ref, "an IPN could not be handled");
            ipn_reply(decide::IpnAnswer::Unknown)
        }
    }
}

/// What the return page shows: whether the gateway's message is genuine, what it says, and the
/// payment as the server knows it (to its signed-in payer only). It changes nothing: only the
/// IPN confirms.
#[utoipa::path(
    get, path = "/payments/vnpay/return-check", tag = "payments",
    responses((status = 200, description = "What is known", body = ReturnCheck))
)]
async fn return_check(
    State(state): State<AppState>,
    user: AuthUser,
    RawQuery(query): RawQuery,
) -> Result<AppJson<ReturnCheck>, ApiError> {
    let gateway = state.payments.gateway()?;
    let query = query.unwrap_or_default();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let Ok(note) = vnpay::read_notification(gateway.merchant.hash_secret.expose(), pairs) else {
        return Ok(AppJson(ReturnCheck {
            signature_valid: false,
            response_code: None,
            payment: None,
        }));
    };
    let payment = state
        .store
        .payment_by_ref(&note.txn_ref)
        .await?
        .filter(|p| p.payer_id == user.person.id)
        .map(|p| p.view);
    Ok(AppJson(ReturnCheck {
        signature_valid: true,
        response_code: Some(note.response_code),
        payment,
    }))
}

/// The shared handle in [`AppState`].
pub type Shared = Arc<Payments>;
