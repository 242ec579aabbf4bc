//! Rating a dossier's service once it ended, and feedback: sending it about a procedure, a
//! dossier or an officer's conduct, reading the desk's answer, and saying whether it settled
//! the matter.

use motcua_shared::{
    dossier_api::DossierList,
    procedure::ProcedureList,
    satisfaction_api::{DossierRating, Feedback, FeedbackList, MAX_BODY, MAX_COMMENT, MAX_SUBJECT},
    time::format_vn_datetime,
    units,
};
use serde_json::json;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::{
    api::{self, ApiFailure},
    components::feedback::{Failure, Loading, SignInPrompt},
    hooks::{Loadable, use_lang, use_load, use_more, use_session, use_title},
    i18n::tr,
};

fn input_value(e: &InputEvent) -> String {
    e.target()
        .and_then(|t| {
            t.clone()
                .dyn_into::<web_sys::HtmlTextAreaElement>()
                .map(|a| a.value())
                .ok()
                .or_else(|| {
                    t.dyn_into::<web_sys::HtmlInputElement>()
                        .ok()
                        .map(|i| i.value())
                })
        })
        .unwrap_or_default()
}

fn select_value(e: &Event) -> String {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
        .map(|s| s.value())
        .unwrap_or_default()
}

#[derive(Properties, PartialEq)]
pub struct RatingProps {
    pub dossier_id: AttrValue,
    pub csrf: AttrValue,
}

/// The rating of an ended dossier: satisfied or not, three scores and a comment; shown only
/// once the dossier can be rated, and changeable until its window closes.
#[component]
pub fn RatingPanel(props: &RatingProps) -> Html {
    let lang = use_lang().lang;
    let generation = use_state(|| 0u32);
    let id = props.dossier_id.to_string();
    let loaded = use_load((id.clone(), *generation), |(id, _)| async move {
        api::get::<DossierRating>(&format!("/api/v1/dossiers/{}/rating", api::enc(&id)), &[]).await
    });
    let satisfied = use_state(|| None::<bool>);
    let scores = use_state(|| [0u8; 3]);
    let comment = use_state(String::new);
    let saved = use_state(|| false);
    let failure = use_state(|| None::<ApiFailure>);
    // Start from the rating given, once it is read.
    {
        let (satisfied, scores, comment) = (satisfied.clone(), scores.clone(), comment.clone());
        let given = match &*loaded {
            Loadable::Loaded(r) => r.rating.clone(),
            _ => None,
        };
        use_effect_with(given, move |given| {
            if let Some(r) = given {
                satisfied.set(Some(r.satisfied));
                scores.set([r.timeliness, r.clarity, r.attitude]);
                comment.set(r.comment.clone().unwrap_or_default());
            }
        });
    }
    let Loadable::Loaded(state) = &*loaded else {
        return html! {};
    };
    let Some(open_until) = state.open_until else {
        return match &state.rating {
            Some(r) => html! {
                <section class="rating notice" aria-labelledby="rating-heading">
                    <h2 id="rating-heading">{ tr(lang, "rating.title") }</h2>
                    <p>{ tr(lang, if r.satisfied { "rating.was_satisfied" } else { "rating.was_not_satisfied" }) }</p>
                </section>
            },
            None => html! {},
        };
    };
    let complete = satisfied.is_some() && scores.iter().all(|s| *s > 0);
    let submit = {
        let (satisfied, scores, comment) = (satisfied.clone(), scores.clone(), comment.clone());
        let (saved, failure, generation) = (saved.clone(), failure.clone(), generation.clone());
        let (id, csrf) = (id.clone(), props.csrf.to_string());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(yes) = *satisfied else { return };
            let [t, c, a] = *scores;
            let body = json!({ "satisfied": yes, "timeliness": t, "clarity": c, "attitude": a, "comment": (*comment).clone() });
            let (saved, failure, generation, id, csrf) = (
                saved.clone(),
                failure.clone(),
                generation.clone(),
                id.clone(),
                csrf.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let path = format!("/api/v1/dossiers/{}/rating", api::enc(&id));
                match api::send_json::<DossierRating>("PUT", &path, &body, &csrf).await {
                    Ok(_) => {
                        failure.set(None);
                        saved.set(true);
                        generation.set(*generation + 1);
                    }
                    Err(f) => failure.set(Some(f)),
                }
            });
        })
    };
    let choice = |value: bool, key: &str| {
        let satisfied = satisfied.clone();
        let id = format!("rating-satisfied-{value}");
        html! {
            <div class="radio">
                <input type="radio" id={id.clone()} name="rating-satisfied" checked={*satisfied == Some(value)}
                    onchange={Callback::from(move |_| satisfied.set(Some(value)))} />
                <label for={id}>{ tr(lang, key) }</label>
            </div>
        }
    };
    let score = |index: usize, key: &str| {
        let name = format!("rating-score-{index}");
        html! {
            <fieldset class="field score">
                <legend>{ tr(lang, key) }</legend>
                <div class="score-choices">
                    { for (1..=5u8).map(|n| {
                        let scores = scores.clone();
                        let id = format!("{name}-{n}");
                        html! {
                            <div class="radio">
                                <input type="radio" id={id.clone()} name={name.clone()} checked={scores[index] == n}
                                    onchange={Callback::from(move |_| { let mut s = *scores; s[index] = n; scores.set(s); })} />
                                <label for={id}>{ n.to_string() }</label>
                            </div>
                        }
                    }) }
                </div>
            </fieldset>
        }
    };
    let until = format_vn_datetime(open_until);
    html! {
        <section class="rating" aria-labelledby="rating-heading">
            <h2 id="rating-heading">{ tr(lang, "rating.title") }</h2>
            <p class="hint">{ tr(lang, "rating.hint").replace("%{until}", &until) }</p>
            <form onsubmit={submit}>
                <fieldset class="field">
                    <legend>{ tr(lang, "rating.satisfied_question") }</legend>
                    { choice(true, "rating.satisfied") }
                    { choice(false, "rating.not_satisfied") }
                </fieldset>
                <p class="hint" id="score-scale">{ tr(lang, "rating.scale") }</p>
                { score(0, "rating.timeliness") }
                { score(1, "rating.clarity") }
                { score(2, "rating.attitude") }
                <div class="field">
                    <label for="rating-comment">{ tr(lang, "rating.comment") }</label>
                    <textarea id="rating-comment" class="input" rows="3" maxlength={MAX_COMMENT.to_string()}
                        value={(*comment).clone()}
                        oninput={{ let comment = comment.clone(); Callback::from(move |e: InputEvent| comment.set(input_value(&e))) }} />
                </div>
                if let Some(f) = (*failure).clone() {
                    <Failure failure={f} on_retry={Callback::noop()} />
                }
                if *saved {
                    <p class="notice notice-ok" role="status">{ tr(lang, "rating.saved") }</p>
                }
                <button type="submit" class="button" disabled={!complete}>
                    { tr(lang, if state.rating.is_some() { "rating.update" } else { "rating.send" }) }
                </button>
            </form>
        </section>
    }
}

/// "My feedback": what the person sent and the answers, and a form to send more.
#[component]
pub fn FeedbackPage() -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    use_title(tr(lang, "feedback.title"));
    let csrf = match &session.me {
        Loadable::Loaded(me) => me.as_ref().as_ref().map(|m| m.csrf_token.clone()),
        _ => None,
    };
    let generation = use_state(|| 0u32);
    let signed_in = csrf.is_some();
    let mine = use_load((signed_in, *generation), |(signed_in, _)| async move {
        if signed_in {
            api::get::<FeedbackList>("/api/v1/me/feedback", &[])
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    });
    let more = use_more(&mine, "/api/v1/me/feedback", Vec::new());
    let reload = {
        let generation = generation.clone();
        Callback::from(move |()| generation.set(*generation + 1))
    };
    let Some(csrf) = csrf else {
        return match &session.me {
            Loadable::Loading => html! { <Loading text={tr(lang, "feedback.loading")} /> },
            _ => {
                html! { <div class="page page-narrow"><h1>{ tr(lang, "feedback.title") }</h1><SignInPrompt /></div> }
            }
        };
    };
    let list = match &*mine {
        Loadable::Loading => html! { <Loading text={tr(lang, "feedback.loading")} /> },
        Loadable::Failed(f) => html! { <Failure failure={f.clone()} on_retry={reload.clone()} /> },
        Loadable::Loaded(list) => match list.as_ref() {
            Some(list) if !list.feedback.is_empty() => html! {
                <>
                    <ul class="cards cards-single">
                        { for list.feedback.iter().map(|f| html! {
                            <li key={f.id.clone()}><FeedbackCard feedback={f.clone()} csrf={csrf.clone()} reload={reload.clone()} /></li>
                        }) }
                    </ul>
                    { more }
                </>
            },
            _ => html! { <p class="notice">{ tr(lang, "feedback.none") }</p> },
        },
    };
    html! {
        <div class="page page-narrow">
            <h1>{ tr(lang, "feedback.title") }</h1>
            <p class="lead">{ tr(lang, "feedback.lead") }</p>
            <NewFeedbackForm csrf={csrf.clone()} sent={reload.clone()} />
            <h2>{ tr(lang, "feedback.sent_title") }</h2>
            { list }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct CardProps {
    feedback: Feedback,
    csrf: String,
    reload: Callback<()>,
}

#[component]
fn FeedbackCard(props: &CardProps) -> Html {
    let lang = use_lang().lang;
    let f = &props.feedback;
    let failure = use_state(|| None::<ApiFailure>);
    let judge = |settled: bool| {
        let (failure, reload, csrf, id) = (
            failure.clone(),
            props.reload.clone(),
            props.csrf.clone(),
            f.id.clone(),
        );
        Callback::from(move |_| {
            let (failure, reload, csrf, id) =
                (failure.clone(), reload.clone(), csrf.clone(), id.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let path = format!("/api/v1/me/feedback/{}/settled", api::enc(&id));
                match api::send_json::<Feedback>(
                    "POST",
                    &path,
                    &json!({ "settled": settled }),
                    &csrf,
                )
                .await
                {
                    Ok(_) => reload.emit(()),
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let about = match &f.receipt_number {
        Some(receipt) => {
            tr(lang, &format!("feedback.about_{}", f.about.as_str())).replace("%{receipt}", receipt)
        }
        None => tr(lang, "feedback.about_procedure_code")
            .replace("%{code}", f.procedure_code.as_deref().unwrap_or("")),
    };
    html! {
        <article class="card feedback-card">
            <p class="eyebrow">{ about }</p>
            <h3 class="card-title">{ f.subject.clone() }</h3>
            <p class="feedback-body">{ f.body.clone() }</p>
            if let Some(answer) = &f.answer {
                <div class="notice notice-ok">
                    <p><strong>{ tr(lang, "feedback.answer") }</strong></p>
                    <p class="feedback-body">{ answer.clone() }</p>
                    { for f.answered_at.map(|at| html! { <p class="hint">{ format_vn_datetime(at) }</p> }) }
                </div>
                { match f.settled {
                    None => html! {
                        <div class="actions" role="group" aria-label={tr(lang, "feedback.settled_question")}>
                            <p>{ tr(lang, "feedback.settled_question") }</p>
                            <button type="button" class="button" onclick={judge(true)}>{ tr(lang, "feedback.settled_yes") }</button>
                            <button type="button" class="button button-quiet" onclick={judge(false)}>{ tr(lang, "feedback.settled_no") }</button>
                        </div>
                    },
                    Some(true) => html! { <p class="badge badge-verified">{ tr(lang, "feedback.was_settled") }</p> },
                    Some(false) => html! { <p class="badge badge-warn">{ tr(lang, "feedback.was_not_settled") }</p> },
                } }
            } else {
                <p class="badge badge-muted">{ tr(lang, "feedback.waiting").replace("%{due}", &format_vn_datetime(f.due_at)) }</p>
            }
            if let Some(e) = (*failure).clone() {
                <Failure failure={e} on_retry={Callback::noop()} />
            }
        </article>
    }
}

#[derive(Properties, PartialEq)]
struct FormProps {
    csrf: String,
    sent: Callback<()>,
}

/// Sending feedback: what it is about (a dossier of the person's, an officer's conduct on one,
/// or a procedure and the unit it is sent to), a subject and the text.
#[component]
fn NewFeedbackForm(props: &FormProps) -> Html {
    let lang = use_lang().lang;
    // `?dossier=ID` (the dossier page's link) chooses that dossier.
    let preset = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|q| {
            q.trim_start_matches('?')
                .split('&')
                .find_map(|p| p.strip_prefix("dossier=").map(str::to_owned))
        })
        .unwrap_or_default();
    let about = use_state(|| {
        if preset.is_empty() {
            "procedure".to_owned()
        } else {
            "dossier".to_owned()
        }
    });
    let dossier = use_state(|| preset.clone());
    let procedure = use_state(String::new);
    let unit = use_state(String::new);
    let subject = use_state(String::new);
    let body = use_state(String::new);
    let busy = use_state(|| false);
    let done = use_state(|| false);
    let failure = use_state(|| None::<ApiFailure>);
    let dossiers = use_load((), |()| api::dossiers());
    let procedures = use_load((), |()| api::procedures(String::new(), String::new()));
    let level = match &*procedures {
        Loadable::Loaded(list) => {
            let list: &ProcedureList = list;
            list.procedures
                .iter()
                .find(|p| p.code == *procedure)
                .map(|p| p.level)
        }
        _ => None,
    };
    let submit = {
        let (about, dossier, procedure, unit, subject, body) = (
            about.clone(),
            dossier.clone(),
            procedure.clone(),
            unit.clone(),
            subject.clone(),
            body.clone(),
        );
        let (busy, done, failure, sent, csrf) = (
            busy.clone(),
            done.clone(),
            failure.clone(),
            props.sent.clone(),
            props.csrf.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let payload = if *about == "procedure" {
                json!({ "about": "procedure", "procedure_code": *procedure, "unit_code": *unit, "subject": *subject, "body": *body })
            } else {
                json!({ "about": *about, "dossier_id": *dossier, "subject": *subject, "body": *body })
            };
            busy.set(true);
            let (busy, done, failure, sent, csrf, subject, body) = (
                busy.clone(),
                done.clone(),
                failure.clone(),
                sent.clone(),
                csrf.clone(),
                subject.clone(),
                body.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match api::send_json::<Feedback>("POST", "/api/v1/feedback", &payload, &csrf).await
                {
                    Ok(_) => {
                        failure.set(None);
                        done.set(true);
                        subject.set(String::new());
                        body.set(String::new());
                        sent.emit(());
                    }
                    Err(f) => failure.set(Some(f)),
                }
                busy.set(false);
            });
        })
    };
    let about_choice = |value: &'static str, key: &str| {
        let about = about.clone();
        let id = format!("feedback-about-{value}");
        html! {
            <div class="radio">
                <input type="radio" id={id.clone()} name="feedback-about" checked={*about == value}
                    onchange={Callback::from(move |_| about.set(value.to_owned()))} />
                <label for={id}>{ tr(lang, key) }</label>
            </div>
        }
    };
    let my_dossiers: Vec<(String, String)> = match &*dossiers {
        Loadable::Loaded(list) => {
            let list: &DossierList = list;
            list.dossiers
                .iter()
                .map(|d| {
                    (
                        d.id.clone(),
                        format!("{} — {}", d.receipt_number, d.procedure_name.get(lang)),
                    )
                })
                .collect()
        }
        _ => Vec::new(),
    };
    html! {
        <form class="feedback-form card" onsubmit={submit}>
            <h2>{ tr(lang, "feedback.new_title") }</h2>
            <fieldset class="field">
                <legend>{ tr(lang, "feedback.about") }</legend>
                { about_choice("procedure", "feedback.about_procedure") }
                { about_choice("dossier", "feedback.about_dossier_choice") }
                { about_choice("conduct", "feedback.about_conduct_choice") }
            </fieldset>
            if *about == "procedure" {
                <div class="field">
                    <label for="feedback-procedure">{ tr(lang, "feedback.procedure") }</label>
                    <select id="feedback-procedure" class="input" required=true
                        onchange={{ let (procedure, unit) = (procedure.clone(), unit.clone()); Callback::from(move |e: Event| { procedure.set(select_value(&e)); unit.set(String::new()); }) }}>
                        <option value="" selected={procedure.is_empty()}>{ tr(lang, "feedback.choose") }</option>
                        { for match &*procedures {
                            Loadable::Loaded(list) => list.procedures.iter().map(|p| html! {
                                <option value={p.code.clone()} selected={*procedure == p.code}>{ p.name.get(lang).to_owned() }</option>
                            }).collect::<Vec<_>>(),
                            _ => Vec::new(),
                        } }
                    </select>
                </div>
                if let Some(level) = level {
                    <div class="field">
                        <label for="feedback-unit">{ tr(lang, "feedback.unit") }</label>
                        <select id="feedback-unit" class="input" required=true
                            onchange={{ let unit = unit.clone(); Callback::from(move |e: Event| unit.set(select_value(&e))) }}>
                            <option value="" selected={unit.is_empty()}>{ tr(lang, "feedback.choose") }</option>
                            { for units::all().iter().filter(|u| u.level == level).map(|u| html! {
                                <option value={u.code} selected={*unit == u.code}>{ u.name }</option>
                            }) }
                        </select>
                    </div>
                }
            } else {
                <div class="field">
                    <label for="feedback-dossier">{ tr(lang, "feedback.dossier") }</label>
                    <select id="feedback-dossier" class="input" required=true
                        onchange={{ let dossier = dossier.clone(); Callback::from(move |e: Event| dossier.set(select_value(&e))) }}>
                        <option value="" selected={dossier.is_empty()}>{ tr(lang, "feedback.choose") }</option>
                        { for my_dossiers.iter().map(|(id, label)| html! {
                            <option value={id.clone()} selected={*dossier == *id}>{ label.clone() }</option>
                        }) }
                    </select>
                </div>
            }
            <div class="field">
                <label for="feedback-subject">{ tr(lang, "feedback.subject") }</label>
                <input id="feedback-subject" class="input" required=true maxlength={MAX_SUBJECT.to_string()} value={(*subject).clone()}
                    oninput={{ let subject = subject.clone(); Callback::from(move |e: InputEvent| subject.set(input_value(&e))) }} />
            </div>
            <div class="field">
                <label for="feedback-body">{ tr(lang, "feedback.body") }</label>
                <textarea id="feedback-body" class="input" rows="5" required=true maxlength={MAX_BODY.to_string()} value={(*body).clone()}
                    oninput={{ let body = body.clone(); Callback::from(move |e: InputEvent| body.set(input_value(&e))) }} />
            </div>
            if let Some(f) = (*failure).clone() {
                <Failure failure={f} on_retry={Callback::noop()} />
            }
            if *done {
                <p class="notice notice-ok" role="status">{ tr(lang, "feedback.sent") }</p>
            }
            <button type="submit" class="button" disabled={*busy}>{ tr(lang, "feedback.send") }</button>
        </form>
    }
}
