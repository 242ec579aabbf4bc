//! Push notifications: turning them on for this device (asked only when the person taps, after
//! filing or on the account page), what an iPhone needs first, and the account's notification
//! settings: devices, which kinds go to push, quiet hours.

use motcua_shared::notification_api::{
    NoticeKind, NotificationSettings, PushDevices, VapidPublicKey,
};
use yew::prelude::*;

use crate::{
    api::{self, ApiFailure, push},
    components::feedback::Failure,
    hooks::{Loadable, use_lang, use_load},
    i18n::tr,
    pages::account::describe_device,
};

/// Where this device stands.
#[derive(Clone, PartialEq)]
enum DeviceState {
    Checking,
    /// The browser cannot take push (or an iPhone tab: `ios` says to install first).
    Unavailable {
        ios: bool,
    },
    Denied,
    Off,
    On {
        endpoint: String,
    },
}

async fn device_state() -> DeviceState {
    match push::support().as_str() {
        "ios_install" => return DeviceState::Unavailable { ios: true },
        "supported" => {}
        _ => return DeviceState::Unavailable { ios: false },
    }
    if push::permission() == "denied" {
        return DeviceState::Denied;
    }
    match push::current_endpoint().await {
        Some(endpoint) => DeviceState::On { endpoint },
        None => DeviceState::Off,
    }
}

/// Subscribes this device and registers it with the server, in the person's language.
async fn turn_on(csrf: &str, lang: motcua_shared::Lang) -> Result<DeviceState, Option<ApiFailure>> {
    let key: VapidPublicKey = api::get("/api/v1/push/vapid-public-key", &[])
        .await
        .map_err(Some)?;
    let subscription = match push::subscribe(&key.key).await {
        Ok(json) => json,
        Err(true) => return Ok(DeviceState::Denied),
        Err(false) => return Err(None),
    };
    let body: serde_json::Value = serde_json::from_str(&subscription).map_err(|_| None)?;
    let endpoint = body["endpoint"].as_str().unwrap_or_default().to_owned();
    api::post_json::<String>("/api/v1/me/push/subscriptions", &body, Some(csrf))
        .await
        .map_err(Some)?;
    // Pushes come in the language the person uses the app in.
    let mut settings: NotificationSettings = api::get("/api/v1/me/notification-settings", &[])
        .await
        .map_err(Some)?;
    if settings.lang != lang {
        settings.lang = lang;
        let body = serde_json::to_value(&settings).map_err(|_| None)?;
        api::send_json::<NotificationSettings>(
            "PUT",
            "/api/v1/me/notification-settings",
            &body,
            csrf,
        )
        .await
        .map_err(Some)?;
    }
    Ok(DeviceState::On { endpoint })
}

/// Unsubscribes this device from push and removes it from the person's devices (at sign-out:
/// the next person on a shared phone must not get their notices).
pub async fn forget_this_device(csrf: &str) {
    let Some(endpoint) = push::unsubscribe().await else {
        return;
    };
    if let Ok(devices) = api::get::<PushDevices>("/api/v1/me/push/subscriptions", &[]).await {
        for device in devices.devices.iter().filter(|d| d.endpoint == endpoint) {
            let path = format!("/api/v1/me/push/subscriptions/{}", api::enc(&device.id));
            let _ = api::send("DELETE", &path, csrf).await;
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct PushSwitchProps {
    pub csrf: String,
    /// After filing: one question and one button, shown only while push is off.
    #[prop_or_default]
    pub prompt: bool,
    /// Told when this device's subscription changed.
    #[prop_or_default]
    pub on_change: Callback<()>,
}

/// This device's push notifications: on, off, or why not.
#[component]
pub fn PushSwitch(props: &PushSwitchProps) -> Html {
    let lang = use_lang().lang;
    let state = use_state(|| DeviceState::Checking);
    let busy = use_state(|| false);
    let failed = use_state(|| None::<Option<ApiFailure>>);
    {
        let state = state.clone();
        use_effect_with((), move |()| {
            wasm_bindgen_futures::spawn_local(async move { state.set(device_state().await) });
        });
    }
    let enable = {
        let (state, busy, failed, csrf, on_change) = (
            state.clone(),
            busy.clone(),
            failed.clone(),
            props.csrf.clone(),
            props.on_change.clone(),
        );
        Callback::from(move |()| {
            let (state, busy, failed, csrf, on_change) = (
                state.clone(),
                busy.clone(),
                failed.clone(),
                csrf.clone(),
                on_change.clone(),
            );
            busy.set(true);
            failed.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match turn_on(&csrf, lang).await {
                    Ok(new) => state.set(new),
                    Err(why) => failed.set(Some(why)),
                }
                busy.set(false);
                on_change.emit(());
            });
        })
    };
    let disable = {
        let (state, busy, csrf, on_change) = (
            state.clone(),
            busy.clone(),
            props.csrf.clone(),
            props.on_change.clone(),
        );
        Callback::from(move |_| {
            let (state, busy, csrf, on_change) =
                (state.clone(), busy.clone(), csrf.clone(), on_change.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                forget_this_device(&csrf).await;
                state.set(DeviceState::Off);
                busy.set(false);
                on_change.emit(());
            });
        })
    };
    let retry = enable.clone();
    let failure = (*failed).clone().map(|why| match why {
        Some(failure) => html! { <Failure {failure} on_retry={retry.clone()} /> },
        None => html! { <p class="notice notice-error" role="alert">{ tr(lang, "notifications.failed") }</p> },
    });
    let body = match &*state {
        DeviceState::Checking => html! {},
        DeviceState::Unavailable { ios: true } => {
            html! { <p class="hint" data-push="ios">{ tr(lang, "notifications.ios_install") }</p> }
        }
        DeviceState::Unavailable { ios: false } => {
            if props.prompt {
                html! {}
            } else {
                html! { <p class="hint" data-push="unsupported">{ tr(lang, "notifications.unsupported") }</p> }
            }
        }
        DeviceState::Denied => {
            html! { <p class="hint" data-push="denied">{ tr(lang, "notifications.denied") }</p> }
        }
        DeviceState::Off => html! {
            <>
                if props.prompt {
                    <p>{ tr(lang, "notifications.after_filing") }</p>
                }
                <button type="button" class="button" onclick={enable.reform(|_: MouseEvent| ())} disabled={*busy} aria-busy={busy.to_string()}>
                    { tr(lang, "notifications.enable") }
                </button>
            </>
        },
        DeviceState::On { .. } => html! {
            <>
                <p class="notice notice-ok" role="status" data-push="on">{ tr(lang, "notifications.enabled") }</p>
                if !props.prompt {
                    <button type="button" class="button button-quiet" onclick={disable} disabled={*busy}>
                        { tr(lang, "notifications.disable") }
                    </button>
                }
            </>
        },
    };
    html! {
        <div class="push-switch">
            { body }
            { for failure }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct NotificationSettingsProps {
    pub csrf: String,
}

/// The account's notifications: this device, the devices that receive pushes, which kinds go to
/// push, and quiet hours.
#[component]
pub fn NotificationSettingsPanel(props: &NotificationSettingsProps) -> Html {
    let lang = use_lang().lang;
    let generation = use_state(|| 0u32);
    let devices = use_load(*generation, |_| {
        api::get::<PushDevices>("/api/v1/me/push/subscriptions", &[])
    });
    let settings = use_load((), |()| {
        api::get::<NotificationSettings>("/api/v1/me/notification-settings", &[])
    });
    let refresh = {
        let generation = generation.clone();
        Callback::from(move |()| generation.set(*generation + 1))
    };
    let device_list = match &*devices {
        Loadable::Loaded(list) if list.devices.is_empty() => {
            html! { <p class="hint">{ tr(lang, "notifications.no_devices") }</p> }
        }
        Loadable::Loaded(list) => html! {
            <ul class="entries" aria-label={tr(lang, "notifications.devices")}>
                { for list.devices.iter().map(|d| {
                    let remove = {
                        let (csrf, refresh) = (props.csrf.clone(), refresh.clone());
                        let path = format!("/api/v1/me/push/subscriptions/{}", api::enc(&d.id));
                        Callback::from(move |_| {
                            let (csrf, refresh, path) = (csrf.clone(), refresh.clone(), path.clone());
                            wasm_bindgen_futures::spawn_local(async move {
                                if api::send("DELETE", &path, &csrf).await.is_ok() {
                                    refresh.emit(());
                                }
                            });
                        })
                    };
                    let name = describe_device(&d.device).unwrap_or_else(|| tr(lang, "account.unknown_device"));
                    html! {
                        <li key={d.id.clone()} class="entry-row">
                            <span>{ name.clone() }</span>
                            <button type="button" class="link-button" onclick={remove}
                                aria-label={format!("{} {name}", tr(lang, "notifications.remove"))}>
                                { tr(lang, "notifications.remove") }
                            </button>
                        </li>
                    }
                }) }
            </ul>
        },
        _ => html! {},
    };
    let form = match &*settings {
        Loadable::Loaded(current) => {
            html! { <SettingsForm csrf={props.csrf.clone()} current={(**current).clone()} /> }
        }
        Loadable::Failed(failure) => {
            html! { <Failure failure={failure.clone()} on_retry={refresh.clone()} /> }
        }
        Loadable::Loading => html! {},
    };
    html! {
        <section class="card" aria-labelledby="notifications-heading">
            <h2 id="notifications-heading">{ tr(lang, "notifications.title") }</h2>
            <p class="hint">{ tr(lang, "notifications.hint") }</p>
            <PushSwitch csrf={props.csrf.clone()} on_change={refresh} />
            <h3>{ tr(lang, "notifications.devices") }</h3>
            { device_list }
            { form }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct SettingsFormProps {
    csrf: String,
    current: NotificationSettings,
}

#[component]
fn SettingsForm(props: &SettingsFormProps) -> Html {
    let lang = use_lang().lang;
    // Escalations go to desks' leads: only officers are offered them.
    let session = crate::hooks::use_session();
    let officer = matches!(&session.me, Loadable::Loaded(me)
        if me.as_ref().as_ref().is_some_and(|m| m.roles.contains(&motcua_shared::identity::Role::Officer)));
    let kinds = use_state(|| props.current.push_kinds.clone());
    let from = use_state(|| props.current.quiet_from.clone());
    let to = use_state(|| props.current.quiet_to.clone());
    let outcome = use_state(|| None::<Result<(), ApiFailure>>);
    let onsubmit = {
        let (kinds, from, to, outcome, csrf) = (
            kinds.clone(),
            from.clone(),
            to.clone(),
            outcome.clone(),
            props.csrf.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let settings = NotificationSettings {
                lang,
                push_kinds: (*kinds).clone(),
                quiet_from: (*from).clone(),
                quiet_to: (*to).clone(),
            };
            let (outcome, csrf) = (outcome.clone(), csrf.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let body = serde_json::to_value(&settings).unwrap_or_default();
                let saved = api::send_json::<NotificationSettings>(
                    "PUT",
                    "/api/v1/me/notification-settings",
                    &body,
                    &csrf,
                )
                .await
                .map(|_| ());
                outcome.set(Some(saved));
            });
        })
    };
    let retry = {
        let outcome = outcome.clone();
        Callback::from(move |()| outcome.set(None))
    };
    let time_input = |id: &'static str, label: &str, value: &UseStateHandle<String>| {
        let value_handle = value.clone();
        let oninput = Callback::from(move |e: InputEvent| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            value_handle.set(input.value());
        });
        html! {
            <label for={id}>
                { label.to_owned() }
                <input {id} type="time" value={(**value).clone()} {oninput} required=true />
            </label>
        }
    };
    html! {
        <form class="settings-form" {onsubmit}>
            <fieldset class="field">
                <legend>{ tr(lang, "notifications.kinds") }</legend>
                { for NoticeKind::ALL.iter().filter(|k| officer || **k != NoticeKind::Escalation).map(|kind| {
                    let checked = kinds.contains(kind);
                    let onchange = {
                        let (kinds, kind) = (kinds.clone(), *kind);
                        Callback::from(move |_| {
                            let mut list = (*kinds).clone();
                            if let Some(at) = list.iter().position(|k| *k == kind) {
                                list.remove(at);
                            } else {
                                list.push(kind);
                            }
                            kinds.set(list);
                        })
                    };
                    let id = format!("push-kind-{}", kind.as_str());
                    html! {
                        <label class="checkbox" for={id.clone()}>
                            <input type="checkbox" id={id} {checked} {onchange} />
                            { tr(lang, &format!("notifications.kind.{}", kind.as_str())) }
                        </label>
                    }
                }) }
            </fieldset>
            <fieldset class="field quiet-hours">
                <legend>{ tr(lang, "notifications.quiet") }</legend>
                { time_input("quiet-from", &tr(lang, "notifications.quiet_from"), &from) }
                { time_input("quiet-to", &tr(lang, "notifications.quiet_to"), &to) }
            </fieldset>
            <button type="submit" class="button">{ tr(lang, "notifications.save") }</button>
            { match &*outcome {
                Some(Ok(())) => html! { <p class="notice notice-ok" role="status">{ tr(lang, "notifications.saved") }</p> },
                Some(Err(failure)) => html! { <Failure failure={failure.clone()} on_retry={retry.clone()} /> },
                None => html! {},
            } }
        </form>
    }
}
