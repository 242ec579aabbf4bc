//! The sandbox payment gateway, speaking the VNPay protocol 2.1.0 like the real one:
//!
//! - `GET /sandbox/vnpay/paymentv2/vpcpay.html?…` checks the signed pay URL and shows a pay page:
//!   choose a bank, then succeed, fail (insufficient funds), cancel, time out, or "suspected";
//!   and, for testing, how the IPN is sent: at once, late, twice, out of order, or never.
//! - The choice redirects the browser to the merchant's return URL with the signed result, and
//!   sends the same result to the merchant's IPN server to server, repeated (with backoff) until
//!   the merchant answers `00` or `02`.
//! - `POST /sandbox/vnpay/merchant_webapi/api/transaction` answers querydr and refund from its
//!   own records, signed over `|`-joined fields; `GET /sandbox/vnpay/settlement?date=yyyyMMdd`
//!   serves the day's settlement, signed in `x-vnp-signature`.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    Form, Json, Router,
    extract::{RawQuery, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;

use crate::payments::vnpay::{self, Fields};

/// One order as the gateway knows it.
#[derive(Debug, Clone)]
struct Order {
    txn_ref: String,
    amount_x100: i64,
    create_date: String,
    order_info: String,
    return_url: String,
}

/// One transaction the gateway made (a payment attempt or a refund).
#[derive(Debug, Clone)]
struct Transaction {
    txn_ref: String,
    transaction_no: String,
    /// `payment` or `refund`.
    kind: &'static str,
    amount_x100: i64,
    response_code: String,
    status: String,
    bank_code: String,
    pay_date: String,
    order_info: String,
    /// For a refund: the transaction refunded.
    refunds: Option<String>,
}

pub struct SandboxGateway {
    pub tmn_code: String,
    pub hash_secret: String,
    /// Where the merchant's IPN is (registered with the gateway, not sent per payment).
    pub ipn_url: String,
    orders: Mutex<BTreeMap<String, Order>>,
    transactions: Mutex<Vec<Transaction>>,
    next_no: AtomicU64,
    http: reqwest::Client,
}

impl SandboxGateway {
    pub fn new(
        tmn_code: String,
        hash_secret: String,
        ipn_url: String,
    ) -> anyhow::Result<SandboxGateway> {
        Ok(SandboxGateway {
            tmn_code,
            hash_secret,
            ipn_url,
            orders: Mutex::new(BTreeMap::new()),
            transactions: Mutex::new(Vec::new()),
            next_no: AtomicU64::new(14_000_000),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
        })
    }

    fn transaction_no(&self) -> String {
        self.next_no.fetch_add(1, Ordering::SeqCst).to_string()
    }

    /// The signed query of a result, as the return URL and the IPN carry it.
    fn result_query(&self, order: &Order, tx: &Transaction, amount_x100: i64) -> String {
        let mut params = BTreeMap::new();
        for (k, v) in [
            ("vnp_TmnCode", self.tmn_code.clone()),
            ("vnp_Amount", amount_x100.to_string()),
            ("vnp_BankCode", tx.bank_code.clone()),
            ("vnp_BankTranNo", format!("VNP{}", tx.transaction_no)),
            ("vnp_CardType", "ATM".to_owned()),
            ("vnp_PayDate", tx.pay_date.clone()),
            ("vnp_OrderInfo", order.order_info.clone()),
            ("vnp_TransactionNo", tx.transaction_no.clone()),
            ("vnp_ResponseCode", tx.response_code.clone()),
            ("vnp_TransactionStatus", tx.status.clone()),
            ("vnp_TxnRef", order.txn_ref.clone()),
        ] {
            params.insert(k.to_owned(), v);
        }
        let hash = vnpay::sign(&self.hash_secret, &params);
        format!(
            "{}&vnp_SecureHashType=HmacSHA512&vnp_SecureHash={hash}",
            vnpay::signing_text(&params)
        )
    }

    /// Sends `query` to the merchant's IPN until it answers `00` or `02` (at most 8 tries).
    async fn send_ipn(self: Arc<Self>, query: String, delay: Duration) {
        tokio::time::sleep(delay).await;
        let mut wait = Duration::from_millis(500);
        for _ in 0..8 {
            let answer = self
                .http
                .get(format!("{}?{query}", self.ipn_url))
                .send()
                .await
                .ok();
            let code = match answer {
                Some(r) => r
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| v["RspCode"].as_str().map(str::to_owned)),
                None => None,
            };
            if matches!(code.as_deref(), Some("00" | "02")) {
                return;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(30));
        }
    }
}

type Shared = Arc<SandboxGateway>;

pub fn routes(gateway: Shared) -> Router<crate::AppState> {
    Router::new()
        .route("/sandbox/vnpay/paymentv2/vpcpay.html", get(pay_page))
        .route("/sandbox/vnpay/paymentv2/pay", post(pay))
        .route(
            "/sandbox/vnpay/merchant_webapi/api/transaction",
            post(transaction_api),
        )
        .route("/sandbox/vnpay/settlement", get(settlement))
        .with_state(gateway)
}

fn page(title: &str, body: &str) -> Response {
    Html(format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:1rem auto;padding:0 1rem;color:#1a1a1a}}\
         h1{{font-size:1.3rem;color:#005baa}}.amount{{font-size:1.6rem;font-weight:700}}button{{display:block;width:100%;margin:.5rem 0;padding:.8rem;font-size:1rem;border-radius:.4rem;border:1px solid #005baa;background:#fff;color:#005baa}}\
         button.primary{{background:#005baa;color:#fff}}label{{display:block;margin:.8rem 0 .3rem;font-weight:600}}select{{width:100%;padding:.6rem;font-size:1rem}}\
         .note{{color:#555;font-size:.9rem}}</style></head><body>{body}</body></html>"
    ))
    .into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn pay_page(State(gateway): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let params: BTreeMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    if !vnpay::signature_holds(&gateway.hash_secret, &params) {
        return (
            StatusCode::BAD_REQUEST,
            page(
                "Sai chữ ký",
                "<h1>Sai chữ ký (mã 97)</h1><p>Yêu cầu thanh toán không hợp lệ.</p>",
            ),
        )
            .into_response();
    }
    let get = |k: &str| params.get(k).cloned().unwrap_or_default();
    if get("vnp_TmnCode") != gateway.tmn_code || get("vnp_Version") != vnpay::VERSION {
        return (
            StatusCode::BAD_REQUEST,
            page("Lỗi", "<h1>Website chưa được phê duyệt (mã 02)</h1>"),
        )
            .into_response();
    }
    let Ok(amount_x100) = get("vnp_Amount").parse::<i64>() else {
        return (
            StatusCode::BAD_REQUEST,
            page("Lỗi", "<h1>Số tiền không hợp lệ (mã 03)</h1>"),
        )
            .into_response();
    };
    let expired =
        vnpay::parse_gmt7(&get("vnp_ExpireDate")).is_none_or(|end| end < crate::store::now_ms());
    if expired {
        return page(
            "Hết hạn",
            "<h1>Giao dịch đã quá thời gian chờ thanh toán (mã 11)</h1>",
        );
    }
    let order = Order {
        txn_ref: get("vnp_TxnRef"),
        amount_x100,
        create_date: get("vnp_CreateDate"),
        order_info: get("vnp_OrderInfo"),
        return_url: get("vnp_ReturnUrl"),
    };
    let txn_ref = escape(&order.txn_ref);
    let info = escape(&order.order_info);
    let amount = motcua_shared::Vnd(amount_x100 / 100);
    if let Ok(mut orders) = gateway.orders.lock() {
        orders.entry(order.txn_ref.clone()).or_insert(order);
    }
    page(
        "Cổng thanh toán (thử nghiệm)",
        &format!(
            "<h1>Cổng thanh toán VNPAY — môi trường thử nghiệm</h1>\
             <p>Đơn hàng <strong>{txn_ref}</strong><br>{info}</p><p class=\"amount\">{amount}</p>\
             <form method=\"post\" action=\"/sandbox/vnpay/paymentv2/pay\">\
             <input type=\"hidden\" name=\"txn_ref\" value=\"{txn_ref}\">\
             <label for=\"bank\">Ngân hàng</label><select id=\"bank\" name=\"bank\">\
             <option value=\"NCB\">NCB — Ngân hàng Quốc Dân</option><option value=\"VCB\">Vietcombank</option>\
             <option value=\"BIDV\">BIDV</option><option value=\"TCB\">Techcombank</option></select>\
             <label for=\"ipn\">Thông báo IPN (kiểm thử)</label><select id=\"ipn\" name=\"ipn\">\
             <option value=\"now\">Gửi ngay</option><option value=\"late\">Gửi trễ (5 giây)</option>\
             <option value=\"twice\">Gửi hai lần</option><option value=\"out_of_order\">Sai thứ tự (sau khi trả về)</option>\
             <option value=\"never\">Không gửi</option></select>\
             <button class=\"primary\" name=\"outcome\" value=\"success\">Thanh toán</button>\
             <button name=\"outcome\" value=\"fail\">Thất bại: tài khoản không đủ số dư</button>\
             <button name=\"outcome\" value=\"cancel\">Hủy giao dịch</button>\
             <button name=\"outcome\" value=\"timeout\">Hết thời gian</button>\
             <button name=\"outcome\" value=\"suspected\">Trừ tiền, giao dịch bị nghi ngờ</button>\
             </form><p class=\"note\">Không có tiền thật nào được chuyển.</p>"
        ),
    )
}

#[derive(Debug, Deserialize)]
struct PayForm {
    txn_ref: String,
    outcome: String,
    #[serde(default)]
    bank: Option<String>,
    #[serde(default)]
    ipn: Option<String>,
    /// For testing: the gateway takes this amount (× 100) instead of the order's, as a faulty
    /// gateway or bank might.
    #[serde(default)]
    amount_x100: Option<i64>,
}

async fn pay(State(gateway): State<Shared>, Form(form): Form<PayForm>) -> Response {
    let order = gateway
        .orders
        .lock()
        .ok()
        .and_then(|orders| orders.get(&form.txn_ref).cloned());
    let Some(order) = order else {
        return (
            StatusCode::NOT_FOUND,
            page("Lỗi", "<h1>Không tìm thấy giao dịch (mã 91)</h1>"),
        )
            .into_response();
    };
    // An order ends with its one outcome: paying it again needs a new order.
    let done = gateway
        .transactions
        .lock()
        .map(|all| {
            all.iter()
                .any(|t| t.txn_ref == order.txn_ref && t.kind == "payment")
        })
        .unwrap_or(true);
    if done {
        return (
            StatusCode::CONFLICT,
            page(
                "Lỗi",
                "<h1>Giao dịch đã được xử lý (mã 02)</h1><p>Hãy tạo giao dịch mới.</p>",
            ),
        )
            .into_response();
    }
    let (response_code, status) = match form.outcome.as_str() {
        "success" => ("00", "00"),
        "fail" => ("51", "02"),
        "cancel" => ("24", "02"),
        "timeout" => ("11", "02"),
        "suspected" => ("07", "07"),
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                page("Lỗi", "<h1>Lựa chọn không hợp lệ</h1>"),
            )
                .into_response();
        }
    };
    let taken = form
        .amount_x100
        .filter(|a| *a > 0)
        .unwrap_or(order.amount_x100);
    let tx = Transaction {
        txn_ref: order.txn_ref.clone(),
        transaction_no: gateway.transaction_no(),
        kind: "payment",
        amount_x100: taken,
        response_code: response_code.into(),
        status: status.into(),
        bank_code: form.bank.clone().unwrap_or_else(|| "NCB".into()),
        pay_date: vnpay::gmt7(crate::store::now_ms()),
        order_info: order.order_info.clone(),
        refunds: None,
    };
    if let Ok(mut all) = gateway.transactions.lock() {
        all.push(tx.clone());
    }
    let query = gateway.result_query(&order, &tx, taken);
    match form.ipn.as_deref().unwrap_or("now") {
        "never" => {}
        "late" => {
            tokio::spawn(
                gateway
                    .clone()
                    .send_ipn(query.clone(), Duration::from_secs(5)),
            );
        }
        "twice" => {
            tokio::spawn(gateway.clone().send_ipn(query.clone(), Duration::ZERO));
            tokio::spawn(
                gateway
                    .clone()
                    .send_ipn(query.clone(), Duration::from_millis(300)),
            );
        }
        "out_of_order" => {
            // The browser is back (and may look) before the IPN arrives.
            tokio::spawn(
                gateway
                    .clone()
                    .send_ipn(query.clone(), Duration::from_secs(2)),
            );
        }
        _ => {
            // Sent before the browser is redirected, as the real gateway usually manages.
            gateway
                .clone()
                .send_ipn(query.clone(), Duration::ZERO)
                .await;
        }
    }
    let separator = if order.return_url.contains('?') {
        '&'
    } else {
        '?'
    };
    (
        StatusCode::FOUND,
        [(
            header::LOCATION,
            format!("{}{separator}{query}", order.return_url),
        )],
    )
        .into_response()
}

fn signed_answer(gateway: &SandboxGateway, order: &[&str], mut fields: Fields) -> Response {
    let hash = vnpay::sign_fields(&gateway.hash_secret, order, &fields);
    fields.insert("vnp_SecureHash".into(), hash);
    Json(fields).into_response()
}

async fn transaction_api(
    State(gateway): State<Shared>,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let Some(request) = vnpay::fields_of(&body) else {
        return (StatusCode::BAD_REQUEST, "not a JSON object").into_response();
    };
    let get = |k: &str| request.get(k).cloned().unwrap_or_default();
    let command = get("vnp_Command");
    let (request_order, response_order): (&[&str], &[&str]) = match command.as_str() {
        "querydr" => (&vnpay::QUERYDR_REQUEST, &vnpay::QUERYDR_RESPONSE),
        "refund" => (&vnpay::REFUND_REQUEST, &vnpay::REFUND_RESPONSE),
        _ => return (StatusCode::BAD_REQUEST, "unknown command").into_response(),
    };
    let mut answer = Fields::new();
    answer.insert(
        "vnp_ResponseId".into(),
        format!("R{}", gateway.transaction_no()),
    );
    answer.insert("vnp_Command".into(), command.clone());
    answer.insert("vnp_TmnCode".into(), gateway.tmn_code.clone());
    answer.insert("vnp_TxnRef".into(), get("vnp_TxnRef"));
    let expected = vnpay::sign_fields(&gateway.hash_secret, request_order, &request);
    let respond = |mut answer: Fields, code: &str, message: &str| {
        answer.insert("vnp_ResponseCode".into(), code.into());
        answer.insert("vnp_Message".into(), message.into());
        signed_answer(&gateway, response_order, answer)
    };
    if !crate::security::same_secret(&expected, &get("vnp_SecureHash").to_ascii_lowercase()) {
        return respond(answer, "97", "Invalid Checksum");
    }
    if get("vnp_TmnCode") != gateway.tmn_code {
        return respond(answer, "02", "Merchant is not valid");
    }
    let order = gateway
        .orders
        .lock()
        .ok()
        .and_then(|orders| orders.get(&get("vnp_TxnRef")).cloned());
    // Not found when any identifying field differs from the original (as the real one).
    let Some(order) = order.filter(|o| o.create_date == get("vnp_TransactionDate")) else {
        return respond(answer, "91", "Transaction not found");
    };
    let transactions = gateway
        .transactions
        .lock()
        .map(|t| t.clone())
        .unwrap_or_default();
    let attempts: Vec<&Transaction> = transactions
        .iter()
        .filter(|t| t.txn_ref == order.txn_ref && t.kind == "payment")
        .collect();
    match command.as_str() {
        "querydr" => {
            // The successful attempt if any, else the last one; none: the order was never paid.
            let found = attempts
                .iter()
                .find(|t| t.status == "00")
                .or_else(|| attempts.last())
                .copied();
            let Some(tx) = found else {
                return respond(answer, "91", "Transaction not found");
            };
            for (k, v) in [
                ("vnp_Amount", tx.amount_x100.to_string()),
                ("vnp_BankCode", tx.bank_code.clone()),
                ("vnp_PayDate", tx.pay_date.clone()),
                ("vnp_TransactionNo", tx.transaction_no.clone()),
                ("vnp_TransactionType", "01".into()),
                ("vnp_TransactionStatus", tx.status.clone()),
                ("vnp_OrderInfo", order.order_info.clone()),
                ("vnp_PromotionCode", String::new()),
                ("vnp_PromotionAmount", String::new()),
            ] {
                answer.insert(k.into(), v);
            }
            respond(answer, "00", "Query success")
        }
        _ => {
            let Some(original) = attempts
                .iter()
                .find(|t| t.transaction_no == get("vnp_TransactionNo"))
                .copied()
            else {
                return respond(answer, "91", "Transaction not found");
            };
            if original.status != "00" {
                return respond(answer, "95", "Original transaction was not successful");
            }
            let Ok(amount_x100) = get("vnp_Amount").parse::<i64>() else {
                return respond(answer, "03", "Invalid data format");
            };
            if amount_x100 <= 0 || amount_x100 > original.amount_x100 {
                return respond(answer, "03", "Invalid amount");
            }
            let already = transactions
                .iter()
                .any(|t| t.refunds.as_deref() == Some(original.transaction_no.as_str()));
            if already {
                return respond(answer, "94", "Refund already requested");
            }
            let refund = Transaction {
                txn_ref: order.txn_ref.clone(),
                transaction_no: gateway.transaction_no(),
                kind: "refund",
                amount_x100,
                response_code: "00".into(),
                status: "05".into(),
                bank_code: original.bank_code.clone(),
                pay_date: vnpay::gmt7(crate::store::now_ms()),
                order_info: get("vnp_OrderInfo"),
                refunds: Some(original.transaction_no.clone()),
            };
            for (k, v) in [
                ("vnp_Amount", amount_x100.to_string()),
                ("vnp_BankCode", refund.bank_code.clone()),
                ("vnp_PayDate", refund.pay_date.clone()),
                ("vnp_TransactionNo", refund.transaction_no.clone()),
                ("vnp_TransactionType", get("vnp_TransactionType")),
                ("vnp_TransactionStatus", refund.status.clone()),
                ("vnp_OrderInfo", refund.order_info.clone()),
            ] {
                answer.insert(k.into(), v);
            }
            if let Ok(mut all) = gateway.transactions.lock() {
                all.push(refund);
            }
            respond(answer, "00", "Refund success")
        }
    }
}

#[derive(Debug, Deserialize)]
struct SettlementQuery {
    date: String,
}

/// The day's settlement: every successful payment and every refund made that day (GMT+7).
async fn settlement(
    State(gateway): State<Shared>,
    axum::extract::Query(q): axum::extract::Query<SettlementQuery>,
) -> Response {
    let transactions = gateway
        .transactions
        .lock()
        .map(|t| t.clone())
        .unwrap_or_default();
    let lines: Vec<vnpay::SettlementLine> = transactions
        .iter()
        .filter(|t| t.pay_date.starts_with(&q.date))
        .filter(|t| t.kind == "refund" || t.status == "00")
        .map(|t| vnpay::SettlementLine {
            txn_ref: t.txn_ref.clone(),
            transaction_no: match t.kind {
                "refund" => t.refunds.clone().unwrap_or_default(),
                _ => t.transaction_no.clone(),
            },
            kind: t.kind.to_owned(),
            amount_vnd: t.amount_x100 / 100,
            pay_date: t.pay_date.clone(),
        })
        .collect();
    let body = serde_json::to_string(&lines).unwrap_or_else(|_| "[]".into());
    let signature = vnpay::hmac_hex(&gateway.hash_secret, &body);
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::HeaderName::from_static("x-vnp-signature"),
                signature,
            ),
        ],
        body,
    )
        .into_response()
}
