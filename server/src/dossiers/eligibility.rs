//! Eligibility checks a procedure names in its data, run at submission against the registers.
//! Each refusal names the field and says why, in both languages.

use motcua_shared::{
    Cccd, Localized,
    calendar::Day,
    eform::{FieldError, parse_date},
    registry::{HealthCertificate, LicenceStatus},
};

use crate::procedures::prefill::RegisterData;

pub const KNOWN_CHECKS: [&str; 2] = ["licence_renewable", "health_certificate_fit"];

fn refusal(field: &str, code: &str, vi: String, en: String) -> FieldError {
    FieldError {
        field: field.to_owned(),
        code: code.to_owned(),
        message: Localized { vi, en },
    }
}

/// Whether `checks` need the health certificate the answers name (read before deciding).
pub fn needs_named_certificate(checks: &[String]) -> bool {
    checks.iter().any(|c| c == "health_certificate_fit")
}

/// Runs `check` on what the registers said (`data`, and `certificate`: the one the answers
/// name, as read); `Some(_)` is a refusal for the person to read. A pure decision: the reading
/// is done before. An unknown check is refused when the catalogue is seeded, so it passes here.
pub fn run(
    check: &str,
    cccd: &Cccd,
    data: &RegisterData,
    certificate: Option<&HealthCertificate>,
    today: Day,
) -> Option<FieldError> {
    match check {
        "licence_renewable" => match &data.licence {
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
        },
        "health_certificate_fit" => {
            let classes: Vec<String> = data
                .licence
                .as_ref()
                .map(|l| l.classes.clone())
                .unwrap_or_default();
            // Another person's certificate is refused exactly as an unknown code (filing reads
            // only the person's own; this guards any other caller).
            match certificate.filter(|c| c.holder_cccd == cccd.as_str()) {
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
            }
        }
        _ => None,
    }
}
