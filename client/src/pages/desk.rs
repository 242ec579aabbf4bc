//! The officers' dashboard: their agency (within their unit) in detail for a period: its index,
//! the ratings it was given (never who gave them), feedback to answer, late dossiers, and
//! changes the national systems have not acknowledged.

use std::rc::Rc;

use motcua_shared::{
    calendar::Day,
    satisfaction_api::{Dashboard, DeskFeedback, DeskRating},
    time::format_vn_datetime,
};
use serde_json::json;
use wasm_bindgen::JsCast;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::{
    api::{self, ApiFailure},
    app::Route,
    components::{
        feedback::{Failure, Loading, SignInPrompt},
        scorecard::{ScorecardView, num, pct},
    },
    hooks::{Loadable, use_lang, use_load, use_session, use_title},
    i18n::tr,
};

fn input_value(e: &Event) -> String {
    e.target()
        .and_then(|t| {
            t.clone()
                .dyn_into::<web_sys::HtmlInputElement>()
                .map(|i| i.value())
                .ok()
                .or_else(|| {
                    t.dyn_into::<web_sys::HtmlTextAreaElement>()
                        .ok()
                        .map(|a| a.value())
                })
        })
        .unwrap_or_default()
}

#[component]
pub fn DeskPage() -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    use_title(tr(lang, "desk.title"));
    let today = Day::of_instant(js_sys::Date::now() as i64);
    let from = use_state(|| Day(today.0 - 30).iso());
    let to = use_state(|| today.iso());
    let generation = use_state(|| 0u32);
    let csrf = match &session.me {
        Loadable::Loaded(me) => me.as_ref().as_ref().map(|m| m.csrf_token.clone()),
        _ => None,
    };
    let signed_in = csrf.is_some();
    let data = use_load(
        ((*from).clone(), (*to).clone(), *generation, signed_in, lang),
        |(from, to, _, signed_in, _)| async move {
            if !signed_in {
                return Ok(None);
            }
            api::get::<Dashboard>(
                "/api/v1/officer/dashboard",
                &[("from", from.as_str()), ("to", to.as_str())],
            )
            .await
            .map(Some)
        },
    );
    let reload = {
        let generation = generation.clone();
        Callback::from(move |()| generation.set(*generation + 1))
    };
    let body = match (&session.me, &*data) {
        (Loadable::Loaded(me), _) if me.is_none() => html! { <SignInPrompt /> },
        (_, Loadable::Loading) | (Loadable::Loading, _) => {
            html! { <Loading text={tr(lang, "desk.loading")} /> }
        }
        (_, Loadable::Failed(f)) => {
            html! { <Failure failure={f.clone()} on_retry={reload.clone()} /> }
        }
        (_, Loadable::Loaded(d)) => match (d.as_ref(), csrf) {
            (Some(d), Some(csrf)) => {
                html! { <DeskBody dashboard={Rc::new(d.clone())} {csrf} reload={reload.clone()} /> }
            }
            _ => html! { <SignInPrompt /> },
        },
    };
    html! {
        <div class="page page-wide desk">
            <Link<Route> to={Route::Office} classes="back-link">{ tr(lang, "desk.back") }</Link<Route>>
            <h1>{ tr(lang, "desk.title") }</h1>
            <form class="filters" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
                <div class="field">
                    <label for="desk-from">{ tr(lang, "desk.from") }</label>
                    <input id="desk-from" type="date" class="input" value={(*from).clone()}
                        onchange={{ let from = from.clone(); Callback::from(move |e: Event| from.set(input_value(&e))) }} />
                </div>
                <div class="field">
                    <label for="desk-to">{ tr(lang, "desk.to") }</label>
                    <input id="desk-to" type="date" class="input" value={(*to).clone()}
                        onchange={{ let to = to.clone(); Callback::from(move |e: Event| to.set(input_value(&e))) }} />
                </div>
            </form>
            <div aria-live="polite">{ body }</div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct BodyProps {
    dashboard: Rc<Dashboard>,
    csrf: String,
    reload: Callback<()>,
}

#[component]
fn DeskBody(props: &BodyProps) -> Html {
    let lang = use_lang().lang;
    let d = &props.dashboard;
    let open: Vec<&DeskFeedback> = d.feedback.iter().filter(|f| f.status == "open").collect();
    html! {
        <>
            <p class="eyebrow">{ tr(lang, "desk.agency").replace("%{agency}", &d.agency_code) }</p>
            <ScorecardView card={Rc::new(d.scorecard.clone())} />
            <section aria-labelledby="desk-ratings">
                <h2 id="desk-ratings">{ tr(lang, "desk.ratings") }</h2>
                { ratings_summary(lang, &d.ratings) }
            </section>
            <section aria-labelledby="desk-feedback">
                <h2 id="desk-feedback">{ tr(lang, "desk.feedback").replace("%{count}", &open.len().to_string()) }</h2>
                if d.feedback.is_empty() {
                    <p class="notice">{ tr(lang, "desk.no_feedback") }</p>
                } else {
                    <ul class="cards cards-single">
                        { for d.feedback.iter().take(50).map(|f| html! {
                            <li key={f.id.clone()}><DeskFeedbackCard feedback={f.clone()} csrf={props.csrf.clone()} reload={props.reload.clone()} /></li>
                        }) }
                    </ul>
                }
            </section>
            <section aria-labelledby="desk-late">
                <h2 id="desk-late">{ tr(lang, "desk.late").replace("%{count}", &d.late.len().to_string()) }</h2>
                if d.late.is_empty() {
                    <p class="notice notice-ok">{ tr(lang, "desk.no_late") }</p>
                } else {
                    <div class="table-wrap">
                        <table class="queue">
                            <thead><tr>
                                <th scope="col">{ tr(lang, "desk.receipt") }</th>
                                <th scope="col">{ tr(lang, "stats.procedure") }</th>
                                <th scope="col">{ tr(lang, "desk.deadline") }</th>
                            </tr></thead>
                            <tbody>
                                { for d.late.iter().map(|l| html! {
                                    <tr class="is-late">
                                        <th scope="row"><Link<Route> to={Route::OfficeDossier { id: l.id.clone() }}>{ l.receipt_number.clone() }</Link<Route>></th>
                                        <td>{ l.procedure_code.clone() }</td>
                                        <td>{ l.deadline_at.or(l.overdue_at).map(format_vn_datetime).unwrap_or_else(|| "–".into()) }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    </div>
                }
            </section>
            <section aria-labelledby="desk-sync">
                <h2 id="desk-sync">{ tr(lang, "desk.sync") }</h2>
                if d.sync_failures.is_empty() {
                    <p class="notice notice-ok">{ tr(lang, "desk.sync_ok") }</p>
                } else {
                    <div class="table-wrap">
                        <table class="queue">
                            <thead><tr>
                                <th scope="col">{ tr(lang, "desk.system") }</th>
                                <th scope="col">{ tr(lang, "desk.receipt") }</th>
                                <th scope="col">{ tr(lang, "desk.change") }</th>
                                <th scope="col">{ tr(lang, "desk.attempts") }</th>
                            </tr></thead>
                            <tbody>
                                { for d.sync_failures.iter().map(|s| html! {
                                    <tr>
                                        <th scope="row">{ tr(lang, &format!("desk.system_{}", s.system)) }</th>
                                        <td>{ s.receipt_number.clone() }</td>
                                        <td>{ format!("{} · {}", s.change, format_vn_datetime(s.changed_at)) }</td>
                                        <td>{ format!("{}{}", s.attempts, if s.given_up { format!(" · {}", tr(lang, "desk.given_up")) } else { String::new() }) }
                                            { for s.last_error.as_ref().map(|e| html! { <span class="hint">{ format!(" — {e}") }</span> }) }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    </div>
                }
            </section>
        </>
    }
}

fn ratings_summary(lang: motcua_shared::Lang, ratings: &[DeskRating]) -> Html {
    if ratings.is_empty() {
        return html! { <p class="notice">{ tr(lang, "desk.no_ratings") }</p> };
    }
    #[allow(clippy::cast_precision_loss)]
    let n = ratings.len() as f64;
    let satisfied = ratings.iter().filter(|r| r.satisfied).count();
    #[allow(clippy::cast_precision_loss)]
    let share = satisfied as f64 / n;
    let average = |f: fn(&DeskRating) -> u8| {
        num(
            lang,
            ratings.iter().map(|r| f64::from(f(r))).sum::<f64>() / n,
            1,
        )
    };
    html! {
        <>
            <dl class="facts">
                <dt>{ tr(lang, "desk.ratings_count") }</dt><dd>{ ratings.len().to_string() }</dd>
                <dt>{ tr(lang, "rating.satisfied") }</dt><dd>{ pct(lang, Some(share)) }</dd>
                <dt>{ tr(lang, "rating.timeliness") }</dt><dd>{ format!("{} / 5", average(|r| r.timeliness)) }</dd>
                <dt>{ tr(lang, "rating.clarity") }</dt><dd>{ format!("{} / 5", average(|r| r.clarity)) }</dd>
                <dt>{ tr(lang, "rating.attitude") }</dt><dd>{ format!("{} / 5", average(|r| r.attitude)) }</dd>
            </dl>
            <ul class="comments">
                { for ratings.iter().filter_map(|r| r.comment.as_ref().map(|c| (r, c))).take(10).map(|(r, c)| html! {
                    <li><span class={classes!("badge", if r.satisfied { "badge-verified" } else { "badge-warn" })}>
                        { tr(lang, if r.satisfied { "rating.satisfied" } else { "rating.not_satisfied" }) }</span>
                        { format!(" {} · {} — {c}", r.procedure_code, r.month) }</li>
                }) }
            </ul>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct DeskFeedbackProps {
    feedback: DeskFeedback,
    csrf: String,
    reload: Callback<()>,
}

#[component]
fn DeskFeedbackCard(props: &DeskFeedbackProps) -> Html {
    let lang = use_lang().lang;
    let f = &props.feedback;
    let answer = use_state(String::new);
    let failure = use_state(|| None::<ApiFailure>);
    let busy = use_state(|| false);
    let submit = {
        let (answer, failure, busy, reload, csrf, id) = (
            answer.clone(),
            failure.clone(),
            busy.clone(),
            props.reload.clone(),
            props.csrf.clone(),
            f.id.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            busy.set(true);
            let body = json!({ "answer": *answer });
            let (failure, busy, reload, csrf, id) = (
                failure.clone(),
                busy.clone(),
                reload.clone(),
                csrf.clone(),
                id.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let path = format!("/api/v1/officer/feedback/{}/answer", api::enc(&id));
                match api::send_json::<DeskFeedback>("POST", &path, &body, &csrf).await {
                    Ok(_) => reload.emit(()),
                    Err(e) => failure.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let late = f.status == "open" && f.due_at < js_sys::Date::now() as i64;
    let field = format!("answer-{}", f.id);
    html! {
        <article class={classes!("card", "feedback-card", late.then_some("is-late"))}>
            <p class="eyebrow">{ f.receipt_number.clone().or(f.procedure_code.clone()).unwrap_or_default() }
                { format!(" · {}", tr(lang, &format!("feedback.kind_{}", f.about.as_str()))) }</p>
            <h3 class="card-title">{ f.subject.clone() }</h3>
            <p class="feedback-body">{ f.body.clone() }</p>
            if let Some(answer) = &f.answer {
                <div class="notice notice-ok"><p class="feedback-body">{ answer.clone() }</p></div>
                { match f.settled {
                    Some(true) => html! { <p class="badge badge-verified">{ tr(lang, "feedback.was_settled") }</p> },
                    Some(false) => html! { <p class="badge badge-warn">{ tr(lang, "feedback.was_not_settled") }</p> },
                    None => html! {},
                } }
            } else {
                <p class={classes!("badge", if late { "badge-warn" } else { "badge-muted" })}>
                    { tr(lang, "feedback.waiting").replace("%{due}", &format_vn_datetime(f.due_at)) }</p>
                <form class="reason-form" onsubmit={submit}>
                    <div class="field">
                        <label for={field.clone()}>{ tr(lang, "desk.answer") }</label>
                        <textarea id={field} class="input" rows="3" required=true value={(*answer).clone()}
                            oninput={{ let answer = answer.clone(); Callback::from(move |e: InputEvent| answer.set(input_value(&e))) }} />
                    </div>
                    if let Some(e) = (*failure).clone() {
                        <Failure failure={e} on_retry={Callback::noop()} />
                    }
                    <button type="submit" class="button" disabled={*busy}>{ tr(lang, "desk.send_answer") }</button>
                </form>
            }
        </article>
    }
}
