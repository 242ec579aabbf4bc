//! The notifications' storage: settings, push subscriptions, what each push did, the live feed
//! and the reminders sent. The only place the notifications open a write transaction (the
//! notices themselves are written in the outbox's delivery transaction, in `inbox`).

use anyhow::Context;
use motcua_shared::{
    Lang,
    notification_api::{
        NewPushSubscription, NoticeKind, NotificationSettings, PushDevice, format_minute,
    },
};

use super::decide::PushOutcome;
use crate::{
    events::{DomainEvent, ReminderEvent},
    store::{Store, StoreResult, WriteTx, now_ms},
};

/// A device to push to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Subscription {
    pub id: String,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// A notice as a push needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PushNotice {
    pub kind: String,
    pub template: Option<String>,
    pub params: Option<String>,
    pub link: Option<String>,
    pub topic: Option<String>,
    pub title_vi: String,
    pub title_en: String,
}

/// What pushing one notice takes: the notice, the person's settings, and the devices that
/// have not yet taken it.
pub struct PushPlan {
    pub notice: PushNotice,
    pub settings: NotificationSettings,
    pub quiet: (i64, i64),
    pub devices: Vec<Subscription>,
}

/// Bounds of the quiet hours as stored (minutes after midnight).
fn quiet_of(settings: &NotificationSettings) -> (i64, i64) {
    use motcua_shared::notification_api::parse_minute;
    (
        parse_minute(&settings.quiet_from).unwrap_or(22 * 60),
        parse_minute(&settings.quiet_to).unwrap_or(7 * 60),
    )
}

/// How many devices one person may register.
pub const MAX_DEVICES: i64 = 20;

impl Store {
    /// A person's notification settings (the defaults until they choose).
    pub async fn notification_settings(
        &self,
        person_id: &str,
    ) -> StoreResult<NotificationSettings> {
        let row: Option<(String, String, i64, i64)> = sqlx::query_as(
            "select lang, push_kinds, quiet_from, quiet_to from notification_settings where person_id = $1",
        )
        .bind(person_id)
        .fetch_optional(self.pool())
        .await
        .context("reading notification settings")?;
        Ok(match row {
            None => NotificationSettings::default(),
            Some((lang, kinds, from, to)) => NotificationSettings {
                lang: Lang::from_tag(&lang).unwrap_or_default(),
                push_kinds: kinds.split(',').filter_map(NoticeKind::parse).collect(),
                quiet_from: format_minute(from),
                quiet_to: format_minute(to),
            },
        })
    }

    /// Saves a person's notification settings (already checked).
    pub async fn save_notification_settings(
        &self,
        person_id: &str,
        settings: &NotificationSettings,
    ) -> StoreResult<()> {
        let (from, to) = quiet_of(settings);
        let kinds: Vec<&str> = settings.push_kinds.iter().map(|k| k.as_str()).collect();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "insert into notification_settings (person_id, lang, push_kinds, quiet_from, quiet_to, updated_at) \
             values ($1, $2, $3, $4, $5, $6) on conflict (person_id) do update set lang = excluded.lang, \
             push_kinds = excluded.push_kinds, quiet_from = excluded.quiet_from, quiet_to = excluded.quiet_to, \
             updated_at = excluded.updated_at",
        )
        .bind(person_id)
        .bind(settings.lang.code())
        .bind(kinds.join(","))
        .bind(from)
        .bind(to)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .context("saving notification settings")?;
        tx.commit().await
    }

    /// Registers a device's subscription for `person_id` (an endpoint already registered moves
    /// to them with its new keys). `None` when the person has `MAX_DEVICES` already.
    pub async fn add_push_subscription(
        &self,
        person_id: &str,
        subscription: &NewPushSubscription,
        device: &str,
    ) -> StoreResult<Option<String>> {
        let mut tx = self.begin_write().await?;
        let existing: Option<(String,)> =
            sqlx::query_as("select id from push_subscriptions where endpoint = $1")
                .bind(&subscription.endpoint)
                .fetch_optional(&mut *tx)
                .await
                .context("finding a push subscription")?;
        let id = if let Some((id,)) = existing {
            sqlx::query(
                "update push_subscriptions set person_id = $1, p256dh = $2, auth = $3, device = $4, \
                 failures = 0, last_error = null where id = $5",
            )
            .bind(person_id)
            .bind(&subscription.keys.p256dh)
            .bind(&subscription.keys.auth)
            .bind(device)
            .bind(&id)
            .execute(&mut *tx)
            .await
            .context("renewing a push subscription")?;
            id
        } else {
            let (held,): (i64,) =
                sqlx::query_as("select count(*) from push_subscriptions where person_id = $1")
                    .bind(person_id)
                    .fetch_one(&mut *tx)
                    .await
                    .context("counting push subscriptions")?;
            if held >= MAX_DEVICES {
                return Ok(None);
            }
            let id = uuid::Uuid::new_v4().to_string();
            sqlx::query(
                "insert into push_subscriptions (id, person_id, endpoint, p256dh, auth, device, created_at) \
                 values ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(person_id)
            .bind(&subscription.endpoint)
            .bind(&subscription.keys.p256dh)
            .bind(&subscription.keys.auth)
            .bind(device)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .context("adding a push subscription")?;
            id
        };
        tx.commit().await?;
        Ok(Some(id))
    }

    /// A person's devices, newest first.
    pub async fn push_devices(&self, person_id: &str) -> StoreResult<Vec<PushDevice>> {
        let rows: Vec<(String, String, String, i64, Option<i64>, i64)> = sqlx::query_as(
            "select id, device, endpoint, created_at, last_sent_at, failures from push_subscriptions \
             where person_id = $1 order by created_at desc, id",
        )
        .bind(person_id)
        .fetch_all(self.pool())
        .await
        .context("reading push subscriptions")?;
        Ok(rows
            .into_iter()
            .map(
                |(id, device, endpoint, created_at, last_sent_at, failures)| PushDevice {
                    id,
                    device,
                    endpoint,
                    created_at,
                    last_sent_at,
                    failures,
                },
            )
            .collect())
    }

    /// Removes one of a person's devices; false when they have no such device.
    pub async fn remove_push_subscription(&self, person_id: &str, id: &str) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("delete from push_subscriptions where id = $1 and person_id = $2")
            .bind(id)
            .bind(person_id)
            .execute(&mut *tx)
            .await
            .context("removing a push subscription")?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// What pushing notice `notice_id` to `person_id` takes; `None` when there is nothing to
    /// push (no device that has not taken it, or the notice is gone).
    pub async fn push_plan(
        &self,
        notice_id: &str,
        person_id: &str,
    ) -> StoreResult<Option<PushPlan>> {
        // Most people have no device subscribed: one read tells.
        let devices: Vec<Subscription> = sqlx::query_as(
            "select s.id, s.endpoint, s.p256dh, s.auth from push_subscriptions s \
             where s.person_id = $1 and not exists (select 1 from push_log l where l.notice_id = $2 \
               and l.person_id = $1 and l.subscription_id = s.id and l.outcome in ('sent', 'refused')) \
             order by s.created_at, s.id",
        )
        .bind(person_id)
        .bind(notice_id)
        .fetch_all(self.pool())
        .await
        .context("reading the devices to push to")?;
        if devices.is_empty() {
            return Ok(None);
        }
        let notice: Option<PushNotice> = sqlx::query_as(
            "select kind, template, params, link, topic, title_vi, title_en from notices \
             where id = $1 and person_id = $2",
        )
        .bind(notice_id)
        .bind(person_id)
        .fetch_optional(self.pool())
        .await
        .context("reading a notice to push")?;
        let Some(notice) = notice else {
            return Ok(None);
        };
        let settings = self.notification_settings(person_id).await?;
        Ok(Some(PushPlan {
            quiet: quiet_of(&settings),
            notice,
            settings,
            devices,
        }))
    }

    /// Records what one push did: a device that took it is marked, a gone subscription is
    /// removed, a failure counted on the device with its error.
    pub async fn record_push(
        &self,
        notice_id: &str,
        person_id: &str,
        subscription_id: &str,
        outcome: PushOutcome,
        status: Option<u16>,
        error: Option<&str>,
    ) -> StoreResult<()> {
        let now = now_ms();
        let word = match outcome {
            PushOutcome::Sent => "sent",
            PushOutcome::Gone => "gone",
            PushOutcome::Retry { .. } => "retry",
            PushOutcome::Refused => "refused",
        };
        let error: Option<String> = error.map(|e| e.chars().take(300).collect());
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "insert into push_log (notice_id, person_id, subscription_id, at, outcome, status, error) \
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(notice_id)
        .bind(person_id)
        .bind(subscription_id)
        .bind(now)
        .bind(word)
        .bind(status.map(i64::from))
        .bind(error.as_deref())
        .execute(&mut *tx)
        .await
        .context("recording a push")?;
        let change = match outcome {
            PushOutcome::Sent => sqlx::query(
                "update push_subscriptions set last_sent_at = $1, failures = 0, last_error = null where id = $2",
            )
            .bind(now)
            .bind(subscription_id),
            PushOutcome::Gone => {
                sqlx::query("delete from push_subscriptions where id = $1").bind(subscription_id)
            }
            PushOutcome::Retry { .. } | PushOutcome::Refused => sqlx::query(
                "update push_subscriptions set failures = failures + 1, last_error = $1 where id = $2",
            )
            .bind(error.as_deref())
            .bind(subscription_id),
        };
        change
            .execute(&mut *tx)
            .await
            .context("updating a push subscription")?;
        tx.commit().await
    }

    /// Every push attempt for one notice to one person, oldest first: (subscription, outcome,
    /// status, error).
    pub async fn push_log_of(
        &self,
        notice_id: &str,
        person_id: &str,
    ) -> StoreResult<Vec<(String, String, Option<i64>, Option<String>)>> {
        let rows = sqlx::query_as(
            "select subscription_id, outcome, status, error from push_log \
             where notice_id = $1 and person_id = $2 order by at, outcome",
        )
        .bind(notice_id)
        .bind(person_id)
        .fetch_all(self.pool())
        .await
        .context("reading the push log")?;
        Ok(rows)
    }

    /// Sends a reminder once: records `key` and emits the reminder's event in one transaction;
    /// false when it was sent before.
    pub async fn send_reminder(&self, reminder: &ReminderEvent) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let fresh = sqlx::query(
            "insert into reminders_sent (key, event_id, sent_at) values ($1, '', $2) on conflict (key) do nothing",
        )
        .bind(&reminder.key)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .context("recording a reminder")?;
        if fresh.rows_affected() == 0 {
            return Ok(false);
        }
        let id = crate::events::emit(&mut tx, &DomainEvent::Reminder(reminder.clone())).await?;
        sqlx::query("update reminders_sent set event_id = $1 where key = $2")
            .bind(&id)
            .bind(&reminder.key)
            .execute(&mut *tx)
            .await
            .context("recording a reminder's event")?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Writes what the open PWA of `person_id` is told about event `event_id`, inside the outbox's
/// delivery transaction; once per event, person and kind.
pub async fn write_live_event(
    tx: &mut WriteTx,
    person_id: &str,
    event_id: &str,
    kind: &str,
    subject: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "insert into live_events (person_id, event_id, kind, subject, created_at) values ($1, $2, $3, $4, $5) \
         on conflict (event_id, person_id, kind) do nothing",
    )
    .bind(person_id)
    .bind(event_id)
    .bind(kind)
    .bind(subject)
    .bind(now_ms())
    .execute(&mut **tx)
    .await
    .context("writing a live event")?;
    Ok(())
}
