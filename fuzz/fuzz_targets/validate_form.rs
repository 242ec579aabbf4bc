//! Anything at all, as the answers a person sends, against every procedure's e-form of the
//! catalogue seed (the validator the server and the PWA share), and the text parsers it uses.
//! None of it may panic, and a form must answer the same for the same answers.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use motcua_shared::{
    calendar::Day,
    eform::{Form, normalise_phone, parse_date},
};
use serde_json::{Map, Value};

#[derive(serde::Deserialize)]
struct Seed {
    form: Option<Form>,
}

static FORMS: LazyLock<Vec<Form>> = LazyLock::new(|| {
    [
        include_str!("../../server/seed/procedures/birth-registration.toml"),
        include_str!("../../server/seed/procedures/business-household.toml"),
        include_str!("../../server/seed/procedures/certified-copy.toml"),
        include_str!("../../server/seed/procedures/construction-permit.toml"),
        include_str!("../../server/seed/procedures/death-registration.toml"),
        include_str!("../../server/seed/procedures/driving-licence-renewal.toml"),
        include_str!("../../server/seed/procedures/judicial-record.toml"),
        include_str!("../../server/seed/procedures/marital-status.toml"),
        include_str!("../../server/seed/procedures/permanent-residence.toml"),
    ]
    .iter()
    .filter_map(|text| toml::from_str::<Seed>(text).ok()?.form)
    .collect()
});

fuzz_target!(|data: &[u8]| {
    assert!(FORMS.len() >= 9, "every seed form reads");
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_date(text);
        let _ = normalise_phone(text);
    }
    let Ok(answers) = serde_json::from_slice::<Map<String, Value>>(data) else {
        return;
    };
    let today = Day::from_ymd(2026, 11, 29).expect("a day");
    for form in FORMS.iter() {
        let first = form.validate(&answers, today);
        assert_eq!(first, form.validate(&answers, today));
    }
});
