//! Filing a procedure, one thing per page: first what the state already knows (verified, locked),
//! then each question left to the person, then "check your answers", then the receipt.

use std::rc::Rc;

use motcua_shared::{
    dossier_api::DossierView, eform::FieldError, procedure::ProcedureDetail, registry::Prefill,
    time::format_vn_datetime,
};
use serde_json::{Map, Value};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::{
    api::{self, ApiFailure},
    app::Route,
    components::{
        eform::{
            FieldInput, answers as answers_list, first_error, is_asked, own_document, source_key,
            today, written,
        },
        feedback::{Failure, Loading, SignInPrompt},
    },
    hooks::{Loadable, use_lang, use_load, use_session, use_title},
    i18n::tr,
};

#[derive(Properties, PartialEq)]
pub struct FilingPageProps {
    pub code: AttrValue,
}

/// Loads the procedure and the pre-filled answers, then hands them to the steps.
#[component]
pub fn FilingPage(props: &FilingPageProps) -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    use_title(tr(lang, "filing.title"));
    let signed_in = matches!(&session.me, Loadable::Loaded(me) if me.is_some());
    let retries = use_state(|| 0u32);
    let loaded = use_load(
        (props.code.to_string(), signed_in, *retries),
        |(code, signed_in, _)| async move {
            if !signed_in {
                return Err(ApiFailure::Unexpected);
            }
            let detail = api::procedure(code.clone()).await?;
            let prefill = api::prefill(code.clone()).await?;
            // A filing begun earlier, perhaps on another device.
            let draft = api::draft(&code).await.ok().flatten();
            Ok((detail, prefill, draft))
        },
    );
    let on_retry = Callback::from(move |()| retries.set(*retries + 1));
    let body = match (&session.me, &*loaded) {
        (Loadable::Loaded(me), _) if me.is_none() => html! { <SignInPrompt /> },
        (Loadable::Loading, _) | (_, Loadable::Loading) => {
            html! { <Loading text={tr(lang, "filing.loading")} /> }
        }
        (_, Loadable::Failed(failure)) => {
            html! { <Failure failure={failure.clone()} {on_retry} /> }
        }
        (_, Loadable::Loaded(data)) => {
            let (detail, prefill, draft) = (**data).clone();
            let csrf = match &session.me {
                Loadable::Loaded(me) => me.as_ref().as_ref().map(|m| m.csrf_token.clone()),
                _ => None,
            }
            .unwrap_or_default();
            let draft = draft.map(|d| d.answers);
            html! { <Steps detail={Rc::new(detail)} prefill={Rc::new(prefill)} {draft} {csrf} /> }
        }
    };
    html! { <div class="page page-narrow">{ body }</div> }
}

#[derive(Properties, PartialEq)]
struct StepsProps {
    detail: Rc<ProcedureDetail>,
    prefill: Rc<Prefill>,
    /// Answers saved in a draft; what the state vouches for is taken fresh from the pre-fill.
    draft: Option<Map<String, Value>>,
    csrf: String,
}

#[derive(Clone, PartialEq)]
enum Step {
    Verified,
    /// A question by field name; `back_to_check` after a change from the check page.
    Question {
        name: String,
        back_to_check: bool,
    },
    Check,
    Done(Rc<DossierView>),
}

/// A key for this filing, made once: retrying the submission cannot file twice.
fn new_key() -> String {
    let random = || (js_sys::Math::random() * 4_294_967_296.0) as u64;
    format!("pwa-{:08x}{:08x}{:08x}", random(), random(), random())
}

#[component]
fn Steps(props: &StepsProps) -> Html {
    let lang = use_lang().lang;
    let form = props
        .detail
        .form
        .clone()
        .unwrap_or(motcua_shared::eform::Form { fields: vec![] });
    let locked: Vec<String> = props
        .prefill
        .values
        .iter()
        .filter(|(_, v)| v.locked)
        .map(|(k, _)| k.clone())
        .collect();
    let answers = use_state(|| {
        let mut answers: Map<String, Value> = props
            .prefill
            .values
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        for (k, v) in props.draft.iter().flatten() {
            if !locked.contains(k) {
                answers.insert(k.clone(), v.clone());
            }
        }
        answers
    });
    let draft_saved = use_state(|| false);
    let questions: Vec<String> = form
        .fields
        .iter()
        .filter(|f| is_asked(f, &answers) && !locked.contains(&f.name))
        .map(|f| f.name.clone())
        .collect();
    let first = || match questions.first() {
        Some(name) => Step::Question {
            name: name.clone(),
            back_to_check: false,
        },
        None => Step::Check,
    };
    let step = use_state(|| {
        if locked.is_empty() {
            first()
        } else {
            Step::Verified
        }
    });
    let errors = use_state(Vec::<FieldError>::new);
    let failure = use_state(|| None::<ApiFailure>);
    let sending = use_state(|| false);
    let key = use_state(new_key);
    let name = props.detail.procedure.name.get(lang).to_owned();
    // Each step starts at its heading, for keyboard and screen-reader users.
    {
        let step = (*step).clone();
        use_effect_with(step, |_| {
            crate::app::focus_first_heading();
        });
    }

    let go = {
        let (step, errors, failure) = (step.clone(), errors.clone(), failure.clone());
        let (answers, draft_saved) = (answers.clone(), draft_saved.clone());
        let (code, csrf) = (props.detail.procedure.code.clone(), props.csrf.clone());
        Callback::from(move |next: Step| {
            errors.set(Vec::new());
            failure.set(None);
            // Each step saves the draft on the server, to continue anywhere.
            if !matches!(next, Step::Done(_)) {
                let (answers, draft_saved, code, csrf) = (
                    (*answers).clone(),
                    draft_saved.clone(),
                    code.clone(),
                    csrf.clone(),
                );
                wasm_bindgen_futures::spawn_local(async move {
                    if api::save_draft(&code, &answers, &csrf).await.is_ok() {
                        draft_saved.set(true);
                    }
                });
            }
            step.set(next);
        })
    };

    let page = match (*step).clone() {
        Step::Verified => {
            let onclick = {
                let (go, next) = (go.clone(), first());
                Callback::from(move |_| go.emit(next.clone()))
            };
            html! {
                <>
                    <h1 tabindex="-1">{ tr(lang, "filing.verified_title") }</h1>
                    <p class="lead">{ tr(lang, "filing.verified_lead") }</p>
                    <dl class="answers">
                        { for form.fields.iter().filter(|f| locked.contains(&f.name)).map(|f| {
                            let source = props.prefill.values.get(&f.name).map(|v| v.source.clone()).unwrap_or_default();
                            html! {
                                <div class="answer">
                                    <dt>{ f.label.get(lang) }</dt>
                                    <dd>
                                        <span>{ written(f, answers.get(&f.name), lang) }</span>
                                        <span class="badge badge-verified">{ tr(lang, "form.verified") }</span>
                                        <span class="source">{ tr(lang, source_key(&source)) }</span>
                                    </dd>
                                </div>
                            }
                        }) }
                    </dl>
                    if !props.prefill.unavailable.is_empty() {
                        <p class="notice">{ tr(lang, "filing.unavailable") }</p>
                    }
                    <button type="button" class="button button-primary" {onclick}>{ tr(lang, "form.continue") }</button>
                </>
            }
        }
        Step::Question {
            name: field_name,
            back_to_check,
        } => {
            let Some(field) = form.fields.iter().find(|f| f.name == field_name).cloned() else {
                return html! {};
            };
            let position = questions.iter().position(|q| *q == field_name).unwrap_or(0);
            let on_change = {
                let (answers, name) = (answers.clone(), field_name.clone());
                Callback::from(move |value: Value| {
                    let mut next = (*answers).clone();
                    next.insert(name.clone(), value);
                    answers.set(next);
                })
            };
            let onsubmit = {
                let (answers, errors, go, form) =
                    (answers.clone(), errors.clone(), go.clone(), form.clone());
                let questions = questions.clone();
                let field_name = field_name.clone();
                Callback::from(move |e: SubmitEvent| {
                    e.prevent_default();
                    let mut current = (*answers).clone();
                    // A blank optional answer is left out rather than sent empty.
                    if current
                        .get(&field_name)
                        .and_then(Value::as_str)
                        .is_some_and(|s| s.trim().is_empty())
                    {
                        current.remove(&field_name);
                        answers.set(current.clone());
                    }
                    let problems: Vec<FieldError> = form
                        .validate(&current, today())
                        .into_iter()
                        .filter(|p| {
                            p.field == field_name || p.field.starts_with(&format!("{field_name}["))
                        })
                        .collect();
                    if !problems.is_empty() {
                        errors.set(problems);
                        return;
                    }
                    let next = if back_to_check {
                        Step::Check
                    } else {
                        match questions
                            .iter()
                            .position(|q| *q == field_name)
                            .and_then(|i| questions.get(i + 1))
                        {
                            Some(n) => Step::Question {
                                name: n.clone(),
                                back_to_check: false,
                            },
                            None => Step::Check,
                        }
                    };
                    go.emit(next);
                })
            };
            let back = if position == 0 && locked.is_empty() {
                None
            } else if position == 0 {
                Some(Step::Verified)
            } else {
                questions.get(position - 1).map(|n| Step::Question {
                    name: n.clone(),
                    back_to_check: false,
                })
            };
            let back = back.map(|b| {
                let go = go.clone();
                let onclick = Callback::from(move |_| go.emit(b.clone()));
                html! { <button type="button" class="link-button back-link" {onclick}>{ tr(lang, "form.back") }</button> }
            });
            html! {
                <>
                    { for back }
                    <p class="step-count">{ format!("{} {}/{}", tr(lang, "filing.question"), position + 1, questions.len()) }</p>
                    <form {onsubmit} novalidate=true>
                        <FieldInput field={field.clone()} value={answers.get(&field_name).cloned()} {on_change}
                            error={first_error(&errors, &field_name, lang)} as_heading=true />
                        <button type="submit" class="button button-primary">{ tr(lang, "form.continue") }</button>
                    </form>
                    if *draft_saved {
                        <p class="hint" role="status">{ tr(lang, "filing.draft_saved") }</p>
                    }
                </>
            }
        }
        Step::Check => {
            let on_change = {
                let go = go.clone();
                Callback::from(move |name: String| {
                    go.emit(Step::Question {
                        name,
                        back_to_check: true,
                    })
                })
            };
            let submit = {
                let (answers, errors, failure, sending, step) = (
                    answers.clone(),
                    errors.clone(),
                    failure.clone(),
                    sending.clone(),
                    step.clone(),
                );
                let code = props.detail.procedure.code.clone();
                let (csrf, key) = (props.csrf.clone(), (*key).clone());
                Callback::from(move |()| {
                    if *sending {
                        return;
                    }
                    sending.set(true);
                    failure.set(None);
                    let body = serde_json::json!({
                        "procedure_code": code, "answers": *answers, "idempotency_key": key,
                    });
                    let (errors, failure, sending, step, csrf) = (
                        errors.clone(),
                        failure.clone(),
                        sending.clone(),
                        step.clone(),
                        csrf.clone(),
                    );
                    wasm_bindgen_futures::spawn_local(async move {
                        match api::post_json::<DossierView>("/api/v1/dossiers", &body, Some(&csrf))
                            .await
                        {
                            Ok(dossier) => step.set(Step::Done(Rc::new(dossier))),
                            Err(ApiFailure::Server { status: 422, body })
                                if !body.fields.is_empty() =>
                            {
                                errors.set(body.fields.clone());
                                failure.set(Some(ApiFailure::Server { status: 422, body }));
                            }
                            Err(other) => failure.set(Some(other)),
                        }
                        sending.set(false);
                    });
                })
            };
            let fee = props.detail.procedure.online_fee_vnd;
            html! {
                <>
                    <h1 tabindex="-1">{ tr(lang, "filing.check_title") }</h1>
                    <p class="lead">{ name.clone() }</p>
                    if !errors.is_empty() {
                        <div class="notice notice-error" role="alert">
                            <h2>{ tr(lang, "filing.fix_title") }</h2>
                            <ul>
                                { for errors.iter().map(|e| {
                                    let label = form.fields.iter().find(|f| e.field == f.name || e.field.starts_with(&format!("{}[", f.name)))
                                        .map(|f| f.label.get(lang).to_owned()).unwrap_or_else(|| e.field.clone());
                                    html! { <li><strong>{ label }</strong>{ ": " }{ e.message.get(lang) }</li> }
                                }) }
                            </ul>
                        </div>
                    }
                    { answers_list(lang, &form, &answers, &locked, Some(&on_change), &own_document) }
                    <dl class="facts">
                        <div>
                            <dt>{ tr(lang, "procedures.fee") }</dt>
                            <dd>{ if fee.is_free() { tr(lang, "procedures.fee_free") } else { fee.to_string() } }</dd>
                        </div>
                    </dl>
                    if let Some(f) = (*failure).clone().filter(|_| errors.is_empty()) {
                        <Failure failure={f.clone()} on_retry={submit.clone()} />
                        // Only a fresh proof is missing: a passkey gives it, and the filing is
                        // sent again (the same key: still one dossier).
                        if matches!(&f, ApiFailure::Server { body, .. } if body.error == "step_up_required") {
                            <crate::components::step_up::PasskeyStepUp csrf={props.csrf.clone()} on_done={submit.clone()} />
                        }
                    }
                    <p class="hint">{ tr(lang, "filing.declaration") }</p>
                    <button type="button" class="button button-primary" onclick={submit.reform(|_| ())} disabled={*sending} aria-busy={sending.to_string()}>
                        { if *sending { tr(lang, "filing.sending") } else { tr(lang, "filing.submit") } }
                    </button>
                </>
            }
        }
        Step::Done(dossier) => html! {
            <div class="confirmation" role="status">
                <h1 tabindex="-1">{ tr(lang, "filing.done_title") }</h1>
                <p>{ tr(lang, "filing.receipt") }</p>
                <p class="receipt-number">{ &dossier.receipt_number }</p>
                <dl class="facts">
                    { for dossier.deadline_at.map(|d| html! {
                        <div><dt>{ tr(lang, "clock.deadline") }</dt><dd>{ format_vn_datetime(d) }</dd></div>
                    }) }
                    { for dossier.receive_by.map(|d| html! {
                        <div><dt>{ tr(lang, "clock.receive_by") }</dt><dd>{ format_vn_datetime(d) }</dd></div>
                    }) }
                </dl>
                <crate::pages::payments::FeeSection dossier={dossier.clone()} csrf={props.csrf.clone()} />
                <p>{ tr(lang, "filing.done_next") }</p>
                <crate::components::push::PushSwitch csrf={props.csrf.clone()} prompt=true />
                <Link<Route> to={Route::Dossier { id: dossier.id.clone() }} classes="button button-primary">
                    { tr(lang, "filing.see_dossier") }
                </Link<Route>>
            </div>
        },
    };
    html! {
        <>
            if !matches!(*step, Step::Done(_)) {
                <p class="eyebrow">{ name }</p>
            }
            { page }
        </>
    }
}
