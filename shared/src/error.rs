//! The one JSON error body every `/api` failure uses: `{"error": CODE, "message": TEXT}`, and the
//! closed list of codes. Every code has a Vietnamese and an English text in the PWA's resource
//! files (`client/locales/{vi,en}.yml`, key `error.<code>`); the server renders `message` from
//! them in the reader's language, and a test fails when a code lacks either.

use serde::{Deserialize, Serialize};

/// Body of every API error response. `error` is a stable machine code (one of [`ErrorCode`]),
/// `message` is a sentence in the reader's language that says what to do; it never carries
/// internal failure details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable machine-readable code, for example `not_found` or `invalid_json`.
    #[cfg_attr(feature = "openapi", schema(value_type = ErrorCode))]
    pub error: String,
    /// What went wrong and how to fix it, for people, in the language asked for with
    /// `Accept-Language` (Vietnamese by default).
    pub message: String,
    /// For form answers: what is wrong with each field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<crate::eform::FieldError>,
}

impl ErrorBody {
    pub fn new(error: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// The code as the closed enum, when this version knows it.
    pub fn code(&self) -> Option<ErrorCode> {
        ErrorCode::parse(&self.error)
    }
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, )*) => {
        /// Every error code the API answers with (and the few the PWA makes itself).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $text, )* }
            }
        }
    };
}

error_codes! {
    // Requests that do not parse.
    BadRequest = "bad_request",
    InvalidJson = "invalid_json",
    InvalidBody = "invalid_body",
    InvalidQuery = "invalid_query",
    InvalidPath = "invalid_path",
    /// A list's `limit` outside 1 to its maximum.
    InvalidPageSize = "invalid_page_size",
    /// A list's `after` that is not a `next` it gave.
    InvalidCursor = "invalid_cursor",
    NotFound = "not_found",
    MethodNotAllowed = "method_not_allowed",
    Timeout = "timeout",
    PayloadTooLarge = "payload_too_large",
    UnsupportedMediaType = "unsupported_media_type",
    RateLimited = "rate_limited",
    /// A dependency (the database, a national register) does not answer.
    Unavailable = "unavailable",
    Internal = "internal",
    /// Two requests wrote the same thing at once; the other one won.
    AlreadyExists = "already_exists",
    // Sessions and permissions.
    Unauthenticated = "unauthenticated",
    SessionExpired = "session_expired",
    Forbidden = "forbidden",
    ForbiddenRole = "forbidden_role",
    CsrfFailed = "csrf_failed",
    StepUpRequired = "step_up_required",
    Level2Required = "level2_required",
    InvalidReturnTo = "invalid_return_to",
    // Passkeys.
    CrossOrigin = "cross_origin",
    CeremonyInvalid = "ceremony_invalid",
    PasskeyRejected = "passkey_rejected",
    PasskeyAlreadyRegistered = "passkey_already_registered",
    NoPasskeys = "no_passkeys",
    InvalidName = "invalid_name",
    /// Made by the PWA: the person closed the browser's passkey prompt.
    PasskeyCancelled = "passkey_cancelled",
    // Organisations.
    InvalidTaxCode = "invalid_tax_code",
    NotARepresentative = "not_a_representative",
    // Filing.
    UnknownProcedure = "unknown_procedure",
    NoEform = "no_eform",
    InvalidIdempotencyKey = "invalid_idempotency_key",
    InvalidAnswers = "invalid_answers",
    LockedFieldChanged = "locked_field_changed",
    UnknownDocument = "unknown_document",
    NotEligible = "not_eligible",
    NoJurisdiction = "no_jurisdiction",
    JurisdictionChanged = "jurisdiction_changed",
    // Dossiers and the back office.
    TransitionNotAllowed = "transition_not_allowed",
    ChangedMeanwhile = "changed_meanwhile",
    AssignedToOther = "assigned_to_other",
    LeadOnly = "lead_only",
    OwnDossier = "own_dossier",
    UploadQuota = "upload_quota",
    StorageQuota = "storage_quota",
    DraftQuota = "draft_quota",
    FilingRate = "filing_rate",
    NotAnOfficerHere = "not_an_officer_here",
    InvalidStatus = "invalid_status",
    ReasonRequired = "reason_required",
    ReasonTooLong = "reason_too_long",
    // Payments.
    IdempotencyKeyRequired = "idempotency_key_required",
    IdempotencyKeyReused = "idempotency_key_reused",
    NothingToPay = "nothing_to_pay",
    AlreadyPaid = "already_paid",
    PaymentInProgress = "payment_in_progress",
    UnknownNotice = "unknown_notice",
    InstalmentsNotAllowed = "instalments_not_allowed",
    NotActingForOrganisation = "not_acting_for_organisation",
    InvalidBankCode = "invalid_bank_code",
    AwaitingFee = "awaiting_fee",
    // Notifications.
    PushServiceNotAllowed = "push_service_not_allowed",
    InvalidPushKeys = "invalid_push_keys",
    PushDeviceQuota = "push_device_quota",
    InvalidTimeOfDay = "invalid_time_of_day",
    // Statistics.
    InvalidPeriod = "invalid_period",
    UnknownUnit = "unknown_unit",
    // Satisfaction and feedback.
    NotRateable = "not_rateable",
    RatingClosed = "rating_closed",
    InvalidRating = "invalid_rating",
    InvalidFeedback = "invalid_feedback",
    FeedbackRate = "feedback_rate",
    AlreadyAnswered = "already_answered",
    NotAnswered = "not_answered",
    AlreadyJudged = "already_judged",
    // The warehouse.
    InvalidDocumentCode = "invalid_document_code",
    TitleTooLong = "title_too_long",
    EmptyFile = "empty_file",
}

impl ErrorCode {
    pub fn parse(text: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == text)
    }

    /// The resource key of its text: `error.<code>`.
    pub fn text_key(self) -> String {
        format!("error.{}", self.as_str())
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_code_reads_back_and_serialises_as_its_text() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
            assert_eq!(
                serde_json::to_value(code).expect("serialises"),
                serde_json::Value::String(code.as_str().to_owned())
            );
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }
}
