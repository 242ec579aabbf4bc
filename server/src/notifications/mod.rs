//! Notifications: the inbox of every notice a person is sent ([`inbox`]), web push to their
//! devices ([`push`]), live updates of the open PWA ([`live`]) and reminders ([`reminders`]).
//! Notices come from domain events through the outbox; each new notice is itself an event that
//! push and the live feed consume, so every path is retried, resumable and delivered once per
//! consumer. Decisions are pure ([`decide`]); writes are in [`storage`] (and the outbox's
//! delivery transactions).

pub mod decide;
pub mod inbox;
pub mod live;
pub mod push;
pub mod reminders;
pub mod storage;

use std::sync::Arc;

use axum::{extract::State, http::StatusCode};
use motcua_shared::{
    ErrorCode,
    notification_api::{
        NewPushSubscription, NotificationSettings, PushDevices, VapidPublicKey, parse_minute,
    },
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    error::{ApiError, AppJson, AppPath},
    identity::AuthUser,
    outbox::Consumer,
};

pub fn routes() -> OpenApiRouter<AppState> {
    inbox::routes()
        .routes(routes!(vapid_public_key))
        .routes(routes!(list_devices, add_device))
        .routes(routes!(remove_device))
        .routes(routes!(settings, save_settings))
        .routes(routes!(live::events))
}

/// The notifications' outbox consumers beside the inbox's own: push and the live feed.
pub fn consumers(state: &AppState) -> Vec<Arc<dyn Consumer>> {
    vec![
        Arc::new(push::PushConsumer {
            store: state.store.clone(),
            push: state.push.clone(),
            metrics: state.metrics.clone(),
        }),
        Arc::new(live::LiveConsumer),
    ]
}

/// The server's VAPID public key (RFC 8292): the 65-byte uncompressed P-256 point, base64url,
/// for `PushManager.subscribe({applicationServerKey})`.
#[utoipa::path(get, path = "/push/vapid-public-key", tag = "notifications", responses((status = 200, body = VapidPublicKey)))]
async fn vapid_public_key(State(state): State<AppState>) -> AppJson<VapidPublicKey> {
    AppJson(VapidPublicKey {
        key: state.push.public_key().to_owned(),
    })
}

/// The signed-in person's devices that receive pushes.
#[utoipa::path(get, path = "/me/push/subscriptions", tag = "notifications", responses((status = 200, body = PushDevices)))]
async fn list_devices(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<AppJson<PushDevices>, ApiError> {
    Ok(AppJson(PushDevices {
        devices: state.store.push_devices(&user.person.id).await?,
    }))
}

/// Registers this device's push subscription (`PushSubscription.toJSON()`). Only endpoints of
/// the known push services are taken (422 `push_service_not_allowed`); keys must be a P-256
/// point and a 16-byte secret (422 `invalid_push_keys`); at most 20 devices (413
/// `push_device_quota`). Registering an endpoint again renews it. CSRF token required.
#[utoipa::path(
    post, path = "/me/push/subscriptions", tag = "notifications", request_body = NewPushSubscription,
    responses(
        (status = 201, description = "Registered: its id", body = String),
        (status = 422, description = "Not a push service, or bad keys", body = motcua_shared::ErrorBody),
        (status = 413, description = "Too many devices", body = motcua_shared::ErrorBody),
    )
)]
async fn add_device(
    State(state): State<AppState>,
    user: AuthUser,
    headers: axum::http::HeaderMap,
    AppJson(subscription): AppJson<NewPushSubscription>,
) -> Result<(StatusCode, AppJson<String>), ApiError> {
    if subscription.endpoint.len() > 1000 || !state.push.allows(&subscription.endpoint) {
        return Err(ApiError::validation(ErrorCode::PushServiceNotAllowed));
    }
    if !keys_are_sound(&subscription) {
        return Err(ApiError::validation(ErrorCode::InvalidPushKeys));
    }
    let device: String = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let id = state
        .store
        .add_push_subscription(&user.person.id, &subscription, &device)
        .await?
        .ok_or_else(|| {
            ApiError::StorageFull(crate::error::Problem {
                code: ErrorCode::PushDeviceQuota,
                params: vec![("limit", storage::MAX_DEVICES.to_string())],
            })
        })?;
    Ok((StatusCode::CREATED, AppJson(id)))
}

/// A subscription's keys: `p256dh` an uncompressed P-256 point, `auth` 16 bytes (RFC 8291).
fn keys_are_sound(subscription: &NewPushSubscription) -> bool {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    let decode = |text: &str| URL_SAFE_NO_PAD.decode(text.trim_end_matches('='));
    let point = decode(&subscription.keys.p256dh)
        .ok()
        .is_some_and(|p| p.len() == 65 && p256::PublicKey::from_sec1_bytes(&p).is_ok());
    let auth = decode(&subscription.keys.auth)
        .ok()
        .is_some_and(|a| a.len() == 16);
    point && auth
}

/// Removes one of the signed-in person's devices (another's is 404). CSRF token required.
#[utoipa::path(
    delete, path = "/me/push/subscriptions/{id}", tag = "notifications",
    params(("id" = String, Path, description = "The device's id")),
    responses((status = 204, description = "Removed"), (status = 404, description = "No such device of yours", body = motcua_shared::ErrorBody))
)]
async fn remove_device(
    State(state): State<AppState>,
    user: AuthUser,
    AppPath(id): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    if !state
        .store
        .remove_push_subscription(&user.person.id, &id)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// What the signed-in person wants pushed, in which language, and their quiet hours.
#[utoipa::path(get, path = "/me/notification-settings", tag = "notifications", responses((status = 200, body = NotificationSettings)))]
async fn settings(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<AppJson<NotificationSettings>, ApiError> {
    Ok(AppJson(
        state.store.notification_settings(&user.person.id).await?,
    ))
}

/// Saves what the signed-in person wants pushed; quiet hours as `HH:MM` (422
/// `invalid_time_of_day`). CSRF token required.
#[utoipa::path(
    put, path = "/me/notification-settings", tag = "notifications", request_body = NotificationSettings,
    responses((status = 200, body = NotificationSettings), (status = 422, description = "Not a time of day", body = motcua_shared::ErrorBody))
)]
async fn save_settings(
    State(state): State<AppState>,
    user: AuthUser,
    AppJson(mut wanted): AppJson<NotificationSettings>,
) -> Result<AppJson<NotificationSettings>, ApiError> {
    if parse_minute(&wanted.quiet_from).is_none() || parse_minute(&wanted.quiet_to).is_none() {
        return Err(ApiError::validation(ErrorCode::InvalidTimeOfDay));
    }
    wanted.push_kinds.sort_by_key(|k| k.as_str());
    wanted.push_kinds.dedup();
    state
        .store
        .save_notification_settings(&user.person.id, &wanted)
        .await?;
    Ok(AppJson(
        state.store.notification_settings(&user.person.id).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use motcua_shared::notification_api::PushKeys;

    #[test]
    fn subscription_keys_must_be_a_curve_point_and_a_16_byte_secret() {
        // A real browser's keys (RFC 8291 appendix A).
        let good = NewPushSubscription {
            endpoint: "https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV".into(),
            keys: PushKeys {
                p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4".into(),
                auth: "BTBZMqHH6r4Tts7J_aSIgg".into(),
            },
        };
        assert!(keys_are_sound(&good));
        let mut bad_point = good.clone();
        bad_point.keys.p256dh = format!("BA{}", &good.keys.p256dh[2..]);
        assert!(!keys_are_sound(&bad_point));
        let mut short_auth = good.clone();
        short_auth.keys.auth = "BTBZMqHH6r4Tts7J".into();
        assert!(!keys_are_sound(&short_auth));
        let mut not_base64 = good;
        not_base64.keys.auth = "!!!!".into();
        assert!(!keys_are_sound(&not_base64));
    }
}
