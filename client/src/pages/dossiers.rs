//! "My dossiers": each dossier's status and clock, and one dossier's timeline, what is asked of
//! the person (a supplement, answered here), and withdrawal while it is still possible.

use std::rc::Rc;

use motcua_shared::{
    dossier::{Actor, Context, DossierAction, DossierStatus, transition},
    dossier_api::DossierView,
    eform::{FieldError, Form},
    time::format_vn_datetime,
};
use serde_json::{Map, Value};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::{
    api::{self, ApiFailure},
    app::Route,
    components::{
        dossier_bits::{clocks, status_badge, timeline},
        eform::{FieldInput, answers as answers_list, first_error, is_asked, own_document, today},
        feedback::{Failure, Loading, SignInPrompt},
    },
    hooks::{Loadable, use_lang, use_live, use_more, use_quiet_load, use_session, use_title},
    i18n::tr,
};

/// The CSRF token of the signed-in session, if any.
fn csrf_of(session: &crate::hooks::SessionContext) -> Option<String> {
    match &session.me {
        Loadable::Loaded(me) => me.as_ref().as_ref().map(|m| m.csrf_token.clone()),
        _ => None,
    }
}

#[component]
pub fn DossiersPage() -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    use_title(tr(lang, "dossiers.title"));
    let signed_in = csrf_of(&session).is_some();
    let retries = use_state(|| 0u32);
    // Any dossier that changed live refreshes the list.
    let live = use_live();
    let changes: u32 = live.dossiers.values().sum::<u32>() + live.resyncs;
    let list = use_quiet_load(
        (signed_in, *retries, changes),
        |(signed_in, ..)| async move {
            if signed_in {
                api::dossiers().await.map(Some)
            } else {
                Ok(None)
            }
        },
    );
    let more = use_more(&list, "/api/v1/dossiers", Vec::new());
    let on_retry = Callback::from(move |()| retries.set(*retries + 1));
    let body = match (&session.me, &*list) {
        (Loadable::Loaded(me), _) if me.is_none() => html! { <SignInPrompt /> },
        (Loadable::Loading, _) | (_, Loadable::Loading) => {
            html! { <Loading text={tr(lang, "dossiers.loading")} /> }
        }
        (_, Loadable::Failed(failure)) => {
            html! { <Failure failure={failure.clone()} {on_retry} /> }
        }
        (_, Loadable::Loaded(list)) => match list.as_ref() {
            Some(list) if !list.dossiers.is_empty() => html! {
                <>
                    <ul class="cards">
                        { for list.dossiers.iter().map(|d| html! {
                            <li key={d.id.clone()}><DossierCard dossier={d.clone()} /></li>
                        }) }
                    </ul>
                    { more }
                </>
            },
            _ => html! {
                <div class="notice">
                    <p>{ tr(lang, "dossiers.none") }</p>
                    <Link<Route> to={Route::Procedures} classes="button">{ tr(lang, "home.find_procedure") }</Link<Route>>
                </div>
            },
        },
    };
    html! {
        <div class="page">
            <h1>{ tr(lang, "dossiers.title") }</h1>
            if let Some(csrf) = csrf_of(&session) {
                <crate::components::notices::Notices {csrf} />
            }
            { body }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct CardProps {
    dossier: DossierView,
}

#[component]
fn DossierCard(props: &CardProps) -> Html {
    let lang = use_lang().lang;
    let d = &props.dossier;
    html! {
        <article class="card dossier">
            <div class="badges">{ status_badge(lang, d.status) }</div>
            <h2 class="procedure-name">
                <Link<Route> to={Route::Dossier { id: d.id.clone() }}>{ d.procedure_name.get(lang) }</Link<Route>>
            </h2>
            <p class="procedure-code">{ format!("{} · {}", d.receipt_number, format_vn_datetime(d.submitted_at)) }</p>
            if d.status == DossierStatus::SupplementRequested {
                <p class="notice notice-warn">{ tr(lang, "dossier.asked") }</p>
            }
            { clocks(lang, d) }
        </article>
    }
}

#[derive(Properties, PartialEq)]
pub struct DossierPageProps {
    pub id: AttrValue,
}

#[component]
pub fn DossierPage(props: &DossierPageProps) -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    use_title(tr(lang, "dossier.title"));
    let csrf = csrf_of(&session);
    let generation = use_state(|| 0u32);
    // A change an officer makes shows here at once (Server-Sent Events), said to screen readers.
    let live = use_live().of_dossier(&props.id);
    let loaded = use_quiet_load(
        (props.id.to_string(), csrf.is_some(), *generation, live),
        |(id, signed_in, ..)| async move {
            if !signed_in {
                return Err(ApiFailure::Unexpected);
            }
            let dossier = api::dossier(id).await?;
            let form = api::procedure(dossier.procedure_code.clone())
                .await
                .ok()
                .and_then(|p| p.form);
            Ok((dossier, form))
        },
    );
    let reload = {
        let generation = generation.clone();
        Callback::from(move |()| generation.set(*generation + 1))
    };
    let body = match (&session.me, &*loaded) {
        (Loadable::Loaded(me), _) if me.is_none() => html! { <SignInPrompt /> },
        (Loadable::Loading, _) | (_, Loadable::Loading) => {
            html! { <Loading text={tr(lang, "dossiers.loading")} /> }
        }
        (_, Loadable::Failed(failure)) => {
            html! { <Failure failure={failure.clone()} on_retry={reload} /> }
        }
        (_, Loadable::Loaded(data)) => {
            let (dossier, form) = (**data).clone();
            html! {
                <>
                    if live.0 > 0 {
                        <p class="notice notice-ok" role="status" data-live="updated">{ tr(lang, "notifications.live_updated") }</p>
                    }
                    <DossierDetail dossier={Rc::new(dossier)} {form} csrf={csrf.unwrap_or_default()} {reload} />
                </>
            }
        }
    };
    html! {
        <div class="page page-narrow">
            <Link<Route> to={Route::Dossiers} classes="back-link">{ tr(lang, "dossier.back") }</Link<Route>>
            { body }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct DetailProps {
    dossier: Rc<DossierView>,
    form: Option<Form>,
    csrf: String,
    reload: Callback<()>,
}

#[component]
fn DossierDetail(props: &DetailProps) -> Html {
    let lang = use_lang().lang;
    let d = &props.dossier;
    let failure = use_state(|| None::<ApiFailure>);
    let busy = use_state(|| false);
    let confirming = use_state(|| false);
    let received = d.events.iter().any(|e| e.action == "received");
    let can_withdraw = transition(
        d.status,
        DossierAction::Withdraw,
        Actor::Applicant,
        None,
        Context {
            clock_started: received,
        },
    )
    .is_ok();
    let withdraw = {
        let (failure, busy, reload) = (failure.clone(), busy.clone(), props.reload.clone());
        let (id, csrf) = (d.id.clone(), props.csrf.clone());
        Callback::from(move |_| {
            busy.set(true);
            let (failure, busy, reload, id, csrf) = (
                failure.clone(),
                busy.clone(),
                reload.clone(),
                id.clone(),
                csrf.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let path = format!("/api/v1/dossiers/{}/withdraw", api::enc(&id));
                match api::send("POST", &path, &csrf).await {
                    Ok(()) => reload.emit(()),
                    Err(f) => failure.set(Some(f)),
                }
                busy.set(false);
            });
        })
    };
    html! {
        <>
            <p class="eyebrow">{ &d.receipt_number }</p>
            <h1>{ d.procedure_name.get(lang) }</h1>
            <div class="badges">{ status_badge(lang, d.status) }</div>
            { clocks(lang, d) }
            <crate::pages::payments::FeeSection dossier={props.dossier.clone()} csrf={props.csrf.clone()} />
            if d.status == DossierStatus::SupplementRequested {
                <section class="notice notice-warn" aria-labelledby="asked-heading">
                    <h2 id="asked-heading">{ tr(lang, "dossier.asked") }</h2>
                    { for d.status_reason.as_ref().map(|r| html! { <p class="reason">{ r }</p> }) }
                    if let Some(form) = props.form.clone() {
                        <Supplement dossier={props.dossier.clone()} {form} csrf={props.csrf.clone()} reload={props.reload.clone()} />
                    }
                </section>
            } else if matches!(d.status, DossierStatus::Rejected) {
                { for d.status_reason.as_ref().map(|r| html! {
                    <p class="notice notice-error"><strong>{ tr(lang, "dossier.refused_because") }</strong>{ " " }{ r }</p>
                }) }
            }
            <h2>{ tr(lang, "dossier.timeline") }</h2>
            { timeline(lang, &d.events) }
            <crate::pages::satisfaction::RatingPanel dossier_id={d.id.clone()} csrf={props.csrf.clone()} />
            <p><a href={format!("/feedback?dossier={}", api::enc(&d.id))}>{ tr(lang, "feedback.about_this_dossier") }</a></p>
            if let Some(form) = props.form.clone() {
                <h2>{ tr(lang, "dossier.answers") }</h2>
                { answers_list(lang, &form, &d.answers, &d.verified_fields, None, &own_document) }
            }
            if let Some(f) = (*failure).clone() {
                <Failure failure={f} on_retry={props.reload.clone()} />
            }
            if can_withdraw {
                if *confirming {
                    <div class="notice" role="alertdialog" aria-labelledby="withdraw-q">
                        <p id="withdraw-q">{ tr(lang, "dossier.withdraw_confirm") }</p>
                        <button type="button" class="button button-danger" onclick={withdraw} disabled={*busy}>
                            { tr(lang, "dossier.withdraw_yes") }
                        </button>
                        <button type="button" class="button" onclick={{ let c = confirming.clone(); Callback::from(move |_| c.set(false)) }}>
                            { tr(lang, "dossier.withdraw_no") }
                        </button>
                    </div>
                } else {
                    <button type="button" class="button" onclick={{ let c = confirming.clone(); Callback::from(move |_| c.set(true)) }}>
                        { tr(lang, "dossier.withdraw") }
                    </button>
                }
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct SupplementProps {
    dossier: Rc<DossierView>,
    form: Form,
    csrf: String,
    reload: Callback<()>,
}

/// The person changes what was asked (values the state verified stay locked) and resubmits.
#[component]
fn Supplement(props: &SupplementProps) -> Html {
    let lang = use_lang().lang;
    let answers = use_state(|| props.dossier.answers.clone());
    let errors = use_state(Vec::<FieldError>::new);
    let failure = use_state(|| None::<ApiFailure>);
    let busy = use_state(|| false);
    let verified = &props.dossier.verified_fields;
    let onsubmit = {
        let (answers, errors, failure, busy) = (
            answers.clone(),
            errors.clone(),
            failure.clone(),
            busy.clone(),
        );
        let (form, id, csrf, reload) = (
            props.form.clone(),
            props.dossier.id.clone(),
            props.csrf.clone(),
            props.reload.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let current: Map<String, Value> = (*answers).clone();
            let problems = form.validate(&current, today());
            if !problems.is_empty() {
                errors.set(problems);
                return;
            }
            busy.set(true);
            let (errors, failure, busy, reload) = (
                errors.clone(),
                failure.clone(),
                busy.clone(),
                reload.clone(),
            );
            let path = format!("/api/v1/dossiers/{}/resubmit", api::enc(&id));
            let csrf = csrf.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let body = serde_json::json!({ "answers": current });
                match api::post_json::<DossierView>(&path, &body, Some(&csrf)).await {
                    Ok(_) => reload.emit(()),
                    Err(ApiFailure::Server { body, .. }) if !body.fields.is_empty() => {
                        errors.set(body.fields)
                    }
                    Err(f) => failure.set(Some(f)),
                }
                busy.set(false);
            });
        })
    };
    html! {
        <form {onsubmit} novalidate=true>
            { for props.form.fields.iter().filter(|f| !verified.contains(&f.name) && is_asked(f, &answers)).map(|f| {
                let on_change = {
                    let (answers, name) = (answers.clone(), f.name.clone());
                    Callback::from(move |v: Value| {
                        let mut next = (*answers).clone();
                        next.insert(name.clone(), v);
                        answers.set(next);
                    })
                };
                html! {
                    <FieldInput field={f.clone()} value={answers.get(&f.name).cloned()} {on_change}
                        error={first_error(&errors, &f.name, lang)} />
                }
            }) }
            if let Some(f) = (*failure).clone() {
                <Failure failure={f} on_retry={Callback::noop()} />
            }
            <button type="submit" class="button button-primary" disabled={*busy}>{ tr(lang, "dossier.resubmit") }</button>
        </form>
    }
}
