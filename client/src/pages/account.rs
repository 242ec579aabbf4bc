//! The account page: sign in with the national e-identity; once signed in, the profile the state
//! verified (read-only), the signed-in devices, and signing out.

use motcua_shared::{
    identity::{Acr, AuthMethod, Me},
    time::{format_vn_date, format_vn_datetime},
};
use yew::prelude::*;

use crate::{
    api::{self, ApiFailure},
    components::feedback::{Failure, Loading},
    hooks::{Loadable, use_lang, use_load, use_more, use_session, use_title},
    i18n::tr,
};

/// A user agent in a few words a person recognises: "Chrome · Android".
pub fn describe_device(user_agent: &str) -> Option<String> {
    let ua = user_agent;
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("Zalo") {
        "Zalo"
    } else if ua.contains("CocCoc") || ua.contains("coc_coc") {
        "Cốc Cốc"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("CriOS/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        return None;
    };
    let system = if ua.contains("Android") {
        "Android"
    } else if ua.contains("iPhone") {
        "iPhone"
    } else if ua.contains("iPad") {
        "iPad"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") {
        "macOS"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        return Some(browser.to_owned());
    };
    Some(format!("{browser} · {system}"))
}

/// The `signin_error` code the server put in the address after a refused sign-in.
fn signin_error() -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("signin_error="))
        .map(|code| {
            code.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
}

#[component]
pub fn AccountPage() -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    use_title(tr(lang, "account.title"));
    let body = match &session.me {
        Loadable::Loading => html! { <Loading text={tr(lang, "account.loading")} /> },
        Loadable::Failed(failure) => {
            html! { <Failure failure={failure.clone()} on_retry={session.reload.clone()} /> }
        }
        Loadable::Loaded(me) => match me.as_ref() {
            None => html! { <SignIn /> },
            Some(me) => html! { <Profile me={me.clone()} /> },
        },
    };
    html! {
        <div class="page">
            <h1>{ tr(lang, "account.title") }</h1>
            { body }
        </div>
    }
}

#[component]
fn SignIn() -> Html {
    let lang = use_lang().lang;
    let error = signin_error();
    html! {
        <>
            if let Some(code) = error {
                <div class="notice notice-error" role="alert" tabindex="-1">
                    <h2>{ tr(lang, "account.signin_failed") }</h2>
                    <p>{ tr(lang, &format!("signin_error.{code}")) }</p>
                </div>
            }
            <p class="lead">{ tr(lang, "account.signin_lead") }</p>
            <a class="button button-eid" href="/auth/login?return_to=%2Faccount">{ tr(lang, "account.signin_eid") }</a>
            <p class="hint">{ tr(lang, "account.signin_hint") }</p>
            if api::webauthn::supported() {
                <PasskeySignIn />
            }
        </>
    }
}

/// "Sign in with a passkey": the device offers the person's passkeys, no number to type.
#[component]
fn PasskeySignIn() -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    let busy = use_state(|| false);
    let failure = use_state(|| None::<ApiFailure>);
    let onclick = {
        let (busy, failure, reload) = (busy.clone(), failure.clone(), session.reload.clone());
        Callback::from(move |_: MouseEvent| {
            let (busy, failure, reload) = (busy.clone(), failure.clone(), reload.clone());
            busy.set(true);
            failure.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match api::webauthn::sign_in().await {
                    Ok(()) => reload.emit(()),
                    Err(f) => failure.set(Some(f)),
                }
                busy.set(false);
            });
        })
    };
    html! {
        <div class="passkey-signin">
            <p class="divider">{ tr(lang, "account.or") }</p>
            <button type="button" class="button button-quiet" disabled={*busy} {onclick}>
                { tr(lang, "account.signin_passkey") }
            </button>
            if let Some(f) = &*failure {
                <Failure failure={f.clone()} on_retry={Callback::noop()} />
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct ProfileProps {
    me: Me,
}

#[component]
fn Profile(props: &ProfileProps) -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    let me = &props.me;
    let busy = use_state(|| false);
    let failure = use_state(|| None::<ApiFailure>);
    // Reading the registers adds entries to the data-access log: show them at once.
    let access_generation = use_state(|| 0u32);
    let bump_access = {
        let generation = access_generation.clone();
        Callback::from(move |()| generation.set(*generation + 1))
    };
    let sign_out = {
        let (token, reload, busy, failure) = (
            me.csrf_token.clone(),
            session.reload.clone(),
            busy.clone(),
            failure.clone(),
        );
        move |path: &'static str| {
            let (token, reload, busy, failure) =
                (token.clone(), reload.clone(), busy.clone(), failure.clone());
            Callback::from(move |_: MouseEvent| {
                let (token, reload, busy, failure) =
                    (token.clone(), reload.clone(), busy.clone(), failure.clone());
                busy.set(true);
                wasm_bindgen_futures::spawn_local(async move {
                    // This device stops receiving the person's notices.
                    crate::components::push::forget_this_device(&token).await;
                    api::push::close_live();
                    match api::send("POST", path, &token).await {
                        Ok(()) => {
                            // Nothing of the person stays on the device.
                            crate::offline::forget().await;
                            reload.emit(());
                        }
                        Err(f) => {
                            failure.set(Some(f));
                            busy.set(false);
                        }
                    }
                });
            })
        }
    };
    let level = match me.acr {
        Acr::Level2 => tr(lang, "account.level2"),
        Acr::Level1 => tr(lang, "account.level1"),
    };
    html! {
        <>
            <section class="card profile" aria-labelledby="profile-heading">
                <div class="badges"><span class="badge badge-full">{ tr(lang, "account.verified") }</span></div>
                <h2 id="profile-heading">{ &me.name }</h2>
                <dl class="facts facts-stacked">
                    <div><dt>{ tr(lang, "account.cccd") }</dt><dd>{ &me.cccd }</dd></div>
                    if let Some(birthdate) = &me.birthdate {
                        <div><dt>{ tr(lang, "account.birthdate") }</dt><dd>{ format_vn_date(birthdate) }</dd></div>
                    }
                    <div><dt>{ tr(lang, "account.level") }</dt><dd>{ level }</dd></div>
                </dl>
                <p class="hint">{ tr(lang, "account.verified_hint") }</p>
            </section>
            if !me.organisations.is_empty() {
                <ActingFor me={me.clone()} />
            }
            <Passkeys csrf_token={me.csrf_token.clone()} />
            <crate::components::push::NotificationSettingsPanel csrf={me.csrf_token.clone()} />
            <Records on_read={bump_access.clone()} />
            <Devices csrf_token={me.csrf_token.clone()} />
            <DataAccessList generation={*access_generation} />
            if let Some(f) = &*failure {
                <Failure failure={f.clone()} on_retry={session.reload.clone()} />
            }
            <div class="actions">
                <button type="button" class="button" disabled={*busy} onclick={sign_out("/auth/logout")}>
                    { tr(lang, "account.sign_out") }
                </button>
                <button type="button" class="button button-quiet" disabled={*busy} onclick={sign_out("/api/v1/me/sessions/revoke-all")}>
                    { tr(lang, "account.sign_out_everywhere") }
                </button>
            </div>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct DevicesProps {
    csrf_token: String,
}

/// The person's signed-in devices, each but this one with a way to sign it out.
#[component]
fn Devices(props: &DevicesProps) -> Html {
    let lang = use_lang().lang;
    let generation = use_state(|| 0u32);
    let sessions = use_load(*generation, |_| api::sessions());
    let end = {
        let (token, generation) = (props.csrf_token.clone(), generation.clone());
        Callback::from(move |id: String| {
            let (token, generation) = (token.clone(), generation.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let _ = api::send("DELETE", &format!("/api/v1/me/sessions/{id}"), &token).await;
                generation.set(*generation + 1);
            });
        })
    };
    let list = match &*sessions {
        Loadable::Loading => html! { <Loading text={tr(lang, "account.loading")} /> },
        Loadable::Failed(f) => {
            let generation = generation.clone();
            html! { <Failure failure={f.clone()} on_retry={Callback::from(move |()| generation.set(*generation + 1))} /> }
        }
        Loadable::Loaded(list) => html! {
            <ul class="devices">
                { for list.sessions.iter().map(|s| {
                    let method = match s.auth_method {
                        AuthMethod::Eid => tr(lang, "account.method_eid"),
                        AuthMethod::Passkey => tr(lang, "account.method_passkey"),
                    };
                    let onclick = { let (end, id) = (end.clone(), s.id.clone()); Callback::from(move |_: MouseEvent| end.emit(id.clone())) };
                    html! {
                        <li class="device">
                            <div>
                                <strong>{ s.user_agent.as_deref().and_then(describe_device).unwrap_or_else(|| tr(lang, "account.unknown_device")) }</strong>
                                if s.current { <span class="badge">{ tr(lang, "account.this_device") }</span> }
                                <p class="hint">{ format!("{method} · {} {}", tr(lang, "account.signed_in_at"), format_vn_datetime(s.created_at)) }</p>
                            </div>
                            if !s.current {
                                <button type="button" class="button button-quiet" {onclick}>{ tr(lang, "account.end_session") }</button>
                            }
                        </li>
                    }
                }) }
            </ul>
        },
    };
    html! {
        <section aria-labelledby="devices-heading">
            <h2 id="devices-heading">{ tr(lang, "account.devices") }</h2>
            { list }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct DataAccessProps {
    /// Changes when something new may have been logged.
    generation: u32,
}

/// The person's data-access log: who read their data, from where, when and why.
#[component]
fn DataAccessList(props: &DataAccessProps) -> Html {
    let lang = use_lang().lang;
    let retries = use_state(|| 0u32);
    let log = use_load((*retries, props.generation), |_| api::data_access());
    let more = use_more(&log, "/api/v1/me/data-access", Vec::new());
    let body = match &*log {
        Loadable::Loading => html! { <Loading text={tr(lang, "account.loading")} /> },
        Loadable::Failed(f) => {
            let retries = retries.clone();
            html! { <Failure failure={f.clone()} on_retry={Callback::from(move |()| retries.set(*retries + 1))} /> }
        }
        Loadable::Loaded(log) if log.entries.is_empty() => {
            html! { <p>{ tr(lang, "account.data_access_none") }</p> }
        }
        Loadable::Loaded(log) => html! {
            <>
            <ol class="access-log">
                { for log.entries.iter().map(|e| html! {
                    <li>
                        <p class="access-when">{ format_vn_datetime(e.at) }</p>
                        <p><strong>{ &e.accessor }</strong>{ format!(" {} ", tr(lang, "account.data_access_read")) }<strong>{ &e.source }</strong></p>
                        <p class="hint">{ format!("{}: {}", tr(lang, "account.data_access_what"), e.data) }</p>
                        <p class="hint">{ format!("{}: {}", tr(lang, "account.data_access_why"), e.purpose) }</p>
                    </li>
                }) }
            </ol>
            { more }
            </>
        },
    };
    html! {
        <section aria-labelledby="access-heading">
            <h2 id="access-heading">{ tr(lang, "account.data_access") }</h2>
            <p class="hint">{ tr(lang, "account.data_access_hint") }</p>
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct PasskeysProps {
    csrf_token: String,
}

/// The person's passkeys: add one on this device, see when each was used, remove one.
#[component]
fn Passkeys(props: &PasskeysProps) -> Html {
    let lang = use_lang().lang;
    let generation = use_state(|| 0u32);
    let list = use_load(*generation, |_| api::passkeys());
    let name = use_state(|| tr(lang, "account.passkey_default_name"));
    let busy = use_state(|| false);
    let failure = use_state(|| None::<ApiFailure>);
    let on_name = {
        let name = name.clone();
        Callback::from(move |e: InputEvent| {
            name.set(
                e.target_unchecked_into::<web_sys::HtmlInputElement>()
                    .value(),
            )
        })
    };
    let on_add = {
        let (token, name, busy, failure, generation) = (
            props.csrf_token.clone(),
            name.clone(),
            busy.clone(),
            failure.clone(),
            generation.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (token, label, busy, failure, generation) = (
                token.clone(),
                (*name).clone(),
                busy.clone(),
                failure.clone(),
                generation.clone(),
            );
            busy.set(true);
            failure.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match api::webauthn::register(&label, &token).await {
                    Ok(_) => generation.set(*generation + 1),
                    Err(f) => failure.set(Some(f)),
                }
                busy.set(false);
            });
        })
    };
    let remove = {
        let (token, generation) = (props.csrf_token.clone(), generation.clone());
        Callback::from(move |id: String| {
            let (token, generation) = (token.clone(), generation.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let _ = api::send("DELETE", &format!("/api/v1/me/passkeys/{id}"), &token).await;
                generation.set(*generation + 1);
            });
        })
    };
    let body = match &*list {
        Loadable::Loading => html! { <Loading text={tr(lang, "account.loading")} /> },
        Loadable::Failed(f) => {
            let generation = generation.clone();
            html! { <Failure failure={f.clone()} on_retry={Callback::from(move |()| generation.set(*generation + 1))} /> }
        }
        Loadable::Loaded(list) if !list.available || !api::webauthn::supported() => html! {
            <p class="hint">{ tr(lang, "account.passkeys_unavailable") }</p>
        },
        Loadable::Loaded(list) => html! {
            <>
                if list.passkeys.is_empty() {
                    <p>{ tr(lang, "account.passkeys_none") }</p>
                } else {
                    <ul class="devices passkeys">
                        { for list.passkeys.iter().map(|p| {
                            let onclick = { let (remove, id) = (remove.clone(), p.id.clone()); Callback::from(move |_: MouseEvent| remove.emit(id.clone())) };
                            let used = match p.last_used_at {
                                Some(at) => format!("{} {}", tr(lang, "account.passkey_used"), format_vn_datetime(at)),
                                None => tr(lang, "account.passkey_never_used"),
                            };
                            html! {
                                <li class="device">
                                    <div>
                                        <strong>{ &p.name }</strong>
                                        <p class="hint">{ format!("{} {} · {used}", tr(lang, "account.passkey_added"), format_vn_datetime(p.created_at)) }</p>
                                    </div>
                                    <button type="button" class="button button-quiet" aria-label={format!("{} {}", tr(lang, "account.passkey_remove"), p.name)} {onclick}>
                                        { tr(lang, "account.passkey_remove") }
                                    </button>
                                </li>
                            }
                        }) }
                    </ul>
                }
                <form class="passkey-add" onsubmit={on_add}>
                    <div class="field">
                        <label for="passkey-name">{ tr(lang, "account.passkey_name") }</label>
                        <input id="passkey-name" class="input" maxlength="60" required=true value={(*name).clone()} oninput={on_name} />
                    </div>
                    <button type="submit" class="button" disabled={*busy}>{ tr(lang, "account.passkey_add") }</button>
                </form>
                if let Some(f) = &*failure {
                    <Failure failure={f.clone()} on_retry={Callback::noop()} />
                }
            </>
        },
    };
    html! {
        <section aria-labelledby="passkeys-heading">
            <h2 id="passkeys-heading">{ tr(lang, "account.passkeys") }</h2>
            <p class="hint">{ tr(lang, "account.passkeys_hint") }</p>
            { body }
        </section>
    }
}

/// Whom the person acts for in this session: themself, or an organisation they represent.
#[component]
fn ActingFor(props: &ProfileProps) -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    let me = &props.me;
    let failure = use_state(|| None::<ApiFailure>);
    let choose = {
        let (token, reload, failure) = (
            me.csrf_token.clone(),
            session.reload.clone(),
            failure.clone(),
        );
        Callback::from(move |tax_code: Option<String>| {
            let (token, reload, failure) = (token.clone(), reload.clone(), failure.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::set_acting_for(tax_code.as_deref(), &token).await {
                    Ok(()) => reload.emit(()),
                    Err(f) => failure.set(Some(f)),
                }
            });
        })
    };
    let option = |id: String, value: Option<String>, label: String, detail: String| {
        let checked = me.acting_for == value;
        let onchange = {
            let (choose, value) = (choose.clone(), value.clone());
            Callback::from(move |_: Event| choose.emit(value.clone()))
        };
        html! {
            <div class="choice">
                <input type="radio" name="acting-for" id={id.clone()} {checked} {onchange} />
                <label for={id}><strong>{ label }</strong><span class="hint">{ detail }</span></label>
            </div>
        }
    };
    html! {
        <section aria-labelledby="acting-heading">
            <fieldset class="card acting-for">
                <legend id="acting-heading"><h2>{ tr(lang, "account.acting_for") }</h2></legend>
                <p class="hint">{ tr(lang, "account.acting_for_hint") }</p>
                { option("acting-self".into(), None, me.name.clone(), tr(lang, "account.acting_self")) }
                { for me.organisations.iter().map(|o| option(
                    format!("acting-{}", o.tax_code),
                    Some(o.tax_code.clone()),
                    o.name.clone(),
                    format!("{} {} · {}", tr(lang, "account.tax_code"), o.tax_code, o.title),
                )) }
            </fieldset>
            if me.acting_for.is_some() {
                <p><a href="/business" class="button">{ tr(lang, "biz.title") }</a></p>
            }
            if let Some(f) = &*failure {
                <Failure failure={f.clone()} on_retry={Callback::noop()} />
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct RecordsProps {
    on_read: Callback<()>,
}

/// What the national registers hold about the person, read only when asked (each read is logged).
#[component]
fn Records(props: &RecordsProps) -> Html {
    let lang = use_lang().lang;
    let state = use_state(|| None::<Loadable<motcua_shared::registry::MyRecords>>);
    let onclick = {
        let (state, on_read) = (state.clone(), props.on_read.clone());
        Callback::from(move |_: MouseEvent| {
            let (state, on_read) = (state.clone(), on_read.clone());
            state.set(Some(Loadable::Loading));
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::my_records().await;
                state.set(Some(match result {
                    Ok(records) => Loadable::Loaded(std::rc::Rc::new(records)),
                    Err(f) => Loadable::Failed(f),
                }));
                on_read.emit(());
            });
        })
    };
    let body = match &*state {
        None => html! {
            <button type="button" class="button button-quiet" {onclick}>{ tr(lang, "records.read") }</button>
        },
        Some(Loadable::Loading) => html! { <Loading text={tr(lang, "records.loading")} /> },
        Some(Loadable::Failed(f)) => {
            html! { <Failure failure={f.clone()} on_retry={Callback::noop()} /> }
        }
        Some(Loadable::Loaded(records)) => html! {
            <>
                if let Some(p) = &records.population {
                    <div class="card record">
                        <h3>{ tr(lang, "records.population") }</h3>
                        <dl class="facts facts-stacked">
                            <div><dt>{ tr(lang, "records.residence") }</dt><dd>{ &p.permanent_residence }</dd></div>
                            <div><dt>{ tr(lang, "records.household") }</dt><dd>{ format!("{} · {}", p.household_id, tr(lang, &format!("records.relation_{}", p.household_relation))) }</dd></div>
                        </dl>
                    </div>
                }
                if records.driving_licences.is_empty() {
                    <p>{ tr(lang, "records.no_licence") }</p>
                }
                { for records.driving_licences.iter().map(|l| {
                    let (badge, status) = match l.status {
                        motcua_shared::registry::LicenceStatus::Valid => ("badge badge-full", "records.licence_valid"),
                        motcua_shared::registry::LicenceStatus::Suspended => ("badge badge-partial", "records.licence_suspended"),
                        motcua_shared::registry::LicenceStatus::Revoked => ("badge badge-partial", "records.licence_revoked"),
                    };
                    html! {
                        <div class="card record">
                            <div class="badges"><span class={badge}>{ tr(lang, status) }</span></div>
                            <h3>{ format!("{} {}", tr(lang, "records.licence"), l.classes.join(", ")) }</h3>
                            <dl class="facts">
                                <div><dt>{ tr(lang, "records.licence_number") }</dt><dd>{ &l.number }</dd></div>
                                <div><dt>{ tr(lang, "records.expires") }</dt><dd>{ l.expires_on.as_deref().map(format_vn_date).unwrap_or_else(|| tr(lang, "records.no_expiry")) }</dd></div>
                            </dl>
                        </div>
                    }
                }) }
            </>
        },
    };
    html! {
        <section aria-labelledby="records-heading">
            <h2 id="records-heading">{ tr(lang, "records.title") }</h2>
            <p class="hint">{ tr(lang, "records.hint") }</p>
            { body }
        </section>
    }
}
