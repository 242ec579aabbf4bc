//! Times are stored as UTC Unix milliseconds and shown in Vietnam's time (UTC+7, no daylight
//! saving), written the Vietnamese way: `14/03/1988`, `23/11/2026 14:05`.

/// Vietnam's offset from UTC, in milliseconds.
pub(crate) const VIETNAM_OFFSET_MS: i64 = 7 * 3_600_000;

/// (year, month, day) of a day counted from 1970-01-01 (H. Hinnant's civil-from-days).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days from 1970-01-01 of a civil date (the inverse of [`civil_from_days`]).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `dd/mm/yyyy HH:MM` in Vietnam's time.
pub fn format_vn_datetime(unix_ms: i64) -> String {
    let local = unix_ms + VIETNAM_OFFSET_MS;
    let days = local.div_euclid(86_400_000);
    let minute_of_day = local.rem_euclid(86_400_000) / 60_000;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{d:02}/{m:02}/{y} {:02}:{:02}",
        minute_of_day / 60,
        minute_of_day % 60
    )
}

/// An ISO date `YYYY-MM-DD` written `dd/mm/yyyy`; anything else is returned as it is.
pub fn format_vn_date(iso: &str) -> String {
    let parts: Vec<&str> = iso.split('-').collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => format!("{d}/{m}/{y}"),
        _ => iso.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_instants_are_shown_in_vietnam_time() {
        assert_eq!(format_vn_datetime(0), "01/01/1970 07:00");
        // 2026-11-23T17:30:00Z is half past midnight the next day in Hà Nội.
        assert_eq!(format_vn_datetime(1_795_455_000_000), "24/11/2026 00:30");
        // A leap day.
        assert_eq!(format_vn_datetime(1_709_208_000_000), "29/02/2024 19:00");
    }

    #[test]
    fn iso_dates_are_written_day_first() {
        assert_eq!(format_vn_date("1988-03-14"), "14/03/1988");
        assert_eq!(format_vn_date("not a date"), "not a date");
    }
}
