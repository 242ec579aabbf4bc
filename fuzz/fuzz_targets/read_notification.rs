//! Anything at all as the query of a VNPay IPN or return, through the reader the payment
//! endpoints use: once as sent (the signature must fail unless it holds), and once signed with
//! the merchant's secret, so that fuzzing reaches what is read after the signature holds. It may
//! not panic; a signed query reads or is malformed, never badly signed; an unsigned one never
//! reads; a query that reads keeps the amount exactly as sent.

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use motcua_vnpay::{NotificationError, SECURE_HASH, read_notification, sign};

const SECRET: &str = "FUZZSECRETFUZZSECRETFUZZSECRET12";

fuzz_target!(|query: &str| {
    // Pairs as a query string carries them (`&`, `=`); the reader takes them decoded.
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let as_sent = read_notification(SECRET, pairs.clone());
    let carries_hash = pairs.iter().any(|(k, _)| k == SECURE_HASH);
    if !carries_hash {
        assert_eq!(as_sent, Err(NotificationError::BadSignature));
    }
    // The same parameters signed as the gateway would sign them.
    let mut params = BTreeMap::new();
    for (k, v) in &pairs {
        if k.starts_with("vnp_") && k != SECURE_HASH && k != "vnp_SecureHashType" {
            params.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let hash = sign(SECRET, &params);
    let mut signed: Vec<(String, String)> = params.clone().into_iter().collect();
    signed.push((SECURE_HASH.to_owned(), hash.to_uppercase()));
    match read_notification(SECRET, signed) {
        Ok(n) => {
            let sent = params.get("vnp_Amount").and_then(|a| a.parse::<i64>().ok());
            assert_eq!(sent, Some(n.amount_x100));
            assert!(!n.txn_ref.is_empty());
            assert_eq!(Some(&n.txn_ref), params.get("vnp_TxnRef"));
        }
        Err(e) => assert_eq!(e, NotificationError::Malformed),
    }
    // Signed with another secret, it is refused.
    let mut forged: Vec<(String, String)> = params.into_iter().collect();
    forged.push((
        SECURE_HASH.to_owned(),
        sign("another secret", &BTreeMap::new()),
    ));
    assert!(read_notification(SECRET, forged).is_err());
});
