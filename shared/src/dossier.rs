//! A dossier's life cycle as an explicit state machine. Every transition is checked here, once,
//! for the server (authoritative) and the PWA (which shows only the actions that can succeed).
//!
//! ```text
//! submitted ──receive──▶ received ──start──▶ in_processing ──approve──▶ approved ──issue──▶ result_issued
//!   │  ▲                    │                  │      ▲                   (reject with a reason from
//!   │  └─resubmit─┐         │                  │      └──resubmit──┐       submitted, received or
//!   └─supplement─▶ supplement_requested ◀──────┴─supplement──────────┘       in_processing)
//! withdraw (by the applicant) from submitted, supplement_requested or received: before processing.
//! ```
//! A resubmission goes back to `submitted` when the supplement was asked at receipt, and back to
//! `in_processing` (the paused clock resumes) when it was asked during processing.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DossierStatus {
    Submitted,
    SupplementRequested,
    Received,
    InProcessing,
    Approved,
    Rejected,
    ResultIssued,
    Withdrawn,
}

impl DossierStatus {
    pub const ALL: [DossierStatus; 8] = [
        DossierStatus::Submitted,
        DossierStatus::SupplementRequested,
        DossierStatus::Received,
        DossierStatus::InProcessing,
        DossierStatus::Approved,
        DossierStatus::Rejected,
        DossierStatus::ResultIssued,
        DossierStatus::Withdrawn,
    ];

    /// No action leaves these.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DossierStatus::Rejected | DossierStatus::ResultIssued | DossierStatus::Withdrawn
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DossierStatus::Submitted => "submitted",
            DossierStatus::SupplementRequested => "supplement_requested",
            DossierStatus::Received => "received",
            DossierStatus::InProcessing => "in_processing",
            DossierStatus::Approved => "approved",
            DossierStatus::Rejected => "rejected",
            DossierStatus::ResultIssued => "result_issued",
            DossierStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<DossierStatus> {
        DossierStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

/// Who acts on a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Applicant,
    Officer,
}

/// What can be done to a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DossierAction {
    Receive,
    RequestSupplement,
    Resubmit,
    StartProcessing,
    Approve,
    Reject,
    IssueResult,
    Withdraw,
}

impl DossierAction {
    pub const ALL: [DossierAction; 8] = [
        DossierAction::Receive,
        DossierAction::RequestSupplement,
        DossierAction::Resubmit,
        DossierAction::StartProcessing,
        DossierAction::Approve,
        DossierAction::Reject,
        DossierAction::IssueResult,
        DossierAction::Withdraw,
    ];

    /// Who may take this action.
    pub fn actor(self) -> Actor {
        match self {
            DossierAction::Resubmit | DossierAction::Withdraw => Actor::Applicant,
            _ => Actor::Officer,
        }
    }

    /// A reason the applicant will read is required (what to add, why refused).
    pub fn needs_reason(self) -> bool {
        matches!(
            self,
            DossierAction::RequestSupplement | DossierAction::Reject
        )
    }
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a dossier that is {} cannot be {action:?}", from.as_str())]
    NotAllowed {
        from: DossierStatus,
        action: DossierAction,
    },
    #[error("only the {:?} may do this", action.actor())]
    WrongActor { action: DossierAction },
    #[error("a reason is required")]
    ReasonRequired,
}

/// What a transition needs to know beyond the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Context {
    /// The dossier was received (its legal clock started) before the current supplement request.
    pub clock_started: bool,
}

/// The status after `action` by `actor` on a dossier that is `from`, or why it is refused.
pub fn transition(
    from: DossierStatus,
    action: DossierAction,
    actor: Actor,
    reason: Option<&str>,
    context: Context,
) -> Result<DossierStatus, TransitionError> {
    use DossierAction as A;
    use DossierStatus as S;
    if actor != action.actor() {
        return Err(TransitionError::WrongActor { action });
    }
    if action.needs_reason() && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(TransitionError::ReasonRequired);
    }
    let to = match (from, action) {
        (S::Submitted, A::Receive) => S::Received,
        (S::Submitted | S::InProcessing, A::RequestSupplement) => S::SupplementRequested,
        (S::SupplementRequested, A::Resubmit) if context.clock_started => S::InProcessing,
        (S::SupplementRequested, A::Resubmit) => S::Submitted,
        (S::Received, A::StartProcessing) => S::InProcessing,
        (S::InProcessing, A::Approve) => S::Approved,
        (S::Submitted | S::Received | S::InProcessing, A::Reject) => S::Rejected,
        (S::Approved, A::IssueResult) => S::ResultIssued,
        // Before processing only: a supplement asked during processing does not reopen withdrawal.
        (S::Submitted | S::Received, A::Withdraw) => S::Withdrawn,
        (S::SupplementRequested, A::Withdraw) if !context.clock_started => S::Withdrawn,
        _ => return Err(TransitionError::NotAllowed { from, action }),
    };
    Ok(to)
}

/// The actions `actor` can take on a dossier that is `from` (for buttons in the PWA).
pub fn available_actions(
    from: DossierStatus,
    actor: Actor,
    context: Context,
) -> Vec<DossierAction> {
    DossierAction::ALL
        .into_iter()
        .filter(|a| transition(from, *a, actor, Some("reason"), context).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use DossierAction as A;
    use DossierStatus as S;

    const NONE: Context = Context {
        clock_started: false,
    };

    #[test]
    fn the_happy_path_runs_from_submission_to_the_result() {
        let mut s = S::Submitted;
        for action in [A::Receive, A::StartProcessing, A::Approve, A::IssueResult] {
            s = transition(s, action, action.actor(), None, NONE).expect("allowed");
        }
        assert_eq!(s, S::ResultIssued);
        assert!(s.is_final());
    }

    #[test]
    fn a_withdrawn_dossier_cannot_be_approved_or_received() {
        let withdrawn =
            transition(S::Received, A::Withdraw, Actor::Applicant, None, NONE).expect("allowed");
        for action in [A::Approve, A::Receive, A::StartProcessing, A::IssueResult] {
            assert!(matches!(
                transition(withdrawn, action, Actor::Officer, Some("x"), NONE),
                Err(TransitionError::NotAllowed { .. })
            ));
        }
    }

    #[test]
    fn processing_cannot_be_withdrawn_and_officers_cannot_withdraw() {
        assert!(transition(S::InProcessing, A::Withdraw, Actor::Applicant, None, NONE).is_err());
        // Found by the property below: a supplement asked during processing must not reopen withdrawal.
        let during = Context {
            clock_started: true,
        };
        assert!(
            transition(
                S::SupplementRequested,
                A::Withdraw,
                Actor::Applicant,
                None,
                during
            )
            .is_err()
        );
        assert_eq!(
            transition(
                S::SupplementRequested,
                A::Withdraw,
                Actor::Applicant,
                None,
                NONE
            ),
            Ok(S::Withdrawn)
        );
        assert_eq!(
            transition(S::Submitted, A::Withdraw, Actor::Officer, None, NONE),
            Err(TransitionError::WrongActor {
                action: A::Withdraw
            })
        );
    }

    #[test]
    fn rejections_and_supplement_requests_need_a_reason() {
        assert_eq!(
            transition(S::InProcessing, A::Reject, Actor::Officer, None, NONE),
            Err(TransitionError::ReasonRequired)
        );
        assert_eq!(
            transition(S::InProcessing, A::Reject, Actor::Officer, Some("  "), NONE),
            Err(TransitionError::ReasonRequired)
        );
        assert_eq!(
            transition(
                S::InProcessing,
                A::Reject,
                Actor::Officer,
                Some("Giấy phép đang bị tạm giữ"),
                NONE
            ),
            Ok(S::Rejected)
        );
    }

    #[test]
    fn a_resubmission_returns_to_where_the_supplement_was_asked() {
        let asked_at_receipt = transition(
            S::SupplementRequested,
            A::Resubmit,
            Actor::Applicant,
            None,
            NONE,
        );
        assert_eq!(asked_at_receipt, Ok(S::Submitted));
        let during = Context {
            clock_started: true,
        };
        assert_eq!(
            transition(
                S::SupplementRequested,
                A::Resubmit,
                Actor::Applicant,
                None,
                during
            ),
            Ok(S::InProcessing)
        );
    }

    #[test]
    fn the_pwa_offers_only_what_can_succeed() {
        assert_eq!(
            available_actions(S::Submitted, Actor::Applicant, NONE),
            vec![A::Withdraw]
        );
        assert_eq!(
            available_actions(S::Submitted, Actor::Officer, NONE),
            vec![A::Receive, A::RequestSupplement, A::Reject]
        );
        assert!(available_actions(S::ResultIssued, Actor::Officer, NONE).is_empty());
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in S::ALL {
            assert_eq!(S::parse(status.as_str()), Some(status));
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn step() -> impl Strategy<Value = (DossierAction, bool, bool)> {
        (
            proptest::sample::select(DossierAction::ALL.to_vec()),
            any::<bool>(),
            any::<bool>(),
        )
    }

    proptest! {
        // Illegal paths can be several specific steps long: search widely (it is fast).
        #![proptest_config(ProptestConfig::with_cases(5000))]

        /// Whatever anyone tries, in any order, the history stays lawful.
        #[test]
        fn no_sequence_of_actions_reaches_an_illegal_state(steps in proptest::collection::vec(step(), 0..40)) {
            let mut status = DossierStatus::Submitted;
            let (mut received, mut processed, mut approved) = (false, false, false);
            let mut clock_started = false;
            for (action, right_actor, with_reason) in steps {
                let actor = if right_actor { action.actor() } else {
                    match action.actor() { Actor::Applicant => Actor::Officer, Actor::Officer => Actor::Applicant }
                };
                let reason = with_reason.then_some("Bổ sung giấy khám sức khỏe");
                let before = status;
                match transition(status, action, actor, reason, Context { clock_started }) {
                    Ok(next) => {
                        prop_assert!(!before.is_final(), "left a final status {:?}", before);
                        prop_assert_eq!(actor, action.actor());
                        prop_assert!(!action.needs_reason() || reason.is_some());
                        status = next;
                    }
                    Err(_) => prop_assert_eq!(status, before, "a refused action changed nothing"),
                }
                match status {
                    DossierStatus::Received => { received = true; clock_started = true; }
                    DossierStatus::InProcessing => processed = true,
                    DossierStatus::Approved => approved = true,
                    _ => {}
                }
                prop_assert!(!processed || received, "processing without receipt");
                prop_assert!(!approved || processed, "approved without processing");
                prop_assert!(status != DossierStatus::ResultIssued || approved, "a result without approval");
                prop_assert!(status != DossierStatus::Withdrawn || !processed, "withdrawn after processing began");
            }
        }
    }
}
