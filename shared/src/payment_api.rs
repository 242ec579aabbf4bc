//! Payments as the API and the PWA see them: a dossier fee or land-related payment notices, paid
//! through the gateway; and the land obligations a business sees before paying.

use serde::{Deserialize, Serialize};

use crate::{Localized, money::Vnd};

/// A payment's life: `created → pending` (the gateway URL is issued) `→ paid | failed | expired`.
/// `paid` is final; money going back is a refund of its own, never a change of this state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    Created,
    Pending,
    Paid,
    Failed,
    Expired,
}

impl PaymentState {
    pub const ALL: [PaymentState; 5] = [
        PaymentState::Created,
        PaymentState::Pending,
        PaymentState::Paid,
        PaymentState::Failed,
        PaymentState::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Created => "created",
            PaymentState::Pending => "pending",
            PaymentState::Paid => "paid",
            PaymentState::Failed => "failed",
            PaymentState::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<PaymentState> {
        PaymentState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Still waiting for the gateway: it holds what it pays against other payments.
    pub fn is_live(self) -> bool {
        matches!(self, PaymentState::Created | PaymentState::Pending)
    }

    pub fn is_final(self) -> bool {
        !self.is_live()
    }
}

/// `POST /api/v1/payments` (with an `Idempotency-Key` header): a dossier's fee, or payment
/// notices of the organisation the session acts for. Exactly one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartPayment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dossier_id: Option<String>,
    /// Notice numbers; `NUMBER/k` pays only instalment `k` of a notice that allows instalments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
    /// A bank or method code the gateway knows (`VNBANK`, `VNPAYQR`, `INTCARD`), optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_code: Option<String>,
}

/// What one payment pays for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentItem {
    /// `dossier_fee`, `land_use_levy`, `land_rent`, `registration_fee`.
    pub kind: String,
    /// The dossier's receipt number, or the notice number (with `/k` for an instalment).
    pub reference: String,
    pub label: Localized,
    pub principal_vnd: Vnd,
    /// Days late and the late-payment interest on them (0.03 % a day).
    pub late_days: i64,
    pub interest_vnd: Vnd,
    /// `YYYY-MM-DD`, when it was due (none for a dossier fee).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_on: Option<String>,
}

/// A payment: `POST /api/v1/payments`, `GET /api/v1/payments/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentView {
    pub id: String,
    /// The order reference the gateway knows it by.
    pub txn_ref: String,
    pub state: PaymentState,
    pub amount_vnd: Vnd,
    pub items: Vec<PaymentItem>,
    /// Where to go to pay; only while it is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_url: Option<String>,
    pub created_at: i64,
    /// After this the gateway takes no payment for it.
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<i64>,
    /// The electronic receipt in the payer's wallet, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_credential_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dossier_id: Option<String>,
    /// The organisation paid for (its tax code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_org: Option<String>,
    /// Money the gateway took for this order that goes back (a wrong amount, a closed order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returns: Vec<PaymentReturn>,
}

/// Money that goes back to the payer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentReturn {
    pub amount_vnd: Vnd,
    /// `amount_mismatch`, `order_closed`, `duplicate`.
    pub reason: String,
    /// `pending`, `refunded`.
    pub state: String,
}

/// `GET /api/v1/payments`: the person's payments, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentList {
    pub payments: Vec<PaymentView>,
    /// The cursor of the next page (`?after=`); absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `GET /api/v1/payments/vnpay/return-check?…` (the return page's query): whether the gateway's
/// message is genuine and what it says, beside the payment as the server knows it. The return
/// itself confirms nothing; the payment turns paid only by the gateway's IPN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReturnCheck {
    pub signature_valid: bool,
    /// The gateway's `vnp_ResponseCode` (`00` success, `24` cancelled, …), when signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentView>,
}

/// A land-related payment notice of an organisation, as the tax authority issued it, with what is
/// outstanding and the late interest as of today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ObligationView {
    pub notice_number: String,
    /// `land_use_levy`, `land_rent`, `registration_fee`.
    pub kind: String,
    pub kind_name: Localized,
    /// `YYYY-MM-DD`.
    pub notice_date: String,
    pub tax_code: String,
    pub payer_name: String,
    pub parcel_address: String,
    pub parcel_area_m2: String,
    pub amount_vnd: Vnd,
    pub exemption_vnd: Vnd,
    pub payable_vnd: Vnd,
    pub instalments: Vec<InstalmentView>,
    /// Whether instalments may be paid one by one; otherwise the notice is paid whole.
    pub allows_instalments: bool,
    /// Where the money goes.
    pub treasury: String,
    pub budget_account: String,
    pub chapter: String,
    pub sub_item: String,
    /// Outstanding now, late interest included.
    pub outstanding_vnd: Vnd,
    pub interest_vnd: Vnd,
    /// Paid in full.
    pub paid: bool,
    /// A payment started and not finished holds it (its id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_payment: Option<String>,
}

/// One instalment of a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstalmentView {
    pub number: u32,
    /// `YYYY-MM-DD`, the last day to pay without interest.
    pub due_on: String,
    pub amount_vnd: Vnd,
    pub paid: bool,
    pub late_days: i64,
    pub interest_vnd: Vnd,
}

/// `GET /api/v1/obligations`: the land obligations of the organisation the session acts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ObligationList {
    pub tax_code: String,
    pub organisation: String,
    /// `YYYY-MM-DD`: the day interest is counted to (today in Vietnam).
    pub as_of: String,
    pub obligations: Vec<ObligationView>,
}

/// A dossier's fee, as its view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeeDue {
    pub amount_vnd: Vnd,
    /// `at_filing` (the dossier waits for it) or `at_result`.
    pub when: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<i64>,
    /// An unpaid filing lapses at this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_by: Option<i64>,
}
