//! Paying as a person does: start a payment, go to the sandbox gateway's page, choose what
//! happens there, and follow the redirect back; and the gateway's messages as it signs them.

use serde_json::{Value, json};

use crate::TestApp;

/// Something that can call the API as a signed-in person.
pub trait Caller {
    fn client(&self) -> &reqwest::Client;
    fn base(&self) -> &str;
}

impl Caller for TestApp {
    fn client(&self) -> &reqwest::Client {
        &self.client
    }
    fn base(&self) -> &str {
        &self.address
    }
}

impl Caller for crate::Browser {
    fn client(&self) -> &reqwest::Client {
        &self.client
    }
    fn base(&self) -> &str {
        &self.address
    }
}

async fn csrf(caller: &impl Caller) -> String {
    let me: Value = caller
        .client()
        .get(format!("{}/api/v1/me", caller.base()))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    me["csrf_token"].as_str().expect("a csrf token").to_owned()
}

/// `POST /api/v1/payments` with `key`: (status, body).
pub async fn start(caller: &impl Caller, body: &Value, key: &str) -> (u16, Value) {
    let response = caller
        .client()
        .post(format!("{}/api/v1/payments", caller.base()))
        .header("x-csrf-token", csrf(caller).await)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("answered");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// Opens `pay_url` at the sandbox gateway and chooses `outcome` (`success`, `fail`, `cancel`,
/// `timeout`, `suspected`) with IPN mode `ipn` (`now`, `late`, `twice`, `out_of_order`,
/// `never`). Returns where the gateway sends the browser back (the return URL, signed).
pub async fn at_gateway(caller: &impl Caller, pay_url: &str, outcome: &str, ipn: &str) -> String {
    at_gateway_taking(caller, pay_url, outcome, ipn, None).await
}

/// As [`at_gateway`], the gateway taking `amount_x100` rather than the order's amount.
pub async fn at_gateway_taking(
    caller: &impl Caller,
    pay_url: &str,
    outcome: &str,
    ipn: &str,
    amount_x100: Option<i64>,
) -> String {
    let page = caller.client().get(pay_url).send().await.expect("answered");
    assert_eq!(page.status().as_u16(), 200, "the gateway's pay page");
    let txn_ref = url::Url::parse(pay_url)
        .expect("a URL")
        .query_pairs()
        .find(|(k, _)| k == "vnp_TxnRef")
        .map(|(_, v)| v.into_owned())
        .expect("vnp_TxnRef");
    let origin = url::Url::parse(pay_url)
        .expect("a URL")
        .origin()
        .ascii_serialization();
    let response = caller
        .client()
        .post(format!("{origin}/sandbox/vnpay/paymentv2/pay"))
        .form(&{
            let mut form = vec![
                ("txn_ref", txn_ref.clone()),
                ("outcome", outcome.to_owned()),
                ("bank", "NCB".to_owned()),
                ("ipn", ipn.to_owned()),
            ];
            if let Some(amount) = amount_x100 {
                form.push(("amount_x100", amount.to_string()));
            }
            form
        })
        .send()
        .await
        .expect("answered");
    assert_eq!(
        response.status().as_u16(),
        302,
        "the gateway redirects back"
    );
    crate::location(&response)
}

/// The signed query of a return URL (the same fields the IPN carries).
pub fn query_of(return_url: &str) -> String {
    return_url
        .split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default()
}

/// Sends `query` to the IPN as the gateway would; the `RspCode` answered.
pub async fn ipn(app: &TestApp, query: &str) -> String {
    let body: Value = app
        .client
        .get(app.url(&format!("/api/v1/payments/vnpay/ipn?{query}")))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    body["RspCode"].as_str().expect("RspCode").to_owned()
}

/// Re-signs `query` after changing `field` to `value`, with the merchant's secret (what only the
/// gateway could do: a message that is genuine but says something else).
pub fn resigned(app: &TestApp, query: &str, field: &str, value: &str) -> String {
    let secret = &app
        .gateway
        .as_ref()
        .expect("the sandbox gateway")
        .hash_secret;
    let mut params: std::collections::BTreeMap<String, String> =
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .filter(|(k, _)| k != "vnp_SecureHash" && k != "vnp_SecureHashType")
            .collect();
    params.insert(field.to_owned(), value.to_owned());
    let hash = motcua_server::payments::vnpay::sign(secret, &params);
    format!(
        "{}&vnp_SecureHash={hash}",
        motcua_server::payments::vnpay::signing_text(&params)
    )
}

/// Pays a dossier's fee all the way (the gateway confirms by IPN at once); the payment.
pub async fn pay_dossier_fee(caller: &impl Caller, dossier_id: &str) -> Value {
    let (status, payment) = start(
        caller,
        &json!({ "dossier_id": dossier_id }),
        &format!("fee-{dossier_id}"),
    )
    .await;
    assert!(status == 201 || status == 200, "{status} {payment}");
    let pay_url = payment["pay_url"].as_str().expect("a pay URL").to_owned();
    at_gateway(caller, &pay_url, "success", "now").await;
    let id = payment["id"].as_str().expect("an id");
    let paid: Value = caller
        .client()
        .get(format!("{}/api/v1/payments/{id}", caller.base()))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    assert_eq!(paid["state"], "paid", "{paid}");
    paid
}
