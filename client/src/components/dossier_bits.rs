//! A dossier's status, clocks and timeline, shown the same way to the applicant and the officer.

use motcua_shared::{
    calendar::Calendar,
    dossier::DossierStatus,
    dossier_api::{DossierEvent, DossierView},
    time::format_vn_datetime,
};
use yew::prelude::*;

use crate::{
    hooks::use_lang,
    i18n::{tr, tr_count},
};

pub fn status_key(status: DossierStatus) -> String {
    format!("status.{}", status.as_str())
}

#[derive(Properties, PartialEq)]
pub struct StatusProps {
    pub status: DossierStatus,
}

/// The status as a coloured badge with its words (colour is never the only signal).
#[component]
pub fn StatusBadge(props: &StatusProps) -> Html {
    let lang = use_lang().lang;
    let tone = match props.status {
        DossierStatus::Approved | DossierStatus::ResultIssued => "badge-full",
        DossierStatus::SupplementRequested => "badge-warn",
        DossierStatus::Rejected | DossierStatus::Withdrawn => "badge-muted",
        _ => "badge-partial",
    };
    html! { <span class={classes!("badge", tone)}>{ tr(lang, &status_key(props.status)) }</span> }
}

#[derive(Properties, PartialEq)]
pub struct ClocksProps {
    pub dossier: DossierView,
}

/// The receipt clock (8 office hours) and the legal deadline, or the paused clock.
#[component]
pub fn Clocks(props: &ClocksProps) -> Html {
    let lang = use_lang().lang;
    let d = &props.dossier;
    let now = js_sys::Date::now() as i64;
    let calendar = Calendar::vietnam().ok();
    let open = !d.status.is_final() && d.status != DossierStatus::Approved;
    let mut rows = Vec::new();
    if let Some(by) = d.receive_by.filter(|_| open) {
        let late = by < now;
        rows.push(html! {
            <div class={classes!(late.then_some("is-late"))}>
                <dt>{ tr(lang, "clock.receive_by") }</dt>
                <dd>{ format_vn_datetime(by) }{ if late { format!(" · {}", tr(lang, "clock.late")) } else { String::new() } }</dd>
            </div>
        });
    }
    if let Some(deadline) = d.deadline_at {
        let late = open && deadline < now;
        let left = calendar
            .as_ref()
            .filter(|_| open && !late)
            .map(|c| tr_count(lang, "clock.days_left", c.working_days_left(deadline, now)));
        rows.push(html! {
            <div class={classes!(late.then_some("is-late"))}>
                <dt>{ tr(lang, "clock.deadline") }</dt>
                <dd>
                    { format_vn_datetime(deadline) }
                    { for left.map(|l| format!(" · {l}")) }
                    { if late { format!(" · {}", tr(lang, "clock.late")) } else { String::new() } }
                </dd>
            </div>
        });
    } else if let Some(left) = d.paused_days_left {
        rows.push(html! {
            <div>
                <dt>{ tr(lang, "clock.paused") }</dt>
                <dd>{ tr_count(lang, "clock.paused_left", left) }</dd>
            </div>
        });
    }
    if let Some(at) = d.overdue_at {
        rows.push(html! {
            <div class="is-late">
                <dt>{ tr(lang, "clock.overdue_since") }</dt>
                <dd>{ format_vn_datetime(at) }</dd>
            </div>
        });
    }
    html! { <dl class="facts clocks">{ for rows }</dl> }
}

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    pub events: Vec<DossierEvent>,
}

/// What happened, oldest first.
#[component]
pub fn Timeline(props: &TimelineProps) -> Html {
    let lang = use_lang().lang;
    html! {
        <ol class="timeline">
            { for props.events.iter().map(|e| {
                let key = format!("event.{}", e.action);
                let text = tr(lang, &key);
                let text = if text.ends_with(&key) { e.action.clone() } else { text };
                html! {
                    <li>
                        <time>{ format_vn_datetime(e.at) }</time>
                        <strong>{ text }</strong>
                        { for e.reason.as_ref().map(|r| html! { <p class="reason">{ r }</p> }) }
                    </li>
                }
            }) }
        </ol>
    }
}
