//! E-forms: a procedure's form is data (fields, types, conditions, pre-fill sources), and one
//! validator runs in the PWA for instant feedback and on the server as the authority. Every error
//! names its field and says, in both languages, how to fix it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Cccd, Localized, TaxCode, calendar::Day};

/// A procedure's form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Form {
    pub fields: Vec<Field>,
}

/// One question of a form. Read through [`RawField`] (every key at one level, the type named by
/// `type`), which keeps serde's buffering of flattened and tagged content out of the PWA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "RawField")]
pub struct Field {
    /// The key of the answer, unique within its form or group.
    pub name: String,
    pub label: Localized,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Localized>,
    #[serde(flatten)]
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    /// Asked only when another answer has a given value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// The national system the value is pre-filled from (then verified and locked), such as
    /// `population.full_name` or `licences.number`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A field as written: its type's rules side by side with the common keys.
#[derive(Deserialize)]
struct RawField {
    name: String,
    label: Localized,
    #[serde(default)]
    hint: Option<Localized>,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    when: Option<Condition>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    max_length: Option<usize>,
    #[serde(default)]
    min: Option<i64>,
    #[serde(default)]
    max: Option<i64>,
    #[serde(default)]
    not_future: bool,
    #[serde(default)]
    options: Option<Vec<ChoiceOption>>,
    #[serde(default)]
    document: Option<String>,
    #[serde(default)]
    fields: Option<Vec<Field>>,
}

impl TryFrom<RawField> for Field {
    type Error = String;

    fn try_from(raw: RawField) -> Result<Field, String> {
        let count = |n: Option<i64>, default: usize| -> Result<usize, String> {
            n.map_or(Ok(default), |n| {
                usize::try_from(n).map_err(|_| format!("{}: a count cannot be negative", raw.name))
            })
        };
        let kind = match raw.kind.as_str() {
            "text" => FieldKind::Text {
                max_length: raw.max_length.unwrap_or_else(default_max_length),
            },
            "number" => FieldKind::Number {
                min: raw.min,
                max: raw.max,
            },
            "date" => FieldKind::Date {
                not_future: raw.not_future,
            },
            "choice" => FieldKind::Choice {
                options: raw
                    .options
                    .ok_or_else(|| format!("{}: a choice needs options", raw.name))?,
            },
            "cccd" => FieldKind::Cccd,
            "tax_code" => FieldKind::TaxCode,
            "address" => FieldKind::Address,
            "phone" => FieldKind::Phone,
            "email" => FieldKind::Email,
            "document" => FieldKind::Document {
                document: raw
                    .document
                    .ok_or_else(|| format!("{}: a document field names its document", raw.name))?,
            },
            "group" => FieldKind::Group {
                fields: raw
                    .fields
                    .ok_or_else(|| format!("{}: a group needs fields", raw.name))?,
                min: count(raw.min, 0)?,
                max: count(raw.max, default_max_items())?,
            },
            other => return Err(format!("{}: unknown field type {other}", raw.name)),
        };
        Ok(Field {
            name: raw.name,
            label: raw.label,
            hint: raw.hint,
            kind,
            required: raw.required,
            when: raw.when,
            source: raw.source,
        })
    }
}

/// A field's type and its own rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    Text {
        #[serde(default = "default_max_length")]
        max_length: usize,
    },
    Number {
        min: Option<i64>,
        max: Option<i64>,
    },
    Date {
        /// The date cannot be after today (births, deaths, examinations).
        #[serde(default)]
        not_future: bool,
    },
    Choice {
        options: Vec<ChoiceOption>,
    },
    Cccd,
    TaxCode,
    /// Province, district and commune codes with a street address.
    Address,
    Phone,
    Email,
    /// A document: an upload or an item of the person's warehouse, by its id.
    Document {
        /// The required-document code of the procedure this satisfies.
        document: String,
    },
    /// A repeatable group of fields (children, household members, …).
    Group {
        // A group holds fields: the schema must not recurse into itself.
        #[cfg_attr(feature = "openapi", schema(no_recursion))]
        fields: Vec<Field>,
        #[serde(default)]
        min: usize,
        #[serde(default = "default_max_items")]
        max: usize,
    },
}

fn default_max_length() -> usize {
    200
}

fn default_max_items() -> usize {
    20
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChoiceOption {
    pub value: String,
    pub label: Localized,
}

/// `field` (at the same level) must equal `equals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Condition {
    pub field: String,
    pub equals: String,
}

/// What is wrong with one answer. `field` is a path: `phone`, `children[1].birth_date`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: Localized,
}

fn error(path: &str, code: &str, vi: &str, en: &str) -> FieldError {
    FieldError {
        field: path.to_owned(),
        code: code.to_owned(),
        message: Localized {
            vi: vi.to_owned(),
            en: en.to_owned(),
        },
    }
}

fn is_blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

fn condition_holds(condition: &Option<Condition>, answers: &Map<String, Value>) -> bool {
    match condition {
        None => true,
        Some(c) => answers.get(&c.field).and_then(Value::as_str) == Some(c.equals.as_str()),
    }
}

/// A date `YYYY-MM-DD`, if it is one.
pub fn parse_date(text: &str) -> Option<Day> {
    let parts: Vec<&str> = text.split('-').collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            Day::from_ymd(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
        }
        _ => None,
    }
}

/// A Vietnamese mobile number in its national form (`0912345678`), from `0…` or `+84…`.
pub fn normalise_phone(text: &str) -> Option<String> {
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect();
    let national = if let Some(rest) = compact.strip_prefix("+84") {
        format!("0{rest}")
    } else {
        compact
    };
    let ok = national.len() == 10
        && national.bytes().all(|b| b.is_ascii_digit())
        && matches!(&national[..2], "03" | "05" | "07" | "08" | "09");
    ok.then_some(national)
}

fn valid_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && text.len() <= 254
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
}

impl Form {
    /// Every problem with `answers`, or none. `today` is the day in Vietnam (for `not_future`).
    pub fn validate(&self, answers: &Map<String, Value>, today: Day) -> Vec<FieldError> {
        let mut errors = Vec::new();
        validate_level(&self.fields, answers, today, "", &mut errors);
        errors
    }

    /// Checks the form itself: unique names, conditions on fields that exist, choices with options.
    pub fn check(&self) -> Result<(), String> {
        check_level(&self.fields, "")
    }
}

fn check_level(fields: &[Field], prefix: &str) -> Result<(), String> {
    let mut names = std::collections::BTreeSet::new();
    for field in fields {
        if field.name.is_empty() || !names.insert(field.name.as_str()) {
            return Err(format!(
                "{prefix}{}: names must be present and unique",
                field.name
            ));
        }
    }
    for field in fields {
        if let Some(c) = &field.when
            && !names.contains(c.field.as_str())
        {
            return Err(format!(
                "{prefix}{}: its condition names {}, which is not a field",
                field.name, c.field
            ));
        }
        match &field.kind {
            FieldKind::Choice { options } if options.is_empty() => {
                return Err(format!("{prefix}{}: a choice needs options", field.name));
            }
            FieldKind::Group { fields, min, max } => {
                if min > max {
                    return Err(format!("{prefix}{}: min is above max", field.name));
                }
                check_level(fields, &format!("{prefix}{}.", field.name))?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn validate_level(
    fields: &[Field],
    answers: &Map<String, Value>,
    today: Day,
    prefix: &str,
    errors: &mut Vec<FieldError>,
) {
    for key in answers.keys() {
        if !fields.iter().any(|f| &f.name == key) {
            errors.push(error(
                &format!("{prefix}{key}"),
                "unknown_field",
                "Trường này không có trong tờ khai.",
                "This field is not part of the form.",
            ));
        }
    }
    for field in fields {
        let path = format!("{prefix}{}", field.name);
        let value = answers.get(&field.name);
        if !condition_holds(&field.when, answers) {
            if !is_blank(value) {
                errors.push(error(
                    &path,
                    "not_asked",
                    "Trường này không cần điền với lựa chọn của bạn.",
                    "This field is not asked for with your choices.",
                ));
            }
            continue;
        }
        if is_blank(value) {
            if field.required {
                let (vi, en) = match field.kind {
                    FieldKind::Choice { .. } | FieldKind::Address => ("Hãy chọn", "Choose"),
                    FieldKind::Document { .. } => (
                        "Hãy chọn từ kho dữ liệu hoặc tải lên",
                        "Choose from your warehouse or upload",
                    ),
                    _ => ("Hãy nhập", "Enter"),
                };
                errors.push(error(
                    &path,
                    "required",
                    &format!("{vi} {}.", field.label.vi.to_lowercase()),
                    &format!("{en} {}.", field.label.en.to_lowercase()),
                ));
            }
            continue;
        }
        let Some(value) = value else { continue };
        if let Some(problem) = check_value(field, value, today, &path, errors) {
            errors.push(problem);
        }
    }
}

fn check_value(
    field: &Field,
    value: &Value,
    today: Day,
    path: &str,
    errors: &mut Vec<FieldError>,
) -> Option<FieldError> {
    let text = value.as_str();
    match &field.kind {
        FieldKind::Text { max_length } => match text {
            None => Some(error(path, "not_text", "Hãy nhập chữ.", "Enter text.")),
            Some(t) if t.trim().chars().count() > *max_length => Some(error(
                path,
                "too_long",
                &format!("Nhập tối đa {max_length} ký tự."),
                &format!("Enter at most {max_length} characters."),
            )),
            Some(t) if t.chars().any(|c| c.is_control() && c != '\n') => Some(error(
                path,
                "invalid_characters",
                "Bỏ các ký tự điều khiển.",
                "Remove control characters.",
            )),
            Some(_) => None,
        },
        FieldKind::Number { min, max } => match value.as_i64() {
            None => Some(error(
                path,
                "not_a_number",
                "Hãy nhập một số nguyên.",
                "Enter a whole number.",
            )),
            Some(n) if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) => Some(error(
                path,
                "out_of_range",
                &format!(
                    "Nhập số từ {} đến {}.",
                    min.unwrap_or(i64::MIN),
                    max.unwrap_or(i64::MAX)
                ),
                &format!(
                    "Enter a number from {} to {}.",
                    min.unwrap_or(i64::MIN),
                    max.unwrap_or(i64::MAX)
                ),
            )),
            Some(_) => None,
        },
        FieldKind::Date { not_future } => match text.and_then(parse_date) {
            None => Some(error(
                path,
                "invalid_date",
                "Nhập ngày theo dạng năm-tháng-ngày, ví dụ 2024-03-14.",
                "Enter the date as year-month-day, for example 2024-03-14.",
            )),
            Some(day) if *not_future && day > today => Some(error(
                path,
                "date_in_future",
                "Ngày này không được sau hôm nay.",
                "This date cannot be after today.",
            )),
            Some(_) => None,
        },
        FieldKind::Choice { options } => {
            let ok = text.is_some_and(|t| options.iter().any(|o| o.value == t));
            (!ok).then(|| {
                error(
                    path,
                    "invalid_choice",
                    "Chọn một trong các lựa chọn có sẵn.",
                    "Choose one of the options given.",
                )
            })
        }
        FieldKind::Cccd => match text.map(Cccd::parse) {
            Some(Ok(_)) => None,
            _ => Some(error(
                path,
                "invalid_cccd",
                "Nhập đủ 12 chữ số của số định danh cá nhân.",
                "Enter the 12 digits of the citizen ID number.",
            )),
        },
        FieldKind::TaxCode => match text.map(TaxCode::parse) {
            Some(Ok(_)) => None,
            _ => Some(error(
                path,
                "invalid_tax_code",
                "Nhập mã số thuế gồm 10 chữ số, hoặc 13 chữ số cho chi nhánh.",
                "Enter the 10-digit tax code, or 13 digits for a branch.",
            )),
        },
        FieldKind::Phone => match text.and_then(normalise_phone) {
            Some(_) => None,
            None => Some(error(
                path,
                "invalid_phone",
                "Nhập số điện thoại di động 10 chữ số, ví dụ 0912345678.",
                "Enter a 10-digit mobile number, for example 0912345678.",
            )),
        },
        FieldKind::Email => match text {
            Some(t) if valid_email(t.trim()) => None,
            _ => Some(error(
                path,
                "invalid_email",
                "Nhập địa chỉ thư điện tử, ví dụ ten@example.vn.",
                "Enter an email address, for example name@example.vn.",
            )),
        },
        FieldKind::Address => {
            let complete = value.as_object().is_some_and(|a| {
                ["province", "district", "commune", "street"]
                    .iter()
                    .all(|k| {
                        a.get(*k)
                            .and_then(Value::as_str)
                            .is_some_and(|v| !v.trim().is_empty())
                    })
                    && a.len() == 4
            });
            if !complete {
                return Some(error(
                    path,
                    "incomplete_address",
                    "Chọn tỉnh, huyện, xã và nhập số nhà, đường.",
                    "Choose the province, district and commune, and enter the street address.",
                ));
            }
            let nested =
                crate::units::Address::from_value(value).is_some_and(|a| a.is_consistent());
            (!nested).then(|| {
                error(
                    path,
                    "unknown_address_unit",
                    "Xã không thuộc huyện, hoặc huyện không thuộc tỉnh đã chọn. Chọn lại.",
                    "The commune is not in the district, or the district not in the province. Choose again.",
                )
            })
        }
        FieldKind::Document { .. } => match text {
            Some(id)
                if id.len() <= 100
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                None
            }
            _ => Some(error(
                path,
                "invalid_document",
                "Tải lên giấy tờ hoặc chọn từ kho dữ liệu của bạn.",
                "Upload the document or choose it from your data warehouse.",
            )),
        },
        FieldKind::Group { fields, min, max } => {
            let Some(items) = value.as_array() else {
                return Some(error(
                    path,
                    "not_a_list",
                    "Thông tin này phải là một danh sách.",
                    "This must be a list.",
                ));
            };
            if items.len() < *min || items.len() > *max {
                return Some(error(
                    path,
                    "wrong_count",
                    &format!("Nhập từ {min} đến {max} mục."),
                    &format!("Enter from {min} to {max} entries."),
                ));
            }
            for (i, item) in items.iter().enumerate() {
                match item.as_object() {
                    Some(answers) => {
                        validate_level(fields, answers, today, &format!("{path}[{i}]."), errors)
                    }
                    None => errors.push(error(
                        &format!("{path}[{i}]"),
                        "not_an_entry",
                        "Mục này không hợp lệ.",
                        "This entry is not valid.",
                    )),
                }
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn today() -> Day {
        Day::from_ymd(2026, 11, 23).expect("a date")
    }

    /// A birth registration form, written as the seed files will write it.
    fn form() -> Form {
        serde_json::from_value(json!({ "fields": [
            { "name": "child_name", "label": {"vi": "Họ tên của trẻ", "en": "The child's name"}, "type": "text", "max_length": 50, "required": true },
            { "name": "birth_date", "label": {"vi": "Ngày sinh", "en": "Date of birth"}, "type": "date", "not_future": true, "required": true },
            { "name": "sex", "label": {"vi": "Giới tính", "en": "Sex"}, "type": "choice", "required": true,
              "options": [{"value": "female", "label": {"vi": "Nữ", "en": "Female"}}, {"value": "male", "label": {"vi": "Nam", "en": "Male"}}] },
            { "name": "married", "label": {"vi": "Cha mẹ đã đăng ký kết hôn", "en": "Parents are married"}, "type": "choice", "required": true,
              "options": [{"value": "yes", "label": {"vi": "Có", "en": "Yes"}}, {"value": "no", "label": {"vi": "Không", "en": "No"}}] },
            { "name": "marriage_certificate", "label": {"vi": "Giấy chứng nhận kết hôn", "en": "Marriage certificate"}, "type": "document",
              "document": "marriage-certificate", "required": true, "when": {"field": "married", "equals": "yes"} },
            { "name": "father_cccd", "label": {"vi": "Số định danh của cha", "en": "The father's ID number"}, "type": "cccd" },
            { "name": "phone", "label": {"vi": "Số điện thoại", "en": "Phone"}, "type": "phone", "source": "population.phone" },
            { "name": "siblings", "label": {"vi": "Anh chị em", "en": "Siblings"}, "type": "group", "max": 3, "fields": [
                { "name": "name", "label": {"vi": "Họ tên", "en": "Name"}, "type": "text", "required": true },
                { "name": "birth_date", "label": {"vi": "Ngày sinh", "en": "Date of birth"}, "type": "date", "not_future": true }
            ]}
        ]}))
        .expect("the form reads")
    }

    fn answers(value: serde_json::Value) -> Map<String, Value> {
        value.as_object().cloned().expect("an object")
    }

    fn codes(errors: &[FieldError]) -> Vec<(String, String)> {
        errors
            .iter()
            .map(|e| (e.field.clone(), e.code.clone()))
            .collect()
    }

    #[test]
    fn a_complete_filing_has_no_errors() {
        let filing = answers(json!({
            "child_name": "Nguyễn Minh Khang", "birth_date": "2026-11-20", "sex": "male", "married": "yes",
            "marriage_certificate": "wh-8f2c", "father_cccd": "001088012345", "phone": "+84 912 345 678",
            "siblings": [{ "name": "Nguyễn Minh Anh", "birth_date": "2022-05-01" }]
        }));
        assert_eq!(form().check(), Ok(()));
        assert_eq!(form().validate(&filing, today()), vec![]);
    }

    #[test]
    fn missing_answers_say_what_to_enter() {
        let errors = form().validate(&answers(json!({ "married": "yes" })), today());
        assert_eq!(
            codes(&errors),
            vec![
                ("child_name".into(), "required".into()),
                ("birth_date".into(), "required".into()),
                ("sex".into(), "required".into()),
                ("marriage_certificate".into(), "required".into()),
            ]
        );
        assert_eq!(errors[0].message.vi, "Hãy nhập họ tên của trẻ.");
        assert_eq!(errors[0].message.en, "Enter the child's name.");
    }

    #[test]
    fn a_conditional_field_is_asked_only_when_its_condition_holds() {
        let base = json!({ "child_name": "An", "birth_date": "2026-11-20", "sex": "female", "married": "no" });
        assert_eq!(form().validate(&answers(base.clone()), today()), vec![]);
        let mut extra = answers(base);
        extra.insert("marriage_certificate".into(), json!("wh-1"));
        assert_eq!(
            codes(&form().validate(&extra, today())),
            vec![("marriage_certificate".into(), "not_asked".into())]
        );
    }

    #[test]
    fn each_type_refuses_what_it_cannot_be() {
        let bad = answers(json!({
            "child_name": "x".repeat(51), "birth_date": "2026-12-01", "sex": "other", "married": "no",
            "father_cccd": "12345", "phone": "0123456789", "nickname": "Bi",
            "siblings": [{ "birth_date": "14/03/2020" }]
        }));
        let found = codes(&form().validate(&bad, today()));
        for expected in [
            ("nickname", "unknown_field"),
            ("child_name", "too_long"),
            ("birth_date", "date_in_future"),
            ("sex", "invalid_choice"),
            ("father_cccd", "invalid_cccd"),
            ("phone", "invalid_phone"),
            ("siblings[0].name", "required"),
            ("siblings[0].birth_date", "invalid_date"),
        ] {
            assert!(
                found.contains(&(expected.0.into(), expected.1.into())),
                "{expected:?} not in {found:?}"
            );
        }
    }

    #[test]
    fn groups_keep_their_counts() {
        let four = json!([{ "name": "a" }, { "name": "b" }, { "name": "c" }, { "name": "d" }]);
        let filing = answers(
            json!({ "child_name": "An", "birth_date": "2026-11-20", "sex": "male", "married": "no", "siblings": four }),
        );
        assert_eq!(
            codes(&form().validate(&filing, today())),
            vec![("siblings".into(), "wrong_count".into())]
        );
    }

    #[test]
    fn phones_and_emails_are_read_the_way_people_write_them() {
        assert_eq!(
            normalise_phone("0912 345 678").as_deref(),
            Some("0912345678")
        );
        assert_eq!(
            normalise_phone("+84.912.345.678").as_deref(),
            Some("0912345678")
        );
        assert_eq!(normalise_phone("0212345678"), None);
        assert!(valid_email("an.nguyen@example.vn"));
        assert!(!valid_email("an nguyen@example.vn"));
        assert!(!valid_email("an@localhost"));
    }

    #[test]
    fn malformed_forms_are_refused_before_use() {
        let mut f = form();
        f.fields[5].name = "child_name".into();
        assert!(f.check().is_err(), "duplicate names");
        let mut f = form();
        f.fields[4].when = Some(Condition {
            field: "nope".into(),
            equals: "yes".into(),
        });
        assert!(f.check().is_err(), "a condition on a missing field");
    }
}

#[cfg(test)]
mod address_tests {
    use serde_json::json;

    use super::*;

    fn form() -> Form {
        serde_json::from_value(json!({ "fields": [
            { "name": "home", "label": {"vi": "Địa chỉ", "en": "Address"}, "type": "address", "required": true }
        ]}))
        .expect("the form reads")
    }

    fn check(home: Value) -> Vec<String> {
        let answers = json!({ "home": home })
            .as_object()
            .cloned()
            .expect("an object");
        form()
            .validate(&answers, Day::from_ymd(2026, 11, 23).expect("a date"))
            .into_iter()
            .map(|e| e.code)
            .collect()
    }

    #[test]
    fn an_address_needs_listed_units_that_nest() {
        let good = json!({ "province": "01", "district": "002", "commune": "00070", "street": "12 Hàng Bông" });
        assert_eq!(check(good), Vec::<String>::new());
        let elsewhere =
            json!({ "province": "01", "district": "002", "commune": "26740", "street": "1" });
        assert_eq!(check(elsewhere), vec!["unknown_address_unit"]);
        let unknown =
            json!({ "province": "99", "district": "999", "commune": "99999", "street": "1" });
        assert_eq!(check(unknown), vec!["unknown_address_unit"]);
        let no_street =
            json!({ "province": "01", "district": "002", "commune": "00070", "street": " " });
        assert_eq!(check(no_street), vec!["incomplete_address"]);
    }
}

#[cfg(test)]
mod reading_tests {
    use super::*;

    #[test]
    fn a_field_of_an_unknown_type_or_missing_its_rules_does_not_read() {
        let read = |json: &str| serde_json::from_str::<Field>(json).map_err(|e| e.to_string());
        let label = r#""label": {"vi": "A", "en": "A"}"#;
        assert!(
            read(&format!(r#"{{"name": "a", {label}, "type": "colour"}}"#))
                .is_err_and(|e| e.contains("unknown field type colour"))
        );
        assert!(
            read(&format!(r#"{{"name": "a", {label}, "type": "choice"}}"#))
                .is_err_and(|e| e.contains("needs options"))
        );
        assert!(
            read(&format!(
                r#"{{"name": "a", {label}, "type": "group", "fields": [], "min": -1}}"#
            ))
            .is_err()
        );
        let field = read(&format!(
            r#"{{"name": "a", {label}, "type": "text", "max_length": 9, "required": true}}"#
        ))
        .expect("reads");
        assert_eq!(field.kind, FieldKind::Text { max_length: 9 });
        // Written back, it reads the same.
        let again: Field =
            serde_json::from_value(serde_json::to_value(&field).expect("writes")).expect("reads");
        assert_eq!(again, field);
    }
}
