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

/// Runs the payments' background pass as if at `now`.
async fn settle_at(app: &motcua_tests::TestApp, now: i64) -> motcua_server::payments::jobs::Pass {
    motcua_server::payments::jobs::settle_overdue(&app.state, now)
        .await
        .expect("a pass")
}

#[tokio::test]
async fn a_payment_whose_ipn_never_comes_is_settled_by_asking_the_gateway() {
    let app = spawn_app().await;
    let dossier = filed_renewal_unpaid(&app).await;
    let body = json!({ "dossier_id": dossier });
    let later = |minutes: i64| motcua_server::store::now_ms() + minutes * 60_000;

    // Started, never taken to the gateway: past its expiry the gateway does not know it.
    let (status, abandoned) = pay::start(&app, &body, "fee-abandoned-1").await;
    assert_eq!(status, 201, "{abandoned}");
    let pass = settle_at(&app, later(20)).await;
    assert_eq!((pass.expired, pass.confirmed), (1, 0));
    let id = abandoned["id"].as_str().expect("an id");
    let expired = app.get_json(&format!("/api/v1/payments/{id}"), 200).await;
    assert_eq!(expired["state"], "expired");
    assert!(expired.get("pay_url").is_none(), "{expired}");

    // What it held is free again: a new payment, paid at the gateway, whose IPN is lost.
    let (status, started) = pay::start(&app, &body, "fee-second-try").await;
    assert_eq!(status, 201, "{started}");
    let pay_url = started["pay_url"].as_str().expect("a pay URL");
    pay::at_gateway(&app, pay_url, "success", "never").await;
    // Before its expiry nothing is asked.
    assert_eq!(settle_at(&app, later(0)).await, Default::default());
    let pass = settle_at(&app, later(20)).await;
    assert_eq!((pass.confirmed, pass.expired), (1, 0));
    let id = started["id"].as_str().expect("an id");
    let paid = app.get_json(&format!("/api/v1/payments/{id}"), 200).await;
    assert_eq!(paid["state"], "paid");
    assert!(paid["receipt_credential_id"].is_string());
    let dossier = app
        .get_json(&format!("/api/v1/dossiers/{dossier}"), 200)
        .await;
    assert!(
        dossier["deadline_at"].as_i64().is_some(),
        "the clock started"
    );
    // Asked again, nothing changes.
    assert_eq!(settle_at(&app, later(40)).await, Default::default());
}

#[tokio::test]
async fn an_unpaid_filing_lapses_after_the_time_allowed_unless_a_payment_is_under_way() {
    let app = spawn_app().await;
    let dossier = filed_renewal_unpaid(&app).await;
    let hours = |h: i64| motcua_server::store::now_ms() + h * 3_600_000;
    assert_eq!(settle_at(&app, hours(47)).await.lapsed, 0, "not yet");
    // A payment under way holds it open.
    let (status, started) = pay::start(&app, &json!({ "dossier_id": dossier }), "fee-late-1").await;
    assert_eq!(status, 201, "{started}");
    let pay_url = started["pay_url"].as_str().expect("a pay URL");
    pay::at_gateway(&app, pay_url, "cancel", "now").await;
    let failed = app
        .get_json(
            &format!("/api/v1/payments/{}", started["id"].as_str().expect("id")),
            200,
        )
        .await;
    assert_eq!(
        failed["state"], "failed",
        "a cancelled payment fails and frees the fee"
    );
    let pass = settle_at(&app, hours(49)).await;
    assert_eq!(pass.lapsed, 1);
    let view = app
        .get_json(&format!("/api/v1/dossiers/{dossier}"), 200)
        .await;
    assert_eq!(view["status"], "withdrawn");
    assert!(
        view["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["action"] == "lapsed"),
        "{view}"
    );
    let (status, refused) = pay::start(&app, &json!({ "dossier_id": dossier }), "fee-late-2").await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (409, Some("transition_not_allowed"))
    );
}

#[tokio::test]
async fn land_obligations_paid_together_are_reported_reconciled_and_wrong_money_goes_back() {
    use motcua_server::outbox::Dispatcher;
    let app = spawn_app().await;
    let dispatcher = motcua_server::payments::jobs::consumers(&app.state)
        .into_iter()
        .fold(Dispatcher::standard(app.store.clone()), Dispatcher::with);
    dispatcher.register().await.expect("registered");
    app.sign_in("001088012345").await;
    // Only for an organisation the person represents.
    let (status, refused) = pay::start(
        &app,
        &json!({ "notices": ["TB-TTD-2026-0977"] }),
        "land-0001",
    )
    .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (403, Some("not_acting_for_organisation"))
    );
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let acting = app
        .client
        .put(app.url("/api/v1/me/acting-for"))
        .header("x-csrf-token", token)
        .json(&json!({ "tax_code": "0401234566" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(acting.status(), 200);

    let list = app.get_json("/api/v1/obligations", 200).await;
    assert_eq!(list["organisation"], "Hợp tác xã Nông nghiệp An Bình");
    let obligations = list["obligations"].as_array().expect("obligations");
    assert_eq!(obligations.len(), 2);
    let rent = obligations
        .iter()
        .find(|o| o["kind"] == "land_rent")
        .expect("the rent");
    // Instalment 1 is 20 days past due: 19 days of 0.03 % on 12 000 000.
    assert_eq!(rent["instalments"][0]["late_days"], 19);
    assert_eq!(rent["interest_vnd"], 68_400);
    assert_eq!(rent["outstanding_vnd"], 24_068_400);
    assert_eq!(
        (rent["budget_account"].as_str(), rent["sub_item"].as_str()),
        (Some("7111"), Some("3601"))
    );
    // Unknown notices, and instalments of a notice paid whole, are refused.
    let (status, unknown) =
        pay::start(&app, &json!({ "notices": ["TB-NOPE-1"] }), "land-0002").await;
    assert_eq!(
        (status, unknown["error"].as_str()),
        (422, Some("unknown_notice"))
    );
    let (status, whole) = pay::start(
        &app,
        &json!({ "notices": ["TB-LPTB-2026-0458/1"] }),
        "land-0003",
    )
    .await;
    assert_eq!(
        (status, whole["error"].as_str()),
        (422, Some("instalments_not_allowed"))
    );

    let (status, started) = pay::start(
        &app,
        &json!({ "notices": ["TB-TTD-2026-0977", "TB-LPTB-2026-0458"] }),
        "land-0004",
    )
    .await;
    assert_eq!(status, 201, "{started}");
    assert_eq!(started["amount_vnd"], 30_068_400);
    assert_eq!(
        started["items"].as_array().map(Vec::len),
        Some(3),
        "two instalments and a fee"
    );
    let pay_url = started["pay_url"].as_str().expect("a pay URL");
    pay::at_gateway(&app, pay_url, "success", "now").await;
    let id = started["id"].as_str().expect("an id").to_owned();
    let paid = app.get_json(&format!("/api/v1/payments/{id}"), 200).await;
    assert_eq!(paid["state"], "paid", "{paid}");
    let list = app.get_json("/api/v1/obligations", 200).await;
    assert!(
        list["obligations"]
            .as_array()
            .expect("list")
            .iter()
            .all(|o| o["paid"] == true),
        "{list}"
    );
    let (status, again) = pay::start(
        &app,
        &json!({ "notices": ["TB-LPTB-2026-0458"] }),
        "land-0005",
    )
    .await;
    assert_eq!(
        (status, again["error"].as_str()),
        (409, Some("already_paid"))
    );

    // The tax authority is told, through the outbox, once.
    let now = motcua_server::store::now_ms();
    dispatcher.deliver_due(now).await.expect("delivered");
    assert!(app.tax.as_ref().expect("the sandbox").was_reported(&id));
    // Paid obligations equal the money credited for them.
    let (credited,): (i64,) = sqlx::query_as(
        "select cast(coalesce(sum(amount_vnd), 0) as bigint) from ledger_entries where account = 'clearing:vnpay' and claim like 'notice:%'",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("summed");
    assert_eq!(credited, 30_068_400);

    // A second order where the gateway takes the wrong amount: 04, nothing paid, money back.
    app.sign_in("001088012345").await;
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    app.client
        .put(app.url("/api/v1/me/acting-for"))
        .header("x-csrf-token", token)
        .json(&json!({ "tax_code": "0312345673" }))
        .send()
        .await
        .expect("answered");
    let (status, _) = pay::start(
        &app,
        &json!({ "notices": ["TB-SDD-2026-0815/1"] }),
        "land-0006",
    )
    .await;
    // An is not a representative of that company: refused.
    assert_eq!(status, 403);
    let (status, wrong) = {
        // Hà represents both companies.
        app.sign_in("048190002468").await;
        let token = app.me().await["csrf_token"]
            .as_str()
            .expect("token")
            .to_owned();
        app.client
            .put(app.url("/api/v1/me/acting-for"))
            .header("x-csrf-token", token)
            .json(&json!({ "tax_code": "0312345673" }))
            .send()
            .await
            .expect("answered");
        pay::start(
            &app,
            &json!({ "notices": ["TB-SDD-2026-0815/1"] }),
            "land-0007",
        )
        .await
    };
    assert_eq!(status, 201, "{wrong}");
    let wrong_id = wrong["id"].as_str().expect("an id").to_owned();
    let amount_x100 = wrong["amount_vnd"].as_i64().expect("an amount") * 100 + 100;
    let back = pay::at_gateway_taking(
        &app,
        wrong["pay_url"].as_str().expect("url"),
        "success",
        "never",
        Some(amount_x100),
    )
    .await;
    assert_eq!(pay::ipn(&app, &pay::query_of(&back)).await, "04");
    let view = app
        .get_json(&format!("/api/v1/payments/{wrong_id}"), 200)
        .await;
    assert_eq!(view["state"], "pending");
    assert_eq!(view["returns"][0]["state"], "pending");
    dispatcher
        .deliver_due(motcua_server::store::now_ms())
        .await
        .expect("delivered");
    let view = app
        .get_json(&format!("/api/v1/payments/{wrong_id}"), 200)
        .await;
    assert_eq!(view["returns"][0]["state"], "refunded", "{view}");
    let list = app.get_json("/api/v1/obligations", 200).await;
    let levy = list["obligations"]
        .as_array()
        .expect("list")
        .iter()
        .find(|o| o["kind"] == "land_use_levy")
        .expect("the levy")
        .clone();
    assert_eq!(
        levy["instalments"][0]["paid"], false,
        "a wrong amount pays nothing"
    );

    // Reconciled with the gateway's settlement of today: no difference; clearing emptied into
    // the treasury's accounts; what was returned is back with its payer.
    let today = motcua_shared::calendar::Day::of_instant(motcua_server::store::now_ms());
    let (y, m, d) = today.ymd();
    let report = motcua_server::payments::reconcile::reconcile(
        &app.store,
        app.state.payments.gateway.as_ref().expect("a gateway"),
        &format!("{y:04}-{m:02}-{d:02}"),
    )
    .await
    .expect("reconciled");
    assert!(report.differences.is_empty(), "{:?}", report.differences);
    assert_eq!((report.gateway_payments, report.gateway_refunds), (2, 1));
    assert_eq!(report.settled_vnd, 30_068_400);
    let balances = app.store.ledger_balances().await.expect("balances");
    assert_eq!(balances.get("clearing:vnpay"), Some(&0));
    assert_eq!(balances.get("returns:vnpay"), Some(&0));
    assert_eq!(
        balances.get("treasury:1511:7111:754:3601"),
        Some(&24_068_400)
    );
    assert_eq!(
        balances.get("treasury:1511:7111:754:2801"),
        Some(&6_000_000)
    );
    assert!(
        app.store
            .unbalanced_transactions()
            .await
            .expect("checked")
            .is_empty()
    );
    // Settled once, however often it runs.
    let again = motcua_server::payments::reconcile::reconcile(
        &app.store,
        app.state.payments.gateway.as_ref().expect("a gateway"),
        &format!("{y:04}-{m:02}-{d:02}"),
    )
    .await
    .expect("reconciled");
    assert_eq!(again.settled_vnd, 0);
    assert_eq!(
        app.store
            .ledger_balances()
            .await
            .expect("balances")
            .get("treasury:1511:7111:754:3601"),
        Some(&24_068_400)
    );
}

/// Runs the npm `vnpay` package, a third-party merchant implementation of the protocol
/// (`tests/peers/vnpay-merchant.mjs`), with `args`; its JSON answer. Fails, never skips, when
/// Node.js or the package is missing (`npm ci` installs it).
async fn vnpay_peer(args: &[&str]) -> serde_json::Value {
    let script =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers/vnpay-merchant.mjs");
    let out = tokio::process::Command::new("node")
        .arg(script)
        .args(args)
        .output()
        .await
        .expect("node runs (the interoperability test needs Node.js and `npm ci`)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON line")
}

#[tokio::test]
async fn a_third_party_vnpay_implementation_and_ours_agree_on_every_signature() {
    let app = spawn_app().await;
    let gateway = app.gateway.as_ref().expect("the sandbox gateway");
    let (tmn, secret) = (gateway.tmn_code.clone(), gateway.hash_secret.clone());

    // Our pay URL verifies with the package, amount and all.
    let dossier = filed_renewal_unpaid(&app).await;
    let (status, started) =
        pay::start(&app, &json!({ "dossier_id": dossier }), "interop-0001").await;
    assert_eq!(status, 201, "{started}");
    let pay_url = started["pay_url"].as_str().expect("a pay URL").to_owned();
    let query = pay::query_of(&pay_url);
    let read = vnpay_peer(&["verify", &tmn, &secret, &query]).await;
    assert_eq!(read["isVerified"], true, "{read}");
    assert_eq!(read["amount"], 115_000);

    // The gateway's signed result (the sandbox's) verifies with the package as paid; a changed
    // amount does not.
    let back = pay::query_of(&pay::at_gateway(&app, &pay_url, "success", "never").await);
    let read = vnpay_peer(&["verify", &tmn, &secret, &back]).await;
    assert_eq!(
        (&read["isVerified"], &read["isSuccess"]),
        (&json!(true), &json!(true)),
        "{read}"
    );
    assert_eq!(read["txnRef"], started["txn_ref"]);
    let forged = back.replace("vnp_Amount=11500000", "vnp_Amount=100");
    assert_eq!(
        vnpay_peer(&["verify", &tmn, &secret, &forged]).await["isVerified"],
        false
    );

    // A pay URL the package builds is taken by the sandbox gateway; changed, it is refused.
    let built = vnpay_peer(&[
        "pay-url",
        &app.url("/sandbox/vnpay"),
        &tmn,
        &secret,
        "INTEROP0001",
        "50000",
        &app.url("/payments/vnpay/return"),
    ])
    .await;
    let url = built["url"].as_str().expect("a URL");
    let page = app.client.get(url).send().await.expect("answered");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("a page").contains("50.000 ₫"));
    let tampered = url.replace("vnp_Amount=5000000", "vnp_Amount=5000001");
    assert_eq!(
        app.client
            .get(&tampered)
            .send()
            .await
            .expect("answered")
            .status(),
        400
    );
}

#[tokio::test]
async fn answers_of_the_gateway_that_are_not_signed_with_our_secret_are_refused() {
    use motcua_server::payments::vnpay::{Gateway, GatewayError, Merchant};
    // A gateway that answers everything, signed with another secret.
    let app = axum::Router::new()
        .route(
            "/tx",
            axum::routing::post(
                |axum::Json(body): axum::Json<serde_json::Value>| async move {
                    let fields = motcua_server::payments::vnpay::fields_of(&body).expect("fields");
                    let mut answer = motcua_server::payments::vnpay::Fields::new();
                    for k in ["vnp_TxnRef", "vnp_Command", "vnp_TmnCode"] {
                        answer.insert(k.into(), fields.get(k).cloned().unwrap_or_default());
                    }
                    answer.insert("vnp_ResponseCode".into(), "00".into());
                    answer.insert("vnp_TransactionStatus".into(), "00".into());
                    answer.insert("vnp_Amount".into(), "11500000".into());
                    let order = if fields["vnp_Command"] == "refund" {
                        &motcua_server::payments::vnpay::REFUND_RESPONSE[..]
                    } else {
                        &motcua_server::payments::vnpay::QUERYDR_RESPONSE[..]
                    };
                    let hash = motcua_server::payments::vnpay::sign_fields(
                        "NOT-OUR-SECRET",
                        order,
                        &answer,
                    );
                    answer.insert("vnp_SecureHash".into(), hash);
                    axum::Json(answer)
                },
            ),
        )
        .route(
            "/settlement",
            axum::routing::get(|| async {
                let body = "[]";
                let signature = motcua_server::payments::vnpay::hmac_hex("NOT-OUR-SECRET", body);
                ([("x-vnp-signature", signature)], body)
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let gateway = Gateway::new(
        Merchant {
            tmn_code: "MOTCUA01".into(),
            hash_secret: motcua_server::config::Secret::new("OUR-SECRET"),
            pay_url: format!("http://{addr}/pay"),
            query_url: format!("http://{addr}/tx"),
            return_url: "http://127.0.0.1/return".into(),
        },
        format!("http://{addr}/settlement"),
    )
    .expect("a client");
    let now = motcua_server::store::now_ms();
    assert!(matches!(
        gateway.querydr("20261130AAAA", "20261130080000", now).await,
        Err(GatewayError::BadSignature)
    ));
    assert!(matches!(
        gateway
            .refund(
                "20261130AAAA",
                "14000001",
                "20261130080000",
                115_000,
                true,
                "test",
                now
            )
            .await,
        Err(GatewayError::BadSignature)
    ));
    assert!(matches!(
        gateway.settlement("20261130").await,
        Err(GatewayError::BadSignature)
    ));
}
