//! Eligibility checks a procedure names in its data, run at submission against the registers.
//! Each refusal names the field and says why, in both languages.

use motcua_shared::{
    Cccd, Localized,
    calendar::Day,
    eform::{FieldError, parse_date},
    registry::LicenceStatus,
};
use serde_json::{Map, Value};

use crate::{adapters::Registries, error::ApiError, procedures::prefill::RegisterData};

pub const KNOWN_CHECKS: [&str; 2] = ["licence_renewable", "health_certificate_fit"];

fn refusal(field: &str, code: &str, vi: String, en: String) -> FieldError {
    FieldError {
        field: field.to_owned(),
        code: code.to_owned(),
        message: Localized { vi, en },
    }
}

/// Runs `check`; `Ok(Some(_))` is a refusal for the person to read.
pub async fn run(
    check: &str,
    answers: &Map<String, Value>,
    cccd: &Cccd,
    data: &RegisterData,
    registries: &Registries,
    today: Day,
) -> Result<Option<FieldError>, ApiError> {
    match check {
        "licence_renewable" => Ok(match &data.licence {
            None => Some(refusal(
                "licence_number",
                "no_licence",
                "Không tìm thấy giấy phép lái xe của bạn trong cơ sở dữ liệu.".into(),
                "No driving licence of yours is in the register.".into(),
            )),
            Some(l) if l.status == LicenceStatus::Suspended => Some(refusal(
                "licence_number",
                "licence_suspended",
                format!(
                    "Giấy phép lái xe số {} đang bị tạm giữ nên chưa thể cấp đổi.",
                    l.number
                ),
                format!(
                    "Driving licence {} is suspended, so it cannot be renewed.",
                    l.number
                ),
            )),
            Some(l) if l.status == LicenceStatus::Revoked => Some(refusal(
                "licence_number",
                "licence_revoked",
                format!(
                    "Giấy phép lái xe số {} đã bị thu hồi; hãy làm thủ tục cấp mới.",
                    l.number
                ),
                format!(
                    "Driving licence {} has been revoked; apply for a new licence instead.",
                    l.number
                ),
            )),
            Some(_) => None,
        }),
        "health_certificate_fit" => {
            let code = answers
                .get("health_certificate")
                .and_then(Value::as_str)
                .unwrap_or("");
            let certificate = registries.health_certificate(code).await?;
            let classes: Vec<String> = data
                .licence
                .as_ref()
                .map(|l| l.classes.clone())
                .unwrap_or_default();
            Ok(match certificate {
                Some(c) if c.holder_cccd != cccd.as_str() => Some(refusal(
                    "health_certificate",
                    "health_certificate_not_yours",
                    "Giấy khám sức khỏe này không phải của bạn.".into(),
                    "This health certificate is not yours.".into(),
                )),
                Some(c) if parse_date(&c.valid_until).is_none_or(|d| d < today) => Some(refusal(
                    "health_certificate",
                    "health_certificate_expired",
                    "Giấy khám sức khỏe đã hết hạn. Hãy khám lại tại cơ sở y tế.".into(),
                    "The health certificate has expired. Have a new examination.".into(),
                )),
                Some(c) if !classes.iter().all(|k| c.fit_for_classes.contains(k)) => Some(refusal(
                    "health_certificate",
                    "health_certificate_unfit",
                    format!(
                        "Giấy khám sức khỏe không đủ điều kiện cho hạng {}.",
                        classes.join(", ")
                    ),
                    format!(
                        "The health certificate does not cover class {}.",
                        classes.join(", ")
                    ),
                )),
                Some(_) => None,
                None => Some(refusal(
                    "health_certificate",
                    "health_certificate_unknown",
                    "Không tìm thấy giấy khám sức khỏe với mã này.".into(),
                    "No health certificate has this code.".into(),
                )),
            })
        }
        other => Err(ApiError::Internal(anyhow::anyhow!(
            "unknown eligibility check {other}"
        ))),
    }
}
