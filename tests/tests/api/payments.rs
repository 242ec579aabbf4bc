//! Paying a dossier's fee through the sandbox gateway (VNPay protocol): the idempotent start,
//! the IPN as the only confirmation, forged and wrong messages, and the same IPN at once many
//! times confirming once.

use motcua_tests::{pay, spawn_app};
use serde_json::json;

use crate::back_office::filed_renewal_unpaid;

#[tokio::test]
async fn a_fee_is_confirmed_once_by_its_ipn_and_never_by_a_forged_or_wrong_message() {
    let app = spawn_app().await;
    let dossier = filed_renewal_unpaid(&app).await;
    let body = json!({ "dossier_id": dossier });

    // The same key and body give the same payment; the same key with another body is refused.
    let (status, started) = pay::start(&app, &body, "fee-key-0001").await;
    assert_eq!(status, 201, "{started}");
    assert_eq!(started["state"], "pending");
    assert_eq!(started["amount_vnd"], 115_000);
    let pay_url = started["pay_url"].as_str().expect("a pay URL").to_owned();
    assert!(pay_url.contains("vnp_Amount=11500000"), "{pay_url}");
    let (status, again) = pay::start(&app, &body, "fee-key-0001").await;
    assert_eq!((status, &again["id"]), (200, &started["id"]));
    let (status, other) = pay::start(
        &app,
        &json!({ "dossier_id": dossier, "bank_code": "NCB" }),
        "fee-key-0001",
    )
    .await;
    assert_eq!(
        (status, other["error"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    // Another key for the same fee while this payment is live: that payment, not a second one.
    let (status, second) = pay::start(&app, &body, "fee-key-0002").await;
    assert_eq!((status, &second["id"]), (200, &started["id"]));
    // An empty key is not a key.
    let (status, none) = pay::start(&app, &body, "").await;
    assert_eq!(
        (status, none["error"].as_str()),
        (422, Some("invalid_idempotency_key"))
    );

    // Paid at the gateway, but its IPN never comes: the return alone confirms nothing.
    let back = pay::at_gateway(&app, &pay_url, "success", "never").await;
    let query = pay::query_of(&back);
    let check = app
        .get_json(&format!("/api/v1/payments/vnpay/return-check?{query}"), 200)
        .await;
    assert_eq!(check["signature_valid"], true);
    assert_eq!(check["response_code"], "00");
    assert_eq!(check["payment"]["state"], "pending", "{check}");

    // A forged IPN (the amount changed, the signature not) changes nothing.
    let forged = query.replace("vnp_Amount=11500000", "vnp_Amount=100");
    assert_eq!(pay::ipn(&app, &forged).await, "97");
    // A genuine message about another order: 01.
    let unknown = pay::resigned(&app, &query, "vnp_TxnRef", "20260101NOSUCHORDER");
    assert_eq!(pay::ipn(&app, &unknown).await, "01");
    // The gateway took a different amount (its own transaction): 04, recorded to go back.
    let wrong = pay::resigned(&app, &query, "vnp_Amount", "11600000");
    let wrong = pay::resigned(&app, &wrong, "vnp_TransactionNo", "99000001");
    assert_eq!(pay::ipn(&app, &wrong).await, "04");
    let id = started["id"].as_str().expect("an id");
    let payment = app.get_json(&format!("/api/v1/payments/{id}"), 200).await;
    assert_eq!(payment["state"], "pending", "a wrong amount pays nothing");
    assert_eq!(payment["returns"][0]["amount_vnd"], 116_000, "{payment}");
    assert_eq!(payment["returns"][0]["reason"], "amount_mismatch");

    // The genuine IPN, 50 times at once: confirmed once, answered 02 to the rest.
    let answers = futures::future::join_all((0..50).map(|_| pay::ipn(&app, &query))).await;
    assert_eq!(
        answers.iter().filter(|a| *a == "00").count(),
        1,
        "{answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|a| *a == "02").count(),
        49,
        "{answers:?}"
    );
    let payment = app.get_json(&format!("/api/v1/payments/{id}"), 200).await;
    assert_eq!(payment["state"], "paid");
    let receipt = payment["receipt_credential_id"]
        .as_str()
        .expect("a receipt");
    let wallet = app.get_json("/api/v1/wallet", 200).await;
    let receipts: Vec<_> = wallet["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .filter(|c| c["type"] == "receipt")
        .collect();
    assert_eq!(receipts.len(), 1, "one receipt");
    assert_eq!(receipts[0]["id"], receipt);

    // Credited once: one payment transaction; every transaction balances.
    let (payments,): (i64,) = sqlx::query_as(
        "select cast(count(*) as bigint) from ledger_transactions where kind = 'payment'",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("counted");
    assert_eq!(payments, 1);
    assert!(
        app.store
            .unbalanced_transactions()
            .await
            .expect("checked")
            .is_empty()
    );
    let balances = app.store.ledger_balances().await.expect("balances");
    assert_eq!(balances.get("clearing:vnpay"), Some(&115_000));
    assert_eq!(balances.get("returns:vnpay"), Some(&116_000));
    let dossier_view = app
        .get_json(&format!("/api/v1/dossiers/{dossier}"), 200)
        .await;
    assert!(
        dossier_view["fee"]["paid_at"].as_i64().is_some(),
        "{dossier_view}"
    );
    // A paid fee is not paid again.
    let (status, paid_again) = pay::start(&app, &body, "fee-key-0003").await;
    assert_eq!(
        (status, paid_again["error"].as_str()),
        (409, Some("already_paid"))
    );
}
