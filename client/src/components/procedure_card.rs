//! One procedure of the catalogue as a card: name, agency, level, online level, fee, time limit.

use motcua_shared::procedure::{Level, OnlineLevel, Procedure};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::{
    app::Route,
    hooks::use_lang,
    i18n::{tr, tr_count},
};

#[derive(Properties, PartialEq)]
pub struct ProcedureCardProps {
    pub procedure: Procedure,
    /// 2 in the catalogue (the name links to the procedure's page); 1 on that page.
    #[prop_or(2)]
    pub heading_level: u8,
    /// Show the required documents unfolded.
    #[prop_or_default]
    pub open_documents: bool,
}

pub fn level_key(level: Level) -> &'static str {
    match level {
        Level::Province => "level.province",
        Level::District => "level.district",
        Level::Commune => "level.commune",
    }
}

#[component]
pub fn ProcedureCard(props: &ProcedureCardProps) -> Html {
    let lang = use_lang().lang;
    let p = &props.procedure;
    let (online_class, online_key) = match p.online_level {
        OnlineLevel::Full => ("badge badge-full", "online.full"),
        OnlineLevel::Partial => ("badge badge-partial", "online.partial"),
    };
    let fee = if p.online_fee_vnd.is_free() {
        html! { <strong>{ tr(lang, "procedures.fee_free") }</strong> }
    } else if p.online_fee_vnd < p.fee_vnd {
        html! {
            <>
                <strong>{ p.online_fee_vnd.to_string() }</strong>
                { format!(" {} ", tr(lang, "procedures.fee_online")) }
                <s>{ p.fee_vnd.to_string() }</s>
            </>
        }
    } else {
        html! { <strong>{ p.fee_vnd.to_string() }</strong> }
    };
    // When it is paid, for a fee there is.
    let fee = if p.online_fee_vnd.is_free() {
        fee
    } else {
        let when = match p.fee_paid {
            motcua_shared::procedure::FeeTiming::AtFiling => "procedures.fee_at_filing",
            motcua_shared::procedure::FeeTiming::AtResult => "procedures.fee_at_result",
        };
        html! { <>{ fee }{ format!(" · {}", tr(lang, when)) }</> }
    };
    let time_limit = if p.time_limit_working_days == 0 {
        tr(lang, "procedures.same_day")
    } else {
        tr_count(lang, "procedures.working_days", p.time_limit_working_days)
    };
    let heading_id = format!("procedure-{}", p.code);
    html! {
        <article class="card procedure" aria-labelledby={heading_id.clone()}>
            <div class="badges">
                <span class={online_class}>{ tr(lang, online_key) }</span>
                <span class="badge">{ tr(lang, level_key(p.level)) }</span>
            </div>
            if props.heading_level == 1 {
                <h1 id={heading_id} class="procedure-name">{ p.name.get(lang) }</h1>
            } else {
                <h2 id={heading_id} class="procedure-name">
                    <Link<Route> to={Route::Procedure { code: p.code.clone() }}>{ p.name.get(lang) }</Link<Route>>
                </h2>
            }
            <p class="procedure-agency">{ p.agency.name.get(lang) }</p>
            <p class="procedure-summary">{ p.summary.get(lang) }</p>
            <dl class="facts">
                <div><dt>{ tr(lang, "procedures.fee") }</dt><dd>{ fee }</dd></div>
                <div><dt>{ tr(lang, "procedures.time_limit") }</dt><dd>{ time_limit }</dd></div>
            </dl>
            if !p.required_documents.is_empty() {
                <details open={props.open_documents}>
                    <summary>{ tr(lang, "procedures.documents") }</summary>
                    <ul>
                        { for p.required_documents.iter().map(|d| html! { <li>{ d.name.get(lang) }</li> }) }
                    </ul>
                </details>
            }
            <p class="procedure-code">{ &p.code }</p>
        </article>
    }
}
