//! Filing and resubmission share one decision: are these answers acceptable, given what the
//! national registers and the person's warehouse say? [`gather`] reads what the decision needs
//! (registers, warehouse, the health certificate the answers name; each register read logged);
//! [`check`] decides, as a pure function; the handlers only parse, call these two, and persist.

use motcua_shared::{
    Cccd, ErrorCode, Localized,
    calendar::Day,
    eform::{FieldError, FieldKind, Form},
    procedure::ProcedureDetail,
    registry::HealthCertificate,
    units::Address,
};
use serde_json::{Map, Value};

use super::eligibility;
use crate::{
    AppState,
    error::ApiError,
    procedures::prefill::{self, RegisterData},
};

/// What the decision needs to know, read before it.
#[derive(Debug, Default)]
pub struct Evidence {
    pub registers: RegisterData,
    /// The health certificate the answers name, as the register answered.
    pub certificate: Option<HealthCertificate>,
}

/// What filing accepted earlier, for a resubmission.
#[derive(Debug, Clone, Copy)]
pub struct Earlier<'a> {
    pub answers: &'a Map<String, Value>,
    pub verified_fields: &'a [String],
    pub unit_code: &'a str,
}

/// Answers that may go ahead: the fields the state verified, and the unit that handles them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub verified_fields: Vec<String>,
    pub unit_code: String,
}

/// Why answers may not go ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The e-form's own rules (required, formats, dates).
    InvalidAnswers(Vec<FieldError>),
    /// A value the state verified was changed.
    LockedFieldChanged(Vec<FieldError>),
    /// A document that is not the person's, or not of the kind asked.
    UnknownDocument(Vec<FieldError>),
    /// The registers say the procedure cannot go ahead.
    NotEligible(Vec<FieldError>),
    /// The address that decides the handling unit is missing or inconsistent.
    NoJurisdiction,
    /// A resubmission would move the dossier to another unit.
    JurisdictionChanged,
    /// A register did not answer, so nothing can be checked.
    RegisterUnavailable,
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let answers = |code, fields| ApiError::InvalidAnswers { code, fields };
        match refusal {
            Refusal::InvalidAnswers(f) => answers(ErrorCode::InvalidAnswers, f),
            Refusal::LockedFieldChanged(f) => answers(ErrorCode::LockedFieldChanged, f),
            Refusal::UnknownDocument(f) => answers(ErrorCode::UnknownDocument, f),
            Refusal::NotEligible(f) => answers(ErrorCode::NotEligible, f),
            Refusal::NoJurisdiction => ApiError::validation(ErrorCode::NoJurisdiction),
            Refusal::JurisdictionChanged => ApiError::validation(ErrorCode::JurisdictionChanged),
            Refusal::RegisterUnavailable => ApiError::Unavailable,
        }
    }
}

fn field_error(field: &str, code: &str, vi: &str, en: &str) -> FieldError {
    FieldError {
        field: field.to_owned(),
        code: code.to_owned(),
        message: Localized {
            vi: vi.into(),
            en: en.into(),
        },
    }
}

fn locked_changed(field: &str) -> FieldError {
    field_error(
        field,
        "locked_field_changed",
        "Thông tin này do cơ sở dữ liệu quốc gia cung cấp và không được sửa.",
        "This value comes from the national register and cannot be changed.",
    )
}

/// The one decision for filing (`earlier: None`) and resubmission (`Some`): the e-form's rules,
/// the values the state verifies (at filing against the registers, at resubmission as filed),
/// the documents, the procedure's eligibility checks against what the registers say now, and
/// the unit that handles the dossier.
pub fn check(
    procedure: &ProcedureDetail,
    form: &Form,
    answers: &Map<String, Value>,
    cccd: &Cccd,
    evidence: &Evidence,
    today: Day,
    earlier: Option<Earlier<'_>>,
) -> Result<Accepted, Refusal> {
    let problems = form.validate(answers, today);
    if !problems.is_empty() {
        return Err(Refusal::InvalidAnswers(problems));
    }
    if !evidence.registers.unavailable.is_empty() {
        return Err(Refusal::RegisterUnavailable);
    }
    let verified_fields = match earlier {
        None => verify_against_registers(form, answers, cccd, &evidence.registers)?,
        Some(earlier) => {
            let changed: Vec<FieldError> = earlier
                .verified_fields
                .iter()
                .filter(|f| answers.get(*f) != earlier.answers.get(*f))
                .map(|f| locked_changed(f))
                .collect();
            if !changed.is_empty() {
                return Err(Refusal::LockedFieldChanged(changed));
            }
            earlier.verified_fields.to_vec()
        }
    };
    let unknown = documents_not_held(form, answers, &evidence.registers.warehouse);
    if !unknown.is_empty() {
        return Err(Refusal::UnknownDocument(unknown));
    }
    let refusals: Vec<FieldError> = procedure
        .eligibility
        .iter()
        .filter_map(|c| {
            eligibility::run(
                c,
                cccd,
                &evidence.registers,
                evidence.certificate.as_ref(),
                today,
            )
        })
        .collect();
    if !refusals.is_empty() {
        return Err(Refusal::NotEligible(refusals));
    }
    let unit_code = unit_of(procedure, answers).ok_or(Refusal::NoJurisdiction)?;
    if earlier.is_some_and(|e| e.unit_code != unit_code) {
        return Err(Refusal::JurisdictionChanged);
    }
    Ok(Accepted {
        verified_fields,
        unit_code,
    })
}

/// The fields whose answers equal what the registers hold (verified); a locked one that differs
/// is refused. A suggestion (the phone, a document from the warehouse) may be changed.
fn verify_against_registers(
    form: &Form,
    answers: &Map<String, Value>,
    cccd: &Cccd,
    data: &RegisterData,
) -> Result<Vec<String>, Refusal> {
    let mut verified = Vec::new();
    let mut changed = Vec::new();
    for field in &form.fields {
        let Some(source) = field.source.as_deref() else {
            continue;
        };
        if prefill::is_warehouse_source(source) {
            continue;
        }
        let Some(expected) = prefill::source_value(source, cccd, data) else {
            continue;
        };
        match answers.get(&field.name) {
            Some(given) if *given == expected => verified.push(field.name.clone()),
            _ if !prefill::is_locked_source(source) => {}
            _ => changed.push(locked_changed(&field.name)),
        }
    }
    if changed.is_empty() {
        Ok(verified)
    } else {
        Err(Refusal::LockedFieldChanged(changed))
    }
}

/// Document answers that are not an item of the person's warehouse of the required kind.
pub fn documents_not_held(
    form: &Form,
    answers: &Map<String, Value>,
    held: &[motcua_shared::warehouse::WarehouseItem],
) -> Vec<FieldError> {
    form.fields
        .iter()
        .filter_map(|field| {
            let FieldKind::Document { document } = &field.kind else {
                return None;
            };
            let id = answers.get(&field.name)?.as_str()?;
            let ok = held
                .iter()
                .any(|i| i.id == id && i.document_code == *document);
            (!ok).then(|| {
                field_error(
                    &field.name,
                    "unknown_document",
                    "Chọn giấy tờ trong kho dữ liệu của bạn hoặc tải lên bản mới.",
                    "Choose the document from your warehouse or upload a new one.",
                )
            })
        })
        .collect()
}

/// The unit handling a dossier: where its jurisdiction address lies, at the procedure's level.
pub fn unit_of(procedure: &ProcedureDetail, answers: &Map<String, Value>) -> Option<String> {
    procedure
        .jurisdiction
        .as_deref()
        .and_then(|field| answers.get(field))
        .and_then(Address::from_value)
        .filter(Address::is_consistent)
        .map(|a| a.unit_at(procedure.procedure.level).to_owned())
}

/// Reads what [`check`] needs about the person, each register read logged with `purpose`.
pub async fn gather(
    state: &AppState,
    cccd: &Cccd,
    person_id: &str,
    procedure: &ProcedureDetail,
    form: &Form,
    answers: &Map<String, Value>,
    purpose: &str,
) -> Result<Evidence, ApiError> {
    let mut registers =
        prefill::read_registers(&state.registries, &state.store, cccd, form, purpose).await?;
    prefill::read_warehouse(&state.store, person_id, form, &mut registers).await?;
    let certificate = match answers.get("health_certificate").and_then(Value::as_str) {
        Some(code) if eligibility::needs_named_certificate(&procedure.eligibility) => {
            let found = state.registries.health_certificate(code).await?;
            // The read is the person's data-access log's, like every register read.
            state
                .store
                .record_accesses(&[crate::identity::data_access::Access {
                    cccd: cccd.as_str(),
                    accessor_kind: "system",
                    accessor: "Cổng dịch vụ công một cửa",
                    source: "CSDL giấy khám sức khỏe điện tử",
                    data: "Giấy khám sức khỏe ghi trong hồ sơ: kết luận, hạn",
                    purpose,
                }])
                .await?;
            // Someone else's certificate is answered like one that does not exist: a filing
            // must not tell whether a code belongs to another person.
            found.filter(|c| c.holder_cccd == cccd.as_str())
        }
        _ => None,
    };
    Ok(Evidence {
        registers,
        certificate,
    })
}

#[cfg(test)]
mod tests {
    use motcua_shared::{
        registry::{DrivingLicence, LicenceStatus, PopulationRecord},
        units::Address,
        warehouse::WarehouseItem,
    };
    use serde_json::json;

    use super::*;

    const CCCD: &str = "001088012345";

    fn renewal() -> (ProcedureDetail, Form) {
        let (_, detail) = crate::procedures::load_seed()
            .expect("the seed reads")
            .into_iter()
            .find(|(_, d)| d.procedure.code == "1.002804")
            .expect("the renewal");
        let form = detail.form.clone().expect("a form");
        (detail, form)
    }

    fn address() -> Address {
        serde_json::from_value(json!({
            "province": "01", "district": "002", "commune": "00070", "street": "12 Hàng Trống"
        }))
        .expect("an address")
    }

    fn evidence() -> Evidence {
        Evidence {
            registers: RegisterData {
                population: Some(PopulationRecord {
                    cccd: CCCD.into(),
                    full_name: "Nguyễn Văn An".into(),
                    birth_date: "1988-05-12".into(),
                    sex: "male".into(),
                    permanent_residence: "12 Hàng Trống".into(),
                    residence_address: Some(address()),
                    household_id: "HK1".into(),
                    household_relation: "chủ hộ".into(),
                    phone: Some("0912345678".into()),
                    birth_place: None,
                    ethnicity: None,
                    nationality: None,
                    father_name: None,
                    mother_name: None,
                    spouse_name: None,
                    marital_status: None,
                }),
                licence: Some(DrivingLicence {
                    number: "010123456789".into(),
                    holder_cccd: CCCD.into(),
                    classes: vec!["B".into()],
                    issued_on: "2016-12-01".into(),
                    expires_on: Some("2026-12-01".into()),
                    status: LicenceStatus::Valid,
                }),
                health: Some(certificate()),
                warehouse: vec![WarehouseItem {
                    id: "portrait-1".into(),
                    provenance: "upload".into(),
                    document_code: "portrait-photo".into(),
                    title: "Ảnh".into(),
                    content_type: "image/jpeg".into(),
                    size_bytes: 10,
                    issuer: None,
                    dossier_id: None,
                    created_at: 0,
                }],
                ..RegisterData::default()
            },
            certificate: Some(certificate()),
        }
    }

    fn certificate() -> HealthCertificate {
        HealthCertificate {
            code: "GKSK-1".into(),
            holder_cccd: CCCD.into(),
            examined_on: "2026-11-01".into(),
            valid_until: "2027-11-01".into(),
            fit_for_classes: vec!["B".into()],
            clinic: "Bệnh viện".into(),
        }
    }

    fn answers() -> Map<String, Value> {
        let mut a = Map::new();
        a.insert("full_name".into(), json!("Nguyễn Văn An"));
        a.insert("birth_date".into(), json!("1988-05-12"));
        a.insert("cccd".into(), json!(CCCD));
        a.insert(
            "residence".into(),
            serde_json::to_value(address()).expect("json"),
        );
        a.insert("licence_number".into(), json!("010123456789"));
        a.insert("licence_classes".into(), json!("B"));
        a.insert("health_certificate".into(), json!("GKSK-1"));
        a.insert("portrait".into(), json!("portrait-1"));
        a.insert("phone".into(), json!("0987654321"));
        a.insert("delivery".into(), json!("post"));
        a
    }

    fn today() -> Day {
        Day::from_ymd(2026, 11, 29).expect("a day")
    }

    fn decide(answers: &Map<String, Value>, evidence: &Evidence) -> Result<Accepted, Refusal> {
        let (procedure, form) = renewal();
        let cccd = Cccd::parse(CCCD).expect("a cccd");
        check(&procedure, &form, answers, &cccd, evidence, today(), None)
    }

    fn fields_of(refusal: Refusal) -> Vec<String> {
        match refusal {
            Refusal::InvalidAnswers(f)
            | Refusal::LockedFieldChanged(f)
            | Refusal::UnknownDocument(f)
            | Refusal::NotEligible(f) => f.into_iter().map(|e| e.code).collect(),
            other => vec![format!("{other:?}")],
        }
    }

    #[test]
    fn answers_matching_the_registers_are_accepted_with_what_the_state_verified() {
        let accepted = decide(&answers(), &evidence()).expect("accepted");
        assert_eq!(accepted.unit_code, "01");
        assert!(accepted.verified_fields.contains(&"licence_number".into()));
        // The phone is a suggestion: changed, it is accepted but not verified.
        assert!(!accepted.verified_fields.contains(&"phone".into()));
    }

    #[test]
    fn a_missing_answer_is_refused_by_the_form() {
        let mut a = answers();
        a.remove("delivery");
        let refusal = decide(&a, &evidence()).expect_err("refused");
        assert!(matches!(refusal, Refusal::InvalidAnswers(_)), "{refusal:?}");
    }

    #[test]
    fn a_changed_verified_value_is_refused() {
        let mut a = answers();
        a.insert("licence_classes".into(), json!("B, C"));
        let refusal = decide(&a, &evidence()).expect_err("refused");
        assert_eq!(fields_of(refusal), ["locked_field_changed"]);
    }

    #[test]
    fn a_document_not_in_the_warehouse_is_refused() {
        let mut a = answers();
        a.insert("portrait".into(), json!("someone-elses"));
        let refusal = decide(&a, &evidence()).expect_err("refused");
        assert_eq!(fields_of(refusal), ["unknown_document"]);
    }

    #[test]
    fn a_suspended_licence_is_not_eligible() {
        let mut e = evidence();
        if let Some(l) = e.registers.licence.as_mut() {
            l.status = LicenceStatus::Suspended;
        }
        let refusal = decide(&answers(), &e).expect_err("refused");
        assert_eq!(fields_of(refusal), ["licence_suspended"]);
    }

    #[test]
    fn an_expired_or_unknown_health_certificate_is_not_eligible() {
        let mut e = evidence();
        if let Some(c) = e.certificate.as_mut() {
            c.valid_until = "2026-01-01".into();
        }
        let refusal = decide(&answers(), &e).expect_err("refused");
        assert_eq!(fields_of(refusal), ["health_certificate_expired"]);
        let mut e = evidence();
        e.certificate = None;
        let refusal = decide(&answers(), &e).expect_err("refused");
        assert_eq!(fields_of(refusal), ["health_certificate_unknown"]);
    }

    #[test]
    fn another_persons_health_certificate_is_refused_exactly_as_an_unknown_one() {
        let mut e = evidence();
        if let Some(c) = e.certificate.as_mut() {
            c.holder_cccd = "031180009876".into();
        }
        let theirs = decide(&answers(), &e).expect_err("refused");
        let mut e = evidence();
        e.certificate = None;
        let nobodys = decide(&answers(), &e).expect_err("refused");
        assert_eq!(theirs, nobodys, "no oracle for whose a code is");
    }

    #[test]
    fn an_unanswered_register_refuses_before_any_check() {
        let mut e = evidence();
        e.registers.unavailable.push("licences");
        assert_eq!(
            decide(&answers(), &e).expect_err("refused"),
            Refusal::RegisterUnavailable
        );
    }

    #[test]
    fn an_inconsistent_jurisdiction_address_is_refused() {
        let (mut procedure, form) = renewal();
        // The jurisdiction names a field whose answer is no address.
        procedure.jurisdiction = Some("delivery".into());
        let cccd = Cccd::parse(CCCD).expect("a cccd");
        let refusal = check(
            &procedure,
            &form,
            &answers(),
            &cccd,
            &evidence(),
            today(),
            None,
        )
        .expect_err("refused");
        assert_eq!(refusal, Refusal::NoJurisdiction);
    }

    #[test]
    fn a_resubmission_keeps_verified_values_and_its_unit_and_rechecks_eligibility() {
        let (procedure, form) = renewal();
        let cccd = Cccd::parse(CCCD).expect("a cccd");
        let filed = answers();
        let verified = vec!["licence_number".to_owned()];
        let earlier = |unit| Earlier {
            answers: &filed,
            verified_fields: &verified,
            unit_code: unit,
        };
        let run = |a: &Map<String, Value>, e: &Evidence, unit| {
            check(&procedure, &form, a, &cccd, e, today(), Some(earlier(unit)))
        };
        assert!(run(&filed, &evidence(), "01").is_ok());
        let mut changed = filed.clone();
        changed.insert("licence_number".into(), json!("999"));
        assert!(matches!(
            run(&changed, &evidence(), "01"),
            Err(Refusal::LockedFieldChanged(_))
        ));
        assert_eq!(
            run(&filed, &evidence(), "79"),
            Err(Refusal::JurisdictionChanged)
        );
        let mut suspended = evidence();
        if let Some(l) = suspended.registers.licence.as_mut() {
            l.status = LicenceStatus::Suspended;
        }
        assert!(matches!(
            run(&filed, &suspended, "01"),
            Err(Refusal::NotEligible(_))
        ));
    }
}
