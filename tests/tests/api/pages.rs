//! Keyset pagination: every list that grows with use answers a page at a time (`limit`, at
//! most 200) with the cursor of the next page, and walking the cursors shows each item once,
//! in the list's order, whatever is added meanwhile.

use motcua_server::identity::data_access::Access;
use motcua_tests::{LEVEL2_CCCD, assert_api_error, pay::Caller, spawn_app};
use serde_json::{Value, json};

use crate::back_office::{TRAFFIC_OFFICER, file_as_citizen, officer};

/// Every page of `path` at `limit` items: the items of `field` in order, and each page's size.
async fn walk(
    caller: &impl Caller,
    path: &str,
    field: &str,
    limit: u32,
) -> (Vec<Value>, Vec<usize>) {
    let join = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut sizes = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{}{path}{join}limit={limit}", caller.base());
        if let Some(after) = &after {
            url.push_str(&format!("&after={after}"));
        }
        let response = caller.client().get(&url).send().await.expect("answered");
        assert_eq!(response.status(), 200, "{url}");
        let page: Value = response.json().await.expect("json");
        let these = page[field].as_array().expect("a list").clone();
        assert!(
            these.len() <= limit as usize,
            "{url}: {} items",
            these.len()
        );
        sizes.push(these.len());
        items.extend(these);
        match page["next"].as_str() {
            Some(next) => {
                assert!(sizes.len() < 100, "{path} pages without end");
                after = Some(next.to_owned());
            }
            None => return (items, sizes),
        }
    }
}

/// `path` in pages of `limit` is the whole list read at once, each item once.
async fn pages_match_the_whole(
    caller: &impl Caller,
    path: &str,
    field: &str,
    limit: u32,
    key: impl Fn(&Value) -> String,
) -> Vec<Value> {
    let (whole, sizes) = walk(caller, path, field, 200).await;
    assert_eq!(sizes.len(), 1, "{path}: everything fits one page of 200");
    let (paged, sizes) = walk(caller, path, field, limit).await;
    assert!(
        sizes.len() > 1,
        "{path}: more than one page of {limit} ({sizes:?})"
    );
    let whole_keys: Vec<String> = whole.iter().map(&key).collect();
    let paged_keys: Vec<String> = paged.iter().map(&key).collect();
    assert_eq!(paged_keys, whole_keys, "{path}");
    let mut unique = paged_keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        paged_keys.len(),
        "{path}: an item shown twice"
    );
    whole
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn a_citizens_lists_page_by_cursor_without_gaps_or_repeats() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let (person,): (String,) = sqlx::query_as("select id from people where cccd = $1")
        .bind(LEVEL2_CCCD)
        .fetch_one(app.store.pool())
        .await
        .expect("the citizen");

    // Notices: seven, several in the same millisecond.
    motcua_tests::write_account_notices(&app.store, &person, "paged", 7).await;
    let notices = pages_match_the_whole(&app, "/api/v1/me/notices", "notices", 3, id_of).await;
    assert!(notices.len() >= 7);
    let times: Vec<i64> = notices
        .iter()
        .map(|n| n["created_at"].as_i64().expect("a time"))
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    let first = app.get_json("/api/v1/me/notices?limit=1", 200).await;
    assert_eq!(
        first["unread"].as_u64(),
        Some(notices.iter().filter(|n| n["read"] == false).count() as u64),
        "the unread count is of all notices, not of the page"
    );

    // Only the unread ones, when asked, in pages too.
    let (unread, _) = walk(&app, "/api/v1/me/notices?unread=true", "notices", 2).await;
    assert_eq!(
        unread.len() as u64,
        first["unread"].as_u64().expect("a count")
    );
    assert!(unread.iter().all(|n| n["read"] == false));

    // The warehouse, of one kind of document when asked.
    let all = app.get_json("/api/v1/me/warehouse?limit=200", 200).await;
    let portraits = app
        .get_json("/api/v1/me/warehouse?document=portrait-photo", 200)
        .await;
    let kinds: Vec<&str> = portraits["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["document_code"].as_str().expect("a kind"))
        .collect();
    assert!(
        !kinds.is_empty() && kinds.iter().all(|k| *k == "portrait-photo"),
        "{kinds:?}"
    );
    assert!(all["items"].as_array().expect("items").len() > kinds.len());

    // The data-access log: five reads recorded at once.
    let data: Vec<String> = (0..5).map(|i| format!("Họ tên {i}")).collect();
    let accesses: Vec<Access> = data
        .iter()
        .map(|data| Access {
            cccd: LEVEL2_CCCD,
            accessor_kind: "system",
            accessor: "test",
            source: "CSDLQG về dân cư",
            data,
            purpose: "Kiểm thử",
        })
        .collect();
    app.store
        .record_accesses(&accesses)
        .await
        .expect("recorded");
    let log = pages_match_the_whole(&app, "/api/v1/me/data-access", "entries", 2, |e| {
        e.to_string()
    })
    .await;
    assert!(log.len() >= 5);

    // Dossiers: three filed.
    for key in ["paged-dossier-1", "paged-dossier-2", "paged-dossier-3"] {
        file_as_citizen(&app, "1.002804", &[("delivery", json!("counter"))], key).await;
    }
    let dossiers = pages_match_the_whole(&app, "/api/v1/dossiers", "dossiers", 2, id_of).await;
    // A list shows no answers; opening one dossier does.
    assert!(
        dossiers.iter().all(|d| d.get("answers").is_none()),
        "{dossiers:?}"
    );
    let one = app
        .get_json(&format!("/api/v1/dossiers/{}", id_of(&dossiers[0])), 200)
        .await;
    assert!(
        one["answers"].as_object().is_some_and(|a| !a.is_empty()),
        "{one}"
    );

    // Something new between two pages neither repeats nor shifts what follows.
    let page = app.get_json("/api/v1/dossiers?limit=2", 200).await;
    let next = page["next"].as_str().expect("a next page").to_owned();
    file_as_citizen(
        &app,
        "1.002804",
        &[("delivery", json!("counter"))],
        "paged-dossier-4",
    )
    .await;
    let rest = app
        .get_json(&format!("/api/v1/dossiers?limit=2&after={next}"), 200)
        .await;
    let seen: Vec<String> = page["dossiers"]
        .as_array()
        .expect("a list")
        .iter()
        .map(id_of)
        .collect();
    let rest: Vec<String> = rest["dossiers"]
        .as_array()
        .expect("a list")
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(rest.len(), 1, "the third of the first three: {rest:?}");
    assert!(!seen.contains(&rest[0]));
}

#[tokio::test]
async fn the_officers_queue_pages_in_its_order_with_its_filters() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for key in ["queue-page-1", "queue-page-2", "queue-page-3"] {
        let id = file_as_citizen(&app, "1.002804", &[("delivery", json!("counter"))], key).await;
        motcua_tests::pay::pay_dossier_fee(&app, &id).await;
        ids.push(id);
    }
    let officer = officer(&app, TRAFFIC_OFFICER).await;
    let queue =
        pages_match_the_whole(&officer, "/api/v1/officer/dossiers", "dossiers", 2, id_of).await;
    let urgency: Vec<i64> = queue
        .iter()
        .map(|d| {
            d["receive_by"]
                .as_i64()
                .or(d["deadline_at"].as_i64())
                .expect("a due time")
        })
        .collect();
    assert!(
        urgency.windows(2).all(|w| w[0] <= w[1]),
        "most urgent first: {urgency:?}"
    );
    // A filter narrows every page, not only the first.
    let (filtered, _) = walk(
        &officer,
        "/api/v1/officer/dossiers?status=submitted",
        "dossiers",
        1,
    )
    .await;
    assert_eq!(filtered.len(), 3);
    let (none, sizes) = walk(
        &officer,
        "/api/v1/officer/dossiers?status=received",
        "dossiers",
        1,
    )
    .await;
    assert_eq!((none.len(), sizes), (0, vec![0]));
}

#[tokio::test]
async fn a_page_size_beyond_the_maximum_or_a_forged_cursor_is_a_clear_400() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let officer = officer(&app, TRAFFIC_OFFICER).await;
    let citizen_lists = [
        "/api/v1/dossiers",
        "/api/v1/me/notices",
        "/api/v1/me/data-access",
        "/api/v1/me/warehouse",
        "/api/v1/me/feedback",
        "/api/v1/wallet",
        "/api/v1/payments",
    ];
    let officer_lists = [
        "/api/v1/officer/dossiers",
        "/api/v1/officer/feedback",
        "/api/v1/officer/ratings",
    ];
    async fn refused(caller: &impl Caller, path: &str) {
        let get = |query: &str| {
            let url = format!("{}{path}?{query}", caller.base());
            caller.client().get(url).send()
        };
        for bad in ["limit=0", "limit=201", "limit=-1", "limit=many"] {
            let response = get(bad).await.expect("answered");
            let code = if bad.ends_with("0") || bad.ends_with("201") {
                "invalid_page_size"
            } else {
                "invalid_query"
            };
            assert_api_error(response, 400, code).await;
        }
        for bad in ["x", "12", "12_", "12_a%20b", "_a", "1_%27%3B--"] {
            assert_api_error(
                get(&format!("after={bad}")).await.expect("answered"),
                400,
                "invalid_cursor",
            )
            .await;
        }
        let fine = get("limit=200").await.expect("answered");
        assert_eq!(fine.status(), 200, "{path}");
    }
    for path in citizen_lists {
        refused(&app, path).await;
    }
    for path in officer_lists {
        refused(&officer, path).await;
    }
    // The message says the bound, in the reader's language.
    let english = app
        .client
        .get(app.url("/api/v1/dossiers?limit=500"))
        .header("accept-language", "en")
        .send()
        .await
        .expect("answered");
    let body: Value = english.json().await.expect("json");
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains("200")),
        "{body}"
    );

    // Every paginated list says so in the OpenAPI document.
    let doc = app.get_json("/api/openapi.json", 200).await;
    for path in citizen_lists.iter().chain(&officer_lists) {
        let params = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let names: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
        assert!(
            names.contains(&"limit") && names.contains(&"after"),
            "{path}: {names:?}"
        );
    }
}

#[test]
fn within_lists_name_the_unit_and_all_below_it() {
    let province = motcua_shared::units::children(None)
        .next()
        .expect("a province")
        .code;
    let hanoi = motcua_shared::units::within_list(province);
    assert!(hanoi.starts_with(',') && hanoi.ends_with(','));
    assert!(hanoi.contains(&format!(",{province},")));
    assert!(hanoi.matches(',').count() > 2, "{hanoi}");
    for unit in motcua_shared::units::all() {
        assert_eq!(
            hanoi.contains(&format!(",{},", unit.code)),
            motcua_shared::units::is_within(unit.code, province),
            "{}",
            unit.code
        );
    }
    assert_eq!(motcua_shared::units::within_list(""), "");
    assert_eq!(motcua_shared::units::within_list("nowhere"), ",nowhere,");
}
