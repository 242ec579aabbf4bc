//! The index's rollup: the dossiers counted by class and by month (migration 0018), so that a
//! year's index reads a few thousand rows. What a class row says about a period is decided here
//! (pure); a period whose edge falls inside a month leaves the dossiers of that month, and those
//! whose last change the national portal has not acknowledged yet, to be read one by one.
//!
//! The worker folds the changes the database's triggers append into the rollup every interval.

use motcua_shared::calendar::{Calendar, Day};

use crate::store::Store;

/// The month of a class row that never came (not finished, never late).
pub const NEVER: i64 = 999_999;

/// The number of the month holding `day`: year * 12 + month - 1 (as the rollup's columns).
pub fn month_of(day: Day) -> i64 {
    let (year, month, _) = day.ymd();
    year * 12 + i64::from(month) - 1
}

/// The first day of month number `month`.
fn first_day(month: i64) -> Day {
    let month_index = u32::try_from(month.rem_euclid(12)).unwrap_or(0);
    Day::from_ymd(month.div_euclid(12), month_index + 1, 1).unwrap_or(Day(0))
}

/// A dossier's processing time in working days: from the day counting starts (its reception,
/// or its filing; after 15:00 or on a day off, the next working day) to the day of the decision.
pub fn working_days(calendar: &Calendar, start: i64, finish: i64) -> u32 {
    calendar.working_days_between(calendar.counting_day(start), Day::of_instant(finish))
}

/// A period `[from, to)` of whole days as the rollup reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthSpan {
    /// The month holding the period's first day.
    first: i64,
    /// The month holding the day after the period.
    end: i64,
    from_aligned: bool,
    to_aligned: bool,
}

/// What a class row (its months filed, finished and late) is in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    /// Not active in the period.
    Outside,
    /// Its months do not tell: read its dossiers one by one.
    Unsure,
    /// Active, with what holds of it in the period.
    In {
        filed: bool,
        finished: bool,
        late: bool,
        /// Decided within the period.
        decided: bool,
    },
}

impl MonthSpan {
    /// The period from day `first` up to (not including) day `end`.
    pub fn of(first: Day, end: Day) -> MonthSpan {
        let aligned = |d: Day| d.ymd().2 == 1;
        MonthSpan {
            first: month_of(first),
            end: month_of(end),
            from_aligned: aligned(first),
            to_aligned: aligned(end),
        }
    }

    /// The months whose class rows may be active: from the first month to the end's.
    pub fn months(&self) -> (i64, i64) {
        (self.first, self.end)
    }

    /// The instants `[start, end)` of the months read one by one: the first month's when the
    /// period starts inside it, the end's when it ends inside it (an empty range otherwise).
    pub fn unsure_ranges(&self) -> [(i64, i64); 2] {
        let month = |m: i64, partial: bool| {
            if partial {
                (first_day(m).start_ms(), first_day(m + 1).start_ms())
            } else {
                (0, 0)
            }
        };
        [
            month(self.first, !self.from_aligned),
            month(self.end, !self.to_aligned),
        ]
    }

    /// What a class row filed in month `filed`, finished in `finished` and late from `late`
    /// ([`NEVER`] for not yet) is in the period; `sync_pending` when the national portal has
    /// not acknowledged its last change (whether that is still in time depends on the hour).
    pub fn place(&self, filed: i64, finished: i64, late: i64, sync_pending: bool) -> Placed {
        let at_start = !self.from_aligned && (filed == self.first || finished == self.first);
        let at_end =
            !self.to_aligned && (filed == self.end || finished == self.end || late == self.end);
        if sync_pending || at_start || at_end {
            return Placed::Unsure;
        }
        if filed >= self.end || finished < self.first {
            return Placed::Outside;
        }
        Placed::In {
            filed: filed >= self.first,
            finished: finished < self.end,
            late: late < self.end,
            decided: finished >= self.first && finished < self.end,
        }
    }
}

/// Folds the rollup's pending changes every `every` until stopped.
pub async fn run(
    store: Store,
    every: std::time::Duration,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    crate::workers::every("folding the index's rollup", every, stop, || async {
        store.fold_dossier_classes().await.map(drop)
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i64, m: u32, d: u32) -> Day {
        Day::from_ymd(y, m, d).expect("a date")
    }

    fn month(y: i64, m: u32) -> i64 {
        month_of(day(y, m, 1))
    }

    #[test]
    fn months_are_numbered_in_order_and_map_back_to_their_first_day() {
        assert_eq!(month(2026, 1), 2026 * 12);
        assert_eq!(month(2026, 12) + 1, month(2027, 1));
        assert_eq!(month_of(day(2026, 2, 28)), month(2026, 2));
        for m in month(2024, 1)..month(2028, 1) {
            assert_eq!(month_of(first_day(m)), m);
            assert_eq!(first_day(m).ymd().2, 1);
        }
    }

    #[test]
    fn a_calendar_year_is_read_from_the_rollup_alone() {
        let year = MonthSpan::of(day(2026, 1, 1), day(2027, 1, 1));
        assert_eq!(year.unsure_ranges(), [(0, 0), (0, 0)]);
        let (jan, dec, next) = (month(2026, 1), month(2026, 12), month(2027, 1));
        // Filed in December 2025, decided in January on time.
        assert_eq!(
            year.place(jan - 1, jan, NEVER, false),
            Placed::In {
                filed: false,
                finished: true,
                late: false,
                decided: true
            }
        );
        // Filed in December, still open, late from next January: not late within the year.
        assert_eq!(
            year.place(dec, NEVER, next, false),
            Placed::In {
                filed: true,
                finished: false,
                late: false,
                decided: false
            }
        );
        // Decided in the next year, late in December.
        assert_eq!(
            year.place(dec, next, dec, false),
            Placed::In {
                filed: true,
                finished: false,
                late: true,
                decided: false
            }
        );
        assert_eq!(year.place(next, NEVER, NEVER, false), Placed::Outside);
        assert_eq!(year.place(jan - 2, jan - 1, NEVER, false), Placed::Outside);
        // Whether its last change is still in time depends on the hour.
        assert_eq!(year.place(dec, NEVER, NEVER, true), Placed::Unsure);
    }

    #[test]
    fn a_period_inside_months_reads_its_edge_months_one_by_one() {
        // 15 March to 14 April: both edges inside a month.
        let span = MonthSpan::of(day(2026, 3, 15), day(2026, 4, 15));
        let (mar, apr) = (month(2026, 3), month(2026, 4));
        assert_eq!(
            span.unsure_ranges(),
            [
                (day(2026, 3, 1).start_ms(), day(2026, 4, 1).start_ms()),
                (day(2026, 4, 1).start_ms(), day(2026, 5, 1).start_ms())
            ]
        );
        assert_eq!(span.place(mar, NEVER, NEVER, false), Placed::Unsure);
        assert_eq!(span.place(mar - 1, mar, NEVER, false), Placed::Unsure);
        assert_eq!(span.place(mar - 1, NEVER, apr, false), Placed::Unsure);
        // Filed before, open, late before March: active, late, read from the rollup.
        assert_eq!(
            span.place(mar - 2, NEVER, mar - 1, false),
            Placed::In {
                filed: false,
                finished: false,
                late: true,
                decided: false
            }
        );
        assert_eq!(span.place(mar - 2, mar - 1, NEVER, false), Placed::Outside);
        // A period starting on the first: only the end month is read one by one.
        let span = MonthSpan::of(day(2026, 3, 1), day(2026, 3, 20));
        assert_eq!(span.unsure_ranges()[0], (0, 0));
        assert_eq!(span.place(mar - 1, mar, NEVER, false), Placed::Unsure);
        assert_eq!(span.place(mar - 1, mar - 1, NEVER, false), Placed::Outside);
        assert_eq!(
            span.place(mar - 1, NEVER, NEVER, false),
            Placed::In {
                filed: false,
                finished: false,
                late: false,
                decided: false
            }
        );
    }

    #[test]
    fn processing_counts_working_days_from_the_counting_day() {
        let vn = Calendar::vietnam().expect("reads");
        // Monday 23 November 2026: at 10:00 it counts from that day, at 16:00 from Tuesday.
        let monday = day(2026, 11, 23);
        let friday = day(2026, 11, 27).at_minute(600);
        assert_eq!(working_days(&vn, monday.at_minute(600), friday), 4);
        assert_eq!(working_days(&vn, monday.at_minute(960), friday), 3);
    }
}
