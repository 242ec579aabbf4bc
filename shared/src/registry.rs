//! What the national registers answer about a person, as the platform shows it back to them.

use serde::{Deserialize, Serialize};

/// A person's record in the national population database (CSDL quốc gia về dân cư).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PopulationRecord {
    pub cccd: String,
    pub full_name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// `male` or `female`.
    pub sex: String,
    /// Permanent residence, written out.
    pub permanent_residence: String,
    /// Permanent residence by administrative unit.
    #[serde(default)]
    pub residence_address: Option<crate::units::Address>,
    pub household_id: String,
    /// Relation to the head of household: `head`, `spouse`, `child`, …
    pub household_relation: String,
    /// The mobile number registered with the e-identity, when there is one.
    #[serde(default)]
    pub phone: Option<String>,
    /// Place of birth (registered at birth), written out.
    #[serde(default)]
    pub birth_place: Option<String>,
    #[serde(default)]
    pub ethnicity: Option<String>,
    #[serde(default)]
    pub nationality: Option<String>,
    #[serde(default)]
    pub father_name: Option<String>,
    #[serde(default)]
    pub mother_name: Option<String>,
    /// The registered spouse, if any.
    #[serde(default)]
    pub spouse_name: Option<String>,
    /// `single`, `married`, `divorced` or `widowed`, as the civil-status register has it.
    #[serde(default)]
    pub marital_status: Option<String>,
}

/// Whether a driving licence can be used or renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum LicenceStatus {
    Valid,
    Suspended,
    Revoked,
}

/// A driving licence in the national driving-licence register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrivingLicence {
    pub number: String,
    pub holder_cccd: String,
    /// Classes such as `B`, `C1`, `A1`.
    pub classes: Vec<String>,
    pub issued_on: String,
    /// `None`: no expiry (motorbike classes).
    pub expires_on: Option<String>,
    pub status: LicenceStatus,
}

/// A health-insurance card in the social-insurance register (Bảo hiểm xã hội Việt Nam).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthInsuranceCard {
    /// The card's code: 15 characters (the beneficiary group, the benefit level, the
    /// province, and the 10-digit social-insurance number).
    pub code: String,
    pub holder_cccd: String,
    /// The facility where the holder registered for health care (nơi đăng ký KCB ban đầu).
    pub facility: String,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    /// `YYYY-MM-DD`; `None`: until further notice.
    pub valid_until: Option<String>,
}

/// An electronic driver's health certificate, from the health-certificate register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthCertificate {
    pub code: String,
    pub holder_cccd: String,
    pub examined_on: String,
    pub valid_until: String,
    /// Licence classes the holder is fit to drive.
    pub fit_for_classes: Vec<String>,
    pub clinic: String,
}

/// An electronic birth notice (giấy chứng sinh) the health facility sent to the health register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BirthNotice {
    pub code: String,
    pub mother_cccd: String,
    #[serde(default)]
    pub father_cccd: Option<String>,
    /// `YYYY-MM-DD`.
    pub child_birth_date: String,
    /// `male` or `female`.
    pub child_sex: String,
    /// The health facility, written out.
    pub birth_place: String,
}

/// A pre-filled answer: its value, where it came from, and whether the person may change it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrefilledValue {
    pub value: serde_json::Value,
    /// The source named by the form field, such as `population.full_name`.
    pub source: String,
    /// Verified by the state: locked, and checked again at submission.
    pub locked: bool,
}

/// The body of `GET /api/v1/procedures/{code}/prefill`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Prefill {
    /// By field name.
    pub values: std::collections::BTreeMap<String, PrefilledValue>,
    /// Sources that could not be read (the person fills those fields in).
    pub unavailable: Vec<String>,
}

/// The body of `GET /api/v1/me/records`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyRecords {
    pub population: Option<PopulationRecord>,
    pub driving_licences: Vec<DrivingLicence>,
}

/// A land-related payment notice as the tax authority serves it (thông báo nộp tiền): land-use
/// levy, annual land rent or registration fee, with its instalments and where the money goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LandNotice {
    pub number: String,
    /// `land_use_levy`, `land_rent`, `registration_fee`.
    pub kind: String,
    /// `first_notice`, `later_year`, `adjustment`, `supplement`.
    pub notice_type: String,
    /// `YYYY-MM-DD`.
    pub notice_date: String,
    #[serde(default)]
    pub year: Option<i32>,
    pub tax_code: String,
    pub payer_name: String,
    pub tax_office: String,
    pub parcel: Parcel,
    pub amount_vnd: i64,
    pub exemption_vnd: i64,
    pub payable_vnd: i64,
    pub allows_instalments: bool,
    pub instalments: Vec<NoticeInstalment>,
    pub beneficiary: Beneficiary,
}

/// The land a notice is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parcel {
    pub address: String,
    /// Square metres, as written on the notice (`1250.5`).
    pub area_m2: String,
    #[serde(default)]
    pub exempt_area_m2: Option<String>,
}

/// One instalment of a notice, and whether the authority has it paid (here or at a bank).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeInstalment {
    pub number: u32,
    /// `YYYY-MM-DD`, the last day to pay without interest.
    pub due_on: String,
    pub amount_vnd: i64,
    pub paid: bool,
}

/// Where a payment of a notice is credited in the state budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Beneficiary {
    /// The State Treasury office (kho bạc) code.
    pub treasury: String,
    /// The budget account (7111: state budget revenue).
    pub budget_account: String,
    /// Chapter (chương) and sub-item (tiểu mục) codes of the budget chart.
    pub chapter: String,
    pub sub_item: String,
}

/// What the platform tells the tax authority once a payment of notices is confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticePayment {
    /// The platform's payment id: the authority takes each one once.
    pub payment_id: String,
    pub tax_code: String,
    pub gateway_transaction_no: String,
    /// Unix ms.
    pub paid_at: i64,
    pub lines: Vec<NoticePaymentLine>,
}

/// One notice instalment paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticePaymentLine {
    pub notice_number: String,
    pub instalment: u32,
    pub principal_vnd: i64,
    pub interest_vnd: i64,
}
