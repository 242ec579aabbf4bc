//! Sets up the bench's signed-in load: against the running server at the URL given (sandboxes
//! on), signs in a demo citizen and files `N` driving-licence renewals (the citizen's list), and
//! signs in the officer whose queue holds them. Prints `citizen COOKIE` and `officer COOKIE`, the
//! `Cookie` headers wrk then sends.

use motcua_tests::Browser;
use serde_json::{Map, Value, json};

const CITIZEN: &str = "001088012345";
const OFFICER: &str = "031180009876";

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let base = args.next().expect("usage: bench-session BASE_URL [N]");
    let count: usize = args.next().map_or(20, |n| n.parse().expect("a number"));
    let citizen = Browser::at(&base);
    citizen.sign_in_as(CITIZEN).await;
    let prefill: Value = citizen
        .get("/api/v1/procedures/1.002804/prefill")
        .await
        .json()
        .await
        .expect("a pre-fill");
    let mut answers: Map<String, Value> = prefill["values"]
        .as_object()
        .expect("values")
        .iter()
        .map(|(k, v)| (k.clone(), v["value"].clone()))
        .collect();
    answers.insert("delivery".into(), json!("post"));
    let me: Value = citizen.get("/api/v1/me").await.json().await.expect("me");
    let token = me["csrf_token"].as_str().expect("a token").to_owned();
    for n in 0..count {
        let response = citizen
            .client
            .post(citizen.url("/api/v1/dossiers"))
            .header("x-csrf-token", &token)
            .json(&json!({ "procedure_code": "1.002804", "answers": answers, "idempotency_key": format!("bench-{n:04}") }))
            .send()
            .await
            .expect("answered");
        assert!(
            response.status().is_success(),
            "filing {n}: {}",
            response.status()
        );
    }
    let officer = Browser::at(&base);
    officer.sign_in_as(OFFICER).await;
    println!("citizen {}", citizen.cookie_header());
    println!("officer {}", officer.cookie_header());
}
