//! The payment decisions, pure: what an IPN or a querydr answer does to a payment, late-payment
//! interest, and what a land-obligation notice still asks for.

use motcua_shared::{calendar::Day, payment_api::PaymentState};

use super::vnpay::Notification;

/// What the server answers the gateway's IPN (`RspCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpnAnswer {
    /// `00`: handled now.
    Confirmed,
    /// `01`: no such order.
    OrderNotFound,
    /// `02`: already handled.
    AlreadyConfirmed,
    /// `04`: the amount is not the order's.
    InvalidAmount,
    /// `97`: the signature does not hold.
    InvalidSignature,
    /// `99`: anything else (the gateway retries).
    Unknown,
}

impl IpnAnswer {
    pub fn code(self) -> &'static str {
        match self {
            IpnAnswer::Confirmed => "00",
            IpnAnswer::OrderNotFound => "01",
            IpnAnswer::AlreadyConfirmed => "02",
            IpnAnswer::InvalidAmount => "04",
            IpnAnswer::InvalidSignature => "97",
            IpnAnswer::Unknown => "99",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            IpnAnswer::Confirmed => "Confirm Success",
            IpnAnswer::OrderNotFound => "Order not found",
            IpnAnswer::AlreadyConfirmed => "Order already confirmed",
            IpnAnswer::InvalidAmount => "Invalid amount",
            IpnAnswer::InvalidSignature => "Invalid signature",
            IpnAnswer::Unknown => "Unknown error",
        }
    }
}

/// Why money the gateway took goes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnReason {
    /// The amount is not the order's.
    AmountMismatch,
    /// The order had failed or expired: nothing is owed any more.
    OrderClosed,
    /// The order was already paid by another gateway transaction.
    Duplicate,
}

impl ReturnReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnReason::AmountMismatch => "amount_mismatch",
            ReturnReason::OrderClosed => "order_closed",
            ReturnReason::Duplicate => "duplicate",
        }
    }
}

/// What to do about the gateway's word on a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Mark it paid: the ledger, what it pays, the receipt.
    Confirm,
    /// Mark it failed (the person cancelled, the bank refused): what it held is free again.
    Fail,
    /// Record the money as received and to be returned, and start the refund.
    Return(ReturnReason),
    /// Nothing changes.
    Nothing,
}

/// A payment as the decisions need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts<'a> {
    pub state: PaymentState,
    pub amount_vnd: i64,
    /// The gateway transaction that paid it, once paid.
    pub transaction_no: Option<&'a str>,
}

/// The gateway says, by IPN or querydr, that transaction `transaction_no` of `amount_x100` ended
/// `paid` (or not). VNPay's order of checks: the order (done by the caller), the amount, whether
/// it is already handled, then the update.
pub fn on_gateway_word(
    facts: &Facts<'_>,
    paid: bool,
    amount_x100: i64,
    transaction_no: &str,
) -> (Outcome, IpnAnswer) {
    let amount_ok = facts.amount_vnd.checked_mul(100) == Some(amount_x100);
    if !amount_ok {
        // The money was taken all the same when the gateway says paid: it goes back.
        let outcome = if paid {
            Outcome::Return(ReturnReason::AmountMismatch)
        } else {
            Outcome::Nothing
        };
        return (outcome, IpnAnswer::InvalidAmount);
    }
    match facts.state {
        PaymentState::Created | PaymentState::Pending => {
            if paid {
                (Outcome::Confirm, IpnAnswer::Confirmed)
            } else {
                (Outcome::Fail, IpnAnswer::Confirmed)
            }
        }
        PaymentState::Paid => {
            if paid && facts.transaction_no.is_some_and(|t| t != transaction_no) {
                (
                    Outcome::Return(ReturnReason::Duplicate),
                    IpnAnswer::AlreadyConfirmed,
                )
            } else {
                (Outcome::Nothing, IpnAnswer::AlreadyConfirmed)
            }
        }
        PaymentState::Failed | PaymentState::Expired => {
            if paid {
                (
                    Outcome::Return(ReturnReason::OrderClosed),
                    IpnAnswer::Confirmed,
                )
            } else {
                (Outcome::Nothing, IpnAnswer::AlreadyConfirmed)
            }
        }
    }
}

/// As [`on_gateway_word`], for a signed notification.
pub fn on_notification(facts: &Facts<'_>, note: &Notification) -> (Outcome, IpnAnswer) {
    on_gateway_word(facts, note.paid(), note.amount_x100, &note.transaction_no)
}

/// Late-payment interest: 0.03 % a day of the late amount, counted from the day after the due
/// date to the day before payment (Law 38/2019 art. 59): due 20/7, paid 25/7 is 4 days.
///
/// Rounding: the exact amount is `amount × days × 3 / 10 000`; it is rounded down to the whole
/// đồng (a fraction is never charged). Returns (days, interest).
pub fn late_interest(amount_vnd: i64, due: Day, paid: Day) -> (i64, i64) {
    let days = (paid.0 - due.0 - 1).max(0);
    let interest = i128::from(amount_vnd.max(0)) * i128::from(days) * 3 / 10_000;
    (days, i64::try_from(interest).unwrap_or(i64::MAX))
}

/// One instalment of a notice, as the tax authority states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instalment {
    pub number: u32,
    pub due: Day,
    pub amount_vnd: i64,
    /// Paid (here or at the bank, as the authority knows).
    pub paid: bool,
}

/// What a payment of a notice would take: which instalments, principal, days late and interest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub instalment: u32,
    pub principal_vnd: i64,
    pub late_days: i64,
    pub interest_vnd: i64,
    pub due: Day,
}

/// Why a notice cannot be paid as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeRefusal {
    /// Nothing left to pay.
    AlreadyPaid,
    /// Only a notice that allows instalments can be paid one instalment at a time.
    InstalmentsNotAllowed,
    /// No such instalment, or an earlier one is still unpaid.
    NoSuchInstalment,
}

/// The instalments paying `notice` takes on day `today`: every unpaid one, or only instalment
/// `only` (when the notice allows instalments and those before it are paid).
pub fn notice_dues(
    instalments: &[Instalment],
    allows_instalments: bool,
    only: Option<u32>,
    today: Day,
) -> Result<Vec<Due>, NoticeRefusal> {
    let unpaid: Vec<&Instalment> = instalments.iter().filter(|i| !i.paid).collect();
    if unpaid.is_empty() {
        return Err(NoticeRefusal::AlreadyPaid);
    }
    let chosen: Vec<&Instalment> = match only {
        None => unpaid,
        Some(_) if !allows_instalments => return Err(NoticeRefusal::InstalmentsNotAllowed),
        Some(n) => {
            let first = unpaid.first().map(|i| i.number);
            if first != Some(n) {
                return Err(if instalments.iter().any(|i| i.number == n && i.paid) {
                    NoticeRefusal::AlreadyPaid
                } else {
                    NoticeRefusal::NoSuchInstalment
                });
            }
            unpaid.into_iter().take(1).collect()
        }
    };
    Ok(chosen
        .into_iter()
        .map(|i| {
            let (late_days, interest_vnd) = late_interest(i.amount_vnd, i.due, today);
            Due {
                instalment: i.number,
                principal_vnd: i.amount_vnd,
                late_days,
                interest_vnd,
                due: i.due,
            }
        })
        .collect())
}

/// `NUMBER` or `NUMBER/k` as asked in a payment.
pub fn parse_notice_ask(text: &str) -> Option<(&str, Option<u32>)> {
    let (number, instalment) = match text.split_once('/') {
        Some((n, k)) => (n, Some(k.parse::<u32>().ok().filter(|k| *k > 0)?)),
        None => (text, None),
    };
    let ok = !number.is_empty()
        && number.len() <= 40
        && number
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    ok.then_some((number, instalment))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i64, m: u32, d: u32) -> Day {
        Day::from_ymd(y, m, d).expect("a date")
    }

    #[test]
    fn interest_counts_from_the_day_after_the_due_date_to_the_day_before_payment() {
        // The law's own example: due 20/7, paid 25/7 is 4 days.
        let (days, interest) = late_interest(10_000_000, day(2026, 7, 20), day(2026, 7, 25));
        assert_eq!(days, 4);
        assert_eq!(interest, 12_000);
        // On time, or the day after: nothing.
        assert_eq!(
            late_interest(10_000_000, day(2026, 7, 20), day(2026, 7, 20)),
            (0, 0)
        );
        assert_eq!(
            late_interest(10_000_000, day(2026, 7, 20), day(2026, 7, 21)),
            (0, 0)
        );
        // Early: nothing.
        assert_eq!(
            late_interest(10_000_000, day(2026, 7, 20), day(2026, 7, 1)),
            (0, 0)
        );
    }

    #[test]
    fn interest_is_rounded_down_to_the_dong() {
        // 333 333 × 1 day × 0.0003 = 99.9999 → 99.
        assert_eq!(
            late_interest(333_333, day(2026, 1, 1), day(2026, 1, 3)),
            (1, 99)
        );
        // Across a year end and a leap day: 2027-12-31 to 2028-03-01 is 60 days late.
        let (days, interest) = late_interest(1_000_000_000, day(2027, 12, 31), day(2028, 3, 1));
        assert_eq!(days, 60);
        assert_eq!(interest, 18_000_000);
    }

    fn facts(state: PaymentState) -> Facts<'static> {
        Facts {
            state,
            amount_vnd: 115_000,
            transaction_no: None,
        }
    }

    #[test]
    fn a_pending_payment_is_confirmed_only_by_a_paid_word_with_its_amount() {
        use IpnAnswer as A;
        let pending = facts(PaymentState::Pending);
        assert_eq!(
            on_gateway_word(&pending, true, 11_500_000, "1"),
            (Outcome::Confirm, A::Confirmed)
        );
        assert_eq!(
            on_gateway_word(&pending, false, 11_500_000, "1"),
            (Outcome::Fail, A::Confirmed)
        );
        assert_eq!(
            on_gateway_word(&pending, true, 11_500_100, "1"),
            (
                Outcome::Return(ReturnReason::AmountMismatch),
                A::InvalidAmount
            )
        );
        assert_eq!(
            on_gateway_word(&pending, false, 100, "1"),
            (Outcome::Nothing, A::InvalidAmount)
        );
    }

    #[test]
    fn a_closed_payment_changes_no_more_but_money_taken_for_it_goes_back() {
        use IpnAnswer as A;
        let paid = Facts {
            transaction_no: Some("1"),
            ..facts(PaymentState::Paid)
        };
        assert_eq!(
            on_gateway_word(&paid, true, 11_500_000, "1"),
            (Outcome::Nothing, A::AlreadyConfirmed)
        );
        assert_eq!(
            on_gateway_word(&paid, false, 11_500_000, "1"),
            (Outcome::Nothing, A::AlreadyConfirmed)
        );
        assert_eq!(
            on_gateway_word(&paid, true, 11_500_000, "2"),
            (
                Outcome::Return(ReturnReason::Duplicate),
                A::AlreadyConfirmed
            )
        );
        for closed in [PaymentState::Failed, PaymentState::Expired] {
            assert_eq!(
                on_gateway_word(&facts(closed), true, 11_500_000, "3"),
                (Outcome::Return(ReturnReason::OrderClosed), A::Confirmed)
            );
            assert_eq!(
                on_gateway_word(&facts(closed), false, 11_500_000, "3"),
                (Outcome::Nothing, A::AlreadyConfirmed)
            );
        }
    }

    fn levy() -> Vec<Instalment> {
        vec![
            Instalment {
                number: 1,
                due: day(2026, 10, 1),
                amount_vnd: 50_000_000,
                paid: false,
            },
            Instalment {
                number: 2,
                due: day(2026, 12, 30),
                amount_vnd: 50_000_000,
                paid: false,
            },
        ]
    }

    #[test]
    fn a_notice_is_paid_whole_unless_it_allows_instalments() {
        let today = day(2026, 11, 30);
        let all = notice_dues(&levy(), false, None, today).expect("payable");
        assert_eq!(all.len(), 2);
        // The first is 59 days late (2 Oct to 29 Nov); the second is not yet due.
        assert_eq!((all[0].late_days, all[0].interest_vnd), (59, 885_000));
        assert_eq!((all[1].late_days, all[1].interest_vnd), (0, 0));
        assert_eq!(
            notice_dues(&levy(), false, Some(1), today),
            Err(NoticeRefusal::InstalmentsNotAllowed)
        );
        let first = notice_dues(&levy(), true, Some(1), today).expect("payable");
        assert_eq!(first.len(), 1);
        assert_eq!(
            notice_dues(&levy(), true, Some(2), today),
            Err(NoticeRefusal::NoSuchInstalment)
        );
        let mut paid_first = levy();
        paid_first[0].paid = true;
        assert_eq!(
            notice_dues(&paid_first, true, Some(2), today).expect("payable")[0].instalment,
            2
        );
        assert_eq!(
            notice_dues(&paid_first, true, Some(1), today),
            Err(NoticeRefusal::AlreadyPaid)
        );
        paid_first[1].paid = true;
        assert_eq!(
            notice_dues(&paid_first, false, None, today),
            Err(NoticeRefusal::AlreadyPaid)
        );
    }

    #[test]
    fn notice_asks_are_numbers_with_an_optional_instalment() {
        assert_eq!(parse_notice_ask("TB-2026-001"), Some(("TB-2026-001", None)));
        assert_eq!(
            parse_notice_ask("TB-2026-001/2"),
            Some(("TB-2026-001", Some(2)))
        );
        assert_eq!(parse_notice_ask("TB-2026-001/0"), None);
        assert_eq!(parse_notice_ask("TB 1"), None);
        assert_eq!(parse_notice_ask(""), None);
    }
}
