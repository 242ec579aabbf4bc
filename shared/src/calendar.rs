//! Working days and legal deadlines of Vietnam's public administration.
//!
//! A procedure's time limit is counted in working days (Monday to Friday, less public holidays,
//! plus make-up Saturdays), from `shared/data/holidays-vn.txt`. A dossier received on a working
//! day before 15:00 counts from that day; later, or on a day off, from the next working day. The
//! deadline is 17:00 of the N-th working day after that day (the same day for N = 0). While a
//! supplement is requested the clock stops: [`Calendar::working_days_left`] at the pause, then
//! [`Calendar::deadline`] from the resubmission with what was left.

use std::collections::BTreeMap;

use crate::time::{VIETNAM_OFFSET_MS, civil_from_days, days_from_civil};

const DAY_MS: i64 = 86_400_000;
/// Received after this minute of a working day: counts from the next working day.
const CUTOFF_MINUTE: i64 = 15 * 60;
/// The working day ends at 17:00: a deadline is that moment of its last day.
const CLOSING_MINUTE: i64 = 17 * 60;
/// No procedure's time limit comes near ten years of working days; longer asks are cut there.
const MAX_WORKING_DAYS: u32 = 2_500;

/// A calendar day in Vietnam (days since 1970-01-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Day> {
        let candidate = Day(days_from_civil(year, month, day));
        (candidate.ymd() == (year, month, day)).then_some(candidate)
    }

    /// The Vietnamese calendar day of an instant (Unix milliseconds).
    pub fn of_instant(unix_ms: i64) -> Day {
        Day((unix_ms + VIETNAM_OFFSET_MS).div_euclid(DAY_MS))
    }

    pub fn ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.0)
    }

    /// 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
    pub fn weekday(self) -> i64 {
        (self.0 + 3).rem_euclid(7)
    }

    /// The instant (Unix milliseconds) of `minute` past midnight of this day, Vietnam time.
    pub fn at_minute(self, minute: i64) -> i64 {
        self.0 * DAY_MS + minute * 60_000 - VIETNAM_OFFSET_MS
    }

    /// The first instant (Unix milliseconds) of this day, Vietnam time.
    pub fn start_ms(self) -> i64 {
        self.at_minute(0)
    }

    /// `YYYY-MM-DD`.
    pub fn parse_iso(text: &str) -> Option<Day> {
        let mut parts = text.splitn(3, '-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        Day::from_ymd(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    }

    /// `YYYY-MM-DD`.
    pub fn iso(self) -> String {
        let (y, m, d) = self.ymd();
        format!("{y:04}-{m:02}-{d:02}")
    }

    fn next(self) -> Day {
        Day(self.0 + 1)
    }
}

/// Why a calendar file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("calendar line {line}: {reason}")]
pub struct CalendarError {
    pub line: usize,
    pub reason: String,
}

/// Which days are working days.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    /// Days that differ from the weekly rule: `true` a make-up working day, `false` a day off.
    exceptions: BTreeMap<Day, bool>,
}

impl Calendar {
    /// Vietnam's calendar as built in.
    pub fn vietnam() -> Result<Calendar, CalendarError> {
        Calendar::parse(include_str!("../data/holidays-vn.txt"))
    }

    /// [`Calendar::vietnam`], read once per process and shared (every deadline and clock uses it).
    pub fn vietnam_shared() -> Result<&'static Calendar, CalendarError> {
        static CALENDAR: std::sync::OnceLock<Result<Calendar, CalendarError>> =
            std::sync::OnceLock::new();
        CALENDAR
            .get_or_init(Calendar::vietnam)
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Reads `DATE off|work NAME` lines; `#` starts a comment.
    pub fn parse(text: &str) -> Result<Calendar, CalendarError> {
        let mut exceptions = BTreeMap::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fail = |reason: &str| CalendarError {
                line: index + 1,
                reason: reason.to_owned(),
            };
            let mut parts = line.split_whitespace();
            let date = parts.next().ok_or_else(|| fail("missing date"))?;
            let kind = parts.next().ok_or_else(|| fail("missing off|work"))?;
            let numbers: Vec<&str> = date.split('-').collect();
            let day = match numbers.as_slice() {
                [y, m, d] => match (y.parse(), m.parse(), d.parse()) {
                    (Ok(y), Ok(m), Ok(d)) => Day::from_ymd(y, m, d),
                    _ => None,
                },
                _ => None,
            }
            .ok_or_else(|| fail("the date is not YYYY-MM-DD"))?;
            let working = match kind {
                "off" => false,
                "work" => true,
                _ => return Err(fail("the kind must be off or work")),
            };
            if exceptions.insert(day, working).is_some() {
                return Err(fail("the date is listed twice"));
            }
        }
        Ok(Calendar { exceptions })
    }

    pub fn is_working_day(&self, day: Day) -> bool {
        self.exceptions
            .get(&day)
            .copied()
            .unwrap_or(day.weekday() < 5)
    }

    /// The first working day strictly after `day`.
    pub fn next_working_day(&self, day: Day) -> Day {
        let mut d = day.next();
        while !self.is_working_day(d) {
            d = d.next();
        }
        d
    }

    /// The day from which a dossier received at `unix_ms` counts.
    pub fn counting_day(&self, unix_ms: i64) -> Day {
        let day = Day::of_instant(unix_ms);
        let minute = (unix_ms + VIETNAM_OFFSET_MS).rem_euclid(DAY_MS) / 60_000;
        if self.is_working_day(day) && minute < CUTOFF_MINUTE {
            day
        } else {
            self.next_working_day(day)
        }
    }

    /// The legal deadline (Unix milliseconds) of a dossier received at `unix_ms` with a time
    /// limit of `working_days`.
    pub fn deadline(&self, unix_ms: i64, working_days: u32) -> i64 {
        let mut day = self.counting_day(unix_ms);
        for _ in 0..working_days.min(MAX_WORKING_DAYS) {
            day = self.next_working_day(day);
        }
        day.at_minute(CLOSING_MINUTE)
    }

    /// Working days strictly after `from` up to and including `to` (0 when `to` is not later).
    pub fn working_days_between(&self, from: Day, to: Day) -> u32 {
        let mut count = 0;
        let mut day = from;
        while day < to && count < MAX_WORKING_DAYS {
            day = day.next();
            if self.is_working_day(day) {
                count += 1;
            }
        }
        count
    }

    /// The instant `hours` office hours after `unix_ms`. Office hours are 08:00–12:00 and
    /// 13:00–17:00 of working days (8 a day), so 8 hours from Friday 10:00 is Monday 10:00, and a
    /// dossier filed at night starts counting when the office opens. For the receipt clock.
    pub fn add_office_hours(&self, unix_ms: i64, hours: u32) -> i64 {
        const SPANS: [(i64, i64); 2] = [(8 * 60, 12 * 60), (13 * 60, CLOSING_MINUTE)];
        let mut left = i64::from(hours.min(MAX_WORKING_DAYS * 8)) * 60;
        let mut day = Day::of_instant(unix_ms);
        let mut minute = (unix_ms + VIETNAM_OFFSET_MS).rem_euclid(DAY_MS) / 60_000;
        loop {
            if self.is_working_day(day) {
                for (open, close) in SPANS {
                    let start = minute.max(open);
                    if start >= close {
                        continue;
                    }
                    if start + left <= close {
                        return day.at_minute(start + left);
                    }
                    left -= close - start;
                    minute = close;
                }
            }
            day = self.next_working_day(day);
            minute = 0;
        }
    }

    /// The whole working days still allowed when the clock stops at `paused_ms` (a supplement is
    /// requested) before `deadline_ms`.
    pub fn working_days_left(&self, deadline_ms: i64, paused_ms: i64) -> u32 {
        self.working_days_between(self.counting_day(paused_ms), Day::of_instant(deadline_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vn() -> Calendar {
        Calendar::vietnam().expect("the built-in calendar reads")
    }

    /// An instant given in Vietnam time.
    fn at(y: i64, m: u32, d: u32, hour: i64, minute: i64) -> i64 {
        Day::from_ymd(y, m, d)
            .expect("a date")
            .at_minute(hour * 60 + minute)
    }

    #[test]
    fn eight_office_hours_run_over_lunch_nights_weekends_and_holidays() {
        let vn = vn();
        // Monday 10:00 → Tuesday 10:00; Monday 14:30 → Tuesday 14:30.
        assert_eq!(
            vn.add_office_hours(at(2026, 11, 23, 10, 0), 8),
            at(2026, 11, 24, 10, 0)
        );
        assert_eq!(
            vn.add_office_hours(at(2026, 11, 23, 14, 30), 8),
            at(2026, 11, 24, 14, 30)
        );
        // Filed Friday at 21:00: counts from Monday 08:00, due Monday 17:00.
        assert_eq!(
            vn.add_office_hours(at(2026, 11, 27, 21, 0), 8),
            at(2026, 11, 30, 17, 0)
        );
        // Filed during lunch: counts from 13:00.
        assert_eq!(
            vn.add_office_hours(at(2026, 11, 23, 12, 20), 2),
            at(2026, 11, 23, 15, 0)
        );
        // Tết 2026 (16–20 February, Monday–Friday): Friday 13 February 16:00 → Monday 23 February 16:00.
        assert_eq!(
            vn.add_office_hours(at(2026, 2, 13, 16, 0), 8),
            at(2026, 2, 23, 16, 0)
        );
    }

    #[test]
    fn weekdays_are_right() {
        assert_eq!(
            Day::from_ymd(2026, 11, 23).map(Day::weekday),
            Some(0),
            "a Monday"
        );
        assert_eq!(
            Day::from_ymd(2026, 2, 17).map(Day::weekday),
            Some(1),
            "Tết 2026 is a Tuesday"
        );
        assert_eq!(Day::from_ymd(2026, 2, 30), None);
    }

    #[test]
    fn five_working_days_from_a_friday_morning_end_next_friday_at_five() {
        assert_eq!(
            vn().deadline(at(2026, 11, 20, 10, 0), 5),
            at(2026, 11, 27, 17, 0)
        );
    }

    #[test]
    fn a_dossier_received_after_three_counts_from_the_next_working_day() {
        assert_eq!(
            vn().deadline(at(2026, 11, 20, 16, 0), 1),
            at(2026, 11, 24, 17, 0)
        );
        assert_eq!(
            vn().deadline(at(2026, 11, 21, 9, 0), 0),
            at(2026, 11, 23, 17, 0),
            "a Saturday"
        );
    }

    #[test]
    fn a_same_day_procedure_ends_at_five_the_same_day() {
        assert_eq!(
            vn().deadline(at(2026, 11, 23, 9, 0), 0),
            at(2026, 11, 23, 17, 0)
        );
    }

    #[test]
    fn the_lunar_new_year_does_not_count() {
        // Friday before Tết 2026: Feb 16-20 are off, then the weekend.
        assert_eq!(
            vn().deadline(at(2026, 2, 13, 9, 0), 5),
            at(2026, 2, 27, 17, 0)
        );
    }

    #[test]
    fn a_holiday_on_a_sunday_gives_a_monday_off() {
        // Hùng Kings' day 2026 falls on Sunday 26/4: Monday 27/4 is off, then 30/4 and 1/5.
        // From Friday 24/4 the working days are Tuesday 28, Wednesday 29, then Monday 4/5.
        assert_eq!(
            vn().deadline(at(2026, 4, 24, 9, 0), 3),
            at(2026, 5, 4, 17, 0)
        );
    }

    #[test]
    fn a_make_up_saturday_is_a_working_day() {
        let saturday = Day::from_ymd(2025, 4, 26).expect("a date");
        assert!(vn().is_working_day(saturday));
        assert!(!vn().is_working_day(Day::from_ymd(2025, 5, 2).expect("a date")));
    }

    #[test]
    fn a_supplement_request_stops_the_clock_until_resubmission() {
        let cal = vn();
        let deadline = cal.deadline(at(2026, 11, 23, 9, 0), 10);
        assert_eq!(deadline, at(2026, 12, 7, 17, 0));
        let left = cal.working_days_left(deadline, at(2026, 11, 26, 10, 0));
        assert_eq!(left, 7);
        assert_eq!(
            cal.deadline(at(2026, 12, 14, 9, 0), left),
            at(2026, 12, 23, 17, 0)
        );
    }

    #[test]
    fn malformed_calendar_lines_are_refused_with_their_line() {
        let err = Calendar::parse("# x\n2026-02-30 off nope\n").expect_err("refused");
        assert_eq!(err.line, 2);
        assert!(Calendar::parse("2026-01-01 holiday x").is_err());
        assert!(Calendar::parse("2026-01-01 off a\n2026-01-01 off b").is_err());
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Instants from 2025 to the end of 2027, the years the built-in calendar covers.
    fn instant() -> impl Strategy<Value = i64> {
        let start = Day::from_ymd(2025, 1, 1).map_or(0, |d| d.at_minute(0));
        let end = Day::from_ymd(2027, 12, 1).map_or(0, |d| d.at_minute(0));
        start..end
    }

    proptest! {
        #[test]
        fn a_deadline_is_five_pm_of_a_working_day(received in instant(), days in 0u32..60) {
            let cal = Calendar::vietnam().expect("reads");
            let deadline = cal.deadline(received, days);
            let day = Day::of_instant(deadline);
            prop_assert!(cal.is_working_day(day));
            prop_assert_eq!(deadline, day.at_minute(17 * 60));
            prop_assert!(deadline > received);
        }

        #[test]
        fn exactly_the_time_limit_in_working_days_is_given(received in instant(), days in 0u32..60) {
            let cal = Calendar::vietnam().expect("reads");
            let deadline = cal.deadline(received, days);
            prop_assert_eq!(cal.working_days_between(cal.counting_day(received), Day::of_instant(deadline)), days);
        }

        #[test]
        fn later_receipt_or_longer_limits_never_give_an_earlier_deadline(
            received in instant(), later in 0i64..(30 * 86_400_000), days in 0u32..60
        ) {
            let cal = Calendar::vietnam().expect("reads");
            prop_assert!(cal.deadline(received + later, days) >= cal.deadline(received, days));
            prop_assert!(cal.deadline(received, days + 1) > cal.deadline(received, days));
        }

        #[test]
        fn a_pause_resumed_at_once_changes_nothing(received in instant(), days in 1u32..60, after in 0u32..60) {
            let cal = Calendar::vietnam().expect("reads");
            let deadline = cal.deadline(received, days);
            // Pause and resume at 09:00 of a working day before the deadline.
            let mut day = cal.counting_day(received);
            for _ in 0..after.min(days.saturating_sub(1)) {
                day = cal.next_working_day(day);
            }
            let moment = day.at_minute(9 * 60);
            let left = cal.working_days_left(deadline, moment);
            prop_assert_eq!(cal.deadline(moment, left), deadline);
        }
    }
}
