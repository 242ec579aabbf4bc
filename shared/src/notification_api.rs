//! The notifications API: web push subscriptions of a person's devices, what they want pushed
//! and when, and the live events the open PWA follows.

use serde::{Deserialize, Serialize};

use crate::Lang;

/// The kinds of notice a person can choose to have pushed (every notice is in the inbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A dossier, payment or credential of yours changed.
    Status,
    /// An apology for a late result, with the new date.
    Apology,
    /// Something due: an obligation, a supplement to send, a credential to renew.
    Reminder,
    /// A change to your account (a passkey removed).
    Account,
    /// For a desk's lead: a dossier late at reception or in processing.
    Escalation,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 5] = [
        NoticeKind::Status,
        NoticeKind::Apology,
        NoticeKind::Reminder,
        NoticeKind::Account,
        NoticeKind::Escalation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Status => "status",
            NoticeKind::Apology => "apology",
            NoticeKind::Reminder => "reminder",
            NoticeKind::Account => "account",
            NoticeKind::Escalation => "escalation",
        }
    }

    pub fn parse(text: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// The body of `GET /api/v1/push/vapid-public-key`: the server's VAPID public key (RFC 8292), a
/// 65-byte uncompressed P-256 point in base64url, for `PushManager.subscribe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VapidPublicKey {
    pub key: String,
}

/// A subscription's keys, as `PushSubscription.toJSON()` gives them (base64url).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushKeys {
    pub p256dh: String,
    pub auth: String,
}

/// The body of `POST /api/v1/me/push/subscriptions`: this device's subscription, as
/// `PushSubscription.toJSON()` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewPushSubscription {
    pub endpoint: String,
    pub keys: PushKeys,
}

/// One of a person's devices that receive pushes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushDevice {
    pub id: String,
    /// The browser's user agent when it subscribed (the PWA names it: "Chrome · Android").
    pub device: String,
    /// The push service's endpoint, so a device can tell its own subscription.
    pub endpoint: String,
    pub created_at: i64,
    pub last_sent_at: Option<i64>,
    /// Failed pushes since the last one that was taken.
    pub failures: i64,
}

/// The body of `GET /api/v1/me/push/subscriptions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushDevices {
    pub devices: Vec<PushDevice>,
}

/// What a person wants pushed and when: `GET` and `PUT /api/v1/me/notification-settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationSettings {
    /// The language pushes are written in.
    pub lang: Lang,
    /// The kinds of notice that also go to push (all are in the inbox).
    pub push_kinds: Vec<NoticeKind>,
    /// Quiet hours, Vietnam time, `HH:MM`: only urgent pushes are sent from `quiet_from` to
    /// `quiet_to`; the others wait until it ends. Equal times: no quiet hours.
    pub quiet_from: String,
    pub quiet_to: String,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            lang: Lang::Vi,
            push_kinds: NoticeKind::ALL.to_vec(),
            quiet_from: "22:00".into(),
            quiet_to: "07:00".into(),
        }
    }
}

/// `HH:MM` as minutes after midnight; `None` when it is not a time of day.
pub fn parse_minute(text: &str) -> Option<i64> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

/// Minutes after midnight as `HH:MM`.
pub fn format_minute(minute: i64) -> String {
    let minute = minute.rem_euclid(24 * 60);
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// What the open PWA is told over `GET /api/v1/me/events` (Server-Sent Events): the event's
/// name is `kind` (`dossier`, `notice`, `payment`), its data this, its id a sequence number a
/// reconnecting client resumes after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveEvent {
    pub kind: String,
    /// The dossier, notice or payment it is about.
    pub subject: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day_read_and_write_as_hh_mm() {
        assert_eq!(parse_minute("22:00"), Some(1320));
        assert_eq!(parse_minute("07:05"), Some(425));
        for bad in ["24:00", "7:00", "07:60", "", "ab:cd", "07-00"] {
            assert_eq!(parse_minute(bad), None, "{bad}");
        }
        assert_eq!(format_minute(425), "07:05");
        assert_eq!(format_minute(1320), "22:00");
    }
}
