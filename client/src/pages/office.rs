//! The one-stop back office (desktop first): the queue of the officer's agency, level and unit
//! with filters, and one dossier with its verified answers, clocks, timeline, claim and actions
//! (a templated reason where the applicant must be told why).

use std::rc::Rc;

use motcua_shared::{
    dossier::{DossierAction, DossierStatus},
    dossier_api::OfficerDossier,
    eform::Form,
    identity::Role,
    time::format_vn_datetime,
};
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::{
    api::{self, ApiFailure},
    app::Route,
    components::{
        dossier_bits::{clocks, status_badge, status_key, timeline},
        eform::answers as answers_list,
        feedback::{Failure, Loading, SignInPrompt},
    },
    hooks::{Loadable, use_lang, use_load, use_more, use_session, use_title},
    i18n::tr,
};

/// Reasons officers give most often, in the language of the decision (Vietnamese); the text
/// stays editable.
const SUPPLEMENT_REASONS: [&str; 3] = [
    "Ảnh chân dung chưa đúng quy định (nền trắng, cỡ 3x4, chụp trong 6 tháng).",
    "Thiếu giấy tờ theo quy định; đề nghị bổ sung bản điện tử.",
    "Thông tin nơi nhận kết quả chưa rõ; đề nghị chọn lại.",
];
const REJECT_REASONS: [&str; 3] = [
    "Giấy phép lái xe đang bị tạm giữ hoặc thu hồi theo cơ sở dữ liệu.",
    "Hồ sơ không thuộc thẩm quyền giải quyết của cơ quan.",
    "Người nộp không bổ sung hồ sơ trong thời hạn đã thông báo.",
];

fn officer_token(session: &crate::hooks::SessionContext) -> Option<Option<String>> {
    match &session.me {
        Loadable::Loaded(me) => Some(
            me.as_ref()
                .as_ref()
                .filter(|m| m.roles.contains(&Role::Officer))
                .map(|m| m.csrf_token.clone()),
        ),
        _ => None,
    }
}

#[component]
pub fn OfficePage() -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    use_title(tr(lang, "office.title"));
    let status = use_state(String::new);
    let due = use_state(String::new);
    let mine = use_state(|| false);
    let retries = use_state(|| 0u32);
    let token = officer_token(&session);
    let allowed = matches!(token, Some(Some(_)));
    let queue = use_load(
        ((*status).clone(), (*due).clone(), *mine, allowed, *retries),
        |(status, due, mine, allowed, _)| async move {
            if !allowed {
                return Err(ApiFailure::Unexpected);
            }
            api::office_queue(vec![
                ("status", status),
                ("due", due),
                ("mine", if mine { "true".into() } else { String::new() }),
            ])
            .await
        },
    );
    let on_status = {
        let status = status.clone();
        Callback::from(move |e: Event| {
            status.set(e.target_unchecked_into::<HtmlSelectElement>().value())
        })
    };
    let on_due = {
        let due = due.clone();
        Callback::from(move |e: Event| {
            due.set(e.target_unchecked_into::<HtmlSelectElement>().value())
        })
    };
    let on_mine = {
        let mine = mine.clone();
        Callback::from(move |e: Event| {
            mine.set(e.target_unchecked_into::<HtmlInputElement>().checked())
        })
    };
    let more = use_more(
        &queue,
        "/api/v1/officer/dossiers",
        [
            ("status", (*status).clone()),
            ("due", (*due).clone()),
            ("mine", if *mine { "true".into() } else { String::new() }),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect(),
    );
    let on_retry = Callback::from(move |()| retries.set(*retries + 1));
    let body = match (&token, &*queue) {
        (None, _) | (Some(Some(_)), Loadable::Loading) => {
            html! { <Loading text={tr(lang, "office.loading")} /> }
        }
        (Some(None), _) => match &session.me {
            Loadable::Loaded(me) if me.is_none() => html! { <SignInPrompt /> },
            _ => {
                html! { <p class="notice notice-error" role="alert">{ tr(lang, "office.not_officer") }</p> }
            }
        },
        (_, Loadable::Failed(f)) => html! { <Failure failure={f.clone()} {on_retry} /> },
        (_, Loadable::Loaded(q)) if q.dossiers.is_empty() => {
            html! { <p class="notice" role="status">{ tr(lang, "office.empty") }</p> }
        }
        (_, Loadable::Loaded(q)) => html! {
            <div class="table-wrap">
                <table class="queue">
                    <caption class="visually-hidden">{ tr(lang, "office.title") }</caption>
                    <thead><tr>
                        <th scope="col">{ tr(lang, "office.receipt") }</th>
                        <th scope="col">{ tr(lang, "office.procedure") }</th>
                        <th scope="col">{ tr(lang, "office.applicant") }</th>
                        <th scope="col">{ tr(lang, "office.status") }</th>
                        <th scope="col">{ tr(lang, "office.due") }</th>
                        <th scope="col">{ tr(lang, "office.assignee") }</th>
                    </tr></thead>
                    <tbody>
                        { for q.dossiers.iter().map(|o| {
                            let d = o;
                            let due_at = d.receive_by.or(d.deadline_at);
                            let late = due_at.is_some_and(|t| t < js_sys::Date::now() as i64);
                            html! {
                                <tr key={d.id.clone()} class={classes!(late.then_some("is-late"))}>
                                    <td><Link<Route> to={Route::OfficeDossier { id: d.id.clone() }}>{ &d.receipt_number }</Link<Route>></td>
                                    <td>{ d.procedure_name.get(lang) }</td>
                                    <td>{ &o.applicant_name }</td>
                                    <td>{ status_badge(lang, d.status) }</td>
                                    <td>
                                        { due_at.map(format_vn_datetime).unwrap_or_else(|| "—".into()) }
                                        if late { { format!(" · {}", tr(lang, "clock.late")) } }
                                    </td>
                                    <td>{ o.assignee_name.clone().unwrap_or_else(|| "—".into()) }</td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
                { more }
            </div>
        },
    };
    html! {
        <div class="page page-wide">
            <h1>{ tr(lang, "office.title") }</h1>
            <p><Link<Route> to={Route::Desk}>{ tr(lang, "desk.open") }</Link<Route>></p>
            if let Some(Some(csrf)) = token.clone() {
                <crate::components::notices::Notices {csrf} />
            }
            <form class="filters" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
                <div class="field">
                    <label for="office-status">{ tr(lang, "office.status") }</label>
                    <select id="office-status" class="input" onchange={on_status}>
                        <option value="">{ tr(lang, "office.all") }</option>
                        { for [DossierStatus::Submitted, DossierStatus::Received, DossierStatus::InProcessing,
                               DossierStatus::SupplementRequested, DossierStatus::Approved].into_iter().map(|s| html! {
                            <option value={s.as_str()} selected={*status == s.as_str()}>{ tr(lang, &status_key(s)) }</option>
                        }) }
                    </select>
                </div>
                <div class="field">
                    <label for="office-due">{ tr(lang, "office.due") }</label>
                    <select id="office-due" class="input" onchange={on_due}>
                        <option value="">{ tr(lang, "office.all") }</option>
                        <option value="soon" selected={*due == "soon"}>{ tr(lang, "office.due_soon") }</option>
                        <option value="overdue" selected={*due == "overdue"}>{ tr(lang, "office.overdue") }</option>
                    </select>
                </div>
                <div class="field checkbox">
                    <input id="office-mine" type="checkbox" checked={*mine} onchange={on_mine} />
                    <label for="office-mine">{ tr(lang, "office.mine") }</label>
                </div>
            </form>
            { body }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct OfficeDossierProps {
    pub id: AttrValue,
}

#[component]
pub fn OfficeDossierPage(props: &OfficeDossierProps) -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    use_title(tr(lang, "office.dossier_title"));
    let token = officer_token(&session);
    let allowed = matches!(token, Some(Some(_)));
    let generation = use_state(|| 0u32);
    // After an action the answer is shown at once; reloading picks up the timeline.
    let loaded = use_load(
        (props.id.to_string(), allowed, *generation),
        |(id, allowed, _)| async move {
            if !allowed {
                return Err(ApiFailure::Unexpected);
            }
            let dossier = api::office_dossier(id).await?;
            let form = api::procedure(dossier.dossier.procedure_code.clone())
                .await
                .ok()
                .and_then(|p| p.form);
            Ok((dossier, form))
        },
    );
    let reload = Callback::from(move |()| generation.set(*generation + 1));
    let body = match (&token, &*loaded) {
        (Some(None), _) => html! { <SignInPrompt /> },
        (None, _) | (_, Loadable::Loading) => {
            html! { <Loading text={tr(lang, "office.loading")} /> }
        }
        (_, Loadable::Failed(f)) => html! { <Failure failure={f.clone()} on_retry={reload} /> },
        (Some(Some(csrf)), Loadable::Loaded(data)) => {
            let (dossier, form) = (**data).clone();
            html! { <OfficeDossierView dossier={Rc::new(dossier)} {form} csrf={csrf.clone()} {reload} /> }
        }
    };
    html! {
        <div class="page page-wide">
            <Link<Route> to={Route::Office} classes="back-link">{ tr(lang, "office.back") }</Link<Route>>
            { body }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct ViewProps {
    dossier: Rc<OfficerDossier>,
    form: Option<Form>,
    csrf: String,
    reload: Callback<()>,
}

fn action_key(action: DossierAction) -> &'static str {
    match action {
        DossierAction::Receive => "office.act_receive",
        DossierAction::RequestSupplement => "office.act_supplement",
        DossierAction::StartProcessing => "office.act_start",
        DossierAction::Approve => "office.act_approve",
        DossierAction::Reject => "office.act_reject",
        DossierAction::IssueResult => "office.act_issue",
        DossierAction::Resubmit | DossierAction::Withdraw => "office.act_other",
    }
}

/// The body of an officer's action, with the version of the dossier the officer saw.
fn action_body(action: DossierAction, reason: Option<String>, version: i64) -> serde_json::Value {
    serde_json::to_value(motcua_shared::dossier_api::OfficerAction {
        action,
        reason,
        expected_version: Some(version),
    })
    .unwrap_or_default()
}

#[component]
fn OfficeDossierView(props: &ViewProps) -> Html {
    let lang = use_lang().lang;
    let o = &props.dossier;
    let d = &o.dossier;
    let failure = use_state(|| None::<ApiFailure>);
    let busy = use_state(|| false);
    // The action waiting for its reason, and the reason typed so far.
    let reasoning = use_state(|| None::<DossierAction>);
    let reason = use_state(String::new);

    let run = {
        let (failure, busy, reload, reasoning) = (
            failure.clone(),
            busy.clone(),
            props.reload.clone(),
            reasoning.clone(),
        );
        let (id, csrf) = (d.id.clone(), props.csrf.clone());
        Callback::from(move |(path, body): (String, serde_json::Value)| {
            busy.set(true);
            failure.set(None);
            let (failure, busy, reload, reasoning, csrf) = (
                failure.clone(),
                busy.clone(),
                reload.clone(),
                reasoning.clone(),
                csrf.clone(),
            );
            let path = format!("/api/v1/officer/dossiers/{}/{path}", api::enc(&id));
            wasm_bindgen_futures::spawn_local(async move {
                match api::post_json::<motcua_shared::dossier_api::OfficerQueueItem>(
                    &path,
                    &body,
                    Some(&csrf),
                )
                .await
                {
                    Ok(_) => {
                        reasoning.set(None);
                        reload.emit(());
                    }
                    Err(f) => failure.set(Some(f)),
                }
                busy.set(false);
            });
        })
    };
    let claim = {
        let run = run.clone();
        Callback::from(move |_| run.emit(("claim".into(), serde_json::json!({}))))
    };
    // The dossier as this page shows it: an action on a changed dossier is refused.
    let version = o.version;
    let buttons = o.actions.iter().map(|action| {
        let action = *action;
        let onclick = {
            let (run, reasoning, reason) = (run.clone(), reasoning.clone(), reason.clone());
            Callback::from(move |_| {
                if action.needs_reason() {
                    reason.set(String::new());
                    reasoning.set(Some(action));
                } else {
                    run.emit(("actions".into(), action_body(action, None, version)));
                }
            })
        };
        let class = match action {
            DossierAction::Reject => "button button-danger",
            DossierAction::Approve | DossierAction::Receive | DossierAction::IssueResult => "button button-primary",
            _ => "button",
        };
        html! { <button type="button" {class} {onclick} disabled={*busy}>{ tr(lang, action_key(action)) }</button> }
    });
    let reason_form = (*reasoning).map(|action| {
        let templates: &[&str] = if action == DossierAction::Reject { &REJECT_REASONS } else { &SUPPLEMENT_REASONS };
        let on_template = {
            let reason = reason.clone();
            Callback::from(move |e: Event| {
                let v = e.target_unchecked_into::<HtmlSelectElement>().value();
                if !v.is_empty() {
                    reason.set(v);
                }
            })
        };
        let on_text = {
            let reason = reason.clone();
            Callback::from(move |e: InputEvent| reason.set(e.target_unchecked_into::<HtmlTextAreaElement>().value()))
        };
        let onsubmit = {
            let (run, reason) = (run.clone(), reason.clone());
            Callback::from(move |e: SubmitEvent| {
                e.prevent_default();
                run.emit(("actions".into(), action_body(action, Some((*reason).clone()), version)));
            })
        };
        let cancel = {
            let reasoning = reasoning.clone();
            Callback::from(move |_| reasoning.set(None))
        };
        html! {
            <form class="reason-form" {onsubmit}>
                <h2>{ tr(lang, action_key(action)) }</h2>
                <div class="field">
                    <label for="reason-template">{ tr(lang, "office.reason_template") }</label>
                    <select id="reason-template" class="input" onchange={on_template}>
                        <option value="">{ tr(lang, "form.choose") }</option>
                        { for templates.iter().map(|t| html! { <option value={*t}>{ *t }</option> }) }
                    </select>
                </div>
                <div class="field">
                    <label for="reason-text">{ tr(lang, "office.reason") }</label>
                    <p class="hint" id="reason-hint">{ tr(lang, "office.reason_hint") }</p>
                    <textarea id="reason-text" class="input" rows="3" maxlength="1000" required=true
                        aria-describedby="reason-hint" value={(*reason).clone()} oninput={on_text} />
                </div>
                <button type="submit" class="button button-primary" disabled={*busy || reason.trim().is_empty()}>
                    { tr(lang, "office.send") }
                </button>
                <button type="button" class="button" onclick={cancel}>{ tr(lang, "office.cancel") }</button>
            </form>
        }
    });
    html! {
        <div class="office-dossier">
            <div class="office-main">
                <p class="eyebrow">{ &d.receipt_number }</p>
                <h1>{ d.procedure_name.get(lang) }</h1>
                <p class="lead">{ format!("{}: {}", tr(lang, "office.applicant"), o.applicant_name) }</p>
                <div class="badges">{ status_badge(lang, d.status) }</div>
                if let Some(form) = props.form.clone() {
                    <h2>{ tr(lang, "dossier.answers") }</h2>
                    { {
                        let dossier_id = d.id.clone();
                        let href = move |item: &str| format!("/api/v1/officer/dossiers/{}/documents/{}", api::enc(&dossier_id), api::enc(item));
                        answers_list(lang, &form, &d.answers, &d.verified_fields, None, &href)
                    } }
                }
                <h2>{ tr(lang, "dossier.timeline") }</h2>
                { timeline(lang, &d.events) }
            </div>
            <aside class="office-side" aria-label={tr(lang, "office.actions")}>
                { clocks(lang, d) }
                <p>
                    { format!("{}: ", tr(lang, "office.assignee")) }
                    <strong>{ o.assignee_name.clone().unwrap_or_else(|| tr(lang, "office.nobody")) }</strong>
                </p>
                if o.assignee_name.is_none() && !d.status.is_final() {
                    <button type="button" class="button" onclick={claim} disabled={*busy}>{ tr(lang, "office.claim") }</button>
                }
                if !d.status.is_final() {
                    <Assign run={run.clone()} busy={*busy} />
                }
                <div class="actions">{ for buttons }</div>
                { for reason_form }
                if let Some(f) = (*failure).clone() {
                    <Failure failure={f} on_retry={props.reload.clone()} />
                }
            </aside>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct AssignProps {
    /// Sends `(path below the dossier, body)` and reloads.
    run: Callback<(String, serde_json::Value)>,
    busy: bool,
}

/// The desk's lead hands the dossier to one of the desk's officers. Shown to the lead only (the
/// list is refused to others).
#[component]
fn Assign(props: &AssignProps) -> Html {
    let lang = use_lang().lang;
    let desk = use_load((), |()| {
        api::get::<motcua_shared::dossier_api::Colleagues>("/api/v1/officer/colleagues", &[])
    });
    let chosen = use_state(String::new);
    let Loadable::Loaded(desk) = &*desk else {
        return html! {};
    };
    let on_choose = {
        let chosen = chosen.clone();
        Callback::from(move |e: Event| {
            chosen.set(e.target_unchecked_into::<HtmlSelectElement>().value())
        })
    };
    let onsubmit = {
        let (run, chosen) = (props.run.clone(), chosen.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if !chosen.is_empty() {
                run.emit((
                    "assign".into(),
                    serde_json::json!({ "officer_cccd": *chosen }),
                ));
            }
        })
    };
    html! {
        <form class="assign" {onsubmit}>
            <div class="field">
                <label for="assign-to">{ tr(lang, "office.assign_to") }</label>
                <select id="assign-to" class="input" onchange={on_choose}>
                    <option value="">{ tr(lang, "form.choose") }</option>
                    { for desk.officers.iter().map(|o| html! {
                        <option value={o.cccd.clone()} selected={*chosen == o.cccd}>{ &o.name }</option>
                    }) }
                </select>
            </div>
            <button type="submit" class="button" disabled={props.busy || chosen.is_empty()}>{ tr(lang, "office.assign") }</button>
        </form>
    }
}
