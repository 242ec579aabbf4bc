//! The VNPay payment gateway protocol, version 2.1.0 (`../shared/REFERENCE.md` §1 has the facts
//! and their sources).
//!
//! - The pay URL, the browser's return and the server-to-server IPN are signed over their
//!   `vnp_*` parameters sorted by name, each written `urlencode(key)=urlencode(value)` (space as
//!   `+`, as PHP's `urlencode` and `URLSearchParams` do) and joined with `&`: HMAC-SHA512 with the
//!   merchant's hash secret, lower-case hex, appended as `vnp_SecureHash`.
//! - querydr and refund are JSON calls signed over their values joined by `|` in a fixed order;
//!   their answers are signed the same way and checked here too.
//! - Amounts travel as VND × 100; dates as `yyyyMMddHHmmss` in GMT+7 whatever the server's zone.
//!
//! The protocol itself (signing, reading what the gateway sends) is the pure crate
//! `motcua-vnpay`, re-exported here; this module adds the merchant's signed pay URL and
//! [`Gateway`], the HTTP client of the server-to-server calls. Nothing here touches the database.

use std::{collections::BTreeMap, time::Duration};

use anyhow::Context;

use crate::config::Secret;

pub use motcua_vnpay::*;

/// The merchant's registration with the gateway.
#[derive(Debug, Clone)]
pub struct Merchant {
    pub tmn_code: String,
    pub hash_secret: Secret,
    /// Where the browser goes to pay (`…/paymentv2/vpcpay.html`).
    pub pay_url: String,
    /// The server-to-server API (`…/merchant_webapi/api/transaction`).
    pub query_url: String,
    /// Where the browser comes back (`{public_url}/payments/vnpay/return`).
    pub return_url: String,
}

/// One payment to ask the gateway for.
#[derive(Debug, Clone)]
pub struct PayRequest<'a> {
    pub txn_ref: &'a str,
    pub amount_vnd: i64,
    pub order_info: &'a str,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub ip: &'a str,
    /// `vn` or `en`.
    pub locale: &'a str,
    pub bank_code: Option<&'a str>,
}

impl Merchant {
    /// The signed URL that sends the browser to pay.
    pub fn pay_url(&self, request: &PayRequest<'_>) -> String {
        let mut params = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            params.insert(k.to_owned(), v);
        };
        put("vnp_Version", VERSION.into());
        put("vnp_Command", "pay".into());
        put("vnp_TmnCode", self.tmn_code.clone());
        put("vnp_Amount", (request.amount_vnd * 100).to_string());
        put("vnp_CreateDate", gmt7(request.created_at_ms));
        put("vnp_ExpireDate", gmt7(request.expires_at_ms));
        put("vnp_CurrCode", "VND".into());
        put("vnp_IpAddr", request.ip.to_owned());
        put("vnp_Locale", request.locale.to_owned());
        put("vnp_OrderInfo", order_info(request.order_info));
        put("vnp_OrderType", "billpayment".into());
        put("vnp_ReturnUrl", self.return_url.clone());
        put("vnp_TxnRef", request.txn_ref.to_owned());
        if let Some(bank) = request.bank_code.filter(|b| !b.is_empty()) {
            put("vnp_BankCode", bank.to_owned());
        }
        let hash = sign(self.hash_secret.expose(), &params);
        format!(
            "{}?{}&{SECURE_HASH}={hash}",
            self.pay_url,
            signing_text(&params)
        )
    }
}

/// Why a server-to-server call gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("the gateway did not answer: {0}")]
    Unavailable(String),
    #[error("the gateway's answer is not signed with our secret")]
    BadSignature,
    #[error("the gateway answered something unreadable: {0}")]
    Malformed(String),
}

/// The gateway's server-to-server API (querydr, refund, settlement).
pub struct Gateway {
    http: reqwest::Client,
    pub merchant: Merchant,
    /// Where the daily settlement is read (`…?date=yyyyMMdd`); VNPay delivers it to merchants
    /// outside the public API, so this is configuration.
    pub settlement_url: String,
}

impl Gateway {
    pub fn new(merchant: Merchant, settlement_url: String) -> anyhow::Result<Gateway> {
        Ok(Gateway {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .context("an HTTP client for the payment gateway")?,
            merchant,
            settlement_url,
        })
    }

    fn request_id() -> String {
        crate::security::random_token(12)
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(16)
            .collect()
    }

    async fn call(
        &self,
        request: &Fields,
        response_order: &[&str],
    ) -> Result<Fields, GatewayError> {
        let response = self
            .http
            .post(&self.merchant.query_url)
            .json(request)
            .send()
            .await
            .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(GatewayError::Unavailable(format!(
                "status {}",
                response.status()
            )));
        }
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| GatewayError::Malformed(e.to_string()))?;
        let fields =
            fields_of(&body).ok_or_else(|| GatewayError::Malformed("not an object".into()))?;
        let given = fields.get(SECURE_HASH).cloned().unwrap_or_default();
        let expected = sign_fields(self.merchant.hash_secret.expose(), response_order, &fields);
        if !crate::security::same_secret(&expected, &given.to_ascii_lowercase()) {
            return Err(GatewayError::BadSignature);
        }
        Ok(fields)
    }

    fn base_request(
        &self,
        command: &str,
        txn_ref: &str,
        transaction_date: &str,
        now_ms: i64,
    ) -> Fields {
        let mut fields = Fields::new();
        fields.insert("vnp_RequestId".into(), Self::request_id());
        fields.insert("vnp_Version".into(), VERSION.into());
        fields.insert("vnp_Command".into(), command.into());
        fields.insert("vnp_TmnCode".into(), self.merchant.tmn_code.clone());
        fields.insert("vnp_TxnRef".into(), txn_ref.into());
        fields.insert("vnp_TransactionDate".into(), transaction_date.into());
        fields.insert("vnp_CreateDate".into(), gmt7(now_ms));
        fields.insert("vnp_IpAddr".into(), "127.0.0.1".into());
        fields
    }

    /// Asks what became of payment `txn_ref`, created at `transaction_date` (its `vnp_CreateDate`).
    pub async fn querydr(
        &self,
        txn_ref: &str,
        transaction_date: &str,
        now_ms: i64,
    ) -> Result<QueryResult, GatewayError> {
        let mut fields = self.base_request("querydr", txn_ref, transaction_date, now_ms);
        fields.insert(
            "vnp_OrderInfo".into(),
            format!("Kiem tra giao dich {txn_ref}"),
        );
        let hash = sign_fields(
            self.merchant.hash_secret.expose(),
            &QUERYDR_REQUEST,
            &fields,
        );
        fields.insert(SECURE_HASH.into(), hash);
        let answer = self.call(&fields, &QUERYDR_RESPONSE).await?;
        let get = |k: &str| answer.get(k).cloned().unwrap_or_default();
        Ok(QueryResult {
            response_code: get("vnp_ResponseCode"),
            transaction_status: get("vnp_TransactionStatus"),
            amount_x100: get("vnp_Amount").parse().unwrap_or(0),
            transaction_no: get("vnp_TransactionNo"),
            pay_date: get("vnp_PayDate"),
            bank_code: get("vnp_BankCode"),
        })
    }

    /// Asks for `amount_vnd` of transaction `transaction_no` (of order `txn_ref`) to go back;
    /// `full` when it is the whole amount.
    #[allow(clippy::too_many_arguments)]
    pub async fn refund(
        &self,
        txn_ref: &str,
        transaction_no: &str,
        transaction_date: &str,
        amount_vnd: i64,
        full: bool,
        reason: &str,
        now_ms: i64,
    ) -> Result<RefundResult, GatewayError> {
        let mut fields = self.base_request("refund", txn_ref, transaction_date, now_ms);
        fields.insert(
            "vnp_TransactionType".into(),
            if full { "02" } else { "03" }.into(),
        );
        fields.insert("vnp_Amount".into(), (amount_vnd * 100).to_string());
        fields.insert("vnp_TransactionNo".into(), transaction_no.into());
        fields.insert("vnp_CreateBy".into(), "motcua".into());
        fields.insert("vnp_OrderInfo".into(), order_info(reason));
        let hash = sign_fields(self.merchant.hash_secret.expose(), &REFUND_REQUEST, &fields);
        fields.insert(SECURE_HASH.into(), hash);
        let answer = self.call(&fields, &REFUND_RESPONSE).await?;
        let get = |k: &str| answer.get(k).cloned().unwrap_or_default();
        Ok(RefundResult {
            response_code: get("vnp_ResponseCode"),
            transaction_no: get("vnp_TransactionNo"),
        })
    }

    /// The gateway's settlement of day `date` (`yyyyMMdd`, GMT+7): every payment and refund it
    /// settled, signed over its body's SHA-512 HMAC in `x-vnp-signature`.
    pub async fn settlement(&self, date: &str) -> Result<Vec<SettlementLine>, GatewayError> {
        let response = self
            .http
            .get(&self.settlement_url)
            .query(&[("date", date), ("tmn_code", &self.merchant.tmn_code)])
            .send()
            .await
            .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(GatewayError::Unavailable(format!(
                "status {}",
                response.status()
            )));
        }
        let signature = response
            .headers()
            .get("x-vnp-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let body = response
            .text()
            .await
            .map_err(|e| GatewayError::Malformed(e.to_string()))?;
        if !crate::security::same_secret(
            &hmac_hex(self.merchant.hash_secret.expose(), &body),
            &signature,
        ) {
            return Err(GatewayError::BadSignature);
        }
        serde_json::from_str(&body).map_err(|e| GatewayError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merchant() -> Merchant {
        Merchant {
            tmn_code: "MOTCUA01".into(),
            hash_secret: Secret::new("SECRETKEY"),
            pay_url: "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html".into(),
            query_url: String::new(),
            return_url: "http://127.0.0.1:8080/payments/vnpay/return".into(),
        }
    }

    #[test]
    fn dates_are_gmt7_whatever_the_instant() {
        // 2026-11-29T17:30:05Z is 00:30:05 on the 30th in Hà Nội.
        let ms = 1_795_455_000_000 + 86_400_000 * 6 + 5_000;
        assert_eq!(gmt7(ms), "20261130003005");
        assert_eq!(parse_gmt7("20261130003005"), Some(ms));
        assert_eq!(parse_gmt7("20261330003005"), None);
        assert_eq!(parse_gmt7("2026113000300"), None);
    }

    #[test]
    fn order_info_loses_its_diacritics_and_specials() {
        assert_eq!(
            order_info("Lệ phí cấp đổi giấy phép lái xe — hồ sơ CA/01"),
            "Le phi cap doi giay phep lai xe ho so CA 01"
        );
        assert_eq!(order_info("ĐẮK LẮK  &  Đà Nẵng"), "DAK LAK Da Nang");
    }

    #[test]
    fn the_pay_url_is_sorted_encoded_and_signed_over_what_it_sends() {
        let url = merchant().pay_url(&PayRequest {
            txn_ref: "20261130ABC",
            amount_vnd: 115_000,
            order_info: "Lệ phí hồ sơ",
            created_at_ms: 1_795_455_000_000,
            expires_at_ms: 1_795_455_900_000,
            ip: "203.0.113.9",
            locale: "vn",
            bank_code: None,
        });
        let (_, query) = url.split_once('?').expect("a query");
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        let mut sorted = names.clone();
        sorted.pop();
        sorted.sort_unstable();
        assert_eq!(&names[..names.len() - 1], sorted.as_slice());
        assert!(query.contains("vnp_Amount=11500000"));
        assert!(query.contains("vnp_OrderInfo=Le+phi+ho+so"));
        assert!(query.contains("vnp_CreateDate=20261124003000"));
        assert!(
            query.contains(
                "vnp_ReturnUrl=http%3A%2F%2F127.0.0.1%3A8080%2Fpayments%2Fvnpay%2Freturn"
            )
        );
        // The gateway's check: the query as received, decoded, re-signed.
        let params: BTreeMap<String, String> = pairs.into_iter().collect();
        assert!(signature_holds("SECRETKEY", &params));
        assert!(!signature_holds("OTHERKEY", &params));
        let mut changed = params.clone();
        changed.insert("vnp_Amount".into(), "11500001".into());
        assert!(!signature_holds("SECRETKEY", &changed));
    }

    #[test]
    fn a_known_signature_matches_an_independent_computation() {
        // HMAC-SHA512("key", "The quick brown fox jumps over the lazy dog"), a published vector.
        assert_eq!(
            hmac_hex("key", "The quick brown fox jumps over the lazy dog"),
            "b42af09057bac1e2d41708e48a902e09b5ff7f12ab428a4fe86653c73dd248fb82f948a549f7b791a5b41915ee4d1ec3935357e4e2317250d0372afa2ebeeb3a"
        );
    }

    #[test]
    fn a_notification_is_read_only_when_its_signature_holds() {
        let mut params = BTreeMap::new();
        for (k, v) in [
            ("vnp_TmnCode", "MOTCUA01"),
            ("vnp_Amount", "11500000"),
            ("vnp_TxnRef", "20261130ABC"),
            ("vnp_ResponseCode", "00"),
            ("vnp_TransactionStatus", "00"),
            ("vnp_TransactionNo", "14000001"),
            ("vnp_OrderInfo", "Le phi ho so"),
        ] {
            params.insert(k.to_owned(), v.to_owned());
        }
        let hash = sign("SECRETKEY", &params);
        let mut pairs: Vec<(String, String)> = params.clone().into_iter().collect();
        pairs.push(("vnp_SecureHashType".into(), "HmacSHA512".into()));
        pairs.push(("vnp_SecureHash".into(), hash.to_ascii_uppercase()));
        let read = read_notification("SECRETKEY", pairs.clone()).expect("reads");
        assert!(read.paid());
        assert_eq!(read.amount_x100, 11_500_000);
        assert_eq!(
            read_notification("OTHER", pairs.clone()),
            Err(NotificationError::BadSignature)
        );
        let mut forged = pairs.clone();
        forged[1].1 = "100".into();
        assert_eq!(
            read_notification("SECRETKEY", forged),
            Err(NotificationError::BadSignature)
        );
        let mut twice = pairs;
        twice.push(("vnp_Amount".into(), "11500000".into()));
        assert_eq!(
            read_notification("SECRETKEY", twice),
            Err(NotificationError::BadSignature)
        );
    }

    #[test]
    fn pipe_signatures_follow_the_fixed_order_and_treat_missing_as_empty() {
        let mut fields = Fields::new();
        fields.insert("vnp_RequestId".into(), "r1".into());
        fields.insert("vnp_Version".into(), "2.1.0".into());
        fields.insert("vnp_Command".into(), "querydr".into());
        let expected = hmac_hex("S", "r1|2.1.0|querydr||||||");
        assert_eq!(sign_fields("S", &QUERYDR_REQUEST, &fields), expected);
    }
}
