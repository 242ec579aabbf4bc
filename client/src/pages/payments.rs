//! Paying online: a dossier's fee, and a business's land obligations. The person sees the exact
//! amount and what it pays before leaving for the gateway; back from it, the return page says
//! what the gateway said and waits, with progress, for the gateway's own confirmation (the
//! server's IPN), which alone makes a payment paid.

use motcua_shared::{
    Vnd,
    dossier_api::DossierView,
    payment_api::{ObligationList, ObligationView, PaymentState, PaymentView, ReturnCheck},
    time::{format_vn_date, format_vn_datetime},
};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::{
    api::{self, ApiFailure},
    app::Route,
    components::feedback::{Failure, Loading, SignInPrompt},
    hooks::{Loadable, use_lang, use_load, use_session, use_title},
    i18n::{tr, tr_count},
};

/// A key for one payment the person means: made once per panel, so a double tap or a retry
/// after a lost answer gives the same payment.
fn new_key() -> String {
    let part = || {
        format!(
            "{:013x}",
            (js_sys::Math::random() * 4_503_599_627_370_496.0) as u64
        )
    };
    format!("pay-{}-{}", part(), part())
}

/// One line of what a payment pays, as shown before paying.
#[derive(Clone, PartialEq)]
pub struct Line {
    pub label: String,
    pub amount: Vnd,
    /// Late interest included in `amount`, with its days.
    pub interest: Option<(Vnd, i64)>,
}

#[derive(Properties, PartialEq)]
pub struct PayPanelProps {
    /// The body of `POST /api/v1/payments`.
    pub request: serde_json::Value,
    pub lines: Vec<Line>,
    pub csrf: String,
    /// The button that opens the panel.
    pub label: String,
}

/// "Pay": the exact amount and what it pays, then the gateway.
#[component]
pub fn PayPanel(props: &PayPanelProps) -> Html {
    let lang = use_lang().lang;
    let open = use_state(|| false);
    let busy = use_state(|| false);
    let failure = use_state(|| None::<ApiFailure>);
    let key = use_memo((), |()| new_key());
    let total: i64 = props.lines.iter().map(|l| l.amount.0).sum();
    let go = {
        let (busy, failure, key) = (busy.clone(), failure.clone(), key.clone());
        let (request, csrf) = (props.request.clone(), props.csrf.clone());
        Callback::from(move |_: ()| {
            busy.set(true);
            let (busy, failure, key, request, csrf) = (
                busy.clone(),
                failure.clone(),
                (*key).clone(),
                request.clone(),
                csrf.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match api::start_payment(&request, &key, &csrf).await {
                    Ok(payment) => match payment.pay_url {
                        Some(url) => {
                            if let Some(window) = web_sys::window() {
                                let _ = window.location().assign(&url);
                            }
                        }
                        None => {
                            failure.set(Some(ApiFailure::Unexpected));
                            busy.set(false);
                        }
                    },
                    Err(f) => {
                        failure.set(Some(f));
                        busy.set(false);
                    }
                }
            });
        })
    };
    if !*open {
        let onclick = {
            let open = open.clone();
            Callback::from(move |_| open.set(true))
        };
        return html! {
            <button type="button" class="button button-primary" {onclick} disabled={total <= 0}>{ &props.label }</button>
        };
    }
    html! {
        <section class="pay-panel" aria-labelledby="pay-heading">
            <h2 id="pay-heading">{ tr(lang, "pay.confirm_title") }</h2>
            <p class="hint">{ tr(lang, "pay.confirm_lead") }</p>
            <table class="pay-lines">
                <tbody>
                    { for props.lines.iter().map(|l| html! {
                        <tr>
                            <th scope="row">
                                { &l.label }
                                { for l.interest.map(|(i, days)| html! {
                                    <span class="hint">{ format!(" ({} {} · {})", tr(lang, "pay.interest_included"), i, tr_count(lang, "pay.days_late", days)) }</span>
                                }) }
                            </th>
                            <td class="amount">{ l.amount.to_string() }</td>
                        </tr>
                    }) }
                </tbody>
                <tfoot>
                    <tr><th scope="row">{ tr(lang, "pay.total") }</th><td class="amount pay-total">{ Vnd(total).to_string() }</td></tr>
                </tfoot>
            </table>
            if let Some(f) = (*failure).clone() {
                <Failure failure={f.clone()} on_retry={go.clone()} />
                if matches!(&f, ApiFailure::Server { body, .. } if body.error == "step_up_required") {
                    <crate::components::step_up::PasskeyStepUp csrf={props.csrf.clone()} on_done={go.clone()} />
                }
            }
            <button type="button" class="button button-primary" onclick={{ let go = go.clone(); Callback::from(move |_| go.emit(())) }} disabled={*busy}>
                { if *busy { tr(lang, "pay.going") } else { format!("{} {}", tr(lang, "pay.go"), Vnd(total)) } }
            </button>
            <button type="button" class="button" onclick={{ let open = open.clone(); Callback::from(move |_| open.set(false)) }}>
                { tr(lang, "pay.later") }
            </button>
            <p class="hint">{ tr(lang, "pay.gateway_note") }</p>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct FeeProps {
    pub dossier: std::rc::Rc<DossierView>,
    pub csrf: String,
}

/// A dossier's fee: how much, when it is due, paid or not, and paying it.
#[component]
pub fn FeeSection(props: &FeeProps) -> Html {
    let lang = use_lang().lang;
    let d = &props.dossier;
    let Some(fee) = d.fee.clone() else {
        return html! {};
    };
    let waits = fee.when == "at_filing" && fee.paid_at.is_none();
    let when = if fee.when == "at_filing" {
        "pay.when_at_filing"
    } else {
        "pay.when_at_result"
    };
    html! {
        <section class={classes!("fee", waits.then_some("notice notice-warn"))} aria-labelledby="fee-heading">
            <h2 id="fee-heading">{ tr(lang, "pay.fee") }{ ": " }{ fee.amount_vnd.to_string() }</h2>
            <p>{ tr(lang, when) }</p>
            if let Some(at) = fee.paid_at {
                <p class="fee-paid"><strong>{ tr(lang, "pay.paid_at") }</strong>{ " " }{ format_vn_datetime(at) }</p>
            } else if !d.status.is_final() {
                if waits {
                    <p><strong>{ tr(lang, "pay.waiting") }</strong></p>
                }
                { for fee.pay_by.map(|by| html! {
                    <p>{ tr(lang, "pay.pay_by") }{ " " }{ format_vn_datetime(by) }</p>
                }) }
                <PayPanel
                    request={serde_json::json!({ "dossier_id": d.id })}
                    lines={vec![Line {
                        label: format!("{} — {}", tr(lang, "pay.fee"), d.procedure_name.get(lang)),
                        amount: fee.amount_vnd,
                        interest: None,
                    }]}
                    csrf={props.csrf.clone()}
                    label={tr(lang, "pay.pay_fee")}
                />
            }
        </section>
    }
}

fn csrf_of(session: &crate::hooks::SessionContext) -> Option<String> {
    match &session.me {
        Loadable::Loaded(me) => me.as_ref().as_ref().map(|m| m.csrf_token.clone()),
        _ => None,
    }
}

/// Back from the gateway (`/payments/vnpay/return?…`): what the gateway said, then the payment
/// as confirmed by its IPN, waited for with progress.
#[component]
pub fn PaymentReturnPage() -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    use_title(tr(lang, "payret.title"));
    let signed_in = csrf_of(&session).is_some();
    let attempt = use_state(|| 0u32);
    let query = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let loaded = use_load(
        (query, signed_in, *attempt),
        |(query, signed_in, _)| async move {
            if !signed_in {
                return Err(ApiFailure::Unexpected);
            }
            api::return_check(query.trim_start_matches('?')).await
        },
    );
    // Until the gateway's confirmation arrives: ask again every 1.5 s, for a minute.
    {
        let (attempt, loaded) = (attempt.clone(), loaded.clone());
        use_effect_with((*attempt, pending(&loaded)), move |(n, pending)| {
            let timer = (*pending && *n < 40).then(|| {
                let attempt = attempt.clone();
                gloo_timers::callback::Timeout::new(1_500, move || attempt.set(*attempt + 1))
            });
            move || drop(timer)
        });
    }
    let body = match (&session.me, &*loaded) {
        (Loadable::Loaded(me), _) if me.is_none() => html! { <SignInPrompt /> },
        (Loadable::Loading, _) | (_, Loadable::Loading) => {
            html! { <Loading text={tr(lang, "payret.checking")} /> }
        }
        (_, Loadable::Failed(failure)) => {
            let retry = {
                let attempt = attempt.clone();
                Callback::from(move |()| attempt.set(*attempt + 1))
            };
            html! { <Failure failure={failure.clone()} on_retry={retry} /> }
        }
        (_, Loadable::Loaded(check)) => outcome(lang, check, *attempt),
    };
    html! { <div class="page page-narrow">{ body }</div> }
}

fn pending(loaded: &Loadable<ReturnCheck>) -> bool {
    matches!(loaded, Loadable::Loaded(c) if c.signature_valid
        && c.payment.as_ref().is_some_and(|p| p.state.is_live()))
}

fn outcome(lang: motcua_shared::Lang, check: &ReturnCheck, attempt: u32) -> Html {
    if !check.signature_valid {
        return html! {
            <>
                <h1>{ tr(lang, "payret.title") }</h1>
                <p class="notice notice-error" role="alert">{ tr(lang, "payret.invalid") }</p>
            </>
        };
    }
    let Some(payment) = check.payment.clone() else {
        return html! {
            <>
                <h1>{ tr(lang, "payret.title") }</h1>
                <p class="notice notice-error" role="alert">{ tr(lang, "payret.not_yours") }</p>
            </>
        };
    };
    let (heading, class) = match payment.state {
        PaymentState::Paid => ("payret.paid", "notice notice-ok"),
        PaymentState::Failed | PaymentState::Expired => ("payret.failed", "notice notice-error"),
        PaymentState::Created | PaymentState::Pending
            if check.response_code.as_deref() == Some("00") =>
        {
            ("payret.waiting", "notice")
        }
        PaymentState::Created | PaymentState::Pending => {
            ("payret.not_completed", "notice notice-warn")
        }
    };
    let waiting = payment.state.is_live();
    html! {
        <>
            <h1>{ tr(lang, "payret.title") }</h1>
            <div class={class} role="status" aria-live="polite">
                <p><strong>{ tr(lang, heading) }</strong></p>
                if waiting && check.response_code.as_deref() == Some("00") {
                    <progress max="40" value={attempt.to_string()} aria-label={tr(lang, "payret.waiting")}></progress>
                    if attempt >= 40 {
                        <p>{ tr(lang, "payret.still_waiting") }</p>
                    }
                }
            </div>
            { summary(lang, &payment) }
            <p class="actions">
                if payment.state == PaymentState::Paid {
                    <Link<Route> to={Route::Wallet} classes="button button-primary">{ tr(lang, "payret.receipt") }</Link<Route>>
                }
                { for payment.dossier_id.clone().map(|id| html! {
                    <Link<Route> to={Route::Dossier { id }} classes="button">{ tr(lang, "payret.dossier") }</Link<Route>>
                }) }
                if payment.payer_org.is_some() {
                    <Link<Route> to={Route::Business} classes="button">{ tr(lang, "payret.obligations") }</Link<Route>>
                }
            </p>
        </>
    }
}

fn summary(lang: motcua_shared::Lang, payment: &PaymentView) -> Html {
    html! {
        <table class="pay-lines">
            <caption>{ tr(lang, "payret.order") }{ " " }{ &payment.txn_ref }</caption>
            <tbody>
                { for payment.items.iter().map(|i| html! {
                    <tr>
                        <th scope="row">
                            { i.label.get(lang) }
                            if i.interest_vnd.0 > 0 {
                                <span class="hint">{ format!(" ({} {} · {})", tr(lang, "pay.interest_included"), i.interest_vnd, tr_count(lang, "pay.days_late", i.late_days)) }</span>
                            }
                        </th>
                        <td class="amount">{ Vnd(i.principal_vnd.0 + i.interest_vnd.0).to_string() }</td>
                    </tr>
                }) }
            </tbody>
            <tfoot><tr><th scope="row">{ tr(lang, "pay.total") }</th><td class="amount pay-total">{ payment.amount_vnd.to_string() }</td></tr></tfoot>
        </table>
    }
}

/// The land obligations of the organisation the person acts for: each notice, what is due and
/// its late interest today, chosen and paid together.
#[component]
pub fn ObligationsPage() -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    use_title(tr(lang, "biz.title"));
    let csrf = csrf_of(&session);
    let loaded = use_load(csrf.is_some(), |signed_in| async move {
        if !signed_in {
            return Err(ApiFailure::Unexpected);
        }
        api::get::<ObligationList>("/api/v1/obligations", &[]).await
    });
    let chosen = use_state(Vec::<String>::new);
    let body = match (&session.me, &*loaded) {
        (Loadable::Loaded(me), _) if me.is_none() => html! { <SignInPrompt /> },
        (Loadable::Loading, _) | (_, Loadable::Loading) => {
            html! { <Loading text={tr(lang, "biz.loading")} /> }
        }
        (_, Loadable::Failed(ApiFailure::Server { body, .. }))
            if body.error == "not_acting_for_organisation"
                || body.error == "not_a_representative" =>
        {
            html! {
                <p class="notice">
                    { tr(lang, "biz.choose_org") }{ " " }
                    <a href="/account">{ tr(lang, "biz.to_account") }</a>
                </p>
            }
        }
        (_, Loadable::Failed(failure)) => {
            html! { <Failure failure={failure.clone()} on_retry={Callback::noop()} /> }
        }
        (_, Loadable::Loaded(list)) => {
            let open: Vec<&ObligationView> = list.obligations.iter().filter(|o| !o.paid).collect();
            let lines: Vec<Line> = list
                .obligations
                .iter()
                .filter(|o| chosen.contains(&o.notice_number))
                .map(|o| Line {
                    label: format!("{} — {}", o.kind_name.get(lang), o.notice_number),
                    amount: o.outstanding_vnd,
                    interest: (o.interest_vnd.0 > 0).then(|| {
                        (
                            o.interest_vnd,
                            o.instalments.iter().map(|i| i.late_days).max().unwrap_or(0),
                        )
                    }),
                })
                .collect();
            html! {
                <>
                    <p class="eyebrow">{ &list.organisation }{ " · " }{ tr(lang, "biz.tax_code") }{ " " }{ &list.tax_code }</p>
                    <p class="hint">{ tr(lang, "biz.as_of") }{ " " }{ format_vn_date(&list.as_of) }</p>
                    if list.obligations.is_empty() {
                        <p>{ tr(lang, "biz.none") }</p>
                    }
                    <ul class="obligations">
                        { for list.obligations.iter().map(|o| obligation(lang, o, &chosen)) }
                    </ul>
                    if !open.is_empty() {
                        <PayPanel
                            request={serde_json::json!({ "notices": *chosen })}
                            lines={lines}
                            csrf={csrf.clone().unwrap_or_default()}
                            label={tr(lang, "biz.pay_chosen")}
                        />
                    }
                </>
            }
        }
    };
    html! {
        <div class="page page-narrow">
            <h1>{ tr(lang, "biz.title") }</h1>
            { body }
        </div>
    }
}

fn obligation(
    lang: motcua_shared::Lang,
    o: &ObligationView,
    chosen: &UseStateHandle<Vec<String>>,
) -> Html {
    let id = format!("ob-{}", o.notice_number);
    let checked = chosen.contains(&o.notice_number);
    let onchange = {
        let (chosen, number) = (chosen.clone(), o.notice_number.clone());
        Callback::from(move |_| {
            let mut next = (*chosen).clone();
            if let Some(at) = next.iter().position(|n| *n == number) {
                next.remove(at);
            } else {
                next.push(number.clone());
            }
            chosen.set(next);
        })
    };
    let selectable = !o.paid && o.pending_payment.is_none();
    html! {
        <li class={classes!("obligation", o.paid.then_some("is-paid"))}>
            <div class="obligation-head">
                if selectable {
                    <input type="checkbox" id={id.clone()} {checked} {onchange} />
                }
                <label for={id}>
                    <strong>{ o.kind_name.get(lang) }</strong>{ " — " }{ tr(lang, "biz.notice") }{ " " }{ &o.notice_number }
                </label>
            </div>
            <dl class="facts">
                <div><dt>{ tr(lang, "biz.parcel") }</dt><dd>{ &o.parcel_address }{ format!(" ({} m²)", o.parcel_area_m2) }</dd></div>
                <div><dt>{ tr(lang, "biz.payable") }</dt><dd>{ o.payable_vnd.to_string() }{ if o.exemption_vnd.0 > 0 { format!(" ({} {})", tr(lang, "biz.exemption"), o.exemption_vnd) } else { String::new() } }</dd></div>
                { for o.instalments.iter().map(|i| html! {
                    <div class={classes!((i.late_days > 0 && !i.paid).then_some("is-late"))}>
                        <dt>{ tr_count(lang, "biz.instalment", i.number) }{ " · " }{ tr(lang, "biz.due") }{ " " }{ format_vn_date(&i.due_on) }</dt>
                        <dd>
                            { i.amount_vnd.to_string() }
                            { if i.paid { format!(" · {}", tr(lang, "biz.paid")) }
                              else if i.late_days > 0 { format!(" · {} {} ({})", tr(lang, "pay.interest"), i.interest_vnd, tr_count(lang, "pay.days_late", i.late_days)) }
                              else { String::new() } }
                        </dd>
                    </div>
                }) }
                if !o.paid {
                    <div><dt>{ tr(lang, "biz.outstanding") }</dt><dd class="amount">{ o.outstanding_vnd.to_string() }</dd></div>
                }
            </dl>
            <p class="hint">{ format!("{} {} · TK {} · {} {} · {} {}", tr(lang, "biz.treasury"), o.treasury, o.budget_account, tr(lang, "biz.chapter"), o.chapter, tr(lang, "biz.sub_item"), o.sub_item) }</p>
            if o.paid {
                <p class="fee-paid"><strong>{ tr(lang, "biz.paid") }</strong></p>
            } else if o.pending_payment.is_some() {
                <p><strong>{ tr(lang, "biz.pending") }</strong></p>
            }
        </li>
    }
}
