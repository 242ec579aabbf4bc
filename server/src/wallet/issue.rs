//! What a procedure's result becomes as a credential: a pure decision from the result's code,
//! the dossier's answers and the holder, unit-tested here.

use motcua_shared::{
    calendar::Day,
    credential::{CredentialKind, Field, LICENCE_CLASSES},
    units::Address,
};
use serde_json::{Map, Value};

/// A credential to sign: everything but its id, status and signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub kind: CredentialKind,
    /// The result's name (vi, en).
    pub title: motcua_shared::Localized,
    pub issued_on: String,
    pub valid_until: Option<String>,
    pub fields: Vec<Field>,
}

/// The holder as the state knows them.
#[derive(Debug, Clone)]
pub struct Holder<'a> {
    pub name: &'a str,
    pub cccd: &'a str,
}

fn text(answers: &Map<String, Value>, name: &str) -> Option<String> {
    answers
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn iso(day: Day) -> String {
    let (y, m, d) = day.ymd();
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today in Vietnam, `YYYY-MM-DD`: the day a credential signed now is issued on.
pub fn today() -> String {
    iso(Day::of_instant(crate::store::now_ms()))
}

/// Car classes expire (10 years for B, 5 for the others here); motorbike classes do not.
fn licence_valid_until(classes: &[String], issued: Day) -> Option<String> {
    let years = if classes.iter().any(|c| c == "B" || c == "B1") {
        10
    } else if classes.iter().any(|c| c != "A1" && c != "A") {
        5
    } else {
        return None;
    };
    let (y, m, d) = issued.ymd();
    // 29 February becomes 28 February in a year without it.
    let until = Day::from_ymd(y + years, m, d).or_else(|| Day::from_ymd(y + years, m, d - 1))?;
    Some(iso(until))
}

/// The credential a result with document code `code` becomes.
pub fn draft(
    code: &str,
    title: &motcua_shared::Localized,
    answers: &Map<String, Value>,
    holder: &Holder<'_>,
    receipt_number: &str,
    today: Day,
) -> Draft {
    let mut fields = vec![
        Field::Name(holder.name.to_owned()),
        Field::Cccd(holder.cccd.to_owned()),
    ];
    let mut valid_until = None;
    let kind = match code {
        "driving-licence" => {
            let classes: Vec<String> = text(answers, "licence_classes")
                .unwrap_or_default()
                .split([',', ' '])
                .map(str::trim)
                .filter(|c| LICENCE_CLASSES.contains(c))
                .map(str::to_owned)
                .collect();
            if let Some(number) = text(answers, "licence_number") {
                fields.push(Field::Number(number));
            }
            valid_until = licence_valid_until(&classes, today);
            fields.push(Field::Classes(classes));
            if let Some(address) = answers.get("residence").and_then(Address::from_value) {
                fields.push(Field::Address {
                    unit: address.commune,
                    street: address.street,
                });
            }
            CredentialKind::DrivingLicence
        }
        "birth-certificate" => {
            // The holder of a birth certificate is the child; the parent keeps it.
            fields.clear();
            if let Some(name) = text(answers, "child_name") {
                fields.push(Field::Name(name));
            }
            if let Some(born) = text(answers, "child_birth_date") {
                fields.push(Field::BirthDate(born));
            }
            fields.push(Field::Reference(receipt_number.to_owned()));
            CredentialKind::BirthCertificate
        }
        "permanent-residence-confirmation" => {
            if let Some(name) = text(answers, "child_name") {
                fields = vec![Field::Name(name)];
            }
            if let Some(address) = answers.get("residence").and_then(Address::from_value) {
                fields.push(Field::Address {
                    unit: address.commune,
                    street: address.street,
                });
            }
            CredentialKind::PermanentResidence
        }
        "health-insurance-card" => {
            if let Some(name) = text(answers, "child_name") {
                fields = vec![Field::Name(name)];
            }
            fields.push(Field::Reference(receipt_number.to_owned()));
            CredentialKind::HealthInsuranceCard
        }
        "certified-copy" => {
            // The file's SHA-256 is added by the caller, which reads it from the warehouse.
            if let Some(title) = text(answers, "document_title") {
                fields.push(Field::Title(title));
            }
            fields.push(Field::Reference(receipt_number.to_owned()));
            CredentialKind::CertifiedCopy
        }
        "judicial-record" => {
            fields.push(Field::Reference(receipt_number.to_owned()));
            CredentialKind::JudicialRecord
        }
        "marital-status-confirmation" => {
            fields.push(Field::Reference(receipt_number.to_owned()));
            // A confirmation of marital status is valid for 6 months.
            let (y, m, d) = today.ymd();
            let (y, m) = if m > 6 { (y + 1, m - 6) } else { (y, m + 6) };
            valid_until = Day::from_ymd(y, m, d.min(28)).map(iso);
            CredentialKind::MaritalStatus
        }
        _ => {
            fields.push(Field::Title(title.vi.clone()));
            fields.push(Field::Reference(receipt_number.to_owned()));
            CredentialKind::Result
        }
    };
    Draft {
        kind,
        title: title.clone(),
        issued_on: iso(today),
        valid_until,
        fields,
    }
}

/// The purpose-minimised form of a licence: that the holder has a valid licence of each of its
/// classes, with the name and birth year only (no CCCD, number or address).
pub fn licence_proof(licence: &Draft, birth_year: Option<i64>) -> Option<Draft> {
    if licence.kind != CredentialKind::DrivingLicence {
        return None;
    }
    let classes = licence.fields.iter().find_map(|f| match f {
        Field::Classes(c) => Some(c.clone()),
        _ => None,
    })?;
    let mut fields: Vec<Field> = licence
        .fields
        .iter()
        .filter(|f| matches!(f, Field::Name(_)))
        .cloned()
        .collect();
    if let Some(year) = birth_year {
        fields.push(Field::BirthYear(year));
    }
    fields.push(Field::Proves(format!(
        "licence_class:{}",
        classes.join(",")
    )));
    Some(Draft {
        kind: CredentialKind::LicenceProof,
        title: motcua_shared::Localized {
            vi: format!("Có giấy phép lái xe hạng {}", classes.join(", ")),
            en: format!("Holds a driving licence of class {}", classes.join(", ")),
        },
        issued_on: licence.issued_on.clone(),
        valid_until: licence.valid_until.clone(),
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn title() -> motcua_shared::Localized {
        motcua_shared::Localized {
            vi: "Giấy phép lái xe".into(),
            en: "Driving licence".into(),
        }
    }

    fn holder() -> Holder<'static> {
        Holder {
            name: "Nguyễn Văn An",
            cccd: "001088012345",
        }
    }

    #[test]
    fn a_renewal_becomes_a_licence_with_classes_address_and_ten_years() {
        let answers: Map<String, Value> = serde_json::from_value(json!({
            "licence_number": "010123456789",
            "licence_classes": "B",
            "residence": { "province": "01", "district": "002", "commune": "00070", "street": "Số 12 phố Hàng Bông" }
        }))
        .expect("answers");
        let today = Day::from_ymd(2026, 11, 29).expect("a day");
        let d = draft(
            "driving-licence",
            &title(),
            &answers,
            &holder(),
            "R-1",
            today,
        );
        assert_eq!(d.kind, CredentialKind::DrivingLicence);
        assert_eq!(d.valid_until.as_deref(), Some("2036-11-29"));
        assert!(d.fields.contains(&Field::Classes(vec!["B".into()])));
        assert!(d.fields.contains(&Field::Address {
            unit: "00070".into(),
            street: "Số 12 phố Hàng Bông".into()
        }));
        let proof = licence_proof(&d, Some(1988)).expect("a proof");
        assert!(
            !proof
                .fields
                .iter()
                .any(|f| matches!(f, Field::Cccd(_) | Field::Address { .. } | Field::Number(_))),
            "{proof:?}"
        );
        assert!(proof.fields.contains(&Field::BirthYear(1988)));
    }

    #[test]
    fn motorbike_classes_do_not_expire_and_a_leap_day_moves_back() {
        let leap = Day::from_ymd(2028, 2, 29).expect("a day");
        assert_eq!(licence_valid_until(&["A1".into()], leap), None);
        assert_eq!(
            licence_valid_until(&["B".into()], leap).as_deref(),
            Some("2038-02-28")
        );
    }

    #[test]
    fn a_birth_certificate_is_about_the_child_and_other_results_keep_their_title() {
        let answers: Map<String, Value> = serde_json::from_value(json!({
            "child_name": "Nguyễn Thị Mai", "child_birth_date": "2026-10-01"
        }))
        .expect("answers");
        let today = Day::from_ymd(2026, 11, 29).expect("a day");
        let birth = draft(
            "birth-certificate",
            &title(),
            &answers,
            &holder(),
            "R-2",
            today,
        );
        assert!(birth.fields.contains(&Field::Name("Nguyễn Thị Mai".into())));
        assert!(!birth.fields.contains(&Field::Cccd("001088012345".into())));
        let other = draft(
            "construction-permit",
            &title(),
            &answers,
            &holder(),
            "R-3",
            today,
        );
        assert_eq!(other.kind, CredentialKind::Result);
        assert!(
            other
                .fields
                .contains(&Field::Title("Giấy phép lái xe".into()))
        );
    }
}
