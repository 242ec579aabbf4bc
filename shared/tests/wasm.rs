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
