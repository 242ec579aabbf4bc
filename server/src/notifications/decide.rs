//! The notifications' decisions, pure: when quiet hours end, how urgent a notice is, its push
//! topic and lifetime, what a push service's answer means, which push services this server
//! will post to, and which reminders are due.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use motcua_shared::calendar::{Calendar, Day};
use sha2::{Digest, Sha256};

/// Vietnam's offset from UTC (no daylight saving).
const VIETNAM_OFFSET_MS: i64 = 7 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// The minute of the day in Vietnam at `unix_ms`.
pub fn vietnam_minute(unix_ms: i64) -> i64 {
    (unix_ms + VIETNAM_OFFSET_MS).rem_euclid(DAY_MS) / 60_000
}

/// When the quiet hours `from`–`to` (minutes after midnight, Vietnam time; they may span
/// midnight) that hold at `now` end, or `None` when `now` is outside them. Equal bounds: none.
pub fn quiet_until(now: i64, from: i64, to: i64) -> Option<i64> {
    if from == to {
        return None;
    }
    let minute = vietnam_minute(now);
    let inside = if from < to {
        (from..to).contains(&minute)
    } else {
        minute >= from || minute < to
    };
    if !inside {
        return None;
    }
    let wait_minutes = (to - minute).rem_euclid(24 * 60);
    // The start of the current minute, plus the minutes to wait.
    Some(now - now.rem_euclid(60_000) + wait_minutes * 60_000)
}

/// A push's urgency (RFC 8030 §5.3). High ones are sent in quiet hours too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Normal,
    High,
}

/// How urgent a notice of `template` is: something the person must act on soon, or a change to
/// their account's security, is high; the rest is normal and waits out quiet hours.
pub fn urgency(template: &str) -> Urgency {
    match template {
        "supplement_requested"
        | "payment_failed"
        | "passkey_removed"
        | "credential_revoked"
        | "credential_suspended"
        | "reminder_land_due1"
        | "reminder_land_overdue"
        | "receipt_overdue"
        | "overdue_lead" => Urgency::High,
        _ => Urgency::Normal,
    }
}

/// How long a push service keeps an undelivered push (the `TTL` header, seconds): a status is
/// worth showing for 4 days, a reminder for one (the next one or the inbox takes over).
pub fn ttl_secs(kind: &str) -> u32 {
    match kind {
        "reminder" => 24 * 3600,
        _ => 4 * 24 * 3600,
    }
}

/// The `Topic` header for what a notice is about (`dossier:<id>`, …): at most 32 characters of
/// the URL-safe base64 alphabet (RFC 8030 §5.4), so a newer push about the same dossier replaces
/// an older one not yet shown.
pub fn push_topic(subject: &str) -> String {
    let digest = Sha256::digest(subject.as_bytes());
    URL_SAFE_NO_PAD.encode(digest)[..32].to_owned()
}

/// What a push service's answer to a push means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// 2xx: taken.
    Sent,
    /// 404 or 410: the subscription is gone; remove it.
    Gone,
    /// 429 or 5xx: try again, not before `retry_after_ms` when the service said.
    Retry { retry_after_ms: Option<i64> },
    /// Any other answer: this push will never be taken (too large, malformed, unauthorised).
    Refused,
}

/// Reads a push service's status and `Retry-After` (seconds, or an HTTP date) at `now`.
pub fn push_outcome(status: u16, retry_after: Option<&str>, now: i64) -> PushOutcome {
    match status {
        200..=299 => PushOutcome::Sent,
        404 | 410 => PushOutcome::Gone,
        429 | 500..=599 => PushOutcome::Retry {
            retry_after_ms: retry_after.and_then(|v| retry_after_ms(v, now)),
        },
        _ => PushOutcome::Refused,
    }
}

/// A `Retry-After` value as milliseconds from `now` (capped at a day).
pub fn retry_after_ms(value: &str, now: i64) -> Option<i64> {
    let value = value.trim();
    let wait = if let Ok(secs) = value.parse::<i64>() {
        secs.checked_mul(1000)?
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        let at = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis();
        i64::try_from(at).ok()? - now
    };
    Some(wait.clamp(0, DAY_MS))
}

/// The push services this server posts to (`MOTCUA_PUSH_SERVICES`): host names, `*.`-prefixed
/// domains, reached over https only; or whole `http(s)://host:port` origins (a local emulator).
/// A subscription naming any other endpoint is refused, so the server never posts to an address
/// a client chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushServices {
    hosts: Vec<String>,
    origins: Vec<String>,
}

impl PushServices {
    pub fn parse(list: &str) -> PushServices {
        let mut services = PushServices {
            hosts: Vec::new(),
            origins: Vec::new(),
        };
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry.contains("://") {
                services
                    .origins
                    .push(entry.trim_end_matches('/').to_ascii_lowercase());
            } else {
                services.hosts.push(entry.to_ascii_lowercase());
            }
        }
        services
    }

    /// Whether `endpoint` is a URL of one of these push services.
    pub fn allows(&self, endpoint: &str) -> bool {
        let Ok(url) = url::Url::parse(endpoint) else {
            return false;
        };
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return false;
        };
        if !url.username().is_empty() || url.password().is_some() {
            return false;
        }
        let origin = url.origin().ascii_serialization();
        if self.origins.contains(&origin) {
            return true;
        }
        url.scheme() == "https"
            && self
                .hosts
                .iter()
                .any(|allowed| match allowed.strip_prefix("*.") {
                    Some(domain) => host.ends_with(&format!(".{domain}")),
                    None => host == *allowed,
                })
    }
}

/// The push services of the browsers people use: Chrome, Edge, Cốc Cốc and Android (FCM),
/// Firefox (Mozilla autopush), Safari and iPhones (Apple), Windows (WNS).
pub const KNOWN_PUSH_SERVICES: &str = "fcm.googleapis.com,updates.push.services.mozilla.com,\
*.push.apple.com,*.notify.windows.com";

/// The stage of a land obligation's instalment due on `due`, seen on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LandStage {
    /// Due within 7 days (more than one away).
    Due7,
    /// Due tomorrow or today.
    Due1,
    Overdue,
}

impl LandStage {
    pub fn as_str(self) -> &'static str {
        match self {
            LandStage::Due7 => "due7",
            LandStage::Due1 => "due1",
            LandStage::Overdue => "overdue",
        }
    }
}

/// Which reminder an unpaid instalment due on `due` calls for on `today`, if any. Each stage
/// is sent once; one first seen late gets only the later stage.
pub fn land_stage(due: Day, today: Day) -> Option<LandStage> {
    let days = due.0 - today.0;
    match days {
        d if d < 0 => Some(LandStage::Overdue),
        0 | 1 => Some(LandStage::Due1),
        2..=7 => Some(LandStage::Due7),
        _ => None,
    }
}

/// Whether a supplement asked for at `requested_at` is still unanswered past 3 working days at
/// `now`.
pub fn supplement_unanswered(calendar: &Calendar, requested_at: i64, now: i64) -> bool {
    now >= calendar.deadline(requested_at, 3)
}

/// Whether a credential valid until `valid_until` should be renewed now, on `today`: it
/// expires within 30 days and has not yet.
pub fn expiring_soon(valid_until: Day, today: Day) -> bool {
    (0..=30).contains(&(valid_until.0 - today.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-30 at `hh:mm` in Vietnam, as Unix ms.
    fn vn(hh: i64, mm: i64) -> i64 {
        let midnight_vn = Day::from_ymd(2026, 11, 30).expect("day").0 * DAY_MS - VIETNAM_OFFSET_MS;
        midnight_vn + (hh * 60 + mm) * 60_000
    }

    #[test]
    fn quiet_hours_across_midnight_end_at_their_end_in_vietnam_time() {
        let (from, to) = (22 * 60, 7 * 60);
        assert_eq!(quiet_until(vn(21, 59), from, to), None);
        assert_eq!(quiet_until(vn(22, 0), from, to), Some(vn(31, 0)));
        assert_eq!(quiet_until(vn(23, 30) + 12_345, from, to), Some(vn(31, 0)));
        assert_eq!(quiet_until(vn(6, 59), from, to), Some(vn(7, 0)));
        assert_eq!(quiet_until(vn(7, 0), from, to), None);
        // Within one day, and none at all.
        assert_eq!(quiet_until(vn(13, 0), 12 * 60, 14 * 60), Some(vn(14, 0)));
        assert_eq!(quiet_until(vn(15, 0), 12 * 60, 14 * 60), None);
        assert_eq!(quiet_until(vn(23, 0), 600, 600), None);
    }

    #[test]
    fn what_a_person_must_act_on_is_urgent_and_news_is_not() {
        assert_eq!(urgency("supplement_requested"), Urgency::High);
        assert_eq!(urgency("passkey_removed"), Urgency::High);
        assert_eq!(urgency("approved"), Urgency::Normal);
        assert_eq!(urgency("reminder_land_due7"), Urgency::Normal);
        assert_eq!(ttl_secs("reminder"), 86_400);
        assert_eq!(ttl_secs("status"), 345_600);
    }

    #[test]
    fn a_topic_is_32_url_safe_characters_stable_per_subject() {
        let topic = push_topic("dossier:7f3c");
        assert_eq!(topic.len(), 32);
        assert!(
            topic
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(topic, push_topic("dossier:7f3c"));
        assert_ne!(topic, push_topic("dossier:7f3d"));
    }

    #[test]
    fn push_service_answers_mean_sent_gone_retry_or_refused() {
        let now = 1_800_000_000_000;
        assert_eq!(push_outcome(201, None, now), PushOutcome::Sent);
        assert_eq!(push_outcome(410, None, now), PushOutcome::Gone);
        assert_eq!(push_outcome(404, None, now), PushOutcome::Gone);
        assert_eq!(
            push_outcome(429, Some("120"), now),
            PushOutcome::Retry {
                retry_after_ms: Some(120_000)
            }
        );
        assert_eq!(
            push_outcome(503, None, now),
            PushOutcome::Retry {
                retry_after_ms: None
            }
        );
        assert_eq!(push_outcome(413, None, now), PushOutcome::Refused);
        assert_eq!(push_outcome(400, Some("5"), now), PushOutcome::Refused);
        // An HTTP date, and nonsense.
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_800_000_060_000);
        let date = httpdate::fmt_http_date(at);
        assert_eq!(retry_after_ms(&date, now), Some(60_000));
        assert_eq!(retry_after_ms("soon", now), None);
        assert_eq!(retry_after_ms("999999999", now), Some(DAY_MS));
    }

    #[test]
    fn only_the_configured_push_services_are_posted_to() {
        let services =
            PushServices::parse(&format!("{KNOWN_PUSH_SERVICES}, http://127.0.0.1:8090"));
        assert!(services.allows("https://fcm.googleapis.com/fcm/send/abc"));
        assert!(services.allows("https://web.push.apple.com/QGx"));
        assert!(services.allows("https://db5p.notify.windows.com/w/?token=x"));
        assert!(services.allows("http://127.0.0.1:8090/notify/abc"));
        for refused in [
            "http://fcm.googleapis.com/fcm/send/abc",
            "https://fcm.googleapis.com.evil.example/x",
            "https://push.apple.com.evil.example/x",
            "https://169.254.169.254/latest/meta-data",
            "http://127.0.0.1:5432/",
            "https://user:pw@fcm.googleapis.com/x",
            "not a url",
        ] {
            assert!(!services.allows(refused), "{refused}");
        }
    }

    #[test]
    fn land_reminders_come_a_week_before_a_day_before_and_after_the_due_date() {
        let due = Day::from_ymd(2026, 12, 15).expect("day");
        let on = |d: u32| Day::from_ymd(2026, 12, d).expect("day");
        assert_eq!(land_stage(due, on(7)), None);
        assert_eq!(land_stage(due, on(8)), Some(LandStage::Due7));
        assert_eq!(land_stage(due, on(13)), Some(LandStage::Due7));
        assert_eq!(land_stage(due, on(14)), Some(LandStage::Due1));
        assert_eq!(land_stage(due, on(15)), Some(LandStage::Due1));
        assert_eq!(land_stage(due, on(16)), Some(LandStage::Overdue));
    }

    #[test]
    fn a_supplement_is_unanswered_after_three_working_days_and_a_licence_expiring_within_30() {
        let calendar = Calendar::vietnam().expect("calendar");
        // Asked on Monday 2026-11-30 at 09:00: three working days run to Thursday.
        let asked = vn(9, 0);
        assert!(!supplement_unanswered(&calendar, asked, asked + 2 * DAY_MS));
        assert!(supplement_unanswered(&calendar, asked, asked + 4 * DAY_MS));
        let today = Day::from_ymd(2026, 11, 30).expect("day");
        let until = |y, m, d| Day::from_ymd(y, m, d).expect("day");
        assert!(expiring_soon(until(2026, 12, 30), today));
        assert!(expiring_soon(until(2026, 11, 30), today));
        assert!(!expiring_soon(until(2026, 12, 31), today));
        assert!(!expiring_soon(until(2026, 11, 29), today));
    }
}
