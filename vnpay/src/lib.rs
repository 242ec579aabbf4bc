//! The VNPay payment gateway protocol, version 2.1.0 (`../shared/REFERENCE.md` §1 has the facts
//! and their sources): what is signed and how, and reading what the gateway sends. Pure (no
//! I/O): the server's gateway client, its IPN and return handlers, its embedded sandbox gateway
//! and the fuzzer all use it.
//!
//! - The pay URL, the browser's return and the server-to-server IPN are signed over their
//!   `vnp_*` parameters sorted by name, each written `urlencode(key)=urlencode(value)` (space as
//!   `+`, as PHP's `urlencode` and `URLSearchParams` do) and joined with `&`: HMAC-SHA512 with the
//!   merchant's hash secret, lower-case hex, appended as `vnp_SecureHash`.
//! - querydr and refund are JSON calls signed over their values joined by `|` in a fixed order;
//!   their answers are signed the same way.
//! - Amounts travel as VND × 100; dates as `yyyyMMddHHmmss` in GMT+7 whatever the server's zone.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha512;
use subtle::ConstantTimeEq;
use unicode_normalization::UnicodeNormalization;

/// Two texts are equal, compared in constant time (a signature against the expected one).
pub fn same_text(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

pub const VERSION: &str = "2.1.0";
pub const SECURE_HASH: &str = "vnp_SecureHash";
pub const SECURE_HASH_TYPE: &str = "vnp_SecureHashType";

/// `application/x-www-form-urlencoded` writing of one key or value: space as `+`.
pub fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// What is signed: every parameter but the hash itself, sorted by name, encoded, joined by `&`.
pub fn signing_text(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .filter(|(k, _)| k.as_str() != SECURE_HASH && k.as_str() != SECURE_HASH_TYPE)
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// HMAC-SHA512 of `data` with `secret`, lower-case hex.
pub fn hmac_hex(secret: &str, data: &str) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha512>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(data.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The signature of a parameter set.
pub fn sign(secret: &str, params: &BTreeMap<String, String>) -> String {
    hmac_hex(secret, &signing_text(params))
}

/// Whether `params` carry a valid `vnp_SecureHash` (either case of hex), compared in constant time.
pub fn signature_holds(secret: &str, params: &BTreeMap<String, String>) -> bool {
    let Some(given) = params.get(SECURE_HASH) else {
        return false;
    };
    same_text(&sign(secret, params), &given.to_ascii_lowercase())
}

/// The signature over values joined by `|`, as querydr and refund sign.
pub fn pipe_hash(secret: &str, values: &[&str]) -> String {
    hmac_hex(secret, &values.join("|"))
}

const GMT7_MS: i64 = 7 * 3_600_000;

/// `yyyyMMddHHmmss` in GMT+7.
pub fn gmt7(unix_ms: i64) -> String {
    let local = unix_ms + GMT7_MS;
    let day = motcua_shared::calendar::Day(local.div_euclid(86_400_000));
    let (y, m, d) = day.ymd();
    let secs = local.rem_euclid(86_400_000) / 1000;
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Reads a `yyyyMMddHHmmss` GMT+7 time back to Unix milliseconds.
pub fn parse_gmt7(text: &str) -> Option<i64> {
    if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |range: std::ops::Range<usize>| text[range].parse::<i64>().ok();
    let day = motcua_shared::calendar::Day::from_ymd(
        n(0..4)?,
        u32::try_from(n(4..6)?).ok()?,
        u32::try_from(n(6..8)?).ok()?,
    )?;
    let (h, mi, s) = (n(8..10)?, n(10..12)?, n(12..14)?);
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    Some(day.0 * 86_400_000 + (h * 3600 + mi * 60 + s) * 1000 - GMT7_MS)
}

/// Order information as the gateway takes it: Vietnamese without diacritics, letters, digits,
/// spaces and a few separators only, at most 255 characters.
pub fn order_info(text: &str) -> String {
    let plain: String = text
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c if c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '.' | ',' | ':') => c,
            _ => ' ',
        })
        .collect();
    let words: Vec<&str> = plain.split_whitespace().collect();
    let mut joined = words.join(" ");
    joined.truncate(255);
    joined
}

/// What the gateway says about one payment, in a return or an IPN, after its signature held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub tmn_code: String,
    pub txn_ref: String,
    /// `vnp_Amount` as sent (VND × 100).
    pub amount_x100: i64,
    pub response_code: String,
    pub transaction_status: String,
    pub transaction_no: String,
    pub bank_code: String,
    pub pay_date: String,
}

impl Notification {
    /// Paid means both codes are `00`.
    pub fn paid(&self) -> bool {
        self.response_code == "00" && self.transaction_status == "00"
    }
}

/// Why a return or IPN was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationError {
    /// The signature is missing or does not hold: nothing in it may change anything.
    BadSignature,
    /// Signed, but a required field is missing or unreadable.
    Malformed,
}

/// Checks the signature of a return or IPN query, then reads it. The amount is read only after
/// the signature held, and kept as sent (a mistake seen elsewhere: dividing before checking).
pub fn read_notification(
    secret: &str,
    pairs: impl IntoIterator<Item = (String, String)>,
) -> Result<Notification, NotificationError> {
    let mut params = BTreeMap::new();
    for (k, v) in pairs {
        if !k.starts_with("vnp_") {
            continue;
        }
        // A parameter given twice is not something the gateway sends.
        if params.insert(k, v).is_some() {
            return Err(NotificationError::BadSignature);
        }
    }
    if !signature_holds(secret, &params) {
        return Err(NotificationError::BadSignature);
    }
    let field = |k: &str| params.get(k).cloned().unwrap_or_default();
    let amount_x100 = field("vnp_Amount")
        .parse::<i64>()
        .map_err(|_| NotificationError::Malformed)?;
    let txn_ref = field("vnp_TxnRef");
    if txn_ref.is_empty() || field("vnp_ResponseCode").is_empty() {
        return Err(NotificationError::Malformed);
    }
    Ok(Notification {
        tmn_code: field("vnp_TmnCode"),
        txn_ref,
        amount_x100,
        response_code: field("vnp_ResponseCode"),
        transaction_status: field("vnp_TransactionStatus"),
        transaction_no: field("vnp_TransactionNo"),
        bank_code: field("vnp_BankCode"),
        pay_date: field("vnp_PayDate"),
    })
}

/// The order of the querydr request's signed fields.
pub const QUERYDR_REQUEST: [&str; 9] = [
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_TransactionDate",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
];
/// The order of the querydr answer's signed fields.
pub const QUERYDR_RESPONSE: [&str; 15] = [
    "vnp_ResponseId",
    "vnp_Command",
    "vnp_ResponseCode",
    "vnp_Message",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_PayDate",
    "vnp_TransactionNo",
    "vnp_TransactionType",
    "vnp_TransactionStatus",
    "vnp_OrderInfo",
    "vnp_PromotionCode",
    "vnp_PromotionAmount",
];
/// The order of the refund request's signed fields.
pub const REFUND_REQUEST: [&str; 13] = [
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TransactionType",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_TransactionNo",
    "vnp_TransactionDate",
    "vnp_CreateBy",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
];
/// The order of the refund answer's signed fields.
pub const REFUND_RESPONSE: [&str; 13] = [
    "vnp_ResponseId",
    "vnp_Command",
    "vnp_ResponseCode",
    "vnp_Message",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_PayDate",
    "vnp_TransactionNo",
    "vnp_TransactionType",
    "vnp_TransactionStatus",
    "vnp_OrderInfo",
];

/// A JSON message of the server-to-server API: its fields as strings, by name.
pub type Fields = BTreeMap<String, String>;

/// The pipe-joined signature of `fields` in `order` (a missing field signs as empty).
pub fn sign_fields(secret: &str, order: &[&str], fields: &Fields) -> String {
    let values: Vec<&str> = order
        .iter()
        .map(|k| fields.get(*k).map_or("", String::as_str))
        .collect();
    pipe_hash(secret, &values)
}

/// Reads a JSON object of the server-to-server API into string fields (numbers as written).
pub fn fields_of(value: &serde_json::Value) -> Option<Fields> {
    let object = value.as_object()?;
    Some(
        object
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect(),
    )
}

/// What the gateway said about a payment when asked (querydr).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryResult {
    /// `00` found; `91` not found; others are errors of the request.
    pub response_code: String,
    pub transaction_status: String,
    pub amount_x100: i64,
    pub transaction_no: String,
    pub pay_date: String,
    pub bank_code: String,
}

impl QueryResult {
    pub fn paid(&self) -> bool {
        self.response_code == "00" && self.transaction_status == "00"
    }
}

/// What the gateway said to a refund request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundResult {
    /// `00` accepted; `94` already requested (also done); `95` the original was not successful.
    pub response_code: String,
    pub transaction_no: String,
}

/// One line of the gateway's daily settlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementLine {
    pub txn_ref: String,
    pub transaction_no: String,
    /// `payment` or `refund`.
    pub kind: String,
    /// VND (not × 100).
    pub amount_vnd: i64,
    pub pay_date: String,
}
