//! The authorisation matrix, generated from the OpenAPI document: every operation that names an
//! object (a path parameter, or an id in its body) is requested for citizen A's object by
//! another citizen, by an officer of another desk and by nobody, each with their own session and
//! CSRF token. Each must answer 401/403/404 (or the few refusals listed with their reason) and
//! change nothing in the database. An operation that names an object and is neither a case here
//! nor public by design fails the test, so a new route has to join the matrix.

use std::collections::BTreeSet;

use motcua_tests::{Browser, LEVEL2_CCCD, TestApp, spawn_app_with};
use reqwest::Method;
use serde_json::{Value, json};

use crate::back_office::{COMMUNE_OFFICER, TRAFFIC_OFFICER, act, filed_renewal, officer};

/// Another citizen, with no part in A's affairs (and no organisation of A's).
const OTHER_CITIZEN: &str = "079195004321";

/// Operations whose object is public by design, or the caller's own by construction, and why.
const NOT_PRIVATE: &[(&str, &str)] = &[
    ("GET /api/v1/procedures/{code}", "the catalogue is public"),
    (
        "GET /api/v1/procedures/{code}/prefill",
        "names a procedure; what it reads is the caller's own records",
    ),
    (
        "GET /api/v1/status-lists/{id}",
        "status lists are published for offline verifiers",
    ),
    (
        "POST /api/v1/verify qr",
        "anyone may verify any credential they are shown",
    ),
    (
        "POST /api/v1/wallet/from-register document",
        "a kind of document; the register is asked about the caller only",
    ),
    (
        "GET /api/v1/me/drafts/{code}",
        "keyed by the caller and a procedure; `drafts_are_the_callers_own` below",
    ),
    (
        "PUT /api/v1/me/drafts/{code}",
        "keyed by the caller and a procedure; `drafts_are_the_callers_own` below",
    ),
    (
        "DELETE /api/v1/me/drafts/{code}",
        "keyed by the caller and a procedure; `drafts_are_the_callers_own` below",
    ),
    (
        "POST /api/v1/officer/dossiers/{id}/assign officer_cccd",
        "the lead names a colleague: another desk's officer is 422 not_an_officer_here \
         (back_office::a_claimed_dossier_is_worked_by_its_officer_and_the_lead_can_reassign_it)",
    ),
];

/// A body field names an object when it is an id, a citizen ID number, a tax code, a list of
/// notices, a document or a QR.
fn names_an_object(field: &str) -> bool {
    field.ends_with("_id")
        || field.ends_with("_ids")
        || field.ends_with("_cccd")
        || matches!(field, "id" | "tax_code" | "notices" | "document" | "qr")
}

/// `METHOD /path` and `METHOD /path field` for every operation of the document that names an
/// object.
fn object_operations(doc: &Value) -> BTreeSet<String> {
    let schemas = &doc["components"]["schemas"];
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("an item") {
            if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            let name = format!("{} {path}", method.to_uppercase());
            let in_path = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["in"] == "path");
            if in_path {
                out.insert(name.clone());
            }
            for content in op["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flat_map(|c| c.values())
            {
                for field in properties(&content["schema"], schemas, 0) {
                    if names_an_object(&field) {
                        out.insert(format!("{name} {field}"));
                    }
                }
            }
        }
    }
    out
}

/// The property names of `schema`, through references and compositions.
fn properties(schema: &Value, schemas: &Value, depth: u8) -> Vec<String> {
    if depth > 4 {
        return Vec::new();
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().expect("a name");
        return properties(&schemas[name], schemas, depth + 1);
    }
    let mut out: Vec<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for key in ["allOf", "oneOf", "anyOf"] {
        for part in schema[key].as_array().into_iter().flatten() {
            out.extend(properties(part, schemas, depth + 1));
        }
    }
    out
}

/// A caller: a browser with its session and CSRF token, or nobody.
struct Caller {
    who: &'static str,
    client: reqwest::Client,
    csrf: Option<String>,
}

async fn caller(app: &TestApp, who: &'static str, cccd: Option<&str>) -> Caller {
    let browser = TestApp::second_browser(app);
    let csrf = match cccd {
        Some(cccd) => {
            browser.sign_in_as(cccd).await;
            let me: Value = browser.get("/api/v1/me").await.json().await.expect("json");
            Some(me["csrf_token"].as_str().expect("a token").to_owned())
        }
        None => None,
    };
    let Browser { client, .. } = browser;
    Caller { who, client, csrf }
}

/// One request of the matrix: an operation filled in with A's object.
struct Case {
    /// The operation as the document names it, and the body field it covers, if any.
    covers: String,
    method: Method,
    path: String,
    body: Option<Value>,
    /// Statuses besides 401/403/404 a refusal may take here, and why.
    also: &'static [u16],
    /// Whether A (or A's desk) reads it: checked first, so a refusal is not of a wrong request.
    owner_reads: Option<Owner>,
    /// A caller who rightly may (named by `Caller::who`).
    rightful: Option<&'static str>,
}

#[derive(Clone, Copy)]
enum Owner {
    Citizen,
    Desk,
}

impl Case {
    fn new(covers: &str, method: Method, path: String) -> Case {
        Case {
            covers: covers.to_owned(),
            method,
            path,
            body: None,
            also: &[],
            owner_reads: None,
            rightful: None,
        }
    }

    fn rightly_by(mut self, who: &'static str) -> Case {
        self.rightful = Some(who);
        self
    }

    fn body(mut self, body: Value) -> Case {
        self.body = Some(body);
        self
    }

    fn also(mut self, statuses: &'static [u16]) -> Case {
        self.also = statuses;
        self
    }

    fn read_by(mut self, owner: Owner) -> Case {
        self.owner_reads = Some(owner);
        self
    }
}

async fn send(app: &TestApp, caller: &Caller, case: &Case) -> (u16, String) {
    let mut request = caller
        .client
        .request(case.method.clone(), app.url(&case.path))
        .header(
            "idempotency-key",
            format!("matrix-{}", uuid::Uuid::new_v4()),
        );
    if let Some(token) = &caller.csrf {
        request = request.header("x-csrf-token", token);
    }
    if let Some(body) = &case.body {
        request = request.json(body);
    }
    let response = request.send().await.expect("answered");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// What a refused request must leave as it was: every change that matters writes an audit entry
/// and an outbox row, and the states a request could flip are counted too.
async fn fingerprint(app: &TestApp) -> Vec<(String, i64)> {
    let queries = [
        "select count(*) from outbox",
        "select (select count(*) from audit_log) + (select count(*) from audit_queue)",
        "select count(*) from dossier_events",
        "select coalesce(sum(version), 0) from dossiers",
        "select count(*) from dossiers where assignee_id is not null",
        "select count(*) from notices where read_at is not null",
        "select count(*) from drafts",
        "select coalesce(sum(updated_at), 0) from drafts",
        "select count(*) from sessions where revoked_at is null",
        "select count(acting_for) from sessions",
        "select count(*) from passkeys",
        "select count(*) from push_subscriptions",
        "select count(answered_at) + count(settled) from feedback",
        "select count(*) from feedback",
        "select count(*) from ratings",
        "select count(*) from payments",
        "select count(*) from credentials where status <> 'valid'",
        "select count(*) from credentials",
        "select count(*) from warehouse_items",
        "select count(*) from data_access_log",
    ];
    let mut out = Vec::new();
    for sql in queries {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select cast(({sql}) as bigint)"
        )))
        .fetch_one(app.store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
        out.push((sql.to_owned(), n));
    }
    out
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn every_object_route_refuses_other_people_and_changes_nothing() {
    let app = spawn_app_with(|config| {
        // A domain name, as in production, so the passkey routes work.
        config.public_url = format!("http://localhost:{}", config.addr.port());
        config.filing_rate_per_hour = 1_000;
        config.rate_limit_passkey_per_minute = 1_000;
    })
    .await;

    // Citizen A's objects: an ended dossier with a credential, an open one in the traffic
    // desk's queue, feedback, a notice, a payment, a passkey, a push device, an upload.
    let (ended, lead) = {
        let id = filed_renewal(&app).await;
        let lead = officer(&app, TRAFFIC_OFFICER).await;
        for action in ["receive", "start_processing", "approve", "issue_result"] {
            assert_eq!(act(&lead, &id, action, None).await.status(), 200);
        }
        (id, lead)
    };
    let open = crate::back_office::file_as_citizen(
        &app,
        "1.002804",
        &[("delivery", json!("counter"))],
        "matrix-open-dossier",
    )
    .await;
    let paid = motcua_tests::pay::pay_dossier_fee(&app, &open).await;
    let payment = id_of(&paid);
    let portrait =
        app.get_json(&format!("/api/v1/dossiers/{open}"), 200).await["answers"]["portrait"]
            .as_str()
            .expect("a portrait")
            .to_owned();
    let wallet = app.get_json("/api/v1/wallet", 200).await;
    let credential = wallet["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .find(|c| c["type"] == "driving_licence")
        .map(id_of)
        .expect("the licence issued");
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let post = |path: &str, body: Value| {
        app.client
            .post(app.url(path))
            .header("x-csrf-token", &token)
            .json(&body)
            .send()
    };
    let feedback: Value = post(
        "/api/v1/feedback",
        json!({ "about": "dossier", "dossier_id": ended, "subject": "Chờ lâu", "body": "Tôi phải chờ hai giờ." }),
    )
    .await
    .expect("answered")
    .json()
    .await
    .expect("json");
    let feedback = id_of(&feedback);
    let (person,): (String,) = sqlx::query_as("select id from people where cccd = $1")
        .bind(LEVEL2_CCCD)
        .fetch_one(app.store.pool())
        .await
        .expect("A");
    motcua_tests::write_account_notices(&app.store, &person, "matrix", 1).await;
    let notice = "matrix-0".to_owned();
    // Before the stored passkey below, whose key is not a real one.
    let ceremony: Value = post(
        "/api/v1/me/passkeys/registration/start",
        json!({ "name": "Máy tính bảng" }),
    )
    .await
    .expect("answered")
    .json()
    .await
    .expect("json");
    let ceremony = ceremony["ceremony_id"]
        .as_str()
        .unwrap_or_else(|| panic!("a ceremony: {ceremony}"))
        .to_owned();
    sqlx::query(
        "insert into passkeys (credential_id, person_id, name, passkey, created_at) values ('pk-matrix', $1, 'Điện thoại', '{}', 0)",
    )
    .bind(&person)
    .execute(app.store.pool())
    .await
    .expect("a passkey");
    sqlx::query(
        "insert into push_subscriptions (id, person_id, endpoint, p256dh, auth, device, created_at) \
         values ('push-matrix', $1, 'https://push.example/matrix', 'k', 'a', 'Chrome', 0)",
    )
    .bind(&person)
    .execute(app.store.pool())
    .await
    .expect("a push device");
    let sessions = app.get_json("/api/v1/me/sessions", 200).await;
    let session = sessions["sessions"][0]["id"]
        .as_str()
        .expect("A's session")
        .to_owned();
    let forged_assertion = json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": { "clientDataJSON": "AAAA", "authenticatorData": "AAAA", "signature": "AAAA", "userHandle": null },
        "extensions": {}
    });
    let forged_credential = json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": { "clientDataJSON": "AAAA", "attestationObject": "AAAA" },
        "extensions": {}
    });

    let cases = vec![
        Case::new("GET /api/v1/dossiers/{id}", Method::GET, format!("/api/v1/dossiers/{ended}"))
            .read_by(Owner::Citizen),
        Case::new("GET /api/v1/dossiers/{id}/rating", Method::GET, format!("/api/v1/dossiers/{ended}/rating"))
            .read_by(Owner::Citizen),
        Case::new("PUT /api/v1/dossiers/{id}/rating", Method::PUT, format!("/api/v1/dossiers/{ended}/rating"))
            .body(json!({ "satisfied": false, "timeliness": 1, "clarity": 1, "attitude": 1, "comment": "x" })),
        Case::new("POST /api/v1/dossiers/{id}/resubmit", Method::POST, format!("/api/v1/dossiers/{open}/resubmit"))
            .body(json!({ "answers": {} })),
        Case::new("POST /api/v1/dossiers/{id}/withdraw", Method::POST, format!("/api/v1/dossiers/{open}/withdraw")),
        Case::new("POST /api/v1/me/feedback/{id}/settled", Method::POST, format!("/api/v1/me/feedback/{feedback}/settled"))
            .body(json!({ "settled": true })),
        Case::new("POST /api/v1/me/notices/{id}/read", Method::POST, format!("/api/v1/me/notices/{notice}/read")),
        Case::new("DELETE /api/v1/me/passkeys/{id}", Method::DELETE, "/api/v1/me/passkeys/pk-matrix".to_owned()),
        Case::new("DELETE /api/v1/me/push/subscriptions/{id}", Method::DELETE, "/api/v1/me/push/subscriptions/push-matrix".to_owned()),
        Case::new("DELETE /api/v1/me/sessions/{id}", Method::DELETE, format!("/api/v1/me/sessions/{session}")),
        Case::new("GET /api/v1/me/warehouse/{id}/content", Method::GET, format!("/api/v1/me/warehouse/{portrait}/content"))
            .read_by(Owner::Citizen),
        Case::new("POST /api/v1/officer/credentials/{id}/status", Method::POST, format!("/api/v1/officer/credentials/{credential}/status"))
            .body(json!({ "status": "suspended", "reason": "Kiểm thử" })),
        Case::new("GET /api/v1/officer/dossiers/{id}", Method::GET, format!("/api/v1/officer/dossiers/{open}"))
            .read_by(Owner::Desk),
        Case::new("POST /api/v1/officer/dossiers/{id}/actions", Method::POST, format!("/api/v1/officer/dossiers/{open}/actions"))
            .body(json!({ "action": "receive" })),
        Case::new("POST /api/v1/officer/dossiers/{id}/assign", Method::POST, format!("/api/v1/officer/dossiers/{open}/assign"))
            .body(json!({ "officer_cccd": COMMUNE_OFFICER })),
        Case::new("POST /api/v1/officer/dossiers/{id}/claim", Method::POST, format!("/api/v1/officer/dossiers/{open}/claim")),
        Case::new(
            "GET /api/v1/officer/dossiers/{id}/documents/{item}",
            Method::GET,
            format!("/api/v1/officer/dossiers/{open}/documents/{portrait}"),
        )
        .read_by(Owner::Desk),
        Case::new("POST /api/v1/officer/feedback/{id}/answer", Method::POST, format!("/api/v1/officer/feedback/{feedback}/answer"))
            .body(json!({ "answer": "Chúng tôi xin lỗi." })),
        Case::new("GET /api/v1/payments/{id}", Method::GET, format!("/api/v1/payments/{payment}"))
            .read_by(Owner::Citizen),
        Case::new("GET /api/v1/wallet/{id}/pdf", Method::GET, format!("/api/v1/wallet/{credential}/pdf"))
            .read_by(Owner::Citizen),
        Case::new("POST /api/v1/wallet/{id}/proof", Method::POST, format!("/api/v1/wallet/{credential}/proof")),
        // Ids in bodies.
        Case::new("POST /api/v1/feedback dossier_id", Method::POST, "/api/v1/feedback".to_owned())
            .body(json!({ "about": "dossier", "dossier_id": ended, "subject": "Chờ lâu", "body": "Không phải hồ sơ của tôi." })),
        Case::new("POST /api/v1/payments dossier_id", Method::POST, "/api/v1/payments".to_owned())
            .body(json!({ "dossier_id": open })),
        Case::new("POST /api/v1/payments notices", Method::POST, "/api/v1/payments".to_owned())
            .body(json!({ "notices": ["TB-TTD-2026-0977"] })),
        // Phạm Thu Hà, the officer of another desk, is herself authorised by this cooperative.
        Case::new("PUT /api/v1/me/acting-for tax_code", Method::PUT, "/api/v1/me/acting-for".to_owned())
            .body(json!({ "tax_code": "0401234566" }))
            .rightly_by("an officer of another desk"),
        // A's ceremony finished by someone else is refused as any foreign or forged ceremony is.
        Case::new(
            "POST /api/v1/me/passkeys/registration/finish ceremony_id",
            Method::POST,
            "/api/v1/me/passkeys/registration/finish".to_owned(),
        )
        .body(json!({ "ceremony_id": ceremony, "credential": forged_credential }))
        .also(&[400]),
        Case::new(
            "POST /api/v1/me/step-up/passkey/finish ceremony_id",
            Method::POST,
            "/api/v1/me/step-up/passkey/finish".to_owned(),
        )
        .body(json!({ "ceremony_id": ceremony, "credential": forged_assertion }))
        .also(&[400]),
    ];

    // Every operation that names an object is a case or public by design.
    let doc = app.get_json("/api/openapi.json", 200).await;
    let named = object_operations(&doc);
    let covered: BTreeSet<String> = cases
        .iter()
        .map(|c| c.covers.clone())
        .chain(NOT_PRIVATE.iter().map(|(op, _)| (*op).to_owned()))
        .collect();
    let uncovered: Vec<&String> = named.difference(&covered).collect();
    assert!(
        uncovered.is_empty(),
        "operations naming an object that the matrix does not cover: {uncovered:#?}"
    );
    let stale: Vec<&String> = covered.difference(&named).collect();
    assert!(
        stale.is_empty(),
        "cases of no documented operation: {stale:#?}"
    );
    assert!(named.len() >= 30, "{named:#?}");

    // The owner reads what the matrix refuses others, so each refusal is of a right request.
    let desk = Caller {
        who: "A's desk",
        client: lead.client.clone(),
        csrf: None,
    };
    let citizen = Caller {
        who: "A",
        client: app.client.clone(),
        csrf: None,
    };
    for case in &cases {
        let Some(owner) = case.owner_reads else {
            continue;
        };
        let reader = match owner {
            Owner::Citizen => &citizen,
            Owner::Desk => &desk,
        };
        let (status, body) = send(&app, reader, case).await;
        assert_eq!(status, 200, "{} by {}: {body}", case.covers, reader.who);
    }

    let callers = [
        caller(&app, "another citizen", Some(OTHER_CITIZEN)).await,
        caller(&app, "an officer of another desk", Some(COMMUNE_OFFICER)).await,
        caller(&app, "nobody", None).await,
    ];
    let before = fingerprint(&app).await;
    let mut wrong = Vec::new();
    for case in &cases {
        for caller in callers.iter().filter(|c| case.rightful != Some(c.who)) {
            let (status, body) = send(&app, caller, case).await;
            if !([401, 403, 404].contains(&status) || case.also.contains(&status)) {
                wrong.push(format!(
                    "{} by {}: {status} {body}",
                    case.covers, caller.who
                ));
            }
            let after = fingerprint(&app).await;
            if after != before {
                let changed: Vec<String> = before
                    .iter()
                    .zip(&after)
                    .filter(|(b, a)| b != a)
                    .map(|(b, a)| format!("{}: {} → {}", b.0, b.1, a.1))
                    .collect();
                panic!("{} by {} changed {changed:?}", case.covers, caller.who);
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // A's session, passkey and device are still there, A's dossier still open.
    assert_eq!(app.get("/api/v1/me").await.status(), 200);
    let (keys,): (i64,) =
        sqlx::query_as("select count(*) from passkeys where credential_id = 'pk-matrix'")
            .fetch_one(app.store.pool())
            .await
            .expect("read");
    assert_eq!(keys, 1);
    let dossier = app.get_json(&format!("/api/v1/dossiers/{open}"), 200).await;
    assert_eq!(dossier["status"], "submitted");
}

#[tokio::test]
async fn drafts_are_the_callers_own() {
    let app = spawn_app_with(|_| {}).await;
    app.sign_in(LEVEL2_CCCD).await;
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let path = "/api/v1/me/drafts/1.002804";
    let saved = app
        .client
        .put(app.url(path))
        .header("x-csrf-token", &token)
        .json(&json!({ "answers": { "delivery": "post" } }))
        .send()
        .await
        .expect("answered");
    assert!(saved.status().is_success(), "{}", saved.status());
    let mine = app.get_json(path, 200).await;

    let other = caller(&app, "another citizen", Some(OTHER_CITIZEN)).await;
    let with_csrf = |method: Method| {
        other
            .client
            .request(method, app.url(path))
            .header("x-csrf-token", other.csrf.clone().expect("a token"))
    };
    assert_eq!(
        with_csrf(Method::GET)
            .send()
            .await
            .expect("answered")
            .status(),
        404,
        "another's draft of the same procedure is not theirs to read"
    );
    let deleted = with_csrf(Method::DELETE).send().await.expect("answered");
    assert!(deleted.status().is_success() || deleted.status() == 404);
    let own = with_csrf(Method::PUT)
        .json(&json!({ "answers": { "delivery": "counter" } }))
        .send()
        .await
        .expect("answered");
    assert!(
        own.status().is_success(),
        "their own draft: {}",
        own.status()
    );
    assert_eq!(app.get_json(path, 200).await, mine, "A's draft as it was");
}
