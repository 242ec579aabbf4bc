//! The shared parsing code, run as WebAssembly in headless Chromium: what the PWA relies on.
#![cfg(target_arch = "wasm32")]

use motcua_shared::{Cccd, Lang, TaxCode, Vnd};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn ids_parse_the_same_in_the_browser() {
    assert!(Cccd::parse("079203000123").is_ok());
    assert!(Cccd::parse("07920300012").is_err());
    assert!(TaxCode::parse("0100109106").is_ok());
    assert!(TaxCode::parse("0100109107").is_err());
}

#[wasm_bindgen_test]
fn money_and_languages_format_the_same_in_the_browser() {
    assert_eq!(Vnd(115_000).to_string(), "115.000 ₫");
    assert_eq!(Lang::from_tag("en-US"), Some(Lang::En));
}

#[wasm_bindgen_test]
fn deadlines_are_computed_the_same_in_the_browser() {
    use motcua_shared::calendar::{Calendar, Day};
    let calendar = Calendar::vietnam().expect("the built-in calendar reads");
    let received = Day::from_ymd(2026, 2, 13)
        .expect("a date")
        .at_minute(9 * 60);
    let deadline = Day::from_ymd(2026, 2, 27)
        .expect("a date")
        .at_minute(17 * 60);
    assert_eq!(calendar.deadline(received, 5), deadline);
}

#[wasm_bindgen_test]
fn e_forms_validate_the_same_in_the_browser() {
    use motcua_shared::{calendar::Day, eform::Form};
    let form: Form = serde_json::from_str(
        r#"{"fields": [{"name": "phone", "label": {"vi": "Số điện thoại", "en": "Phone"}, "type": "phone", "required": true}]}"#,
    )
    .expect("the form reads");
    let today = Day::from_ymd(2026, 11, 23).expect("a date");
    let ok: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"phone": "0912 345 678"}"#).expect("json");
    assert!(form.validate(&ok, today).is_empty());
    let bad: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"phone": "12"}"#).expect("json");
    assert_eq!(form.validate(&bad, today)[0].code, "invalid_phone");
}
