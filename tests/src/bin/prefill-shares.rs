//! Measures once-only: for every seeded procedure and demo person, the share of the e-form's
//! fields the platform fills in from the national registers and the person's warehouse, and the
//! share of required documents satisfied without an upload. Runs a real server (SQLite, sandboxes
//! on) and reads everything over HTTP as the PWA does. `cargo xtask bench` prints its table.

use motcua_tests::{TestApp, spawn_app};
use serde_json::Value;

const PEOPLE: [(&str, &str); 4] = [
    ("001088012345", "Nguyễn Văn An"),
    ("079195004321", "Trần Thị Bình"),
    ("031180009876", "Lê Minh Cường"),
    ("048190002468", "Phạm Thu Hà"),
];

struct Share {
    filled: usize,
    fields: usize,
    satisfied: usize,
    documents: usize,
}

fn holds(field: &Value, answers: &serde_json::Map<String, Value>) -> bool {
    match field.get("when") {
        None | Some(Value::Null) => true,
        Some(when) => {
            answers.get(when["field"].as_str().unwrap_or_default()) == Some(&when["equals"])
        }
    }
}

fn share(detail: &Value, prefill: &Value) -> Share {
    let values = prefill["values"].as_object().cloned().unwrap_or_default();
    let answers: serde_json::Map<String, Value> = values
        .iter()
        .map(|(k, v)| (k.clone(), v["value"].clone()))
        .collect();
    let fields: Vec<&Value> = detail["form"]["fields"]
        .as_array()
        .map(|f| f.iter().filter(|f| holds(f, &answers)).collect())
        .unwrap_or_default();
    let filled = fields
        .iter()
        .filter(|f| values.contains_key(f["name"].as_str().unwrap_or_default()))
        .count();
    let all_fields = detail["form"]["fields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut satisfied = 0;
    let documents = detail["required_documents"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for doc in &documents {
        let code = doc["code"].as_str().unwrap_or_default();
        let ok = match doc["provided_by"].as_str() {
            Some("form") => true,
            Some(source) => all_fields
                .iter()
                .filter(|f| f["source"].as_str() == Some(source))
                .any(|f| values.contains_key(f["name"].as_str().unwrap_or_default())),
            None => all_fields
                .iter()
                .filter(|f| f["type"] == "document" && f["document"].as_str() == Some(code))
                .any(|f| values.contains_key(f["name"].as_str().unwrap_or_default())),
        };
        satisfied += usize::from(ok);
    }
    Share {
        filled,
        fields: fields.len(),
        satisfied,
        documents: documents.len(),
    }
}

fn pct(a: usize, b: usize) -> String {
    if b == 0 {
        "—".into()
    } else {
        format!("{}/{} ({:.0}%)", a, b, 100.0 * a as f64 / b as f64)
    }
}

#[tokio::main]
async fn main() {
    let app = spawn_app().await;
    let catalogue = app.get_json("/api/v1/procedures", 200).await;
    let codes: Vec<(String, String)> = catalogue["procedures"]
        .as_array()
        .expect("a catalogue")
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap_or_default().to_owned(),
                p["name"]["en"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    println!("| procedure | person | fields pre-filled | documents without upload |");
    println!("| --- | --- | ---: | ---: |");
    let mut totals: Vec<(&str, usize, usize, usize, usize)> = Vec::new();
    for (cccd, name) in PEOPLE {
        let browser = TestApp::second_browser(&app);
        browser.sign_in_as(cccd).await;
        let (mut f, mut ft, mut d, mut dt) = (0, 0, 0, 0);
        for (code, title) in &codes {
            let detail: Value = browser
                .get(&format!("/api/v1/procedures/{code}"))
                .await
                .json()
                .await
                .expect("json");
            let response = browser
                .get(&format!("/api/v1/procedures/{code}/prefill"))
                .await;
            if response.status() == 403 {
                println!("| {title} | {name} | needs VNeID level 2 | — |");
                continue;
            }
            let prefill: Value = response.json().await.expect("json");
            let s = share(&detail, &prefill);
            println!(
                "| {title} | {name} | {} | {} |",
                pct(s.filled, s.fields),
                pct(s.satisfied, s.documents)
            );
            f += s.filled;
            ft += s.fields;
            d += s.satisfied;
            dt += s.documents;
        }
        totals.push((name, f, ft, d, dt));
    }
    println!();
    println!("| person | all procedures: fields pre-filled | documents without upload |");
    println!("| --- | ---: | ---: |");
    for (name, f, ft, d, dt) in totals {
        println!("| {name} | {} | {} |", pct(f, ft), pct(d, dt));
    }
}
