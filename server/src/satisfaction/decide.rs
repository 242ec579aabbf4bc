//! Ratings and feedback, as pure decisions: who may rate and until when, what a rating and a
//! piece of feedback must hold, and when the desk's answer is due.

use motcua_shared::{
    ErrorCode,
    calendar::Calendar,
    dossier::DossierStatus,
    satisfaction_api::{
        FeedbackAbout, MAX_BODY, MAX_COMMENT, MAX_SUBJECT, NewFeedback, RatingInput,
    },
};

/// A rating may be given or changed for this long after the dossier ended.
pub const RATING_DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;
/// The desk answers feedback within this many working days.
pub const ANSWER_WORKING_DAYS: u32 = 10;
/// Feedback one person may send in 24 hours.
pub const FEEDBACK_PER_DAY: i64 = 10;

/// Until when the applicant may rate a dossier in `status` that ended at `finished_at`:
/// `Err(NotRateable)` while it has not ended (or was withdrawn), `Err(RatingClosed)` after the
/// window.
pub fn rating_open_until(
    status: DossierStatus,
    finished_at: Option<i64>,
    now: i64,
) -> Result<i64, ErrorCode> {
    let ended = matches!(
        status,
        DossierStatus::ResultIssued | DossierStatus::Rejected
    );
    let Some(finished) = finished_at.filter(|_| ended) else {
        return Err(ErrorCode::NotRateable);
    };
    let until = finished + RATING_DAYS * DAY_MS;
    if now > until {
        return Err(ErrorCode::RatingClosed);
    }
    Ok(until)
}

/// Text a person wrote, trimmed; `None` when it has control characters (other than line
/// breaks) or is longer than `max` characters.
pub fn clean_text(text: &str, max: usize) -> Option<String> {
    let trimmed = text.trim();
    let ok = trimmed.chars().count() <= max
        && !trimmed
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t');
    ok.then(|| trimmed.to_owned())
}

/// A rating as it will be kept: scores 1–5 and a clean comment (empty is none).
pub fn check_rating(input: &RatingInput) -> Result<RatingInput, ErrorCode> {
    let scores = [input.timeliness, input.clarity, input.attitude];
    if scores.iter().any(|s| !(1..=5).contains(s)) {
        return Err(ErrorCode::InvalidRating);
    }
    let comment = match &input.comment {
        Some(text) => Some(clean_text(text, MAX_COMMENT).ok_or(ErrorCode::InvalidRating)?),
        None => None,
    }
    .filter(|c| !c.is_empty());
    Ok(RatingInput {
        comment,
        ..input.clone()
    })
}

/// Feedback as it will be kept: a subject and a body, and what it is about named as its kind
/// asks (a procedure with a unit; or a dossier).
pub fn check_feedback(input: &NewFeedback) -> Result<NewFeedback, ErrorCode> {
    let subject = clean_text(&input.subject, MAX_SUBJECT).filter(|s| !s.is_empty());
    let body = clean_text(&input.body, MAX_BODY).filter(|s| !s.is_empty());
    let (Some(subject), Some(body)) = (subject, body) else {
        return Err(ErrorCode::InvalidFeedback);
    };
    let named = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    let consistent = match input.about {
        FeedbackAbout::Procedure => named(&input.procedure_code) && named(&input.unit_code),
        FeedbackAbout::Dossier | FeedbackAbout::Conduct => named(&input.dossier_id),
    };
    if !consistent {
        return Err(ErrorCode::InvalidFeedback);
    }
    Ok(NewFeedback {
        subject,
        body,
        ..input.clone()
    })
}

/// When the answer to feedback received at `received_at` is due.
pub fn answer_due(calendar: &Calendar, received_at: i64) -> i64 {
    calendar.deadline(received_at, ANSWER_WORKING_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_793_466_000_000;

    #[test]
    fn only_an_ended_dossier_is_rated_and_only_for_thirty_days() {
        use DossierStatus::*;
        assert_eq!(
            rating_open_until(InProcessing, None, NOW),
            Err(ErrorCode::NotRateable)
        );
        assert_eq!(
            rating_open_until(Withdrawn, Some(NOW), NOW),
            Err(ErrorCode::NotRateable)
        );
        assert_eq!(
            rating_open_until(ResultIssued, Some(NOW), NOW + DAY_MS),
            Ok(NOW + 30 * DAY_MS)
        );
        assert!(rating_open_until(Rejected, Some(NOW), NOW + 30 * DAY_MS).is_ok());
        assert_eq!(
            rating_open_until(Rejected, Some(NOW), NOW + 30 * DAY_MS + 1),
            Err(ErrorCode::RatingClosed)
        );
    }

    #[test]
    fn ratings_need_scores_of_one_to_five_and_a_clean_comment() {
        let rating = |t, comment: Option<&str>| RatingInput {
            satisfied: true,
            timeliness: t,
            clarity: 3,
            attitude: 5,
            comment: comment.map(str::to_owned),
        };
        assert!(check_rating(&rating(1, None)).is_ok());
        assert_eq!(
            check_rating(&rating(0, None)),
            Err(ErrorCode::InvalidRating)
        );
        assert_eq!(
            check_rating(&rating(6, None)),
            Err(ErrorCode::InvalidRating)
        );
        assert_eq!(
            check_rating(&rating(3, Some("  "))).map(|r| r.comment),
            Ok(None)
        );
        assert_eq!(
            check_rating(&rating(3, Some("ok\u{1b}[31m"))),
            Err(ErrorCode::InvalidRating)
        );
        let long = "á".repeat(MAX_COMMENT + 1);
        assert_eq!(
            check_rating(&rating(3, Some(&long))),
            Err(ErrorCode::InvalidRating)
        );
        assert!(check_rating(&rating(3, Some(&long[..long.len() - 2]))).is_ok());
    }

    #[test]
    fn feedback_names_what_it_is_about_and_says_something() {
        let feedback =
            |about, procedure: Option<&str>, unit: Option<&str>, dossier: Option<&str>| {
                NewFeedback {
                    about,
                    procedure_code: procedure.map(str::to_owned),
                    unit_code: unit.map(str::to_owned),
                    dossier_id: dossier.map(str::to_owned),
                    subject: " Chờ lâu ".into(),
                    body: "Tôi chờ 3 tuần.\nXin giải thích.".into(),
                }
            };
        let ok = check_feedback(&feedback(
            FeedbackAbout::Procedure,
            Some("1.1"),
            Some("01"),
            None,
        ))
        .expect("valid");
        assert_eq!(ok.subject, "Chờ lâu");
        assert!(check_feedback(&feedback(FeedbackAbout::Dossier, None, None, Some("d1"))).is_ok());
        for bad in [
            feedback(FeedbackAbout::Procedure, Some("1.1"), None, None),
            feedback(FeedbackAbout::Conduct, Some("1.1"), Some("01"), None),
            NewFeedback {
                subject: "   ".into(),
                ..feedback(FeedbackAbout::Dossier, None, None, Some("d1"))
            },
            NewFeedback {
                body: "x".repeat(MAX_BODY + 1),
                ..feedback(FeedbackAbout::Dossier, None, None, Some("d1"))
            },
        ] {
            assert_eq!(
                check_feedback(&bad),
                Err(ErrorCode::InvalidFeedback),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_answer_is_due_in_ten_working_days() {
        let calendar = Calendar::vietnam().expect("the calendar");
        // Monday 2 November 2026, 09:00: ten working days later is Monday 16 November, 17:00.
        let received = NOW + DAY_MS + 9 * 3_600_000;
        let due = answer_due(&calendar, received);
        assert_eq!(due, NOW + 15 * DAY_MS + 17 * 3_600_000);
    }
}
